//! Review decisions (accept / reject with a reason / edit) and
//! finalisation. A final code set exists only once every suggestion the
//! policy routed to a human has a human decision.

use super::encounters::{
    EvidenceSpan, FINALISED, IN_REVIEW, active_policy, check_spans, note_of, store_policy,
};
use super::policy::ReviewPolicy;
use super::{
    Actor, Ctx, Ledger, LedgerError, Principal, Result, insert_many, invalid, next_id, not_found,
    now, placeholders,
};
use crate::audit::AuditKind;
use crate::ledger::roles::Action;
use crate::store::{Conn, StoreError, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// Why a suggestion was rejected (a fixed list, plus free text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The note does not document the condition.
    NotDocumented,
    /// The mention is negated ("no …", "denies …").
    Negated,
    /// Uncertain, possible, rule-out (outpatient: code the symptom).
    Uncertain,
    /// History only, not current.
    HistoricalOnly,
    /// A family member's condition.
    FamilyHistory,
    /// The wrong code for what is documented.
    WrongCode,
    /// More specificity is documented than the code carries.
    WrongSpecificity,
    /// Already coded / a duplicate.
    Duplicate,
    /// Conflicts with an official guideline (Excludes1, sequencing, code first).
    GuidelineConflict,
    /// Not billable for this encounter (setting, payer, date).
    NotBillable,
    /// Anything else (explain in the comment).
    Other,
}

impl RejectReason {
    /// Every reason.
    pub const ALL: [RejectReason; 11] = [
        RejectReason::NotDocumented,
        RejectReason::Negated,
        RejectReason::Uncertain,
        RejectReason::HistoricalOnly,
        RejectReason::FamilyHistory,
        RejectReason::WrongCode,
        RejectReason::WrongSpecificity,
        RejectReason::Duplicate,
        RejectReason::GuidelineConflict,
        RejectReason::NotBillable,
        RejectReason::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotDocumented => "not_documented",
            RejectReason::Negated => "negated",
            RejectReason::Uncertain => "uncertain",
            RejectReason::HistoricalOnly => "historical_only",
            RejectReason::FamilyHistory => "family_history",
            RejectReason::WrongCode => "wrong_code",
            RejectReason::WrongSpecificity => "wrong_specificity",
            RejectReason::Duplicate => "duplicate",
            RejectReason::GuidelineConflict => "guideline_conflict",
            RejectReason::NotBillable => "not_billable",
            RejectReason::Other => "other",
        }
    }
}

impl std::str::FromStr for RejectReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        RejectReason::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                let all: Vec<&str> = RejectReason::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown reason {s:?}; reasons: {}", all.join(", "))
            })
    }
}

/// A reviewer's decision on one suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DecisionInput {
    /// The code stands.
    Accept {
        /// Optional comment (sealed: it may quote the note).
        #[serde(default)]
        comment: Option<String>,
    },
    /// The code is wrong.
    Reject {
        /// Why.
        reason: RejectReason,
        /// Free text (sealed).
        #[serde(default)]
        comment: Option<String>,
    },
    /// Replace the code (and optionally the evidence).
    Edit {
        /// The new code.
        code: String,
        /// New evidence spans (code points; `text` may be left empty and is
        /// then filled from the note). Empty: keep the suggestion's evidence.
        #[serde(default)]
        evidence: Vec<EvidenceSpan>,
        /// Free text (sealed).
        #[serde(default)]
        comment: Option<String>,
    },
}

