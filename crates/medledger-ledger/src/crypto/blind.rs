//! Blind indexes: equality lookups on encrypted fields (a patient by name and date of birth)
//! without decrypting.
//!
//! - Key: `bik = HMAC-SHA256(data_key, b"medledger-blind-index-v1" || len64(org) || org)`, one
//!   per organisation and data-key version, so indexes differ across organisations and change
//!   on data-key rotation (the rotation pass recomputes them; see [`super`]).
//! - Index: `HMAC-SHA256(bik, len64(field) || field || len64(part1') || part1' || …)` where
//!   `field` names what is indexed (`"patient.name_dob"`) so equal values of different fields do
//!   not match, and each `part'` is [`normalize_for_index`] of the part.
//! - Normalisation: Unicode lowercase; combining marks (U+0300–U+036F) dropped; precomposed
//!   Latin-1 and Latin Extended-A letters folded to ASCII (`é`→`e`, `ß`→`ss`, `ø`→`o`,
//!   `æ`→`ae`); whitespace runs collapsed to one space and trimmed. Punctuation is kept
//!   (`O'Brien` ≠ `OBrien`); other scripts are only lowercased. No full NFKD (no Unicode
//!   tables dependency), so compatibility forms like ligatures or full-width letters are not
//!   folded.
//!
//! A blind index reveals equality of values (within an organisation and field); index only
//! what lookups need.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::keys::DataKey;
use super::{CryptoError, Result, push_len_prefixed};

const DERIVE_LABEL: &[u8] = b"medledger-blind-index-v1";

/// A blind-index HMAC key, derived from one data key. Redacted in `Debug`.
#[derive(Clone)]
pub struct BlindIndexKey {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(<redacted>)")
    }
}

impl BlindIndexKey {
    /// Derives the blind-index key of `org` from its data key.
    ///
    /// # Errors
    /// [`CryptoError::Internal`] only (HMAC accepts any key length).
    pub fn derive(data_key: &DataKey, org: &str) -> Result<Self> {
        let mut kdf = <Hmac<Sha256> as KeyInit>::new_from_slice(data_key.bytes())
            .map_err(|_| CryptoError::Internal("HMAC key length"))?;
        kdf.update(DERIVE_LABEL);
        let mut info = Vec::with_capacity(8 + org.len());
        push_len_prefixed(&mut info, org.as_bytes());
        kdf.update(&info);
        let derived = Zeroizing::new(<[u8; 32]>::from(kdf.finalize().into_bytes()));
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(derived.as_slice())
            .map_err(|_| CryptoError::Internal("HMAC key length"))?;
        Ok(BlindIndexKey { mac })
    }
}

/// The blind index of one value of `field` (normalised first).
#[must_use]
pub fn blind_index(key: &BlindIndexKey, field: &str, value: &str) -> [u8; 32] {
    blind_index_parts(key, field, &[value])
}

/// The blind index of a composite value (e.g. `["Jane Doe", "1980-02-03"]`), each part
/// normalised and length-prefixed, so part boundaries matter.
#[must_use]
pub fn blind_index_parts(key: &BlindIndexKey, field: &str, parts: &[&str]) -> [u8; 32] {
    let mut mac = key.mac.clone();
    let mut buf = Zeroizing::new(Vec::new());
    push_len_prefixed(&mut buf, field.as_bytes());
    for part in parts {
        let normalized = normalize_for_index(part);
        push_len_prefixed(&mut buf, normalized.as_bytes());
    }
    mac.update(&buf);
    mac.finalize().into_bytes().into()
}

/// The normalisation applied before indexing (see the [module docs](self)).
#[must_use]
pub fn normalize_for_index(value: &str) -> Zeroizing<String> {
    let mut folded = Zeroizing::new(String::with_capacity(value.len()));
    for c in value.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        match fold_latin(c) {
            Some(s) => folded.push_str(s),
            None => folded.push(c),
        }
    }
    let mut out = Zeroizing::new(String::with_capacity(folded.len()));
    for word in folded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// ASCII folding of lowercase Latin-1 Supplement and Latin Extended-A letters.
fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        let cases = [
            ("  José   GARCÍA ", "jose garcia"),
            ("Jose\u{301} Garci\u{301}a", "jose garcia"),
            ("Strauß\tØrsted", "strauss orsted"),
            ("ÆLFRIC", "aelfric"),
            ("İlker", "ilker"),
            ("O'Brien-Smith", "o'brien-smith"),
            ("", ""),
            ("   ", ""),
            ("Ωμέγα", "ωμέγα"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_for_index(input).as_str(), want, "{input:?}");
        }
    }

    #[test]
    fn normalisation_is_idempotent() {
        for s in ["  José   GARCÍA ", "Strauß", "ŉ ĳ ſ"] {
            let once = normalize_for_index(s);
            assert_eq!(normalize_for_index(&once).as_str(), once.as_str());
        }
    }

    #[test]
    fn parts_and_fields_are_separated() {
        let key = BlindIndexKey::derive(&DataKey::generate().unwrap(), "o").unwrap();
        assert_ne!(
            blind_index_parts(&key, "f", &["ab", "c"]),
            blind_index_parts(&key, "f", &["a", "bc"])
        );
        assert_ne!(blind_index(&key, "f", "x"), blind_index(&key, "g", "x"));
        assert_eq!(
            blind_index(&key, "f", "x"),
            blind_index_parts(&key, "f", &["x"])
        );
        assert_eq!(format!("{key:?}"), "BlindIndexKey(<redacted>)");
    }
}
