//! `yardstick-bench-stub`: an OpenAI-compatible chat completions server that
//! answers every request after a fixed delay, for the throughput benchmark
//! (`bench/run.sh`). It is not part of yardstick and never runs in CI.
//!
//! - `POST /v1/chat/completions` (and `/chat/completions`): sleeps `--delay-ms`
//!   with `tokio::time::sleep`, then answers a chat completion whose content is
//!   deterministic from the request: if the last user message contains
//!   `What is A+B?` (integers) the answer is `The answer is <A+B>.`, otherwise `42`.
//!   `usage` is filled (whitespace-separated words of the messages as prompt tokens).
//! - `GET /v1/models` (and `/models`): one model, `stub`.
//! - `GET /stats`: requests served, maximum observed in flight, and the rate
//!   over the window from the first request to the last reply, as JSON.
//!   `POST /stats/reset` zeroes them.
//!
//! It prints `port=<N>` on stdout once listening (with `--port 0` the OS picks
//! it) and exits by itself after `--idle-exit-secs` without a request in
//! flight or `--max-lifetime-secs` in all, printing its counters on stderr.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Options {
    port: u16,
    delay: Duration,
    idle_exit: Duration,
    max_lifetime: Duration,
    threads: usize,
}

const USAGE: &str = "usage: yardstick-bench-stub [--port N (0 = any free port)] [--delay-ms 50] \
[--idle-exit-secs 60] [--max-lifetime-secs 3600] [--threads N (default: all cores)]";

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        port: 0,
        delay: Duration::from_millis(50),
        idle_exit: Duration::from_secs(60),
        max_lifetime: Duration::from_secs(3600),
        threads: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a non-negative integer"))
        };
        match flag.as_str() {
            "--port" => {
                o.port =
                    u16::try_from(num(&value)?).map_err(|_| "--port: out of range".to_string())?
            }
            "--delay-ms" => o.delay = Duration::from_millis(num(&value)?),
            "--idle-exit-secs" => o.idle_exit = Duration::from_secs(num(&value)?.max(1)),
            "--max-lifetime-secs" => o.max_lifetime = Duration::from_secs(num(&value)?.max(1)),
            "--threads" => o.threads = num(&value)? as usize,
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(o)
}

#[derive(Default)]
struct Stats {
    served: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    /// Milliseconds since start of the last request start or end.
    last_activity_ms: AtomicU64,
    /// Microseconds since start of the first chat request received since the
    /// last reset (u64::MAX = none yet) and of the last chat reply sent.
    first_request_us: AtomicU64,
    last_reply_us: AtomicU64,
}

struct State {
    delay: Duration,
    started: Instant,
    /// `started` as microseconds since the Unix epoch.
    started_unix_us: u64,
    next_id: AtomicU64,
    stats: Stats,
}

impl State {
    fn touch(&self) {
        self.stats
            .last_activity_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

fn main() {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if options.threads > 0 {
        builder.worker_threads(options.threads);
    }
    let runtime = builder.enable_all().build().expect("tokio runtime");
    runtime.block_on(serve(options));
}

async fn serve(options: Options) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).ok();
    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    if let Err(e) = socket.bind(addr) {
        eprintln!("error: cannot bind {addr}: {e}");
        std::process::exit(1);
    }
    let listener = socket.listen(8192).expect("listen");
    let port = listener.local_addr().expect("local addr").port();
    println!("port={port}");
    std::io::stdout().flush().ok();
    eprintln!(
        "yardstick-bench-stub: 127.0.0.1:{port}, delay {} ms, exits after {} s idle or {} s in all",
        options.delay.as_millis(),
        options.idle_exit.as_secs(),
        options.max_lifetime.as_secs()
    );

    let state = Arc::new(State {
        delay: options.delay,
        started: Instant::now(),
        started_unix_us: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0),
        next_id: AtomicU64::new(1),
        stats: Stats {
            first_request_us: AtomicU64::new(u64::MAX),
            ..Stats::default()
        },
    });

    // Watchdog: servers started by a script must stop by themselves.
    {
        let state = Arc::clone(&state);
        let (idle, lifetime) = (options.idle_exit, options.max_lifetime);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = state.started.elapsed();
                let last =
                    Duration::from_millis(state.stats.last_activity_ms.load(Ordering::Relaxed));
                let busy = state.stats.in_flight.load(Ordering::Relaxed) > 0;
                let reason = if now >= lifetime {
                    Some("maximum lifetime reached")
                } else if !busy && now.saturating_sub(last) >= idle {
                    Some("idle timeout")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    eprintln!(
                        "yardstick-bench-stub: exiting ({reason}); served {} requests, at most {} in flight",
                        state.stats.served.load(Ordering::Relaxed),
                        state.stats.max_in_flight.load(Ordering::Relaxed)
                    );
                    std::process::exit(0);
                }
            }
        });
    }

    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off briefly rather than spin.
                eprintln!("yardstick-bench-stub: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        stream.set_nodelay(true).ok();
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&state), req));
            // Keep-alive is on by default in hyper's HTTP/1 server.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

