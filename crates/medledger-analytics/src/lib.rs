//! Revenue intelligence over a practice's claims history.
//!
//! - [`history`]: the columnar, interned claims-history model every report
//!   reads (from the ledger via [`load`], or from the simulator in
//!   `medledger-denials` as a serialized file).
//! - [`spec`]: the period (`--from`, `--to`, by date of service or of
//!   submission), the grouping (`--by`) and the `--as-of` date.
//! - [`metrics`]: clean-claim, acceptance, denial, overturn, A/R and
//!   collection figures, single-pass parallel scans over the columns.
//! - [`goldcard`]: prior-authorisation gold-card standing per payer program.
//! - [`drift`]: the coding engine's precision and recall per code family and
//!   ISO week, alerts, and before/after comparisons per code-set release.
//! - [`chart`]: SVG and PNG bar charts of any report.
//! - [`dashboard`]: the service dashboard's figures, from the same reports.
//! - [`bench`]: a labelled synthetic generator and a timing harness.
//!
//! Nothing here reads or prints PHI: the model holds ids, codes, payers,
//! provider NPIs, dates and amounts only.

pub mod bench;
pub mod chart;
pub mod dashboard;
pub mod drift;
pub mod goldcard;
pub mod history;
pub mod load;
pub mod metrics;
pub mod spec;
pub mod stats;

/// Errors of the analytics crate.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// An input value is invalid (names the field and the value).
    #[error("{field}: {message}")]
    Invalid {
        /// Which input (`--from`, `evaluation_dates[1]`, …).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with line/field where known.
        message: String,
    },
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] medledger_ledger::ledger::LedgerError),
    /// Drawing a chart failed.
    #[error("chart: {0}")]
    Chart(String),
}

/// Result alias.
pub type Result<T, E = AnalyticsError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> AnalyticsError {
    AnalyticsError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}
