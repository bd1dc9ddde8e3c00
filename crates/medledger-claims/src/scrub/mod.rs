//! The pre-submission scrubber: coding, NCCI and payer edits over one
//! claim, each finding with its edit id, severity, location, suggested fix
//! and source.
//!
//! ```text
//! let tables = ScrubTables::from_engine(&engine)?;          // once
//! let profiles = PayerProfiles::builtin()?;                  // once
//! let ctx = ScrubContext::new(&tables, today).with_payer(profiles.for_payer(&claim.payer));
//! let report = scrub(&claim, &ctx);
//! ```
//!
//! The edits, by id (see [`EDITS`] for one line each):
//!
//! - `MODEL`, `DX-POINTER`: [`Claim::validate`] errors (pointer errors under
//!   their own id), all rejects;
//! - `ICD-VALID`, `ICD-7TH`, `ICD-RELEASE`, `DX-DUPLICATE`: the diagnoses
//!   against the ICD-10-CM release of the date of service: the statement
//!   through (discharge) date on inpatient bills (11x, 18x, 21x, 41x), else
//!   the earliest line date. The release is the installed one whose dates
//!   cover that day, else one of the same fiscal year (as the engine falls
//!   back); with none, `ICD-RELEASE` warns and diagnoses go unchecked. The
//!   order file, when installed, decides billable status;
//! - `EXCLUDES1`, `MANIFESTATION-FIRST`, `CODE-FIRST`: tabular conventions
//!   (ICD-10-CM Official Guidelines I.A.12.a, I.A.13, I.B.7). Note
//!   references are the parenthesised codes, `X.-` prefixes and `A-B`
//!   ranges of the notes. An Excludes1 note written on the code or its
//!   category is a reject; one written on the block or chapter is a
//!   warning, since the guideline's exception (the two conditions are
//!   unrelated) is then more likely to apply. A manifestation is a code
//!   whose title (or an ancestor's) says "in diseases classified elsewhere"
//!   or that carries an unconditional "code first underlying ..." note; it
//!   listed first is a reject, and a professional line pointing first at
//!   one a warning. `CODE-FIRST` warns when a code a "code first" note
//!   names is on the claim after the code, or when a code with an
//!   unconditional note (no "if applicable", "if known", "any") is first;
//! - `AGE`, `SEX`: built-in chapter and block rules and the CMS edits file
//!   ([`AgeSexEdits`]); the patient's age on that date of service, from the
//!   patient's date of birth (the subscriber's when relationship is 18);
//! - `NCCI-PTP`, `MUE-LINE`, `MUE-DOS`, `AOC-PRIMARY`: CMS NCCI tables of the
//!   claim's setting ([`NcciFamily`]: practitioner for 837P; hospital
//!   outpatient for 837I bill types 12x, 13x, 14x and 85x; none for
//!   inpatient and other bills). PTP pairs are lines with the same first
//!   date of service, looked up in both orders; indicator 0 always
//!   rejects, 1 rejects unless a bypass modifier applies (see the rules in
//!   `modifiers`: 25/57 on the E/M line for E/M pairs; 24, 27, 58, 59, 78,
//!   79, 91, XE, XP, XS, XU on either line or anatomic modifiers naming
//!   different sites for others), 9 is not applicable. The MUE table is
//!   the newest of the setting whose effective date is not after the date
//!   of service; indicator 1 limits each line, 2 and 3 the units of a code
//!   summed over the lines of one date (by first date of service). An add-on
//!   code needs one of its listed primary codes on the same date: edit type
//!   1 rejects, type 3 warns (the contractor may accept others), type 2
//!   (contractor-defined primaries) is not checked;
//! - `HCPCS-VALID`: HCPCS Level II codes (letter and four digits) active on
//!   the date of service in the installed release;
//! - `MOD-25`: 25 on a non-E/M line rejects; an E/M (99202-99499) without 25
//!   or 57 on the date of a surgical procedure (10004-69990 but not
//!   venipuncture 36400-36416), an injection or infusion (96360-96549), or
//!   of a preventive visit (for a problem visit 99202-99215) warns, unless
//!   a PTP finding already names the pair;
//! - `TELEHEALTH-POS`, `TELEHEALTH-MOD`: as `medledger-services`'
//!   `rules/telehealth.toml` decides telehealth claims: 95/93 go with POS 02
//!   or 10, except Medicare through 2023-12-31 (in-person POS with 95) and
//!   payers whose profile accepts 95 with the in-person POS; a payer that
//!   requires 95 warns on POS 02/10 lines without 95/93; one that does not
//!   use 95 (Medicare from 2024) warns on 95;
//! - `NDC`: an NDC must be 11 digits; Medicaid (filing indicator MC) drug
//!   lines (J codes) need one;
//! - `DOS-FUTURE`: a line ending after today;
//! - `MONITORING`, `DMHT`: period rules of remote monitoring and DMHT codes
//!   (see `monitoring`), over the claim and the history;
//! - payer profile edits ([`PayerProfile`]): `PRIOR-AUTH` (a listed code
//!   without an authorisation number, unless the rendering or billing NPI
//!   holds a gold card for it on that date), `TIMELY-FILING` (days from the
//!   last date of service to today: reject past the limit, warn within 10
//!   days of it), `FREQUENCY` (frequency code not accepted),
//!   `FREQUENCY-LIMIT` (units of the code in the `per_days` days ending on
//!   the date of service, history plus this claim, above the limit; only
//!   with a history), `PAYER-BUNDLE`.
//!
//! PTP and add-on edits are in force on a date when effective on or before
//! it and deleted after it (`effective <= dos < deletion`, so an edit whose
//! deletion date equals its effective date, as CMS writes retroactive
//! deletions, never applies).
//!
//! Speed: the tables are hash maps keyed by packed codes, per-claim work
//! uses thread-local scratch space, and a clean claim allocates nothing in
//! the scrubber itself (the model's `validate` does a little). Messages
//! name lines 1-based, locations are 0-based JSON paths, and no message
//! carries a person's name.

