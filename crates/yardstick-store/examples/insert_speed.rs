//! Measures the write path the run engine uses: attempts then grades, in
//! batches from one writer, as `insert_attempts` / `insert_grades` calls.
//!
//! ```text
//! cargo run --release -p yardstick-store --example insert_speed [DB_URL] [ATTEMPTS] [BATCH]
//! ```
//! Without `DB_URL` a fresh SQLite file in a temporary directory is used. A
//! PostgreSQL URL should point at an empty database or schema, e.g.
//! `postgres://postgres@127.0.0.1:5432/test?options%5Bsearch_path%5D=bench`.

use std::time::Instant;
use yardstick_core::{Dimension, GraderSpec, Item, NumberPick};
use yardstick_store::{NewAttempt, NewGrade, NewRun, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    let attempts: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let batch: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);

    let store = Store::open(&url).await?;
    println!(
        "{} at {}: {attempts} attempts + {attempts} grades in batches of {batch}",
        store.backend(),
        store.location()
    );

    // 100 items × (attempts / 100) model-epoch pairs, like a full run.
    let items: Vec<Item> = (0..100)
        .map(|i| Item {
            references: vec!["4".into()],
            ..Item::new(
                format!("bench-{i}"),
                Dimension::ALL[i % 5],
                format!("Question {i}: {}", "context ".repeat(100)),
                GraderSpec::Numeric {
                    tolerance: 0.0,
                    relative: 0.0,
                    pick: NumberPick::Last,
                },
            )
        })
        .collect();
    let t = Instant::now();
    store.upsert_items(&items).await?;
    println!(
        "upsert 100 items: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let run = store
        .create_run(&NewRun {
            kind: "bench".into(),
            seed: 1,
            label: "bench".into(),
            epochs: 1,
            models: vec![],
            config_json: "{}".into(),
            created_at: 0,
        })
        .await?;
    let request = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(1500)
    );
    let response = "The answer, after some reasoning, is 4. ".repeat(25);
    let rows: Vec<NewAttempt> = (0..attempts)
        .map(|n| {
            let item = &items[n % items.len()];
            NewAttempt {
                run_id: run,
                model: format!("model-{}", n / items.len()),
                item_id: item.id.clone(),
                item_version: item.version(),
                epoch: 0,
                request_json: request.clone(),
                response_text: Some(response.clone()),
                finish_reason: Some("stop".into()),
                response_model: Some("m-2025".into()),
                input_tokens: 500,
                output_tokens: 250,
                latency_ms: 900,
                tries: 1,
                error_class: None,
                error_message: None,
                http_status: Some(200),
                started_at: 0,
                finished_at: 0,
            }
        })
        .collect();

    let t = Instant::now();
    let mut ids = Vec::with_capacity(attempts);
    for chunk in rows.chunks(batch) {
        ids.extend(
            store
                .insert_attempts(chunk)
                .await?
                .into_iter()
                .map(|i| i.id),
        );
    }
    let attempts_s = t.elapsed().as_secs_f64();

    let grades: Vec<NewGrade> = ids
        .iter()
        .map(|&attempt_id| NewGrade {
            attempt_id,
            grader_id: "numeric".into(),
            grader_version: "1".into(),
            score: 100.0,
            checks_json:
                r#"[{"name":"value","passed":true,"weight":1.0,"detail":"4 = 4 within 0"}]"#.into(),
            extracted: Some("4".into()),
            created_at: 0,
        })
        .collect();
    let t = Instant::now();
    for chunk in grades.chunks(batch) {
        store.insert_grades(chunk).await?;
    }
    let grades_s = t.elapsed().as_secs_f64();

    let per_s = |n: usize, s: f64| n as f64 / s;
    println!(
        "attempts: {:.1} ms ({:.0}/s) · grades: {:.1} ms ({:.0}/s) · total {:.1} ms",
        attempts_s * 1e3,
        per_s(attempts, attempts_s),
        grades_s * 1e3,
        per_s(attempts, grades_s),
        (attempts_s + grades_s) * 1e3
    );
    store.close().await;
    Ok(())
}
