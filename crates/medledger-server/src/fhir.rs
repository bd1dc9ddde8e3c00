//! FHIR R4 glue shared by `medledger fhir …` and `/api/v1/fhir/*`: a Bundle
//! becomes stored, coded encounters; a stored claim becomes a FHIR Claim
//! bundle; a ClaimResponse / ExplanationOfBenefit is posted like an 835.

use medledger_coder::Scratch;
use medledger_fhir::FhirError;
use medledger_fhir::ingest::{IngestReport, IngestedEncounter};
use medledger_ledger::ledger::{
    EncounterAdded, Ledger, LedgerError, NewPatient, PostingReport, Principal,
};
use serde::Serialize;

use crate::pipeline::{CoderCache, NoteInput, PipelineError, code_encounter};

/// Why importing a bundle failed as a whole (nothing was stored).
#[derive(Debug, thiserror::Error)]
pub enum FhirImportError {
    /// The bundle is not valid FHIR R4 (the location says where).
    #[error(transparent)]
    Fhir(#[from] FhirError),
    /// Coding failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The ledger refused (role, store).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// One encounter of the bundle and what became of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedEncounter {
    /// `Encounter.id` in the bundle.
    pub source_id: String,
    /// Stored as this ledger encounter (None: skipped).
    #[schema(value_type = Option<Object>)]
    pub stored: Option<EncounterAdded>,
    /// Suggestions the engine made.
    pub suggestions: usize,
    /// Notes coded (joined in bundle order, a blank line apart).
    pub notes: usize,
    /// Conditions, procedures and observations the bundle attached
    /// (structured data: reported, never turned into codes without a note).
    pub structured: [usize; 3],
    /// Why it was not stored.
    pub skipped: Option<String>,
    /// Coding warnings (PHI-free).
    pub warnings: Vec<String>,
}

/// What importing a bundle did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FhirImport {
    /// What the reader found (resource counts, skipped resources, warnings).
    #[schema(value_type = Object)]
    pub report: IngestReport,
    /// Per encounter.
    pub encounters: Vec<ImportedEncounter>,
    /// Encounters stored.
    pub stored: usize,
}

fn note_input(e: &IngestedEncounter) -> Result<NoteInput, String> {
    if e.notes.is_empty() {
        return Err("no clinical note (DocumentReference with a text attachment) to code".into());
    }
    let Some(dos) = e.dos.clone() else {
        return Err("Encounter.period.start is missing: no date of service".into());
    };
    let Some(dob) = e.patient.dob.clone() else {
        return Err("Patient.birthDate is missing".into());
    };
    let text = e
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok(NoteInput {
        text,
        patient: NewPatient {
            name: e.patient.name.clone(),
            dob,
            sex: Some(e.patient.sex.clone()),
        },
        dos,
        setting: e.setting.clone(),
        payer: e
            .payer
            .as_ref()
            .and_then(|p| p.identifier.clone().or_else(|| p.name.clone())),
        expected_charge_cents: None,
        note_kind: Some(e.notes[0].kind.clone()),
    })
}

/// Parses and validates `bytes` as a FHIR R4 Bundle, then codes and
/// stores every encounter that carries a note. An invalid bundle stores
/// nothing; each encounter is stored in its own ledger transaction.
pub fn import_bundle(
    coders: &CoderCache<'_>,
    ledger: &mut Ledger,
    p: &Principal,
    bytes: &[u8],
) -> Result<FhirImport, FhirImportError> {
    let bundle = medledger_fhir::parse_bundle(bytes)?;
    let ingest = medledger_fhir::ingest::ingest_bundle(&bundle)?;
    let mut out = Vec::with_capacity(ingest.encounters.len());
    let mut scratch = Scratch::default();
    for e in &ingest.encounters {
        let mut row = ImportedEncounter {
            source_id: e.source_id.clone(),
            stored: None,
            suggestions: 0,
            notes: e.notes.len(),
            structured: [e.conditions.len(), e.procedures.len(), e.observations.len()],
            skipped: None,
            warnings: Vec::new(),
        };
        match note_input(e) {
            Err(why) => row.skipped = Some(why),
            Ok(input) => {
                let (enc, warnings) = code_encounter(coders, input, &mut scratch)?;
                row.suggestions = enc.suggestions.len();
                row.warnings = warnings;
                row.stored = Some(ledger.add_encounter(p, &enc)?);
            }
        }
        out.push(row);
    }
    Ok(FhirImport {
        stored: out.iter().filter(|r| r.stored.is_some()).count(),
        report: ingest.report,
        encounters: out,
    })
}

/// Reads a ClaimResponse, an ExplanationOfBenefit or a Bundle of them and
/// posts it like an 835 (one ledger transaction).
pub fn post_fhir_remittance(
    ledger: &mut Ledger,
    p: &Principal,
    bytes: &[u8],
    payer: Option<&str>,
) -> Result<PostingReport, FhirImportError> {
    let remit = medledger_fhir::remit::read_remittance(bytes)?;
    Ok(ledger.post_835(p, &remit.to_posting(payer))?)
}

/// The `created` date of a stored claim's FHIR Claim: the day it was built.
pub fn claim_created(record: &medledger_ledger::ledger::ClaimRecord) -> String {
    record
        .history
        .first()
        .map(|h| h.1.get(..10).unwrap_or(&h.1).to_owned())
        .unwrap_or_else(|| jiff::Zoned::now().date().to_string())
}
