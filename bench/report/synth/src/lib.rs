//! Synthetic yardstick databases: `models` models answering `items_per_dimension`
//! items of each dimension in `runs` daily runs, one day apart, with seeded
//! scores (a per-model ability per dimension, item difficulty, noise) and
//! optional injected drops. Everything goes through the real store API, so the
//! database is exactly what `yardstick run` would have written.
//!
//! The one generator of the report and dashboard benchmarks and of their
//! tests: the scores are random but reproducible from the seed.

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use yardstick_core::{Dimension, GraderSpec, Item, ModelSpec};
use yardstick_runner::RunConfig;
use yardstick_store::{NewAttempt, NewGrade, NewRun, RunStatus, Store};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    pub models: usize,
    pub runs: usize,
    /// Items of each of the five dimensions in every run (2 → 10 items a run).
    pub items_per_dimension: usize,
    /// Distinct items per dimension the daily draws pick from.
    pub pool_per_dimension: usize,
    pub kind: String,
    pub seed: u64,
    /// Unix milliseconds of the first run; later runs follow a day apart.
    pub first_run_at: i64,
    pub drops: Vec<Drop>,
    /// Share of requests that fail at the vendor (stored with an error
    /// class and no grade): availability below 100%.
    pub failure_rate: f64,
    /// The response of model 0 to the first drawn item of the last run, e.g.
    /// a `<script>` payload to prove the pages escape it.
    pub planted_response: Option<String>,
}

/// From run index `from_run` on (0-based), model `model` (index) scores
/// `points` lower on every item of every dimension (floored at 0).
#[derive(Debug, Clone, Copy)]
pub struct Drop {
    pub model: usize,
    pub from_run: usize,
    pub points: f64,
}

impl SynthSpec {
    /// The benchmark's size: 30 models x 365 daily runs x 10 items.
    pub fn benchmark() -> SynthSpec {
        SynthSpec {
            models: 30,
            runs: 365,
            items_per_dimension: 2,
            pool_per_dimension: 60,
            kind: "smoke".into(),
            seed: 7,
            // 2025-11-26 00:00 UTC
            first_run_at: 1_764_115_200_000,
            drops: vec![Drop {
                model: 0,
                from_run: 364,
                points: 25.0,
            }],
            failure_rate: 0.02,
            planted_response: Some("<script>alert('pwned')</script>".into()),
        }
    }
}

/// What was generated: run numbers oldest first, and the model names.
#[derive(Debug, Clone)]
pub struct Synth {
    pub run_ids: Vec<i64>,
    pub models: Vec<String>,
}

pub const DAY_MS: i64 = 86_400_000;

pub fn model_name(index: usize) -> String {
    format!("model-{:02}", index + 1)
}

fn model_spec(name: &str, index: usize) -> Result<ModelSpec> {
    serde_json::from_value(serde_json::json!({
        "name": name,
        "provider": "openai",
        "model": format!("synthetic-{name}"),
        "base_url": "http://127.0.0.1:9/v1",
        "price_input_per_mtok": 0.5 + index as f64 * 0.1,
        "price_output_per_mtok": 1.5 + index as f64 * 0.2,
    }))
    .context("building a synthetic model spec")
}

fn item(dimension: Dimension, n: usize) -> Item {
    Item {
        references: vec![format!("answer {n}")],
        ..Item::new(
            format!("synth-{}-{n:03}", dimension.id()),
            dimension,
            format!("Synthetic {} question {n}.", dimension.display_name()),
            GraderSpec::Exact {
                case_sensitive: false,
            },
        )
    }
}

