//! The CMS HCPCS Level II alpha-numeric file (quarterly zip,
//! `HCPCYYYY_MMM_ANWEB_*.txt`): fixed-width 320-byte records as laid out
//! in CMS's `HCPCYYYY_recordlayout.txt`.
//!
//! Record id (column 11): 3 opens a procedure code and carries its detail
//! fields, 4 continues its long description; 7 and 8 do the same for
//! modifiers, which are right-aligned in the 5-byte code field.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::Date;
use crate::error::{Error, Position, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HcpcsCode {
    /// Five characters for a code ("G0552"), two for a modifier ("GT").
    pub code: String,
    pub long_desc: String,
    pub short_desc: String,
    pub pricing_indicators: Vec<String>,
    pub multiple_pricing: Option<char>,
    pub coverage: Option<char>,
    pub betos: Option<String>,
    pub type_of_service: Vec<char>,
    pub lab_certifications: Vec<String>,
    pub cross_references: Vec<String>,
    pub asc_group: Option<String>,
    pub anesthesia_base_units: Option<u16>,
    pub processing_note: Option<String>,
    pub statute: Option<String>,
    pub added: Option<Date>,
    pub action_effective: Option<Date>,
    pub terminated: Option<Date>,
    pub action_code: Option<char>,
}

impl HcpcsCode {
    /// Added on or before the date (when known) and not terminated before it.
    pub fn is_active_on(&self, dos: Date) -> bool {
        self.added.is_none_or(|a| a <= dos) && self.terminated.is_none_or(|t| dos <= t)
    }

    pub fn coverage_text(&self) -> &'static str {
        match self.coverage {
            Some('C') => "carrier judgment",
            Some('D') => "special coverage instructions apply",
            Some('I') => "not payable by Medicare",
            Some('M') => "non-covered by Medicare",
            Some('S') => "non-covered by Medicare statute",
            _ => "not stated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HcpcsRelease {
    /// "2026-01" for the January 2026 quarterly file.
    pub release: String,
    pub effective_from: Date,
    pub source_file: String,
    /// Sorted by code.
    pub codes: Vec<HcpcsCode>,
    /// Sorted by modifier.
    pub modifiers: Vec<HcpcsCode>,
    /// Processing note number -> text (`proc_notes_*.txt`).
    pub processing_notes: Vec<(String, String)>,
}

impl HcpcsRelease {
    pub fn get(&self, code: &str) -> Option<&HcpcsCode> {
        self.codes
            .binary_search_by(|c| c.code.as_str().cmp(code))
            .ok()
            .map(|i| &self.codes[i])
    }

    pub fn modifier(&self, m: &str) -> Option<&HcpcsCode> {
        self.modifiers
            .binary_search_by(|c| c.code.as_str().cmp(m))
            .ok()
            .map(|i| &self.modifiers[i])
    }

    pub fn processing_note(&self, number: &str) -> Option<&str> {
        self.processing_notes
            .iter()
            .find(|(n, _)| n == number)
            .map(|(_, t)| t.as_str())
    }
}

/// Quarter from a CMS file name ("HCPC2026_JAN_ANWEB_01122026.txt").
fn quarter_of(name: &str) -> Option<Date> {
    let upper = name.to_ascii_uppercase();
    let year: i16 = upper
        .match_indices("HCPC")
        .find_map(|(pos, _)| upper.get(pos + 4..pos + 8).and_then(|y| y.parse().ok()))?;
    let month = [("JAN", 1), ("APR", 4), ("JUL", 7), ("OCT", 10)]
        .iter()
        .find(|(m, _)| upper.contains(&format!("_{m}")))?
        .1;
    Date::new(year, month, 1).ok()
}

/// Parses the quarterly zip as CMS publishes it.
pub fn parse_hcpcs_zip(bytes: &[u8], file_name: &str) -> Result<HcpcsRelease> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::parse(
            Position::file(file_name),
            format!("not a readable zip archive: {e}"),
        )
    })?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok())
        .map(|n| n.into_owned())
        .collect();
    let mut read = |member: &str| -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let at = format!("{file_name}!{member}");
        archive
            .by_name(member)
            .map_err(|e| Error::parse(Position::file(&at), e.to_string()))?
            .read_to_end(&mut out)
            .map_err(|e| Error::parse(Position::file(&at), format!("damaged zip member: {e}")))?;
        Ok(out)
    };
    let data = names
        .iter()
        .find(|n| {
            let u = n.to_ascii_uppercase();
            u.contains("ANWEB") && u.ends_with(".TXT") && !u.contains("LAYOUT")
        })
        .ok_or_else(|| {
            Error::parse(
                Position::file(file_name),
                "no *ANWEB*.txt data member in the zip",
            )
        })?
        .clone();
    let mut release = parse_hcpcs_txt(&read(&data)?, &format!("{file_name}!{data}"))?;
    if let Some(notes) = names.iter().find(|n| {
        n.to_ascii_lowercase().starts_with("proc_notes") && n.to_ascii_lowercase().ends_with(".txt")
    }) {
        release.processing_notes = parse_processing_notes(&read(notes)?);
    }
    Ok(release)
}

