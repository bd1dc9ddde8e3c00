//! The E/M rule file: its TOML schema, the invariants a rule file must keep,
//! and the compiled form the engine reads (phrase automaton, indexed tables).

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use medledger_text::SectionKind;
use serde::Deserialize;

use super::lexicon::{LexId, PhraseMatcher};
use super::{HospitalVisit, StatusKind};
use super::{MdmLevel, PatientStatus, Payer, Setting};
use crate::error::{Error, Result};
use crate::rules::{RuleFileHeader, RuleMeta, parse_rule_file};

// ---------------------------------------------------------------------------
// Schema.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    header: RuleFileHeader,
    mdm: MdmSpec,
    problem_class: Vec<ProblemClassSpec>,
    problem_type: Vec<ProblemTypeSpec>,
    problem_rule: Vec<ProblemRuleSpec>,
    data_rule: Vec<DataRuleSpec>,
    risk_rule: Vec<RiskRuleSpec>,
    risk_class: Vec<RiskClassSpec>,
    code: Vec<CodeSpec>,
    #[serde(default)]
    prolonged: Vec<ProlongedSpec>,
    #[serde(default)]
    preventive: Vec<PreventiveSpec>,
    preventive_problem: PreventiveProblemSpec,
    regions: RegionsSpec,
    time: TimeSpec,
    age: AgeSpec,
    #[serde(default)]
    condition_lexicon: ConditionLexiconSpec,
    condition: Vec<ConditionSpec>,
    status: StatusSpec,
    test: Vec<TestSpec>,
    #[serde(default)]
    detector: Vec<DetectorSpec>,
    lexicon: BTreeMap<String, LexiconSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LevelLabels {
    pub straightforward: String,
    pub low: String,
    pub moderate: String,
    pub high: String,
}

