//! The service-coding commands end to end: `em`, `rpm`, `dmht`, `pla`,
//! `telehealth` and `bench em`, through the built binary.

mod common;

use std::path::{Path, PathBuf};

use common::{json, medledger};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../medledger-services/tests/fixtures")
}

fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write");
    p
}

/// The `input` object of a worked-example fixture, as a file of its own.
fn fixture_input(dir: &Path, rel: &str) -> (PathBuf, Value) {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join(rel)).expect("fixture"))
            .expect("fixture JSON");
    let p = write(
        dir,
        "input.json",
        serde_json::to_string(&v["input"]).unwrap().as_bytes(),
    );
    (p, v["expect"].clone())
}

const NEW_PATIENT_NOTE: &str = "CHIEF COMPLAINT: Chest pain.\n\
HPI: 62-year-old woman, new to the practice, with two weeks of exertional chest pressure.\n\
ASSESSMENT AND PLAN:\n\
1. Chest pain, new problem with uncertain prognosis; rule out angina. Order a treadmill stress test and a lipid panel.\n\
2. Hypertension, stable. Continue amlodipine 5 mg daily.\n\
3. Type 2 diabetes, stable. Continue metformin.\n\
I personally reviewed the ECG tracing today: normal sinus rhythm, no ST changes.\n";

fn char_slice(s: &str, start: usize, end: usize) -> String {
    s.chars().skip(start).take(end - start).collect()
}

/// Every evidence object under `v` is the note's text at its code points.
fn assert_evidence_verbatim(note: &str, v: &Value) -> usize {
    let mut n = 0;
    match v {
        Value::Object(m) => {
            if let (Some(s), Some(e), Some(t)) = (
                m.get("start").and_then(Value::as_u64),
                m.get("end").and_then(Value::as_u64),
                m.get("text").and_then(Value::as_str),
            ) {
                assert_eq!(char_slice(note, s as usize, e as usize), t, "{v}");
                n += 1;
            }
            for x in m.values() {
                n += assert_evidence_verbatim(note, x);
            }
        }
        Value::Array(a) => {
            for x in a {
                n += assert_evidence_verbatim(note, x);
            }
        }
        _ => {}
    }
    n
}

#[test]
fn em_levels_a_new_patient_visit_with_its_grid_and_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let note = write(dir.path(), "visit.txt", NEW_PATIENT_NOTE.as_bytes());
    let out = medledger(
        dir.path(),
        &[
            "em",
            note.to_str().unwrap(),
            "--patient",
            "new",
            "--setting",
            "office",
            "--dos",
            "2026-03-02",
            "--json",
        ],
    );
    let v = json(&out);
    // Moderate problems (undiagnosed new problem; 2 stable chronic),
    // moderate data (independent interpretation of the ECG), moderate risk
    // (prescription drug management): 99204.
    assert_eq!(v["code"], "99204", "{v}");
    assert_eq!(v["basis"], "mdm");
    assert_eq!(v["mdm"]["level"], "moderate");
    assert_eq!(v["mdm"]["risk"]["level"], "moderate");
    assert!(v["next_level"]["code"] == "99205", "{v}");
    assert!(assert_evidence_verbatim(NEW_PATIENT_NOTE, &v) >= 4);
}

#[test]
fn em_time_beats_mdm_and_adds_prolonged_service_by_payer() {
    let dir = tempfile::tempdir().unwrap();
    let note = write(dir.path(), "visit.txt", NEW_PATIENT_NOTE.as_bytes());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "em",
            note.to_str().unwrap(),
            "--patient",
            "new",
            "--dos",
            "2026-03-02",
            "--json",
        ];
        args.extend_from_slice(extra);
        json(&medledger(dir.path(), &args))
    };
    let v = run(&["--time", "62"]);
    assert_eq!(v["code"], "99205");
    assert_eq!(v["basis"], "time");
    assert_eq!(v["time"]["minutes"], 62);
    // 99205 + 15 minutes: one unit of 99417 for a commercial payer.
    let v = run(&["--time", "76"]);
    let add = v["additional"].as_array().unwrap();
    assert_eq!(add.len(), 1, "{v}");
    assert_eq!(add[0]["code"], "99417");
    assert_eq!(add[0]["units"], 1);
    // Medicare: G2212 only from 89 minutes.
    let v = run(&["--time", "76", "--payer", "medicare"]);
    assert!(v["additional"].as_array().unwrap().is_empty(), "{v}");
    let v = run(&["--time", "90", "--payer", "medicare"]);
    assert_eq!(v["additional"][0]["code"], "G2212");
}

