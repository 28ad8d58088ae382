//! The shim: a single-threaded program that applies every isolation layer
//! and then `execve`s the interpreter.
//!
//! Process tree of one execution (with a PID namespace):
//!
//! ```text
//! parent (tokio) ── shim (own session/process group; unshares net/pid/mnt/ipc)
//!                     └── init (pid 1 of the new namespace; mounts /proc, reaps)
//!                           └── worker: rlimits, chdir, caps dropped,
//!                                       no_new_privs, Landlock, seccomp, execve
//! ```
//!
//! When the worker ends, init reports its status to the shim and exits; the
//! kernel then kills everything left in the namespace (a child spinning after
//! its parent died, a fork bomb's remnants). The shim writes one JSON
//! [`ShimReport`] on fd 3 and exits. If a requested layer cannot be applied
//! the worker writes the reason on a close-on-exec pipe before `_exit`, so
//! the shim reports `SetupFailed` and nothing of the job has run.
//!
//! Single-threaded on purpose: `fork` without `exec` is only safe in a
//! single-threaded process, and `unshare(CLONE_NEWUSER)` refuses
//! multi-threaded callers. The `yardstick` binary must dispatch
//! `sandbox-shim` before it starts its async runtime.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::probe::cstring;
use crate::spec::{ShimExit, ShimReport, ShimSpec, REPORT_FD, SPEC_FD, SPEC_FD_ARG};

/// Entry point of `yardstick sandbox-shim`: `args` are the arguments after
/// the subcommand name. The parent passes `--spec-fd` and the JSON job spec
/// in a memfd on fd 4, so that the spec does not show in the command line of
/// the namespace's init (which the job can read in its `/proc/1/cmdline`);
/// a literal JSON argument is accepted for manual runs.
/// Writes its report on fd 3 and exits (status 0 when the interpreter ran,
/// 1 when the sandbox could not be set up).
pub fn shim_main<I: IntoIterator<Item = String>>(args: I) -> ! {
    let spec_text = match args.into_iter().next() {
        Some(arg) if arg == SPEC_FD_ARG => {
            let text = read_to_end(SPEC_FD);
            close(SPEC_FD);
            Ok(text)
        }
        Some(arg) if arg.starts_with('{') => Ok(arg.into_bytes()),
        _ => Err(format!(
            "usage: sandbox-shim ({SPEC_FD_ARG} | <job spec JSON>)"
        )),
    };
    let report = match spec_text {
        Err(message) => ShimReport::SetupFailed { message },
        Ok(text) => match serde_json::from_slice::<ShimSpec>(&text) {
            Ok(spec) => run(&spec).unwrap_or_else(|message| ShimReport::SetupFailed { message }),
            Err(e) => ShimReport::SetupFailed {
                message: format!("invalid job spec: {e}"),
            },
        },
    };
    let ok = matches!(report, ShimReport::Finished { .. });
    let text = serde_json::to_vec(&report).unwrap_or_default();
    if !write_all(REPORT_FD, &text) {
        // No report pipe (run by hand): fall back to stderr.
        write_all(2, &text);
    }
    std::process::exit(if ok { 0 } else { 1 })
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn write_all(fd: RawFd, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        // SAFETY: writing from a live slice.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            if errno().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        buf = &buf[n as usize..];
    }
    true
}

fn read_to_end(fd: RawFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reading into a live buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 && errno().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if n <= 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
}

fn waitpid(pid: libc::pid_t) -> Result<libc::c_int, String> {
    let mut status = 0;
    loop {
        // SAFETY: waiting on our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        if r < 0 && errno().raw_os_error() != Some(libc::EINTR) {
            return Err(format!("waitpid: {}", errno()));
        }
    }
}

fn decode_status(status: libc::c_int) -> ShimExit {
    if libc::WIFSIGNALED(status) {
        ShimExit::Signaled(libc::WTERMSIG(status))
    } else {
        ShimExit::Exited(libc::WEXITSTATUS(status))
    }
}

