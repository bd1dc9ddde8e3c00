//! Curated clinical abbreviations and acronyms with expansions that use the
//! wording of ICD-10-CM titles.
//!
//! Case rule: an abbreviation written fully in upper case is always looked up.
//! Written in lower or mixed case it is only expanded when it is marked
//! case-insensitive: at least four letters/digits and not an English word, or
//! a short form that is not an English word ("htn", "chf", "hgb", ...).

use std::collections::HashMap;
use std::sync::OnceLock;

const ENTRIES: &[(&str, &str)] = &[
    // Cardiovascular
    ("HTN", "hypertension"),
    ("HLD", "hyperlipidemia"),
    ("HTG", "hypertriglyceridemia"),
    ("CHF", "congestive heart failure"),
    ("HF", "heart failure"),
    ("HFrEF", "heart failure with reduced ejection fraction"),
    ("HFpEF", "heart failure with preserved ejection fraction"),
    ("CAD", "coronary artery disease"),
    ("ASCVD", "atherosclerotic cardiovascular disease"),
    ("ASHD", "atherosclerotic heart disease"),
    ("MI", "myocardial infarction"),
    ("AMI", "acute myocardial infarction"),
    ("NSTEMI", "non-st elevation myocardial infarction"),
    ("STEMI", "st elevation myocardial infarction"),
    ("ACS", "acute coronary syndrome"),
    ("SVT", "supraventricular tachycardia"),
    ("VT", "ventricular tachycardia"),
    ("VTACH", "ventricular tachycardia"),
    ("VF", "ventricular fibrillation"),
    ("VFIB", "ventricular fibrillation"),
    ("AF", "atrial fibrillation"),
    ("AFIB", "atrial fibrillation"),
    ("AFL", "atrial flutter"),
    ("PAF", "paroxysmal atrial fibrillation"),
    ("SSS", "sick sinus syndrome"),
    ("CHB", "complete atrioventricular block"),
    ("LBBB", "left bundle branch block"),
    ("RBBB", "right bundle branch block"),
    ("WPW", "wolff-parkinson-white syndrome"),
    ("PVC", "premature ventricular contractions"),
    ("PAC", "premature atrial contractions"),
    ("LVH", "left ventricular hypertrophy"),
    ("HCM", "hypertrophic cardiomyopathy"),
    ("HOCM", "hypertrophic obstructive cardiomyopathy"),
    ("DCM", "dilated cardiomyopathy"),
    ("ICM", "ischemic cardiomyopathy"),
    ("NICM", "non-ischemic cardiomyopathy"),
    ("RHD", "rheumatic heart disease"),
    ("MVP", "mitral valve prolapse"),
    ("VSD", "ventricular septal defect"),
    ("PDA", "patent ductus arteriosus"),
    ("PFO", "patent foramen ovale"),
    ("PVD", "peripheral vascular disease"),
    ("PAD", "peripheral arterial disease"),
    ("AAA", "abdominal aortic aneurysm"),
    ("DVT", "deep vein thrombosis"),
    ("PE", "pulmonary embolism"),
    ("VTE", "venous thromboembolism"),
    ("PAH", "pulmonary arterial hypertension"),
    ("PHTN", "pulmonary hypertension"),
    ("CABG", "coronary artery bypass graft"),
    ("PCI", "percutaneous coronary intervention"),
    ("PTCA", "percutaneous transluminal coronary angioplasty"),
    ("EF", "ejection fraction"),
    ("LVEF", "left ventricular ejection fraction"),
    // Cerebrovascular / neurological
    ("CVA", "stroke"),
    ("TIA", "transient ischemic attack"),
    ("SAH", "subarachnoid hemorrhage"),
    ("ICH", "intracranial hemorrhage"),
    ("SDH", "subdural hemorrhage"),
    ("TBI", "traumatic brain injury"),
    ("CHI", "closed head injury"),
    ("SCI", "spinal cord injury"),
    ("MS", "multiple sclerosis"),
    ("ALS", "amyotrophic lateral sclerosis"),
    ("SZ", "seizure"),
    ("CRPS", "complex regional pain syndrome"),
    ("RLS", "restless legs syndrome"),
    ("CTS", "carpal tunnel syndrome"),
    ("AMS", "altered mental status"),
    ("LOC", "loss of consciousness"),
    ("HA", "headache"),
    // Respiratory
    ("COPD", "chronic obstructive pulmonary disease"),
    (
        "AECOPD",
        "acute exacerbation of chronic obstructive pulmonary disease",
    ),
    ("OSA", "obstructive sleep apnea"),
    ("ARDS", "acute respiratory distress syndrome"),
    ("URI", "upper respiratory infection"),
    ("URTI", "upper respiratory tract infection"),
    ("LRTI", "lower respiratory tract infection"),
    ("CAP", "community acquired pneumonia"),
    ("HAP", "hospital acquired pneumonia"),
    ("VAP", "ventilator associated pneumonia"),
    ("PNA", "pneumonia"),
    ("PTX", "pneumothorax"),
    ("ILD", "interstitial lung disease"),
    ("IPF", "idiopathic pulmonary fibrosis"),
    ("CF", "cystic fibrosis"),
    ("TB", "tuberculosis"),
    ("SOB", "shortness of breath"),
    ("DOE", "dyspnea on exertion"),
    ("PND", "paroxysmal nocturnal dyspnea"),
    ("CP", "chest pain"),
    ("RSV", "respiratory syncytial virus"),
    // Gastrointestinal / hepatic
    ("GERD", "gastro-esophageal reflux disease"),
    ("GORD", "gastro-esophageal reflux disease"),
    ("PUD", "peptic ulcer disease"),
    ("GIB", "gastrointestinal hemorrhage"),
    ("UGIB", "upper gastrointestinal hemorrhage"),
    ("LGIB", "lower gastrointestinal hemorrhage"),
    ("BRBPR", "rectal bleeding"),
    ("IBD", "inflammatory bowel disease"),
    ("IBS", "irritable bowel syndrome"),
    ("UC", "ulcerative colitis"),
    ("SBO", "small bowel obstruction"),
    ("NAFLD", "nonalcoholic fatty liver disease"),
    ("NASH", "nonalcoholic steatohepatitis"),
    ("ESLD", "end stage liver disease"),
    ("AIH", "autoimmune hepatitis"),
    ("PBC", "primary biliary cholangitis"),
    ("PSC", "primary sclerosing cholangitis"),
    ("HCC", "hepatocellular carcinoma"),
    ("HCV", "hepatitis c"),
    ("HBV", "hepatitis b"),
    ("HAV", "hepatitis a"),
    ("LBP", "low back pain"),
    ("ABD", "abdominal"),
    ("NEC", "necrotizing enterocolitis"),
    // Renal / genitourinary
    ("CKD", "chronic kidney disease"),
    ("ESRD", "end stage renal disease"),
    ("ESKD", "end stage kidney disease"),
    ("AKI", "acute kidney failure"),
    ("ARF", "acute kidney failure"),
    ("ATN", "acute tubular necrosis"),
    ("PKD", "polycystic kidney disease"),
    ("ADPKD", "autosomal dominant polycystic kidney disease"),
    ("UTI", "urinary tract infection"),
    ("BPH", "benign prostatic hyperplasia"),
    ("SUI", "stress incontinence"),
    ("OAB", "overactive bladder"),
    ("RCC", "renal cell carcinoma"),
    ("STD", "sexually transmitted disease"),
    ("STI", "sexually transmitted infection"),
    ("PID", "pelvic inflammatory disease"),
    ("PCOS", "polycystic ovarian syndrome"),
    ("TURP", "transurethral resection of prostate"),
    // Endocrine / metabolic
    ("DM", "diabetes mellitus"),
    ("DM1", "type 1 diabetes mellitus"),
    ("DM2", "type 2 diabetes mellitus"),
    ("T1DM", "type 1 diabetes mellitus"),
    ("T2DM", "type 2 diabetes mellitus"),
    ("IDDM", "type 1 diabetes mellitus"),
    ("NIDDM", "type 2 diabetes mellitus"),
    ("GDM", "gestational diabetes mellitus"),
    ("DKA", "diabetic ketoacidosis"),
    ("HHS", "hyperosmolar hyperglycemic state"),
    ("DI", "diabetes insipidus"),
    (
        "SIADH",
        "syndrome of inappropriate secretion of antidiuretic hormone",
    ),
    ("CAH", "congenital adrenal hyperplasia"),
    ("DFU", "diabetic foot ulcer"),
    ("NPDR", "nonproliferative diabetic retinopathy"),
    ("PDR", "proliferative diabetic retinopathy"),
    ("BMI", "body mass index"),
    // Musculoskeletal / rheumatologic
    ("OA", "osteoarthritis"),
    ("RA", "rheumatoid arthritis"),
    ("SLE", "systemic lupus erythematosus"),
    ("PMR", "polymyalgia rheumatica"),
    ("GCA", "giant cell arteritis"),
    ("JIA", "juvenile idiopathic arthritis"),
    ("JRA", "juvenile rheumatoid arthritis"),
    ("DJD", "degenerative joint disease"),
    ("DDD", "degenerative disc disease"),
    ("APS", "antiphospholipid syndrome"),
    ("FX", "fracture"),
    ("ACL", "anterior cruciate ligament"),
    ("MCL", "medial collateral ligament"),
    ("PCL", "posterior cruciate ligament"),
    ("TMJ", "temporomandibular joint"),
    ("ORIF", "open reduction internal fixation"),
    ("TKA", "total knee arthroplasty"),
    ("THA", "total hip arthroplasty"),
    ("TKR", "total knee replacement"),
    ("THR", "total hip replacement"),
    ("BKA", "below knee amputation"),
    ("AKA", "above knee amputation"),
    // Hematology / oncology
    ("AML", "acute myeloid leukemia"),
    ("ALL", "acute lymphoblastic leukemia"),
    ("CLL", "chronic lymphocytic leukemia"),
    ("CML", "chronic myeloid leukemia"),
    ("NHL", "non-hodgkin lymphoma"),
    ("MDS", "myelodysplastic syndrome"),
    ("MGUS", "monoclonal gammopathy of undetermined significance"),
    ("ITP", "immune thrombocytopenic purpura"),
    ("TTP", "thrombotic thrombocytopenic purpura"),
    ("HUS", "hemolytic-uremic syndrome"),
    ("HIT", "heparin induced thrombocytopenia"),
    ("DIC", "disseminated intravascular coagulation"),
    ("IDA", "iron deficiency anemia"),
    ("SCD", "sickle-cell disease"),
    ("AIHA", "autoimmune hemolytic anemia"),
    ("VWD", "von willebrand disease"),
    ("BCC", "basal cell carcinoma"),
    ("SCC", "squamous cell carcinoma"),
    ("NSCLC", "non-small cell lung cancer"),
    ("SCLC", "small cell lung cancer"),
    ("CRC", "colorectal cancer"),
    ("DCIS", "ductal carcinoma in situ"),
    ("AK", "actinic keratosis"),
    // Infectious disease
    ("HIV", "human immunodeficiency virus"),
    ("AIDS", "acquired immune deficiency syndrome"),
    ("MRSA", "methicillin resistant staphylococcus aureus"),
    ("MSSA", "methicillin susceptible staphylococcus aureus"),
    ("VRE", "vancomycin resistant enterococcus"),
    ("ESBL", "extended spectrum beta lactamase"),
    ("CDI", "clostridium difficile infection"),
    ("HSV", "herpes simplex virus"),
    ("VZV", "varicella zoster virus"),
    ("CMV", "cytomegalovirus"),
    ("EBV", "epstein-barr virus"),
    ("HPV", "human papillomavirus"),
    ("COVID", "covid-19"),
    ("COVID19", "covid-19"),
    ("SARS", "severe acute respiratory syndrome"),
    ("SSTI", "skin and soft tissue infection"),
    ("AOM", "acute otitis media"),
    ("OM", "otitis media"),
    // Psychiatric / substance use
    ("ADHD", "attention-deficit hyperactivity disorder"),
    ("ADD", "attention-deficit disorder"),
    ("PTSD", "post-traumatic stress disorder"),
    ("MDD", "major depressive disorder"),
    ("GAD", "generalized anxiety disorder"),
    ("OCD", "obsessive-compulsive disorder"),
    ("AUD", "alcohol use disorder"),
    ("OUD", "opioid use disorder"),
    ("ETOH", "alcohol"),
    ("IVDU", "intravenous drug use"),
    ("IVDA", "intravenous drug abuse"),
    ("SI", "suicidal ideation"),
    // Obstetric / neonatal
    ("IUP", "intrauterine pregnancy"),
    ("PPROM", "preterm premature rupture of membranes"),
    ("PROM", "premature rupture of membranes"),
    ("IUGR", "intrauterine growth restriction"),
    ("PIH", "pregnancy induced hypertension"),
    ("HELLP", "hellp syndrome"),
    ("PPH", "postpartum hemorrhage"),
    ("NSVD", "normal spontaneous vaginal delivery"),
    ("SVD", "spontaneous vaginal delivery"),
    ("VBAC", "vaginal birth after cesarean"),
    ("LGA", "large for gestational age"),
    ("SGA", "small for gestational age"),
    ("RDS", "respiratory distress syndrome"),
    ("ROP", "retinopathy of prematurity"),
    ("FTT", "failure to thrive"),
    ("SIDS", "sudden infant death syndrome"),
    ("LMP", "last menstrual period"),
    // Eye / skin
    ("POAG", "primary open-angle glaucoma"),
    ("AMD", "age-related macular degeneration"),
    ("ARMD", "age-related macular degeneration"),
    // Injury / external cause
    ("MVA", "motor vehicle accident"),
    ("MVC", "motor vehicle collision"),
    ("GSW", "gunshot wound"),
    // Anatomy
    ("RUQ", "right upper quadrant"),
    ("LUQ", "left upper quadrant"),
    ("RLQ", "right lower quadrant"),
    ("LLQ", "left lower quadrant"),
    ("LLE", "left lower limb"),
    ("RLE", "right lower limb"),
    ("LUE", "left upper limb"),
    ("RUE", "right upper limb"),
    ("BLE", "bilateral lower limbs"),
    ("LE", "lower limb"),
    ("UE", "upper limb"),
    ("GI", "gastrointestinal"),
    ("GU", "genitourinary"),
    ("CNS", "central nervous system"),
    ("CV", "cardiovascular"),
    // Labs, imaging, tests
    ("WBC", "white blood cell count"),
    ("RBC", "red blood cell count"),
    ("HGB", "hemoglobin"),
    ("HB", "hemoglobin"),
    ("HCT", "hematocrit"),
    ("PLT", "platelets"),
    ("INR", "international normalized ratio"),
    ("BUN", "blood urea nitrogen"),
    ("CR", "creatinine"),
    ("GFR", "glomerular filtration rate"),
    ("EGFR", "estimated glomerular filtration rate"),
    ("TSH", "thyroid stimulating hormone"),
    ("LFT", "liver function test"),
    ("LFTS", "liver function tests"),
    ("A1C", "hemoglobin a1c"),
    ("HBA1C", "hemoglobin a1c"),
    ("LDL", "low density lipoprotein"),
    ("HDL", "high density lipoprotein"),
    ("BNP", "brain natriuretic peptide"),
    ("CRP", "c-reactive protein"),
    ("ESR", "erythrocyte sedimentation rate"),
    ("PSA", "prostate specific antigen"),
    ("ABG", "arterial blood gas"),
    ("CBC", "complete blood count"),
    ("BMP", "basic metabolic panel"),
    ("CMP", "comprehensive metabolic panel"),
    ("UA", "urinalysis"),
    ("EKG", "electrocardiogram"),
    ("ECG", "electrocardiogram"),
    ("CXR", "chest x-ray"),
    ("CT", "computed tomography"),
    ("MRI", "magnetic resonance imaging"),
    ("ECHO", "echocardiogram"),
    ("TTE", "transthoracic echocardiogram"),
    ("TEE", "transesophageal echocardiogram"),
    ("EEG", "electroencephalogram"),
    ("EMG", "electromyography"),
    ("PFT", "pulmonary function test"),
    ("PFTS", "pulmonary function tests"),
    ("EGD", "esophagogastroduodenoscopy"),
    ("ERCP", "endoscopic retrograde cholangiopancreatography"),
    // Medications / therapy
    ("ASA", "aspirin"),
    ("NSAID", "nonsteroidal anti-inflammatory drug"),
    ("NSAIDS", "nonsteroidal anti-inflammatory drugs"),
    ("PPI", "proton pump inhibitor"),
    ("SSRI", "selective serotonin reuptake inhibitor"),
    ("ACEI", "angiotensin converting enzyme inhibitor"),
    ("ARB", "angiotensin receptor blocker"),
    ("OCP", "oral contraceptive"),
    ("HRT", "hormone replacement therapy"),
    ("TPN", "total parenteral nutrition"),
    ("ABX", "antibiotics"),
    // Documentation shorthand
    ("HX", "history"),
    ("DX", "diagnosis"),
    ("TX", "treatment"),
    ("SX", "symptoms"),
    ("PMH", "past medical history"),
    ("PSH", "past surgical history"),
    ("FHX", "family history"),
    ("NKDA", "no known drug allergies"),
    ("NKA", "no known allergies"),
    ("WNL", "within normal limits"),
    ("NAD", "no acute distress"),
    ("YO", "year old"),
];

