//! Reports on generated runs: every number cross-checked with SQL written
//! independently of the store's queries, on SQLite and PostgreSQL; anomaly
//! selection; template overrides; the narrator against a loopback stub.

mod common;

use common::{chat_stub, prose_in, small_spec, TestDb};
use serde_json::{json, Value};
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;
use yardstick_core::scoring::{main_score, publish_main};
use yardstick_core::ModelSpec;
use yardstick_report::{
    load_report_data, plan_articles, render_article, ArticleKind, Format, Narrator, ReportConfig,
    ReportData, Templates,
};

/// model → dimension id → mean score of the run's graded attempts, by plain SQL.
async fn dimension_means(url: &str, run: i64) -> BTreeMap<String, BTreeMap<String, f64>> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT a.model AS model, i.dimension AS dimension, AVG(g.score) AS mean \
         FROM attempts a JOIN items i ON i.item_id = a.item_id AND i.version = a.item_version \
         JOIN grades g ON g.attempt_id = a.id WHERE a.run_id = $1 GROUP BY a.model, i.dimension",
    )
    .bind(run)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for row in rows {
        out.entry(row.get::<String, _>("model"))
            .or_default()
            .insert(row.get("dimension"), row.get::<f64, _>("mean"));
    }
    pool.close().await;
    out
}

