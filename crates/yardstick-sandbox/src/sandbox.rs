//! The parent side: prepare a fresh working directory, start the shim,
//! enforce wall time and output size, collect the result.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::isolation::{IsolationLevel, MissingLayer};
use crate::probe::{probe, Capabilities};
use crate::spec::{Limits, ShimExit, ShimReport, ShimSpec, REPORT_FD, SPEC_FD, SPEC_FD_ARG};

/// How to start the shim and where jobs live.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Program that runs [`crate::shim_main`]: the `yardstick` binary (with
    /// `shim_args = ["sandbox-shim"]`) or the test helper binary.
    pub shim_program: PathBuf,
    /// Arguments placed before the job spec.
    pub shim_args: Vec<String>,
    /// Directory in which each execution gets a fresh working directory.
    pub work_root: PathBuf,
    /// Run even when required layers are missing (the user's explicit
    /// `--allow-unconfined`); the missing layers show in every isolation level.
    pub allow_unconfined: bool,
    /// Use per-job cgroups (`pids.max`, memory limit) when the host offers them.
    pub use_cgroup: bool,
    /// How many trailing bytes of stdout and of stderr are kept.
    pub tail_bytes: usize,
}

impl SandboxConfig {
    /// Defaults: jobs under the system temporary directory, cgroup when
    /// available, 16 KiB tails, confined runs only.
    pub fn new(shim_program: impl Into<PathBuf>, shim_args: Vec<String>) -> Self {
        SandboxConfig {
            shim_program: shim_program.into(),
            shim_args,
            work_root: std::env::temp_dir(),
            allow_unconfined: false,
            use_cgroup: true,
            tail_bytes: 16 << 10,
        }
    }
}

/// One program to run.
#[derive(Debug, Clone, Default)]
pub struct Job {
    /// Interpreter argv; `argv[0]` must be an absolute path.
    pub argv: Vec<String>,
    /// Files written into the fresh working directory before the start
    /// (relative names, no `..`).
    pub files: Vec<(String, Vec<u8>)>,
    /// Bytes fed to the program's stdin (then closed).
    pub stdin: Vec<u8>,
    pub limits: Limits,
    /// Extra paths readable (and executable) by the job: the interpreter's installation.
    pub read_paths: Vec<PathBuf>,
    /// Extra environment variables, added to the clean base environment.
    pub env: Vec<(String, String)>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The interpreter exited with this code.
    Exited { code: i32 },
    /// The interpreter was killed by this signal (SIGXCPU/SIGKILL for CPU time, SIGSEGV, …).
    Signaled { signal: i32 },
    /// The wall-time limit passed; the whole job was killed.
    WallTimeout,
    /// stdout + stderr exceeded the output limit; the whole job was killed.
    OutputLimit,
    /// The shim ended without a report (killed from outside the sandbox).
    Lost { detail: String },
}

/// The last bytes of an output stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTail {
    /// Bytes the program wrote (as far as they were read).
    pub total_bytes: u64,
    /// The trailing bytes, decoded lossily as UTF-8.
    pub tail: String,
    /// True when `tail` is not the whole stream.
    pub truncated: bool,
}

/// The result of one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// CPU time of the interpreter and its reaped descendants.
    pub cpu_time_ms: Option<u64>,
    pub max_rss_kb: Option<u64>,
    pub stdout: OutputTail,
    pub stderr: OutputTail,
    /// The layers the execution actually ran under.
    pub isolation: IsolationLevel,
}

