//! Writing X12 interchanges: the ISA/GS/ST envelopes with their control
//! numbers, segment counts (SE01), transaction counts (GE01) and group
//! counts (IEA01) computed as segments are written; trailing empty
//! elements dropped; data that contains a delimiter refused with the
//! segment and element named.

use crate::Delimiters;
use crate::reader::{Interchange, repetition_active};

/// Errors while writing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// An element contains one of the interchange's delimiters.
    #[error(
        "segment {segment} (#{index} in the transaction), element {element}: the value contains the delimiter {delimiter:?}"
    )]
    DelimiterInData {
        /// Segment id.
        segment: String,
        /// 1-based segment position within the transaction set.
        index: u32,
        /// 1-based element position.
        element: usize,
        /// The delimiter found.
        delimiter: char,
    },
    /// An ISA field does not fit its fixed width.
    #[error("ISA{field:02}: {message}")]
    IsaField {
        /// ISA element number.
        field: usize,
        /// What is wrong.
        message: String,
    },
    /// Envelopes opened or closed out of order.
    #[error("envelope order: {0}")]
    Order(String),
}

/// The interchange header (ISA) fields the writer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsaHeader {
    /// ISA05 interchange sender id qualifier (`ZZ`, `30`, …).
    pub sender_qualifier: String,
    /// ISA06 sender id (padded to 15).
    pub sender_id: String,
    /// ISA07 receiver qualifier.
    pub receiver_qualifier: String,
    /// ISA08 receiver id (padded to 15).
    pub receiver_id: String,
    /// ISA09 date `YYMMDD`.
    pub date: String,
    /// ISA10 time `HHMM`.
    pub time: String,
    /// ISA13 control number (1..=999,999,999; written with 9 digits).
    pub control_number: u32,
    /// ISA14 acknowledgment requested.
    pub ack_requested: bool,
    /// ISA15 `P` production or `T` test.
    pub usage: char,
}

/// The functional group header (GS) fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsHeader {
    /// GS01 functional identifier code (`HC` for 837, `HP` for 835, `FA` for 999, `HN` for 277CA).
    pub functional_id: String,
    /// GS02 application sender code.
    pub sender: String,
    /// GS03 application receiver code.
    pub receiver: String,
    /// GS04 date `CCYYMMDD`.
    pub date: String,
    /// GS05 time `HHMM`.
    pub time: String,
    /// GS06 group control number.
    pub control_number: u32,
    /// GS08 version / release / industry identifier (`005010X222A1`).
    pub version: String,
}

/// Writes one interchange.
#[derive(Debug)]
pub struct Writer {
    d: Delimiters,
    newline: bool,
    buf: Vec<u8>,
    isa_control: Option<u32>,
    gs_control: Option<u32>,
    st_control: Option<String>,
    groups: u32,
    sets_in_group: u32,
    segs_in_set: u32,
}

fn pad(s: &str, width: usize) -> String {
    format!("{s:<width$}")
}

impl Writer {
    /// A writer with these delimiters; `newline`: a line break after each
    /// segment terminator (readable; receivers accept it).
    pub fn new(d: Delimiters, newline: bool) -> Self {
        Self {
            d,
            newline,
            buf: Vec::with_capacity(4096),
            isa_control: None,
            gs_control: None,
            st_control: None,
            groups: 0,
            sets_in_group: 0,
            segs_in_set: 0,
        }
    }

    /// The delimiters.
    pub fn delimiters(&self) -> Delimiters {
        self.d
    }

    /// Joins components with the component separator (a composite element).
    pub fn composite(&self, parts: &[&str]) -> String {
        let mut n = parts.len();
        while n > 0 && parts[n - 1].is_empty() {
            n -= 1;
        }
        parts[..n].join(&char::from(self.d.component).to_string())
    }

