//! `medledger denials`: simulate a claims history, train the denial model,
//! evaluate it on a later period, update it with new outcomes and score a
//! claim before submission.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Subcommand;
use medledger_analytics::history::{Day, History, Outcome, date, day};
use medledger_denials::{Model, SimConfig, TrainConfig};
use serde_json::json;

use crate::progress::Bars;

#[derive(Subcommand)]
pub enum DenialCmd {
    /// Simulate a practice's claims history (payers with hidden rules plus noise).
    Simulate {
        /// Original claims to generate.
        #[arg(long, default_value_t = 200_000)]
        claims: usize,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First submission day.
        #[arg(long, default_value = "2025-01-01")]
        start: String,
        /// Months of history.
        #[arg(long, default_value_t = 18)]
        months: u32,
        /// Where to write the history (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Train the denial model on the claims adjudicated before a day.
    Train {
        /// History JSON (from `simulate` or an export).
        #[arg(long)]
        history: PathBuf,
        /// Learn only from claims adjudicated before this day (default: all).
        #[arg(long)]
        until: Option<String>,
        /// Model file (default DATA_DIR/denials/model.json).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Train before a split day and test on the claims submitted after it.
    Evaluate {
        /// History JSON.
        #[arg(long)]
        history: PathBuf,
        /// Split day (train before, test on and after).
        #[arg(long)]
        split_date: String,
        /// Skip the reference figure on a fresh default simulation.
        #[arg(long)]
        no_default_figure: bool,
    },
    /// Learn incrementally from outcomes of claims submitted on or after a day.
    Update {
        /// Model file (default DATA_DIR/denials/model.json).
        #[arg(long)]
        model: Option<PathBuf>,
        /// History JSON with the new outcomes.
        #[arg(long)]
        history: PathBuf,
        /// First submission day to learn from.
        #[arg(long)]
        from: String,
    },
    /// Score a claim (medledger-claims JSON) before submission.
    Score {
        /// Model file (default DATA_DIR/denials/model.json).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Planned submission day (default: within a week of service).
        #[arg(long)]
        submit_on: Option<String>,
        /// The claim.
        claim: PathBuf,
    },
}

fn parse_day(s: &str, flag: &str) -> Result<Day> {
    let d: jiff::civil::Date = s
        .trim()
        .parse()
        .with_context(|| format!("{flag} {s:?}: not a date (YYYY-MM-DD)"))?;
    Ok(day(d))
}

fn model_path(model: &Option<PathBuf>, data_dir: &Path) -> PathBuf {
    model
        .clone()
        .unwrap_or_else(|| data_dir.join("denials").join("model.json"))
}

fn read_history(path: &Path) -> Result<History> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the history {}", path.display()))?;
    let h: History = serde_json::from_reader(BufReader::new(f))
        .map_err(|e| medledger_denials::DenialError::json(path, &e))
        .with_context(|| format!("cannot read the history {}", path.display()))?;
    check_history(&h).with_context(|| format!("{}: not a consistent history", path.display()))?;
    Ok(h)
}

/// Every range and id inside the history's own tables (a file can be edited by hand).
fn check_history(h: &History) -> Result<()> {
    for (i, c) in h.claims.iter().enumerate() {
        let ok = c.lines.start <= c.lines.end
            && c.lines.end as usize <= h.lines.len()
            && c.diagnoses.start <= c.diagnoses.end
            && c.diagnoses.end as usize <= h.diagnoses.len()
            && c.reasons.start <= c.reasons.end
            && c.reasons.end as usize <= h.reasons.len()
            && (c.payer as usize) < h.payers.len()
            && (c.provider as usize) < h.providers.len();
        anyhow::ensure!(
            ok,
            "claims[{i}] (id {}): a range or id points outside the history",
            c.id
        );
    }
    for (i, l) in h.lines.iter().enumerate() {
        let mods_ok = l
            .modifiers
            .iter()
            .all(|&m| m == u32::MAX || (m as usize) < h.modifiers.len());
        let reason_ok = l.reason == u32::MAX || (l.reason as usize) < h.reason_names.len();
        anyhow::ensure!(
            (l.code as usize) < h.codes.len() && mods_ok && reason_ok,
            "lines[{i}]: a code, modifier or reason id is not in the history's tables"
        );
    }
    if let Some(i) = h
        .diagnoses
        .iter()
        .position(|&d| d as usize >= h.codes.len())
    {
        anyhow::bail!("diagnoses[{i}]: not a code id of the history");
    }
    if let Some(i) = h
        .reasons
        .iter()
        .position(|&r| r as usize >= h.reason_names.len())
    {
        anyhow::bail!("reasons[{i}]: not a reason id of the history");
    }
    Ok(())
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < width.len() {
                width[i] = width[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = width.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(header.iter().map(|s| s.to_string()).collect());
    out.push('\n');
    out.push_str(&line(width.iter().map(|w| "-".repeat(*w)).collect()));
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.clone()));
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Claims, lines, denial rate by payer and by reason.
fn summary(h: &History) -> serde_json::Value {
    let mut payers = vec![(0usize, 0usize); h.payers.len()];
    let mut reasons = vec![0usize; h.reason_names.len()];
    let mut adjudicated = 0usize;
    let mut denied = 0usize;
    for c in &h.claims {
        if c.outcome == Outcome::Pending {
            continue;
        }
        adjudicated += 1;
        payers[c.payer as usize].0 += 1;
        if let Some((true, r)) = medledger_denials::model::label(h, c) {
            denied += 1;
            payers[c.payer as usize].1 += 1;
            if let Some(r) = r {
                reasons[r as usize] += 1;
            }
        }
    }
    let mut by_reason: Vec<_> = (0..reasons.len()).filter(|&r| reasons[r] > 0).collect();
    by_reason.sort_by(|&a, &b| reasons[b].cmp(&reasons[a]));
    json!({
        "claims": h.claims.len(),
        "lines": h.lines.len(),
        "prior_auths": h.prior_auths.len(),
        "adjudicated": adjudicated,
        "denial_rate": denied as f64 / adjudicated.max(1) as f64,
        "by_payer": (0..payers.len()).map(|p| json!({
            "payer": h.payers.name(p as u32),
            "claims": payers[p].0,
            "denial_rate": payers[p].1 as f64 / payers[p].0.max(1) as f64,
        })).collect::<Vec<_>>(),
        "by_reason": by_reason.iter().map(|&r| json!({
            "reason": h.reason_names.name(r as u32),
            "denials": reasons[r],
            "share_of_claims": reasons[r] as f64 / adjudicated.max(1) as f64,
        })).collect::<Vec<_>>(),
    })
}

fn print_summary(s: &serde_json::Value) {
    println!(
        "{} claims, {} lines, {} prior-auth requests; first-pass denial rate {}",
        s["claims"],
        s["lines"],
        s["prior_auths"],
        pct(s["denial_rate"].as_f64().unwrap_or(0.0))
    );
    let rows: Vec<Vec<String>> = s["by_payer"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    vec![
                        p["payer"].as_str().unwrap_or("").to_string(),
                        p["claims"].to_string(),
                        pct(p["denial_rate"].as_f64().unwrap_or(0.0)),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    println!("\n{}", table(&["payer", "adjudicated", "denied"], &rows));
    let rows: Vec<Vec<String>> = s["by_reason"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    vec![
                        p["reason"].as_str().unwrap_or("").to_string(),
                        p["denials"].to_string(),
                        pct(p["share_of_claims"].as_f64().unwrap_or(0.0)),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    println!(
        "\n{}",
        table(&["first reason", "denials", "of claims"], &rows)
    );
}

fn print_evaluation(e: &medledger_denials::Evaluation) {
    println!(
        "split {}: trained on {} claims, tested on {} (denial rate {})",
        date(e.split),
        e.train_claims,
        e.test_claims,
        pct(e.test_denial_rate)
    );
    println!(
        "AUC {:.4}  Brier {:.4}  log loss {:.4}  ECE {:.4}",
        e.auc, e.brier, e.log_loss, e.ece
    );
    println!(
        "training {:.0} claims/s, scoring {:.0} claims/s",
        e.train_claims_per_s, e.score_claims_per_s
    );
    let rows: Vec<Vec<String>> = e
        .calibration
        .iter()
        .map(|b| {
            vec![
                format!("{:.1}-{:.1}", b.from, b.to),
                b.count.to_string(),
                format!("{:.4}", b.mean_predicted),
                format!("{:.4}", b.observed),
            ]
        })
        .collect();
    println!(
        "\n{}",
        table(
            &["predicted", "claims", "mean predicted", "observed"],
            &rows
        )
    );
    let rows: Vec<Vec<String>> = e
        .reasons
        .iter()
        .map(|r| {
            vec![
                r.reason.clone(),
                r.denials.to_string(),
                pct(r.flagged),
                pct(r.reason_correct),
            ]
        })
        .collect();
    println!(
        "\n{}",
        table(
            &["reason", "test denials", "flagged (p>=0.5)", "reason right"],
            &rows
        )
    );
}

pub fn denials(cmd: &DenialCmd, data_dir: &Path, json: bool) -> Result<()> {
    let progress = Bars::new(json);
    match cmd {
        DenialCmd::Simulate {
            claims,
            seed,
            start,
            months,
            out,
        } => {
            let cfg = SimConfig {
                claims: *claims,
                seed: *seed,
                start: parse_day(start, "--start")?,
                months: *months,
                ..SimConfig::default()
            };
            let t = Instant::now();
            let h = medledger_denials::simulate(&cfg).context("simulating")?;
            let secs = t.elapsed().as_secs_f64();
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let f = std::fs::File::create(out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let mut w = BufWriter::new(f);
            serde_json::to_writer(&mut w, &h)
                .with_context(|| format!("cannot write {}", out.display()))?;
            w.flush()
                .with_context(|| format!("cannot write {}", out.display()))?;
            let mut s = summary(&h);
            s["out"] = json!(out.display().to_string());
            s["simulation_seconds"] = json!(secs);
            s["lines_per_second"] = json!(h.lines.len() as f64 / secs.max(1e-9));
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_summary(&s);
                println!(
                    "\nsimulated in {secs:.2} s ({:.0} lines/s); written to {}",
                    h.lines.len() as f64 / secs.max(1e-9),
                    out.display()
                );
            }
        }
        DenialCmd::Train {
            history,
            until,
            model,
        } => {
            let h = read_history(history)?;
            let until = until
                .as_deref()
                .map(|u| parse_day(u, "--until"))
                .transpose()?;
            let t = Instant::now();
            let m =
                Model::train(&h, &TrainConfig::default(), until, &progress).context("training")?;
            let secs = t.elapsed().as_secs_f64();
            let path = model_path(model, data_dir);
            m.save(&path).context("saving the model")?;
            let (touched, reason_touched) = m.touched();
            let out = json!({
                "model": path.display().to_string(),
                "claims": m.summary.claims,
                "denied": m.summary.denied,
                "calibration_claims": m.summary.calibration_claims,
                "platt": m.platt,
                "reasons": m.reasons,
                "features_touched": touched,
                "reason_features_touched": reason_touched,
                "seconds": secs,
                "claims_per_second": m.summary.claims as f64 / secs.max(1e-9),
            });
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "trained on {} claims ({} denied) in {secs:.2} s ({:.0} claims/s); calibration on {} claims (a={:.3}, b={:.3})",
                    m.summary.claims,
                    m.summary.denied,
                    m.summary.claims as f64 / secs.max(1e-9),
                    m.summary.calibration_claims,
                    m.platt.a,
                    m.platt.b
                );
                println!("reasons: {}", m.reasons.join(", "));
                println!("model written to {}", path.display());
            }
        }
        DenialCmd::Evaluate {
            history,
            split_date,
            no_default_figure,
        } => {
            let h = read_history(history)?;
            let split = parse_day(split_date, "--split-date")?;
            let e = medledger_denials::evaluate(&h, split, &TrainConfig::default(), &progress)
                .context("evaluating")?;
            let default = if *no_default_figure {
                None
            } else {
                let cfg = SimConfig::default();
                let d = medledger_analytics::history::date(cfg.start)
                    .checked_add(jiff::Span::new().months(12))
                    .map(day)
                    .context("the default split day")?;
                let dh =
                    medledger_denials::simulate(&cfg).context("simulating the default practice")?;
                Some(
                    medledger_denials::evaluate(&dh, d, &TrainConfig::default(), &progress)
                        .context("evaluating on the default practice")?,
                )
            };
            if json {
                let mut v = serde_json::to_value(&e)?;
                if let Some(d) = &default {
                    v["auc_on_default_settings"] = json!(d.auc);
                    v["default_settings"] = serde_json::to_value(d)?;
                }
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_evaluation(&e);
                if let Some(d) = &default {
                    println!(
                        "\nAUC on default settings ({} claims, 18 months, split at month 12): {:.4} (Brier {:.4}, ECE {:.4})",
                        SimConfig::default().claims,
                        d.auc,
                        d.brier,
                        d.ece
                    );
                }
            }
        }
        DenialCmd::Update {
            model,
            history,
            from,
        } => {
            let path = model_path(model, data_dir);
            let mut m = Model::load(&path).context("loading the model")?;
            let h = read_history(history)?;
            let from = parse_day(from, "--from")?;
            let t = Instant::now();
            let n = m.update(&h, from, None, &progress);
            let secs = t.elapsed().as_secs_f64();
            m.save(&path).context("saving the model")?;
            let out = json!({
                "model": path.display().to_string(),
                "learnt_from": n,
                "total_claims": m.summary.claims,
                "updates": m.summary.updates,
                "seconds": secs,
            });
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "learnt from {n} new outcomes in {secs:.2} s; the model has seen {} claims over {} update(s); written to {}",
                    m.summary.claims,
                    m.summary.updates,
                    path.display()
                );
            }
        }
        DenialCmd::Score {
            model,
            submit_on,
            claim,
        } => {
            let path = model_path(model, data_dir);
            let m = Model::load(&path).context("loading the model")?;
            let text = std::fs::read_to_string(claim)
                .with_context(|| format!("cannot read {}", claim.display()))?;
            let c = medledger_claims::model::Claim::from_json(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}: line {}, column {}: {e}",
                    claim.display(),
                    e.line(),
                    e.column()
                )
            })?;
            let p = match submit_on {
                Some(d) => {
                    parse_day(d, "--submit-on")?;
                    medledger_denials::score::score_claim_on(&m, &c, d)
                }
                None => medledger_denials::score_claim(&m, &c),
            };
            if json {
                let mut v = serde_json::to_value(&p)?;
                v["claim"] = json!(c.id);
                v["reason_source"] = json!(
                    "per-reason model (one-vs-rest logistic over the same features, trained on denied claims)"
                );
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("claim {}: denial probability {}", c.id, pct(p.probability));
                if let Some((r, q)) = &p.reason {
                    println!(
                        "most likely reason if denied: {r} ({}; per-reason model)",
                        pct(*q)
                    );
                }
                let rows: Vec<Vec<String>> = p
                    .top_features
                    .iter()
                    .map(|f| vec![f.feature.clone(), format!("{:+.3}", f.logit)])
                    .collect();
                println!("\n{}", table(&["feature", "logit"], &rows));
            }
        }
    }
    Ok(())
}
