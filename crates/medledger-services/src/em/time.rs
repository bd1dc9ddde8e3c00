//! Total-time and age statements.
//!
//! A duration ("45 minutes", "1 hour 5 minutes", "an hour", "more than 30
//! min") counts as the practitioner's total time only when a time cue binds
//! to it: "total time", "I spent" before it (within a few tokens, with no
//! other duration or ";" between) or "spent", "of total time" right after
//! it, and no exclusion word ("ago", "lasted", "waiting", ...) touches it.
//! Sections that narrate the illness (HPI, ROS, exam, results) are skipped.

use medledger_text::TokenKind;

use super::note::{Note, NoteHit};
use super::ruleset::Ruleset;

/// A time statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeStatement {
    pub minutes: u32,
    /// Byte span of the statement (cue and duration).
    pub span: (usize, usize),
}

#[derive(Debug, Clone, Copy)]
struct Duration {
    start: usize,
    end: usize,
    minutes: u32,
}

/// The number at token `i` (digits, a decimal, or a number word).
fn number_at(note: &Note<'_>, rules: &Ruleset, i: usize) -> Option<f64> {
    let t = note.tokens.get(i)?;
    match t.kind {
        TokenKind::Number => t.lower.replace(',', "").parse::<f64>().ok(),
        TokenKind::Word => rules
            .time
            .number_words
            .get(t.lower.as_str())
            .map(|&n| f64::from(n)),
        TokenKind::Punct => None,
    }
}

/// A unit hit of `lex` starting at token `i` in sentence hits.
fn unit_at(hits: &[NoteHit], lex: u16, i: usize) -> Option<&NoteHit> {
    hits.iter().find(|h| h.lex == lex && h.start == i)
}

fn durations(note: &Note<'_>, rules: &Ruleset, s: usize, hits: &[NoteHit]) -> Vec<Duration> {
    let lex = &rules.lex;
    let range = note.sentences[s].tokens.clone();
    let end = range.end.min(note.tokens.len());
    let mut out: Vec<Duration> = Vec::new();
    let mut i = range.start;
    while i < end {
        let Some(n) = number_at(note, rules, i) else {
            i += 1;
            continue;
        };
        let mut minutes: Option<f64> = None;
        let mut stop = i + 1;
        if let Some(u) = unit_at(hits, lex.hour_unit, i + 1) {
            let mut m = n * 60.0;
            stop = u.end;
            // "1 hour 5 minutes", "1 hour and 5 minutes"
            let mut j = u.end;
            if note.tokens.get(j).is_some_and(|t| t.lower == "and") {
                j += 1;
            }
            if let Some(n2) = number_at(note, rules, j)
                && let Some(u2) = unit_at(hits, lex.minute_unit, j + 1)
            {
                m += n2;
                stop = u2.end;
            }
            minutes = Some(m);
        } else if let Some(u) = unit_at(hits, lex.minute_unit, i + 1) {
            minutes = Some(n);
            stop = u.end;
        }
        let Some(mut m) = minutes else {
            i += 1;
            continue;
        };
        let mut start = i;
        if let Some(h) = hits.iter().find(|h| h.lex == lex.more_than && h.end == i) {
            m += 1.0;
            start = h.start;
        } else if let Some(h) = hits.iter().find(|h| h.lex == lex.less_than && h.end == i) {
            m = (m - 1.0).max(0.0);
            start = h.start;
        }
        if m.is_finite() && (0.0..=1440.0).contains(&m) {
            out.push(Duration {
                start,
                end: stop,
                minutes: m.round() as u32,
            });
        }
        i = stop.max(i + 1);
    }
    out
}

/// Every time statement of the note, in order.
pub(crate) fn time_statements(note: &Note<'_>, rules: &Ruleset) -> Vec<TimeStatement> {
    let lex = &rules.lex;
    let mut out = Vec::new();
    for s in 0..note.sentences.len() {
        if note.kind_in(s, &rules.regions.time_excluded) {
            continue;
        }
        let hits = note.sentence_hits(s);
        if !hits
            .iter()
            .any(|h| h.lex == lex.minute_unit || h.lex == lex.hour_unit)
        {
            continue;
        }
        let ds = durations(note, rules, s, hits);
        for (k, d) in ds.iter().enumerate() {
            let excluded = hits.iter().any(|h| {
                h.lex == lex.time_exclude
                    && ((h.end <= d.start && d.start - h.end <= 1)
                        || (h.start >= d.end && h.start - d.end <= 1))
            });
            if excluded {
                continue;
            }
            let prev_end = if k > 0 { ds[k - 1].end } else { 0 };
            let before = hits
                .iter()
                .filter(|h| {
                    h.lex == lex.time_cue_before
                        && note.passes(h)
                        && h.end <= d.start
                        && h.end >= prev_end
                        && d.start - h.end <= rules.time.max_cue_distance
                        && note.count_between((h.start, h.end), (d.start, d.end), ";") == 0
                })
                .min_by_key(|h| d.start - h.end);
            let after = || {
                hits.iter().find(|h| {
                    h.lex == lex.time_cue_after
                        && note.passes(h)
                        && h.start >= d.end
                        && h.start - d.end <= 2
                        && note
                            .tokens
                            .get(d.end..h.start)
                            .is_some_and(|ts| ts.iter().all(|t| t.kind != TokenKind::Punct))
                })
            };
            let Some(cue) = before.or_else(after) else {
                continue;
            };
            let (a, b) = (cue.start.min(d.start), cue.end.max(d.end));
            out.push(TimeStatement {
                minutes: d.minutes,
                span: note.token_bytes(a, b),
            });
        }
    }
    out
}

/// The patient's age in completed years, from "45-year-old", "45 yo",
/// "6-month-old", "age 45"; the first statement in the note.
pub(crate) fn find_age(note: &Note<'_>, rules: &Ruleset) -> Option<(u32, (usize, usize))> {
    let lex = &rules.lex;
    let max = rules.max_age_years;
    for h in &note.hits {
        let unit = if h.lex == lex.age_year_unit {
            Some(1.0)
        } else if h.lex == lex.age_month_unit {
            Some(1.0 / 12.0)
        } else if h.lex == lex.age_week_unit {
            Some(0.0)
        } else {
            None
        };
        if let Some(per_year) = unit {
            let Some(num) = h.start.checked_sub(1) else {
                continue;
            };
            let Some(t) = note.tokens.get(num) else {
                continue;
            };
            if t.kind != TokenKind::Number {
                continue;
            }
            let Ok(n) = t.lower.parse::<f64>() else {
                continue;
            };
            let years = (n * per_year).floor();
            if years >= 0.0 && years <= f64::from(max) {
                return Some((years as u32, note.token_bytes(num, h.end)));
            }
        } else if h.lex == lex.age_prefix
            && let Some(t) = note.tokens.get(h.end)
            && t.kind == TokenKind::Number
            && let Ok(n) = t.lower.parse::<u32>()
            && n <= max
        {
            return Some((n, note.token_bytes(h.start, h.end + 1)));
        }
    }
    // Compact forms: "45yo".
    for (i, t) in note.tokens.iter().enumerate() {
        if t.kind == TokenKind::Word
            && let Some(digits) = t.lower.strip_suffix("yo")
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = digits.parse::<u32>()
            && n <= max
        {
            return Some((n, note.token_bytes(i, i + 1)));
        }
    }
    None
}
