//! Types shared by the typed parsers (names, references, dates, procedure
//! codes) and the element helpers that turn a missing or malformed value
//! into a located [`X12Error`].

use jiff::civil::Date;
use memchr::memchr;
use serde::{Deserialize, Serialize};

use crate::error::{Location, X12Error, shown};
use crate::money::{is_decimal, parse_cents};
use crate::reader::{Group, Segment, Transaction};

/// An `NM1` name: person or organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// NM101 entity identifier code (`QC` patient, `IL` insured, `85` billing provider, …).
    pub entity_code: String,
    /// NM102 entity type (`1` person, `2` non-person).
    pub entity_type: Option<String>,
    /// NM103 last or organization name.
    pub name: Option<String>,
    /// NM104 first name.
    pub first_name: Option<String>,
    /// NM105 middle name.
    pub middle_name: Option<String>,
    /// NM107 name suffix.
    pub suffix: Option<String>,
    /// NM108 identification code qualifier (`XX` NPI, `MI` member id, `PI` payer id).
    pub id_qualifier: Option<String>,
    /// NM109 identification code.
    pub id: Option<String>,
}

/// A `REF` reference: qualifier and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// REF01 qualifier (`1K` payer claim control number, `D9` clearinghouse trace …).
    pub qualifier: String,
    /// REF02 value.
    pub value: String,
}

/// A qualified date (`DTM` in the 835, `DTP` elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRef {
    /// Date/time qualifier (`472` service, `232` claim statement start, `405` production …).
    pub qualifier: String,
    /// First day.
    pub from: Date,
    /// Last day (equal to `from` for a single date).
    pub to: Date,
}

/// A qualified amount (`AMT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountRef {
    /// AMT01 qualifier (`AU` coverage amount, `B6` allowed …).
    pub qualifier: String,
    /// AMT02 in cents.
    pub amount_cents: i64,
}

/// A composite procedure identifier (`HC:99213:25`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// Product/service id qualifier (`HC` HCPCS/CPT, `NU` revenue code, `N4` NDC …).
    pub qualifier: String,
    /// The code.
    pub code: String,
    /// Up to four modifiers.
    pub modifiers: Vec<String>,
    /// Description (component 7), when sent.
    pub description: Option<String>,
}

/// A postal address (`N3`/`N4`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// N301, N302.
    pub lines: Vec<String>,
    /// N401.
    pub city: Option<String>,
    /// N402.
    pub state: Option<String>,
    /// N403.
    pub postal_code: Option<String>,
    /// N404.
    pub country: Option<String>,
}

/// An `N1` party (payer, payee) with its address and references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// N101 entity identifier code (`PR` payer, `PE` payee).
    pub entity_code: String,
    /// N102 name.
    pub name: Option<String>,
    /// N103 identification code qualifier (`XX` NPI, `FI` tax id …).
    pub id_qualifier: Option<String>,
    /// N104 identification code.
    pub id: Option<String>,
    /// N3/N4 address.
    pub address: Option<Address>,
    /// REF segments of the party loop.
    pub references: Vec<Reference>,
}

/// Warnings collected while parsing a transaction set.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub(crate) warnings: Vec<String>,
    foreign_component_reported: bool,
}

impl Ctx {
    /// Dates are informational: a missing or impossible one is a located
    /// warning, not an error (published samples carry typos such as month 23).
    pub(crate) fn lenient<T>(&mut self, r: Result<T, X12Error>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.warnings.push(e.to_string());
                None
            }
        }
    }
}

pub(crate) fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

fn el_name(seg: &Segment<'_>, i: usize) -> String {
    format!("{}{:02}", seg.id_str(), i)
}

pub(crate) fn req<'a>(seg: &Segment<'a>, i: usize, what: &str) -> Result<&'a [u8], X12Error> {
    seg.element(i).ok_or_else(|| X12Error::Missing {
        at: seg.at(i),
        what: format!("{} {what}", el_name(seg, i)),
    })
}

pub(crate) fn req_text(seg: &Segment<'_>, i: usize, what: &str) -> Result<String, X12Error> {
    req(seg, i, what).map(text)
}

pub(crate) fn opt_text(seg: &Segment<'_>, i: usize) -> Option<String> {
    seg.element(i).map(text)
}

pub(crate) fn invalid(at: Location, expected: String, found: &[u8]) -> X12Error {
    X12Error::Invalid {
        at,
        expected,
        found: shown(found),
    }
}

pub(crate) fn money(seg: &Segment<'_>, i: usize, what: &str) -> Result<i64, X12Error> {
    let v = req(seg, i, what)?;
    parse_cents(v).map_err(|e| {
        invalid(
            seg.at(i),
            format!("{} {what} as an amount ({e})", el_name(seg, i)),
            v,
        )
    })
}

