//! Section header detection.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Kind of a note section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Preamble,
    ChiefComplaint,
    Hpi,
    PastMedicalHistory,
    PastSurgicalHistory,
    Medications,
    Allergies,
    FamilyHistory,
    SocialHistory,
    Ros,
    Exam,
    Results,
    Assessment,
    Plan,
    AssessmentPlan,
    DischargeDiagnoses,
    Diagnoses,
    Procedures,
    HospitalCourse,
    Other,
}

impl SectionKind {
    /// Snake case name (same as the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Preamble => "preamble",
            SectionKind::ChiefComplaint => "chief_complaint",
            SectionKind::Hpi => "hpi",
            SectionKind::PastMedicalHistory => "past_medical_history",
            SectionKind::PastSurgicalHistory => "past_surgical_history",
            SectionKind::Medications => "medications",
            SectionKind::Allergies => "allergies",
            SectionKind::FamilyHistory => "family_history",
            SectionKind::SocialHistory => "social_history",
            SectionKind::Ros => "ros",
            SectionKind::Exam => "exam",
            SectionKind::Results => "results",
            SectionKind::Assessment => "assessment",
            SectionKind::Plan => "plan",
            SectionKind::AssessmentPlan => "assessment_plan",
            SectionKind::DischargeDiagnoses => "discharge_diagnoses",
            SectionKind::Diagnoses => "diagnoses",
            SectionKind::Procedures => "procedures",
            SectionKind::HospitalCourse => "hospital_course",
            SectionKind::Other => "other",
        }
    }

    /// Past medical or past surgical history.
    pub fn is_historical(self) -> bool {
        matches!(
            self,
            SectionKind::PastMedicalHistory | SectionKind::PastSurgicalHistory
        )
    }

    /// Family history.
    pub fn is_family(self) -> bool {
        matches!(self, SectionKind::FamilyHistory)
    }

    /// Sections that state the diagnoses of the encounter.
    pub fn is_diagnostic(self) -> bool {
        matches!(
            self,
            SectionKind::Assessment
                | SectionKind::AssessmentPlan
                | SectionKind::DischargeDiagnoses
                | SectionKind::Diagnoses
        )
    }
}

/// A section: the header span (without the colon) and the body byte range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section {
    pub kind: SectionKind,
    pub header: Option<(usize, usize)>,
    pub start: usize,
    pub end: usize,
}

/// Header phrase classes: a real section, or an exam/ROS body-system
/// subheading that never starts a section.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeaderClass {
    Section(SectionKind),
    Subheading,
}

