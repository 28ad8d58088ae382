//! Verdicts on stored runs: after a run is graded, each model's history of
//! that run kind is read from the store, one series per published number
//! (the main score and each dimension), and `yardstick_stats::verdict` judges
//! it. The verdict is stored with its numbers; a `watch` or
//! `likely_degradation` schedules a confirmation run ([`crate::retest`]); a
//! change of verdict is posted to the webhooks ([`crate::alerts`]).
//!
//! Each run's point on a series is its score with the SE of item sampling:
//! the t-interval's SE of the item scores for a dimension, the SE of the
//! weighted sum 0.55 · code execution + 0.45 · grounding for the main score
//! (the published main score is the point). A series with a single item on
//! a day has no sampling SE of its own; it is given 0 and the detector uses
//! the baseline's typical sampling variance instead.

use crate::alerts::Alerter;
use crate::retest::RetestSettings;
use crate::{now_ms, RunError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use yardstick_core::scoring::{score_run, RunScores, MAIN_WEIGHT_CODE, MAIN_WEIGHT_GROUNDING};
use yardstick_core::Dimension;
use yardstick_stats::interval::{t_interval, weighted_sum, LEVEL_95};
use yardstick_stats::irt::CalibrationConfig;
use yardstick_stats::sprt::SprtResult;
use yardstick_stats::verdict::{
    verdicts_in_field, RetestOutcome, SeriesHistory, SeriesPoint, SeriesType, Verdict,
    VerdictConfig, VerdictKind,
};
use yardstick_store::{
    AlertRow, NewRetest, NewVerdict, RetestRow, RunRow, RunStatus, Store, VerdictRow,
};

/// The run kind of confirmation runs. Their results decide retests; they
/// are never judged as a history of their own.
pub const RETEST_KIND: &str = "retest";

/// `[verdicts]` in `yardstick.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerdictSettings {
    /// Judge every completed run (false: verdicts only on request).
    pub enabled: bool,
    /// Runs of the same kind read per verdict, newest first: how far back
    /// the detectors (baseline, CUSUM) see.
    pub history_runs: usize,
    /// Detector thresholds (`[verdicts.detectors]`).
    pub detectors: VerdictConfig,
    /// Confirmation runs (`[verdicts.retest]`).
    pub retest: RetestSettings,
    /// Item calibration priors and stopping rule (`[verdicts.calibration]`).
    pub calibration: CalibrationConfig,
    /// Newest runs of a kind `yardstick calibrate` fits on.
    pub calibration_runs: usize,
}

impl Default for VerdictSettings {
    fn default() -> Self {
        VerdictSettings {
            enabled: true,
            history_runs: 90,
            detectors: VerdictConfig::default(),
            retest: RetestSettings::default(),
            calibration: CalibrationConfig::default(),
            calibration_runs: 365,
        }
    }
}

impl VerdictSettings {
    /// Checks every setting; the message names the setting and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        self.detectors
            .validate()
            .map_err(|e| format!("verdicts.detectors: {e}"))?;
        let needed = self.detectors.baseline.min_runs + 1;
        if self.history_runs < needed {
            return Err(format!(
                "verdicts.history_runs = {} is below the {needed} runs a baseline of \
                 verdicts.detectors.baseline.min_runs = {} needs",
                self.history_runs, self.detectors.baseline.min_runs
            ));
        }
        if self.calibration_runs == 0 {
            return Err("verdicts.calibration_runs must be at least 1".into());
        }
        self.retest.validate()
    }
}

/// One published number of a model: the main score or a dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    Main,
    Dimension(Dimension),
}

impl Series {
    /// Every series, main first.
    pub fn all() -> impl Iterator<Item = Series> {
        std::iter::once(Series::Main).chain(Dimension::ALL.into_iter().map(Series::Dimension))
    }

