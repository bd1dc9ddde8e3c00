//! `medledger`: the command-line face of the medledger engines.
//!
//! Every command prints human-readable text, or JSON with `--json`.
//! The data directory comes from `--data-dir`, else `MEDLEDGER_DATA`, else
//! the user's data directory.

/// Loading the installed index is allocation-bound (tens of thousands of
/// small strings); mimalloc makes a cold `code show` markedly faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod claims_cmd;
mod coding;
mod denial_cmd;
mod download;
mod fhir_cmd;
mod hcc_cmd;
mod ledger;
mod ledger_cmd;
mod output;
mod progress;
mod report_cmd;
mod serve_cmd;
mod services;
mod vbc_cmd;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use medledger_codesets::icd10cm::index::IndexKind;
use medledger_codesets::search::SearchOptions;
use medledger_codesets::{Date, Engine, InstallOptions, System};

#[derive(Parser)]
#[command(
    name = "medledger",
    version,
    about = "AI-assisted medical coding and billing: code sets, coding, review, claims"
)]
struct Cli {
    /// Data directory holding the installed code sets.
    #[arg(long, global = true, env = "MEDLEDGER_DATA")]
    data_dir: Option<PathBuf>,
    /// Print JSON for machines instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    ledger: ledger_cmd::LedgerOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install and inspect official code-set releases.
    #[command(subcommand)]
    Codesets(CodesetsCmd),
    /// Look up, search, validate and map codes.
    #[command(subcommand)]
    Code(CodeCmd),
    /// Walk the ICD-10-CM Alphabetic Index and the Neoplasm/Drug tables.
    #[command(subcommand)]
    Index(IndexCmd),
    /// Query the CMS NCCI edit tables.
    #[command(subcommand)]
    Ncci(NcciCmd),
    /// Code a batch of notes (files, folders, NDJSON, CSV) into NDJSON, in parallel.
    CodeNotes(coding::CodeNotesArgs),
    /// Learn a coding model from previously coded notes.
    Learn(coding::LearnArgs),
    /// Evaluate the coding engine on a benchmark corpus.
    #[command(subcommand)]
    Eval(EvalCmd),
    /// E/M level of a visit note from documented MDM or time, with its grid.
    Em(services::EmArgs),
    /// Remote physiologic/therapeutic monitoring codes for one period.
    Rpm(services::RpmArgs),
    /// Digital mental-health treatment device codes and documentation gaps.
    Dmht(services::DmhtArgs),
    /// PLA (####U) codes and test names in an order, with coverage risk.
    Pla(services::PlaArgs),
    /// Telehealth place of service and modifiers from the documented modality.
    Telehealth(services::TelehealthArgs),
    /// Measure install time, lookup latency, search latency and memory.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// The ledger database: migrations.
    #[command(subcommand)]
    Db(ledger_cmd::DbCmd),
    /// Users, roles and API tokens.
    #[command(subcommand)]
    User(ledger_cmd::UserCmd),
    /// Store coded encounters (patient, note, coding run, suggestions).
    #[command(subcommand)]
    Encounter(ledger_cmd::EncounterCmd),
    /// The human review: work queue, accept / reject / edit, finalise.
    #[command(subcommand)]
    Review(ledger_cmd::ReviewCmd),
    /// The review policy (which encounters need a human).
    #[command(subcommand)]
    Policy(ledger_cmd::PolicyCmd),
    /// The tamper-evident audit trail: verify, export the defence packet.
    #[command(subcommand)]
    Audit(ledger_cmd::AuditCmd),
    /// Encryption keys: rotate the data key or the master key.
    #[command(subcommand)]
    Keys(ledger_cmd::KeysCmd),
    /// Claims: build from an encounter, scrub, export X12 837P/837I.
    #[command(subcommand)]
    Claim(claims_cmd::ClaimCmd),
    /// Remittance advice (835): parse and post payments and denials.
    #[command(subcommand)]
    Remit(claims_cmd::RemitCmd),
    /// Acknowledgements (999, 277CA): parse and record acceptance.
    #[command(subcommand)]
    Ack(claims_cmd::AckCmd),
    /// FHIR R4: check and import Bundles, emit Claims, post ClaimResponse/EOB.
    #[command(subcommand)]
    Fhir(fhir_cmd::FhirCmd),
    /// Serve the HTTP API and the review UI (SQLite by default, PostgreSQL by --db).
    Serve(serve_cmd::ServeArgs),
    /// API tokens for users of the ledger the server uses.
    #[command(subcommand)]
    Token(serve_cmd::TokenCmd),
    /// Revenue intelligence: clean claims, denials, A/R, gold card, AI drift.
    #[command(subcommand)]
    Report(report_cmd::ReportCmd),
    /// Denial prediction: simulate a claims history, train, score, evaluate.
    #[command(subcommand)]
    Denials(denial_cmd::DenialCmd),
    /// CMS-HCC risk scores (V28, V24) from diagnoses and demographics.
    #[command(subcommand)]
    Hcc(hcc_cmd::HccCmd),
    /// Value-based care: MEAT support, care gaps, ICD-11 dual coding and clusters.
    #[command(subcommand)]
    Vbc(vbc_cmd::VbcCmd),
}

