//! WHO ICD-11 MMS: the simple tabulation (`SimpleTabulation-ICD-11-MMS-en.txt`,
//! in WHO's zip) and the WHO ICD-10 <-> ICD-11 mapping tables. Both are read
//! as WHO publishes them (CC BY-ND 3.0 IGO); nothing is rewritten.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::normalize;

/// Credit WHO asks for wherever ICD-11 content is shown (CC BY-ND 3.0 IGO).
pub fn attribution(version: &str) -> String {
    format!(
        "ICD-11 MMS {version} and the ICD-10/ICD-11 mapping tables, © World Health Organization, CC BY-ND 3.0 IGO; read unmodified from WHO's release files"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Icd11ClassKind {
    Chapter,
    Block,
    Category,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Icd11Entity {
    /// Code as WHO writes it ("1A07.Z"); blocks and chapters have none.
    pub code: Option<String>,
    pub block_id: Option<String>,
    /// Title without the "- " depth markers.
    pub title: String,
    pub class_kind: Icd11ClassKind,
    pub depth_in_kind: u8,
    pub is_residual: bool,
    pub chapter: String,
    pub is_leaf: bool,
    pub foundation_uri: String,
    pub linearization_uri: String,
    pub parent: Option<u32>,
    pub groupings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Icd11Release {
    /// "2024-01", from the header's "Version:2024 Jan 21".
    pub version: String,
    pub source_file: String,
    /// File order (a pre-order walk of the classification).
    pub entities: Vec<Icd11Entity>,
    /// (code key, entity), sorted.
    pub by_code: Vec<(String, u32)>,
    /// (foundation URI, entity), sorted.
    pub by_foundation: Vec<(String, u32)>,
}

fn month_number(name: &str) -> Option<u8> {
    const M: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let l = name.to_ascii_lowercase();
    M.iter().position(|m| l.starts_with(m)).map(|i| i as u8 + 1)
}

/// "Version:2024 Jan 21 - 22:30 UTC" or "2024-Jan-21" -> "2024-01".
fn version_of(header_cell: &str) -> Option<String> {
    let text = header_cell.trim().trim_start_matches("Version:");
    let parts: Vec<&str> = text
        .split([' ', '-', ':'])
        .filter(|p| !p.is_empty())
        .collect();
    let year = parts
        .iter()
        .find(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_digit()))?;
    let month = parts.iter().find_map(|p| month_number(p))?;
    Some(format!("{year}-{month:02}"))
}

fn text_of<'a>(bytes: &'a [u8], file: &str) -> Result<std::borrow::Cow<'a, str>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(std::borrow::Cow::Borrowed(s)),
        Err(e) => Err(Error::parse(
            Position::file(file)
                .line(crate::error::line_of(bytes, e.valid_up_to()))
                .byte(e.valid_up_to() as u64),
            "file is not valid UTF-8",
        )),
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    s.replace("\"\"", "\"")
}

fn flag(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("true")
}

/// Parses the simple tabulation from WHO's zip.
pub fn parse_simple_tabulation_zip(bytes: &[u8], file_name: &str) -> Result<Icd11Release> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::parse(
            Position::file(file_name),
            format!("not a readable zip archive: {e}"),
        )
    })?;
    let member = archive
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| {
            let l = n.to_ascii_lowercase();
            l.contains("simpletabulation") && l.ends_with(".txt")
        })
        .map(|n| n.into_owned())
        .ok_or_else(|| {
            Error::parse(
                Position::file(file_name),
                "no SimpleTabulation*.txt member in the zip",
            )
        })?;
    let name = format!("{file_name}!{member}");
    let mut data = Vec::new();
    archive
        .by_name(&member)
        .map_err(|e| Error::parse(Position::file(&name), e.to_string()))?
        .read_to_end(&mut data)
        .map_err(|e| Error::parse(Position::file(&name), format!("damaged zip member: {e}")))?;
    parse_simple_tabulation(&data, &name)
}

