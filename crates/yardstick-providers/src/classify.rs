//! Mapping HTTP replies and transport failures onto [`ErrorClass`].
//!
//! The OpenAI-compatible and Anthropic providers share this module so that the
//! same reply gets the same class whichever protocol it came through: the class
//! decides whether a failure is retried and how it shows up in availability,
//! so two definitions of "rate limited" would make models incomparable.
//!
//! Everything here is a pure function of what was received (status, headers,
//! body, the transport error), which keeps it unit-testable without a server.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use std::time::SystemTime;
use yardstick_core::{ErrorClass, ProviderError};

/// Longest piece of a response body quoted in an error message. Enough to
/// show a vendor's error JSON, short enough to keep stored attempts and logs
/// readable when a proxy answers with a whole HTML page.
pub const BODY_TAIL_CHARS: usize = 500;

/// Error codes by which vendors say "refused by the content filter" on a 4xx
/// (or inside a 200). Matched against `error.code`, `error.type` and
/// `error.innererror.code`; exact matches only, so an ordinary 400 whose
/// message happens to mention "content" is not misfiled.
const CONTENT_FILTER_CODES: &[&str] = &[
    // OpenAI and Azure OpenAI.
    "content_filter",
    "content_policy_violation",
    "ResponsibleAIPolicyViolation",
    // Alibaba DashScope (Qwen) compatible mode.
    "data_inspection_failed",
];

/// Error codes that arrive with a 429 (OpenAI) but mean the account has run
/// out of credit. Waiting does not fix them, so they are filed as `auth` (an
/// account problem, not retried) rather than `rate_limited` — otherwise a run
/// with an empty account would back off on every item and collapse the
/// concurrency limit before failing anyway.
const QUOTA_CODES: &[&str] = &["insufficient_quota", "billing_hard_limit_reached"];

/// Classifies a non-2xx HTTP reply.
///
/// The message carries the status and a tail of the body (at most
/// [`BODY_TAIL_CHARS`] characters) so a reader of the stored attempt can see
/// what the vendor said. The caller removes any secret from it.
pub fn classify_status(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let code = status.as_u16();
    let body_json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let codes = body_json.as_ref().map(error_codes).unwrap_or_default();
    let has_code = |list: &[&str]| codes.iter().any(|c| list.contains(&c.as_str()));

    let class = match code {
        429 if has_code(QUOTA_CODES) => ErrorClass::Auth,
        429 => ErrorClass::RateLimited,
        408 => ErrorClass::Timeout,
        401 | 403 => ErrorClass::Auth,
        // 402 Payment Required: DeepSeek and others say "insufficient balance" this way.
        402 => ErrorClass::Auth,
        500..=599 => ErrorClass::ServerError,
        400..=499 if has_code(CONTENT_FILTER_CODES) => ErrorClass::ContentFilter,
        // 400/404/413/422 and every other 4xx: the request itself is wrong, the
        // same request will fail the same way again.
        400..=499 => ErrorClass::BadRequest,
        // Redirects are not followed (a POST turned into a GET hides the real
        // problem): a 3xx almost always means a wrong base_url, e.g. http vs https.
        300..=399 => ErrorClass::BadRequest,
        _ => ErrorClass::MalformedResponse,
    };

    let mut message = format!("HTTP {}", status_line(status));
    if status.is_redirection() {
        if let Some(location) = headers.get("location").and_then(|v| v.to_str().ok()) {
            message.push_str(&format!(" (redirect to {location}; check base_url)"));
        }
    }
    let tail = body_tail(body);
    if tail.is_empty() {
        message.push_str(" with an empty body");
    } else {
        message.push_str(": ");
        message.push_str(&tail);
    }

    ProviderError {
        class,
        message,
        http_status: Some(code),
        retry_after_secs: retry_after_secs(headers, SystemTime::now()),
    }
}

/// True when a JSON body (an error object, or a 200 carrying one) says the
/// content filter refused the request.
pub fn signals_content_filter(body: &serde_json::Value) -> bool {
    error_codes(body)
        .iter()
        .any(|c| CONTENT_FILTER_CODES.contains(&c.as_str()))
}

