//! Payer profiles: what one payer adds to the pre-submission edits.
//!
//! A profile is a TOML file (`payers/*.toml`, the built-in ones embedded at
//! build time; others loaded at run time) with a `[header]` (`name`,
//! `version`, `sources`) and:
//!
//! - `[payer]`: the claim payer ids (`Payer::id`) and, as a fallback, the
//!   claim filing indicators (`Payer::filing_indicator`) the profile applies to;
//! - `[claims]`: the timely filing limit in days from the last date of
//!   service and the claim frequency codes the payer accepts;
//! - `[telehealth]`: which telehealth claim convention the payer follows
//!   (`medicare` or `commercial`, as in `medledger-services`'
//!   `rules/telehealth.toml`), whether modifier 95 is required, not used or
//!   optional on POS 02/10 lines, and whether the payer accepts modifier 95
//!   with the in-person place of service;
//! - `[[prior_auth]]`: codes (exact, or `first-last` ranges of equal-length
//!   codes) that need a prior authorisation number, with effective dates;
//! - `[[gold_card]]`: providers (rendering, or billing when there is no
//!   rendering provider, by NPI) exempt from prior authorisation for some or
//!   all of those codes, with effective dates;
//! - `[[frequency_limit]]`: at most `max_units` of a code per `per_days` days
//!   (checked against the patient's history when the caller supplies it);
//! - `[[bundle]]`: payer-specific pairs: `column2` is not paid with
//!   `column1` on the same date unless a listed modifier is on either line.
//!
//! Profiles are validated on load: unknown keys are refused, and every
//! error names the file and line.

use std::ops::Range;
use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::model::{ClaimKind, Frequency, Payer, npi_valid};
use crate::scrub::keys::code32;

/// The built-in profiles: (file name, text).
const BUILTIN: &[(&str, &str)] = &[
    ("medicare-b.toml", include_str!("../payers/medicare-b.toml")),
    (
        "acme-commercial.toml",
        include_str!("../payers/acme-commercial.toml"),
    ),
    (
        "sunrise-medicaid.toml",
        include_str!("../payers/sunrise-medicaid.toml"),
    ),
    (
        "northwind-advantage.toml",
        include_str!("../payers/northwind-advantage.toml"),
    ),
];

/// A problem with a payer profile file.
#[derive(Debug, thiserror::Error)]
pub enum PayerError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid profile; `line` is 1-based (0: not known).
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line of the offending key or value.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Two profiles claim the same name or payer id.
    #[error("{file}: {message}")]
    Conflict {
        /// The later file.
        file: String,
        /// What clashes.
        message: String,
    },
}

/// `[header]` of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileHeader {
    /// Profile name (lower-case, `a-z0-9-`), e.g. `medicare-b`.
    pub name: String,
    /// Profile version, e.g. `2026.1`.
    pub version: String,
    /// Where the rules come from.
    pub sources: Vec<String>,
}

/// Which telehealth claim convention a payer follows (see
/// `medledger-services` `rules/telehealth.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelehealthConvention {
    /// Medicare FFS: in-person POS with modifier 95 through 2023-12-31
    /// (PHE rules), POS 02/10 from 2024-01-01.
    Medicare,
    /// CPT modifiers 95/93 with POS 02/10.
    Commercial,
}

/// What a payer wants of modifier 95 on POS 02/10 lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modifier95 {
    /// A POS 02/10 line needs 95 (or 93 for audio-only).
    Required,
    /// The payer does not use 95 (Medicare from 2024, except hospital-based
    /// clinicians and outpatient therapy).
    NotUsed,
    /// Either way.
    Optional,
}

/// `[telehealth]` of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelehealthPolicy {
    /// The convention.
    pub convention: TelehealthConvention,
    /// Modifier 95 on POS 02/10 lines.
    pub modifier_95: Modifier95,
    /// Whether modifier 95 with the in-person POS (e.g. 11) is accepted.
    #[serde(default)]
    pub in_person_pos_with_95: bool,
}

