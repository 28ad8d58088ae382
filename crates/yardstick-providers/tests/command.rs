//! The command provider with small /bin/sh scripts written into a tempdir.
//!
//! Scripts are run as `/bin/sh script.sh …` rather than executed directly:
//! executing a file that was just written can fail with "text file busy" when
//! another test thread forks at the same moment.

mod common;

use common::{request, spec};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use yardstick_core::{ChatRequest, ErrorClass, ProviderKind, Usage};
use yardstick_providers::{build_provider, send_with_retries, Provider, RetryPolicy};

fn script(dir: &TempDir, name: &str, body: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn provider(script: &Path, args: &[&Path], timeout_secs: f64) -> Arc<dyn Provider> {
    let mut s = spec(ProviderKind::Command, None);
    s.command = vec!["/bin/sh".into(), script.display().to_string()];
    s.command
        .extend(args.iter().map(|a| a.display().to_string()));
    s.timeout_secs = timeout_secs;
    build_provider(&s).unwrap()
}

#[tokio::test]
async fn success_reads_the_request_from_stdin_and_the_answer_from_stdout() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("input.json");
    let s = script(
        &dir,
        "ok.sh",
        r#"cat > "$1"
printf '%s\n' '{"text": "4", "usage": {"input_tokens": 7, "output_tokens": 1}, "finish_reason": "stop", "model": "script-model"}'
"#,
    );
    let response = provider(&s, &[&input], 5.0).send(&request()).await.unwrap();
    assert_eq!(response.text, "4");
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 7,
            output_tokens: 1
        }
    );
    assert_eq!(response.finish_reason.as_deref(), Some("stop"));
    assert_eq!(response.model.as_deref(), Some("script-model"));

    let seen: ChatRequest = serde_json::from_slice(&std::fs::read(&input).unwrap()).unwrap();
    assert_eq!(seen, request());
}

#[tokio::test]
async fn usage_is_optional() {
    let dir = TempDir::new().unwrap();
    let s = script(
        &dir,
        "ok.sh",
        "cat > /dev/null\necho '{\"text\": \"hello\"}'\n",
    );
    let response = provider(&s, &[], 5.0).send(&request()).await.unwrap();
    assert_eq!(response.text, "hello");
    assert_eq!(response.usage, Usage::default());
}

#[tokio::test]
async fn an_error_object_keeps_its_class_and_drives_retries() {
    let dir = TempDir::new().unwrap();
    let s = script(
        &dir,
        "limited.sh",
        "cat > /dev/null\necho '{\"error\": {\"class\": \"rate_limited\", \"message\": \"vendor says slow down\"}}'\n",
    );
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::new(2)
    };
    let sent = send_with_retries(provider(&s, &[], 5.0).as_ref(), &request(), &policy, None).await;
    let err = sent.result.unwrap_err();
    assert_eq!(err.class, ErrorClass::RateLimited);
    assert_eq!(err.message, "vendor says slow down");
    assert_eq!(sent.tries, 3);

    let s = script(
        &dir,
        "auth.sh",
        "echo '{\"error\": {\"class\": \"auth\", \"message\": \"bad key\"}}'\nexit 2\n",
    );
    let sent = send_with_retries(provider(&s, &[], 5.0).as_ref(), &request(), &policy, None).await;
    assert_eq!(
        sent.result.unwrap_err().class,
        ErrorClass::Auth,
        "a non-zero exit keeps its error object"
    );
    assert_eq!(sent.tries, 1);
}

#[tokio::test]
async fn non_zero_exit_is_a_server_error_quoting_stderr() {
    let dir = TempDir::new().unwrap();
    let s = script(
        &dir,
        "fail.sh",
        "cat > /dev/null\necho 'Traceback: vendor SDK exploded' >&2\nexit 3\n",
    );
    let err = provider(&s, &[], 5.0).send(&request()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::ServerError);
    assert!(err.message.contains("exit status 3"), "{}", err.message);
    assert!(
        err.message.contains("vendor SDK exploded"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn garbage_stdout_is_malformed() {
    let dir = TempDir::new().unwrap();
    let s = script(
        &dir,
        "garbage.sh",
        "cat > /dev/null\necho 'the answer is 4'\n",
    );
    let err = provider(&s, &[], 5.0).send(&request()).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::MalformedResponse);
    assert!(err.message.contains("the answer is 4"), "{}", err.message);
}

#[tokio::test]
async fn a_program_that_ignores_stdin_still_works() {
    let dir = TempDir::new().unwrap();
    let s = script(&dir, "deaf.sh", "echo '{\"text\": \"ok\"}'\n");
    let mut big = request();
    big.messages[1].content = "x".repeat(1 << 20); // more than a pipe buffer
    let response = provider(&s, &[], 5.0).send(&big).await.unwrap();
    assert_eq!(response.text, "ok");
}

#[tokio::test]
async fn sleeping_past_the_timeout_is_killed_with_its_children() {
    let dir = TempDir::new().unwrap();
    let pid_file = dir.path().join("child.pid");
    let s = script(&dir, "slow.sh", "sleep 30 &\necho $! > \"$1\"\nwait\n");
    let started = Instant::now();
    let err = provider(&s, &[&pid_file], 0.5)
        .send(&request())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Timeout, "{}", err.message);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );

    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    // The grandchild is gone, or at most a zombie waiting for its new parent to reap it.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let alive = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            Ok(stat) => stat
                .rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
                .unwrap_or(false),
        };
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the script's child {pid} survived the timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_missing_program_is_a_bad_request_naming_it() {
    let mut s = spec(ProviderKind::Command, None);
    s.command = vec!["/nonexistent/yardstick-test-model".into()];
    let err = build_provider(&s)
        .unwrap()
        .send(&request())
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::BadRequest);
    assert!(
        err.message.contains("/nonexistent/yardstick-test-model"),
        "{}",
        err.message
    );
    assert!(err.message.contains("not found"), "{}", err.message);
}
