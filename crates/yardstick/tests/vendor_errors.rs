//! Vendor errors, end to end, against a loopback OpenAI-compatible stub that
//! fails some requests on purpose:
//!
//! | prompt contains | stub replies                                   | expected attempt        |
//! |-----------------|------------------------------------------------|-------------------------|
//! | `AUTH`          | 401                                            | `auth`, 1 try           |
//! | `BAD`           | 400                                            | `bad_request`, 1 try    |
//! | `FLAKY`         | 500, always (the model has `max_retries = 1`)  | `server_error`, 2 tries |
//! | `RATE`          | 429 + `Retry-After: 0` once, then an answer    | answered, 2 tries       |
//! | `HALF`          | 401 in epoch 1 only (odd seed)                 | one of each             |
//! | otherwise       | the prompt's `ANSWER<…>` token                 | answered, 1 try         |
//!
//! The board's availability must be answered ÷ asked exactly, the failures
//! must be stored with their class and no grade, and the dimension scores
//! must ignore them (computed by hand below) rather than count them as zero.
//! `regrade` must add a second grade to every answer and keep the first, and
//! the CSV export must quote a response holding a comma, a newline and quotes.

mod common;

use common::{answer_token, item, prompt_of, Reply, Sandbox, Stub, TestDb};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use yardstick_store::GradeRow;

const MULTILINE: &str = "first, second\nthird \"quoted\"";

fn bank() -> String {
    let exact = r#"{ type = "exact" }"#;
    [
        item("c-right", "code_execution", "ANSWER<4>", &["4"], exact),
        item("c-wrong", "code_execution", "ANSWER<5>", &["4"], exact),
        item("c-auth", "code_execution", "AUTH ANSWER<4>", &["4"], exact),
        item(
            "c-flaky",
            "code_execution",
            "FLAKY ANSWER<4>",
            &["4"],
            exact,
        ),
        item("c-half", "code_execution", "HALF ANSWER<4>", &["4"], exact),
        item("g-right", "grounding", "ANSWER<6>", &["6"], exact),
        item("g-bad", "grounding", "BAD ANSWER<6>", &["6"], exact),
        item("g-rate", "grounding", "RATE ANSWER<6>", &["6"], exact),
        item(
            "g-multi",
            "grounding",
            "MULTILINE",
            &["first"],
            r#"{ type = "regex", patterns = ["first", "fourth"] }"#,
        ),
        item("i-right", "integrity", "ANSWER<no>", &["no"], exact),
    ]
    .concat()
}

fn stub() -> Stub {
    let rate_limited_once: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    Stub::start(Duration::from_millis(5), move |body: &Value| {
        let prompt = prompt_of(body);
        let seed = body["seed"].as_u64().expect("the model is seeded");
        if prompt.contains("AUTH") {
            Reply::error(401, "Incorrect API key provided")
        } else if prompt.contains("BAD") {
            Reply::error(400, "Invalid request: unsupported parameter")
        } else if prompt.contains("FLAKY") {
            Reply::error(500, "The server had an error")
        } else if prompt.contains("HALF") && seed % 2 == 1 {
            Reply::error(401, "key revoked")
        } else if prompt.contains("RATE")
            && rate_limited_once.lock().unwrap().insert(body.to_string())
        {
            Reply::error(429, "Rate limit reached").header("retry-after", "0")
        } else if prompt.contains("MULTILINE") {
            Reply::answer(MULTILINE)
        } else {
            Reply::answer(&answer_token(&prompt).unwrap_or_default())
        }
    })
}

