//! Note annotation (tokens, sentences, sections, token concepts) and concept
//! matching against the dictionary.
//!
//! For each sentence the matcher sorts the (concept, token) pairs the
//! sentence contains, then looks up the entries anchored on each of its
//! concepts: an entry matches when every required concept occurs within a
//! window of the sentence, in any order ("fracture of the left distal radius"
//! and "distal radius, left, fractured" both match). Work per sentence is the
//! entries anchored on its concepts, so the cost grows linearly with the note.

use medledger_text::{Section, SectionKind, Sentence, Token, TokenKind};
use rustc_hash::FxHashMap;

use crate::dict::{self, Dictionary};

/// A note split into tokens, sentences and sections, with each token's
/// concepts (CSR layout: `concepts[offsets[t]..offsets[t + 1]]`).
pub struct Annotated<'t> {
    pub text: &'t str,
    pub tokens: Vec<Token>,
    pub sentences: Vec<Sentence>,
    pub sections: Vec<Section>,
    /// Section kind of each sentence.
    pub sentence_section: Vec<SectionKind>,
    /// Index into `sections` of each sentence's section.
    pub sentence_section_idx: Vec<Option<usize>>,
    pub concepts: Vec<u32>,
    pub offsets: Vec<u32>,
}

impl Annotated<'_> {
    pub fn token_concepts(&self, t: usize) -> &[u32] {
        &self.concepts[self.offsets[t] as usize..self.offsets[t + 1] as usize]
    }
}

/// Per-thread memo of token -> concepts, so that each distinct word is
/// stemmed once per worker.
#[derive(Default)]
pub struct Scratch {
    cache: FxHashMap<String, Box<[u32]>>,
    buf: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    /// Per concept: (sentence stamp, range in `pairs`).
    slots: Vec<(u32, u32, u32)>,
    stamp: u32,
}

impl Scratch {
    fn concepts(&mut self, text: &str, tok: &Token, vocab: &dict::Vocab, out: &mut Vec<u32>) {
        let original = &text[tok.start..tok.end];
        if let Some(c) = self.cache.get(original) {
            out.extend_from_slice(c);
            return;
        }
        if self.cache.len() > 200_000 {
            self.cache.clear();
        }
        dict::token_concepts(original, &tok.lower, vocab, &mut self.buf);
        out.extend_from_slice(&self.buf);
        self.cache
            .insert(original.to_string(), self.buf.clone().into_boxed_slice());
    }
}

pub fn annotate<'t>(text: &'t str, dict: &Dictionary, scratch: &mut Scratch) -> Annotated<'t> {
    let tokens = medledger_text::tokenize(text);
    let (sentences, sections) = medledger_text::sentences_and_sections(text, &tokens);
    let sentence_section_idx: Vec<Option<usize>> = sentences
        .iter()
        .map(|s| {
            sections
                .iter()
                .rposition(|x| x.start <= s.start || x.header.is_some_and(|h| h.0 <= s.start))
        })
        .collect();
    let sentence_section = sentences
        .iter()
        .map(|s| medledger_text::section::section_at(&sections, s.start))
        .collect();
    let mut concepts = Vec::with_capacity(tokens.len());
    let mut offsets = Vec::with_capacity(tokens.len() + 1);
    offsets.push(0u32);
    let mut prev_word = "";
    for (i, tok) in tokens.iter().enumerate() {
        // "PE:" and "MS:" label a physical exam and a mental status in a
        // note's layout; they do not name pulmonary embolism or multiple
        // sclerosis.
        let label = matches!(&text[tok.start..tok.end], "PE" | "MS")
            && tokens
                .get(i + 1)
                .is_some_and(|n| &text[n.start..n.end] == ":");
        if label {
            prev_word = "";
        } else if tok.kind != TokenKind::Punct {
            scratch.concepts(text, tok, &dict.vocab, &mut concepts);
            // "hepatitis C", "vitamin D": the letter right after its head.
            if let Some(id) =
                dict::designator(prev_word, &tok.lower).and_then(|d| dict.vocab.get(&d))
            {
                concepts.push(id);
            }
            prev_word = &tok.lower;
        } else {
            prev_word = "";
        }
        offsets.push(concepts.len() as u32);
    }
    Annotated {
        text,
        tokens,
        sentences,
        sections,
        sentence_section,
        sentence_section_idx,
        concepts,
        offsets,
    }
}

/// Words that say what follows them is absent ("without aura", "no
/// murmurs"); the coder's gap negation reads them too, with "not"/"nor".
pub const ABSENCE_WORDS: &[&str] = &["without", "no", "w/o"];

/// Words that do not count in a mention's window.
const FREE_IN_GAP: &[&str] = &["of", "the", "a", "an", "in", "on", "at", "to"];

