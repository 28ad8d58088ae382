//! Turning a configured model ([`ModelSpec`]) into a ready [`Provider`].
//!
//! All configuration mistakes surface here, before a run starts, with the
//! model's name in the message — not as a failed first request halfway
//! through a run.

use crate::anthropic::{self, AnthropicProvider};
use crate::command::CommandProvider;
use crate::http::{ClientError, HttpOptions};
use crate::openai::OpenAiProvider;
use crate::Provider;
use std::sync::Arc;
use std::time::Duration;
use yardstick_core::{ModelSpec, ProviderKind};

/// Why a model's provider could not be built. Messages name the model and say
/// what to fix; none contains an API key.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "model `{model}`: the local provider is built by yardstick-local, not yardstick-providers"
    )]
    Local { model: String },
    #[error("model `{model}`: api_key_env names `{var}`, but that environment variable is unset or empty; export it or remove api_key_env")]
    MissingApiKey { model: String, var: String },
    #[error("model `{model}`: provider `openai` needs a base_url (e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1)")]
    MissingBaseUrl { model: String },
    #[error("model `{model}`: provider `command` needs `command = [\"program\", \"arg\", …]`")]
    MissingCommand { model: String },
    #[error("model `{model}`: timeout_secs must be a positive number of seconds, got {value}")]
    InvalidTimeout { model: String, value: f64 },
    #[error("model `{model}`: {source}")]
    Client {
        model: String,
        #[source]
        source: ClientError,
    },
}

/// Builds the provider of `spec`, reading its API key from the process
/// environment.
pub fn build_provider(spec: &ModelSpec) -> Result<Arc<dyn Provider>, BuildError> {
    build_provider_with_env(spec, |var| std::env::var(var).ok())
}

/// [`build_provider`] with the environment lookup supplied by the caller
/// (tests, or a binary that reads keys from elsewhere).
pub fn build_provider_with_env(
    spec: &ModelSpec,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Provider>, BuildError> {
    let model = || spec.name.clone();
    let timeout = Duration::try_from_secs_f64(spec.timeout_secs)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or(BuildError::InvalidTimeout {
            model: model(),
            value: spec.timeout_secs,
        })?;
    let client_error = |source| BuildError::Client {
        model: model(),
        source,
    };

    match spec.provider {
        ProviderKind::Local => Err(BuildError::Local { model: model() }),
        ProviderKind::Command => {
            let (program, args) = spec
                .command
                .split_first()
                .ok_or(BuildError::MissingCommand { model: model() })?;
            Ok(Arc::new(CommandProvider::new(
                program.clone(),
                args.to_vec(),
                timeout,
            )))
        }
        ProviderKind::Openai => {
            let base_url = spec
                .base_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .ok_or(BuildError::MissingBaseUrl { model: model() })?;
            let key = api_key(spec, &env)?;
            let provider =
                OpenAiProvider::new(base_url, key.as_deref(), &http_options(spec, timeout))
                    .map_err(client_error)?;
            Ok(Arc::new(provider))
        }
        ProviderKind::Anthropic => {
            let base_url = spec
                .base_url
                .as_deref()
                .unwrap_or(anthropic::DEFAULT_BASE_URL);
            let key = api_key(spec, &env)?;
            let provider =
                AnthropicProvider::new(base_url, key.as_deref(), &http_options(spec, timeout))
                    .map_err(client_error)?;
            Ok(Arc::new(provider))
        }
    }
}

/// The key named by `api_key_env`, trimmed (a trailing newline from
/// `export KEY=$(cat file)` is common). No `api_key_env` means no key: local
/// servers need none.
fn api_key(
    spec: &ModelSpec,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, BuildError> {
    let Some(var) = spec.api_key_env.as_deref() else {
        return Ok(None);
    };
    match env(var).map(|k| k.trim().to_string()) {
        Some(key) if !key.is_empty() => Ok(Some(key)),
        _ => Err(BuildError::MissingApiKey {
            model: spec.name.clone(),
            var: var.to_string(),
        }),
    }
}

/// One pooled client per provider, with room for at least 64 idle
/// connections (more if the model is configured for more concurrency).
fn http_options(spec: &ModelSpec, timeout: Duration) -> HttpOptions {
    HttpOptions {
        timeout,
        pool_max_idle_per_host: (spec.concurrency as usize).max(64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(provider: ProviderKind) -> ModelSpec {
        ModelSpec {
            name: "board-name".into(),
            provider,
            model: "m".into(),
            base_url: None,
            api_key_env: None,
            command: vec![],
            family: None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            price_input_per_mtok: 0.0,
            price_output_per_mtok: 0.0,
            concurrency: 8,
            timeout_secs: 10.0,
            max_retries: 2,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn error(spec: &ModelSpec, env: impl Fn(&str) -> Option<String>) -> String {
        match build_provider_with_env(spec, env) {
            Ok(_) => panic!("expected a build error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn local_is_not_built_here() {
        let msg = error(&spec(ProviderKind::Local), no_env);
        assert!(
            msg.contains("board-name") && msg.contains("yardstick-local"),
            "{msg}"
        );
    }

    #[test]
    fn missing_key_names_model_and_variable() {
        let mut s = spec(ProviderKind::Anthropic);
        s.api_key_env = Some("YS_TEST_KEY".into());
        let msg = error(&s, no_env);
        assert!(
            msg.contains("board-name") && msg.contains("YS_TEST_KEY"),
            "{msg}"
        );
        let msg = error(&s, |_| Some("  \n".into()));
        assert!(msg.contains("YS_TEST_KEY"), "{msg}");
        assert!(build_provider_with_env(&s, |_| Some("sk-ant-x\n".into())).is_ok());
    }

    #[test]
    fn openai_needs_a_valid_base_url() {
        let mut s = spec(ProviderKind::Openai);
        let msg = error(&s, no_env);
        assert!(
            msg.contains("board-name") && msg.contains("base_url"),
            "{msg}"
        );
        s.base_url = Some("ftp://example.com/v1".into());
        let msg = error(&s, no_env);
        assert!(msg.contains("board-name") && msg.contains("ftp"), "{msg}");
        s.base_url = Some("http://127.0.0.1:1/v1/".into());
        assert!(build_provider_with_env(&s, no_env).is_ok());
    }

    #[test]
    fn a_key_unfit_for_a_header_is_reported_without_the_key() {
        let mut s = spec(ProviderKind::Openai);
        s.base_url = Some("http://127.0.0.1:1/v1".into());
        s.api_key_env = Some("K".into());
        let msg = error(&s, |_| Some("sk-abc\u{7}def".into()));
        assert!(msg.contains("API key") && !msg.contains("sk-abc"), "{msg}");
    }

    #[test]
    fn command_and_timeout_are_checked() {
        let s = spec(ProviderKind::Command);
        assert!(error(&s, no_env).contains("command"));
        let mut s = spec(ProviderKind::Command);
        s.command = vec!["/bin/cat".into()];
        assert!(build_provider_with_env(&s, no_env).is_ok());
        s.timeout_secs = 0.0;
        assert!(error(&s, no_env).contains("timeout_secs"));
        s.timeout_secs = f64::NAN;
        assert!(error(&s, no_env).contains("timeout_secs"));
    }
}
