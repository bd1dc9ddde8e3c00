//! Data-driven ConText cases: the target is marked with [brackets]; flags are
//! N (negated), U (uncertain), H (historical), F (family), Y (hypothetical),
//! "-" for an affirmed current mention.

use medledger_text::{ContextAnalyzer, SectionKind, sentences, tokenize};

use SectionKind::*;

const CASES: &[(&str, SectionKind, &str)] = &[
    ("No [fever], chills or cough.", Hpi, "N"),
    ("No fever, [chills] or cough.", Hpi, "N"),
    ("No fever, chills or [cough].", Hpi, "N"),
    ("Denies [chest pain] but reports dyspnea.", Hpi, "N"),
    ("Denies chest pain but reports [dyspnea].", Hpi, "-"),
    ("History of [duodenal ulcer].", Hpi, "H"),
    ("[Mother] has breast cancer.", Hpi, "-"),
    ("Mother has [breast cancer].", Hpi, "F"),
    ("Rule out [pneumonia].", Assessment, "U"),
    ("Return if [fever] develops.", Plan, "Y"),
    ("[Pneumonia] was ruled out.", Assessment, "N"),
    ("Gram-negative [bacteremia].", Assessment, "-"),
    ("No change in the [hypertension].", Assessment, "-"),
    ("[Hypertension].", PastMedicalHistory, "H"),
    ("[Diabetes] in mother.", FamilyHistory, "F"),
    ("Findings compatible with [renoureteral colic].", Hpi, "U"),
    (
        "No history of [nephrolithiasis], hematuria or urinary tract infections.",
        Hpi,
        "N",
    ),
    (
        "No history of nephrolithiasis, hematuria or [urinary tract infections].",
        Hpi,
        "N",
    ),
    ("The patient has [pneumonia].", Hpi, "-"),
    (
        "Possible [pneumonia] in the right lower lobe.",
        Assessment,
        "U",
    ),
    ("[Pulmonary embolism] is unlikely.", Assessment, "N"),
    ("Probable [viral gastroenteritis].", Assessment, "U"),
    ("Suspected [appendicitis].", Hpi, "U"),
    ("Chest x-ray negative for [pneumonia].", Results, "N"),
    (
        "There is no evidence of [deep vein thrombosis].",
        Results,
        "N",
    ),
    ("She is status post [appendectomy].", Hpi, "H"),
    ("S/p [cholecystectomy] in 2010.", Hpi, "H"),
    ("H/o [myocardial infarction].", Hpi, "H"),
    ("[Asthma] in childhood.", Hpi, "H"),
    ("Family history of [colon cancer].", Hpi, "F"),
    ("His father had [prostate cancer].", Hpi, "F"),
    ("[Breast cancer] in her sister.", Hpi, "F"),
    ("Call if [chest pain] recurs.", Plan, "Y"),
    ("Monitor for [hypoglycemia].", Plan, "Y"),
    ("[DVT] prophylaxis with heparin.", Plan, "Y"),
    ("At risk for [falls].", Plan, "Y"),
    ("Pneumonia versus [atelectasis].", Assessment, "U"),
    ("[Pneumonia] versus atelectasis.", Assessment, "U"),
    (
        "[Myocardial infarction] cannot be excluded.",
        Assessment,
        "U",
    ),
    (
        "Myocardial infarction not ruled out; [angina] confirmed.",
        Assessment,
        "-",
    ),
    ("[Malignancy] not ruled out.", Assessment, "U"),
    ("Patient denies [nausea], vomiting, and diarrhea.", Ros, "N"),
    ("Patient denies nausea, vomiting, and [diarrhea].", Ros, "N"),
    ("Without [abdominal pain].", Hpi, "N"),
    ("Breathing without difficulty; [wheezing] noted.", Exam, "-"),
    (
        "Swallowed without difficulty; [dysphagia] noted later.",
        Hpi,
        "-",
    ),
    ("Fever: [none].", Ros, "-"),
    ("[Fever]: none.", Ros, "N"),
    ("[Chest pain]: no.", Ros, "N"),
    ("[Edema] absent.", Exam, "N"),
    ("His [pneumonia] has resolved.", HospitalCourse, "N"),
    ("? [pneumonia] on imaging.", Results, "U"),
    ("Concerning for [sepsis].", Assessment, "U"),
    ("Suggestive of [lymphoma].", Results, "U"),
    (
        "Not only [anemia] but also thrombocytopenia.",
        Assessment,
        "-",
    ),
    ("No fever, but has [cough].", Hpi, "-"),
    ("Previous [stroke] with residual weakness.", Hpi, "H"),
    ("Diagnosed with [hypertension] 10 years ago.", Hpi, "H"),
    ("He never had [seizures].", Hpi, "N"),
    ("Influenza A [negative].", Results, "-"),
    ("[Influenza] negative.", Results, "N"),
    (
        "She has [diabetes] and her mother has hypertension.",
        Hpi,
        "-",
    ),
    ("Her mother brought her in for [abdominal pain].", Hpi, "-"),
    (
        "Differential diagnosis includes [cholecystitis] and pancreatitis.",
        Assessment,
        "U",
    ),
    (
        "Differential diagnosis includes cholecystitis and [pancreatitis].",
        Assessment,
        "U",
    ),
    (
        "If [symptoms] worsen, go to the emergency department.",
        Plan,
        "Y",
    ),
    ("No [acute intracranial hemorrhage].", Results, "N"),
    ("Negative for [fever] or chills.", Ros, "N"),
    ("Free of [pain] since surgery.", Hpi, "N"),
    (
        "[Hypertension], well controlled on lisinopril.",
        AssessmentPlan,
        "-",
    ),
    ("No family history of [colon cancer].", Hpi, "N"),
    ("Triple negative [breast cancer].", Assessment, "-"),
    (
        "Mother with [diabetes]; patient has [hypertension].",
        FamilyHistory,
        "F",
    ),
    ("R/o [myocardial infarction].", Assessment, "U"),
    ("Discussed risk of [bleeding] with the patient.", Plan, "Y"),
    ("The patient presents with [cough] and no fever.", Hpi, "-"),
    ("The patient presents with cough and no [fever].", Hpi, "N"),
    ("She did not present [fever] or vomiting.", Hpi, "N"),
    ("[Pneumothorax] is not seen on this film.", Results, "N"),
    ("[Pneumothorax] not present.", Results, "N"),
];

