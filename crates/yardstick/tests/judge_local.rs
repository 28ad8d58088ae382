//! The embedded fallback judge for real: a run of a judged item with no
//! `[judge]` section is judged by the local SmolLM2 model. A model that
//! small may or may not follow the score-line format; either way the
//! outcome must be honest — parsed scores and a grade, or a classified
//! `unparsable` call and no grade (never a 0) — and the exact prompt and
//! raw output must be stored.
//!
//! The model comes from the local cache (`YARDSTICK_CACHE_DIR` or the
//! user's cache); `yardstick models pull smollm2-135m-instruct` fills it.

mod common;

use common::{created_run, Sandbox, TestDb};

const BANK: &str = r#"[rubrics.incident]
criteria = [
  { id = "first_step", description = "Is the first step the one that limits harm?", anchors = [ { score = 0, meaning = "harmful or missing" }, { score = 2, meaning = "safe but not the key step" }, { score = 4, meaning = "the reference's step" } ] },
]

[[items]]
id = "judgment-incident-1"
dimension = "judgment"
prompt = "The primary database stopped accepting writes. What is your first step? One sentence."
references = ["Check whether the primary is reachable before failing over."]
grader = { type = "judge", rubric = "incident" }

[[calibration]]
id = "cal-incident-1"
rubric = "incident"
question = "The primary database stopped accepting writes. What is your first step?"
reference = "Check whether the primary is reachable before failing over."
answer = "Delete the replica."
scores = { first_step = 0 }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_fallback_judge_scores_or_fails_honestly() {
    let sandbox = Sandbox::new();
    sandbox.write("bank/judgment.toml", BANK);
    sandbox.script(
        "answer.sh",
        "#!/bin/sh\ncat >/dev/null\necho '{\"text\": \"Check whether the primary is reachable before failing over.\", \"usage\": {\"input_tokens\": 10, \"output_tokens\": 9}}'\n",
    );
    sandbox.write(
        "yardstick.toml",
        &format!(
            "bank = \"bank\"\n\n[[models]]\nname = \"scripted\"\nprovider = \"command\"\nmodel = \"scripted-v1\"\ncommand = [\"{}\"]\n",
            sandbox.path("answer.sh").display()
        ),
    );
    let db = TestDb::sqlite(sandbox.dir.path());
    let cli = sandbox.cli("yardstick.toml", db.url());
    let ran = cli.ok(&["run", "--kind", "full"]);
    let run = created_run(&ran.stderr);

    let store = db.store().await;
    let checks = store.run_judges(run).await.unwrap();
    assert_eq!(checks.len(), 1);
    assert!(checks[0].fallback && checks[0].judge == "fallback-judge");
    assert_eq!(checks[0].judge_model, "smollm2-135m-instruct");
    let calibration = store.calibration_judgements(run).await.unwrap();
    assert!(!calibration.is_empty());

    let attempt = &store.attempts_for_run(run).await.unwrap()[0];
    let calls = store.judgements_for_attempt(attempt.id).await.unwrap();
    assert!(!calls.is_empty());
    for c in calls.iter().chain(&calibration) {
        let j = &c.judgement;
        assert!(j.fallback);
        assert!(j.prompt.contains("first_step (0 to 4)"), "{}", j.prompt);
        let raw = j.raw_output.as_deref().expect("the raw reply is stored");
        match (&j.scores_json, j.error_class.as_deref()) {
            (Some(scores), None) => assert!(scores.contains("first_step"), "{scores}"),
            (None, Some("unparsable")) => {
                assert!(j.error_message.is_some(), "reply {raw:?} has no reason")
            }
            other => panic!("a call must be scored or classified: {other:?}, reply {raw:?}"),
        }
    }
    let grades = store.grades_for_attempt(attempt.id).await.unwrap();
    let parsed = calls.last().unwrap().judgement.scores_json.is_some();
    if parsed {
        assert_eq!(grades.len(), 1);
        assert!(grades[0]
            .checks_json
            .contains("judge (embedded fallback model)"));
    } else {
        assert!(
            grades.is_empty(),
            "an unparsable judge must not score the answer"
        );
        assert!(ran.stderr.contains("ungraded"), "{}", ran.stderr);
    }
    let shown = cli.ok(&["show", "run", &run.to_string()]);
    assert!(
        shown.stdout.contains("embedded fallback judge"),
        "{}",
        shown.stdout
    );
}
