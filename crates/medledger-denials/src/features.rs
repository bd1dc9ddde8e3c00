//! The features of a claim: single facts and their crosses, hashed into a
//! fixed space for the model and named in plain words for explanations
//! (`payer=PAYER_A × code=70551 × prior_auth=no`).
//!
//! A claim reaches this module as a [`ClaimView`], built from a
//! [`History`] claim or from a `medledger-claims` claim, so training and
//! pre-submission scoring see the very same features.

use medledger_analytics::history::{Claim, History, NONE};

/// A claim as the features see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimView<'a> {
    /// Payer id.
    pub payer: &'a str,
    /// Rendering (or billing) provider NPI.
    pub provider: &'a str,
    /// Place of service (CMS code), 0 if unknown.
    pub place_of_service: u8,
    /// 837I.
    pub institutional: bool,
    /// A prior authorisation is on file.
    pub prior_auth: bool,
    /// Days from (first) service to submission.
    pub lag_days: i32,
    /// Total charge, cents.
    pub charge_cents: i64,
    /// Diagnoses, first-listed first.
    pub diagnoses: Vec<&'a str>,
    /// Lines.
    pub lines: Vec<LineView<'a>>,
}

/// A service line as the features see it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineView<'a> {
    /// Procedure code.
    pub code: &'a str,
    /// Modifiers (up to four).
    pub modifiers: Vec<&'a str>,
    /// Units.
    pub units: u32,
    /// Index of the pointed diagnosis in [`ClaimView::diagnoses`].
    pub dx_pointer: usize,
}

impl<'a> ClaimView<'a> {
    /// The view of a history claim.
    pub fn of_history(h: &'a History, c: &Claim) -> ClaimView<'a> {
        let lines = h
            .lines_of(c)
            .iter()
            .map(|l| LineView {
                code: h.codes.name(l.code),
                modifiers: l
                    .modifiers
                    .iter()
                    .filter(|&&m| m != NONE)
                    .map(|&m| h.modifiers.name(m))
                    .collect(),
                units: l.units,
                dx_pointer: usize::from(l.dx_pointer),
            })
            .collect();
        ClaimView {
            payer: h.payers.name(c.payer),
            provider: h.providers.name(c.provider),
            place_of_service: c.place_of_service,
            institutional: c.institutional,
            prior_auth: c.prior_auth,
            lag_days: c.submitted - c.service_date,
            charge_cents: c.charge_cents,
            diagnoses: h.diagnoses_of(c).iter().map(|&d| h.codes.name(d)).collect(),
            lines,
        }
    }
}

/// Days from service to submission, in buckets aligned with common filing limits.
pub fn lag_bucket(days: i32) -> &'static str {
    match days {
        i32::MIN..=7 => "0-7d",
        8..=30 => "8-30d",
        31..=60 => "31-60d",
        61..=90 => "61-90d",
        91..=120 => "91-120d",
        121..=180 => "121-180d",
        181..=365 => "181-365d",
        _ => "over-365d",
    }
}

/// Claim charge in dollar buckets (powers of two from $32).
pub fn charge_bucket(cents: i64) -> &'static str {
    const B: [&str; 9] = [
        "<$32", "$32-64", "$64-128", "$128-256", "$256-512", "$512-1k", "$1k-2k", "$2k-4k", ">$4k",
    ];
    let dollars = (cents / 100).max(0);
    let mut i = 0;
    let mut edge = 32;
    while i < B.len() - 1 && dollars >= edge {
        i += 1;
        edge *= 2;
    }
    B[i]
}

fn units_bucket(u: u32) -> &'static str {
    match u {
        0 | 1 => "1",
        2 => "2",
        3 => "3",
        4 => "4",
        5 | 6 => "5-6",
        _ => "7+",
    }
}

/// One feature: up to four `key=value` parts (crossed with ` × `).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature<'a> {
    parts: [(&'a str, &'a str); 4],
    n: usize,
}

impl<'a> Feature<'a> {
    /// A feature of up to four parts (more are dropped).
    pub fn new(parts: &[(&'a str, &'a str)]) -> Self {
        let mut p = [("", ""); 4];
        let n = parts.len().min(4);
        p[..n].copy_from_slice(&parts[..n]);
        Feature { parts: p, n }
    }

    /// The parts.
    pub fn parts(&self) -> &[(&'a str, &'a str)] {
        &self.parts[..self.n]
    }

    /// FNV-1a over the parts (stable across builds and platforms).
    pub fn hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: u8| {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        for (k, v) in self.parts() {
            for &b in k.as_bytes() {
                eat(b);
            }
            eat(0x1f);
            for &b in v.as_bytes() {
                eat(b);
            }
            eat(0x1e);
        }
        h
    }

    /// The name of a feature given by its parts.
    pub fn name_of(parts: &[(&str, &str)]) -> String {
        Feature::new(parts).name()
    }

    /// The name in plain words: `payer=PAYER_A × code=70551 × prior_auth=no`.
    pub fn name(&self) -> String {
        self.parts()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" × ")
    }
}

