//! Task-expression rules: structured output and formatting compliance, each
//! rule one check of weight 1 (the clarity half of the dimension needs a
//! judge and is not graded here).
//!
//! * `json_schema` — two checks. "answer is JSON": the whole answer, or one
//!   fenced code block that is the whole answer, parses. "matches the
//!   schema": the JSON (or, failing that, the first JSON value embedded in
//!   prose) satisfies the schema; the detail lists every violation with its
//!   JSON path. The validator implements a small JSON Schema subset, kept
//!   small so every verdict is easy to redo by hand: `type` (one or a list;
//!   `integer` = a number without fraction), `enum`, `const`, `required`,
//!   `properties`, `additionalProperties` (false or a schema), `items`,
//!   `minItems`/`maxItems`, `minLength`/`maxLength` (in characters),
//!   `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum`, `pattern`.
//!   Annotation keywords (`title`, `description`, `$schema`) are ignored.
//! * `table` — the first Markdown table (a row of `|` cells followed by a
//!   `---` separator row): present; header equal to `columns` (trimmed,
//!   case-insensitive, `*` dropped); data rows within `min_rows`/`max_rows`;
//!   every row as wide as the header.
//! * `sections` — one check per required heading. A heading is a Markdown
//!   `#` line, a line that is entirely bold, or a short line (≤ 8 words)
//!   ending in a colon; compared case-insensitively without numbering
//!   (`2.`), emphasis or the trailing colon.
//! * `min_words` / `max_words` (whitespace-separated words), `max_lines`
//!   (non-blank lines).
//! * `forbidden_preamble` — the first non-blank line must not open with
//!   filler (`Sure`, `Certainly`, `Of course`, `Here is`, `As an AI`, …).
//! * `forbidden` — one check per regex, passing when it does not match.

use crate::common::{clip, weighted};
use crate::extract::find_json;
use crate::rules::json_equal;
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;
use yardstick_core::{Check, GraderSpec, Item, TableRule};

pub(crate) const VERSION: &str = "1";

static PREAMBLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:sure|certainly|of course|absolutely|okay|ok|great question|great|gladly|",
        r"happy to help|i[’']d be (?:happy|glad)|i would be (?:happy|glad)|",
        r"here[’']s|here is|here are|below is|below are|as an ai|as a (?:large )?language model)\b",
    ))
    .expect("static regex")
});

static SOLE_FENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\A```[A-Za-z0-9_+.-]*[ \t]*\r?\n(.*?)\r?\n?```\z").expect("static regex")
});

static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:#{1,6}\s+(.+?)\s*#*|\*\*(.+?)\*\*:?|__(.+?)__:?|([^|]{1,80}):)$")
        .expect("static regex")
});

static NUMBERING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d+(?:\.\d+)*[.)]?|[ivxlc]+[.)]|[a-z][.)])\s+").expect("static regex")
});

type Outcome = (Vec<Check>, Option<String>);

