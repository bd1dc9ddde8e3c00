//! Claims, their status history and remittances as ledger entities. The
//! claims work (building, scrubbing, X12) fills them in; here they are
//! stored, organisation-scoped, role-checked and audited.

use super::encounters::FINALISED;
use super::{Ledger, LedgerError, Principal, Result, invalid, next_id, not_found, now};
use crate::audit::AuditKind;
use crate::ledger::roles::Action;
use crate::store::Conn;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A claim to store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewClaim {
    /// Encounter it bills (must be finalised).
    pub encounter: i64,
    /// Payer id.
    pub payer: String,
    /// `professional` (837P) or `institutional` (837I).
    pub claim_type: String,
    /// Total charge in cents.
    pub total_charge_cents: i64,
    /// The claim document (no free-text PHI: ids and codes).
    pub body: serde_json::Value,
    /// The patient control number (CLM01) that remittances and
    /// acknowledgements quote back.
    #[serde(default)]
    pub control_number: Option<String>,
}

/// A stored claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimRecord {
    /// Id.
    pub id: i64,
    /// Encounter.
    pub encounter: i64,
    /// Payer.
    pub payer: String,
    /// Type.
    pub claim_type: String,
    /// Total charge.
    pub total_charge_cents: i64,
    /// Current status.
    pub status: String,
    /// Status history: (status, at, detail).
    pub history: Vec<(String, String, serde_json::Value)>,
}

/// A remittance (835 claim payment) to post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRemittance {
    /// The claim it pays (if matched).
    pub claim: Option<i64>,
    /// Payer.
    pub payer: String,
    /// Paid amount in cents.
    pub paid_cents: i64,
    /// CARC/RARC adjustment codes.
    pub adjustment_codes: Vec<String>,
    /// Other detail (ids, amounts).
    pub detail: serde_json::Value,
}

fn claim_exists(c: &mut dyn Conn, p: &Principal, claim: i64) -> Result<()> {
    if c.query(
        "SELECT id FROM claims WHERE id = ? AND org_id = ?",
        &[claim.into(), p.org_id.into()],
    )?
    .is_empty()
    {
        return Err(not_found("claim", claim));
    }
    Ok(())
}

impl Ledger {
    /// Stores a claim for a finalised encounter (status `built`).
    pub fn create_claim(&mut self, p: &Principal, claim: &NewClaim) -> Result<i64> {
        p.require(Action::ManageClaims)?;
        if !matches!(claim.claim_type.as_str(), "professional" | "institutional") {
            return Err(invalid("claim_type", "professional or institutional"));
        }
        if claim.total_charge_cents < 0 {
            return Err(invalid("total_charge_cents", "negative"));
        }
        self.write_audited(|c, ctx| {
            let rows = c.query(
                "SELECT status FROM encounters WHERE id = ? AND org_id = ?",
                &[claim.encounter.into(), p.org_id.into()],
            )?;
            let st = rows.first().ok_or_else(|| not_found("encounter", claim.encounter))?.text(0)?;
            if st != FINALISED {
                return Err(LedgerError::Conflict(format!(
                    "encounter {} is not finalised; claims are built from final codes only",
                    claim.encounter
                )));
            }
            let id = next_id(c, "claims")?;
            let at = now();
            c.exec(
                "INSERT INTO claims (id, org_id, encounter_id, payer, claim_type, total_charge_cents, status, body, created_at, control_number) VALUES (?, ?, ?, ?, ?, ?, 'built', ?, ?, ?)",
                &[id.into(), p.org_id.into(), claim.encounter.into(), claim.payer.as_str().into(), claim.claim_type.as_str().into(), claim.total_charge_cents.into(), claim.body.to_string().into(), at.as_str().into(), claim.control_number.clone().into()],
            )?;
            let hid = next_id(c, "claim_status_history")?;
            c.exec(
                "INSERT INTO claim_status_history (id, org_id, claim_id, status, at, detail) VALUES (?, ?, ?, 'built', ?, '{}')",
                &[hid.into(), p.org_id.into(), id.into(), at.as_str().into()],
            )?;
            ctx.audit(p, AuditKind::ClaimEvent, format!("claim:{id}"), json!({"event": "built", "encounter": claim.encounter, "payer": claim.payer, "total_charge_cents": claim.total_charge_cents}));
            Ok(id)
        })
    }

