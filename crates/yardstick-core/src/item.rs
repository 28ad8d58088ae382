use crate::{Dimension, Rubric};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How an answer is graded. Bank files write it as a table with a `type` key:
/// `grader = { type = "numeric", tolerance = 0.01 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraderSpec {
    /// The answer equals one of the item's references after normalisation
    /// (trim, collapse whitespace, case-fold unless `case_sensitive`, strip
    /// surrounding quotes, code fences and trailing punctuation).
    Exact {
        #[serde(default)]
        case_sensitive: bool,
    },
    /// Every pattern must match the answer (`must_match = true`) or none may
    /// (`must_match = false`); score = share of patterns that behave.
    Regex {
        patterns: Vec<String>,
        #[serde(default = "yes")]
        must_match: bool,
        #[serde(default)]
        case_insensitive: bool,
    },
    /// A number in the answer equals the first reference within tolerance.
    Numeric {
        #[serde(default)]
        tolerance: f64,
        /// Relative tolerance (fraction of the reference), applied on top of `tolerance`.
        #[serde(default)]
        relative: f64,
        #[serde(default)]
        pick: NumberPick,
    },
    /// The answer is (or contains) a JSON value whose fields match; score = share of fields.
    JsonFields { fields: Vec<JsonFieldCheck> },
    /// A multiple-choice letter (or label) equal to the first reference.
    Choice { choices: Vec<String> },
    /// An order of labels compared with the reference order.
    Ranking {
        order: Vec<String>,
        #[serde(default)]
        rule: RankingRule,
    },
    /// "Material constraint": the answer is checked against `item.materials`
    /// (quotes exist verbatim, cited paragraphs exist and fit the sentence
    /// citing them, required facts present, forbidden claims and numbers from
    /// outside the material absent, declines when the material is silent).
    /// Score = weighted checklist; see `GroundingWeights`.
    Grounding {
        /// Every quoted span of four words or more must occur in the material.
        #[serde(default = "yes")]
        quotes: bool,
        /// Every cited paragraph must exist and share key terms with the
        /// sentence that cites it.
        #[serde(default = "yes")]
        citations: bool,
        /// Every number in the answer must occur in the material (or in the
        /// prompt, or in `allow_numbers`); anything else is an outside claim.
        #[serde(default = "yes")]
        numbers: bool,
        /// The answer must cite at least one paragraph or quote the material.
        #[serde(default)]
        require_citation: bool,
        /// Facts the answer must state.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        required: Vec<FactRule>,
        /// Claims the answer must not make (tempting answers from outside the
        /// material, or the wrong figure next to the right one).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        forbidden: Vec<FactRule>,
        /// The material does not answer the question: the correct answer says
        /// so (matches a decline pattern) and invents nothing.
        #[serde(default)]
        unsupported: bool,
        /// Numbers the answer may use although the material lacks them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        allow_numbers: Vec<f64>,
        /// Regexes that count as "the material does not say"; absent means
        /// the built-in set. Used only when `unsupported` is true.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decline_patterns: Option<Vec<String>>,
        #[serde(default)]
        weights: GroundingWeights,
    },
    /// Integrity probe (canary): the question is about something that does
    /// not exist or rests on a false premise. 100 only when the answer
    /// declines or flags it *and* fabricates nothing (no DOI, URL, arXiv id,
    /// ISBN, author–year citation, dated quoted title, API call of a probed
    /// name, or unprompted specific number).
    Integrity {
        /// Regexes that count as declining or flagging; absent means the
        /// built-in set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decline_patterns: Option<Vec<String>>,
        /// Names that do not exist (`numpy.quantum_sort`); a code-like use of
        /// one (a call with arguments, or a call statement) is a fabrication.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        probe_terms: Vec<String>,
        /// Which built-in fabrication detectors run; absent means all of them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forbid: Option<Vec<Fabrication>>,
        /// Extra regexes whose match counts as a fabrication.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        forbidden: Vec<String>,
        /// Literal strings never counted as fabrication (a real status code
        /// the correct answer may mention, a real alternative API).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        allow: Vec<String>,
    },
    /// Structured-output and formatting compliance, each rule one check.
    Format {
        /// The answer is JSON (bare or in one code fence) valid against this
        /// JSON Schema subset: type, required, properties,
        /// additionalProperties (boolean), items, enum, const, minItems,
        /// maxItems, minLength, maxLength, minimum, maximum, pattern.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json_schema: Option<serde_json::Value>,
        /// The answer contains a Markdown table of this shape.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        table: Option<TableRule>,
        /// Headings the answer must contain (Markdown `#`, a bold line, or a
        /// line ending in a colon), compared case-insensitively.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sections: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_words: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_words: Option<u64>,
        /// Upper bound on non-blank lines.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_lines: Option<u64>,
        /// The answer must not open with filler ("Sure", "Certainly",
        /// "Here is", "As an AI", …).
        #[serde(default)]
        forbidden_preamble: bool,
        /// Regexes that must not match the answer.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        forbidden: Vec<String>,
    },
    /// Hidden tests: the code extracted from the answer runs in the sandbox,
    /// then each test snippet runs after it in a fresh process; score =
    /// 100 × passed / total. A timeout or crash fails its test, never the
    /// grader. The item's first reference is the reference solution.
    CodeTests {
        #[serde(default)]
        language: CodeLanguage,
        /// The function (or class) the tests call. Extraction prefers the
        /// fenced block that defines it when an answer has several.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry_point: Option<String>,
        /// Code run after the solution, one process per test: it passes
        /// when it finishes without error (`assert add(1, 2) == 3`).
        tests: Vec<String>,
        /// Code run before the solution (imports, helper definitions the
        /// prompt showed); the solution may redefine anything in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setup: Option<String>,
        /// Wall-time limit per test, seconds (default: the sandbox's 20 s,
        /// with 10 s of CPU).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_secs: Option<f64>,
        /// Answers known to be wrong. Not used in grading: `yardstick
        /// selfcheck` checks that each scores below 100, which shows that
        /// the tests can fail at all.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        known_wrong: Vec<String>,
    },
    /// "What exactly does this program print?": `program` runs in the
    /// sandbox for the true output; the answer is checked twice — its
    /// content against that output (correctness) and its shape against the
    /// format rules (format) — and `combine` says how the two make the score.
    OutputPrediction {
        #[serde(default)]
        language: CodeLanguage,
        program: String,
        #[serde(default)]
        combine: PredictionCombine,
        /// The answer must not be wrapped in a code fence.
        #[serde(default = "yes")]
        no_fence: bool,
        /// The answer must be only the output: no line of prose around it
        /// ("The output is:").
        #[serde(default = "yes")]
        no_explanation: bool,
        /// No blank line before the output and none after it.
        #[serde(default = "yes")]
        no_extra_blank_lines: bool,
        /// Answers known to be wrong, for `yardstick selfcheck` only.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        known_wrong: Vec<String>,
    },
    /// An LLM judge scores the answer against the item's first reference
    /// with the rubric's anchored scales; score = Σ criteria / Σ maxima × 100.
    /// Bank files name the rubric (`rubric = "incident"`); the loader puts
    /// its content here, so the item's version follows the rubric.
    Judge { rubric: Rubric },
}

