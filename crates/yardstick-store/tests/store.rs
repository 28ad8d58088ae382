//! Store behaviour, each test run on SQLite and on PostgreSQL.

mod common;

use common::{answered, failed, grade, item, new_run, TestDb};
use std::collections::HashSet;
use yardstick_core::scoring::score_run;
use yardstick_core::{Dimension, ErrorClass};
use yardstick_store::{Backend, Inserted, RunStatus, StoreError};

on_both_backends!(
    migrations_are_idempotent,
    run_numbers_are_one_global_counter,
    runs_round_trip_and_finish,
    items_are_versioned_and_insert_if_absent,
    run_items_keep_the_draw_order,
    attempts_are_unique_and_never_overwritten,
    error_classes_and_numbers_round_trip,
    out_of_range_numbers_are_rejected_before_writing,
    grades_append_and_outcomes_use_the_latest,
    attempts_without_grade_lists_answered_ungraded_only,
    runs_with_model_is_newest_first,
    models_keep_the_latest_spec,
    foreign_keys_are_enforced,
    large_batches_insert,
    concurrent_writers_and_readers_do_not_block_each_other_out,
);

async fn migrations_are_idempotent(db: TestDb) {
    let run = db.store.create_run(&new_run("smoke")).await.unwrap();
    let expected = if db.url.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    assert_eq!(db.store.backend(), expected);
    // Opening an up-to-date database again must apply nothing and lose nothing.
    let again = db.reopen().await;
    let third = db.reopen().await;
    assert_eq!(again.get_run(run).await.unwrap().unwrap().kind, "smoke");
    assert_eq!(third.list_runs(10).await.unwrap().len(), 1);
    assert!(!again.location().contains("password"));
}

async fn run_numbers_are_one_global_counter(db: TestDb) {
    let s = &db.store;
    let a = s.create_run(&new_run("smoke")).await.unwrap();
    let b = s.create_run(&new_run("weekly")).await.unwrap();
    let c = s.create_run(&new_run("smoke")).await.unwrap();
    assert_eq!(
        (a, b, c),
        (1, 2, 3),
        "one counter across kinds, starting at Run #1"
    );
    // A second handle on the same database continues the same counter.
    let other = db.reopen().await;
    assert_eq!(other.create_run(&new_run("full")).await.unwrap(), 4);
    let listed: Vec<i64> = s.list_runs(3).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(listed, vec![4, 3, 2], "newest first, at most limit");
}

async fn runs_round_trip_and_finish(db: TestDb) {
    let s = &db.store;
    let mut run = new_run("weekly");
    run.seed = u64::MAX - 7; // above i64::MAX: stored bit-cast
    let id = s.create_run(&run).await.unwrap();
    let row = s.get_run(id).await.unwrap().unwrap();
    assert_eq!(row.seed, u64::MAX - 7);
    assert_eq!(row.kind, "weekly");
    assert_eq!(row.label, run.label);
    assert_eq!(row.epochs, 2);
    assert_eq!(row.models, run.models);
    assert_eq!(row.config_json, run.config_json);
    assert_eq!(row.status, RunStatus::Running);
    assert_eq!(row.created_at, run.created_at);
    assert_eq!(row.finished_at, None);

    s.finish_run(id, RunStatus::Complete, 1_700_000_100_000)
        .await
        .unwrap();
    let row = s.get_run(id).await.unwrap().unwrap();
    assert_eq!(row.status, RunStatus::Complete);
    assert_eq!(row.finished_at, Some(1_700_000_100_000));

    assert!(s.get_run(id + 100).await.unwrap().is_none());
    let err = s
        .finish_run(id + 100, RunStatus::Complete, 0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert_eq!(err.to_string(), format!("run #{} not found", id + 100));
}

async fn items_are_versioned_and_insert_if_absent(db: TestDb) {
    let s = &db.store;
    let v1 = item("arith-1", Dimension::Judgment, "What is 2+2?");
    s.upsert_items(std::slice::from_ref(&v1)).await.unwrap();
    let history = s.item_history("arith-1").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].0, v1.version());

    // Same content again: nothing changes, not even first_seen.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.upsert_items(&[v1.clone(), v1.clone()]).await.unwrap();
    assert_eq!(s.item_history("arith-1").await.unwrap(), history);

    // Changed content is a new version; the old one stays readable.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut v2 = v1.clone();
    v2.prompt = "What is 2 + 2? Answer with a number.".into();
    s.upsert_items(std::slice::from_ref(&v2)).await.unwrap();
    let history = s.item_history("arith-1").await.unwrap();
    let versions: Vec<&str> = history.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(versions, vec![v1.version(), v2.version()], "oldest first");
    assert!(history[0].1 < history[1].1);

    assert_eq!(
        s.get_item("arith-1", &v1.version()).await.unwrap(),
        Some(v1.clone())
    );
    let back = s.get_item("arith-1", &v2.version()).await.unwrap().unwrap();
    assert_eq!(back, v2);
    assert_eq!(
        back.version(),
        v2.version(),
        "stored content hashes to its version"
    );
    assert_eq!(
        s.get_item("arith-1", "0000000000000000").await.unwrap(),
        None
    );
    assert_eq!(s.get_item("nope", &v1.version()).await.unwrap(), None);
    assert!(s.item_history("nope").await.unwrap().is_empty());
}

