//! OpenAI-compatible chat completions: `POST {base_url}/chat/completions`.
//!
//! One client covers OpenAI, DeepSeek, Qwen, vLLM, llama.cpp server, Ollama
//! and the other vendors that copied the protocol. Their replies differ in
//! small ways that are handled here rather than per vendor:
//! - `message.content` may be a string, `null` (a refusal, or a reasoning
//!   model that spent its whole budget thinking), or an array of text parts;
//! - `usage` may be missing (older llama.cpp builds): counted as zero tokens
//!   rather than failing an otherwise good answer;
//! - a 200 may carry `{"error": …}` instead of `choices` (some proxies).

use crate::classify::{malformed, signals_content_filter};
use crate::http::{join_url, secret_header, ClientError, HttpOptions, JsonEndpoint};
use crate::Provider;
use async_trait::async_trait;
use reqwest::header::AUTHORIZATION;
use serde_json::{json, Map, Value};
use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, ProviderError, Usage};

/// A provider speaking the OpenAI chat completions protocol.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    endpoint: JsonEndpoint,
}

impl OpenAiProvider {
    /// `base_url` is the API root including the version segment, e.g.
    /// `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1` (a trailing
    /// slash is fine). Without `api_key` no `Authorization` header is sent,
    /// which is what local servers expect.
    pub fn new(
        base_url: &str,
        api_key: Option<&str>,
        options: &HttpOptions,
    ) -> Result<Self, ClientError> {
        let url = join_url(base_url, "/chat/completions")?;
        let mut headers = Vec::new();
        if let Some(key) = api_key {
            headers.push((AUTHORIZATION, secret_header(&format!("Bearer {key}"))?));
        }
        let endpoint = JsonEndpoint::new(url, headers, api_key.map(str::to_string), options)?;
        Ok(OpenAiProvider { endpoint })
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let (json, raw) = self.endpoint.post(&request_body(request)).await?;
        parse_response(&json, &raw)
    }
}

/// The JSON body for a request. Parameters the request leaves unset are
/// omitted so the server's own defaults apply, exactly as configured.
pub fn request_body(request: &ChatRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = request.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(n) = request.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if let Some(s) = request.seed {
        body.insert("seed".into(), json!(s));
    }
    if !request.stop.is_empty() {
        body.insert("stop".into(), json!(request.stop));
    }
    Value::Object(body)
}

/// Reads a 2xx chat completion. `raw` is the body as received, quoted when the
/// JSON lacks what the protocol promises.
pub fn parse_response(json: &Value, raw: &[u8]) -> Result<ChatResponse, ProviderError> {
    let Some(choices) = json.get("choices").and_then(Value::as_array) else {
        if json.get("error").is_some() {
            if signals_content_filter(json) {
                return Err(content_filter(
                    "the reply is an error object with a content-filter code",
                    raw,
                ));
            }
            return Err(malformed(
                "HTTP 2xx reply carries an error object instead of `choices`",
                raw,
            ));
        }
        return Err(malformed("reply has no `choices` array", raw));
    };
    let Some(choice) = choices.first() else {
        return Err(malformed("reply has an empty `choices` array", raw));
    };
    let finish_reason = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .map(str::to_string);
    if finish_reason.as_deref() == Some("content_filter") {
        return Err(content_filter(
            "finish_reason is `content_filter`: the provider's filter withheld the answer",
            raw,
        ));
    }
    let Some(message) = choice.get("message").filter(|m| m.is_object()) else {
        return Err(malformed("choices[0] has no `message` object", raw));
    };
    let text = message_text(message).ok_or_else(|| {
        malformed(
            "choices[0].message.content is neither text, null nor text parts",
            raw,
        )
    })?;
    Ok(ChatResponse {
        text,
        usage: usage(json.get("usage")),
        finish_reason,
        model: json
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The answer text of a message, or `None` when `content` has a shape no
/// compatible server is known to send.
///
/// A `null` content with a `refusal` string is the model declining: that is
/// an answer (integrity items reward declining), so its text is graded rather
/// than filed as a vendor error. A `null` content without a refusal is an
/// empty answer, e.g. a reasoning model that hit `max_tokens` while thinking;
/// `finish_reason` tells which.
fn message_text(message: &Value) -> Option<String> {
    match message.get("content") {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => Some(
            message
                .get("refusal")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part {
                    Value::String(s) => text.push_str(s),
                    Value::Object(_) => {
                        text.push_str(part.get("text").and_then(Value::as_str).unwrap_or_default())
                    }
                    _ => return None,
                }
            }
            Some(text)
        }
        Some(_) => None,
    }
}

fn usage(usage: Option<&Value>) -> Usage {
    let count = |key: &str| {
        usage
            .and_then(|u| u.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Usage {
        input_tokens: count("prompt_tokens"),
        output_tokens: count("completion_tokens"),
    }
}

fn content_filter(reason: &str, raw: &[u8]) -> ProviderError {
    let mut err = malformed(reason, raw);
    err.class = ErrorClass::ContentFilter;
    err
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
    fn body_omits_unset_parameters() {
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![Message::system("s"), Message::user("u")],
            temperature: None,
            top_p: None,
            max_tokens: Some(5),
            seed: None,
            stop: vec![],
        };
        let body = request_body(&request);
        assert_eq!(
            body,
            json!({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],"max_tokens":5})
        );
    }

    #[test]
    fn parses_a_standard_reply() {
        let r = parse(json!({
            "model": "gpt-x-2024", "choices": [{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        }))
        .unwrap();
        assert_eq!(r.text, "hi");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 3,
                output_tokens: 1
            }
        );
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.model.as_deref(), Some("gpt-x-2024"));
    }

    #[test]
    fn null_content_is_refusal_text_or_empty() {
        let r = parse(json!({"choices":[{"message":{"content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}))
            .unwrap();
        assert_eq!(r.text, "I can't help with that.");
        assert_eq!(r.usage, Usage::default());
        let r = parse(json!({"choices":[{"message":{"content":null},"finish_reason":"length"}]}))
            .unwrap();
        assert_eq!(r.text, "");
        assert_eq!(r.finish_reason.as_deref(), Some("length"));
    }

    #[test]
    fn content_parts_are_joined() {
        let r = parse(json!({"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}))
            .unwrap();
        assert_eq!(r.text, "ab");
    }

    #[test]
    fn filtered_and_malformed_replies() {
        let e =
            parse(json!({"choices":[{"message":{"content":""},"finish_reason":"content_filter"}]}))
                .unwrap_err();
        assert_eq!(e.class, ErrorClass::ContentFilter);
        let e = parse(json!({"error":{"code":"content_filter","message":"no"}})).unwrap_err();
        assert_eq!(e.class, ErrorClass::ContentFilter);
        for body in [
            json!({"error":{"message":"upstream died"}}),
            json!({"id":"x"}),
            json!({"choices":[]}),
            json!({"choices":[{"finish_reason":"stop"}]}),
            json!({"choices":[{"message":{"content":42}}]}),
        ] {
            let e = parse(body.clone()).unwrap_err();
            assert_eq!(e.class, ErrorClass::MalformedResponse, "{body}");
        }
    }
}
