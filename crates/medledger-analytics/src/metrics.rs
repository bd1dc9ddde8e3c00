//! Claim metrics over a [`History`], for a [`Spec`] (period, basis,
//! grouping, as-of date). Each report is one parallel pass over the claim
//! column (rayon over fixed chunks, one dense accumulator vector per chunk,
//! keys are interned ids or month/week offsets): no per-claim allocation.
//!
//! Definitions (claims in the period unless said otherwise):
//! - **acceptance rate** (999/277CA): claims the clearinghouse accepted ÷
//!   claims with an acknowledgement (accepted + rejected).
//! - **first-pass clean-claim rate**: claims that were not rejected at the
//!   front end and whose first adjudication paid every line
//!   ([`Outcome::Paid`]) ÷ claims that got a first answer (front-end
//!   rejected, or adjudicated).
//! - **initial denial rate**: claims whose first adjudication denied them in
//!   whole or in part ÷ adjudicated claims.
//! - **denial rate by reason**: denied claims carrying the reason (claim
//!   level, or on a denied line; CARC as `GROUP-CARC`, RARC as is; each
//!   reason counted once per claim) ÷ adjudicated claims.
//! - **overturned-on-appeal rate**: claims whose appeal or corrected
//!   resubmission reversed the denial ÷ appealed claims.
//! - **days to close** (first days-in-A/R form): mean of `closed −
//!   submitted` over the period's claims that closed.
//! - **days in A/R** (standard form): total A/R as of `as_of` ÷ average
//!   daily charges, where total A/R is the open balance, as of `as_of`, of
//!   every claim submitted on or before `as_of` (whatever its period), and
//!   average daily charges = gross charges of the period's claims ÷ days in
//!   the period (`to − from + 1`; an open end is the earliest/latest basis
//!   date among the claims).
//! - **open balance** as of D of a claim submitted on or before D: 0 if it
//!   closed on or before D; its charge if not adjudicated by D; else
//!   `charge − paid − contractual` (floored at 0; patient responsibility
//!   stays in A/R until the claim closes). The history records totals, so
//!   every posting counts at the first adjudication day.
//! - **aging buckets**: open balances by `D − submitted`: 0–30, 31–60,
//!   61–90, 91–120, over 120 days.
//! - **net collection rate**: payer payments ÷ (charges − contractual
//!   adjustments). Patient payments are not in the history.

use crate::history::{AckOutcome, Claim, Day, History, NONE, Outcome};
use crate::spec::{Keys, Spec};
use crate::stats::ratio;
use rayon::prelude::*;
use serde::Serialize;

/// Claims per parallel work item.
const CHUNK: usize = 1 << 15;

/// One parallel pass: for each claim, `add(acc, key, claim)`; chunk
/// results are merged with `merge`.
fn scan<A, F, M>(h: &History, keys: &Keys, add: F, merge: M) -> Vec<A>
where
    A: Default + Clone + Send,
    F: Fn(&mut [A], &Keys, &Claim) + Sync,
    M: Fn(&mut A, &A) + Sync,
{
    h.claims
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut acc = vec![A::default(); keys.len];
            for c in chunk {
                add(&mut acc, keys, c);
            }
            acc
        })
        .reduce(
            || vec![A::default(); keys.len],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    merge(x, y);
                }
                a
            },
        )
}

/// One group of the clean-claims report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanClaimsRow {
    /// Group label (`total`, a payer, `2026-10`, `2026-W40`, …).
    pub key: String,
    /// Claims in the period.
    pub claims: u64,
    /// With a 999/277CA acknowledgement.
    pub acknowledged: u64,
    /// Accepted by the clearinghouse.
    pub accepted: u64,
    /// `accepted / acknowledged`.
    pub acceptance_rate: f64,
    /// Front-end rejected or adjudicated.
    pub answered: u64,
    /// Clean on the first pass.
    pub clean: u64,
    /// `clean / answered`.
    pub first_pass_clean_rate: f64,
    /// Adjudicated at least once.
    pub adjudicated: u64,
    /// Denied in whole or in part at first adjudication.
    pub denied: u64,
    /// `denied / adjudicated`.
    pub initial_denial_rate: f64,
    /// Appealed.
    pub appealed: u64,
    /// Overturned on appeal.
    pub overturned: u64,
    /// `overturned / appealed`.
    pub overturn_rate: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct ClaimCounts {
    claims: u64,
    acknowledged: u64,
    accepted: u64,
    answered: u64,
    clean: u64,
    adjudicated: u64,
    denied: u64,
    appealed: u64,
    overturned: u64,
}

