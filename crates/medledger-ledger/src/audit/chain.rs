//! The writer: appends entries and signed checkpoints.

use super::canon::{check_detail, hash_fields};
use super::{AuditEntry, AuditError, AuditKind, SigningKey, VerifyingKey};
use serde_json::{Value, json};

/// `actor` of checkpoint entries.
pub(crate) const CHECKPOINT_ACTOR: &str =
    concat!("engine:medledger-ledger/", env!("CARGO_PKG_VERSION"));
/// `subject` of checkpoint entries.
pub(crate) const CHECKPOINT_SUBJECT: &str = "audit-chain";
/// The largest seq the chain writes (fits an `i64` column).
const MAX_SEQ: u64 = i64::MAX as u64;

/// In-memory writer state of the audit chain.
///
/// Not thread-safe by itself: put it behind the store's write lock (one
/// writer per chain), persist every entry `append` returns, in order, in one
/// transaction.
#[derive(Debug)]
pub struct AuditChain {
    signing: SigningKey,
    interval: u64,
    last_seq: u64,
    last_hash: [u8; 32],
    since_checkpoint: u64,
    /// A checkpoint is written before the next entry (genesis, resume).
    due: Option<&'static str>,
    scratch: String,
}

impl AuditChain {
    /// A new, empty chain. The first `append` starts it with a signed
    /// genesis checkpoint (seq 1). `interval`: ordinary entries between
    /// automatic checkpoints (0: only [`AuditChain::checkpoint`]).
    pub fn new(signing: SigningKey, interval: u64) -> Self {
        Self {
            signing,
            interval,
            last_seq: 0,
            last_hash: [0; 32],
            since_checkpoint: 0,
            due: Some("genesis"),
            scratch: String::new(),
        }
    }

    /// Continues a stored chain after its last entry `last`.
    ///
    /// Run [`super::verify`] over the stored chain first: rows after the last
    /// signed checkpoint are protected by hashes only, and resuming from a
    /// forged tail would sign it. This checks that `last` hashes to its
    /// `hash`. A checkpoint is written
    /// before the next entry unless `last` is a checkpoint signed under this
    /// key id that declares this interval.
    pub fn resume(
        last: &AuditEntry,
        signing: SigningKey,
        interval: u64,
    ) -> Result<Self, AuditError> {
        let bad = |reason| AuditError::BadResumePoint {
            seq: last.seq,
            reason,
        };
        if last.seq == 0 {
            return Err(bad("sequence numbers start at 1"));
        }
        if last.seq == 1 && last.prev_hash != [0; 32] {
            return Err(bad("the first entry must have an all-zero prev_hash"));
        }
        let mut scratch = String::new();
        let computed = hash_fields(
            last.seq,
            last.at,
            &last.org,
            &last.actor,
            last.kind,
            &last.subject,
            &last.detail,
            &last.prev_hash,
            &mut scratch,
        );
        if computed != last.hash {
            return Err(bad(
                "its content hash does not match (changed after it was written)",
            ));
        }
        let current = last.kind == AuditKind::Checkpoint
            && last.key_id.as_deref() == Some(signing.key_id())
            && last.detail.get("interval").and_then(Value::as_u64) == Some(interval)
            && last
                .signature
                .as_deref()
                .is_some_and(|sig| signing.verifying_key().verifies(&last.hash, sig));
        Ok(Self {
            signing,
            interval,
            last_seq: last.seq,
            last_hash: last.hash,
            since_checkpoint: 0,
            due: if current { None } else { Some("resume") },
            scratch,
        })
    }

    /// Appends one entry. Returns the rows to store, in order: the entry,
    /// preceded by a checkpoint when one is due (genesis, resume) and/or
    /// followed by one when this entry completes an interval.
    ///
    /// Errors: `kind` is [`AuditKind::Checkpoint`] (use
    /// [`AuditChain::checkpoint`]), `detail` contains a float or is nested
    /// more than 64 levels deep, or the
    /// sequence is exhausted. On error nothing is appended.
    pub fn append(
        &mut self,
        at: jiff::Timestamp,
        org: impl Into<String>,
        actor: impl Into<String>,
        kind: AuditKind,
        subject: impl Into<String>,
        detail: Value,
    ) -> Result<Vec<AuditEntry>, AuditError> {
        if kind == AuditKind::Checkpoint {
            return Err(AuditError::ReservedKind);
        }
        check_detail(&detail)?;
        let due = self.due;
        let after = self.interval > 0 && self.since_checkpoint + 1 >= self.interval;
        let needed = 1 + u64::from(due.is_some()) + u64::from(after);
        if self.last_seq > MAX_SEQ - needed {
            return Err(AuditError::SeqOverflow(self.last_seq));
        }
        let mut out = Vec::with_capacity(needed as usize);
        if let Some(reason) = due {
            out.push(self.signed_checkpoint(at, reason)?);
        }
        let entry = self.seal(at, org.into(), actor.into(), kind, subject.into(), detail);
        out.push(entry);
        self.since_checkpoint += 1;
        if after {
            out.push(self.signed_checkpoint(at, "interval")?);
        }
        Ok(out)
    }

