//! Graders that run code: `code_tests` (hidden tests against the code in the
//! answer) and `output_prediction` (the answer against what a program really
//! prints). Both run programs only through [`yardstick_sandbox`], and every
//! grade records the isolation level the code ran under, so an auditor can
//! tell how contained the code was when it produced its score.
//!
//! A job that times out, crashes or floods its output is a failed test (the
//! model's fault); only a sandbox that cannot do its work is a [`GradeError`].

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use regex::Regex;
use tokio::sync::Semaphore;
use yardstick_core::{Check, CodeLanguage, Grade, GraderSpec, Item, PredictionCombine};
use yardstick_sandbox::{
    Execution, Interpreter, Limits, Outcome, PythonRunner, PythonTestReport, Sandbox, SandboxError,
    TestCase, WarmPython,
};

use crate::{GradeError, Grader};

/// Version of both code graders; bump when a verdict could change.
pub(crate) const VERSION: &str = "1";

/// Characters of stdout / stderr kept in a check's detail: enough to see the
/// assertion or traceback, small enough that a grade row stays readable.
const STDOUT_TAIL: usize = 300;
const STDERR_TAIL: usize = 600;

// ---------------------------------------------------------------- extraction

/// One fenced block of a Markdown answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FencedBlock {
    /// The info string's first word, lower-cased (`python`), or empty.
    pub tag: String,
    pub body: String,
}

/// Every fenced block (``` or ~~~, three or more, optionally indented up to
/// three spaces) in order. An unclosed fence runs to the end of the text, as
/// in CommonMark — models cut off mid-answer still get their code graded.
pub fn fenced_blocks(text: &str) -> Vec<FencedBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String, Vec<&str>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len = fence_char.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match &mut open {
            None if indent <= 3 && fence_len >= 3 => {
                let c = fence_char.unwrap_or('`');
                let info = trimmed[fence_len..].trim();
                let tag = info
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches('{')
                    .trim_end_matches('}')
                    .to_ascii_lowercase();
                open = Some((c.to_string().repeat(fence_len), fence_len, tag, Vec::new()));
            }
            None => {}
            Some((marker, len, tag, lines)) => {
                let closes = indent <= 3
                    && fence_len >= *len
                    && trimmed.starts_with(marker.as_str())
                    && trimmed[fence_len..].trim().is_empty();
                if closes {
                    blocks.push(FencedBlock {
                        tag: std::mem::take(tag),
                        body: lines.join("\n"),
                    });
                    open = None;
                } else {
                    lines.push(line);
                }
            }
        }
    }
    if let Some((_, _, tag, lines)) = open {
        blocks.push(FencedBlock {
            tag,
            body: lines.join("\n"),
        });
    }
    blocks
}

/// The code taken from an answer and how it was chosen (recorded with the grade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedCode {
    pub code: String,
    pub how: String,
}

/// The longest candidate block, the earliest among equals.
fn longest(candidates: Vec<(usize, &FencedBlock)>) -> Option<(usize, &FencedBlock)> {
    candidates
        .into_iter()
        .max_by_key(|(i, b)| (b.body.len(), usize::MAX - i))
}

/// Whether `code` defines `name` (a function, class or top-level assignment).
pub fn defines(code: &str, language: CodeLanguage, name: &str) -> bool {
    let n = regex::escape(name);
    let pattern = match language {
        CodeLanguage::Python => {
            format!(
                r"(?m)^[ \t]*(?:async[ \t]+)?def[ \t]+{n}[ \t]*\(|^[ \t]*class[ \t]+{n}\b|^{n}[ \t]*=[^=]"
            )
        }
        CodeLanguage::Javascript => format!(
            r"(?m)\bfunction\*?[ \t]+{n}[ \t]*\(|\b(?:const|let|var|class)[ \t]+{n}\b|^[ \t]*{n}[ \t]*=[^=]"
        ),
    };
    Regex::new(&pattern).is_ok_and(|re| re.is_match(code))
}