fn yes() -> bool {
    true
}

/// The language of a code item's programs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeLanguage {
    #[default]
    Python,
    /// Run with Node (when installed on the grading host).
    Javascript,
}

impl CodeLanguage {
    pub fn id(self) -> &'static str {
        match self {
            CodeLanguage::Python => "python",
            CodeLanguage::Javascript => "javascript",
        }
    }

    /// Fence tags that mean this language (lower-case).
    pub fn fence_tags(self) -> &'static [&'static str] {
        match self {
            CodeLanguage::Python => &["python", "py", "python3"],
            CodeLanguage::Javascript => &["javascript", "js", "node", "nodejs"],
        }
    }
}

/// How the two checks of an output-prediction item make its score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionCombine {
    /// 100 only when the output is right *and* the format rules hold; else 0.
    /// The default: the question asks for exactly the output.
    #[default]
    Both,
    /// The output decides (100 or 0); format is recorded, not scored.
    CorrectnessOnly,
    /// Correctness weighs 3, format 1: right output in the wrong shape
    /// scores 75, the right shape around a wrong output 25.
    Weighted,
}

impl GraderSpec {
    /// The grader id stored with every grade.
    pub fn grader_id(&self) -> &'static str {
        match self {
            GraderSpec::Exact { .. } => "exact",
            GraderSpec::Regex { .. } => "regex",
            GraderSpec::Numeric { .. } => "numeric",
            GraderSpec::JsonFields { .. } => "json_fields",
            GraderSpec::Choice { .. } => "choice",
            GraderSpec::Ranking { .. } => "ranking",
            GraderSpec::Grounding { .. } => "grounding",
            GraderSpec::Integrity { .. } => "integrity",
            GraderSpec::Format { .. } => "format",
            GraderSpec::CodeTests { .. } => "code_tests",
            GraderSpec::OutputPrediction { .. } => "output_prediction",
            GraderSpec::Judge { .. } => "judge",
        }
    }

    /// Graders that run code, and therefore need a sandbox.
    pub fn needs_sandbox(&self) -> bool {
        matches!(
            self,
            GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. }
        )
    }
}

