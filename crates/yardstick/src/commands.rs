//! One function per command. Each loads what it needs (configuration, bank,
//! store, providers) in the order that fails fastest and stores least.

use crate::cmd_board::BoardArgs;
use crate::cmd_judge;
use crate::code::GraderSet;
use crate::config::{Config, CONFIG_FILE, EXAMPLE};
use crate::progress::Progress;
use crate::render::{self, opt, table};
use crate::{
    bank_source, cmd_verdicts, code, connect, BankCommand, Cli, Command, ExportFormat,
    ImportCommand, ModelsCommand, RunArgs, SandboxArgs, ShowCommand,
};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use yardstick_runner::{create_run, execute, leaderboard, regrade, RunOptions, RunSummary};
use yardstick_store::Store;

pub(crate) struct Ctx {
    pub(crate) config: Config,
    pub(crate) db: Option<String>,
}

impl Ctx {
    /// The store for a command that creates runs (a missing SQLite file is created).
    pub(crate) async fn store(&self) -> Result<Store> {
        let url = self.config.database_url(self.db.as_deref());
        Ok(Store::open(&url).await?)
    }

    /// The store for a command that reads or continues existing runs.
    pub(crate) async fn existing_store(&self) -> Result<Store> {
        let url = self.config.database_url(self.db.as_deref());
        Ok(Store::open_existing(&url).await?)
    }
}

