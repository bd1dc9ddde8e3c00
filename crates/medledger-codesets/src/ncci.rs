//! CMS National Correct Coding Initiative tables, read in the layouts CMS
//! publishes them in:
//!
//! - procedure-to-procedure (PTP) edits, `ccipra-v321r0-f1.txt` (practitioner)
//!   and `ccioph-...` (outpatient hospital), split over several files f1..f4:
//!   tab-delimited text (or the same columns as CSV) after an AMA copyright
//!   line and a column header that may run over several lines;
//! - medically unlikely edits (MUE), `MCR_MUE_PractitionerServices_Eff_04-01-2026.csv`
//!   and its outpatient hospital and DME supplier twins (CSV or xlsx);
//! - add-on code (AOC) edits, `AOC_V2026Q2-MCR.xlsx` or its tab-delimited
//!   `.txt` twin, with YYYYDDD ("2013091" = 2013, day 91) dates.
//!
//! Text that is not valid UTF-8 is read as Windows-1252. Parse errors name
//! the file, the line (spreadsheet row for xlsx) and the column.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::hcpcs::{decode_text, yyyymmdd};
use crate::normalize;

/// The claim setting a PTP or MUE table applies to, from its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NcciSetting {
    Practitioner,
    OutpatientHospital,
    Dme,
    Unknown,
}

impl NcciSetting {
    /// `ccipra-*` or `*Practitioner*` -> practitioner, `ccioph-*` or
    /// `*Outpatient*`/`*Hospital*` -> outpatient hospital, `*DME*` -> DME.
    pub fn from_file_name(name: &str) -> NcciSetting {
        let base = name
            .rsplit(['/', '\\', '!'])
            .next()
            .unwrap_or(name)
            .to_ascii_lowercase();
        if base.starts_with("ccipra") || base.contains("practitioner") {
            NcciSetting::Practitioner
        } else if base.starts_with("ccioph")
            || base.contains("outpatient")
            || base.contains("hospital")
        {
            NcciSetting::OutpatientHospital
        } else if base.contains("dme") {
            NcciSetting::Dme
        } else {
            NcciSetting::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NcciSetting::Practitioner => "practitioner",
            NcciSetting::OutpatientHospital => "outpatient-hospital",
            NcciSetting::Dme => "dme",
            NcciSetting::Unknown => "unknown",
        }
    }
}

/// One PTP edit: column 2 is not paid with column 1 on the same date of
/// service unless the modifier indicator allows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtpEdit {
    pub column1: String,
    pub column2: String,
    /// `*` in CMS's column: the edit existed before 1996.
    pub pre_1996: bool,
    pub effective: Date,
    /// Last date the edit applies; `*` (none) in CMS's file.
    pub deleted: Option<Date>,
    /// 0 = not allowed, 1 = allowed with an NCCI-associated modifier,
    /// 9 = not applicable.
    pub modifier_indicator: u8,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtpTable {
    /// The file read; "f1 + f2" after [`PtpTable::merge`].
    pub source_file: String,
    pub setting: NcciSetting,
    /// Sorted by (column1, column2, effective).
    pub edits: Vec<PtpEdit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MueEntry {
    pub code: String,
    /// The most units of service per line or per date of service.
    pub value: u32,
    /// 1 line edit, 2 date of service edit (policy), 3 date of service edit
    /// (clinical).
    pub adjudication_indicator: u8,
    /// "Date of Service Edit: Policy" (the words after the indicator).
    pub adjudication_text: String,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MueTable {
    pub source_file: String,
    pub setting: NcciSetting,
    /// From the file name (`..._Eff_04-01-2026.csv`).
    pub effective_from: Option<Date>,
    /// Sorted by code, one per code.
    pub entries: Vec<MueEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AocEdit {
    /// 1: the primary codes are listed; 2: the contractor defines them
    /// (primary `CCCCC`); 3: some primaries listed, others contractor-defined.
    pub edit_type: u8,
    pub addon_code: String,
    pub addon_deleted: Option<Date>,
    /// A primary code, or `CCCCC` for contractor-defined primary codes.
    pub primary_code: String,
    pub primary_deleted: Option<Date>,
    pub effective: Date,
    pub deleted: Option<Date>,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AocTable {
    pub source_file: String,
    /// Sorted by (add-on code, primary code, effective date).
    pub edits: Vec<AocEdit>,
}

/// One line of a delimited file, or one spreadsheet row.
struct Row {
    /// 1-based line (row) number.
    line: u64,
    cells: Vec<String>,
}

impl Row {
    fn cell(&self, i: usize) -> &str {
        self.cells.get(i).map(String::as_str).unwrap_or("")
    }

    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }
}

/// Where in a file a cell is: line, and column number and name.
fn at(file: &str, line: u64, col: usize, name: &str) -> Position {
    Position::file(file)
        .line(line)
        .element(format!("column {} ({name})", col + 1))
}

/// The rows of a table file: the first sheet of an xlsx (sniffed by its
/// `PK` zip signature), tab-delimited text, or CSV.
fn rows(bytes: &[u8], file: &str) -> Result<Vec<Row>> {
    if bytes.starts_with(b"PK") {
        return xlsx_rows(bytes, file);
    }
    let text = decode_text(bytes);
    let tabbed = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .any(|l| l.contains('\t'));
    if tabbed {
        return Ok(text
            .split('\n')
            .enumerate()
            .map(|(i, l)| Row {
                line: i as u64 + 1,
                cells: l.split('\t').map(clean).collect(),
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => out.push(Row {
                line: rec.position().map(|p| p.line()).unwrap_or(0),
                cells: rec.iter().map(clean).collect(),
            }),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(Error::parse(
                    Position::file(file).line(line),
                    format!("malformed CSV: {e}"),
                ));
            }
        }
    }
    Ok(out)
}

/// A cell without surrounding blanks or quotes.
fn clean(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(t)
        .trim()
        .to_string()
}

fn xlsx_rows(bytes: &[u8], file: &str) -> Result<Vec<Row>> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        Error::parse(
            Position::file(file),
            format!("not a readable xlsx workbook: {e}"),
        )
    })?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| Error::parse(Position::file(file), "the workbook has no sheet"))?
        .map_err(|e| Error::parse(Position::file(file), format!("unreadable sheet: {e}")))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    // Column indexes count from column A.
    let pad = (col0 as usize).min(16_384);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, r)| {
            let mut cells = vec![String::new(); pad];
            cells.extend(r.iter().map(xlsx_cell));
            Row {
                line: u64::from(row0) + i as u64 + 1,
                cells,
            }
        })
        .collect())
}

