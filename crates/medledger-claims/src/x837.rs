//! The X12 5010 837 writer: professional claims as 837P (`005010X222A1`),
//! institutional claims as 837I (`005010X223A2`), in one interchange.
//!
//! [`write_837`] checks every claim first ([`check_claim`]: the model's own
//! [`Claim::validate`] plus what the 837 needs on top, e.g. the billing
//! provider's tax id and nine-digit ZIP), then writes one ISA interchange
//! with one functional group per version present (a group carries only one
//! version): professional claims first, institutional ones second. Each
//! group holds transaction sets of at most [`MAX_CLAIMS_PER_TRANSACTION`]
//! claims.
//!
//! Inside a transaction set the hierarchy is built from the claims in the
//! order given: consecutive claims with the same billing provider share one
//! billing provider level (2000A); consecutive claims that also share the
//! subscriber, payer, responsibility and patient share one subscriber level
//! (2000B) and, when the patient is not the subscriber, one patient level
//! (2000C), up to 100 claims a level. Sort the claims by billing provider and
//! subscriber first for the most compact file.
//!
//! Text that X12 cannot carry is made safe: names, addresses and cities are
//! upper-cased, accented Latin letters lose their accents, and every
//! character outside the X12 basic character set (the delimiters included)
//! becomes a space; runs of spaces collapse and values are cut to their
//! element's maximum length. Identifiers (claim id, member id, payer id,
//! prior authorisation, …) are never rewritten: one that holds a delimiter
//! or a non-printable character is refused by [`check_claim`].
//!
//! Amounts are written in dollars with the decimals X12 needs and no
//! trailing zeros (`125`, `125.5`, `125.05`); units likewise, to at most
//! three decimals (`1`, `1.5`, `0.25`).
//!
//! Choices where the model leaves room: REF*F8 (the payer's claim control
//! number) is written for frequencies 7 and 8 only; a POA of `1` (exempt)
//! leaves HI-9 empty, as 5010 reports exemption; CL101/CL102 are left
//! empty when the admission type or source is not known; a drug line's
//! CTP quantity is the line's units with the unit `UN`; subscriber address
//! and demographics (N3/N4/DMG in 2010BA) are sent only when the subscriber
//! is the patient. Not written (the model does not carry them): pay-to
//! address and plan, payer addresses, claim-level dates of onset or accident,
//! admitting diagnosis, procedures, occurrence/value/condition codes,
//! service facility, claim and line adjustments (CAS) and line adjudication
//! (2430) for COB, line-level providers.

use std::borrow::Cow;
use std::time::Instant;

use medledger_x12::{Delimiters, GsHeader, IsaHeader, WriteError, Writer};

use crate::model::{
    Address, Claim, ClaimKind, Diagnosis, Frequency, Institutional, ModelError, OtherPayer, Person,
    Provider, ServiceLine, npi_valid,
};

/// GS08 / ST03 of professional claims (the HIPAA-adopted 837P version).
pub const PROFESSIONAL_VERSION: &str = "005010X222A1";
/// GS08 / ST03 of institutional claims (the HIPAA-adopted 837I version).
pub const INSTITUTIONAL_VERSION: &str = "005010X223A2";
/// The most claims written into one transaction set (ST/SE), as the
/// implementation guides recommend.
pub const MAX_CLAIMS_PER_TRANSACTION: usize = 5000;
/// The most claims under one subscriber or patient level (loop 2300 repeats 100 times).
const MAX_CLAIMS_PER_LEVEL: usize = 100;
/// The most other payers (loop 2320 repeats 10 times).
const MAX_OTHER_PAYERS: usize = 10;

/// SBR09 claim filing indicator codes.
const FILING_INDICATORS: &[&str] = &[
    "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA",
    "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
];
/// PAT01: the patient's relationship to the subscriber when not the subscriber.
const PATIENT_RELATIONSHIPS: &[&str] = &["01", "19", "20", "21", "39", "40", "53", "G8"];

/// Errors from [`write_837`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X837Error {
    /// A claim failed [`check_claim`]; every problem found is listed with its path.
    #[error("claim {claim:?} (#{index} in the batch) cannot be written: {}", join_errors(.errors))]
    InvalidClaim {
        /// The claim's id (CLM01).
        claim: String,
        /// Its 0-based position in the slice given.
        index: usize,
        /// What is wrong, and where (`lines[2].modifiers[0]`, …).
        errors: Vec<ModelError>,
    },
    /// An envelope field is unusable.
    #[error("envelope {field}: {message}")]
    Envelope {
        /// The [`Envelope`] field (`submitter.phone`, …).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No claims were given (an 837 carries at least one).
    #[error("no claims to write")]
    NoClaims,
    /// The X12 writer refused a segment (should not happen for checked claims).
    #[error(transparent)]
    Write(#[from] WriteError),
}

fn join_errors(errors: &[ModelError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The submitter (loop 1000A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitter {
    /// Organisation name (NM103).
    pub name: String,
    /// Submitter id as the receiver assigned it (NM109, ETIN).
    pub id: String,
    /// EDI contact's name (PER02).
    pub contact_name: String,
    /// Contact telephone (digits are kept, punctuation dropped).
    pub phone: Option<String>,
    /// Contact e-mail address.
    pub email: Option<String>,
}

/// The receiver (loop 1000B).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    /// Name (NM103).
    pub name: String,
    /// Receiver id (NM109).
    pub id: String,
}

/// Everything around the claims: interchange and group headers, submitter
/// and receiver, control numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// ISA05 sender id qualifier (`ZZ` mutually defined, `30` tax id, …).
    pub sender_qualifier: String,
    /// ISA06 sender id; also GS02 (2 to 15 characters).
    pub sender_id: String,
    /// ISA07 receiver id qualifier.
    pub receiver_qualifier: String,
    /// ISA08 receiver id; also GS03 (2 to 15 characters).
    pub receiver_id: String,
    /// Loop 1000A.
    pub submitter: Submitter,
    /// Loop 1000B.
    pub receiver: Receiver,
    /// ISA13 / IEA02 (1 to 999,999,999).
    pub interchange_control_number: u32,
    /// GS06 of the first functional group; a second group gets the next number.
    pub group_control_number: u32,
    /// ST02 of the first transaction set; each further set gets the next
    /// number (written with at least 4 digits: `0001`).
    pub first_transaction_control_number: u32,
    /// BHT03, the batch's reference (1 to 40 characters); when the
    /// interchange holds several transaction sets, `-` and the set's
    /// control number are appended.
    pub batch_reference: String,
    /// ISA15: `P` production or `T` test.
    pub usage: char,
    /// ISA14: ask for a TA1 interchange acknowledgment.
    pub ack_requested: bool,
    /// Creation date and time (ISA09/10, GS04/05, BHT04/05).
    pub created: jiff::civil::DateTime,
    /// A line break after each segment terminator (readable; receivers accept it).
    pub newline: bool,
}

impl Envelope {
    /// An envelope with `ZZ` qualifiers, control numbers 1, usage `T`, no
    /// TA1 request and no line breaks; the batch reference is the
    /// interchange control number.
    pub fn new(
        sender_id: impl Into<String>,
        receiver_id: impl Into<String>,
        submitter: Submitter,
        receiver: Receiver,
        created: jiff::civil::DateTime,
    ) -> Self {
        Self {
            sender_qualifier: "ZZ".into(),
            sender_id: sender_id.into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: receiver_id.into(),
            submitter,
            receiver,
            interchange_control_number: 1,
            group_control_number: 1,
            first_transaction_control_number: 1,
            batch_reference: "1".into(),
            usage: 'T',
            ack_requested: false,
            created,
            newline: false,
        }
    }
}

// ---------------------------------------------------------------------------
// Making values X12-safe
// ---------------------------------------------------------------------------

/// Characters kept in free text (after upper-casing): the X12 basic
/// character set less the delimiters `*`, `:`, `~`, `^`.
const BASIC: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = true;
        c += 1;
    }
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = true;
        c += 1;
    }
    let others = b" !\"&'()+,-./;?=";
    let mut i = 0;
    while i < others.len() {
        t[others[i] as usize] = true;
        i += 1;
    }
    t
};

