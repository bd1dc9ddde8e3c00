//! The append-only, hash-chained audit trail (HIPAA access logging included).
//!
//! Every coding run, suggestion decision, finalisation, claim event, read of
//! PHI, user administration, key rotation and policy change is one
//! [`AuditEntry`]. Entries form a single chain: each one commits to the hash
//! of the entry before it, and every `interval` entries (and on demand) an
//! [`AuditKind::Checkpoint`] entry is written whose hash is signed with an
//! Ed25519 key. [`verify`] walks a stored chain once, in O(n), and reports
//! every modification, deletion, insertion or reordering with the sequence
//! number where it shows.
//!
//! # Entry hash (canonical encoding, version 1)
//!
//! `hash = SHA-256(E)` where `E` is the concatenation of
//!
//! | # | bytes | content |
//! |---|---|---|
//! | 1 | 18 | the ASCII domain tag `medledger-audit-v1` (no length prefix) |
//! | 2 | 8 | `seq`, unsigned, big-endian |
//! | 3 | 16 | `at` as nanoseconds since 1970-01-01T00:00:00Z, signed 128-bit two's complement, big-endian |
//! | 4 | 8 + n | `org`: `LP(utf8)` |
//! | 5 | 8 + n | `actor`: `LP(utf8)` |
//! | 6 | 8 + n | `kind`: `LP` of its snake_case name (`coding_run`, `suggestion_decision`, `finalisation`, `claim_event`, `phi_read`, `user_admin`, `key_rotation`, `policy_change`, `checkpoint`) |
//! | 7 | 8 + n | `subject`: `LP(utf8)` |
//! | 8 | 8 + n | `detail`: `LP` of its canonical JSON text (below) |
//! | 9 | 32 | `prev_hash`, raw |
//!
//! where `LP(b)` is the length of `b` in bytes as an unsigned 64-bit
//! big-endian integer followed by `b`. `signature` and `key_id` are not
//! hashed: the signature is over the hash, and a changed `key_id` makes the
//! signature check fail or name an unknown key.
//!
//! **Canonical JSON** (what `serde_json::to_string` prints for a
//! `serde_json::Value` when the `preserve_order` feature is off; this module
//! writes it itself so the feature cannot change it): no whitespace;
//! `null`, `true`, `false`; integers in plain decimal (`-` for negatives, no
//! leading zeros or `+`); strings in double quotes with `"` → `\"`, `\` →
//! `\\`, U+0008 → `\b`, U+000C → `\f`, U+000A → `\n`, U+000D → `\r`,
//! U+0009 → `\t`, every other U+0000..U+001F → `\u00xx` (lower-case hex),
//! everything else (including `/`, U+007F and non-ASCII) as literal UTF-8;
//! arrays `[a,b]`; objects `{"k":v,...}` with keys sorted by their UTF-8
//! bytes. The writer refuses floating-point numbers in `detail` (their text
//! form does not reliably round-trip); put decimals in strings. When
//! verifying foreign data a float is printed in serde_json's shortest
//! round-trip form.
//!
//! **Checkpoint signatures**: `signature = Ed25519-Sign(key, hash)` over the
//! 32 raw hash bytes (RFC 8032, verified with the strict check, 64-byte
//! signature). `key_id` names the key: by default the lower-case hex of the
//! first 8 bytes of the public key. A checkpoint's `detail` is
//! `{"interval":I,"key_id":"…","reason":"genesis"|"interval"|"resume"|"requested"}`,
//! `org` is empty, `actor` is `engine:medledger-ledger/<version>` and
//! `subject` is `audit-chain`.
//!
//! # Checkpoint schedule
//!
//! - A new chain starts with a signed *genesis* checkpoint at seq 1 (written
//!   by the first [`AuditChain::append`]).
//! - After every `interval` ordinary entries a checkpoint follows
//!   (`interval == 0`: only on demand, via [`AuditChain::checkpoint`]).
//! - [`AuditChain::resume`] writes a checkpoint before the next entry unless
//!   the chain ends in a checkpoint by the same key with the same interval,
//!   so a crash between an entry and its checkpoint never leaves a longer
//!   unsigned run, and an interval or key change takes effect immediately.
//!
//! So a verifier can require: seq 1 is a checkpoint, and after a valid
//! checkpoint that declares interval `I > 0` there are never more than `I`
//! ordinary entries before the next checkpoint. Together with the signatures
//! this means any change to the stored rows is detected **except dropping a
//! suffix of the chain** (truncation): a chain cut after any entry is itself
//! a valid chain. [`VerifyReport::unsigned_tail`] says how many rows follow
//! the last valid signature, and [`VerifyReport::head`] gives the last
//! sequence number and hash: publish it elsewhere (a ticket, an e-mail, a
//! second system) and pass it back with [`Verifier::anchor`] to make
//! truncation before that point detectable too.
//!
//! Likewise, rows after the last signed checkpoint are protected by their
//! hashes only: someone who can write the store can drop them or append
//! correctly hashed forgeries there (more than `interval` of them show as
//! [`ProblemKind::MissingCheckpoint`]). Checkpoint often (or on demand,
//! e.g. at the end of each request batch or day) to keep that window small,
//! and verify before [`AuditChain::resume`].
//!
//! # What each tampering looks like
//!
//! | tampering | reported as |
//! |---|---|
//! | a field of a row changed (`seq`, `at`, `org`, `actor`, `kind`, `subject`, `detail`, `prev_hash`) | [`ProblemKind::HashMismatch`] at that row |
//! | the stored `hash` changed | `HashMismatch` there and [`ProblemKind::BrokenLink`] at the next row |
//! | a row deleted | [`ProblemKind::SequenceGap`] and `BrokenLink` at the row after it |
//! | a forged row inserted with its own seq | [`ProblemKind::SequenceOutOfOrder`] / [`ProblemKind::Duplicate`], `BrokenLink` at the next row |
//! | rows renumbered and re-hashed after an insertion, deletion or change | [`ProblemKind::BadSignature`] at the next checkpoint (or [`ProblemKind::MissingCheckpoint`] if checkpoints were removed) |
//! | two rows swapped | `SequenceGap`/`BrokenLink` and `SequenceOutOfOrder` |
//! | a signature changed, removed or added to an ordinary row | `BadSignature` |
//! | a checkpoint's `key_id` changed | [`ProblemKind::UnknownKey`] or `BadSignature` |
//! | truncation | not a problem; see `unsigned_tail`, `head` and [`Verifier::anchor`] ([`ProblemKind::Truncated`], [`ProblemKind::AnchorMismatch`]) |
//!
//! # Storage
//!
//! [`to_row`] / [`from_row`] map an entry to plain column types
//! ([`AuditRow`]): `i64`, `String`, `Vec<u8>`. Store `at` as the RFC 3339
//! text (it keeps nanoseconds, which a PostgreSQL `timestamptz` would not)
//! and `detail` as the canonical JSON text; [`from_row`] rejects a `detail`
//! that is not canonical (for example one with a duplicated key).