async fn run_items_keep_the_draw_order(db: TestDb) {
    let s = &db.store;
    let items = [
        item("c1", Dimension::CodeExecution, "code"),
        item("g1", Dimension::Grounding, "ground"),
        item("i1", Dimension::Integrity, "integrity"),
    ];
    s.upsert_items(&items).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    // Deliberately not in id order.
    let draw: Vec<(String, String)> = [2, 0, 1]
        .iter()
        .map(|&i| (items[i].id.clone(), items[i].version()))
        .collect();
    s.add_run_items(run, &draw).await.unwrap();
    let stored = s.run_items(run).await.unwrap();
    let got: Vec<(&str, Dimension, u32)> = stored
        .iter()
        .map(|r| (r.item_id.as_str(), r.dimension, r.position))
        .collect();
    assert_eq!(
        got,
        vec![
            ("i1", Dimension::Integrity, 0),
            ("c1", Dimension::CodeExecution, 1),
            ("g1", Dimension::Grounding, 2)
        ]
    );
    assert_eq!(stored[0].version, items[2].version());
    let drawn = s.drawn_items(run).await.unwrap();
    assert_eq!(
        drawn,
        [2, 0, 1]
            .iter()
            .map(|&i| (items[i].version(), items[i].clone()))
            .collect::<Vec<_>>()
    );

    // A draw is stored once, and it may only name stored item versions.
    let again = s.add_run_items(run, &draw).await.unwrap_err();
    assert!(again.to_string().contains("stored only once"), "{again}");
    let other = s.create_run(&new_run("smoke")).await.unwrap();
    let unknown = s
        .add_run_items(other, &[("ghost".into(), "0123456789abcdef".into())])
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("item `ghost`"), "{unknown}");
    assert!(
        s.run_items(other).await.unwrap().is_empty(),
        "the failed draw left nothing behind"
    );
}

