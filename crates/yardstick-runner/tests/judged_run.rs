//! A run with judged items end to end, on SQLite and PostgreSQL: the model
//! and two judges are loopback OpenAI-compatible servers. Checks the
//! calibration check (drift, unreliable, same family), the judged grade
//! and its stored calls, the panel's α, resume (no second check) and
//! regrade (a new check, new calls, agreement over the current grade only),
//! and a failing judge (calls stored, answer ungraded, never a 0).

#[path = "../../yardstick-store/tests/common/mod.rs"]
mod common;
#[path = "../../yardstick-providers/tests/common/mod.rs"]
mod http_stub;

use common::TestDb;
use http_stub::{openai_ok, spec, Reply, Server};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use yardstick_bank::{load_files, Bank, SourceFile};
use yardstick_core::{Dimension, ModelSpec, ProviderKind};
use yardstick_graders::{Graders, Judge, JudgePanel};
use yardstick_providers::build_provider;
use yardstick_runner::{create_run, execute, panel_agreement, regrade, Event, Model, RunOptions};

on_both_backends!(
    a_judged_run_end_to_end,
    a_failing_judge_leaves_the_answer_ungraded
);

const BANK: &str = r#"[rubrics.incident]
criteria = [
  { id = "accuracy", description = "Is the first step right?", anchors = [ { score = 0, meaning = "harmful" }, { score = 5, meaning = "the reference's step" } ] },
  { id = "reasoning", description = "Is the reason given?", anchors = [ { score = 0, meaning = "none" }, { score = 3, meaning = "clear" } ] },
]

[[items]]
id = "judgment-incident-1"
dimension = "judgment"
prompt = "The primary database stopped accepting writes. What is your first step?"
references = ["Check whether the primary is reachable before failing over."]
grader = { type = "judge", rubric = "incident" }

[[items]]
id = "judgment-rank-1"
dimension = "judgment"
prompt = "Answer with the number 4."
references = ["4"]
grader = { type = "numeric" }

[[calibration]]
id = "cal-incident-1"
rubric = "incident"
question = "The primary database stopped accepting writes. What is your first step?"
reference = "Check whether the primary is reachable before failing over."
answer = "Fail over at once."
scores = { accuracy = 4, reasoning = 2 }
"#;

fn bank() -> Bank {
    load_files(&[SourceFile {
        path: "bank/judgment.toml".into(),
        contents: BANK.into(),
    }])
    .unwrap()
}

fn reply(text: &str) -> Reply {
    Reply::json(200, openai_ok(text))
}

fn model_spec(server: &Server, name: &str, family: &str) -> ModelSpec {
    let mut s = spec(ProviderKind::Openai, Some(server.openai_base()));
    s.name = name.into();
    s.model = format!("{name}-2025-01-01");
    s.family = Some(family.into());
    s.max_retries = 0;
    s.timeout_secs = 2.0;
    s
}

fn panel(bank: &Bank, judges: Vec<ModelSpec>) -> Graders {
    Graders::new().with_judge(Arc::new(JudgePanel {
        judges: judges
            .into_iter()
            .map(|s| Judge::new(s.clone(), build_provider(&s).unwrap(), false))
            .collect(),
        samples: 3,
        parse_retries: 1,
        calibration: Arc::new(bank.calibration.clone()),
        drift_threshold: 0.5,
    }))
}

async fn start_run(db: &TestDb, bank: &Bank, model: &ModelSpec) -> i64 {
    let options = RunOptions {
        kind: "smoke".into(),
        per_dimension: None,
        dimensions: None,
        epochs: 1,
        seed: 7,
        label: "2026-01-01".into(),
    };
    create_run(&db.store, bank, std::slice::from_ref(model), &options)
        .await
        .unwrap()
}

