//! Envelope + segment scanning throughput on `x12_many_claims.txt`
//! concatenated to at least 50 MB in memory:
//! `cargo run --release -p medledger-x12 --example bench [path] [rounds]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let shared = std::env::var_os("MEDLEDGER_SHARED")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").into());
            shared.join("eval/x12/837P/x12_many_claims.txt")
        });
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(5);
    let one = std::fs::read(&path)?;
    let mut big = Vec::with_capacity(50_000_000 + one.len());
    while big.len() < 50_000_000 {
        big.extend_from_slice(&one);
        big.push(b'\n');
    }
    // warm up
    let _ = medledger_x12::bench_parse(&big, 1);
    let r = medledger_x12::bench_parse(&big, rounds);
    println!(
        "{} bytes x {} rounds in {:.3} s: {:.0} MB/s ({} interchanges, {} segments per round){}",
        big.len(),
        r.rounds,
        r.seconds,
        r.mb_per_s,
        r.interchanges,
        r.segments,
        r.error.map(|e| format!(" ERROR {e}")).unwrap_or_default()
    );
    Ok(())
}
