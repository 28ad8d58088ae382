//! Verdicts, confirmation retests, webhook alerts and item calibrations
//! (migration 0003).
//!
//! The labels a verdict or a retest decision carries (`likely_degradation`,
//! `confirm`, …) belong to `yardstick-stats`; the store keeps them as text and
//! the schema's CHECK constraints refuse anything else. The life cycles the
//! store itself drives (retest and alert status) are typed here.

use crate::error::query_err;
use crate::{now_ms, Reader, Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use std::fmt;

/// A verdict about to be stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVerdict {
    pub run_id: i64,
    pub model: String,
    /// `main` or a dimension id.
    pub series: String,
    /// `noise`, `watch`, `likely_degradation`, `confirmed_degradation` or `improvement`.
    pub verdict: String,
    /// The numbers that produced the verdict (JSON object).
    pub numbers_json: String,
    /// One plain-language paragraph.
    pub explanation: String,
    /// The detector's state after this run (JSON), for audit.
    pub detector_state_json: String,
    pub created_at: i64,
}

/// A stored verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRow {
    pub id: i64,
    pub run_id: i64,
    /// The kind of the run (`daily`, `weekly`, …): the history it was judged against.
    pub run_kind: String,
    pub model: String,
    pub series: String,
    /// The verdict in force: the detected one, revised once its retest decides.
    pub verdict: String,
    /// What the detectors said when the run was assessed.
    pub detected_verdict: String,
    pub numbers_json: String,
    pub explanation: String,
    pub detector_state_json: String,
    /// The confirmation run this verdict scheduled, if any.
    pub retest_id: Option<i64>,
    /// `confirm`, `clear` or `undecided` once that retest is done.
    pub retest_decision: Option<String>,
    pub created_at: i64,
}

/// Where a retest is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetestStatus {
    /// Scheduled; no run yet.
    Pending,
    /// Its run was created; executing (or interrupted, to be resumed).
    Running,
    /// The SPRT decided (or ran out of observations: `undecided`).
    Done,
}

impl RetestStatus {
    pub fn id(self) -> &'static str {
        match self {
            RetestStatus::Pending => "pending",
            RetestStatus::Running => "running",
            RetestStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<RetestStatus> {
        [
            RetestStatus::Pending,
            RetestStatus::Running,
            RetestStatus::Done,
        ]
        .into_iter()
        .find(|v| v.id() == s)
    }
}

impl fmt::Display for RetestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A confirmation run to schedule for a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRetest {
    pub verdict_id: i64,
    pub model: String,
    /// `main` or a dimension id: what the retest draws from.
    pub series: String,
    /// Items to draw.
    pub items: u32,
    pub epochs: u32,
    pub created_at: i64,
}

/// A verdict as revised by its retest's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisedVerdict {
    pub verdict: String,
    pub numbers_json: String,
    pub explanation: String,
}

/// A stored retest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetestRow {
    pub id: i64,
    pub verdict_id: i64,
    /// The run whose verdict scheduled this retest.
    pub trigger_run_id: i64,
    pub model: String,
    pub series: String,
    pub items: u32,
    pub epochs: u32,
    pub status: RetestStatus,
    /// The `retest`-kind run, once created.
    pub run_id: Option<i64>,
    pub decision: Option<String>,
    /// The SPRT's numbers (JSON), once done.
    pub numbers_json: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Whether a webhook took an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Being delivered (a crash leaves it here).
    Pending,
    /// The webhook answered 2xx.
    Sent,
    /// Every try failed; `last_error` says how.
    Failed,
}

impl AlertStatus {
    pub fn id(self) -> &'static str {
        match self {
            AlertStatus::Pending => "pending",
            AlertStatus::Sent => "sent",
            AlertStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        [AlertStatus::Pending, AlertStatus::Sent, AlertStatus::Failed]
            .into_iter()
            .find(|v| v.id() == s)
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A stored alert delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: i64,
    pub verdict_id: i64,
    /// The webhook, redacted to scheme, host and port.
    pub webhook: String,
    pub payload_json: String,
    pub status: AlertStatus,
    pub tries: u32,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A calibration about to be stored: the history it was fitted on and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCalibration {
    pub run_kind: String,
    pub first_run: i64,
    pub last_run: i64,
    pub runs: u32,
    pub models: u32,
    pub responses: u64,
    /// The fit's settings and summary (JSON).
    pub method_json: String,
    pub created_at: i64,
}

/// A stored calibration; `id` is its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    pub id: i64,
    pub run_kind: String,
    pub first_run: i64,
    pub last_run: i64,
    pub runs: u32,
    pub models: u32,
    pub responses: u64,
    pub method_json: String,
    pub created_at: i64,
}

/// One item version's fitted parameters (JSON, as `yardstick-stats` wrote them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedItem {
    pub item_id: String,
    pub item_version: String,
    pub params_json: String,
}

