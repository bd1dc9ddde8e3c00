//! Claims: build, scrub, write.
//!
//! - [`model`]: the claim (professional 837P and institutional 837I), its
//!   JSON form (`schema/claim.schema.json`) and its structural validation
//!   (NPI check digits, diagnosis pointers, limits of the implementation guides).

pub mod model;
pub mod payer;
pub mod scrub;
pub mod x837;
