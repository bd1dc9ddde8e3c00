//! The 999 implementation acknowledgment (005010X231A1): the group
//! acknowledged (AK1), each transaction set (AK2) with its segment errors
//! (IK3), element errors (IK4) and status (IK5), and the group status and
//! counts (AK9).

use serde::{Deserialize, Serialize};

use crate::error::X12Error;
use crate::reader::{Group, Segment, Transaction, parse};
use crate::typed::{
    check_transaction, invalid, missing_segment, number, opt_text, part, req, req_part, req_text,
    text,
};

/// ST01 of the 999.
pub const ST01: &str = "999";
/// GS08 prefix accepted.
pub const VERSION: &str = "005010X231";

/// An acknowledgment code (IK501, AK901).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AckCode {
    /// `A` accepted.
    Accepted,
    /// `E` accepted, but errors were noted.
    AcceptedWithErrors,
    /// `P` partially accepted (AK9 only: some transaction sets rejected).
    PartiallyAccepted,
    /// `M` rejected: message authentication code failed.
    RejectedAuthentication,
    /// `R` rejected.
    Rejected,
    /// `W` rejected: assurance failed validity tests.
    RejectedAssurance,
    /// `X` rejected: content after decryption could not be analyzed.
    RejectedDecryption,
}

impl AckCode {
    /// From the code letter.
    pub fn from_code(v: &[u8]) -> Option<Self> {
        Some(match v {
            b"A" => Self::Accepted,
            b"E" => Self::AcceptedWithErrors,
            b"P" => Self::PartiallyAccepted,
            b"M" => Self::RejectedAuthentication,
            b"R" => Self::Rejected,
            b"W" => Self::RejectedAssurance,
            b"X" => Self::RejectedDecryption,
            _ => return None,
        })
    }

    /// The code letter.
    pub fn code(self) -> &'static str {
        match self {
            Self::Accepted => "A",
            Self::AcceptedWithErrors => "E",
            Self::PartiallyAccepted => "P",
            Self::RejectedAuthentication => "M",
            Self::Rejected => "R",
            Self::RejectedAssurance => "W",
            Self::RejectedDecryption => "X",
        }
    }

    /// `A`, `E` (and `P` for a group: some sets accepted).
    pub fn is_accepted(self) -> bool {
        matches!(
            self,
            Self::Accepted | Self::AcceptedWithErrors | Self::PartiallyAccepted
        )
    }
}

/// An IK4 element error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementError {
    /// IK401-1 element position in the segment.
    pub position: u32,
    /// IK401-2 component position.
    pub component: Option<u32>,
    /// IK401-3 repeating element position.
    pub repetition: Option<u32>,
    /// IK402 data element reference number.
    pub element_reference: Option<String>,
    /// IK403 error code.
    pub error_code: String,
    /// IK404 copy of the bad data element.
    pub bad_value: Option<String>,
}

/// An IK3 segment error with its element errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentError {
    /// IK301 segment id in error.
    pub segment_id: String,
    /// IK302 segment position in the transaction set (ST = 1).
    pub position: u32,
    /// IK303 loop identifier.
    pub loop_id: Option<String>,
    /// IK304 syntax error code.
    pub error_code: String,
    /// IK4 element errors.
    pub element_errors: Vec<ElementError>,
}

/// One AK2 transaction set response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionResponse {
    /// AK201 transaction set id (`837`).
    pub set_id: String,
    /// AK202 transaction set control number.
    pub control_number: String,
    /// AK203 implementation convention reference.
    pub implementation_reference: Option<String>,
    /// IK3/IK4 errors.
    pub segment_errors: Vec<SegmentError>,
    /// IK501 status.
    pub status: AckCode,
    /// IK502–IK506 syntax error codes.
    pub error_codes: Vec<String>,
}