mod demographics;
mod icd;
pub(crate) mod keys;
mod modifiers;
mod monitoring;
mod run;
mod tables;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::model::Claim;
use crate::payer::PayerProfile;

pub use demographics::AgeSexEdits;
pub use tables::{NcciFamily, ScrubTables, TablesSummary};

/// Every edit id the scrubber emits, with what it checks.
pub const EDITS: &[(&str, &str)] = &[
    ("MODEL", "structural claim error (Claim::validate)"),
    (
        "DX-POINTER",
        "diagnosis pointer outside 1..=n or more than 4 on a professional line",
    ),
    ("DX-DUPLICATE", "the same diagnosis code listed twice"),
    (
        "ICD-VALID",
        "diagnosis not a billable ICD-10-CM code on the date of service (header, unknown, deleted, not yet effective)",
    ),
    (
        "ICD-7TH",
        "diagnosis missing its 7th character or placeholder X, or with an invalid 7th character",
    ),
    (
        "ICD-RELEASE",
        "no installed ICD-10-CM release covers the date of service (diagnoses not checked)",
    ),
    (
        "EXCLUDES1",
        "two diagnoses an Excludes1 note says are not coded together",
    ),
    ("MANIFESTATION-FIRST", "a manifestation code listed first"),
    (
        "CODE-FIRST",
        "a code with a 'code first' note sequenced before (or without) the code it names",
    ),
    ("AGE", "diagnosis unlikely at the patient's age"),
    ("SEX", "diagnosis conflicts with the patient's sex"),
    (
        "NCCI-PTP",
        "NCCI procedure-to-procedure edit on the same date of service",
    ),
    (
        "MUE-LINE",
        "units on a line above the MUE (adjudication indicator 1)",
    ),
    (
        "MUE-DOS",
        "units per date of service above the MUE (adjudication indicator 2 or 3)",
    ),
    (
        "AOC-PRIMARY",
        "add-on code without one of its primary codes on the same date",
    ),
    (
        "HCPCS-VALID",
        "HCPCS Level II code not active on the date of service",
    ),
    (
        "MOD-25",
        "modifier 25 missing on an E/M with a procedure, or on a non-E/M line",
    ),
    (
        "TELEHEALTH-POS",
        "telehealth modifier and place of service disagree",
    ),
    (
        "TELEHEALTH-MOD",
        "modifier 95 where the payer does not use it",
    ),
    (
        "NDC",
        "NDC not 11 digits, or missing on a Medicaid drug line",
    ),
    ("DOS-FUTURE", "date of service after today"),
    (
        "MONITORING",
        "remote physiologic/therapeutic monitoring period rules",
    ),
    ("DMHT", "digital mental-health treatment period rules"),
    (
        "PRIOR-AUTH",
        "payer requires prior authorisation and the claim has none",
    ),
    (
        "TIMELY-FILING",
        "past (or within 10 days of) the payer's timely filing limit",
    ),
    (
        "FREQUENCY",
        "claim frequency code the payer does not accept",
    ),
    (
        "FREQUENCY-LIMIT",
        "payer frequency limit exceeded (with the patient's history)",
    ),
    (
        "PAYER-BUNDLE",
        "payer-specific bundling pair on the same date",
    ),
];

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The claim would be rejected or denied: fix before submitting.
    Reject,
    /// Review: the claim may be right.
    Warn,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// Stable edit id (one of [`EDITS`]).
    pub edit_id: &'static str,
    /// Reject or warn.
    pub severity: Severity,
    /// What and where (1-based line numbers, codes, dates; never names).
    pub message: String,
    /// JSON-path-like location (`lines[2]`, `diagnoses[0]`, `claim`).
    pub location: String,
    /// What to do about it.
    pub suggested_fix: String,
    /// The rule's source.
    pub source: String,
}