const HEADERS: &[(&str, SectionKind)] = {
    use SectionKind::*;
    &[
        ("cc", ChiefComplaint),
        ("chief complaint", ChiefComplaint),
        ("chief complaints", ChiefComplaint),
        ("presenting complaint", ChiefComplaint),
        ("complaint", ChiefComplaint),
        ("reason for visit", ChiefComplaint),
        ("reason for consultation", ChiefComplaint),
        ("reason for consult", ChiefComplaint),
        ("reason for admission", ChiefComplaint),
        ("reason for referral", ChiefComplaint),
        ("reason for evaluation", ChiefComplaint),
        ("reason for exam", ChiefComplaint),
        ("hpi", Hpi),
        ("history of present illness", Hpi),
        ("history of the present illness", Hpi),
        ("present illness", Hpi),
        ("history", Hpi),
        ("interval history", Hpi),
        ("subjective", Hpi),
        ("clinical history", Hpi),
        ("case presentation", Hpi),
        ("pmh", PastMedicalHistory),
        ("pmhx", PastMedicalHistory),
        ("past medical history", PastMedicalHistory),
        ("past history", PastMedicalHistory),
        ("medical history", PastMedicalHistory),
        ("past medical hx", PastMedicalHistory),
        ("past medical/surgical history", PastMedicalHistory),
        ("past medical and surgical history", PastMedicalHistory),
        ("medical/surgical history", PastMedicalHistory),
        ("personal history", PastMedicalHistory),
        ("previous medical history", PastMedicalHistory),
        ("psh", PastSurgicalHistory),
        ("pshx", PastSurgicalHistory),
        ("past surgical history", PastSurgicalHistory),
        ("surgical history", PastSurgicalHistory),
        ("past surgical hx", PastSurgicalHistory),
        ("previous surgeries", PastSurgicalHistory),
        ("past surgeries", PastSurgicalHistory),
        ("meds", Medications),
        ("medications", Medications),
        ("medication", Medications),
        ("current medications", Medications),
        ("current meds", Medications),
        ("home medications", Medications),
        ("home meds", Medications),
        ("outpatient medications", Medications),
        ("admission medications", Medications),
        ("medications on admission", Medications),
        ("discharge medications", Medications),
        ("medications at discharge", Medications),
        ("current outpatient medications", Medications),
        ("allergies", Allergies),
        ("allergy", Allergies),
        ("drug allergies", Allergies),
        ("allergies/adverse reactions", Allergies),
        ("fh", FamilyHistory),
        ("fhx", FamilyHistory),
        ("family history", FamilyHistory),
        ("family hx", FamilyHistory),
        ("family medical history", FamilyHistory),
        ("sh", SocialHistory),
        ("shx", SocialHistory),
        ("social history", SocialHistory),
        ("social hx", SocialHistory),
        ("habits", SocialHistory),
        ("ros", Ros),
        ("review of systems", Ros),
        ("review of system", Ros),
        ("systems review", Ros),
        ("pe", Exam),
        ("physical exam", Exam),
        ("physical examination", Exam),
        ("exam", Exam),
        ("examination", Exam),
        ("exam on admission", Exam),
        ("admission exam", Exam),
        ("physical findings", Exam),
        ("objective", Exam),
        ("vital signs", Exam),
        ("vitals", Exam),
        ("labs", Results),
        ("lab", Results),
        ("laboratory", Results),
        ("laboratory data", Results),
        ("laboratory results", Results),
        ("laboratory studies", Results),
        ("laboratory tests", Results),
        ("lab results", Results),
        ("lab data", Results),
        ("results", Results),
        ("pertinent results", Results),
        ("imaging", Results),
        ("imaging studies", Results),
        ("radiology", Results),
        ("diagnostic data", Results),
        ("diagnostic studies", Results),
        ("diagnostic tests", Results),
        ("studies", Results),
        ("data", Results),
        ("findings", Results),
        ("ekg", Results),
        ("ecg", Results),
        ("pathology", Results),
        ("complementary tests", Results),
        ("assessment", Assessment),
        ("impression", Assessment),
        ("clinical impression", Assessment),
        ("diagnostic impression", Assessment),
        ("assessment/impression", Assessment),
        ("impressions", Assessment),
        ("a", Assessment),
        ("assessment and plan", AssessmentPlan),
        ("assessment/plan", AssessmentPlan),
        ("a/p", AssessmentPlan),
        ("a and p", AssessmentPlan),
        ("impression and plan", AssessmentPlan),
        ("impression/plan", AssessmentPlan),
        ("assessment and recommendations", AssessmentPlan),
        ("impression and recommendations", AssessmentPlan),
        ("plan", Plan),
        ("p", Plan),
        ("recommendations", Plan),
        ("recommendation", Plan),
        ("treatment plan", Plan),
        ("plan of care", Plan),
        ("discharge plan", Plan),
        ("disposition", Plan),
        ("follow up", Plan),
        ("follow-up", Plan),
        ("followup", Plan),
        ("discharge instructions", Plan),
        ("instructions", Plan),
        ("treatment", Plan),
        ("discharge diagnosis", DischargeDiagnoses),
        ("discharge diagnoses", DischargeDiagnoses),
        ("discharge diagnosis/diagnoses", DischargeDiagnoses),
        ("diagnoses at discharge", DischargeDiagnoses),
        ("diagnosis at discharge", DischargeDiagnoses),
        ("discharge dx", DischargeDiagnoses),
        ("final diagnosis", DischargeDiagnoses),
        ("final diagnoses", DischargeDiagnoses),
        ("diagnosis", Diagnoses),
        ("diagnoses", Diagnoses),
        ("dx", Diagnoses),
        ("admission diagnosis", Diagnoses),
        ("admission diagnoses", Diagnoses),
        ("admitting diagnosis", Diagnoses),
        ("admitting diagnoses", Diagnoses),
        ("postoperative diagnosis", Diagnoses),
        ("postoperative diagnoses", Diagnoses),
        ("post-operative diagnosis", Diagnoses),
        ("post-op diagnosis", Diagnoses),
        ("postop diagnosis", Diagnoses),
        ("preoperative diagnosis", Diagnoses),
        ("preoperative diagnoses", Diagnoses),
        ("pre-operative diagnosis", Diagnoses),
        ("pre-op diagnosis", Diagnoses),
        ("preop diagnosis", Diagnoses),
        ("principal diagnosis", Diagnoses),
        ("primary diagnosis", Diagnoses),
        ("secondary diagnosis", Diagnoses),
        ("secondary diagnoses", Diagnoses),
        ("working diagnosis", Diagnoses),
        ("problem list", Diagnoses),
        ("active problems", Diagnoses),
        ("problems", Diagnoses),
        ("procedure", Procedures),
        ("procedures", Procedures),
        ("procedure performed", Procedures),
        ("procedures performed", Procedures),
        ("operation", Procedures),
        ("operations", Procedures),
        ("operation performed", Procedures),
        ("operative procedure", Procedures),
        ("name of procedure", Procedures),
        ("name of operation", Procedures),
        ("title of operation", Procedures),
        ("title of procedure", Procedures),
        ("description of procedure", Procedures),
        ("procedure in detail", Procedures),
        ("procedure details", Procedures),
        ("hospital course", HospitalCourse),
        ("brief hospital course", HospitalCourse),
        ("course in hospital", HospitalCourse),
        ("clinical course", HospitalCourse),
        ("course", HospitalCourse),
        ("ed course", HospitalCourse),
        ("emergency department course", HospitalCourse),
        ("evolution", HospitalCourse),
        ("differential diagnosis", Other),
        ("differential diagnoses", Other),
        ("differential", Other),
        ("ddx", Other),
        ("anesthesia", Other),
        ("estimated blood loss", Other),
        ("complications", Other),
        ("specimens", Other),
        ("specimen", Other),
        ("indications", Other),
        ("indication", Other),
        ("condition", Other),
        ("condition at discharge", Other),
        ("discharge condition", Other),
        ("consultations", Other),
        ("addendum", Other),
    ]
};

