//! Codes read off a number the note documents rather than off a term: the
//! body mass index (Z68, OCG I.C.21.c.3: adult values 20 and over, the
//! percentile for ages 2–19) and the weeks of gestation of a pregnancy (Z3A,
//! OCG I.C.15.b: maternal record only, so never for a newborn's own
//! gestational age at birth), and the NIH Stroke Scale score (R29.7-,
//! OCG I.C.18.i: with an acute cerebral infarction, the initial score at a
//! minimum).
//!
//! Each reading names its evidence tokens (the words that say what the
//! number is and the number itself); the coder turns it into a mention of
//! the code, so negation, history and family context apply as to any term.

use medledger_text::TokenKind;

use crate::matcher::Annotated;

/// What a numeric reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumericRule {
    /// Body mass index of an adult (Z68.1–Z68.45).
    BmiAdult,
    /// Body mass index percentile of a child or adolescent (Z68.51–Z68.54).
    BmiPediatric,
    /// Weeks of gestation of a pregnancy (Z3A.01–Z3A.49).
    GestationWeeks,
    /// National Institutes of Health Stroke Scale score (R29.700–R29.742).
    NihssScore,
}

impl NumericRule {
    pub fn is_bmi(self) -> bool {
        matches!(self, NumericRule::BmiAdult | NumericRule::BmiPediatric)
    }

    pub fn rule_id(self) -> &'static str {
        match self {
            NumericRule::BmiAdult => "rule.bmi_adult",
            NumericRule::BmiPediatric => "rule.bmi_pediatric",
            NumericRule::GestationWeeks => "rule.weeks_of_gestation",
            NumericRule::NihssScore => "rule.nihss_score",
        }
    }

    pub fn guideline(self) -> &'static str {
        match self {
            NumericRule::BmiAdult | NumericRule::BmiPediatric => {
                "ICD-10-CM OCG I.C.21.c.3 (body mass index: reported with an associated diagnosis; adult codes for ages 20 and over, percentile codes for ages 2-19)"
            }
            NumericRule::GestationWeeks => {
                "ICD-10-CM OCG I.C.15.b (weeks of gestation Z3A: maternal record only)"
            }
            NumericRule::NihssScore => {
                "ICD-10-CM OCG I.C.18.i (NIHSS score R29.7-: with an acute cerebral infarction I63, sequenced after it; at a minimum the initial score)"
            }
        }
    }

    /// The dictionary term naming the reading (shown as the matched term).
    pub fn term(self) -> &'static str {
        match self {
            NumericRule::BmiAdult => "documented body mass index value (adult)",
            NumericRule::BmiPediatric => "documented body mass index percentile (pediatric)",
            NumericRule::GestationWeeks => "documented weeks of gestation",
            NumericRule::NihssScore => "documented NIH Stroke Scale score",
        }
    }
}

/// One reading: the code it gives, the value read and its evidence tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub rule: NumericRule,
    /// Code key (no dot).
    pub key: String,
    pub value: f64,
    pub sentence: u32,
    /// Token indices, sorted.
    pub tokens: Vec<u32>,
}

/// Every code key the rules can give (their dictionary entries are made
/// once per coder).
pub fn all_keys() -> Vec<(NumericRule, String)> {
    let mut out = vec![(NumericRule::BmiAdult, "Z681".to_string())];
    for d in 0..10 {
        out.push((NumericRule::BmiAdult, format!("Z682{d}")));
        out.push((NumericRule::BmiAdult, format!("Z683{d}")));
    }
    for d in 1..=5 {
        out.push((NumericRule::BmiAdult, format!("Z684{d}")));
    }
    for d in 1..=4 {
        out.push((NumericRule::BmiPediatric, format!("Z685{d}")));
    }
    out.push((NumericRule::GestationWeeks, "Z3A01".to_string()));
    for w in 8..=42 {
        out.push((NumericRule::GestationWeeks, format!("Z3A{w:02}")));
    }
    out.push((NumericRule::GestationWeeks, "Z3A49".to_string()));
    for v in 0..=NIHSS_MAX {
        out.push((NumericRule::NihssScore, nihss_key(v)));
    }
    out
}

