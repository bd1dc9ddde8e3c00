//! The API, one module per area. Each module has `pub fn routes() ->
//! OpenApiRouter<AppState>` built with `utoipa_axum::routes!` over handlers
//! annotated with `#[utoipa::path]`, so a route and its documentation are
//! one item and cannot drift; [`api`] merges them.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod claims;
pub mod coding;
pub mod encounters;
pub mod fhir;
pub mod health;
pub mod prior_auths;
pub mod reports;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use crate::problem::ApiError;
use crate::state::AppState;

/// Every API route of this crate (health, auth, coding, encounters,
/// claims, audit). Merge further areas into the result (see
/// [`crate::app_with`]).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::routes())
        .merge(auth::routes())
        .merge(coding::routes())
        .merge(encounters::routes())
        .merge(claims::routes())
        .merge(audit::routes())
        .merge(reports::routes())
        .merge(prior_auths::routes())
        .merge(fhir::routes())
        .merge(admin::routes())
}

/// A JSON response of a status from serialized bytes.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A JSON response of a status.
pub fn json<T: Serialize>(status: StatusCode, v: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(v).map_err(|e| ApiError::internal(&e))?;
    Ok(json_bytes(status, body))
}

/// The problem response documented on every route that can fail.
pub type ProblemBody = crate::problem::Problem;
