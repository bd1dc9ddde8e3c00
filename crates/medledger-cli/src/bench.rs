//! `medledger bench codesets`: the figures the code-set engine is held to.
//!
//! 1. full install of every release file in `--from` into a fresh directory;
//! 2. cold `medledger code show` processes (open the index and answer);
//! 3. in-process `show` latency over many codes;
//! 4. `search` latency percentiles over a fixed query set;
//! 5. resident memory with everything open.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use medledger_codesets::search::SearchOptions;
use medledger_codesets::{Engine, InstallOptions, NoProgress};
use serde::Serialize;

#[derive(Args)]
pub struct BenchArgs {
    /// Release files to install (default ../shared/codesets).
    #[arg(long, default_value = "../shared/codesets")]
    from: PathBuf,
    /// Cold process runs.
    #[arg(long, default_value_t = 20)]
    cold_runs: usize,
    /// Repetitions of the search query set.
    #[arg(long, default_value_t = 20)]
    search_rounds: usize,
}

/// Realistic queries: clinical phrases, abbreviations, typos, codes.
const QUERIES: &[&str] = &[
    "type 2 diabetes with kidney disease",
    "T2DM with hyperglycemia",
    "HTN",
    "CKD stage 3",
    "COPD with acute exacerbation",
    "CHF",
    "acute myocardial infarction",
    "pneumonia due to covid",
    "fracture of distal radius left",
    "torus fracture radius",
    "major depressive disorder recurrent severe",
    "generalized anxiety",
    "hyperlipidemia",
    "obesity bmi 40",
    "atrial fibrillation",
    "urinary tract infection",
    "low back pain",
    "migraine without aura",
    "hypothyroidism",
    "gastroesophageal reflux",
    "diabtes melitus",
    "hypertensoin heart disease",
    "asthma mild intermittent",
    "sepsis due to e coli",
    "chest pain unspecified",
    "remote monitoring device supply",
    "digital mental health treatment device",
    "wheelchair cushion",
    "insulin pump",
    "E11.2",
    "G0552",
    "5A11",
    "blood glucose test strips",
    "influenza vaccine",
    "colon cancer screening",
    "breast cancer left",
    "dementia with behavioral disturbance",
    "opioid dependence",
    "alcohol use disorder",
    "pressure ulcer sacral region stage 3",
];

const SHOW_CODES: &[&str] = &[
    "E11.22", "S52.521A", "I10", "J44.1", "Z79.4", "F32.9", "T36.0X1A", "O09.523", "M1A.0110",
    "C50.912",
];

