//! Service coding for medledger.
//!
//! - [`em`]: office/outpatient, hospital inpatient/observation, emergency
//!   department and preventive E/M levels from documented medical decision
//!   making (MDM) or total time, with the grid and evidence behind the level;
//! - [`monitoring`]: remote physiologic (RPM) and therapeutic (RTM)
//!   monitoring periods under the 2026 rules;
//! - [`dmht`]: digital mental-health treatment device codes and their
//!   prerequisites;
//! - [`pla`]: proprietary laboratory analyses (####U) from orders against a
//!   user-supplied PLA list;
//! - [`telehealth`]: place of service and modifiers from the documented
//!   modality.
//!
//! Every rule lives in a versioned rule file under `rules/` (embedded at
//! build time, replaceable at run time) with its effective dates and the
//! source it comes from. Only code numbers and our own plain-language labels
//! ship; no CPT descriptor text.

pub mod dmht;
pub mod em;
pub mod error;
pub mod fuzzing;
pub mod monitoring;
pub mod pla;
pub mod rules;
pub mod telehealth;

pub use error::{Error, Result};
pub use rules::{Evidence, RuleFileHeader, RuleMeta};