impl ClaimCounts {
    fn merge(&mut self, o: &Self) {
        self.claims += o.claims;
        self.acknowledged += o.acknowledged;
        self.accepted += o.accepted;
        self.answered += o.answered;
        self.clean += o.clean;
        self.adjudicated += o.adjudicated;
        self.denied += o.denied;
        self.appealed += o.appealed;
        self.overturned += o.overturned;
    }
}

fn is_denied(o: Outcome) -> bool {
    matches!(o, Outcome::Denied | Outcome::PartiallyDenied)
}

/// A report: the groups, and the total over all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report<R> {
    /// The scope.
    pub spec: Spec,
    /// One row per non-empty group, in key order.
    pub groups: Vec<R>,
    /// All groups together.
    pub total: R,
}

/// First-pass clean-claim, acceptance, initial denial and overturn rates.
pub fn clean_claims(h: &History, spec: &Spec) -> Report<CleanClaimsRow> {
    let keys = Keys::new(h, spec);
    let acc = scan::<ClaimCounts, _, _>(
        h,
        &keys,
        |acc, keys, c| {
            if !spec.includes(c) {
                return;
            }
            let a = &mut acc[keys.key(h, c)];
            let rejected = c.ack == AckOutcome::Rejected;
            let adjudicated = c.outcome != Outcome::Pending;
            a.claims += 1;
            a.acknowledged += u64::from(c.ack != AckOutcome::None);
            a.accepted += u64::from(c.ack == AckOutcome::Accepted);
            a.answered += u64::from(rejected || adjudicated);
            a.clean += u64::from(!rejected && c.outcome == Outcome::Paid);
            a.adjudicated += u64::from(adjudicated);
            a.denied += u64::from(is_denied(c.outcome));
            a.appealed += u64::from(c.appealed);
            a.overturned += u64::from(c.appealed && c.overturned);
        },
        ClaimCounts::merge,
    );
    let row = |key: String, a: &ClaimCounts| CleanClaimsRow {
        key,
        claims: a.claims,
        acknowledged: a.acknowledged,
        accepted: a.accepted,
        acceptance_rate: ratio(a.accepted, a.acknowledged),
        answered: a.answered,
        clean: a.clean,
        first_pass_clean_rate: ratio(a.clean, a.answered),
        adjudicated: a.adjudicated,
        denied: a.denied,
        initial_denial_rate: ratio(a.denied, a.adjudicated),
        appealed: a.appealed,
        overturned: a.overturned,
        overturn_rate: ratio(a.overturned, a.appealed),
    };
    let mut total = ClaimCounts::default();
    let mut groups = Vec::new();
    for (k, a) in acc.iter().enumerate() {
        total.merge(a);
        if a.claims > 0 {
            groups.push(row(keys.label(h, k), a));
        }
    }
    Report {
        spec: *spec,
        groups,
        total: row("total".to_owned(), &total),
    }
}

/// One group of the denials report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DenialRow {
    /// Group label.
    pub key: String,
    /// Adjudicated claims.
    pub adjudicated: u64,
    /// Denied in whole or in part.
    pub denied: u64,
    /// Denied in whole.
    pub denied_in_full: u64,
    /// `denied / adjudicated`.
    pub denial_rate: f64,
    /// Denied charge: the whole charge of claims denied in full, the denied
    /// lines' charges of partial denials.
    pub denied_charge_cents: i64,
}

/// One reason of the denials report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReasonRow {
    /// `CO-97`, `N115`, …
    pub reason: String,
    /// `carc` (group-code prefixed) or `rarc`.
    pub kind: &'static str,
    /// Denied claims carrying it.
    pub claims: u64,
    /// `claims / adjudicated` (the denial rate for this reason).
    pub rate: f64,
    /// `claims / denied`.
    pub share_of_denied: f64,
}

/// The denials report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DenialsReport {
    /// Denial rate per group.
    pub report: Report<DenialRow>,
    /// Per reason over the whole period, most frequent first.
    pub reasons: Vec<ReasonRow>,
}

#[derive(Debug, Clone, Copy, Default)]
struct DenialCounts {
    adjudicated: u64,
    denied: u64,
    denied_in_full: u64,
    denied_charge: i64,
}