/// Body-system subheadings inside ROS/exam; they never start a section.
const SUBHEADINGS: &[&str] = &[
    "general",
    "constitutional",
    "heent",
    "head",
    "eyes",
    "ears",
    "nose",
    "throat",
    "mouth",
    "neck",
    "lungs",
    "chest",
    "respiratory",
    "pulmonary",
    "heart",
    "cardiac",
    "cardiovascular",
    "cv",
    "abdomen",
    "abd",
    "gastrointestinal",
    "gi",
    "genitourinary",
    "gu",
    "extremities",
    "ext",
    "neurologic",
    "neurological",
    "neuro",
    "skin",
    "integumentary",
    "psychiatric",
    "psych",
    "musculoskeletal",
    "msk",
    "back",
    "spine",
    "rectal",
    "pelvic",
    "breast",
    "breasts",
    "lymph",
    "lymphatic",
    "lymph nodes",
    "endocrine",
    "hematologic",
    "heme/lymph",
    "allergic/immunologic",
    "vascular",
    "pulses",
    "mental status",
    "cranial nerves",
    "motor",
    "sensory",
    "reflexes",
    "gait",
    "bp",
    "hr",
    "rr",
    "temp",
    "spo2",
    "pulse",
    "weight",
    "height",
];

fn header_table() -> &'static HashMap<&'static str, HeaderClass> {
    static T: OnceLock<HashMap<&'static str, HeaderClass>> = OnceLock::new();
    T.get_or_init(|| {
        let mut m = HashMap::with_capacity(HEADERS.len() + SUBHEADINGS.len());
        for &(k, v) in HEADERS {
            m.insert(k, HeaderClass::Section(v));
        }
        for &k in SUBHEADINGS {
            m.entry(k).or_insert(HeaderClass::Subheading);
        }
        m
    })
}

