//! ClaimResponse / ExplanationOfBenefit → a remittance, and the ledger's
//! `RemittancePosting` so that a FHIR remittance posts exactly like an 835.
//!
//! Input: one ClaimResponse, one ExplanationOfBenefit, or a Bundle holding
//! any number of them (validated like any bundle).
//!
//! Amounts (integer cents): `submitted`, `benefit` and the patient
//! responsibility come from `total` (by category code: `submitted`,
//! `benefit`, and `memberliability`, else `copay` + `deductible` +
//! `coinsurance`), else from the sums over the items' adjudications; the
//! payment from `payment.amount`.
//!
//! 835 mapping ([`FhirRemittance::to_posting`]): CLP01 the claim's control
//! number (the request/claim reference's identifier value, the referenced
//! bundle Claim's identifier, else the last path segment of the reference);
//! CLP02 `4` when denied, `22` for a cancelled response, else `1`; CLP03
//! submitted; CLP04 the benefit (else the payment); CLP05 the patient
//! responsibility; CLP07 the response's identifier (else its id). CAS:
//! every adjudication with a CARC (`adjudication.reason` coding of
//! [`CARC_SYSTEM`]) gives (group, CARC, amount); the group is the
//! [`GROUP_CODE_EXTENSION`] value when present, else `PR` for copay,
//! deductible and coinsurance categories, else `CO`. Copay, deductible and
//! coinsurance adjudications without a CARC become PR-3, PR-1 and PR-2 (as
//! an 835 writes them); an item's submitted − eligible difference without
//! an explicit CO adjustment becomes CO-45. RARCs ([`RARC_SYSTEM`]) are the
//! remarks.
//!
//! Denied: `outcome` `error`, or a positive submitted amount with nothing
//! paid and no patient responsibility.

use crate::FhirError;
use crate::datatypes::*;
use crate::parse::Bundle;
use crate::resources::*;
use medledger_ledger::ledger::{ClaimPosting, RemittancePosting};
use serde::Serialize;

/// X12 claim adjustment reason codes.
pub const CARC_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
/// X12 remittance advice remark codes.
pub const RARC_SYSTEM: &str = "https://x12.org/codes/remittance-advice-remark-codes";
/// Extension on an adjudication carrying the X12 CAS group code (CO, PR,
/// OA, PI, CR) as `valueCode` (ours; R4 has no element for it).
pub const GROUP_CODE_EXTENSION: &str = "urn:medledger:fhir:x12-claim-adjustment-group-code";

/// A reason code of an adjudication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCode {
    /// `CARC`, `RARC` or `other`.
    pub kind: String,
    /// System URI.
    pub system: Option<String>,
    /// Code.
    pub code: String,
    /// The CAS group code (CARC only: explicit, else derived).
    pub group: Option<String>,
}

/// One adjudication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemitAdjudication {
    /// Category code (submitted, eligible, benefit, copay, deductible, …).
    pub category: String,
    /// Amount in cents.
    pub amount_cents: Option<i64>,
    /// Non-monetary value (percent).
    pub value: Option<f64>,
    /// Reason codes.
    pub reasons: Vec<ReasonCode>,
}

/// One adjudicated line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemitItem {
    /// The claim line (item sequence).
    pub sequence: u32,
    /// Adjudications.
    pub adjudications: Vec<RemitAdjudication>,
}

/// One adjudicated claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemitClaim {
    /// `ClaimResponse` or `ExplanationOfBenefit`.
    pub resource_type: String,
    /// Resource id.
    pub id: Option<String>,
    /// The response's identifier (the payer's claim number).
    pub payer_claim_id: Option<String>,
    /// Our claim's control number, as far as it can be told.
    pub claim_identifier: Option<String>,
    /// The request/claim reference as written.
    pub request_reference: Option<String>,
    /// The payer (insurer display, name or identifier).
    pub payer: Option<String>,
    /// Status.
    pub status: String,
    /// Outcome (queued | complete | error | partial).
    pub outcome: String,
    /// Payment amount.
    pub payment_amount_cents: Option<i64>,
    /// Payment date.
    pub payment_date: Option<String>,
    /// Payment identifier (check/EFT).
    pub payment_identifier: Option<String>,
    /// Total submitted.
    pub total_submitted_cents: Option<i64>,
    /// Total benefit.
    pub total_benefit_cents: Option<i64>,
    /// Patient responsibility.
    pub patient_responsibility_cents: Option<i64>,
    /// Header adjudications.
    pub adjudications: Vec<RemitAdjudication>,
    /// Lines.
    pub items: Vec<RemitItem>,
    /// Denied.
    pub denied: bool,
}

