//! The LLM judge: a panel of judge models scores an answer against the
//! item's reference with the rubric's anchored scales.
//!
//! Each judge is asked `samples` times. Every sample shows the reference and
//! the answer in an order drawn per sample (reproducibly, from a hash of the
//! item, the answer, the judge and the sample number) so a judge's
//! preference for whichever text comes first averages out. The prompt asks
//! the judge to think first and to end with one line holding a JSON object
//! of criterion scores; anything else is an unparsable reply, asked again up
//! to `parse_retries` times and then a judge error. A judge error (vendor
//! or unparsable) fails the grade: the answer stays ungraded, never a 0.
//!
//! Per judge, the score of a criterion is the median of its samples; the
//! panel's score of a criterion is the mean of the judges' medians; the
//! rubric score is Σ criterion scores / Σ maxima × 100. Every call is
//! returned as a [`Judgement`] for the store: the exact prompt, the raw
//! reply, the parsed scores, the error class, latency and tokens.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use yardstick_core::{CalibrationEntry, ChatRequest, ErrorClass, Message, ModelSpec, Rubric};
use yardstick_providers::{send_with_retries, AdaptiveLimiter, Provider, RetryPolicy};

/// Version of the judge grader's prompt, parsing and aggregation.
pub(crate) const VERSION: &str = "1";

/// One judge of the panel: a configured model and its provider.
#[derive(Clone)]
pub struct Judge {
    /// The `[[models]]` entry: `name`, the exact pinned `model` id, `family`.
    pub spec: ModelSpec,
    pub provider: Arc<dyn Provider>,
    /// Bounds this judge's requests in flight across all items being graded.
    limiter: Arc<AdaptiveLimiter>,
    /// The embedded local model judging because no `[judge]` is configured;
    /// its scores are labelled as such.
    pub fallback: bool,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("name", &self.spec.name)
            .field("model", &self.spec.model)
            .field("fallback", &self.fallback)
            .finish()
    }
}

impl Judge {
    pub fn new(spec: ModelSpec, provider: Arc<dyn Provider>, fallback: bool) -> Judge {
        let limiter = Arc::new(AdaptiveLimiter::new(
            format!("judge {}", spec.name),
            spec.concurrency.max(1),
        ));
        Judge {
            spec,
            provider,
            limiter,
            fallback,
        }
    }
}

/// The judges and how each is asked.
#[derive(Debug, Clone)]
pub struct JudgePanel {
    pub judges: Vec<Judge>,
    /// Samples per judge and answer (N); the median of each criterion counts.
    pub samples: u32,
    /// Further tries of a sample whose reply could not be parsed.
    pub parse_retries: u32,
    /// The frozen calibration set each judge re-grades once per run.
    pub calibration: Arc<Vec<CalibrationEntry>>,
    /// Drift (mean |today − frozen|, on the criteria's scales) above which
    /// a run's judged scores are marked unreliable.
    pub drift_threshold: f64,
}

/// Which text a sample showed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    ReferenceFirst,
    AnswerFirst,
}

impl Order {
    pub fn id(self) -> &'static str {
        match self {
            Order::ReferenceFirst => "reference_first",
            Order::AnswerFirst => "answer_first",
        }
    }
}

/// Why a judge call produced no scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgeErrorClass {
    /// The judge answered, but not in the required format.
    Unparsable,
    /// The judge's vendor failed (after its own retries).
    Vendor(ErrorClass),
}

impl JudgeErrorClass {
    /// Stored form: `unparsable` or `vendor_<class>` (`vendor_timeout`).
    pub fn id(self) -> String {
        match self {
            JudgeErrorClass::Unparsable => "unparsable".into(),
            JudgeErrorClass::Vendor(c) => format!("vendor_{}", c.id()),
        }
    }
}

/// One call of one judge, as stored for audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The judge's configured name.
    pub judge: String,
    /// The exact model id configured for it.
    pub judge_model: String,
    /// The model id the vendor reported answering, if it said.
    pub response_model: Option<String>,
    pub fallback: bool,
    pub sample: u32,
    /// 0 for the first try of the sample, 1.. after unparsable replies.
    pub retry: u32,
    pub order: Order,
    /// The exact request sent (JSON of the chat request).
    pub prompt: String,
    pub raw_output: Option<String>,
    /// Criterion id → score, when the reply parsed.
    pub scores: Option<BTreeMap<String, u32>>,
    pub error_class: Option<JudgeErrorClass>,
    pub error_message: Option<String>,
    pub latency_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// What one judge made of one answer: its median per criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeScores {
    pub judge: String,
    /// Criterion id → median over the samples.
    pub medians: BTreeMap<String, f64>,
    /// Criterion id → every sample's score, in sample order.
    pub samples: BTreeMap<String, Vec<u32>>,
}

