//! CodiEsp evaluation: reading the corpus and scoring predictions the way the
//! CLEF eHealth 2020 CodiEsp-D and CodiEsp-X tasks do.
//!
//! # Corpus layout
//!
//! [`read_codiesp`] accepts either the corpus root (`DIR/{split}/...`) or the
//! split folder itself (`DIR/...`). The split folder must hold
//! `{split}D.tsv` (required), `{split}X.tsv` (optional; without it there are no
//! evidence spans) and the text folder of the chosen language: `text_files/`
//! (Spanish originals) or `text_files_en/` (English machine translation).
//!
//! * Documents are the `.txt` files of the text folder, sorted by id (file
//!   stem). A document without gold rows still counts, with empty gold.
//! * `D` rows are `doc_id<TAB>code`. Codes are normalized with [`norm_code`]
//!   and deduplicated per document, keeping file order.
//! * `X` rows are `doc_id<TAB>DIAGNOSTICO|PROCEDIMIENTO<TAB>code<TAB>evidence<TAB>offsets`,
//!   offsets being `start end` fragments separated by `;`, in **character
//!   (code point)** offsets into the **Spanish** `text_files/`. Only
//!   `DIAGNOSTICO` rows become [`GoldSpan`]s.
//! * A row naming a document that has no text file is a format error, as is a
//!   row with the wrong number of fields, an unknown label or bad offsets.
//!
//! Offsets are validated lazily by [`CodiespSplit::span_mismatches`]: for
//! Spanish texts, every single-fragment gold span whose
//! `text.chars().skip(start).take(end - start)` differs from its evidence text
//! (or runs past the end of the text) is counted. The released train split has
//! one such row (`S1130-63432016000100009-1`, `z68.4`); they are kept, not
//! rejected.
//!
//! # Metrics ([`score`])
//!
//! Preparation, per document of the split:
//! * predicted codes are normalized with [`norm_code`], codes failing `valid`
//!   are dropped (the official scripts drop codes outside the task's valid code
//!   list), and duplicates are dropped keeping the first (best ranked) one;
//! * gold codes are normalized and deduplicated;
//! * documents of the split missing from the predictions predict nothing;
//!   predictions for ids that are not in the split are ignored; several
//!   [`DocPrediction`]s with the same id are concatenated in order.
//!
//! Metrics:
//! * **micro P/R/F1** over all (doc, code) pairs: TP = |predicted ∩ gold|,
//!   P = TP / predicted (0 when nothing is predicted), R = TP / gold (0 when
//!   there is no gold), F1 = 2PR/(P+R) (0 when P+R = 0).
//! * **category micro P/R/F1**: the same with every code cut to its first 3
//!   characters (the ICD-10 category), deduplicated per document after cutting
//!   (predicted categories keep first-occurrence order).
//! * **MAP** (CodiEsp-D's official metric, computed by the official script
//!   with trectools in the given rank order): per document,
//!   AP = (Σ over gold codes of precision@k, k being the 1-based rank at which
//!   that gold code appears in the cleaned prediction list; 0 for gold codes
//!   never predicted) / (number of gold codes). MAP is the mean AP over the
//!   documents that have at least one gold code (0 when there is none).
//! * **evidence P/R/F1** (CodiEsp-X), only when [`CodiespSplit::spans_align`]
//!   (otherwise all three are `None`). This follows the official
//!   `codiespX_evaluation.py` of TeMU-BSC/codiesp-evaluation-script
//!   (`calculate_metrics`, `tol = 10`), where "a True Positive is considered
//!   when the correct code is predicted and the right reference position is
//!   also given (with 10 characters of error tolerance)":
//!   - gold positives are the distinct (doc, code) pairs of the gold spans;
//!     a gold reference runs from the start of its first fragment to the end
//!     of its last fragment ("in case of discontinuous references, the
//!     reference is considered to start at the start position of the first
//!     part and to end at the final position of the last part");
//!   - predicted positives are the distinct (doc, code) pairs of the cleaned
//!     predictions that carry at least one fragment;
//!   - a gold (doc, code) pair is a true positive when some candidate
//!     interval `[ps, pe)` of the prediction for that code contains one of the
//!     gold references `[gs, ge)` of that code, with at most
//!     [`EVIDENCE_TOLERANCE`] characters to spare on each side:
//!     `0 <= gs - ps <= 10` and `0 <= pe - ge <= 10` ("in case a code has
//!     several references, just acknowledging one is enough"). Each gold pair
//!     counts at most once. The official submission format gives one
//!     `start end` per row and allows several rows per code; here every
//!     fragment of the prediction is such a candidate, and so is the whole
//!     prediction (start of its first fragment to end of its last fragment),
//!     mirroring how discontinuous gold references are read;
//!   - P = TP / predicted positives, R = TP / gold positives, F1 as above.
//!
//! Prediction fragments are character (code point) offsets into the text that
//! was coded, which is why evidence is only scored on Spanish texts.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Characters of slack allowed on each side of a gold reference by the
/// CodiEsp-X evidence match (the official script's `tol = 10`).
pub const EVIDENCE_TOLERANCE: usize = 10;

