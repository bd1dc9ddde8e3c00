//! Reading X12: delimiters from the ISA segment, a zero-copy segment
//! scanner over `&[u8]`, and the ISA/GS/ST envelopes with their trailer
//! checks.
//!
//! - Delimiters: element separator = ISA byte 3, repetition separator =
//!   ISA11 (only when it is not a letter or digit: 4010-style files carry
//!   a code such as `U` there), component separator = ISA16, segment
//!   terminator = the byte after ISA16. ISA is fixed width (106 bytes with
//!   its terminator); an ISA with unpadded fields is still read (its
//!   sixteen separators are counted) but recorded as an issue.
//! - A byte-order mark and white space before the ISA, and CR/LF/CRLF or
//!   spaces after a segment terminator, are skipped. Empty segments are
//!   skipped. 5010 has no release character: bytes are taken literally.
//! - [`parse`] records count and control-number mismatches of the trailers
//!   (SE01, SE02, GE01, GE02, IEA01, IEA02) in [`Interchange::issues`]
//!   and keeps going (real files often carry wrong counts);
//!   [`parse_strict`] turns the first such issue into an error. Structure
//!   errors (a segment outside its envelope, a missing trailer, bytes that
//!   are not segments) are always errors.
//! - Nothing allocates in proportion to a declared count; envelopes do not
//!   nest (an ISA, GS or ST inside an open one is an error); no recursion.

use std::ops::Range;

use memchr::memchr;
use serde::Serialize;

use crate::Delimiters;
use crate::error::{Check, Location, X12Error, shown};

/// Length of the ISA segment including its terminator.
pub const ISA_LEN: usize = 106;

/// Offsets of the sixteen element separators in a fixed-width ISA.
const ISA_SEPARATORS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];

/// The separators the scanner splits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seps {
    pub(crate) e: u8,
    pub(crate) c: u8,
    pub(crate) r: Option<u8>,
    pub(crate) s: u8,
}

impl Seps {
    pub(crate) fn from_delimiters(d: Delimiters) -> Self {
        Self {
            e: d.element,
            c: d.component,
            r: repetition_active(d.repetition).then_some(d.repetition),
            s: d.segment,
        }
    }
}

/// Whether an ISA11 byte is a repetition separator (5010) rather than a
/// standards identifier code such as `U` (4010).
pub fn repetition_active(isa11: u8) -> bool {
    !isa11.is_ascii_alphanumeric() && isa11 != b' '
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn valid_id(id: &[u8]) -> bool {
    (2..=3).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// One segment, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Segment id (`CLP`).
    pub id: &'a [u8],
    /// Byte offset of the segment in the input.
    pub offset: usize,
    /// 1-based number of the segment in the input.
    pub number: usize,
    body: &'a [u8],
    full: &'a [u8],
    seps: Seps,
}

impl<'a> Segment<'a> {
    /// The id as text (ids are checked to be upper-case ASCII letters and digits).
    pub fn id_str(&self) -> &'a str {
        std::str::from_utf8(self.id).unwrap_or("")
    }

    /// The whole segment without its terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.full
    }

    /// Number of elements (data after the id), counting empty ones.
    pub fn element_count(&self) -> usize {
        if self.body.is_empty() {
            0
        } else {
            memchr::memchr_iter(self.seps.e, self.body).count()
        }
    }

    /// Element `i` (1-based, `NM1-03` is `element(3)`) as written, `Some(b"")`
    /// when present but empty; `None` when the segment has fewer elements.
    pub fn raw_element(&self, i: usize) -> Option<&'a [u8]> {
        if i == 0 || self.body.is_empty() {
            return None;
        }
        let mut rest = self.body.get(1..)?;
        for _ in 1..i {
            let p = memchr(self.seps.e, rest)?;
            rest = rest.get(p + 1..)?;
        }
        Some(match memchr(self.seps.e, rest) {
            Some(p) => rest.get(..p).unwrap_or(rest),
            None => rest,
        })
    }

    /// Element `i` (1-based); `None` when absent or empty. Composites and
    /// repetitions are returned whole (see [`Self::component`], [`Self::repetitions`]).
    pub fn element(&self, i: usize) -> Option<&'a [u8]> {
        self.raw_element(i).filter(|v| !v.is_empty())
    }

    /// Element `i` as UTF-8 text; `None` when absent, empty or not UTF-8.
    pub fn element_str(&self, i: usize) -> Option<&'a str> {
        self.element(i).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// All elements as written (empty ones included), element 1 first.
    pub fn elements(&self) -> Pieces<'a> {
        Pieces {
            rest: self.body.get(1..),
            sep: Some(self.seps.e),
        }
    }

    /// The repetitions of element `i` (one item when the interchange
    /// declares no repetition separator or the element does not repeat;
    /// nothing when the element is absent or empty).
    pub fn repetitions(&self, i: usize) -> Pieces<'a> {
        Pieces {
            rest: self.element(i),
            sep: self.seps.r,
        }
    }

    /// The components of element `i` (of its first repetition).
    pub fn components(&self, i: usize) -> Pieces<'a> {
        let first = self.repetitions(i).next();
        Pieces {
            rest: first,
            sep: Some(self.seps.c),
        }
    }

    /// Splits one repetition (from [`Self::repetitions`]) into its components.
    pub fn components_of(&self, repetition: &'a [u8]) -> Pieces<'a> {
        Pieces {
            rest: Some(repetition),
            sep: Some(self.seps.c),
        }
    }

    /// Component `j` (1-based) of element `i`; `None` when absent or empty.
    pub fn component(&self, i: usize, j: usize) -> Option<&'a [u8]> {
        if j == 0 {
            return None;
        }
        self.components(i).nth(j - 1).filter(|v| !v.is_empty())
    }

    /// Where this segment is.
    pub fn location(&self) -> Location {
        Location {
            offset: self.offset,
            segment: self.number,
            segment_id: self.id_str().to_owned(),
            element: None,
            component: None,
        }
    }

    /// Where element `i` of this segment is.
    pub fn at(&self, i: usize) -> Location {
        self.location().with_element(i)
    }

    /// The separators this segment was split with.
    pub(crate) fn seps(&self) -> Seps {
        self.seps
    }
}

