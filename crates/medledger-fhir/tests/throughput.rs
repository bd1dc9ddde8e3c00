//! Ingest throughput, printed for the report (`cargo test --release -p
//! medledger-fhir --test throughput -- --nocapture`).

mod common;

use medledger_fhir::bench::ingest_throughput;
use serde_json::Value;

/// One Synthea bundle repeated `copies` times with distinct fullUrls and
/// ids (references follow), ≈ 0.13 MB per copy (compact JSON).
fn big_bundle(copies: usize) -> Vec<u8> {
    let (_, bytes) = &common::synthea()[0];
    let text = std::str::from_utf8(bytes).unwrap();
    let mut entries = Vec::new();
    for k in 0..copies {
        // rewrite every uuid prefix so copies do not collide
        let t = text.replace("urn:uuid:", &format!("urn:uuid:{k:04}"));
        let v: Value = serde_json::from_str(&t).unwrap();
        entries.extend(v["entry"].as_array().unwrap().iter().cloned());
    }
    serde_json::to_vec(
        &serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}),
    )
    .unwrap()
}

#[test]
fn ingest_throughput_report() {
    let inputs: Vec<Vec<u8>> = common::synthea().into_iter().map(|(_, b)| b).collect();
    let small = ingest_throughput(&inputs, 20);
    assert_eq!(small.encounters, 24 * 20);
    let big = big_bundle(40);
    let start = std::time::Instant::now();
    let b = medledger_fhir::parse_bundle(&big).expect("big bundle");
    let parse_s = start.elapsed().as_secs_f64();
    let ing = medledger_fhir::ingest::ingest_bundle(&b).unwrap();
    assert_eq!(ing.encounters.len(), 6 * 40);
    let large = ingest_throughput(std::slice::from_ref(&big), 3);
    println!(
        "fhir ingest ({}): synthea {} bundles {:.1} MB in {:.3} s = {:.1} MB/s, {:.0} bundles/s; one {:.2} MB bundle: parse+validate {:.3} s, parse+validate+ingest {:.1} MB/s",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        small.bundles,
        small.bytes as f64 / 1e6,
        small.seconds,
        small.mb_per_s,
        small.bundles_per_s,
        big.len() as f64 / 1e6,
        parse_s,
        large.mb_per_s,
    );
    if !cfg!(debug_assertions) {
        assert!(
            parse_s < 1.0,
            "a {:.1} MB bundle took {parse_s:.2} s",
            big.len() as f64 / 1e6
        );
    }
}
