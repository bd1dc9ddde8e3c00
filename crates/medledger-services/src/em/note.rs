//! One note, annotated once: tokens, sentences, sections (medledger-text),
//! every lexicon hit with its sentence, and the context assertions of each
//! hit from the medledger-text analyser.

use medledger_text::{
    CharIndex, ContextAnalyzer, Section, SectionKind, Sentence, Token, TokenKind,
    sentences_and_sections, tokenize,
};

use super::lexicon::{self, LexId};
use super::ruleset::{ContextMode, Region, Ruleset};
use crate::rules::Evidence;

pub(crate) const NEGATED: u8 = 1;
pub(crate) const UNCERTAIN: u8 = 2;
pub(crate) const HISTORICAL: u8 = 4;
pub(crate) const FAMILY: u8 = 8;
pub(crate) const HYPOTHETICAL: u8 = 16;

/// A lexicon hit in the note.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoteHit {
    pub lex: LexId,
    pub entry: u32,
    /// Token range.
    pub start: usize,
    pub end: usize,
    pub sent: usize,
    /// Context bits (NEGATED, ...), from cues outside the hit itself.
    pub flags: u8,
    /// Tokens between the hit and its nearest negation cue.
    pub neg_gap: usize,
}

pub(crate) struct Note<'a> {
    pub text: &'a str,
    pub tokens: Vec<Token>,
    pub sentences: Vec<Sentence>,
    pub sent_kind: Vec<SectionKind>,
    /// Index of each sentence's section in `sections`, if any.
    pub sent_section: Vec<Option<usize>>,
    pub hits: Vec<NoteHit>,
    /// Range of `hits` per sentence.
    pub sent_hits: Vec<(usize, usize)>,
    pub chars: CharIndex,
    pub has_problem_sections: bool,
    rules: &'a Ruleset,
}

fn section_index(sections: &[Section], byte: usize) -> Option<usize> {
    let key = |s: &Section| s.header.map(|h| h.0).unwrap_or(s.start);
    sections.partition_point(|s| key(s) <= byte).checked_sub(1)
}

