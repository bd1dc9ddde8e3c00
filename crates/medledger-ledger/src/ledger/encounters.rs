//! Encounters: storing a note with its coding run and suggestions (routed by
//! the review policy), the work queue, and opening an encounter (a logged
//! PHI read).

use super::keyring::patient_index;
use super::policy::{EncounterFacts, ReviewPolicy, ReviewReason, SuggestionFacts};
use super::review::{DecisionRecord, FinalCode, load_decisions, load_final_codes};
use super::{
    Ctx, Ledger, LedgerError, Principal, Result, insert_many, invalid, next_id, not_found, now,
};
use crate::audit::AuditKind;
use crate::ledger::roles::Action;
use crate::store::{Conn, Row, StoreError, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// Encounter statuses.
pub(crate) const NEEDS_REVIEW: &str = "needs_review";
pub(crate) const IN_REVIEW: &str = "in_review";
pub(crate) const FINALISED: &str = "finalised";

/// A patient (PHI: sealed at rest).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPatient {
    /// Full name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub dob: String,
    /// `F`, `M`, `U`.
    pub sex: Option<String>,
}

/// One evidence span: code-point offsets into the note, and the text there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceSpan {
    /// Start (code points, inclusive).
    pub start: usize,
    /// End (code points, exclusive).
    pub end: usize,
    /// The note's text in `start..end` (checked on store).
    pub text: String,
}

/// A suggestion of the coding run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSuggestion {
    /// `ICD-10-CM`, `CPT`, `HCPCS`, `ICD-11`.
    pub system: String,
    /// The code.
    pub code: String,
    /// Its descriptor (our own label for CPT).
    pub descriptor: String,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Review flags from the engine.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Rule / guideline ids of the logic.
    #[serde(default)]
    pub rule_ids: Vec<String>,
    /// Evidence (at least one span: no evidence, no code).
    pub evidence: Vec<EvidenceSpan>,
    /// The logic that produced it (index path, matched term, guideline).
    #[serde(default)]
    pub logic: serde_json::Value,
}

/// An encounter to store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewEncounter {
    /// The patient (matched to an existing one by name and date of birth).
    pub patient: NewPatient,
    /// Date of service, `YYYY-MM-DD`.
    pub dos: String,
    /// `outpatient` or `inpatient`.
    pub setting: String,
    /// Payer id.
    pub payer: Option<String>,
    /// Expected charge in cents (for the high-dollar rule).
    pub expected_charge_cents: Option<i64>,
    /// The note text (PHI).
    pub note_text: String,
    /// `progress_note`, `discharge_summary`, …
    pub note_kind: String,
    /// Coding engine version.
    pub engine_version: String,
    /// Model version, if a learned model was used.
    pub model_version: Option<String>,
    /// Code-set releases used.
    pub codesets: Vec<String>,
    /// How long the coding run took.
    pub duration_us: u64,
    /// Whether the code-set release used is in force on the date of
    /// service (false: the engine fell back to the newest installed
    /// release, and a human must confirm the codes).
    #[serde(default = "yes")]
    pub release_covers_dos: bool,
    /// The suggestions.
    pub suggestions: Vec<NewSuggestion>,
}

/// What storing an encounter did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncounterAdded {
    /// Encounter id.
    pub encounter: i64,
    /// Patient id (existing or new).
    pub patient: i64,
    /// Whether the patient was new.
    pub new_patient: bool,
    /// Document id.
    pub document: i64,
    /// Coding run id.
    pub run: i64,
    /// Suggestion ids, in order.
    pub suggestions: Vec<i64>,
    /// `needs_review` or `finalised`.
    pub status: String,
    /// Why a human must look (empty when finalised autonomously).
    pub review_reasons: Vec<ReviewReason>,
    /// The policy that routed it.
    pub policy: String,
}

