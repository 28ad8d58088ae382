//! The Anthropic provider against a real loopback HTTP server.

mod common;

use common::{request, spec, Reply, Server};
use serde_json::json;
use std::time::Duration;
use yardstick_core::{ErrorClass, ProviderKind, Usage};
use yardstick_providers::{build_provider_with_env, send_with_retries, Provider, RetryPolicy};

const KEY: &str = "sk-ant-test-secret";

fn provider_for(server: &Server) -> std::sync::Arc<dyn Provider> {
    let mut s = spec(ProviderKind::Anthropic, Some(server.root()));
    s.api_key_env = Some("YS_TEST_ANTHROPIC_KEY".into());
    build_provider_with_env(&s, |_| Some(KEY.to_string())).unwrap()
}

fn fast_policy(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::new(max_retries)
    }
}

fn anthropic_ok() -> serde_json::Value {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test-20250101",
        "content": [{"type": "text", "text": "The answer "}, {"type": "text", "text": "is 4."}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 20, "output_tokens": 5}
    })
}

#[tokio::test]
async fn success_puts_system_on_top_and_sends_the_headers() {
    let server = Server::start(vec![Reply::json(200, anthropic_ok())]).await;
    let sent = send_with_retries(
        provider_for(&server).as_ref(),
        &request(),
        &fast_policy(2),
        None,
    )
    .await;

    let response = sent.result.expect("success");
    assert_eq!(response.text, "The answer is 4.");
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 20,
            output_tokens: 5
        }
    );
    assert_eq!(response.finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(response.model.as_deref(), Some("claude-test-20250101"));

    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("authorization"), None);
    let body = req.json();
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "What is 2+2?"}])
    );
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 16);
    assert_eq!(body["temperature"], 0.0);
    assert!(
        body.get("seed").is_none(),
        "the Messages API has no seed: {body}"
    );
}

#[tokio::test]
async fn max_tokens_defaults_when_unset() {
    let server = Server::start(vec![Reply::json(200, anthropic_ok())]).await;
    let mut req = request();
    req.max_tokens = None;
    provider_for(&server).send(&req).await.unwrap();
    assert_eq!(server.requests()[0].json()["max_tokens"], 1024);
}

#[tokio::test]
async fn overloaded_529_is_a_retried_server_error() {
    let overloaded =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    let server = Server::start(vec![
        Reply::json(529, overloaded.clone()),
        Reply::json(200, anthropic_ok()),
    ])
    .await;
    let sent = send_with_retries(
        provider_for(&server).as_ref(),
        &request(),
        &fast_policy(2),
        None,
    )
    .await;
    assert_eq!(sent.result.unwrap().text, "The answer is 4.");
    assert_eq!(sent.tries, 2);

    let server = Server::start(vec![Reply::json(529, overloaded)]).await;
    let sent = send_with_retries(
        provider_for(&server).as_ref(),
        &request(),
        &fast_policy(1),
        None,
    )
    .await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::ServerError);
    assert_eq!(err.http_status, Some(529));
    assert!(err.message.contains("Overloaded"), "{}", err.message);
    assert_eq!(sent.tries, 2);
}

#[tokio::test]
async fn refusal_is_content_filter_and_not_retried() {
    let refusal = json!({"type": "message", "content": [], "stop_reason": "refusal", "usage": {"input_tokens": 3, "output_tokens": 0}});
    let server = Server::start(vec![Reply::json(200, refusal)]).await;
    let sent = send_with_retries(
        provider_for(&server).as_ref(),
        &request(),
        &fast_policy(3),
        None,
    )
    .await;
    assert_eq!(sent.result.unwrap_err().class, ErrorClass::ContentFilter);
    assert_eq!(sent.tries, 1);
}

#[tokio::test]
async fn invalid_key_is_auth() {
    let body = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
    let server = Server::start(vec![Reply::json(401, body)]).await;
    let sent = send_with_retries(
        provider_for(&server).as_ref(),
        &request(),
        &fast_policy(3),
        None,
    )
    .await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth);
    assert_eq!(sent.tries, 1);
}
