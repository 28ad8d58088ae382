//! Test-based items: each test its own verdict and execution record, score
//! = passed / total, timeouts and crashes are failed tests — run cold (a
//! process per test) and warm (an item process per solution) alike.

mod common;

use common::{limits, python, sandbox};
use yardstick_sandbox::{Outcome, PythonRunner, PythonTestReport, TestCase, WarmPython};

fn case(name: &str, code: &str) -> TestCase {
    TestCase {
        name: name.into(),
        code: code.into(),
    }
}

/// The report of a cold run and of a warm run, in that order.
async fn cold_and_warm(solution: &str, tests: &[TestCase]) -> [PythonTestReport; 2] {
    let runner = PythonRunner::new(sandbox(), python(), limits());
    let mut worker = WarmPython::start(sandbox(), python(), limits())
        .await
        .unwrap();
    let cold = runner.run_tests(solution, tests).await.unwrap();
    let warm = runner
        .run_tests_warm(&mut worker, solution, tests)
        .await
        .unwrap();
    worker.shutdown().await;
    assert!(warm.isolation.warm_worker && !cold.isolation.warm_worker);
    [cold, warm]
}

#[tokio::test]
async fn scores_passed_over_total() {
    let solution = "def add(a, b):\n    print('adding', a, b)\n    return a + b if a != 2 else 0\n";
    let tests = [
        case("basic", "assert add(1, 2) == 3"),
        case("negative", "assert add(-1, -1) == -2"),
        case("wrong", "assert add(2, 2) == 4, 'two'"),
        case("hangs", "while True: pass"),
    ];
    for report in cold_and_warm(solution, &tests).await {
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
}

#[tokio::test]
async fn early_exit_does_not_pass() {
    for solution in [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "raise SystemExit\n",
        "import atexit, os\natexit.register(lambda: print('late'))\n",
    ] {
        let tests = [
            case("t", "assert True"),
            case("u", "import os\nos._exit(0)"),
        ];
        for report in cold_and_warm(solution, &tests).await {
            let passed: Vec<bool> = report.verdicts.iter().map(|v| v.passed).collect();
            let loads = solution.contains("atexit");
            assert_eq!(passed, [loads, false], "{solution}: {report:#?}");
        }
    }
}

#[tokio::test]
async fn syntax_error_fails_every_test() {
    let tests = [case("a", "pass"), case("b", "pass")];
    for report in cold_and_warm("def f(:\n", &tests).await {
        assert_eq!(report.score, 0.0);
        for v in &report.verdicts {
            assert_eq!(v.execution.outcome, Outcome::Exited { code: 1 });
            assert!(v.execution.stderr.tail.contains("SyntaxError"), "{v:#?}");
        }
    }
}

#[tokio::test]
async fn each_test_starts_from_a_freshly_run_solution_and_tracebacks_show_the_line() {
    let solution = "state = []\ndef push(x):\n    state.append(x)\n    return len(state)\n";
    let tests = [
        case("first", "assert push(1) == 1"),
        case(
            "second",
            "value = push(2) + push(3)\nassert value == 3, f'got {value}'",
        ),
        case("third", "assert push(4) == 2"),
    ];
    for report in cold_and_warm(solution, &tests).await {
        let passed: Vec<bool> = report.verdicts.iter().map(|v| v.passed).collect();
        assert_eq!(passed, [true, true, false], "{report:#?}");
        let stderr = &report.verdicts[2].execution.stderr.tail;
        assert!(
            stderr.contains("test.py\", line 1") && stderr.contains("assert push(4) == 2"),
            "{stderr}"
        );
    }
}
