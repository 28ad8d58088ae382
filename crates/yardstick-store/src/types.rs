//! Rows going into and coming out of the store. Field types are the domain's
//! (`u32` epochs, `u64` token counts, `ErrorClass`); the conversion to the
//! database's signed 64-bit integers happens in the store and is checked both
//! ways, so a bad value fails loudly instead of wrapping.

use serde::{Deserialize, Serialize};
use std::fmt;
use yardstick_core::scoring::AttemptOutcome;
use yardstick_core::{Dimension, ErrorClass};

/// Which database a [`crate::Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A run's life cycle. A run that crashed stays `Running` until it is resumed
/// and finished; nothing else marks it, so "interrupted" is not a stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
}

impl RunStatus {
    /// The text stored in `runs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
        }
    }

    /// Same as [`RunStatus::as_str`], named like the `id()` of the core enums.
    pub fn id(self) -> &'static str {
        self.as_str()
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        match s {
            "running" => Some(RunStatus::Running),
            "complete" => Some(RunStatus::Complete),
            _ => None,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The latest configuration stored for a model name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    pub name: String,
    pub provider: String,
    pub spec_json: String,
    /// When this configuration was stored, unix milliseconds.
    pub updated_at: i64,
}

/// A run about to be created. Its number comes from the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// `smoke`, `weekly`, `full`, `retest`, `custom`, … (free text; the store
    /// only filters on it).
    pub kind: String,
    /// The draw's seed. Stored bit-cast into a signed 64-bit integer (seeds
    /// above `i64::MAX` are negative in the database) and cast back on reading,
    /// so every `u64` round-trips exactly.
    pub seed: u64,
    /// A human label, e.g. the draw date of a daily run.
    pub label: String,
    pub epochs: u32,
    /// The models the run was planned for (attempts may cover fewer if it is
    /// interrupted).
    pub models: Vec<String>,
    pub config_json: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// The global run number ("Run #N").
    pub id: i64,
    pub kind: String,
    pub seed: u64,
    pub label: String,
    pub epochs: u32,
    pub models: Vec<String>,
    pub config_json: String,
    pub status: RunStatus,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// One entry of a run's draw, with the item's dimension for grouping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunItem {
    pub item_id: String,
    pub version: String,
    pub dimension: Dimension,
    /// 0-based place in the draw.
    pub position: u32,
}

/// One request to one model for one item version in one epoch, as it happened.
/// Stored before grading and never changed afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAttempt {
    pub run_id: i64,
    /// The configured model name (as on the board), not the provider's id.
    pub model: String,
    pub item_id: String,
    /// The item's content hash; part of the attempt's unique key.
    pub item_version: String,
    pub epoch: u32,
    /// The provider-neutral request as sent (`ChatRequest` JSON).
    pub request_json: String,
    /// The raw answer text; `None` when the request failed.
    pub response_text: Option<String>,
    pub finish_reason: Option<String>,
    /// The model id the provider says answered.
    pub response_model: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub latency_ms: u64,
    /// Tries made, including the first.
    pub tries: u32,
    /// Set when the provider failed; such an attempt is never graded.
    pub error_class: Option<ErrorClass>,
    pub error_message: Option<String>,
    pub http_status: Option<u16>,
    pub started_at: i64,
    pub finished_at: i64,
}

/// A stored attempt: the fields of [`NewAttempt`] plus its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub id: i64,
    pub run_id: i64,
    pub model: String,
    pub item_id: String,
    pub item_version: String,
    pub epoch: u32,
    pub request_json: String,
    pub response_text: Option<String>,
    pub finish_reason: Option<String>,
    pub response_model: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub latency_ms: u64,
    pub tries: u32,
    pub error_class: Option<ErrorClass>,
    pub error_message: Option<String>,
    pub http_status: Option<u16>,
    pub started_at: i64,
    pub finished_at: i64,
}

impl AttemptRow {
    /// Whether the model answered (the provider did not fail).
    pub fn answered(&self) -> bool {
        self.error_class.is_none()
    }
}

/// The outcome of inserting one attempt: its id, and whether this call stored
/// it (`false`: the key already existed and the stored row was kept as it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Inserted {
    pub id: i64,
    pub inserted: bool,
}

/// A grade to append to an attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewGrade {
    pub attempt_id: i64,
    pub grader_id: String,
    pub grader_version: String,
    /// Item score, 0–100.
    pub score: f64,
    /// The grader's checks (`Vec<Check>` JSON), so every score can be audited.
    pub checks_json: String,
    /// What the grader took from the answer.
    pub extracted: Option<String>,
    pub created_at: i64,
}

/// A stored grade: the fields of [`NewGrade`] plus its id. Ids grow with
/// insertion, so the highest id of an attempt is its current grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeRow {
    pub id: i64,
    pub attempt_id: i64,
    pub grader_id: String,
    pub grader_version: String,
    pub score: f64,
    pub checks_json: String,
    pub extracted: Option<String>,
    pub created_at: i64,
}

/// What scoring needs of one attempt: no request or response text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRow {
    pub model: String,
    pub item_id: String,
    pub item_version: String,
    pub dimension: Dimension,
    pub epoch: u32,
    /// The provider returned an answer (`error_class` is `None`).
    pub answered: bool,
    /// The stored error class id (`rate_limited`, …) of a failed attempt.
    pub error_class: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The latest grade's score; `None` if ungraded or the request failed.
    pub score: Option<f64>,
}

impl OutcomeRow {
    /// The scoring input of `yardstick_core::scoring::score_run`.
    pub fn to_outcome(&self) -> AttemptOutcome {
        AttemptOutcome {
            item_id: self.item_id.clone(),
            dimension: self.dimension,
            epoch: self.epoch,
            score: self.score,
            answered: self.answered,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
        }
    }
}
