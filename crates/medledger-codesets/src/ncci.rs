//! CMS National Correct Coding Initiative tables: procedure-to-procedure
//! (PTP) edits, medically unlikely edits (MUE) and add-on code (AOC) edits,
//! read in the layouts CMS publishes (tab-delimited text, CSV or xlsx).

use std::io::Cursor;

use calamine::{Data, Reader};
use serde::{Deserialize, Serialize};

use crate::Date;
use crate::error::{Error, Position, Result};
use crate::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NcciSetting {
    Practitioner,
    OutpatientHospital,
    Dme,
    Unknown,
}

impl NcciSetting {
    fn from_name(name: &str) -> NcciSetting {
        let l = name
            .rsplit(['/', '\\', '!'])
            .next()
            .unwrap_or(name)
            .to_ascii_lowercase();
        if l.starts_with("ccipra") || l.contains("practitioner") {
            NcciSetting::Practitioner
        } else if l.starts_with("ccioph")
            || l.contains("outpatienthospital")
            || l.contains("outpatient")
        {
            NcciSetting::OutpatientHospital
        } else if l.contains("dme") {
            NcciSetting::Dme
        } else {
            NcciSetting::Unknown
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtpEdit {
    pub column1: String,
    pub column2: String,
    /// "*" in CMS's column: the edit existed before 1996.
    pub pre_1996: bool,
    pub effective: Date,
    pub deleted: Option<Date>,
    /// 0 = never together, 1 = allowed with an NCCI-associated modifier, 9 = not applicable.
    pub modifier_indicator: u8,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtpTable {
    pub source_file: String,
    pub setting: NcciSetting,
    /// Sorted by (column1, column2, effective).
    pub edits: Vec<PtpEdit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MueEntry {
    pub code: String,
    pub value: u32,
    /// 1 line edit, 2 date of service (policy), 3 date of service (clinical).
    pub adjudication_indicator: u8,
    pub adjudication_text: String,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MueTable {
    pub source_file: String,
    pub setting: NcciSetting,
    pub effective_from: Option<Date>,
    /// Sorted by code.
    pub entries: Vec<MueEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AocEdit {
    pub edit_type: u8,
    pub addon_code: String,
    pub addon_deleted: Option<Date>,
    pub primary_code: String,
    pub primary_deleted: Option<Date>,
    pub effective: Date,
    pub deleted: Option<Date>,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AocTable {
    pub source_file: String,
    /// Sorted by (add-on code, primary code).
    pub edits: Vec<AocEdit>,
}

/// Rows of a table file: xlsx (first sheet) or delimited text, as cells.
fn rows(bytes: &[u8], file: &str) -> Result<Vec<Vec<String>>> {
    if bytes.starts_with(b"PK") {
        let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
            Error::parse(
                Position::file(file),
                format!("not a readable spreadsheet: {e}"),
            )
        })?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| Error::parse(Position::file(file), "spreadsheet has no sheet"))?
            .map_err(|e| Error::parse(Position::file(file), format!("unreadable sheet: {e}")))?;
        return Ok(range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        Data::Int(i) => i.to_string(),
                        Data::Empty => String::new(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect());
    }
    let text = String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|_| bytes.iter().map(|&b| b as char).collect());
    let tabbed = text.lines().take(20).any(|l| l.contains('\t'));
    if tabbed {
        return Ok(text
            .lines()
            .map(|l| {
                l.trim_end_matches('\r')
                    .split('\t')
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::parse(
                Position::file(file).line(line),
                format!("malformed CSV: {e}"),
            )
        })?;
        out.push(rec.iter().map(|c| c.trim().to_string()).collect());
    }
    Ok(out)
}

fn is_code(s: &str) -> bool {
    let k = normalize::key(s);
    k.len() == 5 && k.chars().all(|c| c.is_ascii_alphanumeric())
}

/// YYYYMMDD, or CMS's YYYYDDD (year and day of year); "*" or blank = none.
fn date_cell(s: &str, at: impl Fn() -> Position) -> Result<Option<Date>> {
    let s = s.trim();
    if s.is_empty() || s == "*" {
        return Ok(None);
    }
    let bad = || Error::parse(at(), format!("not a date: {s:?}"));
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    match s.len() {
        8 => {
            let (y, m, d) = (
                s[0..4].parse::<i16>().map_err(|_| bad())?,
                s[4..6].parse::<i8>().map_err(|_| bad())?,
                s[6..8].parse::<i8>().map_err(|_| bad())?,
            );
            Date::new(y, m, d).map(Some).map_err(|_| bad())
        }
        7 => {
            let (y, doy) = (
                s[0..4].parse::<i16>().map_err(|_| bad())?,
                s[4..7].parse::<i16>().map_err(|_| bad())?,
            );
            let jan1 = Date::new(y, 1, 1).map_err(|_| bad())?;
            if !(1..=366).contains(&doy) {
                return Err(bad());
            }
            jan1.checked_add(jiff::Span::new().days(i64::from(doy - 1)))
                .map(Some)
                .map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn cell(r: &[String], i: usize) -> &str {
    r.get(i).map(String::as_str).unwrap_or("")
}

pub fn parse_ptp(bytes: &[u8], file_name: &str) -> Result<PtpTable> {
    let mut edits = Vec::new();
    for (i, r) in rows(bytes, file_name)?.iter().enumerate() {
        if !(is_code(cell(r, 0)) && is_code(cell(r, 1))) {
            continue; // copyright and header lines
        }
        let line = i as u64 + 1;
        let at = |col: &str| {
            Position::file(file_name)
                .line(line)
                .element(col.to_string())
        };
        let effective = date_cell(cell(r, 3), || at("Effective Date"))?
            .ok_or_else(|| Error::parse(at("Effective Date"), "missing"))?;
        let modifier_indicator = match cell(r, 5) {
            "0" => 0,
            "1" => 1,
            "9" => 9,
            other => {
                return Err(Error::parse(
                    at("Modifier 0=not allowed 1=allowed 9=not applicable"),
                    format!("expected 0, 1 or 9, found {other:?}"),
                ));
            }
        };
        edits.push(PtpEdit {
            column1: normalize::key(cell(r, 0)),
            column2: normalize::key(cell(r, 1)),
            pre_1996: cell(r, 2) == "*",
            effective,
            deleted: date_cell(cell(r, 4), || at("Deletion Date"))?,
            modifier_indicator,
            rationale: cell(r, 6).to_string(),
        });
    }
    if edits.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no PTP edit rows (Column 1, Column 2, ...) found",
        ));
    }
    let mut t = PtpTable {
        source_file: file_name.to_string(),
        setting: NcciSetting::from_name(file_name),
        edits,
    };
    t.sort();
    Ok(t)
}

impl PtpTable {
    fn sort(&mut self) {
        self.edits.sort_by(|a, b| {
            (&a.column1, &a.column2, a.effective).cmp(&(&b.column1, &b.column2, b.effective))
        });
    }

    fn pair(&self, column1: &str, column2: &str) -> &[PtpEdit] {
        let start = self
            .edits
            .partition_point(|e| (e.column1.as_str(), e.column2.as_str()) < (column1, column2));
        let n = self.edits[start..]
            .iter()
            .take_while(|e| e.column1 == column1 && e.column2 == column2)
            .count();
        &self.edits[start..start + n]
    }

    /// The edit in force on a date: effective on or before it and not
    /// deleted before it.
    pub fn active_edit(&self, column1: &str, column2: &str, dos: Date) -> Option<&PtpEdit> {
        self.pair(&normalize::key(column1), &normalize::key(column2))
            .iter()
            .rev()
            .find(|e| e.effective <= dos && e.deleted.is_none_or(|d| dos <= d))
    }

    pub fn edits_for(&self, code: &str) -> Vec<&PtpEdit> {
        let k = normalize::key(code);
        self.edits
            .iter()
            .filter(|e| e.column1 == k || e.column2 == k)
            .collect()
    }

    /// CMS splits a quarter's PTP edits over several files (f1..f4).
    pub fn merge(&mut self, other: PtpTable) {
        self.edits.extend(other.edits);
        self.source_file = format!("{} + {}", self.source_file, other.source_file);
        self.sort();
    }
}

fn mue_effective(name: &str) -> Option<Date> {
    let l = name.to_ascii_lowercase();
    let pos = l.find("eff_")? + 4;
    let s = l.get(pos..pos + 10)?;
    let (m, d, y) = (
        s.get(0..2)?.parse().ok()?,
        s.get(3..5)?.parse().ok()?,
        s.get(6..10)?.parse().ok()?,
    );
    Date::new(y, m, d).ok()
}

pub fn parse_mue(bytes: &[u8], file_name: &str) -> Result<MueTable> {
    let mut entries = Vec::new();
    for (i, r) in rows(bytes, file_name)?.iter().enumerate() {
        if !is_code(cell(r, 0)) {
            continue;
        }
        let line = i as u64 + 1;
        let at = |col: &str| {
            Position::file(file_name)
                .line(line)
                .element(col.to_string())
        };
        let value = cell(r, 1).parse::<u32>().map_err(|_| {
            Error::parse(at("MUE Values"), format!("not a number: {:?}", cell(r, 1)))
        })?;
        let mai_text = cell(r, 2).to_string();
        let adjudication_indicator = match mai_text.chars().next() {
            Some(c @ '1'..='3') => c as u8 - b'0',
            _ => {
                return Err(Error::parse(
                    at("MUE Adjudication Indicator"),
                    format!("expected 1, 2 or 3, found {mai_text:?}"),
                ));
            }
        };
        entries.push(MueEntry {
            code: normalize::key(cell(r, 0)),
            value,
            adjudication_indicator,
            adjudication_text: mai_text,
            rationale: cell(r, 3).to_string(),
        });
    }
    if entries.is_empty() {
        return Err(Error::parse(Position::file(file_name), "no MUE rows found"));
    }
    entries.sort_by(|a, b| a.code.cmp(&b.code));
    entries.dedup_by(|a, b| a.code == b.code);
    Ok(MueTable {
        source_file: file_name.to_string(),
        setting: NcciSetting::from_name(file_name),
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
            .map(|i| &self.entries[i])
    }
}

pub fn parse_aoc(bytes: &[u8], file_name: &str) -> Result<AocTable> {
    let all = rows(bytes, file_name)?;
    let header = all
        .iter()
        .position(|r| {
            r.iter().any(|c| {
                c.eq_ignore_ascii_case("Add-On_Code") || c.eq_ignore_ascii_case("Add-On Code")
            })
        })
        .ok_or_else(|| Error::parse(Position::file(file_name), "no header row with Add-On_Code"))?;
    let names: Vec<String> = all[header]
        .iter()
        .map(|c| c.to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    let col = |name: &str| names.iter().position(|n| n == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            Error::parse(
                Position::file(file_name)
                    .line(header as u64 + 1)
                    .element(name.to_string()),
                "missing column",
            )
        })
    };
    let (c_type, c_addon, c_addon_del, c_primary, c_primary_del, c_eff, c_del) = (
        need("aoc_edit_type")?,
        need("add_on_code")?,
        need("aoc_deldt")?,
        need("primary_code")?,
        need("primary_code_deldt")?,
        need("aoc_edit_effdt")?,
        need("aoc_edit_deldt")?,
    );
    let c_notes = col("special_instruction_notes");
    let mut edits = Vec::new();
    for (i, r) in all.iter().enumerate().skip(header + 1) {
        if r.iter().all(|c| c.is_empty()) {
            continue;
        }
        let line = i as u64 + 1;
        let at = |c: usize| {
            Position::file(file_name)
                .line(line)
                .element(all[header].get(c).cloned().unwrap_or_default())
        };
        let edit_type = cell(r, c_type).trim().parse::<u8>().map_err(|_| {
            Error::parse(
                at(c_type),
                format!("not an edit type: {:?}", cell(r, c_type)),
            )
        })?;
        edits.push(AocEdit {
            edit_type,
            addon_code: normalize::key(cell(r, c_addon)),
            addon_deleted: date_cell(cell(r, c_addon_del), || at(c_addon_del))?,
            primary_code: normalize::key(cell(r, c_primary)),
            primary_deleted: date_cell(cell(r, c_primary_del), || at(c_primary_del))?,
            effective: date_cell(cell(r, c_eff), || at(c_eff))?
                .ok_or_else(|| Error::parse(at(c_eff), "missing effective date"))?,
            deleted: date_cell(cell(r, c_del), || at(c_del))?,
            notes: c_notes.map(|c| cell(r, c).to_string()).unwrap_or_default(),
        });
    }
    if edits.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no add-on code rows",
        ));
    }
    edits.sort_by(|a, b| (&a.addon_code, &a.primary_code).cmp(&(&b.addon_code, &b.primary_code)));
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
        let n = self.edits[start..]
            .iter()
            .take_while(|e| e.addon_code == k)
            .count();
        &self.edits[start..start + n]
    }

    pub fn is_addon(&self, code: &str) -> bool {
        !self.for_addon(code).is_empty()
    }

    /// Primary codes the add-on code may be reported with on a date.
    pub fn primaries_for(&self, addon: &str, dos: Date) -> Vec<&AocEdit> {
        self.for_addon(addon)
            .iter()
            .filter(|e| e.effective <= dos && e.deleted.is_none_or(|d| dos <= d))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().expect("date")
    }

    const PTP: &str = "CPT codes, descriptions and other data only are copyright 2025 American Medical Association. All rights reserved.\n\
Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\n\
\t\tprior to 1996\tDate\tDate\t0=not allowed\n\
\t\t\t\t*=no data\t1=allowed\n\
29881\t29880\t\t20100101\t*\t0\tMutually exclusive procedures\n\
29881\t20610\t*\t19960101\t20151231\t1\tMisuse of column two code with column one code\n\
29881\t20610\t\t20160101\t*\t1\tStandards of medical / surgical practice\n\
99213\tG0552\t\t20250101\t*\t9\tCMS policy\n";

    #[test]
    fn ptp_pairs_by_date_and_merge() {
        let mut t = parse_ptp(PTP.as_bytes(), "ccipra-v321r0-f1.txt").expect("parses");
        assert_eq!(t.setting, NcciSetting::Practitioner);
        assert_eq!(t.edits.len(), 4);
        assert!(
            t.active_edit("29881", "20610", d("2000-05-01"))
                .expect("old")
                .pre_1996
        );
        assert_eq!(
            t.active_edit("29881", "20610", d("2026-05-01"))
                .expect("new")
                .rationale,
            "Standards of medical / surgical practice"
        );
        assert_eq!(
            t.active_edit("29881", "29880", d("2026-05-01"))
                .expect("edit")
                .modifier_indicator,
            0
        );
        assert!(t.active_edit("29881", "29880", d("2009-05-01")).is_none());
        assert!(t.active_edit("29880", "29881", d("2026-05-01")).is_none());
        let f2 = parse_ptp(
            b"0001A\t0591T\t\t20210101\t*\t1\tMisuse\n",
            "ccipra-v321r0-f2.txt",
        )
        .expect("parses");
        t.merge(f2);
        assert_eq!(t.edits.len(), 5);
        assert_eq!(t.edits[0].column1, "0001A");
        assert_eq!(t.edits_for("20610").len(), 2);
    }

    #[test]
    fn ptp_errors_name_line_and_column() {
        let bad = PTP.replace("20160101\t*\t1", "20160101\t*\t7");
        let err = parse_ptp(bad.as_bytes(), "ccipra.txt")
            .expect_err("bad indicator")
            .to_string();
        assert!(
            err.contains("ccipra.txt:7") && err.contains("Modifier"),
            "{err}"
        );
        let bad = PTP.replace("20100101", "20101301");
        let err = parse_ptp(bad.as_bytes(), "ccipra.txt")
            .expect_err("bad date")
            .to_string();
        assert!(
            err.contains("ccipra.txt:5") && err.contains("Effective Date"),
            "{err}"
        );
    }

    #[test]
    fn mue_csv() {
        let csv = "\"CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\"\n\
HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n\
20610,2,2 Date of Service Edit: Policy,Anatomic Consideration\n\
99213,1,3 Date of Service Edit: Clinical,Nature of Service/Procedure\n\
G0552,1,1 Line Edit,CMS Policy\n";
        let t = parse_mue(
            csv.as_bytes(),
            "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv",
        )
        .expect("parses");
        assert_eq!(t.effective_from, Some(d("2026-04-01")));
        assert_eq!(t.setting, NcciSetting::Practitioner);
        let e = t.get("20610").expect("20610");
        assert_eq!((e.value, e.adjudication_indicator), (2, 2));
        assert_eq!(t.get("G0552").expect("G0552").adjudication_indicator, 1);
        let err = parse_mue(csv.replace("20610,2,", "20610,two,").as_bytes(), "mue.csv")
            .expect_err("bad value")
            .to_string();
        assert!(err.contains("mue.csv:3"), "{err}");
    }

    #[test]
    fn aoc_text_with_julian_dates() {
        let txt = "AOC_Edit_Type\tAdd-On_Code\tAOC_DelDT\tPrimary_Code\tPrimary_Code_DelDT\tAOC_Edit_EffDT\tAOC_Edit_DelDT\tSpecial_Instruction_Notes\n\
1\t22552\t*\t22551\t*\t2013091\t*\t\n\
1\t22552\t*\t22554\t*\t2013001\t2020001\t\n";
        let t = parse_aoc(txt.as_bytes(), "AOC_V2026Q2-MCR.txt").expect("parses");
        assert_eq!(t.edits[0].effective, d("2013-04-01"));
        assert!(t.is_addon("22552"));
        assert_eq!(t.primaries_for("22552", d("2026-01-01")).len(), 1);
        assert_eq!(t.primaries_for("22552", d("2015-01-01")).len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_ptp(&bytes, "f.txt");
            let _ = parse_mue(&bytes, "f.csv");
            let _ = parse_aoc(&bytes, "f.txt");
        }
    }
}
