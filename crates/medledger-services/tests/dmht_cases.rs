//! Worked DMHT cases: every `tests/fixtures/dmht/*.json` holds a case
//! (`input`), the expected codes, refused codes and documentation gaps
//! (`expect.missing` must each appear in the result), and a `reason`.

use std::path::Path;

use medledger_services::dmht::{DmhtEngine, case_from_value, parse_case};
use serde_json::Value;

#[test]
fn worked_cases() {
    let engine = DmhtEngine::builtin().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dmht");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "{} cases", paths.len());
    let mut failures = Vec::new();
    for p in &paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let reason = fx["reason"].as_str().unwrap_or("");
        assert!(!reason.is_empty(), "{name}: no reason");
        let case = case_from_value(&fx["input"], &name).unwrap();
        let res = engine.evaluate(&case).unwrap();
        let mut got: Vec<(String, u64)> = res
            .lines
            .iter()
            .map(|l| (l.code.clone(), u64::from(l.units)))
            .collect();
        got.sort();
        let mut want: Vec<(String, u64)> = fx["expect"]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"].as_str().unwrap().to_string(),
                    c["units"].as_u64().unwrap(),
                )
            })
            .collect();
        want.sort();
        let mut got_refused: Vec<String> = res.refused.iter().map(|r| r.code.clone()).collect();
        got_refused.sort();
        let mut want_refused: Vec<String> = fx["expect"]["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        want_refused.sort();
        let missing_ok = fx["expect"]["missing"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| res.missing.iter().any(|g| g == m.as_str().unwrap()));
        let no_gap_expected = fx["expect"]["missing"].as_array().unwrap().is_empty();
        if got != want
            || got_refused != want_refused
            || !missing_ok
            || (no_gap_expected && !res.missing.is_empty())
        {
            failures.push(format!(
                "{name} ({reason}):\n  codes {got:?} wanted {want:?}\n  refused {got_refused:?} wanted {want_refused:?}\n  result {}",
                serde_json::to_string(&res).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn note_evidence_is_verbatim_and_respects_negation() {
    let json = r#"{
        "dos": "2026-02-10",
        "device": {"name": "Rejoyn", "fda_regulation": "882.5801", "cleared": true},
        "diagnosis_codes": ["F33.1"],
        "treatment_plan": {"documented": true, "by_billing_practitioner": true},
        "management": [{"month": "2026-02", "minutes": 25, "interactive": true}],
        "note": "Paciente Núñez: behavioral health treatment plan reviewed with me today. Rejoyn continues as adjunct. No digital therapeutic besides Rejoyn."
    }"#;
    let case = parse_case(json, "case.json").unwrap();
    let note = case.note.clone().unwrap();
    let res = DmhtEngine::builtin().unwrap().evaluate(&case).unwrap();
    assert!(res.missing.is_empty(), "{:?}", res.missing);
    let chars: Vec<char> = note.chars().collect();
    for e in &res.evidence {
        let span: String = chars[e.evidence.start..e.evidence.end].iter().collect();
        assert_eq!(span, e.evidence.text);
    }
    let found: Vec<(&str, &str, bool)> = res
        .evidence
        .iter()
        .map(|e| (e.finding.as_str(), e.evidence.text.as_str(), e.negated))
        .collect();
    assert!(
        found.contains(&("treatment_plan", "behavioral health treatment plan", false)),
        "{found:?}"
    );
    assert!(found.contains(&("device", "Rejoyn", false)), "{found:?}");
    assert!(
        found.contains(&("device", "digital therapeutic", true)),
        "{found:?}"
    );
}

#[test]
fn case_errors_name_the_field() {
    let err = parse_case(r#"{"dos":"2026-02-10"}"#, "c.json")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "c.json: device: missing");
    let err = parse_case(
        r#"{"dos":"2026-02-10","device":{"name":"x","fda_regulation":"882.5801","cleared":true},"treatment_plan":{"documented":true,"by_billing_practitioner":true},"extra":1}"#,
        "c.json",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("c.json: extra: unknown field"), "{err}");
}
