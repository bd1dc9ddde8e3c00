//! `medledger learn --ndjson`: coded history with evidence spans.

mod common;

use common::{data, json, medledger};

#[test]
fn learn_reads_evidence_spans_and_reports_bad_ones_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for i in 0..40 {
        // "Zorblax" is no dictionary word: only the evidence spans can teach it.
        let (text, codes, ev) = if i % 2 == 0 {
            let t = format!("Note {i}. Ongoing zorblax lesions on the scalp, treated.");
            let start = t.chars().take_while(|c| *c != 'z').count();
            let end = start + "zorblax lesions".chars().count();
            (
                t,
                vec!["L98.9"],
                serde_json::json!([{"code": "L98.9", "start": start, "end": end}]),
            )
        } else {
            (
                format!("Note {i}. Cough for a week."),
                vec!["R05.9"],
                serde_json::json!([]),
            )
        };
        lines.push(
            serde_json::json!({"id": i, "text": text, "codes": codes, "evidence": ev}).to_string(),
        );
    }
    let hist = dir.path().join("history.ndjson");
    std::fs::write(&hist, lines.join("\n")).unwrap();
    let model = dir.path().join("m.json");
    let out = medledger(
        data(),
        &[
            "learn",
            "--ndjson",
            hist.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--json",
        ],
    );
    json(&out);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let learned = m["learned_terms"].as_array().unwrap();
    assert!(
        learned.iter().any(|t| t["code"] == "L989"
            && t["concepts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "zorblax")),
        "a span term for the evidence words"
    );
    // A span past the end of its note is refused with the file and line.
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        r#"{"id": 1, "text": "short", "codes": ["R69"], "evidence": [{"code": "R69", "start": 2, "end": 99}]}"#,
    )
    .unwrap();
    let out = medledger(
        data(),
        &[
            "learn",
            "--ndjson",
            bad.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(
        err.contains("bad.ndjson:1") && err.contains("evidence[0]"),
        "{err}"
    );
}
