//! Storage: sqlx over SQLite (default) and PostgreSQL, migrations per backend.
//!
//! One set of queries serves both databases through sqlx's `Any` driver: `$n`
//! bind parameters, integers for timestamps (unix milliseconds), TEXT for JSON,
//! and only column types the `Any` driver maps (INTEGER/BIGINT, REAL/DOUBLE
//! PRECISION, TEXT). Each backend has its own migrations folder, embedded in
//! the binary and applied by [`Store::open`].
//!
//! Invariants the rest of yardstick relies on:
//! - attempts are immutable: inserted once, never updated; a second insert of
//!   the same (run, model, item version, epoch) returns the stored row's id;
//! - grades only accumulate: a regrade appends, the newest grade counts;
//! - items are stored per content version and never changed, so an attempt
//!   always points at the exact text that was asked;
//! - run numbers come from one global counter and are never reused.
//!
//! Writes of many rows ([`Store::upsert_items`], [`Store::insert_attempts`],
//! [`Store::insert_grades`]) run in one transaction per call, with prepared
//! statements cached per connection; callers batch (a few hundred rows) from a
//! single writer task.

mod error;
mod history;
mod judge;
mod open;
mod types;
mod verdicts;

pub use browse::DataVersion;
pub use error::StoreError;
pub use judge::{JudgedGrade, JudgementRow, NewJudgement, PanelScoreRow, RunJudge};
pub use types::{
    AttemptRow, Backend, GradeRow, Inserted, ModelRow, NewAttempt, NewGrade, NewRun, OutcomeRow,
    RunItem, RunRow, RunStatus,
};
pub use verdicts::{
    AlertRow, AlertStatus, CalibratedItem, CalibrationRow, NewCalibration, NewRetest, NewVerdict,
    RetestRow, RetestStatus, RevisedVerdict, VerdictRow,
};

use error::query_err;
use sqlx::any::AnyRow;
use sqlx::AnyPool;
use sqlx::{Any, Decode, Row, Type};
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};
use yardstick_core::{Dimension, ErrorClass, Item};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database. Cloning is cheap (it shares the pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where the store lives, without credentials, for messages.
    target: String,
}

/// The attempt columns in [`AttemptRow`] order, shared by every query that
/// returns whole attempts.
macro_rules! attempt_columns {
    () => {
        "id, run_id, model, item_id, item_version, epoch, request_json, response_text, finish_reason, \
         response_model, input_tokens, output_tokens, latency_ms, tries, error_class, error_message, \
         http_status, started_at, finished_at"
    };
}

macro_rules! run_columns {
    () => {
        "id, kind, seed, label, epochs, models_json, config_json, status, created_at, finished_at"
    };
}

macro_rules! grade_columns {
    () => {
        "id, attempt_id, grader_id, grader_version, score, checks_json, extracted, created_at"
    };
}