pub(crate) fn grade(item: &Item, answer: &str) -> Result<Outcome, String> {
    let GraderSpec::Format {
        json_schema,
        table,
        sections,
        max_words,
        min_words,
        max_lines,
        forbidden_preamble,
        forbidden,
    } = &item.grader
    else {
        return Err("not a format grader".into());
    };
    let mut checks = Vec::new();
    let mut extracted = None;
    if let Some(schema) = json_schema {
        let (c, json) = json_checks(answer, schema)?;
        checks.extend(c);
        extracted = json.map(|v| v.to_string());
    }
    if let Some(rule) = table {
        checks.extend(table_checks(answer, rule));
    }
    if !sections.is_empty() {
        let found = headings(answer);
        for s in sections {
            let want = heading_key(s);
            let hit = found.iter().find(|(key, _)| *key == want);
            checks.push(weighted(
                format!("section {s:?}"),
                hit.is_some(),
                1.0,
                match hit {
                    Some((_, line)) => format!("heading {line:?}"),
                    None => format!(
                        "no heading {s:?}; headings found: {:?}",
                        found.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>()
                    ),
                },
            ));
        }
    }
    let words = answer.split_whitespace().count() as u64;
    if let Some(max) = max_words {
        checks.push(weighted(
            format!("at most {max} words"),
            words <= *max,
            1.0,
            format!("{words} words"),
        ));
    }
    if let Some(min) = min_words {
        checks.push(weighted(
            format!("at least {min} words"),
            words >= *min,
            1.0,
            format!("{words} words"),
        ));
    }
    if let Some(max) = max_lines {
        let lines = answer.lines().filter(|l| !l.trim().is_empty()).count() as u64;
        checks.push(weighted(
            format!("at most {max} lines"),
            lines <= *max,
            1.0,
            format!("{lines} non-blank lines"),
        ));
    }
    if *forbidden_preamble {
        let first = answer
            .lines()
            .map(|l| l.trim().trim_start_matches(['*', '#', '_', ' ']))
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let hit = PREAMBLE.find(first);
        checks.push(weighted(
            "no preamble",
            hit.is_none(),
            1.0,
            match hit {
                Some(m) => format!("opens with {:?}", m.as_str()),
                None => format!("opens with {:?}", clip(first, 40)),
            },
        ));
    }
    for p in forbidden {
        let re = Regex::new(p).map_err(|e| format!("pattern {p:?} does not compile: {e}"))?;
        let hit = re.find(answer);
        checks.push(weighted(
            format!("forbidden /{p}/"),
            hit.is_none(),
            1.0,
            match hit {
                Some(m) => format!("matched {:?}", m.as_str()),
                None => "absent".to_string(),
            },
        ));
    }
    Ok((checks, extracted))
}

