//! Ed25519 keys for checkpoint signatures, and their files.
//!
//! Key files are small text files, one `name value` pair per line:
//!
//! ```text
//! medledger-audit-signing-key v1
//! id 3f2a9c0d11e4b7a5
//! public <64 hex digits>
//! secret <64 hex digits>
//! ```
//!
//! A verifying-key file has the first line `medledger-audit-verifying-key v1`
//! and no `secret` line. Signing-key files are created with mode 0600 and
//! refused on load if group or others can access them (unix).

use super::AuditError;
use ed25519_dalek::Signer as _;
use std::fmt;
use std::path::Path;
use zeroize::Zeroizing;

const SIGNING_HEADER: &str = "medledger-audit-signing-key v1";
const VERIFYING_HEADER: &str = "medledger-audit-verifying-key v1";
/// Key files are a few hundred bytes; refuse to read anything much larger.
const MAX_KEY_FILE: u64 = 4096;

/// Reads a small key file.
fn read_key_file(path: &Path) -> Result<Zeroizing<String>, AuditError> {
    use std::io::Read as _;
    let io = |source| AuditError::KeyIo {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(AuditError::KeyFormat {
            path: path.to_owned(),
            reason: format!("larger than {MAX_KEY_FILE} bytes; not a key file"),
        });
    }
    Ok(text)
}

/// The default key id: lower-case hex of the public key's first 8 bytes.
fn default_id(public: &ed25519_dalek::VerifyingKey) -> String {
    hex::encode(&public.as_bytes()[..8])
}

fn check_id(id: &str) -> Result<(), AuditError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AuditError::InvalidKeyId(id.to_owned()))
    }
}

/// The key that signs checkpoints. `Debug` never shows the secret.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    id: String,
}

impl SigningKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, AuditError> {
        use rand::TryRng as _;
        let mut secret = Zeroizing::new([0u8; 32]);
        rand::rngs::SysRng
            .try_fill_bytes(&mut secret[..])
            .map_err(|e| AuditError::Entropy(e.to_string()))?;
        Ok(Self::from_bytes(&secret))
    }

    /// The key with this 32-byte secret (RFC 8032 seed).
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(secret);
        let id = default_id(&key.verifying_key());
        Self { key, id }
    }

    /// The same key under another id (1 to 64 of `A-Z a-z 0-9 . _ : -`).
    pub fn with_id(mut self, id: impl Into<String>) -> Result<Self, AuditError> {
        let id = id.into();
        check_id(&id)?;
        self.id = id;
        Ok(self)
    }

    /// The id written to `key_id` of the checkpoints it signs.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// The public half, with the same id.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            key: self.key.verifying_key(),
            id: self.id.clone(),
        }
    }

    /// Ed25519 signature over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuditError> {
        self.key
            .try_sign(message)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|e| AuditError::Signing(e.to_string()))
    }

    /// Writes the key file; refuses to overwrite an existing file. Mode 0600 on unix.
    pub fn save(&self, path: &Path) -> Result<(), AuditError> {
        use std::io::Write as _;
        let io = |source| AuditError::KeyIo {
            path: path.to_owned(),
            source,
        };
        let secret = Zeroizing::new(hex::encode(self.key.to_bytes()));
        let text = Zeroizing::new(format!(
            "{SIGNING_HEADER}\nid {}\npublic {}\nsecret {}\n",
            self.id,
            hex::encode(self.key.verifying_key().as_bytes()),
            secret.as_str()
        ));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut file = opts.open(path).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Reads a key file written by [`SigningKey::save`].
    pub fn load(path: &Path) -> Result<Self, AuditError> {
        let io = |source| AuditError::KeyIo {
            path: path.to_owned(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(AuditError::KeyPermissions {
                    path: path.to_owned(),
                    mode: mode & 0o7777,
                });
            }
        }
        let text = read_key_file(path)?;
        let fields = parse_key_file(path, &text, SIGNING_HEADER)?;
        let secret_hex = fields.get("secret")?;
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(secret_hex.as_bytes(), &mut secret[..])
            .map_err(|e| fields.bad(format!("secret: expected 64 hex digits: {e}")))?;
        let key = Self::from_bytes(&secret);
        let public = fields.get("public")?;
        if !public.eq_ignore_ascii_case(&hex::encode(key.key.verifying_key().as_bytes())) {
            return Err(fields.bad("public key does not belong to the secret key".into()));
        }
        let id = fields.get("id")?;
        key.with_id(id).map_err(|e| fields.bad(e.to_string()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("public", &hex::encode(self.key.verifying_key().as_bytes()))
            .finish_non_exhaustive()
    }
}

/// A public key that checkpoints may be signed with, and its id.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    key: ed25519_dalek::VerifyingKey,
    id: String,
}

impl VerifyingKey {
    /// The key with these 32 public bytes, under the default id.
    pub fn from_bytes(public: &[u8; 32]) -> Result<Self, AuditError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(public)
            .map_err(|e| AuditError::InvalidPublicKey(e.to_string()))?;
        if key.is_weak() {
            return Err(AuditError::InvalidPublicKey(
                "weak (small-order) key".into(),
            ));
        }
        let id = default_id(&key);
        Ok(Self { key, id })
    }

    /// The key from 64 hex digits, under the default id.
    pub fn from_hex(public: &str) -> Result<Self, AuditError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(public.trim().as_bytes(), &mut bytes)
            .map_err(|e| AuditError::InvalidPublicKey(format!("expected 64 hex digits: {e}")))?;
        Self::from_bytes(&bytes)
    }

    /// The same key under another id.
    pub fn with_id(mut self, id: impl Into<String>) -> Result<Self, AuditError> {
        let id = id.into();
        check_id(&id)?;
        self.id = id;
        Ok(self)
    }

    /// The id checkpoints name in `key_id`.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// The 32 public bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public bytes as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    /// Whether `signature` is a valid (strict) Ed25519 signature of `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|sig| self.key.verify_strict(message, &sig).is_ok())
    }

    /// Writes a verifying-key file; refuses to overwrite an existing file.
    pub fn save(&self, path: &Path) -> Result<(), AuditError> {
        use std::io::Write as _;
        let io = |source| AuditError::KeyIo {
            path: path.to_owned(),
            source,
        };
        let text = format!(
            "{VERIFYING_HEADER}\nid {}\npublic {}\n",
            self.id,
            self.to_hex()
        );
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Reads a verifying-key file (or the public half of a signing-key file).
    pub fn load(path: &Path) -> Result<Self, AuditError> {
        let text = read_key_file(path)?;
        let header = if text.starts_with(SIGNING_HEADER) {
            SIGNING_HEADER
        } else {
            VERIFYING_HEADER
        };
        let fields = parse_key_file(path, &text, header)?;
        let key = Self::from_hex(fields.get("public")?).map_err(|e| fields.bad(e.to_string()))?;
        key.with_id(fields.get("id")?)
            .map_err(|e| fields.bad(e.to_string()))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("id", &self.id)
            .field("public", &self.to_hex())
            .finish()
    }
}