// After the column macros, which it uses.
mod browse;
mod report;

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`:
    /// `sqlite://path`, `sqlite:path`, a plain file path (SQLite),
    /// `sqlite::memory:`, or `postgres://…` / `postgresql://…`.
    ///
    /// SQLite files are created if missing (the directory must exist) and run
    /// with WAL, `synchronous = NORMAL`, a 10 s busy timeout and foreign keys
    /// on. Opening an up-to-date database again is a no-op migration.
    pub async fn open(url: &str) -> Result<Store> {
        let target = open::parse_target(url)?;
        let (pool, backend, target) = open::connect(target).await?;
        Ok(Store {
            pool,
            backend,
            target,
        })
    }

    /// Like [`Store::open`], but a SQLite file that does not exist is an
    /// error instead of a new empty database: commands that only read
    /// (`board`, `show`, `resume`, …) must not leave empty files behind.
    pub async fn open_existing(url: &str) -> Result<Store> {
        if let open::Target::Sqlite {
            path: Some(path), ..
        } = open::parse_target(url)?
        {
            if !path.exists() {
                return Err(StoreError::NoDatabase { path });
            }
        }
        Store::open(url).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the store lives (file path, or `host:port, database NAME`), safe
    /// to show: it never contains a password.
    pub fn location(&self) -> &str {
        &self.target
    }

    /// Closes every connection; later calls fail. Dropping the store also
    /// closes them, lazily.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- models -----------------------------------------------------------

    /// Records the configuration a model ran with; the latest call wins, so
    /// reports show current prices and parameters.
    pub async fn upsert_model(&self, name: &str, provider: &str, spec_json: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO models (name, provider, spec_json, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, spec_json = excluded.spec_json, \
             updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(provider)
        .bind(spec_json)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(query_err(format!("storing model `{name}`")))?;
        Ok(())
    }

    pub async fn get_model(&self, name: &str) -> Result<Option<ModelRow>> {
        let row =
            sqlx::query("SELECT name, provider, spec_json, updated_at FROM models WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_err(format!("reading model `{name}`")))?;
        row.map(|row| {
            let r = Reader::new(&row, "models");
            Ok(ModelRow {
                name: r.get("name")?,
                provider: r.get("provider")?,
                spec_json: r.get("spec_json")?,
                updated_at: r.get("updated_at")?,
            })
        })
        .transpose()
    }

    // ---- items ------------------------------------------------------------

    /// Stores each item under (id, content hash) unless that version is
    /// already stored; an existing version is never rewritten, so its
    /// `first_seen` stays the first time it was seen. One transaction.
    pub async fn upsert_items(&self, items: &[Item]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let rows = items
            .iter()
            .map(|item| {
                let json = serde_json::to_string(item).map_err(|e| StoreError::Invalid {
                    what: format!("item `{}`: it does not serialize to JSON ({e})", item.id),
                })?;
                Ok((item.version(), json))
            })
            .collect::<Result<Vec<_>>>()?;
        let first_seen = now_ms();
        let what = || format!("storing {} items", items.len());
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        // Multi-row statements: one round trip per chunk instead of per item.
        for (chunk_items, chunk_rows) in items
            .chunks(ROWS_PER_STATEMENT)
            .zip(rows.chunks(ROWS_PER_STATEMENT))
        {
            let sql = format!(
                "INSERT INTO items (item_id, version, dimension, content_json, first_seen) VALUES {} \
                 ON CONFLICT (item_id, version) DO NOTHING",
                bind_tuples(chunk_items.len(), 5)
            );
            // Safe: the SQL is a fixed template; only the number of bound tuples varies.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (item, (version, json)) in chunk_items.iter().zip(chunk_rows) {
                query = query
                    .bind(item.id.as_str())
                    .bind(version.as_str())
                    .bind(item.dimension.id())
                    .bind(json.as_str())
                    .bind(first_seen);
            }
            query.execute(&mut *tx).await.map_err(query_err(what()))?;
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(())
    }

    /// The item exactly as stored for that version.
    pub async fn get_item(&self, item_id: &str, version: &str) -> Result<Option<Item>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT content_json FROM items WHERE item_id = $1 AND version = $2",
        )
        .bind(item_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading item `{item_id}` version {version}"
        )))?;
        json.map(|json| {
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                what: format!("item `{item_id}` version {version}: stored JSON does not read as an item ({e})"),
            })
        })
        .transpose()
    }

    /// Every stored version of an item with the time it was first stored,
    /// oldest first.
    pub async fn item_history(&self, item_id: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT version, first_seen FROM items WHERE item_id = $1 ORDER BY first_seen, version",
        )
        .bind(item_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the versions of item `{item_id}`"
        )))?;
        rows.iter()
            .map(|row| {
                let r = Reader::new(row, "items");
                Ok((r.get("version")?, r.get("first_seen")?))
            })
            .collect()
    }

    // ---- runs -------------------------------------------------------------

    /// Creates a run in state `running` and returns its number ("Run #N").
    pub async fn create_run(&self, run: &NewRun) -> Result<i64> {
        let models_json = serde_json::to_string(&run.models).map_err(|e| StoreError::Invalid {
            what: format!("the run's model list ({e})"),
        })?;
        sqlx::query_scalar(
            "INSERT INTO runs (kind, seed, label, epochs, models_json, config_json, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(run.kind.as_str())
        .bind(run.seed as i64) // bit-cast, see NewRun::seed
        .bind(run.label.as_str())
        .bind(i64::from(run.epochs))
        .bind(models_json)
        .bind(run.config_json.as_str())
        .bind(RunStatus::Running.id())
        .bind(run.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(query_err(format!("creating a `{}` run", run.kind)))
    }

    pub async fn get_run(&self, id: i64) -> Result<Option<RunRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!("reading run #{id}")))?;
        row.as_ref().map(read_run).transpose()
    }

    /// The `limit` newest runs, newest first.
    pub async fn list_runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("listing runs"))?;
        rows.iter().map(read_run).collect()
    }

    /// Sets a run's status and finish time. Fails with `NotFound` for an
    /// unknown run rather than doing nothing, so a wrong id is noticed.
    pub async fn finish_run(&self, id: i64, status: RunStatus, finished_at: i64) -> Result<()> {
        let done = sqlx::query("UPDATE runs SET status = $2, finished_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status.id())
            .bind(finished_at)
            .execute(&self.pool)
            .await
            .map_err(query_err(format!("marking run #{id} {status}")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("run #{id}"),
            });
        }
        Ok(())
    }

    /// Stores a run's draw; an item's position is its index in `items`. The
    /// run and every item version must already be stored, and a draw is
    /// stored once per run (a second call fails on the first position).
    pub async fn add_run_items(&self, run_id: i64, items: &[(String, String)]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let what = || {
            format!(
                "storing the draw of run #{run_id} ({} items; the run and every item version must be stored \
                 first, and a run's draw is stored only once)",
                items.len()
            )
        };
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        for (chunk_index, chunk) in items.chunks(ROWS_PER_STATEMENT).enumerate() {
            let sql = format!(
                "INSERT INTO run_items (run_id, position, item_id, version) VALUES {}",
                bind_tuples(chunk.len(), 4)
            );
            // Safe: the SQL is a fixed template; only the number of bound tuples varies.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (offset, (item_id, version)) in chunk.iter().enumerate() {
                let position = (chunk_index * ROWS_PER_STATEMENT + offset) as i64;
                query = query
                    .bind(run_id)
                    .bind(position)
                    .bind(item_id.as_str())
                    .bind(version.as_str());
            }
            if let Err(source) = query.execute(&mut *tx).await {
                drop(tx); // rolls back: a draw is stored whole or not at all
                let what = match self.first_missing_item(chunk).await? {
                    Some((item_id, version)) => {
                        format!(
                            "{} — item `{item_id}` version {version} is not stored",
                            what()
                        )
                    }
                    None => what(),
                };
                return Err(StoreError::Query { what, source });
            }
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(())
    }

    /// The first of `keys` (item id, version) with no stored item, to name it in an error.
    async fn first_missing_item<'a>(
        &self,
        keys: &'a [(String, String)],
    ) -> Result<Option<&'a (String, String)>> {
        for key in keys {
            if self.get_item(&key.0, &key.1).await?.is_none() {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    /// A run's drawn items with their stored content, in draw order, keyed by
    /// the version stored with the draw (one query, however large the draw).
    pub async fn drawn_items(&self, run_id: i64) -> Result<Vec<(String, Item)>> {
        let rows = sqlx::query(
            "SELECT ri.item_id, ri.version, i.content_json FROM run_items ri \
             JOIN items i ON i.item_id = ri.item_id AND i.version = ri.version \
             WHERE ri.run_id = $1 ORDER BY ri.position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the drawn items of run #{run_id}"
        )))?;
        rows.iter()
            .map(|row| {
                let item_id: String = row.try_get(0).map_err(query_err("reading a drawn item"))?;
                let version: String = row.try_get(1).map_err(query_err("reading a drawn item"))?;
                let json: String = row.try_get(2).map_err(query_err("reading a drawn item"))?;
                let item = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                    what: format!("item `{item_id}` version {version}: stored JSON does not read as an item ({e})"),
                })?;
                Ok((version, item))
            })
            .collect()
    }

    /// A run's draw in order.
    pub async fn run_items(&self, run_id: i64) -> Result<Vec<RunItem>> {
        let rows = sqlx::query(
            "SELECT ri.item_id, ri.version, i.dimension, ri.position FROM run_items ri \
             JOIN items i ON i.item_id = ri.item_id AND i.version = ri.version \
             WHERE ri.run_id = $1 ORDER BY ri.position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!("reading the draw of run #{run_id}")))?;
        rows.iter()
            .map(|row| {
                let r = Reader::new(row, "run_items");
                Ok(RunItem {
                    item_id: r.get("item_id")?,
                    version: r.get("version")?,
                    dimension: r.dimension("dimension")?,
                    position: r.u32("position")?,
                })
            })
            .collect()
    }

    // ---- attempts ---------------------------------------------------------

    /// Stores attempts in one transaction and returns, in input order, each
    /// one's id. An attempt whose key (run, model, item version, epoch) is
    /// already stored — from an earlier call or earlier in this batch — is not
    /// written: the stored row stays as it was and its id comes back with
    /// `inserted: false`. This makes a resumed run's re-sends harmless.
    pub async fn insert_attempts(&self, attempts: &[NewAttempt]) -> Result<Vec<Inserted>> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        // Convert every value before touching the database, so an invalid
        // attempt cannot leave a half-written transaction behind.
        let numbers = attempts
            .iter()
            .map(|a| {
                Ok([
                    to_i64(a.input_tokens, "input_tokens")?,
                    to_i64(a.output_tokens, "output_tokens")?,
                    to_i64(a.latency_ms, "latency_ms")?,
                ])
            })
            .collect::<Result<Vec<_>>>()?;
        let what = || {
            format!(
                "storing {} attempts of run #{}",
                attempts.len(),
                attempts[0].run_id
            )
        };
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        let mut out = Vec::with_capacity(attempts.len());
        for (a, [input_tokens, output_tokens, latency_ms]) in attempts.iter().zip(numbers) {
            let fail = |source| {
                StoreError::Query {
                what: format!(
                    "storing the attempt of `{}` on item `{}` version {} epoch {} in run #{} (the run and the \
                     item version must be stored first)",
                    a.model, a.item_id, a.item_version, a.epoch, a.run_id
                ),
                source,
            }
            };
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO attempts (run_id, model, item_id, item_version, epoch, request_json, response_text, \
                 finish_reason, response_model, input_tokens, output_tokens, latency_ms, tries, error_class, \
                 error_message, http_status, started_at, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
                 ON CONFLICT (run_id, model, item_version, epoch) DO NOTHING RETURNING id",
            )
            .bind(a.run_id)
            .bind(a.model.as_str())
            .bind(a.item_id.as_str())
            .bind(a.item_version.as_str())
            .bind(i64::from(a.epoch))
            .bind(a.request_json.as_str())
            .bind(a.response_text.as_deref())
            .bind(a.finish_reason.as_deref())
            .bind(a.response_model.as_deref())
            .bind(input_tokens)
            .bind(output_tokens)
            .bind(latency_ms)
            .bind(i64::from(a.tries))
            .bind(a.error_class.map(ErrorClass::id))
            .bind(a.error_message.as_deref())
            .bind(a.http_status.map(i64::from))
            .bind(a.started_at)
            .bind(a.finished_at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(fail)?;
            let inserted = match id {
                Some(id) => Inserted { id, inserted: true },
                None => {
                    let id = sqlx::query_scalar(
                        "SELECT id FROM attempts WHERE run_id = $1 AND model = $2 AND item_version = $3 AND epoch = $4",
                    )
                    .bind(a.run_id)
                    .bind(a.model.as_str())
                    .bind(a.item_version.as_str())
                    .bind(i64::from(a.epoch))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(fail)?;
                    Inserted {
                        id,
                        inserted: false,
                    }
                }
            };
            out.push(inserted);
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(out)
    }

    pub async fn get_attempt(&self, id: i64) -> Result<Option<AttemptRow>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err(format!("reading attempt {id}")))?;
        row.as_ref().map(read_attempt).transpose()
    }

    /// Every attempt of a run, in insertion order.
    pub async fn attempts_for_run(&self, run_id: i64) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE run_id = $1 ORDER BY id"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!("reading the attempts of run #{run_id}")))?;
        rows.iter().map(read_attempt).collect()
    }

    /// The (model, item version, epoch) keys a run already has attempts for,
    /// failed ones included (an attempt is never redone within its run). Reads
    /// no request or response text, so resuming a large run stays cheap.
    pub async fn done_keys(&self, run_id: i64) -> Result<HashSet<(String, String, u32)>> {
        let rows = sqlx::query("SELECT model, item_version, epoch FROM attempts WHERE run_id = $1")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err(format!(
                "reading the finished keys of run #{run_id}"
            )))?;
        rows.iter()
            .map(|row| {
                let r = Reader::new(row, "attempts");
                Ok((r.get("model")?, r.get("item_version")?, r.u32("epoch")?))
            })
            .collect()
    }

    /// Answered attempts of a run (no error class) that have no grade yet, in
    /// insertion order: the work left for the graders after a crash.
    pub async fn attempts_without_grade(&self, run_id: i64) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE run_id = $1 AND error_class IS NULL \
             AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.attempt_id = attempts.id) ORDER BY id"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the ungraded attempts of run #{run_id}"
        )))?;
        rows.iter().map(read_attempt).collect()
    }

    // ---- grades -----------------------------------------------------------

    /// Appends grades in one transaction. Earlier grades of the same attempts
    /// stay; the newest one is the attempt's current grade.
    pub async fn insert_grades(&self, grades: &[NewGrade]) -> Result<()> {
        if grades.is_empty() {
            return Ok(());
        }
        let what = || format!("storing {} grades", grades.len());
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        for g in grades {
            sqlx::query(
                "INSERT INTO grades (attempt_id, grader_id, grader_version, score, checks_json, extracted, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(g.attempt_id)
            .bind(g.grader_id.as_str())
            .bind(g.grader_version.as_str())
            .bind(g.score)
            .bind(g.checks_json.as_str())
            .bind(g.extracted.as_deref())
            .bind(g.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::Query {
                what: format!(
                    "storing a `{}` grade of attempt {} (the attempt must be stored first)",
                    g.grader_id, g.attempt_id
                ),
                source,
            })?;
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(())
    }

    /// Every grade of an attempt, oldest first (the last is current).
    pub async fn grades_for_attempt(&self, attempt_id: i64) -> Result<Vec<GradeRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grade_columns!(),
            " FROM grades WHERE attempt_id = $1 ORDER BY id"
        ))
        .bind(attempt_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the grades of attempt {attempt_id}"
        )))?;
        rows.iter().map(read_grade).collect()
    }

    /// One row per attempt of the run (of one model, if given), ordered by
    /// model then insertion, carrying what scoring needs: the item's
    /// dimension, whether the model answered, tokens, and the latest grade's
    /// score (`None` if ungraded or failed).
    pub async fn outcomes(&self, run_id: i64, model: Option<&str>) -> Result<Vec<OutcomeRow>> {
        let rows = sqlx::query(
            "SELECT a.model, a.item_id, a.item_version, i.dimension, a.epoch, a.error_class, \
             a.input_tokens, a.output_tokens, \
             (SELECT g.score FROM grades g WHERE g.attempt_id = a.id ORDER BY g.id DESC LIMIT 1) AS score \
             FROM attempts a JOIN items i ON i.item_id = a.item_id AND i.version = a.item_version \
             WHERE a.run_id = $1 AND ($2 IS NULL OR a.model = $2) ORDER BY a.model, a.id",
        )
        .bind(run_id)
        .bind(model)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!("reading the outcomes of run #{run_id}")))?;
        rows.iter().map(read_outcome).collect()
    }

    /// Runs of `kind` in which `model` has attempts, with number below
    /// `before` (all when `None`), newest first, at most `limit`: the history
    /// behind stability and rolling averages.
    pub async fn runs_with_model(
        &self,
        kind: &str,
        model: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT r.id FROM runs r WHERE r.kind = $1 AND r.id < $3 \
             AND EXISTS (SELECT 1 FROM attempts a WHERE a.run_id = r.id AND a.model = $2) \
             ORDER BY r.id DESC LIMIT $4",
        )
        .bind(kind)
        .bind(model)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "finding `{kind}` runs of model `{model}`"
        )))
    }

    /// The models with attempts in a run, sorted by name.
    pub async fn run_models(&self, run_id: i64) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT model FROM attempts WHERE run_id = $1 ORDER BY model")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err(format!("listing the models of run #{run_id}")))
    }
}

