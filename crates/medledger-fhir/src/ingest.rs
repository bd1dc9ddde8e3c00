//! A Bundle → the encounters medledger codes, with their patient, notes,
//! conditions, procedures, observations, providers and payer, plus a
//! report of what was read, what was skipped and why.
//!
//! Mappings:
//! - `sex`: Patient.gender `female` → `F`, `male` → `M`, anything else → `U`.
//! - `dos`: the date part of Encounter.period.start (absent or without day
//!   precision: `None` and a warning).
//! - `setting` (the ledger's `inpatient` / `outpatient`): Encounter.class
//!   (v3-ActCode) `IMP`, `ACUTE`, `NONAC` → `inpatient`; everything else
//!   (`AMB`, `EMER`, `OBSENC`, `VR`, `HH`, `FLD`, `SS`, `PRENC`, …) →
//!   `outpatient` — emergency and observation stays are billed as
//!   hospital outpatient services. `em_setting` is the finer E/M setting of
//!   medledger-services: `inpatient`, `ed` (EMER), `observation` (OBSENC),
//!   else `office`.
//! - `payer`: the patient's Coverage in the bundle (active first, lowest
//!   `order`): its payor Organization's name and identifier, or the payor
//!   reference's display/identifier; else the focal insurance of a Claim
//!   billing this encounter (its Coverage, or the coverage display); else an
//!   ExplanationOfBenefit of the encounter (contained Coverage payor,
//!   insurer display).
//! - notes: DocumentReference linked by `context.encounter`; the first
//!   content whose attachment is `text/plain` (base64 `data`, charset
//!   honoured, UTF-8 default), else `text/html` (converted to text, see the
//!   `text` module). `url`-only attachments are not fetched (skipped with a
//!   reason), as are other content types and undecodable data.
//! - conditions/procedures/observations: linked by `.encounter`; those
//!   without one are reported as skipped (patient-level). Codes are as
//!   given: the ICD-10-CM coding if any, else SNOMED CT, else the first;
//!   all codings are kept in `codings`.
//! - practitioner: the Encounter participant of type PPRF (primary
//!   performer), else ATND, else the first, when it resolves to a
//!   Practitioner; NPI from the `http://hl7.org/fhir/sid/us-npi` identifier.
//! - organization: Encounter.serviceProvider.
//!
//! Nothing here logs; warnings and skip reasons name resources by location
//! and id only, never their content.

use crate::FhirError;
use crate::datatypes::*;
use crate::parse::Bundle;
use crate::resources::*;
use crate::text::{decode_base64, decode_charset, html_to_text, media_type};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// NPI identifier system.
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
/// ICD-10-CM code system.
pub const ICD10CM_SYSTEM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// SNOMED CT code system.
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";

/// The patient of an encounter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestedPatient {
    /// Patient.id.
    pub source_id: Option<String>,
    /// "Given Family".
    pub name: String,
    /// Patient.birthDate as given (`YYYY-MM-DD` when complete).
    pub dob: Option<String>,
    /// `F`, `M` or `U`.
    pub sex: String,
}

/// A clinical note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestedNote {
    /// DocumentReference.id.
    pub source_id: Option<String>,
    /// Kind of note (type text/display/code; `note` when untyped).
    pub kind: String,
    /// The LOINC code of the type, if any.
    pub loinc: Option<String>,
    /// `text/plain` or `text/html` (converted).
    pub content_type: String,
    /// The text.
    pub text: String,
}

/// A code as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeOut {
    /// System URI.
    pub system: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// Display.
    pub display: Option<String>,
}

/// A condition of the encounter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestedCondition {
    /// Condition.id.
    pub source_id: Option<String>,
    /// System of the chosen coding (ICD-10-CM, else SNOMED CT, else the first).
    pub system: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// Display (coding display, else the concept text).
    pub display: Option<String>,
    /// Every coding.
    pub codings: Vec<CodeOut>,
    /// clinicalStatus code.
    pub clinical_status: Option<String>,
    /// verificationStatus code.
    pub verification_status: Option<String>,
    /// Onset (dateTime, period start or string).
    pub onset: Option<String>,
}