/// Errors while reading a CodiEsp corpus.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file or folder could not be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// A TSV row is malformed (`line` is 1-based).
    #[error("{path}, line {line}: {message}")]
    Format {
        path: String,
        line: usize,
        message: String,
    },
    /// The directory does not have the CodiEsp layout.
    #[error("{0}")]
    Layout(String),
}

/// Which text folder is read: `text_files_en` (English) or `text_files` (Spanish).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextLang {
    English,
    Spanish,
}

impl TextLang {
    fn folder(self) -> &'static str {
        match self {
            TextLang::English => "text_files_en",
            TextLang::Spanish => "text_files",
        }
    }
}

/// One gold `DIAGNOSTICO` evidence row of the X file.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldSpan {
    /// Normalized code key ([`norm_code`]).
    pub code: String,
    /// Character (code point) offsets `(start, end)` into the Spanish text.
    pub fragments: Vec<(usize, usize)>,
    /// Evidence text as given in the X file.
    pub text: String,
}

/// One document of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct CodiespDoc {
    pub id: String,
    /// Text in the chosen language.
    pub text: String,
    /// Normalized gold diagnosis keys, deduplicated, in file order.
    pub gold: Vec<String>,
    /// Gold evidence spans (`DIAGNOSTICO` rows only).
    pub spans: Vec<GoldSpan>,
}

/// A split read from disk (or built by hand).
#[derive(Debug, Clone)]
pub struct CodiespSplit {
    pub name: String,
    pub lang: TextLang,
    pub docs: Vec<CodiespDoc>,
}

impl CodiespSplit {
    /// True when X offsets point into the texts read (Spanish texts), and
    /// there are gold spans at all.
    pub fn spans_align(&self) -> bool {
        self.lang == TextLang::Spanish && self.docs.iter().any(|d| !d.spans.is_empty())
    }

    /// Number of single-fragment gold spans whose offsets do not select their
    /// evidence text in the document text (0 unless the texts are Spanish).
    pub fn span_mismatches(&self) -> usize {
        if self.lang != TextLang::Spanish {
            return 0;
        }
        let mut count = 0;
        for doc in &self.docs {
            if doc.spans.iter().all(|s| s.fragments.len() != 1) {
                continue;
            }
            let chars: Vec<char> = doc.text.chars().collect();
            for span in doc.spans.iter().filter(|s| s.fragments.len() == 1) {
                let (start, end) = span.fragments[0];
                let matches = start <= end
                    && end <= chars.len()
                    && chars[start..end].iter().copied().eq(span.text.chars());
                if !matches {
                    count += 1;
                }
            }
        }
        count
    }
}

/// Code normalization used everywhere in scoring: remove dots and
/// whitespace, upper-case (`"n44.8"` -> `"N448"`).
pub fn norm_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// One predicted code with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedCode {
    pub code: String,
    /// Character (code point) offsets into the text that was coded.
    pub fragments: Vec<(usize, usize)>,
}

/// Ranked predictions for one document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocPrediction {
    pub id: String,
    /// Best first.
    pub ranked: Vec<PredictedCode>,
}

/// Scores of a prediction run; see the module documentation for definitions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scores {
    pub documents: usize,
    pub gold_codes: usize,
    pub predicted_codes: usize,
    pub micro_precision: f64,
    pub micro_recall: f64,
    pub micro_f1: f64,
    pub category_micro_precision: f64,
    pub category_micro_recall: f64,
    pub category_micro_f1: f64,
    pub map: f64,
    pub evidence_precision: Option<f64>,
    pub evidence_recall: Option<f64>,
    pub evidence_f1: Option<f64>,
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

