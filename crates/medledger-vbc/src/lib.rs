//! Value-based care: MEAT support for HCC diagnoses, care gaps from
//! documented findings, ICD-10-CM to ICD-11 dual coding.
//!
//! - [`hcc`]: the [`HccLookup`] this crate needs from an HCC model (which
//!   HCCs a diagnosis maps to, which HCCs are chronic), a small table
//!   implementation, and the spans diagnoses arrive with.
//! - [`dual`]: ICD-10-CM → ICD-11 MMS through the WHO maps, walking up to
//!   the WHO ICD-10 ancestor; one-to-many maps stay choices.
//! - [`meat`]: Monitor / Evaluate / Assess / Treat evidence per HCC diagnosis.
//! - [`gaps`]: findings without a diagnosis or plan, and chronic HCCs not
//!   recaptured this year.
//! - [`lexicon`]: our curated condition → drug/test/synonym lexicon.
//!
//! Pure: no I/O beyond what the code-set engine reads from its data
//! directory; note text is never logged.

pub mod dual;
pub mod gaps;
pub mod hcc;
pub mod lexicon;
pub mod meat;
mod note;

pub use hcc::{CodedDiagnosis, HccLookup, HccRef, HccTable, Span};
