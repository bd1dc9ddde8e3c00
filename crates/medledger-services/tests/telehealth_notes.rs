//! Telehealth worked examples: note text and claim context in, modality,
//! patient location, POS and modifiers out. Each case says why.

use medledger_services::telehealth::{
    Modality, PatientLocation, TelehealthContext, TelehealthPayer, TelehealthRules, assess,
};

fn ctx(dos: (i16, i8, i8), payer: TelehealthPayer) -> TelehealthContext {
    TelehealthContext::new(jiff::civil::date(dos.0, dos.1, dos.2), payer)
}

const MARCH_2026: (i16, i8, i8) = (2026, 3, 4);

#[track_caller]
fn check(
    note: &str,
    ctx: &TelehealthContext,
    modality: Modality,
    location: Option<PatientLocation>,
    pos: Option<&str>,
    modifiers: &[&str],
) -> medledger_services::telehealth::TelehealthResult {
    let r = assess(note, ctx).unwrap();
    assert_eq!(r.modality, modality, "{r:?}");
    assert_eq!(r.patient_location, location, "{r:?}");
    assert_eq!(r.pos.as_deref(), pos, "{r:?}");
    assert_eq!(r.modifiers, modifiers, "{r:?}");
    let chars: Vec<char> = note.chars().collect();
    for e in &r.evidence {
        let span: String = chars[e.evidence.start..e.evidence.end].iter().collect();
        assert_eq!(span, e.evidence.text);
    }
    r
}

#[test]
fn video_from_home_commercial_gets_pos_10_and_95() {
    // CPT modifier 95 (synchronous audio-video); POS 10 = patient's home.
    check(
        "Follow-up visit conducted via secure video. Patient is at home.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::AudioVideo,
        Some(PatientLocation::Home),
        Some("10"),
        &["95"],
    );
}

#[test]
fn video_from_home_medicare_2026_gets_pos_10_without_95() {
    // CMS CY2024 PFS onward: POS 02/10 carry telehealth; 95 not appended.
    let r = check(
        "Telehealth video visit; the patient joined from home.",
        &ctx(MARCH_2026, TelehealthPayer::Medicare),
        Modality::AudioVideo,
        Some(PatientLocation::Home),
        Some("10"),
        &[],
    );
    assert!(r.rule_ids.contains(&"telehealth.medicare.2024".to_string()));
}

#[test]
fn medicare_hospital_based_clinician_keeps_95() {
    let mut c = ctx(MARCH_2026, TelehealthPayer::Medicare);
    c.clinician_in_hospital = true;
    check(
        "Seen via secure video, patient at home.",
        &c,
        Modality::AudioVideo,
        Some(PatientLocation::Home),
        Some("10"),
        &["95"],
    );
}

#[test]
fn audio_only_by_telephone_gets_93() {
    check(
        "Visit completed by telephone. Patient at home.",
        &ctx(MARCH_2026, TelehealthPayer::Medicare),
        Modality::AudioOnly,
        Some(PatientLocation::Home),
        Some("10"),
        &["93"],
    );
    check(
        "Audio-only encounter, patient in her home.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::AudioOnly,
        Some(PatientLocation::Home),
        Some("10"),
        &["93"],
    );
}

#[test]
fn patient_at_clinic_originating_site_gets_pos_02() {
    check(
        "Telemedicine video visit. Patient is at the clinic (originating site) with a nurse.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::AudioVideo,
        Some(PatientLocation::OtherSite),
        Some("02"),
        &["95"],
    );
}

#[test]
fn negated_telehealth_is_an_in_person_visit() {
    let r = check(
        "This was not a telehealth visit. Patient seen in clinic.",
        &ctx(MARCH_2026, TelehealthPayer::Medicare),
        Modality::InPerson,
        None,
        None,
        &[],
    );
    assert!(
        r.evidence
            .iter()
            .any(|e| e.negated && e.evidence.text == "telehealth visit")
    );
}

#[test]
fn in_person_visit_has_no_telehealth_coding() {
    check(
        "Patient seen in the office today for an in-person visit.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::InPerson,
        None,
        None,
        &[],
    );
}

#[test]
fn telehealth_without_modality_warns() {
    let r = check(
        "Telehealth visit; patient at home.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::TelehealthUnspecified,
        Some(PatientLocation::Home),
        Some("10"),
        &[],
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("audio-video or audio-only")),
        "{r:?}"
    );
}

#[test]
fn nothing_documented_warns() {
    let r = check(
        "Blood pressure improved. Continue lisinopril.",
        &ctx(MARCH_2026, TelehealthPayer::Medicare),
        Modality::NotDocumented,
        None,
        None,
        &[],
    );
    assert!(r.warnings.iter().any(|w| w.contains("not documented")));
}

#[test]
fn missing_location_leaves_pos_open() {
    let r = check(
        "Visit conducted via secure video.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::AudioVideo,
        None,
        None,
        &["95"],
    );
    assert!(r.warnings.iter().any(|w| w.contains("location")), "{r:?}");
    // Structured location fills the gap.
    let mut c = ctx(MARCH_2026, TelehealthPayer::Commercial);
    c.patient_location = Some(PatientLocation::OtherSite);
    check(
        "Visit conducted via secure video.",
        &c,
        Modality::AudioVideo,
        Some(PatientLocation::OtherSite),
        Some("02"),
        &["95"],
    );
}

#[test]
fn medicare_during_the_phe_used_the_in_person_pos_with_95() {
    let mut c = ctx((2022, 6, 1), TelehealthPayer::Medicare);
    c.in_person_pos = Some("11".to_string());
    check(
        "Video visit with patient at home.",
        &c,
        Modality::AudioVideo,
        Some(PatientLocation::Home),
        Some("11"),
        &["95"],
    );
}

#[test]
fn before_pos_10_existed_home_was_pos_02() {
    check(
        "Video visit with patient at home.",
        &ctx((2019, 5, 1), TelehealthPayer::Commercial),
        Modality::AudioVideo,
        Some(PatientLocation::Home),
        Some("02"),
        &["95"],
    );
}

#[test]
fn both_modalities_documented_is_mixed() {
    let r = check(
        "Started via secure video, then by telephone. Patient at home.",
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::Mixed,
        Some(PatientLocation::Home),
        Some("10"),
        &[],
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("both audio-video and audio-only"))
    );
}

#[test]
fn evidence_is_in_code_points_in_a_non_ascii_note() {
    let note = "Señora Núñez — visita por telemedicina: seen via secure video from home.";
    let r = check(
        note,
        &ctx(MARCH_2026, TelehealthPayer::Commercial),
        Modality::AudioVideo,
        Some(PatientLocation::Home),
        Some("10"),
        &["95"],
    );
    let video = r
        .evidence
        .iter()
        .find(|e| e.evidence.text == "via secure video")
        .unwrap();
    let expected_start = note.chars().count() - "via secure video from home.".chars().count();
    assert_eq!(video.evidence.start, expected_start);
    assert_ne!(video.evidence.start, note.find("via secure video").unwrap());
}

#[test]
fn rule_file_errors_name_the_file() {
    let err = TelehealthRules::from_rules("[header]\nname = \"t\"\nversion = \"1\"\nsources = [\"x\"]\n[[pos]]\nid = \"p\"\nsource = \"s\"\neffective_from = \"2022-01-01\"\nlocation = \"home\"\ncode = \"1O\"\n", "th.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("th.toml") && err.contains("two digits"),
        "{err}"
    );
}
