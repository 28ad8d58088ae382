//! The statistics of `docs/SPEC.md` §2, with formulas and check values in
//! `docs/METHODS.md`. Everything here is pure: values in, values out; the
//! runner reads history from the store and writes what comes back.
//!
//! - [`dist`]: normal, Student t and Beta CDFs and quantiles.
//! - [`agreement`]: Krippendorff's α (interval) for the judge panel.
//! - [`interval`]: t, Wilson, Jeffreys, clustered SE, cluster bootstrap.
//! - [`paired`]: paired differences on shared items, Holm correction.
//! - [`day_effect`]: the field's shared move per day, each model relative to it.
//! - [`irt`]: Rasch / 2PL calibration, MAP ability, reference-scale scores;
//!   the additive item-effect model for 0–100 items.
//! - [`detect`]: two-sided CUSUM on standardised residuals, Bayesian online
//!   change-point detection.
//! - [`sprt`]: the confirmation run's sequential probability ratio test.
//! - [`verdict`]: noise / watch / likely / confirmed degradation / improvement.
//! - [`simulate`]: synthetic histories; false-alarm rate, delay and power.

pub mod agreement;
pub mod day_effect;
pub mod detect;
pub mod dist;
pub mod interval;
pub mod irt;
pub mod paired;
pub mod simulate;
pub mod sprt;
pub mod verdict;
