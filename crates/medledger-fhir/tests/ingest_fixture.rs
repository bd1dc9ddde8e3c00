//! Ingest of a synthetic bundle with notes in every supported (and a few
//! unsupported) forms.

mod common;

use medledger_fhir::ingest::ingest_bundle;
use medledger_fhir::parse_bundle;

#[test]
fn notes_settings_payer_and_skips() {
    let b = parse_bundle(&common::fixture("notes-bundle.json")).expect("parse");
    let ing = ingest_bundle(&b).expect("ingest");
    let r = &ing.report;
    assert_eq!(r.encounters, 3);
    assert_eq!(r.notes, 3);
    assert_eq!(r.conditions, 1);
    assert_eq!(r.procedures, 1);
    assert_eq!(r.observations, 2);
    assert_eq!(r.encounters_without_notes, 0);
    assert_eq!(r.resources["DocumentReference"], 6);
    assert_eq!(r.resources["MedicationRequest"], 1);

    let amb = &ing.encounters[0];
    assert_eq!(amb.source_id, "enc-amb");
    assert_eq!(amb.dos.as_deref(), Some("2024-03-05"));
    assert_eq!(
        (amb.setting.as_str(), amb.em_setting.as_str()),
        ("outpatient", "office")
    );
    assert_eq!(amb.patient.name, "Alex J Testperson");
    assert_eq!(amb.patient.dob.as_deref(), Some("1970-01-02"));
    assert_eq!(amb.patient.sex, "F");
    let payer = amb.payer.as_ref().unwrap();
    assert_eq!(payer.name.as_deref(), Some("Synthetic Health Plan"));
    assert_eq!(payer.identifier.as_deref(), Some("SYNPAY"));
    assert_eq!(payer.source, "Coverage");
    assert_eq!(
        amb.practitioner.as_ref().unwrap().npi.as_deref(),
        Some("1234567893")
    );
    assert_eq!(
        amb.practitioner.as_ref().unwrap().name.as_deref(),
        Some("Casey Example")
    );
    assert_eq!(
        amb.organization.as_ref().unwrap().npi.as_deref(),
        Some("1245319599")
    );
    assert_eq!(amb.notes.len(), 1);
    assert_eq!(amb.notes[0].kind, "Progress note");
    assert_eq!(amb.notes[0].loinc.as_deref(), Some("11506-3"));
    assert_eq!(
        amb.notes[0].text,
        "Assessment: type 2 diabetes mellitus without complications. Café visit."
    );
    let dm = &amb.conditions[0];
    // ICD-10-CM preferred over SNOMED CT when both are given
    assert_eq!(
        dm.system.as_deref(),
        Some("http://hl7.org/fhir/sid/icd-10-cm")
    );
    assert_eq!(dm.code.as_deref(), Some("E11.9"));
    assert_eq!(dm.codings.len(), 2);
    let a1c = amb
        .observations
        .iter()
        .find(|o| o.code.as_deref() == Some("4548-4"))
        .unwrap();
    assert_eq!(
        (a1c.value.as_deref(), a1c.unit.as_deref()),
        (Some("7.2"), Some("%"))
    );
    let bp = amb
        .observations
        .iter()
        .find(|o| o.code.as_deref() == Some("85354-9"))
        .unwrap();
    assert_eq!(bp.components.len(), 2);
    assert_eq!(bp.components[0].value_number, Some(142.0));

    let imp = &ing.encounters[1];
    assert_eq!(
        (imp.setting.as_str(), imp.em_setting.as_str()),
        ("inpatient", "inpatient")
    );
    assert_eq!(
        imp.notes[0].text, "Discharged home. Résumé of stay.",
        "ISO-8859-1 honoured"
    );
    assert_eq!(imp.notes[0].kind, "Discharge summary");

    let emer = &ing.encounters[2];
    assert_eq!(
        (emer.setting.as_str(), emer.em_setting.as_str()),
        ("outpatient", "ed")
    );
    assert_eq!(emer.dos, None, "period.start 2024-05 has no day");
    assert_eq!(emer.notes[0].content_type, "text/html");
    assert_eq!(emer.notes[0].text, "Chest pain & dyspnea.\n\nECG normal");
    assert_eq!(
        emer.procedures[0].performed.as_deref(),
        Some("2024-05-01T10:00:00Z")
    );

    let skipped: Vec<(&str, &str)> = r
        .skipped
        .iter()
        .map(|s| (s.id.as_deref().unwrap(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("doc-url", "content[0]: attachment by url is not fetched"),
            (
                "doc-unlinked",
                "no context.encounter linking it to an Encounter of the bundle"
            ),
            (
                "doc-bad-utf8",
                "content[0].attachment: bytes are not valid in the declared charset"
            ),
            ("cond-htn", "no encounter (patient-level condition)"),
        ]
    );
    assert!(r.warnings.iter().any(|w| w == "Bundle.entry[7].resource(Encounter).period.start: absent or not a complete date; no date of service"), "{:?}", r.warnings);
    // nothing of the notes or the patient leaks into the report
    let report = serde_json::to_string(r).unwrap();
    for secret in ["Testperson", "1970-01-02", "diabetes", "Chest", "Résumé"] {
        assert!(!report.contains(secret), "{secret} in report");
    }
}
