//! Care gaps: documented findings with no corresponding diagnosis and no
//! plan addressing them, and chronic HCCs of the prior year not recaptured.
//!
//! Findings are read from the note (number parsing with spans) or given as
//! FHIR-style observations (LOINC code + value). Rules (thresholds):
//!
//! | finding | gap when | suggests |
//! |---|---|---|
//! | BMI (39156-5) | ≥ 30, adult (age ≥ 20 or unknown), not pregnant | obesity E66.x with BMI Z68.30–Z68.45 |
//! | HbA1c (4548-4, 17856-6) | ≥ 6.5 % | diabetes E08–E13 |
//! | HbA1c | 5.7–6.4 % | prediabetes R73.03 |
//! | eGFR (62238-1, 33914-3, 98979-8) | < 60 | CKD N18.x, stage from the value |
//! | PHQ-9 (44261-6) | ≥ 10 | depression F32/F33 |
//! | BP (8480-6 / 8462-4) | ≥ 140 systolic or ≥ 90 diastolic | hypertension I10 |
//! | AUDIT-C, depression, fall-risk screen | "positive" | alcohol use F10.x, depression F32/F33, fall risk Z91.81 |
//!
//! A finding is no gap when a coded diagnosis is in its family, or when a
//! sentence of the Assessment, Plan or A&P section other than the finding's
//! own names it (its words, not negated). Findings in family or social history are not the patient's.
//! **Pregnancy:** BMI findings raise no gap for a pregnant patient (adult
//! BMI categories and the Z68 BMI codes do not apply in pregnancy): pregnant
//! when the caller says so, when a coded diagnosis is in chapter O or Z3A,
//! or when the note affirms "pregnant"/"pregnancy"/"weeks gestation"
//! outside family history.
//!
//! Queries present the finding, ask for its clinical significance and offer
//! "other" and "unable to determine"; they never name a diagnosis to add.

use std::sync::OnceLock;

use medledger_codesets::Date;
use medledger_text::SectionKind;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::hcc::{HccLookup, HccRef, dx_key};
use crate::lexicon::find_term;
use crate::note::Note;

/// A FHIR-style observation: LOINC code and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The observation's id (FHIR `Observation.id`).
    pub id: String,
    /// LOINC code ("39156-5").
    pub code: String,
    pub value: f64,
    #[serde(default)]
    pub unit: Option<String>,
}

/// A code coded in an earlier encounter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorCode {
    pub code: String,
    pub date: Date,
}

/// What the caller knows about the patient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patient {
    pub age: Option<u16>,
    /// `None`: decide from the note and the codes.
    pub pregnant: Option<bool>,
}

/// The measure a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Bmi,
    Hba1c,
    Egfr,
    Phq9,
    BloodPressure,
    AuditC,
    DepressionScreen,
    FallRiskScreen,
}

impl Measure {
    fn label(self) -> &'static str {
        match self {
            Measure::Bmi => "BMI",
            Measure::Hba1c => "HbA1c",
            Measure::Egfr => "eGFR",
            Measure::Phq9 => "PHQ-9",
            Measure::BloodPressure => "blood pressure",
            Measure::AuditC => "AUDIT-C screen",
            Measure::DepressionScreen => "depression screen",
            Measure::FallRiskScreen => "fall risk screen",
        }
    }
}

/// Where a finding was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum FindingSource {
    /// A note span in code points, verbatim text.
    Note {
        start: usize,
        end: usize,
        text: String,
    },
    /// An observation by id.
    Observation { id: String },
}

/// One documented finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub measure: Measure,
    /// The value (systolic for blood pressure; 1 for a positive screen).
    pub value: f64,
    /// Diastolic for blood pressure.
    pub second: Option<f64>,
    pub source: FindingSource,
}

/// The diagnosis family a gap suggests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggests {
    pub family: &'static str,
    /// ICD-10-CM codes or ranges, plain ("N18.32").
    pub codes: String,
}

/// Kind of gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    Finding,
    Recapture,
}

/// A care gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub kind: GapKind,
    /// The finding (for finding gaps).
    pub finding: Option<Finding>,
    /// The prior-year code and its HCCs (for recapture gaps).
    pub prior: Option<PriorCode>,
    pub hccs: Vec<HccRef>,
    pub suggests: Suggests,
    /// A provider query in neutral words.
    pub query: String,
}

