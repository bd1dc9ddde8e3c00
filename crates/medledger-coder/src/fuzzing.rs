//! One entry point for the fuzz target (`fuzz/fuzz_targets/code_note.rs`)
//! and the stable seed-replay test: arbitrary bytes go through input checks
//! and the whole coding pipeline over a small tabular in the CDC layout.

use std::sync::{Arc, OnceLock};

use crate::coder::{Coder, Encounter, Setting};
use crate::matcher::Scratch;

/// A few categories in the official tabular layout, written for the tests.
pub const MINI_TABULAR: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular><version>2026</version>
<chapter><name>4</name><desc>Endocrine, nutritional and metabolic diseases (E00-E89)</desc>
<section id="E08-E13"><desc>Diabetes mellitus (E08-E13)</desc>
<diag><name>E11</name><desc>Type 2 diabetes mellitus</desc>
<excludes1><note>type 1 diabetes mellitus (E10.-)</note></excludes1>
<useAdditionalCode><note>insulin (Z79.4)</note></useAdditionalCode>
<diag><name>E11.2</name><desc>Type 2 diabetes mellitus with kidney complications</desc>
<diag><name>E11.22</name><desc>Type 2 diabetes mellitus with diabetic chronic kidney disease</desc></diag></diag>
<diag><name>E11.9</name><desc>Type 2 diabetes mellitus without complications</desc></diag>
</diag>
<diag><name>E10</name><desc>Type 1 diabetes mellitus</desc>
<diag><name>E10.9</name><desc>Type 1 diabetes mellitus without complications</desc></diag></diag>
</section></chapter>
<chapter><name>9</name><desc>Diseases of the circulatory system (I00-I99)</desc>
<section id="I10-I1A"><desc>Hypertensive diseases (I10-I1A)</desc>
<diag><name>I10</name><desc>Essential (primary) hypertension</desc>
<inclusionTerm><note>high blood pressure</note></inclusionTerm></diag>
</section></chapter>
<chapter><name>18</name><desc>Symptoms, signs and abnormal clinical and laboratory findings (R00-R99)</desc>
<section id="R50-R69"><desc>General symptoms and signs (R50-R69)</desc>
<diag><name>R50</name><desc>Fever of other and unknown origin</desc>
<diag><name>R50.9</name><desc>Fever, unspecified</desc></diag></diag>
</section></chapter>
<chapter><name>19</name><desc>Injury (S00-T88)</desc>
<section id="S50-S59"><desc>Injuries to the elbow and forearm (S50-S59)</desc>
<diag><name>S52</name><desc>Fracture of forearm</desc>
<sevenChrDef><extension char="A">initial encounter for closed fracture</extension><extension char="D">subsequent encounter for closed fracture with routine healing</extension></sevenChrDef>
<diag><name>S52.5</name><desc>Fracture of lower end of radius</desc>
<diag><name>S52.502</name><desc>Unspecified fracture of the lower end of left radius</desc></diag></diag></diag>
</section></chapter>
<chapter><name>21</name><desc>Factors influencing health status (Z00-Z99)</desc>
<section id="Z77-Z99"><desc>Persons with potential health hazards (Z77-Z99)</desc>
<diag><name>Z79</name><desc>Long term (current) drug therapy</desc>
<diag><name>Z79.4</name><desc>Long term (current) use of insulin</desc></diag></diag>
</section></chapter>
</ICD10CM.tabular>"#;

pub fn mini_coder() -> &'static Coder<'static> {
    static C: OnceLock<Coder<'static>> = OnceLock::new();
    C.get_or_init(|| {
        let tab = medledger_codesets::icd10cm::tabular::parse_tabular(
            MINI_TABULAR.as_bytes(),
            "mini.xml",
        )
        .expect("the embedded tabular parses");
        Coder::from_tabular(Arc::new(tab), "mini", None)
    })
}

/// Codes arbitrary bytes; the first byte picks the setting. Never panics;
/// every evidence span of a result is verbatim at its code-point offsets.
pub fn code_any(data: &[u8]) {
    let coder = mini_coder();
    let setting = match data.first() {
        Some(b) if b % 2 == 1 => Setting::Inpatient,
        _ => Setting::Outpatient,
    };
    let enc = Encounter {
        setting,
        ..Encounter::default()
    };
    let body = data.get(1..).unwrap_or_default();
    if let Ok(r) = coder.code_bytes("fuzz", body, &enc, &mut Scratch::default()) {
        let text = std::str::from_utf8(body).unwrap_or_default();
        let chars: Vec<char> = text.chars().collect();
        for s in r.suggestions.iter().chain(&r.candidates) {
            assert!(!s.evidence.is_empty(), "a suggestion without evidence");
            for e in &s.evidence {
                let got: String = chars[e.start..e.end].iter().collect();
                assert_eq!(got, e.text, "evidence not verbatim");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mini_coder_codes_its_own_terms() {
        let r = mini_coder()
            .code(
                "t",
                "Type 2 diabetes with chronic kidney disease, on insulin. High blood pressure.",
                &Encounter::default(),
                &mut Scratch::default(),
            )
            .expect("codes");
        let c: Vec<&str> = r.suggestions.iter().map(|s| s.code.as_str()).collect();
        assert!(c.contains(&"E11.22"), "{c:?}");
        assert!(c.contains(&"I10"), "{c:?}");
        assert!(c.contains(&"Z79.4"), "{c:?}");
        code_any(b"\x01No fever. fracture of the left distal radius \xff");
    }
}