impl DenialCounts {
    fn merge(&mut self, o: &Self) {
        self.adjudicated += o.adjudicated;
        self.denied += o.denied;
        self.denied_in_full += o.denied_in_full;
        self.denied_charge += o.denied_charge;
    }
}

/// The distinct reasons of a denied claim (claim level, then denied
/// lines), into a fixed buffer; returns how many.
fn claim_reasons(h: &History, c: &Claim, buf: &mut [u32; 32]) -> usize {
    let mut n = 0;
    let mut push = |r: u32| {
        if r != NONE && n < buf.len() && !buf[..n].contains(&r) {
            buf[n] = r;
            n += 1;
        }
    };
    for &r in h.reasons_of(c) {
        push(r);
    }
    for l in h.lines_of(c) {
        if l.denied {
            push(l.reason);
        }
    }
    n
}

/// Initial denial rate per group, and denial rate per reason.
pub fn denials(h: &History, spec: &Spec) -> DenialsReport {
    let keys = Keys::new(h, spec);
    let n_reasons = h.reason_names.len();
    // Reason tallies ride in an extra dense vector next to the groups.
    #[derive(Clone, Default)]
    struct Acc {
        groups: Vec<DenialCounts>,
        reasons: Vec<u64>,
    }
    let acc = h
        .claims
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut a = Acc {
                groups: vec![DenialCounts::default(); keys.len],
                reasons: vec![0; n_reasons],
            };
            let mut buf = [0u32; 32];
            for c in chunk {
                if !spec.includes(c) || c.outcome == Outcome::Pending {
                    continue;
                }
                let g = &mut a.groups[keys.key(h, c)];
                g.adjudicated += 1;
                if !is_denied(c.outcome) {
                    continue;
                }
                g.denied += 1;
                if c.outcome == Outcome::Denied {
                    g.denied_in_full += 1;
                    g.denied_charge += c.charge_cents;
                } else {
                    g.denied_charge += h
                        .lines_of(c)
                        .iter()
                        .filter(|l| l.denied)
                        .map(|l| l.charge_cents)
                        .sum::<i64>();
                }
                let n = claim_reasons(h, c, &mut buf);
                for &r in &buf[..n] {
                    if let Some(x) = a.reasons.get_mut(r as usize) {
                        *x += 1;
                    }
                }
            }
            a
        })
        .reduce(
            || Acc {
                groups: vec![DenialCounts::default(); keys.len],
                reasons: vec![0; n_reasons],
            },
            |mut a, b| {
                for (x, y) in a.groups.iter_mut().zip(&b.groups) {
                    x.merge(y);
                }
                for (x, y) in a.reasons.iter_mut().zip(&b.reasons) {
                    *x += y;
                }
                a
            },
        );
    let row = |key: String, a: &DenialCounts| DenialRow {
        key,
        adjudicated: a.adjudicated,
        denied: a.denied,
        denied_in_full: a.denied_in_full,
        denial_rate: ratio(a.denied, a.adjudicated),
        denied_charge_cents: a.denied_charge,
    };
    let mut total = DenialCounts::default();
    let mut groups = Vec::new();
    for (k, a) in acc.groups.iter().enumerate() {
        total.merge(a);
        if a.adjudicated > 0 {
            groups.push(row(keys.label(h, k), a));
        }
    }
    let mut reasons: Vec<ReasonRow> = acc
        .reasons
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(r, &n)| {
            let name = h.reason_names.name(r as u32);
            ReasonRow {
                reason: name.to_owned(),
                kind: if name.contains('-') { "carc" } else { "rarc" },
                claims: n,
                rate: ratio(n, total.adjudicated),
                share_of_denied: ratio(n, total.denied),
            }
        })
        .collect();
    reasons.sort_by(|a, b| {
        b.claims
            .cmp(&a.claims)
            .then_with(|| a.reason.cmp(&b.reason))
    });
    DenialsReport {
        report: Report {
            spec: *spec,
            groups,
            total: row("total".to_owned(), &total),
        },
        reasons,
    }
}

/// Aging bucket bounds (inclusive upper ends in days; the last is open).
pub const AGING_BUCKETS: [&str; 5] = ["0-30", "31-60", "61-90", "91-120", ">120"];

fn bucket(age: Day) -> usize {
    match age {
        ..=30 => 0,
        31..=60 => 1,
        61..=90 => 2,
        91..=120 => 3,
        _ => 4,
    }
}