/// A procedure of the encounter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestedProcedure {
    /// Procedure.id.
    pub source_id: Option<String>,
    /// System of the chosen coding.
    pub system: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// Display.
    pub display: Option<String>,
    /// Every coding.
    pub codings: Vec<CodeOut>,
    /// Status.
    pub status: String,
    /// When performed (dateTime or period start).
    pub performed: Option<String>,
}

/// One value of an observation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationValue {
    /// LOINC (or other) code.
    pub code: Option<String>,
    /// Display.
    pub display: Option<String>,
    /// The value as text (numbers as written by the sender's JSON number).
    pub value: Option<String>,
    /// Numeric value, when a quantity or integer.
    pub value_number: Option<f64>,
    /// Unit.
    pub unit: Option<String>,
}

/// An observation of the encounter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestedObservation {
    /// Observation.id.
    pub source_id: Option<String>,
    /// Code system.
    pub system: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// Display.
    pub display: Option<String>,
    /// Value as text.
    pub value: Option<String>,
    /// Numeric value.
    pub value_number: Option<f64>,
    /// Unit.
    pub unit: Option<String>,
    /// effectiveDateTime or effectivePeriod.start.
    pub effective: Option<String>,
    /// First category code (vital-signs, laboratory, …).
    pub category: Option<String>,
    /// Components (blood pressure, …).
    pub components: Vec<ObservationValue>,
}

/// A practitioner or organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestedProvider {
    /// Resource id.
    pub source_id: Option<String>,
    /// NPI as given (not checked).
    pub npi: Option<String>,
    /// Name.
    pub name: Option<String>,
}

/// Where the payer was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestedPayer {
    /// Name (Organization.name or the reference display).
    pub name: Option<String>,
    /// Identifier value (payer id).
    pub identifier: Option<String>,
    /// `Coverage`, `Claim.insurance` or `ExplanationOfBenefit`.
    pub source: String,
}

/// One encounter, ready for coding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestedEncounter {
    /// Encounter.id.
    pub source_id: String,
    /// Encounter.status.
    pub status: String,
    /// Encounter.class code.
    pub class_code: Option<String>,
    /// The encounter type (first type's label).
    pub encounter_type: Option<String>,
    /// The patient.
    pub patient: IngestedPatient,
    /// Date of service (`YYYY-MM-DD`).
    pub dos: Option<String>,
    /// `inpatient` or `outpatient` (the ledger's setting).
    pub setting: String,
    /// `office`, `inpatient`, `observation` or `ed` (E/M setting).
    pub em_setting: String,
    /// The payer.
    pub payer: Option<IngestedPayer>,
    /// Notes (may be empty).
    pub notes: Vec<IngestedNote>,
    /// Conditions.
    pub conditions: Vec<IngestedCondition>,
    /// Procedures.
    pub procedures: Vec<IngestedProcedure>,
    /// Observations.
    pub observations: Vec<IngestedObservation>,
    /// Practitioner.
    pub practitioner: Option<IngestedProvider>,
    /// Organisation (service provider).
    pub organization: Option<IngestedProvider>,
}

/// A resource not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// `Bundle.entry[i].resource(Type)`.
    pub location: String,
    /// Resource id.
    pub id: Option<String>,
    /// Why (PHI-free).
    pub reason: String,
}

/// What ingest read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct IngestReport {
    /// Resources per type (all entries).
    pub resources: BTreeMap<String, usize>,
    /// Encounters produced.
    pub encounters: usize,
    /// Notes attached.
    pub notes: usize,
    /// Conditions attached.
    pub conditions: usize,
    /// Procedures attached.
    pub procedures: usize,
    /// Observations attached.
    pub observations: usize,
    /// Encounters without a note.
    pub encounters_without_notes: usize,
    /// Warnings (PHI-free).
    pub warnings: Vec<String>,
    /// Resources of the types ingest uses that were not attached, with why.
    pub skipped: Vec<Skipped>,
}

/// Encounters and the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ingest {
    /// The encounters, in bundle order.
    pub encounters: Vec<IngestedEncounter>,
    /// The report.
    pub report: IngestReport,
}

fn loc(i: usize, r: &Resource) -> String {
    format!("Bundle.entry[{i}].resource({})", r.resource_type())
}

