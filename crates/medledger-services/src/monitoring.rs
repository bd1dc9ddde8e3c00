//! Remote physiologic (RPM) and remote therapeutic (RTM) monitoring: from a
//! 30-day device period's structured data (readings per day, setup,
//! management minutes with interactive communication) to the codes that can
//! be billed and the ones that cannot, with the rule behind each.
//!
//! Two clocks, as in CPT and the CMS fee-schedule rules: device supply and
//! setup are counted per 30-day period starting at `period_start` (days with
//! data in `period_start ..= period_start + 29`); treatment management is
//! counted per calendar month, so a period that straddles two months yields
//! management lines per month (each line names its month). Rules are chosen
//! by date of service: the period start for supply and setup, the first day
//! of the month for management.
//!
//! Where sources differ or leave room, the choices are:
//! - 99458/98981 count only after 99457/98980 (their CPT parent codes); a
//!   month at 10–19 minutes gets 99470/98979 and no add-on, although some
//!   vendor summaries say 99458 may follow 99470.
//! - Setup (99453/98975) needs as many days of data as the smallest supply
//!   band in force: 16 before 2026, 2 from 2026 (our reading of the CPT 2026
//!   revision; the rule file carries both with their dates).
//! - Readings outside the 30-day period are ignored with a warning;
//!   management entries outside it still count in their calendar month.
//!
//! Every threshold and combination rule lives in `rules/monitoring.toml`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rules::{RuleFileHeader, RuleMeta, invalid, parse_rule_file};

const BUILTIN_FILE: &str = "monitoring.toml";
const BUILTIN: &str = include_str!("../rules/monitoring.toml");

/// Length of a device-supply period in days.
pub const PERIOD_DAYS: i32 = 30;

// ---------------------------------------------------------------------------
// Input

/// Which monitoring family a period belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    /// Remote physiologic monitoring.
    Rpm,
    /// Remote therapeutic monitoring.
    Rtm,
}

impl Program {
    fn as_str(self) -> &'static str {
        match self {
            Program::Rpm => "rpm",
            Program::Rtm => "rtm",
        }
    }
}

/// What an RTM device monitors; it decides the RTM supply code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtmKind {
    Respiratory,
    Musculoskeletal,
    Cbt,
}

/// Who logged management time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Performer {
    Physician,
    Qhp,
    ClinicalStaff,
}

/// Device readings on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reading {
    pub date: Date,
    pub count: u32,
}

/// The monitoring device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Whether the device meets the FDA definition of a medical device.
    pub fda_defined: bool,
    pub name: Option<String>,
}

/// Initial setup and patient education.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setup {
    pub date: Date,
    pub education_documented: bool,
}

/// One logged block of treatment-management time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagementEntry {
    pub date: Date,
    pub minutes: u32,
    /// Real-time interactive communication (audio-video or audio) with the
    /// patient or caregiver.
    pub interactive: bool,
    pub by: Performer,
}

/// A code already billed for this patient: for the whole period (no date)
/// or on a date (management codes then count for that date's month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BilledCode {
    pub code: String,
    pub date: Option<Date>,
}

/// One 30-day monitoring period (`PERIOD.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringPeriod {
    pub program: Program,
    pub rtm_kind: Option<RtmKind>,
    pub period_start: Date,
    pub device: Option<Device>,
    pub readings: Vec<Reading>,
    pub setup: Option<Setup>,
    /// Setup was already billed for this episode of care.
    pub setup_already_billed: bool,
    pub management: Vec<ManagementEntry>,
    pub payer: Option<String>,
    pub already_billed: Vec<BilledCode>,
    /// The other monitoring program, billed for the patient in this period.
    pub other_program_billed: Option<Program>,
}

const PERIOD_FIELDS: &[&str] = &[
    "program",
    "rtm_kind",
    "period_start",
    "device",
    "readings",
    "setup",
    "setup_already_billed",
    "management",
    "payer",
    "already_billed",
    "other_program_billed",
];

/// Parses a monitoring period from JSON. Unknown fields are rejected and
/// every error names `what` and the field (`period.json: management[3].minutes`).
pub fn parse_period(json_text: &str, what: &str) -> Result<MonitoringPeriod> {
    let value: serde_json::Value = serde_json::from_str(json_text).map_err(|e| {
        Error::input(
            format!("{what}: line {} column {}", e.line(), e.column()),
            "not valid JSON",
        )
    })?;
    period_from_value(&value, what)
}

