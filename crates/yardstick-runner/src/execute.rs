//! Asking the models and grading their answers.
//!
//! Three stages joined by channels: askers (bounded per model by the adaptive
//! limiter) → one attempt writer, which commits each answer before anything
//! grades it → graders → one grade writer. The writers drain whatever is
//! waiting and commit it in one transaction, so batches grow under load
//! without holding an answer back to fill a batch.

use crate::judging::{check_judges, judgement_row};
use crate::{now_ms, RunError};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use yardstick_core::{ChatRequest, Item, Message, ModelSpec};
use yardstick_graders::Graders;
use yardstick_providers::concurrency::AdaptiveLimiter;
use yardstick_providers::retry::{send_with_retries, RetryPolicy};
use yardstick_providers::Provider;
use yardstick_store::{AttemptRow, JudgedGrade, NewAttempt, NewGrade, RunJudge, RunStatus, Store};

/// A model ready to be asked.
#[derive(Clone)]
pub struct Model {
    pub spec: ModelSpec,
    pub provider: Arc<dyn Provider>,
}

/// Progress notifications, for a progress bar or a log line.
#[derive(Debug, Clone)]
pub enum Event {
    /// How many attempts this execution will make (after skipping finished ones).
    Planned { total: usize, already_done: usize },
    /// An attempt was committed; `error_class` is set for a vendor failure.
    Answered {
        model: String,
        item: String,
        error_class: Option<String>,
    },
    Graded {
        model: String,
        item: String,
        score: f64,
    },
    /// A grader could not grade an answer; it stays ungraded (never a zero).
    GradeFailed {
        model: String,
        item: String,
        message: String,
    },
    /// A judge re-graded the calibration set before judged answers were
    /// graded: its drift, and the run's models of its own family.
    JudgeChecked(RunJudge),
}

/// What one execution did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub asked: usize,
    pub failed: usize,
    pub graded: usize,
    pub grade_failures: usize,
    pub skipped_done: usize,
    /// Stopped early at the caller's request; the run stays resumable.
    pub interrupted: bool,
}

struct ToGrade {
    attempt_id: i64,
    model: String,
    item: Arc<Item>,
    answer: String,
}

struct Answered {
    attempt: NewAttempt,
    item: Arc<Item>,
}

fn request_for(spec: &ModelSpec, item: &Item, epoch: u32) -> ChatRequest {
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = &item.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(item.user_message()));
    ChatRequest {
        model: spec.model.clone(),
        messages,
        temperature: spec.temperature,
        top_p: spec.top_p,
        max_tokens: spec.max_tokens,
        // Each epoch is a fresh sample: a fixed seed would only repeat epoch 0.
        seed: spec.seed.map(|s| s.wrapping_add(u64::from(epoch))),
        stop: Vec::new(),
    }
}

