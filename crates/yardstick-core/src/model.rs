use serde::{Deserialize, Serialize};

/// Which wire protocol a model is reached by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions (OpenAI, DeepSeek, Qwen, vLLM, llama.cpp server, Ollama, …).
    Openai,
    /// Anthropic Messages API.
    Anthropic,
    /// An executable: request JSON on stdin, answer JSON on stdout.
    Command,
    /// In-process GGUF inference (cargo feature `local`).
    Local,
}

impl ProviderKind {
    pub fn id(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Command => "command",
            ProviderKind::Local => "local",
        }
    }
}

fn default_concurrency() -> u32 {
    8
}
fn default_timeout_secs() -> f64 {
    120.0
}
fn default_max_retries() -> u32 {
    4
}

/// One model as configured in `yardstick.toml` (`[[models]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The name used on the board and with `--models`.
    pub name: String,
    pub provider: ProviderKind,
    /// The provider's exact model id (pin a dated id where the vendor has one).
    /// For `local`, a cached model name or a path to a `.gguf` file.
    pub model: String,
    /// Base URL of the API, e.g. `https://api.example.com/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Name of the environment variable that holds the API key. The key itself
    /// is never stored, logged or passed into a sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// For `command`: the program and its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Model family (e.g. `gpt`, `claude`), used to warn when a judge grades its own family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// US dollars per million input tokens.
    #[serde(default)]
    pub price_input_per_mtok: f64,
    /// US dollars per million output tokens.
    #[serde(default)]
    pub price_output_per_mtok: f64,
    /// Upper bound on requests in flight; the adaptive limiter stays below it.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// Per-try timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: f64,
    /// Retries after the first try, for transient failures only.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

impl ModelSpec {
    /// Cost in US dollars of the given token counts at this model's prices.
    pub fn cost_usd(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.price_input_per_mtok
            + output_tokens as f64 * self.price_output_per_mtok)
            / 1_000_000.0
    }
}