    /// Records a claim status change (scrubbed, submitted, accepted, rejected, paid, denied, …).
    pub fn set_claim_status(
        &mut self,
        p: &Principal,
        claim: i64,
        status: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        p.require(Action::ManageClaims)?;
        if status.is_empty() || !status.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(invalid("status", "lower-case letters and '_'"));
        }
        self.write_audited(|c, ctx| {
            claim_exists(c, p, claim)?;
            let hid = next_id(c, "claim_status_history")?;
            c.exec(
                "INSERT INTO claim_status_history (id, org_id, claim_id, status, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                &[hid.into(), p.org_id.into(), claim.into(), status.into(), now().into(), detail.to_string().into()],
            )?;
            c.exec("UPDATE claims SET status = ? WHERE id = ?", &[status.into(), claim.into()])?;
            ctx.audit(p, AuditKind::ClaimEvent, format!("claim:{claim}"), json!({"event": status}));
            Ok(())
        })
    }

    /// Posts a remittance.
    pub fn post_remittance(&mut self, p: &Principal, r: &NewRemittance) -> Result<i64> {
        p.require(Action::PostRemittance)?;
        self.write_audited(|c, ctx| {
            if let Some(claim) = r.claim {
                claim_exists(c, p, claim)?;
            }
            let id = next_id(c, "remittances")?;
            c.exec(
                "INSERT INTO remittances (id, org_id, claim_id, payer, paid_cents, adjustment_codes, received_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                &[id.into(), p.org_id.into(), r.claim.into(), r.payer.as_str().into(), r.paid_cents.into(), serde_json::to_string(&r.adjustment_codes).unwrap_or_default().into(), now().into(), r.detail.to_string().into()],
            )?;
            ctx.audit(p, AuditKind::ClaimEvent, format!("remittance:{id}"), json!({"event": "remittance", "claim": r.claim, "paid_cents": r.paid_cents, "adjustment_codes": r.adjustment_codes}));
            Ok(id)
        })
    }

    /// The stored claim document (the claim JSON as built).
    pub fn claim_body(&mut self, p: &Principal, claim: i64) -> Result<serde_json::Value> {
        if !(p.may(Action::ManageClaims) || p.may(Action::ViewReports)) {
            p.require(Action::ManageClaims)?;
        }
        self.read_audited(|c, _| {
            let rows = c.query(
                "SELECT body FROM claims WHERE id = ? AND org_id = ?",
                &[claim.into(), p.org_id.into()],
            )?;
            let r = rows.first().ok_or_else(|| not_found("claim", claim))?;
            serde_json::from_str(&r.text(0)?).map_err(|e| {
                LedgerError::Conflict(format!("claim {claim}: stored body is not JSON ({e})"))
            })
        })
    }

    /// A claim with its status history.
    pub fn claim(&mut self, p: &Principal, claim: i64) -> Result<ClaimRecord> {
        if !(p.may(Action::ManageClaims) || p.may(Action::ViewReports)) {
            p.require(Action::ManageClaims)?;
        }
        self.read_audited(|c, _| {
            let rows = c.query(
                "SELECT encounter_id, payer, claim_type, total_charge_cents, status FROM claims WHERE id = ? AND org_id = ?",
                &[claim.into(), p.org_id.into()],
            )?;
            let r = rows.first().ok_or_else(|| not_found("claim", claim))?;
            let mut history = Vec::new();
            for h in c.query(
                "SELECT status, at, detail FROM claim_status_history WHERE claim_id = ? ORDER BY id",
                &[claim.into()],
            )? {
                history.push((h.text(0)?, h.text(1)?, serde_json::from_str(&h.text(2)?).unwrap_or_default()));
            }
            Ok(ClaimRecord {
                id: claim,
                encounter: r.int(0)?,
                payer: r.text(1)?,
                claim_type: r.text(2)?,
                total_charge_cents: r.int(3)?,
                status: r.text(4)?,
                history,
            })
        })
    }
}

/// One claim of a remittance (835 CLP loop), as posting needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimPosting {
    /// CLP01: the patient control number we sent (CLM01).
    pub control_number: String,
    /// CLP02 claim status code (1, 2, 3, 4, 19–23, 25).
    pub status_code: String,
    /// CLP03 charge.
    pub charge_cents: i64,
    /// CLP04 paid (negative on a reversal).
    pub paid_cents: i64,
    /// CLP05 patient responsibility.
    pub patient_responsibility_cents: i64,
    /// CLP07 payer claim control number.
    pub payer_claim_control_number: Option<String>,
    /// Claim and line adjustments: (group code, CARC, amount in cents).
    pub adjustments: Vec<(String, String, i64)>,
    /// Remark codes (RARC).
    pub remarks: Vec<String>,
}