/// One 999 transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack999 {
    /// ST02.
    pub control_number: String,
    /// AK101 functional identifier of the acknowledged group (`HC`).
    pub functional_id: String,
    /// AK102 control number of the acknowledged group (its GS06).
    pub group_control_number: String,
    /// AK103 version of the acknowledged group.
    pub group_version: Option<String>,
    /// AK2 loops.
    pub transactions: Vec<TransactionResponse>,
    /// AK901 group status.
    pub group_status: AckCode,
    /// AK902 number of transaction sets included.
    pub included: u32,
    /// AK903 number received.
    pub received: u32,
    /// AK904 number accepted.
    pub accepted: u32,
    /// AK905–AK909 group syntax error codes.
    pub error_codes: Vec<String>,
}

impl Ack999 {
    /// Parses one 999 transaction set.
    pub fn from_transaction(src: &[u8], group: &Group, tx: &Transaction) -> Result<Self, X12Error> {
        check_transaction(
            group,
            tx,
            ST01,
            &[VERSION],
            "999 implementation acknowledgment",
        )?;
        parse_body(src, tx)
    }
}

/// Parses every 999 transaction set in `src`.
pub fn parse_999(src: &[u8]) -> Result<Vec<Ack999>, X12Error> {
    let all = parse(src)?;
    let mut out = Vec::new();
    let mut first_err = None;
    for ic in &all {
        for (g, t) in ic.transactions() {
            if t.id != ST01 {
                first_err
                    .get_or_insert_with(|| check_transaction(g, t, ST01, &[VERSION], "999").err());
                continue;
            }
            out.push(Ack999::from_transaction(src, g, t)?);
        }
    }
    if out.is_empty() {
        return Err(first_err
            .flatten()
            .unwrap_or_else(|| X12Error::WrongTransaction {
                at: crate::error::Location {
                    offset: 0,
                    segment: 1,
                    segment_id: "ISA".into(),
                    element: None,
                    component: None,
                },
                expected: "a 999 transaction set".into(),
                found: "none".into(),
            }));
    }
    Ok(out)
}

fn code(seg: &Segment<'_>, i: usize, what: &str) -> Result<AckCode, X12Error> {
    let v = req(seg, i, what)?;
    AckCode::from_code(v).ok_or_else(|| {
        invalid(
            seg.at(i),
            format!("{}{i:02} {what}: A, E, M, P, R, W or X", seg.id_str()),
            v,
        )
    })
}

fn opt_number(
    seg: &Segment<'_>,
    parts: &[&[u8]],
    j: usize,
    what: &str,
) -> Result<Option<u32>, X12Error> {
    match part(parts, j) {
        None => Ok(None),
        Some(v) => {
            let n = if v.len() <= 9 && v.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(v).ok().and_then(|s| s.parse().ok())
            } else {
                None
            };
            n.map(Some).ok_or_else(|| {
                invalid(
                    seg.at(1).with_component(j),
                    format!("IK401-{j} {what} as a number"),
                    v,
                )
            })
        }
    }
}

struct OpenSet {
    set: TransactionResponse,
    has_ik5: bool,
    at: crate::error::Location,
}