fn pipe() -> Result<(RawFd, RawFd), String> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills a two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", errno()));
    }
    Ok((fds[0], fds[1]))
}

fn close(fd: RawFd) {
    // SAFETY: closing a descriptor we own.
    unsafe { libc::close(fd) };
}

fn write_file(path: &str, content: &str) -> Result<(), String> {
    std::fs::write(path, content).map_err(|e| format!("writing {path}: {e}"))
}

/// Everything the worker needs, prepared before forking.
struct Prepared {
    argv: Vec<CString>,
    env: Vec<CString>,
    workdir: CString,
    seccomp: Vec<BpfProgram>,
}

fn run(spec: &ShimSpec) -> Result<ShimReport, String> {
    let layers = &spec.layers;
    let Some(program) = spec.argv.first() else {
        return Err("empty interpreter argv".into());
    };
    if !program.starts_with('/') {
        return Err(format!(
            "interpreter path must be absolute, got {program:?}"
        ));
    }
    // SAFETY: prctl/getppid/getsid/setsid/fcntl act on this process only.
    unsafe {
        // Die with the parent: a crashed harness must not leave jobs running.
        // (The signal fires when the parent *thread* that spawned us exits;
        // tokio workers live as long as their runtime.) If the parent already
        // died before the prctl, we were reparented: check its pid.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        if spec.parent_pid != 0 && libc::getppid() as u32 != spec.parent_pid {
            return Err("parent exited before the shim started".into());
        }
        // Own session and process group, so the parent can kill the whole job.
        if libc::getsid(0) != libc::getpid() && libc::setsid() < 0 {
            return Err(format!("setsid: {}", errno()));
        }
        libc::fcntl(REPORT_FD, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    for cgroup in &spec.cgroups {
        let procs = cgroup.join("cgroup.procs");
        std::fs::write(&procs, std::process::id().to_string())
            .map_err(|e| format!("joining cgroup {}: {e}", procs.display()))?;
    }
    let prepared = Prepared {
        argv: spec
            .argv
            .iter()
            .map(|a| CString::new(a.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        env: spec
            .env
            .iter()
            .map(|(k, v)| CString::new(format!("{k}={v}")))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        workdir: cstring(&spec.workdir).map_err(|e| e.to_string())?,
        seccomp: if layers.seccomp {
            seccomp_programs(spec.warm_server)?
        } else {
            Vec::new()
        },
    };

    // SAFETY: plain getters.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut flags = 0;
    if layers.user_namespace {
        flags |= libc::CLONE_NEWUSER;
    }
    if layers.net_namespace {
        flags |= libc::CLONE_NEWNET;
    }
    if layers.ipc_namespace {
        flags |= libc::CLONE_NEWIPC;
    }
    if layers.mount_namespace {
        flags |= libc::CLONE_NEWNS;
    }
    if layers.pid_namespace {
        flags |= libc::CLONE_NEWPID;
    }
    // SAFETY: unshare affects this single-threaded process only.
    if flags != 0 && unsafe { libc::unshare(flags) } != 0 {
        return Err(format!("unshare(namespaces {flags:#x}): {}", errno()));
    }
    if layers.user_namespace {
        write_file("/proc/self/setgroups", "deny")?;
        write_file("/proc/self/uid_map", &format!("0 {uid} 1"))?;
        write_file("/proc/self/gid_map", &format!("0 {gid} 1"))?;
    }
    if layers.mount_namespace {
        // Make every mount private so that the /proc mounted below (and
        // anything else) never propagates back to the host.
        // SAFETY: valid C strings; affects our private mount namespace.
        let r = unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        if r != 0 {
            return Err(format!("making mounts private: {}", errno()));
        }
        if spec.limits.disk_bytes > 0 {
            mount_tmpfs_workdir(spec)?;
        }
    }

    let (err_r, err_w) = pipe()?;
    let (st_r, st_w) = pipe()?;
    // SAFETY: the shim is single-threaded, so the child may allocate freely.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(format!("fork: {}", errno()));
    }
    if child == 0 {
        close(err_r);
        close(st_r);
        close(REPORT_FD);
        if layers.pid_namespace {
            init(spec, &prepared, err_w, st_w)
        } else {
            close(st_w);
            worker(spec, &prepared, err_w)
        }
    }
    close(err_w);
    close(st_w);
    let setup_error = read_to_end(err_r);
    close(err_r);
    let mut status_bytes = read_to_end(st_r);
    close(st_r);
    let child_status = waitpid(child)?;
    if !setup_error.is_empty() {
        return Err(String::from_utf8_lossy(&setup_error).into_owned());
    }
    if !layers.pid_namespace {
        status_bytes = encode_status(child_status);
    }
    let Some((exit, cpu_time_ms, max_rss_kb)) = decode_report(&status_bytes) else {
        return Err(format!(
            "sandbox init ended without a report ({:?})",
            decode_status(child_status)
        ));
    };
    Ok(ShimReport::Finished {
        exit,
        isolation: spec.layers.clone(),
        cpu_time_ms,
        max_rss_kb,
    })
}

/// Replace the working directory, inside our private mount namespace, by a
/// tmpfs of `disk_bytes` holding a copy of the files the parent put there:
/// the job's writes are bounded in total and vanish with the namespace.
fn mount_tmpfs_workdir(spec: &ShimSpec) -> Result<(), String> {
    fn snapshot(
        root: &Path,
        rel: &Path,
        out: &mut Vec<(PathBuf, Option<Vec<u8>>)>,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(root.join(rel))? {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                out.push((rel.clone(), None));
                snapshot(root, &rel, out)?;
            } else if kind.is_file() {
                out.push((rel.clone(), Some(std::fs::read(root.join(&rel))?)));
            }
        }
        Ok(())
    }
    let dir = &spec.workdir;
    let mut files = Vec::new();
    snapshot(dir, Path::new(""), &mut files)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let target = cstring(dir).map_err(|e| e.to_string())?;
    let options = CString::new(format!("size={},mode=0700", spec.limits.disk_bytes))
        .map_err(|e| e.to_string())?;
    // SAFETY: valid C strings; the mount is private to our namespace.
    let r = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            options.as_ptr().cast(),
        )
    };
    if r != 0 {
        return Err(format!(
            "mounting a tmpfs on {}: {}",
            dir.display(),
            errno()
        ));
    }
    for (rel, content) in files {
        let path = dir.join(&rel);
        match content {
            None => std::fs::create_dir(&path),
            Some(data) => std::fs::write(&path, data),
        }
        .map_err(|e| format!("copying {} into the tmpfs: {e}", rel.display()))?;
    }
    Ok(())
}