    /// `main` or the dimension id, as stored.
    pub fn id(self) -> &'static str {
        match self {
            Series::Main => "main",
            Series::Dimension(d) => d.id(),
        }
    }

    pub fn parse(s: &str) -> Result<Series, String> {
        if s == "main" {
            return Ok(Series::Main);
        }
        s.parse()
            .map(Series::Dimension)
            .map_err(|e| format!("unknown series `{s}`: expected main or a dimension ({e})"))
    }

    fn series_type(self) -> SeriesType {
        match self {
            Series::Main => SeriesType::Main,
            Series::Dimension(_) => SeriesType::Dimension,
        }
    }

    /// The dimensions whose items measure this series.
    pub fn dimensions(self) -> Vec<Dimension> {
        match self {
            Series::Main => vec![Dimension::CodeExecution, Dimension::Grounding],
            Series::Dimension(d) => vec![d],
        }
    }

    /// This series' score in a run with the SE of item sampling (0 when it
    /// cannot be estimated); `None` when the run has no such score.
    pub fn point(self, scores: &RunScores) -> Option<(f64, f64)> {
        let sampled = |d: Dimension| {
            scores
                .dimensions
                .get(&d)
                .and_then(|s| t_interval(&s.item_scores, LEVEL_95))
        };
        match self {
            Series::Dimension(d) => {
                let score = scores.dimension(d)?;
                Some((score, sampled(d).map_or(0.0, |i| i.se)))
            }
            Series::Main => {
                let main = scores.main.as_ref()?;
                let se = match (
                    sampled(Dimension::CodeExecution),
                    sampled(Dimension::Grounding),
                ) {
                    (Some(code), Some(grounding)) => weighted_sum(
                        &[(MAIN_WEIGHT_CODE, code), (MAIN_WEIGHT_GROUNDING, grounding)],
                        LEVEL_95,
                    )
                    .map_or(0.0, |i| i.se),
                    _ => 0.0,
                };
                Some((main.published, se))
            }
        }
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Every model's scores in one run, from the stored outcomes. Prices are not
/// read: verdicts judge scores, not cost.
pub async fn run_scores(
    store: &Store,
    run_id: i64,
) -> Result<BTreeMap<String, RunScores>, RunError> {
    let mut by_model: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for row in store.outcomes(run_id, None).await? {
        by_model
            .entry(row.model.clone())
            .or_default()
            .push(row.to_outcome());
    }
    Ok(by_model
        .into_iter()
        .map(|(model, outcomes)| (model, score_run(&outcomes, |_, _| 0.0)))
        .collect())
}

/// The stored histories of one run kind, read once per run and shared by
/// every model and series judged.
pub struct History<'a> {
    store: &'a Store,
    kind: String,
    limit: usize,
    scores: HashMap<i64, BTreeMap<String, RunScores>>,
}

impl<'a> History<'a> {
    pub fn new(store: &'a Store, kind: &str, limit: usize) -> History<'a> {
        History {
            store,
            kind: kind.to_string(),
            limit,
            scores: HashMap::new(),
        }
    }

    /// `model`'s runs of this kind up to and including `up_to`, oldest
    /// first, with their scores: at most `limit` runs.
    pub async fn runs(
        &mut self,
        model: &str,
        up_to: i64,
    ) -> Result<Vec<(i64, RunScores)>, RunError> {
        let mut ids = self
            .store
            .runs_with_model(&self.kind, model, Some(up_to + 1), self.limit as i64)
            .await?;
        ids.reverse();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if !self.scores.contains_key(&id) {
                let scores = run_scores(self.store, id).await?;
                self.scores.insert(id, scores);
            }
            if let Some(s) = self.scores[&id].get(model) {
                out.push((id, s.clone()));
            }
        }
        Ok(out)
    }

    /// `model`'s series up to `up_to` as the detectors take it.
    pub async fn series(
        &mut self,
        model: &str,
        series: Series,
        up_to: i64,
    ) -> Result<SeriesHistory, RunError> {
        // Judged dimensions only: a run whose judges drifted (or could not
        // score the calibration set) cannot move their verdicts.
        let judged = matches!(
            series,
            Series::Dimension(Dimension::Judgment | Dimension::Communication)
        );
        let mut points = Vec::new();
        for (run_id, scores) in self.runs(model, up_to).await? {
            let Some((score, se)) = series.point(&scores) else {
                continue;
            };
            let unreliable = judged
                && self
                    .store
                    .run_judges(run_id)
                    .await?
                    .iter()
                    .any(|j| j.unreliable);
            points.push(SeriesPoint {
                run_id,
                score,
                se,
                unreliable,
            });
        }
        Ok(SeriesHistory {
            model: model.to_string(),
            series: series.id().to_string(),
            series_type: series.series_type(),
            points,
        })
    }
}

/// The numbers stored with a retest once its SPRT decided, read back to
/// bring the decision into later verdicts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetestNumbers {
    pub sprt: SprtResult,
    /// Mean of the series before the suspicion (H0).
    pub baseline_mean: f64,
    /// The drop H1 assumes, points.
    pub drop: f64,
    /// The per-observation sd the test used.
    pub sd: f64,
    /// The observations in the order tested.
    pub observations: Vec<f64>,
}

/// The decided retest of `model` on `series` a verdict as of `up_to` takes
/// into account, if any.
pub async fn retest_outcome(
    store: &Store,
    kind: &str,
    model: &str,
    series: Series,
    up_to: i64,
) -> Result<Option<RetestOutcome>, RunError> {
    let Some(row) = store
        .latest_finished_retest(kind, model, series.id(), up_to)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(outcome_of(&row)?))
}

/// The stats crate's view of a finished retest.
pub(crate) fn outcome_of(row: &RetestRow) -> Result<RetestOutcome, RunError> {
    let corrupt = |why: String| {
        RunError::Store(Box::new(yardstick_store::StoreError::Corrupt {
            what: format!("retest {}: {why}", row.id),
        }))
    };
    let numbers: RetestNumbers = serde_json::from_str(row.numbers_json.as_deref().unwrap_or(""))
        .map_err(|e| corrupt(format!("its numbers do not read ({e})")))?;
    let retest_run_id = row
        .run_id
        .ok_or_else(|| corrupt("it is done but has no run".into()))?;
    Ok(RetestOutcome {
        triggered_by_run_id: row.trigger_run_id,
        retest_run_id,
        sprt: numbers.sprt,
    })
}