/// Short forms that may be expanded in any case because they are not English
/// words.
const SHORT_CASE_INSENSITIVE: &[&str] = &[
    "htn", "hld", "htg", "chf", "ckd", "dm", "dm1", "dm2", "uti", "dvt", "cva", "tia", "bph",
    "osa", "aki", "hcv", "hbv", "hiv", "pud", "ibd", "ibs", "ptx", "pna", "hx", "dx", "tx", "sx",
    "fx", "abx", "hgb", "hct", "sz", "cxr", "ekg", "ecg", "bmi", "lbp", "uri", "dka", "mdd", "ocd",
    "svt", "pvd", "lvh", "wbc", "rbc", "bun", "tsh", "ldl", "hdl", "bnp", "crp", "esr", "cbc",
    "mri", "eeg", "ppi", "pmh", "psh", "nkda", "a1c", "gfr", "inr", "cr", "sle", "cll", "aml",
    "cml", "nhl", "dvt", "ards", "nstemi", "stemi", "ptsd", "adhd",
];

/// Entries with four or more characters that are nevertheless English words
/// (or otherwise ambiguous) and expand only in upper case.
const LONG_UPPER_ONLY: &[&str] = &["AIDS", "ECHO", "PROM", "SARS", "NASH", "EGFR", "COVID"];

