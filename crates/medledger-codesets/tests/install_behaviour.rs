//! Install semantics on fixture files written in the official layouts:
//! releases side by side chosen by date of service, the order file, the
//! main Alphabetic Index, idempotence, and failures that change nothing.

mod common;

use common::fixture_dir;
use medledger_codesets::icd10cm::index::IndexKind;
use medledger_codesets::{Date, Engine, Error, InstallOptions, NoProgress, install};

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

fn opts(from: &std::path::Path) -> InstallOptions {
    InstallOptions {
        from: from.to_path_buf(),
        cpt: None,
        force: false,
    }
}

fn two_years() -> tempfile::TempDir {
    fixture_dir(&[
        (
            "icd10cm/fy2025-tabular.fixture.xml",
            "2025/icd10cm_tabular_2025.xml",
        ),
        (
            "icd10cm/fy2026-tabular.fixture.xml",
            "2026/icd10cm_tabular_2026.xml",
        ),
        (
            "icd10cm/fy2026-order.fixture.txt",
            "2026/icd10cm_order_2026.txt",
        ),
        (
            "icd10cm/fy2026-main-index.fixture.xml",
            "2026/icd10cm_index_2026.xml",
        ),
    ])
}

fn reason(e: &Engine, code: &str, dos: &str) -> String {
    e.validate_one(code, Some(date(dos)), None)
        .expect("validate")
        .reason
}

#[test]
fn releases_live_side_by_side_and_the_date_of_service_picks_one() {
    let from = two_years();
    let data = tempfile::tempdir().expect("tempdir");
    let report = install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    let ids: Vec<&str> = report.installed.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"icd10cm-tabular-2024-10-01"), "{ids:?}");
    assert!(ids.contains(&"icd10cm-tabular-2025-10-01"), "{ids:?}");
    let e = Engine::open(data.path()).expect("open");
    // E11.A is new in FY2026, E11.8 deleted in FY2026.
    assert_eq!(reason(&e, "E11.A", "2025-03-01"), "not_yet_effective");
    assert_eq!(reason(&e, "E11.A", "2025-11-01"), "valid");
    assert_eq!(reason(&e, "E11.8", "2025-03-01"), "valid");
    assert_eq!(reason(&e, "E11.8", "2025-11-01"), "terminated");
    assert_eq!(reason(&e, "E11.9", "2024-09-30"), "no_release");
    assert_eq!(reason(&e, "E11.9", "2026-09-30"), "valid");
    let (choice, _) = e
        .tabular_for(Some(date("2025-03-01")))
        .expect("ok")
        .expect("release");
    assert_eq!(choice.id, "icd10cm-tabular-2024-10-01");
    assert_eq!(choice.effective_to, Some(date("2025-09-30")));
    assert!(choice.warning.is_none());
}

#[test]
fn the_order_file_decides_billable_status() {
    let from = two_years();
    let data = tempfile::tempdir().expect("tempdir");
    let report = install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    assert!(
        report
            .installed
            .iter()
            .any(|c| c.id == "icd10cm-order-2025-10-01"),
        "{:?}",
        report.installed
    );
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("no ICD-10-CM order file"))
    );
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.contains("agrees") && c.contains("5 billable codes")),
        "{:?}",
        report.checks
    );
    let e = Engine::open(data.path()).expect("open");
    let order = e.order_file("2026").expect("ok").expect("order file");
    assert_eq!(order.billable_count(), 5);
    assert_eq!(reason(&e, "E11.2", "2025-11-01"), "header");
    assert_eq!(reason(&e, "E11.22", "2025-11-01"), "valid");
}

