//! Field encryption: sealed blobs bound to their organisation, table, column and row.
//!
//! # Blob format (version 1)
//!
//! ```text
//! offset  len  field
//! 0       1    format version = 0x01
//! 1       4    data-key version, u32 big-endian
//! 5       12   random AES-GCM nonce
//! 17      n+16 AES-256-GCM ciphertext of the n plaintext bytes, then the tag
//! ```
//!
//! The AAD is never stored; both sides rebuild it:
//!
//! ```text
//! b"medledger-field-v1" || 0x01 || key_version u32 BE
//!   || len64(org) || org || len64(table) || table || len64(column) || column || len64(row) || row
//! ```
//!
//! (`len64` = u64 big-endian byte length). The header is therefore authenticated too, and a blob
//! copied to another row, column, table or organisation fails to open.

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Payload};
use zeroize::Zeroizing;

use super::keys::{DataKey, Keyring};
use super::{CryptoError, Result, fill_random, push_len_prefixed};

/// The blob format version byte.
pub const BLOB_FORMAT_V1: u8 = 1;
const AAD_PREFIX: &[u8] = b"medledger-field-v1";
const HEADER_LEN: usize = 1 + 4 + 12;
const TAG_LEN: usize = 16;
/// The shortest valid blob (empty plaintext).
pub const MIN_BLOB_LEN: usize = HEADER_LEN + TAG_LEN;

/// Where a field lives; bound into its ciphertext as associated data.
///
/// None of these may be PHI (they appear in error messages, except `row`): use internal ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The table.
    pub table: &'a str,
    /// The column.
    pub column: &'a str,
    /// The row's stable id (primary key).
    pub row: &'a str,
}

impl<'a> Aad<'a> {
    /// Builds an AAD.
    #[must_use]
    pub fn new(org: &'a str, table: &'a str, column: &'a str, row: &'a str) -> Self {
        Aad {
            org,
            table,
            column,
            row,
        }
    }

    fn encode(&self, key_version: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            AAD_PREFIX.len()
                + 5
                + 32
                + self.org.len()
                + self.table.len()
                + self.column.len()
                + self.row.len(),
        );
        out.extend_from_slice(AAD_PREFIX);
        out.push(BLOB_FORMAT_V1);
        out.extend_from_slice(&key_version.to_be_bytes());
        for part in [self.org, self.table, self.column, self.row] {
            push_len_prefixed(&mut out, part.as_bytes());
        }
        out
    }

    fn open_error(&self) -> CryptoError {
        CryptoError::Open {
            org: self.org.to_string(),
            table: self.table.to_string(),
            column: self.column.to_string(),
        }
    }
}

/// Keys that can open blobs: a [`Keyring`] (any version it holds, its organisation only) or a
/// single [`DataKey`] (whatever version the blob names).
pub trait FieldKeys {
    /// The organisation these keys are restricted to, if any.
    fn org(&self) -> Option<&str>;
    /// The key for a blob of `version`.
    fn key_for(&self, version: u32) -> Option<&DataKey>;
}

impl FieldKeys for Keyring {
    fn org(&self) -> Option<&str> {
        Some(Keyring::org(self))
    }
    fn key_for(&self, version: u32) -> Option<&DataKey> {
        self.key(version)
    }
}

impl FieldKeys for DataKey {
    fn org(&self) -> Option<&str> {
        None
    }
    fn key_for(&self, _version: u32) -> Option<&DataKey> {
        Some(self)
    }
}

/// Encrypts one field value under `key` (which is version `key_version` of `aad.org`'s keys).
///
/// # Errors
/// [`CryptoError::Rng`] if no nonce can be drawn, [`CryptoError::Encrypt`] beyond AES-GCM's
/// 64 GiB limit.
pub fn seal(key: &DataKey, key_version: u32, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; 12];
    fill_random(&mut nonce)?;
    let aad_bytes = aad.encode(key_version);
    let ciphertext = key
        .cipher()
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad_bytes,
            },
        )
        .map_err(|_| CryptoError::Encrypt)?;
    let mut blob = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    blob.push(BLOB_FORMAT_V1);
    blob.extend_from_slice(&key_version.to_be_bytes());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&ciphertext);
    Ok(blob)
}

struct Parsed<'b> {
    key_version: u32,
    nonce: [u8; 12],
    ciphertext: &'b [u8],
}

fn parse(blob: &[u8]) -> Result<Parsed<'_>> {
    let Some((&format, rest)) = blob.split_first() else {
        return Err(CryptoError::MalformedBlob { reason: "empty" });
    };
    if format != BLOB_FORMAT_V1 {
        return Err(CryptoError::UnsupportedBlobFormat(format));
    }
    if blob.len() < MIN_BLOB_LEN {
        return Err(CryptoError::MalformedBlob {
            reason: "shorter than header and tag",
        });
    }
    let (version, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(CryptoError::MalformedBlob {
            reason: "truncated",
        })?;
    let (nonce, ciphertext) = rest
        .split_first_chunk::<12>()
        .ok_or(CryptoError::MalformedBlob {
            reason: "truncated",
        })?;
    Ok(Parsed {
        key_version: u32::from_be_bytes(*version),
        nonce: *nonce,
        ciphertext,
    })
}

