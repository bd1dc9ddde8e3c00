//! Dual coding: ICD-10-CM → ICD-11 MMS through WHO's ICD-10 → ICD-11 maps.
//!
//! WHO's maps are keyed by WHO ICD-10 codes; ICD-10-CM extends WHO ICD-10
//! with more characters. A code is looked up as written, then at its WHO
//! ICD-10 ancestors (the 4-character subcategory, then the 3-character
//! category), and the result says which level matched. One-to-many maps are
//! returned as choices for the auditor, never reduced to one silently.

use medledger_codesets::Engine;
use medledger_codesets::engine::{MapResult, MapTarget};
use medledger_codesets::icd11_cluster::{ClusterError, ValidatedCluster, parse_and_validate};
use serde::Serialize;

use crate::hcc::dx_key;

/// Errors of dual coding.
#[derive(Debug, thiserror::Error)]
pub enum DualError {
    /// The WHO maps are not installed in the data directory.
    #[error("no WHO ICD-10/ICD-11 maps installed (codesets install)")]
    MapsNotInstalled,
    /// The code, and none of its WHO ICD-10 ancestors, is in the WHO map.
    #[error(
        "{code}: neither the code nor its 4- or 3-character WHO ICD-10 ancestor is in the WHO ICD-10 to ICD-11 map"
    )]
    NotCovered { code: String },
    /// The code is not an ICD-10-CM code shape.
    #[error("{code:?} is not an ICD-10-CM code")]
    NotIcd10Cm { code: String },
    /// The code-set engine failed.
    #[error(transparent)]
    Engine(#[from] medledger_codesets::Error),
}

/// At which WHO ICD-10 level the map was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchLevel {
    /// The ICD-10-CM code itself is a WHO ICD-10 code in the map.
    Code,
    /// Its 4-character WHO ICD-10 subcategory (E11.6 for E11.65).
    FourCharacter,
    /// Its 3-character WHO ICD-10 category (E11 for E11.649).
    ThreeCharacter,
}

/// One ICD-11 target as the map and the installed MMS release give it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Icd11Target {
    /// ICD-11 MMS code; WHO maps some rows to a block without a code.
    pub code: Option<String>,
    /// Title as printed in WHO's map.
    pub map_title: String,
    /// Title in the installed MMS release, when the code is there.
    pub mms_title: Option<String>,
    /// The map row's ICD-11 class kind (category, block …).
    pub kind: String,
    /// Linearization URI from the map.
    pub uri: Option<String>,
    /// Whether the installed release has the code and it is a leaf.
    pub is_leaf: Option<bool>,
    /// When WHO maps to a postcoordinated cluster ("1A3Y&XN316"): the
    /// cluster validated against the installed release, or why it failed.
    pub cluster: Option<Result<ValidatedCluster, ClusterError>>,
}

/// The ICD-11 side of one ICD-10-CM diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DualCoding {
    /// ICD-10-CM code (display form).
    pub icd10cm: String,
    /// The WHO ICD-10 code the map was read at.
    pub who_icd10: String,
    pub level: MatchLevel,
    /// WHO's equivalence annotation (foundation map) or "broader (via WHO
    /// ICD-10 ancestor)".
    pub equivalence: Option<String>,
    /// WHO's one-category map target.
    pub primary: Option<Icd11Target>,
    /// WHO's one-to-many targets: the auditor picks one (empty when the map
    /// has a single target).
    pub choices: Vec<Icd11Target>,
    /// True when `choices` holds more than one target.
    pub needs_choice: bool,
    /// The engine's note on how the map was read.
    pub note: String,
    pub maps_version: String,
    /// WHO's credit line.
    pub attribution: String,
}

fn icd10cm_shape(key: &str) -> bool {
    let b = key.as_bytes();
    (3..=7).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter().all(u8::is_ascii_alphanumeric)
}

fn display(key: &str) -> String {
    match key.get(3..) {
        Some(rest) if !rest.is_empty() => format!("{}.{rest}", &key[..3]),
        _ => key.to_string(),
    }
}

