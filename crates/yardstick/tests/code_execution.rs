//! The code-execution dimension end to end, through the real binary (which
//! is also the sandbox's shim): `selfcheck` over the built-in bank (every
//! reference 100, every known-wrong answer below) and its failure report.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

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
    assert_eq!(report["references_ok"], report["items"]);
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
"#;

#[test]
fn selfcheck_fails_listing_each_bad_item_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bank")).unwrap();
    std::fs::write(dir.path().join("bank/code.toml"), BAD).unwrap();
    let out = yardstick(dir.path(), &["selfcheck", "bank"]);
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
}