/// Unix milliseconds now; a clock before 1970 reads as 0.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn to_i64(value: u64, field: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Invalid {
        what: format!(
            "{field} = {value}: above the largest storable integer {}",
            i64::MAX
        ),
    })
}

/// Typed column access that reports a bad stored value as `Corrupt` with
/// the table and column it came from.
struct Reader<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Reader<'r> {
    fn new(row: &'r AnyRow, table: &'static str) -> Self {
        Reader { row, table }
    }

    fn corrupt(&self, column: &str, problem: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            what: format!("{}.{column}: {problem}", self.table),
        }
    }

    fn get<T: Decode<'r, Any> + Type<Any>>(&self, column: &str) -> Result<T> {
        self.row
            .try_get(column)
            .map_err(|e| self.corrupt(column, e))
    }

    fn u64(&self, column: &str) -> Result<u64> {
        let v: i64 = self.get(column)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, format_args!("{v} is negative")))
    }

    fn u32(&self, column: &str) -> Result<u32> {
        let v: i64 = self.get(column)?;
        u32::try_from(v)
            .map_err(|_| self.corrupt(column, format_args!("{v} is not a 32-bit unsigned integer")))
    }

    fn opt_u16(&self, column: &str) -> Result<Option<u16>> {
        let v: Option<i64> = self.get(column)?;
        v.map(|v| {
            u16::try_from(v)
                .map_err(|_| self.corrupt(column, format_args!("{v} is not an HTTP status")))
        })
        .transpose()
    }

    fn dimension(&self, column: &str) -> Result<Dimension> {
        let s: String = self.get(column)?;
        s.parse().map_err(|e| self.corrupt(column, e))
    }

    fn error_class(&self, column: &str) -> Result<Option<ErrorClass>> {
        let s: Option<String> = self.get(column)?;
        s.map(|s| {
            ErrorClass::parse(&s)
                .ok_or_else(|| self.corrupt(column, format_args!("unknown error class `{s}`")))
        })
        .transpose()
    }
}

