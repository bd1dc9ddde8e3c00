//! MEAT support for HCC diagnoses: **M**onitor, **E**valuate,
//! **A**ssess/address, **T**reat evidence found in the note.
//!
//! For each coded diagnosis that maps to an HCC ([`HccLookup`]), the
//! sentences that mention the condition are collected: the coder's own
//! evidence spans, the condition's names, medications and tests from our
//! [`lexicon`](crate::lexicon), and for conditions outside the lexicon the
//! words of the evidence itself. In those sentences cues are matched:
//!
//! - Monitor: status and course words ("stable", "worsening", "well
//!   controlled"), symptoms, readings;
//! - Evaluate: tests of the condition (HbA1c, BNP, eGFR, spirometry …),
//!   "reviewed", "labs", exam findings;
//! - Assess: "assessment", "status", "counseled", "discussed", and an
//!   entry of the Assessment / A&P section that says more than the name;
//! - Treat: medications for the condition, "continue", "start", "increase",
//!   "refer", dose changes, plan items.
//!
//! Rules: sentences in past medical/surgical history, family and social
//! history, allergies, the medication list and the problem list never give
//! MEAT (a listed condition or drug is not evidence that this encounter
//! addressed it); a Treat or Evaluate cue that the context analyser finds
//! negated or hypothetical ("no insulin") does not count. A diagnosis is
//! *supported* with at least one element, flagged "supported — verify" for
//! the auditor; otherwise "unsupported — do not submit" with the reason.

use medledger_text::SectionKind;
use serde::Serialize;

use crate::hcc::{CodedDiagnosis, HccLookup, HccRef};
use crate::lexicon::{condition_for, find_term};
use crate::note::Note;

/// A MEAT element kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeatKind {
    Monitor,
    Evaluate,
    Assess,
    Treat,
}

/// One piece of MEAT evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeatElement {
    pub kind: MeatKind,
    /// Which cue matched ("status: stable", "medication: metformin",
    /// "assessment entry").
    pub cue: String,
    /// Code points from the start of the note, end exclusive.
    pub start: usize,
    pub end: usize,
    /// The note's text at [start, end), verbatim.
    pub text: String,
    pub section: SectionKind,
}

/// Where the diagnosis is mentioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub section: SectionKind,
}

/// The verdict for one HCC diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    Supported,
    Unsupported,
}

/// MEAT for one HCC-mapped diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeatResult {
    pub code: String,
    pub hccs: Vec<HccRef>,
    /// Our lexicon's condition family, if any.
    pub condition: Option<&'static str>,
    pub support: Support,
    /// "supported — verify" or "unsupported — do not submit".
    pub flag: &'static str,
    /// Why it is unsupported.
    pub reason: Option<String>,
    pub elements: Vec<MeatElement>,
    pub mentions: Vec<Mention>,
}

/// Errors of the MEAT analysis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeatError {
    /// An evidence span does not fit the note.
    #[error(
        "{code}: evidence span {start}..{end} (code points) is outside the note ({chars} code points)"
    )]
    EvidenceOutOfRange {
        code: String,
        start: usize,
        end: usize,
        chars: usize,
    },
}

const MONITOR: &[&str] = &[
    "stable",
    "unstable",
    "worsening",
    "worse",
    "worsened",
    "improving",
    "improved",
    "better",
    "controlled",
    "uncontrolled",
    "well controlled",
    "poorly controlled",
    "progressing",
    "progression",
    "exacerbation",
    "flare",
    "symptoms",
    "symptomatic",
    "asymptomatic",
    "shortness of breath",
    "dyspnea",
    "orthopnea",
    "fatigue",
    "blood pressure",
    "weight gain",
    "at goal",
    "not at goal",
];
const EVALUATE: &[&str] = &[
    "reviewed",
    "review of",
    "results",
    "result",
    "labs",
    "lab",
    "on exam",
    "exam",
    "examination",
    "imaging",
    "x-ray",
    "ordered",
];
const ASSESS: &[&str] = &[
    "assessment",
    "assessed",
    "status",
    "counseled",
    "counselled",
    "counseling",
    "discussed",
    "education",
    "educated",
    "consistent with",
    "secondary to",
    "due to",
];
const TREAT: &[&str] = &[
    "continue",
    "continued",
    "start",
    "started",
    "restart",
    "increase",
    "increased",
    "decrease",
    "decreased",
    "titrate",
    "adjust",
    "refer",
    "referred",
    "referral",
    "prescribed",
    "prescribe",
    "dose",
    "discontinue",
    "stop",
    "mg",
];

