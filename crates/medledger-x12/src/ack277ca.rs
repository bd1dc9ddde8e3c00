//! The 277CA health care claim acknowledgment (005010X214): the HL
//! hierarchy (information source `20`, information receiver `21`, billing
//! provider `19`, patient `PT`) with trace numbers (TRN), statuses (STC),
//! references, dates and amounts; one [`ClaimStatus`] per patient level,
//! keyed by the patient control number from its TRN02.
//!
//! Accepted or rejected, per claim, from the STC category codes (STC01-1,
//! and STC10-1/STC11-1 when present):
//! - rejected: `A3` returned as unprocessable, `A4` not found, `A6`
//!   rejected for missing information, `A7` rejected for invalid
//!   information, `A8` rejected for relational field in error — any of
//!   these makes the claim [`Disposition::Rejected`];
//! - accepted: `A0` forwarded, `A1` received, `A2` accepted into
//!   adjudication, `A5` split claim — with no rejected category, the
//!   claim is [`Disposition::Accepted`];
//! - anything else (`E0`–`E4` response not possible, `D0`, `P`/`F`
//!   categories …): [`Disposition::Other`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Location, X12Error};
use crate::reader::{Group, Segment, Transaction, parse};
use crate::typed::{
    AmountRef, Ctx, DateRef, Entity, Procedure, Reference, amount, check_transaction, composite,
    dtp, entity, invalid, missing_segment, opt_date8, opt_money, opt_procedure, opt_text, part,
    quantity, reference, req, req_part, req_text, text,
};

/// ST01 of the 277CA.
pub const ST01: &str = "277";
/// GS08 prefix accepted.
pub const VERSION: &str = "005010X214";

/// STC category codes treated as a rejection.
pub const REJECTED_CATEGORIES: [&str; 5] = ["A3", "A4", "A6", "A7", "A8"];
/// STC category codes treated as an acceptance.
pub const ACCEPTED_CATEGORIES: [&str; 4] = ["A0", "A1", "A2", "A5"];

/// An HL level code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HlLevel {
    /// `20` information source (the payer or clearinghouse).
    InformationSource,
    /// `21` information receiver (the submitter).
    InformationReceiver,
    /// `19` billing provider of service.
    BillingProvider,
    /// `PT` patient (one claim).
    Patient,
    /// Any other code.
    Other(String),
}

impl HlLevel {
    fn from_code(v: &[u8]) -> Self {
        match v {
            b"20" => Self::InformationSource,
            b"21" => Self::InformationReceiver,
            b"19" => Self::BillingProvider,
            b"PT" => Self::Patient,
            other => Self::Other(text(other)),
        }
    }
}

/// One status code triple (category, status, entity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCode {
    /// Health care claim status category code (`A1`, `A3` …).
    pub category: String,
    /// Health care claim status code.
    pub status: String,
    /// Entity identifier code, when sent.
    pub entity: Option<String>,
}

/// An STC segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// STC01 (category:status:entity).
    pub code: StatusCode,
    /// STC02 status information effective date.
    pub effective_date: Option<jiff::civil::Date>,
    /// STC03 action code (`WQ` accepted, `U` rejected …).
    pub action_code: Option<String>,
    /// STC04 total claim charge amount.
    pub amount_cents: Option<i64>,
    /// STC10 and STC11 additional status codes.
    pub additional: Vec<StatusCode>,
    /// STC12 free-form message.
    pub message: Option<String>,
}

impl StatusInfo {
    /// Every category code of this STC.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.code.category.as_str())
            .chain(self.additional.iter().map(|c| c.category.as_str()))
    }
}

/// A TRN trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace277 {
    /// TRN01 trace type code.
    pub trace_type: String,
    /// TRN02 reference identification.
    pub reference: String,
}

/// One HL level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// HL01.
    pub id: String,
    /// HL02.
    pub parent_id: Option<String>,
    /// HL03.
    pub level: HlLevel,
    /// The level's NM1.
    pub entity: Option<Entity>,
    /// TRN segments.
    pub traces: Vec<Trace277>,
    /// STC segments (claim and line statuses are in [`ClaimStatus`]).
    pub statuses: Vec<StatusInfo>,
    /// REF segments.
    pub references: Vec<Reference>,
    /// DTP segments.
    pub dates: Vec<DateRef>,
    /// AMT segments.
    pub amounts: Vec<AmountRef>,
}

