//! Every Synthea R4 bundle of the shared data loads, validates and ingests,
//! with the counts and values the files hold.

mod common;

use medledger_fhir::ingest::ingest_bundle;
use medledger_fhir::{Resource, parse_bundle};

#[test]
fn every_synthea_bundle_ingests_with_real_counts() {
    let all = common::synthea();
    assert_eq!(all.len(), 3, "three Synthea bundles in the shared data");
    // (file prefix, entries, encounters, conditions, procedures, observations, claims, eobs)
    let expected = [
        ("Antonio_Castellanos", 83, 6, 3, 2, 44, 8, 6),
        ("Bill_Reinger", 104, 12, 5, 2, 42, 15, 12),
        ("Buster_Hoeger", 66, 6, 3, 1, 33, 7, 6),
    ];
    let mut totals = (0, 0, 0);
    for ((name, bytes), exp) in all.iter().zip(expected) {
        assert!(name.starts_with(exp.0), "{name}");
        let b = parse_bundle(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(b.type_, "transaction");
        assert_eq!(b.entry.len(), exp.1, "{name} entries");
        let ing = ingest_bundle(&b).expect("ingest");
        let r = &ing.report;
        assert_eq!(r.encounters, exp.2, "{name} encounters");
        assert_eq!(r.conditions, exp.3, "{name} conditions");
        assert_eq!(r.procedures, exp.4, "{name} procedures");
        assert_eq!(r.observations, exp.5, "{name} observations");
        assert_eq!(r.resources["Claim"], exp.6, "{name} claims");
        assert_eq!(r.resources["ExplanationOfBenefit"], exp.7, "{name} eobs");
        // 2019-era Synthea bundles carry no DocumentReference: every encounter comes out without notes
        assert_eq!(r.notes, 0);
        assert_eq!(r.encounters_without_notes, exp.2);
        assert!(!r.resources.contains_key("DocumentReference"));
        assert_eq!(r.resources.values().sum::<usize>(), exp.1);
        assert!(r.skipped.is_empty(), "{name}: {:?}", r.skipped);
        for e in &ing.encounters {
            assert!(
                e.dos.as_deref().is_some_and(|d| d.len() == 10),
                "{name} dos"
            );
            assert!(e.payer.is_some(), "{name} payer of {}", e.source_id);
            assert!(e.practitioner.is_some() && e.organization.is_some());
            assert_eq!(e.setting, "outpatient");
        }
        totals.0 += r.encounters;
        totals.1 += r.conditions;
        totals.2 += r.observations;
    }
    assert_eq!(totals, (24, 11, 119));
}

#[test]
fn antonio_exact_values() {
    let all = common::synthea();
    let (_, bytes) = all
        .iter()
        .find(|(n, _)| n.starts_with("Antonio"))
        .expect("bundle");
    let b = parse_bundle(bytes).expect("parse");
    let ing = ingest_bundle(&b).expect("ingest");
    let e = &ing.encounters[0];
    assert_eq!(e.source_id, "2df2244d-d1fd-409e-8729-d0a5892cbd99");
    assert_eq!(e.dos.as_deref(), Some("2009-08-01"));
    assert_eq!(e.class_code.as_deref(), Some("AMB"));
    assert_eq!(
        (e.setting.as_str(), e.em_setting.as_str()),
        ("outpatient", "office")
    );
    assert_eq!(
        e.encounter_type.as_deref(),
        Some("Encounter for check up (procedure)")
    );
    assert_eq!(e.patient.name, "Antonio Castellanos");
    assert_eq!(e.patient.dob.as_deref(), Some("1991-06-08"));
    assert_eq!(e.patient.sex, "M");
    let payer = e.payer.as_ref().expect("payer");
    assert_eq!(
        (payer.name.as_deref(), payer.source.as_str()),
        (Some("private"), "Claim.insurance")
    );
    let pr = e.practitioner.as_ref().expect("practitioner");
    assert_eq!(
        (pr.npi.as_deref(), pr.name.as_deref()),
        (Some("100"), Some("Isaac Upton"))
    );
    assert_eq!(
        e.organization.as_ref().and_then(|o| o.name.as_deref()),
        Some("SAINT ANNE'S HOSPITAL")
    );
    assert_eq!(e.conditions.len(), 1);
    let c = &e.conditions[0];
    assert_eq!(c.system.as_deref(), Some("http://snomed.info/sct"));
    assert_eq!(
        (c.code.as_deref(), c.display.as_deref()),
        (Some("38341003"), Some("Hypertension"))
    );
    assert_eq!(c.clinical_status.as_deref(), Some("active"));
    assert_eq!(c.verification_status.as_deref(), Some("confirmed"));
    assert_eq!(c.onset.as_deref(), Some("2009-08-01T04:44:29+00:00"));
    // the emergency encounter is outpatient / ed
    let emer = ing
        .encounters
        .iter()
        .find(|e| e.source_id == "2f3a2bf4-7ee8-4c42-9f85-49dbf9822f04")
        .expect("EMER");
    assert_eq!(
        (emer.setting.as_str(), emer.em_setting.as_str()),
        ("outpatient", "ed")
    );
    assert_eq!(emer.procedures.len(), 1);
    assert_eq!(emer.procedures[0].code.as_deref(), Some("288086009"));
    // observations: a body height with its unit; blood pressure as components
    let obs: Vec<_> = ing
        .encounters
        .iter()
        .flat_map(|e| &e.observations)
        .collect();
    let h = obs
        .iter()
        .find(|o| o.source_id.as_deref() == Some("e8e35cf6-32d8-428d-9172-6834d97acd41"))
        .expect("height");
    assert_eq!(
        (h.code.as_deref(), h.unit.as_deref()),
        (Some("8302-2"), Some("cm"))
    );
    assert!((h.value_number.unwrap() - 180.63849467821325).abs() < 1e-9);
    assert_eq!(h.category.as_deref(), Some("vital-signs"));
    assert!(
        obs.iter()
            .any(|o| o.components.len() == 2 && o.value.is_none())
    );
    // references resolve: the Claim's patient is the Patient
    let claim = b.resources().find_map(|(_, r)| match r {
        Resource::Claim(c) => Some(c),
        _ => None,
    });
    let patient = b.resolve(claim.unwrap().patient.reference.as_deref().unwrap());
    assert!(matches!(patient, Some(Resource::Patient(_))));
}

#[test]
fn synthea_round_trips_through_our_model() {
    for (name, bytes) in common::synthea() {
        let b = parse_bundle(&bytes).expect("parse");
        let again = serde_json::to_vec(&b.to_json()).unwrap();
        let b2 = parse_bundle(&again).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(b.entry, b2.entry, "{name}");
    }
}

#[test]
fn synthea_eobs_read_as_remittances() {
    let all = common::synthea();
    let mut n = 0;
    for (name, bytes) in &all {
        let r =
            medledger_fhir::remit::read_remittance(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        n += r.claims.len();
        for c in &r.claims {
            assert_eq!(c.resource_type, "ExplanationOfBenefit");
            assert!(
                c.claim_identifier.is_some(),
                "{name}: EOB claim reference resolves to a bundle Claim"
            );
            assert!(c.total_submitted_cents.is_some());
        }
        let p = r.to_posting(None);
        assert_eq!(p.claims.len(), r.claims.len());
    }
    assert_eq!(n, 24);
}

#[test]
fn hl7_examples_parse() {
    let claims = common::hl7("Claim-");
    assert_eq!(claims.len(), 17);
    for (name, bytes) in &claims {
        let r = medledger_fhir::parse_resource(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(matches!(r, Resource::Claim(_)), "{name}");
    }
    let mut remits = common::hl7("ClaimResponse-");
    remits.extend(common::hl7("ExplanationOfBenefit-"));
    assert_eq!(remits.len(), 7);
    for (name, bytes) in &remits {
        let r =
            medledger_fhir::remit::read_remittance(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.claims.len(), 1, "{name}");
    }
    // R3500: benefit 90.47, payment 100.47, submitted 135.57, eligible/copay adjudications on item 1
    let (_, r3500) = remits
        .iter()
        .find(|(n, _)| n == "ClaimResponse-R3500.json")
        .expect("R3500");
    let r = medledger_fhir::remit::read_remittance(r3500).unwrap();
    let c = &r.claims[0];
    assert_eq!(
        (
            c.total_submitted_cents,
            c.total_benefit_cents,
            c.payment_amount_cents
        ),
        (Some(13557), Some(9047), Some(10047))
    );
    assert_eq!(c.payment_date.as_deref(), Some("2014-08-31"));
    assert_eq!(c.payment_identifier.as_deref(), Some("201408-2-1569478"));
    assert_eq!(c.claim_identifier.as_deref(), Some("15476332402"));
    assert_eq!(
        c.items[0]
            .adjudications
            .iter()
            .map(|a| a.category.as_str())
            .collect::<Vec<_>>(),
        ["eligible", "copay", "eligpercent", "benefit"]
    );
    assert!(!c.denied);
}
