//! Judge records: every call of an LLM judge (`judgements`) and each
//! judge's calibration check per run (`run_judges`).
//!
//! A judged grade and its judgements are written in one transaction, the
//! judgements pointing at the grade, so the calls behind an attempt's
//! current grade are exactly those with its `grade_id`; calls of a failed
//! judging are stored with no grade, for audit.

use crate::error::query_err;
use crate::{to_i64, NewGrade, Reader, Result, Store, StoreError};
use sqlx::any::AnyRow;
use yardstick_core::Dimension;

/// One judge call to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJudgement {
    pub run_id: i64,
    /// The graded attempt; `None` for a calibration call.
    pub attempt_id: Option<i64>,
    /// The calibration entry judged; `None` for an attempt.
    pub calibration_id: Option<String>,
    /// The judge's configured name and exact model id.
    pub judge: String,
    pub judge_model: String,
    /// The model id the vendor reported.
    pub response_model: Option<String>,
    pub fallback: bool,
    pub sample: u32,
    pub retry: u32,
    /// `reference_first` or `answer_first`.
    pub order: String,
    /// The exact request (JSON).
    pub prompt: String,
    pub raw_output: Option<String>,
    /// Criterion id → score (JSON object), when the reply parsed.
    pub scores_json: Option<String>,
    /// `unparsable` or `vendor_<class>`.
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub latency_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub created_at: i64,
}

/// A stored judge call.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgementRow {
    pub id: i64,
    /// The grade this call contributed to (`None`: judging failed, or calibration).
    pub grade_id: Option<i64>,
    pub judgement: NewJudgement,
}

/// A judged answer's outcome: its grade (`None` when the judging failed)
/// and every judge call made for it.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedGrade {
    pub grade: Option<NewGrade>,
    pub judgements: Vec<NewJudgement>,
}

/// One judge's parsed scores of one attempt under its current grade: the
/// input of the panel agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelScoreRow {
    pub attempt_id: i64,
    pub dimension: Dimension,
    pub judge: String,
    pub sample: u32,
    pub scores_json: String,
}

/// One judge's check in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunJudge {
    pub run_id: i64,
    pub judge: String,
    pub judge_model: String,
    pub family: Option<String>,
    pub fallback: bool,
    /// The run's models of the judge's own family.
    pub same_family: Vec<String>,
    /// Mean |today − frozen| on the criteria's scales; `None` when nothing
    /// of the calibration set could be scored (or the bank has none).
    pub drift: Option<f64>,
    pub drift_threshold: f64,
    pub calibration_scored: u32,
    pub calibration_failed: u32,
    /// The run's judged scores are not to be trusted (drift above the threshold,
    /// or a calibration set that could not be scored at all).
    pub unreliable: bool,
    pub created_at: i64,
}

/// The judgement columns read by [`read_judgement`].
macro_rules! judgement_columns {
    () => {
        "id, grade_id, run_id, attempt_id, calibration_id, judge, judge_model, response_model, fallback, \
         sample, retry, sample_order, prompt, raw_output, scores_json, error_class, error_message, \
         latency_ms, input_tokens, output_tokens, created_at"
    };
}

