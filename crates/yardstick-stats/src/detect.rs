//! Change detection on one series (a model's main score or one dimension,
//! one value per run): standardised residuals against a rolling baseline,
//! a two-sided tabular CUSUM with reset, and Adams–MacKay Bayesian online
//! change-point detection. Formulas in `docs/METHODS.md` ("Change detection").

use serde::{Deserialize, Serialize};

/// One run's score on a series and the standard error of that score
/// (the item-sampling uncertainty of the run, e.g. from the interval module).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub score: f64,
    pub se: f64,
}

/// Which runs form the reference level a run is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineConfig {
    /// How many runs the baseline averages.
    pub window: usize,
    /// How many runs just before the judged run are left out of its baseline,
    /// so that a drop spread over several days does not drag its own
    /// reference down with it.
    pub exclude_recent: usize,
    /// Fewest runs a baseline needs; earlier runs get no residual.
    pub min_runs: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            window: 28,
            exclude_recent: 7,
            min_runs: 10,
        }
    }
}

/// The reference level of a series for one run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Mean score of the baseline runs.
    pub mean: f64,
    /// Day-to-day variance not explained by item sampling:
    /// max(0, sample variance of the scores − mean squared SE).
    pub tau2: f64,
    /// Mean squared SE of the baseline runs: the typical sampling variance of one run.
    pub sampling_var: f64,
    /// Number of runs in the baseline.
    pub runs: usize,
}

impl Baseline {
    /// Variance of (y − baseline mean) for a run with standard error `se`
    /// when nothing changed: the run's sampling variance (never below the
    /// baseline's typical one — a run of two identical pass/fail items reports
    /// SE 0, which is not certainty), plus τ², plus the variance of the baseline mean.
    pub fn residual_variance(&self, se: f64) -> f64 {
        let per_run = self.sampling_var + self.tau2;
        (se * se).max(self.sampling_var) + self.tau2 + per_run / self.runs as f64
    }

    /// Variance of one run's score around the level when nothing changed
    /// (without the uncertainty of the baseline mean): what the online
    /// change-point model treats as known noise.
    pub fn run_variance(&self, se: f64) -> f64 {
        (se * se).max(self.sampling_var) + self.tau2
    }
}

/// A run's standardised residual and the baseline it was measured against.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Residual {
    /// (y − baseline mean) / sqrt(residual variance).
    pub z: f64,
    pub baseline: Baseline,
}

/// Standardised residual of every run (None while the history is too short
/// for a baseline). Runs are oldest first. Rolling sums keep it O(n).
pub fn standardised_residuals(
    observations: &[Observation],
    config: &BaselineConfig,
) -> Vec<Option<Residual>> {
    // prefix[i] = sums over observations[..i] of (y, y², se²).
    let mut prefix = Vec::with_capacity(observations.len() + 1);
    prefix.push((0.0, 0.0, 0.0));
    for o in observations {
        let (sy, syy, sss) = prefix[prefix.len() - 1];
        prefix.push((sy + o.score, syy + o.score * o.score, sss + o.se * o.se));
    }
    let min_runs = config.min_runs.max(2);
    observations
        .iter()
        .enumerate()
        .map(|(t, o)| {
            let end = t.checked_sub(config.exclude_recent)?;
            let start = end.saturating_sub(config.window);
            let runs = end - start;
            if runs < min_runs {
                return None;
            }
            let (sy, syy, sss) = (
                prefix[end].0 - prefix[start].0,
                prefix[end].1 - prefix[start].1,
                prefix[end].2 - prefix[start].2,
            );
            let n = runs as f64;
            let mean = sy / n;
            let variance = ((syy - sy * sy / n) / (n - 1.0)).max(0.0);
            let sampling_var = sss / n;
            let baseline = Baseline {
                mean,
                tau2: (variance - sampling_var).max(0.0),
                sampling_var,
                runs,
            };
            let sd = baseline.residual_variance(o.se).sqrt();
            // A constant history with SE 0 has nothing to compare against.
            (sd > 0.0).then(|| Residual {
                z: (o.score - mean) / sd,
                baseline,
            })
        })
        .collect()
}

