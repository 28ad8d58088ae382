//! `verdicts`, `retest`, `alerts`, `calibrate` and `simulate`, and the
//! verdicts every completed run gets ([`after_run`]).

use crate::commands::{graders_for_run, print_json, stop_on_ctrl_c, Ctx};
use crate::render::table;
use crate::{bank_source, connect, SandboxArgs};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::process::ExitCode;
use yardstick_runner::alerts::Alerter;
use yardstick_runner::calibrate::{adjusted_scores, calibrate_history, AdjustedScore};
use yardstick_runner::retest::{decide_retest, start_retest, RetestReport};
use yardstick_runner::verdicts::assess_run;
use yardstick_runner::{execute, now_ms};
use yardstick_stats::simulate::{simulate as run_simulation, InjectedDrop, ItemScoring, Scenario};
use yardstick_stats::verdict::SeriesType;
use yardstick_store::{AlertStatus, RetestRow, Store, VerdictRow};

/// Judges a run that just completed (unless `[verdicts] enabled = false`)
/// and says on stderr what changed.
pub async fn after_run(ctx: &Ctx, store: &Store, run_id: i64) -> Result<()> {
    let settings = &ctx.config.verdicts;
    if !settings.enabled {
        return Ok(());
    }
    let alerter = Alerter::new(&ctx.config.alerts)?;
    for a in assess_run(store, run_id, settings, &alerter).await? {
        let v = &a.verdict;
        if a.new && a.previous.as_deref() != Some(v.verdict.as_str()) && v.verdict != "noise" {
            eprintln!(
                "verdict: {} on {} is {} (was {})",
                v.model,
                v.series,
                v.verdict,
                a.previous.as_deref().unwrap_or("none")
            );
        }
        if let (Some(r), true) = (&a.retest, a.new) {
            eprintln!(
                "  retest {} of {} on {} is {} — `yardstick retest` runs it",
                r.id, r.model, r.series, r.status
            );
        }
        for alert in &a.alerts {
            eprintln!(
                "  alert {} to {}: {} after {} tries{}",
                alert.id,
                alert.webhook,
                alert.status,
                alert.tries,
                alert
                    .last_error
                    .as_deref()
                    .map_or(String::new(), |e| format!(" ({e})"))
            );
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct VerdictsOut {
    verdicts: Vec<VerdictOut>,
    /// Difficulty-adjusted scores of the run under the newest calibration
    /// of its kind (only when one run is listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    adjusted_scores: Option<Vec<AdjustedScore>>,
}

#[derive(Serialize)]
struct VerdictOut {
    #[serde(flatten)]
    row: VerdictRow,
    /// `numbers_json` parsed.
    numbers: serde_json::Value,
}

pub async fn verdicts(ctx: &Ctx, run: Option<i64>, limit: i64, json: bool) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    if let Some(run) = run {
        store.get_run(run).await?.with_context(|| {
            format!(
                "Run #{run} does not exist in {}; `yardstick show runs` lists the stored runs",
                store.location()
            )
        })?;
    }
    let rows = store.list_verdicts(run, limit).await?;
    let adjusted = match run {
        Some(run) => Some(adjusted_scores(&store, run).await?),
        None => None,
    };
    if json {
        let verdicts = rows
            .into_iter()
            .map(|row| VerdictOut {
                numbers: serde_json::from_str(&row.numbers_json).unwrap_or(serde_json::Value::Null),
                row,
            })
            .collect();
        print_json(&VerdictsOut {
            verdicts,
            adjusted_scores: adjusted,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!(
            "no verdicts yet: every completed run gets them (see [verdicts] in yardstick.toml)"
        );
    }
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|v| {
            let numbers: serde_json::Value =
                serde_json::from_str(&v.numbers_json).unwrap_or_default();
            let num = |key: &str| {
                numbers[key]
                    .as_f64()
                    .map_or("–".to_string(), |x| format!("{x:.2}"))
            };
            vec![
                format!("#{}", v.run_id),
                v.model.clone(),
                v.series.clone(),
                v.verdict.clone(),
                num("score"),
                num("se"),
                num("z"),
                num("cusum_lower"),
                v.retest_id.map_or("–".into(), |id| {
                    format!("{id} {}", v.retest_decision.as_deref().unwrap_or("open"))
                }),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &["run", "model", "series", "verdict", "score", "SE", "z", "CUSUM−", "retest"],
            &table_rows,
            4
        )
    );
    for v in rows.iter().filter(|v| v.verdict != "noise") {
        println!(
            "\n#{} {} / {}: {}",
            v.run_id, v.model, v.series, v.explanation
        );
    }
    if let Some(adjusted) = adjusted.filter(|a| !a.is_empty()) {
        println!(
            "\ndifficulty-adjusted (calibration v{}):",
            adjusted[0].calibration
        );
        for a in &adjusted {
            println!(
                "  {:<20} {:<8} {:.1} ± {:.1} (SE)  [{:.1}, {:.1}]  {} items",
                a.model, a.fit, a.score, a.se, a.low, a.high, a.items_used
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What running one retest came to.
pub(crate) enum RetestRun {
    Decided(Box<RetestReport>),
    /// Another process started it first.
    Taken,
    /// Stopped by Ctrl-C; `yardstick retest` continues it.
    Interrupted,
}

/// Runs one pending (or continues one running) retest and decides it: the
/// confirmation run, then the SPRT, the verdict's update and its alerts.
pub(crate) async fn run_retest(
    ctx: &Ctx,
    store: &Store,
    bank: &yardstick_bank::Bank,
    alerter: &Alerter,
    retest: &RetestRow,
    sandbox: SandboxArgs,
) -> Result<RetestRun> {
    let spec = ctx
        .config
        .select_models(Some(std::slice::from_ref(&retest.model)))
        .with_context(|| {
            format!(
                "retest {} is for model `{}`; configure it again to run the retest",
                retest.id, retest.model
            )
        })?
        .remove(0);
    let models = connect::connect(std::slice::from_ref(&spec))?;
    let seed = now_ms() as u64 ^ (retest.id as u64).rotate_left(32);
    let Some(run_id) = start_retest(store, bank, &spec, retest, seed).await? else {
        return Ok(RetestRun::Taken);
    };
    eprintln!(
        "retest {} of {} on {}: Run #{run_id}",
        retest.id, retest.model, retest.series
    );
    let graders = graders_for_run(ctx, store, run_id, sandbox).await?;
    let stop = stop_on_ctrl_c();
    let summary = execute(store, run_id, &models, &graders.graders, &stop, &|_| {}).await;
    graders.shutdown().await;
    if summary?.interrupted {
        return Ok(RetestRun::Interrupted);
    }
    let report = decide_retest(store, retest.id, &ctx.config.verdicts, alerter).await?;
    Ok(RetestRun::Decided(Box::new(report)))
}

pub async fn retest(ctx: &Ctx, json: bool, sandbox: SandboxArgs) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    let open = store.open_retests().await?;
    if open.is_empty() {
        if json {
            print_json(&Vec::<RetestReport>::new())?;
        } else {
            println!("no pending retests");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bank = bank_source::load_for_run(ctx.config.bank.as_deref())?;
    let alerter = Alerter::new(&ctx.config.alerts)?;
    let mut reports = Vec::new();
    for retest in open {
        let report = match run_retest(ctx, &store, &bank, &alerter, &retest, sandbox).await? {
            RetestRun::Decided(report) => *report,
            RetestRun::Taken => {
                eprintln!("retest {} was taken by another process", retest.id);
                continue;
            }
            RetestRun::Interrupted => {
                eprintln!(
                    "retest {} interrupted; `yardstick retest` continues it",
                    retest.id
                );
                return Ok(ExitCode::from(130));
            }
        };
        if !json {
            println!("{}", retest_line(&report));
        }
        reports.push(report);
    }
    if json {
        print_json(&reports)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line on a decided retest: its decision, the SPRT's numbers and the verdict's change.
pub(crate) fn retest_line(report: &RetestReport) -> String {
    let numbers: serde_json::Value =
        serde_json::from_str(report.retest.numbers_json.as_deref().unwrap_or("{}"))
            .unwrap_or_default();
    let sprt = &numbers["sprt"];
    format!(
        "retest {} of {} on {}: {} ({} of {} observations, Λ = {:.2}); verdict of Run #{} {} → {}",
        report.retest.id,
        report.retest.model,
        report.retest.series,
        report.retest.decision.as_deref().unwrap_or("?"),
        sprt["items_used"],
        sprt["items_available"],
        sprt["log_likelihood_ratio"].as_f64().unwrap_or(f64::NAN),
        report.verdict.run_id,
        report.previous_verdict,
        report.verdict.verdict
    )
}

pub async fn alerts(ctx: &Ctx, status: Option<String>, limit: i64, json: bool) -> Result<ExitCode> {
    let status = status
        .map(|s| {
            AlertStatus::parse(&s)
                .with_context(|| format!("--status {s}: expected sent, failed or pending"))
        })
        .transpose()?;
    let store = ctx.existing_store().await?;
    let rows = store.list_alerts(status, limit).await?;
    if json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.verdict_id.to_string(),
                a.webhook.clone(),
                a.status.to_string(),
                a.last_error.clone().unwrap_or_default(),
                a.tries.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "alert",
                "verdict",
                "webhook",
                "status",
                "last error",
                "tries"
            ],
            &table_rows,
            5
        )
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn calibrate(ctx: &Ctx, kind: &str, json: bool) -> Result<ExitCode> {
    let store = ctx.existing_store().await?;
    let summary = calibrate_history(
        &store,
        kind,
        ctx.config.verdicts.calibration_runs,
        &ctx.config.verdicts.calibration,
    )
    .await?;
    if json {
        print_json(&summary)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "calibration v{} from {} `{}` runs (#{}–#{}), {} models, {} answers: {} pass/fail items{}, {} 0–100 items",
        summary.version,
        summary.runs,
        summary.run_kind,
        summary.first_run,
        summary.last_run,
        summary.models,
        summary.responses,
        summary.irt_items,
        match summary.irt_converged {
            Some(false) => " (did not converge)",
            _ => "",
        },
        summary.additive_items
    );
    if !summary.uninformative_items.is_empty() {
        println!(
            "uninformative (every answer right, or every answer wrong): {}",
            summary.uninformative_items.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SimulatedSeries {
    Main,
    Dimension,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SimulatedScoring {
    Continuous,
    PassFail,
}

/// `yardstick simulate`: one synthetic index series type.
#[derive(Args)]
pub struct SimulateArgs {
    #[arg(long, default_value_t = 20)]
    models: usize,
    #[arg(long, default_value_t = 365)]
    days: usize,
    #[arg(long, default_value_t = 10)]
    items_per_day: usize,
    /// Which detector thresholds apply.
    #[arg(long, value_enum, default_value_t = SimulatedSeries::Main)]
    series: SimulatedSeries,
    #[arg(long, value_enum, default_value_t = SimulatedScoring::Continuous)]
    scoring: SimulatedScoring,
    /// Lowest and highest true level of the models (spread evenly).
    #[arg(long, default_value_t = 60.0)]
    level_low: f64,
    #[arg(long, default_value_t = 90.0)]
    level_high: f64,
    /// SD of item difficulty (item effects), points.
    #[arg(long, default_value_t = 15.0)]
    spread: f64,
    /// SD of one answer around its expectation, points.
    #[arg(long, default_value_t = 20.0)]
    noise: f64,
    /// SD of a model's day-to-day wobble, points.
    #[arg(long, default_value_t = 2.0)]
    day_noise: f64,
    /// Inject a drop of this many points (0: none).
    #[arg(long, default_value_t = 20.0)]
    drop: f64,
    /// … into this many models …
    #[arg(long, default_value_t = 5)]
    drop_models: usize,
    /// … from this day on.
    #[arg(long, default_value_t = 200)]
    drop_day: usize,
    /// Runs after the drop within which a detection counts towards power.
    #[arg(long, default_value_t = 10)]
    horizon: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

pub fn simulate(ctx: &Ctx, args: SimulateArgs) -> Result<ExitCode> {
    let scenario = Scenario {
        models: args.models,
        days: args.days,
        items_per_day: args.items_per_day,
        scoring: match args.scoring {
            SimulatedScoring::Continuous => ItemScoring::Continuous,
            SimulatedScoring::PassFail => ItemScoring::PassFail,
        },
        series_type: match args.series {
            SimulatedSeries::Main => SeriesType::Main,
            SimulatedSeries::Dimension => SeriesType::Dimension,
        },
        level_low: args.level_low,
        level_high: args.level_high,
        difficulty_spread: args.spread,
        answer_noise: args.noise,
        day_noise: args.day_noise,
        drop: (args.drop > 0.0).then_some(InjectedDrop {
            start_day: args.drop_day,
            size: args.drop,
            models: args.drop_models,
        }),
        detection_horizon: args.horizon,
        seed: args.seed,
    };
    let report = run_simulation(&scenario, &ctx.config.verdicts.detectors)?;
    if args.json {
        print_json(&serde_json::json!({ "scenario": scenario, "report": report }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} series × {} days, {} items a day ({} thresholds: k = {}, h = {})",
        report.series,
        args.days,
        args.items_per_day,
        match args.series {
            SimulatedSeries::Main => "main",
            SimulatedSeries::Dimension => "dimension",
        },
        ctx.config.verdicts.detectors.cusum(scenario.series_type).k,
        ctx.config.verdicts.detectors.cusum(scenario.series_type).h
    );
    println!(
        "false alarms: {} in {} unchanged series-days = {:.5} per series-day ({:.2} a month for {} series)",
        report.false_alarms,
        report.null_runs,
        report.false_alarm_rate,
        report.index_false_alarms(report.series, 30),
        report.series
    );
    println!(
        "watch verdicts: {} ({:.4} per series-day; each costs a retest)",
        report.watches, report.watch_rate
    );
    if report.drops > 0 {
        println!(
            "drops of {} points: {} of {} flagged likely_degradation within {} runs (power {:.2}); mean delay {}",
            args.drop,
            report.detected,
            report.drops,
            args.horizon,
            report.power,
            report
                .mean_detection_delay
                .map_or("–".to_string(), |d| format!("{d:.1} runs"))
        );
    }
    Ok(ExitCode::SUCCESS)
}
