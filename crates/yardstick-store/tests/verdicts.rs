//! Verdicts, retests, alerts and calibrations (migration 0003), each test run
//! on SQLite and on PostgreSQL.

mod common;

use common::{item, new_run, TestDb};
use yardstick_core::Dimension;
use yardstick_store::{
    AlertStatus, CalibratedItem, NewCalibration, NewRetest, NewVerdict, RetestStatus,
    RevisedVerdict, StoreError,
};

on_both_backends!(
    verdicts_are_one_per_run_model_and_series,
    previous_verdict_looks_back_within_the_kind,
    unknown_verdict_labels_are_refused,
    retests_go_pending_running_done_and_mark_their_verdict,
    a_retest_is_taken_once,
    alerts_record_how_delivery_ended,
    calibrations_are_versioned_with_their_history_range,
);

fn verdict(run_id: i64, model: &str, series: &str, label: &str) -> NewVerdict {
    NewVerdict {
        run_id,
        model: model.into(),
        series: series.into(),
        verdict: label.into(),
        numbers_json: r#"{"z":-2.5,"cusum_lower":3.1}"#.into(),
        explanation: format!("{model} on {series}: {label} — ünïcode kept"),
        detector_state_json: r#"{"upper":0.0,"lower":3.1}"#.into(),
        created_at: 1_700_000_000_000 + run_id,
    }
}

async fn verdicts_are_one_per_run_model_and_series(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("daily")).await.unwrap();
    let (first, inserted) = s
        .insert_verdict(&verdict(run, "alpha", "main", "watch"))
        .await
        .unwrap();
    assert!(inserted);
    assert_eq!(first.run_kind, "daily");
    assert_eq!(first.verdict, "watch");
    assert_eq!(first.detected_verdict, "watch");
    assert_eq!(first.explanation, "alpha on main: watch — ünïcode kept");
    assert_eq!(first.retest_id, None);
    // Assessing the run again keeps the stored verdict.
    let (again, inserted) = s
        .insert_verdict(&verdict(run, "alpha", "main", "noise"))
        .await
        .unwrap();
    assert!(!inserted);
    assert_eq!(again, first);
    s.insert_verdict(&verdict(run, "alpha", "grounding", "noise"))
        .await
        .unwrap();
    s.insert_verdict(&verdict(run, "beta", "main", "improvement"))
        .await
        .unwrap();
    let listed: Vec<(String, String)> = s
        .list_verdicts(Some(run), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.model, v.series))
        .collect();
    assert_eq!(
        listed,
        [("alpha", "grounding"), ("alpha", "main"), ("beta", "main")]
            .map(|(m, s)| (m.to_string(), s.to_string()))
    );
    assert_eq!(s.get_verdict(first.id).await.unwrap().unwrap(), first);
    assert!(s.get_verdict(9999).await.unwrap().is_none());
    // A verdict needs its run.
    s.insert_verdict(&verdict(77, "alpha", "main", "noise"))
        .await
        .unwrap_err();
}

