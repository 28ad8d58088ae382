//! The `board` command's statistics options.

use clap::Args;
use yardstick_runner::leaderboard::{BoardOptions, MIN_BOOTSTRAP_RESAMPLES};

#[derive(Args, Debug, Clone, Default)]
pub struct BoardArgs {
    /// Intervals from a cluster bootstrap with N resamples (at least 1,000),
    /// seeded by the run's seed, instead of t / Wilson.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(MIN_BOOTSTRAP_RESAMPLES as i64..=1_000_000))]
    pub bootstrap: Option<u32>,
    /// Also compare every pair of models on the run's items (paired t,
    /// Holm-adjusted with the other comparisons on the board).
    #[arg(long)]
    pub compare: bool,
    /// Also show each model's average over its last N runs of this kind
    /// (this one included), with its interval.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub rolling: Option<u32>,
}

impl BoardArgs {
    /// The leaderboard options, with W from the configuration.
    pub fn options(&self, window: usize) -> BoardOptions {
        BoardOptions {
            window,
            bootstrap: self.bootstrap.map(|n| n as usize),
            compare: self.compare,
            rolling: self.rolling.map(|n| n as usize),
        }
    }
}
