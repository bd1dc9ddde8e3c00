//! Payer profiles (parsing, validation with file and line, look-up) and the
//! scrubber over in-memory tables (no installed engine): tables parsed from
//! the CMS-layout fixtures, add-on edit types, and the edits that need no
//! code tables at all.

#[path = "fixtures/scrub/common.rs"]
mod common;

use medledger_claims::model::{Claim, ClaimKind, Payer};
use medledger_claims::payer::{
    CodeSpec, Modifier95, PayerError, PayerProfile, PayerProfiles, TelehealthConvention,
};
use medledger_claims::scrub::{EDITS, HistoryLine, ScrubContext, ScrubTables, Severity, scrub};
use medledger_codesets::ncci::{AocEdit, AocTable, parse_mue, parse_ptp};
use serde_json::json;

const MINIMAL: &str = r#"
[header]
name = "test-payer"
version = "1"
sources = ["test"]

[payer]
label = "Test"
ids = ["T1"]
"#;

fn err(text: &str) -> String {
    PayerProfile::from_toml(text, "p.toml")
        .expect_err("must fail")
        .to_string()
}

#[test]
fn builtin_profiles_load_and_match_payers() {
    let set = PayerProfiles::builtin().expect("built-in profiles validate");
    assert!(set.len() >= 3);
    for p in set.iter() {
        assert!(
            !p.header.name.is_empty()
                && !p.header.version.is_empty()
                && !p.header.sources.is_empty(),
            "{}",
            p.file
        );
        assert!(p.timely_filing_days.is_some(), "{}", p.file);
    }
    let payer = |id: &str, fi: &str| Payer {
        id: id.into(),
        name: "x".into(),
        filing_indicator: fi.into(),
    };
    assert_eq!(
        set.for_payer(&payer("acme01", "ZZ"))
            .map(|p| p.header.name.as_str()),
        Some("acme-commercial")
    );
    assert_eq!(
        set.for_payer(&payer("UNKNOWN", "MB"))
            .map(|p| p.header.name.as_str()),
        Some("medicare-b")
    );
    assert_eq!(
        set.for_payer(&payer("UNKNOWN", "MC"))
            .map(|p| p.header.name.as_str()),
        Some("sunrise-medicaid")
    );
    assert!(set.for_payer(&payer("UNKNOWN", "ZZ")).is_none());
    let acme = set.get("acme-commercial").expect("acme");
    assert_eq!(acme.timely_filing_days, Some(90));
    assert_eq!(acme.telehealth.modifier_95, Modifier95::Required);
    let d = common::date("2026-05-01");
    assert!(
        acme.prior_auth_for(ClaimKind::Professional, "72148", d)
            .is_some()
    );
    assert!(
        acme.prior_auth_for(ClaimKind::Professional, "72131", d)
            .is_none(),
        "CT is not on the MRI list"
    );
    assert!(acme.gold_carded("1910000029", "72148", d));
    assert!(
        !acme.gold_carded("1910000029", "95810", d),
        "the gold card lists its codes"
    );
    assert!(
        !acme.gold_carded("1910000029", "72148", common::date("2027-01-01")),
        "expired"
    );
    let mcr = set.get("medicare-b").expect("medicare");
    assert_eq!(mcr.telehealth.convention, TelehealthConvention::Medicare);
    assert!(
        mcr.prior_auth_for(ClaimKind::Institutional, "64490", d)
            .is_some()
    );
    assert!(
        mcr.prior_auth_for(ClaimKind::Professional, "64490", d)
            .is_none(),
        "OPD prior authorisation is for institutional claims"
    );
    assert!(
        mcr.prior_auth_for(
            ClaimKind::Institutional,
            "64490",
            common::date("2023-06-30")
        )
        .is_none(),
        "facet list from 2023-07-01"
    );
    let nw = set.get("northwind-advantage").expect("northwind");
    assert!(
        nw.gold_carded("1910000011", "97161", d),
        "a gold card without codes covers every listed code"
    );
}

