//! Pulling artefacts (numbers, JSON, fenced blocks) out of free-form answers.

use regex::Regex;
use std::sync::LazyLock;

static FENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)```[A-Za-z0-9_+.-]*[ \t]*\r?\n(.*?)\r?\n?```").unwrap());

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    // Thousands separators only in groups of three, so "1,2,3" stays three numbers.
    Regex::new(r"[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?").unwrap()
});

/// The contents of the first fenced code block, or the text itself when it has none.
pub fn strip_code_fence(text: &str) -> &str {
    match FENCE.captures(text) {
        Some(c) => c.get(1).map_or("", |m| m.as_str()),
        None => text,
    }
}

/// Every number in the text, in order (thousands separators and a Unicode
/// minus understood).
pub fn numbers_in(text: &str) -> Vec<f64> {
    NUMBER
        .find_iter(text)
        .filter_map(|m| {
            let s = m.as_str();
            let negative = s.starts_with(['-', '−']);
            let v: f64 = s
                .trim_start_matches(['-', '−'])
                .replace(',', "")
                .parse()
                .ok()?;
            Some(if negative { -v } else { v })
        })
        .collect()
}

/// The JSON value in an answer: the whole answer, a fenced block, or the
/// outermost `{…}` / `[…]` span — whichever parses first.
pub fn find_json(text: &str) -> Option<serde_json::Value> {
    let candidates = [text.trim(), strip_code_fence(text).trim()];
    for c in candidates {
        if let Ok(v) = serde_json::from_str(c) {
            return Some(v);
        }
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(start), Some(end)) = (text.find(open), text.rfind(close)) {
            if start < end {
                if let Ok(v) = serde_json::from_str(&text[start..=end]) {
                    return Some(v);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_handle_separators_signs_and_exponents() {
        assert_eq!(
            numbers_in("total 1,234.5 and -3 then 2e3"),
            vec![1234.5, -3.0, 2000.0]
        );
        assert_eq!(numbers_in("1,2,3"), vec![1.0, 2.0, 3.0]);
        assert_eq!(numbers_in("minus −7"), vec![-7.0]);
        assert!(numbers_in("no digits").is_empty());
    }

    #[test]
    fn json_found_bare_fenced_or_embedded() {
        assert_eq!(find_json(r#"{"a":1}"#).unwrap()["a"], 1);
        assert_eq!(
            find_json("Here:\n```json\n{\"a\":2}\n```\nDone").unwrap()["a"],
            2
        );
        assert_eq!(find_json("Sure! {\"a\": 3} hope it helps").unwrap()["a"], 3);
        assert!(find_json("no json {here").is_none());
    }

    #[test]
    fn fences_are_stripped_with_or_without_language() {
        assert_eq!(strip_code_fence("```python\nprint(1)\n```"), "print(1)");
        assert_eq!(strip_code_fence("text ```\nx\n``` more"), "x");
        assert_eq!(strip_code_fence("plain"), "plain");
    }
}
