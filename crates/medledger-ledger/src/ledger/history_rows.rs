//! Plain, PHI-free rows for the revenue reports of `medledger-analytics`,
//! and the prior-authorisation register (table `prior_auths`, V5).
//!
//! The ledger stays free of any analytics dependency: it hands out rows of
//! ids, codes, payers, provider NPIs, dates and amounts, and
//! `medledger-analytics` turns them into its columnar `History`. Claim
//! bodies are read here and reduced to their non-PHI facts (lines,
//! diagnoses, place of service, provider NPI, whether a prior authorisation
//! was on file); subscriber and patient data never leave this module.

use super::roles::Action;
use super::{Ledger, LedgerError, Principal, Result, invalid, next_id, not_found, now};
use crate::audit::AuditKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The non-PHI facts of a stored claim body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClaimFacts {
    /// Rendering provider NPI, else the billing provider's.
    pub provider: Option<String>,
    /// Claim-level place of service (two digits).
    pub place_of_service: Option<String>,
    /// A prior-authorisation number was on the claim.
    pub prior_auth: bool,
    /// Diagnosis codes, first-listed first.
    pub diagnoses: Vec<String>,
    /// Service lines.
    pub lines: Vec<LineFacts>,
}

/// One service line of a claim body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LineFacts {
    /// CPT/HCPCS code, else the revenue code.
    pub code: Option<String>,
    /// Modifiers.
    pub modifiers: Vec<String>,
    /// Units.
    pub units: f64,
    /// Line charge in cents.
    pub charge_cents: i64,
    /// First date of service as stored (`YYYY-MM-DD` or `YYYYMMDD`).
    pub date_from: String,
    /// First diagnosis pointer, 1-based (0: none).
    pub dx_pointer: u8,
}

/// A claim with its current totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRow {
    /// Claim id.
    pub id: i64,
    /// Payer.
    pub payer: String,
    /// `837P` / `837I`.
    pub claim_type: String,
    /// Total charge.
    pub total_charge_cents: i64,
    /// Current status.
    pub status: String,
    /// Built at (RFC 3339).
    pub created_at: String,
    /// Paid so far (all postings).
    pub paid_cents: i64,
    /// Adjusted so far (all groups).
    pub adjustment_cents: i64,
    /// Patient responsibility so far.
    pub patient_responsibility_cents: i64,
    /// Denied so far.
    pub denied_cents: i64,
    /// The body's non-PHI facts.
    pub facts: ClaimFacts,
}

/// One row of a claim's status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusRow {
    /// Claim id.
    pub claim_id: i64,
    /// Status entered.
    pub status: String,
    /// When (RFC 3339).
    pub at: String,
}

/// One posted 835 claim payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemittanceRow {
    /// Claim id.
    pub claim_id: i64,
    /// CLP02 claim status code.
    pub status_code: String,
    /// CLP04 paid.
    pub paid_cents: i64,
    /// CLP05 patient responsibility.
    pub patient_responsibility_cents: i64,
    /// CAS adjustments: (group, CARC, amount).
    pub adjustments: Vec<(String, String, i64)>,
    /// RARC remarks.
    pub remarks: Vec<String>,
    /// Posted at (RFC 3339).
    pub received_at: String,
}

/// A prior-authorisation request as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorAuthRecord {
    /// Id.
    pub id: i64,
    /// Payer.
    pub payer: String,
    /// Gold-card program of the payer.
    pub program: String,
    /// Requesting provider (NPI).
    pub provider: String,
    /// Service code requested.
    pub code: String,
    /// Requested on (`YYYY-MM-DD`).
    pub requested_on: String,
    /// Decided on (`YYYY-MM-DD`), if decided.
    pub decided_on: Option<String>,
    /// `Some(true)` approved, `Some(false)` denied, `None` pending.
    pub approved: Option<bool>,
    /// The payer's reference number, if any.
    pub reference: Option<String>,
}

/// A new prior-authorisation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPriorAuth {
    /// Payer.
    pub payer: String,
    /// Gold-card program of the payer.
    pub program: String,
    /// Requesting provider (NPI).
    pub provider: String,
    /// Service code requested.
    pub code: String,
    /// Requested on (`YYYY-MM-DD`).
    pub requested_on: String,
    /// Already decided on (`YYYY-MM-DD`), for imports of past requests.
    #[serde(default)]
    pub decided_on: Option<String>,
    /// Already decided: approved or denied.
    #[serde(default)]
    pub approved: Option<bool>,
    /// The payer's reference number.
    #[serde(default)]
    pub reference: Option<String>,
}

/// Everything the claim reports read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HistoryRows {
    /// Claims, by id.
    pub claims: Vec<ClaimRow>,
    /// Status history, by claim then order of entry.
    pub statuses: Vec<StatusRow>,
    /// 835 postings, by claim then order of posting.
    pub remittances: Vec<RemittanceRow>,
    /// Prior-authorisation requests, by request date.
    pub prior_auths: Vec<PriorAuthRecord>,
}

