//! Our claims → FHIR Claim bundles that pass our validator and round-trip
//! through our parser.

use medledger_claims::model::{Claim, ClaimKind};
use medledger_fhir::claim::{CPT_SYSTEM, HCPCS_SYSTEM, POS_SYSTEM, claim_bundle, try_claim_bundle};
use medledger_fhir::{Resource, parse_bundle};
use std::path::Path;

const CREATED: &str = "2026-06-01T10:00:00Z";

fn examples() -> Vec<(String, Claim)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/claims");
    let mut v: Vec<(String, Claim)> = std::fs::read_dir(&dir)
        .expect("examples/claims")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                Claim::from_json(&text).expect("claim json"),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn fhir_claim(b: &medledger_fhir::Bundle) -> &medledger_fhir::resources::Claim {
    match &b.entry[0].resource {
        Some(Resource::Claim(c)) => c,
        other => panic!("first entry is not a Claim: {other:?}"),
    }
}

#[test]
fn every_example_claim_emits_valid_fhir_and_round_trips() {
    let all = examples();
    assert!(all.len() >= 20);
    let mut checked = 0;
    for (name, c) in &all {
        if !c.validate().is_empty() {
            continue; // structurally broken examples are refused before emit
        }
        checked += 1;
        let v = try_claim_bundle(c, CREATED).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bytes = serde_json::to_vec(&v).unwrap();
        let b = parse_bundle(&bytes).unwrap();
        // emit → parse → serialise is the identity
        assert_eq!(b.to_json(), v, "{name}");
        let fc = fhir_claim(&b);
        assert_eq!(fc.identifier[0].value.as_deref(), Some(c.id.as_str()));
        assert_eq!(fc.status, "active");
        assert_eq!(fc.use_, "claim");
        assert_eq!(fc.priority.first_code(), Some("normal"));
        let kind = match c.kind {
            ClaimKind::Professional => "professional",
            ClaimKind::Institutional => "institutional",
        };
        assert_eq!(
            fc.type_
                .code_of("http://terminology.hl7.org/CodeSystem/claim-type"),
            Some(kind)
        );
        let dx: Vec<String> = fc
            .diagnosis
            .iter()
            .map(|d| {
                d.diagnosis_codeable_concept
                    .as_ref()
                    .unwrap()
                    .code_of("http://hl7.org/fhir/sid/icd-10-cm")
                    .unwrap()
                    .replace('.', "")
            })
            .collect();
        assert_eq!(
            dx,
            c.diagnoses
                .iter()
                .map(|d| d.code.clone())
                .collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(fc.item.len(), c.lines.len());
        for (it, l) in fc.item.iter().zip(&c.lines) {
            assert_eq!(it.net.as_ref().unwrap().cents(), Some(l.charge_cents));
            assert_eq!(
                it.diagnosis_sequence,
                l.diagnosis_pointers
                    .iter()
                    .map(|p| u32::from(*p))
                    .collect::<Vec<_>>()
            );
            if let Some(p) = &l.procedure {
                assert!(
                    it.product_or_service.code_of(CPT_SYSTEM) == Some(p)
                        || it.product_or_service.code_of(HCPCS_SYSTEM) == Some(p),
                    "{name}"
                );
            }
            assert_eq!(it.modifier.len(), l.modifiers.len());
            assert_eq!(it.quantity.as_ref().unwrap().value, Some(l.units));
        }
        assert_eq!(
            fc.total.as_ref().unwrap().cents(),
            Some(c.total_charge_cents())
        );
        assert_eq!(fc.insurance.len(), 1 + c.other_payers.len());
    }
    assert!(checked >= 15, "only {checked} valid examples");
}

#[test]
fn office_visit_exact_shape() {
    let (_, c) = examples()
        .into_iter()
        .find(|(n, _)| n == "office-visit-injection-mod25.json")
        .expect("example");
    let v = claim_bundle(&c, "2026-06-01");
    assert_eq!(v["type"], "collection");
    let types: Vec<&str> = v["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types[0], "Claim");
    for t in ["Patient", "Organization", "Coverage"] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let claim = &v["entry"][0]["resource"];
    assert_eq!(claim["created"], "2026-06-01");
    assert!(v.get("timestamp").is_none(), "a date is not an instant");
    let item = &claim["item"][0];
    assert_eq!(item["sequence"], 1);
    assert_eq!(
        item["locationCodeableConcept"]["coding"][0]["system"],
        POS_SYSTEM
    );
    assert!(
        claim["item"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["modifier"][0]["coding"][0]["code"] == "25")
    );
    // every reference is bundle-local
    for r in ["patient", "provider", "insurer"] {
        assert!(
            claim[r]["reference"]
                .as_str()
                .unwrap()
                .starts_with("urn:uuid:"),
            "{r}"
        );
    }
    assert_eq!(
        claim["diagnosis"][0]["type"][0]["coding"][0]["code"],
        "principal"
    );
    // deterministic
    assert_eq!(v, claim_bundle(&c, "2026-06-01"));
}

#[test]
fn institutional_carries_type_of_bill_and_revenue() {
    let (_, c) = examples()
        .into_iter()
        .find(|(n, _)| n == "inpatient-11x.json")
        .expect("example");
    let v = try_claim_bundle(&c, CREATED).unwrap();
    let claim = &v["entry"][0]["resource"];
    let info = claim["supportingInfo"].as_array().unwrap();
    let tob = info
        .iter()
        .find(|i| i["category"]["coding"][0]["code"] == "typeofbill")
        .unwrap();
    assert_eq!(
        tob["code"]["coding"][0]["code"],
        format!("{}1", c.institutional.as_ref().unwrap().type_of_bill)
    );
    assert_eq!(claim["item"][0]["revenue"]["coding"][0]["code"], "0120");
    assert_eq!(claim["item"][0]["servicedPeriod"]["end"], "2026-05-12");
    assert_eq!(
        claim["diagnosis"][0]["onAdmission"]["coding"][0]["code"],
        "Y"
    );
    assert_eq!(
        claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"],
        "I21.4"
    );
    assert_eq!(
        claim["billablePeriod"]["start"],
        c.institutional.as_ref().unwrap().statement_from.as_str()
    );
}

#[test]
fn a_bad_created_is_refused_with_its_location() {
    let (_, c) = examples()
        .into_iter()
        .find(|(n, _)| n == "office-visit-established.json")
        .expect("example");
    let e = try_claim_bundle(&c, "yesterday").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Bundle.entry[0].resource(Claim).created: not a FHIR dateTime"
    );
}
