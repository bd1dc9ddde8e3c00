//! Errors of the service-coding crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading rules or reading service input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file does not parse or breaks an invariant.
    #[error("rule file {file}{}: {message}", location(*line, *column))]
    Rules {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// Structured input (a monitoring period, a DMHT case, a PLA list, ...)
    /// is malformed; `what` names the file or record and field.
    #[error("{what}: {message}")]
    Input { what: String, message: String },
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l} column {c}"),
        (Some(l), None) => format!(" line {l}"),
        _ => String::new(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An input error about `what` (file, record, field).
    pub fn input(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Input {
            what: what.into(),
            message: message.into(),
        }
    }
}
