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

/// Progress of long work: the code-set engine's trait, so the CLI's bars serve both.
pub use medledger_codesets::{NoProgress, Progress};