/// The panel's verdict on one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelScores {
    pub per_judge: Vec<JudgeScores>,
    /// Criterion id → mean of the judges' medians.
    pub criteria: BTreeMap<String, f64>,
    /// Rubric score, 0–100.
    pub score: f64,
}

/// A judging that could not produce scores, with every call made.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeFailure {
    pub message: String,
}

/// The outcome of judging one text: scores or a failure, and every call.
#[derive(Debug, Clone)]
pub struct Judged {
    pub result: Result<PanelScores, JudgeFailure>,
    pub judgements: Vec<Judgement>,
}

/// What is being judged.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    pub rubric: &'a Rubric,
    pub question: &'a str,
    pub reference: &'a str,
    pub answer: &'a str,
    /// Seeds the per-sample order (an item id, a calibration id).
    pub key: &'a str,
}

impl JudgePanel {
    /// Whether the panel is the embedded fallback judge.
    pub fn is_fallback(&self) -> bool {
        self.judges.iter().any(|j| j.fallback)
    }

    /// Judges one answer with every judge (concurrently), N samples each.
    pub async fn judge(&self, case: Case<'_>) -> Judged {
        let runs =
            futures::future::join_all(self.judges.iter().map(|judge| self.judge_one(judge, case)))
                .await;
        let mut judgements = Vec::new();
        let mut per_judge = Vec::new();
        let mut failures = Vec::new();
        for (scores, mut calls) in runs {
            judgements.append(&mut calls);
            match scores {
                Ok(s) => per_judge.push(s),
                Err(f) => failures.push(f.message),
            }
        }
        if !failures.is_empty() {
            return Judged {
                result: Err(JudgeFailure {
                    message: failures.join("; "),
                }),
                judgements,
            };
        }
        let result = panel_scores(case.rubric, per_judge).ok_or_else(|| JudgeFailure {
            message: "the panel has no judge".into(),
        });
        Judged { result, judgements }
    }

    /// One judge's N samples of one answer.
    async fn judge_one(
        &self,
        judge: &Judge,
        case: Case<'_>,
    ) -> (Result<JudgeScores, JudgeFailure>, Vec<Judgement>) {
        let mut calls = Vec::new();
        let mut samples: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let policy = RetryPolicy::for_model(&judge.spec);
        for sample in 0..self.samples.max(1) {
            let order = order_for(case.key, case.answer, &judge.spec.name, sample);
            let mut parsed = None;
            for retry in 0..=self.parse_retries {
                let request = judge_request(&judge.spec, case, order, sample, retry);
                let prompt = serde_json::to_string(&request).expect("requests always serialize");
                let sent = send_with_retries(
                    judge.provider.as_ref(),
                    &request,
                    &policy,
                    Some(&judge.limiter),
                )
                .await;
                let mut call = Judgement {
                    judge: judge.spec.name.clone(),
                    judge_model: judge.spec.model.clone(),
                    response_model: None,
                    fallback: judge.fallback,
                    sample,
                    retry,
                    order,
                    prompt,
                    raw_output: None,
                    scores: None,
                    error_class: None,
                    error_message: None,
                    latency_ms: sent.latency.as_millis() as u64,
                    input_tokens: 0,
                    output_tokens: 0,
                };
                match sent.result {
                    Err(e) => {
                        call.error_class = Some(JudgeErrorClass::Vendor(e.class));
                        call.error_message = Some(e.message.clone());
                        calls.push(call);
                        let message = format!(
                            "judge `{}` ({}) failed: {e} (after {} tries)",
                            judge.spec.name, judge.spec.model, sent.tries
                        );
                        return (Err(JudgeFailure { message }), calls);
                    }
                    Ok(reply) => {
                        call.response_model = reply.model;
                        call.input_tokens = reply.usage.input_tokens;
                        call.output_tokens = reply.usage.output_tokens;
                        match parse_scores(&reply.text, case.rubric) {
                            Ok(scores) => {
                                call.scores = Some(scores.clone());
                                parsed = Some(scores);
                            }
                            Err(why) => {
                                call.error_class = Some(JudgeErrorClass::Unparsable);
                                call.error_message = Some(why);
                            }
                        }
                        call.raw_output = Some(reply.text);
                        calls.push(call);
                    }
                }
                if parsed.is_some() {
                    break;
                }
            }
            let Some(scores) = parsed else {
                let why = calls
                    .last()
                    .and_then(|c| c.error_message.clone())
                    .unwrap_or_default();
                let message = format!(
                    "judge `{}` ({}) gave no parsable reply in {} tries for sample {sample}: {why}",
                    judge.spec.name,
                    judge.spec.model,
                    self.parse_retries + 1
                );
                return (Err(JudgeFailure { message }), calls);
            };
            for (criterion, score) in scores {
                samples.entry(criterion).or_default().push(score);
            }
        }
        let medians = samples
            .iter()
            .map(|(c, values)| (c.clone(), median(values)))
            .collect();
        (
            Ok(JudgeScores {
                judge: judge.spec.name.clone(),
                medians,
                samples,
            }),
            calls,
        )
    }