fn excluded(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::PastMedicalHistory
            | SectionKind::PastSurgicalHistory
            | SectionKind::FamilyHistory
            | SectionKind::SocialHistory
            | SectionKind::Allergies
            | SectionKind::Medications
            | SectionKind::Diagnoses
    )
}

fn where_only(kinds: &[SectionKind]) -> String {
    let mut names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            SectionKind::PastMedicalHistory | SectionKind::PastSurgicalHistory => {
                "past medical history"
            }
            SectionKind::Diagnoses => "the problem list",
            SectionKind::Medications => "the medication list",
            SectionKind::FamilyHistory => "family history",
            SectionKind::SocialHistory => "social history",
            _ => "allergies",
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    format!("mentioned only in {}", names.join(" and "))
}

/// Finds MEAT evidence for every diagnosis that maps to an HCC; diagnoses
/// with no HCC are left out.
pub fn analyze(
    text: &str,
    diagnoses: &[CodedDiagnosis],
    hcc: &dyn HccLookup,
) -> Result<Vec<MeatResult>, MeatError> {
    let note = Note::new(text);
    let mut out = Vec::new();
    for dx in diagnoses {
        let hccs = hcc.hccs(&dx.code);
        if hccs.is_empty() {
            continue;
        }
        out.push(one(&note, dx, hccs)?);
    }
    Ok(out)
}

/// A term hit: byte span, what kind of term.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hit {
    Name,
    Drug,
    Test,
}

