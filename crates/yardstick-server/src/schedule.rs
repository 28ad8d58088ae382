//! The evaluation schedule as a pure planner: the local time and what the
//! database holds go in, the jobs due now come out. The loop around it
//! ([`crate::daemon`]) only reads the clock and the store and runs the jobs.
//!
//! A slot is identified by its date, which is also the label of the run it
//! produces (the draw date, as `yardstick run` labels runs). The last done slot
//! is therefore the newest stored run of the kind: a restart finds it in the
//! database and never runs a slot twice, and after downtime only the most
//! recent missed slot runs — once — rather than one run per missed day.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// `[serve]` schedule settings of yardstick.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Local time of the daily smoke run, `HH:MM`.
    pub daily_at: String,
    /// Run kind of the daily run.
    pub daily_kind: String,
    /// Weekday of the weekly run (`monday` … `sunday`).
    pub weekly_day: String,
    /// Local time of the weekly run, `HH:MM`.
    pub weekly_at: String,
    pub weekly_kind: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            daily_at: "03:00".into(),
            daily_kind: "smoke".into(),
            weekly_day: "sunday".into(),
            weekly_at: "04:00".into(),
            weekly_kind: "weekly".into(),
        }
    }
}

/// A schedule setting that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("[serve.schedule] {field} = {value:?}: {expected}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// One periodic evaluation: which kind runs at which time on which days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub kind: String,
    pub at: NaiveTime,
    /// `None`: every day.
    pub weekday: Option<Weekday>,
}

impl Slot {
    /// The date of the newest occurrence of this slot at or before `now`.
    pub fn latest_date(&self, now: NaiveDateTime) -> NaiveDate {
        let mut date = now.date();
        if now.time() < self.at {
            date -= Duration::days(1);
        }
        if let Some(day) = self.weekday {
            let back = (date.weekday().num_days_from_monday() + 7 - day.num_days_from_monday()) % 7;
            date -= Duration::days(i64::from(back));
        }
        date
    }
}

/// The validated schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub slots: Vec<Slot>,
}

impl Schedule {
    pub fn from_config(c: &ScheduleConfig) -> Result<Schedule, ScheduleError> {
        let time = |field: &'static str, value: &str| {
            NaiveTime::parse_from_str(value, "%H:%M").map_err(|_| ScheduleError {
                field,
                value: value.to_string(),
                expected: "expected a 24-hour local time HH:MM, e.g. \"03:00\"",
            })
        };
        let weekday: Weekday = c.weekly_day.parse().map_err(|_| ScheduleError {
            field: "weekly_day",
            value: c.weekly_day.clone(),
            expected: "expected a weekday name, e.g. \"sunday\"",
        })?;
        Ok(Schedule {
            slots: vec![
                Slot {
                    kind: c.daily_kind.clone(),
                    at: time("daily_at", &c.daily_at)?,
                    weekday: None,
                },
                Slot {
                    kind: c.weekly_kind.clone(),
                    at: time("weekly_at", &c.weekly_at)?,
                    weekday: Some(weekday),
                },
            ],
        })
    }
}

/// The newest stored run of a slot's kind, as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub run_id: i64,
    /// The run's label; a date for scheduled runs.
    pub label: String,
    pub finished: bool,
}

/// What the database says, gathered by the loop for the planner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// Per slot kind, the newest run of that kind.
    pub last_runs: Vec<(String, LastRun)>,
    /// Retests that verdicts scheduled and nothing has taken yet.
    pub pending_retests: Vec<i64>,
}

/// A job the loop carries out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Draw and run `kind` for the slot of `date` (also the run's label and seed date).
    Run { kind: String, date: NaiveDate },
    /// A slot's run was interrupted (the process stopped): finish it.
    Resume { run_id: i64 },
    /// Run a confirmation retest a verdict asked for.
    Retest { retest_id: i64 },
    /// After a pass: write the articles of the runs it finished (a retest
    /// republishes the run whose verdict it decided). Alerts go out with the
    /// verdicts of each run and retest, before this.
    Publish { runs: Vec<i64> },
}

/// The evaluations due at local time `now` (the loop adds the `Publish` job
/// once it knows which runs finished). `resumed` lists runs this process has
/// already resumed (a run still unfinished after its resume is left for a
/// person to look at rather than retried in a loop).
pub fn due(schedule: &Schedule, now: NaiveDateTime, stored: &Stored, resumed: &[i64]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for slot in &schedule.slots {
        let date = slot.latest_date(now);
        let last = stored
            .last_runs
            .iter()
            .find(|(kind, _)| *kind == slot.kind)
            .map(|(_, run)| run);
        let done_date = last.and_then(|r| NaiveDate::parse_from_str(&r.label, "%Y-%m-%d").ok());
        match last {
            Some(run) if done_date >= Some(date) => {
                if !run.finished && !resumed.contains(&run.run_id) {
                    jobs.push(Job::Resume { run_id: run.run_id });
                }
            }
            _ => jobs.push(Job::Run {
                kind: slot.kind.clone(),
                date,
            }),
        }
    }
    jobs.extend(
        stored
            .pending_retests
            .iter()
            .map(|&retest_id| Job::Retest { retest_id }),
    );
    jobs
}

