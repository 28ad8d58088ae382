//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for provider tests.
//!
//! Each accepted request gets the next scripted [`Reply`] (the last one
//! repeats), is recorded for inspection, and its connection is closed after
//! the reply. The server task is aborted when the [`Server`] is dropped.

#![allow(dead_code)] // each test file uses a different part of it

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use yardstick_core::{ChatRequest, Message, ModelSpec, ProviderKind};

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Waits, then sends a complete response (used to provoke client timeouts).
    Slow {
        delay: Duration,
        status: u16,
        body: String,
    },
    /// Announces `declared_len` bytes of body, sends only `body`, then closes.
    Truncated { declared_len: usize, body: String },
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Full {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn raw(status: u16, body: &str) -> Reply {
        Reply::Full {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Full {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_string(), value.to_string()));
                Reply::Full {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

pub struct Server {
    pub addr: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(replies: Vec<Reply>) -> Server {
        assert!(!replies.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let rec = Arc::clone(&recorded);
        let replies = Arc::new(replies);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (rec, replies) = (Arc::clone(&rec), Arc::clone(&replies));
                tokio::spawn(async move {
                    let _ = serve(stream, rec, replies).await;
                });
            }
        });
        Server {
            addr,
            recorded,
            task,
        }
    }

    /// Base URL in the OpenAI style (`…/v1`).
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Base URL in the Anthropic style (API root, no `/v1`).
    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    rec: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Vec<Reply>>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let reply = {
        let mut rec = rec.lock().unwrap();
        rec.push(request);
        replies[(rec.len() - 1).min(replies.len() - 1)].clone()
    };
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => write_response(&mut stream, status, &headers, &body, None).await?,
        Reply::Slow {
            delay,
            status,
            body,
        } => {
            tokio::time::sleep(delay).await;
            write_response(&mut stream, status, &[], &body, None).await?
        }
        Reply::Truncated { declared_len, body } => {
            write_response(&mut stream, 200, &[], &body, Some(declared_len)).await?
        }
    }
    stream.shutdown().await
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Recorded>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Recorded {
        method,
        path,
        headers,
        body,
    }))
}

async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &str,
    declared_len: Option<usize>,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        declared_len.unwrap_or(body.len())
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    stream.write_all(out.as_bytes()).await?;
    stream.flush().await
}

/// An OpenAI-style success body.
pub fn openai_ok(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "served-model-2024",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
    })
}

pub fn request() -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        messages: vec![Message::system("Be brief."), Message::user("What is 2+2?")],
        temperature: Some(0.0),
        top_p: None,
        max_tokens: Some(16),
        seed: Some(42),
        stop: vec![],
    }
}

pub fn spec(provider: ProviderKind, base_url: Option<String>) -> ModelSpec {
    ModelSpec {
        name: "test-board-name".into(),
        provider,
        model: "test-model".into(),
        base_url,
        api_key_env: None,
        command: vec![],
        family: None,
        temperature: None,
        top_p: None,
        max_tokens: None,
        seed: None,
        price_input_per_mtok: 0.0,
        price_output_per_mtok: 0.0,
        concurrency: 4,
        timeout_secs: 5.0,
        max_retries: 3,
    }
}