/// The code of an answer. No fence: the whole answer. One block: it. Several:
/// the longest block defining the entry point; else the longest block tagged
/// with the item's language; else all blocks joined in order (a solution
/// split into pieces).
pub fn extract_code(
    answer: &str,
    language: CodeLanguage,
    entry_point: Option<&str>,
) -> ExtractedCode {
    let blocks = fenced_blocks(answer);
    match blocks.len() {
        0 => ExtractedCode {
            code: answer.trim_matches('\n').to_string(),
            how: "whole answer (no code fence)".into(),
        },
        1 => ExtractedCode {
            code: blocks[0].body.clone(),
            how: "the only fenced block".into(),
        },
        n => {
            if let Some(entry) = entry_point {
                let defining: Vec<_> = blocks
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| defines(&b.body, language, entry))
                    .collect();
                if let Some((i, b)) = longest(defining) {
                    return ExtractedCode {
                        code: b.body.clone(),
                        how: format!("fenced block {} of {n} (defines `{entry}`)", i + 1),
                    };
                }
            }
            let tagged: Vec<_> = blocks
                .iter()
                .enumerate()
                .filter(|(_, b)| language.fence_tags().contains(&b.tag.as_str()))
                .collect();
            if let Some((i, b)) = longest(tagged) {
                return ExtractedCode {
                    code: b.body.clone(),
                    how: format!(
                        "fenced block {} of {n} (longest tagged {})",
                        i + 1,
                        language.id()
                    ),
                };
            }
            ExtractedCode {
                code: blocks
                    .iter()
                    .map(|b| b.body.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                how: format!("all {n} fenced blocks joined"),
            }
        }
    }
}

// ------------------------------------------------------- output prediction

/// A line that reads as prose about the output rather than output:
/// "The output is:", "This prints", "Output:", "Explanation".
static PROSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:the (?:program|code|script|output|result|answer)\b|this (?:program|code|script|prints|outputs|will|is)\b|it (?:prints|outputs|will)\b|(?:output|answer|result|explanation)\s*:|here(?:'s| is)\b|sure\b|so the\b|therefore\b|because\b|note\b)|:\s*$",
    )
    .unwrap()
});

/// An output-prediction answer taken apart for the two checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictionAnswer {
    /// What the answer claims the program prints.
    pub content: String,
    pub fenced: bool,
    /// Lines of prose found around the output.
    pub prose: Vec<String>,
}

/// Splits an answer into the claimed output and what surrounds it. In a
/// fenced answer the first block is the output and any non-blank line
/// outside the fences is prose. Otherwise leading and trailing prose lines
/// (and the blank lines next to them) are set aside; lines that occur in the
/// expected output are never prose.
pub fn split_prediction(answer: &str, expected: &str) -> PredictionAnswer {
    let answer = answer.replace("\r\n", "\n");
    let blocks = fenced_blocks(&answer);
    if let Some(first) = blocks.first() {
        let mut inside = false;
        let mut prose = Vec::new();
        for line in answer.lines() {
            let t = line.trim_start();
            if t.starts_with("```") || t.starts_with("~~~") {
                inside = !inside;
            } else if !inside && !line.trim().is_empty() {
                prose.push(line.to_string());
            }
        }
        return PredictionAnswer {
            content: first.body.clone(),
            fenced: true,
            prose,
        };
    }
    let expected_lines: Vec<&str> = expected.lines().collect();
    let is_prose = |l: &str| PROSE.is_match(l) && !expected_lines.contains(&l);
    let lines: Vec<&str> = answer.split('\n').collect();
    let mut start = 0;
    let mut end = lines.len();
    let mut prose = Vec::new();
    // Leading prose, with the blank lines that follow it.
    let mut i = 0;
    while i < end {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        if is_prose(lines[i]) {
            prose.push(lines[i].to_string());
            i += 1;
            while i < end && lines[i].trim().is_empty() {
                i += 1;
            }
            start = i;
        } else {
            break;
        }
    }
    // Trailing prose, with the blank lines before it.
    let mut j = end;
    while j > start {
        if lines[j - 1].trim().is_empty() {
            j -= 1;
            continue;
        }
        if is_prose(lines[j - 1]) {
            prose.push(lines[j - 1].to_string());
            j -= 1;
            while j > start && lines[j - 1].trim().is_empty() {
                j -= 1;
            }
            end = j;
        } else {
            break;
        }
    }
    PredictionAnswer {
        content: lines[start..end].join("\n"),
        fenced: false,
        prose,
    }
}

