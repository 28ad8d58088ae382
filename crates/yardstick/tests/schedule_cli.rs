//! `yardstick daemon` end to end: with both slots due, the schedule runs the
//! smoke and weekly evaluations against a command-provider script, judges
//! them (verdicts after each run), and publishes each run's HTML articles
//! into `[report] out_dir` as `yardstick report --format html --out` does.

mod common;

use common::{echo_script, item, Sandbox, TestDb};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn bank() -> String {
    let dims = [
        "code_execution",
        "grounding",
        "judgment",
        "communication",
        "integrity",
    ];
    (0..10)
        .map(|i| {
            let token = format!("tok-{i:02}");
            item(
                &format!("item-{i:02}"),
                dims[i % dims.len()],
                &format!("Reply with exactly this and nothing else: ANSWER<{token}>"),
                &[&token],
                r#"{ type = "exact" }"#,
            )
        })
        .collect()
}

#[test]
fn the_daemon_runs_due_slots_and_publishes_their_articles() {
    let sandbox = Sandbox::new();
    let calls = sandbox.path("calls.log");
    let script = echo_script(&sandbox, "model.sh", "0", &calls);
    sandbox.write("bank/items.toml", &bank());
    // Slots at midnight: both are due whenever the test runs.
    sandbox.write(
        "yardstick.toml",
        &format!(
            r#"bank = "bank"

[[models]]
name = "script"
provider = "command"
model = "script-1"
command = ["{}"]

[serve.schedule]
daily_at = "00:00"
weekly_at = "00:00"

[report]
out_dir = "published"
"#,
            script.display()
        ),
    );
    let db = TestDb::sqlite(sandbox.dir.path());
    let cli = sandbox.cli("yardstick.toml", db.url());
    let mut daemon = cli
        .command(&["daemon"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = sandbox.path("published");
    let expected = [
        "run-1-roundup.html",
        "run-1-report.json",
        "run-2-roundup.html",
        "run-2-report.json",
    ];
    let started = Instant::now();
    while !expected.iter().all(|f| out.join(f).exists()) {
        if started.elapsed() > Duration::from_secs(120) || daemon.try_wait().unwrap().is_some() {
            daemon.kill().ok();
            let output = daemon.wait_with_output().unwrap();
            panic!(
                "no articles in {} after {:?}; daemon stderr:\n{}",
                out.display(),
                started.elapsed(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The report.json is written last; give the write a moment to finish.
    std::thread::sleep(Duration::from_millis(300));
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    for (run, kind) in [(1, "smoke"), (2, "weekly")] {
        let html = std::fs::read_to_string(out.join(format!("run-{run}-roundup.html"))).unwrap();
        assert!(
            html.contains(&format!("<h1>Run #{run}: script leads with 100.0</h1>")),
            "{html}"
        );
        assert!(html.contains(&format!("{kind} run #{run}")), "{html}");
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("run-{run}-report.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(meta["run"], run);
        assert_eq!(meta["format"], "html");
        assert_eq!(
            meta["articles"][0]["file_name"],
            format!("run-{run}-roundup.html")
        );
    }
    // The scheduled runs were judged like `yardstick run`'s (after_run).
    let verdicts = cli.json(&["verdicts"]);
    let runs: std::collections::BTreeSet<i64> = verdicts["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["run_id"].as_i64().unwrap())
        .collect();
    assert_eq!(runs, [1, 2].into());
}
