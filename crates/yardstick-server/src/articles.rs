//! The articles pages: a run's daily roundup and anomaly articles, written on
//! demand by yardstick-report from the store (the deterministic prose; the
//! narrator is a `yardstick report` option, never called by the server).
//! Article files are named as `yardstick report --out` names them, so the
//! roundup's relative links to the anomaly articles work under
//! `/runs/{run}/articles/`.

use crate::views::{RunSummary, ViewError};
use serde::Serialize;
use yardstick_report::{
    load_report_data, plan_articles, render_article, ArticleKind, ArticlePlan, Format,
    ReportConfig, ReportData, ReportError, Templates,
};
use yardstick_store::Store;

/// What the server needs to write articles: `[report]` of yardstick.toml,
/// its templates (built in or overridden) and the stability window W.
pub struct ArticleSettings {
    pub config: ReportConfig,
    pub templates: Templates,
    pub stability_window: usize,
}

impl From<ReportError> for ViewError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Store(e) => ViewError::Store(e),
            ReportError::Run(e) => ViewError::Run(*e),
            other => ViewError::Report(other.to_string()),
        }
    }
}

/// A run on the articles index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexEntry {
    #[serde(flatten)]
    pub run: RunSummary,
    /// The run's article list page.
    pub articles: String,
}

/// Runs that have articles, newest first: every run, as each gets at least
/// its roundup.
pub async fn index(store: &Store, limit: i64) -> Result<Vec<IndexEntry>, ViewError> {
    Ok(crate::views::runs_list(store, limit)
        .await?
        .into_iter()
        .map(|run| IndexEntry {
            articles: format!("/runs/{}/articles", run.id),
            run,
        })
        .collect())
}

/// One article of a run, without its text.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleLink {
    pub kind: ArticleKind,
    /// The model of an anomaly article.
    pub model: Option<String>,
    pub headline: String,
    /// `run-N-roundup.html`, `run-N-MODEL.html`: the page under `/runs/N/articles/`.
    pub file: String,
    /// The same article as Markdown.
    pub markdown: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunArticles {
    pub run: RunSummary,
    /// The roundup first, then one anomaly article per model that moved
    /// more than `[report] anomaly_threshold`.
    pub articles: Vec<ArticleLink>,
}

/// One article, rendered.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    pub run: i64,
    pub kind: ArticleKind,
    pub model: Option<String>,
    pub headline: String,
    pub file: String,
    /// `html` or `md`.
    pub format: &'static str,
    /// The whole article: an HTML document or Markdown, as `yardstick report` writes it.
    pub body: String,
}

async fn plans(
    store: &Store,
    settings: &ArticleSettings,
    run_id: i64,
) -> Result<(RunSummary, ReportData, Vec<ArticlePlan>), ViewError> {
    let run = store.get_run(run_id).await?.ok_or_else(|| {
        ViewError::NotFound(format!(
            "Run #{run_id} does not exist; /articles lists the runs with articles"
        ))
    })?;
    let data = load_report_data(store, run_id, &settings.config, settings.stability_window).await?;
    let plans = plan_articles(&data, &settings.config, None)?;
    Ok((RunSummary::from(&run), data, plans))
}

pub async fn run_articles(
    store: &Store,
    settings: &ArticleSettings,
    run_id: i64,
) -> Result<RunArticles, ViewError> {
    let (run, _, plans) = plans(store, settings, run_id).await?;
    let file = |plan: &ArticlePlan, format: Format| format!("{}.{}", plan.stem, format.extension());
    Ok(RunArticles {
        run,
        articles: plans
            .iter()
            .map(|p| ArticleLink {
                kind: p.kind,
                model: p.model.clone(),
                headline: p.headline.clone(),
                file: file(p, Format::Html),
                markdown: file(p, Format::Markdown),
            })
            .collect(),
    })
}

/// The article of run `run_id` stored under `file` (its extension picks HTML or Markdown).
pub async fn article(
    store: &Store,
    settings: &ArticleSettings,
    run_id: i64,
    file: &str,
) -> Result<ArticleView, ViewError> {
    let (stem, format) = match file.rsplit_once('.') {
        Some((stem, "html")) => (stem, Format::Html),
        Some((stem, "md")) => (stem, Format::Markdown),
        _ => {
            return Err(ViewError::NotFound(format!(
                "no article `{file}`: article files end in .html or .md; /runs/{run_id}/articles lists them"
            )))
        }
    };
    let (_, data, plans) = plans(store, settings, run_id).await?;
    let plan = plans.iter().find(|p| p.stem == stem).ok_or_else(|| {
        ViewError::NotFound(format!(
            "Run #{run_id} has no article `{file}`; /runs/{run_id}/articles lists them"
        ))
    })?;
    let article = render_article(
        plan,
        &data,
        &settings.config,
        &settings.templates,
        format,
        None,
    )?;
    Ok(ArticleView {
        run: run_id,
        kind: article.kind,
        model: article.model,
        headline: article.headline,
        file: article.file_name,
        format: format.extension(),
        body: article.body,
    })
}
