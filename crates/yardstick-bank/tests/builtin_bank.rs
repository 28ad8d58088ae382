//! The built-in bank (`/bank` at the workspace root, embedded into the
//! binary) must always be valid, hold the item counts issue #5 promises, and
//! be gradable: under each rule-graded item's own grader every reference
//! scores 100 and every `known_bad` answer scores below 50 (and below the
//! canonical reference); every item carries a known-bad answer; the judge
//! calibration set has its 20 answers and covers every rubric items use.
//! Failures name the file, line, item id and answer.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};
use yardstick_bank::{load_dir, load_files, Bank, SourceFile, SourceLoc};
use yardstick_core::{Dimension, GraderSpec, Item};
use yardstick_graders::Graders;

/// Canonical, so that failure messages name `…/bank/file.toml:line` plainly.
fn bank_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bank");
    dir.canonicalize()
        .unwrap_or_else(|e| panic!("the built-in bank {} is missing: {e}", dir.display()))
}

/// Loaded once for all tests (they run as threads of one process).
fn builtin() -> &'static Bank {
    static BANK: LazyLock<Bank> = LazyLock::new(|| {
        load_dir(&bank_dir())
            .unwrap_or_else(|errors| panic!("the built-in bank is invalid:\n{errors}"))
    });
    &BANK
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

/// What issue #5 promises per dimension (code execution: its own issue's
/// starter items; the sandboxed ones are counted below).
const MINIMUM_ITEMS: [(Dimension, usize); 5] = [
    (Dimension::CodeExecution, 6),
    (Dimension::Grounding, 25),
    (Dimension::Judgment, 25),
    (Dimension::Communication, 25),
    (Dimension::Integrity, 42),
];

#[test]
fn the_builtin_bank_is_valid_and_meets_the_promised_counts() {
    let bank = builtin();
    let by_dimension = bank.by_dimension();
    let short: Vec<String> = MINIMUM_ITEMS
        .iter()
        .filter(|(dim, min)| by_dimension[dim].len() < *min)
        .map(|(dim, min)| {
            format!(
                "{dim}: {} items, at least {min} promised",
                by_dimension[dim].len()
            )
        })
        .collect();
    assert!(short.is_empty(), "too few items:\n{}", short.join("\n"));
    let ids: HashSet<&str> = bank.iter().map(|b| b.item.id.as_str()).collect();
    assert_eq!(ids.len(), bank.len(), "item ids must be unique");
}

#[test]
fn integrity_items_are_probes() {
    // The gate is computed from probe scores; an integrity item graded any
    // other way would not measure fabrication.
    for b in &builtin().by_dimension()[&Dimension::Integrity] {
        assert!(
            matches!(b.item.grader, GraderSpec::Integrity { .. }),
            "{} ({}) is an integrity item graded by `{}`, not `integrity`",
            b.item.id,
            b.source,
            b.item.grader.grader_id()
        );
    }
}