/// Asks every (model, item, epoch) of the run that has no stored attempt yet,
/// grades every stored answer that has no grade yet, and marks the run
/// complete when nothing is left. Running it again on a finished run does
/// nothing; running it on an interrupted run resumes it.
pub async fn execute(
    store: &Store,
    run_id: i64,
    models: &[Model],
    graders: &Graders,
    stop: &AtomicBool,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<RunSummary, RunError> {
    let run = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    let by_name: HashMap<&str, &Model> = models.iter().map(|m| (m.spec.name.as_str(), m)).collect();
    let run_models: Vec<&Model> = run
        .models
        .iter()
        .map(|name| {
            by_name
                .get(name.as_str())
                .copied()
                .ok_or_else(|| RunError::MissingModel {
                    run: run_id,
                    model: name.clone(),
                })
        })
        .collect::<Result<_, _>>()?;
    // Items keyed by the version stored with the draw, never re-hashed: the
    // draw is the identity of what was asked.
    let items: Vec<(String, Arc<Item>)> = store
        .drawn_items(run_id)
        .await?
        .into_iter()
        .map(|(version, item)| (version, Arc::new(item)))
        .collect();
    if items.is_empty() {
        return Err(RunError::EmptyRun(run_id));
    }
    // Once per run: a resumed run keeps the check made when it started.
    if store.run_judges(run_id).await?.is_empty() {
        let drawn: Vec<&Item> = items.iter().map(|(_, i)| i.as_ref()).collect();
        check_judges(store, run_id, &drawn, graders, on_event).await?;
    }
    let done = store.done_keys(run_id).await?;
    let mut work = Vec::new();
    let mut skipped_done = 0;
    for model in &run_models {
        for (version, item) in &items {
            for epoch in 0..run.epochs {
                if done.contains(&(model.spec.name.clone(), version.clone(), epoch)) {
                    skipped_done += 1;
                } else {
                    work.push((*model, Arc::clone(item), version.clone(), epoch));
                }
            }
        }
    }
    drop(done); // large for big runs; not needed while asking
    let planned = work.len();
    on_event(Event::Planned {
        total: planned,
        already_done: skipped_done,
    });

    let (answer_tx, answer_rx) = mpsc::channel::<Answered>(1024);
    let (grade_tx, grade_rx) = mpsc::channel::<ToGrade>(1024);

    // Answers that were committed by an earlier, interrupted execution but
    // never graded go first.
    let leftovers = store.attempts_without_grade(run_id).await?;
    let items_by_version: HashMap<&str, &Arc<Item>> =
        items.iter().map(|(v, i)| (v.as_str(), i)).collect();

    let writer = write_attempts(store, answer_rx, grade_tx.clone(), on_event);
    let grader = {
        let store = store.clone();
        let graders = graders.clone();
        async move { grade_answers(&store, run_id, &graders, grade_rx, on_event).await }
    };
    let feed_leftovers = async {
        for row in leftovers {
            let Some(item) = items_by_version.get(row.item_version.as_str()) else {
                continue;
            };
            let Some(answer) = row.response_text.clone() else {
                continue;
            };
            let job = ToGrade {
                attempt_id: row.id,
                model: row.model.clone(),
                item: Arc::clone(*item),
                answer,
            };
            if grade_tx.send(job).await.is_err() {
                break;
            }
        }
        drop(grade_tx);
    };

    let ask = async {
        let mut per_model: HashMap<&str, Vec<_>> = HashMap::new();
        for w in work {
            per_model.entry(w.0.spec.name.as_str()).or_default().push(w);
        }
        let mut summary = RunSummary::default();
        let streams = per_model.into_values().map(|jobs| {
            let model = jobs[0].0;
            let limiter = Arc::new(AdaptiveLimiter::new(
                &model.spec.name,
                model.spec.concurrency.max(1),
            ));
            let policy = RetryPolicy::for_model(&model.spec);
            let answer_tx = answer_tx.clone();
            stream::iter(jobs)
                .take_while(|_| futures::future::ready(!stop.load(Ordering::Relaxed)))
                .map(move |(model, item, version, epoch)| {
                    let limiter = Arc::clone(&limiter);
                    let policy = policy.clone();
                    async move {
                        let request = request_for(&model.spec, &item, epoch);
                        let started_at = now_ms();
                        let sent = send_with_retries(
                            model.provider.as_ref(),
                            &request,
                            &policy,
                            Some(&limiter),
                        )
                        .await;
                        let mut attempt = NewAttempt {
                            run_id,
                            model: model.spec.name.clone(),
                            item_id: item.id.clone(),
                            item_version: version,
                            epoch,
                            request_json: serde_json::to_string(&request)
                                .expect("requests always serialize"),
                            response_text: None,
                            finish_reason: None,
                            response_model: None,
                            input_tokens: 0,
                            output_tokens: 0,
                            latency_ms: sent.latency.as_millis() as u64,
                            tries: sent.tries,
                            error_class: None,
                            error_message: None,
                            http_status: None,
                            started_at,
                            finished_at: now_ms(),
                        };
                        match sent.result {
                            Ok(r) => {
                                attempt.response_text = Some(r.text);
                                attempt.finish_reason = r.finish_reason;
                                attempt.response_model = r.model;
                                attempt.input_tokens = r.usage.input_tokens;
                                attempt.output_tokens = r.usage.output_tokens;
                            }
                            Err(e) => {
                                attempt.error_class = Some(e.class);
                                attempt.error_message = Some(e.message);
                                attempt.http_status = e.http_status;
                            }
                        }
                        Answered { attempt, item }
                    }
                })
                .buffer_unordered(model.spec.concurrency.max(1) as usize)
                .then(move |answered| {
                    let tx = answer_tx.clone();
                    async move {
                        let failed = answered.attempt.error_class.is_some();
                        let sent = tx.send(answered).await.is_ok();
                        (failed, sent)
                    }
                })
        });
        let mut all = stream::select_all(streams.map(Box::pin));
        while let Some((failed, sent)) = all.next().await {
            if !sent {
                break;
            }
            summary.asked += 1;
            summary.failed += usize::from(failed);
        }
        drop(all);
        drop(answer_tx);
        summary
    };

    let (summary, grading, written) = tokio::join!(
        async {
            let (summary, ()) = tokio::join!(ask, feed_leftovers);
            summary
        },
        grader,
        writer,
    );
    written?;
    let (graded, grade_failures) = grading?;
    let mut summary = summary;
    summary.graded = graded;
    summary.grade_failures = grade_failures;
    summary.skipped_done = skipped_done;
    summary.interrupted = stop.load(Ordering::Relaxed);
    // Every planned attempt reached the writer, which stored it (or found it
    // stored by another execution) or failed this call; so all keys exist.
    if !summary.interrupted && summary.asked == planned {
        store
            .finish_run(run_id, RunStatus::Complete, now_ms())
            .await?;
    }
    Ok(summary)
}

/// Commits answers as they come, then hands the answered ones to the graders.
async fn write_attempts(
    store: &Store,
    mut rx: mpsc::Receiver<Answered>,
    grade_tx: mpsc::Sender<ToGrade>,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), RunError> {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        let rows: Vec<NewAttempt> = batch.iter().map(|a| a.attempt.clone()).collect();
        let inserted = store.insert_attempts(&rows).await?;
        for (ins, answered) in inserted.into_iter().zip(batch) {
            let Answered { attempt, item } = answered;
            on_event(Event::Answered {
                model: attempt.model.clone(),
                item: attempt.item_id.clone(),
                error_class: attempt.error_class.map(|c| c.id().to_string()),
            });
            if !ins.inserted {
                continue; // another execution already stored this one; keep the first
            }
            if let Some(answer) = attempt.response_text {
                let job = ToGrade {
                    attempt_id: ins.id,
                    model: attempt.model,
                    item,
                    answer,
                };
                if grade_tx.send(job).await.is_err() {
                    return Err(RunError::Writer("the grading stage stopped".into()));
                }
            }
        }
    }
    Ok(())
}

