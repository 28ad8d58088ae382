//! Reads behind the articles of `yardstick-report`: a kind's recent runs and
//! the outcomes of all of them in one query, so a report over a long history
//! costs two round trips instead of one per run and model.

use crate::error::query_err;
use crate::{read_outcome, read_run, OutcomeRow, Result, RunRow, Store};
use sqlx::Row;

impl Store {
    /// The `limit` newest runs of `kind` numbered `last_run` or lower, newest first.
    pub async fn runs_of_kind_through(
        &self,
        kind: &str,
        last_run: i64,
        limit: i64,
    ) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE kind = $1 AND id <= $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(kind)
        .bind(last_run)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "listing `{kind}` runs up to run #{last_run}"
        )))?;
        rows.iter().map(read_run).collect()
    }

    /// The outcomes (as [`Store::outcomes`]) of every attempt in runs of
    /// `kind` numbered `first_run..=last_run`, each with its run number,
    /// ordered by run, model and insertion.
    pub async fn outcomes_of_runs(
        &self,
        kind: &str,
        first_run: i64,
        last_run: i64,
    ) -> Result<Vec<(i64, OutcomeRow)>> {
        let rows = sqlx::query(
            "SELECT a.run_id, a.model, a.item_id, a.item_version, i.dimension, a.epoch, a.error_class, \
             a.input_tokens, a.output_tokens, \
             (SELECT g.score FROM grades g WHERE g.attempt_id = a.id ORDER BY g.id DESC LIMIT 1) AS score \
             FROM attempts a JOIN runs r ON r.id = a.run_id \
             JOIN items i ON i.item_id = a.item_id AND i.version = a.item_version \
             WHERE r.kind = $1 AND a.run_id >= $2 AND a.run_id <= $3 ORDER BY a.run_id, a.model, a.id",
        )
        .bind(kind)
        .bind(first_run)
        .bind(last_run)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the outcomes of `{kind}` runs #{first_run}–#{last_run}"
        )))?;
        rows.iter()
            .map(|row| {
                let run_id: i64 =
                    row.try_get("run_id")
                        .map_err(|e| crate::StoreError::Corrupt {
                            what: format!("attempts.run_id: {e}"),
                        })?;
                Ok((run_id, read_outcome(row)?))
            })
            .collect()
    }
}