mod canon;
mod chain;
mod keys;
mod row;
mod verify;

pub use canon::{canonical_json, entry_hash};
pub use chain::{AuditChain, bench_chain};
pub use keys::{SigningKey, VerifyingKey};
pub use row::{AuditRow, from_row, to_row};
pub use verify::{ChainHead, MAX_PROBLEMS, Problem, ProblemKind, Verifier, VerifyReport, verify};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What happened. A closed set; stored as its snake_case name.
///
/// A suggestion decision's outcome (`accept`, `reject`, `edit`) goes in the
/// entry's `detail`, e.g. `{"decision":"accept","code":"E11.9"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// The coding engine ran over an encounter.
    CodingRun,
    /// A reviewer accepted, rejected or edited a suggestion.
    SuggestionDecision,
    /// An encounter's coding was finalised.
    Finalisation,
    /// A claim was built, scrubbed, sent, acknowledged, paid or denied.
    ClaimEvent,
    /// Someone viewed PHI (which patient's note, by whom, when).
    PhiRead,
    /// A user was created, changed, disabled, or given a role.
    UserAdmin,
    /// A signing or encryption key was rotated.
    KeyRotation,
    /// A policy or configuration changed.
    PolicyChange,
    /// A signed checkpoint (written by [`AuditChain`] only).
    Checkpoint,
}

impl AuditKind {
    /// Every kind, in declaration order.
    pub const ALL: [AuditKind; 9] = [
        AuditKind::CodingRun,
        AuditKind::SuggestionDecision,
        AuditKind::Finalisation,
        AuditKind::ClaimEvent,
        AuditKind::PhiRead,
        AuditKind::UserAdmin,
        AuditKind::KeyRotation,
        AuditKind::PolicyChange,
        AuditKind::Checkpoint,
    ];

    /// The snake_case name (same as serde), as hashed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::CodingRun => "coding_run",
            AuditKind::SuggestionDecision => "suggestion_decision",
            AuditKind::Finalisation => "finalisation",
            AuditKind::ClaimEvent => "claim_event",
            AuditKind::PhiRead => "phi_read",
            AuditKind::UserAdmin => "user_admin",
            AuditKind::KeyRotation => "key_rotation",
            AuditKind::PolicyChange => "policy_change",
            AuditKind::Checkpoint => "checkpoint",
        }
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuditKind {
    type Err = AuditError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| AuditError::UnknownKind(s.to_owned()))
    }
}

