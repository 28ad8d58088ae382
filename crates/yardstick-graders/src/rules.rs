//! Rule-based graders: deterministic, no I/O, every decision recorded as a check.

use crate::extract::{find_json, numbers_in, strip_code_fence};
use crate::{GradeError, Grader};
use async_trait::async_trait;
use regex::{Regex, RegexBuilder};
use yardstick_core::{Check, Grade, GraderSpec, Item, JsonFieldCheck, NumberPick, RankingRule};

#[derive(Debug, Default, Clone)]
pub(crate) struct RuleGrader;

pub(crate) fn version(spec: &GraderSpec) -> &'static str {
    match spec {
        GraderSpec::Grounding { .. } => crate::grounding::VERSION,
        GraderSpec::Integrity { .. } => crate::integrity::VERSION,
        GraderSpec::Format { .. } => crate::format::VERSION,
        GraderSpec::Exact { .. } => "1",
        GraderSpec::Regex { .. } => "1",
        GraderSpec::Numeric { .. } => "1",
        GraderSpec::JsonFields { .. } => "1",
        GraderSpec::Choice { .. } => "1",
        GraderSpec::Ranking { .. } => "1",
        GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. } => crate::code::VERSION,
        GraderSpec::Judge { .. } => crate::judge::VERSION,
    }
}

#[async_trait]
impl Grader for RuleGrader {
    async fn grade(&self, item: &Item, answer: &str) -> Result<Grade, GradeError> {
        let spec = &item.grader;
        let fail = |message: String| GradeError {
            grader: spec.grader_id().to_string(),
            item: item.id.clone(),
            message,
        };
        let (checks, extracted) = match spec {
            GraderSpec::Exact { case_sensitive } => {
                exact(answer, &item.references, *case_sensitive)
            }
            GraderSpec::Regex {
                patterns,
                must_match,
                case_insensitive,
            } => regex_checks(answer, patterns, *must_match, *case_insensitive).map_err(fail)?,
            GraderSpec::Numeric {
                tolerance,
                relative,
                pick,
            } => {
                let reference = item
                    .references
                    .first()
                    .and_then(|r| numbers_in(r).first().copied())
                    .ok_or_else(|| fail("the item has no numeric reference".into()))?;
                numeric(answer, reference, *tolerance, *relative, *pick)
            }
            GraderSpec::JsonFields { fields } => json_fields(answer, fields),
            GraderSpec::Choice { choices } => {
                let reference = item
                    .references
                    .first()
                    .ok_or_else(|| fail("the item has no reference choice".into()))?;
                choice(answer, choices, reference)
            }
            GraderSpec::Ranking { order, rule } => ranking(answer, order, *rule),
            GraderSpec::Grounding { .. } => crate::grounding::grade(item, answer).map_err(fail)?,
            GraderSpec::Integrity { .. } => crate::integrity::grade(item, answer).map_err(fail)?,
            GraderSpec::Format { .. } => crate::format::grade(item, answer).map_err(fail)?,
            GraderSpec::CodeTests { .. } | GraderSpec::OutputPrediction { .. } => {
                return Err(fail("code items are graded by the code grader".into()))
            }
            GraderSpec::Judge { .. } => {
                return Err(fail("judged items are graded by the judge".into()))
            }
        };
        Ok(Grade::from_checks(
            spec.grader_id(),
            version(spec),
            checks,
            extracted,
        ))
    }
}

/// Lower-cased (unless case-sensitive), fences and wrapping quotes removed,
/// whitespace collapsed, trailing sentence punctuation dropped.
fn normalise(text: &str, case_sensitive: bool) -> String {
    let body = strip_code_fence(text).trim();
    let body = body.trim_matches(|c| matches!(c, '"' | '\'' | '`' | '“' | '”'));
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_end_matches(['.', '!', ';']).trim();
    if case_sensitive {
        trimmed.to_string()
    } else {
        trimmed.to_lowercase()
    }
}

type Outcome = (Vec<Check>, Option<String>);

fn exact(answer: &str, references: &[String], case_sensitive: bool) -> Outcome {
    let got = normalise(answer, case_sensitive);
    let hit = references
        .iter()
        .find(|r| normalise(r, case_sensitive) == got);
    let detail = match hit {
        Some(r) => format!("normalised answer equals reference {r:?}"),
        None => format!("normalised answer {got:?} equals none of {references:?}"),
    };
    (
        vec![Check::new("exact_match", hit.is_some(), detail)],
        Some(got),
    )
}

