//! Our curated condition lexicon: for each chronic condition family, the
//! ICD-10-CM code prefixes it covers, the words a note uses for it, the
//! medications that treat it and the tests that evaluate it. Plain words of
//! our own; matched case-insensitively on word boundaries.

/// One condition family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    /// Stable id ("diabetes").
    pub id: &'static str,
    /// ICD-10-CM code prefixes (keys without dots).
    pub prefixes: &'static [&'static str],
    /// Names and synonyms of the condition.
    pub terms: &'static [&'static str],
    /// Medications and treatments given for it.
    pub drugs: &'static [&'static str],
    /// Tests, readings and measures that evaluate it.
    pub tests: &'static [&'static str],
}

/// The lexicon.
pub const CONDITIONS: &[Condition] = &[
    Condition {
        id: "diabetes",
        prefixes: &["E08", "E09", "E10", "E11", "E13"],
        terms: &[
            "diabetes",
            "diabetic",
            "dm",
            "t2dm",
            "t1dm",
            "dm2",
            "iddm",
            "niddm",
            "hyperglycemia",
        ],
        drugs: &[
            "metformin",
            "insulin",
            "glargine",
            "lispro",
            "aspart",
            "glipizide",
            "glimepiride",
            "glyburide",
            "sitagliptin",
            "januvia",
            "empagliflozin",
            "jardiance",
            "dapagliflozin",
            "semaglutide",
            "ozempic",
            "liraglutide",
            "dulaglutide",
            "trulicity",
            "pioglitazone",
            "tirzepatide",
        ],
        tests: &[
            "hba1c",
            "a1c",
            "hemoglobin a1c",
            "glucose",
            "fingerstick",
            "monofilament",
            "foot exam",
            "retinal exam",
            "microalbumin",
            "uacr",
        ],
    },
    Condition {
        id: "heart_failure",
        prefixes: &["I50", "I110", "I130", "I132", "I420", "I425", "I429"],
        terms: &[
            "heart failure",
            "chf",
            "hfref",
            "hfpef",
            "cardiomyopathy",
            "systolic dysfunction",
            "diastolic dysfunction",
        ],
        drugs: &[
            "furosemide",
            "lasix",
            "torsemide",
            "bumetanide",
            "carvedilol",
            "metoprolol",
            "sacubitril",
            "entresto",
            "spironolactone",
            "eplerenone",
            "lisinopril",
            "losartan",
            "digoxin",
        ],
        tests: &[
            "bnp",
            "nt-probnp",
            "probnp",
            "ejection fraction",
            "lvef",
            "ef",
            "echocardiogram",
            "echo",
            "daily weights",
            "edema",
            "jvd",
        ],
    },
    Condition {
        id: "ckd",
        prefixes: &["N18", "I12", "I13"],
        terms: &[
            "ckd",
            "chronic kidney disease",
            "chronic renal disease",
            "renal insufficiency",
            "kidney disease",
            "nephropathy",
        ],
        drugs: &[
            "nephrology",
            "dialysis",
            "sodium bicarbonate",
            "calcitriol",
            "erythropoietin",
        ],
        tests: &[
            "egfr",
            "gfr",
            "creatinine",
            "bun",
            "uacr",
            "albuminuria",
            "proteinuria",
        ],
    },
    Condition {
        id: "copd",
        prefixes: &["J43", "J44"],
        terms: &[
            "copd",
            "emphysema",
            "chronic bronchitis",
            "chronic obstructive pulmonary disease",
        ],
        drugs: &[
            "inhaler",
            "albuterol",
            "tiotropium",
            "spiriva",
            "fluticasone",
            "salmeterol",
            "advair",
            "symbicort",
            "budesonide",
            "formoterol",
            "umeclidinium",
            "prednisone",
            "nebulizer",
            "home oxygen",
            "pulmonary rehab",
        ],
        tests: &[
            "spirometry",
            "fev1",
            "pft",
            "pulmonary function",
            "oxygen saturation",
            "spo2",
        ],
    },
    Condition {
        id: "depression",
        prefixes: &["F32", "F33"],
        terms: &[
            "depression",
            "depressive",
            "mdd",
            "major depressive disorder",
            "depressed mood",
        ],
        drugs: &[
            "sertraline",
            "zoloft",
            "fluoxetine",
            "prozac",
            "escitalopram",
            "lexapro",
            "citalopram",
            "bupropion",
            "wellbutrin",
            "venlafaxine",
            "duloxetine",
            "mirtazapine",
            "psychotherapy",
            "therapy",
            "behavioral health",
        ],
        tests: &["phq-9", "phq9", "phq-2", "phq"],
    },
    Condition {
        id: "atrial_fibrillation",
        prefixes: &["I48"],
        terms: &["atrial fibrillation", "afib", "a-fib", "atrial flutter"],
        drugs: &[
            "apixaban",
            "eliquis",
            "rivaroxaban",
            "xarelto",
            "warfarin",
            "coumadin",
            "diltiazem",
            "metoprolol",
            "amiodarone",
            "anticoagulation",
        ],
        tests: &["inr", "ecg", "ekg", "heart rate", "holter"],
    },
    Condition {
        id: "morbid_obesity",
        prefixes: &["E6601", "E662", "Z6841", "Z6842", "Z6843", "Z6844", "Z6845"],
        terms: &["morbid obesity", "severe obesity", "obesity", "obese"],
        drugs: &[
            "bariatric",
            "nutrition",
            "dietitian",
            "semaglutide",
            "wegovy",
            "phentermine",
        ],
        tests: &["bmi", "body mass index", "weight"],
    },
];

/// The condition family of an ICD-10-CM code, if we have one.
pub fn condition_for(code: &str) -> Option<&'static Condition> {
    let key = crate::hcc::dx_key(code);
    CONDITIONS
        .iter()
        .find(|c| c.prefixes.iter().any(|p| key.starts_with(p)))
}

/// Byte ranges of `term` in `lower` (ASCII-lower-cased text) on word
/// boundaries.
pub fn find_term(lower: &str, term: &str) -> Vec<(usize, usize)> {
    let bytes = lower.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower.get(from..).and_then(|s| s.find(term)) {
        let s = from + i;
        let e = s + term.len();
        let before = s == 0 || !bytes[s - 1].is_ascii_alphanumeric();
        let after = e >= bytes.len() || !bytes[e].is_ascii_alphanumeric();
        if before && after {
            out.push((s, e));
        }
        from = s + 1;
        while from < lower.len() && !lower.is_char_boundary(from) {
            from += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_prefix() {
        assert_eq!(condition_for("E11.65").map(|c| c.id), Some("diabetes"));
        assert_eq!(condition_for("I50.22").map(|c| c.id), Some("heart_failure"));
        assert_eq!(condition_for("N18.4").map(|c| c.id), Some("ckd"));
        assert_eq!(condition_for("Z00.00"), None);
    }

    #[test]
    fn terms_on_word_boundaries() {
        assert_eq!(find_term("ef 35%, chef", "ef"), vec![(0, 2)]);
        assert_eq!(find_term("phq-9 of 12", "phq-9"), vec![(0, 5)]);
        assert!(find_term("metformin", "form").is_empty());
        assert_eq!(find_term("é dm", "dm"), vec![(3, 5)]);
    }
}