async fn previous_verdict_looks_back_within_the_kind(db: TestDb) {
    let s = &db.store;
    let d1 = s.create_run(&new_run("daily")).await.unwrap();
    let w = s.create_run(&new_run("weekly")).await.unwrap();
    let d2 = s.create_run(&new_run("daily")).await.unwrap();
    s.insert_verdict(&verdict(d1, "alpha", "main", "noise"))
        .await
        .unwrap();
    s.insert_verdict(&verdict(w, "alpha", "main", "watch"))
        .await
        .unwrap();
    s.insert_verdict(&verdict(d2, "alpha", "main", "likely_degradation"))
        .await
        .unwrap();
    let prev = s
        .previous_verdict("daily", "alpha", "main", d2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((prev.run_id, prev.verdict.as_str()), (d1, "noise"));
    assert!(s
        .previous_verdict("daily", "alpha", "main", d1)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .previous_verdict("daily", "alpha", "grounding", d2 + 1)
        .await
        .unwrap()
        .is_none());
    let all = s.list_verdicts(None, 2).await.unwrap();
    assert_eq!(
        all.iter().map(|v| v.run_id).collect::<Vec<_>>(),
        vec![d2, w]
    );
}

async fn unknown_verdict_labels_are_refused(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("daily")).await.unwrap();
    let err = s
        .insert_verdict(&verdict(run, "alpha", "main", "meh"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("storing the `meh` verdict of `alpha` on series main in run #1"),
        "{err}"
    );
    assert!(s.list_verdicts(None, 10).await.unwrap().is_empty());
}

async fn retests_go_pending_running_done_and_mark_their_verdict(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("daily")).await.unwrap();
    let (v, _) = s
        .insert_verdict(&verdict(
            run,
            "alpha",
            "code_execution",
            "likely_degradation",
        ))
        .await
        .unwrap();
    let new = NewRetest {
        verdict_id: v.id,
        model: "alpha".into(),
        series: "code_execution".into(),
        items: 30,
        epochs: 3,
        created_at: 1_700_000_000_500,
    };
    let retest = s.schedule_retest(&new).await.unwrap();
    assert_eq!(retest.status, RetestStatus::Pending);
    assert_eq!((retest.items, retest.epochs), (30, 3));
    assert_eq!(retest.run_id, None);
    // Scheduling again for the same verdict returns the same retest.
    assert_eq!(s.schedule_retest(&new).await.unwrap(), retest);
    assert_eq!(
        s.get_verdict(v.id).await.unwrap().unwrap().retest_id,
        Some(retest.id)
    );
    assert_eq!(s.open_retests().await.unwrap(), vec![retest.clone()]);

    // Finishing a retest that is not running is refused.
    let revised = RevisedVerdict {
        verdict: "confirmed_degradation".into(),
        numbers_json: r#"{"z":-2.5,"sprt":{"llr":3.2}}"#.into(),
        explanation: "confirmed by retest".into(),
    };
    assert!(s
        .latest_finished_retest("daily", "alpha", "code_execution", run)
        .await
        .unwrap()
        .is_none());
    let err = s
        .finish_retest(retest.id, "confirm", "{}", &revised, 5)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

    let retest_run = s.create_run(&new_run("retest")).await.unwrap();
    assert!(s.start_retest(retest.id, retest_run).await.unwrap());
    let running = s.open_retests().await.unwrap();
    assert_eq!(running.len(), 1, "a running retest is still open");
    assert_eq!(running[0].status, RetestStatus::Running);
    assert_eq!(running[0].run_id, Some(retest_run));

    // An unknown decision is refused and changes nothing.
    s.finish_retest(retest.id, "maybe", "{}", &revised, 5)
        .await
        .unwrap_err();
    assert_eq!(
        s.get_retest(retest.id).await.unwrap().unwrap().status,
        RetestStatus::Running
    );
    let done = s
        .finish_retest(
            retest.id,
            "confirm",
            r#"{"llr":3.2}"#,
            &revised,
            1_700_000_009_000,
        )
        .await
        .unwrap();
    assert_eq!(done.status, RetestStatus::Done);
    assert_eq!(done.decision.as_deref(), Some("confirm"));
    assert_eq!(done.numbers_json.as_deref(), Some(r#"{"llr":3.2}"#));
    assert_eq!(done.finished_at, Some(1_700_000_009_000));
    assert_eq!(done.trigger_run_id, run);
    let v = s.get_verdict(v.id).await.unwrap().unwrap();
    assert_eq!(v.retest_decision.as_deref(), Some("confirm"));
    assert_eq!(v.verdict, "confirmed_degradation");
    assert_eq!(v.detected_verdict, "likely_degradation");
    assert_eq!(v.explanation, "confirmed by retest");
    assert_eq!(
        s.latest_finished_retest("daily", "alpha", "code_execution", run)
            .await
            .unwrap()
            .unwrap(),
        done
    );
    assert!(s
        .latest_finished_retest("weekly", "alpha", "code_execution", run)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .latest_finished_retest("daily", "alpha", "code_execution", run - 1)
        .await
        .unwrap()
        .is_none());
    assert!(s.open_retests().await.unwrap().is_empty());
    assert_eq!(s.list_retests(10).await.unwrap(), vec![done]);

    let err = s
        .schedule_retest(&NewRetest {
            verdict_id: 999,
            ..new
        })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "verdict 999 not found");
}

async fn a_retest_is_taken_once(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("daily")).await.unwrap();
    let (v, _) = s
        .insert_verdict(&verdict(run, "alpha", "main", "watch"))
        .await
        .unwrap();
    let retest = s
        .schedule_retest(&NewRetest {
            verdict_id: v.id,
            model: "alpha".into(),
            series: "main".into(),
            items: 30,
            epochs: 3,
            created_at: 0,
        })
        .await
        .unwrap();
    let a = s.create_run(&new_run("retest")).await.unwrap();
    let b = s.create_run(&new_run("retest")).await.unwrap();
    assert!(s.start_retest(retest.id, a).await.unwrap());
    assert!(
        !s.start_retest(retest.id, b).await.unwrap(),
        "already taken"
    );
    assert_eq!(
        s.get_retest(retest.id).await.unwrap().unwrap().run_id,
        Some(a)
    );
}

