//! Fixtures: databases (SQLite file or a fresh PostgreSQL database that is
//! dropped afterwards) filled by the synthetic generator, and a loopback
//! OpenAI-compatible stub whose answers the test chooses.

#![allow(dead_code)] // each test binary uses a different part of this module

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use yardstick_store::Store;
use yardstick_synth::{generate, Drop, Synth, SynthSpec};

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// 5 models x 8 daily runs x 10 items; model-01 loses 30 points in the last run.
pub fn small_spec() -> SynthSpec {
    SynthSpec {
        models: 5,
        runs: 8,
        items_per_dimension: 2,
        pool_per_dimension: 12,
        kind: "smoke".into(),
        seed: 11,
        first_run_at: 1_764_115_200_000,
        drops: vec![Drop {
            model: 0,
            from_run: 7,
            points: 30.0,
        }],
        failure_rate: 0.0,
        planted_response: None,
    }
}

pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("report.db").display());
        TestDb {
            store: Store::open(&url).await.unwrap(),
            url,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    pub async fn postgres() -> TestDb {
        use sqlx::{Connection, Executor};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let admin = std::env::var("YARDSTICK_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.into());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "ys_report_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL tests need a server at {admin} (set YARDSTICK_TEST_PG): {e}")
            });
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        TestDb {
            store: Store::open(&url).await.unwrap(),
            url,
            _dir: None,
            pg_name: Some(name),
        }
    }

    pub async fn drop_postgres(self) {
        use sqlx::{Connection, Executor};
        self.store.close().await;
        if let Some(name) = self.pg_name {
            let admin = std::env::var("YARDSTICK_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.into());
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await
            .unwrap();
        }
    }

    pub async fn fill(&self, spec: &SynthSpec) -> Synth {
        generate(&self.store, spec).await.unwrap()
    }
}

/// Answers every chat completion with `answer(request body)`; counts requests.
pub struct ChatStub {
    pub base_url: String,
    pub requests: Arc<AtomicU64>,
}

pub async fn chat_stub(answer: impl Fn(&Value) -> String + Send + Sync + 'static) -> ChatStub {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicU64::new(0));
    let counter = requests.clone();
    let answer = Arc::new(answer);
    // The task ends with the test's runtime.
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let request: Value = serde_json::from_slice(&body).unwrap();
                let text = answer(&request);
                let reply = json!({
                    "id": "stub",
                    "object": "chat.completion",
                    "model": "narrator-stub",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 50}
                })
                .to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let mut stream = reader.into_inner();
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    ChatStub {
        base_url: format!("http://{addr}/v1"),
        requests,
    }
}

/// The deterministic prose the narrator was asked to rewrite.
pub fn prose_in(request: &Value) -> Value {
    let user = request["messages"][1]["content"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(user).unwrap();
    parsed["prose"].clone()
}
