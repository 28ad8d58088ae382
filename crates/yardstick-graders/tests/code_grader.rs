//! The code graders through the real sandbox. This test binary is its own
//! shim (`sandbox-shim` as the first argument), because the shim must run
//! before any thread exists, and a test harness starts threads.

use std::sync::Arc;
use yardstick_core::{CodeLanguage, Dimension, GraderSpec, Item, PredictionCombine};
use yardstick_graders::{CodeRunner, Graders};
use yardstick_sandbox::{Interpreter, Limits, Sandbox, SandboxConfig};

fn code_item(tests: &[&str], timeout_secs: Option<f64>) -> Item {
    Item::new(
        "add",
        Dimension::CodeExecution,
        "Write add(a, b).",
        GraderSpec::CodeTests {
            language: CodeLanguage::Python,
            entry_point: Some("add".into()),
            tests: tests.iter().map(|t| t.to_string()).collect(),
            setup: None,
            timeout_secs,
            known_wrong: vec![],
        },
    )
}

fn prediction_item(program: &str, combine: PredictionCombine) -> Item {
    Item {
        id: "predict".into(),
        grader: GraderSpec::OutputPrediction {
            language: CodeLanguage::Python,
            program: program.into(),
            combine,
            no_fence: true,
            no_explanation: true,
            no_extra_blank_lines: true,
            known_wrong: vec![],
        },
        ..code_item(&[], None)
    }
}

async fn run(graders: &Graders) {
    let tests = [
        "assert add(1, 2) == 3",
        "assert add(-1, 1) == 0",
        "assert add(2, 2) == 4",
    ];
    let item = code_item(&tests, None);

    // A right answer in prose and a fence: every test passes, the code is recorded.
    let g = graders
        .grade(
            &item,
            "Here:\n```python\ndef add(a, b):\n    return a + b\n```\nDone.",
        )
        .await
        .expect("grades");
    assert_eq!(g.score, 100.0, "{g:?}");
    assert_eq!(
        g.extracted.as_deref(),
        Some("def add(a, b):\n    return a + b")
    );
    let iso = g
        .checks
        .iter()
        .find(|c| c.name == "isolation")
        .expect("isolation check");
    assert_eq!(iso.weight, 0.0);
    assert!(
        iso.detail.contains("landlock") && iso.detail.contains("seccomp"),
        "{}",
        iso.detail
    );
    assert!(
        g.checks[0].name.starts_with("test 1: assert add(1, 2)"),
        "{}",
        g.checks[0].name
    );
    assert!(
        g.checks[0].detail.starts_with("passed · "),
        "{}",
        g.checks[0].detail
    );

    // Partial credit: one test of three fails, with its assertion in the detail.
    let g = graders
        .grade(&item, "def add(a, b):\n    return a + b if a >= 0 else a")
        .await
        .unwrap();
    assert!((g.score - 200.0 / 3.0).abs() < 1e-9, "{}", g.score);
    assert!(
        g.checks[1].detail.contains("AssertionError"),
        "{}",
        g.checks[1].detail
    );

    // Crashes, exits and hangs are failed tests, not grader errors.
    let g = graders
        .grade(&item, "import os\ndef add(a, b):\n    os.abort()")
        .await
        .unwrap();
    assert_eq!(g.score, 0.0);
    assert!(
        g.checks[0].detail.contains("SIGABRT"),
        "{}",
        g.checks[0].detail
    );
    let g = graders
        .grade(
            &item,
            "import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b",
        )
        .await
        .unwrap();
    assert_eq!(g.score, 0.0, "an early exit(0) is not a pass");
    let hang = code_item(
        &["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
        Some(1.0),
    );
    let g = graders
        .grade(&hang, "def add(a, b):\n    while a: pass\n    return b")
        .await
        .unwrap();
    assert_eq!(g.score, 50.0, "{g:?}");
    assert!(
        g.checks[0].detail.starts_with("failed"),
        "{}",
        g.checks[0].detail
    );

    // Output prediction: dual verification.
    let item = prediction_item(
        "xs = [3, 1, 2]\nprint(sorted(xs)[0] + xs[0])\n",
        PredictionCombine::Both,
    );
    let g = graders.grade(&item, "4").await.unwrap();
    assert_eq!(g.score, 100.0, "{g:?}");
    let g = graders.grade(&item, "The output is:\n\n4").await.unwrap();
    assert_eq!(g.score, 0.0);
    assert!(g.checks.iter().any(|c| c.name == "correctness" && c.passed));
    assert!(g.checks.iter().any(|c| c.name == "format" && !c.passed));
    let weighted = prediction_item("print(4)", PredictionCombine::Weighted);
    assert_eq!(
        graders.grade(&weighted, "```\n4\n```").await.unwrap().score,
        75.0
    );
    let broken = prediction_item("raise SystemExit(3)", PredictionCombine::Both);
    assert!(
        graders.grade(&broken, "").await.is_err(),
        "a broken program is a grader error"
    );

    // JavaScript, when Node is installed.
    if Interpreter::node().is_none() {
        eprintln!("node not installed: JavaScript grading not exercised");
    } else {
        let mut js = code_item(&["if (add(1, 2) !== 3) throw new Error('add(1, 2)')"], None);
        if let GraderSpec::CodeTests { language, .. } = &mut js.grader {
            *language = CodeLanguage::Javascript;
        }
        let g = graders
            .grade(&js, "```js\nfunction add(a, b) { return a + b; }\n```")
            .await
            .unwrap();
        assert_eq!(g.score, 100.0, "{g:?}");
        let g = graders
            .grade(&js, "function add(a, b) { process.exit(0); }")
            .await
            .unwrap();
        assert_eq!(g.score, 0.0, "{g:?}");
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("sandbox-shim") {
        yardstick_sandbox::shim_main(args);
    }
    // Under `cargo test -- --list` etc. the harness protocol expects nothing special.
    if std::env::args().any(|a| a == "--list") {
        println!("code_graders_through_the_sandbox: test");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Without a sandbox a code item is a grader error, never a zero.
        let err = Graders::new()
            .grade(&code_item(&["assert True"], None), "x")
            .await
            .unwrap_err();
        assert!(err.message.contains("sandbox is not configured"), "{err}");

        let exe = std::env::current_exe().expect("test binary path");
        let sandbox = Arc::new(
            Sandbox::new(SandboxConfig::new(exe, vec!["sandbox-shim".into()]))
                .expect("this host must support a confined sandbox"),
        );
        let runner = Arc::new(CodeRunner::new(
            sandbox,
            Interpreter::python3().expect("python3"),
            Interpreter::node(),
            Limits::default(),
            2,
        ));
        let graders = Graders::with_code_runner(runner.clone());
        run(&graders).await;
        runner.shutdown().await;

        // A JavaScript item on a host without Node is a grader error, not a zero.
        let without_node = Graders::with_code_runner(Arc::new(CodeRunner::new(
            runner.sandbox().clone(),
            Interpreter::python3().expect("python3"),
            None,
            Limits::default(),
            1,
        )));
        let mut js = code_item(&["if (add(1, 2) !== 3) throw new Error()"], None);
        if let GraderSpec::CodeTests { language, .. } = &mut js.grader {
            *language = CodeLanguage::Javascript;
        }
        let err = without_node
            .grade(&js, "function add(a, b) { return a + b; }")
            .await
            .unwrap_err();
        assert!(err.message.contains("`node` is not installed"), "{err}");
    });
    println!("test code_graders_through_the_sandbox ... ok");
}