/// The machine-readable codes of an error body, from the places vendors put them:
/// OpenAI `{"error":{"code","type"}}`, Azure `error.innererror.code`,
/// Anthropic `{"type":"error","error":{"type"}}`, DashScope top-level `code`.
fn error_codes(body: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: Option<&serde_json::Value>| {
        if let Some(s) = v.and_then(|v| v.as_str()) {
            out.push(s.to_string());
        }
    };
    push(body.get("code"));
    if let Some(err) = body.get("error") {
        push(err.get("code"));
        push(err.get("type"));
        push(err.get("innererror").and_then(|i| i.get("code")));
    }
    out
}

/// How long the server asked us to wait, in seconds.
///
/// `retry-after-ms` (OpenAI, Azure) is preferred because it is more precise;
/// otherwise `Retry-After` as delta-seconds (fractions tolerated) or as an
/// HTTP-date, measured from `now`. A date in the past means "now" (0 s).
/// Unparsable or negative values are ignored rather than guessed at.
pub fn retry_after_secs(headers: &HeaderMap, now: SystemTime) -> Option<f64> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };

    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(ms / 1000.0);
        }
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then_some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
    )
}

/// Classifies a failure of the HTTP exchange itself (no complete reply).
///
/// The message walks the error's source chain, because reqwest's own text
/// ("error sending request") hides the cause a reader needs ("Connection refused").
pub fn classify_transport(err: &reqwest::Error) -> ProviderError {
    let (class, what) = if err.is_timeout() {
        (ErrorClass::Timeout, "request timed out")
    } else if err.is_connect() {
        (ErrorClass::Connection, "could not connect")
    } else if err.is_body() || err.is_decode() {
        // The headers arrived but the body did not, e.g. the server closed the
        // connection before sending all `Content-Length` bytes. Nothing was
        // received that could be malformed: the transfer broke, so this is a
        // connection failure.
        (
            ErrorClass::Connection,
            "connection broke while reading the response body",
        )
    } else if err.is_builder() {
        (ErrorClass::BadRequest, "could not build the request")
    } else {
        (ErrorClass::Connection, "request failed")
    };
    ProviderError::new(class, format!("{what}: {}", error_chain(err)))
}

/// A malformed 2xx body: not JSON, or JSON without the fields the protocol
/// promises. Quotes the tail so the garbling can be seen.
pub fn malformed(reason: &str, body: &[u8]) -> ProviderError {
    let tail = body_tail(body);
    let message = if tail.is_empty() {
        format!("{reason} (empty body)")
    } else {
        format!("{reason}; body: {tail}")
    };
    ProviderError::new(ErrorClass::MalformedResponse, message)
}

/// `Display` of an error followed by each distinct source, joined with ": ".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The last [`BODY_TAIL_CHARS`] characters of a body, lossily decoded, with
/// whitespace runs collapsed so the message stays on one line.
pub fn body_tail(body: &[u8]) -> String {
    text_tail(&String::from_utf8_lossy(body), BODY_TAIL_CHARS)
}

/// The last `max_chars` characters of `text` (whitespace collapsed), prefixed
/// with "…" when something was cut. Cuts on character boundaries.
pub fn text_tail(text: &str, max_chars: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = collapsed.chars().count();
    if count <= max_chars {
        return collapsed;
    }
    let tail: String = collapsed.chars().skip(count - max_chars).collect();
    format!("…{tail}")
}

/// Replaces every occurrence of `secret` in the error's message. Servers
/// sometimes echo the key they rejected; it must never reach storage or logs.
pub fn redact(mut err: ProviderError, secret: Option<&str>) -> ProviderError {
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        if err.message.contains(secret) {
            err.message = err.message.replace(secret, "[redacted]");
        }
    }
    err
}

fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn class_of(status: u16, body: &str) -> ErrorClass {
        classify_status(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
        .class
    }

    #[test]
    fn statuses_map_to_classes() {
        assert_eq!(class_of(429, "{}"), ErrorClass::RateLimited);
        assert_eq!(class_of(408, ""), ErrorClass::Timeout);
        assert_eq!(class_of(500, ""), ErrorClass::ServerError);
        assert_eq!(class_of(503, ""), ErrorClass::ServerError);
        assert_eq!(
            class_of(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error"}}"#
            ),
            ErrorClass::ServerError
        );
        assert_eq!(class_of(401, ""), ErrorClass::Auth);
        assert_eq!(class_of(403, ""), ErrorClass::Auth);
        assert_eq!(class_of(402, ""), ErrorClass::Auth);
        for s in [400, 404, 413, 422, 405] {
            assert_eq!(
                class_of(s, r#"{"error":{"message":"bad"}}"#),
                ErrorClass::BadRequest,
                "{s}"
            );
        }
        assert_eq!(class_of(301, ""), ErrorClass::BadRequest);
    }

    #[test]
    fn content_filter_codes_turn_4xx_into_content_filter() {
        let openai = r#"{"error":{"message":"blocked","type":"invalid_request_error","code":"content_policy_violation"}}"#;
        assert_eq!(class_of(400, openai), ErrorClass::ContentFilter);
        let azure = r#"{"error":{"code":"content_filter","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#;
        assert_eq!(class_of(400, azure), ErrorClass::ContentFilter);
        let dashscope = r#"{"code":"data_inspection_failed","message":"inappropriate content"}"#;
        assert_eq!(class_of(400, dashscope), ErrorClass::ContentFilter);
        // Only codes count, not words in the message.
        assert_eq!(
            class_of(400, r#"{"error":{"message":"content_filter is off"}}"#),
            ErrorClass::BadRequest
        );
    }

    #[test]
    fn exhausted_quota_is_not_a_rate_limit() {
        let body = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert_eq!(class_of(429, body), ErrorClass::Auth);
    }

    #[test]
    fn message_has_status_and_short_body_tail() {
        let body = format!("{}END", "x".repeat(2000));
        let err = classify_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), body.as_bytes());
        assert!(
            err.message.starts_with("HTTP 502 Bad Gateway: …"),
            "{}",
            err.message
        );
        assert!(err.message.ends_with("END"));
        assert!(err.message.chars().count() <= BODY_TAIL_CHARS + 40);
        assert_eq!(err.http_status, Some(502));
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after_secs(&headers(&[("retry-after", "7")]), now),
            Some(7.0)
        );
        assert_eq!(
            retry_after_secs(&headers(&[("retry-after", " 1.5 ")]), now),
            Some(1.5)
        );
        assert_eq!(
            retry_after_secs(
                &headers(&[("retry-after", "20"), ("retry-after-ms", "250")]),
                now
            ),
            Some(0.25)
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after_secs(&headers(&[("retry-after", &date)]), now),
            Some(30.0)
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            retry_after_secs(&headers(&[("retry-after", &past)]), now),
            Some(0.0)
        );
        assert_eq!(
            retry_after_secs(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(
            retry_after_secs(&headers(&[("retry-after", "-3")]), now),
            None
        );
        assert_eq!(retry_after_secs(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_after_is_attached_to_the_error() {
        let err = classify_status(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "3")]),
            b"{}",
        );
        assert_eq!(err.retry_after_secs, Some(3.0));
    }

    #[test]
    fn tail_cuts_on_char_boundaries() {
        assert_eq!(text_tail("ab  c\n d", 10), "ab c d");
        assert_eq!(text_tail("ééééé", 2), "…éé");
    }

    #[test]
    fn redact_removes_the_secret() {
        let err = ProviderError::new(
            ErrorClass::Auth,
            "Incorrect API key provided: sk-secret-123.",
        );
        let err = redact(err, Some("sk-secret-123"));
        assert_eq!(err.message, "Incorrect API key provided: [redacted].");
        let same = redact(err.clone(), None);
        assert_eq!(same, err);
    }
}
