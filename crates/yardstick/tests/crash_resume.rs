//! Crash safety, end to end: a running `yardstick run` is killed with SIGKILL
//! part-way, then `yardstick resume N` finishes it. Afterwards every
//! (model, drawn item, epoch) has exactly one stored attempt and every answer
//! exactly one grade, the run is complete, nothing stored before the kill
//! changed, and resume asked the models only for what was missing.
//!
//! Two models: a `command` provider (a /bin/sh script) and an `openai`
//! provider pointed at a loopback stub. Both answer the `ANSWER<…>` token of
//! each prompt, so a correct grade also proves the answer is stored against
//! the item that was asked.

mod common;

use common::{
    answer_token, echo_script, item, line_count, prompt_of, Reply, Sandbox, Stub, TestDb,
};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use yardstick_store::{AttemptRow, GradeRow, RunStatus, Store};

const ITEMS: usize = 30;
const EPOCHS: u32 = 3;
const MODELS: [&str; 2] = ["script", "stubbed"];
const SEED: u64 = 1000;

fn bank() -> String {
    let dims = [
        "code_execution",
        "grounding",
        "judgment",
        "communication",
        "integrity",
    ];
    let mut text = String::new();
    for i in 0..ITEMS {
        let token = format!("tok-{i:02}");
        text.push_str(&item(
            &format!("item-{i:02}"),
            dims[i % dims.len()],
            &format!("Reply with exactly this and nothing else: ANSWER<{token}>"),
            &[&token],
            r#"{ type = "exact" }"#,
        ));
    }
    text
}

async fn grades_of(store: &Store, attempts: &[AttemptRow]) -> HashMap<i64, Vec<GradeRow>> {
    let mut out = HashMap::new();
    for a in attempts {
        out.insert(a.id, store.grades_for_attempt(a.id).await.unwrap());
    }
    out
}

/// Removes the grades of these attempts, straight in the database.
async fn delete_grades(url: &str, attempts: &[i64]) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    for id in attempts {
        sqlx::query("DELETE FROM grades WHERE attempt_id = $1")
            .bind(*id)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
}

