//! Telehealth place of service and modifiers from the documented modality.
//!
//! The note is read for cues (audio-video, audio-only, telehealth without a
//! modality, in person, patient at home, patient at another site) with the
//! phrases from `rules/telehealth.toml`; a cue counts only when it is
//! affirmed (not negated, hypothetical, historical or uncertain, as the
//! ConText analyser of `medledger-text` judges it). The claim rules of the
//! same file, chosen by payer and date of service, then decide the POS
//! (02/10 by patient location, or the in-person POS) and the modifiers.

use std::sync::OnceLock;

use jiff::civil::Date;
use medledger_text::{CharIndex, ContextAnalyzer, sentences_and_sections, tokenize};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pla::{PhraseMatcher, leftmost_longest};
use crate::rules::{Evidence, RuleFileHeader, RuleMeta, invalid, parse_rule_file};

const BUILTIN_FILE: &str = "telehealth.toml";
const BUILTIN: &str = include_str!("../rules/telehealth.toml");

/// Largest note read, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Note cues (shared with the DMHT documentation check).

/// A phrase found in a note, with its assertion context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CueHit {
    /// Index of the phrase in the matcher.
    pub pattern: usize,
    pub evidence: Evidence,
    pub negated: bool,
    /// Not negated, uncertain, historical, hypothetical or about family.
    pub affirmed: bool,
}

fn analyzer() -> &'static ContextAnalyzer {
    static ANALYZER: OnceLock<ContextAnalyzer> = OnceLock::new();
    ANALYZER.get_or_init(ContextAnalyzer::new)
}

/// Finds `matcher`'s phrases in `note` (leftmost longest, within one
/// sentence) and judges each one's context.
pub(crate) fn find_cues(note: &str, matcher: &PhraseMatcher) -> Vec<CueHit> {
    let tokens = tokenize(note);
    let (sentences, sections) = sentences_and_sections(note, &tokens);
    let index = CharIndex::new(note);
    let mut out = Vec::new();
    for hit in leftmost_longest(matcher.find(&tokens)) {
        let at = sentences.partition_point(|s| s.tokens.end <= hit.first);
        let Some(sentence) = sentences.get(at) else {
            continue;
        };
        if !sentence.tokens.contains(&hit.first) || !sentence.tokens.contains(&hit.last) {
            continue;
        }
        let (start, end) = (tokens[hit.first].start, tokens[hit.last].end);
        let section = medledger_text::section_at(&sections, start);
        let ctx = analyzer().analyze(note, &tokens, sentence, hit.first..hit.last + 1, section);
        out.push(CueHit {
            pattern: hit.pattern,
            evidence: Evidence::from_bytes(note, &index, start, end),
            negated: ctx.negated,
            affirmed: ctx.is_affirmed_current(),
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Types

/// What a cue phrase says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CueKind {
    AudioVideo,
    AudioOnly,
    /// Telehealth without saying how.
    Telehealth,
    InPerson,
    Home,
    OtherSite,
}

/// The documented modality of the encounter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Synchronous audio and video.
    AudioVideo,
    /// Synchronous audio only.
    AudioOnly,
    /// Telehealth is documented, the technology is not.
    TelehealthUnspecified,
    /// Both audio-video and audio-only are documented.
    Mixed,
    InPerson,
    NotDocumented,
}

impl Modality {
    fn is_telehealth(self) -> bool {
        matches!(
            self,
            Modality::AudioVideo
                | Modality::AudioOnly
                | Modality::TelehealthUnspecified
                | Modality::Mixed
        )
    }
}

/// Where the patient was during a telehealth service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatientLocation {
    /// The patient's home (a private residence, not a facility).
    Home,
    /// Any other site (clinic, hospital, nursing facility, ...).
    OtherSite,
}

/// How the payer wants telehealth on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelehealthPayer {
    /// Medicare fee-for-service.
    Medicare,
    /// Commercial plans following the CPT modifier and CMS POS definitions.
    Commercial,
}

