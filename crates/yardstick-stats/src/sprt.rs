//! The confirmation run's sequential probability ratio test (Wald): items of
//! the affected dimension are scored one after another and the log-likelihood
//! ratio of "degraded" (H1) against "as before" (H0) decides as soon as it
//! crosses a bound. Formulas in `docs/METHODS.md` ("Confirmation run").

use serde::{Deserialize, Serialize};

/// What a confirmation run decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SprtDecision {
    /// H1 accepted: the drop is real.
    Confirmed,
    /// H0 accepted: the model performs as before.
    Cleared,
    /// Neither bound was crossed within the cap (or the items ran out).
    Undecided,
}

/// Error rates and the item cap shared by both forms of the test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SprtConfig {
    /// P(confirm | no drop).
    pub alpha: f64,
    /// P(clear | drop of the stated size).
    pub beta: f64,
    /// Most items scored before the test gives up as undecided.
    pub max_items: usize,
}

impl Default for SprtConfig {
    fn default() -> Self {
        SprtConfig {
            alpha: 0.05,
            beta: 0.10,
            max_items: 100,
        }
    }
}

/// The test's outcome and the numbers behind it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SprtResult {
    pub decision: SprtDecision,
    /// Λ when the test stopped.
    pub log_likelihood_ratio: f64,
    /// ln((1 − β)/α): Λ at or above confirms.
    pub confirm_bound: f64,
    /// ln(β/(1 − α)): Λ at or below clears.
    pub clear_bound: f64,
    /// Items scored before the test stopped.
    pub items_used: usize,
    /// Items the confirmation run provided.
    pub items_available: usize,
}

/// Why a test could not be set up.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SprtError {
    #[error("SPRT error rates must satisfy 0 < alpha, 0 < beta, alpha + beta < 1 (got alpha = {alpha}, beta = {beta})")]
    ErrorRates { alpha: f64, beta: f64 },
    #[error("SPRT needs max_items ≥ 1")]
    NoItems,
    #[error("pass/fail SPRT needs 0 < p1 < p0 < 1 (got p0 = {p0}, p1 = {p1}); p1 is the degraded pass rate")]
    PassRates { p0: f64, p1: f64 },
    #[error("continuous SPRT needs a finite mean, drop > 0 and item sd > 0 (got mean = {mean}, drop = {drop}, sd = {sd})")]
    Continuous { mean: f64, drop: f64, sd: f64 },
}

impl SprtConfig {
    fn validate(&self) -> Result<(), SprtError> {
        let rates_ok = self.alpha > 0.0 && self.beta > 0.0 && self.alpha + self.beta < 1.0;
        if !rates_ok {
            return Err(SprtError::ErrorRates {
                alpha: self.alpha,
                beta: self.beta,
            });
        }
        if self.max_items == 0 {
            return Err(SprtError::NoItems);
        }
        Ok(())
    }

    /// Wald's sequential test on per-item log-likelihood ratios.
    fn decide(&self, weights: impl ExactSizeIterator<Item = f64>) -> SprtResult {
        let confirm_bound = ((1.0 - self.beta) / self.alpha).ln();
        let clear_bound = (self.beta / (1.0 - self.alpha)).ln();
        let items_available = weights.len();
        let mut llr = 0.0;
        let mut items_used = 0;
        let mut decision = SprtDecision::Undecided;
        for w in weights.take(self.max_items) {
            llr += w;
            items_used += 1;
            if llr >= confirm_bound {
                decision = SprtDecision::Confirmed;
                break;
            }
            if llr <= clear_bound {
                decision = SprtDecision::Cleared;
                break;
            }
        }
        SprtResult {
            decision,
            log_likelihood_ratio: llr,
            confirm_bound,
            clear_bound,
            items_used,
            items_available,
        }
    }
}

/// Pass/fail items: H0 p = p0 (the model's usual pass rate) against H1 p = p1 < p0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassFailSprt {
    pub p0: f64,
    pub p1: f64,
    pub config: SprtConfig,
}

impl PassFailSprt {
    pub fn new(p0: f64, p1: f64, config: SprtConfig) -> Result<Self, SprtError> {
        config.validate()?;
        if !(0.0 < p1 && p1 < p0 && p0 < 1.0) {
            return Err(SprtError::PassRates { p0, p1 });
        }
        Ok(PassFailSprt { p0, p1, config })
    }

