//! `medledger report`: clean-claim, denial, A/R, gold-card and drift
//! reports (text tables, `--json`, `--svg`, `--png`), the prior-authorisation
//! register, and the scan benchmark.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use medledger_analytics::chart::{self, Chart};
use medledger_analytics::goldcard::{Config, gold_card};
use medledger_analytics::history::History;
use medledger_analytics::metrics::{ar, clean_claims, denials};
use medledger_analytics::spec::Spec;
use medledger_analytics::{bench, drift, load};
use medledger_ledger::ledger::history_rows::NewPriorAuth;
use medledger_x12::format_cents;

use crate::ledger_cmd::{LedgerOpts, open_ledger, principal};

/// Period, grouping and output of a report.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// First day included (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day included (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Which date --from/--to filter on: service (first date of service) or submission.
    #[arg(long, default_value = "service")]
    pub basis: String,
    /// Group rows by payer, provider, code, reason, month or week.
    #[arg(long, default_value = "total")]
    pub by: String,
    /// Open balances and evaluations as of this day (default: today, UTC).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Read a serialized History (JSON, e.g. the simulator's output) instead of the ledger.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Also write a bar chart as SVG.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Also write a bar chart as PNG.
    #[arg(long)]
    pub png: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// First-pass clean-claim, clearinghouse acceptance, initial denial and overturn rates.
    CleanClaims(ReportArgs),
    /// Initial denial rate per group and denial rate per CARC/RARC.
    Denials(ReportArgs),
    /// Days in A/R (days to close; total A/R ÷ average daily charges), aging, net collection rate.
    Ar(ReportArgs),
    /// Gold-card standing per payer program and provider.
    GoldCard {
        #[command(flatten)]
        args: ReportArgs,
        /// Programs (TOML, `[[program]]` tables); default: the Texas HB 3459 model.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Engine precision and recall per code family and ISO week, alerts, release changes.
    Drift {
        /// Also write a bar chart (precision per family and week) as SVG.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Also write it as PNG.
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// The prior-authorisation register.
    PriorAuth {
        #[command(subcommand)]
        cmd: PriorAuthCmd,
    },
    /// Time every report over a generated claims history: the denial
    /// simulator's practice (default) or the plain bench generator.
    Bench {
        /// Service lines to generate (at least this many: the simulator makes whole claims).
        #[arg(long, default_value_t = 10_000_000)]
        lines: usize,
        /// `simulator` (medledger-denials' practice, its default settings) or `synthetic`.
        #[arg(long, default_value = "simulator")]
        generator: String,
    },
}

#[derive(Subcommand)]
pub enum PriorAuthCmd {
    /// Record a request.
    Add {
        #[arg(long)]
        payer: String,
        /// Gold-card program of the payer.
        #[arg(long)]
        program: String,
        /// Requesting provider NPI.
        #[arg(long)]
        provider: String,
        /// Service code requested.
        #[arg(long)]
        code: String,
        /// Request date (YYYY-MM-DD).
        #[arg(long)]
        requested: String,
        /// The payer's reference number.
        #[arg(long)]
        reference: Option<String>,
    },
    /// Record the payer's decision.
    Decide {
        /// Request id.
        id: i64,
        /// Approved.
        #[arg(long, conflicts_with = "denied", required_unless_present = "denied")]
        approved: bool,
        /// Denied.
        #[arg(long)]
        denied: bool,
        /// Decision date (YYYY-MM-DD).
        #[arg(long)]
        on: String,
    },
    /// Import requests from CSV (payer,program,provider,code,requested_on[,decided_on,approved,reference]).
    Import { file: PathBuf },
    /// List requests.
    List,
}

fn spec_of(a: &ReportArgs) -> Result<Spec> {
    Ok(Spec::parse(
        a.from.as_deref(),
        a.to.as_deref(),
        Some(&a.basis),
        Some(&a.by),
        a.as_of.as_deref(),
        medledger_analytics::history::today(),
    )?)
}

fn load_history(a: &ReportArgs, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<History> {
    if let Some(p) = &a.history {
        return load::read_history(p).with_context(|| format!("reading history {}", p.display()));
    }
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    load::history_from_ledger(&mut l, &p).context("loading the claims history from the ledger")
}

fn charts(chart: &Chart, svg: &Option<PathBuf>, png: &Option<PathBuf>) -> Result<()> {
    if let Some(p) = svg {
        chart.write_svg(p)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = png {
        if !chart.write_png(p)? {
            eprintln!(
                "no TTF font found (install fonts-dejavu-core or set MEDLEDGER_FONT): PNG drawn without labels"
            );
        }
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A plain text table: header, then rows, columns padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    format!("{c:<0$}", w[i])
                } else {
                    format!("{c:>0$}", w[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(header.iter().map(|s| s.to_string()).collect());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.clone()));
    }
    out
}

fn emit<T: serde::Serialize>(v: &T, json: bool, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(v)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

pub fn report(cmd: &ReportCmd, data_dir: &Path, ledger: &LedgerOpts, json: bool) -> Result<()> {
    match cmd {
        ReportCmd::CleanClaims(a) => {
            let spec = spec_of(a)?;
            let h = load_history(a, data_dir, ledger, json)?;
            let r = clean_claims(&h, &spec);
            charts(&chart::clean_claims_chart(&r), &a.svg, &a.png)?;
            emit(&r, json, || {
                let rows: Vec<Vec<String>> = r
                    .groups
                    .iter()
                    .chain(std::iter::once(&r.total))
                    .map(|g| {
                        vec![
                            g.key.clone(),
                            g.claims.to_string(),
                            pct(g.acceptance_rate),
                            pct(g.first_pass_clean_rate),
                            pct(g.initial_denial_rate),
                            pct(g.overturn_rate),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "group",
                        "claims",
                        "accepted",
                        "clean 1st pass",
                        "denied 1st",
                        "overturned",
                    ],
                    &rows,
                )
            })
        }
        ReportCmd::Denials(a) => {
            let spec = spec_of(a)?;
            let h = load_history(a, data_dir, ledger, json)?;
            let r = denials(&h, &spec);
            charts(&chart::denials_chart(&r), &a.svg, &a.png)?;
            emit(&r, json, || {
                let rows: Vec<Vec<String>> = r
                    .report
                    .groups
                    .iter()
                    .chain(std::iter::once(&r.report.total))
                    .map(|g| {
                        vec![
                            g.key.clone(),
                            g.adjudicated.to_string(),
                            g.denied.to_string(),
                            pct(g.denial_rate),
                            format_cents(g.denied_charge_cents),
                        ]
                    })
                    .collect();
                let reasons: Vec<Vec<String>> = r
                    .reasons
                    .iter()
                    .map(|x| {
                        vec![
                            x.reason.clone(),
                            x.kind.to_owned(),
                            x.claims.to_string(),
                            pct(x.rate),
                            pct(x.share_of_denied),
                        ]
                    })
                    .collect();
                format!(
                    "{}\n\n{}",
                    table(
                        &["group", "adjudicated", "denied", "rate", "denied $"],
                        &rows
                    ),
                    table(&["reason", "kind", "claims", "rate", "of denied"], &reasons)
                )
            })
        }
        ReportCmd::Ar(a) => {
            let spec = spec_of(a)?;
            let h = load_history(a, data_dir, ledger, json)?;
            let r = ar(&h, &spec);
            charts(&chart::ar_chart(&r), &a.svg, &a.png)?;
            emit(&r, json, || {
                let rows: Vec<Vec<String>> = r
                    .groups
                    .iter()
                    .chain(std::iter::once(&r.total))
                    .map(|g| {
                        let mut v = vec![
                            g.key.clone(),
                            format_cents(g.open_balance_cents),
                            format!("{:.1}", g.days_in_ar),
                            format!("{:.1}", g.avg_days_to_close),
                            pct(g.net_collection_rate),
                        ];
                        v.extend(g.aging_cents.iter().map(|&c| format_cents(c)));
                        v
                    })
                    .collect();
                table(
                    &[
                        "group",
                        "total A/R",
                        "days in A/R",
                        "days to close",
                        "net coll.",
                        "0-30",
                        "31-60",
                        "61-90",
                        "91-120",
                        ">120",
                    ],
                    &rows,
                )
            })
        }
        ReportCmd::GoldCard { args, config } => {
            let spec = spec_of(args)?;
            let cfg = match config {
                Some(p) => Config::from_file(p)?,
                None => Config::default(),
            };
            let h = load_history(args, data_dir, ledger, json)?;
            let r = gold_card(&h, &cfg, spec.as_of)?;
            charts(&chart::gold_card_chart(&r), &args.svg, &args.png)?;
            emit(&r, json, || {
                let rows: Vec<Vec<String>> = r
                    .standings
                    .iter()
                    .map(|s| {
                        vec![
                            format!("{} / {} / {}", s.payer, s.program, s.provider),
                            format!("{:?}", s.current.status),
                            pct(s.current.approval_rate),
                            s.projected.date.clone(),
                            format!("{:?}", s.projected.status),
                            pct(s.projected.approval_rate),
                            s.note.clone(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "payer / program / provider",
                        "now",
                        "rate",
                        "next",
                        "projected",
                        "rate",
                        "what would change it",
                    ],
                    &rows,
                )
            })
        }
        ReportCmd::Drift { svg, png } => {
            let mut l = open_ledger(data_dir, ledger, json)?;
            let p = principal(&mut l, ledger)?;
            let obs = load::observations_from_ledger(&mut l, &p)
                .context("loading coding runs and decisions")?;
            let r = drift::drift(&obs);
            charts(&chart::drift_chart(&r), svg, png)?;
            emit(&r, json, || {
                let rows: Vec<Vec<String>> = r
                    .weeks
                    .iter()
                    .map(|w| {
                        vec![
                            w.family.clone(),
                            w.week.clone(),
                            w.decided.to_string(),
                            pct(w.precision),
                            w.finals.to_string(),
                            pct(w.recall),
                        ]
                    })
                    .collect();
                let alerts: Vec<Vec<String>> = r
                    .alerts
                    .iter()
                    .map(|a| {
                        vec![
                            a.family.clone(),
                            a.week.clone(),
                            a.metric.to_owned(),
                            format!("{} vs {}", pct(a.test.p1), pct(a.test.p0)),
                            format!("{:.2e}", a.test.p_value),
                            format!("{:.2e}", a.threshold),
                        ]
                    })
                    .collect();
                let rel: Vec<Vec<String>> = r
                    .releases
                    .iter()
                    .map(|c| {
                        vec![
                            format!("{} -> {}", c.before, c.after),
                            c.first_seen.clone(),
                            format!("{} -> {}", pct(c.precision.p0), pct(c.precision.p1)),
                            format!("{:.2e}", c.precision.p_value),
                            format!("{} -> {}", pct(c.recall.p0), pct(c.recall.p1)),
                            format!("{:.2e}", c.recall.p_value),
                            c.significant.to_string(),
                        ]
                    })
                    .collect();
                format!(
                    "{}\n\nalerts\n{}\n\nrelease changes\n{}\n\n{}",
                    table(
                        &["family", "week", "decided", "precision", "finals", "recall"],
                        &rows
                    ),
                    table(
                        &[
                            "family",
                            "week",
                            "metric",
                            "week vs baseline",
                            "p",
                            "threshold"
                        ],
                        &alerts
                    ),
                    table(
                        &[
                            "release",
                            "first seen",
                            "precision",
                            "p",
                            "recall",
                            "p",
                            "significant"
                        ],
                        &rel
                    ),
                    r.method
                )
            })
        }
        ReportCmd::PriorAuth { cmd } => prior_auth(cmd, data_dir, ledger, json),
        ReportCmd::Bench { lines, generator } => {
            if *lines == 0 {
                bail!("--lines must be at least 1");
            }
            let r = match generator.as_str() {
                "synthetic" => bench::run(*lines)?,
                "simulator" => {
                    let t = std::time::Instant::now();
                    let h = simulated(*lines)?;
                    bench::run_on(&h, "simulator", t.elapsed().as_secs_f64() * 1e3)?
                }
                other => bail!("--generator {other:?}: expected simulator or synthetic"),
            };
            emit(&r, json, || {
                let rows: Vec<Vec<String>> = r
                    .timings
                    .iter()
                    .map(|t| {
                        vec![
                            t.report.clone(),
                            format!("{:.1}", t.millis),
                            format!("{:.3e}", t.lines_per_s),
                        ]
                    })
                    .collect();
                format!(
                    "{} lines, {} claims ({}, {:.0} ms), {} threads\n{}\nall reports: {:.0} ms; peak RSS {}",
                    r.lines,
                    r.claims,
                    r.source,
                    r.generate_millis,
                    r.threads,
                    table(&["report", "ms", "lines/s"], &rows),
                    r.total_millis,
                    r.peak_rss_bytes.map_or("unknown".into(), |b| format!(
                        "{:.0} MiB",
                        b as f64 / 1048576.0
                    ))
                )
            })
        }
    }
}

/// A simulated history of at least `lines` service lines: the simulator's
/// default practice, with the claim count scaled from a small pilot run's
/// lines per claim.
fn simulated(lines: usize) -> Result<History> {
    use medledger_denials::sim::{SimConfig, simulate};
    let pilot = simulate(&SimConfig {
        claims: 20_000,
        ..SimConfig::default()
    })?;
    let per_claim = (pilot.lines.len() as f64 / pilot.claims.len().max(1) as f64).max(1.0);
    let mut claims = ((lines as f64 / per_claim) * 1.01).ceil() as usize + 1;
    loop {
        let h = simulate(&SimConfig {
            claims,
            ..SimConfig::default()
        })?;
        if h.lines.len() >= lines {
            return Ok(h);
        }
        claims += ((lines - h.lines.len()) as f64 / per_claim).ceil() as usize + 1;
    }
}

fn prior_auth(cmd: &PriorAuthCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    match cmd {
        PriorAuthCmd::Add {
            payer,
            program,
            provider,
            code,
            requested,
            reference,
        } => {
            let id = l.record_prior_auth(
                &p,
                &NewPriorAuth {
                    payer: payer.clone(),
                    program: program.clone(),
                    provider: provider.clone(),
                    code: code.clone(),
                    requested_on: requested.clone(),
                    decided_on: None,
                    approved: None,
                    reference: reference.clone(),
                },
            )?;
            emit(&serde_json::json!({"id": id}), json, || {
                format!("prior authorisation {id} recorded (pending)")
            })
        }
        PriorAuthCmd::Decide {
            id,
            approved,
            denied: _,
            on,
        } => {
            let rec = l.decide_prior_auth(&p, *id, *approved, on)?;
            emit(&rec, json, || {
                format!(
                    "prior authorisation {id} {} on {on}",
                    if *approved { "approved" } else { "denied" }
                )
            })
        }
        PriorAuthCmd::Import { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let rows = load::parse_prior_auth_csv(&file.display().to_string(), &text)?;
            let mut ids = Vec::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                ids.push(
                    l.record_prior_auth(&p, r)
                        .with_context(|| format!("{}: data row {}", file.display(), i + 1))?,
                );
            }
            emit(
                &serde_json::json!({"imported": ids.len(), "ids": ids}),
                json,
                || format!("imported {} prior authorisations", ids.len()),
            )
        }
        PriorAuthCmd::List => {
            let list = l.prior_auths(&p)?;
            emit(&list, json, || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            r.payer.clone(),
                            r.program.clone(),
                            r.provider.clone(),
                            r.code.clone(),
                            r.requested_on.clone(),
                            r.decided_on.clone().unwrap_or_default(),
                            match r.approved {
                                Some(true) => "approved",
                                Some(false) => "denied",
                                None => "pending",
                            }
                            .into(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "id",
                        "payer",
                        "program",
                        "provider",
                        "code",
                        "requested",
                        "decided",
                        "outcome",
                    ],
                    &rows,
                )
            })
        }
    }
}
