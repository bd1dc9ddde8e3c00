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

#[derive(Args)]
pub struct BenchLedgerArgs {
    /// Review decisions to time (encounters of 5 suggestions are stored first).
    #[arg(long, default_value_t = 20_000)]
    pub decisions: usize,
    /// How many of them are made one call (one durable commit) each; the
    /// rest go in batches of --batch per commit.
    #[arg(long, default_value_t = 2_000)]
    pub single: usize,
    /// Decisions per commit in the batched phase.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Before timing `audit verify`, pad the stored chain with synthetic
    /// PHI-read entries up to this many entries (0: no padding).
    #[arg(long, default_value_t = 0)]
    pub audit_entries: u64,
}

#[derive(Serialize)]
struct LedgerBench {
    database: String,
    encounters: usize,
    encounters_per_second: f64,
    single_decisions: usize,
    single_per_second: f64,
    single_p50_ms: f64,
    single_p99_ms: f64,
    batch_size: usize,
    batched_decisions: usize,
    batched_per_second: f64,
    all_decisions_per_second: f64,
    finalised: usize,
    audit_entries: u64,
    audit_padding_seconds: f64,
    audit_verify_seconds: f64,
    audit_verified_per_second: f64,
    audit_ok: bool,
}

/// `bench ledger`: stores synthetic encounters, then times review
/// decisions (each one durable, audit chain on) one per commit and in
/// batches, and verifies the resulting chain. Uses a fresh SQLite file in a
/// temporary directory unless `--db` names a database; on PostgreSQL a fresh
/// organisation keeps the benchmark's rows apart.
pub fn bench_ledger(
    args: &BenchLedgerArgs,
    data_dir: &std::path::Path,
    opts: &crate::ledger_cmd::LedgerOpts,
    json: bool,
) -> Result<()> {
    use medledger_ledger::ledger::{
        DecisionInput, EvidenceSpan, Ledger, LedgerConfig, NewEncounter, NewPatient, NewSuggestion,
        NewUser, RejectReason, Role,
    };
    if args.decisions == 0 || args.batch == 0 {
        bail!("--decisions and --batch must be at least 1");
    }
    // Without --db: a throw-away SQLite file and keys in a temporary
    // directory. With --db: the data directory's keys, so the audit chain of
    // a database benchmarked repeatedly stays verifiable.
    let tmp = tempfile::tempdir()?;
    let key_dir = if opts.db.is_some() {
        data_dir
    } else {
        tmp.path()
    };
    let mut cfg = LedgerConfig::new(key_dir, opts.db.as_deref())?;
    cfg.master_key_env = None;
    let (mut l, _) = Ledger::open(&cfg)?;
    let org = format!("bench-{}", jiff::Timestamp::now().as_millisecond());
    l.ensure_org(&org, "benchmark")?;
    let op = l.operator(&org)?;
    l.add_user(
        &op,
        &NewUser {
            username: "bench-coder".into(),
            display_name: "Benchmark Coder".into(),
            credential: Some("CPC".into()),
            password: None,
            roles: vec![Role::Coder],
        },
    )?;
    let coder = l.principal_for(&org, "bench-coder")?;
    let per = 5usize;
    let encounters = args.decisions.div_ceil(per);
    let codes = ["E11.9", "I10", "J45.909", "M54.5", "R05.9"];
    let t = Instant::now();
    let mut suggestion_ids = Vec::with_capacity(encounters * per);
    for i in 0..encounters {
        let note = format!(
            "Synthetic note {i}. Assessment: type 2 diabetes mellitus, hypertension, asthma, low back pain, cough."
        );
        let suggestions = codes
            .iter()
            .map(|c| {
                let term = match *c {
                    "E11.9" => "type 2 diabetes mellitus",
                    "I10" => "hypertension",
                    "J45.909" => "asthma",
                    "M54.5" => "low back pain",
                    _ => "cough",
                };
                let start = note.find(term).unwrap_or(0);
                let start_c = note[..start].chars().count();
                NewSuggestion {
                    system: "ICD-10-CM".into(),
                    code: (*c).into(),
                    descriptor: term.into(),
                    confidence: 0.5,
                    flags: vec![],
                    rule_ids: vec!["dict.title".into()],
                    evidence: vec![EvidenceSpan {
                        start: start_c,
                        end: start_c + term.chars().count(),
                        text: term.into(),
                    }],
                    logic: serde_json::json!({"rule": "dict.title"}),
                }
            })
            .collect();
        let added = l.add_encounter(
            &op,
            &NewEncounter {
                patient: NewPatient {
                    name: format!("Synthetic Patient {}", i % 997),
                    dob: "1960-01-01".into(),
                    sex: Some("F".into()),
                },
                dos: "2026-11-02".into(),
                setting: "outpatient".into(),
                payer: Some("BENCH".into()),
                expected_charge_cents: Some(12_000),
                note_text: note,
                note_kind: "clinical_note".into(),
                engine_version: "bench".into(),
                model_version: None,
                codesets: vec!["icd10cm-2026".into()],
                duration_us: 0,
                release_covers_dos: true,
                suggestions,
            },
        )?;
        suggestion_ids.extend(added.suggestions);
    }
    let add_secs = t.elapsed().as_secs_f64();
    suggestion_ids.truncate(args.decisions);
    let decision = |i: usize| {
        if i % 7 == 3 {
            DecisionInput::Reject {
                reason: RejectReason::NotDocumented,
                comment: None,
            }
        } else {
            DecisionInput::Accept { comment: None }
        }
    };
    let single = args.single.min(suggestion_ids.len());
    let mut lat = Vec::with_capacity(single);
    let mut finalised = 0usize;
    let t = Instant::now();
    for (i, sid) in suggestion_ids[..single].iter().enumerate() {
        let s = Instant::now();
        let o = l.decide(&coder, *sid, &decision(i))?;
        lat.push(s.elapsed().as_secs_f64() * 1000.0);
        finalised += usize::from(o.finalised.is_some());
    }
    let single_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let rest = &suggestion_ids[single..];
    for (c, chunk) in rest.chunks(args.batch).enumerate() {
        let batch: Vec<(i64, DecisionInput)> = chunk
            .iter()
            .enumerate()
            .map(|(j, sid)| (*sid, decision(single + c * args.batch + j)))
            .collect();
        let out = l.decide_batch(&coder, &batch)?;
        finalised += out.iter().filter(|o| o.finalised.is_some()).count();
    }
    let batch_secs = t.elapsed().as_secs_f64();
    let so_far = l.verify_audit_unchecked()?.entries;
    let mut pad_secs = 0.0;
    if args.audit_entries > so_far {
        let t = Instant::now();
        l.bench_append_audit(&org, args.audit_entries - so_far, 20_000)?;
        pad_secs = t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let report = l.verify_audit_unchecked()?;
    let verify_secs = t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * q).round() as usize]
        }
    };
    let out = LedgerBench {
        database: l.location().to_owned(),
        encounters,
        encounters_per_second: encounters as f64 / add_secs,
        single_decisions: single,
        single_per_second: if single_secs > 0.0 {
            single as f64 / single_secs
        } else {
            0.0
        },
        single_p50_ms: pct(0.5),
        single_p99_ms: pct(0.99),
        batch_size: args.batch,
        batched_decisions: rest.len(),
        batched_per_second: if batch_secs > 0.0 {
            rest.len() as f64 / batch_secs
        } else {
            0.0
        },
        all_decisions_per_second: suggestion_ids.len() as f64 / (single_secs + batch_secs),
        finalised,
        audit_entries: report.entries,
        audit_padding_seconds: pad_secs,
        audit_verify_seconds: verify_secs,
        audit_verified_per_second: report.entries as f64 / verify_secs.max(1e-9),
        audit_ok: report.ok,
    };
    if !report.ok {
        bail!(
            "the benchmark's audit chain did not verify: {}",
            report.chain
        );
    }
    if json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!(
            "ledger bench on {}\n  stored {} encounters (5 suggestions each) at {:.0}/s\n  {} decisions one per commit: {:.0}/s (p50 {:.2} ms, p99 {:.2} ms)\n  {} decisions in commits of {}: {:.0}/s\n  all decisions: {:.0}/s; {} encounters finalised\n  audit verify: {} entries in {:.3} s ({:.0} entries/s)",
            out.database,
            out.encounters,
            out.encounters_per_second,
            out.single_decisions,
            out.single_per_second,
            out.single_p50_ms,
            out.single_p99_ms,
            out.batched_decisions,
            out.batch_size,
            out.batched_per_second,
            out.all_decisions_per_second,
            out.finalised,
            out.audit_entries,
            out.audit_verify_seconds,
            out.audit_verified_per_second
        );
    }
    Ok(())
}
