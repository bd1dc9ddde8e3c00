//! Gold-card standing of each provider in each payer's prior-authorisation
//! exemption program.
//!
//! Default program ([`Program::texas_hb3459`]), modelled on Texas HB 3459
//! (2021, Insurance Code ch. 4201 subch. N): a provider is exempt from a
//! payer's prior authorisation for a service when at least 90 % of the
//! eligible requests it submitted in a six-month evaluation period were
//! approved; the payer evaluates twice a year (here on January 1 and July 1,
//! each over the six months before), and at least 5 decided requests are
//! needed to earn an exemption.
//!
//! For each (payer, program, provider): the **current** status is that of
//! the last evaluation date on or before `as_of`, over requests *requested*
//! in the window before it and decided by then; the **projection** is for
//! the next evaluation date, over the requests of its window known so far,
//! with every pending request counted as approved, together with the
//! smallest number of pending denials that would flip a projected
//! exemption to `not_exempt` (`flip_denials`).

use crate::history::{Day, History};
use crate::{AnalyticsError, Result, invalid};
use serde::{Deserialize, Serialize};

/// A payer's program, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Payer name as on claims; `*` = any payer without its own entry.
    pub payer: String,
    /// Program name; `*` = any program of the payer.
    #[serde(default = "star")]
    pub program: String,
    /// Approval rate needed (0–1).
    pub threshold: f64,
    /// Months the evaluation looks back.
    pub window_months: u8,
    /// Evaluation dates each year, `MM-DD`.
    pub evaluation_dates: Vec<String>,
    /// Decided requests needed for an exemption.
    pub min_requests: u32,
}

fn star() -> String {
    "*".to_owned()
}

impl Program {
    /// The default, after Texas HB 3459 (see the module docs).
    pub fn texas_hb3459() -> Self {
        Program {
            payer: "*".into(),
            program: "*".into(),
            threshold: 0.90,
            window_months: 6,
            evaluation_dates: vec!["01-01".into(), "07-01".into()],
            min_requests: 5,
        }
    }

    fn validate(&self, at: &str) -> Result<Vec<(i8, i8)>> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(invalid(
                format!("{at}.threshold"),
                format!("{} is not in (0, 1]", self.threshold),
            ));
        }
        if self.window_months == 0 || self.window_months > 24 {
            return Err(invalid(
                format!("{at}.window_months"),
                format!("{} is not 1 to 24", self.window_months),
            ));
        }
        if self.evaluation_dates.is_empty() {
            return Err(invalid(
                format!("{at}.evaluation_dates"),
                "needs at least one MM-DD",
            ));
        }
        self.evaluation_dates
            .iter()
            .enumerate()
            .map(|(i, s)| parse_month_day(&format!("{at}.evaluation_dates[{i}]"), s))
            .collect()
    }
}

/// Parses `MM-DD` (a day that exists in every year: not 02-29).
pub fn parse_month_day(field: &str, s: &str) -> Result<(i8, i8)> {
    let bad = || invalid(field, format!("{s:?} is not an MM-DD date"));
    let (m, d) = s.trim().split_once('-').ok_or_else(bad)?;
    let (m, d): (i8, i8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    jiff::civil::Date::new(2025, m, d).map_err(|_| bad())?;
    Ok((m, d))
}

/// The programs configuration (`[[program]]` tables in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Programs; the first matching entry applies, the default otherwise.
    #[serde(default)]
    pub program: Vec<Program>,
}

impl Config {
    /// Parses and validates a TOML configuration; `path` names it in errors.
    pub fn from_toml(path: &str, text: &str) -> Result<Self> {
        let c: Config = toml::from_str(text).map_err(|e| AnalyticsError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        for (i, p) in c.program.iter().enumerate() {
            p.validate(&format!("{path}: program[{i}]"))?;
        }
        Ok(c)
    }

    /// Reads, parses and validates a TOML configuration file.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| AnalyticsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&path.display().to_string(), &text)
    }

    /// The program for a payer and program name.
    pub fn lookup(&self, payer: &str, program: &str) -> Program {
        self.program
            .iter()
            .find(|p| {
                (p.payer == payer || p.payer == "*") && (p.program == program || p.program == "*")
            })
            .cloned()
            .unwrap_or_else(Program::texas_hb3459)
    }
}

/// Exempt, not exempt, or too few decided requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Approval rate at or above the threshold over enough requests.
    Exempt,
    /// Below the threshold.
    NotExempt,
    /// Fewer decided requests than the minimum.
    InsufficientData,
}

fn status(approved: u32, decided: u32, p: &Program) -> Status {
    if decided < p.min_requests {
        Status::InsufficientData
    } else if f64::from(approved) >= p.threshold * f64::from(decided) {
        Status::Exempt
    } else {
        Status::NotExempt
    }
}

/// One evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// Evaluation date.
    pub date: String,
    /// Window start (inclusive) and end (exclusive: the evaluation date).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub window: (String, String),
    /// Approved requests of the window.
    pub approved: u32,
    /// Denied requests of the window.
    pub denied: u32,
    /// Still pending (for the projection: as of `as_of`).
    pub pending: u32,
    /// Approved ÷ decided (the projection counts pending as approved).
    pub approval_rate: f64,
    /// The resulting status.
    pub status: Status,
}

