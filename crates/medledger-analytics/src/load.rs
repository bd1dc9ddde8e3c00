//! Building a [`History`] from the ledger's PHI-free rows, or from a
//! serialized file (the simulator's output), and the drift observations
//! from the ledger's coding rows.
//!
//! From the ledger (all org-scoped and role-checked there):
//! - *submitted*: the first `submitted`/`sent` status, else the build day;
//!   *service date*: the earliest line `date_from`;
//! - *ack*: the first `accepted`/`rejected` status (999/277CA);
//! - *first adjudication*: the first 835 posting other than a reversal
//!   (CLP02 22): `Denied` when CLP02 is 4 or nothing was paid nor left to
//!   the patient, else `Paid` (835 postings are claim-level, so partial
//!   denials are not distinguished); its CAS (`GROUP-CARC`) and RARC codes
//!   are the claim's reasons;
//! - *appealed*: a later posting after a denied first one; *overturned*: a
//!   later posting that paid;
//! - *contractual*: CO-45, CO-42 and CO-253 adjustment amounts of all
//!   postings; *paid*, *patient responsibility*: the claim's totals;
//! - *closed*: the last posting's day when the claim's status is `paid`,
//!   `forwarded` or `not_our_claim` (denials stay open until overturned).

use crate::drift::{Decided, Decision, Finalised, Observations};
use crate::history::{AckOutcome, Claim, History, Line, NONE, Outcome, PriorAuth};
use crate::spec::parse_stored_day;
use crate::{AnalyticsError, Result};
use medledger_ledger::ledger::history_rows::{CodingRows, HistoryRows, RemittanceRow, StatusRow};
use medledger_ledger::ledger::{Ledger, Principal};
use rustc_hash::FxHashMap;
use std::path::Path;

const CONTRACTUAL: [&str; 3] = ["45", "42", "253"];

