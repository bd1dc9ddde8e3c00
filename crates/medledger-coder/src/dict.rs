//! The coding dictionary: every billable ICD-10-CM code's tabular title and
//! inclusion terms, the installed index and table terms, our curated lexicon
//! and (when a model is loaded) learned terms, each reduced to a set of
//! concepts (normalised, stemmed words) and indexed by its rarest required
//! concept. Matching a sentence looks up only the concepts the sentence
//! contains, so the cost stays linear in the note's length.

use std::sync::Arc;

use medledger_codesets::icd10cm::tabular::Tabular;
use medledger_text::{abbrev, morph};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// Where a dictionary term comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermSource {
    /// The code's title in the tabular list.
    Title,
    /// An inclusion term (or Includes note) written on the code.
    Inclusion,
    /// A category or subcategory title, read as its unspecified code.
    CategoryDefault,
    /// A term of the installed Alphabetic Index or one of its tables.
    Index,
    /// Our curated lexicon of everyday names and index defaults.
    Lexicon,
    /// Learned from coded history by `medledger learn`.
    Learned,
    /// A learned document-level keyword model of the code.
    Classifier,
}

impl TermSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TermSource::Title => "tabular title",
            TermSource::Inclusion => "tabular inclusion term",
            TermSource::CategoryDefault => "category title (unspecified code)",
            TermSource::Index => "alphabetic index term",
            TermSource::Lexicon => "medledger lexicon",
            TermSource::Learned => "learned term",
            TermSource::Classifier => "learned keyword model",
        }
    }

    pub const ALL: [TermSource; 7] = [
        TermSource::Title,
        TermSource::Inclusion,
        TermSource::CategoryDefault,
        TermSource::Index,
        TermSource::Lexicon,
        TermSource::Learned,
        TermSource::Classifier,
    ];
}

/// One term of the dictionary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Billable code key (no dot), including a 7th character.
    pub key: String,
    /// Tabular node of the code.
    pub node: u32,
    pub source: TermSource,
    /// The term as written in its source.
    pub text: String,
    /// Concepts that must all be present in one sentence.
    pub required: Vec<u32>,
    /// Generic concepts that may be present ("disease", "disorder").
    pub optional: Vec<u32>,
    /// The code is an "other specified" residual code.
    pub other: bool,
    /// The code is an unspecified code (title says "unspecified").
    pub unspecified: bool,
    /// The 7th character was chosen by default (episode of care not read).
    pub default_seventh: Option<char>,
    /// Index path for index terms ("Neoplasm > lung > Malignant Primary").
    pub index_path: Option<String>,
    /// Learned association strength (learned terms only).
    pub weight: f32,
    /// Learned terms match as contiguous phrases only.
    pub contiguous: bool,
    /// Learned terms: documents that carried the code / contained the phrase.
    pub support: u32,
    pub df: u32,
    /// Our lexicon names this very term for the code too (it is the
    /// index's default for the term), whatever source the entry keeps.
    pub attested: bool,
    /// Concepts the note must name as absent, right after "without" or
    /// "no" following the term's words ("migraine without aura").
    #[serde(default)]
    pub absent: Vec<u32>,
}

/// Concept ids of words.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vocab {
    map: FxHashMap<String, u32>,
    words: Vec<String>,
}

impl Vocab {
    pub fn id(&mut self, concept: &str) -> u32 {
        if let Some(&i) = self.map.get(concept) {
            return i;
        }
        let i = self.words.len() as u32;
        self.words.push(concept.to_string());
        self.map.insert(concept.to_string(), i);
        i
    }

    pub fn get(&self, concept: &str) -> Option<u32> {
        self.map.get(concept).copied()
    }

