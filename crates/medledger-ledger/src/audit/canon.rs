//! The canonical encoding an entry's hash is computed over (see the module docs).

use super::{AuditEntry, AuditError, AuditKind};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Domain-separation tag at the start of every hashed entry.
pub(crate) const DOMAIN: &[u8] = b"medledger-audit-v1";

/// The canonical JSON text of `v` (sorted keys, no whitespace).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

/// The SHA-256 hash of an entry's canonical encoding (its `hash` field when
/// untampered). `signature`, `key_id` and the stored `hash` are not read.
pub fn entry_hash(e: &AuditEntry) -> [u8; 32] {
    let mut scratch = String::new();
    hash_fields(
        e.seq,
        e.at,
        &e.org,
        &e.actor,
        e.kind,
        &e.subject,
        &e.detail,
        &e.prev_hash,
        &mut scratch,
    )
}

/// [`entry_hash`] over loose fields, with a reusable scratch buffer for the
/// detail's JSON text.
#[allow(clippy::too_many_arguments)]
pub(crate) fn hash_fields(
    seq: u64,
    at: jiff::Timestamp,
    org: &str,
    actor: &str,
    kind: AuditKind,
    subject: &str,
    detail: &Value,
    prev_hash: &[u8; 32],
    scratch: &mut String,
) -> [u8; 32] {
    scratch.clear();
    write_json(detail, scratch);
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(at.as_nanosecond().to_be_bytes());
    for field in [org, actor, kind.as_str(), subject, scratch.as_str()] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.update(prev_hash);
    h.finalize().into()
}

/// Appends the canonical JSON text of `v` to `out`.
pub(crate) fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            // Writing to a String cannot fail.
            let _ = if let Some(u) = n.as_u64() {
                write!(out, "{u}")
            } else if let Some(i) = n.as_i64() {
                write!(out, "{i}")
            } else {
                write!(out, "{n}")
            };
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            // serde_json's default map is a BTreeMap and already sorted; sort
            // only if a dependency enabled `preserve_order`.
            let sorted = map
                .keys()
                .zip(map.keys().skip(1))
                .all(|(a, b)| a.as_bytes() < b.as_bytes());
            if sorted {
                for (i, (k, v)) in map.iter().enumerate() {
                    write_member(i, k, v, out);
                }
            } else {
                let mut members: Vec<(&String, &Value)> = map.iter().collect();
                members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                for (i, (k, v)) in members.into_iter().enumerate() {
                    write_member(i, k, v, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_member(i: usize, k: &str, v: &Value, out: &mut String) {
    if i > 0 {
        out.push(',');
    }
    write_str(k, out);
    out.push(':');
    write_json(v, out);
}

fn write_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Deepest nesting `detail` may have (serde_json parses up to 128).
pub(crate) const MAX_DETAIL_DEPTH: usize = 64;

/// Refuses floats anywhere in `v` (their text form does not reliably
/// round-trip) and nesting deeper than [`MAX_DETAIL_DEPTH`].
pub(crate) fn check_detail(v: &Value) -> Result<(), AuditError> {
    fn walk(v: &Value, path: &mut String, depth: usize) -> Result<(), AuditError> {
        if depth > MAX_DETAIL_DEPTH {
            return Err(AuditError::DetailTooDeep {
                max: MAX_DETAIL_DEPTH,
            });
        }
        match v {
            Value::Number(n) if !(n.is_u64() || n.is_i64()) => Err(AuditError::FloatInDetail {
                pointer: path.clone(),
            }),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "/{i}");
                    walk(item, path, depth + 1)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    walk(item, path, depth + 1)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(v, &mut String::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn known_vectors() {
        assert_eq!(canonical_json(&json!(null)), "null");
        assert_eq!(
            canonical_json(&json!({"b": [1, -2, true], "a": "x\"\\\n\u{1}/é\u{7f}", "": {}})),
            "{\"\":{},\"a\":\"x\\\"\\\\\\n\\u0001/é\u{7f}\",\"b\":[1,-2,true]}"
        );
        assert_eq!(canonical_json(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(canonical_json(&json!(i64::MIN)), "-9223372036854775808");
        assert_eq!(canonical_json(&json!(1.5)), "1.5");
    }

    #[test]
    fn floats_and_deep_nesting_refused() {
        assert!(check_detail(&json!({"a": [1, {"b": "2.5"}]})).is_ok());
        let mut deep = json!(1);
        for _ in 0..MAX_DETAIL_DEPTH {
            deep = json!([deep]);
        }
        assert!(check_detail(&deep).is_ok());
        assert!(matches!(
            check_detail(&json!([deep])),
            Err(AuditError::DetailTooDeep {
                max: MAX_DETAIL_DEPTH
            })
        ));
        match check_detail(&json!({"a": [1, {"b/c": 2.5}]})) {
            Err(AuditError::FloatInDetail { pointer }) => assert_eq!(pointer, "/a/1/b~1c"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hash_vector_is_stable() {
        // Pins the encoding: if this changes, old chains stop verifying.
        let at: jiff::Timestamp = "2025-01-02T03:04:05.123456789Z".parse().unwrap();
        let h = hash_fields(
            7,
            at,
            "org:1",
            "user:9",
            AuditKind::PhiRead,
            "patient:7",
            &json!({"note": 42, "reason": "treatment"}),
            &[0xab; 32],
            &mut String::new(),
        );
        let mut manual = Vec::new();
        manual.extend_from_slice(b"medledger-audit-v1");
        manual.extend_from_slice(&7u64.to_be_bytes());
        manual.extend_from_slice(&1_735_787_045_123_456_789i128.to_be_bytes());
        for f in [
            "org:1",
            "user:9",
            "phi_read",
            "patient:7",
            r#"{"note":42,"reason":"treatment"}"#,
        ] {
            manual.extend_from_slice(&(f.len() as u64).to_be_bytes());
            manual.extend_from_slice(f.as_bytes());
        }
        manual.extend_from_slice(&[0xab; 32]);
        let expected: [u8; 32] = Sha256::digest(&manual).into();
        assert_eq!(h, expected);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|u| json!(u)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn matches_serde_json_and_round_trips(v in arb_json()) {
            let text = canonical_json(&v);
            prop_assert_eq!(&text, &serde_json::to_string(&v).unwrap());
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, v);
        }
    }
}
