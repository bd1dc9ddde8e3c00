//! ConText/NegEx-style assertion analysis: negation, uncertainty, history,
//! family experiencer and hypothetical mentions.
//!
//! Trigger phrases are matched on token `lower` sequences (longest match
//! first). Pre-triggers scope forward to the target, post-triggers backward.
//! Pseudo-triggers consume their tokens without effect. Scope ends at
//! terminators ("but", "however", "which", ";", ":" for pre-triggers, ...),
//! and at a window limit; a coordinated list ("fever, chills or cough") keeps
//! the scope as long as each item is short.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::section::{SectionKind, header_candidate};
use crate::sentence::Sentence;
use crate::token::{Token, TokenKind, tokenize};

/// Kind of a context assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    Negated,
    Uncertain,
    Historical,
    Family,
    Hypothetical,
}

impl ContextKind {
    fn bit(self) -> u8 {
        match self {
            ContextKind::Negated => 1,
            ContextKind::Uncertain => 2,
            ContextKind::Historical => 4,
            ContextKind::Family => 8,
            ContextKind::Hypothetical => 16,
        }
    }
}

/// The evidence for one assertion: the trigger's byte span in the note (or
/// the section header's span when the section implies it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cue {
    pub kind: ContextKind,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Assertion flags for a mention, with their cues.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    pub negated: bool,
    pub uncertain: bool,
    pub historical: bool,
    pub family: bool,
    pub hypothetical: bool,
    pub cues: Vec<Cue>,
}

impl Context {
    /// True when none of the five assertions holds.
    pub fn is_affirmed_current(&self) -> bool {
        !(self.negated || self.uncertain || self.historical || self.family || self.hypothetical)
    }