/// Pieces of a segment, element or composite split on one separator.
#[derive(Debug, Clone)]
pub struct Pieces<'a> {
    rest: Option<&'a [u8]>,
    sep: Option<u8>,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let Some(sep) = self.sep else {
            self.rest = None;
            return Some(rest);
        };
        match memchr(sep, rest) {
            Some(p) => {
                self.rest = rest.get(p + 1..);
                rest.get(..p)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Iterator over the segments of a byte range.
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    src: &'a [u8],
    pos: usize,
    end: usize,
    seps: Seps,
    number: usize,
    done: bool,
}

impl<'a> Segments<'a> {
    /// Scans `src` with known delimiters (no ISA detection); the first
    /// segment is numbered 1.
    pub fn new(src: &'a [u8], d: Delimiters) -> Self {
        Self::over(src, 0..src.len(), Seps::from_delimiters(d), 1)
    }

    pub(crate) fn over(
        src: &'a [u8],
        range: Range<usize>,
        seps: Seps,
        first_number: usize,
    ) -> Self {
        let end = range.end.min(src.len());
        Self {
            src,
            pos: range.start.min(end),
            end,
            seps,
            number: first_number.saturating_sub(1),
            done: false,
        }
    }

    /// Byte offset just after the last segment returned.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Number of the last segment returned (0 before the first).
    pub fn last_number(&self) -> usize {
        self.number
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, X12Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let s = self.seps.s;
        while let Some(&b) = self.src.get(self.pos) {
            if self.pos >= self.end || !(b == s || is_ws(b)) {
                break;
            }
            self.pos += 1;
        }
        if self.pos >= self.end {
            self.done = true;
            return None;
        }
        let start = self.pos;
        let rest = self.src.get(start..self.end)?;
        let Some(len) = memchr(s, rest) else {
            self.done = true;
            return Some(Err(X12Error::Syntax {
                at: Location {
                    offset: start,
                    segment: self.number + 1,
                    segment_id: shown(rest.get(..3.min(rest.len())).unwrap_or_default()),
                    element: None,
                    component: None,
                },
                message: format!(
                    "segment not terminated: expected the segment terminator {:?} before the end of the input",
                    char::from(s)
                ),
            }));
        };
        self.pos = start + len + 1;
        self.number += 1;
        let mut raw = rest.get(..len).unwrap_or_default();
        if s == b'\n'
            && let Some(stripped) = raw.strip_suffix(b"\r")
        {
            raw = stripped;
        }
        let id_len = raw
            .iter()
            .take(4)
            .position(|&b| b == self.seps.e)
            .unwrap_or(raw.len());
        let id = raw.get(..id_len).unwrap_or_default();
        if !valid_id(id) {
            self.done = true;
            return Some(Err(X12Error::Syntax {
                at: Location {
                    offset: start,
                    segment: self.number,
                    segment_id: shown(id.get(..id.len().min(8)).unwrap_or_default()),
                    element: None,
                    component: None,
                },
                message: format!(
                    "invalid segment id {:?}: expected 2 or 3 upper-case letters or digits followed by the element separator {:?}",
                    shown(id),
                    char::from(self.seps.e)
                ),
            }));
        }
        Some(Ok(Segment {
            id,
            offset: start,
            number: self.number,
            body: raw.get(id_len..).unwrap_or_default(),
            full: raw,
            seps: self.seps,
        }))
    }
}

/// The ISA fields, as written (fixed-width fields keep their padding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IsaFields {
    /// ISA01 authorization information qualifier.
    pub authorization_qualifier: String,
    /// ISA02 authorization information.
    pub authorization: String,
    /// ISA03 security information qualifier.
    pub security_qualifier: String,
    /// ISA04 security information.
    pub security: String,
    /// ISA05 sender id qualifier.
    pub sender_qualifier: String,
    /// ISA06 sender id.
    pub sender_id: String,
    /// ISA07 receiver id qualifier.
    pub receiver_qualifier: String,
    /// ISA08 receiver id.
    pub receiver_id: String,
    /// ISA09 date `YYMMDD`.
    pub date: String,
    /// ISA10 time `HHMM`.
    pub time: String,
    /// ISA11 repetition separator (5010) or standards identifier (4010 `U`).
    pub repetition: String,
    /// ISA12 version (`00501`).
    pub version: String,
    /// ISA13 control number (nine digits).
    pub control_number: String,
    /// ISA14 acknowledgment requested (`0`/`1`).
    pub ack_requested: String,
    /// ISA15 usage (`P` production, `T` test).
    pub usage: String,
    /// ISA16 component separator.
    pub component: String,
}