/// Everything read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FhirRemittance {
    /// The claims, in input order.
    pub claims: Vec<RemitClaim>,
}

fn category(a: &Adjudication) -> String {
    a.category.first_code().unwrap_or("").to_ascii_lowercase()
}

const PATIENT_SHARE: &[&str] = &["copay", "deductible", "coinsurance"];

fn adjudication(a: &Adjudication) -> RemitAdjudication {
    let cat = category(a);
    let explicit = a
        .extension
        .iter()
        .find(|e| e.url == GROUP_CODE_EXTENSION)
        .and_then(|e| {
            e.value_code
                .clone()
                .or_else(|| e.value_coding.as_ref().and_then(|c| c.code.clone()))
                .or_else(|| {
                    e.value_codeable_concept
                        .as_ref()
                        .and_then(|c| c.first_code())
                        .map(str::to_owned)
                })
        });
    let reasons = a
        .reason
        .iter()
        .flat_map(|r| r.coding.iter())
        .filter_map(|c| {
            let code = c.code.clone()?;
            let kind = match c.system.as_deref() {
                Some(CARC_SYSTEM) => "CARC",
                Some(RARC_SYSTEM) => "RARC",
                _ => "other",
            };
            let group = (kind == "CARC").then(|| {
                explicit.clone().unwrap_or_else(|| {
                    if PATIENT_SHARE.contains(&cat.as_str()) {
                        "PR"
                    } else {
                        "CO"
                    }
                    .to_owned()
                })
            });
            Some(ReasonCode {
                kind: kind.into(),
                system: c.system.clone(),
                code,
                group,
            })
        })
        .collect();
    RemitAdjudication {
        category: cat,
        amount_cents: a.amount.as_ref().and_then(Money::cents),
        value: a.value,
        reasons,
    }
}

fn total(totals: &[Total], cat: &str) -> Option<i64> {
    let v: Vec<i64> = totals
        .iter()
        .filter(|t| {
            t.category
                .first_code()
                .is_some_and(|c| c.eq_ignore_ascii_case(cat))
        })
        .filter_map(|t| t.amount.cents())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum())
}

fn item_sum(items: &[RemitItem], cats: &[&str]) -> Option<i64> {
    let v: Vec<i64> = items
        .iter()
        .flat_map(|i| i.adjudications.iter())
        .filter(|a| cats.contains(&a.category.as_str()))
        .filter_map(|a| a.amount_cents)
        .collect();
    (!v.is_empty()).then(|| v.iter().sum())
}

fn reference_key(r: &Reference, bundle: Option<&Bundle>) -> Option<String> {
    if let Some(v) = r.identifier.as_ref().and_then(|i| i.value.clone()) {
        return Some(v);
    }
    let target = r.reference.as_deref()?;
    if let Some(Resource::Claim(c)) = bundle.and_then(|b| b.resolve(target)) {
        return c
            .identifier
            .iter()
            .find(|i| i.system.as_deref() == Some(crate::claim::CONTROL_NUMBER_SYSTEM))
            .or_else(|| c.identifier.first())
            .and_then(|i| i.value.clone())
            .or_else(|| c.id.clone());
    }
    target
        .rsplit(['/', ':'])
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn payer_name(r: &Reference, bundle: Option<&Bundle>) -> Option<String> {
    if let Some(Resource::Organization(o)) = r
        .reference
        .as_deref()
        .and_then(|t| bundle.and_then(|b| b.resolve(t)))
        && o.name.is_some()
    {
        return o.name.clone();
    }
    r.display
        .clone()
        .or_else(|| r.identifier.as_ref().and_then(|i| i.value.clone()))
}

struct Parts<'a> {
    resource_type: &'a str,
    id: &'a Option<String>,
    identifier: &'a [Identifier],
    request: Option<&'a Reference>,
    insurer: &'a Reference,
    status: &'a str,
    outcome: &'a str,
    items: Vec<RemitItem>,
    adjudication: &'a [Adjudication],
    total: &'a [Total],
    payment: &'a Option<Payment>,
}