/// A provider's standing in one payer program.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Standing {
    /// Payer.
    pub payer: String,
    /// Program.
    pub program: String,
    /// Provider.
    pub provider: String,
    /// Threshold applied.
    pub threshold: f64,
    /// Last evaluation on or before `as_of`.
    pub current: Evaluation,
    /// Next evaluation after `as_of`, pending requests counted as approved.
    pub projected: Evaluation,
    /// Smallest number of the projection's pending requests whose denial
    /// turns a projected exemption into `not_exempt`, and the rate then.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<f64>>))]
    pub flip_denials: Option<(u32, f64)>,
    /// The same, in words.
    pub note: String,
}

/// The gold-card report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoldCardReport {
    /// As of.
    pub as_of: String,
    /// One row per (payer, program, provider), sorted.
    pub standings: Vec<Standing>,
}

/// The last evaluation date ≤ `d` and the first one > `d`.
fn evaluation_dates(dates: &[(i8, i8)], d: Day) -> (Day, Day) {
    let y = crate::history::date(d).year();
    let mut all: Vec<Day> = (y - 1..=y + 1)
        .flat_map(|yy| {
            dates
                .iter()
                .filter_map(move |&(m, dd)| jiff::civil::Date::new(yy, m, dd).ok())
        })
        .map(crate::history::day)
        .collect();
    all.sort_unstable();
    let last = all.iter().rev().find(|&&e| e <= d).copied().unwrap_or(d);
    let next = all.iter().find(|&&e| e > d).copied().unwrap_or(d + 1);
    (last, next)
}

fn months_before(d: Day, months: u8) -> Day {
    let date = crate::history::date(d);
    date.checked_sub(jiff::Span::new().months(i64::from(months)))
        .map_or(d, crate::history::day)
}