#[test]
fn profile_errors_name_file_and_line() {
    assert!(PayerProfile::from_toml(MINIMAL, "p.toml").is_ok());
    let e = err(&format!(
        "{MINIMAL}\n[claims]\ntimely_filing_days = 90\nbogus = 1\n"
    ));
    assert!(e.starts_with("p.toml:13:") && e.contains("bogus"), "{e}");
    let e = err(&format!(
        "{MINIMAL}\n[[prior_auth]]\nlabel = \"x\"\ncodes = [\"72148\", \"7214\"]\nsource = \"s\"\n"
    ));
    assert!(e.starts_with("p.toml:13:") && e.contains("\"7214\""), "{e}");
    let e = err(&format!(
        "{MINIMAL}\n[[prior_auth]]\nlabel = \"x\"\ncodes = [\"72158-72141\"]\nsource = \"s\"\n"
    ));
    assert!(
        e.starts_with("p.toml:13:") && e.contains("after its last"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[prior_auth]]\nlabel = \"x\"\ncodes = []\nsource = \"s\"\n"
    ));
    assert!(e.starts_with("p.toml:13:") && e.contains("no codes"), "{e}");
    let e = err(&format!(
        "{MINIMAL}\n[[gold_card]]\nnpi = \"1234567890\"\nsource = \"s\"\n"
    ));
    assert!(
        e.starts_with("p.toml:12:") && e.contains("not a valid NPI"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[gold_card]]\nnpi = \"1234567893\"\neffective_from = \"2026-02-30\"\nsource = \"s\"\n"
    ));
    assert!(
        e.starts_with("p.toml:13:") && e.contains("not a date"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[gold_card]]\nnpi = \"1234567893\"\neffective_from = \"2026-02-01\"\neffective_to = \"2026-01-01\"\nsource = \"s\"\n"
    ));
    assert!(
        e.starts_with("p.toml:14:") && e.contains("before effective_from"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL}\n[claims]\ntimely_filing_days = 0\n"));
    assert!(e.starts_with("p.toml:12:"), "{e}");
    let e = err(&format!(
        "{MINIMAL}\n[claims]\naccepted_frequencies = [\"1\", \"9\"]\n"
    ));
    assert!(e.starts_with("p.toml:12:") && e.contains("9"), "{e}");
    let e = err(&format!(
        "{MINIMAL}\n[telehealth]\nconvention = \"medicare\"\nmodifier_95 = \"sometimes\"\n"
    ));
    assert!(
        e.starts_with("p.toml:13:") && e.contains("sometimes"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[bundle]]\ncolumn1 = \"99213\"\ncolumn2 = \"36415\"\nbypass_modifiers = [\"5\"]\nsource = \"s\"\n"
    ));
    assert!(
        e.starts_with("p.toml:14:") && e.contains("two-character modifier"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[frequency_limit]]\ncode = \"G0439\"\nmax_units = 0\nper_days = 365\nlabel = \"l\"\nsource = \"s\"\n"
    ));
    assert!(
        e.starts_with("p.toml:13:") && e.contains("max_units"),
        "{e}"
    );
    let e = err(&MINIMAL.replace("name = \"test-payer\"", "name = \"Test Payer\""));
    assert!(
        e.starts_with("p.toml:3:") && e.contains("lower-case"),
        "{e}"
    );
    let e = err(&MINIMAL.replace("[payer]\nlabel = \"Test\"\nids = [\"T1\"]\n", ""));
    assert!(e.starts_with("p.toml:") && e.contains("payer"), "{e}");
    let e = err(&MINIMAL.replace("ids = [\"T1\"]", ""));
    assert!(
        e.starts_with("p.toml:8:") && e.contains("ids or filing_indicators"),
        "{e}"
    );
}

#[test]
fn profiles_from_a_directory_and_conflicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.toml"), MINIMAL).expect("write");
    std::fs::write(
        dir.path().join("b.toml"),
        MINIMAL
            .replace("test-payer", "other-payer")
            .replace("\"T1\"", "\"T2\""),
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a profile").expect("write");
    let set = PayerProfiles::load_dir(dir.path()).expect("loads");
    assert_eq!(set.len(), 2);
    assert!(set.get("other-payer").is_some());
    std::fs::write(
        dir.path().join("c.toml"),
        MINIMAL.replace("test-payer", "third"),
    )
    .expect("write");
    let e = PayerProfiles::load_dir(dir.path()).expect_err("duplicate id");
    assert!(matches!(e, PayerError::Conflict { .. }), "{e}");
    assert!(e.to_string().contains("\"T1\""), "{e}");
    std::fs::write(dir.path().join("c.toml"), "[header]\nname = 1\n").expect("write");
    let e = PayerProfiles::load_dir(dir.path())
        .expect_err("bad file")
        .to_string();
    assert!(e.contains("c.toml:2:"), "{e}");
}

