//! FHIR R4 primitive and complex data types, as far as medledger uses them.
//!
//! Every element is optional unless R4 gives it cardinality 1..1; unknown
//! JSON members are ignored. Dates and dateTimes are validated on read
//! against the R4 regular expressions plus calendar validity (no 30 February);
//! an invalid one fails with `not a FHIR date` / `not a FHIR dateTime` at its
//! location, never quoting the value.

use serde::{Deserialize, Deserializer, Serialize};

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
}

/// Length of the FHIR date prefix of `b` (`YYYY`, `YYYY-MM` or
/// `YYYY-MM-DD`), if it is one; calendar-checked.
fn date_prefix(b: &[u8]) -> Option<usize> {
    let year = digits(b.get(..4)?)?;
    if year == 0 {
        return None;
    }
    if b.len() == 4 || b[4] != b'-' {
        return Some(4);
    }
    let month = digits(b.get(5..7)?)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if b.len() == 7 || b[7] != b'-' {
        return Some(7);
    }
    let day = digits(b.get(8..10)?)?;
    // month and day are range-checked by jiff (leap years included)
    jiff::civil::Date::new(year as i16, month as i8, i8::try_from(day).ok()?).ok()?;
    Some(10)
}

/// Whether `s` is a FHIR R4 `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub fn is_fhir_date(s: &str) -> bool {
    date_prefix(s.as_bytes()) == Some(s.len())
}

/// Whether `s` is a FHIR R4 `dateTime`: a `date`, or a full date followed by
/// `Thh:mm:ss[.fff]` and a time zone (`Z` or `±hh:mm`, required with a time).
pub fn is_fhir_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(n) = date_prefix(b) else {
        return false;
    };
    if n == b.len() {
        return true;
    }
    if n != 10 || b[10] != b'T' {
        return false;
    }
    let t = &b[11..];
    let two = |i: usize| t.get(i..i + 2).and_then(digits);
    let (Some(h), Some(m), Some(sec)) = (two(0), two(3), two(6)) else {
        return false;
    };
    if t.get(2) != Some(&b':') || t.get(5) != Some(&b':') || h > 23 || m > 59 || sec > 60 {
        return false;
    }
    let mut i = 8;
    if t.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while t.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &t[i..] {
        b"Z" => true,
        [sign, tz @ ..] if (*sign == b'+' || *sign == b'-') && tz.len() == 5 && tz[2] == b':' => {
            match (digits(&tz[..2]), digits(&tz[3..])) {
                (Some(th), Some(tm)) => (th <= 13 && tm <= 59) || (th == 14 && tm == 0),
                _ => false,
            }
        }
        _ => false,
    }
}

macro_rules! checked_string {
    ($(#[$m:meta])* $name:ident, $check:path, $msg:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps a value.
            pub fn new(s: impl Into<String>) -> Option<Self> {
                let s = s.into();
                $check(&s).then_some(Self(s))
            }
            /// The value as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The calendar date (`YYYY-MM-DD`) when the value has day precision.
            pub fn full_date(&self) -> Option<&str> {
                self.0.get(..10).filter(|d| d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-')
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if $check(&s) {
                    Ok(Self(s))
                } else {
                    Err(serde::de::Error::custom($msg))
                }
            }
        }
    };
}

checked_string!(
    /// A FHIR `date` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`).
    FhirDate,
    is_fhir_date,
    "not a FHIR date"
);
checked_string!(
    /// A FHIR `dateTime` (a date, or date and time with time zone).
    FhirDateTime,
    is_fhir_datetime,
    "not a FHIR dateTime"
);

/// Coding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    /// Code system URI.
    pub system: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Display text.
    pub display: Option<String>,
}

impl Coding {
    /// A coding with system, code and optional display.
    pub fn new(system: &str, code: &str, display: Option<&str>) -> Self {
        Self {
            system: Some(system.to_owned()),
            code: Some(code.to_owned()),
            display: display.map(str::to_owned),
        }
    }
}

/// CodeableConcept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codings.
    #[serde(default)]
    pub coding: Vec<Coding>,
    /// Plain text.
    pub text: Option<String>,
}

impl CodeableConcept {
    /// One coding.
    pub fn coded(system: &str, code: &str, display: Option<&str>) -> Self {
        Self {
            coding: vec![Coding::new(system, code, display)],
            text: None,
        }
    }
    /// The first coding of `system`.
    pub fn coding_of(&self, system: &str) -> Option<&Coding> {
        self.coding
            .iter()
            .find(|c| c.system.as_deref() == Some(system))
    }
    /// The code of the first coding of `system`.
    pub fn code_of(&self, system: &str) -> Option<&str> {
        self.coding_of(system).and_then(|c| c.code.as_deref())
    }
    /// The first code (any system).
    pub fn first_code(&self) -> Option<&str> {
        self.coding.iter().find_map(|c| c.code.as_deref())
    }
    /// Whether any coding has this code (any system).
    pub fn has_code(&self, code: &str) -> bool {
        self.coding.iter().any(|c| c.code.as_deref() == Some(code))
    }
    /// A human label: the text, else the first display, else the first code.
    pub fn label(&self) -> Option<&str> {
        self.text
            .as_deref()
            .or_else(|| self.coding.iter().find_map(|c| c.display.as_deref()))
            .or_else(|| self.first_code())
    }
}

