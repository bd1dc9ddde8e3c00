//! Typed errors of the coding engine. Messages say what and where, and never
//! carry note text (notes are PHI).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CoderError {
    #[error("note {id}: not valid UTF-8 (first invalid byte at offset {byte})")]
    InvalidUtf8 { id: String, byte: usize },
    #[error("note {id}: empty (no text to code)")]
    Empty { id: String },
    #[error(
        "note {id}: {size} bytes is over the size limit of {limit} bytes (set a larger limit to code it)"
    )]
    TooLarge {
        id: String,
        size: usize,
        limit: usize,
    },
    #[error(
        "no ICD-10-CM release is installed{for_dos}; install one with `medledger codesets install`"
    )]
    NoRelease { for_dos: String },
    #[error(transparent)]
    Codesets(#[from] medledger_codesets::Error),
    #[error("model file {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = CoderError> = std::result::Result<T, E>;
