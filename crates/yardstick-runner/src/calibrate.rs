//! Difficulty adjustment on stored history. `calibrate_history` fits item
//! parameters from every graded answer of a run kind — Rasch / 2PL for
//! pass/fail items (every stored score 0 or 100), the additive item-effect
//! model for 0–100 items — and stores them as a new calibration version;
//! `adjusted_scores` turns one run's answers into each model's
//! difficulty-adjusted score with its SE under the newest version.
//!
//! Items are keyed by content version: an edited item is a new item.

use crate::verdicts::RETEST_KIND;
use crate::{now_ms, RunError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use yardstick_stats::interval::{critical_value, LEVEL_95};
use yardstick_stats::irt::{
    calibrate, fit_item_effects, AbilityPrior, CalibrationConfig, ItemEffect, ItemEffects,
    ItemParameters, ParameterSet, ResponseCell, ScoredAnswer,
};
use yardstick_store::{CalibratedItem, NewCalibration, RunStatus, Store};

/// One item's stored parameters, tagged by the model that fitted them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "fit", rename_all = "snake_case")]
enum StoredParameters {
    Irt(ItemParameters),
    Additive(ItemEffect),
}

/// A calibration's settings and the parts of its fits that are not per item
/// (stored as the calibration's `method_json`; items emptied).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Method {
    irt: Option<ParameterSet>,
    additive: Option<ItemEffects>,
}

/// What `yardstick calibrate` stored.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationSummary {
    /// The new version.
    pub version: i64,
    pub run_kind: String,
    pub first_run: i64,
    pub last_run: i64,
    pub runs: u32,
    pub models: u32,
    pub responses: u64,
    /// Pass/fail items with fitted difficulty.
    pub irt_items: usize,
    /// Pass/fail items every model got right (or every model wrong): no
    /// information about difficulty, left out.
    pub uninformative_items: Vec<String>,
    pub irt_converged: Option<bool>,
    /// 0–100 items with a fitted effect.
    pub additive_items: usize,
}

/// A model's difficulty-adjusted score in one run.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedScore {
    pub model: String,
    /// The calibration version used.
    pub calibration: i64,
    /// `irt` (pass/fail items, reference-scale score) or `additive` (0–100 items).
    pub fit: &'static str,
    pub score: f64,
    pub se: f64,
    pub low: f64,
    pub high: f64,
    pub items_used: usize,
    /// Items of the run the calibration does not know (new since it was fitted).
    pub items_skipped: usize,
}

/// Graded answers of one run: (model, item version, item id, score) per
/// answer, epochs kept separate.
async fn graded(
    store: &Store,
    run_id: i64,
) -> Result<Vec<(String, String, String, f64)>, RunError> {
    Ok(store
        .outcomes(run_id, None)
        .await?
        .into_iter()
        .filter_map(|o| Some((o.model, o.item_version, o.item_id, o.score?)))
        .collect())
}

fn is_pass_fail(score: f64) -> bool {
    score == 0.0 || score == 100.0
}

