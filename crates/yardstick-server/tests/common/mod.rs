//! A real server on a loopback port over a synthetic SQLite database.

#![allow(dead_code)] // each test file uses part of this

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use yardstick_server::{AppState, ArticleSettings, Job, JobOutcome, Jobs};
use yardstick_store::Store;
use yardstick_synth::{generate, SynthSpec};

pub const PAYLOAD: &str = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>";
pub const TOKEN: &str = "s3cret-token";

/// Records the jobs it is given instead of running evaluations.
#[derive(Default)]
pub struct Recorder {
    pub jobs: Mutex<Vec<Job>>,
    pub notify: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl Jobs for Recorder {
    async fn run(&self, job: Job) -> JobOutcome {
        self.jobs.lock().unwrap().push(job.clone());
        self.notify.notify_one();
        Ok(format!("recorded {job:?}"))
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub base: String,
    pub store: Store,
    pub recorder: Arc<Recorder>,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self._task.abort();
    }
}

/// 4 models (model-01 … model-04) × 8 daily smoke runs × the same 10 items
/// (2 of each dimension), one response in 50 a vendor error, model-01 30
/// points down in the last run, one of its responses there being [`PAYLOAD`].
pub async fn start(token: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("y.db").to_str().unwrap())
        .await
        .unwrap();
    generate(
        &store,
        &SynthSpec {
            models: 4,
            runs: 8,
            items_per_dimension: 2,
            // Every run draws the whole pool: each item is in every run.
            pool_per_dimension: 2,
            kind: "smoke".into(),
            seed: 3,
            // 2026-01-01 03:00 UTC
            first_run_at: 1_767_236_400_000,
            drops: vec![yardstick_synth::Drop {
                model: 0,
                from_run: 7,
                points: 30.0,
            }],
            failure_rate: 0.02,
            planted_response: Some(PAYLOAD.into()),
        },
    )
    .await
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let state = AppState::new(
        store.clone(),
        token.map(str::to_string),
        Some(recorder.clone() as Arc<dyn Jobs>),
        ArticleSettings {
            config: yardstick_report::ReportConfig::default(),
            templates: yardstick_report::Templates::load(None).unwrap(),
            stability_window: 7,
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, yardstick_server::router(state))
            .await
            .unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        addr,
        store,
        recorder,
        _dir: dir,
        _task: task,
    }
}
