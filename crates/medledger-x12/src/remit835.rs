//! The 835 health care claim payment/advice (005010X221A1): payment
//! (BPR), trace (TRN), payer and payee (N1 loops), claims (CLP) with
//! their adjustments (CAS), names (NM1), remark codes (MIA/MOA), dates,
//! amounts and service lines (SVC with CAS, LQ*HE, DTM), and provider
//! adjustments (PLB). Amounts are integer cents.
//!
//! The balance rule (BPR02 = ΣCLP04 − ΣPLB amounts) is checked and
//! reported in [`Remittance::balance`] and as a warning, not as an error.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::X12Error;
use crate::money::format_cents;
use crate::reader::{Group, Segment, Transaction, parse};
use crate::typed::Address;
use crate::typed::{
    AmountRef, Ctx, DateRef, Entity, Party, Procedure, Reference, amount, check_transaction,
    composite, date8, dtm, entity, invalid, missing_segment, money, opt_money, opt_procedure,
    opt_text, part, procedure, quantity, reference, req, req_part, req_text, text,
};

/// ST01 of the 835.
pub const ST01: &str = "835";
/// GS08 prefix accepted (`005010X221`, `005010X221A1`).
pub const VERSION: &str = "005010X221";

/// The TRN reassociation trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// TRN01 trace type code (`1` current transaction trace numbers).
    pub trace_type: String,
    /// TRN02 check or EFT trace number.
    pub reference: String,
    /// TRN03 originating company identifier.
    pub originator: Option<String>,
    /// TRN04 originating company supplemental code.
    pub supplemental: Option<String>,
}

/// A CAS adjustment (one reason/amount/quantity triple).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// CAS01 group code: `CO` contractual, `CR` correction/reversal,
    /// `OA` other, `PI` payer initiated, `PR` patient responsibility.
    pub group: String,
    /// Claim adjustment reason code (CARC).
    pub reason: String,
    /// Amount in cents.
    pub amount_cents: i64,
    /// Quantity, as written.
    pub quantity: Option<String>,
}

/// One service line (SVC loop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinePayment {
    /// SVC01 adjudicated procedure.
    pub procedure: Procedure,
    /// SVC02 line charge.
    pub charge_cents: i64,
    /// SVC03 line paid.
    pub paid_cents: i64,
    /// SVC04 NUBC revenue code.
    pub revenue_code: Option<String>,
    /// SVC05 units of service paid, as written.
    pub units: Option<String>,
    /// SVC06 submitted procedure, when different from SVC01.
    pub original_procedure: Option<Procedure>,
    /// SVC07 original units, as written.
    pub original_units: Option<String>,
    /// Line CAS adjustments.
    pub adjustments: Vec<Adjustment>,
    /// LQ*HE remittance advice remark codes (RARC).
    pub remarks: Vec<String>,
    /// DTM*472 service date.
    pub service_date: Option<Date>,
    /// DTM*150 service period start.
    pub service_start: Option<Date>,
    /// DTM*151 service period end.
    pub service_end: Option<Date>,
    /// Line REF segments.
    pub references: Vec<Reference>,
    /// Line AMT segments (`B6` allowed …).
    pub amounts: Vec<AmountRef>,
}

/// One claim (CLP loop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPayment {
    /// LX01 header number of the claim's group, when sent.
    pub header_number: Option<String>,
    /// CLP01 patient control number (the provider's claim id).
    pub patient_control_number: String,
    /// CLP02 claim status (`1` processed as primary, `2` secondary, `4` denied, `22` reversal …).
    pub status_code: String,
    /// CLP03 total claim charge.
    pub charge_cents: i64,
    /// CLP04 claim payment amount.
    pub paid_cents: i64,
    /// CLP05 patient responsibility.
    pub patient_responsibility_cents: Option<i64>,
    /// CLP06 claim filing indicator (`12` PPO, `MA`/`MB` Medicare …).
    pub filing_indicator: Option<String>,
    /// CLP07 payer claim control number.
    pub payer_claim_control_number: Option<String>,
    /// CLP08 facility type code.
    pub facility_code: Option<String>,
    /// CLP09 claim frequency code.
    pub frequency_code: Option<String>,
    /// Claim-level CAS adjustments.
    pub adjustments: Vec<Adjustment>,
    /// NM1*QC patient.
    pub patient: Option<Entity>,
    /// NM1*IL insured.
    pub insured: Option<Entity>,
    /// NM1*82 rendering provider.
    pub rendering_provider: Option<Entity>,
    /// Other NM1 names (corrected patient `74`, crossover carrier `TT`, …).
    pub other_names: Vec<Entity>,
    /// Remark codes (RARC) from MIA05, MIA20–MIA23 and MOA03–MOA07.
    pub remarks: Vec<String>,
    /// Claim DTM dates (`232`/`233` statement period, `050` received …).
    pub dates: Vec<DateRef>,
    /// Claim AMT amounts.
    pub amounts: Vec<AmountRef>,
    /// Claim REF references.
    pub references: Vec<Reference>,
    /// Service lines.
    pub lines: Vec<LinePayment>,
}