#[test]
fn em_reads_time_from_the_note_and_reports_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("{NEW_PATIENT_NOTE}Total time on the date of the encounter: 47 minutes.\n");
    let note = write(dir.path(), "visit.txt", body.as_bytes());
    let v = json(&medledger(
        dir.path(),
        &[
            "em",
            note.to_str().unwrap(),
            "--patient",
            "established",
            "--json",
        ],
    ));
    assert_eq!(v["code"], "99215", "{v}");
    assert_eq!(v["time"]["source"], "note");
    assert_eq!(v["time"]["minutes"], 47);
    let bad = write(dir.path(), "bad.txt", b"chest pain \xff\xfe");
    let out = medledger(dir.path(), &["em", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(
        err.contains("not UTF-8") && err.contains("bad.txt"),
        "{err}"
    );
    let out = medledger(
        dir.path(),
        &[
            "em",
            note.to_str().unwrap(),
            "--dos",
            "2019-05-01",
            "--json",
        ],
    );
    assert!(!out.status.success(), "the 2021 rules do not reach 2019");
}

fn codes_of(v: &Value, key: &str) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_string(),
                l["units"].as_u64().unwrap_or(1),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn rpm_codes_a_period_as_its_worked_example_says() {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "monitoring/05_rpm_30_days_with_setup.json",
        "monitoring/03_rpm_15_days.json",
        "monitoring/13_rpm_rtm_clash.json",
    ] {
        let (input, expect) = fixture_input(dir.path(), rel);
        let v = json(&medledger(
            dir.path(),
            &["rpm", input.to_str().unwrap(), "--json"],
        ));
        let mut want: Vec<(String, u64)> = expect["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"].as_str().unwrap().to_string(),
                    c["units"].as_u64().unwrap_or(1),
                )
            })
            .collect();
        want.sort();
        assert_eq!(codes_of(&v, "lines"), want, "{rel}: {v}");
    }
    let bad = write(
        dir.path(),
        "p.json",
        br#"{"program": "rpm", "period_start": 3}"#,
    );
    let out = medledger(dir.path(), &["rpm", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("period_start"),
        "the error names the field"
    );
}

#[test]
fn dmht_flags_what_the_documentation_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let (input, expect) = fixture_input(dir.path(), "dmht/02_missing_plan.json");
    let v = json(&medledger(
        dir.path(),
        &["dmht", input.to_str().unwrap(), "--json"],
    ));
    assert!(v["lines"].as_array().unwrap().is_empty(), "{v}");
    let missing: Vec<&str> = v["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for m in expect["missing"].as_array().unwrap() {
        assert!(missing.contains(&m.as_str().unwrap()), "{v}");
    }
}

#[test]
fn pla_finds_codes_and_names_and_flags_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let order = "Ordered: Guardant360 CDx liquid biopsy; also 0022U and 0999U.";
    let o = write(dir.path(), "order.txt", order.as_bytes());
    let list = fixtures().join("pla/pla_list.csv");
    let payer = fixtures().join("pla/payer_acme.toml");
    let v = json(&medledger(
        dir.path(),
        &[
            "pla",
            o.to_str().unwrap(),
            "--list",
            list.to_str().unwrap(),
            "--payer",
            payer.to_str().unwrap(),
            "--json",
        ],
    ));
    let flags: Vec<(String, String)> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["risk"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(flags.contains(&("0242U".into(), "covered".into())), "{v}");
    assert!(
        flags.contains(&("0022U".into(), "experimental_investigational".into())),
        "{v}"
    );
    assert!(
        flags.contains(&("0999U".into(), "unknown_pla".into())),
        "{v}"
    );
    assert!(assert_evidence_verbatim(order, &v["matches"]) >= 3);
}

#[test]
fn telehealth_reads_modality_and_location() {
    let dir = tempfile::tempdir().unwrap();
    let note = "Visit conducted via secure two-way video; the patient was at home. Follow-up of depression.";
    let n = write(dir.path(), "tele.txt", note.as_bytes());
    let v = json(&medledger(
        dir.path(),
        &[
            "telehealth",
            n.to_str().unwrap(),
            "--payer",
            "commercial",
            "--dos",
            "2026-02-10",
            "--json",
        ],
    ));
    assert_eq!(v["pos"], "10", "{v}");
    assert!(
        v["modifiers"].as_array().unwrap().iter().any(|m| m == "95"),
        "{v}"
    );
    assert!(assert_evidence_verbatim(note, &v) >= 1);
}

#[test]
fn bench_em_reports_time_per_note() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    write(&notes, "a.txt", NEW_PATIENT_NOTE.as_bytes());
    write(
        &notes,
        "b.txt",
        b"ASSESSMENT: Upper respiratory infection, acute uncomplicated. PLAN: Rest and fluids.",
    );
    let v = json(&medledger(
        dir.path(),
        &[
            "bench",
            "em",
            "--notes",
            notes.to_str().unwrap(),
            "--rounds",
            "2",
            "--json",
        ],
    ));
    assert_eq!(v["notes"], 2);
    assert!(v["notes_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["mean_microseconds_per_note"].as_f64().unwrap() > 0.0);
    let spread: u64 = v["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1].as_u64().unwrap())
        .sum();
    assert_eq!(spread, 2);
}