/// Status of the worker plus resource usage of all reaped descendants, as
/// four little-endian i64: kind (0 exit, 1 signal), code, CPU ms, max RSS kB.
fn encode_status(status: libc::c_int) -> Vec<u8> {
    // SAFETY: getrusage fills a zeroed struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let ms = |tv: libc::timeval| tv.tv_sec * 1000 + tv.tv_usec / 1000;
    let (kind, code) = match decode_status(status) {
        ShimExit::Exited(c) => (0i64, c as i64),
        ShimExit::Signaled(s) => (1, s as i64),
    };
    [
        kind,
        code,
        ms(usage.ru_utime) + ms(usage.ru_stime),
        usage.ru_maxrss,
    ]
    .iter()
    .flat_map(|v| v.to_le_bytes())
    .collect()
}

fn decode_report(bytes: &[u8]) -> Option<(ShimExit, u64, u64)> {
    if bytes.len() != 32 {
        return None;
    }
    let v: Vec<i64> = bytes
        .chunks(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    let exit = if v[0] == 0 {
        ShimExit::Exited(v[1] as i32)
    } else {
        ShimExit::Signaled(v[1] as i32)
    };
    Some((exit, v[2].max(0) as u64, v[3].max(0) as u64))
}

/// Write `msg` on the setup-error pipe and exit: nothing of the job ran.
fn fail(err_w: RawFd, msg: &str) -> ! {
    write_all(err_w, msg.as_bytes());
    // SAFETY: terminate the forked child immediately.
    unsafe { libc::_exit(127) }
}

/// PID 1 of the job's namespace: mounts a private /proc, forks the worker,
/// reaps every process until the worker ends, reports, exits (which makes
/// the kernel kill whatever is left in the namespace).
fn init(spec: &ShimSpec, prepared: &Prepared, err_w: RawFd, st_w: RawFd) -> ! {
    // SAFETY: prctl on ourselves.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    if spec.layers.mount_namespace {
        // SAFETY: valid C strings; our private mount namespace.
        let r = unsafe {
            libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            )
        };
        if r != 0 {
            fail(err_w, &format!("mounting a private /proc: {}", errno()));
        }
    }
    // SAFETY: single-threaded process.
    let worker_pid = unsafe { libc::fork() };
    if worker_pid < 0 {
        fail(err_w, &format!("fork: {}", errno()));
    }
    if worker_pid == 0 {
        close(st_w);
        worker(spec, prepared, err_w);
    }
    close(err_w);
    let status = loop {
        let mut status = 0;
        // SAFETY: reaping any child (orphans are reparented to us).
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r == worker_pid {
            break status;
        }
        if r < 0 && errno().raw_os_error() != Some(libc::EINTR) {
            // SAFETY: exit without a report; the shim reports the failure.
            unsafe { libc::_exit(1) };
        }
    };
    write_all(st_w, &encode_status(status));
    // SAFETY: exiting pid 1 tears the namespace down.
    unsafe { libc::_exit(0) }
}