fn codes(
    cc: Option<&CodeableConcept>,
) -> (Option<String>, Option<String>, Option<String>, Vec<CodeOut>) {
    let Some(cc) = cc else {
        return (None, None, None, Vec::new());
    };
    let chosen = cc
        .coding_of(ICD10CM_SYSTEM)
        .or_else(|| cc.coding_of(SNOMED_SYSTEM))
        .or_else(|| cc.coding.first());
    let all = cc
        .coding
        .iter()
        .map(|c| CodeOut {
            system: c.system.clone(),
            code: c.code.clone(),
            display: c.display.clone(),
        })
        .collect();
    match chosen {
        Some(c) => (
            c.system.clone(),
            c.code.clone(),
            c.display.clone().or_else(|| cc.text.clone()),
            all,
        ),
        None => (None, None, cc.text.clone(), all),
    }
}

fn status_code(cc: &Option<CodeableConcept>) -> Option<String> {
    cc.as_ref().and_then(|c| c.first_code()).map(str::to_owned)
}

fn num(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())
}

fn value_of(
    q: &Option<Quantity>,
    cc: &Option<CodeableConcept>,
    s: &Option<String>,
    b: Option<bool>,
    i: Option<i64>,
) -> (Option<String>, Option<f64>, Option<String>) {
    if let Some(q) = q {
        return (
            q.value.map(num),
            q.value,
            q.unit.clone().or_else(|| q.code.clone()),
        );
    }
    if let Some(cc) = cc {
        return (cc.label().map(str::to_owned), None, None);
    }
    if let Some(s) = s {
        return (Some(s.clone()), None, None);
    }
    if let Some(b) = b {
        return (Some(b.to_string()), None, None);
    }
    if let Some(i) = i {
        return (Some(i.to_string()), Some(i as f64), None);
    }
    (None, None, None)
}

fn npi(ids: &[Identifier]) -> Option<String> {
    ids.iter()
        .find(|i| i.system.as_deref() == Some(NPI_SYSTEM))
        .and_then(|i| i.value.clone())
}

/// Sex from Patient.gender.
pub fn sex_of(gender: Option<&str>) -> &'static str {
    match gender {
        Some("female") => "F",
        Some("male") => "M",
        _ => "U",
    }
}

/// The ledger setting and E/M setting of an Encounter.class code.
pub fn settings_of(class: Option<&str>) -> (&'static str, &'static str) {
    match class {
        Some("IMP" | "ACUTE" | "NONAC") => ("inpatient", "inpatient"),
        Some("EMER") => ("outpatient", "ed"),
        Some("OBSENC") => ("outpatient", "observation"),
        _ => ("outpatient", "office"),
    }
}

struct Ingester<'a> {
    b: &'a Bundle,
    report: IngestReport,
}

impl<'a> Ingester<'a> {
    fn target(&self, r: &Option<Reference>) -> Option<usize> {
        r.as_ref()
            .and_then(|r| r.reference.as_deref())
            .and_then(|t| self.b.resolve_index(t))
    }

    fn patient(&mut self, e: &Encounter, at: &str) -> IngestedPatient {
        let unknown = IngestedPatient {
            source_id: None,
            name: String::new(),
            dob: None,
            sex: "U".into(),
        };
        let Some(i) = self.target(&e.subject) else {
            self.report
                .warnings
                .push(format!("{at}.subject: no Patient in the bundle"));
            return unknown;
        };
        let Some(Resource::Patient(p)) = &self.b.entry[i].resource else {
            self.report
                .warnings
                .push(format!("{at}.subject: not a Patient"));
            return unknown;
        };
        let dob = p.birth_date.as_ref().map(|d| d.as_str().to_owned());
        if p.birth_date
            .as_ref()
            .is_some_and(|d| d.full_date().is_none())
        {
            self.report.warnings.push(format!(
                "Bundle.entry[{i}].resource(Patient).birthDate: not a complete date"
            ));
        }
        IngestedPatient {
            source_id: p.id.clone(),
            name: preferred_name(&p.name)
                .map(HumanName::display)
                .unwrap_or_default(),
            dob,
            sex: sex_of(p.gender.as_deref()).into(),
        }
    }

    fn organization(&self, i: usize) -> Option<IngestedProvider> {
        match &self.b.entry[i].resource {
            Some(Resource::Organization(o)) => Some(IngestedProvider {
                source_id: o.id.clone(),
                npi: npi(&o.identifier),
                name: o.name.clone(),
            }),
            _ => None,
        }
    }