impl ClaimPayment {
    /// Sum of the claim-level adjustments of one group (`CO`, `PR` …), cents.
    pub fn adjusted_cents(&self, group: &str) -> i64 {
        self.adjustments
            .iter()
            .chain(self.lines.iter().flat_map(|l| l.adjustments.iter()))
            .filter(|a| a.group == group)
            .fold(0i64, |s, a| s.saturating_add(a.amount_cents))
    }
}

/// One PLB provider adjustment (one reason/amount pair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderAdjustment {
    /// PLB01 provider identifier.
    pub provider_id: String,
    /// PLB02 fiscal period date (`None`, with a warning, when not a valid date).
    pub fiscal_period: Option<Date>,
    /// Adjustment reason code (composite component 1: `WO`, `L6`, `CV`, `72` …).
    pub reason: String,
    /// Reference identification (component 2).
    pub reference: Option<String>,
    /// Amount in cents; positive reduces the payment.
    pub amount_cents: i64,
}

/// BPR02 against the claims and provider adjustments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Σ CLP04.
    pub claims_paid_cents: i64,
    /// Σ PLB amounts.
    pub provider_adjustments_cents: i64,
    /// Σ CLP04 − Σ PLB.
    pub expected_total_cents: i64,
    /// BPR02 − expected.
    pub difference_cents: i64,
    /// Whether BPR02 equals the expected total.
    pub balanced: bool,
}

/// One 835 transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remittance {
    /// ST02.
    pub control_number: String,
    /// GS08.
    pub version: String,
    /// BPR01 transaction handling code (`I` remittance with payment, `H` advice only …).
    pub handling_code: String,
    /// BPR02 total actual provider payment.
    pub total_paid_cents: i64,
    /// BPR03 credit/debit flag.
    pub credit_debit: String,
    /// BPR04 payment method (`ACH`, `CHK`, `BOP`, `FWT`, `NON`).
    pub payment_method: String,
    /// BPR05 payment format (`CCP`, `CTX`).
    pub payment_format: Option<String>,
    /// BPR16 check issue or EFT effective date (`None`, with a warning,
    /// when absent or not a valid date: the payment itself still reads).
    pub payment_date: Option<Date>,
    /// TRN trace.
    pub trace: Trace,
    /// DTM*405 production date.
    pub production_date: Option<Date>,
    /// Header REF segments (`EV` receiver id, `F2` version …).
    pub references: Vec<Reference>,
    /// N1*PR payer.
    pub payer: Party,
    /// N1*PE payee.
    pub payee: Party,
    /// The claims.
    pub claims: Vec<ClaimPayment>,
    /// PLB provider adjustments.
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// The balance check.
    pub balance: Balance,
    /// Warnings (unbalanced totals, envelope count mismatches, odd composites).
    pub warnings: Vec<String>,
}

impl Remittance {
    /// Parses one 835 transaction set (`src`: the bytes the interchange was parsed from).
    pub fn from_transaction(src: &[u8], group: &Group, tx: &Transaction) -> Result<Self, X12Error> {
        check_transaction(group, tx, ST01, &[VERSION], "835 claim payment/advice")?;
        parse_body(src, group, tx)
    }

    /// Number of claims (CLP).
    pub fn claim_count(&self) -> usize {
        self.claims.len()
    }
}