fn json_reply(status: StatusCode, body: &Value) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            serde_json::to_vec(body).expect("json"),
        )))
        .expect("response")
}

fn error_reply(status: StatusCode, message: &str) -> Reply {
    json_reply(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, hyper::Error> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let method = req.method().clone();
    Ok(match (method, path.as_str()) {
        (Method::POST, "/v1/chat/completions" | "/chat/completions") => {
            let stats = &state.stats;
            let now = stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            stats.max_in_flight.fetch_max(now, Ordering::Relaxed);
            stats.first_request_us.fetch_min(
                state.started.elapsed().as_micros() as u64,
                Ordering::Relaxed,
            );
            state.touch();
            let reply = chat(&state, req).await;
            stats.in_flight.fetch_sub(1, Ordering::Relaxed);
            stats.served.fetch_add(1, Ordering::Relaxed);
            stats.last_reply_us.fetch_max(
                state.started.elapsed().as_micros() as u64,
                Ordering::Relaxed,
            );
            state.touch();
            reply?
        }
        (Method::GET, "/v1/models" | "/models") => {
            state.touch();
            json_reply(
                StatusCode::OK,
                &json!({"object": "list", "data": [{"id": "stub", "object": "model", "created": 0, "owned_by": "yardstick-bench"}]}),
            )
        }
        (Method::GET, "/stats") => {
            let s = &state.stats;
            let served = s.served.load(Ordering::Relaxed);
            let first = s.first_request_us.load(Ordering::Relaxed);
            let last = s.last_reply_us.load(Ordering::Relaxed);
            // The window from the first request received to the last reply sent.
            let window = if first == u64::MAX || last <= first {
                0.0
            } else {
                (last - first) as f64 / 1e6
            };
            json_reply(
                StatusCode::OK,
                &json!({
                    "served": served,
                    "in_flight": s.in_flight.load(Ordering::Relaxed),
                    "max_in_flight": s.max_in_flight.load(Ordering::Relaxed),
                    "window_secs": window,
                    // Wall-clock instants (Unix epoch, seconds) so a caller can
                    // split its own run into start-up, asking and wind-down.
                    "first_request_unix": (first != u64::MAX).then(|| (state.started_unix_us + first) as f64 / 1e6),
                    "last_reply_unix": (last > 0).then(|| (state.started_unix_us + last) as f64 / 1e6),
                    "requests_per_sec_in_window": if window > 0.0 { served as f64 / window } else { 0.0 },
                }),
            )
        }
        (Method::POST, "/stats/reset") => {
            state.stats.served.store(0, Ordering::Relaxed);
            state.stats.max_in_flight.store(0, Ordering::Relaxed);
            state
                .stats
                .first_request_us
                .store(u64::MAX, Ordering::Relaxed);
            state.stats.last_reply_us.store(0, Ordering::Relaxed);
            state.touch();
            json_reply(StatusCode::OK, &json!({"reset": true}))
        }
        _ => error_reply(StatusCode::NOT_FOUND, "no such route"),
    })
}

async fn chat(state: &State, req: Request<Incoming>) -> Result<Reply, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    // The delay starts once the request is read, like a server that starts
    // generating when it has the prompt.
    tokio::time::sleep(state.delay).await;
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Ok(error_reply(
                StatusCode::BAD_REQUEST,
                &format!("body is not JSON: {e}"),
            ))
        }
    };
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return Ok(error_reply(
            StatusCode::BAD_REQUEST,
            "`messages` must be an array",
        ));
    };
    let mut prompt_tokens = 0u64;
    let mut last_user = "";
    for m in messages {
        let content = m.get("content").and_then(Value::as_str).unwrap_or_default();
        prompt_tokens += content.split_whitespace().count() as u64;
        if m.get("role").and_then(Value::as_str) == Some("user") {
            last_user = content;
        }
    }
    let answer = match sum_question(last_user) {
        Some(sum) => format!("The answer is {sum}."),
        None => "42".to_string(),
    };
    let completion_tokens = answer.split_whitespace().count() as u64;
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("stub");
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(json_reply(
        StatusCode::OK,
        &json!({
            "id": format!("chatcmpl-stub-{id}"),
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": "yardstick-bench-stub",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer, "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens
            }
        }),
    ))
}

/// `A+B` from the last "What is A+B?" in the text, with A and B integers.
fn sum_question(text: &str) -> Option<i128> {
    let start = text.rfind("What is ")? + "What is ".len();
    let rest = &text[start..];
    let expr = &rest[..rest.find('?')?];
    let (a, b) = expr.split_once('+')?;
    Some(a.trim().parse::<i128>().ok()? + b.trim().parse::<i128>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::sum_question;

    #[test]
    fn sums_the_last_question() {
        assert_eq!(
            sum_question("Item 7. What is 12+30? Answer with only the number."),
            Some(42)
        );
        assert_eq!(sum_question("What is 1+1? no, What is -5 + 3?"), Some(-2));
        assert_eq!(sum_question("Hello"), None);
        assert_eq!(sum_question("What is a+b?"), None);
    }
}