macro_rules! verdict_columns {
    () => {
        "v.id, v.run_id, r.kind AS run_kind, v.model, v.series, v.verdict, v.detected_verdict, v.numbers_json, v.explanation, \
         v.detector_state_json, v.retest_id, v.retest_decision, v.created_at"
    };
}

macro_rules! retest_columns {
    () => {
        "t.id, t.verdict_id, v.run_id AS trigger_run_id, t.model, t.series, t.items, t.epochs, t.status, \
         t.run_id, t.decision, t.numbers_json, t.created_at, t.finished_at"
    };
}

/// The tables every retest query reads: a retest with its verdict.
macro_rules! retest_tables {
    () => {
        " FROM retests t JOIN verdicts v ON v.id = t.verdict_id"
    };
}

macro_rules! alert_columns {
    () => {
        "id, verdict_id, webhook, payload_json, status, tries, last_error, created_at, updated_at"
    };
}

macro_rules! calibration_columns {
    () => {
        "id, run_kind, first_run, last_run, runs, models, responses, method_json, created_at"
    };
}

impl Store {
    // ---- verdicts ---------------------------------------------------------

    /// Stores a verdict and returns it. A run has one verdict per model and
    /// series: when one is already stored (a run assessed twice), the stored
    /// verdict stays and is returned, with `false`.
    pub async fn insert_verdict(&self, v: &NewVerdict) -> Result<(VerdictRow, bool)> {
        let what = || {
            format!(
                "storing the `{}` verdict of `{}` on series {} in run #{} (the run must be stored first)",
                v.verdict, v.model, v.series, v.run_id
            )
        };
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO verdicts (run_id, model, series, verdict, detected_verdict, numbers_json, explanation, \
             detector_state_json, created_at) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8) \
             ON CONFLICT (run_id, model, series) DO NOTHING RETURNING id",
        )
        .bind(v.run_id)
        .bind(v.model.as_str())
        .bind(v.series.as_str())
        .bind(v.verdict.as_str())
        .bind(v.numbers_json.as_str())
        .bind(v.explanation.as_str())
        .bind(v.detector_state_json.as_str())
        .bind(v.created_at)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(what()))?;
        let row = sqlx::query(concat!(
            "SELECT ",
            verdict_columns!(),
            " FROM verdicts v JOIN runs r ON r.id = v.run_id \
             WHERE v.run_id = $1 AND v.model = $2 AND v.series = $3"
        ))
        .bind(v.run_id)
        .bind(v.model.as_str())
        .bind(v.series.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(query_err(what()))?;
        Ok((read_verdict(&row)?, id.is_some()))
    }

    pub async fn get_verdict(&self, id: i64) -> Result<Option<VerdictRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            verdict_columns!(),
            " FROM verdicts v JOIN runs r ON r.id = v.run_id WHERE v.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!("reading verdict {id}")))?;
        row.as_ref().map(read_verdict).transpose()
    }

    /// The verdicts of one run (all runs when `None`, newest run first), by
    /// model and series, at most `limit`.
    pub async fn list_verdicts(&self, run_id: Option<i64>, limit: i64) -> Result<Vec<VerdictRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            verdict_columns!(),
            " FROM verdicts v JOIN runs r ON r.id = v.run_id WHERE ($1 IS NULL OR v.run_id = $1) \
             ORDER BY v.run_id DESC, v.model, v.series LIMIT $2"
        ))
        .bind(run_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("listing verdicts"))?;
        rows.iter().map(read_verdict).collect()
    }

    /// The newest verdict of `model` on `series` in a run of `run_kind`
    /// numbered below `before`: what a new verdict is compared with to
    /// decide whether it changed.
    pub async fn previous_verdict(
        &self,
        run_kind: &str,
        model: &str,
        series: &str,
        before: i64,
    ) -> Result<Option<VerdictRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            verdict_columns!(),
            " FROM verdicts v JOIN runs r ON r.id = v.run_id \
             WHERE r.kind = $1 AND v.model = $2 AND v.series = $3 AND v.run_id < $4 \
             ORDER BY v.run_id DESC LIMIT 1"
        ))
        .bind(run_kind)
        .bind(model)
        .bind(series)
        .bind(before)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the previous verdict of `{model}` on {series}"
        )))?;
        row.as_ref().map(read_verdict).transpose()
    }

    // ---- retests ----------------------------------------------------------

    /// Schedules a retest and links it to its verdict, in one transaction.
    /// A verdict schedules at most one retest: if it already has one, that
    /// retest is returned and nothing is written.
    pub async fn schedule_retest(&self, r: &NewRetest) -> Result<RetestRow> {
        let what = || {
            format!(
                "scheduling a retest of `{}` on {} for verdict {}",
                r.model, r.series, r.verdict_id
            )
        };
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        let existing: Option<Option<i64>> =
            sqlx::query_scalar("SELECT retest_id FROM verdicts WHERE id = $1")
                .bind(r.verdict_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_err(what()))?;
        let id = match existing {
            None => {
                return Err(StoreError::NotFound {
                    what: format!("verdict {}", r.verdict_id),
                })
            }
            Some(Some(id)) => id,
            Some(None) => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO retests (verdict_id, model, series, items, epochs, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(r.verdict_id)
                .bind(r.model.as_str())
                .bind(r.series.as_str())
                .bind(i64::from(r.items))
                .bind(i64::from(r.epochs))
                .bind(RetestStatus::Pending.id())
                .bind(r.created_at)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(what()))?;
                sqlx::query("UPDATE verdicts SET retest_id = $2 WHERE id = $1")
                    .bind(r.verdict_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(what()))?;
                id
            }
        };
        tx.commit().await.map_err(query_err(what()))?;
        self.get_retest(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("retest {id}"),
            })
    }

    pub async fn get_retest(&self, id: i64) -> Result<Option<RetestRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            retest_columns!(),
            retest_tables!(),
            " WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!("reading retest {id}")))?;
        row.as_ref().map(read_retest).transpose()
    }

    /// Retests not done yet — pending ones and running ones an interrupted
    /// `yardstick retest` left behind — oldest first.
    pub async fn open_retests(&self) -> Result<Vec<RetestRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            retest_columns!(),
            retest_tables!(),
            " WHERE t.status <> $1 ORDER BY t.id"
        ))
        .bind(RetestStatus::Done.id())
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("listing the open retests"))?;
        rows.iter().map(read_retest).collect()
    }

    /// The `limit` newest retests, newest first.
    pub async fn list_retests(&self, limit: i64) -> Result<Vec<RetestRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            retest_columns!(),
            retest_tables!(),
            " ORDER BY t.id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("listing retests"))?;
        rows.iter().map(read_retest).collect()
    }

    /// Marks a pending retest running with its run. Returns `false` (and
    /// changes nothing) when it is no longer pending — another process took
    /// it first.
    pub async fn start_retest(&self, id: i64, run_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE retests SET status = $2, run_id = $3 WHERE id = $1 AND status = $4",
        )
        .bind(id)
        .bind(RetestStatus::Running.id())
        .bind(run_id)
        .bind(RetestStatus::Pending.id())
        .execute(&self.pool)
        .await
        .map_err(query_err(format!(
            "marking retest {id} running with run #{run_id} (the run must be stored first)"
        )))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a running retest's decision on the retest, and on the verdict
    /// that scheduled it its decision and `revised` verdict, in one
    /// transaction. Fails with `NotFound` unless the retest is running.
    pub async fn finish_retest(
        &self,
        id: i64,
        decision: &str,
        numbers_json: &str,
        revised: &RevisedVerdict,
        finished_at: i64,
    ) -> Result<RetestRow> {
        let what = || format!("recording the `{decision}` decision of retest {id}");
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        let verdict_id: Option<i64> = sqlx::query_scalar(
            "UPDATE retests SET status = $2, decision = $3, numbers_json = $4, finished_at = $5 \
             WHERE id = $1 AND status = $6 RETURNING verdict_id",
        )
        .bind(id)
        .bind(RetestStatus::Done.id())
        .bind(decision)
        .bind(numbers_json)
        .bind(finished_at)
        .bind(RetestStatus::Running.id())
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_err(what()))?;
        let Some(verdict_id) = verdict_id else {
            return Err(StoreError::NotFound {
                what: format!("running retest {id}"),
            });
        };
        sqlx::query(
            "UPDATE verdicts SET retest_decision = $2, verdict = $3, numbers_json = $4, explanation = $5 \
             WHERE id = $1",
        )
        .bind(verdict_id)
        .bind(decision)
        .bind(revised.verdict.as_str())
        .bind(revised.numbers_json.as_str())
        .bind(revised.explanation.as_str())
        .execute(&mut *tx)
        .await
        .map_err(query_err(what()))?;
        tx.commit().await.map_err(query_err(what()))?;
        self.get_retest(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("retest {id}"),
            })
    }

    /// The newest finished retest of `model` on `series` triggered by a run
    /// of `run_kind` numbered `up_to` or below: the confirmation a later
    /// verdict on that series takes into account.
    pub async fn latest_finished_retest(
        &self,
        run_kind: &str,
        model: &str,
        series: &str,
        up_to: i64,
    ) -> Result<Option<RetestRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            retest_columns!(),
            retest_tables!(),
            " JOIN runs r ON r.id = v.run_id WHERE r.kind = $1 AND t.model = $2 AND t.series = $3 \
             AND v.run_id <= $4 AND t.status = $5 ORDER BY v.run_id DESC, t.id DESC LIMIT 1"
        ))
        .bind(run_kind)
        .bind(model)
        .bind(series)
        .bind(up_to)
        .bind(RetestStatus::Done.id())
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the latest retest of `{model}` on {series}"
        )))?;
        row.as_ref().map(read_retest).transpose()
    }

    // ---- alerts -----------------------------------------------------------

    /// Records an alert as pending before it is sent, so a crash mid-delivery
    /// leaves a trace.
    pub async fn insert_alert(
        &self,
        verdict_id: i64,
        webhook: &str,
        payload_json: &str,
    ) -> Result<i64> {
        let now = now_ms();
        sqlx::query_scalar(
            "INSERT INTO alerts (verdict_id, webhook, payload_json, status, tries, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id",
        )
        .bind(verdict_id)
        .bind(webhook)
        .bind(payload_json)
        .bind(AlertStatus::Pending.id())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(query_err(format!(
            "storing an alert of verdict {verdict_id} for {webhook} (the verdict must be stored first)"
        )))
    }

    /// Records how a delivery ended.
    pub async fn finish_alert(
        &self,
        id: i64,
        status: AlertStatus,
        tries: u32,
        last_error: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE alerts SET status = $2, tries = $3, last_error = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status.id())
        .bind(i64::from(tries))
        .bind(last_error)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(query_err(format!("marking alert {id} {status}")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("alert {id}"),
            });
        }
        Ok(())
    }

    pub async fn get_alert(&self, id: i64) -> Result<Option<AlertRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!("reading alert {id}")))?;
        row.as_ref().map(read_alert).transpose()
    }

    /// The `limit` newest alerts (of one status, if given), newest first.
    pub async fn list_alerts(
        &self,
        status: Option<AlertStatus>,
        limit: i64,
    ) -> Result<Vec<AlertRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(status.map(AlertStatus::id))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("listing alerts"))?;
        rows.iter().map(read_alert).collect()
    }

    // ---- calibrations -----------------------------------------------------

    /// Stores a calibration and its items in one transaction and returns its
    /// version. Every item version must be stored.
    pub async fn insert_calibration(
        &self,
        c: &NewCalibration,
        items: &[CalibratedItem],
    ) -> Result<i64> {
        let what = || {
            format!(
                "storing a calibration of {} items fitted on `{}` runs #{}–#{}",
                items.len(),
                c.run_kind,
                c.first_run,
                c.last_run
            )
        };
        let responses = crate::to_i64(c.responses, "responses")?;
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO calibrations (run_kind, first_run, last_run, runs, models, responses, method_json, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(c.run_kind.as_str())
        .bind(c.first_run)
        .bind(c.last_run)
        .bind(i64::from(c.runs))
        .bind(i64::from(c.models))
        .bind(responses)
        .bind(c.method_json.as_str())
        .bind(c.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err(what()))?;
        for chunk in items.chunks(crate::ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO calibration_items (calibration_id, item_id, item_version, params_json) VALUES {}",
                crate::bind_tuples(chunk.len(), 4)
            );
            // Safe: the SQL is a fixed template; only the number of bound tuples varies.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for item in chunk {
                query = query
                    .bind(id)
                    .bind(item.item_id.as_str())
                    .bind(item.item_version.as_str())
                    .bind(item.params_json.as_str());
            }
            query.execute(&mut *tx).await.map_err(query_err(what()))?;
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(id)
    }

    /// The newest calibration fitted on runs of `run_kind`, with its items.
    pub async fn latest_calibration(
        &self,
        run_kind: &str,
    ) -> Result<Option<(CalibrationRow, Vec<CalibratedItem>)>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            calibration_columns!(),
            " FROM calibrations WHERE run_kind = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(run_kind)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the latest calibration of `{run_kind}` runs"
        )))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let calibration = read_calibration(&row)?;
        let rows = sqlx::query(
            "SELECT item_id, item_version, params_json FROM calibration_items \
             WHERE calibration_id = $1 ORDER BY item_id, item_version",
        )
        .bind(calibration.id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the items of calibration {}",
            calibration.id
        )))?;
        let items = rows
            .iter()
            .map(|row| {
                let r = Reader::new(row, "calibration_items");
                Ok(CalibratedItem {
                    item_id: r.get("item_id")?,
                    item_version: r.get("item_version")?,
                    params_json: r.get("params_json")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some((calibration, items)))
    }
}

fn read_verdict(row: &AnyRow) -> Result<VerdictRow> {
    let r = Reader::new(row, "verdicts");
    Ok(VerdictRow {
        id: r.get("id")?,
        run_id: r.get("run_id")?,
        run_kind: r.get("run_kind")?,
        model: r.get("model")?,
        series: r.get("series")?,
        verdict: r.get("verdict")?,
        detected_verdict: r.get("detected_verdict")?,
        numbers_json: r.get("numbers_json")?,
        explanation: r.get("explanation")?,
        detector_state_json: r.get("detector_state_json")?,
        retest_id: r.get("retest_id")?,
        retest_decision: r.get("retest_decision")?,
        created_at: r.get("created_at")?,
    })
}

fn read_retest(row: &AnyRow) -> Result<RetestRow> {
    let r = Reader::new(row, "retests");
    let status: String = r.get("status")?;
    Ok(RetestRow {
        id: r.get("id")?,
        verdict_id: r.get("verdict_id")?,
        trigger_run_id: r.get("trigger_run_id")?,
        model: r.get("model")?,
        series: r.get("series")?,
        items: r.u32("items")?,
        epochs: r.u32("epochs")?,
        status: RetestStatus::parse(&status)
            .ok_or_else(|| r.corrupt("status", format_args!("unknown status `{status}`")))?,
        run_id: r.get("run_id")?,
        decision: r.get("decision")?,
        numbers_json: r.get("numbers_json")?,
        created_at: r.get("created_at")?,
        finished_at: r.get("finished_at")?,
    })
}

fn read_alert(row: &AnyRow) -> Result<AlertRow> {
    let r = Reader::new(row, "alerts");
    let status: String = r.get("status")?;
    Ok(AlertRow {
        id: r.get("id")?,
        verdict_id: r.get("verdict_id")?,
        webhook: r.get("webhook")?,
        payload_json: r.get("payload_json")?,
        status: AlertStatus::parse(&status)
            .ok_or_else(|| r.corrupt("status", format_args!("unknown status `{status}`")))?,
        tries: r.u32("tries")?,
        last_error: r.get("last_error")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

fn read_calibration(row: &AnyRow) -> Result<CalibrationRow> {
    let r = Reader::new(row, "calibrations");
    Ok(CalibrationRow {
        id: r.get("id")?,
        run_kind: r.get("run_kind")?,
        first_run: r.get("first_run")?,
        last_run: r.get("last_run")?,
        runs: r.u32("runs")?,
        models: r.u32("models")?,
        responses: r.u64("responses")?,
        method_json: r.get("method_json")?,
        created_at: r.get("created_at")?,
    })
}