/// Work-queue filter.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// `open` (default: needs or in review), `needs_review`, `in_review`, `finalised`, `all`.
    pub status: Option<String>,
    /// Only this payer.
    pub payer: Option<String>,
    /// Only encounters with a suggestion below this confidence.
    pub max_confidence: Option<f64>,
    /// Only encounters this reviewer (username) has decided on.
    pub reviewer: Option<String>,
    /// At most this many (0: 100).
    pub limit: usize,
}

/// One work-queue row (no PHI).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueItem {
    /// Encounter id.
    pub encounter: i64,
    /// Patient id.
    pub patient: i64,
    /// Date of service.
    pub dos: String,
    /// Setting.
    pub setting: String,
    /// Payer.
    pub payer: Option<String>,
    /// Status.
    pub status: String,
    /// Suggestions.
    pub suggestions: i64,
    /// Suggestions that still need a human decision.
    pub pending_required: i64,
    /// Lowest suggestion confidence.
    pub min_confidence: Option<f64>,
    /// Why it is in the queue.
    pub review_reasons: Vec<ReviewReason>,
    /// When stored.
    pub created_at: String,
}

/// One suggestion as the reviewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionView {
    /// Id.
    pub id: i64,
    /// Ordinal in the run.
    pub ordinal: i64,
    /// Code system.
    pub system: String,
    /// Code.
    pub code: String,
    /// Descriptor.
    pub descriptor: String,
    /// Confidence.
    pub confidence: f64,
    /// Engine flags.
    pub flags: Vec<String>,
    /// Rule ids.
    pub rule_ids: Vec<String>,
    /// Evidence spans.
    pub evidence: Vec<EvidenceSpan>,
    /// The logic.
    pub logic: serde_json::Value,
    /// The policy requires a human decision.
    pub requires_review: bool,
    /// `pending`, `accepted`, `rejected`, `edited`.
    pub status: String,
    /// Decisions, oldest first (the last one counts).
    pub decisions: Vec<DecisionRecord>,
}

/// A coding run's provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunInfo {
    /// Id.
    pub id: i64,
    /// Engine version.
    pub engine_version: String,
    /// Model version.
    pub model_version: Option<String>,
    /// Code-set releases.
    pub codesets: Vec<String>,
    /// When it ran.
    pub started_at: String,
    /// How long it took.
    pub duration_us: i64,
}

/// An opened encounter (contains PHI; opening it is logged).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncounterView {
    /// Encounter id.
    pub encounter: i64,
    /// Organisation.
    pub org: String,
    /// Patient id.
    pub patient_id: i64,
    /// Patient name.
    pub patient_name: String,
    /// Date of birth.
    pub patient_dob: String,
    /// Sex.
    pub patient_sex: Option<String>,
    /// Date of service.
    pub dos: String,
    /// Setting.
    pub setting: String,
    /// Payer.
    pub payer: Option<String>,
    /// Status.
    pub status: String,
    /// Why it needs review.
    pub review_reasons: Vec<ReviewReason>,
    /// The policy that routed it (`name@version`, sha256).
    pub policy: Option<PolicyRef>,
    /// The note.
    pub note: String,
    /// Coding runs.
    pub runs: Vec<RunInfo>,
    /// Suggestions.
    pub suggestions: Vec<SuggestionView>,
    /// Final codes (when finalised).
    pub final_codes: Vec<FinalCode>,
    /// Finalisation: when, by whom, how.
    pub finalised_at: Option<String>,
    /// Who finalised (`user:…` or `engine:…`).
    pub finalised_by: Option<String>,
    /// `human` or `autonomous`.
    pub finalisation_mode: Option<String>,
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRef {
    /// Row id.
    pub id: i64,
    /// `name@version`.
    pub label: String,
    /// SHA-256 of its text.
    pub sha256: String,
}

