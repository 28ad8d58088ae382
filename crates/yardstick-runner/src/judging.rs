//! The judge's side of a run: checking the judges (calibration drift and
//! family clashes) before judged answers are graded, turning judge calls
//! into store rows, and the panel's agreement read back from the store.

use crate::plan::RunConfig;
use crate::{now_ms, Event, RunError};
use std::collections::BTreeMap;
use yardstick_core::{Dimension, Item, ModelSpec};
use yardstick_graders::{Graders, Judgement};
use yardstick_store::{NewJudgement, RunJudge, Store};

/// A judge call as a store row.
pub(crate) fn judgement_row(
    run_id: i64,
    attempt_id: Option<i64>,
    calibration_id: Option<String>,
    j: &Judgement,
    created_at: i64,
) -> NewJudgement {
    NewJudgement {
        run_id,
        attempt_id,
        calibration_id,
        judge: j.judge.clone(),
        judge_model: j.judge_model.clone(),
        response_model: j.response_model.clone(),
        fallback: j.fallback,
        sample: j.sample,
        retry: j.retry,
        order: j.order.id().to_string(),
        prompt: j.prompt.clone(),
        raw_output: j.raw_output.clone(),
        scores_json: j
            .scores
            .as_ref()
            .map(|s| serde_json::to_string(s).expect("scores always serialize")),
        error_class: j.error_class.map(|c| c.id()),
        error_message: j.error_message.clone(),
        latency_ms: j.latency_ms,
        input_tokens: j.input_tokens,
        output_tokens: j.output_tokens,
        created_at,
    }
}

/// The run's models that share a judge's family (none when it has no
/// family): a judge may favour answers written like its own.
pub fn same_family(judge: &ModelSpec, models: &[ModelSpec]) -> Vec<String> {
    let Some(family) = judge.family.as_deref() else {
        return Vec::new();
    };
    models
        .iter()
        .filter(|m| m.family.as_deref() == Some(family))
        .map(|m| m.name.clone())
        .collect()
}

/// Re-grades the calibration set with every judge and records each judge's
/// check (drift, threshold, models of its own family) for the run, when the
/// run has judged items and the graders have a panel. Returns whether the
/// run's judged scores are unreliable.
pub(crate) async fn check_judges(
    store: &Store,
    run_id: i64,
    items: &[&Item],
    graders: &Graders,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<bool, RunError> {
    let Some(panel) = graders.judge() else {
        return Ok(false);
    };
    if !items.iter().any(|i| i.judge_rubric().is_some()) {
        return Ok(false);
    }
    let run = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    let config: RunConfig =
        serde_json::from_str(&run.config_json).map_err(|e| RunError::BadRunConfig {
            run: run_id,
            message: e.to_string(),
        })?;
    let calibrations = panel.calibrate().await;
    let created_at = now_ms();
    let mut unreliable = false;
    for (judge, calibration) in panel.judges.iter().zip(calibrations) {
        let rows: Vec<NewJudgement> = calibration
            .judgements
            .iter()
            .map(|(id, j)| judgement_row(run_id, None, Some(id.clone()), j, created_at))
            .collect();
        store.insert_judgements(&rows).await?;
        let check = RunJudge {
            run_id,
            judge: judge.spec.name.clone(),
            judge_model: judge.spec.model.clone(),
            family: judge.spec.family.clone(),
            fallback: judge.fallback,
            same_family: same_family(&judge.spec, &config.models),
            drift: calibration.drift,
            drift_threshold: panel.drift_threshold,
            calibration_scored: calibration.scored as u32,
            calibration_failed: calibration.failed.len() as u32,
            unreliable: calibration.unreliable,
            created_at,
        };
        store.insert_run_judge(&check).await?;
        unreliable |= check.unreliable;
        on_event(Event::JudgeChecked(check));
    }
    Ok(unreliable)
}

/// Krippendorff's α (interval) of the panel per dimension of a run, over
/// the answers' current grades: a unit is one (answer, criterion), a
/// judge's value its median over its samples. `None` where fewer than two
/// judges scored the same unit or the values do not vary.
pub async fn panel_agreement(
    store: &Store,
    run_id: i64,
) -> Result<BTreeMap<Dimension, Option<f64>>, RunError> {
    let rows = store.panel_scores(run_id).await?;
    // dimension → (attempt, criterion) → judge → sample scores
    type Units = BTreeMap<(i64, String), BTreeMap<String, Vec<u32>>>;
    let mut by_dimension: BTreeMap<Dimension, Units> = BTreeMap::new();
    for row in rows {
        let scores: BTreeMap<String, u32> =
            serde_json::from_str(&row.scores_json).map_err(|e| {
                RunError::Store(Box::new(yardstick_store::StoreError::Corrupt {
                    what: format!("judgements.scores_json of attempt {}: {e}", row.attempt_id),
                }))
            })?;
        let units = by_dimension.entry(row.dimension).or_default();
        for (criterion, score) in scores {
            units
                .entry((row.attempt_id, criterion))
                .or_default()
                .entry(row.judge.clone())
                .or_default()
                .push(score);
        }
    }
    Ok(by_dimension
        .into_iter()
        .map(|(dimension, units)| {
            let values: Vec<Vec<f64>> = units
                .into_values()
                .map(|judges| {
                    judges
                        .values()
                        .map(|s| yardstick_graders::median(s))
                        .collect()
                })
                .collect();
            (
                dimension,
                yardstick_stats::agreement::krippendorff_alpha_interval(&values),
            )
        })
        .collect())
}