impl DecisionInput {
    fn action(&self) -> &'static str {
        match self {
            DecisionInput::Accept { .. } => "accept",
            DecisionInput::Reject { .. } => "reject",
            DecisionInput::Edit { .. } => "edit",
        }
    }

    fn comment(&self) -> Option<&str> {
        match self {
            DecisionInput::Accept { comment }
            | DecisionInput::Reject { comment, .. }
            | DecisionInput::Edit { comment, .. } => comment.as_deref(),
        }
    }
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecord {
    /// Id.
    pub id: i64,
    /// Suggestion.
    pub suggestion: i64,
    /// Encounter.
    pub encounter: i64,
    /// Reviewer's user id.
    pub reviewer_id: i64,
    /// Reviewer's login name.
    pub reviewer: String,
    /// Reviewer's display name.
    pub reviewer_name: String,
    /// Reviewer's credential at the time.
    pub credential: String,
    /// `accept`, `reject`, `edit`.
    pub action: String,
    /// Reject reason.
    pub reason: Option<String>,
    /// Comment (decrypted).
    pub comment: Option<String>,
    /// New code (edit).
    pub new_code: Option<String>,
    /// New evidence (edit).
    pub new_evidence: Vec<EvidenceSpan>,
    /// When.
    pub decided_at: String,
}

/// A final code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinalCode {
    /// Position.
    pub ordinal: i64,
    /// System.
    pub system: String,
    /// Code.
    pub code: String,
    /// `reviewer` (accepted or edited by a human) or `engine` (passed under policy).
    pub source: String,
    /// The suggestion it came from.
    pub suggestion: Option<i64>,
    /// The decision behind it.
    pub decision: Option<i64>,
}

/// What finalising did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finalised {
    /// Encounter.
    pub encounter: i64,
    /// The final codes.
    pub codes: Vec<FinalCode>,
    /// `human` or `autonomous`.
    pub mode: String,
    /// When.
    pub at: String,
}

/// Result of one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionOutcome {
    /// Decision id.
    pub decision: i64,
    /// Suggestion.
    pub suggestion: i64,
    /// Encounter.
    pub encounter: i64,
    /// Suggestion status now.
    pub status: String,
    /// Required decisions still missing on the encounter.
    pub pending_required: i64,
    /// Set when this decision completed the review and the encounter was finalised.
    pub finalised: Option<Finalised>,
}

fn reviewer_of(p: &Principal) -> Result<(i64, String)> {
    match &p.actor {
        Actor::User {
            id,
            credential: Some(c),
            ..
        } if !c.trim().is_empty() => Ok((*id, c.clone())),
        Actor::User { username, .. } => Err(invalid(
            "reviewer",
            format!(
                "{username} has no coding credential (CPC, CCS, …); a review decision needs one"
            ),
        )),
        Actor::Operator => Err(invalid(
            "reviewer",
            "a review decision must name a credentialed user (--as USER)",
        )),
    }
}

pub(crate) fn load_decisions(
    c: &mut dyn Conn,
    ctx: &mut Ctx<'_>,
    p: &Principal,
    encounter: i64,
) -> Result<Vec<DecisionRecord>> {
    let mut out = Vec::new();
    for r in c.query(
        "SELECT d.id, d.suggestion_id, d.reviewer_id, u.username, u.display_name, d.reviewer_credential, d.action, d.reason, d.comment_enc, d.new_code, d.new_evidence_enc, d.decided_at FROM decisions d JOIN users u ON u.id = d.reviewer_id WHERE d.encounter_id = ? AND d.org_id = ? ORDER BY d.id",
        &[encounter.into(), p.org_id.into()],
    )? {
        let id = r.int(0)?;
        let comment = match r.opt_blob(8)? {
            Some(b) => Some(ctx.open_text(c, p, "decisions", "comment_enc", id, &b)?),
            None => None,
        };
        let new_evidence = match r.opt_blob(10)? {
            Some(b) => {
                let raw = ctx.open(c, p, "decisions", "new_evidence_enc", id, &b)?;
                serde_json::from_slice(&raw).map_err(|e| {
                    LedgerError::Store(StoreError::Corrupt {
                        table: "decisions",
                        id,
                        column: "new_evidence_enc",
                        message: e.to_string(),
                    })
                })?
            }
            None => Vec::new(),
        };
        out.push(DecisionRecord {
            id,
            suggestion: r.int(1)?,
            encounter,
            reviewer_id: r.int(2)?,
            reviewer: r.text(3)?,
            reviewer_name: r.text(4)?,
            credential: r.text(5)?,
            action: r.text(6)?,
            reason: r.opt_text(7)?,
            comment,
            new_code: r.opt_text(9)?,
            new_evidence,
            decided_at: r.text(11)?,
        });
    }
    Ok(out)
}