/// One match of a dictionary entry in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub entry: u32,
    pub sentence: u32,
    /// Token indices of the matched words, sorted.
    pub tokens: Vec<u32>,
    /// Tokens from the first to the last matched word, less the articles
    /// and prepositions between them.
    pub window: u32,
    /// Optional (generic) concepts of the entry found in the window.
    pub optional_found: u32,
    /// Set when a longer match in the same sentence covers these tokens.
    pub subsumed_by: Option<u32>,
    /// A learned phrase inside a longer match of another code: kept as a
    /// mention of its own (a history may code the head word separately,
    /// as CodiEsp codes "enfermedad" in "enfermedad de Crohn"); the
    /// re-ranker sees that it is nested.
    pub nested: bool,
}

impl Mention {
    pub fn contiguous(&self) -> bool {
        self.window as usize <= self.tokens.len() + 1
    }
}

/// The sentence's (concept, token) pairs, sorted, with a dense per-concept
/// index (stamped per sentence, so it is never cleared).
struct SentenceConcepts<'a> {
    pairs: &'a [(u32, u32)],
    slots: &'a [(u32, u32, u32)],
    stamp: u32,
    /// Tokens just after "without"/"no" (within two words), sorted, each
    /// with the position of its "without"/"no".
    excluded: &'a [(u32, u32)],
}

impl SentenceConcepts<'_> {
    /// The "without"/"no" before token `t`, when `t` is one it excludes.
    fn excluded_by(&self, t: u32) -> Option<u32> {
        self.excluded
            .binary_search_by_key(&t, |x| x.0)
            .ok()
            .map(|i| self.excluded[i].1)
    }
}

impl SentenceConcepts<'_> {
    #[inline]
    fn positions(&self, concept: u32) -> &[(u32, u32)] {
        match self.slots.get(concept as usize) {
            Some(&(st, lo, hi)) if st == self.stamp => &self.pairs[lo as usize..hi as usize],
            _ => &[],
        }
    }
}

/// All mentions of dictionary entries in the note, with subsumption marked.
pub fn find_mentions(note: &Annotated, dict: &Dictionary, scratch: &mut Scratch) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut pairs_buf = std::mem::take(&mut scratch.pairs);
    for (si, s) in note.sentences.iter().enumerate() {
        let pairs = &mut pairs_buf;
        pairs.clear();
        for t in s.tokens.clone() {
            for &c in note.token_concepts(t) {
                pairs.push((c, t as u32));
            }
        }
        if pairs.is_empty() {
            continue;
        }
        pairs.sort_unstable();
        pairs.dedup();
        if scratch.slots.len() < dict.vocab.len() {
            scratch.slots.resize(dict.vocab.len(), (0, 0, 0));
        }
        scratch.stamp = scratch.stamp.wrapping_add(1);
        if scratch.stamp == 0 {
            scratch.slots.iter_mut().for_each(|s| *s = (0, 0, 0));
            scratch.stamp = 1;
        }
        let stamp = scratch.stamp;
        let mut i = 0;
        while i < pairs.len() {
            let c = pairs[i].0;
            let mut j = i;
            while j < pairs.len() && pairs[j].0 == c {
                j += 1;
            }
            if let Some(slot) = scratch.slots.get_mut(c as usize) {
                *slot = (stamp, i as u32, j as u32);
            }
            i = j;
        }
        // Tokens right after "without"/"no" ("without complications"):
        // such a word does not count as an entry's optional concept found,
        // or "with other specified complication" would outrank "without
        // complications".
        let excluded: Vec<(u32, u32)> = s
            .tokens
            .clone()
            .filter_map(|t| {
                (t.saturating_sub(2)..t)
                    .rev()
                    .find(|&p| {
                        p >= s.tokens.start
                            && ABSENCE_WORDS.contains(&note.tokens[p].lower.as_str())
                    })
                    .map(|p| (t as u32, p as u32))
            })
            .collect();
        let sc = SentenceConcepts {
            pairs,
            slots: &scratch.slots,
            stamp,
            excluded: &excluded,
        };
        let signature = sc
            .pairs
            .iter()
            .fold(0u128, |m, &(c, _)| m | dict::concept_bit(c));
        let first = out.len();
        let mut prev = u32::MAX;
        for &(c, _) in sc.pairs.iter() {
            if c == prev {
                continue;
            }
            prev = c;
            let Some(list) = dict.anchors.get(&c) else {
                continue;
            };
            for &(ei, mask) in list {
                if mask & !signature != 0 {
                    continue;
                }
                let e = &dict.entries[ei as usize];
                if let Some(m) = match_entry(e, ei, si as u32, &sc, c, &dict.vocab) {
                    out.push(m);
                }
            }
        }
        // Articles and prepositions in a gap do not part a term ("malignant
        // neoplasm of the adrenal gland" is one phrase); a conjunction, a
        // sign or a content word does ("hypertension and an unrelated
        // cardiac arrhythmia").
        for m in &mut out[first..] {
            let (lo, hi) = (m.tokens[0], m.tokens[m.tokens.len() - 1]);
            let free = (lo..=hi)
                .filter(|t| {
                    m.tokens.binary_search(t).is_err()
                        && FREE_IN_GAP.contains(&note.tokens[*t as usize].lower.as_str())
                })
                .count() as u32;
            m.window = hi - lo + 1 - free;
        }
        mark_subsumed(&mut out[first..], first as u32, dict);
    }
    scratch.pairs = pairs_buf;
    out
}