/// The open balance of a claim as of `d` (see the module docs), `None` if
/// it was not in A/R then.
#[inline]
pub fn open_balance(c: &Claim, d: Day) -> Option<i64> {
    if c.submitted > d || c.closed.is_some_and(|x| x <= d) {
        return None;
    }
    if c.adjudicated.is_none_or(|a| a > d) {
        return Some(c.charge_cents);
    }
    Some((c.charge_cents - c.paid_cents - c.contractual_cents).max(0))
}

/// One group of the A/R report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArRow {
    /// Group label.
    pub key: String,
    /// Gross charges of the period's claims.
    pub charges_cents: i64,
    /// Contractual adjustments of the period's claims.
    pub contractual_cents: i64,
    /// Payer payments of the period's claims.
    pub paid_cents: i64,
    /// `paid / (charges − contractual)`.
    pub net_collection_rate: f64,
    /// Period claims that closed.
    pub closed_claims: u64,
    /// Mean days from submission to close over them.
    pub avg_days_to_close: f64,
    /// Claims open as of `as_of` (any period).
    pub open_claims: u64,
    /// Their total balance (total A/R).
    pub open_balance_cents: i64,
    /// Gross period charges ÷ days in the period.
    pub avg_daily_charges_cents: f64,
    /// Total A/R ÷ average daily charges.
    pub days_in_ar: f64,
    /// Open balance per aging bucket ([`AGING_BUCKETS`]).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub aging_cents: [i64; 5],
    /// Open claims per aging bucket.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u64>))]
    pub aging_claims: [u64; 5],
}

#[derive(Debug, Clone, Copy)]
struct ArCounts {
    charges: i64,
    contractual: i64,
    paid: i64,
    closed: u64,
    close_days: i64,
    open: u64,
    balance: i64,
    aging: [i64; 5],
    aging_n: [u64; 5],
    first: Day,
    last: Day,
}

impl Default for ArCounts {
    fn default() -> Self {
        ArCounts {
            charges: 0,
            contractual: 0,
            paid: 0,
            closed: 0,
            close_days: 0,
            open: 0,
            balance: 0,
            aging: [0; 5],
            aging_n: [0; 5],
            first: Day::MAX,
            last: Day::MIN,
        }
    }
}

