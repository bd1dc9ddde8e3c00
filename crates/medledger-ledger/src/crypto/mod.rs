//! PHI encryption at rest, key files and rotation, passwords and API tokens.
//!
//! # Key hierarchy (envelope encryption)
//!
//! ```text
//! master key (32 bytes; env MEDLEDGER_MASTER_KEY, --master-key-file, or data_dir/master.key)
//!   └─ wraps (AES-256-GCM) ─► per-organisation data keys, versioned  [`WrappedKey`]
//!                               └─ seal (AES-256-GCM) ─► field blobs  [`seal`] / [`open`]
//!                               └─ derive (HMAC-SHA256) ─► blind-index key [`BlindIndexKey`]
//! ```
//!
//! - [`MasterKey`]: loaded by [`MasterKey::from_env_or_file`]; see [`master`] for the key-file
//!   format and the precedence rules.
//! - [`DataKey`]: 32 random bytes per organisation and version, stored only wrapped
//!   ([`WrappedKey`], AAD `b"medledger-dek-v1" || org || version_be32`).
//! - [`Keyring`]: all data-key versions of one organisation; seals with the current version and
//!   opens any version. Organisations are isolated: a keyring refuses another organisation's
//!   [`Aad`], and another organisation's keys fail authentication anyway.
//! - Field blobs ([`field`]): `0x01 | key_version u32 BE | nonce[12] | ciphertext || tag[16]`,
//!   with AAD binding organisation, table, column and row id, so a blob copied elsewhere fails.
//!
//! # Rotation
//!
//! - **Master-key rotation** (`medledger keys rotate --master`): load the old and the new master
//!   key, [`rewrap_all`] the stored [`WrappedKey`]s, store them, then retire the old master key.
//!   Field ciphertexts are untouched (they are under the data keys, which do not change).
//! - **Data-key rotation** (`medledger keys rotate`): [`Keyring::rotate`] adds a new current
//!   version; new writes use it immediately and old versions stay readable. A background pass
//!   then [`reseal`]s every field whose [`blob_key_version`] is older than
//!   [`Keyring::current_version`], and recomputes blind indexes with the new
//!   [`Keyring::blind_index_key`]. Once no blob uses an old version it may be dropped from the
//!   stored wrapped keys. AES-GCM with random 96-bit nonces should see well under 2^32
//!   encryptions per data key; rotate long before that.
//!
//! # Secrets hygiene
//!
//! Key bytes live in [`secrecy::SecretBox`] (zeroized on drop, never copied out by this API);
//! cipher states are zeroized on drop (`aes-gcm`/`hmac` `zeroize` features). No type here prints
//! a secret in `Debug`, and no [`CryptoError`] carries plaintext, key material or PHI: errors name
//! organisations, tables, columns, key versions, file paths and lengths only. No function panics
//! on any input.

pub mod auth;
pub mod blind;
pub mod field;
pub mod keys;
pub mod master;

use std::path::PathBuf;

use rand::TryRng;

pub use auth::{
    TOKEN_PREFIX, hash_password, hash_token, new_api_token, verify_password, verify_token,
};
pub use blind::{BlindIndexKey, blind_index, blind_index_parts, normalize_for_index};
pub use field::{Aad, FieldKeys, blob_key_version, open, reseal, seal};
pub use keys::{DataKey, Keyring, WrappedKey, rewrap_all};
pub use master::{KeySource, MASTER_KEY_ENV, MASTER_KEY_FILE_NAME, MASTER_KEY_PREFIX, MasterKey};

/// Length in bytes of every symmetric key here (AES-256, HMAC-SHA256).
pub const KEY_LEN: usize = 32;

/// Result alias of this module.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;

/// Everything that can go wrong in [`crate::crypto`].
///
/// Messages never contain plaintext, key material or PHI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Master-key material (environment value or file) did not parse. `origin` is
    /// `MEDLEDGER_MASTER_KEY` or the file path; `reason` never quotes the value.
    #[error("malformed master key from {origin}: {reason}")]
    MalformedMasterKey {
        /// Where the value came from (environment variable name or file path).
        origin: String,
        /// What is wrong, without quoting the value.
        reason: String,
    },
    /// Reading or writing a key file failed.
    #[error("master key file {}: {source}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// Encryption failed (input beyond AES-GCM limits).
    #[error("encryption failed: input too large")]
    Encrypt,
    /// A wrapped data key did not authenticate: wrong master key, or a tampered record.
    #[error(
        "cannot unwrap the data key of organisation {org} version {version}: wrong master key or tampered record"
    )]
    Unwrap {
        /// The organisation the wrapped key claims.
        org: String,
        /// Its data-key version.
        version: u32,
    },
    /// A key or field belongs to another organisation than the keyring.
    #[error("organisation mismatch: keyring of {expected} given data of {found}")]
    OrgMismatch {
        /// The keyring's organisation.
        expected: String,
        /// The organisation named by the other side.
        found: String,
    },
    /// The blob names a data-key version this keyring does not hold.
    #[error("organisation {org} has no data key version {version}")]
    UnknownKeyVersion {
        /// The organisation.
        org: String,
        /// The missing version.
        version: u32,
    },
    /// A keyring was built from no wrapped keys.
    #[error("organisation {org} has no data keys")]
    NoKeys {
        /// The organisation.
        org: String,
    },
    /// The same data-key version was given twice.
    #[error("organisation {org} has data key version {version} more than once")]
    DuplicateKeyVersion {
        /// The organisation.
        org: String,
        /// The repeated version.
        version: u32,
    },
    /// Data-key versions are exhausted (`u32::MAX` reached).
    #[error("organisation {org} has no data key version left to rotate to")]
    VersionOverflow {
        /// The organisation.
        org: String,
    },
    /// A field blob did not authenticate: wrong key, wrong org/table/column/row binding, or
    /// tampered bytes.
    #[error(
        "cannot decrypt {table}.{column} of organisation {org}: wrong key, wrong row binding or tampered data"
    )]
    Open {
        /// The organisation.
        org: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A field blob is structurally invalid.
    #[error("malformed encrypted field: {reason}")]
    MalformedBlob {
        /// What is wrong.
        reason: &'static str,
    },
    /// A field blob has an unknown format version byte.
    #[error("unsupported encrypted field format version {0}")]
    UnsupportedBlobFormat(u8),
    /// Password hashing failed.
    #[error("password hashing failed: {reason}")]
    PasswordHash {
        /// What failed.
        reason: &'static str,
    },
    /// A condition that the types rule out; reported instead of panicking.
    #[error("internal cryptography error: {0}")]
    Internal(&'static str),
}

/// Fills `dest` from the operating system's CSPRNG.
pub(crate) fn fill_random(dest: &mut [u8]) -> Result<()> {
    rand::rngs::SysRng
        .try_fill_bytes(dest)
        .map_err(|_| CryptoError::Rng)
}

/// Constant-time equality of two 32-byte values.
pub(crate) fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// Appends `bytes` with a `u64` big-endian length prefix (unambiguous concatenation).
pub(crate) fn push_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_works() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(ct_eq_32(&a, &b));
        b[31] ^= 1;
        assert!(!ct_eq_32(&a, &b));
    }

    #[test]
    fn random_fills() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
