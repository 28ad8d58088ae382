//! [`ReportData`]: every number an article may show, read from the store by
//! [`load_report_data`]. Rendering and the narrator's checks work on this
//! value only, so an article cannot show a number the database does not hold.

use crate::config::{ReportConfig, Series};
use crate::ReportError;
use serde::Serialize;
use std::collections::BTreeMap;
use yardstick_core::scoring::{score_run, Gate};
use yardstick_core::Dimension;
use yardstick_runner::leaderboard::{board, BoardRow, FieldMove};
use yardstick_stats::day_effect::{day_effect, ModelDays, ModelMove, Scored};
use yardstick_stats::interval::Interval;
use yardstick_store::{OutcomeRow, RunRow, Store, StoreError, VerdictRow};

#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub run: RunSummary,
    /// W of the stability score (runs of the kind it looks at).
    pub stability_window: usize,
    /// Ranked as on the board: by published main score, models without one last.
    pub models: Vec<ModelData>,
    /// The field's shared move in each run of the history that has one
    /// (two or more models with an earlier run), oldest first: each model's
    /// published main score against its earlier runs in the history.
    pub day_effects: Vec<DayEffectData>,
    /// The board's day effect of this run (raw main score against each
    /// model's earlier runs within the stability window).
    pub field_move: Option<FieldMove>,
}

/// γ̂ of one run: the mean move of the models against their own earlier runs
/// in the history (`yardstick_stats::day_effect`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayEffectData {
    pub run_id: i64,
    pub label: String,
    pub field_move: f64,
    pub field_se: f64,
    /// Models behind the estimate.
    pub models: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// "Run #N".
    pub id: i64,
    pub kind: String,
    pub label: String,
    /// The UTC day the run was created (YYYY-MM-DD).
    pub date: String,
    pub status: String,
    /// Items in the run's draw.
    pub items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelData {
    pub model: String,
    /// 1-based place on the board; `None` without a main score.
    pub rank: Option<usize>,
    /// Published main score (after the integrity cap).
    pub main: Option<f64>,
    pub main_raw: Option<f64>,
    pub cap_reason: Option<String>,
    /// The model's previous run of this kind and its published main score then.
    pub previous_run: Option<i64>,
    pub previous_main: Option<f64>,
    pub delta_main: Option<f64>,
    pub dimensions: Vec<DimensionData>,
    pub integrity: Option<f64>,
    pub gate: Option<Gate>,
    /// Answered share of requests, in percent.
    pub availability_percent: Option<f64>,
    pub stability: Option<f64>,
    pub stability_runs: usize,
    pub cost_usd: f64,
    /// Published main score per US dollar.
    pub value: Option<f64>,
    /// The verdicts stored for this model in this run, main first.
    pub verdicts: Vec<VerdictData>,
    /// The board's move of this model against its earlier runs, and
    /// relative to the field's move; `None` without an earlier run or a field.
    pub field_relative: Option<ModelMove>,
    /// The board's 95% interval of the published main score.
    pub main_interval: Option<Interval>,
    /// This kind's runs with the model, oldest first, ending with this run.
    pub history: Vec<HistoryPoint>,
}

/// A stored verdict on one series of a model in the report's run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictData {
    /// `main` or a dimension id.
    pub series: String,
    /// The verdict in force (after its retest, if one decided).
    pub verdict: String,
    /// What the detectors said before any retest.
    pub detected_verdict: String,
    pub explanation: String,
    /// The confirmation run scheduled for it, and its decision once done.
    pub retest_id: Option<i64>,
    pub retest_decision: Option<String>,
    /// The numbers that produced it, as stored.
    pub numbers: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionData {
    pub dimension: Dimension,
    pub name: &'static str,
    pub score: f64,
    /// Items scored.
    pub items: usize,
    pub previous: Option<f64>,
    pub delta: Option<f64>,
    /// The board's 95% interval.
    pub interval: Option<Interval>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    pub run_id: i64,
    pub label: String,
    pub main: Option<f64>,
    pub dimensions: BTreeMap<Dimension, f64>,
    /// The main score's standard error from item sampling (0 when it cannot
    /// be estimated), as the verdicts use it.
    pub main_se: Option<f64>,
    /// The verdict on the main score stored for this run, if any.
    pub main_verdict: Option<String>,
}

