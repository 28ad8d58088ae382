//! `yardstick serve`: the read-only web dashboard over the store (leaderboard,
//! model, run, item and article pages), the JSON API the pages are built from, CSV and
//! JSONL export, Prometheus metrics, token-protected actions, and the
//! evaluation schedule.
//!
//! Data flows one way: [`views`] reads the store and computes plain values;
//! [`web`] serves them as JSON or renders them through auto-escaping
//! templates; [`schedule`] plans jobs from the clock and the store; the binary
//! supplies the [`Jobs`] that carry them out (runs need providers and graders,
//! which this crate does not know).

pub mod articles;
pub mod daemon;
pub mod export;
pub mod schedule;
pub mod views;
pub mod web;

pub use articles::ArticleSettings;
pub use schedule::{Job, ScheduleConfig};
pub use web::{router, AppState};

use serde::{Deserialize, Serialize};

/// `[serve]` of yardstick.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Listen address; keep it on loopback unless a proxy in front adds TLS.
    pub addr: String,
    /// Bearer token for the POST actions (start a run, retest). Without one,
    /// actions are refused and the server is read-only.
    pub token: Option<String>,
    pub schedule: ScheduleConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: "127.0.0.1:8080".into(),
            token: None,
            schedule: ScheduleConfig::default(),
        }
    }
}

/// What a job did, or why it failed, in words for the log and the API.
pub type JobOutcome = Result<String, String>;

/// Carries out jobs (runs, resumes, retests, publishing). Implemented by the
/// binary, which owns the configuration, providers and graders.
#[async_trait::async_trait]
pub trait Jobs: Send + Sync + 'static {
    async fn run(&self, job: Job) -> JobOutcome;
}