/// One engine suggestion with its run and its latest human decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionRow {
    /// Suggestion id.
    pub suggestion_id: i64,
    /// Encounter id.
    pub encounter_id: i64,
    /// `ICD-10-CM`, `CPT`, `HCPCS`, …
    pub code_system: String,
    /// The suggested code.
    pub code: String,
    /// Engine version of the run.
    pub engine_version: String,
    /// Model version of the run, if any.
    pub model_version: Option<String>,
    /// Code-set releases the run used (as stored in `coding_runs.codesets`).
    pub codesets: String,
    /// Run started at (RFC 3339).
    pub run_at: String,
    /// Latest decision: `accept`, `reject`, `edit`; `None` undecided.
    pub decision: Option<String>,
    /// When the latest decision was made.
    pub decided_at: Option<String>,
}

/// One final (human-approved) code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalCodeRow {
    /// Encounter id.
    pub encounter_id: i64,
    /// Code system.
    pub code_system: String,
    /// Code.
    pub code: String,
    /// The engine had suggested this code for the encounter.
    pub suggested: bool,
    /// Encounter finalised at (RFC 3339), if recorded.
    pub finalised_at: Option<String>,
    /// Code sets of the encounter's latest coding run.
    pub codesets: Option<String>,
}

/// Everything the drift report reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CodingRows {
    /// Suggestions, by id.
    pub suggestions: Vec<SuggestionRow>,
    /// Final codes, by encounter.
    pub final_codes: Vec<FinalCodeRow>,
}

/// Reduces a stored claim body to its non-PHI facts.
pub fn claim_facts(body: &serde_json::Value) -> ClaimFacts {
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let provider = text(body.pointer("/rendering_provider/npi"))
        .or_else(|| text(body.pointer("/billing_provider/npi")));
    let diagnoses = body
        .get("diagnoses")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|d| text(d.get("code"))).collect())
        .unwrap_or_default();
    let lines = body
        .get("lines")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .map(|l| LineFacts {
                    code: text(l.get("procedure")).or_else(|| text(l.get("revenue_code"))),
                    modifiers: l
                        .get("modifiers")
                        .and_then(|m| m.as_array())
                        .map(|m| m.iter().filter_map(|x| text(Some(x))).collect())
                        .unwrap_or_default(),
                    units: l.get("units").and_then(|u| u.as_f64()).unwrap_or(1.0),
                    charge_cents: l.get("charge_cents").and_then(|u| u.as_i64()).unwrap_or(0),
                    date_from: text(l.get("date_from")).unwrap_or_default(),
                    dx_pointer: l
                        .pointer("/diagnosis_pointers/0")
                        .and_then(|u| u.as_u64())
                        .and_then(|u| u8::try_from(u).ok())
                        .unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    ClaimFacts {
        provider,
        place_of_service: text(body.get("place_of_service")),
        prior_auth: body
            .get("prior_authorization")
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty())),
        diagnoses,
        lines,
    }
}

fn check_date(field: &'static str, s: &str) -> Result<()> {
    s.parse::<jiff::civil::Date>()
        .map(|_| ())
        .map_err(|e| invalid(field, format!("{s:?} is not a YYYY-MM-DD date: {e}")))
}

fn prior_auth_from(r: &crate::store::Row) -> Result<PriorAuthRecord> {
    Ok(PriorAuthRecord {
        id: r.int(0)?,
        payer: r.text(1)?,
        program: r.text(2)?,
        provider: r.text(3)?,
        code: r.text(4)?,
        requested_on: r.text(5)?,
        decided_on: r.opt_text(6)?,
        approved: r.opt_int(7)?.map(|v| v != 0),
        reference: r.opt_text(8)?,
    })
}

const PRIOR_AUTH_COLUMNS: &str =
    "id, payer, program, provider, code, requested_on, decided_on, approved, reference";