impl Default for TelehealthPolicy {
    fn default() -> Self {
        TelehealthPolicy {
            convention: TelehealthConvention::Commercial,
            modifier_95: Modifier95::Optional,
            in_person_pos_with_95: false,
        }
    }
}

/// A code or an inclusive range of equal-length codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeSpec {
    /// As written (`72148`, `70551-70553`).
    pub text: String,
    lo: u32,
    hi: u32,
}

impl CodeSpec {
    /// Parses `CODE` or `FIRST-LAST` (five-character CPT/HCPCS codes).
    pub fn parse(text: &str) -> Result<CodeSpec, String> {
        let t = text.trim().to_ascii_uppercase();
        let (a, b) = match t.split_once('-') {
            Some((a, b)) => (a.trim().to_string(), b.trim().to_string()),
            None => (t.clone(), t.clone()),
        };
        let (lo, hi) = (code32(&a), code32(&b));
        if lo == 0 || hi == 0 {
            return Err(format!(
                "{text:?} is not a five-character procedure code or a FIRST-LAST range of them"
            ));
        }
        if lo > hi {
            return Err(format!(
                "{text:?}: the range's first code is after its last"
            ));
        }
        Ok(CodeSpec { text: t, lo, hi })
    }

    /// Whether a packed (`code32`) code is in the spec.
    #[inline]
    pub(crate) fn contains32(&self, code: u32) -> bool {
        code != 0 && self.lo <= code && code <= self.hi
    }

    /// Whether a code is in the spec.
    pub fn contains(&self, code: &str) -> bool {
        self.contains32(code32(code))
    }
}

/// Effective dates, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Effective {
    /// First date.
    pub from: Option<Date>,
    /// Last date.
    pub to: Option<Date>,
}

impl Effective {
    /// Whether the rule applies on `d`.
    pub fn applies_on(&self, d: Date) -> bool {
        self.from.is_none_or(|f| f <= d) && self.to.is_none_or(|t| d <= t)
    }
}

/// A prior-authorisation requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorAuthRule {
    /// Our short label.
    pub label: String,
    /// The codes.
    pub codes: Vec<CodeSpec>,
    /// Claim kinds it applies to (empty: all).
    pub kinds: Vec<ClaimKind>,
    /// When.
    pub effective: Effective,
    /// Where the requirement comes from.
    pub source: String,
}

/// A gold-card exemption from prior authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoldCard {
    /// The provider's NPI (rendering, or billing when no rendering provider).
    pub npi: String,
    /// The exempt codes (empty: every prior-authorisation code).
    pub codes: Vec<CodeSpec>,
    /// When.
    pub effective: Effective,
    /// Where the exemption comes from.
    pub source: String,
}

/// At most `max_units` of `code` per `per_days` days for one patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrequencyLimit {
    /// The code.
    pub code: CodeSpec,
    /// Most units in the window.
    pub max_units: f64,
    /// Window length in days (the date of service and the days before it).
    pub per_days: u32,
    /// Our short label.
    pub label: String,
    /// Where the limit comes from.
    pub source: String,
}

/// A payer-specific bundling pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleRule {
    /// The code that is paid.
    pub column1: CodeSpec,
    /// The code that is not paid with it.
    pub column2: CodeSpec,
    /// Modifiers on either line that unbundle the pair (empty: none do).
    pub bypass_modifiers: Vec<String>,
    /// Where the rule comes from.
    pub source: String,
}

/// A validated payer profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayerProfile {
    /// `[header]`.
    pub header: ProfileHeader,
    /// The file it was read from.
    pub file: String,
    /// A display label for the payer.
    pub label: String,
    /// Claim payer ids (`Payer::id`) it applies to (upper case).
    pub payer_ids: Vec<String>,
    /// Claim filing indicators it applies to when no profile names the payer id.
    pub filing_indicators: Vec<String>,
    /// Timely filing limit, days from the last date of service.
    pub timely_filing_days: Option<u32>,
    /// Accepted claim frequency codes.
    pub accepted_frequencies: Vec<Frequency>,
    /// Telehealth conventions.
    pub telehealth: TelehealthPolicy,
    /// Prior-authorisation requirements.
    pub prior_auth: Vec<PriorAuthRule>,
    /// Gold-card exemptions.
    pub gold_cards: Vec<GoldCard>,
    /// Frequency limits.
    pub frequency_limits: Vec<FrequencyLimit>,
    /// Payer bundling pairs.
    pub bundles: Vec<BundleRule>,
}

