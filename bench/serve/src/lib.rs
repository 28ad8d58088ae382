//! A synthetic results database: `models` models answering `items` items in
//! each of `days` daily smoke runs, stored through the ordinary store API
//! (items, runs, draws, attempts, grades), so the dashboard reads it exactly
//! as it reads real runs. Scores are deterministic: each model has a level,
//! each (run, model, item) a reproducible deviation, and every model's last
//! runs can be made to drop (something for verdicts and charts to show).

use chrono::{Duration, NaiveDate};
use yardstick_core::{Dimension, GraderSpec, Item, ModelSpec, NumberPick, ProviderKind};
use yardstick_runner::RunConfig;
use yardstick_store::{NewAttempt, NewGrade, NewRun, RunStatus, Store, StoreError};

#[derive(Debug, Clone)]
pub struct Shape {
    pub models: usize,
    pub days: usize,
    pub items: usize,
    /// Date of the first run (one run per day after it).
    pub first_day: NaiveDate,
    /// Response text of one attempt of the last run (model 0, first item);
    /// e.g. a `<script>` payload to prove the pages escape it.
    pub planted_response: Option<String>,
}

/// The name of model `i`.
pub fn model_name(i: usize) -> String {
    format!("model-{i:02}")
}

/// The id of item `i`; dimensions rotate so each gets its share.
pub fn item_id(i: usize) -> String {
    format!(
        "syn-{}-{i:03}",
        Dimension::ALL[i % Dimension::ALL.len()].id()
    )
}

fn items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| Item {
            id: item_id(i),
            dimension: Dimension::ALL[i % Dimension::ALL.len()],
            prompt: format!("What is {i} + {i}? Answer with the number."),
            system: None,
            materials: None,
            cluster: None,
            grader: GraderSpec::Numeric {
                tolerance: 0.0,
                relative: 0.0,
                pick: NumberPick::Last,
            },
            references: vec![(2 * i).to_string()],
            known_bad: Vec::new(),
            judged: None,
            tags: Vec::new(),
        })
        .collect()
}

fn spec(name: &str) -> ModelSpec {
    serde_json::from_value(serde_json::json!({
        "name": name,
        "provider": "openai",
        "model": name,
        "base_url": "http://127.0.0.1:9/v1",
        "price_input_per_mtok": 0.5,
        "price_output_per_mtok": 1.5,
    }))
    .expect("a valid model spec")
}

/// A reproducible number in [0, 1) from a key (SplitMix64).
fn unit(key: u64) -> f64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Fills `store` (which should be empty). Returns the run ids, oldest first.
pub async fn generate(store: &Store, shape: &Shape) -> Result<Vec<i64>, StoreError> {
    let items = items(shape.items);
    store.upsert_items(&items).await?;
    let names: Vec<String> = (0..shape.models).map(model_name).collect();
    let config = RunConfig {
        models: names.iter().map(|n| spec(n)).collect(),
        per_dimension: None,
        dimensions: None,
        yardstick_version: "synthetic".into(),
    };
    let config_json = serde_json::to_string(&config).expect("config serializes");
    for n in &names {
        store
            .upsert_model(
                n,
                ProviderKind::Openai.id(),
                &serde_json::to_string(&spec(n)).expect("spec"),
            )
            .await?;
    }
    let draw: Vec<(String, String)> = items.iter().map(|i| (i.id.clone(), i.version())).collect();
    let mut runs = Vec::new();
    for day in 0..shape.days {
        let date = shape.first_day + Duration::days(day as i64);
        let at = date
            .and_hms_opt(3, 0, 0)
            .expect("valid time")
            .and_utc()
            .timestamp_millis();
        let run = store
            .create_run(&NewRun {
                kind: "smoke".into(),
                seed: day as u64,
                label: date.format("%Y-%m-%d").to_string(),
                epochs: 1,
                models: names.clone(),
                config_json: config_json.clone(),
                created_at: at,
            })
            .await?;
        store.add_run_items(run, &draw).await?;
        let last = day + 1 == shape.days;
        let mut attempts = Vec::new();
        for (m, name) in names.iter().enumerate() {
            for (i, item) in items.iter().enumerate() {
                let key = ((day * 1_000 + m) * 1_000 + i) as u64;
                // One attempt in fifty fails at the vendor: availability below 100%.
                let failed = unit(key ^ 0xFA11) < 0.02;
                let response = match &shape.planted_response {
                    Some(text) if last && m == 0 && i == 0 => text.clone(),
                    _ => format!("The answer is {}.", 2 * i),
                };
                attempts.push(NewAttempt {
                    run_id: run,
                    model: name.clone(),
                    item_id: item.id.clone(),
                    item_version: draw[i].1.clone(),
                    epoch: 0,
                    request_json: serde_json::json!({ "messages": [{ "role": "user", "content": item.prompt }] })
                        .to_string(),
                    response_text: (!failed).then_some(response),
                    finish_reason: (!failed).then(|| "stop".to_string()),
                    response_model: Some(name.clone()),
                    input_tokens: 40,
                    output_tokens: 12,
                    latency_ms: 200 + (unit(key ^ 0x1A7) * 800.0) as u64,
                    tries: 1,
                    error_class: failed.then_some(yardstick_core::ErrorClass::ServerError),
                    error_message: failed.then(|| "HTTP 503".to_string()),
                    http_status: failed.then_some(503),
                    started_at: at,
                    finished_at: at + 1_000,
                });
            }
        }
        let inserted = store.insert_attempts(&attempts).await?;
        let mut grades = Vec::new();
        for (a, ins) in attempts.iter().zip(&inserted) {
            if a.error_class.is_some() {
                continue;
            }
            let m = names
                .iter()
                .position(|n| *n == a.model)
                .expect("known model");
            let level = 50.0 + 40.0 * m as f64 / shape.models.max(1) as f64;
            let drop = if shape.days - day <= 3 && m % 7 == 3 {
                25.0
            } else {
                0.0
            };
            let noise = unit(ins.id as u64) * 30.0 - 15.0;
            let score = (level + noise - drop).clamp(0.0, 100.0);
            grades.push(NewGrade {
                attempt_id: ins.id,
                grader_id: "numeric".into(),
                grader_version: "1".into(),
                score,
                checks_json: serde_json::json!([{
                    "name": "number", "passed": score >= 50.0, "weight": 1.0,
                    "detail": format!("synthetic score {score:.1}")
                }])
                .to_string(),
                extracted: Some("0".into()),
                created_at: at + 2_000,
            });
        }
        store.insert_grades(&grades).await?;
        store
            .finish_run(run, RunStatus::Complete, at + 3_000)
            .await?;
        runs.push(run);
    }
    Ok(runs)
}
