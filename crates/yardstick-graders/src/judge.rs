//! The LLM judge: scores an answer against a reference with a rubric.

/// Version of the judge grader's prompt and scoring.
pub(crate) const VERSION: &str = "1";