    /// Re-grades the frozen calibration set with every judge; drift per
    /// judge = mean |today's median − frozen score| over every criterion of
    /// every entry the judge could score.
    pub async fn calibrate(&self) -> Vec<Calibration> {
        let mut out = Vec::new();
        for judge in &self.judges {
            let cases = self.calibration.iter().map(|entry| async move {
                let case = Case {
                    rubric: &entry.rubric,
                    question: &entry.question,
                    reference: &entry.reference,
                    answer: &entry.answer,
                    key: &entry.id,
                };
                (entry, self.judge_one(judge, case).await)
            });
            let results = futures::future::join_all(cases).await;
            let mut calibration = Calibration {
                judge: judge.spec.name.clone(),
                drift: None,
                unreliable: false,
                scored: 0,
                failed: Vec::new(),
                judgements: Vec::new(),
            };
            let mut pairs = Vec::new();
            for (entry, (scores, calls)) in results {
                calibration
                    .judgements
                    .extend(calls.into_iter().map(|c| (entry.id.clone(), c)));
                match scores {
                    Ok(s) => {
                        calibration.scored += 1;
                        for (criterion, frozen) in &entry.scores {
                            if let Some(today) = s.medians.get(criterion) {
                                pairs.push((*today, f64::from(*frozen)));
                            }
                        }
                    }
                    Err(f) => calibration.failed.push((entry.id.clone(), f.message)),
                }
            }
            calibration.drift = drift(&pairs);
            calibration.unreliable = match calibration.drift {
                Some(d) => d > self.drift_threshold,
                // A set that exists but could not be scored at all says
                // nothing good about the judge.
                None => !self.calibration.is_empty(),
            };
            out.push(calibration);
        }
        out
    }
}

/// One judge's re-grading of the calibration set.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub judge: String,
    /// Mean absolute difference from the frozen scores, on the criteria's
    /// scales; `None` when no entry could be scored.
    pub drift: Option<f64>,
    /// Drift above the panel's threshold, or a calibration set none of
    /// which could be scored.
    pub unreliable: bool,
    /// Entries scored.
    pub scored: usize,
    /// Entries the judge could not score, with why.
    pub failed: Vec<(String, String)>,
    /// Every call, with the calibration entry's id.
    pub judgements: Vec<(String, Judgement)>,
}

/// Mean |today − frozen| over `(today, frozen)` pairs; `None` for no pairs.
pub fn drift(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    Some(pairs.iter().map(|(t, f)| (t - f).abs()).sum::<f64>() / pairs.len() as f64)
}

/// The panel's scores from each judge's medians: per criterion the mean of
/// the judges' medians. `None` for an empty panel.
pub fn panel_scores(rubric: &Rubric, per_judge: Vec<JudgeScores>) -> Option<PanelScores> {
    if per_judge.is_empty() {
        return None;
    }
    let n = per_judge.len() as f64;
    let criteria: BTreeMap<String, f64> = rubric
        .criteria
        .iter()
        .map(|c| {
            let sum: f64 = per_judge
                .iter()
                .map(|j| j.medians.get(&c.id).copied().unwrap_or(0.0))
                .sum();
            (c.id.clone(), sum / n)
        })
        .collect();
    // Every judge scored every criterion (the parser insists), so the
    // rubric score exists.
    let score = rubric.score(&criteria)?;
    Some(PanelScores {
        per_judge,
        criteria,
        score,
    })
}

