//! Test databases: a SQLite file in a temporary directory, or a fresh schema on
//! the PostgreSQL server named by `YARDSTICK_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`). A PostgreSQL test fails — never
//! skips — when the server cannot be reached.

#![allow(dead_code)] // each test binary uses a different part of this module

use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use yardstick_core::{Dimension, ErrorClass, GraderSpec, Item, NumberPick};
use yardstick_store::{NewAttempt, NewGrade, NewRun, Store};

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_url() -> String {
    std::env::var("YARDSTICK_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.to_string())
}

/// A store plus what keeps its database alive; dropping it removes the
/// database (temporary directory or schema).
pub struct TestDb {
    pub store: Store,
    /// Opens the same database again.
    pub url: String,
    _guard: Guard,
}

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(SchemaGuard),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("yardstick.db").display());
        let store = Store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        TestDb {
            store,
            url,
            _guard: Guard::Sqlite(dir),
        }
    }

    /// A schema of its own on the shared server, so tests run in parallel.
    pub async fn postgres() -> TestDb {
        sqlx::any::install_default_drivers();
        let base = pg_url();
        let schema = unique_schema_name();
        let mut admin = sqlx::AnyConnection::connect(&base)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL tests need a server at {base} (set YARDSTICK_TEST_PG): {e}")
            });
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .unwrap_or_else(|e| panic!("creating schema {schema}: {e}"));
        let _ = admin.close().await;
        let guard = SchemaGuard {
            admin_url: base.clone(),
            schema: schema.clone(),
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options%5Bsearch_path%5D={schema}");
        let store = Store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("opening the test schema {schema}: {e}"));
        TestDb {
            store,
            url,
            _guard: Guard::Postgres(guard),
        }
    }

    pub async fn reopen(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("reopening: {e}"))
    }
}

fn unique_schema_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "ys_test_{}_{:x}_{n}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

struct SchemaGuard {
    admin_url: String,
    schema: String,
}

impl Drop for SchemaGuard {
    /// Drops the schema from a thread of its own: `Drop` cannot await, and the
    /// test's runtime may be shutting down.
    fn drop(&mut self) {
        let url = self.admin_url.clone();
        let schema = self.schema.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut conn = sqlx::AnyConnection::connect(&url).await?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .await?;
                conn.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = done {
            eprintln!("warning: could not drop test schema {}: {e}", self.schema);
        }
    }
}

/// Runs one async test body on both backends, as two test functions
/// `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::TestDb::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::TestDb::postgres().await).await
            }
        }
    )*};
}

pub fn item(id: &str, dimension: Dimension, prompt: &str) -> Item {
    Item {
        materials: Some("Material with ünïcode — and a 'quote'.".into()),
        references: vec!["4".into()],
        tags: vec!["t".into()],
        ..Item::new(
            id,
            dimension,
            prompt,
            GraderSpec::Numeric {
                tolerance: 0.01,
                relative: 0.0,
                pick: NumberPick::Last,
            },
        )
    }
}

pub fn new_run(kind: &str) -> NewRun {
    NewRun {
        kind: kind.into(),
        seed: 42,
        label: "2025-01-02".into(),
        epochs: 2,
        models: vec!["alpha".into(), "beta".into()],
        config_json: r#"{"items_per_dimension":2}"#.into(),
        created_at: 1_700_000_000_000,
    }
}

/// An answered attempt of `item` by `model`.
pub fn answered(run_id: i64, model: &str, item: &Item, epoch: u32) -> NewAttempt {
    NewAttempt {
        run_id,
        model: model.into(),
        item_id: item.id.clone(),
        item_version: item.version(),
        epoch,
        request_json: format!(r#"{{"model":"{model}","messages":[]}}"#),
        response_text: Some(format!("The answer is 4 ({model}, epoch {epoch})")),
        finish_reason: Some("stop".into()),
        response_model: Some(format!("{model}-2025-01-01")),
        input_tokens: 120,
        output_tokens: 30,
        latency_ms: 850,
        tries: 1,
        error_class: None,
        error_message: None,
        http_status: Some(200),
        started_at: 1_700_000_001_000,
        finished_at: 1_700_000_001_850,
    }
}

/// A failed attempt of `item` by `model`.
pub fn failed(run_id: i64, model: &str, item: &Item, epoch: u32, class: ErrorClass) -> NewAttempt {
    NewAttempt {
        response_text: None,
        finish_reason: None,
        response_model: None,
        input_tokens: 0,
        output_tokens: 0,
        tries: 5,
        error_class: Some(class),
        error_message: Some(format!("{class}: gave up after 5 tries")),
        http_status: Some(503),
        ..answered(run_id, model, item, epoch)
    }
}

pub fn grade(attempt_id: i64, score: f64, grader_version: &str) -> NewGrade {
    NewGrade {
        attempt_id,
        grader_id: "numeric".into(),
        grader_version: grader_version.into(),
        score,
        checks_json: r#"[{"name":"value","passed":true,"weight":1.0,"detail":"4 = 4"}]"#.into(),
        extracted: Some("4".into()),
        created_at: 1_700_000_002_000,
    }
}