fn io_err(p: &Path, e: impl std::fmt::Display) -> EvalError {
    EvalError::Io {
        path: path_str(p),
        message: e.to_string(),
    }
}

fn fmt_err(p: &Path, line: usize, message: impl Into<String>) -> EvalError {
    EvalError::Format {
        path: path_str(p),
        line,
        message: message.into(),
    }
}

/// Finds the split folder: `dir/{split}` or `dir` itself, whichever holds
/// `{split}D.tsv`.
fn split_dir(dir: &Path, split: &str) -> Result<PathBuf, EvalError> {
    let d_name = format!("{split}D.tsv");
    let nested = dir.join(split);
    if nested.join(&d_name).is_file() {
        return Ok(nested);
    }
    if dir.join(&d_name).is_file() {
        return Ok(dir.to_path_buf());
    }
    if !dir.is_dir() {
        return Err(EvalError::Layout(format!(
            "{}: not a directory",
            path_str(dir)
        )));
    }
    Err(EvalError::Layout(format!(
        "no {d_name} in {} or {}",
        path_str(&nested),
        path_str(dir)
    )))
}

fn read_text(p: &Path) -> Result<String, EvalError> {
    let bytes = fs::read(p).map_err(|e| io_err(p, e))?;
    let mut text = String::from_utf8(bytes).map_err(|e| io_err(p, format!("not UTF-8: {e}")))?;
    if text.starts_with('\u{feff}') {
        text.remove(0);
    }
    Ok(text)
}

/// Yields `(1-based line number, fields)` for the non-blank lines of a TSV file.
fn tsv_rows(content: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    content
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| (n, l.split('\t').collect()))
}

fn parse_offsets(s: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut out = Vec::new();
    for frag in s.split(';') {
        let mut it = frag.split_whitespace();
        let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) else {
            return Err(format!(
                "bad offsets {s:?}: expected \"start end\" fragments"
            ));
        };
        let start: usize = a
            .parse()
            .map_err(|_| format!("bad offsets {s:?}: {a:?} is not a number"))?;
        let end: usize = b
            .parse()
            .map_err(|_| format!("bad offsets {s:?}: {b:?} is not a number"))?;
        if start > end {
            return Err(format!("bad offsets {s:?}: start {start} after end {end}"));
        }
        out.push((start, end));
    }
    Ok(out)
}

/// Reads one split of a CodiEsp corpus. `dir` is the corpus root (holding
/// `{split}/`) or the split folder itself; see the module documentation.
pub fn read_codiesp(dir: &Path, split: &str, lang: TextLang) -> Result<CodiespSplit, EvalError> {
    let sdir = split_dir(dir, split)?;
    let tdir = sdir.join(lang.folder());
    if !tdir.is_dir() {
        return Err(EvalError::Layout(format!(
            "{}: text folder missing",
            path_str(&tdir)
        )));
    }

    // Documents: the .txt files of the text folder, sorted by id.
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(&tdir).map_err(|e| io_err(&tdir, e))? {
        let entry = entry.map_err(|e| io_err(&tdir, e))?;
        let p = entry.path();
        if !p.is_file() || p.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let Some(stem) = p.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        files.push((stem.to_string(), p));
    }
    files.sort();
    let mut docs = Vec::with_capacity(files.len());
    let mut index: HashMap<String, usize> = HashMap::with_capacity(files.len());
    for (id, p) in files {
        let text = read_text(&p)?;
        index.insert(id.clone(), docs.len());
        docs.push(CodiespDoc {
            id,
            text,
            gold: Vec::new(),
            spans: Vec::new(),
        });
    }
    let lookup = |p: &Path, line: usize, id: &str| -> Result<usize, EvalError> {
        index.get(id).copied().ok_or_else(|| {
            fmt_err(
                p,
                line,
                format!("document {id:?} has no text file in {}", path_str(&tdir)),
            )
        })
    };

    // D: doc_id<TAB>code
    let d_path = sdir.join(format!("{split}D.tsv"));
    let d_content = read_text(&d_path)?;
    let mut seen: Vec<HashSet<String>> = vec![HashSet::new(); docs.len()];
    for (line, fields) in tsv_rows(&d_content) {
        if fields.len() != 2 {
            return Err(fmt_err(
                &d_path,
                line,
                format!("expected 2 tab-separated fields, found {}", fields.len()),
            ));
        }
        let (id, code) = (fields[0].trim(), norm_code(fields[1]));
        if id.is_empty() || code.is_empty() {
            return Err(fmt_err(&d_path, line, "empty document id or code"));
        }
        let i = lookup(&d_path, line, id)?;
        if seen[i].insert(code.clone()) {
            docs[i].gold.push(code);
        }
    }

    // X (optional): doc_id<TAB>label<TAB>code<TAB>evidence<TAB>offsets
    let x_path = sdir.join(format!("{split}X.tsv"));
    if x_path.is_file() {
        let x_content = read_text(&x_path)?;
        for (line, fields) in tsv_rows(&x_content) {
            if fields.len() != 5 {
                return Err(fmt_err(
                    &x_path,
                    line,
                    format!("expected 5 tab-separated fields, found {}", fields.len()),
                ));
            }
            let id = fields[0].trim();
            let label = fields[1].trim();
            let code = norm_code(fields[2]);
            if code.is_empty() {
                return Err(fmt_err(&x_path, line, "empty code"));
            }
            let fragments = parse_offsets(fields[4]).map_err(|m| fmt_err(&x_path, line, m))?;
            let i = lookup(&x_path, line, id)?;
            match label {
                "DIAGNOSTICO" => docs[i].spans.push(GoldSpan {
                    code,
                    fragments,
                    text: fields[3].to_string(),
                }),
                "PROCEDIMIENTO" => {}
                other => {
                    return Err(fmt_err(
                        &x_path,
                        line,
                        format!("unknown label {other:?} (expected DIAGNOSTICO or PROCEDIMIENTO)"),
                    ));
                }
            }
        }
    }

    Ok(CodiespSplit {
        name: split.to_string(),
        lang,
        docs,
    })
}