    fn set(&mut self, kind: ContextKind, start: usize, end: usize, text: &str) {
        match kind {
            ContextKind::Negated => self.negated = true,
            ContextKind::Uncertain => self.uncertain = true,
            ContextKind::Historical => self.historical = true,
            ContextKind::Family => self.family = true,
            ContextKind::Hypothetical => self.hypothetical = true,
        }
        if !self
            .cues
            .iter()
            .any(|c| c.kind == kind && c.start == start && c.end == end)
        {
            self.cues.push(Cue {
                kind,
                start,
                end,
                text: text.get(start..end).unwrap_or("").to_string(),
            });
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Pre,
    Post,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Trigger {
        kind: ContextKind,
        dir: Dir,
    },
    Pseudo,
    /// Ends scopes of the kinds in `mask`; `pre_only` terminators end only
    /// pre-trigger scopes.
    Terminator {
        mask: u8,
        pre_only: bool,
    },
}

#[derive(Debug, Clone)]
struct Phrase {
    words: Box<[String]>,
    entry: Entry,
    /// Only matches when followed by punctuation or the end of the sentence.
    at_end: bool,
}

const ALL: u8 = 31;

use ContextKind::*;

const NEG_PRE: &[&str] = &[
    "no",
    "not",
    "denies",
    "denied",
    "deny",
    "denying",
    "denies any",
    "without",
    "w/o",
    "negative for",
    "neg for",
    "free of",
    "absence of",
    "no evidence of",
    "no evidence for",
    "no evidence to suggest",
    "no signs of",
    "no sign of",
    "no symptoms of",
    "no findings of",
    "no history of",
    "no past history of",
    "no prior history of",
    "no previous history of",
    "no known history of",
    "no personal history of",
    "no family history of",
    "no h/o",
    "no hx of",
    "no known",
    "no significant",
    "no acute",
    "no new",
    "no obvious",
    "no definite",
    "no definitive",
    "no radiographic evidence of",
    "no clinical evidence of",
    "never",
    "never had",
    "never been",
    "has never had",
    "have never had",
    "not have",
    "does not have",
    "did not have",
    "do not have",
    "doesn't have",
    "didn't have",
    "has not had",
    "have not had",
    "had no",
    "has no",
    "have no",
    "with no",
    "rules out",
    "resolution of",
    "fails to reveal",
    "failed to reveal",
    "fails to show",
    "failed to show",
    "did not reveal",
    "does not reveal",
    "did not show",
    "does not show",
    "no complaints of",
    "lack of",
    "lacks",
    "denies history of",
    "denies any history of",
    "denied history of",
    "denied any history of",
    "without history of",
    "without a history of",
    "without any",
    "without evidence of",
    "without signs of",
    "absence of any",
    "no longer",
    "isn't",
    "wasn't",
    "aren't",
    "weren't",
    "doesn't",
    "didn't",
    "neither",
    "negative history of",
    "no further",
];

const NEG_POST: &[&str] = &[
    "is ruled out",
    "was ruled out",
    "were ruled out",
    "been ruled out",
    "excluded",
    "unlikely",
    "less likely",
    "not likely",
    "resolved",
    "has resolved",
    "have resolved",
    "had resolved",
    "negative",
    "absent",
    "not suspected",
];

/// Post-triggers that must end the sentence or be followed by punctuation.
const NEG_POST_END: &[&str] = &[
    "not present",
    "not seen",
    "not identified",
    "not visualized",
    "not detected",
    "not demonstrated",
    "not noted",
    "not found",
    "not appreciated",
    "not evident",
    "not observed",
    "not elicited",
    "none",
    ": none",
    ": no",
    ": negative",
    "denied",
    "? no",
    "? none",
    "- no",
    "- none",
    "- negative",
    ": absent",
];

const NEG_BOTH: &[&str] = &["ruled out"];

const UNC_PRE: &[&str] = &[
    "possible",
    "possibly",
    "probable",
    "probably",
    "suspected",
    "suspect",
    "suspicious for",
    "suspicion of",
    "suspicion for",
    "likely",
    "most likely",
    "more likely",
    "questionable",
    "question of",
    "?",
    "rule out",
    "r/o",
    "to rule out",
    "rule - out",
    "consider",
    "considered",
    "considering",
    "differential diagnosis",
    "differential diagnosis includes",
    "differential diagnoses include",
    "differential includes",
    "ddx",
    "may be",
    "may have",
    "might",
    "might be",
    "might have",
    "could be",
    "could have",
    "may represent",
    "could represent",
    "might represent",
    "compatible with",
    "suggestive of",
    "suggests",
    "suggesting",
    "concerning for",
    "concern for",
    "worrisome for",
    "presumed",
    "presumably",
    "presumptive",
    "cannot rule out",
    "can not rule out",
    "can't rule out",
    "cannot exclude",
    "can not exclude",
    "can't exclude",
    "could not rule out",
    "could not exclude",
    "evaluate for",
    "evaluation for",
    "to evaluate for",
    "workup for",
    "work up for",
    "work - up for",
    "query",
    "unclear if",
    "unclear whether",
    "uncertain if",
    "uncertain whether",
    "not certain whether",
    "not certain if",
    "not sure if",
    "equivocal for",
    "raises the possibility of",
    "possibility of",
    "clinically suspected",
    "r / o",
];

const UNC_POST: &[&str] = &[
    "?",
    "is possible",
    "possible",
    "suspected",
    "is suspected",
    "likely",
    "is likely",
    "questionable",
    "probable",
    "cannot be excluded",
    "can not be excluded",
    "could not be excluded",
    "cannot be ruled out",
    "can not be ruled out",
    "could not be ruled out",
    "can't be ruled out",
    "can't be excluded",
    "not ruled out",
    "not excluded",
    "not been ruled out",
    "not been excluded",
    "to be ruled out",
    "still to be ruled out",
    "is considered",
    "was considered",
    "considered",
    "in the differential",
    "on the differential",
    "is in the differential",
    "not certain",
];

const UNC_BOTH: &[&str] = &["versus", "vs", "not ruled out"];

const HIST_PRE: &[&str] = &[
    "history of",
    "hx of",
    "h/o",
    "hx",
    "past history of",
    "prior history of",
    "previous history of",
    "personal history of",
    "known history of",
    "remote history of",
    "significant history of",
    "past medical history of",
    "past medical history significant for",
    "past medical history includes",
    "past medical history",
    "pmh of",
    "pmh significant for",
    "pmh",
    "pmhx",
    "medical history of",
    "medical history significant for",
    "surgical history of",
    "past surgical history",
    "psh",
    "previous",
    "previously",
    "prior",
    "status post",
    "s/p",
    "s / p",
    "former",
    "formerly",
    "remote",
    "had a",
    "had an",
    "had been",
    "had previously",
    "previously diagnosed with",
    "was previously diagnosed with",
    "old history of",
];

const HIST_POST: &[&str] = &[
    "years ago",
    "year ago",
    "yrs ago",
    "in childhood",
    "as a child",
    "in the past",
    "in her youth",
    "in his youth",
    "previously",
    "in the remote past",
    "years prior",
    "years previously",
];

const FAM_PRE: &[&str] = &[
    "family history",
    "family history of",
    "family hx",
    "family hx of",
    "fh",
    "fh of",
    "fhx",
    "family history significant for",
    "family history positive for",
    "family history notable for",
    "family history is significant for",
    "family history is positive for",
    "family history includes",
];

const FAM_POST: &[&str] = &[
    "in the family",
    "in family",
    "runs in the family",
    "runs in her family",
    "runs in his family",
    "in first degree relatives",
    "in a first degree relative",
    "in first - degree relatives",
    "in relatives",
    "on her mother's side",
    "on his mother's side",
    "on her father's side",
    "on his father's side",
    "maternal side",
    "paternal side",
];

const RELATIVES: &[&str] = &[
    "mother",
    "father",
    "brother",
    "sister",
    "son",
    "daughter",
    "grandmother",
    "grandfather",
    "grandparent",
    "grandparents",
    "aunt",
    "uncle",
    "cousin",
    "sibling",
    "siblings",
    "parents",
    "parent",
    "mom",
    "dad",
    "niece",
    "nephew",
    "brothers",
    "sisters",
    "sons",
    "daughters",
    "aunts",
    "uncles",
    "cousins",
    "grandson",
    "granddaughter",
    "twin",
    "maternal",
    "paternal",
    "mother's",
    "father's",
    "brother's",
    "sister's",
    "mom's",
    "dad's",
    "half - brother",
    "half - sister",
    "stepmother",
    "stepfather",
];

const HYPO_PRE: &[&str] = &[
    "if",
    "in case",
    "in case of",
    "in the event of",
    "should he",
    "should she",
    "should the patient",
    "should there be",
    "should symptoms",
    "return if",
    "call if",
    "come back if",
    "return for",
    "return to the ed if",
    "return to ed if",
    "monitor for",
    "monitoring for",
    "watch for",
    "watch out for",
    "warning signs",
    "warning signs of",
    "signs and symptoms of",
    "educated on",
    "education on",
    "education about",
    "counseled on",
    "counseled about",
    "counseling on",
    "risks of",
    "risk of",
    "at risk for",
    "at risk of",
    "risk for",
    "high risk for",
    "high risk of",
    "increased risk of",
    "increased risk for",
    "risk factors for",
    "risk factor for",
    "to prevent",
    "prevent",
    "prevention of",
    "prophylaxis against",
    "prophylaxis for",
    "prophylactic",
    "in order to prevent",
    "to avoid",
    "avoid",
    "screening for",
    "screen for",
    "vaccination against",
    "vaccine against",
    "immunization against",
    "unless",
    "precautions for",
    "to reduce",
];

const HYPO_POST: &[&str] = &[
    "precautions",
    "risk",
    "screening",
    "vaccine",
    "vaccination",
    "prevention",
];

const HYPO_BOTH: &[&str] = &["prophylaxis"];

const PSEUDO: &[&str] = &[
    "no increase",
    "no increased",
    "no change",
    "no changes",
    "no significant change",
    "no interval change",
    "no definite change",
    "no suspicious change",
    "no decrease",
    "no decreased",
    "not only",
    "not necessarily",
    "gram negative",
    "gram - negative",
    "gram neg",
    "gram - neg",
    "without difficulty",
    "without any difficulty",
    "not drain",
    "not extend",
    "not cause",
    "no cause of",
    "not been able",
    "triple negative",
    "triple - negative",
    "her2 negative",
    "her2 - negative",
    "er negative",
    "pr negative",
    "rh negative",
    "coagulase negative",
    "coagulase - negative",
    "coag negative",
    "hormone receptor negative",
    "estrogen receptor negative",
    "progesterone receptor negative",
    "history of present illness",
    "history of the present illness",
    "history and physical",
    "social history",
    "history obtained",
    "history was obtained",
    "history from",
    "history is obtained",
    "prior to",
    "previous day",
    "if any",
    "if needed",
    "if necessary",
    "as needed",
    "not to be confused",
    "no other",
    "previously noted",
    "possible side effects",
];

const TERM_ALL: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "yet",
    "except",
    "except for",
    "aside from",
    "apart from",
    "other than",
    "besides",
    "which",
    "who",
    "whom",
    "whose",
    "presents",
    "presented",
    "presenting",
    "reports",
    "reported",
    "reporting",
    "complains",
    "complained",
    "complaining",
    "c/o",
    "states",
    "stated",
    "admits",
    "endorses",
    "endorsed",
    "nevertheless",
    "nonetheless",
    "whereas",
    "cause of",
    "source of",
    "etiology of",
    ";",
];

const TERM_FAMILY: &[&str] = &[
    "patient",
    "pt",
    "he",
    "she",
    "patient's",
    "per",
    "lives",
    "living",
    "brought",
    "accompanied",
    "accompanies",
];

const TERM_HISTORICAL: &[&str] = &[
    "now",
    "currently",
    "presently",
    "today",
    "at present",
    "this admission",
    "on admission",
];

/// Words that may follow an end-anchored post-trigger ("not seen on this
/// film", "none today").
const AFTER_END_OK: &[&str] = &[
    "on",
    "in",
    "at",
    "by",
    "during",
    "today",
    "now",
    "currently",
    "here",
    "there",
    "anymore",
    "either",
    "within",
    "bilaterally",
    "throughout",
    "radiographically",
    "clinically",
];

/// List separators that keep a scope going across coordinated items.
fn is_separator(lower: &str) -> bool {
    matches!(lower, "," | "or" | "and" | "nor" | "/" | "&" | "and/or")
}

fn key(lower: &str) -> Cow<'_, str> {
    if lower.contains('\u{2019}') {
        Cow::Owned(lower.replace('\u{2019}', "'"))
    } else {
        Cow::Borrowed(lower)
    }
}

