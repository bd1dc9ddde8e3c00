//! Unit tests: the date filter, request errors, time and age reading,
//! selection details, the CDI query and serialization.

use jiff::civil::date;

use super::*;

fn engine() -> EmEngine {
    EmEngine::builtin().unwrap()
}

fn est(dos: Date) -> EmRequest {
    EmRequest::office(PatientStatus::Established, dos)
}

const SIMPLE: &str =
    "Assessment and Plan:\nHypertension, controlled. Refill lisinopril 10 mg daily.\n";

fn minutes(note: &str) -> Option<u32> {
    let e = engine();
    let r = e.level(note, &est(date(2026, 3, 2))).unwrap();
    r.time.map(|t| t.minutes)
}

#[test]
fn builtin_rules_load_with_their_version() {
    let e = engine();
    assert_eq!(e.rules_version(), "2026.1");
    assert!(format!("{e:?}").contains("em.toml"));
}

#[test]
fn office_before_2021_is_an_input_error() {
    let err = engine()
        .level(SIMPLE, &est(date(2020, 12, 31)))
        .unwrap_err();
    let Error::Input { what, message } = &err else {
        panic!("{err}");
    };
    assert_eq!(what, "date_of_service");
    assert!(
        message.contains("2021") && message.contains("do not apply"),
        "{message}"
    );
    assert!(engine().level(SIMPLE, &est(date(2021, 1, 1))).is_ok());
}

#[test]
fn hospital_and_ed_before_2023_are_input_errors() {
    for setting in [Setting::Inpatient, Setting::Observation, Setting::Ed] {
        let mut req = est(date(2022, 12, 31));
        req.setting = setting;
        req.hospital_visit = setting.is_hospital().then_some(HospitalVisit::Subsequent);
        let err = engine().level(SIMPLE, &req).unwrap_err();
        assert!(
            matches!(&err, Error::Input { message, .. } if message.contains("2023")),
            "{err}"
        );
    }
}

#[test]
fn office_time_rules_follow_the_date_of_service() {
    let note = "Assessment: Hypertension, controlled. Refill lisinopril.\nTotal time: 62 minutes.";
    let r2022 = engine().level(note, &est(date(2022, 5, 1))).unwrap();
    let r2024 = engine().level(note, &est(date(2024, 5, 1))).unwrap();
    assert_eq!(r2022.code, "99215");
    assert!(r2022.rules.iter().any(|r| r == "em.office.2021.est.99215"));
    assert!(r2024.rules.iter().any(|r| r == "em.office.2024.est.99215"));
    // 62 minutes is one 99417 unit under both (first unit at 55).
    assert_eq!(r2022.additional[0].code, "99417");
    assert_eq!(r2024.additional[0].units, 1);
}

#[test]
fn empty_note_is_an_input_error() {
    assert!(matches!(
        engine().level("  \n ", &est(date(2026, 1, 5))),
        Err(Error::Input { .. })
    ));
}

#[test]
fn preventive_needs_an_age() {
    let mut req = est(date(2026, 1, 5));
    req.preventive = Some(true);
    let err = engine()
        .level("Annual physical. Feeling well.", &req)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Input { what, .. } if what == "patient_age_years"),
        "{err}"
    );
    req.patient_age_years = Some(30);
    assert_eq!(
        engine().level("Annual physical.", &req).unwrap().code,
        "99395"
    );
}

#[test]
fn preventive_outside_the_office_is_refused_or_ignored() {
    let mut req = est(date(2026, 1, 5));
    req.setting = Setting::Ed;
    req.preventive = Some(true);
    assert!(engine().level("Annual physical.", &req).is_err());
    req.preventive = None;
    let r = engine()
        .level("Annual physical.\nImpression: Ankle sprain.", &req)
        .unwrap();
    assert!(!r.preventive);
    assert!(r.warnings.iter().any(|w| w.contains("office services")));
}

