//! The reads behind reports (`src/report.rs`), on both backends.

mod common;

use common::{answered, failed, grade, item, new_run, TestDb};
use yardstick_core::{Dimension, ErrorClass};

on_both_backends!(history_reads_keep_to_one_kind_and_the_latest_grade);

async fn history_reads_keep_to_one_kind_and_the_latest_grade(db: TestDb) {
    let s = &db.store;
    let code = item("c1", Dimension::CodeExecution, "code");
    s.upsert_items(std::slice::from_ref(&code)).await.unwrap();
    // smoke #1, weekly #2, smoke #3, smoke #4
    let mut runs = Vec::new();
    for kind in ["smoke", "weekly", "smoke", "smoke"] {
        let run = s.create_run(&new_run(kind)).await.unwrap();
        let ids = s
            .insert_attempts(&[
                answered(run, "alpha", &code, 0),
                failed(run, "beta", &code, 0, ErrorClass::Timeout),
            ])
            .await
            .unwrap();
        s.insert_grades(&[grade(ids[0].id, 10.0 * run as f64, "1")])
            .await
            .unwrap();
        runs.push(run);
    }
    // A regrade of run #3: the newer grade counts.
    let third = s.outcomes(runs[2], Some("alpha")).await.unwrap();
    assert_eq!(third[0].score, Some(30.0));
    let attempt = s
        .insert_attempts(&[answered(runs[2], "alpha", &code, 0)])
        .await
        .unwrap()[0]
        .id;
    s.insert_grades(&[grade(attempt, 99.0, "2")]).await.unwrap();

    let listed = s.runs_of_kind_through("smoke", runs[3], 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![runs[3], runs[2], runs[0]]
    );
    let limited = s.runs_of_kind_through("smoke", runs[2], 1).await.unwrap();
    assert_eq!(
        limited.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![runs[2]]
    );

    let outcomes = s.outcomes_of_runs("smoke", runs[0], runs[3]).await.unwrap();
    let seen: Vec<(i64, &str, Option<f64>, bool)> = outcomes
        .iter()
        .map(|(run, o)| (*run, o.model.as_str(), o.score, o.answered))
        .collect();
    assert_eq!(
        seen,
        vec![
            (runs[0], "alpha", Some(10.0), true),
            (runs[0], "beta", None, false),
            (runs[2], "alpha", Some(99.0), true),
            (runs[2], "beta", None, false),
            (runs[3], "alpha", Some(40.0), true),
            (runs[3], "beta", None, false),
        ]
    );
    assert_eq!(outcomes[1].1.error_class.as_deref(), Some("timeout"));
    assert!(s
        .outcomes_of_runs("weekly", runs[2], runs[3])
        .await
        .unwrap()
        .is_empty());
}