struct KeyFields<'a> {
    path: &'a Path,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> KeyFields<'a> {
    fn bad(&self, reason: String) -> AuditError {
        AuditError::KeyFormat {
            path: self.path.to_owned(),
            reason,
        }
    }

    fn get(&self, name: &str) -> Result<&'a str, AuditError> {
        let mut found = self.pairs.iter().filter(|(k, _)| *k == name);
        match (found.next(), found.next()) {
            (Some((_, v)), None) => Ok(v),
            (None, _) => Err(self.bad(format!("no `{name}` line"))),
            (Some(_), Some(_)) => Err(self.bad(format!("more than one `{name}` line"))),
        }
    }
}

fn parse_key_file<'a>(
    path: &'a Path,
    text: &'a str,
    header: &str,
) -> Result<KeyFields<'a>, AuditError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut fields = KeyFields {
        path,
        pairs: Vec::new(),
    };
    if lines.next() != Some(header) {
        return Err(fields.bad(format!("first line is not `{header}`")));
    }
    for line in lines {
        let Some((k, v)) = line.split_once(' ') else {
            return Err(fields.bad("a line is not `name value`".into()));
        };
        fields.pairs.push((k, v.trim()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let path = dir.path().join("audit.key");
        key.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = SigningKey::load(&path).unwrap();
        assert_eq!(back.verifying_key(), key.verifying_key());
        assert_eq!(back.key_id(), key.key_id());
        assert!(matches!(key.save(&path), Err(AuditError::KeyIo { .. })));
        // The public half loads from the signing-key file as well.
        assert_eq!(VerifyingKey::load(&path).unwrap(), key.verifying_key());

        let pub_path = dir.path().join("audit.pub");
        let named = key.verifying_key().with_id("audit-2025").unwrap();
        named.save(&pub_path).unwrap();
        assert_eq!(VerifyingKey::load(&pub_path).unwrap(), named);
        assert!(matches!(
            SigningKey::load(&pub_path),
            Err(AuditError::KeyPermissions { .. } | AuditError::KeyFormat { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_readable_secret_and_bad_files() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        SigningKey::from_bytes(&[7; 32]).save(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SigningKey::load(&path),
            Err(AuditError::KeyPermissions { mode: 0o644, .. })
        ));

        let bad = dir.path().join("bad");
        for text in [
            "",
            "nonsense",
            "medledger-audit-signing-key v1\nid x\n",
            "medledger-audit-signing-key v1\nid x\npublic 00\nsecret zz\n",
            "medledger-audit-signing-key v1\nid x y\npublic 00\nsecret 00\n",
            &"x".repeat(5000),
        ] {
            let _ = std::fs::remove_file(&bad);
            std::fs::write(&bad, text).unwrap();
            std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(
                matches!(SigningKey::load(&bad), Err(AuditError::KeyFormat { .. })),
                "{text:?}"
            );
        }
        // A public key that does not match the secret.
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key().to_hex();
        let text = format!(
            "medledger-audit-signing-key v1\nid x\npublic {other}\nsecret {}\n",
            hex::encode([7u8; 32])
        );
        std::fs::write(&bad, text).unwrap();
        assert!(matches!(
            SigningKey::load(&bad),
            Err(AuditError::KeyFormat { .. })
        ));
    }

    #[test]
    fn ids_and_debug() {
        let key = SigningKey::from_bytes(&[1; 32]);
        assert_eq!(key.key_id(), &key.verifying_key().to_hex()[..16]);
        assert!(key.clone().with_id("").is_err());
        assert!(key.clone().with_id("a b").is_err());
        assert!(key.clone().with_id("x".repeat(65)).is_err());
        assert!(key.clone().with_id("audit:2025-01_a.b").is_ok());
        let debug = format!("{key:?}");
        assert!(!debug.contains(&hex::encode([1u8; 32])));
        assert!(VerifyingKey::from_hex("zz").is_err());
        assert!(VerifyingKey::from_bytes(&[0; 32]).is_err()); // small order
    }
}