async fn crash_then_resume(db: TestDb) {
    let sandbox = Sandbox::new();
    let calls = sandbox.path("script-calls.log");
    let script = echo_script(&sandbox, "model.sh", "0.05", &calls);
    let stub = Stub::start(Duration::from_millis(60), |body| {
        Reply::answer(&answer_token(&prompt_of(body)).unwrap_or_default())
    });
    sandbox.write("bank/items.toml", &bank());
    sandbox.write(
        "yardstick.toml",
        &format!(
            r#"bank = "bank"

[[models]]
name = "script"
provider = "command"
model = "script-1"
command = ["{script}"]
concurrency = 2
seed = {SEED}

[[models]]
name = "stubbed"
provider = "openai"
model = "stub-model-2024-01-01"
base_url = "{base}"
concurrency = 2
seed = {SEED}
max_retries = 0
"#,
            script = script.display(),
            base = stub.base_url(),
        ),
    );
    let cli = sandbox.cli("yardstick.toml", db.url());
    let store = db.store().await;
    let total = MODELS.len() * ITEMS * EPOCHS as usize;

    // Start a run and SIGKILL it once some, but far from all, answers are stored.
    let mut child = cli
        .command(&["run", "--kind", "full", "--epochs", &EPOCHS.to_string()])
        .spawn()
        .unwrap();
    let started = Instant::now();
    let run_id = loop {
        if let Some(run) = store.list_runs(1).await.unwrap().first() {
            let stored = store.attempts_for_run(run.id).await.unwrap().len();
            if stored >= total / 4 {
                child.kill().unwrap(); // SIGKILL
                break run.id;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("`yardstick run` ended before it could be killed: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run stored too few attempts in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the run must have died of SIGKILL, not finished: {status}"
    );
    // Scripts started by the dead process finish on their own; let them.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let run = store.get_run(run_id).await.unwrap().unwrap();
    assert_eq!(
        run.status,
        RunStatus::Running,
        "a killed run stays `running`"
    );
    let before = store.attempts_for_run(run_id).await.unwrap();
    // A kill between an answer's commit and its grade's commit is a narrow
    // window; widen it by hand: the newest answers lose their grades, as if
    // the process had died before grading them.
    let ungraded: Vec<i64> = before.iter().rev().take(5).map(|a| a.id).collect();
    delete_grades(db.url(), &ungraded).await;
    let grades_before = grades_of(&store, &before).await;
    assert!(
        !before.is_empty() && before.len() < total,
        "killed with {} of {total} attempts stored",
        before.len()
    );
    let missing_by_model =
        |model: &str| ITEMS * EPOCHS as usize - before.iter().filter(|a| a.model == model).count();
    let (script_missing, stub_missing) = (missing_by_model("script"), missing_by_model("stubbed"));
    assert!(ungraded.iter().all(|id| grades_before[id].is_empty()));
    let (script_calls_before, stub_calls_before) = (line_count(&calls), stub.requests());

    // Resume.
    let resumed = cli.ok(&["resume", &run_id.to_string(), "--json"]);
    let summary = format!(
        "Run #{run_id}: {} asked (0 vendor errors, {} already stored), {} graded",
        total - before.len(),
        before.len(),
        total - before.len() + grades_before.values().filter(|g| g.is_empty()).count(),
    );
    assert!(resumed.stderr.contains(&summary), "{}", resumed.stderr);
    // Only what was missing was asked, each exactly once (no vendor errors, so no retries).
    assert_eq!(line_count(&calls) - script_calls_before, script_missing);
    assert_eq!(stub.requests() - stub_calls_before, stub_missing);

    // Exactly one attempt per (model, drawn item, epoch), nothing else.
    let run = store.get_run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    assert!(run.finished_at.is_some());
    let drawn = store.run_items(run_id).await.unwrap();
    assert_eq!(drawn.len(), ITEMS);
    let after = store.attempts_for_run(run_id).await.unwrap();
    assert_eq!(after.len(), total);
    let mut keys: BTreeMap<(String, String, u32), usize> = BTreeMap::new();
    for a in &after {
        *keys
            .entry((a.model.clone(), a.item_version.clone(), a.epoch))
            .or_default() += 1;
    }
    let mut expected = BTreeMap::new();
    for model in MODELS {
        for d in &drawn {
            for epoch in 0..EPOCHS {
                expected.insert((model.to_string(), d.version.clone(), epoch), 1);
            }
        }
    }
    assert_eq!(keys, expected);

    // Every answer is the right one for its item and epoch, graded exactly once.
    let grades_after = grades_of(&store, &after).await;
    let token_of: HashMap<&str, String> = drawn
        .iter()
        .map(|d| (d.item_id.as_str(), format!("tok-{}", &d.item_id[5..])))
        .collect();
    for a in &after {
        assert_eq!(a.error_class, None, "{a:?}");
        assert_eq!(
            a.response_text.as_deref(),
            Some(token_of[a.item_id.as_str()].as_str())
        );
        let request: serde_json::Value = serde_json::from_str(&a.request_json).unwrap();
        assert_eq!(
            request["seed"],
            SEED + u64::from(a.epoch),
            "epoch k uses seed + k"
        );
        let grades = &grades_after[&a.id];
        assert_eq!(
            grades.len(),
            1,
            "attempt {} has {} grades",
            a.id,
            grades.len()
        );
        assert_eq!(grades[0].score, 100.0, "{a:?}");
    }

    // Nothing stored before the kill changed: same rows, same ids, same grades.
    let after_by_id: HashMap<i64, &AttemptRow> = after.iter().map(|a| (a.id, a)).collect();
    for a in &before {
        let now = after_by_id
            .get(&a.id)
            .unwrap_or_else(|| panic!("attempt {} vanished", a.id));
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(now).unwrap()
        );
        if let Some(old) = grades_before[&a.id].first() {
            assert_eq!(old, &grades_after[&a.id][0]);
        }
    }

    // The board reads the finished run: both models answered everything correctly.
    let board = cli.json(&["board", "--run", &run_id.to_string()]);
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let s = &row["scores"];
        assert_eq!(s["attempts"], ITEMS * EPOCHS as usize);
        assert_eq!(s["answered"], ITEMS * EPOCHS as usize);
        assert_eq!(s["availability"], 1.0);
        assert_eq!(s["main"]["published"], 100.0);
    }

    // A second resume of the finished run asks nothing and changes nothing.
    let again = cli.ok(&["resume", &run_id.to_string()]);
    assert!(
        again.stderr.contains(&format!(
            "Run #{run_id}: 0 asked (0 vendor errors, {total} already stored), 0 graded"
        )),
        "{}",
        again.stderr
    );
    assert_eq!(store.attempts_for_run(run_id).await.unwrap(), after);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_then_resume_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_then_resume(TestDb::sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_then_resume_on_postgres() {
    crash_then_resume(TestDb::postgres().await).await;
}
