//! The article templates: built into the crate, each replaceable by a file of
//! the same name in the configured directory. Names ending in `.html` are
//! auto-escaped; charts are inserted with `| safe` because the chart
//! functions escape their own text.

use crate::ReportError;
use minijinja::value::Value;
use minijinja::Environment;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

const BUILT_IN: [(&str, &str); 4] = [
    ("roundup.md", include_str!("../templates/roundup.md")),
    ("anomaly.md", include_str!("../templates/anomaly.md")),
    ("roundup.html", include_str!("../templates/roundup.html")),
    ("anomaly.html", include_str!("../templates/anomaly.html")),
];

pub struct Templates {
    env: Environment<'static>,
    /// Template name → the directory it was read from (user templates only).
    overridden: BTreeMap<&'static str, String>,
}

impl Templates {
    /// The built-in templates, with any of the same names (`roundup.md`,
    /// `anomaly.md`, `roundup.html`, `anomaly.html`) found in
    /// `dir` used instead. A template with a syntax error is reported with
    /// its file and line.
    pub fn load(dir: Option<&Path>) -> Result<Templates, ReportError> {
        let mut env = Environment::new();
        // Files end with their newline, like the templates.
        env.set_keep_trailing_newline(true);
        env.add_filter("score", score);
        env.add_filter("signed", signed);
        env.add_filter("percent", percent);
        let mut overridden = BTreeMap::new();
        for (name, built_in) in BUILT_IN {
            let (source, origin) = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|source| ReportError::TemplateFile { path, source })?;
                    (text, dir.map(|d| d.display().to_string()))
                }
                None => (built_in.to_string(), None),
            };
            env.add_template_owned(name, source)
                .map_err(|e| template_error(name, origin.as_deref(), &e))?;
            if let Some(o) = origin {
                overridden.insert(name, o);
            }
        }
        Ok(Templates { env, overridden })
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, ReportError> {
        let err = |e| template_error(name, self.overridden.get(name).map(String::as_str), &e);
        self.env
            .get_template(name)
            .map_err(err)?
            .render(context)
            .map_err(err)
    }
}

/// Names the template file and line of a template error.
fn template_error(name: &str, dir: Option<&str>, e: &minijinja::Error) -> ReportError {
    let file = dir.map_or_else(|| format!("built-in {name}"), |d| format!("{d}/{name}"));
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    ReportError::Template {
        location: e
            .line()
            .map_or(file.clone(), |line| format!("{file}:{line}")),
        message,
    }
}

/// Scores as articles print them: one decimal; "n/a" for none.
pub fn fmt_score(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.1}"))
}

/// A move with its sign: "+1.2", "-9.6"; "n/a" for none.
pub fn fmt_signed(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:+.1}"))
}

fn number(v: &Value) -> Option<f64> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    f64::try_from(v.clone()).ok()
}

fn score(v: Value) -> String {
    fmt_score(number(&v))
}

fn signed(v: Value) -> String {
    fmt_signed(number(&v))
}

fn percent(v: Value) -> String {
    number(&v).map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"))
}