    pub fn word(&self, id: u32) -> &str {
        self.words
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Function words that never carry a concept.
pub const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "of",
    "and",
    "or",
    "in",
    "on",
    "to",
    "for",
    "by",
    "with",
    "at",
    "as",
    "from",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "this",
    "that",
    "these",
    "those",
    "its",
    "his",
    "her",
    "their",
    "he",
    "she",
    "they",
    "it",
    // An auxiliary: "Do you have pain?" is no Z66 "Do not resuscitate".
    "do",
    "does",
    "did",
    "we",
    "i",
    "you",
    "which",
    "who",
    "whom",
    "has",
    "have",
    "had",
    "into",
    "onto",
    "than",
    "then",
    "there",
    "also",
    "very",
    "both",
    "all",
    "any",
    "some",
    "such",
    "so",
    "but",
    "if",
    "due",
    "nos",
    "nec",
    "s",
    "de",
    "la",
    "el",
    "en",
    "y",
    "del",
    "los",
    "las",
    "patient",
    "presented",
    "presents",
    "showed",
    "shows",
    "revealed",
];

/// Words of clinical notes and the concepts the classification writes them
/// with: positions spelled as two words, histologies read as their
/// behaviour, synonyms (lithiasis → calculus), Roman stage numbers.
const NOTE_WORD_CONCEPTS: &[(&str, &[&str])] = &[
    ("distal", &["lower", "end"]),
    ("proximal", &["upper", "end"]),
    ("kidney", &["renal"]),
    ("stones", &["calculus"]),
    ("stone", &["calculus"]),
    ("tumor", &["neoplasm"]),
    ("tumour", &["neoplasm"]),
    ("tumoration", &["neoplasm"]),
    ("neoformation", &["neoplasm"]),
    ("cancer", &["malignant", "neoplasm"]),
    ("carcinoma", &["malignant", "neoplasm"]),
    ("lithiasis", &["calculus"]),
    // "Septicemia - see Sepsis" (the index's cross-reference).
    ("septicemia", &["sepsis"]),
    ("septicaemia", &["sepsis"]),
    // "E. coli": the classification writes Escherichia coli.
    ("coli", &["escherichia"]),
    ("disorder", &["disease"]),
    ("disorders", &["disease"]),
    // Roman stage and type numbers ("chronic kidney disease stage V"); a
    // number counts only next to the words it qualifies.
    ("ii", &["2"]),
    ("iii", &["3"]),
    ("iv", &["4"]),
    ("v", &["5"]),
    // The classification's limbs: "cellulitis of the left lower leg" is
    // of the left lower limb.
    ("leg", &["lower", "limb"]),
    ("legs", &["lower", "limb"]),
    ("arm", &["upper", "limb"]),
    ("arms", &["upper", "limb"]),
    ("appendicular", &["appendix"]),
    ("appendiceal", &["appendix"]),
    // Histologies: what their behaviour reads as in the classification.
    ("sarcoma", &["malignant", "neoplasm"]),
    ("leiomyosarcoma", &["malignant", "neoplasm"]),
    ("liposarcoma", &["malignant", "neoplasm"]),
    ("fibrosarcoma", &["malignant", "neoplasm"]),
    ("rhabdomyosarcoma", &["malignant", "neoplasm"]),
    ("neuroblastoma", &["malignant", "neoplasm"]),
    ("glioma", &["malignant", "neoplasm"]),
    ("seminoma", &["malignant", "neoplasm"]),
    ("adenoma", &["benign", "neoplasm"]),
    ("leiomyoma", &["benign", "neoplasm"]),
    ("fibroadenoma", &["benign", "neoplasm"]),
    ("tumors", &["neoplasm"]),
    ("cancers", &["malignant", "neoplasm"]),
    ("carcinomas", &["malignant", "neoplasm"]),
    ("adenocarcinoma", &["malignant", "neoplasm"]),
    ("adenocarcinomas", &["malignant", "neoplasm"]),
    ("malignancy", &["malignant", "neoplasm"]),
    ("neoplasia", &["neoplasm"]),
    // The Table of Drugs and Chemicals' columns in a note's words: an
    // overdose is a poisoning; a suicide attempt is intentional self-harm.
    ("overdose", &["poisoning"]),
    ("overdosed", &["poisoning"]),
    ("suicide", &["intentional"]),
    ("suicidal", &["intentional"]),
];

/// Concepts too general to name a condition alone: a term needs at least one
/// concept outside this list, and these may be missing from the note.
pub const GENERIC: &[&str] = &[
    "diseas",
    "disord",
    "condit",
    "other",
    "specifi",
    "unspecifi",
    "site",
    "type",
    "mellitus",
    "state",
    "status",
    "problem",
    "part",
    "region",
    "unknown",
    "caus",
    "classifi",
    "elsewher",
    "certain",
    "organ",
    "system",
    "mention",
    "behavior",
    "manifest",
    "complic",
    "encount",
    "initi",
    "episod",
    "care",
    "qualifi",
    "primari",
    "essenti",
    "nonspecif",
    // The index's nonessential modifiers that the tabular titles spell out
    // ("Nontraumatic subarachnoid hemorrhage"): a note rarely writes them.
    "nontraumat",
    "nonrheumat",
    "noninfect",
];

/// Content words of a cleaned term: not stopwords, not "encounter"
/// ("Encounter for palliative care" has two, "Encounter for screening,
/// unspecified" one).
fn content_words(text: &str) -> usize {
    clean_term(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !is_stopword(w) && *w != "encounter")
        .count()
}

/// Whether `text` has no word but stopwords and [`GENERIC`] concepts.
fn only_generic(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !is_stopword(w))
        .all(|w| GENERIC.contains(&concept_of(&w).as_str()))
}

/// Makes `concept` one a term requires (it may have been optional).
fn require(required: &mut Vec<u32>, optional: &mut Vec<u32>, concept: u32) {
    optional.retain(|&c| c != concept);
    if let Err(at) = required.binary_search(&concept) {
        required.insert(at, concept);
    }
}

fn is_stopword(lower: &str) -> bool {
    STOPWORDS.contains(&lower)
}

/// The concept (stem) of one lower-case word.
pub fn concept_of(lower: &str) -> String {
    morph::stem(&morph::normalize_word(lower))
}