fn basic_char(b: u8) -> bool {
    BASIC[usize::from(b)]
}

/// Accented Latin letters without their accents.
fn fold_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'À'..='Å' | 'à'..='å' | 'Ā' | 'ā' | 'Ă' | 'ă' | 'Ą' | 'ą' => "A",
        'Æ' | 'æ' => "AE",
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' => "C",
        'Ð' | 'ð' | 'Ď' | 'ď' | 'Đ' | 'đ' => "D",
        'È'..='Ë' | 'è'..='ë' | 'Ē' | 'ē' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě' | 'ě' => "E",
        'Ğ' | 'ğ' => "G",
        'Ì'..='Ï' | 'ì'..='ï' | 'Ī' | 'ī' | 'İ' | 'ı' => "I",
        'Ł' | 'ł' => "L",
        'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' => "N",
        'Ò'..='Ö' | 'ò'..='ö' | 'Ø' | 'ø' | 'Ō' | 'ō' | 'Ő' | 'ő' => "O",
        'Œ' | 'œ' => "OE",
        'Ř' | 'ř' => "R",
        'Ś' | 'ś' | 'Ş' | 'ş' | 'Š' | 'š' => "S",
        'ß' => "SS",
        'Ţ' | 'ţ' | 'Ť' | 'ť' => "T",
        'Þ' | 'þ' => "TH",
        'Ù'..='Ü' | 'ù'..='ü' | 'Ū' | 'ū' | 'Ů' | 'ů' | 'Ű' | 'ű' => "U",
        'Ý' | 'ý' | 'ÿ' | 'Ÿ' => "Y",
        'Ź' | 'ź' | 'Ż' | 'ż' | 'Ž' | 'ž' => "Z",
        _ => return None,
    })
}

/// Whether free text is already X12-safe as it stands.
fn clean_text(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    if b.len() > max || b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev = 0u8;
    for &c in b {
        if !basic_char(c) || (c == b' ' && prev == b' ') {
            return false;
        }
        prev = c;
    }
    true
}

/// Appends free text made X12-safe to `out`: upper case, the basic
/// character set, single spaces, no leading or trailing space, at most `max`
/// characters.
fn push_text(out: &mut String, s: &str, max: usize) {
    let base = out.len();
    let mut gap = false;
    // appends one safe ASCII byte; false once `max` is reached
    let put = |out: &mut String, c: u8, gap: &mut bool| -> bool {
        let written = out.len() - base;
        let sep = *gap && written > 0;
        if written + usize::from(sep) + 1 > max {
            return false;
        }
        if sep {
            out.push(' ');
        }
        out.push(char::from(c));
        *gap = false;
        true
    };
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            i += 1;
            let u = b.to_ascii_uppercase();
            if u == b' ' || !basic_char(u) {
                gap = true;
            } else if !put(out, u, &mut gap) {
                return;
            }
            continue;
        }
        let Some(ch) = s[i..].chars().next() else {
            return;
        };
        i += ch.len_utf8();
        match fold_letter(ch) {
            Some(folded) => {
                for &c in folded.as_bytes() {
                    if !put(out, c, &mut gap) {
                        return;
                    }
                }
            }
            None => gap = true,
        }
    }
}

/// Free text made X12-safe (see [`push_text`]); borrowed when already safe.
fn text(s: &str, max: usize) -> Cow<'_, str> {
    if clean_text(s, max) {
        Cow::Borrowed(s)
    } else {
        let mut out = String::with_capacity(s.len().min(max));
        push_text(&mut out, s, max);
        Cow::Owned(out)
    }
}

/// Free text made X12-safe, in `buf` unless already safe.
fn text_in<'a>(buf: &'a mut String, s: &'a str, max: usize) -> &'a str {
    if clean_text(s, max) {
        s
    } else {
        buf.clear();
        push_text(buf, s, max);
        buf
    }
}

/// What is wrong with an identifier X12 should carry as it is (printable
/// ASCII without the delimiters, `min..=max` characters once trimmed).
fn ident_problem(s: &str, min: usize, max: usize) -> Option<String> {
    let t = s.trim_ascii();
    if t.len() < min || t.len() > max {
        return Some(if min == max {
            format!("{s:?} must be {min} characters")
        } else {
            format!("{s:?} must be {min} to {max} characters")
        });
    }
    if t.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && !matches!(b, b'*' | b':' | b'~' | b'^'))
    {
        return None;
    }
    let bad = t
        .chars()
        .find(|&c| !(' '..='~').contains(&c) || matches!(c, '*' | ':' | '~' | '^'));
    Some(format!(
        "{s:?} contains {:?}, which X12 cannot carry in an identifier",
        bad.unwrap_or(' ')
    ))
}

/// Whether `s` is one of the (short) codes of `list`.
fn in_list(s: &str, list: &[&str]) -> bool {
    let b = s.as_bytes();
    list.iter().any(|c| {
        let c = c.as_bytes();
        c.len() == b.len() && c.iter().zip(b).all(|(x, y)| x == y)
    })
}

fn alnum(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

/// Appends a checked `YYYY-MM-DD` date as `CCYYMMDD`.
fn push_d8(out: &mut String, s: &str) {
    match (s.get(0..4), s.get(5..7), s.get(8..10)) {
        (Some(y), Some(m), Some(d)) if s.len() == 10 => {
            out.push_str(y);
            out.push_str(m);
            out.push_str(d);
        }
        _ => out.extend(s.chars().filter(char::is_ascii_digit)),
    }
}

/// Digits only (ZIP with a hyphen, EIN with a hyphen, phone numbers).
fn only_digits(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(char::is_ascii_digit).collect())
    }
}

