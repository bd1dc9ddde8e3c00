//! Errors of the denial crate: what went wrong and where.

use std::path::PathBuf;

/// A denial-model error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DenialError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model or history file is not valid JSON of the expected shape.
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde said.
        message: String,
    },
    /// A model file of another format version.
    #[error("{path}: model format {found}, this build reads format {expected}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Its `format`.
        found: u32,
        /// Ours.
        expected: u32,
    },
    /// A model file whose content hash does not match its content.
    #[error(
        "{path}: content hash {stored} does not match the content ({computed}); the file was changed after it was written"
    )]
    Hash {
        /// The file.
        path: PathBuf,
        /// The hash written in the file.
        stored: String,
        /// The hash of what is there.
        computed: String,
    },
    /// A simulator setting out of range.
    #[error("simulator setting `{field}`: {message}")]
    Config {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Not enough labelled claims to train or evaluate.
    #[error("{what}: {message}")]
    Data {
        /// Which step.
        what: String,
        /// What is missing.
        message: String,
    },
}

impl DenialError {
    /// A JSON error located in `path`.
    pub fn json(path: &std::path::Path, e: &serde_json::Error) -> Self {
        DenialError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }

    /// An IO error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        DenialError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result with [`DenialError`].
pub type Result<T, E = DenialError> = std::result::Result<T, E>;
