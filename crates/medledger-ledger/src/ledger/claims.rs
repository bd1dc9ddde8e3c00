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
}

/// A stored claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
                "INSERT INTO claims (id, org_id, encounter_id, payer, claim_type, total_charge_cents, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?, 'built', ?, ?)",
                &[id.into(), p.org_id.into(), claim.encounter.into(), claim.payer.as_str().into(), claim.claim_type.as_str().into(), claim.total_charge_cents.into(), claim.body.to_string().into(), at.as_str().into()],
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