/// Apply the per-process layers and exec the interpreter.
fn worker(spec: &ShimSpec, prepared: &Prepared, err_w: RawFd) -> ! {
    let layers = &spec.layers;
    // SAFETY: prctl on ourselves.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    if layers.rlimits {
        if let Err(e) = set_rlimits(spec) {
            fail(err_w, &e);
        }
    }
    // SAFETY: chdir to a valid C string; umask and close_range on ourselves.
    unsafe {
        if libc::chdir(prepared.workdir.as_ptr()) != 0 {
            fail(
                err_w,
                &format!("chdir {}: {}", spec.workdir.display(), errno()),
            );
        }
        libc::umask(0o022);
        // Nothing but stdin/stdout/stderr crosses into the interpreter.
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
    if layers.capabilities_dropped {
        if let Err(e) = drop_capabilities() {
            fail(err_w, &e);
        }
    }
    // SAFETY: prctl on ourselves.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        fail(err_w, &format!("no_new_privs: {}", errno()));
    }
    if let Some(abi) = layers.landlock_abi {
        if let Err(e) = apply_landlock(spec, abi) {
            fail(err_w, &format!("landlock: {e}"));
        }
    }
    for program in &prepared.seccomp {
        if let Err(e) = seccompiler::apply_filter(program) {
            fail(err_w, &format!("seccomp: {e}"));
        }
    }
    let mut argv: Vec<*const libc::c_char> = prepared.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = prepared.env.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
    unsafe { libc::execve(argv[0], argv.as_ptr(), envp.as_ptr()) };
    fail(err_w, &format!("execve {}: {}", spec.argv[0], errno()))
}

