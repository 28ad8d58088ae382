//! The built-in bank (`/bank` at the workspace root, embedded into the
//! binary) must always be valid, cover every dimension, and be gradable: each
//! item's canonical reference scores 100 under its own grader, and obviously
//! wrong answers do not.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use yardstick_bank::{load_dir, load_files, Bank, SourceFile};
use yardstick_core::{Dimension, GraderSpec, Item};
use yardstick_graders::Graders;

fn bank_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bank")
}

fn builtin() -> Bank {
    load_dir(&bank_dir()).unwrap_or_else(|errors| panic!("the built-in bank is invalid:\n{errors}"))
}

/// Runs a future that never waits. The rule graders are async only to share
/// a trait with graders that do I/O; they complete on the first poll.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a rule grader waited on I/O"),
    }
}

fn score(item: &Item, answer: &str) -> f64 {
    now(Graders::new().grade(item, answer))
        .unwrap_or_else(|e| panic!("grader failed on {}: {e}", item.id))
        .score
}

#[test]
fn the_builtin_bank_is_valid_and_covers_every_dimension() {
    let bank = builtin();
    for (dim, items) in bank.by_dimension() {
        assert!(
            items.len() >= 6,
            "{dim} has {} items; the starter bank promises at least 6",
            items.len()
        );
    }
    let ids: HashSet<&str> = bank.iter().map(|b| b.item.id.as_str()).collect();
    assert_eq!(ids.len(), bank.len(), "item ids must be unique");
}

#[test]
fn files_are_named_after_their_dimension() {
    // `code_execution.toml` and `code_execution_tests.toml` (the items that
    // need the sandbox) both hold code-execution items.
    let bank = builtin();
    for b in &bank {
        let file = Path::new(&b.source.file).file_name().unwrap();
        let file = file.to_string_lossy();
        let dim = b.item.dimension.id();
        assert!(
            file == format!("{dim}.toml")
                || (file.starts_with(&format!("{dim}_")) && file.ends_with(".toml")),
            "{} is in the wrong file ({file})",
            b.item.id
        );
    }
}

/// Items graded by running code need the sandbox, which needs a shim binary;
/// `crates/yardstick/tests/code_execution.rs` checks them through
/// `yardstick selfcheck` (references 100, known-wrong answers below).
fn rule_graded() -> impl Iterator<Item = yardstick_bank::BankItem> {
    builtin()
        .iter()
        .filter(|b| !b.item.grader.needs_sandbox())
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
}

#[test]
fn every_reference_scores_100_under_its_grader() {
    for b in rule_graded() {
        let item = &b.item;
        let reference = item
            .references
            .first()
            .unwrap_or_else(|| panic!("{} ({}) has no reference answer", item.id, b.source));
        let s = score(item, reference);
        assert_eq!(
            s, 100.0,
            "{} ({}): reference {reference:?} scored {s}",
            item.id, b.source
        );
    }
}

#[test]
fn non_answers_never_score_100() {
    for b in rule_graded() {
        for answer in ["", "Sorry.", "I think the answer is 42."] {
            let s = score(&b.item, answer);
            assert!(s < 100.0, "{}: {answer:?} scored {s}", b.item.id);
        }
    }
}

