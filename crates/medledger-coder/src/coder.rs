//! The coding pipeline: note -> annotated text -> dictionary mentions ->
//! context -> guideline policy -> candidates with features -> confidence
//! (learned re-ranker or the dictionary's own estimate) -> combination and
//! additional codes, Excludes1 resolution, one code per evidence -> ordered,
//! source-grounded suggestions with ICD-11 companions.

use std::sync::Arc;

use medledger_codesets::icd10cm::tabular::{Note, NoteKind, Resolution, Tabular};
use medledger_codesets::normalize;
use medledger_codesets::{Date, Engine};
use medledger_text::{CharIndex, Context, ContextAnalyzer, SectionKind};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::dict::{Dictionary, Entry, TermSource};
use crate::error::{CoderError, Result};
use crate::lexicon;
use crate::matcher::{self, Annotated, Mention, Scratch};
use crate::model::{ContextPolicy, Model, Stat};
use crate::numeric::NumericRule;

pub const ENGINE_VERSION: &str = concat!("medledger-coder-", env!("CARGO_PKG_VERSION"));
pub const DEFAULT_MAX_NOTE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    #[default]
    Outpatient,
    Inpatient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Unknown,
}

/// What is known of the encounter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Encounter {
    #[serde(default)]
    pub setting: Setting,
    #[serde(default)]
    pub dos: Option<Date>,
    #[serde(default)]
    pub age: Option<u16>,
    #[serde(default)]
    pub sex: Option<Sex>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// Unicode code points from the start of the note; end exclusive.
    pub start: usize,
    pub end: usize,
    /// The note's text at [start, end), verbatim.
    pub text: String,
    pub section: SectionKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Logic {
    /// Stable rule id: `dict.title`, `dict.learned`, `guideline.family_history`, ...
    pub rule: String,
    /// The dictionary source of the matched term.
    pub source: String,
    pub matched_term: String,
    pub index_path: Option<String>,
    /// Guideline section applied, e.g. "ICD-10-CM OCG I.A.15".
    pub guideline: Option<String>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    LowConfidence,
    ConflictingEvidence,
    Excludes1Resolved,
    UnspecifiedCode,
    QueryProvider,
    DefaultSeventhCharacter,
    ContextNotAffirmed,
    UncertainCodedAsEstablished,
    /// A manifestation code whose required etiology ("code first") is not
    /// among the suggestions.
    PairedCodeMissing,
}

impl Flag {
    /// Every flag, for the consumers that must know them all (the review
    /// policy checks its flag names against them).
    pub const ALL: [Flag; 9] = [
        Flag::LowConfidence,
        Flag::ConflictingEvidence,
        Flag::Excludes1Resolved,
        Flag::UnspecifiedCode,
        Flag::QueryProvider,
        Flag::DefaultSeventhCharacter,
        Flag::ContextNotAffirmed,
        Flag::UncertainCodedAsEstablished,
        Flag::PairedCodeMissing,
    ];
}

/// A new flag fails to compile here until [`Flag::ALL`] lists it.
const _: fn(Flag) = |f| match f {
    Flag::LowConfidence
    | Flag::ConflictingEvidence
    | Flag::Excludes1Resolved
    | Flag::UnspecifiedCode
    | Flag::QueryProvider
    | Flag::DefaultSeventhCharacter
    | Flag::ContextNotAffirmed
    | Flag::UncertainCodedAsEstablished
    | Flag::PairedCodeMissing => {}
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextSummary {
    pub negated: bool,
    pub uncertain: bool,
    pub historical: bool,
    pub family: bool,
    pub hypothetical: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Icd11Choice {
    pub code: Option<String>,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Icd11Out {
    pub primary: Option<Icd11Choice>,
    /// One-to-many maps: the auditor chooses; never picked silently.
    pub choices: Vec<Icd11Choice>,
    pub via: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    pub code: String,
    pub system: &'static str,
    pub descriptor: String,
    pub confidence: f64,
    pub evidence: Vec<Evidence>,
    pub logic: Logic,
    pub context: ContextSummary,
    pub flags: Vec<Flag>,
    pub icd11: Option<Icd11Out>,
    /// The tabular's pairing notes ("code first", "use additional code",
    /// "code also") that apply to this code and name codes, each with the
    /// suggested codes that answer it (suggestions only; absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_pairs: Vec<CodePair>,
}

/// A tabular instructional note pairing a suggestion with other codes, and
/// whether the suggestions answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodePair {
    /// `code_first`, `use_additional_code` or `code_also`.
    pub kind: &'static str,
    /// Where the note is written: the code, its category or block, or its
    /// chapter (notes there apply to every code beneath).
    pub at: String,
    /// The note as the tabular prints it.
    pub note: String,
    /// Other suggested codes that the note's code references cover.
    pub satisfied_by: Vec<String>,
    /// The paired code is required: a manifestation code ("in diseases
    /// classified elsewhere") with its "code first" etiology note, which is
    /// never reported without its etiology (OCG I.A.13).
    pub required: bool,
}

/// A mention that was found and deliberately not coded, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotCoded {
    pub code: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodingResult {
    pub id: String,
    pub engine: &'static str,
    pub model: Option<String>,
    pub policy: String,
    pub release: String,
    pub setting: Setting,
    pub dos: Option<Date>,
    /// Suggested codes, first-listed (principal candidate) first.
    pub suggestions: Vec<Suggestion>,
    /// Further candidates under the decision threshold, best first.
    pub candidates: Vec<Suggestion>,
    pub not_coded: Vec<NotCoded>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CoderOptions {
    pub max_note_bytes: usize,
    /// Candidates under the threshold are listed down to this confidence.
    pub list_floor: f64,
    /// At most this many candidates under the threshold are listed.
    pub max_candidates: usize,
    pub icd11: bool,
}

impl Default for CoderOptions {
    fn default() -> Self {
        CoderOptions {
            max_note_bytes: DEFAULT_MAX_NOTE_BYTES,
            list_floor: 0.05,
            max_candidates: 10,
            icd11: true,
        }
    }
}

/// Raw facts about one candidate code, from which features are computed.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub key: String,
    pub node: u32,
    /// Mentions supporting it (indices into the note's mention list).
    pub mentions: Vec<u32>,
    /// The mentions shown as its evidence (a subset of `mentions`; empty =
    /// all of them): the affirmed ones when there are any, since a negated
    /// or family-member mention of the same code is not evidence for it,
    /// and dictionary terms before learned phrases, which are weaker.
    pub evidence_mentions: Vec<u32>,
    /// Mentions of other candidates that also support it (combination codes).
    pub extra_tokens: Vec<u32>,
    /// Token indices that are evidence on their own (a documented drug, a
    /// keyword model's strongest words).
    pub evidence_tokens: Vec<u32>,
    /// Keyword model of the code: (classifier index, log-odds, words present).
    pub nb: Option<(u32, f64, u32)>,
    pub best_entry: u32,
    pub sources: u8,
    pub contiguous: bool,
    pub coverage: f64,
    pub term_len: usize,
    pub ctx: ContextSummary,
    pub affirmed: bool,
    pub diagnostic_section: bool,
    pub first_pos: f64,
    pub sentences: usize,
    /// Best learned entry: (documents supporting it, documents with the phrase, weight).
    pub learned: Option<(u32, u32, f32)>,
    pub has_non_learned: bool,
    pub rule: String,
    pub guideline: Option<String>,
    pub steps: Vec<String>,
    pub flags: Vec<Flag>,
    pub term_key: String,
    pub default_seventh: bool,
    /// Candidates of the note: all, and those the dictionary supports.
    pub doc_candidates: (u32, u32),
    /// Other candidates of the note in the same 3-character category.
    pub siblings: u32,
    /// Share of the history's final codes in this code's category that
    /// were this very code (how the history's coders pick the subcode).
    pub category_share: f64,
    /// Every mention is a learned phrase inside a longer match of another code.
    pub nested: bool,
    /// What the history's most similar notes say about the code.
    pub knn: crate::neighbours::Vote,
    /// Proposed as the history's usual subcode of another candidate's category.
    pub sibling: bool,
}

pub const FEATURES: &[&str] = &[
    "bias",
    "src_title",
    "src_inclusion",
    "src_category_default",
    "src_index",
    "src_lexicon",
    "src_learned",
    "sources",
    "ln_mentions",
    "contiguous",
    "coverage",
    "term_len",
    "negated",
    "uncertain",
    "historical",
    "family",
    "hypothetical",
    "affirmed",
    "diagnostic_section",
    "unspecified_code",
    "other_code",
    "learned_weight",
    "code_precision",
    "ln_code_proposed",
    "ln_code_gold",
    "symptom_chapter",
    "z_code",
    "first_pos",
    "ln_sentences",
    "term_precision",
    "ln_term_proposed",
    "no_history",
    "nb_logit",
    "nb_only",
    "nb_present",
    "letter_A",
    "letter_B",
    "letter_C",
    "letter_D",
    "letter_E",
    "letter_F",
    "letter_G",
    "letter_H",
    "letter_I",
    "letter_J",
    "letter_K",
    "letter_L",
    "letter_M",
    "letter_N",
    "letter_O",
    "letter_P",
    "letter_Q",
    "letter_R",
    "letter_S",
    "letter_T",
    "letter_U",
    "letter_V",
    "letter_W",
    "letter_X",
    "letter_Y",
    "letter_Z",
    "ln_doc_candidates",
    "ln_doc_dictionary_candidates",
    "ln_category_siblings",
    "category_share",
    "nested",
    "knn_share",
    "knn_category_share",
    "knn_similarity",
    "sibling",
];

/// The 3-character category of a code key (the whole key when shorter).
fn category_of(key: &str) -> &str {
    key.get(..3).unwrap_or(key)
}

/// Features of a candidate, with the priors read from the model.
pub fn features(c: &Candidate, e: &Entry, model: Option<&Model>) -> Vec<f64> {
    let stat = |s: Option<&Stat>| -> (f64, f64) {
        let s = s.copied().unwrap_or_default();
        (f64::from(s.proposed), f64::from(s.accepted))
    };
    let (cp, ca, tp, ta, gold) = match model {
        Some(m) => {
            let (cp, ca) = stat(m.code_stats.get(&c.key));
            let (tp, ta) = stat(m.term_stats.get(&c.term_key));
            let g = m.code_gold.get(&c.key).copied().unwrap_or(0);
            (cp, ca, tp, ta, f64::from(g))
        }
        None => (0.0, 0.0, 0.0, 0.0, 0.0),
    };
    let learned_weight = c.learned.map(|(_, _, w)| f64::from(w)).unwrap_or(0.0);
    let src = |s: TermSource| f64::from(u8::from(e.source == s));
    let b = |v: bool| f64::from(u8::from(v));
    let mut f = vec![
        1.0,
        src(TermSource::Title),
        src(TermSource::Inclusion),
        src(TermSource::CategoryDefault),
        src(TermSource::Index),
        src(TermSource::Lexicon),
        src(TermSource::Learned),
        f64::from(c.sources) / 3.0,
        (1.0 + c.mentions.len() as f64).ln(),
        b(c.contiguous),
        c.coverage,
        (c.term_len as f64 / 4.0).min(2.0),
        b(c.ctx.negated),
        b(c.ctx.uncertain),
        b(c.ctx.historical),
        b(c.ctx.family),
        b(c.ctx.hypothetical),
        b(c.affirmed),
        b(c.diagnostic_section),
        b(e.unspecified),
        b(e.other),
        learned_weight,
        (ca + 1.0) / (cp + 3.0),
        (1.0 + cp).ln() / 4.0,
        (1.0 + gold).ln() / 4.0,
        b(c.key.starts_with('R')),
        b(c.key.starts_with('Z')),
        c.first_pos,
        (1.0 + c.sentences as f64).ln(),
        (ta + 1.0) / (tp + 3.0),
        (1.0 + tp).ln() / 4.0,
        b(cp == 0.0),
        c.nb.map(|(_, z, _)| (z / 5.0).clamp(-3.0, 3.0))
            .unwrap_or(0.0),
        b(e.source == TermSource::Classifier),
        c.nb.map(|(_, _, n)| f64::from(n).min(10.0) / 5.0)
            .unwrap_or(0.0),
    ];
    // The code's first letter: roughly its chapter, whose coding habits differ.
    let first = c.key.bytes().next().unwrap_or(b'A');
    f.extend((b'A'..=b'Z').map(|l| b(first == l)));
    f.push((1.0 + f64::from(c.doc_candidates.0)).ln() / 4.0);
    f.push((1.0 + f64::from(c.doc_candidates.1)).ln() / 4.0);
    f.push((1.0 + f64::from(c.siblings)).ln());
    f.push(c.category_share);
    f.push(b(c.nested));
    f.push(c.knn.share);
    f.push(c.knn.category_share);
    f.push(c.knn.similarity);
    f.push(b(c.sibling));
    f
}

/// The dictionary's own confidence when no model is loaded.
fn heuristic(c: &Candidate, e: &Entry) -> f64 {
    let base = match e.source {
        TermSource::Title | TermSource::Lexicon => 0.8,
        TermSource::Inclusion => 0.75,
        TermSource::Index => 0.7,
        TermSource::CategoryDefault => 0.65,
        TermSource::Learned => 0.3 + 0.6 * f64::from(e.weight),
        TermSource::Classifier => 0.3,
    };
    // Our lexicon gives this very term as the index's default for the code.
    let base = if e.attested { base.max(0.8) } else { base };
    let mut p = base;
    if !c.contiguous {
        p *= 0.75;
    }
    if e.other {
        p *= 0.85;
    }
    if !c.affirmed {
        p *= 0.6;
    }
    // A "NOS" term whose every mention lies inside a longer match of
    // another code ("Fracture NOS" inside "fracture of the left distal
    // radius") is specified otherwise there: the longer term is the reading.
    if c.nested && e.text.trim_end().ends_with(" NOS") {
        p *= 0.6;
    }
    p *= 0.85 + 0.15 * c.coverage;
    p += 0.05 * ((c.mentions.len().saturating_sub(1)).min(2) as f64);
    p.clamp(0.0, 0.99)
}

/// A code reference parsed from a note text ("E10.-", "E08-E13", "O24.4-").
#[derive(Debug, Clone, PartialEq)]
struct CodeRange {
    lo: String,
    hi: String,
}

/// Code references in the notes of one kind on a code and its ancestors up
/// to the category.
fn note_refs(tab: &Tabular, node: u32, kind: NoteKind) -> Vec<CodeRange> {
    std::iter::once(node)
        .chain(tab.ancestors(node))
        .flat_map(|a| tab.node(a).notes.iter())
        .filter(|x| x.kind == kind)
        .flat_map(|x| x.texts.iter().flat_map(|t| parse_code_refs(t)))
        .collect()
}

/// A manifestation code of the tabular ("Dementia in other diseases
/// classified elsewhere", OCG I.A.13): the condition it names, and the
/// etiologies its "code first" note lists.
#[derive(Debug)]
struct Manifestation {
    /// The highest node whose title says "in (other) diseases classified
    /// elsewhere".
    node: u32,
    /// Required concepts of the condition's own term ("dementia").
    core: Vec<u32>,
    etiologies: Vec<CodeRange>,
    /// Codes whose own term names the condition alone, perhaps with its
    /// severity ("Unspecified dementia, moderate, …" F03.B0): those the pair
    /// replaces.
    counterparts: FxHashSet<String>,
    /// Categories of the counterparts.
    counterpart_categories: FxHashSet<String>,
    /// Title tail after "classified elsewhere" (", severe, with agitation")
    /// → the manifestation code with it, for the billable codes beneath.
    by_tail: FxHashMap<String, String>,
}

/// A title's tail from its first comma, lower case (", severe, with
/// agitation"); None without a comma.
fn title_tail(desc: &str) -> Option<String> {
    let lower = desc.to_lowercase();
    let at = lower.find(", ")?;
    Some(lower[at..].to_string())
}

/// What a code of the Table of Drugs and Chemicals' categories says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DrugRole {
    /// Poisoning or toxic effect (T36–T65, 6th character 1–4).
    Poisoning,
    /// Adverse effect of a drug correctly taken (T36–T50, 6th character 5).
    AdverseEffect,
    /// Underdosing (T36–T50, 6th character 6).
    Underdosing,
}

/// Where a T36–T65 code spells its intent or role: the 6th character, or
/// the 5th where the 6th is the placeholder X (T65.91XA, T51.91XA).
fn drug_role_position(key: &str) -> Option<usize> {
    let b = key.as_bytes();
    if b.len() < 6 || b[0] != b'T' {
        return None;
    }
    let category: u32 = key.get(1..3)?.parse().ok()?;
    if !(36..=65).contains(&category) {
        return None;
    }
    Some(if b[5] == b'X' { 4 } else { 5 })
}

/// A T36–T65 code without its intent character: the substance it names
/// (and the encounter), alike for all of the substance's columns.
fn drug_substance(key: &str) -> String {
    match drug_role_position(key) {
        Some(at) => format!("{}{}", &key[..at], &key[at + 1..]),
        None => key.to_string(),
    }
}

/// The role of a T36–T65 code by its intent character (keys have no dot).
fn drug_code_role(key: &str) -> Option<DrugRole> {
    let at = drug_role_position(key)?;
    let category: u32 = key.get(1..3)?.parse().ok()?;
    match key.as_bytes()[at] {
        b'1'..=b'4' => Some(DrugRole::Poisoning),
        b'5' if category <= 50 => Some(DrugRole::AdverseEffect),
        b'6' if category <= 50 => Some(DrugRole::Underdosing),
        _ => None,
    }
}

/// Longest substance name, in words, that the drug-cause rule reads.
const SUBSTANCE_WORDS: usize = 3;

/// The substance words of a table term as a lookup key (word concepts).
fn substance_key<'a>(words: impl Iterator<Item = &'a str>) -> String {
    words
        .map(crate::dict::concept_of)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every main term of the installed Table of Drugs and Chemicals with a
/// billable adverse-effect code: its name (without "NEC" and nonessential
/// modifiers) → the code.
fn adverse_effect_codes(
    tab: &Tabular,
    indexes: &[Arc<medledger_codesets::icd10cm::index::IndexTree>],
) -> FxHashMap<String, String> {
    use medledger_codesets::icd10cm::index::IndexKind;
    let mut out = FxHashMap::default();
    for tree in indexes.iter().filter(|t| t.kind == IndexKind::Drug) {
        let Some(col) = crate::dict::table_column(tree, &["adverse"]) else {
            continue;
        };
        for t in tree.terms.iter().filter(|t| t.level == 0) {
            let Some((_, cell)) = t.cells.iter().find(|(c, _)| *c == col) else {
                continue;
            };
            let key = normalize::key(cell.trim_end_matches(['-', '.']));
            let Some((code, _, _)) = crate::dict::billable_for(tab, &key) else {
                continue;
            };
            let lower = t.title.to_lowercase();
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty() && *w != "nec")
                .collect();
            if words.is_empty() || words.len() > SUBSTANCE_WORDS {
                continue;
            }
            out.entry(substance_key(words.into_iter())).or_insert(code);
        }
    }
    out
}

