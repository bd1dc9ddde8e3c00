//! Per-organisation data keys, their wrapped (stored) form, keyrings and master-key rotation.
//!
//! A [`WrappedKey`] is the data key encrypted with AES-256-GCM under the master key, with a
//! random 96-bit nonce and AAD `b"medledger-dek-v1" || org (UTF-8) || version (u32 BE)`, so a
//! wrapped key moved to another organisation or version no longer unwraps. `master_key_id`
//! records which master key wrapped it (for operators and rotation bookkeeping); it is not
//! trusted for anything: unwrapping authenticates.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::blind::BlindIndexKey;
use super::field::{self, Aad};
use super::master::MasterKey;
use super::{CryptoError, KEY_LEN, Result, fill_random};

const DEK_AAD_PREFIX: &[u8] = b"medledger-dek-v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// One organisation's 32-byte data-encryption key (one version). Zeroized on drop, redacted in
/// `Debug`.
pub struct DataKey {
    key: SecretBox<[u8; KEY_LEN]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A fresh random data key.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system RNG fails.
    pub fn generate() -> Result<Self> {
        let mut key = SecretBox::new(Box::new([0u8; KEY_LEN]));
        fill_random(key.expose_secret_mut())?;
        Ok(DataKey { key })
    }

    /// Wraps this key under `master` for `org`, version `version`.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if no nonce can be drawn.
    pub fn wrap(&self, master: &MasterKey, org: &str, version: u32) -> Result<WrappedKey> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let aad = dek_aad(org, version);
        let ciphertext = master
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: self.key.expose_secret(),
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        Ok(WrappedKey {
            org: org.to_string(),
            version,
            master_key_id: master.key_id().to_string(),
            nonce,
            ciphertext,
        })
    }

    pub(crate) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.key.expose_secret().into())
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        self.key.expose_secret()
    }
}

