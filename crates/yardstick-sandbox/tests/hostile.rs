//! Hostile programs: each must be contained (scored as a failure or
//! neutralised), leave nothing running on the host, and leave the harness
//! healthy (a normal job still passes right after).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{limits, py_job, python, sandbox};
use yardstick_sandbox::{Execution, Outcome};

/// Run `code` with a unique marker in its environment, then check that no
/// process carrying the marker survives and that a normal job still passes.
async fn hostile(code: &str) -> Execution {
    let marker = format!("ys-hostile-{}-{}", std::process::id(), unique());
    let mut job = py_job(code);
    job.env.push(("YS_HOSTILE_MARKER".into(), marker.clone()));
    let exec = sandbox()
        .run(&job)
        .await
        .expect("a hostile job is a job result, never a harness error");
    assert!(
        exec.duration_ms < limits().wall_time_ms + 3_000,
        "wall time not enforced: {} ms",
        exec.duration_ms
    );
    eprintln!(
        "outcome {:?} in {} ms, cpu {:?} ms\nstdout: {}\nstderr: {}",
        exec.outcome,
        exec.duration_ms,
        exec.cpu_time_ms,
        exec.stdout.tail.chars().take(600).collect::<String>(),
        exec.stderr
            .tail
            .chars()
            .rev()
            .take(300)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
    assert_no_survivors(&marker).await;
    assert_healthy().await;
    exec
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn assert_no_survivors(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let survivors = processes_with(marker);
        if survivors.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes outlived the job: {survivors:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(env) = std::fs::read(entry.path().join("environ")) {
            if env.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                // A zombie holds no resources and is reaped by its parent.
                if !state.contains(") Z ") {
                    found.push(state);
                }
            }
        }
    }
    found
}

async fn assert_healthy() {
    let exec = sandbox()
        .run(&py_job("print(sum(range(10)))"))
        .await
        .unwrap();
    assert!(
        exec.success() && exec.stdout.tail == "45\n",
        "harness unhealthy after a hostile job: {exec:#?}"
    );
}

fn out(exec: &Execution) -> &str {
    &exec.stdout.tail
}

#[tokio::test]
async fn fork_bomb() {
    let exec = hostile(
        "import os\n\
         while True:\n\
         \x20   try:\n\
         \x20       os.fork()\n\
         \x20   except OSError:\n\
         \x20       pass\n",
    )
    .await;
    assert!(!exec.success(), "{exec:#?}");
}

#[tokio::test]
async fn memory_bomb() {
    let exec = hostile("chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))\n").await;
    assert!(!exec.success());
    assert!(exec.stderr.tail.contains("MemoryError"), "{exec:#?}");
    assert!(
        exec.max_rss_kb.unwrap() < (1 << 20) + (64 << 10),
        "{exec:#?}"
    );
}

#[tokio::test]
async fn infinite_loop() {
    let exec = hostile("while True:\n    pass\n").await;
    // RLIMIT_CPU: SIGXCPU at 2 s of CPU (SIGKILL a second later).
    assert!(
        matches!(exec.outcome, Outcome::Signaled { signal } if signal == libc::SIGXCPU || signal == libc::SIGKILL)
            || exec.outcome == Outcome::WallTimeout,
        "{exec:#?}"
    );
}

#[tokio::test]
async fn child_spinning_after_its_parent_exits() {
    let exec = hostile(
        "import os\n\
         if os.fork() == 0:\n\
         \x20   while True:\n\
         \x20       pass\n\
         print('parent done', flush=True)\n",
    )
    .await;
    // The parent exits at once; its orphan dies with the PID namespace.
    assert!(exec.success(), "{exec:#?}");
    assert!(
        exec.duration_ms < 2_000,
        "the orphan kept the job alive: {exec:#?}"
    );
}

#[tokio::test]
async fn sleeping_forever() {
    let exec = hostile("import time\ntime.sleep(10**6)\n").await;
    assert_eq!(exec.outcome, Outcome::WallTimeout);
}

#[tokio::test]
async fn sockets_to_loopback_and_outside() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let exec = hostile(&format!(
        "import socket\n\
         for family, kind, addr in [(socket.AF_INET, socket.SOCK_STREAM, ('127.0.0.1', {port})),\n\
         \x20                          (socket.AF_INET, socket.SOCK_STREAM, ('1.1.1.1', 80)),\n\
         \x20                          (socket.AF_INET, socket.SOCK_DGRAM, ('8.8.8.8', 53)),\n\
         \x20                          (socket.AF_INET6, socket.SOCK_STREAM, ('::1', {port}))]:\n\
         \x20   try:\n\
         \x20       s = socket.socket(family, kind)\n\
         \x20       s.settimeout(1)\n\
         \x20       s.connect(addr)\n\
         \x20       s.send(b'x')\n\
         \x20       print('CONNECTED', addr)\n\
         \x20   except OSError as e:\n\
         \x20       print('blocked', addr, e.errno)\n"
    ))
    .await;
    assert!(exec.success(), "{exec:#?}");
    assert!(!out(&exec).contains("CONNECTED"), "{}", out(&exec));
    assert_eq!(out(&exec).matches("blocked").count(), 4, "{}", out(&exec));
    assert!(
        listener.accept().is_err(),
        "the job reached a loopback listener on the host"
    );
}