/// One audit row, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// 1-based, contiguous.
    pub seq: u64,
    /// When it happened (RFC 3339 in JSON and in [`AuditRow`]).
    pub at: jiff::Timestamp,
    /// Organisation id (empty for checkpoints).
    pub org: String,
    /// User id, or `engine:<version>`.
    pub actor: String,
    /// What happened.
    pub kind: AuditKind,
    /// What it is about: `encounter:42`, `patient:7`, `claim:9`. Ids only, never PHI.
    pub subject: String,
    /// Structured, PHI-free payload (ids, codes, reasons). No floats.
    pub detail: serde_json::Value,
    /// Hash of entry `seq - 1`; all zero for seq 1.
    #[serde(with = "hex32")]
    pub prev_hash: [u8; 32],
    /// SHA-256 over the canonical encoding of the fields above ([`entry_hash`]).
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    /// Ed25519 signature over `hash`; checkpoints only.
    #[serde(with = "hex_opt", default)]
    pub signature: Option<Vec<u8>>,
    /// Which key signed (checkpoints only).
    #[serde(default)]
    pub key_id: Option<String>,
}

/// Errors of the audit module.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The chain reached the largest storable sequence number.
    #[error("audit sequence number overflow after entry {0}")]
    SeqOverflow(u64),
    /// `detail` contains a floating-point number.
    #[error(
        "audit detail contains a floating-point number at {pointer:?}; put decimals in strings"
    )]
    FloatInDetail {
        /// JSON pointer to the number.
        pointer: String,
    },
    /// `detail` is nested too deeply.
    #[error("audit detail is nested more than {max} levels deep")]
    DetailTooDeep {
        /// The limit.
        max: usize,
    },
    /// Only the chain itself writes checkpoints.
    #[error(
        "audit entries of kind `checkpoint` are written by the chain itself; use AuditChain::checkpoint"
    )]
    ReservedKind,
    /// `AuditChain::resume` was given an entry that does not check out.
    #[error("cannot resume the audit chain from entry {seq}: {reason}")]
    BadResumePoint {
        /// The entry's seq.
        seq: u64,
        /// Why.
        reason: &'static str,
    },
    /// A stored row could not be turned back into an entry.
    #[error("audit row {seq}: bad {field}: {reason}")]
    BadRow {
        /// The row's seq column.
        seq: i64,
        /// The column.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An entry's seq does not fit an `i64` column.
    #[error("audit entry {0}: seq does not fit a 64-bit signed column")]
    SeqTooLarge(u64),
    /// Not an [`AuditKind`] name.
    #[error("unknown audit kind {0:?}")]
    UnknownKind(String),
    /// Key ids are 1 to 64 characters of `A-Z a-z 0-9 . _ : -`.
    #[error("invalid key id {0:?}: use 1 to 64 characters of A-Z a-z 0-9 . _ : -")]
    InvalidKeyId(String),
    /// Not a valid Ed25519 public key.
    #[error("invalid Ed25519 public key: {0}")]
    InvalidPublicKey(String),
    /// Reading or writing a key file failed.
    #[error("key file {path}: {source}")]
    KeyIo {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key file is not in the expected format.
    #[error("key file {path}: {reason}")]
    KeyFormat {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A secret key file can be read by other users.
    #[error(
        "signing key file {path} is accessible by other users (mode {mode:o}); run chmod 600 on it"
    )]
    KeyPermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The operating system could not supply randomness.
    #[error("no system randomness for key generation: {0}")]
    Entropy(String),
    /// Signing failed.
    #[error("signing the audit checkpoint failed: {0}")]
    Signing(String),
}

/// Thousands separators for messages: 1234567 → "1,234,567".
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `[u8; 32]` as a lower-case hex string.
pub(crate) mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.as_bytes(), &mut out)
            .map_err(|e| D::Error::custom(format!("expected 64 hex digits: {e}")))?;
        Ok(out)
    }
}

/// `Option<Vec<u8>>` as an optional hex string.
pub(crate) mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = Option::<std::borrow::Cow<str>>::deserialize(d)?;
        s.map(|s| hex::decode(s.as_bytes()).map_err(|e| D::Error::custom(format!("bad hex: {e}"))))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_match_serde() {
        for k in AuditKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(k.as_str().parse::<AuditKind>().unwrap(), k);
        }
        assert!(matches!(
            "Checkpoint".parse::<AuditKind>(),
            Err(AuditError::UnknownKind(_))
        ));
    }

    #[test]
    fn grouping() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(group(u64::MAX), "18,446,744,073,709,551,615");
    }
}
