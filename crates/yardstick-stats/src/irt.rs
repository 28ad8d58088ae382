//! Difficulty adjustment (METHODS.md "Difficulty adjustment").
//!
//! - Pass/fail items: Rasch, P = σ(θ − b), or 2PL, P = σ(a(θ − b)),
//!   calibrated by regularised joint MAP — alternating Newton steps over all
//!   abilities θ, then all item parameters, with normal priors, mean(b)
//!   centred on 0. Items without variance (every answer right, or every
//!   answer wrong) carry no information about difficulty: they are left out
//!   and listed as uninformative.
//! - A day's ability: MAP with a normal prior (finite when every answer is
//!   right or wrong), its SE, and the score on a fixed reference scale
//!   Score(θ) = 100 · mean_{j∈R} P_j(θ), the interval mapped through it.
//! - 0–100 items: the additive item-effect model y = μ + θ_{model,day} + b_j + e
//!   with shrunken item effects, and the difficulty-adjusted day score with its variance.

use crate::interval::critical_value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Which item response model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IrtModel {
    /// One parameter per item: difficulty b (discrimination fixed at 1).
    Rasch,
    /// Difficulty b and discrimination a.
    TwoPl,
}

/// Priors and stopping rule of the calibration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationConfig {
    pub model: IrtModel,
    /// σθ: abilities ~ N(0, σθ²).
    pub ability_prior_sd: f64,
    /// σb: difficulties ~ N(0, σb²).
    pub difficulty_prior_sd: f64,
    /// σa: discriminations ~ N(1, σa²) (2PL only).
    pub discrimination_prior_sd: f64,
    /// Stop when no parameter moves more than this in one sweep.
    pub tolerance: f64,
    pub max_sweeps: usize,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            model: IrtModel::Rasch,
            ability_prior_sd: 2.0,
            difficulty_prior_sd: 2.0,
            discrimination_prior_sd: 0.5,
            tolerance: 1e-6,
            max_sweeps: 1000,
        }
    }
}

/// k of K answers right for one model on one item (K > 1 with epochs or several runs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseCell {
    /// Index into the model list.
    pub model: usize,
    /// Index into the item list.
    pub item: usize,
    pub correct: u32,
    pub trials: u32,
}

/// Calibrated parameters of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemParameters {
    pub item: String,
    /// a (1 under Rasch).
    pub discrimination: f64,
    /// b, on the ability scale; mean 0 over calibrated items.
    pub difficulty: f64,
    /// 1/sqrt(information + prior precision) at the estimate.
    pub difficulty_se: f64,
}

/// A model's ability over the calibration data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelAbility {
    pub model: String,
    pub ability: f64,
}

/// A versioned, serialisable parameter set: what `calibrate` produced.
/// Every calibrated item is in the reference set R of the score scale, so
/// scores from one version are comparable with each other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParameterSet {
    pub version: u32,
    pub model: IrtModel,
    pub config: CalibrationConfig,
    pub items: Vec<ItemParameters>,
    /// Items left out because every answer was right (or every answer wrong).
    pub uninformative_items: Vec<String>,
    pub abilities: Vec<ModelAbility>,
    pub sweeps: usize,
    pub converged: bool,
}

/// Why calibration or scoring refused its input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IrtError {
    #[error("response {index}: model index {model} is out of range ({models} models)")]
    ModelIndex {
        index: usize,
        model: usize,
        models: usize,
    },
    #[error("response {index}: item index {item} is out of range ({items} items)")]
    ItemIndex {
        index: usize,
        item: usize,
        items: usize,
    },
    #[error("response {index} (model '{model}', item '{item}'): {correct} correct of {trials} trials; need 1 ≤ trials and correct ≤ trials")]
    Counts {
        index: usize,
        model: String,
        item: String,
        correct: u32,
        trials: u32,
    },
    #[error("calibration setting {0}")]
    Config(String),
    #[error(
        "no item is informative (each was answered all right or all wrong): nothing to calibrate"
    )]
    NothingInformative,
    #[error("ability prior needs a finite mean and sd > 0 (got mean {mean}, sd {sd})")]
    Prior { mean: f64, sd: f64 },
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Newton step for one concave coordinate, limited to ±1 so that early
/// sweeps from poor starting values cannot overshoot.
fn newton_step(gradient: f64, curvature: f64) -> f64 {
    (-gradient / curvature).clamp(-1.0, 1.0)
}