fn dek_aad(org: &str, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(DEK_AAD_PREFIX.len() + org.len() + 4);
    aad.extend_from_slice(DEK_AAD_PREFIX);
    aad.extend_from_slice(org.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// A data key as stored: encrypted under the master key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The organisation owning the key.
    pub org: String,
    /// The data-key version (1, 2, … in rotation order).
    pub version: u32,
    /// [`MasterKey::key_id`] of the master key that wrapped it (informational).
    pub master_key_id: String,
    /// The AES-GCM nonce.
    pub nonce: [u8; 12],
    /// The encrypted key and the 16-byte tag (48 bytes).
    pub ciphertext: Vec<u8>,
}

impl WrappedKey {
    /// Decrypts the data key with `master`.
    ///
    /// # Errors
    /// [`CryptoError::Unwrap`] (naming only org and version) if `master` is not the key that
    /// wrapped it or any field was altered.
    pub fn unwrap(&self, master: &MasterKey) -> Result<DataKey> {
        let fail = || CryptoError::Unwrap {
            org: self.org.clone(),
            version: self.version,
        };
        if self.ciphertext.len() != KEY_LEN + TAG_LEN {
            return Err(fail());
        }
        let aad = dek_aad(&self.org, self.version);
        let mut plain = master
            .cipher()
            .decrypt(
                &Nonce::from(self.nonce),
                Payload {
                    msg: &self.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| fail())?;
        let mut key = SecretBox::new(Box::new([0u8; KEY_LEN]));
        let copied = match <&[u8; KEY_LEN]>::try_from(plain.as_slice()) {
            Ok(bytes) => {
                key.expose_secret_mut().copy_from_slice(bytes);
                true
            }
            Err(_) => false,
        };
        plain.zeroize();
        if copied {
            Ok(DataKey { key })
        } else {
            Err(fail())
        }
    }
}

/// Master-key rotation: unwraps every key with `old` and wraps it again with `new`, keeping
/// org and version (fresh nonces). Field ciphertexts are not touched. Store the result, check
/// it unwraps with `new`, then retire `old`.
///
/// # Errors
/// [`CryptoError::Unwrap`] for the first key `old` cannot unwrap (nothing is returned then);
/// [`CryptoError::Rng`].
pub fn rewrap_all(
    wrapped: &[WrappedKey],
    old_master: &MasterKey,
    new_master: &MasterKey,
) -> Result<Vec<WrappedKey>> {
    wrapped
        .iter()
        .map(|w| w.unwrap(old_master)?.wrap(new_master, &w.org, w.version))
        .collect()
}

/// All data-key versions of one organisation. Seals with the current (highest) version and
/// opens blobs of any version it holds.
pub struct Keyring {
    org: String,
    keys: BTreeMap<u32, DataKey>,
    current: u32,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("org", &self.org)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

impl Keyring {
    /// A new organisation's keyring with one fresh data key, version 1.
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn new(org: &str) -> Result<Self> {
        let mut keys = BTreeMap::new();
        keys.insert(1, DataKey::generate()?);
        Ok(Keyring {
            org: org.to_string(),
            keys,
            current: 1,
        })
    }

    /// Rebuilds a keyring from stored wrapped keys; the current version is the highest.
    ///
    /// # Errors
    /// [`CryptoError::NoKeys`] for an empty slice, [`CryptoError::OrgMismatch`] for a key of
    /// another organisation, [`CryptoError::DuplicateKeyVersion`], [`CryptoError::Unwrap`].
    pub fn from_wrapped(master: &MasterKey, org: &str, wrapped: &[WrappedKey]) -> Result<Self> {
        let mut keys = BTreeMap::new();
        for w in wrapped {
            if w.org != org {
                return Err(CryptoError::OrgMismatch {
                    expected: org.to_string(),
                    found: w.org.clone(),
                });
            }
            if keys.contains_key(&w.version) {
                return Err(CryptoError::DuplicateKeyVersion {
                    org: org.to_string(),
                    version: w.version,
                });
            }
            keys.insert(w.version, w.unwrap(master)?);
        }
        let current = *keys.keys().next_back().ok_or_else(|| CryptoError::NoKeys {
            org: org.to_string(),
        })?;
        Ok(Keyring {
            org: org.to_string(),
            keys,
            current,
        })
    }

    /// The organisation.
    #[must_use]
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The version new blobs are sealed with.
    #[must_use]
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// All versions held, ascending.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// The data key of `version`, if held.
    #[must_use]
    pub fn key(&self, version: u32) -> Option<&DataKey> {
        self.keys.get(&version)
    }

    fn current_key(&self) -> Result<&DataKey> {
        self.keys
            .get(&self.current)
            .ok_or(CryptoError::Internal("keyring without its current key"))
    }

    /// Data-key rotation: adds a fresh key as the new current version (highest + 1) and
    /// returns it. Older versions stay for reading until [`super::reseal`] has moved every
    /// blob; see the [module docs](super#rotation).
    ///
    /// # Errors
    /// [`CryptoError::Rng`], [`CryptoError::VersionOverflow`].
    pub fn rotate(&mut self) -> Result<u32> {
        let last = self.keys.keys().next_back().copied().unwrap_or(0);
        let next = last
            .checked_add(1)
            .ok_or_else(|| CryptoError::VersionOverflow {
                org: self.org.clone(),
            })?;
        self.keys.insert(next, DataKey::generate()?);
        self.current = next;
        Ok(next)
    }

    /// Drops a retired version (after every blob has been resealed). The current version
    /// cannot be dropped; returns whether a key was removed.
    pub fn retire(&mut self, version: u32) -> bool {
        version != self.current && self.keys.remove(&version).is_some()
    }

    /// Every key wrapped under `master`, for storage.
    ///
    /// # Errors
    /// [`CryptoError::Rng`].
    pub fn wrap_all(&self, master: &MasterKey) -> Result<Vec<WrappedKey>> {
        self.keys
            .iter()
            .map(|(version, key)| key.wrap(master, &self.org, *version))
            .collect()
    }

    /// Seals a field with the current key. `aad.org` must be this keyring's organisation.
    ///
    /// # Errors
    /// [`CryptoError::OrgMismatch`], [`CryptoError::Rng`], [`CryptoError::Encrypt`].
    pub fn seal(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.check_org(aad)?;
        field::seal(self.current_key()?, self.current, aad, plaintext)
    }

    /// Opens a field sealed with any version held. Same as [`super::open`] with this keyring.
    ///
    /// # Errors
    /// See [`super::open`].
    pub fn open(&self, aad: &Aad<'_>, blob: &[u8]) -> Result<Vec<u8>> {
        field::open(self, aad, blob)
    }

    /// The blind-index key of the current version.
    ///
    /// # Errors
    /// [`CryptoError::Internal`] only.
    pub fn blind_index_key(&self) -> Result<BlindIndexKey> {
        BlindIndexKey::derive(self.current_key()?, &self.org)
    }

    /// The blind-index keys of every version held (newest first): during a data-key rotation
    /// pass, look a value up under each until all rows carry the current version's index.
    ///
    /// # Errors
    /// [`CryptoError::Internal`] only.
    pub fn blind_index_keys(&self) -> Result<Vec<(u32, BlindIndexKey)>> {
        self.keys
            .iter()
            .rev()
            .map(|(v, k)| Ok((*v, BlindIndexKey::derive(k, &self.org)?)))
            .collect()
    }

    pub(crate) fn check_org(&self, aad: &Aad<'_>) -> Result<()> {
        if aad.org == self.org {
            Ok(())
        } else {
            Err(CryptoError::OrgMismatch {
                expected: self.org.clone(),
                found: aad.org.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::generate().unwrap()
    }

    #[test]
    fn wrap_unwrap_round_trip() {
        let m = master();
        let k = DataKey::generate().unwrap();
        let w = k.wrap(&m, "org-a", 3).unwrap();
        assert_eq!(w.org, "org-a");
        assert_eq!(w.version, 3);
        assert_eq!(w.master_key_id, m.key_id());
        assert_eq!(w.ciphertext.len(), 48);
        assert_eq!(w.unwrap(&m).unwrap().bytes(), k.bytes());
    }

    #[test]
    fn wrong_master_or_tamper_fails() {
        let m = master();
        let w = DataKey::generate().unwrap().wrap(&m, "org-a", 1).unwrap();
        let err = w.unwrap(&master()).unwrap_err();
        assert!(matches!(err, CryptoError::Unwrap { ref org, version: 1 } if org == "org-a"));
        let mut t = w.clone();
        t.org = "org-b".into();
        assert!(t.unwrap(&m).is_err());
        let mut t = w.clone();
        t.version = 2;
        assert!(t.unwrap(&m).is_err());
        for i in 0..12 {
            let mut t = w.clone();
            t.nonce[i] ^= 0x01;
            assert!(t.unwrap(&m).is_err());
        }
        for i in 0..w.ciphertext.len() {
            let mut t = w.clone();
            t.ciphertext[i] ^= 0x80;
            assert!(t.unwrap(&m).is_err());
        }
        let mut t = w.clone();
        t.ciphertext.truncate(47);
        assert!(t.unwrap(&m).is_err());
        // master_key_id is informational only.
        let mut t = w;
        t.master_key_id = "0000000000000000".into();
        assert!(t.unwrap(&m).is_ok());
    }

    #[test]
    fn keyring_from_wrapped_checks() {
        let m = master();
        let mut ring = Keyring::new("org-a").unwrap();
        ring.rotate().unwrap();
        let wrapped = ring.wrap_all(&m).unwrap();
        let back = Keyring::from_wrapped(&m, "org-a", &wrapped).unwrap();
        assert_eq!(back.current_version(), 2);
        assert_eq!(back.versions().collect::<Vec<_>>(), vec![1, 2]);
        assert!(matches!(
            Keyring::from_wrapped(&m, "org-b", &wrapped),
            Err(CryptoError::OrgMismatch { .. })
        ));
        assert!(matches!(
            Keyring::from_wrapped(&m, "org-a", &[]),
            Err(CryptoError::NoKeys { .. })
        ));
        let dup = vec![wrapped[0].clone(), wrapped[0].clone()];
        assert!(matches!(
            Keyring::from_wrapped(&m, "org-a", &dup),
            Err(CryptoError::DuplicateKeyVersion { version: 1, .. })
        ));
    }

    #[test]
    fn retire_keeps_current() {
        let mut ring = Keyring::new("o").unwrap();
        let v2 = ring.rotate().unwrap();
        assert!(!ring.retire(v2));
        assert!(ring.retire(1));
        assert!(!ring.retire(1));
        assert_eq!(ring.versions().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn debug_redacts() {
        let ring = Keyring::new("org-a").unwrap();
        let d = format!("{ring:?} {:?}", ring.key(1).unwrap());
        assert!(d.contains("DataKey(<redacted>)"));
        assert!(!d.contains(&hex::encode(ring.key(1).unwrap().bytes())));
    }
}