/// As [`parse_period`], for an already parsed JSON value.
pub fn period_from_value(value: &serde_json::Value, what: &str) -> Result<MonitoringPeriod> {
    let obj = json::Obj::new(value, what, "", PERIOD_FIELDS)?;
    let program: Program = obj.req("program")?;
    let rtm_kind: Option<RtmKind> = obj.opt("rtm_kind")?;
    match (program, rtm_kind) {
        (Program::Rtm, None) => {
            return Err(obj.error(
                "rtm_kind",
                "an RTM period needs rtm_kind (respiratory, musculoskeletal or cbt)",
            ));
        }
        (Program::Rpm, Some(_)) => {
            return Err(obj.error("rtm_kind", "rtm_kind only applies to RTM periods"));
        }
        _ => {}
    }
    let period_start: Date = obj.req("period_start")?;
    if period_start
        .checked_add(jiff::Span::new().days(PERIOD_DAYS))
        .is_err()
    {
        return Err(obj.error("period_start", "date too late for a 30-day period"));
    }
    let device = match obj.get("device") {
        None => None,
        Some(v) => {
            let d = obj.child(v, "device", &["fda_defined", "name"])?;
            Some(Device {
                fda_defined: d.req("fda_defined")?,
                name: d.opt("name")?,
            })
        }
    };
    let mut readings = Vec::new();
    for (i, v) in obj.array("readings")?.iter().enumerate() {
        let path = format!("readings[{i}]");
        if v.is_string() {
            readings.push(Reading {
                date: obj.leaf(v, &path)?,
                count: 1,
            });
        } else {
            let r = obj.child(v, &path, &["date", "count"])?;
            readings.push(Reading {
                date: r.req("date")?,
                count: r.req("count")?,
            });
        }
    }
    let setup = match obj.get("setup") {
        None => None,
        Some(v) => {
            let s = obj.child(v, "setup", &["date", "education_documented"])?;
            Some(Setup {
                date: s.req("date")?,
                education_documented: s.req("education_documented")?,
            })
        }
    };
    let mut management = Vec::new();
    for (i, v) in obj.array("management")?.iter().enumerate() {
        let m = obj.child(
            v,
            &format!("management[{i}]"),
            &["date", "minutes", "interactive", "by"],
        )?;
        let minutes: u32 = m.req("minutes")?;
        if minutes > 24 * 60 {
            return Err(m.error("minutes", "more than 24 hours in one entry"));
        }
        management.push(ManagementEntry {
            date: m.req("date")?,
            minutes,
            interactive: m.req("interactive")?,
            by: m.req("by")?,
        });
    }
    let mut already_billed = Vec::new();
    for (i, v) in obj.array("already_billed")?.iter().enumerate() {
        let path = format!("already_billed[{i}]");
        let billed = if v.is_string() {
            BilledCode {
                code: obj.leaf(v, &path)?,
                date: None,
            }
        } else {
            let b = obj.child(v, &path, &["code", "date"])?;
            BilledCode {
                code: b.req("code")?,
                date: b.opt("date")?,
            }
        };
        if billed.code.trim().is_empty() {
            return Err(Error::input(json::join(what, &path), "code is empty"));
        }
        already_billed.push(billed);
    }
    let other_program_billed: Option<Program> = obj.opt("other_program_billed")?;
    if other_program_billed == Some(program) {
        return Err(obj.error(
            "other_program_billed",
            "names this period's own program; give the other program (rpm or rtm)",
        ));
    }
    Ok(MonitoringPeriod {
        program,
        rtm_kind,
        period_start,
        device,
        readings,
        setup,
        setup_already_billed: obj.opt("setup_already_billed")?.unwrap_or(false),
        management,
        payer: obj.opt("payer")?,
        already_billed,
        other_program_billed,
    })
}

/// Field-by-field JSON decoding with the path of each field in errors;
/// leaves are decoded with serde.
pub(crate) mod json {
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Value};

    use crate::error::{Error, Result};

    pub(crate) fn join(what: &str, path: &str) -> String {
        if path.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {path}")
        }
    }

    fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// A JSON object at `path` whose keys were checked against a list.
    pub(crate) struct Obj<'a> {
        map: &'a Map<String, Value>,
        what: &'a str,
        path: String,
    }

    impl<'a> Obj<'a> {
        pub(crate) fn new(
            v: &'a Value,
            what: &'a str,
            path: &str,
            allowed: &[&str],
        ) -> Result<Obj<'a>> {
            let Value::Object(map) = v else {
                return Err(Error::input(
                    join(what, path),
                    format!("expected an object, found {}", kind(v)),
                ));
            };
            if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(Error::input(
                    join(what, &sub(path, k)),
                    format!("unknown field; expected one of {}", allowed.join(", ")),
                ));
            }
            Ok(Obj {
                map,
                what,
                path: path.to_string(),
            })
        }

        /// A nested object at `path` (relative to the root).
        pub(crate) fn child(&self, v: &'a Value, path: &str, allowed: &[&str]) -> Result<Obj<'a>> {
            Obj::new(v, self.what, &sub(&self.path, path), allowed)
        }

        pub(crate) fn error(&self, key: &str, message: impl Into<String>) -> Error {
            Error::input(join(self.what, &sub(&self.path, key)), message)
        }

        /// The value of `key` unless absent or null.
        pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
            self.map.get(key).filter(|v| !v.is_null())
        }

        /// Decodes a value found at `path` below this object.
        pub(crate) fn leaf<T: DeserializeOwned>(&self, v: &Value, path: &str) -> Result<T> {
            T::deserialize(v)
                .map_err(|e| Error::input(join(self.what, &sub(&self.path, path)), e.to_string()))
        }

        pub(crate) fn req<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
            match self.get(key) {
                Some(v) => self.leaf(v, key),
                None => Err(self.error(key, "missing")),
            }
        }

        pub(crate) fn opt<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
            self.get(key).map(|v| self.leaf(v, key)).transpose()
        }

        /// The array at `key`; absent or null is empty.
        pub(crate) fn array(&self, key: &str) -> Result<&'a [Value]> {
            match self.get(key) {
                None => Ok(&[]),
                Some(Value::Array(a)) => Ok(a),
                Some(v) => Err(self.error(key, format!("expected an array, found {}", kind(v)))),
            }
        }
    }

    fn sub(path: &str, key: &str) -> String {
        if path.is_empty() {
            key.to_string()
        } else if key.starts_with('[') {
            format!("{path}{key}")
        } else {
            format!("{path}.{key}")
        }
    }
}

// ---------------------------------------------------------------------------
// Output