/// Gold-card standing of every (payer, program, provider) with requests.
pub fn gold_card(h: &History, config: &Config, as_of: Day) -> Result<GoldCardReport> {
    let mut groups: rustc_hash::FxHashMap<(u32, u32, u32), Vec<usize>> = Default::default();
    for (i, pa) in h.prior_auths.iter().enumerate() {
        groups
            .entry((pa.payer, pa.program, pa.provider))
            .or_default()
            .push(i);
    }
    let mut standings = Vec::with_capacity(groups.len());
    for ((payer, program, provider), idx) in groups {
        let payer = h.payers.name(payer).to_owned();
        let program = h.programs.name(program).to_owned();
        let p = config.lookup(&payer, &program);
        let dates = p.validate("program")?;
        let (last, next) = evaluation_dates(&dates, as_of);
        let tally = |end: Day, known_by: Day| {
            let start = months_before(end, p.window_months);
            let (mut a, mut d, mut pending) = (0u32, 0u32, 0u32);
            for &i in &idx {
                let pa = &h.prior_auths[i];
                if pa.requested < start || pa.requested >= end || pa.requested > known_by {
                    continue;
                }
                match (pa.approved, pa.decided) {
                    (Some(ok), Some(on)) if on <= known_by => {
                        if ok {
                            a += 1
                        } else {
                            d += 1
                        }
                    }
                    _ => pending += 1,
                }
            }
            (start, a, d, pending)
        };
        let fmt = |d: Day| crate::history::date(d).to_string();
        let (s0, a0, d0, p0) = tally(last, last);
        let current = Evaluation {
            date: fmt(last),
            window: (fmt(s0), fmt(last)),
            approved: a0,
            denied: d0,
            pending: p0,
            approval_rate: crate::stats::ratio(u64::from(a0), u64::from(a0 + d0)),
            status: status(a0, a0 + d0, &p),
        };
        let (s1, a1, d1, p1) = tally(next, as_of);
        let n = a1 + d1 + p1;
        let projected = Evaluation {
            date: fmt(next),
            window: (fmt(s1), fmt(next)),
            approved: a1,
            denied: d1,
            pending: p1,
            approval_rate: crate::stats::ratio(u64::from(a1 + p1), u64::from(n)),
            status: status(a1 + p1, n, &p),
        };
        let flip = (projected.status == Status::Exempt)
            .then(|| (1..=p1).find(|&k| status(a1 + p1 - k, n, &p) == Status::NotExempt))
            .flatten()
            .map(|k| (k, f64::from(a1 + p1 - k) / f64::from(n)));
        let note = match (projected.status, flip) {
            (Status::Exempt, Some((k, rate))) => format!(
                "if {k} of the {p1} pending requests are denied the rate falls to {:.1}% < {:.0}%",
                rate * 100.0,
                p.threshold * 100.0
            ),
            (Status::Exempt, None) => format!(
                "exempt at {} whatever the {p1} pending decisions",
                projected.date
            ),
            (Status::NotExempt, _) => format!(
                "below {:.0}% even if all {p1} pending requests are approved",
                p.threshold * 100.0
            ),
            (Status::InsufficientData, _) => {
                format!("{n} requests in the window, {} needed", p.min_requests)
            }
        };
        standings.push(Standing {
            payer,
            program,
            provider: h.providers.name(provider).to_owned(),
            threshold: p.threshold,
            current,
            projected,
            flip_denials: flip,
            note,
        });
    }
    standings.sort_by(|a, b| {
        (&a.payer, &a.program, &a.provider).cmp(&(&b.payer, &b.program, &b.provider))
    });
    Ok(GoldCardReport {
        as_of: crate::history::date(as_of).to_string(),
        standings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{PriorAuth, day};
    use proptest::prelude::*;

    fn d(y: i16, m: i8, dd: i8) -> Day {
        day(jiff::civil::date(y, m, dd))
    }

    /// One provider, payer AETNA, program TX: 35 requests in 2026-H1
    /// (Jan 1 – Jun 30) for the Jul 1 evaluation, as of 2026-06-15:
    /// 28 approved, 2 denied, 5 pending; and for the Jan 1 2026
    /// evaluation, 10 requests in 2025-H2: 8 approved, 2 denied.
    fn history() -> History {
        let mut h = History::default();
        let payer = h.payers.intern("AETNA");
        let program = h.programs.intern("TX");
        let provider = h.providers.intern("1234567893");
        let code = h.codes.intern("72148");
        let mut push = |req: Day, dec: Option<(Day, bool)>| {
            h.prior_auths.push(PriorAuth {
                payer,
                program,
                provider,
                code,
                requested: req,
                decided: dec.map(|x| x.0),
                approved: dec.map(|x| x.1),
            })
        };
        for i in 0..10 {
            push(d(2025, 8, 1) + i, Some((d(2025, 9, 1), i < 8)));
        }
        for i in 0..35 {
            let dec = match i {
                0..28 => Some((d(2026, 3, 1), true)),
                28..30 => Some((d(2026, 3, 1), false)),
                _ => None,
            };
            push(d(2026, 1, 10) + i, dec);
        }
        h
    }

    #[test]
    fn hand_computed_standing() {
        let r = gold_card(&history(), &Config::default(), d(2026, 6, 15)).unwrap();
        let s = &r.standings[0];
        // Jan 1 2026 over 2025-07-01..2026-01-01: 8 / 10 = 80 % < 90 % → not exempt.
        assert_eq!(
            s.current.window,
            ("2025-07-01".to_owned(), "2026-01-01".to_owned())
        );
        assert_eq!((s.current.approved, s.current.denied), (8, 2));
        assert_eq!(s.current.status, Status::NotExempt);
        // Jul 1 2026: (28 + 5) / 35 = 94.3 % → exempt if all pending are approved;
        // 1 denial: 32/35 = 91.4 % still exempt; 2 denials: 31/35 = 88.6 % < 90 %.
        assert_eq!(s.projected.status, Status::Exempt);
        assert!((s.projected.approval_rate - 33.0 / 35.0).abs() < 1e-12);
        let (k, rate) = s.flip_denials.unwrap();
        assert_eq!(k, 2);
        assert!((rate - 31.0 / 35.0).abs() < 1e-12);
        assert_eq!(
            s.note,
            "if 2 of the 5 pending requests are denied the rate falls to 88.6% < 90%"
        );
    }

    #[test]
    fn config_overrides_and_validates() {
        let c = Config::from_toml(
            "gold.toml",
            "[[program]]\npayer = \"AETNA\"\nthreshold = 0.95\nwindow_months = 12\nevaluation_dates = [\"01-01\"]\nmin_requests = 40\n",
        )
        .unwrap();
        let r = gold_card(&history(), &c, d(2026, 6, 15)).unwrap();
        let s = &r.standings[0];
        // Window 2025-01-01..2026-01-01 for the Jan 1 2026 evaluation: 10 decided < 40.
        assert_eq!(s.current.status, Status::InsufficientData);
        // Next: Jan 1 2027 over 2026: 35 requests < 40 → insufficient.
        assert_eq!(s.projected.date, "2027-01-01");
        assert_eq!(s.projected.status, Status::InsufficientData);
        let bad = Config::from_toml(
            "g.toml",
            "[[program]]\npayer = \"X\"\nthreshold = 1.5\nwindow_months = 6\nevaluation_dates = [\"01-01\"]\nmin_requests = 5\n",
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("program[0].threshold")
        );
        let bad = Config::from_toml(
            "g.toml",
            "[[program]]\npayer = \"X\"\nthreshold = 0.9\nwindow_months = 6\nevaluation_dates = [\"02-30\"]\nmin_requests = 5\n",
        );
        assert!(bad.unwrap_err().to_string().contains("evaluation_dates[0]"));
        assert!(Config::from_toml("g.toml", "program = 3").is_err());
    }

    proptest! {
        #[test]
        fn month_day_parser_total(s in "\\PC{0,8}") {
            let _ = parse_month_day("x", &s);
        }

        #[test]
        fn month_day_round_trip(m in 1i8..=12, dd in 1i8..=28) {
            prop_assert_eq!(parse_month_day("x", &format!("{m:02}-{dd:02}")).unwrap(), (m, dd));
        }
    }
}
