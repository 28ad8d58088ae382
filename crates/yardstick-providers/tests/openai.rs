//! The OpenAI-compatible provider against a real loopback HTTP server, through
//! `build_provider` and `send_with_retries` as a runner uses them.

mod common;

use common::{openai_ok, request, spec, Reply, Server};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use yardstick_core::{ErrorClass, ProviderKind, Usage};
use yardstick_providers::{
    build_provider, build_provider_with_env, send_with_retries, AdaptiveLimiter, Provider,
    RetryPolicy, Sent,
};

const KEY: &str = "sk-test-secret-0123456789";

fn fast_policy(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::new(max_retries)
    }
}

fn provider_for(server: &Server, timeout_secs: f64) -> Arc<dyn Provider> {
    let mut s = spec(ProviderKind::Openai, Some(server.openai_base()));
    s.timeout_secs = timeout_secs;
    s.api_key_env = Some("YS_TEST_OPENAI_KEY".into());
    build_provider_with_env(&s, |var| {
        (var == "YS_TEST_OPENAI_KEY").then(|| KEY.to_string())
    })
    .unwrap()
}

async fn send(server: &Server, max_retries: u32) -> Sent {
    send_with_retries(
        provider_for(server, 5.0).as_ref(),
        &request(),
        &fast_policy(max_retries),
        None,
    )
    .await
}

#[tokio::test]
async fn success_parses_text_usage_and_sends_the_parameters() {
    let server = Server::start(vec![Reply::json(200, openai_ok("4"))]).await;
    let sent = send(&server, 3).await;

    let response = sent.result.expect("success");
    assert_eq!(response.text, "4");
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 11,
            output_tokens: 2
        }
    );
    assert_eq!(response.finish_reason.as_deref(), Some("stop"));
    assert_eq!(response.model.as_deref(), Some("served-model-2024"));
    assert_eq!(sent.tries, 1);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body = req.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}])
    );
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["seed"], 42);
    assert_eq!(body["max_tokens"], 16);
    assert!(
        body.get("top_p").is_none() && body.get("stop").is_none(),
        "unset parameters are omitted: {body}"
    );
}

#[tokio::test]
async fn no_key_configured_sends_no_authorization_and_a_trailing_slash_is_fine() {
    let server = Server::start(vec![Reply::json(200, openai_ok("hi"))]).await;
    let provider = build_provider(&spec(
        ProviderKind::Openai,
        Some(format!("{}/", server.openai_base())),
    ))
    .unwrap();
    let response = provider.send(&request()).await.unwrap();
    assert_eq!(response.text, "hi");
    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), None);
}

#[tokio::test]
async fn rate_limit_with_retry_after_waits_then_succeeds() {
    let server = Server::start(vec![
        Reply::json(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
        )
        .with_header("Retry-After", "1"),
        Reply::json(200, openai_ok("ok")),
    ])
    .await;
    let started = Instant::now();
    let sent = send(&server, 3).await;
    assert_eq!(sent.result.unwrap().text, "ok");
    assert_eq!(sent.tries, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = Server::start(vec![
        Reply::raw(500, "internal error"),
        Reply::json(200, openai_ok("ok")),
    ])
    .await;
    let sent = send(&server, 3).await;
    assert_eq!(sent.result.unwrap().text, "ok");
    assert_eq!(sent.tries, 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn persistent_server_error_reports_status_and_body() {
    let server = Server::start(vec![Reply::raw(503, "upstream unavailable")]).await;
    let sent = send(&server, 1).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::ServerError);
    assert_eq!(err.http_status, Some(503));
    assert!(
        err.message.contains("503") && err.message.contains("upstream unavailable"),
        "{}",
        err.message
    );
    assert_eq!(sent.tries, 2);
}

#[tokio::test]
async fn slow_server_times_out_on_every_try() {
    let server = Server::start(vec![Reply::Slow {
        delay: Duration::from_secs(3),
        status: 200,
        body: openai_ok("late").to_string(),
    }])
    .await;
    let provider = provider_for(&server, 0.3);
    let started = Instant::now();
    let sent = send_with_retries(provider.as_ref(), &request(), &fast_policy(1), None).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::Timeout, "{}", err.message);
    assert_eq!(sent.tries, 2);
    assert!(
        sent.latency >= Duration::from_millis(300) && sent.latency < Duration::from_secs(2),
        "{:?}",
        sent.latency
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn garbage_json_is_malformed() {
    let server = Server::start(vec![Reply::raw(200, "<html>not json</html>")]).await;
    let sent = send(&server, 0).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::MalformedResponse);
    assert!(err.message.contains("not json"), "{}", err.message);
    assert_eq!(sent.tries, 1);
}

#[tokio::test]
async fn json_without_choices_is_malformed_and_retried() {
    let server = Server::start(vec![
        Reply::json(200, json!({"id": "x"})),
        Reply::json(200, openai_ok("ok")),
    ])
    .await;
    let sent = send(&server, 2).await;
    assert_eq!(sent.result.unwrap().text, "ok");
    assert_eq!(sent.tries, 2);
}

#[tokio::test]
async fn body_cut_short_by_the_server_is_a_connection_failure() {
    // The headers promise 1000 bytes; the connection closes after 30. Nothing
    // malformed was received — the transfer broke — so the class is `connection`.
    let server = Server::start(vec![Reply::Truncated {
        declared_len: 1000,
        body: r#"{"choices":[{"message":{"con"#.into(),
    }])
    .await;
    let sent = send(&server, 0).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::Connection, "{}", err.message);
    assert_eq!(err.http_status, Some(200));
}

#[tokio::test]
async fn unauthorized_is_auth_tried_once_and_the_key_is_never_quoted() {
    let echo = format!("Incorrect API key provided: {KEY}");
    let server = Server::start(vec![Reply::json(
        401,
        json!({"error": {"message": echo, "code": "invalid_api_key"}}),
    )])
    .await;
    let sent = send(&server, 3).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth);
    assert_eq!(sent.tries, 1);
    assert!(err.message.contains("HTTP 401"), "{}", err.message);
    assert!(!err.message.contains(KEY), "key leaked: {}", err.message);
    assert!(err.message.contains("[redacted]"));
}