/// Parses `SimpleTabulation-ICD-11-MMS-en.txt` (tab-separated, UTF-8).
pub fn parse_simple_tabulation(bytes: &[u8], file_name: &str) -> Result<Icd11Release> {
    let text = text_of(bytes, file_name)?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| Error::parse(Position::file(file_name), "empty file"))?;
    let cols: Vec<&str> = header.split('\t').collect();
    let find = |name: &str| {
        cols.iter()
            .position(|c| c.trim().eq_ignore_ascii_case(name))
    };
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            Error::parse(
                Position::file(file_name)
                    .line(1)
                    .element(format!("column {name}")),
                "missing column in header",
            )
        })
    };
    let (c_found, c_lin, c_code, c_block, c_title, c_kind, c_depth, c_resid, c_chap, c_leaf) = (
        need("Foundation URI")?,
        need("Linearization URI")?,
        need("Code")?,
        need("BlockId")?,
        need("Title")?,
        need("ClassKind")?,
        need("DepthInKind")?,
        need("IsResidual")?,
        need("ChapterNo")?,
        need("isLeaf")?,
    );
    let groupings: Vec<usize> = (1..=5)
        .filter_map(|i| find(&format!("Grouping{i}")))
        .collect();
    let version = cols
        .iter()
        .find_map(|c| {
            c.trim()
                .starts_with("Version:")
                .then(|| version_of(c))
                .flatten()
        })
        .unwrap_or_default();
    let mut entities: Vec<Icd11Entity> = Vec::new();
    // Open ancestors by absolute depth (number of "- " markers).
    let mut open: Vec<u32> = Vec::new();
    let widest = [
        c_found, c_lin, c_code, c_block, c_title, c_kind, c_depth, c_resid, c_chap, c_leaf,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i as u64 + 1;
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() <= widest {
            return Err(Error::parse(
                Position::file(file_name).line(line_no).element(format!(
                    "column {}",
                    cols.get(f.len()).map(|c| c.trim()).unwrap_or("?")
                )),
                format!(
                    "row has {} columns, expected at least {}",
                    f.len(),
                    widest + 1
                ),
            ));
        }
        let raw_title = unquote(f[c_title]);
        let mut depth = 0usize;
        let mut title = raw_title.as_str();
        while let Some(rest) = title.strip_prefix("- ") {
            depth += 1;
            title = rest;
        }
        let class_kind = match f[c_kind].trim() {
            "chapter" => Icd11ClassKind::Chapter,
            "block" => Icd11ClassKind::Block,
            "category" => Icd11ClassKind::Category,
            other => {
                return Err(Error::parse(
                    Position::file(file_name)
                        .line(line_no)
                        .element("column ClassKind"),
                    format!("unknown class kind {other:?}"),
                ));
            }
        };
        if class_kind == Icd11ClassKind::Chapter {
            depth = 0;
        }
        open.truncate(depth);
        let parent = if depth == 0 {
            None
        } else {
            open.last().copied()
        };
        let depth_in_kind = f[c_depth].trim().parse::<u8>().map_err(|_| {
            Error::parse(
                Position::file(file_name)
                    .line(line_no)
                    .element("column DepthInKind"),
                format!("not a number: {:?}", f[c_depth]),
            )
        })?;
        let code = Some(f[c_code].trim())
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let idx = entities.len() as u32;
        entities.push(Icd11Entity {
            code,
            block_id: Some(f[c_block].trim())
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            title: title.trim().to_string(),
            class_kind,
            depth_in_kind,
            is_residual: flag(f[c_resid]),
            chapter: f[c_chap].trim().to_string(),
            is_leaf: flag(f[c_leaf]),
            foundation_uri: f[c_found].trim().to_string(),
            linearization_uri: f[c_lin].trim().to_string(),
            parent,
            groupings: groupings
                .iter()
                .filter_map(|&g| f.get(g))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        });
        // A gap in the depth markers attaches to the nearest open level.
        open.push(idx);
    }
    if entities.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no entities: not an ICD-11 simple tabulation",
        ));
    }
    let mut by_code: Vec<(String, u32)> = entities
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.code.as_ref().map(|c| (normalize::key(c), i as u32)))
        .collect();
    by_code.sort();
    let mut by_foundation: Vec<(String, u32)> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.foundation_uri.clone(), i as u32))
        .collect();
    by_foundation.sort();
    Ok(Icd11Release {
        version,
        source_file: file_name.to_string(),
        entities,
        by_code,
        by_foundation,
    })
}

