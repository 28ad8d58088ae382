//! The judge in the binary: the `[judge]` section of `yardstick.toml`, the
//! panel built from it (or the embedded local fallback), and what `show run`
//! says about a run's judges.
//!
//! ```toml
//! [judge]
//! models = ["gpt-judge", "claude-judge"]   # names of [[models]] entries (exact pinned ids)
//! samples = 3                              # N samples per judge, median per criterion
//! drift_threshold = 0.5                    # on the criteria's scales
//! parse_retries = 2                        # further tries after an unparsable reply
//! ```
//!
//! Without `[judge]`, judged items are scored by the embedded local model
//! (SmolLM2-135M-Instruct, greedy, one sample, no retry) and every such score is
//! labelled as coming from that fallback.

use crate::code::GraderSet;
use crate::config::{Config, DEFAULT_LOCAL_MODEL};
use crate::connect::connect;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::sync::Arc;
use yardstick_core::{CalibrationEntry, Item, ModelSpec, ProviderKind};
use yardstick_graders::{Judge, JudgePanel};
use yardstick_store::Store;

fn three() -> u32 {
    3
}
fn half() -> f64 {
    0.5
}
fn two() -> u32 {
    2
}

/// `[judge]` in `yardstick.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// The panel: names of `[[models]]` entries, each pinned to an exact model id.
    pub models: Vec<String>,
    #[serde(default = "three")]
    pub samples: u32,
    #[serde(default = "half")]
    pub drift_threshold: f64,
    #[serde(default = "two")]
    pub parse_retries: u32,
}

/// Model ids that float to whatever the vendor serves today.
const FLOATING: &[&str] = &["latest", "preview"];

impl JudgeConfig {
    /// Checks the section against the configured models; `place` names the file.
    pub fn validate(&self, models: &[ModelSpec], place: &str) -> Result<()> {
        if self.models.is_empty() {
            bail!("{place}: [judge] models is empty; name one or more [[models]] entries, or remove [judge] to use the embedded local judge");
        }
        for name in &self.models {
            let Some(spec) = models.iter().find(|m| &m.name == name) else {
                let known: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
                bail!(
                    "{place}: [judge] names model `{name}`, which is not configured; [[models]] has: {}",
                    known.join(", ")
                );
            };
            if let Some(word) = FLOATING.iter().find(|w| spec.model.contains(**w)) {
                bail!(
                    "{place}: judge `{name}` uses model id `{}`, which floats (`{word}`); pin the exact dated id so that judge scores stay comparable",
                    spec.model
                );
            }
        }
        if self.samples == 0 {
            bail!("{place}: [judge] samples is 0; use 1 or more (3 gives a median)");
        }
        if !(self.drift_threshold.is_finite() && self.drift_threshold >= 0.0) {
            bail!(
                "{place}: [judge] drift_threshold is {}; it must be a number ≥ 0 (points on the criteria's scales)",
                self.drift_threshold
            );
        }
        Ok(())
    }
}

/// The embedded fallback judge: the default local model, greedy, with room
/// to think before the score line.
fn fallback_judge() -> ModelSpec {
    ModelSpec {
        name: "fallback-judge".into(),
        provider: ProviderKind::Local,
        model: DEFAULT_LOCAL_MODEL.into(),
        base_url: None,
        api_key_env: None,
        command: Vec::new(),
        family: Some("smollm".into()),
        temperature: Some(0.0),
        top_p: None,
        max_tokens: Some(256),
        seed: Some(0),
        price_input_per_mtok: 0.0,
        price_output_per_mtok: 0.0,
        concurrency: 1,
        timeout_secs: 300.0,
        max_retries: 0,
    }
}