/// Parses every 835 transaction set in `src` (all interchanges and
/// groups; other transaction sets are skipped). Envelope count mismatches
/// become warnings. Errors when there is no 835 at all.
pub fn parse_835(src: &[u8]) -> Result<Vec<Remittance>, X12Error> {
    let all = parse(src)?;
    let mut out = Vec::new();
    let mut first_other = None;
    for ic in &all {
        for (g, t) in ic.transactions() {
            if t.id != ST01 {
                first_other.get_or_insert((g, t));
                continue;
            }
            let mut r = Remittance::from_transaction(src, g, t)?;
            r.warnings.extend(ic.issues.iter().map(ToString::to_string));
            out.push(r);
        }
    }
    if out.is_empty() {
        return Err(match first_other {
            Some((g, t)) => check_transaction(g, t, ST01, &[VERSION], "835 claim payment/advice")
                .err()
                .unwrap_or_else(|| no_set(&all)),
            None => no_set(&all),
        });
    }
    Ok(out)
}

fn no_set(all: &[crate::reader::Interchange]) -> X12Error {
    let at = all
        .first()
        .map(|ic| crate::error::Location {
            offset: ic.span.start,
            segment: ic.first_segment,
            segment_id: "ISA".into(),
            element: None,
            component: None,
        })
        .unwrap_or(crate::error::Location {
            offset: 0,
            segment: 0,
            segment_id: String::new(),
            element: None,
            component: None,
        });
    X12Error::WrongTransaction {
        at,
        expected: "an 835 transaction set".into(),
        found: "none".into(),
    }
}

const CAS_GROUPS: [&[u8]; 5] = [b"CO", b"CR", b"OA", b"PI", b"PR"];

fn cas(seg: &Segment<'_>) -> Result<Vec<Adjustment>, X12Error> {
    let g = req(seg, 1, "claim adjustment group code")?;
    if !CAS_GROUPS.contains(&g) {
        return Err(invalid(
            seg.at(1),
            "CAS01 group code CO, CR, OA, PI or PR".into(),
            g,
        ));
    }
    let group = text(g);
    let mut out = Vec::new();
    for k in 0..6 {
        let r = 2 + 3 * k;
        match (seg.element(r), seg.element(r + 1)) {
            (None, None) => {
                if seg.element(r + 2).is_some() {
                    return Err(X12Error::Missing {
                        at: seg.at(r),
                        what: format!("CAS{r:02} adjustment reason code (a quantity is given)"),
                    });
                }
            }
            (Some(_), None) => {
                return Err(X12Error::Missing {
                    at: seg.at(r + 1),
                    what: format!("CAS{:02} adjustment amount", r + 1),
                });
            }
            (None, Some(_)) => {
                return Err(X12Error::Missing {
                    at: seg.at(r),
                    what: format!("CAS{r:02} adjustment reason code"),
                });
            }
            (Some(reason), Some(_)) => out.push(Adjustment {
                group: group.clone(),
                reason: text(reason),
                amount_cents: money(seg, r + 1, "adjustment amount")?,
                quantity: quantity(seg, r + 2, "adjustment quantity")?,
            }),
        }
    }
    if out.is_empty() {
        return Err(X12Error::Missing {
            at: seg.at(2),
            what: "CAS02 adjustment reason code".into(),
        });
    }
    Ok(out)
}

fn clp(seg: &Segment<'_>, header_number: Option<String>) -> Result<ClaimPayment, X12Error> {
    Ok(ClaimPayment {
        header_number,
        patient_control_number: req_text(seg, 1, "patient control number")?,
        status_code: req_text(seg, 2, "claim status code")?,
        charge_cents: money(seg, 3, "total claim charge amount")?,
        paid_cents: money(seg, 4, "claim payment amount")?,
        patient_responsibility_cents: opt_money(seg, 5, "patient responsibility amount")?,
        filing_indicator: opt_text(seg, 6),
        payer_claim_control_number: opt_text(seg, 7),
        facility_code: opt_text(seg, 8),
        frequency_code: opt_text(seg, 9),
        adjustments: Vec::new(),
        patient: None,
        insured: None,
        rendering_provider: None,
        other_names: Vec::new(),
        remarks: Vec::new(),
        dates: Vec::new(),
        amounts: Vec::new(),
        references: Vec::new(),
        lines: Vec::new(),
    })
}