/// One stored verdict and what followed from it.
#[derive(Debug, Clone, Serialize)]
pub struct Assessed {
    pub verdict: VerdictRow,
    /// The verdict in force before this run (same kind, model and series).
    pub previous: Option<String>,
    /// `false` when the run had already been assessed and the stored verdict stands.
    pub new: bool,
    /// The confirmation run scheduled (or already open) for it.
    pub retest: Option<RetestRow>,
    /// Webhook deliveries of the change.
    pub alerts: Vec<AlertRow>,
}

/// A verdict as stored: its numbers, explanation and the detector's state.
pub(crate) fn verdict_columns(v: &Verdict) -> (String, String, String) {
    let numbers = serde_json::to_string(&v.evidence).expect("evidence always serializes");
    let state = serde_json::json!({
        "cusum_upper": v.evidence.cusum_upper,
        "cusum_lower": v.evidence.cusum_lower,
        "alarm": v.evidence.alarm,
        "runs_used": v.evidence.runs_used,
        "change_probability": v.evidence.change_probability,
    })
    .to_string();
    (numbers, v.explanation.clone(), state)
}

/// Whether moving from `previous` to `now` is news: any change of verdict,
/// and a first verdict that is not `noise`.
pub(crate) fn is_change(previous: Option<&str>, now: &str) -> bool {
    match previous {
        Some(p) => p != now,
        None => now != VerdictKind::Noise.as_str(),
    }
}

/// Judges every model of a completed run on every series it has a score
/// for, stores the verdicts, schedules retests and sends alerts. A
/// `retest`-kind run is not judged (its retest decides instead) and returns
/// nothing.
pub async fn assess_run(
    store: &Store,
    run_id: i64,
    settings: &VerdictSettings,
    alerter: &Alerter,
) -> Result<Vec<Assessed>, RunError> {
    settings.validate().map_err(RunError::Settings)?;
    let run: RunRow = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    if run.kind == RETEST_KIND {
        return Ok(Vec::new());
    }
    if run.status != RunStatus::Complete {
        return Err(RunError::NotComplete(run_id));
    }
    let mut history = History::new(store, &run.kind, settings.history_runs);
    let open: Vec<RetestRow> = store.open_retests().await?;
    let models = store.run_models(run_id).await?;
    // Each series is judged for the whole field at once: the field check
    // compares every model's shift with the others'.
    let mut judged: BTreeMap<(String, Series), Verdict> = BTreeMap::new();
    for series in Series::all() {
        let mut histories = Vec::new();
        let mut retests = Vec::new();
        for model in &models {
            let h = history.series(model, series, run_id).await?;
            if h.points.last().map(|p| p.run_id) != Some(run_id) {
                continue; // no score on this series today
            }
            retests.push(retest_outcome(store, &run.kind, model, series, run_id).await?);
            histories.push(h);
        }
        let input: Vec<_> = histories
            .iter()
            .zip(&retests)
            .map(|(h, r)| (h, r.as_ref()))
            .collect();
        for v in verdicts_in_field(&input, &settings.detectors)
            .map_err(|e| RunError::Settings(format!("judging {series} in run #{run_id}: {e}")))?
        {
            judged.insert((v.model.clone(), series), v);
        }
    }
    let mut out = Vec::new();
    for model in models {
        for series in Series::all() {
            let Some(v) = judged.remove(&(model.clone(), series)) else {
                continue;
            };
            let previous = store
                .previous_verdict(&run.kind, &model, series.id(), run_id)
                .await?
                .map(|p| p.verdict);
            let (numbers_json, explanation, detector_state_json) = verdict_columns(&v);
            let (mut row, new) = store
                .insert_verdict(&NewVerdict {
                    run_id,
                    model: model.clone(),
                    series: series.id().to_string(),
                    verdict: v.kind.as_str().to_string(),
                    numbers_json,
                    explanation,
                    detector_state_json,
                    created_at: now_ms(),
                })
                .await?;
            let mut scheduled = None;
            let mut alerts = Vec::new();
            if new {
                let already_open = open
                    .iter()
                    .find(|r| r.model == model && r.series == series.id())
                    .cloned();
                if v.kind.wants_retest() && !v.evidence.retest_counted {
                    scheduled = Some(match already_open {
                        Some(r) => r,
                        None => {
                            let r = store
                                .schedule_retest(&NewRetest {
                                    verdict_id: row.id,
                                    model: model.clone(),
                                    series: series.id().to_string(),
                                    items: settings.retest.items,
                                    epochs: settings.retest.epochs,
                                    created_at: now_ms(),
                                })
                                .await?;
                            row.retest_id = Some(r.id);
                            r
                        }
                    });
                }
                if is_change(previous.as_deref(), &row.verdict) {
                    alerts = alerter.notify(store, &row, previous.as_deref()).await?;
                }
            } else if let Some(id) = row.retest_id {
                scheduled = store.get_retest(id).await?;
            }
            out.push(Assessed {
                verdict: row,
                previous,
                new,
                retest: scheduled,
                alerts,
            });
        }
    }
    Ok(out)
}