#[test]
fn code_specs() {
    let r = CodeSpec::parse("70551-70553").expect("range");
    assert!(
        r.contains("70552") && r.contains("70551") && r.contains("70553") && !r.contains("70554")
    );
    assert!(
        CodeSpec::parse("g0552-g0554")
            .expect("hcpcs")
            .contains("G0553")
    );
    assert!(
        !CodeSpec::parse("G0552-G0554")
            .expect("hcpcs")
            .contains("G0555")
    );
    assert!(CodeSpec::parse("0001U").expect("pla").contains("0001U"));
    assert!(CodeSpec::parse("7055").is_err());
    assert!(CodeSpec::parse("70553-70551").is_err());
}

fn base() -> serde_json::Value {
    json!({
        "id": "T-1", "kind": "professional", "frequency": "1",
        "billing_provider": {"npi": "1900000013", "last_or_org_name": "Riverbend", "tax_id": "461234567",
            "address": {"lines": ["1 Main"], "city": "Springfield", "state": "IL", "zip": "627011234"}},
        "payer": {"id": "ACME01", "name": "ACME", "filing_indicator": "CI"},
        "responsibility": "primary",
        "subscriber": {"member_id": "M1234567", "person": {"last_name": "X", "first_name": "Y", "dob": "1970-01-01", "sex": "F",
            "address": {"lines": ["2 Oak"], "city": "Springfield", "state": "IL", "zip": "62701"}}, "relationship": "18"},
        "place_of_service": "11",
        "diagnoses": [{"code": "E119"}],
        "lines": [{"procedure": "99213", "units": 1, "charge_cents": 100, "date_from": "2026-05-12", "diagnosis_pointers": [1]}]
    })
}

fn claim_with_lines(lines: serde_json::Value) -> Claim {
    let mut v = base();
    v["lines"] = lines;
    common::claim_from_value(&v)
}

fn line(code: &str, mods: &[&str]) -> serde_json::Value {
    json!({"procedure": code, "modifiers": mods, "units": 1, "charge_cents": 100, "date_from": "2026-05-12", "diagnosis_pointers": [1]})
}

fn ids(claim: &Claim, ctx: &ScrubContext) -> Vec<(&'static str, Severity, String)> {
    scrub(claim, ctx)
        .findings
        .into_iter()
        .map(|f| (f.edit_id, f.severity, f.location))
        .collect()
}

#[test]
fn in_memory_tables_from_cms_layout_files() {
    let fx = common::fixtures().join("ncci");
    let ptp = parse_ptp(
        &std::fs::read(fx.join("ptp-practitioner.fixture.tsv")).expect("read"),
        "ccipra-v322r0-f1.txt",
    )
    .expect("parses");
    let mue = parse_mue(
        &std::fs::read(fx.join("mue-practitioner.fixture.csv")).expect("read"),
        "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv",
    )
    .expect("parses");
    let mut t = ScrubTables::new();
    t.add_ptp("fixture-ptp", &ptp);
    t.add_mue("fixture-mue", &mue);
    // The same table twice (two quarters with the same rows) counts once.
    t.add_ptp("fixture-ptp-again", &ptp);
    assert_eq!(t.summary().ptp[0].2, ptp.edits.len());
    let ctx = ScrubContext::new(&t, common::date("2026-07-01"));
    let c = claim_with_lines(json!([line("29881", &[]), line("29880", &["59"])]));
    assert_eq!(
        ids(&c, &ctx),
        [("NCCI-PTP", Severity::Reject, "lines[1]".to_string())]
    );
    let r = scrub(&c, &ctx);
    assert!(
        r.findings[0].source.contains("fixture-ptp") && r.findings[0].source.contains("2010-01-01"),
        "{:?}",
        r.findings[0]
    );
    assert!(
        r.findings[0].message.contains("line 2") && r.findings[0].message.contains("line 1"),
        "1-based lines: {}",
        r.findings[0].message
    );
    let mut c = claim_with_lines(json!([line("36415", &[])]));
    c.lines[0].units = 3.0;
    assert_eq!(
        ids(&c, &ctx),
        [("MUE-LINE", Severity::Reject, "lines[0]".to_string())]
    );
    // No ICD-10-CM release loaded: diagnoses are not checked at all.
    let mut v = base();
    v["diagnoses"] = json!([{"code": "E11"}]);
    assert!(ids(&common::claim_from_value(&v), &ctx).is_empty());
}

