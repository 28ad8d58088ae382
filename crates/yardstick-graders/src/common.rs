//! Small helpers shared by the checklist graders (grounding, integrity, format).

use regex::{Regex, RegexBuilder};
use yardstick_core::Check;

/// A check with an explicit weight.
pub(crate) fn weighted(
    name: impl Into<String>,
    passed: bool,
    weight: f64,
    detail: impl Into<String>,
) -> Check {
    Check {
        weight,
        ..Check::new(name, passed, detail)
    }
}

/// Compiles author-written patterns, naming the one that fails.
pub(crate) fn compile_all(
    patterns: &[String],
    case_insensitive: bool,
) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .map(|p| {
            RegexBuilder::new(p)
                .case_insensitive(case_insensitive)
                .build()
                .map_err(|e| format!("pattern {p:?} does not compile: {e}"))
        })
        .collect()
}

/// The first pattern that matches, with the text it matched.
pub(crate) fn first_hit<'t>(patterns: &[Regex], text: &'t str) -> Option<(String, &'t str)> {
    patterns
        .iter()
        .find_map(|re| re.find(text).map(|m| (re.as_str().to_string(), m.as_str())))
}

/// At most `n` characters of `text`, with an ellipsis when cut, for details.
pub(crate) fn clip(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        out.push('…');
    }
    out
}

/// Floating-point equality for numbers read from text: equal up to rounding noise.
pub(crate) fn same_number(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}
