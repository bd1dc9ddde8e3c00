//! PLA lists, order matching and payer coverage flags.
//! The list fixture is written in the layout users supply (code, lab,
//! test_name); the lab and test names are public marketing names, not AMA
//! descriptors.

use std::path::Path;

use medledger_services::pla::{MatchedBy, PayerProfile, PlaList, PlaRisk, assess};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pla")
            .join(name),
    )
    .unwrap()
}

fn list() -> PlaList {
    PlaList::from_csv(fixture("pla_list.csv").as_bytes(), "pla_list.csv").unwrap()
}

#[track_caller]
fn csv_error(text: &str) -> String {
    PlaList::from_csv(text.as_bytes(), "list.csv")
        .unwrap_err()
        .to_string()
}

#[test]
fn reads_quoted_fields() {
    let l = list();
    assert_eq!(l.entries().len(), 5);
    assert_eq!(l.get("0037U").unwrap().lab, "Foundation Medicine, Inc.");
    assert_eq!(
        l.get("0045U").unwrap().test_name,
        "Oncotype DX Breast DCIS Score"
    );
}

#[test]
fn malformed_codes_are_rejected_with_their_line() {
    let err = csv_error("code,lab,test_name\n0001U,Lab A,Test A\n123U,Lab B,Test B\n");
    assert!(err.starts_with("list.csv: line 3:"), "{err}");
    assert!(err.contains("\"123U\""), "{err}");
    let err = csv_error("code,lab,test_name\n0001X,Lab A,Test A\n");
    assert!(
        err.starts_with("list.csv: line 2:") && err.contains("0001X"),
        "{err}"
    );
    let err = csv_error("code,lab,test_name\n0001u,Lab A,Test A\n");
    assert!(err.starts_with("list.csv: line 2:"), "{err}");
}

#[test]
fn line_numbers_count_multi_line_quoted_fields() {
    let err = csv_error("code,lab,test_name\n0001U,\"Lab\nA\",Test A\n12345,Lab B,Test B\n");
    assert!(err.starts_with("list.csv: line 4:"), "{err}");
}

#[test]
fn structural_errors_name_the_line() {
    let err = csv_error("code,lab,test_name\n0001U,Lab A\n");
    assert!(
        err.starts_with("list.csv: line 2:") && err.contains("expected 3 fields"),
        "{err}"
    );
    let err = csv_error("code,laboratory,name\n0001U,Lab A,Test A\n");
    assert!(
        err.starts_with("list.csv: line 1:") && err.contains("test_name"),
        "{err}"
    );
    let err = csv_error("code,lab,test_name\n0001U,,Test A\n");
    assert!(
        err.starts_with("list.csv: line 2:") && err.contains("lab"),
        "{err}"
    );
    let err = csv_error("code,lab,test_name\n0001U,Lab,---\n");
    assert!(err.contains("no words"), "{err}");
}

#[test]
fn codes_and_names_with_verbatim_code_point_evidence() {
    let l = list();
    let note = "Bestellung für Frau Müller — Tumorprobe: Guardant360 CDx; zusätzlich 0022U und myChoice cdx. Bitte auch 9999U.";
    let found = l.find_in_text(note);
    let chars: Vec<char> = note.chars().collect();
    for m in &found {
        let span: String = chars[m.evidence.start..m.evidence.end].iter().collect();
        assert_eq!(span, m.evidence.text);
    }
    let got: Vec<(&str, MatchedBy, &str)> = found
        .iter()
        .map(|m| (m.code.as_str(), m.matched_by, m.evidence.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("0242U", MatchedBy::Name, "Guardant360 CDx"),
            ("0022U", MatchedBy::Code, "0022U"),
            ("0172U", MatchedBy::Name, "myChoice cdx"),
            ("9999U", MatchedBy::Code, "9999U"),
        ]
    );
    // Offsets are code points: "ü" and "—" are one each.
    let guardant = &found[0].evidence;
    assert_eq!(
        guardant.start,
        note[..note.find("Guardant360").unwrap()].chars().count()
    );
    assert!(guardant.start < note.find("Guardant360").unwrap());
    assert_eq!(found[3].lab, None);
}

#[test]
fn names_match_across_punctuation_and_case() {
    let l = list();
    let found = l.find_in_text("ONCOTYPE-DX breast DCIS score ordered");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "0045U");
    assert_eq!(found[0].evidence.text, "ONCOTYPE-DX breast DCIS score");
    assert!(l.find_in_text("Oncotype DX Breast").is_empty());
}

#[test]
fn coverage_flags_under_deny_and_allow_policies() {
    let l = list();
    let order = "FoundationOne CDx, 0022U, myChoice CDx and 0999U";
    let found = l.find_in_text(order);
    let acme = PayerProfile::from_toml(&fixture("payer_acme.toml"), "payer_acme.toml").unwrap();
    let flags = assess(&found, &acme);
    let got: Vec<(&str, PlaRisk)> = flags.iter().map(|f| (f.code.as_str(), f.risk)).collect();
    assert_eq!(
        got,
        vec![
            ("0037U", PlaRisk::Covered),
            ("0022U", PlaRisk::ExperimentalInvestigational),
            ("0172U", PlaRisk::ExperimentalInvestigational),
            ("0999U", PlaRisk::UnknownPla),
        ]
    );
    assert!(flags[1].reason.contains("no coverage policy"));
    let open = PayerProfile::from_json(&fixture("payer_open.json"), "payer_open.json").unwrap();
    let got: Vec<(String, PlaRisk)> = assess(&found, &open)
        .into_iter()
        .map(|f| (f.code, f.risk))
        .collect();
    assert_eq!(
        got,
        vec![
            ("0037U".to_string(), PlaRisk::Covered),
            ("0022U".to_string(), PlaRisk::Covered),
            ("0172U".to_string(), PlaRisk::ExperimentalInvestigational),
            ("0999U".to_string(), PlaRisk::UnknownPla),
        ]
    );
}

#[test]
fn one_flag_per_code_when_found_by_code_and_name() {
    let l = list();
    let found = l.find_in_text("0037U (FoundationOne CDx)");
    assert_eq!(found.len(), 2);
    let acme = PayerProfile::from_toml(&fixture("payer_acme.toml"), "payer_acme.toml").unwrap();
    assert_eq!(assess(&found, &acme).len(), 1);
}
