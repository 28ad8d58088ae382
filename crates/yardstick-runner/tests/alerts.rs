//! Webhook alerts against a real loopback HTTP server: delivered at once,
//! delivered after a 500, and failed for good (always 500; a 404 is not
//! retried). Every delivery is stored with how it ended.

use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use yardstick_runner::alerts::{redact_webhook, Alerter, AlertsConfig};
use yardstick_store::{AlertStatus, NewRun, NewVerdict, Store, VerdictRow};

/// A webhook on 127.0.0.1 answering the scripted statuses in order (the last
/// one repeats) and keeping every request's path and JSON body. The task
/// ends with the test's runtime.
struct Hook {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn hook(statuses: &[u16]) -> Hook {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(Mutex::new(statuses.iter().copied().collect::<VecDeque<_>>()));
    let received = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&received);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (script, seen) = (Arc::clone(&script), Arc::clone(&seen));
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut request_line = String::new();
                    if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        read.read_line(&mut line).await.unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    read.read_exact(&mut body).await.unwrap();
                    let path = request_line.split_whitespace().nth(1).unwrap().to_string();
                    seen.lock()
                        .unwrap()
                        .push((path, serde_json::from_slice(&body).unwrap()));
                    let status = {
                        let mut s = script.lock().unwrap();
                        if s.len() > 1 {
                            s.pop_front().unwrap()
                        } else {
                            s[0]
                        }
                    };
                    let text = format!("status {status}");
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    write.write_all(reply.as_bytes()).await.unwrap();
                }
            });
        }
    });
    Hook { addr, received }
}

impl Hook {
    fn url(&self) -> String {
        format!("http://{}/services/T000/SECRET", self.addr)
    }
    fn received(&self) -> Vec<(String, Value)> {
        self.received.lock().unwrap().clone()
    }
}

async fn store_with_verdict(dir: &tempfile::TempDir) -> (Store, VerdictRow) {
    let store = Store::open(&dir.path().join("y.db").display().to_string())
        .await
        .unwrap();
    let run = store
        .create_run(&NewRun {
            kind: "daily".into(),
            seed: 1,
            label: "2026-11-26".into(),
            epochs: 1,
            models: vec!["alpha".into()],
            config_json: "{}".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    let (verdict, _) = store
        .insert_verdict(&NewVerdict {
            run_id: run,
            model: "alpha".into(),
            series: "main".into(),
            verdict: "likely_degradation".into(),
            numbers_json: r#"{"z":-3.1}"#.into(),
            explanation: "alpha's main score fell 20 points below its baseline.".into(),
            detector_state_json: "{}".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    (store, verdict)
}

fn config(webhooks: Vec<String>) -> AlertsConfig {
    AlertsConfig {
        webhooks,
        max_tries: 3,
        retry_base_secs: 0.01,
        retry_max_secs: 0.05,
        timeout_secs: 5.0,
    }
}

#[tokio::test]
async fn a_verdict_change_reaches_every_webhook_with_retries() {
    let dir = tempfile::tempdir().unwrap();
    let (store, verdict) = store_with_verdict(&dir).await;
    let ok = hook(&[200]).await;
    let flaky = hook(&[500, 200]).await;
    let alerter = Alerter::new(&config(vec![ok.url(), flaky.url()])).unwrap();
    let alerts = alerter
        .notify(&store, &verdict, Some("watch"))
        .await
        .unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        (alerts[0].status, alerts[0].tries, alerts[0].last_error.as_deref()),
        (AlertStatus::Sent, 1, None)
    );
    assert_eq!(alerts[1].status, AlertStatus::Sent);
    assert_eq!(alerts[1].tries, 2);
    assert!(
        alerts[1].last_error.as_deref().unwrap().starts_with("HTTP 500"),
        "{:?}",
        alerts[1].last_error
    );
    // The secret path is not stored.
    assert_eq!(alerts[0].webhook, format!("http://{}", ok.addr));
    assert!(!alerts[0].payload_json.contains("SECRET"));

    let got = ok.received();
    assert_eq!(got.len(), 1);
    let (path, body) = &got[0];
    assert_eq!(path, "/services/T000/SECRET");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("alpha on main is now likely_degradation (was watch)"), "{text}");
    let fields = body["attachments"][0]["fields"].as_array().unwrap();
    assert!(fields
        .iter()
        .any(|f| f["title"] == "Verdict" && f["value"] == "likely_degradation"));
    assert_eq!(body["yardstick"]["numbers"]["z"], -3.1);
    assert_eq!(body["yardstick"]["previous_verdict"], "watch");
    assert_eq!(flaky.received().len(), 2, "one 500, then the delivery");
    assert_eq!(store.list_alerts(Some(AlertStatus::Sent), 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn permanent_failures_are_recorded_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, verdict) = store_with_verdict(&dir).await;
    let down = hook(&[500]).await;
    let gone = hook(&[404]).await;
    // A port nothing listens on: bind one, then free it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let alerter = Alerter::new(&config(vec![
        down.url(),
        gone.url(),
        format!("http://{closed}/hook"),
    ]))
    .unwrap();
    let started = std::time::Instant::now();
    let alerts = alerter.notify(&store, &verdict, None).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(alerts.iter().all(|a| a.status == AlertStatus::Failed));
    assert_eq!(alerts[0].tries, 3, "5xx is retried up to max_tries");
    assert_eq!(down.received().len(), 3);
    assert_eq!(alerts[0].last_error.as_deref(), Some("HTTP 500: status 500"));
    assert_eq!(alerts[1].tries, 1, "404 is final");
    assert_eq!(gone.received().len(), 1);
    assert_eq!(alerts[2].tries, 3, "no connection is retried");
    assert!(
        alerts[2].last_error.as_deref().unwrap().starts_with("could not connect"),
        "{:?}",
        alerts[2].last_error
    );
    let failed = store.list_alerts(Some(AlertStatus::Failed), 10).await.unwrap();
    assert_eq!(failed.len(), 3);
}

#[test]
fn settings_and_redaction_are_checked() {
    let bad = |c: AlertsConfig| c.validate().unwrap_err();
    assert!(bad(config(vec!["hooks.example/x".into()])).contains("alerts.webhooks[0] is not a URL"));
    assert!(bad(config(vec!["ftp://h/x".into()])).contains("must be http:// or https://"));
    assert!(bad(AlertsConfig {
        max_tries: 0,
        ..AlertsConfig::default()
    })
    .contains("max_tries"));
    assert!(bad(AlertsConfig {
        timeout_secs: f64::NAN,
        ..AlertsConfig::default()
    })
    .contains("alerts.timeout_secs"));
    assert_eq!(redact_webhook("https://h.test:8443/a/b?token=x"), "https://h.test:8443");
    assert_eq!(redact_webhook("https://h.test/a/b"), "https://h.test");
}