// ---------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Deduplicates keeping first occurrences.
fn dedup_first<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

fn category(key: &str) -> String {
    key.chars().take(3).collect()
}

/// Average precision of a ranked, deduplicated list against a gold set.
fn average_precision(ranked: &[String], gold: &HashSet<&str>) -> f64 {
    if gold.is_empty() {
        return 0.0;
    }
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (k, code) in ranked.iter().enumerate() {
        if gold.contains(code.as_str()) {
            hits += 1;
            sum += hits as f64 / (k + 1) as f64;
        }
    }
    sum / gold.len() as f64
}

/// Candidate evidence intervals of a prediction: each fragment, and the whole
/// prediction from its first fragment's start to its last fragment's end.
fn candidates(fragments: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = fragments.to_vec();
    if let (Some(first), Some(last)) = (fragments.first(), fragments.last()) {
        out.push((first.0, last.1));
    }
    out
}

/// The official containment-with-tolerance test: the predicted interval
/// starts at most `EVIDENCE_TOLERANCE` before the gold start and ends at
/// most `EVIDENCE_TOLERANCE` after the gold end.
fn evidence_matches(pred: (usize, usize), gold: (usize, usize)) -> bool {
    let (ps, pe) = pred;
    let (gs, ge) = gold;
    gs >= ps && gs - ps <= EVIDENCE_TOLERANCE && pe >= ge && pe - ge <= EVIDENCE_TOLERANCE
}

