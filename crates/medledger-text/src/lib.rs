//! Clinical text processing for medledger: tokens with exact byte offsets,
//! sentences and list items, section headers, ConText-style assertion
//! analysis (negation, uncertainty, history, family, hypothetical),
//! morphology (spelling variants, equivalent forms, stemming), clinical
//! abbreviations and byte-to-char offset conversion.
//!
//! Everything is hand-written linear scanning over precomputed tables; no
//! function panics on any input.

pub mod abbrev;
pub mod context;
pub mod morph;
pub mod offsets;
pub mod section;
pub mod sentence;
pub mod token;

pub use context::{Context, ContextAnalyzer, ContextKind, Cue};
pub use offsets::CharIndex;
pub use section::{Section, SectionKind, section_at, sections};
pub use sentence::{Sentence, sentences, sentences_and_sections};
pub use token::{Token, TokenKind, tokenize};
