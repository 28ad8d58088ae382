//! The HTTP plumbing shared by the JSON-over-HTTP providers: one pooled
//! client per provider, one POST per try, every failure classified in
//! [`crate::classify`] and scrubbed of the API key.

use crate::classify::{classify_status, classify_transport, malformed, redact};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use std::time::Duration;
use yardstick_core::ProviderError;

/// How a provider's HTTP client is set up.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Budget of one try: connecting, sending and reading the whole body.
    pub timeout: Duration,
    /// Idle connections kept per host. Should be at least the model's
    /// concurrency so a full pipeline never reconnects.
    pub pool_max_idle_per_host: usize,
}

impl HttpOptions {
    /// Options for a per-try timeout, with a pool big enough for concurrency
    /// 64 and more.
    pub fn with_timeout(timeout: Duration) -> Self {
        HttpOptions {
            timeout,
            pool_max_idle_per_host: 128,
        }
    }
}

/// A JSON endpoint with its fixed headers (auth, versions) and pooled client.
#[derive(Debug, Clone)]
pub(crate) struct JsonEndpoint {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    /// Kept only to scrub it from error messages.
    secret: Option<String>,
}

impl JsonEndpoint {
    /// `headers` are sent on every request; values marked sensitive are not
    /// printed by `Debug`. `secret` is removed from any error message.
    pub(crate) fn new(
        url: String,
        headers: Vec<(HeaderName, HeaderValue)>,
        secret: Option<String>,
        options: &HttpOptions,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(30)))
            .pool_max_idle_per_host(options.pool_max_idle_per_host)
            .tcp_nodelay(true)
            // A redirected POST becomes a GET and fails with a misleading
            // error; better to report the redirect itself (see classify).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("yardstick/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mut map = HeaderMap::new();
        map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in headers {
            map.insert(name, value);
        }
        Ok(JsonEndpoint {
            client,
            url,
            headers: map,
            secret,
        })
    }

    /// POSTs `body` and returns the parsed JSON of a 2xx reply together with
    /// its raw bytes (for quoting in malformed-response errors). Any other
    /// outcome is a classified [`ProviderError`] without the secret in it.
    pub(crate) async fn post(
        &self,
        body: &serde_json::Value,
    ) -> Result<(serde_json::Value, Vec<u8>), ProviderError> {
        self.post_inner(body)
            .await
            .map_err(|e| redact(e, self.secret.as_deref()))
    }

    async fn post_inner(
        &self,
        body: &serde_json::Value,
    ) -> Result<(serde_json::Value, Vec<u8>), ProviderError> {
        let response = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .json(body)
            .send()
            .await
            .map_err(|e| classify_transport(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| {
            let mut err = classify_transport(&e);
            err.http_status = Some(status.as_u16());
            err
        })?;
        if !status.is_success() {
            return Err(classify_status(status, &headers, &bytes));
        }
        match serde_json::from_slice(&bytes) {
            Ok(json) => Ok((json, bytes.to_vec())),
            Err(e) => {
                let mut err = malformed(
                    &format!("HTTP {} body is not valid JSON ({e})", status.as_u16()),
                    &bytes,
                );
                err.http_status = Some(status.as_u16());
                Err(err)
            }
        }
    }
}

/// Why a provider's HTTP side could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("base URL `{url}` is not a usable http(s) URL: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    /// Never carries the key itself.
    #[error("the API key contains characters not allowed in an HTTP header (a trailing newline or quote?)")]
    InvalidApiKey,
    #[error("could not create the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Joins a base URL and a path, tolerating a trailing slash on the base, and
/// checks that the result is an http(s) URL.
pub(crate) fn join_url(base: &str, path: &str) -> Result<String, ClientError> {
    let base = base.trim().trim_end_matches('/');
    let url = format!("{base}{path}");
    let invalid = |reason: String| ClientError::InvalidBaseUrl {
        url: base.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(&url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme `{}` is not http or https",
            parsed.scheme()
        )));
    }
    Ok(url)
}

/// A header value holding a secret: marked sensitive so it never appears in
/// `Debug` output. Fails if the key contains characters a header cannot carry.
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, ClientError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| ClientError::InvalidApiKey)?;
    v.set_sensitive(true);
    Ok(v)
}
