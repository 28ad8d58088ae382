//! Which isolation layers an execution ran under, recorded with every grade.

use serde::{Deserialize, Serialize};

/// The isolation layers applied to one execution (or planned by a
/// [`crate::Sandbox`]). Stored with every grade so that an auditor can tell
/// how contained the code was when it produced its score.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsolationLevel {
    /// A user namespace was created (used only when not running as root, to
    /// gain the right to create the other namespaces).
    pub user_namespace: bool,
    /// New network namespace: no interface but a downed loopback.
    pub net_namespace: bool,
    /// New PID namespace with a private `/proc`.
    pub pid_namespace: bool,
    /// Private mount namespace (needed for the private `/proc`).
    pub mount_namespace: bool,
    /// New IPC namespace (System V IPC, POSIX message queues).
    pub ipc_namespace: bool,
    /// Landlock ABI version of the rules enforced, if Landlock was applied.
    pub landlock_abi: Option<u32>,
    /// The seccomp deny-list filter was installed.
    pub seccomp: bool,
    /// Resource limits (CPU, address space, file size, open files, core).
    pub rlimits: bool,
    /// A cgroup `pids.max` bounded the number of processes.
    pub cgroup_pids: bool,
    /// A cgroup memory limit bounded the job's total memory.
    #[serde(default)]
    pub cgroup_memory: bool,
    /// All capabilities were dropped and `no_new_privs` was set.
    pub capabilities_dropped: bool,
    /// The job ran in a child forked by a warm worker: namespaces and the
    /// cgroup are per worker (shared, one job at a time, every process but
    /// the worker killed after each job); Landlock (to the job's own
    /// directory), seccomp and rlimits are applied per job.
    #[serde(default)]
    pub warm_worker: bool,
}

/// A layer that a confined execution requires but the host cannot provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingLayer {
    /// No Landlock: file-system confinement would be missing.
    Landlock,
    /// No seccomp filters: dangerous system calls would be allowed.
    Seccomp,
    /// No PID namespace: processes could outlive the job and see the host's.
    PidNamespace,
    /// No network namespace: the job could reach loopback services.
    NetNamespace,
}

impl MissingLayer {
    /// Human explanation used in the refusal error.
    pub fn describe(self) -> &'static str {
        match self {
            MissingLayer::Landlock => {
                "Landlock (kernel >= 5.13 with landlock in the `lsm=` list) — file-system confinement"
            }
            MissingLayer::Seccomp => "seccomp filters (CONFIG_SECCOMP_FILTER) — system-call filtering",
            MissingLayer::PidNamespace => {
                "PID + mount namespaces (root, or unprivileged user namespaces) — process containment"
            }
            MissingLayer::NetNamespace => {
                "network namespace (root, or unprivileged user namespaces) — network isolation"
            }
        }
    }
}

impl IsolationLevel {
    /// Short form such as `netns+pidns+mntns+ipcns+landlock(v6)+seccomp+rlimits+cgroup-pids+nocaps`,
    /// or `unconfined` when no layer is active.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.user_namespace {
            parts.push("userns".into());
        }
        if self.net_namespace {
            parts.push("netns".into());
        }
        if self.pid_namespace {
            parts.push("pidns".into());
        }
        if self.mount_namespace {
            parts.push("mntns".into());
        }
        if self.ipc_namespace {
            parts.push("ipcns".into());
        }
        if let Some(abi) = self.landlock_abi {
            parts.push(format!("landlock(v{abi})"));
        }
        if self.seccomp {
            parts.push("seccomp".into());
        }
        if self.rlimits {
            parts.push("rlimits".into());
        }
        if self.cgroup_pids {
            parts.push("cgroup-pids".into());
        }
        if self.cgroup_memory {
            parts.push("cgroup-mem".into());
        }
        if self.capabilities_dropped {
            parts.push("nocaps".into());
        }
        if self.warm_worker {
            parts.push("warm".into());
        }
        if parts.is_empty() {
            "unconfined".into()
        } else {
            parts.join("+")
        }
    }

    /// The required layers that are not active. Empty means "fully confined".
    /// Landlock, seccomp, PID and network namespaces are required; the cgroup
    /// pids limit is optional because the PID namespace already guarantees
    /// that every process dies with the job (the cgroup only bounds how many
    /// can exist meanwhile).
    pub fn missing(&self) -> Vec<MissingLayer> {
        let mut missing = Vec::new();
        if self.landlock_abi.is_none() {
            missing.push(MissingLayer::Landlock);
        }
        if !self.seccomp {
            missing.push(MissingLayer::Seccomp);
        }
        if !self.pid_namespace || !self.mount_namespace {
            missing.push(MissingLayer::PidNamespace);
        }
        if !self.net_namespace {
            missing.push(MissingLayer::NetNamespace);
        }
        missing
    }

    /// True when every required layer is active.
    pub fn is_confined(&self) -> bool {
        self.missing().is_empty()
    }
}

impl std::fmt::Display for IsolationLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lists_active_layers_in_order() {
        let level = IsolationLevel {
            net_namespace: true,
            pid_namespace: true,
            mount_namespace: true,
            landlock_abi: Some(3),
            seccomp: true,
            rlimits: true,
            ..Default::default()
        };
        assert_eq!(
            level.summary(),
            "netns+pidns+mntns+landlock(v3)+seccomp+rlimits"
        );
        assert!(level.is_confined());
        assert_eq!(IsolationLevel::default().summary(), "unconfined");
        assert_eq!(IsolationLevel::default().missing().len(), 4);
    }

    #[test]
    fn serialises_round_trip() {
        let level = IsolationLevel {
            seccomp: true,
            landlock_abi: Some(6),
            ..Default::default()
        };
        let json = serde_json::to_string(&level).unwrap();
        let back: IsolationLevel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, level);
    }
}
