//! The day effect (METHODS.md): y_{m,t} = α_m + γ_t + δ_{m,t}. Every model
//! answers the same items on a day, so a move shared by the whole field (γ̂_t:
//! harder items, a harness or judge change) is separated from each model's
//! own move (δ̂_{m,t}).
//!
//! For the latest day t: α̂_m is the mean of the model's earlier days (its
//! baseline), its absolute move a_m = y_{m,t} − α̂_m, the field's move
//! γ̂_t = mean over models of a_m, and the relative move δ̂_m = a_m − γ̂_t.
//! Variances treat models as independent:
//! Var(a_m) = v_m = SE(y_{m,t})² + Var(α̂_m), Var(γ̂) = Σ v_k / M²,
//! Var(δ̂_m) = (1 − 1/M)² v_m + Σ_{k≠m} v_k / M².
//! Shared items make models' sampling errors positively correlated, which
//! these formulas ignore, so the SE of δ̂ errs on the wide side.

use crate::dist::normal_cdf;
use serde::{Deserialize, Serialize};

/// A score with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub score: f64,
    pub se: f64,
}

/// One model's history as the day effect needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDays {
    /// The latest day's score.
    pub latest: Scored,
    /// Earlier days (the baseline), any order.
    pub baseline: Vec<Scored>,
}

/// A model's move on the latest day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelMove {
    /// y_{m,t} − α̂_m.
    pub absolute: f64,
    pub absolute_se: f64,
    /// δ̂_{m,t}: the absolute move minus the field's.
    pub relative: f64,
    pub relative_se: f64,
    /// Two-sided normal p-value of the relative move.
    pub relative_p: f64,
    /// Baseline days behind α̂_m.
    pub baseline_days: usize,
}

/// The field's move on the latest day and each model's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayEffect {
    /// γ̂_t: the mean absolute move of the models with a baseline.
    pub field_move: f64,
    pub field_se: f64,
    /// Models behind γ̂_t.
    pub models: usize,
    /// One entry per input model, in input order; `None` for a model with
    /// no baseline day (it takes no part in γ̂_t).
    pub moves: Vec<Option<ModelMove>>,
}

/// α̂ and Var(α̂): the baseline mean with the spread of the baseline days
/// (which holds both day-to-day variation and sampling) over their count;
/// with a single day only that day's sampling variance is known.
fn baseline(days: &[Scored]) -> Option<(f64, f64)> {
    let t = days.len();
    if t == 0 {
        return None;
    }
    let mean = days.iter().map(|d| d.score).sum::<f64>() / t as f64;
    let var = if t == 1 {
        days[0].se.powi(2)
    } else {
        days.iter().map(|d| (d.score - mean).powi(2)).sum::<f64>() / ((t - 1) * t) as f64
    };
    Some((mean, var))
}

/// The day effect of the latest day. `None` unless at least two models
/// have a baseline: with one model its whole move is "the field's".
pub fn day_effect(models: &[ModelDays]) -> Option<DayEffect> {
    let absolute: Vec<Option<(f64, f64)>> = models
        .iter()
        .map(|m| {
            let (alpha, alpha_var) = baseline(&m.baseline)?;
            Some((m.latest.score - alpha, m.latest.se.powi(2) + alpha_var))
        })
        .collect();
    let present: Vec<(f64, f64)> = absolute.iter().flatten().copied().collect();
    let count = present.len();
    if count < 2 {
        return None;
    }
    let mf = count as f64;
    let field_move = present.iter().map(|(a, _)| a).sum::<f64>() / mf;
    let total_var: f64 = present.iter().map(|(_, v)| v).sum();
    let moves = absolute
        .iter()
        .zip(models)
        .map(|(a, m)| {
            let (abs, v) = (*a)?;
            let relative = abs - field_move;
            let relative_se = ((1.0 - 1.0 / mf).powi(2) * v + (total_var - v) / (mf * mf)).sqrt();
            Some(ModelMove {
                absolute: abs,
                absolute_se: v.sqrt(),
                relative,
                relative_se,
                relative_p: two_sided_p(relative, relative_se),
                baseline_days: m.baseline.len(),
            })
        })
        .collect();
    Some(DayEffect {
        field_move,
        field_se: total_var.sqrt() / mf,
        models: count,
        moves,
    })
}

/// Two-sided normal p-value of `value` with standard error `se` (an SE of 0
/// makes any non-zero value certain).
fn two_sided_p(value: f64, se: f64) -> f64 {
    if se > 0.0 {
        2.0 * normal_cdf(-(value / se).abs())
    } else if value == 0.0 {
        1.0
    } else {
        0.0
    }
}

/// One model's move against the mean move of the other models (leave one
/// out, so that a model's own drop does not pull its reference down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AgainstOthers {
    /// Models behind the others' mean.
    pub others: usize,
    pub others_move: f64,
    pub others_se: f64,
    pub own_move: f64,
    pub own_se: f64,
    /// own − others.
    pub relative: f64,
    pub relative_se: f64,
    /// Two-sided normal p-value of `relative`.
    pub relative_p: f64,
}