#[derive(Serialize)]
struct Figures {
    install_seconds: f64,
    installed_components: usize,
    cold_show_ms_median: f64,
    cold_show_ms_p95: f64,
    show_us_mean: f64,
    show_us_p99: f64,
    search_ms_p50: f64,
    search_ms_p99: f64,
    search_ms_max: f64,
    rss_mb_everything_open: f64,
    peak_rss_mb: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn status_kb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

pub fn run(args: &BenchArgs, _data_dir: Option<PathBuf>, json: bool) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("medledger-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let started = Instant::now();
    let report = medledger_codesets::install(
        &tmp,
        &InstallOptions {
            from: args.from.clone(),
            cpt: None,
            force: true,
        },
        &NoProgress,
    )?;
    let install_seconds = started.elapsed().as_secs_f64();

    let exe = std::env::current_exe().context("cannot find the medledger executable")?;
    // One settling run: the snapshots were just written. Every measured run
    // is a new process that opens the index and answers.
    Command::new(&exe)
        .arg("--data-dir")
        .arg(&tmp)
        .args(["code", "show", "E11.9"])
        .output()?;
    let mut cold = Vec::new();
    for i in 0..args.cold_runs {
        let code = SHOW_CODES[i % SHOW_CODES.len()];
        let t = Instant::now();
        let out = Command::new(&exe)
            .arg("--data-dir")
            .arg(&tmp)
            .args(["--json", "code", "show", code])
            .output()?;
        cold.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(
            out.status.success(),
            "cold show {code} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    cold.sort_by(f64::total_cmp);

    let engine = Engine::open(&tmp)?;
    for c in SHOW_CODES {
        engine.show(c, None, None)?;
    }
    let mut show = Vec::new();
    for _ in 0..2_000 {
        for c in SHOW_CODES {
            let t = Instant::now();
            let d = engine.show(c, None, None)?;
            show.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(d);
        }
    }
    show.sort_by(f64::total_cmp);
    if std::env::var_os("MEDLEDGER_TIMINGS").is_some() {
        for c in SHOW_CODES {
            let t = Instant::now();
            for _ in 0..2_000 {
                std::hint::black_box(engine.show(c, None, None)?);
            }
            eprintln!(
                "show {c}: {:.2} µs",
                t.elapsed().as_secs_f64() * 1e6 / 2_000.0
            );
        }
    }
    let show_mean = show.iter().sum::<f64>() / show.len() as f64;

    let opts = SearchOptions {
        limit: 20,
        ..Default::default()
    };
    engine.search("warm up", &opts)?;
    let mut search = Vec::new();
    let mut slowest = vec![0f64; QUERIES.len()];
    for _ in 0..args.search_rounds {
        for (i, q) in QUERIES.iter().enumerate() {
            let t = Instant::now();
            let hits = engine.search(q, &opts)?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            search.push(ms);
            slowest[i] = slowest[i].max(ms);
            std::hint::black_box(hits);
        }
    }
    search.sort_by(f64::total_cmp);
    let mut by_query: Vec<(f64, &str)> = slowest
        .iter()
        .copied()
        .zip(QUERIES.iter().copied())
        .collect();
    by_query.sort_by(|a, b| b.0.total_cmp(&a.0));

    // Open everything else too, then read memory.
    engine
        .lookup("neoplasm, lung, malignant primary", None, None)
        .ok();
    engine
        .lookup("acetaminophen, adverse effect", None, None)
        .ok();
    engine.map("E11.9", medledger_codesets::System::Icd11).ok();
    engine.validate(&["G0552".into(), "5A11".into()], None, None)?;
    let figures = Figures {
        install_seconds,
        installed_components: report.installed.len(),
        cold_show_ms_median: percentile(&cold, 0.5),
        cold_show_ms_p95: percentile(&cold, 0.95),
        show_us_mean: show_mean,
        show_us_p99: percentile(&show, 0.99),
        search_ms_p50: percentile(&search, 0.5),
        search_ms_p99: percentile(&search, 0.99),
        search_ms_max: search.last().copied().unwrap_or(0.0),
        rss_mb_everything_open: status_kb("VmRSS:") / 1024.0,
        peak_rss_mb: status_kb("VmHWM:") / 1024.0,
    };
    let _ = std::fs::remove_dir_all(&tmp);
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        println!(
            "full install          {:>8.2} s ({} components)",
            figures.install_seconds, figures.installed_components
        );
        println!(
            "cold `code show`      {:>8.2} ms median, {:.2} ms p95 ({} runs)",
            figures.cold_show_ms_median, figures.cold_show_ms_p95, args.cold_runs
        );
        println!(
            "in-process show       {:>8.2} µs mean, {:.2} µs p99",
            figures.show_us_mean, figures.show_us_p99
        );
        println!(
            "search                {:>8.3} ms p50, {:.3} ms p99, {:.3} ms max ({} queries)",
            figures.search_ms_p50,
            figures.search_ms_p99,
            figures.search_ms_max,
            search.len()
        );
        let top: Vec<String> = by_query
            .iter()
            .take(3)
            .map(|(ms, q)| format!("{q:?} {ms:.2} ms"))
            .collect();
        println!("slowest queries       {}", top.join(", "));
        println!(
            "resident memory       {:>8.1} MB with everything open (peak {:.1} MB, includes the install)",
            figures.rss_mb_everything_open, figures.peak_rss_mb
        );
    }
    Ok(())
}