fn num(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

struct Patterns {
    bmi: Regex,
    a1c: Regex,
    egfr: Regex,
    phq9: Regex,
    bp: Regex,
    screen: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let r = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("built-in pattern {s}: {e}"));
        Patterns {
            bmi: r(r"\b(?:bmi|body mass index)\b[^0-9\n]{0,20}?(\d{2}(?:\.\d+)?)"),
            a1c: r(r"\b(?:hba1c|hgba1c|hemoglobin a1c|a1c)\b[^0-9\n]{0,20}?(\d{1,2}(?:\.\d+)?)"),
            egfr: r(r"\b(?:egfr|gfr)\b[^0-9\n]{0,20}?(\d{1,3}(?:\.\d+)?)"),
            phq9: r(r"\bphq-?9\b[^0-9\n]{0,20}?(\d{1,2})\b"),
            bp: r(r"\b(?:bp|blood pressure)\b[^0-9\n]{0,15}?(\d{2,3})\s*/\s*(\d{2,3})\b"),
            screen: r(
                r"\b(?:(positive)\s+(?:for\s+)?(audit-c|depression|fall risk)(?:\s+screen(?:ing)?)?|(audit-c|depression|fall risk)(?:\s+screen(?:ing)?)?(?:\s+(?:is|was))?\s+(positive))\b",
            ),
        }
    })
}

/// Findings documented in the note text (family and social history
/// excluded).
fn note_findings(note: &Note<'_>) -> Vec<Finding> {
    let p = patterns();
    let lower = note.lower.as_str();
    let mut out = Vec::new();
    let mut push = |m: Measure, value: f64, second: Option<f64>, s: usize, e: usize| {
        if matches!(
            note.section_kind(s),
            SectionKind::FamilyHistory | SectionKind::SocialHistory
        ) {
            return;
        }
        out.push(Finding {
            measure: m,
            value,
            second,
            source: FindingSource::Note {
                start: note.cp(s),
                end: note.cp(e),
                text: note.slice(s, e).to_string(),
            },
        });
    };
    for (re, m) in [
        (&p.bmi, Measure::Bmi),
        (&p.a1c, Measure::Hba1c),
        (&p.egfr, Measure::Egfr),
        (&p.phq9, Measure::Phq9),
    ] {
        for c in re.captures_iter(lower) {
            let (Some(all), Some(v)) = (c.get(0), c.get(1)) else {
                continue;
            };
            let mut end = v.end();
            if m == Measure::Hba1c && lower[end..].starts_with('%') {
                end += 1;
            }
            if let Some(value) = num(v.as_str()) {
                push(m, value, None, all.start(), end);
            }
        }
    }
    for c in p.bp.captures_iter(lower) {
        let (Some(all), Some(s), Some(d)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        if let (Some(s), Some(d)) = (num(s.as_str()), num(d.as_str())) {
            push(Measure::BloodPressure, s, Some(d), all.start(), all.end());
        }
    }
    for c in p.screen.captures_iter(lower) {
        let Some(all) = c.get(0) else { continue };
        let which = c.get(2).or_else(|| c.get(3)).map(|m| m.as_str());
        let m = match which {
            Some("audit-c") => Measure::AuditC,
            Some("depression") => Measure::DepressionScreen,
            Some("fall risk") => Measure::FallRiskScreen,
            _ => continue,
        };
        push(m, 1.0, None, all.start(), all.end());
    }
    out.sort_by_key(|f| match &f.source {
        FindingSource::Note { start, .. } => *start,
        FindingSource::Observation { .. } => 0,
    });
    out
}

/// Errors of gap finding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GapError {
    /// An observation's LOINC code is not one this module reads.
    #[error(
        "observation {id:?}: LOINC {code} is not a finding this check reads (BMI 39156-5, HbA1c 4548-4/17856-6, eGFR 62238-1/33914-3/98979-8, PHQ-9 44261-6, BP 8480-6/8462-4)"
    )]
    UnknownLoinc { id: String, code: String },
    /// An observation's value is out of any plausible range.
    #[error("observation {id:?}: value {value} is not a plausible {measure}")]
    Implausible {
        id: String,
        value: f64,
        measure: &'static str,
    },
}

