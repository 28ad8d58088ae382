//! Judged grading: rubrics with anchored scales, the judged part of a rule
//! item, and the frozen calibration set a judge is re-checked against.
//!
//! A bank names a rubric once (`[rubrics.clarity]`) and items refer to it by
//! name; the loader puts the rubric's full content into each item, so an
//! item's version changes whenever its rubric does.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A named set of criteria, each scored on its own anchored scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    pub name: String,
    pub criteria: Vec<Criterion>,
}

/// One criterion: what is judged and what its scale points mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub description: String,
    /// In strictly increasing score order, starting at 0; the last anchor's
    /// score is the top of the scale.
    pub anchors: Vec<Anchor>,
}

/// A point of a criterion's scale and what an answer there looks like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    pub score: u32,
    pub meaning: String,
}

impl Criterion {
    /// The top of this criterion's scale (its highest anchor).
    pub fn max(&self) -> u32 {
        self.anchors.iter().map(|a| a.score).max().unwrap_or(0)
    }
}

impl Rubric {
    /// Σ of every criterion's scale maximum.
    pub fn max_total(&self) -> u32 {
        self.criteria.iter().map(Criterion::max).sum()
    }

    /// Rubric score on 0–100: Σ criterion scores / Σ maxima × 100. `None`
    /// when a criterion has no score, since a partial verdict must not pass
    /// for a low one.
    pub fn score(&self, scores: &BTreeMap<String, f64>) -> Option<f64> {
        let max = self.max_total();
        if max == 0 {
            return None;
        }
        let mut sum = 0.0;
        for c in &self.criteria {
            sum += scores.get(&c.id)?;
        }
        Some(100.0 * sum / f64::from(max))
    }
}

/// The judged part of an item whose main grader is a rule grader (task
/// expression: format by rule, clarity by the judge). Item score =
/// (1 − weight) · rule score + weight · judge score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgedPart {
    pub rubric: Rubric,
    /// In (0, 1].
    pub weight: f64,
}

impl JudgedPart {
    /// The item score from its two parts, both on 0–100.
    pub fn combine(&self, rule_score: f64, judge_score: f64) -> f64 {
        (1.0 - self.weight) * rule_score + self.weight * judge_score
    }
}

/// One frozen entry of the judge calibration set: an answer to a question,
/// scored per criterion by hand once and never changed, so a judge's scores
/// on it today can be compared with the frozen ones (drift).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationEntry {
    pub id: String,
    pub rubric: Rubric,
    pub question: String,
    pub reference: String,
    pub answer: String,
    /// Criterion id → frozen score on that criterion's scale.
    pub scores: BTreeMap<String, u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric() -> Rubric {
        let scale = |top: u32| {
            (0..=top)
                .step_by(top as usize)
                .map(|score| Anchor {
                    score,
                    meaning: format!("{score} points"),
                })
                .collect()
        };
        Rubric {
            name: "r".into(),
            criteria: vec![
                Criterion {
                    id: "accuracy".into(),
                    description: "right?".into(),
                    anchors: scale(5),
                },
                Criterion {
                    id: "brevity".into(),
                    description: "short?".into(),
                    anchors: scale(3),
                },
            ],
        }
    }

    #[test]
    fn rubric_score_is_sum_over_sum_of_maxima() {
        let r = rubric();
        assert_eq!(r.max_total(), 8);
        let scores = BTreeMap::from([("accuracy".to_string(), 4.0), ("brevity".to_string(), 2.0)]);
        assert_eq!(r.score(&scores), Some(75.0));
        let partial = BTreeMap::from([("accuracy".to_string(), 5.0)]);
        assert_eq!(r.score(&partial), None);
    }

    #[test]
    fn judged_part_weighs_rule_and_judge() {
        let part = JudgedPart {
            rubric: rubric(),
            weight: 0.3,
        };
        assert!((part.combine(100.0, 50.0) - 85.0).abs() < 1e-9);
    }
}