pub(crate) fn load_final_codes(
    c: &mut dyn Conn,
    p: &Principal,
    encounter: i64,
) -> Result<Vec<FinalCode>> {
    let mut out = Vec::new();
    for r in c.query(
        "SELECT ordinal, code_system, code, source, suggestion_id, decision_id FROM final_codes WHERE encounter_id = ? AND org_id = ? ORDER BY ordinal",
        &[encounter.into(), p.org_id.into()],
    )? {
        out.push(FinalCode {
            ordinal: r.int(0)?,
            system: r.text(1)?,
            code: r.text(2)?,
            source: r.text(3)?,
            suggestion: r.opt_int(4)?,
            decision: r.opt_int(5)?,
        });
    }
    Ok(out)
}

/// Required decisions still missing, per encounter (absent: none).
fn pending_required(c: &mut dyn Conn, encounters: &[i64]) -> Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for chunk in encounters.chunks(400) {
        let params: Vec<Value> = chunk.iter().map(|e| Value::Int(*e)).collect();
        for r in c.query(
            &format!(
                "SELECT encounter_id, COUNT(*) FROM suggestions WHERE requires_review = 1 AND status = 'pending' AND encounter_id IN ({}) GROUP BY encounter_id",
                placeholders(chunk.len())
            ),
            &params,
        )? {
            out.insert(r.int(0)?, r.int(1)?);
        }
    }
    Ok(out)
}

/// One suggestion as a decision sees it.
struct Target {
    encounter: i64,
    code: String,
    system: String,
    finalised: bool,
}

fn load_targets(c: &mut dyn Conn, p: &Principal, ids: &[i64]) -> Result<HashMap<i64, Target>> {
    let mut uniq = ids.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let mut out = HashMap::with_capacity(uniq.len());
    for chunk in uniq.chunks(400) {
        let mut params: Vec<Value> = vec![p.org_id.into()];
        params.extend(chunk.iter().map(|i| Value::Int(*i)));
        for r in c.query(
            &format!(
                "SELECT s.id, s.encounter_id, s.code, s.code_system, e.status FROM suggestions s JOIN encounters e ON e.id = s.encounter_id WHERE s.org_id = ? AND s.id IN ({})",
                placeholders(chunk.len())
            ),
            &params,
        )? {
            out.insert(
                r.int(0)?,
                Target {
                    encounter: r.int(1)?,
                    code: r.text(2)?,
                    system: r.text(3)?,
                    finalised: r.text(4)? == FINALISED,
                },
            );
        }
    }
    Ok(out)
}

fn status_of(d: &DecisionInput) -> &'static str {
    match d {
        DecisionInput::Accept { .. } => "accepted",
        DecisionInput::Reject { .. } => "rejected",
        DecisionInput::Edit { .. } => "edited",
    }
}

