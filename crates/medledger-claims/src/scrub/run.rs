//! One scrub run over one claim.

use std::cell::RefCell;

use medledger_codesets::icd10cm::tabular::Resolution;

use super::demographics::{Builtin, Sex, builtin_rules};
use super::icd::{CODE_FIRST_UNCONDITIONAL, IcdIndex, MANIFESTATION, Origin, display};
use super::keys::{Day, code32, pack, unpack32};
use super::modifiers::{self, BYPASS, KX, M25, M57, M93, M95};
use super::monitoring::{self, Event, Program};
use super::tables::NcciFamily;
use super::{Finding, ScrubContext, ScrubReport, Severity};
use crate::model::{Claim, ClaimKind};
use crate::payer::{Modifier95, PayerProfile, TelehealthConvention, TelehealthPolicy};

/// What the edits need of a line, computed once per claim.
#[derive(Debug, Clone, Copy, Default)]
struct Line {
    /// `code32` of the procedure (0: none or not a five-character code).
    proc32: u32,
    /// The procedure as a number when it is five digits (0 otherwise).
    num: u32,
    dos: Option<Day>,
    end: Option<Day>,
    units: f64,
    flags: u32,
    anat: u32,
    pos: [u8; 2],
}

impl Line {
    fn em(&self) -> bool {
        (99202..=99499).contains(&self.num)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Dx {
    key: u64,
    node: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
struct MueAcc {
    code: u32,
    dos: Day,
    units: f64,
    first: usize,
    value: u32,
    mai: u8,
    table: usize,
}

#[derive(Default)]
struct Scratch {
    lines: Vec<Line>,
    dx: Vec<Dx>,
    acc: Vec<MueAcc>,
    ptp_em: Vec<bool>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

struct Run<'c, 'x> {
    claim: &'c Claim,
    ctx: &'x ScrubContext<'x>,
    today: Day,
    family: Option<NcciFamily>,
    out: Vec<Finding>,
}

pub(super) fn scrub(claim: &Claim, ctx: &ScrubContext) -> ScrubReport {
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let s = &mut *guard;
        let mut run = Run {
            claim,
            ctx,
            today: Day::from_date(ctx.today),
            family: family(claim),
            out: Vec::new(),
        };
        run.prepare(s);
        run.model();
        run.dates(s);
        let dx_dos = run.dx_dos(s);
        run.diagnoses(s, dx_dos);
        run.age_sex(s, dx_dos);
        run.ptp(s);
        run.mue(s);
        run.aoc(s);
        run.hcpcs(s);
        run.mod25(s);
        run.telehealth(s);
        run.ndc();
        run.monitoring(s);
        if let Some(p) = ctx.payer {
            run.payer(p, s);
        }
        let clean = !run.out.iter().any(|f| f.severity == Severity::Reject);
        ScrubReport {
            findings: run.out,
            clean,
        }
    })
}

/// The NCCI table family of a claim: practitioner for 837P; hospital
/// outpatient for 837I bill types 12x (Part B inpatient), 13x, 14x and 85x
/// (CAH outpatient); none for inpatient and other bill types.
fn family(claim: &Claim) -> Option<NcciFamily> {
    match claim.kind {
        ClaimKind::Professional => Some(NcciFamily::Practitioner),
        ClaimKind::Institutional => {
            let tob = claim.institutional.as_ref()?.type_of_bill.as_bytes();
            match (tob.first(), tob.get(1)) {
                (Some(b'1'), Some(b'2' | b'3' | b'4')) | (Some(b'8'), Some(b'5')) => {
                    Some(NcciFamily::OutpatientHospital)
                }
                _ => None,
            }
        }
    }
}

fn inpatient(claim: &Claim) -> bool {
    claim.institutional.as_ref().is_some_and(|i| {
        let t = i.type_of_bill.as_bytes();
        matches!(
            (t.first(), t.get(1)),
            (Some(b'1'), Some(b'1'))
                | (Some(b'1'), Some(b'8'))
                | (Some(b'2'), Some(b'1'))
                | (Some(b'4'), Some(b'1'))
        )
    })
}

fn num5(code: &str) -> u32 {
    let b = code.as_bytes();
    if b.len() != 5 || !b.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    b.iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'))
}

/// Procedures with which a same-day E/M needs modifier 25 when separately
/// identifiable: the CPT surgery section (10004-69990) except venipuncture
/// and capillary collection (36400-36416, no global period), and injections
/// and infusions (96360-96549): our stand-in for "a procedure with a global
/// period" without the fee schedule's global-days indicator.
fn needs_25_with(num: u32) -> bool {
    ((10004..=69990).contains(&num) && !(36400..=36416).contains(&num))
        || (96360..=96549).contains(&num)
}

fn preventive(num: u32) -> bool {
    (99381..=99397).contains(&num)
}

fn problem_office(num: u32) -> bool {
    (99202..=99215).contains(&num)
}

fn level2(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && (b'A'..=b'V').contains(&b[0])
        && b[0] != b'D'
        && b[1..].iter().all(u8::is_ascii_digit)
}

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Run<'_, '_> {
    fn push(
        &mut self,
        edit_id: &'static str,
        severity: Severity,
        location: String,
        message: String,
        fix: String,
        source: String,
    ) {
        self.out.push(Finding {
            edit_id,
            severity,
            message,
            location,
            suggested_fix: fix,
            source,
        });
    }

    fn proc_of(&self, i: usize) -> &str {
        self.claim.lines[i].procedure.as_deref().unwrap_or("")
    }

    fn prepare(&self, s: &mut Scratch) {
        let claim = self.claim;
        let claim_pos = claim.place_of_service.as_deref().map(str::as_bytes);
        s.lines.clear();
        for l in &claim.lines {
            let code = l.procedure.as_deref().unwrap_or("");
            let mut flags = 0;
            let mut anat = 0;
            for m in &l.modifiers {
                let (f, a) = modifiers::classify(m);
                flags |= f;
                anat |= a;
            }
            let dos = Day::parse(&l.date_from);
            let end = match &l.date_to {
                Some(t) => Day::parse(t),
                None => dos,
            };
            let pos = l
                .place_of_service
                .as_deref()
                .map(str::as_bytes)
                .or(claim_pos);
            s.lines.push(Line {
                proc32: code32(code),
                num: num5(code),
                dos,
                end,
                units: l.units,
                flags,
                anat,
                pos: match pos {
                    Some(&[a, b]) => [a, b],
                    _ => [0, 0],
                },
            });
        }
        s.ptp_em.clear();
        s.ptp_em.resize(claim.lines.len(), false);
    }

    // ------------------------------------------------------------ MODEL

    fn model(&mut self) {
        // the structural checks plus what the 837 itself needs (ZIP+4, EIN, code shapes)
        for e in crate::x837::check_claim(self.claim) {
            // the NDC edit reports NDC shape problems with the rule's source
            if e.path.ends_with(".ndc") {
                continue;
            }
            let id = if e.path.contains("diagnosis_pointers") {
                "DX-POINTER"
            } else {
                "MODEL"
            };
            let message = match line_of_path(&e.path) {
                Some(i) => format!("line {}: {}: {}", i + 1, e.path, e.message),
                None => format!("{}: {}", e.path, e.message),
            };
            self.push(
                id,
                Severity::Reject,
                e.path.clone(),
                message,
                format!("correct {} ({})", e.path, e.message),
                "medledger claim model (005010X222A1 / 005010X223A2 implementation guide limits)"
                    .into(),
            );
        }
    }

    fn dates(&mut self, s: &Scratch) {
        let today = self.today;
        for (i, l) in s.lines.iter().enumerate() {
            if let Some(end) = l.end
                && end > today
            {
                self.push(
                    "DOS-FUTURE",
                    Severity::Reject,
                    format!("lines[{i}]"),
                    format!("line {}: date of service {end} is after today ({today})", i + 1),
                    "bill services only after they are furnished".into(),
                    "CMS Pub. 100-04 Chapter 1 section 70.7 (claims are filed after the service is furnished)".into(),
                );
            }
        }
    }

    /// The date the diagnoses are checked on: the discharge (statement
    /// through) date of an inpatient bill, else the first line's date.
    fn dx_dos(&self, s: &Scratch) -> Option<Day> {
        if inpatient(self.claim)
            && let Some(d) = self
                .claim
                .institutional
                .as_ref()
                .and_then(|i| Day::parse(&i.statement_to))
        {
            return Some(d);
        }
        s.lines.iter().filter_map(|l| l.dos).min().or_else(|| {
            self.claim
                .institutional
                .as_ref()
                .and_then(|i| Day::parse(&i.statement_from))
        })
    }

    // ------------------------------------------------------------ ICD-10-CM

    fn diagnoses(&mut self, s: &mut Scratch, dos: Option<Day>) {
        let claim = self.claim;
        s.dx.clear();
        for d in &claim.diagnoses {
            s.dx.push(Dx {
                key: pack(&d.code),
                node: None,
            });
        }
        for i in 1..s.dx.len() {
            let k = s.dx[i].key;
            if k != 0
                && let Some(j) = s.dx[..i].iter().position(|d| d.key == k)
            {
                self.push(
                    "DX-DUPLICATE",
                    Severity::Warn,
                    format!("diagnoses[{i}]"),
                    format!(
                        "diagnoses[{i}] {} repeats diagnoses[{j}]",
                        claim.diagnoses[i].code
                    ),
                    format!(
                        "remove diagnoses[{i}] and point the lines at diagnosis {}",
                        j + 1
                    ),
                    "X12 005010X222A1 HI segment: each diagnosis once".into(),
                );
            }
        }
        let tables = self.ctx.tables;
        let (Some(dos), false) = (dos, tables.icd.is_empty()) else {
            return;
        };
        let Some(ix) = tables.icd_for(dos) else {
            self.push(
                "ICD-RELEASE",
                Severity::Warn,
                "diagnoses".into(),
                format!("no installed ICD-10-CM release covers {dos}: diagnoses were not checked"),
                "install the ICD-10-CM release of the date of service (codesets install)".into(),
                format!(
                    "installed: {}",
                    list(tables.icd.iter().map(|i| i.id.as_str()))
                ),
            );
            return;
        };
        for i in 0..s.dx.len() {
            let node = ix.node_of(s.dx[i].key);
            s.dx[i].node = node;
            if node.is_none() {
                self.invalid_dx(ix, i, dos);
            }
        }
        let src = |guideline: &str| {
            format!(
                "ICD-10-CM Official Guidelines {guideline}; tabular {} (FY{})",
                ix.id, ix.release
            )
        };
        // Excludes1: every ordered pair, reported once.
        let n = s.dx.len();
        for i in 0..n {
            let Some(ni) = s.dx[i].node else { continue };
            for j in 0..n {
                let Some(nj) = s.dx[j].node else { continue };
                if i == j || s.dx[i].key == s.dx[j].key {
                    continue;
                }
                let Some((origin, r)) = ix.find_ref(ni, s.dx[j].key, true) else {
                    continue;
                };
                if j < i && ix.find_ref(nj, s.dx[i].key, true).is_some() {
                    continue;
                }
                let broad = !matches!(origin, Origin::Node(_));
                let (a, b) = (&claim.diagnoses[i].code, &claim.diagnoses[j].code);
                self.push(
                    "EXCLUDES1",
                    if broad { Severity::Warn } else { Severity::Reject },
                    format!("diagnoses[{j}]"),
                    format!(
                        "diagnoses[{i}] {} and diagnoses[{j}] {}: the Excludes1 note at {} excludes {} (codes not reported together){}",
                        display(a),
                        display(b),
                        ix.origin_label(origin),
                        r.label(),
                        if broad { "; the note is written on the block or chapter, so the conditions may be unrelated" } else { "" }
                    ),
                    if broad {
                        "if the two conditions are unrelated, both may be reported (guideline exception); otherwise keep the one the documentation supports, or query the provider".into()
                    } else {
                        format!("report one of {} and {}: the one the documentation supports", display(a), display(b))
                    },
                    src("I.A.12.a (Excludes1)"),
                );
            }
        }
        // Etiology/manifestation: a manifestation is never first.
        if let Some(n0) = s.dx.first().and_then(|d| d.node)
            && ix.flags(n0) & MANIFESTATION != 0
        {
            let code = display(&claim.diagnoses[0].code);
            self.push(
                "MANIFESTATION-FIRST",
                Severity::Reject,
                "diagnoses[0]".into(),
                format!("diagnoses[0] {code} is a manifestation code (its tabular entry says to code the underlying condition first) and is listed first"),
                format!("list the underlying condition first and {code} after it"),
                src("I.A.13 (etiology/manifestation convention)"),
            );
        }
        for (k, line) in claim.lines.iter().enumerate() {
            if claim.kind != ClaimKind::Professional {
                break;
            }
            let Some(&p) = line.diagnosis_pointers.first() else {
                continue;
            };
            let idx = usize::from(p).wrapping_sub(1);
            if idx == 0 {
                continue; // reported above when it is a manifestation
            }
            if let Some(nd) = s.dx.get(idx).and_then(|d| d.node)
                && ix.flags(nd) & MANIFESTATION != 0
            {
                let code = display(&claim.diagnoses[idx].code);
                self.push(
                    "MANIFESTATION-FIRST",
                    Severity::Warn,
                    format!("lines[{k}].diagnosis_pointers[0]"),
                    format!("line {}: first diagnosis pointer {p} is {code}, a manifestation code (its tabular entry says to code the underlying condition first)", k + 1),
                    "point first at the underlying condition".into(),
                    src("I.A.13 (etiology/manifestation convention)"),
                );
            }
        }
        // Code first: the named code belongs before this one.
        for i in 0..n {
            let Some(ni) = s.dx[i].node else { continue };
            if !ix.has_code_first(ni) && ix.flags(ni) & CODE_FIRST_UNCONDITIONAL == 0 {
                continue;
            }
            let mut fired = false;
            for j in i + 1..n {
                if s.dx[j].node.is_some()
                    && let Some((origin, r)) = ix.find_ref(ni, s.dx[j].key, false)
                {
                    fired = true;
                    let (a, b) = (
                        display(&claim.diagnoses[i].code),
                        display(&claim.diagnoses[j].code),
                    );
                    self.push(
                        "CODE-FIRST",
                        Severity::Warn,
                        format!("diagnoses[{i}]"),
                        format!("diagnoses[{i}] {a}: the 'code first' note at {} names {}, and {b} (diagnoses[{j}]) is listed after it", ix.origin_label(origin), r.label()),
                        format!("list {b} before {a}"),
                        src("I.A.13 and I.B.7 (code first notes)"),
                    );
                }
            }
            let f = ix.flags(ni);
            if i == 0 && !fired && f & CODE_FIRST_UNCONDITIONAL != 0 && f & MANIFESTATION == 0 {
                let a = display(&claim.diagnoses[0].code);
                self.push(
                    "CODE-FIRST",
                    Severity::Warn,
                    "diagnoses[0]".into(),
                    format!("diagnoses[0] {a} is listed first, but its tabular entry says to code another condition first"),
                    format!("list the condition the 'code first' note names before {a}"),
                    src("I.B.7 (code first notes)"),
                );
            }
        }
    }

    fn invalid_dx(&mut self, ix: &IcdIndex, i: usize, dos: Day) {
        let raw = &self.claim.diagnoses[i].code;
        let key = medledger_codesets::normalize::key(raw);
        let shown = display(&key);
        let loc = format!("diagnoses[{i}]");
        let src = format!(
            "ICD-10-CM tabular {} (FY{}) for date of service {dos}; ICD-10-CM Official Guidelines I.B.2 and I.A.5 (7th characters)",
            ix.id, ix.release
        );
        if !medledger_codesets::normalize::looks_icd10cm(&key) {
            self.push(
                "ICD-VALID",
                Severity::Reject,
                loc,
                format!("diagnoses[{i}] {raw:?} is not shaped like an ICD-10-CM code"),
                "enter an ICD-10-CM code (letter, digit, then up to five characters)".into(),
                src,
            );
            return;
        }
        let tab = &ix.tab;
        let examples = |node: u32| {
            let (codes, total) = tab.billable_under(node, 5);
            (list(codes.iter().map(|c| display(c))), total)
        };
        match tab.resolve(&key) {
            Resolution::Billable { .. } => self.push(
                "ICD-VALID",
                Severity::Reject,
                loc,
                format!(
                    "diagnoses[{i}] {shown} is a header in the ICD-10-CM order file, not billable"
                ),
                "choose a billable code beneath it".into(),
                src,
            ),
            Resolution::Header { node } => {
                let (ex, total) = examples(node);
                self.push(
                    "ICD-VALID",
                    Severity::Reject,
                    loc,
                    format!("diagnoses[{i}] {shown} is a category or subcategory, not a billable code, on {dos}"),
                    format!("code to the highest specificity: one of its {total} billable codes, e.g. {ex}"),
                    src,
                );
            }
            Resolution::NeedsSeventh { node } => {
                let chars = tab
                    .seven_for(node)
                    .map(|(_, d)| list(d.extensions.iter().map(|(c, _)| *c)))
                    .unwrap_or_default();
                let stem = tab.padded_stem(node);
                let pad = if stem != key {
                    format!(" after the placeholder X ({}_)", display(&stem))
                } else {
                    String::new()
                };
                self.push(
                    "ICD-7TH",
                    Severity::Reject,
                    loc,
                    format!("diagnoses[{i}] {shown} requires a 7th character"),
                    format!("add a 7th character{pad}: {chars}"),
                    src,
                );
            }
            Resolution::MissingPlaceholder { suggestion, .. } => self.push(
                "ICD-7TH",
                Severity::Reject,
                loc,
                format!(
                    "diagnoses[{i}] {shown} is missing the placeholder X before its 7th character"
                ),
                format!("use {}", display(&suggestion)),
                src,
            ),
            Resolution::InvalidSeventh { node, seventh } => {
                let chars = tab
                    .seven_for(node)
                    .map(|(_, d)| list(d.extensions.iter().map(|(c, _)| *c)))
                    .unwrap_or_default();
                self.push(
                    "ICD-7TH",
                    Severity::Reject,
                    loc,
                    format!(
                        "diagnoses[{i}] {shown}: {seventh:?} is not a valid 7th character for {}",
                        display(&tab.node(node).key)
                    ),
                    format!("use one of the 7th characters {chars}"),
                    src,
                );
            }
            Resolution::Unknown { nearest } => {
                let k = pack(&key);
                let other = self
                    .ctx
                    .tables
                    .icd
                    .iter()
                    .find(|o| o.id != ix.id && o.node_of(k).is_some());
                let (message, fix) = match other {
                    Some(o) if o.from > ix.from => (
                        format!(
                            "diagnoses[{i}] {shown} is not valid on {dos}: it takes effect with {} ({})",
                            o.id,
                            o.from.map(|d| d.to_string()).unwrap_or_default()
                        ),
                        "use the code valid on the date of service".to_string(),
                    ),
                    Some(o) => (
                        format!(
                            "diagnoses[{i}] {shown} was valid in {} but is deleted in FY{}",
                            o.id, ix.release
                        ),
                        "use its replacement code in the current release".to_string(),
                    ),
                    None => (
                        format!(
                            "diagnoses[{i}] {shown} is not an ICD-10-CM code in FY{}",
                            ix.release
                        ),
                        String::new(),
                    ),
                };
                let fix = match nearest {
                    Some(nd) if fix.is_empty() => {
                        let (ex, total) = examples(nd);
                        format!(
                            "check the code; {} has {total} billable codes, e.g. {ex}",
                            display(&tab.node(nd).key)
                        )
                    }
                    _ if fix.is_empty() => "check the code against the tabular".to_string(),
                    _ => fix,
                };
                self.push("ICD-VALID", Severity::Reject, loc, message, fix, src);
            }
        }
    }

    // ------------------------------------------------------------ AGE / SEX

    fn age_sex(&mut self, s: &Scratch, dos: Option<Day>) {
        let claim = self.claim;
        let person = match &claim.patient {
            Some(p) => p,
            None if claim.subscriber.relationship == "18" => &claim.subscriber.person,
            None => return,
        };
        let sex = Sex::parse(&person.sex);
        let age = match (dos, Day::parse(&person.dob)) {
            (Some(d), Some(b)) if b <= d => Some(d.years_since(b)),
            _ => None,
        };
        let age_text = || {
            age.map(|a| a.to_string())
                .unwrap_or_else(|| "unknown".into())
        };
        for (i, dx) in s.dx.iter().enumerate() {
            if dx.key == 0 {
                continue;
            }
            let code = || display(&claim.diagnoses[i].code);
            let kx =
                claim.lines.iter().zip(&s.lines).any(|(l, x)| {
                    x.flags & KX != 0 && l.diagnosis_pointers.contains(&((i + 1) as u8))
                });
            let sex_sev = if kx { Severity::Warn } else { Severity::Reject };
            let sex_fix = |allowed: &str| {
                format!(
                    "verify the patient's recorded sex and the diagnosis; for a {allowed}-specific service to a patient recorded otherwise, follow the payer's policy (Medicare: modifier KX on the line, condition code 45 on institutional claims)"
                )
            };
            for (kind, label) in builtin_rules(dx.key) {
                let src = "medledger built-in age/sex rules (modelled on the CMS Medicare Code Editor age and sex conflict edits); ICD-10-CM chapter and block titles";
                match kind {
                    Builtin::Maternity | Builtin::Gestation | Builtin::FemaleOnly
                        if sex == Sex::Male =>
                    {
                        self.push(
                            "SEX",
                            sex_sev,
                            format!("diagnoses[{i}]"),
                            format!(
                                "diagnoses[{i}] {} ({label}) on a patient recorded as male",
                                code()
                            ),
                            sex_fix("female"),
                            src.into(),
                        )
                    }
                    Builtin::MaleOnly if sex == Sex::Female => self.push(
                        "SEX",
                        sex_sev,
                        format!("diagnoses[{i}]"),
                        format!(
                            "diagnoses[{i}] {} ({label}) on a patient recorded as female",
                            code()
                        ),
                        sex_fix("male"),
                        src.into(),
                    ),
                    _ => {}
                }
                match (kind, age) {
                    (Builtin::Maternity, Some(a)) if !(12..=55).contains(&a) => self.push(
                        "AGE",
                        Severity::Warn,
                        format!("diagnoses[{i}]"),
                        format!("diagnoses[{i}] {} ({label}) on a patient aged {a}, outside the expected 12-55", code()),
                        "verify the date of birth and the diagnosis".into(),
                        format!("{src}; ICD-10-CM Official Guidelines I.C.15.a.1"),
                    ),
                    (Builtin::Perinatal, Some(a)) if a > 0 => self.push(
                        "AGE",
                        Severity::Warn,
                        format!("diagnoses[{i}]"),
                        format!("diagnoses[{i}] {} ({label}) on a patient aged {a}; perinatal codes are expected at age 0", code()),
                        "keep only if the perinatal condition is still present (guideline I.C.16.a.4); otherwise code the current condition".into(),
                        format!("{src}; ICD-10-CM Official Guidelines I.C.16.a.4"),
                    ),
                    _ => {}
                }
            }
            if let Some(edits) = self.ctx.age_sex {
                for r in edits.rules_for(dx.key) {
                    if !r.fires(age, sex) {
                        continue;
                    }
                    let what = if r.mce {
                        "Medicare Code Editor age edit"
                    } else {
                        "risk-model age edit"
                    };
                    if r.sex_edit {
                        self.push(
                            "SEX",
                            sex_sev,
                            format!("diagnoses[{i}]"),
                            format!("diagnoses[{i}] {} is invalid for a {} patient per the CMS edits file ({})", code(), sex.word(), r.description),
                            "verify the patient's recorded sex and the diagnosis".into(),
                            format!("CMS {} edit via {} ({})", r.model, edits.file(), r.description),
                        );
                    } else {
                        self.push(
                            "AGE",
                            Severity::Warn,
                            format!("diagnoses[{i}]"),
                            format!(
                                "diagnoses[{i}] {} is unexpected at age {} ({what}: {})",
                                code(),
                                age_text(),
                                r.description
                            ),
                            "verify the date of birth and the diagnosis".into(),
                            format!("CMS {} {what} via {}", r.model, edits.file()),
                        );
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ NCCI

    fn ptp(&mut self, s: &mut Scratch) {
        let Some(fam) = self.family else { return };
        let Some(ix) = self.ctx.tables.ptp(fam) else {
            return;
        };
        let n = s.lines.len();
        for i in 0..n {
            let a = s.lines[i];
            let Some(dos) = a.dos else { continue };
            if a.proc32 == 0 {
                continue;
            }
            for j in i + 1..n {
                let b = s.lines[j];
                if b.proc32 == 0 || b.dos != Some(dos) || b.proc32 == a.proc32 {
                    continue;
                }
                let hit = match ix.active(a.proc32, b.proc32, dos) {
                    Some(r) => Some((i, j, r)),
                    None => ix.active(b.proc32, a.proc32, dos).map(|r| (j, i, r)),
                };
                let Some((c1, c2, row)) = hit else { continue };
                let (l1, l2) = (s.lines[c1], s.lines[c2]);
                let em = l1.em() || l2.em();
                let bypassed = if em {
                    let e = if l1.em() { l1 } else { l2 };
                    e.flags & (M25 | M57) != 0
                        || (l1.em() && l2.em() && (l1.flags | l2.flags) & M25 != 0)
                } else {
                    (l1.flags | l2.flags) & BYPASS != 0
                        || (l1.anat != 0 && l2.anat != 0 && l1.anat != l2.anat)
                };
                match row.indicator {
                    0 => {}
                    1 if !bypassed => {}
                    _ => continue,
                }
                if l1.em() {
                    s.ptp_em[c1] = true;
                }
                if l2.em() {
                    s.ptp_em[c2] = true;
                }
                let (p1, p2) = (self.proc_of(c1).to_string(), self.proc_of(c2).to_string());
                let message = if row.indicator == 0 {
                    format!(
                        "line {} {p2} is column 2 to line {} {p1} on {dos}: never payable together (NCCI PTP modifier indicator 0); no modifier bypasses this edit",
                        c2 + 1,
                        c1 + 1
                    )
                } else {
                    format!(
                        "line {} {p2} is column 2 to line {} {p1} on {dos}: payable together only with an NCCI-associated modifier (modifier indicator 1), and none applies",
                        c2 + 1,
                        c1 + 1
                    )
                };
                let fix = match (row.indicator, em) {
                    (0, _) => format!("remove line {} ({p2}) or correct the codes", c2 + 1),
                    (_, true) => format!(
                        "if the E/M is significant and separately identifiable, append 25 to it (57 when it is the decision for major surgery); otherwise remove line {}",
                        c2 + 1
                    ),
                    _ => format!(
                        "if the services were distinct (separate encounter, site or structure), append 59 or XE/XS/XP/XU (or anatomic modifiers naming different sites) to line {}; otherwise remove it",
                        c2 + 1
                    ),
                };
                let table = self.ctx.tables.ptp_table_id(fam, row.table).to_string();
                self.push(
                    "NCCI-PTP",
                    Severity::Reject,
                    format!("lines[{c2}]"),
                    message,
                    fix,
                    format!(
                        "CMS NCCI PTP {} table {table}, edit effective {}{}",
                        fam.label(),
                        row.effective,
                        if row.deleted == Day::MAX {
                            String::new()
                        } else {
                            format!(", deleted {}", row.deleted)
                        }
                    ),
                );
            }
        }
    }

    fn mue(&mut self, s: &mut Scratch) {
        let Some(fam) = self.family else { return };
        let tables = self.ctx.tables;
        if tables.mue.is_empty() {
            return;
        }
        s.acc.clear();
        for (i, l) in s.lines.iter().enumerate() {
            let Some(dos) = l.dos else { continue };
            if l.proc32 == 0 {
                continue;
            }
            let Some(t) = tables
                .mue
                .iter()
                .rposition(|m| m.family == fam && m.from.is_none_or(|f| f <= dos))
            else {
                continue;
            };
            let Some(&(value, mai)) = tables.mue[t].map.get(&l.proc32) else {
                continue;
            };
            if mai == 1 {
                if l.units > f64::from(value) {
                    let code = self.proc_of(i).to_string();
                    self.push(
                        "MUE-LINE",
                        Severity::Reject,
                        format!("lines[{i}]"),
                        format!("line {}: {} units of {code} on {dos}, above the MUE of {value} per line (adjudication indicator 1: line edit)", i + 1, l.units),
                        format!("bill at most {value} units per line; report further units on separate lines with an appropriate modifier (e.g. 76, 77, 91, anatomic) only when medically necessary and documented"),
                        format!("CMS NCCI MUE {} table {}", fam.label(), tables.mue[t].id),
                    );
                }
                continue;
            }
            match s
                .acc
                .iter_mut()
                .find(|a| a.code == l.proc32 && a.dos == dos)
            {
                Some(a) => a.units += l.units,
                None => s.acc.push(MueAcc {
                    code: l.proc32,
                    dos,
                    units: l.units,
                    first: i,
                    value,
                    mai,
                    table: t,
                }),
            }
        }
        for k in 0..s.acc.len() {
            let a = s.acc[k];
            if a.units <= f64::from(a.value) {
                continue;
            }
            let lines = list(
                s.lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.proc32 == a.code && l.dos == Some(a.dos))
                    .map(|(i, _)| i + 1),
            );
            let code = unpack32(a.code);
            let kind = if a.mai == 2 {
                "2: date of service edit, policy"
            } else {
                "3: date of service edit, clinical"
            };
            self.push(
                "MUE-DOS",
                Severity::Reject,
                format!("lines[{}]", a.first),
                format!("{} units of {code} on {} (lines {lines}), above the MUE of {} per date of service (adjudication indicator {kind})", a.units, a.dos, a.value),
                if a.mai == 2 {
                    format!("bill at most {} units of {code} for the day: indicator 2 values are policy limits that appeals do not lift", a.value)
                } else {
                    format!("bill at most {} units of {code} for the day unless the record documents medical necessity for more (indicator 3: appealable with documentation)", a.value)
                },
                format!("CMS NCCI MUE {} table {}", fam.label(), tables.mue[a.table].id),
            );
        }
    }

    fn aoc(&mut self, s: &Scratch) {
        if self.family.is_none() {
            return;
        }
        let Some(ix) = self.ctx.tables.aoc.as_ref() else {
            return;
        };
        for (i, l) in s.lines.iter().enumerate() {
            let rows = ix.rows_for(l.proc32);
            if rows.is_empty() {
                continue;
            }
            let Some(dos) = l.dos else { continue };
            let mut active = false;
            let mut strict = false;
            let mut listed = false;
            let mut found = false;
            for r in rows
                .iter()
                .filter(|r| r.effective <= dos && dos < r.deleted)
            {
                active = true;
                if r.edit_type == 2 || r.primary == 0 {
                    continue;
                }
                listed = true;
                strict |= r.edit_type == 1;
                if s.lines
                    .iter()
                    .enumerate()
                    .any(|(j, o)| j != i && o.proc32 == r.primary && o.dos == Some(dos))
                {
                    found = true;
                    break;
                }
            }
            if !active || !listed || found {
                continue;
            }
            let code = self.proc_of(i).to_string();
            let primaries: Vec<String> = rows
                .iter()
                .filter(|r| {
                    r.effective <= dos && dos < r.deleted && r.primary != 0 && r.edit_type != 2
                })
                .take(6)
                .map(|r| unpack32(r.primary))
                .collect();
            let more = rows
                .iter()
                .filter(|r| r.effective <= dos && dos < r.deleted && r.primary != 0)
                .count()
                > primaries.len();
            self.push(
                "AOC-PRIMARY",
                if strict { Severity::Reject } else { Severity::Warn },
                format!("lines[{i}]"),
                format!(
                    "line {}: add-on code {code} on {dos} without any of its primary codes on the same date ({}{}){}",
                    i + 1,
                    primaries.join(", "),
                    if more { ", ..." } else { "" },
                    if strict { "" } else { "; edit type 3: the contractor may accept other primary codes" }
                ),
                "bill the add-on with its primary procedure on the same claim and date, or remove it".into(),
                format!("CMS NCCI add-on code table {}", ix.id),
            );
        }
    }

    fn hcpcs(&mut self, s: &Scratch) {
        let tables = self.ctx.tables;
        if tables.hcpcs.is_empty() {
            return;
        }
        for (i, l) in s.lines.iter().enumerate() {
            let code = self.proc_of(i);
            if !level2(code) {
                continue;
            }
            let Some(dos) = l.dos else { continue };
            let Some(h) = tables.hcpcs_for(dos) else {
                continue;
            };
            let problem = match h.map.get(&l.proc32) {
                None => Some(format!(
                    "line {}: {code} is not in HCPCS release {}",
                    i + 1,
                    h.id
                )),
                Some(&(added, _)) if dos < added => Some(format!(
                    "line {}: {code} takes effect {added}, after the date of service {dos}",
                    i + 1
                )),
                Some(&(_, term)) if dos > term => Some(format!(
                    "line {}: {code} was terminated {term}, before the date of service {dos}",
                    i + 1
                )),
                _ => None,
            };
            if let Some(message) = problem {
                self.push(
                    "HCPCS-VALID",
                    Severity::Reject,
                    format!("lines[{i}]"),
                    message,
                    "use a HCPCS code active on the date of service (see the code's cross-reference)".into(),
                    format!("CMS HCPCS Level II release {}", h.id),
                );
            }
        }
    }

    // ------------------------------------------------------------ modifiers

    fn mod25(&mut self, s: &Scratch) {
        for (i, l) in s.lines.iter().enumerate() {
            if l.flags & M25 != 0 && !l.em() {
                let code = self.proc_of(i).to_string();
                self.push(
                    "MOD-25",
                    Severity::Reject,
                    format!("lines[{i}]"),
                    format!("line {}: modifier 25 on {code}, which is not an E/M service (99202-99499)", i + 1),
                    "remove modifier 25; for a distinct procedure use 59 or XE/XS/XP/XU where appropriate".into(),
                    "CPT modifier 25 definition; CMS Pub. 100-04 Chapter 12 section 30.6.6".into(),
                );
            }
        }
        for (i, l) in s.lines.iter().enumerate() {
            if !l.em() || l.flags & (M25 | M57) != 0 || s.ptp_em[i] {
                continue;
            }
            let other = s.lines.iter().enumerate().find(|(j, o)| {
                *j != i
                    && o.dos == l.dos
                    && (needs_25_with(o.num) || (preventive(o.num) && problem_office(l.num)))
            });
            if let Some((j, o)) = other {
                let (a, b) = (self.proc_of(i).to_string(), self.proc_of(j).to_string());
                let why = if preventive(o.num) {
                    "a preventive visit"
                } else {
                    "a procedure"
                };
                self.push(
                    "MOD-25",
                    Severity::Warn,
                    format!("lines[{i}]"),
                    format!("line {}: E/M {a} on the same date as {why} {b} (line {}) without modifier 25", i + 1, j + 1),
                    format!("if the E/M is significant and separately identifiable from {b}, append 25; otherwise remove line {}", i + 1),
                    "CMS NCCI Policy Manual Chapter XI (E/M with minor procedures: modifier 25); CMS Pub. 100-04 Chapter 12 section 30.6.6".into(),
                );
            }
        }
    }

    fn telehealth(&mut self, s: &Scratch) {
        if self.claim.kind != ClaimKind::Professional {
            return;
        }
        let default = TelehealthPolicy::default();
        let payer = self.ctx.payer;
        let policy = payer.map(|p| &p.telehealth).unwrap_or(&default);
        let phe_end = Day::from_ymd(2023, 12, 31);
        let rule = match policy.convention {
            TelehealthConvention::Medicare => {
                "telehealth.medicare.2024 (CMS CY2024 PFS final rule: POS 02/10)"
            }
            TelehealthConvention::Commercial => {
                "telehealth.commercial.2022 (CPT modifiers 95/93 with POS 02/10)"
            }
        };
        let src = || {
            let who = payer
                .map(|p| p.source_label())
                .unwrap_or_else(|| "commercial default (no payer profile)".into());
            format!("medledger-services rules/telehealth.toml 2026.1 {rule}; {who}")
        };
        for (i, l) in s.lines.iter().enumerate() {
            let tele = l.flags & (M95 | M93);
            let tele_pos = l.pos == *b"02" || l.pos == *b"10";
            let pos = std::str::from_utf8(&l.pos).unwrap_or("").trim_matches('\0');
            let Some(dos) = l.dos else { continue };
            if tele != 0 && !tele_pos && l.pos != [0, 0] {
                let phe = policy.convention == TelehealthConvention::Medicare && dos <= phe_end;
                let in_person_ok = tele == M95 && policy.in_person_pos_with_95;
                if !(phe || in_person_ok) {
                    let m = if tele & M95 != 0 { "95" } else { "93" };
                    self.push(
                        "TELEHEALTH-POS",
                        Severity::Reject,
                        format!("lines[{i}]"),
                        format!("line {}: telehealth modifier {m} with place of service {pos} on {dos}; telehealth lines use POS 02 (not the patient's home) or 10 (the patient's home)", i + 1),
                        format!("set POS 02 or 10 on line {} by the patient's location, or remove modifier {m} if the visit was in person", i + 1),
                        src(),
                    );
                }
            }
            if tele_pos && tele == 0 && policy.modifier_95 == Modifier95::Required {
                self.push(
                    "TELEHEALTH-POS",
                    Severity::Warn,
                    format!("lines[{i}]"),
                    format!("line {}: place of service {pos} without a telehealth modifier; this payer requires 95 (93 for audio-only)", i + 1),
                    format!("append 95 (audio-video) or 93 (audio-only) to line {}", i + 1),
                    src(),
                );
            }
            if tele_pos
                && l.flags & M95 != 0
                && policy.modifier_95 == Modifier95::NotUsed
                && dos > phe_end
            {
                self.push(
                    "TELEHEALTH-MOD",
                    Severity::Warn,
                    format!("lines[{i}]"),
                    format!("line {}: modifier 95 with POS {pos}; this payer identifies telehealth by POS 02/10 and uses 95 only for hospital-based clinicians with the patient at home and outpatient therapy", i + 1),
                    "remove modifier 95 unless one of those exceptions applies".into(),
                    src(),
                );
            }
        }
    }

    fn ndc(&mut self) {
        let medicaid = self.claim.payer.filing_indicator.trim() == "MC";
        for (i, l) in self.claim.lines.iter().enumerate() {
            match &l.ndc {
                Some(n) if n.len() != 11 || !n.bytes().all(|b| b.is_ascii_digit()) => self.push(
                    "NDC",
                    Severity::Reject,
                    format!("lines[{i}].ndc"),
                    format!("line {}: NDC {n:?} is not 11 digits", i + 1),
                    "report the NDC in the 5-4-2 eleven-digit form without hyphens (pad the short segment with a leading zero)".into(),
                    "X12 005010X222A1 LIN03 / 005010X223A2 LIN03: N4 qualifier, 11-digit NDC".into(),
                ),
                None if medicaid && l.procedure.as_deref().is_some_and(|p| p.starts_with('J') && level2(p)) => self.push(
                    "NDC",
                    Severity::Reject,
                    format!("lines[{i}].ndc"),
                    format!("line {}: drug code {} on a Medicaid claim without an NDC", i + 1, l.procedure.as_deref().unwrap_or("")),
                    "add the 11-digit NDC of the drug administered".into(),
                    "Deficit Reduction Act of 2005 section 6002 (42 U.S.C. 1396r-8(a)(7)): NDCs on Medicaid physician-administered drug claims".into(),
                ),
                _ => {}
            }
        }
    }

    fn excluded_history(&self, claim_id: Option<&str>) -> bool {
        claim_id.is_some_and(|c| {
            c == self.claim.id || self.claim.original_reference.as_deref() == Some(c)
        })
    }

    fn monitoring(&mut self, s: &Scratch) {
        let claim = self.claim;
        if !claim.lines.iter().any(|l| {
            l.procedure
                .as_deref()
                .is_some_and(|p| monitoring::classify(p).is_some())
        }) {
            return;
        }
        let mut events = Vec::new();
        for (i, (l, x)) in claim.lines.iter().zip(&s.lines).enumerate() {
            let code = l.procedure.as_deref().unwrap_or("");
            if let (Some((program, role)), Some(dos)) = (monitoring::classify(code), x.dos) {
                events.push(Event {
                    line: Some(i),
                    code,
                    program,
                    role,
                    dos,
                    units: l.units,
                });
            }
        }
        for h in self.ctx.history.unwrap_or(&[]) {
            if self.excluded_history(h.claim_id.as_deref()) {
                continue;
            }
            if let Some((program, role)) = monitoring::classify(&h.procedure) {
                events.push(Event {
                    line: None,
                    code: &h.procedure,
                    program,
                    role,
                    dos: Day::from_date(h.date),
                    units: h.units,
                });
            }
        }
        let mut problems = Vec::new();
        monitoring::check(&events, &mut problems);
        for p in problems {
            let code = claim.lines[p.line].procedure.as_deref().unwrap_or("");
            let id = match monitoring::classify(code) {
                Some((Program::Dmht, _)) => "DMHT",
                _ => "MONITORING",
            };
            self.push(
                id,
                if p.reject {
                    Severity::Reject
                } else {
                    Severity::Warn
                },
                format!("lines[{}]", p.line),
                p.message,
                p.fix,
                p.source.into(),
            );
        }
    }

    // ------------------------------------------------------------ payer

    fn payer(&mut self, p: &PayerProfile, s: &Scratch) {
        let claim = self.claim;
        let label = || p.source_label();
        if !p.accepted_frequencies.contains(&claim.frequency) {
            self.push(
                "FREQUENCY",
                Severity::Reject,
                "frequency".into(),
                format!(
                    "claim frequency {} is not accepted by {} (accepted: {})",
                    claim.frequency.code(),
                    p.label,
                    list(p.accepted_frequencies.iter().map(|f| f.code()))
                ),
                "submit the correction or void the way the payer accepts (its portal, or a replacement claim)".into(),
                label(),
            );
        }
        if let Some(limit) = p.timely_filing_days {
            let statement_to = claim
                .institutional
                .as_ref()
                .and_then(|i| Day::parse(&i.statement_to));
            let last = s
                .lines
                .iter()
                .filter_map(|l| l.end)
                .chain(statement_to)
                .max();
            if let Some(last) = last {
                let elapsed = self.today.since(last);
                let limit = i64::from(limit);
                let deadline = last.plus(limit as i32);
                if elapsed > limit {
                    self.push(
                        "TIMELY-FILING",
                        Severity::Reject,
                        "claim".into(),
                        format!("last date of service {last} is {elapsed} days before {}: past the {limit}-day filing limit (deadline {deadline})", self.today),
                        "file only with proof of timely filing or an exception the payer recognises (e.g. retroactive eligibility)".into(),
                        label(),
                    );
                } else if limit - elapsed <= 10 {
                    self.push(
                        "TIMELY-FILING",
                        Severity::Warn,
                        "claim".into(),
                        format!("last date of service {last}: {} days left of the {limit}-day filing limit (deadline {deadline})", limit - elapsed),
                        "submit now".into(),
                        label(),
                    );
                }
            }
        }
        if claim
            .prior_authorization
            .as_deref()
            .is_none_or(|a| a.trim().is_empty())
            && !p.prior_auth.is_empty()
        {
            let rendering = claim.rendering_provider.as_ref().map(|r| r.npi.as_str());
            let billing = claim.billing_provider.npi.as_str();
            for (i, l) in s.lines.iter().enumerate() {
                let Some(dos) = l.dos else { continue };
                if l.proc32 == 0 {
                    continue;
                }
                let date = dos.to_date();
                let Some(rule) = p.prior_auth_rule(claim.kind, l.proc32, date) else {
                    continue;
                };
                let exempt = rendering
                    .into_iter()
                    .chain(std::iter::once(billing))
                    .any(|npi| p.gold_card_for(npi, l.proc32, date).is_some());
                if exempt {
                    continue;
                }
                let code = self.proc_of(i).to_string();
                let (label_r, src) = (rule.label.clone(), format!("{}: {}", label(), rule.source));
                self.push(
                    "PRIOR-AUTH",
                    Severity::Reject,
                    format!("lines[{i}]"),
                    format!("line {}: {code} on {dos} needs prior authorisation ({label_r}) and the claim has no authorisation number", i + 1),
                    "obtain the authorisation and enter its number in prior_authorization (REF*G1)".into(),
                    src,
                );
            }
        }
        if let Some(history) = self.ctx.history {
            for rule in &p.frequency_limits {
                for (i, l) in s.lines.iter().enumerate() {
                    let Some(dos) = l.dos else { continue };
                    if !rule.code.contains32(l.proc32) {
                        continue;
                    }
                    let start = dos.plus(1 - rule.per_days as i32);
                    let in_window = |d: Day| start <= d && d <= dos;
                    let prior: f64 = history
                        .iter()
                        .filter(|h| {
                            !self.excluded_history(h.claim_id.as_deref())
                                && rule.code.contains(&h.procedure)
                                && in_window(Day::from_date(h.date))
                        })
                        .map(|h| h.units)
                        .sum();
                    let on_claim: f64 = s
                        .lines
                        .iter()
                        .enumerate()
                        .filter(|(j, o)| {
                            rule.code.contains32(o.proc32)
                                && o.dos.is_some_and(|d| {
                                    in_window(d) && (d < dos || (d == dos && *j <= i))
                                })
                        })
                        .map(|(_, o)| o.units)
                        .sum();
                    if prior + on_claim > rule.max_units {
                        let code = self.proc_of(i).to_string();
                        self.push(
                            "FREQUENCY-LIMIT",
                            Severity::Reject,
                            format!("lines[{i}]"),
                            format!(
                                "line {}: {code} on {dos} brings {} units in the {} days ending {dos} ({} before this line), above the payer's limit of {} ({})",
                                i + 1,
                                prior + on_claim,
                                rule.per_days,
                                prior + on_claim - l.units,
                                rule.max_units,
                                rule.label
                            ),
                            "check the patient's history; bill only within the limit or with the payer's exception process".into(),
                            format!("{}: {}", label(), rule.source),
                        );
                    }
                }
            }
        }
        for rule in &p.bundles {
            for (j, b) in s.lines.iter().enumerate() {
                if !rule.column2.contains32(b.proc32) || b.dos.is_none() {
                    continue;
                }
                let partner =
                    s.lines.iter().enumerate().find(|(i, a)| {
                        *i != j && a.dos == b.dos && rule.column1.contains32(a.proc32)
                    });
                let Some((i, _)) = partner else { continue };
                let has = |k: usize| {
                    claim.lines[k].modifiers.iter().any(|m| {
                        rule.bypass_modifiers
                            .iter()
                            .any(|x| x.eq_ignore_ascii_case(m))
                    })
                };
                if has(i) || has(j) {
                    continue;
                }
                let (c1, c2) = (self.proc_of(i).to_string(), self.proc_of(j).to_string());
                let fix = if rule.bypass_modifiers.is_empty() {
                    format!(
                        "remove line {} ({c2}): the payer does not pay it with {c1}",
                        j + 1
                    )
                } else {
                    format!(
                        "if distinct, append one of {} to line {}; otherwise remove it",
                        rule.bypass_modifiers.join(", "),
                        j + 1
                    )
                };
                self.push(
                    "PAYER-BUNDLE",
                    Severity::Reject,
                    format!("lines[{j}]"),
                    format!(
                        "line {} {c2} is bundled into line {} {c1} on the same date by {}",
                        j + 1,
                        i + 1,
                        p.label
                    ),
                    fix,
                    format!("{}: {}", label(), rule.source),
                );
            }
        }
    }
}

/// The 0-based line index a model error path names (`lines[2].units`).
fn line_of_path(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("lines[")?;
    rest[..rest.find(']')?].parse().ok()
}
