//! A warm Python worker: one sandboxed interpreter per worker that forks a
//! child per job, so a job costs a `fork` instead of a process start, shim
//! and namespace set-up.
//!
//! Test suites go further ([`WarmPython::run_suite`]): one forked item
//! process loads the solution once and runs the tests one after another in
//! its namespace, while the worker times each test, reads its output,
//! enforces its limits and kills what it started. A test that hangs,
//! crashes or exits the item process fails alone; the next test gets a new
//! item process. A fork per test would cost more than the test itself
//! (1.4–4.7 ms for a fork + exit of the worker on this VM, against 0.07 ms
//! to run a HumanEval assert in-process).
//!
//! The worker itself runs under the full shim isolation (namespaces,
//! Landlock, seccomp, rlimits, cgroup). Each job child additionally applies
//! its own resource limits, a Landlock layer that confines writes to its own
//! job directory and scopes its signals, and the strict seccomp filter,
//! before any job code runs. Jobs run one at a time; after each, every
//! process in the worker's PID namespace except the worker is killed. What a
//! job shares with the previous ones is the worker's PID/network namespaces
//! and cgroup (never concurrently), which [`IsolationLevel::warm_worker`]
//! records.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::isolation::{IsolationLevel, MissingLayer};
use crate::python::Interpreter;
use crate::sandbox::{remove_cgroup, Execution, Outcome, OutputTail, Sandbox, SandboxError};
use crate::shim::job_seccomp_bytes;
use crate::spec::Limits;

const SERVER: &str = include_str!("warm_server.py");
pub(crate) const HARNESS: &str = include_str!("harness.py");

/// A running warm worker. Not `Clone`: one job at a time (`run` takes
/// `&mut self`); use one worker per concurrent slot.
pub struct WarmPython {
    sandbox: Arc<Sandbox>,
    python: Interpreter,
    limits: Limits,
    live: Option<Live>,
}

struct Live {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    cgroups: Vec<PathBuf>,
    _workdir: tempfile::TempDir,
    /// Kept open so the shim's final report write does not hit a closed pipe.
    _report: std::os::fd::OwnedFd,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok(JobResult),
    Suite(Vec<JobResult>),
    SetupFailed(String),
    Error(String),
}

#[derive(Deserialize)]
struct JobResult {
    outcome: Outcome,
    duration_ms: u64,
    cpu_time_ms: u64,
    max_rss_kb: u64,
    stdout: OutputTail,
    stderr: OutputTail,
}

