//! The shared X12 samples (`$MEDLEDGER_SHARED/eval/x12`, default
//! `<repo>/../shared/eval/x12`), read at test time; they are third-party
//! files and are not copied into this repository.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared data directory.
pub fn shared() -> PathBuf {
    std::env::var_os("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

/// `<shared>/eval/x12`, checked to exist.
pub fn x12_dir() -> PathBuf {
    let d = shared().join("eval/x12");
    assert!(
        d.join("README.md").exists(),
        "X12 samples not found at {}: set MEDLEDGER_SHARED to the shared data directory",
        d.display()
    );
    d
}

/// Every sample file (relative path like `835/managed-care.835`, bytes), sorted.
pub fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = x12_dir();
    let mut out = Vec::new();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read x12 dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for f in folders {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&f)
            .expect("read folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for p in files {
            let rel = p
                .strip_prefix(&dir)
                .expect("under dir")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&p).expect("read sample")));
        }
    }
    out
}

/// One sample by relative path.
pub fn sample(rel: &str) -> Vec<u8> {
    let p: &Path = rel.as_ref();
    std::fs::read(x12_dir().join(p)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A row of the README's file table.
#[derive(Debug, Clone)]
pub struct Expected {
    pub file: String,
    pub kind: String,
    pub version: String,
    pub interchanges: usize,
    pub transactions: usize,
    pub claims: usize,
}

/// The README's table: `| file | type | GS08 | bytes | ISA / ST / claims | … |`.
pub fn readme_table() -> Vec<Expected> {
    let text = std::fs::read_to_string(x12_dir().join("README.md")).expect("README");
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // ["", file, type, version, bytes, counts, source, licence, ""]
        if cells.len() < 7 || !cells[1].starts_with('`') {
            continue;
        }
        let counts: Vec<usize> = cells[5]
            .split('/')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        if counts.len() != 3 {
            continue;
        }
        out.push(Expected {
            file: cells[1].trim_matches('`').to_owned(),
            kind: cells[2].to_owned(),
            version: cells[3].to_owned(),
            interchanges: counts[0],
            transactions: counts[1],
            claims: counts[2],
        });
    }
    out
}

/// Replaces the first occurrence of `from` by `to`.
pub fn edit(src: &[u8], from: &str, to: &str) -> Vec<u8> {
    let f = from.as_bytes();
    let p = src
        .windows(f.len())
        .position(|w| w == f)
        .unwrap_or_else(|| panic!("{from:?} not in the sample"));
    let mut out = src[..p].to_vec();
    out.extend_from_slice(to.as_bytes());
    out.extend_from_slice(&src[p + f.len()..]);
    out
}
