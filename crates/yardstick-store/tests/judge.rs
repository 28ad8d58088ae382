//! Judge records on SQLite and PostgreSQL: judged grades with their calls,
//! failed judgings kept for audit, calibration calls, the scores behind the
//! current grade only, and the per-run judge checks.

mod common;

use common::{answered, grade, item, new_run, TestDb};
use yardstick_core::Dimension;
use yardstick_store::{JudgedGrade, NewJudgement, RunJudge};

on_both_backends!(
    judged_grades_store_their_calls_and_panel_scores_follow_the_current_grade,
    calibration_calls_and_run_judges_round_trip,
);

fn call(run_id: i64, attempt_id: Option<i64>, judge: &str, sample: u32) -> NewJudgement {
    NewJudgement {
        run_id,
        attempt_id,
        calibration_id: None,
        judge: judge.into(),
        judge_model: format!("{judge}-2025-01-01"),
        response_model: Some(format!("{judge}-2025-01-01-served")),
        fallback: false,
        sample,
        retry: 0,
        order: "answer_first".into(),
        prompt: r#"{"model":"j","messages":[{"role":"user","content":"Grade ünïcode"}]}"#.into(),
        raw_output: Some("Good.\n{\"accuracy\": 4}".into()),
        scores_json: Some(r#"{"accuracy":4}"#.into()),
        error_class: None,
        error_message: None,
        latency_ms: 1234,
        input_tokens: 300,
        output_tokens: 40,
        created_at: 1_700_000_003_000,
    }
}

async fn judged_grades_store_their_calls_and_panel_scores_follow_the_current_grade(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let it = item("judgment-1", Dimension::Judgment, "What first?");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let ids = s
        .insert_attempts(&[
            answered(run, "alpha", &it, 0),
            answered(run, "beta", &it, 0),
        ])
        .await
        .unwrap();
    let (a, b) = (ids[0].id, ids[1].id);

    let unparsable = NewJudgement {
        raw_output: Some("I like it.".into()),
        scores_json: None,
        error_class: Some("unparsable".into()),
        error_message: Some("the last line is not a JSON object".into()),
        ..call(run, Some(b), "judge-x", 0)
    };
    s.insert_judged_grades(&[
        JudgedGrade {
            grade: Some(grade(a, 80.0, "1")),
            judgements: vec![
                call(run, Some(a), "judge-x", 0),
                call(run, Some(a), "judge-y", 0),
            ],
        },
        // A failed judging: calls stored, no grade.
        JudgedGrade {
            grade: None,
            judgements: vec![unparsable.clone()],
        },
    ])
    .await
    .unwrap();

    let calls = s.judgements_for_attempt(a).await.unwrap();
    assert_eq!(calls.len(), 2);
    let grade_id = s.grades_for_attempt(a).await.unwrap()[0].id;
    assert!(calls.iter().all(|c| c.grade_id == Some(grade_id)));
    assert_eq!(calls[0].judgement, call(run, Some(a), "judge-x", 0));
    let failed = s.judgements_for_attempt(b).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].grade_id, &failed[0].judgement),
        (None, &unparsable)
    );
    assert!(
        s.grades_for_attempt(b).await.unwrap().is_empty(),
        "a failed judging is no grade"
    );

    let scores = s.panel_scores(run).await.unwrap();
    assert_eq!(scores.len(), 2, "{scores:?}");
    assert!(scores
        .iter()
        .all(|p| p.attempt_id == a && p.dimension == Dimension::Judgment));
    // A regrade supersedes the first grade: only the new calls count.
    s.insert_judged_grades(&[JudgedGrade {
        grade: Some(grade(a, 60.0, "1")),
        judgements: vec![NewJudgement {
            scores_json: Some(r#"{"accuracy":3}"#.into()),
            ..call(run, Some(a), "judge-x", 0)
        }],
    }])
    .await
    .unwrap();
    let scores = s.panel_scores(run).await.unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].scores_json, r#"{"accuracy":3}"#);
    assert_eq!(
        s.judgements_for_attempt(a).await.unwrap().len(),
        3,
        "old calls stay"
    );

    // A call naming an attempt that does not exist rolls the whole batch back.
    let err = s
        .insert_judged_grades(&[JudgedGrade {
            grade: Some(grade(a, 10.0, "1")),
            judgements: vec![call(run, Some(999_999), "judge-x", 0)],
        }])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("judge `judge-x`"), "{err}");
    assert_eq!(s.grades_for_attempt(a).await.unwrap().len(), 2);
}

async fn calibration_calls_and_run_judges_round_trip(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let cal = NewJudgement {
        calibration_id: Some("cal-incident-1".into()),
        ..call(run, None, "judge-x", 2)
    };
    s.insert_judgements(std::slice::from_ref(&cal))
        .await
        .unwrap();
    let stored = s.calibration_judgements(run).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].grade_id, &stored[0].judgement), (None, &cal));
    assert!(s.panel_scores(run).await.unwrap().is_empty());

    assert!(s.run_judges(run).await.unwrap().is_empty());
    let check = RunJudge {
        run_id: run,
        judge: "judge-x".into(),
        judge_model: "judge-x-2025-01-01".into(),
        family: Some("gpt".into()),
        fallback: false,
        same_family: vec!["alpha".into()],
        drift: Some(0.75),
        drift_threshold: 0.5,
        calibration_scored: 19,
        calibration_failed: 1,
        unreliable: true,
        created_at: 1_700_000_004_000,
    };
    s.insert_run_judge(&check).await.unwrap();
    let other = RunJudge {
        judge: "judge-a".into(),
        family: None,
        same_family: vec![],
        drift: None,
        unreliable: false,
        ..check.clone()
    };
    s.insert_run_judge(&other).await.unwrap();
    // A later check of the same judge replaces it in the current view.
    let rechecked = RunJudge {
        drift: Some(0.25),
        unreliable: false,
        created_at: 1_700_000_005_000,
        ..check.clone()
    };
    s.insert_run_judge(&rechecked).await.unwrap();
    assert_eq!(s.run_judges(run).await.unwrap(), vec![other, rechecked]);
}