fn hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl WarmPython {
    /// Start a worker whose jobs all run under `limits` (CPU, address space,
    /// file size and open files per job child; wall time and output per job).
    pub async fn start(
        sandbox: Arc<Sandbox>,
        python: Interpreter,
        limits: Limits,
    ) -> Result<Self, SandboxError> {
        let mut worker = WarmPython {
            sandbox,
            python,
            limits,
            live: None,
        };
        worker.live = Some(worker.spawn().await?);
        Ok(worker)
    }

    /// The isolation each job of this worker runs under.
    pub fn isolation(&self) -> IsolationLevel {
        let mut level = self.sandbox.isolation().clone();
        level.warm_worker = true;
        level
    }

    async fn spawn(&self) -> Result<Live, SandboxError> {
        let isolation = self.isolation();
        // Between jobs the worker kills every process it can signal
        // (`kill(-1)`). That is only safe inside its own PID namespace:
        // outside one it would kill every process of the user on the host.
        // No `allow_unconfined` override exists for this.
        if !isolation.pid_namespace {
            return Err(SandboxError::Unconfined {
                missing: vec![MissingLayer::PidNamespace],
            });
        }
        let mut server_job = self.python.job("server.py", Vec::new(), &self.limits);
        // The worker lives across jobs: its own CPU limit is generous; each
        // job child sets the job's limits before running job code.
        server_job.limits.cpu_seconds = 7 * 24 * 3600;
        // The worker counts as one more process of the cgroup.
        server_job.limits.max_processes = self.limits.max_processes + 1;
        // …and its own memory (a preloaded interpreter) counts towards the cgroup.
        server_job.limits.memory_bytes = self.limits.memory_bytes + (64 << 20);
        let (workdir, dir) = self.sandbox.prepare_workdir(&[])?;
        let mut spec = self.sandbox.spec(&server_job, &dir, &[]);
        let seccomp: Vec<String> = if spec.layers.seccomp {
            job_seccomp_bytes()
                .map_err(SandboxError::Setup)?
                .iter()
                .map(|p| hex(p))
                .collect()
        } else {
            Vec::new()
        };
        let config = serde_json::json!({
            "landlock_abi": spec.layers.landlock_abi,
            "seccomp": seccomp,
            "limits": self.limits,
            "env": spec.env,
            "read_paths": spec.read_paths,
            "rw_files": spec.rw_files,
            "tail_bytes": 16 << 10,
            "pid_namespace": spec.layers.pid_namespace,
        });
        let write = |name: &str, content: &[u8]| {
            std::fs::write(dir.join(name), content).map_err(|e| SandboxError::Io {
                context: format!("writing the warm worker's {name}"),
                source: e,
            })
        };
        write("server.py", SERVER.as_bytes())?;
        write("harness.py", HARNESS.as_bytes())?;
        write("worker.json", config.to_string().as_bytes())?;
        let cgroups = self.sandbox.create_cgroups(&server_job.limits)?;
        spec.cgroups = cgroups.clone();
        spec.warm_server = true;
        let (mut child, report) = self.sandbox.spawn_shim(&spec, &dir, Stdio::piped())?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| SandboxError::Setup("no stdin pipe".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SandboxError::Setup("no stdout pipe".into()))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| SandboxError::Setup("no stderr pipe".into()))?;
        // The worker's own diagnostics: drained so it can never block on them.
        let diagnostics = tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = (&mut stderr).take(64 << 10).read_to_end(&mut text).await;
            let mut sink = [0u8; 4096];
            while matches!(stderr.read(&mut sink).await, Ok(n) if n > 0) {}
            String::from_utf8_lossy(&text).into_owned()
        });
        let mut live = Live {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            cgroups,
            _workdir: workdir,
            _report: report,
        };
        let mut line = String::new();
        let ready =
            tokio::time::timeout(Duration::from_secs(30), live.stdout.read_line(&mut line)).await;
        if !matches!(ready, Ok(Ok(n)) if n > 0) || !line.contains("ready") {
            shutdown(&mut live).await;
            let detail = match tokio::time::timeout(Duration::from_secs(1), diagnostics).await {
                Ok(Ok(text)) => text,
                _ => String::new(),
            };
            return Err(SandboxError::Setup(format!(
                "the warm Python worker did not start: {detail}"
            )));
        }
        Ok(live)
    }

    /// Run `script` (one of `files`) as `__main__` in a fresh child of the
    /// worker. Like [`Sandbox::run`], job failures are an `Ok` execution. A
    /// worker that died is restarted for the next job.
    pub async fn run(
        &mut self,
        script: &str,
        files: &[(String, Vec<u8>)],
        stdin: &[u8],
    ) -> Result<Execution, SandboxError> {
        let request = serde_json::json!({
            "script": script,
            "files": files.iter().map(|(n, c)| (n.clone(), hex(c))).collect::<Vec<_>>(),
            "stdin": hex(stdin),
            "wall_time_ms": self.limits.wall_time_ms,
            "output_bytes": self.limits.output_bytes,
        });
        match self.exchange(&request, 1).await? {
            Ok(Answer::Ok(r)) => Ok(self.execution(r)),
            Ok(_) => Err(SandboxError::Setup(
                "the warm worker answered a job with a suite".into(),
            )),
            Err(lost) => Ok(lost),
        }
    }

    /// Run `solution` (Python source) once per item process and each test
    /// (`(code, token)`: code run in the solution's namespace, token printed
    /// by the harness when it completes; see `harness.py`) in it, one
    /// execution per test, each under the worker's wall time, CPU and output
    /// limits. Tests see an empty stdin and the item's working directory.
    /// A test that ends the item process fails alone; a solution that does
    /// not load fails every test with the same execution.
    pub async fn run_suite(
        &mut self,
        solution: &str,
        tests: &[(String, String)],
    ) -> Result<Vec<Execution>, SandboxError> {
        let request = serde_json::json!({
            "solution": solution,
            "tests": tests
                .iter()
                .map(|(code, token)| serde_json::json!({"code": code, "token": token}))
                .collect::<Vec<_>>(),
            "wall_time_ms": self.limits.wall_time_ms,
            "output_bytes": self.limits.output_bytes,
        });
        match self.exchange(&request, tests.len()).await? {
            Ok(Answer::Suite(results)) if results.len() == tests.len() => {
                Ok(results.into_iter().map(|r| self.execution(r)).collect())
            }
            Ok(_) => Err(SandboxError::Setup(format!(
                "the warm worker did not answer with {} test results",
                tests.len()
            ))),
            Err(lost) => Ok(vec![lost; tests.len()]),
        }
    }

    fn execution(&self, r: JobResult) -> Execution {
        Execution {
            outcome: r.outcome,
            duration_ms: r.duration_ms,
            cpu_time_ms: Some(r.cpu_time_ms),
            max_rss_kb: Some(r.max_rss_kb),
            stdout: r.stdout,
            stderr: r.stderr,
            isolation: self.isolation(),
        }
    }

    /// Sends one request and reads its answer. `Err(lost)`: the worker died
    /// or stopped answering within `executions` wall-time limits (it
    /// enforces each itself; this guard only catches a worker that hangs) —
    /// the execution to report; the worker is restarted for the next request.
    async fn exchange(
        &mut self,
        request: &serde_json::Value,
        executions: usize,
    ) -> Result<Result<Answer, Execution>, SandboxError> {
        if self.live.is_none() {
            self.live = Some(self.spawn().await?);
        }
        let Some(live) = self.live.as_mut() else {
            return Err(SandboxError::Setup("warm worker unavailable".into()));
        };
        let mut line = request.to_string();
        line.push('\n');
        let guard =
            Duration::from_millis(self.limits.wall_time_ms * executions.max(1) as u64 + 10_000);
        let exchange = async {
            live.stdin.write_all(line.as_bytes()).await?;
            live.stdin.flush().await?;
            let mut answer = String::new();
            live.stdout.read_line(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        let answer = match tokio::time::timeout(guard, exchange).await {
            Ok(Ok(answer)) if !answer.is_empty() => answer,
            other => {
                let detail = match other {
                    Ok(Err(e)) => format!("warm worker I/O failed: {e}"),
                    Ok(Ok(_)) => "the warm worker exited".to_string(),
                    Err(_) => "the warm worker stopped answering".to_string(),
                };
                if let Some(mut live) = self.live.take() {
                    shutdown(&mut live).await;
                }
                return Ok(Err(self.lost(detail)));
            }
        };
        match serde_json::from_str::<Answer>(&answer) {
            Ok(Answer::SetupFailed(message)) => Err(SandboxError::Setup(message)),
            Ok(Answer::Error(message)) => Err(SandboxError::InvalidJob(message)),
            Ok(answer) => Ok(Ok(answer)),
            Err(e) => Err(SandboxError::Setup(format!(
                "unreadable warm worker answer: {e}"
            ))),
        }
    }

    fn lost(&self, detail: String) -> Execution {
        Execution {
            outcome: Outcome::Lost { detail },
            duration_ms: 0,
            cpu_time_ms: None,
            max_rss_kb: None,
            stdout: OutputTail::default(),
            stderr: OutputTail::default(),
            isolation: self.isolation(),
        }
    }

    /// Stop the worker and everything in its namespace.
    pub async fn shutdown(mut self) {
        if let Some(mut live) = self.live.take() {
            shutdown(&mut live).await;
        }
    }
}

async fn shutdown(live: &mut Live) {
    if let Some(pid) = live.child.id() {
        // SAFETY: signalling the worker's own process group (its session).
        unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
    }
    let _ = live.child.wait().await;
    for cg in &live.cgroups {
        remove_cgroup(cg).await;
    }
}

impl Drop for WarmPython {
    fn drop(&mut self) {
        if let Some(live) = &mut self.live {
            if let Some(pid) = live.child.id() {
                // SAFETY: as in `shutdown`; the kernel tears the namespace down.
                unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
            }
            for cg in &live.cgroups {
                // Best effort without a runtime: the processes are dying.
                for _ in 0..200 {
                    if std::fs::remove_dir(cg).is_ok() || !cg.exists() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}
