//! Digital mental-health treatment (DMHT) devices: HCPCS G0552 (device
//! supply, once per course of treatment), G0553 (first 20 minutes of
//! treatment management in a calendar month) and G0554 (each further 20
//! minutes), with their prerequisites: an FDA-cleared device in a covered
//! classification on the date of service, an ongoing behavioural-health
//! treatment plan by the billing practitioner, a diagnosis the device class
//! treats and, for management, an interactive communication in the month.
//!
//! What the documentation lacks is listed in plain words (`missing`); when a
//! note is given, it is read for the plan and the device (negation
//! respected) and the spans are returned as evidence.

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::monitoring::json::Obj;
use crate::monitoring::{Refusal, ServiceLine};
use crate::pla::PhraseMatcher;
use crate::rules::{Evidence, RuleFileHeader, RuleMeta, invalid, parse_rule_file};
use crate::telehealth::{MAX_NOTE_BYTES, find_cues};

const BUILTIN_FILE: &str = "dmht.toml";
const BUILTIN: &str = include_str!("../rules/dmht.toml");

// ---------------------------------------------------------------------------
// Input

/// The DMHT device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmhtDevice {
    pub name: String,
    /// The 21 CFR regulation the device is classified under (`882.5801`).
    pub fda_regulation: String,
    /// Cleared (or authorised) by the FDA for that classification.
    pub cleared: bool,
}

/// The behavioural-health treatment plan the device augments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreatmentPlan {
    pub documented: bool,
    /// The plan is the billing practitioner's own (the device is furnished
    /// incident to their services).
    pub by_billing_practitioner: bool,
}

/// Management time in one calendar month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmhtMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub minutes: u32,
    pub interactive: bool,
}

/// One DMHT case (`case.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmhtCase {
    /// Date of service of the claim (rules for supply fall back to it).
    pub dos: Date,
    pub device: DmhtDevice,
    pub diagnosis_codes: Vec<String>,
    pub treatment_plan: TreatmentPlan,
    pub supply_date: Option<Date>,
    /// G0552 was already billed for this course of treatment.
    pub supply_already_billed: bool,
    pub management: Vec<DmhtMonth>,
    /// The clinical note, to find documentation of the plan and device.
    pub note: Option<String>,
}

const CASE_FIELDS: &[&str] = &[
    "dos",
    "device",
    "diagnosis_codes",
    "treatment_plan",
    "supply_date",
    "supply_already_billed",
    "management",
    "note",
];

/// Parses a DMHT case from JSON; errors name `what` and the field.
pub fn parse_case(json_text: &str, what: &str) -> Result<DmhtCase> {
    let value: serde_json::Value = serde_json::from_str(json_text).map_err(|e| {
        Error::input(
            format!("{what}: line {} column {}", e.line(), e.column()),
            "not valid JSON",
        )
    })?;
    case_from_value(&value, what)
}

