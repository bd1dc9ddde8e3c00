//! Helpers shared by the integration tests: where the official release
//! files are, and one installed data directory per test binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use medledger_codesets::{Engine, InstallOptions, InstallReport, NoProgress, install};

/// `../shared` beside the repository, or `$MEDLEDGER_SHARED`.
pub fn shared() -> PathBuf {
    if let Ok(p) = std::env::var("MEDLEDGER_SHARED") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn codesets_dir() -> PathBuf {
    let d = shared().join("codesets");
    assert!(
        d.join("README.md").exists(),
        "official release files not found at {}: set MEDLEDGER_SHARED to the shared data directory",
        d.display()
    );
    d
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub struct Installed {
    pub dir: tempfile::TempDir,
    pub report: InstallReport,
}

/// Everything in ../shared/codesets installed once per test binary.
pub fn installed() -> &'static Installed {
    static CELL: OnceLock<Installed> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = install(
            dir.path(),
            &InstallOptions {
                from: codesets_dir(),
                cpt: None,
                force: false,
            },
            &NoProgress,
        )
        .expect("the official release files install");
        Installed { dir, report }
    })
}

pub fn engine() -> Engine {
    Engine::open(installed().dir.path()).expect("opens")
}

/// Copies fixture files (by name) into a fresh directory to install from.
pub fn fixture_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (src, dst) in files {
        let to = dir.path().join(dst);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(fixtures().join(src), &to).unwrap_or_else(|e| panic!("copy {src}: {e}"));
    }
    dir
}