/// The concepts a note token stands for: its own stem, the stems of its
/// equivalent words (renal/kidney), and for an abbreviation the stems of its
/// expansion. Unknown concepts are not returned (they cannot match a term).
pub fn token_concepts(original: &str, lower: &str, vocab: &Vocab, out: &mut Vec<u32>) {
    out.clear();
    if let Some(exp) = abbrev::expand(original) {
        let mut prev = String::new();
        for w in exp.split(|c: char| !c.is_alphanumeric()) {
            let w = w.to_lowercase();
            if w.is_empty() {
                continue;
            }
            let before = std::mem::replace(&mut prev, w.clone());
            if let Some(id) = designator(&before, &w).and_then(|d| vocab.get(&d)) {
                out.push(id);
                continue;
            }
            if is_stopword(&w) {
                continue;
            }
            if let Some(id) = vocab.get(&concept_of(&w)) {
                out.push(id);
            }
        }
    }
    if is_stopword(lower) {
        out.sort_unstable();
        out.dedup();
        return;
    }
    if let Some(id) = vocab.get(&concept_of(lower)) {
        out.push(id);
    }
    for alt in morph::alternatives(lower) {
        if let Some(id) = vocab.get(&concept_of(alt)) {
            out.push(id);
        }
    }
    // What the classification writes this word with.
    if let Some((_, words)) = NOTE_WORD_CONCEPTS.iter().find(|(w, _)| *w == lower) {
        for w in *words {
            if let Some(id) = vocab.get(&concept_of(w)) {
                out.push(id);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// The spellings of a Table of Neoplasms site and its qualifiers: after a
/// comma, one word sharing its first four letters with a word of the site is
/// another spelling of it ("abdomen, abdominal"); anything else qualifies
/// the site ("Meckel diverticulum, malignant").
fn site_spellings(site: &str) -> (Vec<&str>, String) {
    let mut parts = site.split(", ").map(str::trim).filter(|w| !w.is_empty());
    let Some(first) = parts.next() else {
        return (Vec::new(), String::new());
    };
    let stem4 = |w: &str| w.to_lowercase().chars().take(4).collect::<String>();
    let heads: Vec<String> = first
        .split_whitespace()
        .filter(|w| w.chars().count() >= 4)
        .map(stem4)
        .collect();
    let mut spellings = vec![first];
    let mut qualifiers = Vec::new();
    for p in parts {
        let one_word = !p.contains(' ') && p.chars().count() >= 4;
        if one_word && heads.contains(&stem4(p)) {
            spellings.push(p);
        } else {
            qualifiers.push(p);
        }
    }
    (spellings, qualifiers.join(" "))
}

/// Cleans a classification term for matching: removes parenthesised and
/// bracketed nonessential words, comma qualifiers that only say the term is
/// unspecified, and "without ..." / "not ..." tails that name what is absent.
pub fn clean_term(text: &str) -> String {
    clean_term_parts(text).0
}

/// What a "without ..." tail names when it is the default reading of the
/// term (the index's code for the bare term says it): no complication,
/// no perforation or bleeding, no exacerbation, no coma.
const DEFAULT_ABSENT: &[&str] = &[
    "complication",
    "complications",
    "perforation",
    "abscess",
    "bleeding",
    "hemorrhage",
    "obstruction",
    "gangrene",
    "coma",
    "exacerbation",
    "acute",
    "heart",
    "status",
    "hyperosmolarity",
    "ketoacidosis",
    "mention",
    "behavioral",
    "psychotic",
    "myelopathy",
    "radiculopathy",
    "cor",
    "hematuria",
    "current",
    "pathological",
    "fistula",
    "rupture",
    "hyperglycemia",
    "hypoglycemia",
    "intractable",
    "intractability",
    "refractory",
    "recurrence",
    "sepsis",
    "dyskinesia",
];

/// [`clean_term`], and the "without ..." tails that tell the code from its
/// siblings ("Migraine without aura" is not migraine NOS): a note reads as
/// the term only when it says them too ("without aura"). A tail is the
/// default reading, and dropped, when the term says it is unspecified or
/// when it names a complication ([`DEFAULT_ABSENT`]).
pub fn clean_term_parts(text: &str) -> (String, Vec<String>) {
    let plain = medledger_codesets::search::strip_bracketed(text);
    let mut lower = plain.to_lowercase();
    // Infectious agents (B95-B97): the organism documented as the cause
    // of a condition is the term ("Enterococcus as the cause of diseases
    // classified elsewhere").
    if let Some(p) = lower.find(" as the cause of diseases classified elsewhere") {
        lower.truncate(p);
    }
    if lower.contains("classified elsewhere") {
        // Manifestation codes: never coded from a mention alone.
        return (String::new(), Vec::new());
    }
    let mut absent: Vec<String> = Vec::new();
    let mut statuses: Vec<&str> = Vec::new();
    let mut without = |tail: &str| {
        // "without complications in remission": the status stays.
        for status in ["in remission", "in relapse"] {
            if tail.contains(status) {
                statuses.push(status);
            }
        }
        let first = tail.split_whitespace().next().unwrap_or("");
        if !DEFAULT_ABSENT.contains(&first) && !tail.trim().is_empty() {
            absent.push(tail.trim().to_string());
        }
    };
    let segs: Vec<&str> = lower.split(',').map(str::trim).collect();
    // A "without" list runs on over the segments up to its "and ..." / "or
    // ..." ("without behavioral disturbance, psychotic disturbance, mood
    // disturbance, and anxiety").
    let list_end = |from: usize| {
        segs[from + 1..]
            .iter()
            .position(|x| x.starts_with("and ") || x.starts_with("or "))
            .map(|k| from + 1 + k)
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut skip_to: Option<usize> = None;
    for (i, &seg) in segs.iter().enumerate() {
        let mut s = seg;
        if skip_to.is_some_and(|e| i <= e) {
            without(s.trim_start_matches("and ").trim_start_matches("or "));
            continue;
        }
        if let Some(tail) = s.strip_prefix("without ") {
            if i == 0 {
                return (String::new(), Vec::new());
            }
            without(tail);
            skip_to = list_end(i);
            continue;
        }
        if let Some(p) = s.find(" without ") {
            without(&s[p + " without ".len()..]);
            s = &s[..p];
            skip_to = list_end(i);
        }
        if i == 0 {
            kept.push(s);
            continue;
        }
        if s.contains("unspecified")
            || s.contains("not specified")
            || s.contains("not elsewhere classified")
            || s.starts_with("not ")
            || s == "uncomplicated"
        {
            // "unspecified in remission", "unspecified with rectal
            // bleeding": the status or the complication is still what tells
            // the code from its siblings.
            for status in ["in remission", "in relapse"] {
                if s.contains(status) {
                    kept.push(status);
                }
            }
            if let Some(p) = s.find(" with ") {
                kept.push(&s[p + 1..]);
            }
            // "Fistula, unspecified shoulder": only the side is unspecified;
            // the joint or limb segment is what tells the code from the
            // same condition elsewhere (a bare "fistula" is not of a joint).
            if let Some(site) = s.strip_prefix("unspecified ")
                && UNSPECIFIED_SIDE_SITES.contains(&site)
            {
                kept.push(site);
            }
            continue;
        }
        kept.push(s);
    }
    kept.extend(statuses);
    let mut joined = kept.join(" ");
    for cut in [" not ", " except "] {
        if let Some(p) = joined.find(cut) {
            joined.truncate(p);
        }
    }
    (joined, absent)
}

/// Joints and limb parts a title names after "unspecified" when only the
/// side is left open ("Effusion, unspecified knee"): the site stays a
/// required word of the term.
/// Titles reach this list with their brackets already stripped
/// ("unspecified finger(s)" is "unspecified finger").
const UNSPECIFIED_SIDE_SITES: &[&str] = &[
    "joint",
    "shoulder",
    "elbow",
    "wrist",
    "hand",
    "hip",
    "knee",
    "ankle",
    "foot",
    "ankle and foot",
    "finger",
    "toe",
    "thumb",
    "upper arm",
    "forearm",
    "thigh",
    "lower leg",
    "upper limb",
    "lower limb",
    "limb",
];

/// Organs whose "<organ> disease" names a condition only with the word
/// disease or disorder ("lungs clear" is not "lung disease NOS").
const ORGANS: &[&str] = &[
    "lung",
    "liver",
    "kidney",
    "renal",
    "heart",
    "cardiac",
    "stomach",
    "bowel",
    "intestine",
    "intestinal",
    "bladder",
    "bone",
    "skin",
    "eye",
    "ear",
    "brain",
    "spleen",
    "pancreas",
    "thyroid",
    "breast",
    "prostate",
    "uterus",
    "ovary",
    "joint",
    "muscle",
    "nerve",
    "spine",
    "gallbladder",
    "esophagus",
    "colon",
    "rectum",
    "anus",
    "testis",
    "vulva",
    "vagina",
];

/// The two words of a title of the form "A and B" (", unspecified" allowed).
fn either_word(desc: &str) -> Vec<&str> {
    let d = desc.strip_suffix(", unspecified").unwrap_or(desc);
    match d.split_once(" and ") {
        Some((a, b))
            if !a.is_empty()
                && !b.is_empty()
                && [a, b]
                    .iter()
                    .all(|w| w.chars().all(|c| c.is_alphabetic() || c == '-')) =>
        {
            vec![a, b]
        }
        _ => Vec::new(),
    }
}

/// Words that a single letter designates the kind of ("hepatitis A",
/// "vitamin D", "group B", "type A"): the letter is then a concept of its
/// own, read only right after its head word.
pub const LETTER_HEADS: &[&str] = &[
    "hepatitis",
    "vitamin",
    "group",
    "type",
    "influenza",
    "factor",
];

/// The concept of a designator letter after one of [`LETTER_HEADS`].
pub fn designator(prev: &str, word: &str) -> Option<String> {
    // "type I diabetes", "stage I": the roman one (the pronoun elsewhere).
    if word == "i" && matches!(prev, "type" | "stage" | "grade" | "class") {
        return Some("1".into());
    }
    let mut cs = word.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) if ('a'..='e').contains(&c) && LETTER_HEADS.contains(&prev) => {
            Some(format!("#{c}"))
        }
        _ => None,
    }
}

/// Splits a cleaned term into required and optional concept ids.
pub fn term_concepts(cleaned: &str, vocab: &mut Vocab) -> (Vec<u32>, Vec<u32>) {
    let mut required = Vec::new();
    let mut optional = Vec::new();
    let mut prev = "";
    for w in cleaned.split(|c: char| !c.is_alphanumeric()) {
        if w.is_empty() {
            continue;
        }
        let before = std::mem::replace(&mut prev, w);
        if let Some(d) = designator(before, w) {
            required.push(vocab.id(&d));
            continue;
        }
        if is_stopword(w) {
            continue;
        }
        let c = concept_of(w);
        let id = vocab.id(&c);
        if GENERIC.contains(&c.as_str()) {
            optional.push(id);
        } else {
            required.push(id);
        }
    }
    required.sort_unstable();
    required.dedup();
    optional.sort_unstable();
    optional.dedup();
    optional.retain(|o| !required.contains(o));
    if required
        .iter()
        .all(|r| vocab.word(*r).chars().all(|c| c.is_ascii_digit()))
    {
        required.clear();
    }
    (required, optional)
}

/// How directly a source names its code (higher is more direct).
pub fn source_rank(s: TermSource) -> u8 {
    match s {
        TermSource::Lexicon => 5,
        TermSource::Title => 4,
        TermSource::Inclusion => 3,
        TermSource::Index => 2,
        TermSource::CategoryDefault => 1,
        TermSource::Learned | TermSource::Classifier => 0,
    }
}

/// What the dictionary was built from, for the build report and coding runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BuildReport {
    pub release: String,
    pub entries: usize,
    pub by_source: Vec<(TermSource, usize)>,
    pub lexicon_skipped: Vec<String>,
    pub concepts: usize,
}

/// A concept's bit in a 128-bit signature (Fibonacci hashing of its id):
/// an entry whose required concepts' bits are not all in a sentence's
/// signature cannot match there, which the matcher checks before it reads
/// the entry itself.
#[inline]
pub fn concept_bit(c: u32) -> u128 {
    1u128 << (c.wrapping_mul(0x9E37_79B1) >> 25)
}

/// The dictionary with its anchor index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dictionary {
    pub vocab: Vocab,
    pub entries: Vec<Entry>,
    /// Rarest required concept -> entries anchored on it, each with the
    /// [`concept_bit`] mask of all its required concepts.
    pub anchors: FxHashMap<u32, Vec<(u32, u128)>>,
    pub report: BuildReport,
}

/// The billable code a node stands for in the dictionary: a leaf itself (with
/// a default 7th character where one is required), or for a category or
/// subcategory its "unspecified" child.
pub fn default_billable(tab: &Tabular, idx: u32) -> Option<(String, u32, Option<char>)> {
    let node = tab.node(idx);
    if tab.is_leaf(idx) {
        return match tab.seven_for(idx) {
            None => Some((node.key.clone(), idx, None)),
            Some((_, def)) => {
                let pick = ['A', '0', 'S']
                    .into_iter()
                    .find(|c| def.meaning(*c).is_some())
                    .or_else(|| def.extensions.first().map(|(c, _)| *c))?;
                Some((format!("{}{pick}", tab.padded_stem(idx)), idx, Some(pick)))
            }
        };
    }
    // Direct children: the one whose title says unspecified, and among
    // several the one that names no side and says it most often ("Edema of
    // unspecified eye, unspecified eyelid", not "Edema of right eye,
    // unspecified eyelid").
    let end = node.end;
    let mut i = idx + 1;
    let mut best: Option<(i32, u32)> = None;
    while i < end {
        let child = tab.node(i);
        let t = child.desc.to_lowercase();
        if t.contains("unspecified") || t.ends_with("without complications") {
            let sided = ["right", "left", "bilateral"]
                .iter()
                .any(|w| t.split(|c: char| !c.is_alphanumeric()).any(|x| x == *w));
            let score = t.matches("unspecified").count() as i32 - 10 * i32::from(sided);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, i));
            }
        }
        i = child.end;
    }
    let (_, b) = best?;
    default_billable(tab, b)
}