/// As [`parse_case`], for an already parsed JSON value.
pub fn case_from_value(value: &serde_json::Value, what: &str) -> Result<DmhtCase> {
    let obj = Obj::new(value, what, "", CASE_FIELDS)?;
    let device_v = obj
        .get("device")
        .ok_or_else(|| obj.error("device", "missing"))?;
    let d = obj.child(device_v, "device", &["name", "fda_regulation", "cleared"])?;
    let fda_regulation: String = d.req("fda_regulation")?;
    let fda_regulation = normalize_regulation(&fda_regulation);
    if fda_regulation.is_empty() {
        return Err(d.error("fda_regulation", "empty"));
    }
    let device = DmhtDevice {
        name: d.req("name")?,
        fda_regulation,
        cleared: d.req("cleared")?,
    };
    let plan_v = obj
        .get("treatment_plan")
        .ok_or_else(|| obj.error("treatment_plan", "missing"))?;
    let p = obj.child(
        plan_v,
        "treatment_plan",
        &["documented", "by_billing_practitioner"],
    )?;
    let treatment_plan = TreatmentPlan {
        documented: p.req("documented")?,
        by_billing_practitioner: p.req("by_billing_practitioner")?,
    };
    let mut management = Vec::new();
    for (i, v) in obj.array("management")?.iter().enumerate() {
        let m = obj.child(
            v,
            &format!("management[{i}]"),
            &["month", "minutes", "interactive"],
        )?;
        let month: String = m.req("month")?;
        if parse_month(&month).is_none() {
            return Err(m.error("month", format!("{month:?} is not a month (YYYY-MM)")));
        }
        let minutes: u32 = m.req("minutes")?;
        if minutes > 31 * 24 * 60 {
            return Err(m.error("minutes", "more minutes than the month has"));
        }
        management.push(DmhtMonth {
            month,
            minutes,
            interactive: m.req("interactive")?,
        });
    }
    let mut diagnosis_codes = Vec::new();
    for (i, v) in obj.array("diagnosis_codes")?.iter().enumerate() {
        let code: String = obj.leaf(v, &format!("diagnosis_codes[{i}]"))?;
        diagnosis_codes.push(code.trim().replace('.', "").to_ascii_uppercase());
    }
    let note: Option<String> = obj.opt("note")?;
    if note.as_ref().is_some_and(|n| n.len() > MAX_NOTE_BYTES) {
        return Err(obj.error("note", format!("longer than {MAX_NOTE_BYTES} bytes")));
    }
    Ok(DmhtCase {
        dos: obj.req("dos")?,
        device,
        diagnosis_codes,
        treatment_plan,
        supply_date: obj.opt("supply_date")?,
        supply_already_billed: obj.opt("supply_already_billed")?.unwrap_or(false),
        management,
        note,
    })
}

fn normalize_regulation(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix("21 CFR")
        .or_else(|| s.strip_prefix("21 C.F.R."))
        .unwrap_or(s)
        .trim();
    s.trim_start_matches('§').trim().to_string()
}

fn parse_month(s: &str) -> Option<Date> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()
}

// ---------------------------------------------------------------------------
// Output

/// A documentation finding in the note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmhtEvidence {
    /// `treatment_plan` or `device`.
    pub finding: String,
    pub negated: bool,
    pub evidence: Evidence,
}