impl Ledger {
    /// The claims, status history, 835 postings and prior authorisations of
    /// the principal's organisation, as PHI-free rows (role: reports).
    pub fn history_rows(&mut self, p: &Principal) -> Result<HistoryRows> {
        p.require(Action::ViewReports)?;
        self.read_audited(|c, _| {
            let org = p.org_id;
            let mut out = HistoryRows::default();
            for r in c.query(
                "SELECT id, payer, claim_type, total_charge_cents, status, created_at, paid_cents, adjustment_cents, patient_responsibility_cents, denied_cents, body FROM claims WHERE org_id = ? ORDER BY id",
                &[org.into()],
            )? {
                let id = r.int(0)?;
                let body: serde_json::Value = serde_json::from_str(&r.text(10)?)
                    .map_err(|e| invalid("claims.body", format!("claim {id}: {e}")))?;
                out.claims.push(ClaimRow {
                    id,
                    payer: r.text(1)?,
                    claim_type: r.text(2)?,
                    total_charge_cents: r.int(3)?,
                    status: r.text(4)?,
                    created_at: r.text(5)?,
                    paid_cents: r.int(6)?,
                    adjustment_cents: r.int(7)?,
                    patient_responsibility_cents: r.int(8)?,
                    denied_cents: r.int(9)?,
                    facts: claim_facts(&body),
                });
            }
            for r in c.query(
                "SELECT claim_id, status, at FROM claim_status_history WHERE org_id = ? ORDER BY claim_id, id",
                &[org.into()],
            )? {
                out.statuses.push(StatusRow {
                    claim_id: r.int(0)?,
                    status: r.text(1)?,
                    at: r.text(2)?,
                });
            }
            for r in c.query(
                "SELECT claim_id, paid_cents, received_at, detail, id FROM remittances WHERE org_id = ? AND claim_id IS NOT NULL ORDER BY claim_id, id",
                &[org.into()],
            )? {
                let rid = r.int(4)?;
                let detail: serde_json::Value = serde_json::from_str(&r.text(3)?)
                    .map_err(|e| invalid("remittances.detail", format!("remittance {rid}: {e}")))?;
                let adjustments = detail
                    .get("adjustments")
                    .and_then(|a| a.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| {
                                Some((
                                    x.get(0)?.as_str()?.to_owned(),
                                    x.get(1)?.as_str()?.to_owned(),
                                    x.get(2)?.as_i64()?,
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let remarks = detail
                    .get("remarks")
                    .and_then(|a| a.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                out.remittances.push(RemittanceRow {
                    claim_id: r.int(0)?,
                    status_code: detail
                        .get("status_code")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    paid_cents: r.int(1)?,
                    patient_responsibility_cents: detail
                        .get("patient_responsibility_cents")
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0),
                    adjustments,
                    remarks,
                    received_at: r.text(2)?,
                });
            }
            for r in c.query(
                &format!("SELECT {PRIOR_AUTH_COLUMNS} FROM prior_auths WHERE org_id = ? ORDER BY requested_on, id"),
                &[org.into()],
            )? {
                out.prior_auths.push(prior_auth_from(&r)?);
            }
            Ok(out)
        })
    }

    /// Engine suggestions with their runs and latest decisions, and the
    /// final codes, of the principal's organisation (role: reports). Reads
    /// codes and versions only, never evidence or comments.
    pub fn coding_rows(&mut self, p: &Principal) -> Result<CodingRows> {
        p.require(Action::ViewReports)?;
        self.read_audited(|c, _| {
            let org = p.org_id;
            let mut out = CodingRows::default();
            for r in c.query(
                "SELECT s.id, s.encounter_id, s.code_system, s.code, cr.engine_version, cr.model_version, cr.codesets, cr.started_at, d.action, d.decided_at \
                 FROM suggestions s JOIN coding_runs cr ON cr.id = s.run_id \
                 LEFT JOIN decisions d ON d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.suggestion_id = s.id) \
                 WHERE s.org_id = ? ORDER BY s.id",
                &[org.into()],
            )? {
                out.suggestions.push(SuggestionRow {
                    suggestion_id: r.int(0)?,
                    encounter_id: r.int(1)?,
                    code_system: r.text(2)?,
                    code: r.text(3)?,
                    engine_version: r.text(4)?,
                    model_version: r.opt_text(5)?,
                    codesets: r.text(6)?,
                    run_at: r.text(7)?,
                    decision: r.opt_text(8)?,
                    decided_at: r.opt_text(9)?,
                });
            }
            let mut suggested: std::collections::HashSet<(i64, String, String)> =
                std::collections::HashSet::new();
            for s in &out.suggestions {
                suggested.insert((s.encounter_id, s.code_system.clone(), s.code.clone()));
            }
            for r in c.query(
                "SELECT f.encounter_id, f.code_system, f.code, e.finalised_at, \
                 (SELECT cr.codesets FROM coding_runs cr WHERE cr.encounter_id = f.encounter_id ORDER BY cr.id DESC LIMIT 1) \
                 FROM final_codes f JOIN encounters e ON e.id = f.encounter_id \
                 WHERE f.org_id = ? ORDER BY f.encounter_id, f.ordinal",
                &[org.into()],
            )? {
                let (enc, system, code) = (r.int(0)?, r.text(1)?, r.text(2)?);
                let was = suggested.contains(&(enc, system.clone(), code.clone()));
                out.final_codes.push(FinalCodeRow {
                    encounter_id: enc,
                    code_system: system,
                    code,
                    suggested: was,
                    finalised_at: r.opt_text(3)?,
                    codesets: r.opt_text(4)?,
                });
            }
            Ok(out)
        })
    }

    /// Records a prior-authorisation request (role: claims). Returns its id.
    pub fn record_prior_auth(&mut self, p: &Principal, new: &NewPriorAuth) -> Result<i64> {
        p.require(Action::ManageClaims)?;
        for (field, v) in [
            ("payer", &new.payer),
            ("program", &new.program),
            ("provider", &new.provider),
            ("code", &new.code),
        ] {
            if v.trim().is_empty() {
                return Err(invalid(field, "must not be empty"));
            }
        }
        check_date("requested_on", &new.requested_on)?;
        match (&new.decided_on, new.approved) {
            (Some(d), Some(_)) => check_date("decided_on", d)?,
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "decided_on",
                    "a decision needs both its date and its outcome",
                ));
            }
        }
        self.write_audited(|c, ctx| {
            let id = next_id(c, "prior_auths")?;
            c.exec(
                "INSERT INTO prior_auths (id, org_id, payer, program, provider, code, requested_on, decided_on, approved, reference, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[id.into(), p.org_id.into(), new.payer.as_str().into(), new.program.as_str().into(), new.provider.as_str().into(), new.code.as_str().into(), new.requested_on.as_str().into(), new.decided_on.clone().into(), new.approved.into(), new.reference.clone().into(), now().into(), p.audit_actor().into()],
            )?;
            ctx.audit(p, AuditKind::ClaimEvent, format!("prior_auth:{id}"), json!({"event": "prior_auth_requested", "payer": new.payer, "program": new.program, "code": new.code, "approved": new.approved}));
            Ok(id)
        })
    }

    /// Records the payer's decision on a pending request (role: claims).
    pub fn decide_prior_auth(
        &mut self,
        p: &Principal,
        id: i64,
        approved: bool,
        decided_on: &str,
    ) -> Result<PriorAuthRecord> {
        p.require(Action::ManageClaims)?;
        check_date("decided_on", decided_on)?;
        self.write_audited(|c, ctx| {
            let rows = c.query(
                &format!(
                    "SELECT {PRIOR_AUTH_COLUMNS} FROM prior_auths WHERE org_id = ? AND id = ?"
                ),
                &[p.org_id.into(), id.into()],
            )?;
            let mut rec =
                prior_auth_from(rows.first().ok_or_else(|| not_found("prior_auth", id))?)?;
            if rec.approved.is_some() {
                return Err(LedgerError::Conflict(format!(
                    "prior_auth {id} is already decided"
                )));
            }
            if decided_on < rec.requested_on.as_str() {
                return Err(invalid(
                    "decided_on",
                    format!("{decided_on} is before the request ({})", rec.requested_on),
                ));
            }
            c.exec(
                "UPDATE prior_auths SET decided_on = ?, approved = ? WHERE id = ?",
                &[decided_on.into(), approved.into(), id.into()],
            )?;
            ctx.audit(
                p,
                AuditKind::ClaimEvent,
                format!("prior_auth:{id}"),
                json!({"event": "prior_auth_decided", "approved": approved}),
            );
            rec.decided_on = Some(decided_on.to_owned());
            rec.approved = Some(approved);
            Ok(rec)
        })
    }

    /// The prior-authorisation requests, by request date (role: reports).
    pub fn prior_auths(&mut self, p: &Principal) -> Result<Vec<PriorAuthRecord>> {
        p.require(Action::ViewReports)?;
        self.read_audited(|c, _| {
            c.query(
                &format!("SELECT {PRIOR_AUTH_COLUMNS} FROM prior_auths WHERE org_id = ? ORDER BY requested_on, id"),
                &[p.org_id.into()],
            )?
            .iter()
            .map(prior_auth_from)
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_keep_no_phi() {
        let body = json!({
            "billing_provider": {"npi": "1234567893", "last_or_org_name": "Clinic"},
            "subscriber": {"member_id": "SECRET", "person": {"last_name": "Doe", "first_name": "Jane", "dob": "19800101", "sex": "F"}},
            "prior_authorization": "PA1",
            "place_of_service": "11",
            "diagnoses": [{"code": "E119"}, {"code": "I10"}],
            "lines": [{"procedure": "99213", "modifiers": ["25"], "units": 1.0, "charge_cents": 12000, "date_from": "2026-10-02", "diagnosis_pointers": [2, 1]}]
        });
        let f = claim_facts(&body);
        assert_eq!(f.provider.as_deref(), Some("1234567893"));
        assert!(f.prior_auth);
        assert_eq!(f.diagnoses, ["E119", "I10"]);
        assert_eq!(f.lines[0].dx_pointer, 2);
        assert_eq!(f.lines[0].charge_cents, 12000);
        let text = serde_json::to_string(&f).unwrap();
        assert!(!text.contains("SECRET") && !text.contains("Doe") && !text.contains("1980"));
    }
}
