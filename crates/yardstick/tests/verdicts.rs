//! Verdicts end to end through the binary: 30 daily runs of two models
//! against a loopback stub, then alpha's main score drops 20 points. Every
//! `yardstick run` judges the run after grading; the drop must be
//! `likely_degradation` within 5 runs with a retest scheduled, `yardstick
//! retest` runs it (alpha still answers badly) and confirms it, and the
//! changes reach a loopback webhook. A single bad day stays noise or watch.

mod common;

use common::{answer_token, item, prompt_of, Reply, Sandbox, Stub, TestDb};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PER_DIMENSION: usize = 10;
/// `alpha`'s behaviour: how many of each dimension's 10 items it gets right
/// today (`ALL_WRONG`: none, whatever the day).
const ALL_WRONG: usize = usize::MAX;

fn bank() -> String {
    let exact = r#"{ type = "exact" }"#;
    let mut out = String::new();
    for (prefix, dimension) in [("c", "code_execution"), ("g", "grounding")] {
        for n in 0..PER_DIMENSION {
            let id = format!("{prefix}{n}");
            out += &item(
                &id,
                dimension,
                &format!("Reply ANSWER<{id}>"),
                &[&id],
                exact,
            );
        }
    }
    out
}

/// Today's answers: item n of a dimension is right when (n + day) mod 10 <
/// the model's count, so which items pass rotates from day to day.
struct Today {
    day: AtomicUsize,
    alpha_right: AtomicUsize,
}

fn stub(today: Arc<Today>) -> Stub {
    Stub::start(Duration::ZERO, move |body: &Value| {
        let token = answer_token(&prompt_of(body)).unwrap_or_default();
        let n: usize = token[1..].parse().unwrap_or(0);
        let day = today.day.load(Ordering::SeqCst);
        let right = match body["model"].as_str() {
            Some("alpha-1") => today.alpha_right.load(Ordering::SeqCst),
            _ => 8,
        };
        let correct = right != ALL_WRONG && (n + day) % PER_DIMENSION < right;
        Reply::answer(if correct { &token } else { "I am not sure." })
    })
}

/// A webhook on 127.0.0.1 that answers 500 to its first request, then 200,
/// keeping the JSON bodies. Its thread stops when the test process ends.
fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/SECRET", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        let mut statuses: VecDeque<u16> = VecDeque::from([500]);
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = header.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let status = statuses.pop_front().unwrap_or(200);
                if status == 200 {
                    seen.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                }
                write!(writer, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n").unwrap();
            }
        }
    });
    (url, bodies)
}

fn config(stub: &Stub, hook: &str) -> String {
    let model = |name: &str| {
        format!(
            "[[models]]\nname = \"{name}\"\nprovider = \"openai\"\nmodel = \"{name}-1\"\nbase_url = \"{}\"\nmax_retries = 0\nconcurrency = 4\n\n",
            stub.base_url()
        )
    };
    format!(
        "bank = \"bank\"\n\n{}{}[kinds.daily]\nper_dimension = {PER_DIMENSION}\ndimensions = [\"code_execution\", \"grounding\"]\n\n\
         [alerts]\nwebhooks = [\"{hook}\"]\nretry_base_secs = 0.01\n",
        model("alpha"),
        model("beta")
    )
}

/// Runs one day and returns its run number.
fn run_day(cli: &common::Cli, today: &Today, day: usize, alpha_right: usize) -> i64 {
    today.day.store(day, Ordering::SeqCst);
    today.alpha_right.store(alpha_right, Ordering::SeqCst);
    let ran = cli.ok(&["run", "--kind", "daily", "--seed", &day.to_string()]);
    common::created_run(&ran.stderr)
}