/// Appends a number in decimal.
fn push_u64(out: &mut String, mut n: u64) {
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// Appends cents as an X12 decimal amount (see [`format_amount`]).
fn push_amount(out: &mut String, cents: i64) {
    if cents < 0 {
        out.push('-');
    }
    let c = cents.unsigned_abs();
    push_u64(out, c / 100);
    let frac = c % 100;
    if frac != 0 {
        out.push('.');
        out.push(char::from(b'0' + (frac / 10) as u8));
        if !frac.is_multiple_of(10) {
            out.push(char::from(b'0' + (frac % 10) as u8));
        }
    }
}

/// Appends a quantity as an X12 decimal (see [`format_quantity`]).
fn push_quantity(out: &mut String, q: f64) {
    let m = (q * 1000.0).round();
    if m < 0.0 {
        out.push('-');
    }
    let m = m.abs() as u64;
    push_u64(out, m / 1000);
    let mut frac = m % 1000;
    if frac != 0 {
        out.push('.');
        let mut width = 3;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        let mut div = 10u64.pow(width - 1);
        while div > 0 {
            out.push(char::from(b'0' + (frac / div % 10) as u8));
            div /= 10;
        }
    }
}

/// Cents as an X12 decimal amount: `12500` → `125`, `12550` → `125.5`, `12505` → `125.05`.
pub fn format_amount(cents: i64) -> String {
    let mut s = String::with_capacity(12);
    push_amount(&mut s, cents);
    s
}

/// A quantity as an X12 decimal, rounded to three decimals without trailing
/// zeros: `1.0` → `1`, `1.50` → `1.5`, `0.125` → `0.125`.
pub fn format_quantity(q: f64) -> String {
    let mut s = String::with_capacity(8);
    push_quantity(&mut s, q);
    s
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// Whether the patient is someone other than the subscriber (a 2000C level).
fn patient_of(c: &Claim) -> Option<&Person> {
    if c.subscriber.relationship == "18" {
        None
    } else {
        c.patient.as_ref()
    }
}

/// `prefix.field` (or `field` at the top).
fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Whether `s` keeps at least `n` characters once made X12-safe.
fn keeps_at_least(s: &str, n: usize) -> bool {
    let mut kept = 0;
    for ch in s.chars() {
        if ch.is_ascii() {
            let u = (ch as u8).to_ascii_uppercase();
            if u != b' ' && basic_char(u) {
                kept += 1;
            }
        } else if let Some(f) = fold_letter(ch) {
            kept += f.len();
        }
        if kept >= n {
            return true;
        }
    }
    n == 0
}

/// Collects problems; paths are only built for the problems found.
struct Problems<'a> {
    out: &'a mut Vec<ModelError>,
}

impl Problems<'_> {
    fn add(&mut self, path: String, message: String) {
        self.out.push(ModelError { path, message });
    }

    fn ident(&mut self, prefix: &str, field: &str, s: &str, min: usize, max: usize) {
        if let Some(m) = ident_problem(s, min, max) {
            self.add(path(prefix, field), m);
        }
    }

    fn name(&mut self, prefix: &str, field: &str, s: &str, max: usize) {
        if max == 0 || !keeps_at_least(s, 1) {
            self.add(
                path(prefix, field),
                format!("{s:?} has no letters or digits X12 can carry"),
            );
        }
    }

    fn codes(&mut self, prefix: &str, field: &str, s: &str, codes: &[&str], what: &str) {
        if !in_list(s, codes) {
            self.add(path(prefix, field), format!("{s:?} is not {what}"));
        }
    }

    fn address(&mut self, at: &str, a: &Address, nine_digit_zip: bool) {
        if a.lines.is_empty() || a.lines.len() > 2 {
            self.add(path(at, "lines"), "one or two street lines".into());
        }
        if let Some(first) = a.lines.first() {
            self.name(at, "lines[0]", first, 55);
        }
        if !keeps_at_least(&a.city, 2) {
            self.add(
                path(at, "city"),
                format!("{:?}: 2 to 30 characters", a.city),
            );
        }
        if a.state.len() != 2 || !a.state.bytes().all(|b| b.is_ascii_alphabetic()) {
            self.add(
                path(at, "state"),
                format!("{:?}: a two-letter state code", a.state),
            );
        }
        let zip_shape = a.zip.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        let n = a.zip.bytes().filter(u8::is_ascii_digit).count();
        if nine_digit_zip {
            if n != 9 || !zip_shape {
                self.add(
                    path(at, "zip"),
                    format!(
                        "{:?}: the billing provider needs the nine-digit ZIP+4",
                        a.zip
                    ),
                );
            }
        } else if !(n == 5 || n == 9) || !zip_shape {
            self.add(path(at, "zip"), format!("{:?}: 5 or 9 digits", a.zip));
        }
    }

    fn person(&mut self, at: &str, p: &Person) {
        self.name(at, "last_name", &p.last_name, 60);
        if !matches!(p.sex.as_bytes(), [b'F' | b'M' | b'U']) {
            self.add(path(at, "sex"), format!("{:?}: F, M or U", p.sex));
        }
    }

    fn provider(&mut self, at: &str, p: &Provider) {
        self.name(at, "last_or_org_name", &p.last_or_org_name, 60);
        if let Some(t) = &p.taxonomy
            && !alnum(t, 10, 10)
        {
            self.add(
                path(at, "taxonomy"),
                format!("{t:?}: a 10-character taxonomy code"),
            );
        }
    }
}

