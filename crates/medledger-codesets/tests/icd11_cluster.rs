//! ICD-11 cluster codes against the installed WHO MMS release (2024-01),
//! installed from `$MEDLEDGER_SHARED/codesets/icd11` as published.

mod common;

use std::sync::{Arc, OnceLock};

use medledger_codesets::icd11::Icd11Release;
use medledger_codesets::icd11_cluster::{ClusterError, parse, parse_and_validate};
use medledger_codesets::{Engine, InstallOptions, NoProgress, install};

struct Installed {
    _dir: tempfile::TempDir,
    release: Arc<Icd11Release>,
}

/// Only the WHO ICD-11 folder, installed once per test binary.
fn release() -> &'static Icd11Release {
    static CELL: OnceLock<Installed> = OnceLock::new();
    &CELL
        .get_or_init(|| {
            let from = common::codesets_dir().join("icd11");
            let dir = tempfile::tempdir().expect("tempdir");
            install(
                dir.path(),
                &InstallOptions {
                    from,
                    cpt: None,
                    force: false,
                },
                &NoProgress,
            )
            .expect("the WHO ICD-11 files install");
            let engine = Engine::open(dir.path()).expect("opens");
            let (_, release) = engine
                .icd11()
                .expect("loads")
                .expect("an ICD-11 MMS release is installed");
            Installed { _dir: dir, release }
        })
        .release
}

#[test]
fn published_examples_validate() {
    let r = release();
    assert_eq!(r.version, "2024-01");
    // AAPC's ICD-11 cluster example, "duodenal ulcer with acute
    // haemorrhage": DA63/ME24.90&XA9780 (quoted at
    // https://devry.edu/blog/new-coding-system-paints-better-patient-picture.html).
    let v = parse_and_validate("DA63/ME24.90&XA9780", r).expect("valid");
    assert_eq!(v.groups.len(), 2);
    assert_eq!(v.groups[0].stem.title, "Duodenal ulcer");
    assert_eq!(
        v.groups[1].stem.title,
        "Acute gastrointestinal bleeding, not elsewhere classified"
    );
    let duodenum = &v.groups[1].extensions[0];
    assert_eq!((duodenum.code.as_str(), duodenum.start), ("XA9780", 13));
    assert_eq!(
        duodenum.axis.as_ref().map(|a| a.axis.as_str()),
        Some("Anatomy and topography")
    );
    // DA63 has subcategories: a warning, not an error.
    assert_eq!(v.warnings.len(), 1);
    assert_eq!(v.warnings[0].code, "DA63");

    // The Reference Guide's pattern "stem & laterality" (section 1.2.4.5,
    // extension codes for laterality), on adenocarcinoma of the lung with
    // its histopathology: 2C25.0&XK8G&XH74S1.
    let v = parse_and_validate("2C25.0&XK8G&XH74S1", r).expect("valid");
    let axes: Vec<(&str, &str)> = v.groups[0]
        .extensions
        .iter()
        .filter_map(|x| x.axis.as_ref())
        .map(|a| (a.axis.as_str(), a.group.as_str()))
        .collect();
    assert_eq!(
        axes,
        [
            ("Topology Scale Value", "Laterality"),
            ("Histopathology", "Adenocarcinomas, malignant")
        ]
    );
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);

    // Severity and course on COPD (chapter X "Severity Scale Value" and
    // "Temporality"), as in the Reference Guide's severity examples.
    let v = parse_and_validate("CA22.0&XS25&XT8W", r).expect("valid");
    let axes: Vec<String> = v.groups[0]
        .extensions
        .iter()
        .filter_map(|x| x.axis.clone())
        .map(|a| format!("{} / {}", a.axis, a.group))
        .collect();
    assert_eq!(
        axes,
        [
            "Severity Scale Value / Mild Moderate Severe Scale Value",
            "Temporality / Acute-Subacute-Chronic Scale Value"
        ]
    );
    // Two clusters published with their ICD-10-CM equivalents at
    // https://uasisolutions.com/icd-11-post-coordinated-code-clusters/:
    // osteoarthritis of the right knee (FA01.Z & XK9K, M17.11) and diabetic
    // ketoacidosis in type 1 diabetes (5A22.0/5A10, E10.10).
    let v = parse_and_validate("FA01.Z&XK9K", r).expect("valid");
    assert_eq!(v.groups.len(), 1);
    assert_eq!(v.groups[0].extensions[0].code, "XK9K");
    assert_eq!(
        v.groups[0].extensions[0]
            .axis
            .as_ref()
            .map(|a| a.group.as_str()),
        Some("Laterality")
    );
    let v = parse_and_validate("5A22.0/5A10", r).expect("valid");
    assert_eq!(v.groups.len(), 2);
    assert!(v.groups.iter().all(|g| g.extensions.is_empty()));
    // A stem alone is a cluster of one.
    assert!(
        parse_and_validate("1A00", r)
            .expect("valid")
            .warnings
            .is_empty()
    );
}