/// Builds the history of the ledger rows.
pub fn history_from_rows(rows: &HistoryRows) -> Result<History> {
    let mut statuses: FxHashMap<i64, Vec<&StatusRow>> = FxHashMap::default();
    for s in &rows.statuses {
        statuses.entry(s.claim_id).or_default().push(s);
    }
    let mut remits: FxHashMap<i64, Vec<&RemittanceRow>> = FxHashMap::default();
    for r in &rows.remittances {
        remits.entry(r.claim_id).or_default().push(r);
    }
    let mut h = History::default();
    for c in &rows.claims {
        let at = |field: &str, s: &str| parse_stored_day(&format!("claim {}: {field}", c.id), s);
        let created = at("created_at", &c.created_at)?;
        let st = statuses.get(&c.id).map(Vec::as_slice).unwrap_or_default();
        let submitted = match st
            .iter()
            .find(|s| s.status == "submitted" || s.status == "sent")
        {
            Some(s) => at("status.at", &s.at)?,
            None => created,
        };
        let (ack, ack_date) = match st
            .iter()
            .find(|s| s.status == "accepted" || s.status == "rejected")
        {
            Some(s) => (
                if s.status == "accepted" {
                    AckOutcome::Accepted
                } else {
                    AckOutcome::Rejected
                },
                Some(at("status.at", &s.at)?),
            ),
            None => (AckOutcome::None, None),
        };
        let rs: Vec<&RemittanceRow> = remits
            .get(&c.id)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|r| r.status_code != "22")
                    .collect()
            })
            .unwrap_or_default();
        let reasons_start = h.reasons.len() as u32;
        let (mut outcome, mut adjudicated, mut appealed, mut overturned) =
            (Outcome::Pending, None, false, false);
        if let Some(first) = rs.first() {
            let denied = first.status_code == "4"
                || (first.paid_cents == 0 && first.patient_responsibility_cents == 0);
            outcome = if denied {
                Outcome::Denied
            } else {
                Outcome::Paid
            };
            adjudicated = Some(at("remittance.received_at", &first.received_at)?);
            for (g, carc, _) in &first.adjustments {
                let id = h.reason_names.intern(&format!("{g}-{carc}"));
                h.reasons.push(id);
            }
            for r in &first.remarks {
                let id = h.reason_names.intern(r);
                h.reasons.push(id);
            }
            if denied && rs.len() > 1 {
                appealed = true;
                overturned = rs[1..].iter().any(|r| r.paid_cents > 0);
            }
        }
        let contractual = rs
            .iter()
            .flat_map(|r| &r.adjustments)
            .filter(|(g, carc, _)| g == "CO" && CONTRACTUAL.contains(&carc.as_str()))
            .map(|a| a.2)
            .sum();
        let closed = match (rs.last(), c.status.as_str()) {
            (Some(r), "paid" | "forwarded" | "not_our_claim") => {
                Some(at("remittance.received_at", &r.received_at)?)
            }
            _ => None,
        };
        let first_reason = h
            .reasons
            .get(reasons_start as usize)
            .copied()
            .unwrap_or(NONE);
        let lines_start = h.lines.len() as u32;
        let mut service = None::<i32>;
        for l in &c.facts.lines {
            if !l.date_from.is_empty() {
                let d = at("lines.date_from", &l.date_from)?;
                service = Some(service.map_or(d, |s| s.min(d)));
            }
            let mut modifiers = [NONE; 4];
            for (slot, m) in modifiers.iter_mut().zip(&l.modifiers) {
                *slot = h.modifiers.intern(m);
            }
            let code = h.codes.intern(l.code.as_deref().unwrap_or("(none)"));
            h.lines.push(Line {
                code,
                modifiers,
                units: l.units.max(0.0).round() as u32,
                charge_cents: l.charge_cents,
                paid_cents: 0,
                denied: outcome == Outcome::Denied,
                reason: if outcome == Outcome::Denied {
                    first_reason
                } else {
                    NONE
                },
                dx_pointer: l.dx_pointer.saturating_sub(1),
            });
        }
        let dx_start = h.diagnoses.len() as u32;
        for d in &c.facts.diagnoses {
            let id = h.codes.intern(d);
            h.diagnoses.push(id);
        }
        let claim = Claim {
            id: u64::try_from(c.id).unwrap_or(0),
            payer: h.payers.intern(&c.payer),
            provider: h
                .providers
                .intern(c.facts.provider.as_deref().unwrap_or("(unknown)")),
            place_of_service: c
                .facts
                .place_of_service
                .as_deref()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            institutional: c.claim_type.contains('I'),
            service_date: service.unwrap_or(created),
            submitted,
            ack,
            ack_date,
            outcome,
            adjudicated,
            charge_cents: c.total_charge_cents,
            paid_cents: c.paid_cents,
            patient_resp_cents: c.patient_responsibility_cents,
            contractual_cents: contractual,
            closed,
            prior_auth: c.facts.prior_auth,
            appealed,
            overturned,
            lines: lines_start..h.lines.len() as u32,
            diagnoses: dx_start..h.diagnoses.len() as u32,
            reasons: reasons_start..h.reasons.len() as u32,
        };
        h.claims.push(claim);
    }
    h.claims.sort_by_key(|c| c.submitted);
    for pa in &rows.prior_auths {
        let at =
            |field: &str, s: &str| parse_stored_day(&format!("prior_auth {}: {field}", pa.id), s);
        h.prior_auths.push(PriorAuth {
            payer: h.payers.intern(&pa.payer),
            program: h.programs.intern(&pa.program),
            provider: h.providers.intern(&pa.provider),
            code: h.codes.intern(&pa.code),
            requested: at("requested_on", &pa.requested_on)?,
            decided: pa
                .decided_on
                .as_deref()
                .map(|d| at("decided_on", d))
                .transpose()?,
            approved: pa.approved,
        });
    }
    Ok(h)
}

/// The drift observations of the ledger rows (undecided suggestions and
/// codes of encounters without a finalisation date are left out).
pub fn observations_from_rows(rows: &CodingRows) -> Result<Observations> {
    let mut o = Observations::default();
    for s in &rows.suggestions {
        let (Some(action), Some(at)) = (&s.decision, &s.decided_at) else {
            continue;
        };
        let decision = match action.as_str() {
            "accept" => Decision::Accepted,
            "edit" => Decision::Edited,
            "reject" => Decision::Rejected,
            other => {
                return Err(crate::invalid(
                    format!("suggestion {}: decision", s.suggestion_id),
                    format!("unknown action {other:?}"),
                ));
            }
        };
        o.decided.push(Decided {
            day: parse_stored_day(&format!("suggestion {}: decided_at", s.suggestion_id), at)?,
            system: s.code_system.clone(),
            code: s.code.clone(),
            codesets: s.codesets.clone(),
            decision,
        });
    }
    for f in &rows.final_codes {
        let Some(at) = &f.finalised_at else { continue };
        o.finalised.push(Finalised {
            day: parse_stored_day(&format!("encounter {}: finalised_at", f.encounter_id), at)?,
            system: f.code_system.clone(),
            code: f.code.clone(),
            suggested: f.suggested,
            codesets: f.codesets.clone().unwrap_or_else(|| "unknown".into()),
        });
    }
    Ok(o)
}

/// The principal's organisation's history (role: reports).
pub fn history_from_ledger(l: &mut Ledger, p: &Principal) -> Result<History> {
    history_from_rows(&l.history_rows(p)?)
}

/// The principal's organisation's drift observations (role: reports).
pub fn observations_from_ledger(l: &mut Ledger, p: &Principal) -> Result<Observations> {
    observations_from_rows(&l.coding_rows(p)?)
}