async fn attempts_are_unique_and_never_overwritten(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::Grounding, "question");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();

    let first = answered(run, "alpha", &it, 0);
    let ids = s
        .insert_attempts(&[first.clone(), answered(run, "alpha", &it, 1)])
        .await
        .unwrap();
    assert!(ids.iter().all(|i| i.inserted));
    let original = s.get_attempt(ids[0].id).await.unwrap().unwrap();

    // The same key with different content, plus a new key, plus the new key again.
    let mut clash = first.clone();
    clash.response_text = Some("a different answer".into());
    clash.output_tokens = 999;
    clash.error_class = Some(ErrorClass::Timeout);
    let fresh = answered(run, "beta", &it, 0);
    let second = s
        .insert_attempts(&[clash, fresh.clone(), fresh])
        .await
        .unwrap();
    assert_eq!(
        second[0],
        Inserted {
            id: ids[0].id,
            inserted: false
        }
    );
    assert!(second[1].inserted);
    assert_eq!(
        second[2],
        Inserted {
            id: second[1].id,
            inserted: false
        },
        "a repeat within one batch"
    );

    let after = s.get_attempt(ids[0].id).await.unwrap().unwrap();
    assert_eq!(after, original, "the stored attempt is unchanged");
    assert_eq!(after.response_text, first.response_text);
    assert_eq!(s.attempts_for_run(run).await.unwrap().len(), 3);

    // The same key in another run is another attempt.
    let run2 = s.create_run(&new_run("smoke")).await.unwrap();
    let other = s
        .insert_attempts(&[answered(run2, "alpha", &it, 0)])
        .await
        .unwrap();
    assert!(other[0].inserted);
    assert_ne!(other[0].id, ids[0].id);

    let keys = s.done_keys(run).await.unwrap();
    let expected: HashSet<(String, String, u32)> = [("alpha", 0), ("alpha", 1), ("beta", 0)]
        .into_iter()
        .map(|(m, e)| (m.to_string(), it.version(), e))
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(s.run_models(run).await.unwrap(), vec!["alpha", "beta"]);
    assert!(s.get_attempt(-1).await.unwrap().is_none());
    assert!(s.insert_attempts(&[]).await.unwrap().is_empty());
}

async fn error_classes_and_numbers_round_trip(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::Integrity, "question");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let mut batch: Vec<_> = ErrorClass::ALL
        .iter()
        .enumerate()
        .map(|(i, &c)| failed(run, "alpha", &it, i as u32, c))
        .collect();
    let mut big = answered(run, "alpha", &it, u32::MAX);
    big.input_tokens = i64::MAX as u64;
    big.output_tokens = u64::from(u32::MAX) + 1;
    big.latency_ms = 0;
    big.tries = u32::MAX;
    big.http_status = Some(u16::MAX);
    big.response_text = Some(String::new());
    big.request_json = "x".repeat(200_000);
    batch.push(big);
    let mut none = answered(run, "beta", &it, 0);
    none.http_status = None;
    none.finish_reason = None;
    none.response_model = None;
    batch.push(none);

    let ids = s.insert_attempts(&batch).await.unwrap();
    for (want, got) in batch.iter().zip(&ids) {
        let row = s.get_attempt(got.id).await.unwrap().unwrap();
        assert_eq!(row.id, got.id);
        assert_eq!(row.run_id, want.run_id);
        assert_eq!(row.model, want.model);
        assert_eq!(row.item_id, want.item_id);
        assert_eq!(row.item_version, want.item_version);
        assert_eq!(row.epoch, want.epoch);
        assert_eq!(row.request_json, want.request_json);
        assert_eq!(row.response_text, want.response_text);
        assert_eq!(row.finish_reason, want.finish_reason);
        assert_eq!(row.response_model, want.response_model);
        assert_eq!(row.input_tokens, want.input_tokens);
        assert_eq!(row.output_tokens, want.output_tokens);
        assert_eq!(row.latency_ms, want.latency_ms);
        assert_eq!(row.tries, want.tries);
        assert_eq!(row.error_class, want.error_class);
        assert_eq!(row.error_message, want.error_message);
        assert_eq!(row.http_status, want.http_status);
        assert_eq!(row.started_at, want.started_at);
        assert_eq!(row.finished_at, want.finished_at);
        assert_eq!(row.answered(), want.error_class.is_none());
    }
    let all = s.attempts_for_run(run).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids.iter().map(|i| i.id).collect::<Vec<_>>()
    );
    let classes: Vec<Option<String>> = s
        .outcomes(run, Some("alpha"))
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.error_class)
        .collect();
    let mut expected: Vec<Option<String>> = ErrorClass::ALL
        .iter()
        .map(|c| Some(c.id().to_string()))
        .collect();
    expected.push(None);
    assert_eq!(classes, expected);
}

