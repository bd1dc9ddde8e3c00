//! Timing of every report over a large synthetic history.
//!
//! [`synthetic`] is a **bench generator only**: a small deterministic
//! (SplitMix64-seeded) filler with plausible shapes, for measuring scan
//! speed. It is not a claims simulator and its rates mean nothing; the
//! simulator of `medledger-denials` replaces it for realistic data.

use crate::Result;
use crate::goldcard::{Config, gold_card};
use crate::history::{AckOutcome, Claim, Day, History, Line, NONE, Outcome, PriorAuth, day};
use crate::metrics::{ar, clean_claims, denials};
use crate::spec::{GroupBy, Spec};
use serde::Serialize;
use std::time::Instant;

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A synthetic history of about `lines` service lines (bench generator).
pub fn synthetic(lines: usize, seed: u64) -> History {
    let mut r = SplitMix(seed);
    let mut h = History::default();
    for i in 0..40 {
        h.payers.intern(&format!("PAYER{i:02}"));
    }
    for i in 0..500 {
        h.providers.intern(&format!("1{:09}", 100_000 + i));
    }
    for i in 0..2000 {
        h.codes.intern(&format!("{:05}", 10_000 + i * 41));
    }
    for c in [
        "CO-45", "CO-97", "CO-50", "CO-16", "CO-197", "PR-1", "N115", "M15", "N290",
    ] {
        h.reason_names.intern(c);
    }
    h.programs.intern("GOLD");
    let start = day(jiff::civil::date(2025, 1, 1));
    let n_claims = lines / 4 + 1;
    h.claims.reserve(n_claims);
    h.lines.reserve(lines + 8);
    // About two years of submissions, whatever the size.
    let per_day = (n_claims / 730).max(1) as u64;
    let mut submitted = start;
    while h.lines.len() < lines {
        submitted += i32::from(r.below(per_day) == 0);
        let n = 1 + r.below(7) as usize;
        let n = n.min(lines - h.lines.len()).max(1);
        let l0 = h.lines.len() as u32;
        let roll = r.below(100);
        let outcome = match roll {
            0..=84 => Outcome::Paid,
            85..=91 => Outcome::PartiallyDenied,
            92..=97 => Outcome::Denied,
            _ => Outcome::Pending,
        };
        let mut charge = 0;
        for k in 0..n {
            let c = 2_000 + r.below(40_000) as i64;
            charge += c;
            let denied =
                outcome == Outcome::Denied || (outcome == Outcome::PartiallyDenied && k == 0);
            h.lines.push(Line {
                code: r.below(2000) as u32,
                modifiers: [NONE; 4],
                units: 1,
                charge_cents: c,
                paid_cents: if denied { 0 } else { c * 6 / 10 },
                denied,
                reason: if denied { 1 + r.below(8) as u32 } else { NONE },
                dx_pointer: 0,
            });
        }
        let r0 = h.reasons.len() as u32;
        if outcome != Outcome::Paid && outcome != Outcome::Pending {
            h.reasons.push(1 + r.below(8) as u32);
        }
        let adjudicated =
            (outcome != Outcome::Pending).then(|| submitted + 10 + r.below(30) as Day);
        let paid = if outcome == Outcome::Paid {
            charge * 6 / 10
        } else {
            0
        };
        let appealed = outcome == Outcome::Denied && r.below(3) == 0;
        h.claims.push(Claim {
            id: h.claims.len() as u64 + 1,
            payer: r.below(40) as u32,
            provider: r.below(500) as u32,
            place_of_service: 11,
            institutional: false,
            service_date: submitted - r.below(10) as Day,
            submitted,
            ack: if roll == 99 {
                AckOutcome::Rejected
            } else {
                AckOutcome::Accepted
            },
            ack_date: Some(submitted + 1),
            outcome,
            adjudicated,
            charge_cents: charge,
            paid_cents: paid,
            patient_resp_cents: charge / 10,
            contractual_cents: if paid > 0 {
                charge - paid - charge / 10
            } else {
                0
            },
            closed: adjudicated
                .filter(|_| outcome == Outcome::Paid)
                .map(|d| d + 5),
            prior_auth: false,
            appealed,
            overturned: appealed && r.below(2) == 0,
            lines: l0..h.lines.len() as u32,
            diagnoses: 0..0,
            reasons: r0..h.reasons.len() as u32,
        });
    }
    for i in 0..(lines / 1000).max(10) {
        let requested = start + r.below(600) as Day;
        let decided = (r.below(10) != 0).then(|| requested + 3);
        h.prior_auths.push(PriorAuth {
            payer: r.below(40) as u32,
            program: 0,
            provider: (i % 500) as u32,
            code: r.below(2000) as u32,
            requested,
            decided,
            approved: decided.map(|_| r.below(100) < 93),
        });
    }
    h
}

