//! Plain-column form of an entry, for SQL stores.

use super::canon::write_json;
use super::{AuditEntry, AuditError, AuditKind};

/// An [`AuditEntry`] as plain column values.
///
/// Suggested SQL: `seq BIGINT PRIMARY KEY, at TEXT, org TEXT, actor TEXT,
/// kind TEXT, subject TEXT, detail TEXT, prev_hash BLOB/BYTEA, hash
/// BLOB/BYTEA, signature BLOB/BYTEA NULL, key_id TEXT NULL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// `seq`, 1 ..= `i64::MAX`.
    pub seq: i64,
    /// RFC 3339 text, UTC, with as many fractional digits as needed (up to nanoseconds).
    pub at: String,
    /// Organisation id.
    pub org: String,
    /// Actor.
    pub actor: String,
    /// [`AuditKind`] snake_case name.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Canonical JSON text of `detail`.
    pub detail: String,
    /// 32 bytes.
    pub prev_hash: Vec<u8>,
    /// 32 bytes.
    pub hash: Vec<u8>,
    /// Ed25519 signature (checkpoints).
    pub signature: Option<Vec<u8>>,
    /// Signing key id (checkpoints).
    pub key_id: Option<String>,
}

/// The entry as column values. Fails only for a seq above `i64::MAX`
/// (which [`super::AuditChain`] never writes).
pub fn to_row(e: &AuditEntry) -> Result<AuditRow, AuditError> {
    let seq = i64::try_from(e.seq).map_err(|_| AuditError::SeqTooLarge(e.seq))?;
    let mut detail = String::new();
    write_json(&e.detail, &mut detail);
    Ok(AuditRow {
        seq,
        at: e.at.to_string(),
        org: e.org.clone(),
        actor: e.actor.clone(),
        kind: e.kind.as_str().to_owned(),
        subject: e.subject.clone(),
        detail,
        prev_hash: e.prev_hash.to_vec(),
        hash: e.hash.to_vec(),
        signature: e.signature.clone(),
        key_id: e.key_id.clone(),
    })
}

/// The entry back from its columns. [`AuditError::BadRow`] names the seq
/// and the column: a negative or zero seq, a timestamp that is not RFC 3339,
/// an unknown kind, a `detail` that is not JSON or not in canonical form
/// (which also catches duplicated keys), a hash that is not 32 bytes.
///
/// This only checks the columns' form; [`super::verify`] checks the chain.
pub fn from_row(row: AuditRow) -> Result<AuditEntry, AuditError> {
    let seq_col = row.seq;
    let bad = |field, reason: String| AuditError::BadRow {
        seq: seq_col,
        field,
        reason,
    };
    let seq = u64::try_from(row.seq)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| bad("seq", "must be 1 or more".into()))?;
    let at: jiff::Timestamp = row
        .at
        .parse()
        .map_err(|e| bad("at", format!("not an RFC 3339 timestamp: {e}")))?;
    let kind: AuditKind = row
        .kind
        .parse()
        .map_err(|_| bad("kind", format!("unknown kind {:?}", row.kind)))?;
    let detail: serde_json::Value =
        serde_json::from_str(&row.detail).map_err(|e| bad("detail", format!("not JSON: {e}")))?;
    let mut canonical = String::with_capacity(row.detail.len());
    write_json(&detail, &mut canonical);
    if canonical != row.detail {
        return Err(bad(
            "detail",
            "not in canonical form (sorted keys, no whitespace, no duplicate keys)".into(),
        ));
    }
    let hash32 = |field, v: &[u8]| {
        <[u8; 32]>::try_from(v).map_err(|_| bad(field, format!("{} bytes, expected 32", v.len())))
    };
    let prev_hash = hash32("prev_hash", &row.prev_hash)?;
    let hash = hash32("hash", &row.hash)?;
    Ok(AuditEntry {
        seq,
        at,
        org: row.org,
        actor: row.actor,
        kind,
        subject: row.subject,
        detail,
        prev_hash,
        hash,
        signature: row.signature,
        key_id: row.key_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::bench_chain;

    #[test]
    fn round_trip_bench_rows() {
        let (rows, _) = bench_chain(1200);
        for e in rows {
            let row = to_row(&e).unwrap();
            assert_eq!(from_row(row).unwrap(), e);
        }
    }

    #[test]
    fn bad_rows_name_seq_and_field() {
        let (rows, _) = bench_chain(3);
        let good = to_row(&rows[1]).unwrap();
        type Mutation = Box<dyn Fn(&mut AuditRow)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("seq", Box::new(|r| r.seq = 0)),
            ("seq", Box::new(|r| r.seq = -5)),
            ("at", Box::new(|r| r.at = "yesterday".into())),
            ("kind", Box::new(|r| r.kind = "PhiRead".into())),
            ("detail", Box::new(|r| r.detail = "{".into())),
            (
                "detail",
                Box::new(|r| r.detail = r.detail.replace(':', ": ")),
            ),
            ("detail", Box::new(|r| r.detail = r#"{"a":1,"a":2}"#.into())),
            ("detail", Box::new(|r| r.detail = r#"{"b":1,"a":2}"#.into())),
            (
                "prev_hash",
                Box::new(|r| r.prev_hash.pop().map(drop).unwrap_or(())),
            ),
            ("hash", Box::new(|r| r.hash.push(0))),
        ];
        for (field, mutate) in cases {
            let mut row = good.clone();
            mutate(&mut row);
            match from_row(row.clone()) {
                Err(AuditError::BadRow {
                    seq,
                    field: f,
                    reason,
                }) => {
                    assert_eq!((seq, f), (row.seq, field), "{reason}");
                    let msg = AuditError::BadRow {
                        seq,
                        field: f,
                        reason,
                    }
                    .to_string();
                    assert!(msg.contains(field));
                }
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut big = rows[0].clone();
        big.seq = u64::MAX;
        assert!(matches!(to_row(&big), Err(AuditError::SeqTooLarge(_))));
    }

    #[test]
    fn other_rfc3339_forms_are_accepted() {
        let (rows, _) = bench_chain(2);
        let mut row = to_row(&rows[1]).unwrap();
        let original = rows[1].at;
        row.at = original
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)))
            .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
            .to_string();
        assert_eq!(from_row(row).unwrap().at, original);
    }
}