/// Accepted or rejected (see the module documentation for the codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disposition {
    /// Acknowledged / accepted (A0, A1, A2, A5 and no rejection).
    Accepted,
    /// Rejected (A3, A4, A6, A7, A8).
    Rejected,
    /// Neither (other categories only).
    Other,
}

/// Service line status (SVC loop under a patient).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineStatus {
    /// SVC01 procedure.
    pub procedure: Option<Procedure>,
    /// SVC02 line charge.
    pub charge_cents: Option<i64>,
    /// SVC04 revenue code.
    pub revenue_code: Option<String>,
    /// SVC07 units, as written.
    pub units: Option<String>,
    /// STC statuses of the line.
    pub statuses: Vec<StatusInfo>,
    /// REF (`FJ` line item control number …).
    pub references: Vec<Reference>,
    /// DTP*472 service date.
    pub service_date: Option<DateRef>,
}

/// One claim (a patient HL level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimStatus {
    /// HL01 of the patient level.
    pub hl_id: String,
    /// TRN02 under the patient level: the patient control number (CLM01 as submitted).
    pub patient_control_number: String,
    /// NM1*QC.
    pub patient: Option<Entity>,
    /// NM1 of the nearest billing provider (`19`) above.
    pub provider: Option<Entity>,
    /// REF*1K payer claim control number.
    pub payer_claim_control_number: Option<String>,
    /// REF*D9 clearinghouse trace number.
    pub clearinghouse_trace: Option<String>,
    /// Other REF segments.
    pub references: Vec<Reference>,
    /// Claim STC segments.
    pub statuses: Vec<StatusInfo>,
    /// Accepted / rejected.
    pub disposition: Disposition,
    /// STC04 of the first STC.
    pub charge_cents: Option<i64>,
    /// DTP*472 claim service period.
    pub service_period: Option<DateRef>,
    /// Service lines.
    pub lines: Vec<LineStatus>,
}

/// One 277CA transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimAck277 {
    /// ST02.
    pub control_number: String,
    /// GS08.
    pub version: String,
    /// BHT03 originator application transaction id.
    pub reference: Option<String>,
    /// BHT04 creation date.
    pub created: Option<jiff::civil::Date>,
    /// All HL levels in order.
    pub levels: Vec<Level>,
    /// One per patient level.
    pub claims: Vec<ClaimStatus>,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl ClaimAck277 {
    /// Parses one 277CA transaction set.
    pub fn from_transaction(src: &[u8], group: &Group, tx: &Transaction) -> Result<Self, X12Error> {
        check_transaction(group, tx, ST01, &[VERSION], "277CA claim acknowledgment")?;
        parse_body(src, group, tx)
    }

    /// Claims accepted.
    pub fn accepted(&self) -> usize {
        self.claims
            .iter()
            .filter(|c| c.disposition == Disposition::Accepted)
            .count()
    }

    /// Claims rejected.
    pub fn rejected(&self) -> usize {
        self.claims
            .iter()
            .filter(|c| c.disposition == Disposition::Rejected)
            .count()
    }
}

