//! Stateless coding: `POST /api/v1/code` (a note → `CodingResult`, as one
//! line of `medledger code-notes`) and `POST /api/v1/em` (a visit note →
//! the E/M result of `medledger em --json`). Nothing is stored.
//!
//! `/code` is the hot path: the session comes from the principal cache,
//! the coder from the per-release cache, and coding plus serialisation run
//! on the coding threads with each thread's own scratch space.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use medledger_coder::coder::Encounter;
use medledger_codesets::Date;
use medledger_services::em::{EmRequest, EmResult, PatientStatus};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json, json_bytes};
use crate::extract::{ApiJson, Auth};
use crate::pipeline::{parse_date, parse_setting, parse_sex};
use crate::problem::ApiError;
use crate::state::AppState;

/// A note to code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The note (UTF-8; never stored, never logged).
    pub text: String,
    /// `outpatient` (default) or `inpatient`.
    #[serde(default)]
    pub setting: Option<String>,
    /// Date of service `YYYY-MM-DD`: picks the code-set release (default: the newest).
    #[serde(default)]
    pub dos: Option<String>,
    /// Patient age in years.
    #[serde(default)]
    pub age: Option<u16>,
    /// `F`, `M` or `U`.
    #[serde(default)]
    pub sex: Option<String>,
    /// The caller's id for the note (echoed in the result).
    #[serde(default)]
    pub id: Option<String>,
}

/// A visit note to level.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmLevelRequest {
    /// The note.
    pub text: String,
    /// Date of service (default: today).
    #[serde(default)]
    pub dos: Option<String>,
    /// `new` or `established` (default: established, with a warning).
    #[serde(default)]
    pub patient: Option<String>,
    /// Total practitioner minutes (default: read from the note).
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(code))
        .routes(routes!(em))
}

fn encounter_of(req: &CodeRequest) -> Result<Encounter, ApiError> {
    Ok(Encounter {
        setting: parse_setting(req.setting.as_deref().unwrap_or("outpatient"))?,
        dos: req
            .dos
            .as_deref()
            .map(|d| parse_date("dos", d))
            .transpose()?,
        age: req.age,
        sex: req.sex.as_deref().map(parse_sex).transpose()?,
    })
}

/// Codes a note: suggestions with evidence, logic and confidence.
#[utoipa::path(post, path = "/api/v1/code", tag = "coding",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The coding result", body = medledger_coder::CodingResult),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or no release for the date", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "No code sets installed", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn code(
    State(st): State<AppState>,
    _auth: Auth,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let enc = encounter_of(&req)?;
    let body = st
        .cpu(move |st, scratch| {
            let entry = st
                .coders
                .get(enc.dos, false)?
                .ok_or_else(|| ApiError::unavailable("no code sets are installed"))?;
            let id = req.id.as_deref().unwrap_or("note");
            let r = entry
                .coder
                .code_bytes(id, req.text.as_bytes(), &enc, scratch)?;
            serde_json::to_vec(&r).map_err(|e| ApiError::internal(&e))
        })
        .await?;
    Ok(json_bytes(StatusCode::OK, body))
}

pub(crate) fn level(
    st: &AppState,
    text: &str,
    dos: Date,
    patient: Option<&str>,
    minutes: Option<u32>,
    setting: medledger_services::em::Setting,
) -> Result<EmResult, ApiError> {
    let status = match patient.map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("new") => Some(PatientStatus::New),
        Some("established") => Some(PatientStatus::Established),
        Some(_) => return Err(ApiError::invalid("patient", "new or established")),
    };
    let mut req = EmRequest::office(status.unwrap_or(PatientStatus::Established), dos);
    req.setting = setting;
    req.time_minutes = minutes;
    let mut r = st.em.level(text, &req).map_err(|e| {
        use medledger_services::Error as E;
        match e {
            E::Input { .. } => ApiError::invalid("text", e.to_string()),
            other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "em", other.to_string()),
        }
    })?;
    if status.is_none() && matches!(setting, medledger_services::em::Setting::Office) {
        r.warnings
            .push("patient status not given: leveled as an established patient".into());
    }
    Ok(r)
}

/// Levels an E/M visit from documented MDM or time.
#[utoipa::path(post, path = "/api/v1/em", tag = "coding",
    security(("bearer" = [])),
    request_body = EmLevelRequest,
    responses(
        (status = 200, description = "The E/M result", body = EmResult),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn em(
    State(st): State<AppState>,
    _auth: Auth,
    ApiJson(req): ApiJson<EmLevelRequest>,
) -> Result<Response, ApiError> {
    let dos = match &req.dos {
        Some(d) => parse_date("dos", d)?,
        None => jiff::Zoned::now().date(),
    };
    let r = st
        .cpu(move |st, _| {
            level(
                st,
                &req.text,
                dos,
                req.patient.as_deref(),
                req.minutes,
                medledger_services::em::Setting::Office,
            )
        })
        .await?;
    json(StatusCode::OK, &r)
}