fn build(p: Parts<'_>, bundle: Option<&Bundle>) -> RemitClaim {
    let submitted = total(p.total, "submitted").or_else(|| item_sum(&p.items, &["submitted"]));
    let benefit = total(p.total, "benefit").or_else(|| item_sum(&p.items, &["benefit"]));
    let patient = total(p.total, "memberliability")
        .or_else(|| {
            let v: Vec<i64> = PATIENT_SHARE
                .iter()
                .filter_map(|c| total(p.total, c))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum())
        })
        .or_else(|| item_sum(&p.items, PATIENT_SHARE));
    let payment_amount = p
        .payment
        .as_ref()
        .and_then(|x| x.amount.as_ref())
        .and_then(Money::cents);
    let paid = benefit.or(payment_amount).unwrap_or(0);
    let denied = p.outcome == "error"
        || (submitted.unwrap_or(0) > 0 && paid == 0 && patient.unwrap_or(0) == 0);
    RemitClaim {
        resource_type: p.resource_type.into(),
        id: p.id.clone(),
        payer_claim_id: p.identifier.first().and_then(|i| i.value.clone()),
        claim_identifier: p.request.and_then(|r| reference_key(r, bundle)),
        request_reference: p.request.and_then(|r| r.reference.clone()),
        payer: payer_name(p.insurer, bundle),
        status: p.status.into(),
        outcome: p.outcome.into(),
        payment_amount_cents: payment_amount,
        payment_date: p
            .payment
            .as_ref()
            .and_then(|x| x.date.as_ref())
            .map(|d| d.as_str().to_owned()),
        payment_identifier: p
            .payment
            .as_ref()
            .and_then(|x| x.identifier.as_ref())
            .and_then(|i| i.value.clone()),
        total_submitted_cents: submitted,
        total_benefit_cents: benefit,
        patient_responsibility_cents: patient,
        adjudications: p.adjudication.iter().map(adjudication).collect(),
        items: p.items,
        denied,
    }
}

/// A ClaimResponse → a remittance claim (`bundle` resolves its references).
pub fn from_claim_response(r: &ClaimResponse, bundle: Option<&Bundle>) -> RemitClaim {
    build(
        Parts {
            resource_type: "ClaimResponse",
            id: &r.id,
            identifier: &r.identifier,
            request: r.request.as_ref(),
            insurer: &r.insurer,
            status: &r.status,
            outcome: &r.outcome,
            items: r
                .item
                .iter()
                .map(|i| RemitItem {
                    sequence: i.item_sequence,
                    adjudications: i.adjudication.iter().map(adjudication).collect(),
                })
                .collect(),
            adjudication: &r.adjudication,
            total: &r.total,
            payment: &r.payment,
        },
        bundle,
    )
}

/// An ExplanationOfBenefit → a remittance claim.
pub fn from_eob(e: &ExplanationOfBenefit, bundle: Option<&Bundle>) -> RemitClaim {
    let mut c = build(
        Parts {
            resource_type: "ExplanationOfBenefit",
            id: &e.id,
            identifier: &e.identifier,
            request: e.claim.as_ref(),
            insurer: &e.insurer,
            status: &e.status,
            outcome: &e.outcome,
            items: e
                .item
                .iter()
                .map(|i| RemitItem {
                    sequence: i.sequence,
                    adjudications: i.adjudication.iter().map(adjudication).collect(),
                })
                .collect(),
            adjudication: &e.adjudication,
            total: &e.total,
            payment: &e.payment,
        },
        bundle,
    );
    if c.payer.is_none() {
        // a contained Coverage's payor
        c.payer = e
            .insurance
            .iter()
            .filter_map(|i| i.coverage.reference.as_deref()?.strip_prefix('#'))
            .filter_map(|id| e.contained.iter().find(|k| k.id.as_deref() == Some(id)))
            .flat_map(|k| k.payor.iter())
            .find_map(|p| p.display.clone());
    }
    c
}