fn published_main(dims: &BTreeMap<String, f64>) -> f64 {
    publish_main(
        main_score(dims["code_execution"], dims["grounding"]),
        dims.get("integrity").copied(),
    )
    .published
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

async fn cross_check(db: &TestDb) {
    let synth = db.fill(&small_spec()).await;
    let run = *synth.run_ids.last().unwrap();
    let previous = synth.run_ids[synth.run_ids.len() - 2];
    let config = ReportConfig::default();
    let data = load_report_data(&db.store, run, &config, 7).await.unwrap();
    let now = dimension_means(&db.url, run).await;
    let then = dimension_means(&db.url, previous).await;

    assert_eq!(data.run.id, run);
    assert_eq!(data.run.items, 10);
    assert_eq!(data.run.date, "2025-12-03");
    assert_eq!(data.models.len(), 5);
    for m in &data.models {
        let sql = &now[&m.model];
        let main = published_main(sql);
        assert!(
            close(m.main.unwrap(), main),
            "{}: {:?} vs {main}",
            m.model,
            m.main
        );
        let delta = main - published_main(&then[&m.model]);
        assert!(close(m.delta_main.unwrap(), delta), "{}", m.model);
        assert_eq!(m.previous_run, Some(previous));
        for d in &m.dimensions {
            assert!(
                close(d.score, sql[d.dimension.id()]),
                "{} {}",
                m.model,
                d.dimension
            );
            let before = then[&m.model][d.dimension.id()];
            assert!(close(d.previous.unwrap(), before));
        }
        assert_eq!(m.history.len(), 8);
        assert!(close(m.history.last().unwrap().main.unwrap(), main));
        assert!(close(
            m.history[6].main.unwrap(),
            published_main(&then[&m.model])
        ));
    }
    // The field's move: each model's main score against the mean of its
    // earlier runs, averaged over the models (γ̂), and each model relative to it.
    let mut mains: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &synth.run_ids {
        for (model, dims) in dimension_means(&db.url, *r).await {
            mains.entry(model).or_default().push(published_main(&dims));
        }
    }
    let absolute: BTreeMap<&str, f64> = mains
        .iter()
        .map(|(m, v)| {
            let (today, before) = v.split_last().unwrap();
            (
                m.as_str(),
                today - before.iter().sum::<f64>() / before.len() as f64,
            )
        })
        .collect();
    let field = absolute.values().sum::<f64>() / absolute.len() as f64;
    assert_eq!(
        data.day_effects.len(),
        7,
        "every run but the first has a baseline"
    );
    let last = data.day_effects.last().unwrap();
    assert_eq!((last.run_id, last.models), (run, 5));
    assert!(
        (last.field_move - field).abs() < 1e-9,
        "{} vs {field}",
        last.field_move
    );
    // This run's moves are the board's (raw main score, baseline within W).
    let board_field = data.field_move.clone().unwrap();
    for m in &data.models {
        let moved = m.field_relative.unwrap();
        assert!((moved.relative - (moved.absolute - board_field.field_move)).abs() < 1e-9);
        let interval = m.main_interval.unwrap();
        assert!(interval.low <= m.main.unwrap() && m.main.unwrap() <= interval.high);
    }

    // Ranked by published main score.
    let mains: Vec<f64> = data.models.iter().map(|m| m.main.unwrap()).collect();
    assert!(mains.windows(2).all(|w| w[0] >= w[1]), "{mains:?}");

    // The articles: one roundup and one per model that moved more than 5 points.
    let templates = Templates::load(None).unwrap();
    let plans = plan_articles(&data, &config, None).unwrap();
    let expected: Vec<&str> = data
        .models
        .iter()
        .filter(|m| m.delta_main.unwrap().abs() > 5.0)
        .map(|m| m.model.as_str())
        .collect();
    assert!(expected.contains(&"model-01"), "the injected drop shows");
    assert_eq!(plans[0].kind, ArticleKind::Roundup);
    let planned: Vec<&str> = plans[1..]
        .iter()
        .map(|p| p.model.as_deref().unwrap())
        .collect();
    assert_eq!(planned, expected);

    let roundup = render_article(
        &plans[0],
        &data,
        &config,
        &templates,
        Format::Markdown,
        None,
    )
    .unwrap();
    for m in &data.models {
        let sql = &now[&m.model];
        let line = format!(
            "| {} | {} | {:.1} | {:+.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            m.rank.unwrap(),
            m.model,
            published_main(sql),
            published_main(sql) - published_main(&then[&m.model]),
            sql["code_execution"],
            sql["grounding"],
            sql["judgment"],
            sql["communication"],
            sql["integrity"],
        );
        assert!(
            roundup.body.contains(&line),
            "missing {line} in\n{}",
            roundup.body
        );
    }
    assert!(roundup.body.contains(&format!(
        "Data source: [Run #{run} — raw data](/runs/{run})"
    )));
    assert!(roundup.body.contains(&format!(
        "Across the field, raw main scores moved {:+.1} points (SE {:.1}, {} models)",
        board_field.field_move, board_field.field_se, board_field.models
    )));
    assert!(roundup.body.contains(
        "<title>The field&#39;s move per run (day effect on the main score, 95% interval)</title>"
    ));

    let plan = plans
        .iter()
        .find(|p| p.model.as_deref() == Some("model-01"))
        .unwrap();
    let article = render_article(plan, &data, &config, &templates, Format::Markdown, None).unwrap();
    let (main_now, main_then) = (
        published_main(&now["model-01"]),
        published_main(&then["model-01"]),
    );
    let drop = main_then - main_now;
    assert!(drop > 5.0);
    assert!(
        article
            .body
            .starts_with(&format!("# model-01 drops {drop:.1} points\n")),
        "{}",
        article.body
    );
    let m01 = data.model("model-01").unwrap();
    let mi = m01.main_interval.unwrap();
    assert!(
        article.body.contains(&format!(
            "| main score | {main_now:.1} | {:.1}–{:.1} | {main_then:.1} | {:+.1} |",
            mi.low,
            mi.high,
            main_now - main_then
        )),
        "{}",
        article.body
    );
    let code_now = now["model-01"]["code_execution"];
    let code_then = then["model-01"]["code_execution"];
    let ci = m01
        .dimension(yardstick_core::Dimension::CodeExecution)
        .unwrap()
        .interval
        .unwrap();
    assert!(article.body.contains(&format!(
        "| code execution | {code_now:.1} | {:.1}–{:.1} | {code_then:.1} | {:+.1} |",
        ci.low,
        ci.high,
        code_now - code_then
    )));
    for heading in [
        "## Score breakdown",
        "## Sampling fluctuation or genuine degradation?",
        "## Should we pay close attention?",
    ] {
        assert!(article.body.contains(heading), "{heading}");
    }
    assert_eq!(
        article.body.matches("<svg").count(),
        2,
        "history and dimension charts"
    );
    let relative = m01.field_relative.unwrap().relative;
    let field = board_field.field_move;
    assert!(
        article.body.contains(&format!(
            "the field moved {field:+.1}, so relative to the field the move is {relative:+.1}"
        )),
        "{}",
        article.body
    );
    assert!(article.body.ends_with(&format!(
        "Data source: [Run #{run} — raw data](/runs/{run})\n"
    )));
    assert_eq!(article.file_name, format!("run-{run}-model-01.md"));
}

#[tokio::test]
async fn report_numbers_match_the_database_sqlite() {
    let db = TestDb::sqlite().await;
    cross_check(&db).await;
}

#[tokio::test]
async fn report_numbers_match_the_database_postgres() {
    let db = TestDb::postgres().await;
    cross_check(&db).await;
    db.drop_postgres().await;
}

#[tokio::test]
async fn attention_rules_fire_on_the_stored_history_and_only_model_is_honoured() {
    let db = TestDb::sqlite().await;
    let synth = db.fill(&small_spec()).await;
    let run = *synth.run_ids.last().unwrap();
    let config: ReportConfig = serde_json::from_value(json!({
        "anomaly_threshold": 1000.0,
        "rules": [
            {"dimension": "main", "below": 101, "runs": 3, "action": "retest"},
            {"dimension": "grounding", "below": 0, "runs": 2, "action": "never"}
        ]
    }))
    .unwrap();
    let data = load_report_data(&db.store, run, &config, 7).await.unwrap();
    let plans = plan_articles(&data, &config, None).unwrap();
    assert_eq!(plans.len(), 1, "no move exceeds 1000 points");
    // The first rule holds for every model (scores are ≤ 100), the second never.
    assert_eq!(plans[0].findings.len(), 5);
    assert!(plans[0].findings.iter().all(|f| f.action == "retest"));
    assert_eq!(plans[0].findings[0].values.len(), 3);

    let only = plan_articles(&data, &config, Some("model-03")).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].kind, ArticleKind::Anomaly);
    let m = data.model("model-03").unwrap();
    let runs: Vec<i64> = m.history[5..].iter().map(|p| p.run_id).collect();
    assert_eq!(
        only[0].findings[0]
            .values
            .iter()
            .map(|v| v.0)
            .collect::<Vec<_>>(),
        runs
    );
    assert!(only[0]
        .prose
        .attention
        .starts_with("Yes. main score below 101.0 in 3 consecutive runs: met ("));
    let err = plan_articles(&data, &config, Some("nope"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!("run #{run} has no model `nope` (its models: model-02, model-03, model-04, model-05, model-01); pick one of them with --model")
            .replace(
                "model-02, model-03, model-04, model-05, model-01",
                &data.models.iter().map(|m| m.model.as_str()).collect::<Vec<_>>().join(", ")
            )
    );
}