/// The billable code an index or table cell stands for: the code itself,
/// or for a category or a code needing its 7th character the default
/// billable code beneath it.
pub fn billable_for(tab: &Tabular, key: &str) -> Option<(String, u32, Option<char>)> {
    use medledger_codesets::icd10cm::tabular::Resolution;
    match tab.resolve(key) {
        Resolution::Billable { node, seventh } => Some((key.to_string(), node, seventh)),
        Resolution::Header { node } | Resolution::NeedsSeventh { node } => {
            default_billable(tab, node)
        }
        _ => None,
    }
}

/// The column of a table whose heading has all of `names` as whole words
/// ("Poisoning Accidental (unintentional)" is not the intentional column).
pub fn table_column(
    tree: &medledger_codesets::icd10cm::index::IndexTree,
    names: &[&str],
) -> Option<u8> {
    tree.headings
        .iter()
        .find(|(_, h)| {
            let h = h.to_lowercase();
            let words: Vec<&str> = h.split(|c: char| !c.is_alphanumeric()).collect();
            names.iter().all(|n| words.contains(n))
        })
        .map(|(c, _)| *c)
}

/// Lower-case words of a title that mark a residual "other" code.
fn is_other_title(desc: &str) -> bool {
    let l = desc.to_lowercase();
    l.starts_with("other ") || l.contains(" other ") && l.contains("specified")
}