fn xlsx_cell(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => clean(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(dt) => {
            // Days since 1899-12-30 (Excel's 1900 date system).
            let days = dt.as_f64().floor();
            Date::new(1899, 12, 30)
                .ok()
                .filter(|_| (0.0..3_000_000.0).contains(&days))
                .and_then(|base| {
                    base.checked_add(jiff::Span::new().days(days as i64))
                        .ok()
                })
                .map(|d| d.to_string())
                .unwrap_or_else(|| c.to_string())
        }
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        other => clean(&other.to_string()),
    }
}

/// A five-character code (CPT, HCPCS, or AOC's `CCCCC`).
fn code_of(s: &str) -> Option<String> {
    let k = s.trim().to_ascii_uppercase();
    (k.len() == 5 && k.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(k)
}

/// A date cell: YYYYMMDD, CMS's YYYYDDD (year and day of the year),
/// YYYY-MM-DD or MM/DD/YYYY; `*` or blank = none.
fn date_cell(s: &str, pos: impl Fn() -> Position) -> Result<Option<Date>> {
    let s = s.trim();
    if s.is_empty() || s == "*" {
        return Ok(None);
    }
    let digits = s.bytes().all(|b| b.is_ascii_digit());
    let parsed = match s.len() {
        8 if digits => yyyymmdd(s),
        7 if digits => julian(s),
        10 if s.as_bytes().get(4) == Some(&b'-') => s.parse::<Date>().ok(),
        8..=10 if s.contains('/') => {
            let mut it = s.split('/').map(|p| p.parse::<i16>().ok());
            match (it.next(), it.next(), it.next(), it.next()) {
                (Some(Some(m)), Some(Some(d)), Some(Some(y)), None) if y >= 1000 => {
                    i8::try_from(m)
                        .ok()
                        .zip(i8::try_from(d).ok())
                        .and_then(|(m, d)| Date::new(y, m, d).ok())
                }
                _ => None,
            }
        }
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| {
        Error::parse(
            pos(),
            format!("not a date: {s:?} (expected YYYYMMDD, YYYYDDD or *)"),
        )
    })
}

/// "2013091" -> 2013-04-01.
fn julian(s: &str) -> Option<Date> {
    let y = s.get(0..4)?.parse::<i16>().ok()?;
    let doy = s.get(4..7)?.parse::<i16>().ok()?;
    Date::new(y, 1, 1).ok()?.with().day_of_year(doy).build().ok()
}

// ---------------------------------------------------------------- PTP ----

const PTP_COLUMNS: [&str; 7] = [
    "Column 1",
    "Column 2",
    "*=in existence prior to 1996",
    "Effective Date",
    "Deletion Date *=no data",
    "Modifier 0=not allowed 1=allowed 9=not applicable",
    "PTP Edit Rationale",
];

/// Parses one PTP file. Lines before the data (copyright notice, a column
/// header over one or more lines) are skipped: a data row has a code in
/// column 1. Its column 2 must then be a code too.
pub fn parse_ptp(bytes: &[u8], file_name: &str) -> Result<PtpTable> {
    let mut edits = Vec::new();
    for row in rows(bytes, file_name)? {
        let Some(column1) = code_of(row.cell(0)) else {
            continue;
        };
        let pos = |col: usize| at(file_name, row.line, col, PTP_COLUMNS[col]);
        let column2 = code_of(row.cell(1)).ok_or_else(|| {
            Error::parse(
                pos(1),
                format!("expected a 5-character code, found {:?}", row.cell(1)),
            )
        })?;
        let pre_1996 = match row.cell(2) {
            "*" => true,
            "" => false,
            other => {
                return Err(Error::parse(
                    pos(2),
                    format!("expected * or blank, found {other:?}"),
                ));
            }
        };
        let effective = date_cell(row.cell(3), || pos(3))?
            .ok_or_else(|| Error::parse(pos(3), "no effective date"))?;
        let deleted = date_cell(row.cell(4), || pos(4))?;
        let modifier_indicator = match row.cell(5) {
            "0" => 0,
            "1" => 1,
            "9" => 9,
            other => {
                return Err(Error::parse(
                    pos(5),
                    format!("expected modifier indicator 0, 1 or 9, found {other:?}"),
                ));
            }
        };
        edits.push(PtpEdit {
            column1,
            column2,
            pre_1996,
            effective,
            deleted,
            modifier_indicator,
            rationale: row.cell(6).to_string(),
        });
    }
    if edits.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no PTP edit rows found (expected Column 1, Column 2, ..., tab-delimited or CSV)",
        ));
    }
    let mut t = PtpTable {
        source_file: file_name.to_string(),
        setting: NcciSetting::from_file_name(file_name),
        edits,
    };
    t.sort();
    Ok(t)
}