#[tokio::test]
async fn templates_can_be_overridden_and_broken_ones_are_named() {
    let db = TestDb::sqlite().await;
    let synth = db.fill(&small_spec()).await;
    let run = *synth.run_ids.last().unwrap();
    let config = ReportConfig::default();
    let data = load_report_data(&db.store, run, &config, 7).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("roundup.md"),
        "Custom roundup of run {{ run.id }}: {% for m in models %}{{ m.model }}={{ m.main | score }} {% endfor %}\n",
    )
    .unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let plans = plan_articles(&data, &config, None).unwrap();
    let body = render_article(
        &plans[0],
        &data,
        &config,
        &templates,
        Format::Markdown,
        None,
    )
    .unwrap()
    .body;
    let first = &data.models[0];
    assert!(body.starts_with(&format!(
        "Custom roundup of run {run}: {}={:.1} ",
        first.model,
        first.main.unwrap()
    )));
    // Other templates stay built in.
    let html = render_article(&plans[0], &data, &config, &templates, Format::Html, None).unwrap();
    assert!(html.body.starts_with("<!doctype html>"));

    std::fs::write(dir.path().join("anomaly.md"), "{% if %}\n").unwrap();
    let err = Templates::load(Some(dir.path())).err().unwrap().to_string();
    assert_eq!(
        err,
        format!(
            "report template {}/anomaly.md:1: syntax error: unexpected end of block",
            dir.path().display()
        )
    );
}

