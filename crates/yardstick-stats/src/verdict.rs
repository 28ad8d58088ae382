//! Verdicts: one pure function from a series' history (a model's main score
//! or one dimension, one score with its SE per run), the detector
//! configuration and an optional confirmation-run outcome to a [`Verdict`]
//! that carries the numbers that produced it and a plain-language paragraph.
//!
//! Rules, evaluated on the runs not marked unreliable:
//! - fewer runs than a baseline needs → `noise` (nothing can be claimed yet);
//! - the latest CUSUM alarm within the last `recent_runs` runs decides:
//!   downward → `likely_degradation`, upward → `improvement`;
//! - otherwise `watch` when the downward sum reached `watch_fraction · h`, or
//!   when change-point detection gives P(change in the last `recent_runs`
//!   runs) ≥ `watch_change_probability` and the recent runs lie below the baseline;
//! - otherwise `noise`;
//! - a confirmation run triggered within the last `recent_runs` runs turns a
//!   suspicion into `confirmed_degradation` (SPRT confirmed) or `noise`
//!   (SPRT cleared); undecided leaves the suspicion standing.
//!
//! Runs marked unreliable (their judge drifted) are left out entirely, so they
//! cannot change a verdict: the verdict is the one the reliable runs give.

use crate::day_effect::{against_others, AgainstOthers};
use crate::detect::{
    change_probabilities, standardised_residuals, Baseline, BaselineConfig, BocpdConfig,
    CusumConfig, CusumState, Direction, Observation, Residual,
};
use crate::interval::{critical_value, LEVEL_95};
use crate::sprt::{ContinuousSprt, PassFailSprt, SprtConfig, SprtDecision, SprtError, SprtResult};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The five verdicts, in the words the index publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Noise,
    Watch,
    LikelyDegradation,
    ConfirmedDegradation,
    Improvement,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 5] = [
        VerdictKind::Noise,
        VerdictKind::Watch,
        VerdictKind::LikelyDegradation,
        VerdictKind::ConfirmedDegradation,
        VerdictKind::Improvement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Noise => "noise",
            VerdictKind::Watch => "watch",
            VerdictKind::LikelyDegradation => "likely_degradation",
            VerdictKind::ConfirmedDegradation => "confirmed_degradation",
            VerdictKind::Improvement => "improvement",
        }
    }

    /// Whether this verdict asks for a confirmation run (retest).
    pub fn wants_retest(self) -> bool {
        matches!(self, VerdictKind::Watch | VerdictKind::LikelyDegradation)
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VerdictKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerdictKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown verdict '{s}': expected one of noise, watch, likely_degradation, confirmed_degradation, improvement"
                )
            })
    }
}

/// Series types with their own CUSUM thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesType {
    /// The main (composite) score: about ten items a run.
    Main,
    /// One dimension: often only one to three items a run.
    Dimension,
}

/// One run of a series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub run_id: i64,
    pub score: f64,
    /// Standard error of `score` from item sampling.
    pub se: f64,
    /// The run's judged scores were marked unreliable (judge drift): the run
    /// is shown but cannot change a verdict.
    pub unreliable: bool,
}

/// A model's history on one series, oldest run first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesHistory {
    pub model: String,
    /// "main" or the dimension's name.
    pub series: String,
    pub series_type: SeriesType,
    pub points: Vec<SeriesPoint>,
}

/// The outcome of a confirmation run and the run whose verdict triggered it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetestOutcome {
    /// The run whose `watch` / `likely_degradation` verdict scheduled the retest.
    pub triggered_by_run_id: i64,
    /// The confirmation run itself.
    pub retest_run_id: i64,
    pub sprt: SprtResult,
}

/// Detector settings (the `[verdicts]` thresholds). Defaults were chosen with
/// the simulator; the evidence is in `docs/METHODS.md` ("Defaults and their evidence").
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerdictConfig {
    /// CUSUM for main-score series.
    pub main: CusumConfig,
    /// CUSUM for dimension series.
    pub dimension: CusumConfig,
    pub baseline: BaselineConfig,
    /// Run Bayesian online change-point detection (it can raise `watch`).
    pub change_point_enabled: bool,
    pub change_point: BocpdConfig,
    /// An alarm, and a retest triggered, this many runs ago or fewer still count.
    pub recent_runs: usize,
    /// `watch` when the downward CUSUM sum reaches this fraction of h.
    pub watch_fraction: f64,
    /// `watch` when P(change in the last `recent_runs` runs) reaches this.
    pub watch_change_probability: f64,
    /// How confirmation runs are tested.
    pub retest: RetestConfig,
    /// The field check ([`verdicts_in_field`]) needs at least this many
    /// other models judged on the same run; 0 turns it off.
    pub field_min_others: usize,
}

/// The confirmation run's test: H0 "as the baseline" against H1 "lower by
/// the drop the series shows" (at least `min_drop` points).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetestConfig {
    /// Smallest drop (points on 0–100) the test looks for, so that a tiny
    /// shortfall does not make H0 and H1 indistinguishable.
    pub min_drop: f64,
    pub sprt: SprtConfig,
}