/// One transaction set (ST..SE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// ST01 transaction set identifier (`835`).
    pub id: String,
    /// ST02 control number.
    pub control: String,
    /// ST03 implementation convention reference (`005010X222A1`).
    pub implementation_reference: Option<String>,
    /// Byte range from the start of ST to just after the SE terminator.
    pub span: Range<usize>,
    /// Number of the ST segment in the input.
    pub first_segment: usize,
    /// Segments from ST to SE inclusive, as counted.
    pub segment_count: usize,
    #[serde(skip)]
    seps: Seps,
}

impl Transaction {
    /// The segments ST..SE (`src` is the input the interchange was parsed from).
    pub fn segments<'a>(&self, src: &'a [u8]) -> Segments<'a> {
        Segments::over(src, self.span.clone(), self.seps, self.first_segment)
    }

    /// Location of the ST segment (element `element` when given).
    pub fn st_location(&self, element: Option<usize>) -> Location {
        Location {
            offset: self.span.start,
            segment: self.first_segment,
            segment_id: "ST".into(),
            element,
            component: None,
        }
    }

    /// Location of the SE segment.
    pub fn se_location(&self, src: &[u8]) -> Location {
        let n = self.first_segment + self.segment_count.saturating_sub(1);
        let offset = self
            .segments(src)
            .filter_map(Result::ok)
            .last()
            .map_or(self.span.end, |s| s.offset);
        Location {
            offset,
            segment: n,
            segment_id: "SE".into(),
            element: None,
            component: None,
        }
    }
}

/// One functional group (GS..GE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// GS01 functional identifier code (`HC`, `HP`, `FA`, `HN`).
    pub functional_id: String,
    /// GS02 application sender code.
    pub sender: String,
    /// GS03 application receiver code.
    pub receiver: String,
    /// GS04 date `CCYYMMDD`.
    pub date: String,
    /// GS05 time.
    pub time: String,
    /// GS06 group control number.
    pub control_number: String,
    /// GS07 responsible agency code (`X`).
    pub agency: String,
    /// GS08 version / release / industry identifier (`005010X221A1`).
    pub version: String,
    /// The transaction sets.
    pub transactions: Vec<Transaction>,
    /// Byte range from the start of GS to just after the GE terminator.
    pub span: Range<usize>,
    /// Number of the GS segment in the input.
    pub first_segment: usize,
}

