//! Sandbox for executing untrusted code (the `code_execution` dimension).
//!
//! Model-written programs are run by an interpreter (Python, Node) inside a
//! layered Linux sandbox so that a hostile or broken program can only fail its
//! own tests, never harm the host or the harness:
//!
//! * **namespaces** — a new network namespace (only a loopback interface, left
//!   down: no network at all), a new PID namespace with a fresh `/proc` (other
//!   processes are invisible, and when the job's init exits every descendant is
//!   killed by the kernel), a private mount namespace (in which the working
//!   directory becomes a size-limited tmpfs) and a new IPC namespace;
//! * **Landlock** — read/execute only beneath the interpreter's installation
//!   and the system library directories, read/write only beneath the job's
//!   fresh working directory; TCP bind/connect denied; signals and abstract
//!   Unix sockets scoped to the job;
//! * **seccomp** — system calls that can escape or damage (ptrace, mount,
//!   bpf, kexec, keyctl, namespaces, every `socket(2)`, raising limits, …)
//!   fail with `EPERM`;
//! * **rlimits** — CPU seconds, address space, file size, open files, no core
//!   dumps; per-job cgroups bound the job's total memory and, with
//!   `pids.max`, the number of processes (RLIMIT_NPROC
//!   is not enforced for uid 0, see [`probe`]);
//! * all capabilities dropped, `no_new_privs`, a clean environment, its own
//!   session and process group; the parent enforces wall time and output size.
//!
//! The layers are applied by a small single-threaded *shim* ([`shim_main`]),
//! which the `yardstick` binary exposes as the hidden subcommand
//! `yardstick sandbox-shim`; the async parent side is [`Sandbox`]. The host's
//! support is detected once ([`probe`]) and every [`Execution`] carries the
//! [`IsolationLevel`] actually applied. When a required layer is missing the
//! sandbox refuses to run unless the caller explicitly allows unconfined runs.
//!
//! For throughput, [`WarmPython`] keeps one sandboxed interpreter per worker
//! that forks a child per job (each child confines itself further).

mod isolation;
mod probe;
mod python;
mod sandbox;
mod shim;
mod spec;
mod warm;

pub use isolation::{IsolationLevel, MissingLayer};
pub use probe::{probe, Capabilities, CgroupDir};
pub use python::{Interpreter, PythonRunner, PythonTestReport, TestCase, TestVerdict};
pub use sandbox::{Execution, Job, Outcome, OutputTail, Sandbox, SandboxConfig, SandboxError};
pub use shim::shim_main;
pub use spec::Limits;
pub use warm::WarmPython;