/// One exported attempt as expected: item, epoch, error class, tries, score.
type Expected = (&'static str, u64, Option<&'static str>, u64, Option<f64>);

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Parses RFC 4180 CSV: quoted fields may hold commas, line breaks and
/// doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_errors_are_stored_and_not_scored() {
    let sandbox = Sandbox::new();
    let stub = stub();
    sandbox.write("bank/items.toml", &bank());
    sandbox.write(
        "yardstick.toml",
        &format!(
            r#"bank = "bank"

[[models]]
name = "stubbed"
provider = "openai"
model = "stub-model-2024-01-01"
base_url = "{}"
seed = 10
max_retries = 1
concurrency = 4
price_input_per_mtok = 1.0
price_output_per_mtok = 2.0
"#,
            stub.base_url()
        ),
    );
    let db = TestDb::sqlite(sandbox.dir.path());
    let cli = sandbox.cli("yardstick.toml", db.url());

    let ran = cli.ok(&["run", "--kind", "full", "--epochs", "2", "--json"]);
    let run_id = common::created_run(&ran.stderr);
    assert!(
        ran.stderr.contains(&format!(
            "Run #{run_id}: 20 asked (7 vendor errors, 0 already stored), 13 graded"
        )),
        "{}",
        ran.stderr
    );
    // Deterministic 4xx once, 5xx 1 + max_retries times, 429 then success twice.
    // c-right 2, c-wrong 2, c-auth 2, c-flaky 4, c-half 2, g-right 2, g-bad 2,
    // g-rate 4, g-multi 2, i-right 2.
    assert_eq!(stub.requests(), 24);

    // ---- the board -------------------------------------------------------
    let board = ran.json();
    assert_eq!(board, cli.json(&["board"]), "`run --json` prints the board");
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let s = &rows[0]["scores"];
    assert_eq!(s["attempts"], 20);
    assert_eq!(s["answered"], 13);
    assert_eq!(s["availability"].as_f64().unwrap(), 13.0 / 20.0);
    // Failures are not zeros: code = mean(c-right 100, c-wrong 0, c-half 100
    // from epoch 0 alone); grounding = mean(g-right 100, g-rate 100, g-multi 50).
    let dim = |d: &str| s["dimensions"][d]["score"].as_f64().unwrap();
    let items = |d: &str| s["dimensions"][d]["items"].as_u64().unwrap();
    assert!(close(dim("code_execution"), 200.0 / 3.0), "{s}");
    assert_eq!(items("code_execution"), 3);
    assert!(close(dim("grounding"), 250.0 / 3.0), "{s}");
    assert_eq!(items("grounding"), 3);
    assert!(close(dim("integrity"), 100.0), "{s}");
    assert!(s["dimensions"].get("judgment").is_none());
    let main = 0.55 * 200.0 / 3.0 + 0.45 * 250.0 / 3.0;
    assert!(close(s["main"]["raw"].as_f64().unwrap(), main), "{s}");
    assert!(close(s["main"]["published"].as_f64().unwrap(), main), "{s}");
    assert!(s["main"].get("cap_reason").is_none());
    assert_eq!(s["gate"], "pass");
    // Tokens of answered attempts only (20 in, 5 out each), at $1 / $2 per Mtok.
    assert_eq!(s["input_tokens"], 13 * 20);
    assert_eq!(s["output_tokens"], 13 * 5);
    let cost = (13.0 * 20.0 * 1.0 + 13.0 * 5.0 * 2.0) / 1e6;
    assert!(close(s["cost_usd"].as_f64().unwrap(), cost), "{s}");
    assert!(close(s["value"].as_f64().unwrap(), main / cost), "{s}");

    // ---- the stored attempts ----------------------------------------------
    let export = cli.ok(&["export", &run_id.to_string(), "--format", "jsonl"]);
    let exported: Vec<Value> = export
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported.len(), 20);
    let by_key: HashMap<(String, u64), &Value> = exported
        .iter()
        .map(|r| {
            (
                (
                    r["item_id"].as_str().unwrap().to_string(),
                    r["epoch"].as_u64().unwrap(),
                ),
                r,
            )
        })
        .collect();
    assert_eq!(by_key.len(), 20, "one row per item and epoch");
    // (item, epoch, error class, tries, score)
    let expected: &[Expected] = &[
        ("c-right", 0, None, 1, Some(100.0)),
        ("c-right", 1, None, 1, Some(100.0)),
        ("c-wrong", 0, None, 1, Some(0.0)),
        ("c-wrong", 1, None, 1, Some(0.0)),
        ("c-auth", 0, Some("auth"), 1, None),
        ("c-auth", 1, Some("auth"), 1, None),
        ("c-flaky", 0, Some("server_error"), 2, None),
        ("c-flaky", 1, Some("server_error"), 2, None),
        ("c-half", 0, None, 1, Some(100.0)),
        ("c-half", 1, Some("auth"), 1, None),
        ("g-right", 0, None, 1, Some(100.0)),
        ("g-right", 1, None, 1, Some(100.0)),
        ("g-bad", 0, Some("bad_request"), 1, None),
        ("g-bad", 1, Some("bad_request"), 1, None),
        ("g-rate", 0, None, 2, Some(100.0)),
        ("g-rate", 1, None, 2, Some(100.0)),
        ("g-multi", 0, None, 1, Some(50.0)),
        ("g-multi", 1, None, 1, Some(50.0)),
        ("i-right", 0, None, 1, Some(100.0)),
        ("i-right", 1, None, 1, Some(100.0)),
    ];
    for (item_id, epoch, class, tries, score) in expected {
        let row = by_key[&(item_id.to_string(), *epoch)];
        let what = format!("{item_id} epoch {epoch}: {row}");
        assert_eq!(row["error_class"].as_str(), *class, "{what}");
        assert_eq!(row["tries"], *tries, "{what}");
        assert_eq!(row["score"].as_f64(), *score, "{what}");
        assert_eq!(row["grader"].is_null(), class.is_some(), "{what}");
        assert_eq!(row["response"].is_null(), class.is_some(), "{what}");
    }

    // The store agrees: HTTP status and message kept, failures never graded.
    let store = db.store().await;
    let attempts = store.attempts_for_run(run_id).await.unwrap();
    let mut first_grades: HashMap<i64, GradeRow> = HashMap::new();
    for a in &attempts {
        let grades = store.grades_for_attempt(a.id).await.unwrap();
        match a.error_class {
            Some(_) => {
                assert!(grades.is_empty(), "failed attempt {} has grades", a.id);
                let status = match a.item_id.as_str() {
                    "c-auth" | "c-half" => 401,
                    "c-flaky" => 500,
                    "g-bad" => 400,
                    other => panic!("{other} should not have failed"),
                };
                assert_eq!(a.http_status, Some(status), "{a:?}");
                assert!(a
                    .error_message
                    .as_deref()
                    .unwrap()
                    .contains(&status.to_string()));
                assert_eq!(a.response_text, None);
            }
            None => {
                assert_eq!(grades.len(), 1, "{a:?}");
                first_grades.insert(a.id, grades[0].clone());
            }
        }
    }
    assert_eq!(first_grades.len(), 13);

    // ---- regrade adds a grade and keeps the first ---------------------------
    let regraded = cli.ok(&["regrade", &run_id.to_string(), "--json"]);
    assert!(
        regraded.stderr.contains(&format!(
            "Run #{run_id}: 13 answers re-graded (0 grader failures)"
        )),
        "{}",
        regraded.stderr
    );
    for a in &attempts {
        let grades = store.grades_for_attempt(a.id).await.unwrap();
        match first_grades.get(&a.id) {
            None => assert!(grades.is_empty(), "failed attempt {} was graded", a.id),
            Some(first) => {
                assert_eq!(grades.len(), 2, "{a:?}");
                assert_eq!(&grades[0], first, "the first grade is kept as it was");
                assert!(grades[1].id > first.id);
                assert_eq!(grades[1].score, first.score);
                assert_eq!(grades[1].grader_id, first.grader_id);
            }
        }
    }
    assert_eq!(
        regraded.json()["rows"][0]["scores"],
        board["rows"][0]["scores"],
        "same graders, same scores"
    );
    // Regrading asked nobody.
    assert_eq!(stub.requests(), 24);

    // ---- CSV quoting ----------------------------------------------------------
    let csv = cli
        .ok(&["export", &run_id.to_string(), "--format", "csv"])
        .stdout;
    assert!(
        csv.contains("\"first, second\nthird \"\"quoted\"\"\""),
        "the multi-line response is quoted:\n{csv}"
    );
    let records = parse_csv(&csv);
    assert_eq!(records.len(), 21, "header + 20 attempts:\n{csv}");
    let header = &records[0];
    assert_eq!(header.len(), 15);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for r in &records[1..] {
        assert_eq!(r.len(), 15, "{r:?}");
        let row = by_key[&(r[col("item_id")].clone(), r[col("epoch")].parse().unwrap())];
        assert_eq!(r[col("attempt")], row["attempt"].to_string());
        assert_eq!(
            r[col("error_class")],
            row["error_class"].as_str().unwrap_or_default()
        );
        assert_eq!(
            r[col("response")],
            row["response"].as_str().unwrap_or_default()
        );
    }
    let multi: Vec<_> = records[1..]
        .iter()
        .filter(|r| r[col("item_id")] == "g-multi")
        .collect();
    assert_eq!(multi.len(), 2);
    for r in multi {
        assert_eq!(r[col("response")], MULTILINE);
        assert_eq!(r[col("score")], "50");
        assert_eq!(r[col("grader")], "regex@1");
    }
    store.close().await;
}