/// Identifier.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    /// usual | official | temp | secondary | old.
    #[serde(rename = "use")]
    pub use_: Option<String>,
    /// Identifier type.
    #[serde(rename = "type")]
    pub type_: Option<CodeableConcept>,
    /// Namespace URI.
    pub system: Option<String>,
    /// The value.
    pub value: Option<String>,
}

impl Identifier {
    /// System and value.
    pub fn new(system: &str, value: &str) -> Self {
        Self {
            system: Some(system.to_owned()),
            value: Some(value.to_owned()),
            ..Self::default()
        }
    }
}

/// Reference (literal, logical or display only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// Literal reference: `urn:uuid:…`, `Type/id`, `#id` or an absolute URL.
    pub reference: Option<String>,
    /// Type the reference refers to.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Logical reference.
    pub identifier: Option<Box<Identifier>>,
    /// Text alternative.
    pub display: Option<String>,
}

impl Reference {
    /// A literal reference.
    pub fn to(reference: &str) -> Self {
        Self {
            reference: Some(reference.to_owned()),
            ..Self::default()
        }
    }
}

/// Period.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// Start.
    pub start: Option<FhirDateTime>,
    /// End.
    pub end: Option<FhirDateTime>,
}

/// HumanName.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanName {
    /// usual | official | temp | nickname | anonymous | old | maiden.
    #[serde(rename = "use")]
    pub use_: Option<String>,
    /// Full text.
    pub text: Option<String>,
    /// Family name.
    pub family: Option<String>,
    /// Given names.
    #[serde(default)]
    pub given: Vec<String>,
    /// Prefixes.
    #[serde(default)]
    pub prefix: Vec<String>,
    /// Suffixes.
    #[serde(default)]
    pub suffix: Vec<String>,
}

impl HumanName {
    /// "Given Given Family" (or the text form when given).
    pub fn display(&self) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        let mut parts: Vec<&str> = self.given.iter().map(String::as_str).collect();
        if let Some(f) = &self.family {
            parts.push(f);
        }
        parts.join(" ")
    }
}

/// The name to use of several: `official`, else `usual`, else the first.
pub fn preferred_name(names: &[HumanName]) -> Option<&HumanName> {
    names
        .iter()
        .find(|n| n.use_.as_deref() == Some("official"))
        .or_else(|| names.iter().find(|n| n.use_.as_deref() == Some("usual")))
        .or_else(|| names.first())
}

/// Address.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street lines.
    #[serde(default)]
    pub line: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// Money.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// Amount.
    pub value: Option<f64>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
}

impl Money {
    /// USD from integer cents.
    pub fn usd_cents(cents: i64) -> Self {
        Self {
            value: Some(cents as f64 / 100.0),
            currency: Some("USD".into()),
        }
    }
    /// The amount in integer cents (rounded half away from zero).
    pub fn cents(&self) -> Option<i64> {
        self.value
            .filter(|v| v.is_finite() && v.abs() < 1e15)
            .map(|v| (v * 100.0).round() as i64)
    }
}

/// Quantity (also SimpleQuantity).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity {
    /// Value.
    pub value: Option<f64>,
    /// < | <= | >= | >.
    pub comparator: Option<String>,
    /// Unit as shown.
    pub unit: Option<String>,
    /// Unit system.
    pub system: Option<String>,
    /// Coded unit.
    pub code: Option<String>,
}

/// Attachment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// MIME type, with parameters (`text/plain; charset=utf-8`).
    pub content_type: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// base64 data inline.
    pub data: Option<String>,
    /// Where the data can be found.
    pub url: Option<String>,
    /// Label.
    pub title: Option<String>,
    /// Date created.
    pub creation: Option<FhirDateTime>,
}

/// Extension (the value types medledger reads).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// Identifies the meaning.
    pub url: String,
    /// A code value.
    pub value_code: Option<String>,
    /// A string value.
    pub value_string: Option<String>,
    /// A Coding value.
    pub value_coding: Option<Coding>,
    /// A CodeableConcept value.
    pub value_codeable_concept: Option<CodeableConcept>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2019", "2019-02", "2019-02-28", "2020-02-29"] {
            assert!(is_fhir_date(ok), "{ok}");
        }
        for bad in [
            "",
            "19",
            "0000",
            "2019-13",
            "2019-02-30",
            "2019-2-01",
            "2019-02-28T",
            "2021-02-29",
            "20190228",
        ] {
            assert!(!is_fhir_date(bad), "{bad}");
        }
        for ok in [
            "2019",
            "2019-08-01",
            "2009-08-01T04:44:29+00:00",
            "2013-08-10T04:44:29.043+00:00",
            "2011-03-04T23:44:29-05:00",
            "2011-03-04T23:44:29Z",
            "2011-03-04T23:44:29+14:00",
        ] {
            assert!(is_fhir_datetime(ok), "{ok}");
        }
        for bad in [
            "2011-03-04T23:44:29",
            "2011-03-04T24:00:00Z",
            "2011-03-04T23:44Z",
            "2011-03T23:44:29Z",
            "2011-03-04T23:44:29.Z",
            "2011-03-04T23:44:29+15:00",
            "2011-03-04 23:44:29Z",
        ] {
            assert!(!is_fhir_datetime(bad), "{bad}");
        }
    }

    #[test]
    fn money_cents() {
        assert_eq!(Money::usd_cents(12345).cents(), Some(12345));
        let m = Money {
            value: Some(9063.456),
            currency: None,
        };
        assert_eq!(m.cents(), Some(906346));
        assert_eq!(
            Money {
                value: Some(f64::NAN),
                currency: None
            }
            .cents(),
            None
        );
    }
}