/// Which number of the answer a numeric grader reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberPick {
    /// The last number in the answer (models tend to end with the result).
    #[default]
    Last,
    First,
    /// The answer must contain exactly one number.
    Only,
}

/// How partial credit is given for a ranking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankingRule {
    /// 100 × share of label pairs in the reference's relative order
    /// (a normalised Kendall distance); exact order = 100, reversed = 0.
    #[default]
    Pairwise,
    /// 100 for the exact order, 0 otherwise.
    ExactOnly,
    /// 100 × share of labels in their reference position.
    Position,
}

/// One field check of a `json_fields` grader: `path` is dot-separated, array
/// indexes are numbers (`items.0.name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFieldCheck {
    pub path: String,
    /// Expected value; absent means the field only has to exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
}

/// A fact rule of a grounding grader: written as a table with exactly one of
/// `keywords`, `number` or `regex`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactRule {
    Keywords(KeywordRule),
    Number(NumberRule),
    Regex(RegexRule),
}

impl FactRule {
    /// A short name for checks: the label, or the rule itself.
    pub fn describe(&self) -> String {
        match self {
            FactRule::Keywords(k) => k.label.clone().unwrap_or_else(|| {
                let joiner = if k.any { " | " } else { " + " };
                k.keywords.join(joiner)
            }),
            FactRule::Number(n) => n.label.clone().unwrap_or_else(|| {
                if n.tolerance > 0.0 {
                    format!("{} ± {}", n.number, n.tolerance)
                } else {
                    n.number.to_string()
                }
            }),
            FactRule::Regex(r) => r.label.clone().unwrap_or_else(|| format!("/{}/", r.regex)),
        }
    }
}

