//! Verdicts, retests and their store records on a generated daily history in
//! a real SQLite store: each day is a stored run whose answers are graded
//! with the scores the scenario asks for, then `assess_run` judges it the
//! way the run engine does after grading.

use yardstick_bank::{Bank, BankItem, SourceLoc};
use yardstick_core::{Dimension, GraderSpec, Item, ModelSpec, ProviderKind};
use yardstick_runner::alerts::{Alerter, AlertsConfig};
use yardstick_runner::calibrate::{adjusted_scores, calibrate_history};
use yardstick_runner::leaderboard::{board_with, BoardOptions};
use yardstick_runner::retest::{decide_retest, start_retest};
use yardstick_runner::verdicts::{assess_run, Assessed, VerdictSettings};
use yardstick_runner::{create_run, RunOptions};
use yardstick_stats::irt::CalibrationConfig;
use yardstick_store::{NewAttempt, NewGrade, RetestStatus, RunStatus, Store};

const ITEMS_PER_DIMENSION: usize = 10;

fn bank() -> Bank {
    let mut items = Vec::new();
    for dimension in [Dimension::CodeExecution, Dimension::Grounding] {
        for i in 0..ITEMS_PER_DIMENSION {
            let id = format!("{}-{i:02}", dimension.id());
            items.push(BankItem {
                item: Item {
                    references: vec![id.clone()],
                    ..Item::new(
                        id.clone(),
                        dimension,
                        format!("Say ANSWER<{id}>"),
                        GraderSpec::Exact {
                            case_sensitive: false,
                        },
                    )
                },
                source: SourceLoc {
                    file: "generated.toml".into(),
                    line: i + 1,
                },
            });
        }
    }
    Bank {
        items,
        ..Bank::default()
    }
}

fn spec(name: &str) -> ModelSpec {
    ModelSpec {
        name: name.into(),
        provider: ProviderKind::Command,
        model: name.into(),
        base_url: None,
        api_key_env: None,
        command: vec!["true".into()],
        family: None,
        temperature: None,
        top_p: None,
        max_tokens: None,
        seed: None,
        price_input_per_mtok: 0.0,
        price_output_per_mtok: 0.0,
        concurrency: 1,
        timeout_secs: 10.0,
        max_retries: 0,
    }
}

/// Stores the answers of `model` in `run`: item `n` of each dimension (in
/// draw order) scores 100 when `passes(n)`, else 0; then grades them.
async fn answer(store: &Store, run: i64, model: &str, epochs: u32, passes: &dyn Fn(usize) -> bool) {
    let mut position_in_dimension = std::collections::HashMap::new();
    let mut attempts = Vec::new();
    let mut scores = Vec::new();
    for ri in store.run_items(run).await.unwrap() {
        let n = position_in_dimension.entry(ri.dimension).or_insert(0usize);
        let score = if passes(*n) { 100.0 } else { 0.0 };
        *n += 1;
        for epoch in 0..epochs {
            attempts.push(NewAttempt {
                run_id: run,
                model: model.into(),
                item_id: ri.item_id.clone(),
                item_version: ri.version.clone(),
                epoch,
                request_json: "{}".into(),
                response_text: Some(if score > 0.0 {
                    ri.item_id.clone()
                } else {
                    "no idea".into()
                }),
                finish_reason: Some("stop".into()),
                response_model: None,
                input_tokens: 10,
                output_tokens: 2,
                latency_ms: 5,
                tries: 1,
                error_class: None,
                error_message: None,
                http_status: Some(200),
                started_at: 0,
                finished_at: 0,
            });
            scores.push(score);
        }
    }
    let ids = store.insert_attempts(&attempts).await.unwrap();
    let grades: Vec<NewGrade> = ids
        .iter()
        .zip(scores)
        .map(|(id, score)| NewGrade {
            attempt_id: id.id,
            grader_id: "exact".into(),
            grader_version: "1".into(),
            score,
            checks_json: "[]".into(),
            extracted: None,
            created_at: 0,
        })
        .collect();
    store.insert_grades(&grades).await.unwrap();
}

/// One daily run: `alpha` passes `alpha_pass` of the 10 items in each
/// dimension, `beta` always 8; the run is marked complete and judged.
async fn day(store: &Store, day: u64, alpha_pass: usize, alerter: &Alerter) -> Vec<Assessed> {
    let options = RunOptions {
        kind: "daily".into(),
        per_dimension: None,
        dimensions: None,
        epochs: 1,
        seed: day,
        label: format!("day {day}"),
    };
    let run = create_run(store, &bank(), &[spec("alpha"), spec("beta")], &options)
        .await
        .unwrap();
    // Which items pass rotates with the day, so no item is always right.
    let rotate = |k: usize| move |n: usize| (n + day as usize) % ITEMS_PER_DIMENSION < k;
    answer(store, run, "alpha", 1, &rotate(alpha_pass)).await;
    answer(store, run, "beta", 1, &rotate(8)).await;
    store.finish_run(run, RunStatus::Complete, 0).await.unwrap();
    assess_run(store, run, &VerdictSettings::default(), alerter)
        .await
        .unwrap()
}