/// Fits and stores a new calibration from the complete runs of `run_kind`
/// (the newest `max_runs`).
pub async fn calibrate_history(
    store: &Store,
    run_kind: &str,
    max_runs: usize,
    config: &CalibrationConfig,
) -> Result<CalibrationSummary, RunError> {
    if run_kind == RETEST_KIND {
        return Err(RunError::Settings(
            "retest runs ask one model about one dimension; calibrate a kind that asks every model the same items".into(),
        ));
    }
    let runs: Vec<i64> = store
        .list_runs(i64::MAX)
        .await?
        .into_iter()
        .filter(|r| r.kind == run_kind && r.status == RunStatus::Complete)
        .take(max_runs)
        .map(|r| r.id)
        .collect();
    let (Some(&last_run), Some(&first_run)) = (runs.first(), runs.last()) else {
        return Err(RunError::Settings(format!(
            "no complete `{run_kind}` runs to calibrate on (see `yardstick show runs`)"
        )));
    };
    let mut answers = Vec::new();
    for &run in &runs {
        for (model, version, item_id, score) in graded(store, run).await? {
            answers.push((run, model, version, item_id, score));
        }
    }
    // An item is pass/fail when every stored score of it is 0 or 100.
    let mut continuous: BTreeSet<&str> = BTreeSet::new();
    let mut item_ids: BTreeMap<&str, &str> = BTreeMap::new();
    let mut models: BTreeSet<&str> = BTreeSet::new();
    for (_, model, version, item_id, score) in &answers {
        item_ids.insert(version, item_id);
        models.insert(model);
        if !is_pass_fail(*score) {
            continuous.insert(version);
        }
    }
    let model_list: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let pass_fail: Vec<String> = item_ids
        .keys()
        .filter(|v| !continuous.contains(*v))
        .map(|v| v.to_string())
        .collect();

    let irt = if pass_fail.is_empty() {
        None
    } else {
        let model_index: BTreeMap<&str, usize> =
            models.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let item_index: BTreeMap<&str, usize> = pass_fail
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_str(), i))
            .collect();
        let cells: Vec<ResponseCell> = answers
            .iter()
            .filter_map(|(_, model, version, _, score)| {
                Some(ResponseCell {
                    model: model_index[model.as_str()],
                    item: *item_index.get(version.as_str())?,
                    correct: u32::from(*score == 100.0),
                    trials: 1,
                })
            })
            .collect();
        Some(
            calibrate(&model_list, &pass_fail, &cells, config, 0)
                .map_err(|e| RunError::Settings(format!("calibrating `{run_kind}` runs: {e}")))?,
        )
    };
    let scored: Vec<ScoredAnswer> = answers
        .iter()
        .filter(|(_, _, version, _, _)| continuous.contains(version.as_str()))
        .map(|(run, model, version, _, score)| ScoredAnswer {
            model: model.clone(),
            item: version.clone(),
            day: *run,
            score: *score,
        })
        .collect();
    let additive = if scored.is_empty() {
        None
    } else {
        Some(fit_item_effects(&scored, 0).map_err(|e| {
            RunError::Settings(format!("fitting item effects of `{run_kind}` runs: {e}"))
        })?)
    };

    let stored_item = |version: &str, params: StoredParameters| CalibratedItem {
        item_id: item_ids[version].to_string(),
        item_version: version.to_string(),
        params_json: serde_json::to_string(&params).expect("parameters always serialize"),
    };
    let mut items = Vec::new();
    let summary_irt = irt
        .as_ref()
        .map(|ps| (ps.items.len(), ps.uninformative_items.clone(), ps.converged));
    let summary_additive = additive.as_ref().map_or(0, |e| e.items.len());
    let method = Method {
        irt: irt.map(|mut ps| {
            items.extend(
                ps.items
                    .drain(..)
                    .map(|p| stored_item(&p.item.clone(), StoredParameters::Irt(p))),
            );
            ps
        }),
        additive: additive.map(|mut e| {
            items.extend(
                e.items
                    .drain(..)
                    .map(|p| stored_item(&p.item.clone(), StoredParameters::Additive(p))),
            );
            e
        }),
    };
    let responses = answers.len() as u64;
    let version = store
        .insert_calibration(
            &NewCalibration {
                run_kind: run_kind.to_string(),
                first_run,
                last_run,
                runs: runs.len() as u32,
                models: model_list.len() as u32,
                responses,
                method_json: serde_json::to_string(&method).expect("methods always serialize"),
                created_at: now_ms(),
            },
            &items,
        )
        .await?;
    let (irt_items, uninformative, converged) = match summary_irt {
        Some((n, u, c)) => (n, u, Some(c)),
        None => (0, Vec::new(), None),
    };
    Ok(CalibrationSummary {
        version,
        run_kind: run_kind.to_string(),
        first_run,
        last_run,
        runs: runs.len() as u32,
        models: model_list.len() as u32,
        responses,
        irt_items,
        uninformative_items: uninformative
            .iter()
            .map(|v| format!("{}@{v}", item_ids[v.as_str()]))
            .collect(),
        irt_converged: converged,
        additive_items: summary_additive,
    })
}

/// Each model's difficulty-adjusted score in `run_id` under the newest
/// calibration of the run's kind; empty when there is none. The IRT score
/// uses the run's pass/fail answers (MAP ability with the calibration's
/// ability prior, on the reference scale), the additive score its 0–100 answers.
pub async fn adjusted_scores(store: &Store, run_id: i64) -> Result<Vec<AdjustedScore>, RunError> {
    let run = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    let mut answers: ModelAnswers = BTreeMap::new();
    for (model, item_version, _, score) in graded(store, run_id).await? {
        answers
            .entry(model)
            .or_default()
            .push((item_version, score));
    }
    adjusted_scores_of(store, &run.kind, run_id, answers).await
}