impl Default for RetestConfig {
    fn default() -> Self {
        RetestConfig {
            min_drop: 10.0,
            sprt: SprtConfig::default(),
        }
    }
}

impl Default for VerdictConfig {
    fn default() -> Self {
        VerdictConfig {
            main: CusumConfig { k: 0.5, h: 6.0 },
            dimension: CusumConfig { k: 0.5, h: 9.0 },
            baseline: BaselineConfig::default(),
            change_point_enabled: true,
            change_point: BocpdConfig::default(),
            recent_runs: 7,
            watch_fraction: 0.6,
            watch_change_probability: 0.8,
            retest: RetestConfig::default(),
            field_min_others: 2,
        }
    }
}

/// Why no verdict could be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum VerdictError {
    #[error("verdict settings: {0}")]
    Config(String),
    #[error("{model} / {series}: the verdict as of run #{run_id} has no baseline yet, so a confirmation run has nothing to test against")]
    NoBaseline {
        model: String,
        series: String,
        run_id: i64,
    },
    #[error("{model} / {series}: confirmation test: {source}")]
    Retest {
        model: String,
        series: String,
        source: SprtError,
    },
    #[error("{model} / {series}: no runs in the history, so there is nothing to judge")]
    EmptyHistory { model: String, series: String },
    #[error("{model} / {series}, run #{run_id}: score {score} with SE {se} is not a finite score with a finite SE ≥ 0; fix the stored score before judging the series")]
    BadPoint {
        model: String,
        series: String,
        run_id: i64,
        score: f64,
        se: f64,
    },
    #[error("{model} / {series}: run #{run_id} comes after run #{previous}; the history must be oldest first with each run once")]
    Order {
        model: String,
        series: String,
        run_id: i64,
        previous: i64,
    },
}

impl VerdictConfig {
    pub fn cusum(&self, series_type: SeriesType) -> &CusumConfig {
        match series_type {
            SeriesType::Main => &self.main,
            SeriesType::Dimension => &self.dimension,
        }
    }

    /// Checks every setting; the message names the setting and the allowed range.
    pub fn validate(&self) -> Result<(), VerdictError> {
        let bad = |what: String| Err(VerdictError::Config(what));
        for (name, c) in [("main", &self.main), ("dimension", &self.dimension)] {
            if !(c.k >= 0.0 && c.k.is_finite()) {
                return bad(format!("{name}.k = {} must be ≥ 0", c.k));
            }
            if !(c.h > 0.0 && c.h.is_finite()) {
                return bad(format!("{name}.h = {} must be > 0", c.h));
            }
        }
        let b = &self.baseline;
        if b.min_runs < 2 || b.window < b.min_runs {
            return bad(format!(
                "baseline.min_runs = {} must be ≥ 2 and ≤ baseline.window = {}",
                b.min_runs, b.window
            ));
        }
        if self.recent_runs == 0 {
            return bad("recent_runs must be ≥ 1".into());
        }
        if !(self.watch_fraction > 0.0 && self.watch_fraction <= 1.0) {
            return bad(format!(
                "watch_fraction = {} must be in (0, 1]",
                self.watch_fraction
            ));
        }
        if !(self.watch_change_probability > 0.0 && self.watch_change_probability <= 1.0) {
            return bad(format!(
                "watch_change_probability = {} must be in (0, 1]",
                self.watch_change_probability
            ));
        }
        if !(self.retest.min_drop > 0.0 && self.retest.min_drop < 100.0) {
            return bad(format!(
                "retest.min_drop = {} must be in (0, 100) points",
                self.retest.min_drop
            ));
        }
        let c = &self.change_point;
        if !(c.expected_run_length > 1.0 && c.expected_run_length.is_finite()) {
            return bad(format!(
                "change_point.expected_run_length = {} must be > 1",
                c.expected_run_length
            ));
        }
        if !(c.new_level_sd > 0.0 && c.new_level_sd.is_finite()) {
            return bad(format!(
                "change_point.new_level_sd = {} must be > 0",
                c.new_level_sd
            ));
        }
        if c.recent_runs == 0 || c.max_hypotheses <= c.recent_runs + 1 {
            return bad(format!(
                "change_point.recent_runs = {} must be ≥ 1 and change_point.max_hypotheses = {} above recent_runs + 1",
                c.recent_runs, c.max_hypotheses
            ));
        }
        Ok(())
    }
}

/// The most recent CUSUM alarm that still counts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub direction: Direction,
    pub run_id: i64,
    /// 0 = the latest reliable run.
    pub runs_ago: usize,
}