impl Group {
    /// Location of the GS segment (element `element` when given).
    pub fn gs_location(&self, element: Option<usize>) -> Location {
        Location {
            offset: self.span.start,
            segment: self.first_segment,
            segment_id: "GS".into(),
            element,
            component: None,
        }
    }
}

/// One interchange (ISA..IEA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interchange {
    /// The ISA fields.
    pub isa: IsaFields,
    /// The delimiters (`repetition` is the ISA11 byte as written).
    pub delimiters: Delimiters,
    /// The repetition separator, when ISA11 declares one.
    pub repetition_separator: Option<u8>,
    /// The functional groups.
    pub groups: Vec<Group>,
    /// IEA01 as written.
    pub declared_group_count: String,
    /// IEA02 as written.
    pub trailer_control_number: String,
    /// Byte range from the start of ISA to just after the IEA terminator.
    pub span: Range<usize>,
    /// Number of the ISA segment in the input.
    pub first_segment: usize,
    /// Segments from ISA to IEA inclusive.
    pub segment_count: usize,
    /// Count and control-number mismatches found (see [`parse_strict`]).
    pub issues: Vec<X12Error>,
    #[serde(skip)]
    seps: Seps,
}

impl Interchange {
    /// The segments ISA..IEA.
    pub fn segments<'a>(&self, src: &'a [u8]) -> Segments<'a> {
        Segments::over(src, self.span.clone(), self.seps, self.first_segment)
    }

    /// Every transaction set with its group.
    pub fn transactions(&self) -> impl Iterator<Item = (&Group, &Transaction)> {
        self.groups
            .iter()
            .flat_map(|g| g.transactions.iter().map(move |t| (g, t)))
    }

    pub(crate) fn seps(&self) -> Seps {
        self.seps
    }
}

/// Reads every interchange of `src`, recording trailer mismatches as
/// [`Interchange::issues`].
pub fn parse(src: &[u8]) -> Result<Vec<Interchange>, X12Error> {
    let mut pos = 0;
    if src.starts_with(b"\xEF\xBB\xBF") {
        pos = 3;
    }
    pos = skip_ws(src, pos);
    if pos >= src.len() {
        return Err(X12Error::Isa {
            at: Location {
                offset: pos,
                segment: 1,
                segment_id: String::new(),
                element: None,
                component: None,
            },
            message: "no ISA segment: the input is empty".into(),
        });
    }
    let mut out = Vec::new();
    let mut number = 1;
    while pos < src.len() {
        let (ic, next) = parse_interchange(src, pos, number)?;
        number = ic.first_segment + ic.segment_count;
        out.push(ic);
        pos = skip_ws(src, next);
    }
    Ok(out)
}

/// Like [`parse`], but the first count or control-number mismatch is an error.
pub fn parse_strict(src: &[u8]) -> Result<Vec<Interchange>, X12Error> {
    let all = parse(src)?;
    if let Some(e) = all.iter().flat_map(|ic| ic.issues.iter()).next() {
        return Err(e.clone());
    }
    Ok(all)
}

