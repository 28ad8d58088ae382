//! `[report]` in yardstick.toml: the anomaly threshold, the attention rules,
//! a template directory and the optional narrator.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use yardstick_core::Dimension;
pub use yardstick_runner::verdicts::Series;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// A model gets an anomaly article when its published main score moved
    /// more than this many points since its previous run of the same kind.
    #[serde(default = "default_anomaly_threshold")]
    pub anomaly_threshold: f64,
    /// How many runs of the kind (this one included) the history chart and
    /// the attention rules look at.
    #[serde(default = "default_history_runs")]
    pub history_runs: usize,
    /// A directory whose `roundup.md`, `anomaly.md`, `roundup.html` or
    /// `anomaly.html` replace the built-in templates of the same name.
    #[serde(default)]
    pub templates: Option<PathBuf>,
    /// Prefix of the run page link ("Data source: Run #N — raw data" points at
    /// `{run_page_base}/runs/N`); empty = a link relative to the dashboard root.
    #[serde(default)]
    pub run_page_base: String,
    /// Where the schedule publishes each run's HTML articles (`yardstick
    /// serve --schedule`, `yardstick daemon`); the binary resolves it
    /// (default: `reports` next to yardstick.toml).
    #[serde(default)]
    pub out_dir: Option<PathBuf>,
    /// "Should we pay close attention?" rules; absent = [`default_rules`].
    #[serde(default = "default_rules")]
    pub rules: Vec<AttentionRule>,
    #[serde(default)]
    pub narrator: Option<NarratorConfig>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            anomaly_threshold: default_anomaly_threshold(),
            history_runs: default_history_runs(),
            templates: None,
            run_page_base: String::new(),
            out_dir: None,
            rules: default_rules(),
            narrator: None,
        }
    }
}

fn default_anomaly_threshold() -> f64 {
    5.0
}
fn default_history_runs() -> usize {
    30
}

/// Code execution under 70 three runs in a row → retest; integrity under 40
/// (the gate's fail line) in the latest run → review the integrity answers.
pub fn default_rules() -> Vec<AttentionRule> {
    vec![
        AttentionRule {
            dimension: Series::Dimension(Dimension::CodeExecution),
            below: Some(70.0),
            drop: None,
            runs: 3,
            action: "retest".into(),
        },
        AttentionRule {
            dimension: Series::Dimension(Dimension::Integrity),
            below: Some(40.0),
            drop: None,
            runs: 1,
            action: "review the integrity answers".into(),
        },
    ]
}

/// The name readers see for a series: "main score" or the dimension's name.
pub fn series_name(series: Series) -> &'static str {
    match series {
        Series::Main => "main score",
        Series::Dimension(d) => d.display_name(),
    }
}

/// `main` or a dimension id in yardstick.toml.
mod series_id {
    use super::Series;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(series: &Series, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(series.id())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Series, D::Error> {
        let text = String::deserialize(d)?;
        Series::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// "If `dimension` is below `below` (or fell by more than `drop`) over the
/// last `runs` runs, then `action`."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionRule {
    /// `main` or a dimension id.
    #[serde(with = "series_id")]
    pub dimension: Series,
    /// Fires when each of the last `runs` scores is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Fires when the latest score is more than this many points under the
    /// score `runs` runs earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<f64>,
    #[serde(default = "one")]
    pub runs: usize,
    /// What to do, in words (`retest`, `review the integrity answers`, …).
    pub action: String,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarratorConfig {
    /// A model name from `[[models]]`.
    pub model: String,
    /// Answer length cap for the narrator (default 1,200 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// A `[report]` setting that cannot work, with the key to fix.
#[derive(Debug, thiserror::Error)]
#[error("[report] {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ReportConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |key: &str, problem: String| ConfigError {
            key: key.into(),
            problem,
        };
        if !(self.anomaly_threshold.is_finite() && self.anomaly_threshold >= 0.0) {
            return Err(err(
                "anomaly_threshold",
                format!(
                    "{} is not a number of points ≥ 0 (e.g. 5.0)",
                    self.anomaly_threshold
                ),
            ));
        }
        if self.history_runs < 2 {
            return Err(err(
                "history_runs",
                format!(
                    "{} is too few: a history needs at least 2 runs",
                    self.history_runs
                ),
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let key = format!("rules[{i}] ({} → {})", rule.dimension, rule.action);
            if rule.below.is_none() && rule.drop.is_none() {
                return Err(err(
                    &key,
                    "needs `below = SCORE` or `drop = POINTS` (or both)".into(),
                ));
            }
            if rule.runs == 0 || rule.runs > self.history_runs {
                return Err(err(
                    &key,
                    format!(
                        "runs = {} must be between 1 and history_runs ({})",
                        rule.runs, self.history_runs
                    ),
                ));
            }
            if rule.below.is_some_and(|b| !b.is_finite())
                || rule.drop.is_some_and(|d| !(d.is_finite() && d >= 0.0))
            {
                return Err(err(
                    &key,
                    "`below` must be a finite score and `drop` a finite number of points ≥ 0"
                        .into(),
                ));
            }
            if rule.action.trim().is_empty() {
                return Err(err(&key, "`action` is empty; say what to do".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_from_toml_and_bad_ones_are_named() {
        let c: ReportConfig = toml_like(
            r#"{"anomaly_threshold": 4.0, "rules": [{"dimension": "code_execution", "below": 70, "runs": 3, "action": "retest"}]}"#,
        );
        c.validate().unwrap();
        assert_eq!(
            c.rules[0].dimension,
            Series::Dimension(Dimension::CodeExecution)
        );
        let bad: ReportConfig =
            toml_like(r#"{"rules": [{"dimension": "main", "runs": 2, "action": "look"}]}"#);
        let e = bad.validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "[report] rules[0] (main → look): needs `below = SCORE` or `drop = POINTS` (or both)"
        );
        let unknown = serde_json::from_str::<ReportConfig>(
            r#"{"rules": [{"dimension": "coding", "below": 1, "action": "x"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(unknown.contains("unknown series `coding`"), "{unknown}");
        let back = serde_json::to_value(&c.rules[0]).unwrap();
        assert_eq!(back["dimension"], "code_execution");
        let long = ReportConfig {
            history_runs: 5,
            rules: vec![AttentionRule {
                runs: 6,
                ..default_rules()[0].clone()
            }],
            ..ReportConfig::default()
        };
        assert!(long
            .validate()
            .unwrap_err()
            .to_string()
            .contains("between 1 and history_runs (5)"));
    }

    fn toml_like(json: &str) -> ReportConfig {
        serde_json::from_str(json).unwrap()
    }
}