/// The median of a non-empty list (the mean of the middle two for an even count).
pub fn median(values: &[u32]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        f64::from(sorted[n / 2])
    } else {
        (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0
    }
}

/// The order of one sample: a reproducible coin flip from its inputs.
pub fn order_for(key: &str, answer: &str, judge: &str, sample: u32) -> Order {
    let mut h = Sha256::new();
    for part in [key, answer, judge] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(sample.to_le_bytes());
    if h.finalize()[0] & 1 == 0 {
        Order::ReferenceFirst
    } else {
        Order::AnswerFirst
    }
}

/// The request of one try of one sample. The seed moves with the sample and
/// the retry, so a sampling judge does not repeat itself.
fn judge_request(
    spec: &ModelSpec,
    case: Case<'_>,
    order: Order,
    sample: u32,
    retry: u32,
) -> ChatRequest {
    ChatRequest {
        model: spec.model.clone(),
        messages: vec![
            Message::system(SYSTEM_PROMPT),
            Message::user(judge_prompt(case, order)),
        ],
        temperature: spec.temperature,
        top_p: spec.top_p,
        max_tokens: spec.max_tokens,
        seed: spec
            .seed
            .map(|s| s.wrapping_add(u64::from(sample) * 1000 + u64::from(retry))),
        stop: Vec::new(),
    }
}

const SYSTEM_PROMPT: &str = "You are a careful, strict grader. You compare an answer with a \
reference answer and score it on a rubric. You never reward length or confidence for their own sake.";

/// The user message: question, both texts in `order`, the rubric with its
/// anchors, and the required reply format.
pub fn judge_prompt(case: Case<'_>, order: Order) -> String {
    let reference = format!(
        "Reference answer (what a top answer says):\n<<<\n{}\n>>>",
        case.reference.trim()
    );
    let answer = format!("Answer to grade:\n<<<\n{}\n>>>", case.answer.trim());
    let (first, second) = match order {
        Order::ReferenceFirst => (reference, answer),
        Order::AnswerFirst => (answer, reference),
    };
    let mut rubric = String::new();
    for c in &case.rubric.criteria {
        rubric.push_str(&format!(
            "- {} (0 to {}): {}\n",
            c.id,
            c.max(),
            c.description
        ));
        for a in &c.anchors {
            rubric.push_str(&format!("    {}: {}\n", a.score, a.meaning));
        }
    }
    let example: Vec<String> = case
        .rubric
        .criteria
        .iter()
        .map(|c| format!("\"{}\": {}", c.id, c.max() / 2))
        .collect();
    format!(
        "Grade the answer to this question.\n\nQuestion:\n<<<\n{}\n>>>\n\n{first}\n\n{second}\n\n\
         Rubric (score every criterion with a whole number on its scale; the anchors say what \
         the scale points mean):\n{rubric}\n\
         First think: compare the answer with the reference on each criterion, in a few \
         sentences. Then end your reply with exactly one line that holds only a JSON object \
         with one whole-number score per criterion, like this:\n{{{}}}",
        case.question.trim(),
        example.join(", ")
    )
}

/// Reads the scores from a reply's last non-empty line (a code fence around
/// it is allowed): a JSON object with exactly the rubric's criteria, each a
/// whole number on its scale.
pub fn parse_scores(reply: &str, rubric: &Rubric) -> Result<BTreeMap<String, u32>, String> {
    let last = reply
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("```"))
        .ok_or("the reply is empty")?;
    let line = last.trim_matches('`').trim();
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
        format!(
            "the last line is not a JSON object of scores ({e}): {}",
            clip(line)
        )
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("the last line is JSON but not an object: {}", clip(line)))?;
    let mut scores = BTreeMap::new();
    for c in &rubric.criteria {
        let v = object
            .get(&c.id)
            .ok_or_else(|| format!("no score for criterion `{}` in {}", c.id, clip(line)))?;
        let n = v
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(c.max()))
            .ok_or_else(|| {
                format!(
                    "criterion `{}` scored {v}; it must be a whole number from 0 to {}",
                    c.id,
                    c.max()
                )
            })?;
        scores.insert(c.id.clone(), n as u32);
    }
    if let Some(extra) = object.keys().find(|k| !scores.contains_key(*k)) {
        return Err(format!(
            "`{extra}` is not a criterion of rubric `{}`",
            rubric.name
        ));
    }
    Ok(scores)
}