/// The numbers a verdict was computed from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The latest reliable run (None when every run is unreliable).
    pub evidence_run_id: Option<i64>,
    /// Reliable runs in the history.
    pub runs_used: usize,
    /// Runs left out because they were marked unreliable.
    pub unreliable_runs_excluded: usize,
    /// Score and SE of the latest reliable run.
    pub score: Option<f64>,
    pub se: Option<f64>,
    /// Baseline the latest reliable run was compared with.
    pub baseline: Option<Baseline>,
    /// Its standardised residual.
    pub z: Option<f64>,
    /// Mean score of the last `recent_runs` reliable runs minus the baseline mean.
    pub recent_shift: Option<f64>,
    /// Its standard error (sampling and day-to-day spread of those runs, and
    /// the uncertainty of the baseline mean).
    #[serde(default)]
    pub recent_shift_se: Option<f64>,
    /// The same recent shift of the other models judged on this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldEvidence>,
    pub cusum: CusumConfig,
    /// CUSUM sums after the latest reliable run.
    pub cusum_upper: f64,
    pub cusum_lower: f64,
    /// The downward sum at which `watch` starts (watch_fraction · h).
    pub watch_level: f64,
    pub alarm: Option<Alarm>,
    /// P(change in the last `change_point.recent_runs` runs), when enabled and computable.
    pub change_probability: Option<f64>,
    pub retest: Option<RetestOutcome>,
    /// Whether the retest was recent enough to count.
    pub retest_counted: bool,
}

/// This model's recent shift against the other models' on the same runs
/// (same items), and whether the field accounts for the detectors' signal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldEvidence {
    #[serde(flatten)]
    pub against: AgainstOthers,
    /// The others moved the same way significantly and this model not
    /// significantly more: a drop is lowered to `watch`, a rise to `noise`.
    pub explains_move: bool,
}

/// A verdict on one series as of its latest run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub model: String,
    pub series: String,
    pub series_type: SeriesType,
    pub kind: VerdictKind,
    /// The latest run in the history: the verdict holds as of this run.
    pub run_id: i64,
    pub evidence: Evidence,
    /// One paragraph in plain language, built from `evidence`.
    pub explanation: String,
}

impl Verdict {
    /// Baseline level and the drop a confirmation run should test for.
    fn retest_hypotheses(&self, config: &RetestConfig) -> Result<(f64, f64), VerdictError> {
        let baseline = self
            .evidence
            .baseline
            .ok_or_else(|| VerdictError::NoBaseline {
                model: self.model.clone(),
                series: self.series.clone(),
                run_id: self.run_id,
            })?;
        let shown = -self.evidence.recent_shift.unwrap_or(0.0);
        Ok((baseline.mean, shown.max(config.min_drop)))
    }

    fn retest_error(&self, source: SprtError) -> VerdictError {
        VerdictError::Retest {
            model: self.model.clone(),
            series: self.series.clone(),
            source,
        }
    }

    /// The SPRT for a confirmation run of pass/fail items: p0 = baseline / 100
    /// kept within [0.02, 0.99] (a history of only passes does not make a
    /// failure impossible), p1 = p0 − drop / 100 but at least 0.01.
    pub fn pass_fail_retest(&self, config: &RetestConfig) -> Result<PassFailSprt, VerdictError> {
        let (mean, drop) = self.retest_hypotheses(config)?;
        let p0 = (mean / 100.0).clamp(0.02, 0.99);
        let p1 = (p0 - drop / 100.0).max(0.01);
        PassFailSprt::new(p0, p1, config.sprt).map_err(|e| self.retest_error(e))
    }

    /// The SPRT for a confirmation run of 0–100 items whose scores spread by
    /// `item_sd` points around their mean (from the items' history).
    pub fn continuous_retest(
        &self,
        item_sd: f64,
        config: &RetestConfig,
    ) -> Result<ContinuousSprt, VerdictError> {
        let (mean, drop) = self.retest_hypotheses(config)?;
        ContinuousSprt::new(mean, drop, item_sd, config.sprt).map_err(|e| self.retest_error(e))
    }
}

/// The verdict on `history` as of its latest run.
pub fn verdict(
    history: &SeriesHistory,
    config: &VerdictConfig,
    retest: Option<&RetestOutcome>,
) -> Result<Verdict, VerdictError> {
    let detection = Detection::new(history, config)?;
    Ok(detection.verdict_at(history.points.len() - 1, retest, None))
}

/// The verdicts of one series for every model judged on the same run (each
/// history ends with that run), with the field check: a model's recent
/// shift is compared with the mean shift of the others (leave one out), and
/// an alarm the whole field shares — the items, the harness or a judge
/// changed, not the model — is lowered (`likely_degradation` → `watch`,
/// `improvement` → `noise`). Models whose latest run is unreliable or has no
/// baseline take no part.
pub fn verdicts_in_field(
    series: &[(&SeriesHistory, Option<&RetestOutcome>)],
    config: &VerdictConfig,
) -> Result<Vec<Verdict>, VerdictError> {
    let detections = series
        .iter()
        .map(|(h, _)| Detection::new(h, config))
        .collect::<Result<Vec<_>, _>>()?;
    let moves: Vec<Option<(f64, f64)>> = detections.iter().map(Detection::latest_shift).collect();
    Ok(detections
        .iter()
        .zip(series)
        .enumerate()
        .map(|(i, (d, (h, retest)))| {
            let field = (config.field_min_others > 0)
                .then(|| against_others(&moves, i, config.field_min_others))
                .flatten();
            d.verdict_at(h.points.len() - 1, *retest, field)
        })
        .collect())
}