fn verdict_of(cli: &common::Cli, run: i64, model: &str, series: &str) -> Value {
    let out = cli.json(&["verdicts", &run.to_string()]);
    out["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["model"] == model && v["series"] == series)
        .unwrap_or_else(|| panic!("no verdict of {model} on {series} in run #{run}: {out:#}"))
        .clone()
}

async fn sustained_drop_is_flagged_retested_and_confirmed(db: TestDb) {
    let sandbox = Sandbox::new();
    let today = Arc::new(Today {
        day: AtomicUsize::new(0),
        alpha_right: AtomicUsize::new(8),
    });
    let stub = stub(Arc::clone(&today));
    let (hook, delivered) = webhook();
    sandbox.write("bank/items.toml", &bank());
    sandbox.write("yardstick.toml", &config(&stub, &hook));
    let cli = sandbox.cli("yardstick.toml", db.url());

    // 30 days around 85 (8 or 9 of 10 right in each dimension).
    for day in 0..30 {
        let run = run_day(&cli, &today, day, 8 + day % 2);
        if day == 29 {
            let v = verdict_of(&cli, run, "alpha", "main");
            assert_eq!(v["verdict"], "noise", "{v:#}");
            assert!((v["numbers"]["baseline"]["mean"].as_f64().unwrap() - 85.0).abs() < 1.0);
        }
    }
    // Then 6 or 7 of 10: a 20-point drop.
    let mut flagged = None;
    for day in 30..35 {
        let run = run_day(&cli, &today, day, 6 + day % 2);
        assert_eq!(verdict_of(&cli, run, "beta", "main")["verdict"], "noise");
        let v = verdict_of(&cli, run, "alpha", "main");
        if v["verdict"] == "likely_degradation" {
            flagged = Some((day - 29, run, v));
            break;
        }
    }
    let (runs_after_drop, run, v) = flagged.expect("likely_degradation within 5 runs of the drop");
    eprintln!("flagged after {runs_after_drop} runs (Run #{run})");
    assert!(
        v["explanation"].as_str().unwrap().contains("alpha"),
        "{v:#}"
    );
    assert!(
        v["numbers"]["cusum_lower"].as_f64().unwrap() >= 6.0,
        "{v:#}"
    );

    let text = cli.ok(&["verdicts", &run.to_string()]).stdout;
    assert!(text.contains("likely_degradation"), "{text}");

    // The retest: alpha still answers badly.
    today.alpha_right.store(ALL_WRONG, Ordering::SeqCst);
    let reports = cli.json(&["retest"]);
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let report = &reports[0];
    assert_eq!(report["retest"]["model"], "alpha");
    assert_eq!(report["retest"]["series"], "main");
    assert_eq!(report["retest"]["decision"], "confirm", "{report:#}");
    assert_eq!(report["verdict"]["verdict"], "confirmed_degradation");
    let retest_run = report["retest"]["run_id"].as_i64().unwrap();
    let runs = cli.json(&["show", "runs"]);
    let retest_row = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == retest_run)
        .unwrap();
    assert_eq!(retest_row["kind"], "retest");
    assert_eq!(retest_row["epochs"], 3);
    assert_eq!(retest_row["models"], serde_json::json!(["alpha"]));
    // Nothing is left to retest.
    assert!(cli.ok(&["retest"]).stdout.contains("no pending retests"));

    // Every verdict change of alpha went out; the first delivery needed a retry.
    let alerts = cli.json(&["alerts"]);
    let alerts = alerts.as_array().unwrap();
    assert!(!alerts.is_empty());
    assert!(alerts.iter().all(|a| a["status"] == "sent"), "{alerts:#?}");
    assert!(alerts.iter().any(|a| a["tries"] == 2), "{alerts:#?}");
    assert!(alerts
        .iter()
        .all(|a| !a["webhook"].as_str().unwrap().contains("SECRET")));
    let bodies = delivered.lock().unwrap().clone();
    assert_eq!(bodies.len(), alerts.len());
    let last = bodies.last().unwrap();
    assert_eq!(
        last["yardstick"]["verdict"], "confirmed_degradation",
        "{last:#}"
    );
    assert!(last["text"]
        .as_str()
        .unwrap()
        .contains("alpha on main is now confirmed_degradation"));

    // After a calibration the board carries difficulty-adjusted scores; on the
    // flagged day alpha (6–7 of 10 right) sits below beta.
    let board = cli.json(&["board", "--run", &run.to_string()]);
    assert!(board.get("adjusted").is_none(), "no calibration yet");
    cli.ok(&["calibrate", "--kind", "daily"]);
    let board = cli.json(&["board", "--run", &run.to_string()]);
    let adjusted = board["adjusted"].as_array().expect("adjusted scores");
    let irt = |model: &str| {
        adjusted
            .iter()
            .find(|a| a["model"] == model && a["fit"] == "irt")
            .unwrap_or_else(|| panic!("no irt score for {model}: {adjusted:#?}"))["score"]
            .as_f64()
            .unwrap()
    };
    assert!(irt("alpha") < irt("beta"), "{adjusted:#?}");
    let text = cli.ok(&["board", "--run", &run.to_string()]).stdout;
    assert!(
        text.contains("Difficulty-adjusted (calibration #1;"),
        "{text}"
    );
}

