//! Code selection: the code family in force on the date of service, MDM vs
//! time (the higher wins), prolonged add-ons by payer, preventive bands with
//! the modifier-25 problem visit, and the next-level CDI query.

use jiff::civil::Date;

use super::mdm::{self, Problem, has_cue};
use super::note::Note;
use super::ruleset::{CodeRow, Region, Ruleset, Select};
use super::time::{find_age, time_statements};
use super::{
    AgeFinding, Basis, EmRequest, EmResult, HospitalVisit, MdmElement, MdmGrid, MdmLevel,
    NextLevel, PatientStatus, Payer, ServiceLine, Setting, TimeFinding, TimeSource,
};
use crate::error::{Error, Result};

/// The codes of one setting/patient/visit in force on `dos`, ordered.
pub(crate) fn family(
    rules: &Ruleset,
    setting: Setting,
    patient: PatientStatus,
    visit: Option<HospitalVisit>,
    dos: Date,
) -> Vec<&CodeRow> {
    let mut rows: Vec<&CodeRow> = rules
        .codes
        .iter()
        .filter(|c| {
            c.meta.applies_on(dos)
                && c.settings.contains(&setting)
                && c.patient.is_none_or(|p| p == patient)
                && c.visit == visit
        })
        .collect();
    rows.sort_by_key(|r| r.rank_key());
    rows
}

/// The highest code whose MDM level the visit meets.
pub(crate) fn mdm_code(family: &[&CodeRow], level: MdmLevel) -> Option<usize> {
    family
        .iter()
        .rposition(|r| r.select.is_none() && r.mdm.is_some_and(|m| m <= level))
}

/// The highest code whose time the visit meets (the top code of a family
/// has no upper bound).
pub(crate) fn time_code(family: &[&CodeRow], minutes: u32) -> Option<usize> {
    let top = family
        .iter()
        .enumerate()
        .filter(|(_, r)| r.select.is_none() && r.has_time())
        .max_by_key(|(_, r)| r.time_min.unwrap_or(0))
        .map(|(i, _)| i);
    family.iter().enumerate().rposition(|(i, r)| {
        r.select.is_none()
            && r.has_time()
            && minutes >= r.time_min.unwrap_or(0)
            && (Some(i) == top || r.time_max.is_none_or(|m| minutes <= m))
    })
}

fn not_in_force(
    rules: &Ruleset,
    setting: Setting,
    patient: PatientStatus,
    visit: Option<HospitalVisit>,
    dos: Date,
) -> Error {
    let first = rules
        .codes
        .iter()
        .filter(|c| c.settings.contains(&setting))
        .min_by_key(|c| c.meta.effective_from);
    match first {
        Some(c) if dos < c.meta.effective_from => Error::input(
            "date_of_service",
            format!(
                "{dos} is before {}: the {} E/M rules for {} visits ({}) do not apply to it",
                c.meta.effective_from,
                c.meta.effective_from.year(),
                setting.as_str(),
                c.meta.source
            ),
        ),
        _ => Error::input(
            "request",
            format!(
                "no {} {}{} visit codes are in force on {dos} in {} {}",
                setting.as_str(),
                patient.as_str(),
                visit.map_or(String::new(), |v| format!(" {}", v.as_str())),
                rules.file,
                rules.header.version
            ),
        ),
    }
}

fn detect_visit(rules: &Ruleset, note: &Note<'_>, warnings: &mut Vec<String>) -> HospitalVisit {
    let lex = &rules.lex;
    let in_header = |s: usize| note.kind_in(s, &rules.regions.visit_type);
    let (visit, how) = if has_cue(note, lex.visit_discharge, in_header).is_some() {
        (HospitalVisit::Discharge, "read from the note")
    } else if has_cue(note, lex.visit_initial, in_header).is_some() {
        (HospitalVisit::Initial, "read from the note")
    } else if has_cue(note, lex.visit_subsequent, in_header).is_some() {
        (HospitalVisit::Subsequent, "read from the note")
    } else {
        (HospitalVisit::Subsequent, "not stated; defaulted")
    };
    warnings.push(format!(
        "hospital visit type not given: {} ({how})",
        visit.as_str()
    ));
    visit
}

struct TimeUse {
    minutes: u32,
    source: TimeSource,
    span: Option<(usize, usize)>,
}