/// When the next slot after `now` begins: the loop sleeps until then (or a
/// minute, whichever is sooner, so retests are picked up).
pub fn next_slot_start(schedule: &Schedule, now: NaiveDateTime) -> Option<NaiveDateTime> {
    schedule
        .slots
        .iter()
        .map(|slot| {
            let mut date = slot.latest_date(now);
            loop {
                date += Duration::days(1);
                if slot.weekday.is_none_or(|d| date.weekday() == d) {
                    break date.and_time(slot.at);
                }
            }
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn schedule() -> Schedule {
        // 2026-11-29 is a Sunday.
        Schedule::from_config(&ScheduleConfig::default()).unwrap()
    }

    fn ran(kind: &str, id: i64, label: &str, finished: bool) -> (String, LastRun) {
        (
            kind.to_string(),
            LastRun {
                run_id: id,
                label: label.to_string(),
                finished,
            },
        )
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn daily_runs_at_its_time_and_not_before() {
        let stored = Stored {
            last_runs: vec![
                ran("smoke", 1, "2026-11-25", true),
                ran("weekly", 2, "2026-11-22", true),
            ],
            pending_retests: vec![],
        };
        assert_eq!(
            due(&schedule(), at("2026-11-26 02:59"), &stored, &[]),
            vec![]
        );
        assert_eq!(
            due(&schedule(), at("2026-11-26 03:00"), &stored, &[]),
            vec![Job::Run {
                kind: "smoke".into(),
                date: date("2026-11-26")
            }]
        );
    }

    #[test]
    fn weekly_runs_on_its_day_only() {
        let stored = Stored {
            last_runs: vec![
                ran("smoke", 5, "2026-11-29", true),
                ran("weekly", 2, "2026-11-22", true),
            ],
            pending_retests: vec![],
        };
        assert_eq!(
            due(&schedule(), at("2026-11-29 03:59"), &stored, &[]),
            vec![]
        );
        assert_eq!(
            due(&schedule(), at("2026-11-29 04:00"), &stored, &[]),
            vec![Job::Run {
                kind: "weekly".into(),
                date: date("2026-11-29")
            }]
        );
    }

    #[test]
    fn a_done_slot_is_not_run_again_after_a_restart() {
        // The slot's run is in the database: a fresh process plans nothing.
        let stored = Stored {
            last_runs: vec![
                ran("smoke", 7, "2026-11-26", true),
                ran("weekly", 2, "2026-11-22", true),
            ],
            pending_retests: vec![],
        };
        for t in ["2026-11-26 03:00", "2026-11-26 15:00", "2026-11-27 02:59"] {
            assert_eq!(due(&schedule(), at(t), &stored, &[]), vec![], "at {t}");
        }
    }

    #[test]
    fn downtime_catches_up_once_with_the_latest_slot() {
        // Down from the 20th to the 26th at noon: one smoke run (today's), one
        // weekly run (Sunday the 22nd's), not one per missed day.
        let stored = Stored {
            last_runs: vec![
                ran("smoke", 1, "2026-11-19", true),
                ran("weekly", 2, "2026-11-15", true),
            ],
            pending_retests: vec![],
        };
        assert_eq!(
            due(&schedule(), at("2026-11-26 12:00"), &stored, &[]),
            vec![
                Job::Run {
                    kind: "smoke".into(),
                    date: date("2026-11-26")
                },
                Job::Run {
                    kind: "weekly".into(),
                    date: date("2026-11-22")
                }
            ]
        );
    }

    #[test]
    fn an_interrupted_slot_run_is_resumed_once() {
        let stored = Stored {
            last_runs: vec![
                ran("smoke", 9, "2026-11-26", false),
                ran("weekly", 2, "2026-11-22", true),
            ],
            pending_retests: vec![],
        };
        let now = at("2026-11-26 05:00");
        assert_eq!(
            due(&schedule(), now, &stored, &[]),
            vec![Job::Resume { run_id: 9 }]
        );
        assert_eq!(due(&schedule(), now, &stored, &[9]), vec![]);
    }

    #[test]
    fn empty_database_runs_both_slots_and_pending_retests() {
        let stored = Stored {
            last_runs: vec![],
            pending_retests: vec![3, 4],
        };
        assert_eq!(
            due(&schedule(), at("2026-11-26 12:00"), &stored, &[]),
            vec![
                Job::Run {
                    kind: "smoke".into(),
                    date: date("2026-11-26")
                },
                Job::Run {
                    kind: "weekly".into(),
                    date: date("2026-11-22")
                },
                Job::Retest { retest_id: 3 },
                Job::Retest { retest_id: 4 }
            ]
        );
    }

    #[test]
    fn next_slot_start_is_the_nearest_future_slot() {
        assert_eq!(
            next_slot_start(&schedule(), at("2026-11-26 12:00")),
            Some(at("2026-11-27 03:00"))
        );
        assert_eq!(
            next_slot_start(&schedule(), at("2026-11-26 02:00")),
            Some(at("2026-11-26 03:00"))
        );
        assert_eq!(
            next_slot_start(&schedule(), at("2026-11-29 03:30")),
            Some(at("2026-11-29 04:00"))
        );
    }

    #[test]
    fn bad_settings_say_which_and_what_is_expected() {
        let bad = ScheduleConfig {
            daily_at: "3am".into(),
            ..ScheduleConfig::default()
        };
        let e = Schedule::from_config(&bad).unwrap_err().to_string();
        assert!(e.contains("daily_at") && e.contains("HH:MM"), "{e}");
        let bad = ScheduleConfig {
            weekly_day: "someday".into(),
            ..ScheduleConfig::default()
        };
        let e = Schedule::from_config(&bad).unwrap_err().to_string();
        assert!(e.contains("weekly_day"), "{e}");
    }
}
