//! A provider that runs an executable per request, for models reached by a
//! script (a vendor SDK, a CLI, a research harness) instead of HTTP.
//!
//! # Protocol
//!
//! For every try the configured program is started with its arguments
//! (`command = ["prog", "arg", …]` in the model's config); no shell is
//! involved.
//!
//! - **stdin**: the [`ChatRequest`] as one JSON object followed by a newline,
//!   then end-of-file. Fields: `model`, `messages` (`[{"role", "content"}]`,
//!   roles `system` / `user` / `assistant`) and, when set, `temperature`,
//!   `top_p`, `max_tokens`, `seed`, `stop`.
//! - **stdout**: one JSON object (surrounding whitespace ignored), either an
//!   answer
//!   ```json
//!   {"text": "…", "usage": {"input_tokens": 12, "output_tokens": 3},
//!    "finish_reason": "stop", "model": "exact-model-id"}
//!   ```
//!   where only `text` is required (missing usage counts as zero tokens), or
//!   an error
//!   ```json
//!   {"error": {"class": "rate_limited", "message": "…", "retry_after_secs": 2}}
//!   ```
//!   with `class` one of `rate_limited`, `server_error`, `timeout`,
//!   `connection`, `bad_request`, `auth`, `content_filter`,
//!   `malformed_response` (see [`ErrorClass`]); `message`,
//!   `retry_after_secs` and `http_status` are optional. The class decides
//!   whether the request is retried, so report vendor errors honestly.
//! - **stderr**: free-form diagnostics; its tail is quoted when the program fails.
//! - **exit status**: 0 with an answer or error object on stdout. A non-zero
//!   exit is a failure: its error object is used if stdout has one, otherwise
//!   it is a `server_error` quoting the tail of stderr.
//!
//! Other outcomes: stdout that is not such an object (after a zero exit) is
//! `malformed_response`; a program that does not finish within the per-try
//! timeout is killed together with its process group and the try is a
//! `timeout`; a program that cannot be found or executed is `bad_request`
//! (a configuration error, not worth retrying).

use crate::classify::text_tail;
use crate::Provider;
use async_trait::async_trait;
use serde::Deserialize;
use std::io::ErrorKind;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, ProviderError, Usage};

/// Characters of stdout / stderr quoted in error messages.
const TAIL_CHARS: usize = 500;

/// Runs `program args…` once per try; see the module docs for the protocol.
#[derive(Debug, Clone)]
pub struct CommandProvider {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl CommandProvider {
    /// `timeout` bounds one try, from start to exit.
    pub fn new(program: impl Into<String>, args: Vec<String>, timeout: Duration) -> Self {
        CommandProvider {
            program: program.into(),
            args,
            timeout,
        }
    }

    fn spawn(&self) -> Result<Child, ProviderError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // If this future is dropped (run cancelled), the child goes too.
            .kill_on_drop(true);
        // A group of its own, so a timeout also kills what the program started
        // (`sh -c "sleep …"`) instead of leaving orphans behind.
        #[cfg(unix)]
        cmd.process_group(0);
        cmd.spawn().map_err(|e| {
            let (class, what) = match e.kind() {
                ErrorKind::NotFound => (
                    ErrorClass::BadRequest,
                    "was not found (check the model's `command` and PATH)",
                ),
                ErrorKind::PermissionDenied => (
                    ErrorClass::BadRequest,
                    "is not executable (permission denied)",
                ),
                _ => (ErrorClass::ServerError, "could not be started"),
            };
            ProviderError::new(
                class,
                format!("command provider: program `{}` {what}: {e}", self.program),
            )
        })
    }
}

#[async_trait]
impl Provider for CommandProvider {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let mut input = serde_json::to_vec(request).map_err(|e| {
            ProviderError::new(
                ErrorClass::BadRequest,
                format!("request is not serializable: {e}"),
            )
        })?;
        input.push(b'\n');

        let mut child = self.spawn()?;
        let outcome = tokio::time::timeout(self.timeout, exchange(&mut child, &input)).await;
        match outcome {
            Ok(Ok((status, stdout, stderr))) => interpret(&self.program, status, &stdout, &stderr),
            Ok(Err(e)) => {
                kill(&mut child).await;
                Err(ProviderError::new(
                    ErrorClass::ServerError,
                    format!(
                        "command provider: talking to `{}` failed: {e}",
                        self.program
                    ),
                ))
            }
            Err(_elapsed) => {
                kill(&mut child).await;
                Err(ProviderError::new(
                    ErrorClass::Timeout,
                    format!(
                        "command provider: `{}` did not finish within {:.1} s and was killed",
                        self.program,
                        self.timeout.as_secs_f64()
                    ),
                ))
            }
        }
    }
}

