//! The schedule loop's pass (`daemon::tick`) over a real SQLite store with an
//! injected clock: the jobs it runs create runs the way `yardstick run` does
//! (labelled with the slot's date), so restarts and downtime are played out
//! against what the database really holds.

use chrono::{NaiveDate, NaiveDateTime};
use std::sync::Mutex;
use yardstick_server::schedule::{Schedule, ScheduleConfig};
use yardstick_server::{daemon, Job, JobOutcome, Jobs};
use yardstick_store::{NewRun, RunStatus, Store};

/// Stores a run for each `Run` job (finished unless told to "crash"), records
/// every job.
struct StoringJobs {
    store: Store,
    crash: bool,
    seen: Mutex<Vec<Job>>,
}

#[async_trait::async_trait]
impl Jobs for StoringJobs {
    async fn run(&self, job: Job) -> JobOutcome {
        self.seen.lock().unwrap().push(job.clone());
        match &job {
            Job::Run { kind, date } => {
                let id = self
                    .store
                    .create_run(&NewRun {
                        kind: kind.clone(),
                        seed: 1,
                        label: date.format("%Y-%m-%d").to_string(),
                        epochs: 1,
                        models: vec!["m".into()],
                        config_json: "{}".into(),
                        created_at: 0,
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                if !self.crash {
                    self.store
                        .finish_run(id, RunStatus::Complete, 1)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(format!("run {id}"))
            }
            Job::Resume { run_id } => {
                self.store
                    .finish_run(*run_id, RunStatus::Complete, 2)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok("resumed".into())
            }
            _ => Ok("noted".into()),
        }
    }
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn setup(crash: bool) -> (tempfile::TempDir, StoringJobs, Schedule) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db").to_str().unwrap())
        .await
        .unwrap();
    let jobs = StoringJobs {
        store,
        crash,
        seen: Mutex::new(Vec::new()),
    };
    (
        dir,
        jobs,
        Schedule::from_config(&ScheduleConfig::default()).unwrap(),
    )
}

async fn pass(
    jobs: &StoringJobs,
    schedule: &Schedule,
    now: &str,
    resumed: &mut Vec<i64>,
) -> Vec<Job> {
    daemon::tick(&jobs.store, schedule, jobs, at(now), resumed)
        .await
        .unwrap()
        .into_iter()
        .map(|(job, outcome)| {
            outcome.unwrap();
            job
        })
        .collect()
}

#[tokio::test]
async fn runs_once_per_slot_across_restarts_and_downtime() {
    let (_dir, jobs, schedule) = setup(false).await;
    // First start on Thursday 2026-11-26 at 12:00 with an empty database:
    // today's smoke run and last Sunday's weekly run, once each.
    let mut resumed = Vec::new();
    let first = pass(&jobs, &schedule, "2026-11-26 12:00", &mut resumed).await;
    assert_eq!(
        first,
        [
            Job::Run {
                kind: "smoke".into(),
                date: date("2026-11-26")
            },
            Job::Run {
                kind: "weekly".into(),
                date: date("2026-11-22")
            },
            Job::Publish { runs: vec![1, 2] }
        ]
    );
    // Same process a minute later, and a restarted process (fresh state): nothing.
    assert!(pass(&jobs, &schedule, "2026-11-26 12:01", &mut resumed)
        .await
        .is_empty());
    assert!(pass(&jobs, &schedule, "2026-11-27 02:59", &mut Vec::new())
        .await
        .is_empty());
    // The next morning at 03:00: the daily run.
    assert_eq!(
        pass(&jobs, &schedule, "2026-11-27 03:00", &mut Vec::new()).await,
        [
            Job::Run {
                kind: "smoke".into(),
                date: date("2026-11-27")
            },
            Job::Publish { runs: vec![3] }
        ]
    );
    // Down from Friday to Tuesday 2026-12-01 10:00: one smoke run (today's)
    // and one weekly run (Sunday the 29th's) — not one per missed day.
    assert_eq!(
        pass(&jobs, &schedule, "2026-12-01 10:00", &mut Vec::new()).await,
        [
            Job::Run {
                kind: "smoke".into(),
                date: date("2026-12-01")
            },
            Job::Run {
                kind: "weekly".into(),
                date: date("2026-11-29")
            },
            Job::Publish { runs: vec![4, 5] }
        ]
    );
    assert!(pass(&jobs, &schedule, "2026-12-01 10:05", &mut Vec::new())
        .await
        .is_empty());
    let labels: Vec<String> = jobs
        .store
        .runs_of_kind("smoke", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.label)
        .collect();
    assert_eq!(labels, ["2026-12-01", "2026-11-27", "2026-11-26"]);
}

#[tokio::test]
async fn a_crashed_slot_run_is_resumed_on_start_not_rerun() {
    let (_dir, mut jobs, schedule) = setup(true).await;
    let mut resumed = Vec::new();
    let crashed = pass(&jobs, &schedule, "2026-11-26 12:00", &mut resumed).await;
    // The process died during those runs; they are stored but unfinished,
    // so nothing is published.
    assert!(
        crashed.iter().all(|j| matches!(j, Job::Run { .. })),
        "{crashed:?}"
    );
    jobs.crash = false;
    let after_restart = pass(&jobs, &schedule, "2026-11-26 12:30", &mut Vec::new()).await;
    assert_eq!(
        after_restart,
        [
            Job::Resume { run_id: 1 },
            Job::Resume { run_id: 2 },
            Job::Publish { runs: vec![1, 2] }
        ]
    );
    assert!(pass(&jobs, &schedule, "2026-11-26 12:31", &mut Vec::new())
        .await
        .is_empty());
    assert_eq!(jobs.store.runs_of_kind("smoke", 10).await.unwrap().len(), 1);
}