    /// Writes a checkpoint now (on demand), signed with the chain's key.
    pub fn checkpoint(&mut self, at: jiff::Timestamp) -> Result<AuditEntry, AuditError> {
        if self.last_seq >= MAX_SEQ {
            return Err(AuditError::SeqOverflow(self.last_seq));
        }
        let reason = if self.last_seq == 0 {
            "genesis"
        } else {
            "requested"
        };
        self.signed_checkpoint(at, reason)
    }

    /// Seq of the last entry written (0 for a new chain).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Hash of the last entry written (all zero for a new chain).
    pub fn last_hash(&self) -> [u8; 32] {
        self.last_hash
    }

    /// Ordinary entries since the last checkpoint.
    pub fn since_checkpoint(&self) -> u64 {
        self.since_checkpoint
    }

    /// The checkpoint interval.
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// The public key the chain's checkpoints verify under.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    fn signed_checkpoint(
        &mut self,
        at: jiff::Timestamp,
        reason: &'static str,
    ) -> Result<AuditEntry, AuditError> {
        let detail = json!({
            "interval": self.interval,
            "key_id": self.signing.key_id(),
            "reason": reason,
        });
        // Sign before committing any state, so a failure leaves the chain as it was.
        let seq = self.last_seq + 1;
        let hash = hash_fields(
            seq,
            at,
            "",
            CHECKPOINT_ACTOR,
            AuditKind::Checkpoint,
            CHECKPOINT_SUBJECT,
            &detail,
            &self.last_hash,
            &mut self.scratch,
        );
        let signature = self.signing.sign(&hash)?;
        let mut entry = self.seal(
            at,
            String::new(),
            CHECKPOINT_ACTOR.to_owned(),
            AuditKind::Checkpoint,
            CHECKPOINT_SUBJECT.to_owned(),
            detail,
        );
        debug_assert_eq!(entry.hash, hash);
        entry.signature = Some(signature);
        entry.key_id = Some(self.signing.key_id().to_owned());
        self.since_checkpoint = 0;
        self.due = None;
        Ok(entry)
    }

    fn seal(
        &mut self,
        at: jiff::Timestamp,
        org: String,
        actor: String,
        kind: AuditKind,
        subject: String,
        detail: Value,
    ) -> AuditEntry {
        let seq = self.last_seq + 1;
        let hash = hash_fields(
            seq,
            at,
            &org,
            &actor,
            kind,
            &subject,
            &detail,
            &self.last_hash,
            &mut self.scratch,
        );
        let entry = AuditEntry {
            seq,
            at,
            org,
            actor,
            kind,
            subject,
            detail,
            prev_hash: self.last_hash,
            hash,
            signature: None,
            key_id: None,
        };
        self.last_seq = seq;
        self.last_hash = hash;
        entry
    }
}