/// Whether the other models' shift accounts for what the detectors saw: they
/// moved the same way significantly (95%, two-sided) and this model did not
/// move significantly further.
fn field_explains(kind: VerdictKind, a: &AgainstOthers) -> bool {
    let z = critical_value(LEVEL_95, None);
    let others_z = a.others_move / a.others_se;
    let relative_z = a.relative / a.relative_se;
    match kind {
        VerdictKind::LikelyDegradation => others_z <= -z && relative_z > -z,
        VerdictKind::Improvement => others_z >= z && relative_z < z,
        _ => false,
    }
}

/// The verdict as of every run of `history` (no retests): what the
/// detectors would have said day by day. One pass over the series.
pub fn verdicts_over_time(
    history: &SeriesHistory,
    config: &VerdictConfig,
) -> Result<Vec<Verdict>, VerdictError> {
    let detection = Detection::new(history, config)?;
    Ok((0..history.points.len())
        .map(|i| detection.verdict_at(i, None, None))
        .collect())
}

/// Detector output for every reliable run of one series.
struct Detection<'a> {
    history: &'a SeriesHistory,
    config: &'a VerdictConfig,
    cusum: CusumConfig,
    /// Index into `history.points` of each reliable run.
    reliable: Vec<usize>,
    observations: Vec<Observation>,
    residuals: Vec<Option<Residual>>,
    states: Vec<CusumState>,
    change: Vec<Option<f64>>,
}

impl<'a> Detection<'a> {
    fn new(history: &'a SeriesHistory, config: &'a VerdictConfig) -> Result<Self, VerdictError> {
        config.validate()?;
        let name = || (history.model.clone(), history.series.clone());
        if history.points.is_empty() {
            let (model, series) = name();
            return Err(VerdictError::EmptyHistory { model, series });
        }
        for (i, p) in history.points.iter().enumerate() {
            if !(p.score.is_finite() && p.se.is_finite() && p.se >= 0.0) {
                let (model, series) = name();
                return Err(VerdictError::BadPoint {
                    model,
                    series,
                    run_id: p.run_id,
                    score: p.score,
                    se: p.se,
                });
            }
            if i > 0 && history.points[i - 1].run_id >= p.run_id {
                let (model, series) = name();
                return Err(VerdictError::Order {
                    model,
                    series,
                    run_id: p.run_id,
                    previous: history.points[i - 1].run_id,
                });
            }
        }
        let reliable: Vec<usize> = (0..history.points.len())
            .filter(|&i| !history.points[i].unreliable)
            .collect();
        let observations: Vec<Observation> = reliable
            .iter()
            .map(|&i| Observation {
                score: history.points[i].score,
                se: history.points[i].se,
            })
            .collect();
        let residuals = standardised_residuals(&observations, &config.baseline);
        let cusum = *config.cusum(history.series_type);
        let states = cusum.run(residuals.iter().map(|r| r.map(|r| r.z)));
        let change = if config.change_point_enabled {
            change_probabilities(&observations, &residuals, &config.change_point)
        } else {
            vec![None; observations.len()]
        };
        Ok(Detection {
            history,
            config,
            cusum,
            reliable,
            observations,
            residuals,
            states,
            change,
        })
    }

