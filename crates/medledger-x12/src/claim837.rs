//! A light reader of submitted 837P (005010X222) and 837I (005010X223)
//! claims: one [`Claim837`] per CLM with its service lines (SV1/SV2),
//! checking the required elements it reads: NM101/NM102 of every NM1,
//! CLM01, CLM02, CLM05-1 and CLM05-3, the procedure and charge of SV1,
//! the revenue code and charge of SV2. It is a summary for matching
//! remittances and acknowledgments, not a full 837 validator.

use serde::{Deserialize, Serialize};

use crate::error::{Location, X12Error};
use crate::reader::{Group, Segment, Transaction, parse};
use crate::typed::{
    Ctx, DateRef, Procedure, check_transaction, composite, dtp, money, opt_procedure, opt_text,
    part, procedure, quantity, req, req_part, req_text, text,
};

/// ST01 of the 837.
pub const ST01: &str = "837";
/// GS08 prefix of the professional claim.
pub const PROFESSIONAL: &str = "005010X222";
/// GS08 prefix of the institutional claim.
pub const INSTITUTIONAL: &str = "005010X223";

/// Professional or institutional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimKind {
    /// 837P (X222).
    Professional,
    /// 837I (X223).
    Institutional,
}

/// One service line (SV1 or SV2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLine837 {
    /// LX01 line number.
    pub line_number: Option<String>,
    /// SV101 (or SV202) procedure.
    pub procedure: Option<Procedure>,
    /// SV201 revenue code (institutional).
    pub revenue_code: Option<String>,
    /// SV102 / SV203 line charge.
    pub charge_cents: i64,
    /// SV103 / SV204 unit basis (`UN`, `MJ`, `DA`).
    pub unit_basis: Option<String>,
    /// SV104 / SV205 units, as written.
    pub units: Option<String>,
    /// DTP*472 service date or period.
    pub service_period: Option<DateRef>,
}

/// One submitted claim (CLM loop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim837 {
    /// From GS08.
    pub kind: ClaimKind,
    /// ST02 of the transaction set.
    pub transaction_control: String,
    /// CLM01 patient control number.
    pub patient_control_number: String,
    /// CLM02 total claim charge.
    pub charge_cents: i64,
    /// CLM05-1 place of service (837P) or facility type (837I).
    pub facility_code: String,
    /// CLM05-2 facility code qualifier (`B` place of service, `A` UB-04 type of bill).
    pub facility_qualifier: Option<String>,
    /// CLM05-3 claim frequency type code (`1` original, `7` replacement, `8` void).
    pub frequency_code: String,
    /// Service lines.
    pub lines: Vec<ServiceLine837>,
    /// Location of the CLM segment.
    pub at: Location,
}

/// Reads the claims of one 837 transaction set.
pub fn claims_from_transaction(
    src: &[u8],
    group: &Group,
    tx: &Transaction,
) -> Result<Vec<Claim837>, X12Error> {
    check_transaction(
        group,
        tx,
        ST01,
        &[PROFESSIONAL, INSTITUTIONAL],
        "837 health care claim",
    )?;
    parse_body(src, group, tx)
}

/// Reads the claims of every 837 transaction set in `src`.
pub fn parse_837(src: &[u8]) -> Result<Vec<Claim837>, X12Error> {
    let all = parse(src)?;
    let mut out = Vec::new();
    let mut seen = false;
    let mut first_err = None;
    for ic in &all {
        for (g, t) in ic.transactions() {
            match check_transaction(
                g,
                t,
                ST01,
                &[PROFESSIONAL, INSTITUTIONAL],
                "837 health care claim",
            ) {
                Ok(()) => {
                    seen = true;
                    out.extend(parse_body(src, g, t)?);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    if !seen {
        return Err(first_err.unwrap_or_else(|| X12Error::WrongTransaction {
            at: Location {
                offset: 0,
                segment: 1,
                segment_id: "ISA".into(),
                element: None,
                component: None,
            },
            expected: "an 837 transaction set".into(),
            found: "none".into(),
        }));
    }
    Ok(out)
}

fn clm(
    ctx: &mut Ctx,
    seg: &Segment<'_>,
    kind: ClaimKind,
    control: &str,
) -> Result<Claim837, X12Error> {
    let patient_control_number = req_text(seg, 1, "patient control number")?;
    let charge_cents = money(seg, 2, "total claim charge amount")?;
    req(seg, 5, "health care service location information")?;
    let parts = composite(ctx, seg, 5);
    Ok(Claim837 {
        kind,
        transaction_control: control.to_owned(),
        patient_control_number,
        charge_cents,
        facility_code: text(req_part(seg, &parts, 5, 1, "facility code value")?),
        facility_qualifier: part(&parts, 2).map(text),
        frequency_code: text(req_part(seg, &parts, 5, 3, "claim frequency type code")?),
        lines: Vec::new(),
        at: seg.location(),
    })
}

/// The 837 body without the ST01/GS08 check.
pub(crate) fn parse_body(
    src: &[u8],
    group: &Group,
    tx: &Transaction,
) -> Result<Vec<Claim837>, X12Error> {
    let kind = if group.version.starts_with(INSTITUTIONAL) {
        ClaimKind::Institutional
    } else {
        ClaimKind::Professional
    };
    let mut ctx = Ctx::default();
    let mut claims: Vec<Claim837> = Vec::new();
    let mut line_number: Option<String> = None;
    let mut in_line = false;
    for seg in tx.segments(src) {
        let seg = seg?;
        match seg.id {
            b"NM1" => {
                req(&seg, 1, "entity identifier code")?;
                req(&seg, 2, "entity type qualifier")?;
            }
            b"HL" => in_line = false,
            b"CLM" => {
                claims.push(clm(&mut ctx, &seg, kind, &tx.control)?);
                line_number = None;
                in_line = false;
            }
            b"LX" => {
                line_number = opt_text(&seg, 1);
                in_line = false;
            }
            b"SV1" | b"SV2" => {
                let line = if seg.id == b"SV1" {
                    ServiceLine837 {
                        line_number: line_number.take(),
                        procedure: Some(procedure(&mut ctx, &seg, 1, "procedure")?),
                        revenue_code: None,
                        charge_cents: money(&seg, 2, "line item charge amount")?,
                        unit_basis: opt_text(&seg, 3),
                        units: quantity(&seg, 4, "service unit count")?,
                        service_period: None,
                    }
                } else {
                    ServiceLine837 {
                        line_number: line_number.take(),
                        revenue_code: Some(req_text(&seg, 1, "service line revenue code")?),
                        procedure: opt_procedure(&mut ctx, &seg, 2, "procedure")?,
                        charge_cents: money(&seg, 3, "line item charge amount")?,
                        unit_basis: opt_text(&seg, 4),
                        units: quantity(&seg, 5, "service unit count")?,
                        service_period: None,
                    }
                };
                let Some(c) = claims.last_mut() else {
                    return Err(X12Error::Structure {
                        at: seg.location(),
                        expected: format!("CLM before {}", seg.id_str()),
                        found: seg.id_str().into(),
                    });
                };
                c.lines.push(line);
                in_line = true;
            }
            b"DTP" if in_line && seg.element(1) == Some(b"472") => {
                let Some(d) = ctx.lenient(dtp(&seg)) else {
                    continue;
                };
                if let Some(l) = claims.last_mut().and_then(|c| c.lines.last_mut()) {
                    l.service_period = Some(d);
                }
            }
            _ => {}
        }
    }
    Ok(claims)
}