fn aoc(edits: &[(u8, &str, &str, &str, Option<&str>)]) -> AocTable {
    AocTable {
        source_file: "aoc.txt".into(),
        edits: edits
            .iter()
            .map(|(t, a, p, eff, del)| AocEdit {
                edit_type: *t,
                addon_code: (*a).into(),
                addon_deleted: None,
                primary_code: (*p).into(),
                primary_deleted: None,
                effective: common::date(eff),
                deleted: del.map(common::date),
                notes: String::new(),
            })
            .collect(),
    }
}

#[test]
fn add_on_edit_types() {
    let mut t = ScrubTables::new();
    t.set_aoc(
        "test-aoc",
        &aoc(&[
            (1, "11111", "22222", "2020-01-01", None),
            (3, "33333", "44444", "2020-01-01", None),
            (2, "55555", "CCCCC", "2020-01-01", None),
            (1, "66666", "77777", "2020-01-01", Some("2026-01-01")),
            (1, "88888", "99999", "2027-01-01", None),
        ]),
    );
    let ctx = ScrubContext::new(&t, common::date("2026-07-01"));
    let one = |code: &str| ids(&claim_with_lines(json!([line(code, &[])])), &ctx);
    assert_eq!(
        one("11111"),
        [("AOC-PRIMARY", Severity::Reject, "lines[0]".to_string())]
    );
    assert_eq!(
        one("33333"),
        [("AOC-PRIMARY", Severity::Warn, "lines[0]".to_string())],
        "type 3: the contractor may accept others"
    );
    assert!(
        one("55555").is_empty(),
        "type 2: contractor-defined primaries"
    );
    assert!(
        one("66666").is_empty(),
        "edit deleted before the date of service"
    );
    assert!(one("88888").is_empty(), "edit not yet effective");
    assert!(
        ids(
            &claim_with_lines(json!([line("22222", &[]), line("11111", &[])])),
            &ctx
        )
        .is_empty()
    );
}

#[test]
fn payer_edits_need_no_code_tables() {
    let t = ScrubTables::new();
    let set = PayerProfiles::builtin().expect("profiles");
    let acme = set.get("acme-commercial");
    let ctx = ScrubContext::new(&t, common::date("2026-07-01")).with_payer(acme);
    let c = claim_with_lines(json!([line("99213", &[]), line("36415", &[])]));
    assert_eq!(
        ids(&c, &ctx),
        [("PAYER-BUNDLE", Severity::Reject, "lines[1]".to_string())]
    );
    // Frequency limits count the history only when it is given.
    let c = claim_with_lines(json!([line("99396", &[])]));
    assert!(ids(&c, &ctx).is_empty());
    let history: Vec<HistoryLine> = serde_json::from_value(json!([
        {"procedure": "99396", "date": "2025-12-01", "units": 1, "modifiers": [], "claim_id": "OLD-1"}
    ]))
    .expect("history JSON");
    let with = ctx.with_history(Some(&history));
    assert_eq!(
        ids(&c, &with),
        [("FREQUENCY-LIMIT", Severity::Reject, "lines[0]".to_string())]
    );
    assert!(
        serde_json::from_value::<Vec<HistoryLine>>(
            json!([{"procedure": "1", "date": "2025-12-01", "units": 1, "x": 1}])
        )
        .is_err()
    );
    // Without a profile no payer edit runs.
    let none = ScrubContext::new(&t, common::date("2026-07-01"));
    assert!(
        ids(
            &claim_with_lines(json!([line("99213", &[]), line("36415", &[])])),
            &none
        )
        .is_empty()
    );
}

#[test]
fn scrubbing_is_thread_safe_and_repeatable() {
    let inst = common::installed();
    let ctx = ScrubContext::new(&inst.tables, common::date("2026-07-01"));
    let dirty = claim_with_lines(json!([
        line("29881", &[]),
        line("29880", &[]),
        line("20610", &["25"])
    ]));
    let clean = claim_with_lines(json!([line("99213", &[])]));
    let first = scrub(&dirty, &ctx);
    assert!(!first.clean);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(scrub(&dirty, &ctx), first);
                    assert!(scrub(&clean, &ctx).findings.is_empty());
                }
            });
        }
    });
}

#[test]
fn edit_ids_are_documented_and_unique() {
    let mut seen = std::collections::BTreeSet::new();
    for (id, what) in EDITS {
        assert!(seen.insert(*id), "{id} twice");
        assert!(!what.is_empty());
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
            "{id}"
        );
    }
    assert!(seen.len() >= 25);
}
