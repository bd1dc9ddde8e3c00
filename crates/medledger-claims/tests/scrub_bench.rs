//! Scrubber throughput: claims of 1 to 20 lines over the installed code sets
//! plus PTP and MUE tables of the full CMS size (synthetic rows in the CMS
//! structure; the real ones are not in `../shared`).
//!
//! `cargo test --release -p medledger-claims --test scrub_bench -- --nocapture`
//! prints the figure and requires at least 500,000 service lines per second
//! on one core; a debug build only checks that the benchmark runs.

#[path = "fixtures/scrub/common.rs"]
mod common;

use medledger_claims::model::Claim;
use medledger_claims::payer::PayerProfiles;
use medledger_claims::scrub::{ScrubContext, ScrubTables, bench_scrub, scrub};
use medledger_codesets::ncci::{MueEntry, MueTable, NcciSetting, PtpEdit, PtpTable};
use serde_json::json;

fn synthetic_ptp(rows: usize) -> PtpTable {
    let eff: jiff::civil::Date = "2015-01-01".parse().expect("date");
    let mut edits = Vec::with_capacity(rows);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while edits.len() < rows {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let a = 10_000 + (x % 60_000) as u32;
        let b = 10_000 + ((x >> 20) % 60_000) as u32;
        if a == b {
            continue;
        }
        edits.push(PtpEdit {
            column1: a.to_string(),
            column2: b.to_string(),
            pre_1996: false,
            effective: eff,
            deleted: None,
            modifier_indicator: 1,
            rationale: String::new(),
        });
    }
    PtpTable {
        source_file: "synthetic".into(),
        setting: NcciSetting::Practitioner,
        edits,
    }
}

fn synthetic_mue() -> MueTable {
    let entries = (10_000..100_000u32)
        .step_by(7)
        .map(|c| MueEntry {
            code: c.to_string(),
            value: 50,
            adjudication_indicator: 3,
            adjudication_text: String::new(),
            rationale: String::new(),
        })
        .collect();
    MueTable {
        source_file: "synthetic".into(),
        setting: NcciSetting::Practitioner,
        effective_from: None,
        entries,
    }
}

/// Claims of 1..=20 lines, a realistic mix of codes and 1-4 diagnoses.
fn claims() -> Vec<Claim> {
    let pool = [
        "99213", "36415", "80053", "85025", "81002", "93000", "71046", "97110", "99214", "G0439",
        "87426", "90471", "90686", "82947", "84443", "80061", "83036", "97140", "99395", "G2211",
    ];
    let dx = [
        "E119", "I10", "E785", "J069", "M5450", "F411", "K219", "Z0000",
    ];
    let mut out = Vec::new();
    for n in 1..=20usize {
        for variant in 0..5usize {
            let lines: Vec<_> = (0..n)
                .map(|i| {
                    json!({"procedure": pool[(i + variant * 3) % pool.len()], "units": 1, "charge_cents": 5000,
                           "date_from": "2026-05-12", "diagnosis_pointers": [1 + (i % 2)]})
                })
                .collect();
            let ndx = 2 + (variant % 3);
            let v = json!({
                "id": format!("B-{n}-{variant}"), "kind": "professional", "frequency": "1",
                "billing_provider": {"npi": "1900000013", "last_or_org_name": "Riverbend Family Medicine",
                    "address": {"lines": ["100 Main Street"], "city": "Springfield", "state": "IL", "zip": "62701"}},
                "rendering_provider": {"npi": "1910000011", "last_or_org_name": "Quinn"},
                "payer": if variant % 2 == 0 { json!({"id": "MEDICARE-B", "name": "Medicare", "filing_indicator": "MB"}) }
                         else { json!({"id": "ACME01", "name": "ACME", "filing_indicator": "CI"}) },
                "responsibility": "primary",
                "subscriber": {"member_id": "M", "person": {"last_name": "B", "first_name": "C", "dob": "1950-02-03", "sex": "F"}, "relationship": "18"},
                "place_of_service": "11",
                "diagnoses": dx.iter().skip(variant).take(ndx).map(|c| json!({"code": c})).collect::<Vec<_>>(),
                "lines": lines,
            });
            out.push(common::claim_from_value(&v));
        }
    }
    out
}

#[test]
fn scrub_throughput() {
    let inst = common::installed();
    let release = !cfg!(debug_assertions);
    let mut tables = ScrubTables::from_engine(&inst.engine).expect("tables");
    tables.add_ptp(
        "synthetic-ptp",
        &synthetic_ptp(if release { 2_000_000 } else { 20_000 }),
    );
    tables.add_mue("synthetic-mue", &synthetic_mue());
    let profiles = PayerProfiles::builtin().expect("profiles");
    let claims = claims();
    let today = common::date("2026-07-01");
    // One payer per run (the bench measures the scrubber, not profile look-up).
    let ctx = ScrubContext::new(&tables, today).with_payer(profiles.get("medicare-b"));
    let dirty = claims.iter().filter(|c| !scrub(c, &ctx).clean).count();
    let rounds = if release { 2000 } else { 2 };
    let (lines, secs) = bench_scrub(&ctx, &claims, rounds);
    let rate = lines as f64 / secs;
    println!(
        "scrub: {lines} lines in {secs:.3} s = {rate:.0} lines/s on one core ({} claims of 1-20 lines, {dirty} with a reject; {} PTP rows)",
        claims.len(),
        tables.summary().ptp.iter().map(|p| p.2).sum::<usize>()
    );
    assert_eq!(
        lines,
        (claims.iter().map(|c| c.lines.len()).sum::<usize>() * rounds) as u64
    );
    if release {
        assert!(rate >= 500_000.0, "{rate:.0} lines/s is below 500,000");
    }
}