/// Normalizes a candidate header phrase: lowercase, '&' -> "and", collapsed
/// whitespace, no spaces around '/', trailing "(s)" removed.
fn normalize_phrase(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    let mut pending_space = false;
    for c in p.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c == '&' {
            out.push_str(if out.is_empty() { "and " } else { " and " });
            pending_space = false;
            continue;
        }
        if c == '/' {
            if out.ends_with(' ') {
                out.pop();
            }
            out.push('/');
            pending_space = false;
            continue;
        }
        if pending_space && !out.ends_with(' ') && !out.ends_with('/') {
            out.push(' ');
        }
        pending_space = false;
        for l in c.to_lowercase() {
            out.push(l);
        }
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    if let Some(s) = out.strip_suffix("(s)") {
        let n = s.trim_end().len();
        out.truncate(n);
    }
    out
}

fn classify(phrase: &str) -> Option<HeaderClass> {
    let norm = normalize_phrase(phrase);
    if norm.is_empty() {
        return None;
    }
    let table = header_table();
    if let Some(&c) = table.get(norm.as_str()) {
        return Some(c);
    }
    if norm.contains('/') {
        let first = norm.split('/').next().unwrap_or("");
        if let Some(&c) = table.get(first) {
            return Some(c);
        }
        let last = norm.rsplit('/').next().unwrap_or("");
        if let Some(&c) = table.get(last) {
            return Some(c);
        }
    }
    None
}

fn is_upper_phrase(p: &str) -> bool {
    let mut letters = 0;
    for c in p.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_alphabetic() {
            letters += 1;
        }
    }
    letters >= 2
}

fn phrase_chars_ok(p: &str) -> bool {
    p.chars().all(|c| {
        c.is_alphabetic()
            || c == ' '
            || c == '\t'
            || matches!(c, '/' | '&' | '(' | ')' | '-' | '\'' | ',')
    }) && p.split_whitespace().count() <= 6
}

/// A header found at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderMatch {
    pub kind: SectionKind,
    /// Header phrase span (without colon).
    pub start: usize,
    pub end: usize,
    /// Where the body begins (after the colon, or after the phrase).
    pub body_start: usize,
}

const MAX_HEADER_BYTES: usize = 64;

/// Detects a section header on the line beginning at `line_start`.
pub(crate) fn header_at(text: &str, line_start: usize) -> Option<HeaderMatch> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut ps = line_start;
    while ps < n && (bytes[ps] == b' ' || bytes[ps] == b'\t') {
        ps += 1;
    }
    // Optional markdown-ish decoration.
    while ps < n && (bytes[ps] == b'#' || bytes[ps] == b'*' || bytes[ps] == b'_') {
        ps += 1;
    }
    while ps < n && bytes[ps] == b' ' {
        ps += 1;
    }
    if ps >= n || !text.is_char_boundary(ps) {
        return None;
    }
    let first = text[ps..].chars().next()?;
    if !first.is_alphabetic() {
        return None;
    }
    let mut line_end = ps;
    let mut colon = None;
    while line_end < n && bytes[line_end] != b'\n' && bytes[line_end] != b'\r' {
        if bytes[line_end] == b':' {
            // The rest of the line is only looked at up to its first
            // non-blank character (below), never scanned to its end: a
            // flattened note is one very long line.
            colon = Some(line_end);
            break;
        }
        line_end += 1;
        if colon.is_none() && line_end - ps > MAX_HEADER_BYTES + 8 {
            // Too long for a header phrase, with or without a colon.
            return None;
        }
    }
    if let Some(c) = colon.filter(|&c| c - ps <= MAX_HEADER_BYTES) {
        let raw = &text[ps..c];
        let phrase = raw.trim_end_matches([' ', '\t', '*', '_']);
        if phrase.is_empty() || !phrase_chars_ok(phrase) {
            return None;
        }
        let pe = ps + phrase.len();
        let mut body_start = c + 1;
        // Skip closing decoration such as "**ASSESSMENT:**".
        while body_start < n && (bytes[body_start] == b'*' || bytes[body_start] == b'_') {
            body_start += 1;
        }
        match classify(phrase) {
            Some(HeaderClass::Section(kind)) => {
                // Single letters ("A:", "P:") only in upper case.
                if phrase.len() == 1 && !phrase.chars().all(|ch| ch.is_uppercase()) {
                    return None;
                }
                return Some(HeaderMatch {
                    kind,
                    start: ps,
                    end: pe,
                    body_start,
                });
            }
            Some(HeaderClass::Subheading) => return None,
            None => {
                let rest_blank = bytes[c + 1..]
                    .iter()
                    .take_while(|b| **b != b'\n' && **b != b'\r')
                    .all(|b| matches!(b, b' ' | b'\t' | b'*' | b'_'));
                if rest_blank && is_upper_phrase(phrase) {
                    return Some(HeaderMatch {
                        kind: SectionKind::Other,
                        start: ps,
                        end: pe,
                        body_start,
                    });
                }
                return None;
            }
        }
    }
    // No colon: a known header alone on its line in upper case.
    let line = text[ps..line_end]
        .trim_end_matches(|ch: char| ch.is_whitespace() || ch == '*' || ch == '_');
    if line.is_empty()
        || line.len() > MAX_HEADER_BYTES
        || !is_upper_phrase(line)
        || !phrase_chars_ok(line)
    {
        return None;
    }
    match classify(line) {
        Some(HeaderClass::Section(kind)) if line.len() > 1 => {
            let pe = ps + line.len();
            Some(HeaderMatch {
                kind,
                start: ps,
                end: pe,
                body_start: pe,
            })
        }
        _ => None,
    }
}

