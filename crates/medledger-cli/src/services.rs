//! Service coding commands: `em`, `rpm`, `dmht`, `pla`, `telehealth` and
//! `bench em`. Each prints text, or one JSON object with `--json`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use medledger_codesets::Date;
use medledger_services::em::{
    ElementRating, EmEngine, EmRequest, EmResult, HospitalVisit, PatientStatus, Payer, Setting,
};
use medledger_services::monitoring::{MonitoringEngine, MonitoringResult, ServiceLine};
use medledger_services::telehealth::{self, PatientLocation, TelehealthContext, TelehealthPayer};
use medledger_services::{dmht, pla};
use serde::Serialize;

#[derive(Clone, Copy, ValueEnum)]
pub enum PatientArg {
    New,
    Established,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SettingArg {
    Office,
    Inpatient,
    Observation,
    Ed,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VisitArg {
    Initial,
    Subsequent,
    Discharge,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PayerArg {
    Medicare,
    Commercial,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LocationArg {
    Home,
    Other,
}

#[derive(Args)]
pub struct EmArgs {
    /// The visit note (a text file; `-` reads standard input).
    pub note: PathBuf,
    /// New or established patient (established when not given).
    #[arg(long, value_enum)]
    pub patient: Option<PatientArg>,
    /// Total practitioner time on the date of the encounter, in minutes
    /// (read from the note's time statement when not given).
    #[arg(long)]
    pub time: Option<u32>,
    #[arg(long, value_enum, default_value = "office")]
    pub setting: SettingArg,
    /// Hospital visit kind (read from the note when not given).
    #[arg(long, value_enum)]
    pub visit: Option<VisitArg>,
    /// Date of service, YYYY-MM-DD (today when not given).
    #[arg(long)]
    pub dos: Option<String>,
    #[arg(long, value_enum, default_value = "commercial")]
    pub payer: PayerArg,
    /// Patient age in years (read from the note when not given; preventive
    /// visits need it).
    #[arg(long)]
    pub age: Option<u32>,
    /// Force a preventive visit on or off (detected from the note otherwise).
    #[arg(long)]
    pub preventive: Option<bool>,
    /// Replacement E/M rule file (TOML, the layout of rules/em.toml).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Args)]
pub struct RpmArgs {
    /// The monitoring period (JSON; see the medledger-services docs).
    pub period: PathBuf,
    /// Replacement monitoring rule file (TOML).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Args)]
pub struct DmhtArgs {
    /// The DMHT case (JSON).
    pub case: PathBuf,
    /// Replacement DMHT rule file (TOML).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Args)]
pub struct PlaArgs {
    /// The order text (a file; `-` reads standard input).
    pub order: PathBuf,
    /// The PLA list: CSV with columns code, lab, test_name.
    #[arg(long)]
    pub list: PathBuf,
    /// Payer profile (JSON or TOML) with its covered PLA codes.
    #[arg(long)]
    pub payer: Option<PathBuf>,
}

#[derive(Args)]
pub struct TelehealthArgs {
    /// The visit note (a text file; `-` reads standard input).
    pub note: PathBuf,
    #[arg(long, value_enum, default_value = "commercial")]
    pub payer: PayerArg,
    /// Date of service, YYYY-MM-DD (today when not given).
    #[arg(long)]
    pub dos: Option<String>,
    /// Where the patient was (read from the note when not given).
    #[arg(long, value_enum)]
    pub location: Option<LocationArg>,
}

#[derive(Args)]
pub struct BenchEmArgs {
    /// Notes to level: the MTSamples CSV, NDJSON, text files or folders.
    #[arg(long, default_value = "../shared/eval/notes/mtsamples.csv")]
    pub notes: PathBuf,
    /// Rounds over the notes.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

fn read_text(path: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

fn dos_or_today(s: &Option<String>) -> Result<Date> {
    match s {
        Some(s) => s
            .parse::<Date>()
            .with_context(|| format!("--dos {s:?}: expected a date as YYYY-MM-DD")),
        None => Ok(jiff::Zoned::now().date()),
    }
}

fn print_json<T: Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

pub fn em(args: &EmArgs, json: bool) -> Result<()> {
    let engine = match &args.rules {
        Some(p) => {
            let text = read_text(p)?;
            EmEngine::from_rules(&text, &p.display().to_string())?
        }
        None => EmEngine::builtin()?,
    };
    let note = read_text(&args.note)?;
    let patient = match args.patient {
        Some(PatientArg::New) => PatientStatus::New,
        Some(PatientArg::Established) | None => PatientStatus::Established,
    };
    let mut req = EmRequest::office(patient, dos_or_today(&args.dos)?);
    req.setting = match args.setting {
        SettingArg::Office => Setting::Office,
        SettingArg::Inpatient => Setting::Inpatient,
        SettingArg::Observation => Setting::Observation,
        SettingArg::Ed => Setting::Ed,
    };
    req.hospital_visit = args.visit.map(|v| match v {
        VisitArg::Initial => HospitalVisit::Initial,
        VisitArg::Subsequent => HospitalVisit::Subsequent,
        VisitArg::Discharge => HospitalVisit::Discharge,
    });
    req.time_minutes = args.time;
    req.payer = match args.payer {
        PayerArg::Medicare => Payer::Medicare,
        PayerArg::Commercial => Payer::Commercial,
    };
    req.patient_age_years = args.age;
    req.preventive = args.preventive;
    let mut r = engine
        .level(&note, &req)
        .with_context(|| format!("leveling {}", args.note.display()))?;
    if args.patient.is_none() && matches!(req.setting, Setting::Office) {
        r.warnings
            .push("patient status not given: leveled as an established patient".into());
    }
    if json {
        return print_json(&r);
    }
    print_em(&r);
    Ok(())
}

fn print_element(name: &str, e: &ElementRating) {
    println!("  {name:<9} {:<16} {}", e.label, e.reason);
    for i in &e.items {
        let ev: Vec<String> = i
            .evidence
            .iter()
            .map(|e| format!("\"{}\" [{}..{}]", e.text, e.start, e.end))
            .collect();
        println!("    - {}: {}", i.label, ev.join(", "));
    }
}

fn print_em(r: &EmResult) {
    println!("{}  {}", r.code, r.label);
    println!("  basis: {:?} — {}", r.basis, r.reason);
    println!("  MDM: {} (decided by {:?})", r.mdm.label, r.mdm.decided_by);
    print_element("problems", &r.mdm.problems);
    print_element("data", &r.mdm.data);
    print_element("risk", &r.mdm.risk);
    if let Some(t) = &r.time {
        let at = t
            .evidence
            .as_ref()
            .map(|e| format!(" from \"{}\"", e.text))
            .unwrap_or_default();
        println!(
            "  time: {} min ({:?}{at}){}",
            t.minutes,
            t.source,
            t.supports
                .as_ref()
                .map(|c| format!(", supports {c}"))
                .unwrap_or_default()
        );
    }
    for a in &r.additional {
        let mods = if a.modifiers.is_empty() {
            String::new()
        } else {
            format!("-{}", a.modifiers.join("-"))
        };
        println!(
            "  + {}{mods} x{}  {} — {}",
            a.code, a.units, a.label, a.reason
        );
    }
    if !r.modifiers.is_empty() {
        println!("  modifiers: {}", r.modifiers.join(", "));
    }
    if let Some(n) = &r.next_level {
        println!("  next level {}: {}", n.code, n.needs);
        for q in &n.queries {
            println!("    query: {q}");
        }
    }
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    println!("  rules: {}", r.rules.join(", "));
}

fn print_lines(lines: &[ServiceLine], refused: &[medledger_services::monitoring::Refusal]) {
    for l in lines {
        let month = l
            .month
            .as_deref()
            .map(|m| format!(" [{m}]"))
            .unwrap_or_default();
        println!(
            "  {} x{}{month}  {} — {}",
            l.code, l.units, l.label, l.reason
        );
    }
    for r in refused {
        let month = r
            .month
            .as_deref()
            .map(|m| format!(" [{m}]"))
            .unwrap_or_default();
        println!("  refused {}{month}: {} ({})", r.code, r.reason, r.rule_id);
    }
}

pub fn rpm(args: &RpmArgs, json: bool) -> Result<()> {
    let engine = match &args.rules {
        Some(p) => MonitoringEngine::from_rules(&read_text(p)?, &p.display().to_string())?,
        None => MonitoringEngine::builtin()?,
    };
    let what = args.period.display().to_string();
    let period = medledger_services::monitoring::parse_period(&read_text(&args.period)?, &what)?;
    let r: MonitoringResult = engine.evaluate(&period)?;
    if json {
        return print_json(&r);
    }
    println!(
        "period to {}: {} days with data, {} management minutes, interactive communication: {}",
        r.period_end,
        r.days_with_data,
        r.management_minutes,
        if r.interactive_communication {
            "yes"
        } else {
            "no"
        }
    );
    print_lines(&r.lines, &r.refused);
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    Ok(())
}

pub fn dmht(args: &DmhtArgs, json: bool) -> Result<()> {
    let engine = match &args.rules {
        Some(p) => dmht::DmhtEngine::from_rules(&read_text(p)?, &p.display().to_string())?,
        None => dmht::DmhtEngine::builtin()?,
    };
    let what = args.case.display().to_string();
    let case = dmht::parse_case(&read_text(&args.case)?, &what)?;
    let r = engine.evaluate(&case)?;
    if json {
        return print_json(&r);
    }
    print_lines(&r.lines, &r.refused);
    for m in &r.missing {
        println!("  documentation lacks: {m}");
    }
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    Ok(())
}

#[derive(Serialize)]
struct PlaOut {
    matches: Vec<pla::PlaMatch>,
    flags: Vec<pla::PlaFlag>,
}

pub fn pla(args: &PlaArgs, json: bool) -> Result<()> {
    let f = std::fs::File::open(&args.list)
        .with_context(|| format!("opening {}", args.list.display()))?;
    let list = pla::PlaList::from_csv(f, &args.list.display().to_string())?;
    let order = read_text(&args.order)?;
    let matches = list.find_in_text(&order);
    let payer = match &args.payer {
        Some(p) => {
            let text = read_text(p)?;
            let what = p.display().to_string();
            if p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
            {
                pla::PayerProfile::from_toml(&text, &what)?
            } else {
                pla::PayerProfile::from_json(&text, &what)?
            }
        }
        // No profile: no coverage policy is known for any PLA test.
        None => pla::PayerProfile {
            name: "no payer profile given".into(),
            covered_pla: Vec::new(),
            non_covered_pla: Vec::new(),
            pla_policy: Default::default(),
        },
    };
    let flags = pla::assess(&matches, &payer);
    if json {
        return print_json(&PlaOut { matches, flags });
    }
    if matches.is_empty() {
        println!("no PLA code or listed test name found");
    }
    for m in &matches {
        println!(
            "  {} {} — \"{}\" [{}..{}] ({:?})",
            m.code,
            m.test_name.as_deref().unwrap_or("(not in the list)"),
            m.evidence.text,
            m.evidence.start,
            m.evidence.end,
            m.matched_by
        );
    }
    for f in &flags {
        println!("  {} {:?}: {}", f.code, f.risk, f.reason);
    }
    Ok(())
}

pub fn telehealth_cmd(args: &TelehealthArgs, json: bool) -> Result<()> {
    let note = read_text(&args.note)?;
    let payer = match args.payer {
        PayerArg::Medicare => TelehealthPayer::Medicare,
        PayerArg::Commercial => TelehealthPayer::Commercial,
    };
    let mut ctx = TelehealthContext::new(dos_or_today(&args.dos)?, payer);
    ctx.patient_location = args.location.map(|l| match l {
        LocationArg::Home => PatientLocation::Home,
        LocationArg::Other => PatientLocation::OtherSite,
    });
    let r = telehealth::assess(&note, &ctx)?;
    if json {
        return print_json(&r);
    }
    println!(
        "modality {:?}; patient location {:?}; POS {}; modifiers {}",
        r.modality,
        r.patient_location,
        r.pos.as_deref().unwrap_or("-"),
        if r.modifiers.is_empty() {
            "-".to_string()
        } else {
            r.modifiers.join(", ")
        }
    );
    for e in &r.evidence {
        println!(
            "  {:?}{}: \"{}\" [{}..{}]",
            e.kind,
            if e.negated { " (negated)" } else { "" },
            e.evidence.text,
            e.evidence.start,
            e.evidence.end
        );
    }
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    Ok(())
}

#[derive(Serialize)]
struct EmBench {
    notes: usize,
    mean_note_bytes: f64,
    rounds: usize,
    engine_start_seconds: f64,
    notes_per_second: f64,
    mean_microseconds_per_note: f64,
    p99_microseconds_per_note: f64,
    max_microseconds_per_note: f64,
    /// Selected codes over the notes (a sanity view of the spread).
    codes: Vec<(String, usize)>,
}

pub fn bench_em(args: &BenchEmArgs, json: bool) -> Result<()> {
    let texts = crate::coding::bench_texts(&args.notes)?;
    let started = Instant::now();
    let engine = EmEngine::builtin()?;
    let engine_start = started.elapsed().as_secs_f64();
    let req = EmRequest::office(
        PatientStatus::Established,
        medledger_codesets::Date::constant(2026, 3, 2),
    );
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for t in &texts {
        if let Ok(r) = engine.level(t, &req) {
            *counts.entry(r.code).or_default() += 1;
        }
    }
    let rounds = args.rounds.max(1);
    let mut per = vec![0f64; texts.len()];
    let t0 = Instant::now();
    for _ in 0..rounds {
        for (i, t) in texts.iter().enumerate() {
            let s = Instant::now();
            let _ = std::hint::black_box(engine.level(t, &req));
            per[i] += s.elapsed().as_secs_f64();
        }
    }
    let total = t0.elapsed().as_secs_f64();
    let mut sorted: Vec<f64> = per.iter().map(|s| s / rounds as f64 * 1e6).collect();
    sorted.sort_by(f64::total_cmp);
    let p99 = sorted[((sorted.len() as f64 * 0.99) as usize).min(sorted.len() - 1)];
    let out = EmBench {
        notes: texts.len(),
        mean_note_bytes: texts.iter().map(String::len).sum::<usize>() as f64 / texts.len() as f64,
        rounds,
        engine_start_seconds: engine_start,
        notes_per_second: (texts.len() * rounds) as f64 / total,
        mean_microseconds_per_note: total / (texts.len() * rounds) as f64 * 1e6,
        p99_microseconds_per_note: p99,
        max_microseconds_per_note: sorted.last().copied().unwrap_or(0.0),
        codes: counts.into_iter().collect(),
    };
    if json {
        return print_json(&out);
    }
    println!(
        "E/M leveling over {} notes ({:.1} KB mean), {} rounds",
        out.notes,
        out.mean_note_bytes / 1024.0,
        out.rounds
    );
    println!("  engine start: {:.3} s", out.engine_start_seconds);
    println!(
        "  one core: {:.0} notes/s; {:.0} µs mean, {:.0} µs p99, {:.0} µs max per note",
        out.notes_per_second,
        out.mean_microseconds_per_note,
        out.p99_microseconds_per_note,
        out.max_microseconds_per_note
    );
    let spread: Vec<String> = out.codes.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!("  codes: {}", spread.join(", "));
    Ok(())
}