fn clip(s: &str) -> String {
    const MAX: usize = 120;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_core::{Anchor, Criterion};

    fn rubric() -> Rubric {
        let anchors = |top: u32| {
            vec![
                Anchor {
                    score: 0,
                    meaning: "bad".into(),
                },
                Anchor {
                    score: top,
                    meaning: "good".into(),
                },
            ]
        };
        Rubric {
            name: "r".into(),
            criteria: vec![
                Criterion {
                    id: "accuracy".into(),
                    description: "right?".into(),
                    anchors: anchors(5),
                },
                Criterion {
                    id: "clarity".into(),
                    description: "clear?".into(),
                    anchors: anchors(3),
                },
            ],
        }
    }

    #[test]
    fn scores_come_from_the_last_line_only() {
        let r = rubric();
        let ok = "The answer matches.\n{\"accuracy\": 4}\nSo:\n{\"accuracy\": 5, \"clarity\": 2}\n";
        let s = parse_scores(ok, &r).unwrap();
        assert_eq!((s["accuracy"], s["clarity"]), (5, 2));
        let fenced = "Thinking.\n```json\n{\"accuracy\": 1, \"clarity\": 0}\n```";
        assert_eq!(parse_scores(fenced, &r).unwrap()["accuracy"], 1);
        assert_eq!(
            parse_scores("{\"accuracy\": 3.0, \"clarity\": 3}", &r).unwrap()["accuracy"],
            3
        );
        for (bad, why) in [
            ("", "empty"),
            ("Accuracy 4, clarity 2.", "not a JSON object"),
            ("[4, 2]", "not an object"),
            ("{\"accuracy\": 4}", "no score for criterion `clarity`"),
            ("{\"accuracy\": 6, \"clarity\": 1}", "from 0 to 5"),
            ("{\"accuracy\": 2.5, \"clarity\": 1}", "whole number"),
            (
                "{\"accuracy\": 2, \"clarity\": 1, \"tone\": 3}",
                "`tone` is not a criterion",
            ),
            (
                "{\"accuracy\": 4, \"clarity\": 2}\nThat is my verdict.",
                "not a JSON object",
            ),
        ] {
            let e = parse_scores(bad, &r).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn median_and_drift() {
        assert_eq!(median(&[4, 1, 5]), 4.0);
        assert_eq!(median(&[4, 1]), 2.5);
        assert_eq!(
            drift(&[(4.0, 5.0), (2.0, 2.0), (0.0, 3.0)]),
            Some(4.0 / 3.0)
        );
        assert_eq!(drift(&[]), None);
    }

    #[test]
    fn the_panel_averages_the_judges_medians() {
        let r = rubric();
        let judge = |name: &str, a: f64, c: f64| JudgeScores {
            judge: name.into(),
            medians: BTreeMap::from([("accuracy".into(), a), ("clarity".into(), c)]),
            samples: BTreeMap::new(),
        };
        let p = panel_scores(&r, vec![judge("x", 4.0, 3.0), judge("y", 2.0, 1.0)]).unwrap();
        assert_eq!(p.criteria["accuracy"], 3.0);
        assert_eq!(p.criteria["clarity"], 2.0);
        assert_eq!(p.score, 100.0 * 5.0 / 8.0);
        assert!(panel_scores(&r, vec![]).is_none());
    }

    #[test]
    fn the_order_is_reproducible_and_varies_across_samples() {
        let orders: Vec<Order> = (0..32)
            .map(|s| order_for("item", "answer", "j", s))
            .collect();
        assert_eq!(orders[5], order_for("item", "answer", "j", 5));
        let first = orders
            .iter()
            .filter(|o| **o == Order::ReferenceFirst)
            .count();
        assert!((6..=26).contains(&first), "{first} of 32 reference-first");
    }

    #[test]
    fn the_prompt_shows_both_texts_in_the_drawn_order_and_every_anchor() {
        let r = rubric();
        let case = Case {
            rubric: &r,
            question: "Q?",
            reference: "REF",
            answer: "ANS",
            key: "k",
        };
        let a = judge_prompt(case, Order::ReferenceFirst);
        assert!(a.find("REF").unwrap() < a.find("ANS").unwrap());
        let b = judge_prompt(case, Order::AnswerFirst);
        assert!(b.find("ANS").unwrap() < b.find("REF").unwrap());
        assert!(a.contains("- accuracy (0 to 5): right?") && a.contains("    5: good"));
        assert!(a.ends_with("{\"accuracy\": 2, \"clarity\": 1}"));
    }
}
