//! E/M leveling: office/outpatient (2021+ AMA rules), hospital inpatient and
//! observation, emergency department (2023+) and preventive visits.
//!
//! The level comes from medical decision making (MDM: problems, data, risk;
//! two of three decide) or from total practitioner time on the date of the
//! encounter, whichever supports the higher code, with prolonged-service
//! add-ons by payer. Preventive visits go by age band; a significant problem
//! addressed at the same visit is reported as its own office E/M with
//! modifier 25.
//!
//! Everything the engine knows sits in `rules/em.toml`: MDM criteria, code
//! tables with effective dates, prolonged thresholds, age bands, the section
//! regions it reads and every cue lexicon. The engine reads the note with
//! medledger-text (tokens, sentences, sections, negation and other context)
//! and one phrase automaton built when the rules are loaded.
//!
//! Layout: [`ruleset`] parses and validates the rule file, [`lexicon`]
//! matches phrases, [`note`] annotates a note, [`mdm`] finds and rates the
//! three elements, [`time`] reads time and age statements, [`select`]
//! chooses codes and the next-level CDI query.

mod lexicon;
mod mdm;
mod note;
mod ruleset;
mod select;
mod time;

use jiff::civil::Date;
use medledger_text::ContextAnalyzer;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::rules::Evidence;

/// The rule file compiled into the binary.
const BUILTIN_RULES: &str = include_str!("../../rules/em.toml");
const BUILTIN_FILE: &str = "em.toml";

/// New or established patient (CPT's three-year rule is the caller's call).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PatientStatus {
    New,
    Established,
}

impl PatientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PatientStatus::New => "new",
            PatientStatus::Established => "established",
        }
    }
}

/// Where the visit takes place. Observation uses the hospital codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Setting {
    Office,
    Inpatient,
    Observation,
    Ed,
}

impl Setting {
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::Office => "office",
            Setting::Inpatient => "inpatient",
            Setting::Observation => "observation",
            Setting::Ed => "ed",
        }
    }

    fn is_hospital(self) -> bool {
        matches!(self, Setting::Inpatient | Setting::Observation)
    }
}

/// Which hospital day (inpatient or observation only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HospitalVisit {
    Initial,
    Subsequent,
    Discharge,
}

impl HospitalVisit {
    pub fn as_str(self) -> &'static str {
        match self {
            HospitalVisit::Initial => "initial",
            HospitalVisit::Subsequent => "subsequent",
            HospitalVisit::Discharge => "discharge",
        }
    }
}

/// Payer type: decides 99417 vs G2212 and 99418 vs G0316.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Payer {
    Medicare,
    Commercial,
}

/// What decided the reported code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    Mdm,
    Time,
    Preventive,
    /// A code with no MDM or time requirement (99211, 99281), or the lowest
    /// time-only code when no time is documented (99238).
    Fixed,
}

/// MDM levels (and, per element, minimal/limited/... in the same order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MdmLevel {
    Straightforward = 0,
    Low = 1,
    Moderate = 2,
    High = 3,
}

impl MdmLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            MdmLevel::Straightforward => "straightforward",
            MdmLevel::Low => "low",
            MdmLevel::Moderate => "moderate",
            MdmLevel::High => "high",
        }
    }
}

/// The three MDM elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MdmElement {
    Problems,
    Data,
    Risk,
}

/// Status words next to a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusKind {
    Stable = 0,
    Worsening = 1,
    Severe = 2,
    Systemic = 3,
    Complicated = 4,
    Undiagnosed = 5,
    Threat = 6,
}

impl StatusKind {
    pub const COUNT: usize = 7;
    pub const ALL: [StatusKind; StatusKind::COUNT] = [
        StatusKind::Stable,
        StatusKind::Worsening,
        StatusKind::Severe,
        StatusKind::Systemic,
        StatusKind::Complicated,
        StatusKind::Undiagnosed,
        StatusKind::Threat,
    ];

    pub fn from_index(i: u32) -> Option<StatusKind> {
        StatusKind::ALL.get(i as usize).copied()
    }
}

/// What to level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmRequest {
    pub patient: PatientStatus,
    pub setting: Setting,
    /// Inpatient/observation only; `None` reads it from the note (discharge
    /// summary, H&P, progress note), defaulting to subsequent.
    #[serde(default)]
    pub hospital_visit: Option<HospitalVisit>,
    /// Total practitioner minutes on the date of the encounter; `None`
    /// reads the note's time statement.
    #[serde(default)]
    pub time_minutes: Option<u32>,
    pub date_of_service: Date,
    pub payer: Payer,
    /// Needed for preventive visits; `None` reads it from the note.
    #[serde(default)]
    pub patient_age_years: Option<u32>,
    /// `None` detects a preventive visit from the note.
    #[serde(default)]
    pub preventive: Option<bool>,
}