/// Per model, its graded answers as (item version, score), epochs kept separate.
pub type ModelAnswers = BTreeMap<String, Vec<(String, f64)>>;

/// [`adjusted_scores`] for answers the caller has already read (the board
/// reads each run once).
pub async fn adjusted_scores_of(
    store: &Store,
    run_kind: &str,
    run_id: i64,
    by_model: ModelAnswers,
) -> Result<Vec<AdjustedScore>, RunError> {
    let Some((calibration, rows)) = store.latest_calibration(run_kind).await? else {
        return Ok(Vec::new());
    };
    let corrupt = |what: String| {
        RunError::Store(Box::new(yardstick_store::StoreError::Corrupt {
            what: format!("calibration {}: {what}", calibration.id),
        }))
    };
    let method: Method = serde_json::from_str(&calibration.method_json)
        .map_err(|e| corrupt(format!("its method does not read ({e})")))?;
    let mut irt = method.irt;
    let mut additive = method.additive;
    for row in &rows {
        let params: StoredParameters = serde_json::from_str(&row.params_json).map_err(|e| {
            corrupt(format!(
                "item `{}` version {}: {e}",
                row.item_id, row.item_version
            ))
        })?;
        match (params, irt.as_mut(), additive.as_mut()) {
            (StoredParameters::Irt(p), Some(ps), _) => ps.items.push(p),
            (StoredParameters::Additive(p), _, Some(e)) => e.items.push(p),
            _ => {
                return Err(corrupt(format!(
                    "item `{}` has parameters of a fit the calibration lacks",
                    row.item_id
                )))
            }
        }
    }
    let version = u32::try_from(calibration.id).unwrap_or(u32::MAX);
    let z = critical_value(LEVEL_95, None);
    if let Some(ps) = irt.as_mut() {
        ps.version = version;
    }
    let irt_items: BTreeSet<String> = irt
        .iter()
        .flat_map(|ps| ps.items.iter().map(|p| p.item.clone()))
        .collect();
    let additive_items: BTreeSet<String> = additive
        .iter()
        .flat_map(|e| e.items.iter().map(|p| p.item.clone()))
        .collect();
    let mut out = Vec::new();
    for (model, answers) in by_model {
        // Each answer goes to the fit that knows its item; the rest are new.
        let skipped = answers
            .iter()
            .filter(|(v, _)| !irt_items.contains(v) && !additive_items.contains(v))
            .count();
        let pass_fail: Vec<(&str, bool)> = answers
            .iter()
            .filter(|(v, _)| irt_items.contains(v))
            .map(|(v, s)| (v.as_str(), *s == 100.0))
            .collect();
        if let (Some(ps), false) = (irt.as_ref(), pass_fail.is_empty()) {
            let prior = AbilityPrior {
                mean: 0.0,
                sd: ps.config.ability_prior_sd,
            };
            let estimate = ps.daily_ability(&pass_fail, prior, LEVEL_95).map_err(|e| {
                RunError::Settings(format!("adjusting `{model}` in run #{run_id}: {e}"))
            })?;
            out.push(AdjustedScore {
                model: model.clone(),
                calibration: calibration.id,
                fit: "irt",
                score: estimate.score,
                // The SE the reference-scale interval implies.
                se: (estimate.score_high - estimate.score_low) / (2.0 * z),
                low: estimate.score_low,
                high: estimate.score_high,
                items_used: estimate.items_used,
                items_skipped: skipped,
            });
        }
        let scored: Vec<(&str, f64)> = answers
            .iter()
            .filter(|(v, _)| additive_items.contains(v))
            .map(|(v, s)| (v.as_str(), *s))
            .collect();
        if let Some(adjusted) = additive.as_ref().and_then(|e| e.adjusted_score(&scored)) {
            let se = adjusted.variance.sqrt();
            out.push(AdjustedScore {
                model: model.clone(),
                calibration: calibration.id,
                fit: "additive",
                score: adjusted.score,
                se,
                low: adjusted.score - z * se,
                high: adjusted.score + z * se,
                items_used: scored.len(),
                items_skipped: skipped,
            });
        }
    }
    Ok(out)
}