fn parse(marked: &str) -> (String, usize, usize) {
    let a = marked.find('[').expect("[");
    let b = marked.find(']').expect("]");
    let mut s = String::with_capacity(marked.len());
    s.push_str(&marked[..a]);
    s.push_str(&marked[a + 1..b]);
    s.push_str(&marked[b + 1..]);
    // Remaining brackets (a second marked phrase) are removed too; only the
    // first one is the target.
    let s = s.replace(['[', ']'], "");
    (s, a, b - 1)
}

#[test]
fn context_table() {
    assert!(CASES.len() >= 40);
    let an = ContextAnalyzer::new();
    let mut failures = Vec::new();
    for &(marked, section, expected) in CASES {
        let (text, ts, te) = parse(marked);
        let toks = tokenize(&text);
        let sents = sentences(&text, &toks);
        let a = toks
            .iter()
            .position(|t| t.start >= ts)
            .expect("target token");
        let b = toks
            .iter()
            .position(|t| t.start >= te)
            .unwrap_or(toks.len());
        let sent = sents
            .iter()
            .find(|s| s.tokens.contains(&a))
            .expect("sentence");
        let c = an.analyze(&text, &toks, sent, a..b, section);
        let mut got = String::new();
        for (flag, ch) in [
            (c.negated, 'N'),
            (c.uncertain, 'U'),
            (c.historical, 'H'),
            (c.family, 'F'),
            (c.hypothetical, 'Y'),
        ] {
            if flag {
                got.push(ch);
            }
        }
        if got.is_empty() {
            got.push('-');
        }
        assert_eq!(got == "-", c.is_affirmed_current());
        for cue in &c.cues {
            assert!(cue.start <= cue.end && cue.end <= text.len());
            assert_eq!(&text[cue.start..cue.end], cue.text);
        }
        if got != expected {
            failures.push(format!(
                "{marked:?} ({section:?}): expected {expected}, got {got} cues {:?}",
                c.cues
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
