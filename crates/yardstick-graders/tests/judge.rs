//! The judge grader end to end against loopback OpenAI-compatible judge
//! servers: scores parsed, median of samples, panel mean, an unparsable
//! reply retried then a classified error, a timeout a classified error,
//! rule + judge items, and calibration drift. Nothing is ever scored 0
//! because a judge failed.

#[path = "../../yardstick-providers/tests/common/mod.rs"]
mod http_stub;

use http_stub::{openai_ok, spec, Reply, Server};
use std::sync::Arc;
use std::time::Duration;
use yardstick_core::{
    Anchor, CalibrationEntry, Criterion, Dimension, GraderSpec, Item, JudgedPart, ProviderKind,
    Rubric,
};
use yardstick_graders::{GradeOutcome, Graders, Judge, JudgeErrorClass, JudgePanel, Order};
use yardstick_providers::build_provider;

fn rubric() -> Rubric {
    let scale = |top: u32| {
        vec![
            Anchor {
                score: 0,
                meaning: "wrong".into(),
            },
            Anchor {
                score: top,
                meaning: "as the reference".into(),
            },
        ]
    };
    Rubric {
        name: "incident".into(),
        criteria: vec![
            Criterion {
                id: "accuracy".into(),
                description: "Is the first step right?".into(),
                anchors: scale(5),
            },
            Criterion {
                id: "reasoning".into(),
                description: "Is the reason given?".into(),
                anchors: scale(3),
            },
        ],
    }
}

fn judged_item() -> Item {
    Item {
        references: vec!["Check whether the primary is reachable before failing over.".into()],
        ..Item::new(
            "judgment-incident-1",
            Dimension::Judgment,
            "The primary database stopped accepting writes. What is your first step?",
            GraderSpec::Judge { rubric: rubric() },
        )
    }
}

fn judge_for(server: &Server, name: &str, timeout_secs: f64) -> Judge {
    let mut s = spec(ProviderKind::Openai, Some(server.openai_base()));
    s.name = name.into();
    s.model = format!("{name}-2025-01-01");
    s.timeout_secs = timeout_secs;
    s.max_retries = 1;
    Judge::new(s.clone(), build_provider(&s).unwrap(), false)
}

fn graders(judges: Vec<Judge>, samples: u32, parse_retries: u32) -> Graders {
    Graders::new().with_judge(Arc::new(JudgePanel {
        judges,
        samples,
        parse_retries,
        calibration: Arc::new(Vec::new()),
        drift_threshold: 0.5,
    }))
}

fn reply(text: &str) -> Reply {
    Reply::json(200, openai_ok(text))
}

const ANSWER: &str = "Fail over to the replica right away.";

async fn grade(graders: &Graders, item: &Item) -> GradeOutcome {
    graders.grade_recorded(item, ANSWER).await
}

#[tokio::test]
async fn scores_are_parsed_and_the_median_of_the_samples_counts() {
    let server = Server::start(vec![
        reply("The answer skips the check.\n{\"accuracy\": 5, \"reasoning\": 1}"),
        reply("Risky.\n{\"accuracy\": 1, \"reasoning\": 3}"),
        reply("Partly right.\n```json\n{\"accuracy\": 2, \"reasoning\": 2}\n```"),
    ])
    .await;
    let g = graders(vec![judge_for(&server, "judge-a", 5.0)], 3, 0);
    let outcome = grade(&g, &judged_item()).await;
    let grade = outcome.result.expect("graded");
    // Medians: accuracy 2 of (5, 1, 2), reasoning 2 of (1, 3, 2) → 4 / 8.
    assert_eq!(grade.score, 50.0);
    assert_eq!(grade.grader_id, "judge");
    let names: Vec<&str> = grade.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["judge: accuracy", "judge: reasoning"]);
    assert!(
        grade.checks[0]
            .detail
            .contains("judge-a: median 2 of samples [5, 1, 2]"),
        "{}",
        grade.checks[0].detail
    );
    let weights: Vec<f64> = grade.checks.iter().map(|c| c.weight).collect();
    assert_eq!(weights, [5.0 / 8.0, 3.0 / 8.0]);

    assert_eq!(outcome.judgements.len(), 3);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for (i, (j, sent)) in outcome.judgements.iter().zip(&requests).enumerate() {
        assert_eq!(j.sample, i as u32);
        assert_eq!(j.retry, 0);
        assert_eq!(j.judge_model, "judge-a-2025-01-01");
        assert_eq!(j.response_model.as_deref(), Some("served-model-2024"));
        assert!(j.error_class.is_none() && j.scores.is_some());
        assert_eq!((j.input_tokens, j.output_tokens), (11, 2));
        // The stored prompt is exactly what was sent, in the recorded order.
        let body = sent.json();
        let stored: serde_json::Value = serde_json::from_str(&j.prompt).unwrap();
        assert_eq!(body["messages"], stored["messages"]);
        let user = body["messages"][1]["content"].as_str().unwrap();
        let (r, a) = (
            user.find("before failing over").unwrap(),
            user.find(ANSWER).unwrap(),
        );
        assert_eq!(
            r < a,
            j.order == Order::ReferenceFirst,
            "order {:?}",
            j.order
        );
        assert!(j.raw_output.as_deref().unwrap().contains("\"accuracy\""));
    }
}