async fn a_judged_run_end_to_end(db: TestDb) {
    let s = &db.store;
    let bank = bank();
    let model_server = Server::start(vec![reply("Fail over now. 4")]).await;
    let judge_a = Server::start(vec![reply(
        "Same as frozen.\n{\"accuracy\": 4, \"reasoning\": 2}",
    )])
    .await;
    let judge_b = Server::start(vec![reply("Harsh.\n{\"accuracy\": 2, \"reasoning\": 1}")]).await;
    let model = model_spec(&model_server, "model-x", "gpt");
    let graders = panel(
        &bank,
        vec![
            model_spec(&judge_a, "judge-a", "gpt"),
            model_spec(&judge_b, "judge-b", "claude"),
        ],
    );
    let run = start_run(&db, &bank, &model).await;
    let models = [Model {
        provider: build_provider(&model).unwrap(),
        spec: model.clone(),
    }];
    let events = Mutex::new(Vec::new());
    let on_event = |e: Event| events.lock().unwrap().push(e);
    let summary = execute(
        s,
        run,
        &models,
        &graders,
        &AtomicBool::new(false),
        &on_event,
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.asked, summary.graded, summary.grade_failures),
        (2, 2, 0)
    );

    // The judges were checked once, before grading.
    let checks = s.run_judges(run).await.unwrap();
    assert_eq!(checks.len(), 2);
    let (a, b) = (&checks[0], &checks[1]);
    assert_eq!(
        (a.judge.as_str(), a.drift, a.unreliable),
        ("judge-a", Some(0.0), false)
    );
    assert_eq!(a.same_family, ["model-x"], "judge-a shares the gpt family");
    // judge-b: |2 − 4| and |1 − 2| → 1.5 > 0.5.
    assert_eq!(
        (b.drift, b.unreliable, b.same_family.len()),
        (Some(1.5), true, 0)
    );
    assert_eq!((b.calibration_scored, b.calibration_failed), (1, 0));
    let checked = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::JudgeChecked(_)))
        .count();
    assert_eq!(checked, 2);
    assert_eq!(s.calibration_judgements(run).await.unwrap().len(), 6);

    // The judged answer: mean of medians (4+2)/2 = 3 of 5, (2+1)/2 = 1.5 of 3.
    let attempts = s.attempts_for_run(run).await.unwrap();
    let judged = attempts
        .iter()
        .find(|a| a.item_id == "judgment-incident-1")
        .unwrap();
    let grades = s.grades_for_attempt(judged.id).await.unwrap();
    assert_eq!(grades.len(), 1);
    assert_eq!(
        (grades[0].grader_id.as_str(), grades[0].score),
        ("judge", 100.0 * 4.5 / 8.0)
    );
    let calls = s.judgements_for_attempt(judged.id).await.unwrap();
    assert_eq!(calls.len(), 6, "2 judges × 3 samples");
    assert!(calls.iter().all(|c| c.grade_id == Some(grades[0].id)));
    assert!(calls
        .iter()
        .all(|c| c.judgement.prompt.contains("Fail over now. 4")));
    let rule = attempts
        .iter()
        .find(|a| a.item_id == "judgment-rank-1")
        .unwrap();
    assert!(s.judgements_for_attempt(rule.id).await.unwrap().is_empty());

    // Units (answer, accuracy) = [4, 2] and (answer, reasoning) = [2, 1]:
    // D_o = (8 + 2) / 4, D_e = 38 / 12, α = 1 − 2.5 / (38/12) = 4/19.
    let alpha = panel_agreement(s, run).await.unwrap();
    let judgment = alpha[&Dimension::Judgment].unwrap();
    assert!((judgment - 4.0 / 19.0).abs() < 1e-12, "{judgment}");

    // Resume: nothing left to ask, and the judges are not checked again.
    execute(s, run, &models, &graders, &AtomicBool::new(false), &|_| {})
        .await
        .unwrap();
    assert_eq!(s.calibration_judgements(run).await.unwrap().len(), 6);

    // Regrade: a new check and new calls; agreement reads the current grade.
    let (graded, failed) = regrade(s, run, &graders, &|_| {}).await.unwrap();
    assert_eq!((graded, failed), (2, 0));
    assert_eq!(s.calibration_judgements(run).await.unwrap().len(), 12);
    assert_eq!(s.judgements_for_attempt(judged.id).await.unwrap().len(), 12);
    assert_eq!(s.panel_scores(run).await.unwrap().len(), 6);
    let again = panel_agreement(s, run).await.unwrap()[&Dimension::Judgment].unwrap();
    assert!((again - judgment).abs() < 1e-12);
}

async fn a_failing_judge_leaves_the_answer_ungraded(db: TestDb) {
    let s = &db.store;
    let bank = bank();
    let model_server = Server::start(vec![reply("Fail over now. 4")]).await;
    let slow_judge = Server::start(vec![Reply::Slow {
        delay: Duration::from_secs(3),
        status: 200,
        body: openai_ok("{\"accuracy\": 4, \"reasoning\": 2}").to_string(),
    }])
    .await;
    let model = model_spec(&model_server, "model-x", "gpt");
    let mut judge = model_spec(&slow_judge, "judge-slow", "other");
    judge.timeout_secs = 0.2;
    let graders = panel(&bank, vec![judge]);
    let run = start_run(&db, &bank, &model).await;
    let models = [Model {
        provider: build_provider(&model).unwrap(),
        spec: model.clone(),
    }];
    let summary = execute(s, run, &models, &graders, &AtomicBool::new(false), &|_| {})
        .await
        .unwrap();
    assert_eq!((summary.graded, summary.grade_failures), (1, 1));
    // The calibration could not be scored at all: unreliable, drift unknown.
    let check = &s.run_judges(run).await.unwrap()[0];
    assert_eq!(
        (check.drift, check.unreliable, check.calibration_failed),
        (None, true, 1)
    );
    let attempts = s.attempts_for_run(run).await.unwrap();
    let judged = attempts
        .iter()
        .find(|a| a.item_id == "judgment-incident-1")
        .unwrap();
    assert!(
        s.grades_for_attempt(judged.id).await.unwrap().is_empty(),
        "never a 0"
    );
    let calls = s.judgements_for_attempt(judged.id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].grade_id, None);
    assert_eq!(
        calls[0].judgement.error_class.as_deref(),
        Some("vendor_timeout")
    );
    // The board's outcome for it is "ungraded", not a score.
    let outcomes = s.outcomes(run, None).await.unwrap();
    let o = outcomes
        .iter()
        .find(|o| o.item_id == "judgment-incident-1")
        .unwrap();
    assert_eq!(o.score, None);
}