pub struct Builder<'a> {
    tab: &'a Tabular,
    dict: Dictionary,
}

impl<'a> Builder<'a> {
    pub fn new(tab: &'a Tabular, release: &str) -> Builder<'a> {
        Builder {
            tab,
            dict: Dictionary {
                vocab: Vocab::default(),
                entries: Vec::new(),
                anchors: FxHashMap::default(),
                report: BuildReport {
                    release: release.to_string(),
                    ..BuildReport::default()
                },
            },
        }
    }

    /// Adds one term for a billable code; returns false when the term has no
    /// required concept.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        key: String,
        node: u32,
        seventh: Option<char>,
        source: TermSource,
        text: &str,
        index_path: Option<String>,
        weight: f32,
    ) -> bool {
        // Body mass index and weeks of gestation are read off the number
        // the note documents (`numeric`), not off titles that spell each
        // value band.
        if crate::numeric::is_score_code(&key) {
            return false;
        }
        // "Poisoning by, adverse effect of and underdosing of penicillins":
        // a T36–T50 category heading names no intent and cleans down to
        // "poisoning"; its codes' own titles read instead.
        if source == TermSource::CategoryDefault
            && text.starts_with("Poisoning by, adverse effect of and underdosing of")
        {
            return false;
        }
        let (cleaned, absent_tails) = clean_term_parts(text);
        let (mut required, mut optional) = term_concepts(&cleaned, &mut self.dict.vocab);
        let mut absent: Vec<u32> = Vec::new();
        for tail in &absent_tails {
            absent.extend(term_concepts(tail, &mut self.dict.vocab).0);
        }
        absent.sort_unstable();
        absent.dedup();
        absent.retain(|a| !required.contains(a));
        if required.is_empty() {
            return false;
        }
        // "Other disorders of lung": the site alone is not the condition; the
        // note must say disease or disorder too ("lungs clear" is not J98.4).
        let all: Vec<&str> = cleaned
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let content: Vec<&str> = all.iter().copied().filter(|w| !is_stopword(w)).collect();
        let organ_disease = matches!(content.as_slice(),
            [site, "disease" | "disorder"] if ORGANS.contains(site));
        // "Respiratory disorder", "Adjustment disorder", "Resonance disorder
        // NOS": when disorder is the head noun, the word before it only says
        // of what; "respiratory", "adjusted" or an MRI's "resonance" alone is
        // no disorder.
        // Likewise a "type" ("Blood type") or "problem", and a disease after
        // an adjective ("Respiratory disease NOS"; an eponym such as
        // "Crohn disease" names the disease alone).
        let adjective = |w: &str| {
            ["al", "ic", "ory", "ar", "ous", "ive"]
                .iter()
                .any(|s| w.len() > 4 && w.ends_with(s))
        };
        let head = content.last().copied().unwrap_or("");
        let disorder_head = content.len() >= 2
            && (matches!(head, "disorder" | "disorders")
                || (matches!(head, "disease" | "diseases")
                    && adjective(content[content.len() - 2])));
        // A problem anywhere ("Other problems with newborn"), and a status
        // or state after a single adjective ("Other external cause status";
        // not "Vasectomy status", which the procedure names).
        let specific: Vec<&str> = content
            .iter()
            .copied()
            .filter(|w| !GENERIC.contains(&concept_of(w).as_str()))
            .collect();
        let problem = content
            .iter()
            .copied()
            .find(|w| matches!(*w, "problem" | "problems"));
        let generic_head = if content.len() >= 2 && head == "type" {
            Some(head)
        } else if content.len() >= 2 && problem.is_some() {
            problem
        } else if matches!(specific.as_slice(), [w] if adjective(w))
            && matches!(head, "status" | "state")
        {
            Some(head)
        } else {
            None
        }
        .map(|h| self.dict.vocab.id(&concept_of(h)));
        let bare_site = match source {
            TermSource::Title | TermSource::CategoryDefault => {
                organ_disease
                    || disorder_head
                    || all.windows(2).any(|w| {
                        matches!(w, ["disease" | "diseases" | "disorder" | "disorders", "of"])
                    })
            }
            TermSource::Inclusion | TermSource::Index => organ_disease || disorder_head,
            _ => false,
        };
        // "Other specified diabetes mellitus": a residual code for a kind the
        // note names otherwise (an index term or an inclusion term leads
        // there); its title alone needs the note to say "other".
        // The same holds wherever the title says it ("Personal history of
        // other specified conditions" is no bare "personal history").
        if matches!(source, TermSource::Title | TermSource::CategoryDefault)
            && (cleaned.starts_with("other specified ")
                || cleaned.contains(" other specified")
                || cleaned.starts_with("encounter for other "))
        {
            let other = self.dict.vocab.id(&concept_of("other"));
            require(&mut required, &mut optional, other);
        }
        // "Other complications of anesthesia", "Unspecified complication of
        // kidney transplant": a complication of the procedure, not the
        // procedure; the note must say complication.
        if all
            .iter()
            .any(|w| matches!(*w, "complication" | "complications"))
        {
            let complication = self.dict.vocab.id(&concept_of("complication"));
            require(&mut required, &mut optional, complication);
        }
        // Sepsis by its organism (A40-A41): an inclusion term names the
        // organism only ("Pseudomonas aeruginosa" at A41.52); the sepsis
        // must be in the note too.
        if source == TermSource::Inclusion && (key.starts_with("A40") || key.starts_with("A41")) {
            let sepsis = self.dict.vocab.id(&concept_of("sepsis"));
            require(&mut required, &mut optional, sepsis);
        }
        if let Some(h) = generic_head {
            require(&mut required, &mut optional, h);
        }
        if bare_site {
            let disease = self.dict.vocab.id(&concept_of("disease"));
            let disorder = self.dict.vocab.id(&concept_of("disorder"));
            optional.retain(|&c| c != disorder);
            require(&mut required, &mut optional, disease);
        }
        let desc = &self.tab.node(node).desc;
        self.dict.entries.push(Entry {
            key,
            node,
            source,
            text: text.to_string(),
            required,
            optional,
            other: is_other_title(desc),
            unspecified: desc.to_lowercase().contains("unspecified"),
            default_seventh: seventh,
            index_path,
            weight,
            contiguous: source == TermSource::Learned,
            support: 0,
            df: 0,
            attested: source == TermSource::Lexicon,
            absent,
        });
        true
    }

