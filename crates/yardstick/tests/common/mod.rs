//! Fixtures of the end-to-end tests: a sandbox directory with its own
//! `yardstick.toml` and bank, the real `yardstick` binary, a database (a
//! SQLite file in the sandbox or a fresh PostgreSQL database that is dropped
//! afterwards), an OpenAI-compatible loopback stub and command-provider scripts.
//!
//! PostgreSQL comes from `YARDSTICK_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`); a test that needs it fails —
//! never skips — when it is unreachable.

#![allow(dead_code)] // each test binary uses a different part of this module

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use yardstick_store::Store;

pub const BIN: &str = env!("CARGO_BIN_EXE_yardstick");
pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_url() -> String {
    std::env::var("YARDSTICK_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.to_string())
}

// ---- sandbox and binary -----------------------------------------------------

/// A temporary directory holding a configuration, a bank and scripts.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("yardstick-e2e-")
                .tempdir()
                .expect("temporary directory"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `rel` (creating its directories) and returns its path.
    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes an executable shell script.
    pub fn script(&self, rel: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.write(rel, body);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// The binary with `--config <sandbox>/<config>` and `--db <db>`.
    pub fn cli(&self, config: &str, db: &str) -> Cli {
        Cli {
            cwd: self.dir.path().to_path_buf(),
            config: self.path(config),
            db: db.to_string(),
            env: Vec::new(),
        }
    }
}

/// One way of calling the binary: configuration file, database, environment.
#[derive(Clone)]
pub struct Cli {
    pub cwd: PathBuf,
    pub config: PathBuf,
    pub db: String,
    pub env: Vec<(String, String)>,
}

/// What one call of the binary did.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    fn from(out: Output) -> Ran {
        Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(self) -> Ran {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts a failure (exit code 1) and returns stderr.
    pub fn failed(self) -> String {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit code 1\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self.stderr
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Cli {
    pub fn with_env(mut self, key: &str, value: &str) -> Cli {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn with_db(mut self, db: &str) -> Cli {
        self.db = db.into();
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&self.config)
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .current_dir(&self.cwd)
            .env_remove("YARDSTICK_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Ran {
        Ran::from(
            self.command(args)
                .output()
                .expect("the yardstick binary runs"),
        )
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Ran {
        self.run(args).ok()
    }

    /// Runs with `--json` appended, asserts success and parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        self.ok(&args).json()
    }
}

/// `Run #N` as printed on stderr by `run` ("Run #N (kind, seed S) created").
pub fn created_run(stderr: &str) -> i64 {
    let rest = stderr
        .split("Run #")
        .nth(1)
        .unwrap_or_else(|| panic!("no `Run #N` in stderr:\n{stderr}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

// ---- bank -------------------------------------------------------------------

/// One `[[items]]` table. `grader` is an inline TOML table.
pub fn item(id: &str, dimension: &str, prompt: &str, references: &[&str], grader: &str) -> String {
    let refs: Vec<String> = references.iter().map(|r| format!("{r:?}")).collect();
    format!(
        "[[items]]\nid = {id:?}\ndimension = {dimension:?}\nprompt = {prompt:?}\nreferences = [{}]\ngrader = {grader}\n\n",
        refs.join(", ")
    )
}

/// The text between `ANSWER<` and the next `>` of a prompt: what the stubs answer.
pub fn answer_token(prompt: &str) -> Option<String> {
    let start = prompt.find("ANSWER<")? + "ANSWER<".len();
    let len = prompt[start..].find('>')?;
    Some(prompt[start..start + len].to_string())
}

/// A command-provider script that answers the `ANSWER<…>` token of the
/// prompt after `sleep` seconds, appending one line to `log` per call.
pub fn echo_script(sandbox: &Sandbox, rel: &str, sleep: &str, log: &Path) -> PathBuf {
    sandbox.script(
        rel,
        &format!(
            r#"#!/bin/sh
in=$(cat)
echo call >> '{log}'
sleep {sleep}
tok=$(printf '%s' "$in" | sed -n 's/.*ANSWER<\([^>]*\)>.*/\1/p')
printf '{{"text": "%s", "usage": {{"input_tokens": 10, "output_tokens": 2}}}}\n' "$tok"
"#,
            log = log.display()
        ),
    )
}

pub fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

// ---- databases --------------------------------------------------------------

/// A database for one test: a SQLite file, or a PostgreSQL database of its
/// own that is dropped when this value is.
pub enum TestDb {
    Sqlite { url: String },
    Postgres { url: String, name: String },
}

impl TestDb {
    pub fn sqlite(dir: &Path) -> TestDb {
        TestDb::Sqlite {
            url: format!("sqlite://{}", dir.join("yardstick.db").display()),
        }
    }

    /// `CREATE DATABASE ys_…` on the server of `YARDSTICK_TEST_PG`.
    pub async fn postgres() -> TestDb {
        use sqlx::{Connection, Executor};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let admin = pg_url();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "ys_e2e_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL tests need a server at {admin} (set YARDSTICK_TEST_PG): {e}")
            });
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("creating database {name} on {admin}: {e}"));
        let _ = conn.close().await;
        TestDb::Postgres {
            url: with_database(&admin, &name),
            name,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(self.url())
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.url()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDb::Postgres { name, .. } = self else {
            return;
        };
        let name = name.clone();
        // Drop may run inside a test's runtime, which cannot be blocked on:
        // a thread with a runtime of its own does the cleanup.
        let _ = std::thread::spawn(move || {
            use sqlx::{Connection, Executor};
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_url()).await {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// `url` with its database name replaced by `name` (query kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").expect("a postgres:// URL") + 3;
    let authority = base[scheme_end..].split('/').next().unwrap();
    format!("{}{authority}/{name}{query}", &base[..scheme_end])
}

// ---- OpenAI-compatible stub -------------------------------------------------

/// One HTTP reply of the stub.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A chat completion answering `text`.
    pub fn answer(text: &str) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: json!({
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "model": "stub-model-2024-01-01",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}
            })
            .to_string(),
        }
    }

    /// An OpenAI-style error body with `status`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: json!({"error": {"message": message, "type": "stub_error"}}).to_string(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Value) -> Reply + Send + Sync;

/// An OpenAI-compatible chat completions server on 127.0.0.1, on a thread and
/// runtime of its own, so the test may block on the binary meanwhile. Each
/// request waits `delay`, then gets the handler's reply for its JSON body.
/// Stops when dropped.
pub struct Stub {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stub {
    pub fn start(
        delay: Duration,
        handler: impl Fn(&Value) -> Reply + Send + Sync + 'static,
    ) -> Stub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let handler: Arc<Handler> = Arc::new(handler);
        let (count, seen) = (Arc::clone(&requests), Arc::clone(&bodies));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let (handler, count, seen) =
                                (Arc::clone(&handler), Arc::clone(&count), Arc::clone(&seen));
                            tokio::spawn(async move {
                                let _ = serve(stream, delay, handler, count, seen).await;
                            });
                        }
                    }
                }
            });
            // Dropping the runtime drops every connection task.
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        Stub {
            addr,
            requests,
            bodies,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/v1`, for `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Request bodies received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The last user message of a chat completions request body.
pub fn prompt_of(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// HTTP/1.1 with keep-alive: requests are read one after another until the
/// client closes the connection.
async fn serve(
    stream: TcpStream,
    delay: Duration,
    handler: Arc<Handler>,
    count: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Value>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        read.read_exact(&mut body).await?;
        let path = request_line.split_whitespace().nth(1).unwrap_or_default();
        let reply = match serde_json::from_slice::<Value>(&body) {
            Ok(json) if path == "/v1/chat/completions" => {
                tokio::time::sleep(delay).await;
                let reply = handler(&json);
                seen.lock().unwrap().push(json);
                reply
            }
            Ok(_) => Reply::error(404, &format!("no route {path}")),
            Err(e) => Reply::error(400, &format!("body is not JSON: {e}")),
        };
        count.fetch_add(1, Ordering::SeqCst);
        let mut out = Vec::new();
        write!(
            out,
            "HTTP/1.1 {} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            reply.status,
            reply.body.len()
        )?;
        for (k, v) in &reply.headers {
            write!(out, "{k}: {v}\r\n")?;
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(reply.body.as_bytes());
        write.write_all(&out).await?;
        write.flush().await?;
    }
}