fn field(line: &str, from: usize, to: usize) -> &str {
    // 1-based inclusive columns; short lines read as blank.
    let start = (from - 1).min(line.len());
    let end = to.min(line.len());
    if line.is_char_boundary(start) && line.is_char_boundary(end) {
        line[start..end].trim()
    } else {
        ""
    }
}

fn repeated(line: &str, from: usize, width: usize, times: usize) -> Vec<String> {
    (0..times)
        .map(|i| field(line, from + i * width, from + (i + 1) * width - 1).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn date_field(
    line: &str,
    from: usize,
    to: usize,
    at: impl Fn() -> Position,
) -> Result<Option<Date>> {
    let s = field(line, from, to);
    if s.is_empty() || s.chars().all(|c| c == '0') {
        return Ok(None);
    }
    let parsed = (s.len() == 8)
        .then(|| {
            let (y, m, d) = (
                s[0..4].parse::<i16>().ok()?,
                s[4..6].parse::<i8>().ok()?,
                s[6..8].parse::<i8>().ok()?,
            );
            Date::new(y, m, d).ok()
        })
        .flatten();
    parsed
        .map(Some)
        .ok_or_else(|| Error::parse(at(), format!("not a YYYYMMDD date: {s:?}")))
}

/// Parses the fixed-width data file.
pub fn parse_hcpcs_txt(bytes: &[u8], file_name: &str) -> Result<HcpcsRelease> {
    let text = String::from_utf8_lossy(bytes);
    let effective_from = quarter_of(file_name).ok_or_else(|| {
        Error::parse(
            Position::file(file_name),
            "cannot tell the quarter from the file name (expected HCPCYYYY_MMM_...)",
        )
    })?;
    let mut codes: Vec<HcpcsCode> = Vec::new();
    let mut modifiers: Vec<HcpcsCode> = Vec::new();
    // Which list the last opening record went to.
    let mut last_is_modifier: Option<bool> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i as u64 + 1;
        let at = |f: &str| {
            Position::file(file_name)
                .line(line_no)
                .element(f.to_string())
        };
        let rid = field(line, 11, 11);
        let code = field(line, 1, 5).to_string();
        let desc = field(line, 12, 91);
        match rid {
            "3" | "7" => {
                let is_modifier = rid == "7";
                let expected = if is_modifier {
                    code.len() == 2
                } else {
                    code.len() == 5
                };
                if !expected || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(Error::parse(
                        at("HCPCS code (1-5)"),
                        format!(
                            "{code:?} is not a HCPCS {}",
                            if is_modifier { "modifier" } else { "code" }
                        ),
                    ));
                }
                let units = field(line, 266, 268);
                let c = HcpcsCode {
                    code,
                    long_desc: desc.to_string(),
                    short_desc: field(line, 92, 119).to_string(),
                    pricing_indicators: repeated(line, 120, 2, 4),
                    multiple_pricing: field(line, 128, 128).chars().next(),
                    coverage: field(line, 230, 230).chars().next(),
                    betos: Some(field(line, 257, 259).to_string()).filter(|s| !s.is_empty()),
                    type_of_service: field(line, 261, 265)
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect(),
                    lab_certifications: repeated(line, 181, 3, 8),
                    cross_references: repeated(line, 205, 5, 5),
                    asc_group: Some(field(line, 231, 232).to_string()).filter(|s| !s.is_empty()),
                    anesthesia_base_units: if units.is_empty() {
                        None
                    } else {
                        Some(units.parse().map_err(|_| {
                            Error::parse(
                                at("HCPCS Anesthesia Base Unit Quantity (266-268)"),
                                format!("not a number: {units:?}"),
                            )
                        })?)
                    },
                    processing_note: Some(field(line, 253, 256).to_string())
                        .filter(|s| !s.is_empty()),
                    statute: Some(field(line, 171, 180).to_string()).filter(|s| !s.is_empty()),
                    added: date_field(line, 269, 276, || at("HCPCS Code Added Date (269-276)"))?,
                    action_effective: date_field(line, 277, 284, || {
                        at("HCPCS Action Effective Date (277-284)")
                    })?,
                    terminated: date_field(line, 285, 292, || {
                        at("HCPCS Termination Date (285-292)")
                    })?,
                    action_code: field(line, 293, 293).chars().next(),
                };
                if is_modifier {
                    modifiers.push(c)
                } else {
                    codes.push(c)
                }
                last_is_modifier = Some(is_modifier);
            }
            "4" | "8" => {
                let is_modifier = rid == "8";
                let list = if is_modifier {
                    &mut modifiers
                } else {
                    &mut codes
                };
                match (list.last_mut(), last_is_modifier) {
                    (Some(prev), Some(m)) if m == is_modifier && prev.code == code => {
                        if !desc.is_empty() {
                            prev.long_desc.push(' ');
                            prev.long_desc.push_str(desc);
                        }
                    }
                    _ => {
                        return Err(Error::parse(
                            at("HCPCS Record Identification Code (11)"),
                            format!(
                                "continuation record for {code:?} does not follow its first record"
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(Error::parse(
                    at("HCPCS Record Identification Code (11)"),
                    format!("unknown record id {other:?} (expected 3, 4, 7 or 8)"),
                ));
            }
        }
    }
    if codes.is_empty() && modifiers.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no HCPCS records found",
        ));
    }
    codes.sort_by(|a, b| a.code.cmp(&b.code));
    modifiers.sort_by(|a, b| a.code.cmp(&b.code));
    let month = effective_from.month();
    Ok(HcpcsRelease {
        release: format!("{}-{month:02}", effective_from.year()),
        effective_from,
        source_file: file_name.to_string(),
        codes,
        modifiers,
        processing_notes: Vec::new(),
    })
}

/// `proc_notes_*.txt`: "0002--TEXT" opening a note, continued on the
/// following indented lines; a trailing "*" column is decoration.
pub fn parse_processing_notes(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let l = line.trim_end().trim_end_matches('*').trim();
        if l.is_empty() {
            continue;
        }
        if let Some((num, rest)) = l.split_once("--")
            && num.len() == 4
            && num.chars().all(|c| c.is_ascii_digit())
        {
            out.push((num.to_string(), rest.trim().to_string()));
        } else if let Some(last) = out.last_mut()
            && !l.starts_with('_')
        {
            last.1.push(' ');
            last.1.push_str(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record in the 320-byte layout.
    pub(crate) fn record(
        code: &str,
        seq: &str,
        rid: char,
        long: &str,
        short: &str,
        fields: &[(usize, &str)],
    ) -> String {
        let mut r = vec![b' '; 320];
        let put = |r: &mut Vec<u8>, from: usize, s: &str| {
            for (i, b) in s.bytes().enumerate() {
                r[from - 1 + i] = b;
            }
        };
        put(&mut r, 1, &format!("{code:>5}"));
        put(&mut r, 6, seq);
        r[10] = rid as u8;
        put(&mut r, 12, long);
        if rid == '3' || rid == '7' {
            put(&mut r, 92, short);
        }
        for (at, s) in fields {
            put(&mut r, *at, s);
        }
        String::from_utf8(r).expect("ascii")
    }

    fn mini() -> String {
        [
            record(
                "G0552",
                "00100",
                '3',
                "Supply of digital mental health treatment device and initial education and",
                "Supply of digital device",
                &[
                    (120, "13"),
                    (230, "C"),
                    (269, "20250101"),
                    (277, "20250101"),
                    (293, "N"),
                ],
            ),
            record(
                "G0552",
                "00200",
                '4',
                "onboarding, per course of treatment",
                "",
                &[],
            ),
            record(
                "A9999",
                "00100",
                '3',
                "Retired test supply",
                "Retired supply",
                &[(230, "M"), (269, "20100101"), (285, "20201231"), (293, "D")],
            ),
            record(
                "GT",
                "00100",
                '7',
                "Via interactive audio and video telecommunication systems",
                "Interactive telecom",
                &[(269, "19970101")],
            ),
        ]
        .join("\r\n")
    }

    #[test]
    fn parses_codes_continuations_and_modifiers() {
        let r =
            parse_hcpcs_txt(mini().as_bytes(), "HCPC2026_JAN_ANWEB_01122026.txt").expect("parses");
        assert_eq!(r.release, "2026-01");
        assert_eq!(r.codes.len(), 2);
        assert_eq!(r.modifiers.len(), 1);
        let g = r.get("G0552").expect("G0552");
        assert_eq!(
            g.long_desc,
            "Supply of digital mental health treatment device and initial education and onboarding, per course of treatment"
        );
        assert_eq!(g.short_desc, "Supply of digital device");
        assert_eq!(g.pricing_indicators, vec!["13"]);
        assert_eq!(g.coverage, Some('C'));
        assert_eq!(g.added, Date::new(2025, 1, 1).ok());
        let old = r.get("A9999").expect("A9999");
        assert_eq!(old.terminated, Date::new(2020, 12, 31).ok());
        assert!(!old.is_active_on(Date::new(2026, 1, 1).expect("date")));
        assert!(old.is_active_on(Date::new(2015, 1, 1).expect("date")));
        assert_eq!(
            r.modifier("GT").expect("GT").short_desc,
            "Interactive telecom"
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = mini().replace("20201231", "20201399");
        let err = parse_hcpcs_txt(bad.as_bytes(), "HCPC2026_JAN_ANWEB.txt")
            .expect_err("bad date")
            .to_string();
        assert!(err.contains("HCPC2026_JAN_ANWEB.txt:3"), "{err}");
        assert!(err.contains("Termination Date (285-292)"), "{err}");
        let mut lines: Vec<String> = mini().split("\r\n").map(str::to_string).collect();
        lines[1].replace_range(10..11, "9");
        let err = parse_hcpcs_txt(lines.join("\n").as_bytes(), "HCPC2026_JAN_ANWEB.txt")
            .expect_err("bad rid")
            .to_string();
        assert!(
            err.contains(":2") && err.contains("Record Identification Code (11)"),
            "{err}"
        );
        let err = parse_hcpcs_txt(mini().as_bytes(), "codes.txt")
            .expect_err("no quarter")
            .to_string();
        assert!(err.contains("quarter"), "{err}");
    }

    #[test]
    fn processing_notes() {
        let notes = parse_processing_notes(b"   HEADER\n 0002--THESE CODES PERTAIN   *\n       TO THE ANALYTE.   *\n 0003--OTHER NOTE *\n");
        assert_eq!(
            notes,
            vec![
                ("0002".into(), "THESE CODES PERTAIN TO THE ANALYTE.".into()),
                ("0003".into(), "OTHER NOTE".into())
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700)) {
            let _ = parse_hcpcs_txt(&bytes, "HCPC2026_JAN_ANWEB.txt");
            let _ = parse_hcpcs_zip(&bytes, "x.zip");
            let _ = parse_processing_notes(&bytes);
        }
    }
}