fn one(note: &Note<'_>, dx: &CodedDiagnosis, hccs: Vec<HccRef>) -> Result<MeatResult, MeatError> {
    let cond = condition_for(&dx.code);
    // Evidence spans → bytes.
    let mut hits: Vec<(usize, usize, Hit, String)> = Vec::new();
    let mut evidence_terms: Vec<String> = Vec::new();
    for sp in &dx.evidence {
        let (Some(s), Some(e)) = (note.byte(sp.start), note.byte(sp.end)) else {
            return Err(MeatError::EvidenceOutOfRange {
                code: dx.code.clone(),
                start: sp.start,
                end: sp.end,
                chars: note.chars.total_chars(),
            });
        };
        if s >= e {
            continue;
        }
        hits.push((s, e, Hit::Name, "coded evidence".into()));
        let t = note.lower[s..e].trim().to_string();
        if !t.is_empty() {
            evidence_terms.push(t);
        }
    }
    let mut add = |terms: &mut dyn Iterator<Item = &str>, kind: Hit, label: &str| {
        for t in terms {
            for (s, e) in find_term(&note.lower, t) {
                hits.push((s, e, kind, format!("{label}: {t}")));
            }
        }
    };
    if let Some(c) = cond {
        add(&mut c.terms.iter().copied(), Hit::Name, "name");
        add(&mut c.drugs.iter().copied(), Hit::Drug, "medication");
        add(&mut c.tests.iter().copied(), Hit::Test, "test");
    }
    add(
        &mut evidence_terms.iter().map(String::as_str),
        Hit::Name,
        "name",
    );
    hits.sort_by_key(|h| (h.0, std::cmp::Reverse(h.1)));
    hits.dedup_by(|b, a| a.0 <= b.0 && b.1 <= a.1 && a.2 == b.2);

    let mut mentions = Vec::new();
    let mut elements: Vec<MeatElement> = Vec::new();
    let mut sentences: Vec<usize> = Vec::new();
    let mut excluded_kinds = Vec::new();
    for &(s, e, kind, ref label) in &hits {
        let section = note.section_kind(s);
        if kind == Hit::Name {
            mentions.push(Mention {
                start: note.cp(s),
                end: note.cp(e),
                text: note.slice(s, e).to_string(),
                section,
            });
        }
        if excluded(section) {
            excluded_kinds.push(section);
            continue;
        }
        let Some(si) = note.sentence_of(s) else {
            continue;
        };
        if !sentences.contains(&si) {
            sentences.push(si);
        }
        let elem_kind = match kind {
            Hit::Name => continue,
            Hit::Drug => MeatKind::Treat,
            Hit::Test => MeatKind::Evaluate,
        };
        if note.is_negated(si, s, e) {
            continue;
        }
        elements.push(element(note, elem_kind, label.clone(), s, e, section));
    }
    mentions.dedup();
    sentences.sort_unstable();
    for &si in &sentences {
        let sent = &note.sentences[si];
        let section = note.section_kind(sent.start);
        let lower = &note.lower[sent.start..sent.end];
        for (cues, kind) in [
            (MONITOR, MeatKind::Monitor),
            (EVALUATE, MeatKind::Evaluate),
            (ASSESS, MeatKind::Assess),
            (TREAT, MeatKind::Treat),
        ] {
            for cue in cues {
                for (a, b) in find_term(lower, cue) {
                    let (s, e) = (sent.start + a, sent.start + b);
                    if matches!(kind, MeatKind::Treat | MeatKind::Evaluate)
                        && note.is_negated(si, s, e)
                    {
                        continue;
                    }
                    elements.push(element(note, kind, format!("cue: {cue}"), s, e, section));
                }
            }
        }
        if matches!(
            section,
            SectionKind::Assessment | SectionKind::AssessmentPlan
        ) {
            // An assessment entry that says more than the condition's name:
            // at least two words outside the name.
            let names: Vec<(usize, usize)> = hits
                .iter()
                .filter(|h| h.2 == Hit::Name && h.0 >= sent.start && h.1 <= sent.end)
                .map(|h| (h.0, h.1))
                .collect();
            let other_words = note.tokens[sent.tokens.clone()]
                .iter()
                .filter(|t| t.lower.chars().any(char::is_alphabetic))
                .filter(|t| !names.iter().any(|&(a, b)| a <= t.start && t.end <= b))
                .count();
            if !names.is_empty() && other_words >= 2 {
                elements.push(element(
                    note,
                    MeatKind::Assess,
                    "assessment entry".into(),
                    sent.start,
                    sent.end,
                    section,
                ));
            }
        }
    }
    elements.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end), m.kind));
    // A shorter cue inside a longer one of the same kind ("controlled" in
    // "well controlled") is the same evidence.
    let mut kept: Vec<MeatElement> = Vec::new();
    for m in elements {
        if !kept
            .iter()
            .any(|k| k.kind == m.kind && k.start <= m.start && m.end <= k.end)
        {
            kept.push(m);
        }
    }
    let supported = !kept.is_empty();
    let reason = (!supported).then(|| {
        if sentences.is_empty() && !excluded_kinds.is_empty() {
            where_only(&excluded_kinds)
        } else if sentences.is_empty() {
            "no mention of the condition found in the note".to_string()
        } else {
            "mentioned without monitoring, evaluation, assessment or treatment".to_string()
        }
    });
    Ok(MeatResult {
        code: dx.code.clone(),
        hccs,
        condition: cond.map(|c| c.id),
        support: if supported {
            Support::Supported
        } else {
            Support::Unsupported
        },
        flag: if supported {
            "supported — verify"
        } else {
            "unsupported — do not submit"
        },
        reason,
        elements: kept,
        mentions,
    })
}

fn element(
    note: &Note<'_>,
    kind: MeatKind,
    cue: String,
    s: usize,
    e: usize,
    section: SectionKind,
) -> MeatElement {
    MeatElement {
        kind,
        cue,
        start: note.cp(s),
        end: note.cp(e),
        text: note.slice(s, e).to_string(),
        section,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hcc::HccTable;

    fn table() -> HccTable {
        let mut t = HccTable::new("t");
        t.insert("E11.9", "38");
        t
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,120}", a in 0usize..130, b in 0usize..130) {
            let dx = [CodedDiagnosis::new("E11.9", &[(a.min(b), a.max(b))])];
            let _ = analyze(&text, &dx, &table());
        }
    }
}