impl ArCounts {
    fn merge(&mut self, o: &Self) {
        self.charges += o.charges;
        self.contractual += o.contractual;
        self.paid += o.paid;
        self.closed += o.closed;
        self.close_days += o.close_days;
        self.open += o.open;
        self.balance += o.balance;
        for i in 0..5 {
            self.aging[i] += o.aging[i];
            self.aging_n[i] += o.aging_n[i];
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

/// Days in A/R (both forms), aging buckets and net collection rate.
pub fn ar(h: &History, spec: &Spec) -> Report<ArRow> {
    let keys = Keys::new(h, spec);
    let as_of = spec.as_of;
    let acc = scan::<ArCounts, _, _>(
        h,
        &keys,
        |acc, keys, c| {
            let a = &mut acc[keys.key(h, c)];
            if spec.includes(c) {
                let d = spec.date_of(c);
                a.first = a.first.min(d);
                a.last = a.last.max(d);
                a.charges += c.charge_cents;
                a.contractual += c.contractual_cents;
                a.paid += c.paid_cents;
                if let Some(closed) = c.closed {
                    a.closed += 1;
                    a.close_days += i64::from(closed - c.submitted);
                }
            }
            if let Some(b) = open_balance(c, as_of) {
                let i = bucket(as_of - c.submitted);
                a.open += 1;
                a.balance += b;
                a.aging[i] += b;
                a.aging_n[i] += 1;
            }
        },
        ArCounts::merge,
    );
    let row = |key: String, a: &ArCounts| {
        let first = spec.from.unwrap_or(a.first);
        let last = spec.to.unwrap_or(a.last);
        let days = if last >= first {
            f64::from(last - first + 1)
        } else {
            0.0
        };
        let daily = if days > 0.0 {
            a.charges as f64 / days
        } else {
            0.0
        };
        let net = a.charges - a.contractual;
        ArRow {
            key,
            charges_cents: a.charges,
            contractual_cents: a.contractual,
            paid_cents: a.paid,
            net_collection_rate: if net > 0 {
                a.paid as f64 / net as f64
            } else {
                0.0
            },
            closed_claims: a.closed,
            avg_days_to_close: if a.closed > 0 {
                a.close_days as f64 / a.closed as f64
            } else {
                0.0
            },
            open_claims: a.open,
            open_balance_cents: a.balance,
            avg_daily_charges_cents: daily,
            days_in_ar: if daily > 0.0 {
                a.balance as f64 / daily
            } else {
                0.0
            },
            aging_cents: a.aging,
            aging_claims: a.aging_n,
        }
    };
    let mut total = ArCounts::default();
    let mut groups = Vec::new();
    for (k, a) in acc.iter().enumerate() {
        total.merge(a);
        if a.charges != 0 || a.open > 0 {
            groups.push(row(keys.label(h, k), a));
        }
    }
    Report {
        spec: *spec,
        groups,
        total: row("total".to_owned(), &total),
    }
}

/// Small hand-built histories for tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::history::*;

    /// 2026-01-01.
    pub fn base() -> Day {
        day(jiff::civil::date(2026, 1, 1))
    }

    #[allow(clippy::too_many_arguments)]
    fn claim(
        h: &mut History,
        payer: &str,
        svc: Day,
        ack: AckOutcome,
        outcome: Outcome,
        adjudicated: Option<Day>,
        money: (i64, i64, i64, i64),
        closed: Option<Day>,
        appeal: (bool, bool),
        reasons: &[&str],
        lines: &[(&str, i64, Option<&str>)],
    ) {
        let b = base();
        let payer = h.payers.intern(payer);
        let provider = h.providers.intern("1234567893");
        let l0 = h.lines.len() as u32;
        for (code, charge, denied) in lines {
            let code = h.codes.intern(code);
            let reason = denied.map_or(NONE, |r| h.reason_names.intern(r));
            h.lines.push(Line {
                code,
                modifiers: [NONE; 4],
                units: 1,
                charge_cents: *charge,
                paid_cents: 0,
                denied: denied.is_some(),
                reason,
                dx_pointer: 0,
            });
        }
        let r0 = h.reasons.len() as u32;
        for r in reasons {
            let id = h.reason_names.intern(r);
            h.reasons.push(id);
        }
        let d0 = h.diagnoses.len() as u32;
        let id = h.claims.len() as u64 + 1;
        h.claims.push(Claim {
            id,
            payer,
            provider,
            place_of_service: 11,
            institutional: false,
            service_date: b + svc,
            submitted: b + svc + 1,
            ack,
            ack_date: (ack != AckOutcome::None).then_some(b + svc + 2),
            outcome,
            adjudicated: adjudicated.map(|d| b + d),
            charge_cents: money.0,
            paid_cents: money.1,
            patient_resp_cents: money.2,
            contractual_cents: money.3,
            closed: closed.map(|d| b + d),
            prior_auth: false,
            appealed: appeal.0,
            overturned: appeal.1,
            lines: l0..h.lines.len() as u32,
            diagnoses: d0..d0,
            reasons: r0..h.reasons.len() as u32,
        });
    }

    /// Five claims (days relative to 2026-01-01; submitted = service + 1):
    /// 1. A, svc 0, accepted, paid on day 15: charge 100.00, paid 70.00,
    ///    patient 10.00, contractual 20.00, closed day 20.
    /// 2. A, svc 2, accepted, denied on day 20 (CO-50): charge 200.00;
    ///    appealed and overturned: paid 150.00, contractual 50.00, closed day 60.
    /// 3. A, svc 5, rejected by the clearinghouse, never adjudicated: 50.00, open.
    /// 4. B, svc 10, accepted, partially denied on day 30 (line 2, 200.00,
    ///    CO-97; claim reasons CO-97, N115): charge 300.00, paid 100.00,
    ///    contractual 50.00; appealed, not overturned; open.
    /// 5. B, svc 40, no acknowledgement yet, pending: 80.00, open.
    pub fn five_claims() -> History {
        let mut h = History::default();
        use AckOutcome::{Accepted, Rejected};
        claim(
            &mut h,
            "A",
            0,
            Accepted,
            Outcome::Paid,
            Some(15),
            (10000, 7000, 1000, 2000),
            Some(20),
            (false, false),
            &[],
            &[("99213", 10000, None)],
        );
        claim(
            &mut h,
            "A",
            2,
            Accepted,
            Outcome::Denied,
            Some(20),
            (20000, 15000, 0, 5000),
            Some(60),
            (true, true),
            &["CO-50"],
            &[("99214", 20000, Some("CO-50"))],
        );
        claim(
            &mut h,
            "A",
            5,
            Rejected,
            Outcome::Pending,
            None,
            (5000, 0, 0, 0),
            None,
            (false, false),
            &[],
            &[("99213", 5000, None)],
        );
        claim(
            &mut h,
            "B",
            10,
            Accepted,
            Outcome::PartiallyDenied,
            Some(30),
            (30000, 10000, 0, 5000),
            None,
            (true, false),
            &["CO-97", "N115"],
            &[("99213", 10000, None), ("99214", 20000, Some("CO-97"))],
        );
        claim(
            &mut h,
            "B",
            40,
            AckOutcome::None,
            Outcome::Pending,
            None,
            (8000, 0, 0, 0),
            None,
            (false, false),
            &[],
            &[("99213", 8000, None)],
        );
        h
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{base, five_claims};
    use super::*;
    use crate::spec::GroupBy;

    fn spec(by: GroupBy) -> Spec {
        Spec {
            by,
            ..Spec::all(base() + 100)
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn clean_claims_total_by_hand() {
        let r = clean_claims(&five_claims(), &spec(GroupBy::Total));
        let t = &r.total;
        // Acknowledged: claims 1-4; accepted 1, 2, 4 → 3/4.
        assert_eq!((t.acknowledged, t.accepted), (4, 3));
        assert!(close(t.acceptance_rate, 0.75));
        // Answered: rejected 3 + adjudicated 1, 2, 4 = 4; clean: claim 1 only → 1/4.
        assert_eq!((t.answered, t.clean), (4, 1));
        assert!(close(t.first_pass_clean_rate, 0.25));
        // Denied (whole or part): 2, 4 of 3 adjudicated → 2/3.
        assert!(close(t.initial_denial_rate, 2.0 / 3.0));
        // Appealed 2, 4; overturned 2 → 1/2.
        assert!(close(t.overturn_rate, 0.5));
        assert_eq!(r.groups.len(), 1);
    }

    #[test]
    fn clean_claims_by_payer_and_month() {
        let r = clean_claims(&five_claims(), &spec(GroupBy::Payer));
        let a = &r.groups[0];
        let b = &r.groups[1];
        // A: claims 1-3; acks 3, accepted 2 → 2/3; answered 3, clean 1 → 1/3;
        // adjudicated 2, denied 1 → 1/2; appealed 1, overturned 1 → 1.
        assert_eq!((a.key.as_str(), a.claims), ("A", 3));
        assert!(close(a.acceptance_rate, 2.0 / 3.0));
        assert!(close(a.first_pass_clean_rate, 1.0 / 3.0));
        assert!(close(a.initial_denial_rate, 0.5));
        assert!(close(a.overturn_rate, 1.0));
        // B: claims 4, 5; accepted 1/1; answered 1, clean 0; denied 1/1; overturned 0/1.
        assert_eq!((b.key.as_str(), b.claims), ("B", 2));
        assert!(close(b.acceptance_rate, 1.0) && close(b.first_pass_clean_rate, 0.0));
        assert!(close(b.initial_denial_rate, 1.0) && close(b.overturn_rate, 0.0));
        // By month of service: January has claims 1-4, February claim 5.
        let m = clean_claims(&five_claims(), &spec(GroupBy::Month));
        let keys: Vec<_> = m
            .groups
            .iter()
            .map(|g| (g.key.as_str(), g.claims))
            .collect();
        assert_eq!(keys, [("2026-01", 4), ("2026-02", 1)]);
        // Period: services from day 3 to day 20 → claims 3 and 4.
        let p = Spec {
            from: Some(base() + 3),
            to: Some(base() + 20),
            ..spec(GroupBy::Total)
        };
        assert_eq!(clean_claims(&five_claims(), &p).total.claims, 2);
    }

    #[test]
    fn denials_by_reason_by_hand() {
        let r = denials(&five_claims(), &spec(GroupBy::Total));
        let t = &r.report.total;
        // Adjudicated 1, 2, 4; denied 2 (in full) and 4 (in part).
        assert_eq!((t.adjudicated, t.denied, t.denied_in_full), (3, 2, 1));
        // Denied charge: claim 2 whole 200.00 + claim 4's denied line 200.00.
        assert_eq!(t.denied_charge_cents, 40000);
        // Reasons: claim 2 {CO-50}; claim 4 {CO-97, N115} (CO-97 once, though
        // on the claim and on the line). Each 1 of 3 adjudicated, 1 of 2 denied.
        let names: Vec<_> = r
            .reasons
            .iter()
            .map(|x| (x.reason.as_str(), x.kind, x.claims))
            .collect();
        assert_eq!(
            names,
            [
                ("CO-50", "carc", 1),
                ("CO-97", "carc", 1),
                ("N115", "rarc", 1)
            ]
        );
        assert!(close(r.reasons[0].rate, 1.0 / 3.0) && close(r.reasons[0].share_of_denied, 0.5));
        // By first claim reason: (none) holds claim 1, CO-50 claim 2, CO-97 claim 4.
        let g = denials(&five_claims(), &spec(GroupBy::Reason));
        let keys: Vec<_> = g
            .report
            .groups
            .iter()
            .map(|x| (x.key.as_str(), x.denied))
            .collect();
        assert_eq!(keys, [("CO-50", 1), ("CO-97", 1), ("(none)", 0)]);
    }

    #[test]
    fn ar_by_hand() {
        let r = ar(&five_claims(), &spec(GroupBy::Total));
        let t = &r.total;
        // Charges 100 + 200 + 50 + 300 + 80 = 730.00; contractual 20 + 50 + 50 = 120.00;
        // paid 70 + 150 + 100 = 320.00 → NCR = 320 / (730 − 120) = 0.524590.
        assert_eq!(
            (t.charges_cents, t.contractual_cents, t.paid_cents),
            (73000, 12000, 32000)
        );
        assert!(close(t.net_collection_rate, 32000.0 / 61000.0));
        // Closed: claim 1 after 20 − 1 = 19 days, claim 2 after 60 − 3 = 57 → 38.0.
        assert_eq!(t.closed_claims, 2);
        assert!(close(t.avg_days_to_close, 38.0));
        // Open on day 100: claim 3 (unadjudicated, 50.00, age 100 − 6 = 94 → 91-120),
        // claim 4 (300 − 100 − 50 = 150.00, age 89 → 61-90), claim 5 (80.00, age 59 → 31-60).
        assert_eq!((t.open_claims, t.open_balance_cents), (3, 28000));
        assert_eq!(t.aging_cents, [0, 8000, 15000, 5000, 0]);
        assert_eq!(t.aging_claims, [0, 1, 1, 1, 0]);
        // Period = services day 0 .. day 40 = 41 days; daily charges 73000/41 = 1780.49;
        // days in A/R = 28000 / 1780.49 = 15.726.
        assert!(close(t.avg_daily_charges_cents, 73000.0 / 41.0));
        assert!((t.days_in_ar - 15.726).abs() < 1e-3);
        // As of day 25 claim 4 is not adjudicated yet (full 300.00), claim 5 not submitted,
        // claim 2 is open (denied, not yet overturned: 200 − 150 − 50 = 0 balance).
        let early = ar(
            &five_claims(),
            &Spec {
                as_of: base() + 25,
                ..spec(GroupBy::Total)
            },
        );
        assert_eq!(
            (early.total.open_claims, early.total.open_balance_cents),
            (3, 35000)
        );
    }

    #[test]
    fn chunked_scan_matches_serial() {
        // Repeat the fixture past one chunk and compare with 1× scaled counts.
        let one = five_claims();
        let mut big = History {
            payers: one.payers.clone(),
            providers: one.providers.clone(),
            codes: one.codes.clone(),
            reason_names: one.reason_names.clone(),
            ..History::default()
        };
        let reps = CHUNK / 5 + 7;
        for _ in 0..reps {
            let (l0, r0) = (big.lines.len() as u32, big.reasons.len() as u32);
            big.lines.extend(one.lines.iter().cloned());
            big.reasons.extend(one.reasons.iter().copied());
            for c in &one.claims {
                let mut c = c.clone();
                c.lines = c.lines.start + l0..c.lines.end + l0;
                c.reasons = c.reasons.start + r0..c.reasons.end + r0;
                big.claims.push(c);
            }
        }
        let r = clean_claims(&big, &spec(GroupBy::Total)).total;
        assert_eq!(r.claims, 5 * reps as u64);
        assert_eq!(r.clean, reps as u64);
        let d = denials(&big, &spec(GroupBy::Total));
        assert_eq!(d.report.total.denied_charge_cents, 40000 * reps as i64);
        assert_eq!(d.reasons[0].claims, reps as u64);
    }
}