/// Codes the numeric rules own (body mass index Z68, weeks of gestation
/// Z3A, NIHSS score R29.7): the dictionary does not match their titles.
pub fn is_numeric_code(key: &str) -> bool {
    key.starts_with("Z68") || key.starts_with("Z3A") || key.starts_with("R297")
}

/// Codes a documented score names and words never do: the ones this module
/// reads off a number, and the Glasgow coma scale subscores (R40.21-R40.24:
/// "Localizes pain (2-5 years of age)", "Eyes open, never"), for which it
/// has no reader yet — a "localized pain" is no coma.
pub fn is_score_code(key: &str) -> bool {
    is_numeric_code(key)
        || ["R4021", "R4022", "R4023", "R4024"]
            .iter()
            .any(|p| key.starts_with(p))
}

/// The highest NIH Stroke Scale total.
pub const NIHSS_MAX: u32 = 42;

/// NIHSS code for a total score: R29.700–R29.742 spell the score in their
/// last two digits.
pub fn nihss_key(score: u32) -> String {
    format!("R297{score:02}")
}

/// Adult BMI code for a value (Z68.1 is "19.9 or less").
pub fn bmi_adult_key(v: f64) -> Option<String> {
    if !(8.0..=150.0).contains(&v) {
        return None;
    }
    Some(match v {
        v if v < 20.0 => "Z681".to_string(),
        v if v < 40.0 => format!("Z68{}", v.floor() as u32),
        v if v < 45.0 => "Z6841".into(),
        v if v < 50.0 => "Z6842".into(),
        v if v < 60.0 => "Z6843".into(),
        v if v < 70.0 => "Z6844".into(),
        _ => "Z6845".into(),
    })
}

/// Pediatric BMI code for a percentile.
pub fn bmi_percentile_key(p: f64) -> Option<String> {
    if !(0.0..=100.0).contains(&p) {
        return None;
    }
    Some(
        match p {
            p if p < 5.0 => "Z6851",
            p if p < 85.0 => "Z6852",
            p if p < 95.0 => "Z6853",
            _ => "Z6854",
        }
        .into(),
    )
}

/// Weeks-of-gestation code for a number of completed weeks.
pub fn gestation_key(weeks: u32) -> Option<String> {
    match weeks {
        0 => None,
        1..=7 => Some("Z3A01".into()),
        8..=42 => Some(format!("Z3A{weeks:02}")),
        43..=45 => Some("Z3A49".into()),
        _ => None,
    }
}

/// Words that may stand between a reading's trigger and its value, for
/// every reading ("BMI: 31", "NIHSS of 12", "the score was 4").
const VALUE_FILLER: &[&str] = &[
    "(", ")", "[", "]", ":", "=", "of", "was", "is", "a", "an", "the", "with", "at", "",
];

/// Further words between "BMI" and its value.
const BMI_FILLER: &[&str] = &[
    "bmi",
    "approximately",
    "about",
    "around",
    "kg",
    "/",
    "m2",
    "index",
    "calculated",
    "estimated",
];

/// Words of a newborn's own record: a gestational age at birth is not a
/// weeks-of-gestation code for the patient (Z3A is maternal only).
const NEWBORN: &[&str] = &[
    "born",
    "newborn",
    "neonate",
    "neonatal",
    "infant",
    "preterm",
    "premature",
    "birth",
];

fn number(note: &Annotated, t: usize) -> Option<f64> {
    let tok = note.tokens.get(t)?;
    let raw = &note.text[tok.start..tok.end];
    match tok.kind {
        TokenKind::Number => raw.replace(',', ".").parse().ok(),
        // "24th" (an ordinal week), "41kg" (a value glued to its unit).
        TokenKind::Word => {
            let digits = raw.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let suffix = raw[digits.len()..].to_ascii_lowercase();
            let unit = matches!(suffix.as_str(), "st" | "nd" | "rd" | "th" | "kg");
            if digits.is_empty() || !unit || !digits.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            digits.replace(',', ".").parse().ok()
        }
        _ => None,
    }
}

