//! What a report covers: the period, which date the period filters on, the
//! grouping and the as-of date for open balances.
//!
//! The period is inclusive at both ends. With [`DateBasis::Service`] (the
//! default) a claim belongs to the period by its first date of service;
//! with [`DateBasis::Submission`] by the day it was submitted to the
//! clearinghouse.

use crate::history::{Claim, Day, History, NONE};
use crate::{Result, invalid};
use serde::{Deserialize, Serialize};

/// Which claim date the period filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DateBasis {
    /// First date of service.
    #[default]
    Service,
    /// Submission to the clearinghouse.
    Submission,
}

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row for the whole period.
    #[default]
    Total,
    /// Per payer.
    Payer,
    /// Per provider.
    Provider,
    /// Per procedure code of the claim's first line (the primary service).
    Code,
    /// Per first claim-level adjustment reason of the first adjudication
    /// (`(none)` for claims without one).
    Reason,
    /// Per calendar month of the basis date.
    Month,
    /// Per ISO week (Monday to Sunday) of the basis date.
    Week,
}

impl std::str::FromStr for GroupBy {
    type Err = crate::AnalyticsError;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "total" | "none" | "" => GroupBy::Total,
            "payer" => GroupBy::Payer,
            "provider" => GroupBy::Provider,
            "code" => GroupBy::Code,
            "reason" => GroupBy::Reason,
            "month" => GroupBy::Month,
            "week" => GroupBy::Week,
            other => {
                return Err(invalid(
                    "--by",
                    format!("{other:?}: expected payer, provider, code, reason, month or week"),
                ));
            }
        })
    }
}

impl std::fmt::Display for GroupBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GroupBy::Total => "total",
            GroupBy::Payer => "payer",
            GroupBy::Provider => "provider",
            GroupBy::Code => "code",
            GroupBy::Reason => "reason",
            GroupBy::Month => "month",
            GroupBy::Week => "week",
        })
    }
}

impl std::str::FromStr for DateBasis {
    type Err = crate::AnalyticsError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "service" | "dos" => Ok(DateBasis::Service),
            "submission" | "submitted" => Ok(DateBasis::Submission),
            other => Err(invalid(
                "--basis",
                format!("{other:?}: expected service or submission"),
            )),
        }
    }
}

/// A report's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Spec {
    /// First day included (none: from the beginning).
    pub from: Option<Day>,
    /// Last day included (none: to the end).
    pub to: Option<Day>,
    /// Which date `from`/`to` apply to.
    pub basis: DateBasis,
    /// Grouping.
    pub by: GroupBy,
    /// Open balances and A/R ages are taken as of this day.
    pub as_of: Day,
}

impl Spec {
    /// The scope from its textual parameters, as the CLI's `--from`, `--to`,
    /// `--basis`, `--by` and `--as-of` and the service's query parameters
    /// give them (absent: everything, by service date, one group, as of
    /// `today`). Errors name the parameter (`--from`, …).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        basis: Option<&str>,
        by: Option<&str>,
        as_of: Option<&str>,
        today: Day,
    ) -> Result<Self> {
        let spec = Spec {
            from: from.map(|s| parse_day("--from", s)).transpose()?,
            to: to.map(|s| parse_day("--to", s)).transpose()?,
            basis: basis.map(str::parse).transpose()?.unwrap_or_default(),
            by: by.map(str::parse).transpose()?.unwrap_or_default(),
            as_of: as_of
                .map(|s| parse_day("--as-of", s))
                .transpose()?
                .unwrap_or(today),
        };
        if let (Some(f), Some(t)) = (spec.from, spec.to)
            && f > t
        {
            return Err(invalid("--to", "is before --from"));
        }
        Ok(spec)
    }

    /// Everything, in one group, as of `as_of`.
    pub fn all(as_of: Day) -> Self {
        Spec {
            from: None,
            to: None,
            basis: DateBasis::Service,
            by: GroupBy::Total,
            as_of,
        }
    }

    /// The basis date of a claim.
    #[inline]
    pub fn date_of(&self, c: &Claim) -> Day {
        match self.basis {
            DateBasis::Service => c.service_date,
            DateBasis::Submission => c.submitted,
        }
    }

    /// Whether the claim falls in the period.
    #[inline]
    pub fn includes(&self, c: &Claim) -> bool {
        let d = self.date_of(c);
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
}

/// Parses `YYYY-MM-DD` into a [`Day`]; `field` names the input in errors.
pub fn parse_day(field: &str, s: &str) -> Result<Day> {
    let d: jiff::civil::Date = s
        .trim()
        .parse()
        .map_err(|e| invalid(field, format!("{s:?} is not a YYYY-MM-DD date: {e}")))?;
    Ok(crate::history::day(d))
}

/// Parses a stored date: `YYYY-MM-DD`, `YYYYMMDD`, or an RFC 3339
/// timestamp (its UTC date).
pub fn parse_stored_day(field: &str, s: &str) -> Result<Day> {
    let t = s.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let iso = format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]);
        return parse_day(field, &iso);
    }
    if t.len() > 10 {
        if let Ok(ts) = t.parse::<jiff::Timestamp>() {
            return Ok(crate::history::day(
                ts.to_zoned(jiff::tz::TimeZone::UTC).date(),
            ));
        }
        return parse_day(field, t.get(..10).unwrap_or(t));
    }
    parse_day(field, t)
}

/// Year, month (1–12), day (1–31) of a [`Day`] (proleptic Gregorian).
/// Integer-only (H. Hinnant's `civil_from_days`), for hot loops.
#[inline]
pub fn civil(d: Day) -> (i32, u32, u32) {
    let z = i64::from(d) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((y + i64::from(month <= 2)) as i32, month, day)
}