fn read_run(row: &AnyRow) -> Result<RunRow> {
    let r = Reader::new(row, "runs");
    let models_json: String = r.get("models_json")?;
    let status: String = r.get("status")?;
    Ok(RunRow {
        id: r.get("id")?,
        kind: r.get("kind")?,
        seed: r.get::<i64>("seed")? as u64, // bit-cast back, see NewRun::seed
        label: r.get("label")?,
        epochs: r.u32("epochs")?,
        models: serde_json::from_str(&models_json).map_err(|e| r.corrupt("models_json", e))?,
        config_json: r.get("config_json")?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| r.corrupt("status", format_args!("unknown status `{status}`")))?,
        created_at: r.get("created_at")?,
        finished_at: r.get("finished_at")?,
    })
}

fn read_grade(row: &AnyRow) -> Result<GradeRow> {
    let r = Reader::new(row, "grades");
    Ok(GradeRow {
        id: r.get("id")?,
        attempt_id: r.get("attempt_id")?,
        grader_id: r.get("grader_id")?,
        grader_version: r.get("grader_version")?,
        score: r.get("score")?,
        checks_json: r.get("checks_json")?,
        extracted: r.get("extracted")?,
        created_at: r.get("created_at")?,
    })
}

/// An [`OutcomeRow`] from a query selecting `model, item_id, item_version,
/// dimension, epoch, error_class, input_tokens, output_tokens, score`.
fn read_outcome(row: &AnyRow) -> Result<OutcomeRow> {
    let r = Reader::new(row, "attempts");
    let error_class: Option<String> = r.get("error_class")?;
    let answered = error_class.is_none();
    let score: Option<f64> = r.get("score")?;
    Ok(OutcomeRow {
        model: r.get("model")?,
        item_id: r.get("item_id")?,
        item_version: r.get("item_version")?,
        dimension: r.dimension("dimension")?,
        epoch: r.u32("epoch")?,
        answered,
        error_class,
        input_tokens: r.u64("input_tokens")?,
        output_tokens: r.u64("output_tokens")?,
        // A failed request is never scored, whatever was stored.
        score: score.filter(|_| answered),
    })
}