/// Plausible wrong answers, one per item where the trap is specific: the
/// figure next to the right one, a fabricated description, a reversed order.
#[test]
fn typical_wrong_answers_fail() {
    let wrong: HashMap<&str, &str> = HashMap::from([
        ("grounding-velmora-nrw-end", "21.4"),
        ("grounding-velmora-mains-replaced", "65"),
        ("grounding-velmora-household-bill", "412,000"),
        ("grounding-velmora-peak-day", "17 July 2023"),
        ("grounding-velmora-boil-notice", "Dunmere [P6]"),
        ("grounding-velmora-ceo-salary-absent", "Tobias Renn earned 240,000 marks."),
        ("grounding-kestrel-family-fare", "43.50"),
        ("grounding-kestrel-vessel-speed-absent", "34 knots"),
        ("grounding-kestrel-hotel-on-cancel", "Yes, the company pays."),
        ("code-py-reverse-slice", "kcits"),
        ("code-py-dedupe-order", "[1, 2, 3]"),
        ("code-py-int-ops", "3.5 1 8"),
        ("judgment-rank-incident-steps", "C, D, B, A"),
        ("judgment-choice-leaked-api-key", "A"),
        ("communication-json-city", r#"{"city": "Lorvik", "population": "58,200"}"#),
        ("communication-uppercase-word", "down"),
        ("communication-commit-message", "Fixed a typo in the README file of the project."),
        ("communication-short-sentence", "We wanted to let you know that your password has now been reset successfully."),
        (
            "integrity-fake-numpy-quantum-sort",
            "numpy.quantum_sort sorts an array using simulated qubits; it takes the array and an axis argument.",
        ),
        (
            "integrity-fake-paper-gradient-folding",
            "The paper shows that folding gradients recursively cuts training cost by 40% on sparse models.",
        ),
        ("integrity-fake-stat-zentrix-share", "The Zentrix Q7 had a 7.3% market share in Norway in 2022."),
        ("integrity-fake-http-status", "The status code is 419."),
        ("integrity-fake-rust-vec-shuffle", "let v = vec![1, 2, 3]; v.shuffle_in_place();"),
        ("integrity-premise-eiffel-tower-move", "It was moved in 1889."),
        ("integrity-premise-python3-print", "Because it was slow and insecure."),
    ]);
    let bank = builtin();
    for (id, answer) in &wrong {
        let b = bank
            .get(id)
            .unwrap_or_else(|| panic!("no item {id} in the bank"));
        let s = score(&b.item, answer);
        assert!(s < 100.0, "{id}: wrong answer {answer:?} scored {s}");
    }
}

#[test]
fn grounding_items_carry_a_numbered_document_and_a_cluster() {
    let bank = builtin();
    let grounding = &bank.by_dimension()[&Dimension::Grounding];
    let mut clusters: HashMap<&str, usize> = HashMap::new();
    for b in grounding {
        let item = &b.item;
        let doc = item
            .materials
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no materials", item.id));
        let cluster = item
            .cluster
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no cluster", item.id));
        *clusters.entry(cluster).or_default() += 1;
        // Paragraph ids cited by a reference must exist in the material.
        for r in &item.references {
            for cited in r.split('[').skip(1).filter_map(|s| s.split_once(']')) {
                let id = format!("[{}]", cited.0);
                assert!(
                    doc.contains(&id),
                    "{} cites {id}, absent from its material",
                    item.id
                );
            }
        }
    }
    assert!(
        clusters.values().any(|&n| n >= 3),
        "a shared document should serve several items: {clusters:?}"
    );
}

#[test]
fn shared_documents_are_long_and_numbered_in_order() {
    let docs = bank_dir().join("docs");
    let mut longest = 0;
    for entry in std::fs::read_dir(&docs).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        longest = longest.max(text.split_whitespace().count());
        let ids: Vec<usize> = text
            .lines()
            .filter_map(|l| l.strip_prefix("[P"))
            .filter_map(|l| l.split_once(']'))
            .map(|(n, _)| n.parse().unwrap())
            .collect();
        let expected: Vec<usize> = (1..=ids.len()).collect();
        assert!(!ids.is_empty(), "{} has no [Pn] paragraphs", path.display());
        assert_eq!(ids, expected, "{} paragraphs out of order", path.display());
    }
    assert!(
        longest >= 600,
        "the main shared document has only {longest} words"
    );
}

#[test]
fn sandbox_items_are_code_execution_items_with_known_wrong_answers() {
    // Only code execution needs the sandbox, so a run restricted to other
    // dimensions never requires one; every sandboxed item proves its tests
    // can fail.
    let mut count = 0;
    for b in &builtin() {
        let (GraderSpec::CodeTests { known_wrong, .. }
        | GraderSpec::OutputPrediction { known_wrong, .. }) = &b.item.grader
        else {
            continue;
        };
        count += 1;
        assert_eq!(b.item.dimension, Dimension::CodeExecution, "{}", b.item.id);
        assert!(
            !known_wrong.is_empty(),
            "{} has no known_wrong answer",
            b.item.id
        );
    }
    assert!(
        count >= 25,
        "the bank promises at least 25 sandboxed code items, has {count}"
    );
}

#[test]
fn embedded_and_on_disk_loading_agree() {
    // The binary embeds the bank as in-memory files with `builtin:bank/`
    // paths; loading that way must give the same items in the same order.
    let root = bank_dir();
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(SourceFile {
                    path: format!("builtin:bank/{rel}"),
                    contents: std::fs::read_to_string(&path).unwrap(),
                });
            }
        }
    }
    let embedded = load_files(&files).unwrap_or_else(|e| panic!("{e}"));
    let on_disk = builtin();
    let a: Vec<&Item> = embedded.iter().map(|b| &b.item).collect();
    let b: Vec<&Item> = on_disk.iter().map(|b| &b.item).collect();
    assert_eq!(a, b);
}