/// Codes, refusals and documentation gaps for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmhtResult {
    pub lines: Vec<ServiceLine>,
    pub refused: Vec<Refusal>,
    /// What the documentation lacks, in plain words.
    pub missing: Vec<String>,
    pub evidence: Vec<DmhtEvidence>,
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------
// Rules

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    header: RuleFileHeader,
    #[serde(default)]
    device_class: Vec<DeviceClass>,
    #[serde(default)]
    code: Vec<CodeRule>,
    #[serde(default)]
    requirement: Vec<Requirement>,
    #[serde(default)]
    documentation: Vec<DocumentationRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceClass {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    regulation: String,
    label: String,
    /// ICD-10-CM prefixes (no dots) of the diagnoses the class treats.
    diagnosis_prefixes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CodeKind {
    Supply,
    First,
    Additional,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    code: String,
    label: String,
    kind: CodeKind,
    #[serde(default)]
    min_minutes: Option<u32>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    step_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RequirementKind {
    FdaCleared,
    CoveredClass,
    TreatmentPlan,
    PlanByBillingPractitioner,
    Diagnosis,
    InteractiveCommunication,
    SupplyOncePerCourse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    kind: RequirementKind,
    /// The gap, in plain words, when the requirement is not met.
    missing: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Finding {
    TreatmentPlan,
    Device,
}

impl Finding {
    fn as_str(self) -> &'static str {
        match self {
            Finding::TreatmentPlan => "treatment_plan",
            Finding::Device => "device",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentationRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    finding: Finding,
    phrases: Vec<String>,
    missing: String,
}

use crate::rules::{date_ranges_overlap, meta_of};
meta_of!(DeviceClass);
meta_of!(CodeRule);
meta_of!(Requirement);
meta_of!(DocumentationRule);

/// The DMHT rule engine.
#[derive(Debug, Clone)]
pub struct DmhtEngine {
    rules: RuleFile,
}

struct Gate<'a> {
    rule: &'a Requirement,
    reason: String,
}

impl DmhtEngine {
    /// The engine over the built-in `rules/dmht.toml`.
    pub fn builtin() -> Result<Self> {
        Self::from_rules(BUILTIN, BUILTIN_FILE)
    }

    /// The engine over a rule file's text; `file` names it in errors.
    pub fn from_rules(text: &str, file: &str) -> Result<Self> {
        let rules: RuleFile = parse_rule_file(text, file)?;
        validate(&rules, file)?;
        Ok(DmhtEngine { rules })
    }

    pub fn header(&self) -> &RuleFileHeader {
        &self.rules.header
    }

    /// Provenance of every rule.
    pub fn rule_metas(&self) -> Vec<RuleMeta> {
        let r = &self.rules;
        r.device_class
            .iter()
            .map(DeviceClass::meta)
            .chain(r.code.iter().map(CodeRule::meta))
            .chain(r.requirement.iter().map(Requirement::meta))
            .chain(r.documentation.iter().map(DocumentationRule::meta))
            .collect()
    }

    fn requirement(&self, kind: RequirementKind, dos: Date) -> Option<&Requirement> {
        self.rules
            .requirement
            .iter()
            .find(|r| r.kind == kind && r.applies_on(dos))
    }

    /// The prerequisites not met on `dos`.
    fn gates(&self, case: &DmhtCase, dos: Date) -> Vec<Gate<'_>> {
        let mut out = Vec::new();
        let mut gate = |kind: RequirementKind, failed: bool, reason: String| {
            if failed && let Some(rule) = self.requirement(kind, dos) {
                out.push(Gate { rule, reason });
            }
        };
        let reg = &case.device.fda_regulation;
        gate(
            RequirementKind::FdaCleared,
            !case.device.cleared,
            format!("{} is not FDA-cleared", case.device.name),
        );
        let classes: Vec<&DeviceClass> = self
            .rules
            .device_class
            .iter()
            .filter(|c| &c.regulation == reg)
            .collect();
        let class = classes.iter().find(|c| c.applies_on(dos));
        let class_reason = match (classes.first(), class) {
            (None, _) => Some(format!(
                "21 CFR {reg} is not a DMHT classification Medicare pays for"
            )),
            (Some(c), None) => Some(format!(
                "21 CFR {reg} devices are covered from {} (service on {dos})",
                c.effective_from
            )),
            _ => None,
        };
        let failed = class_reason.is_some();
        gate(
            RequirementKind::CoveredClass,
            failed,
            class_reason.unwrap_or_default(),
        );
        gate(
            RequirementKind::TreatmentPlan,
            !case.treatment_plan.documented,
            "no behavioural-health treatment plan is documented".to_string(),
        );
        gate(
            RequirementKind::PlanByBillingPractitioner,
            case.treatment_plan.documented && !case.treatment_plan.by_billing_practitioner,
            "the treatment plan is not the billing practitioner's".to_string(),
        );
        if let Some(class) = class {
            let treats = case.diagnosis_codes.iter().any(|d| {
                class
                    .diagnosis_prefixes
                    .iter()
                    .any(|p| d.starts_with(p.as_str()))
            });
            gate(
                RequirementKind::Diagnosis,
                !treats,
                if case.diagnosis_codes.is_empty() {
                    "no diagnosis code is given".to_string()
                } else {
                    format!("no diagnosis the device class ({}) treats", class.label)
                },
            );
        }
        out
    }

    /// Codes for one case, refusals with their reasons and the
    /// documentation gaps.
    pub fn evaluate(&self, case: &DmhtCase) -> Result<DmhtResult> {
        let mut lines = Vec::new();
        let mut refused = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        let mut warnings = Vec::new();

        // Supply.
        if let Some(date) = case.supply_date {
            match self.code_rule(CodeKind::Supply, date) {
                None => warnings.push(format!("no DMHT supply code in force on {date}")),
                Some(rule) => {
                    let gates = self.gates(case, date);
                    for g in &gates {
                        add_missing(&g.rule.missing, &mut missing);
                    }
                    if let Some(g) = gates.first() {
                        refused.push(refusal(rule, &g.reason, &g.rule.id, None));
                    } else if let (true, Some(once)) = (
                        case.supply_already_billed,
                        self.requirement(RequirementKind::SupplyOncePerCourse, date),
                    ) {
                        refused.push(refusal(
                            rule,
                            "the device was already supplied and billed for this course of treatment",
                            &once.id,
                            None,
                        ));
                    } else {
                        lines.push(ServiceLine {
                            code: rule.code.clone(),
                            units: 1,
                            label: rule.label.clone(),
                            reason: format!(
                                "{} ({}) supplied on {date} under the billing practitioner's treatment plan",
                                case.device.name, case.device.fda_regulation
                            ),
                            rule_id: rule.id.clone(),
                            month: None,
                        });
                    }
                }
            }
        }

        // Management, per calendar month.
        let mut months_seen = BTreeSet::new();
        for m in &case.management {
            let Some(first_day) = parse_month(&m.month) else {
                return Err(Error::input("management.month", "not a month (YYYY-MM)"));
            };
            if !months_seen.insert(first_day) {
                return Err(Error::input(
                    format!("management month {}", m.month),
                    "listed twice; give one total per month",
                ));
            }
            let month = Some(m.month.clone());
            let Some(first) = self.code_rule(CodeKind::First, first_day) else {
                warnings.push(format!("no DMHT management code in force in {}", m.month));
                continue;
            };
            let base = first.min_minutes.unwrap_or(0);
            let addon = self.rules.code.iter().find(|c| {
                c.kind == CodeKind::Additional
                    && c.parent.as_deref() == Some(first.code.as_str())
                    && c.applies_on(first_day)
            });
            let units = addon.map_or(0, |a| {
                m.minutes.saturating_sub(base) / a.step_minutes.unwrap_or(u32::MAX).max(1)
            });
            if m.minutes < base {
                if m.minutes > 0 {
                    refused.push(refusal(
                        first,
                        &format!(
                            "{} minute(s) in {}; at least {base} needed",
                            m.minutes, m.month
                        ),
                        &first.id,
                        month,
                    ));
                }
                continue;
            }
            let gates = self.gates(case, first_day);
            for g in &gates {
                add_missing(&g.rule.missing, &mut missing);
            }
            let interactive_rule =
                self.requirement(RequirementKind::InteractiveCommunication, first_day);
            let block = gates
                .first()
                .map(|g| (g.reason.clone(), g.rule.id.clone()))
                .or_else(|| match (m.interactive, interactive_rule) {
                    (false, Some(rule)) => {
                        add_missing(&rule.missing, &mut missing);
                        Some((
                            format!(
                                "no interactive communication with the patient or caregiver in {}",
                                m.month
                            ),
                            rule.id.clone(),
                        ))
                    }
                    _ => None,
                });
            match block {
                Some((reason, rule_id)) => {
                    refused.push(refusal(first, &reason, &rule_id, month.clone()));
                    if let (Some(a), true) = (addon, units > 0) {
                        refused.push(refusal(a, &reason, &rule_id, month));
                    }
                }
                None => {
                    lines.push(ServiceLine {
                        code: first.code.clone(),
                        units: 1,
                        label: first.label.clone(),
                        reason: format!(
                            "{} minute(s) of device-related management in {} (at least {base}), with interactive communication",
                            m.minutes, m.month
                        ),
                        rule_id: first.id.clone(),
                        month: month.clone(),
                    });
                    if let (Some(a), true) = (addon, units > 0) {
                        lines.push(ServiceLine {
                            code: a.code.clone(),
                            units,
                            label: a.label.clone(),
                            reason: format!(
                                "{} minute(s) beyond the first {base} in {}: {units} full block(s) of {}",
                                m.minutes - base,
                                m.month,
                                a.step_minutes.unwrap_or(0)
                            ),
                            rule_id: a.id.clone(),
                            month,
                        });
                    }
                }
            }
        }

        // Documentation in the note.
        let mut evidence = Vec::new();
        if let Some(note) = &case.note {
            for doc in self
                .rules
                .documentation
                .iter()
                .filter(|d| d.applies_on(case.dos))
            {
                let mut phrases: Vec<&str> = doc.phrases.iter().map(String::as_str).collect();
                if doc.finding == Finding::Device && !case.device.name.trim().is_empty() {
                    phrases.push(case.device.name.as_str());
                }
                let matcher = PhraseMatcher::new(&phrases);
                let mut affirmed = false;
                for hit in find_cues(note, &matcher) {
                    if !(hit.affirmed || hit.negated) {
                        continue;
                    }
                    affirmed |= hit.affirmed;
                    evidence.push(DmhtEvidence {
                        finding: doc.finding.as_str().to_string(),
                        negated: hit.negated,
                        evidence: hit.evidence,
                    });
                }
                if !affirmed {
                    add_missing(&doc.missing, &mut missing);
                }
            }
        }

        Ok(DmhtResult {
            lines,
            refused,
            missing,
            evidence,
            warnings,
        })
    }

    fn code_rule(&self, kind: CodeKind, dos: Date) -> Option<&CodeRule> {
        self.rules
            .code
            .iter()
            .find(|c| c.kind == kind && c.applies_on(dos))
    }
}

fn add_missing(m: &str, missing: &mut Vec<String>) {
    if !missing.iter().any(|x| x == m) {
        missing.push(m.to_string());
    }
}

fn refusal(rule: &CodeRule, reason: &str, rule_id: &str, month: Option<String>) -> Refusal {
    Refusal {
        code: rule.code.clone(),
        reason: reason.to_string(),
        rule_id: rule_id.to_string(),
        month,
    }
}

fn validate(r: &RuleFile, file: &str) -> Result<()> {
    if r.header.version.trim().is_empty() || r.header.sources.is_empty() {
        return Err(invalid(
            file,
            "header needs a version and at least one source",
        ));
    }
    let mut ids = BTreeSet::new();
    let metas = r
        .device_class
        .iter()
        .map(DeviceClass::meta)
        .chain(r.code.iter().map(CodeRule::meta))
        .chain(r.requirement.iter().map(Requirement::meta))
        .chain(r.documentation.iter().map(DocumentationRule::meta));
    for m in metas {
        if !ids.insert(m.id.clone()) {
            return Err(invalid(file, format!("rule id {} is used twice", m.id)));
        }
        if m.source.trim().is_empty() {
            return Err(invalid(file, format!("rule {} has no source", m.id)));
        }
        if m.effective_to.is_some_and(|t| t < m.effective_from) {
            return Err(invalid(
                file,
                format!("rule {}: effective_to is before effective_from", m.id),
            ));
        }
    }
    for (i, a) in r.device_class.iter().enumerate() {
        if a.diagnosis_prefixes.is_empty() {
            return Err(invalid(
                file,
                format!("rule {}: no diagnosis_prefixes", a.id),
            ));
        }
        for b in &r.device_class[i + 1..] {
            if a.regulation == b.regulation
                && date_ranges_overlap(
                    (a.effective_from, a.effective_to),
                    (b.effective_from, b.effective_to),
                )
            {
                return Err(invalid(
                    file,
                    format!("rules {} and {}: one regulation twice at once", a.id, b.id),
                ));
            }
        }
    }
    for (i, a) in r.code.iter().enumerate() {
        match a.kind {
            CodeKind::First if a.min_minutes.is_none_or(|m| m == 0) => {
                return Err(invalid(
                    file,
                    format!("rule {}: a first tier needs min_minutes > 0", a.id),
                ));
            }
            CodeKind::Additional => {
                if a.step_minutes.is_none_or(|s| s == 0) {
                    return Err(invalid(
                        file,
                        format!("rule {}: an add-on needs step_minutes > 0", a.id),
                    ));
                }
                let ok = r.code.iter().any(|p| {
                    p.kind == CodeKind::First
                        && Some(p.code.as_str()) == a.parent.as_deref()
                        && date_ranges_overlap(
                            (p.effective_from, p.effective_to),
                            (a.effective_from, a.effective_to),
                        )
                });
                if !ok {
                    return Err(invalid(
                        file,
                        format!("rule {}: parent is not a first tier in force", a.id),
                    ));
                }
            }
            _ => {}
        }
        for b in &r.code[i + 1..] {
            if a.kind == b.kind
                && a.kind != CodeKind::Additional
                && date_ranges_overlap(
                    (a.effective_from, a.effective_to),
                    (b.effective_from, b.effective_to),
                )
            {
                return Err(invalid(
                    file,
                    format!("rules {} and {}: two codes of one kind at once", a.id, b.id),
                ));
            }
        }
    }
    for d in &r.documentation {
        if d.phrases
            .iter()
            .all(|p| crate::pla::phrase_key(p).is_empty())
        {
            return Err(invalid(file, format!("rule {}: no phrases", d.id)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"{
        "dos": "2026-02-10",
        "device": {"name": "Rejoyn", "fda_regulation": "21 CFR 882.5801", "cleared": true},
        "diagnosis_codes": ["F33.1"],
        "treatment_plan": {"documented": true, "by_billing_practitioner": true},
        "supply_date": "2026-02-03",
        "management": [{"month": "2026-02", "minutes": 45, "interactive": true}]
    }"#;

    #[test]
    fn builtin_rules_load() {
        let e = DmhtEngine::builtin().unwrap();
        assert_eq!(e.header().version, "2026.1");
        assert!(!e.rule_metas().is_empty());
    }

    #[test]
    fn full_case_codes() {
        let c = parse_case(CASE, "case.json").unwrap();
        assert_eq!(c.device.fda_regulation, "882.5801");
        assert_eq!(c.diagnosis_codes, vec!["F331"]);
        let r = DmhtEngine::builtin().unwrap().evaluate(&c).unwrap();
        let codes: Vec<(&str, u32)> = r.lines.iter().map(|l| (l.code.as_str(), l.units)).collect();
        assert_eq!(codes, vec![("G0552", 1), ("G0553", 1), ("G0554", 1)]);
        assert!(r.missing.is_empty(), "{:?}", r.missing);
    }

    #[test]
    fn errors_name_the_field() {
        let bad = CASE.replace("\"2026-02\"", "\"Feb 2026\"");
        let err = parse_case(&bad, "case.json").unwrap_err().to_string();
        assert!(err.starts_with("case.json: management[0].month:"), "{err}");
        let bad = CASE.replace("\"cleared\": true", "\"cleared\": \"yes\"");
        let err = parse_case(&bad, "case.json").unwrap_err().to_string();
        assert!(err.starts_with("case.json: device.cleared:"), "{err}");
    }

    #[test]
    fn note_evidence_and_gaps() {
        let mut c = parse_case(CASE, "case.json").unwrap();
        c.note = Some("Rejoyn prescribed as an adjunct. No treatment plan on file.".to_string());
        let r = DmhtEngine::builtin().unwrap().evaluate(&c).unwrap();
        assert!(
            r.evidence
                .iter()
                .any(|e| e.finding == "device" && !e.negated)
        );
        assert!(
            r.evidence
                .iter()
                .any(|e| e.finding == "treatment_plan" && e.negated)
        );
        assert!(
            r.missing.iter().any(|m| m.contains("treatment plan")),
            "{:?}",
            r.missing
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_case_never_panics(text in "\\PC{0,300}") {
                let _ = parse_case(&text, "fuzz.json");
            }

            #[test]
            fn evaluate_never_panics_and_evidence_is_verbatim(
                minutes in 0u32..100,
                interactive in any::<bool>(),
                documented in any::<bool>(),
                reg in prop::sample::select(&["882.5801", "882.5803", "882.5891"][..]),
                note in prop::collection::vec(prop::sample::select(&["no", "treatment", "plan", "Rejoyn", "digital", "therapeutic", "ü", ".", "care"][..]), 0..20),
            ) {
                let mut c = parse_case(CASE, "case.json").unwrap();
                c.management[0].minutes = minutes;
                c.management[0].interactive = interactive;
                c.treatment_plan.documented = documented;
                c.device.fda_regulation = reg.to_string();
                let text = note.join(" ");
                c.note = Some(text.clone());
                let r = DmhtEngine::builtin().unwrap().evaluate(&c).unwrap();
                let chars: Vec<char> = text.chars().collect();
                for e in &r.evidence {
                    let span: String = chars[e.evidence.start..e.evidence.end].iter().collect();
                    prop_assert_eq!(&span, &e.evidence.text);
                }
                if !documented {
                    prop_assert!(r.lines.is_empty());
                }
            }
        }
    }
}