#[tokio::test]
async fn parent_environment_and_other_processes() {
    let exec = hostile(
        "import os\n\
         print('env', sorted(os.environ))\n\
         pids = [p for p in os.listdir('/proc') if p.isdigit()]\n\
         print('pids', len(pids))\n\
         for p in pids + ['self']:\n\
         \x20   for f in ('environ', 'cmdline'):\n\
         \x20       try:\n\
         \x20           print(p, f, open(f'/proc/{p}/{f}', 'rb').read())\n\
         \x20       except OSError as e:\n\
         \x20           print(p, f, 'denied', e.errno)\n",
    )
    .await;
    assert!(exec.success(), "{exec:#?}");
    let text = out(&exec);
    // Only the job's own namespace is visible: its init (the shim's child) and itself.
    let pids: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("pids "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(pids <= 2, "{text}");
    // Nothing of the test process's environment (HOME=/root, CARGO_*, PATH of the host…) leaks.
    // The shim's command line carries no job spec (it arrives on a memfd).
    assert!(!text.contains("argv") && !text.contains("cgroup"), "{text}");
    for secret in ["CARGO", "HOME=/root", "RUST", "SSH", "KEY", "TOKEN"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[tokio::test]
async fn reading_outside_the_working_directory() {
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("yardstick.db");
    std::fs::write(&secret, "TOP-SECRET-ROWS").unwrap();
    let targets = [
        secret.display().to_string(),
        "/etc/shadow".into(),
        "/root/.bashrc".into(),
        "/root".into(),
        std::env::current_dir()
            .unwrap()
            .join("Cargo.toml")
            .display()
            .to_string(),
        "/sys/class/net".into(),
        "/tmp".into(),
    ];
    let list = targets
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let exec = hostile(&format!(
        "import os\n\
         for t in [{list}]:\n\
         \x20   try:\n\
         \x20       data = os.listdir(t) if os.path.isdir(t) else open(t).read()\n\
         \x20       print('READ', t, str(data)[:80])\n\
         \x20   except OSError as e:\n\
         \x20       print('denied', t, e.errno)\n"
    ))
    .await;
    assert!(exec.success(), "{exec:#?}");
    let text = out(&exec);
    assert!(
        !text.contains("READ") && !text.contains("TOP-SECRET"),
        "{text}"
    );
    assert_eq!(text.matches("denied").count(), targets.len(), "{text}");
}

#[tokio::test]
async fn writing_outside_the_working_directory() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("escaped.txt");
    let exec = hostile(&format!(
        "import os\n\
         for t in [{target:?}, '/tmp/yardstick-escaped', '../escaped', '/root/escaped', '/dev/shm/escaped']:\n\
         \x20   try:\n\
         \x20       open(t, 'w').write('x')\n\
         \x20       print('WROTE', t)\n\
         \x20   except OSError as e:\n\
         \x20       print('denied', t, e.errno)\n\
         try:\n\
         \x20   os.symlink('/etc/passwd', 'link'); open('link', 'a').write('x'); print('WROTE link')\n\
         except OSError as e:\n\
         \x20   print('denied link', e.errno)\n\
         open('inside.txt', 'w').write('fine')\n\
         print('inside ok')\n",
        target = target.display().to_string()
    ))
    .await;
    assert!(exec.success(), "{exec:#?}");
    let text = out(&exec);
    assert!(
        !text.contains("WROTE") && text.contains("inside ok"),
        "{text}"
    );
    assert!(
        !target.exists()
            && !Path::new("/tmp/yardstick-escaped").exists()
            && !Path::new("/root/escaped").exists()
    );
}

#[tokio::test]
async fn one_gigabyte_of_output() {
    let exec = hostile("import sys\nchunk = b'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.buffer.write(chunk)\n").await;
    assert_eq!(exec.outcome, Outcome::OutputLimit, "{:?}", exec.outcome);
    assert!(
        exec.stdout.total_bytes <= limits().output_bytes + (1 << 20),
        "{}",
        exec.stdout.total_bytes
    );
    assert!(exec.stdout.tail.len() <= 16 << 10);
}

#[tokio::test]
async fn one_gigabyte_file() {
    let exec = hostile(
        "chunk = b'x' * (1 << 20)\n\
         try:\n\
         \x20   with open('big', 'wb') as f:\n\
         \x20       for _ in range(1024):\n\
         \x20           f.write(chunk)\n\
         \x20   print('WROTE 1 GB')\n\
         except OSError as e:\n\
         \x20   print('stopped', e.errno)\n",
    )
    .await;
    assert!(
        out(&exec).contains(&format!("stopped {}", libc::EFBIG)),
        "{exec:#?}"
    );
}

#[tokio::test]
async fn deleting_its_own_directory() {
    let exec = hostile(
        "import os, shutil\n\
         cwd = os.getcwd()\n\
         try:\n\
         \x20   shutil.rmtree(cwd)\n\
         \x20   print('REMOVED')\n\
         except OSError as e:\n\
         \x20   print('denied', e.errno)\n\
         print('left', os.listdir(cwd))\n\
         os.chdir('/')\n\
         try:\n\
         \x20   os.rename(cwd, cwd + '-moved'); print('MOVED')\n\
         except OSError as e:\n\
         \x20   print('denied', e.errno)\n",
    )
    .await;
    // Its files are its own to delete; the directory entry itself lives in
    // the parent directory, which Landlock does not let it modify.
    let text = out(&exec);
    assert!(exec.success(), "{exec:#?}");
    assert!(
        text.contains("left []") && !text.contains("REMOVED") && !text.contains("MOVED"),
        "{text}"
    );
}

#[tokio::test]
async fn killing_its_parent_and_everyone() {
    let exec = hostile(
        "import os, signal\n\
         for target in (os.getppid(), 1, -1, 0):\n\
         \x20   try:\n\
         \x20       os.kill(target, signal.SIGKILL) if target else None\n\
         \x20       print('sent', target)\n\
         \x20   except OSError as e:\n\
         \x20       print('denied', target, e.errno)\n\
         print('still here')\n",
    )
    .await;
    // Signals cannot leave the job's Landlock domain; the shim and init survive.
    assert!(
        exec.success() && out(&exec).contains("still here"),
        "{exec:#?}"
    );
}

#[tokio::test]
async fn changing_limits() {
    let exec = hostile(
        "import resource\n\
         for res in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE):\n\
         \x20   soft, hard = resource.getrlimit(res)\n\
         \x20   for new in ((hard, hard), (resource.RLIM_INFINITY, resource.RLIM_INFINITY)):\n\
         \x20       try:\n\
         \x20           resource.setrlimit(res, new)\n\
         \x20           print('CHANGED', res, new)\n\
         \x20       except (OSError, ValueError) as e:\n\
         \x20           print('denied', res, e)\n\
         print('cpu', resource.getrlimit(resource.RLIMIT_CPU))\n",
    )
    .await;
    let text = out(&exec);
    assert!(
        !text.contains("CHANGED") && text.contains("cpu (2, 3)"),
        "{exec:#?}"
    );
}

#[tokio::test]
async fn ctypes_raw_system_calls() {
    // x86_64 numbers: ptrace 101, mount 165, unshare 272, setns 308, bpf 321,
    // socket 41, keyctl 250, kexec_load 246, reboot 169, io_uring_setup 425,
    // perf_event_open 298, setsid 112, clone 56 (with CLONE_NEWUSER).
    let exec = hostile(
        "import ctypes, os\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         calls = {\n\
         \x20   'ptrace': (101, 16, 1, 0, 0),\n\
         \x20   'mount': (165, b'none', b'/tmp', b'tmpfs', 0, 0),\n\
         \x20   'unshare_user': (272, 0x10000000),\n\
         \x20   'unshare_net': (272, 0x40000000),\n\
         \x20   'setns': (308, 0, 0),\n\
         \x20   'bpf': (321, 0, 0, 0),\n\
         \x20   'socket_inet': (41, 2, 1, 0),\n\
         \x20   'socket_netlink': (41, 16, 3, 0),\n\
         \x20   'keyctl': (250, 0, 0, 0),\n\
         \x20   'kexec_load': (246, 0, 0, 0, 0),\n\
         \x20   'reboot': (169, 0xfee1dead, 672274793, 0x4321fedc, 0),\n\
         \x20   'io_uring_setup': (425, 8, 0),\n\
         \x20   'perf_event_open': (298, 0, 0, -1, -1, 0),\n\
         \x20   'setsid': (112,),\n\
         \x20   'clone_newuser': (56, 0x10000000 | 17, 0, 0, 0, 0),\n\
         }\n\
         for name, args in calls.items():\n\
         \x20   r = libc.syscall(*args)\n\
         \x20   if r == 0:\n\
         \x20       os._exit(0) if name == 'clone_newuser' else None\n\
         \x20   print(name, r, ctypes.get_errno())\n",
    )
    .await;
    assert!(exec.success(), "{exec:#?}");
    let text = out(&exec);
    assert_eq!(text.lines().count(), 15, "{text}");
    for line in text.lines() {
        assert!(
            line.ends_with(&format!(" -1 {}", libc::EPERM)),
            "not refused with EPERM: {line}\n{text}"
        );
    }
}

#[tokio::test]
async fn node_is_contained_too() {
    let Some(node) = yardstick_sandbox::Interpreter::node() else {
        eprintln!("node not installed: skipped");
        return;
    };
    let code = "const net = require('net'); const fs = require('fs');\n\
                let r = [];\n\
                try { fs.readFileSync('/etc/shadow'); r.push('READ'); } catch (e) { r.push('denied ' + e.code); }\n\
                try { fs.writeFileSync('/tmp/ys-node-escape', 'x'); r.push('WROTE'); } catch (e) { r.push('denied ' + e.code); }\n\
                const s = net.connect(80, '1.1.1.1');\n\
                s.on('connect', () => { console.log('CONNECTED'); process.exit(0); });\n\
                s.on('error', (e) => { r.push('blocked ' + e.code); console.log(r.join('\\n')); });\n";
    let job = node.job(
        "main.js",
        vec![("main.js".into(), code.as_bytes().to_vec())],
        &limits(),
    );
    let exec = sandbox().run(&job).await.unwrap();
    let text = &exec.stdout.tail;
    assert!(exec.success(), "{exec:#?}");
    assert!(
        !text.contains("READ") && !text.contains("WROTE") && !text.contains("CONNECTED"),
        "{text}"
    );
    assert_eq!(
        text.matches("denied").count() + text.matches("blocked").count(),
        3,
        "{text}"
    );
    let _ = python();

    // A JS heap bomb hits the V8 heap limit derived from the address-space limit.
    let bomb = "const a = []; while (true) { a.push(new Array(1 << 20).fill(1.5)); }\n";
    let job = node.job(
        "bomb.js",
        vec![("bomb.js".into(), bomb.as_bytes().to_vec())],
        &limits(),
    );
    let exec = sandbox().run(&job).await.unwrap();
    assert!(!exec.success(), "{exec:#?}");
    assert!(exec.max_rss_kb.unwrap() < 2 << 20, "{exec:#?}");
}

#[tokio::test]
async fn unix_sockets_of_host_services() {
    // A host service listening on a path (think /run/mysqld/mysqld.sock).
    // Landlock (up to ABI 6) does not mediate connect() to a path socket, so
    // seccomp refuses socket() for every family.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let exec = hostile(&format!(
        "import socket\n\
         for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):\n\
         \x20   try:\n\
         \x20       s = socket.socket(socket.AF_UNIX, kind)\n\
         \x20       s.connect({path:?})\n\
         \x20       print('CONNECTED', kind)\n\
         \x20   except OSError as e:\n\
         \x20       print('blocked', kind, e.errno)\n\
         try:\n\
         \x20   a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         \x20   a.sendto(b'x', {path:?})\n\
         \x20   print('SENT')\n\
         except OSError as e:\n\
         \x20   print('blocked dgram pair', e.errno)\n\
         a, b = socket.socketpair()\n\
         a.sendall(b'ping')\n\
         print('pair', b.recv(4))\n",
        path = path.display().to_string()
    ))
    .await;
    let text = out(&exec);
    assert!(exec.success(), "{exec:#?}");
    assert!(
        !text.contains("CONNECTED") && !text.contains("SENT"),
        "{text}"
    );
    assert_eq!(text.matches("blocked").count(), 4, "{text}");
    // Stream socket pairs (multiprocessing, asyncio) still work.
    assert!(text.contains("pair b'ping'"), "{text}");
    assert!(
        listener.accept().is_err(),
        "the job reached a host Unix socket"
    );
}