impl HistoryPoint {
    pub fn value(&self, series: Series) -> Option<f64> {
        match series {
            Series::Main => self.main,
            Series::Dimension(d) => self.dimensions.get(&d).copied(),
        }
    }
}

impl ModelData {
    pub fn dimension(&self, d: Dimension) -> Option<&DimensionData> {
        self.dimensions.iter().find(|x| x.dimension == d)
    }
}

impl ReportData {
    pub fn model(&self, name: &str) -> Option<&ModelData> {
        self.models.iter().find(|m| m.model == name)
    }
}

/// Reads run `run_id`'s board (scores, moves, stability over `stability_window`
/// runs) and the last `config.history_runs` runs of its kind.
pub async fn load_report_data(
    store: &Store,
    run_id: i64,
    config: &ReportConfig,
    stability_window: usize,
) -> Result<ReportData, ReportError> {
    let board = board(store, run_id, stability_window).await?;
    let runs = store
        .runs_of_kind_through(&board.run.kind, run_id, config.history_runs as i64)
        .await?;
    let first = runs.last().map_or(run_id, |r| r.id);
    let outcomes = store
        .outcomes_of_runs(&board.run.kind, first, run_id)
        .await?;
    let mut verdicts: BTreeMap<(String, i64), Vec<VerdictRow>> = BTreeMap::new();
    for run in &runs {
        for v in store.list_verdicts(Some(run.id), i64::MAX).await? {
            verdicts
                .entry((v.model.clone(), v.run_id))
                .or_default()
                .push(v);
        }
    }
    let history = history_by_model(&runs, outcomes, &verdicts);
    let day_effects = day_effects(&runs, &history);
    let items = store.run_items(run_id).await?.len();
    let mut rank = 0;
    let models = board
        .rows
        .iter()
        .map(|row| {
            if row.scores.main.is_some() {
                rank += 1;
            }
            let stored = verdicts
                .get(&(row.model.clone(), run_id))
                .map_or(&[][..], Vec::as_slice);
            Ok(model_data(
                row,
                row.scores.main.is_some().then_some(rank),
                history.get(&row.model).cloned().unwrap_or_default(),
                verdict_data(stored)?,
            ))
        })
        .collect::<Result<_, ReportError>>()?;
    Ok(ReportData {
        run: run_summary(&board.run, items),
        stability_window: board.window,
        models,
        day_effects,
        field_move: board.day_effect.clone(),
    })
}

/// The field's move in each run of the history (each model's published main
/// score with its sampling SE against its earlier runs shown).
fn day_effects(
    runs: &[RunRow],
    history: &BTreeMap<String, Vec<HistoryPoint>>,
) -> Vec<DayEffectData> {
    let scored = |p: &HistoryPoint| {
        Some(Scored {
            score: p.main?,
            se: p.main_se?,
        })
    };
    let mut effects = Vec::new();
    for run in runs.iter().rev() {
        let days: Vec<ModelDays> = history
            .values()
            .filter_map(|points| {
                let at = points.iter().position(|p| p.run_id == run.id)?;
                Some(ModelDays {
                    latest: scored(&points[at])?,
                    baseline: points[..at].iter().filter_map(scored).collect(),
                })
            })
            .collect();
        if let Some(effect) = day_effect(&days) {
            effects.push(DayEffectData {
                run_id: run.id,
                label: run.label.clone(),
                field_move: effect.field_move,
                field_se: effect.field_se,
                models: effect.models,
            });
        }
    }
    effects
}

fn run_summary(run: &RunRow, items: usize) -> RunSummary {
    RunSummary {
        id: run.id,
        kind: run.kind.clone(),
        label: run.label.clone(),
        date: chrono::DateTime::from_timestamp_millis(run.created_at)
            .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string()),
        status: run.status.to_string(),
        items,
    }
}