/// Grades committed answers and commits the grades in batches; a judged
/// answer's grade is committed with its judge calls (also when the judging
/// failed, for audit).
async fn grade_answers(
    store: &Store,
    run_id: i64,
    graders: &Graders,
    mut rx: mpsc::Receiver<ToGrade>,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(usize, usize), RunError> {
    let (mut graded, mut failed) = (0, 0);
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let outcomes = futures::future::join_all(
            batch
                .iter()
                .map(|j| graders.grade_recorded(&j.item, &j.answer)),
        )
        .await;
        let mut rows = Vec::with_capacity(batch.len());
        let mut judged = Vec::new();
        let created_at = now_ms();
        for (job, outcome) in batch.iter().zip(outcomes) {
            let calls: Vec<_> = outcome
                .judgements
                .iter()
                .map(|j| judgement_row(run_id, Some(job.attempt_id), None, j, created_at))
                .collect();
            let is_judged = job.item.judge_rubric().is_some();
            match outcome.result {
                Ok(grade) => {
                    on_event(Event::Graded {
                        model: job.model.clone(),
                        item: job.item.id.clone(),
                        score: grade.score,
                    });
                    let row = NewGrade {
                        attempt_id: job.attempt_id,
                        grader_id: grade.grader_id,
                        grader_version: grade.grader_version,
                        score: grade.score,
                        checks_json: serde_json::to_string(&grade.checks)
                            .expect("checks always serialize"),
                        extracted: grade.extracted,
                        created_at,
                    };
                    if is_judged {
                        judged.push(JudgedGrade {
                            grade: Some(row),
                            judgements: calls,
                        });
                    } else {
                        rows.push(row);
                    }
                }
                Err(e) => {
                    if !calls.is_empty() {
                        judged.push(JudgedGrade {
                            grade: None,
                            judgements: calls,
                        });
                    }
                    tracing::warn!(attempt = job.attempt_id, error = %e, "grader failed; the answer stays ungraded");
                    on_event(Event::GradeFailed {
                        model: job.model.clone(),
                        item: job.item.id.clone(),
                        message: e.to_string(),
                    });
                    failed += 1;
                }
            }
        }
        graded += rows.len() + judged.iter().filter(|j| j.grade.is_some()).count();
        store.insert_grades(&rows).await?;
        store.insert_judged_grades(&judged).await?;
    }
    Ok((graded, failed))
}

/// Re-grades every stored answer of a run with the current graders, adding new
/// grade rows (old ones are kept). Returns (graded, grader failures).
pub async fn regrade(
    store: &Store,
    run_id: i64,
    graders: &Graders,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(usize, usize), RunError> {
    store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    // The judges may have changed since the run: check them again.
    let drawn: Vec<Item> = store
        .drawn_items(run_id)
        .await?
        .into_iter()
        .map(|(_, item)| item)
        .collect();
    check_judges(
        store,
        run_id,
        &drawn.iter().collect::<Vec<_>>(),
        graders,
        on_event,
    )
    .await?;
    let attempts: Vec<AttemptRow> = store.attempts_for_run(run_id).await?;
    let (tx, rx) = mpsc::channel(1024);
    let mut items: HashMap<String, Arc<Item>> = HashMap::new();
    let feed = async {
        for row in attempts {
            let Some(answer) = row.response_text else {
                continue;
            };
            let item = match items.get(&row.item_version) {
                Some(i) => Arc::clone(i),
                None => {
                    let item = store
                        .get_item(&row.item_id, &row.item_version)
                        .await?
                        .ok_or_else(|| RunError::MissingItem {
                            run: run_id,
                            item: row.item_id.clone(),
                            version: row.item_version.clone(),
                        })?;
                    let item = Arc::new(item);
                    items.insert(row.item_version.clone(), Arc::clone(&item));
                    item
                }
            };
            if tx
                .send(ToGrade {
                    attempt_id: row.id,
                    model: row.model,
                    item,
                    answer,
                })
                .await
                .is_err()
            {
                break;
            }
        }
        drop(tx);
        Ok::<(), RunError>(())
    };
    let (fed, graded) = tokio::join!(feed, grade_answers(store, run_id, graders, rx, on_event));
    fed?;
    graded
}
