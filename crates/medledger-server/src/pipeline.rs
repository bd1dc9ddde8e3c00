//! The glue both transports share (the `medledger` CLI and the HTTP API):
//! coders cached per code-set release, a coding result turned into the
//! ledger's [`NewEncounter`], a claim built from a finalised encounter's
//! final codes and a template, the scrubber with its tables and payer
//! profiles, and parsed 835/999/277CA files turned into ledger postings.
//!
//! Nothing here does network I/O or logs; errors carry ids, codes and
//! positions, never note text or patient identifiers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use medledger_claims::model::{Claim, ClaimKind, Diagnosis, ServiceLine};
use medledger_claims::payer::PayerProfiles;
use medledger_claims::scrub::{AgeSexEdits, ScrubContext, ScrubReport, ScrubTables, scrub};
use medledger_coder::coder::{Encounter, Setting, Sex};
use medledger_coder::{Coder, CodingResult, Model, Scratch};
use medledger_codesets::{Date, Engine};
use medledger_ledger::ledger::{
    AckPosting, ClaimPosting, EvidenceSpan, NewClaim, NewEncounter, NewPatient, NewSuggestion,
    RemittancePosting,
};
use serde_json::json;

/// Errors of the glue (PHI-free: fields, codes, ids).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// An input field is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// Which input.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The coding engine failed.
    #[error(transparent)]
    Coder(#[from] medledger_coder::CoderError),
    /// The scrubber's tables could not be prepared.
    #[error(transparent)]
    Scrub(#[from] medledger_claims::scrub::ScrubError),
    /// A payer profile could not be read.
    #[error(transparent)]
    Payer(#[from] medledger_claims::payer::PayerError),
    /// The code sets failed.
    #[error(transparent)]
    Codesets(#[from] medledger_codesets::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> PipelineError {
    PipelineError::Invalid {
        field,
        message: message.into(),
    }
}

/// `outpatient`/`op`/`office` or `inpatient`/`ip`.
pub fn parse_setting(s: &str) -> Result<Setting, PipelineError> {
    match s.to_ascii_lowercase().as_str() {
        "outpatient" | "op" | "office" => Ok(Setting::Outpatient),
        "inpatient" | "ip" => Ok(Setting::Inpatient),
        _ => Err(invalid("setting", "use outpatient or inpatient")),
    }
}

/// `F`/`female`, `M`/`male`, `U`/`unknown`.
pub fn parse_sex(s: &str) -> Result<Sex, PipelineError> {
    match s.to_ascii_lowercase().as_str() {
        "f" | "female" => Ok(Sex::Female),
        "m" | "male" => Ok(Sex::Male),
        "u" | "unknown" => Ok(Sex::Unknown),
        _ => Err(invalid("sex", "use F, M or U (female, male, unknown)")),
    }
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(field: &'static str, s: &str) -> Result<Date, PipelineError> {
    s.parse::<Date>()
        .map_err(|_| invalid(field, "expected a date as YYYY-MM-DD"))
}

/// Completed years from birth to the date of service.
pub fn age_on(dob: &str, dos: &str) -> Option<u16> {
    let b: jiff::civil::Date = dob.parse().ok()?;
    let d: jiff::civil::Date = dos.parse().ok()?;
    let span = b.until((jiff::Unit::Year, d)).ok()?;
    u16::try_from(span.get_years()).ok()
}

/// A coder for one code-set release, and the warning to report when it is
/// not the release in force on the date of service it was asked for.
pub struct CoderEntry<'e> {
    /// The coder.
    pub coder: Arc<Coder<'e>>,
    /// Set when no release is in force on the date: the newest installed
    /// release is used and a human must confirm (policy rule
    /// `release_not_effective`).
    pub fallback: Option<String>,
}

/// One [`Coder`] per code-set release (building one loads the dictionary
/// and the model, which must not be repeated per note), found by date of
/// service through a small date → coder map.
pub struct CoderCache<'e> {
    engine: Option<&'e Engine>,
    model: Option<Model>,
    max_note_bytes: usize,
    by_dos: RwLock<HashMap<DateKey, Arc<CoderEntry<'e>>>>,
    by_release: Mutex<HashMap<ReleaseKey, Arc<Coder<'e>>>>,
}

/// (date of service, fallback allowed).
type DateKey = (Option<Date>, bool);
/// (release id, the release choice's warning).
type ReleaseKey = (String, Option<String>);

/// Dates remembered before the date map is cleared.
const MAX_DATES: usize = 4096;

impl<'e> CoderCache<'e> {
    /// Coders over `engine` (None: no code sets installed) with an optional
    /// learned model.
    pub fn new(engine: Option<&'e Engine>, model: Option<Model>) -> Self {
        Self {
            engine,
            model: if engine.is_some() { model } else { None },
            max_note_bytes: medledger_coder::coder::DEFAULT_MAX_NOTE_BYTES,
            by_dos: RwLock::new(HashMap::new()),
            by_release: Mutex::new(HashMap::new()),
        }
    }

    /// Largest note a coder accepts, in bytes.
    pub fn with_max_note_bytes(mut self, max: usize) -> Self {
        self.max_note_bytes = max;
        self
    }

    /// The engine, if code sets are installed.
    pub fn engine(&self) -> Option<&'e Engine> {
        self.engine
    }

    /// The model version, if a model is loaded.
    pub fn model_version(&self) -> Option<&str> {
        self.model.as_ref().map(|m| m.version.as_str())
    }

    /// The coder for `dos` (None: the newest release). With `fallback`, a
    /// date no release is in force on gets the newest release and a
    /// warning; without, it is an error. `Ok(None)`: no code sets.
    pub fn get(
        &self,
        dos: Option<Date>,
        fallback: bool,
    ) -> Result<Option<Arc<CoderEntry<'e>>>, PipelineError> {
        let Some(engine) = self.engine else {
            return Ok(None);
        };
        if let Some(hit) = self
            .by_dos
            .read()
            .ok()
            .and_then(|m| m.get(&(dos, fallback)).cloned())
        {
            return Ok(Some(hit));
        }
        let entry = match engine.tabular_for(dos)? {
            Some((choice, _)) => CoderEntry {
                coder: self.for_release(engine, dos, (choice.id, choice.warning))?,
                fallback: None,
            },
            None if fallback => {
                let Some((newest, _)) = engine.tabular_for(None)? else {
                    return Err(medledger_coder::CoderError::NoRelease {
                        for_dos: String::new(),
                    }
                    .into());
                };
                let for_dos = dos.map(|d| format!(" for date of service {d}"));
                CoderEntry {
                    coder: self.for_release(engine, None, (newest.id, newest.warning))?,
                    fallback: Some(format!(
                        "no ICD-10-CM release is installed{}; coded with the newest installed release instead",
                        for_dos.unwrap_or_default()
                    )),
                }
            }
            None => {
                return Err(medledger_coder::CoderError::NoRelease {
                    for_dos: dos
                        .map(|d| format!(" for date of service {d}"))
                        .unwrap_or_default(),
                }
                .into());
            }
        };
        let entry = Arc::new(entry);
        if let Ok(mut m) = self.by_dos.write() {
            if m.len() >= MAX_DATES {
                m.clear();
            }
            m.insert((dos, fallback), entry.clone());
        }
        Ok(Some(entry))
    }

    fn for_release(
        &self,
        engine: &'e Engine,
        dos: Option<Date>,
        key: ReleaseKey,
    ) -> Result<Arc<Coder<'e>>, PipelineError> {
        // Held while building: concurrent first requests wait for one build.
        let mut m = self
            .by_release
            .lock()
            .map_err(|_| invalid("coder", "coder cache poisoned"))?;
        if let Some(c) = m.get(&key) {
            return Ok(c.clone());
        }
        let mut coder = Coder::new(engine, dos, self.model.clone())?;
        coder.options.max_note_bytes = self.max_note_bytes;
        let coder = Arc::new(coder);
        m.insert(key, coder.clone());
        Ok(coder)
    }
}

