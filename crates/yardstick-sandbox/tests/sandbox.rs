//! The sandbox runs ordinary programs faithfully and reports its isolation.

mod common;

use common::{py_job, sandbox};
use yardstick_sandbox::Outcome;

#[tokio::test]
async fn runs_python_and_reports_isolation() {
    let sb = sandbox();
    let mut job = py_job(
        "import os, sys\n\
         print('hello', sys.stdin.read().strip())\n\
         print(sorted(os.environ))\n\
         print(os.getcwd() == os.environ['HOME'])\n\
         print(open('data.txt').read())\n\
         open('out.txt', 'w').write('ok')\n\
         print('pid', os.getpid())\n\
         sys.exit(7)\n",
    );
    job.files.push(("data.txt".into(), b"payload".to_vec()));
    job.stdin = b"world\n".to_vec();
    let exec = sb.run(&job).await.unwrap();
    eprintln!("{exec:#?}");
    assert_eq!(exec.outcome, Outcome::Exited { code: 7 });
    let out = &exec.stdout.tail;
    assert!(out.contains("hello world"), "{out}");
    assert!(out.contains("['HOME', 'LANG', 'LC_ALL', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONHASHSEED', 'PYTHONUNBUFFERED', 'TMPDIR']"), "{out}");
    assert!(out.contains("True\npayload"), "{out}");
    assert!(exec.isolation.is_confined(), "{}", exec.isolation);
    eprintln!("isolation: {}", exec.isolation);
}

#[tokio::test]
async fn stderr_and_signals_are_reported() {
    let exec = sandbox()
        .run(&py_job("import os, sys, signal\nsys.stderr.write('boom\\n')\nsys.stderr.flush()\nos.kill(os.getpid(), signal.SIGSEGV)\n"))
        .await
        .unwrap();
    assert_eq!(
        exec.outcome,
        Outcome::Signaled {
            signal: libc::SIGSEGV
        },
        "{exec:#?}"
    );
    assert_eq!(exec.stderr.tail, "boom\n");
}

#[tokio::test]
async fn setup_failure_is_a_sandbox_error_not_a_job_result() {
    let mut job = py_job("print('never')");
    job.argv[0] = "/nonexistent/python3".into();
    let err = sandbox().run(&job).await.unwrap_err();
    assert!(
        matches!(&err, yardstick_sandbox::SandboxError::Setup(m) if m.contains("execve")),
        "{err}"
    );
    let mut job = py_job("print('never')");
    job.argv[0] = "python3".into();
    assert!(matches!(
        sandbox().run(&job).await,
        Err(yardstick_sandbox::SandboxError::InvalidJob(_))
    ));
    job.argv[0] = common::python().program.display().to_string();
    job.files.push(("../escape.py".into(), b"x".to_vec()));
    assert!(matches!(
        sandbox().run(&job).await,
        Err(yardstick_sandbox::SandboxError::InvalidJob(_))
    ));
}

#[tokio::test]
async fn allow_unconfined_runs_with_fewer_layers_and_says_so() {
    let mut caps = yardstick_sandbox::probe();
    caps.pid_namespace = false;
    caps.net_namespace = false;
    caps.cgroup_pids = None;
    let config =
        yardstick_sandbox::SandboxConfig::new(env!("CARGO_BIN_EXE_yardstick-sandbox-shim"), vec![]);
    assert!(matches!(
        yardstick_sandbox::Sandbox::with_capabilities(config.clone(), caps.clone()),
        Err(yardstick_sandbox::SandboxError::Unconfined { .. })
    ));
    let weak = yardstick_sandbox::Sandbox::with_capabilities(
        yardstick_sandbox::SandboxConfig {
            allow_unconfined: true,
            ..config
        },
        caps,
    )
    .unwrap();
    let exec = weak
        .run(&py_job("import os\nprint(os.getpid() > 2)"))
        .await
        .unwrap();
    assert!(exec.success() && exec.stdout.tail == "True\n", "{exec:#?}");
    assert!(!exec.isolation.pid_namespace && !exec.isolation.net_namespace);
    assert!(!exec.isolation.is_confined());
    assert!(
        exec.isolation.summary().starts_with("ipcns+landlock("),
        "{}",
        exec.isolation
    );
}