/// Regularised joint MAP calibration. `models` and `items` name the indices
/// used in `cells`; several cells for the same pair add up.
pub fn calibrate(
    models: &[String],
    items: &[String],
    cells: &[ResponseCell],
    config: &CalibrationConfig,
    version: u32,
) -> Result<ParameterSet, IrtError> {
    for (name, value) in [
        ("ability_prior_sd", config.ability_prior_sd),
        ("difficulty_prior_sd", config.difficulty_prior_sd),
        ("discrimination_prior_sd", config.discrimination_prior_sd),
        ("tolerance", config.tolerance),
    ] {
        if !(value > 0.0 && value.is_finite()) {
            return Err(IrtError::Config(format!("{name} = {value} must be > 0")));
        }
    }
    for (index, c) in cells.iter().enumerate() {
        if c.model >= models.len() {
            return Err(IrtError::ModelIndex {
                index,
                model: c.model,
                models: models.len(),
            });
        }
        if c.item >= items.len() {
            return Err(IrtError::ItemIndex {
                index,
                item: c.item,
                items: items.len(),
            });
        }
        if c.trials == 0 || c.correct > c.trials {
            return Err(IrtError::Counts {
                index,
                model: models[c.model].clone(),
                item: items[c.item].clone(),
                correct: c.correct,
                trials: c.trials,
            });
        }
    }
    // Informative items: some right and some wrong answers.
    let mut totals = vec![(0u64, 0u64); items.len()];
    for c in cells {
        totals[c.item].0 += u64::from(c.correct);
        totals[c.item].1 += u64::from(c.trials);
    }
    let informative: Vec<bool> = totals.iter().map(|&(k, n)| k > 0 && k < n).collect();
    let uninformative_items: Vec<String> = (0..items.len())
        .filter(|&j| !informative[j])
        .map(|j| items[j].clone())
        .collect();
    let used: Vec<ResponseCell> = cells
        .iter()
        .filter(|c| informative[c.item])
        .copied()
        .collect();
    if used.is_empty() {
        return Err(IrtError::NothingInformative);
    }
    let two_pl = config.model == IrtModel::TwoPl;
    let theta_precision = config.ability_prior_sd.powi(-2);
    let b_precision = config.difficulty_prior_sd.powi(-2);
    let a_precision = config.discrimination_prior_sd.powi(-2);
    let mut theta = vec![0.0; models.len()];
    let mut b = vec![0.0; items.len()];
    let mut a = vec![1.0; items.len()];
    // Per-coordinate gradient and curvature accumulators.
    let mut grad = vec![0.0; models.len().max(items.len())];
    let mut curv = vec![0.0; models.len().max(items.len())];
    let mut grad_a = vec![0.0; items.len()];
    let mut curv_a = vec![0.0; items.len()];
    let mut sweeps = 0;
    let mut converged = false;
    while sweeps < config.max_sweeps {
        sweeps += 1;
        let (theta_before, b_before, a_before) = (theta.clone(), b.clone(), a.clone());
        // Abilities.
        grad[..models.len()].fill(0.0);
        curv[..models.len()].fill(0.0);
        for c in &used {
            let (aj, bj) = (a[c.item], b[c.item]);
            let p = logistic(aj * (theta[c.model] - bj));
            let k = f64::from(c.trials);
            grad[c.model] += aj * (f64::from(c.correct) - k * p);
            curv[c.model] -= aj * aj * k * p * (1.0 - p);
        }
        for (m, t) in theta.iter_mut().enumerate() {
            let step = newton_step(grad[m] - *t * theta_precision, curv[m] - theta_precision);
            *t += step;
        }
        // Item parameters.
        grad[..items.len()].fill(0.0);
        curv[..items.len()].fill(0.0);
        grad_a.fill(0.0);
        curv_a.fill(0.0);
        for c in &used {
            let (aj, bj) = (a[c.item], b[c.item]);
            let distance = theta[c.model] - bj;
            let p = logistic(aj * distance);
            let k = f64::from(c.trials);
            let surprise = f64::from(c.correct) - k * p;
            let information = k * p * (1.0 - p);
            grad[c.item] -= aj * surprise;
            curv[c.item] -= aj * aj * information;
            grad_a[c.item] += distance * surprise;
            curv_a[c.item] -= distance * distance * information;
        }
        for j in (0..items.len()).filter(|&j| informative[j]) {
            let step = newton_step(grad[j] - b[j] * b_precision, curv[j] - b_precision);
            b[j] += step;
            if two_pl {
                let step = newton_step(
                    grad_a[j] - (a[j] - 1.0) * a_precision,
                    curv_a[j] - a_precision,
                );
                // Discriminations stay positive: a negative one would mean
                // the item rewards weaker models.
                a[j] = (a[j] + step).max(0.05);
            }
        }
        // Centre: mean(b) = 0 over calibrated items; abilities move with
        // them so every a(θ − b) is unchanged.
        let shift = (0..items.len())
            .filter(|&j| informative[j])
            .map(|j| b[j])
            .sum::<f64>()
            / informative.iter().filter(|&&i| i).count() as f64;
        for j in (0..items.len()).filter(|&j| informative[j]) {
            b[j] -= shift;
        }
        for t in theta.iter_mut() {
            *t -= shift;
        }
        // Measured after centring: the Newton steps may keep proposing a
        // common shift that centring takes back, which is not movement.
        let moved = |now: &[f64], before: &[f64]| {
            now.iter()
                .zip(before)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max)
        };
        let largest_change = moved(&theta, &theta_before)
            .max(moved(&b, &b_before))
            .max(moved(&a, &a_before));
        if largest_change < config.tolerance {
            converged = true;
            break;
        }
    }
    // Standard errors of b at the estimate.
    let mut information = vec![0.0; items.len()];
    for c in &used {
        let p = logistic(a[c.item] * (theta[c.model] - b[c.item]));
        information[c.item] += a[c.item] * a[c.item] * f64::from(c.trials) * p * (1.0 - p);
    }
    Ok(ParameterSet {
        version,
        model: config.model,
        config: *config,
        items: (0..items.len())
            .filter(|&j| informative[j])
            .map(|j| ItemParameters {
                item: items[j].clone(),
                discrimination: a[j],
                difficulty: b[j],
                difficulty_se: (information[j] + b_precision).sqrt().recip(),
            })
            .collect(),
        uninformative_items,
        abilities: models
            .iter()
            .zip(&theta)
            .map(|(model, &ability)| ModelAbility {
                model: model.clone(),
                ability,
            })
            .collect(),
        sweeps,
        converged,
    })
}