impl Store {
    /// Stores judged grades with their judge calls, all in one transaction.
    pub async fn insert_judged_grades(&self, rows: &[JudgedGrade]) -> Result<()> {
        if rows
            .iter()
            .all(|r| r.grade.is_none() && r.judgements.is_empty())
        {
            return Ok(());
        }
        let what = || format!("storing {} judged grades", rows.len());
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        for row in rows {
            let grade_id = match &row.grade {
                Some(g) => Some(
                    sqlx::query_scalar::<_, i64>(
                        "INSERT INTO grades (attempt_id, grader_id, grader_version, score, checks_json, extracted, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(g.attempt_id)
                    .bind(g.grader_id.as_str())
                    .bind(g.grader_version.as_str())
                    .bind(g.score)
                    .bind(g.checks_json.as_str())
                    .bind(g.extracted.as_deref())
                    .bind(g.created_at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_err(format!(
                        "storing a `{}` grade of attempt {}",
                        g.grader_id, g.attempt_id
                    )))?,
                ),
                None => None,
            };
            for j in &row.judgements {
                insert_judgement(&mut tx, j, grade_id).await?;
            }
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(())
    }

    /// Stores judge calls that belong to no grade (the calibration set).
    pub async fn insert_judgements(&self, judgements: &[NewJudgement]) -> Result<()> {
        if judgements.is_empty() {
            return Ok(());
        }
        let what = || format!("storing {} judge calls", judgements.len());
        let mut tx = self.pool.begin().await.map_err(query_err(what()))?;
        for j in judgements {
            insert_judgement(&mut tx, j, None).await?;
        }
        tx.commit().await.map_err(query_err(what()))?;
        Ok(())
    }

    /// Every judge call on an attempt, oldest first.
    pub async fn judgements_for_attempt(&self, attempt_id: i64) -> Result<Vec<JudgementRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            judgement_columns!(),
            " FROM judgements WHERE attempt_id = $1 ORDER BY id"
        ))
        .bind(attempt_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the judge calls of attempt {attempt_id}"
        )))?;
        rows.iter().map(read_judgement).collect()
    }

    /// Every calibration call of a run, oldest first.
    pub async fn calibration_judgements(&self, run_id: i64) -> Result<Vec<JudgementRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            judgement_columns!(),
            " FROM judgements WHERE run_id = $1 AND calibration_id IS NOT NULL ORDER BY id"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the calibration judge calls of run #{run_id}"
        )))?;
        rows.iter().map(read_judgement).collect()
    }

    /// The parsed judge scores behind each attempt's current grade in a run
    /// (calls of superseded grades and failed judgings left out).
    pub async fn panel_scores(&self, run_id: i64) -> Result<Vec<PanelScoreRow>> {
        let rows = sqlx::query(
            "SELECT j.attempt_id, i.dimension, j.judge, j.sample, j.scores_json FROM judgements j \
             JOIN attempts a ON a.id = j.attempt_id \
             JOIN items i ON i.item_id = a.item_id AND i.version = a.item_version \
             WHERE j.run_id = $1 AND j.scores_json IS NOT NULL \
             AND j.grade_id = (SELECT MAX(g.id) FROM grades g WHERE g.attempt_id = j.attempt_id) \
             ORDER BY j.id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the judge scores of run #{run_id}"
        )))?;
        rows.iter()
            .map(|row| {
                let r = Reader::new(row, "judgements");
                Ok(PanelScoreRow {
                    attempt_id: r.get("attempt_id")?,
                    dimension: r.dimension("dimension")?,
                    judge: r.get("judge")?,
                    sample: r.u32("sample")?,
                    scores_json: r.get("scores_json")?,
                })
            })
            .collect()
    }

    /// Records one judge's check in a run (appended; the newest per judge counts).
    pub async fn insert_run_judge(&self, j: &RunJudge) -> Result<()> {
        let same_family =
            serde_json::to_string(&j.same_family).expect("string lists always serialize");
        sqlx::query(
            "INSERT INTO run_judges (run_id, judge, judge_model, family, fallback, same_family_json, drift, \
             drift_threshold, calibration_scored, calibration_failed, unreliable, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(j.run_id)
        .bind(j.judge.as_str())
        .bind(j.judge_model.as_str())
        .bind(j.family.as_deref())
        .bind(i64::from(j.fallback))
        .bind(same_family)
        .bind(j.drift)
        .bind(j.drift_threshold)
        .bind(i64::from(j.calibration_scored))
        .bind(i64::from(j.calibration_failed))
        .bind(i64::from(j.unreliable))
        .bind(j.created_at)
        .execute(&self.pool)
        .await
        .map_err(query_err(format!(
            "storing the check of judge `{}` in run #{}",
            j.judge, j.run_id
        )))?;
        Ok(())
    }

    /// The current check of each judge of a run (the newest row per judge),
    /// in judge-name order; empty when the run used no judge.
    pub async fn run_judges(&self, run_id: i64) -> Result<Vec<RunJudge>> {
        let rows = sqlx::query(
            "SELECT run_id, judge, judge_model, family, fallback, same_family_json, drift, drift_threshold, \
             calibration_scored, calibration_failed, unreliable, created_at FROM run_judges r \
             WHERE run_id = $1 AND id = (SELECT MAX(id) FROM run_judges s WHERE s.run_id = r.run_id AND s.judge = r.judge) \
             ORDER BY judge",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!("reading the judges of run #{run_id}")))?;
        rows.iter()
            .map(|row| {
                let r = Reader::new(row, "run_judges");
                let same_family: String = r.get("same_family_json")?;
                Ok(RunJudge {
                    run_id: r.get("run_id")?,
                    judge: r.get("judge")?,
                    judge_model: r.get("judge_model")?,
                    family: r.get("family")?,
                    fallback: r.get::<i64>("fallback")? != 0,
                    same_family: serde_json::from_str(&same_family)
                        .map_err(|e| r.corrupt("same_family_json", e))?,
                    drift: r.get("drift")?,
                    drift_threshold: r.get("drift_threshold")?,
                    calibration_scored: r.u32("calibration_scored")?,
                    calibration_failed: r.u32("calibration_failed")?,
                    unreliable: r.get::<i64>("unreliable")? != 0,
                    created_at: r.get("created_at")?,
                })
            })
            .collect()
    }
}

