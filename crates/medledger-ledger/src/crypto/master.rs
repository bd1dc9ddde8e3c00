//! The master key: where it comes from, its text format, and the key file.
//!
//! # Sources and precedence
//!
//! [`MasterKey::from_env_or_file`] takes, in this order:
//!
//! 1. the value of `MEDLEDGER_MASTER_KEY` when the caller passes one ([`KeySource::Env`]);
//! 2. the file named by `--master-key-file` ([`KeySource::File`]); it must exist;
//! 3. `DATA_DIR/master.key` if it exists ([`KeySource::File`]);
//! 4. otherwise a fresh random key written to `DATA_DIR/master.key` with mode 0600 on unix
//!    ([`KeySource::Created`]); the caller prints the path once. An existing file is never
//!    overwritten (the key is written to a temporary file and hard-linked into place, so two
//!    processes racing on first use agree on one key).
//!
//! An empty environment value is an error, not "unset": a blank secret is almost certainly a
//! deployment mistake, and silently creating a different key would hide it.
//!
//! # Format
//!
//! One line, surrounding whitespace ignored:
//!
//! ```text
//! medledger-master-v1:<64 hex digits>
//! ```
//!
//! That is what medledger writes. On input the prefix is optional, hex may be either case, and
//! base64 of the 32 bytes (standard or URL-safe alphabet, padded or not) is accepted too, so
//! `openssl rand -hex 32` and `openssl rand -base64 32` both make valid keys. Anything else
//! is rejected with a reason that never quotes the value.
//!
//! # Permissions
//!
//! On unix a key file readable or writable by group or others is still used (container secret
//! mounts are commonly 0444/0644), but [`KeySource::warning`] then returns a message the CLI
//! must print (`chmod 600 FILE`). Files created here are always 0600.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use aes_gcm::{Aes256Gcm, KeyInit};
use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{CryptoError, KEY_LEN, Result, fill_random};

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "MEDLEDGER_MASTER_KEY";
/// The key file created in the data directory when no key is given.
pub const MASTER_KEY_FILE_NAME: &str = "master.key";
/// The prefix of the key text format.
pub const MASTER_KEY_PREFIX: &str = "medledger-master-v1:";

/// Key files longer than this are rejected unread.
const MAX_KEY_FILE_LEN: u64 = 4096;

/// Where [`MasterKey::from_env_or_file`] found the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// From `MEDLEDGER_MASTER_KEY`.
    Env,
    /// From an existing file (`--master-key-file`, or `DATA_DIR/master.key`).
    File {
        /// The file.
        path: PathBuf,
        /// On unix, the file's permission bits when group or others have any access.
        loose_mode: Option<u32>,
    },
    /// Newly generated and written to this file (mode 0600); print its path once.
    Created(PathBuf),
}

impl KeySource {
    /// A warning the CLI must print, if any (loose key-file permissions).
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        match self {
            KeySource::File {
                path,
                loose_mode: Some(mode),
            } => Some(format!(
                "warning: master key file {} has mode {mode:04o}; it should be readable by its owner only (chmod 600 {})",
                path.display(),
                path.display()
            )),
            _ => None,
        }
    }

    /// The key file's path, if the key came from a file.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            KeySource::Env => None,
            KeySource::File { path, .. } | KeySource::Created(path) => Some(path),
        }
    }
}

/// The 32-byte master key that wraps every organisation's data keys.
///
/// Zeroized on drop; `Debug` shows only its [`key_id`](MasterKey::key_id).
pub struct MasterKey {
    key: SecretBox<[u8; KEY_LEN]>,
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(<redacted>, id={})", self.id)
    }
}

impl MasterKey {
    fn from_secret(key: SecretBox<[u8; KEY_LEN]>) -> Self {
        let digest = Sha256::digest(key.expose_secret());
        let id = hex::encode(&digest[..8]);
        MasterKey { key, id }
    }

    /// A fresh random master key (for first use and for master-key rotation).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system RNG fails.
    pub fn generate() -> Result<Self> {
        let mut key = SecretBox::new(Box::new([0u8; KEY_LEN]));
        fill_random(key.expose_secret_mut())?;
        Ok(Self::from_secret(key))
    }

