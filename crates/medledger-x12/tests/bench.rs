//! Throughput check (release only, ignored by default):
//! `cargo test --release -p medledger-x12 --test bench -- --ignored --nocapture`.

mod common;

#[test]
#[ignore = "throughput measurement; run in release"]
fn envelope_and_segment_scanning_is_fast() {
    let one = common::sample("837P/x12_many_claims.txt");
    let mut big = Vec::with_capacity(50_000_000 + one.len());
    while big.len() < 50_000_000 {
        big.extend_from_slice(&one);
    }
    let _ = medledger_x12::bench_parse(&big, 1);
    let r = medledger_x12::bench_parse(&big, 5);
    eprintln!("{r:?}");
    assert!(r.error.is_none());
    assert_eq!(r.interchanges, big.len() / one.len());
    if !cfg!(debug_assertions) {
        assert!(r.mb_per_s >= 300.0, "{:.0} MB/s", r.mb_per_s);
    }
}
