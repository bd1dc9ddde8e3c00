//! Ledger commands. For now `bench audit`: how fast the audit chain is
//! written and verified (the store that persists it comes with the review
//! workflow).

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use medledger_ledger::audit::{bench_chain, from_row, to_row, verify};
use serde::Serialize;

#[derive(Args)]
pub struct BenchAuditArgs {
    /// Entries in the synthetic chain (a signed checkpoint every 1,000).
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
}

#[derive(Serialize)]
struct AuditBench {
    entries: u64,
    checkpoints: u64,
    build_seconds: f64,
    appends_per_second: f64,
    verify_seconds: f64,
    verified_per_second: f64,
    row_round_trip_seconds: f64,
    ok: bool,
}

pub fn bench_audit(args: &BenchAuditArgs, json: bool) -> Result<()> {
    if args.entries == 0 {
        bail!("--entries must be at least 1");
    }
    let t = Instant::now();
    let (rows, keys) = bench_chain(args.entries);
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = verify(&rows, &keys);
    let check = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for e in &rows {
        let back = from_row(to_row(e)?)?;
        std::hint::black_box(back);
    }
    let round_trip = t.elapsed().as_secs_f64();
    let out = AuditBench {
        entries: report.entries,
        checkpoints: report.checkpoints,
        build_seconds: build,
        appends_per_second: args.entries as f64 / build,
        verify_seconds: check,
        verified_per_second: report.entries as f64 / check,
        row_round_trip_seconds: round_trip,
        ok: report.ok,
    };
    if !report.ok {
        bail!("the synthetic chain did not verify: {report}");
    }
    if json {
        println!("{}", serde_json::to_string(&out)?);
        return Ok(());
    }
    println!(
        "audit chain of {} entries ({} signed checkpoints)",
        out.entries, out.checkpoints
    );
    println!(
        "  append (hash, link, sign checkpoints): {:.2} s, {:.0} entries/s",
        out.build_seconds, out.appends_per_second
    );
    println!(
        "  verify: {:.2} s, {:.0} entries/s",
        out.verify_seconds, out.verified_per_second
    );
    println!(
        "  to_row + from_row (storage columns) for every entry: {:.2} s",
        out.row_round_trip_seconds
    );
    Ok(())
}