/// Prior for a day's ability (e.g. the model's calibrated ability and a
/// spread allowing for real change).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbilityPrior {
    pub mean: f64,
    pub sd: f64,
}

/// A day's difficulty-adjusted result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbilityEstimate {
    /// MAP ability θ̂, within [−4, 4].
    pub ability: f64,
    /// ≈ 1/sqrt(−T'(θ̂)).
    pub ability_se: f64,
    /// Score(θ̂) on the parameter set's reference scale (0–100).
    pub score: f64,
    /// Score at θ̂ ∓ z·SE (the scale is monotone).
    pub score_low: f64,
    pub score_high: f64,
    pub level: f64,
    pub parameter_version: u32,
    /// Answers used (their items are in the parameter set).
    pub items_used: usize,
    /// Answers to items the parameter set does not cover (new or
    /// uninformative items): left out.
    pub items_skipped: Vec<String>,
}

const ABILITY_BOUND: f64 = 4.0;

impl ParameterSet {
    /// Score(θ) = 100 · mean over the reference items of P_j(θ).
    pub fn reference_score(&self, ability: f64) -> f64 {
        100.0
            * self
                .items
                .iter()
                .map(|p| logistic(p.discrimination * (ability - p.difficulty)))
                .sum::<f64>()
            / self.items.len() as f64
    }