#[test]
fn the_main_index_is_walked_like_a_coder_does() {
    let from = two_years();
    let data = tempfile::tempdir().expect("tempdir");
    install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    let e = Engine::open(data.path()).expect("open");
    let r = e
        .lookup(
            "diabetes, type 2, with, chronic kidney disease",
            None,
            Some(date("2025-11-01")),
        )
        .expect("lookup");
    assert_eq!(r.index, IndexKind::Main);
    assert_eq!(r.code.as_deref(), Some("E11.22"));
    let steps: Vec<&str> = r.path.iter().map(|s| s.term.as_str()).collect();
    assert_eq!(
        steps,
        vec![
            "Diabetes, diabetic (mellitus) (sugar)",
            "type 2",
            "with",
            "chronic kidney disease"
        ]
    );
    assert_eq!(r.validation.as_ref().map(|v| v.valid), Some(true));
    // Without the connecting "with": the walk finds it and marks it implied.
    let r = e
        .lookup("diabetes, type 2, nephropathy", None, None)
        .expect("lookup");
    assert_eq!(r.code.as_deref(), Some("E11.21"));
    assert!(r.path.iter().any(|s| s.implied && s.term == "with"));
    // A "see" reference is followed.
    let r = e
        .lookup("diabetes, adult-onset", None, None)
        .expect("lookup");
    assert_eq!(r.followed, vec!["Diabetes, type 2".to_string()]);
    assert_eq!(r.code.as_deref(), Some("E11.9"));
    // Stopping above a code lists the subterms.
    let r = e
        .lookup("diabetes, type 2, with", None, None)
        .expect("lookup");
    assert!(
        r.subterms.iter().any(|s| s == "chronic kidney disease"),
        "{:?}",
        r.subterms
    );
    // The main index also feeds search.
    let hits = e
        .search("insulin long-term use", &Default::default())
        .expect("search");
    assert_eq!(hits[0].code, "Z79.4");
}

#[test]
fn installing_the_same_files_again_changes_nothing() {
    let from = two_years();
    let data = tempfile::tempdir().expect("tempdir");
    let first = install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    let manifest = std::fs::read(data.path().join("manifest.json")).expect("manifest");
    let second = install(data.path(), &opts(from.path()), &NoProgress).expect("installs again");
    assert!(second.installed.is_empty(), "{:?}", second.installed);
    assert_eq!(second.unchanged.len(), first.installed.len());
    assert_eq!(
        std::fs::read(data.path().join("manifest.json")).expect("manifest"),
        manifest
    );
}

#[test]
fn a_failed_install_leaves_the_previous_release_usable() {
    let from = two_years();
    let data = tempfile::tempdir().expect("tempdir");
    install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    let manifest = std::fs::read(data.path().join("manifest.json")).expect("manifest");

    // A truncated tabular: the error names the file and the line.
    let bad = tempfile::tempdir().expect("tempdir");
    let text =
        std::fs::read_to_string(from.path().join("2026/icd10cm_tabular_2026.xml")).expect("read");
    std::fs::write(
        bad.path().join("icd10cm_tabular_2027.xml"),
        &text[..text.len() * 2 / 3],
    )
    .expect("write");
    let err =
        install(data.path(), &opts(bad.path()), &NoProgress).expect_err("truncated file must fail");
    let msg = err.to_string();
    assert!(msg.contains("icd10cm_tabular_2027.xml:"), "{msg}");
    assert!(matches!(err, Error::Parse { .. }), "{msg}");
    assert_eq!(
        std::fs::read(data.path().join("manifest.json")).expect("manifest"),
        manifest
    );
    let e = Engine::open(data.path()).expect("still opens");
    assert_eq!(reason(&e, "E11.22", "2025-11-01"), "valid");

    // A published checksum that does not match.
    let sums = fixture_dir(&[(
        "icd10cm/fy2026-tabular.fixture.xml",
        "icd10cm_tabular_2026.xml",
    )]);
    std::fs::write(
        sums.path().join("SHA256SUMS"),
        format!("{}  icd10cm_tabular_2026.xml\n", "0".repeat(64)),
    )
    .expect("write");
    let err =
        install(data.path(), &opts(sums.path()), &NoProgress).expect_err("checksum must fail");
    assert!(matches!(err, Error::Checksum { .. }), "{err}");
    assert!(
        err.to_string().contains("icd10cm_tabular_2026.xml"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(data.path().join("manifest.json")).expect("manifest"),
        manifest
    );

    // A damaged zip.
    let zipdir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        zipdir.path().join("icd10cm-2027.zip"),
        b"PK\x03\x04 this is not a zip",
    )
    .expect("write");
    let err =
        install(data.path(), &opts(zipdir.path()), &NoProgress).expect_err("bad zip must fail");
    assert!(err.to_string().contains("icd10cm-2027.zip"), "{err}");

    // A directory that does not exist.
    let err = install(data.path(), &opts(&data.path().join("nope")), &NoProgress)
        .expect_err("missing dir");
    assert!(err.to_string().contains("nope"), "{err}");
    assert_eq!(
        std::fs::read(data.path().join("manifest.json")).expect("manifest"),
        manifest
    );
}