/// Everything that keeps a claim from being written as an 837: the model's
/// [`Claim::validate`] and the 837's own needs (tax id and nine-digit ZIP
/// of the billing provider, the patient's address, identifiers without
/// delimiters, code shapes and code lists, other payers). Empty when the
/// claim can be written.
pub fn check_claim(c: &Claim) -> Vec<ModelError> {
    let mut out = c.validate();
    let mut p = Problems { out: &mut out };
    p.ident("", "id", &c.id, 1, 38);

    // providers
    let bp = &c.billing_provider;
    p.provider("billing_provider", bp);
    match &bp.tax_id {
        None => p.add(
            "billing_provider.tax_id".into(),
            "required (REF*EI in loop 2010AA)".into(),
        ),
        Some(t) => {
            let n = t.bytes().filter(u8::is_ascii_digit).count();
            if n != 9 || !t.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                p.add(
                    "billing_provider.tax_id".into(),
                    format!("{t:?}: a nine-digit EIN"),
                );
            }
        }
    }
    if let Some(a) = &bp.address {
        p.address("billing_provider.address", a, true);
    }
    if let Some(r) = &c.rendering_provider {
        p.provider("rendering_provider", r);
    }
    if let Some(r) = &c.referring_provider {
        p.provider("referring_provider", r);
    }

    // payer and subscriber
    p.ident("payer", "id", &c.payer.id, 2, 80);
    p.name("payer", "name", &c.payer.name, 60);
    p.codes(
        "payer",
        "filing_indicator",
        &c.payer.filing_indicator,
        FILING_INDICATORS,
        "a claim filing indicator code",
    );
    p.ident("subscriber", "member_id", &c.subscriber.member_id, 2, 80);
    if let Some(g) = &c.subscriber.group_number {
        p.ident("subscriber", "group_number", g, 1, 50);
    }
    p.person("subscriber.person", &c.subscriber.person);
    let sub_is_patient = c.subscriber.relationship == "18";
    match (&c.subscriber.person.address, sub_is_patient) {
        (Some(a), _) => p.address("subscriber.person.address", a, false),
        (None, true) => p.add(
            "subscriber.person.address".into(),
            "required when the subscriber is the patient (N3/N4 in loop 2010BA)".into(),
        ),
        (None, false) => {}
    }
    if !sub_is_patient {
        p.codes(
            "subscriber",
            "relationship",
            &c.subscriber.relationship,
            PATIENT_RELATIONSHIPS,
            "18 (self) or a patient relationship code (01, 19, 20, 21, 39, 40, 53, G8)",
        );
        if let Some(pt) = &c.patient {
            p.person("patient", pt);
            match &pt.address {
                Some(a) => p.address("patient.address", a, false),
                None => p.add(
                    "patient.address".into(),
                    "required (N3/N4 in loop 2010CA)".into(),
                ),
            }
        }
    }

    // other payers
    if c.other_payers.len() > MAX_OTHER_PAYERS {
        p.add("other_payers".into(), format!("at most {MAX_OTHER_PAYERS}"));
    }
    for (i, o) in c.other_payers.iter().enumerate() {
        check_other_payer(&mut p, c, i, o);
    }

    // claim references
    if let Some(a) = &c.prior_authorization {
        p.ident("", "prior_authorization", a, 1, 50);
    }
    if let Some(r) = &c.original_reference
        && c.frequency != Frequency::Original
    {
        p.ident("", "original_reference", r, 1, 50);
    }

    // diagnoses
    for (i, d) in c.diagnoses.iter().enumerate() {
        if !alnum(&d.code, 3, 7) {
            p.add(
                format!("diagnoses[{i}].code"),
                format!("{:?}: an ICD-10-CM code without the dot", d.code),
            );
        }
        if let Some(poa) = &d.poa
            && !matches!(poa.as_bytes(), [b'Y' | b'N' | b'U' | b'W' | b'1'])
        {
            p.add(
                format!("diagnoses[{i}].poa"),
                format!("{poa:?}: Y, N, U, W or 1"),
            );
        }
    }

    // lines
    for (i, l) in c.lines.iter().enumerate() {
        check_line(&mut p, c, i, l);
    }
    if c.total_charge_cents() > 99_999_999_999 {
        p.add("lines".into(), "the total charge does not fit CLM02".into());
    }

    if c.kind == ClaimKind::Institutional
        && let Some(inst) = &c.institutional
    {
        check_institutional(&mut p, inst);
    }
    out
}

fn check_institutional(p: &mut Problems<'_>, inst: &Institutional) {
    let at = "institutional";
    if !digits(&inst.type_of_bill, 2, 3) {
        p.add(
            path(at, "type_of_bill"),
            format!("{:?}: digits", inst.type_of_bill),
        );
    }
    if !digits(&inst.patient_status, 1, 2) {
        p.add(
            path(at, "patient_status"),
            format!("{:?}: a 2-digit status code", inst.patient_status),
        );
    }
    if let Some(t) = &inst.admission_type
        && !alnum(t, 1, 1)
    {
        p.add(path(at, "admission_type"), format!("{t:?}: one character"));
    }
    if let Some(s) = &inst.admission_source
        && !alnum(s, 1, 1)
    {
        p.add(
            path(at, "admission_source"),
            format!("{s:?}: one character"),
        );
    }
    if let Some(d) = &inst.admission_date
        && !is_date(d)
    {
        p.add(path(at, "admission_date"), "expected YYYY-MM-DD".into());
    }
    if let Some(h) = &inst.admission_hour {
        if inst.admission_date.is_none() {
            p.add(path(at, "admission_hour"), "needs admission_date".into());
        }
        if !hour_ok(h) {
            p.add(path(at, "admission_hour"), format!("{h:?}: HH, 00 to 23"));
        }
    }
    if let Some(h) = &inst.discharge_hour
        && !hour_ok(h)
    {
        p.add(path(at, "discharge_hour"), format!("{h:?}: HH, 00 to 23"));
    }
    if inst.statement_from > inst.statement_to && is_date(&inst.statement_to) {
        p.add(
            path(at, "statement_to"),
            "on or after statement_from".into(),
        );
    }
    if let Some(d) = &inst.drg
        && !alnum(d, 1, 4)
    {
        p.add(path(at, "drg"), format!("{d:?}: a DRG code"));
    }
    if let Some(a) = &inst.attending {
        if !npi_valid(&a.npi) {
            p.add(
                "institutional.attending.npi".into(),
                format!(
                    "{:?} is not a valid NPI (10 digits with a check digit)",
                    a.npi
                ),
            );
        }
        p.provider("institutional.attending", a);
    }
}

fn hour_ok(h: &str) -> bool {
    digits(h, 2, 2) && h < "24"
}

fn check_other_payer(p: &mut Problems<'_>, c: &Claim, i: usize, o: &OtherPayer) {
    let at = format!("other_payers[{i}]");
    if o.responsibility == c.responsibility {
        p.add(
            path(&at, "responsibility"),
            "must differ from the claim's own responsibility".into(),
        );
    }
    if c.other_payers[..i]
        .iter()
        .any(|x| x.responsibility == o.responsibility)
    {
        p.add(
            path(&at, "responsibility"),
            "two other payers with the same responsibility".into(),
        );
    }
    p.ident(&at, "payer.id", &o.payer.id, 2, 80);
    p.name(&at, "payer.name", &o.payer.name, 60);
    p.codes(
        &at,
        "payer.filing_indicator",
        &o.payer.filing_indicator,
        FILING_INDICATORS,
        "a claim filing indicator code",
    );
    p.ident(&at, "subscriber.member_id", &o.subscriber.member_id, 2, 80);
    if let Some(g) = &o.subscriber.group_number {
        p.ident(&at, "subscriber.group_number", g, 1, 50);
    }
    p.name(
        &at,
        "subscriber.person.last_name",
        &o.subscriber.person.last_name,
        60,
    );
    let rel = o.subscriber.relationship.as_str();
    if rel != "18" {
        p.codes(
            &at,
            "subscriber.relationship",
            rel,
            PATIENT_RELATIONSHIPS,
            "an individual relationship code",
        );
    }
    if let Some(a) = &o.subscriber.person.address {
        p.address(&path(&at, "subscriber.person.address"), a, false);
    }
    if let Some(paid) = o.paid_cents
        && paid.unsigned_abs() > 99_999_999_999
    {
        p.add(path(&at, "paid_cents"), "does not fit AMT02".into());
    }
}