fn read_attempt(row: &AnyRow) -> Result<AttemptRow> {
    let r = Reader::new(row, "attempts");
    Ok(AttemptRow {
        id: r.get("id")?,
        run_id: r.get("run_id")?,
        model: r.get("model")?,
        item_id: r.get("item_id")?,
        item_version: r.get("item_version")?,
        epoch: r.u32("epoch")?,
        request_json: r.get("request_json")?,
        response_text: r.get("response_text")?,
        finish_reason: r.get("finish_reason")?,
        response_model: r.get("response_model")?,
        input_tokens: r.u64("input_tokens")?,
        output_tokens: r.u64("output_tokens")?,
        latency_ms: r.u64("latency_ms")?,
        tries: r.u32("tries")?,
        error_class: r.error_class("error_class")?,
        error_message: r.get("error_message")?,
        http_status: r.opt_u16("http_status")?,
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
    })
}

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const ROWS_PER_STATEMENT: usize = 200;

/// `($1, $2, …), ($k, …)` for `rows` rows of `columns` values.
fn bind_tuples(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("t.db").display().to_string())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_connections_carry_the_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        // Hold several connections at once so more than the first is checked.
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut conns {
            let pragma = |name: &'static str| sqlx::query_scalar::<_, i64>(name);
            assert_eq!(
                pragma("PRAGMA synchronous")
                    .fetch_one(&mut **conn)
                    .await
                    .unwrap(),
                1,
                "NORMAL"
            );
            assert_eq!(
                pragma("PRAGMA busy_timeout")
                    .fetch_one(&mut **conn)
                    .await
                    .unwrap(),
                10_000
            );
            assert_eq!(
                pragma("PRAGMA foreign_keys")
                    .fetch_one(&mut **conn)
                    .await
                    .unwrap(),
                1
            );
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
        }
    }

    #[tokio::test]
    async fn unreadable_stored_values_are_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        sqlx::query(
            "INSERT INTO runs (kind, seed, label, epochs, models_json, config_json, status, created_at) \
             VALUES ('smoke', 1, 'x', 1, '[]', '{}', 'running', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO items (item_id, version, dimension, content_json, first_seen) \
             VALUES ('i', 'v', 'judgment', '{not json', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO attempts (run_id, model, item_id, item_version, epoch, request_json, input_tokens, \
             output_tokens, latency_ms, tries, error_class, started_at, finished_at) \
             VALUES (1, 'm', 'i', 'v', 0, '{}', -5, 0, 0, 1, 'gremlins', 0, 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();

        let err = store.get_item("i", "v").await.unwrap_err().to_string();
        assert!(
            err.starts_with("stored data is corrupt: item `i` version v"),
            "{err}"
        );
        let err = store.get_attempt(1).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "stored data is corrupt: attempts.input_tokens: -5 is negative"
        );
        sqlx::query("UPDATE attempts SET input_tokens = 5")
            .execute(&store.pool)
            .await
            .unwrap();
        let err = store.get_attempt(1).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "stored data is corrupt: attempts.error_class: unknown error class `gremlins`"
        );
        // The schema itself refuses statuses the code cannot read.
        sqlx::query("UPDATE runs SET status = 'paused'")
            .execute(&store.pool)
            .await
            .unwrap_err();
    }
}