    /// Runs the test over the confirmation run's outcomes in the order scored.
    pub fn test(&self, passed: &[bool]) -> SprtResult {
        let pass = (self.p1 / self.p0).ln();
        let fail = ((1.0 - self.p1) / (1.0 - self.p0)).ln();
        self.config
            .decide(passed.iter().map(|&u| if u { pass } else { fail }))
    }
}

/// Continuous 0–100 item scores with known per-item sd: H0 mean = μ0 against
/// H1 mean = μ0 − drop.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinuousSprt {
    pub mean: f64,
    pub drop: f64,
    pub sd: f64,
    pub config: SprtConfig,
}

impl ContinuousSprt {
    pub fn new(mean: f64, drop: f64, sd: f64, config: SprtConfig) -> Result<Self, SprtError> {
        config.validate()?;
        if !(mean.is_finite() && drop > 0.0 && drop.is_finite() && sd > 0.0 && sd.is_finite()) {
            return Err(SprtError::Continuous { mean, drop, sd });
        }
        Ok(ContinuousSprt {
            mean,
            drop,
            sd,
            config,
        })
    }

    /// Runs the test over the confirmation run's item scores in the order scored.
    pub fn test(&self, scores: &[f64]) -> SprtResult {
        // ln N(x; μ0 − δ, σ²) − ln N(x; μ0, σ²) = (δ/σ²)(μ0 − δ/2 − x).
        let slope = self.drop / (self.sd * self.sd);
        let midpoint = self.mean - self.drop / 2.0;
        self.config
            .decide(scores.iter().map(|&x| slope * (midpoint - x)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_weights_follow_wald() {
        let test = PassFailSprt::new(0.9, 0.7, SprtConfig::default()).unwrap();
        // Fails weigh ln(0.3/0.1) = ln 3 each; ln(0.9/0.05) = 2.890 needs three.
        let r = test.test(&[false, false, false, true]);
        assert_eq!(r.decision, SprtDecision::Confirmed);
        assert_eq!(r.items_used, 3);
        assert!((r.log_likelihood_ratio - 3.0 * 3f64.ln()).abs() < 1e-12);
        assert!((r.confirm_bound - 18f64.ln()).abs() < 1e-12);
        // Passes weigh ln(7/9) = −0.2513; ln(0.1/0.95) = −2.251 needs nine.
        let r = test.test(&[true; 20]);
        assert_eq!(r.decision, SprtDecision::Cleared);
        assert_eq!(r.items_used, 9);
        assert_eq!(r.items_available, 20);
    }

    #[test]
    fn the_cap_and_running_out_leave_it_undecided() {
        let capped = SprtConfig {
            max_items: 4,
            ..SprtConfig::default()
        };
        let test = PassFailSprt::new(0.9, 0.7, capped).unwrap();
        let r = test.test(&[true, false, true, true, false, false, false]);
        assert_eq!(r.decision, SprtDecision::Undecided);
        assert_eq!(r.items_used, 4);
        let short = ContinuousSprt::new(90.0, 20.0, 25.0, SprtConfig::default()).unwrap();
        let r = short.test(&[80.0]);
        assert_eq!(r.decision, SprtDecision::Undecided);
        assert_eq!(r.items_used, 1);
    }

    #[test]
    fn continuous_weights_point_at_the_drop() {
        let test = ContinuousSprt::new(90.0, 20.0, 25.0, SprtConfig::default()).unwrap();
        // A score at μ0 − δ/2 = 80 carries no evidence; lower favours H1.
        assert_eq!(test.test(&[80.0]).log_likelihood_ratio, 0.0);
        let r = test.test(&[60.0]);
        assert!((r.log_likelihood_ratio - 20.0 / 625.0 * 20.0).abs() < 1e-12);
        assert_eq!(test.test(&[50.0; 10]).decision, SprtDecision::Confirmed);
        assert_eq!(test.test(&[95.0; 10]).decision, SprtDecision::Cleared);
    }

    #[test]
    fn bad_setups_are_refused_with_the_values() {
        let err = PassFailSprt::new(0.7, 0.9, SprtConfig::default()).unwrap_err();
        assert!(err.to_string().contains("p0 = 0.7, p1 = 0.9"), "{err}");
        let rates = SprtConfig {
            alpha: 0.6,
            beta: 0.5,
            max_items: 10,
        };
        assert!(matches!(
            ContinuousSprt::new(90.0, 10.0, 20.0, rates),
            Err(SprtError::ErrorRates { .. })
        ));
        assert!(ContinuousSprt::new(90.0, 0.0, 20.0, SprtConfig::default()).is_err());
        assert!(ContinuousSprt::new(90.0, 10.0, 0.0, SprtConfig::default()).is_err());
    }
}