    fn practitioner(&self, e: &Encounter) -> Option<IngestedProvider> {
        let has = |p: &EncounterParticipant, code: &str| p.type_.iter().any(|t| t.has_code(code));
        let order = e
            .participant
            .iter()
            .filter(|p| has(p, "PPRF"))
            .chain(e.participant.iter().filter(|p| has(p, "ATND")))
            .chain(e.participant.iter());
        for p in order {
            if let Some(i) = self.target(&p.individual)
                && let Some(Resource::Practitioner(pr)) = &self.b.entry[i].resource
            {
                return Some(IngestedProvider {
                    source_id: pr.id.clone(),
                    npi: npi(&pr.identifier),
                    name: preferred_name(&pr.name).map(HumanName::display),
                });
            }
        }
        None
    }

    fn payer_from_ref(&self, r: &Reference, source: &str) -> Option<IngestedPayer> {
        if let Some(i) = r.reference.as_deref().and_then(|t| self.b.resolve_index(t))
            && let Some(Resource::Organization(o)) = &self.b.entry[i].resource
        {
            return Some(IngestedPayer {
                name: o.name.clone().or_else(|| r.display.clone()),
                identifier: o
                    .identifier
                    .iter()
                    .find(|i| i.system.as_deref() != Some(NPI_SYSTEM))
                    .or_else(|| o.identifier.first())
                    .and_then(|i| i.value.clone()),
                source: source.into(),
            });
        }
        let identifier = r.identifier.as_ref().and_then(|i| i.value.clone());
        (r.display.is_some() || identifier.is_some()).then(|| IngestedPayer {
            name: r.display.clone(),
            identifier,
            source: source.into(),
        })
    }

    fn payer_from_coverage(&self, c: &Coverage) -> Option<IngestedPayer> {
        c.payor
            .iter()
            .find_map(|p| self.payer_from_ref(p, "Coverage"))
    }

    fn payer(&self, enc_idx: usize, patient_idx: Option<usize>) -> Option<IngestedPayer> {
        // 1. the patient's Coverage
        let mut covs: Vec<&Coverage> = self
            .b
            .resources()
            .filter_map(|(_, r)| match r {
                Resource::Coverage(c)
                    if patient_idx.is_some()
                        && self.target(&Some(c.beneficiary.clone())) == patient_idx =>
                {
                    Some(c)
                }
                _ => None,
            })
            .collect();
        covs.sort_by_key(|c| (c.status != "active", c.order.unwrap_or(u32::MAX)));
        if let Some(p) = covs.iter().find_map(|c| self.payer_from_coverage(c)) {
            return Some(p);
        }
        let bills = |encs: &[Reference]| {
            encs.iter()
                .any(|r| self.target(&Some(r.clone())) == Some(enc_idx))
        };
        // 2. a Claim of this encounter
        for (_, r) in self.b.resources() {
            if let Resource::Claim(c) = r
                && c.item.iter().any(|it| bills(&it.encounter))
            {
                let mut ins: Vec<&ClaimInsurance> = c.insurance.iter().collect();
                ins.sort_by_key(|i| (!i.focal, i.sequence));
                for i in ins {
                    if let Some(ci) = self.target(&Some(i.coverage.clone()))
                        && let Some(Resource::Coverage(cov)) = &self.b.entry[ci].resource
                        && let Some(p) = self.payer_from_coverage(cov)
                    {
                        return Some(p);
                    }
                    if let Some(p) = self.payer_from_ref(&i.coverage, "Claim.insurance") {
                        return Some(p);
                    }
                }
            }
        }
        // 3. an EOB of this encounter
        for (_, r) in self.b.resources() {
            if let Resource::ExplanationOfBenefit(e) = r
                && e.item.iter().any(|it| bills(&it.encounter))
            {
                for ins in &e.insurance {
                    if let Some(local) = ins
                        .coverage
                        .reference
                        .as_deref()
                        .and_then(|r| r.strip_prefix('#'))
                        && let Some(k) = e.contained.iter().find(|k| k.id.as_deref() == Some(local))
                        && let Some(p) = k
                            .payor
                            .iter()
                            .find_map(|p| self.payer_from_ref(p, "ExplanationOfBenefit"))
                    {
                        return Some(p);
                    }
                }
                if let Some(p) = self.payer_from_ref(&e.insurer, "ExplanationOfBenefit") {
                    return Some(p);
                }
            }
        }
        None
    }