/// The 999 body without the ST01/GS08 check.
pub(crate) fn parse_body(src: &[u8], tx: &Transaction) -> Result<Ack999, X12Error> {
    let mut ak1: Option<(String, String, Option<String>)> = None;
    let mut sets: Vec<TransactionResponse> = Vec::new();
    let mut open: Option<OpenSet> = None;
    let mut ak9 = None;
    let mut se_at = tx.st_location(None);
    let close =
        |open: &mut Option<OpenSet>, sets: &mut Vec<TransactionResponse>, here: &Segment<'_>| {
            if let Some(o) = open.take() {
                if !o.has_ik5 {
                    return Err(missing_segment(
                        here.location(),
                        &format!(
                            "IK5 (transaction set response trailer) for the AK2 at segment {}",
                            o.at.segment
                        ),
                    ));
                }
                sets.push(o.set);
            }
            Ok(())
        };
    for seg in tx.segments(src) {
        let seg = seg?;
        match seg.id {
            b"SE" => {
                se_at = seg.location();
                close(&mut open, &mut sets, &seg)?;
            }
            b"AK1" => {
                ak1 = Some((
                    req_text(&seg, 1, "functional identifier code")?,
                    req_text(&seg, 2, "group control number")?,
                    opt_text(&seg, 3),
                ));
            }
            b"AK2" => {
                if ak1.is_none() {
                    return Err(missing_segment(seg.location(), "AK1 before AK2"));
                }
                close(&mut open, &mut sets, &seg)?;
                open = Some(OpenSet {
                    set: TransactionResponse {
                        set_id: req_text(&seg, 1, "transaction set identifier code")?,
                        control_number: req_text(&seg, 2, "transaction set control number")?,
                        implementation_reference: opt_text(&seg, 3),
                        segment_errors: Vec::new(),
                        status: AckCode::Accepted,
                        error_codes: Vec::new(),
                    },
                    has_ik5: false,
                    at: seg.location(),
                });
            }
            b"IK3" => {
                let Some(o) = open.as_mut() else {
                    return Err(missing_segment(seg.location(), "AK2 before IK3"));
                };
                o.set.segment_errors.push(SegmentError {
                    segment_id: req_text(&seg, 1, "segment id code")?,
                    position: number(&seg, 2, "segment position in transaction set")?,
                    loop_id: opt_text(&seg, 3),
                    error_code: req_text(&seg, 4, "implementation segment syntax error code")?,
                    element_errors: Vec::new(),
                });
            }
            b"IK4" => {
                let Some(s) = open.as_mut().and_then(|o| o.set.segment_errors.last_mut()) else {
                    return Err(missing_segment(seg.location(), "IK3 before IK4"));
                };
                req(&seg, 1, "position in segment")?;
                let parts: Vec<&[u8]> = seg.components(1).collect();
                req_part(&seg, &parts, 1, 1, "element position in segment")?;
                let position = opt_number(&seg, &parts, 1, "element position")?.unwrap_or_default();
                s.element_errors.push(ElementError {
                    position,
                    component: opt_number(&seg, &parts, 2, "component data element position")?,
                    repetition: opt_number(&seg, &parts, 3, "repeating data element position")?,
                    element_reference: opt_text(&seg, 2),
                    error_code: req_text(&seg, 3, "implementation data element syntax error code")?,
                    bad_value: seg.raw_element(4).filter(|v| !v.is_empty()).map(text),
                });
            }
            b"IK5" => {
                let Some(o) = open.as_mut() else {
                    return Err(missing_segment(seg.location(), "AK2 before IK5"));
                };
                o.set.status = code(&seg, 1, "transaction set acknowledgment code")?;
                o.set.error_codes = (2..=6).filter_map(|i| opt_text(&seg, i)).collect();
                o.has_ik5 = true;
            }
            b"AK9" => {
                close(&mut open, &mut sets, &seg)?;
                ak9 = Some((
                    code(&seg, 1, "functional group acknowledge code")?,
                    number(&seg, 2, "number of transaction sets included")?,
                    number(&seg, 3, "number of received transaction sets")?,
                    number(&seg, 4, "number of accepted transaction sets")?,
                    (5..=9)
                        .filter_map(|i| opt_text(&seg, i))
                        .collect::<Vec<_>>(),
                ));
            }
            _ => {}
        }
    }
    let Some((functional_id, group_control_number, group_version)) = ak1 else {
        return Err(missing_segment(
            se_at,
            "AK1 (functional group response header)",
        ));
    };
    let Some((group_status, included, received, accepted, error_codes)) = ak9 else {
        return Err(missing_segment(
            se_at,
            "AK9 (functional group response trailer)",
        ));
    };
    Ok(Ack999 {
        control_number: tx.control.clone(),
        functional_id,
        group_control_number,
        group_version,
        transactions: sets,
        group_status,
        included,
        received,
        accepted,
        error_codes,
    })
}