/// A synthetic chain of exactly `n` rows (ordinary entries of every kind
/// with realistic subjects and details, a checkpoint every 1,000 entries,
/// under a fixed test key) and the keys to verify it, for benchmarks.
pub fn bench_chain(n: u64) -> (Vec<AuditEntry>, Vec<VerifyingKey>) {
    let key = SigningKey::from_bytes(&[0x42; 32]);
    let keys = vec![key.verifying_key()];
    let mut chain = AuditChain::new(key, 1000);
    let start = jiff::Timestamp::from_second(1_750_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let kinds = [
        AuditKind::PhiRead,
        AuditKind::CodingRun,
        AuditKind::SuggestionDecision,
        AuditKind::Finalisation,
        AuditKind::ClaimEvent,
    ];
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut i: u64 = 0;
    while (out.len() as u64) < n {
        let at = start
            .checked_add(jiff::SignedDuration::from_millis(
                (i as i64).saturating_mul(250),
            ))
            .unwrap_or(start);
        let kind = kinds[(i % kinds.len() as u64) as usize];
        let (subject, detail) = match kind {
            AuditKind::PhiRead => (
                format!("patient:{}", i % 50_000),
                json!({"note": i, "encounter": i / 3, "purpose": "treatment"}),
            ),
            AuditKind::CodingRun => (
                format!("encounter:{}", i / 3),
                json!({"engine": "0.1.0", "suggestions": i % 17, "codeset": "icd10cm-2026"}),
            ),
            AuditKind::SuggestionDecision => (
                format!("encounter:{}", i / 3),
                json!({"decision": "accept", "code": "E11.9", "suggestion": i}),
            ),
            AuditKind::Finalisation => (
                format!("encounter:{}", i / 3),
                json!({"codes": ["E11.9", "I10", "99214"]}),
            ),
            _ => (
                format!("claim:{}", i / 5),
                json!({"event": "submitted", "payer": "payer:12", "batch": i / 100}),
            ),
        };
        let actor = format!("user:{}", i % 40);
        match chain.append(at, "org:1", actor, kind, subject, detail) {
            Ok(rows) => out.extend(rows),
            Err(_) => break,
        }
        i += 1;
    }
    out.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    (out, keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::entry_hash;

    fn at() -> jiff::Timestamp {
        "2025-03-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn genesis_interval_and_links() {
        let mut chain = AuditChain::new(SigningKey::from_bytes(&[1; 32]), 3);
        let mut rows = Vec::new();
        for i in 0..7 {
            rows.extend(
                chain
                    .append(
                        at(),
                        "org:1",
                        "user:1",
                        AuditKind::PhiRead,
                        format!("patient:{i}"),
                        json!({}),
                    )
                    .unwrap(),
            );
        }
        let kinds: Vec<_> = rows
            .iter()
            .map(|e| e.kind == AuditKind::Checkpoint)
            .collect();
        // genesis, 3 entries, checkpoint, 3 entries, checkpoint, 1 entry
        assert_eq!(
            kinds,
            [
                true, false, false, false, true, false, false, false, true, false
            ]
        );
        for (i, e) in rows.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
            assert_eq!(entry_hash(e), e.hash);
            let prev = if i == 0 { [0; 32] } else { rows[i - 1].hash };
            assert_eq!(e.prev_hash, prev);
            assert_eq!(e.signature.is_some(), e.kind == AuditKind::Checkpoint);
        }
        assert_eq!(rows[0].detail["reason"], "genesis");
        assert_eq!(rows[4].detail["reason"], "interval");
        assert_eq!(chain.last_seq(), 10);
        assert_eq!(chain.since_checkpoint(), 1);
        let cp = chain.checkpoint(at()).unwrap();
        assert_eq!(cp.seq, 11);
        assert_eq!(cp.detail["reason"], "requested");
    }

    #[test]
    fn refuses_checkpoint_kind_floats_and_overflow() {
        let mut chain = AuditChain::new(SigningKey::from_bytes(&[1; 32]), 10);
        assert!(matches!(
            chain.append(at(), "o", "a", AuditKind::Checkpoint, "s", json!({})),
            Err(AuditError::ReservedKind)
        ));
        assert!(matches!(
            chain.append(at(), "o", "a", AuditKind::CodingRun, "s", json!({"x": 0.1})),
            Err(AuditError::FloatInDetail { .. })
        ));
        assert_eq!(chain.last_seq(), 0);
        chain.last_seq = MAX_SEQ - 1;
        chain.due = None;
        assert!(
            chain
                .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(1))
                .is_ok()
        );
        assert!(matches!(
            chain.append(at(), "o", "a", AuditKind::CodingRun, "s", json!(1)),
            Err(AuditError::SeqOverflow(_))
        ));
        assert!(matches!(
            chain.checkpoint(at()),
            Err(AuditError::SeqOverflow(_))
        ));
    }

    #[test]
    fn resume_rules() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let mut chain = AuditChain::new(key.clone(), 2);
        let mut rows = chain
            .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(1))
            .unwrap();
        rows.extend(
            chain
                .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(2))
                .unwrap(),
        );
        let last = rows.last().unwrap();
        assert_eq!(last.kind, AuditKind::Checkpoint);

        // Same key and interval after a checkpoint: nothing due.
        let mut resumed = AuditChain::resume(last, key.clone(), 2).unwrap();
        assert_eq!(
            resumed
                .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(3))
                .unwrap()
                .len(),
            1
        );
        // Another interval: a checkpoint first.
        let mut resumed = AuditChain::resume(last, key.clone(), 5).unwrap();
        let out = resumed
            .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(3))
            .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].kind, AuditKind::Checkpoint);
        assert_eq!(out[0].detail["reason"], "resume");
        assert_eq!(out[0].prev_hash, last.hash);
        // Another key: a checkpoint first.
        let other = SigningKey::from_bytes(&[2; 32]);
        let mut resumed = AuditChain::resume(last, other, 2).unwrap();
        assert_eq!(
            resumed
                .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(3))
                .unwrap()
                .len(),
            2
        );
        // From an ordinary entry: a checkpoint first.
        let mut resumed = AuditChain::resume(&rows[1], key.clone(), 2).unwrap();
        assert_eq!(resumed.last_seq(), 2);
        assert_eq!(
            resumed
                .append(at(), "o", "a", AuditKind::CodingRun, "s", json!(3))
                .unwrap()[0]
                .kind,
            AuditKind::Checkpoint
        );
        // A tampered resume point is refused.
        let mut forged = rows[1].clone();
        forged.org = "other".into();
        assert!(matches!(
            AuditChain::resume(&forged, key.clone(), 2),
            Err(AuditError::BadResumePoint { seq: 2, .. })
        ));
        forged = rows[1].clone();
        forged.seq = 0;
        assert!(AuditChain::resume(&forged, key, 2).is_err());
    }

    #[test]
    fn bench_chain_has_exact_length() {
        for n in [0, 1, 2, 999, 1001, 2500] {
            let (rows, keys) = bench_chain(n);
            assert_eq!(rows.len() as u64, n);
            assert_eq!(keys.len(), 1);
        }
    }
}