#[test]
fn residual_stems_with_extensions_warn() {
    let v = parse_and_validate("2C25.Z&XK8G", release()).expect("valid");
    assert_eq!(v.warnings.len(), 1);
    assert_eq!(
        v.warnings[0].message,
        "2C25.Z is an unspecified residual category carrying extension codes: check whether a more specific stem exists"
    );
}

#[test]
fn malformed_clusters_have_exact_errors() {
    let r = release();
    let cases: &[(&str, &str)] = &[
        (
            "XS8H",
            "\"XS8H\" at byte 0 is an extension code and cannot start a cluster",
        ),
        (
            "XK8G&2C25.0",
            "\"XK8G\" at byte 0 is an extension code and cannot start a cluster",
        ),
        (
            "2C25.0/XS8H",
            "\"XS8H\" at byte 7 is an extension code: attach it with '&', not '/' (a '/' links stem codes)",
        ),
        (
            "DA63&ME24.90",
            "\"ME24.90\" at byte 5 is a stem code: link it with '/', not '&' (an '&' attaches extension codes)",
        ),
        ("2C25.0&&XK8G", "'&' at byte 6 has no code after it"),
        ("DA63//ME24.90", "'/' at byte 4 has no code after it"),
        ("2C25.0&XK8G&", "'&' at byte 11 has no code after it"),
        ("&XK8G", "'&' at byte 0 has no code before it"),
        ("", "empty cluster: no codes"),
        (
            "2C25.0 & XK8G",
            "' ' at byte 6 is not allowed in a cluster (codes, '/' and '&' only)",
        ),
        (
            "2C25.0&XK8G&XK8G",
            "\"XK8G\" at byte 12 repeats the code at byte 7",
        ),
        (
            "2C25.0&XK8G&XK9K",
            "\"XK9K\" at byte 12 and \"XK8G\" on the same stem are both values of the scale \"Laterality\"",
        ),
        (
            "CA22.0&XS5W&XS25",
            "\"XS25\" at byte 12 and \"XS5W\" on the same stem are both values of the scale \"Mild Moderate Severe Scale Value\"",
        ),
        (
            "2C25.9&XK8G",
            "\"2C25.9\" at byte 0 is not an ICD-11 MMS 2024-01 code",
        ),
        (
            "DA63/XQ99Q9",
            "\"XQ99Q9\" at byte 5 is an extension code: attach it with '&', not '/' (a '/' links stem codes)",
        ),
        (
            "1A00&XZ9Z9Z",
            "\"XZ9Z9Z\" at byte 5 is not an ICD-11 MMS 2024-01 code",
        ),
        (
            "E11.9",
            "\"E11.9\" at byte 0 is not an ICD-11 code (a stem code has 4 characters before the dot)",
        ),
        (
            "2C25.012",
            "\"2C25.012\" at byte 0 is not an ICD-11 code (one or two characters follow the dot)",
        ),
    ];
    for (input, want) in cases {
        let got = parse_and_validate(input, r).expect_err(input);
        assert_eq!(got.to_string(), *want, "{input}");
    }
    // The error is typed and carries the offset.
    assert_eq!(
        parse("2C25.0/XS8H"),
        Err(ClusterError::ExtensionAfterSlash {
            part: "XS8H".into(),
            offset: 7
        })
    );
}

proptest::proptest! {
    #[test]
    fn validate_never_panics(s in "[0-9A-Z.&/]{0,30}") {
        let _ = parse_and_validate(&s, release());
    }

    #[test]
    fn parse_render_round_trip(
        groups in proptest::collection::vec(
            ("[0-9][A-Z][0-9][0-9A-Z](\\.[0-9A-Z]{1,2})?", proptest::collection::vec("X[A-Z0-9]{3,6}", 0..3)),
            1..4,
        )
    ) {
        let text = groups
            .iter()
            .map(|(s, xs)| std::iter::once(s.clone()).chain(xs.iter().cloned()).collect::<Vec<_>>().join("&"))
            .collect::<Vec<_>>()
            .join("/");
        match parse(&text) {
            Ok(ast) => {
                proptest::prop_assert_eq!(ast.render(), text.clone());
                proptest::prop_assert_eq!(parse(&ast.render()), Ok(ast));
            }
            // Random codes may repeat.
            Err(e) => proptest::prop_assert!(matches!(e, ClusterError::Duplicate { .. }), "{e}"),
        }
    }
}
