//! Interpreters and the Python runner for test-based items.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::isolation::IsolationLevel;
use crate::sandbox::{Execution, Job, Sandbox, SandboxError};
use crate::spec::Limits;
use crate::warm::{WarmPython, HARNESS};

/// A resolved interpreter: the real binary (not a pyenv/asdf shim, which
/// would cost ~100 ms per start and need the shim's whole tree) and the
/// directories its installation lives in, which Landlock makes readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interpreter {
    /// `python` or `node`.
    pub language: String,
    /// Absolute, canonical path of the binary.
    pub program: PathBuf,
    /// Arguments placed before the script name.
    pub args: Vec<String>,
    /// Installation directories (read + execute inside the sandbox).
    pub read_paths: Vec<PathBuf>,
    /// Whether an RLIMIT_AS limit is compatible (false for V8, which
    /// reserves tens of GB of address space at start).
    pub address_space_limit: bool,
    /// Version string, recorded for audit.
    pub version: String,
}

impl Interpreter {
    /// Resolve `python3` from PATH once: asks it for `sys.executable` and its
    /// prefixes. Runs `-I -B` inside the sandbox (isolated mode: no user site,
    /// no PYTHON* variables; no bytecode writing).
    pub fn python3() -> Result<Self, SandboxError> {
        let script = "import sys,json;print(json.dumps([sys.executable,sys.prefix,sys.base_prefix,\
                      sys.exec_prefix,sys.base_exec_prefix,sys.version.split()[0]]))";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .output()
            .map_err(|e| SandboxError::Io {
                context: "running python3 to resolve the interpreter".into(),
                source: e,
            })?;
        if !out.status.success() {
            return Err(SandboxError::Setup(format!(
                "python3 failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let fields: Vec<String> = serde_json::from_slice(&out.stdout)
            .map_err(|e| SandboxError::Setup(format!("unexpected python3 output: {e}")))?;
        let [exe, prefixes @ .., version] = fields.as_slice() else {
            return Err(SandboxError::Setup("unexpected python3 output".into()));
        };
        let program = canonical(Path::new(exe))?;
        let mut read_paths: Vec<PathBuf> = Vec::new();
        for p in prefixes
            .iter()
            .map(PathBuf::from)
            .chain(program.parent().map(Path::to_path_buf))
        {
            let p = p.canonicalize().unwrap_or(p);
            if !read_paths.contains(&p) {
                read_paths.push(p);
            }
        }
        Ok(Interpreter {
            language: "python".into(),
            program,
            args: vec!["-I".into(), "-B".into()],
            read_paths,
            address_space_limit: true,
            version: version.clone(),
        })
    }

    /// Resolve `node` from PATH, if installed.
    pub fn node() -> Option<Self> {
        let out = std::process::Command::new("node")
            .args([
                "-e",
                "console.log(JSON.stringify([process.execPath, process.version]))",
            ])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let [exe, version]: [String; 2] = serde_json::from_slice(&out.stdout).ok()?;
        let program = canonical(Path::new(&exe)).ok()?;
        // <prefix>/bin/node → <prefix> holds lib/node_modules.
        let prefix = program.parent()?.parent()?.to_path_buf();
        Some(Interpreter {
            language: "javascript".into(),
            program,
            args: Vec::new(),
            read_paths: vec![prefix],
            address_space_limit: false,
            version,
        })
    }

    /// A job that runs `script` (a file among `files`) with this interpreter.
    pub fn job(&self, script: &str, files: Vec<(String, Vec<u8>)>, limits: &Limits) -> Job {
        let mut argv = vec![self.program.to_string_lossy().into_owned()];
        argv.extend(self.args.iter().cloned());
        let mut limits = limits.clone();
        if !self.address_space_limit {
            // V8 cannot start under RLIMIT_AS; bound its heap instead. This
            // does not cover memory outside the JS heap (large Buffers), which
            // only the wall/CPU limits and the host's memory bound.
            if let (Some(bytes), "javascript") =
                (limits.address_space_bytes, self.language.as_str())
            {
                argv.push(format!("--max-old-space-size={}", (bytes >> 20).max(16)));
            }
            limits.address_space_bytes = None;
        }
        argv.push(script.to_string());
        Job {
            argv,
            files,
            limits,
            read_paths: self.read_paths.clone(),
            ..Job::default()
        }
    }
}

fn canonical(path: &Path) -> Result<PathBuf, SandboxError> {
    path.canonicalize().map_err(|e| SandboxError::Io {
        context: format!("resolving interpreter {}", path.display()),
        source: e,
    })
}

/// One hidden test: Python code run after the solution, in its namespace;
/// it passes when it completes (typically a few `assert`s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCase {
    pub name: String,
    pub code: String,
}

/// The verdict of one test, with its full execution record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestVerdict {
    pub name: String,
    pub passed: bool,
    pub execution: Execution,
}

/// Item result: `score` = 100 × passed / total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PythonTestReport {
    pub passed: usize,
    pub total: usize,
    pub score: f64,
    pub verdicts: Vec<TestVerdict>,
    pub isolation: IsolationLevel,
    pub interpreter: String,
}

impl TestVerdict {
    /// A test passed when its execution succeeded and the harness printed the
    /// per-execution `token` last (see the harness scripts); the token is
    /// harness plumbing, so it is cut from the stored output.
    pub fn judge(name: &str, mut execution: Execution, token: &str) -> TestVerdict {
        let marker = format!("\n{token}\n");
        let passed = execution.success() && execution.stdout.tail.ends_with(&marker);
        if passed {
            let keep = execution.stdout.tail.len() - marker.len();
            execution.stdout.tail.truncate(keep);
        }
        TestVerdict {
            name: name.to_string(),
            passed,
            execution,
        }
    }
}

impl PythonTestReport {
    /// Score = 100 × passed / total (0 for no tests).
    pub fn from_verdicts(
        verdicts: Vec<TestVerdict>,
        isolation: IsolationLevel,
        interpreter: String,
    ) -> Self {
        let passed = verdicts.iter().filter(|v| v.passed).count();
        let total = verdicts.len();
        let score = if total == 0 {
            0.0
        } else {
            100.0 * passed as f64 / total as f64
        };
        PythonTestReport {
            passed,
            total,
            score,
            verdicts,
            isolation,
            interpreter,
        }
    }
}

/// Runs a solution against test snippets, each test with its own verdict,
/// duration, outcome and output, so that one crashing or hanging test costs
/// only itself.
#[derive(Debug, Clone)]
pub struct PythonRunner {
    pub sandbox: Arc<Sandbox>,
    pub python: Interpreter,
    pub limits: Limits,
}

impl PythonRunner {
    pub fn new(sandbox: Arc<Sandbox>, python: Interpreter, limits: Limits) -> Self {
        PythonRunner {
            sandbox,
            python,
            limits,
        }
    }