pub(crate) fn opt_money(seg: &Segment<'_>, i: usize, what: &str) -> Result<Option<i64>, X12Error> {
    match seg.element(i) {
        None => Ok(None),
        Some(_) => money(seg, i, what).map(Some),
    }
}

pub(crate) fn quantity(
    seg: &Segment<'_>,
    i: usize,
    what: &str,
) -> Result<Option<String>, X12Error> {
    match seg.element(i) {
        None => Ok(None),
        Some(v) if is_decimal(v) => Ok(Some(text(v))),
        Some(v) => Err(invalid(
            seg.at(i),
            format!("{} {what} as a decimal number", el_name(seg, i)),
            v,
        )),
    }
}

pub(crate) fn number(seg: &Segment<'_>, i: usize, what: &str) -> Result<u32, X12Error> {
    let v = req(seg, i, what)?;
    let n = if v.len() <= 9 && v.iter().all(u8::is_ascii_digit) {
        std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
    } else {
        None
    };
    n.ok_or_else(|| {
        invalid(
            seg.at(i),
            format!("{} {what} as a whole number", el_name(seg, i)),
            v,
        )
    })
}

/// `CCYYMMDD` → date.
pub(crate) fn parse_date8(v: &[u8]) -> Option<Date> {
    if v.len() != 8 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| {
        v.get(r)
            .map(|d| d.iter().fold(0i32, |a, &b| a * 10 + i32::from(b - b'0')))
            .unwrap_or(0)
    };
    let y = i16::try_from(n(0..4)).ok()?;
    let m = i8::try_from(n(4..6)).ok()?;
    let d = i8::try_from(n(6..8)).ok()?;
    Date::new(y, m, d).ok()
}

pub(crate) fn date8(seg: &Segment<'_>, i: usize, what: &str) -> Result<Date, X12Error> {
    let v = req(seg, i, what)?;
    parse_date8(v).ok_or_else(|| {
        invalid(
            seg.at(i),
            format!("{} {what} as a date CCYYMMDD", el_name(seg, i)),
            v,
        )
    })
}

pub(crate) fn opt_date8(seg: &Segment<'_>, i: usize, what: &str) -> Result<Option<Date>, X12Error> {
    match seg.element(i) {
        None => Ok(None),
        Some(_) => date8(seg, i, what).map(Some),
    }
}

/// `DTM*qual*CCYYMMDD` (835).
pub(crate) fn dtm(seg: &Segment<'_>) -> Result<DateRef, X12Error> {
    let qualifier = req_text(seg, 1, "date/time qualifier")?;
    let d = date8(seg, 2, "date")?;
    Ok(DateRef {
        qualifier,
        from: d,
        to: d,
    })
}

/// `DTP*qual*D8|RD8*value`.
pub(crate) fn dtp(seg: &Segment<'_>) -> Result<DateRef, X12Error> {
    let qualifier = req_text(seg, 1, "date/time qualifier")?;
    let format = req(seg, 2, "date format qualifier")?;
    let v = req(seg, 3, "date")?;
    let bad = |expected: &str| invalid(seg.at(3), format!("DTP03 as {expected}"), v);
    let (from, to) = match format {
        b"D8" => {
            let d = parse_date8(v).ok_or_else(|| bad("a date CCYYMMDD"))?;
            (d, d)
        }
        b"RD8" => {
            let (a, b) = match memchr(b'-', v) {
                Some(p) => (
                    v.get(..p).unwrap_or_default(),
                    v.get(p + 1..).unwrap_or_default(),
                ),
                None => (v, &b""[..]),
            };
            let from = parse_date8(a).ok_or_else(|| bad("a range CCYYMMDD-CCYYMMDD"))?;
            let to = parse_date8(b).ok_or_else(|| bad("a range CCYYMMDD-CCYYMMDD"))?;
            if to < from {
                return Err(bad("a range whose end is not before its start"));
            }
            (from, to)
        }
        other => {
            return Err(invalid(
                seg.at(2),
                "DTP02 date format D8 or RD8".into(),
                other,
            ));
        }
    };
    Ok(DateRef {
        qualifier,
        from,
        to,
    })
}

/// The components of element `i` (first repetition). When the element does
/// not contain the declared component separator but evidently uses `:` or
/// `>` instead (a short qualifier followed by it, as some senders write
/// `HC>99213`), splits on that and records a warning once.
pub(crate) fn composite<'a>(ctx: &mut Ctx, seg: &Segment<'a>, i: usize) -> Vec<&'a [u8]> {
    let Some(first) = seg.repetitions(i).next() else {
        return Vec::new();
    };
    let seps = seg.seps();
    if memchr(seps.c, first).is_none() {
        for alt in [b':', b'>'] {
            if alt == seps.c || alt == seps.e || alt == seps.s || Some(alt) == seps.r {
                continue;
            }
            if let Some(p) = memchr(alt, first)
                && (1..=3).contains(&p)
                && first
                    .get(..p)
                    .is_some_and(|q| q.iter().all(u8::is_ascii_alphanumeric))
            {
                if !ctx.foreign_component_reported {
                    ctx.foreign_component_reported = true;
                    ctx.warnings.push(format!(
                        "{}: the composite uses {:?} as its component separator, ISA16 declares {:?}",
                        seg.at(i),
                        char::from(alt),
                        char::from(seps.c)
                    ));
                }
                return first.split(|&b| b == alt).collect();
            }
        }
    }
    first.split(|&b| b == seps.c).collect()
}

