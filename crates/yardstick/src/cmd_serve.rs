//! `yardstick serve` (the dashboard, optionally with the schedule) and
//! `yardstick daemon` (the schedule alone). The web server and the planner live
//! in yardstick-server; this file supplies what they cannot know: how a job
//! becomes a run (configuration, providers, graders), through the same
//! functions as `yardstick run`, `yardstick resume`, `yardstick retest` and
//! `yardstick report --out`.

use crate::cmd_verdicts::{self, RetestRun};
use crate::commands::{self, Ctx};
use crate::{bank_source, cmd_report, RunArgs, SandboxArgs};
use anyhow::{Context, Result};
use std::process::ExitCode;
use std::sync::Arc;
use yardstick_report::Format;
use yardstick_runner::alerts::Alerter;
use yardstick_server::schedule::Schedule;
use yardstick_server::{daemon, AppState, ArticleSettings, Job, JobOutcome, Jobs};

/// Carries out jobs with the command-line configuration.
struct CliJobs {
    ctx: Arc<Ctx>,
    sandbox: SandboxArgs,
}

#[async_trait::async_trait]
impl Jobs for CliJobs {
    async fn run(&self, job: Job) -> JobOutcome {
        // The run and resume futures borrow across awaits in a way rustc cannot
        // prove `Send` for every lifetime (rust-lang/rust#102211), so they run
        // on a blocking thread driven by this runtime instead of as a task.
        let (ctx, sandbox) = (self.ctx.clone(), self.sandbox);
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(carry_out(&ctx, job, sandbox)))
            .await
            .map_err(|e| format!("the job stopped abnormally: {e}"))?
    }
}

async fn carry_out(ctx: &Ctx, job: Job, sandbox: SandboxArgs) -> JobOutcome {
    let finished = |outcome: Result<ExitCode>| match outcome {
        Ok(code) if code == ExitCode::SUCCESS => Ok("done".to_string()),
        Ok(code) => Err(format!("finished with {code:?}")),
        Err(e) => Err(format!("{e:#}")),
    };
    // Runs and resumes judge the run and send its alerts (`after_run`), as
    // `yardstick run` does; a retest decides its verdict and alerts likewise.
    match job {
        Job::Run { kind, date } => finished(
            commands::run(
                ctx,
                RunArgs {
                    kind,
                    models: None,
                    epochs: None,
                    per_dimension: None,
                    date: Some(date.format("%Y-%m-%d").to_string()),
                    seed: None,
                    json: false,
                    sandbox,
                },
            )
            .await,
        ),
        Job::Resume { run_id } => finished(commands::resume(ctx, run_id, false, sandbox).await),
        Job::Retest { retest_id } => retest(ctx, retest_id, sandbox)
            .await
            .map_err(|e| format!("{e:#}")),
        Job::Publish { runs } => publish(ctx, &runs).await.map_err(|e| format!("{e:#}")),
    }
}

/// Runs retest `retest_id` as `yardstick retest` runs each pending one.
async fn retest(ctx: &Ctx, retest_id: i64, sandbox: SandboxArgs) -> Result<String> {
    let store = ctx.existing_store().await?;
    let row = store
        .get_retest(retest_id)
        .await?
        .with_context(|| format!("retest {retest_id} does not exist"))?;
    let bank = bank_source::load_for_run(ctx.config.bank.as_deref())?;
    let alerter = Alerter::new(&ctx.config.alerts)?;
    match cmd_verdicts::run_retest(ctx, &store, &bank, &alerter, &row, sandbox).await? {
        RetestRun::Decided(report) => Ok(cmd_verdicts::retest_line(&report)),
        RetestRun::Taken => Ok(format!("retest {retest_id} was taken by another process")),
        RetestRun::Interrupted => anyhow::bail!("retest {retest_id} was interrupted"),
    }
}

/// Writes each run's HTML articles into `[report] out_dir`, as
/// `yardstick report N --format html --out DIR` does.
async fn publish(ctx: &Ctx, runs: &[i64]) -> Result<String> {
    let store = ctx.existing_store().await?;
    let dir = ctx.config.report_out_dir();
    let mut files = 0;
    for &run in runs {
        files += cmd_report::write_report(&ctx.config, &store, run, Format::Html, None, &dir)
            .await?
            .len();
    }
    Ok(format!("{files} files in {}", dir.display()))
}

fn schedule(ctx: &Ctx) -> Result<Schedule> {
    Ok(Schedule::from_config(&ctx.config.serve.schedule)?)
}

/// `yardstick serve [--addr A] [--schedule]`.
pub async fn serve(
    ctx: Ctx,
    addr: Option<String>,
    with_schedule: bool,
    sandbox: SandboxArgs,
) -> Result<ExitCode> {
    let addr = addr.unwrap_or_else(|| ctx.config.serve.addr.clone());
    let plan = with_schedule.then(|| schedule(&ctx)).transpose()?;
    let store = ctx.store().await?;
    let token = ctx.config.serve.token.clone();
    let articles = ArticleSettings {
        config: ctx.config.report.clone(),
        templates: crate::cmd_report::templates(&ctx.config)?,
        stability_window: ctx.config.stability_window,
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (set --addr or [serve] addr)"))?;
    let jobs: Arc<dyn Jobs> = Arc::new(CliJobs {
        ctx: Arc::new(ctx),
        sandbox,
    });
    let state = AppState::new(store.clone(), token.clone(), Some(jobs.clone()), articles);
    if let Some(plan) = plan {
        tokio::spawn(daemon::run_forever(
            store,
            plan,
            jobs,
            state.job_lock.clone(),
        ));
    }
    eprintln!(
        "yardstick serve: http://{} ({}{})",
        listener.local_addr()?,
        if token.is_some() {
            "actions need the [serve] token"
        } else {
            "read-only: no [serve] token"
        },
        if with_schedule { ", schedule on" } else { "" }
    );
    axum::serve(listener, yardstick_server::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// `yardstick daemon`: the schedule without the web server.
pub async fn daemon(ctx: Ctx, sandbox: SandboxArgs) -> Result<ExitCode> {
    let plan = schedule(&ctx)?;
    let store = ctx.store().await?;
    eprintln!("yardstick daemon: schedule {:?}", ctx.config.serve.schedule);
    let jobs: Arc<dyn Jobs> = Arc::new(CliJobs {
        ctx: Arc::new(ctx),
        sandbox,
    });
    tokio::select! {
        _ = daemon::run_forever(store, plan, jobs, Arc::new(tokio::sync::Mutex::new(()))) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}