    fn note(&mut self, i: usize, d: &DocumentReference) -> Result<IngestedNote, String> {
        let mut reasons = Vec::new();
        let mut chosen = None;
        // text/plain first, then text/html
        for want in ["text/plain", "text/html"] {
            for (k, c) in d.content.iter().enumerate() {
                let (mt, charset) = media_type(c.attachment.content_type.as_deref().unwrap_or(""));
                if mt != want {
                    continue;
                }
                let Some(data) = &c.attachment.data else {
                    reasons.push(format!(
                        "content[{k}]: {}",
                        if c.attachment.url.is_some() {
                            "attachment by url is not fetched"
                        } else {
                            "no data"
                        }
                    ));
                    continue;
                };
                match decode_base64(data).and_then(|b| decode_charset(b, charset.as_deref())) {
                    Ok(t) => {
                        chosen = Some((mt, t));
                        break;
                    }
                    Err(e) => reasons.push(format!("content[{k}].attachment: {e}")),
                }
            }
            if chosen.is_some() {
                break;
            }
        }
        let Some((mt, text)) = chosen else {
            if reasons.is_empty() {
                reasons.push("no text/plain or text/html content".into());
            }
            return Err(reasons.join("; "));
        };
        if !reasons.is_empty() {
            self.report.warnings.push(format!(
                "Bundle.entry[{i}].resource(DocumentReference): {}",
                reasons.join("; ")
            ));
        }
        let text = if mt == "text/html" {
            html_to_text(&text)
        } else {
            text
        };
        let ty = d.type_.as_ref();
        Ok(IngestedNote {
            source_id: d.id.clone(),
            kind: ty.and_then(|t| t.label()).unwrap_or("note").to_owned(),
            loinc: ty
                .and_then(|t| t.code_of("http://loinc.org"))
                .map(str::to_owned),
            content_type: mt,
            text,
        })
    }
}