/// Which way a series moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// Two-sided tabular CUSUM: reference value k and decision threshold h,
/// both in standard deviations of the residual.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CusumConfig {
    pub k: f64,
    pub h: f64,
}

/// The CUSUM sums after one run (before the reset an alarm causes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CusumState {
    /// S⁺: accumulated evidence of an upward shift.
    pub upper: f64,
    /// S⁻: accumulated evidence of a downward shift.
    pub lower: f64,
    /// Set when a sum reached h at this run; both sums restart from 0 afterwards.
    pub alarm: Option<Direction>,
}

impl CusumConfig {
    /// One CUSUM update from the previous state with residual z.
    pub fn step(&self, previous: &CusumState, z: f64) -> CusumState {
        let (upper, lower) = if previous.alarm.is_some() {
            (0.0, 0.0)
        } else {
            (previous.upper, previous.lower)
        };
        let upper = (upper + z - self.k).max(0.0);
        let lower = (lower - z - self.k).max(0.0);
        let alarm = match (upper >= self.h, lower >= self.h) {
            (false, false) => None,
            (true, false) => Some(Direction::Up),
            (false, true) => Some(Direction::Down),
            (true, true) if upper >= lower => Some(Direction::Up),
            (true, true) => Some(Direction::Down),
        };
        CusumState {
            upper,
            lower,
            alarm,
        }
    }

    /// CUSUM over a series of residuals; runs without a residual keep the
    /// previous sums (and cannot alarm).
    pub fn run(&self, residuals: impl IntoIterator<Item = Option<f64>>) -> Vec<CusumState> {
        let mut state = CusumState::default();
        residuals
            .into_iter()
            .map(|z| {
                state = match z {
                    Some(z) => self.step(&state, z),
                    None if state.alarm.is_some() => CusumState::default(),
                    None => state,
                };
                state
            })
            .collect()
    }
}

/// Adams–MacKay online change-point detection on the series' level.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BocpdConfig {
    /// Expected runs between changes (hazard H = 1/λ).
    pub expected_run_length: f64,
    /// "Recent" means within this many runs: the reported probability is
    /// P(the current level started within the last `recent_runs` runs).
    pub recent_runs: usize,
    /// Prior standard deviation (score points) of a new level around the baseline mean.
    pub new_level_sd: f64,
    /// Most run-length hypotheses kept (bounds the cost per run); the least
    /// likely ones beyond `recent_runs` are dropped first.
    pub max_hypotheses: usize,
}

impl Default for BocpdConfig {
    fn default() -> Self {
        BocpdConfig {
            expected_run_length: 120.0,
            recent_runs: 7,
            new_level_sd: 15.0,
            max_hypotheses: 100,
        }
    }
}

/// One hypothesis "the current level started `length` runs ago".
#[derive(Clone, Copy, Debug)]
struct Segment {
    log_weight: f64,
    mean: f64,
    var: f64,
    length: usize,
    /// The level that held when detection started (no change since).
    initial: bool,
}

/// Hypotheses with less posterior mass than e^-30 are dropped.
const PRUNE_LOG_WEIGHT: f64 = -30.0;

fn log_normal_density(x: f64, mean: f64, var: f64) -> f64 {
    -0.5 * ((x - mean) * (x - mean) / var + (2.0 * std::f64::consts::PI * var).ln())
}