/// This run's verdicts of one model, the main score's first.
fn verdict_data(rows: &[VerdictRow]) -> Result<Vec<VerdictData>, ReportError> {
    let mut out: Vec<VerdictData> = rows
        .iter()
        .map(|v| {
            let numbers = serde_json::from_str(&v.numbers_json).map_err(|e| {
                StoreError::Corrupt {
                    what: format!(
                        "verdict {} ({} on {} in run #{}): numbers_json does not read as JSON ({e})",
                        v.id, v.model, v.series, v.run_id
                    ),
                }
            })?;
            Ok(VerdictData {
                series: v.series.clone(),
                verdict: v.verdict.clone(),
                detected_verdict: v.detected_verdict.clone(),
                explanation: v.explanation.clone(),
                retest_id: v.retest_id,
                retest_decision: v.retest_decision.clone(),
                numbers,
            })
        })
        .collect::<Result<_, ReportError>>()?;
    out.sort_by_key(|v| (v.series != "main", v.series.clone()));
    Ok(out)
}

fn model_data(
    row: &BoardRow,
    rank: Option<usize>,
    history: Vec<HistoryPoint>,
    verdicts: Vec<VerdictData>,
) -> ModelData {
    let scores = &row.scores;
    let main = scores.main.as_ref().map(|m| m.published);
    let dimensions = scores
        .dimensions
        .iter()
        .map(|(d, s)| {
            let delta = row
                .delta_dimensions
                .iter()
                .find(|(dd, _)| dd == d)
                .map(|(_, v)| *v);
            DimensionData {
                dimension: *d,
                name: d.display_name(),
                score: s.score,
                items: s.items,
                previous: delta.map(|x| s.score - x),
                delta,
                interval: row.intervals.dimensions.get(d).copied(),
            }
        })
        .collect();
    ModelData {
        model: row.model.clone(),
        rank,
        main,
        main_raw: scores.main.as_ref().map(|m| m.raw),
        cap_reason: scores.main.as_ref().and_then(|m| m.cap_reason.clone()),
        previous_run: row.previous_run,
        previous_main: main.zip(row.delta_main).map(|(m, d)| m - d),
        delta_main: row.delta_main,
        dimensions,
        integrity: scores.dimension(Dimension::Integrity),
        gate: scores.gate,
        availability_percent: scores.availability.map(|a| a * 100.0),
        stability: row.stability,
        stability_runs: row.stability_runs,
        cost_usd: scores.cost_usd,
        value: scores.value,
        verdicts,
        field_relative: row.day_move,
        main_interval: row.intervals.main,
        history,
    }
}

/// Each model's scores in each run, oldest run first; a run in which a model
/// has no attempt is not a point of its history.
fn history_by_model(
    runs: &[RunRow],
    outcomes: Vec<(i64, OutcomeRow)>,
    verdicts: &BTreeMap<(String, i64), Vec<VerdictRow>>,
) -> BTreeMap<String, Vec<HistoryPoint>> {
    let labels: BTreeMap<i64, &str> = runs.iter().map(|r| (r.id, r.label.as_str())).collect();
    let mut grouped: BTreeMap<(String, i64), Vec<_>> = BTreeMap::new();
    for (run_id, row) in outcomes {
        // Runs of the kind outside the newest `history_runs` are not asked for,
        // but a run between them could be of another kind: keep listed runs only.
        if labels.contains_key(&run_id) {
            grouped
                .entry((row.model.clone(), run_id))
                .or_default()
                .push(row.to_outcome());
        }
    }
    let mut history: BTreeMap<String, Vec<HistoryPoint>> = BTreeMap::new();
    for ((model, run_id), outcomes) in grouped {
        // History points need scores only; cost plays no part in them.
        let scores = score_run(&outcomes, |_, _| 0.0);
        let main_verdict = verdicts
            .get(&(model.clone(), run_id))
            .and_then(|vs| vs.iter().find(|v| v.series == "main"))
            .map(|v| v.verdict.clone());
        history.entry(model).or_default().push(HistoryPoint {
            run_id,
            label: labels[&run_id].to_string(),
            main: scores.main.as_ref().map(|m| m.published),
            dimensions: scores
                .dimensions
                .iter()
                .map(|(d, s)| (*d, s.score))
                .collect(),
            main_se: Series::Main.point(&scores).map(|(_, se)| se),
            main_verdict,
        });
    }
    history
}