#[test]
fn preventive_bands_at_their_edges() {
    let e = engine();
    for (age, new, est) in [
        (0, "99381", "99391"),
        (1, "99382", "99392"),
        (4, "99382", "99392"),
        (5, "99383", "99393"),
        (11, "99383", "99393"),
        (12, "99384", "99394"),
        (17, "99384", "99394"),
        (18, "99385", "99395"),
        (39, "99385", "99395"),
        (40, "99386", "99396"),
        (64, "99386", "99396"),
        (65, "99387", "99397"),
        (101, "99387", "99397"),
    ] {
        for (patient, want) in [(PatientStatus::New, new), (PatientStatus::Established, est)] {
            let mut req = EmRequest::office(patient, date(2026, 1, 5));
            req.patient_age_years = Some(age);
            let r = e.level("Well visit. No concerns.", &req).unwrap();
            assert_eq!(r.code, want, "age {age}");
            assert_eq!(r.basis, Basis::Preventive);
        }
    }
}

#[test]
fn time_statements_are_read_with_evidence() {
    assert_eq!(
        minutes("Plan: rest.\nI spent 40 min with the patient."),
        Some(40)
    );
    assert_eq!(minutes("Plan: rest.\ntime: 1 hour 5 minutes"), Some(65));
    assert_eq!(
        minutes("Plan: rest.\nTotal time 1 hour and 10 minutes today."),
        Some(70)
    );
    assert_eq!(minutes("Plan: rest.\nTotal time: 1.5 hours."), Some(90));
    assert_eq!(
        minutes("Plan: rest.\nI spent an hour on the date of service."),
        Some(60)
    );
    assert_eq!(
        minutes("Plan: rest.\n45 minutes were spent counseling."),
        Some(45)
    );
    assert_eq!(
        minutes("Plan: rest.\nI spent more than 30 minutes on discharge."),
        Some(31)
    );
    let e = engine();
    let note = "Plan: rest.\nTotal time spent on the date of the encounter: 45 minutes.";
    let r = e.level(note, &est(date(2026, 3, 2))).unwrap();
    let t = r.time.unwrap();
    let ev = t.evidence.unwrap();
    assert_eq!(
        ev.text,
        "Total time spent on the date of the encounter: 45 minutes"
    );
    assert_eq!(t.source, TimeSource::Note);
    assert_eq!(t.supports.as_deref(), Some("99215"));
}

#[test]
fn durations_that_are_not_practitioner_time_are_ignored() {
    assert_eq!(
        minutes("Assessment: chest pain.\nSymptoms for 30 minutes."),
        None
    );
    assert_eq!(
        minutes("Plan: rest.\nHe ran 20 minutes before the pain began."),
        None
    );
    assert_eq!(minutes("Plan: rest.\nPain started 30 minutes ago."), None);
    assert_eq!(
        minutes("Plan: rest.\nShe spent 3 hours waiting in the ED."),
        None
    );
    assert_eq!(
        minutes("HPI: I spent 40 minutes? no, pain lasted 40 minutes."),
        None
    );
    // The time of the request wins over the note.
    let mut req = est(date(2026, 3, 2));
    req.time_minutes = Some(25);
    let r = engine()
        .level("Plan: rest.\nTotal time: 45 minutes.", &req)
        .unwrap();
    assert_eq!(
        r.time.as_ref().map(|t| (t.minutes, t.source)),
        Some((25, TimeSource::Request))
    );
}

#[test]
fn ages_are_read_from_the_note() {
    let e = engine();
    let mut req = EmRequest::office(PatientStatus::New, date(2026, 1, 5));
    req.preventive = Some(true);
    for (note, code) in [
        ("45-year-old for annual physical.", "99386"),
        ("45 yo here for a physical.", "99386"),
        ("Well child, 3 y/o boy.", "99382"),
        ("9-month-old well baby visit.", "99381"),
        ("18 months old, well child visit.", "99382"),
        ("2-week-old newborn visit.", "99381"),
        ("Age: 70. Annual exam.", "99387"),
    ] {
        let r = e.level(note, &req).unwrap();
        assert_eq!(r.code, code, "{note}");
        let age = r.age.unwrap();
        assert_eq!(age.source, TimeSource::Note);
        assert!(age.evidence.is_some());
    }
}

