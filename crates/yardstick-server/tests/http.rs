//! Every page and API route against a real server on a loopback port.

mod common;

use common::{start, PAYLOAD, TOKEN};
use reqwest::StatusCode;
use yardstick_server::Job;

async fn get(base: &str, path: &str) -> (StatusCode, String, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = r.status();
    let mime = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, mime, r.text().await.unwrap())
}

async fn json(base: &str, path: &str) -> serde_json::Value {
    let (status, mime, body) = get(base, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert!(mime.starts_with("application/json"), "{path}: {mime}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_calibration_adds_difficulty_adjusted_scores_to_the_board() {
    let s = start(None).await;
    let board = json(&s.base, "/api/board").await;
    assert_eq!(board["window"], 7);
    assert!(board.get("adjusted").is_none(), "no calibration yet");
    let (_, _, html) = get(&s.base, "/").await;
    assert!(html.contains("over the last 7 runs") && !html.contains("id=\"adjusted\""));

    yardstick_runner::calibrate::calibrate_history(
        &s.store,
        "smoke",
        365,
        &yardstick_stats::irt::CalibrationConfig::default(),
    )
    .await
    .unwrap();
    // The calibration is new data: the cached board is recomputed.
    let board = json(&s.base, "/api/board").await;
    let adjusted = board["adjusted"].as_array().expect("adjusted scores");
    assert!(!adjusted.is_empty());
    for a in adjusted {
        assert_eq!(a["calibration"], 1);
        let (low, score, high) = (
            a["low"].as_f64().unwrap(),
            a["score"].as_f64().unwrap(),
            a["high"].as_f64().unwrap(),
        );
        assert!(low <= score && score <= high, "{a}");
    }
    let (_, _, html) = get(&s.base, "/").await;
    assert!(html.contains("id=\"adjusted\"") && html.contains("Calibration #1"));
    // The rolling view averages runs and has no adjusted scores.
    let rolling = json(&s.base, "/api/board?view=rolling5").await;
    assert!(rolling.get("adjusted").is_none());
}

#[tokio::test]
async fn leaderboard_views_and_sorting() {
    let s = start(None).await;
    let board = json(&s.base, "/api/board").await;
    assert_eq!(board["view"], "smoke");
    assert_eq!(board["run"]["id"], 8, "the newest smoke run");
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let mains: Vec<f64> = rows.iter().map(|r| r["main"].as_f64().unwrap()).collect();
    assert!(mains.windows(2).all(|w| w[0] >= w[1]), "{mains:?}");
    // Eight runs stored: stability is defined, the interval brackets the raw main score.
    for r in rows {
        assert!(r["stability"].as_f64().is_some(), "{r}");
        let (lo, hi) = (
            r["main_interval"]["low"].as_f64().unwrap(),
            r["main_interval"]["high"].as_f64().unwrap(),
        );
        let raw = r["main_raw"].as_f64().unwrap();
        assert!(lo < raw && raw < hi, "{lo} {raw} {hi}");
        assert!(r["availability"].as_f64().unwrap() <= 1.0);
    }
    let by_model = json(&s.base, "/api/board?sort=model&order=asc").await;
    let names: Vec<&str> = by_model["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["model-01", "model-02", "model-03", "model-04"]);
    let rolling = json(&s.base, "/api/board?view=rolling5").await;
    assert_eq!(rolling["view"], "rolling5");
    assert!(rolling["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["runs"] == 5));
    // No weekly runs: an empty board, not an error.
    let weekly = json(&s.base, "/api/board?view=weekly").await;
    assert!(weekly["run"].is_null());
    assert_eq!(weekly["rows"].as_array().unwrap().len(), 0);

    let (status, mime, html) = get(&s.base, "/?sort=stability&order=asc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mime.starts_with("text/html"));
    assert!(html.contains("<svg") && html.contains("id=\"board\""));
    // Sorting works without JavaScript: header links carry the query.
    assert!(
        html.contains("href=\"/?view=smoke&amp;sort=main&amp;order=desc\""),
        "{html}"
    );
    assert!(html.contains("href=\"/models/model-03\""));

    let (status, _, body) = get(&s.base, "/api/board?sort=colour").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("sort=colour") && body.contains("stability"),
        "{body}"
    );
    let (status, _, body) = get(&s.base, "/?view=monthly").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("view=monthly"), "{body}");
}

#[tokio::test]
async fn model_run_item_and_attempt_pages() {
    let s = start(None).await;
    let model = json(&s.base, "/api/models/model-03").await;
    assert_eq!(model["history"].as_array().unwrap().len(), 8);
    assert_eq!(model["latest_run"], 8);
    assert!(model["latest"]["dimensions"].as_array().unwrap().len() == 5);
    let (status, _, html) = get(&s.base, "/models/model-03").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<polygon"), "interval band drawn");
    let (status, _, body) = get(&s.base, "/api/models/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no model `nobody`"), "{body}");

    let run = json(&s.base, "/api/runs/8").await;
    let items = run["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(items
        .iter()
        .all(|i| i["attempts"].as_array().unwrap().len() == 4));
    let graded = items
        .iter()
        .flat_map(|i| i["attempts"].as_array().unwrap())
        .find(|a| a["score"].is_number())
        .unwrap();
    assert!(graded["checks"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("synthetic score"));
    let (status, _, html) = get(&s.base, "/runs/8").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Synthetic material constraint question 1."),
        "{html}"
    );
    let (status, _, _) = get(&s.base, "/runs/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = get(&s.base, "/api/runs/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("`abc` is not a number"), "{body}");

    let runs = json(&s.base, "/api/runs").await;
    assert_eq!(runs.as_array().unwrap().len(), 8);
    assert_eq!(get(&s.base, "/runs").await.0, StatusCode::OK);

    let item = json(&s.base, "/api/items/synth-grounding-001").await;
    assert_eq!(
        item["attempts"].as_array().unwrap().len(),
        4 * 8,
        "every model, every run"
    );
    assert_eq!(
        get(&s.base, "/items/synth-grounding-001").await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&s.base, "/api/items/nothing").await.0,
        StatusCode::NOT_FOUND
    );

    let id = graded["id"].as_i64().unwrap();
    let attempt = json(&s.base, &format!("/api/attempts/{id}")).await;
    assert_eq!(attempt["grades"].as_array().unwrap().len(), 1);
    assert!(attempt["request"]["messages"].is_array());
    assert_eq!(
        get(&s.base, &format!("/attempts/{id}")).await.0,
        StatusCode::OK
    );

    let verdicts = json(&s.base, "/api/verdicts").await;
    assert!(verdicts.as_array().unwrap().is_empty());
    let (status, _, body) = get(&s.base, "/api/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.starts_with('{'), "API 404s are JSON: {body}");
}

#[tokio::test]
async fn verdicts_show_on_the_model_page() {
    let s = start(None).await;
    s.store
        .insert_verdict(&yardstick_store::NewVerdict {
            run_id: 8,
            model: "model-03".into(),
            series: "main".into(),
            verdict: "likely_degradation".into(),
            numbers_json: r#"{"z":-3.1}"#.into(),
            explanation: "main fell 25 points <b>below</b> baseline".into(),
            detector_state_json: "{}".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    // The store changed: the cached model page is rebuilt.
    let model = json(&s.base, "/api/models/model-03").await;
    assert_eq!(model["verdicts"][0]["verdict"], "likely_degradation");
    let (_, _, html) = get(&s.base, "/models/model-03").await;
    assert!(
        html.contains("<title>#8 2026-01-08: likely_degradation</title>"),
        "marker on the chart"
    );
    assert!(
        html.contains("main fell 25 points &lt;b&gt;below"),
        "{html}"
    );
    assert!(!html.contains("<b>below"));
    assert_eq!(
        json(&s.base, "/api/verdicts?run=8")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn model_output_is_escaped_everywhere() {
    let s = start(None).await;
    let attempt = s
        .store
        .attempts_for_run(8)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.response_text.as_deref() == Some(PAYLOAD))
        .unwrap();
    for path in [
        "/runs/8".to_string(),
        format!("/items/{}", attempt.item_id),
        format!("/attempts/{}", attempt.id),
    ] {
        let (status, _, html) = get(&s.base, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!html.contains("<script>"), "{path} has a live <script>");
        assert!(!html.contains("<img src=x"), "{path} has a live <img>");
        assert!(
            html.contains("&lt;script&gt;document.title="),
            "{path} shows the text"
        );
    }
    // The API returns the response unchanged.
    let json = json(&s.base, &format!("/api/attempts/{}", attempt.id)).await;
    assert_eq!(json["attempt"]["response"], PAYLOAD);
}

#[tokio::test]
async fn articles_are_written_from_the_database() {
    let s = start(None).await;
    let index = json(&s.base, "/api/articles").await;
    let ids: Vec<i64> = index
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [8, 7, 6, 5, 4, 3, 2, 1], "newest first");
    assert_eq!(index[0]["articles"], "/runs/8/articles");
    let (status, _, html) = get(&s.base, "/articles").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/runs/8/articles\""), "{html}");
    let (_, _, run_page) = get(&s.base, "/runs/8").await;
    assert!(run_page.contains("href=\"/runs/8/articles\""));
    assert!(run_page.contains("href=\"/articles\""), "in the nav bar");

    let list = json(&s.base, "/api/runs/8/articles").await;
    assert_eq!(list["run"]["id"], 8);
    let articles = list["articles"].as_array().unwrap();
    assert!(articles.len() > 1, "run 8 has anomaly articles: {list}");
    let roundup = &articles[0];
    assert_eq!(roundup["kind"], "roundup");
    assert_eq!(roundup["file"], "run-8-roundup.html");
    assert_eq!(roundup["markdown"], "run-8-roundup.md");
    // The roundup's leader and score are the board's.
    let board = json(&s.base, "/api/board").await;
    let leader = &board["rows"][0];
    assert_eq!(
        roundup["headline"],
        format!(
            "Run #8: {} leads with {:.1}",
            leader["model"].as_str().unwrap(),
            leader["main"].as_f64().unwrap()
        )
    );
    let (status, _, list_html) = get(&s.base, "/runs/8/articles").await;
    assert_eq!(status, StatusCode::OK);
    for a in articles {
        let file = a["file"].as_str().unwrap();
        assert!(
            list_html.contains(&format!("href=\"/runs/8/articles/{file}\"")),
            "{list_html}"
        );
        let (status, mime, page) = get(&s.base, &format!("/runs/8/articles/{file}")).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(mime.starts_with("text/html"));
        let headline = a["headline"].as_str().unwrap();
        assert!(
            page.contains(&format!("<h1>{headline}</h1>")),
            "{file}: {page}"
        );
        assert!(page.contains("<svg") && page.contains("Run #8 — raw data"));
        assert!(!page.contains("<script"), "{file}");
        let api = json(&s.base, &format!("/api/runs/8/articles/{file}")).await;
        assert_eq!(api["headline"], a["headline"]);
        assert_eq!(api["format"], "html");
        assert_eq!(api["body"], page);
    }
    let (status, mime, md) = get(&s.base, "/runs/8/articles/run-8-roundup.md").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mime.starts_with("text/markdown"), "{mime}");
    assert!(
        md.starts_with(&format!("# {}", roundup["headline"].as_str().unwrap())),
        "{md}"
    );

    let (status, _, body) = get(&s.base, "/api/runs/8/articles/run-8-nobody.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("/runs/8/articles lists them"), "{body}");
    let (status, _, _) = get(&s.base, "/runs/8/articles/run-8-roundup.pdf").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = get(&s.base, "/api/runs/99/articles").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Run #99 does not exist"), "{body}");
}

#[tokio::test]
async fn exports_csv_and_jsonl() {
    let s = start(None).await;
    let (status, mime, csv) = get(&s.base, "/api/runs/8/export?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mime.starts_with("text/csv"));
    assert!(csv.starts_with("run,attempt,model,item_id,item_version,dimension,"));
    // Header + one line per attempt (no field here holds a line break).
    assert_eq!(csv.lines().count(), 1 + 40);
    let (status, mime, jsonl) = get(&s.base, "/api/runs/8/export?format=jsonl").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mime, "application/x-ndjson");
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().any(|r| r["response"] == PAYLOAD));
    let (status, _, body) = get(&s.base, "/api/runs/8/export?format=xlsx").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("expected csv or jsonl"));
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let s = start(None).await;
    get(&s.base, "/").await;
    let (status, mime, text) = get(&s.base, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mime.starts_with("text/plain; version=0.0.4"));
    assert!(text.contains("yardstick_runs 8\n"), "{text}");
    assert!(text.contains("yardstick_attempts 320\n"), "{text}");
    assert!(
        text.contains("yardstick_main_score{model=\"model-03\",run=\"8\"}"),
        "{text}"
    );
    assert!(
        text.contains("yardstick_http_requests_total{route=\"/\",status=\"200\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn actions_need_the_token() {
    let s = start(Some(TOKEN)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/actions/run", s.base);
    let body = serde_json::json!({ "kind": "smoke", "date": "2026-02-01" });
    let r = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("Authorization: Bearer"));
    let r = client
        .post(&url)
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(s.recorder.jobs.lock().unwrap().is_empty());
    // Reads stay open and GET is not an action.
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );

    let r = client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    s.recorder.notify.notified().await;
    assert_eq!(
        s.recorder.jobs.lock().unwrap().as_slice(),
        [Job::Run {
            kind: "smoke".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
        }]
    );
    let r = client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "kind": "smoke", "date": "1 Feb" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("YYYY-MM-DD"));

    let r = client
        .post(format!("{}/api/actions/retest/5", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_token_actions_are_disabled() {
    let s = start(None).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/actions/run", s.base))
        .bearer_auth("anything")
        .json(&serde_json::json!({ "kind": "smoke" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("[serve]"));
    assert!(s.recorder.jobs.lock().unwrap().is_empty());
}