impl Execution {
    /// Exited normally with status 0.
    pub fn success(&self) -> bool {
        self.outcome == Outcome::Exited { code: 0 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the sandbox refuses to run unconfined: this host lacks {}; \
         fix the host or pass --allow-unconfined (SandboxConfig::allow_unconfined) to run without {}",
        describe(.missing),
        if .missing.len() == 1 { "it" } else { "them" }
    )]
    Unconfined { missing: Vec<MissingLayer> },
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    #[error("invalid job: {0}")]
    InvalidJob(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn describe(missing: &[MissingLayer]) -> String {
    missing
        .iter()
        .map(|m| m.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SandboxError {
    let context = context.into();
    move |source| SandboxError::Io { context, source }
}

/// A configured sandbox. Cheap to share (`Arc`); `run` may be called concurrently.
#[derive(Debug)]
pub struct Sandbox {
    config: SandboxConfig,
    capabilities: Capabilities,
    plan: IsolationLevel,
}

impl Sandbox {
    /// Probe the host and build a sandbox; refuses when a required layer is
    /// missing unless `config.allow_unconfined`.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        Self::with_capabilities(config, probe())
    }

    /// Build from already-probed capabilities (probe once per process).
    pub fn with_capabilities(
        config: SandboxConfig,
        capabilities: Capabilities,
    ) -> Result<Self, SandboxError> {
        let mut plan = capabilities.plan();
        if !config.use_cgroup {
            plan.cgroup_pids = false;
            plan.cgroup_memory = false;
        }
        let missing = plan.missing();
        if !missing.is_empty() && !config.allow_unconfined {
            return Err(SandboxError::Unconfined { missing });
        }
        for cg in [&capabilities.cgroup_pids, &capabilities.cgroup_memory]
            .into_iter()
            .flatten()
        {
            sweep_stale_cgroups(&cg.parent);
        }
        sweep_stale_workdirs(&config.work_root);
        Ok(Sandbox {
            config,
            capabilities,
            plan,
        })
    }

    /// The isolation every execution of this sandbox runs under.
    pub fn isolation(&self) -> &IsolationLevel {
        &self.plan
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Run one job in a fresh working directory, which is removed afterwards.
    /// Failures of the job (crash, timeout, output flood) are an `Ok`
    /// [`Execution`]; `Err` means the sandbox itself could not do its work.
    pub async fn run(&self, job: &Job) -> Result<Execution, SandboxError> {
        if job.argv.first().is_none_or(|p| !p.starts_with('/')) {
            return Err(SandboxError::InvalidJob(
                "argv[0] must be an absolute interpreter path".into(),
            ));
        }
        let (workdir, dir) = self.prepare_workdir(&job.files)?;
        let cgroups = self.create_cgroups(&job.limits)?;
        let result = self.run_in(job, &dir, &cgroups).await;
        for cg in cgroups {
            kill_cgroup(&cg);
            // The killed processes take a moment to leave the cgroup; the
            // result does not wait for that. A removal cut short (runtime
            // shut down) is swept by the next `Sandbox::new`.
            if std::fs::remove_dir(&cg).is_err() {
                tokio::spawn(async move { remove_cgroup(&cg).await });
            }
        }
        drop(workdir);
        result
    }

    /// A fresh working directory under `work_root` holding `files`; returns
    /// the guard (removes it on drop) and its canonical path.
    pub(crate) fn prepare_workdir(
        &self,
        files: &[(String, Vec<u8>)],
    ) -> Result<(tempfile::TempDir, PathBuf), SandboxError> {
        let workdir = tempfile::Builder::new()
            .prefix(&format!("yardstick-job-{}-", std::process::id()))
            .tempdir_in(&self.config.work_root)
            .map_err(io(format!(
                "creating a working directory in {}",
                self.config.work_root.display()
            )))?;
        // Canonical: Landlock rules and HOME must not depend on symlinks.
        let dir = workdir
            .path()
            .canonicalize()
            .map_err(io("resolving the working directory"))?;
        for (name, content) in files {
            let rel = Path::new(name);
            if rel.is_absolute()
                || rel
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(SandboxError::InvalidJob(format!(
                    "file name {name:?} must be a plain relative path"
                )));
            }
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io(format!("creating {}", parent.display())))?;
            }
            std::fs::write(&path, content).map_err(io(format!("writing {}", path.display())))?;
        }
        Ok((workdir, dir))
    }

    /// Per-job cgroups with the job's limits: `pids.max` (processes) and
    /// the memory limit, in one directory on a unified hierarchy or one per
    /// v1 hierarchy. Empty when the host offers none (or they are disabled).
    pub(crate) fn create_cgroups(&self, limits: &Limits) -> Result<Vec<PathBuf>, SandboxError> {
        // Process-wide: several sandboxes of one process share the parents.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("yardstick-job-{}-{n}", std::process::id());
        let mut dirs = Vec::new();
        let result = self.fill_cgroups(&name, limits, &mut dirs);
        if result.is_err() {
            for dir in &dirs {
                let _ = std::fs::remove_dir(dir);
            }
        }
        result.map(|()| dirs)
    }

    fn fill_cgroups(
        &self,
        name: &str,
        limits: &Limits,
        dirs: &mut Vec<PathBuf>,
    ) -> Result<(), SandboxError> {
        let mut dir_in = |parent: &Path| -> Result<PathBuf, SandboxError> {
            let dir = parent.join(name);
            if !dirs.contains(&dir) {
                std::fs::create_dir(&dir)
                    .map_err(io(format!("creating cgroup {}", dir.display())))?;
                dirs.push(dir.clone());
            }
            Ok(dir)
        };
        let set = |dir: &Path, file: &str, value: String| {
            std::fs::write(dir.join(file), value)
                .map_err(io(format!("setting {file} in {}", dir.display())))
        };
        if let (true, Some(cg)) = (self.plan.cgroup_pids, &self.capabilities.cgroup_pids) {
            let dir = dir_in(&cg.parent)?;
            // The shim and the namespace's init count too.
            set(&dir, "pids.max", (limits.max_processes + 2).to_string())?;
        }
        if let (true, Some(cg)) = (self.plan.cgroup_memory, &self.capabilities.cgroup_memory) {
            let dir = dir_in(&cg.parent)?;
            let bytes = limits.memory_bytes.to_string();
            if cg.version == 1 {
                set(&dir, "memory.limit_in_bytes", bytes.clone())?;
                // Swap would let the job exceed the limit (absent without swap accounting).
                let _ = set(&dir, "memory.memsw.limit_in_bytes", bytes);
            } else {
                set(&dir, "memory.max", bytes)?;
                let _ = set(&dir, "memory.swap.max", "0".into());
            }
        }
        Ok(())
    }

    pub(crate) fn spec(&self, job: &Job, dir: &Path, cgroups: &[PathBuf]) -> ShimSpec {
        let dirs = dir.to_string_lossy().into_owned();
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), dirs.clone()),
            ("TMPDIR".into(), dirs),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ("PYTHONUNBUFFERED".into(), "1".into()),
            ("PYTHONHASHSEED".into(), "0".into()),
        ];
        for (k, v) in &job.env {
            env.retain(|(key, _)| key != k);
            env.push((k.clone(), v.clone()));
        }
        let mut read_paths: Vec<PathBuf> = SYSTEM_READ_PATHS.iter().map(PathBuf::from).collect();
        if self.plan.pid_namespace && self.plan.mount_namespace {
            // Only the job's own private /proc: other processes are invisible.
            read_paths.push("/proc".into());
        }
        read_paths.extend(job.read_paths.iter().cloned());
        ShimSpec {
            argv: job.argv.clone(),
            workdir: dir.to_path_buf(),
            env,
            limits: job.limits.clone(),
            read_paths,
            rw_files: vec!["/dev/null".into()],
            layers: self.plan.clone(),
            cgroups: cgroups.to_vec(),
            warm_server: false,
            parent_pid: std::process::id(),
        }
    }

    /// Start the shim on `spec` (passed on a memfd), in its own session,
    /// with the report pipe on fd 3 and stdout/stderr piped.
    pub(crate) fn spawn_shim(
        &self,
        spec: &ShimSpec,
        dir: &Path,
        stdin: Stdio,
    ) -> Result<(tokio::process::Child, OwnedFd), SandboxError> {
        let spec = serde_json::to_string(spec).map_err(|e| SandboxError::Setup(e.to_string()))?;
        let (report_r, report_w) = pipe().map_err(io("creating the report pipe"))?;
        let spec_fd = memfd_with(spec.as_bytes()).map_err(io("passing the job spec"))?;
        let mut cmd = std::process::Command::new(&self.config.shim_program);
        cmd.args(&self.config.shim_args)
            .arg(SPEC_FD_ARG)
            .env_clear()
            .current_dir(dir)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let wfd = report_w.as_raw_fd();
        let sfd = spec_fd.as_raw_fd();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(wfd, REPORT_FD) < 0
                    || libc::dup2(sfd, SPEC_FD) < 0
                    || libc::setsid() < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let child = cmd.spawn().map_err(io(format!(
            "starting the sandbox shim {}",
            self.config.shim_program.display()
        )))?;
        drop(report_w);
        drop(spec_fd);
        Ok((child, report_r))
    }

    async fn run_in(
        &self,
        job: &Job,
        dir: &Path,
        cgroups: &[PathBuf],
    ) -> Result<Execution, SandboxError> {
        let spec = self.spec(job, dir, cgroups);
        let stdin = if job.stdin.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        };
        let started = Instant::now();
        let (mut child, report_r) = self.spawn_shim(&spec, dir, stdin)?;
        let pgid = child.id().map(|p| p as libc::pid_t);
        let kill_all = || {
            if let Some(pgid) = pgid {
                // SAFETY: signalling the job's own process group.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
            for cg in cgroups {
                kill_cgroup(cg);
            }
        };

        if let Some(mut stdin) = child.stdin.take() {
            let data = job.stdin.clone();
            tokio::spawn(async move {
                // The job may exit without reading: a broken pipe is not an error.
                let _ = stdin.write_all(&data).await;
            });
        }
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| SandboxError::Setup("no stdout pipe".into()))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| SandboxError::Setup("no stderr pipe".into()))?;
        let tail = self.config.tail_bytes;
        let (mut out, mut err) = (Tail::new(tail), Tail::new(tail));
        let (mut out_open, mut err_open) = (true, true);
        let mut out_buf = vec![0u8; 64 << 10];
        let mut err_buf = vec![0u8; 64 << 10];
        let mut status = None;
        let mut forced: Option<Outcome> = None;
        let deadline = tokio::time::sleep(Duration::from_millis(job.limits.wall_time_ms));
        tokio::pin!(deadline);
        while status.is_none() || out_open || err_open {
            tokio::select! {
                r = stdout.read(&mut out_buf), if out_open => match r {
                    Ok(n) if n > 0 => out.push(&out_buf[..n]),
                    _ => out_open = false,
                },
                r = stderr.read(&mut err_buf), if err_open => match r {
                    Ok(n) if n > 0 => err.push(&err_buf[..n]),
                    _ => err_open = false,
                },
                s = child.wait(), if status.is_none() => {
                    // The job is over: anything still alive in its group is a leftover.
                    kill_all();
                    status = Some(s.map_err(io("waiting for the shim"))?);
                },
                _ = &mut deadline, if forced.is_none() => {
                    kill_all();
                    forced = Some(Outcome::WallTimeout);
                },
            }
            if forced.is_none() && out.total + err.total > job.limits.output_bytes {
                kill_all();
                forced = Some(Outcome::OutputLimit);
                // Stop reading: the cap is reached, the rest is not wanted.
                out_open = false;
                err_open = false;
            }
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        let status = status.ok_or_else(|| SandboxError::Setup("shim status missing".into()))?;
        let report_bytes = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut f = std::fs::File::from(report_r);
            let mut v = Vec::new();
            let _ = f.read_to_end(&mut v);
            v
        })
        .await
        .map_err(|e| SandboxError::Setup(format!("reading the shim report: {e}")))?;
        let report: Option<ShimReport> = serde_json::from_slice(&report_bytes).ok();

        let (mut outcome, mut cpu_time_ms, mut max_rss_kb, mut isolation) =
            (None, None, None, self.plan.clone());
        match report {
            Some(ShimReport::SetupFailed { message }) if forced.is_none() => {
                return Err(SandboxError::Setup(message))
            }
            Some(ShimReport::Finished {
                exit,
                isolation: applied,
                cpu_time_ms: cpu,
                max_rss_kb: rss,
            }) => {
                outcome = Some(match exit {
                    ShimExit::Exited(code) => Outcome::Exited { code },
                    ShimExit::Signaled(signal) => Outcome::Signaled { signal },
                });
                cpu_time_ms = Some(cpu);
                max_rss_kb = Some(rss);
                isolation = applied;
            }
            _ => {}
        }
        let outcome = match (forced, outcome) {
            (Some(f), _) => f,
            (None, Some(o)) => o,
            (None, None) => Outcome::Lost {
                detail: format!("the sandbox shim ended without a report ({status})"),
            },
        };
        Ok(Execution {
            outcome,
            duration_ms,
            cpu_time_ms,
            max_rss_kb,
            stdout: out.finish(),
            stderr: err.finish(),
            isolation,
        })
    }
}