/// Maximum tokens in one coordinated item between trigger and target, and
/// maximum total tokens.
const PRE_MAX_ITEM: usize = 6;
const PRE_MAX_TOTAL: usize = 30;
const POST_MAX_ITEM: usize = 5;
const POST_MAX_TOTAL: usize = 15;
/// A scope that runs through a coordinated list of short items ("denies
/// chest pain, dyspnea, ..., or cancer": a review of systems often lists
/// twenty or more) may reach this far; at least [`LIST_MIN_SEPARATORS`]
/// separators make a list.
const LIST_MAX_TOTAL: usize = 160;
const LIST_MIN_SEPARATORS: usize = 3;

/// Precompiled trigger phrases.
pub struct ContextAnalyzer {
    by_first: HashMap<String, Vec<Phrase>>,
}

impl Default for ContextAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

struct Match {
    start: usize,
    end: usize,
    entry: Entry,
}

impl ContextAnalyzer {
    /// Compiles the built-in trigger lists.
    pub fn new() -> ContextAnalyzer {
        let mut list: Vec<(String, Entry, bool)> = Vec::new();
        let trig = |kind, dir| Entry::Trigger { kind, dir };
        let mut add = |phrases: &[&str], e: Entry, at_end: bool| {
            for p in phrases {
                list.push((p.to_string(), e, at_end));
            }
        };
        add(NEG_PRE, trig(Negated, Dir::Pre), false);
        add(NEG_POST, trig(Negated, Dir::Post), false);
        add(NEG_POST_END, trig(Negated, Dir::Post), true);
        add(NEG_BOTH, trig(Negated, Dir::Both), false);
        add(UNC_PRE, trig(Uncertain, Dir::Pre), false);
        add(UNC_POST, trig(Uncertain, Dir::Post), false);
        add(UNC_BOTH, trig(Uncertain, Dir::Both), false);
        add(HIST_PRE, trig(Historical, Dir::Pre), false);
        add(HIST_POST, trig(Historical, Dir::Post), false);
        add(FAM_PRE, trig(Family, Dir::Pre), false);
        add(FAM_POST, trig(Family, Dir::Post), false);
        add(HYPO_PRE, trig(Hypothetical, Dir::Pre), false);
        add(HYPO_POST, trig(Hypothetical, Dir::Post), false);
        add(HYPO_BOTH, trig(Hypothetical, Dir::Both), false);
        add(PSEUDO, Entry::Pseudo, false);
        add(
            TERM_ALL,
            Entry::Terminator {
                mask: ALL,
                pre_only: false,
            },
            false,
        );
        add(
            TERM_FAMILY,
            Entry::Terminator {
                mask: Family.bit(),
                pre_only: false,
            },
            false,
        );
        add(
            TERM_HISTORICAL,
            Entry::Terminator {
                mask: Historical.bit(),
                pre_only: false,
            },
            false,
        );
        add(
            &[":"],
            Entry::Terminator {
                mask: ALL,
                pre_only: true,
            },
            false,
        );
        for r in RELATIVES {
            list.push((r.to_string(), trig(Family, Dir::Pre), false));
            for pat in [
                "in",
                "in her",
                "in his",
                "in the",
                "in a",
                "in their",
                "in patient's",
                "in the patient's",
                "-",
                ":",
                "(",
            ] {
                list.push((format!("{pat} {r}"), trig(Family, Dir::Post), false));
            }
        }
        let mut by_first: HashMap<String, Vec<Phrase>> = HashMap::new();
        let mut seen: std::collections::HashSet<(Vec<String>, bool, String)> =
            std::collections::HashSet::new();
        for (p, entry, at_end) in list {
            let words: Vec<String> = tokenize(&p)
                .into_iter()
                .map(|t| key(&t.lower).into_owned())
                .collect();
            if words.is_empty() {
                continue;
            }
            // The first registration of identical words (and end flag) wins,
            // except that a Both entry is kept alongside others.
            let sig = (words.clone(), at_end, format!("{entry:?}"));
            if !seen.insert(sig) {
                continue;
            }
            by_first.entry(words[0].clone()).or_default().push(Phrase {
                words: words.into_boxed_slice(),
                entry,
                at_end,
            });
        }
        for v in by_first.values_mut() {
            // Longest first; among equal lengths, end-anchored variants first.
            v.sort_by(|a, b| {
                b.words
                    .len()
                    .cmp(&a.words.len())
                    .then(b.at_end.cmp(&a.at_end))
            });
        }
        ContextAnalyzer { by_first }
    }