    /// MAP ability from one day's answers (item id, right?) with `prior`,
    /// and the reference-scale score with its `level` interval.
    pub fn daily_ability(
        &self,
        answers: &[(&str, bool)],
        prior: AbilityPrior,
        level: f64,
    ) -> Result<AbilityEstimate, IrtError> {
        if !(prior.mean.is_finite() && prior.sd > 0.0 && prior.sd.is_finite()) {
            return Err(IrtError::Prior {
                mean: prior.mean,
                sd: prior.sd,
            });
        }
        let index: HashMap<&str, &ItemParameters> =
            self.items.iter().map(|p| (p.item.as_str(), p)).collect();
        let mut used = Vec::with_capacity(answers.len());
        let mut items_skipped = Vec::new();
        for &(item, right) in answers {
            match index.get(item) {
                Some(p) => used.push((p.discrimination, p.difficulty, f64::from(u8::from(right)))),
                None => items_skipped.push(item.to_string()),
            }
        }
        let precision = prior.sd.powi(-2);
        // T(θ) and T'(θ): derivative and curvature of the log posterior.
        let slope_and_curvature = |theta: f64| {
            used.iter().fold(
                ((prior.mean - theta) * precision, -precision),
                |(t, dt), &(a, b, u)| {
                    let p = logistic(a * (theta - b));
                    (t + a * (u - p), dt - a * a * p * (1.0 - p))
                },
            )
        };
        // The log posterior is strictly concave, so Newton from the prior mean
        // converges; clamping keeps it inside [−4, 4].
        let mut ability = prior.mean.clamp(-ABILITY_BOUND, ABILITY_BOUND);
        for _ in 0..100 {
            let (t, dt) = slope_and_curvature(ability);
            let next = (ability - t / dt).clamp(-ABILITY_BOUND, ABILITY_BOUND);
            let moved = (next - ability).abs();
            ability = next;
            if moved < 1e-10 {
                break;
            }
        }
        let ability_se = (-slope_and_curvature(ability).1).sqrt().recip();
        let half = critical_value(level, None) * ability_se;
        Ok(AbilityEstimate {
            ability,
            ability_se,
            score: self.reference_score(ability),
            score_low: self.reference_score(ability - half),
            score_high: self.reference_score(ability + half),
            level,
            parameter_version: self.version,
            items_used: used.len(),
            items_skipped,
        })
    }
}

/// One 0–100 score of a model on an item on a day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredAnswer {
    pub model: String,
    pub item: String,
    /// Day (or run) the answer belongs to.
    pub day: i64,
    pub score: f64,
}

/// The additive item-effect model fitted to 0–100 items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemEffects {
    pub version: u32,
    /// μ̂: grand mean.
    pub mean: f64,
    /// σ̂_e²: residual variance of one answer.
    pub residual_var: f64,
    /// σ̂_b²: variance of true item effects (method of moments, ≥ a small floor).
    pub item_var: f64,
    pub items: Vec<ItemEffect>,
}

/// b̂_j: how much easier (+) or harder (−) than average an item is, shrunk
/// towards 0 by n_j / (n_j + σe²/σb²).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemEffect {
    pub item: String,
    pub effect: f64,
    pub effect_var: f64,
    pub answers: usize,
}

/// A day's difficulty-adjusted score: μ̂ + θ̂ with θ̂ = mean_j(y − μ̂ − b̂_j).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdjustedScore {
    /// θ̂_{m,t}: the model's day effect relative to μ̂.
    pub effect: f64,
    /// μ̂ + θ̂: the score on an item set of average difficulty.
    pub score: f64,
    /// Var(θ̂) = σe²/n + Σ Var(b̂_j)/n².
    pub variance: f64,
    /// Items the fit had not seen (effect 0, variance σb²).
    pub new_items: usize,
}

