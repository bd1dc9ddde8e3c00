//! `medledger fhir …`: FHIR R4 in and out (the same code as `/api/v1/fhir/*`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use medledger_server::fhir::{import_bundle, post_fhir_remittance};

use crate::coding::ModelArgs;
use crate::ledger_cmd::{LedgerOpts, coders, load_engine, open_ledger, principal};

#[derive(Subcommand)]
pub enum FhirCmd {
    /// Validate bundles and show what ingest reads (stores nothing).
    Check {
        /// FHIR R4 Bundle JSON files.
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
    },
    /// Ingest bundles: every Encounter with a text note is coded and stored.
    Import {
        /// FHIR R4 Bundle JSON files.
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// A stored claim as a FHIR R4 Claim bundle.
    Claim {
        /// Ledger claim id.
        claim: i64,
        /// Write it here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Post a ClaimResponse / ExplanationOfBenefit (or a Bundle of them) like an 835.
    Remit {
        /// The FHIR JSON file.
        file: PathBuf,
        /// Payer to record (default: the resource's insurer).
        #[arg(long)]
        payer: Option<String>,
    },
}

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
}

pub fn fhir(cmd: &FhirCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    match cmd {
        FhirCmd::Check { bundles } => {
            let mut out = Vec::new();
            for b in bundles {
                let bundle = medledger_fhir::parse_bundle(&read(b)?)
                    .with_context(|| format!("{}", b.display()))?;
                let ingest = medledger_fhir::ingest::ingest_bundle(&bundle)
                    .with_context(|| format!("{}", b.display()))?;
                if !json {
                    let r = &ingest.report;
                    println!(
                        "{}: valid; {} encounters ({} without a note), {} notes, {} conditions, {} procedures, {} observations, {} skipped",
                        b.display(),
                        r.encounters,
                        r.encounters_without_notes,
                        r.notes,
                        r.conditions,
                        r.procedures,
                        r.observations,
                        r.skipped.len()
                    );
                }
                out.push(
                    serde_json::json!({"file": b.display().to_string(), "report": ingest.report}),
                );
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
        }
        FhirCmd::Import { bundles, model } => {
            let eng = load_engine(data_dir);
            let coders = coders(&eng, model, data_dir)?;
            let mut l = open_ledger(data_dir, o, json)?;
            let p = principal(&mut l, o)?;
            let mut out = Vec::new();
            for b in bundles {
                let r = import_bundle(&coders, &mut l, &p, &read(b)?)
                    .with_context(|| format!("{}", b.display()))?;
                if !json {
                    println!(
                        "{}: {} of {} encounters stored",
                        b.display(),
                        r.stored,
                        r.encounters.len()
                    );
                    for e in &r.encounters {
                        match (&e.stored, &e.skipped) {
                            (Some(s), _) => println!(
                                "  Encounter/{} → encounter {} ({} suggestions, {})",
                                e.source_id, s.encounter, e.suggestions, s.status
                            ),
                            (None, Some(why)) => {
                                println!("  Encounter/{} skipped: {why}", e.source_id)
                            }
                            (None, None) => {}
                        }
                    }
                }
                out.push(serde_json::json!({"file": b.display().to_string(), "import": r}));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
        }
        FhirCmd::Claim { claim, out } => {
            let mut l = open_ledger(data_dir, o, json)?;
            let p = principal(&mut l, o)?;
            let record = l.claim(&p, *claim)?;
            let body: medledger_claims::model::Claim =
                serde_json::from_value(l.claim_body(&p, *claim)?)
                    .context("the stored claim is not a claim document")?;
            let created = medledger_server::fhir::claim_created(&record);
            let bundle = medledger_fhir::claim::try_claim_bundle(&body, &created)?;
            let text = serde_json::to_string_pretty(&bundle)?;
            match out {
                Some(f) => {
                    std::fs::write(f, text + "\n")
                        .with_context(|| format!("writing {}", f.display()))?;
                    if !json {
                        println!("claim {claim} → {}", f.display());
                    }
                }
                None => println!("{text}"),
            }
        }
        FhirCmd::Remit { file, payer } => {
            let mut l = open_ledger(data_dir, o, json)?;
            let p = principal(&mut l, o)?;
            let r = post_fhir_remittance(&mut l, &p, &read(file)?, payer.as_deref())
                .with_context(|| format!("{}", file.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "posted {} claims ({} unmatched), {} paid",
                    r.posted.len(),
                    r.unmatched.len(),
                    medledger_server::pipeline::format_dollars(r.posted_paid_cents)
                );
                for c in &r.posted {
                    println!("  claim {} ({}) → {}", c.claim, c.control_number, c.status);
                }
            }
        }
    }
    Ok(())
}