/// Leading blank lines and trailing newlines are judged by the format check;
/// correctness compares what lies between them, byte for byte.
fn core_of(text: &str) -> &str {
    let text = text.trim_end_matches('\n');
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches('\n').is_empty() {
            start += line.len();
        } else {
            break;
        }
    }
    &text[start..]
}

fn leading_blank_lines(text: &str) -> usize {
    text.split_inclusive('\n')
        .take_while(|l| *l == "\n")
        .count()
}

/// Blank lines after the last line (a single final newline is not one).
fn trailing_blank_lines(text: &str) -> usize {
    let newlines = text.len() - text.trim_end_matches('\n').len();
    newlines.saturating_sub(1)
}

/// The two checks of an output-prediction grade, weighted by `combine`.
pub fn prediction_checks(
    answer: &str,
    expected: &str,
    combine: PredictionCombine,
    rules: [bool; 3],
) -> (Vec<Check>, bool, bool) {
    let expected = expected.replace("\r\n", "\n");
    let split = split_prediction(answer, &expected);
    let correct = core_of(&split.content) == core_of(&expected);
    let mut correctness = Check::new(
        "correctness",
        correct,
        format!(
            "expected {:?}, answer gives {:?}",
            tail_chars(core_of(&expected), 400),
            tail_chars(core_of(&split.content), 400)
        ),
    );
    let [no_fence, no_explanation, no_extra_blank_lines] = rules;
    let mut broken = Vec::new();
    if no_fence && split.fenced {
        broken.push("wrapped in a code fence".to_string());
    }
    if no_explanation && !split.prose.is_empty() {
        broken.push(format!("explanation around the output: {:?}", split.prose));
    }
    if no_extra_blank_lines {
        let (lead, exp_lead) = (
            leading_blank_lines(&split.content),
            leading_blank_lines(&expected),
        );
        let (trail, exp_trail) = (
            trailing_blank_lines(&split.content),
            trailing_blank_lines(&expected),
        );
        if lead > exp_lead || trail > exp_trail {
            broken.push(format!(
                "extra blank lines ({lead} before, {trail} after; the output has {exp_lead} and {exp_trail})"
            ));
        }
    }
    let enabled: Vec<&str> = [
        (no_fence, "no fence"),
        (no_explanation, "no explanation"),
        (no_extra_blank_lines, "no extra blank lines"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| *n)
    .collect();
    let formatted = broken.is_empty();
    let mut format = Check::new(
        "format",
        formatted,
        if enabled.is_empty() {
            "no format rules".to_string()
        } else if formatted {
            format!("rules hold: {}", enabled.join(", "))
        } else {
            broken.join("; ")
        },
    );
    match combine {
        PredictionCombine::Both => {
            correctness
                .detail
                .push_str(" [combine = both: 100 only with format]");
        }
        PredictionCombine::CorrectnessOnly => {
            format.weight = 0.0;
            format.detail.push_str(" [recorded, not scored]");
        }
        PredictionCombine::Weighted => correctness.weight = 3.0,
    }
    (vec![correctness, format], correct, formatted)
}

fn tail_chars(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        text.to_string()
    } else {
        let skip = count - max;
        format!("…{}", text.chars().skip(skip).collect::<String>())
    }
}

// ------------------------------------------------------------------ running

/// What the code graders run programs with: one sandbox, the interpreters,
/// the default limits, and a pool of warm Python workers (one per grading
/// slot, so concurrent grades never share a worker).
pub struct CodeRunner {
    sandbox: Arc<Sandbox>,
    python: Interpreter,
    node: Option<Interpreter>,
    limits: Limits,
    workers: Mutex<Vec<WarmPython>>,
    slots: Semaphore,
    /// True output of each output-prediction program, by item version.
    outputs: Mutex<HashMap<String, Execution>>,
}

impl std::fmt::Debug for CodeRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRunner")
            .field("isolation", &self.sandbox.isolation().summary())
            .field("python", &self.python.version)
            .field("node", &self.node.as_ref().map(|n| &n.version))
            .finish()
    }
}