#[derive(Subcommand)]
enum EvalCmd {
    /// CodiEsp-D (diagnoses): micro P/R/F1, category F1, MAP, evidence F1.
    Codiesp(coding::EvalArgs),
}

#[derive(Subcommand)]
enum CodesetsCmd {
    /// Install every release file found in a directory (or downloaded from
    /// the publishers' URLs in the sources config).
    Install {
        /// Directory of release files, zipped or extracted, as published.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Your licensed CPT file (code and descriptor); never shipped with medledger.
        #[arg(long)]
        cpt: Option<PathBuf>,
        /// Download sources config (JSON); defaults to the built-in publisher list.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Reinstall even when the sources are unchanged.
        #[arg(long)]
        force: bool,
    },
    /// List installed components and the dates they apply to.
    List,
    /// Remove installed components by id (as `codesets list` shows them).
    Remove {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
    },
    /// Re-hash every installed file against the manifest.
    Verify,
}

#[derive(Subcommand)]
enum CodeCmd {
    /// Everything about one code: title, billable, parents, notes, 7th characters, ICD-11 map.
    Show {
        code: String,
        #[arg(long)]
        system: Option<String>,
        /// Date of service (YYYY-MM-DD): picks the release.
        #[arg(long)]
        dos: Option<String>,
    },
    /// Search codes by words, abbreviations or code prefix.
    Search {
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// Restrict to systems (icd10cm, icd11, hcpcs, cpt); repeatable.
        #[arg(long)]
        system: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only billable / leaf codes.
        #[arg(long)]
        billable: bool,
    },
    /// Validate codes for a date of service.
    Validate {
        #[arg(required = true, num_args = 1..)]
        codes: Vec<String>,
        #[arg(long)]
        dos: Option<String>,
        #[arg(long)]
        system: Option<String>,
    },
    /// Code one clinical note (a file, or - for standard input): suggested codes with evidence.
    Note {
        file: PathBuf,
        #[command(flatten)]
        enc: coding::EncounterArgs,
        #[command(flatten)]
        model: coding::ModelArgs,
    },
    /// Map between ICD-10-CM and ICD-11 with the WHO tables.
    Map {
        code: String,
        /// Target: icd11 or icd10cm.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum IndexCmd {
    /// Walk main term and subterms, e.g. "diabetes, type 2, with, chronic kidney disease".
    Lookup {
        path: String,
        /// main, external, neoplasm or drug (default: try all).
        #[arg(long)]
        table: Option<String>,
        #[arg(long)]
        dos: Option<String>,
    },
}

#[derive(Subcommand)]
enum NcciCmd {
    /// Procedure-to-procedure edit between two codes on a date.
    Ptp {
        code1: String,
        code2: String,
        #[arg(long)]
        dos: String,
    },
    /// Medically unlikely edit values for a code.
    Mue { code: String },
    /// Add-on code edits: the primary codes an add-on code may be billed with.
    Aoc {
        code: String,
        #[arg(long)]
        dos: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Full install, cold `code show`, in-process show and search, memory.
    Codesets(bench::BenchArgs),
    /// Coding throughput (one core and all cores), engine start, linearity, memory.
    Coder(coding::BenchCoderArgs),
    /// E/M leveling time per note over a corpus, engine start.
    Em(services::BenchEmArgs),
    /// Audit chain: append and verify rates over a synthetic chain.
    Audit(ledger::BenchAuditArgs),
    /// Ledger: review decisions per second with the audit chain on (SQLite or --db postgres://…).
    Ledger(ledger::BenchLedgerArgs),
    /// Claims: scrub lines/s with the installed tables, 837 claims written/s, X12 parse MB/s.
    Claims(claims_cmd::BenchClaimsArgs),
}

fn data_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(d) = &cli.data_dir {
        return Ok(d.clone());
    }
    let dirs = directories::ProjectDirs::from("org", "medledger", "medledger")
        .context("cannot find a user data directory: pass --data-dir or set MEDLEDGER_DATA")?;
    Ok(dirs.data_dir().to_path_buf())
}

fn parse_dos(s: &Option<String>) -> Result<Option<Date>> {
    match s {
        None => Ok(None),
        Some(s) => Ok(Some(s.parse::<Date>().with_context(|| {
            format!("--dos {s:?}: expected a date as YYYY-MM-DD")
        })?)),
    }
}

fn parse_system(s: &str) -> Result<System> {
    System::parse(s)
        .with_context(|| format!("unknown code system {s:?}: use icd10cm, icd11, hcpcs or cpt"))
}

fn open(cli: &Cli) -> Result<Engine> {
    let dir = data_dir(cli)?;
    Ok(Engine::open(&dir)?)
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(&cli) {
        let text = error_text(&e);
        if cli.json {
            println!("{}", serde_json::json!({ "error": text }));
        } else {
            eprintln!("error: {text}");
        }
        std::process::exit(1);
    }
}

/// The error and its causes, `: `-joined, leaving out a cause whose text the
/// message before it already includes (library errors often quote their source).
fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let msg = cause.to_string();
        if out.contains(&msg) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&msg);
    }
    out
}

