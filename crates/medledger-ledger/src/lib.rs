//! The medledger ledger.
//!
//! - [`audit`]: the append-only, hash-chained audit trail with Ed25519-signed
//!   checkpoints, and its verifier;
//! - [`crypto`]: PHI encryption at rest (AES-256-GCM under per-organisation
//!   data keys wrapped by a master key), key files and rotation.

pub mod audit;
pub mod crypto;
pub mod fuzzing;
pub mod ledger;
pub mod store;
