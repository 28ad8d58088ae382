//! Measures what judging a run costs on a real store: `assess_run` on the
//! newest of RUNS daily runs of MODELS models × 20 items (10 code
//! execution, 10 grounding, pass/fail), reading each model's history from the
//! store; and `calibrate_history` + `adjusted_scores` on the same history.
//!
//! ```text
//! cargo run --release -p yardstick-runner --example verdict_speed [DB_URL] [MODELS] [RUNS]
//! ```
//! Without `DB_URL` a fresh SQLite file in a temporary directory is used. A
//! PostgreSQL URL should point at an empty database or schema.

use std::time::Instant;
use yardstick_core::{Dimension, GraderSpec, Item};
use yardstick_runner::alerts::{Alerter, AlertsConfig};
use yardstick_runner::calibrate::{adjusted_scores, calibrate_history};
use yardstick_runner::verdicts::{assess_run, VerdictSettings};
use yardstick_store::{NewAttempt, NewGrade, NewRun, RunStatus, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    let models: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(90);
    let store = Store::open(&url).await?;
    let names: Vec<String> = (0..models).map(|m| format!("model-{m:02}")).collect();
    let items: Vec<Item> = [Dimension::CodeExecution, Dimension::Grounding]
        .into_iter()
        .flat_map(|d| {
            (0..10).map(move |i| Item {
                references: vec!["a".into()],
                ..Item::new(
                    format!("{}-{i}", d.id()),
                    d,
                    format!("q{i}"),
                    GraderSpec::Exact {
                        case_sensitive: false,
                    },
                )
            })
        })
        .collect();
    store.upsert_items(&items).await?;
    let keys: Vec<(String, String)> = items.iter().map(|i| (i.id.clone(), i.version())).collect();

    let started = Instant::now();
    let mut last = 0;
    for day in 0..runs {
        last = store
            .create_run(&NewRun {
                kind: "daily".into(),
                seed: day as u64,
                label: format!("day {day}"),
                epochs: 1,
                models: names.clone(),
                config_json: "{}".into(),
                created_at: 0,
            })
            .await?;
        store.add_run_items(last, &keys).await?;
        let mut attempts = Vec::new();
        let mut scores = Vec::new();
        for (m, model) in names.iter().enumerate() {
            for (i, item) in items.iter().enumerate() {
                attempts.push(NewAttempt {
                    run_id: last,
                    model: model.clone(),
                    item_id: item.id.clone(),
                    item_version: item.version(),
                    epoch: 0,
                    request_json: "{}".into(),
                    response_text: Some("a".into()),
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
                // Abler models pass more; which items pass rotates daily.
                let passed = (i + day * 7 + m) % 20 < 8 + m % 10;
                scores.push(if passed { 100.0 } else { 0.0 });
            }
        }
        let ids = store.insert_attempts(&attempts).await?;
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
        store.insert_grades(&grades).await?;
        store.finish_run(last, RunStatus::Complete, 0).await?;
    }
    println!(
        "{} at {}: {runs} runs × {models} models × 20 items stored in {:.2} s",
        store.backend(),
        store.location(),
        started.elapsed().as_secs_f64()
    );

    let alerter = Alerter::new(&AlertsConfig::default())?;
    let settings = VerdictSettings::default();
    let started = Instant::now();
    let assessed = assess_run(&store, last, &settings, &alerter).await?;
    println!(
        "assess_run on run #{last}: {} verdicts ({} series × {models} models, {} runs of history each) in {:.3} s",
        assessed.len(),
        assessed.len() / models.max(1),
        settings.history_runs.min(runs),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let summary = calibrate_history(&store, "daily", runs, &settings.calibration).await?;
    println!(
        "calibrate_history: {} answers, {} items, converged {:?}, in {:.3} s",
        summary.responses,
        summary.irt_items,
        summary.irt_converged,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let adjusted = adjusted_scores(&store, last).await?;
    println!(
        "adjusted_scores: {} models in {:.3} s",
        adjusted.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
