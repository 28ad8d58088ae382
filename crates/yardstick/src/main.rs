//! `yardstick`: the command line over the library crates. This file only
//! parses arguments and wires configuration, store, bank and providers
//! together; the work happens in the crates.

mod bank_source;
mod cmd_board;
mod cmd_judge;
mod cmd_report;
mod cmd_serve;
mod cmd_verdicts;
mod code;
mod commands;
mod config;
mod connect;
mod progress;
mod render;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "yardstick",
    version,
    about = "An open, auditable LLM evaluation index"
)]
struct Cli {
    /// Configuration file (default: ./yardstick.toml, else the embedded default).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL, overriding the configuration: sqlite://FILE or postgres://…
    #[arg(long, global = true, value_name = "URL")]
    db: Option<String>,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented example yardstick.toml.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Work with question banks.
    #[command(subcommand)]
    Bank(BankCommand),
    /// Draw items, ask every selected model, store and grade the answers, print the board.
    Run(RunArgs),
    /// Finish an interrupted run without repeating finished attempts.
    Resume {
        run: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Re-grade a run's stored answers with the current graders (new grades; old ones kept).
    Regrade {
        run: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Grade every item's first reference with its own grader (code items in
    /// the sandbox) and every known-wrong answer; fail unless each reference
    /// scores 100 and each known-wrong answer less.
    Selfcheck {
        /// Bank directory (default: the configured bank, else the built-in one).
        bank: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Code items graded at once, each on its own sandboxed worker
        /// (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Turn another benchmark's files into bank items.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the leaderboard of a run (default: the latest run), every score
    /// with its 95% interval.
    Board {
        #[arg(long)]
        run: Option<i64>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        stats: cmd_board::BoardArgs,
    },
    /// Show stored runs, items and attempts.
    #[command(subcommand)]
    Show(ShowCommand),
    /// Export every attempt of a run with its latest grade.
    Export {
        run: i64,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Configured and cached models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Verdicts per model and series (main, dimensions) with their numbers and explanation.
    Verdicts {
        /// Only this run's verdicts (default: the latest runs').
        run: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Run the pending confirmation runs and record what the SPRT decided.
    Retest {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Webhook alerts sent and failed.
    Alerts {
        /// Only alerts with this status: sent, failed or pending.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Fit item parameters (Rasch/2PL for pass/fail items, additive item effects
    /// for 0–100 items) from a run kind's history and store them as a new version.
    Calibrate {
        /// The run kind whose history is fitted.
        #[arg(long, default_value = "daily")]
        kind: String,
        #[arg(long)]
        json: bool,
    },
    /// Simulate daily histories and report false-alarm rate, detection delay
    /// and power of the configured detectors.
    Simulate(cmd_verdicts::SimulateArgs),
    /// The web dashboard and JSON API ([serve] in yardstick.toml; docs/API.md).
    Serve {
        /// Listen address (default: [serve] addr, else 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<String>,
        /// Also run the evaluation schedule ([serve.schedule]).
        #[arg(long)]
        schedule: bool,
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Run the evaluation schedule ([serve.schedule]) without the web server.
    Daemon {
        #[command(flatten)]
        sandbox: SandboxArgs,
    },
    /// Write a run's articles: the daily roundup and an anomaly article per model that moved.
    Report(cmd_report::ReportArgs),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// HumanEval problems (HumanEval.jsonl or .jsonl.gz) → DIR/humaneval.toml of `code_tests` items.
    Humaneval {
        file: PathBuf,
        /// Bank directory to write into.
        #[arg(long)]
        out: PathBuf,
    },
}

/// How code items may run.
#[derive(Args, Clone, Copy)]
struct SandboxArgs {
    /// Run code items even when this host lacks a sandbox layer (Landlock,
    /// seccomp, PID or network namespace); every grade records the layers
    /// that were missing. Without it the sandbox refuses to run.
    #[arg(long)]
    allow_unconfined: bool,
}

#[derive(Subcommand)]
enum BankCommand {
    /// Check a bank directory; report every problem with file:line.
    Validate {
        /// Bank directory (default: the configured bank, else the built-in one).
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct RunArgs {
    /// smoke (2 items per dimension), weekly, full, custom, or a kind from yardstick.toml.
    #[arg(long, default_value = "smoke")]
    kind: String,
    /// Comma-separated model names (default: all configured).
    #[arg(long, value_delimiter = ',')]
    models: Option<Vec<String>>,
    /// Times each item is asked (default: the kind's setting).
    #[arg(long)]
    epochs: Option<u32>,
    /// Items per dimension (overrides the kind's setting).
    #[arg(long)]
    per_dimension: Option<usize>,
    /// Draw date (YYYY-MM-DD) the seed is derived from (default: today).
    #[arg(long)]
    date: Option<String>,
    /// Explicit draw seed (overrides the date).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[derive(Subcommand)]
enum ShowCommand {
    /// The latest runs.
    Runs {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One run: its draw, models and attempt counts.
    Run {
        run: i64,
        #[arg(long)]
        json: bool,
    },
    /// One item: its versions and how models answered it.
    Item {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// One attempt: request, response, error and every grade with its checks.
    Attempt {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// The configured models and the local models in the cache.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Put a local GGUF model into the cache: a known name or a path to a .gguf file.
    Pull { name: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Jsonl,
    Csv,
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("YARDSTICK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    // The sandbox's shim must be single-threaded: it runs before clap, the
    // tracing subscriber and the tokio runtime exist.
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("sandbox-shim") {
        yardstick_sandbox::shim_main(args);
    }
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => code,
        // A closed pipe (`yardstick board | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}
