//! Confidence intervals for scores (METHODS.md "Intervals").
//!
//! Every function returns one [`Interval`] type, on the scale of its input
//! (item scores 0–100 give 0–100 intervals; Wilson and Jeffreys give
//! proportions, which [`Interval::scaled`] turns into points). A function
//! returns `None` when its data cannot carry an interval (one item, one
//! cluster, nothing at all) rather than inventing one.
//!
//! - [`t_interval`]: s̄ ± t_{n−1} · SE for continuous item scores.
//! - [`wilson`], [`jeffreys`]: k of n pass/fail items.
//! - [`clustered_t`]: items sharing a cluster (a source document) are not
//!   independent; the clustered SE with C − 1 degrees of freedom.
//! - [`epochs_interval`]: K answers per item, Var(s̄) = (Var(x) + E[σ_i²]/K)/n.
//! - [`cluster_bootstrap`]: percentile interval from resampled clusters (or
//!   items), seeded, for one score or a weighted sum of independent scores.
//! - [`weighted_sum`]: Σ w_i · score_i of independent intervals (the main
//!   score, rolling averages) with Welch–Satterthwaite degrees of freedom.

use crate::dist::{normal_quantile, t_quantile};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The confidence level used throughout the board.
pub const LEVEL_95: f64 = 0.95;

/// How an interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// s̄ ± t_{n−1} · SE on item scores.
    T,
    /// s̄ ± t_{C−1} · SE_cl, the clustered standard error over C clusters.
    ClusteredT,
    /// t on per-item means of K epochs with the epochs variance formula.
    Epochs,
    /// Wilson score interval for k of n pass/fail items.
    Wilson,
    /// Jeffreys interval: Beta(k + ½, n − k + ½) quantiles.
    Jeffreys,
    /// Percentile interval of a cluster (or item) bootstrap.
    Bootstrap,
    /// A weighted sum of independent intervals, Welch–Satterthwaite df.
    WeightedSum,
}

impl Method {
    pub fn id(self) -> &'static str {
        match self {
            Method::T => "t",
            Method::ClusteredT => "clustered_t",
            Method::Epochs => "epochs",
            Method::Wilson => "wilson",
            Method::Jeffreys => "jeffreys",
            Method::Bootstrap => "bootstrap",
            Method::WeightedSum => "weighted_sum",
        }
    }
}

/// A point estimate with its two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Standard error of the estimate. For Wilson, Jeffreys and bootstrap
    /// intervals it is the SE that interval implies — (high − low)/(2z), resp.
    /// the replicates' standard deviation — so that intervals can be combined.
    pub se: f64,
    pub method: Method,
    /// Items behind the estimate.
    pub n: usize,
    /// Degrees of freedom of the t quantile used; `None`: the normal quantile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
}

impl Interval {
    /// Estimate ± quantile · SE, the quantile from t_df (or the normal).
    fn symmetric(
        estimate: f64,
        se: f64,
        df: Option<f64>,
        method: Method,
        n: usize,
        level: f64,
    ) -> Interval {
        let half = critical_value(level, df) * se;
        Interval {
            estimate,
            low: estimate - half,
            high: estimate + half,
            se,
            method,
            n,
            df,
            level,
        }
    }

    /// The same interval in other units (proportion × 100 = points).
    pub fn scaled(self, factor: f64) -> Interval {
        Interval {
            estimate: self.estimate * factor,
            low: self.low * factor,
            high: self.high * factor,
            se: self.se * factor,
            ..self
        }
    }

    /// Endpoints kept within the scale [min, max] the score lives on (a t
    /// interval around 95 on a 0–100 scale must not reach 107).
    pub fn bounded(self, min: f64, max: f64) -> Interval {
        Interval {
            low: self.low.clamp(min, max),
            high: self.high.clamp(min, max),
            ..self
        }
    }

    /// The interval of min(score, cap): a published score capped at `cap`
    /// has its estimate and both ends capped too.
    pub fn capped(self, cap: f64) -> Interval {
        Interval {
            estimate: self.estimate.min(cap),
            low: self.low.min(cap),
            high: self.high.min(cap),
            ..self
        }
    }