fn of<'a>(assessed: &'a [Assessed], model: &str, series: &str) -> &'a Assessed {
    assessed
        .iter()
        .find(|a| a.verdict.model == model && a.verdict.series == series)
        .unwrap_or_else(|| panic!("no verdict of {model} on {series}"))
}

async fn open_store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("y.db").display().to_string())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sustained_drop_is_likely_within_five_runs_and_the_retest_confirms_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let alerter = Alerter::new(&AlertsConfig::default()).unwrap();
    // 30 days at 85 (8 or 9 of 10 items), then a 20-point drop (6 or 7 of 10).
    for d in 0..30 {
        let assessed = day(&store, d, 8 + (d as usize % 2), &alerter).await;
        for a in &assessed {
            assert!(
                !matches!(
                    a.verdict.verdict.as_str(),
                    "likely_degradation" | "confirmed_degradation"
                ),
                "day {d}: {} on {} is {} before any drop: {}",
                a.verdict.model,
                a.verdict.series,
                a.verdict.verdict,
                a.verdict.explanation
            );
        }
    }
    let mut flagged = None;
    for d in 30..35 {
        let assessed = day(&store, d, 6 + (d as usize % 2), &alerter).await;
        let main = of(&assessed, "alpha", "main");
        assert!(main.new);
        assert_eq!(of(&assessed, "beta", "main").verdict.verdict, "noise");
        if main.verdict.verdict == "likely_degradation" {
            flagged = Some((d - 29, main.clone()));
            break;
        }
    }
    let (runs, flagged) = flagged.expect("likely_degradation within 5 runs of the drop");
    eprintln!("flagged after {runs} runs: {}", flagged.verdict.explanation);
    let retest = flagged.retest.clone().expect("a retest is scheduled");
    assert_eq!(retest.status, RetestStatus::Pending);
    assert_eq!(
        (retest.items, retest.epochs, retest.series.as_str()),
        (30, 3, "main")
    );
    // The retest belongs to the first suspicion: this verdict, or an earlier
    // `watch` on the same series whose retest was still open.
    let trigger = store.get_verdict(retest.verdict_id).await.unwrap().unwrap();
    assert_eq!(
        (trigger.model.as_str(), trigger.series.as_str()),
        ("alpha", "main")
    );
    assert!(
        trigger.id == flagged.verdict.id && flagged.verdict.retest_id == Some(retest.id)
            || trigger.verdict == "watch" && trigger.run_id < flagged.verdict.run_id,
        "{trigger:?}"
    );

    // The retest: fresh items of both main dimensions, answered badly.
    let run = start_retest(&store, &bank(), &spec("alpha"), &retest, 7)
        .await
        .unwrap()
        .expect("the pending retest is ours");
    let row = store.get_run(run).await.unwrap().unwrap();
    assert_eq!((row.kind.as_str(), row.epochs), ("retest", 3));
    assert_eq!(row.models, vec!["alpha".to_string()]);
    let drawn = store.run_items(run).await.unwrap();
    assert_eq!(
        drawn.len(),
        2 * ITEMS_PER_DIMENSION,
        "15 per dimension asked, 10 in the bank"
    );
    // Deciding before the run is complete is refused.
    let settings = VerdictSettings::default();
    let err = decide_retest(&store, retest.id, &settings, &alerter)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not complete"), "{err}");
    answer(&store, run, "alpha", 3, &|n| n % 5 == 0).await;
    store.finish_run(run, RunStatus::Complete, 0).await.unwrap();
    let report = decide_retest(&store, retest.id, &settings, &alerter)
        .await
        .unwrap();
    assert_eq!(
        report.retest.decision.as_deref(),
        Some("confirm"),
        "{:?}",
        report.retest.numbers_json
    );
    assert_eq!(report.retest.status, RetestStatus::Done);
    assert_eq!(report.previous_verdict, trigger.verdict);
    assert_eq!(report.verdict.verdict, "confirmed_degradation");
    assert_eq!(report.verdict.detected_verdict, trigger.verdict);
    assert_eq!(report.verdict.retest_decision.as_deref(), Some("confirm"));
    assert!(store.open_retests().await.unwrap().is_empty());

    // The next day's verdict knows the confirmation and schedules nothing new.
    let next = day(&store, 36, 6, &alerter).await;
    let main = of(&next, "alpha", "main");
    assert_eq!(
        main.verdict.verdict, "confirmed_degradation",
        "{}",
        main.verdict.explanation
    );
    assert!(main.retest.is_none());
    assert!(store.open_retests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_single_bad_day_is_noise_or_watch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let alerter = Alerter::new(&AlertsConfig::default()).unwrap();
    for d in 0..30 {
        day(&store, d, 9, &alerter).await;
    }
    // One day at 50, then back to normal.
    let mut seen = Vec::new();
    for (d, pass) in [(30, 5), (31, 9), (32, 9), (33, 9), (34, 9), (35, 9)] {
        let assessed = day(&store, d, pass, &alerter).await;
        for a in assessed.iter().filter(|a| a.verdict.model == "alpha") {
            assert!(
                matches!(a.verdict.verdict.as_str(), "noise" | "watch"),
                "day {d}: {} is {}: {}",
                a.verdict.series,
                a.verdict.verdict,
                a.verdict.explanation
            );
            seen.push(a.verdict.verdict.clone());
        }
    }
    assert!(store.open_retests().await.unwrap().is_empty(), "{seen:?}");
    eprintln!("alpha's verdicts after the bad day: {seen:?}");
}

