//! Articles about a run, written from the numbers in the store.
//!
//! Data flows one way: [`load_report_data`] reads a run and its kind's recent
//! history out of the store into a [`ReportData`] value (the only I/O here
//! besides the optional narrator's request); [`render_articles`] turns that
//! value into a daily roundup and one anomaly article per model whose
//! published main score moved more than the configured threshold, through
//! minijinja templates (built in, or overridden from a directory). Charts are
//! inline SVG from the pure functions in [`charts`], which the dashboard
//! reuses. The optional [`narrator`] lets a configured model rewrite the
//! prose; its text is kept only if every number and name in it is found in
//! the data.

pub mod article;
pub mod charts;
pub mod config;
pub mod data;
pub mod narrator;
pub mod rules;
mod templates;

pub use article::{
    plan_articles, render_article, Article, ArticleKind, ArticlePlan, Format, Prose,
};
pub use config::{series_name, AttentionRule, ConfigError, NarratorConfig, ReportConfig, Series};
pub use data::{
    load_report_data, DayEffectData, DimensionData, HistoryPoint, ModelData, ReportData,
    RunSummary, VerdictData,
};
pub use narrator::{Narration, Narrator};
pub use templates::Templates;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // Boxed: the store's and runner's errors are large and reports are rarely wrong.
    #[error(transparent)]
    Store(Box<yardstick_store::StoreError>),
    #[error(transparent)]
    Run(Box<yardstick_runner::RunError>),
    #[error(
        "run #{run} has no model `{model}` (its models: {known}); pick one of them with --model"
    )]
    UnknownModel {
        run: i64,
        model: String,
        known: String,
    },
    #[error("cannot read the report template {path}: {source}")]
    TemplateFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("report template {location}: {message}")]
    Template {
        /// `DIR/anomaly.md:LINE` for a user's template, `built-in anomaly.md:LINE` otherwise.
        location: String,
        message: String,
    },
}

impl From<yardstick_store::StoreError> for ReportError {
    fn from(e: yardstick_store::StoreError) -> Self {
        ReportError::Store(Box::new(e))
    }
}

impl From<yardstick_runner::RunError> for ReportError {
    fn from(e: yardstick_runner::RunError) -> Self {
        ReportError::Run(Box::new(e))
    }
}