impl Icd11Release {
    pub fn index_of(&self, code: &str) -> Option<u32> {
        let k = normalize::key(code);
        self.by_code
            .binary_search_by(|(c, _)| c.as_str().cmp(&k))
            .ok()
            .map(|i| self.by_code[i].1)
    }

    pub fn get(&self, code: &str) -> Option<&Icd11Entity> {
        self.index_of(code).map(|i| &self.entities[i as usize])
    }

    pub fn by_foundation_uri(&self, uri: &str) -> Option<u32> {
        let start = self
            .by_foundation
            .partition_point(|(u, _)| u.as_str() < uri);
        self.by_foundation
            .get(start)
            .filter(|(u, _)| u == uri)
            .map(|(_, i)| *i)
    }

    /// From the parent up to the chapter.
    pub fn ancestors(&self, idx: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = self.entities.get(idx as usize).and_then(|e| e.parent);
        while let Some(p) = cur {
            out.push(p);
            cur = self.entities[p as usize].parent;
        }
        out
    }

    pub fn children(&self, idx: u32) -> Vec<u32> {
        self.entities
            .iter()
            .enumerate()
            .skip(idx as usize + 1)
            .filter(|(_, e)| e.parent == Some(idx))
            .map(|(i, _)| i as u32)
            .collect()
    }
}

