//! `level` never panics, whatever the note and request, and every evidence
//! span is verbatim at its code-point offsets.

use medledger_services::em::{
    EmEngine, EmRequest, EmResult, Evidence, HospitalVisit, PatientStatus, Payer, Setting,
};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "Assessment and Plan:",
    "A/P:",
    "Plan:",
    "HPI:",
    "Results:",
    "Medications:",
    "Family history:",
    "1.",
    "2)",
    "#",
    "-",
    "Hypertension, not at goal.",
    "COPD with severe exacerbation",
    "chest pain concerning for ACS",
    "no chest pain",
    "denies fever",
    "return if fever",
    "history of MI",
    "Increase lisinopril to 20 mg",
    "continue metformin 500 mg",
    "CBC, BMP and lipid panel ordered",
    "CT head not indicated",
    "I personally reviewed the ECG",
    "history obtained from the mother",
    "discussed with Dr. Lee of cardiology",
    "admit to the ICU",
    "DNR/DNI",
    "IV morphine",
    "methotrexate with CBC and LFTs for toxicity monitoring",
    "cannot afford",
    "homeless, unable to store insulin",
    "Total time: 1 hour 5 minutes",
    "I spent 45 min",
    "more than 30 minutes",
    "symptoms for 30 minutes",
    "45-year-old",
    "6-month-old",
    "annual physical",
    "well-child check",
    "nurse visit",
    "discharge summary",
    "H&P",
    "Ünïcode ✓ — ",
    "😀",
    "\u{2019}",
    "e\u{301}",
    "\n\n",
    ":",
    ";",
    ".",
];

fn note_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => "\\PC{0,12}",
        1 => "[0-9 .:/-]{0,6}",
    ];
    proptest::collection::vec(
        (
            piece,
            prop_oneof![Just(" "), Just("\n"), Just(", "), Just("")],
        ),
        0..40,
    )
    .prop_map(|parts| parts.into_iter().map(|(p, s)| format!("{p}{s}")).collect())
}

fn request_strategy() -> impl Strategy<Value = EmRequest> {
    (
        prop_oneof![Just(PatientStatus::New), Just(PatientStatus::Established)],
        prop_oneof![
            Just(Setting::Office),
            Just(Setting::Inpatient),
            Just(Setting::Observation),
            Just(Setting::Ed)
        ],
        proptest::option::of(prop_oneof![
            Just(HospitalVisit::Initial),
            Just(HospitalVisit::Subsequent),
            Just(HospitalVisit::Discharge)
        ]),
        proptest::option::of(0u32..400),
        2019i16..2028,
        prop_oneof![Just(Payer::Medicare), Just(Payer::Commercial)],
        proptest::option::of(0u32..130),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(patient, setting, visit, time, year, payer, age, preventive)| EmRequest {
                patient,
                setting,
                hospital_visit: visit,
                time_minutes: time,
                date_of_service: jiff::civil::date(year, 6, 15),
                payer,
                patient_age_years: age,
                preventive,
            },
        )
}

fn evidence(r: &EmResult) -> Vec<&Evidence> {
    let mut out: Vec<&Evidence> = Vec::new();
    for el in [&r.mdm.problems, &r.mdm.data, &r.mdm.risk] {
        for item in &el.items {
            out.extend(item.evidence.iter());
        }
    }
    out.extend(r.time.iter().filter_map(|t| t.evidence.as_ref()));
    out.extend(r.age.iter().filter_map(|a| a.evidence.as_ref()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn level_never_panics_and_evidence_is_verbatim(note in note_strategy(), req in request_strategy()) {
        let engine = engine();
        if let Ok(r) = engine.level(&note, &req) {
            prop_assert!(!r.code.is_empty());
            for e in evidence(&r) {
                prop_assert!(e.start <= e.end);
                let slice: String = note.chars().skip(e.start).take(e.end - e.start).collect();
                prop_assert_eq!(&slice, &e.text);
            }
            prop_assert!(serde_json::to_string(&r).is_ok());
        }
    }
}

fn engine() -> &'static EmEngine {
    static ENGINE: std::sync::OnceLock<EmEngine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| EmEngine::builtin().unwrap())
}