fn svc(ctx: &mut Ctx, seg: &Segment<'_>) -> Result<LinePayment, X12Error> {
    Ok(LinePayment {
        procedure: procedure(ctx, seg, 1, "adjudicated procedure")?,
        charge_cents: money(seg, 2, "line item charge amount")?,
        paid_cents: money(seg, 3, "line item provider payment amount")?,
        revenue_code: opt_text(seg, 4),
        units: quantity(seg, 5, "units of service paid")?,
        original_procedure: opt_procedure(ctx, seg, 6, "submitted procedure")?,
        original_units: quantity(seg, 7, "original units of service")?,
        adjustments: Vec::new(),
        remarks: Vec::new(),
        service_date: None,
        service_start: None,
        service_end: None,
        references: Vec::new(),
        amounts: Vec::new(),
    })
}

fn plb(
    ctx: &mut Ctx,
    seg: &Segment<'_>,
    out: &mut Vec<ProviderAdjustment>,
) -> Result<(), X12Error> {
    let provider_id = req_text(seg, 1, "provider identifier")?;
    req(seg, 2, "fiscal period date")?;
    let fiscal_period = ctx.lenient(date8(seg, 2, "fiscal period date"));
    for k in 0..6 {
        let c = 3 + 2 * k;
        if seg.element(c).is_none() {
            if k == 0 {
                return Err(X12Error::Missing {
                    at: seg.at(3),
                    what: "PLB03 provider adjustment identifier".into(),
                });
            }
            if seg.element(c + 1).is_some() {
                return Err(X12Error::Missing {
                    at: seg.at(c),
                    what: format!("PLB{c:02} provider adjustment identifier (an amount is given)"),
                });
            }
            continue;
        }
        let parts = composite(ctx, seg, c);
        let reason = text(req_part(seg, &parts, c, 1, "adjustment reason code")?);
        out.push(ProviderAdjustment {
            provider_id: provider_id.clone(),
            fiscal_period,
            reason,
            reference: part(&parts, 2).map(text),
            amount_cents: money(seg, c + 1, "provider adjustment amount")?,
        });
    }
    Ok(())
}

