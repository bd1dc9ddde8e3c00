//! `medledger bench audit`: the audit chain is built, verified and round
//! tripped through its storage columns.

mod common;

use common::{json, medledger};

#[test]
fn bench_audit_builds_and_verifies_a_signed_chain() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&medledger(
        dir.path(),
        &["bench", "audit", "--entries", "5000", "--json"],
    ));
    assert_eq!(v["ok"], true);
    assert_eq!(v["entries"], 5000);
    // A checkpoint opens the chain and one follows every 1,000 entries.
    assert!(v["checkpoints"].as_u64().unwrap() >= 5, "{v}");
    assert!(v["verified_per_second"].as_f64().unwrap() > 0.0);
    let out = medledger(dir.path(), &["bench", "audit", "--entries", "0", "--json"]);
    assert!(!out.status.success());
}
