//! The warm worker: same results as cold runs, per-job confinement, and
//! nothing of one job survives into the next.

mod common;

use common::{limits, python, sandbox};
use yardstick_sandbox::{Outcome, WarmPython};

fn files(code: &str) -> Vec<(String, Vec<u8>)> {
    vec![("main.py".into(), code.as_bytes().to_vec())]
}

#[tokio::test]
async fn runs_jobs_and_contains_them() {
    let mut w = WarmPython::start(sandbox(), python(), limits())
        .await
        .unwrap();
    assert!(w.isolation().warm_worker && w.isolation().summary().ends_with("+warm"));

    let e = w
        .run(
            "main.py",
            &files("import sys\nprint('hi', sys.stdin.read())\nsys.exit(3)\n"),
            b"there",
        )
        .await
        .unwrap();
    assert_eq!(e.outcome, Outcome::Exited { code: 3 }, "{e:#?}");
    assert_eq!(e.stdout.tail, "hi there\n");

    let e = w
        .run("main.py", &files("raise ValueError('bad')\n"), b"")
        .await
        .unwrap();
    assert_eq!(e.outcome, Outcome::Exited { code: 1 });
    assert!(e.stderr.tail.contains("ValueError: bad"), "{e:#?}");

    // A job's files and writes stay in its own directory, and the next job starts clean.
    let e = w
        .run(
            "main.py",
            &files("import os\nprint(sorted(os.listdir('.')))\nopen('x', 'w').write('1')\nprint(os.listdir('..'))\n"),
            b"",
        )
        .await
        .unwrap();
    assert!(e.stdout.tail.starts_with("['main.py']\n"), "{e:#?}");
    assert!(
        !e.stdout.tail.contains("server.py"),
        "the job could list the worker's directory: {e:#?}"
    );
    let e = w
        .run(
            "main.py",
            &files("import os\nfor p in ['../../server.py', '../../worker.json', '/etc/shadow']:\n    try:\n        open(p).read(); print('READ', p)\n    except OSError as e:\n        print('denied', e.errno)\ntry:\n    open('../escape', 'w'); print('WROTE')\nexcept OSError as e:\n    print('denied', e.errno)\n"),
            b"",
        )
        .await
        .unwrap();
    assert!(
        !e.stdout.tail.contains("READ") && !e.stdout.tail.contains("WROTE"),
        "{e:#?}"
    );

    // An orphan spinning after its parent exited is killed with the job.
    let e = w
        .run(
            "main.py",
            &files(
                "import os, time\nif os.fork() == 0:\n    while True: pass\nprint('parent done')\n",
            ),
            b"",
        )
        .await
        .unwrap();
    assert!(e.success(), "{e:#?}");
    let e = w
        .run(
            "main.py",
            &files("import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]))\n"),
            b"",
        )
        .await
        .unwrap();
    // init, the worker, this job: no leftover from the previous job.
    assert_eq!(e.stdout.tail, "3\n", "{e:#?}");

    // The worker's memory and environment are out of reach (Landlock
    // forbids ptrace-class access from the job's nested domain).
    let e = w
        .run(
            "main.py",
            &files("import os\nfor f in ('mem', 'environ', 'maps'):\n    try:\n        open(f'/proc/{os.getppid()}/{f}', 'rb').read(1); print('READ', f)\n    except OSError as e:\n        print('denied', f, e.errno)\n"),
            b"",
        )
        .await
        .unwrap();
    assert!(
        !e.stdout.tail.contains("READ") && e.stdout.tail.matches("denied").count() == 3,
        "{e:#?}"
    );

    // No sockets (a Unix socket could reach host services), stream pairs work.
    let e = w
        .run(
            "main.py",
            &files("import socket\ntry:\n    socket.socket(socket.AF_UNIX); print('SOCKET')\nexcept OSError as e:\n    print('denied', e.errno)\na, b = socket.socketpair(); a.sendall(b'ok'); print(b.recv(2))\n"),
            b"",
        )
        .await
        .unwrap();
    assert_eq!(
        e.stdout.tail,
        format!("denied {}\nb'ok'\n", libc::EPERM),
        "{e:#?}"
    );

    // Limits and timeouts per job.
    let e = w
        .run("main.py", &files("while True: pass\n"), b"")
        .await
        .unwrap();
    assert!(
        matches!(e.outcome, Outcome::Signaled { signal } if signal == libc::SIGXCPU),
        "{e:#?}"
    );
    let e = w
        .run("main.py", &files("import time\ntime.sleep(60)\n"), b"")
        .await
        .unwrap();
    assert_eq!(e.outcome, Outcome::WallTimeout);
    let e = w
        .run(
            "main.py",
            &files("import sys\nwhile True: sys.stdout.write('x' * 65536)\n"),
            b"",
        )
        .await
        .unwrap();
    assert_eq!(e.outcome, Outcome::OutputLimit);
    let e = w
        .run("main.py", &files("import resource\nresource.setrlimit(resource.RLIMIT_CPU, (3, 3))\nprint('CHANGED')\n"), b"")
        .await
        .unwrap();
    assert!(!e.stdout.tail.contains("CHANGED"), "{e:#?}");
    let e = w
        .run("main.py", &files("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.syscall(272, 0x10000000), ctypes.get_errno())\n"), b"")
        .await
        .unwrap();
    assert_eq!(e.stdout.tail, format!("-1 {}\n", libc::EPERM), "{e:#?}");
    let e = w
        .run(
            "main.py",
            &files("chunks = []\nwhile True: chunks.append(bytearray(64 << 20))\n"),
            b"",
        )
        .await
        .unwrap();
    assert!(e.stderr.tail.contains("MemoryError"), "{e:#?}");

    // Killing the worker from a job: signals are scoped, the worker survives.
    let e = w
        .run("main.py", &files("import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL); print('SENT')\nexcept OSError as e:\n    print('denied', e.errno)\n"), b"")
        .await
        .unwrap();
    assert!(!e.stdout.tail.contains("SENT"), "{e:#?}");

    // A fork bomb is bounded and cleaned up; the worker still serves.
    let e = w
        .run(
            "main.py",
            &files("import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n"),
            b"",
        )
        .await
        .unwrap();
    assert!(!e.success());
    let e = w
        .run("main.py", &files("print(6 * 7)\n"), b"")
        .await
        .unwrap();
    assert!(e.success() && e.stdout.tail == "42\n", "{e:#?}");
    w.shutdown().await;
}

/// The worker's between-jobs `kill(-1)` is only safe inside its own PID
/// namespace, so it refuses to start without one, even when unconfined runs
/// are allowed.
#[tokio::test]
async fn refuses_without_a_pid_namespace() {
    let mut caps = yardstick_sandbox::probe();
    caps.pid_namespace = false;
    let mut config =
        yardstick_sandbox::SandboxConfig::new(env!("CARGO_BIN_EXE_yardstick-sandbox-shim"), vec![]);
    config.allow_unconfined = true;
    let weak =
        std::sync::Arc::new(yardstick_sandbox::Sandbox::with_capabilities(config, caps).unwrap());
    let err = WarmPython::start(weak, python(), limits())
        .await
        .err()
        .expect("must refuse");
    assert!(err.to_string().contains("PID"), "{err}");
}