fn run(cli: &Cli) -> Result<()> {
    let json = cli.json;
    match &cli.command {
        Command::Codesets(CodesetsCmd::Install {
            from,
            cpt,
            config,
            force,
        }) => {
            let dir = data_dir(cli)?;
            let from = match from {
                Some(f) => f.clone(),
                None => download::fetch_sources(&dir, config.as_deref(), json)?,
            };
            let opts = InstallOptions {
                from,
                cpt: cpt.clone(),
                force: *force,
            };
            let bars = progress::Bars::new(json);
            let report = medledger_codesets::install(&dir, &opts, &bars)?;
            output::install_report(&report, json)?;
            // The CMS-HCC tables, when the same folder holds them. With --json
            // the report goes to stderr so stdout stays one JSON document.
            let hcc = medledger_hcc::install(&opts.from, &dir).with_context(|| {
                format!("installing the HCC tables from {}", opts.from.display())
            })?;
            if let Some(hcc) = hcc {
                let line = serde_json::json!({ "hcc": {
                    "snapshot": hcc.snapshot, "sha256": hcc.manifest.sha256,
                    "files": hcc.manifest.files.len(), "notes": hcc.manifest.notes } });
                if json {
                    eprintln!("{line}");
                } else {
                    println!(
                        "hcc: {} tables -> {}",
                        hcc.manifest.files.len(),
                        hcc.snapshot.display()
                    );
                }
            }
            Ok(())
        }
        Command::Codesets(CodesetsCmd::List) => {
            let engine = open(cli)?;
            output::manifest(engine.manifest(), json)
        }
        Command::Codesets(CodesetsCmd::Remove { ids }) => {
            let dir = data_dir(cli)?;
            let removed = medledger_codesets::remove(&dir, ids, &progress::Bars::new(json))?;
            if json {
                println!("{}", serde_json::json!({ "removed": removed }));
            } else {
                for id in removed {
                    println!("removed {id}");
                }
            }
            Ok(())
        }
        Command::Codesets(CodesetsCmd::Verify) => {
            let dir = data_dir(cli)?;
            let results = medledger_codesets::store::verify(&dir)?;
            let bad = results.iter().filter(|(_, ok)| !ok).count();
            output::verify(&results, json)?;
            if bad > 0 {
                bail!(
                    "{bad} installed files do not match the manifest: reinstall with `medledger codesets install --force`"
                );
            }
            Ok(())
        }
        Command::Code(CodeCmd::Show { code, system, dos }) => {
            let engine = open(cli)?;
            let system = system.as_deref().map(parse_system).transpose()?;
            let detail = engine.show(code, system, parse_dos(dos)?)?;
            output::detail(&detail, json)
        }
        Command::Code(CodeCmd::Search {
            query,
            system,
            limit,
            billable,
        }) => {
            let engine = open(cli)?;
            let systems = system
                .iter()
                .map(|s| parse_system(s))
                .collect::<Result<Vec<_>>>()?;
            let opts = SearchOptions {
                systems,
                limit: *limit,
                billable_only: *billable,
            };
            let hits = engine.search(&query.join(" "), &opts)?;
            output::hits(&hits, json)
        }
        Command::Code(CodeCmd::Validate { codes, dos, system }) => {
            let engine = open(cli)?;
            let system = system.as_deref().map(parse_system).transpose()?;
            let results = engine.validate(codes, parse_dos(dos)?, system)?;
            output::validations(&results, json)
        }
        Command::Code(CodeCmd::Map { code, to }) => {
            let engine = open(cli)?;
            let to = parse_system(to)?;
            let result = engine.map(code, to)?;
            output::map(&result, json)
        }
        Command::Index(IndexCmd::Lookup { path, table, dos }) => {
            let engine = open(cli)?;
            let kind = match table {
                Some(t) => Some(IndexKind::parse(t).with_context(|| {
                    format!("unknown table {t:?}: use main, external, neoplasm or drug")
                })?),
                None => None,
            };
            let result = engine.lookup(path, kind, parse_dos(dos)?)?;
            output::lookup(&result, json)
        }
        Command::Ncci(cmd) => {
            let engine = open(cli)?;
            match cmd {
                NcciCmd::Ptp { code1, code2, dos } => {
                    let dos = parse_dos(&Some(dos.clone()))?.context("--dos is required")?;
                    let answer = engine.ptp(code1, code2, dos)?;
                    output::ptp(&answer, json)
                }
                NcciCmd::Mue { code } => output::mue(&engine, code, json),
                NcciCmd::Aoc { code, dos } => output::aoc(&engine, code, parse_dos(dos)?, json),
            }
        }
        Command::Bench(BenchCmd::Codesets(args)) => bench::run(args, data_dir(cli).ok(), json),
        Command::Bench(BenchCmd::Coder(args)) => {
            let engine = open(cli)?;
            coding::bench_coder(&engine, &data_dir(cli)?, args, json)
        }
        Command::Code(CodeCmd::Note { file, enc, model }) => {
            let engine = open(cli)?;
            coding::code_note(&engine, &data_dir(cli)?, file, enc, model, json)
        }
        Command::CodeNotes(args) => {
            let engine = open(cli)?;
            coding::code_notes(&engine, &data_dir(cli)?, args, json)
        }
        Command::Learn(args) => {
            let engine = open(cli)?;
            coding::learn_cmd(&engine, &data_dir(cli)?, args, json)
        }
        Command::Em(args) => services::em(args, json),
        Command::Rpm(args) => services::rpm(args, json),
        Command::Dmht(args) => services::dmht(args, json),
        Command::Pla(args) => services::pla(args, json),
        Command::Telehealth(args) => services::telehealth_cmd(args, json),
        Command::Bench(BenchCmd::Em(args)) => services::bench_em(args, json),
        Command::Bench(BenchCmd::Audit(args)) => ledger::bench_audit(args, json),
        Command::Bench(BenchCmd::Ledger(args)) => {
            ledger::bench_ledger(args, &data_dir(cli)?, &cli.ledger, json)
        }
        Command::Db(cmd) => ledger_cmd::db(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::User(cmd) => ledger_cmd::user(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Encounter(cmd) => ledger_cmd::encounter(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Review(cmd) => ledger_cmd::review(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Policy(cmd) => ledger_cmd::policy(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Audit(cmd) => ledger_cmd::audit(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Keys(cmd) => ledger_cmd::keys(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Claim(cmd) => claims_cmd::claim(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Remit(cmd) => claims_cmd::remit(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Ack(cmd) => claims_cmd::ack(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Fhir(cmd) => fhir_cmd::fhir(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Serve(args) => serve_cmd::serve(args, &data_dir(cli)?, &cli.ledger, json),
        Command::Token(cmd) => serve_cmd::token(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Report(cmd) => report_cmd::report(cmd, &data_dir(cli)?, &cli.ledger, json),
        Command::Denials(cmd) => denial_cmd::denials(cmd, &data_dir(cli)?, json),
        Command::Hcc(cmd) => hcc_cmd::hcc(cmd, &data_dir(cli)?, json),
        Command::Vbc(cmd) => vbc_cmd::vbc(cmd, &data_dir(cli)?, json),
        Command::Bench(BenchCmd::Claims(args)) => {
            claims_cmd::bench_claims(args, &data_dir(cli)?, json)
        }
        Command::Eval(EvalCmd::Codiesp(args)) => {
            let engine = open(cli)?;
            coding::eval_codiesp(&engine, &data_dir(cli)?, args, json)
        }
    }
}
