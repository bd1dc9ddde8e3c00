//! The claim model: what a professional (837P) or institutional (837I)
//! claim carries, in the JSON form documented by `schema/claim.schema.json`.
//!
//! Money is integer cents; dates are `YYYY-MM-DD`; codes are stored without
//! dots (`E119`), as X12 carries them (dotted input is accepted and
//! normalised by [`Claim::normalise`]).

use serde::{Deserialize, Serialize};

/// Professional or institutional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// CMS-1500 / 837P (005010X222A1).
    Professional,
    /// UB-04 / 837I (005010X223A2).
    Institutional,
}

/// Claim frequency (CLM05-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Frequency {
    /// 1: original.
    #[serde(rename = "1")]
    Original,
    /// 7: replacement of a prior claim.
    #[serde(rename = "7")]
    Replacement,
    /// 8: void / cancel of a prior claim.
    #[serde(rename = "8")]
    Void,
}

impl Frequency {
    /// The X12 code.
    pub fn code(self) -> &'static str {
        match self {
            Frequency::Original => "1",
            Frequency::Replacement => "7",
            Frequency::Void => "8",
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street lines (1 or 2).
    pub lines: Vec<String>,
    /// City.
    pub city: String,
    /// State or province code.
    pub state: String,
    /// ZIP (5 or 9 digits).
    pub zip: String,
}

/// A provider (billing, rendering, referring, attending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// 10-digit NPI (Luhn check digit over the `80840` prefix).
    pub npi: String,
    /// Organisation name, or the person's last name.
    pub last_or_org_name: String,
    /// A person's first name (absent for organisations).
    #[serde(default)]
    pub first_name: Option<String>,
    /// Healthcare provider taxonomy code (10 characters), if reported.
    #[serde(default)]
    pub taxonomy: Option<String>,
    /// EIN (9 digits) for the billing provider.
    #[serde(default)]
    pub tax_id: Option<String>,
    /// Address (required for the billing provider).
    #[serde(default)]
    pub address: Option<Address>,
}

/// The subscriber or the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Last name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// Date of birth.
    pub dob: String,
    /// `F`, `M` or `U`.
    pub sex: String,
    /// Address.
    #[serde(default)]
    pub address: Option<Address>,
}

/// The insured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    /// Member id at the payer.
    pub member_id: String,
    /// Group or policy number.
    #[serde(default)]
    pub group_number: Option<String>,
    /// The insured person.
    pub person: Person,
    /// Patient's relationship to the subscriber (X12 individual relationship
    /// code: `18` self, `01` spouse, `19` child, `20` employee, `G8` other).
    pub relationship: String,
}

/// Payer responsibility sequence (SBR01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Responsibility {
    /// P.
    Primary,
    /// S.
    Secondary,
    /// T.
    Tertiary,
}

impl Responsibility {
    /// The X12 code.
    pub fn code(self) -> &'static str {
        match self {
            Responsibility::Primary => "P",
            Responsibility::Secondary => "S",
            Responsibility::Tertiary => "T",
        }
    }
}

/// A payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Payer {
    /// Payer id (as the clearinghouse knows it; also names the payer profile).
    pub id: String,
    /// Name.
    pub name: String,
    /// Claim filing indicator (SBR09: `MB` Medicare B, `MA` Medicare A, `MC`
    /// Medicaid, `CI` commercial, `BL` BCBS, `HM` HMO, …).
    pub filing_indicator: String,
}

/// Another payer on the claim (coordination of benefits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OtherPayer {
    /// Its responsibility sequence.
    pub responsibility: Responsibility,
    /// The payer.
    pub payer: Payer,
    /// The subscriber at that payer.
    pub subscriber: Subscriber,
    /// What it paid, if it has adjudicated (cents).
    #[serde(default)]
    pub paid_cents: Option<i64>,
}

/// A diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    /// ICD-10-CM code.
    pub code: String,
    /// Present on admission (institutional): `Y`, `N`, `U`, `W`, `1`.
    #[serde(default)]
    pub poa: Option<String>,
}

/// A service line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceLine {
    /// CPT/HCPCS code (institutional: with `revenue_code`; may be absent for room and board).
    #[serde(default)]
    pub procedure: Option<String>,
    /// Up to four modifiers.
    #[serde(default)]
    pub modifiers: Vec<String>,
    /// Revenue code (institutional, 4 digits).
    #[serde(default)]
    pub revenue_code: Option<String>,
    /// Units of service.
    pub units: f64,
    /// Line charge in cents.
    pub charge_cents: i64,
    /// First date of service.
    pub date_from: String,
    /// Last date of service (absent: same as `date_from`).
    #[serde(default)]
    pub date_to: Option<String>,
    /// Place of service for this line (professional; absent: the claim's).
    #[serde(default)]
    pub place_of_service: Option<String>,
    /// 1-based pointers into the claim's diagnoses (professional: 1 to 4).
    #[serde(default)]
    pub diagnosis_pointers: Vec<u8>,
    /// NDC for drugs (11 digits), if any.
    #[serde(default)]
    pub ndc: Option<String>,
}