// ---------------------------------------------------------------- maps

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRow {
    pub icd10_code: String,
    pub icd10_kind: String,
    pub icd10_title: String,
    pub icd11_code: Option<String>,
    pub icd11_kind: String,
    pub icd11_title: String,
    pub icd11_uri: String,
    pub icd11_chapter: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Icd11To10Row {
    pub icd11_uri: String,
    pub icd11_code: Option<String>,
    pub icd11_chapter: String,
    pub icd11_title: String,
    pub icd10_code: String,
    pub icd10_chapter: String,
    pub icd10_title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundationEquivalence {
    pub icd10_code: String,
    pub foundation_uri: String,
    pub icd11_title: String,
    /// As WHO writes it: Equivalent, Subclass, Superclass, ...
    pub equivalence: String,
    pub score: Option<i32>,
}

/// One WHO mapping table kept as published: its rows (tab-separated
/// lines) in one string with offsets, and an index of rows sorted by the
/// lookup code. Loading it is a few large copies, not one allocation per
/// cell, and look-ups allocate nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MapTable {
    pub header: Vec<String>,
    text: String,
    /// Row i is `text[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    keys: String,
    key_starts: Vec<u32>,
    /// Row numbers sorted by key, file order within a key.
    order: Vec<u32>,
}

impl MapTable {
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&mut self, line: &str, key: &str) {
        if self.starts.is_empty() {
            self.starts.push(0);
            self.key_starts.push(0);
        }
        self.text.push_str(line);
        self.starts.push(self.text.len() as u32);
        self.keys.push_str(key);
        self.key_starts.push(self.keys.len() as u32);
    }

    fn finish(&mut self) {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.sort_by(|a, b| self.key(*a).cmp(self.key(*b)).then(a.cmp(b)));
        self.order = order;
    }

    fn key(&self, row: u32) -> &str {
        let r = row as usize;
        &self.keys[self.key_starts[r] as usize..self.key_starts[r + 1] as usize]
    }

    /// The cells of a row, as published.
    pub fn row(&self, row: u32) -> Vec<&str> {
        let r = row as usize;
        self.text[self.starts[r] as usize..self.starts[r + 1] as usize]
            .split('\t')
            .map(str::trim)
            .collect()
    }

    /// Rows whose lookup code has this key, in file order.
    pub fn find(&self, key: &str) -> Vec<u32> {
        let start = self.order.partition_point(|&r| self.key(r) < key);
        self.order[start..]
            .iter()
            .take_while(|&&r| self.key(r) == key)
            .copied()
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhoMaps {
    pub version: String,
    /// Keyed by ICD-10 code.
    pub to_icd11_one: MapTable,
    pub to_icd11_multiple: MapTable,
    /// Keyed by ICD-11 code.
    pub to_icd10: MapTable,
    /// Keyed by ICD-10 code.
    pub foundation: MapTable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapFile {
    TenToElevenOne,
    TenToElevenMultiple,
    ElevenToTen,
    FoundationTenToEleven,
}

/// Which WHO mapping table a file is, by its published name.
pub fn classify_map_file(file_name: &str) -> Option<MapFile> {
    let base = file_name
        .rsplit(['/', '!', '\\'])
        .next()
        .unwrap_or(file_name)
        .to_ascii_lowercase();
    if !base.ends_with(".txt") {
        return None;
    }
    if base.starts_with("foundation_10to11maptoonecategory") {
        Some(MapFile::FoundationTenToEleven)
    } else if base.starts_with("10to11maptoonecategory") {
        Some(MapFile::TenToElevenOne)
    } else if base.starts_with("10to11maptomultiplecategories") {
        Some(MapFile::TenToElevenMultiple)
    } else if base.starts_with("11to10maptoonecategory") {
        Some(MapFile::ElevenToTen)
    } else {
        None
    }
}

fn map_version(header: &str) -> Option<String> {
    header.split('\t').rev().find_map(|c| {
        let c = c.trim();
        (c.len() >= 8 && c.starts_with("20"))
            .then(|| version_of(c))
            .flatten()
    })
}

/// Parses one WHO mapping table into `into`.
pub fn parse_map_file(
    kind: MapFile,
    bytes: &[u8],
    file_name: &str,
    into: &mut WhoMaps,
) -> Result<()> {
    let text = text_of(bytes, file_name)?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| Error::parse(Position::file(file_name), "empty file"))?;
    let names: Vec<&str> = header.split('\t').map(str::trim).collect();
    if let Some(v) = map_version(header) {
        into.version = v;
    }
    let (need, key_col) = match kind {
        MapFile::TenToElevenOne | MapFile::TenToElevenMultiple => (12, 2),
        MapFile::ElevenToTen => (7, 1),
        MapFile::FoundationTenToEleven => (8, 2),
    };
    let table = match kind {
        MapFile::TenToElevenOne => &mut into.to_icd11_one,
        MapFile::TenToElevenMultiple => &mut into.to_icd11_multiple,
        MapFile::ElevenToTen => &mut into.to_icd10,
        MapFile::FoundationTenToEleven => &mut into.foundation,
    };
    table.header = names.iter().map(|s| s.to_string()).collect();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let n = line.split('\t').count();
        if n < need {
            return Err(Error::parse(
                Position::file(file_name)
                    .line(i as u64 + 1)
                    .element(format!("column {}", names.get(n).copied().unwrap_or("?"))),
                format!("row has {n} columns, expected {need}"),
            ));
        }
        let key = line
            .split('\t')
            .nth(key_col)
            .map(normalize::key)
            .unwrap_or_default();
        table.push(line, &key);
    }
    if table.is_empty() {
        return Err(Error::parse(Position::file(file_name), "no mapping rows"));
    }
    table.finish();
    Ok(())
}

/// The map of one ICD-10 code to ICD-11.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Icd10To11 {
    pub icd10_code: String,
    pub primary: Option<MapRow>,
    /// One-to-many candidates; the auditor chooses.
    pub choices: Vec<MapRow>,
    pub equivalence: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.is_empty())
}