    /// Parses key text (see the [module docs](self) for the format). `origin` names the source
    /// in errors (an environment variable name or a path; never the value).
    ///
    /// # Errors
    /// [`CryptoError::MalformedMasterKey`], whose message never contains `text`.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        parse_material(text, origin).map(Self::from_secret)
    }

    /// Loads the key from a file.
    ///
    /// # Errors
    /// [`CryptoError::KeyFile`] if it cannot be read, [`CryptoError::MalformedMasterKey`] if
    /// its content is not a key.
    pub fn load_file(path: &Path) -> Result<(Self, KeySource)> {
        let io_err = |source| CryptoError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let loose_mode = loose_mode(&file).map_err(io_err)?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(128));
        file.take(MAX_KEY_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        let origin = path.display().to_string();
        if bytes.len() as u64 > MAX_KEY_FILE_LEN {
            return Err(malformed(
                &origin,
                format!("the file is longer than {MAX_KEY_FILE_LEN} bytes"),
            ));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| malformed(&origin, "the file is not UTF-8 text".to_string()))?;
        let key = Self::parse(text, &origin)?;
        Ok((
            key,
            KeySource::File {
                path: path.to_path_buf(),
                loose_mode,
            },
        ))
    }

    /// The master key for this run: the environment value, else the given file, else
    /// `data_dir/master.key`, created (mode 0600) if missing. See the [module docs](self).
    ///
    /// `env_value` is the value of [`MASTER_KEY_ENV`] if set; `file` is `--master-key-file`.
    ///
    /// # Errors
    /// [`CryptoError::MalformedMasterKey`] for bad key text (never echoed),
    /// [`CryptoError::KeyFile`] for I/O failures (including a missing `--master-key-file`),
    /// [`CryptoError::Rng`] if a new key cannot be generated.
    pub fn from_env_or_file(
        env_value: Option<&str>,
        file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<(Self, KeySource)> {
        if let Some(value) = env_value {
            return Ok((Self::parse(value, MASTER_KEY_ENV)?, KeySource::Env));
        }
        if let Some(path) = file {
            return Self::load_file(path);
        }
        let path = data_dir.join(MASTER_KEY_FILE_NAME);
        match fs::symlink_metadata(&path) {
            Ok(_) => Self::load_file(&path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Self::create_in(data_dir, &path),
            Err(source) => Err(CryptoError::KeyFile { path, source }),
        }
    }

    /// Generates a key and installs it at `path` without ever overwriting an existing file.
    fn create_in(data_dir: &Path, path: &Path) -> Result<(Self, KeySource)> {
        fs::create_dir_all(data_dir).map_err(|source| CryptoError::KeyFile {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let key = Self::generate()?;
        let mut tag = [0u8; 8];
        fill_random(&mut tag)?;
        let tmp = data_dir.join(format!(".{MASTER_KEY_FILE_NAME}.{}.tmp", hex::encode(tag)));
        key.write_key_file(&tmp)?;
        let linked = fs::hard_link(&tmp, path);
        // Best effort: the temporary holds the same key and must not linger.
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Another process won the race: use its key.
                return Self::load_file(path);
            }
            Err(_) => {
                // No hard links on this file system: create the file directly (still
                // create-new, so never overwriting).
                match key.write_key_file(path) {
                    Ok(()) => {}
                    Err(CryptoError::KeyFile { source, .. })
                        if source.kind() == io::ErrorKind::AlreadyExists =>
                    {
                        return Self::load_file(path);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        sync_dir(data_dir);
        Ok((key, KeySource::Created(path.to_path_buf())))
    }

    /// Writes this key to a new file `path` (mode 0600 on unix) in the format
    /// `medledger-master-v1:<64 hex>\n`, refusing to overwrite an existing file.
    ///
    /// # Errors
    /// [`CryptoError::KeyFile`]; an existing file gives kind `AlreadyExists`.
    pub fn write_key_file(&self, path: &Path) -> Result<()> {
        let io_err = |source| CryptoError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io_err)?;
        let text = self.to_key_text();
        let written = file
            .write_all(text.expose_secret().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        if let Err(source) = written {
            drop(file);
            let _ = fs::remove_file(path);
            return Err(io_err(source));
        }
        Ok(())
    }

    /// The key in its text format, `medledger-master-v1:<64 hex>`.
    #[must_use]
    pub fn to_key_text(&self) -> SecretString {
        let mut text = String::with_capacity(MASTER_KEY_PREFIX.len() + 2 * KEY_LEN);
        text.push_str(MASTER_KEY_PREFIX);
        let hex = Zeroizing::new(hex::encode(self.key.expose_secret()));
        text.push_str(&hex);
        SecretString::from(text)
    }

    /// The key's public identifier: hex of the first 8 bytes of SHA-256 of the key.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// The AES-256-GCM cipher under this key.
    pub(crate) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.key.expose_secret().into())
    }
}

fn malformed(origin: &str, reason: String) -> CryptoError {
    CryptoError::MalformedMasterKey {
        origin: origin.to_string(),
        reason,
    }
}

fn parse_material(text: &str, origin: &str) -> Result<SecretBox<[u8; KEY_LEN]>> {
    let trimmed = text.trim();
    let body = trimmed.strip_prefix(MASTER_KEY_PREFIX).unwrap_or(trimmed);
    if body.is_empty() {
        return Err(malformed(origin, "the value is empty".to_string()));
    }
    let mut key = SecretBox::new(Box::new([0u8; KEY_LEN]));
    let out = key.expose_secret_mut();
    let ok = match body.len() {
        64 => hex::decode_to_slice(body, out).is_ok(),
        43 => decode_b64::<Base64Unpadded>(body, out) || decode_b64::<Base64UrlUnpadded>(body, out),
        44 => decode_b64::<Base64>(body, out) || decode_b64::<Base64Url>(body, out),
        _ => {
            return Err(malformed(
                origin,
                format!(
                    "expected {MASTER_KEY_PREFIX} followed by 64 hex digits (or base64 of 32 bytes), found {} characters",
                    body.chars().count()
                ),
            ));
        }
    };
    if ok {
        Ok(key)
    } else {
        Err(malformed(
            origin,
            "the value is neither hex nor base64 of 32 bytes".to_string(),
        ))
    }
}

fn decode_b64<E: Encoding>(body: &str, out: &mut [u8; KEY_LEN]) -> bool {
    matches!(E::decode(body, out), Ok(decoded) if decoded.len() == KEY_LEN)
}

#[cfg(unix)]
fn loose_mode(file: &File) -> io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata()?.permissions().mode() & 0o777;
    Ok((mode & 0o077 != 0).then_some(mode))
}

#[cfg(not(unix))]
fn loose_mode(_file: &File) -> io::Result<Option<u32>> {
    Ok(None)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn parses_all_accepted_forms_to_the_same_key() {
        let a = MasterKey::parse(&format!("{MASTER_KEY_PREFIX}{HEX}\n"), "t").unwrap();
        let b = MasterKey::parse(&HEX.to_uppercase(), "t").unwrap();
        let raw: Vec<u8> = (0u8..32).collect();
        let c = MasterKey::parse(&Base64::encode_string(&raw), "t").unwrap();
        let d = MasterKey::parse(
            &format!(
                "{MASTER_KEY_PREFIX}{}",
                Base64UrlUnpadded::encode_string(&raw)
            ),
            "t",
        )
        .unwrap();
        for k in [&b, &c, &d] {
            assert_eq!(k.key_id(), a.key_id());
        }
        assert_eq!(
            a.to_key_text().expose_secret(),
            &format!("{MASTER_KEY_PREFIX}{HEX}")
        );
    }

    #[test]
    fn key_id_is_sha256_prefix() {
        let k = MasterKey::parse(HEX, "t").unwrap();
        let raw: Vec<u8> = (0u8..32).collect();
        assert_eq!(k.key_id(), hex::encode(&Sha256::digest(&raw)[..8]));
        assert_eq!(k.key_id().len(), 16);
    }

    #[test]
    fn rejects_bad_material_without_echo() {
        let secretish = "s3cr3tV4lue";
        let cases = [
            String::new(),
            "   ".to_string(),
            format!("{MASTER_KEY_PREFIX}{secretish}"),
            format!("{}{secretish}", &HEX[..53]),
            HEX[..62].to_string(),
            format!("{HEX}00"),
            "z".repeat(64),
            "!".repeat(44),
            "é".repeat(32),
        ];
        for case in cases {
            let err = MasterKey::parse(&case, MASTER_KEY_ENV).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, CryptoError::MalformedMasterKey { .. }));
            assert!(msg.contains(MASTER_KEY_ENV), "{msg}");
            assert!(!msg.contains(secretish), "{msg}");
            let body = case.trim().trim_start_matches(MASTER_KEY_PREFIX);
            if !body.is_empty() {
                assert!(!msg.contains(body), "{msg}");
            }
        }
    }

    #[test]
    fn debug_is_redacted() {
        let k = MasterKey::parse(HEX, "t").unwrap();
        let dbg = format!("{k:?}");
        assert!(dbg.starts_with("MasterKey(<redacted>, id="));
        assert!(!dbg.contains("0102030405"));
        assert!(dbg.contains(k.key_id()));
    }

    #[test]
    fn generated_keys_differ() {
        let a = MasterKey::generate().unwrap();
        let b = MasterKey::generate().unwrap();
        assert_ne!(a.key_id(), b.key_id());
    }
}
