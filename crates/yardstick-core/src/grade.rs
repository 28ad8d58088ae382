use serde::{Deserialize, Serialize};

/// One recorded check inside a grade ("the quote exists", "field `a` equals 3").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// Weight of this check in the item score.
    pub weight: f64,
    /// What was compared, in words a reader can audit.
    pub detail: String,
}

impl Check {
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            passed,
            weight: 1.0,
            detail: detail.into(),
        }
    }
}

/// The result of grading one answer. A regrade adds a new grade; old ones stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// Item score, 0–100 with partial credit.
    pub score: f64,
    pub grader_id: String,
    pub grader_version: String,
    pub checks: Vec<Check>,
    /// The artefact the grader took from the answer (a number, a JSON value,
    /// an order, code), so a reader sees what was graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
}

impl Grade {
    /// Score = weighted share of passed checks, on 0–100.
    pub fn from_checks(
        grader_id: impl Into<String>,
        grader_version: impl Into<String>,
        checks: Vec<Check>,
        extracted: Option<String>,
    ) -> Grade {
        let total = checks.iter().fold(0.0, |sum, c| sum + c.weight);
        let passed = checks
            .iter()
            .filter(|c| c.passed)
            .fold(0.0, |sum, c| sum + c.weight);
        let score = if total > 0.0 {
            100.0 * passed / total
        } else {
            0.0
        };
        Grade {
            score,
            grader_id: grader_id.into(),
            grader_version: grader_version.into(),
            checks,
            extracted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_weighted_share_and_never_negative_zero() {
        let mut heavy = Check::new("b", true, "");
        heavy.weight = 3.0;
        let g = Grade::from_checks("x", "1", vec![Check::new("a", false, ""), heavy], None);
        assert_eq!(g.score, 75.0);
        let none = Grade::from_checks("x", "1", vec![Check::new("a", false, "")], None);
        assert!(none.score == 0.0 && none.score.is_sign_positive());
        assert_eq!(serde_json::to_string(&none.score).unwrap(), "0.0");
    }
}
