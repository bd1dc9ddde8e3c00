//! Worked E/M vignettes: every `tests/fixtures/em/*.toml` file holds
//! vignettes we wrote from the published AMA/CMS rules, each with the
//! expected code(s) and a one-line reason. One check runs them all and
//! reports every failure at once.

use std::path::Path;

use jiff::civil::Date;
use medledger_services::em::{
    Basis, EmEngine, EmRequest, EmResult, Evidence, HospitalVisit, MdmLevel, PatientStatus, Payer,
    Setting, TimeSource,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    vignette: Vec<Vignette>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vignette {
    id: String,
    reason: String,
    setting: Setting,
    patient: PatientStatus,
    dos: Date,
    #[serde(default)]
    payer: Option<Payer>,
    #[serde(default)]
    hospital_visit: Option<HospitalVisit>,
    #[serde(default)]
    time_minutes: Option<u32>,
    #[serde(default)]
    age: Option<u32>,
    #[serde(default)]
    preventive: Option<bool>,
    note: String,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeExpect {
    Minutes(u32),
    Word(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: String,
    #[serde(default)]
    basis: Option<Basis>,
    #[serde(default)]
    mdm: Option<MdmLevel>,
    #[serde(default)]
    problems: Option<MdmLevel>,
    #[serde(default)]
    data: Option<MdmLevel>,
    #[serde(default)]
    risk: Option<MdmLevel>,
    #[serde(default)]
    additional: Option<Vec<String>>,
    #[serde(default)]
    modifiers: Option<Vec<String>>,
    #[serde(default)]
    time: Option<TimeExpect>,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    absent_evidence: Vec<String>,
    #[serde(default)]
    next_code: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    visit: Option<HospitalVisit>,
    #[serde(default)]
    age_source: Option<String>,
    #[serde(default)]
    warning_contains: Option<String>,
}

fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/em")
}

fn load() -> Vec<(String, Vignette)> {
    let mut files: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        out.extend(file.vignette.into_iter().map(|v| (stem.clone(), v)));
    }
    out
}

fn request(v: &Vignette) -> EmRequest {
    EmRequest {
        patient: v.patient,
        setting: v.setting,
        hospital_visit: v.hospital_visit,
        time_minutes: v.time_minutes,
        date_of_service: v.dos,
        payer: v.payer.unwrap_or(Payer::Commercial),
        patient_age_years: v.age,
        preventive: v.preventive,
    }
}

/// Every evidence span of a result.
fn all_evidence(r: &EmResult) -> Vec<&Evidence> {
    let mut out = Vec::new();
    for el in [&r.mdm.problems, &r.mdm.data, &r.mdm.risk] {
        for item in &el.items {
            out.extend(item.evidence.iter());
        }
    }
    if let Some(t) = &r.time {
        out.extend(t.evidence.iter());
    }
    if let Some(a) = &r.age {
        out.extend(a.evidence.iter());
    }
    out
}

/// Evidence text must be the note's code points `start..end`.
fn verbatim(note: &str, e: &Evidence) -> bool {
    let slice: String = note.chars().skip(e.start).take(e.end - e.start).collect();
    e.end >= e.start && slice == e.text
}

/// "99417x2" → ("99417", 2, []); "99214-25" → ("99214", 1, ["25"]).
fn parse_line(s: &str) -> (String, u32, Vec<String>) {
    let (code_units, mods) = match s.split_once('-') {
        Some((a, m)) => (a, vec![m.to_string()]),
        None => (s, Vec::new()),
    };
    match code_units.split_once('x') {
        Some((c, n)) => (c.to_string(), n.parse().unwrap(), mods),
        None => (code_units.to_string(), 1, mods),
    }
}

fn check(v: &Vignette, r: &EmResult) -> Vec<String> {
    let e = &v.expect;
    let mut bad = Vec::new();
    let mut want = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    want(
        r.code == e.code,
        format!("code {} (want {})", r.code, e.code),
    );
    if let Some(b) = e.basis {
        want(r.basis == b, format!("basis {:?} (want {b:?})", r.basis));
    }
    for (name, got, exp) in [
        ("mdm", r.mdm.level, e.mdm),
        ("problems", r.mdm.problems.level, e.problems),
        ("data", r.mdm.data.level, e.data),
        ("risk", r.mdm.risk.level, e.risk),
    ] {
        if let Some(exp) = exp {
            want(got == exp, format!("{name} {got:?} (want {exp:?})"));
        }
    }
    if let Some(lines) = &e.additional {
        let got: Vec<(String, u32, Vec<String>)> = r
            .additional
            .iter()
            .map(|l| (l.code.clone(), l.units, l.modifiers.clone()))
            .collect();
        let exp: Vec<_> = lines.iter().map(|l| parse_line(l)).collect();
        want(got == exp, format!("additional {got:?} (want {exp:?})"));
    }
    if let Some(m) = &e.modifiers {
        want(
            &r.modifiers == m,
            format!("modifiers {:?} (want {m:?})", r.modifiers),
        );
    }
    match &e.time {
        Some(TimeExpect::Minutes(m)) => want(
            r.time.as_ref().is_some_and(|t| t.minutes == *m),
            format!("time {:?} (want {m})", r.time.as_ref().map(|t| t.minutes)),
        ),
        Some(TimeExpect::Word(w)) => {
            assert_eq!(w, "none", "{}: time must be minutes or \"none\"", v.id);
            want(
                r.time.is_none(),
                format!("time {:?} (want none)", r.time.as_ref().map(|t| t.minutes)),
            );
        }
        None => {}
    }
    let evidence = all_evidence(r);
    for text in &e.evidence {
        want(
            evidence.iter().any(|ev| ev.text == *text),
            format!("no evidence {text:?}"),
        );
    }
    for text in &e.absent_evidence {
        want(
            !evidence
                .iter()
                .any(|ev| ev.text.to_lowercase().contains(&text.to_lowercase())),
            format!("unexpected evidence {text:?}"),
        );
    }
    for ev in &evidence {
        want(
            verbatim(&v.note, ev),
            format!("evidence {ev:?} is not verbatim at its offsets"),
        );
    }
    if let Some(n) = &e.next_code {
        want(
            r.next_level
                .as_ref()
                .is_some_and(|x| &x.code == n && !x.queries.is_empty()),
            format!(
                "next level {:?} (want {n} with queries)",
                r.next_level.as_ref().map(|x| &x.code)
            ),
        );
    }
    if let Some(rule) = &e.rule {
        want(
            r.rules.contains(rule),
            format!("rules {:?} lack {rule}", r.rules),
        );
    }
    if let Some(visit) = e.visit {
        want(
            r.hospital_visit == Some(visit),
            format!("visit {:?} (want {visit:?})", r.hospital_visit),
        );
    }
    if let Some(src) = &e.age_source {
        let got = r.age.as_ref().map(|a| match a.source {
            TimeSource::Note => "note",
            TimeSource::Request => "request",
        });
        want(
            got == Some(src.as_str()),
            format!("age source {got:?} (want {src})"),
        );
    }
    if let Some(w) = &e.warning_contains {
        want(
            r.warnings.iter().any(|x| x.contains(w.as_str())),
            format!("no warning containing {w:?} in {:?}", r.warnings),
        );
    }
    want(
        r.rules.first().is_some_and(|x| x.starts_with("em@")),
        "rules lack the file version".into(),
    );
    bad
}

#[test]
fn vignettes() {
    let engine = EmEngine::builtin().unwrap();
    let all = load();
    let mut failures = Vec::new();
    for (file, v) in &all {
        assert!(!v.reason.trim().is_empty(), "{}: reason missing", v.id);
        match engine.level(&v.note, &request(v)) {
            Ok(r) => {
                let bad = check(v, &r);
                if !bad.is_empty() {
                    failures.push(format!(
                        "{file}/{}: {}\n    reason: {}\n    got: {}",
                        v.id,
                        bad.join("; "),
                        v.reason,
                        r.reason
                    ));
                }
            }
            Err(e) => failures.push(format!("{file}/{}: error {e}", v.id)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vignettes failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn vignettes_cover_every_setting_and_level() {
    let all = load();
    assert!(all.len() >= 40, "{} vignettes", all.len());
    let codes: Vec<&str> = all.iter().map(|(_, v)| v.expect.code.as_str()).collect();
    for code in [
        "99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215", "99221",
        "99222", "99223", "99231", "99232", "99233", "99238", "99239", "99281", "99282", "99283",
        "99284", "99285",
    ] {
        assert!(codes.contains(&code), "no vignette for {code}");
    }
    let ids: std::collections::HashSet<&str> = all.iter().map(|(_, v)| v.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "vignette ids must be unique");
    let additional: Vec<String> = all
        .iter()
        .flat_map(|(_, v)| v.expect.additional.clone().unwrap_or_default())
        .collect();
    for code in ["99417", "G2212", "99418", "G0316", "-25"] {
        assert!(
            additional.iter().any(|a| a.contains(code)),
            "no vignette with {code}"
        );
    }
    assert!(all.iter().any(|(_, v)| v.setting == Setting::Observation));
}

/// A long, realistic established-patient note (the one `medledger bench em`
/// also levels) reaches the top level with its grid.
#[test]
fn long_note_levels_to_the_top_with_its_grid() {
    let engine = EmEngine::builtin().unwrap();
    let note = std::fs::read_to_string(fixtures_dir().join("timing_note.txt")).unwrap();
    let req = EmRequest::office(PatientStatus::Established, jiff::civil::date(2026, 3, 2));
    let r = engine.level(&note, &req).unwrap();
    assert_eq!(r.code, "99215", "{}", r.reason);
    for el in [&r.mdm.problems, &r.mdm.data, &r.mdm.risk] {
        for e in el.items.iter().flat_map(|i| i.evidence.iter()) {
            assert!(verbatim(&note, e), "{e:?}");
        }
    }
    assert!(!r.mdm.problems.items.is_empty());
}
