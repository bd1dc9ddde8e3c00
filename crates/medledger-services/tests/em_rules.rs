//! Rule-file validation: a broken or inconsistent `em.toml` is refused with
//! an error naming the file and, where it can, the line.

use medledger_services::Error;
use medledger_services::em::EmEngine;

const RULES: &str = include_str!("../rules/em.toml");

/// The builtin rules with `from` replaced once by `to`.
fn edited(from: &str, to: &str) -> String {
    assert!(RULES.contains(from), "fixture text {from:?} not in em.toml");
    RULES.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

/// Loads `text` and returns (message, line).
fn refused(text: &str) -> (String, Option<usize>) {
    match EmEngine::from_rules(text, "my-em.toml") {
        Ok(_) => panic!("rules were accepted"),
        Err(Error::Rules {
            file,
            line,
            message,
            ..
        }) => {
            assert_eq!(file, "my-em.toml");
            (message, line)
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[test]
fn builtin_rules_are_valid() {
    assert_eq!(EmEngine::builtin().unwrap().rules_version(), "2026.1");
}

#[test]
fn syntax_and_type_errors_name_the_line() {
    let text = edited("version = \"2026.1\"", "version = 2026");
    let (msg, line) = refused(&text);
    assert_eq!(line, Some(line_of(&text, "version = 2026")), "{msg}");
    let err = EmEngine::from_rules(&text, "my-em.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("my-em.toml") && err.contains("line"), "{err}");

    let text = edited(
        "level = \"moderate\"\nsource = \"AMA CPT 2021 MDM table\"",
        "level = \"medium\"\nsource = \"AMA CPT 2021 MDM table\"",
    );
    let (_, line) = refused(&text);
    assert_eq!(line, Some(line_of(&text, "\"medium\"")));

    let text = edited(
        "effective_from = \"2021-01-01\"",
        "effective_from = \"2021-13-01\"",
    );
    assert!(refused(&text).1.is_some());

    let text = edited("first_unit_at = 75", "first_unit_at = 75\nfirst_unti = 3");
    let (msg, line) = refused(&text);
    assert!(msg.contains("first_unti"), "{msg}");
    assert!(line.is_some());
}

#[test]
fn time_thresholds_must_ascend() {
    let text = edited(
        "code = \"99213\"\nlabel = \"office visit, established patient, low MDM or 20+ min\"\nmdm = \"low\"\ntime_min = 20",
        "code = \"99213\"\nlabel = \"office visit, established patient, low MDM or 20+ min\"\nmdm = \"low\"\ntime_min = 8",
    );
    let (msg, line) = refused(&text);
    assert!(msg.contains("ascend"), "{msg}");
    assert_eq!(
        line,
        Some(line_of(&text, "id = \"em.office.2024.est.99213\""))
    );
}

#[test]
fn every_mdm_level_needs_a_code() {
    let text = edited(
        "code = \"99212\"\nlabel = \"office visit, established patient, straightforward MDM or 10+ min\"\nmdm = \"straightforward\"",
        "code = \"99212\"\nlabel = \"office visit, established patient, straightforward MDM or 10+ min\"\nmdm = \"low\"",
    );
    let (msg, line) = refused(&text);
    assert!(
        msg.contains("straightforward") || msg.contains("same MDM level"),
        "{msg}"
    );
    assert!(line.is_some());
}

#[test]
fn references_must_resolve() {
    let (msg, line) = refused(&edited(
        "all_of = [\"rx_drug\", \"management_verb\"]",
        "all_of = [\"rx_drugs\", \"management_verb\"]",
    ));
    assert!(msg.contains("rx_drugs"), "{msg}");
    assert!(line.is_some());

    let (msg, _) = refused(&edited("base = \"99205\"", "base = \"99206\""));
    assert!(msg.contains("99206"), "{msg}");

    let (msg, _) = refused(&edited(
        "default = \"stable_chronic\"",
        "default = \"steady_chronic\"",
    ));
    assert!(msg.contains("steady_chronic"), "{msg}");

    let (msg, _) = refused(&edited(
        "[lexicon.time_cue_before]",
        "[lexicon.time_cues_before]",
    ));
    assert!(msg.contains("time_cue_before"), "{msg}");
}

#[test]
fn preventive_bands_must_be_contiguous() {
    let (msg, line) = refused(&edited(
        "code = \"99383\"\nlabel = \"preventive visit, new patient, age 5-11\"\nage_min = 5",
        "code = \"99383\"\nlabel = \"preventive visit, new patient, age 5-11\"\nage_min = 6",
    ));
    assert!(msg.contains("do not continue"), "{msg}");
    assert!(line.is_some());
}

#[test]
fn dates_ids_and_header_are_checked() {
    let (msg, _) = refused(&edited(
        "effective_from = \"2021-01-01\"\neffective_to = \"2023-12-31\"",
        "effective_from = \"2021-01-01\"\neffective_to = \"2020-12-31\"",
    ));
    assert!(msg.contains("ends"), "{msg}");

    let (msg, _) = refused(&edited("id = \"em.ed.99283\"", "id = \"em.ed.99282\""));
    assert!(msg.contains("more than once"), "{msg}");

    let (msg, line) = refused(&edited("name = \"em\"", "name = \"emx\""));
    assert!(msg.contains("emx"), "{msg}");
    assert_eq!(line, Some(line_of(RULES, "[header]")));

    let (msg, _) = refused(&edited(
        "\"hypertension\", \"htn\",",
        "\"hypertension\", \"htn\", \"htn\", \"asthma\",",
    ));
    assert!(msg.contains("listed twice"), "{msg}");
}
