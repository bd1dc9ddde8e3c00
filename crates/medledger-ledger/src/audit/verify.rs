//! The verifier: one streaming pass over stored entries.

use super::canon::hash_fields;
use super::{AuditEntry, AuditKind, VerifyingKey, group, hex32};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// At most this many problems are kept in a report; the rest are counted.
pub const MAX_PROBLEMS: usize = 100;

/// What kind of problem a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The row's content does not hash to its stored `hash`: it was changed after it was written.
    HashMismatch,
    /// `prev_hash` does not match the previous entry's hash: an entry was deleted, inserted or moved here.
    BrokenLink,
    /// Sequence numbers jump: entries are missing (deleted).
    SequenceGap,
    /// A sequence number at or below one already seen (moved or inserted).
    SequenceOutOfOrder,
    /// An exact copy of the previous row.
    Duplicate,
    /// A checkpoint's signature is missing or does not verify, or an ordinary row carries one.
    BadSignature,
    /// A checkpoint names a key id that is not among the verifying keys.
    UnknownKey,
    /// The chain does not start with a checkpoint, or more entries than the declared interval follow one.
    MissingCheckpoint,
    /// The entry at the anchor's seq has another hash than the published anchor.
    AnchorMismatch,
    /// The chain ends before the anchor's seq.
    Truncated,
}

/// One thing wrong with the chain, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// The entry's sequence number (for a changed row whose seq does not
    /// fit, the seq it should have had; the message gives both).
    pub seq: u64,
    /// 0-based index of the row in the order it was given to the verifier.
    pub position: u64,
    /// What is wrong.
    pub kind: ProblemKind,
    /// Human-readable, saying where: "entry 1,234: content hash does not match …".
    pub message: String,
}

/// The last entry of a chain: publish it elsewhere as an external anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainHead {
    /// Its seq.
    pub seq: u64,
    /// Its stored hash.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// No problems at all.
    pub ok: bool,
    /// Rows read.
    pub entries: u64,
    /// Checkpoint rows read (valid or not).
    pub checkpoints: u64,
    /// Seq of the last checkpoint whose content and signature are valid:
    /// every entry up to it is authenticated by that signature.
    pub last_signed_seq: Option<u64>,
    /// Rows after the last valid checkpoint (all rows if there is none).
    /// Only hashes protect them; truncation within this tail, or of whole
    /// signed stretches, is undetectable without an external anchor.
    pub unsigned_tail: u64,
    /// The chain's last entry (highest seq), to publish as an anchor.
    pub head: Option<ChainHead>,
    /// The first [`MAX_PROBLEMS`] problems, in the order they were found.
    pub problems: Vec<Problem>,
    /// How many more problems there were.
    pub problems_omitted: u64,
}

impl VerifyReport {
    /// All problems found, including omitted ones.
    pub fn problem_count(&self) -> u64 {
        self.problems.len() as u64 + self.problems_omitted
    }

    /// Whether a problem of `kind` was reported at `seq` (among those kept).
    pub fn has(&self, kind: ProblemKind, seq: u64) -> bool {
        self.problems.iter().any(|p| p.kind == kind && p.seq == seq)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            write!(
                f,
                "audit chain verified: {} entries, {} checkpoints",
                group(self.entries),
                group(self.checkpoints)
            )?;
        } else {
            write!(
                f,
                "audit chain FAILED verification: {} problem(s) in {} entries",
                group(self.problem_count()),
                group(self.entries)
            )?;
        }
        match self.last_signed_seq {
            Some(s) => write!(f, "; last signed checkpoint: entry {}", group(s))?,
            None => write!(f, "; no valid signed checkpoint")?,
        }
        write!(f, "; {} entries after it", group(self.unsigned_tail))?;
        if let Some(h) = &self.head {
            write!(f, "; head: entry {} {}", group(h.seq), hex::encode(h.hash))?;
        }
        for p in &self.problems {
            write!(f, "\n  {}", p.message)?;
        }
        if self.problems_omitted > 0 {
            write!(f, "\n  … and {} more", group(self.problems_omitted))?;
        }
        Ok(())
    }
}

/// Verifies a whole chain, given in storage order (by seq), against the
/// keys its checkpoints may be signed with (several when keys rotated;
/// `key_id` picks one). O(n), one pass, no allocation per entry.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    keys: &[VerifyingKey],
) -> VerifyReport {
    let mut v = Verifier::new(keys);
    for e in entries {
        v.push(e);
    }
    v.finish()
}

