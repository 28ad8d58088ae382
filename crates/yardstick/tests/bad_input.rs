//! Bad input, end to end: each mistake stops the binary with exit code 1 and
//! a message on stderr that says what is wrong, where, and what to do — and
//! the database is left alone. "Left alone" is checked twice: a fresh SQLite
//! path is not created, and a database holding one successful run shows the
//! same runs and attempts (`show runs --json`, `show run 1 --json`) before
//! and after.

mod common;

use common::{echo_script, item, Cli, Sandbox};
use serde_json::Value;

/// A sandbox with a good bank, a configuration with one command model, and a
/// database that already holds one successful run.
struct Seeded {
    sandbox: Sandbox,
    /// The good configuration against the seeded database.
    cli: Cli,
    runs: Value,
    run1: Value,
}

const MODEL: &str = r#"
[[models]]
name = "script"
provider = "command"
model = "script-1"
command = ["SCRIPT"]
"#;

fn good_bank() -> String {
    [
        item(
            "c-1",
            "code_execution",
            "ANSWER<4>",
            &["4"],
            r#"{ type = "exact" }"#,
        ),
        item(
            "g-1",
            "grounding",
            "ANSWER<6>",
            &["6"],
            r#"{ type = "exact" }"#,
        ),
        item(
            "i-1",
            "integrity",
            "ANSWER<no>",
            &["no"],
            r#"{ type = "exact" }"#,
        ),
    ]
    .concat()
}

impl Seeded {
    fn new() -> Seeded {
        let sandbox = Sandbox::new();
        let script = echo_script(&sandbox, "model.sh", "0", &sandbox.path("calls.log"));
        sandbox.write("bank/items.toml", &good_bank());
        let model = MODEL.replace("SCRIPT", &script.display().to_string());
        sandbox.write("yardstick.toml", &format!("bank = \"bank\"\n{model}"));
        let db = format!("sqlite://{}", sandbox.path("seeded.db").display());
        let cli = sandbox.cli("yardstick.toml", &db);
        let ran = cli.ok(&["run", "--kind", "full"]);
        assert!(ran.stderr.contains("Run #1: 3 asked"), "{}", ran.stderr);
        let runs = cli.json(&["show", "runs"]);
        assert_eq!(runs.as_array().unwrap().len(), 1);
        let run1 = cli.json(&["show", "run", "1"]);
        assert_eq!(run1["attempts"].as_array().unwrap().len(), 3);
        Seeded {
            sandbox,
            cli,
            runs,
            run1,
        }
    }

    /// A configuration named `name` using bank directory `bank` and the
    /// command model, plus `extra` TOML.
    fn config(&self, name: &str, bank: &str, extra: &str) -> Cli {
        let script = self.sandbox.path("model.sh");
        let model = MODEL.replace("SCRIPT", &script.display().to_string());
        self.sandbox
            .write(name, &format!("bank = \"{bank}\"\n{model}{extra}"));
        Cli {
            config: self.sandbox.path(name),
            ..self.cli.clone()
        }
    }

    /// A database URL that nothing should create.
    fn fresh_db(&self) -> String {
        format!("sqlite://{}", self.sandbox.path("fresh.db").display())
    }

    /// Runs `args` with `cli` against the seeded database and against a
    /// fresh path; both must fail with exit code 1 and store nothing.
    /// Returns stderr (the same both times).
    fn fails(&self, cli: &Cli, args: &[&str]) -> String {
        let seeded = cli.run(args).failed();
        self.assert_untouched();
        let fresh = cli.clone().with_db(&self.fresh_db()).run(args).failed();
        assert!(
            !self.sandbox.path("fresh.db").exists(),
            "`{}` created the database it should not have touched",
            args.join(" ")
        );
        assert_eq!(seeded, fresh);
        seeded
    }

    fn assert_untouched(&self) {
        assert_eq!(self.cli.json(&["show", "runs"]), self.runs);
        assert_eq!(self.cli.json(&["show", "run", "1"]), self.run1);
    }

    fn path(&self, rel: &str) -> String {
        self.sandbox.path(rel).display().to_string()
    }
}