async fn alerts_record_how_delivery_ended(db: TestDb) {
    let s = &db.store;
    let run = s.create_run(&new_run("daily")).await.unwrap();
    let (v, _) = s
        .insert_verdict(&verdict(run, "alpha", "main", "likely_degradation"))
        .await
        .unwrap();
    let sent = s
        .insert_alert(v.id, "http://127.0.0.1:9", r#"{"text":"alpha"}"#)
        .await
        .unwrap();
    let failed = s
        .insert_alert(v.id, "http://127.0.0.1:10", r#"{"text":"alpha"}"#)
        .await
        .unwrap();
    let pending = s.list_alerts(None, 10).await.unwrap();
    assert!(pending
        .iter()
        .all(|a| a.status == AlertStatus::Pending && a.tries == 0));
    s.finish_alert(sent, AlertStatus::Sent, 2, Some("HTTP 500 (then sent)"))
        .await
        .unwrap();
    s.finish_alert(failed, AlertStatus::Failed, 4, Some("HTTP 404: no route"))
        .await
        .unwrap();
    let all = s.list_alerts(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![failed, sent]
    );
    let only_failed = s.list_alerts(Some(AlertStatus::Failed), 10).await.unwrap();
    assert_eq!(only_failed.len(), 1);
    assert_eq!(only_failed[0].tries, 4);
    assert_eq!(
        only_failed[0].last_error.as_deref(),
        Some("HTTP 404: no route")
    );
    assert_eq!(only_failed[0].payload_json, r#"{"text":"alpha"}"#);
    assert_eq!(s.get_alert(sent).await.unwrap().unwrap().status, AlertStatus::Sent);
    assert!(s.get_alert(999).await.unwrap().is_none());
    let err = s
        .finish_alert(999, AlertStatus::Sent, 1, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "alert 999 not found");
    s.insert_alert(12345, "http://x", "{}").await.unwrap_err();
}

async fn calibrations_are_versioned_with_their_history_range(db: TestDb) {
    let s = &db.store;
    assert!(s.latest_calibration("daily").await.unwrap().is_none());
    let items: Vec<_> = (0..450)
        .map(|i| {
            item(
                &format!("it-{i:03}"),
                Dimension::CodeExecution,
                &format!("q{i}"),
            )
        })
        .collect();
    s.upsert_items(&items).await.unwrap();
    let first = s.create_run(&new_run("daily")).await.unwrap();
    let last = s.create_run(&new_run("daily")).await.unwrap();
    let calibration = |runs| NewCalibration {
        run_kind: "daily".into(),
        first_run: first,
        last_run: last,
        runs,
        models: 3,
        responses: 5_000_000_000, // above u32: stored as a 64-bit integer
        method_json: r#"{"prior_sd":1.5}"#.into(),
        created_at: 1_700_000_000_000,
    };
    let params: Vec<CalibratedItem> = items
        .iter()
        .map(|i| CalibratedItem {
            item_id: i.id.clone(),
            item_version: i.version(),
            params_json: format!(r#"{{"difficulty":{}}}"#, i.id.len()),
        })
        .collect();
    let v1 = s
        .insert_calibration(&calibration(2), &params)
        .await
        .unwrap();
    let v2 = s
        .insert_calibration(&calibration(3), &params[..10])
        .await
        .unwrap();
    assert!(v2 > v1, "versions grow");
    let (row, got) = s.latest_calibration("daily").await.unwrap().unwrap();
    assert_eq!(row.id, v2);
    assert_eq!((row.first_run, row.last_run, row.runs), (first, last, 3));
    assert_eq!(row.responses, 5_000_000_000);
    assert_eq!(got, params[..10].to_vec());
    assert!(s.latest_calibration("weekly").await.unwrap().is_none());
    // An unstored item version fails the whole calibration: nothing is kept.
    let mut bad = params[..2].to_vec();
    bad[1].item_version = "nope".into();
    s.insert_calibration(&calibration(4), &bad)
        .await
        .unwrap_err();
    assert_eq!(
        s.latest_calibration("daily").await.unwrap().unwrap().0.id,
        v2
    );
}