#[tokio::test]
async fn bad_request_is_tried_once() {
    let server = Server::start(vec![Reply::json(
        400,
        json!({"error": {"message": "Unsupported parameter: 'seed'", "type": "invalid_request_error"}}),
    )])
    .await;
    let sent = send(&server, 3).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::BadRequest);
    assert_eq!(err.http_status, Some(400));
    assert!(
        err.message.contains("Unsupported parameter"),
        "{}",
        err.message
    );
    assert_eq!(sent.tries, 1);
}

#[tokio::test]
async fn content_filter_in_an_error_or_a_finish_reason() {
    let server = Server::start(vec![Reply::json(
        400,
        json!({"error": {"message": "filtered", "code": "content_filter", "innererror": {"code": "ResponsibleAIPolicyViolation"}}}),
    )])
    .await;
    let sent = send(&server, 3).await;
    assert_eq!(sent.result.unwrap_err().class, ErrorClass::ContentFilter);
    assert_eq!(sent.tries, 1);

    let filtered = json!({"choices": [{"message": {"role": "assistant", "content": null}, "finish_reason": "content_filter"}]});
    let server = Server::start(vec![Reply::json(200, filtered)]).await;
    let sent = send(&server, 3).await;
    assert_eq!(sent.result.unwrap_err().class, ErrorClass::ContentFilter);
    assert_eq!(sent.tries, 1);
}

#[tokio::test]
async fn null_content_refusal_is_an_answer() {
    let body = json!({
        "model": "llama3", "choices": [{"message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]
    });
    let server = Server::start(vec![Reply::json(200, body)]).await;
    let response = send(&server, 0).await.result.unwrap();
    assert_eq!(response.text, "I can't help with that.");
    assert_eq!(
        response.usage,
        Usage::default(),
        "missing usage counts as zero"
    );
}

#[tokio::test]
async fn connection_refused_is_a_connection_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let provider = build_provider(&spec(
        ProviderKind::Openai,
        Some(format!("http://{addr}/v1")),
    ))
    .unwrap();
    let sent = send_with_retries(provider.as_ref(), &request(), &fast_policy(1), None).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::Connection, "{}", err.message);
    assert_eq!(sent.tries, 2);
    assert!(
        err.message.to_lowercase().contains("refused"),
        "the cause is named: {}",
        err.message
    );
}

#[tokio::test]
async fn rate_limits_halve_the_limiter() {
    let server = Server::start(vec![
        Reply::json(429, json!({"error": {"message": "slow down"}})),
        Reply::json(200, openai_ok("ok")),
    ])
    .await;
    let limiter = AdaptiveLimiter::new("test-board-name", 8);
    let provider = provider_for(&server, 5.0);
    let sent = send_with_retries(
        provider.as_ref(),
        &request(),
        &fast_policy(2),
        Some(&limiter),
    )
    .await;
    assert!(sent.result.is_ok());
    assert_eq!(sent.tries, 2);
    assert_eq!(limiter.current_limit(), 4);
    assert_eq!(limiter.in_flight(), 0);
}