/// Writes the synthetic history into `store` (which should be empty of runs
/// of `spec.kind`, or the new runs simply follow the existing ones).
pub async fn generate(store: &Store, spec: &SynthSpec) -> Result<Synth> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let pool: BTreeMap<Dimension, Vec<Item>> = Dimension::ALL
        .into_iter()
        .map(|d| {
            (
                d,
                (0..spec.pool_per_dimension).map(|n| item(d, n)).collect(),
            )
        })
        .collect();
    let all_items: Vec<Item> = pool.values().flatten().cloned().collect();
    store.upsert_items(&all_items).await?;
    // Item difficulty: points subtracted from a model's ability on that item.
    let difficulty: BTreeMap<String, f64> = all_items
        .iter()
        .map(|i| (i.id.clone(), rng.gen_range(-10.0..10.0)))
        .collect();
    let models: Vec<String> = (0..spec.models).map(model_name).collect();
    let specs: Vec<ModelSpec> = models
        .iter()
        .enumerate()
        .map(|(i, m)| model_spec(m, i))
        .collect::<Result<_>>()?;
    for s in &specs {
        store
            .upsert_model(&s.name, s.provider.id(), &serde_json::to_string(s)?)
            .await?;
    }
    let ability: Vec<BTreeMap<Dimension, f64>> = (0..spec.models)
        .map(|_| {
            Dimension::ALL
                .into_iter()
                .map(|d| (d, rng.gen_range(55.0..95.0)))
                .collect()
        })
        .collect();
    let config_json = serde_json::to_string(&RunConfig {
        models: specs.clone(),
        per_dimension: Some(spec.items_per_dimension),
        dimensions: None,
        yardstick_version: env!("CARGO_PKG_VERSION").to_string(),
    })?;

    let mut run_ids = Vec::with_capacity(spec.runs);
    for day in 0..spec.runs {
        let created_at = spec.first_run_at + day as i64 * DAY_MS;
        let run_id = store
            .create_run(&NewRun {
                kind: spec.kind.clone(),
                seed: spec.seed.wrapping_add(day as u64),
                label: label_of(created_at),
                epochs: 1,
                models: models.clone(),
                config_json: config_json.clone(),
                created_at,
            })
            .await?;
        let mut drawn: Vec<&Item> = Vec::new();
        for items in pool.values() {
            let start = rng.gen_range(0..items.len());
            drawn.extend(
                (0..spec.items_per_dimension.min(items.len()))
                    .map(|k| &items[(start + k * 7) % items.len()]),
            );
        }
        let keys: Vec<(String, String)> =
            drawn.iter().map(|i| (i.id.clone(), i.version())).collect();
        store.add_run_items(run_id, &keys).await?;

        let mut attempts = Vec::new();
        let mut scores = Vec::new();
        for (m, name) in models.iter().enumerate() {
            let drop: f64 = spec
                .drops
                .iter()
                .filter(|d| d.model == m && day >= d.from_run)
                .map(|d| d.points)
                .sum();
            for (i, item) in drawn.iter().enumerate() {
                let mean = ability[m][&item.dimension] - difficulty[&item.id] - drop;
                let score = if item.dimension == Dimension::CodeExecution {
                    // Pass/fail, as code tests are.
                    if rng.gen_bool((mean / 100.0).clamp(0.0, 1.0)) {
                        100.0
                    } else {
                        0.0
                    }
                } else {
                    (mean + rng.gen_range(-12.0..12.0)).clamp(0.0, 100.0)
                };
                attempts.push(NewAttempt {
                    run_id,
                    model: name.clone(),
                    item_id: item.id.clone(),
                    item_version: item.version(),
                    epoch: 0,
                    request_json: format!(
                        r#"{{"model":"synthetic-{name}","messages":[{{"role":"user","content":"{}"}}]}}"#,
                        item.prompt
                    ),
                    response_text: Some(match &spec.planted_response {
                        Some(text) if day + 1 == spec.runs && m == 0 && i == 0 => text.clone(),
                        _ => format!("answer from {name}"),
                    }),
                    finish_reason: Some("stop".into()),
                    response_model: Some(format!("synthetic-{name}")),
                    input_tokens: 120,
                    output_tokens: 40,
                    latency_ms: 300,
                    tries: 1,
                    error_class: None,
                    error_message: None,
                    http_status: Some(200),
                    started_at: created_at,
                    finished_at: created_at + 300,
                });
                // Drawn only when asked for, so a spec without failures
                // keeps the random stream (and the scores) it always had.
                if spec.failure_rate > 0.0 && rng.gen_bool(spec.failure_rate) {
                    let a = attempts.last_mut().expect("just pushed");
                    a.response_text = None;
                    a.finish_reason = None;
                    a.error_class = Some(yardstick_core::ErrorClass::ServerError);
                    a.error_message = Some("HTTP 503".into());
                    a.http_status = Some(503);
                }
                scores.push(score);
            }
        }
        let inserted = store.insert_attempts(&attempts).await?;
        let grades: Vec<NewGrade> = inserted
            .iter()
            .zip(&scores)
            .zip(&attempts)
            .filter(|(_, a)| a.error_class.is_none())
            .map(|((ins, score), _)| NewGrade {
                attempt_id: ins.id,
                grader_id: "exact".into(),
                grader_version: "synthetic".into(),
                score: *score,
                checks_json: serde_json::json!([{
                    "name": "synthetic", "passed": *score >= 50.0, "weight": 1.0,
                    "detail": format!("synthetic score {score:.1}")
                }])
                .to_string(),
                extracted: None,
                created_at: created_at + 400,
            })
            .collect();
        store.insert_grades(&grades).await?;
        store
            .finish_run(run_id, RunStatus::Complete, created_at + 1_000)
            .await?;
        run_ids.push(run_id);
    }
    Ok(Synth { run_ids, models })
}

/// The run label: its UTC date.
fn label_of(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms).map_or_else(
        || format!("t{unix_ms}"),
        |t| t.format("%Y-%m-%d").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_utc_dates() {
        assert_eq!(label_of(1_764_115_200_000), "2025-11-26");
        assert_eq!(label_of(0), "1970-01-01");
        assert_eq!(label_of(951_782_400_000), "2000-02-29");
    }
}
