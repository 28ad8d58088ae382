//! The run engine and the leaderboard's numbers.
//!
//! A run flows one way: the bank is drawn into a plan ([`create_run`]), each
//! (model, item, epoch) is asked once and its answer committed before it is
//! graded ([`execute`]), grades are appended, never replaced ([`regrade`]),
//! and the board is computed from what is stored ([`leaderboard`]). Because
//! the plan, the answers and the grades all live in the store, `execute` is
//! also how an interrupted run resumes.

pub mod alerts;
pub mod calibrate;
mod execute;
mod judging;
pub mod leaderboard;
mod plan;
pub mod retest;
pub mod verdicts;

pub use execute::{execute, regrade, Event, Model, RunSummary};
pub use judging::{panel_agreement, same_family};
pub use plan::{create_run, RunConfig, RunOptions};

/// Failures of the engine itself (not of the models: those are stored).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Boxed: the store's errors carry their context and are large.
    #[error(transparent)]
    Store(Box<yardstick_store::StoreError>),
    #[error("run #{0} does not exist (see `yardstick show runs`)")]
    NoSuchRun(i64),
    #[error("run #{run} asked model `{model}`, which is not configured now; add it back to yardstick.toml to resume this run")]
    MissingModel { run: i64, model: String },
    #[error(
        "run #{run} refers to item `{item}` version {version}, which is missing from the database"
    )]
    MissingItem {
        run: i64,
        item: String,
        version: String,
    },
    #[error("run #{run} has a configuration that cannot be read: {message}")]
    BadRunConfig { run: i64, message: String },
    #[error("the draw is empty: the bank has no items for the requested dimensions")]
    EmptyDraw,
    #[error("run #{0} has no drawn items (it was interrupted while being created); start a new run with `yardstick run`")]
    EmptyRun(i64),
    #[error("run #{0} is not complete; finish it with `yardstick resume {0}` first")]
    NotComplete(i64),
    /// A setting or a stored record that verdicts, retests or alerts cannot work with.
    #[error("{0}")]
    Settings(String),
    #[error("the storage writer stopped unexpectedly: {0}")]
    Writer(String),
}

impl From<yardstick_store::StoreError> for RunError {
    fn from(e: yardstick_store::StoreError) -> Self {
        RunError::Store(Box::new(e))
    }
}

/// Milliseconds since the Unix epoch: the one timestamp format of the store.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
