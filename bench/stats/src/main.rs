//! `yardstick-bench-stats`: run by hand, never in CI (see bench/RESULTS.md).
//!
//! - `timing`: all verdicts (every run, every series) for 30 models × 365
//!   daily runs × 10 items, main score plus five two-item dimensions; and
//!   Rasch / 2PL calibration of 2,000 items × 30 models. Targets: < 1 s, < 10 s.
//! - `arl`: simulated average run lengths of the two-sided CUSUM, k = 0.5,
//!   h = 4…7, at shifts 0, 1σ and 2σ (the METHODS.md table).
//! - `thresholds`: the simulator over a grid of CUSUM thresholds h (k = 0.5)
//!   for the main-score and dimension series types of a 20-model index;
//!   prints the Markdown tables behind the defaults in docs/METHODS.md.
//!
//! Build with `--release`: `cargo run --release -p yardstick-bench-stats -- timing`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use yardstick_stats::detect::CusumConfig;
use yardstick_stats::irt::{calibrate, CalibrationConfig, IrtModel, ResponseCell};
use yardstick_stats::simulate::{
    average_run_length, histories, simulate, InjectedDrop, ItemScoring, Scenario,
};
use yardstick_stats::verdict::{verdicts_over_time, SeriesType, VerdictConfig, VerdictKind};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("timing") => timing(),
        Some("arl") => arl(),
        Some("thresholds") => {
            let numbers: Result<Vec<f64>, _> = args[1..].iter().map(|a| a.parse::<f64>()).collect();
            match numbers.as_deref() {
                Ok([]) => thresholds(10, &[4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]),
                Ok([seeds, grid @ ..]) if !grid.is_empty() && seeds.fract() == 0.0 => {
                    thresholds(*seeds as u64, grid)
                }
                _ => usage(),
            }
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: yardstick-bench-stats timing | arl | thresholds [SEEDS H...]");
    std::process::exit(2);
}

/// CPU seconds used by this thread (the benchmark is single-threaded): the
/// machine is shared, so wall time alone would count other processes' work.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// Runs `f`, returning its result with (wall, CPU) seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let out = f();
    (out, wall.elapsed().as_secs_f64(), cpu_seconds() - cpu)
}

/// The main score: ten 0–100 items a day, items spread about 25 points.
fn main_series(models: usize, days: usize, seed: u64) -> Scenario {
    Scenario {
        models,
        days,
        items_per_day: 10,
        scoring: ItemScoring::Continuous,
        series_type: SeriesType::Main,
        level_low: 60.0,
        level_high: 90.0,
        difficulty_spread: 10.0,
        answer_noise: 23.0,
        day_noise: 2.0,
        drop: None,
        detection_horizon: 5,
        seed,
    }
}

/// A dimension: two pass/fail items a day.
fn dimension_series(models: usize, days: usize, seed: u64) -> Scenario {
    Scenario {
        models,
        days,
        items_per_day: 2,
        scoring: ItemScoring::PassFail,
        series_type: SeriesType::Dimension,
        level_low: 50.0,
        level_high: 95.0,
        difficulty_spread: 10.0,
        answer_noise: 0.0,
        day_noise: 2.0,
        drop: None,
        detection_horizon: 10,
        seed,
    }
}

