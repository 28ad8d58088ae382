//! The index formulas of SPEC §1: dimension scores, main score, integrity gate
//! and cap, stability, availability, value.

use crate::Dimension;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAIN_WEIGHT_CODE: f64 = 0.55;
pub const MAIN_WEIGHT_GROUNDING: f64 = 0.45;
pub const GATE_PASS_AT: f64 = 60.0;
pub const GATE_WARN_AT: f64 = 40.0;
pub const FAIL_CAP: f64 = 74.0;
/// Stability needs at least this many runs to mean anything.
pub const STABILITY_MIN_RUNS: usize = 3;

/// main = 0.55 × code execution + 0.45 × grounding.
pub fn main_score(code_execution: f64, grounding: f64) -> f64 {
    MAIN_WEIGHT_CODE * code_execution + MAIN_WEIGHT_GROUNDING * grounding
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Integrity ≥ 60: recommended.
    Pass,
    /// 40 ≤ integrity < 60: neutral, ranked with a flag.
    Warn,
    /// Integrity < 40: not recommended; the published main score is capped at 74.0.
    Fail,
}

impl Gate {
    pub fn from_integrity(score: f64) -> Gate {
        if score >= GATE_PASS_AT {
            Gate::Pass
        } else if score >= GATE_WARN_AT {
            Gate::Warn
        } else {
            Gate::Fail
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Gate::Pass => "pass",
            Gate::Warn => "warn",
            Gate::Fail => "fail",
        }
    }
}

/// The main score as published, with the raw value and why they differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MainScore {
    pub raw: f64,
    pub published: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_reason: Option<String>,
}

/// Applies the integrity gate to a raw main score.
pub fn publish_main(raw: f64, integrity: Option<f64>) -> MainScore {
    match integrity {
        Some(i) if Gate::from_integrity(i) == Gate::Fail && raw > FAIL_CAP => MainScore {
            raw,
            published: FAIL_CAP,
            cap_reason: Some(format!(
                "integrity {i:.2} < {GATE_WARN_AT} (gate fail): main score capped at {FAIL_CAP:.1}"
            )),
        },
        _ => MainScore {
            raw,
            published: raw,
            cap_reason: None,
        },
    }
}

/// Sample standard deviation (n − 1); `None` below two values.
pub fn sample_sd(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    Some((ss / (n - 1.0)).sqrt())
}

/// stability = max(0, 100 − 2σ) over the given main scores (the model's last W
/// runs of one kind); `None` ("n/a") with fewer than three runs.
pub fn stability(main_scores: &[f64]) -> Option<f64> {
    if main_scores.len() < STABILITY_MIN_RUNS {
        return None;
    }
    sample_sd(main_scores).map(|sd| (100.0 - 2.0 * sd).max(0.0))
}

/// What happened to one attempt, as the scoring needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptOutcome {
    pub item_id: String,
    pub dimension: Dimension,
    pub epoch: u32,
    /// The item score (0–100) if the model answered and the answer was graded;
    /// `None` for a vendor failure (it counts against availability only) or an
    /// answer not graded yet.
    pub score: Option<f64>,
    /// Whether the model answered (false = vendor failure).
    pub answered: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// Mean of the item scores (each item first averaged over its epochs).
    pub score: f64,
    /// Items with at least one graded answer.
    pub items: usize,
    /// Per-item scores (epoch means), for intervals and audits.
    pub item_scores: Vec<f64>,
}

/// Everything the index computes for one model in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunScores {
    pub dimensions: BTreeMap<Dimension, DimensionScore>,
    /// `None` when the run has no code-execution or no grounding score.
    pub main: Option<MainScore>,
    pub gate: Option<Gate>,
    pub attempts: usize,
    pub answered: usize,
    /// Answered ÷ attempts; `None` for no attempts.
    pub availability: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// Published main score per US dollar; `None` when free or without a main score.
    pub value: Option<f64>,
}

impl RunScores {
    pub fn dimension(&self, d: Dimension) -> Option<f64> {
        self.dimensions.get(&d).map(|s| s.score)
    }
}