fn skip_ws(src: &[u8], mut pos: usize) -> usize {
    while src.get(pos).is_some_and(|&b| is_ws(b)) {
        pos += 1;
    }
    pos
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// What the ISA tells.
struct IsaRead {
    fields: IsaFields,
    delimiters: Delimiters,
    seps: Seps,
    issues: Vec<X12Error>,
}

fn read_isa(src: &[u8], start: usize, number: usize) -> Result<IsaRead, X12Error> {
    let at = Location {
        offset: start,
        segment: number,
        segment_id: "ISA".into(),
        element: None,
        component: None,
    };
    let err = |message: String| X12Error::Isa {
        at: at.clone(),
        message,
    };
    let b = src.get(start..).unwrap_or_default();
    if !b.starts_with(b"ISA") {
        let mut at = at.clone();
        at.segment_id = shown(b.get(..3.min(b.len())).unwrap_or_default());
        return Err(X12Error::Isa {
            at,
            message: format!(
                "expected an interchange to start with \"ISA\", found {:?}",
                shown(b.get(..16.min(b.len())).unwrap_or_default())
            ),
        });
    }
    let Some(&e) = b.get(3) else {
        return Err(err(format!(
            "truncated: the ISA segment is {ISA_LEN} bytes, only {} remain",
            b.len()
        )));
    };
    if e.is_ascii_alphanumeric() || e == b' ' {
        return Err(err(format!(
            "the element separator (ISA byte 3) {:?} is a letter, digit or space",
            char::from(e)
        )));
    }
    let mut issues = Vec::new();
    let fixed = b.len() >= ISA_LEN
        && ISA_SEPARATORS.iter().all(|&p| b.get(p) == Some(&e))
        && memchr::memchr_iter(e, b.get(..ISA_LEN - 2).unwrap_or_default()).count() == 16;
    // position of the 16th separator (ISA16 follows it)
    let last_sep = if fixed {
        ISA_SEPARATORS[15]
    } else {
        // unpadded ISA: count separators within a bounded window
        let window = b.get(..b.len().min(512)).unwrap_or_default();
        let seps: Vec<usize> = memchr::memchr_iter(e, window).take(16).collect();
        match seps.get(15) {
            Some(&p) if p + 2 < window.len() => {
                issues.push(X12Error::Mismatch {
                    at: at.clone(),
                    check: Check::IsaFormat,
                    expected: format!("a fixed-width ISA of {ISA_LEN} bytes"),
                    found: format!("{} bytes", p + 3),
                });
                p
            }
            _ if b.len() < ISA_LEN => {
                return Err(err(format!(
                    "truncated: the ISA segment is {ISA_LEN} bytes, only {} remain",
                    b.len()
                )));
            }
            _ => {
                let bad = ISA_SEPARATORS
                    .iter()
                    .enumerate()
                    .find(|&(_, &p)| b.get(p) != Some(&e))
                    .map_or(0, |(i, _)| i + 1);
                return Err(err(format!(
                    "not a fixed-width ISA: expected the element separator {:?} before ISA{:02} (byte {}), and fewer than 16 separators were found",
                    char::from(e),
                    bad,
                    ISA_SEPARATORS
                        .get(bad.saturating_sub(1))
                        .copied()
                        .unwrap_or(0)
                )));
            }
        }
    };
    let (Some(&c), Some(&s)) = (b.get(last_sep + 1), b.get(last_sep + 2)) else {
        return Err(err("truncated after ISA16".into()));
    };
    let body = b.get(..last_sep + 2).unwrap_or_default();
    let elems: Vec<&[u8]> = body
        .get(4..)
        .unwrap_or_default()
        .split(|&x| x == e)
        .collect();
    if elems.len() != 16 {
        return Err(err(format!("expected 16 elements, found {}", elems.len())));
    }
    let field = |i: usize| text(elems.get(i - 1).copied().unwrap_or_default());
    let r = elems
        .get(10)
        .and_then(|v| v.first())
        .copied()
        .unwrap_or(b' ');
    let rep = repetition_active(r).then_some(r);
    if c.is_ascii_alphanumeric() || c == b' ' {
        return Err(X12Error::Isa {
            at: at.clone().with_element(16),
            message: format!(
                "the component separator {:?} is a letter, digit or space",
                char::from(c)
            ),
        });
    }
    if s.is_ascii_alphanumeric() || s == b' ' {
        return Err(err(format!(
            "the segment terminator (the byte after ISA16) {:?} is a letter, digit or space",
            char::from(s)
        )));
    }
    if c == e || s == e || s == c {
        return Err(err(format!(
            "delimiters must differ: element {:?}, component {:?}, segment {:?}",
            char::from(e),
            char::from(c),
            char::from(s)
        )));
    }
    if let Some(r) = rep
        && (r == e || r == c || r == s)
    {
        return Err(X12Error::Isa {
            at: at.clone().with_element(11),
            message: format!(
                "the repetition separator {:?} equals another delimiter",
                char::from(r)
            ),
        });
    }
    if memchr(s, body).is_some() {
        return Err(err(format!(
            "the segment terminator {:?} occurs inside the ISA fields",
            char::from(s)
        )));
    }
    if elems.get(10).is_none_or(|v| v.len() != 1) || elems.get(15).is_none_or(|v| v.len() != 1) {
        return Err(err("ISA11 and ISA16 must be one byte each".into()));
    }
    let fields = IsaFields {
        authorization_qualifier: field(1),
        authorization: field(2),
        security_qualifier: field(3),
        security: field(4),
        sender_qualifier: field(5),
        sender_id: field(6),
        receiver_qualifier: field(7),
        receiver_id: field(8),
        date: field(9),
        time: field(10),
        repetition: field(11),
        version: field(12),
        control_number: field(13),
        ack_requested: field(14),
        usage: field(15),
        component: field(16),
    };
    if fields.control_number.len() != 9
        || !fields.control_number.bytes().all(|b| b.is_ascii_digit())
    {
        issues.push(X12Error::Mismatch {
            at: at.clone().with_element(13),
            check: Check::IsaFormat,
            expected: "ISA13 of nine digits".into(),
            found: shown(fields.control_number.as_bytes()),
        });
    }
    Ok(IsaRead {
        fields,
        delimiters: Delimiters {
            element: e,
            component: c,
            repetition: r,
            segment: s,
        },
        seps: Seps { e, c, r: rep, s },
        issues,
    })
}

fn parse_count(v: Option<&[u8]>) -> Option<u64> {
    let v = v?;
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Whether two control numbers are the same (numerically when both are digits).
fn same_control(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    match (parse_count(Some(a)), parse_count(Some(b))) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

struct OpenGroup {
    group: Group,
}

struct OpenTx {
    tx: Transaction,
}

fn structure(seg: &Segment<'_>, expected: impl Into<String>, found: impl Into<String>) -> X12Error {
    X12Error::Structure {
        at: seg.location(),
        expected: expected.into(),
        found: found.into(),
    }
}

fn check_count(
    issues: &mut Vec<X12Error>,
    seg: &Segment<'_>,
    element: usize,
    check: Check,
    actual: usize,
    what: &str,
) {
    let v = seg.element(element);
    if parse_count(v) != Some(actual as u64) {
        issues.push(X12Error::Mismatch {
            at: seg.at(element),
            check,
            expected: format!("{actual} ({what})"),
            found: v.map_or_else(|| "nothing".to_owned(), shown),
        });
    }
}

fn check_control(
    issues: &mut Vec<X12Error>,
    seg: &Segment<'_>,
    element: usize,
    check: Check,
    header: &str,
    what: &str,
) {
    let v = seg.element(element).unwrap_or_default();
    if !same_control(v, header.as_bytes()) {
        issues.push(X12Error::Mismatch {
            at: seg.at(element),
            check,
            expected: format!("{header:?} ({what})"),
            found: format!("{:?}", shown(v)),
        });
    }
}

fn parse_interchange(
    src: &[u8],
    start: usize,
    number: usize,
) -> Result<(Interchange, usize), X12Error> {
    let isa = read_isa(src, start, number)?;
    let seps = isa.seps;
    let mut issues = isa.issues;
    let mut it = Segments::over(src, start..src.len(), seps, number);
    // the ISA itself (checked by read_isa)
    match it.next() {
        Some(Ok(s)) if s.id == b"ISA" => {}
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(X12Error::Isa {
                at: Location {
                    offset: start,
                    segment: number,
                    segment_id: "ISA".into(),
                    element: None,
                    component: None,
                },
                message: "could not be read as a segment".into(),
            });
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut group: Option<OpenGroup> = None;
    let mut tx: Option<OpenTx> = None;
    while let Some(seg) = it.next() {
        let seg = seg?;
        let id = seg.id;
        let envelope = matches!(id, b"ISA" | b"IEA" | b"GS" | b"GE" | b"ST" | b"SE");
        if !envelope {
            if let Some(t) = tx.as_mut() {
                t.tx.segment_count += 1;
                continue;
            }
            if id == b"TA1" && group.is_none() && groups.is_empty() {
                // TA1 interchange acknowledgments sit between ISA and the first GS
                continue;
            }
            let inside = if group.is_some() {
                "GE or ST"
            } else {
                "GS or IEA"
            };
            return Err(structure(
                &seg,
                format!(
                    "{inside} (segment {} is outside a transaction set)",
                    seg.id_str()
                ),
                seg.id_str(),
            ));
        }
        match id {
            b"ST" => {
                if let Some(t) = &tx {
                    return Err(structure(
                        &seg,
                        format!(
                            "SE closing transaction set {} begun at segment {}",
                            t.tx.control, t.tx.first_segment
                        ),
                        "ST",
                    ));
                }
                if group.is_none() {
                    return Err(structure(
                        &seg,
                        "GS before ST (ST outside a functional group)",
                        "ST",
                    ));
                }
                if seg.element(1).is_none() {
                    issues.push(X12Error::Missing {
                        at: seg.at(1),
                        what: "ST01 transaction set identifier".into(),
                    });
                }
                if seg.element(2).is_none() {
                    issues.push(X12Error::Missing {
                        at: seg.at(2),
                        what: "ST02 transaction set control number".into(),
                    });
                }
                tx = Some(OpenTx {
                    tx: Transaction {
                        id: seg.element(1).map(text).unwrap_or_default(),
                        control: seg.element(2).map(text).unwrap_or_default(),
                        implementation_reference: seg.element(3).map(text),
                        span: seg.offset..seg.offset,
                        first_segment: seg.number,
                        segment_count: 1,
                        seps,
                    },
                });
            }
            b"SE" => {
                let Some(OpenTx { tx: mut t }) = tx.take() else {
                    return Err(structure(
                        &seg,
                        "ST before SE (SE without an open transaction set)",
                        "SE",
                    ));
                };
                t.segment_count += 1;
                check_count(
                    &mut issues,
                    &seg,
                    1,
                    Check::SegmentCount,
                    t.segment_count,
                    "segments from ST to SE inclusive",
                );
                check_control(
                    &mut issues,
                    &seg,
                    2,
                    Check::TransactionControl,
                    &t.control,
                    "ST02",
                );
                t.span.end = it.position();
                if let Some(g) = group.as_mut() {
                    g.group.transactions.push(t);
                }
            }
            b"GS" => {
                if let Some(g) = &group {
                    return Err(structure(
                        &seg,
                        format!(
                            "GE closing functional group {} begun at segment {}",
                            g.group.control_number, g.group.first_segment
                        ),
                        "GS",
                    ));
                }
                let f = |i| seg.element(i).map(text).unwrap_or_default();
                if seg.element(6).is_none() {
                    issues.push(X12Error::Missing {
                        at: seg.at(6),
                        what: "GS06 group control number".into(),
                    });
                }
                group = Some(OpenGroup {
                    group: Group {
                        functional_id: f(1),
                        sender: f(2),
                        receiver: f(3),
                        date: f(4),
                        time: f(5),
                        control_number: f(6),
                        agency: f(7),
                        version: f(8),
                        transactions: Vec::new(),
                        span: seg.offset..seg.offset,
                        first_segment: seg.number,
                    },
                });
            }
            b"GE" => {
                if let Some(t) = &tx {
                    return Err(structure(
                        &seg,
                        format!(
                            "SE closing transaction set {} begun at segment {}",
                            t.tx.control, t.tx.first_segment
                        ),
                        "GE",
                    ));
                }
                let Some(OpenGroup { group: mut g }) = group.take() else {
                    return Err(structure(
                        &seg,
                        "GS before GE (GE without an open functional group)",
                        "GE",
                    ));
                };
                check_count(
                    &mut issues,
                    &seg,
                    1,
                    Check::TransactionCount,
                    g.transactions.len(),
                    "transaction sets in the group",
                );
                check_control(
                    &mut issues,
                    &seg,
                    2,
                    Check::GroupControl,
                    &g.control_number,
                    "GS06",
                );
                g.span.end = it.position();
                groups.push(g);
            }
            b"IEA" => {
                if let Some(t) = &tx {
                    return Err(structure(
                        &seg,
                        format!(
                            "SE closing transaction set {} begun at segment {}",
                            t.tx.control, t.tx.first_segment
                        ),
                        "IEA",
                    ));
                }
                if let Some(g) = &group {
                    return Err(structure(
                        &seg,
                        format!(
                            "GE closing functional group {} begun at segment {}",
                            g.group.control_number, g.group.first_segment
                        ),
                        "IEA",
                    ));
                }
                check_count(
                    &mut issues,
                    &seg,
                    1,
                    Check::GroupCount,
                    groups.len(),
                    "functional groups",
                );
                check_control(
                    &mut issues,
                    &seg,
                    2,
                    Check::InterchangeControl,
                    &isa.fields.control_number,
                    "ISA13",
                );
                let end = it.position();
                let ic = Interchange {
                    declared_group_count: seg.element(1).map(text).unwrap_or_default(),
                    trailer_control_number: seg.element(2).map(text).unwrap_or_default(),
                    isa: isa.fields,
                    delimiters: isa.delimiters,
                    repetition_separator: seps.r,
                    groups,
                    span: start..end,
                    first_segment: number,
                    segment_count: seg.number + 1 - number,
                    issues,
                    seps,
                };
                return Ok((ic, end));
            }
            _ => {
                // ISA inside an open interchange
                return Err(structure(
                    &seg,
                    format!(
                        "IEA closing interchange {} before the next ISA",
                        isa.fields.control_number
                    ),
                    "ISA",
                ));
            }
        }
    }
    let at = Location {
        offset: src.len(),
        segment: it.last_number() + 1,
        segment_id: String::new(),
        element: None,
        component: None,
    };
    let what = if let Some(t) = &tx {
        format!(
            "SE: the input ends inside transaction set {} (ST at segment {})",
            t.tx.control, t.tx.first_segment
        )
    } else if let Some(g) = &group {
        format!(
            "GE: the input ends inside functional group {} (GS at segment {})",
            g.group.control_number, g.group.first_segment
        )
    } else {
        format!(
            "IEA: the input ends inside interchange {} (ISA at segment {number})",
            isa.fields.control_number
        )
    };
    Err(X12Error::Missing { at, what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isa(e: char, rep: char, comp: char, term: char) -> String {
        format!(
            "ISA{e}00{e}          {e}00{e}          {e}ZZ{e}SENDER         {e}ZZ{e}RECEIVER       {e}240101{e}1200{e}{rep}{e}00501{e}000000001{e}0{e}T{e}{comp}{term}"
        )
    }

    #[test]
    fn isa_is_106_bytes() {
        assert_eq!(isa('*', '^', ':', '~').len(), ISA_LEN);
    }

    #[test]
    fn segment_accessors() {
        let d = Delimiters::default();
        let src = b"SVC*HC:99213:25*100.00**^x^y~";
        let seg = Segments::new(src, d)
            .next()
            .and_then(Result::ok)
            .expect("segment");
        assert_eq!(seg.id, b"SVC");
        assert_eq!(seg.element(1), Some(&b"HC:99213:25"[..]));
        assert_eq!(seg.component(1, 2), Some(&b"99213"[..]));
        assert_eq!(seg.component(1, 3), Some(&b"25"[..]));
        assert_eq!(seg.component(1, 4), None);
        assert_eq!(seg.element(3), None);
        assert_eq!(seg.raw_element(3), Some(&b""[..]));
        assert_eq!(seg.element(5), None);
        assert_eq!(seg.element_count(), 4);
        assert_eq!(
            seg.repetitions(4).collect::<Vec<_>>(),
            vec![&b""[..], b"x", b"y"]
        );
        assert_eq!(seg.raw(), &src[..src.len() - 1]);
    }

    #[test]
    fn minimal_interchange() {
        let mut s = isa('*', '^', ':', '~');
        s.push_str("\r\nGS*HP*A*B*20240101*1200*7*X*005010X221A1~\nST*835*0001~\nBPR*I*1*C*CHK~SE*3*0001~GE*1*7~IEA*1*000000001~\n");
        let all = parse_strict(s.as_bytes()).expect("parses");
        assert_eq!(all.len(), 1);
        let ic = &all[0];
        assert_eq!(ic.groups[0].transactions[0].segment_count, 3);
        assert_eq!(ic.segment_count, 7);
        let t = &ic.groups[0].transactions[0];
        let ids: Vec<_> = t
            .segments(s.as_bytes())
            .map(|x| x.expect("seg").id_str().to_owned())
            .collect();
        assert_eq!(ids, ["ST", "BPR", "SE"]);
    }

    #[test]
    fn u_in_isa11_is_not_a_separator() {
        let mut s = isa('*', 'U', ':', '~');
        s.push_str("GS*HC*A*B*20240101*1200*1*X*005010X222A1~ST*837*1~NM1*UUU~SE*3*1~GE*1*1~IEA*1*000000001~");
        let all = parse_strict(s.as_bytes()).expect("parses");
        assert_eq!(all[0].repetition_separator, None);
        let t = &all[0].groups[0].transactions[0];
        let nm1 = t
            .segments(s.as_bytes())
            .nth(1)
            .and_then(Result::ok)
            .expect("NM1");
        assert_eq!(nm1.repetitions(1).count(), 1);
    }
}
