//! ASC X12 5010 for healthcare transactions.
//!
//! - [`reader`]: delimiters from the ISA, zero-copy segments, envelopes
//!   (ISA/GS/ST) with their trailer checks: [`parse`], [`parse_strict`].
//! - [`writer`]: interchanges with computed control numbers and counts,
//!   and [`write_interchange`] to re-serialise a parsed one.
//! - Typed parsers: [`remit835`] (835 → [`Remittance`]), [`ack999`]
//!   (999 → [`Ack999`]), [`ack277ca`] (277CA → [`ClaimAck277`]),
//!   [`claim837`] (a summary of submitted 837P/837I claims).
//! - [`money`]: amounts as integer cents.
//! - [`fuzzing`], [`mod@bench`]: the fuzz entry point and a throughput measure.
//!
//! Errors ([`X12Error`]) carry a [`Location`]: byte offset, segment
//! number (1-based in the input), segment id, element (and component).
//!
//! ```text
//! let remits = medledger_x12::parse_835(&bytes)?;
//! let claims: usize = remits.iter().map(|r| r.claims.len()).sum();
//! let paid: i64 = remits.iter().map(|r| r.total_paid_cents).sum();
//! ```

#![warn(missing_docs)]

pub mod ack277ca;
pub mod ack999;
pub mod bench;
pub mod claim837;
pub mod error;
pub mod fuzzing;
pub mod money;
pub mod reader;
pub mod remit835;
pub mod typed;
pub mod writer;

pub use ack277ca::{ClaimAck277, ClaimStatus, Disposition, parse_277ca};
pub use ack999::{Ack999, AckCode, parse_999};
pub use bench::{BenchReport, bench_parse};
pub use claim837::{Claim837, parse_837};
pub use error::{Check, Location, X12Error};
pub use money::{format_cents, parse_cents};
pub use reader::{
    Group, Interchange, IsaFields, Segment, Segments, Transaction, parse, parse_strict,
};
pub use remit835::{
    Adjustment, ClaimPayment, LinePayment, ProviderAdjustment, Remittance, parse_835,
};
pub use writer::{GsHeader, IsaHeader, WriteError, Writer, write_interchange};

/// The four delimiters of an interchange (read from its ISA segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delimiters {
    /// Element separator (ISA byte 3; usually `*`).
    pub element: u8,
    /// Component (sub-element) separator (ISA16; usually `:`).
    pub component: u8,
    /// Repetition separator (ISA11 in 5010; usually `^`).
    pub repetition: u8,
    /// Segment terminator (the byte after ISA16; usually `~`).
    pub segment: u8,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            element: b'*',
            component: b':',
            repetition: b'^',
            segment: b'~',
        }
    }
}