/// Reads a serialized [`History`] (JSON).
pub fn read_history(path: &Path) -> Result<History> {
    let f = std::fs::File::open(path).map_err(|source| AnalyticsError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let h: History =
        serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| AnalyticsError::Parse {
            path: path.display().to_string(),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
    validate(&h).map_err(|message| AnalyticsError::Parse {
        path: path.display().to_string(),
        message,
    })?;
    Ok(h)
}

/// Checks the ranges and interned ids of a history, so that reports cannot
/// index out of bounds on a hand-edited or truncated file.
pub fn validate(h: &History) -> std::result::Result<(), String> {
    let ok = |r: &std::ops::Range<u32>, len: usize| r.start <= r.end && (r.end as usize) <= len;
    let id = |x: u32, len: usize| (x as usize) < len;
    for (i, c) in h.claims.iter().enumerate() {
        if !ok(&c.lines, h.lines.len())
            || !ok(&c.diagnoses, h.diagnoses.len())
            || !ok(&c.reasons, h.reasons.len())
        {
            return Err(format!("claims[{i}]: a range points outside its table"));
        }
        if !id(c.payer, h.payers.len()) || !id(c.provider, h.providers.len()) {
            return Err(format!("claims[{i}]: unknown payer or provider id"));
        }
    }
    for (i, l) in h.lines.iter().enumerate() {
        if !id(l.code, h.codes.len()) || (l.reason != NONE && !id(l.reason, h.reason_names.len())) {
            return Err(format!("lines[{i}]: unknown code or reason id"));
        }
    }
    if let Some(i) = h
        .reasons
        .iter()
        .position(|&r| r != NONE && !id(r, h.reason_names.len()))
    {
        return Err(format!("reasons[{i}]: unknown reason id"));
    }
    for (i, p) in h.prior_auths.iter().enumerate() {
        if !id(p.payer, h.payers.len())
            || !id(p.program, h.programs.len())
            || !id(p.provider, h.providers.len())
        {
            return Err(format!(
                "prior_auths[{i}]: unknown payer, program or provider id"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use medledger_ledger::ledger::history_rows::{ClaimFacts, ClaimRow, LineFacts};

    fn row(id: i64, status: &str) -> ClaimRow {
        ClaimRow {
            id,
            payer: "AETNA".into(),
            claim_type: "837P".into(),
            total_charge_cents: 20000,
            status: status.into(),
            created_at: "2026-10-02T10:00:00Z".into(),
            paid_cents: 15000,
            adjustment_cents: 5000,
            patient_responsibility_cents: 0,
            denied_cents: 20000,
            facts: ClaimFacts {
                provider: Some("1234567893".into()),
                place_of_service: Some("11".into()),
                prior_auth: false,
                diagnoses: vec!["E119".into()],
                lines: vec![LineFacts {
                    code: Some("99214".into()),
                    modifiers: vec![],
                    units: 1.0,
                    charge_cents: 20000,
                    date_from: "20261001".into(),
                    dx_pointer: 1,
                }],
            },
        }
    }

    #[test]
    fn denied_then_overturned() {
        let rows = HistoryRows {
            claims: vec![row(7, "paid")],
            statuses: vec![
                StatusRow {
                    claim_id: 7,
                    status: "submitted".into(),
                    at: "2026-10-03T09:00:00Z".into(),
                },
                StatusRow {
                    claim_id: 7,
                    status: "accepted".into(),
                    at: "2026-10-04T09:00:00Z".into(),
                },
            ],
            remittances: vec![
                RemittanceRow {
                    claim_id: 7,
                    status_code: "4".into(),
                    paid_cents: 0,
                    patient_responsibility_cents: 0,
                    adjustments: vec![("CO".into(), "50".into(), 20000)],
                    remarks: vec!["N115".into()],
                    received_at: "2026-10-20T00:00:00Z".into(),
                },
                RemittanceRow {
                    claim_id: 7,
                    status_code: "1".into(),
                    paid_cents: 15000,
                    patient_responsibility_cents: 0,
                    adjustments: vec![("CO".into(), "45".into(), 5000)],
                    remarks: vec![],
                    received_at: "2026-11-20T00:00:00Z".into(),
                },
            ],
            prior_auths: vec![],
        };
        let h = history_from_rows(&rows).unwrap();
        let c = &h.claims[0];
        let d = |s: &str| parse_stored_day("t", s).unwrap();
        assert_eq!(
            (c.service_date, c.submitted, c.ack_date),
            (d("2026-10-01"), d("2026-10-03"), Some(d("2026-10-04")))
        );
        assert_eq!(
            (c.outcome, c.appealed, c.overturned),
            (Outcome::Denied, true, true)
        );
        assert_eq!(
            (c.contractual_cents, c.closed),
            (5000, Some(d("2026-11-20")))
        );
        let reasons: Vec<_> = h
            .reasons_of(c)
            .iter()
            .map(|&r| h.reason_names.name(r))
            .collect();
        assert_eq!(reasons, ["CO-50", "N115"]);
        assert!(h.lines[0].denied && h.reason_names.name(h.lines[0].reason) == "CO-50");
        assert!(validate(&h).is_ok());
        let mut bad = h.clone();
        bad.claims[0].lines = 0..9;
        assert!(validate(&bad).unwrap_err().contains("claims[0]"));
    }
}

/// Parses a prior-authorisation CSV: a header row naming the columns
/// `payer, program, provider, code, requested_on` and optionally
/// `decided_on, approved` (`true`/`false`, or `approved`/`denied`; empty
/// when pending) and `reference`. `path` names the file in errors, which
/// carry the line number.
pub fn parse_prior_auth_csv(
    path: &str,
    text: &str,
) -> Result<Vec<medledger_ledger::ledger::history_rows::NewPriorAuth>> {
    use medledger_ledger::ledger::history_rows::NewPriorAuth;
    let err = |line: u64, message: String| AnalyticsError::Parse {
        path: path.to_owned(),
        message: format!("line {line}: {message}"),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let need = |name: &str| col(name).ok_or_else(|| err(1, format!("missing column {name:?}")));
    let (payer, program, provider, code, requested) = (
        need("payer")?,
        need("program")?,
        need("provider")?,
        need("code")?,
        need("requested_on")?,
    );
    let (decided, approved, reference) = (col("decided_on"), col("approved"), col("reference"));
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").to_owned();
        let opt = |i: Option<usize>| i.map(get).filter(|s| !s.is_empty());
        let approved = match opt(approved).map(|s| s.to_ascii_lowercase()).as_deref() {
            None => None,
            Some("true" | "approved" | "yes" | "1") => Some(true),
            Some("false" | "denied" | "no" | "0") => Some(false),
            Some(other) => {
                return Err(err(
                    line,
                    format!("approved: {other:?} is not approved/denied"),
                ));
            }
        };
        let row = NewPriorAuth {
            payer: get(payer),
            program: get(program),
            provider: get(provider),
            code: get(code),
            requested_on: get(requested),
            decided_on: opt(decided),
            approved,
            reference: opt(reference),
        };
        for (field, v) in [
            ("payer", &row.payer),
            ("program", &row.program),
            ("provider", &row.provider),
            ("code", &row.code),
        ] {
            if v.is_empty() {
                return Err(err(line, format!("{field} is empty")));
            }
        }
        for (field, v) in [
            ("requested_on", Some(&row.requested_on)),
            ("decided_on", row.decided_on.as_ref()),
        ] {
            if let Some(v) = v {
                crate::spec::parse_day(field, v).map_err(|e| err(line, e.to_string()))?;
            }
        }
        if row.decided_on.is_some() != row.approved.is_some() {
            return Err(err(line, "decided_on and approved go together".into()));
        }
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod csv_tests {
    use super::parse_prior_auth_csv;
    use proptest::prelude::*;

    #[test]
    fn parses_and_reports_lines() {
        let text = "payer,program,provider,code,requested_on,decided_on,approved\nAETNA,TX,1234567893,72148,2026-01-10,2026-01-12,approved\nAETNA,TX,1234567893,72148,2026-01-11,,\n";
        let rows = parse_prior_auth_csv("pa.csv", text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].approved, rows[1].approved), (Some(true), None));
        let bad = "payer,program,provider,code,requested_on,decided_on,approved\nAETNA,TX,1,72148,2026-01-10,2026-01-12,maybe\n";
        let e = parse_prior_auth_csv("pa.csv", bad).unwrap_err().to_string();
        assert!(
            e.contains("pa.csv") && e.contains("line 2") && e.contains("maybe"),
            "{e}"
        );
        let e = parse_prior_auth_csv("pa.csv", "payer,code\nA,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing column \"program\""), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse_prior_auth_csv("x.csv", &s);
        }

        #[test]
        fn round_trips(code in "[0-9]{5}", day in 1u8..=28, ok in proptest::option::of(any::<bool>())) {
            let dec = ok.map(|_| format!("2026-02-{day:02}")).unwrap_or_default();
            let ap = ok.map(|b| b.to_string()).unwrap_or_default();
            let text = format!("payer,program,provider,code,requested_on,decided_on,approved\nP,G,1,{code},2026-01-{day:02},{dec},{ap}\n");
            let rows = parse_prior_auth_csv("x.csv", &text).unwrap();
            prop_assert_eq!(&rows[0].code, &code);
            prop_assert_eq!(rows[0].approved, ok);
        }
    }
}