/// P(the level changed within the last `recent_runs` runs), after each run
/// that has a residual (None for runs before the first baseline).
///
/// The first run with a baseline starts the initial level with the
/// baseline's mean and the variance of that mean as its prior; a new level
/// after a change has the baseline mean and `new_level_sd²` as its prior.
/// Each run's noise variance is s_t² (floored as in [`Baseline::run_variance`]) + τ².
pub fn change_probabilities(
    observations: &[Observation],
    residuals: &[Option<Residual>],
    config: &BocpdConfig,
) -> Vec<Option<f64>> {
    let log_hazard = (1.0 / config.expected_run_length).ln();
    let log_survival = (1.0 - 1.0 / config.expected_run_length).ln();
    let new_level_var = config.new_level_sd * config.new_level_sd;
    let mut segments: Vec<Segment> = Vec::new();
    let mut next: Vec<Segment> = Vec::new();
    let mut prior_mean = 0.0;
    observations
        .iter()
        .zip(residuals)
        .map(|(o, residual)| {
            let residual = residual.as_ref()?;
            let baseline = residual.baseline;
            let noise = baseline.run_variance(o.se);
            if segments.is_empty() {
                prior_mean = baseline.mean;
                segments.push(Segment {
                    log_weight: 0.0,
                    mean: baseline.mean,
                    var: (baseline.sampling_var + baseline.tau2) / baseline.runs as f64,
                    length: 0,
                    initial: true,
                });
            }
            next.clear();
            // A change just before this run: the run is the first of a new
            // level. The weights sum to 1, so its weight is the hazard.
            let new_level = Segment {
                log_weight: log_hazard,
                mean: prior_mean,
                var: new_level_var,
                length: 0,
                initial: false,
            };
            for s in segments.iter().chain(std::iter::once(&new_level)) {
                let is_new = !s.initial && s.length == 0;
                let log_weight = if is_new {
                    s.log_weight
                } else {
                    s.log_weight + log_survival
                } + log_normal_density(o.score, s.mean, s.var + noise);
                // Conjugate update of the level with this run.
                let var = 1.0 / (1.0 / s.var + 1.0 / noise);
                let mean = var * (s.mean / s.var + o.score / noise);
                next.push(Segment {
                    log_weight,
                    mean,
                    var,
                    length: s.length + 1,
                    initial: s.initial,
                });
            }
            normalise(&mut next);
            // Pruning (Adams & MacKay): hypotheses with negligible mass go,
            // and beyond `max_hypotheses` the least likely older one goes
            // (never the initial level, never a recent change), so that the
            // level in force survives however long ago it started.
            let before = next.len();
            next.retain(|s| s.initial || s.log_weight > PRUNE_LOG_WEIGHT);
            if next.len() > config.max_hypotheses {
                if let Some(weakest) = next
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| !s.initial && s.length > config.recent_runs)
                    .min_by(|a, b| a.1.log_weight.total_cmp(&b.1.log_weight))
                    .map(|(i, _)| i)
                {
                    next.remove(weakest);
                }
            }
            if next.len() < before {
                normalise(&mut next);
            }
            std::mem::swap(&mut segments, &mut next);
            Some(
                segments
                    .iter()
                    .filter(|s| !s.initial && s.length <= config.recent_runs)
                    .map(|s| s.log_weight.exp())
                    .sum(),
            )
        })
        .collect()
}

/// Makes the weights sum to 1.
fn normalise(segments: &mut [Segment]) {
    let total = log_sum_exp(segments.iter().map(|s| s.log_weight));
    for s in segments.iter_mut() {
        s.log_weight -= total;
    }
}

fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(n: usize, score: f64, se: f64) -> Vec<Observation> {
        vec![Observation { score, se }; n]
    }

    #[test]
    fn residuals_wait_for_a_baseline_and_skip_the_recent_runs() {
        let config = BaselineConfig {
            window: 5,
            exclude_recent: 2,
            min_runs: 3,
        };
        let mut obs = flat(10, 80.0, 5.0);
        obs[3].score = 90.0; // inside the baseline of run 8 only when window covers it
        let residuals = standardised_residuals(&obs, &config);
        // Run t needs t − 2 ≥ 3 baseline runs.
        assert!(residuals[..5].iter().all(Option::is_none));
        let r5 = residuals[5].unwrap();
        assert_eq!(r5.baseline.runs, 3);
        // Baseline of run 9 is runs 2..7 (5 runs): mean (4·80 + 90)/5.
        let r9 = residuals[9].unwrap();
        assert_eq!(r9.baseline.runs, 5);
        assert!((r9.baseline.mean - 82.0).abs() < 1e-12);
        // Sample variance 20, sampling variance 25 → τ² = 0.
        assert_eq!(r9.baseline.tau2, 0.0);
        let expected_sd = (25.0 + 25.0 / 5.0f64).sqrt();
        assert!((r9.z - (80.0 - 82.0) / expected_sd).abs() < 1e-12);
    }

    #[test]
    fn tau_squared_is_the_variance_sampling_does_not_explain() {
        let config = BaselineConfig {
            window: 4,
            exclude_recent: 0,
            min_runs: 4,
        };
        let scores = [70.0, 90.0, 70.0, 90.0, 80.0];
        let obs: Vec<_> = scores
            .iter()
            .map(|&score| Observation { score, se: 3.0 })
            .collect();
        let r = standardised_residuals(&obs, &config)[4].unwrap();
        // Sample variance of 70, 90, 70, 90 = 400/3.
        assert!((r.baseline.tau2 - (400.0 / 3.0 - 9.0)).abs() < 1e-9);
    }

    #[test]
    fn a_zero_se_run_uses_the_typical_sampling_variance() {
        let baseline = Baseline {
            mean: 90.0,
            tau2: 0.0,
            sampling_var: 450.0,
            runs: 20,
        };
        assert_eq!(
            baseline.residual_variance(0.0),
            baseline.residual_variance(10.0)
        );
        assert!(baseline.residual_variance(50.0) > 2500.0);
    }

    #[test]
    fn cusum_accumulates_alarms_and_resets() {
        let cusum = CusumConfig { k: 0.5, h: 4.0 };
        let states = cusum.run([-1.5, -1.5, -1.5, -1.5, -1.5, 0.0].map(Some));
        let lower: Vec<f64> = states.iter().map(|s| s.lower).collect();
        assert_eq!(lower, vec![1.0, 2.0, 3.0, 4.0, 1.0, 0.5]);
        assert_eq!(states[3].alarm, Some(Direction::Down));
        assert!(states
            .iter()
            .enumerate()
            .all(|(i, s)| (i == 3) == s.alarm.is_some()));
        let up = cusum.run([Some(3.0), None, Some(2.5)]);
        assert_eq!(up[1].upper, 2.5);
        assert_eq!(up[2].alarm, Some(Direction::Up));
    }

    #[test]
    fn bocpd_sees_a_recent_level_change_and_not_a_stable_series() {
        let config = BaselineConfig::default();
        let mut obs: Vec<Observation> = (0..60)
            .map(|i| Observation {
                score: 80.0 + if i % 2 == 0 { 4.0 } else { -4.0 },
                se: 4.0,
            })
            .collect();
        let stable = change_probabilities(
            &obs,
            &standardised_residuals(&obs, &config),
            &BocpdConfig::default(),
        );
        let last_stable = stable.last().unwrap().unwrap();
        assert!(last_stable < 0.1, "stable series: {last_stable}");
        for o in obs.iter_mut().skip(55) {
            o.score -= 25.0;
        }
        let changed = change_probabilities(
            &obs,
            &standardised_residuals(&obs, &config),
            &BocpdConfig::default(),
        );
        let last_changed = changed.last().unwrap().unwrap();
        assert!(last_changed > 0.9, "changed series: {last_changed}");
        assert!(changed[..config.exclude_recent + config.min_runs]
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn bocpd_keeps_a_level_that_started_long_ago() {
        let config = BaselineConfig::default();
        let obs: Vec<Observation> = (0..300)
            .map(|i| Observation {
                score: if i < 60 { 80.0 } else { 55.0 } + [4.0, -4.0, 2.0, -2.0][i % 4],
                se: 4.0,
            })
            .collect();
        let residuals = standardised_residuals(&obs, &config);
        for max_hypotheses in [20, 100] {
            let bocpd = BocpdConfig {
                max_hypotheses,
                ..BocpdConfig::default()
            };
            let p = change_probabilities(&obs, &residuals, &bocpd);
            assert!(p[64].unwrap() > 0.9, "just after the change: {:?}", p[64]);
            let last = p.last().unwrap().unwrap();
            assert!(
                last < 0.1,
                "240 runs after the change, {max_hypotheses} hypotheses: {last}"
            );
        }
    }
}