/// Turns a parsed, validated bundle into encounters plus a report.
pub fn ingest_bundle(b: &Bundle) -> Result<Ingest, FhirError> {
    let mut ing = Ingester {
        b,
        report: IngestReport::default(),
    };
    let mut out: Vec<IngestedEncounter> = Vec::new();
    let mut by_entry: HashMap<usize, usize> = HashMap::new();
    for (i, r) in b.resources() {
        *ing.report
            .resources
            .entry(r.resource_type().to_owned())
            .or_default() += 1;
        let Resource::Encounter(e) = r else {
            continue;
        };
        let at = loc(i, r);
        let Some(id) = e.id.clone() else {
            ing.report.skipped.push(Skipped {
                location: at,
                id: None,
                reason: "Encounter without an id".into(),
            });
            continue;
        };
        let patient = ing.patient(e, &at);
        let dos = e
            .period
            .as_ref()
            .and_then(|p| p.start.as_ref())
            .and_then(|s| s.full_date())
            .map(str::to_owned);
        if dos.is_none() {
            ing.report.warnings.push(format!(
                "{at}.period.start: absent or not a complete date; no date of service"
            ));
        }
        let class_code = e.class.code.clone();
        let (setting, em) = settings_of(class_code.as_deref());
        let patient_idx = ing.target(&e.subject);
        let payer = ing.payer(i, patient_idx);
        if payer.is_none() {
            ing.report.warnings.push(format!("{at}: no payer found"));
        }
        let practitioner = ing.practitioner(e);
        let organization = ing
            .target(&e.service_provider)
            .and_then(|k| ing.organization(k));
        by_entry.insert(i, out.len());
        out.push(IngestedEncounter {
            source_id: id,
            status: e.status.clone(),
            class_code,
            encounter_type: e.type_.first().and_then(|t| t.label()).map(str::to_owned),
            patient,
            dos,
            setting: setting.into(),
            em_setting: em.into(),
            payer,
            notes: Vec::new(),
            conditions: Vec::new(),
            procedures: Vec::new(),
            observations: Vec::new(),
            practitioner,
            organization,
        });
    }
    for (i, r) in b.resources() {
        let enc_of = |ing: &Ingester<'_>, rf: &Option<Reference>| {
            ing.target(rf).and_then(|k| by_entry.get(&k).copied())
        };
        let skip = |ing: &mut Ingester<'_>, reason: String| {
            ing.report.skipped.push(Skipped {
                location: loc(i, r),
                id: r.id().map(str::to_owned),
                reason,
            })
        };
        match r {
            Resource::DocumentReference(d) => {
                if d.status == "entered-in-error" {
                    skip(&mut ing, "status entered-in-error".into());
                    continue;
                }
                let encs: Vec<usize> = d
                    .context
                    .iter()
                    .flat_map(|c| c.encounter.iter())
                    .filter_map(|e| enc_of(&ing, &Some(e.clone())))
                    .collect();
                if encs.is_empty() {
                    skip(
                        &mut ing,
                        "no context.encounter linking it to an Encounter of the bundle".into(),
                    );
                    continue;
                }
                match ing.note(i, d) {
                    Ok(n) => {
                        for k in encs {
                            out[k].notes.push(n.clone());
                            ing.report.notes += 1;
                        }
                    }
                    Err(why) => skip(&mut ing, why),
                }
            }
            Resource::Condition(c) => {
                let Some(k) = enc_of(&ing, &c.encounter) else {
                    skip(&mut ing, "no encounter (patient-level condition)".into());
                    continue;
                };
                let (system, code, display, codings) = codes(c.code.as_ref());
                out[k].conditions.push(IngestedCondition {
                    source_id: c.id.clone(),
                    system,
                    code,
                    display,
                    codings,
                    clinical_status: status_code(&c.clinical_status),
                    verification_status: status_code(&c.verification_status),
                    onset: c
                        .onset_date_time
                        .as_ref()
                        .map(|d| d.as_str().to_owned())
                        .or_else(|| {
                            c.onset_period
                                .as_ref()
                                .and_then(|p| p.start.as_ref())
                                .map(|d| d.as_str().to_owned())
                        })
                        .or_else(|| c.onset_string.clone()),
                });
                ing.report.conditions += 1;
            }
            Resource::Procedure(p) => {
                let Some(k) = enc_of(&ing, &p.encounter) else {
                    skip(&mut ing, "no encounter".into());
                    continue;
                };
                let (system, code, display, codings) = codes(p.code.as_ref());
                out[k].procedures.push(IngestedProcedure {
                    source_id: p.id.clone(),
                    system,
                    code,
                    display,
                    codings,
                    status: p.status.clone(),
                    performed: p
                        .performed_date_time
                        .as_ref()
                        .or_else(|| p.performed_period.as_ref().and_then(|x| x.start.as_ref()))
                        .map(|d| d.as_str().to_owned()),
                });
                ing.report.procedures += 1;
            }
            Resource::Observation(o) => {
                let Some(k) = enc_of(&ing, &o.encounter) else {
                    skip(&mut ing, "no encounter".into());
                    continue;
                };
                let (system, code, display, _) = codes(Some(&o.code));
                let (value, value_number, unit) = value_of(
                    &o.value_quantity,
                    &o.value_codeable_concept,
                    &o.value_string,
                    o.value_boolean,
                    o.value_integer,
                );
                let components = o
                    .component
                    .iter()
                    .map(|c| {
                        let (_, code, display, _) = codes(Some(&c.code));
                        let (value, value_number, unit) = value_of(
                            &c.value_quantity,
                            &c.value_codeable_concept,
                            &c.value_string,
                            None,
                            None,
                        );
                        ObservationValue {
                            code,
                            display,
                            value,
                            value_number,
                            unit,
                        }
                    })
                    .collect();
                out[k].observations.push(IngestedObservation {
                    source_id: o.id.clone(),
                    system,
                    code,
                    display,
                    value,
                    value_number,
                    unit,
                    effective: o
                        .effective_date_time
                        .as_ref()
                        .or_else(|| o.effective_period.as_ref().and_then(|x| x.start.as_ref()))
                        .map(|d| d.as_str().to_owned()),
                    category: o
                        .category
                        .first()
                        .and_then(|c| c.first_code())
                        .map(str::to_owned),
                    components,
                });
                ing.report.observations += 1;
            }
            _ => {}
        }
    }
    ing.report.encounters = out.len();
    ing.report.encounters_without_notes = out.iter().filter(|e| e.notes.is_empty()).count();
    Ok(Ingest {
        encounters: out,
        report: ing.report,
    })
}