    /// As [`PythonRunner::run_tests`], on a warm worker: the solution is
    /// loaded once per item process and the tests run in it one after
    /// another ([`WarmPython::run_suite`]); the worker's limits apply.
    pub async fn run_tests_warm(
        &self,
        worker: &mut WarmPython,
        solution: &str,
        tests: &[TestCase],
    ) -> Result<PythonTestReport, SandboxError> {
        let suite: Vec<(String, String)> = tests
            .iter()
            .map(|t| (t.code.clone(), random_token()))
            .collect();
        let executions = worker.run_suite(solution, &suite).await?;
        let verdicts = tests
            .iter()
            .zip(&suite)
            .zip(executions)
            .map(|((test, (_, token)), e)| TestVerdict::judge(&test.name, e, token))
            .collect();
        Ok(self.report(verdicts, worker.isolation()))
    }

    /// Run every test, each in its own cold sandboxed process running the
    /// harness (`harness.py`: the per-execution token on stdin,
    /// `solution.py` and `test.py` beside it). Timeouts, crashes and output
    /// floods are failed tests; `Err` only when the sandbox itself fails.
    pub async fn run_tests(
        &self,
        solution: &str,
        tests: &[TestCase],
    ) -> Result<PythonTestReport, SandboxError> {
        let mut verdicts = Vec::with_capacity(tests.len());
        for test in tests {
            let token = random_token();
            let files = vec![
                ("harness.py".to_string(), HARNESS.as_bytes().to_vec()),
                ("solution.py".to_string(), solution.as_bytes().to_vec()),
                ("test.py".to_string(), test.code.as_bytes().to_vec()),
            ];
            let mut job = self.python.job("harness.py", files, &self.limits);
            job.stdin = format!("{token}\n").into_bytes();
            let execution = self.sandbox.run(&job).await?;
            verdicts.push(TestVerdict::judge(&test.name, execution, &token));
        }
        Ok(self.report(verdicts, self.sandbox.isolation().clone()))
    }

    fn report(&self, verdicts: Vec<TestVerdict>, isolation: IsolationLevel) -> PythonTestReport {
        PythonTestReport::from_verdicts(
            verdicts,
            isolation,
            format!("python {}", self.python.version),
        )
    }
}

/// 128 bits from the kernel's CSPRNG, hex-encoded.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom fills the live buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // getrandom cannot fail for 16 bytes after boot; fall back to time + pid.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return format!("{:x}{:x}", t.as_nanos(), std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