fn cell(cells: &[&str], i: usize) -> String {
    cells.get(i).map(|s| s.to_string()).unwrap_or_default()
}

impl MapRow {
    fn from_cells(c: &[&str]) -> MapRow {
        MapRow {
            icd10_kind: cell(c, 0),
            icd10_code: cell(c, 2),
            icd10_title: cell(c, 4),
            icd11_kind: cell(c, 5),
            icd11_uri: cell(c, 8),
            icd11_code: c.get(9).and_then(|s| opt(s)),
            icd11_chapter: cell(c, 10),
            icd11_title: cell(c, 11),
        }
    }
}

impl WhoMaps {
    pub fn icd10_to_icd11(&self, icd10_code: &str) -> Icd10To11 {
        let key = normalize::key(icd10_code);
        let rows = |t: &MapTable| -> Vec<MapRow> {
            t.find(&key)
                .into_iter()
                .map(|r| MapRow::from_cells(&t.row(r)))
                .collect()
        };
        Icd10To11 {
            icd10_code: icd10_code.to_string(),
            primary: rows(&self.to_icd11_one).into_iter().next(),
            choices: rows(&self.to_icd11_multiple),
            equivalence: self
                .foundation
                .find(&key)
                .first()
                .map(|&r| cell(&self.foundation.row(r), 7)),
        }
    }

    pub fn foundation_equivalences(&self, icd10_code: &str) -> Vec<FoundationEquivalence> {
        let key = normalize::key(icd10_code);
        self.foundation
            .find(&key)
            .into_iter()
            .map(|r| {
                let c = self.foundation.row(r);
                FoundationEquivalence {
                    icd10_code: cell(&c, 2),
                    foundation_uri: cell(&c, 5),
                    icd11_title: cell(&c, 6),
                    equivalence: cell(&c, 7),
                    score: c.get(8).and_then(|s| s.parse().ok()),
                }
            })
            .collect()
    }

