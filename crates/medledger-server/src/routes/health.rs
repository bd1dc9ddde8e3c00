//! `GET /health` (the process answers) and `GET /ready` (the ledger
//! answers a query and a code-set release is loaded). No authentication.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::problem::ApiError;
use crate::state::AppState;

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// Readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: &'static str,
    /// Installed ICD-10-CM releases.
    pub codesets: Vec<String>,
    /// `sqlite` or `postgres`.
    pub db: &'static str,
}

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Up", body = Health)))]
pub async fn health() -> Result<Response, ApiError> {
    json(StatusCode::OK, &Health { status: "ok" })
}

/// The ledger answers and a code-set release is installed.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn ready(State(st): State<AppState>) -> Result<Response, ApiError> {
    st.ledger(|l| {
        l.operator(medledger_ledger::ledger::DEFAULT_ORG)
            .map(|_| ())
            .map_err(|_| ApiError::unavailable("the ledger database does not answer"))
    })
    .await?;
    if st.releases.is_empty() || st.coders.engine().is_none() {
        return Err(ApiError::unavailable(
            "no ICD-10-CM release is installed; install code sets with `medledger codesets install`",
        ));
    }
    json(
        StatusCode::OK,
        &Ready {
            status: "ready",
            codesets: st.releases.clone(),
            db: st.ledgers.backend(),
        },
    )
}
