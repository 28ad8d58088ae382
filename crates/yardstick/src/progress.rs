//! Progress of a run: a bar on a terminal, a few plain lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use yardstick_runner::Event;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: AtomicUsize,
    answered: AtomicUsize,
    failed: AtomicUsize,
    last_line_decile: AtomicUsize,
    grade_failures: Mutex<Vec<String>>,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
                )
                .expect("static template"),
            );
            bar
        });
        Progress {
            bar,
            total: AtomicUsize::new(0),
            answered: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            last_line_decile: AtomicUsize::new(0),
            grade_failures: Mutex::new(Vec::new()),
        }
    }

    pub fn on_event(&self, event: Event) {
        match event {
            Event::Planned {
                total,
                already_done,
            } => {
                self.total.store(total, Ordering::Relaxed);
                match &self.bar {
                    Some(bar) => bar.set_length(total as u64),
                    None => eprintln!("{total} attempts to make ({already_done} already stored)"),
                }
            }
            Event::Answered { error_class, .. } => {
                let n = self.answered.fetch_add(1, Ordering::Relaxed) + 1;
                if error_class.is_some() {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
                let failed = self.failed.load(Ordering::Relaxed);
                match &self.bar {
                    Some(bar) => {
                        bar.set_position(n as u64);
                        if failed > 0 {
                            bar.set_message(format!("{failed} vendor errors"));
                        }
                    }
                    None => {
                        let total = self.total.load(Ordering::Relaxed).max(1);
                        let decile = n * 10 / total;
                        if decile > self.last_line_decile.swap(decile, Ordering::Relaxed) {
                            eprintln!("answered {n}/{total} ({failed} vendor errors)");
                        }
                    }
                }
            }
            Event::Graded { .. } => {}
            Event::JudgeChecked(check) => {
                if let Some(warning) = crate::cmd_judge::check_warning(&check) {
                    match &self.bar {
                        Some(bar) => bar.println(format!("warning: {warning}")),
                        None => eprintln!("warning: {warning}"),
                    }
                }
            }
            Event::GradeFailed {
                model,
                item,
                message,
            } => {
                self.grade_failures
                    .lock()
                    .expect("not poisoned")
                    .push(format!("{model} / {item}: {message}"));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        for failure in self.grade_failures.lock().expect("not poisoned").iter() {
            eprintln!("warning: ungraded (grader failure, not scored): {failure}");
        }
    }
}
