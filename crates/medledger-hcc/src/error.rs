//! Typed errors of the HCC crate: every variant says what failed and where.

use std::path::PathBuf;

/// Errors from reading the HCC tables, the installed snapshot or a patient.
#[derive(Debug, thiserror::Error)]
pub enum HccError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV record is malformed.
    #[error("{file}: line {line}, column {column}: {message}")]
    Csv {
        /// The table file name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// Column name (or number) of the bad field.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A table the scorer needs is not in the source folder.
    #[error("HCC table {name} not found under {dir}")]
    MissingTable {
        /// The expected file name.
        name: String,
        /// The folder searched.
        dir: PathBuf,
    },
    /// The installed snapshot is missing, corrupt or of another format.
    #[error("HCC snapshot {path}: {message}")]
    Snapshot {
        /// The snapshot or manifest path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The tables hold no data for this model and payment year.
    #[error("no CMS-HCC {model} tables for payment year {year}")]
    Unavailable {
        /// Model name (V24, V28).
        model: &'static str,
        /// Payment year.
        year: u16,
    },
    /// A patient field is invalid.
    #[error("patient {id:?}: field `{field}`: {message}")]
    Patient {
        /// The patient's id as given.
        id: String,
        /// The field name.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = HccError> = std::result::Result<T, E>;