impl<'a> Note<'a> {
    pub fn analyze(text: &'a str, rules: &'a Ruleset, analyzer: &ContextAnalyzer) -> Note<'a> {
        let tokens = tokenize(text);
        let (sentences, sections) = sentences_and_sections(text, &tokens);
        let raw = {
            let keys = lexicon::keys(&tokens);
            rules.matcher.scan(&keys)
        };
        let mut tok_sent = vec![0usize; tokens.len()];
        for (i, s) in sentences.iter().enumerate() {
            for t in s.tokens.clone() {
                if let Some(slot) = tok_sent.get_mut(t) {
                    *slot = i;
                }
            }
        }
        let sent_section: Vec<Option<usize>> = sentences
            .iter()
            .map(|s| section_index(&sections, s.start))
            .collect();
        let mut sent_kind: Vec<SectionKind> = sent_section
            .iter()
            .map(|i| i.map_or(SectionKind::Preamble, |i| sections[i].kind))
            .collect();
        let mut hits: Vec<NoteHit> = raw
            .into_iter()
            .map(|h| NoteHit {
                lex: h.lex,
                entry: h.entry,
                start: h.start,
                end: h.end,
                sent: tok_sent.get(h.start).copied().unwrap_or(0),
                flags: 0,
                neg_gap: usize::MAX,
            })
            .collect();
        // Hits are ordered by start token, so each sentence's hits are a
        // contiguous run.
        hits.sort_by_key(|h| (h.start, h.lex, h.end));
        let mut sent_hits = vec![(0usize, 0usize); sentences.len()];
        let mut i = 0usize;
        for (s, slot) in sent_hits.iter_mut().enumerate() {
            let begin = i;
            while i < hits.len() && hits[i].sent == s {
                i += 1;
            }
            *slot = (begin, i);
        }
        let preamble = Section {
            kind: SectionKind::Preamble,
            header: None,
            start: 0,
            end: text.len(),
        };
        for (s, &(a, b)) in sent_hits.iter().enumerate() {
            let wanted: Vec<usize> = (a..b)
                .filter(|&k| {
                    let h = &hits[k];
                    h.lex == rules.lex.test
                        || rules.lexicons.get(h.lex as usize).map(|l| l.context)
                            != Some(ContextMode::Any)
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let sentence = &sentences[s];
            let s_end = sentence.tokens.end.min(tokens.len());
            let targets: Vec<std::ops::Range<usize>> = wanted
                .iter()
                .map(|&k| {
                    let h = &hits[k];
                    h.start..h.end.min(s_end).max(h.start + 1)
                })
                .collect();
            let section = sent_section[s].map_or(&preamble, |i| &sections[i]);
            let found = analyzer.analyze_in_section(text, &tokens, sentence, &targets, section);
            for (&k, ctx) in wanted.iter().zip(found) {
                let h = &mut hits[k];
                let (hs, he) = (tokens[h.start].start, tokens[h.end - 1].end);
                let mut flags = 0u8;
                let mut neg_gap = usize::MAX;
                for cue in &ctx.cues {
                    // A trigger inside the phrase itself ("no insurance",
                    // "not controlled") belongs to the phrase.
                    if cue.end > hs && cue.start < he && cue.end != cue.start {
                        continue;
                    }
                    if cue.kind == medledger_text::ContextKind::Negated {
                        let cue_start = tokens.partition_point(|t| t.end <= cue.start);
                        let cue_end = tokens.partition_point(|t| t.start < cue.end);
                        let gap = if cue_end <= h.start {
                            h.start - cue_end
                        } else {
                            cue_start.saturating_sub(h.end)
                        };
                        neg_gap = neg_gap.min(gap);
                    }
                    flags |= match cue.kind {
                        medledger_text::ContextKind::Negated => NEGATED,
                        medledger_text::ContextKind::Uncertain => UNCERTAIN,
                        medledger_text::ContextKind::Historical => HISTORICAL,
                        medledger_text::ContextKind::Family => FAMILY,
                        medledger_text::ContextKind::Hypothetical => HYPOTHETICAL,
                    };
                }
                h.flags = flags;
                h.neg_gap = neg_gap;
            }
        }
        // "MDM:" paragraphs read as assessment and plan until the next
        // section header.
        let mut override_in: Option<Option<usize>> = None;
        let mut overridden = false;
        for (s, sentence) in sentences.iter().enumerate() {
            if override_in.is_some_and(|sec| sec != sent_section[s]) {
                override_in = None;
            }
            let (a, b) = sent_hits[s];
            if hits[a..b]
                .iter()
                .any(|h| h.lex == rules.lex.mdm_header && h.start == sentence.tokens.start)
            {
                override_in = Some(sent_section[s]);
            }
            if override_in.is_some() {
                sent_kind[s] = rules.regions.mdm_header_kind;
                overridden = true;
            }
        }
        let has_problem_sections = overridden
            && rules
                .regions
                .problems
                .contains(&rules.regions.mdm_header_kind)
            || sections
                .iter()
                .any(|s| rules.regions.problems.contains(&s.kind));
        Note {
            text,
            chars: CharIndex::new(text),
            tokens,
            sentences,
            sent_kind,
            sent_section,
            hits,
            sent_hits,
            has_problem_sections,
            rules,
        }
    }

    /// Hits of sentence `s`.
    pub fn sentence_hits(&self, s: usize) -> &[NoteHit] {
        let (a, b) = self.sent_hits.get(s).copied().unwrap_or((0, 0));
        &self.hits[a..b]
    }

    /// Whether the hit survives its lexicon's context mode.
    pub fn passes(&self, h: &NoteHit) -> bool {
        let Some(info) = self.rules.lexicons.get(h.lex as usize) else {
            return true;
        };
        if info
            .negation_window
            .is_some_and(|w| h.flags & NEGATED != 0 && h.neg_gap > w)
        {
            let mut near = *h;
            near.flags &= !NEGATED;
            return self.passes_mode(&near, info.context);
        }
        self.passes_mode(h, info.context)
    }

    pub fn passes_mode(&self, h: &NoteHit, mode: ContextMode) -> bool {
        match mode {
            ContextMode::Affirmed => h.flags & (NEGATED | HYPOTHETICAL | HISTORICAL | FAMILY) == 0,
            ContextMode::NotNegated => h.flags & NEGATED == 0,
            ContextMode::Any => true,
        }
    }

    /// Byte span of a hit.
    pub fn bytes(&self, h: &NoteHit) -> (usize, usize) {
        self.token_bytes(h.start, h.end)
    }

    /// Byte span of tokens `start..end`.
    pub fn token_bytes(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.tokens.get(start).map_or(self.text.len(), |t| t.start);
        let e = end
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(s, |t| t.end)
            .max(s);
        (s, e)
    }

    pub fn evidence(&self, span: (usize, usize)) -> Evidence {
        Evidence::from_bytes(self.text, &self.chars, span.0, span.1)
    }

    /// Whether sentence `s` is in `region`.
    pub fn in_region(&self, region: Region, s: usize) -> bool {
        let Some(&kind) = self.sent_kind.get(s) else {
            return false;
        };
        let r = &self.rules.regions;
        match region {
            Region::Problems => {
                if self.has_problem_sections {
                    r.problems.contains(&kind)
                } else {
                    !r.fallback_excluded.contains(&kind)
                }
            }
            Region::Management => {
                if self.has_problem_sections {
                    r.management.contains(&kind)
                } else {
                    !r.fallback_excluded.contains(&kind)
                }
            }
            Region::Any => !r.any_excluded.contains(&kind),
        }
    }

    pub fn kind_in(&self, s: usize, kinds: &[SectionKind]) -> bool {
        self.sent_kind.get(s).is_some_and(|k| kinds.contains(k))
    }

    /// First hit of `lex` that passes its context mode, in sentences whose
    /// section kind passes `keep`.
    pub fn first_hit(&self, lex: LexId, keep: impl Fn(usize) -> bool) -> Option<&NoteHit> {
        self.hits
            .iter()
            .find(|h| h.lex == lex && self.passes(h) && keep(h.sent))
    }

    /// Whether the sentence starts a numbered list item ("2." "3)" "#").
    pub fn starts_numbered_item(&self, s: usize) -> bool {
        let Some(sentence) = self.sentences.get(s) else {
            return false;
        };
        let first = sentence.tokens.start;
        let (Some(a), b) = (self.tokens.get(first), self.tokens.get(first + 1)) else {
            return false;
        };
        if a.lower == "#" {
            return true;
        }
        a.kind == TokenKind::Number
            && b.is_some_and(|b| b.lower == "." || b.lower == ")")
            && sentence.tokens.len() > 2
    }

    /// Token-distance between two token ranges (0 when they touch).
    pub fn distance(a: (usize, usize), b: (usize, usize)) -> usize {
        if a.1 <= b.0 {
            b.0 - a.1
        } else {
            a.0.saturating_sub(b.1)
        }
    }

    /// Number of tokens equal to `text` strictly between two ranges.
    pub fn count_between(&self, a: (usize, usize), b: (usize, usize), text: &str) -> usize {
        let (from, to) = if a.1 <= b.0 { (a.1, b.0) } else { (b.1, a.0) };
        self.tokens
            .get(from..to.max(from))
            .map_or(0, |ts| ts.iter().filter(|t| t.lower == text).count())
    }
}