/// Records decisions set-wise: one query loads every suggestion, one
/// multi-row insert stores the decisions, a few updates set the statuses,
/// and the encounters whose required reviews are now complete are finalised
/// together. Statement count grows with the number of distinct statuses,
/// not with the batch, which is what makes batched decisions fast on a
/// networked database.
fn decide_many_tx(
    c: &mut dyn Conn,
    ctx: &mut Ctx<'_>,
    p: &Principal,
    reviewer: (i64, &str),
    batch: &[(i64, DecisionInput)],
    encounter: Option<i64>,
) -> Result<Vec<DecisionOutcome>> {
    let ids: Vec<i64> = batch.iter().map(|(s, _)| *s).collect();
    let targets = load_targets(c, p, &ids)?;
    if let Some(e) = encounter
        && let Some((sid, _)) = targets.iter().find(|(_, t)| t.encounter != e)
    {
        // A suggestion of another encounter reads as not found here.
        return Err(not_found("suggestion", sid));
    }
    let first_id = next_id(c, "decisions")?;
    let at = now();
    let mut rows = Vec::with_capacity(batch.len());
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut final_status: HashMap<i64, &'static str> = HashMap::new();
    let mut touched: Vec<i64> = Vec::new();
    let mut notes: HashMap<i64, String> = HashMap::new();
    for (id, (sid, d)) in (first_id..).zip(batch) {
        let t = targets
            .get(sid)
            .ok_or_else(|| not_found("suggestion", sid))?;
        if t.finalised {
            return Err(LedgerError::Conflict(format!(
                "encounter {} is finalised; its codes can no longer be decided",
                t.encounter
            )));
        }
        let comment = match d.comment() {
            Some(text) if !text.is_empty() => {
                Some(ctx.seal(c, p, "decisions", "comment_enc", id, text.as_bytes())?)
            }
            _ => None,
        };
        let (reason, new_code, new_evidence) = match d {
            DecisionInput::Accept { .. } => (None, None, None),
            DecisionInput::Reject { reason, .. } => {
                if *reason == RejectReason::Other && d.comment().is_none_or(str::is_empty) {
                    return Err(invalid("comment", "reason 'other' needs a comment"));
                }
                (Some(reason.as_str()), None, None)
            }
            DecisionInput::Edit {
                code: new,
                evidence,
                ..
            } => {
                let new = new.trim().to_ascii_uppercase();
                if new.is_empty() {
                    return Err(invalid("code", "an edit needs the new code"));
                }
                let sealed = if evidence.is_empty() {
                    None
                } else {
                    let note = match notes.entry(t.encounter) {
                        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(note_of(c, ctx, p, t.encounter)?)
                        }
                    };
                    let filled = fill_spans(note, evidence)?;
                    check_spans(note, &filled, "evidence")?;
                    let raw = serde_json::to_vec(&filled)
                        .map_err(|e| invalid("evidence", e.to_string()))?;
                    Some(ctx.seal(c, p, "decisions", "new_evidence_enc", id, &raw)?)
                };
                (None, Some(new), sealed)
            }
        };
        rows.push(vec![
            id.into(),
            p.org_id.into(),
            (*sid).into(),
            t.encounter.into(),
            reviewer.0.into(),
            reviewer.1.into(),
            d.action().into(),
            reason.into(),
            comment.into(),
            new_code.clone().into(),
            new_evidence.into(),
            at.as_str().into(),
        ]);
        ctx.audit(
            p,
            AuditKind::SuggestionDecision,
            format!("encounter:{}", t.encounter),
            json!({"decision": d.action(), "decision_id": id, "suggestion": sid, "system": t.system, "code": t.code,
                   "new_code": new_code, "reason": reason, "credential": reviewer.1, "has_comment": d.comment().is_some_and(|x| !x.is_empty())}),
        );
        final_status.insert(*sid, status_of(d));
        touched.push(t.encounter);
        outcomes.push(DecisionOutcome {
            decision: id,
            suggestion: *sid,
            encounter: t.encounter,
            status: status_of(d).to_owned(),
            pending_required: 0,
            finalised: None,
        });
    }
    insert_many(
        c,
        "INSERT INTO decisions (id, org_id, suggestion_id, encounter_id, reviewer_id, reviewer_credential, action, reason, comment_enc, new_code, new_evidence_enc, decided_at)",
        12,
        rows,
    )?;
    for status in ["accepted", "rejected", "edited"] {
        let ids: Vec<Value> = final_status
            .iter()
            .filter(|(_, s)| **s == status)
            .map(|(id, _)| Value::Int(*id))
            .collect();
        for chunk in ids.chunks(400) {
            let mut params = vec![Value::from(status)];
            params.extend(chunk.iter().cloned());
            c.exec(
                &format!(
                    "UPDATE suggestions SET status = ? WHERE id IN ({})",
                    placeholders(chunk.len())
                ),
                &params,
            )?;
        }
    }
    touched.sort_unstable();
    touched.dedup();
    for chunk in touched.chunks(400) {
        let mut params = vec![Value::from(IN_REVIEW), Value::from(IN_REVIEW)];
        params.extend(chunk.iter().map(|e| Value::Int(*e)));
        c.exec(
            &format!(
                "UPDATE encounters SET status = ? WHERE status <> ? AND id IN ({})",
                placeholders(chunk.len())
            ),
            &params,
        )?;
    }
    let pending = pending_required(c, &touched)?;
    let complete: Vec<i64> = touched
        .iter()
        .copied()
        .filter(|e| !pending.contains_key(e))
        .collect();
    let mut finalised: HashMap<i64, Finalised> = finalise_many_tx(c, ctx, p, &complete)?
        .into_iter()
        .map(|f| (f.encounter, f))
        .collect();
    // report pending counts, and each finalisation on the encounter's last decision
    for o in outcomes.iter_mut().rev() {
        o.pending_required = pending.get(&o.encounter).copied().unwrap_or(0);
        if let Some(f) = finalised.remove(&o.encounter) {
            o.finalised = Some(f);
        }
    }
    Ok(outcomes)
}