    /// Titles and inclusion terms of the whole tabular.
    pub fn add_tabular(&mut self) {
        let tab = self.tab;
        let titles: FxHashSet<String> = tab.nodes.iter().map(|n| n.desc.to_lowercase()).collect();
        for i in 0..tab.nodes.len() as u32 {
            let node = tab.node(i);
            let Some((key, target, seventh)) = default_billable(tab, i) else {
                continue;
            };
            let source = if target == i {
                TermSource::Title
            } else {
                TermSource::CategoryDefault
            };
            // "Encounter for screening, unspecified", "Encounter for
            // sterilization": a reason for the visit in one word is no
            // finding a narrative documents ("sterile", "screening").
            let encounter = node.desc.starts_with("Encounter for");
            if !(encounter && content_words(&node.desc) < 2) {
                self.add(key.clone(), target, seventh, source, &node.desc, None, 0.0);
            }
            if target != i {
                continue;
            }
            // "Anuria and oliguria": either word names the code, unless it
            // is the title of a code of its own ("Nausea and vomiting" is
            // not nausea).
            for part in either_word(&node.desc) {
                let lower = part.to_lowercase();
                if !titles.contains(&lower) && !titles.contains(&format!("{lower}, unspecified")) {
                    self.add(
                        key.clone(),
                        target,
                        seventh,
                        TermSource::Title,
                        part,
                        None,
                        0.0,
                    );
                }
            }
            // An encounter code names why the patient came ("Encounter
            // for examination and observation for unspecified reason"):
            // its one-word inclusion terms ("Observation NOS") are no
            // reason a narrative's "observed" documents.
            // So are an external cause's ("Accident NOS", "Exposure
            // NOS" at X58: a cerebrovascular accident is a stroke).
            let one_word_unread = encounter || key.starts_with(['V', 'W', 'X', 'Y']);
            // A manifestation code ("Glomerular disorders in diseases
            // classified elsewhere") is never coded from a mention alone
            // (OCG I.A.13), its inclusion terms ("Nephropathy") neither.
            let manifestation = node.desc.contains("classified elsewhere")
                && !node.desc.contains("as the cause of");
            if manifestation {
                continue;
            }
            for note in &node.notes {
                use medledger_codesets::icd10cm::tabular::NoteKind;
                if !matches!(note.kind, NoteKind::InclusionTerm | NoteKind::Includes) {
                    continue;
                }
                for t in note.texts.iter() {
                    if one_word_unread && content_words(t) < 2 {
                        continue;
                    }
                    // A bare acronym ("FFA") reads as too many things in a
                    // note; our abbreviation list expands the ones it knows.
                    let bare = medledger_codesets::search::strip_bracketed(t);
                    let bare = bare.trim().trim_end_matches(" NOS");
                    if (2..=5).contains(&bare.len()) && bare.chars().all(|c| c.is_ascii_uppercase())
                    {
                        continue;
                    }
                    self.add(
                        key.clone(),
                        target,
                        seventh,
                        TermSource::Inclusion,
                        t,
                        None,
                        0.0,
                    );
                }
            }
        }
    }

    /// Our curated lexicon.
    pub fn add_lexicon(&mut self) {
        let qualified: Vec<(String, &str)> = crate::lexicon::QUALIFIED
            .iter()
            .flat_map(|(quals, heads, code)| {
                quals
                    .iter()
                    .flat_map(move |q| heads.iter().map(move |h| (format!("{q} {h}"), *code)))
            })
            .collect();
        let pairs = crate::lexicon::DEFAULTS
            .iter()
            .map(|(t, c)| (*t, *c))
            .chain(qualified.iter().map(|(t, c)| (t.as_str(), *c)));
        for (term, code) in pairs {
            let key = medledger_codesets::normalize::key(code);
            match self.tab.resolve(&key) {
                medledger_codesets::icd10cm::tabular::Resolution::Billable { node, seventh } => {
                    self.add(key, node, seventh, TermSource::Lexicon, term, None, 0.0);
                }
                _ => self
                    .dict
                    .report
                    .lexicon_skipped
                    .push(format!("{term} -> {code}")),
            }
        }
    }

    /// Terms of an installed index tree that point at billable codes.
    pub fn add_index(&mut self, tree: &medledger_codesets::icd10cm::index::IndexTree) {
        use medledger_codesets::icd10cm::index::IndexKind;
        // Table columns by their published headings (column 1 holds the
        // term itself), with what each reads as in a note.
        let wanted: &[(&[&str], &str)] = match tree.kind {
            IndexKind::Neoplasm => &[
                (&["malignant", "primary"], "malignant neoplasm"),
                (&["malignant", "secondary"], "metastasis"),
            ],
            // The Table of Drugs and Chemicals: poisoning by intent (OCG
            // I.C.19.e.5.b: accidental when the intent is not documented),
            // adverse effect of a drug correctly taken, underdosing.
            IndexKind::Drug => &[
                (&["poisoning", "accidental"], "poisoning"),
                (&["poisoning", "intentional"], "poisoning intentional"),
                (&["poisoning", "assault"], "poisoning assault"),
                (&["poisoning", "undetermined"], "poisoning undetermined"),
                (&["adverse"], "adverse effect"),
                (&["underdosing"], "underdosing"),
            ],
            _ => &[],
        };
        let columns: Vec<(u8, &str)> = wanted
            .iter()
            .filter_map(|(names, reads)| Some((table_column(tree, names)?, *reads)))
            .collect();
        let mut path: Vec<String> = Vec::new();
        for term in &tree.terms {
            path.truncate(term.level as usize);
            path.push(term.title.clone());
            let mut codes: Vec<(String, String)> = Vec::new();
            if let Some(c) = &term.code {
                codes.push((c.clone(), path.join(" ")));
            }
            let cells: Vec<(&String, &str)> = columns
                .iter()
                .filter_map(|(col, reads)| {
                    term.cells
                        .iter()
                        .find(|(k, _)| k == col)
                        .map(|(_, c)| (c, *reads))
                })
                .collect();
            if tree.kind == IndexKind::Neoplasm && path.len() > 1 {
                // The site, without the main term "Neoplasm, neoplastic";
                // a site spelled two ways ("abdomen, abdominal") reads as
                // either.
                let outer = path[1..path.len() - 1].join(" ");
                let last = &path[path.len() - 1];
                let (spellings, qualifiers) = site_spellings(last);
                for spelling in spellings {
                    let site = format!("{outer} {spelling} {qualifiers}");
                    // "specified site NEC", "unspecified site": a row that
                    // names no site reads as the bare behaviour, which the
                    // note's histology ("carcinoma") would always match.
                    if only_generic(&site) {
                        continue;
                    }
                    for (c, reads) in &cells {
                        // The behaviour first: cleaning cuts a title at qualifiers
                        // ("unspecified whether descended or undescended").
                        codes.push(((*c).clone(), format!("{reads} {}", site.trim())));
                    }
                }
            } else if tree.kind != IndexKind::Neoplasm {
                // The column's reading first, as for the neoplasm sites:
                // cleaning cuts a term at a negation ("Nicotine, not
                // insecticide"), which must not take the reading with it.
                for (c, reads) in cells {
                    codes.push((c.clone(), format!("{reads} {}", path.join(" "))));
                }
            }
            for (code, text) in codes {
                let key = medledger_codesets::normalize::key(code.trim_end_matches(['-', '.']));
                if let Some((k, node, seventh)) = billable_for(self.tab, &key) {
                    let shown = path.join(" > ");
                    self.add(k, node, seventh, TermSource::Index, &text, Some(shown), 0.0);
                }
            }
        }
    }

