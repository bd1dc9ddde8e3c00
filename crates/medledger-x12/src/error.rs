//! Errors of the reader and the typed parsers. Every error says where:
//! the byte offset of the segment, its 1-based number in the input, its
//! id and, where it applies, the element (and component) number.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where in the input something went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Byte offset of the start of the segment in the input (for errors at
    /// the end of the input: the input length).
    pub offset: usize,
    /// 1-based number of the segment in the input (ISA of the first
    /// interchange is 1; numbering continues across interchanges).
    pub segment: usize,
    /// Segment id (`CLP`), or empty when there is no segment (end of input).
    pub segment_id: String,
    /// 1-based element number (`CLP04` is 4), when the error is about one element.
    pub element: Option<usize>,
    /// 1-based component number inside a composite element.
    pub component: Option<usize>,
}

impl Location {
    /// The same location narrowed to one element.
    pub fn with_element(mut self, element: usize) -> Self {
        self.element = Some(element);
        self
    }

    /// The same location narrowed to one component of its element.
    pub fn with_component(mut self, component: usize) -> Self {
        self.component = Some(component);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segment_id.is_empty() {
            write!(
                f,
                "byte {}, segment {} (end of input)",
                self.offset, self.segment
            )?;
        } else {
            write!(
                f,
                "byte {}, segment {} ({})",
                self.offset, self.segment, self.segment_id
            )?;
        }
        if let Some(e) = self.element {
            write!(f, ", element {e}")?;
            if let Some(c) = self.component {
                write!(f, " component {c}")?;
            }
        }
        Ok(())
    }
}

/// Which trailer check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Check {
    /// SE01 must equal the number of segments from ST to SE inclusive.
    SegmentCount,
    /// SE02 must equal ST02.
    TransactionControl,
    /// GE01 must equal the number of transaction sets in the group.
    TransactionCount,
    /// GE02 must equal GS06.
    GroupControl,
    /// IEA01 must equal the number of functional groups.
    GroupCount,
    /// IEA02 must equal ISA13.
    InterchangeControl,
    /// ISA must be fixed width (106 bytes with its terminator) and ISA13 nine digits.
    IsaFormat,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::SegmentCount => "SE01 segment count",
            Check::TransactionControl => "SE02 control number",
            Check::TransactionCount => "GE01 transaction set count",
            Check::GroupControl => "GE02 control number",
            Check::GroupCount => "IEA01 functional group count",
            Check::InterchangeControl => "IEA02 control number",
            Check::IsaFormat => "ISA format",
        })
    }
}

/// Errors of the reader and the typed parsers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum X12Error {
    /// The ISA header is missing, truncated or malformed.
    #[error("{at}: ISA header: {message}")]
    Isa {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// Bytes that do not form segments (unterminated segment, bad segment id).
    #[error("{at}: {message}")]
    Syntax {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// Envelope segments out of order or missing (SE without ST, no IEA …).
    #[error("{at}: expected {expected}, found {found}")]
    Structure {
        /// Where.
        at: Location,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A trailer's count or control number does not match its header.
    #[error("{at}: {check}: expected {expected}, found {found}")]
    Mismatch {
        /// Where (the trailer element).
        at: Location,
        /// Which check.
        check: Check,
        /// The expected value.
        expected: String,
        /// The value found.
        found: String,
    },
    /// A required segment or element is absent.
    #[error("{at}: missing {what}")]
    Missing {
        /// Where the element is missing, or where the segment was expected.
        at: Location,
        /// What is missing.
        what: String,
    },
    /// A value has the wrong form (amount, date, code, number).
    #[error("{at}: expected {expected}, found {found:?}")]
    Invalid {
        /// Where.
        at: Location,
        /// What form was expected.
        expected: String,
        /// The value found (at most 64 characters of it).
        found: String,
    },
    /// A typed parser was given another kind of transaction set.
    #[error("{at}: expected {expected}, found {found:?}")]
    WrongTransaction {
        /// Where (ST01 or GS08).
        at: Location,
        /// The transaction set / version expected.
        expected: String,
        /// What was found.
        found: String,
    },
}

impl X12Error {
    /// Where the error is.
    pub fn location(&self) -> &Location {
        match self {
            X12Error::Isa { at, .. }
            | X12Error::Syntax { at, .. }
            | X12Error::Structure { at, .. }
            | X12Error::Mismatch { at, .. }
            | X12Error::Missing { at, .. }
            | X12Error::Invalid { at, .. }
            | X12Error::WrongTransaction { at, .. } => at,
        }
    }
}

/// Shows at most 64 characters of raw bytes (lossy UTF-8) for messages.
pub(crate) fn shown(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    if s.chars().count() > 64 {
        let mut t: String = s.chars().take(64).collect();
        t.push('…');
        t
    } else {
        s.into_owned()
    }
}