fn set_rlimits(spec: &ShimSpec) -> Result<(), String> {
    let l = &spec.limits;
    let mut limits: Vec<(libc::__rlimit_resource_t, u64, u64, &str)> = vec![
        // SIGXCPU at the soft limit, SIGKILL one second later.
        (
            libc::RLIMIT_CPU,
            l.cpu_seconds,
            l.cpu_seconds + 1,
            "RLIMIT_CPU",
        ),
        (
            libc::RLIMIT_FSIZE,
            l.file_size_bytes,
            l.file_size_bytes,
            "RLIMIT_FSIZE",
        ),
        (
            libc::RLIMIT_NOFILE,
            l.open_files,
            l.open_files,
            "RLIMIT_NOFILE",
        ),
        (libc::RLIMIT_CORE, 0, 0, "RLIMIT_CORE"),
        // Enforced by the kernel only for non-root uids; as root the cgroup
        // pids.max and the PID namespace bound processes instead.
        (
            libc::RLIMIT_NPROC,
            l.max_processes,
            l.max_processes,
            "RLIMIT_NPROC",
        ),
    ];
    if let Some(bytes) = l.address_space_bytes {
        limits.push((libc::RLIMIT_AS, bytes, bytes, "RLIMIT_AS"));
    }
    for (resource, soft, hard, name) in limits {
        let rl = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setting a limit of this process from a valid struct.
        if unsafe { libc::setrlimit(resource, &rl) } != 0 {
            return Err(format!("{name}: {}", errno()));
        }
    }
    Ok(())
}

/// Empty the bounding and ambient sets and the effective/permitted/inheritable
/// sets. As uid 0 the bounding set matters most: `execve` would otherwise
/// hand root its full capabilities back.
fn drop_capabilities() -> Result<(), String> {
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    // SAFETY: prctl/capset on ourselves with valid structs.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
        for cap in 0..64 {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                if errno().raw_os_error() == Some(libc::EINVAL) {
                    break; // past the last capability this kernel knows
                }
                return Err(format!(
                    "dropping capability {cap} from the bounding set: {}",
                    errno()
                ));
            }
        }
        let header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        if libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) != 0 {
            return Err(format!("capset: {}", errno()));
        }
    }
    Ok(())
}

/// Landlock: read+execute beneath `read_paths`, everything beneath the
/// working directory, read+write on `rw_files`; TCP bind/connect denied (ABI
/// 4+); signals and abstract Unix sockets scoped to the job (ABI 6+).
fn apply_landlock(spec: &ShimSpec, abi: u32) -> Result<(), String> {
    let abi = ABI::from(abi as i32);
    let err = |e: landlock::RulesetError| e.to_string();
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(err)?;
    if abi >= ABI::V4 {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(err)?;
    }
    if abi >= ABI::V6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(err)?;
    }
    let read: Vec<_> = spec.read_paths.iter().filter(|p| p.exists()).collect();
    let mut created = ruleset
        .create()
        .map_err(err)?
        .add_rules(path_beneath_rules(read, AccessFs::from_read(abi)))
        .map_err(err)?
        .add_rules(path_beneath_rules([&spec.workdir], AccessFs::from_all(abi)))
        .map_err(err)?;
    for file in spec.rw_files.iter().filter(|p| p.exists()) {
        let fd = PathFd::new(file).map_err(|e| format!("{}: {e}", file.display()))?;
        created = created
            .add_rule(PathBeneath::new(
                fd,
                AccessFs::ReadFile | AccessFs::WriteFile,
            ))
            .map_err(err)?;
    }
    let status = created.restrict_self().map_err(err)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("the kernel did not enforce the ruleset".into());
    }
    Ok(())
}

/// System calls refused with EPERM regardless of arguments.
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_reboot,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_vhangup,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_fanotify_init,
    libc::SYS_kcmp,
    libc::SYS_move_pages,
    libc::SYS_migrate_pages,
    libc::SYS_pidfd_getfd,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    // Limits can only be lowered without CAP_SYS_RESOURCE, but there is no
    // reason for a test program to touch them at all.
    libc::SYS_setrlimit,
    // The job stays in the session/process group the parent kills.
    libc::SYS_setsid,
    libc::SYS_setpgid,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
];

const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
    0x0000_0080, // CLONE_NEWTIME
];