fn pick_time(
    rules: &Ruleset,
    note: &Note<'_>,
    req: &EmRequest,
    warnings: &mut Vec<String>,
) -> Option<TimeUse> {
    if let Some(m) = req.time_minutes {
        return Some(TimeUse {
            minutes: m,
            source: TimeSource::Request,
            span: None,
        });
    }
    let found = time_statements(note, rules);
    let best = found.iter().max_by_key(|t| t.minutes)?;
    if found.iter().any(|t| t.minutes != best.minutes) {
        let all: Vec<String> = found.iter().map(|t| t.minutes.to_string()).collect();
        warnings.push(format!(
            "several time statements ({} min); the largest is used",
            all.join(", ")
        ));
    }
    Some(TimeUse {
        minutes: best.minutes,
        source: TimeSource::Note,
        span: Some(best.span),
    })
}

fn time_finding(note: &Note<'_>, time: &TimeUse, supports: Option<&CodeRow>) -> TimeFinding {
    TimeFinding {
        minutes: time.minutes,
        source: time.source,
        evidence: time.span.map(|s| note.evidence(s)),
        supports: supports.map(|r| r.code.clone()),
    }
}

/// Levels the visit.
pub(crate) fn level(rules: &Ruleset, note: &Note<'_>, req: &EmRequest) -> Result<EmResult> {
    let dos = req.date_of_service;
    let setting = req.setting;
    let lex = &rules.lex;
    let mut warnings: Vec<String> = Vec::new();
    let mut rule_ids = vec![format!("{}@{}", rules.header.name, rules.header.version)];

    let visit = if setting.is_hospital() {
        Some(match req.hospital_visit {
            Some(v) => v,
            None => detect_visit(rules, note, &mut warnings),
        })
    } else {
        if req.hospital_visit.is_some() {
            warnings.push(format!(
                "hospital_visit applies only to inpatient and observation visits; ignored for {}",
                setting.as_str()
            ));
        }
        None
    };
    let codes = family(rules, setting, req.patient, visit, dos);
    if codes.is_empty() {
        return Err(not_in_force(rules, setting, req.patient, visit, dos));
    }

    let cue = has_cue(note, lex.preventive_cue, |s| {
        note.kind_in(s, &rules.regions.preventive)
    });
    let preventive = match req.preventive {
        Some(true) if setting != Setting::Office => {
            return Err(Error::input(
                "preventive",
                format!(
                    "preventive medicine visits are office services; the setting is {}",
                    setting.as_str()
                ),
            ));
        }
        Some(p) => p,
        None => {
            if cue.is_some() && setting != Setting::Office {
                warnings.push(format!(
                    "the note reads like a preventive visit, but preventive codes are office services; leveled as a {} visit",
                    setting.as_str()
                ));
                false
            } else {
                cue.is_some()
            }
        }
    };
    if req.payer == Payer::Medicare
        && has_cue(note, lex.medicare_awv, |s| note.in_region(Region::Any, s)).is_some()
    {
        warnings.push(
            "the note mentions a Medicare wellness visit (G0438/G0439), which this engine does not level"
                .to_string(),
        );
    }
    let time = pick_time(rules, note, req, &mut warnings);

    if preventive {
        return preventive_visit(rules, note, req, time, warnings, rule_ids);
    }

    let rated = mdm::rate(note, rules, setting, dos, false);
    rule_ids.extend(rated.rule_ids.iter().filter(|r| !r.is_empty()).cloned());
    let grid = rated.grid;
    interpretation_warning(&grid, &mut warnings);
    let mdm_idx = mdm_code(&codes, grid.level);
    let timed = codes.iter().any(|r| r.select.is_none() && r.has_time());
    if !timed && let Some(t) = &time {
        warnings.push(format!(
            "time ({} min) does not decide {} visit levels; leveled by MDM",
            t.minutes,
            setting.as_str()
        ));
    }
    let time_idx = if timed {
        time.as_ref().and_then(|t| time_code(&codes, t.minutes))
    } else {
        None
    };
    let prolonged_units = |idx: usize| -> u32 {
        let Some(t) = &time else { return 0 };
        prolonged_for(rules, codes[idx], req.payer, dos)
            .map_or(0, |p| units(t.minutes, p.first_unit_at, p.unit_minutes))
    };

    let fixed_idx = codes
        .iter()
        .position(|r| r.select == Some(Select::NoPractitioner));
    let no_practitioner = has_cue(note, lex.no_practitioner, |s| {
        note.kind_in(s, &rules.regions.visit_type)
    });
    let (sel, basis) = match (fixed_idx, no_practitioner) {
        (Some(i), Some(_)) => {
            if grid.level > MdmLevel::Straightforward {
                warnings.push(format!(
                    "the note says no practitioner work was needed, yet {} MDM was found; if a practitioner performed the visit, level it by MDM",
                    grid.label
                ));
            }
            (i, Basis::Fixed)
        }
        (fixed, cue) => {
            if fixed.is_none() && cue.is_some() {
                warnings.push(format!(
                    "the note reads like a visit without practitioner work, but {} {} visits have no such code; leveled by MDM or time",
                    req.patient.as_str(),
                    setting.as_str()
                ));
            }
            match (mdm_idx, time_idx) {
                (Some(m), Some(t)) if t > m || (t == m && prolonged_units(t) > 0) => {
                    (t, Basis::Time)
                }
                (Some(m), _) => (m, Basis::Mdm),
                (None, Some(t)) => (t, Basis::Time),
                (None, None) => {
                    let lowest = codes.iter().position(|r| r.select.is_none()).unwrap_or(0);
                    warnings.push(format!(
                        "no total time documented; {} is the lowest {} code",
                        codes[lowest].code,
                        setting.as_str()
                    ));
                    (lowest, Basis::Fixed)
                }
            }
        }
    };
    let row = codes[sel];
    rule_ids.push(row.meta.id.clone());

    let mut additional = Vec::new();
    if basis == Basis::Time
        && let Some(t) = &time
    {
        if let Some(p) = prolonged_for(rules, row, req.payer, dos) {
            let n = units(t.minutes, p.first_unit_at, p.unit_minutes);
            if n > 0 {
                additional.push(ServiceLine {
                    code: p.code.clone(),
                    label: p.label.clone(),
                    units: n,
                    modifiers: Vec::new(),
                    reason: format!(
                        "{} min total: first unit at {} min, one more per full {} min",
                        t.minutes, p.first_unit_at, p.unit_minutes
                    ),
                    rule: p.meta.id.clone(),
                });
                rule_ids.push(p.meta.id.clone());
            } else {
                let other = rules.prolonged.iter().find(|o| {
                    o.base == row.code
                        && o.payer != req.payer
                        && o.meta.applies_on(dos)
                        && t.minutes >= o.first_unit_at
                });
                if let Some(o) = other {
                    warnings.push(format!(
                        "{} min would support {} for other payers, but {} starts at {} min for {}",
                        t.minutes, o.code, p.code, p.first_unit_at, row.code
                    ));
                }
            }
        }
    } else if row.code != codes[time_idx.unwrap_or(sel)].code
        && let Some(t) = &time
        && basis == Basis::Mdm
    {
        warnings.push(format!(
            "time ({} min) supports only {}; MDM supports the higher code",
            t.minutes,
            codes[time_idx.unwrap_or(sel)].code
        ));
    }

    let reason = reason_for(row, basis, &grid, time.as_ref(), time_idx.map(|i| codes[i]));
    let next_level = next_level(
        rules,
        &codes,
        sel,
        &grid,
        &rated.problems,
        time.as_ref().map(|t| t.minutes),
        timed,
    );
    let time_out = time
        .as_ref()
        .map(|t| time_finding(note, t, time_idx.map(|i| codes[i])));
    Ok(EmResult {
        code: row.code.clone(),
        label: row.label.clone(),
        setting,
        hospital_visit: visit,
        basis,
        reason,
        preventive: false,
        mdm: grid,
        time: time_out,
        age: None,
        additional,
        modifiers: Vec::new(),
        next_level,
        rules: rule_ids,
        warnings,
    })
}