pub async fn dispatch(cli: Cli) -> Result<ExitCode> {
    if let Command::Init { force } = cli.command {
        return init(
            cli.config.as_deref().unwrap_or(Path::new(CONFIG_FILE)),
            force,
        );
    }
    let ctx = Ctx {
        config: Config::load(cli.config.as_deref())?,
        db: cli.db,
    };
    match cli.command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Bank(BankCommand::Validate { dir, json }) => bank_validate(&ctx, dir, json),
        Command::Run(args) => run(&ctx, args).await,
        Command::Resume { run, json, sandbox } => resume(&ctx, run, json, sandbox).await,
        Command::Regrade { run, json, sandbox } => regrade_run(&ctx, run, json, sandbox).await,
        Command::Selfcheck {
            bank,
            json,
            workers,
            sandbox,
        } => selfcheck(&ctx, bank, json, workers, sandbox).await,
        Command::Import(ImportCommand::Humaneval { file, out }) => import_humaneval(&file, &out),
        Command::Board { run, json, stats } => board_with(&ctx, run, json, &stats).await,
        Command::Show(what) => show(&ctx, what).await,
        Command::Export { run, format, out } => export(&ctx, run, format, out).await,
        Command::Models(ModelsCommand::List { json }) => models_list(&ctx, json),
        Command::Models(ModelsCommand::Pull { name }) => models_pull(&name),
        Command::Verdicts { run, limit, json } => {
            cmd_verdicts::verdicts(&ctx, run, limit, json).await
        }
        Command::Retest { json, sandbox } => cmd_verdicts::retest(&ctx, json, sandbox).await,
        Command::Alerts {
            status,
            limit,
            json,
        } => cmd_verdicts::alerts(&ctx, status, limit, json).await,
        Command::Calibrate { kind, json } => cmd_verdicts::calibrate(&ctx, &kind, json).await,
        Command::Simulate(args) => cmd_verdicts::simulate(&ctx, args),
        Command::Serve {
            addr,
            schedule,
            sandbox,
        } => crate::cmd_serve::serve(ctx, addr, schedule, sandbox).await,
        Command::Daemon { sandbox } => crate::cmd_serve::daemon(ctx, sandbox).await,
        Command::Report(args) => {
            crate::cmd_report::report(&ctx.config, ctx.existing_store().await?, args).await
        }
    }
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn init(path: &Path, force: bool) -> Result<ExitCode> {
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    std::fs::write(path, EXAMPLE).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote {} — edit the models, then `yardstick run`",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn bank_validate(ctx: &Ctx, dir: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let dir = dir.or_else(|| ctx.config.bank.clone());
    let shown = dir
        .as_ref()
        .map_or("the built-in bank".to_string(), |d| d.display().to_string());
    match bank_source::load(dir.as_deref()) {
        Ok(bank) => {
            let counts = bank.by_dimension();
            if json {
                let counts: Vec<_> = counts
                    .iter()
                    .map(|(d, items)| (d.id(), items.len()))
                    .collect();
                print_json(
                    &serde_json::json!({ "bank": shown, "valid": true, "items": bank.len(), "per_dimension": counts }),
                )?;
            } else {
                println!("{shown}: {} items, valid", bank.len());
                for (d, items) in &counts {
                    println!("  {:<15} {}", d.id(), items.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            if json {
                let errors: Vec<_> = errors
                    .errors
                    .iter()
                    .map(|e| serde_json::json!({ "file": e.file, "line": e.line, "message": e.message }))
                    .collect();
                print_json(
                    &serde_json::json!({ "bank": shown, "valid": false, "errors": errors }),
                )?;
            } else {
                eprintln!("{errors}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Stops dispatching new requests on Ctrl-C (in-flight ones are stored); a
/// second Ctrl-C exits at once. Either way the run can be resumed.
pub(crate) fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: finishing requests in flight (Ctrl-C again to quit now; `yardstick resume` continues)");
            flag.store(true, Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    stop
}

async fn execute_and_report(
    ctx: &Ctx,
    store: &Store,
    run_id: i64,
    models: &[yardstick_runner::Model],
    graders: &GraderSet,
    json: bool,
) -> Result<ExitCode> {
    let stop = stop_on_ctrl_c();
    let progress = Progress::new();
    let summary = execute(store, run_id, models, &graders.graders, &stop, &|e| {
        progress.on_event(e)
    })
    .await;
    graders.shutdown().await;
    let summary: RunSummary = summary?;
    progress.finish();
    if summary.interrupted {
        eprintln!("Run #{run_id} interrupted after {} attempts; continue with `yardstick resume {run_id}`", summary.asked);
        return Ok(ExitCode::from(130));
    }
    eprintln!(
        "Run #{run_id}: {} asked ({} vendor errors, {} already stored), {} graded{}",
        summary.asked,
        summary.failed,
        summary.skipped_done,
        summary.graded,
        if summary.grade_failures > 0 {
            format!(", {} grader failures", summary.grade_failures)
        } else {
            String::new()
        }
    );
    cmd_verdicts::after_run(ctx, store, run_id).await?;
    board(ctx, Some(run_id), json).await
}

pub(crate) async fn run(ctx: &Ctx, args: RunArgs) -> Result<ExitCode> {
    let kind = ctx.config.kind(&args.kind)?;
    // Cheapest failures first: bank, models, database — nothing stored until all pass.
    let bank = bank_source::load_for_run(ctx.config.bank.as_deref())?;
    let specs = ctx.config.select_models(args.models.as_deref())?;
    if specs.is_empty() {
        bail!("no models configured: add [[models]] to yardstick.toml (see `yardstick init`)");
    }
    let label = match args.date {
        Some(d) => {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .with_context(|| format!("--date {d}: expected YYYY-MM-DD"))?;
            d
        }
        None => chrono::Local::now().format("%Y-%m-%d").to_string(),
    };
    let seed = args
        .seed
        .unwrap_or_else(|| yardstick_bank::seed_for_date(&label));
    let epochs = args.epochs.unwrap_or(kind.epochs);
    if epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let models = connect::connect(&specs)?;
    // The sandbox is built only when the draw can contain code items, and
    // before anything is stored: a host that cannot run them fails here.
    let drawable = || {
        bank.iter().map(|b| &b.item).filter(|i| {
            kind.dimensions
                .as_ref()
                .is_none_or(|d| d.contains(&i.dimension))
        })
    };
    let graders = GraderSet::for_items(drawable(), args.sandbox.allow_unconfined)?;
    // The judges too are set up before anything is stored.
    let graders = cmd_judge::add_judge(graders, drawable(), &ctx.config, bank.calibration.clone())?;
    let store = ctx.store().await?;
    let options = RunOptions {
        kind: args.kind.clone(),
        per_dimension: args.per_dimension.or(kind.per_dimension),
        dimensions: kind.dimensions.clone(),
        epochs,
        seed,
        label,
    };
    let run_id = create_run(&store, &bank, &specs, &options).await?;
    eprintln!("Run #{run_id} ({}, seed {seed}) created", args.kind);
    execute_and_report(ctx, &store, run_id, &models, &graders, args.json).await
}

/// The graders for a stored run: with the sandbox only if its draw holds
/// code items, with the judges (and the bank's calibration set) only if it
/// holds judged items.
pub(crate) async fn graders_for_run(
    ctx: &Ctx,
    store: &Store,
    run_id: i64,
    sandbox: SandboxArgs,
) -> Result<GraderSet> {
    let mut items = Vec::new();
    for ri in store.run_items(run_id).await? {
        if let Some(item) = store.get_item(&ri.item_id, &ri.version).await? {
            items.push(item);
        }
    }
    let graders = GraderSet::for_items(&items, sandbox.allow_unconfined)?;
    if !items.iter().any(|i| i.judge_rubric().is_some()) {
        return Ok(graders);
    }
    let bank = bank_source::load_for_run(ctx.config.bank.as_deref())?;
    cmd_judge::add_judge(graders, &items, &ctx.config, bank.calibration)
}

pub(crate) async fn resume(
    ctx: &Ctx,
    run_id: i64,
    json: bool,
    sandbox: SandboxArgs,
) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    let run = store.get_run(run_id).await?.with_context(|| {
        format!(
            "Run #{run_id} does not exist in {}; `yardstick show runs` lists the stored runs",
            store.location()
        )
    })?;
    let specs = ctx
        .config
        .select_models(Some(&run.models))
        .with_context(|| {
            format!(
                "Run #{run_id} asked {}; every one must still be configured to resume it",
                run.models.join(", ")
            )
        })?;
    let models = connect::connect(&specs)?;
    let graders = graders_for_run(ctx, &store, run_id, sandbox).await?;
    execute_and_report(ctx, &store, run_id, &models, &graders, json).await
}

async fn regrade_run(ctx: &Ctx, run_id: i64, json: bool, sandbox: SandboxArgs) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    let graders = graders_for_run(ctx, &store, run_id, sandbox).await?;
    let progress = Progress::new();
    let result = regrade(&store, run_id, &graders.graders, &|e| progress.on_event(e)).await;
    graders.shutdown().await;
    let (graded, failed) = result?;
    progress.finish();
    eprintln!("Run #{run_id}: {graded} answers re-graded ({failed} grader failures); earlier grades are kept");
    board(ctx, Some(run_id), json).await
}

async fn selfcheck(
    ctx: &Ctx,
    dir: Option<PathBuf>,
    json: bool,
    workers: Option<usize>,
    sandbox: SandboxArgs,
) -> Result<ExitCode> {
    let dir = dir.or_else(|| ctx.config.bank.clone());
    let shown = dir
        .as_ref()
        .map_or("the built-in bank".to_string(), |d| d.display().to_string());
    let bank = match bank_source::load(dir.as_deref()) {
        Ok(bank) => bank,
        Err(errors) => bail!("{shown} is invalid:\n{errors}"),
    };
    let report = code::selfcheck(&bank, sandbox.allow_unconfined, workers).await?;
    if json {
        print_json(&report)?;
    } else {
        for f in &report.failures {
            println!("FAIL {} ({}): {}", f.item, f.source, f.problem);
        }
        if !report.without_reference.is_empty() {
            println!(
                "note: {} items have no reference to check: {}",
                report.without_reference.len(),
                report.without_reference.join(", ")
            );
        }
        if !report.judge_only.is_empty() {
            println!(
                "note: {} items are graded by the judge alone and need a judge model: {}",
                report.judge_only.len(),
                report.judge_only.join(", ")
            );
        }
        println!(
            "{shown}: {} items, {} references at 100, {} known-wrong answers checked, {} failures, {:.1} s{}",
            report.items,
            report.references_ok,
            report.known_wrong_checked,
            report.failures.len(),
            report.seconds,
            report
                .isolation
                .as_ref()
                .map_or(String::new(), |i| format!(" (sandbox: {i})"))
        );
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn import_humaneval(file: &Path, out: &Path) -> Result<ExitCode> {
    let (path, items, tests) = code::import_humaneval(file, out)?;
    println!(
        "wrote {items} items ({tests} tests) to {} — check them with `yardstick selfcheck {}`",
        path.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn latest_run(store: &Store) -> Result<i64> {
    Ok(store
        .list_runs(1)
        .await?
        .first()
        .context("the database has no runs yet: start one with `yardstick run`")?
        .id)
}

async fn board(ctx: &Ctx, run: Option<i64>, json: bool) -> Result<ExitCode> {
    board_with(ctx, run, json, &BoardArgs::default()).await
}

async fn board_with(
    ctx: &Ctx,
    run: Option<i64>,
    json: bool,
    stats: &BoardArgs,
) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    let run_id = match run {
        Some(r) => r,
        None => latest_run(&store).await?,
    };
    let options = stats.options(ctx.config.stability_window);
    let board = leaderboard::board_with(&store, run_id, &options).await?;
    if json {
        print_json(&board)?;
    } else {
        print!("{}", render::board(&board));
        for note in cmd_judge::board_notes(&store, run_id).await? {
            println!("{note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(ctx: &Ctx, what: ShowCommand) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    match what {
        ShowCommand::Runs { limit, json } => {
            let runs = store.list_runs(limit).await?;
            if json {
                print_json(&runs)?;
            } else {
                let rows: Vec<Vec<String>> = runs
                    .iter()
                    .map(|r| {
                        vec![
                            format!("#{}", r.id),
                            r.kind.clone(),
                            r.label.clone(),
                            r.status.as_str().to_string(),
                            r.models.join(","),
                            r.epochs.to_string(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(
                        &["run", "kind", "label", "status", "models", "epochs"],
                        &rows,
                        6
                    )
                );
            }
        }
        ShowCommand::Run { run, json } => {
            let row = store.get_run(run).await?.with_context(|| {
                format!(
                    "Run #{run} does not exist in {}; `yardstick show runs` lists the stored runs",
                    store.location()
                )
            })?;
            let items = store.run_items(run).await?;
            let attempts = store.attempts_for_run(run).await?;
            if json {
                let attempts: Vec<_> = attempts
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "id": a.id, "model": a.model, "item_id": a.item_id, "item_version": a.item_version,
                            "epoch": a.epoch, "error_class": a.error_class.map(|c| c.id()), "tries": a.tries,
                            "latency_ms": a.latency_ms, "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
                        })
                    })
                    .collect();
                print_json(
                    &serde_json::json!({ "run": row, "items": items, "attempts": attempts }),
                )?;
            } else {
                println!(
                    "Run #{} · {} · {} · seed {} · epochs {} · {}",
                    row.id,
                    row.kind,
                    row.label,
                    row.seed,
                    row.epochs,
                    row.status.as_str()
                );
                println!("models: {}", row.models.join(", "));
                for line in cmd_judge::describe_run_judges(&store, run).await? {
                    println!("{line}");
                }
                println!("items ({}):", items.len());
                for i in &items {
                    println!("  {:<15} {} @{}", i.dimension.id(), i.item_id, i.version);
                }
                let rows: Vec<Vec<String>> = attempts
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.model.clone(),
                            a.item_id.clone(),
                            a.epoch.to_string(),
                            a.error_class.map_or("ok".into(), |c| c.id().to_string()),
                            a.tries.to_string(),
                            format!("{} ms", a.latency_ms),
                        ]
                    })
                    .collect();
                println!("\nattempts ({}):", attempts.len());
                print!(
                    "{}",
                    table(
                        &["id", "model", "item", "epoch", "result", "tries", "latency"],
                        &rows,
                        5
                    )
                );
            }
        }
        ShowCommand::Item { id, json } => {
            let versions = store.item_history(&id).await?;
            if versions.is_empty() {
                bail!(
                    "item `{id}` is not in the database (items are stored when a run draws them)"
                );
            }
            let mut out = Vec::new();
            for (version, _) in &versions {
                let item = store.get_item(&id, version).await?;
                out.push(serde_json::json!({ "version": version, "item": item }));
            }
            if json {
                print_json(&out)?;
            } else {
                for v in &out {
                    println!("{}", serde_json::to_string_pretty(v)?);
                }
            }
        }
        ShowCommand::Attempt { id, json } => {
            let attempt = store
                .get_attempt(id)
                .await?
                .with_context(|| format!("attempt {id} does not exist"))?;
            let grades = store.grades_for_attempt(id).await?;
            if json {
                print_json(&serde_json::json!({ "attempt": attempt, "grades": grades }))?;
            } else {
                println!(
                    "attempt {} · Run #{} · {} · {} @{} · epoch {}",
                    attempt.id,
                    attempt.run_id,
                    attempt.model,
                    attempt.item_id,
                    attempt.item_version,
                    attempt.epoch
                );
                println!(
                    "tries {} · latency {} ms · tokens in {} out {}",
                    attempt.tries, attempt.latency_ms, attempt.input_tokens, attempt.output_tokens
                );
                println!("\n── request ──\n{}", attempt.request_json);
                match (&attempt.response_text, attempt.error_class) {
                    (Some(text), _) => println!("\n── response ──\n{text}"),
                    (None, Some(class)) => println!(
                        "\n── vendor error: {class} ──\n{}",
                        attempt.error_message.as_deref().unwrap_or_default()
                    ),
                    (None, None) => println!("\n── no response ──"),
                }
                for g in &grades {
                    println!(
                        "\n── grade {} ({}@{}) score {:.2} ──",
                        g.id, g.grader_id, g.grader_version, g.score
                    );
                    if let Some(x) = &g.extracted {
                        println!("extracted: {x}");
                    }
                    let checks: Vec<yardstick_core::Check> =
                        serde_json::from_str(&g.checks_json).unwrap_or_default();
                    for c in checks {
                        println!(
                            "  [{}] {} — {}",
                            if c.passed { "pass" } else { "FAIL" },
                            c.name,
                            c.detail
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(
    ctx: &Ctx,
    run: i64,
    format: ExportFormat,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    store.get_run(run).await?.with_context(|| {
        format!(
            "Run #{run} does not exist in {}; `yardstick show runs` lists the stored runs",
            store.location()
        )
    })?;
    let rows = yardstick_server::export::rows(&store, run).await?;
    let mut sink: Box<dyn Write> = match &out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        ExportFormat::Jsonl => yardstick_server::export::write_jsonl(&rows, &mut sink)?,
        ExportFormat::Csv => yardstick_server::export::write_csv(&rows, &mut sink)?,
    }
    sink.flush()?;
    if let Some(path) = out {
        eprintln!(
            "wrote {} attempts of Run #{run} to {}",
            rows.len(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn models_list(ctx: &Ctx, json: bool) -> Result<ExitCode> {
    let configured = &ctx.config.models;
    #[cfg(feature = "local")]
    let cached = yardstick_local::list(&yardstick_local::default_cache_dir());
    #[cfg(not(feature = "local"))]
    let cached: Vec<()> = Vec::new();
    if json {
        print_json(&serde_json::json!({ "configured": configured, "cached": cached }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = configured
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.provider.id().to_string(),
                m.model.clone(),
                m.base_url.clone().unwrap_or_default(),
                m.concurrency.to_string(),
                format!("${}/${}", m.price_input_per_mtok, m.price_output_per_mtok),
                opt(m.temperature, 2),
            ]
        })
        .collect();
    let source = ctx
        .config
        .source
        .as_ref()
        .map_or("built-in default".into(), |p| p.display().to_string());
    println!("configured ({source}):");
    print!(
        "{}",
        table(
            &[
                "name",
                "provider",
                "model",
                "base url",
                "conc.",
                "price in/out per Mtok",
                "temp."
            ],
            &rows,
            4
        )
    );
    #[cfg(feature = "local")]
    {
        println!(
            "\nlocal model cache ({}):",
            yardstick_local::default_cache_dir().display()
        );
        if cached.is_empty() {
            println!(
                "  (empty — `yardstick models pull {}`)",
                crate::config::DEFAULT_LOCAL_MODEL
            );
        }
        for m in &cached {
            println!(
                "  {} — {} ({} bytes, sha256 {})",
                m.name,
                m.file.display(),
                m.size,
                m.sha256
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "local")]
fn models_pull(name: &str) -> Result<ExitCode> {
    let cache = yardstick_local::default_cache_dir();
    let pulled = yardstick_local::pull(name, &cache)?;
    println!(
        "{} → {} (sha256 {}, {} bytes)",
        pulled.name,
        pulled.file.display(),
        pulled.sha256,
        pulled.size
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "local"))]
fn models_pull(_name: &str) -> Result<ExitCode> {
    bail!("this yardstick was built without the `local` feature; rebuild with default features to use local models")
}