#[tokio::test]
async fn filling_the_disk() {
    // RLIMIT_FSIZE bounds each file; the tmpfs working directory (64 MiB by
    // default) bounds the total, so the host's disk is never filled.
    let exec = hostile(
        "chunk = b'x' * (8 << 20)\n\
         written = 0\n\
         try:\n\
         \x20   for i in range(200):\n\
         \x20       with open(f'f{i}', 'wb') as f:\n\
         \x20           f.write(chunk)\n\
         \x20       written += len(chunk)\n\
         \x20   print('WROTE ALL')\n\
         except OSError as e:\n\
         \x20   print('stopped', e.errno, written >> 20)\n",
    )
    .await;
    let text = out(&exec);
    assert!(
        text.starts_with(&format!("stopped {} ", libc::ENOSPC)),
        "{exec:#?}"
    );
    let mib: u64 = text.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(mib <= 64, "{text}");
}

#[tokio::test]
async fn memory_bomb_across_processes() {
    // Each process stays under RLIMIT_AS (1 GiB) but together they would
    // take 6 GiB: the job's memory cgroup (1 GiB) OOM-kills inside the job.
    if !sandbox().isolation().cgroup_memory {
        eprintln!("no writable memory cgroup: skipped");
        return;
    }
    let exec = hostile(
        "import os, time\n\
         kids = []\n\
         for i in range(8):\n\
         \x20   pid = os.fork()\n\
         \x20   if pid == 0:\n\
         \x20       block = b'x' * (750 << 20)\n\
         \x20       time.sleep(1)\n\
         \x20       os._exit(0)\n\
         \x20   kids.append(pid)\n\
         codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]\n\
         print('survivors', codes.count(0), 'killed', codes.count(-9))\n",
    )
    .await;
    let text = out(&exec);
    // Either the parent reports OOM kills among its children, or it was
    // OOM-killed itself; at most one 750 MiB child fits.
    if let Some(rest) = text.strip_prefix("survivors ") {
        let survivors: usize = rest.split(' ').next().unwrap().parse().unwrap();
        assert!(survivors <= 1, "{text}");
    } else {
        assert!(
            matches!(exec.outcome, Outcome::Signaled { signal: 9 }),
            "{exec:#?}"
        );
    }
}

