//! Anthropic Messages API: `POST {base_url}/v1/messages`.
//!
//! Differences from the OpenAI protocol that matter here:
//! - system messages are not part of `messages` but the top-level `system`
//!   field (several are joined with a blank line, in order);
//! - `max_tokens` is required, so an unset value becomes
//!   [`DEFAULT_MAX_TOKENS`] — recorded nowhere else, so keep it stable;
//! - there is no `seed`; a configured seed is not sent (the API rejects
//!   unknown fields) and the stored request still shows it was asked for;
//! - HTTP 529 "overloaded" is a 5xx and so a retried `server_error`;
//! - `stop_reason: "refusal"` means the safety system stopped the answer,
//!   filed as `content_filter` like OpenAI's `finish_reason: content_filter`.

use crate::classify::malformed;
use crate::http::{join_url, secret_header, ClientError, HttpOptions, JsonEndpoint};
use crate::Provider;
use async_trait::async_trait;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, ProviderError, Role, Usage};

/// The vendor's API root, used when a model's config gives no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The protocol version sent in `anthropic-version`.
pub const API_VERSION: &str = "2023-06-01";

/// `max_tokens` sent when the request leaves it unset (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// A provider speaking the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    endpoint: JsonEndpoint,
}

impl AnthropicProvider {
    /// `base_url` is the API root without `/v1` (e.g. [`DEFAULT_BASE_URL`]);
    /// a trailing slash is fine.
    pub fn new(
        base_url: &str,
        api_key: Option<&str>,
        options: &HttpOptions,
    ) -> Result<Self, ClientError> {
        let url = join_url(base_url, "/v1/messages")?;
        let mut headers = vec![(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        )];
        if let Some(key) = api_key {
            headers.push((HeaderName::from_static("x-api-key"), secret_header(key)?));
        }
        let endpoint = JsonEndpoint::new(url, headers, api_key.map(str::to_string), options)?;
        Ok(AnthropicProvider { endpoint })
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let (json, raw) = self.endpoint.post(&request_body(request)).await?;
        parse_response(&json, &raw)
    }
}

/// The JSON body for a request; unset optional parameters are omitted.
pub fn request_body(request: &ChatRequest) -> Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let messages: Vec<Value> = request
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
        .collect();

    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = request.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !request.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop));
    }
    Value::Object(body)
}

/// Reads a 2xx Messages reply: the text blocks of `content` joined in order
/// (other block kinds, e.g. `thinking`, are not part of the answer).
pub fn parse_response(json: &Value, raw: &[u8]) -> Result<ChatResponse, ProviderError> {
    let stop_reason = json
        .get("stop_reason")
        .and_then(Value::as_str)
        .map(str::to_string);
    if stop_reason.as_deref() == Some("refusal") {
        let mut err = malformed(
            "stop_reason is `refusal`: the safety system stopped the answer",
            raw,
        );
        err.class = ErrorClass::ContentFilter;
        return Err(err);
    }
    let Some(blocks) = json.get("content").and_then(Value::as_array) else {
        return Err(malformed("reply has no `content` array", raw));
    };
    let mut text = String::new();
    for block in blocks {
        if block.get("type").and_then(Value::as_str) == Some("text") {
            let Some(part) = block.get("text").and_then(Value::as_str) else {
                return Err(malformed("a text block has no `text` string", raw));
            };
            text.push_str(part);
        }
    }
    let usage = json.get("usage");
    let count = |key: &str| {
        usage
            .and_then(|u| u.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(ChatResponse {
        text,
        usage: Usage {
            // Cached prompt tokens are reported apart from `input_tokens`; all
            // of them were input the model read.
            input_tokens: count("input_tokens")
                + count("cache_creation_input_tokens")
                + count("cache_read_input_tokens"),
            output_tokens: count("output_tokens"),
        },
        finish_reason: stop_reason,
        model: json
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_core::Message;

    fn parse(body: Value) -> Result<ChatResponse, ProviderError> {
        let raw = serde_json::to_vec(&body).unwrap();
        parse_response(&body, &raw)
    }

    #[test]
    fn system_messages_move_to_the_system_field() {
        let request = ChatRequest {
            model: "claude-x".into(),
            messages: vec![
                Message::system("a"),
                Message::user("q"),
                Message::system("b"),
            ],
            temperature: Some(0.0),
            top_p: None,
            max_tokens: None,
            seed: Some(7),
            stop: vec!["END".into()],
        };
        assert_eq!(
            request_body(&request),
            json!({
                "model": "claude-x", "max_tokens": DEFAULT_MAX_TOKENS, "system": "a\n\nb",
                "messages": [{"role":"user","content":"q"}], "temperature": 0.0, "stop_sequences": ["END"]
            })
        );
    }

    #[test]
    fn joins_text_blocks_and_reads_usage() {
        let r = parse(json!({
            "model": "claude-x-2025", "stop_reason": "end_turn",
            "content": [{"type":"thinking","thinking":"hmm"},{"type":"text","text":"Hello "},{"type":"text","text":"world"}],
            "usage": {"input_tokens": 10, "output_tokens": 2, "cache_read_input_tokens": 5}
        }))
        .unwrap();
        assert_eq!(r.text, "Hello world");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 15,
                output_tokens: 2
            }
        );
        assert_eq!(r.finish_reason.as_deref(), Some("end_turn"));
        assert_eq!(r.model.as_deref(), Some("claude-x-2025"));
    }

    #[test]
    fn refusal_and_malformed() {
        let e = parse(json!({"content":[],"stop_reason":"refusal"})).unwrap_err();
        assert_eq!(e.class, ErrorClass::ContentFilter);
        let e = parse(json!({"type":"message"})).unwrap_err();
        assert_eq!(e.class, ErrorClass::MalformedResponse);
        let e = parse(json!({"content":[{"type":"text"}]})).unwrap_err();
        assert_eq!(e.class, ErrorClass::MalformedResponse);
    }
}