    /// Writes ISA.
    pub fn isa(&mut self, h: &IsaHeader) -> Result<(), WriteError> {
        if self.isa_control.is_some() {
            return Err(WriteError::Order("ISA inside an open interchange".into()));
        }
        check_delimiters(self.d)?;
        let d = self.d;
        let is_delim =
            |b: u8| b == d.element || b == d.segment || b == d.component || b == d.repetition;
        let check = |field: usize, v: &str, max: usize| {
            if v.len() > max || v.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
                Err(WriteError::IsaField {
                    field,
                    message: format!(
                        "{v:?} is longer than {max} characters or not printable ASCII"
                    ),
                })
            } else if let Some(b) = v.bytes().find(|&b| is_delim(b)) {
                Err(WriteError::IsaField {
                    field,
                    message: format!("{v:?} contains the delimiter {:?}", char::from(b)),
                })
            } else {
                Ok(())
            }
        };
        check(5, &h.sender_qualifier, 2)?;
        check(6, &h.sender_id, 15)?;
        check(7, &h.receiver_qualifier, 2)?;
        check(8, &h.receiver_id, 15)?;
        if h.date.len() != 6
            || h.time.len() != 4
            || !h.date.bytes().all(|b| b.is_ascii_digit())
            || !h.time.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(WriteError::IsaField {
                field: 9,
                message: "date YYMMDD and time HHMM".into(),
            });
        }
        if h.control_number == 0 || h.control_number > 999_999_999 {
            return Err(WriteError::IsaField {
                field: 13,
                message: "control number 1 to 999999999".into(),
            });
        }
        if !matches!(h.usage, 'P' | 'T') {
            return Err(WriteError::IsaField {
                field: 15,
                message: "usage P or T".into(),
            });
        }
        let e = char::from(self.d.element);
        let text = format!(
            "ISA{e}00{e}{}{e}00{e}{}{e}{}{e}{}{e}{}{e}{}{e}{}{e}{}{e}{}{e}00501{e}{:09}{e}{}{e}{}{e}{}",
            pad("", 10),
            pad("", 10),
            pad(&h.sender_qualifier, 2),
            pad(&h.sender_id, 15),
            pad(&h.receiver_qualifier, 2),
            pad(&h.receiver_id, 15),
            h.date,
            h.time,
            char::from(self.d.repetition),
            h.control_number,
            if h.ack_requested { '1' } else { '0' },
            h.usage,
            char::from(self.d.component),
        );
        self.buf.extend_from_slice(text.as_bytes());
        self.end_segment();
        self.isa_control = Some(h.control_number);
        Ok(())
    }

    /// Writes GS.
    pub fn gs(&mut self, h: &GsHeader) -> Result<(), WriteError> {
        if self.isa_control.is_none() || self.gs_control.is_some() {
            return Err(WriteError::Order(
                "GS needs an open ISA and no open GS".into(),
            ));
        }
        let ctl = h.control_number.to_string();
        self.raw_segment(
            "GS",
            &[
                &h.functional_id,
                &h.sender,
                &h.receiver,
                &h.date,
                &h.time,
                &ctl,
                "X",
                &h.version,
            ],
        )?;
        self.gs_control = Some(h.control_number);
        self.groups += 1;
        self.sets_in_group = 0;
        Ok(())
    }

    /// Opens a transaction set: `ST*id*control*implementation_reference`.
    pub fn st(
        &mut self,
        id: &str,
        control: &str,
        implementation_reference: Option<&str>,
    ) -> Result<(), WriteError> {
        if self.gs_control.is_none() || self.st_control.is_some() {
            return Err(WriteError::Order(
                "ST needs an open GS and no open ST".into(),
            ));
        }
        self.segs_in_set = 1;
        if let Err(e) =
            self.raw_segment("ST", &[id, control, implementation_reference.unwrap_or("")])
        {
            self.segs_in_set = 0;
            return Err(e);
        }
        self.st_control = Some(control.to_owned());
        Ok(())
    }

    /// Writes a segment inside the open transaction set (counted for SE01).
    pub fn segment(&mut self, id: &str, elements: &[&str]) -> Result<(), WriteError> {
        if self.st_control.is_none() {
            return Err(WriteError::Order(format!("{id} outside a transaction set")));
        }
        self.segs_in_set += 1;
        let r = self.raw_segment(id, elements);
        if r.is_err() {
            self.segs_in_set -= 1;
        }
        r
    }

    /// Closes the transaction set with SE (count includes ST and SE).
    pub fn se(&mut self) -> Result<(), WriteError> {
        let Some(ctl) = self.st_control.take() else {
            return Err(WriteError::Order("SE without ST".into()));
        };
        self.segs_in_set += 1;
        let count = self.segs_in_set.to_string();
        if let Err(e) = self.raw_segment("SE", &[&count, &ctl]) {
            self.segs_in_set -= 1;
            self.st_control = Some(ctl);
            return Err(e);
        }
        self.sets_in_group += 1;
        Ok(())
    }

    /// Closes the functional group with GE.
    pub fn ge(&mut self) -> Result<(), WriteError> {
        if self.st_control.is_some() {
            return Err(WriteError::Order(
                "GE inside an open transaction set".into(),
            ));
        }
        let Some(ctl) = self.gs_control.take() else {
            return Err(WriteError::Order("GE without GS".into()));
        };
        let n = self.sets_in_group.to_string();
        self.raw_segment("GE", &[&n, &ctl.to_string()])
    }

    /// Closes the interchange with IEA and returns the bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, WriteError> {
        if self.gs_control.is_some() {
            return Err(WriteError::Order("IEA inside an open group".into()));
        }
        let Some(ctl) = self.isa_control.take() else {
            return Err(WriteError::Order("IEA without ISA".into()));
        };
        let n = self.groups.to_string();
        self.raw_segment("IEA", &[&n, &format!("{ctl:09}")])?;
        Ok(self.buf)
    }

    fn end_segment(&mut self) {
        self.buf.push(self.d.segment);
        if self.newline {
            self.buf.push(b'\n');
        }
    }

    fn raw_segment(&mut self, id: &str, elements: &[&str]) -> Result<(), WriteError> {
        let mut n = elements.len();
        while n > 0 && elements[n - 1].is_empty() {
            n -= 1;
        }
        let d = self.d;
        let index = if self.st_control.is_some() || id == "ST" || id == "SE" {
            self.segs_in_set
        } else {
            0
        };
        if let Some(b) = id
            .bytes()
            .find(|&b| b == d.element || b == d.segment || b == d.repetition || b == d.component)
        {
            return Err(WriteError::DelimiterInData {
                segment: id.to_owned(),
                index,
                element: 0,
                delimiter: char::from(b),
            });
        }
        for (i, v) in elements[..n].iter().enumerate() {
            for b in v.bytes() {
                // the component separator is legal inside composites
                if b == d.element || b == d.segment || b == d.repetition && id != "ISA" {
                    return Err(WriteError::DelimiterInData {
                        segment: id.to_owned(),
                        index,
                        element: i + 1,
                        delimiter: char::from(b),
                    });
                }
            }
        }
        self.buf.extend_from_slice(id.as_bytes());
        for v in &elements[..n] {
            self.buf.push(d.element);
            self.buf.extend_from_slice(v.as_bytes());
        }
        self.end_segment();
        Ok(())
    }
}

