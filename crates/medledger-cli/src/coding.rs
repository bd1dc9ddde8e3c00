//! Coding commands: `code note`, `code-notes` (batch), `learn`, `eval codiesp`
//! and `bench coder`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use medledger_coder::coder::{Encounter, Setting, Sex};
use medledger_coder::eval::{TextLang, read_codiesp};
use medledger_coder::train::{CodedNote, LearnOptions, codiesp_history, evaluate, learn};
use medledger_coder::{Coder, CodingResult, Model, Scratch};
use medledger_codesets::{Date, Engine};
use rayon::prelude::*;
use serde::Serialize;

/// Where `learn` installs its model unless told otherwise.
pub fn default_model_path(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("coder-model.json")
}

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Learned model file (default: DATA/models/coder-model.json when present).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Use the dictionary alone, even when a model is installed.
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
}

impl ModelArgs {
    pub fn load(&self, data_dir: &Path) -> Result<Option<Model>> {
        if self.no_model {
            return Ok(None);
        }
        match &self.model {
            Some(p) => Ok(Some(Model::load(p)?)),
            None => {
                let p = default_model_path(data_dir);
                if p.exists() {
                    Ok(Some(Model::load(&p)?))
                } else {
                    Ok(None)
                }
            }
        }
    }
}

#[derive(Args, Clone)]
pub struct EncounterArgs {
    /// outpatient (default) or inpatient: decides how uncertain diagnoses are coded.
    #[arg(long, default_value = "outpatient")]
    pub setting: String,
    /// Date of service (YYYY-MM-DD): picks the code-set release (default: newest installed).
    #[arg(long)]
    pub dos: Option<String>,
    #[arg(long)]
    pub age: Option<u16>,
    /// female, male or unknown.
    #[arg(long)]
    pub sex: Option<String>,
    /// Largest note accepted, in bytes.
    #[arg(long, default_value_t = medledger_coder::coder::DEFAULT_MAX_NOTE_BYTES)]
    pub max_bytes: usize,
}

pub(crate) fn parse_setting(s: &str) -> Result<Setting> {
    match s.to_ascii_lowercase().as_str() {
        "outpatient" | "op" | "office" => Ok(Setting::Outpatient),
        "inpatient" | "ip" => Ok(Setting::Inpatient),
        _ => bail!("--setting {s:?}: use outpatient or inpatient"),
    }
}

pub(crate) fn parse_sex(s: &str) -> Result<Sex> {
    match s.to_ascii_lowercase().as_str() {
        "f" | "female" => Ok(Sex::Female),
        "m" | "male" => Ok(Sex::Male),
        "u" | "unknown" => Ok(Sex::Unknown),
        _ => bail!("sex {s:?}: use female, male or unknown"),
    }
}

fn parse_date(s: &str) -> Result<Date> {
    s.parse::<Date>()
        .with_context(|| format!("date {s:?}: expected YYYY-MM-DD"))
}

impl EncounterArgs {
    pub fn encounter(&self) -> Result<Encounter> {
        Ok(Encounter {
            setting: parse_setting(&self.setting)?,
            dos: self.dos.as_deref().map(parse_date).transpose()?,
            age: self.age,
            sex: self.sex.as_deref().map(parse_sex).transpose()?,
        })
    }
}

fn open_coder<'e>(
    engine: &'e Engine,
    enc: &Encounter,
    model: Option<Model>,
    max: usize,
) -> Result<Coder<'e>> {
    let mut coder = Coder::new(engine, enc.dos, model)?;
    coder.options.max_note_bytes = max;
    Ok(coder)
}

/// `medledger code note FILE`.
pub fn code_note(
    engine: &Engine,
    data_dir: &Path,
    file: &Path,
    enc: &EncounterArgs,
    model: &ModelArgs,
    json: bool,
) -> Result<()> {
    let encounter = enc.encounter()?;
    let coder = open_coder(engine, &encounter, model.load(data_dir)?, enc.max_bytes)?;
    let bytes = if file == Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
        b
    } else {
        std::fs::read(file).with_context(|| format!("reading {}", file.display()))?
    };
    let id = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stdin".into());
    let result = coder.code_bytes(&id, &bytes, &encounter, &mut Scratch::default())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_result(&result);
    }
    Ok(())
}

