//! Graders turn a stored answer into a [`Grade`]: a 0–100 score plus every
//! check that produced it, so each score can be audited.
//!
//! A grader only reads the item and the answer text; it never calls the model
//! under test. That is what lets `yardstick regrade` re-grade stored answers
//! with the current graders. Graders that need I/O (a sandbox, a judge model)
//! implement the same async trait and report their own failures as
//! [`GradeError`] — an infrastructure failure is never a zero for the model.
//!
//! Rule graders: `exact`, `regex`, `numeric`, `json_fields`, `choice`,
//! `ranking` (in `rules`), and the checklist graders `grounding` (answer
//! inside the material), `integrity` (canary probes) and `format`
//! (structured-output compliance), whose rules are documented in their
//! modules. The code graders `code_tests` and `output_prediction` (in
//! `code`) run programs in [`yardstick_sandbox`]; they are available only
//! when [`Graders::with_code_runner`] was given a sandbox.

mod code;
mod common;
mod extract;
mod format;
mod grounding;
mod integrity;
mod judge;
mod rules;

use async_trait::async_trait;
use std::sync::Arc;
use yardstick_core::{Check, Grade, GraderSpec, Item, Rubric};

pub use code::{
    defines, describe_outcome, extract_code, fenced_blocks, prediction_checks, split_prediction,
    CodeGrader, CodeRunner, ExtractedCode, FencedBlock, PredictionAnswer,
};
pub use extract::{find_json, numbers_in, strip_code_fence};
pub use grounding::GROUNDING_DECLINES;
pub use integrity::INTEGRITY_DECLINES;
pub use judge::{
    drift, judge_prompt, median, order_for, panel_scores, parse_scores, Calibration, Case, Judge,
    JudgeErrorClass, JudgeFailure, JudgePanel, JudgeScores, Judged, Judgement, Order, PanelScores,
};

/// A grader could not produce a verdict (as opposed to the answer being wrong).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("grader `{grader}` could not grade item `{item}`: {message}")]
pub struct GradeError {
    pub grader: String,
    pub item: String,
    pub message: String,
}

#[async_trait]
pub trait Grader: Send + Sync {
    /// Grades one answer to `item`. `Err` means the grader failed, not the model.
    async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError>;
}

/// Dispatches each item to the grader its spec names.
#[derive(Debug, Default, Clone)]
pub struct Graders {
    rules: rules::RuleGrader,
    /// Present only when the caller set up a sandbox: code items graded
    /// without one are a [`GradeError`], never a zero.
    code: Option<CodeGrader>,
    /// Present only when the caller set up judges: judged items graded
    /// without them are a [`GradeError`].
    judge: Option<Arc<JudgePanel>>,
}

/// A grade (or why there is none) and every judge call made for it.
#[derive(Debug, Clone)]
pub struct GradeOutcome {
    pub result: Result<Grade, GradeError>,
    pub judgements: Vec<Judgement>,
}

impl Graders {
    /// The rule graders only; code items fail to grade (see [`Graders::with_code_runner`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Rule graders plus the code graders, running programs with `runner`.
    pub fn with_code_runner(runner: std::sync::Arc<CodeRunner>) -> Self {
        Graders {
            rules: rules::RuleGrader,
            code: Some(CodeGrader::new(runner)),
            judge: None,
        }
    }

    /// These graders plus a judge panel for judged items.
    pub fn with_judge(self, panel: Arc<JudgePanel>) -> Self {
        Graders {
            judge: Some(panel),
            ..self
        }
    }

    /// The judge panel, when one is set up.
    pub fn judge(&self) -> Option<&Arc<JudgePanel>> {
        self.judge.as_ref()
    }

    /// Whether code items can be graded.
    pub fn has_code_runner(&self) -> bool {
        self.code.is_some()
    }