/// What the claim needs besides the note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelehealthContext {
    pub dos: Date,
    pub payer: TelehealthPayer,
    /// The patient's location when known from structured data (overrides
    /// the note).
    #[serde(default)]
    pub patient_location: Option<PatientLocation>,
    /// The POS the service would have had in person (for payers that want
    /// it on telehealth claims).
    #[serde(default)]
    pub in_person_pos: Option<String>,
    /// The clinician is hospital-based (Medicare keeps modifier 95 then).
    #[serde(default)]
    pub clinician_in_hospital: bool,
    /// Outpatient therapy (PT/OT/SLP) furnished via telehealth.
    #[serde(default)]
    pub outpatient_therapy: bool,
}

impl TelehealthContext {
    pub fn new(dos: Date, payer: TelehealthPayer) -> TelehealthContext {
        TelehealthContext {
            dos,
            payer,
            patient_location: None,
            in_person_pos: None,
            clinician_in_hospital: false,
            outpatient_therapy: false,
        }
    }
}

/// One cue behind the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelehealthEvidence {
    pub kind: CueKind,
    pub negated: bool,
    pub evidence: Evidence,
}

/// POS and modifiers for one encounter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelehealthResult {
    pub modality: Modality,
    pub patient_location: Option<PatientLocation>,
    pub pos: Option<String>,
    pub modifiers: Vec<String>,
    /// Affirmed cues that decided the result, and negated ones.
    pub evidence: Vec<TelehealthEvidence>,
    pub rule_ids: Vec<String>,
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------
// Rules

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    header: RuleFileHeader,
    #[serde(default)]
    cue: Vec<CueRule>,
    #[serde(default)]
    pos: Vec<PosRule>,
    #[serde(default)]
    claim: Vec<ClaimRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CueRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    kind: CueKind,
    phrases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PosLocation {
    Home,
    OtherSite,
    Any,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PosRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    location: PosLocation,
    code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PosFrom {
    /// POS 02/10 from the patient's location.
    Telehealth,
    /// The POS the service would have had in person.
    InPerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ExceptionWhen {
    ClinicianInHospital,
    OutpatientTherapy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimException {
    when: ExceptionWhen,
    #[serde(default)]
    audio_video: Option<Vec<String>>,
    #[serde(default)]
    audio_only: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRule {
    id: String,
    source: String,
    effective_from: Date,
    #[serde(default)]
    effective_to: Option<Date>,
    payer: TelehealthPayer,
    pos: PosFrom,
    audio_video: Vec<String>,
    audio_only: Vec<String>,
    #[serde(default)]
    exceptions: Vec<ClaimException>,
}

use crate::rules::{date_ranges_overlap, meta_of};
meta_of!(CueRule);
meta_of!(PosRule);
meta_of!(ClaimRule);

/// The telehealth rules with their cue matcher, built once.
#[derive(Debug, Clone)]
pub struct TelehealthRules {
    header: RuleFileHeader,
    rules: RuleFile,
    matcher: PhraseMatcher,
    /// Pattern id → (cue rule index).
    pattern_rule: Vec<usize>,
}

impl TelehealthRules {
    /// The built-in `rules/telehealth.toml`.
    pub fn builtin() -> Result<Self> {
        Self::from_rules(BUILTIN, BUILTIN_FILE)
    }

    /// Rules from a rule file's text; `file` names it in errors.
    pub fn from_rules(text: &str, file: &str) -> Result<Self> {
        let rules: RuleFile = parse_rule_file(text, file)?;
        validate(&rules, file)?;
        let mut phrases = Vec::new();
        let mut pattern_rule = Vec::new();
        for (i, c) in rules.cue.iter().enumerate() {
            for p in &c.phrases {
                phrases.push(p.as_str());
                pattern_rule.push(i);
            }
        }
        Ok(TelehealthRules {
            header: rules.header.clone(),
            matcher: PhraseMatcher::new(&phrases),
            pattern_rule,
            rules,
        })
    }

    pub fn header(&self) -> &RuleFileHeader {
        &self.header
    }

    /// Provenance of every rule.
    pub fn rule_metas(&self) -> Vec<RuleMeta> {
        let r = &self.rules;
        r.cue
            .iter()
            .map(CueRule::meta)
            .chain(r.pos.iter().map(PosRule::meta))
            .chain(r.claim.iter().map(ClaimRule::meta))
            .collect()
    }

    /// Reads the modality and patient location from `note` and decides POS
    /// and modifiers for `ctx`.
    pub fn assess(&self, note: &str, ctx: &TelehealthContext) -> Result<TelehealthResult> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(Error::input(
                "note",
                format!("{} bytes; at most {MAX_NOTE_BYTES} are read", note.len()),
            ));
        }
        let dos = ctx.dos;
        let applies = |from: Date, to: Option<Date>| dos >= from && to.is_none_or(|t| dos <= t);
        let mut evidence = Vec::new();
        let mut rule_ids: Vec<String> = Vec::new();
        let mut warnings = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut negated_telehealth = false;
        for hit in find_cues(note, &self.matcher) {
            let Some(rule) = self
                .pattern_rule
                .get(hit.pattern)
                .and_then(|&i| self.rules.cue.get(i))
            else {
                continue;
            };
            if !applies(rule.effective_from, rule.effective_to) {
                continue;
            }
            if hit.affirmed {
                seen.insert(rule.kind);
            } else if hit.negated
                && matches!(
                    rule.kind,
                    CueKind::Telehealth | CueKind::AudioVideo | CueKind::AudioOnly
                )
            {
                negated_telehealth = true;
            } else if !hit.negated {
                continue;
            }
            if !rule_ids.contains(&rule.id) {
                rule_ids.push(rule.id.clone());
            }
            evidence.push(TelehealthEvidence {
                kind: rule.kind,
                negated: hit.negated,
                evidence: hit.evidence,
            });
        }
        let has = |k: CueKind| seen.contains(&k);
        let modality = match (
            has(CueKind::AudioVideo),
            has(CueKind::AudioOnly),
            has(CueKind::Telehealth),
        ) {
            (true, true, _) => Modality::Mixed,
            (true, false, _) => Modality::AudioVideo,
            (false, true, _) => Modality::AudioOnly,
            (false, false, true) => Modality::TelehealthUnspecified,
            (false, false, false) if has(CueKind::InPerson) || negated_telehealth => {
                Modality::InPerson
            }
            _ => Modality::NotDocumented,
        };
        match modality {
            Modality::Mixed => warnings.push(
                "both audio-video and audio-only are documented; state which carried the service"
                    .to_string(),
            ),
            Modality::TelehealthUnspecified => warnings.push(
                "telehealth is documented but not whether it was audio-video or audio-only"
                    .to_string(),
            ),
            Modality::NotDocumented => {
                warnings.push("the visit modality is not documented".to_string())
            }
            _ => {}
        }
        if modality.is_telehealth() && has(CueKind::InPerson) {
            warnings.push(
                "an in-person mention was also found; check it is not about this visit".to_string(),
            );
        }
        if !modality.is_telehealth() {
            return Ok(TelehealthResult {
                modality,
                patient_location: None,
                pos: None,
                modifiers: Vec::new(),
                evidence,
                rule_ids,
                warnings,
            });
        }

        let patient_location = match ctx.patient_location {
            Some(l) => Some(l),
            None => match (has(CueKind::Home), has(CueKind::OtherSite)) {
                (true, other) => {
                    if other {
                        warnings.push(
                            "both home and another site are mentioned; took home (check whose location the other is)"
                                .to_string(),
                        );
                    }
                    Some(PatientLocation::Home)
                }
                (false, true) => Some(PatientLocation::OtherSite),
                (false, false) => None,
            },
        };

        let claim = self
            .rules
            .claim
            .iter()
            .find(|c| c.payer == ctx.payer && applies(c.effective_from, c.effective_to));
        let Some(claim) = claim else {
            warnings.push(format!("no telehealth claim rule for this payer on {dos}"));
            return Ok(TelehealthResult {
                modality,
                patient_location,
                pos: None,
                modifiers: Vec::new(),
                evidence,
                rule_ids,
                warnings,
            });
        };
        rule_ids.push(claim.id.clone());

        let pos = match claim.pos {
            PosFrom::InPerson => {
                if ctx.in_person_pos.is_none() {
                    warnings.push(
                        "this payer wants the in-person POS on telehealth claims; give in_person_pos"
                            .to_string(),
                    );
                }
                ctx.in_person_pos.clone()
            }
            PosFrom::Telehealth => {
                let rule = self.rules.pos.iter().find(|p| {
                    applies(p.effective_from, p.effective_to)
                        && match p.location {
                            PosLocation::Any => true,
                            PosLocation::Home => patient_location == Some(PatientLocation::Home),
                            PosLocation::OtherSite => {
                                patient_location == Some(PatientLocation::OtherSite)
                            }
                        }
                });
                match rule {
                    Some(r) => {
                        rule_ids.push(r.id.clone());
                        Some(r.code.clone())
                    }
                    None => {
                        if patient_location.is_none() {
                            warnings.push(
                                "the patient's location (home or another site) is not documented"
                                    .to_string(),
                            );
                        } else {
                            warnings.push(format!("no telehealth POS rule in force on {dos}"));
                        }
                        None
                    }
                }
            }
        };

        let flag = |w: ExceptionWhen| match w {
            ExceptionWhen::ClinicianInHospital => {
                ctx.clinician_in_hospital && patient_location == Some(PatientLocation::Home)
            }
            ExceptionWhen::OutpatientTherapy => ctx.outpatient_therapy,
        };
        let exception = claim.exceptions.iter().find(|e| flag(e.when));
        let modifiers = match modality {
            Modality::AudioVideo => exception
                .and_then(|e| e.audio_video.clone())
                .unwrap_or_else(|| claim.audio_video.clone()),
            Modality::AudioOnly => exception
                .and_then(|e| e.audio_only.clone())
                .unwrap_or_else(|| claim.audio_only.clone()),
            _ => Vec::new(),
        };
        Ok(TelehealthResult {
            modality,
            patient_location,
            pos,
            modifiers,
            evidence,
            rule_ids,
            warnings,
        })
    }
}

/// [`TelehealthRules::assess`] with the built-in rules (loaded once).
pub fn assess(note: &str, ctx: &TelehealthContext) -> Result<TelehealthResult> {
    static RULES: OnceLock<std::result::Result<TelehealthRules, String>> = OnceLock::new();
    match RULES.get_or_init(|| TelehealthRules::builtin().map_err(|e| e.to_string())) {
        Ok(rules) => rules.assess(note, ctx),
        Err(message) => Err(invalid(BUILTIN_FILE, message.clone())),
    }
}

fn is_modifier(m: &str) -> bool {
    m.len() == 2
        && m.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

fn validate(r: &RuleFile, file: &str) -> Result<()> {
    if r.header.version.trim().is_empty() || r.header.sources.is_empty() {
        return Err(invalid(
            file,
            "header needs a version and at least one source",
        ));
    }
    let mut ids = std::collections::BTreeSet::new();
    for m in r
        .cue
        .iter()
        .map(CueRule::meta)
        .chain(r.pos.iter().map(PosRule::meta))
        .chain(r.claim.iter().map(ClaimRule::meta))
    {
        if !ids.insert(m.id.clone()) {
            return Err(invalid(file, format!("rule id {} is used twice", m.id)));
        }
        if m.source.trim().is_empty() {
            return Err(invalid(file, format!("rule {} has no source", m.id)));
        }
        if m.effective_to.is_some_and(|t| t < m.effective_from) {
            return Err(invalid(
                file,
                format!("rule {}: effective_to is before effective_from", m.id),
            ));
        }
    }
    for c in &r.cue {
        if c.phrases.is_empty() {
            return Err(invalid(file, format!("rule {}: no phrases", c.id)));
        }
        if let Some(p) = c
            .phrases
            .iter()
            .find(|p| crate::pla::phrase_key(p).is_empty())
        {
            return Err(invalid(
                file,
                format!("rule {}: phrase {p:?} has no words", c.id),
            ));
        }
    }
    for (i, a) in r.pos.iter().enumerate() {
        if a.code.len() != 2 || !a.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                file,
                format!("rule {}: POS {:?} is not two digits", a.id, a.code),
            ));
        }
        for b in &r.pos[i + 1..] {
            let same_place = a.location == b.location
                || a.location == PosLocation::Any
                || b.location == PosLocation::Any;
            if same_place
                && date_ranges_overlap(
                    (a.effective_from, a.effective_to),
                    (b.effective_from, b.effective_to),
                )
            {
                return Err(invalid(
                    file,
                    format!(
                        "rules {} and {}: two POS rules for one location at once",
                        a.id, b.id
                    ),
                ));
            }
        }
    }
    for (i, a) in r.claim.iter().enumerate() {
        let lists = a
            .exceptions
            .iter()
            .flat_map(|e| e.audio_video.iter().chain(e.audio_only.iter()))
            .chain([&a.audio_video, &a.audio_only]);
        for list in lists {
            if let Some(m) = list.iter().find(|m| !is_modifier(m)) {
                return Err(invalid(
                    file,
                    format!("rule {}: modifier {m:?} is not two characters", a.id),
                ));
            }
        }
        for b in &r.claim[i + 1..] {
            if a.payer == b.payer
                && date_ranges_overlap(
                    (a.effective_from, a.effective_to),
                    (b.effective_from, b.effective_to),
                )
            {
                return Err(invalid(
                    file,
                    format!(
                        "rules {} and {}: two claim rules for one payer at once",
                        a.id, b.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(payer: TelehealthPayer) -> TelehealthContext {
        TelehealthContext::new(jiff::civil::date(2026, 3, 4), payer)
    }

    #[test]
    fn builtin_rules_load() {
        let r = TelehealthRules::builtin().unwrap();
        assert_eq!(r.header().version, "2026.1");
        assert!(!r.rule_metas().is_empty());
    }

    #[test]
    fn video_from_home_commercial() {
        let r = assess(
            "Visit conducted via secure video. Patient is at home.",
            &ctx(TelehealthPayer::Commercial),
        )
        .unwrap();
        assert_eq!(r.modality, Modality::AudioVideo);
        assert_eq!(r.pos.as_deref(), Some("10"));
        assert_eq!(r.modifiers, vec!["95"]);
    }

    #[test]
    fn negated_telehealth_is_in_person() {
        let r = assess(
            "This was not a telehealth visit.",
            &ctx(TelehealthPayer::Medicare),
        )
        .unwrap();
        assert_eq!(r.modality, Modality::InPerson);
        assert!(r.evidence.iter().all(|e| e.negated));
        assert_eq!(r.pos, None);
    }

    #[test]
    fn overlapping_claim_rules_are_rejected() {
        let text = BUILTIN.replace(
            "effective_to = \"2023-12-31\"\npayer = \"medicare\"",
            "effective_to = \"2024-06-30\"\npayer = \"medicare\"",
        );
        assert_ne!(text, BUILTIN);
        let err = TelehealthRules::from_rules(&text, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.toml") && err.contains("one payer"), "{err}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "via",
            "secure",
            "video",
            "telehealth",
            "visit",
            "not",
            "a",
            "no",
            "by",
            "telephone",
            "audio-only",
            "patient",
            "at",
            "home",
            "clinic",
            "originating",
            "site",
            "in",
            "person",
            "if",
            "denies",
            "Núñez",
            "—",
            ".",
            ",",
            ";",
            "\n",
            "señora",
            "face-to-face",
        ];

        proptest! {
            #[test]
            fn assess_never_panics_and_evidence_is_verbatim(
                words in prop::collection::vec(prop::sample::select(WORDS), 0..40),
                medicare in any::<bool>(),
            ) {
                let note = words.join(" ");
                let payer = if medicare { TelehealthPayer::Medicare } else { TelehealthPayer::Commercial };
                let r = assess(&note, &TelehealthContext::new(jiff::civil::date(2026, 2, 2), payer)).unwrap();
                let chars: Vec<char> = note.chars().collect();
                for e in &r.evidence {
                    let span: String = chars[e.evidence.start..e.evidence.end].iter().collect();
                    prop_assert_eq!(&span, &e.evidence.text);
                }
                if r.pos.is_some() {
                    prop_assert!(r.modality.is_telehealth());
                }
            }

            #[test]
            fn assess_never_panics_on_any_text(note in "\\PC{0,300}") {
                let r = assess(&note, &TelehealthContext::new(jiff::civil::date(2026, 2, 2), TelehealthPayer::Medicare)).unwrap();
                for e in &r.evidence {
                    let span: String = note.chars().skip(e.evidence.start).take(e.evidence.end - e.evidence.start).collect();
                    prop_assert_eq!(&span, &e.evidence.text);
                }
            }
        }
    }
}
