//! Confirmation runs. A `watch` or `likely_degradation` verdict schedules a
//! retest: a `retest`-kind run of one model on fresh items of the affected
//! dimension (for the main score: code execution and grounding alike), with
//! more epochs. When it has been answered and graded, Wald's SPRT on its
//! item scores decides confirm / clear / undecided against the series'
//! baseline (H0: as before; H1: `drop` points lower), and the verdict that
//! scheduled it is re-judged with that outcome and stored revised.
//!
//! For the main score the observations are pairs
//! 0.55 · code item + 0.45 · grounding item, whose mean is the main score,
//! so H0's mean is the main score's baseline.

use crate::alerts::Alerter;
use crate::plan::{create_run, RunOptions};
use crate::verdicts::{
    is_change, run_scores, verdict_columns, History, RetestNumbers, Series, VerdictSettings,
    RETEST_KIND,
};
use crate::{now_ms, RunError};
use serde::{Deserialize, Serialize};
use yardstick_bank::Bank;
use yardstick_core::scoring::{sample_sd, MAIN_WEIGHT_CODE, MAIN_WEIGHT_GROUNDING};
use yardstick_core::{Dimension, ModelSpec};
use yardstick_stats::sprt::{ContinuousSprt, SprtConfig, SprtDecision};
use yardstick_stats::verdict::{verdict, Evidence, RetestOutcome};
use yardstick_store::{
    AlertRow, RetestRow, RetestStatus, RevisedVerdict, RunStatus, Store, VerdictRow,
};

/// `[verdicts.retest]` in `yardstick.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetestSettings {
    /// Items a confirmation run draws (split evenly over the series' dimensions).
    pub items: u32,
    /// Times each item is asked.
    pub epochs: u32,
    /// The drop in points the test is to detect (H1: baseline − drop).
    pub drop: f64,
    /// Floor of the per-observation standard deviation, points: a history
    /// of identical scores must not make every small miss decisive.
    pub min_sd: f64,
    /// Error rates and the observation cap.
    pub sprt: SprtConfig,
}

impl Default for RetestSettings {
    fn default() -> Self {
        RetestSettings {
            items: 30,
            epochs: 3,
            drop: 10.0,
            min_sd: 10.0,
            sprt: SprtConfig::default(),
        }
    }
}

impl RetestSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.items < 2 {
            return Err(format!(
                "verdicts.retest.items = {} must be at least 2 (the main score's retest pairs a code item with a grounding item)",
                self.items
            ));
        }
        if self.epochs == 0 {
            return Err("verdicts.retest.epochs must be at least 1".into());
        }
        for (name, v) in [("drop", self.drop), ("min_sd", self.min_sd)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("verdicts.retest.{name} = {v} must be above 0 points"));
            }
        }
        ContinuousSprt::new(50.0, self.drop, self.min_sd, self.sprt)
            .map(|_| ())
            .map_err(|e| format!("verdicts.retest.sprt: {e}"))
    }
}

/// What a retest decided and what it did to its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RetestReport {
    pub retest: RetestRow,
    /// The verdict that scheduled it, as revised.
    pub verdict: VerdictRow,
    /// The verdict in force before the decision.
    pub previous_verdict: String,
    pub alerts: Vec<AlertRow>,
}

/// The draw of a retest's run.
pub fn retest_options(retest: &RetestRow, seed: u64) -> Result<RunOptions, RunError> {
    let series = Series::parse(&retest.series).map_err(|e| RunError::Settings(format!("retest {}: {e}", retest.id)))?;
    let dimensions = series.dimensions();
    let per_dimension = (retest.items as usize).div_ceil(dimensions.len());
    Ok(RunOptions {
        kind: RETEST_KIND.to_string(),
        per_dimension: Some(per_dimension),
        dimensions: Some(dimensions),
        epochs: retest.epochs,
        seed,
        label: format!(
            "retest {} of {} on {} (verdict {}, run #{})",
            retest.id, retest.model, retest.series, retest.verdict_id, retest.trigger_run_id
        ),
    })
}

/// The run of a retest: a pending one gets its run created (drawn with
/// `seed`) and is marked running; a running one (interrupted earlier) keeps
/// its run. `None` when another process took the pending retest first.
pub async fn start_retest(
    store: &Store,
    bank: &Bank,
    spec: &ModelSpec,
    retest: &RetestRow,
    seed: u64,
) -> Result<Option<i64>, RunError> {
    match (retest.status, retest.run_id) {
        (RetestStatus::Running, Some(run_id)) => Ok(Some(run_id)),
        (RetestStatus::Pending, _) => {
            let options = retest_options(retest, seed)?;
            let run_id = create_run(store, bank, std::slice::from_ref(spec), &options).await?;
            Ok(store.start_retest(retest.id, run_id).await?.then_some(run_id))
        }
        _ => Err(RunError::Settings(format!(
            "retest {} is {} and cannot be started",
            retest.id, retest.status
        ))),
    }
}

/// Per-item observations of `series` in one model's run, in item order:
/// dimension item scores, or main-score pairs.
fn observations(series: Series, scores: &yardstick_core::scoring::RunScores) -> Vec<f64> {
    let items = |d: Dimension| {
        scores
            .dimensions
            .get(&d)
            .map(|s| s.item_scores.clone())
            .unwrap_or_default()
    };
    match series {
        Series::Dimension(d) => items(d),
        Series::Main => items(Dimension::CodeExecution)
            .into_iter()
            .zip(items(Dimension::Grounding))
            .map(|(c, g)| MAIN_WEIGHT_CODE * c + MAIN_WEIGHT_GROUNDING * g)
            .collect(),
    }
}

