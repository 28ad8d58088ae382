//! Paired comparisons on shared items (METHODS.md): d_i = s_{A,i} − s_{B,i},
//! SE = sd(d)/√n, two-sided p from t_{n−1}; weighted sums of independent
//! paired differences (the main score's 0.55/0.45 mix); Holm's correction
//! across the m comparisons of a board.

use crate::dist::t_two_sided_p;
use crate::interval::satterthwaite_df;
use serde::{Deserialize, Serialize};

/// A − B on shared items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedDiff {
    /// Shared items.
    pub n: usize,
    /// Mean of the differences A − B.
    pub mean: f64,
    pub se: f64,
    /// mean / se (±∞ when every difference is the same non-zero value).
    pub t: f64,
    /// Degrees of freedom of the t test (n − 1, or Welch–Satterthwaite for a
    /// weighted sum).
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

impl PairedDiff {
    fn from_parts(n: usize, mean: f64, se: f64, df: f64) -> PairedDiff {
        // Identical answers on every item: no difference and no evidence of one.
        let t = if se == 0.0 && mean == 0.0 {
            0.0
        } else {
            mean / se
        };
        PairedDiff {
            n,
            mean,
            se,
            t,
            df,
            p: t_two_sided_p(t, df),
        }
    }
}

/// The paired t test of `a[i] − b[i]`. `None` when the slices differ in
/// length or have fewer than two pairs.
pub fn paired(a: &[f64], b: &[f64]) -> Option<PairedDiff> {
    let n = a.len();
    if n != b.len() || n < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some(PairedDiff::from_parts(
        n,
        mean,
        (var / n as f64).sqrt(),
        (n - 1) as f64,
    ))
}

/// Σ w_i · D_i of independent paired differences (e.g. the main score's
/// move from its code-execution and grounding moves): SE² = Σ w_i² SE_i²,
/// df by Welch–Satterthwaite. `None` for no parts.
pub fn weighted(parts: &[(f64, PairedDiff)]) -> Option<PairedDiff> {
    if parts.is_empty() {
        return None;
    }
    let terms: Vec<(f64, Option<f64>)> = parts
        .iter()
        .map(|(w, d)| ((w * d.se).powi(2), Some(d.df)))
        .collect();
    let se = terms.iter().map(|(v, _)| v).sum::<f64>().sqrt();
    // With zero variance every part is exact; the smallest df is as good as any.
    let df = satterthwaite_df(&terms).unwrap_or_else(|| {
        parts
            .iter()
            .map(|(_, d)| d.df)
            .fold(f64::INFINITY, f64::min)
    });
    Some(PairedDiff::from_parts(
        parts.iter().map(|(_, d)| d.n).sum(),
        parts.iter().map(|(w, d)| w * d.mean).sum(),
        se,
        df,
    ))
}

/// One comparison after Holm's correction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Holm {
    /// Holm-adjusted p-value: max over i ≤ j of min(1, (m − i + 1) p_(i)).
    pub adjusted_p: f64,
    /// Rejected at family-wise level α.
    pub reject: bool,
}

/// Holm's step-down correction of `p` (in the caller's order): sort
/// ascending, reject p_(j) while p_(j) ≤ α/(m − j + 1). Returned in the
/// order of `p`.
pub fn holm(p: &[f64], alpha: f64) -> Vec<Holm> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![
        Holm {
            adjusted_p: 1.0,
            reject: false
        };
        m
    ];
    let mut running_max = 0.0_f64;
    for (j, &i) in order.iter().enumerate() {
        running_max = running_max.max(((m - j) as f64 * p[i]).min(1.0));
        out[i] = Holm {
            adjusted_p: running_max,
            reject: running_max <= alpha,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
    }

    #[test]
    fn paired_t_matches_a_hand_computation() {
        // d = 10, 20, 0, 10, 10: mean 10, sd √50, SE √10, t = √10, df 4.
        let a = [90.0, 100.0, 50.0, 60.0, 80.0];
        let b = [80.0, 80.0, 50.0, 50.0, 70.0];
        let d = paired(&a, &b).unwrap();
        assert_eq!((d.n, d.df), (5, 4.0));
        close(d.mean, 10.0, 1e-12);
        close(d.se, 10.0_f64.sqrt(), 1e-12);
        close(d.t, 10.0_f64.sqrt(), 1e-12);
        // 2·P(T_4 > √10) = I_{4/14}(2, ½) = 0.034109423167 (mpmath, 30 digits).
        close(d.p, 0.034_109_423_167_409_6, 1e-12);
        // Reversed: same p, opposite sign.
        let r = paired(&b, &a).unwrap();
        assert_eq!((r.mean, r.p), (-d.mean, d.p));
        assert!(paired(&a, &b[..4]).is_none());
        assert!(paired(&a[..1], &b[..1]).is_none());
    }

    #[test]
    fn identical_answers_are_no_difference() {
        let d = paired(&[100.0, 0.0, 50.0], &[100.0, 0.0, 50.0]).unwrap();
        assert_eq!((d.mean, d.t, d.p), (0.0, 0.0, 1.0));
        let shift = paired(&[100.0, 10.0], &[90.0, 0.0]).unwrap();
        assert_eq!(shift.p, 0.0);
    }

    #[test]
    fn weighted_difference_combines_independent_parts() {
        let code = paired(&[100.0, 100.0, 0.0, 100.0], &[100.0, 0.0, 0.0, 0.0]).unwrap();
        let grounding = paired(&[80.0, 70.0, 90.0], &[70.0, 70.0, 80.0]).unwrap();
        let main = weighted(&[(0.55, code), (0.45, grounding)]).unwrap();
        close(main.mean, 0.55 * code.mean + 0.45 * grounding.mean, 1e-12);
        let (v1, v2) = ((0.55 * code.se).powi(2), (0.45 * grounding.se).powi(2));
        close(main.se, (v1 + v2).sqrt(), 1e-12);
        close(
            main.df,
            (v1 + v2).powi(2) / (v1 * v1 / 3.0 + v2 * v2 / 2.0),
            1e-9,
        );
        assert_eq!(main.n, 7);
    }

    #[test]
    fn holm_adjusts_and_rejects_step_down() {
        // m = 4: sorted 0.01, 0.02, 0.03, 0.04 → 0.04, 0.06, 0.06, 0.06.
        let h = holm(&[0.03, 0.01, 0.04, 0.02], 0.05);
        let adjusted: Vec<f64> = h.iter().map(|x| x.adjusted_p).collect();
        for (got, want) in adjusted.iter().zip([0.06, 0.04, 0.06, 0.06]) {
            close(*got, want, 1e-12);
        }
        let rejected: Vec<bool> = h.iter().map(|x| x.reject).collect();
        assert_eq!(rejected, [false, true, false, false]);
        // Capped at 1, and an empty family is empty.
        assert_eq!(holm(&[0.5, 0.9], 0.05)[1].adjusted_p, 1.0);
        assert!(holm(&[], 0.05).is_empty());
    }
}
