//! `yardstick report RUN [--format md|html] [--model M] [--out DIR]`: the
//! run's articles (daily roundup + anomaly articles) from `yardstick-report`,
//! optionally narrated by the model of `[report.narrator]`.

use crate::config::Config;
use crate::connect::connect;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yardstick_report::{
    load_report_data, plan_articles, render_article, Article, Format, Narrator, Templates,
};
use yardstick_store::Store;

/// Answer length of the narrator when `[report.narrator] max_tokens` is not set.
const NARRATOR_MAX_TOKENS: u32 = 1200;

#[derive(Args)]
pub struct ReportArgs {
    /// The run to write about ("Run #N").
    pub run: i64,
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Only this model's article (written whatever its move).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Write one file per article, plus run-N-report.json (what the narrator
    /// did), into this directory instead of printing the articles.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
}

/// What `--out` records next to the articles.
#[derive(Serialize)]
struct Metadata<'a> {
    run: i64,
    format: &'static str,
    articles: &'a [Article],
}

/// The article templates of `[report] templates` (built in when unset); a
/// relative directory is relative to the configuration file.
pub fn templates(config: &Config) -> Result<Templates> {
    let dir = config
        .report
        .templates
        .as_ref()
        .map(|d| config.beside_file(d));
    Ok(Templates::load(dir.as_deref())?)
}

/// The articles of run `run` (only `model`'s with one), narrated when
/// `[report.narrator]` is set.
async fn articles(
    config: &Config,
    store: &Store,
    run: i64,
    format: Format,
    model: Option<&str>,
) -> Result<Vec<Article>> {
    let settings = &config.report;
    let templates = templates(config)?;
    let narrator = match &settings.narrator {
        Some(n) => {
            let spec = config
                .select_models(Some(std::slice::from_ref(&n.model)))
                .context("[report.narrator] model must be one of the configured [[models]]")?;
            let model = connect(&spec)?.remove(0);
            Some(Narrator {
                provider: model.provider,
                spec: model.spec,
                max_tokens: n.max_tokens.unwrap_or(NARRATOR_MAX_TOKENS),
            })
        }
        None => None,
    };

    let data = load_report_data(store, run, settings, config.stability_window).await?;
    let plans = plan_articles(&data, settings, model)?;
    let mut articles = Vec::with_capacity(plans.len());
    for plan in &plans {
        let narration = match &narrator {
            Some(n) => Some(n.narrate(&data, plan).await),
            None => None,
        };
        if let Some(reason) = narration.as_ref().and_then(|n| n.rejected_because.as_ref()) {
            eprintln!(
                "note: the narrator's text for \"{}\" was rejected ({reason}); the deterministic prose is kept",
                plan.headline
            );
        }
        articles.push(render_article(
            plan, &data, settings, &templates, format, narration,
        )?);
    }
    Ok(articles)
}

/// `yardstick report RUN --out DIR`: one file per article plus
/// `run-N-report.json` in `dir` (created if missing). Returns the files
/// written. The schedule publishes through this too.
pub(crate) async fn write_report(
    config: &Config,
    store: &Store,
    run: i64,
    format: Format,
    model: Option<&str>,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let articles = articles(config, store, run, format, model).await?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    let mut written = Vec::with_capacity(articles.len() + 1);
    for article in &articles {
        let path = dir.join(&article.file_name);
        std::fs::write(&path, &article.body)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    let meta = dir.join(format!("run-{run}-report.json"));
    let json = serde_json::to_string_pretty(&Metadata {
        run,
        format: format.extension(),
        articles: &articles,
    })?;
    std::fs::write(&meta, json + "\n")
        .with_context(|| format!("cannot write {}", meta.display()))?;
    written.push(meta);
    Ok(written)
}

pub async fn report(config: &Config, store: Store, args: ReportArgs) -> Result<ExitCode> {
    let format = match args.format {
        ReportFormat::Md => Format::Markdown,
        ReportFormat::Html => Format::Html,
    };
    match &args.out {
        Some(dir) => {
            for path in
                write_report(config, &store, args.run, format, args.model.as_deref(), dir).await?
            {
                println!("{}", path.display());
            }
        }
        None => {
            let articles =
                articles(config, &store, args.run, format, args.model.as_deref()).await?;
            let mut out = std::io::stdout().lock();
            for (i, article) in articles.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                out.write_all(article.body.as_bytes())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
