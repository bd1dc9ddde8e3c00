//! Integration tests over the official release files in ../shared/codesets:
//! everything installs, every code and term is present, and the queries
//! give the answers a certified coder would.

mod common;

use common::{codesets_dir, engine, installed};
use medledger_codesets::Date;
use medledger_codesets::System;
use medledger_codesets::icd10cm::index::IndexKind;
use medledger_codesets::icd10cm::tabular::{NoteKind, Tabular, parse_tabular};
use medledger_codesets::search::SearchOptions;
use medledger_codesets::store::ComponentKind;

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

fn tabular() -> Tabular {
    let path = codesets_dir().join("icd10cm/icd10c-tabular-April-1-2026.xml");
    parse_tabular(&std::fs::read(&path).expect("read"), "tabular").expect("parses")
}

/// Billable codes of the FY2026 April 1 release: every leaf code, with each
/// leaf under a 7th-character rule counted once per 7th character. The
/// order file is not in ../shared (GAPS.md); this is the count the CDC
/// tabular defines, and the DRG cross-check below ties it to CMS's own list.
const FY2026_APRIL_BILLABLE: usize = 74_795;

#[test]
fn installs_every_official_release_present() {
    let r = &installed().report;
    let ids: Vec<&str> = r.installed.iter().map(|c| c.id.as_str()).collect();
    for want in [
        "icd10cm-tabular-2026-04-01",
        "icd10cm-index-drug-2024-10-01",
        "icd10cm-index-neoplasm-2024-10-01",
        "icd10cm-index-external-cause-2024-10-01",
        "hcpcs-2026-01-01",
        "icd11-mms-2024-01",
        "who-maps-2024-01",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    assert!(ids.iter().any(|i| i.starts_with("ncci-aoc-")), "{ids:?}");
    assert!(
        r.checksums_verified >= 8,
        "published checksums were checked: {}",
        r.checksums_verified
    );
    // Every ICD-10-CM node, HCPCS code and modifier, and coded ICD-11 entity is searchable.
    let e = engine();
    let (_, tab) = e.tabular_for(None).expect("ok").expect("tabular");
    let (_, h) = e.hcpcs_for(None).expect("ok").expect("hcpcs");
    let (_, i11) = e.icd11().expect("ok").expect("icd11");
    let coded = i11.entities.iter().filter(|x| x.code.is_some()).count();
    assert_eq!(
        r.search_documents as usize,
        tab.nodes.len() + h.codes.len() + h.modifiers.len() + coded
    );
    // What is not a code-set release of this issue is reported, not silently eaten.
    assert!(
        r.skipped.iter().any(|(f, _)| f.starts_with("hcc/")),
        "{:?}",
        r.skipped
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("order file")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn billable_count_matches_fy2026_and_every_code_resolves() {
    let t = tabular();
    let billable = t.billable_codes();
    assert_eq!(billable.len(), FY2026_APRIL_BILLABLE);
    let e = engine();
    let m = e
        .manifest()
        .of_kind(ComponentKind::Icd10cmTabular)
        .next()
        .expect("tabular")
        .clone();
    assert_eq!(m.items as usize, FY2026_APRIL_BILLABLE);
    let (_, installed) = e
        .tabular_for(Some(date("2026-05-01")))
        .expect("ok")
        .expect("release");
    for code in &billable {
        assert!(
            matches!(
                installed.resolve(code),
                medledger_codesets::icd10cm::tabular::Resolution::Billable { .. }
            ),
            "{code} should be billable"
        );
    }
    // Every <diag> of the XML is a node of the installed tabular.
    let xml =
        std::fs::read_to_string(codesets_dir().join("icd10cm/icd10c-tabular-April-1-2026.xml"))
            .expect("read");
    // (246 of them are `<diag placeholder="true">` subcategories such as H21.1X.)
    assert_eq!(
        installed.nodes.len(),
        xml.matches("<diag>").count() + xml.matches("<diag ").count()
    );
}

#[test]
fn every_cms_drg_diagnosis_code_is_billable() {
    // MS-DRG v43.1 (effective 2026-04-01), compiled from CMS's Definitions
    // Manual by drgpy: an independent list of diagnosis codes.
    let path = codesets_dir().join("msdrg/drgpy-0.2.1-runtime/v43.1.json.xz");
    let mut json = Vec::new();
    lzma_rs::xz_decompress(
        &mut std::io::BufReader::new(std::fs::File::open(&path).expect("open")),
        &mut json,
    )
    .expect("xz");
    let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
    let dx = v["dxmap"].as_object().expect("dxmap");
    assert!(dx.len() > 60_000);
    let t = tabular();
    let billable: std::collections::HashSet<String> = t.billable_codes().into_iter().collect();
    let missing: Vec<&String> = dx.keys().filter(|k| !billable.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "DRG codes not billable here: {:?}",
        &missing[..missing.len().min(10)]
    );
}

#[test]
fn every_index_and_table_term_is_present() {
    let e = engine();
    for (kind, file) in [
        (
            IndexKind::Drug,
            "icd10cm/fy2025-tables/icd-10-cm-drug-2025.xml",
        ),
        (
            IndexKind::Neoplasm,
            "icd10cm/fy2025-tables/icd-10-cm-neoplasm-2025.xml",
        ),
        (
            IndexKind::ExternalCause,
            "icd10cm/fy2025-tables/icd-10-cm-eindex-2025.xml",
        ),
    ] {
        let xml = std::fs::read_to_string(codesets_dir().join(file)).expect("read");
        let expected = xml.matches("<mainTerm>").count() + xml.matches("<term level=").count();
        let (_, tree) = e.index_for(kind, None).expect("ok").expect("installed");
        assert_eq!(tree.terms.len(), expected, "{file}");
        assert_eq!(tree.version, "2025");
    }
}

#[test]
fn hcpcs_codes_and_modifiers_are_all_present() {
    let e = engine();
    let (_, h) = e.hcpcs_for(None).expect("ok").expect("hcpcs");
    assert_eq!(h.codes.len(), 8_623);
    assert_eq!(h.modifiers.len(), 383);
    for code in ["G0552", "G0553", "G0554", "A4253", "E0100"] {
        assert!(h.get(code).is_some(), "{code}");
    }
}

#[test]
fn show_gives_the_whole_picture() {
    let d = engine().show("e11.22", None, None).expect("E11.22");
    assert_eq!(d.code, "E11.22");
    assert_eq!(d.system, System::Icd10Cm);
    assert!(d.billable);
    assert_eq!(
        d.title,
        "Type 2 diabetes mellitus with diabetic chronic kidney disease"
    );
    let parents: Vec<&str> = d.parents.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(parents, vec!["Chapter 4", "E08-E13", "E11", "E11.2"]);
    // Notes on the code itself and inherited from the category and chapter.
    assert!(
        d.notes
            .iter()
            .any(|n| n.kind == NoteKind::UseAdditionalCode && n.from == "E11.22"),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.kind == NoteKind::UseAdditionalCode && n.from == "E11"),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.kind == NoteKind::Excludes1 && n.from.starts_with("E11")),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes.iter().any(|n| n.from == "chapter 4"),
        "{:?}",
        d.notes
    );
    let map = d.icd11.expect("ICD-11 map");
    assert_eq!(map.via.as_deref(), Some("E11.2"));

    let s = engine().show("S52.521A", None, None).expect("S52.521A");
    assert!(s.billable);
    assert_eq!(
        s.title,
        "Torus fracture of lower end of right radius, initial encounter for closed fracture"
    );
    assert_eq!(s.seventh_from.as_deref(), Some("S52.52"));
    assert!(s.seventh_characters.iter().any(|c| c.character == 'S'));

    let header = engine().show("E11", None, None).expect("E11");
    assert!(!header.billable);
    assert!(header.children.iter().any(|c| c.code == "E11.9"));

    let g = engine().show("G0552", None, None).expect("G0552");
    assert_eq!(g.system, System::Hcpcs);
    assert!(
        g.title
            .to_lowercase()
            .contains("digital mental health treatment device"),
        "{}",
        g.title
    );
}

#[test]
fn validate_says_exactly_why() {
    let e = engine();
    let codes: Vec<String> = [
        "E11.9", "S52.521", "Z79.4", "E11", "S52.521Z", "T36.01A", "S02.0A", "E11.99", "XYZ",
        "G0552",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let v = e
        .validate(&codes, Some(date("2026-03-02")), None)
        .expect("validate");
    let reasons: Vec<(&str, bool, &str)> = v
        .iter()
        .map(|r| (r.code.as_str(), r.valid, r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("E11.9", true, "valid"),
            ("S52.521", false, "missing_7th_character"),
            ("Z79.4", true, "valid"),
            ("E11", false, "header"),
            ("S52.521Z", false, "invalid_7th_character"),
            ("T36.01A", false, "missing_placeholder"),
            ("S02.0A", false, "missing_placeholder"),
            ("E11.99", false, "unknown"),
            ("XYZ", false, "malformed"),
            ("G0552", true, "valid"),
        ]
    );
    assert_eq!(v[1].completions[0], "S52.521A");
    assert_eq!(v[1].completions_total, 6);
    assert_eq!(v[5].completions, vec!["T36.0X1A"]);
    assert_eq!(v[6].completions, vec!["S02.0XXA"]);
    assert!(v[3].completions_total > 50, "E11 has many codes");
    // A March date is FY2026 but before the April update that is installed.
    assert!(
        v[0].warnings.iter().any(|w| w.contains("FY2026")),
        "{:?}",
        v[0].warnings
    );

    // After the fiscal year: no installed release applies.
    let later = e
        .validate(&["E11.9".into()], Some(date("2026-10-15")), None)
        .expect("validate");
    assert!(!later[0].valid);
    assert_eq!(later[0].reason, "no_release");
    // HCPCS codes have their own dates: G0552 was added 2025-01-01.
    let early = e
        .validate(&["G0552".into()], Some(date("2024-06-01")), None)
        .expect("validate");
    assert_eq!(early[0].reason, "not_yet_effective");
}

#[test]
fn search_ranks_what_a_coder_means() {
    let e = engine();
    let top = |q: &str, systems: Vec<System>| -> Vec<String> {
        e.search(
            q,
            &SearchOptions {
                systems,
                limit: 5,
                billable_only: false,
            },
        )
        .expect("search")
        .into_iter()
        .map(|h| h.code)
        .collect()
    };
    let icd = || vec![System::Icd10Cm];
    assert_eq!(
        top("type 2 diabetes with kidney disease", icd())[0],
        "E11.22"
    );
    assert_eq!(top("kidney disease type 2 diabetes", icd())[0], "E11.22");
    assert_eq!(top("HTN", icd())[0], "I10");
    assert!(
        top("CKD stage 3", icd())
            .iter()
            .any(|c| c.starts_with("N18.3")),
        "{:?}",
        top("CKD stage 3", icd())
    );
    assert!(
        top("COPD with exacerbation", icd()).contains(&"J44.1".to_string()),
        "{:?}",
        top("COPD with exacerbation", icd())
    );
    assert!(
        top("T2DM", icd()).iter().all(|c| c.starts_with("E11")),
        "{:?}",
        top("T2DM", icd())
    );
    assert!(
        top("diabtes melitus type 2", icd())
            .iter()
            .any(|c| c.starts_with("E11")),
        "typo tolerant"
    );
    assert!(
        top("CHF", icd()).iter().any(|c| c.starts_with("I50")),
        "{:?}",
        top("CHF", icd())
    );
    let dmht = top(
        "digital mental health treatment device",
        vec![System::Hcpcs],
    );
    assert!(dmht.contains(&"G0552".to_string()), "{dmht:?}");
    let icd11 = top("type 2 diabetes mellitus", vec![System::Icd11]);
    assert!(icd11.contains(&"5A11".to_string()), "{icd11:?}");
    // Across systems, a code typed as such comes first.
    assert_eq!(top("G0552", vec![])[0], "G0552");
}

#[test]
fn index_and_table_walks_reach_codes() {
    let e = engine();
    let r = e
        .lookup("neoplasm, lung, malignant primary", None, None)
        .expect("lookup");
    assert_eq!(r.index, IndexKind::Neoplasm);
    assert_eq!(r.code.as_deref(), Some("C34.9-"));
    assert_eq!(
        r.validation.as_ref().map(|v| v.reason.as_str()),
        Some("header"),
        "C34.9 needs more characters"
    );
    let r = e
        .lookup("acetaminophen, adverse effect", Some(IndexKind::Drug), None)
        .expect("lookup");
    assert_eq!(r.code.as_deref(), Some("T39.1X5"));
    assert_eq!(
        r.validation.as_ref().map(|v| v.reason.as_str()),
        Some("missing_7th_character")
    );
    let r = e
        .lookup(
            "accident, boat, striking swimmer, powered",
            Some(IndexKind::ExternalCause),
            None,
        )
        .expect("lookup");
    assert_eq!(r.code.as_deref(), Some("V94.11"));
    let steps: Vec<&str> = r.path.iter().map(|s| s.term.as_str()).collect();
    assert_eq!(steps[0], "Accident (to)");
    // Without the main Alphabetic Index (not in ../shared yet) the error says so.
    let err = e
        .lookup("diabetes, type 2, with, chronic kidney disease", None, None)
        .expect_err("no main index")
        .to_string();
    assert!(err.contains("main Alphabetic Index"), "{err}");
    // "see" references are followed.
    let r = e
        .lookup("accident, car", Some(IndexKind::ExternalCause), None)
        .expect("lookup");
    assert_eq!(
        r.followed,
        vec!["Accident, transport, car occupant".to_string()]
    );
}

#[test]
fn maps_between_icd10_and_icd11() {
    let e = engine();
    let m = e.map("E11.9", System::Icd11).expect("map");
    assert_eq!(
        m.primary.as_ref().and_then(|p| p.code.as_deref()),
        Some("5A11")
    );
    assert!(m.via.is_none());
    assert!(m.attribution.contains("World Health Organization"));
    // One-to-many: WHO lists 33 ICD-11 targets for Q92.2; all are offered, none is picked.
    let many = e.map("Q92.2", System::Icd11).expect("map");
    assert_eq!(many.choices.len(), 33);
    assert!(
        many.choices
            .iter()
            .all(|c| c.code.as_deref().is_some_and(|x| x.starts_with("LD41")))
    );
    assert!(many.note.contains("the auditor chooses"), "{}", many.note);
    // An ICD-10-CM code deeper than WHO ICD-10 is mapped at its WHO ancestor, and says so.
    let cm = e.map("E11.22", System::Icd11).expect("map");
    assert_eq!(cm.via.as_deref(), Some("E11.2"));
    assert!(
        cm.equivalence
            .as_deref()
            .is_some_and(|q| q.contains("broader"))
    );
    let back = e.map("5A11", System::Icd10Cm).expect("back");
    assert!(
        back.primary
            .as_ref()
            .and_then(|p| p.code.as_deref())
            .is_some_and(|c| c.starts_with("E11")),
        "{back:?}"
    );
}

#[test]
fn ncci_add_on_codes_are_queryable() {
    let e = engine();
    let (_, aoc) = e.aoc_table().expect("ok").expect("aoc installed");
    assert_eq!(aoc.edits.len(), 9_000);
    let addon = aoc.edits[0].addon_code.clone();
    assert!(aoc.is_addon(&addon));
}