/// The scrubber's answer for one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScrubReport {
    /// Every finding, in edit order.
    pub findings: Vec<Finding>,
    /// No reject-severity finding.
    pub clean: bool,
}

impl ScrubReport {
    /// The edit ids found, in order (with repeats).
    pub fn edit_ids(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.edit_id).collect()
    }

    /// Findings of one edit id.
    pub fn of(&self, edit_id: &str) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.edit_id == edit_id)
    }
}

/// A service line already billed for the patient (for frequency limits and
/// monitoring periods).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HistoryLine {
    /// CPT/HCPCS code.
    pub procedure: String,
    /// Date of service.
    pub date: Date,
    /// Units.
    pub units: f64,
    /// Modifiers.
    #[serde(default)]
    pub modifiers: Vec<String>,
    /// The claim it was billed on (a history line of the claim being
    /// scrubbed, or of the claim a replacement replaces, is not counted).
    #[serde(default)]
    pub claim_id: Option<String>,
}

/// Errors building scrubber inputs.
#[derive(Debug, thiserror::Error)]
pub enum ScrubError {
    /// The code-set engine failed.
    #[error(transparent)]
    Engine(#[from] medledger_codesets::Error),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A table file is malformed (`line` 1-based, 0 when not known).
    #[error("{file}:{line}: {message}")]
    Table {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// What a scrub run reads besides the claim.
#[derive(Clone, Copy)]
pub struct ScrubContext<'a> {
    /// Code tables.
    pub tables: &'a ScrubTables,
    /// The payer's profile (no payer edits without one).
    pub payer: Option<&'a PayerProfile>,
    /// Age/sex edits from the CMS edits file (built-in rules run without it).
    pub age_sex: Option<&'a AgeSexEdits>,
    /// The patient's billed history (no frequency-limit findings without it).
    pub history: Option<&'a [HistoryLine]>,
    /// Today, for timely filing and future dates.
    pub today: Date,
}

impl<'a> ScrubContext<'a> {
    /// A context with tables and today's date only.
    pub fn new(tables: &'a ScrubTables, today: Date) -> ScrubContext<'a> {
        ScrubContext {
            tables,
            payer: None,
            age_sex: None,
            history: None,
            today,
        }
    }

    /// With a payer profile.
    pub fn with_payer(mut self, payer: Option<&'a PayerProfile>) -> Self {
        self.payer = payer;
        self
    }

    /// With the CMS age/sex edits.
    pub fn with_age_sex(mut self, edits: Option<&'a AgeSexEdits>) -> Self {
        self.age_sex = edits;
        self
    }

    /// With the patient's history.
    pub fn with_history(mut self, history: Option<&'a [HistoryLine]>) -> Self {
        self.history = history;
        self
    }
}

/// Scrubs one claim.
pub fn scrub(claim: &Claim, ctx: &ScrubContext) -> ScrubReport {
    run::scrub(claim, ctx)
}

/// Scrubs `claims` `rounds` times; returns (service lines scrubbed,
/// seconds). For the CLI's `bench scrub`.
pub fn bench_scrub(ctx: &ScrubContext, claims: &[Claim], rounds: usize) -> (u64, f64) {
    let start = std::time::Instant::now();
    let mut lines = 0u64;
    for _ in 0..rounds {
        for c in claims {
            let r = scrub(std::hint::black_box(c), ctx);
            std::hint::black_box(&r);
            lines += c.lines.len() as u64;
        }
    }
    (lines, start.elapsed().as_secs_f64())
}