/// A warm worker's item process runs the tests of a solution one after
/// another: a test that ends it (killing itself, a CPU spin, a flood, an
/// exit) fails alone; one that tries to kill the worker or everyone is
/// refused; one that leaves a process, a thread or an alarm behind to kill
/// the item process during the next test cannot hurt that test.
#[tokio::test]
async fn suite_tests_that_attack_the_item_process_fail_alone() {
    // One CPU second per test, and a wall time long enough for the CPU
    // limit to act first even on a loaded machine.
    let limits = yardstick_sandbox::Limits {
        cpu_seconds: 1,
        wall_time_ms: 15_000,
        ..limits()
    };
    let mut worker = yardstick_sandbox::WarmPython::start(sandbox(), python(), limits)
        .await
        .unwrap();
    let solution = "import os, signal, sys, threading, time\ndef ok():\n    return True\n";
    let sleeper = "time.sleep(1)\nassert ok()";
    let tests = [
        ("passes", "assert ok()"),
        ("kills the worker", "try:\n    os.kill(os.getppid(), 9)\nexcept PermissionError:\n    pass\nassert ok()"),
        ("kills everyone", "try:\n    os.kill(-1, 9)\nexcept PermissionError:\n    pass\nassert ok()"),
        ("kills itself", "os.kill(os.getpid(), 9)"),
        (
            "leaves a killer process",
            "me = os.getpid()\nif os.fork() == 0:\n    time.sleep(0.3)\n    os.kill(me, 9)\n    os._exit(0)\nassert ok()",
        ),
        ("runs while the process would strike", sleeper),
        (
            "leaves a killer thread",
            "threading.Thread(target=lambda: (time.sleep(0.3), os._exit(0)), daemon=True).start()\nassert ok()",
        ),
        ("runs while the thread would strike", sleeper),
        ("sets an alarm", "signal.alarm(1)\nassert ok()"),
        ("runs while the alarm would ring", "time.sleep(1.2)\nassert ok()"),
        ("spins", "while True: pass"),
        // Together more than the CPU limit: each test has its own budget.
        ("uses most of its CPU", "t = time.process_time()\nwhile time.process_time() - t < 0.7: pass\nassert ok()"),
        ("uses most of its CPU again", "t = time.process_time()\nwhile time.process_time() - t < 0.7: pass\nassert ok()"),
        ("floods", "sys.stdout.write('x' * (2 << 20))"),
        ("exits", "sys.exit(0)"),
        ("passes at the end", "assert ok()"),
    ];
    let suite: Vec<(String, String)> = tests
        .iter()
        .enumerate()
        .map(|(i, (_, code))| (code.to_string(), format!("token{i}")))
        .collect();
    let executions = worker.run_suite(solution, &suite).await.unwrap();
    for ((name, _), e) in tests.iter().zip(&executions) {
        eprintln!(
            "{name}: {:?} in {} ms, cpu {:?} ms",
            e.outcome, e.duration_ms, e.cpu_time_ms
        );
    }
    let outcome = |name: &str| {
        let i = tests.iter().position(|(n, _)| *n == name).unwrap();
        executions[i].outcome.clone()
    };
    let failing = ["kills itself", "spins", "floods", "exits"];
    for (((name, _), e), (_, token)) in tests.iter().zip(&executions).zip(&suite) {
        let passed = e.success() && e.stdout.tail.ends_with(&format!("\n{token}\n"));
        assert_eq!(passed, !failing.contains(name), "{name}: {e:#?}");
    }
    assert_eq!(outcome("kills itself"), Outcome::Signaled { signal: 9 });
    assert!(matches!(
        outcome("spins"),
        Outcome::Signaled {
            signal: libc::SIGXCPU
        } | Outcome::WallTimeout
    ));
    assert_eq!(outcome("floods"), Outcome::OutputLimit);
    assert_eq!(outcome("exits"), Outcome::Exited { code: 3 });
    // The worker is still healthy.
    let e = worker
        .run(
            "main.py",
            &[("main.py".into(), b"print(6 * 7)\n".to_vec())],
            b"",
        )
        .await
        .unwrap();
    assert!(e.success() && e.stdout.tail == "42\n", "{e:#?}");
    worker.shutdown().await;
}
