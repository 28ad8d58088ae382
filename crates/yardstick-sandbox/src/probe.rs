//! Detection of the isolation features the host kernel offers.
//!
//! Namespace support is probed by forking a child that tries the `unshare`
//! itself: a configuration flag or a sysctl can say "yes" while a container
//! runtime's seccomp profile says "no", and only trying tells. The children
//! run nothing but raw system calls, so probing is safe from a multi-threaded
//! (tokio) process.
//!
//! Behaviour as root (the CI VM runs everything as uid 0): namespaces are
//! created directly, without a user namespace. `RLIMIT_NPROC` is *not*
//! enforced for uid 0 (the kernel exempts the root user even without
//! capabilities), so a fork bomb is bounded by the cgroup `pids.max` when a
//! pids controller is writable, and in every case by the PID namespace (all
//! processes die with the job) plus the CPU and wall-time limits.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::isolation::IsolationLevel;

/// The highest Landlock ABI whose semantics the shim implements (file
/// system, TCP bind/connect, signal and abstract-socket scoping).
pub(crate) const LANDLOCK_TARGET_ABI: u32 = 6;

/// What the host supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Effective uid is 0: namespaces can be created without a user namespace.
    pub running_as_root: bool,
    /// `unshare(CLONE_NEWUSER)` succeeds.
    pub user_namespaces: bool,
    /// A new network namespace can be created (directly as root, else inside a user namespace).
    pub net_namespace: bool,
    /// A new PID namespace plus private mount namespace with a fresh `/proc` works.
    pub pid_namespace: bool,
    /// A new mount namespace can be created.
    pub mount_namespace: bool,
    /// A new IPC namespace can be created.
    pub ipc_namespace: bool,
    /// Landlock ABI version reported by the kernel (None: Landlock unavailable).
    pub landlock_abi: Option<u32>,
    /// seccomp filter mode is available.
    pub seccomp_filter: bool,
    /// A writable cgroup where per-job `pids.max` limits can be created.
    pub cgroup_pids: Option<CgroupDir>,
    /// A writable cgroup where per-job memory limits can be created (bounds
    /// the job's total memory; RLIMIT_AS bounds only each process).
    pub cgroup_memory: Option<CgroupDir>,
}

/// A cgroup directory below which the sandbox creates one child cgroup per
/// execution (with a `pids.max` or memory limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupDir {
    /// 1 for the legacy `pids` hierarchy, 2 for the unified hierarchy.
    pub version: u8,
    /// The parent directory (our own cgroup in that hierarchy).
    pub parent: PathBuf,
}

impl Capabilities {
    /// Whether namespaces must be created inside a user namespace.
    pub fn needs_user_namespace(&self) -> bool {
        !self.running_as_root
    }

    /// The isolation a [`crate::Sandbox`] built on this host applies.
    pub fn plan(&self) -> IsolationLevel {
        let ns_ok = self.running_as_root || self.user_namespaces;
        IsolationLevel {
            user_namespace: !self.running_as_root && self.user_namespaces,
            net_namespace: ns_ok && self.net_namespace,
            pid_namespace: ns_ok && self.pid_namespace,
            mount_namespace: ns_ok && self.mount_namespace && self.pid_namespace,
            ipc_namespace: ns_ok && self.ipc_namespace,
            landlock_abi: self.landlock_abi.map(|abi| abi.min(LANDLOCK_TARGET_ABI)),
            seccomp: self.seccomp_filter,
            rlimits: true,
            cgroup_pids: self.cgroup_pids.is_some(),
            cgroup_memory: self.cgroup_memory.is_some(),
            capabilities_dropped: true,
            warm_worker: false,
        }
    }
}

/// Detect what the host supports. Takes a few milliseconds (it forks small
/// probe children); call it once per process and keep the result.
pub fn probe() -> Capabilities {
    // SAFETY: geteuid has no preconditions.
    let running_as_root = unsafe { libc::geteuid() } == 0;
    let user_namespaces = try_in_child(|| unshare(libc::CLONE_NEWUSER));
    let base = if running_as_root {
        0
    } else {
        libc::CLONE_NEWUSER
    };
    let usable = running_as_root || user_namespaces;
    let net_namespace = usable && try_in_child(|| unshare(base | libc::CLONE_NEWNET));
    let ipc_namespace = usable && try_in_child(|| unshare(base | libc::CLONE_NEWIPC));
    let mount_namespace = usable && try_in_child(|| unshare(base | libc::CLONE_NEWNS));
    let pid_namespace = usable && mount_namespace && try_in_child(|| pid_namespace_with_proc(base));
    Capabilities {
        running_as_root,
        user_namespaces,
        net_namespace,
        pid_namespace,
        mount_namespace,
        ipc_namespace,
        landlock_abi: landlock_abi(),
        seccomp_filter: seccomp_available(),
        cgroup_pids: find_cgroup("pids"),
        cgroup_memory: find_cgroup("memory"),
    }
}

fn unshare(flags: libc::c_int) -> bool {
    // SAFETY: unshare only affects the calling (probe child) process.
    unsafe { libc::unshare(flags) == 0 }
}