/// Whole words or phrases, case-insensitive: all of them (or, with `any`,
/// at least one) must occur.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    pub keywords: Vec<String>,
    #[serde(default)]
    pub any: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Some number in the answer within `tolerance` of `number` (thousands
/// separators and percent signs understood).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRule {
    pub number: f64,
    #[serde(default)]
    pub tolerance: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A regular expression (Rust `regex` syntax; add `(?i)` for case-insensitive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexRule {
    pub regex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Weight of each group of grounding checks. A group's weight is shared
/// equally by its checks (three quotes each weigh `quotes / 3`), so a long
/// answer neither gains nor loses weight by quoting more; a group with
/// nothing to check weighs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroundingWeights {
    pub quotes: f64,
    pub citations: f64,
    /// "at least one citation" (`require_citation`).
    pub citation_present: f64,
    pub required: f64,
    pub forbidden: f64,
    pub numbers: f64,
    /// "says the material does not contain it" (`unsupported`).
    pub decline: f64,
}

impl Default for GroundingWeights {
    /// Facts and the decline weigh double: they are what the question asks.
    fn default() -> Self {
        GroundingWeights {
            quotes: 1.0,
            citations: 1.0,
            citation_present: 1.0,
            required: 2.0,
            forbidden: 1.0,
            numbers: 1.0,
            decline: 2.0,
        }
    }
}

/// The built-in fabrication detectors of an integrity probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fabrication {
    Doi,
    Url,
    Arxiv,
    Isbn,
    /// "Smith et al. (2019)", "Halvorsen and Iqbal (2019)".
    AuthorYear,
    /// A quoted title of three words or more next to a year.
    QuotedTitleYear,
    /// A code-like use of a `probe_terms` name.
    ApiSignature,
    /// A percentage, a decimal or an integer of 3+ digits (not a year, not a
    /// version) that the prompt does not contain.
    Number,
}

impl Fabrication {
    pub const ALL: [Fabrication; 8] = [
        Fabrication::Doi,
        Fabrication::Url,
        Fabrication::Arxiv,
        Fabrication::Isbn,
        Fabrication::AuthorYear,
        Fabrication::QuotedTitleYear,
        Fabrication::ApiSignature,
        Fabrication::Number,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Fabrication::Doi => "doi",
            Fabrication::Url => "url",
            Fabrication::Arxiv => "arxiv",
            Fabrication::Isbn => "isbn",
            Fabrication::AuthorYear => "author_year",
            Fabrication::QuotedTitleYear => "quoted_title_year",
            Fabrication::ApiSignature => "api_signature",
            Fabrication::Number => "number",
        }
    }
}

/// The Markdown table a `format` grader expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRule {
    /// Header cells, in order (compared case-insensitively, trimmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Bounds on data rows (the header and the `---` row not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
}

/// The numbered paragraphs of a material, in order: `(number, text)` where
/// the text runs up to the next paragraph marker. A paragraph starts on a
/// line whose first token (after optional `#`, `*`, `>` and spaces) is
/// `[P3]`, `P3.`, `P3:`, `P3)`, `¶3` or `Paragraph 3` followed by `.`, `:`
/// or `)`. Shared by the grounding grader and bank validation, so the two
/// never disagree about which paragraphs exist.
pub fn numbered_paragraphs(materials: &str) -> Vec<(u32, &str)> {
    let mut starts: Vec<(usize, u32)> = Vec::new();
    let mut offset = 0;
    for line in materials.split_inclusive('\n') {
        let lead = line.len() - line.trim_start_matches(['#', '*', '>', ' ', '\t']).len();
        if let Some(n) = paragraph_marker(&line[lead..]) {
            starts.push((offset + lead, n));
        }
        offset += line.len();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &(start, n))| {
            let end = starts.get(i + 1).map_or(materials.len(), |s| s.0);
            (n, materials[start..end].trim_end())
        })
        .collect()
}

/// The paragraph number a line starts with, if it starts with a marker.
fn paragraph_marker(line: &str) -> Option<u32> {
    let digits_then = |rest: &str, closers: &[char]| -> Option<u32> {
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        let after = rest[end..].chars().next()?;
        (end > 0 && closers.contains(&after))
            .then(|| rest[..end].parse().ok())
            .flatten()
    };
    if let Some(rest) = line.strip_prefix("[P") {
        return digits_then(rest, &[']']);
    }
    if let Some(rest) = line.strip_prefix('¶') {
        return digits_then(rest.trim_start(), &['.', ':', ')', ' ']);
    }
    if let Some(n) = line
        .strip_prefix('P')
        .and_then(|r| digits_then(r, &['.', ':', ')']))
    {
        return Some(n);
    }
    let lower = line.get(..10)?.to_ascii_lowercase();
    if lower == "paragraph " {
        return digits_then(&line[10..], &['.', ':', ')']);
    }
    None
}