fn n1(seg: &Segment<'_>) -> Result<Party, X12Error> {
    Ok(Party {
        entity_code: req_text(seg, 1, "entity identifier code")?,
        name: opt_text(seg, 2),
        id_qualifier: opt_text(seg, 3),
        id: opt_text(seg, 4),
        address: None,
        references: Vec::new(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PartyCtx {
    None,
    Payer,
    Payee,
    Other,
}

struct Bpr {
    handling_code: String,
    total: i64,
    credit_debit: String,
    method: String,
    format: Option<String>,
    date: Option<Date>,
}

fn bpr(ctx: &mut Ctx, seg: &Segment<'_>) -> Result<Bpr, X12Error> {
    Ok(Bpr {
        handling_code: req_text(seg, 1, "transaction handling code")?,
        total: money(seg, 2, "total actual provider payment amount")?,
        credit_debit: req_text(seg, 3, "credit/debit flag code")?,
        method: req_text(seg, 4, "payment method code")?,
        format: opt_text(seg, 5),
        date: ctx.lenient(date8(seg, 16, "check issue or EFT effective date")),
    })
}

/// The 835 body without the ST01/GS08 check (also used by the fuzzer).
pub(crate) fn parse_body(
    src: &[u8],
    group: &Group,
    tx: &Transaction,
) -> Result<Remittance, X12Error> {
    let mut ctx = Ctx::default();
    let mut b: Option<Bpr> = None;
    let mut trace: Option<Trace> = None;
    let mut production_date = None;
    let mut references = Vec::new();
    let mut payer: Option<Party> = None;
    let mut payee: Option<Party> = None;
    let mut other_party: Option<Party> = None;
    let mut party = PartyCtx::None;
    let mut claims: Vec<ClaimPayment> = Vec::new();
    let mut in_claim = false;
    let mut in_line = false;
    let mut header_number: Option<String> = None;
    let mut plbs = Vec::new();
    let mut se_at = tx.st_location(None);
    for seg in tx.segments(src) {
        let seg = seg?;
        let claim = if in_claim { claims.last_mut() } else { None };
        match seg.id {
            b"SE" => se_at = seg.location(),
            b"BPR" => {
                if b.is_some() {
                    return Err(invalid(
                        seg.location(),
                        "one BPR segment".into(),
                        b"a second BPR",
                    ));
                }
                b = Some(bpr(&mut ctx, &seg)?);
            }
            b"TRN" if trace.is_none() => {
                trace = Some(Trace {
                    trace_type: req_text(&seg, 1, "trace type code")?,
                    reference: req_text(&seg, 2, "check or EFT trace number")?,
                    originator: opt_text(&seg, 3),
                    supplemental: opt_text(&seg, 4),
                });
            }
            b"N1" => {
                let p = n1(&seg)?;
                in_claim = false;
                in_line = false;
                party = match p.entity_code.as_str() {
                    "PR" => {
                        payer = Some(p);
                        PartyCtx::Payer
                    }
                    "PE" => {
                        payee = Some(p);
                        PartyCtx::Payee
                    }
                    _ => {
                        other_party = Some(p);
                        PartyCtx::Other
                    }
                };
            }
            b"N3" | b"N4" => {
                let target = match party {
                    PartyCtx::Payer => payer.as_mut(),
                    PartyCtx::Payee => payee.as_mut(),
                    PartyCtx::Other => other_party.as_mut(),
                    PartyCtx::None => None,
                };
                if let Some(p) = target {
                    let a = p.address.get_or_insert_with(Address::default);
                    if seg.id == b"N3" {
                        a.lines.push(req_text(&seg, 1, "address information")?);
                        a.lines.extend(opt_text(&seg, 2));
                    } else {
                        a.city = opt_text(&seg, 1);
                        a.state = opt_text(&seg, 2);
                        a.postal_code = opt_text(&seg, 3);
                        a.country = opt_text(&seg, 4);
                    }
                }
            }
            b"REF" => {
                let r = reference(&seg)?;
                if let Some(c) = claim {
                    match c.lines.last_mut() {
                        Some(l) if in_line => l.references.push(r),
                        _ => c.references.push(r),
                    }
                } else {
                    match party {
                        PartyCtx::Payer => {
                            payer.iter_mut().for_each(|p| p.references.push(r.clone()))
                        }
                        PartyCtx::Payee => {
                            payee.iter_mut().for_each(|p| p.references.push(r.clone()))
                        }
                        PartyCtx::Other => {}
                        PartyCtx::None => references.push(r),
                    }
                }
            }
            b"DTM" => {
                let Some(d) = ctx.lenient(dtm(&seg)) else {
                    continue;
                };
                if let Some(c) = claim {
                    match c.lines.last_mut() {
                        Some(l) if in_line => match d.qualifier.as_str() {
                            "472" => l.service_date = Some(d.from),
                            "150" => l.service_start = Some(d.from),
                            "151" => l.service_end = Some(d.from),
                            _ => {}
                        },
                        _ => c.dates.push(d),
                    }
                } else if d.qualifier == "405" {
                    production_date = Some(d.from);
                }
            }
            b"LX" => {
                header_number = opt_text(&seg, 1);
                in_claim = false;
                in_line = false;
                party = PartyCtx::None;
            }
            b"CLP" => {
                claims.push(clp(&seg, header_number.clone())?);
                in_claim = true;
                in_line = false;
                party = PartyCtx::None;
            }
            b"CAS" => {
                let adj = cas(&seg)?;
                let Some(c) = claim else {
                    return Err(X12Error::Structure {
                        at: seg.location(),
                        expected: "CLP before CAS (CAS outside a claim)".into(),
                        found: "CAS".into(),
                    });
                };
                match c.lines.last_mut() {
                    Some(l) if in_line => l.adjustments.extend(adj),
                    _ => c.adjustments.extend(adj),
                }
            }
            b"NM1" => {
                if let Some(c) = claim {
                    let e = entity(&seg)?;
                    match e.entity_code.as_str() {
                        "QC" if c.patient.is_none() => c.patient = Some(e),
                        "IL" if c.insured.is_none() => c.insured = Some(e),
                        "82" if c.rendering_provider.is_none() => c.rendering_provider = Some(e),
                        _ => c.other_names.push(e),
                    }
                }
            }
            b"MIA" => {
                if let Some(c) = claim {
                    req(&seg, 1, "covered days or visits count")?;
                    c.remarks.extend(
                        [5, 20, 21, 22, 23]
                            .iter()
                            .filter_map(|&i| opt_text(&seg, i)),
                    );
                }
            }
            b"MOA" => {
                if let Some(c) = claim {
                    c.remarks.extend((3..=7).filter_map(|i| opt_text(&seg, i)));
                }
            }
            b"AMT" => {
                if let Some(c) = claim {
                    let a = amount(&seg)?;
                    match c.lines.last_mut() {
                        Some(l) if in_line => l.amounts.push(a),
                        _ => c.amounts.push(a),
                    }
                }
            }
            b"SVC" => {
                let line = svc(&mut ctx, &seg)?;
                let Some(c) = claim else {
                    return Err(X12Error::Structure {
                        at: seg.location(),
                        expected: "CLP before SVC (service line outside a claim)".into(),
                        found: "SVC".into(),
                    });
                };
                c.lines.push(line);
                in_line = true;
            }
            b"LQ" => {
                let qualifier = req(&seg, 1, "code list qualifier code")?;
                let code = req_text(&seg, 2, "remark code")?;
                match claims.last_mut().and_then(|c| c.lines.last_mut()) {
                    Some(l) if in_claim && in_line => {
                        if qualifier == b"HE" {
                            l.remarks.push(code);
                        }
                    }
                    _ => {
                        return Err(X12Error::Structure {
                            at: seg.location(),
                            expected: "SVC before LQ (remark outside a service line)".into(),
                            found: "LQ".into(),
                        });
                    }
                }
            }
            b"PLB" => {
                plb(&mut ctx, &seg, &mut plbs)?;
                in_claim = false;
                in_line = false;
            }
            _ => {}
        }
    }
    let Some(b) = b else {
        return Err(missing_segment(
            se_at,
            "BPR (financial information) in the 835 header",
        ));
    };
    let Some(trace) = trace else {
        return Err(missing_segment(
            se_at,
            "TRN (reassociation trace number) in the 835 header",
        ));
    };
    let Some(payer) = payer else {
        return Err(missing_segment(
            se_at,
            "N1*PR (payer identification) in the 835 header",
        ));
    };
    let Some(payee) = payee else {
        return Err(missing_segment(
            se_at,
            "N1*PE (payee identification) in the 835 header",
        ));
    };
    let claims_paid: i128 = claims.iter().map(|c| i128::from(c.paid_cents)).sum();
    let plb_total: i128 = plbs.iter().map(|p| i128::from(p.amount_cents)).sum();
    let expected = claims_paid - plb_total;
    let diff = i128::from(b.total) - expected;
    let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
    let balance = Balance {
        claims_paid_cents: clamp(claims_paid),
        provider_adjustments_cents: clamp(plb_total),
        expected_total_cents: clamp(expected),
        difference_cents: clamp(diff),
        balanced: diff == 0,
    };
    let mut warnings = ctx.warnings;
    if !balance.balanced {
        warnings.push(format!(
            "BPR02 total {} does not equal the sum of CLP04 ({}) minus PLB adjustments ({}) = {}: off by {}",
            format_cents(b.total),
            format_cents(balance.claims_paid_cents),
            format_cents(balance.provider_adjustments_cents),
            format_cents(balance.expected_total_cents),
            format_cents(balance.difference_cents),
        ));
    }
    Ok(Remittance {
        control_number: tx.control.clone(),
        version: group.version.clone(),
        handling_code: b.handling_code,
        total_paid_cents: b.total,
        credit_debit: b.credit_debit,
        payment_method: b.method,
        payment_format: b.format,
        payment_date: b.date,
        trace,
        production_date,
        references,
        payer,
        payee,
        claims,
        provider_adjustments: plbs,
        balance,
        warnings,
    })
}