#[test]
fn a_matching_published_checksum_is_recorded() {
    let dir = fixture_dir(&[(
        "icd10cm/fy2026-tabular.fixture.xml",
        "icd10cm_tabular_2026.xml",
    )]);
    let bytes = std::fs::read(dir.path().join("icd10cm_tabular_2026.xml")).expect("read");
    let sum = medledger_codesets::store::sha256_hex(&bytes);
    std::fs::write(
        dir.path().join("SHA256SUMS"),
        format!("{sum}  icd10cm_tabular_2026.xml\n"),
    )
    .expect("write");
    let data = tempfile::tempdir().expect("tempdir");
    let r = install(data.path(), &opts(dir.path()), &NoProgress).expect("installs");
    assert_eq!(r.checksums_verified, 1);
    assert!(r.installed[0].sources[0].checksum_verified);
    assert!(
        medledger_codesets::store::verify(data.path())
            .expect("verify")
            .iter()
            .all(|(_, ok)| *ok)
    );
}

#[test]
fn ncci_cpt_and_hcpcs_tables_answer_through_the_engine() {
    let from = fixture_dir(&[
        (
            "ncci/ptp-practitioner-part1.fixture.txt",
            "ncci/ccipra-v321r0-f1.txt",
        ),
        (
            "ncci/ptp-practitioner-part2.fixture.txt",
            "ncci/ccipra-v321r0-f2.txt",
        ),
        (
            "ncci/mue-practitioner.fixture.csv",
            "ncci/MCR_MUE_PractitionerServices_Eff_04-01-2026.csv",
        ),
        ("ncci/add-on-codes.fixture.txt", "ncci/AOC_V2026Q2-MCR.txt"),
        ("hcpcs/test-hcpcs-file.zip", "hcpcs/test-hcpcs-file.zip"),
    ]);
    let data = tempfile::tempdir().expect("tempdir");
    let cpt = common::fixtures().join("cpt/licensed-cpt-sample.txt");
    let report = install(
        data.path(),
        &InstallOptions {
            from: from.path().to_path_buf(),
            cpt: Some(cpt),
            force: false,
        },
        &NoProgress,
    )
    .expect("installs");
    let ids: Vec<&str> = report.installed.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"ncci-ptp-practitioner-v321r0"), "{ids:?}");
    assert!(ids.contains(&"cpt-user"), "{ids:?}");
    let e = Engine::open(data.path()).expect("open");

    // The two PTP files of one quarter are one table.
    let (_, ptp) = &e.ptp_tables().expect("ok")[0];
    assert_eq!(ptp.edits.len(), 4);
    let a = e.ptp("29880", "29881", date("2026-04-15")).expect("ptp");
    assert_eq!(a.edits.len(), 1, "found in either order");
    assert_eq!(a.edits[0].1.modifier_indicator, 0);
    let a = e.ptp("29881", "20610", date("2026-04-15")).expect("ptp");
    assert_eq!(
        a.edits[0].1.rationale,
        "Standards of medical / surgical practice"
    );
    assert!(
        e.ptp("99213", "99214", date("2026-04-15"))
            .expect("ptp")
            .edits
            .is_empty()
    );

    let mue = e.mue_tables().expect("ok");
    assert_eq!(mue[0].1.get("20610").map(|m| m.value), Some(2));
    let (_, aoc) = e.aoc_table().expect("ok").expect("aoc");
    assert!(aoc.is_addon("22552"));

    // CPT: numbers and the user's descriptors only from the user's file.
    let v = e.validate_one("99213", None, None).expect("validate");
    assert!(v.valid, "{v:?}");
    assert_eq!(
        v.title.as_deref(),
        Some("Synthetic test descriptor for an office visit")
    );
    assert_eq!(
        e.validate_one("99499", None, None)
            .expect("validate")
            .reason,
        "unknown"
    );

    // HCPCS per-code dates.
    assert_eq!(
        e.validate_one("G0552", Some(date("2026-02-01")), None)
            .expect("v")
            .reason,
        "valid"
    );
    assert_eq!(
        e.validate_one("G0552", Some(date("2024-02-01")), None)
            .expect("v")
            .reason,
        "not_yet_effective"
    );
    assert_eq!(
        e.validate_one("A9999", Some(date("2026-02-01")), None)
            .expect("v")
            .reason,
        "terminated"
    );
    assert_eq!(
        e.validate_one("A9999", Some(date("2019-02-01")), None)
            .expect("v")
            .reason,
        "valid"
    );
    let (_, h) = e.hcpcs_for(None).expect("ok").expect("hcpcs");
    assert_eq!(h.processing_note("0002"), Some("TEST NOTE ONE CONTINUED."));
}

