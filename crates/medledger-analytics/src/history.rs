//! The claims-history model: what happened to every claim, line and prior
//! authorisation, as plain columns with interned names so that tens of
//! millions of lines fit in memory and scan fast.
//!
//! Dates are days since 1970-01-01 ([`Day`]); money is integer cents.
//! Nothing here is PHI: ids, codes, payers, providers, dates, amounts.
//!
//! Contract (shared by the metrics, the denial model and the simulator):
//! - `claims` are in submission order (`submitted` non-decreasing);
//!   `Claim::lines` is a range into `lines`; `Claim::diagnoses` a range into
//!   `diagnoses`; `Claim::reasons` a range into `reasons` (claim-level CARC).
//! - A claim's `outcome` is its first adjudication (first pass); an appeal or
//!   corrected resubmission that overturned a denial sets `overturned`.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Days since 1970-01-01.
pub type Day = i32;

/// Interned strings: id → name and name → id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Interner {
    names: Vec<String>,
    #[serde(skip)]
    ids: rustc_hash::FxHashMap<String, u32>,
}

impl Interner {
    /// The id of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if self.ids.len() != self.names.len() {
            self.rebuild();
        }
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// The id of `name`, if present.
    pub fn get(&self, name: &str) -> Option<u32> {
        if self.ids.len() == self.names.len() {
            self.ids.get(name).copied()
        } else {
            self.names.iter().position(|n| n == name).map(|i| i as u32)
        }
    }

    /// The name of `id`.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// No names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every name, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn rebuild(&mut self) {
        self.ids = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
    }
}

/// The clearinghouse's answer (999/277CA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckOutcome {
    /// No acknowledgement recorded.
    None,
    /// Accepted for adjudication.
    Accepted,
    /// Rejected at the front end (never reached adjudication).
    Rejected,
}

/// The payer's first adjudication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not adjudicated yet (open A/R).
    Pending,
    /// Paid in full or in part with no line denied.
    Paid,
    /// Some lines denied, others paid.
    PartiallyDenied,
    /// Denied as a whole.
    Denied,
}

/// One claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// The practice's claim id.
    pub id: u64,
    /// Payer (interned in [`History::payers`]).
    pub payer: u32,
    /// Rendering/billing provider (interned in [`History::providers`]).
    pub provider: u32,
    /// Place of service (CMS two-digit code as a number, e.g. 11).
    pub place_of_service: u8,
    /// `true` for 837I, `false` for 837P.
    pub institutional: bool,
    /// Date of service (first).
    pub service_date: Day,
    /// Submitted to the clearinghouse.
    pub submitted: Day,
    /// Acknowledgement outcome and its date.
    pub ack: AckOutcome,
    /// Day of the acknowledgement.
    pub ack_date: Option<Day>,
    /// First adjudication.
    pub outcome: Outcome,
    /// Day of the first adjudication (835), if any.
    pub adjudicated: Option<Day>,
    /// Total charge.
    pub charge_cents: i64,
    /// Paid by the payer (all postings, appeals included).
    pub paid_cents: i64,
    /// Patient responsibility (PR adjustments).
    pub patient_resp_cents: i64,
    /// Contractual adjustments (CO-45 and the like), not collectable.
    pub contractual_cents: i64,
    /// Day the balance reached zero (paid/closed), if it did.
    pub closed: Option<Day>,
    /// A prior authorisation was on file for the claim.
    pub prior_auth: bool,
    /// The claim was appealed after its first adjudication.
    pub appealed: bool,
    /// The appeal (or corrected resubmission) overturned the denial.
    pub overturned: bool,
    /// Lines, a range into [`History::lines`].
    pub lines: Range<u32>,
    /// Diagnoses (ICD-10-CM, interned in [`History::codes`]), first-listed first; a range into [`History::diagnoses`].
    pub diagnoses: Range<u32>,
    /// Claim-level adjustment reasons of the first adjudication, a range into [`History::reasons`].
    pub reasons: Range<u32>,
}