fn timing() {
    let (models, days) = (30, 365);
    let started = Instant::now();
    let mut series = histories(&main_series(models, days, 1));
    for d in 0..5 {
        series.extend(histories(&dimension_series(models, days, 10 + d)));
    }
    let generated = started.elapsed();
    let config = VerdictConfig::default();
    let mut times = Vec::new();
    let mut counts = [0usize; 5];
    for _ in 0..5 {
        let (kinds, wall, cpu) = timed(|| {
            let mut counts = [0usize; 5];
            for history in &series {
                for v in verdicts_over_time(history, &config).expect("simulated series are valid") {
                    counts[VerdictKind::ALL.iter().position(|&k| k == v.kind).unwrap()] += 1;
                }
            }
            counts
        });
        counts = kinds;
        times.push((cpu, wall));
    }
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "verdicts: {} series ({models} models × main + 5 dimensions) × {days} runs = {} verdicts; data generated in {:.3} s",
        series.len(),
        series.len() * days,
        generated.as_secs_f64()
    );
    println!(
        "  all verdicts, 5 repetitions: CPU median {:.3} s (min {:.3}, max {:.3}); wall {}",
        times[2].0,
        times[0].0,
        times[4].0,
        times
            .iter()
            .map(|t| format!("{:.3}", t.1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  kinds: {}",
        VerdictKind::ALL
            .iter()
            .zip(counts)
            .map(|(k, c)| format!("{k} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (_, wall, cpu) = timed(|| {
        for history in &series[..models] {
            verdicts_over_time(history, &config).expect("simulated series are valid");
        }
    });
    println!("  main score only ({models} series): CPU {cpu:.3} s, wall {wall:.3} s");
    let no_bocpd = VerdictConfig {
        change_point_enabled: false,
        ..config
    };
    let (_, wall, cpu) = timed(|| {
        for history in &series {
            verdicts_over_time(history, &no_bocpd).expect("simulated series are valid");
        }
    });
    println!("  all series without change-point detection: CPU {cpu:.3} s, wall {wall:.3} s");

    let (items, calibration_models) = (2000, 30);
    let mut rng = StdRng::seed_from_u64(5);
    let abilities: Vec<f64> = (0..calibration_models)
        .map(|_| rng.gen_range(-2.0..2.0))
        .collect();
    let difficulties: Vec<(f64, f64)> = (0..items)
        .map(|_| (rng.gen_range(0.5..2.0), rng.gen_range(-2.5..2.5)))
        .collect();
    let model_names: Vec<String> = (0..calibration_models).map(|m| format!("m{m}")).collect();
    let item_names: Vec<String> = (0..items).map(|j| format!("i{j}")).collect();
    for (label, model, trials) in [
        ("Rasch, 1 answer per pair", IrtModel::Rasch, 1),
        ("Rasch, 5 answers per pair", IrtModel::Rasch, 5),
        ("2PL, 1 answer per pair", IrtModel::TwoPl, 1),
        ("2PL, 5 answers per pair", IrtModel::TwoPl, 5),
    ] {
        let cells: Vec<ResponseCell> = (0..calibration_models)
            .flat_map(|m| (0..items).map(move |j| (m, j)))
            .map(|(m, j)| {
                let (a, b) = difficulties[j];
                let p = 1.0 / (1.0 + (-a * (abilities[m] - b)).exp());
                let correct = (0..trials).filter(|_| rng.gen::<f64>() < p).count() as u32;
                ResponseCell {
                    model: m,
                    item: j,
                    correct,
                    trials,
                }
            })
            .collect();
        let config = CalibrationConfig {
            model,
            ..CalibrationConfig::default()
        };
        let (set, wall, cpu) = timed(|| {
            calibrate(&model_names, &item_names, &cells, &config, 1)
                .expect("simulated responses are valid")
        });
        println!(
            "calibration {label}: {items} items × {calibration_models} models: CPU {cpu:.3} s, wall {wall:.3} s ({} sweeps, converged: {}, {} uninformative items)",
            set.sweeps,
            set.converged,
            set.uninformative_items.len()
        );
    }
}

fn arl() {
    const REPLICATIONS: usize = 10_000;
    println!(
        "two-sided CUSUM, k = 0.5, N(shift, 1) residuals, {REPLICATIONS} replications (± one SE)"
    );
    println!("| h | ARL0 | ARL at 1σ | ARL at 2σ |");
    println!("|---|---:|---:|---:|");
    for h in [4.0, 5.0, 6.0, 7.0] {
        let cusum = CusumConfig { k: 0.5, h };
        let [r0, r1, r2] =
            [0.0, 1.0, 2.0].map(|shift| average_run_length(&cusum, shift, REPLICATIONS, 42));
        println!(
            "| {h} | {:.0} ± {:.0} | {:.2} ± {:.2} | {:.2} ± {:.2} |",
            r0.mean, r0.se, r1.mean, r1.se, r2.mean, r2.se
        );
    }
}

/// Index series: 20 models, a main score and five dimensions each.
const INDEX_MODELS: usize = 20;
const DIMENSIONS: usize = 5;
const RUNS_PER_MONTH: usize = 30;
const DAYS: usize = 365;
/// Power is counted within these many runs of the drop.
const HORIZONS: [usize; 3] = [5, 10, 30];

/// What the detectors did on one series type at one setting, over all seeds.
struct Cell {
    null_runs: usize,
    false_alarms: usize,
    watches: usize,
    drops: usize,
    /// Drops flagged within each of `HORIZONS`.
    within: [usize; 3],
    delay_sum: f64,
}

impl Cell {
    fn false_alarm_rate(&self) -> f64 {
        self.false_alarms as f64 / self.null_runs as f64
    }
}

type MakeScenario = fn(usize, usize, u64) -> Scenario;

fn cell(make: MakeScenario, drop_size: f64, config: &VerdictConfig, seeds: u64) -> Cell {
    let mut c = Cell {
        null_runs: 0,
        false_alarms: 0,
        watches: 0,
        drops: 0,
        within: [0; 3],
        delay_sum: 0.0,
    };
    for seed in 0..seeds {
        let stable = simulate(&make(INDEX_MODELS, DAYS, seed), config).expect("valid");
        c.null_runs += stable.null_runs;
        c.false_alarms += stable.false_alarms;
        c.watches += stable.watches;
        for (i, horizon) in HORIZONS.into_iter().enumerate() {
            let dropped = Scenario {
                drop: Some(InjectedDrop {
                    start_day: 60,
                    size: drop_size,
                    models: INDEX_MODELS,
                }),
                detection_horizon: horizon,
                days: 60 + horizon,
                ..make(INDEX_MODELS, DAYS, 1000 + seed)
            };
            let r = simulate(&dropped, config).expect("valid");
            c.within[i] += r.detected;
            if i == HORIZONS.len() - 1 {
                c.drops += r.drops;
                c.delay_sum += r.mean_detection_delay.unwrap_or(0.0) * r.detected as f64;
            }
        }
    }
    c
}

const SERIES_TYPES: [(&str, MakeScenario, f64); 2] = [
    ("main score (10 items a day, 0–100)", main_series, 20.0),
    (
        "dimension (2 pass/fail items a day)",
        dimension_series,
        30.0,
    ),
];

fn thresholds(seeds: u64, grid: &[f64]) {
    println!(
        "{INDEX_MODELS} models × {DAYS} days × {seeds} seeds per cell; k = 0.5; other settings at their defaults"
    );
    for (name, make, drop_size) in SERIES_TYPES {
        println!("\n{name}: false alarms on stable series; power and delay for a sustained {drop_size}-point drop");
        println!("| h | false alarms / series-run | watch starts / series-run | power within 5 runs | within 10 | within 30 | mean delay (runs, detected within 30) |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for &h in grid {
            let cusum = CusumConfig { k: 0.5, h };
            let config = VerdictConfig {
                main: cusum,
                dimension: cusum,
                ..VerdictConfig::default()
            };
            let c = cell(make, drop_size, &config, seeds);
            let last = c.within[HORIZONS.len() - 1];
            println!(
                "| {h} | {:.2e} ({} in {}) | {:.2e} | {:.2} | {:.2} | {:.2} | {} |",
                c.false_alarm_rate(),
                c.false_alarms,
                c.null_runs,
                c.watches as f64 / c.null_runs as f64,
                c.within[0] as f64 / c.drops as f64,
                c.within[1] as f64 / c.drops as f64,
                last as f64 / c.drops as f64,
                if last > 0 {
                    format!("{:.1}", c.delay_sum / last as f64)
                } else {
                    "–".into()
                }
            );
        }
    }
    let defaults = VerdictConfig::default();
    let [main, dimension] =
        SERIES_TYPES.map(|(_, make, drop_size)| cell(make, drop_size, &defaults, seeds));
    let per_month = |main: f64, dimension: f64| {
        (RUNS_PER_MONTH * INDEX_MODELS) as f64 * (main + DIMENSIONS as f64 * dimension)
    };
    println!(
        "\ndefaults (main h = {}, dimension h = {}): index false alarms per month = {RUNS_PER_MONTH} runs × {INDEX_MODELS} models × (main {:.2e} + {DIMENSIONS} × dimension {:.2e}) = {:.2}",
        defaults.main.h,
        defaults.dimension.h,
        main.false_alarm_rate(),
        dimension.false_alarm_rate(),
        per_month(main.false_alarm_rate(), dimension.false_alarm_rate())
    );
    println!(
        "watch starts (each a confirmation run) per month: {:.1}",
        per_month(
            main.watches as f64 / main.null_runs as f64,
            dimension.watches as f64 / dimension.null_runs as f64
        )
    );
}