    fn match_at(&self, tokens: &[Token], i: usize, end: usize) -> Option<(usize, Entry)> {
        let cands = self.by_first.get(key(&tokens[i].lower).as_ref())?;
        'outer: for p in cands {
            let len = p.words.len();
            if i + len > end {
                continue;
            }
            for (k, w) in p.words.iter().enumerate().skip(1) {
                if key(&tokens[i + k].lower).as_ref() != w.as_str() {
                    continue 'outer;
                }
            }
            if p.at_end
                && i + len < end
                && tokens[i + len].kind != TokenKind::Punct
                && !AFTER_END_OK.contains(&tokens[i + len].lower.as_str())
            {
                continue;
            }
            return Some((len, p.entry));
        }
        None
    }

    fn scan(&self, tokens: &[Token], s0: usize, s1: usize) -> Vec<Match> {
        let mut out = Vec::new();
        let mut i = s0;
        while i < s1 {
            if let Some((len, entry)) = self.match_at(tokens, i, s1) {
                out.push(Match {
                    start: i,
                    end: i + len,
                    entry,
                });
                i += len;
            } else {
                i += 1;
            }
        }
        out
    }

    /// Analyzes the mention covering token indices `target` (global indices
    /// into `tokens`) inside `sentence`, in a section of kind `section`.
    pub fn analyze(
        &self,
        text: &str,
        tokens: &[Token],
        sentence: &Sentence,
        target: Range<usize>,
        section: SectionKind,
    ) -> Context {
        self.analyze_all(
            text,
            tokens,
            sentence,
            std::slice::from_ref(&target),
            section,
        )
        .pop()
        .unwrap_or_default()
    }

    /// Analyzes several mentions of one sentence, scanning the sentence's
    /// triggers (and finding its section header) once.
    pub fn analyze_all(
        &self,
        text: &str,
        tokens: &[Token],
        sentence: &Sentence,
        targets: &[Range<usize>],
        section: SectionKind,
    ) -> Vec<Context> {
        let header = (section.is_historical() || section.is_family()).then(|| {
            find_header(text, sentence.start, section).unwrap_or((sentence.start, sentence.start))
        });
        self.analyze_all_with_header(text, tokens, sentence, targets, section, header)
    }

    /// As [`ContextAnalyzer::analyze_all`], for a caller that already knows
    /// the section and its header span (from [`crate::sections`]): no search
    /// back through the note for the header.
    pub fn analyze_in_section(
        &self,
        text: &str,
        tokens: &[Token],
        sentence: &Sentence,
        targets: &[Range<usize>],
        section: &crate::Section,
    ) -> Vec<Context> {
        let header = (section.kind.is_historical() || section.kind.is_family())
            .then(|| section.header.unwrap_or((sentence.start, sentence.start)));
        self.analyze_all_with_header(text, tokens, sentence, targets, section.kind, header)
    }

    fn analyze_all_with_header(
        &self,
        text: &str,
        tokens: &[Token],
        sentence: &Sentence,
        targets: &[Range<usize>],
        section: SectionKind,
        header: Option<(usize, usize)>,
    ) -> Vec<Context> {
        let s0 = sentence.tokens.start.min(tokens.len());
        let s1 = sentence.tokens.end.min(tokens.len()).max(s0);
        let matches = self.scan(tokens, s0, s1);
        // Terminator masks per token: (all scopes, pre-trigger scopes).
        let mut term = vec![(0u8, 0u8); s1 - s0];
        for m in &matches {
            if let Entry::Terminator { mask, pre_only } = m.entry {
                for slot in &mut term[m.start - s0..m.end - s0] {
                    if pre_only {
                        slot.1 |= mask;
                    } else {
                        slot.0 |= mask;
                    }
                }
            }
        }
        // Trigger kinds starting at each token: a scope ends where a trigger
        // of another kind begins ("without allergies, with a history of
        // hypertension": the history is not negated).
        let mut starts = vec![0u8; s1 - s0];
        for m in &matches {
            if let Entry::Trigger { kind, .. } = m.entry
                && let Some(slot) = starts.get_mut(m.start - s0)
            {
                *slot |= kind.bit();
            }
        }
        let in_scope = |from: usize, to: usize, kind: ContextKind, pre: bool| -> bool {
            let (max_item, max_total) = if pre {
                (PRE_MAX_ITEM, PRE_MAX_TOTAL)
            } else {
                (POST_MAX_ITEM, POST_MAX_TOTAL)
            };
            let span = to.saturating_sub(from);
            if span > LIST_MAX_TOTAL {
                return false;
            }
            let bit = kind.bit();
            let mut item = 0usize;
            let mut separators = 0usize;
            for j in from..to {
                let (all, pre_m) = term[j - s0];
                if all & bit != 0 || (pre && pre_m & bit != 0) {
                    return false;
                }
                if j > from && starts[j - s0] & !bit != 0 {
                    return false;
                }
                if is_separator(&tokens[j].lower) {
                    item = 0;
                    separators += 1;
                } else {
                    item += 1;
                    if item > max_item {
                        return false;
                    }
                }
            }
            span <= max_total || separators >= LIST_MIN_SEPARATORS
        };
        let mut out = Vec::with_capacity(targets.len());
        for target in targets {
            let mut ctx = Context::default();
            let a = target.start.clamp(s0, s1);
            let b = target.end.clamp(a, s1);
            if a < b {
                for m in &matches {
                    let Entry::Trigger { kind, dir } = m.entry else {
                        continue;
                    };
                    let applies = if m.start < a && m.end > a {
                        // A trigger running into the mention ("no acute" before
                        // "acute hemorrhage").
                        matches!(dir, Dir::Pre | Dir::Both)
                    } else if m.end <= a {
                        matches!(dir, Dir::Pre | Dir::Both) && in_scope(m.end, a, kind, true)
                    } else if m.start >= b {
                        matches!(dir, Dir::Post | Dir::Both) && in_scope(b, m.start, kind, false)
                    } else {
                        false
                    };
                    if applies {
                        let (cs, ce) = (tokens[m.start].start, tokens[m.end - 1].end);
                        ctx.set(kind, cs, ce, text);
                    }
                }
            }
            if let Some((hs, he)) = header {
                let kind = if section.is_family() {
                    Family
                } else {
                    Historical
                };
                ctx.set(kind, hs, he, text);
            }
            // The family member's past is not the patient's history.
            if ctx.family && ctx.historical {
                ctx.historical = false;
                ctx.cues.retain(|c| c.kind != Historical);
            }
            ctx.cues.sort_by_key(|c| (c.start, c.end));
            out.push(ctx);
        }
        out
    }
}

