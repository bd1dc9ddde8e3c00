//! FHIR R4: `POST /api/v1/fhir/Bundle` (Patient, Encounter,
//! DocumentReference, … → coded, stored encounters),
//! `GET /api/v1/claims/{id}/fhir` (a stored claim as a FHIR Claim bundle)
//! and `POST /api/v1/fhir/remittance` (ClaimResponse / ExplanationOfBenefit
//! posted like an 835).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use medledger_ledger::ledger::PostingReport;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::claims::load_claim;
use super::{ProblemBody, json};
use crate::extract::{Auth, FhirBody};
use crate::fhir::{FhirImport, import_bundle, post_fhir_remittance};
use crate::problem::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_bundle))
        .routes(routes!(claim_fhir))
        .routes(routes!(post_remittance))
}

/// Ingests a FHIR R4 Bundle: each Encounter with a text note is coded and
/// stored (patient, note, coding run, suggestions) and routed by the
/// review policy; encounters without a note are reported, not stored.
/// An invalid bundle stores nothing.
#[utoipa::path(post, path = "/api/v1/fhir/Bundle", tag = "fhir",
    security(("bearer" = [])),
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Bundle (also application/json)"),
    responses(
        (status = 201, description = "What was stored", body = FhirImport),
        (status = 400, description = "Not JSON", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not store encounters", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not application/fhir+json", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid FHIR (the element's location in `errors`)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_bundle(
    State(st): State<AppState>,
    auth: Auth,
    FhirBody(bytes): FhirBody,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let st2 = st.clone();
    let r = st
        .ledger(move |l| Ok(import_bundle(&st2.coders, l, &p, &bytes)?))
        .await?;
    json(StatusCode::CREATED, &r)
}

/// A stored claim as a FHIR R4 `collection` Bundle (Claim, Patient,
/// Organization, Coverage).
#[utoipa::path(get, path = "/api/v1/claims/{id}/fhir", tag = "fhir",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The Claim bundle", body = Object, content_type = "application/fhir+json"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn claim_fhir(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (record, claim) = load_claim(&st, &auth, id).await?;
    let created = crate::fhir::claim_created(&record);
    let bundle = medledger_fhir::claim::try_claim_bundle(&claim, &created)
        .map_err(|e| crate::problem::fhir_problem(&e))?;
    let mut r = json(StatusCode::OK, &bundle)?;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    Ok(r)
}

/// Who paid, when not in the resource.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RemitQuery {
    /// Payer id or name to record (default: the resource's insurer).
    pub payer: Option<String>,
}

/// Posts a FHIR ClaimResponse, ExplanationOfBenefit or a Bundle of them:
/// payments, patient shares, adjustments (CARC) and denials, exactly as an
/// 835 would be posted.
#[utoipa::path(post, path = "/api/v1/fhir/remittance", tag = "fhir",
    security(("bearer" = [])),
    params(RemitQuery),
    request_body(content = Object, content_type = "application/fhir+json", description = "ClaimResponse, ExplanationOfBenefit, or a Bundle of them"),
    responses(
        (status = 200, description = "Posted", body = PostingReport),
        (status = 400, description = "Not JSON", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not post remittances", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not application/fhir+json", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid FHIR", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_remittance(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<RemitQuery>,
    FhirBody(bytes): FhirBody,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st
        .ledger(move |l| Ok(post_fhir_remittance(l, &p, &bytes, q.payer.as_deref())?))
        .await?;
    json(StatusCode::OK, &r)
}