/// One 835 transaction set to post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemittancePosting {
    /// Payer id or name.
    pub payer: String,
    /// TRN02 trace (check or EFT number).
    pub trace: Option<String>,
    /// BPR02 total payment.
    pub total_paid_cents: i64,
    /// The claims.
    pub claims: Vec<ClaimPosting>,
}

/// A claim as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostedClaim {
    /// Ledger claim id.
    pub claim: i64,
    /// CLP01.
    pub control_number: String,
    /// New status (`paid` — contractual adjustments and patient shares are
    /// normal —, `denied`, `reversed`, `forwarded`, `not_our_claim`, `priced`).
    pub status: String,
    /// Paid so far (all remittances).
    pub paid_cents: i64,
    /// Patient responsibility so far.
    pub patient_responsibility_cents: i64,
    /// Adjustments so far.
    pub adjustment_cents: i64,
    /// Denied amount so far.
    pub denied_cents: i64,
}

/// What posting a remittance did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostingReport {
    /// Claims updated.
    pub posted: Vec<PostedClaim>,
    /// CLP01 values that match no claim of the organisation (not posted).
    pub unmatched: Vec<String>,
    /// Sum of CLP04 posted.
    pub posted_paid_cents: i64,
}

/// An acknowledgement (999 / 277CA) of one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AckPosting {
    /// The patient control number (277CA) the acknowledgement is about.
    pub control_number: String,
    /// Accepted into adjudication.
    pub accepted: bool,
    /// The source (`999`, `277CA`) and codes, PHI-free.
    pub detail: serde_json::Value,
}

fn claim_status(p: &ClaimPosting) -> &'static str {
    match p.status_code.as_str() {
        "4" => "denied",
        "22" => "reversed",
        "23" => "not_our_claim",
        "25" => "priced",
        _ if p.paid_cents == 0 && p.patient_responsibility_cents == 0 => "denied",
        "19" | "20" | "21" => "forwarded",
        _ => "paid",
    }
}

impl Ledger {
    /// Posts one 835 transaction set in one transaction: each claim's paid,
    /// adjusted, patient-responsibility and denied amounts and status, a
    /// remittance row and a status-history row per claim, and an audit
    /// entry per claim. Claims that match nothing are reported, not posted.
    pub fn post_835(&mut self, p: &Principal, r: &RemittancePosting) -> Result<PostingReport> {
        p.require(Action::PostRemittance)?;
        self.write_audited(|c, ctx| {
            let mut report = PostingReport { posted: Vec::new(), unmatched: Vec::new(), posted_paid_cents: 0 };
            let at = now();
            for cp in &r.claims {
                let rows = c.query(
                    "SELECT id, paid_cents, patient_responsibility_cents, adjustment_cents, denied_cents FROM claims WHERE org_id = ? AND control_number = ? ORDER BY id DESC LIMIT 1",
                    &[p.org_id.into(), cp.control_number.as_str().into()],
                )?;
                let Some(row) = rows.first() else {
                    report.unmatched.push(cp.control_number.clone());
                    continue;
                };
                let claim = row.int(0)?;
                let status = claim_status(cp);
                let adjusted: i64 = cp.adjustments.iter().map(|a| a.2).sum();
                let denied = if status == "denied" { cp.charge_cents } else { 0 };
                let posted = PostedClaim {
                    claim,
                    control_number: cp.control_number.clone(),
                    status: status.to_owned(),
                    paid_cents: row.int(1)? + cp.paid_cents,
                    patient_responsibility_cents: row.int(2)? + cp.patient_responsibility_cents,
                    adjustment_cents: row.int(3)? + adjusted,
                    denied_cents: row.int(4)? + denied,
                };
                c.exec(
                    "UPDATE claims SET status = ?, paid_cents = ?, patient_responsibility_cents = ?, adjustment_cents = ?, denied_cents = ?, payer_claim_control_number = COALESCE(?, payer_claim_control_number) WHERE id = ?",
                    &[status.into(), posted.paid_cents.into(), posted.patient_responsibility_cents.into(), posted.adjustment_cents.into(), posted.denied_cents.into(), cp.payer_claim_control_number.clone().into(), claim.into()],
                )?;
                let codes: Vec<String> = cp.adjustments.iter().map(|a| format!("{}-{}", a.0, a.1)).chain(cp.remarks.iter().cloned()).collect();
                let rid = next_id(c, "remittances")?;
                let detail = json!({"status_code": cp.status_code, "charge_cents": cp.charge_cents, "patient_responsibility_cents": cp.patient_responsibility_cents, "adjustments": cp.adjustments, "remarks": cp.remarks, "trace": r.trace});
                c.exec(
                    "INSERT INTO remittances (id, org_id, claim_id, payer, paid_cents, adjustment_codes, received_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    &[rid.into(), p.org_id.into(), claim.into(), r.payer.as_str().into(), cp.paid_cents.into(), serde_json::to_string(&codes).unwrap_or_default().into(), at.as_str().into(), detail.to_string().into()],
                )?;
                let hid = next_id(c, "claim_status_history")?;
                c.exec(
                    "INSERT INTO claim_status_history (id, org_id, claim_id, status, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    &[hid.into(), p.org_id.into(), claim.into(), status.into(), at.as_str().into(), json!({"source": "835", "remittance": rid}).to_string().into()],
                )?;
                ctx.audit(p, AuditKind::ClaimEvent, format!("claim:{claim}"), json!({"event": "remittance", "status": status, "status_code": cp.status_code, "paid_cents": cp.paid_cents, "remittance": rid, "codes": codes}));
                report.posted_paid_cents += cp.paid_cents;
                report.posted.push(posted);
            }
            Ok(report)
        })
    }