/// A bank item. Its version is the hash of everything else in it, so a changed
/// item is a new item version and old attempts keep pointing at the text they saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub dimension: Dimension,
    pub prompt: String,
    /// Optional system message sent before the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Source material the prompt refers to (sent above the prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materials: Option<String>,
    /// Items sharing a cluster (e.g. a source document) are not independent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub grader: GraderSpec,
    /// Reference answer(s); the first is the canonical one.
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Answers that must score low (a typical wrong answer, a fabrication):
    /// the bank's own test grades each one, as it grades the first reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_bad: Vec<String>,
    /// A judged part next to a rule grader (clarity of a formatted answer);
    /// see [`JudgedPart::combine`](crate::JudgedPart::combine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged: Option<crate::JudgedPart>,
}

impl Item {
    /// An item with every optional part empty. Code that builds items
    /// (tests, importers, benches) starts here with struct-update syntax,
    /// `Item { references: vec![..], ..Item::new(..) }`, so a new optional
    /// field is added in this one place.
    pub fn new(
        id: impl Into<String>,
        dimension: Dimension,
        prompt: impl Into<String>,
        grader: GraderSpec,
    ) -> Item {
        Item {
            id: id.into(),
            dimension,
            prompt: prompt.into(),
            system: None,
            materials: None,
            cluster: None,
            grader,
            references: Vec::new(),
            tags: Vec::new(),
            known_bad: Vec::new(),
            judged: None,
        }
    }

    /// Content hash (16 hex digits of SHA-256 over the item's canonical JSON).
    pub fn version(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("items always serialize");
        let digest = Sha256::digest(&canonical);
        hex::encode(&digest[..8])
    }

    /// The rubric a judge applies to this item: the judge grader's, or the
    /// judged part's of a rule item; `None` for purely rule-graded items.
    pub fn judge_rubric(&self) -> Option<&Rubric> {
        match (&self.grader, &self.judged) {
            (GraderSpec::Judge { rubric }, _) => Some(rubric),
            (_, Some(part)) => Some(&part.rubric),
            _ => None,
        }
    }

    /// The user message as sent to the model: materials first, then the prompt.
    pub fn user_message(&self) -> String {
        match &self.materials {
            Some(m) => format!("{m}\n\n{}", self.prompt),
            None => self.prompt.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            references: vec!["4".into()],
            ..Item::new(
                "arith-1",
                Dimension::Judgment,
                "What is 2+2?",
                GraderSpec::Numeric {
                    tolerance: 0.0,
                    relative: 0.0,
                    pick: NumberPick::Last,
                },
            )
        }
    }

    #[test]
    fn version_changes_with_content_and_only_with_content() {
        let a = item();
        assert_eq!(a.version(), item().version());
        assert_eq!(a.version().len(), 16);
        let mut b = item();
        b.prompt.push(' ');
        assert_ne!(a.version(), b.version());
        let mut c = item();
        c.references = vec!["5".into()];
        assert_ne!(a.version(), c.version());
    }

    #[test]
    fn new_leaves_out_what_a_bank_file_may_leave_out() {
        let read: Item = serde_json::from_str(
            r#"{"id":"a","dimension":"judgment","prompt":"p","grader":{"type":"exact"}}"#,
        )
        .unwrap();
        let built = Item::new(
            "a",
            Dimension::Judgment,
            "p",
            GraderSpec::Exact {
                case_sensitive: false,
            },
        );
        assert_eq!(built, read);
        assert_eq!(built.version(), read.version());
    }

