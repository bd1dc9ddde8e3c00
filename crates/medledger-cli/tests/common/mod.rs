//! Helpers shared by the CLI integration tests: the shared data, running
//! the binary, and one installed data directory per test binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// `$MEDLEDGER_SHARED`, or `../shared` beside the repository.
pub fn shared() -> PathBuf {
    std::env::var("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

pub fn shared_codesets() -> PathBuf {
    let d = shared().join("codesets");
    assert!(
        d.join("README.md").exists(),
        "release files not found at {}: set MEDLEDGER_SHARED",
        d.display()
    );
    d
}

pub fn medledger(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medledger"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("runs")
}

pub fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// ../shared/codesets installed through the CLI into one directory under
/// cargo's target tmpdir, reused across test binaries and runs (an install
/// over unchanged sources only checks them), so nothing leaks into /tmp.
pub fn data() -> &'static Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("medledger-codesets");
        std::fs::create_dir_all(&dir).expect("create the shared data dir");
        let from = shared_codesets();
        let out = medledger(
            &dir,
            &[
                "--json",
                "codesets",
                "install",
                "--from",
                from.to_str().expect("utf8"),
            ],
        );
        let report = json(&out);
        let count = |k: &str| report[k].as_array().map_or(0, Vec::len);
        assert!(count("installed") + count("unchanged") >= 7, "{report}");
        dir
    })
    .as_path()
}