/// The stored name of a code system, whatever spelling the engine used
/// (`icd10cm` → `ICD-10-CM`, `hcpcs` → `HCPCS`, `cpt` → `CPT`, `icd11` → `ICD-11`).
pub fn canonical_system(s: &str) -> &str {
    match s.to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
        "icd10cm" => "ICD-10-CM",
        "icd10pcs" => "ICD-10-PCS",
        "icd11" | "icd11mms" => "ICD-11",
        "hcpcs" | "hcpcs2" | "hcpcslevelii" => "HCPCS",
        "cpt" => "CPT",
        _ => s,
    }
}

fn yes() -> bool {
    true
}

/// The date in its one stored form, `YYYY-MM-DD` (so `19370819` and
/// `1937-08-19` are the same birth date for the patient index).
pub(crate) fn check_date(field: &'static str, s: &str) -> Result<String> {
    s.trim()
        .parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|_| invalid(field, "expected a date YYYY-MM-DD"))
}

/// Checks spans against the note: in range, non-empty, and the text matches.
pub(crate) fn check_spans(note: &str, spans: &[EvidenceSpan], field: &'static str) -> Result<()> {
    if spans.is_empty() {
        return Err(invalid(field, "no evidence span (no evidence, no code)"));
    }
    let byte_at: Vec<usize> = note
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(note.len()))
        .collect();
    let chars = byte_at.len() - 1;
    for s in spans {
        if s.start >= s.end || s.end > chars {
            return Err(invalid(
                field,
                format!(
                    "span {}..{} is empty or outside the note ({chars} characters)",
                    s.start, s.end
                ),
            ));
        }
        if note[byte_at[s.start]..byte_at[s.end]] != s.text {
            return Err(invalid(
                field,
                format!(
                    "span {}..{}: its text does not match the note there",
                    s.start, s.end
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn confidence_milli(c: f64) -> i64 {
    (c.clamp(0.0, 1.0) * 1000.0).round() as i64
}

/// The organisation's active policy (stored on first use).
pub(crate) fn active_policy(c: &mut dyn Conn, p: &Principal) -> Result<(i64, ReviewPolicy)> {
    let rows = c.query(
        "SELECT id, body FROM review_policies WHERE org_id = ? ORDER BY id DESC LIMIT 1",
        &[p.org_id.into()],
    )?;
    if let Some(r) = rows.first() {
        return Ok((
            r.int(0)?,
            ReviewPolicy::parse(&r.text(1)?, "stored policy")?,
        ));
    }
    let policy = ReviewPolicy::builtin();
    let id = store_policy(c, p, &policy)?;
    Ok((id, policy))
}

pub(crate) fn store_policy(c: &mut dyn Conn, p: &Principal, policy: &ReviewPolicy) -> Result<i64> {
    let id = next_id(c, "review_policies")?;
    c.exec(
        "INSERT INTO review_policies (id, org_id, name, version, body, sha256, activated_at, activated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            id.into(),
            p.org_id.into(),
            policy.header.name.as_str().into(),
            policy.header.version.as_str().into(),
            policy.body.as_str().into(),
            policy.sha256.as_str().into(),
            now().into(),
            p.audit_actor().into(),
        ],
    )?;
    Ok(id)
}

/// The run's releases if this organisation has finalised an encounter coded
/// under the same releases before (else empty: first use).
fn known_releases(c: &mut dyn Conn, org_id: i64, codesets: &[String]) -> Result<BTreeSet<String>> {
    let key = serde_json::to_string(codesets).unwrap_or_else(|_| "[]".into());
    let seen = c.query(
        "SELECT 1 FROM coding_runs r JOIN encounters e ON e.id = r.encounter_id WHERE r.org_id = ? AND r.codesets = ? AND e.status = 'finalised' LIMIT 1",
        &[org_id.into(), key.into()],
    )?;
    Ok(if seen.is_empty() {
        BTreeSet::new()
    } else {
        codesets.iter().cloned().collect()
    })
}

impl Ledger {
    /// Stores a patient (matched by name and date of birth), the note, the
    /// coding run and its suggestions in one transaction, routes the
    /// encounter by the organisation's review policy, and finalises it
    /// autonomously when the policy allows.
    pub fn add_encounter(&mut self, p: &Principal, e: &NewEncounter) -> Result<EncounterAdded> {
        p.require(Action::AddEncounter)?;
        let mut normalised;
        let e = if check_date("dos", &e.dos)? != e.dos
            || check_date("patient_dob", &e.patient.dob)? != e.patient.dob
            || e.suggestions
                .iter()
                .any(|s| canonical_system(&s.system) != s.system)
        {
            normalised = e.clone();
            normalised.dos = check_date("dos", &e.dos)?;
            normalised.patient.dob = check_date("patient_dob", &e.patient.dob)?;
            for s in &mut normalised.suggestions {
                s.system = canonical_system(&s.system).to_owned();
            }
            &normalised
        } else {
            e
        };
        if e.patient.name.trim().is_empty() {
            return Err(invalid("patient_name", "empty"));
        }
        if !matches!(e.setting.as_str(), "outpatient" | "inpatient") {
            return Err(invalid("setting", "outpatient or inpatient"));
        }
        if e.note_text.is_empty() {
            return Err(invalid("note", "empty note"));
        }
        for (i, s) in e.suggestions.iter().enumerate() {
            if s.code.trim().is_empty() {
                return Err(invalid(
                    "suggestions",
                    format!("suggestion {i}: empty code"),
                ));
            }
            if !(0.0..=1.0).contains(&s.confidence) {
                return Err(invalid(
                    "suggestions",
                    format!("suggestion {i} ({}): confidence outside [0, 1]", s.code),
                ));
            }
            check_spans(&e.note_text, &s.evidence, "suggestions.evidence")?;
        }
        let char_len = e.note_text.chars().count();
        let engine_actor = format!("engine:{}", e.engine_version);
        self.write_audited(|c, ctx| add_encounter_tx(c, ctx, p, e, char_len, &engine_actor))
    }

    /// The work queue (no PHI, so not a logged read).
    pub fn queue(&mut self, p: &Principal, f: &QueueFilter) -> Result<Vec<QueueItem>> {
        p.require(Action::ViewQueue)?;
        let mut sql = String::from(
            "SELECT e.id, e.patient_id, e.dos, e.setting, e.payer, e.status, e.review_reasons, e.created_at, \
             (SELECT COUNT(*) FROM suggestions s WHERE s.encounter_id = e.id), \
             (SELECT COUNT(*) FROM suggestions s WHERE s.encounter_id = e.id AND s.requires_review = 1 AND s.status = 'pending'), \
             (SELECT MIN(s.confidence_milli) FROM suggestions s WHERE s.encounter_id = e.id) \
             FROM encounters e WHERE e.org_id = ?",
        );
        let mut params: Vec<Value> = vec![p.org_id.into()];
        match f.status.as_deref().unwrap_or("open") {
            "open" => sql.push_str(" AND e.status IN ('needs_review', 'in_review')"),
            "all" => {}
            s @ (NEEDS_REVIEW | IN_REVIEW | FINALISED) => {
                sql.push_str(" AND e.status = ?");
                params.push(s.into());
            }
            other => {
                return Err(invalid(
                    "status",
                    format!("{other:?}: use open, needs_review, in_review, finalised or all"),
                ));
            }
        }
        if let Some(payer) = &f.payer {
            sql.push_str(" AND e.payer = ?");
            params.push(payer.into());
        }
        if let Some(rev) = &f.reviewer {
            sql.push_str(" AND EXISTS (SELECT 1 FROM decisions d JOIN users u ON u.id = d.reviewer_id WHERE d.encounter_id = e.id AND u.username = ?)");
            params.push(rev.into());
        }
        if let Some(max) = f.max_confidence {
            sql.push_str(" AND EXISTS (SELECT 1 FROM suggestions s WHERE s.encounter_id = e.id AND s.confidence_milli < ?)");
            params.push(confidence_milli(max).into());
        }
        sql.push_str(" ORDER BY e.id LIMIT ?");
        params.push(
            i64::try_from(if f.limit == 0 { 100 } else { f.limit })
                .unwrap_or(100)
                .into(),
        );
        let mut out = Vec::new();
        self.read_audited(|c, _| {
            out.clear();
            for r in c.query(&sql, &params)? {
                out.push(queue_item(&r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Opens an encounter with its note and the patient's identifiers.
    /// Logged as a PHI read before it is returned.
    pub fn open_encounter(&mut self, p: &Principal, encounter: i64) -> Result<EncounterView> {
        p.require(Action::ViewPhi)?;
        self.read_audited(|c, ctx| {
            let v = load_view(c, ctx, p, encounter)?;
            ctx.audit(
                p,
                AuditKind::PhiRead,
                format!("patient:{}", v.patient_id),
                json!({"encounter": encounter, "fields": ["patient_name", "patient_dob", "note", "evidence"], "purpose": "review"}),
            );
            Ok(v)
        })
    }
}

fn queue_item(r: &Row) -> Result<QueueItem> {
    Ok(QueueItem {
        encounter: r.int(0)?,
        patient: r.int(1)?,
        dos: r.text(2)?,
        setting: r.text(3)?,
        payer: r.opt_text(4)?,
        status: r.text(5)?,
        review_reasons: serde_json::from_str(&r.text(6)?).unwrap_or_default(),
        created_at: r.text(7)?,
        suggestions: r.int(8)?,
        pending_required: r.int(9)?,
        min_confidence: r.opt_int(10)?.map(|m| m as f64 / 1000.0),
    })
}

fn add_encounter_tx(
    c: &mut dyn Conn,
    ctx: &mut Ctx<'_>,
    p: &Principal,
    e: &NewEncounter,
    char_len: usize,
    engine_actor: &str,
) -> Result<EncounterAdded> {
    let at = now();
    // patient: find by blind index, or create
    let blind = ctx.blind_key(c, p)?;
    let index = patient_index(&blind, &e.patient.name, &e.patient.dob);
    let existing = c.query(
        "SELECT id FROM patients WHERE org_id = ? AND name_dob_index = ? ORDER BY id LIMIT 1",
        &[p.org_id.into(), index.clone().into()],
    )?;
    let (patient, new_patient) = match existing.first() {
        Some(r) => (r.int(0)?, false),
        None => {
            let id = next_id(c, "patients")?;
            let name = ctx.seal(c, p, "patients", "name_enc", id, e.patient.name.as_bytes())?;
            let dob = ctx.seal(c, p, "patients", "dob_enc", id, e.patient.dob.as_bytes())?;
            c.exec(
                "INSERT INTO patients (id, org_id, name_enc, dob_enc, sex, name_dob_index, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                &[id.into(), p.org_id.into(), name.into(), dob.into(), e.patient.sex.clone().into(), index.into(), at.as_str().into()],
            )?;
            (id, true)
        }
    };
    // routing
    let (policy_id, policy) = active_policy(c, p)?;
    let known = known_releases(c, p.org_id, &e.codesets)?;
    let facts: Vec<SuggestionFacts<'_>> = e
        .suggestions
        .iter()
        .map(|s| SuggestionFacts {
            system: &s.system,
            code: &s.code,
            confidence: s.confidence,
            flags: &s.flags,
        })
        .collect();
    let hcc: Option<&dyn super::HccLookup> = match ctx.hcc {
        Some(h) => Some(h),
        None => None,
    };
    let routing = policy.evaluate(&EncounterFacts {
        suggestions: &facts,
        expected_charge_cents: e.expected_charge_cents,
        payer: e.payer.as_deref(),
        codesets: &e.codesets,
        known_releases: &known,
        hcc,
        release_covers_dos: e.release_covers_dos,
    });
    let status = if routing.autonomous {
        FINALISED
    } else {
        NEEDS_REVIEW
    };
    let reasons_json = serde_json::to_string(&routing.reasons).unwrap_or_else(|_| "[]".into());

    let encounter = next_id(c, "encounters")?;
    c.exec(
        "INSERT INTO encounters (id, org_id, patient_id, dos, setting, payer, expected_charge_cents, status, review_reasons, policy_id, created_at, finalised_at, finalised_by, finalisation_mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            encounter.into(),
            p.org_id.into(),
            patient.into(),
            e.dos.as_str().into(),
            e.setting.as_str().into(),
            e.payer.clone().into(),
            e.expected_charge_cents.into(),
            status.into(),
            reasons_json.into(),
            policy_id.into(),
            at.as_str().into(),
            routing.autonomous.then(|| at.clone()).into(),
            routing.autonomous.then(|| engine_actor.to_owned()).into(),
            routing.autonomous.then_some("autonomous").into(),
        ],
    )?;
    let document = next_id(c, "documents")?;
    let text = ctx.seal(
        c,
        p,
        "documents",
        "text_enc",
        document,
        e.note_text.as_bytes(),
    )?;
    c.exec(
        "INSERT INTO documents (id, org_id, encounter_id, kind, text_enc, char_len, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[document.into(), p.org_id.into(), encounter.into(), e.note_kind.as_str().into(), text.into(), i64::try_from(char_len).unwrap_or(i64::MAX).into(), at.as_str().into()],
    )?;
    let run = next_id(c, "coding_runs")?;
    c.exec(
        "INSERT INTO coding_runs (id, org_id, encounter_id, document_id, engine_version, model_version, codesets, started_at, duration_us, suggestion_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            run.into(),
            p.org_id.into(),
            encounter.into(),
            document.into(),
            e.engine_version.as_str().into(),
            e.model_version.clone().into(),
            serde_json::to_string(&e.codesets).unwrap_or_else(|_| "[]".into()).into(),
            at.as_str().into(),
            i64::try_from(e.duration_us).unwrap_or(i64::MAX).into(),
            i64::try_from(e.suggestions.len()).unwrap_or(0).into(),
        ],
    )?;
    let first = next_id(c, "suggestions")?;
    let mut ids = Vec::with_capacity(e.suggestions.len());
    let mut listed = Vec::with_capacity(e.suggestions.len());
    let mut rows = Vec::with_capacity(e.suggestions.len());
    for (i, s) in e.suggestions.iter().enumerate() {
        let id = first + i as i64;
        let detail = serde_json::to_vec(&json!({"evidence": s.evidence, "logic": s.logic}))
            .map_err(|e| invalid("suggestions", e.to_string()))?;
        let sealed = ctx.seal(c, p, "suggestions", "detail_enc", id, &detail)?;
        let required = routing.per_suggestion.get(i).copied().unwrap_or(true);
        let status = if routing.autonomous {
            "accepted"
        } else {
            "pending"
        };
        rows.push(vec![
            id.into(),
            p.org_id.into(),
            run.into(),
            encounter.into(),
            (i as i64).into(),
            s.system.as_str().into(),
            s.code.as_str().into(),
            s.descriptor.as_str().into(),
            confidence_milli(s.confidence).into(),
            serde_json::to_string(&s.flags)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            serde_json::to_string(&s.rule_ids)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            sealed.into(),
            required.into(),
            status.into(),
        ]);
        ids.push(id);
        listed.push(json!({"id": id, "system": s.system, "code": s.code, "confidence_milli": confidence_milli(s.confidence), "requires_review": required}));
    }
    insert_many(
        c,
        "INSERT INTO suggestions (id, org_id, run_id, encounter_id, ordinal, code_system, code, descriptor, confidence_milli, flags, rule_ids, detail_enc, requires_review, status)",
        14,
        rows,
    )?;
    let rules: Vec<&str> = routing.reasons.iter().map(|r| r.rule.as_str()).collect();
    ctx.audit(
        p,
        AuditKind::CodingRun,
        format!("encounter:{encounter}"),
        json!({
            "patient": patient, "document": document, "run": run,
            "engine_version": e.engine_version, "model_version": e.model_version,
            "codesets": e.codesets, "suggestions": listed,
            "policy": policy.label(), "policy_sha256": policy.sha256, "review_rules": rules,
        }),
    );
    if routing.autonomous {
        let mut finals = Vec::new();
        let first_final = next_id(c, "final_codes")?;
        let mut rows = Vec::with_capacity(ids.len());
        for (i, (s, sid)) in e.suggestions.iter().zip(&ids).enumerate() {
            rows.push(vec![
                (first_final + i as i64).into(),
                p.org_id.into(),
                encounter.into(),
                (i as i64).into(),
                s.system.as_str().into(),
                s.code.as_str().into(),
                "engine".into(),
                (*sid).into(),
                crate::store::Value::Null,
            ]);
            finals.push(json!({"system": s.system, "code": s.code}));
        }
        insert_many(
            c,
            "INSERT INTO final_codes (id, org_id, encounter_id, ordinal, code_system, code, source, suggestion_id, decision_id)",
            9,
            rows,
        )?;
        ctx.audit_as(
            &p.org,
            engine_actor.to_owned(),
            AuditKind::Finalisation,
            format!("encounter:{encounter}"),
            json!({"mode": "autonomous", "policy": policy.label(), "policy_sha256": policy.sha256, "codes": finals, "requested_by": p.audit_actor()}),
        );
    }
    Ok(EncounterAdded {
        encounter,
        patient,
        new_patient,
        document,
        run,
        suggestions: ids,
        status: status.to_owned(),
        review_reasons: routing.reasons,
        policy: policy.label(),
    })
}

/// Loads an encounter of the principal's organisation, decrypting its PHI.
pub(crate) fn load_view(
    c: &mut dyn Conn,
    ctx: &mut Ctx<'_>,
    p: &Principal,
    encounter: i64,
) -> Result<EncounterView> {
    let rows = c.query(
        "SELECT e.patient_id, e.dos, e.setting, e.payer, e.status, e.review_reasons, e.policy_id, e.finalised_at, e.finalised_by, e.finalisation_mode, pt.name_enc, pt.dob_enc, pt.sex FROM encounters e JOIN patients pt ON pt.id = e.patient_id WHERE e.id = ? AND e.org_id = ?",
        &[encounter.into(), p.org_id.into()],
    )?;
    let r = rows
        .first()
        .ok_or_else(|| not_found("encounter", encounter))?;
    let patient_id = r.int(0)?;
    let policy = match r.opt_int(6)? {
        Some(pid) => c
            .query(
                "SELECT name, version, sha256 FROM review_policies WHERE id = ?",
                &[pid.into()],
            )?
            .first()
            .map(|x| -> Result<PolicyRef> {
                Ok(PolicyRef {
                    id: pid,
                    label: format!("{}@{}", x.text(0)?, x.text(1)?),
                    sha256: x.text(2)?,
                })
            })
            .transpose()?,
        None => None,
    };
    let patient_name = ctx.open_text(c, p, "patients", "name_enc", patient_id, &r.blob(10)?)?;
    let patient_dob = ctx.open_text(c, p, "patients", "dob_enc", patient_id, &r.blob(11)?)?;
    let docs = c.query(
        "SELECT id, text_enc FROM documents WHERE encounter_id = ? AND org_id = ? ORDER BY id",
        &[encounter.into(), p.org_id.into()],
    )?;
    let mut note = String::new();
    for d in &docs {
        if !note.is_empty() {
            note.push_str("\n\n");
        }
        note.push_str(&ctx.open_text(c, p, "documents", "text_enc", d.int(0)?, &d.blob(1)?)?);
    }
    let mut runs = Vec::new();
    for x in c.query(
        "SELECT id, engine_version, model_version, codesets, started_at, duration_us FROM coding_runs WHERE encounter_id = ? AND org_id = ? ORDER BY id",
        &[encounter.into(), p.org_id.into()],
    )? {
        runs.push(RunInfo {
            id: x.int(0)?,
            engine_version: x.text(1)?,
            model_version: x.opt_text(2)?,
            codesets: serde_json::from_str(&x.text(3)?).unwrap_or_default(),
            started_at: x.text(4)?,
            duration_us: x.int(5)?,
        });
    }
    let decisions = load_decisions(c, ctx, p, encounter)?;
    let mut suggestions = Vec::new();
    for s in c.query(
        "SELECT id, ordinal, code_system, code, descriptor, confidence_milli, flags, rule_ids, detail_enc, requires_review, status FROM suggestions WHERE encounter_id = ? AND org_id = ? ORDER BY id",
        &[encounter.into(), p.org_id.into()],
    )? {
        let id = s.int(0)?;
        let detail = ctx.open(c, p, "suggestions", "detail_enc", id, &s.blob(8)?)?;
        let detail: serde_json::Value = serde_json::from_slice(&detail).map_err(|e| {
            LedgerError::Store(StoreError::Corrupt {
                table: "suggestions",
                id,
                column: "detail_enc",
                message: e.to_string(),
            })
        })?;
        let evidence: Vec<EvidenceSpan> =
            serde_json::from_value(detail.get("evidence").cloned().unwrap_or_default()).unwrap_or_default();
        suggestions.push(SuggestionView {
            id,
            ordinal: s.int(1)?,
            system: s.text(2)?,
            code: s.text(3)?,
            descriptor: s.text(4)?,
            confidence: s.int(5)? as f64 / 1000.0,
            flags: serde_json::from_str(&s.text(6)?).unwrap_or_default(),
            rule_ids: serde_json::from_str(&s.text(7)?).unwrap_or_default(),
            evidence,
            logic: detail.get("logic").cloned().unwrap_or_default(),
            requires_review: s.int(9)? != 0,
            status: s.text(10)?,
            decisions: decisions.iter().filter(|d| d.suggestion == id).cloned().collect(),
        });
    }
    Ok(EncounterView {
        encounter,
        org: p.org.clone(),
        patient_id,
        patient_name,
        patient_dob,
        patient_sex: r.opt_text(12)?,
        dos: r.text(1)?,
        setting: r.text(2)?,
        payer: r.opt_text(3)?,
        status: r.text(4)?,
        review_reasons: serde_json::from_str(&r.text(5)?).unwrap_or_default(),
        policy,
        note,
        runs,
        suggestions,
        final_codes: load_final_codes(c, p, encounter)?,
        finalised_at: r.opt_text(7)?,
        finalised_by: r.opt_text(8)?,
        finalisation_mode: r.opt_text(9)?,
    })
}

/// The note of an encounter's first document and its length (for edits).
pub(crate) fn note_of(
    c: &mut dyn Conn,
    ctx: &mut Ctx<'_>,
    p: &Principal,
    encounter: i64,
) -> Result<String> {
    let docs = c.query(
        "SELECT id, text_enc FROM documents WHERE encounter_id = ? AND org_id = ? ORDER BY id LIMIT 1",
        &[encounter.into(), p.org_id.into()],
    )?;
    let d = docs
        .first()
        .ok_or_else(|| not_found("document of encounter", encounter))?;
    ctx.open_text(c, p, "documents", "text_enc", d.int(0)?, &d.blob(1)?)
}