/// Streaming form of [`verify`]: feed rows as they are read from the store.
#[derive(Debug)]
pub struct Verifier {
    keys: Vec<VerifyingKey>,
    anchor: Option<ChainHead>,
    anchor_seen: bool,
    scratch: String,
    position: u64,
    head_seq: u64,
    head_hash: [u8; 32],
    checkpoints: u64,
    last_signed: Option<u64>,
    unsigned_tail: u64,
    declared_interval: u64,
    run: u64,
    run_reported: bool,
    /// A row that does not continue the head; placed when the next row shows
    /// whether the chain continues from it (a deletion) or from the head (it
    /// was moved or inserted).
    pending: Option<Placed>,
    /// Seqs of rows found out of place (at most [`MAX_PROBLEMS`]).
    displaced: Vec<u64>,
    problems: Vec<Problem>,
    omitted: u64,
}

/// What placement needs of a row.
#[derive(Debug, Clone, Copy)]
struct Placed {
    seq: u64,
    hash: [u8; 32],
    prev: [u8; 32],
    pos: u64,
    content_ok: bool,
}

impl Verifier {
    /// A verifier for a chain starting at seq 1.
    pub fn new(keys: &[VerifyingKey]) -> Self {
        Self {
            keys: keys.to_vec(),
            anchor: None,
            anchor_seen: false,
            scratch: String::with_capacity(512),
            position: 0,
            head_seq: 0,
            head_hash: [0; 32],
            checkpoints: 0,
            last_signed: None,
            unsigned_tail: 0,
            declared_interval: 0,
            run: 0,
            run_reported: false,
            pending: None,
            displaced: Vec::new(),
            problems: Vec::new(),
            omitted: 0,
        }
    }

    /// Also require the entry `seq` to exist with this `hash` (a head
    /// published earlier): detects truncation before it and rewriting up to it.
    pub fn anchor(mut self, seq: u64, hash: [u8; 32]) -> Self {
        self.anchor = Some(ChainHead { seq, hash });
        self
    }