impl PtpTable {
    fn sort(&mut self) {
        self.edits.sort_by(|a, b| {
            (&a.column1, &a.column2, a.effective, a.deleted)
                .cmp(&(&b.column1, &b.column2, b.effective, b.deleted))
        });
        self.edits.dedup();
    }

    /// Every edit of a (column 1, column 2) pair, oldest first.
    fn pair(&self, column1: &str, column2: &str) -> &[PtpEdit] {
        let start = self
            .edits
            .partition_point(|e| (e.column1.as_str(), e.column2.as_str()) < (column1, column2));
        let rest = self.edits.get(start..).unwrap_or(&[]);
        let n = rest
            .iter()
            .take_while(|e| e.column1 == column1 && e.column2 == column2)
            .count();
        rest.get(..n).unwrap_or(&[])
    }

    /// The edit of the pair in force on the date of service: effective on
    /// or before it and not deleted before it (the latest such edit).
    pub fn active_edit(&self, column1: &str, column2: &str, dos: Date) -> Option<&PtpEdit> {
        self.pair(&normalize::key(column1), &normalize::key(column2))
            .iter()
            .rev()
            .find(|e| e.effective <= dos && e.deleted.is_none_or(|d| dos <= d))
    }

    /// Every edit (of any date) with the code in column 1 or column 2.
    pub fn edits_for(&self, code: &str) -> Vec<&PtpEdit> {
        let k = normalize::key(code);
        self.edits
            .iter()
            .filter(|e| e.column1 == k || e.column2 == k)
            .collect()
    }

    /// Adds the edits of another file of the same quarter (CMS splits
    /// them over f1..f4).
    pub fn merge(&mut self, other: PtpTable) {
        if self.setting == NcciSetting::Unknown {
            self.setting = other.setting;
        }
        self.source_file = format!("{} + {}", self.source_file, other.source_file);
        self.edits.extend(other.edits);
        self.sort();
    }
}

// ---------------------------------------------------------------- MUE ----

/// "..._Eff_04-01-2026.csv" -> 2026-04-01.
fn mue_effective(name: &str) -> Option<Date> {
    let base = name.rsplit(['/', '\\', '!']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    let pos = lower.find("eff")? + 3;
    let rest = lower.get(pos..)?.trim_start_matches(['_', '-', ' ']);
    let nums: Vec<&str> = rest
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .collect();
    match nums.as_slice() {
        [m, d, y] if m.len() <= 2 && d.len() <= 2 && y.len() == 4 => Date::new(
            y.parse().ok()?,
            m.parse().ok()?,
            d.parse().ok()?,
        )
        .ok(),
        _ => None,
    }
}

fn mai_text(mai: u8) -> &'static str {
    match mai {
        1 => "Line Edit",
        2 => "Date of Service Edit: Policy",
        _ => "Date of Service Edit: Clinical",
    }
}

/// Parses an MUE table (CSV, or xlsx: sniffed by content). Lines before
/// the first code row (copyright notice, header) are skipped.
pub fn parse_mue(bytes: &[u8], file_name: &str) -> Result<MueTable> {
    let mut names = [
        "HCPCS/CPT Code".to_string(),
        "MUE Values".to_string(),
        "MUE Adjudication Indicator".to_string(),
        "MUE Rationale".to_string(),
    ];
    let mut setting = NcciSetting::from_file_name(file_name);
    let mut entries = Vec::new();
    for row in rows(bytes, file_name)? {
        let Some(code) = code_of(row.cell(0)) else {
            let lower: Vec<String> = row.cells.iter().map(|c| c.to_ascii_lowercase()).collect();
            let is_header = lower.first().is_some_and(|c| c.contains("code"))
                && lower.iter().any(|c| c.contains("mue"));
            if is_header && entries.is_empty() {
                for (n, c) in names.iter_mut().zip(&row.cells) {
                    if !c.is_empty() {
                        n.clone_from(c);
                    }
                }
                if setting == NcciSetting::Unknown {
                    let col2 = lower.get(1).map(|c| c.replace(' ', "")).unwrap_or_default();
                    setting = NcciSetting::from_file_name(&col2);
                }
            }
            continue;
        };
        let pos = |col: usize| at(file_name, row.line, col, &names[col]);
        let value = row.cell(1).parse::<u32>().map_err(|_| {
            Error::parse(
                pos(1),
                format!("not a whole number of units: {:?}", row.cell(1)),
            )
        })?;
        let mai = row.cell(2);
        let adjudication_indicator = match mai.as_bytes().first() {
            Some(b @ b'1'..=b'3') if !mai.as_bytes().get(1).is_some_and(u8::is_ascii_digit) => {
                b - b'0'
            }
            _ => {
                return Err(Error::parse(
                    pos(2),
                    format!("expected an indicator starting with 1, 2 or 3, found {mai:?}"),
                ));
            }
        };
        let words = mai
            .get(1..)
            .unwrap_or("")
            .trim_start_matches([' ', '-', ':', '='])
            .trim();
        entries.push(MueEntry {
            code,
            value,
            adjudication_indicator,
            adjudication_text: if words.is_empty() {
                mai_text(adjudication_indicator).to_string()
            } else {
                words.to_string()
            },
            rationale: row.cell(3).to_string(),
        });
    }
    if entries.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no MUE rows found (expected HCPCS/CPT Code, MUE Values, MUE Adjudication Indicator, MUE Rationale)",
        ));
    }
    // One entry per code: the last row wins.
    entries.reverse();
    entries.sort_by(|a, b| a.code.cmp(&b.code));
    entries.dedup_by(|a, b| a.code == b.code);
    Ok(MueTable {
        source_file: file_name.to_string(),
        setting,
        effective_from: mue_effective(file_name),
        entries,
    })
}

