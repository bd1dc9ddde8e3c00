//! One note analysed once: tokens, sentences, sections, context and the
//! byte ↔ code point map.

use std::ops::Range;

use medledger_text::{
    CharIndex, ContextAnalyzer, Section, SectionKind, Sentence, Token, sentences_and_sections,
    tokenize,
};

pub(crate) struct Note<'a> {
    pub text: &'a str,
    /// ASCII-lower-cased copy (same byte offsets).
    pub lower: String,
    pub tokens: Vec<Token>,
    pub sentences: Vec<Sentence>,
    pub sections: Vec<Section>,
    pub chars: CharIndex,
    analyzer: ContextAnalyzer,
}

impl<'a> Note<'a> {
    pub fn new(text: &'a str) -> Note<'a> {
        let tokens = tokenize(text);
        let (sentences, sections) = sentences_and_sections(text, &tokens);
        Note {
            text,
            lower: text.to_ascii_lowercase(),
            tokens,
            sentences,
            sections,
            chars: CharIndex::new(text),
            analyzer: ContextAnalyzer::new(),
        }
    }

    pub fn cp(&self, byte: usize) -> usize {
        self.chars.char_offset(byte)
    }

    pub fn byte(&self, cp: usize) -> Option<usize> {
        self.chars.byte_offset(cp)
    }

    /// The section holding a byte offset.
    pub fn section_of(&self, byte: usize) -> Option<&Section> {
        self.sections
            .iter()
            .rev()
            .find(|s| s.start <= byte && byte < s.end.max(s.start + 1))
    }

    pub fn section_kind(&self, byte: usize) -> SectionKind {
        self.section_of(byte)
            .map(|s| s.kind)
            .unwrap_or(SectionKind::Preamble)
    }

    /// Index of the sentence holding a byte offset.
    pub fn sentence_of(&self, byte: usize) -> Option<usize> {
        self.sentences
            .iter()
            .position(|s| s.start <= byte && byte < s.end)
    }

    /// Token indices overlapping a byte range.
    fn token_range(&self, start: usize, end: usize) -> Range<usize> {
        let a = self.tokens.partition_point(|t| t.end <= start);
        let b = self.tokens.partition_point(|t| t.start < end);
        a..b.max(a)
    }

    /// Whether the words at [start, end) in sentence `si` are negated (or
    /// hypothetical: "if needed start insulin").
    pub fn is_negated(&self, si: usize, start: usize, end: usize) -> bool {
        let Some(sentence) = self.sentences.get(si) else {
            return false;
        };
        let target = self.token_range(start, end);
        if target.is_empty() {
            return false;
        }
        let kind = self.section_kind(start);
        let ctx = match self.section_of(start) {
            Some(sec) => self
                .analyzer
                .analyze_in_section(self.text, &self.tokens, sentence, &[target], sec)
                .pop()
                .unwrap_or_default(),
            None => self
                .analyzer
                .analyze(self.text, &self.tokens, sentence, target, kind),
        };
        ctx.negated || ctx.hypothetical
    }

    pub fn slice(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or("")
    }
}