struct Tables {
    upper: HashMap<String, &'static str>,
    insensitive: HashMap<String, &'static str>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut upper = HashMap::with_capacity(ENTRIES.len());
        let mut insensitive = HashMap::with_capacity(ENTRIES.len());
        for &(k, v) in ENTRIES {
            let up = k.to_uppercase();
            let low = k.to_lowercase();
            let long_ok = k.chars().count() >= 4 && !LONG_UPPER_ONLY.contains(&up.as_str());
            if long_ok || SHORT_CASE_INSENSITIVE.contains(&low.as_str()) {
                insensitive.entry(low).or_insert(v);
            }
            upper.entry(up).or_insert(v);
        }
        // Mixed-case spellings of upper-only entries that are unambiguous.
        for (k, v) in [
            ("egfr", "estimated glomerular filtration rate"),
            ("covid", "covid-19"),
            ("etoh", "alcohol"),
        ] {
            insensitive.insert(k.to_string(), v);
        }
        Tables { upper, insensitive }
    })
}

fn is_all_upper(s: &str) -> bool {
    let mut any = false;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            any = true;
        }
    }
    any
}

/// Expansion of an abbreviation given the token text as written (original
/// case), or `None`.
pub fn expand(token_text: &str) -> Option<&'static str> {
    if token_text.is_empty() || token_text.len() > 12 {
        return None;
    }
    let t = tables();
    if is_all_upper(token_text) {
        return t.upper.get(&token_text.to_uppercase()).copied();
    }
    t.insensitive.get(&token_text.to_lowercase()).copied()
}