    pub fn vocab_mut(&mut self) -> &mut Vocab {
        &mut self.dict.vocab
    }

    pub fn finish(mut self) -> Dictionary {
        self.dict.index();
        self.dict
    }
}

impl Dictionary {
    /// Builds the anchor index: each entry is anchored on its required concept
    /// that the fewest entries share.
    pub fn index(&mut self) {
        // Drop exact duplicates (same code, same concepts).
        let mut seen: FxHashMap<(String, Vec<u32>, Vec<u32>), usize> = FxHashMap::default();
        let mut keep = Vec::with_capacity(self.entries.len());
        for e in std::mem::take(&mut self.entries) {
            let k = (e.key.clone(), e.required.clone(), e.absent.clone());
            if let Some(&at) = seen.get(&k) {
                let existing: &mut Entry = &mut keep[at];
                // A learned weight survives on the kept entry, and so do the
                // duplicate's optional words ("diabetes" and "diabetes
                // mellitus" are one entry that reads "mellitus" too, so that
                // no sibling's match of both words swallows it).
                existing.weight = existing.weight.max(e.weight);
                existing.attested |= e.attested;
                // The code's own title (or our lexicon) names the entry
                // rather than the category title read as its default code.
                if source_rank(e.source) > source_rank(existing.source) {
                    existing.source = e.source;
                    existing.text = e.text.clone();
                    existing.index_path = e.index_path.clone();
                }
                for o in e.optional {
                    if !existing.optional.contains(&o) {
                        existing.optional.push(o);
                    }
                }
                continue;
            }
            seen.insert(k, keep.len());
            keep.push(e);
        }
        self.entries = keep;
        let mut df: FxHashMap<u32, u32> = FxHashMap::default();
        for e in &self.entries {
            for c in &e.required {
                *df.entry(*c).or_default() += 1;
            }
        }
        self.anchors.clear();
        for (i, e) in self.entries.iter().enumerate() {
            let anchor = e
                .required
                .iter()
                .copied()
                .min_by_key(|c| (df.get(c).copied().unwrap_or(0), *c));
            if let Some(a) = anchor {
                let mask = e.required.iter().fold(0, |m, &c| m | concept_bit(c));
                self.anchors.entry(a).or_default().push((i as u32, mask));
            }
        }
        let mut by: FxHashMap<TermSource, usize> = FxHashMap::default();
        for e in &self.entries {
            *by.entry(e.source).or_default() += 1;
        }
        self.report.entries = self.entries.len();
        self.report.by_source = TermSource::ALL
            .iter()
            .map(|s| (*s, by.get(s).copied().unwrap_or(0)))
            .collect();
        self.report.concepts = self.vocab.len();
    }

    /// Builds the dictionary for a tabular release (and optional index trees).
    pub fn build(
        tab: &Arc<Tabular>,
        release: &str,
        indexes: &[Arc<medledger_codesets::icd10cm::index::IndexTree>],
    ) -> Dictionary {
        let mut b = Builder::new(tab, release);
        b.add_tabular();
        for t in indexes {
            b.add_index(t);
        }
        b.add_lexicon();
        b.finish()
    }

    /// Adds one unanchored entry per keyword classifier (never matched by the
    /// matcher; it names the code a classifier proposes) and registers the
    /// classifiers' concepts in the vocabulary. Returns, per classifier, its
    /// entry and its features' concept ids.
    pub fn add_classifiers(
        &mut self,
        tab: &Tabular,
        classifiers: &[crate::model::CodeClassifier],
    ) -> Vec<Option<(u32, Vec<u32>)>> {
        classifiers
            .iter()
            .map(|c| {
                let entry = self.add_unanchored(
                    tab,
                    &c.code,
                    TermSource::Classifier,
                    &format!("keyword model ({} coded notes)", c.pos),
                )?;
                let e = &mut self.entries[entry as usize];
                e.support = c.pos;
                e.df = c.pos + c.neg;
                let ids: Vec<u32> = c.features.iter().map(|f| self.vocab.id(&f.0)).collect();
                Some((entry, ids))
            })
            .collect()
    }

    /// Adds an entry that the matcher never matches (no concepts, no
    /// anchor): it names a code that something other than a term proposes
    /// (a keyword classifier, a numeric rule). None when the code is not
    /// billable in the release. Entries added so stay valid only while the
    /// dictionary is not re-indexed.
    pub fn add_unanchored(
        &mut self,
        tab: &Tabular,
        code: &str,
        source: TermSource,
        text: &str,
    ) -> Option<u32> {
        let medledger_codesets::icd10cm::tabular::Resolution::Billable { node, .. } =
            tab.resolve(code)
        else {
            return None;
        };
        let desc = &tab.node(node).desc;
        self.entries.push(Entry {
            key: code.to_string(),
            node,
            source,
            text: text.to_string(),
            required: Vec::new(),
            optional: Vec::new(),
            other: is_other_title(desc),
            unspecified: desc.to_lowercase().contains("unspecified"),
            default_seventh: None,
            index_path: None,
            weight: 0.0,
            contiguous: false,
            support: 0,
            df: 0,
            attested: source == TermSource::Lexicon,
            absent: Vec::new(),
        });
        Some(self.entries.len() as u32 - 1)
    }