async fn out_of_range_numbers_are_rejected_before_writing(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::Judgment, "question");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let mut bad = answered(run, "alpha", &it, 1);
    bad.output_tokens = u64::MAX;
    let err = s
        .insert_attempts(&[answered(run, "alpha", &it, 0), bad])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("output_tokens = 18446744073709551615"),
        "{err}"
    );
    assert!(
        s.attempts_for_run(run).await.unwrap().is_empty(),
        "nothing of the batch was stored"
    );
}

async fn grades_append_and_outcomes_use_the_latest(db: TestDb) {
    let s = &db.store;
    let code = item("c1", Dimension::CodeExecution, "code");
    let ground = item("g1", Dimension::Grounding, "ground");
    s.upsert_items(&[code.clone(), ground.clone()])
        .await
        .unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let ids = s
        .insert_attempts(&[
            answered(run, "alpha", &code, 0),
            answered(run, "alpha", &ground, 0),
            failed(run, "alpha", &ground, 1, ErrorClass::RateLimited),
            answered(run, "beta", &code, 0),
        ])
        .await
        .unwrap();
    let [code_a, ground_a, failed_a] = [ids[0].id, ids[1].id, ids[2].id];

    s.insert_grades(&[grade(code_a, 50.0, "1"), grade(ground_a, 80.0, "1")])
        .await
        .unwrap();
    // Regrade with a newer grader: the old grade stays, the new one counts.
    s.insert_grades(&[grade(code_a, 100.0, "2")]).await.unwrap();
    let grades = s.grades_for_attempt(code_a).await.unwrap();
    assert_eq!(
        grades
            .iter()
            .map(|g| (g.score, g.grader_version.as_str()))
            .collect::<Vec<_>>(),
        vec![(50.0, "1"), (100.0, "2")]
    );
    assert!(grades[0].id < grades[1].id);
    assert_eq!(grades[0].attempt_id, code_a);
    assert_eq!(grades[0].grader_id, "numeric");
    assert_eq!(grades[0].extracted.as_deref(), Some("4"));
    assert_eq!(grades[0].created_at, 1_700_000_002_000);
    assert!(grades[0].checks_json.contains("4 = 4"));
    assert!(s.grades_for_attempt(failed_a).await.unwrap().is_empty());

    let all = s.outcomes(run, None).await.unwrap();
    assert_eq!(all.len(), 4);
    let alpha = s.outcomes(run, Some("alpha")).await.unwrap();
    assert_eq!(alpha.len(), 3);
    let found = |item_id: &str, epoch: u32| {
        alpha
            .iter()
            .find(|o| o.item_id == item_id && o.epoch == epoch)
            .unwrap()
    };
    let c = found("c1", 0);
    assert_eq!(
        (c.score, c.answered, c.dimension),
        (Some(100.0), true, Dimension::CodeExecution)
    );
    assert_eq!((c.input_tokens, c.output_tokens), (120, 30));
    assert_eq!(c.item_version, code.version());
    assert_eq!(found("g1", 0).score, Some(80.0));
    let f = found("g1", 1);
    assert_eq!(
        (f.score, f.answered, f.error_class.as_deref()),
        (None, false, Some("rate_limited"))
    );
    let beta = s.outcomes(run, Some("beta")).await.unwrap();
    assert_eq!(beta.len(), 1);
    assert_eq!(
        (beta[0].score, beta[0].answered),
        (None, true),
        "answered but not graded yet"
    );
    assert_eq!(beta[0].model, "beta");
    assert!(s.outcomes(run, Some("gamma")).await.unwrap().is_empty());

    // The rows feed the index formulas directly.
    let scores = score_run(
        &alpha.iter().map(|o| o.to_outcome()).collect::<Vec<_>>(),
        |_, _| 0.0,
    );
    assert_eq!(scores.dimension(Dimension::CodeExecution), Some(100.0));
    assert_eq!(scores.dimension(Dimension::Grounding), Some(80.0));
    assert_eq!((scores.attempts, scores.answered), (3, 2));
}