fn observation_findings(obs: &[Observation]) -> Result<Vec<Finding>, GapError> {
    let mut out = Vec::new();
    let mut systolic: Vec<&Observation> = Vec::new();
    let mut diastolic: Vec<&Observation> = Vec::new();
    for o in obs {
        let (m, range) = match o.code.trim() {
            "39156-5" => (Measure::Bmi, 5.0..=150.0),
            "4548-4" | "17856-6" => (Measure::Hba1c, 2.0..=25.0),
            "62238-1" | "33914-3" | "98979-8" => (Measure::Egfr, 0.0..=250.0),
            "44261-6" => (Measure::Phq9, 0.0..=27.0),
            "8480-6" => {
                systolic.push(o);
                (Measure::BloodPressure, 40.0..=300.0)
            }
            "8462-4" => {
                diastolic.push(o);
                (Measure::BloodPressure, 20.0..=200.0)
            }
            other => {
                return Err(GapError::UnknownLoinc {
                    id: o.id.clone(),
                    code: other.to_string(),
                });
            }
        };
        if !range.contains(&o.value) {
            return Err(GapError::Implausible {
                id: o.id.clone(),
                value: o.value,
                measure: m.label(),
            });
        }
        if m != Measure::BloodPressure {
            out.push(Finding {
                measure: m,
                value: o.value,
                second: None,
                source: FindingSource::Observation { id: o.id.clone() },
            });
        }
    }
    // Systolic and diastolic pair in order; an unpaired one stands alone.
    let n = systolic.len().max(diastolic.len());
    for i in 0..n {
        let s = systolic.get(i);
        let d = diastolic.get(i);
        let id = [s, d]
            .iter()
            .flatten()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>()
            .join("+");
        out.push(Finding {
            measure: Measure::BloodPressure,
            value: s.map(|o| o.value).unwrap_or(0.0),
            second: d.map(|o| o.value),
            source: FindingSource::Observation { id },
        });
    }
    Ok(out)
}

/// The family a finding suggests, or none when the value is unremarkable.
fn suggests(f: &Finding) -> Option<Suggests> {
    let s = |family, codes: &str| {
        Some(Suggests {
            family,
            codes: codes.to_string(),
        })
    };
    match f.measure {
        Measure::Bmi if f.value >= 30.0 => s("obesity", "E66.x with Z68.30–Z68.45"),
        Measure::Hba1c if f.value >= 6.5 => s("diabetes", "E08–E13"),
        Measure::Hba1c if f.value >= 5.7 => s("prediabetes", "R73.03"),
        Measure::Egfr if f.value < 60.0 => {
            let stage = if f.value >= 45.0 {
                "N18.31 (stage 3a)"
            } else if f.value >= 30.0 {
                "N18.32 (stage 3b)"
            } else if f.value >= 15.0 {
                "N18.4 (stage 4)"
            } else {
                "N18.5 (stage 5)"
            };
            s("chronic kidney disease", stage)
        }
        Measure::Phq9 if f.value >= 10.0 => s("depression", "F32–F33"),
        Measure::BloodPressure if f.value >= 140.0 || f.second.is_some_and(|d| d >= 90.0) => {
            s("hypertension", "I10")
        }
        Measure::AuditC => s("alcohol use", "F10.x"),
        Measure::DepressionScreen => s("depression", "F32–F33"),
        Measure::FallRiskScreen => s("fall risk", "Z91.81"),
        _ => None,
    }
}

/// Code prefixes that count as "diagnosis coded" for a family.
fn family_prefixes(family: &str) -> &'static [&'static str] {
    match family {
        "obesity" => &["E66", "Z683", "Z684"],
        "diabetes" => &["E08", "E09", "E10", "E11", "E13"],
        "prediabetes" => &["R730", "E08", "E09", "E10", "E11", "E13"],
        "chronic kidney disease" => &["N18", "I12", "I13"],
        "depression" => &["F32", "F33", "F341", "F31"],
        "hypertension" => &[
            "I10", "I11", "I12", "I13", "I15", "I16", "O10", "O11", "O13", "O16",
        ],
        "alcohol use" => &["F10"],
        "fall risk" => &["Z9181", "R296", "W0", "W1"],
        _ => &[],
    }
}

/// Words that, in an assessment or plan sentence, address a family.
fn family_words(family: &str) -> &'static [&'static str] {
    match family {
        "obesity" => &[
            "obesity",
            "obese",
            "weight loss",
            "weight management",
            "diet",
            "nutrition",
            "bmi",
        ],
        "diabetes" | "prediabetes" => &[
            "diabetes",
            "prediabetes",
            "a1c",
            "hba1c",
            "metformin",
            "glucose",
            "diet",
        ],
        "chronic kidney disease" => &["ckd", "kidney", "renal", "egfr", "gfr", "nephrology"],
        "depression" => &[
            "depression",
            "depressive",
            "mood",
            "phq-9",
            "phq",
            "sertraline",
            "behavioral health",
            "therapy",
        ],
        "hypertension" => &["hypertension", "htn", "blood pressure", "bp"],
        "alcohol use" => &["alcohol", "drinking", "audit-c"],
        "fall risk" => &["fall", "falls", "balance", "physical therapy"],
        _ => &[],
    }
}