fn print_result(r: &CodingResult) {
    println!(
        "{}: {} suggestion(s) · release {} · {} · {}",
        r.id,
        r.suggestions.len(),
        r.release,
        r.model.as_deref().unwrap_or("dictionary only"),
        r.policy
    );
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    for (i, s) in r.suggestions.iter().enumerate() {
        println!(
            "{:>2}. {:<9} {:.2}  {}",
            i + 1,
            s.code,
            s.confidence,
            s.descriptor
        );
        for e in &s.evidence {
            println!(
                "      evidence [{}..{}) {:?} ({})",
                e.start,
                e.end,
                e.text,
                e.section.as_str()
            );
        }
        println!(
            "      logic: {} — {}",
            s.logic.rule,
            s.logic.steps.join("; ")
        );
        if let Some(g) = &s.logic.guideline {
            println!("      guideline: {g}");
        }
        if !s.flags.is_empty() {
            let f: Vec<String> = s.flags.iter().map(|f| format!("{f:?}")).collect();
            println!("      flags: {}", f.join(", "));
        }
        if let Some(m) = &s.icd11 {
            if let Some(p) = &m.primary {
                println!(
                    "      ICD-11: {} {}",
                    p.code.as_deref().unwrap_or("-"),
                    p.title
                );
            }
            for c in &m.choices {
                println!(
                    "      ICD-11 choice: {} {}",
                    c.code.as_deref().unwrap_or("-"),
                    c.title
                );
            }
        }
    }
    if !r.not_coded.is_empty() {
        println!("  not coded:");
        for n in &r.not_coded {
            println!("    {:<9} {}", n.code, n.reason);
        }
    }
}

/// One note to code in a batch.
struct NoteIn {
    id: String,
    bytes: Vec<u8>,
    enc: Option<Encounter>,
}

#[derive(serde::Deserialize)]
struct NdjsonNote {
    id: serde_json::Value,
    text: String,
    #[serde(default)]
    setting: Option<String>,
    #[serde(default)]
    dos: Option<String>,
    #[serde(default)]
    age: Option<u16>,
    #[serde(default)]
    sex: Option<String>,
}

/// Reads every input: text files, folders of .txt files, NDJSON
/// (`{"id","text",...}` per line) and CSV (`--csv-text`/`--csv-id`
/// columns). Unreadable records become per-note errors, never aborts.
/// The non-empty UTF-8 notes of a benchmark corpus (the MTSamples CSV's
/// `transcription` column, NDJSON, text files or folders).
pub(crate) fn bench_texts(path: &Path) -> Result<Vec<String>> {
    let mut errs = Vec::new();
    let notes = read_inputs(
        std::slice::from_ref(&path.to_path_buf()),
        "transcription",
        "note_id",
        &mut errs,
    )?;
    let texts: Vec<String> = notes
        .into_iter()
        .filter_map(|n| String::from_utf8(n.bytes).ok())
        .filter(|t| !t.trim().is_empty())
        .collect();
    if texts.is_empty() {
        bail!("no notes read from {}", path.display());
    }
    Ok(texts)
}