fn match_entry(
    e: &dict::Entry,
    ei: u32,
    sentence: u32,
    sc: &SentenceConcepts,
    anchor: u32,
    vocab: &dict::Vocab,
) -> Option<Mention> {
    let numeric = |c: u32| vocab.word(c).bytes().all(|b| b.is_ascii_digit());
    let n = e.required.len();
    let limit = if e.contiguous { n + 2 } else { 2 * n + 6 };
    if e.required.iter().any(|&r| sc.positions(r).is_empty()) {
        return None;
    }
    let mut best: Option<(u32, Vec<u32>)> = None;
    for &(_, p) in sc.positions(anchor) {
        let mut toks: Vec<u32> = Vec::with_capacity(n + 2);
        let mut ok = true;
        for &r in &e.required {
            let occ = sc.positions(r);
            if occ.is_empty() {
                ok = false;
                break;
            }
            let nearest = occ
                .iter()
                .map(|x| x.1)
                .min_by_key(|t| t.abs_diff(p))
                .unwrap_or(p);
            toks.push(nearest);
        }
        if !ok {
            return None;
        }
        // A number (a stage, a type) counts only next to the words it qualifies.
        let words: Vec<u32> = e
            .required
            .iter()
            .zip(&toks)
            .filter(|(r, _)| !numeric(**r))
            .map(|(_, t)| *t)
            .collect();
        if e.required
            .iter()
            .zip(&toks)
            .any(|(r, t)| numeric(*r) && !words.iter().any(|w| w.abs_diff(*t) <= 2))
        {
            continue;
        }
        toks.sort_unstable();
        toks.dedup();
        let (lo, hi) = (toks[0], toks[toks.len() - 1]);
        let window = hi - lo + 1;
        if window as usize > limit {
            continue;
        }
        // A word of the term that the note says is absent, after another
        // of its words ("migraine without aura" is not migraine with aura);
        // a "no" before the whole term is the context's to read.
        if toks
            .iter()
            .any(|&t| sc.excluded_by(t).is_some_and(|q| q > lo))
        {
            continue;
        }
        if best.as_ref().is_none_or(|(w, _)| window < *w) {
            best = Some((window, toks));
        }
    }
    let (window, mut toks) = best?;
    let (lo, hi) = (toks[0], toks[toks.len() - 1]);
    // What the term says is absent, the note must say is absent right
    // after the term's words: "migraine without aura".
    for &a in &e.absent {
        let (t, q) = sc
            .positions(a)
            .iter()
            .filter_map(|x| sc.excluded_by(x.1).map(|q| (x.1, q)))
            .find(|&(t, q)| q > lo && t <= hi + 4)?;
        toks.push(q);
        toks.push(t);
    }
    let mut optional_found = 0;
    for &o in &e.optional {
        if let Some(t) = sc
            .positions(o)
            .iter()
            .map(|x| x.1)
            .find(|t| *t + 3 >= lo && *t <= hi + 3 && sc.excluded_by(*t).is_none())
        {
            optional_found += 1;
            toks.push(t);
        }
    }
    toks.sort_unstable();
    toks.dedup();
    Some(Mention {
        entry: ei,
        sentence,
        tokens: toks,
        window,
        optional_found,
        subsumed_by: None,
        nested: false,
    })
}

fn is_strict_subset(a: &[u32], b: &[u32]) -> bool {
    a.len() < b.len() && a.iter().all(|x| b.binary_search(x).is_ok())
}

/// Marks mentions whose tokens are a strict subset of another mention's in
/// the same sentence (the longer, more specific term wins), except a
/// learned phrase inside a longer match of another code, or a term inside a
/// gapped match, which stays a mention marked [`Mention::nested`].
fn mark_subsumed(ms: &mut [Mention], base: u32, dict: &Dictionary) {
    let n = ms.len();
    for i in 0..n {
        let ei = &dict.entries[ms[i].entry as usize];
        let learned = ei.source == dict::TermSource::Learned;
        let mut by: Option<(usize, u32)> = None;
        let mut nested = false;
        for j in 0..n {
            if i != j && is_strict_subset(&ms[i].tokens, &ms[j].tokens) {
                // A learned phrase, or any term inside a gapped match or a
                // learned phrase, stays a candidate of its own: the gapped
                // reading is the weaker one, and a learned phrase may span
                // two conditions ("obesity, hypertension" learned for I10).
                let outer = &dict.entries[ms[j].entry as usize];
                if (learned || !ms[j].contiguous() || outer.source == dict::TermSource::Learned)
                    && outer.key != ei.key
                {
                    nested = true;
                    continue;
                }
                let len = ms[j].tokens.len();
                if by.is_none_or(|(l, _)| len > l) {
                    by = Some((len, base + j as u32));
                }
            }
        }
        ms[i].subsumed_by = by.map(|(_, j)| j);
        ms[i].nested = nested && ms[i].subsumed_by.is_none();
    }
}
