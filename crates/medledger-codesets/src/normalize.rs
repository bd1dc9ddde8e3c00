//! Code normalisation and code-system recognition.
//!
//! Users type codes with or without dots, in any case, with stray spaces
//! ("e11.9", " E119 ", "S52.521a"). Everything inside the engine works on a
//! *key*: upper case, no dots, no whitespace. Display forms put the dot back
//! where each system has it.

use serde::{Deserialize, Serialize};

/// The code systems the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    #[serde(rename = "icd10cm")]
    Icd10Cm,
    #[serde(rename = "icd11")]
    Icd11,
    Hcpcs,
    Cpt,
}

impl System {
    pub fn as_str(self) -> &'static str {
        match self {
            System::Icd10Cm => "icd10cm",
            System::Icd11 => "icd11",
            System::Hcpcs => "hcpcs",
            System::Cpt => "cpt",
        }
    }

    pub fn parse(s: &str) -> Option<System> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "icd10cm" | "icd10" => Some(System::Icd10Cm),
            "icd11" | "icd11mms" => Some(System::Icd11),
            "hcpcs" | "hcpcs2" | "hcpcsii" => Some(System::Hcpcs),
            "cpt" => Some(System::Cpt),
            _ => None,
        }
    }
}

impl std::fmt::Display for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Upper case, dots and whitespace removed. Other characters are kept so
/// that validation can report them.
pub fn key(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_uppercase)
        .collect()
}

/// ICD-10-CM display form: a dot after the third character when the key is
/// longer than three characters ("E119" -> "E11.9").
pub fn icd10cm_display(key: &str) -> String {
    if key.len() > 3 && key.is_ascii() {
        format!("{}.{}", &key[..3], &key[3..])
    } else {
        key.to_string()
    }
}

/// ICD-11 display form: a dot after the fourth character ("BA00Z" -> "BA00.Z").
pub fn icd11_display(key: &str) -> String {
    if key.len() > 4 && key.is_ascii() {
        format!("{}.{}", &key[..4], &key[4..])
    } else {
        key.to_string()
    }
}

/// Display form of a key in a system.
pub fn display(system: System, key: &str) -> String {
    match system {
        System::Icd10Cm => icd10cm_display(key),
        System::Icd11 => icd11_display(key),
        System::Hcpcs | System::Cpt => key.to_string(),
    }
}

/// Does the key have the shape of an ICD-10-CM code (a letter, then two
/// alphanumerics, then up to four more)? The second character is a digit
/// except in the few letter categories such as QA0 (FY2026).
pub fn looks_icd10cm(key: &str) -> bool {
    let b = key.as_bytes();
    (3..=7).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && (b[1].is_ascii_digit() || (b[1].is_ascii_uppercase() && b[2].is_ascii_digit()))
        && b[2].is_ascii_alphanumeric()
        && b[3..].iter().all(u8::is_ascii_alphanumeric)
}

/// Does the key have the shape of an ICD-11 MMS stem code (second character
/// is a letter: "1A00", "BA00", "5A11", with an optional extension after the
/// fourth character)?
pub fn looks_icd11(key: &str) -> bool {
    let b = key.as_bytes();
    (4..=6).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3..].iter().all(u8::is_ascii_alphanumeric)
}

/// HCPCS Level II: one letter and four digits ("G0552"), or a two-character
/// Level II modifier ("GT").
pub fn looks_hcpcs(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
}

/// CPT: five digits, or four digits followed by F, T, U or M (category II,
/// III, PLA and MAAA codes).
pub fn looks_cpt(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 5
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b[4].is_ascii_digit() || matches!(b[4], b'F' | b'T' | b'U' | b'M'))
}

/// The systems a raw code could belong to, most likely first. A dotted code
/// is never HCPCS or CPT.
pub fn candidate_systems(raw: &str) -> Vec<System> {
    let k = key(raw);
    let dotted = raw.contains('.');
    let mut out = Vec::new();
    if looks_icd10cm(&k) {
        out.push(System::Icd10Cm);
    }
    if looks_icd11(&k) {
        out.push(System::Icd11);
    }
    if !dotted && looks_hcpcs(&k) {
        // An undotted letter+4 digits is HCPCS first (G0552), ICD-10-CM second.
        out.insert(0, System::Hcpcs);
    }
    if !dotted && looks_cpt(&k) {
        out.push(System::Cpt);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_and_display() {
        assert_eq!(key(" e11.9 "), "E119");
        assert_eq!(key("S52.521a"), "S52521A");
        assert_eq!(icd10cm_display("E119"), "E11.9");
        assert_eq!(icd10cm_display("E11"), "E11");
        assert_eq!(icd11_display("BA00Z"), "BA00.Z");
        assert_eq!(icd11_display("5A11"), "5A11");
    }

    #[test]
    fn systems_are_told_apart() {
        assert_eq!(candidate_systems("E11.9"), vec![System::Icd10Cm]);
        assert_eq!(
            candidate_systems("G0552"),
            vec![System::Hcpcs, System::Icd10Cm]
        );
        assert_eq!(candidate_systems("5A11"), vec![System::Icd11]);
        assert_eq!(candidate_systems("QA0"), vec![System::Icd10Cm]);
        assert_eq!(
            candidate_systems("BA00"),
            vec![System::Icd10Cm, System::Icd11]
        );
        assert_eq!(candidate_systems("99213"), vec![System::Cpt]);
        assert_eq!(candidate_systems("0001U"), vec![System::Cpt]);
        assert!(candidate_systems("hello world").is_empty());
    }

    proptest! {
        #[test]
        fn key_is_idempotent(raw in "\\PC{0,20}") {
            let once = key(&raw);
            prop_assert_eq!(key(&once), once.clone());
        }

        #[test]
        fn dots_case_and_whitespace_do_not_matter(
            code in "[A-Z][0-9][0-9A-Z]([0-9A-Z]{1,4})?",
            lower in any::<bool>(),
            pad in "[ \t]{0,3}",
        ) {
            let dotted = icd10cm_display(&code);
            let typed = if lower { dotted.to_lowercase() } else { dotted.clone() };
            let typed = format!("{pad}{typed}{pad}");
            prop_assert_eq!(key(&typed), code.clone());
            prop_assert!(looks_icd10cm(&key(&typed)));
            prop_assert_eq!(icd10cm_display(&key(&typed)), dotted);
        }

        #[test]
        fn display_round_trips_through_key(code in "[A-Z0-9]{1,7}") {
            for system in [System::Icd10Cm, System::Icd11, System::Hcpcs, System::Cpt] {
                prop_assert_eq!(key(&display(system, &code)), code.clone());
            }
        }
    }
}