fn json_checks(answer: &str, schema: &Value) -> Result<(Vec<Check>, Option<Value>), String> {
    let trimmed = answer.trim();
    let strict = serde_json::from_str::<Value>(trimmed).ok().or_else(|| {
        SOLE_FENCE
            .captures(trimmed)
            .and_then(|c| serde_json::from_str(&c[1]).ok())
    });
    let (value, parse) = match strict {
        Some(v) => (
            Some(v),
            weighted("answer is JSON", true, 1.0, "the answer parses as JSON"),
        ),
        None => {
            let embedded = find_json(answer);
            let detail = if embedded.is_some() {
                "JSON is embedded in other text; the answer must be only the JSON (a single code fence is fine)"
            } else {
                "no parsable JSON in the answer"
            };
            (embedded, weighted("answer is JSON", false, 1.0, detail))
        }
    };
    let schema_check = match &value {
        None => weighted("matches the schema", false, 1.0, "no JSON to validate"),
        Some(v) => {
            let mut problems = Vec::new();
            validate(schema, v, "$", &mut problems)?;
            let ok = problems.is_empty();
            let detail = if ok {
                "valid".to_string()
            } else {
                let shown: Vec<&String> = problems.iter().take(10).collect();
                let more = problems.len().saturating_sub(10);
                let tail = if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                };
                format!(
                    "{}{tail}",
                    shown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            weighted("matches the schema", ok, 1.0, detail)
        }
    };
    Ok((vec![parse, schema_check], value))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    let actual = type_name(v);
    actual == t || (t == "number" && actual == "integer")
}

/// Validates `value` against the schema subset, appending `path: problem`
/// lines. `Err` only for a schema the validator cannot read (a bad
/// `pattern`), which bank validation rejects before any answer is graded.
pub(crate) fn validate(
    schema: &Value,
    value: &Value,
    path: &str,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    let Value::Object(s) = schema else {
        if schema == &Value::Bool(false) {
            problems.push(format!("{path}: not allowed"));
        }
        return Ok(());
    };
    if let Some(t) = s.get("type") {
        let wanted: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !wanted.is_empty() && !wanted.iter().any(|w| has_type(value, w)) {
            problems.push(format!(
                "{path}: expected {}, found {}",
                wanted.join(" or "),
                type_name(value)
            ));
            return Ok(());
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.iter().any(|o| json_equal(o, value)) {
            problems.push(format!(
                "{path}: {value} is not one of {}",
                Value::Array(options.clone())
            ));
        }
    }
    if let Some(c) = s.get("const") {
        if !json_equal(c, value) {
            problems.push(format!("{path}: {value} is not {c}"));
        }
    }
    let bound = |key: &str| s.get(key).and_then(Value::as_f64);
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(req)) = s.get("required") {
                for k in req.iter().filter_map(Value::as_str) {
                    if !map.contains_key(k) {
                        problems.push(format!("{path}: missing required `{k}`"));
                    }
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, v) in map {
                match props.and_then(|p| p.get(k)) {
                    Some(sub) => validate(sub, v, &format!("{path}.{k}"), problems)?,
                    None => match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            problems.push(format!("{path}: unexpected key `{k}`"))
                        }
                        Some(extra @ Value::Object(_)) => {
                            validate(extra, v, &format!("{path}.{k}"), problems)?
                        }
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            let n = items.len() as f64;
            if let Some(min) = bound("minItems").filter(|m| n < *m) {
                problems.push(format!("{path}: {n} items, fewer than {min}"));
            }
            if let Some(max) = bound("maxItems").filter(|m| n > *m) {
                problems.push(format!("{path}: {n} items, more than {max}"));
            }
            if let Some(sub) = s.get("items") {
                for (i, v) in items.iter().enumerate() {
                    validate(sub, v, &format!("{path}[{i}]"), problems)?;
                }
            }
        }
        Value::String(text) => {
            let n = text.chars().count() as f64;
            if let Some(min) = bound("minLength").filter(|m| n < *m) {
                problems.push(format!("{path}: {n} characters, fewer than {min}"));
            }
            if let Some(max) = bound("maxLength").filter(|m| n > *m) {
                problems.push(format!("{path}: {n} characters, more than {max}"));
            }
            if let Some(p) = s.get("pattern").and_then(Value::as_str) {
                let re = Regex::new(p)
                    .map_err(|e| format!("schema pattern {p:?} does not compile: {e}"))?;
                if !re.is_match(text) {
                    problems.push(format!("{path}: {text:?} does not match /{p}/"));
                }
            }
        }
        Value::Number(num) => {
            let x = num.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = bound("minimum").filter(|m| x < *m) {
                problems.push(format!("{path}: {x} is below the minimum {min}"));
            }
            if let Some(max) = bound("maximum").filter(|m| x > *m) {
                problems.push(format!("{path}: {x} is above the maximum {max}"));
            }
            if let Some(min) = bound("exclusiveMinimum").filter(|m| x <= *m) {
                problems.push(format!("{path}: {x} is not above {min}"));
            }
            if let Some(max) = bound("exclusiveMaximum").filter(|m| x >= *m) {
                problems.push(format!("{path}: {x} is not below {max}"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// A Markdown table: header cells and data rows.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.replace("\\|", "\u{0}")
        .split('|')
        .map(|c| c.replace('\u{0}', "|").trim().to_string())
        .collect()
}

fn is_separator(line: &str) -> bool {
    let c = cells(line);
    line.contains('-')
        && !c.is_empty()
        && c.iter().all(|cell| {
            let body = cell.trim_matches(':');
            !body.is_empty() && body.chars().all(|ch| ch == '-')
        })
}

fn first_table(answer: &str) -> Option<Table> {
    let lines: Vec<&str> = answer.lines().collect();
    let at = (0..lines.len().saturating_sub(1))
        .find(|&i| lines[i].contains('|') && is_separator(lines[i + 1]))?;
    let rows = lines[at + 2..]
        .iter()
        .take_while(|l| l.contains('|') && !l.trim().is_empty())
        .map(|l| cells(l))
        .collect();
    Some(Table {
        header: cells(lines[at]),
        rows,
    })
}

fn table_checks(answer: &str, rule: &TableRule) -> Vec<Check> {
    let table = first_table(answer);
    let mut checks = vec![weighted(
        "table present",
        table.is_some(),
        1.0,
        match &table {
            Some(t) => format!("{} columns, {} data rows", t.header.len(), t.rows.len()),
            None => "no Markdown table (a `|` header row followed by a `---` row)".to_string(),
        },
    )];
    let none = "no table";
    if let Some(columns) = &rule.columns {
        let key = |s: &str| s.replace('*', "").trim().to_lowercase();
        let (ok, detail) = match &table {
            None => (false, none.to_string()),
            Some(t) => {
                let ok = t.header.len() == columns.len()
                    && t.header.iter().zip(columns).all(|(h, c)| key(h) == key(c));
                (ok, format!("header {:?}, expected {columns:?}", t.header))
            }
        };
        checks.push(weighted("table columns", ok, 1.0, detail));
    }
    if rule.min_rows.is_some() || rule.max_rows.is_some() {
        let (ok, detail) = match &table {
            None => (false, none.to_string()),
            Some(t) => {
                let n = t.rows.len() as u64;
                let ok =
                    rule.min_rows.is_none_or(|m| n >= m) && rule.max_rows.is_none_or(|m| n <= m);
                let lo = rule.min_rows.map_or("0".to_string(), |m| m.to_string());
                let hi = rule.max_rows.map_or("any".to_string(), |m| m.to_string());
                (ok, format!("{n} data rows, allowed {lo}–{hi}"))
            }
        };
        checks.push(weighted("table rows", ok, 1.0, detail));
    }
    let (ok, detail) = match &table {
        None => (false, none.to_string()),
        Some(t) => {
            let ragged: Vec<usize> = t
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.len() != t.header.len())
                .map(|(i, _)| i + 1)
                .collect();
            (
                ragged.is_empty(),
                if ragged.is_empty() {
                    format!("every row has {} cells", t.header.len())
                } else {
                    format!("rows {ragged:?} do not have {} cells", t.header.len())
                },
            )
        }
    };
    checks.push(weighted(
        "table rows as wide as the header",
        ok,
        1.0,
        detail,
    ));
    checks
}

/// A heading's comparison key: lower case, no numbering, emphasis or colon.
fn heading_key(text: &str) -> String {
    let t = text.replace(['*', '_', '`'], "");
    let t = t.trim().trim_end_matches(':').trim().to_lowercase();
    let t = NUMBERING.replace(&t, "");
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every heading line of the answer: `(key, line)`.
fn headings(answer: &str) -> Vec<(String, String)> {
    answer
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            let c = HEADING.captures(line)?;
            let text = (1..=4).find_map(|i| c.get(i))?.as_str();
            if c.get(4).is_some() && text.split_whitespace().count() > 8 {
                return None;
            }
            Some((heading_key(text), line.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use yardstick_core::{Dimension, Grade};

    fn spec() -> GraderSpec {
        GraderSpec::Format {
            json_schema: None,
            table: None,
            sections: vec![],
            max_words: None,
            min_words: None,
            max_lines: None,
            forbidden_preamble: false,
            forbidden: vec![],
        }
    }

    fn with(f: impl FnOnce(&mut GraderSpec)) -> GraderSpec {
        let mut s = spec();
        f(&mut s);
        s
    }

    fn run(grader: GraderSpec, answer: &str) -> Grade {
        let item = Item::new("f", Dimension::Communication, "p", grader);
        let (checks, extracted) = grade(&item, answer).unwrap();
        Grade::from_checks("format", VERSION, checks, extracted)
    }

    fn city_schema() -> GraderSpec {
        with(|s| {
            if let GraderSpec::Format { json_schema, .. } = s {
                *json_schema = Some(json!({
                    "type": "object",
                    "required": ["city", "population", "tags"],
                    "additionalProperties": false,
                    "properties": {
                        "city": {"type": "string", "minLength": 2, "pattern": "^[A-Z]"},
                        "population": {"type": "integer", "minimum": 0},
                        "tags": {"type": "array", "items": {"enum": ["port", "capital"]}, "maxItems": 2}
                    }
                }));
            }
        })
    }

    #[test]
    fn json_must_parse_and_match_the_schema() {
        let good = r#"{"city": "Lorvik", "population": 58200, "tags": ["port"]}"#;
        assert_eq!(run(city_schema(), good).score, 100.0);
        assert_eq!(
            run(city_schema(), &format!("```json\n{good}\n```")).score,
            100.0
        );

        let prose = run(city_schema(), &format!("Sure! {good}"));
        assert_eq!(prose.score, 50.0);
        assert!(prose.checks[0].detail.contains("embedded"));

        let bad = run(
            city_schema(),
            r#"{"city": "lorvik", "population": "58,200", "tags": ["port", "spa", "x"], "mayor": "A"}"#,
        );
        assert_eq!(bad.score, 50.0);
        let d = &bad.checks[1].detail;
        for needle in [
            "$.city: \"lorvik\" does not match",
            "$.population: expected integer, found string",
            "$.tags: 3 items, more than 2",
            "$.tags[1]: \"spa\" is not one of",
            "unexpected key `mayor`",
        ] {
            assert!(d.contains(needle), "{d} should contain {needle}");
        }
        let missing = run(city_schema(), r#"{"city": "Lorvik"}"#);
        assert!(missing.checks[1]
            .detail
            .contains("missing required `population`"));
        assert_eq!(run(city_schema(), "no json").score, 0.0);
    }

    #[test]
    fn schema_numbers_compare_by_value() {
        let mut problems = Vec::new();
        validate(
            &json!({"type": "integer", "maximum": 3}),
            &json!(3.0),
            "$",
            &mut problems,
        )
        .unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        validate(&json!({"type": "integer"}), &json!(2.5), "$", &mut problems).unwrap();
        validate(
            &json!({"exclusiveMinimum": 0}),
            &json!(0),
            "$",
            &mut problems,
        )
        .unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    fn table_spec() -> GraderSpec {
        with(|s| {
            if let GraderSpec::Format { table, .. } = s {
                *table = Some(TableRule {
                    columns: Some(vec!["Model".into(), "Score".into()]),
                    min_rows: Some(2),
                    max_rows: Some(3),
                });
            }
        })
    }

    #[test]
    fn tables_are_checked_for_shape() {
        let good = "Results:\n\n| **Model** | Score |\n|:---|---:|\n| a | 1 |\n| b | 2 |\n\nDone.";
        assert_eq!(run(table_spec(), good).score, 100.0);
        let wrong_cols = "| Name | Score |\n|---|---|\n| a | 1 |\n| b | 2 |";
        let g = run(table_spec(), wrong_cols);
        assert!(!g.checks[1].passed && g.checks[1].detail.contains("Name"));
        let short = "| Model | Score |\n|---|---|\n| a | 1 |";
        assert!(!run(table_spec(), short).checks[2].passed);
        let ragged = "| Model | Score |\n|---|---|\n| a | 1 | extra |\n| b | 2 |";
        let g = run(table_spec(), ragged);
        assert!(g.checks[3].detail.contains("rows [1]"), "{:#?}", g.checks);
        assert_eq!(run(table_spec(), "Model: a, Score: 1").score, 0.0);
    }

    #[test]
    fn sections_lengths_preamble_and_forbidden() {
        let g = with(|s| {
            if let GraderSpec::Format {
                sections,
                max_words,
                min_words,
                max_lines,
                forbidden_preamble,
                forbidden,
                ..
            } = s
            {
                *sections = vec!["Summary".into(), "Risks".into(), "Next steps".into()];
                *max_words = Some(40);
                *min_words = Some(5);
                *max_lines = Some(8);
                *forbidden_preamble = true;
                *forbidden = vec![r"(?i)\bas an ai\b".into()];
            }
        });
        let good = "## 1. Summary\nThe release is on track.\n\n**Risks**\nOne vendor is late.\n\nNext steps:\nCall the vendor today.";
        let graded = run(g.clone(), good);
        assert_eq!(graded.score, 100.0, "{:#?}", graded.checks);
        let bad = "Sure! Here is my summary.\n# Summary\nAs an AI I think it is fine.";
        let graded = run(g, bad);
        let failed: Vec<&str> = graded
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            failed,
            [
                "section \"Risks\"",
                "section \"Next steps\"",
                "no preamble",
                r"forbidden /(?i)\bas an ai\b/"
            ]
        );
        let long = with(|s| {
            if let GraderSpec::Format {
                max_words,
                max_lines,
                ..
            } = s
            {
                *max_words = Some(3);
                *max_lines = Some(1);
            }
        });
        let graded = run(long, "one two three four\n\nfive");
        assert_eq!(graded.checks[0].detail, "5 words");
        assert_eq!(graded.checks[1].detail, "2 non-blank lines");
        assert_eq!(graded.score, 0.0);
    }
}