/// Independent interpretation counts only when the practitioner does not
/// bill the test's interpretation.
fn interpretation_warning(grid: &MdmGrid, warnings: &mut Vec<String>) {
    if grid
        .data
        .items
        .iter()
        .any(|i| i.kind == "independent_interpretation")
    {
        warnings.push(
            "independent interpretation counts only when the practitioner does not report the test's interpretation separately"
                .to_string(),
        );
    }
}

fn prolonged_for<'r>(
    rules: &'r Ruleset,
    row: &CodeRow,
    payer: Payer,
    dos: Date,
) -> Option<&'r super::ruleset::ProlongedRow> {
    rules
        .prolonged
        .iter()
        .find(|p| p.base == row.code && p.payer == payer && p.meta.applies_on(dos))
}

fn units(minutes: u32, first: u32, unit: u32) -> u32 {
    if minutes < first || unit == 0 {
        0
    } else {
        1 + (minutes - first) / unit
    }
}

fn element_summary(grid: &MdmGrid) -> String {
    format!(
        "problems {}, data {}, risk {}",
        grid.problems.label, grid.data.label, grid.risk.label
    )
}

fn reason_for(
    row: &CodeRow,
    basis: Basis,
    grid: &MdmGrid,
    time: Option<&TimeUse>,
    time_row: Option<&CodeRow>,
) -> String {
    let time_part = match (time, time_row) {
        (Some(t), Some(r)) => format!("{} min total time supports {}", t.minutes, r.code),
        (Some(t), None) => format!("{} min total time supports no code by itself", t.minutes),
        (None, _) => "no total time documented".to_string(),
    };
    match basis {
        Basis::Mdm => format!(
            "{} MDM ({}) supports {}; {}",
            grid.label,
            element_summary(grid),
            row.code,
            time_part
        ),
        Basis::Time => format!(
            "{time_part}; {} MDM ({}) supports less or the same",
            grid.label,
            element_summary(grid)
        ),
        Basis::Fixed => {
            if row.select.is_some() {
                format!(
                    "the note documents a visit without practitioner work: {}",
                    row.code
                )
            } else {
                format!("{}: {time_part}", row.code)
            }
        }
        Basis::Preventive => format!("preventive visit: {}", row.label),
    }
}