    /// Adds learned terms (concept phrases in the same vocabulary) and
    /// re-indexes.
    pub fn add_learned(&mut self, tab: &Tabular, learned: &[crate::model::LearnedTerm]) {
        for lt in learned {
            let medledger_codesets::icd10cm::tabular::Resolution::Billable { node, seventh } =
                tab.resolve(&lt.code)
            else {
                continue;
            };
            if crate::numeric::is_score_code(&lt.code) {
                continue;
            }
            let required: Vec<u32> = {
                let mut r: Vec<u32> = lt
                    .concepts
                    .iter()
                    .map(|c| self.vocab.id(c))
                    .collect::<Vec<_>>();
                r.sort_unstable();
                r.dedup();
                r
            };
            if required.is_empty() {
                continue;
            }
            let desc = &tab.node(node).desc;
            self.entries.push(Entry {
                key: lt.code.clone(),
                node,
                source: TermSource::Learned,
                text: lt.concepts.join(" "),
                required,
                optional: Vec::new(),
                other: is_other_title(desc),
                unspecified: desc.to_lowercase().contains("unspecified"),
                default_seventh: seventh.filter(|_| false),
                index_path: None,
                weight: lt.weight,
                contiguous: true,
                support: lt.support,
                df: lt.df,
                attested: false,
                absent: Vec::new(),
            });
        }
        self.index();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn without_tails_are_defaults_or_what_the_note_must_say_is_absent() {
        // A complication named absent is the default reading: dropped.
        assert_eq!(
            clean_term_parts("Type 2 diabetes mellitus without complications"),
            ("type 2 diabetes mellitus".to_string(), vec![])
        );
        assert_eq!(
            clean_term_parts("Migraine, unspecified, not intractable, without status migrainosus"),
            ("migraine".to_string(), vec![])
        );
        // What tells the code from its siblings stays, to be read absent.
        assert_eq!(
            clean_term_parts("Migraine without aura, not intractable, without status migrainosus"),
            ("migraine".to_string(), vec!["aura".to_string()])
        );
        // A site after the tail still belongs to the term.
        assert_eq!(
            clean_term_parts("Rheumatoid arthritis without rheumatoid factor, right shoulder"),
            (
                "rheumatoid arthritis right shoulder".to_string(),
                vec!["rheumatoid factor".to_string()]
            )
        );
        // A "without" list runs to its "and ...".
        let (term, absent) = clean_term_parts(
            "Unspecified dementia, unspecified severity, without behavioral disturbance, psychotic disturbance, mood disturbance, and anxiety",
        );
        assert_eq!(term, "unspecified dementia");
        assert!(
            absent.iter().all(|a| !a.contains("behavioral")),
            "{absent:?}"
        );
        // An unspecified segment keeps its complication.
        assert_eq!(
            clean_term("Ulcerative colitis, unspecified with rectal bleeding"),
            "ulcerative colitis with rectal bleeding"
        );
    }

    #[test]
    fn a_neoplasm_site_after_a_comma_is_a_spelling_or_a_qualifier() {
        assert_eq!(
            site_spellings("abdomen, abdominal"),
            (vec!["abdomen", "abdominal"], String::new())
        );
        assert_eq!(
            site_spellings("Meckel diverticulum, malignant"),
            (vec!["Meckel diverticulum"], "malignant".to_string())
        );
        assert_eq!(site_spellings("liver"), (vec!["liver"], String::new()));
    }

    use super::*;

    #[test]
    fn clean_term_drops_nonessential_and_unspecific_parts() {
        assert_eq!(
            clean_term("Essential (primary) hypertension"),
            "essential  hypertension"
        );
        assert_eq!(clean_term("Pneumonia, unspecified organism"), "pneumonia");
        // Only the side is unspecified: the joint stays required.
        assert_eq!(
            clean_term("Fistula, unspecified shoulder"),
            "fistula shoulder"
        );
        assert_eq!(clean_term("Fistula, unspecified joint"), "fistula joint");
        assert_eq!(
            either_word("Anuria and oliguria"),
            vec!["Anuria", "oliguria"]
        );
        assert_eq!(
            either_word("Synovitis and tenosynovitis, unspecified"),
            vec!["Synovitis", "tenosynovitis"]
        );
        assert!(either_word("Hypertensive heart and chronic kidney disease").is_empty());
        assert_eq!(
            clean_term("Enterococcus as the cause of diseases classified elsewhere"),
            "enterococcus"
        );
        assert_eq!(
            clean_term("Arthropathy in diseases classified elsewhere"),
            ""
        );
        assert_eq!(
            clean_term("Myeloid leukemia, unspecified in remission"),
            "myeloid leukemia in remission"
        );
        assert_eq!(
            clean_term("Type 2 diabetes mellitus without complications"),
            "type 2 diabetes mellitus"
        );
        assert_eq!(
            clean_term("Human immunodeficiency virus [HIV] disease"),
            "human immunodeficiency virus  disease"
        );
    }

    #[test]
    fn generic_words_are_optional_and_a_term_needs_a_required_concept() {
        let mut v = Vocab::default();
        let (r, o) = term_concepts("crohn's disease", &mut v);
        assert_eq!(r.len(), 1);
        assert_eq!(o.len(), 1);
        assert_eq!(v.word(o[0]), "diseas");
        let (r, _) = term_concepts("other specified disorders", &mut v);
        assert!(r.is_empty());
    }

    #[test]
    fn token_concepts_expand_abbreviations_and_adjectives() {
        let mut v = Vocab::default();
        for w in ["chronic", "kidney", "diseas"] {
            v.id(w);
        }
        let mut out = Vec::new();
        token_concepts("CKD", "ckd", &v, &mut out);
        assert_eq!(out.len(), 3, "CKD expands to chronic kidney disease");
        token_concepts("renal", "renal", &v, &mut out);
        assert_eq!(out, vec![v.get("kidney").unwrap()]);
        token_concepts("the", "the", &v, &mut out);
        assert!(out.is_empty());
    }
}
