//! Read queries for browsing stored results (the dashboard and its API): runs
//! of one kind, the current grades of a run or of an item's attempts, every
//! attempt at an item, and a cheap fingerprint of what is stored.

use crate::error::query_err;
use crate::{read_attempt, read_grade, read_run, AttemptRow, GradeRow, Result, RunRow, Store};

/// The highest id of each table that changes what a page shows. Ids only grow,
/// so an unchanged fingerprint means nothing was added since it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DataVersion {
    pub runs: i64,
    /// Counts run status changes too: finishing a run sets `finished_at`.
    pub finished_runs: i64,
    pub attempts: i64,
    pub grades: i64,
    pub verdicts: i64,
    /// A new calibration changes the difficulty-adjusted scores.
    pub calibrations: i64,
}

impl Store {
    /// Runs of `kind`, newest first, at most `limit`.
    pub async fn runs_of_kind(&self, kind: &str, limit: i64) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE kind = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(kind)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!("listing the `{kind}` runs")))?;
        rows.iter().map(read_run).collect()
    }

    /// The current (newest) grade of every graded attempt of a run, in
    /// attempt order: one query instead of one per attempt.
    pub async fn current_grades_for_run(&self, run_id: i64) -> Result<Vec<GradeRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grade_columns!(),
            " FROM grades WHERE id IN (SELECT MAX(g.id) FROM grades g \
             JOIN attempts a ON a.id = g.attempt_id WHERE a.run_id = $1 GROUP BY g.attempt_id) \
             ORDER BY attempt_id"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!("reading the grades of run #{run_id}")))?;
        rows.iter().map(read_grade).collect()
    }

    /// Every attempt at item `item_id` (all versions, all runs), oldest run
    /// first, at most `limit`, each with its current grade.
    pub async fn item_attempts(
        &self,
        item_id: &str,
        limit: i64,
    ) -> Result<Vec<(AttemptRow, Option<GradeRow>)>> {
        let what = || format!("reading the attempts at item `{item_id}`");
        let attempts = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE item_id = $1 ORDER BY run_id, model, epoch LIMIT $2"
        ))
        .bind(item_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(what()))?;
        let grades = sqlx::query(concat!(
            "SELECT ",
            grade_columns!(),
            " FROM grades WHERE id IN (SELECT MAX(g.id) FROM grades g \
             JOIN attempts a ON a.id = g.attempt_id WHERE a.item_id = $1 GROUP BY g.attempt_id)"
        ))
        .bind(item_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(what()))?;
        let mut current = std::collections::HashMap::new();
        for row in &grades {
            let grade = read_grade(row)?;
            current.insert(grade.attempt_id, grade);
        }
        attempts
            .iter()
            .map(|row| {
                let attempt = read_attempt(row)?;
                let grade = current.remove(&attempt.id);
                Ok((attempt, grade))
            })
            .collect()
    }

    /// See [`DataVersion`]: one query over the primary keys.
    pub async fn data_version(&self) -> Result<DataVersion> {
        let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM runs), \
             (SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL), \
             (SELECT COALESCE(MAX(id), 0) FROM attempts), \
             (SELECT COALESCE(MAX(id), 0) FROM grades), \
             (SELECT COALESCE(MAX(id), 0) FROM verdicts), \
             (SELECT COALESCE(MAX(id), 0) FROM calibrations)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(query_err("reading the data version".to_string()))?;
        Ok(DataVersion {
            runs: row.0,
            finished_runs: row.1,
            attempts: row.2,
            grades: row.3,
            verdicts: row.4,
            calibrations: row.5,
        })
    }
}