/// The next code up and the queries that could support it.
fn next_level(
    rules: &Ruleset,
    codes: &[&CodeRow],
    sel: usize,
    grid: &MdmGrid,
    problems: &[Problem],
    minutes: Option<u32>,
    time_allowed: bool,
) -> Option<NextLevel> {
    let cur = codes.get(sel)?;
    let next = codes
        .iter()
        .skip(sel + 1)
        .find(|r| r.select.is_none() && r.rank_key() > cur.rank_key())?;
    let mut queries: Vec<String> = Vec::new();
    let mut needs: Vec<String> = Vec::new();
    if cur.select.is_some() {
        queries.push(
            "if a practitioner evaluated the patient, document that evaluation and the decisions made"
                .to_string(),
        );
    }
    let dos = cur.meta.effective_from.max(next.meta.effective_from);
    if let Some(target) = next.mdm
        && grid.level < target
    {
        needs.push(format!(
            "{} MDM: {} of problems, data and risk at {} or above (now {})",
            target.as_str(),
            rules.mdm.elements_needed,
            target.as_str(),
            element_summary(grid)
        ));
        let elements = [
            (MdmElement::Problems, grid.problems.level),
            (MdmElement::Data, grid.data.level),
            (MdmElement::Risk, grid.risk.level),
        ];
        for (element, level) in elements {
            if level >= target {
                continue;
            }
            match element {
                MdmElement::Problems => {
                    for p in problems.iter().filter(|p| p.status_missing) {
                        let names: Vec<&str> = p
                            .conditions
                            .iter()
                            .filter_map(|&c| {
                                rules.conditions.get(c as usize).map(|c| c.key.as_str())
                            })
                            .collect();
                        let q = rules
                            .mdm
                            .status_cdi
                            .replace("{problem}", &names.join(" / "));
                        if !queries.contains(&q) {
                            queries.push(q);
                        }
                    }
                    if let Some(r) = rules
                        .problem_rules
                        .iter()
                        .find(|r| r.level == target && r.meta.applies_on(dos))
                    {
                        queries.push(format!("problems: {}", r.cdi));
                    }
                }
                MdmElement::Data => {
                    if let Some(r) = rules
                        .data_rules
                        .iter()
                        .find(|r| r.level == target && r.meta.applies_on(dos))
                    {
                        queries.push(format!("data: {}", r.cdi));
                    }
                }
                MdmElement::Risk => {
                    if let Some(r) = rules
                        .risk_rules
                        .iter()
                        .find(|r| r.level == target && r.meta.applies_on(dos))
                    {
                        queries.push(format!("risk: {}", r.cdi));
                    }
                }
            }
        }
    }
    if time_allowed && next.has_time() {
        let need = next.time_min.unwrap_or(0);
        let template = match minutes {
            Some(m) if m >= need => None,
            Some(_) => Some(&rules.time.cdi_more),
            None => Some(&rules.time.cdi_document),
        };
        if let Some(t) = template {
            queries.push(
                t.replace("{minutes}", &need.to_string())
                    .replace("{code}", &next.code),
            );
            needs.push(if needs.is_empty() {
                format!("{need}+ minutes of total time")
            } else {
                format!("or {need}+ minutes of total time")
            });
        }
    }
    if queries.is_empty() {
        return None;
    }
    Some(NextLevel {
        code: next.code.clone(),
        label: next.label.clone(),
        needs: needs.join("; "),
        queries,
    })
}