/// Run `f` in a forked child and report whether it returned true. The child
/// only performs raw system calls (async-signal-safe), so this is sound even
/// when the caller has other threads.
fn try_in_child(f: impl FnOnce() -> bool) -> bool {
    // SAFETY: the child calls only async-signal-safe functions and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return false;
    }
    if pid == 0 {
        let ok = f();
        // SAFETY: terminating the probe child without running destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    wait_exit_code(pid) == Some(0)
}

fn wait_exit_code(pid: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
    if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    }
}

/// In the probe child: new PID + mount namespaces, then a grandchild (the new
/// namespace's init) mounts a fresh procfs — the exact sequence the shim uses.
fn pid_namespace_with_proc(base: libc::c_int) -> bool {
    if !unshare(base | libc::CLONE_NEWPID | libc::CLONE_NEWNS) {
        return false;
    }
    let root = c"/";
    let proc_ = c"/proc";
    let proc_type = c"proc";
    // SAFETY: mount calls with valid C strings, in a throw-away mount namespace.
    unsafe {
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return false;
        }
    }
    try_in_child(|| {
        // SAFETY: as above; this child is pid 1 of the new namespace.
        unsafe {
            libc::mount(
                proc_type.as_ptr(),
                proc_.as_ptr(),
                proc_type.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            ) == 0
                && libc::getpid() == 1
        }
    })
}

/// Landlock ABI version, via `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`.
fn landlock_abi() -> Option<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the version query takes no pointer and has no side effect.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r > 0 {
        Some(r as u32)
    } else {
        None
    }
}

/// seccomp filter support, via `seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &SECCOMP_RET_ERRNO)`.
fn seccomp_available() -> bool {
    const SECCOMP_GET_ACTION_AVAIL: libc::c_uint = 2;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    let action: u32 = SECCOMP_RET_ERRNO;
    // SAFETY: read-only query with a pointer to a live u32.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_ACTION_AVAIL,
            0u32,
            &action as *const u32,
        )
    };
    r == 0
}

/// Find a cgroup directory (v2 with `controller` delegated to children, or
/// the v1 hierarchy of `controller`) where we may create children.
fn find_cgroup(controller: &str) -> Option<CgroupDir> {
    let (v1_file, v2_file) = match controller {
        "memory" => ("memory.limit_in_bytes", "memory.max"),
        _ => ("pids.max", "pids.max"),
    };
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let relative = path.trim_start_matches('/');
        if controllers.is_empty() {
            for mount in cgroup_mounts(&mountinfo, "cgroup2", None) {
                let dir = mount.join(relative);
                let delegated = std::fs::read_to_string(dir.join("cgroup.subtree_control"))
                    .map(|s| s.split_whitespace().any(|c| c == controller))
                    .unwrap_or(false);
                if delegated && can_create_child(&dir, v2_file) {
                    return Some(CgroupDir {
                        version: 2,
                        parent: dir,
                    });
                }
            }
        } else if controllers.split(',').any(|c| c == controller) {
            for mount in cgroup_mounts(&mountinfo, "cgroup", Some(controller)) {
                let dir = mount.join(relative);
                if can_create_child(&dir, v1_file) {
                    return Some(CgroupDir {
                        version: 1,
                        parent: dir,
                    });
                }
            }
        }
    }
    None
}

/// Mount points of cgroup file systems of `fstype`, optionally restricted to
/// v1 hierarchies carrying `option` (e.g. `pids`) in their super options.
fn cgroup_mounts(mountinfo: &str, fstype: &str, option: Option<&str>) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut right = right.split_whitespace();
            if right.next()? != fstype {
                return None;
            }
            let _source = right.next()?;
            let super_options = right.next().unwrap_or("");
            if let Some(opt) = option {
                if !super_options.split(',').any(|o| o == opt) {
                    return None;
                }
            }
            left.split_whitespace().nth(4).map(PathBuf::from)
        })
        .collect()
}

fn can_create_child(dir: &Path, limit_file: &str) -> bool {
    let probe = dir.join(format!("yardstick-probe-{}", std::process::id()));
    if std::fs::create_dir(&probe).is_err() {
        return false;
    }
    let ok = probe.join(limit_file).exists();
    let _ = std::fs::remove_dir(&probe);
    ok
}

/// `CString` from a path, for raw system calls.
pub(crate) fn cstring(path: &Path) -> std::io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains NUL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reports_something_consistent() {
        let caps = probe();
        let plan = caps.plan();
        assert!(plan.rlimits);
        if caps.running_as_root {
            // The CI VM runs as root: namespaces must be available directly.
            assert!(caps.net_namespace && caps.pid_namespace, "{caps:?}");
        }
        eprintln!("capabilities: {caps:?}\nplan: {}", plan.summary());
    }

    #[test]
    fn parses_mountinfo() {
        let mi = "30 25 0:26 / /sys/fs/cgroup/pids rw,relatime shared:9 - cgroup cgroup rw,pids\n\
                  31 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup_mounts(mi, "cgroup", Some("pids")),
            vec![PathBuf::from("/sys/fs/cgroup/pids")]
        );
        assert_eq!(
            cgroup_mounts(mi, "cgroup2", None),
            vec![PathBuf::from("/sys/fs/cgroup/unified")]
        );
        assert!(cgroup_mounts(mi, "cgroup", Some("memory")).is_empty());
    }
}