    /// The match stays exhaustive so a new spec variant has to say which
    /// grader serves it.
    fn grader_for(&self, item: &Item) -> Result<&dyn Grader, GradeError> {
        let spec = &item.grader;
        Ok(match spec {
            GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. } => {
                match &self.code {
                    Some(code) => code,
                    None => {
                        return Err(GradeError {
                            grader: spec.grader_id().to_string(),
                            item: item.id.clone(),
                            message: "the code sandbox is not configured: code items need \
                                      a sandbox (the yardstick binary builds one when a run \
                                      contains code items)"
                                .into(),
                        })
                    }
                }
            }
            GraderSpec::Judge { .. } => {
                return Err(GradeError {
                    grader: spec.grader_id().to_string(),
                    item: item.id.clone(),
                    message: "a judge item has no rule part; the judge panel grades it".into(),
                })
            }
            GraderSpec::Exact { .. }
            | GraderSpec::Regex { .. }
            | GraderSpec::Numeric { .. }
            | GraderSpec::JsonFields { .. }
            | GraderSpec::Choice { .. }
            | GraderSpec::Ranking { .. }
            | GraderSpec::Grounding { .. }
            | GraderSpec::Integrity { .. }
            | GraderSpec::Format { .. } => &self.rules,
        })
    }

    pub async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError> {
        self.grade_recorded(item, answer).await.result
    }

    /// Grades one answer and returns every judge call made for it, which
    /// the caller stores with the attempt. A judged item is graded by its
    /// rule grader first (when it has one), then by the panel.
    pub async fn grade_recorded(&self, item: &Item, answer: &str) -> GradeOutcome {
        let Some(rubric) = item.judge_rubric() else {
            return GradeOutcome {
                result: self.rule_or_code(item, answer).await,
                judgements: Vec::new(),
            };
        };
        let fail = |message: String| GradeOutcome {
            result: Err(GradeError {
                grader: "judge".into(),
                item: item.id.clone(),
                message,
            }),
            judgements: Vec::new(),
        };
        let Some(panel) = &self.judge else {
            return fail("no judge is set up: judged items need a judge panel ([judge] in yardstick.toml, or the embedded local fallback)".into());
        };
        let Some(reference) = item.references.first() else {
            return fail("the item has no reference for the judge to compare against".into());
        };
        // The rule part first: when it cannot be graded, no judge is asked.
        let rule = match &item.judged {
            Some(part) => match self.rule_or_code(item, answer).await {
                Ok(grade) => Some((grade, part.weight)),
                Err(e) => {
                    return GradeOutcome {
                        result: Err(e),
                        judgements: Vec::new(),
                    }
                }
            },
            None => None,
        };
        let question = item.user_message();
        let judged = panel
            .judge(Case {
                rubric,
                question: &question,
                reference,
                answer,
                key: &item.id,
            })
            .await;
        let result = match judged.result {
            Ok(scores) => Ok(judged_grade(rubric, rule, &scores, panel.is_fallback())),
            Err(f) => Err(GradeError {
                grader: "judge".into(),
                item: item.id.clone(),
                message: f.message,
            }),
        };
        GradeOutcome {
            result,
            judgements: judged.judgements,
        }
    }

    async fn rule_or_code(&self, item: &Item, answer: &str) -> Result<Grade, GradeError> {
        self.grader_for(item)?.grade(item, answer).await
    }
}

/// The grade of a judged item. Checks keep the two parts apart: the rule
/// grader's checks as `rule: …`, one `judge: criterion` check per criterion
/// (passed at half its scale or more); each part's checks share its weight
/// of the item score. Score = (1 − w) · rule + w · judge, or the judge score
/// alone for a purely judged item.
fn judged_grade(
    rubric: &Rubric,
    rule: Option<(Grade, f64)>,
    panel: &PanelScores,
    fallback: bool,
) -> Grade {
    let judge_weight = rule.as_ref().map_or(1.0, |(_, w)| *w);
    let label = if fallback {
        "judge (embedded fallback model)"
    } else {
        "judge"
    };
    let max_total = f64::from(rubric.max_total());
    let mut checks = Vec::new();
    let mut extracted = serde_json::json!({
        "judge_score": panel.score,
        "judge_fallback": fallback,
        "judges": panel.per_judge.iter().map(|j| (j.judge.clone(), serde_json::json!(j.medians))).collect::<serde_json::Map<_, _>>(),
    });
    let (score, grader_id, grader_version) = match rule {
        Some((grade, w)) => {
            let rule_total: f64 = grade.checks.iter().map(|c| c.weight).sum();
            for c in &grade.checks {
                checks.push(Check {
                    name: format!("rule: {}", c.name),
                    passed: c.passed,
                    weight: if rule_total > 0.0 {
                        (1.0 - w) * c.weight / rule_total
                    } else {
                        0.0
                    },
                    detail: c.detail.clone(),
                });
            }
            extracted["rule_score"] = grade.score.into();
            extracted["judge_weight"] = w.into();
            (
                (1.0 - w) * grade.score + w * panel.score,
                format!("{}+judge", grade.grader_id),
                format!("{}+{}", grade.grader_version, judge::VERSION),
            )
        }
        None => (panel.score, "judge".to_string(), judge::VERSION.to_string()),
    };
    for c in &rubric.criteria {
        let mean = panel.criteria.get(&c.id).copied().unwrap_or(0.0);
        let max = f64::from(c.max());
        let by_judge: Vec<String> = panel
            .per_judge
            .iter()
            .map(|j| {
                let samples: Vec<String> = j
                    .samples
                    .get(&c.id)
                    .map_or(Vec::new(), |s| s.iter().map(u32::to_string).collect());
                format!(
                    "{}: median {} of samples [{}]",
                    j.judge,
                    j.medians.get(&c.id).copied().unwrap_or(0.0),
                    samples.join(", ")
                )
            })
            .collect();
        checks.push(Check {
            name: format!("{label}: {}", c.id),
            passed: mean >= max / 2.0,
            weight: judge_weight * max / max_total,
            detail: format!("{mean:.2} of {} — {}", c.max(), by_judge.join("; ")),
        });
    }
    Grade {
        score,
        grader_id,
        grader_version,
        checks,
        extracted: Some(extracted.to_string()),
    }
}

/// The version stored with every grade of a grader; bump it whenever the
/// grader's verdicts could change, so old and new grades stay distinguishable.
pub fn grader_version(spec: &GraderSpec) -> &'static str {
    match spec {
        GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. } => code::VERSION,
        _ => rules::version(spec),
    }
}