#[test]
fn files_are_named_after_their_dimension() {
    // `code_execution.toml` and `code_execution_tests.toml` (the items that
    // need the sandbox) both hold code-execution items.
    let bank = builtin();
    for b in bank {
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

/// The items a rule grader scores, without their judged parts. Left out:
/// items graded by running code, which need the sandbox and a shim binary
/// (`crates/yardstick/tests/code_execution.rs` checks them through
/// `yardstick selfcheck`), and purely judged items, which need a judge.
fn rule_graded() -> impl Iterator<Item = RulePart> {
    builtin()
        .iter()
        .filter_map(|b| {
            let judged_only = matches!(b.item.grader, GraderSpec::Judge { .. });
            if judged_only || b.item.grader.needs_sandbox() {
                return None;
            }
            // A judged part is graded by the judge (tested with the judge);
            // the rule grader alone must already tell good from bad.
            let mut item = b.item.clone();
            let judged = item.judged.take().is_some();
            Some(RulePart {
                item,
                source: b.source.clone(),
                judged,
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// The rule-graded part of a bank item: the item without its judged part.
struct RulePart {
    item: Item,
    source: SourceLoc,
    /// The item also has a judged part.
    judged: bool,
}

/// The bound a known-bad answer must stay under: it has to fail more than
/// it passes, not merely miss full marks.
const KNOWN_BAD_MAX: f64 = 50.0;

#[test]
fn references_score_100_and_known_bad_answers_score_low() {
    // Every problem is listed, not just the first, so a bank author fixes
    // them in one round.
    let mut problems = Vec::new();
    for b in rule_graded() {
        let item = &b.item;
        if item.references.is_empty() {
            problems.push(format!("{} {}: no reference answer", b.source, item.id));
            continue;
        }
        // The first reference is the canonical answer; the others are other
        // good phrasings (how a model might decline a probe), which must
        // score at the top too.
        for reference in &item.references {
            let s = score(item, reference);
            if s != 100.0 {
                problems.push(format!(
                    "{} {}: reference {reference:?} scored {s}, not 100",
                    b.source, item.id
                ));
            }
        }
        let top = score(item, &item.references[0]);
        for bad in &item.known_bad {
            let s = score(item, bad);
            if !(s < KNOWN_BAD_MAX && s < top) {
                problems.push(format!(
                    "{} {}: known_bad {bad:?} scored {s} (must be below {KNOWN_BAD_MAX} and below the reference's {top})",
                    b.source, item.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_item_has_a_known_bad_answer() {
    // Sandboxed code items keep theirs in the grader (`known_wrong`, checked
    // through `yardstick selfcheck`); every other item in `known_bad`.
    let missing: Vec<String> = builtin()
        .iter()
        .filter(|b| match &b.item.grader {
            GraderSpec::CodeTests { known_wrong, .. }
            | GraderSpec::OutputPrediction { known_wrong, .. } => known_wrong.is_empty(),
            _ => b.item.known_bad.is_empty(),
        })
        .map(|b| format!("{} {}", b.source, b.item.id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} item(s) without a known-bad answer:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn non_answers_never_score_100() {
    // Where the rules check only the form of a prose answer (a subject line
    // of at most ten words), a short non-answer can satisfy them; such an
    // item must have a judged part, which scores the content.
    let mut problems = Vec::new();
    for b in rule_graded().filter(|b| !b.judged) {
        for answer in ["", "Sorry.", "I think the answer is 42."] {
            let s = score(&b.item, answer);
            if s >= 100.0 {
                problems.push(format!(
                    "{} {}: non-answer {answer:?} scored {s}",
                    b.source, b.item.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_judge_calibration_set_covers_every_rubric_items_use() {
    let bank = builtin();
    assert_eq!(
        bank.calibration.len(),
        20,
        "the judge calibration set promises 20 graded answers"
    );
    let used: HashSet<&str> = bank
        .iter()
        .filter_map(|b| b.item.judge_rubric())
        .map(|r| r.name.as_str())
        .collect();
    let calibrated: HashSet<&str> = bank
        .calibration
        .iter()
        .map(|c| c.rubric.name.as_str())
        .collect();
    let uncalibrated: Vec<&&str> = used.difference(&calibrated).collect();
    assert!(
        uncalibrated.is_empty(),
        "rubrics used by items but absent from judge_calibration.toml: {uncalibrated:?}"
    );
    // A set whose frozen scores all sit at one end of the scale cannot show
    // a judge that drifts towards that end.
    for rubric in &calibrated {
        let totals: Vec<f64> = bank
            .calibration
            .iter()
            .filter(|c| c.rubric.name == *rubric)
            .map(|c| {
                let scores = c
                    .scores
                    .iter()
                    .map(|(k, v)| (k.clone(), f64::from(*v)))
                    .collect();
                c.rubric
                    .score(&scores)
                    .expect("validated: every criterion scored")
            })
            .collect();
        assert!(
            totals.contains(&100.0) && totals.iter().any(|&t| t <= 40.0),
            "calibration answers for `{rubric}` must include a top answer and a poor one: {totals:?}"
        );
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
    for b in builtin() {
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