fn fill_spans(note: &str, spans: &[EvidenceSpan]) -> Result<Vec<EvidenceSpan>> {
    let chars: Vec<char> = note.chars().collect();
    spans
        .iter()
        .map(|s| {
            if s.start >= s.end || s.end > chars.len() {
                return Err(invalid(
                    "evidence",
                    format!(
                        "span {}..{} is empty or outside the note ({} characters)",
                        s.start,
                        s.end,
                        chars.len()
                    ),
                ));
            }
            let text = if s.text.is_empty() {
                chars[s.start..s.end].iter().collect()
            } else {
                s.text.clone()
            };
            Ok(EvidenceSpan {
                start: s.start,
                end: s.end,
                text,
            })
        })
        .collect()
}

/// Finalises encounters whose required reviews are all decided (callers
/// check): the last decision per suggestion counts; accepted and edited
/// codes are the reviewer's, undecided ones pass under the policy as the
/// engine's, rejected ones are dropped.
fn finalise_many_tx(
    c: &mut dyn Conn,
    ctx: &mut Ctx<'_>,
    p: &Principal,
    encounters: &[i64],
) -> Result<Vec<Finalised>> {
    if encounters.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_enc: Vec<(i64, Vec<FinalCode>)> =
        encounters.iter().map(|e| (*e, Vec::new())).collect();
    let index: HashMap<i64, usize> = encounters
        .iter()
        .enumerate()
        .map(|(i, e)| (*e, i))
        .collect();
    let mut next = next_id(c, "final_codes")?;
    let mut rows = Vec::new();
    for chunk in encounters.chunks(400) {
        let mut params: Vec<Value> = vec![p.org_id.into()];
        params.extend(chunk.iter().map(|e| Value::Int(*e)));
        for s in c.query(
            &format!(
                "SELECT s.id, s.encounter_id, s.code_system, s.code, s.status, d.id, d.new_code FROM suggestions s \
                 LEFT JOIN decisions d ON d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.suggestion_id = s.id) \
                 WHERE s.org_id = ? AND s.encounter_id IN ({}) ORDER BY s.encounter_id, s.ordinal, s.id",
                placeholders(chunk.len())
            ),
            &params,
        )? {
            let (sid, enc, system, code, st, did, new_code) =
                (s.int(0)?, s.int(1)?, s.text(2)?, s.text(3)?, s.text(4)?, s.opt_int(5)?, s.opt_text(6)?);
            let (final_code, source) = match st.as_str() {
                "rejected" => continue,
                "edited" => (new_code.unwrap_or(code), "reviewer"),
                "accepted" => (code, "reviewer"),
                _ => (code, "engine"),
            };
            let Some(&i) = index.get(&enc) else { continue };
            let codes = &mut by_enc[i].1;
            if codes.iter().any(|f| f.system == system && f.code == final_code) {
                continue;
            }
            let ordinal = codes.len() as i64;
            rows.push(vec![
                next.into(),
                p.org_id.into(),
                enc.into(),
                ordinal.into(),
                system.as_str().into(),
                final_code.as_str().into(),
                source.into(),
                sid.into(),
                did.into(),
            ]);
            next += 1;
            codes.push(FinalCode {
                ordinal,
                system,
                code: final_code,
                source: source.to_owned(),
                suggestion: Some(sid),
                decision: did,
            });
        }
    }
    insert_many(
        c,
        "INSERT INTO final_codes (id, org_id, encounter_id, ordinal, code_system, code, source, suggestion_id, decision_id)",
        9,
        rows,
    )?;
    let at = now();
    for chunk in encounters.chunks(400) {
        let mut params: Vec<Value> = vec![
            FINALISED.into(),
            at.as_str().into(),
            p.audit_actor().into(),
            p.org_id.into(),
        ];
        params.extend(chunk.iter().map(|e| Value::Int(*e)));
        c.exec(
            &format!(
                "UPDATE encounters SET status = ?, finalised_at = ?, finalised_by = ?, finalisation_mode = 'human' WHERE org_id = ? AND id IN ({})",
                placeholders(chunk.len())
            ),
            &params,
        )?;
    }
    let (_, policy) = active_policy(c, p)?;
    let mut out = Vec::with_capacity(by_enc.len());
    for (encounter, codes) in by_enc {
        ctx.audit(
            p,
            AuditKind::Finalisation,
            format!("encounter:{encounter}"),
            json!({"mode": "human", "codes": codes.iter().map(|f| json!({"system": f.system, "code": f.code, "source": f.source})).collect::<Vec<_>>(), "policy": policy.label()}),
        );
        out.push(Finalised {
            encounter,
            codes,
            mode: "human".into(),
            at: at.clone(),
        });
    }
    Ok(out)
}