fn regex_checks(
    answer: &str,
    patterns: &[String],
    must_match: bool,
    case_insensitive: bool,
) -> Result<Outcome, String> {
    let mut checks = Vec::with_capacity(patterns.len());
    for p in patterns {
        let re = RegexBuilder::new(p)
            .case_insensitive(case_insensitive)
            .build()
            .map_err(|e| format!("pattern {p:?} does not compile: {e}"))?;
        let found = re.find(answer);
        let passed = found.is_some() == must_match;
        let detail = match (found, must_match) {
            (Some(m), true) => format!("/{p}/ matched {:?}", m.as_str()),
            (None, true) => format!("/{p}/ required but not found"),
            (Some(m), false) => format!("/{p}/ forbidden but matched {:?}", m.as_str()),
            (None, false) => format!("/{p}/ forbidden and absent"),
        };
        checks.push(Check::new(
            if must_match {
                "required_pattern"
            } else {
                "forbidden_pattern"
            },
            passed,
            detail,
        ));
    }
    Ok((checks, None))
}

fn numeric(
    answer: &str,
    reference: f64,
    tolerance: f64,
    relative: f64,
    pick: NumberPick,
) -> Outcome {
    let numbers = numbers_in(answer);
    let picked = match pick {
        NumberPick::Last => numbers.last().copied(),
        NumberPick::First => numbers.first().copied(),
        NumberPick::Only => (numbers.len() == 1).then(|| numbers[0]),
    };
    let allowed = tolerance + relative * reference.abs();
    let check = match picked {
        Some(v) => {
            let ok = (v - reference).abs() <= allowed + f64::EPSILON * reference.abs().max(1.0);
            Check::new(
                "number_within_tolerance",
                ok,
                format!("|{v} − {reference}| ≤ {allowed}: {ok}"),
            )
        }
        None if pick == NumberPick::Only && numbers.len() > 1 => Check::new(
            "number_within_tolerance",
            false,
            format!(
                "expected exactly one number, found {}: {numbers:?}",
                numbers.len()
            ),
        ),
        None => Check::new("number_within_tolerance", false, "no number in the answer"),
    };
    (vec![check], picked.map(|v| v.to_string()))
}