fn lower<'a>(note: &'a Annotated<'_>, t: usize) -> &'a str {
    note.tokens.get(t).map(|x| x.lower.as_str()).unwrap_or("")
}

/// All readings of a note. `age` is the patient's age when known: a BMI
/// value is read as an adult code only from 20 (or when the age is not
/// known), a percentile only for ages 2–19. Of the NIHSS scores only the
/// first the note documents is read (the initial score, OCG I.C.18.i).
pub fn readings(note: &Annotated, age: Option<u16>) -> Vec<Reading> {
    let mut out = Vec::new();
    let mut nihss = None;
    for (si, s) in note.sentences.iter().enumerate() {
        let range = s.tokens.clone();
        let newborn = range.clone().any(|t| NEWBORN.contains(&lower(note, t)));
        for t in range.clone() {
            bmi_at(note, t, range.end, si as u32, age, &mut out);
            if !newborn {
                gestation_at(note, t, range.clone(), si as u32, &mut out);
            }
            if nihss.is_none() {
                nihss = nihss_at(note, t, range.end, si as u32);
            }
        }
    }
    out.extend(nihss);
    out.sort_by(|a, b| a.tokens.cmp(&b.tokens).then(a.key.cmp(&b.key)));
    out.dedup_by(|a, b| a.key == b.key && a.sentence == b.sentence);
    out
}

fn bmi_at(
    note: &Annotated,
    t: usize,
    end: usize,
    si: u32,
    age: Option<u16>,
    out: &mut Vec<Reading>,
) {
    // The trigger: "BMI", or "body mass index" / "mass index".
    let trigger: Vec<u32> = match lower(note, t) {
        "bmi" => vec![t as u32],
        "mass" if lower(note, t + 1) == "index" => {
            if t > 0 && lower(note, t - 1) == "body" {
                vec![t as u32 - 1, t as u32, t as u32 + 1]
            } else {
                vec![t as u32, t as u32 + 1]
            }
        }
        _ => return,
    };
    // "body mass index (BMI) 41": only the first trigger of the run reads.
    if lower(note, t) == "bmi" && (t.saturating_sub(3)..t).any(|i| lower(note, i) == "index") {
        return;
    }
    let mut k = *trigger.last().unwrap_or(&(t as u32)) as usize + 1;
    let limit = (k + 6).min(end);
    while k < limit {
        let w = lower(note, k);
        if let Some(v) = number(note, k) {
            let percentile = (k + 1..(k + 3).min(end)).any(|i| {
                let w = lower(note, i);
                w == "percentile" || w == "centile"
            });
            let (rule, key) = if percentile {
                if !age.is_some_and(|a| (2..20).contains(&a)) {
                    return;
                }
                (NumericRule::BmiPediatric, bmi_percentile_key(v))
            } else {
                if age.is_some_and(|a| a < 20) {
                    return;
                }
                (NumericRule::BmiAdult, bmi_adult_key(v))
            };
            if let Some(key) = key {
                let mut tokens = trigger;
                tokens.push(k as u32);
                tokens.sort_unstable();
                out.push(Reading {
                    rule,
                    key,
                    value: v,
                    sentence: si,
                    tokens,
                });
            }
            return;
        }
        // "BMI > 40", "BMI < 16": a bound, not a documented value.
        if !VALUE_FILLER.contains(&w) && !BMI_FILLER.contains(&w) {
            return;
        }
        k += 1;
    }
}

/// Further words between the NIHSS trigger and its score.
const NIHSS_FILLER: &[&str] = &[
    "score",
    "scored",
    "total",
    "on",
    "admission",
    "arrival",
    "initial",
    "baseline",
    "nihss",
];