#[tokio::test]
async fn a_panel_scores_the_mean_of_its_judges_medians() {
    let a = Server::start(vec![reply("{\"accuracy\": 4, \"reasoning\": 3}")]).await;
    let b = Server::start(vec![reply("{\"accuracy\": 2, \"reasoning\": 1}")]).await;
    let g = graders(
        vec![judge_for(&a, "judge-a", 5.0), judge_for(&b, "judge-b", 5.0)],
        1,
        0,
    );
    let outcome = grade(&g, &judged_item()).await;
    let grade = outcome.result.unwrap();
    // accuracy (4 + 2) / 2 = 3, reasoning (3 + 1) / 2 = 2 → 5 / 8.
    assert_eq!(grade.score, 62.5);
    let extracted: serde_json::Value =
        serde_json::from_str(grade.extracted.as_deref().unwrap()).unwrap();
    assert_eq!(extracted["judges"]["judge-b"]["accuracy"], 2.0);
    assert_eq!(extracted["judge_fallback"], false);
    let judges: Vec<&str> = outcome
        .judgements
        .iter()
        .map(|j| j.judge.as_str())
        .collect();
    assert!(judges.contains(&"judge-a") && judges.contains(&"judge-b"));
}

#[tokio::test]
async fn an_unparsable_reply_is_retried_then_a_classified_error_never_a_zero() {
    let server = Server::start(vec![reply("The answer is risky; I would give it a 2.")]).await;
    let g = graders(vec![judge_for(&server, "judge-a", 5.0)], 3, 2);
    let outcome = grade(&g, &judged_item()).await;
    let err = outcome
        .result
        .expect_err("an unparsable judge must not score the answer");
    assert_eq!(err.grader, "judge");
    assert!(
        err.message.contains("no parsable reply in 3 tries"),
        "{}",
        err.message
    );
    // One sample, tried three times; the later samples are not asked.
    assert_eq!(server.requests().len(), 3);
    assert_eq!(outcome.judgements.len(), 3);
    for (retry, j) in outcome.judgements.iter().enumerate() {
        assert_eq!((j.sample, j.retry), (0, retry as u32));
        assert_eq!(j.error_class, Some(JudgeErrorClass::Unparsable));
        assert_eq!(j.error_class.unwrap().id(), "unparsable");
        assert!(j.scores.is_none());
        assert_eq!(
            j.raw_output.as_deref(),
            Some("The answer is risky; I would give it a 2.")
        );
        assert!(j
            .error_message
            .as_deref()
            .unwrap()
            .contains("not a JSON object"));
    }
    // A retry that parses rescues the sample.
    let server = Server::start(vec![
        reply("Score: good"),
        reply("{\"accuracy\": 5, \"reasoning\": 3}"),
    ])
    .await;
    let g = graders(vec![judge_for(&server, "judge-a", 5.0)], 1, 1);
    let outcome = grade(&g, &judged_item()).await;
    assert_eq!(outcome.result.unwrap().score, 100.0);
    assert_eq!(outcome.judgements.len(), 2);
    assert_eq!(outcome.judgements[1].retry, 1);
}