    #[test]
    fn grader_spec_reads_from_a_tagged_table() {
        let g: GraderSpec =
            serde_json::from_str(r#"{"type":"ranking","order":["B","A"],"rule":"position"}"#)
                .unwrap();
        assert_eq!(
            g,
            GraderSpec::Ranking {
                order: vec!["B".into(), "A".into()],
                rule: RankingRule::Position
            }
        );
        assert!(serde_json::from_str::<GraderSpec>(r#"{"type":"numeric","tolerence":1}"#).is_err());
    }

    #[test]
    fn new_graders_read_with_defaults() {
        let g: GraderSpec = serde_json::from_str(
            r#"{"type":"grounding","required":[{"number":18.9,"tolerance":0.05},{"keywords":["Dunmere"]},{"regex":"P5"}],"weights":{"required":3}}"#,
        )
        .unwrap();
        let GraderSpec::Grounding {
            quotes,
            citations,
            numbers,
            unsupported,
            required,
            weights,
            ..
        } = g
        else {
            panic!("not grounding: {g:?}")
        };
        assert!(quotes && citations && numbers && !unsupported);
        assert!(matches!(&required[0], FactRule::Number(n) if n.tolerance == 0.05));
        assert!(matches!(&required[1], FactRule::Keywords(k) if !k.any));
        assert!(matches!(&required[2], FactRule::Regex(_)));
        assert_eq!(weights.required, 3.0);
        assert_eq!(weights.quotes, 1.0);
        // A fact rule with a misspelt key matches no variant.
        assert!(serde_json::from_str::<GraderSpec>(
            r#"{"type":"grounding","required":[{"keyword":["x"]}]}"#
        )
        .is_err());
        let f: GraderSpec =
            serde_json::from_str(r#"{"type":"integrity","forbid":["doi","author_year"]}"#).unwrap();
        assert_eq!(f.grader_id(), "integrity");
        let t: GraderSpec = serde_json::from_str(
            r#"{"type":"format","table":{"columns":["a"],"min_rows":2},"max_words":50}"#,
        )
        .unwrap();
        assert_eq!(t.grader_id(), "format");
    }

    #[test]
    fn code_graders_read_with_defaults() {
        let g: GraderSpec = serde_json::from_str(
            r#"{"type":"code_tests","entry_point":"add","tests":["assert add(1,2)==3"]}"#,
        )
        .unwrap();
        assert_eq!(g.grader_id(), "code_tests");
        assert!(g.needs_sandbox());
        let GraderSpec::CodeTests {
            language,
            known_wrong,
            timeout_secs,
            ..
        } = g
        else {
            panic!("not code_tests")
        };
        assert_eq!(language, CodeLanguage::Python);
        assert!(known_wrong.is_empty() && timeout_secs.is_none());
        let p: GraderSpec = serde_json::from_str(
            r#"{"type":"output_prediction","program":"print(1)","combine":"weighted","no_fence":false}"#,
        )
        .unwrap();
        let GraderSpec::OutputPrediction {
            combine,
            no_fence,
            no_explanation,
            no_extra_blank_lines,
            ..
        } = p
        else {
            panic!("not output_prediction")
        };
        assert_eq!(combine, PredictionCombine::Weighted);
        assert!(!no_fence && no_explanation && no_extra_blank_lines);
        assert!(serde_json::from_str::<GraderSpec>(
            r#"{"type":"code_tests","tests":[],"language":"rust"}"#
        )
        .is_err());
        assert!(!GraderSpec::Exact {
            case_sensitive: false
        }
        .needs_sandbox());
    }

    #[test]
    fn numbered_paragraphs_recognise_the_usual_markers() {
        let doc = "# Title\n\n[P1] One.\nstill one\n\n[P2] Two.\n## P3. Three\n¶4 Four\nParagraph 5: Five\nP6 is not a marker\n[P7]";
        let ps = numbered_paragraphs(doc);
        let ids: Vec<u32> = ps.iter().map(|p| p.0).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 7]);
        assert_eq!(ps[0].1, "[P1] One.\nstill one");
        assert!(ps[4].1.ends_with("P6 is not a marker"));
        assert!(numbered_paragraphs("no markers at all").is_empty());
    }
}