/// One service line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Procedure code (CPT/HCPCS, interned in [`History::codes`]).
    pub code: u32,
    /// Up to four modifiers (interned in [`History::modifiers`]); `u32::MAX` = none.
    pub modifiers: [u32; 4],
    /// Units.
    pub units: u32,
    /// Line charge.
    pub charge_cents: i64,
    /// Line paid at first adjudication.
    pub paid_cents: i64,
    /// Denied at first adjudication.
    pub denied: bool,
    /// Line-level CARC of the denial, interned in [`History::reason_names`]; `u32::MAX` = none.
    pub reason: u32,
    /// Diagnosis pointer: index into the claim's diagnoses (0-based).
    pub dx_pointer: u8,
}

/// No modifier / no reason.
pub const NONE: u32 = u32::MAX;

/// A prior-authorisation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorAuth {
    /// Payer (interned in [`History::payers`]).
    pub payer: u32,
    /// Gold-card program of the payer (interned in [`History::programs`]).
    pub program: u32,
    /// Provider (interned in [`History::providers`]).
    pub provider: u32,
    /// Service code requested (interned in [`History::codes`]).
    pub code: u32,
    /// Requested.
    pub requested: Day,
    /// Decided, if decided.
    pub decided: Option<Day>,
    /// `Some(true)` approved, `Some(false)` denied, `None` pending.
    pub approved: Option<bool>,
}

/// A whole history.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    /// Payers.
    pub payers: Interner,
    /// Providers.
    pub providers: Interner,
    /// Procedure and diagnosis codes.
    pub codes: Interner,
    /// Modifiers.
    pub modifiers: Interner,
    /// Adjustment reasons as `GROUP-CARC` (e.g. `CO-97`) or RARC (`N115`).
    pub reason_names: Interner,
    /// Gold-card programs.
    pub programs: Interner,
    /// Claims, in submission order.
    pub claims: Vec<Claim>,
    /// Lines of every claim.
    pub lines: Vec<Line>,
    /// Diagnoses of every claim (interned codes).
    pub diagnoses: Vec<u32>,
    /// Claim-level reasons of every claim (interned reasons).
    pub reasons: Vec<u32>,
    /// Prior-authorisation requests, in request order.
    pub prior_auths: Vec<PriorAuth>,
}

impl History {
    /// The lines of a claim.
    pub fn lines_of(&self, c: &Claim) -> &[Line] {
        &self.lines[c.lines.start as usize..c.lines.end as usize]
    }

    /// The diagnoses of a claim.
    pub fn diagnoses_of(&self, c: &Claim) -> &[u32] {
        &self.diagnoses[c.diagnoses.start as usize..c.diagnoses.end as usize]
    }

    /// The claim-level reasons of a claim.
    pub fn reasons_of(&self, c: &Claim) -> &[u32] {
        &self.reasons[c.reasons.start as usize..c.reasons.end as usize]
    }
}

/// `Day` of a civil date.
pub fn day(date: jiff::civil::Date) -> Day {
    let epoch = jiff::civil::date(1970, 1, 1);
    (date - epoch).get_days()
}

/// Today (UTC) as a `Day`.
pub fn today() -> Day {
    day(jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date())
}

/// Civil date of a `Day`.
pub fn date(day: Day) -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(day as i64))
        .unwrap_or(jiff::civil::Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        let d = jiff::civil::date(2026, 10, 1);
        assert_eq!(date(day(d)), d);
        assert_eq!(day(jiff::civil::date(1970, 1, 2)), 1);
    }

    #[test]
    fn interner_survives_serde() {
        let mut i = Interner::default();
        assert_eq!(i.intern("AETNA"), 0);
        assert_eq!(i.intern("BCBS"), 1);
        let back: Interner = serde_json::from_str(&serde_json::to_string(&i).unwrap()).unwrap();
        assert_eq!(back.get("BCBS"), Some(1));
        let mut back = back;
        assert_eq!(back.intern("AETNA"), 0);
        assert_eq!(back.intern("CIGNA"), 2);
    }
}