#[tokio::test]
async fn a_retest_that_finds_the_model_as_before_clears_the_suspicion() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let alerter = Alerter::new(&AlertsConfig::default()).unwrap();
    for d in 0..30 {
        day(&store, d, 8 + (d as usize % 2), &alerter).await;
    }
    let mut d = 30;
    let retest = loop {
        assert!(d < 36, "no retest scheduled by a 20-point drop");
        day(&store, d, 6 + (d as usize % 2), &alerter).await;
        d += 1;
        if let Some(r) = store.open_retests().await.unwrap().into_iter().next() {
            break r;
        }
    };
    let trigger = store.get_verdict(retest.verdict_id).await.unwrap().unwrap();
    let run = start_retest(&store, &bank(), &spec("alpha"), &retest, 9)
        .await
        .unwrap()
        .unwrap();
    // A second `yardstick retest` finds it running with its run, and does not start another.
    let running = store.get_retest(retest.id).await.unwrap().unwrap();
    assert_eq!(
        start_retest(&store, &bank(), &spec("alpha"), &running, 9)
            .await
            .unwrap(),
        Some(run)
    );
    assert!(
        start_retest(&store, &bank(), &spec("alpha"), &retest, 9)
            .await
            .unwrap()
            .is_none(),
        "the pending copy is taken already"
    );
    answer(&store, run, "alpha", 3, &|_| true).await;
    store.finish_run(run, RunStatus::Complete, 0).await.unwrap();
    let report = decide_retest(&store, retest.id, &VerdictSettings::default(), &alerter)
        .await
        .unwrap();
    assert_eq!(
        report.retest.decision.as_deref(),
        Some("clear"),
        "{:?}",
        report.retest.numbers_json
    );
    assert_eq!(report.verdict.verdict, "noise");
    assert_eq!(report.verdict.detected_verdict, trigger.verdict);
    assert!(
        report.verdict.explanation.contains("clear")
            || report.verdict.explanation.contains("Clear"),
        "{}",
        report.verdict.explanation
    );
    // Deciding twice is refused.
    let err = decide_retest(&store, retest.id, &VerdictSettings::default(), &alerter)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is done"), "{err}");
}

