//! Shared helpers (included with `mod common;`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `$MEDLEDGER_SHARED`, default `<repo>/../shared`.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("eval/fhir/README.md").exists(),
        "shared data not found at {}; set MEDLEDGER_SHARED",
        p.display()
    );
    p
}

/// Every Synthea bundle, sorted by file name: (name, bytes).
pub fn synthea() -> Vec<(String, Vec<u8>)> {
    let dir = shared().join("eval/fhir/synthea-r4-bundles");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("synthea dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

/// Every file of the HL7 R4 examples directory starting with `prefix`.
pub fn hl7(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = shared().join("eval/fhir/hl7-r4-examples");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("hl7 dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

/// A fixture of this crate.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .expect(name)
}
