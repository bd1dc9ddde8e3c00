//! `POST /api/v1/login` (password → session token with an expiry),
//! `POST /api/v1/logout` (the token stops working at once, cache included)
//! and `GET /api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use medledger_ledger::ledger::{Role, UserInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::{ApiJson, Auth};
use crate::problem::ApiError;
use crate::state::AppState;

/// A login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Organisation slug (default: the server's default organisation).
    #[serde(default)]
    pub org: Option<String>,
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The caller as the UI shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Coding credential, if any.
    pub credential: Option<String>,
    /// Organisation slug.
    pub org: String,
}

impl From<&UserInfo> for User {
    fn from(u: &UserInfo) -> Self {
        Self {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            credential: u.credential.clone(),
            org: u.org.clone(),
        }
    }
}

/// A session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token (shown once).
    pub token: String,
    /// When it expires (RFC 3339).
    pub expires_at: Option<String>,
    /// Who logged in.
    pub user: User,
}

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Logs in by password; the same 401 for an unknown user and a wrong password.
#[utoipa::path(post, path = "/api/v1/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A session token", body = LoginResponse),
        (status = 401, description = "Wrong credentials", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn login(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let org = req
        .org
        .clone()
        .unwrap_or_else(|| st.options.default_org.clone());
    let ttl = st.options.session_ttl;
    let (token, expires, user) = st
        .ledger(move |l| {
            let password = secrecy::SecretString::from(req.password);
            let p = l
                .login(&org, &req.username, &password)
                .map_err(|_| ApiError::unauthenticated())?;
            let (token, expires) = l.issue_session_token(&p, "login", Some(ttl))?;
            let user = l.whoami(&p)?;
            Ok((token, expires, user))
        })
        .await?;
    use secrecy::ExposeSecret as _;
    json(
        StatusCode::OK,
        &LoginResponse {
            token: token.expose_secret().to_owned(),
            expires_at: expires.map(|t| t.to_string()),
            user: User::from(&user),
        },
    )
}

/// Ends the session: the token is revoked and forgotten by the cache.
#[utoipa::path(post, path = "/api/v1/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn logout(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    st.auth.remove(&auth.token_hash);
    let p = auth.principal().clone();
    let token = auth.token.clone();
    st.ledger(move |l| {
        use secrecy::ExposeSecret as _;
        Ok(l.revoke_token(&p, token.expose_secret())?)
    })
    .await?;
    st.auth.remove(&auth.token_hash);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn me(auth: Auth) -> Result<Response, ApiError> {
    json(StatusCode::OK, &User::from(&auth.session.user))
}
