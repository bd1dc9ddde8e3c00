//! `GET /api/v1/reports/dashboard`: the figures the dashboard draws
//! (clean-claim rate, denials by reason and payer, gold-card standing, AI
//! agreement with human coders). No PHI; role: reports.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use medledger_ledger::ledger::Dashboard;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::Auth;
use crate::problem::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard))
}

/// The dashboard of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/reports/dashboard", tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Clean-claim rate per month, denials by reason and payer, gold-card standing per payer, agreement per month", body = Dashboard),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn dashboard(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.dashboard(&p)?)).await?;
    json(StatusCode::OK, &r)
}
