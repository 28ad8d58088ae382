//! Graders turn a stored answer into a [`Grade`]: a 0–100 score plus every
//! check that produced it, so each score can be audited.
//!
//! A grader only reads the item and the answer text; it never calls the model
//! under test. That is what lets `yardstick regrade` re-grade stored answers
//! with the current graders. Graders that need I/O (a sandbox, a judge model)
//! implement the same async trait and report their own failures as
//! [`GradeError`] — an infrastructure failure is never a zero for the model.
//!
//! Rule graders: `exact`, `regex`, `numeric`, `json_fields`, `choice`,
//! `ranking` (in `rules`), and the checklist graders `grounding` (answer
//! inside the material), `integrity` (canary probes) and `format`
//! (structured-output compliance), whose rules are documented in their
//! modules.

mod common;
mod extract;
mod format;
mod grounding;
mod integrity;
mod rules;

use async_trait::async_trait;
use yardstick_core::{Grade, GraderSpec, Item};

pub use extract::{find_json, numbers_in, strip_code_fence};
pub use grounding::GROUNDING_DECLINES;
pub use integrity::INTEGRITY_DECLINES;

/// A grader could not produce a verdict (as opposed to the answer being wrong).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("grader `{grader}` could not grade item `{item}`: {message}")]
pub struct GradeError {
    pub grader: String,
    pub item: String,
    pub message: String,
}

#[async_trait]
pub trait Grader: Send + Sync {
    /// Grades one answer to `item`. `Err` means the grader failed, not the model.
    async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError>;
}

/// Dispatches each item to the grader its spec names.
#[derive(Debug, Default, Clone)]
pub struct Graders {
    rules: rules::RuleGrader,
}

impl Graders {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every grader today is a pure rule grader; the match stays exhaustive
    /// so a new spec variant has to say which grader serves it.
    fn grader_for(&self, spec: &GraderSpec) -> &dyn Grader {
        match spec {
            GraderSpec::Exact { .. }
            | GraderSpec::Regex { .. }
            | GraderSpec::Numeric { .. }
            | GraderSpec::JsonFields { .. }
            | GraderSpec::Choice { .. }
            | GraderSpec::Ranking { .. }
            | GraderSpec::Grounding { .. }
            | GraderSpec::Integrity { .. }
            | GraderSpec::Format { .. } => &self.rules,
        }
    }

    pub async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError> {
        self.grader_for(&item.grader).grade(item, answer).await
    }
}

/// The version stored with every grade of a grader; bump it whenever the
/// grader's verdicts could change, so old and new grades stay distinguishable.
pub fn grader_version(spec: &GraderSpec) -> &'static str {
    rules::version(spec)
}