/// Two filters: a deny list answering EPERM, and `clone3` answering ENOSYS
/// (its flags live in memory seccomp cannot inspect; ENOSYS makes libc fall
/// back to `clone`, whose flags the first filter checks).
///
/// `allow_rlimits` (warm workers only) leaves `setrlimit`/`prlimit64` open so
/// the worker can set each job child's limits; the child then installs the
/// strict filter ([`job_seccomp_bytes`]) before any job code runs.
pub(crate) fn seccomp_programs(allow_rlimits: bool) -> Result<Vec<BpfProgram>, String> {
    let arch =
        TargetArch::try_from(std::env::consts::ARCH).map_err(|e| format!("seccomp arch: {e}"))?;
    let e = |e: seccompiler::BackendError| format!("seccomp: {e}");
    let cond = |arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(arg, len, op, value).and_then(|c| SeccompRule::new(vec![c]))
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED
        .iter()
        .filter(|&&nr| !(allow_rlimits && nr == libc::SYS_setrlimit))
        .map(|&nr| (nr, Vec::new()))
        .collect();
    // No socket(2) at all: besides network families, an AF_UNIX socket could
    // connect() to a host service's path socket (a database running as
    // root, a container runtime), which Landlock up to ABI 6 does not
    // mediate. Connected stream/seqpacket pairs (multiprocessing, asyncio)
    // stay available; datagram pairs do not, since sendto() could still
    // address a path socket.
    rules.insert(libc::SYS_socket, Vec::new());
    rules.insert(
        libc::SYS_socketpair,
        vec![cond(
            1,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(0xf),
            libc::SOCK_DGRAM as u64,
        )
        .map_err(e)?],
    );
    // No new namespaces through clone(2).
    rules.insert(
        libc::SYS_clone,
        NAMESPACE_FLAGS
            .iter()
            .map(|&f| {
                cond(
                    0,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(f as u64),
                    f as u64,
                )
            })
            .collect::<Result<_, _>>()
            .map_err(e)?,
    );
    if !allow_rlimits {
        // prlimit64 may read limits (new_limit == NULL) but never set them.
        rules.insert(
            libc::SYS_prlimit64,
            vec![cond(2, SeccompCmpArgLen::Qword, SeccompCmpOp::Ne, 0).map_err(e)?],
        );
    }
    // No typing into a terminal we might share.
    rules.insert(
        libc::SYS_ioctl,
        vec![cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, libc::TIOCSTI).map_err(e)?],
    );
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(e)?;
    let clone3 = SeccompFilter::new(
        [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(e)?;
    Ok(vec![
        deny.try_into().map_err(e)?,
        clone3.try_into().map_err(e)?,
    ])
}

/// The strict filters as raw `struct sock_filter` arrays, for a warm
/// worker's job child to install with `prctl(PR_SET_SECCOMP)`.
pub(crate) fn job_seccomp_bytes() -> Result<Vec<Vec<u8>>, String> {
    Ok(seccomp_programs(false)?
        .iter()
        .map(|program| {
            program
                .iter()
                .flat_map(|f| {
                    let mut b = Vec::with_capacity(8);
                    b.extend_from_slice(&f.code.to_ne_bytes());
                    b.push(f.jt);
                    b.push(f.jf);
                    b.extend_from_slice(&f.k.to_ne_bytes());
                    b
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_filters_compile() {
        let programs = seccomp_programs(false).unwrap();
        assert_eq!(job_seccomp_bytes().unwrap().len(), 2);
        assert_eq!(programs.len(), 2);
    }

    #[test]
    fn status_encoding_round_trips() {
        // Exit code 3 (status word 3 << 8).
        let bytes = encode_status(3 << 8);
        let (exit, _, _) = decode_report(&bytes).unwrap();
        assert_eq!(exit, ShimExit::Exited(3));
        let bytes = encode_status(libc::SIGKILL);
        assert_eq!(
            decode_report(&bytes).unwrap().0,
            ShimExit::Signaled(libc::SIGKILL)
        );
        assert!(decode_report(&[]).is_none());
    }
}