/// A billable line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceLine {
    pub code: String,
    pub units: u32,
    /// Our own short label (never CPT descriptor text).
    pub label: String,
    pub reason: String,
    pub rule_id: String,
    /// The calendar month (`2026-03`) of a management line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
}

/// A code that cannot be billed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: String,
    pub reason: String,
    pub rule_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
}

/// The codes for one monitoring period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringResult {
    pub lines: Vec<ServiceLine>,
    pub refused: Vec<Refusal>,
    /// Days with at least one reading inside the 30-day period.
    pub days_with_data: u32,
    /// All logged management minutes.
    pub management_minutes: u32,
    /// Whether any logged entry was an interactive communication.
    pub interactive_communication: bool,
    /// Last day of the 30-day period.
    pub period_end: Date,
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------
// Rules

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    header: RuleFileHeader,
    #[serde(default)]
    supply: Vec<SupplyRule>,
    #[serde(default)]
    setup: Vec<SetupRule>,
    #[serde(default)]
    management: Vec<ManagementRule>,
    #[serde(default)]
    exclusive: Vec<ExclusiveRule>,
    #[serde(default)]
    requirement: Vec<Requirement>,
}

/// Device supply: a day band within the 30-day period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SupplyRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    program: Program,
    #[serde(default)]
    kind: Option<RtmKind>,
    code: String,
    label: String,
    min_days: u32,
    max_days: u32,
    /// A note shown with the line for these payers (e.g. contractor pricing).
    #[serde(default)]
    payer_notes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    program: Program,
    code: String,
    label: String,
    /// Days of data in the period needed before setup can be billed.
    min_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Tier {
    /// A first-time-block code: billed once a month when the month's minutes
    /// fall in `min_minutes ..= max_minutes`.
    First,
    /// An add-on: one unit per full `step_minutes` beyond its parent's
    /// threshold.
    Additional,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManagementRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    program: Program,
    code: String,
    label: String,
    tier: Tier,
    #[serde(default)]
    min_minutes: Option<u32>,
    #[serde(default)]
    max_minutes: Option<u32>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    step_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Scope {
    /// The 30-day device period.
    Period,
    /// The calendar month.
    Month,
}

/// Codes of which only one may be billed per scope.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusiveRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    scope: Scope,
    codes: Vec<String>,
    reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RequirementKind {
    /// Management needs a real-time interactive communication in the month.
    InteractiveCommunication,
    /// Supply and setup need a device meeting the FDA device definition.
    FdaDevice,
    /// Setup once per episode of care.
    SetupOncePerEpisode,
    /// Setup includes patient education, which must be documented.
    SetupEducation,
    /// RPM and RTM are not billed together for a patient in one period.
    ProgramExclusive,
    /// A code already billed in its scope is not billed again.
    NoDuplicate,
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
}

use crate::rules::{date_ranges_overlap, meta_of};
meta_of!(SupplyRule);
meta_of!(SetupRule);
meta_of!(ManagementRule);
meta_of!(ExclusiveRule);
meta_of!(Requirement);

/// The RPM/RTM rule engine.
#[derive(Debug, Clone)]
pub struct MonitoringEngine {
    header: RuleFileHeader,
    rules: RuleFile,
}

impl MonitoringEngine {
    /// The engine over the built-in `rules/monitoring.toml`.
    pub fn builtin() -> Result<Self> {
        Self::from_rules(BUILTIN, BUILTIN_FILE)
    }

    /// The engine over a rule file's text; `file` names it in errors.
    pub fn from_rules(text: &str, file: &str) -> Result<Self> {
        let rules: RuleFile = parse_rule_file(text, file)?;
        validate(&rules, file)?;
        Ok(MonitoringEngine {
            header: rules.header.clone(),
            rules,
        })
    }

    /// The rule file's header.
    pub fn header(&self) -> &RuleFileHeader {
        &self.header
    }

    /// Provenance of every rule in the file.
    pub fn rule_metas(&self) -> Vec<RuleMeta> {
        let r = &self.rules;
        r.supply
            .iter()
            .map(SupplyRule::meta)
            .chain(r.setup.iter().map(SetupRule::meta))
            .chain(r.management.iter().map(ManagementRule::meta))
            .chain(r.exclusive.iter().map(ExclusiveRule::meta))
            .chain(r.requirement.iter().map(Requirement::meta))
            .collect()
    }

    fn requirement(&self, kind: RequirementKind, dos: Date) -> Option<&Requirement> {
        self.rules
            .requirement
            .iter()
            .find(|r| r.kind == kind && r.applies_on(dos))
    }

    /// Chooses the codes for one period and refuses what cannot be billed.
    pub fn evaluate(&self, period: &MonitoringPeriod) -> Result<MonitoringResult> {
        let start = period.period_start;
        let period_end = start
            .checked_add(jiff::Span::new().days(PERIOD_DAYS - 1))
            .map_err(|_| Error::input("period_start", "date too late for a 30-day period"))?;
        let in_period = |d: Date| d >= start && d <= period_end;
        let mut warnings = Vec::new();
        let mut lines: Vec<Candidate> = Vec::new();
        let mut refused: Vec<Refusal> = Vec::new();

        // Days with data.
        let mut days = BTreeSet::new();
        let mut outside = 0usize;
        for r in &period.readings {
            if !in_period(r.date) {
                outside += 1;
            } else if r.count > 0 {
                days.insert(r.date);
            }
        }
        if outside > 0 {
            warnings.push(format!(
                "{outside} reading day(s) fall outside the 30-day period {start} to {period_end} and were not counted"
            ));
        }
        let n_days = days.len() as u32;

        let fda_rule = self.requirement(RequirementKind::FdaDevice, start);
        let device_refusal = match (&period.device, fda_rule) {
            (Some(d), Some(rule)) if !d.fda_defined => Some(rule),
            (None, Some(_)) => {
                warnings.push(
                    "the device's FDA status is not given; supply and setup need a device that meets the FDA definition of a medical device"
                        .to_string(),
                );
                None
            }
            _ => None,
        };

        // Device supply.
        let tiers: Vec<&SupplyRule> = self
            .rules
            .supply
            .iter()
            .filter(|s| {
                s.program == period.program && s.kind == period.rtm_kind && s.applies_on(start)
            })
            .collect();
        if n_days == 0 {
            if !tiers.is_empty() {
                warnings.push("no device data in the period; no supply code".to_string());
            }
        } else if let Some(tier) = tiers
            .iter()
            .find(|t| n_days >= t.min_days && n_days <= t.max_days)
        {
            if let Some(rule) = device_refusal {
                refused.push(Refusal {
                    code: tier.code.clone(),
                    reason: "the device does not meet the FDA definition of a medical device"
                        .to_string(),
                    rule_id: rule.id.clone(),
                    month: None,
                });
            } else {
                if let Some(note) = period
                    .payer
                    .as_deref()
                    .and_then(|p| tier.payer_notes.get(&p.to_ascii_lowercase()))
                {
                    warnings.push(format!("{}: {note}", tier.code));
                }
                lines.push(Candidate {
                    line: ServiceLine {
                        code: tier.code.clone(),
                        units: 1,
                        label: tier.label.clone(),
                        reason: format!(
                            "{n_days} day(s) with data in the 30-day period ({}–{} days)",
                            tier.min_days, tier.max_days
                        ),
                        rule_id: tier.id.clone(),
                        month: None,
                    },
                    scope: ScopeKey::Period,
                });
            }
        } else if let Some(lowest) = tiers.iter().min_by_key(|t| t.min_days) {
            if n_days < lowest.min_days {
                refused.push(Refusal {
                    code: lowest.code.clone(),
                    reason: format!(
                        "{n_days} day(s) with data in the 30-day period; at least {} needed on {start}",
                        lowest.min_days
                    ),
                    rule_id: lowest.id.clone(),
                    month: None,
                });
            }
        } else {
            warnings.push(format!(
                "no device-supply rule for {} on {start}",
                period.program.as_str()
            ));
        }

        // Setup.
        if let Some(setup) = &period.setup {
            let rule = self
                .rules
                .setup
                .iter()
                .find(|s| s.program == period.program && s.applies_on(start));
            match rule {
                None => warnings.push(format!("no setup rule applies on {}", setup.date)),
                Some(rule) => {
                    let refuse = |reason: String, rule_id: &str| Refusal {
                        code: rule.code.clone(),
                        reason,
                        rule_id: rule_id.to_string(),
                        month: None,
                    };
                    let once = self.requirement(RequirementKind::SetupOncePerEpisode, start);
                    let edu = self.requirement(RequirementKind::SetupEducation, start);
                    if let (true, Some(once)) = (period.setup_already_billed, once) {
                        refused.push(refuse(
                            "setup was already billed for this episode of care".to_string(),
                            &once.id,
                        ));
                    } else if let Some(dev) = device_refusal {
                        refused.push(refuse(
                            "the device does not meet the FDA definition of a medical device"
                                .to_string(),
                            &dev.id,
                        ));
                    } else if let (false, Some(edu)) = (setup.education_documented, edu) {
                        refused.push(refuse(
                            "patient education on the device is not documented".to_string(),
                            &edu.id,
                        ));
                    } else if n_days < rule.min_days {
                        refused.push(refuse(
                            format!(
                                "monitoring occurred on {n_days} day(s); setup needs at least {}",
                                rule.min_days
                            ),
                            &rule.id,
                        ));
                    } else {
                        if !in_period(setup.date) {
                            warnings.push(format!(
                                "setup date {} is outside the 30-day period",
                                setup.date
                            ));
                        }
                        lines.push(Candidate {
                            line: ServiceLine {
                                code: rule.code.clone(),
                                units: 1,
                                label: rule.label.clone(),
                                reason: format!(
                                    "setup and education on {}, with {n_days} day(s) of monitoring",
                                    setup.date
                                ),
                                rule_id: rule.id.clone(),
                                month: None,
                            },
                            scope: ScopeKey::Period,
                        });
                    }
                }
            }
        }

        // Treatment management, per calendar month.
        let mut months: BTreeMap<(i16, i8), (u32, bool)> = BTreeMap::new();
        let mut outside_mgmt = 0usize;
        for e in &period.management {
            let slot = months.entry((e.date.year(), e.date.month())).or_default();
            slot.0 += e.minutes;
            slot.1 |= e.interactive;
            if !in_period(e.date) {
                outside_mgmt += 1;
            }
        }
        if outside_mgmt > 0 {
            warnings.push(format!(
                "{outside_mgmt} management entr(ies) fall outside the 30-day period; management is counted per calendar month"
            ));
        }
        for (&(year, month), &(minutes, interactive)) in &months {
            let first_day =
                Date::new(year, month, 1).map_err(|e| Error::input("management", e.to_string()))?;
            let label_month = format!("{year:04}-{month:02}");
            self.management_month(
                period.program,
                first_day,
                &label_month,
                minutes,
                interactive,
                &mut lines,
                &mut refused,
            );
        }

        // Combination rules.
        self.apply_combinations(period, start, period_end, &mut lines, &mut refused);

        let management_minutes = period.management.iter().map(|e| e.minutes).sum();
        let interactive_communication = period.management.iter().any(|e| e.interactive);
        Ok(MonitoringResult {
            lines: lines.into_iter().map(|c| c.line).collect(),
            refused,
            days_with_data: n_days,
            management_minutes,
            interactive_communication,
            period_end,
            warnings,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn management_month(
        &self,
        program: Program,
        first_day: Date,
        label_month: &str,
        minutes: u32,
        interactive: bool,
        lines: &mut Vec<Candidate>,
        refused: &mut Vec<Refusal>,
    ) {
        let month = Some(label_month.to_string());
        let mut firsts: Vec<&ManagementRule> = self
            .rules
            .management
            .iter()
            .filter(|m| m.program == program && m.tier == Tier::First && m.applies_on(first_day))
            .collect();
        firsts.sort_by_key(|m| m.min_minutes.unwrap_or(0));
        let Some(lowest) = firsts.first() else {
            return;
        };
        let chosen = firsts.iter().rev().find(|m| {
            minutes >= m.min_minutes.unwrap_or(0) && m.max_minutes.is_none_or(|mx| minutes <= mx)
        });
        let Some(chosen) = chosen else {
            if minutes > 0 {
                refused.push(Refusal {
                    code: lowest.code.clone(),
                    reason: format!(
                        "{minutes} management minute(s) in {label_month}; at least {} needed",
                        lowest.min_minutes.unwrap_or(0)
                    ),
                    rule_id: lowest.id.clone(),
                    month,
                });
            }
            return;
        };
        let addons: Vec<&ManagementRule> = self
            .rules
            .management
            .iter()
            .filter(|m| {
                m.program == program
                    && m.tier == Tier::Additional
                    && m.parent.as_deref() == Some(chosen.code.as_str())
                    && m.applies_on(first_day)
            })
            .collect();
        let base = chosen.min_minutes.unwrap_or(0);
        let addon_units = |a: &ManagementRule| {
            let step = a.step_minutes.unwrap_or(u32::MAX).max(1);
            minutes.saturating_sub(base) / step
        };
        let interactive_rule =
            self.requirement(RequirementKind::InteractiveCommunication, first_day);
        if let (false, Some(rule)) = (interactive, interactive_rule) {
            let reason = format!(
                "no real-time interactive communication with the patient or caregiver in {label_month}"
            );
            refused.push(Refusal {
                code: chosen.code.clone(),
                reason: reason.clone(),
                rule_id: rule.id.clone(),
                month: month.clone(),
            });
            for a in addons.iter().filter(|a| addon_units(a) > 0) {
                refused.push(Refusal {
                    code: a.code.clone(),
                    reason: reason.clone(),
                    rule_id: rule.id.clone(),
                    month: month.clone(),
                });
            }
            return;
        }
        lines.push(Candidate {
            line: ServiceLine {
                code: chosen.code.clone(),
                units: 1,
                label: chosen.label.clone(),
                reason: match chosen.max_minutes {
                    Some(mx) => format!(
                        "{minutes} management minute(s) in {label_month} ({base}–{mx}), with interactive communication"
                    ),
                    None => format!(
                        "{minutes} management minute(s) in {label_month} (at least {base}), with interactive communication"
                    ),
                },
                rule_id: chosen.id.clone(),
                month: month.clone(),
            },
            scope: ScopeKey::Month(first_day),
        });
        for a in addons {
            let units = addon_units(a);
            if units == 0 {
                continue;
            }
            lines.push(Candidate {
                line: ServiceLine {
                    code: a.code.clone(),
                    units,
                    label: a.label.clone(),
                    reason: format!(
                        "{} minute(s) beyond the first {base} in {label_month}: {units} full block(s) of {}",
                        minutes - base,
                        a.step_minutes.unwrap_or(0)
                    ),
                    rule_id: a.id.clone(),
                    month: month.clone(),
                },
                scope: ScopeKey::Month(first_day),
            });
        }
    }

    fn apply_combinations(
        &self,
        period: &MonitoringPeriod,
        start: Date,
        period_end: Date,
        lines: &mut Vec<Candidate>,
        refused: &mut Vec<Refusal>,
    ) {
        // RPM and RTM together.
        if let (Some(other), Some(rule)) = (
            period.other_program_billed,
            self.requirement(RequirementKind::ProgramExclusive, start),
        ) {
            for c in lines.drain(..) {
                refused.push(Refusal {
                    code: c.line.code,
                    reason: format!(
                        "{} was already billed for this patient in the period; {} and {} are not billed together",
                        other.as_str().to_uppercase(),
                        period.program.as_str().to_uppercase(),
                        other.as_str().to_uppercase()
                    ),
                    rule_id: rule.id.clone(),
                    month: c.line.month,
                });
            }
            return;
        }
        // Already billed: duplicates and mutually exclusive codes.
        let billed_in = |scope: ScopeKey, b: &BilledCode| match (scope, b.date) {
            (_, None) => true,
            (ScopeKey::Period, Some(d)) => d >= start && d <= period_end,
            (ScopeKey::Month(first), Some(d)) => {
                d.year() == first.year() && d.month() == first.month()
            }
        };
        let mut kept: Vec<Candidate> = Vec::new();
        let mut refused_codes: Vec<(String, ScopeKey)> = Vec::new();
        for c in lines.drain(..) {
            let dos = match c.scope {
                ScopeKey::Period => start,
                ScopeKey::Month(first) => first,
            };
            let mut refusal: Option<(String, String)> = None;
            if let Some(rule) = self.requirement(RequirementKind::NoDuplicate, dos)
                && period
                    .already_billed
                    .iter()
                    .any(|b| b.code == c.line.code && billed_in(c.scope, b))
            {
                refusal = Some((
                    format!(
                        "{} was already billed in this {}",
                        c.line.code,
                        c.scope.word()
                    ),
                    rule.id.clone(),
                ));
            }
            if refusal.is_none() {
                for ex in self
                    .rules
                    .exclusive
                    .iter()
                    .filter(|e| e.applies_on(dos) && e.codes.contains(&c.line.code))
                {
                    let scope = match (ex.scope, c.scope) {
                        (Scope::Period, _) => ScopeKey::Period,
                        (Scope::Month, ScopeKey::Month(first)) => ScopeKey::Month(first),
                        (Scope::Month, ScopeKey::Period) => ScopeKey::Month(start),
                    };
                    if let Some(b) = period.already_billed.iter().find(|b| {
                        b.code != c.line.code && ex.codes.contains(&b.code) && billed_in(scope, b)
                    }) {
                        refusal = Some((
                            format!("{} already billed: {}", b.code, ex.reason),
                            ex.id.clone(),
                        ));
                        break;
                    }
                }
            }
            // An add-on whose primary code was refused goes with it.
            if refusal.is_none()
                && let Some(parent) = self.parent_of(&c.line.code, dos)
                && refused_codes
                    .iter()
                    .any(|(code, s)| *code == parent && *s == c.scope)
            {
                refusal = Some((
                    format!("its primary code {parent} cannot be billed"),
                    c.line.rule_id.clone(),
                ));
            }
            match refusal {
                Some((reason, rule_id)) => {
                    refused_codes.push((c.line.code.clone(), c.scope));
                    refused.push(Refusal {
                        code: c.line.code,
                        reason,
                        rule_id,
                        month: c.line.month,
                    });
                }
                None => kept.push(c),
            }
        }
        *lines = kept;
    }

    fn parent_of(&self, code: &str, dos: Date) -> Option<String> {
        self.rules
            .management
            .iter()
            .find(|m| m.code == code && m.tier == Tier::Additional && m.applies_on(dos))
            .and_then(|m| m.parent.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKey {
    Period,
    /// First day of the calendar month.
    Month(Date),
}

impl ScopeKey {
    fn word(self) -> &'static str {
        match self {
            ScopeKey::Period => "30-day period",
            ScopeKey::Month(_) => "calendar month",
        }
    }
}

struct Candidate {
    line: ServiceLine,
    scope: ScopeKey,
}

fn validate(r: &RuleFile, file: &str) -> Result<()> {
    if r.header.version.trim().is_empty() || r.header.sources.is_empty() {
        return Err(invalid(
            file,
            "header needs a version and at least one source",
        ));
    }
    let metas: Vec<RuleMeta> = r
        .supply
        .iter()
        .map(SupplyRule::meta)
        .chain(r.setup.iter().map(SetupRule::meta))
        .chain(r.management.iter().map(ManagementRule::meta))
        .chain(r.exclusive.iter().map(ExclusiveRule::meta))
        .chain(r.requirement.iter().map(Requirement::meta))
        .collect();
    let mut ids = BTreeSet::new();
    for m in &metas {
        if m.id.trim().is_empty() || m.source.trim().is_empty() {
            return Err(invalid(file, "every rule needs an id and a source"));
        }
        if !ids.insert(m.id.as_str()) {
            return Err(invalid(file, format!("rule id {} is used twice", m.id)));
        }
        if m.effective_to.is_some_and(|to| to < m.effective_from) {
            return Err(invalid(
                file,
                format!("rule {}: effective_to is before effective_from", m.id),
            ));
        }
    }
    let dates = |f: Date, t: Option<Date>| (f, t);
    for (i, a) in r.supply.iter().enumerate() {
        if a.min_days == 0 || a.min_days > a.max_days || a.max_days > PERIOD_DAYS as u32 {
            return Err(invalid(
                file,
                format!(
                    "rule {}: days must satisfy 1 <= min_days <= max_days <= 30",
                    a.id
                ),
            ));
        }
        if (a.program == Program::Rtm) != a.kind.is_some() {
            return Err(invalid(
                file,
                format!("rule {}: RTM supply rules need a kind, RPM ones none", a.id),
            ));
        }
        for b in &r.supply[i + 1..] {
            if a.program == b.program
                && a.kind == b.kind
                && date_ranges_overlap(
                    dates(a.effective_from, a.effective_to),
                    dates(b.effective_from, b.effective_to),
                )
                && a.min_days <= b.max_days
                && b.min_days <= a.max_days
            {
                return Err(invalid(
                    file,
                    format!(
                        "rules {} and {}: day ranges {}–{} and {}–{} overlap",
                        a.id, b.id, a.min_days, a.max_days, b.min_days, b.max_days
                    ),
                ));
            }
        }
    }
    for (i, a) in r.setup.iter().enumerate() {
        if a.min_days == 0 || a.min_days > PERIOD_DAYS as u32 {
            return Err(invalid(
                file,
                format!("rule {}: min_days must be 1–30", a.id),
            ));
        }
        for b in &r.setup[i + 1..] {
            if a.program == b.program
                && date_ranges_overlap(
                    dates(a.effective_from, a.effective_to),
                    dates(b.effective_from, b.effective_to),
                )
            {
                return Err(invalid(
                    file,
                    format!(
                        "rules {} and {}: two setup rules in force at once",
                        a.id, b.id
                    ),
                ));
            }
        }
    }
    let mut last_first: BTreeMap<Program, Vec<&ManagementRule>> = BTreeMap::new();
    for m in &r.management {
        match m.tier {
            Tier::First => {
                let Some(min) = m.min_minutes.filter(|&v| v > 0) else {
                    return Err(invalid(
                        file,
                        format!("rule {}: first tiers need min_minutes > 0", m.id),
                    ));
                };
                if m.max_minutes.is_some_and(|mx| mx < min)
                    || m.parent.is_some()
                    || m.step_minutes.is_some()
                {
                    return Err(invalid(
                        file,
                        format!(
                            "rule {}: a first tier has min_minutes <= max_minutes and no parent or step",
                            m.id
                        ),
                    ));
                }
                let earlier = last_first.entry(m.program).or_default();
                for e in earlier.iter().filter(|e| {
                    date_ranges_overlap(
                        dates(e.effective_from, e.effective_to),
                        dates(m.effective_from, m.effective_to),
                    )
                }) {
                    let e_min = e.min_minutes.unwrap_or(0);
                    let e_max = e.max_minutes.unwrap_or(u32::MAX);
                    if min <= e_min {
                        return Err(invalid(
                            file,
                            format!("rules {} and {}: minute thresholds must ascend", e.id, m.id),
                        ));
                    }
                    if min <= e_max {
                        return Err(invalid(
                            file,
                            format!("rules {} and {}: minute ranges overlap", e.id, m.id),
                        ));
                    }
                }
                earlier.push(m);
            }
            Tier::Additional => {
                if m.step_minutes.is_none_or(|s| s == 0)
                    || m.min_minutes.is_some()
                    || m.max_minutes.is_some()
                {
                    return Err(invalid(
                        file,
                        format!(
                            "rule {}: an add-on needs step_minutes > 0 and no min/max",
                            m.id
                        ),
                    ));
                }
                let Some(parent) = m.parent.as_deref() else {
                    return Err(invalid(
                        file,
                        format!("rule {}: an add-on needs a parent", m.id),
                    ));
                };
                let has_parent = r.management.iter().any(|p| {
                    p.tier == Tier::First
                        && p.program == m.program
                        && p.code == parent
                        && date_ranges_overlap(
                            dates(p.effective_from, p.effective_to),
                            dates(m.effective_from, m.effective_to),
                        )
                });
                if !has_parent {
                    return Err(invalid(
                        file,
                        format!(
                            "rule {}: parent {parent} is not a first tier in force at the same time",
                            m.id
                        ),
                    ));
                }
            }
        }
    }
    let known: BTreeSet<&str> = r
        .supply
        .iter()
        .map(|s| s.code.as_str())
        .chain(r.setup.iter().map(|s| s.code.as_str()))
        .chain(r.management.iter().map(|s| s.code.as_str()))
        .collect();
    for e in &r.exclusive {
        if e.codes.len() < 2 {
            return Err(invalid(
                file,
                format!("rule {}: an exclusive group needs two codes", e.id),
            ));
        }
        if let Some(c) = e.codes.iter().find(|c| !known.contains(c.as_str())) {
            return Err(invalid(file, format!("rule {}: unknown code {c}", e.id)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(json: &str) -> MonitoringPeriod {
        parse_period(json, "period.json").unwrap()
    }

    fn codes(r: &MonitoringResult) -> Vec<(String, u32)> {
        r.lines.iter().map(|l| (l.code.clone(), l.units)).collect()
    }

    #[test]
    fn builtin_rules_load() {
        let e = MonitoringEngine::builtin().unwrap();
        assert_eq!(e.header().version, "2026.1");
        assert!(e.rule_metas().iter().all(|m| !m.source.is_empty()));
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_period(
            r#"{"program":"rpm","period_start":"2026-03-01","management":[{"date":"2026-03-02","minutes":-5,"interactive":true,"by":"qhp"}]}"#,
            "period.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("period.json: management[0].minutes:"),
            "{err}"
        );
        let err = parse_period(
            r#"{"program":"rpm","period_start":"2026-03-01","readings":[{"date":"2026-03-02","cnt":1}]}"#,
            "p.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("p.json: readings[0].cnt: unknown field"),
            "{err}"
        );
        let err = parse_period(r#"{"program":"rtm","period_start":"2026-03-01"}"#, "p.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rtm_kind"), "{err}");
        let err = parse_period(r#"{"program":"rpm","period_start":"2026-02-30"}"#, "p.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.json: period_start:"), "{err}");
    }

    #[test]
    fn readings_accept_dates_or_counts() {
        let p = period(
            r#"{"program":"rpm","period_start":"2026-03-01","readings":["2026-03-01",{"date":"2026-03-02","count":0},{"date":"2026-03-03","count":3}]}"#,
        );
        let r = MonitoringEngine::builtin().unwrap().evaluate(&p).unwrap();
        assert_eq!(r.days_with_data, 2);
        assert_eq!(codes(&r), vec![("99445".to_string(), 1)]);
        assert_eq!(r.period_end, jiff::civil::date(2026, 3, 30));
    }

    #[test]
    fn management_is_split_by_calendar_month() {
        let p = period(
            r#"{"program":"rpm","period_start":"2026-03-20","management":[
                {"date":"2026-03-25","minutes":20,"interactive":true,"by":"clinical_staff"},
                {"date":"2026-04-02","minutes":12,"interactive":true,"by":"physician"}]}"#,
        );
        let r = MonitoringEngine::builtin().unwrap().evaluate(&p).unwrap();
        let got: Vec<(String, Option<String>)> = r
            .lines
            .iter()
            .map(|l| (l.code.clone(), l.month.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("99457".to_string(), Some("2026-03".to_string())),
                ("99470".to_string(), Some("2026-04".to_string()))
            ]
        );
        assert_eq!(r.management_minutes, 32);
    }

    #[test]
    fn validation_rejects_overlapping_day_ranges() {
        let text = BUILTIN.replace("min_days = 2\nmax_days = 15", "min_days = 2\nmax_days = 16");
        let err = MonitoringEngine::from_rules(&text, "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("m.toml") && err.contains("overlap"), "{err}");
    }

    #[test]
    fn validation_rejects_descending_minutes() {
        let text = r#"
[header]
name = "monitoring"
version = "t"
sources = ["test"]

[[management]]
id = "a"
source = "t"
effective_from = "2026-01-01"
program = "rpm"
code = "99457"
label = "x"
tier = "first"
min_minutes = 20

[[management]]
id = "b"
source = "t"
effective_from = "2026-01-01"
program = "rpm"
code = "99470"
label = "y"
tier = "first"
min_minutes = 10
max_minutes = 19
"#;
        let err = MonitoringEngine::from_rules(text, "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ascend"), "{err}");
    }

    #[test]
    fn validation_rejects_orphan_add_on() {
        let text = BUILTIN.replace("parent = \"99457\"", "parent = \"99999\"");
        let err = MonitoringEngine::from_rules(&text, "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("parent 99999"), "{err}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn date() -> impl Strategy<Value = String> {
            (2024i16..2027, 1i8..13, 1i8..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
        }

        fn period_json() -> impl Strategy<Value = String> {
            (
                prop::sample::select(&["rpm", "rtm"][..]),
                prop::sample::select(&["respiratory", "musculoskeletal", "cbt"][..]),
                date(),
                prop::collection::vec((date(), 0u32..3), 0..35),
                prop::collection::vec((date(), 0u32..70, any::<bool>()), 0..6),
                prop::option::of((date(), any::<bool>())),
                any::<bool>(),
                prop::collection::vec(prop::sample::select(&["99454", "99445", "99457", "99470", "98977", "98980"][..]), 0..3),
                prop::option::of(prop::sample::select(&["rpm", "rtm"][..])),
                prop::option::of(any::<bool>()),
            )
                .prop_map(|(program, kind, start, readings, mgmt, setup, twice, billed, other, fda)| {
                    let mut v = serde_json::json!({
                        "program": program,
                        "period_start": start,
                        "readings": readings.iter().map(|(d, c)| serde_json::json!({"date": d, "count": c})).collect::<Vec<_>>(),
                        "management": mgmt.iter().map(|(d, m, i)| serde_json::json!({"date": d, "minutes": m, "interactive": i, "by": "qhp"})).collect::<Vec<_>>(),
                        "setup_already_billed": twice,
                        "already_billed": billed,
                        "payer": "medicare",
                    });
                    if program == "rtm" {
                        v["rtm_kind"] = serde_json::json!(kind);
                    }
                    if let Some((d, e)) = setup {
                        v["setup"] = serde_json::json!({"date": d, "education_documented": e});
                    }
                    if let Some(o) = other {
                        v["other_program_billed"] = serde_json::json!(o);
                    }
                    if let Some(f) = fda {
                        v["device"] = serde_json::json!({"fda_defined": f});
                    }
                    v.to_string()
                })
        }

        proptest! {
            #[test]
            fn parse_period_never_panics(text in "\\PC{0,300}") {
                if let Err(e) = parse_period(&text, "fuzz.json") {
                    prop_assert!(e.to_string().starts_with("fuzz.json"));
                }
            }

            #[test]
            fn parse_period_never_panics_on_json_shaped_input(
                json in period_json(),
                cut in 0usize..400,
                junk in "[\\[\\]{}\",:0-9a-z-]{0,6}",
            ) {
                let mut broken: String = json.chars().take(cut).collect();
                broken.push_str(&junk);
                let _ = parse_period(&broken, "fuzz.json");
            }

            #[test]
            fn evaluate_is_consistent(json in period_json()) {
                let engine = MonitoringEngine::builtin().unwrap();
                let Ok(p) = parse_period(&json, "p.json") else { return Ok(()) };
                let r = engine.evaluate(&p).unwrap();
                let mut seen = BTreeSet::new();
                for l in &r.lines {
                    prop_assert!(l.units >= 1);
                    prop_assert!(seen.insert((l.code.clone(), l.month.clone())), "{} twice", l.code);
                    prop_assert!(!r.refused.iter().any(|x| x.code == l.code && x.month == l.month));
                }
                // One supply code at most, and never one with fewer than 2 days.
                let supply: Vec<&ServiceLine> = r.lines.iter().filter(|l| l.month.is_none() && l.rule_id.contains("supply")).collect();
                prop_assert!(supply.len() <= 1);
                if !supply.is_empty() {
                    prop_assert!(r.days_with_data >= 2);
                }
                if p.other_program_billed.is_some() {
                    prop_assert!(r.lines.is_empty());
                }
            }
        }
    }
}
