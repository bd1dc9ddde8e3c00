//! `GET /api/v1/audit/verify` (the whole stored audit chain verified in
//! one pass; auditors and admins) and `GET /api/v1/stats/review`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use medledger_ledger::ledger::{ReviewStats, StoreVerifyReport};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::Auth;
use crate::problem::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(review_stats))
}

/// Verifies the audit chain: every change, deletion, insertion or
/// reordering is reported with its seq.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The verification report", body = StoreVerifyReport),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not verify the audit trail", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn verify(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.verify_audit(&p)?)).await?;
    json(StatusCode::OK, &r)
}

/// Review figures of the organisation (no PHI).
#[utoipa::path(get, path = "/api/v1/stats/review", tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The figures", body = ReviewStats),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn review_stats(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.review_stats(&p)?)).await?;
    json(StatusCode::OK, &r)
}