impl MueTable {
    pub fn get(&self, code: &str) -> Option<&MueEntry> {
        let k = normalize::key(code);
        self.entries
            .binary_search_by(|e| e.code.as_str().cmp(&k))
            .ok()
            .and_then(|i| self.entries.get(i))
    }
}

// ---------------------------------------------------------------- AOC ----

/// Parses the add-on code table (xlsx, or the tab-delimited text twin:
/// sniffed by content). Rows before the header row (AMA notice) are
/// skipped; columns are found by their header names.
pub fn parse_aoc(bytes: &[u8], file_name: &str) -> Result<AocTable> {
    let all = rows(bytes, file_name)?;
    let norm = |c: &str| c.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let header_at = all
        .iter()
        .position(|r| r.cells.iter().any(|c| norm(c) == "add_on_code"))
        .ok_or_else(|| {
            Error::parse(
                Position::file(file_name),
                "no header row with an Add-On_Code column",
            )
        })?;
    let Some((head, data)) = all.get(header_at..).unwrap_or(&[]).split_first() else {
        return Err(Error::parse(Position::file(file_name), "no header row"));
    };
    let names: Vec<String> = head.cells.iter().map(|c| norm(c)).collect();
    let need = |name: &str| {
        names.iter().position(|n| n == name).ok_or_else(|| {
            Error::parse(
                Position::file(file_name).line(head.line).element(name),
                "missing column",
            )
        })
    };
    let c_type = need("aoc_edit_type")?;
    let c_addon = need("add_on_code")?;
    let c_addon_del = need("aoc_deldt")?;
    let c_primary = need("primary_code")?;
    let c_primary_del = need("primary_code_deldt")?;
    let c_eff = need("aoc_edit_effdt")?;
    let c_del = need("aoc_edit_deldt")?;
    let c_notes = names.iter().position(|n| n == "special_instruction_notes");
    let mut edits = Vec::new();
    for row in data {
        if row.is_blank() {
            continue;
        }
        let pos = |c: usize| at(file_name, row.line, c, head.cell(c));
        let edit_type = row.cell(c_type).parse::<u8>().map_err(|_| {
            Error::parse(
                pos(c_type),
                format!("not an edit type (1, 2 or 3): {:?}", row.cell(c_type)),
            )
        })?;
        let code = |c: usize| {
            code_of(row.cell(c)).ok_or_else(|| {
                Error::parse(
                    pos(c),
                    format!("expected a 5-character code, found {:?}", row.cell(c)),
                )
            })
        };
        edits.push(AocEdit {
            edit_type,
            addon_code: code(c_addon)?,
            addon_deleted: date_cell(row.cell(c_addon_del), || pos(c_addon_del))?,
            primary_code: code(c_primary)?,
            primary_deleted: date_cell(row.cell(c_primary_del), || pos(c_primary_del))?,
            effective: date_cell(row.cell(c_eff), || pos(c_eff))?
                .ok_or_else(|| Error::parse(pos(c_eff), "no effective date"))?,
            deleted: date_cell(row.cell(c_del), || pos(c_del))?,
            notes: c_notes.map(|c| row.cell(c).to_string()).unwrap_or_default(),
        });
    }
    if edits.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no add-on code rows after the header",
        ));
    }
    edits.sort_by(|a, b| {
        (&a.addon_code, &a.primary_code, a.effective).cmp(&(
            &b.addon_code,
            &b.primary_code,
            b.effective,
        ))
    });
    Ok(AocTable {
        source_file: file_name.to_string(),
        edits,
    })
}

impl AocTable {
    fn for_addon(&self, addon: &str) -> &[AocEdit] {
        let k = normalize::key(addon);
        let start = self
            .edits
            .partition_point(|e| e.addon_code.as_str() < k.as_str());
        let rest = self.edits.get(start..).unwrap_or(&[]);
        let n = rest.iter().take_while(|e| e.addon_code == k).count();
        rest.get(..n).unwrap_or(&[])
    }

    /// Whether the table lists the code as an add-on code (on any date).
    pub fn is_addon(&self, code: &str) -> bool {
        !self.for_addon(code).is_empty()
    }