impl CodeRunner {
    /// `slots` warm Python workers at most (started on first use);
    /// JavaScript runs cold when `node` is given.
    pub fn new(
        sandbox: Arc<Sandbox>,
        python: Interpreter,
        node: Option<Interpreter>,
        limits: Limits,
        slots: usize,
    ) -> Self {
        CodeRunner {
            sandbox,
            python,
            node,
            limits,
            workers: Mutex::new(Vec::new()),
            slots: Semaphore::new(slots.max(1)),
            outputs: Mutex::new(HashMap::new()),
        }
    }

    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// Stops the warm workers (they would otherwise die with the process).
    pub async fn shutdown(&self) {
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            w.shutdown().await;
        }
    }

    fn limits_for(&self, timeout_secs: Option<f64>) -> Option<Limits> {
        timeout_secs.map(|t| {
            let wall_ms = (t * 1000.0).round().max(1.0) as u64;
            Limits {
                wall_time_ms: wall_ms,
                cpu_seconds: wall_ms.div_ceil(1000).max(1),
                ..self.limits.clone()
            }
        })
    }

    /// Python tests on a warm worker (default limits) or cold (an item's own timeout).
    async fn python_tests(
        &self,
        solution: &str,
        tests: &[TestCase],
        timeout_secs: Option<f64>,
    ) -> Result<PythonTestReport, SandboxError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SandboxError::Setup("the code runner is shut down".into()))?;
        // The warm worker needs its own PID namespace (it kills every process
        // it can signal between jobs); an unconfined sandbox without one runs
        // every test cold instead.
        let cold_limits = match self.limits_for(timeout_secs) {
            Some(limits) => Some(limits),
            None if !self.sandbox.isolation().pid_namespace => Some(self.limits.clone()),
            None => None,
        };
        if let Some(limits) = cold_limits {
            let runner = PythonRunner::new(self.sandbox.clone(), self.python.clone(), limits);
            return runner.run_tests(solution, tests).await;
        }
        let pooled = self.workers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut worker = match pooled {
            Some(w) => w,
            None => {
                WarmPython::start(
                    self.sandbox.clone(),
                    self.python.clone(),
                    self.limits.clone(),
                )
                .await?
            }
        };
        let runner = PythonRunner::new(
            self.sandbox.clone(),
            self.python.clone(),
            self.limits.clone(),
        );
        let report = runner.run_tests_warm(&mut worker, solution, tests).await;
        if report.is_ok() {
            self.workers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(worker);
        } else {
            worker.shutdown().await;
        }
        report
    }

    fn node(&self) -> Result<&Interpreter, SandboxError> {
        self.node.as_ref().ok_or_else(|| {
            SandboxError::Setup(
                "this item is JavaScript but `node` is not installed on the grading host".into(),
            )
        })
    }

    /// JavaScript tests, each a cold job: the harness reads a per-execution
    /// token from stdin before loading the solution and prints it only after
    /// the test ran, so an early `process.exit(0)` fails the test.
    async fn javascript_tests(
        &self,
        solution: &str,
        tests: &[TestCase],
        timeout_secs: Option<f64>,
    ) -> Result<PythonTestReport, SandboxError> {
        const HARNESS: &str = "const __token = require('fs').readFileSync(0, 'utf8').trim();\n\
                               require('./main.js');\n\
                               process.stdout.write('\\n' + __token + '\\n');\n";
        let node = self.node()?;
        let limits = self
            .limits_for(timeout_secs)
            .unwrap_or_else(|| self.limits.clone());
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SandboxError::Setup("the code runner is shut down".into()))?;
        let mut verdicts = Vec::new();
        for test in tests {
            let token = random_token();
            let main = format!("{solution}\n;\n{}\n", test.code);
            let mut job = node.job(
                "harness.js",
                vec![
                    ("harness.js".into(), HARNESS.as_bytes().to_vec()),
                    ("main.js".into(), main.into_bytes()),
                ],
                &limits,
            );
            job.stdin = format!("{token}\n").into_bytes();
            let execution = self.sandbox.run(&job).await?;
            verdicts.push(yardstick_sandbox::TestVerdict::judge(
                &test.name, execution, &token,
            ));
        }
        Ok(PythonTestReport::from_verdicts(
            verdicts,
            self.sandbox.isolation().clone(),
            format!("node {}", node.version),
        ))
    }

    /// What `program` prints, run once per item version and remembered.
    async fn program_output(
        &self,
        key: &str,
        language: CodeLanguage,
        program: &str,
    ) -> Result<(Execution, String), SandboxError> {
        let interpreter = match language {
            CodeLanguage::Python => &self.python,
            CodeLanguage::Javascript => self.node()?,
        };
        let described = format!("{} {}", interpreter.language, interpreter.version);
        if let Some(e) = self
            .outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return Ok((e.clone(), described));
        }
        let file = match language {
            CodeLanguage::Python => "main.py",
            CodeLanguage::Javascript => "main.js",
        };
        let job = interpreter.job(
            file,
            vec![(file.to_string(), program.as_bytes().to_vec())],
            &self.limits,
        );
        let execution = {
            let _slot = self
                .slots
                .acquire()
                .await
                .map_err(|_| SandboxError::Setup("the code runner is shut down".into()))?;
            self.sandbox.run(&job).await?
        };
        self.outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), execution.clone());
        Ok((execution, described))
    }
}