pub(crate) fn part<'a>(parts: &[&'a [u8]], j: usize) -> Option<&'a [u8]> {
    parts
        .get(j.wrapping_sub(1))
        .copied()
        .filter(|v| !v.is_empty())
}

pub(crate) fn req_part<'a>(
    seg: &Segment<'_>,
    parts: &[&'a [u8]],
    i: usize,
    j: usize,
    what: &str,
) -> Result<&'a [u8], X12Error> {
    part(parts, j).ok_or_else(|| X12Error::Missing {
        at: seg.at(i).with_component(j),
        what: format!("{}-{j} {what}", el_name(seg, i)),
    })
}

/// A composite procedure (`HC:99213:25`): qualifier and code required.
pub(crate) fn procedure(
    ctx: &mut Ctx,
    seg: &Segment<'_>,
    i: usize,
    what: &str,
) -> Result<Procedure, X12Error> {
    req(seg, i, what)?;
    let parts = composite(ctx, seg, i);
    let qualifier = text(req_part(seg, &parts, i, 1, "product/service id qualifier")?);
    let code = text(req_part(seg, &parts, i, 2, "procedure code")?);
    let modifiers = (3..=6).filter_map(|j| part(&parts, j)).map(text).collect();
    Ok(Procedure {
        qualifier,
        code,
        modifiers,
        description: part(&parts, 7).map(text),
    })
}

pub(crate) fn opt_procedure(
    ctx: &mut Ctx,
    seg: &Segment<'_>,
    i: usize,
    what: &str,
) -> Result<Option<Procedure>, X12Error> {
    match seg.element(i) {
        None => Ok(None),
        Some(_) => procedure(ctx, seg, i, what).map(Some),
    }
}

/// `NM1`: NM101 required.
pub(crate) fn entity(seg: &Segment<'_>) -> Result<Entity, X12Error> {
    Ok(Entity {
        entity_code: req_text(seg, 1, "entity identifier code")?,
        entity_type: opt_text(seg, 2),
        name: opt_text(seg, 3),
        first_name: opt_text(seg, 4),
        middle_name: opt_text(seg, 5),
        suffix: opt_text(seg, 7),
        id_qualifier: opt_text(seg, 8),
        id: opt_text(seg, 9),
    })
}

pub(crate) fn reference(seg: &Segment<'_>) -> Result<Reference, X12Error> {
    Ok(Reference {
        qualifier: req_text(seg, 1, "reference identification qualifier")?,
        value: req_text(seg, 2, "reference identification")?,
    })
}

pub(crate) fn amount(seg: &Segment<'_>) -> Result<AmountRef, X12Error> {
    Ok(AmountRef {
        qualifier: req_text(seg, 1, "amount qualifier")?,
        amount_cents: money(seg, 2, "monetary amount")?,
    })
}

/// Checks ST01 and GS08 (by prefix) before a typed parser runs.
pub(crate) fn check_transaction(
    group: &Group,
    tx: &Transaction,
    st01: &str,
    versions: &[&str],
    name: &str,
) -> Result<(), X12Error> {
    if tx.id != st01 {
        return Err(X12Error::WrongTransaction {
            at: tx.st_location(Some(1)),
            expected: format!("ST01 {st01} ({name})"),
            found: tx.id.clone(),
        });
    }
    if !versions.iter().any(|v| group.version.starts_with(v)) {
        return Err(X12Error::WrongTransaction {
            at: group.gs_location(Some(8)),
            expected: format!("GS08 {} ({name})", versions.join(" or ")),
            found: group.version.clone(),
        });
    }
    Ok(())
}

/// Where a missing segment was expected: the transaction's SE.
pub(crate) fn missing_segment(at: Location, what: &str) -> X12Error {
    X12Error::Missing {
        at,
        what: format!("segment {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date8(b"20240229"),
            Some(jiff::civil::date(2024, 2, 29))
        );
        assert_eq!(parse_date8(b"20230229"), None);
        assert_eq!(parse_date8(b"2024022"), None);
        assert_eq!(parse_date8(b"2024-2-1"), None);
        assert_eq!(
            parse_date8(b"10010101"),
            Some(jiff::civil::date(1001, 1, 1))
        );
    }
}