/// An encounter to code and store (what `encounter add` and
/// `POST /api/v1/encounters` take).
#[derive(Debug, Clone)]
pub struct NoteInput {
    /// The note (PHI).
    pub text: String,
    /// The patient (PHI).
    pub patient: NewPatient,
    /// Date of service, `YYYY-MM-DD`.
    pub dos: String,
    /// `outpatient` or `inpatient`.
    pub setting: String,
    /// Payer id.
    pub payer: Option<String>,
    /// Expected charge in cents.
    pub expected_charge_cents: Option<i64>,
    /// `clinical_note` when not given.
    pub note_kind: Option<String>,
}

/// The ledger's suggestions from a coding result.
pub fn suggestions_of(r: &CodingResult) -> Vec<NewSuggestion> {
    r.suggestions
        .iter()
        .map(|s| NewSuggestion {
            system: s.system.to_owned(),
            code: s.code.clone(),
            descriptor: s.descriptor.clone(),
            confidence: s.confidence,
            flags: s
                .flags
                .iter()
                .map(|f| {
                    serde_json::to_value(f)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect(),
            rule_ids: std::iter::once(s.logic.rule.clone())
                .chain(s.logic.guideline.clone())
                .collect(),
            evidence: s
                .evidence
                .iter()
                .map(|e| EvidenceSpan {
                    start: e.start,
                    end: e.end,
                    text: e.text.clone(),
                })
                .collect(),
            logic: {
                // the ICD-11 companion travels with the logic (the review
                // screen and the audit packet show it next to the code)
                let mut logic = serde_json::to_value(&s.logic).unwrap_or_default();
                if let (Some(map), Some(icd11)) = (logic.as_object_mut(), &s.icd11) {
                    map.insert(
                        "icd11".into(),
                        serde_json::to_value(icd11).unwrap_or_default(),
                    );
                }
                logic
            },
        })
        .collect()
}

/// Codes the note with the coder in force on its date of service (the
/// newest release, flagged for a human, when none is) and builds the
/// encounter to store. Returns it with the warnings to show. Without code
/// sets the encounter is stored without suggestions (a coder codes it).
pub fn code_encounter(
    coders: &CoderCache<'_>,
    input: NoteInput,
    scratch: &mut Scratch,
) -> Result<(NewEncounter, Vec<String>), PipelineError> {
    let mut warnings = Vec::new();
    let setting = parse_setting(&input.setting)?;
    let dos = parse_date("dos", &input.dos)?;
    let sex = input
        .patient
        .sex
        .as_deref()
        .map(|s| parse_sex(s).unwrap_or(Sex::Unknown));
    let mut enc = Encounter {
        setting,
        dos: Some(dos),
        age: age_on(&input.patient.dob, &input.dos),
        sex,
    };
    let t = Instant::now();
    let mut release_covers_dos = true;
    let result = match coders.get(Some(dos), true)? {
        Some(entry) => {
            if let Some(w) = &entry.fallback {
                warnings.push(w.clone());
                release_covers_dos = false;
                enc.dos = None;
            }
            Some(
                entry
                    .coder
                    .code_bytes("encounter", input.text.as_bytes(), &enc, scratch)?,
            )
        }
        None => {
            warnings.push(
                "no coding engine (no code sets installed); the encounter is stored without suggestions and routed to a coder. Install code sets with `medledger codesets install`".into(),
            );
            None
        }
    };
    let duration_us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
    let (engine_version, model_version, codesets, suggestions) = match &result {
        Some(r) => {
            warnings.extend(r.warnings.iter().cloned());
            (
                r.engine.to_owned(),
                r.model.clone(),
                vec![r.release.clone()],
                suggestions_of(r),
            )
        }
        None => (
            concat!("medledger-coder/", env!("CARGO_PKG_VERSION"), " (not run)").to_owned(),
            None,
            Vec::new(),
            Vec::new(),
        ),
    };
    Ok((
        NewEncounter {
            patient: input.patient,
            dos: input.dos,
            setting: input.setting,
            payer: input.payer,
            expected_charge_cents: input.expected_charge_cents,
            note_text: input.text,
            note_kind: input.note_kind.unwrap_or_else(|| "clinical_note".into()),
            engine_version,
            model_version,
            codesets,
            duration_us,
            release_covers_dos,
            suggestions,
        },
        warnings,
    ))
}

/// Charges per procedure code from `CODE → "DOLLARS"` pairs.
pub fn parse_fees<'a>(
    fees: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<HashMap<String, i64>, PipelineError> {
    let mut out = HashMap::new();
    for (code, dollars) in fees {
        let cents = medledger_x12::parse_cents(dollars.trim().as_bytes())
            .map_err(|e| invalid("fees", format!("{}: {e}", code.trim())))?;
        out.insert(code.trim().to_ascii_uppercase(), cents);
    }
    Ok(out)
}

/// Builds the claim for a finalised encounter from a template (providers,
/// payer, subscriber): diagnoses and lines come from the final codes, each
/// procedure line charged from `fees`; a template's own lines stand (dated
/// to the encounter) when the codes hold no procedure.
pub fn build_claim(
    mut c: Claim,
    encounter: i64,
    dos: &str,
    codes: &[(String, String)],
    fees: &HashMap<String, i64>,
) -> Result<Claim, PipelineError> {
    let dx: Vec<Diagnosis> = codes
        .iter()
        .filter(|(s, _)| s == "ICD-10-CM")
        .map(|(_, c)| Diagnosis {
            code: c.replace('.', ""),
            poa: None,
        })
        .collect();
    if dx.is_empty() {
        return Err(invalid(
            "encounter",
            format!("encounter {encounter} has no final ICD-10-CM code: a claim needs a diagnosis"),
        ));
    }
    let pointers: Vec<u8> = (1..=dx.len().min(4) as u8).collect();
    let mut lines = Vec::new();
    for (system, code) in codes.iter().filter(|(s, _)| s == "CPT" || s == "HCPCS") {
        let charge = *fees.get(code).ok_or_else(|| {
            invalid(
                "fees",
                format!("no charge for {system} {code}: give a fee for {code}"),
            )
        })?;
        lines.push(ServiceLine {
            procedure: Some(code.clone()),
            modifiers: vec![],
            revenue_code: None,
            units: 1.0,
            charge_cents: charge,
            date_from: dos.to_owned(),
            date_to: None,
            place_of_service: None,
            diagnosis_pointers: pointers.clone(),
            ndc: None,
        });
    }
    if lines.is_empty() {
        // The template's lines stand (e.g. an E/M level chosen elsewhere),
        // dated to the encounter and pointing only at diagnoses it has.
        for l in &mut c.lines {
            l.date_from = dos.to_owned();
            l.date_to = None;
            l.diagnosis_pointers
                .retain(|p| *p >= 1 && usize::from(*p) <= dx.len());
            if l.diagnosis_pointers.is_empty() {
                l.diagnosis_pointers = pointers.clone();
            }
        }
        lines = std::mem::take(&mut c.lines);
    }
    c.diagnoses = dx;
    c.lines = lines;
    c.encounter = Some(encounter);
    if c.id.is_empty() || c.id == "TEMPLATE" {
        c.id = format!("ENC{encounter}");
    }
    let errors = c.validate();
    if !errors.is_empty() {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        return Err(invalid(
            "claim",
            format!("the built claim is not valid: {}", list.join("; ")),
        ));
    }
    Ok(c)
}

/// The ledger's claim row for a built claim.
pub fn new_claim(c: &Claim, encounter: i64) -> Result<NewClaim, serde_json::Error> {
    Ok(NewClaim {
        encounter,
        payer: c.payer.id.clone(),
        claim_type: match c.kind {
            ClaimKind::Professional => "professional".into(),
            ClaimKind::Institutional => "institutional".into(),
        },
        total_charge_cents: c.total_charge_cents(),
        body: serde_json::to_value(c)?,
        control_number: Some(c.id.clone()),
    })
}

/// The scrubber: tables prepared once from the installed code sets, payer
/// profiles and the age/sex edits.
pub struct Scrubber {
    /// NCCI, MUE, ICD-10-CM tables.
    pub tables: ScrubTables,
    /// Payer profiles.
    pub profiles: PayerProfiles,
    /// CMS age/sex edits, if loaded.
    pub age_sex: Option<AgeSexEdits>,
    /// "Today" for timely filing; `None`: the system date at each scrub.
    pub today: Option<jiff::civil::Date>,
    /// Why some edits cannot run (no code sets).
    pub warnings: Vec<String>,
}

impl Scrubber {
    /// Tables from the engine over `data_dir` (none when no code sets are
    /// installed: only the edits that need no tables run), payer profiles
    /// from `payers` (default: the built-in ones).
    pub fn new(
        data_dir: &Path,
        engine: Option<&Engine>,
        payers: Option<&Path>,
        age_sex_edits: Option<&Path>,
        today: Option<jiff::civil::Date>,
    ) -> Result<Self, PipelineError> {
        let mut warnings = Vec::new();
        let opened;
        let engine = match engine {
            Some(e) => Some(e),
            None => match Engine::open(data_dir) {
                Ok(e) => {
                    opened = e;
                    Some(&opened)
                }
                Err(e) => {
                    warnings.push(format!(
                        "no code sets installed ({e}): only the edits that need no tables ran; install with `medledger codesets install`"
                    ));
                    None
                }
            },
        };
        let tables = match engine {
            Some(e) => ScrubTables::from_engine(e)?,
            None => ScrubTables::new(),
        };
        let profiles = match payers {
            Some(d) => PayerProfiles::load_dir(d)?,
            None => PayerProfiles::builtin()?,
        };
        let age_sex = age_sex_edits.map(AgeSexEdits::load).transpose()?;
        Ok(Self {
            tables,
            profiles,
            age_sex,
            today,
            warnings,
        })
    }

    /// Scrubs one claim.
    pub fn scrub(&self, c: &Claim) -> ScrubReport {
        let today = self.today.unwrap_or_else(|| jiff::Zoned::now().date());
        let ctx = ScrubContext::new(&self.tables, today)
            .with_payer(self.profiles.for_payer(&c.payer))
            .with_age_sex(self.age_sex.as_ref());
        scrub(c, &ctx)
    }
}

/// The ledger postings of a parsed 835, one per transaction set.
pub fn remittance_postings(remits: &[medledger_x12::Remittance]) -> Vec<RemittancePosting> {
    remits
        .iter()
        .map(|r| RemittancePosting {
            payer: r
                .payer
                .name
                .clone()
                .unwrap_or_else(|| r.payer.id.clone().unwrap_or_default()),
            trace: Some(r.trace.reference.clone()),
            total_paid_cents: r.total_paid_cents,
            claims: r
                .claims
                .iter()
                .map(|c| ClaimPosting {
                    control_number: c.patient_control_number.clone(),
                    status_code: c.status_code.clone(),
                    charge_cents: c.charge_cents,
                    paid_cents: c.paid_cents,
                    patient_responsibility_cents: c.patient_responsibility_cents.unwrap_or(0),
                    payer_claim_control_number: c.payer_claim_control_number.clone(),
                    adjustments: c
                        .adjustments
                        .iter()
                        .chain(c.lines.iter().flat_map(|l| l.adjustments.iter()))
                        .map(|a| (a.group.clone(), a.reason.clone(), a.amount_cents))
                        .collect(),
                    remarks: c.remarks.clone(),
                })
                .collect(),
        })
        .collect()
}

/// A parsed acknowledgement: a PHI-free summary and the postings to record.
#[derive(Debug, Clone)]
pub struct ParsedAck {
    /// `{"type": "999"|"277CA", …}`.
    pub summary: serde_json::Value,
    /// Accepted/rejected per patient control number (277CA).
    pub postings: Vec<AckPosting>,
}

/// Why an acknowledgement could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    /// Not X12, or not a valid 999/277CA.
    #[error("{0}")]
    X12(Box<medledger_x12::X12Error>),
    /// Another transaction set.
    #[error("transaction set {0:?} is not a 999 or 277CA acknowledgement")]
    WrongKind(String),
}

impl From<medledger_x12::X12Error> for AckError {
    fn from(e: medledger_x12::X12Error) -> Self {
        AckError::X12(Box::new(e))
    }
}

/// Parses a 999 or 277CA (which one is read from the first ST).
pub fn parse_ack(bytes: &[u8]) -> Result<ParsedAck, AckError> {
    let ics = medledger_x12::parse(bytes)?;
    let kind = ics
        .iter()
        .flat_map(|ic| ic.transactions())
        .map(|(_, t)| t.id.clone())
        .next()
        .unwrap_or_default();
    let mut postings = Vec::new();
    let summary = match kind.as_str() {
        "999" => {
            let acks = medledger_x12::parse_999(bytes)?;
            let sets: Vec<_> = acks
                .iter()
                .flat_map(|a| a.transactions.iter())
                .map(|r| json!({"transaction_set": r.set_id, "control_number": r.control_number, "status": r.status.code(), "segment_errors": r.segment_errors.len()}))
                .collect();
            json!({"type": "999", "transaction_sets": sets})
        }
        "277" => {
            let acks = medledger_x12::parse_277ca(bytes)?;
            let mut claims = Vec::new();
            for a in &acks {
                for c in &a.claims {
                    let accepted = matches!(c.disposition, medledger_x12::Disposition::Accepted);
                    let rejected = matches!(c.disposition, medledger_x12::Disposition::Rejected);
                    let pcn = &c.patient_control_number;
                    if !pcn.is_empty() && (accepted || rejected) {
                        postings.push(AckPosting {
                            control_number: pcn.clone(),
                            accepted,
                            detail: json!({"source": "277CA", "categories": c.statuses.iter().flat_map(|s| s.categories().map(str::to_owned)).collect::<Vec<_>>()}),
                        });
                    }
                    claims.push(json!({"patient_control_number": c.patient_control_number, "disposition": format!("{:?}", c.disposition).to_lowercase()}));
                }
            }
            json!({"type": "277CA", "claims": claims})
        }
        other => return Err(AckError::WrongKind(other.to_owned())),
    };
    Ok(ParsedAck { summary, postings })
}

/// Cents as a JSON number of dollars with two decimals.
pub fn format_dollars(cents: i64) -> serde_json::Value {
    let text = medledger_x12::format_cents(cents);
    text.parse::<serde_json::Number>()
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::String(text))
}

