//! `medledger denials` through the binary: simulate, train, evaluate,
//! update and score, with JSON output and located errors.

mod common;

use common::{json, medledger};
use std::path::Path;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/claims")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn simulate_train_evaluate_update_score() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hist = dir.path().join("h.json");
    let h = hist.to_str().unwrap();
    let s = json(&medledger(
        &data,
        &[
            "--json",
            "denials",
            "simulate",
            "--claims",
            "20000",
            "--seed",
            "3",
            "--start",
            "2025-01-01",
            "--months",
            "18",
            "--out",
            h,
        ],
    ));
    assert!(s["claims"].as_u64().unwrap() >= 20_000);
    assert!(s["lines"].as_u64().unwrap() > 30_000);
    let rate = s["denial_rate"].as_f64().unwrap();
    assert!(rate > 0.04 && rate < 0.2, "{rate}");
    assert_eq!(s["by_payer"].as_array().unwrap().len(), 7);
    assert!(
        s["by_reason"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"] == "CO-197")
    );

    let t = json(&medledger(
        &data,
        &[
            "--json",
            "denials",
            "train",
            "--history",
            h,
            "--until",
            "2026-01-01",
        ],
    ));
    assert!(t["claims"].as_u64().unwrap() > 10_000);
    let model = data.join("denials/model.json");
    assert!(
        model.exists(),
        "the model defaults to DATA_DIR/denials/model.json"
    );

    let e = json(&medledger(
        &data,
        &[
            "--json",
            "denials",
            "evaluate",
            "--history",
            h,
            "--split-date",
            "2026-01-01",
            "--no-default-figure",
        ],
    ));
    let auc = e["auc"].as_f64().unwrap();
    assert!(auc > 0.85, "{auc}");
    assert_eq!(e["calibration"].as_array().unwrap().len(), 10);
    assert!(e["ece"].as_f64().unwrap() < 0.05);
    assert!(e.get("auc_on_default_settings").is_none());

    let u = json(&medledger(
        &data,
        &[
            "--json",
            "denials",
            "update",
            "--history",
            h,
            "--from",
            "2026-01-01",
        ],
    ));
    assert!(u["learnt_from"].as_u64().unwrap() > 3_000);
    assert_eq!(u["updates"], 1);

    let p = json(&medledger(
        &data,
        &[
            "--json",
            "denials",
            "score",
            &example("mri-lumbar-prior-auth.json"),
        ],
    ));
    let prob = p["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&prob));
    assert_eq!(p["claim"], "EX-0004");
    assert!(!p["top_features"].as_array().unwrap().is_empty());
    assert!(p["reason"][0].is_string());

    // Text output: a table with the features.
    let out = medledger(
        &data,
        &[
            "denials",
            "score",
            &example("office-visit-established.json"),
        ],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("denial probability") && text.contains("feature"),
        "{text}"
    );
}

#[test]
fn errors_say_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let missing = medledger(
        &data,
        &[
            "denials",
            "score",
            &example("office-visit-established.json"),
        ],
    );
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("model.json"), "{err}");

    let bad = dir.path().join("h.json");
    std::fs::write(&bad, "{\"payers\": [}").unwrap();
    let out = medledger(
        &data,
        &["denials", "train", "--history", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("h.json") && err.contains("line 1"), "{err}");

    let out = medledger(
        &data,
        &[
            "denials",
            "simulate",
            "--start",
            "2025-13-01",
            "--out",
            "x.json",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--start"));
}