fn read_inputs(
    inputs: &[PathBuf],
    csv_text: &str,
    csv_id: &str,
    errors: &mut Vec<(String, String)>,
) -> Result<Vec<NoteIn>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut files: Vec<PathBuf> = walk_txt(input)?;
            files.sort();
            for f in files {
                read_file(&f, &mut out, errors);
            }
            continue;
        }
        let ext = input
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "ndjson" | "jsonl" => {
                let f = std::fs::File::open(input)
                    .with_context(|| format!("opening {}", input.display()))?;
                for (i, line) in std::io::BufReader::new(f).split(b'\n').enumerate() {
                    let line = line.with_context(|| format!("reading {}", input.display()))?;
                    if line.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    let at = format!("{}:{}", input.display(), i + 1);
                    match serde_json::from_slice::<NdjsonNote>(&line) {
                        Ok(n) => {
                            let id = match &n.id {
                                serde_json::Value::String(s) => s.clone(),
                                v => v.to_string(),
                            };
                            let enc = (|| -> Result<Encounter> {
                                Ok(Encounter {
                                    setting: n
                                        .setting
                                        .as_deref()
                                        .map(parse_setting)
                                        .transpose()?
                                        .unwrap_or_default(),
                                    dos: n.dos.as_deref().map(parse_date).transpose()?,
                                    age: n.age,
                                    sex: n.sex.as_deref().map(parse_sex).transpose()?,
                                })
                            })();
                            match enc {
                                Ok(e) => out.push(NoteIn {
                                    id,
                                    bytes: n.text.into_bytes(),
                                    enc: Some(e),
                                }),
                                Err(e) => errors.push((at, format!("{e:#}"))),
                            }
                        }
                        Err(e) => errors
                            .push((at, format!("not a note object ({{\"id\", \"text\"}}): {e}"))),
                    }
                }
            }
            "csv" => {
                let mut rd = csv::ReaderBuilder::new()
                    .flexible(true)
                    .from_path(input)
                    .with_context(|| format!("opening {}", input.display()))?;
                let headers = rd.headers()?.clone();
                let ti = headers
                    .iter()
                    .position(|h| h == csv_text)
                    .with_context(|| {
                        format!(
                            "{}: no column {csv_text:?} (set --csv-text)",
                            input.display()
                        )
                    })?;
                let ii = headers.iter().position(|h| h == csv_id);
                for (n, rec) in rd.byte_records().enumerate() {
                    let at = format!("{} record {}", input.display(), n + 1);
                    match rec {
                        Ok(r) => {
                            let id = ii
                                .and_then(|i| r.get(i))
                                .map(|b| String::from_utf8_lossy(b).into_owned())
                                .unwrap_or_else(|| (n + 1).to_string());
                            let bytes = r.get(ti).map(<[u8]>::to_vec).unwrap_or_default();
                            out.push(NoteIn {
                                id,
                                bytes,
                                enc: None,
                            });
                        }
                        Err(e) => errors.push((at, e.to_string())),
                    }
                }
            }
            _ => read_file(input, &mut out, errors),
        }
    }
    Ok(out)
}

fn walk_txt(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    // Symlinked notes and folders count (a corpus split is often a folder of
    // links); walkdir reports a link loop as an error.
    for e in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "txt") {
            out.push(e.into_path());
        }
    }
    Ok(out)
}

fn read_file(f: &Path, out: &mut Vec<NoteIn>, errors: &mut Vec<(String, String)>) {
    let id = f
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match std::fs::read(f) {
        Ok(bytes) => out.push(NoteIn {
            id,
            bytes,
            enc: None,
        }),
        Err(e) => errors.push((f.display().to_string(), e.to_string())),
    }
}

#[derive(Args)]
pub struct CodeNotesArgs {
    /// Text files, folders of .txt files, NDJSON files ({"id","text",...} per line) or CSV files.
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Output NDJSON: one object per note with `id` and `suggestions`.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub enc: EncounterArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV column holding the note text.
    #[arg(long, default_value = "transcription")]
    pub csv_text: String,
    /// CSV column holding the note id.
    #[arg(long, default_value = "note_id")]
    pub csv_id: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// List at most this many candidates under the threshold per note (with `--candidates-floor`).
    #[arg(long, default_value_t = 10)]
    pub candidates: usize,
    /// List candidates under the threshold down to this confidence.
    #[arg(long, default_value_t = 0.05)]
    pub candidates_floor: f64,
}

