//! Care gaps on synthetic notes and observations, with hand-written
//! expected gaps (spans in code points).

use medledger_codesets::Date;
use medledger_vbc::HccTable;
use medledger_vbc::gaps::{
    FindingSource, GapKind, Measure, Observation, Patient, PriorCode, finding_gaps, recapture_gaps,
};

const NOTE: &str = "Vitals: BP 152/94, BMI 32.4.\n\
Results: HbA1c 6.1%. eGFR 41 mL/min.\n\
HPI: PHQ-9 score 14. Fall risk screen positive.\n\
Assessment: Acute bronchitis.\n\
Plan: Rest and fluids.\n";

/// (family, codes, note span).
type Row<'a> = (&'a str, &'a str, Option<(usize, usize, &'a str)>);

fn codes(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_uncoded_unaddressed_finding_is_a_gap() {
    let gaps = finding_gaps(NOTE, &codes(&["J20.9"]), &[], &Patient::default()).expect("gaps");
    let got: Vec<Row<'_>> = gaps
        .iter()
        .map(|g| {
            let src = g.finding.as_ref().and_then(|f| match &f.source {
                FindingSource::Note { start, end, text } => Some((*start, *end, text.as_str())),
                FindingSource::Observation { .. } => None,
            });
            (g.suggests.family, g.suggests.codes.as_str(), src)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("hypertension", "I10", Some((8, 17, "BP 152/94"))),
            (
                "obesity",
                "E66.x with Z68.30–Z68.45",
                Some((19, 27, "BMI 32.4"))
            ),
            ("prediabetes", "R73.03", Some((38, 48, "HbA1c 6.1%"))),
            (
                "chronic kidney disease",
                "N18.32 (stage 3b)",
                Some((50, 57, "eGFR 41"))
            ),
            ("depression", "F32–F33", Some((71, 85, "PHQ-9 score 14"))),
            (
                "fall risk",
                "Z91.81",
                Some((87, 112, "Fall risk screen positive"))
            ),
        ]
    );
    assert!(gaps.iter().all(|g| g.kind == GapKind::Finding));
    assert_eq!(
        gaps[1].query,
        "The record for this encounter shows BMI 32.4 (documented as \"BMI 32.4\"). Based on your clinical judgement, can you clarify the clinical significance of this finding, if any? Options: a related diagnosis (please document it) / clinically not significant / other (please specify) / unable to determine."
    );
    // Neutral: the query presents the finding and never names the codes or
    // the diagnosis it suggests (the fall-risk finding is itself named so).
    for g in &gaps {
        assert!(!g.query.contains(&g.suggests.codes), "{}", g.query);
        assert!(g.query.contains("unable to determine"), "{}", g.query);
    }
    for g in &gaps[..5] {
        assert!(
            !g.query.to_lowercase().contains(g.suggests.family),
            "{}",
            g.query
        );
    }
}

#[test]
fn coded_or_planned_findings_are_not_gaps() {
    // Hypertension and CKD coded; obesity addressed in the plan.
    let note =
        "Vitals: BP 152/94, BMI 32.4.\nResults: eGFR 41.\nPlan: Discussed weight loss and diet.\n";
    let gaps =
        finding_gaps(note, &codes(&["I10", "N18.32"]), &[], &Patient::default()).expect("gaps");
    assert!(gaps.is_empty(), "{gaps:?}");
    // A negated plan mention does not address it.
    let note = "Vitals: BMI 32.4.\nPlan: No diet changes discussed.\n";
    let gaps = finding_gaps(note, &[], &[], &Patient::default()).expect("gaps");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].suggests.family, "obesity");
    // The finding's own sentence does not address it, even in the plan.
    let note = "Assessment and Plan: BMI 34.\n";
    let gaps = finding_gaps(note, &[], &[], &Patient::default()).expect("gaps");
    assert_eq!(gaps.len(), 1);
}