/// Institutional claim fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Institutional {
    /// Type of bill without the frequency digit (facility type + classification, e.g. `11` inpatient hospital, `13` outpatient).
    pub type_of_bill: String,
    /// Admission date.
    #[serde(default)]
    pub admission_date: Option<String>,
    /// Admission hour (`HH`).
    #[serde(default)]
    pub admission_hour: Option<String>,
    /// Priority (type) of admission (UB-04 FL 14).
    #[serde(default)]
    pub admission_type: Option<String>,
    /// Point of origin (FL 15).
    #[serde(default)]
    pub admission_source: Option<String>,
    /// Discharge hour (`HH`).
    #[serde(default)]
    pub discharge_hour: Option<String>,
    /// Patient discharge status (FL 17).
    pub patient_status: String,
    /// Statement period from.
    pub statement_from: String,
    /// Statement period to.
    pub statement_to: String,
    /// The attending provider.
    #[serde(default)]
    pub attending: Option<Provider>,
    /// MS-DRG, if grouped.
    #[serde(default)]
    pub drg: Option<String>,
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Patient control number (CLM01), unique per submitter.
    pub id: String,
    /// Professional or institutional.
    pub kind: ClaimKind,
    /// Frequency (1, 7, 8).
    pub frequency: Frequency,
    /// The payer's claim control number of the claim a 7 or 8 replaces or voids.
    #[serde(default)]
    pub original_reference: Option<String>,
    /// The ledger encounter it bills, if built from one.
    #[serde(default)]
    pub encounter: Option<i64>,
    /// Billing provider.
    pub billing_provider: Provider,
    /// Rendering provider (when not the billing provider).
    #[serde(default)]
    pub rendering_provider: Option<Provider>,
    /// Referring provider.
    #[serde(default)]
    pub referring_provider: Option<Provider>,
    /// The payer this claim goes to.
    pub payer: Payer,
    /// This payer's responsibility sequence.
    pub responsibility: Responsibility,
    /// The insured at this payer.
    pub subscriber: Subscriber,
    /// The patient, when not the subscriber.
    #[serde(default)]
    pub patient: Option<Person>,
    /// Other payers (secondary claims carry the primary here).
    #[serde(default)]
    pub other_payers: Vec<OtherPayer>,
    /// Prior authorisation number.
    #[serde(default)]
    pub prior_authorization: Option<String>,
    /// Place of service (professional, 2 digits; CLM05-1). Institutional: unused.
    #[serde(default)]
    pub place_of_service: Option<String>,
    /// Diagnoses, principal first (professional: up to 12).
    pub diagnoses: Vec<Diagnosis>,
    /// Service lines.
    pub lines: Vec<ServiceLine>,
    /// Institutional fields (required for institutional claims).
    #[serde(default)]
    pub institutional: Option<Institutional>,
}

/// A structural problem with a claim (what and where).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelError {
    /// JSON-path-like location, e.g. `lines[2].diagnosis_pointers[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Whether a 10-digit NPI has a valid check digit (Luhn over `80840` + the
/// first nine digits, as the NPI standard specifies).
pub fn npi_valid(npi: &str) -> bool {
    let b = npi.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // Luhn over "80840" + first nine digits, doubling from the rightmost of those 14 digits.
    let digits: Vec<u32> = b"80840"
        .iter()
        .chain(&b[..9])
        .map(|d| u32::from(d - b'0'))
        .collect();
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let v = if i.is_multiple_of(2) { d * 2 } else { *d };
        sum += if v > 9 { v - 9 } else { v };
    }
    let check = (10 - sum % 10) % 10;
    check == u32::from(b[9] - b'0')
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