    fn problem(&mut self, seq: u64, position: u64, kind: ProblemKind, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                seq,
                position,
                kind,
                message,
            });
        } else {
            self.omitted += 1;
        }
    }

    /// Checks the next row.
    pub fn push(&mut self, e: &AuditEntry) {
        use ProblemKind::*;
        let pos = self.position;
        self.position += 1;
        self.unsigned_tail += 1;
        let computed = hash_fields(
            e.seq,
            e.at,
            &e.org,
            &e.actor,
            e.kind,
            &e.subject,
            &e.detail,
            &e.prev_hash,
            &mut self.scratch,
        );
        let content_ok = computed == e.hash;
        // A changed row's seq is not to be trusted: place it where it stands.
        let seq = if content_ok {
            e.seq
        } else {
            match self.pending {
                Some(p) if e.prev_hash == p.hash => p.seq.saturating_add(1),
                _ => self.head_seq.saturating_add(1),
            }
        };
        if !content_ok {
            let claim = if e.seq == seq {
                String::new()
            } else {
                format!(" (row {} claims seq {})", group(pos + 1), group(e.seq))
            };
            self.problem(
                seq,
                pos,
                HashMismatch,
                format!(
                    "entry {}{claim}: content hash does not match (changed after it was written)",
                    group(seq)
                ),
            );
        }
        let in_line = self.place(Placed {
            seq,
            hash: e.hash,
            prev: e.prev_hash,
            pos,
            content_ok,
        });
        if !in_line {
            // Already reported as a copy or a moved row; not part of the chain.
            return;
        }

        if e.kind == AuditKind::Checkpoint {
            self.checkpoints += 1;
            self.run = 0;
            self.run_reported = false;
            let valid = match (&e.signature, &e.key_id) {
                (None, _) => {
                    self.problem(
                        seq,
                        pos,
                        BadSignature,
                        format!("checkpoint {} has no signature (removed?)", group(seq)),
                    );
                    false
                }
                (Some(_), None) => {
                    self.problem(
                        seq,
                        pos,
                        UnknownKey,
                        format!("checkpoint {} names no signing key", group(seq)),
                    );
                    false
                }
                (Some(sig), Some(id)) => match self.keys.iter().find(|k| k.key_id() == id) {
                    None => {
                        self.problem(
                            seq,
                            pos,
                            UnknownKey,
                            format!("checkpoint {}: signed by unknown key {id:?}", group(seq)),
                        );
                        false
                    }
                    Some(key) if key.verifies(&e.hash, sig) => true,
                    Some(_) => {
                        self.problem(
                            seq,
                            pos,
                            BadSignature,
                            format!(
                                "checkpoint {}: signature does not verify under key {id:?} (this checkpoint or an entry before it was changed)",
                                group(seq)
                            ),
                        );
                        false
                    }
                },
            };
            if valid && content_ok {
                self.last_signed = Some(seq);
                self.unsigned_tail = 0;
                if let Some(i) = e.detail.get("interval").and_then(Value::as_u64) {
                    self.declared_interval = i;
                }
            }
        } else {
            if e.signature.is_some() || e.key_id.is_some() {
                self.problem(
                    seq,
                    pos,
                    BadSignature,
                    format!(
                        "entry {} carries a signature or key id but is not a checkpoint",
                        group(seq)
                    ),
                );
            }
            if seq == 1 {
                self.problem(
                    seq,
                    pos,
                    MissingCheckpoint,
                    "entry 1 is not the signed genesis checkpoint (the start of the chain was replaced?)"
                        .to_owned(),
                );
            }
            self.run += 1;
            if self.declared_interval > 0 && self.run > self.declared_interval && !self.run_reported
            {
                self.run_reported = true;
                let since = self.last_signed.map_or(0, |s| s);
                self.problem(
                    seq,
                    pos,
                    MissingCheckpoint,
                    format!(
                        "entry {}: more than {} entries since checkpoint {} (checkpoints removed?)",
                        group(seq),
                        group(self.declared_interval),
                        group(since)
                    ),
                );
            }
        }
    }

    /// Sequence and link checks: accepts the row as the new head, holds it
    /// as pending, or reports it as out of place (then returns false).
    fn place(&mut self, r: Placed) -> bool {
        if let Some(p) = self.pending.take() {
            if r.seq == p.seq && r.hash == p.hash {
                self.problem(
                    r.seq,
                    r.pos,
                    ProblemKind::Duplicate,
                    format!("entry {} appears twice (duplicated row)", group(r.seq)),
                );
                self.pending = Some(p);
                return false;
            }
            let to_pending = r.prev == p.hash && p.seq.checked_add(1) == Some(r.seq);
            let to_head = r.prev == self.head_hash && self.head_seq.checked_add(1) == Some(r.seq);
            if to_pending || (!to_head && r.seq > p.seq) {
                self.accept_jump(p);
            } else {
                self.out_of_place(p);
            }
        }
        let expected = self.head_seq.checked_add(1);
        if expected == Some(r.seq) && r.prev == self.head_hash {
            self.advance(r);
            true
        } else if expected.is_none_or(|x| r.seq < x) {
            if r.seq == self.head_seq && r.hash == self.head_hash {
                self.problem(
                    r.seq,
                    r.pos,
                    ProblemKind::Duplicate,
                    format!("entry {} appears twice (duplicated row)", group(r.seq)),
                );
            } else {
                self.problem(
                    r.seq,
                    r.pos,
                    ProblemKind::SequenceOutOfOrder,
                    format!(
                        "entry {} appears after entry {} (moved, copied or inserted)",
                        group(r.seq),
                        group(self.head_seq)
                    ),
                );
            }
            false
        } else {
            self.pending = Some(r);
            true
        }
    }

    /// The chain continues from `p` although it does not continue the head.
    fn accept_jump(&mut self, p: Placed) {
        let expected = self.head_seq.saturating_add(1);
        if p.seq > expected {
            let missing = if p.seq - expected == 1 {
                format!("entry {} is missing", group(expected))
            } else {
                format!(
                    "entries {} to {} are missing",
                    group(expected),
                    group(p.seq - 1)
                )
            };
            let found = self
                .displaced
                .iter()
                .filter(|&&s| (expected..p.seq).contains(&s))
                .count();
            let why = if found == 0 {
                "(deleted?)".to_owned()
            } else {
                format!(
                    "({} of them found out of place elsewhere)",
                    group(found as u64)
                )
            };
            let after = if self.head_seq == 0 {
                "starts the chain".to_owned()
            } else {
                format!("follows entry {}", group(self.head_seq))
            };
            self.problem(
                p.seq,
                p.pos,
                ProblemKind::SequenceGap,
                format!("entry {} {after}: {missing} {why}", group(p.seq)),
            );
        }
        if p.prev != self.head_hash {
            let what = if self.head_seq == 0 {
                "is not all zero at the start of the chain".to_owned()
            } else {
                format!("does not match entry {}", group(self.head_seq))
            };
            self.problem(
                p.seq,
                p.pos,
                ProblemKind::BrokenLink,
                format!(
                    "entry {}: previous-hash link {what} (an entry was deleted, inserted or moved before it)",
                    group(p.seq)
                ),
            );
        }
        self.advance(p);
    }

    /// `p` sits between two rows that link to each other: moved or inserted.
    fn out_of_place(&mut self, p: Placed) {
        if self.displaced.len() < MAX_PROBLEMS {
            self.displaced.push(p.seq);
        }
        self.problem(
            p.seq,
            p.pos,
            ProblemKind::SequenceOutOfOrder,
            format!(
                "entry {} is out of place: found at row {}, after entry {}, and not linked to it (moved or inserted)",
                group(p.seq),
                group(p.pos + 1),
                group(self.head_seq)
            ),
        );
    }

    fn advance(&mut self, r: Placed) {
        self.head_seq = r.seq;
        self.head_hash = r.hash;
        if let Some(anchor) = self.anchor.filter(|a| !self.anchor_seen && r.seq >= a.seq) {
            self.anchor_seen = true;
            if r.seq > anchor.seq {
                self.problem(
                    r.seq,
                    r.pos,
                    ProblemKind::AnchorMismatch,
                    format!("the anchored entry {} is missing", group(anchor.seq)),
                );
            } else if !r.content_ok || r.hash != anchor.hash {
                self.problem(
                    r.seq,
                    r.pos,
                    ProblemKind::AnchorMismatch,
                    format!(
                        "entry {}: hash differs from the published anchor (the chain was rewritten up to here)",
                        group(r.seq)
                    ),
                );
            }
        }
    }

    /// The report.
    pub fn finish(mut self) -> VerifyReport {
        if let Some(p) = self.pending.take() {
            self.accept_jump(p);
        }
        if let Some(anchor) = self.anchor.filter(|_| !self.anchor_seen) {
            let (seq, pos) = (self.head_seq, self.position);
            self.problem(
                anchor.seq,
                pos,
                ProblemKind::Truncated,
                format!(
                    "the chain ends at entry {} but the published anchor names entry {} (entries removed from the end?)",
                    group(seq),
                    group(anchor.seq)
                ),
            );
        }
        VerifyReport {
            ok: self.problems.is_empty() && self.omitted == 0,
            entries: self.position,
            checkpoints: self.checkpoints,
            last_signed_seq: self.last_signed,
            unsigned_tail: self.unsigned_tail,
            head: (self.position > 0).then_some(ChainHead {
                seq: self.head_seq,
                hash: self.head_hash,
            }),
            problems: self.problems,
            problems_omitted: self.omitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::bench_chain;

    #[test]
    fn clean_chain_and_report_text() {
        let (rows, keys) = bench_chain(2500);
        let report = verify(&rows, &keys);
        assert!(report.ok, "{report}");
        assert_eq!(report.entries, 2500);
        assert_eq!(report.checkpoints, 3); // genesis (1), after 1,000 (1,002) and 2,000 (2,003) entries
        assert_eq!(report.last_signed_seq, Some(2003));
        assert_eq!(report.unsigned_tail, 497);
        assert_eq!(report.head.unwrap().seq, 2500);
        let text = report.to_string();
        assert!(
            text.starts_with("audit chain verified: 2,500 entries, 3 checkpoints"),
            "{text}"
        );
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<VerifyReport>(&json).unwrap(), report);
    }

    #[test]
    fn empty_chain_is_ok() {
        let report = verify([], &[]);
        assert!(report.ok);
        assert_eq!(report.entries, 0);
        assert!(report.head.is_none());
    }

    #[test]
    fn problems_are_capped() {
        let (mut rows, keys) = bench_chain(500);
        for e in &mut rows {
            e.org.push('x');
        }
        let report = verify(&rows, &keys);
        assert_eq!(report.problems.len(), MAX_PROBLEMS);
        assert_eq!(report.problem_count(), 500);
        assert!(report.to_string().contains("and 400 more"));
    }

    #[test]
    fn anchor_detects_truncation() {
        let (rows, keys) = bench_chain(1500);
        let head = verify(&rows, &keys).head.unwrap();
        let ok = {
            let mut v = Verifier::new(&keys).anchor(head.seq, head.hash);
            rows.iter().for_each(|e| v.push(e));
            v.finish()
        };
        assert!(ok.ok);
        let mut v = Verifier::new(&keys).anchor(head.seq, head.hash);
        rows[..1200].iter().for_each(|e| v.push(e));
        let cut = v.finish();
        assert!(cut.has(ProblemKind::Truncated, 1500), "{cut}");
        let mut v = Verifier::new(&keys).anchor(1000, [9; 32]);
        rows.iter().for_each(|e| v.push(e));
        assert!(v.finish().has(ProblemKind::AnchorMismatch, 1000));
    }
}