#[test]
fn hospital_visit_is_read_from_the_note_when_not_given() {
    let e = engine();
    let mut req = est(date(2026, 4, 1));
    req.setting = Setting::Inpatient;
    let r = e
        .level(
            "DISCHARGE SUMMARY\nPlan: home today.\nDischarge time: 40 minutes.",
            &req,
        )
        .unwrap();
    assert_eq!(
        (r.hospital_visit, r.code.as_str()),
        (Some(HospitalVisit::Discharge), "99239")
    );
    let r = e
        .level(
            "Admission H&P\nAssessment: Pneumonia. Admit to medicine.",
            &req,
        )
        .unwrap();
    assert_eq!(r.hospital_visit, Some(HospitalVisit::Initial));
    let r = e.level("Assessment: Pneumonia, improving.", &req).unwrap();
    assert_eq!(r.hospital_visit, Some(HospitalVisit::Subsequent));
    assert!(r.warnings.iter().any(|w| w.contains("defaulted")));
}

#[test]
fn mdm_is_two_of_three() {
    use super::mdm::overall;
    use MdmLevel::*;
    assert_eq!(overall([High, Straightforward, High], 2), High);
    assert_eq!(overall([High, Low, Moderate], 2), Moderate);
    assert_eq!(
        overall([High, Straightforward, Straightforward], 2),
        Straightforward
    );
    assert_eq!(overall([Low, Low, Low], 2), Low);
    assert_eq!(overall([Low, Moderate, High], 3), Low);
}

#[test]
fn ordered_and_reviewed_test_counts_once() {
    let note = "Assessment and Plan:\nAnemia, new. CBC ordered and reviewed today: hemoglobin 9.1. CBC repeated in 1 week.";
    let r = engine().level(note, &est(date(2026, 3, 2))).unwrap();
    let tests: Vec<&MdmItem> = r
        .mdm
        .data
        .items
        .iter()
        .filter(|i| i.kind.starts_with("test_"))
        .collect();
    assert_eq!(tests.len(), 1, "{tests:?}");
    assert_eq!(tests[0].kind, "test_ordered");
    // "CBC, BMP and lipid panel ordered" counts three unique tests.
    let r = engine()
        .level(
            "Assessment and Plan:\nFatigue. CBC, BMP and lipid panel ordered.",
            &est(date(2026, 3, 2)),
        )
        .unwrap();
    assert_eq!(r.mdm.data.level, MdmLevel::Moderate);
}

#[test]
fn chronic_problem_without_status_gets_a_status_query() {
    let note = "Assessment and Plan:\nType 2 diabetes. Continue metformin.";
    let r = engine().level(note, &est(date(2026, 3, 2))).unwrap();
    assert_eq!(r.code, "99213");
    let next = r.next_level.unwrap();
    assert_eq!(next.code, "99214");
    assert!(
        next.queries
            .iter()
            .any(|q| q.contains("status of type 2 diabetes")),
        "{:?}",
        next.queries
    );
    assert!(
        next.queries
            .iter()
            .any(|q| q.contains("total practitioner time"))
    );
}

#[test]
fn top_codes_have_no_next_level() {
    let note =
        "Assessment: COPD with severe exacerbation. Admit to the hospital. Prednisone 40 mg given.";
    let r = engine().level(note, &est(date(2026, 3, 2))).unwrap();
    assert_eq!(r.code, "99215");
    assert!(r.next_level.is_none());
}

#[test]
fn payer_switches_the_prolonged_code() {
    let note = "Assessment: Hypertension, stable. Continue lisinopril.\nTotal time: 90 minutes.";
    let mut req = est(date(2026, 3, 2));
    let commercial = engine().level(note, &req).unwrap();
    assert_eq!(
        commercial
            .additional
            .iter()
            .map(|l| (l.code.as_str(), l.units))
            .collect::<Vec<_>>(),
        vec![("99417", 3)]
    );
    req.payer = Payer::Medicare;
    let medicare = engine().level(note, &req).unwrap();
    assert_eq!(
        medicare
            .additional
            .iter()
            .map(|l| (l.code.as_str(), l.units))
            .collect::<Vec<_>>(),
        vec![("G2212", 2)]
    );
}

