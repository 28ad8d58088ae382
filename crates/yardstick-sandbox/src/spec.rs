//! The contract between the parent ([`crate::Sandbox`]) and the shim.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::isolation::IsolationLevel;

/// Resource limits of one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// RLIMIT_CPU: CPU seconds (user + system) per process; SIGXCPU, then SIGKILL one second later.
    pub cpu_seconds: u64,
    /// Wall-clock limit enforced by the parent, which kills the whole job.
    pub wall_time_ms: u64,
    /// RLIMIT_AS in bytes. `None` for runtimes that reserve huge virtual
    /// ranges up front (V8/Node), where an address-space limit breaks startup.
    pub address_space_bytes: Option<u64>,
    /// Maximum number of processes/threads: cgroup `pids.max` when a cgroup is
    /// available, and RLIMIT_NPROC (effective only for non-root uids).
    pub max_processes: u64,
    /// RLIMIT_FSIZE: the largest file the job may write.
    pub file_size_bytes: u64,
    /// RLIMIT_NOFILE: open file descriptors.
    pub open_files: u64,
    /// Cap on stdout + stderr bytes read by the parent; beyond it the job is killed.
    pub output_bytes: u64,
    /// Size of the private tmpfs that becomes the working directory (with a
    /// mount namespace): bounds what the job can write in total, since
    /// RLIMIT_FSIZE bounds only each file. 0 keeps the host directory.
    #[serde(default = "default_disk_bytes")]
    pub disk_bytes: u64,
    /// Total memory of the job's processes (cgroup memory limit, when a
    /// memory cgroup is writable); the kernel OOM-kills inside the job beyond it.
    #[serde(default = "default_memory_bytes")]
    pub memory_bytes: u64,
}

fn default_memory_bytes() -> u64 {
    1 << 30
}

fn default_disk_bytes() -> u64 {
    64 << 20
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_seconds: 10,
            wall_time_ms: 20_000,
            address_space_bytes: Some(1 << 30),
            max_processes: 64,
            file_size_bytes: 16 << 20,
            open_files: 256,
            output_bytes: 1 << 20,
            disk_bytes: default_disk_bytes(),
            memory_bytes: default_memory_bytes(),
        }
    }
}

/// What the shim is asked to do (serialised as JSON in its single argument).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ShimSpec {
    /// Interpreter argv; `argv[0]` is an absolute path (no PATH search inside).
    pub argv: Vec<String>,
    /// The fresh working directory (read-write, cwd and HOME).
    pub workdir: PathBuf,
    /// The complete environment of the interpreter.
    pub env: Vec<(String, String)>,
    pub limits: Limits,
    /// Directories/files the job may read and execute (interpreter, system libraries).
    pub read_paths: Vec<PathBuf>,
    /// Files the job may read and write besides the working directory (`/dev/null`).
    pub rw_files: Vec<PathBuf>,
    /// Layers to apply; the shim fails rather than apply fewer.
    pub layers: IsolationLevel,
    /// Cgroup directories (already created, limits set) the job joins.
    #[serde(default)]
    pub cgroups: Vec<PathBuf>,
    /// The interpreter is a warm worker that forks one child per job: its
    /// seccomp filter lets it lower resource limits in each child, which then
    /// installs the full filter itself before running job code.
    #[serde(default)]
    pub warm_server: bool,
    /// Pid of the process that starts the shim (0: unknown, for manual runs).
    #[serde(default)]
    pub parent_pid: u32,
}

/// How the interpreter ended, as seen by the shim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ShimExit {
    Exited(i32),
    Signaled(i32),
}

/// The shim's report, written as one JSON document on fd 3.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ShimReport {
    /// The interpreter ran under `isolation` and ended with `exit`.
    Finished {
        exit: ShimExit,
        isolation: IsolationLevel,
        cpu_time_ms: u64,
        max_rss_kb: u64,
    },
    /// A layer could not be applied (or the interpreter could not be started);
    /// nothing of the job ran.
    SetupFailed { message: String },
}

/// The file descriptor on which the shim writes its [`ShimReport`].
pub(crate) const REPORT_FD: i32 = 3;

/// The file descriptor from which the shim reads its [`ShimSpec`] (a memfd).
pub(crate) const SPEC_FD: i32 = 4;

/// The shim argument announcing that the spec is on [`SPEC_FD`].
pub(crate) const SPEC_FD_ARG: &str = "--spec-fd";