/// Scores predictions against a split; see the module documentation for the
/// exact definitions. `valid(code_key)` says whether a normalized key is an
/// ICD-10-CM code; predictions failing it are dropped before scoring.
pub fn score(
    split: &CodiespSplit,
    preds: &[DocPrediction],
    valid: &dyn Fn(&str) -> bool,
) -> Scores {
    let mut by_id: HashMap<&str, Vec<&PredictedCode>> = HashMap::new();
    for dp in preds {
        by_id
            .entry(dp.id.as_str())
            .or_default()
            .extend(dp.ranked.iter());
    }

    let (mut gold_n, mut pred_n, mut tp) = (0usize, 0usize, 0usize);
    let (mut cat_gold_n, mut cat_pred_n, mut cat_tp) = (0usize, 0usize, 0usize);
    let (mut ap_sum, mut ap_docs) = (0.0f64, 0usize);
    let (mut ev_gold_n, mut ev_pred_n, mut ev_tp) = (0usize, 0usize, 0usize);
    let with_evidence = split.spans_align();

    for doc in &split.docs {
        // Cleaned predictions: normalized, valid, first occurrence kept.
        let mut seen = HashSet::new();
        let mut cleaned: Vec<(String, &[(usize, usize)])> = Vec::new();
        for pc in by_id.get(doc.id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
            let key = norm_code(&pc.code);
            if key.is_empty() || !valid(&key) || !seen.insert(key.clone()) {
                continue;
            }
            cleaned.push((key, pc.fragments.as_slice()));
        }
        let ranked: Vec<String> = cleaned.iter().map(|(k, _)| k.clone()).collect();
        let gold = dedup_first(
            doc.gold
                .iter()
                .map(|g| norm_code(g))
                .filter(|g| !g.is_empty()),
        );
        let gold_set: HashSet<&str> = gold.iter().map(String::as_str).collect();

        gold_n += gold.len();
        pred_n += ranked.len();
        tp += ranked
            .iter()
            .filter(|k| gold_set.contains(k.as_str()))
            .count();

        let cat_pred = dedup_first(ranked.iter().map(|k| category(k)));
        let cat_gold: HashSet<String> = gold.iter().map(|k| category(k)).collect();
        cat_gold_n += cat_gold.len();
        cat_pred_n += cat_pred.len();
        cat_tp += cat_pred.iter().filter(|c| cat_gold.contains(*c)).count();

        if !gold.is_empty() {
            ap_sum += average_precision(&ranked, &gold_set);
            ap_docs += 1;
        }

        if with_evidence {
            // Gold references per normalized code: (first start, last end).
            let mut refs: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
            for span in &doc.spans {
                let key = norm_code(&span.code);
                let entry = refs.entry(key).or_default();
                if let (Some(first), Some(last)) = (span.fragments.first(), span.fragments.last()) {
                    entry.push((first.0, last.1));
                }
            }
            ev_gold_n += refs.len();
            let with_frags: Vec<&(String, &[(usize, usize)])> =
                cleaned.iter().filter(|(_, f)| !f.is_empty()).collect();
            ev_pred_n += with_frags.len();
            for (key, frags) in with_frags {
                let Some(gold_refs) = refs.get(key) else {
                    continue;
                };
                let cands = candidates(frags);
                let hit = gold_refs
                    .iter()
                    .any(|g| cands.iter().any(|c| evidence_matches(*c, *g)));
                if hit {
                    ev_tp += 1;
                }
            }
        }
    }

    let p = ratio(tp, pred_n);
    let r = ratio(tp, gold_n);
    let cp = ratio(cat_tp, cat_pred_n);
    let cr = ratio(cat_tp, cat_gold_n);
    let (ep, er, ef) = if with_evidence {
        let ep = ratio(ev_tp, ev_pred_n);
        let er = ratio(ev_tp, ev_gold_n);
        (Some(ep), Some(er), Some(f1(ep, er)))
    } else {
        (None, None, None)
    };
    Scores {
        documents: split.docs.len(),
        gold_codes: gold_n,
        predicted_codes: pred_n,
        micro_precision: p,
        micro_recall: r,
        micro_f1: f1(p, r),
        category_micro_precision: cp,
        category_micro_recall: cr,
        category_micro_f1: f1(cp, cr),
        map: if ap_docs == 0 {
            0.0
        } else {
            ap_sum / ap_docs as f64
        },
        evidence_precision: ep,
        evidence_recall: er,
        evidence_f1: ef,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < EPS
    }

    fn pc(code: &str, frags: &[(usize, usize)]) -> PredictedCode {
        PredictedCode {
            code: code.to_string(),
            fragments: frags.to_vec(),
        }
    }

    fn span(code: &str, frags: &[(usize, usize)]) -> GoldSpan {
        GoldSpan {
            code: code.to_string(),
            fragments: frags.to_vec(),
            text: String::new(),
        }
    }

    fn doc(id: &str, gold: &[&str], spans: Vec<GoldSpan>) -> CodiespDoc {
        CodiespDoc {
            id: id.to_string(),
            text: String::new(),
            gold: gold.iter().map(|s| s.to_string()).collect(),
            spans,
        }
    }

    /// d1: gold {A101, B201, C301}; d2: gold {A111}; d3: no gold.
    fn split(lang: TextLang) -> CodiespSplit {
        CodiespSplit {
            name: "toy".into(),
            lang,
            docs: vec![
                doc(
                    "d1",
                    &["A101", "B201", "C301"],
                    vec![
                        span("A101", &[(100, 110)]),
                        span("B201", &[(200, 205), (220, 230)]),
                        span("B201", &[(400, 410)]),
                        span("C301", &[(300, 310)]),
                    ],
                ),
                doc("d2", &["A111"], vec![span("A111", &[(50, 60)])]),
                doc("d3", &[], vec![]),
            ],
        }
    }

    fn not_x(code: &str) -> bool {
        !code.starts_with('X')
    }

    #[test]
    fn norm_code_examples() {
        assert_eq!(norm_code("n44.8"), "N448");
        assert_eq!(norm_code(" s22.49xa "), "S2249XA");
        assert_eq!(norm_code("Q62 .11"), "Q6211");
        assert_eq!(norm_code(""), "");
    }

    #[test]
    fn hand_computed_scores() {
        let s = split(TextLang::Spanish);
        let preds = vec![
            DocPrediction {
                id: "d1".into(),
                ranked: vec![
                    pc("a10.1", &[(95, 112)]),  // TP code; evidence within tolerance
                    pc("D991", &[(0, 5)]),      // FP
                    pc("b20.1", &[(200, 230)]), // TP code; hull of discontinuous gold
                    pc("A101", &[]),            // duplicate, dropped
                    pc("X001", &[(1, 2)]),      // invalid, dropped
                ],
            },
            DocPrediction {
                id: "d2".into(),
                ranked: vec![pc("A112", &[(50, 60)]), pc("A111", &[(30, 60)])],
            },
            DocPrediction {
                id: "d3".into(),
                ranked: vec![pc("Z001", &[(0, 3)])],
            },
            DocPrediction {
                id: "unknown".into(),
                ranked: vec![pc("A101", &[])],
            },
        ];
        let sc = score(&s, &preds, &not_x);
        assert_eq!(sc.documents, 3);
        assert_eq!(sc.gold_codes, 4);
        // d1: A101 D991 B201; d2: A112 A111; d3: Z001
        assert_eq!(sc.predicted_codes, 6);
        // TP: A101, B201, A111 = 3
        assert!(close(sc.micro_precision, 3.0 / 6.0));
        assert!(close(sc.micro_recall, 3.0 / 4.0));
        assert!(close(sc.micro_f1, 2.0 * 0.5 * 0.75 / 1.25));
        // categories: d1 pred [A10,D99,B20] gold {A10,B20,C30} -> 2 TP;
        // d2 pred [A11,A11] -> [A11] gold {A11} -> 1 TP; d3 pred [Z00] gold {}.
        // pred 3+1+1 = 5, gold 3+1 = 4, TP 3.
        assert!(close(sc.category_micro_precision, 3.0 / 5.0));
        assert!(close(sc.category_micro_recall, 3.0 / 4.0));
        let (cp, cr) = (0.6, 0.75);
        assert!(close(sc.category_micro_f1, 2.0 * cp * cr / (cp + cr)));
        // MAP: d1 AP = (1/1 + 2/3 + 0)/3; d2 AP = (1/2)/1; d3 excluded.
        let ap1 = (1.0 + 2.0 / 3.0) / 3.0;
        let ap2 = 0.5;
        assert!(close(sc.map, (ap1 + ap2) / 2.0));
        // Evidence: gold pairs d1{A101,B201,C301} d2{A111} = 4.
        // Pred pairs with fragments: d1 A101, D991, B201; d2 A112, A111; d3 Z001 = 6.
        // A101 (95,112) vs (100,110): 5 before, 2 after -> hit.
        // B201 (200,230) vs first ref (200,230) -> hit.
        // A111 (30,60) vs (50,60): 20 before -> miss.
        // TP = 2.
        let ep = 2.0 / 6.0;
        let er = 2.0 / 4.0;
        assert!(close(sc.evidence_precision.unwrap(), ep));
        assert!(close(sc.evidence_recall.unwrap(), er));
        assert!(close(sc.evidence_f1.unwrap(), 2.0 * ep * er / (ep + er)));
    }

    #[test]
    fn english_texts_have_no_evidence_scores() {
        let s = split(TextLang::English);
        assert!(!s.spans_align());
        let preds = vec![DocPrediction {
            id: "d1".into(),
            ranked: vec![pc("A101", &[(100, 110)])],
        }];
        let sc = score(&s, &preds, &|_| true);
        assert_eq!(sc.evidence_precision, None);
        assert_eq!(sc.evidence_recall, None);
        assert_eq!(sc.evidence_f1, None);
        assert!(close(sc.micro_precision, 1.0));
        assert!(close(sc.micro_recall, 0.25));
    }

    #[test]
    fn no_predictions_scores_zero() {
        let s = split(TextLang::Spanish);
        let sc = score(&s, &[], &|_| true);
        assert_eq!(sc.predicted_codes, 0);
        assert_eq!(sc.gold_codes, 4);
        assert_eq!(sc.micro_precision, 0.0);
        assert_eq!(sc.micro_recall, 0.0);
        assert_eq!(sc.micro_f1, 0.0);
        assert_eq!(sc.map, 0.0);
        assert_eq!(sc.evidence_f1, Some(0.0));
    }

    #[test]
    fn perfect_predictions_score_one() {
        let s = split(TextLang::Spanish);
        let preds: Vec<DocPrediction> = s
            .docs
            .iter()
            .map(|d| DocPrediction {
                id: d.id.clone(),
                ranked: d
                    .spans
                    .iter()
                    .map(|sp| pc(&sp.code, &sp.fragments))
                    .collect(),
            })
            .collect();
        let sc = score(&s, &preds, &|_| true);
        for v in [
            sc.micro_precision,
            sc.micro_recall,
            sc.micro_f1,
            sc.category_micro_f1,
            sc.map,
            sc.evidence_f1.unwrap(),
        ] {
            assert!(close(v, 1.0), "{sc:?}");
        }
    }

    #[test]
    fn second_gold_reference_and_fragment_candidates_match() {
        let s = split(TextLang::Spanish);
        // B201's second reference (400,410) hit by one fragment of the prediction;
        // C301 predicted with a fragment ending 11 past the gold end: miss.
        let preds = vec![DocPrediction {
            id: "d1".into(),
            ranked: vec![
                pc("B201", &[(10, 20), (398, 412)]),
                pc("C301", &[(300, 321)]),
            ],
        }];
        let sc = score(&s, &preds, &|_| true);
        assert!(close(sc.evidence_precision.unwrap(), 1.0 / 2.0));
        assert!(close(sc.evidence_recall.unwrap(), 1.0 / 4.0));
    }

    #[test]
    fn duplicate_doc_predictions_are_concatenated() {
        let s = split(TextLang::English);
        let preds = vec![
            DocPrediction {
                id: "d1".into(),
                ranked: vec![pc("X1", &[]), pc("A101", &[])],
            },
            DocPrediction {
                id: "d1".into(),
                ranked: vec![pc("A101", &[]), pc("B201", &[])],
            },
        ];
        let sc = score(&s, &preds, &|_| true);
        // ranked [X1, A101, B201]: AP d1 = (1/2 + 2/3)/3, d2 AP 0
        assert_eq!(sc.predicted_codes, 3);
        assert!(close(sc.map, (0.5 + 2.0 / 3.0) / 3.0 / 2.0));
    }

    #[test]
    fn span_mismatch_counting() {
        let mut s = split(TextLang::Spanish);
        s.docs.truncate(1);
        s.docs[0].text = "el niño tiene fiebre".into();
        s.docs[0].spans = vec![
            GoldSpan {
                code: "R509".into(),
                fragments: vec![(14, 20)],
                text: "fiebre".into(),
            },
            GoldSpan {
                code: "R509".into(),
                fragments: vec![(3, 7)],
                text: "niño".into(),
            },
            GoldSpan {
                code: "R509".into(),
                fragments: vec![(3, 8)],
                text: "niño".into(),
            },
            GoldSpan {
                code: "R509".into(),
                fragments: vec![(14, 25)],
                text: "fiebre".into(),
            },
            GoldSpan {
                code: "R509".into(),
                fragments: vec![(0, 2), (14, 20)],
                text: "x".into(),
            },
        ];
        assert_eq!(s.span_mismatches(), 2);
        s.lang = TextLang::English;
        assert_eq!(s.span_mismatches(), 0);
    }

    #[test]
    fn offsets_parsing() {
        assert_eq!(parse_offsets("1 5"), Ok(vec![(1, 5)]));
        assert_eq!(
            parse_offsets("1847 1856;1943 1949"),
            Ok(vec![(1847, 1856), (1943, 1949)])
        );
        assert!(parse_offsets("5 1").is_err());
        assert!(parse_offsets("5").is_err());
        assert!(parse_offsets("a b").is_err());
    }
}