#[tokio::test]
async fn calibration_is_versioned_and_adjusts_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let alerter = Alerter::new(&AlertsConfig::default()).unwrap();
    for d in 0..12 {
        day(&store, d, 5 + (d as usize % 3), &alerter).await;
    }
    let config = CalibrationConfig::default();
    let err = calibrate_history(&store, "weekly", 365, &config)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no complete `weekly` runs"),
        "{err}"
    );

    let first = calibrate_history(&store, "daily", 365, &config)
        .await
        .unwrap();
    assert_eq!((first.version, first.runs, first.models), (1, 12, 2));
    assert_eq!(first.responses, 12 * 2 * 20);
    assert_eq!(
        first.irt_items, 20,
        "every item is pass/fail and informative"
    );
    assert_eq!(first.additive_items, 0);
    assert_eq!(first.irt_converged, Some(true));

    // A run with partial credit makes its items 0–100 items for the next version.
    let options = RunOptions {
        kind: "daily".into(),
        per_dimension: None,
        dimensions: None,
        epochs: 1,
        seed: 99,
        label: "partial".into(),
    };
    let run = create_run(&store, &bank(), &[spec("alpha"), spec("beta")], &options)
        .await
        .unwrap();
    answer(&store, run, "alpha", 1, &|n| n < 9).await;
    answer(&store, run, "beta", 1, &|n| n < 5).await;
    store.finish_run(run, RunStatus::Complete, 0).await.unwrap();
    let before = adjusted_scores(&store, run).await.unwrap();
    assert!(before.iter().all(|a| a.calibration == 1 && a.fit == "irt"));
    let alpha = before.iter().find(|a| a.model == "alpha").unwrap();
    let beta = before.iter().find(|a| a.model == "beta").unwrap();
    assert!(alpha.score > beta.score, "{alpha:?} {beta:?}");
    assert!(alpha.se > 0.0 && alpha.low < alpha.score && alpha.score < alpha.high);
    assert_eq!((alpha.items_used, alpha.items_skipped), (20, 0));
    // The board shows the same adjusted scores from the answers it read itself
    // (in its own order, so equal up to rounding).
    let options = BoardOptions {
        window: 7,
        bootstrap: None,
        compare: false,
        rolling: None,
    };
    let board = board_with(&store, run, &options).await.unwrap();
    let key = |a: &yardstick_runner::calibrate::AdjustedScore| {
        (
            a.model.clone(),
            a.fit,
            format!("{:.9} {:.9}", a.score, a.se),
            a.items_used,
        )
    };
    assert_eq!(
        board.adjusted.iter().map(key).collect::<Vec<_>>(),
        before.iter().map(key).collect::<Vec<_>>()
    );

    let second = calibrate_history(&store, "daily", 5, &config)
        .await
        .unwrap();
    assert_eq!((second.version, second.runs, second.last_run), (2, 5, run));
    let adjusted = adjusted_scores(&store, run).await.unwrap();
    assert!(adjusted.iter().all(|a| a.calibration == 2));
    // A later run without a calibration of its kind has none.
    let retest_kind = store
        .create_run(&yardstick_store::NewRun {
            kind: "weekly".into(),
            seed: 1,
            label: "w".into(),
            epochs: 1,
            models: vec!["alpha".into()],
            config_json: "{}".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    assert!(adjusted_scores(&store, retest_kind)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn partial_credit_items_get_additive_effects() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let options = |seed| RunOptions {
        kind: "daily".into(),
        per_dimension: None,
        dimensions: None,
        epochs: 1,
        seed,
        label: "partial".into(),
    };
    let mut last = 0;
    for d in 0..6u64 {
        last = create_run(&store, &bank(), &[spec("alpha"), spec("beta")], &options(d))
            .await
            .unwrap();
        for (model, base) in [("alpha", 70.0), ("beta", 40.0)] {
            let mut attempts = Vec::new();
            let mut scores = Vec::new();
            for (n, ri) in store.run_items(last).await.unwrap().iter().enumerate() {
                attempts.push(NewAttempt {
                    run_id: last,
                    model: model.into(),
                    item_id: ri.item_id.clone(),
                    item_version: ri.version.clone(),
                    epoch: 0,
                    request_json: "{}".into(),
                    response_text: Some("x".into()),
                    finish_reason: None,
                    response_model: None,
                    input_tokens: 1,
                    output_tokens: 1,
                    latency_ms: 1,
                    tries: 1,
                    error_class: None,
                    error_message: None,
                    http_status: None,
                    started_at: 0,
                    finished_at: 0,
                });
                // Item effects of ±15 around the model's level, with a daily wobble.
                scores.push(base + (n % 3) as f64 * 15.0 - 15.0 + d as f64);
            }
            let ids = store.insert_attempts(&attempts).await.unwrap();
            let grades: Vec<NewGrade> = ids
                .iter()
                .zip(scores)
                .map(|(id, score)| NewGrade {
                    attempt_id: id.id,
                    grader_id: "rubric".into(),
                    grader_version: "1".into(),
                    score,
                    checks_json: "[]".into(),
                    extracted: None,
                    created_at: 0,
                })
                .collect();
            store.insert_grades(&grades).await.unwrap();
        }
        store
            .finish_run(last, RunStatus::Complete, 0)
            .await
            .unwrap();
    }
    let summary = calibrate_history(&store, "daily", 365, &CalibrationConfig::default())
        .await
        .unwrap();
    assert_eq!((summary.irt_items, summary.additive_items), (0, 20));
    let adjusted = adjusted_scores(&store, last).await.unwrap();
    assert_eq!(adjusted.len(), 2);
    let alpha = adjusted.iter().find(|a| a.model == "alpha").unwrap();
    let beta = adjusted.iter().find(|a| a.model == "beta").unwrap();
    assert_eq!(alpha.fit, "additive");
    assert!(alpha.score - beta.score > 20.0, "{alpha:?} {beta:?}");
    assert!(alpha.se > 0.0 && alpha.se < 10.0, "{alpha:?}");
}
