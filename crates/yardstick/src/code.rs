//! The code-execution side of the binary: building the sandbox (only when
//! something needs it), `yardstick selfcheck` and `yardstick import humaneval`.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use yardstick_bank::Bank;
use yardstick_core::{CodeLanguage, Dimension, GraderSpec, Item};
use yardstick_graders::{CodeRunner, Graders};
use yardstick_sandbox::{Interpreter, Limits, Sandbox, SandboxConfig};

/// The graders for a set of items: rule graders only when none runs code
/// (so a host without a usable sandbox can still run everything else), the
/// code graders too when one does. The sandbox refuses to run unconfined
/// unless `allow_unconfined`.
pub struct GraderSet {
    pub graders: Graders,
    runner: Option<Arc<CodeRunner>>,
}

impl GraderSet {
    /// One code-grading worker per core.
    pub fn for_items<'a>(
        items: impl IntoIterator<Item = &'a Item>,
        allow_unconfined: bool,
    ) -> Result<GraderSet> {
        Self::with_workers(items, allow_unconfined, cores())
    }

    /// At most `workers` code items graded at once, each slot with its own
    /// warm Python worker.
    pub fn with_workers<'a>(
        items: impl IntoIterator<Item = &'a Item>,
        allow_unconfined: bool,
        workers: usize,
    ) -> Result<GraderSet> {
        let (mut needs_sandbox, mut needs_node) = (false, false);
        for item in items {
            needs_sandbox |= item.grader.needs_sandbox();
            needs_node |= matches!(
                item.grader,
                GraderSpec::CodeTests {
                    language: CodeLanguage::Javascript,
                    ..
                } | GraderSpec::OutputPrediction {
                    language: CodeLanguage::Javascript,
                    ..
                }
            );
        }
        if !needs_sandbox {
            return Ok(GraderSet {
                graders: Graders::new(),
                runner: None,
            });
        }
        let runner = Arc::new(code_runner(allow_unconfined, needs_node, workers)?);
        Ok(GraderSet {
            graders: Graders::with_code_runner(runner.clone()),
            runner: Some(runner),
        })
    }

    /// The sandbox's isolation summary, when there is a sandbox.
    pub fn isolation(&self) -> Option<String> {
        self.runner
            .as_ref()
            .map(|r| r.sandbox().isolation().summary())
    }

    /// Stops the warm workers.
    pub async fn shutdown(&self) {
        if let Some(r) = &self.runner {
            r.shutdown().await;
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The sandbox runs this very binary as its shim (`yardstick sandbox-shim`,
/// dispatched in `main` before any thread exists). Node is looked up only
/// when a JavaScript item needs it (starting it takes a while).
fn code_runner(allow_unconfined: bool, needs_node: bool, workers: usize) -> Result<CodeRunner> {
    let exe = std::env::current_exe()
        .context("cannot find the yardstick executable (the sandbox runs it as its shim)")?;
    let mut config = SandboxConfig::new(exe, vec!["sandbox-shim".into()]);
    config.allow_unconfined = allow_unconfined;
    let sandbox = Sandbox::new(config)
        .context("code items need the sandbox, and it cannot be set up on this host")?;
    let missing = sandbox.isolation().missing();
    if !missing.is_empty() {
        eprintln!(
            "warning: --allow-unconfined: code runs without {} (isolation: {}); every grade records this",
            missing
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            sandbox.isolation().summary()
        );
    }
    let python = Interpreter::python3().context("code items need python3 on PATH")?;
    Ok(CodeRunner::new(
        Arc::new(sandbox),
        python,
        needs_node.then(Interpreter::node).flatten(),
        Limits::default(),
        workers,
    ))
}

// ------------------------------------------------------------------ selfcheck

/// One failed expectation of `selfcheck`.
#[derive(Debug, Serialize)]
pub struct SelfcheckFailure {
    pub item: String,
    pub source: String,
    pub problem: String,
}

/// What `selfcheck` measured for one item: the reference's score and each
/// known-wrong answer's (`None`: it could not be graded; the failure says why).
#[derive(Debug, Serialize)]
pub struct SelfcheckItem {
    pub item: String,
    pub reference_score: Option<f64>,
    pub known_wrong_scores: Vec<Option<f64>>,
    /// The reference scored 100 and every known-wrong answer less.
    pub ok: bool,
}

#[derive(Debug, Serialize)]
pub struct SelfcheckReport {
    pub items: usize,
    /// Code-grading workers used.
    pub workers: usize,
    pub references_ok: usize,
    pub known_wrong_checked: usize,
    /// Items with no reference (allowed for rule graders that compare with none).
    pub without_reference: Vec<String>,
    /// Items graded by the LLM judge alone: no rule decides them, so they are
    /// not graded here (the judge's calibration set checks the judge). Items
    /// with a rule grader and a judged part are checked on the rule part.
    pub judge_only: Vec<String>,
    pub failures: Vec<SelfcheckFailure>,
    /// Every item with a reference, in bank order.
    pub results: Vec<SelfcheckItem>,
    pub isolation: Option<String>,
    pub seconds: f64,
}

/// The first failing checks of a grade, for a failure message.
fn failing_checks(grade: &yardstick_core::Grade) -> String {
    let failed: Vec<String> = grade
        .checks
        .iter()
        .filter(|c| !c.passed && c.weight > 0.0)
        .take(3)
        .map(|c| format!("{} — {}", c.name, c.detail))
        .collect();
    failed.join("; ")
}

fn known_wrong(spec: &GraderSpec) -> &[String] {
    match spec {
        GraderSpec::CodeTests { known_wrong, .. }
        | GraderSpec::OutputPrediction { known_wrong, .. } => known_wrong,
        _ => &[],
    }
}

/// One item's selfcheck: its scores (`None` for an item without a
/// reference) and what went wrong.
struct ItemCheck {
    result: Option<SelfcheckItem>,
    failures: Vec<SelfcheckFailure>,
}

async fn check_item(graders: &Graders, item: &Item, source: &str) -> ItemCheck {
    let mut failures = Vec::new();
    let fail = |problem: String| SelfcheckFailure {
        item: item.id.clone(),
        source: source.to_string(),
        problem,
    };
    // Validation demands a reference wherever the grader compares against
    // one (code items included); a rule item without one (a regex or format
    // check) has nothing to run here.
    let Some(reference) = item.references.first() else {
        return ItemCheck {
            result: None,
            failures,
        };
    };
    let reference_score = match graders.grade(item, reference).await {
        Ok(g) => {
            if g.score != 100.0 {
                failures.push(fail(format!(
                    "the reference scored {:.1}: {}",
                    g.score,
                    failing_checks(&g)
                )));
            }
            Some(g.score)
        }
        Err(e) => {
            failures.push(fail(format!("the reference could not be graded: {e}")));
            None
        }
    };
    let mut known_wrong_scores = Vec::new();
    for (k, wrong) in known_wrong(&item.grader).iter().enumerate() {
        known_wrong_scores.push(match graders.grade(item, wrong).await {
            Ok(g) => {
                if g.score >= 100.0 {
                    failures.push(fail(format!(
                        "known_wrong[{k}] scored 100: the tests do not tell it from a right answer"
                    )));
                }
                Some(g.score)
            }
            Err(e) => {
                failures.push(fail(format!("known_wrong[{k}] could not be graded: {e}")));
                None
            }
        });
    }
    ItemCheck {
        result: Some(SelfcheckItem {
            item: item.id.clone(),
            reference_score,
            known_wrong_scores,
            ok: failures.is_empty(),
        }),
        failures,
    }
}

/// Grades every item's first reference (expect 100) and every known-wrong
/// answer (expect below 100), `workers` code items at a time (default: one
/// per core).
pub async fn selfcheck(
    bank: &Bank,
    allow_unconfined: bool,
    workers: Option<usize>,
) -> Result<SelfcheckReport> {
    let workers = workers.unwrap_or_else(cores);
    if workers == 0 {
        bail!("--workers must be at least 1 (it is how many code items are graded at once)");
    }
    let started = Instant::now();
    let set = GraderSet::with_workers(bank.iter().map(|b| &b.item), allow_unconfined, workers)?;
    let mut tasks = tokio::task::JoinSet::new();
    let judge_only =
        |b: &yardstick_bank::BankItem| matches!(b.item.grader, GraderSpec::Judge { .. });
    for (index, b) in bank.iter().enumerate().filter(|(_, b)| !judge_only(b)) {
        let graders = set.graders.clone();
        // A judged part needs a judge model; here the rule part alone is checked.
        let item = Item {
            judged: None,
            ..b.item.clone()
        };
        let source = b.source.to_string();
        tasks.spawn(async move { (index, check_item(&graders, &item, &source).await) });
    }
    let mut checks = Vec::new();
    while let Some(done) = tasks.join_next().await {
        checks.push(done.context("a selfcheck task panicked")?);
    }
    set.shutdown().await;
    checks.sort_by_key(|(index, _)| *index);
    let mut report = SelfcheckReport {
        items: bank.len(),
        workers,
        references_ok: 0,
        known_wrong_checked: 0,
        without_reference: Vec::new(),
        judge_only: bank
            .iter()
            .filter(|b| judge_only(b))
            .map(|b| b.item.id.clone())
            .collect(),
        failures: Vec::new(),
        results: Vec::new(),
        isolation: set.isolation(),
        seconds: 0.0,
    };
    for ((_, check), b) in checks
        .into_iter()
        .zip(bank.iter().filter(|b| !judge_only(b)))
    {
        match check.result {
            Some(result) => {
                report.references_ok += usize::from(result.reference_score == Some(100.0));
                report.known_wrong_checked += result.known_wrong_scores.len();
                report.results.push(result);
            }
            None => report.without_reference.push(b.item.id.clone()),
        }
        report.failures.extend(check.failures);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

// ------------------------------------------------------------ HumanEval import

/// One line of HumanEval.jsonl.
#[derive(Debug, serde::Deserialize)]
struct HumanEvalProblem {
    task_id: String,
    prompt: String,
    canonical_solution: String,
    test: String,
    entry_point: String,
}

/// Reads a `.jsonl` or gzip-compressed `.jsonl.gz` file (detected by its
/// magic bytes, not its name).
fn read_maybe_gzip(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .with_context(|| format!("{} is not valid gzip-compressed UTF-8", path.display()))?;
        Ok(text)
    } else {
        String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))
    }
}

/// Tracks open brackets and strings across the lines of a Python statement,
/// to tell where one statement ends.
#[derive(Default)]
struct Scanner {
    depth: i32,
    /// The quote character of an open string, and whether it is triple-quoted.
    string: Option<(char, bool)>,
}

impl Scanner {
    /// Feeds one line; true when the statement continues on the next line.
    fn feed(&mut self, line: &str) -> bool {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match self.string {
                Some((q, triple)) => {
                    if c == '\\' {
                        i += 2;
                        continue;
                    }
                    if c == q {
                        if !triple {
                            self.string = None;
                        } else if chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q) {
                            self.string = None;
                            i += 2;
                        }
                    }
                }
                None => match c {
                    '#' => break,
                    '\'' | '"' => {
                        let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
                        self.string = Some((c, triple));
                        if triple {
                            i += 2;
                        }
                    }
                    '(' | '[' | '{' => self.depth += 1,
                    ')' | ']' | '}' => self.depth -= 1,
                    _ => {}
                },
            }
            i += 1;
        }
        if matches!(self.string, Some((_, false))) {
            // An unterminated single-quoted string ends with its line.
            self.string = None;
        }
        self.depth > 0 || self.string.is_some() || line.trim_end().ends_with('\\')
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Turns a HumanEval `test` (a `check(candidate)` function) into test
/// snippets: one per top-level `assert` of `check` (with the code around
/// `check` and `candidate = ENTRY` before it), so the score is the share of
/// cases passed. When `check` does anything but assert (loops, local
/// variables), the whole harness is one test.
pub fn split_humaneval_test(test: &str, entry_point: &str) -> Vec<String> {
    let whole = vec![format!("{}\n\ncheck({entry_point})\n", test.trim_end())];
    let lines: Vec<&str> = test.lines().collect();
    let Some(start) = lines
        .iter()
        .position(|l| l.starts_with("def check(candidate)"))
    else {
        return whole;
    };
    let mut end = start + 1;
    while end < lines.len() && (lines[end].trim().is_empty() || indent_of(lines[end]) > 0) {
        end += 1;
    }
    let body = &lines[start + 1..end];
    let Some(indent) = body
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
    else {
        return whole;
    };
    let mut statements: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut scanner = Scanner::default();
    let mut continues = false;
    for line in body {
        if !continues {
            if line.trim().is_empty() {
                continue;
            }
            if indent_of(line) != indent {
                // Only a loop or branch body is indented further.
                return whole;
            }
            if line.trim_start().starts_with('#') {
                continue;
            }
        }
        current.push(line.get(indent..).unwrap_or(line.trim_start()));
        continues = scanner.feed(line);
        if !continues {
            statements.push(current.join("\n"));
            current.clear();
        }
    }
    if continues || !current.is_empty() {
        return whole;
    }
    let trivial = regex_lite_assert_true();
    if statements.is_empty()
        || statements
            .iter()
            .any(|s| !(s.starts_with("assert ") || s.starts_with("assert(")))
    {
        return whole;
    }
    let preamble: String = lines[..start]
        .iter()
        .chain(lines[end..].iter())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let preamble = preamble.trim();
    let tests: Vec<String> = statements
        .iter()
        .filter(|s| !trivial(s))
        .map(|s| {
            if preamble.is_empty() {
                format!("candidate = {entry_point}\n{s}\n")
            } else {
                format!("{preamble}\n\ncandidate = {entry_point}\n{s}\n")
            }
        })
        .collect();
    if tests.is_empty() {
        whole
    } else {
        tests
    }
}

/// `assert True` and `assert True, "message"` test nothing; HumanEval uses
/// them as debugging markers.
fn regex_lite_assert_true() -> impl Fn(&str) -> bool {
    |s: &str| {
        let rest = s.trim_start_matches("assert").trim_start();
        rest == "True" || rest.starts_with("True,") || rest.starts_with("True ,")
    }
}

/// The instruction added to each HumanEval prompt.
const HUMANEVAL_INSTRUCTION: &str = "Complete the following Python function. Answer with the whole function (signature included) in one ```python code block.";

/// One HumanEval problem as a bank item: the prompt's own code is the
/// `setup` (imports and helper functions the tests may call), the reference
/// is prompt + canonical solution, and the prompt with the body `pass` is the
/// known-wrong answer, so `selfcheck` shows the tests reject a stub.
fn humaneval_item(p: &HumanEvalProblem) -> Item {
    let id = p.task_id.to_ascii_lowercase().replace(['/', ' '], "-");
    let prompt = p.prompt.trim_end_matches('\n');
    Item {
        references: vec![format!("{}{}", p.prompt, p.canonical_solution)],
        tags: vec!["humaneval".into()],
        ..Item::new(
            id,
            Dimension::CodeExecution,
            format!("{HUMANEVAL_INSTRUCTION}\n\n```python\n{prompt}\n```"),
            GraderSpec::CodeTests {
                language: CodeLanguage::Python,
                entry_point: Some(p.entry_point.clone()),
                tests: split_humaneval_test(&p.test, &p.entry_point),
                setup: Some(format!("{prompt}\n")),
                timeout_secs: None,
                known_wrong: vec![format!("{prompt}\n    pass\n")],
            },
        )
    }
}

/// The bank file written by `import humaneval`: `[[items]]` tables with the
/// grader as a sub-table.
#[derive(Serialize)]
struct BankFile {
    items: Vec<ItemOut>,
}

#[derive(Serialize)]
struct ItemOut {
    id: String,
    dimension: String,
    prompt: String,
    references: Vec<String>,
    tags: Vec<String>,
    grader: GraderSpec,
}

/// Reads HumanEval problems and writes `DIR/humaneval.toml`; returns the
/// file and the number of items and tests.
pub fn import_humaneval(file: &Path, out: &Path) -> Result<(std::path::PathBuf, usize, usize)> {
    let text = read_maybe_gzip(file)?;
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let p: HumanEvalProblem = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a HumanEval problem (task_id, prompt, canonical_solution, test, entry_point)",
                file.display(),
                n + 1
            )
        })?;
        items.push(humaneval_item(&p));
    }
    if items.is_empty() {
        bail!("{} holds no problems", file.display());
    }
    let tests = items
        .iter()
        .map(|i| match &i.grader {
            GraderSpec::CodeTests { tests, .. } => tests.len(),
            _ => 0,
        })
        .sum();
    let count = items.len();
    let bank = BankFile {
        items: items
            .into_iter()
            .map(|i| ItemOut {
                id: i.id,
                dimension: i.dimension.id().to_string(),
                prompt: i.prompt,
                references: i.references,
                tags: i.tags,
                grader: i.grader,
            })
            .collect(),
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("humaneval.toml");
    let header = format!(
        "# Imported by `yardstick import humaneval` from {}.\n# HumanEval: Chen et al. 2021, MIT licence. Check with `yardstick selfcheck {}`.\n\n",
        file.file_name().map_or_else(|| file.display().to_string(), |f| f.to_string_lossy().into_owned()),
        out.display()
    );
    let body = toml::to_string(&bank).context("serialising the imported items")?;
    std::fs::write(&path, header + &body)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((path, count, tests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_test_per_top_level_assert_with_the_preamble() {
        let test = "\n\nMETADATA = {'author': 'x'}\n\n\ndef check(candidate):\n    assert candidate([1, 2], ')(') == 3\n    assert candidate(\n        [4],\n        \"(\"\n    ) == 4, \"multi-line\"\n    # a comment\n    assert True, \"marker\"\n    assert abs(candidate([], '') - 0.5) < 1e-6\n";
        let tests = split_humaneval_test(test, "f");
        assert_eq!(tests.len(), 3, "{tests:#?}");
        assert!(tests[0].starts_with(
            "METADATA = {'author': 'x'}\n\ncandidate = f\nassert candidate([1, 2], ')(') == 3"
        ));
        assert!(tests[1].contains("assert candidate(\n    [4],\n    \"(\"\n) == 4, \"multi-line\""));
    }

    #[test]
    fn a_check_with_loops_or_locals_stays_one_test() {
        let test = "def check(candidate):\n    import math\n    for x in range(3):\n        assert candidate(x) == x\n";
        assert_eq!(
            split_humaneval_test(test, "g"),
            vec![format!("{}\n\ncheck(g)\n", test.trim_end())]
        );
        let only_markers = "def check(candidate):\n    assert True\n";
        assert_eq!(split_humaneval_test(only_markers, "g").len(), 1);
    }

    #[test]
    fn the_scanner_ignores_brackets_in_strings_and_comments() {
        let mut s = Scanner::default();
        assert!(!s.feed("assert candidate('(()') == False  # ((("));
        assert!(s.feed("assert candidate(\"\"\"a"));
        assert!(!s.feed("b)\"\"\")"));
    }
}