/// An NIH Stroke Scale score at token `t`: the trigger ("NIHSS", "NIH
/// stroke scale", "National Institutes of Health Stroke Scale"), a few
/// filler words, then a whole number from 0 to 42. Bounds ("NIHSS > 4")
/// and ranges ("NIHSS 10-12") are not documented scores.
fn nihss_at(note: &Annotated, t: usize, end: usize, si: u32) -> Option<Reading> {
    let trigger: Vec<u32> = match lower(note, t) {
        "nihss" => {
            // "… Stroke Scale (NIHSS) 14": the spelled-out trigger reads.
            if (t.saturating_sub(3)..t).any(|i| lower(note, i) == "scale") {
                return None;
            }
            vec![t as u32]
        }
        "stroke"
            if lower(note, t + 1) == "scale"
                && t > 0
                && matches!(lower(note, t - 1), "nih" | "health") =>
        {
            vec![t as u32 - 1, t as u32, t as u32 + 1]
        }
        _ => return None,
    };
    let mut k = *trigger.last()? as usize + 1;
    let limit = (k + 6).min(end);
    while k < limit {
        let tok = note.tokens.get(k)?;
        if tok.kind == TokenKind::Number {
            let raw = &note.text[tok.start..tok.end];
            let score: u32 = raw.parse().ok()?;
            if score > NIHSS_MAX {
                return None;
            }
            // "NIHSS 10-12", "NIHSS 8 to 10": a range, not the score.
            let next = lower(note, k + 1);
            if k + 2 < end
                && matches!(next, "-" | "to" | "or")
                && note
                    .tokens
                    .get(k + 2)
                    .is_some_and(|x| x.kind == TokenKind::Number)
            {
                return None;
            }
            let mut tokens = trigger;
            tokens.push(k as u32);
            return Some(Reading {
                rule: NumericRule::NihssScore,
                key: nihss_key(score),
                value: f64::from(score),
                sentence: si,
                tokens,
            });
        }
        let w = lower(note, k);
        if !VALUE_FILLER.contains(&w) && !NIHSS_FILLER.contains(&w) {
            return None;
        }
        k += 1;
    }
    None
}

fn is_week(w: &str) -> bool {
    matches!(w, "week" | "weeks" | "wk" | "wks")
}

fn is_pregnancy(w: &str) -> bool {
    matches!(
        w,
        "gestation" | "gestational" | "pregnant" | "pregnancy" | "gestating" | "amenorrhea"
    )
}

