//! A user's licensed CPT file. medledger ships no CPT descriptor text
//! (AMA copyright); this reads the file the user supplies: tab, pipe or
//! comma delimited (with or without a header row), or the AMA plain-text
//! form "CODE descriptor".

use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::normalize;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CptCode {
    pub code: String,
    pub descriptor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CptTable {
    pub source_file: String,
    /// Sorted, one per code (the last line for a code wins).
    pub codes: Vec<CptCode>,
}

impl CptTable {
    pub fn get(&self, code: &str) -> Option<&CptCode> {
        let k = normalize::key(code);
        self.codes
            .binary_search_by(|c| c.code.as_str().cmp(&k))
            .ok()
            .map(|i| &self.codes[i])
    }
}

fn split_line(line: &str) -> Vec<String> {
    if line.contains('\t') {
        return line.split('\t').map(|s| s.trim().to_string()).collect();
    }
    if line.contains('|') {
        return line.split('|').map(|s| s.trim().to_string()).collect();
    }
    if line.contains(',') {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line.as_bytes());
        if let Some(Ok(rec)) = rdr.records().next() {
            return rec.iter().map(|s| s.trim().to_string()).collect();
        }
    }
    match line.trim().split_once(char::is_whitespace) {
        Some((code, rest)) => vec![code.to_string(), rest.trim().to_string()],
        None => vec![line.trim().to_string()],
    }
}

pub fn parse_cpt(bytes: &[u8], file_name: &str) -> Result<CptTable> {
    let text = String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|_| bytes.iter().map(|&b| b as char).collect());
    let mut code_col = 0usize;
    let mut desc_col = 1usize;
    let mut codes: Vec<CptCode> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cells = split_line(line);
        let first = cells
            .get(code_col)
            .map(|c| normalize::key(c))
            .unwrap_or_default();
        if !normalize::looks_cpt(&first) {
            // A header row names the columns.
            let lower: Vec<String> = cells.iter().map(|c| c.to_ascii_lowercase()).collect();
            if let Some(c) = lower.iter().position(|c| {
                matches!(
                    c.as_str(),
                    "code" | "cpt" | "cpt code" | "cpt_code" | "hcpcs"
                )
            }) {
                code_col = c;
            }
            if let Some(d) = lower
                .iter()
                .position(|c| c.contains("descriptor") || c.contains("description"))
            {
                desc_col = d;
            }
            continue;
        }
        let descriptor = cells.get(desc_col).cloned().unwrap_or_default();
        if descriptor.is_empty() {
            return Err(Error::parse(
                Position::file(file_name)
                    .line(i as u64 + 1)
                    .element("descriptor"),
                format!("code {first} has no descriptor"),
            ));
        }
        codes.push(CptCode {
            code: first,
            descriptor,
        });
    }
    if codes.is_empty() {
        return Err(Error::parse(
            Position::file(file_name),
            "no CPT codes found (expected lines of code and descriptor)",
        ));
    }
    codes.reverse();
    codes.sort_by(|a, b| a.code.cmp(&b.code));
    codes.dedup_by(|a, b| a.code == b.code);
    Ok(CptTable {
        source_file: file_name.to_string(),
        codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_layout() {
        let layouts: [(&str, &str); 4] = [
            (
                "tab.txt",
                "99213\tSynthetic test descriptor A\n0001U\tSynthetic test descriptor B\n",
            ),
            (
                "with-header.csv",
                "Long Descriptor,CPT Code\n\"Synthetic test descriptor A, with comma\",99213\nSynthetic test descriptor B,0001U\n",
            ),
            (
                "pipe.txt",
                "code|descriptor\n99213|Synthetic test descriptor A\n0001U|Synthetic test descriptor B\n",
            ),
            (
                "plain.txt",
                "99213 Synthetic test descriptor A\n0001U Synthetic test descriptor B\n",
            ),
        ];
        for (name, text) in layouts {
            let t = parse_cpt(text.as_bytes(), name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.codes.len(), 2, "{name}");
            assert!(
                t.get("99213")
                    .expect("99213")
                    .descriptor
                    .starts_with("Synthetic test descriptor A"),
                "{name}"
            );
            assert_eq!(
                t.get("0001u").expect("0001U").descriptor,
                "Synthetic test descriptor B",
                "{name}"
            );
        }
    }

    #[test]
    fn last_line_wins_and_errors_are_clear() {
        let t = parse_cpt(b"99213\tOld\n99213\tNew\n", "c.txt").expect("parses");
        assert_eq!(t.codes.len(), 1);
        assert_eq!(t.get("99213").expect("code").descriptor, "New");
        let err = parse_cpt(b"hello\nworld\n", "c.txt")
            .expect_err("no codes")
            .to_string();
        assert!(err.contains("no CPT codes"), "{err}");
        let err = parse_cpt(b"99213\t\n", "c.txt")
            .expect_err("no descriptor")
            .to_string();
        assert!(err.contains("c.txt:1"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse_cpt(s.as_bytes(), "f.txt");
        }
    }
}