impl Ledger {
    /// Records one decision; durable when this returns. When it was the last
    /// decision the policy required, the encounter is finalised in the same
    /// transaction.
    pub fn decide(
        &mut self,
        p: &Principal,
        suggestion: i64,
        d: &DecisionInput,
    ) -> Result<DecisionOutcome> {
        let mut out = self.decide_batch(p, std::slice::from_ref(&(suggestion, d.clone())))?;
        out.pop()
            .ok_or_else(|| LedgerError::Conflict("no decision recorded".into()))
    }

    /// Records many decisions in one transaction (all or none); durable when
    /// this returns. Encounters whose required reviews are all done are
    /// finalised in the same transaction.
    pub fn decide_batch(
        &mut self,
        p: &Principal,
        batch: &[(i64, DecisionInput)],
    ) -> Result<Vec<DecisionOutcome>> {
        p.require(Action::Decide)?;
        let (rid, cred) = reviewer_of(p)?;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.write_audited(|c, ctx| decide_many_tx(c, ctx, p, (rid, &cred), batch, None))
    }

    /// [`Ledger::decide_batch`] confined to one encounter: a suggestion of
    /// any other encounter (or none) reads as not found and nothing is
    /// recorded.
    pub fn decide_for_encounter(
        &mut self,
        p: &Principal,
        encounter: i64,
        batch: &[(i64, DecisionInput)],
    ) -> Result<Vec<DecisionOutcome>> {
        p.require(Action::Decide)?;
        let (rid, cred) = reviewer_of(p)?;
        if batch.is_empty() {
            return Err(invalid("decisions", "no decision given"));
        }
        self.write_audited(|c, ctx| decide_many_tx(c, ctx, p, (rid, &cred), batch, Some(encounter)))
    }