#[test]
fn bmi_in_pregnancy_or_childhood_is_no_gap() {
    // Our rule: adult BMI categories and Z68 codes do not apply in pregnancy.
    let note = "HPI: 28 weeks gestation, pregnant with first child.\nVitals: BMI 32.\n";
    assert!(
        finding_gaps(note, &[], &[], &Patient::default())
            .expect("gaps")
            .is_empty()
    );
    let note = "Vitals: BMI 32.\n";
    let by_code = finding_gaps(note, &codes(&["Z3A.28"]), &[], &Patient::default()).expect("gaps");
    assert!(by_code.is_empty());
    let told = Patient {
        age: None,
        pregnant: Some(true),
    };
    assert!(
        finding_gaps(note, &[], &[], &told)
            .expect("gaps")
            .is_empty()
    );
    let child = Patient {
        age: Some(15),
        pregnant: None,
    };
    assert!(
        finding_gaps(note, &[], &[], &child)
            .expect("gaps")
            .is_empty()
    );
    // "not pregnant" is negated: the gap stands.
    let note = "HPI: Patient is not pregnant.\nVitals: BMI 32.\n";
    assert_eq!(
        finding_gaps(note, &[], &[], &Patient::default())
            .expect("gaps")
            .len(),
        1
    );
    // Family history findings are not the patient's.
    let note = "Family History: mother with BMI 41.\n";
    assert!(
        finding_gaps(note, &[], &[], &Patient::default())
            .expect("gaps")
            .is_empty()
    );
}

#[test]
fn observations_give_gaps_with_their_ids() {
    let obs = vec![
        Observation {
            id: "obs-a1c".into(),
            code: "4548-4".into(),
            value: 7.1,
            unit: Some("%".into()),
        },
        Observation {
            id: "obs-phq".into(),
            code: "44261-6".into(),
            value: 6.0,
            unit: None,
        },
        Observation {
            id: "obs-gfr".into(),
            code: "98979-8".into(),
            value: 12.0,
            unit: None,
        },
    ];
    let gaps =
        finding_gaps("Assessment: follow-up.\n", &[], &obs, &Patient::default()).expect("gaps");
    let got: Vec<(&str, String, Measure)> = gaps
        .iter()
        .filter_map(|g| {
            let f = g.finding.as_ref()?;
            match &f.source {
                FindingSource::Observation { id } => {
                    Some((g.suggests.family, id.clone(), f.measure))
                }
                FindingSource::Note { .. } => None,
            }
        })
        .collect();
    assert_eq!(
        got,
        [
            ("diabetes", "obs-a1c".to_string(), Measure::Hba1c),
            (
                "chronic kidney disease",
                "obs-gfr".to_string(),
                Measure::Egfr
            ),
        ]
    );
    assert_eq!(gaps[1].suggests.codes, "N18.5 (stage 5)");
    assert!(gaps[0].query.contains("(observation obs-a1c)"));
    // Diabetes coded: no gap.
    let gaps = finding_gaps("", &codes(&["E11.9"]), &obs[..1], &Patient::default()).expect("gaps");
    assert!(gaps.is_empty());
}

#[test]
fn chronic_hccs_of_last_year_need_recapture() {
    let mut t = HccTable::new("synthetic");
    t.insert("E11.9", "38");
    t.insert("I50.9", "226");
    t.insert("J45.909", "280");
    t.set_chronic("38");
    t.set_chronic("226");
    let d = |s: &str| s.parse::<Date>().expect("date");
    let prior = vec![
        PriorCode {
            code: "E11.9".into(),
            date: d("2025-03-02"),
        },
        PriorCode {
            code: "I50.9".into(),
            date: d("2025-06-10"),
        },
        // Not chronic.
        PriorCode {
            code: "J45.909".into(),
            date: d("2025-06-10"),
        },
        // Two years back: not the prior year.
        PriorCode {
            code: "I50.9".into(),
            date: d("2024-01-05"),
        },
    ];
    let gaps = recapture_gaps(&prior, &codes(&["E11.9"]), d("2026-02-01"), &t);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].kind, GapKind::Recapture);
    assert_eq!(gaps[0].hccs[0].hcc, "226");
    assert_eq!(
        gaps[0].prior.as_ref().map(|p| p.code.as_str()),
        Some("I50.9")
    );
    assert!(
        gaps[0]
            .query
            .starts_with("I50.9 was documented on 2025-06-10 (HCC 226)")
    );
    // Both recaptured: nothing.
    assert!(recapture_gaps(&prior, &codes(&["E11.9", "I50.9"]), d("2026-02-01"), &t).is_empty());
}
