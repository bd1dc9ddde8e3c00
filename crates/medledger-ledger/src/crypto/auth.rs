//! User passwords (argon2id) and API tokens (random, stored as SHA-256).
//!
//! - Passwords: argon2id v19 with the OWASP baseline `m = 19 MiB, t = 2, p = 1`, 16-byte random
//!   salt, 32-byte output, as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). Verification
//!   uses the parameters in the stored string (so they can be raised later), but only accepts
//!   argon2id with `m ≤ 256 MiB, t ≤ 16, p ≤ 16`, so a doctored row cannot make a login
//!   allocate unbounded memory.
//! - API tokens: `mlt_` + base64url (no padding) of 32 random bytes (47 characters), shown once.
//!   The store keeps `SHA-256(token)`: tokens carry 256 bits of entropy, so a slow hash adds
//!   nothing, and the hash doubles as the lookup key. Verification compares in constant time.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64ct::{Base64UrlUnpadded, Encoding};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{CryptoError, Result, ct_eq_32, fill_random};

/// The prefix of every API token.
pub const TOKEN_PREFIX: &str = "mlt_";

/// OWASP baseline for argon2id: 19 MiB, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// Upper bounds accepted when verifying a stored hash.
const MAX_M_COST_KIB: u32 = 256 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 16;

fn hasher() -> Result<Argon2<'static>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN)).map_err(|_| {
        CryptoError::PasswordHash {
            reason: "invalid argon2 parameters",
        }
    })?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password to an argon2id PHC string with a fresh random salt.
///
/// # Errors
/// [`CryptoError::PasswordHash`] if the RNG or argon2 fails (e.g. a password over 4 GiB).
pub fn hash_password(password: &str) -> Result<String> {
    let hash =
        hasher()?
            .hash_password(password.as_bytes())
            .map_err(|_| CryptoError::PasswordHash {
                reason: "argon2id hashing failed",
            })?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string. `false` for a wrong password, a malformed
/// or non-argon2id string, or parameters beyond the accepted bounds. Constant-time comparison
/// (inside argon2).
#[must_use]
pub fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm.as_str() != Algorithm::Argon2id.ident().as_str() {
        return false;
    }
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST_KIB
        || params.t_cost() > MAX_T_COST
        || params.p_cost() > MAX_P_COST
    {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

/// A new API token: the token text (show it once, never store it) and the SHA-256 hash to
/// store.
///
/// # Errors
/// [`CryptoError::Rng`].
pub fn new_api_token() -> Result<(SecretString, [u8; 32])> {
    let mut raw = Zeroizing::new([0u8; 32]);
    fill_random(raw.as_mut_slice())?;
    let mut buf = Zeroizing::new([0u8; 43]);
    let encoded = Base64UrlUnpadded::encode(raw.as_slice(), buf.as_mut_slice())
        .map_err(|_| CryptoError::Internal("token encoding buffer"))?;
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + encoded.len());
    token.push_str(TOKEN_PREFIX);
    token.push_str(encoded);
    let hash = hash_token(&token);
    Ok((SecretString::from(token), hash))
}

/// The stored form of a token: SHA-256 of its text (use it as the lookup key).
#[must_use]
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `presented` is the token whose hash is `stored_hash` (constant-time compare).
#[must_use]
pub fn verify_token(stored_hash: &[u8; 32], presented: &str) -> bool {
    ct_eq_32(stored_hash, &hash_token(presented))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn password_round_trip() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse battery staple"));
        assert!(!verify_password(&phc, "correct horse battery stapl"));
        assert!(!verify_password(&phc, ""));
        assert_ne!(phc, hash_password("correct horse battery staple").unwrap());
    }

    #[test]
    fn malformed_or_foreign_hashes_deny() {
        let phc = hash_password("pw").unwrap();
        assert!(!verify_password("", "pw"));
        assert!(!verify_password("not a hash", "pw"));
        assert!(!verify_password(&phc.replace("argon2id", "argon2i"), "pw"));
        assert!(!verify_password(&phc.replace("m=19456", "m=4194304"), "pw"));
        assert!(!verify_password(&phc.replace("t=2", "t=1000"), "pw"));
        assert!(!verify_password(&phc[..phc.len() - 4], "pw"));
    }

    #[test]
    fn token_round_trip() {
        let (token, hash) = new_api_token().unwrap();
        let t = token.expose_secret();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(t.len(), 47);
        assert!(
            t[4..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(verify_token(&hash, t));
        assert!(!verify_token(&hash, &t[..46]));
        assert!(!verify_token(&hash, ""));
        let (other, other_hash) = new_api_token().unwrap();
        assert_ne!(other.expose_secret(), t);
        assert!(!verify_token(&other_hash, t));
        assert!(!format!("{token:?}").contains(t));
    }
}