impl LevelLabels {
    pub fn get(&self, level: MdmLevel) -> &str {
        match level {
            MdmLevel::Straightforward => &self.straightforward,
            MdmLevel::Low => &self.low,
            MdmLevel::Moderate => &self.moderate,
            MdmLevel::High => &self.high,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MdmSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    elements_needed: usize,
    labels: LevelLabels,
    problem_labels: LevelLabels,
    data_labels: LevelLabels,
    risk_labels: LevelLabels,
    status_cdi: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemClassSpec {
    id: String,
    label: String,
    level: MdmLevel,
    #[serde(default)]
    fallback: Option<String>,
    #[serde(default)]
    replaces: Option<String>,
    #[serde(default)]
    settings: Vec<Setting>,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusMapSpec {
    stable: Option<String>,
    worsening: Option<String>,
    severe: Option<String>,
    systemic: Option<String>,
    complicated: Option<String>,
    undiagnosed: Option<String>,
    threat: Option<String>,
}

impl StatusMapSpec {
    fn get(&self, kind: StatusKind) -> Option<&String> {
        match kind {
            StatusKind::Stable => self.stable.as_ref(),
            StatusKind::Worsening => self.worsening.as_ref(),
            StatusKind::Severe => self.severe.as_ref(),
            StatusKind::Systemic => self.systemic.as_ref(),
            StatusKind::Complicated => self.complicated.as_ref(),
            StatusKind::Undiagnosed => self.undiagnosed.as_ref(),
            StatusKind::Threat => self.threat.as_ref(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemTypeSpec {
    #[serde(rename = "type")]
    type_name: String,
    default: String,
    #[serde(default)]
    status: StatusMapSpec,
    #[serde(default)]
    status_expected: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassCountSpec {
    classes: Vec<String>,
    min: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemRuleSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    level: MdmLevel,
    any_of: Vec<ClassCountSpec>,
    cdi: String,
}

/// The kinds of data items the MDM data element counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DataKind {
    ExternalNote,
    TestResult,
    TestOrdered,
    IndependentHistorian,
    IndependentInterpretation,
    ExternalDiscussion,
}

impl DataKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::ExternalNote => "external_note",
            DataKind::TestResult => "test_result",
            DataKind::TestOrdered => "test_ordered",
            DataKind::IndependentHistorian => "independent_historian",
            DataKind::IndependentInterpretation => "independent_interpretation",
            DataKind::ExternalDiscussion => "external_discussion",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategorySpec {
    name: String,
    kinds: Vec<DataKind>,
    min: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataRuleSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    level: MdmLevel,
    categories_needed: usize,
    categories: Vec<CategorySpec>,
    cdi: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskRuleSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    level: MdmLevel,
    cdi: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskClassSpec {
    id: String,
    label: String,
    level: MdmLevel,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
}

/// How a code with no MDM or time requirement is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Select {
    /// Only when the note says no practitioner work was needed.
    NoPractitioner,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    settings: Vec<Setting>,
    #[serde(default)]
    patient: Option<PatientStatus>,
    #[serde(default)]
    visit: Option<HospitalVisit>,
    code: String,
    label: String,
    #[serde(default)]
    mdm: Option<MdmLevel>,
    #[serde(default)]
    time_min: Option<u32>,
    #[serde(default)]
    time_max: Option<u32>,
    #[serde(default)]
    select: Option<Select>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProlongedSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    payer: Payer,
    base: String,
    code: String,
    label: String,
    first_unit_at: u32,
    unit_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreventiveSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    patient: PatientStatus,
    code: String,
    label: String,
    age_min: u32,
    #[serde(default)]
    age_max: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreventiveProblemSpec {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    min_mdm: MdmLevel,
    modifier: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionsSpec {
    pub problems: Vec<SectionKind>,
    pub management: Vec<SectionKind>,
    pub fallback_excluded: Vec<SectionKind>,
    pub any_excluded: Vec<SectionKind>,
    pub tests_excluded: Vec<SectionKind>,
    pub test_results: Vec<SectionKind>,
    pub test_orders: Vec<SectionKind>,
    pub time_excluded: Vec<SectionKind>,
    pub visit_type: Vec<SectionKind>,
    pub preventive: Vec<SectionKind>,
    pub mdm_header_kind: SectionKind,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeSpec {
    cdi_document: String,
    cdi_more: String,
    max_cue_distance: usize,
    number_words: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgeSpec {
    max_years: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionLexiconSpec {
    #[serde(default)]
    pseudo: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionSpec {
    key: String,
    #[serde(rename = "type")]
    type_name: String,
    phrases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusSpec {
    /// A negation cue counts only this many tokens before or after a
    /// status word ("not worsening", but not "without complications - A1c
    /// 7.8%, above goal").
    #[serde(default)]
    negation_window: Option<usize>,
    stable: Vec<String>,
    worsening: Vec<String>,
    severe: Vec<String>,
    systemic: Vec<String>,
    complicated: Vec<String>,
    undiagnosed: Vec<String>,
    threat: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestSpec {
    key: String,
    #[serde(default)]
    interpretable: bool,
    #[serde(default)]
    family: Option<String>,
    #[serde(default)]
    generic: bool,
    phrases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Element {
    Risk,
    Data,
}

/// Where in the note a detector looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Region {
    Problems,
    Management,
    Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorSpec {
    id: String,
    element: Element,
    class: String,
    all_of: Vec<String>,
    #[serde(default)]
    none_of: Vec<String>,
    #[serde(default)]
    seq_max_gap: Option<usize>,
    region: Region,
}

/// Which context assertions drop a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ContextMode {
    /// Negated, hypothetical, historical and family mentions are dropped.
    #[default]
    Affirmed,
    /// Only negated mentions are dropped.
    NotNegated,
    /// Every mention counts.
    Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconSpec {
    #[serde(default)]
    context: ContextMode,
    #[serde(default)]
    negation_window: Option<usize>,
    #[serde(default)]
    fold_plural: bool,
    phrases: Vec<String>,
    #[serde(default)]
    pseudo: Vec<String>,
}

// ---------------------------------------------------------------------------
// Compiled form.

pub(crate) fn meta(
    id: &str,
    source: &str,
    effective_from: Date,
    effective_to: Option<Date>,
) -> RuleMeta {
    RuleMeta {
        id: id.to_string(),
        source: source.to_string(),
        effective_from,
        effective_to,
    }
}

#[derive(Debug)]
pub(crate) struct MdmRules {
    pub meta: RuleMeta,
    pub elements_needed: usize,
    pub labels: LevelLabels,
    pub problem_labels: LevelLabels,
    pub data_labels: LevelLabels,
    pub risk_labels: LevelLabels,
    pub status_cdi: String,
}

#[derive(Debug)]
pub(crate) struct ProblemClass {
    pub id: String,
    pub label: String,
    pub level: MdmLevel,
    pub fallback: Option<usize>,
    pub replaces: Option<usize>,
    pub settings: Vec<Setting>,
    pub meta: RuleMeta,
}

#[derive(Debug)]
pub(crate) struct ProblemType {
    pub default: usize,
    pub status: [Option<usize>; StatusKind::COUNT],
    pub status_expected: bool,
}

#[derive(Debug)]
pub(crate) struct ProblemRule {
    pub meta: RuleMeta,
    pub level: MdmLevel,
    pub any_of: Vec<(Vec<usize>, usize)>,
    pub cdi: String,
}

#[derive(Debug)]
pub(crate) struct Category {
    pub name: String,
    pub kinds: Vec<DataKind>,
    pub min: usize,
}

#[derive(Debug)]
pub(crate) struct DataRule {
    pub meta: RuleMeta,
    pub level: MdmLevel,
    pub categories_needed: usize,
    pub categories: Vec<Category>,
    pub cdi: String,
}

#[derive(Debug)]
pub(crate) struct RiskRule {
    pub meta: RuleMeta,
    pub level: MdmLevel,
    pub cdi: String,
}

#[derive(Debug)]
pub(crate) struct RiskClass {
    pub id: String,
    pub label: String,
    pub level: MdmLevel,
    pub meta: RuleMeta,
}

#[derive(Debug, Clone)]
pub(crate) struct CodeRow {
    pub meta: RuleMeta,
    pub settings: Vec<Setting>,
    pub patient: Option<PatientStatus>,
    pub visit: Option<HospitalVisit>,
    pub code: String,
    pub label: String,
    pub mdm: Option<MdmLevel>,
    pub time_min: Option<u32>,
    pub time_max: Option<u32>,
    pub select: Option<Select>,
}

impl CodeRow {
    pub fn has_time(&self) -> bool {
        self.time_min.is_some() || self.time_max.is_some()
    }

    /// Order within a family: fixed-selection codes first, then by MDM
    /// level, then by time.
    pub fn rank_key(&self) -> (u8, u8, u32) {
        (
            u8::from(self.select.is_none()),
            self.mdm.map_or(0, |l| l as u8),
            self.time_min.unwrap_or(0),
        )
    }
}

#[derive(Debug)]
pub(crate) struct ProlongedRow {
    pub meta: RuleMeta,
    pub payer: Payer,
    pub base: String,
    pub code: String,
    pub label: String,
    pub first_unit_at: u32,
    pub unit_minutes: u32,
}

#[derive(Debug)]
pub(crate) struct PreventiveRow {
    pub meta: RuleMeta,
    pub patient: PatientStatus,
    pub code: String,
    pub label: String,
    pub age_min: u32,
    pub age_max: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct PreventiveProblem {
    pub meta: RuleMeta,
    pub min_mdm: MdmLevel,
    pub modifier: String,
}

#[derive(Debug)]
pub(crate) struct TimeRules {
    pub cdi_document: String,
    pub cdi_more: String,
    pub max_cue_distance: usize,
    pub number_words: HashMap<String, u32>,
}

#[derive(Debug)]
pub(crate) struct Condition {
    pub key: String,
    pub ptype: usize,
}

#[derive(Debug)]
pub(crate) struct TestDef {
    pub key: String,
    pub interpretable: bool,
    pub family: Option<String>,
    pub generic: bool,
}

/// What a detector finds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Finding {
    Risk(usize),
    Data(DataKind),
}

#[derive(Debug)]
pub(crate) struct Detector {
    pub id: String,
    pub finding: Finding,
    pub all_of: Vec<LexId>,
    pub none_of: Vec<LexId>,
    pub seq_max_gap: Option<usize>,
    pub region: Region,
}

#[derive(Debug)]
pub(crate) struct LexInfo {
    pub name: String,
    pub context: ContextMode,
    /// Negation cues farther than this many tokens away do not count.
    pub negation_window: Option<usize>,
}

/// Ids of the lexicons the engine reads directly.
#[derive(Debug)]
pub(crate) struct Lex {
    pub condition: LexId,
    pub test: LexId,
    pub status: LexId,
    pub problem_link: LexId,
    pub differential_cue: LexId,
    pub test_order: LexId,
    pub test_review: LexId,
    pub test_not_done_before: LexId,
    pub test_not_done_after: LexId,
    pub test_value_link: LexId,
    pub interval_unit: LexId,
    pub interpretation_cue: LexId,
    pub mdm_header: LexId,
    pub preventive_cue: LexId,
    pub medicare_awv: LexId,
    pub no_practitioner: LexId,
    pub visit_initial: LexId,
    pub visit_discharge: LexId,
    pub visit_subsequent: LexId,
    pub time_cue_before: LexId,
    pub time_cue_after: LexId,
    pub time_exclude: LexId,
    pub more_than: LexId,
    pub less_than: LexId,
    pub minute_unit: LexId,
    pub hour_unit: LexId,
    pub age_year_unit: LexId,
    pub age_month_unit: LexId,
    pub age_week_unit: LexId,
    pub age_prefix: LexId,
}

/// A validated, compiled rule file.
#[derive(Debug)]
pub(crate) struct Ruleset {
    pub header: RuleFileHeader,
    pub file: String,
    pub mdm: MdmRules,
    pub problem_classes: Vec<ProblemClass>,
    pub problem_types: Vec<ProblemType>,
    pub problem_rules: Vec<ProblemRule>,
    pub data_rules: Vec<DataRule>,
    pub risk_rules: Vec<RiskRule>,
    pub risk_classes: Vec<RiskClass>,
    pub codes: Vec<CodeRow>,
    pub prolonged: Vec<ProlongedRow>,
    pub preventive: Vec<PreventiveRow>,
    pub preventive_problem: PreventiveProblem,
    pub regions: RegionsSpec,
    pub time: TimeRules,
    pub max_age_years: u32,
    pub conditions: Vec<Condition>,
    pub tests: Vec<TestDef>,
    pub detectors: Vec<Detector>,
    pub lexicons: Vec<LexInfo>,
    pub lex: Lex,
    pub matcher: PhraseMatcher,
}

/// Names of the lexicons the engine requires.
const REQUIRED_LEXICONS: &[&str] = &[
    "problem_link",
    "differential_cue",
    "test_order",
    "test_review",
    "test_not_done_before",
    "test_not_done_after",
    "test_value_link",
    "interval_unit",
    "interpretation_cue",
    "mdm_header",
    "preventive_cue",
    "medicare_awv",
    "no_practitioner",
    "visit_initial",
    "visit_discharge",
    "visit_subsequent",
    "time_cue_before",
    "time_cue_after",
    "time_exclude",
    "more_than",
    "less_than",
    "minute_unit",
    "hour_unit",
    "age_year_unit",
    "age_month_unit",
    "age_week_unit",
    "age_prefix",
];

/// A rule-file invariant failure, located at the first line of `text` that
/// contains `needle` (when found).
fn invalid_at(file: &str, text: &str, needle: &str, message: impl Into<String>) -> Error {
    let line = if needle.is_empty() {
        None
    } else {
        text.find(needle)
            .map(|pos| text.get(..pos).unwrap_or("").matches('\n').count() + 1)
    };
    Error::Rules {
        file: file.to_string(),
        line,
        column: None,
        message: message.into(),
    }
}

fn quoted(id: &str) -> String {
    format!("\"{id}\"")
}

impl Ruleset {
    /// Parses and validates `text`, then compiles the lexicons.
    pub fn parse(text: &str, file: &str) -> Result<Ruleset> {
        let raw: RuleFile = parse_rule_file(text, file)?;
        compile(raw, text, file)
    }
}

fn compile(raw: RuleFile, text: &str, file: &str) -> Result<Ruleset> {
    let err = |needle: &str, msg: String| invalid_at(file, text, needle, msg);
    if raw.header.name != "em" {
        return Err(err(
            "[header]",
            format!("header name is {:?}, expected \"em\"", raw.header.name),
        ));
    }
    if raw.header.version.trim().is_empty() {
        return Err(err("[header]", "header version is empty".into()));
    }
    let mut ids: HashSet<String> = HashSet::new();
    let mut check_meta = |m: &RuleMeta| -> Result<()> {
        if m.id.trim().is_empty() {
            return Err(err("id = \"\"", "a rule has an empty id".into()));
        }
        if m.source.trim().is_empty() {
            return Err(err(&quoted(&m.id), format!("rule {} has no source", m.id)));
        }
        if let Some(to) = m.effective_to
            && to < m.effective_from
        {
            return Err(err(
                &quoted(&m.id),
                format!(
                    "rule {} ends ({to}) before it starts ({})",
                    m.id, m.effective_from
                ),
            ));
        }
        if !ids.insert(m.id.clone()) {
            return Err(err(
                &quoted(&m.id),
                format!("rule id {} is used more than once", m.id),
            ));
        }
        Ok(())
    };

    // MDM.
    let m = &raw.mdm;
    let mdm = MdmRules {
        meta: meta(&m.id, &m.source, m.effective_from, m.effective_to),
        elements_needed: m.elements_needed,
        labels: m.labels.clone(),
        problem_labels: m.problem_labels.clone(),
        data_labels: m.data_labels.clone(),
        risk_labels: m.risk_labels.clone(),
        status_cdi: m.status_cdi.clone(),
    };
    check_meta(&mdm.meta)?;
    if !(1..=3).contains(&mdm.elements_needed) {
        return Err(err(
            "elements_needed",
            "mdm.elements_needed must be 1, 2 or 3".into(),
        ));
    }

    // Problem classes.
    let mut class_index: HashMap<String, usize> = HashMap::new();
    for (i, c) in raw.problem_class.iter().enumerate() {
        if class_index.insert(c.id.clone(), i).is_some() {
            return Err(err(
                &quoted(&c.id),
                format!("problem class {} is defined twice", c.id),
            ));
        }
    }
    let class_ref = |name: &str, ctx: &str| -> Result<usize> {
        class_index.get(name).copied().ok_or_else(|| {
            err(
                &quoted(name),
                format!("{ctx} names problem class {name:?}, which is not defined"),
            )
        })
    };
    let mut problem_classes = Vec::with_capacity(raw.problem_class.len());
    for c in &raw.problem_class {
        let pc = ProblemClass {
            id: c.id.clone(),
            label: c.label.clone(),
            level: c.level,
            fallback: c
                .fallback
                .as_deref()
                .map(|f| class_ref(f, &format!("problem class {}", c.id)))
                .transpose()?,
            replaces: c
                .replaces
                .as_deref()
                .map(|f| class_ref(f, &format!("problem class {}", c.id)))
                .transpose()?,
            settings: c.settings.clone(),
            meta: RuleMeta {
                id: format!("em.mdm.problem_class.{}", c.id),
                source: c.source.clone(),
                effective_from: c.effective_from,
                effective_to: c.effective_to,
            },
        };
        check_meta(&pc.meta)?;
        problem_classes.push(pc);
    }

    // Problem types.
    let mut type_index: HashMap<String, usize> = HashMap::new();
    let mut problem_types = Vec::new();
    for t in &raw.problem_type {
        let ctx = format!("problem type {}", t.type_name);
        let mut status = [None; StatusKind::COUNT];
        for kind in StatusKind::ALL {
            if let Some(name) = t.status.get(kind) {
                status[kind as usize] = Some(class_ref(name, &ctx)?);
            }
        }
        if type_index
            .insert(t.type_name.clone(), problem_types.len())
            .is_some()
        {
            return Err(err(
                &quoted(&t.type_name),
                format!("problem type {} is defined twice", t.type_name),
            ));
        }
        problem_types.push(ProblemType {
            default: class_ref(&t.default, &ctx)?,
            status,
            status_expected: t.status_expected,
        });
    }

    // Problem rules, high to low.
    let mut problem_rules = Vec::new();
    for r in &raw.problem_rule {
        let meta = meta(&r.id, &r.source, r.effective_from, r.effective_to);
        check_meta(&meta)?;
        let mut any_of = Vec::new();
        for cc in &r.any_of {
            if cc.min == 0 || cc.classes.is_empty() {
                return Err(err(
                    &quoted(&r.id),
                    format!(
                        "rule {}: every any_of entry needs classes and min >= 1",
                        r.id
                    ),
                ));
            }
            let classes = cc
                .classes
                .iter()
                .map(|c| class_ref(c, &format!("rule {}", r.id)))
                .collect::<Result<Vec<_>>>()?;
            any_of.push((classes, cc.min));
        }
        problem_rules.push(ProblemRule {
            meta,
            level: r.level,
            any_of,
            cdi: r.cdi.clone(),
        });
    }
    problem_rules.sort_by_key(|r| std::cmp::Reverse(r.level));
    require_floor(
        problem_rules.iter().map(|r| (r.level, &r.meta)),
        "problem_rule",
        &err,
    )?;

    // Data rules.
    let mut data_rules = Vec::new();
    for r in &raw.data_rule {
        let meta = meta(&r.id, &r.source, r.effective_from, r.effective_to);
        check_meta(&meta)?;
        if r.categories_needed > r.categories.len() {
            return Err(err(
                &quoted(&r.id),
                format!(
                    "rule {} needs {} categories but defines {}",
                    r.id,
                    r.categories_needed,
                    r.categories.len()
                ),
            ));
        }
        if r.level != MdmLevel::Straightforward && r.categories_needed == 0 {
            return Err(err(
                &quoted(&r.id),
                format!("rule {} above minimal needs at least one category", r.id),
            ));
        }
        let categories = r
            .categories
            .iter()
            .map(|c| {
                if c.min == 0 || c.kinds.is_empty() {
                    Err(err(
                        &quoted(&r.id),
                        format!(
                            "rule {}: category {:?} needs kinds and min >= 1",
                            r.id, c.name
                        ),
                    ))
                } else {
                    Ok(Category {
                        name: c.name.clone(),
                        kinds: c.kinds.clone(),
                        min: c.min,
                    })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        data_rules.push(DataRule {
            meta,
            level: r.level,
            categories_needed: r.categories_needed,
            categories,
            cdi: r.cdi.clone(),
        });
    }
    data_rules.sort_by_key(|r| std::cmp::Reverse(r.level));
    require_floor(
        data_rules.iter().map(|r| (r.level, &r.meta)),
        "data_rule",
        &err,
    )?;

    // Risk.
    let mut risk_rules = Vec::new();
    for r in &raw.risk_rule {
        let meta = meta(&r.id, &r.source, r.effective_from, r.effective_to);
        check_meta(&meta)?;
        risk_rules.push(RiskRule {
            meta,
            level: r.level,
            cdi: r.cdi.clone(),
        });
    }
    risk_rules.sort_by_key(|r| std::cmp::Reverse(r.level));
    require_floor(
        risk_rules.iter().map(|r| (r.level, &r.meta)),
        "risk_rule",
        &err,
    )?;
    let mut risk_index: HashMap<String, usize> = HashMap::new();
    let mut risk_classes = Vec::new();
    for c in &raw.risk_class {
        let meta = RuleMeta {
            id: format!("em.mdm.risk_class.{}", c.id),
            source: c.source.clone(),
            effective_from: c.effective_from,
            effective_to: c.effective_to,
        };
        check_meta(&meta)?;
        risk_index.insert(c.id.clone(), risk_classes.len());
        risk_classes.push(RiskClass {
            id: c.id.clone(),
            label: c.label.clone(),
            level: c.level,
            meta,
        });
    }

    // Codes.
    let mut codes = Vec::new();
    for c in &raw.code {
        let meta = meta(&c.id, &c.source, c.effective_from, c.effective_to);
        check_meta(&meta)?;
        let here = quoted(&c.id);
        if c.code.trim().is_empty() || c.label.trim().is_empty() {
            return Err(err(
                &here,
                format!("code rule {} needs a code and a label", c.id),
            ));
        }
        if c.settings.is_empty() {
            return Err(err(&here, format!("code rule {} names no setting", c.id)));
        }
        let hospital = c
            .settings
            .iter()
            .any(|s| matches!(s, Setting::Inpatient | Setting::Observation));
        if hospital != c.visit.is_some()
            || c.settings
                .iter()
                .any(|s| matches!(s, Setting::Office | Setting::Ed))
                && hospital
        {
            return Err(err(
                &here,
                format!(
                    "code rule {}: hospital codes need `visit`, other settings must not have it, and the two kinds do not mix",
                    c.id
                ),
            ));
        }
        if c.select.is_some() && (c.mdm.is_some() || c.time_min.is_some() || c.time_max.is_some()) {
            return Err(err(
                &here,
                format!("code rule {}: a `select` code has no MDM or time", c.id),
            ));
        }
        if c.select.is_none() && c.mdm.is_none() && c.time_min.is_none() && c.time_max.is_none() {
            return Err(err(
                &here,
                format!("code rule {} has neither MDM, time nor select", c.id),
            ));
        }
        if let (Some(a), Some(b)) = (c.time_min, c.time_max)
            && b < a
        {
            return Err(err(
                &here,
                format!("code rule {}: time_max {b} is below time_min {a}", c.id),
            ));
        }
        codes.push(CodeRow {
            meta,
            settings: c.settings.clone(),
            patient: c.patient,
            visit: c.visit,
            code: c.code.clone(),
            label: c.label.clone(),
            mdm: c.mdm,
            time_min: c.time_min,
            time_max: c.time_max,
            select: c.select,
        });
    }
    validate_code_families(&codes, &err)?;

    // Prolonged.
    let mut prolonged = Vec::new();
    for p in &raw.prolonged {
        let meta = meta(&p.id, &p.source, p.effective_from, p.effective_to);
        check_meta(&meta)?;
        let here = quoted(&p.id);
        if p.unit_minutes == 0 {
            return Err(err(
                &here,
                format!("prolonged rule {}: unit_minutes is 0", p.id),
            ));
        }
        let bases: Vec<&CodeRow> = codes.iter().filter(|c| c.code == p.base).collect();
        if bases.is_empty() {
            return Err(err(
                &here,
                format!(
                    "prolonged rule {}: base code {} is not in the code table",
                    p.id, p.base
                ),
            ));
        }
        for b in bases {
            let overlaps = p.effective_to.is_none_or(|to| to >= b.meta.effective_from)
                && b.meta.effective_to.is_none_or(|to| to >= p.effective_from);
            if overlaps && b.time_min.is_some_and(|t| p.first_unit_at <= t) {
                return Err(err(
                    &here,
                    format!(
                        "prolonged rule {}: first unit at {} min is not beyond the {} time of {} min",
                        p.id,
                        p.first_unit_at,
                        b.code,
                        b.time_min.unwrap_or(0)
                    ),
                ));
            }
        }
        prolonged.push(ProlongedRow {
            meta,
            payer: p.payer,
            base: p.base.clone(),
            code: p.code.clone(),
            label: p.label.clone(),
            first_unit_at: p.first_unit_at,
            unit_minutes: p.unit_minutes,
        });
    }

    // Preventive bands.
    let mut preventive = Vec::new();
    for p in &raw.preventive {
        let meta = meta(&p.id, &p.source, p.effective_from, p.effective_to);
        check_meta(&meta)?;
        if p.age_max.is_some_and(|m| m < p.age_min) {
            return Err(err(
                &quoted(&p.id),
                format!("preventive rule {}: age_max is below age_min", p.id),
            ));
        }
        preventive.push(PreventiveRow {
            meta,
            patient: p.patient,
            code: p.code.clone(),
            label: p.label.clone(),
            age_min: p.age_min,
            age_max: p.age_max,
        });
    }
    validate_preventive(&preventive, &err)?;
    let pp = &raw.preventive_problem;
    let preventive_problem = PreventiveProblem {
        meta: meta(&pp.id, &pp.source, pp.effective_from, pp.effective_to),
        min_mdm: pp.min_mdm,
        modifier: pp.modifier.clone(),
    };
    check_meta(&preventive_problem.meta)?;

    // Lexicons.
    let mut matcher = PhraseMatcher::default();
    let mut lexicons: Vec<LexInfo> = vec![
        LexInfo {
            name: "condition".into(),
            context: ContextMode::Affirmed,
            negation_window: None,
        },
        LexInfo {
            name: "test".into(),
            context: ContextMode::Any,
            negation_window: None,
        },
        LexInfo {
            name: "status".into(),
            context: ContextMode::Affirmed,
            negation_window: raw.status.negation_window,
        },
    ];
    let add_phrases = |matcher: &mut PhraseMatcher,
                       lex: LexId,
                       entry: u32,
                       phrases: &[String],
                       fold: bool,
                       pseudo: bool,
                       what: &str|
     -> Result<()> {
        for p in phrases {
            matcher
                .add(p, lex, entry, fold, pseudo)
                .map_err(|m| err(&quoted(p), format!("{what}: {m}")))?;
        }
        Ok(())
    };
    let mut conditions = Vec::new();
    for (i, c) in raw.condition.iter().enumerate() {
        let ptype = *type_index.get(&c.type_name).ok_or_else(|| {
            err(
                &quoted(&c.key),
                format!("condition {:?} has unknown type {:?}", c.key, c.type_name),
            )
        })?;
        if c.phrases.is_empty() {
            return Err(err(
                &quoted(&c.key),
                format!("condition {:?} has no phrases", c.key),
            ));
        }
        add_phrases(
            &mut matcher,
            0,
            i as u32,
            &c.phrases,
            true,
            false,
            &format!("condition {:?}", c.key),
        )?;
        conditions.push(Condition {
            key: c.key.clone(),
            ptype,
        });
    }
    add_phrases(
        &mut matcher,
        0,
        u32::MAX,
        &raw.condition_lexicon.pseudo,
        true,
        true,
        "condition pseudo phrase",
    )?;
    let mut tests = Vec::new();
    for (i, t) in raw.test.iter().enumerate() {
        if t.phrases.is_empty() {
            return Err(err(
                &quoted(&t.key),
                format!("test {:?} has no phrases", t.key),
            ));
        }
        add_phrases(
            &mut matcher,
            1,
            i as u32,
            &t.phrases,
            true,
            false,
            &format!("test {:?}", t.key),
        )?;
        if t.generic && t.family.is_none() {
            return Err(err(
                &quoted(&t.key),
                format!("generic test {:?} needs a family", t.key),
            ));
        }
        tests.push(TestDef {
            key: t.key.clone(),
            interpretable: t.interpretable,
            family: t.family.clone(),
            generic: t.generic,
        });
    }
    let s = &raw.status;
    for (kind, phrases) in [
        (StatusKind::Stable, &s.stable),
        (StatusKind::Worsening, &s.worsening),
        (StatusKind::Severe, &s.severe),
        (StatusKind::Systemic, &s.systemic),
        (StatusKind::Complicated, &s.complicated),
        (StatusKind::Undiagnosed, &s.undiagnosed),
        (StatusKind::Threat, &s.threat),
    ] {
        add_phrases(
            &mut matcher,
            2,
            kind as u32,
            phrases,
            false,
            false,
            "status phrase",
        )?;
    }
    for (name, spec) in &raw.lexicon {
        let id = lexicons.len() as LexId;
        if spec.phrases.is_empty() {
            return Err(err(
                &format!("[lexicon.{name}]"),
                format!("lexicon {name} has no phrases"),
            ));
        }
        let what = format!("lexicon {name}");
        add_phrases(
            &mut matcher,
            id,
            0,
            &spec.phrases,
            spec.fold_plural,
            false,
            &what,
        )?;
        add_phrases(
            &mut matcher,
            id,
            0,
            &spec.pseudo,
            spec.fold_plural,
            true,
            &what,
        )?;
        lexicons.push(LexInfo {
            name: name.clone(),
            context: spec.context,
            negation_window: spec.negation_window,
        });
    }
    matcher.finish();
    let find = |name: &str| -> Result<LexId> {
        lexicons
            .iter()
            .position(|l| l.name == name)
            .map(|i| i as LexId)
            .ok_or_else(|| err("[lexicon.", format!("required lexicon {name} is missing")))
    };
    for name in REQUIRED_LEXICONS {
        find(name)?;
    }
    let lex = Lex {
        condition: 0,
        test: 1,
        status: 2,
        problem_link: find("problem_link")?,
        differential_cue: find("differential_cue")?,
        test_order: find("test_order")?,
        test_review: find("test_review")?,
        test_not_done_before: find("test_not_done_before")?,
        test_not_done_after: find("test_not_done_after")?,
        test_value_link: find("test_value_link")?,
        interval_unit: find("interval_unit")?,
        interpretation_cue: find("interpretation_cue")?,
        mdm_header: find("mdm_header")?,
        preventive_cue: find("preventive_cue")?,
        medicare_awv: find("medicare_awv")?,
        no_practitioner: find("no_practitioner")?,
        visit_initial: find("visit_initial")?,
        visit_discharge: find("visit_discharge")?,
        visit_subsequent: find("visit_subsequent")?,
        time_cue_before: find("time_cue_before")?,
        time_cue_after: find("time_cue_after")?,
        time_exclude: find("time_exclude")?,
        more_than: find("more_than")?,
        less_than: find("less_than")?,
        minute_unit: find("minute_unit")?,
        hour_unit: find("hour_unit")?,
        age_year_unit: find("age_year_unit")?,
        age_month_unit: find("age_month_unit")?,
        age_week_unit: find("age_week_unit")?,
        age_prefix: find("age_prefix")?,
    };

    // Detectors.
    let mut detectors = Vec::new();
    let mut detector_ids = HashSet::new();
    for d in &raw.detector {
        let here = quoted(&d.id);
        if !detector_ids.insert(d.id.clone()) {
            return Err(err(&here, format!("detector {} is defined twice", d.id)));
        }
        let finding = match d.element {
            Element::Risk => Finding::Risk(*risk_index.get(&d.class).ok_or_else(|| {
                err(
                    &here,
                    format!("detector {} names unknown risk class {:?}", d.id, d.class),
                )
            })?),
            Element::Data => {
                let kind: DataKind = serde_json::from_value(serde_json::Value::String(
                    d.class.clone(),
                ))
                .map_err(|_| {
                    err(
                        &here,
                        format!("detector {} names unknown data kind {:?}", d.id, d.class),
                    )
                })?;
                Finding::Data(kind)
            }
        };
        if d.all_of.is_empty() {
            return Err(err(&here, format!("detector {} has an empty all_of", d.id)));
        }
        let resolve = |names: &[String]| -> Result<Vec<LexId>> {
            names
                .iter()
                .map(|n| {
                    lexicons
                        .iter()
                        .position(|l| &l.name == n)
                        .map(|i| i as LexId)
                        .ok_or_else(|| {
                            err(
                                &here,
                                format!("detector {} names unknown lexicon {n:?}", d.id),
                            )
                        })
                })
                .collect()
        };
        detectors.push(Detector {
            id: d.id.clone(),
            finding,
            all_of: resolve(&d.all_of)?,
            none_of: resolve(&d.none_of)?,
            seq_max_gap: d.seq_max_gap,
            region: d.region,
        });
    }

    let mut number_words = HashMap::new();
    for (w, n) in &raw.time.number_words {
        number_words.insert(w.to_lowercase(), *n);
    }
    Ok(Ruleset {
        header: raw.header,
        file: file.to_string(),
        mdm,
        problem_classes,
        problem_types,
        problem_rules,
        data_rules,
        risk_rules,
        risk_classes,
        codes,
        prolonged,
        preventive,
        preventive_problem,
        regions: raw.regions,
        time: TimeRules {
            cdi_document: raw.time.cdi_document,
            cdi_more: raw.time.cdi_more,
            max_cue_distance: raw.time.max_cue_distance.max(1),
            number_words,
        },
        max_age_years: raw.age.max_years,
        conditions,
        tests,
        detectors,
        lexicons,
        lex,
        matcher,
    })
}

/// Each element needs a rule for the lowest level, in force from the first
/// date any of its rules is.
fn require_floor<'a>(
    rules: impl Iterator<Item = (MdmLevel, &'a RuleMeta)>,
    what: &str,
    err: &dyn Fn(&str, String) -> Error,
) -> Result<()> {
    let rules: Vec<_> = rules.collect();
    let first = rules.iter().map(|(_, m)| m.effective_from).min();
    let Some(first) = first else {
        return Err(err(what, format!("no {what} rules")));
    };
    if !rules
        .iter()
        .any(|(l, m)| *l == MdmLevel::Straightforward && m.applies_on(first))
    {
        return Err(err(
            what,
            format!("the {what} rules have no straightforward (minimal) level from {first}"),
        ));
    }
    Ok(())
}

/// The dates on which the set of rules in force can change.
fn boundaries<'a>(metas: impl Iterator<Item = &'a RuleMeta>) -> Vec<Date> {
    let mut out = Vec::new();
    for m in metas {
        out.push(m.effective_from);
        if let Some(to) = m.effective_to
            && let Ok(next) = to.tomorrow()
        {
            out.push(next);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Within every family (setting × patient × visit) and on every date:
/// MDM levels and time thresholds ascend with the code order, each code
/// appears once, and a family with MDM codes has one for the lowest level.
fn validate_code_families(codes: &[CodeRow], err: &dyn Fn(&str, String) -> Error) -> Result<()> {
    let mut families: Vec<(Setting, Option<PatientStatus>, Option<HospitalVisit>)> = Vec::new();
    for c in codes {
        for s in &c.settings {
            let key = (*s, c.patient, c.visit);
            if !families.contains(&key) {
                families.push(key);
            }
        }
    }
    for date in boundaries(codes.iter().map(|c| &c.meta)) {
        for (setting, patient, visit) in &families {
            let mut rows: Vec<&CodeRow> = codes
                .iter()
                .filter(|c| {
                    c.meta.applies_on(date)
                        && c.settings.contains(setting)
                        && (c.patient.is_none() || patient.is_none() || c.patient == *patient)
                        && c.visit == *visit
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            rows.sort_by_key(|r| r.rank_key());
            let mut seen = HashSet::new();
            for r in &rows {
                if !seen.insert(r.code.as_str()) {
                    return Err(err(
                        &quoted(&r.meta.id),
                        format!("code {} appears twice in one family on {date}", r.code),
                    ));
                }
            }
            let graded: Vec<&&CodeRow> = rows.iter().filter(|r| r.select.is_none()).collect();
            let with_mdm: Vec<&&&CodeRow> = graded.iter().filter(|r| r.mdm.is_some()).collect();
            if !with_mdm.is_empty() {
                if with_mdm.len() != graded.len() {
                    return Err(err(
                        &quoted(&with_mdm[0].meta.id),
                        format!(
                            "{} codes on {date}: either every graded code has an MDM level or none has",
                            setting.as_str()
                        ),
                    ));
                }
                if with_mdm[0].mdm != Some(MdmLevel::Straightforward) {
                    return Err(err(
                        &quoted(&with_mdm[0].meta.id),
                        format!(
                            "{} codes on {date} have no code for straightforward MDM",
                            setting.as_str()
                        ),
                    ));
                }
                for w in with_mdm.windows(2) {
                    if w[0].mdm >= w[1].mdm {
                        return Err(err(
                            &quoted(&w[1].meta.id),
                            format!(
                                "codes {} and {} have the same MDM level on {date}",
                                w[0].code, w[1].code
                            ),
                        ));
                    }
                }
            }
            let timed: Vec<&&&CodeRow> = graded.iter().filter(|r| r.has_time()).collect();
            if !timed.is_empty() && timed.len() != graded.len() {
                return Err(err(
                    &quoted(&timed[0].meta.id),
                    format!(
                        "{} codes on {date}: either every graded code has a time or none has",
                        setting.as_str()
                    ),
                ));
            }
            for w in timed.windows(2) {
                let lo = w[0].time_min.unwrap_or(0);
                let hi = w[1].time_min.unwrap_or(0);
                if hi <= lo || w[0].time_max.is_some_and(|m| m >= hi) {
                    return Err(err(
                        &quoted(&w[1].meta.id),
                        format!(
                            "time thresholds do not ascend between {} and {} on {date}",
                            w[0].code, w[1].code
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Preventive bands: for each patient status and date, contiguous from age
/// 0 with an open top band.
fn validate_preventive(rows: &[PreventiveRow], err: &dyn Fn(&str, String) -> Error) -> Result<()> {
    for date in boundaries(rows.iter().map(|r| &r.meta)) {
        for patient in [PatientStatus::New, PatientStatus::Established] {
            let mut band: Vec<&PreventiveRow> = rows
                .iter()
                .filter(|r| r.patient == patient && r.meta.applies_on(date))
                .collect();
            if band.is_empty() {
                continue;
            }
            band.sort_by_key(|r| r.age_min);
            let mut next = 0u32;
            for (i, r) in band.iter().enumerate() {
                if r.age_min != next {
                    return Err(err(
                        &quoted(&r.meta.id),
                        format!(
                            "preventive bands for {} patients on {date} do not continue at age {next}",
                            patient.as_str()
                        ),
                    ));
                }
                match r.age_max {
                    Some(m) => next = m + 1,
                    None if i + 1 == band.len() => {}
                    None => {
                        return Err(err(
                            &quoted(&r.meta.id),
                            format!("preventive band {} is open-ended but not the last", r.code),
                        ));
                    }
                }
            }
            if band.last().is_some_and(|r| r.age_max.is_some()) {
                return Err(err(
                    &quoted(&band[band.len() - 1].meta.id),
                    format!(
                        "the top preventive band for {} patients needs no age_max",
                        patient.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}
