//! Typed errors of the code-set engine.
//!
//! Every parse error names the file and the position (line, byte offset,
//! element or field) so that a user can find the bad spot in a release file.

use std::path::PathBuf;

/// Where in a source file something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file (or `archive.zip!member`) that was being read.
    pub file: String,
    /// 1-based line number, when known.
    pub line: Option<u64>,
    /// Byte offset from the start of the file, when known.
    pub byte: Option<u64>,
    /// The XML element, fixed-width field or column being read, when known.
    pub element: Option<String>,
}

impl Position {
    pub fn file(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            byte: None,
            element: None,
        }
    }

    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn byte(mut self, byte: u64) -> Self {
        self.byte = Some(byte);
        self
    }

    pub fn element(mut self, element: impl Into<String>) -> Self {
        self.element = Some(element.into());
        self
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(byte) = self.byte {
            write!(f, " (byte {byte})")?;
        }
        if let Some(element) = &self.element {
            write!(f, " in {element}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{at}: {message}")]
    Parse { at: Position, message: String },
    #[error("{file}: checksum mismatch: expected sha256 {expected}, found {found}")]
    Checksum {
        file: String,
        expected: String,
        found: String,
    },
    #[error("{file}: size mismatch: expected {expected} bytes, found {found}")]
    Size {
        file: String,
        expected: u64,
        found: u64,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("no code sets installed in {0}: run `medledger codesets install --from DIR`")]
    NotInstalled(PathBuf),
    #[error(
        "installed data in {path} is unreadable ({message}); reinstall with `medledger codesets install`"
    )]
    Corrupt { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn parse(at: Position, message: impl Into<String>) -> Self {
        Error::Parse {
            at,
            message: message.into(),
        }
    }
}

/// 1-based line number of a byte offset in `bytes`.
pub fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}