fn check_line(p: &mut Problems<'_>, c: &Claim, i: usize, l: &ServiceLine) {
    let at = |f: &str| format!("lines[{i}].{f}");
    if let Some(code) = &l.procedure
        && !alnum(code, 5, 5)
    {
        p.add(
            at("procedure"),
            format!("{code:?}: a five-character CPT/HCPCS code"),
        );
    }
    if c.kind == ClaimKind::Institutional && l.procedure.is_none() && !l.modifiers.is_empty() {
        p.add(at("modifiers"), "modifiers need a procedure code".into());
    }
    for (j, m) in l.modifiers.iter().enumerate() {
        if !alnum(m, 2, 2) {
            p.add(
                format!("lines[{i}].modifiers[{j}]"),
                format!("{m:?}: two letters or digits"),
            );
        }
    }
    if l.units.is_finite() && l.units > 0.0 && (l.units * 1000.0).round() < 1.0 {
        p.add(at("units"), "rounds to zero at three decimals".into());
    }
    if l.units >= 1e11 {
        p.add(at("units"), "too large for the service unit count".into());
    }
    if l.charge_cents > 99_999_999_999 {
        p.add(at("charge_cents"), "too large for the line charge".into());
    }
    if let Some(pos) = &l.place_of_service
        && !digits(pos, 2, 2)
    {
        p.add(at("place_of_service"), format!("{pos:?}: two digits"));
    }
    if let Some(ndc) = &l.ndc
        && !digits(ndc, 11, 11)
    {
        p.add(
            at("ndc"),
            format!("{ndc:?}: the 11-digit NDC without hyphens"),
        );
    }
}

fn check_envelope(env: &Envelope) -> Result<(), X837Error> {
    let bad = |field: &'static str, message: String| Err(X837Error::Envelope { field, message });
    for (field, v) in [
        ("sender_id", &env.sender_id),
        ("receiver_id", &env.receiver_id),
    ] {
        if let Some(m) = ident_problem(v, 2, 15) {
            return bad(field, m);
        }
    }
    for (field, v) in [
        ("sender_qualifier", &env.sender_qualifier),
        ("receiver_qualifier", &env.receiver_qualifier),
    ] {
        if !alnum(v, 2, 2) {
            return bad(field, format!("{v:?}: a two-character id qualifier"));
        }
    }
    if !matches!(env.usage, 'P' | 'T') {
        return bad("usage", format!("{:?}: P or T", env.usage));
    }
    if env.interchange_control_number == 0 || env.interchange_control_number > 999_999_999 {
        return bad("interchange_control_number", "1 to 999999999".into());
    }
    if env.group_control_number == 0 || env.group_control_number >= 999_999_999 {
        return bad(
            "group_control_number",
            "1 to 999999998 (a second group takes the next)".into(),
        );
    }
    if env.first_transaction_control_number == 0
        || env.first_transaction_control_number > 999_990_000
    {
        return bad("first_transaction_control_number", "1 to 999999999".into());
    }
    if let Some(m) = ident_problem(&env.batch_reference, 1, 40) {
        return bad("batch_reference", m);
    }
    if text(&env.submitter.name, 60).is_empty() {
        return bad(
            "submitter.name",
            "no letters or digits X12 can carry".into(),
        );
    }
    if let Some(m) = ident_problem(&env.submitter.id, 2, 80) {
        return bad("submitter.id", m);
    }
    let phone = env
        .submitter
        .phone
        .as_deref()
        .map(only_digits)
        .filter(|p| !p.is_empty());
    if let Some(e) = &env.submitter.email
        && let Some(m) = ident_problem(e, 1, 256)
    {
        return bad("submitter.email", m);
    }
    if phone.is_none() && env.submitter.email.is_none() {
        return bad(
            "submitter.phone",
            "a telephone number or an e-mail address is required".into(),
        );
    }
    if text(&env.receiver.name, 60).is_empty() {
        return bad("receiver.name", "no letters or digits X12 can carry".into());
    }
    if let Some(m) = ident_problem(&env.receiver.id, 2, 80) {
        return bad("receiver.id", m);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Writes the claims as one 837 interchange (see the module docs for the
/// layout). Every claim is checked first; the first that fails stops the
/// write with [`X837Error::InvalidClaim`].
pub fn write_837(claims: &[Claim], env: &Envelope) -> Result<Vec<u8>, X837Error> {
    check_envelope(env)?;
    if claims.is_empty() {
        return Err(X837Error::NoClaims);
    }
    for (index, c) in claims.iter().enumerate() {
        let errors = check_claim(c);
        if !errors.is_empty() {
            return Err(X837Error::InvalidClaim {
                claim: c.id.clone(),
                index,
                errors,
            });
        }
    }
    let professional: Vec<&Claim> = claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Professional)
        .collect();
    let institutional: Vec<&Claim> = claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Institutional)
        .collect();
    let sets = professional.len().div_ceil(MAX_CLAIMS_PER_TRANSACTION)
        + institutional.len().div_ceil(MAX_CLAIMS_PER_TRANSACTION);
    if u64::from(env.first_transaction_control_number) + sets as u64 > 1_000_000_000 {
        return Err(X837Error::Envelope {
            field: "first_transaction_control_number",
            message: format!("{sets} transaction sets do not fit 9 digits from here"),
        });
    }

    let created = env.created;
    let date8 = created.strftime("%Y%m%d").to_string();
    let time4 = created.strftime("%H%M").to_string();
    let mut w = Writer::new(Delimiters::default(), env.newline);
    w.isa(&IsaHeader {
        sender_qualifier: env.sender_qualifier.clone(),
        sender_id: env.sender_id.trim_ascii().to_owned(),
        receiver_qualifier: env.receiver_qualifier.clone(),
        receiver_id: env.receiver_id.trim_ascii().to_owned(),
        date: date8[2..].to_owned(),
        time: time4.clone(),
        control_number: env.interchange_control_number,
        ack_requested: env.ack_requested,
        usage: env.usage,
    })?;
    let header = Header {
        date8: &date8,
        time4: &time4,
        submitter_name: text(&env.submitter.name, 60),
        submitter_contact: text(&env.submitter.contact_name, 60),
        phone: env
            .submitter
            .phone
            .as_deref()
            .map(only_digits)
            .filter(|p| !p.is_empty()),
        receiver_name: text(&env.receiver.name, 60),
        env,
    };
    let mut group = env.group_control_number;
    let mut set = env.first_transaction_control_number;
    for (kind, list, version) in [
        (ClaimKind::Professional, &professional, PROFESSIONAL_VERSION),
        (
            ClaimKind::Institutional,
            &institutional,
            INSTITUTIONAL_VERSION,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        w.gs(&GsHeader {
            functional_id: "HC".into(),
            sender: env.sender_id.trim_ascii().to_owned(),
            receiver: env.receiver_id.trim_ascii().to_owned(),
            date: date8.clone(),
            time: time4.clone(),
            control_number: group,
            version: version.into(),
        })?;
        group += 1;
        for chunk in list.chunks(MAX_CLAIMS_PER_TRANSACTION) {
            let control = format!("{set:04}");
            let bht03 = if sets > 1 {
                Cow::Owned(format!("{}-{control}", env.batch_reference.trim_ascii()))
            } else {
                Cow::Borrowed(env.batch_reference.trim_ascii())
            };
            let mut t = Transaction {
                w: &mut w,
                kind,
                hl: 0,
                s: Scratch::default(),
                component: char::from(Delimiters::default().component),
            };
            t.write(&header, chunk, &control, &bht03, version)?;
            set += 1;
        }
        w.ge()?;
    }
    Ok(w.finish()?)
}

/// Writes `claims` as one interchange `rounds` times and returns how many
/// claims were written and the seconds it took (throughput figures).
pub fn bench_write(claims: &[Claim], rounds: usize) -> Result<(usize, f64), X837Error> {
    let env = Envelope::new(
        "MEDLEDGER",
        "RECEIVER",
        Submitter {
            name: "MEDLEDGER BILLING".into(),
            id: "MEDLEDGER".into(),
            contact_name: "EDI DESK".into(),
            phone: Some("5555550100".into()),
            email: None,
        },
        Receiver {
            name: "CLEARINGHOUSE".into(),
            id: "RECEIVER".into(),
        },
        jiff::civil::date(2026, 1, 2).at(3, 4, 0, 0),
    );
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        bytes += std::hint::black_box(write_837(claims, &env)?).len();
    }
    std::hint::black_box(bytes);
    Ok((claims.len() * rounds, start.elapsed().as_secs_f64()))
}

struct Header<'a> {
    date8: &'a str,
    time4: &'a str,
    submitter_name: Cow<'a, str>,
    submitter_contact: Cow<'a, str>,
    phone: Option<Cow<'a, str>>,
    receiver_name: Cow<'a, str>,
    env: &'a Envelope,
}