/// Computes one model's scores in one run. `cost` turns token counts into dollars.
pub fn score_run(outcomes: &[AttemptOutcome], cost: impl Fn(u64, u64) -> f64) -> RunScores {
    // item -> (dimension, sum, count) over graded epochs
    let mut per_item: BTreeMap<&str, (Dimension, f64, u32)> = BTreeMap::new();
    for o in outcomes {
        if let Some(s) = o.score {
            let e = per_item.entry(&o.item_id).or_insert((o.dimension, 0.0, 0));
            e.1 += s;
            e.2 += 1;
        }
    }
    let mut by_dim: BTreeMap<Dimension, Vec<f64>> = BTreeMap::new();
    for (dim, sum, n) in per_item.values() {
        by_dim.entry(*dim).or_default().push(sum / f64::from(*n));
    }
    let dimensions: BTreeMap<Dimension, DimensionScore> = by_dim
        .into_iter()
        .map(|(d, item_scores)| {
            let score = item_scores.iter().sum::<f64>() / item_scores.len() as f64;
            (
                d,
                DimensionScore {
                    score,
                    items: item_scores.len(),
                    item_scores,
                },
            )
        })
        .collect();
    let get = |d| dimensions.get(&d).map(|s: &DimensionScore| s.score);
    let integrity = get(Dimension::Integrity);
    let main = match (get(Dimension::CodeExecution), get(Dimension::Grounding)) {
        (Some(c), Some(g)) => Some(publish_main(main_score(c, g), integrity)),
        _ => None,
    };
    let attempts = outcomes.len();
    let answered = outcomes.iter().filter(|o| o.answered).count();
    let input_tokens = outcomes.iter().map(|o| o.input_tokens).sum();
    let output_tokens = outcomes.iter().map(|o| o.output_tokens).sum();
    let cost_usd = cost(input_tokens, output_tokens);
    let value = match &main {
        Some(m) if cost_usd > 0.0 => Some(m.published / cost_usd),
        _ => None,
    };
    RunScores {
        gate: integrity.map(Gate::from_integrity),
        dimensions,
        main,
        attempts,
        answered,
        availability: (attempts > 0).then(|| answered as f64 / attempts as f64),
        input_tokens,
        output_tokens,
        cost_usd,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn main_score_reproduces_published_values() {
        assert!(close(main_score(95.0, 80.5), 88.475));
        assert_eq!(format!("{:.2}", main_score(95.0, 80.5)), "88.48");
        let capped = publish_main(main_score(92.5, 78.5), Some(30.0));
        assert_eq!(format!("{:.2}", capped.raw), "86.20");
        assert_eq!(capped.published, 74.0);
        assert!(capped.cap_reason.unwrap().contains("capped at 74.0"));
    }

    #[test]
    fn gate_thresholds() {
        assert_eq!(Gate::from_integrity(60.0), Gate::Pass);
        assert_eq!(Gate::from_integrity(59.99), Gate::Warn);
        assert_eq!(Gate::from_integrity(40.0), Gate::Warn);
        assert_eq!(Gate::from_integrity(39.99), Gate::Fail);
        // warn never caps; fail below the cap leaves the score alone
        assert_eq!(publish_main(90.0, Some(45.0)).published, 90.0);
        assert_eq!(
            publish_main(70.0, Some(10.0)),
            MainScore {
                raw: 70.0,
                published: 70.0,
                cap_reason: None
            }
        );
    }

    #[test]
    fn stability_needs_three_runs_and_floors_at_zero() {
        assert_eq!(stability(&[80.0, 90.0]), None);
        // sd of 80, 90, 100 is 10 → 100 − 20
        assert!(close(stability(&[80.0, 90.0, 100.0]).unwrap(), 80.0));
        assert_eq!(stability(&[0.0, 100.0, 0.0, 100.0]), Some(0.0));
    }

    fn outcome(item: &str, d: Dimension, epoch: u32, score: Option<f64>) -> AttemptOutcome {
        AttemptOutcome {
            item_id: item.into(),
            dimension: d,
            epoch,
            score,
            answered: score.is_some(),
            input_tokens: 1_000_000,
            output_tokens: 0,
        }
    }

    #[test]
    fn run_scores_average_epochs_then_items_and_exclude_failures() {
        use Dimension::*;
        let outcomes = vec![
            outcome("c1", CodeExecution, 0, Some(100.0)),
            outcome("c1", CodeExecution, 1, Some(0.0)),
            outcome("c2", CodeExecution, 0, Some(100.0)),
            outcome("c3", CodeExecution, 0, None), // vendor failure: not a zero
            outcome("g1", Grounding, 0, Some(80.0)),
            outcome("i1", Integrity, 0, Some(0.0)),
        ];
        let s = score_run(&outcomes, |i, o| (i + o) as f64 / 1e6 * 2.0);
        assert!(close(s.dimension(CodeExecution).unwrap(), 75.0));
        let main = s.main.unwrap();
        assert!(close(main.raw, 0.55 * 75.0 + 0.45 * 80.0));
        assert_eq!(main.published, 74.0);
        assert_eq!(s.gate, Some(Gate::Fail));
        assert!(close(s.availability.unwrap(), 5.0 / 6.0));
        assert!(close(s.cost_usd, 12.0));
        assert!(close(s.value.unwrap(), 74.0 / 12.0));
    }
}
