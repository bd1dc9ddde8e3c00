//! Clinical abbreviations and synonyms understood by code search.
//!
//! Our own curated list: each abbreviation expands to the words the code
//! titles use. Synonyms map everyday or adjective forms to the words of the
//! classification ("renal" -> "kidney").

/// (abbreviation, expansion)
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("aaa", "abdominal aortic aneurysm"),
    ("adhd", "attention deficit hyperactivity disorder"),
    ("afib", "atrial fibrillation"),
    ("af", "atrial fibrillation"),
    ("aki", "acute kidney failure"),
    ("ards", "acute respiratory distress syndrome"),
    ("bph", "benign prostatic hyperplasia"),
    ("cabg", "coronary artery bypass graft"),
    ("cad", "coronary atherosclerosis heart disease"),
    ("cap", "community acquired pneumonia"),
    ("chf", "congestive heart failure"),
    ("ckd", "chronic kidney disease"),
    ("copd", "chronic obstructive pulmonary disease"),
    ("cva", "cerebral infarction stroke"),
    ("dm", "diabetes mellitus"),
    ("dm1", "type 1 diabetes mellitus"),
    ("dm2", "type 2 diabetes mellitus"),
    ("dvt", "deep vein thrombosis"),
    ("esrd", "end stage renal disease"),
    ("gad", "generalized anxiety disorder"),
    ("gerd", "gastro esophageal reflux disease"),
    ("gi", "gastrointestinal"),
    ("hcv", "hepatitis c"),
    ("hbv", "hepatitis b"),
    ("hfref", "systolic heart failure"),
    ("hfpef", "diastolic heart failure"),
    ("hiv", "human immunodeficiency virus"),
    ("hld", "hyperlipidemia"),
    ("htn", "hypertension"),
    ("ibs", "irritable bowel syndrome"),
    ("iddm", "type 1 diabetes mellitus"),
    ("mdd", "major depressive disorder"),
    ("mi", "myocardial infarction"),
    ("ms", "multiple sclerosis"),
    ("niddm", "type 2 diabetes mellitus"),
    ("nstemi", "non st elevation myocardial infarction"),
    ("oa", "osteoarthritis"),
    ("osa", "obstructive sleep apnea"),
    ("pad", "peripheral arterial disease"),
    ("pe", "pulmonary embolism"),
    ("pna", "pneumonia"),
    ("ptsd", "post traumatic stress disorder"),
    ("pvd", "peripheral vascular disease"),
    ("ra", "rheumatoid arthritis"),
    ("sob", "shortness of breath"),
    ("stemi", "st elevation myocardial infarction"),
    ("t1dm", "type 1 diabetes mellitus"),
    ("t2dm", "type 2 diabetes mellitus"),
    ("tb", "tuberculosis"),
    ("tia", "transient ischemic attack"),
    ("uri", "upper respiratory infection"),
    ("uti", "urinary tract infection"),
    ("rpm", "remote physiologic monitoring"),
    ("rtm", "remote therapeutic monitoring"),
    ("dmht", "digital mental health treatment"),
];

/// (word, the classification's word), applied after abbreviations.
pub const SYNONYMS: &[(&str, &str)] = &[
    ("renal", "kidney"),
    ("cardiac", "heart"),
    ("hepatic", "liver"),
    ("pulmonary", "lung"),
    ("diabetic", "diabetes"),
    ("hypertensive", "hypertension"),
    ("cerebral", "brain"),
    ("gastric", "stomach"),
    ("ocular", "eye"),
    ("cutaneous", "skin"),
    ("fractured", "fracture"),
    ("distal", "lower end"),
    ("proximal", "upper end"),
    ("kidney", "renal"),
    ("broken", "fracture"),
    ("stroke", "infarction"),
    ("heart attack", "myocardial infarction"),
    ("high blood pressure", "hypertension"),
    ("sugar", "diabetes"),
];

pub fn expand_abbreviation(word: &str) -> Option<&'static str> {
    ABBREVIATIONS
        .iter()
        .find(|(a, _)| *a == word)
        .map(|(_, e)| *e)
}

pub fn synonym(word: &str) -> Option<&'static str> {
    SYNONYMS.iter().find(|(a, _)| *a == word).map(|(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lower_case_and_unique() {
        for list in [ABBREVIATIONS, SYNONYMS] {
            let mut seen = std::collections::HashSet::new();
            for (k, v) in list {
                assert_eq!(*k, k.to_lowercase());
                assert!(!v.is_empty());
                assert!(seen.insert(*k), "duplicate {k}");
            }
        }
        assert_eq!(expand_abbreviation("htn"), Some("hypertension"));
        assert_eq!(synonym("renal"), Some("kidney"));
    }
}
