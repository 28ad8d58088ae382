//! Per-execution overhead of the sandbox against a bare interpreter start.
//!
//! `cargo run --release -p yardstick-sandbox --example overhead [runs]`
//! (needs the shim helper: build it first with `cargo build --release -p yardstick-sandbox`).
//!
//! `DROP=cgroup,pids,mem,net,ipc,pid,mnt,landlock,seccomp` (any subset) disables
//! layers to see what each costs; the sandbox then runs unconfined on purpose.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use yardstick_sandbox::{Interpreter, Job, Limits, Sandbox, SandboxConfig};

fn shim_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/overhead → target/<profile>/yardstick-sandbox-shim
    exe.parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .join("yardstick-sandbox-shim")
}

fn stats(name: &str, mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(samples[samples.len() / 2]);
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    println!(
        "{name:<44} median {median:7.2} ms   mean {mean:7.2} ms   p90 {:7.2} ms",
        ms(samples[samples.len() * 9 / 10])
    );
    median
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let python = Interpreter::python3().expect("python3");
    let mut caps = yardstick_sandbox::probe();
    for layer in std::env::var("DROP").unwrap_or_default().split(',') {
        match layer {
            "cgroup" => {
                caps.cgroup_pids = None;
                caps.cgroup_memory = None;
            }
            "pids" => caps.cgroup_pids = None,
            "mem" => caps.cgroup_memory = None,
            "net" => caps.net_namespace = false,
            "pid" => caps.pid_namespace = false,
            "ipc" => caps.ipc_namespace = false,
            "mnt" => caps.mount_namespace = false,
            "landlock" => caps.landlock_abi = None,
            "seccomp" => caps.seccomp_filter = false,
            _ => {}
        }
    }
    let mut config = SandboxConfig::new(shim_path(), vec![]);
    config.allow_unconfined = true;
    let sandbox = Sandbox::with_capabilities(config, caps).expect("sandbox");
    println!(
        "isolation: {}   interpreter: {} {}",
        sandbox.isolation(),
        python.program.display(),
        python.version
    );

    let mut bare = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let status = std::process::Command::new(&python.program)
            .args(["-I", "-B", "-c", "pass"])
            .status()
            .unwrap();
        assert!(status.success());
        bare.push(t.elapsed());
    }
    let bare = stats("bare `python3 -I -B -c pass` (fork+exec)", bare);

    let mut job = Job {
        argv: vec![
            python.program.to_string_lossy().into_owned(),
            "-I".into(),
            "-B".into(),
            "-c".into(),
            "pass".into(),
        ],
        limits: Limits::default(),
        read_paths: python.read_paths.clone(),
        ..Job::default()
    };
    job.files.push(("main.py".into(), b"pass\n".to_vec()));
    let mut cold = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let exec = sandbox.run(&job).await.unwrap();
        assert!(exec.success(), "{exec:?}");
        cold.push(t.elapsed());
    }
    let cold = stats("sandboxed, cold (shim + namespaces + exec)", cold);
    println!("cold overhead: {:.2} ms", cold - bare);

    // A warm interpreter forking a child per job, without any sandbox: the
    // baseline the warm worker is measured against.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.py"), "pass\n").unwrap();
    let probe = format!(
        "import os, runpy, time, statistics\n\
         os.chdir({dir:?})\n\
         samples = []\n\
         for _ in range({runs}):\n\
         \x20   t = time.perf_counter()\n\
         \x20   pid = os.fork()\n\
         \x20   if pid == 0:\n\
         \x20       runpy.run_path('job.py', run_name='__main__')\n\
         \x20       os._exit(0)\n\
         \x20   os.waitpid(pid, 0)\n\
         \x20   samples.append((time.perf_counter() - t) * 1000)\n\
         print(statistics.median(samples), statistics.mean(samples))\n",
        dir = dir.path().display().to_string()
    );
    let out = std::process::Command::new(&python.program)
        .args(["-I", "-B", "-c", &probe])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().unwrap_or(f64::NAN));
    let (fork_median, fork_mean) = (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN));
    println!(
        "{:<44} median {fork_median:7.2} ms   mean {fork_mean:7.2} ms",
        "bare warm interpreter: fork + run + wait"
    );

    let sandbox = std::sync::Arc::new(sandbox);
    // Refuses (by design) when DROP removed the PID namespace.
    let mut worker = match yardstick_sandbox::WarmPython::start(
        sandbox,
        python.clone(),
        Limits::default(),
    )
    .await
    {
        Ok(worker) => worker,
        Err(e) => {
            println!("warm worker not measured: {e}");
            return;
        }
    };
    let files = vec![("job.py".to_string(), b"pass\n".to_vec())];
    let mut warm = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let exec = worker.run("job.py", &files, b"").await.unwrap();
        assert!(exec.success(), "{exec:?}");
        warm.push(t.elapsed());
    }
    let warm = stats("sandboxed warm worker job (round trip)", warm);
    println!(
        "warm overhead over a bare fork: {:.2} ms",
        warm - fork_median
    );

    // A suite: one item process runs TESTS tests (HumanEval averages 6.7
    // asserts per problem), against the same without a sandbox: a bare fork
    // running the solution and each test in-process.
    const TESTS: usize = 7;
    let solution = "def add(a, b):\n    return a + b\n";
    let test = "assert add(1, 2) == 3\n";
    let probe = format!(
        "import os, time, statistics\n\
         samples = []\n\
         for _ in range({runs}):\n\
         \x20   t = time.perf_counter()\n\
         \x20   pid = os.fork()\n\
         \x20   if pid == 0:\n\
         \x20       for _ in range({TESTS}):\n\
         \x20           ns = {{'__name__': '__solution__'}}\n\
         \x20           exec(compile({solution:?}, 'solution.py', 'exec'), ns)\n\
         \x20           exec(compile({test:?}, 'test.py', 'exec'), ns)\n\
         \x20       os._exit(0)\n\
         \x20   os.waitpid(pid, 0)\n\
         \x20   samples.append((time.perf_counter() - t) * 1000)\n\
         print(statistics.median(samples), statistics.mean(samples))\n"
    );
    let out = std::process::Command::new(&python.program)
        .args(["-I", "-B", "-c", &probe])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().unwrap_or(f64::NAN));
    let (item_median, item_mean) = (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN));
    println!(
        "{:<44} median {item_median:7.2} ms   mean {item_mean:7.2} ms",
        format!("bare item: fork + {TESTS} tests in-process")
    );
    let tests: Vec<(String, String)> = (0..TESTS)
        .map(|i| (test.to_string(), format!("token{i}")))
        .collect();
    let mut suites = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let execs = worker.run_suite(solution, &tests).await.unwrap();
        assert!(execs.iter().all(|e| e.success()), "{execs:?}");
        suites.push(t.elapsed());
    }
    let suite = stats(&format!("sandboxed warm suite of {TESTS} tests"), suites);
    println!(
        "suite overhead over a bare item fork: {:.2} ms per item, {:.2} ms per test",
        suite - item_median,
        (suite - item_median) / TESTS as f64
    );
    worker.shutdown().await;
}