/// Whether `q` starts an inline header candidate: an upper-case ASCII letter
/// right after "," or after "." plus spaces (transcriptions that flatten
/// newlines into commas: "...,PAST MEDICAL HISTORY:,  ...").
pub(crate) fn is_inline_start(bytes: &[u8], q: usize) -> bool {
    if q == 0 || q >= bytes.len() || !bytes[q].is_ascii_uppercase() {
        return false;
    }
    let mut k = q;
    let mut spaces = 0;
    while k > 0 && bytes[k - 1] == b' ' && spaces < 3 {
        k -= 1;
        spaces += 1;
    }
    k > 0 && (bytes[k - 1] == b',' || (bytes[k - 1] == b'.' && spaces > 0))
}

/// Whether `q` is the start of a line.
pub(crate) fn is_line_start(bytes: &[u8], q: usize) -> bool {
    q == 0 || (q <= bytes.len() && bytes[q - 1] == b'\n')
}

/// An inline header: upper-case known phrase of two or more letters followed
/// by a colon.
pub(crate) fn inline_header_at(text: &str, q: usize) -> Option<HeaderMatch> {
    let h = header_at(text, q)?;
    let phrase = text.get(h.start..h.end)?;
    if h.body_start <= h.end
        || h.kind == SectionKind::Other
        || phrase.len() < 2
        || !is_upper_phrase(phrase)
    {
        return None;
    }
    Some(h)
}

/// Header candidate check at `q` (line start or inline position).
pub(crate) fn header_candidate(text: &str, q: usize) -> Option<HeaderMatch> {
    let bytes = text.as_bytes();
    if is_line_start(bytes, q) {
        header_at(text, q)
    } else if is_inline_start(bytes, q) {
        inline_header_at(text, q)
    } else {
        None
    }
}

/// All headers of the note, in order and non-overlapping.
pub(crate) fn all_headers(text: &str) -> Vec<HeaderMatch> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut out = Vec::new();
    let mut q = 0usize;
    while q < n {
        if let Some(h) = header_candidate(text, q) {
            q = h.body_start.max(q + 1);
            out.push(h);
            continue;
        }
        q += 1;
    }
    out
}

/// Splits the note into sections. Sections are in order and cover the text:
/// a section's body runs from after its header to the next header. Text
/// before the first header is a `Preamble` section (omitted when blank).
pub fn sections(text: &str) -> Vec<Section> {
    sections_with_headers(text, &all_headers(text))
}