fn preventive_visit(
    rules: &Ruleset,
    note: &Note<'_>,
    req: &EmRequest,
    time: Option<TimeUse>,
    mut warnings: Vec<String>,
    mut rule_ids: Vec<String>,
) -> Result<EmResult> {
    let dos = req.date_of_service;
    let age = match req.patient_age_years {
        Some(y) => Some(AgeFinding {
            years: y,
            source: TimeSource::Request,
            evidence: None,
        }),
        None => find_age(note, rules).map(|(y, span)| AgeFinding {
            years: y,
            source: TimeSource::Note,
            evidence: Some(note.evidence(span)),
        }),
    };
    let Some(age) = age else {
        return Err(Error::input(
            "patient_age_years",
            "a preventive visit is coded by age band: give the patient's age or state it in the note",
        ));
    };
    let band = rules.preventive.iter().find(|r| {
        r.patient == req.patient
            && r.meta.applies_on(dos)
            && age.years >= r.age_min
            && r.age_max.is_none_or(|m| age.years <= m)
    });
    let Some(band) = band else {
        return Err(Error::input(
            "date_of_service",
            format!(
                "no preventive band for a {} patient aged {} is in force on {dos} in {} {}",
                req.patient.as_str(),
                age.years,
                rules.file,
                rules.header.version
            ),
        ));
    };
    rule_ids.push(band.meta.id.clone());
    let rated = mdm::rate(note, rules, Setting::Office, dos, true);
    rule_ids.extend(rated.rule_ids.iter().filter(|r| !r.is_empty()).cloned());
    let grid = rated.grid;
    interpretation_warning(&grid, &mut warnings);
    let office = family(rules, Setting::Office, req.patient, None, dos);
    let pp = &rules.preventive_problem;
    let mut additional = Vec::new();
    let mut next = None;
    let significant = pp.meta.applies_on(dos)
        && grid.level >= pp.min_mdm
        && grid.problems.level > MdmLevel::Straightforward;
    if significant && let Some(i) = mdm_code(&office, grid.level) {
        let row = office[i];
        additional.push(ServiceLine {
            code: row.code.clone(),
            label: row.label.clone(),
            units: 1,
            modifiers: vec![pp.modifier.clone()],
            reason: format!(
                "significant, separately identifiable problem work at the preventive visit: {} MDM ({})",
                grid.label,
                element_summary(&grid)
            ),
            rule: row.meta.id.clone(),
        });
        rule_ids.push(pp.meta.id.clone());
        rule_ids.push(row.meta.id.clone());
        next = next_level(rules, &office, i, &grid, &rated.problems, None, false);
    } else if !rated.problems.is_empty() {
        warnings.push(format!(
            "problems addressed at the preventive visit stay part of it: their own work reaches {} MDM, a separate problem visit needs {}",
            grid.label,
            pp.min_mdm.as_str()
        ));
    }
    if let Some(t) = &time {
        warnings.push(format!(
            "time ({} min) does not level a preventive visit or the problem visit reported with it",
            t.minutes
        ));
    }
    if req.payer == Payer::Medicare {
        warnings.push(
            "Medicare generally does not pay preventive medicine codes; check for a Medicare wellness visit (G0438/G0439) instead"
                .to_string(),
        );
    }
    let reason = format!(
        "preventive visit, {} patient aged {}{}",
        req.patient.as_str(),
        age.years,
        match additional.first() {
            Some(l) => format!("; problem visit {}-{} also reported", l.code, pp.modifier),
            None => String::new(),
        }
    );
    Ok(EmResult {
        code: band.code.clone(),
        label: band.label.clone(),
        setting: Setting::Office,
        hospital_visit: None,
        basis: Basis::Preventive,
        reason,
        preventive: true,
        mdm: grid,
        time: time.as_ref().map(|t| time_finding(note, t, None)),
        age: Some(age),
        additional,
        modifiers: Vec::new(),
        next_level: next,
        rules: rule_ids,
        warnings,
    })
}