/// Reads a ClaimResponse, an ExplanationOfBenefit or a Bundle of them.
pub fn read_remittance(bytes: &[u8]) -> Result<FhirRemittance, FhirError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Peek {
        resource_type: Option<String>,
    }
    let peek: Peek = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => FhirError::element(
            "resourceType",
            "wrong JSON type: expected an object with a string resourceType",
        ),
        _ => crate::error::not_json(&e),
    })?;
    let expected = "ClaimResponse, ExplanationOfBenefit or a Bundle of them";
    let claims = match peek.resource_type.as_deref() {
        Some("Bundle") => {
            let b = crate::parse_bundle(bytes)?;
            b.resources()
                .filter_map(|(_, r)| match r {
                    Resource::ClaimResponse(x) => Some(from_claim_response(x, Some(&b))),
                    Resource::ExplanationOfBenefit(x) => Some(from_eob(x, Some(&b))),
                    _ => None,
                })
                .collect()
        }
        Some("ClaimResponse" | "ExplanationOfBenefit") => match crate::parse_resource(bytes)? {
            Resource::ClaimResponse(x) => vec![from_claim_response(&x, None)],
            Resource::ExplanationOfBenefit(x) => vec![from_eob(&x, None)],
            _ => Vec::new(),
        },
        Some(t) if is_r4_resource_type(t) => {
            return Err(FhirError::WrongResource {
                expected: expected.into(),
                found: t.to_owned(),
            });
        }
        Some(_) => {
            return Err(FhirError::UnknownResourceType {
                location: "resourceType".into(),
            });
        }
        None => {
            return Err(FhirError::element(
                "resourceType",
                "required element missing",
            ));
        }
    };
    Ok(FhirRemittance { claims })
}

impl RemitClaim {
    /// The 835 CLP equivalent (see the module doc for the mapping).
    pub fn to_claim_posting(&self) -> ClaimPosting {
        let mut adjustments: Vec<(String, String, i64)> = Vec::new();
        let mut remarks = Vec::new();
        let mut take = |a: &RemitAdjudication, adjustments: &mut Vec<(String, String, i64)>| {
            let mut had_carc = false;
            for r in &a.reasons {
                match r.kind.as_str() {
                    "CARC" => {
                        had_carc = true;
                        adjustments.push((
                            r.group.clone().unwrap_or_else(|| "CO".into()),
                            r.code.clone(),
                            a.amount_cents.unwrap_or(0),
                        ));
                    }
                    "RARC" if !remarks.contains(&r.code) => remarks.push(r.code.clone()),
                    _ => {}
                }
            }
            let derived = match a.category.as_str() {
                "deductible" => Some("1"),
                "coinsurance" => Some("2"),
                "copay" => Some("3"),
                _ => None,
            };
            if !had_carc
                && let (Some(carc), Some(amt)) = (derived, a.amount_cents)
                && amt != 0
            {
                adjustments.push(("PR".into(), carc.into(), amt));
            }
        };
        for a in &self.adjudications {
            take(a, &mut adjustments);
        }
        for it in &self.items {
            let before = adjustments.len();
            for a in &it.adjudications {
                take(a, &mut adjustments);
            }
            let has_co = adjustments[before..].iter().any(|a| a.0 == "CO");
            let amount = |c: &str| {
                it.adjudications
                    .iter()
                    .find(|a| a.category == c)
                    .and_then(|a| a.amount_cents)
            };
            if !has_co
                && let (Some(s), Some(e)) = (amount("submitted"), amount("eligible"))
                && s > e
            {
                adjustments.push(("CO".into(), "45".into(), s - e));
            }
        }
        let paid = self
            .total_benefit_cents
            .or(self.payment_amount_cents)
            .unwrap_or(0);
        ClaimPosting {
            control_number: self.claim_identifier.clone().unwrap_or_default(),
            status_code: if self.denied {
                "4"
            } else if self.status == "cancelled" {
                "22"
            } else {
                "1"
            }
            .into(),
            charge_cents: self.total_submitted_cents.unwrap_or(0),
            paid_cents: paid,
            patient_responsibility_cents: self.patient_responsibility_cents.unwrap_or(0),
            payer_claim_control_number: self.payer_claim_id.clone().or_else(|| self.id.clone()),
            adjustments,
            remarks,
        }
    }
}

impl FhirRemittance {
    /// The ledger posting (`Ledger::post_835`). `payer` overrides the payer
    /// named in the resources (the first claim's; `unknown` if none).
    pub fn to_posting(&self, payer: Option<&str>) -> RemittancePosting {
        RemittancePosting {
            payer: payer
                .map(str::to_owned)
                .or_else(|| self.claims.iter().find_map(|c| c.payer.clone()))
                .unwrap_or_else(|| "unknown".into()),
            trace: self
                .claims
                .iter()
                .find_map(|c| c.payment_identifier.clone()),
            total_paid_cents: self
                .claims
                .iter()
                .map(|c| {
                    c.payment_amount_cents
                        .or(c.total_benefit_cents)
                        .unwrap_or(0)
                })
                .sum(),
            claims: self
                .claims
                .iter()
                .map(RemitClaim::to_claim_posting)
                .collect(),
        }
    }
}