/// The data-key version a blob was sealed with (to find blobs a rotation pass must reseal).
///
/// # Errors
/// [`CryptoError::MalformedBlob`], [`CryptoError::UnsupportedBlobFormat`].
pub fn blob_key_version(blob: &[u8]) -> Result<u32> {
    parse(blob).map(|p| p.key_version)
}

/// Decrypts a field blob sealed for exactly this `aad`.
///
/// # Errors
/// [`CryptoError::OrgMismatch`] if `keys` is another organisation's keyring,
/// [`CryptoError::UnknownKeyVersion`], [`CryptoError::MalformedBlob`],
/// [`CryptoError::UnsupportedBlobFormat`], and [`CryptoError::Open`] when authentication fails
/// (wrong key, wrong org/table/column/row, any altered byte). Never panics.
pub fn open<K: FieldKeys + ?Sized>(keys: &K, aad: &Aad<'_>, blob: &[u8]) -> Result<Vec<u8>> {
    if let Some(org) = keys.org()
        && org != aad.org
    {
        return Err(CryptoError::OrgMismatch {
            expected: org.to_string(),
            found: aad.org.to_string(),
        });
    }
    let parsed = parse(blob)?;
    let key = keys
        .key_for(parsed.key_version)
        .ok_or_else(|| CryptoError::UnknownKeyVersion {
            org: aad.org.to_string(),
            version: parsed.key_version,
        })?;
    let aad_bytes = aad.encode(parsed.key_version);
    key.cipher()
        .decrypt(
            &Nonce::from(parsed.nonce),
            Payload {
                msg: parsed.ciphertext,
                aad: &aad_bytes,
            },
        )
        .map_err(|_| aad.open_error())
}

/// Re-encrypts a blob under the keyring's current data key (data-key rotation pass). The
/// plaintext is zeroized afterwards.
///
/// # Errors
/// Those of [`open`] and [`seal`].
pub fn reseal(keyring: &Keyring, aad: &Aad<'_>, blob: &[u8]) -> Result<Vec<u8>> {
    let plaintext = Zeroizing::new(keyring.open(aad, blob)?);
    keyring.seal(aad, &plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: Aad<'static> = Aad {
        org: "org-a",
        table: "notes",
        column: "text",
        row: "42",
    };

    #[test]
    fn layout_and_round_trip() {
        let key = DataKey::generate().unwrap();
        let blob = seal(&key, 7, &AAD, b"hello").unwrap();
        assert_eq!(blob.len(), MIN_BLOB_LEN + 5);
        assert_eq!(blob[0], BLOB_FORMAT_V1);
        assert_eq!(&blob[1..5], &7u32.to_be_bytes());
        assert_eq!(blob_key_version(&blob).unwrap(), 7);
        assert_eq!(open(&key, &AAD, &blob).unwrap(), b"hello");
        let empty = seal(&key, 7, &AAD, b"").unwrap();
        assert_eq!(empty.len(), MIN_BLOB_LEN);
        assert_eq!(open(&key, &AAD, &empty).unwrap(), b"");
    }

    #[test]
    fn nonces_are_fresh() {
        let key = DataKey::generate().unwrap();
        let a = seal(&key, 1, &AAD, b"same").unwrap();
        let b = seal(&key, 1, &AAD, b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn aad_encoding_is_unambiguous() {
        let a = Aad::new("o", "ab", "c", "r").encode(1);
        let b = Aad::new("o", "a", "bc", "r").encode(1);
        assert_ne!(a, b);
        assert_ne!(AAD.encode(1), AAD.encode(2));
    }

    #[test]
    fn malformed_blobs() {
        let key = DataKey::generate().unwrap();
        assert!(matches!(
            open(&key, &AAD, &[]),
            Err(CryptoError::MalformedBlob { .. })
        ));
        assert!(matches!(
            open(&key, &AAD, &[2; 40]),
            Err(CryptoError::UnsupportedBlobFormat(2))
        ));
        assert!(matches!(
            open(&key, &AAD, &[1; 32]),
            Err(CryptoError::MalformedBlob { .. })
        ));
        assert!(matches!(
            open(&key, &AAD, &[1; 33]),
            Err(CryptoError::Open { .. })
        ));
    }

    #[test]
    fn open_error_names_no_row() {
        let key = DataKey::generate().unwrap();
        let blob = seal(&key, 1, &AAD, b"x").unwrap();
        let other = Aad {
            row: "row-id-9f8e",
            ..AAD
        };
        let msg = open(&key, &other, &blob).unwrap_err().to_string();
        assert!(msg.contains("notes.text"));
        assert!(!msg.contains("row-id-9f8e"));
    }
}
