//! Webhook alerts: when a verdict changes, every configured webhook gets a
//! JSON message (Slack-compatible: `text`, plus the same facts as
//! `attachments[].fields` and machine-readable under `yardstick`). Each
//! delivery is stored before it is tried and updated with how it ended;
//! transient failures (no connection, timeout, 429, 5xx) are retried with
//! exponential backoff and full jitter, other answers are final.

use crate::RunError;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;
use yardstick_providers::retry::RetryPolicy;
use yardstick_store::{AlertRow, AlertStatus, Store, VerdictRow};

/// `[alerts]` in `yardstick.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// http(s) URLs that receive a POST on every verdict change.
    pub webhooks: Vec<String>,
    /// Tries per webhook and alert, the first included.
    pub max_tries: u32,
    /// Upper bound of the first retry's delay in seconds; doubles per retry.
    pub retry_base_secs: f64,
    /// Cap of the retry delay, seconds.
    pub retry_max_secs: f64,
    /// How long one POST may take, seconds.
    pub timeout_secs: f64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            webhooks: Vec::new(),
            max_tries: 4,
            retry_base_secs: 1.0,
            retry_max_secs: 30.0,
            timeout_secs: 10.0,
        }
    }
}

impl AlertsConfig {
    /// Checks every setting; the message names the setting and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        for (i, url) in self.webhooks.iter().enumerate() {
            let parsed = reqwest::Url::parse(url).map_err(|e| {
                format!("alerts.webhooks[{i}] is not a URL ({e}); write it as https://HOST/PATH")
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!(
                    "alerts.webhooks[{i}] uses `{}`; webhooks must be http:// or https://",
                    parsed.scheme()
                ));
            }
        }
        if self.max_tries == 0 {
            return Err("alerts.max_tries must be at least 1".into());
        }
        for (name, secs) in [
            ("retry_base_secs", self.retry_base_secs),
            ("retry_max_secs", self.retry_max_secs),
            ("timeout_secs", self.timeout_secs),
        ] {
            if !(secs.is_finite() && secs > 0.0) {
                return Err(format!("alerts.{name} = {secs} must be a number of seconds above 0"));
            }
        }
        Ok(())
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_tries - 1,
            base_delay: Duration::from_secs_f64(self.retry_base_secs),
            max_delay: Duration::from_secs_f64(self.retry_max_secs),
            ..RetryPolicy::new(0)
        }
    }
}

/// The webhook as stored and shown: scheme, host and port only, because a
/// webhook's path is usually its secret.
pub fn redact_webhook(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.port() {
                Some(port) => format!("{}://{host}:{port}", u.scheme()),
                None => format!("{}://{host}", u.scheme()),
            }
        }
        Err(_) => "(invalid URL)".into(),
    }
}

/// The message of one verdict change.
pub fn payload(verdict: &VerdictRow, previous: Option<&str>) -> Value {
    let was = previous.unwrap_or("none");
    let text = format!(
        "yardstick: {} on {} is now {} (was {}) as of Run #{} ({} runs). {}",
        verdict.model,
        verdict.series,
        verdict.verdict,
        was,
        verdict.run_id,
        verdict.run_kind,
        verdict.explanation
    );
    let numbers: Value = serde_json::from_str(&verdict.numbers_json).unwrap_or(Value::Null);
    let color = match verdict.verdict.as_str() {
        "confirmed_degradation" | "likely_degradation" => "danger",
        "watch" => "warning",
        _ => "good",
    };
    let field = |title: &str, value: String| json!({ "title": title, "value": value, "short": true });
    json!({
        "text": text,
        "attachments": [{
            "color": color,
            "fields": [
                field("Model", verdict.model.clone()),
                field("Series", verdict.series.clone()),
                field("Verdict", verdict.verdict.clone()),
                field("Previous", was.to_string()),
                field("Run", format!("#{} ({})", verdict.run_id, verdict.run_kind)),
                field("Retest", verdict.retest_decision.clone().unwrap_or_else(|| {
                    verdict.retest_id.map_or("none".into(), |id| format!("#{id} scheduled"))
                })),
            ],
        }],
        "yardstick": {
            "verdict_id": verdict.id,
            "run": verdict.run_id,
            "run_kind": verdict.run_kind,
            "model": verdict.model,
            "series": verdict.series,
            "verdict": verdict.verdict,
            "detected_verdict": verdict.detected_verdict,
            "previous_verdict": previous,
            "retest_id": verdict.retest_id,
            "retest_decision": verdict.retest_decision,
            "explanation": verdict.explanation,
            "numbers": numbers,
        },
    })
}

/// Sends alerts to the configured webhooks.
#[derive(Debug, Clone)]
pub struct Alerter {
    config: AlertsConfig,
    client: reqwest::Client,
}

impl Alerter {
    pub fn new(config: &AlertsConfig) -> Result<Alerter, RunError> {
        config.validate().map_err(RunError::Settings)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(config.timeout_secs))
            .build()
            .map_err(|e| RunError::Settings(format!("cannot build the webhook client: {e}")))?;
        Ok(Alerter {
            config: config.clone(),
            client,
        })
    }

    /// Posts the change of `verdict` (from `previous`) to every webhook and
    /// returns the stored deliveries. A webhook that fails is recorded as
    /// failed; it never fails the caller — the verdict is already stored.
    pub async fn notify(
        &self,
        store: &Store,
        verdict: &VerdictRow,
        previous: Option<&str>,
    ) -> Result<Vec<AlertRow>, RunError> {
        if self.config.webhooks.is_empty() {
            return Ok(Vec::new());
        }
        let body = payload(verdict, previous);
        let body_text = body.to_string();
        let mut stored = Vec::with_capacity(self.config.webhooks.len());
        for url in &self.config.webhooks {
            let id = store
                .insert_alert(verdict.id, &redact_webhook(url), &body_text)
                .await?;
            let (status, tries, last_error) = self.deliver(url, &body).await;
            if status == AlertStatus::Failed {
                tracing::warn!(
                    "alert {id} to {} failed after {tries} tries: {}",
                    redact_webhook(url),
                    last_error.as_deref().unwrap_or("")
                );
            }
            store
                .finish_alert(id, status, tries, last_error.as_deref())
                .await?;
            stored.extend(store.get_alert(id).await?);
        }
        Ok(stored)
    }

    /// One delivery with retries: (status, tries made, last error).
    async fn deliver(&self, url: &str, body: &Value) -> (AlertStatus, u32, Option<String>) {
        let policy = self.config.retry_policy();
        let mut last_error = None;
        for attempt in 1..=self.config.max_tries {
            if attempt > 1 {
                let bound = policy.backoff_bound(attempt - 1);
                tokio::time::sleep(bound.mul_f64(rand::thread_rng().gen::<f64>())).await;
            }
            let (retry, error) = match self.client.post(url).json(body).send().await {
                Ok(response) if response.status().is_success() => {
                    return (AlertStatus::Sent, attempt, last_error);
                }
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    let text: String = text.chars().take(200).collect();
                    (
                        status.is_server_error() || status.as_u16() == 429,
                        format!("HTTP {}: {}", status.as_u16(), text.trim()),
                    )
                }
                Err(e) => (true, describe(&e)),
            };
            last_error = Some(error);
            if !retry {
                return (AlertStatus::Failed, attempt, last_error);
            }
        }
        (AlertStatus::Failed, self.config.max_tries, last_error)
    }
}

/// A transport error in a few words, without the URL (it may hold a secret).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}