/// Feeds stdin and drains stdout and stderr concurrently (a program that
/// writes before it has read all its input must not deadlock against us),
/// then waits for the exit status.
async fn exchange(
    child: &mut Child,
    input: &[u8],
) -> std::io::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let write = async move {
        if let Some(mut stdin) = stdin {
            // A program may answer without reading its input; a closed pipe
            // is then not an error of ours.
            match stdin.write_all(input).await {
                Err(e) if e.kind() != ErrorKind::BrokenPipe => return Err(e),
                _ => {}
            }
            // Dropping stdin closes it: the program sees end-of-file.
        }
        Ok(())
    };
    let read_out = read_all(stdout);
    let read_err = read_all(stderr);
    let (written, out, err) = tokio::join!(write, read_out, read_err);
    written?;
    let status = child.wait().await?;
    Ok((status, out?, err?))
}

async fn read_all(pipe: Option<impl AsyncReadExt + Unpin>) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// Kills the program's whole process group, then the program itself (which
/// also reaps it so no zombie stays behind).
async fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) has no memory-safety preconditions; a negative pid
        // addresses the process group created by `process_group(0)`.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    // Already exited or already reaped: nothing left to do.
    let _ = child.kill().await;
}

/// What the program said, by the protocol.
#[derive(Debug, Deserialize)]
struct Reply {
    text: Option<String>,
    usage: Option<ReplyUsage>,
    finish_reason: Option<String>,
    model: Option<String>,
    error: Option<ReplyError>,
}

#[derive(Debug, Deserialize)]
struct ReplyUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

#[derive(Debug, Deserialize)]
struct ReplyError {
    class: String,
    #[serde(default)]
    message: String,
    retry_after_secs: Option<f64>,
    http_status: Option<u16>,
}

/// Parses stdout into the program's answer (`Ok(Ok)`) or its reported error
/// (`Ok(Err)`); `Err` holds why stdout does not follow the protocol.
fn parse_reply(stdout: &[u8]) -> Result<Result<ChatResponse, ProviderError>, String> {
    let text = std::str::from_utf8(stdout)
        .map_err(|e| format!("stdout is not UTF-8 ({e})"))?
        .trim();
    if text.is_empty() {
        return Err("stdout is empty".into());
    }
    let reply: Reply =
        serde_json::from_str(text).map_err(|e| format!("stdout is not a reply object ({e})"))?;
    if let Some(err) = reply.error {
        let class = ErrorClass::parse(&err.class)
            .ok_or_else(|| format!("unknown error class `{}`", err.class))?;
        let message = if err.message.is_empty() {
            "(no message)".to_string()
        } else {
            err.message
        };
        return Ok(Err(ProviderError {
            class,
            message,
            http_status: err.http_status,
            retry_after_secs: err.retry_after_secs.filter(|s| s.is_finite() && *s >= 0.0),
        }));
    }
    let text = reply.text.ok_or("reply has neither `text` nor `error`")?;
    let usage = reply
        .usage
        .map(|u| Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
        })
        .unwrap_or_default();
    Ok(Ok(ChatResponse {
        text,
        usage,
        finish_reason: reply.finish_reason,
        model: reply.model,
    }))
}

fn interpret(
    program: &str,
    status: ExitStatus,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<ChatResponse, ProviderError> {
    let reply = parse_reply(stdout);
    if status.success() {
        return match reply {
            Ok(answer) => answer,
            Err(reason) => Err(ProviderError::new(
                ErrorClass::MalformedResponse,
                format!(
                    "command provider: `{program}` broke the protocol: {reason}; stdout: {}{}",
                    quote(stdout),
                    stderr_part(stderr)
                ),
            )),
        };
    }
    if let Ok(Err(reported)) = reply {
        return Err(reported);
    }
    Err(ProviderError::new(
        ErrorClass::ServerError,
        format!(
            "command provider: `{program}` failed ({}){}",
            describe_exit(status),
            stderr_part(stderr)
        ),
    ))
}

fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

fn quote(bytes: &[u8]) -> String {
    let tail = text_tail(&String::from_utf8_lossy(bytes), TAIL_CHARS);
    if tail.is_empty() {
        "(empty)".into()
    } else {
        tail
    }
}

fn stderr_part(stderr: &[u8]) -> String {
    let tail = text_tail(&String::from_utf8_lossy(stderr), TAIL_CHARS);
    if tail.is_empty() {
        "; stderr is empty".into()
    } else {
        format!("; stderr: {tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers_and_errors() {
        let r = parse_reply(br#" {"text":"4","usage":{"input_tokens":5,"output_tokens":1},"finish_reason":"stop"} "#)
            .unwrap()
            .unwrap();
        assert_eq!(r.text, "4");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 5,
                output_tokens: 1
            }
        );
        let r = parse_reply(br#"{"text":""}"#).unwrap().unwrap();
        assert_eq!(r.usage, Usage::default());

        let e = parse_reply(
            br#"{"error":{"class":"rate_limited","message":"slow down","retry_after_secs":2}}"#,
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.message, "slow down");
        assert_eq!(e.retry_after_secs, Some(2.0));
    }

    #[test]
    fn protocol_violations_are_reported() {
        for bad in [
            &b""[..],
            b"hello",
            b"[1,2]",
            br#"{"answer":"x"}"#,
            br#"{"error":{"class":"oops"}}"#,
        ] {
            assert!(
                parse_reply(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
