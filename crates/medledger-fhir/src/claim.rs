//! Our claim model (`medledger_claims::model::Claim`) → a FHIR R4
//! `collection` Bundle: the Claim plus the Patient (and the subscriber as a
//! second Patient when the patient is not the subscriber), the billing
//! provider (Organization, or Practitioner when it has a first name), the
//! payer Organization, Coverage, and the rendering/referring/attending
//! providers, all as bundle-local `urn:uuid:` entries. UUIDs are derived
//! from the claim id and the entry's role, so the output is deterministic.
//!
//! Mapping:
//! - `identifier`: the patient control number (CLM01), system
//!   [`CONTROL_NUMBER_SYSTEM`] — what a ClaimResponse quotes back;
//! - `type`: `professional` / `institutional` (claim-type); `use` claim;
//!   `status` active; `priority` normal; `created` as given;
//! - `billablePeriod`: the statement period (institutional) or the first and
//!   last service dates;
//! - `related`: a replacement/void's original payer claim number
//!   (relationship `prior`);
//! - `careTeam`: rendering (professional) or attending (institutional) as
//!   `primary` with the NUCC taxonomy as qualification, referring as `other`;
//! - `supportingInfo`: the frequency code (ours, [`SUPPORTING_INFO_SYSTEM`]);
//!   institutional: type of bill with its frequency digit, admission type,
//!   point of origin, discharge status, admission date, DRG (CARIN BB
//!   categories and NUBC/CMS code systems);
//! - `diagnosis`: sequence, ICD-10-CM (dotted), the first `principal`,
//!   present-on-admission (NUBC);
//! - `insurance`: this payer (focal) and the other payers, each with its
//!   Coverage; the prior authorisation as `preAuthRef`;
//! - `item`: sequence, careTeamSequence, diagnosisSequence (the pointers),
//!   revenue (NUBC), productOrService (CPT or HCPCS by the code's shape;
//!   `not-applicable` data-absent-reason when an institutional line has
//!   none), modifiers, servicedDate/servicedPeriod, place of service
//!   (professional), quantity, unitPrice, net, and the ledger encounter as a
//!   logical Encounter reference;
//! - `total`: the sum of the lines.
//!
//! Not carried: admission/discharge hours, line NDCs and other payers'
//! paid amounts (no R4 Claim element without an extension).

use crate::datatypes::is_fhir_datetime;
use crate::ingest::ICD10CM_SYSTEM;
use medledger_claims::model::{Address, Claim, ClaimKind, Payer, Person, Provider, Subscriber};
use serde_json::{Value, json};

/// Claim type code system.
pub const CLAIM_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/claim-type";
/// CPT.
pub const CPT_SYSTEM: &str = "http://www.ama-assn.org/go/cpt";
/// HCPCS Level II.
pub const HCPCS_SYSTEM: &str = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
/// CMS place of service.
pub const POS_SYSTEM: &str =
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set";
/// NUBC revenue codes.
pub const REVENUE_SYSTEM: &str = "https://www.nubc.org/CodeSystem/RevenueCodes";
/// Our patient control numbers (CLM01).
pub const CONTROL_NUMBER_SYSTEM: &str = "urn:medledger:claim-control-number";
/// Our payer ids.
pub const PAYER_ID_SYSTEM: &str = "urn:medledger:payer-id";
/// Our ledger encounter ids.
pub const ENCOUNTER_SYSTEM: &str = "urn:medledger:encounter";
/// Our supportingInfo categories (frequency).
pub const SUPPORTING_INFO_SYSTEM: &str = "urn:medledger:supporting-info";
/// X12 claim frequency codes (CLM05-3), ours.
pub const FREQUENCY_SYSTEM: &str = "urn:medledger:x12-claim-frequency";
/// X12 claim filing indicator codes (SBR09), ours.
pub const FILING_INDICATOR_SYSTEM: &str = "urn:medledger:x12-claim-filing-indicator";
/// CARIN BB supportingInfo categories.
pub const CARIN_INFO_SYSTEM: &str =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType";
/// NUBC present on admission.
pub const POA_SYSTEM: &str = "https://www.nubc.org/CodeSystem/PresentOnAdmissionIndicators";
/// US EIN.
pub const EIN_SYSTEM: &str = "urn:oid:2.16.840.1.113883.4.4";
/// NUCC provider taxonomy.
pub const TAXONOMY_SYSTEM: &str = "http://nucc.org/provider-taxonomy";

