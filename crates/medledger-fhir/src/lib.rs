//! FHIR R4 in and out for medledger.
//!
//! - [`parse_bundle`] / [`parse_resource`]: our own serde model of the R4
//!   resources we read and write ([`resources`], [`datatypes`]), with
//!   FHIRPath-style error locations and no PHI in messages, then
//!   [`validate`] (codes, cardinalities, references inside the bundle);
//! - [`ingest`]: a Bundle → encounters with patient, notes, conditions,
//!   procedures, observations, providers and payer, plus a report;
//! - [`claim`]: our claim model → a FHIR `collection` Bundle with Claim,
//!   Patient, Organization(s), Practitioner(s) and Coverage;
//! - [`remit`]: ClaimResponse / ExplanationOfBenefit → a remittance shape
//!   and the ledger's `RemittancePosting` (posted exactly like an 835);
//! - [`fuzzing`], [`bench`].

pub mod bench;
pub mod claim;
pub mod datatypes;
pub mod error;
pub mod fuzzing;
pub mod ingest;
pub mod parse;
pub mod remit;
pub mod resources;
mod text;
pub mod validate;

pub use error::{FhirError, Issue};
pub use parse::{
    Bundle, BundleEntry, BundleRequest, parse_bundle, parse_bundle_unchecked, parse_resource,
};
pub use resources::Resource;

/// Removes `null`s and empty arrays, recursively (FHIR JSON has neither;
/// empty objects are kept: a required element given as `{}` stays given).
pub(crate) fn prune(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => false,
        Value::Array(a) => {
            a.retain_mut(prune);
            !a.is_empty()
        }
        Value::Object(m) => {
            m.retain(|_, x| prune(x));
            true
        }
        _ => true,
    }
}