impl Claim {
    /// Parses claim JSON; unknown fields are refused (the message names them).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let mut c: Claim = serde_json::from_str(text)?;
        c.normalise();
        Ok(c)
    }

    /// Codes upper-case without dots; modifiers upper-case.
    pub fn normalise(&mut self) {
        let code = |s: &mut String| *s = s.trim().replace('.', "").to_ascii_uppercase();
        for d in &mut self.diagnoses {
            code(&mut d.code);
        }
        for l in &mut self.lines {
            if let Some(p) = &mut l.procedure {
                code(p);
            }
            for m in &mut l.modifiers {
                code(m);
            }
        }
    }

    /// Total charge (sum of the lines), cents.
    pub fn total_charge_cents(&self) -> i64 {
        self.lines.iter().map(|l| l.charge_cents).sum()
    }

    /// First and last service date over the lines.
    pub fn service_period(&self) -> Option<(String, String)> {
        let from = self.lines.iter().map(|l| l.date_from.clone()).min()?;
        let to = self
            .lines
            .iter()
            .map(|l| l.date_to.clone().unwrap_or_else(|| l.date_from.clone()))
            .max()?;
        Some((from, to))
    }

    /// Structural checks every claim must pass before it can be written
    /// (the scrubber's payer and coding edits come on top). Returns every
    /// problem found.
    pub fn validate(&self) -> Vec<ModelError> {
        let mut out = Vec::new();
        let mut err = |path: String, message: String| out.push(ModelError { path, message });
        if self.id.is_empty() || self.id.len() > 38 {
            err("id".into(), "1 to 38 characters (CLM01)".into());
        }
        let mut providers = vec![("billing_provider", Some(&self.billing_provider))];
        providers.push(("rendering_provider", self.rendering_provider.as_ref()));
        providers.push(("referring_provider", self.referring_provider.as_ref()));
        for (name, p) in providers {
            if let Some(p) = p
                && !npi_valid(&p.npi)
            {
                err(
                    format!("{name}.npi"),
                    format!(
                        "{:?} is not a valid NPI (10 digits with a check digit)",
                        p.npi
                    ),
                );
            }
        }
        if self.billing_provider.address.is_none() {
            err("billing_provider.address".into(), "required".into());
        }
        if matches!(self.frequency, Frequency::Replacement | Frequency::Void)
            && self.original_reference.as_deref().is_none_or(str::is_empty)
        {
            err(
                "original_reference".into(),
                "frequency 7 or 8 needs the payer's claim control number of the original claim"
                    .into(),
            );
        }
        if !is_date(&self.subscriber.person.dob) {
            err("subscriber.person.dob".into(), "expected YYYY-MM-DD".into());
        }
        if self.subscriber.relationship != "18" && self.patient.is_none() {
            err(
                "patient".into(),
                "required when the patient is not the subscriber (relationship is not 18)".into(),
            );
        }
        if let Some(p) = &self.patient
            && !is_date(&p.dob)
        {
            err("patient.dob".into(), "expected YYYY-MM-DD".into());
        }
        let max_dx = match self.kind {
            ClaimKind::Professional => 12,
            ClaimKind::Institutional => 25,
        };
        if self.diagnoses.is_empty() {
            err("diagnoses".into(), "at least one diagnosis".into());
        }
        if self.diagnoses.len() > max_dx {
            err(
                "diagnoses".into(),
                format!("at most {max_dx} on a {:?} claim", self.kind),
            );
        }
        if self.lines.is_empty() {
            err("lines".into(), "at least one service line".into());
        }
        let max_lines = match self.kind {
            ClaimKind::Professional => 50,
            ClaimKind::Institutional => 999,
        };
        if self.lines.len() > max_lines {
            err("lines".into(), format!("at most {max_lines} service lines"));
        }
        match self.kind {
            ClaimKind::Professional => {
                if self
                    .place_of_service
                    .as_deref()
                    .is_none_or(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
                {
                    err(
                        "place_of_service".into(),
                        "two digits (CMS place-of-service code)".into(),
                    );
                }
            }
            ClaimKind::Institutional => match &self.institutional {
                None => err(
                    "institutional".into(),
                    "required on an institutional claim".into(),
                ),
                Some(i) => {
                    if i.type_of_bill.len() != 2 && i.type_of_bill.len() != 3 {
                        err(
                            "institutional.type_of_bill".into(),
                            "facility type and classification, e.g. 11 or 13".into(),
                        );
                    }
                    if !is_date(&i.statement_from) || !is_date(&i.statement_to) {
                        err(
                            "institutional.statement_from".into(),
                            "expected YYYY-MM-DD".into(),
                        );
                    }
                }
            },
        }
        for (i, l) in self.lines.iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            if l.modifiers.len() > 4 {
                err(at("modifiers"), "at most 4 modifiers".into());
            }
            if l.units.is_nan() || l.units <= 0.0 {
                err(at("units"), "must be positive".into());
            }
            if l.charge_cents < 0 {
                err(at("charge_cents"), "must not be negative".into());
            }
            if !is_date(&l.date_from) {
                err(at("date_from"), "expected YYYY-MM-DD".into());
            }
            if let Some(to) = &l.date_to
                && (!is_date(to) || to < &l.date_from)
            {
                err(at("date_to"), "a date on or after date_from".into());
            }
            match self.kind {
                ClaimKind::Professional => {
                    if l.procedure.is_none() {
                        err(at("procedure"), "required on a professional line".into());
                    }
                    if l.diagnosis_pointers.is_empty() || l.diagnosis_pointers.len() > 4 {
                        err(at("diagnosis_pointers"), "1 to 4 pointers".into());
                    }
                }
                ClaimKind::Institutional => {
                    if l.revenue_code
                        .as_deref()
                        .is_none_or(|r| r.len() != 4 || !r.bytes().all(|b| b.is_ascii_digit()))
                    {
                        err(at("revenue_code"), "four digits".into());
                    }
                }
            }
            for (j, p) in l.diagnosis_pointers.iter().enumerate() {
                if *p == 0 || usize::from(*p) > self.diagnoses.len() {
                    err(
                        format!("lines[{i}].diagnosis_pointers[{j}]"),
                        format!(
                            "points to diagnosis {p}, but the claim has {}",
                            self.diagnoses.len()
                        ),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit() {
        // CMS's published example NPI
        assert!(npi_valid("1234567893"));
        assert!(!npi_valid("1234567890"));
        assert!(!npi_valid("123456789"));
        assert!(!npi_valid("12345678a3"));
    }
}