fn lookup<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(value, |v, key| match v {
        serde_json::Value::Object(map) => map.get(key),
        serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// JSON equality where numbers compare by value (1 equals 1.0).
pub(crate) fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => x.as_f64() == y.as_f64(),
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn json_fields(answer: &str, fields: &[JsonFieldCheck]) -> Outcome {
    let Some(value) = find_json(answer) else {
        let checks = fields
            .iter()
            .map(|f| {
                Check::new(
                    format!("field {}", f.path),
                    false,
                    "the answer contains no parsable JSON",
                )
            })
            .collect();
        return (checks, None);
    };
    let checks = fields
        .iter()
        .map(|f| {
            let got = lookup(&value, &f.path);
            let (passed, detail) = match (got, &f.equals) {
                (None, _) => (false, format!("`{}` missing", f.path)),
                (Some(g), None) => (true, format!("`{}` present ({g})", f.path)),
                (Some(g), Some(want)) => (
                    json_equal(g, want),
                    format!("`{}` is {g}, expected {want}", f.path),
                ),
            };
            Check::new(format!("field {}", f.path), passed, detail)
        })
        .collect();
    (checks, Some(value.to_string()))
}

/// A label as a standalone token: not inside a longer word.
fn label_regex(label: &str) -> Regex {
    Regex::new(&format!(
        r"(?:^|[^A-Za-z0-9_]){}(?:$|[^A-Za-z0-9_])",
        regex::escape(label)
    ))
    .expect("escaped labels always compile")
}

/// The label a multiple-choice answer picked: the whole answer, an explicit
/// "answer is X", a leading label, or the only label mentioned.
fn picked_choice<'a>(answer: &str, choices: &'a [String]) -> Option<&'a String> {
    let bare = normalise(answer, true);
    let bare = bare.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | ':' | '.'));
    if let Some(c) = choices.iter().find(|c| c.eq_ignore_ascii_case(bare)) {
        return Some(c);
    }
    let labels = choices
        .iter()
        .map(|c| regex::escape(c))
        .collect::<Vec<_>>()
        .join("|");
    let explicit = Regex::new(&format!(
        r"(?i)\b(?:answer|choice|option)\s*(?:is|:)?\s*[\(\[]?\**({labels})\b"
    ))
    .expect("escaped labels always compile");
    if let Some(c) = explicit.captures(answer).and_then(|c| c.get(1)) {
        return choices.iter().find(|l| l.eq_ignore_ascii_case(c.as_str()));
    }
    let leading = Regex::new(&format!(r"^\s*[\(\[]?\**({labels})[\)\]\.:,\s*]"))
        .expect("escaped labels always compile");
    if let Some(c) = leading.captures(answer).and_then(|c| c.get(1)) {
        return choices.iter().find(|l| *l == c.as_str());
    }
    let mut mentioned = choices.iter().filter(|c| label_regex(c).is_match(answer));
    match (mentioned.next(), mentioned.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn choice(answer: &str, choices: &[String], reference: &str) -> Outcome {
    let picked = picked_choice(answer, choices);
    let check = match picked {
        Some(p) => Check::new(
            "choice",
            p == reference,
            format!("picked {p}, reference {reference}"),
        ),
        None => Check::new(
            "choice",
            false,
            format!("no single choice among {choices:?} found"),
        ),
    };
    (vec![check], picked.cloned())
}

fn ranking(answer: &str, order: &[String], rule: RankingRule) -> Outcome {
    // Each label's first standalone position in the answer.
    let mut found: Vec<(usize, &String)> = order
        .iter()
        .filter_map(|l| label_regex(l).find(answer).map(|m| (m.start(), l)))
        .collect();
    found.sort();
    let given: Vec<&String> = found.into_iter().map(|(_, l)| l).collect();
    let rank = |l: &String| given.iter().position(|g| *g == l);
    let checks = match rule {
        RankingRule::ExactOnly => {
            let ok = given.len() == order.len() && given.iter().zip(order).all(|(g, o)| *g == o);
            vec![Check::new(
                "exact_order",
                ok,
                format!("given {given:?}, reference {order:?}"),
            )]
        }
        RankingRule::Position => order
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let at = rank(l);
                Check::new(
                    format!("{l} at position {}", i + 1),
                    at == Some(i),
                    match at {
                        Some(p) => format!("{l} given at position {}", p + 1),
                        None => format!("{l} not mentioned"),
                    },
                )
            })
            .collect(),
        RankingRule::Pairwise => {
            let mut checks = Vec::new();
            for (i, a) in order.iter().enumerate() {
                for b in &order[i + 1..] {
                    let ok = matches!((rank(a), rank(b)), (Some(x), Some(y)) if x < y);
                    checks.push(Check::new(
                        format!("{a} before {b}"),
                        ok,
                        format!("given order {given:?}"),
                    ));
                }
            }
            checks
        }
    };
    let extracted = given
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" > ");
    (checks, Some(extracted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_core::Dimension;

    fn item(grader: GraderSpec, references: &[&str]) -> Item {
        Item {
            references: references.iter().map(|s| s.to_string()).collect(),
            ..Item::new("t", Dimension::Judgment, "q", grader)
        }
    }

    fn score(grader: GraderSpec, references: &[&str], answer: &str) -> f64 {
        let it = item(grader, references);
        block_on(RuleGrader.grade(&it, answer)).unwrap().score
    }

    /// The rule graders never await anything, so polling once completes them.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("rule graders must not suspend"),
        }
    }

    #[test]
    fn exact_normalises_case_space_fences_and_final_period() {
        let g = GraderSpec::Exact {
            case_sensitive: false,
        };
        assert_eq!(score(g.clone(), &["Paris"], "  paris. "), 100.0);
        assert_eq!(score(g.clone(), &["a b"], "```\nA   b\n```"), 100.0);
        assert_eq!(score(g.clone(), &["Paris"], "The answer is Paris"), 0.0);
        assert_eq!(
            score(
                GraderSpec::Exact {
                    case_sensitive: true
                },
                &["Paris"],
                "paris"
            ),
            0.0
        );
    }

    #[test]
    fn regex_scores_share_of_patterns() {
        let g = GraderSpec::Regex {
            patterns: vec!["alpha".into(), "beta".into()],
            must_match: true,
            case_insensitive: true,
        };
        assert_eq!(score(g.clone(), &[], "ALPHA and beta"), 100.0);
        assert_eq!(score(g, &[], "alpha only"), 50.0);
        let forbidden = GraderSpec::Regex {
            patterns: vec![r"doi:\S+".into()],
            must_match: false,
            case_insensitive: false,
        };
        assert_eq!(score(forbidden.clone(), &[], "see doi:10.1/xyz"), 0.0);
        assert_eq!(score(forbidden, &[], "no such paper"), 100.0);
    }

    #[test]
    fn numeric_respects_tolerance_and_pick() {
        let g = |tolerance, pick| GraderSpec::Numeric {
            tolerance,
            relative: 0.0,
            pick,
        };
        assert_eq!(
            score(
                g(0.0, NumberPick::Last),
                &["42"],
                "First 3, then the answer: 42"
            ),
            100.0
        );
        assert_eq!(score(g(0.0, NumberPick::First), &["42"], "3 then 42"), 0.0);
        assert_eq!(
            score(g(0.5, NumberPick::Last), &["3.14"], "about 3.5"),
            100.0
        );
        assert_eq!(score(g(0.1, NumberPick::Last), &["3.14"], "about 3.5"), 0.0);
        assert_eq!(score(g(0.0, NumberPick::Only), &["7"], "7 or 8"), 0.0);
        assert_eq!(score(g(0.0, NumberPick::Last), &["1234"], "1,234"), 100.0);
        assert_eq!(score(g(0.0, NumberPick::Last), &["1"], "none"), 0.0);
        let rel = GraderSpec::Numeric {
            tolerance: 0.0,
            relative: 0.01,
            pick: NumberPick::Last,
        };
        assert_eq!(score(rel, &["1000"], "1009"), 100.0);
    }

    #[test]
    fn json_fields_share_and_numeric_equality() {
        let g = GraderSpec::JsonFields {
            fields: vec![
                JsonFieldCheck {
                    path: "name".into(),
                    equals: Some(serde_json::json!("ada")),
                },
                JsonFieldCheck {
                    path: "tags.1".into(),
                    equals: Some(serde_json::json!(2.0)),
                },
                JsonFieldCheck {
                    path: "id".into(),
                    equals: None,
                },
            ],
        };
        assert_eq!(
            score(
                g.clone(),
                &[],
                r#"```json
{"name":"ada","tags":[1,2],"id":9}
```"#
            ),
            100.0
        );
        let partial = score(g.clone(), &[], r#"{"name":"bob","tags":[1,2]}"#);
        assert!((partial - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(score(g, &[], "not json"), 0.0);
    }

    #[test]
    fn choice_reads_common_answer_shapes() {
        let g = GraderSpec::Choice {
            choices: vec!["A".into(), "B".into(), "C".into(), "D".into()],
        };
        assert_eq!(score(g.clone(), &["B"], "B"), 100.0);
        assert_eq!(score(g.clone(), &["B"], "(B)"), 100.0);
        assert_eq!(score(g.clone(), &["B"], "The answer is B because…"), 100.0);
        assert_eq!(score(g.clone(), &["B"], "B. Use a queue"), 100.0);
        assert_eq!(score(g.clone(), &["B"], "A. Use a stack"), 0.0);
        // "A" as an article plus two labels: undecidable, so no credit
        assert_eq!(score(g, &["B"], "Either C or D could work"), 0.0);
    }

    #[test]
    fn ranking_rules() {
        let order: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let pairwise = GraderSpec::Ranking {
            order: order.clone(),
            rule: RankingRule::Pairwise,
        };
        assert_eq!(score(pairwise.clone(), &[], "A > B > C"), 100.0);
        assert_eq!(score(pairwise.clone(), &[], "C, B, A"), 0.0);
        let one_swap = score(pairwise.clone(), &[], "B, A, C");
        assert!((one_swap - 200.0 / 3.0).abs() < 1e-9);
        assert!((score(pairwise, &[], "A then B") - 100.0 / 3.0).abs() < 1e-9);
        let exact = GraderSpec::Ranking {
            order: order.clone(),
            rule: RankingRule::ExactOnly,
        };
        assert_eq!(score(exact.clone(), &[], "A B C"), 100.0);
        assert_eq!(score(exact, &[], "B A C"), 0.0);
        let position = GraderSpec::Ranking {
            order,
            rule: RankingRule::Position,
        };
        assert!((score(position, &[], "B A C") - 100.0 / 3.0).abs() < 1e-9);
    }
}