async fn insert_judgement(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    j: &NewJudgement,
    grade_id: Option<i64>,
) -> Result<()> {
    let numbers = [
        to_i64(j.latency_ms, "latency_ms")?,
        to_i64(j.input_tokens, "input_tokens")?,
        to_i64(j.output_tokens, "output_tokens")?,
    ];
    sqlx::query(
        "INSERT INTO judgements (run_id, attempt_id, grade_id, calibration_id, judge, judge_model, response_model, \
         fallback, sample, retry, sample_order, prompt, raw_output, scores_json, error_class, error_message, \
         latency_ms, input_tokens, output_tokens, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(j.run_id)
    .bind(j.attempt_id)
    .bind(grade_id)
    .bind(j.calibration_id.as_deref())
    .bind(j.judge.as_str())
    .bind(j.judge_model.as_str())
    .bind(j.response_model.as_deref())
    .bind(i64::from(j.fallback))
    .bind(i64::from(j.sample))
    .bind(i64::from(j.retry))
    .bind(j.order.as_str())
    .bind(j.prompt.as_str())
    .bind(j.raw_output.as_deref())
    .bind(j.scores_json.as_deref())
    .bind(j.error_class.as_deref())
    .bind(j.error_message.as_deref())
    .bind(numbers[0])
    .bind(numbers[1])
    .bind(numbers[2])
    .bind(j.created_at)
    .execute(&mut **tx)
    .await
    .map_err(|source| StoreError::Query {
        what: format!(
            "storing a call of judge `{}` in run #{} (the run and the attempt must be stored first)",
            j.judge, j.run_id
        ),
        source,
    })?;
    Ok(())
}

fn read_judgement(row: &AnyRow) -> Result<JudgementRow> {
    let r = Reader::new(row, "judgements");
    Ok(JudgementRow {
        id: r.get("id")?,
        grade_id: r.get("grade_id")?,
        judgement: NewJudgement {
            run_id: r.get("run_id")?,
            attempt_id: r.get("attempt_id")?,
            calibration_id: r.get("calibration_id")?,
            judge: r.get("judge")?,
            judge_model: r.get("judge_model")?,
            response_model: r.get("response_model")?,
            fallback: r.get::<i64>("fallback")? != 0,
            sample: r.u32("sample")?,
            retry: r.u32("retry")?,
            order: r.get("sample_order")?,
            prompt: r.get("prompt")?,
            raw_output: r.get("raw_output")?,
            scores_json: r.get("scores_json")?,
            error_class: r.get("error_class")?,
            error_message: r.get("error_message")?,
            latency_ms: r.u64("latency_ms")?,
            input_tokens: r.u64("input_tokens")?,
            output_tokens: r.u64("output_tokens")?,
            created_at: r.get("created_at")?,
        },
    })
}
