//! The thin loop around the [`crate::schedule`] planner: read the clock and
//! the store, run what is due one job at a time, publish what finished, sleep
//! until the next slot.

use crate::schedule::{due, next_slot_start, Job, LastRun, Schedule, Stored};
use crate::Jobs;
use chrono::NaiveDateTime;
use std::sync::Arc;
use std::time::Duration;
use yardstick_store::{RetestStatus, RunRow, RunStatus, Store, StoreError};

/// Longest sleep between looks at the store, so a retest a verdict schedules
/// is picked up within a minute.
const POLL: Duration = Duration::from_secs(60);

/// Reads what the planner needs from the store.
pub async fn stored(store: &Store, schedule: &Schedule) -> Result<Stored, StoreError> {
    let mut last_runs = Vec::new();
    for slot in &schedule.slots {
        if let Some(run) = store.runs_of_kind(&slot.kind, 1).await?.into_iter().next() {
            last_runs.push((
                slot.kind.clone(),
                LastRun {
                    run_id: run.id,
                    label: run.label,
                    finished: run.status == RunStatus::Complete,
                },
            ));
        }
    }
    let pending_retests = store
        .open_retests()
        .await?
        .into_iter()
        .filter(|r| r.status == RetestStatus::Pending)
        .map(|r| r.id)
        .collect();
    Ok(Stored {
        last_runs,
        pending_retests,
    })
}

/// The run whose articles a finished job changed: a slot's run once
/// complete, or the run whose verdict a decided retest confirmed or cleared.
async fn published_run(store: &Store, job: &Job) -> Result<Option<i64>, StoreError> {
    let complete = |run: Option<RunRow>| {
        run.filter(|r| r.status == RunStatus::Complete)
            .map(|r| r.id)
    };
    Ok(match job {
        // The slot's run is the newest of its kind, labelled with its date.
        Job::Run { kind, date } => complete(
            store
                .runs_of_kind(kind, 1)
                .await?
                .pop()
                .filter(|r| r.label == date.format("%Y-%m-%d").to_string()),
        ),
        Job::Resume { run_id } => complete(store.get_run(*run_id).await?),
        Job::Retest { retest_id } => store
            .get_retest(*retest_id)
            .await?
            .filter(|r| r.status == RetestStatus::Done)
            .map(|r| r.trigger_run_id),
        Job::Publish { .. } => None,
    })
}

async fn run_job(jobs: &dyn Jobs, job: Job) -> (Job, crate::JobOutcome) {
    tracing::info!(?job, "scheduled job starts");
    let outcome = jobs.run(job.clone()).await;
    match &outcome {
        Ok(what) => tracing::info!(?job, what, "scheduled job done"),
        Err(why) => tracing::error!(?job, why, "scheduled job failed"),
    }
    (job, outcome)
}

/// One pass: plan at `now`, run every due job in order, then publish the
/// runs they finished. Returns the jobs run with their outcomes. `resumed`
/// collects the runs resumed so far.
pub async fn tick(
    store: &Store,
    schedule: &Schedule,
    jobs: &dyn Jobs,
    now: NaiveDateTime,
    resumed: &mut Vec<i64>,
) -> Result<Vec<(Job, crate::JobOutcome)>, StoreError> {
    let plan = due(schedule, now, &stored(store, schedule).await?, resumed);
    let mut done = Vec::new();
    let mut runs = Vec::new();
    for job in plan {
        if let Job::Resume { run_id } = job {
            resumed.push(run_id);
        }
        let (job, outcome) = run_job(jobs, job).await;
        if outcome.is_ok() {
            if let Some(run) = published_run(store, &job).await? {
                if !runs.contains(&run) {
                    runs.push(run);
                }
            }
        }
        done.push((job, outcome));
    }
    if !runs.is_empty() {
        done.push(run_job(jobs, Job::Publish { runs }).await);
    }
    Ok(done)
}

/// Runs the schedule until the process stops. `lock` is shared with the HTTP
/// actions so two evaluations never run at once.
pub async fn run_forever(
    store: Store,
    schedule: Schedule,
    jobs: Arc<dyn Jobs>,
    lock: Arc<tokio::sync::Mutex<()>>,
) {
    let mut resumed = Vec::new();
    loop {
        let now = chrono::Local::now().naive_local();
        {
            let _one_at_a_time = lock.lock().await;
            if let Err(e) = tick(&store, &schedule, jobs.as_ref(), now, &mut resumed).await {
                tracing::error!("schedule: {e}; trying again in a minute");
            }
        }
        let now = chrono::Local::now().naive_local();
        let wait = next_slot_start(&schedule, now)
            .and_then(|next| (next - now).to_std().ok())
            .map_or(POLL, |d| d.min(POLL));
        tokio::time::sleep(wait).await;
    }
}