async fn single_bad_day_stays_noise_or_watch(db: TestDb) {
    let sandbox = Sandbox::new();
    let today = Arc::new(Today {
        day: AtomicUsize::new(0),
        alpha_right: AtomicUsize::new(9),
    });
    let stub = stub(Arc::clone(&today));
    let (hook, _) = webhook();
    sandbox.write("bank/items.toml", &bank());
    sandbox.write("yardstick.toml", &config(&stub, &hook));
    let cli = sandbox.cli("yardstick.toml", db.url());
    for day in 0..30 {
        run_day(&cli, &today, day, 9);
    }
    for (day, right) in [(30, 5), (31, 9), (32, 9), (33, 9)] {
        let run = run_day(&cli, &today, day, right);
        for series in ["main", "code_execution", "grounding"] {
            let v = verdict_of(&cli, run, "alpha", series);
            let verdict = v["verdict"].as_str().unwrap();
            assert!(
                matches!(verdict, "noise" | "watch"),
                "day {day}, {series}: {verdict}: {}",
                v["explanation"]
            );
        }
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(super::TestDb::sqlite(dir.path())).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::TestDb::postgres().await).await
            }
        }
    )*};
}

on_both_backends!(
    sustained_drop_is_flagged_retested_and_confirmed,
    single_bad_day_stays_noise_or_watch,
);

#[test]
fn commands_name_bad_input_and_simulate_reports_its_rates() {
    let sandbox = Sandbox::new();
    sandbox.write("bank/items.toml", &bank());
    sandbox.write("yardstick.toml", "bank = \"bank\"\n");
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite(dir.path());
    let cli = sandbox.cli("yardstick.toml", db.url());
    // Reading commands do not create a database.
    let err = cli.run(&["verdicts"]).failed();
    assert!(err.contains("no database at"), "{err}");
    assert!(!dir.path().join("yardstick.db").exists());
    let err = cli.run(&["alerts", "--status", "lost"]).failed();
    assert!(
        err.contains("--status lost: expected sent, failed or pending"),
        "{err}"
    );

    sandbox.write("bad.toml", "[verdicts.retest]\nepochs = 0\n");
    let err = sandbox
        .cli("bad.toml", db.url())
        .run(&["verdicts"])
        .failed();
    assert!(
        err.contains("bad.toml: verdicts.retest.epochs must be at least 1"),
        "{err}"
    );

    let err = cli
        .run(&["simulate", "--models", "2", "--drop-models", "3"])
        .failed();
    assert!(
        err.contains("simulation scenario: drop affects 3 models; it must affect 1 to 2"),
        "{err}"
    );
    let out = cli.json(&[
        "simulate",
        "--models",
        "6",
        "--days",
        "90",
        "--drop-day",
        "60",
        "--drop-models",
        "3",
    ]);
    let report = &out["report"];
    assert_eq!(report["series"], 6);
    assert_eq!(report["drops"], 3);
    let power = report["power"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&power), "{out:#}");
    let text = cli
        .ok(&["simulate", "--models", "4", "--days", "60", "--drop", "0"])
        .stdout;
    assert!(text.contains("false alarms:"), "{text}");
    assert!(!text.contains("drops of"), "{text}");
}
