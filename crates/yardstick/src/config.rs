//! `yardstick.toml`: models, database, bank and run kinds.
//!
//! Without a file, yardstick evaluates the embedded default — the local
//! SmolLM2 model on the built-in bank, stored in `yardstick.db` — so a
//! newcomer needs no API key and no configuration.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use yardstick_core::{Dimension, ModelSpec, ProviderKind};

pub const CONFIG_FILE: &str = "yardstick.toml";
pub const DEFAULT_DATABASE: &str = "sqlite://yardstick.db";
pub const DEFAULT_LOCAL_MODEL: &str = "smollm2-135m-instruct";

/// How a run kind draws its items.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// Items per dimension; absent = the whole bank.
    #[serde(default)]
    pub per_dimension: Option<usize>,
    #[serde(default = "one")]
    pub epochs: u32,
    /// Restrict to these dimensions; absent = all five.
    #[serde(default)]
    pub dimensions: Option<Vec<Dimension>>,
}

fn one() -> u32 {
    1
}
fn default_window() -> usize {
    7
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub database: Option<String>,
    /// Bank directory; absent = the built-in bank compiled into the binary.
    #[serde(default)]
    pub bank: Option<PathBuf>,
    /// W: how many runs of a kind the stability score looks at.
    #[serde(default = "default_window")]
    pub stability_window: usize,
    #[serde(default)]
    pub kinds: BTreeMap<String, KindSpec>,
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// `[verdicts]`: detectors, history, confirmation runs.
    #[serde(default)]
    pub verdicts: yardstick_runner::verdicts::VerdictSettings,
    /// `[alerts]`: webhooks told about verdict changes.
    #[serde(default)]
    pub alerts: yardstick_runner::alerts::AlertsConfig,
    /// `[serve]`: dashboard address, action token and schedule.
    #[serde(default)]
    pub serve: yardstick_server::ServeConfig,
    /// `[report]`: articles, attention rules, narrator.
    #[serde(default)]
    pub report: yardstick_report::ReportConfig,
    /// The judge panel; absent = the embedded local model judges.
    #[serde(default)]
    pub judge: Option<crate::cmd_judge::JudgeConfig>,
    /// Where the file was read from (None = built-in defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// The configuration in force: the file given, else `./yardstick.toml`,
    /// else the embedded default.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(CONFIG_FILE).exists() => PathBuf::from(CONFIG_FILE),
            None => return Ok(Config::embedded_default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        Config::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}fix the file or regenerate an example with `yardstick init --force`",
                path.display()
            )
        })?;
        config.source = Some(path.to_path_buf());
        config.bank = config.bank.as_deref().map(|b| config.beside_file(b));
        config.validate()?;
        Ok(config)
    }

    /// A path from the file: a relative one is relative to the file's
    /// directory (the current directory for the built-in configuration).
    pub fn beside_file(&self, path: &Path) -> PathBuf {
        match &self.source {
            Some(file) if path.is_relative() => file.parent().unwrap_or(Path::new(".")).join(path),
            _ => path.to_path_buf(),
        }
    }

    /// Where the schedule publishes articles: `[report] out_dir`, else
    /// `reports` next to the configuration file.
    pub fn report_out_dir(&self) -> PathBuf {
        self.beside_file(
            self.report
                .out_dir
                .as_deref()
                .unwrap_or(Path::new("reports")),
        )
    }

    fn embedded_default() -> Config {
        Config {
            database: None,
            bank: None,
            stability_window: default_window(),
            kinds: BTreeMap::new(),
            models: vec![default_local_model()],
            verdicts: Default::default(),
            alerts: Default::default(),
            serve: Default::default(),
            report: Default::default(),
            judge: None,
            source: None,
        }
    }

    fn where_(&self) -> String {
        self.source
            .as_ref()
            .map_or("the built-in configuration".into(), |p| {
                p.display().to_string()
            })
    }

    fn validate(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for m in &self.models {
            if !seen.insert(m.name.as_str()) {
                bail!(
                    "{}: model name `{}` is used twice; names must be unique",
                    self.where_(),
                    m.name
                );
            }
            if m.concurrency == 0 {
                bail!(
                    "{}: model `{}` has concurrency 0; use 1 or more",
                    self.where_(),
                    m.name
                );
            }
            match m.provider {
                ProviderKind::Openai if m.base_url.is_none() => {
                    bail!(
                        "{}: model `{}` (provider openai) needs `base_url`, e.g. \"https://api.openai.com/v1\" or \"http://127.0.0.1:8080/v1\"",
                        self.where_(),
                        m.name
                    )
                }
                ProviderKind::Command if m.command.is_empty() => bail!(
                    "{}: model `{}` (provider command) needs `command = [\"program\", \"arg\", …]`",
                    self.where_(),
                    m.name
                ),
                _ => {}
            }
        }
        self.verdicts
            .validate()
            .and_then(|()| self.alerts.validate())
            .and_then(|()| self.report.validate().map_err(|e| e.to_string()))
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.where_()))?;
        if let Some(judge) = &self.judge {
            judge.validate(&self.models, &self.where_())?;
        }
        if self.stability_window < 3 {
            bail!(
                "{}: stability_window must be at least 3 (stability needs three runs)",
                self.where_()
            );
        }
        Ok(())
    }

    pub fn database_url(&self, flag: Option<&str>) -> String {
        flag.map(str::to_string)
            .or_else(|| self.database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_string())
    }

    /// The draw of a run kind: configured, else the built-in defaults
    /// (smoke = 2 per dimension, weekly = 10, full = everything).
    pub fn kind(&self, kind: &str) -> Result<KindSpec> {
        if let Some(k) = self.kinds.get(kind) {
            return Ok(k.clone());
        }
        let per_dimension = match kind {
            "smoke" => Some(2),
            "weekly" => Some(10),
            "full" | "custom" => None,
            other => bail!(
                "unknown run kind `{other}`: use smoke, weekly, full or custom, or define [kinds.{other}] in {}",
                self.where_()
            ),
        };
        Ok(KindSpec {
            per_dimension,
            epochs: 1,
            dimensions: None,
        })
    }

    /// The models selected by `--models a,b` (all when `None`), with a clear
    /// error naming an unknown one.
    pub fn select_models(&self, names: Option<&[String]>) -> Result<Vec<ModelSpec>> {
        let Some(names) = names else {
            return Ok(self.models.clone());
        };
        names
            .iter()
            .map(|n| {
                self.models
                    .iter()
                    .find(|m| &m.name == n)
                    .cloned()
                    .with_context(|| {
                        let known: Vec<&str> =
                            self.models.iter().map(|m| m.name.as_str()).collect();
                        format!(
                            "unknown model `{n}`: {} configures {}",
                            self.where_(),
                            known.join(", ")
                        )
                    })
            })
            .collect()
    }
}

