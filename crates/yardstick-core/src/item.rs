use crate::Dimension;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How an answer is graded. Bank files write it as a table with a `type` key:
/// `grader = { type = "numeric", tolerance = 0.01 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraderSpec {
    /// The answer equals one of the item's references after normalisation
    /// (trim, collapse whitespace, case-fold unless `case_sensitive`, strip
    /// surrounding quotes, code fences and trailing punctuation).
    Exact {
        #[serde(default)]
        case_sensitive: bool,
    },
    /// Every pattern must match the answer (`must_match = true`) or none may
    /// (`must_match = false`); score = share of patterns that behave.
    Regex {
        patterns: Vec<String>,
        #[serde(default = "yes")]
        must_match: bool,
        #[serde(default)]
        case_insensitive: bool,
    },
    /// A number in the answer equals the first reference within tolerance.
    Numeric {
        #[serde(default)]
        tolerance: f64,
        /// Relative tolerance (fraction of the reference), applied on top of `tolerance`.
        #[serde(default)]
        relative: f64,
        #[serde(default)]
        pick: NumberPick,
    },
    /// The answer is (or contains) a JSON value whose fields match; score = share of fields.
    JsonFields { fields: Vec<JsonFieldCheck> },
    /// A multiple-choice letter (or label) equal to the first reference.
    Choice { choices: Vec<String> },
    /// An order of labels compared with the reference order.
    Ranking {
        order: Vec<String>,
        #[serde(default)]
        rule: RankingRule,
    },
}

fn yes() -> bool {
    true
}

impl GraderSpec {
    /// The grader id stored with every grade.
    pub fn grader_id(&self) -> &'static str {
        match self {
            GraderSpec::Exact { .. } => "exact",
            GraderSpec::Regex { .. } => "regex",
            GraderSpec::Numeric { .. } => "numeric",
            GraderSpec::JsonFields { .. } => "json_fields",
            GraderSpec::Choice { .. } => "choice",
            GraderSpec::Ranking { .. } => "ranking",
        }
    }
}

/// Which number of the answer a numeric grader reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberPick {
    /// The last number in the answer (models tend to end with the result).
    #[default]
    Last,
    First,
    /// The answer must contain exactly one number.
    Only,
}

/// How partial credit is given for a ranking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankingRule {
    /// 100 × share of label pairs in the reference's relative order
    /// (a normalised Kendall distance); exact order = 100, reversed = 0.
    #[default]
    Pairwise,
    /// 100 for the exact order, 0 otherwise.
    ExactOnly,
    /// 100 × share of labels in their reference position.
    Position,
}

/// One field check of a `json_fields` grader: `path` is dot-separated, array
/// indexes are numbers (`items.0.name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFieldCheck {
    pub path: String,
    /// Expected value; absent means the field only has to exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
}

/// A bank item. Its version is the hash of everything else in it, so a changed
/// item is a new item version and old attempts keep pointing at the text they saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub dimension: Dimension,
    pub prompt: String,
    /// Optional system message sent before the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Source material the prompt refers to (sent above the prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materials: Option<String>,
    /// Items sharing a cluster (e.g. a source document) are not independent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub grader: GraderSpec,
    /// Reference answer(s); the first is the canonical one.
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Item {
    /// Content hash (16 hex digits of SHA-256 over the item's canonical JSON).
    pub fn version(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("items always serialize");
        let digest = Sha256::digest(&canonical);
        hex::encode(&digest[..8])
    }

    /// The user message as sent to the model: materials first, then the prompt.
    pub fn user_message(&self) -> String {
        match &self.materials {
            Some(m) => format!("{m}\n\n{}", self.prompt),
            None => self.prompt.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            id: "arith-1".into(),
            dimension: Dimension::Judgment,
            prompt: "What is 2+2?".into(),
            system: None,
            materials: None,
            cluster: None,
            grader: GraderSpec::Numeric {
                tolerance: 0.0,
                relative: 0.0,
                pick: NumberPick::Last,
            },
            references: vec!["4".into()],
            tags: vec![],
        }
    }

    #[test]
    fn version_changes_with_content_and_only_with_content() {
        let a = item();
        assert_eq!(a.version(), item().version());
        assert_eq!(a.version().len(), 16);
        let mut b = item();
        b.prompt.push(' ');
        assert_ne!(a.version(), b.version());
        let mut c = item();
        c.references = vec!["5".into()];
        assert_ne!(a.version(), c.version());
    }

    #[test]
    fn grader_spec_reads_from_a_tagged_table() {
        let g: GraderSpec =
            serde_json::from_str(r#"{"type":"ranking","order":["B","A"],"rule":"position"}"#)
                .unwrap();
        assert_eq!(
            g,
            GraderSpec::Ranking {
                order: vec!["B".into(), "A".into()],
                rule: RankingRule::Position
            }
        );
        assert!(serde_json::from_str::<GraderSpec>(r#"{"type":"numeric","tolerence":1}"#).is_err());
    }
}