/// Model `index` against the others, from every model's move and its
/// variance (`None`: no move to compare). `None` when model `index` has no
/// move or fewer than `min_others` others have one. Models are treated as
/// independent, as in [`day_effect`].
pub fn against_others(
    moves: &[Option<(f64, f64)>],
    index: usize,
    min_others: usize,
) -> Option<AgainstOthers> {
    let (own_move, own_var) = moves.get(index).copied().flatten()?;
    let others: Vec<(f64, f64)> = moves
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .filter_map(|(_, m)| *m)
        .collect();
    if others.is_empty() || others.len() < min_others {
        return None;
    }
    let n = others.len() as f64;
    let others_move = others.iter().map(|(m, _)| m).sum::<f64>() / n;
    let others_var = others.iter().map(|(_, v)| v).sum::<f64>() / (n * n);
    let relative = own_move - others_move;
    let relative_se = (own_var + others_var).sqrt();
    Some(AgainstOthers {
        others: others.len(),
        others_move,
        others_se: others_var.sqrt(),
        own_move,
        own_se: own_var.sqrt(),
        relative,
        relative_se,
        relative_p: two_sided_p(relative, relative_se),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
    }

    fn days(latest: f64, baseline: &[f64]) -> ModelDays {
        ModelDays {
            latest: Scored {
                score: latest,
                se: 2.0,
            },
            baseline: baseline
                .iter()
                .map(|&score| Scored { score, se: 2.0 })
                .collect(),
        }
    }

    #[test]
    fn a_shared_drop_is_the_fields_not_the_models() {
        // Everyone drops 10 points: γ̂ = −10 and every δ̂ = 0.
        let field = [
            days(80.0, &[90.0, 90.0, 90.0]),
            days(60.0, &[70.0, 70.0, 70.0]),
            days(40.0, &[50.0, 50.0, 50.0]),
        ];
        let e = day_effect(&field).unwrap();
        close(e.field_move, -10.0, 1e-12);
        for m in e.moves.iter().flatten() {
            close(m.absolute, -10.0, 1e-12);
            close(m.relative, 0.0, 1e-12);
            close(m.relative_p, 1.0, 1e-12);
        }
    }

    #[test]
    fn one_models_drop_stands_out_against_a_steady_field() {
        let field = [
            days(70.0, &[90.0, 88.0, 92.0]),
            days(71.0, &[70.0, 72.0, 68.0]),
            days(49.0, &[50.0, 52.0, 48.0]),
            days(60.0, &[]),
        ];
        let e = day_effect(&field).unwrap();
        assert_eq!(e.models, 3);
        assert!(e.moves[3].is_none());
        // a = −20, +1, −1 → γ̂ = −20/3; δ̂₀ = −20 + 20/3.
        close(e.field_move, -20.0 / 3.0, 1e-12);
        let m0 = e.moves[0].unwrap();
        close(m0.relative, -40.0 / 3.0, 1e-12);
        // v = 2² + (sd² = 4)/3 = 16/3 for each model.
        let v: f64 = 4.0 + 4.0 / 3.0;
        close(m0.absolute_se, v.sqrt(), 1e-12);
        close(
            m0.relative_se,
            ((2.0f64 / 3.0).powi(2) * v + 2.0 * v / 9.0).sqrt(),
            1e-12,
        );
        close(e.field_se, (3.0 * v).sqrt() / 3.0, 1e-12);
        assert!(m0.relative_p < 0.001, "{}", m0.relative_p);
        assert_eq!(m0.baseline_days, 3);
        // A single baseline day: its sampling SE stands in for Var(α̂).
        let e = day_effect(&[days(80.0, &[90.0]), days(70.0, &[70.0])]).unwrap();
        close(e.moves[0].unwrap().absolute_se, 8.0_f64.sqrt(), 1e-12);
    }

    #[test]
    fn against_others_leaves_the_model_out() {
        // Moves −20, −2, +1, none; variances 4, 1, 1.
        let moves = [
            Some((-20.0, 4.0)),
            Some((-2.0, 1.0)),
            Some((1.0, 1.0)),
            None,
        ];
        let a = against_others(&moves, 0, 2).unwrap();
        assert_eq!(a.others, 2);
        close(a.others_move, -0.5, 1e-12);
        close(a.others_se, (2.0f64 / 4.0).sqrt(), 1e-12);
        close(a.relative, -19.5, 1e-12);
        close(a.relative_se, 4.5f64.sqrt(), 1e-12);
        close(a.relative_p, 2.0 * normal_cdf(-19.5 / 4.5f64.sqrt()), 1e-15);
        // Too few others, or no move of its own: nothing to compare.
        assert!(against_others(&moves, 0, 3).is_none());
        assert!(against_others(&moves, 3, 1).is_none());
        assert!(against_others(&[Some((1.0, 1.0))], 0, 0).is_none());
    }

    #[test]
    fn needs_two_models_with_a_baseline() {
        assert!(day_effect(&[days(80.0, &[90.0]), days(70.0, &[])]).is_none());
        assert!(day_effect(&[]).is_none());
    }
}
