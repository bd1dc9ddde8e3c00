//! The ICD-10-CM order file (`icd10cm_order_YYYY.txt`, CDC/NCHS): every
//! code and header in tabular order with the billable ("valid for HIPAA
//! transactions") flag and short and long titles.
//!
//! Layout (1-based columns): 1-5 order number (zero-filled), 7-13 code
//! (no dot, left-justified), 15 flag (0 = header, 1 = billable), 17-76
//! short description, 78-end long description.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::normalize;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEntry {
    pub order: u32,
    pub key: String,
    pub billable: bool,
    pub short_desc: String,
    pub long_desc: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderFile {
    pub source_file: String,
    /// Sorted by key.
    pub entries: Vec<OrderEntry>,
}

impl OrderFile {
    pub fn get(&self, key: &str) -> Option<&OrderEntry> {
        self.entries
            .binary_search_by(|e| e.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.entries[i])
    }

    pub fn billable_count(&self) -> usize {
        self.entries.iter().filter(|e| e.billable).count()
    }
}

pub fn parse_order(bytes: &[u8], file_name: &str) -> Result<OrderFile> {
    let text = String::from_utf8_lossy(bytes);
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let at = |field: &str| {
            Position::file(file_name)
                .line(line_no)
                .element(field.to_string())
        };
        let field = |from: usize, to: usize| -> Option<&str> {
            let end = to.min(line.len());
            if from > end || !line.is_char_boundary(from) || !line.is_char_boundary(end) {
                return None;
            }
            Some(&line[from..end])
        };
        let order = field(0, 5)
            .and_then(|s| s.trim().parse::<u32>().ok())
            .ok_or_else(|| {
                Error::parse(at("order number (1-5)"), "expected a 5-digit order number")
            })?;
        let key = field(6, 13).map(str::trim).unwrap_or_default().to_string();
        if !normalize::looks_icd10cm(&key) {
            return Err(Error::parse(
                at("code (7-13)"),
                format!("{key:?} is not an ICD-10-CM code"),
            ));
        }
        let billable = match field(14, 15) {
            Some("1") => true,
            Some("0") => false,
            other => {
                return Err(Error::parse(
                    at("header flag (15)"),
                    format!("expected 0 or 1, found {:?}", other.unwrap_or("")),
                ));
            }
        };
        let short_desc = field(16, 76).map(str::trim).unwrap_or_default().to_string();
        let long_desc = field(77, line.len())
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        if short_desc.is_empty() {
            return Err(Error::parse(
                at("short description (17-76)"),
                "missing short description",
            ));
        }
        entries.push(OrderEntry {
            order,
            key,
            billable,
            short_desc,
            long_desc,
        });
    }
    if entries.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no codes found: not an ICD-10-CM order file",
        ));
    }
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    entries.dedup_by(|a, b| a.key == b.key);
    Ok(OrderFile {
        source_file: file_name.to_string(),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(order: u32, code: &str, flag: char, short: &str, long: &str) -> String {
        format!("{order:05} {code:<7} {flag} {short:<60} {long}")
    }

    #[test]
    fn parses_the_official_layout() {
        let text = [
            line(1, "A00", '0', "Cholera", "Cholera"),
            line(2, "A000", '1', "Cholera due to Vibrio cholerae 01, biovar cholerae", "Cholera due to Vibrio cholerae 01, biovar cholerae"),
            line(3, "S52521A", '1', "Torus fx lower end of right radius, init", "Torus fracture of lower end of right radius, initial encounter for closed fracture"),
        ]
        .join("\r\n");
        let f = parse_order(text.as_bytes(), "icd10cm_order_2026.txt").expect("parses");
        assert_eq!(f.entries.len(), 3);
        assert_eq!(f.billable_count(), 2);
        let e = f.get("S52521A").expect("present");
        assert!(e.billable);
        assert_eq!(e.order, 3);
        assert!(e.long_desc.starts_with("Torus fracture"));
        assert!(!f.get("A00").expect("A00").billable);
    }

    #[test]
    fn errors_name_line_and_field() {
        let text = format!(
            "{}\n{}",
            line(1, "A00", '0', "Cholera", "Cholera"),
            line(2, "A000", '7', "x", "y")
        );
        let err = parse_order(text.as_bytes(), "order.txt")
            .expect_err("bad flag")
            .to_string();
        assert!(err.contains("order.txt:2"), "{err}");
        assert!(err.contains("header flag (15)"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse_order(s.as_bytes(), "fuzz.txt");
        }
    }
}