/// One timed report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// Report and grouping.
    pub report: String,
    /// Wall time in milliseconds.
    pub millis: f64,
    /// Lines scanned per second.
    pub lines_per_s: f64,
}

/// The bench result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Where the history came from (`simulator`, `bench generator`).
    pub source: String,
    /// Lines in the history.
    pub lines: usize,
    /// Claims in the history.
    pub claims: usize,
    /// Generating it, ms.
    pub generate_millis: f64,
    /// Each report.
    pub timings: Vec<Timing>,
    /// All reports together, ms.
    pub total_millis: f64,
    /// Peak resident set (VmHWM), bytes, if the OS reports it.
    pub peak_rss_bytes: Option<u64>,
    /// Rayon threads.
    pub threads: usize,
}

/// Peak resident set size of this process (Linux `VmHWM`).
pub fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Builds a synthetic history of `lines` lines and times every report.
pub fn run(lines: usize) -> Result<BenchReport> {
    let t = Instant::now();
    let h = synthetic(lines, 42);
    let generate_millis = t.elapsed().as_secs_f64() * 1e3;
    run_on(&h, "bench generator", generate_millis)
}

/// Times every report over a history built elsewhere (the claims-history
/// simulator of `medledger-denials`, a file) in `generate_millis`.
pub fn run_on(h: &History, source: &str, generate_millis: f64) -> Result<BenchReport> {
    let as_of = h.claims.last().map_or(0, |c| c.submitted);
    let mut timings = Vec::new();
    let mut time = |name: &str, f: &mut dyn FnMut() -> Result<usize>| -> Result<()> {
        let t = Instant::now();
        let n = f()?;
        let s = t.elapsed().as_secs_f64();
        timings.push(Timing {
            report: format!("{name} ({n} rows)"),
            millis: s * 1e3,
            lines_per_s: if s > 0.0 {
                h.lines.len() as f64 / s
            } else {
                0.0
            },
        });
        Ok(())
    };
    let total = Instant::now();
    for by in [
        GroupBy::Total,
        GroupBy::Payer,
        GroupBy::Month,
        GroupBy::Week,
        GroupBy::Code,
    ] {
        let spec = Spec {
            by,
            ..Spec::all(as_of)
        };
        time(&format!("clean-claims --by {by:?}"), &mut || {
            Ok(clean_claims(h, &spec).groups.len())
        })?;
        time(&format!("denials --by {by:?}"), &mut || {
            Ok(denials(h, &spec).report.groups.len())
        })?;
        time(&format!("ar --by {by:?}"), &mut || {
            Ok(ar(h, &spec).groups.len())
        })?;
    }
    time("gold-card", &mut || {
        Ok(gold_card(h, &Config::default(), as_of)?.standings.len())
    })?;
    let total_millis = total.elapsed().as_secs_f64() * 1e3;
    Ok(BenchReport {
        source: source.to_owned(),
        lines: h.lines.len(),
        claims: h.claims.len(),
        generate_millis,
        timings,
        total_millis,
        peak_rss_bytes: peak_rss_bytes(),
        threads: rayon::current_num_threads(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_valid() {
        let a = synthetic(10_000, 7);
        let b = synthetic(10_000, 7);
        assert_eq!(a.lines.len(), 10_000);
        assert_eq!(a.claims, b.claims);
        assert!(crate::load::validate(&a).is_ok());
        let r = run(5_000).unwrap();
        assert_eq!((r.lines, r.source.as_str()), (5_000, "bench generator"));
        assert_eq!(r.timings.len(), 16);
    }
}