/// 128 random bits (hex) for the JavaScript harness's completion marker.
fn random_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if filled.is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return format!("{:x}{:x}", t.as_nanos(), std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// "exit 1", "signal 24 (SIGXCPU)", "wall-time limit", … for a check detail.
pub fn describe_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Exited { code } => format!("exit {code}"),
        Outcome::Signaled { signal } => {
            let name = match signal {
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                24 => " (SIGXCPU, CPU limit)",
                25 => " (SIGXFSZ, file-size limit)",
                _ => "",
            };
            format!("signal {signal}{name}")
        }
        Outcome::WallTimeout => "wall-time limit".into(),
        Outcome::OutputLimit => "output limit".into(),
        Outcome::Lost { detail } => format!("lost: {detail}"),
    }
}

fn execution_detail(verdict: &str, e: &Execution) -> String {
    let mut d = format!(
        "{verdict} · {} ms · {}",
        e.duration_ms,
        describe_outcome(&e.outcome)
    );
    let out = e.stdout.tail.trim_end();
    if !out.is_empty() {
        d.push_str(&format!(" · stdout: {}", tail_chars(out, STDOUT_TAIL)));
    }
    let err = e.stderr.tail.trim_end();
    if !err.is_empty() {
        d.push_str(&format!(" · stderr: {}", tail_chars(err, STDERR_TAIL)));
    }
    d
}

/// A check's name for test `i`: its index and the head of its first line.
fn test_name(i: usize, code: &str) -> String {
    let head = code
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .unwrap_or("");
    let head: String = head.chars().take(60).collect();
    format!("test {}: {head}", i + 1)
}

fn isolation_check(level: &str, interpreter: &str) -> Check {
    Check {
        name: "isolation".into(),
        passed: true,
        weight: 0.0,
        detail: format!("{level} · {interpreter}"),
    }
}

/// The grader of `code_tests` and `output_prediction` items.
#[derive(Debug, Clone)]
pub struct CodeGrader {
    runner: Arc<CodeRunner>,
}

impl CodeGrader {
    pub fn new(runner: Arc<CodeRunner>) -> Self {
        CodeGrader { runner }
    }
}