pub(crate) fn sections_with_headers(text: &str, headers: &[HeaderMatch]) -> Vec<Section> {
    let n = text.len();
    let mut result = Vec::with_capacity(headers.len() + 1);
    let pre_end = headers
        .first()
        .map(|h| line_start_of(text, h.start))
        .unwrap_or(n);
    if !text[..pre_end].trim().is_empty() {
        result.push(Section {
            kind: SectionKind::Preamble,
            header: None,
            start: 0,
            end: pre_end,
        });
    }
    for (i, h) in headers.iter().enumerate() {
        let end = headers
            .get(i + 1)
            .map(|nh| line_start_of(text, nh.start).max(h.body_start))
            .unwrap_or(n);
        result.push(Section {
            kind: h.kind,
            header: Some((h.start, h.end)),
            start: h.body_start,
            end,
        });
    }
    result
}

/// Start of the region a header begins: its line start when only blanks
/// precede it on the line, else the header phrase itself.
fn line_start_of(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut p = pos;
    while p > 0
        && (bytes[p - 1] == b' '
            || bytes[p - 1] == b'\t'
            || bytes[p - 1] == b'#'
            || bytes[p - 1] == b'*')
    {
        p -= 1;
    }
    if p == 0 || bytes[p - 1] == b'\n' {
        p
    } else {
        pos
    }
}