#[test]
fn without_a_cpt_file_cpt_codes_are_not_validated() {
    let from = fixture_dir(&[(
        "icd10cm/fy2026-tabular.fixture.xml",
        "icd10cm_tabular_2026.xml",
    )]);
    let data = tempfile::tempdir().expect("tempdir");
    install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    let e = Engine::open(data.path()).expect("open");
    let v = e.validate_one("99213", None, None).expect("validate");
    assert!(!v.valid);
    assert_eq!(v.reason, "not_installed");
    assert!(v.message.contains("--cpt"), "{}", v.message);
}

#[test]
fn a_release_can_be_removed_and_the_rest_keeps_working() {
    let from = two_years();
    let data = tempfile::tempdir().expect("tempdir");
    install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    let removed = medledger_codesets::remove(
        data.path(),
        &["icd10cm-tabular-2024-10-01".to_string()],
        &NoProgress,
    )
    .expect("removes");
    assert_eq!(removed, vec!["icd10cm-tabular-2024-10-01".to_string()]);
    let e = Engine::open(data.path()).expect("open");
    assert_eq!(reason(&e, "E11.9", "2025-03-01"), "no_release");
    assert_eq!(reason(&e, "E11.9", "2025-11-01"), "valid");
    assert!(
        medledger_codesets::store::verify(data.path())
            .expect("verify")
            .iter()
            .all(|(_, ok)| *ok)
    );
    let err =
        medledger_codesets::remove(data.path(), &["nothing-like-this".to_string()], &NoProgress)
            .expect_err("unknown id");
    assert!(
        err.to_string().contains("icd10cm-tabular-2025-10-01"),
        "{err}"
    );
}

#[test]
fn where_order_file_and_tabular_disagree_the_order_file_decides() {
    let from = two_years();
    // Mark E11.2 (a header in the tabular) billable and E11.9 a header.
    let path = from.path().join("2026/icd10cm_order_2026.txt");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text
        .lines()
        .map(|l| {
            let mut l = l.to_string();
            if l[6..13].trim() == "E112" {
                l.replace_range(14..15, "1");
            } else if l[6..13].trim() == "E119" {
                l.replace_range(14..15, "0");
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    std::fs::write(&path, text).expect("write");
    let data = tempfile::tempdir().expect("tempdir");
    let report = install(data.path(), &opts(from.path()), &NoProgress).expect("installs");
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.contains("disagree") && c.contains("E119") && c.contains("E112")),
        "{:?}",
        report.checks
    );
    let e = Engine::open(data.path()).expect("open");
    let v = e
        .validate_one("E11.2", Some(date("2025-11-01")), None)
        .expect("validate");
    assert!(v.valid, "{v:?}");
    assert!(
        v.warnings.iter().any(|w| w.contains("header")),
        "{:?}",
        v.warnings
    );
    assert_eq!(reason(&e, "E11.9", "2025-11-01"), "header");
}