/// The 837 envelope the server writes with (and the CLI's defaults).
pub fn default_envelope(control_number: u32) -> medledger_claims::x837::Envelope {
    use medledger_claims::x837::{Envelope, Receiver, Submitter};
    let mut env = Envelope::new(
        "MEDLEDGER",
        "CLEARINGHOUSE",
        Submitter {
            name: "MEDLEDGER BILLING".into(),
            id: "MEDLEDGER".into(),
            contact_name: "EDI DESK".into(),
            phone: Some("5555550100".into()),
            email: None,
        },
        Receiver {
            name: "CLEARINGHOUSE".into(),
            id: "CLEARINGHOUSE".into(),
        },
        jiff::Zoned::now().datetime(),
    );
    env.interchange_control_number = control_number;
    env.group_control_number = control_number;
    env.batch_reference = control_number.to_string();
    env.usage = 'T';
    env.newline = true;
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_flag_is_one_the_review_policy_knows() {
        use medledger_coder::coder::Flag;
        let mut got: Vec<String> = Flag::ALL
            .into_iter()
            .map(|f| {
                serde_json::to_value(f)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let mut known: Vec<&str> = medledger_ledger::ledger::policy::ENGINE_FLAGS.to_vec();
        got.sort_unstable();
        known.sort_unstable();
        assert_eq!(got, known);
    }

    #[test]
    fn ages_and_fees() {
        assert_eq!(age_on("1960-05-01", "2026-04-30"), Some(65));
        assert_eq!(age_on("1960-05-01", "2026-05-01"), Some(66));
        assert_eq!(age_on("bad", "2026-05-01"), None);
        let f = parse_fees([("99213", "125.00"), (" j3490 ", "3")]).unwrap();
        assert_eq!(f["99213"], 12500);
        assert_eq!(f["J3490"], 300);
        assert!(parse_fees([("99213", "12x")]).is_err());
    }

    #[test]
    fn settings_and_sexes() {
        assert_eq!(parse_setting("IP").unwrap(), Setting::Inpatient);
        assert!(parse_setting("home").is_err());
        assert_eq!(parse_sex("F").unwrap(), Sex::Female);
        assert!(parse_sex("x").is_err());
    }
}