/// Fits y = μ + θ_{model,day} + b_j + e by alternating the day effects and
/// the shrunken item effects, re-estimating σe² and σb² each round.
pub fn fit_item_effects(answers: &[ScoredAnswer], version: u32) -> Result<ItemEffects, IrtError> {
    if answers.is_empty() {
        return Err(IrtError::Config(
            "item effects need at least one answer".into(),
        ));
    }
    if let Some((i, a)) = answers
        .iter()
        .enumerate()
        .find(|(_, a)| !a.score.is_finite())
    {
        return Err(IrtError::Config(format!(
            "answer {i} (model '{}', item '{}', day {}) has score {}, not a finite number",
            a.model, a.item, a.day, a.score
        )));
    }
    let mut item_index: HashMap<&str, usize> = HashMap::new();
    let mut cell_index: HashMap<(&str, i64), usize> = HashMap::new();
    let mut rows = Vec::with_capacity(answers.len());
    for a in answers {
        let items = item_index.len();
        let j = *item_index.entry(a.item.as_str()).or_insert(items);
        let cells = cell_index.len();
        let c = *cell_index.entry((a.model.as_str(), a.day)).or_insert(cells);
        rows.push((c, j, a.score));
    }
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r.2).sum::<f64>() / n;
    let mut answers_per_item = vec![0usize; item_index.len()];
    let mut answers_per_cell = vec![0usize; cell_index.len()];
    for &(c, j, _) in &rows {
        answers_per_item[j] += 1;
        answers_per_cell[c] += 1;
    }
    let mut day_effect = vec![0.0; cell_index.len()];
    let mut item_effect = vec![0.0; item_index.len()];
    // Start with little shrinkage; both variances are re-estimated below.
    let mut residual_var = rows.iter().map(|r| (r.2 - mean).powi(2)).sum::<f64>() / n;
    let mut item_var = residual_var.max(1e-6);
    for _ in 0..200 {
        let mut sums = vec![0.0; cell_index.len()];
        for &(c, j, y) in &rows {
            sums[c] += y - mean - item_effect[j];
        }
        for (c, s) in sums.iter().enumerate() {
            day_effect[c] = s / answers_per_cell[c] as f64;
        }
        let mut sums = vec![0.0; item_index.len()];
        for &(c, j, y) in &rows {
            sums[j] += y - mean - day_effect[c];
        }
        let ratio = residual_var / item_var;
        let mut largest_change: f64 = 0.0;
        for (j, s) in sums.iter().enumerate() {
            let next = s / (answers_per_item[j] as f64 + ratio);
            largest_change = largest_change.max((next - item_effect[j]).abs());
            item_effect[j] = next;
        }
        let sse: f64 = rows
            .iter()
            .map(|&(c, j, y)| (y - mean - day_effect[c] - item_effect[j]).powi(2))
            .sum();
        // Degrees of freedom: answers minus the day effects and the
        // effective number of (shrunken) item effects fitted.
        let item_dof: f64 = answers_per_item
            .iter()
            .map(|&nj| nj as f64 / (nj as f64 + ratio))
            .sum();
        let dof = (n - cell_index.len() as f64 - item_dof).max(1.0);
        residual_var = (sse / dof).max(1e-9);
        // σb² = spread of b̂ plus what shrinkage took out: mean(b̂²) + mean(Var(b̂)).
        let items = item_effect.len() as f64;
        let posterior_var: f64 = answers_per_item
            .iter()
            .map(|&nj| residual_var / (nj as f64 + residual_var / item_var))
            .sum::<f64>();
        item_var =
            ((item_effect.iter().map(|b| b * b).sum::<f64>() + posterior_var) / items).max(1e-6);
        if largest_change < 1e-9 {
            break;
        }
    }
    let mut names: Vec<(&str, usize)> = item_index.into_iter().collect();
    names.sort_unstable_by_key(|&(_, j)| j);
    Ok(ItemEffects {
        version,
        mean,
        residual_var,
        item_var,
        items: names
            .into_iter()
            .map(|(item, j)| ItemEffect {
                item: item.to_string(),
                effect: item_effect[j],
                effect_var: residual_var / (answers_per_item[j] as f64 + residual_var / item_var),
                answers: answers_per_item[j],
            })
            .collect(),
    })
}

