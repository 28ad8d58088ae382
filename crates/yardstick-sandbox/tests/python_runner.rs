//! Test-based items: each test its own execution, score = passed / total,
//! timeouts and crashes are failed tests.

mod common;

use common::{limits, python, sandbox};
use yardstick_sandbox::{Outcome, PythonRunner, TestCase, WarmPython};

fn case(name: &str, code: &str) -> TestCase {
    TestCase {
        name: name.into(),
        code: code.into(),
    }
}

#[tokio::test]
async fn scores_passed_over_total() {
    let runner = PythonRunner::new(sandbox(), python(), limits());
    let solution = "def add(a, b):\n    print('adding', a, b)\n    return a + b if a != 2 else 0\n";
    let tests = [
        case("basic", "assert add(1, 2) == 3"),
        case("negative", "assert add(-1, -1) == -2"),
        case("wrong", "assert add(2, 2) == 4, 'two'"),
        case("hangs", "while True: pass"),
    ];
    let report = runner.run_tests(solution, &tests).await.unwrap();
    assert_eq!((report.passed, report.total), (2, 4), "{report:#?}");
    assert_eq!(report.score, 50.0);
    let v = &report.verdicts;
    assert!(v[0].passed && v[1].passed && !v[2].passed && !v[3].passed);
    // The token line is stripped from passing output.
    assert_eq!(v[0].execution.stdout.tail, "adding 1 2\n");
    assert!(
        v[2].execution.stderr.tail.contains("AssertionError: two"),
        "{:?}",
        v[2].execution.stderr
    );
    assert!(
        matches!(
            v[3].execution.outcome,
            Outcome::Signaled { .. } | Outcome::WallTimeout
        ),
        "{:?}",
        v[3].execution.outcome
    );
    assert!(report.isolation.is_confined());
}

#[tokio::test]
async fn early_exit_does_not_pass() {
    let runner = PythonRunner::new(sandbox(), python(), limits());
    for solution in [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "raise SystemExit\n",
    ] {
        let report = runner
            .run_tests(solution, &[case("t", "assert False")])
            .await
            .unwrap();
        assert_eq!(report.passed, 0, "{solution}: {report:#?}");
    }
}

#[tokio::test]
async fn syntax_error_fails_every_test() {
    let runner = PythonRunner::new(sandbox(), python(), limits());
    let report = runner
        .run_tests("def f(:\n", &[case("a", "pass"), case("b", "pass")])
        .await
        .unwrap();
    assert_eq!(report.score, 0.0);
    assert!(report.verdicts[0]
        .execution
        .stderr
        .tail
        .contains("SyntaxError"));
}

#[tokio::test]
async fn warm_worker_gives_the_same_verdicts() {
    let runner = PythonRunner::new(sandbox(), python(), limits());
    let mut worker = WarmPython::start(sandbox(), python(), limits())
        .await
        .unwrap();
    let solution = "def add(a, b):\n    return a + b if a != 2 else 0\n";
    let tests = [
        case("basic", "assert add(1, 2) == 3"),
        case("wrong", "assert add(2, 2) == 4"),
        case("exit", "import os\nos._exit(0)"),
    ];
    let cold = runner.run_tests(solution, &tests).await.unwrap();
    let warm = runner
        .run_tests_warm(&mut worker, solution, &tests)
        .await
        .unwrap();
    let verdicts = |r: &yardstick_sandbox::PythonTestReport| {
        r.verdicts.iter().map(|v| v.passed).collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&cold), vec![true, false, false]);
    assert_eq!(verdicts(&warm), verdicts(&cold), "{warm:#?}");
    assert!(warm.isolation.warm_worker && !cold.isolation.warm_worker);
    worker.shutdown().await;
}