#[derive(Serialize)]
struct BatchSummary {
    notes: usize,
    coded: usize,
    failed: usize,
    suggestions: usize,
    seconds: f64,
    notes_per_second: f64,
    megabytes: f64,
    out: String,
    errors: Vec<BatchError>,
}

#[derive(Serialize)]
struct BatchError {
    id: String,
    error: String,
}

pub fn code_notes(
    engine: &Engine,
    data_dir: &Path,
    args: &CodeNotesArgs,
    json: bool,
) -> Result<()> {
    let encounter = args.enc.encounter()?;
    if !(0.0..=1.0).contains(&args.candidates_floor) {
        bail!(
            "--candidates-floor must lie in [0, 1], got {}",
            args.candidates_floor
        );
    }
    let mut coder = open_coder(
        engine,
        &encounter,
        args.model.load(data_dir)?,
        args.enc.max_bytes,
    )?;
    coder.options.max_candidates = args.candidates;
    coder.options.list_floor = args.candidates_floor;
    let mut read_errors = Vec::new();
    let notes = read_inputs(&args.inputs, &args.csv_text, &args.csv_id, &mut read_errors)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(notes.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} notes {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let done = AtomicUsize::new(0);
    // Per note: the NDJSON line and its number of suggestions, or (id, error).
    type Coded = std::result::Result<(String, usize), (String, String)>;
    let results: Vec<Coded> = pool.install(|| {
        notes
            .par_iter()
            .map_init(Scratch::default, |scratch, n| {
                let enc = n.enc.as_ref().unwrap_or(&encounter);
                let r = coder
                    .code_bytes(&n.id, &n.bytes, enc, scratch)
                    .map_err(|e| (n.id.clone(), e.to_string()))
                    .and_then(|r| {
                        serde_json::to_string(&r)
                            .map(|line| (line, r.suggestions.len()))
                            .map_err(|e| (n.id.clone(), e.to_string()))
                    });
                if done.fetch_add(1, Ordering::Relaxed).is_multiple_of(64) {
                    bar.set_position(done.load(Ordering::Relaxed) as u64);
                }
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let tmp = args.out.with_extension("ndjson.tmp");
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    let unreadable = read_errors.len();
    let mut errors: Vec<BatchError> = read_errors
        .into_iter()
        .map(|(id, error)| BatchError { id, error })
        .collect();
    let mut coded = 0;
    let mut suggestions = 0;
    for r in &results {
        match r {
            Ok((line, n)) => {
                coded += 1;
                suggestions += n;
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")?;
            }
            Err((id, e)) => errors.push(BatchError {
                id: id.clone(),
                error: e.clone(),
            }),
        }
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    let megabytes = notes.iter().map(|n| n.bytes.len()).sum::<usize>() as f64 / 1e6;
    let summary = BatchSummary {
        notes: notes.len() + unreadable,
        coded,
        failed: errors.len(),
        suggestions,
        seconds,
        notes_per_second: coded as f64 / seconds.max(1e-9),
        megabytes,
        out: args.out.display().to_string(),
        errors,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "coded {} of {} notes ({:.1} MB) in {:.2} s — {:.0} notes/s; {} suggestions → {}",
            summary.coded,
            summary.notes,
            megabytes,
            seconds,
            summary.notes_per_second,
            suggestions,
            summary.out
        );
        for e in &summary.errors {
            println!("  skipped {}: {}", e.id, e.error);
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct LearnArgs {
    /// A CodiEsp-layout directory to learn from (text + document codes).
    #[arg(long, conflicts_with = "ndjson")]
    pub codiesp: Option<PathBuf>,
    /// Split of the CodiEsp directory.
    #[arg(long, default_value = "train")]
    pub split: String,
    /// NDJSON of coded notes: {"id", "text", "codes": [..]} per line.
    #[arg(long)]
    pub ndjson: Option<PathBuf>,
    /// Model file to write (default: DATA/models/coder-model.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct NdjsonCoded {
    id: serde_json::Value,
    text: String,
    codes: Vec<String>,
    /// Evidence of the final codes, where the history kept it: code-point
    /// offsets into `text` (end exclusive), as `code-notes` writes them.
    #[serde(default)]
    evidence: Vec<NdjsonEvidence>,
}

#[derive(serde::Deserialize)]
struct NdjsonEvidence {
    code: String,
    start: usize,
    end: usize,
}

/// Evidence spans in code points -> byte ranges of `text`; spans outside
/// the text or reversed are an error naming the record.
fn evidence_spans(
    text: &str,
    ev: &[NdjsonEvidence],
    at: &str,
) -> Result<Vec<medledger_coder::train::CodedSpan>> {
    let chars = medledger_text::CharIndex::new(text);
    ev.iter()
        .enumerate()
        .map(
            |(i, e)| match (chars.byte_offset(e.start), chars.byte_offset(e.end)) {
                (Some(a), Some(b)) if e.start < e.end => Ok(medledger_coder::train::CodedSpan {
                    code: e.code.clone(),
                    start: a,
                    end: b,
                }),
                _ => bail!(
                    "{at}: evidence[{i}] ({}..{}) is not a span of the note's {} characters",
                    e.start,
                    e.end,
                    chars.total_chars()
                ),
            },
        )
        .collect()
}

pub fn learn_cmd(engine: &Engine, data_dir: &Path, args: &LearnArgs, json: bool) -> Result<()> {
    let (notes, trained_on) = if let Some(dir) = &args.codiesp {
        let notes = codiesp_history(dir, &args.split)?;
        let n = notes.len();
        (
            notes,
            format!(
                "CodiEsp {} split ({n} documents, English text; evidence positions from CodiEsp-X)",
                args.split
            ),
        )
    } else if let Some(p) = &args.ndjson {
        let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
        let mut notes = Vec::new();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let n: NdjsonCoded = serde_json::from_str(&line).with_context(|| {
                format!(
                    "{}:{}: expected {{\"id\",\"text\",\"codes\"}}",
                    p.display(),
                    i + 1
                )
            })?;
            let id = match n.id {
                serde_json::Value::String(s) => s,
                v => v.to_string(),
            };
            let spans =
                evidence_spans(&n.text, &n.evidence, &format!("{}:{}", p.display(), i + 1))?;
            notes.push(CodedNote {
                id,
                text: n.text,
                codes: n.codes,
                positions: Vec::new(),
                spans,
            });
        }
        let count = notes.len();
        (notes, format!("{} ({count} notes)", p.display()))
    } else {
        bail!("give --codiesp DIR or --ndjson FILE");
    };
    if notes.is_empty() {
        bail!("no coded notes to learn from");
    }
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(notes.len() as u64 * 2)
    };
    let opts = LearnOptions {
        trained_on,
        ..LearnOptions::default()
    };
    let started = Instant::now();
    let counter = AtomicUsize::new(0);
    let mut model = learn(engine, &notes, &opts, &|_, _| {
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        bar.set_position(n as u64);
    })?;
    bar.finish_and_clear();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_model_path(data_dir));
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    model.save(&out)?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "model": out.display().to_string(),
                "version": model.version,
                "documents": model.documents,
                "learned_terms": model.learned_terms.len(),
                "threshold": model.threshold,
                "policy": model.policy,
                "training": model.training,
                "seconds": seconds,
            })
        );
    } else {
        println!(
            "learned {} from {} in {:.1} s → {}",
            model.version,
            model.trained_on,
            seconds,
            out.display()
        );
        println!(
            "  {} learned terms; {} candidates ({} positive); candidate recall {:.3}; threshold {:.3}; train micro-F1 {:.3}",
            model.learned_terms.len(),
            model.training.candidates,
            model.training.positives,
            model.training.candidate_recall,
            model.threshold,
            model.training.train_micro_f1_at_threshold
        );
        let p = &model.policy;
        println!(
            "  context policy read off the history: code negated {}, uncertain {}, historical as condition {}, family as condition {}, hypothetical {}",
            p.code_negated,
            p.code_uncertain,
            p.code_historical_as_condition,
            p.code_family_as_condition,
            p.code_hypothetical
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    /// Directory in the CodiEsp layout.
    #[arg(long)]
    pub dir: PathBuf,
    /// Split to score (dev, test, ...).
    #[arg(long)]
    pub split: String,
    /// Text to code: en (text_files_en, default) or es (text_files).
    #[arg(long, default_value = "en")]
    pub lang: String,
    #[command(flatten)]
    pub model: ModelArgs,
    /// When no model is given or installed, learn one from this split of DIR first (if present).
    #[arg(long, default_value = "train")]
    pub train_split: String,
}

pub fn eval_codiesp(engine: &Engine, data_dir: &Path, args: &EvalArgs, json: bool) -> Result<()> {
    let lang = match args.lang.as_str() {
        "en" | "english" => TextLang::English,
        "es" | "spanish" => TextLang::Spanish,
        l => bail!("--lang {l:?}: use en or es"),
    };
    let split = read_codiesp(&args.dir, &args.split, lang)?;
    let mut model = args.model.load(data_dir)?;
    let mut learned_here = None;
    if model.is_none()
        && !args.model.no_model
        && args.train_split != args.split
        && let Ok(notes) = codiesp_history(&args.dir, &args.train_split)
    {
        {
            let opts = LearnOptions {
                trained_on: format!(
                    "CodiEsp {} split ({} documents)",
                    args.train_split,
                    notes.len()
                ),
                ..LearnOptions::default()
            };
            let mut m = learn(engine, &notes, &opts, &|_, _| {})?;
            m.seal();
            learned_here = Some(m.trained_on.clone());
            model = Some(m);
        }
    }
    let mut coder = Coder::new(engine, None, model)?;
    // A ranking task: every candidate counts for MAP, however unlikely
    // (codes appended below the others never lower the average precision).
    coder.options.max_candidates = usize::MAX;
    coder.options.list_floor = 0.0;
    let started = Instant::now();
    let report = evaluate(&coder, &split);
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["seconds"] = serde_json::json!(seconds);
        v["learned_for_this_run"] = serde_json::json!(learned_here);
        println!("{}", serde_json::to_string(&v)?);
    } else {
        println!(
            "CodiEsp-D {} ({} documents, {} gold codes) · {}",
            report.split,
            report.scores.documents,
            report.scores.gold_codes,
            report.model.as_deref().unwrap_or("dictionary only")
        );
        if let Some(l) = &learned_here {
            println!("  model learned for this run from {l}");
        }
        println!(
            "  micro P {:.3} R {:.3} F1 {:.3} · category P {:.3} R {:.3} F1 {:.3} · MAP {:.3} (suggestions only {:.3})",
            report.scores.micro_precision,
            report.scores.micro_recall,
            report.scores.micro_f1,
            report.scores.category_micro_precision,
            report.scores.category_micro_recall,
            report.scores.category_micro_f1,
            report.scores.map,
            report.map_suggestions_only
        );
        match report.scores.evidence_f1 {
            Some(f) => println!("  evidence F1 {f:.3}"),
            None => println!(
                "  evidence F1: null (the CodiEsp-X offsets point into the Spanish originals, not the coded text)"
            ),
        }
        println!(
            "  {} gold codes are not billable in release {} and cannot be suggested; {:.1} s",
            report.gold_not_billable, report.release, seconds
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct BenchCoderArgs {
    /// Notes to code: the MTSamples CSV (or any input `code-notes` reads).
    #[arg(long, default_value = "../shared/eval/notes/mtsamples.csv")]
    pub notes: PathBuf,
    /// Rounds over the notes per measurement.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Serialize)]
struct CoderBench {
    notes: usize,
    mean_note_bytes: f64,
    engine_start_seconds: f64,
    single_core_notes_per_second: f64,
    single_core_mb_per_second: f64,
    parallel_notes_per_second: f64,
    threads: usize,
    /// Time per KB for notes binned by size (linearity check): (bin upper KB, µs per KB).
    us_per_kb_by_size: Vec<(usize, f64)>,
    peak_rss_mb: f64,
    current_rss_mb: f64,
    model: Option<String>,
}

fn status_mb(field: &str) -> f64 {
    crate::bench::status_kb(field) / 1024.0
}

pub fn bench_coder(
    engine: &Engine,
    data_dir: &Path,
    args: &BenchCoderArgs,
    json: bool,
) -> Result<()> {
    let texts = bench_texts(&args.notes)?;
    let started = Instant::now();
    let coder = Coder::new(engine, None, args.model.load(data_dir)?)?;
    let engine_start = started.elapsed().as_secs_f64();
    let enc = Encounter::default();
    let total_bytes: usize = texts.iter().map(String::len).sum();
    // Warm-up (fills the per-thread word cache as a long batch would).
    let mut scratch = Scratch::default();
    for t in &texts {
        let _ = coder.code("bench", t, &enc, &mut scratch);
    }
    let mut per_note = vec![0f64; texts.len()];
    let t0 = Instant::now();
    for _ in 0..args.rounds {
        for (i, t) in texts.iter().enumerate() {
            let s = Instant::now();
            let _ = coder.code("bench", t, &enc, &mut scratch);
            per_note[i] += s.elapsed().as_secs_f64();
        }
    }
    let single = t0.elapsed().as_secs_f64() / args.rounds as f64;
    let t1 = Instant::now();
    for _ in 0..args.rounds {
        texts.par_iter().for_each_init(Scratch::default, |s, t| {
            let _ = coder.code("bench", t, &enc, s);
        });
    }
    let parallel = t1.elapsed().as_secs_f64() / args.rounds as f64;
    let mut bins: Vec<(usize, f64, f64)> = [2usize, 4, 8, 16, 64]
        .iter()
        .map(|&b| (b, 0.0, 0.0))
        .collect();
    for (t, secs) in texts.iter().zip(&per_note) {
        let kb = t.len() as f64 / 1024.0;
        if let Some(bin) = bins.iter_mut().find(|(b, _, _)| kb <= *b as f64) {
            bin.1 += secs / args.rounds as f64;
            bin.2 += kb;
        }
    }
    let report = CoderBench {
        notes: texts.len(),
        mean_note_bytes: total_bytes as f64 / texts.len() as f64,
        engine_start_seconds: engine_start,
        single_core_notes_per_second: texts.len() as f64 / single,
        single_core_mb_per_second: total_bytes as f64 / 1e6 / single,
        parallel_notes_per_second: texts.len() as f64 / parallel,
        threads: rayon::current_num_threads(),
        us_per_kb_by_size: bins
            .iter()
            .filter(|b| b.2 > 0.0)
            .map(|(b, s, kb)| (*b, s * 1e6 / kb))
            .collect(),
        peak_rss_mb: status_mb("VmHWM:"),
        current_rss_mb: status_mb("VmRSS:"),
        model: coder.model_version(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "coder benchmark over {} notes (mean {:.1} KB), {}",
            report.notes,
            report.mean_note_bytes / 1024.0,
            report.model.as_deref().unwrap_or("dictionary only")
        );
        println!(
            "  engine start (dictionary build{}) {:.2} s",
            if report.model.is_some() {
                " + model"
            } else {
                ""
            },
            report.engine_start_seconds
        );
        println!(
            "  one core: {:.0} notes/s, {:.1} MB/s",
            report.single_core_notes_per_second, report.single_core_mb_per_second
        );
        println!(
            "  {} threads: {:.0} notes/s",
            report.threads, report.parallel_notes_per_second
        );
        for (b, us) in &report.us_per_kb_by_size {
            println!("  notes ≤ {b} KB: {us:.1} µs per KB");
        }
        println!(
            "  memory: peak {:.0} MB, now {:.0} MB",
            report.peak_rss_mb, report.current_rss_mb
        );
    }
    let _ = std::io::stdout().flush();
    Ok(())
}