async fn attempts_without_grade_lists_answered_ungraded_only(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::Communication, "question");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let ids = s
        .insert_attempts(&[
            answered(run, "alpha", &it, 0),
            answered(run, "alpha", &it, 1),
            failed(run, "alpha", &it, 2, ErrorClass::ServerError),
            answered(run, "beta", &it, 0),
        ])
        .await
        .unwrap();
    s.insert_grades(&[grade(ids[1].id, 10.0, "1")])
        .await
        .unwrap();
    let todo: Vec<i64> = s
        .attempts_without_grade(run)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(todo, vec![ids[0].id, ids[3].id]);
    // Another run's attempts are not this run's work.
    let other = s.create_run(&new_run("smoke")).await.unwrap();
    s.insert_attempts(&[answered(other, "alpha", &it, 0)])
        .await
        .unwrap();
    assert_eq!(s.attempts_without_grade(run).await.unwrap().len(), 2);
    s.insert_grades(&[grade(ids[0].id, 10.0, "1"), grade(ids[3].id, 10.0, "1")])
        .await
        .unwrap();
    assert!(s.attempts_without_grade(run).await.unwrap().is_empty());
}

async fn runs_with_model_is_newest_first(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::CodeExecution, "question");
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    // Runs 1..=7: smoke except 3 and 6; alpha in all but 5, beta only in 2.
    for n in 1..=7 {
        let kind = if n == 3 || n == 6 { "weekly" } else { "smoke" };
        let run = s.create_run(&new_run(kind)).await.unwrap();
        assert_eq!(run, n);
        if n != 5 {
            s.insert_attempts(&[answered(run, "alpha", &it, 0)])
                .await
                .unwrap();
        }
        if n == 2 {
            s.insert_attempts(&[answered(run, "beta", &it, 0)])
                .await
                .unwrap();
        }
    }
    assert_eq!(
        s.runs_with_model("smoke", "alpha", None, 10).await.unwrap(),
        vec![7, 4, 2, 1]
    );
    assert_eq!(
        s.runs_with_model("smoke", "alpha", None, 2).await.unwrap(),
        vec![7, 4]
    );
    assert_eq!(
        s.runs_with_model("smoke", "alpha", Some(7), 10)
            .await
            .unwrap(),
        vec![4, 2, 1]
    );
    assert_eq!(
        s.runs_with_model("smoke", "alpha", Some(2), 10)
            .await
            .unwrap(),
        vec![1]
    );
    assert_eq!(
        s.runs_with_model("weekly", "alpha", None, 10)
            .await
            .unwrap(),
        vec![6, 3]
    );
    assert_eq!(
        s.runs_with_model("smoke", "beta", None, 10).await.unwrap(),
        vec![2]
    );
    assert!(s
        .runs_with_model("smoke", "gamma", None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(s.run_models(5).await.unwrap().is_empty());
}

async fn models_keep_the_latest_spec(db: TestDb) {
    let s = &db.store;
    assert!(s.get_model("alpha").await.unwrap().is_none());
    s.upsert_model("alpha", "openai", r#"{"price_input_per_mtok":1.0}"#)
        .await
        .unwrap();
    s.upsert_model("alpha", "anthropic", r#"{"price_input_per_mtok":2.0}"#)
        .await
        .unwrap();
    s.upsert_model("beta", "local", "{}").await.unwrap();
    let alpha = s.get_model("alpha").await.unwrap().unwrap();
    assert_eq!(
        (alpha.provider.as_str(), alpha.spec_json.as_str()),
        ("anthropic", r#"{"price_input_per_mtok":2.0}"#)
    );
    assert!(alpha.updated_at > 1_600_000_000_000);
    assert_eq!(
        s.get_model("beta").await.unwrap().unwrap().provider,
        "local"
    );
}

async fn foreign_keys_are_enforced(db: TestDb) {
    let s = &db.store;
    let it = item("q1", Dimension::Grounding, "question");
    // Attempt of an item that was never stored.
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let err = s
        .insert_attempts(&[answered(run, "alpha", &it, 0)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Query { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("item version must be stored first"),
        "{err}"
    );
    // Attempt in a run that does not exist.
    s.upsert_items(std::slice::from_ref(&it)).await.unwrap();
    assert!(s
        .insert_attempts(&[answered(run + 1, "alpha", &it, 0)])
        .await
        .is_err());
    // Grade of an attempt that does not exist; the whole batch is rolled back.
    let ids = s
        .insert_attempts(&[answered(run, "alpha", &it, 0)])
        .await
        .unwrap();
    let err = s
        .insert_grades(&[
            grade(ids[0].id, 1.0, "1"),
            grade(ids[0].id + 1000, 1.0, "1"),
        ])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("the attempt must be stored first"),
        "{err}"
    );
    assert!(s.grades_for_attempt(ids[0].id).await.unwrap().is_empty());
}

async fn large_batches_insert(db: TestDb) {
    let s = &db.store;
    let items: Vec<_> = (0..1500)
        .map(|i| item(&format!("gen-{i}"), Dimension::Judgment, &format!("q{i}")))
        .collect();
    s.upsert_items(&items).await.unwrap();
    let run = s.create_run(&new_run("full")).await.unwrap();
    let draw: Vec<_> = items.iter().map(|i| (i.id.clone(), i.version())).collect();
    s.add_run_items(run, &draw).await.unwrap();
    assert_eq!(s.run_items(run).await.unwrap().len(), 1500);
    let attempts: Vec<_> = items.iter().map(|i| answered(run, "alpha", i, 0)).collect();
    let ids = s.insert_attempts(&attempts).await.unwrap();
    assert_eq!(ids.len(), 1500);
    assert_eq!(ids.iter().map(|i| i.id).collect::<HashSet<_>>().len(), 1500);
    let grades: Vec<_> = ids.iter().map(|i| grade(i.id, 75.0, "1")).collect();
    s.insert_grades(&grades).await.unwrap();
    let outcomes = s.outcomes(run, None).await.unwrap();
    assert_eq!(outcomes.len(), 1500);
    assert!(outcomes.iter().all(|o| o.score == Some(75.0)));
    assert_eq!(s.done_keys(run).await.unwrap().len(), 1500);
}

/// The run engine writes attempts and grades from two tasks at once while a
/// dashboard may read: on SQLite that is several connections contending for
/// one write lock, which must wait (busy timeout), never fail.
async fn concurrent_writers_and_readers_do_not_block_each_other_out(db: TestDb) {
    let s = db.store.clone();
    let items: Vec<_> = (0..40)
        .map(|i| item(&format!("c-{i}"), Dimension::Grounding, &format!("q{i}")))
        .collect();
    s.upsert_items(&items).await.unwrap();
    let run = s.create_run(&new_run("smoke")).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<i64>>(64);
    let writer = {
        let s = s.clone();
        let items = items.clone();
        tokio::spawn(async move {
            for model in 0..20 {
                let batch: Vec<_> = items
                    .iter()
                    .map(|i| answered(run, &format!("m{model}"), i, 0))
                    .collect();
                let ids = s.insert_attempts(&batch).await.unwrap();
                tx.send(ids.into_iter().map(|i| i.id).collect())
                    .await
                    .unwrap();
            }
        })
    };
    let grader = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while let Some(ids) = rx.recv().await {
                let grades: Vec<_> = ids.iter().map(|&id| grade(id, 60.0, "1")).collect();
                s.insert_grades(&grades).await.unwrap();
                n += grades.len();
            }
            n
        })
    };
    let reader = {
        let s = s.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                s.outcomes(run, None).await.unwrap();
                s.attempts_without_grade(run).await.unwrap();
            }
        })
    };
    writer.await.unwrap();
    assert_eq!(grader.await.unwrap(), 800);
    reader.await.unwrap();
    assert!(s.attempts_without_grade(run).await.unwrap().is_empty());
    assert_eq!(s.outcomes(run, None).await.unwrap().len(), 800);
}
