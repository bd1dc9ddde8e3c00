//! Denial prediction learned from the practice's own remittances, and the
//! claims-history simulator it is evaluated on.
//!
//! - [`sim`]: a seeded, deterministic claims-history simulator whose payers
//!   follow hidden rules plus noise (documented in `docs/simulator.md`).
//! - [`features`]: the hashed, crossed features of a claim, with their names.
//! - [`model`]: an online (FTRL-Proximal) logistic regression over those
//!   features, Platt-calibrated, retrainable as new 835 outcomes arrive,
//!   plus a per-reason model for the most likely CARC.
//! - [`metrics`]: AUC (exact, ties averaged), Brier, log loss, calibration.
//! - [`eval`]: train on an early period, test on a later one.
//! - [`score`]: scoring a `medledger-claims` claim before submission.
//!
//! The model reads a [`History`](medledger_analytics::history::History) only;
//! it never sees the simulator's rules.

pub mod error;
pub mod eval;
pub mod features;
pub mod metrics;
pub mod model;
mod rng;
pub mod score;
pub mod sim;

pub use error::{DenialError, Result};
pub use eval::{Evaluation, evaluate};
pub use model::{Model, Prediction, TrainConfig};
pub use score::score_claim;
pub use sim::{SimConfig, simulate};

/// Progress of long work (the CLI draws bars; libraries report only).
pub trait Progress {
    /// A new stage with a total amount of work.
    fn stage(&self, label: &str, total: u64);
    /// Some of the work is done.
    fn advance(&self, amount: u64);
    /// The stage is finished.
    fn finish_stage(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish_stage(&self) {}
}
