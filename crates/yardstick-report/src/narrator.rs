//! The optional narrator: a configured model rewrites an article's prose from
//! the article's data. Its text is used only if it passes [`check_narration`]:
//! every number in it matches a value of the data (within display rounding)
//! and it names nothing the data does not (models, dimensions, other
//! capitalised names, identifiers with digits, dates). Otherwise the
//! deterministic prose stays and the reason is recorded.

use crate::article::{ArticleKind, ArticlePlan, Prose};
use crate::data::ReportData;
use regex::Regex;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};
use yardstick_core::{ChatRequest, Dimension, Message, ModelSpec};
use yardstick_providers::Provider;

/// What the narrator did for one article; stored in the report's metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Narration {
    /// The configured narrator model's name.
    pub model: String,
    pub accepted: bool,
    /// Why the text was rejected (or the request failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_because: Option<String>,
    /// The model's rewrite as it came back (also when rejected, for audit).
    pub text: Option<String>,
    #[serde(skip)]
    prose: Option<Prose>,
}

impl Narration {
    /// The rewritten prose, if it passed the checks.
    pub fn accepted_prose(&self) -> Option<&Prose> {
        self.prose.as_ref().filter(|_| self.accepted)
    }

    fn rejected(model: &str, text: Option<String>, reason: String) -> Narration {
        Narration {
            model: model.into(),
            accepted: false,
            rejected_because: Some(reason),
            text,
            prose: None,
        }
    }
}

/// A model that rewrites prose, built by the caller from `[report.narrator]`.
pub struct Narrator {
    pub provider: Arc<dyn Provider>,
    pub spec: ModelSpec,
    pub max_tokens: u32,
}

const INSTRUCTIONS: &str = "You rewrite the prose of a report about an LLM evaluation run so that it reads well. \
Use only the facts in the JSON data you are given: every number you write must be one of its numbers \
(rounded to one decimal at most), and you must not name any model, dimension, company, product, person \
or date that is not in the data. Do not speculate about causes. \
Answer with one JSON object and nothing else: {\"lead\": \"…\", \"fluctuation\": \"…\", \"attention\": \"…\"}, \
each value one paragraph of plain text rewriting the paragraph of the same name.";

impl Narrator {
    /// Asks the model to rewrite `plan`'s prose and checks the answer.
    pub async fn narrate(&self, data: &ReportData, plan: &ArticlePlan) -> Narration {
        let facts = article_facts(data, plan);
        let user = json!({ "data": facts, "prose": plan.prose }).to_string();
        let request = ChatRequest {
            model: self.spec.model.clone(),
            messages: vec![Message::system(INSTRUCTIONS), Message::user(user)],
            temperature: self.spec.temperature,
            top_p: self.spec.top_p,
            max_tokens: Some(self.max_tokens),
            seed: self.spec.seed,
            stop: Vec::new(),
        };
        let name = &self.spec.name;
        let text = match self.provider.send(&request).await {
            Ok(response) => response.text,
            Err(e) => return Narration::rejected(name, None, format!("the request failed: {e}")),
        };
        let prose = match parse_prose(&text) {
            Ok(p) => p,
            Err(reason) => return Narration::rejected(name, Some(text), reason),
        };
        match check_narration(&prose, &facts, &plan.prose) {
            Ok(()) => Narration {
                model: name.clone(),
                accepted: true,
                rejected_because: None,
                text: Some(text),
                prose: Some(prose),
            },
            Err(reason) => Narration::rejected(name, Some(text), reason),
        }
    }
}

/// The part of the data an article is about: the run and, for an anomaly
/// article, its model (with history); for the roundup, every model without
/// history. The narrator sees this and its numbers are checked against it.
pub fn article_facts(data: &ReportData, plan: &ArticlePlan) -> Value {
    let mut facts = json!({ "run": data.run, "stability_window": data.stability_window });
    match (plan.kind, plan.model.as_deref().and_then(|m| data.model(m))) {
        (ArticleKind::Anomaly, Some(model)) => {
            facts["model"] = json!(model);
            facts["rules"] = json!(plan.findings);
        }
        _ => {
            let models: Vec<Value> = data
                .models
                .iter()
                .map(|m| {
                    let mut v = json!(m);
                    v.as_object_mut().map(|o| o.remove("history"));
                    v
                })
                .collect();
            facts["models"] = Value::Array(models);
            facts["rules"] = json!(plan.findings);
        }
    }
    facts
}

