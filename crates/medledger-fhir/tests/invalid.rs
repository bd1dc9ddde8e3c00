//! Invalid inputs fail with the exact location and a PHI-free message.

mod common;

use medledger_fhir::{FhirError, parse_bundle};

fn err(name: &str) -> FhirError {
    let bytes = common::fixture(&format!("invalid/{name}"));
    let e = parse_bundle(&bytes).expect_err(name);
    // no value of the input in the message
    let text = e.to_string();
    for secret in ["1980-02-30", "Doe, Jane", "999999999999", "Patinet"] {
        assert!(!text.contains(secret), "{name}: {text}");
    }
    e
}

#[test]
fn missing_required_element() {
    let e = err("missing-required.json");
    assert_eq!(e.location(), Some("Bundle.entry[2].resource(Claim).status"));
    assert_eq!(
        e.to_string(),
        "Bundle.entry[2].resource(Claim).status: required element missing"
    );
}

#[test]
fn missing_required_class() {
    let e = err("encounter-no-class.json");
    assert_eq!(
        e.to_string(),
        "Bundle.entry[1].resource(Encounter).class: required element missing"
    );
}

#[test]
fn empty_required_array() {
    let e = err("missing-insurance.json");
    assert_eq!(
        e.location(),
        Some("Bundle.entry[2].resource(Claim).insurance")
    );
    assert_eq!(e.message(), "required element missing (at least one)");
}

#[test]
fn wrong_json_type() {
    let e = err("wrong-type.json");
    assert_eq!(e.location(), Some("Bundle.entry[0].resource(Patient).name"));
    assert_eq!(
        e.message(),
        "wrong JSON type: expected a sequence, found string"
    );
}

#[test]
fn bad_date() {
    let e = err("bad-date.json");
    assert_eq!(
        e.to_string(),
        "Bundle.entry[0].resource(Patient).birthDate: not a FHIR date"
    );
}

#[test]
fn dangling_reference() {
    let e = err("dangling-reference.json");
    assert_eq!(
        e.location(),
        Some("Bundle.entry[1].resource(Encounter).subject")
    );
    assert_eq!(e.message(), "reference does not resolve inside the bundle");
}

#[test]
fn unknown_resource_type() {
    let e = err("unknown-resource-type.json");
    assert_eq!(
        e,
        FhirError::UnknownResourceType {
            location: "Bundle.entry[2].resource.resourceType".into()
        }
    );
}

#[test]
fn not_json() {
    let e = err("not-json.json");
    assert!(matches!(e, FhirError::NotJson { line: 4, .. }), "{e:?}");
    let e = parse_bundle(b"\x00\x01garbage").unwrap_err();
    assert!(
        matches!(
            e,
            FhirError::NotJson {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(parse_bundle(b""), Err(FhirError::NotJson { .. })));
}

#[test]
fn not_a_bundle() {
    let e = parse_bundle(br#"{"resourceType":"Patient"}"#).unwrap_err();
    assert_eq!(
        e,
        FhirError::WrongResource {
            expected: "Bundle".into(),
            found: "Patient".into()
        }
    );
    let e = parse_bundle(br#"{"resourceType":"Bundle"}"#).unwrap_err();
    assert_eq!(e.to_string(), "Bundle.type: required element missing");
    let e = parse_bundle(br#"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Basic"}}]}"#).unwrap_err();
    assert_eq!(e.location(), Some("Bundle.entry[0].request"));
    let e = parse_bundle(br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{},"valueQuantity":{"value":"7.2"}}}]}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Bundle.entry[0].resource(Observation).valueQuantity.value: wrong JSON type: expected f64, found string"
    );
    let e = parse_bundle(br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Encounter","status":"finished","class":{},"period":{"start":"2024-01-01T10:00"}}}]}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Bundle.entry[0].resource(Encounter).period.start: not a FHIR dateTime"
    );
    let e = parse_bundle(br#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Basic"}},{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Basic"}}]}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Bundle.entry[1].fullUrl: duplicate fullUrl (1 problem(s) in all)"
    );
}

#[test]
fn single_resource_locations() {
    let e = medledger_fhir::parse_resource(br#"{"resourceType":"Claim","status":"active"}"#)
        .unwrap_err();
    assert_eq!(e.location(), Some("Claim.type"));
    let e =
        medledger_fhir::parse_resource(br#"{"resourceType":"Patient","gender":"f"}"#).unwrap_err();
    assert_eq!(e.location(), Some("Patient.gender"));
}