/// The sd of one observation in the baseline runs: item scores pooled over
/// the runs, combined with the main score's weights for the main series.
fn baseline_sd(series: Series, runs: &[yardstick_core::scoring::RunScores]) -> Option<f64> {
    let pooled = |d: Dimension| -> Option<f64> {
        let all: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.dimensions.get(&d))
            .flat_map(|s| s.item_scores.iter().copied())
            .collect();
        sample_sd(&all)
    };
    match series {
        Series::Dimension(d) => pooled(d),
        Series::Main => {
            let c = pooled(Dimension::CodeExecution)?;
            let g = pooled(Dimension::Grounding)?;
            Some(((MAIN_WEIGHT_CODE * c).powi(2) + (MAIN_WEIGHT_GROUNDING * g).powi(2)).sqrt())
        }
    }
}

fn decision_label(decision: SprtDecision) -> &'static str {
    match decision {
        SprtDecision::Confirmed => "confirm",
        SprtDecision::Cleared => "clear",
        SprtDecision::Undecided => "undecided",
    }
}

/// Decides a running retest whose run is complete: runs the SPRT, records
/// the decision on the retest and the revised verdict, and alerts when the
/// verdict changed.
pub async fn decide_retest(
    store: &Store,
    retest_id: i64,
    settings: &VerdictSettings,
    alerter: &Alerter,
) -> Result<RetestReport, RunError> {
    settings.validate().map_err(RunError::Settings)?;
    let retest = store
        .get_retest(retest_id)
        .await?
        .ok_or_else(|| RunError::Settings(format!("retest {retest_id} does not exist")))?;
    let (RetestStatus::Running, Some(run_id)) = (retest.status, retest.run_id) else {
        return Err(RunError::Settings(format!(
            "retest {retest_id} is {}; only a running retest with a run can be decided",
            retest.status
        )));
    };
    let run = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    if run.status != RunStatus::Complete {
        return Err(RunError::NotComplete(run_id));
    }
    let before = store
        .get_verdict(retest.verdict_id)
        .await?
        .ok_or_else(|| RunError::Settings(format!("verdict {} of retest {retest_id} is missing", retest.verdict_id)))?;
    let series = Series::parse(&retest.series).map_err(RunError::Settings)?;
    let evidence: Evidence = serde_json::from_str(&before.numbers_json).map_err(|e| {
        RunError::Store(Box::new(yardstick_store::StoreError::Corrupt {
            what: format!("verdict {}: its numbers do not read ({e})", before.id),
        }))
    })?;
    let baseline = evidence.baseline.ok_or_else(|| {
        RunError::Settings(format!(
            "verdict {} of `{}` on {} has no baseline to test the retest against",
            before.id, before.model, before.series
        ))
    })?;

    // H0's spread: item scores of the runs the baseline was built from (the
    // history before the suspicion, without its most recent runs).
    let mut history = History::new(store, &before.run_kind, settings.history_runs);
    let runs = history.runs(&retest.model, before.run_id).await?;
    let keep = runs
        .len()
        .saturating_sub(settings.detectors.baseline.exclude_recent);
    let baseline_runs: Vec<_> = runs[..keep].iter().map(|(_, s)| s.clone()).collect();
    let sd = baseline_sd(series, &baseline_runs)
        .unwrap_or(settings.retest.min_sd)
        .max(settings.retest.min_sd);

    let scores = run_scores(store, run_id).await?;
    let observed = scores
        .get(&retest.model)
        .map(|s| observations(series, s))
        .unwrap_or_default();
    let test = ContinuousSprt::new(baseline.mean, settings.retest.drop, sd, settings.retest.sprt)
        .map_err(|e| RunError::Settings(format!("retest {retest_id}: {e}")))?;
    let sprt = test.test(&observed);
    let numbers = RetestNumbers {
        sprt,
        baseline_mean: baseline.mean,
        drop: settings.retest.drop,
        sd,
        observations: observed,
    };

    let series_history = history
        .series(&retest.model, series, before.run_id)
        .await?;
    let outcome = RetestOutcome {
        triggered_by_run_id: before.run_id,
        retest_run_id: run_id,
        sprt,
    };
    let revised = verdict(&series_history, &settings.detectors, Some(&outcome)).map_err(|e| {
        RunError::Settings(format!("re-judging verdict {} with its retest: {e}", before.id))
    })?;
    let (numbers_json, explanation, _) = verdict_columns(&revised);
    let retest = store
        .finish_retest(
            retest_id,
            decision_label(sprt.decision),
            &serde_json::to_string(&numbers).expect("retest numbers always serialize"),
            &RevisedVerdict {
                verdict: revised.kind.as_str().to_string(),
                numbers_json,
                explanation,
            },
            now_ms(),
        )
        .await?;
    let after = store
        .get_verdict(before.id)
        .await?
        .ok_or_else(|| RunError::Settings(format!("verdict {} vanished", before.id)))?;
    let alerts = if is_change(Some(&before.verdict), &after.verdict) {
        alerter.notify(store, &after, Some(&before.verdict)).await?
    } else {
        Vec::new()
    };
    Ok(RetestReport {
        retest,
        verdict: after,
        previous_verdict: before.verdict,
        alerts,
    })
}