/// A deterministic UUID (version 8 layout) for `claim id` + `role`.
fn uuid(claim: &str, role: &str) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in claim.bytes().chain([0]).chain(role.bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    let h = (h & !(0xf << 76) | (0x8 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let s = format!("{h:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &s[..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..]
    )
}

fn address(a: &Option<Address>) -> Value {
    match a {
        Some(a) => {
            json!([{ "line": a.lines, "city": a.city, "state": a.state, "postalCode": a.zip }])
        }
        None => Value::Null,
    }
}

fn gender(sex: &str) -> &'static str {
    match sex {
        "F" => "female",
        "M" => "male",
        _ => "unknown",
    }
}

fn patient(id: &str, p: &Person) -> Value {
    json!({
        "resourceType": "Patient",
        "id": id,
        "name": [{ "use": "official", "family": p.last_name, "given": [p.first_name] }],
        "gender": gender(&p.sex),
        "birthDate": p.dob,
        "address": address(&p.address),
    })
}

fn provider(id: &str, p: &Provider) -> Value {
    let mut ids = vec![json!({ "system": crate::ingest::NPI_SYSTEM, "value": p.npi })];
    if let Some(t) = &p.tax_id {
        ids.push(json!({ "system": EIN_SYSTEM, "value": t }));
    }
    match &p.first_name {
        Some(first) => json!({
            "resourceType": "Practitioner",
            "id": id,
            "identifier": ids,
            "name": [{ "family": p.last_or_org_name, "given": [first] }],
            "address": address(&p.address),
        }),
        None => json!({
            "resourceType": "Organization",
            "id": id,
            "identifier": ids,
            "active": true,
            "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov" }] }],
            "name": p.last_or_org_name,
            "address": address(&p.address),
        }),
    }
}

fn payer_org(id: &str, p: &Payer) -> Value {
    json!({
        "resourceType": "Organization",
        "id": id,
        "identifier": [{ "system": PAYER_ID_SYSTEM, "value": p.id }],
        "active": true,
        "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "pay" }] }],
        "name": p.name,
    })
}

fn relationship(code: &str) -> &'static str {
    match code {
        "18" => "self",
        "01" => "spouse",
        "19" => "child",
        _ => "other",
    }
}

fn coverage(
    id: &str,
    s: &Subscriber,
    order: u32,
    payer: &Payer,
    beneficiary: &str,
    subscriber: &str,
    payer_ref: &str,
) -> Value {
    let class = s.group_number.as_ref().map(|g| {
        json!([{ "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "group" }] }, "value": g }])
    });
    json!({
        "resourceType": "Coverage",
        "id": id,
        "status": "active",
        "type": { "coding": [{ "system": FILING_INDICATOR_SYSTEM, "code": payer.filing_indicator }] },
        "subscriber": { "reference": subscriber },
        "subscriberId": s.member_id,
        "beneficiary": { "reference": beneficiary },
        "relationship": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": relationship(&s.relationship) }] },
        "payor": [{ "reference": payer_ref, "display": payer.name }],
        "class": class,
        "order": order,
    })
}

/// ICD-10-CM as FHIR writes it: a dot after the category (`E119` → `E11.9`).
pub fn dotted_icd10(code: &str) -> String {
    let c = code.replace('.', "");
    if c.len() > 3 && c.is_ascii() {
        format!("{}.{}", &c[..3], &c[3..])
    } else {
        c
    }
}

/// CPT or HCPCS by the code's shape: a letter and four digits is HCPCS
/// Level II; five digits, or four digits and F/T/U/M (CPT Category II, III,
/// PLA, MAAA), is CPT.
pub fn procedure_system(code: &str) -> &'static str {
    let b = code.as_bytes();
    if b.len() == 5 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit) {
        HCPCS_SYSTEM
    } else {
        CPT_SYSTEM
    }
}

fn modifier_system(m: &str) -> &'static str {
    if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) {
        CPT_SYSTEM
    } else {
        HCPCS_SYSTEM
    }
}