/// Months since year 0: `year * 12 + month - 1`.
#[inline]
pub fn month_index(d: Day) -> i32 {
    let (y, m, _) = civil(d);
    y * 12 + m as i32 - 1
}

/// `YYYY-MM` of a month index.
pub fn month_label(m: i32) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// The Monday starting the ISO week of `d` (1970-01-01 was a Thursday).
#[inline]
pub fn week_start(d: Day) -> Day {
    d - (d + 3).rem_euclid(7)
}

/// ISO 8601 week label `YYYY-Www` of the week starting on Monday `monday`.
pub fn week_label(monday: Day) -> String {
    let thursday = monday + 3;
    let (y, _, _) = civil(thursday);
    let jan1 = crate::history::day(jiff::civil::date(y as i16, 1, 1));
    format!("{y:04}-W{:02}", (thursday - jan1) / 7 + 1)
}

/// Dense group keys for one spec over one history: `key(claim)` is a small
/// integer below `len`, and `label(key)` names it.
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    by: GroupBy,
    basis: DateBasis,
    base: i32,
    /// Number of distinct keys.
    pub len: usize,
}

impl Keys {
    /// The key space of `spec.by` over `h`.
    pub fn new(h: &History, spec: &Spec) -> Self {
        let (base, len) = match spec.by {
            GroupBy::Total => (0, 1),
            GroupBy::Payer => (0, h.payers.len().max(1)),
            GroupBy::Provider => (0, h.providers.len().max(1)),
            GroupBy::Code => (0, h.codes.len() + 1),
            GroupBy::Reason => (0, h.reason_names.len() + 1),
            GroupBy::Month | GroupBy::Week => {
                let f: fn(Day) -> i32 = if spec.by == GroupBy::Month {
                    month_index
                } else {
                    |d| week_start(d).div_euclid(7)
                };
                let (lo, hi) = h
                    .claims
                    .iter()
                    .map(|c| spec.date_of(c))
                    .fold((Day::MAX, Day::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
                if lo > hi {
                    (0, 1)
                } else {
                    (f(lo), (f(hi) - f(lo) + 1) as usize)
                }
            }
        };
        Keys {
            by: spec.by,
            basis: spec.basis,
            base,
            len,
        }
    }

    /// The key of a claim.
    #[inline]
    pub fn key(&self, h: &History, c: &Claim) -> usize {
        let date = match self.basis {
            DateBasis::Service => c.service_date,
            DateBasis::Submission => c.submitted,
        };
        match self.by {
            GroupBy::Total => 0,
            GroupBy::Payer => c.payer as usize,
            GroupBy::Provider => c.provider as usize,
            GroupBy::Code => h
                .lines
                .get(c.lines.start as usize)
                .filter(|_| c.lines.start < c.lines.end)
                .map_or(self.len - 1, |l| l.code as usize),
            GroupBy::Reason => h
                .reasons
                .get(c.reasons.start as usize)
                .filter(|&&r| c.reasons.start < c.reasons.end && r != NONE)
                .map_or(self.len - 1, |&r| r as usize),
            GroupBy::Month => (month_index(date) - self.base) as usize,
            GroupBy::Week => (week_start(date).div_euclid(7) - self.base) as usize,
        }
    }

    /// The label of a key.
    pub fn label(&self, h: &History, k: usize) -> String {
        let name = |i: &crate::history::Interner| {
            if k < i.len() {
                i.name(k as u32).to_owned()
            } else {
                "(none)".to_owned()
            }
        };
        match self.by {
            GroupBy::Total => "total".to_owned(),
            GroupBy::Payer => name(&h.payers),
            GroupBy::Provider => name(&h.providers),
            GroupBy::Code => name(&h.codes),
            GroupBy::Reason => name(&h.reason_names),
            GroupBy::Month => month_label(self.base + k as i32),
            GroupBy::Week => week_label((self.base + k as i32) * 7),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn calendar_helpers() {
        // 2026-10-01 is a Thursday; its ISO week is 2026-W40, starting Monday 2026-09-28.
        let d = parse_day("--from", "2026-10-01").unwrap();
        assert_eq!(civil(d), (2026, 10, 1));
        assert_eq!(
            crate::history::date(week_start(d)),
            jiff::civil::date(2026, 9, 28)
        );
        assert_eq!(week_label(week_start(d)), "2026-W40");
        // 2027-01-01 is a Friday: ISO week 2026-W53.
        let n = parse_day("x", "2027-01-01").unwrap();
        assert_eq!(week_label(week_start(n)), "2026-W53");
        assert_eq!(month_label(month_index(d)), "2026-10");
        assert_eq!(parse_stored_day("x", "20261001").unwrap(), d);
        assert_eq!(parse_stored_day("x", "2026-10-01T23:59:00Z").unwrap(), d);
        assert!(parse_day("--to", "2026-13-01").is_err());
        assert!("fortnight".parse::<GroupBy>().is_err());
        assert_eq!("Week".parse::<GroupBy>().unwrap(), GroupBy::Week);
    }

    proptest! {
        #[test]
        fn civil_agrees_with_jiff(d in -200_000i32..200_000) {
            let j = crate::history::date(d);
            prop_assert_eq!(civil(d), (i32::from(j.year()), j.month() as u32, j.day() as u32));
            prop_assert_eq!(parse_day("x", &j.to_string()).unwrap(), d);
        }

        #[test]
        fn date_parsers_never_panic(s in "\\PC{0,24}") {
            let _ = parse_day("x", &s);
            let _ = parse_stored_day("x", &s);
            let _ = s.parse::<GroupBy>();
        }
    }
}