/// One poisoning intent per substance (T36–T65, 6th character 1–4): the
/// reading whose words cover most of the note wins ("intentional overdose"
/// over the bare overdose, which reads as accidental, OCG I.C.19.e.5.b); on
/// a tie an explicitly undetermined intent, then intentional self-harm, then
/// assault. A poisoning by an unspecified substance (T65.9-) is not coded
/// beside one that names the substance.
fn one_intent_per_drug(
    out: &mut Vec<Candidate>,
    not_coded: &mut Vec<NotCoded>,
    mentions: &[Mention],
    dict: &Dictionary,
) {
    let poisoning =
        |c: &Candidate| c.affirmed && drug_code_role(&c.key) == Some(DrugRole::Poisoning);
    if !out.iter().any(poisoning) {
        return;
    }
    let words = |c: &Candidate| -> usize {
        let mut t: Vec<u32> = c
            .mentions
            .iter()
            .filter_map(|&m| mentions.get(m as usize))
            .flat_map(|x| x.tokens.iter().copied())
            .collect();
        t.sort_unstable();
        t.dedup();
        t.len()
    };
    let intent = |key: &str| drug_role_position(key).and_then(|at| key.as_bytes().get(at).copied());
    let preference = |key: &str| match intent(key) {
        Some(b'4') => 3,
        Some(b'2') => 2,
        Some(b'3') => 1,
        _ => 0,
    };
    let substance = drug_substance;
    let mut best: FxHashMap<String, (usize, u8, usize)> = FxHashMap::default();
    for (i, c) in out.iter().enumerate().filter(|(_, c)| poisoning(c)) {
        let k = (words(c), preference(&c.key), i);
        let e = best.entry(substance(&c.key)).or_insert(k);
        if (k.0, k.1) > (e.0, e.1) {
            *e = k;
        }
    }
    // A substance the note names: read off the Table of Drugs and Chemicals,
    // and not its "unspecified substance" rows (T65.9-, "Poison NEC").
    let names_it = |c: &Candidate| {
        dict.entries[c.best_entry as usize].source == TermSource::Index
            && !c.key.starts_with("T659")
    };
    let named = best.values().any(|b| names_it(&out[b.2]));
    let self_harm = best.values().any(|b| preference(&out[b.2].key) == 2);
    let mut drop: Vec<(usize, &'static str)> = Vec::new();
    for (i, c) in out.iter().enumerate() {
        // "Suicide (attempted) … by poisoning — see Table of Drugs and
        // Chemicals": the table's self-harm code says it.
        if self_harm && c.key.starts_with("T1491") {
            drop.push((i, "the suicide attempt is coded by the poisoning's intentional self-harm code (Index: Suicide, by poisoning, see Table of Drugs and Chemicals)"));
            continue;
        }
        if !poisoning(c) {
            continue;
        }
        if named && !names_it(c) {
            drop.push((i, "a poisoning read off a title alone is not coded beside the poisoning by the substance the note names"));
        } else if best.get(&substance(&c.key)).is_some_and(|b| b.2 != i) {
            drop.push((i, "another intent of the poisoning by this substance is documented more fully (one intent per substance, ICD-10-CM OCG I.C.19.e.5.b)"));
        }
    }
    remove_not_coded(out, drop, not_coded);
}

/// Removes candidates (by index, each once) and records each as not coded
/// with its reason.
fn remove_not_coded(
    out: &mut Vec<Candidate>,
    mut drop: Vec<(usize, &str)>,
    not_coded: &mut Vec<NotCoded>,
) {
    drop.sort_by_key(|d| d.0);
    drop.dedup_by_key(|d| d.0);
    for (i, why) in drop.into_iter().rev() {
        let gone = out.remove(i);
        not_coded.push(NotCoded {
            code: normalize::icd10cm_display(&gone.key),
            reason: why.into(),
            evidence: vec![],
        });
    }
}

/// External cause place, activity and status (OCG I.C.20.b, c, k): their
/// "unspecified" codes (Y92.9, Y93.9, Y99.9) are never assigned — when the
/// note does not state the place, activity or status, no code is — and the
/// others only beside the injury or other condition of an external cause
/// (S00-T88) they describe.
fn external_cause_status(cands: &mut Vec<Candidate>, not_coded: &mut Vec<NotCoded>) {
    let injury = cands
        .iter()
        .any(|c| c.affirmed && (c.key.starts_with('S') || c.key.starts_with('T')));
    let drop: Vec<(usize, &str)> = cands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let k = c.key.as_str();
            if matches!(k, "Y929" | "Y939" | "Y999") {
                Some((i, "unspecified place, activity or external cause status: not assigned when the note does not state it (OCG I.C.20)"))
            } else if !injury && (k.starts_with("Y92") || k.starts_with("Y93") || k.starts_with("Y99")) {
                Some((i, "place, activity or external cause status without an injury or other external-cause condition to describe (OCG I.C.20)"))
            } else {
                None
            }
        })
        .collect();
    remove_not_coded(cands, drop, not_coded);
}

/// How a manifestation code's title names it (OCG I.A.13).
const MANIFESTATION_PHRASES: [&str; 2] = [
    " in other diseases classified elsewhere",
    " in diseases classified elsewhere",
];

/// A lower-case title of a manifestation code.
fn is_manifestation_title(lower: &str) -> bool {
    MANIFESTATION_PHRASES.iter().any(|p| lower.contains(p))
}

/// Severity words an unspecified code's term may add to the manifestation's
/// ("moderate dementia"): the parallel subcode keeps them (F03.B0 → F02.B0).
const MANIFESTATION_GRADES: &[&str] = &["mild", "moderate", "severe"];

impl Manifestation {
    fn build(tab: &Tabular, dict: &mut Dictionary) -> Vec<Manifestation> {
        let mut out = Vec::new();
        for (i, n) in tab.nodes.iter().enumerate() {
            let lower = n.desc.to_lowercase();
            let Some(at) = MANIFESTATION_PHRASES.iter().find_map(|p| lower.find(p)) else {
                continue;
            };
            let parent_too = n
                .parent
                .is_some_and(|p| tab.node(p).desc.contains("classified elsewhere"));
            if parent_too {
                continue;
            }
            let etiologies = note_refs(tab, i as u32, NoteKind::CodeFirst);
            let (core, _) =
                crate::dict::term_concepts(&crate::dict::clean_term(&lower[..at]), &mut dict.vocab);
            if etiologies.is_empty() || core.is_empty() {
                continue;
            }
            let mut by_tail = FxHashMap::default();
            const ELSEWHERE: &str = "classified elsewhere";
            for j in i as u32..n.end {
                let d = tab.node(j).desc.to_lowercase();
                if let Some(p) = d.find(ELSEWHERE)
                    && tab.is_leaf(j)
                    && let Some((k, _, _)) = crate::dict::default_billable(tab, j)
                {
                    by_tail
                        .entry(d[p + ELSEWHERE.len()..].to_string())
                        .or_insert(k);
                }
            }
            out.push(Manifestation {
                node: i as u32,
                core,
                etiologies,
                counterparts: FxHashSet::default(),
                counterpart_categories: FxHashSet::default(),
                by_tail,
            });
        }
        let grade: Vec<u32> = MANIFESTATION_GRADES
            .iter()
            .filter_map(|g| dict.vocab.get(&crate::dict::concept_of(g)))
            .collect();
        let by_core: FxHashMap<Vec<u32>, Vec<usize>> =
            out.iter()
                .enumerate()
                .fold(FxHashMap::default(), |mut m, (i, mf)| {
                    m.entry(mf.core.clone()).or_default().push(i);
                    m
                });
        for e in &dict.entries {
            // Terms that name the code itself: its title, its category's
            // title read as its default, our lexicon's index defaults.
            if !matches!(
                e.source,
                TermSource::Title | TermSource::CategoryDefault | TermSource::Lexicon
            ) {
                continue;
            }
            let bare: Vec<u32> = e
                .required
                .iter()
                .copied()
                .filter(|r| !grade.contains(r))
                .collect();
            let Some(ms) = by_core.get(&bare) else {
                continue;
            };
            for &m in ms {
                let mf = &mut out[m];
                let inside = e.node >= mf.node && e.node < tab.node(mf.node).end;
                if !inside && !mf.etiologies.iter().any(|r| r.contains(&e.key)) {
                    mf.counterparts.insert(e.key.clone());
                }
            }
        }
        out.retain(|mf| !mf.counterparts.is_empty());
        for mf in &mut out {
            mf.counterpart_categories = mf
                .counterparts
                .iter()
                .map(|c| category_of(c).to_string())
                .collect();
        }
        out
    }

    /// The manifestation code standing for a code of the same condition:
    /// the one whose title ends as the code's does (", severe, with
    /// agitation": F03.C11 → F02.C11; ", unspecified severity, without …":
    /// F03.90 → F02.80); else, for a counterpart, the parallel subcode or
    /// the node's own default code. None: no manifestation code says what
    /// the code says.
    fn target(&self, tab: &Tabular, key: &str) -> Option<String> {
        let node = tab.node(self.node);
        let within = |n: u32| n >= self.node && n < node.end;
        let own = match tab.resolve(key) {
            Resolution::Billable { node: n, .. } => title_tail(&tab.node(n).desc),
            _ => None,
        };
        if let Some(hit) = own.and_then(|t| self.by_tail.get(&t)) {
            return Some(hit.clone());
        }
        if !self.counterparts.contains(key) {
            return None;
        }
        if node.key.len() == 3 && key.len() > 3 {
            let parallel = format!("{}{}", node.key, &key[3..]);
            if let Resolution::Billable { node: n, .. } = tab.resolve(&parallel)
                && within(n)
            {
                return Some(parallel);
            }
        }
        crate::dict::default_billable(tab, self.node).map(|(k, _, _)| k)
    }

    /// A code the manifestation stands for: a counterpart, or a code of a
    /// counterpart's category whose title a manifestation code ends alike.
    fn stands_for(&self, tab: &Tabular, key: &str) -> Option<String> {
        if self.counterparts.contains(key) || self.counterpart_categories.contains(category_of(key))
        {
            self.target(tab, key)
        } else {
            None
        }
    }
}

