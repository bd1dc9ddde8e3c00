//! Random JSON mutations of valid bundles never panic (parse, validate,
//! ingest, remittance), and whatever still parses ingests.

mod common;

use medledger_fhir::fuzzing::fuzz_bundle;
use proptest::prelude::*;
use serde_json::Value;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9:/#.\\-]{0,12}".prop_map(Value::from),
        Just(Value::from("urn:uuid:00000000-0000-4000-8000-0000000000e1")),
        Just(Value::from("2024-02-30")),
        Just(Value::from("Patient")),
        Just(Value::Array(vec![])),
        Just(serde_json::json!({})),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(Value),
    Delete,
    Duplicate,
    RenameKey(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        leaf().prop_map(Edit::Replace),
        Just(Edit::Delete),
        Just(Edit::Duplicate),
        prop_oneof![
            Just("resourceType"),
            Just("reference"),
            Just("status"),
            Just("class"),
            Just("data"),
            Just("contentType")
        ]
        .prop_map(|s| Edit::RenameKey(s.to_owned())),
    ]
}

/// Applies `e` to the `n`-th node (pre-order, modulo the node count).
fn apply(v: &mut Value, n: usize, e: &Edit) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(m) => m.values().map(count).sum(),
            _ => 0,
        }
    }
    fn go(v: &mut Value, n: &mut usize, e: &Edit) -> bool {
        let children: usize = match v {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        };
        for i in 0..children {
            if *n == 0 {
                match (v, e) {
                    (Value::Array(a), Edit::Replace(x)) => a[i] = x.clone(),
                    (Value::Array(a), Edit::Delete) => {
                        a.remove(i);
                    }
                    (Value::Array(a), Edit::Duplicate | Edit::RenameKey(_)) => {
                        let x = a[i].clone();
                        a.insert(i, x);
                    }
                    (Value::Object(m), ed) => {
                        let k = m.keys().nth(i).cloned().unwrap_or_default();
                        match ed {
                            Edit::Replace(x) => {
                                m.insert(k, x.clone());
                            }
                            Edit::Delete => {
                                m.remove(&k);
                            }
                            Edit::Duplicate => {
                                let x = m[&k].clone();
                                m.insert(format!("{k}_"), x);
                            }
                            Edit::RenameKey(nk) => {
                                if let Some(x) = m.remove(&k) {
                                    m.insert(nk.clone(), x);
                                }
                            }
                        }
                    }
                    _ => {}
                }
                return true;
            }
            *n -= 1;
            let child = match v {
                Value::Array(a) => &mut a[i],
                Value::Object(m) => m.values_mut().nth(i).expect("child"),
                _ => unreachable!(),
            };
            if go(child, n, e) {
                return true;
            }
        }
        false
    }
    let total = count(v).max(1);
    let mut k = n % total;
    go(v, &mut k, e);
}

fn seeds() -> Vec<Value> {
    let mut v = vec![
        serde_json::from_slice(&common::fixture("notes-bundle.json")).unwrap(),
        serde_json::from_slice(&common::fixture("remittance-bundle.json")).unwrap(),
        serde_json::from_slice(&common::fixture("claimresponse-paid.json")).unwrap(),
    ];
    // the first 30 entries of one Synthea bundle (keeps each case fast)
    let (_, bytes) = &common::synthea()[2];
    let mut b: Value = serde_json::from_slice(bytes).unwrap();
    b["entry"].as_array_mut().unwrap().truncate(30);
    v.push(b);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn json_mutations_never_panic(seed in 0usize..4, edits in proptest::collection::vec((any::<usize>(), edit()), 1..4)) {
        let mut v = seeds().swap_remove(seed);
        for (n, e) in &edits {
            apply(&mut v, *n, e);
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        fuzz_bundle(&bytes);
    }

    #[test]
    fn byte_mutations_never_panic(seed in 0usize..4, cuts in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), truncate in any::<Option<usize>>()) {
        let mut bytes = serde_json::to_vec(&seeds().swap_remove(seed)).unwrap();
        for (at, b) in cuts {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        if let Some(t) = truncate {
            bytes.truncate(t % (bytes.len() + 1));
        }
        fuzz_bundle(&bytes);
    }
}

#[test]
fn fixtures_and_seed_edits_replay() {
    // every fixture, and every fixture cut at many points, through the fuzz entry
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.extend(
        std::fs::read_dir(dir.join("invalid"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for p in files.into_iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(&p).unwrap();
        fuzz_bundle(&bytes);
        let step = (bytes.len() / 50).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            fuzz_bundle(&bytes[..cut]);
        }
    }
    // deep nesting is refused, not a stack overflow
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    fuzz_bundle(deep.as_bytes());
    let deep = format!(
        "{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{{\"resource\":{}1{}}}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    fuzz_bundle(deep.as_bytes());
}