/// Reused buffers for the values of one segment (no allocation per value).
#[derive(Default)]
struct Scratch {
    a: String,
    b: String,
    c: String,
    d: String,
    e: String,
    /// Several composites back to back, with their ends.
    items: String,
    ends: Vec<usize>,
}

struct Transaction<'w> {
    w: &'w mut Writer,
    kind: ClaimKind,
    hl: u32,
    s: Scratch,
    component: char,
}

/// Whether two consecutive claims can share a subscriber (and patient) level.
fn same_subscriber(a: &Claim, b: &Claim) -> bool {
    a.subscriber == b.subscriber
        && a.payer == b.payer
        && a.responsibility == b.responsibility
        && patient_of(a) == patient_of(b)
}

/// Clears `buf` and writes a number into it.
fn num(buf: &mut String, n: u64) -> &str {
    buf.clear();
    push_u64(buf, n);
    buf
}

/// Clears `buf` and writes an amount into it.
fn amount(buf: &mut String, cents: i64) -> &str {
    buf.clear();
    push_amount(buf, cents);
    buf
}

/// Clears `buf` and writes `CCYYMMDD` or `CCYYMMDD-CCYYMMDD` into it.
fn dates<'a>(buf: &'a mut String, from: &str, to: Option<&str>) -> &'a str {
    buf.clear();
    push_d8(buf, from);
    if let Some(to) = to {
        buf.push('-');
        push_d8(buf, to);
    }
    buf
}

/// Clears `buf` and writes a composite of `parts` (trailing empty parts dropped).
fn composite<'a>(buf: &'a mut String, sep: char, parts: &[&str]) -> &'a str {
    buf.clear();
    let n = parts
        .iter()
        .rposition(|p| !p.is_empty())
        .map_or(0, |i| i + 1);
    for (i, p) in parts[..n].iter().enumerate() {
        if i > 0 {
            buf.push(sep);
        }
        buf.push_str(p);
    }
    buf
}