    /// Records acknowledgements (999 / 277CA): each matched claim becomes
    /// `accepted` or `rejected`, with a status-history row and an audit entry,
    /// in one transaction. Returns the unmatched control numbers.
    pub fn post_acks(&mut self, p: &Principal, acks: &[AckPosting]) -> Result<Vec<String>> {
        p.require(Action::PostRemittance)?;
        self.write_audited(|c, ctx| {
            let mut unmatched = Vec::new();
            let at = now();
            for a in acks {
                let rows = c.query(
                    "SELECT id FROM claims WHERE org_id = ? AND control_number = ? ORDER BY id DESC LIMIT 1",
                    &[p.org_id.into(), a.control_number.as_str().into()],
                )?;
                let Some(row) = rows.first() else {
                    unmatched.push(a.control_number.clone());
                    continue;
                };
                let claim = row.int(0)?;
                let status = if a.accepted { "accepted" } else { "rejected" };
                c.exec("UPDATE claims SET status = ? WHERE id = ?", &[status.into(), claim.into()])?;
                let hid = next_id(c, "claim_status_history")?;
                c.exec(
                    "INSERT INTO claim_status_history (id, org_id, claim_id, status, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    &[hid.into(), p.org_id.into(), claim.into(), status.into(), at.as_str().into(), a.detail.to_string().into()],
                )?;
                ctx.audit(p, AuditKind::ClaimEvent, format!("claim:{claim}"), json!({"event": status, "ack": a.detail}));
            }
            Ok(unmatched)
        })
    }

    /// The claim id for a patient control number, if any.
    pub fn claim_by_control_number(
        &mut self,
        p: &Principal,
        control_number: &str,
    ) -> Result<Option<i64>> {
        if !(p.may(Action::ManageClaims) || p.may(Action::ViewReports)) {
            p.require(Action::ManageClaims)?;
        }
        self.read_audited(|c, _| {
            Ok(c.query(
                "SELECT id FROM claims WHERE org_id = ? AND control_number = ? ORDER BY id DESC LIMIT 1",
                &[p.org_id.into(), control_number.into()],
            )?
            .first()
            .map(|r| r.int(0))
            .transpose()?)
        })
    }
}

impl Ledger {
    /// A finalised encounter's date of service and final codes
    /// (system, code) in order, for building its claim. No PHI.
    pub fn final_codes(
        &mut self,
        p: &Principal,
        encounter: i64,
    ) -> Result<(String, Vec<(String, String)>)> {
        p.require(Action::ManageClaims)?;
        self.read_audited(|c, _| {
            let rows = c.query(
                "SELECT dos, status FROM encounters WHERE id = ? AND org_id = ?",
                &[encounter.into(), p.org_id.into()],
            )?;
            let r = rows.first().ok_or_else(|| not_found("encounter", encounter))?;
            if r.text(1)? != FINALISED {
                return Err(LedgerError::Conflict(format!(
                    "encounter {encounter} is not finalised; claims are built from final codes only"
                )));
            }
            let dos = r.text(0)?;
            let mut codes = Vec::new();
            for f in c.query(
                "SELECT code_system, code FROM final_codes WHERE encounter_id = ? AND org_id = ? ORDER BY ordinal",
                &[encounter.into(), p.org_id.into()],
            )? {
                codes.push((f.text(0)?, f.text(1)?));
            }
            Ok((dos, codes))
        })
    }
}
