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
//! modules. The code graders `code_tests` and `output_prediction` (in
//! `code`) run programs in [`yardstick_sandbox`]; they are available only
//! when [`Graders::with_code_runner`] was given a sandbox.

mod code;
mod common;
mod extract;
mod format;
mod grounding;
mod integrity;
mod judge;
mod rules;

use async_trait::async_trait;
use yardstick_core::{Grade, GraderSpec, Item};

pub use code::{
    defines, describe_outcome, extract_code, fenced_blocks, prediction_checks, split_prediction,
    CodeGrader, CodeRunner, ExtractedCode, FencedBlock, PredictionAnswer,
};
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
    /// Present only when the caller set up a sandbox: code items graded
    /// without one are a [`GradeError`], never a zero.
    code: Option<CodeGrader>,
}

impl Graders {
    /// The rule graders only; code items fail to grade (see [`Graders::with_code_runner`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Rule graders plus the code graders, running programs with `runner`.
    pub fn with_code_runner(runner: std::sync::Arc<CodeRunner>) -> Self {
        Graders {
            rules: rules::RuleGrader,
            code: Some(CodeGrader::new(runner)),
        }
    }

    /// Whether code items can be graded.
    pub fn has_code_runner(&self) -> bool {
        self.code.is_some()
    }

    /// The match stays exhaustive so a new spec variant has to say which
    /// grader serves it.
    fn grader_for(&self, item: &Item) -> Result<&dyn Grader, GradeError> {
        let spec = &item.grader;
        Ok(match spec {
            GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. } => {
                match &self.code {
                    Some(code) => code,
                    None => {
                        return Err(GradeError {
                            grader: spec.grader_id().to_string(),
                            item: item.id.clone(),
                            message: "the code sandbox is not configured: code items need \
                                      a sandbox (the yardstick binary builds one when a run \
                                      contains code items)"
                                .into(),
                        })
                    }
                }
            }
            GraderSpec::Judge { .. } => {
                return Err(GradeError {
                    grader: spec.grader_id().to_string(),
                    item: item.id.clone(),
                    message: "no judge is configured: judged items need a judge model".into(),
                })
            }
            GraderSpec::Exact { .. }
            | GraderSpec::Regex { .. }
            | GraderSpec::Numeric { .. }
            | GraderSpec::JsonFields { .. }
            | GraderSpec::Choice { .. }
            | GraderSpec::Ranking { .. }
            | GraderSpec::Grounding { .. }
            | GraderSpec::Integrity { .. }
            | GraderSpec::Format { .. } => &self.rules,
        })
    }

    pub async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError> {
        self.grader_for(item)?.grade(item, answer).await
    }
}

/// The version stored with every grade of a grader; bump it whenever the
/// grader's verdicts could change, so old and new grades stay distinguishable.
pub fn grader_version(spec: &GraderSpec) -> &'static str {
    match spec {
        GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. } => code::VERSION,
        _ => rules::version(spec),
    }
}