/// Maps one ICD-10-CM code to ICD-11 MMS.
pub fn dual_code(engine: &Engine, icd10cm: &str) -> Result<DualCoding, DualError> {
    let key = dx_key(icd10cm);
    if !icd10cm_shape(&key) {
        return Err(DualError::NotIcd10Cm {
            code: icd10cm.to_string(),
        });
    }
    if engine.who_maps()?.is_none() {
        return Err(DualError::MapsNotInstalled);
    }
    let Some(m) = engine.map_icd10cm_to_icd11(&key)? else {
        return Err(DualError::NotCovered {
            code: display(&key),
        });
    };
    let release = engine.icd11()?.map(|(_, r)| r);
    Ok(from_map(&key, m, release.as_deref()))
}

fn target(t: MapTarget, release: Option<&medledger_codesets::icd11::Icd11Release>) -> Icd11Target {
    let is_cluster = t.code.as_deref().is_some_and(|c| c.contains(['&', '/']));
    let cluster = match (is_cluster, t.code.as_deref(), release) {
        (true, Some(c), Some(r)) => Some(parse_and_validate(c, r)),
        _ => None,
    };
    // A cluster's entity is its first stem.
    let stem = t
        .code
        .as_deref()
        .map(|c| c.split(['&', '/']).next().unwrap_or(c));
    let entity = stem.and_then(|c| release.and_then(|r| r.get(c)));
    Icd11Target {
        cluster,
        mms_title: entity.map(|e| e.title.clone()),
        is_leaf: entity.map(|e| e.is_leaf),
        code: t.code,
        map_title: t.title,
        kind: t.kind,
        uri: t.uri,
    }
}

fn from_map(
    key: &str,
    m: MapResult,
    release: Option<&medledger_codesets::icd11::Icd11Release>,
) -> DualCoding {
    let who = m
        .via
        .clone()
        .map(|v| dx_key(&v))
        .unwrap_or_else(|| key.to_string());
    let level = if who.len() == key.len() {
        MatchLevel::Code
    } else if who.len() >= 4 {
        MatchLevel::FourCharacter
    } else {
        MatchLevel::ThreeCharacter
    };
    let choices: Vec<Icd11Target> = m.choices.into_iter().map(|t| target(t, release)).collect();
    DualCoding {
        icd10cm: display(key),
        who_icd10: display(&who),
        level,
        equivalence: m.equivalence,
        primary: m.primary.map(|t| target(t, release)),
        needs_choice: choices.len() > 1,
        choices,
        note: m.note,
        maps_version: m.maps_version,
        attribution: m.attribution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medledger_codesets::System;

    fn t(code: &str) -> MapTarget {
        MapTarget {
            code: Some(code.to_string()),
            title: format!("title {code}"),
            kind: "category".into(),
            uri: None,
            in_icd10cm: None,
            icd10cm_billable: None,
        }
    }

    fn result(via: Option<&str>, choices: Vec<MapTarget>) -> MapResult {
        MapResult {
            from: "E11.649".into(),
            from_system: System::Icd10Cm,
            to_system: System::Icd11,
            via: via.map(str::to_string),
            equivalence: None,
            primary: Some(t("5A11")),
            choices,
            maps_version: "2024-01".into(),
            note: String::new(),
            attribution: String::new(),
        }
    }

    #[test]
    fn levels_and_choices() {
        let d = from_map("E11649", result(Some("E11.6"), vec![]), None);
        assert_eq!(d.level, MatchLevel::FourCharacter);
        assert_eq!(d.who_icd10, "E11.6");
        assert!(!d.needs_choice);
        let d = from_map(
            "E11649",
            result(Some("E11"), vec![t("5A11"), t("5A14")]),
            None,
        );
        assert_eq!(d.level, MatchLevel::ThreeCharacter);
        assert!(d.needs_choice);
        assert_eq!(d.choices.len(), 2);
        let d = from_map("E119", result(None, vec![]), None);
        assert_eq!((d.level, d.icd10cm.as_str()), (MatchLevel::Code, "E11.9"));
    }

    #[test]
    fn shapes() {
        assert!(icd10cm_shape("E119"));
        assert!(icd10cm_shape("S72001A"));
        assert!(!icd10cm_shape("5A11"));
        assert!(!icd10cm_shape("E1"));
        assert!(!icd10cm_shape("E11-E13"));
        // ICD-10-CM 2026 has letter-second codes (QA0.0101).
        assert!(icd10cm_shape("QA00101"));
    }
}