/// The embedded default model: SmolLM2-135M-Instruct, greedy and seeded so
/// that two runs of the same draw give the same answers.
pub fn default_local_model() -> ModelSpec {
    ModelSpec {
        name: "smollm2-135m".into(),
        provider: ProviderKind::Local,
        model: DEFAULT_LOCAL_MODEL.into(),
        base_url: None,
        api_key_env: None,
        command: Vec::new(),
        family: Some("smollm".into()),
        temperature: Some(0.0),
        top_p: None,
        max_tokens: Some(192),
        seed: Some(0),
        price_input_per_mtok: 0.0,
        price_output_per_mtok: 0.0,
        concurrency: 1,
        timeout_secs: 300.0,
        max_retries: 0,
    }
}

/// The commented example written by `yardstick init`.
pub const EXAMPLE: &str = include_str!("../yardstick.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_validates() {
        let c = Config::parse(EXAMPLE, Path::new("yardstick.toml")).unwrap();
        assert!(c.models.len() >= 3);
        assert_eq!(c.kind("smoke").unwrap().per_dimension, Some(2));
        assert_eq!(c.report.rules.len(), 2);
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let c = Config::parse(
            "bank = 'my-bank'\n[report]\ntemplates = 't'\n",
            Path::new("cfg/y.toml"),
        )
        .unwrap();
        assert_eq!(c.bank.as_deref(), Some(Path::new("cfg/my-bank")));
        assert_eq!(c.report_out_dir(), Path::new("cfg/reports"));
        let c = Config::parse("[report]\nout_dir = '/srv/a'\n", Path::new("cfg/y.toml")).unwrap();
        assert_eq!(c.report_out_dir(), Path::new("/srv/a"));
        assert_eq!(
            Config::embedded_default().report_out_dir(),
            Path::new("reports")
        );
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = Config::parse(
            "database = \"x\"\n[[models]\nname = 1\n",
            Path::new("cfg/y.toml"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("cfg/y.toml"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn semantic_errors_are_specific() {
        let dup = "[[models]]\nname='a'\nprovider='command'\nmodel='m'\ncommand=['x']\n[[models]]\nname='a'\nprovider='command'\nmodel='m'\ncommand=['x']\n";
        assert!(Config::parse(dup, Path::new("y.toml"))
            .unwrap_err()
            .to_string()
            .contains("used twice"));
        let no_url = "[[models]]\nname='a'\nprovider='openai'\nmodel='m'\n";
        assert!(Config::parse(no_url, Path::new("y.toml"))
            .unwrap_err()
            .to_string()
            .contains("base_url"));
        let typo = "[[models]]\nname='a'\nprovider='openai'\nmodel='m'\nbase_url='http://x'\ntemprature=0\n";
        assert!(Config::parse(typo, Path::new("y.toml"))
            .unwrap_err()
            .to_string()
            .contains("temprature"));
        let c = Config::parse("", Path::new("y.toml")).unwrap();
        assert!(c
            .select_models(Some(&["nope".into()]))
            .unwrap_err()
            .to_string()
            .contains("unknown model `nope`"));
        assert!(c.kind("hourly").is_err());
        let verdicts = "[verdicts]\nhistory_runs = 3\n";
        let msg = Config::parse(verdicts, Path::new("y.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("y.toml: verdicts.history_runs = 3"),
            "{msg}"
        );
        let hook = "[alerts]\nwebhooks = ['ftp://x/y']\n";
        let msg = Config::parse(hook, Path::new("y.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("alerts.webhooks[0] uses `ftp`"), "{msg}");
        let typo = "[verdicts.retest]\nitem = 3\n";
        assert!(Config::parse(typo, Path::new("y.toml"))
            .unwrap_err()
            .to_string()
            .contains("item"));
    }
}