    /// Finalises an encounter whose required reviews are done.
    pub fn finalise(&mut self, p: &Principal, encounter: i64) -> Result<Finalised> {
        p.require(Action::Finalise)?;
        reviewer_of(p)?;
        self.write_audited(|c, ctx| {
            let rows = c.query(
                "SELECT status FROM encounters WHERE id = ? AND org_id = ?",
                &[encounter.into(), p.org_id.into()],
            )?;
            let status = rows.first().ok_or_else(|| not_found("encounter", encounter))?.text(0)?;
            if status == FINALISED {
                return Err(LedgerError::Conflict(format!("encounter {encounter} is already finalised")));
            }
            if let Some(n) = pending_required(c, &[encounter])?.get(&encounter) {
                return Err(LedgerError::Conflict(format!(
                    "encounter {encounter} has {n} suggestion(s) that the review policy routes to a human and that are not decided yet"
                )));
            }
            finalise_many_tx(c, ctx, p, &[encounter])?
                .pop()
                .ok_or_else(|| LedgerError::Conflict("nothing finalised".into()))
        })
    }

    /// Activates a new review policy for the organisation (a new version row).
    pub fn set_policy(&mut self, p: &Principal, policy: &ReviewPolicy) -> Result<i64> {
        p.require(Action::ManagePolicy)?;
        self.write_audited(|c, ctx| {
            let id = store_policy(c, p, policy)?;
            ctx.audit(
                p,
                AuditKind::PolicyChange,
                format!("policy:{id}"),
                json!({"policy": policy.label(), "sha256": policy.sha256}),
            );
            Ok(id)
        })
    }

    /// The organisation's active policy.
    pub fn policy(&mut self, p: &Principal) -> Result<ReviewPolicy> {
        p.require(Action::ViewQueue)?;
        self.write_audited(|c, _| Ok(active_policy(c, p)?.1))
    }
}

/// Review figures for the organisation (no PHI): the queue by status, the
/// decisions by action and how often reviewers agreed with the engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewStats {
    /// Encounters per status.
    pub encounters_by_status: std::collections::BTreeMap<String, i64>,
    /// Finalised autonomously (no human needed under the policy).
    pub autonomous_finalisations: i64,
    /// Latest decision per suggestion, by action.
    pub decisions_by_action: std::collections::BTreeMap<String, i64>,
    /// Share of decided suggestions accepted unchanged.
    pub agreement_rate: Option<f64>,
}

impl Ledger {
    /// Review figures for the principal's organisation.
    pub fn review_stats(&mut self, p: &Principal) -> Result<ReviewStats> {
        p.require(Action::ViewReports)?;
        self.read_audited(|c, _| {
            let mut by_status = std::collections::BTreeMap::new();
            for r in c.query(
                "SELECT status, COUNT(*) FROM encounters WHERE org_id = ? GROUP BY status",
                &[p.org_id.into()],
            )? {
                by_status.insert(r.text(0)?, r.int(1)?);
            }
            let autonomous = c
                .query(
                    "SELECT COUNT(*) FROM encounters WHERE org_id = ? AND finalisation_mode = 'autonomous'",
                    &[p.org_id.into()],
                )?
                .first()
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            let mut by_action = std::collections::BTreeMap::new();
            for r in c.query(
                "SELECT d.action, COUNT(*) FROM decisions d WHERE d.org_id = ? AND d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.suggestion_id = d.suggestion_id) GROUP BY d.action",
                &[p.org_id.into()],
            )? {
                by_action.insert(r.text(0)?, r.int(1)?);
            }
            let decided: i64 = by_action.values().sum();
            let accepted = by_action.get("accept").copied().unwrap_or(0);
            Ok(ReviewStats {
                encounters_by_status: by_status,
                autonomous_finalisations: autonomous,
                decisions_by_action: by_action,
                agreement_rate: (decided > 0).then(|| accepted as f64 / decided as f64),
            })
        })
    }
}