fn coded_in(family: &str, coded: &[String]) -> bool {
    let prefixes = family_prefixes(family);
    coded
        .iter()
        .any(|c| prefixes.iter().any(|p| dx_key(c).starts_with(p)))
}

/// Whether an assessment/plan sentence other than the finding's own names
/// the family.
fn addressed_in_plan(note: &Note<'_>, family: &str, finding_sentence: Option<usize>) -> bool {
    note.sentences.iter().enumerate().any(|(si, s)| {
        Some(si) != finding_sentence
            && matches!(
                note.section_kind(s.start),
                SectionKind::Assessment | SectionKind::Plan | SectionKind::AssessmentPlan
            )
            && family_words(family).iter().any(|w| {
                find_term(&note.lower[s.start..s.end], w)
                    .into_iter()
                    .any(|(a, b)| !note.is_negated(si, s.start + a, s.start + b))
            })
    })
}

fn pregnant(note: &Note<'_>, coded: &[String], patient: &Patient) -> bool {
    if let Some(p) = patient.pregnant {
        return p;
    }
    if coded.iter().any(|c| {
        let k = dx_key(c);
        k.starts_with('O') || k.starts_with("Z3A") || k.starts_with("Z34")
    }) {
        return true;
    }
    [
        "pregnant",
        "pregnancy",
        "weeks gestation",
        "intrauterine pregnancy",
    ]
    .iter()
    .any(|w| {
        find_term(&note.lower, w).into_iter().any(|(a, b)| {
            note.section_kind(a) != SectionKind::FamilyHistory
                && note
                    .sentence_of(a)
                    .is_some_and(|si| !note.is_negated(si, a, b))
        })
    })
}

fn describe(f: &Finding) -> String {
    let v = |x: f64| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x}")
        }
    };
    match f.measure {
        Measure::BloodPressure => match f.second {
            Some(d) => format!("blood pressure {}/{}", v(f.value), v(d)),
            None => format!("systolic blood pressure {}", v(f.value)),
        },
        Measure::Hba1c => format!("HbA1c {}%", v(f.value)),
        Measure::AuditC | Measure::DepressionScreen | Measure::FallRiskScreen => {
            format!("a positive {}", f.measure.label())
        }
        m => format!("{} {}", m.label(), v(f.value)),
    }
}

fn query_for(f: &Finding) -> String {
    let where_ = match &f.source {
        FindingSource::Note { text, .. } => format!(" (documented as \"{text}\")"),
        FindingSource::Observation { id } => format!(" (observation {id})"),
    };
    format!(
        "The record for this encounter shows {}{where_}. Based on your clinical judgement, can you clarify the clinical significance of this finding, if any? Options: a related diagnosis (please document it) / clinically not significant / other (please specify) / unable to determine.",
        describe(f)
    )
}

/// Finding gaps of one note: findings from the text and from
/// `observations`, without a coded diagnosis of their family and without an
/// assessment/plan sentence addressing them.
pub fn finding_gaps(
    text: &str,
    coded: &[String],
    observations: &[Observation],
    patient: &Patient,
) -> Result<Vec<Gap>, GapError> {
    let note = Note::new(text);
    let mut findings = note_findings(&note);
    findings.extend(observation_findings(observations)?);
    let is_pregnant = pregnant(&note, coded, patient);
    let child = patient.age.is_some_and(|a| a < 20);
    let mut out = Vec::new();
    let mut families_seen: Vec<&'static str> = Vec::new();
    for f in findings {
        let Some(sug) = suggests(&f) else { continue };
        if f.measure == Measure::Bmi && (is_pregnant || child) {
            continue;
        }
        let own = match &f.source {
            FindingSource::Note { start, .. } => {
                note.byte(*start).and_then(|b| note.sentence_of(b))
            }
            FindingSource::Observation { .. } => None,
        };
        if coded_in(sug.family, coded) || addressed_in_plan(&note, sug.family, own) {
            continue;
        }
        // One gap per family: the first finding carries it.
        if families_seen.contains(&sug.family) {
            continue;
        }
        families_seen.push(sug.family);
        out.push(Gap {
            kind: GapKind::Finding,
            query: query_for(&f),
            finding: Some(f),
            prior: None,
            hccs: Vec::new(),
            suggests: sug,
        });
    }
    Ok(out)
}