    /// The edits giving the add-on code's primary codes on a date of
    /// service: effective on or before it, not deleted before it.
    pub fn primaries_for(&self, addon: &str, dos: Date) -> Vec<&AocEdit> {
        self.for_addon(addon)
            .iter()
            .filter(|e| e.effective <= dos && e.deleted.is_none_or(|d| dos <= d))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    fn d(s: &str) -> Date {
        s.parse().expect("date")
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ncci")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn fixture_text(name: &str) -> String {
        String::from_utf8(fixture(name)).expect("utf-8 fixture")
    }

    const F1: &str = "ccipra-v321r0-f1.txt";
    const F2: &str = "ccipra-v321r0-f2.txt";

    fn f1() -> PtpTable {
        parse_ptp(&fixture("ptp_practitioner_f1.txt"), F1).expect("f1 parses")
    }

    fn f2() -> PtpTable {
        parse_ptp(&fixture("ptp_practitioner_f2.txt"), F2).expect("f2 parses")
    }

    fn real_aoc() -> AocTable {
        let path = std::env::var_os("MEDLEDGER_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
            .join("codesets/ncci/AOC_V2026Q2-MCR.xlsx");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (set MEDLEDGER_SHARED to the shared data directory)",
                path.display()
            )
        });
        parse_aoc(&bytes, "AOC_V2026Q2-MCR.xlsx").expect("the real AOC table parses")
    }

    #[test]
    fn ptp_header_over_several_lines_is_skipped() {
        let t = f1();
        assert_eq!(t.setting, NcciSetting::Practitioner);
        assert_eq!(t.source_file, F1);
        assert_eq!(t.edits.len(), 6);
        // Sorted by (column 1, column 2, effective).
        let keys: Vec<(&str, &str)> = t
            .edits
            .iter()
            .map(|e| (e.column1.as_str(), e.column2.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("0001A", "0591T"),
                ("29881", "20610"),
                ("29881", "20610"),
                ("29881", "29880"),
                ("29881", "29880"),
                ("99213", "G0552"),
            ]
        );
        let old = &t.edits[1];
        assert!(old.pre_1996);
        assert_eq!(old.effective, d("1996-01-01"));
        assert_eq!(old.deleted, Some(d("2015-12-31")));
        assert_eq!(old.modifier_indicator, 1);
        assert_eq!(
            old.rationale,
            "Misuse of column two code with column one code"
        );
        let new = &t.edits[2];
        assert!(!new.pre_1996);
        assert_eq!(new.deleted, None);
        assert_eq!(t.edits[3].modifier_indicator, 1);
        assert_eq!(t.edits[3].deleted, Some(d("2013-12-31")));
        assert_eq!(t.edits[4].modifier_indicator, 0);
        assert_eq!(t.edits[5].modifier_indicator, 9);
    }

    #[test]
    fn ptp_pair_lookup_by_date() {
        let t = f1();
        let dos = |s: &str| d(s);
        // The pre-1996 edit until its deletion, then its successor.
        let e = t.active_edit("29881", "20610", dos("2000-05-01")).expect("old");
        assert!(e.pre_1996);
        assert_eq!(e.modifier_indicator, 1);
        let e = t.active_edit("29881", "20610", dos("2015-12-31")).expect("last day");
        assert!(e.pre_1996);
        let e = t.active_edit("29881", "20610", dos("2016-01-01")).expect("new");
        assert_eq!(e.rationale, "Standards of medical / surgical practice");
        assert!(t.active_edit("29881", "20610", dos("1995-12-31")).is_none());
        // An edit deleted and later re-added with another indicator.
        assert_eq!(
            t.active_edit("29881", "29880", dos("2012-01-01"))
                .expect("first")
                .modifier_indicator,
            1
        );
        assert!(t.active_edit("29881", "29880", dos("2014-06-01")).is_none());
        assert_eq!(
            t.active_edit("29881", "29880", dos("2026-05-01"))
                .expect("second")
                .modifier_indicator,
            0
        );
        // Column order matters; keys are normalised.
        assert!(t.active_edit("29880", "29881", dos("2026-05-01")).is_none());
        assert!(t.active_edit("99213", "g0552", dos("2026-05-01")).is_some());
        assert!(t.active_edit("99213", "G0552", dos("2024-12-31")).is_none());
        assert!(t.active_edit("12345", "67890", dos("2026-05-01")).is_none());
        assert_eq!(t.edits_for("20610").len(), 2);
        assert_eq!(t.edits_for("29881").len(), 4);
        assert_eq!(t.edits_for("g0552").len(), 1);
        assert!(t.edits_for("11111").is_empty());
    }

    #[test]
    fn ptp_files_merge_into_one_table() {
        let mut t = f1();
        let two = f2();
        assert_eq!(two.edits.len(), 3);
        t.merge(two);
        assert_eq!(t.edits.len(), 9);
        assert_eq!(t.source_file, format!("{F1} + {F2}"));
        assert_eq!(t.setting, NcciSetting::Practitioner);
        assert!(t.edits.windows(2).all(|w| {
            (&w[0].column1, &w[0].column2, w[0].effective)
                <= (&w[1].column1, &w[1].column2, w[1].effective)
        }));
        assert!(t.active_edit("36591", "96523", d("2026-05-01")).is_some());
        assert!(t.active_edit("29881", "29880", d("2026-05-01")).is_some());
        let e = t.active_edit("64483", "64479", d("2026-05-01")).expect("f2 edit");
        assert!(e.pre_1996);
        // 99214/99213: deleted at the end of 2020.
        assert!(t.active_edit("99214", "99213", d("2020-12-31")).is_some());
        assert!(t.active_edit("99214", "99213", d("2021-01-01")).is_none());
        // Merging the same file again adds nothing.
        t.merge(f2());
        assert_eq!(t.edits.len(), 9);
    }

    #[test]
    fn ptp_csv_and_windows_1252() {
        let bytes = fixture("ptp_hospital.csv");
        assert!(std::str::from_utf8(&bytes).is_err(), "has a Windows-1252 byte");
        let t = parse_ptp(&bytes, "ccioph-v321r0-f1.csv").expect("CSV parses");
        assert_eq!(t.setting, NcciSetting::OutpatientHospital);
        assert_eq!(t.edits.len(), 3);
        let e = t.active_edit("96365", "96360", d("2026-01-01")).expect("edit");
        assert_eq!(e.modifier_indicator, 1);
        assert_eq!(
            e.rationale,
            "Misuse of column two code with column one code \u{2013} hospital"
        );
        let e = t.active_edit("0001A", "0591T", d("2026-01-01")).expect("edit");
        assert_eq!(e.modifier_indicator, 9);
        assert!(e.pre_1996);
        assert_eq!(NcciSetting::from_file_name("dir/x.zip!ccipra-v1.txt"), NcciSetting::Practitioner);
        assert_eq!(
            NcciSetting::from_file_name("MCR_MUE_DMESupplierServices_Eff_04-01-2026.csv"),
            NcciSetting::Dme
        );
        assert_eq!(NcciSetting::from_file_name("edits.txt"), NcciSetting::Unknown);
    }

    #[test]
    fn ptp_errors_name_file_line_and_column() {
        let text = fixture_text("ptp_practitioner_f1.txt");
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .expect("needle")
                + 1
        };
        // A bad effective date.
        let n = line_of("20100101");
        let bad = text.replace("20100101", "20101301");
        let err = parse_ptp(bad.as_bytes(), F1).expect_err("bad date").to_string();
        assert!(
            err.contains(&format!("{F1}:{n}"))
                && err.contains("column 4 (Effective Date)")
                && err.contains("20101301"),
            "{err}"
        );
        // A bad deletion date.
        let n = line_of("20151231");
        let bad = text.replace("20151231", "2015-31-12");
        let err = parse_ptp(bad.as_bytes(), F1).expect_err("bad date").to_string();
        assert!(
            err.contains(&format!("{F1}:{n}")) && err.contains("column 5 (Deletion Date"),
            "{err}"
        );
        // A bad modifier indicator.
        let n = line_of("CMS policy");
        let bad = text.replace("\t9\tCMS policy", "\t7\tCMS policy");
        let err = parse_ptp(bad.as_bytes(), F1)
            .expect_err("bad indicator")
            .to_string();
        assert!(
            err.contains(&format!("{F1}:{n}"))
                && err.contains("column 6 (Modifier 0=not allowed 1=allowed 9=not applicable)")
                && err.contains("\"7\""),
            "{err}"
        );
        // Column 2 must be a code when column 1 is.
        let bad = text.replace("99213\tG0552", "99213\tG05");
        let err = parse_ptp(bad.as_bytes(), F1).expect_err("bad code").to_string();
        assert!(
            err.contains(&format!("{F1}:{n}")) && err.contains("column 2 (Column 2)"),
            "{err}"
        );
        // A pre-1996 flag other than * or blank.
        let bad = text.replace("20610\t*\t", "20610\tY\t");
        let err = parse_ptp(bad.as_bytes(), F1).expect_err("bad flag").to_string();
        assert!(err.contains("column 3 (*=in existence prior to 1996)"), "{err}");
        // CSV errors carry the line too.
        let csv = "Column 1,Column 2,x,Effective Date,Deletion Date,Modifier,Rationale\n\
                   11111,22222,,20200101,*,1,r\n\
                   11111,33333,,2020,*,1,r\n";
        let err = parse_ptp(csv.as_bytes(), "ptp.csv").expect_err("bad").to_string();
        assert!(err.contains("ptp.csv:3") && err.contains("column 4"), "{err}");
        // A file without edits.
        let err = parse_ptp(b"Column 1\tColumn 2\n", F1).expect_err("empty").to_string();
        assert!(err.contains(F1) && err.contains("no PTP edit rows"), "{err}");
    }

    #[test]
    fn mue_csv_with_adjudication_indicators() {
        let t = parse_mue(
            &fixture("mue_practitioner.csv"),
            "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv",
        )
        .expect("parses");
        assert_eq!(t.setting, NcciSetting::Practitioner);
        assert_eq!(t.effective_from, Some(d("2026-04-01")));
        assert_eq!(t.entries.len(), 5);
        assert!(t.entries.windows(2).all(|w| w[0].code < w[1].code));
        let e = t.get("0001U").expect("0001U");
        assert_eq!((e.value, e.adjudication_indicator), (1, 2));
        assert_eq!(e.adjudication_text, "Date of Service Edit: Policy");
        assert_eq!(e.rationale, "CMS Policy");
        let e = t.get("20610").expect("20610");
        assert_eq!((e.value, e.adjudication_indicator), (2, 2));
        assert_eq!(e.rationale, "Anatomic Consideration, per joint");
        let e = t.get("99213").expect("99213");
        assert_eq!((e.value, e.adjudication_indicator), (1, 3));
        assert_eq!(e.adjudication_text, "Date of Service Edit: Clinical");
        let e = t.get("a4206").expect("A4206");
        assert_eq!((e.value, e.adjudication_indicator), (100, 1));
        assert_eq!(e.adjudication_text, "Line Edit");
        // A bare indicator gets CMS's words.
        let e = t.get("G0552").expect("G0552");
        assert_eq!(e.adjudication_indicator, 1);
        assert_eq!(e.adjudication_text, "Line Edit");
        assert!(t.get("99999").is_none());
    }

    #[test]
    fn mue_setting_from_the_header_and_errors() {
        let text = fixture_text("mue_dme.csv");
        let t = parse_mue(text.as_bytes(), "mue_table.csv").expect("parses");
        assert_eq!(t.setting, NcciSetting::Dme);
        assert_eq!(t.effective_from, None);
        assert_eq!(t.get("E0100").expect("E0100").value, 1);
        assert_eq!(t.get("A4253").expect("A4253").value, 2);

        let n = text.lines().position(|l| l.starts_with("A4253")).expect("row") + 1;
        let bad = text.replace("A4253,2,", "A4253,two,");
        let err = parse_mue(bad.as_bytes(), "mue.csv").expect_err("bad value").to_string();
        assert!(
            err.contains(&format!("mue.csv:{n}"))
                && err.contains("column 2 (DME Supplier Services MUE Values)"),
            "{err}"
        );
        let bad = text.replace("A4253,2,1", "A4253,2,4");
        let err = parse_mue(bad.as_bytes(), "mue.csv").expect_err("bad MAI").to_string();
        assert!(
            err.contains(&format!("mue.csv:{n}"))
                && err.contains("column 3 (MUE Adjudication Indicator)"),
            "{err}"
        );
        let err = parse_mue(b"nothing here\n", "mue.csv").expect_err("empty").to_string();
        assert!(err.contains("no MUE rows"), "{err}");
        assert_eq!(
            mue_effective("MCR_MUE_OutpatientHospitalServices_Eff_10-01-2025.xlsx"),
            Some(d("2025-10-01"))
        );
        assert_eq!(mue_effective("mue.csv"), None);
    }

    /// A minimal xlsx workbook with one sheet of inline strings and numbers.
    fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
        let mut sheet = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (i, row) in rows.iter().enumerate() {
            sheet.push_str(&format!(r#"<row r="{}">"#, i + 1));
            for (j, v) in row.iter().enumerate() {
                let col = char::from(b'A' + j as u8);
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    sheet.push_str(&format!(r#"<c r="{col}{}"><v>{v}</v></c>"#, i + 1));
                } else {
                    sheet.push_str(&format!(
                        r#"<c r="{col}{}" t="inlineStr"><is><t>{v}</t></is></c>"#,
                        i + 1
                    ));
                }
            }
            sheet.push_str("</row>");
        }
        sheet.push_str("</sheetData></worksheet>");
        let files = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="MUE" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
            ),
            ("xl/worksheets/sheet1.xml", sheet),
        ];
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in files {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("start");
            w.write_all(body.as_bytes()).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn mue_xlsx_is_sniffed() {
        let bytes = xlsx(&[
            &["CPT codes, descriptions and other data only are copyright 2025 American Medical Association."],
            &[
                "HCPCS/CPT Code",
                "Outpatient Hospital Services MUE Values",
                "MUE Adjudication Indicator",
                "MUE Rationale",
            ],
            &["0001U", "1", "2 Date of Service Edit: Policy", "CMS Policy"],
            &["96365", "1", "3 Date of Service Edit: Clinical", "Code Descriptor / CPT Instruction"],
            &["J0129", "100", "1 Line Edit", "Prescribing Information"],
            &["J0130", "x", "1 Line Edit", "Prescribing Information"],
        ]);
        // The last row is bad: its error names the spreadsheet row.
        let err = parse_mue(&bytes, "MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026.xlsx")
            .expect_err("bad row")
            .to_string();
        assert!(
            err.contains("Eff_04-01-2026.xlsx:6")
                && err.contains("column 2 (Outpatient Hospital Services MUE Values)"),
            "{err}"
        );
        let bytes = xlsx(&[
            &["HCPCS/CPT Code", "Outpatient Hospital Services MUE Values", "MUE Adjudication Indicator", "MUE Rationale"],
            &["0001U", "1", "2 Date of Service Edit: Policy", "CMS Policy"],
            &["J0129", "100", "1 Line Edit", "Prescribing Information"],
        ]);
        let t = parse_mue(&bytes, "MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026.xlsx")
            .expect("xlsx parses");
        assert_eq!(t.setting, NcciSetting::OutpatientHospital);
        assert_eq!(t.get("J0129").expect("J0129").value, 100);
        assert_eq!(t.get("0001U").expect("0001U").adjudication_indicator, 2);
        let err = parse_mue(b"PK\x03\x04 not really a zip", "m.xlsx")
            .expect_err("bad xlsx")
            .to_string();
        assert!(err.contains("m.xlsx") && err.contains("xlsx"), "{err}");
    }

    #[test]
    fn aoc_real_table() {
        let t = real_aoc();
        assert_eq!(t.edits.len(), 9_000);
        assert!(t.edits.windows(2).all(|w| {
            (&w[0].addon_code, &w[0].primary_code, w[0].effective)
                <= (&w[1].addon_code, &w[1].primary_code, w[1].effective)
        }));
        // Row 3: contractor-defined primary codes.
        let e = t
            .edits
            .iter()
            .find(|e| e.addon_code == "0054T")
            .expect("0054T");
        assert_eq!(e.edit_type, 2);
        assert_eq!(e.primary_code, "CCCCC");
        assert_eq!(e.effective, d("2013-04-01"));
        assert_eq!(e.deleted, None);
        assert_eq!(e.addon_deleted, None);
        assert_eq!(e.notes, "Contractor Defined Primary Codes");
        // 22552 with primary 22551, effective 2013 day 91.
        let p = t.primaries_for("22552", d("2026-04-01"));
        let e = p.iter().find(|e| e.primary_code == "22551").expect("22551");
        assert_eq!(e.edit_type, 1);
        assert_eq!(e.effective, d("2013-04-01"));
        assert_eq!(e.deleted, None);
        // 0767T/0766T: an edit deleted at the end of 2023 (2023365), replaced
        // in 2024 (2024001).
        let on = |dos: &str| -> Vec<(Date, Option<Date>)> {
            t.primaries_for("0767T", d(dos))
                .iter()
                .filter(|e| e.primary_code == "0766T")
                .map(|e| (e.effective, e.deleted))
                .collect()
        };
        assert_eq!(on("2023-06-01"), vec![(d("2023-01-01"), Some(d("2023-12-31")))]);
        assert_eq!(on("2026-01-01"), vec![(d("2024-01-01"), None)]);
        assert!(t.is_addon("99292"));
        assert!(t.primaries_for("99292", d("2026-01-01")).iter().any(|e| e.primary_code == "99291"));
        assert!(t.edits.iter().all(|e| (1..=3).contains(&e.edit_type)));
        // Leap-year day 366 is read ("2016366" = 2016-12-31).
        assert!(t.edits.iter().any(|e| e.deleted == Some(d("2016-12-31"))));
    }

    #[test]
    fn aoc_text_twin() {
        let t = parse_aoc(&fixture("aoc_mini.txt"), "AOC_V2026Q2-MCR.txt").expect("parses");
        assert_eq!(t.edits.len(), 5);
        assert!(t.is_addon("22552"));
        assert!(t.is_addon("0054t"));
        assert!(!t.is_addon("22551"));
        let e = &t.edits[0];
        assert_eq!(
            (e.addon_code.as_str(), e.primary_code.as_str(), e.edit_type),
            ("0054T", "CCCCC", 2)
        );
        assert_eq!(e.notes, "Contractor Defined Primary Codes");
        let now: Vec<&str> = t
            .primaries_for("22552", d("2026-04-01"))
            .iter()
            .map(|e| e.primary_code.as_str())
            .collect();
        assert_eq!(now, vec!["22551"]);
        let then: Vec<&str> = t
            .primaries_for("22552", d("2015-01-01"))
            .iter()
            .map(|e| e.primary_code.as_str())
            .collect();
        assert_eq!(then, vec!["22551", "22554"]);
        let gone = t
            .edits
            .iter()
            .find(|e| e.primary_code == "22554")
            .expect("22554");
        assert_eq!(gone.deleted, Some(d("2019-12-31")));
        assert_eq!(gone.primary_deleted, Some(d("2019-12-31")));
        // Day 366 of a leap year, and the addon deletion column.
        let leap = t
            .edits
            .iter()
            .find(|e| e.addon_code == "0076T")
            .expect("0076T");
        assert_eq!(leap.addon_deleted, Some(d("2016-12-31")));
        assert!(t.primaries_for("0076T", d("2017-01-01")).is_empty());
        assert_eq!(t.primaries_for("0076T", d("2016-12-31")).len(), 1);
        assert!(t.primaries_for("99999", d("2026-01-01")).is_empty());
    }

    #[test]
    fn aoc_errors_name_file_line_and_column() {
        let text = fixture_text("aoc_mini.txt");
        let n = text.lines().position(|l| l.contains("22554")).expect("row") + 1;
        let bad = text.replace("2013001", "2013400");
        let err = parse_aoc(bad.as_bytes(), "aoc.txt").expect_err("bad").to_string();
        assert!(
            err.contains(&format!("aoc.txt:{n}"))
                && err.contains("column 6 (AOC_Edit_EffDT)")
                && err.contains("2013400"),
            "{err}"
        );
        let bad = text.replace("2019365", "2019366");
        let err = parse_aoc(bad.as_bytes(), "aoc.txt").expect_err("bad").to_string();
        assert!(
            err.contains(&format!("aoc.txt:{n}")) && err.contains("column 5 (Primary_Code_DelDT)"),
            "{err}"
        );
        let bad = text.replacen("\n1\t22552", "\nx\t22552", 1);
        let err = parse_aoc(bad.as_bytes(), "aoc.txt").expect_err("bad").to_string();
        assert!(err.contains("column 1 (AOC_Edit_Type)"), "{err}");
        let bad = text.replace("AOC_DelDT\t", "Deleted\t");
        let err = parse_aoc(bad.as_bytes(), "aoc.txt").expect_err("bad").to_string();
        assert!(err.contains("aoc_deldt") && err.contains("missing column"), "{err}");
        let err = parse_aoc(b"no header\n", "aoc.txt").expect_err("bad").to_string();
        assert!(err.contains("Add-On_Code"), "{err}");
    }

    #[test]
    fn date_cells() {
        let p = || Position::file("f");
        let ok = |s: &str| date_cell(s, p).expect("date");
        assert_eq!(ok("2013091"), Some(d("2013-04-01")));
        assert_eq!(ok("2016366"), Some(d("2016-12-31")));
        assert_eq!(ok("20260401"), Some(d("2026-04-01")));
        assert_eq!(ok("2026-04-01"), Some(d("2026-04-01")));
        assert_eq!(ok("4/1/2026"), Some(d("2026-04-01")));
        assert_eq!(ok("*"), None);
        assert_eq!(ok(" "), None);
        for bad in ["2015366", "2013000", "20261301", "2026", "tomorrow", "13/1/2026", "2026-4-1"] {
            assert!(date_cell(bad, p).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_ptp(&bytes, "f.txt");
            let _ = parse_mue(&bytes, "f.csv");
            let _ = parse_aoc(&bytes, "f.txt");
            let mut pk = b"PK\x03\x04".to_vec();
            pk.extend_from_slice(&bytes);
            let _ = parse_mue(&pk, "f.xlsx");
            let _ = parse_aoc(&pk, "f.xlsx");
        }

        #[test]
        fn mutated_fixtures_never_panic(
            which in 0usize..5,
            at in 0usize..2000,
            byte in proptest::prelude::any::<u8>(),
        ) {
            let name = ["ptp_practitioner_f1.txt", "ptp_practitioner_f2.txt", "ptp_hospital.csv", "mue_practitioner.csv", "aoc_mini.txt"][which];
            let mut bytes = fixture(name);
            let len = bytes.len();
            if let Some(b) = bytes.get_mut(at % len.max(1)) {
                *b = byte;
            }
            let _ = parse_ptp(&bytes, name);
            let _ = parse_mue(&bytes, name);
            let _ = parse_aoc(&bytes, name);
        }
    }
}
