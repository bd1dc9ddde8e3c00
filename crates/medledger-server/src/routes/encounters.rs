//! Encounters and their review: add (code and store), the work queue, open
//! (a logged PHI read), decisions one by one or in a batch, finalise, the
//! E/M level of the stored note, the audit packet (JSON or HTML) and the
//! fixed list of reject reasons. The ledger checks roles and confines
//! every query to the caller's organisation (another's ids read as 404).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use medledger_ledger::ledger::{
    AuditPacket, DecisionInput, DecisionOutcome, EncounterAdded, EncounterView, Finalised,
    NewPatient, QueueFilter, QueueItem, RejectReason, render_packet_html,
};
use medledger_services::em::EmResult;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::{ApiJson, Auth};
use crate::pipeline::{NoteInput, code_encounter, parse_date};
use crate::problem::ApiError;
use crate::state::AppState;

/// A patient.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientIn {
    /// Full name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub dob: String,
    /// `F`, `M` or `U`.
    #[serde(default)]
    pub sex: Option<String>,
}

/// An encounter to code and store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEncounterRequest {
    /// The patient (matched to an existing one by name and date of birth).
    pub patient: PatientIn,
    /// The note.
    pub note: String,
    /// `outpatient` (default) or `inpatient`.
    #[serde(default = "outpatient")]
    pub setting: String,
    /// Date of service, `YYYY-MM-DD`.
    pub dos: String,
    /// Payer id.
    #[serde(default)]
    pub payer: Option<String>,
    /// Expected charge in cents (for the high-dollar review rule).
    #[serde(default)]
    pub expected_charge_cents: Option<i64>,
    /// `clinical_note` (default), `progress_note`, `discharge_summary`, …
    #[serde(default)]
    pub note_kind: Option<String>,
}

fn outpatient() -> String {
    "outpatient".into()
}

/// Work-queue filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` (default), `needs_review`, `in_review`, `finalised`, `all`.
    pub status: Option<String>,
    /// Only this payer.
    pub payer: Option<String>,
    /// Only encounters with a suggestion below this confidence.
    pub max_confidence: Option<f64>,
    /// Only encounters this reviewer (username) decided on.
    pub reviewer: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// One decision of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDecision {
    /// Suggestion id.
    pub suggestion: i64,
    /// The decision.
    pub decision: DecisionInput,
}

/// Audit packet format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PacketQuery {
    /// `json` (default) or `html`.
    pub format: Option<String>,
    /// `1`: HTML as an attachment.
    pub download: Option<String>,
}

/// A reject reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectReasonOut {
    /// The stored name (`negated`, …).
    pub reason: RejectReason,
    /// Whether a comment is required.
    pub needs_comment: bool,
}

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_encounter))
        .routes(routes!(queue))
        .routes(routes!(open_encounter))
        .routes(routes!(decide))
        .routes(routes!(decide_batch))
        .routes(routes!(finalise))
        .routes(routes!(encounter_em))
        .routes(routes!(audit_packet))
        .routes(routes!(reject_reasons))
}

/// Codes a note and stores patient, note, coding run and suggestions.
#[utoipa::path(post, path = "/api/v1/encounters", tag = "encounters",
    security(("bearer" = [])),
    request_body = NewEncounterRequest,
    responses(
        (status = 201, description = "Stored", body = EncounterAdded),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not add encounters", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_encounter(
    State(st): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<NewEncounterRequest>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    if !p.may(medledger_ledger::ledger::Action::AddEncounter) {
        // Checked before coding, so a forbidden caller costs no CPU.
        return Err(ApiError::from(
            medledger_ledger::ledger::LedgerError::Forbidden {
                actor: p.audit_actor(),
                action: medledger_ledger::ledger::Action::AddEncounter,
                roles: "see /api/v1/me".into(),
            },
        ));
    }
    parse_date("dos", &req.dos)?;
    let input = NoteInput {
        text: req.note,
        patient: NewPatient {
            name: req.patient.name,
            dob: req.patient.dob,
            sex: req.patient.sex,
        },
        dos: req.dos,
        setting: req.setting,
        payer: req.payer,
        expected_charge_cents: req.expected_charge_cents,
        note_kind: req.note_kind,
    };
    let (e, _warnings) = st
        .cpu(move |st, scratch| Ok(code_encounter(&st.coders, input, scratch)?))
        .await?;
    let added = st.ledger(move |l| Ok(l.add_encounter(&p, &e)?)).await?;
    json(StatusCode::CREATED, &added)
}