/// The judge panel configured (or the fallback), with the bank's frozen
/// calibration set. Providers are built here, before anything is stored.
pub fn judge_panel(config: &Config, calibration: Vec<CalibrationEntry>) -> Result<JudgePanel> {
    let (judges, samples, drift_threshold, parse_retries) = match &config.judge {
        Some(j) => {
            let specs = config.select_models(Some(&j.models))?;
            let judges = connect(&specs)
                .context("cannot set up the judges of [judge]")?
                .into_iter()
                .map(|m| Judge::new(m.spec, m.provider, false))
                .collect();
            (judges, j.samples, j.drift_threshold, j.parse_retries)
        }
        None => {
            let spec = fallback_judge();
            let model = connect(std::slice::from_ref(&spec))
                .context("cannot load the embedded local judge (configure [judge] in yardstick.toml to use other models)")?
                .remove(0);
            // Greedy decoding repeats itself, so one sample and no retry of
            // an unparsable reply: asking again would return the same text.
            (
                vec![Judge::new(model.spec, model.provider, true)],
                1,
                half(),
                0,
            )
        }
    };
    Ok(JudgePanel {
        judges,
        samples,
        parse_retries,
        calibration: Arc::new(calibration),
        drift_threshold,
    })
}

/// Adds the judge panel to `graders` when any of `items` is judged (the
/// fallback model is loaded only then).
pub fn add_judge<'a>(
    graders: GraderSet,
    items: impl IntoIterator<Item = &'a Item>,
    config: &Config,
    calibration: Vec<CalibrationEntry>,
) -> Result<GraderSet> {
    if !items.into_iter().any(|i| i.judge_rubric().is_some()) {
        return Ok(graders);
    }
    let panel = judge_panel(config, calibration)?;
    let mut graders = graders;
    graders.graders = graders.graders.with_judge(Arc::new(panel));
    Ok(graders)
}

/// Lines for `show run`: each judge's check and the panel's agreement.
pub async fn describe_run_judges(store: &Store, run_id: i64) -> Result<Vec<String>> {
    let checks = store.run_judges(run_id).await?;
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = vec!["judges:".to_string()];
    for c in &checks {
        let drift = match c.drift {
            Some(d) => format!("drift {d:.2} (threshold {:.2})", c.drift_threshold),
            None if c.calibration_failed > 0 => {
                "drift unknown: no calibration entry could be scored".into()
            }
            None => "not calibrated (the bank has no calibration set)".into(),
        };
        let mut line = format!(
            "  {} ({}){} · {drift} · calibration {} scored, {} failed",
            c.judge,
            c.judge_model,
            if c.fallback {
                " · embedded fallback judge"
            } else {
                ""
            },
            c.calibration_scored,
            c.calibration_failed
        );
        if c.unreliable {
            line.push_str(" · UNRELIABLE");
        }
        lines.push(line);
        if !c.same_family.is_empty() {
            lines.push(format!(
                "  warning: judge {} is of the same family ({}) as {}",
                c.judge,
                c.family.as_deref().unwrap_or("?"),
                c.same_family.join(", ")
            ));
        }
    }
    if checks.iter().any(|c| c.unreliable) {
        lines.push("  judged scores of this run are marked unreliable (calibration drift above the threshold)".into());
    }
    let agreement = yardstick_runner::panel_agreement(store, run_id).await?;
    for (dimension, alpha) in agreement {
        lines.push(format!(
            "  panel agreement ({}): Krippendorff's α = {}",
            dimension.id(),
            alpha.map_or(
                "n/a (needs two judges and varying scores)".into(),
                |a| format!("{a:.3}")
            )
        ));
    }
    Ok(lines)
}

/// Notes under the board about the run's judged scores: unreliable (drift),
/// or given by the embedded fallback judge.
pub async fn board_notes(store: &Store, run_id: i64) -> Result<Vec<String>> {
    let checks = store.run_judges(run_id).await?;
    let mut notes = Vec::new();
    let drifted: Vec<&str> = checks
        .iter()
        .filter(|c| c.unreliable)
        .map(|c| c.judge.as_str())
        .collect();
    if !drifted.is_empty() {
        notes.push(format!(
            "note: judged scores of Run #{run_id} are UNRELIABLE (calibration drift of {}); see `yardstick show run {run_id}`",
            drifted.join(", ")
        ));
    }
    if checks.iter().any(|c| c.fallback) {
        notes.push(format!(
            "note: judged scores of Run #{run_id} come from the embedded fallback judge (configure [judge] for a stronger one)"
        ));
    }
    Ok(notes)
}