/// The JSON object in a model's answer (code fences and surrounding text allowed).
fn parse_prose(text: &str) -> Result<Prose, String> {
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        return Err("the answer holds no JSON object with lead, fluctuation and attention".into());
    };
    serde_json::from_str(&text[start..=end]).map_err(|e| {
        format!(
            "the answer's JSON is not {{\"lead\", \"fluctuation\", \"attention\"}} strings: {e}"
        )
    })
}

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+(?:,\d{3})*(?:\.\d+)?").expect("valid regex"));
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{4}-\d{2}-\d{2}\b").expect("valid regex"));
static CAPITALISED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Za-z]+\b").expect("valid regex"));
static WITH_DIGIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z][A-Za-z0-9._-]*\d[A-Za-z0-9._-]*|\b\d+[A-Za-z][A-Za-z0-9._-]*")
        .expect("valid regex")
});
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z][A-Za-z'-]*").expect("valid regex"));

/// Sentence openers and connectives a rewrite may capitalise although the
/// data does not contain them.
const COMMON_WORDS: &[&str] = &[
    "a",
    "after",
    "all",
    "also",
    "although",
    "an",
    "and",
    "as",
    "at",
    "because",
    "before",
    "both",
    "but",
    "by",
    "compared",
    "despite",
    "during",
    "each",
    "for",
    "from",
    "however",
    "if",
    "in",
    "it",
    "its",
    "meanwhile",
    "no",
    "none",
    "not",
    "of",
    "on",
    "only",
    "overall",
    "since",
    "so",
    "that",
    "the",
    "their",
    "there",
    "these",
    "this",
    "those",
    "though",
    "thus",
    "to",
    "while",
    "with",
    "yes",
    "score",
    "scores",
    "model",
    "models",
    "run",
    "runs",
];

/// Checks a narrator's prose against the facts it was given and the
/// deterministic prose it rewrites; `Err` says what is wrong.
pub fn check_narration(prose: &Prose, facts: &Value, deterministic: &Prose) -> Result<(), String> {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    collect(facts, &mut strings, &mut numbers);
    for p in deterministic.paragraphs() {
        // The deterministic prose quotes stored text (verdict explanations)
        // whose numbers come from the database too.
        numbers.extend(
            NUMBER
                .find_iter(p)
                .filter_map(|m| m.as_str().replace(',', "").parse::<f64>().ok()),
        );
        strings.push(p.to_string());
    }
    // Names (model names, labels, item ids) are removed before numbers are
    // read, so the digits of "model-07" or "Run #12" are not taken as scores.
    let mut names: Vec<&str> = strings
        .iter()
        .map(String::as_str)
        .filter(|s| s.len() < 80 && s.chars().any(|c| c.is_ascii_digit()))
        .collect();
    names.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let vocabulary: BTreeSet<String> = strings
        .iter()
        .flat_map(|s| WORD.find_iter(s).map(|w| w.as_str().to_lowercase()))
        .chain(COMMON_WORDS.iter().map(|w| w.to_string()))
        .collect();
    let known_text = strings.join("\n").to_lowercase();
    for text in prose.paragraphs() {
        for date in DATE.find_iter(text) {
            if !known_text.contains(date.as_str()) {
                return Err(format!("the date {} is not in the data", date.as_str()));
            }
        }
        let mut rest = DATE.replace_all(text, " ").into_owned();
        for name in &names {
            rest = rest.replace(name, " ");
        }
        if let Some(token) = WITH_DIGIT.find(&rest) {
            return Err(format!(
                "`{}` names something that is not in the data",
                token.as_str().trim_end_matches(['.', '-', '_'])
            ));
        }
        for m in NUMBER.find_iter(&rest) {
            let written = m.as_str().replace(',', "");
            let value: f64 = written
                .parse()
                .map_err(|_| format!("cannot read {written}"))?;
            let decimals = written.split_once('.').map_or(0, |(_, f)| f.len());
            let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9;
            if !numbers.iter().any(|n| (n.abs() - value).abs() <= tolerance) {
                return Err(format!(
                    "the number {} matches no value in the data",
                    m.as_str()
                ));
            }
        }
        for word in CAPITALISED.find_iter(&rest) {
            if !vocabulary.contains(&word.as_str().to_lowercase()) {
                return Err(format!("`{}` does not appear in the data", word.as_str()));
            }
        }
        let lower = text.to_lowercase();
        for d in Dimension::ALL {
            for name in [d.id(), d.display_name()] {
                if lower.contains(name) && !known_text.contains(name) {
                    return Err(format!(
                        "it mentions the dimension `{name}`, which is not in this article's data"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every string and number in a JSON value (object keys excluded).
fn collect(value: &Value, strings: &mut Vec<String>, numbers: &mut Vec<f64>) {
    match value {
        Value::String(s) => strings.push(s.clone()),
        Value::Number(n) => numbers.extend(n.as_f64()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, strings, numbers)),
        Value::Object(map) => map.values().for_each(|v| collect(v, strings, numbers)),
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose(lead: &str) -> Prose {
        Prose {
            lead: lead.into(),
            fluctuation: "Nothing unusual.".into(),
            attention: "No rule fired.".into(),
        }
    }

    fn facts() -> Value {
        json!({
            "run": {"id": 12, "label": "2026-11-25", "kind": "smoke"},
            "model": {"model": "model-07", "main": 70.54, "delta_main": -9.6123,
                      "dimensions": [{"name": "code execution", "dimension": "code_execution", "score": 61.0}]}
        })
    }

    #[test]
    fn numbers_must_match_the_data_within_display_rounding() {
        let det = prose("model-07 drops 9.6 points in Run #12.");
        let ok = prose(
            "In Run #12 (2026-11-25), model-07 fell 9.6 points to 70.5; code execution is at 61.",
        );
        assert_eq!(check_narration(&ok, &facts(), &det), Ok(()));
        let wrong = prose("model-07 fell 9.7 points to 70.5.");
        assert_eq!(
            check_narration(&wrong, &facts(), &det),
            Err("the number 9.7 matches no value in the data".into())
        );
        // 70.54 shown with two decimals must be 70.54, not 70.55.
        assert!(check_narration(&prose("It scored 70.55."), &facts(), &det).is_err());
        assert!(check_narration(&prose("It scored 70.54."), &facts(), &det).is_ok());
    }

    #[test]
    fn claims_from_outside_the_data_are_rejected() {
        let det = prose("model-07 drops 9.6 points in Run #12.");
        for (text, why) in [
            ("model-07 fell 9.6 points, like gpt-4o did.", "`gpt-4o`"),
            ("OpenAI's model-07 fell 9.6 points.", "`OpenAI`"),
            ("model-07 fell 9.6 points on Tuesday.", "`Tuesday`"),
            ("model-07 fell 9.6 points since 2026-11-20.", "2026-11-20"),
            ("model-07 fell 9.6 points; integrity held.", "`integrity`"),
        ] {
            let err = check_narration(&prose(text), &facts(), &det).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn answers_without_the_json_object_are_rejected_with_a_reason() {
        assert!(parse_prose("Sure! Here it is.")
            .unwrap_err()
            .contains("no JSON object"));
        let fenced =
            "```json\n{\"lead\": \"a\", \"fluctuation\": \"b\", \"attention\": \"c\"}\n```";
        assert_eq!(parse_prose(fenced).unwrap().fluctuation, "b");
        assert!(parse_prose("{\"lead\": \"a\"}")
            .unwrap_err()
            .contains("missing field"));
    }
}