#[tokio::test]
async fn a_judge_timeout_is_a_classified_error() {
    let server = Server::start(vec![Reply::Slow {
        delay: Duration::from_secs(3),
        status: 200,
        body: openai_ok("{\"accuracy\": 5, \"reasoning\": 3}").to_string(),
    }])
    .await;
    let g = graders(vec![judge_for(&server, "judge-a", 0.3)], 3, 2);
    let outcome = grade(&g, &judged_item()).await;
    let err = outcome
        .result
        .expect_err("a timed-out judge must not score the answer");
    assert!(err.message.contains("timeout"), "{}", err.message);
    assert_eq!(outcome.judgements.len(), 1);
    let j = &outcome.judgements[0];
    assert_eq!(j.error_class.unwrap().id(), "vendor_timeout");
    assert!(j.raw_output.is_none() && j.scores.is_none());
    // Vendor retries happen inside one judgement (max_retries = 1: two tries).
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_rule_item_with_a_judged_part_records_both_parts() {
    let server = Server::start(vec![reply("{\"clarity\": 2}")]).await;
    let clarity = Rubric {
        name: "clarity".into(),
        criteria: vec![Criterion {
            id: "clarity".into(),
            description: "Clear?".into(),
            anchors: vec![
                Anchor {
                    score: 0,
                    meaning: "no".into(),
                },
                Anchor {
                    score: 4,
                    meaning: "yes".into(),
                },
            ],
        }],
    };
    let item = Item {
        id: "communication-summary-1".into(),
        dimension: Dimension::Communication,
        grader: GraderSpec::Format {
            json_schema: None,
            table: None,
            sections: vec!["Summary".into()],
            max_words: Some(3),
            min_words: None,
            max_lines: None,
            forbidden_preamble: false,
            forbidden: vec![],
        },
        judged: Some(JudgedPart {
            rubric: clarity,
            weight: 0.25,
        }),
        ..judged_item()
    };
    let g = graders(vec![judge_for(&server, "judge-a", 5.0)], 1, 0);
    // Has the section, breaks the word limit: rule part 50.
    let outcome = g
        .grade_recorded(&item, "## Summary\nThe release slipped a week.")
        .await;
    let grade = outcome.result.unwrap();
    // 0.75 · 50 + 0.25 · 50 (clarity 2 of 4).
    assert_eq!(grade.score, 50.0);
    assert_eq!(grade.grader_id, "format+judge");
    let rule: Vec<_> = grade
        .checks
        .iter()
        .filter(|c| c.name.starts_with("rule: "))
        .collect();
    let judge: Vec<_> = grade
        .checks
        .iter()
        .filter(|c| c.name.starts_with("judge: "))
        .collect();
    assert_eq!((rule.len(), judge.len()), (2, 1));
    let rule_weight: f64 = rule.iter().map(|c| c.weight).sum();
    assert!((rule_weight - 0.75).abs() < 1e-12 && judge[0].weight == 0.25);
    let extracted: serde_json::Value =
        serde_json::from_str(grade.extracted.as_deref().unwrap()).unwrap();
    assert_eq!(
        (
            extracted["rule_score"].as_f64(),
            extracted["judge_score"].as_f64()
        ),
        (Some(50.0), Some(50.0))
    );
}

#[tokio::test]
async fn without_a_panel_a_judged_item_is_a_grader_error() {
    let err = Graders::new()
        .grade(&judged_item(), ANSWER)
        .await
        .expect_err("no judge, no grade");
    assert!(
        err.message.contains("no judge is set up"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn calibration_drift_is_the_mean_distance_from_the_frozen_scores() {
    let entry = |id: &str, accuracy: u32, reasoning: u32| CalibrationEntry {
        id: id.into(),
        rubric: rubric(),
        question: "What first?".into(),
        reference: "Check the primary.".into(),
        answer: "Fail over.".into(),
        scores: [
            ("accuracy".into(), accuracy),
            ("reasoning".into(), reasoning),
        ]
        .into(),
    };
    let entries = vec![entry("cal-1", 1, 0), entry("cal-2", 5, 3)];
    // A judge that drifted: it now gives everything 4 and 2.
    let server = Server::start(vec![reply("{\"accuracy\": 4, \"reasoning\": 2}")]).await;
    let panel = |threshold: f64| JudgePanel {
        judges: vec![judge_for(&server, "judge-a", 5.0)],
        samples: 1,
        parse_retries: 0,
        calibration: Arc::new(entries.clone()),
        drift_threshold: threshold,
    };
    let result = panel(0.5).calibrate().await;
    assert_eq!(result.len(), 1);
    let c = &result[0];
    // |4−1| + |2−0| + |4−5| + |2−3| = 7 over 4 scores.
    assert_eq!(c.drift, Some(1.75));
    assert!(c.unreliable);
    assert!(!panel(2.0).calibrate().await[0].unreliable);
    assert_eq!((c.scored, c.failed.len(), c.judgements.len()), (2, 0, 2));
    let ids: Vec<&str> = c.judgements.iter().map(|(id, _)| id.as_str()).collect();
    assert!(ids.contains(&"cal-1") && ids.contains(&"cal-2"));
}