/// All entries as (abbreviation, expansion).
pub fn entries() -> &'static [(&'static str, &'static str)] {
    ENTRIES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_200_unique() {
        let mut keys: Vec<String> = entries().iter().map(|(k, _)| k.to_uppercase()).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len(), "duplicate keys");
        assert!(n >= 200, "{n}");
        for (k, v) in entries() {
            assert!(!v.is_empty() && !k.is_empty());
            assert_eq!(*v, v.to_lowercase());
        }
    }

    #[test]
    fn common_expansions() {
        assert_eq!(expand("HTN"), Some("hypertension"));
        assert_eq!(expand("htn"), Some("hypertension"));
        assert_eq!(expand("DM2"), Some("type 2 diabetes mellitus"));
        assert_eq!(expand("T2DM"), Some("type 2 diabetes mellitus"));
        assert_eq!(expand("CKD"), Some("chronic kidney disease"));
        assert_eq!(expand("CHF"), Some("congestive heart failure"));
        assert_eq!(expand("GERD"), Some("gastro-esophageal reflux disease"));
        assert_eq!(expand("Gerd"), Some("gastro-esophageal reflux disease"));
        assert_eq!(expand("AKI"), Some("acute kidney failure"));
        assert_eq!(expand("afib"), Some("atrial fibrillation"));
        assert_eq!(expand("AFib"), Some("atrial fibrillation"));
        assert_eq!(expand("CVA"), Some("stroke"));
        assert_eq!(expand("OSA"), Some("obstructive sleep apnea"));
        assert_eq!(expand("HCV"), Some("hepatitis c"));
        assert_eq!(expand("HbA1c"), Some("hemoglobin a1c"));
        assert_eq!(expand("ESRD"), Some("end stage renal disease"));
        assert_eq!(expand("COVID19"), Some("covid-19"));
    }

    #[test]
    fn ambiguous_only_upper() {
        assert_eq!(expand("PE"), Some("pulmonary embolism"));
        for w in [
            "pe", "Pe", "all", "All", "ms", "Ms", "hf", "ra", "pad", "cad", "Cad", "sob", "aids",
            "echo", "mi", "ca",
        ] {
            assert_eq!(expand(w), None, "{w}");
        }
        assert_eq!(expand("ALL"), Some("acute lymphoblastic leukemia"));
        assert_eq!(expand("MS"), Some("multiple sclerosis"));
        assert_eq!(expand("HCC"), Some("hepatocellular carcinoma"));
        assert_eq!(expand("AIDS"), Some("acquired immune deficiency syndrome"));
    }

    #[test]
    fn unknown_and_odd_input() {
        assert_eq!(expand(""), None);
        assert_eq!(expand("XYZQ"), None);
        assert_eq!(expand("😀"), None);
        assert_eq!(expand("123"), None);
        assert_eq!(expand(&"A".repeat(100)), None);
    }
}