#[async_trait]
impl Grader for CodeGrader {
    async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError> {
        let spec = &item.grader;
        let fail = |message: String| GradeError {
            grader: spec.grader_id().to_string(),
            item: item.id.clone(),
            message,
        };
        match spec {
            GraderSpec::CodeTests {
                language,
                entry_point,
                tests,
                setup,
                timeout_secs,
                ..
            } => {
                if tests.is_empty() {
                    return Err(fail("the item has no tests".into()));
                }
                let extracted = extract_code(answer, *language, entry_point.as_deref());
                let solution = match setup {
                    Some(s) => format!("{s}\n\n{}\n", extracted.code),
                    None => format!("{}\n", extracted.code),
                };
                let cases: Vec<TestCase> = tests
                    .iter()
                    .enumerate()
                    .map(|(i, code)| TestCase {
                        name: test_name(i, code),
                        code: code.clone(),
                    })
                    .collect();
                let report = match language {
                    CodeLanguage::Python => {
                        self.runner
                            .python_tests(&solution, &cases, *timeout_secs)
                            .await
                    }
                    CodeLanguage::Javascript => {
                        self.runner
                            .javascript_tests(&solution, &cases, *timeout_secs)
                            .await
                    }
                }
                .map_err(|e| fail(e.to_string()))?;
                let mut checks: Vec<Check> = report
                    .verdicts
                    .iter()
                    .map(|v| {
                        Check::new(
                            v.name.clone(),
                            v.passed,
                            execution_detail(
                                if v.passed { "passed" } else { "failed" },
                                &v.execution,
                            ),
                        )
                    })
                    .collect();
                checks.push(isolation_check(
                    &report.isolation.summary(),
                    &report.interpreter,
                ));
                checks.push(Check {
                    name: "extraction".into(),
                    passed: true,
                    weight: 0.0,
                    detail: extracted.how.clone(),
                });
                Ok(Grade::from_checks(
                    spec.grader_id(),
                    VERSION,
                    checks,
                    Some(extracted.code),
                ))
            }
            GraderSpec::OutputPrediction {
                language,
                program,
                combine,
                no_fence,
                no_explanation,
                no_extra_blank_lines,
                ..
            } => {
                let (execution, interpreter) = self
                    .runner
                    .program_output(&item.version(), *language, program)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                if !execution.success() {
                    return Err(fail(format!(
                        "the item's program did not run cleanly, so there is no true output: {}",
                        execution_detail("program", &execution)
                    )));
                }
                if execution.stdout.truncated {
                    return Err(fail(
                        "the item's program prints more than the sandbox keeps".into(),
                    ));
                }
                let expected = &execution.stdout.tail;
                let (mut checks, correct, formatted) = prediction_checks(
                    answer,
                    expected,
                    *combine,
                    [*no_fence, *no_explanation, *no_extra_blank_lines],
                );
                let extracted = split_prediction(answer, expected).content;
                checks.push(isolation_check(
                    &execution.isolation.summary(),
                    &interpreter,
                ));
                let mut grade =
                    Grade::from_checks(spec.grader_id(), VERSION, checks, Some(extracted));
                if *combine == PredictionCombine::Both {
                    grade.score = if correct && formatted { 100.0 } else { 0.0 };
                }
                Ok(grade)
            }
            other => Err(fail(format!(
                "the code grader cannot grade `{}` items",
                other.grader_id()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY: CodeLanguage = CodeLanguage::Python;

    #[test]
    fn an_answer_that_is_only_code_is_taken_whole() {
        let e = extract_code("def add(a, b):\n    return a + b\n", PY, Some("add"));
        assert_eq!(e.code, "def add(a, b):\n    return a + b");
        assert!(e.how.contains("no code fence"));
    }

    #[test]
    fn a_fenced_block_with_or_without_tag_is_taken_without_prose() {
        let tagged = "Here you go:\n\n```python\ndef f():\n    return 1\n```\n\nThis returns 1.";
        assert_eq!(
            extract_code(tagged, PY, Some("f")).code,
            "def f():\n    return 1"
        );
        let bare = "Sure.\n```\nx = 1\n```";
        assert_eq!(extract_code(bare, PY, None).code, "x = 1");
        let tilde = "~~~py\nprint(2)\n~~~";
        assert_eq!(extract_code(tilde, PY, None).code, "print(2)");
    }

    #[test]
    fn several_blocks_prefer_the_entry_point_then_the_language_then_all() {
        let answer = "Usage:\n```python\nprint(add(1, 2))\n```\nImplementation:\n```python\ndef add(a, b):\n    return a + b\n```\nOutput:\n```\n3\n```";
        let e = extract_code(answer, PY, Some("add"));
        assert_eq!(e.code, "def add(a, b):\n    return a + b");
        assert!(e.how.contains("block 2 of 3"), "{}", e.how);
        let tagged = "```text\nlong long long long long\n```\n```python\nx = 1\n```";
        assert_eq!(extract_code(tagged, PY, Some("missing")).code, "x = 1");
        let untagged = "```\nimport math\n```\n```\ny = math.pi\n```";
        let e = extract_code(untagged, PY, None);
        assert_eq!(e.code, "import math\n\ny = math.pi");
        assert!(e.how.contains("joined"));
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end_and_nested_backticks_stay_inside() {
        let cut = "```python\ndef f():\n    return 2";
        assert_eq!(extract_code(cut, PY, None).code, "def f():\n    return 2");
        let nested = "````markdown\n```python\nx\n```\n````";
        assert_eq!(fenced_blocks(nested)[0].body, "```python\nx\n```");
    }

    #[test]
    fn definitions_are_found_per_language() {
        assert!(defines("async def go(x):\n  pass", PY, "go"));
        assert!(defines("class Stack:\n  pass", PY, "Stack"));
        assert!(defines("go = lambda x: x", PY, "go"));
        assert!(!defines("go == 1", PY, "go"));
        assert!(!defines("def going(x): pass", PY, "go"));
        let js = CodeLanguage::Javascript;
        assert!(defines("function add(a, b) { return a + b }", js, "add"));
        assert!(defines("const add = (a, b) => a + b;", js, "add"));
        assert!(!defines("console.log(add(1, 2))", js, "add"));
    }

    fn grade(answer: &str, expected: &str, combine: PredictionCombine) -> (bool, bool, Vec<Check>) {
        let (checks, c, f) = prediction_checks(answer, expected, combine, [true, true, true]);
        (c, f, checks)
    }

    #[test]
    fn exact_output_passes_both_checks() {
        let (c, f, _) = grade("4", "4\n", PredictionCombine::Both);
        assert!(c && f);
        let (c, f, _) = grade("a\n\nb\n", "a\n\nb\n", PredictionCombine::Both);
        assert!(c && f, "interior blank lines are part of the output");
        let (c, f, _) = grade("[1, 2]\r\n", "[1, 2]\n", PredictionCombine::Both);
        assert!(c && f, "CRLF is the transport, not the answer");
    }

    #[test]
    fn right_output_in_the_wrong_shape_is_correct_but_not_formatted() {
        for answer in [
            "```\n4\n```",
            "The output is:\n4",
            "4\n\nThis is because 1 + 3 = 4.",
            "\n\n4",
            "4\n\n\n",
        ] {
            let (c, f, checks) = grade(answer, "4\n", PredictionCombine::Both);
            assert!(c, "{answer:?}: {checks:?}");
            assert!(!f, "{answer:?}: {checks:?}");
        }
    }

    #[test]
    fn wrong_or_extra_output_is_incorrect() {
        for answer in ["5", "4\n5", " 4", "4 ", "It prints 4 or maybe 5:\n4\n5"] {
            let (c, _, _) = grade(answer, "4\n", PredictionCombine::Both);
            assert!(!c, "{answer:?}");
        }
        // Output lines that look like prose stay output.
        let (c, f, _) = grade("Result:\n3", "Result:\n3\n", PredictionCombine::Both);
        assert!(c && f);
    }

    #[test]
    fn combine_rules_weigh_the_two_checks() {
        let (_, _, checks) = grade("```\n4\n```", "4\n", PredictionCombine::Weighted);
        let g = Grade::from_checks("output_prediction", VERSION, checks, None);
        assert_eq!(g.score, 75.0);
        let (_, _, checks) = grade("```\n4\n```", "4\n", PredictionCombine::CorrectnessOnly);
        let g = Grade::from_checks("output_prediction", VERSION, checks, None);
        assert_eq!(g.score, 100.0);
        let (checks, _, f) = prediction_checks(
            "```\n4\n```",
            "4\n",
            PredictionCombine::Both,
            [false, true, true],
        );
        assert!(f, "{checks:?}");
    }

    #[test]
    fn outcomes_read_as_words() {
        assert_eq!(
            describe_outcome(&Outcome::Signaled { signal: 24 }),
            "signal 24 (SIGXCPU, CPU limit)"
        );
        assert_eq!(describe_outcome(&Outcome::Exited { code: 1 }), "exit 1");
        assert_eq!(
            test_name(0, "# c\nassert add(1, 2) == 3"),
            "test 1: assert add(1, 2) == 3"
        );
    }
}