impl ItemEffects {
    /// The difficulty-adjusted score of one model-day from its (item, score) answers.
    pub fn adjusted_score(&self, answers: &[(&str, f64)]) -> Option<AdjustedScore> {
        if answers.is_empty() {
            return None;
        }
        let index: HashMap<&str, &ItemEffect> =
            self.items.iter().map(|e| (e.item.as_str(), e)).collect();
        let n = answers.len() as f64;
        let mut sum = 0.0;
        let mut effect_var = 0.0;
        let mut new_items = 0;
        for &(item, y) in answers {
            match index.get(item) {
                Some(e) => {
                    sum += y - self.mean - e.effect;
                    effect_var += e.effect_var;
                }
                None => {
                    sum += y - self.mean;
                    effect_var += self.item_var;
                    new_items += 1;
                }
            }
        }
        let effect = sum / n;
        Some(AdjustedScore {
            effect,
            score: self.mean + effect,
            variance: self.residual_var / n + effect_var / (n * n),
            new_items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Simulated k-of-K data from known abilities and item parameters.
    fn simulate(
        abilities: &[f64],
        items: &[(f64, f64)],
        trials: u32,
        seed: u64,
    ) -> (Vec<String>, Vec<String>, Vec<ResponseCell>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut cells = Vec::new();
        for (m, &theta) in abilities.iter().enumerate() {
            for (j, &(a, b)) in items.iter().enumerate() {
                let p = logistic(a * (theta - b));
                let correct = (0..trials).filter(|_| rng.gen::<f64>() < p).count() as u32;
                cells.push(ResponseCell {
                    model: m,
                    item: j,
                    correct,
                    trials,
                });
            }
        }
        (
            (0..abilities.len()).map(|m| format!("model-{m}")).collect(),
            (0..items.len()).map(|j| format!("item-{j}")).collect(),
            cells,
        )
    }

    fn correlation(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        sxy / (sxx * syy).sqrt()
    }

    #[test]
    fn rasch_recovers_known_difficulties_and_abilities() {
        let abilities: Vec<f64> = (0..30).map(|m| -1.5 + 3.0 * m as f64 / 29.0).collect();
        let items: Vec<(f64, f64)> = (0..60)
            .map(|j| (1.0, -2.0 + 4.0 * j as f64 / 59.0))
            .collect();
        let (models, names, cells) = simulate(&abilities, &items, 20, 7);
        let set = calibrate(&models, &names, &cells, &CalibrationConfig::default(), 3).unwrap();
        assert!(set.converged, "{} sweeps", set.sweeps);
        assert_eq!(set.version, 3);
        let b: Vec<f64> = set.items.iter().map(|p| p.difficulty).collect();
        let true_b: Vec<f64> = items.iter().map(|i| i.1).collect();
        let mean_true = true_b.iter().sum::<f64>() / true_b.len() as f64;
        let rmse = (b
            .iter()
            .zip(&true_b)
            .map(|(e, t)| (e - (t - mean_true)).powi(2))
            .sum::<f64>()
            / b.len() as f64)
            .sqrt();
        assert!(rmse < 0.2, "difficulty RMSE {rmse}");
        let theta: Vec<f64> = set.abilities.iter().map(|a| a.ability).collect();
        assert!(correlation(&theta, &abilities) > 0.98);
        assert!(b.iter().sum::<f64>().abs() < 1e-9, "centred");
        // Reported SEs are of the right size: about 1/sqrt(Σ K p(1−p)).
        let se = set.items[30].difficulty_se;
        assert!(se > 0.05 && se < 0.15, "se {se}");
    }

    #[test]
    fn two_pl_recovers_discriminations() {
        let abilities: Vec<f64> = (0..40).map(|m| -2.0 + 4.0 * m as f64 / 39.0).collect();
        let items: Vec<(f64, f64)> = (0..40)
            .map(|j| {
                (
                    if j % 2 == 0 { 0.6 } else { 1.8 },
                    -1.5 + 3.0 * j as f64 / 39.0,
                )
            })
            .collect();
        let (models, names, cells) = simulate(&abilities, &items, 30, 11);
        let config = CalibrationConfig {
            model: IrtModel::TwoPl,
            ..CalibrationConfig::default()
        };
        let set = calibrate(&models, &names, &cells, &config, 1).unwrap();
        assert!(set.converged);
        let mean_a = |parity: usize| {
            let a: Vec<f64> = set
                .items
                .iter()
                .enumerate()
                .filter(|(j, _)| j % 2 == parity)
                .map(|(_, p)| p.discrimination)
                .collect();
            a.iter().sum::<f64>() / a.len() as f64
        };
        let (low, high) = (mean_a(0), mean_a(1));
        assert!((low - 0.6).abs() < 0.2, "low a {low}");
        assert!((high - 1.8).abs() < 0.45, "high a {high}");
        let b: Vec<f64> = set.items.iter().map(|p| p.difficulty).collect();
        let true_b: Vec<f64> = items.iter().map(|i| i.1).collect();
        assert!(correlation(&b, &true_b) > 0.95);
    }

    #[test]
    fn items_without_variance_are_reported_not_fitted() {
        let models = vec!["a".to_string(), "b".to_string()];
        let items: Vec<String> = ["easy", "hard", "mixed"].map(String::from).to_vec();
        let cell = |model, item, correct| ResponseCell {
            model,
            item,
            correct,
            trials: 2,
        };
        let cells = [
            cell(0, 0, 2),
            cell(1, 0, 2),
            cell(0, 1, 0),
            cell(1, 1, 0),
            cell(0, 2, 2),
            cell(1, 2, 0),
        ];
        let set = calibrate(&models, &items, &cells, &CalibrationConfig::default(), 1).unwrap();
        assert_eq!(set.uninformative_items, vec!["easy", "hard"]);
        assert_eq!(set.items.len(), 1);
        assert_eq!(set.items[0].item, "mixed");
        assert!(set.abilities[0].ability > set.abilities[1].ability);
        let only_easy = [cell(0, 0, 2)];
        assert_eq!(
            calibrate(
                &models,
                &items,
                &only_easy,
                &CalibrationConfig::default(),
                1
            ),
            Err(IrtError::NothingInformative)
        );
    }

    #[test]
    fn bad_responses_are_named() {
        let models = vec!["a".to_string()];
        let items = vec!["q1".to_string()];
        let bad = [ResponseCell {
            model: 0,
            item: 0,
            correct: 3,
            trials: 2,
        }];
        let err = calibrate(&models, &items, &bad, &CalibrationConfig::default(), 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model 'a', item 'q1'") && err.contains("3 correct of 2"),
            "{err}"
        );
        let out_of_range = [ResponseCell {
            model: 0,
            item: 5,
            correct: 0,
            trials: 1,
        }];
        assert!(matches!(
            calibrate(
                &models,
                &items,
                &out_of_range,
                &CalibrationConfig::default(),
                1
            ),
            Err(IrtError::ItemIndex { item: 5, .. })
        ));
    }

    fn example_set() -> ParameterSet {
        let abilities: Vec<f64> = (0..20).map(|m| -1.0 + 2.0 * m as f64 / 19.0).collect();
        let items: Vec<(f64, f64)> = (0..30)
            .map(|j| (1.0, -1.5 + 3.0 * j as f64 / 29.0))
            .collect();
        let (models, names, cells) = simulate(&abilities, &items, 10, 3);
        calibrate(&models, &names, &cells, &CalibrationConfig::default(), 2).unwrap()
    }

    #[test]
    fn all_right_and_all_wrong_days_have_finite_abilities() {
        let set = example_set();
        let prior = AbilityPrior { mean: 0.0, sd: 1.0 };
        let items: Vec<&str> = set.items.iter().take(5).map(|p| p.item.as_str()).collect();
        let right: Vec<(&str, bool)> = items.iter().map(|&i| (i, true)).collect();
        let wrong: Vec<(&str, bool)> = items.iter().map(|&i| (i, false)).collect();
        let high = set.daily_ability(&right, prior, 0.95).unwrap();
        let low = set.daily_ability(&wrong, prior, 0.95).unwrap();
        for e in [&high, &low] {
            assert!(e.ability.is_finite() && e.ability.abs() < 4.0, "{e:?}");
            assert!(e.ability_se.is_finite() && e.ability_se > 0.0);
            assert!(e.score_low < e.score && e.score < e.score_high, "{e:?}");
            assert!((0.0..=100.0).contains(&e.score_low) && e.score_high <= 100.0);
        }
        assert!(high.ability > 0.5 && low.ability < -0.5);
        // The prior alone gives the SE of the prior.
        let none = set
            .daily_ability(&[("unknown", true)], prior, 0.95)
            .unwrap();
        assert_eq!(none.ability, 0.0);
        assert!((none.ability_se - 1.0).abs() < 1e-12);
        assert_eq!(none.items_skipped, vec!["unknown"]);
        assert!(set
            .daily_ability(&right, AbilityPrior { mean: 0.0, sd: 0.0 }, 0.95)
            .is_err());
    }

    #[test]
    fn daily_ability_satisfies_the_map_equation() {
        let set = example_set();
        let prior = AbilityPrior { mean: 0.2, sd: 1.5 };
        let answers: Vec<(&str, bool)> = set
            .items
            .iter()
            .enumerate()
            .map(|(j, p)| (p.item.as_str(), j % 3 != 0))
            .collect();
        let e = set.daily_ability(&answers, prior, 0.95).unwrap();
        let t: f64 = (prior.mean - e.ability) / (prior.sd * prior.sd)
            + set
                .items
                .iter()
                .zip(&answers)
                .map(|(p, &(_, u))| f64::from(u8::from(u)) - logistic(e.ability - p.difficulty))
                .sum::<f64>();
        assert!(t.abs() < 1e-8, "T(θ̂) = {t}");
        // Score is the reference-scale mean probability.
        assert!((e.score - set.reference_score(e.ability)).abs() < 1e-12);
        assert_eq!(e.items_used, answers.len());
    }

    #[test]
    fn item_effects_recover_easy_and_hard_items_and_adjust_the_day() {
        let mut rng = StdRng::seed_from_u64(5);
        let true_effects: Vec<f64> = (0..40).map(|j| -20.0 + 40.0 * j as f64 / 39.0).collect();
        let mut answers = Vec::new();
        for day in 0..60i64 {
            for model in 0..10usize {
                for k in 0..4 {
                    let j = (day as usize * 7 + k * 11) % 40;
                    let noise: f64 = (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0;
                    answers.push(ScoredAnswer {
                        model: format!("m{model}"),
                        item: format!("i{j}"),
                        day,
                        score: 60.0 + model as f64 + true_effects[j] + 10.0 * noise,
                    });
                }
            }
        }
        let fit = fit_item_effects(&answers, 4).unwrap();
        assert!(
            (fit.residual_var.sqrt() - 10.0).abs() < 1.0,
            "σe {}",
            fit.residual_var.sqrt()
        );
        let estimated: HashMap<&str, f64> = fit
            .items
            .iter()
            .map(|e| (e.item.as_str(), e.effect))
            .collect();
        let mut errors = 0.0;
        for (j, t) in true_effects.iter().enumerate() {
            errors += (estimated[format!("i{j}").as_str()] - t).powi(2);
        }
        let rmse = (errors / 40.0).sqrt();
        assert!(rmse < 3.0, "item effect RMSE {rmse}");
        // A day of the four hardest items is adjusted up, of the easiest down.
        let hard: Vec<(&str, f64)> = vec![("i0", 45.0), ("i1", 46.0), ("i2", 47.0), ("i3", 48.0)];
        let adjusted = fit.adjusted_score(&hard).unwrap();
        assert!(adjusted.score > 60.0, "{adjusted:?}");
        let expected_var = fit.residual_var / 4.0
            + fit
                .items
                .iter()
                .filter(|e| ["i0", "i1", "i2", "i3"].contains(&e.item.as_str()))
                .map(|e| e.effect_var)
                .sum::<f64>()
                / 16.0;
        assert!((adjusted.variance - expected_var).abs() < 1e-9);
        let unseen = fit.adjusted_score(&[("new", 70.0)]).unwrap();
        assert_eq!(unseen.new_items, 1);
        assert!((unseen.variance - (fit.residual_var + fit.item_var)).abs() < 1e-9);
        assert!(fit.adjusted_score(&[]).is_none());
    }
}