/// Recapture gaps: codes of the calendar year before `dos` that map to a
/// chronic HCC, when no code of this year (`this_year`) maps to that HCC.
pub fn recapture_gaps(
    prior: &[PriorCode],
    this_year: &[String],
    dos: Date,
    hcc: &dyn HccLookup,
) -> Vec<Gap> {
    let current: Vec<String> = this_year
        .iter()
        .flat_map(|c| hcc.hccs(c))
        .map(|h| h.hcc)
        .collect();
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for p in prior {
        if p.date.year() != dos.year() - 1 {
            continue;
        }
        let chronic: Vec<HccRef> = hcc
            .hccs(&p.code)
            .into_iter()
            .filter(|h| hcc.is_chronic(&h.hcc) && !current.contains(&h.hcc))
            .collect();
        if chronic.is_empty() || chronic.iter().all(|h| seen.contains(&h.hcc)) {
            continue;
        }
        seen.extend(chronic.iter().map(|h| h.hcc.clone()));
        let hccs = chronic
            .iter()
            .map(|h| h.hcc.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Gap {
            kind: GapKind::Recapture,
            finding: None,
            query: format!(
                "{} was documented on {} (HCC {hccs}) and is not documented this year. If the condition was assessed at this encounter, please document its current status; otherwise no action is needed. Options: condition current (please document) / resolved / other (please specify) / unable to determine.",
                p.code, p.date
            ),
            prior: Some(p.clone()),
            hccs: chronic,
            suggests: Suggests {
                family: "recapture",
                codes: p.code.clone(),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let f = |measure, value, second| Finding {
            measure,
            value,
            second,
            source: FindingSource::Observation { id: "o".into() },
        };
        let fam = |x: Finding| suggests(&x).map(|s| (s.family, s.codes));
        assert_eq!(fam(f(Measure::Bmi, 29.9, None)), None);
        assert_eq!(
            fam(f(Measure::Bmi, 30.0, None)).map(|s| s.0),
            Some("obesity")
        );
        assert_eq!(
            fam(f(Measure::Hba1c, 6.4, None)).map(|s| s.0),
            Some("prediabetes")
        );
        assert_eq!(fam(f(Measure::Hba1c, 5.6, None)), None);
        assert_eq!(
            fam(f(Measure::Egfr, 44.0, None)).map(|s| s.1),
            Some("N18.32 (stage 3b)".to_string())
        );
        assert_eq!(fam(f(Measure::Egfr, 60.0, None)), None);
        assert_eq!(
            fam(f(Measure::BloodPressure, 128.0, Some(92.0))).map(|s| s.0),
            Some("hypertension")
        );
        assert_eq!(fam(f(Measure::BloodPressure, 139.0, Some(89.0))), None);
        assert_eq!(fam(f(Measure::Phq9, 9.0, None)), None);
    }

    #[test]
    fn observations_are_checked() {
        let o = |id: &str, code: &str, value| Observation {
            id: id.into(),
            code: code.into(),
            value,
            unit: None,
        };
        let err = observation_findings(&[o("x", "1234-5", 1.0)]).expect_err("unknown");
        assert!(
            err.to_string()
                .starts_with("observation \"x\": LOINC 1234-5"),
            "{err}"
        );
        let err = observation_findings(&[o("p", "44261-6", 40.0)]).expect_err("range");
        assert_eq!(
            err.to_string(),
            "observation \"p\": value 40 is not a plausible PHQ-9"
        );
        let f =
            observation_findings(&[o("s", "8480-6", 150.0), o("d", "8462-4", 85.0)]).expect("bp");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].second, Some(85.0));
        assert_eq!(f[0].source, FindingSource::Observation { id: "s+d".into() });
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = finding_gaps(&text, &[], &[], &Patient::default());
        }

        #[test]
        fn bmi_numbers_parse(v in 10u32..99, frac in 0u32..10) {
            let text = format!("Vitals: BMI {v}.{frac} today.");
            let note = Note::new(&text);
            let f = note_findings(&note);
            proptest::prop_assert_eq!(f.len(), 1);
            proptest::prop_assert!((f[0].value - (v as f64 + frac as f64 / 10.0)).abs() < 1e-9);
        }
    }
}
