//! The audit trail in the store: appending inside the caller's transaction,
//! streaming verification, and reading one subject's entries.

use super::{Ledger, LedgerError, PendingAudit, Principal, Result, insert_many};
use crate::audit::{
    AuditChain, AuditEntry, AuditRow, SigningKey, Verifier, VerifyReport, from_row, to_row,
};
use crate::ledger::roles::Action;
use crate::store::{Conn, Row, StoreError, Value};
use serde::Serialize;

const AUDIT_COLUMNS: &str =
    "seq, at, org, actor, kind, subject, detail, prev_hash, hash, signature, key_id";

pub(crate) fn row_of(r: &Row) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        seq: r.int(0)?,
        at: r.text(1)?,
        org: r.text(2)?,
        actor: r.text(3)?,
        kind: r.text(4)?,
        subject: r.text(5)?,
        detail: r.text(6)?,
        prev_hash: r.blob(7)?,
        hash: r.blob(8)?,
        signature: r.opt_blob(9)?,
        key_id: r.opt_text(10)?,
    })
}

/// Appends `pending` to the stored chain inside the open transaction. The
/// in-memory chain is trusted only while it matches the stored head (another
/// process, or a rolled-back transaction, makes it stale: then it resumes
/// from the stored last entry).
pub(crate) fn persist(
    c: &mut dyn Conn,
    chain: &mut Option<AuditChain>,
    signing: &SigningKey,
    interval: u64,
    pending: Vec<PendingAudit>,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let head = c.query(
        &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"),
        &[],
    )?;
    let stored_head = head.first().map(row_of).transpose()?;
    let fresh = match (chain.as_ref(), stored_head.as_ref()) {
        (Some(ch), Some(h)) => {
            u64::try_from(h.seq).ok() == Some(ch.last_seq()) && h.hash == ch.last_hash()
        }
        (Some(ch), None) => ch.last_seq() == 0,
        (None, _) => false,
    };
    if !fresh {
        *chain = Some(match stored_head {
            Some(row) => AuditChain::resume(&from_row(row)?, signing.clone(), interval)?,
            None => AuditChain::new(signing.clone(), interval),
        });
    }
    let Some(ch) = chain.as_mut() else {
        return Err(LedgerError::Conflict("audit chain unavailable".into()));
    };
    let at = jiff::Timestamp::now();
    let mut rows = Vec::with_capacity(pending.len() + 1);
    for p in pending {
        for e in ch.append(at, p.org, p.actor, p.kind, p.subject, p.detail)? {
            rows.push(values(&e)?);
        }
    }
    insert_many(
        c,
        &format!("INSERT INTO audit_log ({AUDIT_COLUMNS})"),
        11,
        rows,
    )?;
    Ok(())
}

fn values(e: &AuditEntry) -> Result<Vec<Value>> {
    let r = to_row(e)?;
    Ok(vec![
        r.seq.into(),
        r.at.into(),
        r.org.into(),
        r.actor.into(),
        r.kind.into(),
        r.subject.into(),
        r.detail.into(),
        r.prev_hash.into(),
        r.hash.into(),
        r.signature.into(),
        r.key_id.into(),
    ])
}

/// A row whose columns do not even parse (the chain verifier never saw it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadableRow {
    /// The stored seq.
    pub seq: i64,
    /// What is wrong with it.
    pub message: String,
}

/// `audit verify` over the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreVerifyReport {
    /// No problem at all (chain and rows).
    pub ok: bool,
    /// Rows read.
    pub entries: u64,
    /// The chain verifier's report.
    pub chain: VerifyReport,
    /// Rows that could not be read as entries (they also break the chain).
    pub unreadable: Vec<UnreadableRow>,
    /// The database (no credentials).
    pub database: String,
}

impl Ledger {
    /// Verifies the whole stored audit trail in one streaming pass (rows
    /// in stored order of `seq`). Reports every modification, deletion,
    /// insertion or reordering with the seq where it shows.
    pub fn verify_audit(&mut self, p: &Principal) -> Result<StoreVerifyReport> {
        p.require(Action::VerifyAudit)?;
        self.verify_audit_unchecked()
    }

    /// [`Ledger::verify_audit`] without a principal (benchmarks, tests).
    pub fn verify_audit_unchecked(&mut self) -> Result<StoreVerifyReport> {
        let mut verifier = Some(Verifier::new(&self.verifying));
        let mut unreadable = Vec::new();
        let mut rows = 0u64;
        self.db.read(&mut |c| {
            let v = verifier.as_mut().ok_or(StoreError::Decode {
                column: 0,
                expected: "a verifier",
            })?;
            c.query_each(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"),
                &[],
                &mut |r| {
                    rows += 1;
                    let seq = r.opt_int(0).ok().flatten().unwrap_or(0);
                    match row_of(&r)
                        .map_err(|e| e.to_string())
                        .and_then(|row| from_row(row).map_err(|e| e.to_string()))
                    {
                        Ok(e) => v.push(&e),
                        Err(message) => {
                            if unreadable.len() < 100 {
                                unreadable.push(UnreadableRow { seq, message });
                            }
                        }
                    }
                    Ok(())
                },
            )
        })?;
        let chain = verifier
            .take()
            .map(Verifier::finish)
            .ok_or_else(|| LedgerError::Conflict("verifier lost".into()))?;
        Ok(StoreVerifyReport {
            ok: chain.ok && unreadable.is_empty(),
            entries: rows,
            chain,
            unreadable,
            database: self.location().to_owned(),
        })
    }

    /// Every audit entry about one of `subjects`, in order.
    pub(crate) fn audit_entries_for(
        c: &mut dyn Conn,
        subjects: &[String],
    ) -> Result<Vec<AuditEntry>> {
        let mut out = Vec::new();
        for s in subjects {
            for r in c.query(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE subject = ? ORDER BY seq"),
                &[Value::Text(s.clone())],
            )? {
                out.push(from_row(row_of(&r)?)?);
            }
        }
        out.sort_by_key(|e| e.seq);
        out.dedup_by_key(|e| e.seq);
        Ok(out)
    }
}

impl Ledger {
    /// Benchmark support: appends `n` synthetic PHI-read entries (actor
    /// `bench`, subject `patient:0`) in transactions of `per_tx` so a store
    /// can be filled to a realistic audit-trail size before `verify_audit`
    /// is timed. Not used by the product.
    #[doc(hidden)]
    pub fn bench_append_audit(&mut self, org: &str, n: u64, per_tx: u64) -> Result<()> {
        let mut left = n;
        while left > 0 {
            let k = left.min(per_tx.max(1));
            self.write_audited(|_, ctx| {
                for i in 0..k {
                    ctx.audit_as(
                        org,
                        "bench".into(),
                        crate::audit::AuditKind::PhiRead,
                        "patient:0".into(),
                        serde_json::json!({"bench": i, "fields": ["note"]}),
                    );
                }
                Ok(())
            })?;
            left -= k;
        }
        Ok(())
    }
}