impl EmRequest {
    /// An office visit on `dos`: commercial payer, time and preventive read
    /// from the note.
    pub fn office(patient: PatientStatus, dos: Date) -> EmRequest {
        EmRequest {
            patient,
            setting: Setting::Office,
            hospital_visit: None,
            time_minutes: None,
            date_of_service: dos,
            payer: Payer::Commercial,
            patient_age_years: None,
            preventive: None,
        }
    }
}

/// One finding behind an element's rating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MdmItem {
    /// Problem class, data kind or risk class id.
    pub kind: String,
    /// Our plain-language description.
    pub label: String,
    /// The rule-file entry that found it (condition, detector, test).
    pub rule: String,
    pub evidence: Vec<Evidence>,
}

/// One element of the MDM grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElementRating {
    pub level: MdmLevel,
    /// The element's own word for the level (minimal, limited, extensive...).
    pub label: String,
    /// The rule whose criteria were met.
    pub rule: String,
    pub reason: String,
    pub items: Vec<MdmItem>,
}

/// The MDM grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MdmGrid {
    pub level: MdmLevel,
    pub label: String,
    /// The elements that meet or exceed the overall level.
    pub decided_by: Vec<MdmElement>,
    pub rule: String,
    pub problems: ElementRating,
    pub data: ElementRating,
    pub risk: ElementRating,
}

/// Where the minutes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    Request,
    Note,
}

/// Total time on the date of the encounter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeFinding {
    pub minutes: u32,
    pub source: TimeSource,
    pub evidence: Option<Evidence>,
    /// The code the time alone supports, if any.
    pub supports: Option<String>,
}

/// The patient's age used for a preventive band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgeFinding {
    pub years: u32,
    pub source: TimeSource,
    pub evidence: Option<Evidence>,
}

/// An additional line: prolonged service, or the problem-oriented E/M at a
/// preventive visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceLine {
    pub code: String,
    pub label: String,
    pub units: u32,
    pub modifiers: Vec<String>,
    pub reason: String,
    pub rule: String,
}

/// The next code up and the documentation that would support it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextLevel {
    pub code: String,
    pub label: String,
    /// What the next code needs, in one line.
    pub needs: String,
    /// CDI query suggestions in plain words.
    pub queries: Vec<String>,
}

/// The leveled visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmResult {
    /// The visit code (for preventive + problem visits: the preventive code;
    /// the problem-oriented code is in `additional`).
    pub code: String,
    pub label: String,
    pub setting: Setting,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital_visit: Option<HospitalVisit>,
    pub basis: Basis,
    pub reason: String,
    pub preventive: bool,
    pub mdm: MdmGrid,
    pub time: Option<TimeFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<AgeFinding>,
    pub additional: Vec<ServiceLine>,
    pub modifiers: Vec<String>,
    pub next_level: Option<NextLevel>,
    /// Ids of the rules applied; the first entry names the rule file and
    /// its version (`em@2026.1`).
    pub rules: Vec<String>,
    pub warnings: Vec<String>,
}

/// The loaded rules plus the automata built from them.
pub struct EmEngine {
    rules: ruleset::Ruleset,
    context: ContextAnalyzer,
}

impl std::fmt::Debug for EmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmEngine")
            .field("file", &self.rules.file)
            .field("version", &self.rules.header.version)
            .field("phrases", &self.rules.matcher.len())
            .finish()
    }
}

impl EmEngine {
    /// The engine over the rule file shipped with the crate.
    pub fn builtin() -> Result<EmEngine> {
        EmEngine::from_rules(BUILTIN_RULES, BUILTIN_FILE)
    }

    /// The engine over a user-supplied rule file (validated; errors name the
    /// file and, where they can, the line).
    pub fn from_rules(text: &str, file_name: &str) -> Result<EmEngine> {
        Ok(EmEngine {
            rules: ruleset::Ruleset::parse(text, file_name)?,
            context: ContextAnalyzer::new(),
        })
    }

    /// The rule file's version.
    pub fn rules_version(&self) -> &str {
        &self.rules.header.version
    }

    /// Levels one visit note.
    pub fn level(&self, note: &str, request: &EmRequest) -> Result<EmResult> {
        if note.trim().is_empty() {
            return Err(Error::input("note", "the note is empty"));
        }
        let analysis = note::Note::analyze(note, &self.rules, &self.context);
        select::level(&self.rules, &analysis, request)
    }
}

#[cfg(test)]
mod tests;