#[test]
fn prolonged_only_with_time_basis_and_top_code() {
    // 50 minutes for a new patient supports 99204; 99417 needs 99205.
    let note = "Assessment: Low back pain. Ibuprofen 400 mg as needed.\nTotal time: 50 minutes.";
    let r = engine()
        .level(
            note,
            &EmRequest::office(PatientStatus::New, date(2026, 3, 2)),
        )
        .unwrap();
    assert_eq!(r.code, "99204");
    assert!(r.additional.is_empty());
}

#[test]
fn observation_uses_hospital_codes_and_99418() {
    let mut req = est(date(2026, 3, 2));
    req.setting = Setting::Observation;
    req.hospital_visit = Some(HospitalVisit::Initial);
    let r = engine()
        .level(
            "Assessment: Syncope, unclear etiology.\nTotal time: 80 minutes.",
            &req,
        )
        .unwrap();
    assert_eq!(r.code, "99223");
    // 99418 starts 15 minutes past the 75-minute 99223 time.
    assert!(r.additional.is_empty());
    req.time_minutes = Some(105);
    let r = engine().level("Assessment: Syncope.", &req).unwrap();
    assert_eq!(
        (r.additional[0].code.as_str(), r.additional[0].units),
        ("99418", 2)
    );
    assert_eq!(r.setting, Setting::Observation);
}

#[test]
fn new_patient_99211_cue_is_ignored_with_a_warning() {
    let r = engine()
        .level(
            "Nurse visit: blood pressure check only.\nBP 130/80.",
            &EmRequest::office(PatientStatus::New, date(2026, 3, 2)),
        )
        .unwrap();
    assert_eq!(r.code, "99202");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("without practitioner work"))
    );
}

#[test]
fn result_serializes_with_a_top_level_code() {
    let r = engine().level(SIMPLE, &est(date(2026, 3, 2))).unwrap();
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["code"], "99213");
    assert_eq!(v["setting"], "office");
    assert_eq!(v["basis"], "mdm");
    assert_eq!(v["mdm"]["risk"]["level"], "moderate");
    assert_eq!(v["rules"][0], "em@2026.1");
    let req: EmRequest = serde_json::from_value(serde_json::json!({
        "patient": "new", "setting": "observation", "hospital_visit": "discharge",
        "date_of_service": "2026-03-02", "payer": "medicare"
    }))
    .unwrap();
    assert_eq!(req.setting, Setting::Observation);
}

#[test]
fn evidence_offsets_are_code_points() {
    let note = "Ünïcode — résumé ✓\nAssessment and Plan:\nHypertension, not at goal. Increase lisinopril to 20 mg.";
    let r = engine().level(note, &est(date(2026, 3, 2))).unwrap();
    let mut n = 0;
    for el in [&r.mdm.problems, &r.mdm.data, &r.mdm.risk] {
        for item in &el.items {
            for ev in &item.evidence {
                let slice: String = note
                    .chars()
                    .skip(ev.start)
                    .take(ev.end - ev.start)
                    .collect();
                assert_eq!(slice, ev.text);
                n += 1;
            }
        }
    }
    assert!(n >= 4);
    assert_eq!(r.code, "99214");
}

#[test]
fn rule_file_round_trips_through_from_rules() {
    let e = EmEngine::from_rules(BUILTIN_RULES, "copy.toml").unwrap();
    assert_eq!(e.rules_version(), "2026.1");
}

#[test]
fn scheduled_or_past_physicals_do_not_make_a_preventive_visit() {
    for note in [
        "Follow-up. Due for annual physical next month.\nAssessment: Hypertension, controlled. Refill lisinopril.",
        "Seen at her annual physical in May.\nAssessment: Hypertension, controlled. Refill lisinopril.",
        "Assessment: Hypertension, controlled. Refill lisinopril.\nPlan: Return for annual physical in 6 months.",
    ] {
        let r = engine().level(note, &est(date(2026, 3, 2))).unwrap();
        assert!(!r.preventive, "{note}");
        assert_eq!(r.code, "99213", "{note}");
    }
}