    /// The verdict as of `history.points[at]`.
    fn verdict_at(
        &self,
        at: usize,
        retest: Option<&RetestOutcome>,
        field: Option<AgainstOthers>,
    ) -> Verdict {
        let config = self.config;
        let points = &self.history.points;
        // Reliable runs up to and including `at`.
        let used = self.reliable.partition_point(|&i| i <= at);
        let unreliable_runs_excluded = at + 1 - used;
        let mut evidence = Evidence {
            evidence_run_id: None,
            runs_used: used,
            unreliable_runs_excluded,
            score: None,
            se: None,
            baseline: None,
            z: None,
            recent_shift: None,
            recent_shift_se: None,
            field: None,
            cusum: self.cusum,
            cusum_upper: 0.0,
            cusum_lower: 0.0,
            watch_level: config.watch_fraction * self.cusum.h,
            alarm: None,
            change_probability: None,
            retest: retest.copied(),
            retest_counted: false,
        };
        let mut kind = VerdictKind::Noise;
        if let Some(t) = used.checked_sub(1) {
            let point = &points[self.reliable[t]];
            evidence.evidence_run_id = Some(point.run_id);
            evidence.score = Some(point.score);
            evidence.se = Some(point.se);
            let state = self.states[t];
            evidence.cusum_upper = state.upper;
            evidence.cusum_lower = state.lower;
            if let Some(residual) = self.residuals[t] {
                evidence.baseline = Some(residual.baseline);
                evidence.z = Some(residual.z);
                let from = (t + 1).saturating_sub(config.recent_runs);
                let (shift, shift_var) = self.recent_shift(t, &residual.baseline);
                evidence.recent_shift = Some(shift);
                evidence.recent_shift_se = Some(shift_var.sqrt());
                evidence.change_probability = self.change[t];
                evidence.alarm = (from..=t).rev().find_map(|i| {
                    self.states[i].alarm.map(|direction| Alarm {
                        direction,
                        run_id: points[self.reliable[i]].run_id,
                        runs_ago: t - i,
                    })
                });
                kind = self.suspicion(&evidence);
                if let Some(against) = field {
                    let explains_move = field_explains(kind, &against);
                    if explains_move {
                        kind = match kind {
                            VerdictKind::LikelyDegradation => VerdictKind::Watch,
                            VerdictKind::Improvement => VerdictKind::Noise,
                            other => other,
                        };
                    }
                    evidence.field = Some(FieldEvidence {
                        against,
                        explains_move,
                    });
                }
            }
            if let Some(retest) = retest {
                // Fresh when the triggering run is among the last `recent_runs` reliable runs.
                let from = (t + 1).saturating_sub(config.recent_runs);
                evidence.retest_counted = self.reliable[from..=t]
                    .iter()
                    .any(|&i| points[i].run_id == retest.triggered_by_run_id);
                if evidence.retest_counted {
                    kind = match (retest.sprt.decision, kind) {
                        (_, VerdictKind::Improvement) => kind,
                        (SprtDecision::Confirmed, _) => VerdictKind::ConfirmedDegradation,
                        (SprtDecision::Cleared, VerdictKind::Watch)
                        | (SprtDecision::Cleared, VerdictKind::LikelyDegradation) => {
                            VerdictKind::Noise
                        }
                        _ => kind,
                    };
                }
            }
        }
        let explanation = explain(self.history, points[at].run_id, kind, &evidence, config);
        Verdict {
            model: self.history.model.clone(),
            series: self.history.series.clone(),
            series_type: self.history.series_type,
            kind,
            run_id: points[at].run_id,
            evidence,
            explanation,
        }
    }

    /// The mean of the last `recent_runs` reliable runs up to reliable run
    /// `t` minus the baseline mean, with its variance (those runs' sampling
    /// and day-to-day spread, and the uncertainty of the baseline mean).
    fn recent_shift(&self, t: usize, b: &Baseline) -> (f64, f64) {
        let from = (t + 1).saturating_sub(self.config.recent_runs);
        let recent = &self.observations[from..=t];
        let n = recent.len() as f64;
        let mean = recent.iter().map(|o| o.score).sum::<f64>() / n;
        let var = recent.iter().map(|o| b.run_variance(o.se)).sum::<f64>() / (n * n)
            + (b.sampling_var + b.tau2) / b.runs as f64;
        (mean - b.mean, var)
    }

    /// The recent shift as of the history's latest run, when that run is
    /// reliable and has a baseline: what the field check compares.
    fn latest_shift(&self) -> Option<(f64, f64)> {
        let t = self.reliable.len().checked_sub(1)?;
        if self.reliable[t] != self.history.points.len() - 1 {
            return None;
        }
        let residual = self.residuals[t]?;
        Some(self.recent_shift(t, &residual.baseline))
    }

    /// What the detectors alone say.
    fn suspicion(&self, evidence: &Evidence) -> VerdictKind {
        match evidence.alarm.map(|a| a.direction) {
            Some(Direction::Down) => VerdictKind::LikelyDegradation,
            Some(Direction::Up) => VerdictKind::Improvement,
            None => {
                let below = evidence.recent_shift.is_some_and(|s| s < 0.0);
                let change = evidence
                    .change_probability
                    .is_some_and(|p| p >= self.config.watch_change_probability);
                if evidence.cusum_lower >= evidence.watch_level || (change && below) {
                    VerdictKind::Watch
                } else {
                    VerdictKind::Noise
                }
            }
        }
    }
}