fn gestation_at(
    note: &Annotated,
    t: usize,
    range: std::ops::Range<usize>,
    si: u32,
    out: &mut Vec<Reading>,
) {
    let Some(v) = number(note, t) else { return };
    if !(1.0..46.0).contains(&v) {
        return;
    }
    // "24 to 26 weeks", "16-18 weeks": a range, not the documented age.
    if t >= 2
        && t > range.start + 1
        && matches!(lower(note, t - 1), "to" | "-" | "and" | "or")
        && number(note, t - 2).is_some()
    {
        return;
    }
    // "32 + 4 weeks": the days after the plus are not weeks.
    if t > range.start && lower(note, t - 1) == "+" {
        return;
    }
    // "19.6 weeks" (weeks.days): completed weeks count.
    let weeks = v.floor() as u32;
    let end = range.end;
    let at = |i: usize| if i < end { lower(note, i) } else { "" };
    // N [+ D] [-] week(s) …: "38 weeks gestation", "24-week pregnancy",
    // "32 + 4 weeks of gestation".
    let mut k = t + 1;
    if at(k) == "+" && number(note, k + 1).is_some() {
        k += 2;
    }
    if at(k) == "-" {
        k += 1;
    }
    let mut found: Option<Vec<u32>> = None;
    if is_week(at(k)) {
        let week_tok = k;
        // … then the pregnancy word within the next three tokens.
        let after = (k + 1..(k + 4).min(end)).find(|&i| is_pregnancy(at(i)));
        // … or the pregnancy word just before: "pregnancy of 24 weeks",
        // "gestational age of 34 weeks", "pregnant at 20 weeks".
        let before = (range.start.max(t.saturating_sub(4))..t)
            .rev()
            .find(|&i| is_pregnancy(at(i)));
        if let Some(p) = after.or(before) {
            found = Some(vec![t as u32, week_tok as u32, p as u32]);
        }
    } else if t > range.start && is_week(lower(note, t - 1)) {
        // "week 21 of gestation", "at week 40 + 1 of pregnancy".
        let after = (t + 1..(t + 5).min(end)).find(|&i| is_pregnancy(at(i)));
        if let Some(p) = after {
            found = Some(vec![t as u32 - 1, t as u32, p as u32]);
        }
    }
    let Some(mut tokens) = found else { return };
    // A range's lower bound ("24 to 26 weeks") is not the documented age.
    if matches!(at(t + 1), "to" | "-" | "and" | "or") && number(note, t + 2).is_some() {
        return;
    }
    let Some(key) = gestation_key(weeks) else {
        return;
    };
    tokens.sort_unstable();
    tokens.dedup();
    out.push(Reading {
        rule: NumericRule::GestationWeeks,
        key,
        value: v,
        sentence: si,
        tokens,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::Dictionary;
    use crate::matcher::{Scratch, annotate};

    fn read(text: &str, age: Option<u16>) -> Vec<(String, String)> {
        let dict = Dictionary {
            vocab: Default::default(),
            entries: Vec::new(),
            anchors: Default::default(),
            report: Default::default(),
        };
        let mut scratch = Scratch::default();
        let note = annotate(text, &dict, &mut scratch);
        readings(&note, age)
            .into_iter()
            .map(|r| {
                let ev: Vec<&str> = r
                    .tokens
                    .iter()
                    .map(|&t| {
                        let tok = &note.tokens[t as usize];
                        &text[tok.start..tok.end]
                    })
                    .collect();
                (r.key, ev.join(" "))
            })
            .collect()
    }

    #[test]
    fn adult_bmi_values_by_band() {
        assert_eq!(
            read("Weight 80 kg, BMI 31.2 kg/m2.", None),
            vec![("Z6831".into(), "BMI 31.2".into())]
        );
        assert_eq!(read("BMI: 17", Some(40))[0].0, "Z681");
        assert_eq!(read("with a BMI of 19.9", None)[0].0, "Z681");
        assert_eq!(read("BMI = 20", None)[0].0, "Z6820");
        assert_eq!(read("BMI 41kg/m2", None)[0].0, "Z6841");
        assert_eq!(read("BMI 46", None)[0].0, "Z6842");
        assert_eq!(read("BMI 52 kg", None)[0].0, "Z6843");
        assert_eq!(read("BMI 74 kg/m2", None)[0].0, "Z6845");
        // A decimal comma, as a translated note writes it.
        assert_eq!(read("BMI 25,6", None)[0].0, "Z6825");
    }

    #[test]
    fn body_mass_index_spelled_out_reads_once() {
        let got = read("Her body mass index (BMI) was 36 kg/m2.", None);
        assert_eq!(got, vec![("Z6836".into(), "body mass index 36".into())]);
        assert_eq!(read("a mass index (BMI) 41kg/m2", None)[0].0, "Z6841");
    }

    #[test]
    fn bounds_words_and_children_are_not_values() {
        assert!(read("extreme obesity (BMI > 40 kg/m2)", None).is_empty());
        assert!(read("cachexia (BMI < 16)", None).is_empty());
        assert!(read("her body mass index was normal", None).is_empty());
        // A child's BMI value is not an adult code; the percentile is.
        assert!(read("BMI 24", Some(12)).is_empty());
        assert_eq!(read("BMI at the 97th percentile", Some(12))[0].0, "Z6854");
        assert_eq!(read("BMI 60th percentile", Some(8))[0].0, "Z6852");
        assert!(read("BMI 97th percentile", Some(45)).is_empty());
    }

    #[test]
    fn weeks_of_gestation_in_its_spellings() {
        let cases = [
            ("Primigravida, 38 weeks gestation, admitted.", "Z3A38"),
            ("A woman, 34 weeks pregnant, presented.", "Z3A34"),
            ("Ultrasound at 35 weeks of gestation.", "Z3A35"),
            (
                "ruptured membranes during pregnancy of 24 weeks and 5 days",
                "Z3A24",
            ),
            ("ventriculomegaly at week 21 of gestation", "Z3A21"),
            ("seen at 32 + 4 weeks of gestation", "Z3A32"),
            ("a 20-week pregnancy", "Z3A20"),
            ("gestational age of 27 weeks", "Z3A27"),
            ("pregnant, 6 weeks", "Z3A01"),
            ("live product of 19.6 weeks of gestation", "Z3A19"),
        ];
        for (text, key) in cases {
            let got = read(text, Some(30));
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            assert_eq!(got[0].0, key, "{text}");
        }
        assert_eq!(
            read("38 weeks gestation", None)[0].1,
            "38 weeks gestation",
            "evidence is the number, the week word and the pregnancy word"
        );
    }

    #[test]
    fn newborn_gestational_age_and_plain_durations_are_not_weeks_of_gestation() {
        assert!(read("Born at 39 weeks of gestation by eutocic delivery.", None).is_empty());
        assert!(read("preterm newborn of 32 weeks gestational age", None).is_empty());
        assert!(read("Symptoms for 3 weeks, then fever.", None).is_empty());
        assert!(read("treated for 6 weeks after surgery", None).is_empty());
        assert!(read("pregnancy 2 years ago; 50 weeks", None).is_empty());
        assert!(read("a minimum gestational age of 24 to 26 weeks", None).is_empty());
    }

    #[test]
    fn nihss_scores_in_their_spellings() {
        let cases = [
            ("On arrival NIHSS 14.", "R29714", "NIHSS 14"),
            ("NIHSS score of 3 at admission", "R29703", "NIHSS 3"),
            ("NIHSS: 0", "R29700", "NIHSS 0"),
            ("NIH stroke scale 21", "R29721", "NIH stroke scale 21"),
            (
                "National Institutes of Health Stroke Scale (NIHSS) score of 42.",
                "R29742",
                "Health Stroke Scale 42",
            ),
            ("with an initial NIHSS of 9 points", "R29709", "NIHSS 9"),
        ];
        for (text, key, ev) in cases {
            let got = read(text, Some(70));
            assert_eq!(got, vec![(key.to_string(), ev.to_string())], "{text}");
        }
    }

    #[test]
    fn nihss_bounds_ranges_and_later_scores_are_not_read() {
        assert!(read("thrombolysis is offered when NIHSS > 4", None).is_empty());
        assert!(read("NIHSS 10-12 on examination", None).is_empty());
        assert!(read("NIHSS 43", None).is_empty(), "the scale ends at 42");
        assert!(read("NIHSS improved from 12 to 4", None).is_empty());
        assert!(
            read("stroke scale 12", None).is_empty(),
            "which scale is not said"
        );
        // The initial score is the one reported.
        let got = read("NIHSS 16 on arrival. After thrombectomy NIHSS 5.", None);
        assert_eq!(got, vec![("R29716".into(), "NIHSS 16".into())]);
    }

    #[test]
    fn every_key_is_in_the_table() {
        let keys: Vec<String> = all_keys().into_iter().map(|(_, k)| k).collect();
        for v in [10.0, 19.5, 20.0, 29.9, 35.5, 42.0, 47.0, 55.0, 65.0, 80.0] {
            assert!(keys.contains(&bmi_adult_key(v).unwrap()), "{v}");
        }
        for w in 1..=45 {
            assert!(keys.contains(&gestation_key(w).unwrap()), "{w}");
        }
        assert!(keys.contains(&"R29700".to_string()) && keys.contains(&"R29742".to_string()));
        assert!(is_numeric_code("R29715") && !is_numeric_code("R29810"));
        assert!(is_score_code("R402350") && is_score_code("Z6830") && !is_score_code("R40.0"));
    }
}