fn narrator(base_url: &str) -> Narrator {
    let spec: ModelSpec = serde_json::from_value(json!({
        "name": "narrator",
        "provider": "openai",
        "model": "narrator-stub",
        "base_url": base_url,
        "max_retries": 0
    }))
    .unwrap();
    Narrator {
        provider: yardstick_providers::build_provider_with_env(&spec, |_| None).unwrap(),
        spec,
        max_tokens: 800,
    }
}

async fn anomaly_data(db: &TestDb) -> (ReportData, ReportConfig) {
    let synth = db.fill(&small_spec()).await;
    let config = ReportConfig::default();
    let data = load_report_data(&db.store, *synth.run_ids.last().unwrap(), &config, 7)
        .await
        .unwrap();
    (data, config)
}

/// A rewrite the stub makes from the prose it was sent.
fn rewrite(request: &Value, lead: impl Fn(&str) -> String) -> String {
    let prose = prose_in(request);
    json!({
        "lead": lead(prose["lead"].as_str().unwrap()),
        "fluctuation": prose["fluctuation"],
        "attention": prose["attention"],
    })
    .to_string()
}

#[tokio::test]
async fn narrator_output_with_a_wrong_number_or_an_outside_claim_is_rejected() {
    let db = TestDb::sqlite().await;
    let (data, config) = anomaly_data(&db).await;
    let templates = Templates::load(None).unwrap();
    let plan = plan_articles(&data, &config, Some("model-01"))
        .unwrap()
        .remove(0);

    for (addition, reason) in [
        (
            " It lost 42.7 points in all.",
            "the number 42.7 matches no value in the data",
        ),
        (
            " The fall follows the release of GPT-5.",
            "`GPT-5` names something that is not in the data",
        ),
        (
            " Analysts at Acme expected it.",
            "`Analysts` does not appear in the data",
        ),
    ] {
        let stub = chat_stub(move |req| rewrite(req, |lead| format!("{lead}{addition}"))).await;
        let narration = narrator(&stub.base_url).narrate(&data, &plan).await;
        assert!(!narration.accepted, "{addition}");
        assert_eq!(narration.rejected_because.as_deref(), Some(reason));
        assert!(narration.text.as_deref().unwrap().contains(addition.trim()));
        let article = render_article(
            &plan,
            &data,
            &config,
            &templates,
            Format::Markdown,
            Some(narration),
        )
        .unwrap();
        // The deterministic prose is kept and nothing is labelled generated.
        assert!(article.body.contains(&plan.prose.lead));
        assert!(!article.body.contains("generated by the model"));
        let meta = serde_json::to_value(&article).unwrap();
        assert_eq!(meta["narration"]["accepted"], false);
        assert_eq!(meta["narration"]["rejected_because"], reason);
        assert_eq!(stub.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn faithful_narration_is_used_labelled_and_escaped_in_html() {
    let db = TestDb::sqlite().await;
    let (data, config) = anomaly_data(&db).await;
    let templates = Templates::load(None).unwrap();
    let plan = plan_articles(&data, &config, Some("model-01"))
        .unwrap()
        .remove(0);
    let stub = chat_stub(|req| {
        format!(
            "```json\n{}\n```",
            rewrite(req, |lead| format!(
                "In short: {lead} <script>alert(document.cookie)</script>"
            ))
        )
    })
    .await;
    let narration = narrator(&stub.base_url).narrate(&data, &plan).await;
    assert!(narration.accepted, "{:?}", narration.rejected_because);
    let html = render_article(
        &plan,
        &data,
        &config,
        &templates,
        Format::Html,
        Some(narration.clone()),
    )
    .unwrap();
    assert!(html.body.contains("In short: "));
    assert!(
        html.body
            .contains("&lt;script&gt;alert(document.cookie)&lt;&#x2f;script&gt;"),
        "{}",
        html.body
    );
    assert!(!html.body.contains("<script>"));
    assert!(html
        .body
        .contains("generated by the model <code>narrator</code> from the data in it"));
    let md = render_article(
        &plan,
        &data,
        &config,
        &templates,
        Format::Markdown,
        Some(narration),
    )
    .unwrap();
    assert!(md.body.contains("In short: "));
    assert!(md
        .body
        .contains("*The prose of this article was generated by the model `narrator`"));

    // A model whose name carries markup is escaped in HTML too.
    let mut evil = data.clone();
    evil.models[0].model = "<script>x()</script>".into();
    let plan = plan_articles(&evil, &config, Some("<script>x()</script>"))
        .unwrap()
        .remove(0);
    let html = render_article(&plan, &evil, &config, &templates, Format::Html, None).unwrap();
    assert!(!html.body.contains("<script>"), "{}", html.body);
    assert_eq!(
        html.file_name,
        format!("run-{}-_script_x____script_.html", evil.run.id)
    );
    let _ = Arc::new(());
}

#[tokio::test]
async fn stored_verdicts_drive_the_fluctuation_section_and_the_history_markers() {
    use yardstick_store::{NewRetest, NewVerdict};
    let db = TestDb::sqlite().await;
    let synth = db.fill(&small_spec()).await;
    let run = *synth.run_ids.last().unwrap();
    let earlier = synth.run_ids[5];
    let verdict = |run_id, series: &str, verdict: &str, explanation: &str| NewVerdict {
        run_id,
        model: "model-01".into(),
        series: series.into(),
        verdict: verdict.into(),
        numbers_json: r#"{"cusum_low": 6.25, "threshold": 5.0}"#.into(),
        explanation: explanation.into(),
        detector_state_json: "{}".into(),
        created_at: 1,
    };
    let (main, _) = db
        .store
        .insert_verdict(&verdict(
            run,
            "main",
            "likely_degradation",
            "The lower CUSUM reached 6.25, above its threshold of 5.0.",
        ))
        .await
        .unwrap();
    db.store
        .insert_verdict(&verdict(
            run,
            "grounding",
            "noise",
            "Within the usual range.",
        ))
        .await
        .unwrap();
    db.store
        .insert_verdict(&verdict(run, "code_execution", "watch", "Two low days."))
        .await
        .unwrap();
    db.store
        .insert_verdict(&verdict(earlier, "main", "watch", "One low day."))
        .await
        .unwrap();
    db.store
        .schedule_retest(&NewRetest {
            verdict_id: main.id,
            model: "model-01".into(),
            series: "main".into(),
            items: 30,
            epochs: 3,
            created_at: 2,
        })
        .await
        .unwrap();

    let config = ReportConfig::default();
    let data = load_report_data(&db.store, run, &config, 7).await.unwrap();
    let m = data.model("model-01").unwrap();
    assert_eq!(
        m.verdicts
            .iter()
            .map(|v| (v.series.as_str(), v.verdict.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("main", "likely_degradation"),
            ("code_execution", "watch"),
            ("grounding", "noise")
        ]
    );
    assert_eq!(m.verdicts[0].numbers["cusum_low"], 6.25);
    assert!(m.verdicts[0].retest_id.is_some());
    assert_eq!(m.history[5].main_verdict.as_deref(), Some("watch"));

    let templates = Templates::load(None).unwrap();
    let plan = plan_articles(&data, &config, Some("model-01"))
        .unwrap()
        .remove(0);
    assert!(
        plan.prose.fluctuation.starts_with(
            "Verdict on the main score: likely_degradation. A confirmation retest is scheduled. \
         The lower CUSUM reached 6.25, above its threshold of 5.0. \
         Verdict on the code execution: watch. Two low days. Against its "
        ),
        "{}",
        plan.prose.fluctuation
    );
    let md = render_article(&plan, &data, &config, &templates, Format::Markdown, None).unwrap();
    assert!(md
        .body
        .contains("| main | likely_degradation | likely_degradation | scheduled |"));
    assert!(md.body.contains(&format!(
        "<title>#{run} 2025-12-03: likely_degradation</title>"
    )));
    assert!(md
        .body
        .contains(&format!("<title>#{earlier} 2025-12-01: watch</title>")));
    let roundup = plan_articles(&data, &config, None).unwrap().remove(0);
    assert!(roundup.prose.fluctuation.starts_with(
        "Verdicts other than noise: model-01 on the main score: likely_degradation; model-01 on the code execution: watch."
    ));

    // A narrator may quote the explanation's numbers: they are stored data.
    let stub =
        chat_stub(|req| rewrite(req, |lead| format!("{lead} The lower CUSUM reached 6.25."))).await;
    let narration = narrator(&stub.base_url).narrate(&data, &plan).await;
    assert!(narration.accepted, "{:?}", narration.rejected_because);
}
