//! What this crate needs from an HCC model, and the coded diagnoses it reads.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One HCC a diagnosis maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HccRef {
    /// The HCC as the model names it ("38", "HCC38").
    pub hcc: String,
    /// The model ("CMS-HCC Model V28").
    pub model: String,
    /// A plain label when the model has one.
    pub label: Option<String>,
}

/// ICD-10-CM → HCC, as an HCC model answers it. The CMS-HCC crate
/// implements it; tests use [`HccTable`].
pub trait HccLookup {
    /// The HCCs an ICD-10-CM code (with or without its dot) maps to; empty
    /// when it maps to none.
    fn hccs(&self, dx: &str) -> Vec<HccRef>;
    /// Whether the HCC is a chronic condition (for recapture).
    fn is_chronic(&self, hcc: &str) -> bool;
}

/// A small in-memory HCC table: diagnosis key (no dot, upper case) → HCCs,
/// and the set of chronic HCCs.
#[derive(Debug, Clone, Default)]
pub struct HccTable {
    /// The model the rows belong to.
    pub model: String,
    map: BTreeMap<String, Vec<String>>,
    chronic: BTreeSet<String>,
}

/// Code key: no dot, no spaces, upper case.
pub fn dx_key(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

impl HccTable {
    /// An empty table for a model.
    pub fn new(model: &str) -> HccTable {
        HccTable {
            model: model.to_string(),
            ..HccTable::default()
        }
    }

    /// Adds a diagnosis → HCC row.
    pub fn insert(&mut self, dx: &str, hcc: &str) {
        let v = self.map.entry(dx_key(dx)).or_default();
        if !v.iter().any(|h| h == hcc) {
            v.push(hcc.to_string());
        }
    }

    /// Marks an HCC chronic.
    pub fn set_chronic(&mut self, hcc: &str) {
        self.chronic.insert(hcc.to_string());
    }

    /// Diagnoses mapped.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl HccLookup for HccTable {
    fn hccs(&self, dx: &str) -> Vec<HccRef> {
        self.map
            .get(&dx_key(dx))
            .map(|v| {
                v.iter()
                    .map(|h| HccRef {
                        hcc: h.clone(),
                        model: self.model.clone(),
                        label: None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_chronic(&self, hcc: &str) -> bool {
        self.chronic.contains(hcc)
    }
}

/// A span of the note in Unicode code points (end exclusive), as the coder
/// emits evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// A coded diagnosis: its ICD-10-CM code and the spans of its evidence
/// (`medledger_coder::Suggestion { code, evidence[].start/end }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodedDiagnosis {
    pub code: String,
    #[serde(default)]
    pub evidence: Vec<Span>,
}

impl CodedDiagnosis {
    /// A diagnosis with its evidence spans.
    pub fn new(code: &str, evidence: &[(usize, usize)]) -> CodedDiagnosis {
        CodedDiagnosis {
            code: code.to_string(),
            evidence: evidence
                .iter()
                .map(|&(start, end)| Span { start, end })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_answers_by_key() {
        let mut t = HccTable::new("test");
        t.insert("E11.9", "38");
        t.insert("E119", "38");
        t.set_chronic("38");
        assert_eq!(t.len(), 1);
        let h = t.hccs("e11.9");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].hcc, "38");
        assert!(t.is_chronic("38"));
        assert!(!t.is_chronic("99"));
        assert!(t.hccs("I10").is_empty());
    }
}