    pub fn icd11_to_icd10(&self, icd11_code: &str) -> Vec<Icd11To10Row> {
        let key = normalize::key(icd11_code);
        self.to_icd10
            .find(&key)
            .into_iter()
            .map(|r| {
                let c = self.to_icd10.row(r);
                Icd11To10Row {
                    icd11_uri: cell(&c, 0),
                    icd11_code: c.get(1).and_then(|s| opt(s)),
                    icd11_chapter: cell(&c, 2),
                    icd11_title: cell(&c, 3),
                    icd10_code: cell(&c, 4),
                    icd10_chapter: cell(&c, 5),
                    icd10_title: cell(&c, 6),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAB: &str = "\u{feff}Foundation URI\tLinearization URI\tCode\tBlockId\tTitle\tClassKind\tDepthInKind\tIsResidual\tChapterNo\tBrowserLink\tisLeaf\tPrimary tabulation\tGrouping1\tGrouping2\tGrouping3\tGrouping4\tGrouping5\tVersion:2024 Jan 21 - 22:30 UTC\n\
u1\tl1\t\t\t\"Endocrine diseases\"\tchapter\t1\tFalse\t05\tlink\tFalse\t\t\t\t\t\t\t\n\
u2\tl2\t\tBlockL1-5A1\t\"- Diabetes mellitus\"\tblock\t1\tFalse\t05\tlink\tFalse\t\t\t\t\t\t\t\n\
u3\tl3\t5A11\t\t\"- - Type 2 diabetes mellitus\"\tcategory\t1\tFalse\t05\tlink\tTrue\tTrue\tBlockL1-5A1\t\t\t\t\t\n\
u4\tl4\t5A1Z\t\t\"- - Diabetes mellitus, type unspecified\"\tcategory\t1\tTrue\t05\tlink\tTrue\tTrue\t\t\t\t\t\t\n";

    #[test]
    fn parses_the_tabulation_tree() {
        let r = parse_simple_tabulation(TAB.as_bytes(), "tab.txt").expect("parses");
        assert_eq!(r.version, "2024-01");
        assert_eq!(r.entities.len(), 4);
        let e = r.get("5a11").expect("5A11");
        assert_eq!(e.title, "Type 2 diabetes mellitus");
        assert_eq!(e.class_kind, Icd11ClassKind::Category);
        assert!(e.is_leaf);
        assert_eq!(r.ancestors(2), vec![1, 0]);
        assert_eq!(r.children(1), vec![2, 3]);
        assert!(r.get("5A1Z").expect("5A1Z").is_residual);
        assert_eq!(r.by_foundation_uri("u3"), Some(2));
    }

    #[test]
    fn maps_one_and_many() {
        let mut m = WhoMaps::default();
        let one = "10ClassKind\t10DepthInKind\ticd10Code\ticd10Chapter\ticd10Title\t11ClassKind\t11DepthInKind\tURI\tLin\ticd11Code\ticd11Chapter\ticd11Title\t2024-Jan-21\n\
category\t2\tE11.9\tIV\tT2DM without complications\tcategory\t1\tf\tl\t5A11\t05\tType 2 diabetes mellitus\n\
block\t1\tA00-A09\tI\tIntestinal\tblock\t1\tf\tl\t\t01\tGastroenteritis\n";
        parse_map_file(
            MapFile::TenToElevenOne,
            one.as_bytes(),
            "10To11MapToOneCategory.txt",
            &mut m,
        )
        .expect("parses");
        let multi = "h\th\th\th\th\th\th\th\th\th\th\th\t2024-Jan-21\n\
category\t2\tE11.9\tIV\tT\tcategory\t1\tf\tl\t5A11\t05\tA\n\
category\t2\tE11.9\tIV\tT\tcategory\t1\tf\tl\t5A14\t05\tB\n";
        parse_map_file(
            MapFile::TenToElevenMultiple,
            multi.as_bytes(),
            "10To11MapToMultipleCategories.txt",
            &mut m,
        )
        .expect("parses");
        assert_eq!(m.version, "2024-01");
        let r = m.icd10_to_icd11("e119");
        assert_eq!(
            r.primary.and_then(|p| p.icd11_code).as_deref(),
            Some("5A11")
        );
        assert_eq!(r.choices.len(), 2);
        assert_eq!(
            m.icd10_to_icd11("A00-A09").primary.map(|p| p.icd11_code),
            Some(None)
        );
        assert!(m.icd10_to_icd11("Z99.99").primary.is_none());
        assert_eq!(
            classify_map_file("x/11To10MapToOneCategory.txt"),
            Some(MapFile::ElevenToTen)
        );
        assert_eq!(
            classify_map_file("foundation_10To11MapToOneCategory.txt"),
            Some(MapFile::FoundationTenToEleven)
        );
    }

    #[test]
    fn short_rows_are_errors_with_position() {
        let mut m = WhoMaps::default();
        let bad = "a\tb\tc\n11/x\t5A11\n";
        let err = parse_map_file(MapFile::ElevenToTen, bad.as_bytes(), "11To10.txt", &mut m)
            .expect_err("short row")
            .to_string();
        assert!(err.contains("11To10.txt:2"), "{err}");
        assert!(err.contains("column c"), "{err}");
        let err = parse_simple_tabulation(b"Code\tTitle\n", "t.txt")
            .expect_err("bad header")
            .to_string();
        assert!(err.contains("Foundation URI"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_simple_tabulation(&bytes, "f.txt");
            let mut m = WhoMaps::default();
            let _ = parse_map_file(MapFile::TenToElevenMultiple, &bytes, "f.txt", &mut m);
            let _ = parse_simple_tabulation_zip(&bytes, "f.zip");
        }
    }
}