/// The plain-language paragraph: what was measured, against what, and why
/// that is (or is not) more than sampling noise.
fn explain(
    history: &SeriesHistory,
    run_id: i64,
    kind: VerdictKind,
    e: &Evidence,
    config: &VerdictConfig,
) -> String {
    use std::fmt::Write;
    let subject = format!("{}'s {} score", history.model, history.series);
    let mut text = String::new();
    let (Some(evidence_run), Some(score), Some(se)) = (e.evidence_run_id, e.score, e.se) else {
        return format!(
            "Noise: every run of {subject} up to run #{run_id} was marked unreliable (judge drift), so nothing can be concluded."
        );
    };
    let Some(baseline) = e.baseline else {
        let needed = config.baseline.min_runs + config.baseline.exclude_recent + 1;
        let _ = write!(
            text,
            "Noise: {subject} has {} reliable run(s); a verdict needs at least {needed} ({} for a baseline plus the {} most recent runs, which the baseline leaves out). Run #{evidence_run} scored {score:.1} ± {se:.1} (SE).",
            e.runs_used, config.baseline.min_runs, config.baseline.exclude_recent
        );
        add_unreliable_note(&mut text, e);
        return text;
    };
    let label = match kind {
        VerdictKind::Noise => "Noise",
        VerdictKind::Watch => "Watch",
        VerdictKind::LikelyDegradation => "Likely degradation",
        VerdictKind::ConfirmedDegradation => "Confirmed degradation",
        VerdictKind::Improvement => "Improvement",
    };
    let _ = write!(
        text,
        "{label}: run #{evidence_run} put {subject} at {score:.1} ± {se:.1} (SE) against a baseline of {:.1} from {} earlier runs (day-to-day spread beyond item sampling τ = {:.1}); standardised, that run is z = {:+.2}, and the last {} runs average {:+.1} points from the baseline.",
        baseline.mean,
        baseline.runs,
        baseline.tau2.sqrt(),
        e.z.unwrap_or(0.0),
        config.recent_runs.min(e.runs_used),
        e.recent_shift.unwrap_or(0.0),
    );
    match e.alarm {
        Some(alarm) => {
            let (way, sum) = match alarm.direction {
                Direction::Down => ("downward", "shortfall"),
                Direction::Up => ("upward", "gain"),
            };
            let _ = write!(
                text,
                " The {way} CUSUM (k = {}, h = {}) raised an alarm at run #{} ({} run(s) ago): the {sum} accumulated over consecutive runs crossed a threshold that sampling and day-to-day noise alone rarely reach.",
                e.cusum.k, e.cusum.h, alarm.run_id, alarm.runs_ago
            );
        }
        None => {
            let _ = write!(
                text,
                " The CUSUM sums stand at {:.2} down and {:.2} up, below the alarm threshold h = {} (watch from {:.1} down).",
                e.cusum_lower, e.cusum_upper, e.cusum.h, e.watch_level
            );
        }
    }
    if let Some(f) = &e.field {
        let a = &f.against;
        let _ = write!(
            text,
            " Over the same runs the other {} model(s) moved {:+.1} ± {:.1} on average; relative to them {} moved {:+.1} ± {:.1} (p = {:.3}).",
            a.others, a.others_move, a.others_se, history.model, a.relative, a.relative_se, a.relative_p
        );
        if f.explains_move {
            text.push_str(if a.others_move < 0.0 {
                " The whole field dropped with it, which points at the items, the harness or a judge rather than this model, so the alarm is kept at watch."
            } else {
                " The whole field rose with it (easier items or a harness change), so it is not counted as an improvement."
            });
        }
    }
    if let Some(p) = e.change_probability {
        let _ = write!(
            text,
            " Change-point detection puts the probability of a level change in the last {} runs at {:.0}%.",
            config.change_point.recent_runs,
            100.0 * p
        );
    }
    if let Some(retest) = &e.retest {
        let s = &retest.sprt;
        if e.retest_counted {
            let outcome = match s.decision {
                SprtDecision::Confirmed => "confirmed the drop",
                SprtDecision::Cleared => "cleared it: the model performed as before",
                SprtDecision::Undecided => "was undecided",
            };
            let _ = write!(
                text,
                " Confirmation run #{} {outcome} (SPRT log-likelihood ratio {:.2} after {} of {} items; confirm at ≥ {:.2}, clear at ≤ {:.2}).",
                retest.retest_run_id, s.log_likelihood_ratio, s.items_used, s.items_available, s.confirm_bound, s.clear_bound
            );
        } else {
            let _ = write!(
                text,
                " Confirmation run #{} was triggered by run #{}, which is not among the last {} reliable runs, so it does not count.",
                retest.retest_run_id, retest.triggered_by_run_id, config.recent_runs
            );
        }
    } else if kind.wants_retest() {
        text.push_str(" A confirmation run should decide.");
    }
    add_unreliable_note(&mut text, e);
    if run_id != evidence_run {
        let _ = write!(
            text,
            " Runs after #{evidence_run} up to #{run_id} were marked unreliable and do not count."
        );
    }
    text
}