/// Checks that delimiters can be written: element, component and segment
/// separators distinct and not letters, digits or spaces; the repetition
/// separator distinct from them (5010 requires one).
fn check_delimiters(d: Delimiters) -> Result<(), WriteError> {
    let bad = |b: u8| b.is_ascii_alphanumeric() || b == b' ';
    if bad(d.element) || bad(d.component) || bad(d.segment) {
        return Err(WriteError::IsaField {
            field: 16,
            message:
                "element, component and segment delimiters must not be letters, digits or spaces"
                    .into(),
        });
    }
    if d.element == d.component || d.element == d.segment || d.component == d.segment {
        return Err(WriteError::IsaField {
            field: 16,
            message: "element, component and segment delimiters must differ".into(),
        });
    }
    if bad(d.repetition) || [d.element, d.component, d.segment].contains(&d.repetition) {
        return Err(WriteError::IsaField {
            field: 11,
            message: "the repetition separator must differ from the other delimiters and not be a letter, digit or space"
                .into(),
        });
    }
    Ok(())
}

/// Re-serialises a parsed interchange segment by segment with other (or
/// the same) delimiters: counts and control numbers are written as read
/// (a round trip, not a rewrite). `src` is the input `ic` was parsed from.
///
/// When `d.repetition` is a letter or digit (ISA11 `U` as in 4010-style
/// files, e.g. `ic.delimiters` of such a file) it is written to ISA11 and
/// not used as a separator. Data containing one of the new delimiters is
/// refused ([`WriteError::DelimiterInData`], `index` = position in the
/// transaction set, 0 outside one).
pub fn write_interchange(
    ic: &Interchange,
    src: &[u8],
    d: Delimiters,
    newline: bool,
) -> Result<Vec<u8>, WriteError> {
    let rep_out = repetition_active(d.repetition).then_some(d.repetition);
    {
        let bad = |b: u8| b.is_ascii_alphanumeric() || b == b' ';
        if bad(d.element) || bad(d.component) || bad(d.segment) {
            return Err(WriteError::IsaField {
                field: 16,
                message: "element, component and segment delimiters must not be letters, digits or spaces".into(),
            });
        }
        let mut all = vec![d.element, d.component, d.segment];
        all.extend(rep_out);
        all.sort_unstable();
        all.dedup();
        if all.len() != 3 + usize::from(rep_out.is_some()) {
            return Err(WriteError::IsaField {
                field: 16,
                message: "the delimiters must differ from each other".into(),
            });
        }
    }
    let seps = ic.seps();
    let mut out = Vec::with_capacity(ic.span.len() + ic.segment_count);
    let mut index: u32 = 0;
    for seg in ic.segments(src) {
        let seg =
            seg.map_err(|e| WriteError::Order(format!("the source does not re-read: {e}")))?;
        let id = seg.id_str();
        match id {
            "ST" => index = 1,
            _ if index > 0 => index += 1,
            _ => {}
        }
        let is_delim =
            |b: u8| b == d.element || b == d.segment || b == d.component || Some(b) == rep_out;
        out.extend_from_slice(seg.id);
        for (k, el) in seg.elements().enumerate() {
            let element = k + 1;
            out.push(d.element);
            if id == "ISA" && (element == 11 || element == 16) {
                out.push(if element == 11 {
                    d.repetition
                } else {
                    d.component
                });
                continue;
            }
            for &b in el {
                let w = if id != "ISA" && Some(b) == seps.r {
                    rep_out.ok_or_else(|| WriteError::DelimiterInData {
                        segment: id.to_owned(),
                        index,
                        element,
                        delimiter: char::from(b),
                    })?
                } else if id != "ISA" && b == seps.c {
                    d.component
                } else if is_delim(b) {
                    return Err(WriteError::DelimiterInData {
                        segment: id.to_owned(),
                        index,
                        element,
                        delimiter: char::from(b),
                    });
                } else {
                    b
                };
                out.push(w);
            }
        }
        if d.segment == b'\n' && out.last() == Some(&b'\r') {
            // a reader drops a CR before a LF terminator
            return Err(WriteError::DelimiterInData {
                segment: id.to_owned(),
                index,
                element: seg.element_count(),
                delimiter: '\r',
            });
        }
        out.push(d.segment);
        if newline {
            out.push(b'\n');
        }
        if id == "SE" {
            index = 0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_835, parse_strict};

    fn isa() -> IsaHeader {
        IsaHeader {
            sender_qualifier: "ZZ".into(),
            sender_id: "PAYER".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: "CLINIC".into(),
            date: "240301".into(),
            time: "0900".into(),
            control_number: 42,
            ack_requested: false,
            usage: 'T',
        }
    }

    fn gs() -> GsHeader {
        GsHeader {
            functional_id: "HP".into(),
            sender: "PAYER".into(),
            receiver: "CLINIC".into(),
            date: "20240301".into(),
            time: "0900".into(),
            control_number: 7,
            version: "005010X221A1".into(),
        }
    }

    #[test]
    fn written_835_reads_back_strictly() -> Result<(), Box<dyn std::error::Error>> {
        let mut w = Writer::new(Delimiters::default(), true);
        w.isa(&isa())?;
        w.gs(&gs())?;
        w.st("835", "0001", Some("005010X221A1"))?;
        let svc = w.composite(&["HC", "99213", "25"]);
        for (id, els) in [
            (
                "BPR",
                vec![
                    "I", "70.00", "C", "CHK", "", "", "", "", "", "", "", "", "", "", "",
                    "20240301",
                ],
            ),
            ("TRN", vec!["1", "CHK123", "1999999999"]),
            ("N1", vec!["PR", "ACME HEALTH"]),
            ("N1", vec!["PE", "CLINIC", "XX", "1234567893"]),
            (
                "CLP",
                vec!["PCN1", "1", "100.00", "80.00", "20.00", "12", "CCN1"],
            ),
            ("CAS", vec!["PR", "2", "20.00"]),
            ("SVC", vec![svc.as_str(), "100.00", "80.00", "", "1"]),
            ("LQ", vec!["HE", "N130"]),
            ("PLB", vec!["1234567893", "20241231", "WO:ABC", "10.00"]),
        ] {
            w.segment(id, &els)?;
        }
        w.se()?;
        w.ge()?;
        let bytes = w.finish()?;
        let all = parse_strict(&bytes)?;
        assert_eq!(all[0].groups[0].transactions[0].segment_count, 11);
        let r = parse_835(&bytes)?.remove(0);
        assert_eq!(r.total_paid_cents, 7_000);
        assert!(r.balance.balanced, "{:?}", r.balance);
        assert_eq!(r.claims[0].lines[0].procedure.modifiers, ["25"]);
        assert_eq!(r.claims[0].lines[0].remarks, ["N130"]);
        assert_eq!(r.payment_date, Some(jiff::civil::date(2024, 3, 1)));
        Ok(())
    }

    #[test]
    fn refusals_leave_the_writer_usable() -> Result<(), WriteError> {
        let mut w = Writer::new(Delimiters::default(), false);
        let mut h = isa();
        h.sender_id = "A*B".into();
        assert!(matches!(
            w.isa(&h),
            Err(WriteError::IsaField { field: 6, .. })
        ));
        h.sender_id = "AB".into();
        h.date = "24030A".into();
        assert!(matches!(
            w.isa(&h),
            Err(WriteError::IsaField { field: 9, .. })
        ));
        w.isa(&isa())?;
        w.gs(&gs())?;
        assert!(matches!(
            w.st("835", "1~2", None),
            Err(WriteError::DelimiterInData { .. })
        ));
        // the refused ST did not open a transaction set
        assert!(matches!(
            w.segment("BPR", &["I"]),
            Err(WriteError::Order(_))
        ));
        w.st("835", "0001", None)?;
        assert_eq!(
            w.segment("NM1", &["QC", "A~B"]),
            Err(WriteError::DelimiterInData {
                segment: "NM1".into(),
                index: 2,
                element: 2,
                delimiter: '~'
            })
        );
        w.segment("NM1", &["QC", "AB"])?;
        w.se()?;
        w.ge()?;
        let bytes = w.finish()?;
        let all = parse_strict(&bytes).map_err(|e| WriteError::Order(e.to_string()))?;
        assert_eq!(all[0].groups[0].transactions[0].segment_count, 3);
        Ok(())
    }

    #[test]
    fn colliding_delimiters_are_refused() {
        let mut w = Writer::new(
            Delimiters {
                element: b'*',
                component: b'*',
                ..Delimiters::default()
            },
            false,
        );
        assert!(matches!(
            w.isa(&isa()),
            Err(WriteError::IsaField { field: 16, .. })
        ));
    }
}