/// Finds the span of the header of the section of kind `kind` that contains
/// `pos`, scanning back over header candidates (bounded).
fn find_header(text: &str, pos: usize, kind: SectionKind) -> Option<(usize, usize)> {
    const MAX_BACK: usize = 256 * 1024;
    let pos = pos.min(text.len());
    let limit = pos.saturating_sub(MAX_BACK);
    let mut q = pos;
    loop {
        if let Some(h) = header_candidate(text, q)
            && h.start <= pos
        {
            return (h.kind == kind).then_some((h.start, h.end));
        }
        if q == 0 || q <= limit {
            return None;
        }
        q -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentence::sentences;

    /// Analyzes the first occurrence of `target` in `text`.
    fn ctx_in(text: &str, target: &str, section: SectionKind) -> Context {
        let an = ContextAnalyzer::new();
        let toks = tokenize(text);
        let sents = sentences(text, &toks);
        let at = text.find(target).expect("target in text");
        let end = at + target.len();
        let a = toks.iter().position(|t| t.start >= at).unwrap();
        let b = toks
            .iter()
            .position(|t| t.start >= end)
            .unwrap_or(toks.len());
        let s = sents.iter().find(|s| s.tokens.contains(&a)).unwrap();
        an.analyze(text, &toks, s, a..b, section)
    }

    fn ctx(text: &str, target: &str) -> Context {
        ctx_in(text, target, SectionKind::Hpi)
    }

    #[test]
    fn list_negation() {
        for t in ["fever", "chills", "cough"] {
            let c = ctx("No fever, chills or cough.", t);
            assert!(c.negated, "{t}");
            assert_eq!(c.cues[0].text, "No");
            assert_eq!((c.cues[0].start, c.cues[0].end), (0, 2));
        }
    }

    #[test]
    fn long_review_of_systems_denial_list() {
        // A review of systems often denies twenty conditions in one
        // sentence; every item is negated, up to the end of the list.
        let text = "Specifically denies chest pain, palpitations, heart failure, \
                    irregular heartbeat, fainting, leg swelling, high blood pressure, \
                    stroke, wheezing, asthma, chronic cough, emphysema, sleep apnea, \
                    diabetes, joint pain, gout, reflux, peptic ulcer disease, \
                    gallstones, jaundice, hemorrhoids, or rectal bleeding.";
        for t in [
            "chest pain",
            "high blood pressure",
            "emphysema",
            "peptic ulcer disease",
            "rectal bleeding",
        ] {
            assert!(ctx_in(text, t, SectionKind::Ros).negated, "{t}");
        }
        // Without a list, a far-away target stays out of scope.
        let prose = "Denies pain in the chest when he walks up the long hill to the old school \
                     house at the end of the road near the river where he lived as a boy and \
                     where his brother now lives with a dog, and reports asthma.";
        assert!(!ctx(prose, "asthma").negated);
        // A terminator still ends a list scope.
        let c = ctx(
            "Denies fever, chills, cough, nausea, vomiting, but reports asthma.",
            "asthma",
        );
        assert!(!c.negated);
    }

    #[test]
    fn another_trigger_ends_a_scope() {
        let text = "A man without known allergies, with a history of diabetes, asthma and gout.";
        let c = ctx(text, "asthma");
        assert!(!c.negated && c.historical, "{c:?}");
        assert!(ctx(text, "allergies").negated);
    }

    #[test]
    fn terminator_but() {
        assert!(ctx("Denies chest pain but reports dyspnea.", "chest pain").negated);
        let c = ctx("Denies chest pain but reports dyspnea.", "dyspnea");
        assert!(c.is_affirmed_current(), "{c:?}");
    }

    #[test]
    fn kinds() {
        assert!(ctx("History of duodenal ulcer.", "duodenal ulcer").historical);
        let c = ctx("Mother has breast cancer.", "breast cancer");
        assert!(c.family && !c.negated);
        assert!(ctx("Rule out pneumonia.", "pneumonia").uncertain);
        assert!(ctx("Return if fever develops.", "fever").hypothetical);
        let c = ctx("Pneumonia was ruled out.", "Pneumonia");
        assert!(c.negated && !c.uncertain);
        assert!(ctx("Compatible with renoureteral colic.", "renoureteral colic").uncertain);
    }

    #[test]
    fn pseudo_triggers() {
        assert!(ctx("Gram-negative bacteremia.", "bacteremia").is_affirmed_current());
        assert!(ctx("No change in the hypertension.", "hypertension").is_affirmed_current());
        let c = ctx(
            "Myocardial infarction not ruled out.",
            "Myocardial infarction",
        );
        assert!(c.uncertain && !c.negated);
        assert!(ctx("History of present illness: pneumonia.", "pneumonia").is_affirmed_current());
    }

    #[test]
    fn section_implied() {
        let note = "PAST MEDICAL HISTORY:\nHypertension.\nFAMILY HISTORY:\nDiabetes.\nASSESSMENT:\nPneumonia.";
        let c = ctx_in(note, "Hypertension", SectionKind::PastMedicalHistory);
        assert!(c.historical);
        assert_eq!(c.cues[0].text, "PAST MEDICAL HISTORY");
        let c = ctx_in(note, "Diabetes", SectionKind::FamilyHistory);
        assert!(c.family && !c.historical);
        assert_eq!(c.cues[0].text, "FAMILY HISTORY");
        assert!(ctx_in(note, "Pneumonia", SectionKind::Assessment).is_affirmed_current());
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)] // deliberately malformed input
    fn out_of_range_target_is_safe() {
        let an = ContextAnalyzer::default();
        let text = "no fever";
        let toks = tokenize(text);
        let s = Sentence {
            start: 0,
            end: 8,
            tokens: 0..2,
            list_item: false,
        };
        let c = an.analyze(text, &toks, &s, 5..9, SectionKind::Hpi);
        assert!(c.is_affirmed_current());
        let bogus = Sentence {
            start: 100,
            end: 3,
            tokens: 7..1,
            list_item: false,
        };
        let _ = an.analyze(text, &toks, &bogus, 0..100, SectionKind::PastMedicalHistory);
        let _ = an.analyze("", &[], &bogus, 0..1, SectionKind::FamilyHistory);
    }
}