fn money(cents: i64) -> Value {
    json!({ "value": cents as f64 / 100.0, "currency": "USD" })
}

fn info(seq: &mut u32, system: &str, category: &str, code_system: &str, code: &str) -> Value {
    *seq += 1;
    json!({
        "sequence": *seq,
        "category": { "coding": [{ "system": system, "code": category }] },
        "code": { "coding": [{ "system": code_system, "code": code }] },
    })
}

/// The FHIR R4 `collection` Bundle for a claim (see the module doc).
/// `created` is the Claim's creation dateTime (e.g. `2025-03-01` or
/// `2025-03-01T10:00:00Z`). [`try_claim_bundle`] also checks the result.
pub fn claim_bundle(c: &Claim, created: &str) -> Value {
    let urn = |role: &str| format!("urn:uuid:{}", uuid(&c.id, role));
    let id_of = |role: &str| uuid(&c.id, role);
    let mut entries: Vec<(String, Value)> = Vec::new();
    let subscriber_urn = urn("subscriber");
    let patient_urn = if c.patient.is_some() {
        urn("patient")
    } else {
        subscriber_urn.clone()
    };
    match &c.patient {
        Some(p) => {
            entries.push((patient_urn.clone(), patient(&id_of("patient"), p)));
            entries.push((
                subscriber_urn.clone(),
                patient(&id_of("subscriber"), &c.subscriber.person),
            ));
        }
        None => entries.push((
            subscriber_urn.clone(),
            patient(&id_of("subscriber"), &c.subscriber.person),
        )),
    }
    let billing_urn = urn("billing");
    entries.push((
        billing_urn.clone(),
        provider(&id_of("billing"), &c.billing_provider),
    ));
    let payer_urn = urn("payer");
    entries.push((payer_urn.clone(), payer_org(&id_of("payer"), &c.payer)));
    let order = |r: medledger_claims::model::Responsibility| match r {
        medledger_claims::model::Responsibility::Primary => 1,
        medledger_claims::model::Responsibility::Secondary => 2,
        medledger_claims::model::Responsibility::Tertiary => 3,
    };
    let cov_urn = urn("coverage");
    entries.push((
        cov_urn.clone(),
        coverage(
            &id_of("coverage"),
            &c.subscriber,
            order(c.responsibility),
            &c.payer,
            &patient_urn,
            &subscriber_urn,
            &payer_urn,
        ),
    ));
    let mut insurance = vec![json!({
        "sequence": 1,
        "focal": true,
        "coverage": { "reference": cov_urn },
        "preAuthRef": c.prior_authorization.as_ref().map(|a| vec![a]),
    })];
    for (k, op) in c.other_payers.iter().enumerate() {
        let (pu, cu, su) = (
            urn(&format!("payer{k}")),
            urn(&format!("coverage{k}")),
            urn(&format!("subscriber{k}")),
        );
        entries.push((
            pu.clone(),
            payer_org(&id_of(&format!("payer{k}")), &op.payer),
        ));
        let sub_ref = if op.subscriber.person == c.subscriber.person {
            subscriber_urn.clone()
        } else if c.patient.as_ref() == Some(&op.subscriber.person) {
            patient_urn.clone()
        } else {
            entries.push((
                su.clone(),
                patient(&id_of(&format!("subscriber{k}")), &op.subscriber.person),
            ));
            su
        };
        entries.push((
            cu.clone(),
            coverage(
                &id_of(&format!("coverage{k}")),
                &op.subscriber,
                order(op.responsibility),
                &op.payer,
                &patient_urn,
                &sub_ref,
                &pu,
            ),
        ));
        insurance
            .push(json!({ "sequence": k + 2, "focal": false, "coverage": { "reference": cu } }));
    }
    // care team
    let mut care_team = Vec::new();
    let mut team = |role_name: &str,
                    role: &str,
                    p: &Provider,
                    entries: &mut Vec<(String, Value)>| {
        let u = urn(role_name);
        entries.push((u.clone(), provider(&id_of(role_name), p)));
        care_team.push(json!({
            "sequence": care_team.len() + 1,
            "provider": { "reference": u },
            "role": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": role }] },
            "qualification": p.taxonomy.as_ref().map(|t| json!({ "coding": [{ "system": TAXONOMY_SYSTEM, "code": t }] })),
        }));
        care_team.len()
    };
    let primary = match c.kind {
        ClaimKind::Professional => c
            .rendering_provider
            .as_ref()
            .map(|p| team("rendering", "primary", p, &mut entries)),
        ClaimKind::Institutional => c
            .institutional
            .as_ref()
            .and_then(|i| i.attending.as_ref())
            .map(|p| team("attending", "primary", p, &mut entries)),
    };
    if let Some(p) = &c.referring_provider {
        team("referring", "other", p, &mut entries);
    }
    // supporting info
    let mut seq = 0;
    let mut supporting = vec![info(
        &mut seq,
        SUPPORTING_INFO_SYSTEM,
        "frequency",
        FREQUENCY_SYSTEM,
        c.frequency.code(),
    )];
    if let Some(i) = &c.institutional {
        supporting.push(info(
            &mut seq,
            CARIN_INFO_SYSTEM,
            "typeofbill",
            "https://www.nubc.org/CodeSystem/TypeOfBill",
            &format!("{}{}", i.type_of_bill, c.frequency.code()),
        ));
        if let Some(t) = &i.admission_type {
            supporting.push(info(
                &mut seq,
                CARIN_INFO_SYSTEM,
                "admtype",
                "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit",
                t,
            ));
        }
        if let Some(s) = &i.admission_source {
            supporting.push(info(
                &mut seq,
                CARIN_INFO_SYSTEM,
                "pointoforigin",
                "https://www.nubc.org/CodeSystem/PointOfOrigin",
                s,
            ));
        }
        supporting.push(info(
            &mut seq,
            CARIN_INFO_SYSTEM,
            "discharge-status",
            "https://www.nubc.org/CodeSystem/PatDischargeStatus",
            &i.patient_status,
        ));
        if let Some(d) = &i.admission_date {
            seq += 1;
            supporting.push(json!({
                "sequence": seq,
                "category": { "coding": [{ "system": CARIN_INFO_SYSTEM, "code": "admissionperiod" }] },
                "timingPeriod": { "start": d },
            }));
        }
        if let Some(d) = &i.drg {
            supporting.push(info(
                &mut seq,
                CARIN_INFO_SYSTEM,
                "drg",
                "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software",
                d,
            ));
        }
    }
    let diagnosis: Vec<Value> = c
        .diagnoses
        .iter()
        .enumerate()
        .map(|(k, d)| {
            json!({
                "sequence": k + 1,
                "diagnosisCodeableConcept": { "coding": [{ "system": ICD10CM_SYSTEM, "code": dotted_icd10(&d.code) }] },
                "type": (k == 0).then(|| json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "code": "principal" }] }])),
                "onAdmission": d.poa.as_ref().map(|p| json!({ "coding": [{ "system": POA_SYSTEM, "code": p }] })),
            })
        })
        .collect();
    let items: Vec<Value> = c
        .lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let product = match &l.procedure {
                Some(p) => json!({ "coding": [{ "system": procedure_system(p), "code": p }] }),
                None => json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-applicable" }] }),
            };
            let pos = match c.kind {
                ClaimKind::Professional => l.place_of_service.as_ref().or(c.place_of_service.as_ref()),
                ClaimKind::Institutional => None,
            };
            let (date, period) = match &l.date_to {
                Some(to) if to != &l.date_from => (None, Some(json!({ "start": l.date_from, "end": to }))),
                _ => (Some(&l.date_from), None),
            };
            let unit_cents = if l.units > 0.0 { (l.charge_cents as f64 / l.units).round() as i64 } else { l.charge_cents };
            json!({
                "sequence": k + 1,
                "careTeamSequence": primary.map(|p| vec![p]),
                "diagnosisSequence": l.diagnosis_pointers,
                "revenue": l.revenue_code.as_ref().map(|r| json!({ "coding": [{ "system": REVENUE_SYSTEM, "code": r }] })),
                "productOrService": product,
                "modifier": l.modifiers.iter().map(|m| json!({ "coding": [{ "system": modifier_system(m), "code": m }] })).collect::<Vec<_>>(),
                "servicedDate": date,
                "servicedPeriod": period,
                "locationCodeableConcept": pos.map(|p| json!({ "coding": [{ "system": POS_SYSTEM, "code": p }] })),
                "quantity": { "value": l.units },
                "unitPrice": money(unit_cents),
                "net": money(l.charge_cents),
                "encounter": c.encounter.map(|e| json!([{ "type": "Encounter", "identifier": { "system": ENCOUNTER_SYSTEM, "value": e.to_string() } }])),
            })
        })
        .collect();
    let billable = match (&c.institutional, c.service_period()) {
        (Some(i), _) => Some(json!({ "start": i.statement_from, "end": i.statement_to })),
        (None, Some((from, to))) => Some(json!({ "start": from, "end": to })),
        (None, None) => None,
    };
    let kind = match c.kind {
        ClaimKind::Professional => "professional",
        ClaimKind::Institutional => "institutional",
    };
    let claim_urn = urn("claim");
    let claim = json!({
        "resourceType": "Claim",
        "id": id_of("claim"),
        "identifier": [{ "system": CONTROL_NUMBER_SYSTEM, "value": c.id }],
        "status": "active",
        "type": { "coding": [{ "system": CLAIM_TYPE_SYSTEM, "code": kind }] },
        "use": "claim",
        "patient": { "reference": patient_urn },
        "billablePeriod": billable,
        "created": created,
        "insurer": { "reference": payer_urn, "display": c.payer.name },
        "provider": { "reference": billing_urn },
        "priority": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal" }] },
        "related": c.original_reference.as_ref().map(|r| json!([{
            "relationship": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship", "code": "prior" }] },
            "reference": { "value": r },
        }])),
        "careTeam": care_team,
        "supportingInfo": supporting,
        "diagnosis": diagnosis,
        "insurance": insurance,
        "item": items,
        "total": money(c.total_charge_cents()),
    });
    entries.insert(0, (claim_urn, claim));
    let mut b = json!({
        "resourceType": "Bundle",
        "id": id_of("bundle"),
        "type": "collection",
        "timestamp": if is_fhir_datetime(created) && created.len() > 10 { Value::from(created) } else { Value::Null },
        "entry": entries.into_iter().map(|(u, r)| json!({ "fullUrl": u, "resource": r })).collect::<Vec<_>>(),
    });
    crate::prune(&mut b);
    b
}

/// [`claim_bundle`], then parsed back and validated with this crate's own
/// parser (an error names the element at fault, e.g. a bad `created`).
pub fn try_claim_bundle(c: &Claim, created: &str) -> Result<Value, crate::FhirError> {
    let v = claim_bundle(c, created);
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    crate::parse_bundle(&bytes)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(dotted_icd10("E119"), "E11.9");
        assert_eq!(dotted_icd10("I10"), "I10");
        assert_eq!(dotted_icd10("S72.001A"), "S72.001A");
        assert_eq!(procedure_system("99213"), CPT_SYSTEM);
        assert_eq!(procedure_system("0001U"), CPT_SYSTEM);
        assert_eq!(procedure_system("G0439"), HCPCS_SYSTEM);
        let u = uuid("C1", "claim");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        assert_ne!(u, uuid("C1", "patient"));
        assert_eq!(u, uuid("C1", "claim"));
    }
}