impl Transaction<'_> {
    fn write(
        &mut self,
        h: &Header<'_>,
        claims: &[&Claim],
        control: &str,
        bht03: &str,
        version: &str,
    ) -> Result<(), WriteError> {
        self.w.st("837", control, Some(version))?;
        self.w
            .segment("BHT", &["0019", "00", bht03, h.date8, h.time4, "CH"])?;
        // 1000A submitter, 1000B receiver
        let env = h.env;
        self.w.segment(
            "NM1",
            &[
                "41",
                "2",
                &h.submitter_name,
                "",
                "",
                "",
                "",
                "46",
                env.submitter.id.trim_ascii(),
            ],
        )?;
        let email = env.submitter.email.as_deref().map(str::trim_ascii);
        match (&h.phone, email) {
            (Some(p), Some(e)) => self
                .w
                .segment("PER", &["IC", &h.submitter_contact, "TE", p, "EM", e])?,
            (Some(p), None) => self
                .w
                .segment("PER", &["IC", &h.submitter_contact, "TE", p])?,
            (None, Some(e)) => self
                .w
                .segment("PER", &["IC", &h.submitter_contact, "EM", e])?,
            (None, None) => {}
        }
        self.w.segment(
            "NM1",
            &[
                "40",
                "2",
                &h.receiver_name,
                "",
                "",
                "",
                "",
                "46",
                env.receiver.id.trim_ascii(),
            ],
        )?;

        let mut billing: Option<(&Claim, u32)> = None;
        let mut subscriber: Option<(&Claim, usize)> = None;
        for &c in claims {
            let billing_hl = match billing {
                Some((prev, hl)) if prev.billing_provider == c.billing_provider => hl,
                _ => {
                    subscriber = None;
                    let hl = self.billing_level(&c.billing_provider)?;
                    billing = Some((c, hl));
                    hl
                }
            };
            match &mut subscriber {
                Some((prev, n)) if *n < MAX_CLAIMS_PER_LEVEL && same_subscriber(prev, c) => *n += 1,
                _ => {
                    self.subscriber_level(c, billing_hl)?;
                    subscriber = Some((c, 1));
                }
            }
            self.claim(c)?;
        }
        self.w.se()
    }

    fn next_hl(&mut self) -> u32 {
        self.hl += 1;
        self.hl
    }

    fn hl(
        &mut self,
        id: u32,
        parent: Option<u32>,
        code: &str,
        children: bool,
    ) -> Result<(), WriteError> {
        let s = &mut self.s;
        let id = num(&mut s.a, u64::from(id));
        let parent = match parent {
            Some(p) => num(&mut s.b, u64::from(p)),
            None => "",
        };
        self.w
            .segment("HL", &[id, parent, code, if children { "1" } else { "0" }])
    }

    /// 2000A and 2010AA.
    fn billing_level(&mut self, p: &Provider) -> Result<u32, WriteError> {
        let hl = self.next_hl();
        self.hl(hl, None, "20", true)?;
        if let Some(t) = &p.taxonomy {
            self.w.segment("PRV", &["BI", "PXC", t])?;
        }
        // 837I: the billing provider is an organisation
        let person = self.kind == ClaimKind::Professional && p.first_name.is_some();
        self.provider_name("85", p, person)?;
        if let Some(a) = &p.address {
            self.address(a)?;
        }
        if let Some(t) = &p.tax_id {
            self.w.segment("REF", &["EI", &only_digits(t)])?;
        }
        Ok(hl)
    }

    /// 2000B with 2010BA and 2010BB, then 2000C with 2010CA when the patient
    /// is not the subscriber.
    fn subscriber_level(&mut self, c: &Claim, parent: u32) -> Result<(), WriteError> {
        let hl = self.next_hl();
        let patient = patient_of(c);
        let s = &c.subscriber;
        self.hl(hl, Some(parent), "22", patient.is_some())?;
        self.w.segment(
            "SBR",
            &[
                c.responsibility.code(),
                if patient.is_none() { "18" } else { "" },
                s.group_number.as_deref().map_or("", str::trim_ascii),
                "",
                "",
                "",
                "",
                "",
                &c.payer.filing_indicator,
            ],
        )?;
        self.person_name("IL", &s.person, Some(&s.member_id))?;
        if patient.is_none() {
            if let Some(a) = &s.person.address {
                self.address(a)?;
            }
            self.demographics(&s.person)?;
        }
        self.payer_name(&c.payer.name, &c.payer.id)?;
        if let Some(pt) = patient {
            let phl = self.next_hl();
            self.hl(phl, Some(hl), "23", false)?;
            self.w.segment("PAT", &[&s.relationship])?;
            self.person_name("QC", pt, None)?;
            if let Some(a) = &pt.address {
                self.address(a)?;
            }
            self.demographics(pt)?;
        }
        Ok(())
    }

    fn payer_name(&mut self, name: &str, id: &str) -> Result<(), WriteError> {
        let name = text_in(&mut self.s.a, name, 60);
        self.w.segment(
            "NM1",
            &["PR", "2", name, "", "", "", "", "PI", id.trim_ascii()],
        )
    }

    fn person_name(
        &mut self,
        entity: &str,
        p: &Person,
        member_id: Option<&str>,
    ) -> Result<(), WriteError> {
        let last = text_in(&mut self.s.a, &p.last_name, 60);
        let first = text_in(&mut self.s.b, &p.first_name, 35);
        match member_id {
            Some(id) => self.w.segment(
                "NM1",
                &[entity, "1", last, first, "", "", "", "MI", id.trim_ascii()],
            ),
            None => self.w.segment("NM1", &[entity, "1", last, first]),
        }
    }

    fn provider_name(
        &mut self,
        entity: &str,
        p: &Provider,
        person: bool,
    ) -> Result<(), WriteError> {
        let last = text_in(&mut self.s.a, &p.last_or_org_name, 60);
        let first = match (&p.first_name, person) {
            (Some(f), true) => text_in(&mut self.s.b, f, 35),
            _ => "",
        };
        let kind = if person { "1" } else { "2" };
        self.w.segment(
            "NM1",
            &[entity, kind, last, first, "", "", "", "XX", &p.npi],
        )
    }

    fn address(&mut self, a: &Address) -> Result<(), WriteError> {
        let s = &mut self.s;
        let l1 = match a.lines.first() {
            Some(l) => text_in(&mut s.a, l, 55),
            None => "",
        };
        let l2 = match a.lines.get(1) {
            Some(l) => text_in(&mut s.b, l, 55),
            None => "",
        };
        self.w.segment("N3", &[l1, l2])?;
        let s = &mut self.s;
        let city = text_in(&mut s.a, &a.city, 30);
        let state = if a.state.bytes().all(|b| b.is_ascii_uppercase()) {
            a.state.as_str()
        } else {
            s.b.clear();
            s.b.push_str(&a.state.to_ascii_uppercase());
            s.b.as_str()
        };
        self.w.segment("N4", &[city, state, &only_digits(&a.zip)])
    }

    fn demographics(&mut self, p: &Person) -> Result<(), WriteError> {
        let dob = dates(&mut self.s.a, &p.dob, None);
        self.w.segment("DMG", &["D8", dob, &p.sex])
    }

    /// Loop 2300 and everything under it.
    fn claim(&mut self, c: &Claim) -> Result<(), WriteError> {
        let freq = c.frequency.code();
        let sep = self.component;
        match (self.kind, &c.institutional) {
            (ClaimKind::Institutional, Some(inst)) => {
                let tob = &inst.type_of_bill;
                // CLM05-1 is the two-digit facility type and classification
                let facility = match tob.len() {
                    3 if tob.starts_with('0') => &tob[1..],
                    3 => &tob[..2],
                    _ => tob.as_str(),
                };
                let s = &mut self.s;
                let total = amount(&mut s.a, c.total_charge_cents());
                let clm05 = composite(&mut s.b, sep, &[facility, "A", freq]);
                self.w.segment(
                    "CLM",
                    &[c.id.trim_ascii(), total, "", "", clm05, "", "A", "Y", "Y"],
                )?;
                if let Some(h) = &inst.discharge_hour {
                    let s = &mut self.s;
                    s.a.clear();
                    s.a.push_str(h);
                    s.a.push_str("00");
                    self.w.segment("DTP", &["096", "TM", &self.s.a])?;
                }
                let period = dates(
                    &mut self.s.a,
                    &inst.statement_from,
                    Some(&inst.statement_to),
                );
                self.w.segment("DTP", &["434", "RD8", period])?;
                if let Some(d) = &inst.admission_date {
                    let s = &mut self.s;
                    let day = dates(&mut s.a, d, None);
                    match &inst.admission_hour {
                        Some(h) => {
                            s.b.clear();
                            s.b.push_str(day);
                            s.b.push_str(h);
                            s.b.push_str("00");
                            self.w.segment("DTP", &["435", "DT", &self.s.b])?;
                        }
                        None => self.w.segment("DTP", &["435", "D8", day])?,
                    }
                }
                self.w.segment(
                    "CL1",
                    &[
                        inst.admission_type.as_deref().unwrap_or(""),
                        inst.admission_source.as_deref().unwrap_or(""),
                        &inst.patient_status,
                    ],
                )?;
            }
            _ => {
                let pos = c.place_of_service.as_deref().unwrap_or("");
                let s = &mut self.s;
                let total = amount(&mut s.a, c.total_charge_cents());
                let clm05 = composite(&mut s.b, sep, &[pos, "B", freq]);
                self.w.segment(
                    "CLM",
                    &[c.id.trim_ascii(), total, "", "", clm05, "Y", "A", "Y", "Y"],
                )?;
            }
        }
        if let Some(a) = &c.prior_authorization {
            self.w.segment("REF", &["G1", a.trim_ascii()])?;
        }
        if c.frequency != Frequency::Original
            && let Some(r) = &c.original_reference
        {
            self.w.segment("REF", &["F8", r.trim_ascii()])?;
        }
        self.diagnoses(c)?;
        match self.kind {
            ClaimKind::Professional => {
                if let Some(r) = &c.referring_provider {
                    self.provider_name("DN", r, true)?;
                }
                if let Some(r) = &c.rendering_provider {
                    self.provider_name("82", r, r.first_name.is_some())?;
                    if let Some(t) = &r.taxonomy {
                        self.w.segment("PRV", &["PE", "PXC", t])?;
                    }
                }
            }
            ClaimKind::Institutional => {
                if let Some(a) = c.institutional.as_ref().and_then(|i| i.attending.as_ref()) {
                    self.provider_name("71", a, true)?;
                    if let Some(t) = &a.taxonomy {
                        self.w.segment("PRV", &["AT", "PXC", t])?;
                    }
                }
                if let Some(r) = &c.rendering_provider {
                    self.provider_name("82", r, true)?;
                }
                if let Some(r) = &c.referring_provider {
                    self.provider_name("DN", r, true)?;
                }
            }
        }
        for o in &c.other_payers {
            self.other_payer(o)?;
        }
        let claim_pos = c.place_of_service.as_deref();
        for (i, l) in c.lines.iter().enumerate() {
            self.line(i + 1, l, claim_pos)?;
        }
        Ok(())
    }

    /// Writes one HI segment of the diagnoses given, with qualifier `first_q`
    /// for the first and `rest_q` for the others (POA as the 9th component
    /// on the 837I; POA `1`, exempt, is left empty as 5010 wants).
    fn hi(&mut self, dx: &[Diagnosis], first_q: &str, rest_q: &str) -> Result<(), WriteError> {
        let inst = self.kind == ClaimKind::Institutional;
        let sep = self.component;
        let s = &mut self.s;
        s.items.clear();
        s.ends.clear();
        for (i, d) in dx.iter().enumerate() {
            s.items.push_str(if i == 0 { first_q } else { rest_q });
            s.items.push(sep);
            s.items.push_str(&d.code);
            if let Some(poa) = d.poa.as_deref()
                && inst
                && poa != "1"
            {
                for _ in 0..7 {
                    s.items.push(sep);
                }
                s.items.push_str(poa);
            }
            s.ends.push(s.items.len());
        }
        let mut parts: [&str; 12] = [""; 12];
        let mut start = 0;
        for (slot, &end) in parts.iter_mut().zip(&s.ends) {
            *slot = &s.items[start..end];
            start = end;
        }
        self.w.segment("HI", &parts[..dx.len().min(12)])
    }

    /// HI: ABK principal, then ABF others (837P: one segment of up to 12;
    /// 837I: DRG in its own HI before the others, other diagnoses 12 a segment).
    fn diagnoses(&mut self, c: &Claim) -> Result<(), WriteError> {
        if c.diagnoses.is_empty() {
            return Ok(());
        }
        if self.kind == ClaimKind::Professional {
            return self.hi(&c.diagnoses[..c.diagnoses.len().min(12)], "ABK", "ABF");
        }
        self.hi(&c.diagnoses[..1], "ABK", "ABK")?;
        if let Some(drg) = c.institutional.as_ref().and_then(|i| i.drg.as_ref()) {
            let dr = composite(&mut self.s.a, self.component, &["DR", drg]);
            self.w.segment("HI", &[dr])?;
        }
        for chunk in c.diagnoses[1..].chunks(12) {
            self.hi(chunk, "ABF", "ABF")?;
        }
        Ok(())
    }

    /// 2320, 2330A, 2330B.
    fn other_payer(&mut self, o: &OtherPayer) -> Result<(), WriteError> {
        let s = &o.subscriber;
        self.w.segment(
            "SBR",
            &[
                o.responsibility.code(),
                &s.relationship,
                s.group_number.as_deref().map_or("", str::trim_ascii),
                "",
                "",
                "",
                "",
                "",
                &o.payer.filing_indicator,
            ],
        )?;
        if let Some(paid) = o.paid_cents {
            let paid = amount(&mut self.s.a, paid);
            self.w.segment("AMT", &["D", paid])?;
        }
        self.w.segment("OI", &["", "", "Y", "", "", "Y"])?;
        self.person_name("IL", &s.person, Some(&s.member_id))?;
        if let Some(a) = &s.person.address {
            self.address(a)?;
        }
        self.payer_name(&o.payer.name, &o.payer.id)
    }

    /// 2400 (LX, SV1 or SV2, DTP*472) and 2410 (LIN, CTP) for a drug.
    fn line(
        &mut self,
        n: usize,
        l: &ServiceLine,
        claim_pos: Option<&str>,
    ) -> Result<(), WriteError> {
        let lx = num(&mut self.s.a, n as u64);
        self.w.segment("LX", &[lx])?;
        let sep = self.component;
        let s = &mut self.s;
        let charge = amount(&mut s.a, l.charge_cents);
        s.b.clear();
        push_quantity(&mut s.b, l.units);
        let units = s.b.as_str();
        let procedure = match &l.procedure {
            Some(code) => {
                let mut parts: [&str; 6] = ["HC", code, "", "", "", ""];
                for (slot, m) in parts[2..].iter_mut().zip(&l.modifiers) {
                    *slot = m;
                }
                composite(&mut s.c, sep, &parts)
            }
            None => "",
        };
        match self.kind {
            ClaimKind::Professional => {
                let pos = match (l.place_of_service.as_deref(), claim_pos) {
                    (Some(lp), Some(cp)) if lp == cp => "",
                    (Some(lp), _) => lp,
                    (None, _) => "",
                };
                s.d.clear();
                for (i, &p) in l.diagnosis_pointers.iter().enumerate() {
                    if i > 0 {
                        s.d.push(sep);
                    }
                    push_u64(&mut s.d, u64::from(p));
                }
                self.w
                    .segment("SV1", &[procedure, charge, "UN", units, pos, "", &s.d])?;
            }
            ClaimKind::Institutional => {
                let rev = l.revenue_code.as_deref().unwrap_or("");
                self.w
                    .segment("SV2", &[rev, procedure, charge, "UN", units])?;
            }
        }
        let to = l.date_to.as_deref().filter(|&to| to != l.date_from);
        let when = dates(&mut self.s.e, &l.date_from, to);
        self.w.segment(
            "DTP",
            &["472", if to.is_some() { "RD8" } else { "D8" }, when],
        )?;
        if let Some(ndc) = &l.ndc {
            self.w.segment("LIN", &["", "N4", ndc])?;
            self.w.segment("CTP", &["", "", "", &self.s.b, "UN"])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(format_amount(12500), "125");
        assert_eq!(format_amount(12550), "125.5");
        assert_eq!(format_amount(12505), "125.05");
        assert_eq!(format_amount(0), "0");
        assert_eq!(format_amount(5), "0.05");
        assert_eq!(format_amount(-1010), "-10.1");
    }

    #[test]
    fn quantities() {
        assert_eq!(format_quantity(1.0), "1");
        assert_eq!(format_quantity(1.5), "1.5");
        assert_eq!(format_quantity(0.25), "0.25");
        assert_eq!(format_quantity(0.125), "0.125");
        assert_eq!(format_quantity(2.0004), "2");
        assert_eq!(format_quantity(12.0), "12");
    }

    #[test]
    fn free_text_is_made_safe() {
        assert_eq!(text("O'Brien-Smith, Jr.", 60), "O'BRIEN-SMITH, JR.");
        assert_eq!(text("  Müller*Lüdenscheid~  ", 60), "MULLER LUDENSCHEID");
        assert_eq!(text("A:B^C", 60), "A B C");
        assert_eq!(text("Apt #4\t@ 5", 60), "APT 4 5");
        assert_eq!(text("abcdef", 3), "ABC");
        assert_eq!(text("ab  cd ", 4), "AB C");
        assert_eq!(text("***", 10), "");
        assert!(matches!(text("SMITH", 60), Cow::Borrowed(_)));
        assert_eq!(text("José Nuñez", 60), "JOSE NUNEZ");
    }

    #[test]
    fn identifiers() {
        assert!(ident_problem("ABC-123", 1, 38).is_none());
        assert!(ident_problem("AB*1", 1, 38).is_some());
        assert!(ident_problem("AB:1", 1, 38).is_some());
        assert!(ident_problem("", 1, 38).is_some());
        assert!(ident_problem("X", 2, 80).is_some());
    }
}