/// The work queue (no PHI).
#[utoipa::path(get, path = "/api/v1/queue", tag = "encounters",
    security(("bearer" = [])),
    params(QueueQuery),
    responses(
        (status = 200, description = "Queue rows", body = Vec<QueueItem>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn queue(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<QueueQuery>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let f = QueueFilter {
        status: q.status,
        payer: q.payer,
        max_confidence: q.max_confidence,
        reviewer: q.reviewer,
        limit: q.limit.unwrap_or(100).min(1000),
    };
    let items = st.ledger(move |l| Ok(l.queue(&p, &f)?)).await?;
    json(StatusCode::OK, &items)
}

/// Opens an encounter with its note and patient (logged as a PHI read).
#[utoipa::path(get, path = "/api/v1/encounters/{id}", tag = "encounters",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id")),
    responses(
        (status = 200, description = "The encounter", body = EncounterView),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read PHI", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter in the organisation", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn open_encounter(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let v = st.ledger(move |l| Ok(l.open_encounter(&p, id)?)).await?;
    json(StatusCode::OK, &v)
}

/// Accepts, rejects (with a reason) or edits one suggestion.
#[utoipa::path(post, path = "/api/v1/encounters/{id}/suggestions/{sid}/decision", tag = "encounters",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id"), ("sid" = i64, Path, description = "Suggestion id")),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "Recorded", body = DecisionOutcome),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not decide", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such suggestion on the encounter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Encounter already finalised", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid decision", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide(
    State(st): State<AppState>,
    auth: Auth,
    Path((id, sid)): Path<(i64, i64)>,
    ApiJson(d): ApiJson<DecisionInput>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let mut out = st
        .ledger(move |l| Ok(l.decide_for_encounter(&p, id, &[(sid, d)])?))
        .await?;
    let one = out
        .pop()
        .ok_or_else(|| ApiError::internal(&"no decision recorded"))?;
    json(StatusCode::OK, &one)
}

/// Records several decisions on one encounter in one transaction (all or none).
#[utoipa::path(post, path = "/api/v1/encounters/{id}/decisions", tag = "encounters",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id")),
    request_body = Vec<BatchDecision>,
    responses(
        (status = 200, description = "Recorded", body = Vec<DecisionOutcome>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not decide", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "A suggestion is not on the encounter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Encounter already finalised", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid decision", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide_batch(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(batch): ApiJson<Vec<BatchDecision>>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let batch: Vec<(i64, DecisionInput)> = batch
        .into_iter()
        .map(|b| (b.suggestion, b.decision))
        .collect();
    let out = st
        .ledger(move |l| Ok(l.decide_for_encounter(&p, id, &batch)?))
        .await?;
    json(StatusCode::OK, &out)
}

/// Finalises an encounter whose required reviews are done.
#[utoipa::path(post, path = "/api/v1/encounters/{id}/finalise", tag = "encounters",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id")),
    responses(
        (status = 200, description = "Finalised", body = Finalised),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not finalise", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Reviews pending or already finalised", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn finalise(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let f = st.ledger(move |l| Ok(l.finalise(&p, id)?)).await?;
    json(StatusCode::OK, &f)
}

/// The E/M level of the stored note (a logged PHI read).
#[utoipa::path(get, path = "/api/v1/encounters/{id}/em", tag = "encounters",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id")),
    responses(
        (status = 200, description = "The E/M result", body = EmResult),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read PHI", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn encounter_em(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let v = st.ledger(move |l| Ok(l.open_encounter(&p, id)?)).await?;
    let dos = parse_date("dos", &v.dos)?;
    let setting = if v.setting == "inpatient" {
        medledger_services::em::Setting::Inpatient
    } else {
        medledger_services::em::Setting::Office
    };
    let r = st
        .cpu(move |st, _| super::coding::level(st, &v.note, dos, None, None, setting))
        .await?;
    json(StatusCode::OK, &r)
}

/// The defence file: every code with its evidence, logic, verification and
/// the audit trail (JSON, or an HTML page with `format=html`).
#[utoipa::path(get, path = "/api/v1/encounters/{id}/audit-packet", tag = "encounters",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id"), PacketQuery),
    responses(
        (status = 200, description = "The packet", content(
            (AuditPacket = "application/json"),
            (String = "text/html"))),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not export packets", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn audit_packet(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<PacketQuery>,
) -> Result<Response, ApiError> {
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or html")),
    };
    let p = auth.principal().clone();
    let pk = st.ledger(move |l| Ok(l.audit_packet(&p, id)?)).await?;
    if !html {
        return json(StatusCode::OK, &pk);
    }
    let mut r = render_packet_html(&pk).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if q.download.as_deref() == Some("1") {
        let v = format!("attachment; filename=\"audit-packet-{id}.html\"");
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(r)
}

/// The fixed list of reject reasons.
#[utoipa::path(get, path = "/api/v1/reject-reasons", tag = "encounters",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reasons", body = Vec<RejectReasonOut>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reject_reasons(_auth: Auth) -> Result<Response, ApiError> {
    let v: Vec<RejectReasonOut> = RejectReason::ALL
        .iter()
        .map(|r| RejectReasonOut {
            reason: *r,
            needs_comment: *r == RejectReason::Other,
        })
        .collect();
    json(StatusCode::OK, &v)
}