    /// Distance from the estimate down to `low` and up to `high`.
    pub fn margins(&self) -> (f64, f64) {
        (self.estimate - self.low, self.high - self.estimate)
    }
}

/// The two-sided critical value for `level`: t_{df, (1+level)/2}, or the
/// normal's when `df` is `None`.
pub fn critical_value(level: f64, df: Option<f64>) -> f64 {
    let p = (1.0 + level) / 2.0;
    match df {
        Some(df) => t_quantile(p, df),
        None => normal_quantile(p),
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (n − 1); callers ensure n ≥ 2.
fn sample_variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// s̄ ± t_{n−1, (1+level)/2} · sd/√n. `None` below two scores.
pub fn t_interval(scores: &[f64], level: f64) -> Option<Interval> {
    let n = scores.len();
    if n < 2 {
        return None;
    }
    let se = (sample_variance(scores) / n as f64).sqrt();
    Some(Interval::symmetric(
        mean(scores),
        se,
        Some((n - 1) as f64),
        Method::T,
        n,
        level,
    ))
}

/// Wilson score interval for k passes of n (proportions). `None` for n = 0
/// or k > n.
pub fn wilson(k: usize, n: usize, level: f64) -> Option<Interval> {
    if n == 0 || k > n {
        return None;
    }
    let z = critical_value(level, None);
    let nf = n as f64;
    let p = k as f64 / nf;
    let z2n = z * z / nf;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt();
    let (low, high) = ((centre - half).max(0.0), (centre + half).min(1.0));
    Some(Interval {
        estimate: p,
        low,
        high,
        se: (high - low) / (2.0 * z),
        method: Method::Wilson,
        n,
        df: None,
        level,
    })
}

/// Jeffreys interval for k passes of n: Beta(k + ½, n − k + ½) quantiles at
/// α/2 and 1 − α/2, with the lower end 0 at k = 0 and the upper 1 at k = n
/// (Brown, Cai & DasGupta 2001). `None` for n = 0 or k > n.
pub fn jeffreys(k: usize, n: usize, level: f64) -> Option<Interval> {
    if n == 0 || k > n {
        return None;
    }
    let alpha = 1.0 - level;
    let (a, b) = (k as f64 + 0.5, (n - k) as f64 + 0.5);
    let low = if k == 0 {
        0.0
    } else {
        crate::dist::beta_quantile(alpha / 2.0, a, b)
    };
    let high = if k == n {
        1.0
    } else {
        crate::dist::beta_quantile(1.0 - alpha / 2.0, a, b)
    };
    Some(Interval {
        estimate: k as f64 / n as f64,
        low,
        high,
        se: (high - low) / (2.0 * critical_value(level, None)),
        method: Method::Jeffreys,
        n,
        df: None,
        level,
    })
}

/// Groups item indices by cluster; an item without a cluster is its own.
fn cluster_groups(clusters: &[Option<&str>]) -> Vec<Vec<usize>> {
    let mut named: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut groups = Vec::new();
    for (i, c) in clusters.iter().enumerate() {
        match c {
            Some(name) => named.entry(name).or_default().push(i),
            None => groups.push(vec![i]),
        }
    }
    groups.extend(named.into_values());
    groups
}

/// s̄ ± t_{C−1} · SE_cl with SE_cl = sqrt( C/(C−1) · Σ_c (Σ_{i∈c} (s_i − s̄))² ) / n.
/// `clusters[i]` is item i's cluster (`None`: a cluster of its own). `None`
/// below two clusters, or when the two slices differ in length.
pub fn clustered_t(scores: &[f64], clusters: &[Option<&str>], level: f64) -> Option<Interval> {
    if scores.len() != clusters.len() {
        return None;
    }
    let groups = cluster_groups(clusters);
    let c = groups.len();
    if c < 2 {
        return None;
    }
    let n = scores.len();
    let m = mean(scores);
    let sum_sq: f64 = groups
        .iter()
        .map(|g| g.iter().map(|&i| scores[i] - m).sum::<f64>().powi(2))
        .sum();
    let cf = c as f64;
    let se = (cf / (cf - 1.0) * sum_sq).sqrt() / n as f64;
    Some(Interval::symmetric(
        m,
        se,
        Some(cf - 1.0),
        Method::ClusteredT,
        n,
        level,
    ))
}

/// The two parts of the variance of one answer with K epochs per item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochVariance {
    /// Var(x): variance of the items' true mean scores (estimated, ≥ 0).
    pub between_items: f64,
    /// E[σ_i²]: mean within-item variance across epochs.
    pub within_item: f64,
    /// K, the harmonic mean of answers per item.
    pub epochs: f64,
}

/// Splits the variance of per-item epoch means: the sample variance of the
/// means estimates Var(x) + E[σ_i²]/K, and E[σ_i²] is the mean within-item
/// sample variance of items with two or more answers. `None` below two items
/// or when an item has no answers.
pub fn epoch_variance(per_item: &[Vec<f64>]) -> Option<EpochVariance> {
    if per_item.len() < 2 || per_item.iter().any(|s| s.is_empty()) {
        return None;
    }
    let means: Vec<f64> = per_item.iter().map(|s| mean(s)).collect();
    let repeated: Vec<f64> = per_item
        .iter()
        .filter(|s| s.len() >= 2)
        .map(|s| sample_variance(s))
        .collect();
    let within_item = if repeated.is_empty() {
        0.0
    } else {
        mean(&repeated)
    };
    let epochs = per_item.len() as f64 / per_item.iter().map(|s| 1.0 / s.len() as f64).sum::<f64>();
    Some(EpochVariance {
        between_items: (sample_variance(&means) - within_item / epochs).max(0.0),
        within_item,
        epochs,
    })
}

/// The interval of the mean of per-item epoch means with
/// Var(s̄) = (Var(x) + E[σ_i²]/K)/n and n − 1 degrees of freedom. Equal to
/// [`t_interval`] on the means unless the items vary less than their epochs
/// do (Var(x) estimated at 0), where the epoch noise sets the width.
pub fn epochs_interval(per_item: &[Vec<f64>], level: f64) -> Option<Interval> {
    let v = epoch_variance(per_item)?;
    let n = per_item.len();
    let means: Vec<f64> = per_item.iter().map(|s| mean(s)).collect();
    let se = ((v.between_items + v.within_item / v.epochs) / n as f64).sqrt();
    Some(Interval::symmetric(
        mean(&means),
        se,
        Some((n - 1) as f64),
        Method::Epochs,
        n,
        level,
    ))
}

/// One independent score inside a bootstrap: its weight, item scores and
/// the items' clusters (`None`: a cluster of its own).
#[derive(Debug, Clone, Copy)]
pub struct BootstrapPart<'a> {
    pub weight: f64,
    pub scores: &'a [f64],
    pub clusters: &'a [Option<&'a str>],
}