/// A warning line for a judge check as it happens.
pub fn check_warning(check: &yardstick_store::RunJudge) -> Option<String> {
    let mut parts = Vec::new();
    if !check.same_family.is_empty() {
        parts.push(format!(
            "judge {} is of the same family ({}) as {}",
            check.judge,
            check.family.as_deref().unwrap_or("?"),
            check.same_family.join(", ")
        ));
    }
    if check.unreliable {
        parts.push(match check.drift {
            Some(d) => format!(
                "judge {} drifted {d:.2} from the frozen calibration scores (threshold {:.2}): this run's judged scores are marked unreliable",
                check.judge, check.drift_threshold
            ),
            None => format!(
                "judge {} could not score the calibration set: this run's judged scores are marked unreliable",
                check.judge
            ),
        });
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const MODELS: &str = "[[models]]\nname = 'gpt-judge'\nprovider = 'openai'\nmodel = 'gpt-4o-2024-08-06'\nbase_url = 'http://127.0.0.1:9/v1'\nfamily = 'gpt'\n\n[[models]]\nname = 'floaty'\nprovider = 'openai'\nmodel = 'some-model-latest'\nbase_url = 'http://127.0.0.1:9/v1'\n";

    fn parse(judge: &str) -> Result<Config> {
        Config::parse(&format!("{MODELS}\n[judge]\n{judge}"), Path::new("y.toml"))
    }

    #[test]
    fn a_judge_section_reads_with_defaults_and_builds_its_panel() {
        let c = parse("models = ['gpt-judge']").unwrap();
        let j = c.judge.clone().unwrap();
        assert_eq!((j.samples, j.drift_threshold, j.parse_retries), (3, 0.5, 2));
        let panel = judge_panel(&c, Vec::new()).unwrap();
        assert_eq!(panel.judges.len(), 1);
        assert_eq!(panel.judges[0].spec.model, "gpt-4o-2024-08-06");
        assert!(!panel.is_fallback());
        assert_eq!(panel.samples, 3);
        // No [judge]: nothing configured, the fallback is the embedded model.
        assert!(Config::parse(MODELS, Path::new("y.toml"))
            .unwrap()
            .judge
            .is_none());
    }

    #[test]
    fn a_bad_judge_section_says_what_to_fix() {
        let cases = [
            (
                "models = ['gtp-judge']",
                "names model `gtp-judge`, which is not configured",
            ),
            ("models = ['floaty']", "floats (`latest`)"),
            ("models = []", "models is empty"),
            ("models = ['gpt-judge']\nsamples = 0", "samples is 0"),
            (
                "models = ['gpt-judge']\ndrift_threshold = -1.0",
                "drift_threshold is -1",
            ),
            (
                "models = ['gpt-judge']\nsample = 3",
                "unknown field `sample`",
            ),
        ];
        for (section, needle) in cases {
            let e = format!("{:#}", parse(section).unwrap_err());
            assert!(e.contains(needle), "{section:?}: {e}");
            assert!(e.contains("y.toml"), "{e}");
        }
    }

    #[test]
    fn check_warnings_name_the_family_and_the_drift() {
        let check = yardstick_store::RunJudge {
            run_id: 1,
            judge: "gpt-judge".into(),
            judge_model: "gpt-4o-2024-08-06".into(),
            family: Some("gpt".into()),
            fallback: false,
            same_family: vec!["gpt-mini".into()],
            drift: Some(0.8),
            drift_threshold: 0.5,
            calibration_scored: 20,
            calibration_failed: 0,
            unreliable: true,
            created_at: 0,
        };
        let w = check_warning(&check).unwrap();
        assert!(w.contains("same family (gpt) as gpt-mini"), "{w}");
        assert!(
            w.contains("drifted 0.80") && w.contains("unreliable"),
            "{w}"
        );
        let fine = yardstick_store::RunJudge {
            same_family: vec![],
            unreliable: false,
            ..check
        };
        assert_eq!(check_warning(&fine), None);
    }
}