/// Kind of the section containing `byte` (the header counts as part of its
/// section); `Preamble` when none.
pub fn section_at(sections: &[Section], byte: usize) -> SectionKind {
    let key = |s: &Section| s.header.map(|h| h.0).unwrap_or(s.start);
    let idx = sections.partition_point(|s| key(s) <= byte);
    if idx == 0 {
        return SectionKind::Preamble;
    }
    sections[idx - 1].kind
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<SectionKind> {
        sections(text).iter().map(|s| s.kind).collect()
    }

    #[test]
    fn full_note() {
        let note = "Patient: John Doe\n\
CHIEF COMPLAINT: Chest pain.\n\
HISTORY OF PRESENT ILLNESS:\n\
He reports pain for 2 days.\n\
PMH: HTN, DM2\n\
Past Surgical History:\nappendectomy\n\
Meds: lisinopril\n\
Allergies: NKDA\n\
NKDA\n\
Family Hx: mother with breast cancer\n\
Social History: no tobacco\n\
ROS: negative\n\
PHYSICAL EXAMINATION\n\
HEENT: normal\n\
LUNGS: clear\n\
Labs: WBC 12\n\
Assessment & Plan:\n\
1. Chest pain.\n\
DISCHARGE DIAGNOSES:\n\
1. Angina\n\
PROCEDURE(S): none\n\
OTHER STUFF:\n\
text\n";
        use SectionKind::*;
        assert_eq!(
            kinds(note),
            vec![
                Preamble,
                ChiefComplaint,
                Hpi,
                PastMedicalHistory,
                PastSurgicalHistory,
                Medications,
                Allergies,
                FamilyHistory,
                SocialHistory,
                Ros,
                Exam,
                Results,
                AssessmentPlan,
                DischargeDiagnoses,
                Procedures,
                Other
            ]
        );
        let secs = sections(note);
        // Header spans exclude the colon, bodies follow the header.
        let cc = &secs[1];
        let (hs, he) = cc.header.unwrap();
        assert_eq!(&note[hs..he], "CHIEF COMPLAINT");
        assert_eq!(note[cc.start..cc.end].trim(), "Chest pain.");
        let ap = secs.iter().find(|s| s.kind == AssessmentPlan).unwrap();
        let (hs, he) = ap.header.unwrap();
        assert_eq!(&note[hs..he], "Assessment & Plan");
        let pr = secs.iter().find(|s| s.kind == Procedures).unwrap();
        assert_eq!(
            &note[pr.header.unwrap().0..pr.header.unwrap().1],
            "PROCEDURE(S)"
        );
        // Ordered, contiguous.
        for w in secs.windows(2) {
            assert!(w[0].end <= w[1].header.unwrap().0);
            assert!(w[0].start <= w[0].end);
        }
        assert_eq!(secs.last().unwrap().end, note.len());
        let pos = note.find("mother").unwrap();
        assert_eq!(section_at(&secs, pos), FamilyHistory);
        assert_eq!(section_at(&secs, 0), Preamble);
        assert_eq!(section_at(&secs, note.find("HEENT").unwrap()), Exam);
        assert_eq!(
            section_at(&secs, note.find("Angina").unwrap()),
            DischargeDiagnoses
        );
    }

    #[test]
    fn spellings() {
        use SectionKind::*;
        let cases = [
            ("CC: cough", ChiefComplaint),
            ("Reason for visit: cough", ChiefComplaint),
            ("HPI: cough", Hpi),
            ("Medical History: asthma", PastMedicalHistory),
            ("PSH: none", PastSurgicalHistory),
            ("Current Medications: none", Medications),
            ("FH: none", FamilyHistory),
            ("SH: none", SocialHistory),
            ("Review of Systems: neg", Ros),
            ("PE: normal", Exam),
            ("Vital Signs: stable", Exam),
            ("Laboratory: normal", Results),
            ("Imaging: CT", Results),
            ("Diagnostic Data: x", Results),
            ("Impression: pneumonia", Assessment),
            ("Diagnosis: pneumonia", Diagnoses),
            ("A/P: pneumonia", AssessmentPlan),
            ("Plan: abx", Plan),
            ("Recommendations: abx", Plan),
            ("Discharge Diagnosis/Diagnoses: x", DischargeDiagnoses),
            ("Final Diagnosis: x", DischargeDiagnoses),
            ("Admission Diagnosis: x", Diagnoses),
            ("Postoperative Diagnosis: x", Diagnoses),
            ("Preoperative Diagnosis: x", Diagnoses),
            ("Operation: x", Procedures),
            ("Hospital Course: x", HospitalCourse),
            ("ASSESSMENT AND PLAN", AssessmentPlan),
        ];
        for (t, k) in cases {
            let s = sections(t);
            assert_eq!(s.len(), 1, "{t}: {s:?}");
            assert_eq!(s[0].kind, k, "{t}");
        }
    }

    #[test]
    fn non_headers() {
        for t in [
            "NKDA",
            "BP: 120/80",
            "The patient has a history: see above",
            "Assessment and plan discussed with patient",
            "HEENT: normal",
            "assessment and plan",
            "Temp: 38.5",
        ] {
            assert_eq!(kinds(t), vec![SectionKind::Preamble], "{t}");
        }
        assert!(sections("").is_empty());
        assert!(sections("  \n ").is_empty());
    }

    #[test]
    fn empty_preamble_omitted() {
        let t = "\nASSESSMENT: pneumonia\nPLAN: antibiotics";
        let s = sections(t);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].kind, SectionKind::Assessment);
        assert_eq!(&t[s[0].start..s[0].end], " pneumonia\n");
        assert_eq!(s[1].kind, SectionKind::Plan);
    }

    #[test]
    fn inline_headers_in_flattened_transcription() {
        let t = "SUBJECTIVE:,  Cough for 3 days.,PAST MEDICAL HISTORY: , Asthma.,FAMILY HISTORY:,  Mother with DM. ASSESSMENT: Bronchitis, BP: 120/80.";
        use SectionKind::*;
        assert_eq!(
            kinds(t),
            vec![Hpi, PastMedicalHistory, FamilyHistory, Assessment]
        );
        let s = sections(t);
        assert_eq!(
            &t[s[1].header.unwrap().0..s[1].header.unwrap().1],
            "PAST MEDICAL HISTORY"
        );
        assert_eq!(
            section_at(&s, t.find("Asthma").unwrap()),
            PastMedicalHistory
        );
        assert_eq!(section_at(&s, t.find("Bronchitis").unwrap()), Assessment);
        // Lower-case or unknown inline phrases are not headers.
        assert_eq!(kinds("Cough, plan: rest"), vec![Preamble]);
        assert_eq!(kinds("Cough, WHATEVER: rest"), vec![Preamble]);
    }

    #[test]
    fn names() {
        assert_eq!(SectionKind::AssessmentPlan.as_str(), "assessment_plan");
        assert!(SectionKind::PastSurgicalHistory.is_historical());
        assert!(SectionKind::FamilyHistory.is_family());
        assert!(SectionKind::Diagnoses.is_diagnostic());
        assert!(!SectionKind::Plan.is_diagnostic());
    }
}