/// Parses every 277CA transaction set in `src`.
pub fn parse_277ca(src: &[u8]) -> Result<Vec<ClaimAck277>, X12Error> {
    let all = parse(src)?;
    let mut out = Vec::new();
    let mut first_err = None;
    for ic in &all {
        for (g, t) in ic.transactions() {
            match check_transaction(g, t, ST01, &[VERSION], "277CA claim acknowledgment") {
                Ok(()) => {
                    let mut a = parse_body(src, g, t)?;
                    a.warnings.extend(ic.issues.iter().map(ToString::to_string));
                    out.push(a);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(first_err.unwrap_or_else(|| X12Error::WrongTransaction {
            at: Location {
                offset: 0,
                segment: 1,
                segment_id: "ISA".into(),
                element: None,
                component: None,
            },
            expected: "a 277CA transaction set".into(),
            found: "none".into(),
        }));
    }
    Ok(out)
}

fn status_code(ctx: &mut Ctx, seg: &Segment<'_>, i: usize) -> Result<StatusCode, X12Error> {
    let parts = composite(ctx, seg, i);
    Ok(StatusCode {
        category: text(req_part(seg, &parts, i, 1, "claim status category code")?),
        status: text(req_part(seg, &parts, i, 2, "claim status code")?),
        entity: part(&parts, 3).map(text),
    })
}

fn stc(ctx: &mut Ctx, seg: &Segment<'_>) -> Result<StatusInfo, X12Error> {
    req(seg, 1, "health care claim status")?;
    let code = status_code(ctx, seg, 1)?;
    let mut additional = Vec::new();
    for i in [10, 11] {
        if seg.element(i).is_some() {
            additional.push(status_code(ctx, seg, i)?);
        }
    }
    Ok(StatusInfo {
        code,
        effective_date: ctx
            .lenient(opt_date8(seg, 2, "status information effective date"))
            .flatten(),
        action_code: opt_text(seg, 3),
        amount_cents: opt_money(seg, 4, "total claim charge amount")?,
        additional,
        message: opt_text(seg, 12),
    })
}

fn disposition(statuses: &[StatusInfo]) -> Disposition {
    let cats = || statuses.iter().flat_map(StatusInfo::categories);
    if cats().any(|c| REJECTED_CATEGORIES.contains(&c)) {
        Disposition::Rejected
    } else if cats().any(|c| ACCEPTED_CATEGORIES.contains(&c)) {
        Disposition::Accepted
    } else {
        Disposition::Other
    }
}

/// The 277CA body without the ST01/GS08 check.
pub(crate) fn parse_body(
    src: &[u8],
    group: &Group,
    tx: &Transaction,
) -> Result<ClaimAck277, X12Error> {
    let mut ctx = Ctx::default();
    let mut bht: Option<(Option<String>, Option<jiff::civil::Date>)> = None;
    let mut levels: Vec<Level> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut claims: Vec<ClaimStatus> = Vec::new();
    let mut claim_at: Vec<Location> = Vec::new();
    let mut cur_level: Option<usize> = None;
    let mut cur_claim: Option<usize> = None;
    let mut in_line = false;
    let mut se_at = tx.st_location(None);
    for seg in tx.segments(src) {
        let seg = seg?;
        let claim = cur_claim.and_then(|i| claims.get_mut(i));
        let level = cur_level.and_then(|i| levels.get_mut(i));
        match seg.id {
            b"SE" => se_at = seg.location(),
            b"BHT" => {
                req(&seg, 1, "hierarchical structure code")?;
                bht = Some((
                    opt_text(&seg, 3),
                    ctx.lenient(opt_date8(&seg, 4, "transaction set creation date"))
                        .flatten(),
                ));
            }
            b"HL" => {
                let id = req_text(&seg, 1, "hierarchical id number")?;
                let parent_id = opt_text(&seg, 2);
                let code = req(&seg, 3, "hierarchical level code")?;
                if by_id.contains_key(&id) {
                    return Err(invalid(
                        seg.at(1),
                        "HL01 not used by an earlier HL".into(),
                        id.as_bytes(),
                    ));
                }
                let parent_idx = match &parent_id {
                    Some(p) => Some(*by_id.get(p).ok_or_else(|| {
                        invalid(
                            seg.at(2),
                            "HL02 naming an earlier HL01".into(),
                            p.as_bytes(),
                        )
                    })?),
                    None => None,
                };
                let lv = HlLevel::from_code(code);
                let idx = levels.len();
                by_id.insert(id.clone(), idx);
                in_line = false;
                cur_level = Some(idx);
                cur_claim = None;
                if lv == HlLevel::Patient {
                    // nearest billing provider above (parents precede children: no cycles)
                    let mut provider = None;
                    let mut p = parent_idx;
                    let mut steps = 0;
                    while let Some(i) = p {
                        steps += 1;
                        if steps > levels.len() {
                            break;
                        }
                        let Some(l) = levels.get(i) else { break };
                        if l.level == HlLevel::BillingProvider {
                            provider = l.entity.clone();
                            break;
                        }
                        p = l.parent_id.as_ref().and_then(|x| by_id.get(x).copied());
                    }
                    cur_claim = Some(claims.len());
                    claim_at.push(seg.location());
                    claims.push(ClaimStatus {
                        hl_id: id.clone(),
                        patient_control_number: String::new(),
                        patient: None,
                        provider,
                        payer_claim_control_number: None,
                        clearinghouse_trace: None,
                        references: Vec::new(),
                        statuses: Vec::new(),
                        disposition: Disposition::Other,
                        charge_cents: None,
                        service_period: None,
                        lines: Vec::new(),
                    });
                }
                levels.push(Level {
                    id,
                    parent_id,
                    level: lv,
                    entity: None,
                    traces: Vec::new(),
                    statuses: Vec::new(),
                    references: Vec::new(),
                    dates: Vec::new(),
                    amounts: Vec::new(),
                });
            }
            b"NM1" => {
                let e = entity(&seg)?;
                if let Some(c) = claim
                    && c.patient.is_none()
                    && !in_line
                {
                    c.patient = Some(e.clone());
                }
                if let Some(l) = level
                    && l.entity.is_none()
                {
                    l.entity = Some(e);
                }
            }
            b"TRN" => {
                let t = Trace277 {
                    trace_type: req_text(&seg, 1, "trace type code")?,
                    reference: req_text(&seg, 2, "reference identification")?,
                };
                if let Some(c) = claim
                    && c.patient_control_number.is_empty()
                {
                    c.patient_control_number = t.reference.clone();
                }
                if let Some(l) = level {
                    l.traces.push(t);
                }
            }
            b"STC" => {
                let s = stc(&mut ctx, &seg)?;
                match claim {
                    Some(c) => match c.lines.last_mut() {
                        Some(line) if in_line => line.statuses.push(s),
                        _ => c.statuses.push(s),
                    },
                    None => {
                        if let Some(l) = level {
                            l.statuses.push(s);
                        }
                    }
                }
            }
            b"REF" => {
                let r = reference(&seg)?;
                match claim {
                    Some(c) => match c.lines.last_mut() {
                        Some(line) if in_line => line.references.push(r),
                        _ => match r.qualifier.as_str() {
                            "1K" if c.payer_claim_control_number.is_none() => {
                                c.payer_claim_control_number = Some(r.value);
                            }
                            "D9" if c.clearinghouse_trace.is_none() => {
                                c.clearinghouse_trace = Some(r.value)
                            }
                            _ => c.references.push(r),
                        },
                    },
                    None => {
                        if let Some(l) = level {
                            l.references.push(r);
                        }
                    }
                }
            }
            b"DTP" => {
                let Some(d) = ctx.lenient(dtp(&seg)) else {
                    continue;
                };
                match claim {
                    Some(c) => match c.lines.last_mut() {
                        Some(line) if in_line => {
                            if d.qualifier == "472" {
                                line.service_date = Some(d);
                            }
                        }
                        _ => {
                            if d.qualifier == "472" {
                                c.service_period = Some(d);
                            }
                        }
                    },
                    None => {
                        if let Some(l) = level {
                            l.dates.push(d);
                        }
                    }
                }
            }
            b"AMT" => {
                let a = amount(&seg)?;
                if let Some(l) = level {
                    l.amounts.push(a);
                }
            }
            b"SVC" => {
                let line = LineStatus {
                    procedure: opt_procedure(&mut ctx, &seg, 1, "procedure")?,
                    charge_cents: opt_money(&seg, 2, "line item charge amount")?,
                    revenue_code: opt_text(&seg, 4),
                    units: quantity(&seg, 7, "units of service")?,
                    statuses: Vec::new(),
                    references: Vec::new(),
                    service_date: None,
                };
                let Some(c) = claim else {
                    return Err(X12Error::Structure {
                        at: seg.location(),
                        expected: "a patient HL (PT) before SVC".into(),
                        found: "SVC".into(),
                    });
                };
                c.lines.push(line);
                in_line = true;
            }
            _ => {}
        }
    }
    let Some((reference, created)) = bht else {
        return Err(missing_segment(
            se_at,
            "BHT (beginning of hierarchical transaction)",
        ));
    };
    if !levels.iter().any(|l| l.level == HlLevel::InformationSource) {
        return Err(missing_segment(
            se_at,
            "HL with level code 20 (information source)",
        ));
    }
    for (c, at) in claims.iter_mut().zip(claim_at) {
        if c.patient_control_number.is_empty() {
            return Err(missing_segment(
                at,
                &format!("TRN (patient control number) under patient HL {}", c.hl_id),
            ));
        }
        if c.statuses.is_empty() {
            return Err(missing_segment(
                at,
                &format!("STC (claim status) under patient HL {}", c.hl_id),
            ));
        }
        c.disposition = disposition(&c.statuses);
        c.charge_cents = c.statuses.first().and_then(|s| s.amount_cents);
    }
    Ok(ClaimAck277 {
        control_number: tx.control.clone(),
        version: group.version.clone(),
        reference,
        created,
        levels,
        claims,
        warnings: ctx.warnings,
    })
}