impl CodeRange {
    fn contains(&self, key: &str) -> bool {
        let k = key;
        let lo_ok = k >= self.lo.as_str() || k.starts_with(&self.lo);
        let hi_ok = k <= self.hi.as_str() || k.starts_with(&self.hi);
        lo_ok && hi_ok
    }
}

fn parse_code_refs(text: &str) -> Vec<CodeRange> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let is_code_start = |j: usize| {
        j + 2 < bytes.len()
            && bytes[j].is_ascii_uppercase()
            && bytes[j + 1].is_ascii_digit()
            && (bytes[j + 2].is_ascii_digit() || bytes[j + 2].is_ascii_uppercase())
            && (j == 0 || !bytes[j - 1].is_ascii_alphanumeric())
    };
    let read_code = |j: usize| -> (String, usize) {
        let mut k = j;
        let mut s = String::new();
        while k < bytes.len() && (bytes[k].is_ascii_alphanumeric() || bytes[k] == b'.') {
            if bytes[k] != b'.' {
                s.push(bytes[k] as char);
            }
            k += 1;
        }
        (s, k)
    };
    while i < bytes.len() {
        if is_code_start(i) {
            let (lo, mut k) = read_code(i);
            // "E08-E13": a range; "E10.-": the category.
            let mut hi = lo.clone();
            if k + 1 < bytes.len() && bytes[k] == b'-' && is_code_start(k + 1) {
                let (h, k2) = read_code(k + 1);
                hi = h;
                k = k2;
            }
            if lo.len() >= 3 {
                out.push(CodeRange { lo, hi });
            }
            i = k.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The open coder for one release.
pub struct Coder<'e> {
    engine: Option<&'e Engine>,
    pub tab: Arc<Tabular>,
    pub release: String,
    release_warning: Option<String>,
    pub dict: Dictionary,
    pub model: Option<Model>,
    pub policy: ContextPolicy,
    context: ContextAnalyzer,
    pub options: CoderOptions,
    nb: NbIndex,
    neighbours: crate::neighbours::NeighbourIndex,
    /// Final codes of the model's history per 3-character category.
    category_gold: FxHashMap<String, u32>,
    /// Per category, the billable codes its history's coders chose at least
    /// [`SIBLING_MIN_NOTES`] times, most chosen first (code key, tabular
    /// node, notes).
    category_codes: FxHashMap<String, Vec<(String, u32, u32)>>,
    /// Unspecified-side codes and their right/left/bilateral siblings.
    laterality: crate::laterality::Laterality,
    /// ICD-11 companions already read from the WHO maps, by code key.
    icd11_cache: std::sync::RwLock<FxHashMap<String, Option<Icd11Out>>>,
    /// Dictionary entry of each code a numeric rule gives (BMI, weeks of
    /// gestation), and the rule of each such entry.
    numeric_entries: FxHashMap<String, u32>,
    numeric_rule: FxHashMap<u32, NumericRule>,
    /// Manifestation codes and the etiologies their "code first" notes list.
    manifestations: Vec<Manifestation>,
    /// Substances of the Table of Drugs and Chemicals by their words (word
    /// concepts joined by spaces) with their adverse-effect code.
    adverse_effects: FxHashMap<String, String>,
}

/// The model's keyword classifiers, indexed by concept.
#[derive(Default)]
struct NbIndex {
    /// Dictionary entry of each classifier (None: code not billable here).
    entries: Vec<Option<u32>>,
    by_code: FxHashMap<String, u32>,
    /// Concept -> (classifier, feature, weight of the feature when present).
    by_concept: FxHashMap<u32, Vec<(u32, u32, f64)>>,
    /// Log-odds of each classifier with no word present.
    bias: Vec<f64>,
}

impl NbIndex {
    fn build(dict: &mut Dictionary, tab: &Tabular, model: Option<&Model>) -> NbIndex {
        let mut nb = NbIndex::default();
        let Some(m) = model else { return nb };
        for (ci, got) in dict
            .add_classifiers(tab, &m.classifiers)
            .into_iter()
            .enumerate()
        {
            let k = &m.classifiers[ci];
            nb.bias.push(k.bias());
            match got {
                Some((entry, ids)) => {
                    nb.entries.push(Some(entry));
                    nb.by_code.insert(k.code.clone(), ci as u32);
                    for (fi, id) in ids.into_iter().enumerate() {
                        let w = k.feature_weight(fi);
                        nb.by_concept
                            .entry(id)
                            .or_default()
                            .push((ci as u32, fi as u32, w));
                    }
                }
                None => nb.entries.push(None),
            }
        }
        nb
    }
}

/// A subcode is proposed as a history sibling when the history chose it in
/// at least this many notes.
pub const SIBLING_MIN_NOTES: u32 = 2;
/// History siblings proposed per candidate (the category's most chosen).
pub const SIBLINGS_PER_CANDIDATE: usize = 2;

/// A keyword model proposes its code when its log-odds reach this value
/// with at least two of its words present.
pub const NB_PROPOSE_LOGIT: f64 = -2.0;
pub const NB_MAX_PROPOSALS: usize = 25;

fn encounter_dos_text(dos: Option<Date>) -> String {
    dos.map(|d| format!(" for date of service {d}"))
        .unwrap_or_default()
}

impl<'e> Coder<'e> {
    /// Opens the coder on the ICD-10-CM release for a date of service (the
    /// newest installed when None), with an optional learned model.
    pub fn new(engine: &'e Engine, dos: Option<Date>, model: Option<Model>) -> Result<Coder<'e>> {
        let Some((choice, tab)) = engine.tabular_for(dos)? else {
            return Err(CoderError::NoRelease {
                for_dos: encounter_dos_text(dos),
            });
        };
        let mut indexes = Vec::new();
        for kind in [
            medledger_codesets::icd10cm::index::IndexKind::Main,
            medledger_codesets::icd10cm::index::IndexKind::Neoplasm,
            medledger_codesets::icd10cm::index::IndexKind::Drug,
        ] {
            if let Some((_, t)) = engine.index_for(kind, dos)? {
                indexes.push(t);
            }
        }
        Ok(Coder::assemble(
            Some(engine),
            tab,
            choice.id,
            choice.warning,
            &indexes,
            model,
        ))
    }

    /// A coder over a parsed tabular alone (no ICD-11 maps, no index):
    /// for tests, fuzzing and embedding.
    pub fn from_tabular(tab: Arc<Tabular>, release: &str, model: Option<Model>) -> Coder<'static> {
        Coder::assemble(None, tab, release.to_string(), None, &[], model)
    }

    /// The dictionary (with the model's learned terms and keyword models)
    /// and the policy the model read off its history.
    fn assemble(
        engine: Option<&'e Engine>,
        tab: Arc<Tabular>,
        release: String,
        release_warning: Option<String>,
        indexes: &[Arc<medledger_codesets::icd10cm::index::IndexTree>],
        model: Option<Model>,
    ) -> Coder<'e> {
        let mut dict = Dictionary::build(&tab, &release, indexes);
        if let Some(m) = &model {
            dict.add_learned(&tab, &m.learned_terms);
        }
        let nb = NbIndex::build(&mut dict, &tab, model.as_ref());
        // Unanchored, after every re-index: their indices stay valid.
        let mut numeric_entries = FxHashMap::default();
        let mut numeric_rule = FxHashMap::default();
        for (rule, key) in crate::numeric::all_keys() {
            if let Some(e) = dict.add_unanchored(&tab, &key, TermSource::Lexicon, rule.term()) {
                numeric_entries.insert(key, e);
                numeric_rule.insert(e, rule);
            }
        }
        let neighbours = match &model {
            Some(m) => crate::neighbours::NeighbourIndex::build(
                &m.neighbours,
                m.neighbour_k,
                &mut dict.vocab,
            ),
            None => Default::default(),
        };
        let policy = model
            .as_ref()
            .map(|m| m.policy.clone())
            .unwrap_or_else(ContextPolicy::official);
        let mut category_gold: FxHashMap<String, u32> = FxHashMap::default();
        for (k, n) in model.iter().flat_map(|m| m.code_gold.iter()) {
            *category_gold.entry(category_of(k).to_string()).or_default() += n;
        }
        let mut category_codes: FxHashMap<String, Vec<(String, u32, u32)>> = FxHashMap::default();
        for (k, &n) in model.iter().flat_map(|m| m.code_gold.iter()) {
            if n < SIBLING_MIN_NOTES {
                continue;
            }
            if let medledger_codesets::icd10cm::tabular::Resolution::Billable { node, .. } =
                tab.resolve(k)
            {
                category_codes
                    .entry(category_of(k).to_string())
                    .or_default()
                    .push((k.clone(), node, n));
            }
        }
        let category_codes = category_codes
            .into_iter()
            .map(|(cat, mut v)| {
                v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
                (cat, v)
            })
            .collect();
        let laterality = crate::laterality::Laterality::build(&tab);
        let manifestations = Manifestation::build(&tab, &mut dict);
        let adverse_effects = adverse_effect_codes(&tab, indexes);
        Coder {
            manifestations,
            adverse_effects,
            laterality,
            category_codes,
            category_gold,
            engine,
            tab,
            release,
            release_warning,
            dict,
            model,
            policy,
            context: ContextAnalyzer::new(),
            options: CoderOptions::default(),
            nb,
            neighbours,
            icd11_cache: Default::default(),
            numeric_entries,
            numeric_rule,
        }
    }

    /// The note's mentions: dictionary matches, then the numeric rules'
    /// readings (appended, so the matcher's indices stay as they are).
    pub fn mentions(
        &self,
        note: &Annotated,
        scratch: &mut Scratch,
        enc: &Encounter,
    ) -> Vec<Mention> {
        let mut mentions = matcher::find_mentions(note, &self.dict, scratch);
        for r in crate::numeric::readings(note, enc.age) {
            let Some(&entry) = self.numeric_entries.get(&r.key) else {
                continue;
            };
            let (first, last) = (r.tokens[0], r.tokens[r.tokens.len() - 1]);
            mentions.push(Mention {
                entry,
                sentence: r.sentence,
                window: last - first + 1,
                tokens: r.tokens,
                optional_found: 0,
                subsumed_by: None,
                nested: false,
            });
        }
        mentions
    }

    pub fn model_version(&self) -> Option<String> {
        self.model.as_ref().map(|m| m.version.clone())
    }

    /// Checks raw bytes and returns the note text.
    pub fn check_input<'b>(&self, id: &str, bytes: &'b [u8]) -> Result<&'b str> {
        if bytes.len() > self.options.max_note_bytes {
            // Before decoding: an over-limit note is not read at all.
            return Err(CoderError::TooLarge {
                id: id.to_string(),
                size: bytes.len(),
                limit: self.options.max_note_bytes,
            });
        }
        std::str::from_utf8(bytes).map_err(|e| CoderError::InvalidUtf8 {
            id: id.to_string(),
            byte: e.valid_up_to(),
        })
    }

    /// Codes a note given as bytes (checked for UTF-8, emptiness and size).
    pub fn code_bytes(
        &self,
        id: &str,
        bytes: &[u8],
        enc: &Encounter,
        scratch: &mut Scratch,
    ) -> Result<CodingResult> {
        let text = self.check_input(id, bytes)?;
        self.code(id, text, enc, scratch)
    }

    pub fn code(
        &self,
        id: &str,
        text: &str,
        enc: &Encounter,
        scratch: &mut Scratch,
    ) -> Result<CodingResult> {
        if text.len() > self.options.max_note_bytes {
            return Err(CoderError::TooLarge {
                id: id.to_string(),
                size: text.len(),
                limit: self.options.max_note_bytes,
            });
        }
        if text.trim().is_empty() {
            return Err(CoderError::Empty { id: id.to_string() });
        }
        let note = matcher::annotate(text, &self.dict, scratch);
        let mentions = self.mentions(&note, scratch, enc);
        let (cands, mut not_coded) = self.candidates(&note, &mentions, enc);
        let probabilities: Vec<f64> = match &self.model {
            Some(m) => {
                let rows: Vec<Vec<f64>> = cands
                    .iter()
                    .map(|c| features(c, &self.dict.entries[c.best_entry as usize], Some(m)))
                    .collect();
                m.score_many(&rows)
            }
            None => cands
                .iter()
                .map(|c| heuristic(c, &self.dict.entries[c.best_entry as usize]))
                .collect(),
        };
        let mut scored: Vec<(Candidate, f64)> = cands.into_iter().zip(probabilities).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.key.cmp(&b.0.key)));
        let threshold = self.model.as_ref().map(|m| m.threshold).unwrap_or(0.5);
        let (mut chosen, mut rest): (Vec<_>, Vec<_>) =
            scored.into_iter().partition(|(_, p)| *p >= threshold);
        self.resolve_excludes1(&mut chosen, &mut rest, &note, &mentions, &mut not_coded);
        one_code_per_evidence(&mut chosen, &mut rest, &mentions);
        self.order(&mut chosen);
        rest.sort_by(|a, b| b.1.total_cmp(&a.1));
        rest.retain(|(_, p)| *p >= self.options.list_floor);
        rest.truncate(self.options.max_candidates);
        let chars = CharIndex::new(text);
        let chosen_keys: Vec<&str> = chosen.iter().map(|(c, _)| c.key.as_str()).collect();
        let suggestions = chosen
            .iter()
            .map(|(c, p)| {
                let mut s = self.suggestion(c, *p, threshold, &note, &mentions, &chars);
                self.attach_code_pairs(&mut s, c, &chosen_keys);
                s
            })
            .collect();
        let candidates = rest
            .iter()
            .map(|(c, p)| {
                let mut s = self.suggestion_with(c, *p, threshold, &note, &mentions, &chars, false);
                s.icd11 = None;
                s
            })
            .collect();
        for nc in &mut not_coded {
            nc.evidence.iter_mut().for_each(|ev| {
                // Stored as byte offsets until here.
                let (s, e) = (ev.start, ev.end);
                ev.start = chars.char_offset(s);
                ev.end = chars.char_offset(e);
            });
        }
        let mut warnings = Vec::new();
        if let Some(w) = &self.release_warning {
            warnings.push(w.clone());
        }
        Ok(CodingResult {
            id: id.to_string(),
            engine: ENGINE_VERSION,
            model: self.model_version(),
            policy: if self.model.is_some() {
                "learned".into()
            } else {
                "official".into()
            },
            release: self.release.clone(),
            setting: enc.setting,
            dos: enc.dos,
            suggestions,
            candidates,
            not_coded,
            warnings,
        })
    }

    /// Candidates (before scoring) for a note: used by coding and training.
    pub fn candidates(
        &self,
        note: &Annotated,
        mentions: &[Mention],
        enc: &Encounter,
    ) -> (Vec<Candidate>, Vec<NotCoded>) {
        let mut not_coded = Vec::new();
        let n_tokens = note.tokens.len().max(1) as f64;
        // Context of each mention that is not subsumed by a longer one,
        // one trigger scan per sentence.
        let mut ctxs: Vec<Option<Context>> = vec![None; mentions.len()];
        let mut i = 0;
        while i < mentions.len() {
            let si = mentions[i].sentence;
            let mut j = i;
            while j < mentions.len() && mentions[j].sentence == si {
                j += 1;
            }
            let idx: Vec<usize> = (i..j)
                .filter(|&k| mentions[k].subsumed_by.is_none())
                .collect();
            if !idx.is_empty() {
                let targets: Vec<std::ops::Range<usize>> = idx
                    .iter()
                    .map(|&k| {
                        let m = &mentions[k];
                        m.tokens[0] as usize..m.tokens[m.tokens.len() - 1] as usize + 1
                    })
                    .collect();
                let sentence = &note.sentences[si as usize];
                let got = match note.sentence_section_idx[si as usize]
                    .and_then(|x| note.sections.get(x))
                    .filter(|x| x.kind == note.sentence_section[si as usize])
                {
                    Some(sec) => self.context.analyze_in_section(
                        note.text,
                        &note.tokens,
                        sentence,
                        &targets,
                        sec,
                    ),
                    None => self.context.analyze_all(
                        note.text,
                        &note.tokens,
                        sentence,
                        &targets,
                        note.sentence_section[si as usize],
                    ),
                };
                for (k, c) in idx.into_iter().zip(got) {
                    ctxs[k] = Some(c);
                }
            }
            i = j;
        }
        // A negation word right before a later part of a gapped mention
        // negates it: in "cardiac auscultation rhythmic, no murmurs" there
        // is no cardiac murmur, though no trigger precedes "cardiac".
        for (m, cx) in mentions.iter().zip(ctxs.iter_mut()) {
            if let Some(cx) = cx.as_mut()
                && !cx.negated
                && let Some(t) = gap_negation(note, &m.tokens)
            {
                let tok = &note.tokens[t];
                cx.negated = true;
                cx.cues.push(medledger_text::Cue {
                    kind: medledger_text::ContextKind::Negated,
                    start: tok.start,
                    end: tok.end,
                    text: tok.lower.clone(),
                });
            }
        }
        let mut by_key: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
        for (i, m) in mentions.iter().enumerate() {
            if m.subsumed_by.is_none() {
                by_key
                    .entry(self.dict.entries[m.entry as usize].key.as_str())
                    .or_default()
                    .push(i as u32);
            }
        }
        let mut keys: Vec<&str> = by_key.keys().copied().collect();
        keys.sort_unstable();
        let mut out: Vec<Candidate> = Vec::new();
        for key in keys {
            let ms = &by_key[key];
            let mut c = self.candidate_from(key, ms, mentions, &ctxs, note, n_tokens);
            if let Some(&rule) = self.numeric_rule.get(&c.best_entry) {
                c.rule = rule.rule_id().into();
                c.guideline = Some(rule.guideline().into());
                c.term_key = rule.rule_id().into();
                c.steps = vec![format!(
                    "read the documented value \"{}\" as {}",
                    fragments(note, &mentions[ms[0] as usize].tokens, None)
                        .iter()
                        .map(|f| f.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" … "),
                    normalize::icd10cm_display(key)
                )];
            }
            // Guideline policy on context.
            let chronic = || lexicon::CHRONIC_PREFIXES.iter().any(|p| key.starts_with(p));
            if c.affirmed {
                // "Nephrectomy was performed": the procedure of this episode,
                // not the acquired-absence status (Z89/Z90) its word reads
                // as when the note places it in the past.
                if self.model.is_none()
                    && (key.starts_with("Z89") || key.starts_with("Z90"))
                    && self.dict.entries[c.best_entry as usize]
                        .text
                        .split_whitespace()
                        .last()
                        .is_some_and(|w| w.ends_with("ectomy") || w.starts_with("amputation"))
                {
                    not_coded.push(self.not_coded(
                        &c,
                        note,
                        mentions,
                        "a procedure documented in this episode: the acquired-absence status is coded when the note places the procedure in the past",
                    ));
                    continue;
                }
                out.push(c);
                continue;
            }
            // What the policy does not code is set aside: recorded as not
            // coded, or (under a model, whose policy may code it) kept as a
            // flagged candidate for the re-ranker.
            let p = &self.policy;
            // A negated or hypothetical condition is never coded unless the
            // learned policy read off the history codes it: the re-ranker
            // does not get to override the guideline.
            if c.ctx.negated {
                if !p.code_negated {
                    not_coded.push(self.not_coded(&c, note, mentions, "negated in the note"));
                    continue;
                }
                self.set_aside(
                    &c,
                    "negated in the note",
                    &mut out,
                    &mut not_coded,
                    note,
                    mentions,
                );
                continue;
            }
            if c.ctx.hypothetical {
                if !p.code_hypothetical {
                    not_coded.push(self.not_coded(
                        &c,
                        note,
                        mentions,
                        "hypothetical or conditional mention (not a documented condition)",
                    ));
                    continue;
                }
                self.set_aside(
                    &c,
                    "hypothetical or conditional mention (not a documented condition)",
                    &mut out,
                    &mut not_coded,
                    note,
                    mentions,
                );
                continue;
            }
            if c.ctx.family {
                let z = (!p.code_family_as_condition)
                    .then(|| map_prefix(lexicon::FAMILY_HISTORY, key))
                    .flatten()
                    .and_then(|z| {
                        self.derived(
                            &c,
                            z,
                            "guideline.family_history",
                            "ICD-10-CM OCG I.C.21.c.4 (family history codes Z80-Z84)",
                            &format!(
                                "{} documented for a family member: coded as family history",
                                normalize::icd10cm_display(key)
                            ),
                        )
                    });
                let reason = match z {
                    Some(zc) => {
                        out.push(zc);
                        "family member's condition: coded as family history"
                    }
                    None => "family member's condition with no family-history code",
                };
                self.set_aside(&c, reason, &mut out, &mut not_coded, note, mentions);
                continue;
            }
            if c.ctx.historical {
                if lexicon::STATUS_PREFIXES.iter().any(|p| key.starts_with(p)) {
                    c.steps.push(
                        "documented in the history, but a status code: the past event is the current status"
                            .into(),
                    );
                    c.guideline
                        .get_or_insert_with(|| "ICD-10-CM OCG I.C.21.c.3 (status codes)".into());
                    c.affirmed = true;
                    out.push(c);
                    continue;
                }
                if chronic() {
                    c.steps.push(
                        "documented in the history, but a chronic condition: coded as current"
                            .into(),
                    );
                    c.affirmed = true;
                    out.push(c);
                    continue;
                }
                if p.code_historical_as_condition {
                    c.steps
                        .push("historical mention coded as a condition (learned policy)".into());
                }
                let z = (!p.code_historical_as_condition)
                    .then(|| map_prefix(lexicon::PERSONAL_HISTORY, key))
                    .flatten()
                    .and_then(|z| {
                        self.derived(
                            &c,
                            z,
                            "guideline.personal_history",
                            "ICD-10-CM OCG I.C.21.c.4 (personal history codes Z85-Z87)",
                            &format!(
                                "{} documented as resolved/history: coded as personal history",
                                normalize::icd10cm_display(key)
                            ),
                        )
                    });
                let reason = match z {
                    Some(zc) => {
                        out.push(zc);
                        "history of a resolved condition: coded as personal history"
                    }
                    None => "history of a condition with no personal-history code",
                };
                self.set_aside(&c, reason, &mut out, &mut not_coded, note, mentions);
                continue;
            }
            if c.ctx.uncertain {
                if !p.code_uncertain && enc.setting == Setting::Inpatient {
                    c.guideline = Some(
                        "ICD-10-CM OCG II.H (uncertain diagnosis at discharge coded as if established)"
                            .into(),
                    );
                    c.flags.push(Flag::UncertainCodedAsEstablished);
                    c.flags.push(Flag::QueryProvider);
                    c.affirmed = true;
                    out.push(c);
                } else {
                    self.set_aside(
                        &c,
                        "uncertain diagnosis in an outpatient setting: not coded, code the signs and symptoms (ICD-10-CM OCG IV.H)",
                        &mut out,
                        &mut not_coded,
                        note,
                        mentions,
                    );
                }
                continue;
            }
            out.push(c);
        }
        self.numeric_association_policy(&mut out, &mut not_coded, note, mentions);
        self.episode_of_care(&mut out, note);
        self.laterality(&mut out, mentions, note);
        if self.model.is_none() {
            self.integral_symptoms(&mut out, mentions, note, &mut not_coded);
        }
        self.combinations(&mut out, &mut not_coded);
        self.manifestation_pairs(&mut out, &mut not_coded, mentions);
        one_intent_per_drug(&mut out, &mut not_coded, mentions, &self.dict);
        self.without_complications(&mut out, &mut not_coded);
        self.hypertension_once(&mut out, &mut not_coded);
        self.unspecified_sites(&mut out, &mut not_coded);
        external_cause_status(&mut out, &mut not_coded);
        self.additional_codes(&mut out, note);
        self.ckd_stage(&mut out, note, mentions);
        self.drug_causes(&mut out, note, mentions);
        // A code the note itself rules out (negated, hypothetical) is not
        // proposed again by a bag-of-words keyword model.
        let ruled_out: FxHashSet<String> = not_coded
            .iter()
            .filter(|n| n.reason.starts_with("negated") || n.reason.starts_with("hypothetical"))
            .map(|n| normalize::key(&n.code))
            .collect();
        // Words inside a negated, hypothetical or family member's mention
        // say nothing about the patient's own conditions: the keyword models
        // do not read them.
        let mut unread = vec![false; note.tokens.len()];
        for (m, cx) in mentions.iter().zip(&ctxs) {
            if let Some(cx) = cx
                && (cx.negated || cx.hypothetical || cx.family)
                && let (Some(&a), Some(&b)) = (m.tokens.first(), m.tokens.last())
            {
                for t in a..=b {
                    if let Some(u) = unread.get_mut(t as usize) {
                        *u = true;
                    }
                }
            }
        }
        self.history_siblings(&mut out, &ruled_out);
        self.keyword_models(&mut out, note, n_tokens, &ruled_out, &unread);
        if !self.neighbours.is_empty() {
            let near = self.neighbours.query(&note.concepts);
            for c in out.iter_mut() {
                c.knn = self.neighbours.vote(&near, &c.key);
            }
        }
        // How crowded the note is: the more candidates, the less each one
        // is likely to be among the final codes.
        let n = out.len() as u32;
        let dict_n = out.iter().filter(|c| c.has_non_learned).count() as u32;
        let mut per_category: FxHashMap<&str, u32> = FxHashMap::default();
        for c in &out {
            *per_category.entry(category_of(&c.key)).or_default() += 1;
        }
        let siblings: Vec<u32> = out
            .iter()
            .map(|c| per_category[category_of(&c.key)].saturating_sub(1))
            .collect();
        for (c, sib) in out.iter_mut().zip(siblings) {
            c.doc_candidates = (n, dict_n);
            c.siblings = sib;
            c.category_share = match &self.model {
                Some(m) => {
                    let own = m.code_gold.get(&c.key).copied().unwrap_or(0);
                    let all = self
                        .category_gold
                        .get(category_of(&c.key))
                        .copied()
                        .unwrap_or(0);
                    (f64::from(own) + 0.5) / (f64::from(all) + 1.0)
                }
                None => 0.0,
            };
        }
        (out, not_coded)
    }

    /// Numeric readings reported only beside an associated diagnosis: a body
    /// mass index with obesity, malnutrition, underweight or cachexia (OCG
    /// I.C.21.c.3), an NIHSS score with an acute cerebral infarction I63 (OCG
    /// I.C.18.i). Without one the reading is not coded under the official
    /// policy; under a model (whose history may code it anyway) it stays a
    /// candidate, flagged for a provider query.
    fn numeric_association_policy(
        &self,
        out: &mut Vec<Candidate>,
        not_coded: &mut Vec<NotCoded>,
        note: &Annotated,
        mentions: &[Mention],
    ) {
        struct Association {
            is: fn(NumericRule) -> bool,
            with: &'static [&'static str],
            reported: &'static str,
            why: &'static str,
            query: &'static str,
        }
        const ASSOCIATIONS: &[Association] = &[
            Association {
                is: NumericRule::is_bmi,
                with: lexicon::BMI_ASSOCIATED,
                reported: "reported with the note's associated weight diagnosis",
                why: "body mass index documented without an associated reportable diagnosis (obesity, malnutrition, underweight): not coded (ICD-10-CM OCG I.C.21.c.3)",
                query: "no associated weight diagnosis found in the note: query the provider (OCG I.C.21.c.3)",
            },
            Association {
                is: |r| r == NumericRule::NihssScore,
                with: &["I63"],
                reported: "reported with the note's acute cerebral infarction (I63), sequenced after it",
                why: "NIHSS score documented without an acute cerebral infarction (I63): not coded (ICD-10-CM OCG I.C.18.i)",
                query: "no acute cerebral infarction (I63) found in the note: query the provider (OCG I.C.18.i)",
            },
        ];
        for a in ASSOCIATIONS {
            let is = |c: &Candidate| {
                self.numeric_rule
                    .get(&c.best_entry)
                    .is_some_and(|r| (a.is)(*r))
            };
            if !out.iter().any(is) {
                continue;
            }
            let associated = out
                .iter()
                .any(|c| c.affirmed && !is(c) && a.with.iter().any(|p| c.key.starts_with(p)));
            if associated {
                for c in out.iter_mut().filter(|c| is(c)) {
                    c.steps.push(a.reported.into());
                }
            } else if self.model.is_none() {
                let (readings, rest): (Vec<Candidate>, Vec<Candidate>) =
                    std::mem::take(out).into_iter().partition(is);
                *out = rest;
                not_coded.extend(
                    readings
                        .iter()
                        .map(|c| self.not_coded(c, note, mentions, a.why)),
                );
            } else {
                for c in out.iter_mut().filter(|c| is(c)) {
                    c.flags.push(Flag::QueryProvider);
                    c.steps.push(a.query.into());
                }
            }
        }
    }

    /// The 7th character for the episode of care (I.C.19.a): subsequent
    /// encounter or sequela when the note says so, else the default initial
    /// encounter stays, flagged.
    fn episode_of_care(&self, out: &mut [Candidate], note: &Annotated) {
        if !out.iter().any(|c| c.default_seventh) {
            return;
        }
        // Cue phrases as token sequences ("follow-up" is three tokens).
        const SUBSEQUENT: &[&[&str]] = &[
            &["subsequent", "encounter"],
            &["routine", "healing"],
            &["follow", "-", "up", "visit", "for"],
            &["follow", "up", "visit", "for"],
            &["cast", "check"],
            &["here", "for", "follow", "-", "up", "of"],
        ];
        const SEQUELA: &[&[&str]] = &[
            &["sequela"],
            &["sequelae"],
            &["late", "effect"],
            &["late", "effects"],
        ];
        let find = |cues: &[&[&str]]| -> Option<String> {
            cues.iter().find_map(|cue| {
                note.tokens
                    .windows(cue.len())
                    .any(|w| w.iter().zip(cue.iter()).all(|(t, c)| t.lower == *c))
                    .then(|| cue.join(" ").replace(" - ", "-"))
            })
        };
        let (want, why) = match (find(SEQUELA), find(SUBSEQUENT)) {
            (Some(w), _) => ('S', w),
            (None, Some(w)) => ('D', w),
            _ => return,
        };
        for c in out
            .iter_mut()
            .filter(|c| c.default_seventh && c.key.len() == 7)
        {
            let Some(stem) = c.key.get(..6) else { continue };
            let key = format!("{stem}{want}");
            if let Resolution::Billable {
                node,
                seventh: Some(_),
            } = self.tab.resolve(&key)
            {
                c.steps.retain(|x| !x.starts_with("7th character"));
                c.steps.push(format!(
                    "7th character {want} read from \"{why}\" in the note (episode of care, OCG I.C.19.a)"
                ));
                c.key = key;
                c.node = node;
                c.default_seventh = false;
                c.flags.retain(|f| *f != Flag::DefaultSeventhCharacter);
                c.term_key = format!("{}|{}", c.term_key, want);
            }
        }
    }

    /// Laterality (OCG I.B.13): an unspecified-side code becomes its right,
    /// left or bilateral sibling when a side word stands next to one of its
    /// mentions, unless that code is a candidate of its own already.
    fn laterality(&self, out: &mut Vec<Candidate>, mentions: &[Mention], note: &Annotated) {
        if self.laterality.is_empty() {
            return;
        }
        let present: FxHashSet<String> = out.iter().map(|c| c.key.clone()).collect();
        // An unspecified-side code whose side code the note's words already
        // gave is dropped: the side is documented.
        let mut redundant = vec![false; out.len()];
        for (ci, c) in out.iter_mut().enumerate() {
            let Some(sides) = self.laterality.sides(c.node) else {
                continue;
            };
            let eye = c.key.as_str() >= "H00" && c.key.as_str() < "H60";
            let found = c.mentions.iter().find_map(|&m| {
                let m = &mentions[m as usize];
                let (lo, hi) = (*m.tokens.first()?, *m.tokens.last()?);
                crate::laterality::side_near(note, m.sentence as usize, lo, hi, eye)
            });
            let Some((side, tok)) = found else { continue };
            let Some(target) = sides.get(side) else {
                continue;
            };
            let node_key = &self.tab.node(c.node).key;
            let suffix = c.key.get(node_key.len()..).unwrap_or("").to_string();
            let key = format!("{}{suffix}", self.tab.node(target).key);
            if present.contains(&key) {
                redundant[ci] = c.affirmed;
                continue;
            }
            let t = &note.tokens[tok as usize];
            let word = note.text.get(t.start..t.end).unwrap_or("");
            c.steps.push(format!(
                "laterality {} read from \"{word}\" next to the mention (OCG I.B.13)",
                side.name()
            ));
            c.term_key = format!("{}|{}", c.term_key, side.name());
            if !self
                .tab
                .node(target)
                .desc
                .to_lowercase()
                .contains("unspecified")
            {
                c.flags.retain(|f| *f != Flag::UnspecifiedCode);
            }
            c.key = key;
            c.node = target;
        }
        let mut gone = redundant.into_iter();
        out.retain(|_| !gone.next().unwrap_or(false));
    }

    /// Signs and symptoms integral to a confirmed diagnosis are not coded
    /// (OCG I.B.5, I.B.4): a symptom (chapter 18) in the same sentence as an
    /// affirmed definitive diagnosis and linked to it ("due to", "secondary
    /// to", "from", "caused by", "because of", "related to") is dropped.
    fn integral_symptoms(
        &self,
        out: &mut Vec<Candidate>,
        mentions: &[Mention],
        note: &Annotated,
        not_coded: &mut Vec<NotCoded>,
    ) {
        const LINKS: &[&[&str]] = &[
            &["due", "to"],
            &["secondary", "to"],
            &["caused", "by"],
            &["because", "of"],
            &["related", "to"],
            &["from"],
            &["attributed", "to"],
        ];
        let sentences_of = |c: &Candidate| -> Vec<u32> {
            c.mentions
                .iter()
                .map(|&m| mentions[m as usize].sentence)
                .collect()
        };
        let mut drop: Vec<(usize, String)> = Vec::new();
        for (i, sym) in out.iter().enumerate() {
            if !sym.key.starts_with('R') || !sym.affirmed || sym.mentions.is_empty() {
                continue;
            }
            let ss = sentences_of(sym);
            // A poisoning, adverse effect or underdosing names the drug, not
            // the condition: its manifestations are coded beside it (OCG
            // I.C.19.e.5).
            let Some(dx) = out.iter().find(|d| {
                d.affirmed
                    && !d.key.starts_with('R')
                    && !d.key.starts_with('Z')
                    && drug_code_role(&d.key).is_none()
                    && d.rule.starts_with("dict.")
                    && sentences_of(d).iter().any(|s| ss.contains(s))
            }) else {
                continue;
            };
            let Some(&si) = sentences_of(dx).iter().find(|s| ss.contains(s)) else {
                continue;
            };
            let toks = &note.tokens[note.sentences[si as usize].tokens.clone()];
            let linked = toks.windows(2).any(|w| {
                LINKS.iter().any(|l| match l.len() {
                    1 => w[0].lower == l[0],
                    _ => w[0].lower == l[0] && w[1].lower == l[1],
                })
            });
            if linked {
                drop.push((i, normalize::icd10cm_display(&dx.key)));
            }
        }
        for (i, dx) in drop.into_iter().rev() {
            let c = out.remove(i);
            not_coded.push(NotCoded {
                code: normalize::icd10cm_display(&c.key),
                reason: format!(
                    "sign or symptom integral to the documented diagnosis {dx} (ICD-10-CM OCG I.B.5)"
                ),
                evidence: c
                    .mentions
                    .iter()
                    .flat_map(|&m| fragments(note, &mentions[m as usize].tokens, None))
                    .collect(),
            });
        }
    }

    /// The subcodes the coded history picks in a candidate's category, as
    /// candidates of their own on the same evidence: the words name the
    /// category, and which subcode the history's coders choose for them
    /// (localized rather than unspecified lymphadenopathy, say) is for the
    /// re-ranker to weigh (`category_share`, `sibling`).
    fn history_siblings(&self, out: &mut Vec<Candidate>, ruled_out: &FxHashSet<String>) {
        if self.category_codes.is_empty() {
            return;
        }
        let have: FxHashSet<String> = out.iter().map(|c| c.key.clone()).collect();
        let mut added: FxHashSet<String> = FxHashSet::default();
        let mut extra = Vec::new();
        for c in out.iter().filter(|c| !c.mentions.is_empty()) {
            let Some(sibs) = self.category_codes.get(category_of(&c.key)) else {
                continue;
            };
            // Only subcodes the history chose at least as often as this one.
            let own = self
                .model
                .as_ref()
                .and_then(|m| m.code_gold.get(&c.key))
                .copied()
                .unwrap_or(0);
            for (key, node, n) in sibs.iter().take(SIBLINGS_PER_CANDIDATE) {
                if *n < own
                    || have.contains(key)
                    || ruled_out.contains(key)
                    || !added.insert(key.clone())
                {
                    continue;
                }
                let mut s = c.clone();
                s.key = key.clone();
                s.node = *node;
                s.nb = None;
                s.sibling = true;
                s.default_seventh = false;
                s.rule = "learned.history_sibling".into();
                s.term_key = format!("sib|{key}");
                s.steps.push(format!(
                    "the coded history codes this category as {} most often: proposed alongside {}",
                    normalize::icd10cm_display(key),
                    normalize::icd10cm_display(&c.key)
                ));
                extra.push(s);
            }
        }
        out.extend(extra);
    }

    /// The model's keyword classifiers: scores attached to the candidates of
    /// their codes, and proposals for codes no term matched, grounded in the
    /// model's strongest words present in the note.
    fn keyword_models(
        &self,
        out: &mut Vec<Candidate>,
        note: &Annotated,
        n_tokens: f64,
        ruled_out: &FxHashSet<String>,
        unread: &[bool],
    ) {
        let Some(m) = &self.model else { return };
        if self.nb.by_concept.is_empty() {
            return;
        }
        // Log-odds of every classifier, accumulated over the note's distinct
        // concepts (dense: a few hundred classifiers).
        let mut first_token: FxHashMap<u32, u32> = FxHashMap::default();
        let mut z: Vec<f64> = self.nb.bias.clone();
        let mut count: Vec<u32> = vec![0; z.len()];
        for t in 0..note.tokens.len() {
            if unread.get(t).copied().unwrap_or(false) {
                continue;
            }
            for &cid in note.token_concepts(t) {
                if first_token.contains_key(&cid) {
                    continue;
                }
                first_token.insert(cid, t as u32);
                if let Some(list) = self.nb.by_concept.get(&cid) {
                    for &(ci, _, w) in list {
                        z[ci as usize] += w;
                        count[ci as usize] += 1;
                    }
                }
            }
        }
        for c in out.iter_mut() {
            if let Some(&ci) = self.nb.by_code.get(&c.key) {
                c.nb = Some((ci, z[ci as usize], count[ci as usize]));
            }
        }
        let have: FxHashSet<&str> = out.iter().map(|c| c.key.as_str()).collect();
        let mut proposals: Vec<(f64, u32)> = (0..z.len())
            .filter(|&ci| count[ci] >= 2 && z[ci] >= NB_PROPOSE_LOGIT)
            .filter(|&ci| !have.contains(m.classifiers[ci].code.as_str()))
            .filter(|&ci| !ruled_out.contains(&m.classifiers[ci].code))
            .map(|ci| (z[ci], ci as u32))
            .collect();
        drop(have);
        proposals.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        proposals.truncate(NB_MAX_PROPOSALS);
        for (zc, ci) in proposals {
            let Some(entry) = self.nb.entries[ci as usize] else {
                continue;
            };
            let k = &m.classifiers[ci as usize];
            let e = &self.dict.entries[entry as usize];
            // The model's strongest words present in the note are its evidence.
            let mut feats: Vec<(f64, usize, u32)> = k
                .features
                .iter()
                .enumerate()
                .filter_map(|(fi, f)| {
                    let cid = self.dict.vocab.get(&f.0)?;
                    let t = *first_token.get(&cid)?;
                    Some((k.feature_weight(fi), fi, t))
                })
                .filter(|(w, _, _)| *w > 0.0)
                .collect();
            feats.sort_by(|a, b| b.0.total_cmp(&a.0));
            feats.truncate(3);
            let words: Vec<&str> = feats.iter().map(|f| k.features[f.1].0.as_str()).collect();
            let mut toks: Vec<u32> = feats.iter().map(|f| f.2).collect();
            toks.sort_unstable();
            toks.dedup();
            if toks.is_empty() {
                continue;
            }
            let sentences: FxHashSet<usize> = toks
                .iter()
                .filter_map(|t| {
                    note.sentences
                        .iter()
                        .position(|s| s.tokens.contains(&(*t as usize)))
                })
                .collect();
            out.push(Candidate {
                key: k.code.clone(),
                node: e.node,
                mentions: Vec::new(),
                evidence_mentions: Vec::new(),
                extra_tokens: Vec::new(),
                evidence_tokens: toks.clone(),
                nb: Some((ci, zc, count[ci as usize])),
                best_entry: entry,
                sources: 1,
                contiguous: false,
                coverage: 0.0,
                term_len: 0,
                ctx: ContextSummary::default(),
                affirmed: true,
                diagnostic_section: false,
                first_pos: f64::from(toks[0]) / n_tokens,
                sentences: sentences.len(),
                learned: None,
                has_non_learned: false,
                rule: "learned.keyword_model".into(),
                guideline: None,
                steps: vec![format!(
                    "keyword model of {} learned from {} coded notes: log-odds {zc:.2} from the words {}",
                    normalize::icd10cm_display(&k.code),
                    k.pos,
                    words.join(", ")
                )],
                flags: vec![Flag::QueryProvider],
                term_key: format!("nb|{}", k.code),
                default_seventh: false,
                doc_candidates: (0, 0),
                siblings: 0,
                category_share: 0.0,
                knn: Default::default(),
                sibling: false,
                nested: false,
            });
        }
    }

    fn candidate_from(
        &self,
        key: &str,
        ms: &[u32],
        mentions: &[Mention],
        ctxs: &[Option<Context>],
        note: &Annotated,
        n_tokens: f64,
    ) -> Candidate {
        let dict = &self.dict;
        let mut best = ms[0];
        let rank = |m: &Mention| {
            let e = &dict.entries[m.entry as usize];
            (
                m.tokens.len(),
                m.contiguous(),
                crate::dict::source_rank(e.source),
            )
        };
        for &i in ms {
            if rank(&mentions[i as usize]) > rank(&mentions[best as usize]) {
                best = i;
            }
        }
        let mut sources: FxHashSet<TermSource> = FxHashSet::default();
        let mut learned: Option<(u32, u32, f32)> = None;
        let mut has_non_learned = false;
        let mut affirmed = false;
        let mut any_neg = false;
        let mut ctx = ContextSummary {
            negated: true,
            uncertain: false,
            historical: true,
            family: true,
            hypothetical: true,
        };
        let mut diagnostic = false;
        let mut sentences: FxHashSet<u32> = FxHashSet::default();
        let mut first = u32::MAX;
        for &i in ms {
            let m = &mentions[i as usize];
            let e = &dict.entries[m.entry as usize];
            sources.insert(e.source);
            if e.source == TermSource::Learned {
                if learned.is_none_or(|(_, _, w)| e.weight > w) {
                    learned = Some((e.support, e.df, e.weight));
                }
            } else {
                has_non_learned = true;
            }
            sentences.insert(m.sentence);
            first = first.min(m.tokens[0]);
            let sec = note.sentence_section[m.sentence as usize];
            diagnostic |= sec.is_diagnostic();
            if let Some(cx) = &ctxs[i as usize] {
                if cx.is_affirmed_current() {
                    affirmed = true;
                }
                any_neg |= cx.negated;
                ctx.negated &= cx.negated;
                ctx.historical &= cx.historical;
                ctx.family &= cx.family;
                ctx.hypothetical &= cx.hypothetical;
                ctx.uncertain |= cx.uncertain && !cx.negated;
            }
        }
        if affirmed {
            ctx = ContextSummary::default();
        } else if !(ctx.negated
            || ctx.family
            || ctx.hypothetical
            || ctx.historical
            || ctx.uncertain)
        {
            // No mention is affirmed, but no one reason covers them all (one
            // negated, another a family member's): the candidate is still
            // not a documented current condition. The strongest reason wins.
            let any = |f: fn(&Context) -> bool| {
                ms.iter().any(|&i| ctxs[i as usize].as_ref().is_some_and(f))
            };
            if any_neg {
                ctx.negated = true;
            } else if any(|c| c.hypothetical) {
                ctx.hypothetical = true;
            } else if any(|c| c.family) {
                ctx.family = true;
            } else if any(|c| c.historical) {
                ctx.historical = true;
            } else {
                ctx.uncertain = any(|c| c.uncertain);
            }
        }
        let bm = &mentions[best as usize];
        let be = &dict.entries[bm.entry as usize];
        // An entry our lexicon attests reads in full without its optional
        // words (they come from the spellings merged into it).
        let coverage = if be.optional.is_empty() || be.attested {
            1.0
        } else {
            bm.optional_found as f64 / be.optional.len() as f64
        };
        let mut flags = Vec::new();
        if affirmed && any_neg {
            flags.push(Flag::ConflictingEvidence);
        }
        if be.unspecified {
            flags.push(Flag::UnspecifiedCode);
        }
        if be.default_seventh.is_some() {
            flags.push(Flag::DefaultSeventhCharacter);
        }
        let rule = match be.source {
            TermSource::Title => "dict.title",
            TermSource::Inclusion => "dict.inclusion_term",
            TermSource::CategoryDefault => "dict.category_default",
            TermSource::Index => "dict.index",
            TermSource::Lexicon => "dict.lexicon",
            TermSource::Learned => "dict.learned",
            TermSource::Classifier => "learned.keyword_model",
        };
        let mut steps = vec![format!(
            "matched {} \"{}\"{}",
            be.source.as_str(),
            be.text,
            if bm.contiguous() {
                ""
            } else {
                " (words apart in one sentence)"
            }
        )];
        if be.source == TermSource::CategoryDefault {
            steps.push("category title: its unspecified code is used".into());
        }
        if let Some(c) = be.default_seventh {
            steps.push(format!(
                "7th character {c} chosen by default: the episode of care was not read from the note"
            ));
        }
        let affirmed_ms: Vec<u32> = ms
            .iter()
            .copied()
            .filter(|&i| {
                ctxs[i as usize]
                    .as_ref()
                    .is_some_and(Context::is_affirmed_current)
            })
            .collect();
        let pool = if affirmed_ms.is_empty() {
            ms.to_vec()
        } else {
            affirmed_ms
        };
        let dictionary_ms: Vec<u32> = pool
            .iter()
            .copied()
            .filter(|&i| {
                i == best
                    || dict.entries[mentions[i as usize].entry as usize].source
                        != TermSource::Learned
            })
            .collect();
        let evidence_mentions = if dictionary_ms.is_empty() {
            pool
        } else {
            dictionary_ms
        };
        Candidate {
            key: key.to_string(),
            node: be.node,
            mentions: ms.to_vec(),
            evidence_mentions,
            extra_tokens: Vec::new(),
            evidence_tokens: Vec::new(),
            nb: None,
            best_entry: bm.entry,
            sources: sources.len() as u8,
            contiguous: bm.contiguous(),
            coverage,
            term_len: be.required.len() + be.optional.len(),
            ctx,
            affirmed,
            diagnostic_section: diagnostic,
            first_pos: f64::from(first) / n_tokens,
            sentences: sentences.len(),
            learned,
            has_non_learned,
            rule: rule.into(),
            guideline: None,
            steps,
            flags,
            term_key: format!("{}|{}", be.text.to_lowercase(), key),
            default_seventh: be.default_seventh.is_some(),
            doc_candidates: (0, 0),
            siblings: 0,
            category_share: 0.0,
            nested: ms.iter().all(|&i| mentions[i as usize].nested),
            knn: Default::default(),
            sibling: false,
        }
    }

    /// A guideline-derived code carried by the same evidence.
    fn derived(
        &self,
        from: &Candidate,
        code: &str,
        rule: &str,
        guideline: &str,
        step: &str,
    ) -> Option<Candidate> {
        let key = normalize::key(code);
        let Resolution::Billable { node, .. } = self.tab.resolve(&key) else {
            return None;
        };
        let mut c = from.clone();
        c.key = key;
        c.node = node;
        c.rule = rule.into();
        c.guideline = Some(guideline.into());
        c.steps.push(step.into());
        c.affirmed = true;
        c.ctx = ContextSummary::default();
        c.flags
            .retain(|f| !matches!(f, Flag::UnspecifiedCode | Flag::DefaultSeventhCharacter));
        c.term_key = format!("{}|{}", rule, c.key);
        Some(c)
    }

    /// A mention the policy does not code: recorded as not coded; under a
    /// learned model it also stays a candidate, flagged, and the re-ranker
    /// (which saw such mentions in the history) decides.
    fn set_aside(
        &self,
        c: &Candidate,
        reason: &str,
        out: &mut Vec<Candidate>,
        not_coded: &mut Vec<NotCoded>,
        note: &Annotated,
        mentions: &[Mention],
    ) {
        if self.model.is_some() {
            let mut kept = c.clone();
            kept.flags.push(Flag::ContextNotAffirmed);
            out.push(kept);
        } else {
            not_coded.push(self.not_coded(c, note, mentions, reason));
        }
    }

    fn not_coded(
        &self,
        c: &Candidate,
        note: &Annotated,
        mentions: &[Mention],
        reason: &str,
    ) -> NotCoded {
        NotCoded {
            code: normalize::icd10cm_display(&c.key),
            reason: reason.into(),
            evidence: c
                .mentions
                .iter()
                .flat_map(|&i| fragments(note, &mentions[i as usize].tokens, None))
                .collect(),
        }
    }

    /// The "with" convention (I.A.15) and combination codes: diabetes with
    /// its complications, hypertension with heart and kidney disease.
    fn combinations(&self, cands: &mut Vec<Candidate>, not_coded: &mut Vec<NotCoded>) {
        let has = |cs: &Vec<Candidate>, p: &str| {
            cs.iter().position(|c| c.affirmed && c.key.starts_with(p))
        };
        // Diabetes: (unspecified-complication code prefix, family letter)
        for (base, fam) in [("E119", "E11"), ("E109", "E10"), ("E139", "E13")] {
            let Some(bi) = has(cands, base) else { continue };
            let rules: [(&[&str], &str, bool); 8] = [
                (&["N18"], "22", true),
                (&["H350", "H3600"], "319", false),
                (&["G629", "G609", "G639"], "40", false),
                (&["R739"], "65", false),
                (&["E162", "E1649"], "649", false),
                (&["K3184"], "43", false),
                (&["I739"], "51", false),
                (&["L97"], "621", true),
            ];
            for (comp, suffix, keep) in rules {
                let Some(ci) = comp.iter().find_map(|p| has(cands, p)) else {
                    continue;
                };
                let combo = format!("{fam}{suffix}");
                let step = format!(
                    "{} and {} documented together: the \"with\" convention links them (combination code)",
                    normalize::icd10cm_display(&cands[bi].key),
                    normalize::icd10cm_display(&cands[ci].key)
                );
                let Some(mut cc) = self.derived(
                    &cands[bi],
                    &combo,
                    "guideline.with_convention",
                    "ICD-10-CM OCG I.A.15 and I.C.4.a (diabetes combination codes)",
                    &step,
                ) else {
                    continue;
                };
                cc.extra_tokens = cands[ci].mentions.clone();
                cc.sources = cands[bi].sources.max(cands[ci].sources);
                // Under a learned model the components stay as candidates
                // and the re-ranker, trained on the history, decides.
                if self.model.is_none() {
                    let mut drop = vec![(bi, "combined into")];
                    if !keep {
                        drop.push((ci, "integral to combination code"));
                    }
                    drop.sort_unstable();
                    for (d, why) in drop.into_iter().rev() {
                        let gone = cands.remove(d);
                        not_coded.push(NotCoded {
                            code: normalize::icd10cm_display(&gone.key),
                            reason: format!("{why} {}", normalize::icd10cm_display(&cc.key)),
                            evidence: vec![],
                        });
                    }
                }
                cands.push(cc);
                break;
            }
        }
        // Hypertension with heart failure and/or CKD.
        if let Some(hi) = has(cands, "I10") {
            let ckd = has(cands, "N18");
            let hf = has(cands, "I50");
            let late = ckd.is_some_and(|i| {
                cands[i].key.starts_with("N185") || cands[i].key.starts_with("N186")
            });
            let combo = match (hf.is_some(), ckd.is_some()) {
                (true, true) => Some(if late { "I13.2" } else { "I13.0" }),
                (true, false) => Some("I11.0"),
                (false, true) => Some(if late { "I12.0" } else { "I12.9" }),
                _ => None,
            };
            if let Some(combo) = combo {
                let step = "hypertension with heart failure/chronic kidney disease: the guidelines presume the causal link (combination code); the heart failure and CKD stage are coded in addition".to_string();
                if let Some(mut cc) = self.derived(
                    &cands[hi],
                    combo,
                    "guideline.hypertension_combination",
                    "ICD-10-CM OCG I.C.9.a (hypertension with heart and kidney disease)",
                    &step,
                ) {
                    cc.extra_tokens = [ckd, hf]
                        .into_iter()
                        .flatten()
                        .flat_map(|i| cands[i].mentions.clone())
                        .collect();
                    if self.model.is_none() {
                        cands.remove(hi);
                        not_coded.push(NotCoded {
                            code: "I10".into(),
                            reason: format!("combined into {combo}"),
                            evidence: vec![],
                        });
                    }
                    cands.push(cc);
                }
            }
        }
    }

    /// A neoplasm of unspecified site ("carcinoma" → C80.1, "tumor" →
    /// D49.9, "metastases" → C79.9) is not coded beside a code that names
    /// the site of a neoplasm of the same kind: the site is documented, the
    /// unspecified code says nothing more. C80.1 stays beside secondaries
    /// alone (primary unknown). Likewise an abscess of unspecified site
    /// (L02.91) beside an abscess coded at its site.
    fn unspecified_sites(&self, cands: &mut Vec<Candidate>, not_coded: &mut Vec<NotCoded>) {
        if self.model.is_some() {
            return;
        }
        // (unspecified-site code, what specifies the site)
        let sited = |unspecified: &str, k: &str| -> bool {
            let cat = k.get(..3).unwrap_or("");
            match unspecified {
                "C801" => cat.starts_with('C') && !("C77".."C81").contains(&cat),
                "D499" => k != "D499" && (cat.starts_with('C') || ("D00".."D50").contains(&cat)),
                "D369" => k != "D369" && ("D10".."D37").contains(&cat),
                "D489" => k != "D489" && ("D37".."D49").contains(&cat),
                "D099" => k != "D099" && ("D00".."D10").contains(&cat),
                "C799" => k != "C799" && ("C77".."C80").contains(&cat),
                _ => false,
            }
        };
        // "Abscess NOS" reads as L02.91 (cutaneous abscess, unspecified):
        // an abscess whose site the note names is coded there instead.
        let abscess_at_site = |o: &Candidate| {
            o.key != "L0291"
                && self
                    .tab
                    .node(o.node)
                    .desc
                    .to_lowercase()
                    .contains("abscess")
        };
        let drop: Vec<(usize, &str)> = (0..cands.len())
            .filter(|&i| {
                let u = cands[i].key.as_str();
                let other = |f: &dyn Fn(&Candidate) -> bool| {
                    cands.iter().any(|o| o.affirmed && o.key != u && f(o))
                };
                (matches!(u, "C801" | "D499" | "D369" | "D489" | "D099" | "C799")
                    && other(&|o| sited(u, &o.key)))
                    || (u == "L0291" && other(&abscess_at_site))
            })
            .map(|i| {
                (
                    i,
                    "a neoplasm or abscess of unspecified site beside a code that names its site",
                )
            })
            .collect();
        remove_not_coded(cands, drop, not_coded);
    }

    /// Essential hypertension (I10) is not coded beside a code of the
    /// hypertensive-disease block that already holds the hypertension
    /// (I11-I13 with heart or kidney disease, I15 secondary, I16 crisis):
    /// one hypertension, one code (OCG I.C.9.a).
    fn hypertension_once(&self, cands: &mut Vec<Candidate>, not_coded: &mut Vec<NotCoded>) {
        if self.model.is_some() {
            return;
        }
        // The combination must read as one: an exact term, a guideline
        // combination, or hypertension with chronic kidney disease (whose
        // link the guidelines presume across the sentence, I.C.9.a.2). A
        // gapped "hypertension … cardiac" is not hypertensive heart disease
        // enough to take the hypertension's own code away.
        let Some(by) = cands.iter().find(|c| {
            c.affirmed
                && ["I11", "I12", "I13", "I15", "I16"]
                    .iter()
                    .any(|p| c.key.starts_with(p))
                && (c.contiguous
                    || c.rule.starts_with("guideline.")
                    || c.key.starts_with("I12")
                    || c.key.starts_with("I13"))
        }) else {
            return;
        };
        let why = format!(
            "the hypertension is coded in {} (OCG I.C.9.a): essential hypertension is not coded beside it",
            normalize::icd10cm_display(&by.key)
        );
        let drop: Vec<(usize, &str)> = (0..cands.len())
            .filter(|&i| cands[i].key == "I10")
            .map(|i| (i, why.as_str()))
            .collect();
        remove_not_coded(cands, drop, not_coded);
    }

    /// The etiology/manifestation convention (OCG I.A.13): a condition named
    /// with its underlying disease in one sentence ("dementia in Alzheimer's
    /// disease", "Parkinson's disease dementia") is the manifestation code
    /// ("Dementia in other diseases classified elsewhere") beside the
    /// etiology, which its "code first" note lists; the condition's own
    /// unspecified code is not coded beside them.
    fn manifestation_pairs(
        &self,
        cands: &mut Vec<Candidate>,
        not_coded: &mut Vec<NotCoded>,
        mentions: &[Mention],
    ) {
        if self.manifestations.is_empty() {
            return;
        }
        let sentences = |c: &Candidate| -> FxHashSet<u32> {
            c.mentions
                .iter()
                .filter_map(|&m| mentions.get(m as usize).map(|x| x.sentence))
                .collect()
        };
        let tokens = |c: &Candidate| -> FxHashSet<u32> {
            c.mentions
                .iter()
                .filter_map(|&m| mentions.get(m as usize))
                .flat_map(|x| x.tokens.iter().copied())
                .collect()
        };
        let mut replaced: Vec<usize> = Vec::new();
        let mut added: Vec<Candidate> = Vec::new();
        // The codes whose terms say most first: a code whose words another
        // already paired code covers ("dementia with agitation" inside
        // "severe dementia with agitation") is replaced, not paired again.
        let mut by_words: Vec<usize> = (0..cands.len()).collect();
        by_words.sort_by_key(|&i| {
            std::cmp::Reverse(
                self.dict.entries[cands[i].best_entry as usize]
                    .required
                    .len(),
            )
        });
        for mf in &self.manifestations {
            let mut covered: Vec<FxHashSet<u32>> = Vec::new();
            for &ui in &by_words {
                let u = &cands[ui];
                if !u.affirmed || u.mentions.is_empty() || replaced.contains(&ui) {
                    continue;
                }
                let Some(target) = mf.stands_for(&self.tab, &u.key) else {
                    continue;
                };
                let here = sentences(u);
                let Some(e) = cands.iter().find(|e| {
                    e.affirmed
                        && !e.mentions.is_empty()
                        && e.key != u.key
                        && mf.etiologies.iter().any(|r| r.contains(&e.key))
                        && sentences(e).iter().any(|s| here.contains(s))
                }) else {
                    continue;
                };
                replaced.push(ui);
                let words = tokens(u);
                if covered.iter().any(|c| words.is_subset(c))
                    || cands.iter().chain(&added).any(|c| c.key == target)
                {
                    continue;
                }
                covered.push(words);
                let step = format!(
                    "{} documented with its underlying condition {} in one sentence: the manifestation code, sequenced after the etiology (\"code first\" note)",
                    normalize::icd10cm_display(&u.key),
                    normalize::icd10cm_display(&e.key)
                );
                let Some(mut m) = self.derived(
                    u,
                    &target,
                    "guideline.manifestation",
                    "ICD-10-CM OCG I.A.13 (etiology/manifestation convention: the underlying condition first, then the manifestation code)",
                    &step,
                ) else {
                    continue;
                };
                m.extra_tokens = e.mentions.clone();
                m.sources = u.sources.max(e.sources);
                added.push(m);
            }
        }
        // Under a learned model the unspecified code stays a candidate and
        // the re-ranker decides; the official policy codes the pair alone.
        if self.model.is_none() {
            const WHY: &str = "documented with its underlying condition: coded as the manifestation code beside the etiology (ICD-10-CM OCG I.A.13)";
            let drop = replaced.into_iter().map(|i| (i, WHY)).collect();
            remove_not_coded(cands, drop, not_coded);
        }
        cands.extend(added);
    }

    /// A "without …" code ("without complications", "without heart
    /// failure", "without hematuria") or one "with unspecified complications"
    /// is not coded beside a code of its category that documents the "with"
    /// ("type 2 diabetes with diabetic nephropathy" is E11.21 alone, not
    /// E11.21 and E11.9; hypertensive heart disease with heart failure is
    /// I11.0, not I11.0 and I11.9): a word the other's term requires and its
    /// own does not names what is present.
    fn without_complications(&self, cands: &mut Vec<Candidate>, not_coded: &mut Vec<NotCoded>) {
        if self.model.is_some() {
            return;
        }
        let required =
            |c: &Candidate| -> &[u32] { &self.dict.entries[c.best_entry as usize].required };
        let drop: Vec<usize> = (0..cands.len())
            .filter(|&i| {
                let c = &cands[i];
                let d = &self.tab.node(c.node).desc;
                let without =
                    d.contains(" without ") || d.ends_with("with unspecified complications");
                without
                    && (0..cands.len()).any(|j| {
                        let o = &cands[j];
                        let od = &self.tab.node(o.node).desc;
                        j != i
                            && o.affirmed
                            && category_of(&o.key) == category_of(&c.key)
                            && od.contains(" with ")
                            && !od.contains(" without ")
                            && !required(o).iter().all(|r| required(c).contains(r))
                    })
            })
            .collect();
        const WHY: &str = "a code of the same category documents what this one says is absent (or unspecified): the \"without\" code is not coded beside it";
        remove_not_coded(
            cands,
            drop.into_iter().map(|i| (i, WHY)).collect(),
            not_coded,
        );
    }

    /// A condition the note says a drug caused ("hypothyroidism secondary to
    /// amiodarone", "amiodarone-induced hypothyroidism", "rash due to
    /// amoxicillin"): the drug's adverse-effect code from the Table of Drugs
    /// and Chemicals, after the condition (OCG I.C.19.e.5.a). The substance
    /// must follow the link words directly (or precede "-induced"), in the
    /// sentence of an affirmed condition, and not be negated; a poisoning by
    /// the same substance leaves it out.
    fn drug_causes(&self, cands: &mut Vec<Candidate>, note: &Annotated, mentions: &[Mention]) {
        if self.adverse_effects.is_empty() {
            return;
        }
        const LINKS: &[&[&str]] = &[
            &["due", "to"],
            &["secondary", "to"],
            &["caused", "by"],
            &["induced", "by"],
            &["attributed", "to"],
        ];
        let lower = |t: usize| note.tokens.get(t).map(|x| x.lower.as_str()).unwrap_or("");
        // The longest substance name in `range` (token indices), if any.
        let substance = |from: usize, to: usize| -> Option<(String, Vec<u32>)> {
            (1..=SUBSTANCE_WORDS).rev().find_map(|n| {
                if from + n > to {
                    return None;
                }
                let words: Vec<&str> = (from..from + n).map(lower).collect();
                if words
                    .iter()
                    .any(|w| w.is_empty() || !w.chars().all(char::is_alphanumeric))
                {
                    return None;
                }
                let code = self
                    .adverse_effects
                    .get(&substance_key(words.into_iter()))?;
                Some((code.clone(), (from..from + n).map(|t| t as u32).collect()))
            })
        };
        let mut found: Vec<(usize, String, Vec<u32>)> = Vec::new();
        for (si, s) in note.sentences.iter().enumerate() {
            let (a, b) = (s.tokens.start, s.tokens.end);
            for t in a..b {
                // "<link> [the] <substance>"
                for link in LINKS {
                    if t + link.len() > b || (0..link.len()).any(|i| lower(t + i) != link[i]) {
                        continue;
                    }
                    let mut from = t + link.len();
                    if matches!(lower(from), "the" | "a" | "an") {
                        from += 1;
                    }
                    if let Some((code, mut toks)) = substance(from, b).filter(|(_, toks)| {
                        // "due to blood incompatibility" names no drug
                        // taken: the substance ends the phrase, or a word
                        // of its use follows.
                        let next = toks.last().map_or(0, |&t| t as usize + 1);
                        next >= b
                            || !note.tokens[next].lower.chars().any(char::is_alphabetic)
                            || matches!(
                                lower(next),
                                "treatment"
                                    | "therapy"
                                    | "use"
                                    | "intake"
                                    | "administration"
                                    | "exposure"
                                    | "and"
                                    | "or"
                            )
                    }) {
                        toks.extend((t..t + link.len()).map(|i| i as u32));
                        found.push((si, code, toks));
                    }
                }
                // "<substance>-induced"
                if lower(t) == "induced" && t >= a + 2 && lower(t - 1) == "-" {
                    let end = t - 1;
                    let hit = (1..=SUBSTANCE_WORDS.min(end - a))
                        .rev()
                        .find_map(|n| substance(end - n, end).filter(|(_, toks)| toks.len() == n));
                    if let Some((code, mut toks)) = hit {
                        toks.extend([t as u32 - 1, t as u32]);
                        found.push((si, code, toks));
                    }
                }
            }
        }
        for (si, code, mut toks) in found {
            toks.sort_unstable();
            toks.dedup();
            let same = drug_substance(&code);
            if cands.iter().any(|c| {
                c.key == code
                    || (drug_code_role(&c.key) == Some(DrugRole::Poisoning)
                        && drug_substance(&c.key) == same)
            }) {
                continue;
            }
            // The condition it caused: an affirmed diagnosis of the sentence.
            let Some(cond) = cands.iter().position(|c| {
                c.affirmed
                    && !c.mentions.is_empty()
                    && !c.key.starts_with('Z')
                    && drug_code_role(&c.key).is_none()
                    && c.mentions.iter().any(|&m| {
                        mentions
                            .get(m as usize)
                            .is_some_and(|x| x.sentence == si as u32)
                    })
            }) else {
                continue;
            };
            let (lo, hi) = (toks[0] as usize, toks[toks.len() - 1] as usize + 1);
            let cx = self.context.analyze(
                note.text,
                &note.tokens,
                &note.sentences[si],
                lo..hi,
                note.sentence_section[si],
            );
            if cx.negated || cx.hypothetical || cx.family {
                continue;
            }
            let words: Vec<&str> = toks.iter().map(|&t| lower(t as usize)).collect();
            let step = format!(
                "{} documented as caused by the drug (\"{}\"): the Table of Drugs and Chemicals' adverse-effect code, after the condition",
                normalize::icd10cm_display(&cands[cond].key),
                words.join(" ")
            );
            if let Some(mut ae) = self.derived(
                &cands[cond],
                &code,
                "guideline.adverse_effect",
                "ICD-10-CM OCG I.C.19.e.5.a (adverse effect: the nature of the effect first, then the drug's code with 5th or 6th character 5)",
                &step,
            ) {
                ae.mentions.clear();
                ae.extra_tokens.clear();
                ae.evidence_tokens = toks;
                ae.flags.clear();
                ae.contiguous = true;
                cands.push(ae);
            }
        }
    }

    /// "Use additional code" notes: long-term drug use with diabetes.
    fn additional_codes(&self, cands: &mut Vec<Candidate>, note: &Annotated) {
        let Some(di) = cands.iter().position(|c| {
            c.affirmed
                && ["E08", "E09", "E10", "E11", "E13"]
                    .iter()
                    .any(|p| c.key.starts_with(p))
        }) else {
            return;
        };
        let mut added: FxHashSet<&str> = FxHashSet::default();
        for (ti, tok) in note.tokens.iter().enumerate() {
            let Some((_, z)) = lexicon::LONG_TERM_DRUGS
                .iter()
                .find(|(w, _)| *w == tok.lower)
            else {
                continue;
            };
            // Type 1 diabetes is insulin-treated by definition: Z79.4 is not added (I.C.4.a.3).
            if cands[di].key.starts_with("E10") && *z == "Z79.4" {
                continue;
            }
            if added.contains(z) || cands.iter().any(|c| c.key == normalize::key(z)) {
                continue;
            }
            let si = note.sentences.iter().position(|s| s.tokens.contains(&ti));
            let Some(si) = si else { continue };
            let cx = self.context.analyze(
                note.text,
                &note.tokens,
                &note.sentences[si],
                ti..ti + 1,
                note.sentence_section[si],
            );
            if cx.negated || cx.hypothetical || cx.family {
                continue;
            }
            let step = format!(
                "diabetes code {} carries \"use additional code\" for drug therapy; {} documented",
                normalize::icd10cm_display(&cands[di].key),
                tok.lower
            );
            if let Some(mut zc) = self.derived(
                &cands[di],
                z,
                "guideline.use_additional_code",
                "ICD-10-CM OCG I.C.4.a.3 and the tabular's \"use additional code\" note at E08-E13",
                &step,
            ) {
                zc.mentions.clear();
                zc.extra_tokens.clear();
                zc.evidence_tokens = vec![ti as u32];
                zc.flags.clear();
                zc.contiguous = true;
                added.insert(z);
                cands.push(zc);
            }
        }
    }

    /// "Use additional code to identify the stage of chronic kidney disease"
    /// (at E08.22-E13.22, I12 and I13): a combination code read from words
    /// that name the chronic kidney disease ("hypertensive chronic kidney
    /// disease", "diabetic CKD") with no stage code in the note gets N18.9
    /// on the same evidence; a documented stage is its own candidate and
    /// satisfies the note.
    fn ckd_stage(&self, cands: &mut Vec<Candidate>, note: &Annotated, mentions: &[Mention]) {
        if cands.iter().any(|c| c.key.starts_with("N18")) {
            return;
        }
        let needs = |k: &str| {
            k.starts_with("I12")
                || k.starts_with("I13")
                || (k.len() == 5
                    && k.ends_with("22")
                    && ["E08", "E09", "E10", "E11", "E13"]
                        .iter()
                        .any(|p| k.starts_with(p)))
        };
        let Some(from) = cands
            .iter()
            .filter(|c| c.affirmed && needs(&c.key))
            .max_by(|a, b| a.coverage.total_cmp(&b.coverage))
        else {
            return;
        };
        let step = format!(
            "{} carries \"use additional code to identify the stage of chronic kidney disease\"; no stage documented",
            normalize::icd10cm_display(&from.key)
        );
        if let Some(mut n) = self.derived(
            from,
            "N18.9",
            "guideline.use_additional_code",
            "ICD-10-CM OCG I.C.9.a.2 and I.C.4.a (the tabular's \"use additional code\" note for the CKD stage)",
            &step,
        ) {
            // The evidence is the words that name the kidney disease, not
            // the hypertension or diabetes beside them.
            const KIDNEY_WORDS: &[&str] = &[
                "chronic", "kidney", "kidneys", "renal", "ckd", "disease", "failure",
                "insufficiency",
            ];
            let toks: Vec<u32> = n
                .mentions
                .iter()
                .filter_map(|&m| mentions.get(m as usize))
                .flat_map(|m| m.tokens.iter().copied())
                .filter(|&t| {
                    note.tokens
                        .get(t as usize)
                        .is_some_and(|x| KIDNEY_WORDS.contains(&x.lower.as_str()))
                })
                .collect();
            if toks.is_empty() {
                return;
            }
            n.mentions.clear();
            n.extra_tokens.clear();
            n.evidence_tokens = toks;
            n.flags.clear();
            n.flags.push(Flag::UnspecifiedCode);
            cands.push(n);
        }
    }

    /// Excludes1 codes written on a code, its ancestors, block and chapter.
    fn excludes1(&self, node: u32) -> Vec<CodeRange> {
        let tab = &self.tab;
        let mut notes = Vec::new();
        let n = tab.node(node);
        notes.extend(n.notes.iter());
        for a in tab.ancestors(node) {
            notes.extend(tab.node(a).notes.iter());
        }
        if let Some(sec) = tab.sections.get(n.section as usize) {
            notes.extend(sec.notes.iter());
            if let Some(ch) = tab.chapters.get(sec.chapter as usize) {
                notes.extend(ch.notes.iter());
            }
        }
        notes
            .into_iter()
            .filter(|x| x.kind == NoteKind::Excludes1)
            .flat_map(|x| {
                x.texts
                    .iter()
                    .flat_map(|t| parse_code_refs(t))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn resolve_excludes1(
        &self,
        chosen: &mut Vec<(Candidate, f64)>,
        rest: &mut Vec<(Candidate, f64)>,
        note: &Annotated,
        mentions: &[Mention],
        not_coded: &mut Vec<NotCoded>,
    ) {
        // chosen is sorted best first: a later code excluded by (or
        // excluding) an earlier one is dropped.
        let mut ex: Vec<Vec<CodeRange>> = chosen.iter().map(|c| self.excludes1(c.0.node)).collect();
        let mut i = 0;
        while i < chosen.len() {
            let mut j = i + 1;
            while j < chosen.len() {
                let (ex_i, ex_j) = (&ex[i], &ex[j]);
                let (ki, kj) = (&chosen[i].0.key, &chosen[j].0.key);
                let clash = ki != kj
                    && !ki.starts_with(kj.as_str())
                    && !kj.starts_with(ki.as_str())
                    && (ex_i.iter().any(|r| r.contains(kj)) || ex_j.iter().any(|r| r.contains(ki)));
                if clash {
                    ex.remove(j);
                    let (c, p) = chosen.remove(j);
                    not_coded.push(NotCoded {
                        code: normalize::icd10cm_display(&c.key),
                        reason: format!(
                            "Excludes1 with {}: the two are never coded together; the better-supported code is kept",
                            normalize::icd10cm_display(&chosen[i].0.key)
                        ),
                        evidence: c
                            .mentions
                            .iter()
                            .flat_map(|&m| fragments(note, &mentions[m as usize].tokens, None))
                            .collect(),
                    });
                    if !chosen[i].0.flags.contains(&Flag::Excludes1Resolved) {
                        chosen[i].0.flags.push(Flag::Excludes1Resolved);
                    }
                    chosen[i].0.steps.push(format!(
                        "Excludes1 conflict with {} resolved in favour of this code",
                        normalize::icd10cm_display(&c.key)
                    ));
                    rest.push((c, p.min(0.49)));
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }

    /// First-listed ordering: diagnoses from diagnostic sections and
    /// definitive diagnoses before symptoms and Z codes, then confidence;
    /// an etiology with "code first" goes before its manifestation.
    fn order(&self, chosen: &mut [(Candidate, f64)]) {
        chosen.sort_by(|a, b| {
            let rank = |c: &Candidate, p: f64| {
                let mut r = p;
                if c.diagnostic_section {
                    r += 0.3;
                }
                if c.key.starts_with('R') || c.key.starts_with('Z') {
                    r -= 0.3;
                }
                match drug_code_role(&c.key) {
                    // A poisoning is sequenced first, then its manifestations
                    // (OCG I.C.19.e.5.b).
                    Some(DrugRole::Poisoning) => r += 0.6,
                    // An adverse effect or an underdosing follows the
                    // condition it caused (OCG I.C.19.e.5.a, I.C.19.e.5.c).
                    Some(DrugRole::AdverseEffect | DrugRole::Underdosing) => r -= 0.6,
                    None => {}
                }
                r
            };
            rank(&b.0, b.1).total_cmp(&rank(&a.0, a.1))
        });
        // "Use additional code": the code carrying the note goes in front
        // of the additional code it names. Then "code first": an etiology
        // named in a code's note goes in front of it (last, so that it wins).
        let n = chosen.len();
        for i in 0..n {
            let refs = note_refs(&self.tab, chosen[i].0.node, NoteKind::UseAdditionalCode);
            if let Some(j) = (0..i).find(|&j| refs.iter().any(|r| r.contains(&chosen[j].0.key))) {
                chosen[j..=i].rotate_right(1);
            }
        }
        for i in 0..n {
            let refs = note_refs(&self.tab, chosen[i].0.node, NoteKind::CodeFirst);
            if let Some(j) = (i + 1..n).find(|&j| refs.iter().any(|r| r.contains(&chosen[j].0.key)))
            {
                chosen[i..=j].rotate_right(1);
            }
        }
    }

    /// The ICD-11 companion of a code from the WHO maps (cached).
    fn icd11_for(&self, key: &str) -> Option<Icd11Out> {
        if let Some(hit) = self
            .icd11_cache
            .read()
            .ok()
            .and_then(|c| c.get(key).cloned())
        {
            return hit;
        }
        let out = self
            .engine
            .and_then(|en| en.map_icd10cm_to_icd11(key).ok().flatten())
            .map(|r| Icd11Out {
                primary: r.primary.map(|t| Icd11Choice {
                    code: t.code,
                    title: t.title,
                }),
                choices: r
                    .choices
                    .into_iter()
                    .map(|t| Icd11Choice {
                        code: t.code,
                        title: t.title,
                    })
                    .collect(),
                via: r.via,
                note: r.note,
            });
        if let Ok(mut c) = self.icd11_cache.write() {
            if c.len() > 100_000 {
                c.clear();
            }
            c.insert(key.to_string(), out.clone());
        }
        out
    }

    fn suggestion(
        &self,
        c: &Candidate,
        p: f64,
        threshold: f64,
        note: &Annotated,
        mentions: &[Mention],
        chars: &CharIndex,
    ) -> Suggestion {
        self.suggestion_with(c, p, threshold, note, mentions, chars, true)
    }

    /// A suggestion; ICD-11 companions only when `icd11` (candidates under
    /// the threshold go without them).
    #[allow(clippy::too_many_arguments)]
    fn suggestion_with(
        &self,
        c: &Candidate,
        p: f64,
        threshold: f64,
        note: &Annotated,
        mentions: &[Mention],
        chars: &CharIndex,
        icd11: bool,
    ) -> Suggestion {
        let mut evidence: Vec<Evidence> = Vec::new();
        for &m in &c.mentions {
            if !c.evidence_mentions.is_empty() && !c.evidence_mentions.contains(&m) {
                continue;
            }
            evidence.extend(fragments(note, &mentions[m as usize].tokens, Some(chars)));
        }
        for &m in &c.extra_tokens {
            if let Some(mm) = mentions.get(m as usize) {
                evidence.extend(fragments(note, &mm.tokens, Some(chars)));
            }
        }
        // Runs of adjacent evidence tokens are one span ("chronic kidney
        // disease", a two-word substance), not a span per word.
        let mut toks = c.evidence_tokens.clone();
        toks.sort_unstable();
        toks.dedup();
        evidence.extend(fragments(note, &toks, Some(chars)));
        evidence.sort_by_key(|e| (e.start, e.end));
        evidence.dedup();
        // The key is billable at `c.node` by construction; a 7th character,
        // when the node's rule requires one, is the key's last.
        let seventh = self
            .tab
            .seven_for(c.node)
            .and_then(|_| c.key.chars().nth(6));
        let desc = self.tab.describe(c.node, seventh);
        let e = &self.dict.entries[c.best_entry as usize];
        let mut flags = c.flags.clone();
        if p < threshold.max(0.5) && !flags.contains(&Flag::LowConfidence) {
            flags.push(Flag::LowConfidence);
        }
        let icd11 = if self.options.icd11 && icd11 {
            self.icd11_for(&c.key)
        } else {
            None
        };
        let mut steps = c.steps.clone();
        steps.push(match &self.model {
            Some(m) => format!(
                "confidence {p:.2} from the learned re-ranker {} (threshold {:.2})",
                m.version, m.threshold
            ),
            None => format!("confidence {p:.2} from the dictionary estimate (no learned model)"),
        });
        Suggestion {
            code: normalize::icd10cm_display(&c.key),
            system: "icd10cm",
            descriptor: desc,
            confidence: (p * 1000.0).round() / 1000.0,
            evidence,
            logic: Logic {
                rule: c.rule.clone(),
                source: e.source.as_str().into(),
                matched_term: e.text.clone(),
                index_path: e.index_path.clone(),
                guideline: c.guideline.clone(),
                steps,
            },
            context: c.ctx.clone(),
            flags,
            icd11,
            code_pairs: Vec::new(),
        }
    }

    /// The tabular's pairing notes of a suggested code, each checked against
    /// the other suggestions; a manifestation whose etiology is missing is
    /// flagged and says so in its steps.
    fn attach_code_pairs(&self, s: &mut Suggestion, c: &Candidate, chosen: &[&str]) {
        let tab = &self.tab;
        let node = tab.node(c.node);
        let manifestation = std::iter::once(c.node)
            .chain(tab.ancestors(c.node))
            .any(|n| is_manifestation_title(&tab.node(n).desc.to_lowercase()));
        let section = tab.sections.get(node.section as usize);
        let chapter = section.and_then(|sec| tab.chapters.get(sec.chapter as usize));
        let mut places: Vec<(String, &[Note])> =
            vec![(normalize::icd10cm_display(&node.key), &node.notes)];
        for a in tab.ancestors(c.node) {
            let n = tab.node(a);
            places.push((normalize::icd10cm_display(&n.key), &n.notes));
        }
        if let Some(sec) = section {
            places.push((sec.id.clone(), &sec.notes));
        }
        if let Some(ch) = chapter {
            places.push((format!("chapter {}", ch.number), &ch.notes));
        }
        for (at, notes) in places {
            for x in notes {
                let kind = match x.kind {
                    NoteKind::CodeFirst => "code_first",
                    NoteKind::UseAdditionalCode => "use_additional_code",
                    NoteKind::CodeAlso => "code_also",
                    _ => continue,
                };
                // One note element: its lines together ("… using:",
                // "insulin (Z79.4)", "oral antidiabetic drugs (Z79.84)").
                let refs: Vec<CodeRange> =
                    x.texts.iter().flat_map(|t| parse_code_refs(t)).collect();
                if refs.is_empty() {
                    continue;
                }
                let text = x.texts.join("; ");
                {
                    let satisfied_by: Vec<String> = chosen
                        .iter()
                        .filter(|k| **k != c.key && refs.iter().any(|r| r.contains(k)))
                        .map(|k| normalize::icd10cm_display(k))
                        .collect();
                    let required = manifestation && x.kind == NoteKind::CodeFirst;
                    if required && satisfied_by.is_empty() {
                        if !s.flags.contains(&Flag::PairedCodeMissing) {
                            s.flags.push(Flag::PairedCodeMissing);
                        }
                        s.logic.steps.push(format!(
                            "manifestation code: the tabular's \"code first\" note at {at} asks for its etiology ({text}); none is among the suggestions: query the provider (OCG I.A.13)"
                        ));
                    }
                    s.code_pairs.push(CodePair {
                        kind,
                        at: at.clone(),
                        note: text,
                        satisfied_by,
                        required,
                    });
                }
            }
        }
    }
}

fn map_prefix(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(p, _)| key.starts_with(p))
        .map(|(_, z)| *z)
}

/// Evidence fragments of a token set: runs of consecutive tokens become one
/// fragment. Offsets are characters when `chars` is given, bytes otherwise.
pub fn fragments(note: &Annotated, tokens: &[u32], chars: Option<&CharIndex>) -> Vec<Evidence> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while j + 1 < tokens.len() && tokens[j + 1] == tokens[j] + 1 {
            j += 1;
        }
        let a = &note.tokens[tokens[i] as usize];
        let b = &note.tokens[tokens[j] as usize];
        let (bs, be) = (a.start, b.end);
        let section = medledger_text::section::section_at(&note.sections, bs);
        let (s, e) = match chars {
            Some(c) => (c.char_offset(bs), c.char_offset(be)),
            None => (bs, be),
        };
        out.push(Evidence {
            start: s,
            end: e,
            text: note.text[bs..be].to_string(),
            section,
        });
        i = j + 1;
    }
    out
}

/// The token of a negation word standing right before (or one word before)
/// a later part of a gapped mention, inside the gap.
fn gap_negation(note: &Annotated, tokens: &[u32]) -> Option<usize> {
    for w in tokens.windows(2) {
        let (prev, next) = (w[0] as usize, w[1] as usize);
        if next <= prev + 1 {
            continue;
        }
        let is_neg = |t: usize| {
            let w = note.tokens[t].lower.as_str();
            t > prev && (matcher::ABSENCE_WORDS.contains(&w) || matches!(w, "not" | "nor"))
        };
        if is_neg(next - 1) {
            return Some(next - 1);
        }
        // "no audible murmurs", "without any murmur".
        if next >= 2
            && is_neg(next - 2)
            && note.tokens[next - 1].kind != medledger_text::TokenKind::Punct
        {
            return Some(next - 2);
        }
    }
    None
}

/// Among chosen codes resting on exactly the same evidence tokens, only the
/// best-scored one is suggested; the others stay as candidates.
fn one_code_per_evidence(
    chosen: &mut Vec<(Candidate, f64)>,
    rest: &mut Vec<(Candidate, f64)>,
    mentions: &[Mention],
) {
    let evidence = |c: &Candidate| -> Vec<u32> {
        let mut toks: Vec<u32> = c
            .mentions
            .iter()
            .flat_map(|&m| mentions[m as usize].tokens.iter().copied())
            .collect();
        toks.sort_unstable();
        toks.dedup();
        toks
    };
    // Per evidence set, the winner: the higher confidence, then a code the
    // dictionary itself supports before a learned-only one.
    let mut best: FxHashMap<Vec<u32>, (bool, f64, usize)> = FxHashMap::default();
    for (i, (c, p)) in chosen.iter().enumerate() {
        if c.mentions.is_empty() || !c.rule.starts_with("dict.") {
            continue;
        }
        let k = (c.has_non_learned, *p, usize::MAX - i);
        let e = best.entry(evidence(c)).or_insert(k);
        if (k.1, k.0) > (e.1, e.0) {
            *e = k;
        }
    }
    let mut keep = Vec::with_capacity(chosen.len());
    for (i, (c, p)) in std::mem::take(chosen).into_iter().enumerate() {
        let loses = !c.mentions.is_empty()
            && c.rule.starts_with("dict.")
            && best
                .get(&evidence(&c))
                .is_some_and(|w| w.2 != usize::MAX - i);
        if loses {
            rest.push((c, p));
        } else {
            keep.push((c, p));
        }
    }
    *chosen = keep;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_refs_in_notes_are_parsed() {
        let r = parse_code_refs(
            "gestational diabetes (O24.4-) type 1 diabetes mellitus (E10.-) postprocedural (E08-E13)",
        );
        assert_eq!(r.len(), 3);
        assert!(r[0].contains("O2441"));
        assert!(r[1].contains("E109"));
        assert!(!r[1].contains("E119"));
        assert!(r[2].contains("E1122"));
        assert!(r[2].contains("E0800"));
        assert!(!r[2].contains("E1500"));
    }
}
