//! MEAT on synthetic notes, with hand-checked spans (code points).

use medledger_text::SectionKind;
use medledger_vbc::meat::{MeatError, MeatKind, MeatResult, Support, analyze};
use medledger_vbc::{CodedDiagnosis, HccTable};

fn table() -> HccTable {
    let mut t = HccTable::new("synthetic");
    t.insert("E11.9", "38");
    t.insert("I50.9", "226");
    t.insert("N18.4", "327");
    t.insert("F33.1", "155");
    t.set_chronic("38");
    t.set_chronic("226");
    t
}

/// Code-point span of the `n`-th occurrence of `needle`.
fn span(text: &str, needle: &str, n: usize) -> (usize, usize) {
    let b = text.match_indices(needle).nth(n).expect("needle in note").0;
    let s = text[..b].chars().count();
    (s, s + needle.chars().count())
}

fn elements(r: &MeatResult) -> Vec<(MeatKind, usize, usize, &str)> {
    r.elements
        .iter()
        .map(|e| (e.kind, e.start, e.end, e.text.as_str()))
        .collect()
}

// "Zoë" puts a two-byte character before every span: offsets are code points.
const NOTE1: &str = "Patient: Zoë, 67.\n\
Past Medical History: Congestive heart failure.\n\
Assessment and Plan:\n\
1. Type 2 diabetes mellitus, stable. HbA1c 7.2% reviewed.\n\
Continue metformin 500 mg twice daily. No insulin.\n";

#[test]
fn diabetes_supported_chf_only_in_history() {
    let dx = vec![
        CodedDiagnosis::new("E11.9", &[span(NOTE1, "Type 2 diabetes mellitus", 0)]),
        CodedDiagnosis::new("I50.9", &[span(NOTE1, "Congestive heart failure", 0)]),
        // No HCC: left out.
        CodedDiagnosis::new("Z79.84", &[]),
    ];
    let r = analyze(NOTE1, &dx, &table()).expect("analyzes");
    assert_eq!(r.len(), 2);
    let dm = &r[0];
    assert_eq!(
        (dm.code.as_str(), dm.support),
        ("E11.9", Support::Supported)
    );
    assert_eq!(dm.flag, "supported — verify");
    assert_eq!(dm.hccs[0].hcc, "38");
    // "Type 2 diabetes mellitus" starts at code point 90 (byte 91).
    assert_eq!(span(NOTE1, "Type 2 diabetes mellitus", 0), (90, 114));
    assert_eq!(
        elements(dm),
        [
            (MeatKind::Monitor, 116, 122, "stable"),
            (MeatKind::Evaluate, 124, 129, "HbA1c"),
            (MeatKind::Evaluate, 135, 143, "reviewed"),
            (MeatKind::Treat, 145, 153, "Continue"),
            (MeatKind::Treat, 154, 163, "metformin"),
            (MeatKind::Treat, 168, 170, "mg"),
        ]
    );
    assert_eq!(dm.elements[4].cue, "medication: metformin");
    assert_eq!(dm.elements[4].section, SectionKind::AssessmentPlan);
    // "No insulin." is negated: no Treat element for insulin.
    assert!(!dm.elements.iter().any(|e| e.text == "insulin"));
    let chf = &r[1];
    assert_eq!(chf.support, Support::Unsupported);
    assert_eq!(chf.flag, "unsupported — do not submit");
    assert_eq!(
        chf.reason.as_deref(),
        Some("mentioned only in past medical history")
    );
    assert_eq!(chf.mentions.len(), 1);
    assert_eq!((chf.mentions[0].start, chf.mentions[0].end), (40, 64));
    assert_eq!(chf.mentions[0].section, SectionKind::PastMedicalHistory);
}

const NOTE2: &str = "Chief Complaint: depression.\n\
Problem List: CKD stage 4.\n\
Assessment:\n\
Heart failure with worsening dyspnea. BNP 950 on labs today.\n\
Plan:\n\
Increase furosemide to 40 mg daily.\n";

#[test]
fn heart_failure_evaluated_and_treated_problem_list_and_bare_mentions_are_not() {
    let dx = vec![
        CodedDiagnosis::new("I50.9", &[span(NOTE2, "Heart failure", 0)]),
        CodedDiagnosis::new("N18.4", &[span(NOTE2, "CKD stage 4", 0)]),
        CodedDiagnosis::new("F33.1", &[span(NOTE2, "depression", 0)]),
    ];
    let r = analyze(NOTE2, &dx, &table()).expect("analyzes");
    let hf = &r[0];
    assert_eq!(hf.support, Support::Supported);
    // Offsets: the Assessment body starts at code point 68 (29 + 27 + 12).
    assert_eq!(
        elements(hf),
        [
            (
                MeatKind::Assess,
                68,
                105,
                "Heart failure with worsening dyspnea."
            ),
            (MeatKind::Monitor, 87, 96, "worsening"),
            (MeatKind::Monitor, 97, 104, "dyspnea"),
            (MeatKind::Evaluate, 106, 109, "BNP"),
            (MeatKind::Evaluate, 117, 121, "labs"),
            (MeatKind::Treat, 135, 143, "Increase"),
            (MeatKind::Treat, 144, 154, "furosemide"),
            (MeatKind::Treat, 161, 163, "mg"),
        ]
    );
    assert_eq!(hf.elements[0].cue, "assessment entry");
    assert_eq!(hf.elements[6].section, SectionKind::Plan);
    let ckd = &r[1];
    assert_eq!(ckd.support, Support::Unsupported);
    assert_eq!(
        ckd.reason.as_deref(),
        Some("mentioned only in the problem list")
    );
    let dep = &r[2];
    assert_eq!(dep.support, Support::Unsupported);
    assert_eq!(
        dep.reason.as_deref(),
        Some("mentioned without monitoring, evaluation, assessment or treatment")
    );
}

#[test]
fn evidence_outside_the_note_is_an_error() {
    let dx = vec![CodedDiagnosis::new("E11.9", &[(5, 500)])];
    let err = analyze("Diabetes, stable.", &dx, &table()).expect_err("out of range");
    assert_eq!(
        err,
        MeatError::EvidenceOutOfRange {
            code: "E11.9".into(),
            start: 5,
            end: 500,
            chars: 17
        }
    );
    assert_eq!(
        err.to_string(),
        "E11.9: evidence span 5..500 (code points) is outside the note (17 code points)"
    );
}

#[test]
fn no_mention_at_all() {
    let dx = vec![CodedDiagnosis::new("N18.4", &[])];
    let r = analyze("Assessment: well visit.", &dx, &table()).expect("analyzes");
    assert_eq!(
        r[0].reason.as_deref(),
        Some("no mention of the condition found in the note")
    );
}