const POS: [&str; 100] = {
    let mut t = [""; 100];
    let digits = [
        "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
        "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
        "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44",
        "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59",
        "60", "61", "62", "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74",
        "75", "76", "77", "78", "79", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89",
        "90", "91", "92", "93", "94", "95", "96", "97", "98", "99",
    ];
    let mut i = 0;
    while i < 100 {
        t[i] = digits[i];
        i += 1;
    }
    t
};

const LINES: [&str; 7] = ["0", "1", "2", "3", "4", "5", "6+"];

/// Calls `emit` with every feature of the claim (binary features, value 1).
pub fn for_each_feature<'a>(c: &ClaimView<'a>, mut emit: impl FnMut(Feature<'a>)) {
    let f = |p: &[(&'a str, &'a str)]| Feature::new(p);
    let payer = ("payer", c.payer);
    let pos = ("pos", POS[usize::from(c.place_of_service.min(99))]);
    let pa = ("prior_auth", if c.prior_auth { "yes" } else { "no" });
    let lag = ("submitted", lag_bucket(c.lag_days));
    emit(f(&[("bias", "1")]));
    emit(f(&[payer]));
    emit(f(&[("provider", c.provider)]));
    emit(f(&[pos]));
    emit(f(&[(
        "claim_type",
        if c.institutional { "837I" } else { "837P" },
    )]));
    emit(f(&[("lines", LINES[c.lines.len().min(6)])]));
    emit(f(&[("charge", charge_bucket(c.charge_cents))]));
    emit(f(&[lag]));
    emit(f(&[payer, lag]));
    emit(f(&[pa]));
    emit(f(&[payer, ("provider", c.provider)]));
    emit(f(&[payer, pos]));
    for (i, l) in c.lines.iter().enumerate() {
        let code = ("code", l.code);
        let mods = if l.modifiers.is_empty() {
            vec!["none"]
        } else {
            l.modifiers.clone()
        };
        let units = ("units", units_bucket(l.units));
        emit(f(&[code]));
        emit(f(&[payer, code]));
        emit(f(&[payer, code, pa]));
        emit(f(&[units]));
        emit(f(&[payer, code, units]));
        emit(f(&[payer, code, pos]));
        for &m in &mods {
            let m = ("modifier", m);
            emit(f(&[m]));
            emit(f(&[code, m]));
            emit(f(&[payer, code, m]));
        }
        if let Some(&dx) = c.diagnoses.get(l.dx_pointer) {
            emit(f(&[("dx", dx), code]));
            emit(f(&[payer, ("dx", dx), code]));
        }
        if let Some(&first) = c.diagnoses.first() {
            emit(f(&[("first_dx", first), code]));
        }
        // What else is billed on the same claim, with this line's modifiers.
        for (j, other) in c.lines.iter().enumerate() {
            if i != j && other.code != l.code {
                for &m in &mods {
                    emit(f(&[
                        payer,
                        code,
                        ("modifier", m),
                        ("with_code", other.code),
                    ]));
                }
            }
        }
    }
}

/// The hashes of every feature of the claim into `out` (cleared first).
pub fn hashes(c: &ClaimView<'_>, out: &mut Vec<u64>) {
    out.clear();
    for_each_feature(c, |f| out.push(f.hash()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> ClaimView<'static> {
        ClaimView {
            payer: "PAYER_A",
            provider: "1234567893",
            place_of_service: 11,
            institutional: false,
            prior_auth: false,
            lag_days: 3,
            charge_cents: 150_000,
            diagnoses: vec!["G43909"],
            lines: vec![LineView {
                code: "70551",
                modifiers: vec![],
                units: 1,
                dx_pointer: 0,
            }],
        }
    }

    #[test]
    fn names_read_as_plain_words() {
        let mut names = Vec::new();
        for_each_feature(&view(), |f| names.push(f.name()));
        assert!(names.contains(&"payer=PAYER_A × code=70551 × prior_auth=no".to_string()));
        assert!(names.contains(&"dx=G43909 × code=70551".to_string()));
        assert!(names.contains(&"charge=$1k-2k".to_string()));
        assert!(names.contains(&"submitted=0-7d".to_string()));
        assert!(names.contains(&"pos=11".to_string()));
    }

    #[test]
    fn hashes_are_stable_and_distinct() {
        let a = Feature::new(&[("payer", "A"), ("code", "1")]);
        let b = Feature::new(&[("payer", "A1"), ("code", "")]);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(
            a.hash(),
            Feature::new(&[("payer", "A"), ("code", "1")]).hash()
        );
    }

    #[test]
    fn buckets() {
        assert_eq!(lag_bucket(0), "0-7d");
        assert_eq!(lag_bucket(91), "91-120d");
        assert_eq!(lag_bucket(400), "over-365d");
        assert_eq!(charge_bucket(3_100), "<$32");
        assert_eq!(charge_bucket(3_200), "$32-64");
        assert_eq!(charge_bucket(1_000_000), ">$4k");
    }
}
