//! The medledger coding engine: a clinical note becomes suggested ICD-10-CM
//! codes (with ICD-11 companions), each grounded in evidence spans of the
//! note, with the logic that produced it and a confidence.
//!
//! Pipeline: [`matcher::annotate`] (tokens, sentences, sections, concepts)
//! -> [`matcher::find_mentions`] (dictionary terms, order-free within a
//! sentence) -> context (negation, uncertainty, history, family,
//! hypothetical) -> guideline policy -> candidates -> confidence (learned
//! re-ranker from [`train::learn`] or the dictionary estimate) ->
//! combination and additional codes, Excludes1 -> ordered suggestions.

pub mod align;
pub mod coder;
pub mod dict;
pub mod error;
pub mod eval;
pub mod fuzzing;
pub mod laterality;
pub mod lexicon;
pub mod matcher;
pub mod model;
pub mod neighbours;
pub mod numeric;
pub mod train;

pub use coder::{Coder, CoderOptions, CodingResult, Encounter, Setting, Sex, Suggestion};
pub use error::{CoderError, Result};
pub use matcher::Scratch;
pub use model::Model;