/// Read-only system paths every interpreter needs (dynamic loader, shared
/// libraries, time zones, locale); the interpreter's own installation is
/// added per job. Secrets such as `/etc/shadow` or home directories are not
/// covered.
const SYSTEM_READ_PATHS: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/alternatives",
    // Node's bundled OpenSSL refuses to start without its configuration.
    "/etc/ssl/openssl.cnf",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills a two-element array; we take ownership of both ends.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// An anonymous in-memory file holding `data`, positioned at its start
/// (close-on-exec; the child gets its own copy through `dup2`).
fn memfd_with(data: &[u8]) -> std::io::Result<OwnedFd> {
    use std::io::{Seek, Write};
    // SAFETY: memfd_create with a valid name; we own the returned descriptor.
    let fd = unsafe { libc::memfd_create(c"yardstick-job-spec".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(data)?;
    file.rewind()?;
    Ok(OwnedFd::from(file))
}

/// SIGKILL every process in the job's cgroup (covers processes that left
/// the process group without a PID namespace to contain them).
pub(crate) fn kill_cgroup(dir: &Path) {
    if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in procs
            .split_whitespace()
            .filter_map(|p| p.parse::<libc::pid_t>().ok())
        {
            // SAFETY: signalling a process of the job's cgroup.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Remove job cgroups (`yardstick-job-<pid>-<n>`) left by processes that no
/// longer exist, e.g. after a crash. Busy or foreign directories are left alone.
fn sweep_stale_cgroups(parent: &Path) {
    for dir in stale_job_dirs(parent) {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Remove working directories (`yardstick-job-<pid>-…`) left by processes
/// that no longer exist (a harness killed mid-job cannot clean up).
fn sweep_stale_workdirs(parent: &Path) {
    for dir in stale_job_dirs(parent) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Real directories (not symlinks) of `parent` named `yardstick-job-<pid>-…`
/// whose creating process is gone.
fn stale_job_dirs(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let owner = name
                .strip_prefix("yardstick-job-")?
                .split('-')
                .next()?
                .parse::<u32>()
                .ok()?;
            let gone =
                owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists();
            gone.then(|| entry.path())
        })
        .collect()
}

/// Empty and remove a job cgroup; processes take a moment to leave it after SIGKILL.
pub(crate) async fn remove_cgroup(dir: &Path) {
    for _ in 0..1000 {
        kill_cgroup(dir);
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Keeps the last `cap` bytes of a stream and counts the rest.
struct Tail {
    cap: usize,
    buf: Vec<u8>,
    total: u64,
}

impl Tail {
    fn new(cap: usize) -> Self {
        Tail {
            cap,
            buf: Vec::new(),
            total: 0,
        }
    }

    fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        if data.len() >= self.cap {
            self.buf.clear();
            self.buf.extend_from_slice(&data[data.len() - self.cap..]);
        } else {
            let excess = (self.buf.len() + data.len()).saturating_sub(self.cap);
            self.buf.drain(..excess);
            self.buf.extend_from_slice(data);
        }
    }

    fn finish(self) -> OutputTail {
        OutputTail {
            total_bytes: self.total,
            truncated: self.total > self.buf.len() as u64,
            tail: String::from_utf8_lossy(&self.buf).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_dirs_of_dead_processes() {
        let root = tempfile::tempdir().unwrap();
        // pid_max is at most 2^22: this pid cannot exist.
        let dead = root.path().join("yardstick-job-4194305-abc");
        let alive = root
            .path()
            .join(format!("yardstick-job-{}-abc", std::process::id()));
        let other = root.path().join("something-else");
        for d in [&dead, &alive, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("f"), "x").unwrap();
        }
        sweep_stale_workdirs(root.path());
        assert!(!dead.exists() && alive.exists() && other.exists());
    }

    #[test]
    fn tail_keeps_the_end() {
        let mut t = Tail::new(4);
        t.push(b"ab");
        t.push(b"cdef");
        t.push(b"g");
        let out = t.finish();
        assert_eq!(out.tail, "defg");
        assert_eq!(out.total_bytes, 7);
        assert!(out.truncated);
    }

    #[test]
    fn refuses_without_required_layers() {
        let caps = Capabilities {
            running_as_root: false,
            user_namespaces: false,
            net_namespace: false,
            pid_namespace: false,
            mount_namespace: false,
            ipc_namespace: false,
            landlock_abi: None,
            seccomp_filter: true,
            cgroup_pids: None,
            cgroup_memory: None,
        };
        let config = SandboxConfig::new("/nonexistent", vec![]);
        let err = Sandbox::with_capabilities(config.clone(), caps.clone()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("Landlock") && text.contains("--allow-unconfined"),
            "{text}"
        );
        let allowed = Sandbox::with_capabilities(
            SandboxConfig {
                allow_unconfined: true,
                ..config
            },
            caps,
        )
        .unwrap();
        assert!(!allowed.isolation().is_confined());
    }
}
