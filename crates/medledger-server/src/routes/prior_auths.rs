//! `/api/v1/prior-auths`: the prior-authorisation register the gold-card
//! report evaluates — record a request (role: claims), record the payer's
//! decision (role: claims), list them (role: reports).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use medledger_ledger::ledger::history_rows::{NewPriorAuth, PriorAuthRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::{ApiJson, Auth};
use crate::problem::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(decide))
}

/// The id of a recorded request.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorAuthCreated {
    /// Request id.
    pub id: i64,
}

/// The payer's decision on a pending request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorAuthDecision {
    /// Approved (`true`) or denied (`false`).
    pub approved: bool,
    /// Decision date (`YYYY-MM-DD`).
    pub decided_on: String,
}

/// The organisation's requests, by request date.
#[utoipa::path(get, path = "/api/v1/prior-auths", tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The requests", body = Vec<PriorAuthRecord>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn list(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.prior_auths(&p)?)).await?;
    json(StatusCode::OK, &r)
}

/// Records a request (pending, or already decided when importing past ones).
#[utoipa::path(post, path = "/api/v1/prior-auths", tag = "reports",
    security(("bearer" = [])),
    request_body = NewPriorAuth,
    responses(
        (status = 201, description = "Recorded", body = PriorAuthCreated),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An empty field, an invalid date, or a decision without its date or outcome", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add(
    State(st): State<AppState>,
    auth: Auth,
    ApiJson(new): ApiJson<NewPriorAuth>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let id = st
        .ledger(move |l| Ok(l.record_prior_auth(&p, &new)?))
        .await?;
    json(StatusCode::CREATED, &PriorAuthCreated { id })
}

/// Records the payer's decision on a pending request.
#[utoipa::path(post, path = "/api/v1/prior-auths/{id}/decision", tag = "reports",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Request id")),
    request_body = PriorAuthDecision,
    responses(
        (status = 200, description = "The request as decided", body = PriorAuthRecord),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid date, or one before the request", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decide(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(d): ApiJson<PriorAuthDecision>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st
        .ledger(move |l| Ok(l.decide_prior_auth(&p, id, d.approved, &d.decided_on)?))
        .await?;
    json(StatusCode::OK, &r)
}