// ---------------------------------------------------------------- raw TOML

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    header: RawHeader,
    payer: RawPayer,
    #[serde(default)]
    claims: RawClaims,
    #[serde(default)]
    telehealth: Option<TelehealthPolicy>,
    #[serde(default)]
    prior_auth: Vec<RawPriorAuth>,
    #[serde(default)]
    gold_card: Vec<RawGoldCard>,
    #[serde(default)]
    frequency_limit: Vec<RawFrequency>,
    #[serde(default)]
    bundle: Vec<RawBundle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Spanned<String>,
    version: Spanned<String>,
    sources: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayer {
    label: Spanned<String>,
    #[serde(default)]
    ids: Vec<Spanned<String>>,
    #[serde(default)]
    filing_indicators: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawClaims {
    #[serde(default)]
    timely_filing_days: Option<Spanned<u32>>,
    #[serde(default)]
    accepted_frequencies: Option<Vec<Frequency>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriorAuth {
    label: String,
    codes: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    kinds: Vec<ClaimKind>,
    #[serde(default)]
    effective_from: Option<Spanned<String>>,
    #[serde(default)]
    effective_to: Option<Spanned<String>>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoldCard {
    npi: Spanned<String>,
    #[serde(default)]
    codes: Vec<Spanned<String>>,
    #[serde(default)]
    effective_from: Option<Spanned<String>>,
    #[serde(default)]
    effective_to: Option<Spanned<String>>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrequency {
    code: Spanned<String>,
    max_units: Spanned<f64>,
    per_days: Spanned<u32>,
    label: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBundle {
    column1: Spanned<String>,
    column2: Spanned<String>,
    #[serde(default)]
    bypass_modifiers: Vec<Spanned<String>>,
    source: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> PayerError {
        PayerError::Invalid {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            message: message.into(),
        }
    }

    fn code(&self, s: &Spanned<String>) -> Result<CodeSpec, PayerError> {
        CodeSpec::parse(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    fn codes(&self, list: &[Spanned<String>]) -> Result<Vec<CodeSpec>, PayerError> {
        list.iter().map(|s| self.code(s)).collect()
    }

    fn date(&self, s: &Option<Spanned<String>>) -> Result<Option<Date>, PayerError> {
        match s {
            None => Ok(None),
            Some(s) => s
                .get_ref()
                .parse::<Date>()
                .ok()
                .filter(|_| s.get_ref().len() == 10)
                .map(Some)
                .ok_or_else(|| {
                    self.err(
                        s.span(),
                        format!("{:?} is not a date (YYYY-MM-DD)", s.get_ref()),
                    )
                }),
        }
    }

    fn effective(
        &self,
        from: &Option<Spanned<String>>,
        to: &Option<Spanned<String>>,
    ) -> Result<Effective, PayerError> {
        let e = Effective {
            from: self.date(from)?,
            to: self.date(to)?,
        };
        if let (Some(f), Some(t), Some(span)) = (e.from, e.to, to.as_ref().map(Spanned::span))
            && t < f
        {
            return Err(self.err(span, "effective_to is before effective_from"));
        }
        Ok(e)
    }
}

impl PayerProfile {
    /// Parses and validates a profile; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<PayerProfile, PayerError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| PayerError::Invalid {
            file: file.to_string(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            message: e.message().trim().to_string(),
        })?;
        let c = Checker { file, text };
        let h = &raw.header;
        let name = h.name.get_ref();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(c.err(
                h.name.span(),
                format!("header.name {name:?}: lower-case letters, digits and '-'"),
            ));
        }
        if h.version.get_ref().trim().is_empty() {
            return Err(c.err(h.version.span(), "header.version is empty"));
        }
        if h.sources.get_ref().is_empty() {
            return Err(c.err(h.sources.span(), "header.sources: name at least one source"));
        }
        let mut payer_ids = Vec::new();
        for id in &raw.payer.ids {
            if id.get_ref().trim().is_empty() {
                return Err(c.err(id.span(), "empty payer id"));
            }
            payer_ids.push(id.get_ref().trim().to_ascii_uppercase());
        }
        if payer_ids.is_empty() && raw.payer.filing_indicators.is_empty() {
            return Err(c.err(
                raw.payer.label.span(),
                "[payer] needs ids or filing_indicators",
            ));
        }
        let timely_filing_days = match &raw.claims.timely_filing_days {
            Some(d) if *d.get_ref() == 0 => {
                return Err(c.err(d.span(), "timely_filing_days must be positive"));
            }
            Some(d) => Some(*d.get_ref()),
            None => None,
        };
        let mut prior_auth = Vec::new();
        for p in &raw.prior_auth {
            if p.codes.get_ref().is_empty() {
                return Err(c.err(
                    p.codes.span(),
                    format!("prior_auth {:?}: no codes", p.label),
                ));
            }
            prior_auth.push(PriorAuthRule {
                label: p.label.clone(),
                codes: c.codes(p.codes.get_ref())?,
                kinds: p.kinds.clone(),
                effective: c.effective(&p.effective_from, &p.effective_to)?,
                source: p.source.clone(),
            });
        }
        let mut gold_cards = Vec::new();
        for g in &raw.gold_card {
            if !npi_valid(g.npi.get_ref()) {
                return Err(c.err(
                    g.npi.span(),
                    format!(
                        "{:?} is not a valid NPI (10 digits with a check digit)",
                        g.npi.get_ref()
                    ),
                ));
            }
            gold_cards.push(GoldCard {
                npi: g.npi.get_ref().clone(),
                codes: c.codes(&g.codes)?,
                effective: c.effective(&g.effective_from, &g.effective_to)?,
                source: g.source.clone(),
            });
        }
        let mut frequency_limits = Vec::new();
        for f in &raw.frequency_limit {
            let max = *f.max_units.get_ref();
            if max.is_nan() || max <= 0.0 {
                return Err(c.err(f.max_units.span(), "max_units must be positive"));
            }
            if *f.per_days.get_ref() == 0 {
                return Err(c.err(f.per_days.span(), "per_days must be positive"));
            }
            frequency_limits.push(FrequencyLimit {
                code: c.code(&f.code)?,
                max_units: *f.max_units.get_ref(),
                per_days: *f.per_days.get_ref(),
                label: f.label.clone(),
                source: f.source.clone(),
            });
        }
        let mut bundles = Vec::new();
        for b in &raw.bundle {
            let mut mods = Vec::new();
            for m in &b.bypass_modifiers {
                let v = m.get_ref().trim().to_ascii_uppercase();
                if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(c.err(
                        m.span(),
                        format!("{:?} is not a two-character modifier", m.get_ref()),
                    ));
                }
                mods.push(v);
            }
            bundles.push(BundleRule {
                column1: c.code(&b.column1)?,
                column2: c.code(&b.column2)?,
                bypass_modifiers: mods,
                source: b.source.clone(),
            });
        }
        let header = ProfileHeader {
            name: raw.header.name.into_inner(),
            version: raw.header.version.into_inner(),
            sources: raw.header.sources.into_inner(),
        };
        Ok(PayerProfile {
            header,
            file: file.to_string(),
            label: raw.payer.label.into_inner(),
            payer_ids,
            filing_indicators: raw
                .payer
                .filing_indicators
                .iter()
                .map(|f| f.trim().to_ascii_uppercase())
                .collect(),
            timely_filing_days,
            accepted_frequencies: raw.claims.accepted_frequencies.unwrap_or_else(|| {
                vec![Frequency::Original, Frequency::Replacement, Frequency::Void]
            }),
            telehealth: raw.telehealth.unwrap_or_default(),
            prior_auth,
            gold_cards,
            frequency_limits,
            bundles,
        })
    }

    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<PayerProfile, PayerError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PayerError::Io {
            file: file.clone(),
            source,
        })?;
        PayerProfile::from_toml(&text, &file)
    }

    /// `name version` for finding sources ("payer profile acme-commercial 2026.1").
    pub fn source_label(&self) -> String {
        format!("payer profile {} {}", self.header.name, self.header.version)
    }

    /// Whether `npi` holds a gold card for `code` on `dos`.
    pub fn gold_carded(&self, npi: &str, code: &str, dos: Date) -> bool {
        self.gold_card_for(npi, code32(code), dos).is_some()
    }

    pub(crate) fn gold_card_for(&self, npi: &str, code: u32, dos: Date) -> Option<&GoldCard> {
        self.gold_cards.iter().find(|g| {
            g.npi == npi
                && g.effective.applies_on(dos)
                && (g.codes.is_empty() || g.codes.iter().any(|c| c.contains32(code)))
        })
    }

    /// The prior-authorisation rule for a code on a date, if any.
    pub fn prior_auth_for(&self, kind: ClaimKind, code: &str, dos: Date) -> Option<&PriorAuthRule> {
        self.prior_auth_rule(kind, code32(code), dos)
    }

    pub(crate) fn prior_auth_rule(
        &self,
        kind: ClaimKind,
        code: u32,
        dos: Date,
    ) -> Option<&PriorAuthRule> {
        self.prior_auth.iter().find(|p| {
            (p.kinds.is_empty() || p.kinds.contains(&kind))
                && p.effective.applies_on(dos)
                && p.codes.iter().any(|c| c.contains32(code))
        })
    }
}

/// A set of payer profiles, looked up by claim payer.
#[derive(Debug, Clone, Default)]
pub struct PayerProfiles {
    profiles: Vec<PayerProfile>,
}

impl PayerProfiles {
    /// The profiles in `crates/medledger-claims/payers/`, embedded at build time.
    pub fn builtin() -> Result<PayerProfiles, PayerError> {
        let mut set = PayerProfiles::default();
        for (file, text) in BUILTIN {
            set.add(PayerProfile::from_toml(text, &format!("payers/{file}"))?)?;
        }
        Ok(set)
    }

    /// Every `*.toml` in a directory (sorted by file name).
    pub fn load_dir(dir: &Path) -> Result<PayerProfiles, PayerError> {
        let io = |source| PayerError::Io {
            file: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut set = PayerProfiles::default();
        for p in paths {
            set.add(PayerProfile::load(&p)?)?;
        }
        Ok(set)
    }

    /// Adds a profile; names and payer ids must stay unique.
    pub fn add(&mut self, p: PayerProfile) -> Result<(), PayerError> {
        for q in &self.profiles {
            if q.header.name == p.header.name {
                return Err(PayerError::Conflict {
                    file: p.file.clone(),
                    message: format!("profile name {:?} is also in {}", p.header.name, q.file),
                });
            }
            if let Some(id) = p.payer_ids.iter().find(|id| q.payer_ids.contains(id)) {
                return Err(PayerError::Conflict {
                    file: p.file.clone(),
                    message: format!("payer id {id:?} is also in {}", q.file),
                });
            }
        }
        self.profiles.push(p);
        Ok(())
    }

    /// The profile by name.
    pub fn get(&self, name: &str) -> Option<&PayerProfile> {
        self.profiles.iter().find(|p| p.header.name == name)
    }

    /// The profile for a claim's payer: by payer id, else the first by
    /// filing indicator.
    pub fn for_payer(&self, payer: &Payer) -> Option<&PayerProfile> {
        let id = payer.id.trim();
        self.profiles
            .iter()
            .find(|p| p.payer_ids.iter().any(|x| x.eq_ignore_ascii_case(id)))
            .or_else(|| {
                let fi = payer.filing_indicator.trim();
                self.profiles.iter().find(|p| {
                    p.filing_indicators
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(fi))
                })
            })
    }

    /// All profiles.
    pub fn iter(&self) -> impl Iterator<Item = &PayerProfile> {
        self.profiles.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }
}