fn add_unreliable_note(text: &mut String, e: &Evidence) {
    use std::fmt::Write;
    if e.unreliable_runs_excluded > 0 {
        let _ = write!(
            text,
            " {} run(s) marked unreliable (judge drift) were left out.",
            e.unreliable_runs_excluded
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprt::{ContinuousSprt, SprtConfig};

    fn history(scores: &[f64], se: f64) -> SeriesHistory {
        SeriesHistory {
            model: "m".into(),
            series: "main".into(),
            series_type: SeriesType::Main,
            points: scores
                .iter()
                .enumerate()
                .map(|(i, &score)| SeriesPoint {
                    run_id: i as i64 + 1,
                    score,
                    se,
                    unreliable: false,
                })
                .collect(),
        }
    }

    /// A stable history alternating around 80 (sd 3), SE 5.
    fn stable(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 80.0 + [3.0, -3.0, 1.0, -1.0][i % 4])
            .collect()
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in VerdictKind::ALL {
            assert_eq!(kind.as_str().parse::<VerdictKind>(), Ok(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
        }
        assert!("degraded"
            .parse::<VerdictKind>()
            .unwrap_err()
            .contains("degraded"));
    }

    #[test]
    fn short_histories_are_noise_with_a_reason() {
        let v = verdict(
            &history(&[80.0, 20.0], 5.0),
            &VerdictConfig::default(),
            None,
        )
        .unwrap();
        assert_eq!(v.kind, VerdictKind::Noise);
        assert!(
            v.explanation.contains("needs at least 18"),
            "{}",
            v.explanation
        );
    }

    #[test]
    fn stable_series_is_noise_and_a_sustained_drop_is_likely_then_confirmed() {
        let config = VerdictConfig::default();
        let mut scores = stable(40);
        let v = verdict(&history(&scores, 5.0), &config, None).unwrap();
        assert_eq!(v.kind, VerdictKind::Noise, "{}", v.explanation);
        scores.extend([62.0; 4]);
        let h = history(&scores, 5.0);
        let v = verdict(&h, &config, None).unwrap();
        assert_eq!(v.kind, VerdictKind::LikelyDegradation, "{}", v.explanation);
        assert_eq!(v.evidence.alarm.unwrap().direction, Direction::Down);
        assert!(v.explanation.contains("A confirmation run should decide"));
        let sprt = ContinuousSprt::new(80.0, 15.0, 20.0, SprtConfig::default()).unwrap();
        let retest = RetestOutcome {
            triggered_by_run_id: v.run_id,
            retest_run_id: 1000,
            sprt: sprt.test(&[55.0; 30]),
        };
        let confirmed = verdict(&h, &config, Some(&retest)).unwrap();
        assert_eq!(confirmed.kind, VerdictKind::ConfirmedDegradation);
        assert!(confirmed.explanation.contains("confirmed the drop"));
        let cleared = RetestOutcome {
            sprt: sprt.test(&[82.0; 30]),
            ..retest
        };
        assert_eq!(
            verdict(&h, &config, Some(&cleared)).unwrap().kind,
            VerdictKind::Noise
        );
        // A retest triggered long ago does not count.
        let stale = RetestOutcome {
            triggered_by_run_id: 3,
            ..retest
        };
        let v = verdict(&h, &config, Some(&stale)).unwrap();
        assert_eq!(v.kind, VerdictKind::LikelyDegradation);
        assert!(v.explanation.contains("does not count"));
    }

    #[test]
    fn a_drop_the_whole_field_shares_is_kept_at_watch() {
        let config = VerdictConfig::default();
        let named = |model: &str, scores: &[f64]| SeriesHistory {
            model: model.into(),
            ..history(scores, 5.0)
        };
        let dropped: Vec<f64> = stable(40).into_iter().chain([62.0; 4]).collect();
        let steady = stable(44);
        // Everyone drops 18 points on the same runs: the items or the harness.
        let field: Vec<SeriesHistory> = ["a", "b", "c", "d"]
            .iter()
            .map(|m| named(m, &dropped))
            .collect();
        let input: Vec<_> = field.iter().map(|h| (h, None)).collect();
        let alone = verdict(&field[0], &config, None).unwrap();
        assert_eq!(alone.kind, VerdictKind::LikelyDegradation);
        for v in verdicts_in_field(&input, &config).unwrap() {
            assert_eq!(v.kind, VerdictKind::Watch, "{}", v.explanation);
            let f = v.evidence.field.unwrap();
            assert!(f.explains_move);
            assert_eq!(f.against.others, 3);
            assert!(f.against.relative.abs() < 1e-9);
            assert!(
                v.explanation.contains("whole field dropped"),
                "{}",
                v.explanation
            );
        }
        // One model drops while three hold: its alarm stands.
        let field = [
            named("a", &dropped),
            named("b", &steady),
            named("c", &steady),
            named("d", &steady),
        ];
        let input: Vec<_> = field.iter().map(|h| (h, None)).collect();
        let verdicts = verdicts_in_field(&input, &config).unwrap();
        assert_eq!(verdicts[0].kind, VerdictKind::LikelyDegradation);
        let f = verdicts[0].evidence.field.unwrap();
        // Four of the last seven runs 18 points down: a recent shift of about −10.
        assert!(!f.explains_move && f.against.relative < -8.0 && f.against.relative_p < 0.01);
        assert!(verdicts[1..].iter().all(|v| v.kind == VerdictKind::Noise));
        // Too few others to speak for the field: no field check.
        let input: Vec<_> = field[..2].iter().map(|h| (h, None)).collect();
        let verdicts = verdicts_in_field(&input, &config).unwrap();
        assert!(verdicts[0].evidence.field.is_none());
        assert_eq!(verdicts[0].kind, VerdictKind::LikelyDegradation);
    }

    #[test]
    fn retests_test_the_drop_the_series_shows_against_its_baseline() {
        let config = VerdictConfig::default();
        let mut scores = stable(40);
        scores.extend([50.0; 4]);
        let v = verdict(&history(&scores, 5.0), &config, None).unwrap();
        let baseline = v.evidence.baseline.unwrap().mean;
        let shown = -v.evidence.recent_shift.unwrap();
        assert!(shown > config.retest.min_drop, "{shown}");
        let continuous = v.continuous_retest(25.0, &config.retest).unwrap();
        assert_eq!((continuous.mean, continuous.drop), (baseline, shown));
        let pass_fail = v.pass_fail_retest(&config.retest).unwrap();
        assert!((pass_fail.p0 - baseline / 100.0).abs() < 1e-12);
        assert!((pass_fail.p1 - (baseline - shown) / 100.0).abs() < 1e-12);
        // A small shortfall is tested as the minimum drop.
        let quiet = verdict(&history(&stable(40), 5.0), &config, None).unwrap();
        assert_eq!(
            quiet.continuous_retest(25.0, &config.retest).unwrap().drop,
            10.0
        );
        // No baseline, no test; a bad item spread is named.
        let short = verdict(&history(&[80.0], 5.0), &config, None).unwrap();
        assert!(matches!(
            short.pass_fail_retest(&config.retest),
            Err(VerdictError::NoBaseline { run_id: 1, .. })
        ));
        let err = v.continuous_retest(0.0, &config.retest).unwrap_err();
        assert!(
            err.to_string().contains("m / main: confirmation test"),
            "{err}"
        );
    }

    #[test]
    fn a_rise_is_an_improvement() {
        let mut scores = stable(40);
        scores.extend([97.0; 4]);
        let v = verdict(&history(&scores, 5.0), &VerdictConfig::default(), None).unwrap();
        assert_eq!(v.kind, VerdictKind::Improvement, "{}", v.explanation);
    }

    #[test]
    fn unreliable_runs_cannot_change_the_verdict() {
        let config = VerdictConfig::default();
        let mut h = history(&stable(40), 5.0);
        let before = verdict(&h, &config, None).unwrap();
        for (i, score) in [10.0, 5.0, 0.0].into_iter().enumerate() {
            h.points.push(SeriesPoint {
                run_id: 41 + i as i64,
                score,
                se: 5.0,
                unreliable: true,
            });
        }
        let after = verdict(&h, &config, None).unwrap();
        assert_eq!(after.kind, before.kind);
        assert_eq!(after.run_id, 43);
        assert_eq!(after.evidence.evidence_run_id, Some(40));
        assert_eq!(after.evidence.unreliable_runs_excluded, 3);
        assert!(after.explanation.contains("do not count"));
        // The same drop counted as reliable is flagged.
        for p in h.points.iter_mut() {
            p.unreliable = false;
        }
        assert_ne!(verdict(&h, &config, None).unwrap().kind, VerdictKind::Noise);
    }

    #[test]
    fn over_time_matches_the_latest_verdict_at_each_run() {
        let config = VerdictConfig::default();
        let mut scores = stable(40);
        scores.extend([60.0; 6]);
        let h = history(&scores, 5.0);
        let all = verdicts_over_time(&h, &config).unwrap();
        for cut in [5, 30, 41, 43, 46] {
            let prefix = SeriesHistory {
                points: h.points[..cut].to_vec(),
                ..h.clone()
            };
            assert_eq!(all[cut - 1], verdict(&prefix, &config, None).unwrap());
        }
    }

    #[test]
    fn bad_input_is_named() {
        let config = VerdictConfig::default();
        let mut h = history(&[80.0, f64::NAN], 5.0);
        let err = verdict(&h, &config, None).unwrap_err().to_string();
        assert!(err.contains("m / main, run #2"), "{err}");
        h.points[1].score = 70.0;
        h.points[1].run_id = 1;
        assert!(matches!(
            verdict(&h, &config, None),
            Err(VerdictError::Order { .. })
        ));
        h.points.clear();
        assert!(matches!(
            verdict(&h, &config, None),
            Err(VerdictError::EmptyHistory { .. })
        ));
        let bad = VerdictConfig {
            watch_fraction: 1.5,
            ..config
        };
        let err = verdict(&history(&[80.0], 5.0), &bad, None).unwrap_err();
        assert!(err.to_string().contains("watch_fraction = 1.5"), "{err}");
    }

    #[test]
    fn config_reads_from_toml_style_json_with_defaults() {
        let config: VerdictConfig = serde_json::from_str(r#"{"main": {"h": 5.0}}"#).unwrap();
        assert_eq!(config.main, CusumConfig { k: 0.5, h: 5.0 });
        assert_eq!(config.dimension, VerdictConfig::default().dimension);
        assert!(serde_json::from_str::<VerdictConfig>(r#"{"mian": {}}"#).is_err());
    }
}