/// Percentile bootstrap of Σ weight · mean(scores) over independent parts:
/// each replicate redraws every part's clusters with replacement (whole
/// clusters, so items of one document stay together) and takes the mean of
/// the items drawn. Seeded: the same inputs and seed give the same interval.
/// `None` with fewer than 2 resamples or a part without items.
pub fn cluster_bootstrap(
    parts: &[BootstrapPart<'_>],
    resamples: usize,
    seed: u64,
    level: f64,
) -> Option<Interval> {
    if resamples < 2
        || parts.is_empty()
        || parts
            .iter()
            .any(|p| p.scores.is_empty() || p.scores.len() != p.clusters.len())
    {
        return None;
    }
    let groups: Vec<Vec<Vec<usize>>> = parts.iter().map(|p| cluster_groups(p.clusters)).collect();
    let estimate: f64 = parts.iter().map(|p| p.weight * mean(p.scores)).sum();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut replicates: Vec<f64> = (0..resamples)
        .map(|_| {
            parts
                .iter()
                .zip(&groups)
                .map(|(part, groups)| {
                    let (mut sum, mut count) = (0.0, 0usize);
                    for _ in 0..groups.len() {
                        let g = &groups[rng.gen_range(0..groups.len())];
                        sum += g.iter().map(|&i| part.scores[i]).sum::<f64>();
                        count += g.len();
                    }
                    part.weight * sum / count as f64
                })
                .sum()
        })
        .collect();
    replicates.sort_by(f64::total_cmp);
    let alpha = 1.0 - level;
    Some(Interval {
        estimate,
        low: percentile(&replicates, alpha / 2.0),
        high: percentile(&replicates, 1.0 - alpha / 2.0),
        se: sample_variance(&replicates).sqrt(),
        method: Method::Bootstrap,
        n: parts.iter().map(|p| p.scores.len()).sum(),
        df: None,
        level,
    })
}

/// Linear interpolation between order statistics (R's type 7) of sorted data.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Welch–Satterthwaite degrees of freedom of a sum of independent terms
/// given as (variance, df); a term with `None` df (normal) counts as
/// infinite. `None` when every term is normal or the variance is zero.
pub fn satterthwaite_df(terms: &[(f64, Option<f64>)]) -> Option<f64> {
    let total: f64 = terms.iter().map(|(v, _)| v).sum();
    let denominator: f64 = terms
        .iter()
        .filter_map(|(v, df)| df.map(|df| v * v / df))
        .sum();
    (total > 0.0 && denominator > 0.0).then(|| total * total / denominator)
}

/// The interval of Σ w_i · X_i for independent estimates X_i: the estimate
/// and SE add up (SE² = Σ w_i² SE_i²), and the quantile is t with
/// Welch–Satterthwaite df (the normal when all parts are normal).
/// `None` for no parts.
pub fn weighted_sum(parts: &[(f64, Interval)], level: f64) -> Option<Interval> {
    if parts.is_empty() {
        return None;
    }
    let terms: Vec<(f64, Option<f64>)> = parts
        .iter()
        .map(|(w, i)| ((w * i.se).powi(2), i.df))
        .collect();
    let se = terms.iter().map(|(v, _)| v).sum::<f64>().sqrt();
    Some(Interval::symmetric(
        parts.iter().map(|(w, i)| w * i.estimate).sum(),
        se,
        satterthwaite_df(&terms),
        Method::WeightedSum,
        parts.iter().map(|(_, i)| i.n).sum(),
        level,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
    }

    #[test]
    fn wilson_reproduces_the_check_values() {
        // METHODS.md: 5/10 → [0.237, 0.763]; 8/10 → [0.490, 0.943]; 10/10 → [0.722, 1].
        for (k, low, high) in [(5, 0.237, 0.763), (8, 0.490, 0.943), (10, 0.722, 1.0)] {
            let i = wilson(k, 10, LEVEL_95).unwrap();
            close(i.low, low, 5e-4);
            close(i.high, high, 5e-4);
            close(i.estimate, k as f64 / 10.0, 1e-15);
            assert_eq!((i.method, i.n), (Method::Wilson, 10));
        }
        // 0/10 mirrors 10/10.
        let zero = wilson(0, 10, LEVEL_95).unwrap();
        close(zero.low, 0.0, 1e-15);
        // 0/10: upper end 1 − 1/(1 + z²/n).
        close(zero.high, 0.277_532_799_862_889_2, 1e-12);
        assert!(wilson(3, 2, LEVEL_95).is_none());
        assert!(wilson(0, 0, LEVEL_95).is_none());
    }

    #[test]
    fn jeffreys_matches_beta_quantiles() {
        // Independently: mpmath betainc root-finding at 30 digits.
        let i = jeffreys(8, 10, LEVEL_95).unwrap();
        close(i.low, 0.497_225_503_560_006_9, 1e-9);
        close(i.high, 0.955_940_586_447_369_2, 1e-9);
        let all = jeffreys(10, 10, LEVEL_95).unwrap();
        close(all.low, 0.782_803_732_490_789_4, 1e-9);
        assert_eq!(all.high, 1.0);
        let none = jeffreys(0, 10, LEVEL_95).unwrap();
        assert_eq!(none.low, 0.0);
        close(none.high, 0.217_196_267_509_210_6, 1e-9);
    }

    #[test]
    fn t_interval_uses_t_with_n_minus_1_df() {
        // Two items say almost nothing: 80, 100 → mean 90, SE 10, t_1 = 12.706.
        let i = t_interval(&[80.0, 100.0], LEVEL_95).unwrap();
        close(i.se, 10.0, 1e-12);
        close(i.high - i.estimate, 127.062_047_361_746_93, 1e-8);
        // Ten items 0, 10, …, 90: mean 45, Σ(s − s̄)² = 8250, SE = sqrt(8250/9/10).
        let scores: Vec<f64> = (0..10).map(|i| f64::from(i) * 10.0).collect();
        let i = t_interval(&scores, LEVEL_95).unwrap();
        close(i.estimate, 45.0, 1e-12);
        close(i.se, (8250.0_f64 / 9.0 / 10.0).sqrt(), 1e-12);
        close(i.high - 45.0, 2.262_157_162_798_205 * i.se, 1e-9);
        assert_eq!(i.df, Some(9.0));
        assert!(t_interval(&[50.0], LEVEL_95).is_none());
    }

    #[test]
    fn clustered_se_follows_the_formula_and_widens_for_correlated_items() {
        // Two documents of two items each; items within a document agree.
        let scores = [100.0, 100.0, 0.0, 0.0];
        let clusters = [Some("a"), Some("a"), Some("b"), Some("b")];
        let i = clustered_t(&scores, &clusters, LEVEL_95).unwrap();
        // s̄ = 50; cluster sums of deviations ±100; SE = sqrt(2 · 20000)/4 = 50.
        close(i.se, 50.0, 1e-12);
        assert_eq!((i.df, i.method), (Some(1.0), Method::ClusteredT));
        let plain = t_interval(&scores, LEVEL_95).unwrap();
        assert!(i.se > plain.se, "{} vs {}", i.se, plain.se);
        // Every item its own cluster: SE_cl = sqrt(n/(n−1) Σ d²)/n = sd/√n.
        let singles = [None, None, None, None];
        let i = clustered_t(&scores, &singles, LEVEL_95).unwrap();
        close(i.se, plain.se, 1e-12);
        assert!(clustered_t(&scores, &[Some("a"); 4], LEVEL_95).is_none());
        assert!(clustered_t(&scores, &singles[..3], LEVEL_95).is_none());
    }

    #[test]
    fn epochs_variance_splits_between_and_within() {
        // Items with means 60, 80 and within-item sd √200 (epochs 50/70, 70/90).
        let per_item = vec![vec![50.0, 70.0], vec![70.0, 90.0]];
        let v = epoch_variance(&per_item).unwrap();
        close(v.within_item, 200.0, 1e-12);
        close(v.epochs, 2.0, 1e-12);
        // Var of means = 200; Var(x) = 200 − 200/2 = 100.
        close(v.between_items, 100.0, 1e-12);
        let i = epochs_interval(&per_item, LEVEL_95).unwrap();
        // (100 + 200/2)/2 = 100 → SE 10: the t interval on the means.
        close(i.se, 10.0, 1e-12);
        close(i.se, t_interval(&[60.0, 80.0], LEVEL_95).unwrap().se, 1e-12);
        // Equal means but noisy epochs: Var(x) floors at 0, width from epochs.
        let per_item = vec![vec![0.0, 100.0], vec![100.0, 0.0], vec![50.0, 50.0]];
        let v = epoch_variance(&per_item).unwrap();
        assert_eq!(v.between_items, 0.0);
        let i = epochs_interval(&per_item, LEVEL_95).unwrap();
        close(i.se, (v.within_item / 2.0 / 3.0).sqrt(), 1e-12);
        assert!(i.se > 0.0);
        assert!(epochs_interval(&[vec![1.0]], LEVEL_95).is_none());
    }

    #[test]
    fn bootstrap_is_seeded_and_resamples_clusters() {
        let scores: Vec<f64> = (0..20)
            .map(|i| if i % 4 < 2 { 100.0 } else { 0.0 })
            .collect();
        let names: Vec<String> = (0..20).map(|i| format!("doc{}", i / 2)).collect();
        let clusters: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
        let part = BootstrapPart {
            weight: 1.0,
            scores: &scores,
            clusters: &clusters,
        };
        let a = cluster_bootstrap(&[part], 2_000, 7, LEVEL_95).unwrap();
        let b = cluster_bootstrap(&[part], 2_000, 7, LEVEL_95).unwrap();
        assert_eq!(a, b);
        assert_ne!(
            a.se,
            cluster_bootstrap(&[part], 2_000, 8, LEVEL_95).unwrap().se
        );
        close(a.estimate, 50.0, 1e-12);
        // Ten documents of agreeing pairs: the bootstrap SE is near the
        // clustered SE (50·sqrt(10/9·10)/20 ≈ 16.7), not the item SE (≈ 11.5).
        let clustered = clustered_t(&scores, &clusters, LEVEL_95).unwrap();
        close(a.se, clustered.se * (9.0_f64 / 10.0).sqrt(), 1.5);
        assert!(a.low < 50.0 && a.high > 50.0);
        // Weighted parts: the main score's 0.55/0.45 mix.
        let other = [80.0, 90.0, 100.0];
        let singles = [None, None, None];
        let mix = cluster_bootstrap(
            &[
                BootstrapPart {
                    weight: 0.55,
                    ..part
                },
                BootstrapPart {
                    weight: 0.45,
                    scores: &other,
                    clusters: &singles,
                },
            ],
            1_000,
            1,
            LEVEL_95,
        )
        .unwrap();
        close(mix.estimate, 0.55 * 50.0 + 0.45 * 90.0, 1e-12);
        assert_eq!(mix.n, 23);
        assert!(cluster_bootstrap(&[part], 1, 7, LEVEL_95).is_none());
    }

    #[test]
    fn weighted_sum_adds_variances_and_uses_satterthwaite_df() {
        let code = t_interval(&[90.0, 100.0, 95.0, 95.0], LEVEL_95).unwrap();
        let grounding = t_interval(&[70.0, 90.0, 80.5, 81.5, 80.0], LEVEL_95).unwrap();
        let main = weighted_sum(&[(0.55, code), (0.45, grounding)], LEVEL_95).unwrap();
        close(main.estimate, 0.55 * 95.0 + 0.45 * 80.4, 1e-12);
        let (v1, v2) = ((0.55 * code.se).powi(2), (0.45 * grounding.se).powi(2));
        close(main.se, (v1 + v2).sqrt(), 1e-12);
        let df = (v1 + v2).powi(2) / (v1 * v1 / 3.0 + v2 * v2 / 4.0);
        close(main.df.unwrap(), df, 1e-9);
        close(
            main.high - main.estimate,
            t_quantile(0.975, df) * main.se,
            1e-9,
        );
        // Normal parts stay normal.
        let w = wilson(8, 10, LEVEL_95).unwrap();
        let n = weighted_sum(&[(1.0, w)], LEVEL_95).unwrap();
        assert_eq!(n.df, None);
        close(n.high - n.estimate, 1.959_963_984_540_054 * w.se, 1e-12);
        assert!(weighted_sum(&[], LEVEL_95).is_none());
    }

    #[test]
    fn interval_scaling_bounds_and_cap() {
        let w = wilson(8, 10, LEVEL_95).unwrap().scaled(100.0);
        close(w.estimate, 80.0, 1e-12);
        close(w.low, 49.016, 5e-3);
        let t = t_interval(&[90.0, 100.0], LEVEL_95)
            .unwrap()
            .bounded(0.0, 100.0);
        assert_eq!(t.high, 100.0);
        // 95 ± 12.706 · 5: the low end stays, the high end stops at 100.
        let (down, up) = t.margins();
        close(down, 63.531_023_680_873_46, 1e-8);
        close(up, 5.0, 1e-12);
        let capped = t.capped(74.0);
        assert_eq!((capped.estimate, capped.high), (74.0, 74.0));
    }

    #[test]
    fn interval_serialises_with_its_method() {
        let json = serde_json::to_value(wilson(5, 10, LEVEL_95).unwrap()).unwrap();
        assert_eq!(json["method"], "wilson");
        assert_eq!(json["n"], 10);
        assert!(json.get("df").is_none());
    }
}
