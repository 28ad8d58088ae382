//! The dashboard's read queries (browse.rs), each test run on SQLite and on
//! PostgreSQL.

mod common;

use common::{answered, failed, grade, item, new_run, TestDb};
use yardstick_core::{Dimension, ErrorClass};
use yardstick_store::RunStatus;

on_both_backends!(
    runs_of_kind_are_newest_first,
    current_grades_are_the_newest_per_attempt,
    item_attempts_span_runs_with_their_grades,
    data_version_moves_with_every_write,
);

async fn runs_of_kind_are_newest_first(db: TestDb) {
    let s = &db.store;
    let a = s.create_run(&new_run("smoke")).await.unwrap();
    s.create_run(&new_run("weekly")).await.unwrap();
    let c = s.create_run(&new_run("smoke")).await.unwrap();
    let ids: Vec<i64> = s
        .runs_of_kind("smoke", 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, [c, a]);
    assert_eq!(s.runs_of_kind("smoke", 1).await.unwrap()[0].id, c);
    assert!(s.runs_of_kind("full", 10).await.unwrap().is_empty());
}

async fn current_grades_are_the_newest_per_attempt(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::Grounding, "2+2?");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let other = s.create_run(&new_run("smoke")).await.unwrap();
    let ids = s
        .insert_attempts(&[
            answered(run, "alpha", &it, 0),
            answered(run, "beta", &it, 0),
            failed(run, "gamma", &it, 0, ErrorClass::Timeout),
            answered(other, "alpha", &it, 0),
        ])
        .await
        .unwrap();
    s.insert_grades(&[
        grade(ids[0].id, 10.0, "1"),
        grade(ids[1].id, 50.0, "1"),
        grade(ids[3].id, 70.0, "1"),
    ])
    .await
    .unwrap();
    // A regrade of the first attempt appends; the newest counts.
    s.insert_grades(&[grade(ids[0].id, 90.0, "2")])
        .await
        .unwrap();
    let current: Vec<(i64, f64, String)> = s
        .current_grades_for_run(run)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.attempt_id, g.score, g.grader_version))
        .collect();
    assert_eq!(
        current,
        [
            (ids[0].id, 90.0, "2".to_string()),
            (ids[1].id, 50.0, "1".to_string())
        ]
    );
}

async fn item_attempts_span_runs_with_their_grades(db: TestDb) {
    let s = &db.store;
    let q1 = item("q1", Dimension::Grounding, "2+2?");
    let q2 = item("q2", Dimension::Grounding, "3+3?");
    s.upsert_items(&[q1.clone(), q2.clone()]).await.unwrap();
    let r1 = s.create_run(&new_run("smoke")).await.unwrap();
    let r2 = s.create_run(&new_run("weekly")).await.unwrap();
    let ids = s
        .insert_attempts(&[
            answered(r2, "alpha", &q1, 0),
            answered(r1, "beta", &q1, 0),
            answered(r1, "alpha", &q2, 0),
            failed(r1, "alpha", &q1, 0, ErrorClass::RateLimited),
        ])
        .await
        .unwrap();
    s.insert_grades(&[grade(ids[0].id, 40.0, "1"), grade(ids[0].id, 45.0, "2")])
        .await
        .unwrap();
    let got: Vec<(i64, String, Option<f64>)> = s
        .item_attempts("q1", 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(a, g)| (a.run_id, a.model, g.map(|g| g.score)))
        .collect();
    assert_eq!(
        got,
        [
            (r1, "alpha".to_string(), None),
            (r1, "beta".to_string(), None),
            (r2, "alpha".to_string(), Some(45.0)),
        ]
    );
    assert_eq!(s.item_attempts("q1", 1).await.unwrap().len(), 1);
    assert!(s.item_attempts("nope", 100).await.unwrap().is_empty());
}

async fn data_version_moves_with_every_write(db: TestDb) {
    let s = &db.store;
    let v0 = s.data_version().await.unwrap();
    assert_eq!(v0, Default::default());
    let it = item("q1", Dimension::Grounding, "2+2?");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let v1 = s.data_version().await.unwrap();
    assert_eq!(v1.runs, run);
    let ids = s
        .insert_attempts(&[answered(run, "alpha", &it, 0)])
        .await
        .unwrap();
    let v2 = s.data_version().await.unwrap();
    assert!(v2.attempts > v1.attempts);
    s.insert_grades(&[grade(ids[0].id, 1.0, "1")])
        .await
        .unwrap();
    let v3 = s.data_version().await.unwrap();
    assert!(v3.grades > v2.grades);
    s.finish_run(run, RunStatus::Complete, 5).await.unwrap();
    let v4 = s.data_version().await.unwrap();
    assert_eq!(v4.finished_runs, v3.finished_runs + 1);
}
