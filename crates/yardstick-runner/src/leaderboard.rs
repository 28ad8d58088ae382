//! The leaderboard's numbers for one run, read from the store: each model's
//! index scores, its move against its previous run of the same kind, and its
//! stability over the last W runs of that kind.

use crate::plan::RunConfig;
use crate::RunError;
use serde::Serialize;
use std::cmp::Ordering;
use yardstick_core::scoring::{score_run, stability, AttemptOutcome, RunScores};
use yardstick_core::Dimension;
use yardstick_store::{RunRow, Store};

#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub model: String,
    pub scores: RunScores,
    /// The model's previous run of the same kind, if any.
    pub previous_run: Option<i64>,
    /// Published main score now minus in the previous run.
    pub delta_main: Option<f64>,
    /// Per-dimension moves against the previous run.
    pub delta_dimensions: Vec<(Dimension, f64)>,
    /// max(0, 100 − 2σ) over the last `window` runs of this kind; `None` below 3 runs.
    pub stability: Option<f64>,
    pub stability_runs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub run: RunRow,
    pub window: usize,
    /// Ranked by published main score (rows without one last).
    pub rows: Vec<BoardRow>,
}

fn run_config(run: &RunRow) -> Result<RunConfig, RunError> {
    serde_json::from_str(&run.config_json).map_err(|e| RunError::BadRunConfig {
        run: run.id,
        message: e.to_string(),
    })
}

/// One model's scores in one run, priced with the prices stored with that run.
pub async fn model_scores(store: &Store, run: &RunRow, model: &str) -> Result<RunScores, RunError> {
    let config = run_config(run)?;
    let rows = store.outcomes(run.id, Some(model)).await?;
    let outcomes: Vec<AttemptOutcome> = rows
        .into_iter()
        .map(|r| AttemptOutcome {
            item_id: r.item_id,
            dimension: r.dimension,
            epoch: r.epoch,
            score: r.score,
            answered: r.answered,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
        })
        .collect();
    let spec = config.model(model).cloned();
    Ok(score_run(&outcomes, |i, o| {
        spec.as_ref().map_or(0.0, |s| s.cost_usd(i, o))
    }))
}

/// The board of run `run_id`; `window` is W for stability.
pub async fn board(store: &Store, run_id: i64, window: usize) -> Result<Board, RunError> {
    let run = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    let mut rows = Vec::new();
    for model in store.run_models(run_id).await? {
        let scores = model_scores(store, &run, &model).await?;
        let history = store
            .runs_with_model(&run.kind, &model, Some(run_id), window as i64)
            .await?;
        let previous_run = history.first().copied();
        let mut delta_main = None;
        let mut delta_dimensions = Vec::new();
        let mut mains: Vec<f64> = scores.main.iter().map(|m| m.published).collect();
        for (i, past_id) in history.iter().take(window.saturating_sub(1)).enumerate() {
            let Some(past_run) = store.get_run(*past_id).await? else {
                continue;
            };
            let past = model_scores(store, &past_run, &model).await?;
            if i == 0 {
                delta_main = match (&scores.main, &past.main) {
                    (Some(now), Some(then)) => Some(now.published - then.published),
                    _ => None,
                };
                delta_dimensions = Dimension::ALL
                    .into_iter()
                    .filter_map(|d| Some((d, scores.dimension(d)? - past.dimension(d)?)))
                    .collect();
            }
            mains.extend(past.main.map(|m| m.published));
        }
        rows.push(BoardRow {
            stability: stability(&mains),
            stability_runs: mains.len(),
            model,
            scores,
            previous_run,
            delta_main,
            delta_dimensions,
        });
    }
    rows.sort_by(|a, b| {
        let key = |r: &BoardRow| r.scores.main.as_ref().map(|m| m.published);
        match (key(a), key(b)) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.model.cmp(&b.model),
        }
    });
    Ok(Board { run, window, rows })
}
