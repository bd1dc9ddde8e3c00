//! Dual coding over the official files: every billable ICD-10-CM code of
//! the installed tabular whose WHO ICD-10 ancestor is in the WHO 10→11 map
//! translates. The release files are read from `$MEDLEDGER_SHARED/codesets`
//! (default `../../../shared` from this crate) and installed into a
//! temporary data directory.

use std::path::{Path, PathBuf};

use medledger_codesets::normalize::key;
use medledger_codesets::{Engine, InstallOptions, NoProgress, install};
use medledger_vbc::dual::{DualError, MatchLevel, dual_code};

fn codesets_dir() -> PathBuf {
    let shared = std::env::var("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let d = shared.join("codesets");
    assert!(
        d.join("README.md").exists(),
        "official release files not found at {}: set MEDLEDGER_SHARED to the shared data directory",
        d.display()
    );
    d
}

#[test]
fn every_covered_billable_code_translates() {
    let dir = tempfile::tempdir().expect("tempdir");
    install(
        dir.path(),
        &InstallOptions {
            from: codesets_dir(),
            cpt: None,
            force: false,
        },
        &NoProgress,
    )
    .expect("the official release files install");
    let engine = Engine::open(dir.path()).expect("opens");
    let (_, maps) = engine
        .who_maps()
        .expect("loads")
        .expect("WHO maps installed");
    let (choice, tab) = engine
        .tabular_for(None)
        .expect("loads")
        .expect("an ICD-10-CM tabular is installed");

    // Spot checks, read from the published tables.
    let d = dual_code(&engine, "E11.9").expect("E11.9 maps");
    assert_eq!(d.level, MatchLevel::Code);
    assert_eq!(
        d.primary.as_ref().and_then(|p| p.code.as_deref()),
        Some("5A11")
    );
    assert_eq!(
        d.primary.as_ref().and_then(|p| p.mms_title.as_deref()),
        Some("Type 2 diabetes mellitus")
    );
    let d = dual_code(&engine, "E11.65").expect("E11.65 maps");
    assert_eq!(
        (d.level, d.who_icd10.as_str()),
        (MatchLevel::FourCharacter, "E11.6")
    );
    let d = dual_code(&engine, "A07.8").expect("A07.8 maps");
    assert!(d.needs_choice);
    let codes: Vec<&str> = d.choices.iter().filter_map(|c| c.code.as_deref()).collect();
    assert_eq!(codes, ["1A35", "1A34", "1A36.0Z", "1A3Y&XN316"]);
    // WHO's cluster target validates against the installed release.
    let cluster = d.choices[3].cluster.as_ref().expect("a cluster target");
    assert!(cluster.is_ok(), "{cluster:?}");
    // E08 (diabetes due to an underlying condition) exists only in ICD-10-CM.
    let err = dual_code(&engine, "E08.9").expect_err("not in the WHO map");
    assert_eq!(
        err.to_string(),
        "E08.9: neither the code nor its 4- or 3-character WHO ICD-10 ancestor is in the WHO ICD-10 to ICD-11 map"
    );
    assert!(matches!(
        dual_code(&engine, "5A11"),
        Err(DualError::NotIcd10Cm { .. })
    ));

    let covered = |k: &str| {
        (3..=k.len()).rev().any(|n| {
            k.get(..n).is_some_and(|p| {
                !maps.to_icd11_one.find(p).is_empty() || !maps.to_icd11_multiple.find(p).is_empty()
            })
        })
    };
    let (mut translated, mut not_covered, mut with_choices) = (0usize, 0usize, 0usize);
    let mut levels = [0usize; 3];
    let billable = tab.billable_codes();
    for code in &billable {
        let k = key(code);
        if !covered(&k) {
            not_covered += 1;
            assert!(
                matches!(dual_code(&engine, &k), Err(DualError::NotCovered { .. })),
                "{k} is outside the map but translated"
            );
            continue;
        }
        let d = dual_code(&engine, &k).unwrap_or_else(|e| panic!("{k}: {e}"));
        assert!(
            d.primary.is_some() || !d.choices.is_empty(),
            "{k}: a map row but no target"
        );
        translated += 1;
        with_choices += usize::from(d.needs_choice);
        levels[match d.level {
            MatchLevel::Code => 0,
            MatchLevel::FourCharacter => 1,
            MatchLevel::ThreeCharacter => 2,
        }] += 1;
    }
    println!(
        "ICD-10-CM {}: {} billable codes; translated {translated} (exact {}, 4-character ancestor {}, 3-character ancestor {}; {with_choices} with choices); not covered by the WHO map {not_covered}",
        choice.id,
        billable.len(),
        levels[0],
        levels[1],
        levels[2]
    );
    assert_eq!(translated + not_covered, billable.len());
    assert!(billable.len() > 70_000, "{}", billable.len());
    assert!(
        translated > billable.len() / 2,
        "{translated} of {}",
        billable.len()
    );
}