fn contains_all(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

#[test]
fn malformed_toml_in_the_bank_names_file_and_line() {
    let s = Seeded::new();
    s.sandbox.write(
        "bank_syntax/items.toml",
        "[[items]]\nid = \"c-1\"\ndimension = \"code_execution\"\nprompt = \"unterminated\nreferences = [\"4\"]\n",
    );
    let cli = s.config("syntax.toml", "bank_syntax", "");
    let err = s.fails(&cli, &["run", "--kind", "full"]);
    contains_all(
        &err,
        &[
            &format!("{}:4: TOML syntax error", s.path("bank_syntax/items.toml")),
            "nothing was run",
            "yardstick bank validate",
        ],
    );
}

#[test]
fn unknown_dimension_names_file_line_and_the_valid_ones() {
    let s = Seeded::new();
    s.sandbox.write(
        "bank_dim/items.toml",
        &format!(
            "{}{}",
            good_bank(),
            item("x-1", "coding", "p", &["1"], r#"{ type = "exact" }"#)
        ),
    );
    let cli = s.config("dim.toml", "bank_dim", "");
    let err = s.fails(&cli, &["run", "--kind", "full"]);
    // Items are 7 lines each: the fourth starts on line 22, its dimension is on 24.
    contains_all(
        &err,
        &[
            &format!(
                "{}:24: unknown dimension `coding`",
                s.path("bank_dim/items.toml")
            ),
            "code_execution, grounding, judgment, communication, integrity",
            "yardstick bank validate",
        ],
    );
}

#[test]
fn duplicate_item_id_names_both_locations() {
    let s = Seeded::new();
    s.sandbox.write("bank_dup/a.toml", &good_bank());
    s.sandbox.write(
        "bank_dup/more/b.toml",
        &format!(
            "# another file\n\n{}",
            item("g-1", "grounding", "again", &["6"], r#"{ type = "exact" }"#)
        ),
    );
    let cli = s.config("dup.toml", "bank_dup", "");
    let err = s.fails(&cli, &["run", "--kind", "full"]);
    contains_all(
        &err,
        &[
            &format!(
                "{}:3: duplicate id `g-1`: also defined at {}:8",
                s.path("bank_dup/more/b.toml"),
                s.path("bank_dup/a.toml")
            ),
            "rename one of them",
        ],
    );
}

#[test]
fn missing_grader_names_the_item_and_an_example() {
    let s = Seeded::new();
    s.sandbox.write(
        "bank_nograder/items.toml",
        &format!(
            "{}[[items]]\nid = \"c-2\"\ndimension = \"code_execution\"\nprompt = \"p\"\nreferences = [\"1\"]\n",
            good_bank()
        ),
    );
    let cli = s.config("nograder.toml", "bank_nograder", "");
    let err = s.fails(&cli, &["run", "--kind", "full"]);
    contains_all(
        &err,
        &[
            &format!(
                "{}:22: item `c-2` has no `grader`; add e.g. `grader = {{ type = \"exact\" }}`",
                s.path("bank_nograder/items.toml")
            ),
            "1 problem found",
        ],
    );
}

#[test]
fn malformed_config_names_file_and_line() {
    let s = Seeded::new();
    s.sandbox.write(
        "broken.toml",
        "bank = \"bank\"\n\n[[models]\nname = \"x\"\n",
    );
    let cli = Cli {
        config: s.sandbox.path("broken.toml"),
        ..s.cli.clone()
    };
    for args in [&["run"][..], &["show", "runs"], &["board"]] {
        let err = s.fails(&cli, args);
        contains_all(
            &err,
            &[&s.path("broken.toml"), "line 3", "yardstick init --force"],
        );
    }
    // A key the configuration does not know is named, with the file.
    let cli = s.config("typo.toml", "bank", "temprature = 0.5\n");
    let err = s.fails(&cli, &["run"]);
    contains_all(&err, &[&s.path("typo.toml"), "temprature"]);
}

#[test]
fn unreachable_database_says_cannot_connect_and_what_to_check() {
    let s = Seeded::new();
    let cli = s
        .cli
        .clone()
        .with_db("postgres://postgres@127.0.0.1:1/test");
    for args in [
        &["run", "--kind", "full"][..],
        &["show", "runs"],
        &["resume", "1"],
    ] {
        let err = cli.run(args).failed();
        contains_all(
            &err,
            &[
                "cannot connect to PostgreSQL at 127.0.0.1:1, database `test`",
                "connection refused",
                "is the server running",
                "check --db / database in yardstick.toml",
            ],
        );
    }
    s.assert_untouched();
    // The command model was never asked.
    assert_eq!(common::line_count(&s.sandbox.path("calls.log")), 3);
}

#[test]
fn unknown_model_in_models_flag_lists_the_configured_ones() {
    let s = Seeded::new();
    let err = s.fails(
        &s.cli,
        &["run", "--kind", "full", "--models", "script,gpt-9"],
    );
    contains_all(
        &err,
        &[
            "unknown model `gpt-9`",
            &s.path("yardstick.toml"),
            "configures script",
        ],
    );
    assert_eq!(common::line_count(&s.sandbox.path("calls.log")), 3);
}

#[test]
fn missing_api_key_names_model_and_variable() {
    let s = Seeded::new();
    let cli = s.config(
        "keyed.toml",
        "bank",
        r#"
[[models]]
name = "keyed"
provider = "openai"
model = "gpt-x-2024-01-01"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "YARDSTICK_E2E_UNSET_KEY"
"#,
    );
    let err = s.fails(&cli, &["run", "--kind", "full"]);
    contains_all(
        &err,
        &[
            "model `keyed`",
            "YARDSTICK_E2E_UNSET_KEY",
            "unset or empty",
            "export it",
        ],
    );
    // An empty value is as missing as an unset one.
    let empty = cli.clone().with_env("YARDSTICK_E2E_UNSET_KEY", "  ");
    let err = s.fails(&empty, &["run", "--kind", "full", "--models", "keyed"]);
    contains_all(&err, &["YARDSTICK_E2E_UNSET_KEY"]);
    // The command model, configured beside it, was not asked either.
    assert_eq!(common::line_count(&s.sandbox.path("calls.log")), 3);
}

#[test]
fn bank_validate_lists_every_problem_and_fails() {
    let s = Seeded::new();
    s.sandbox.write(
        "bank_many/broken.toml",
        "[[items]]\nid = \"b-1\"\ndimension = \"judgment\"\nprompt = \"unterminated\n",
    );
    s.sandbox.write(
        "bank_many/dims.toml",
        &[
            item("u-1", "coding", "p", &["1"], r#"{ type = "exact" }"#),
            "[[items]]\nid = \"n-1\"\ndimension = \"judgment\"\nprompt = \"p\"\nreferences = [\"1\"]\n\n"
                .to_string(),
            item("same", "grounding", "p", &["1"], r#"{ type = "exact" }"#),
        ]
        .concat(),
    );
    s.sandbox.write(
        "bank_many/sub/other.toml",
        &item("same", "grounding", "q", &["2"], r#"{ type = "exact" }"#),
    );
    let cli = s.config("many.toml", "bank_many", "");
    let (broken, dims, other) = (
        s.path("bank_many/broken.toml"),
        s.path("bank_many/dims.toml"),
        s.path("bank_many/sub/other.toml"),
    );
    let expected = [
        format!("{broken}:4: TOML syntax error"),
        format!("{dims}:3: unknown dimension `coding`"),
        format!("{dims}:8: item `n-1` has no `grader`"),
        format!("{other}:1: duplicate id `same`: also defined at {dims}:14"),
    ];

    // With the directory given on the command line.
    let dir = s.path("bank_many");
    let err = s.fails(&s.cli, &["bank", "validate", &dir]);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{err}");
    for (line, want) in lines.iter().zip(&expected) {
        assert!(
            line.starts_with(want.as_str()),
            "{line:?} should start with {want:?}"
        );
    }
    assert_eq!(lines[expected.len()], "4 problems found");

    // With the configured bank, as JSON: the same problems, and still exit 1.
    let ran = cli.run(&["bank", "validate", "--json"]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let report = ran.json();
    assert_eq!(report["valid"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), expected.len());
    for (e, want) in errors.iter().zip(&expected) {
        let shown = format!(
            "{}:{}: {}",
            e["file"].as_str().unwrap(),
            e["line"],
            e["message"].as_str().unwrap()
        );
        assert!(
            shown.starts_with(want.as_str()),
            "{shown:?} should start with {want:?}"
        );
    }

    // `run` refuses the same bank and lists the same problems.
    let err = s.fails(&cli, &["run", "--kind", "full"]);
    for want in &expected {
        assert!(err.contains(want.as_str()), "{want:?} missing from:\n{err}");
    }

    // The good bank validates (exit 0), so the failures above are the bank's.
    let ok = s.cli.ok(&["bank", "validate", "--json"]).json();
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["items"], 3);
}

#[test]
fn resume_of_a_missing_run_says_which_and_where_to_look() {
    let s = Seeded::new();
    let err = s.cli.run(&["resume", "42"]).failed();
    contains_all(
        &err,
        &[
            &format!("Run #42 does not exist in {}", s.path("seeded.db")),
            "`yardstick show runs` lists the stored runs",
        ],
    );
    s.assert_untouched();
    // The other commands that take a run number say the same.
    for args in [
        &["show", "run", "42"][..],
        &["regrade", "42"],
        &["board", "--run", "42"],
        &["export", "42"],
    ] {
        let err = s.cli.run(args).failed();
        contains_all(&err, &["42 does not exist", "yardstick show runs"]);
    }
    s.assert_untouched();
}
