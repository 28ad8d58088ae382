//! Shared setup: one sandbox (probed once) and the resolved Python.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use yardstick_sandbox::{Interpreter, Job, Limits, Sandbox, SandboxConfig};

pub fn sandbox() -> Arc<Sandbox> {
    static SANDBOX: OnceLock<Arc<Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            let config = SandboxConfig::new(env!("CARGO_BIN_EXE_yardstick-sandbox-shim"), vec![]);
            Arc::new(Sandbox::new(config).expect("this host must support a confined sandbox"))
        })
        .clone()
}

pub fn python() -> Interpreter {
    static PYTHON: OnceLock<Interpreter> = OnceLock::new();
    PYTHON
        .get_or_init(|| Interpreter::python3().expect("python3"))
        .clone()
}

/// Short limits so hostile cases end quickly.
pub fn limits() -> Limits {
    Limits {
        cpu_seconds: 2,
        wall_time_ms: 5_000,
        ..Limits::default()
    }
}

pub fn py_job(code: &str) -> Job {
    python().job(
        "main.py",
        vec![("main.py".into(), code.as_bytes().to_vec())],
        &limits(),
    )
}
