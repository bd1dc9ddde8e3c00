//! Administration over HTTP, as the CLI has it: users and roles
//! (`user add|grant|revoke|list`), API tokens (`token create`), the review
//! policy (`policy show|set`) and data-key rotation (`keys rotate`). The
//! ledger enforces the roles (admin for users, policy and keys).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use medledger_ledger::ledger::{NewUser, ReviewPolicy, Role, RotationReport, UserInfo};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::{ApiJson, Auth, X12Body};
use crate::problem::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, add_user))
        .routes(routes!(set_role))
        .routes(routes!(create_token))
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(rotate_keys))
}

/// A user to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddUserRequest {
    /// Login name (letters, digits, `.`, `_`, `-`, `@`).
    pub username: String,
    /// Name shown in packets (default: the login name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Coding credential (CPC, CCS, …).
    #[serde(default)]
    pub credential: Option<String>,
    /// Password for login sessions (hashed with argon2id; never stored).
    #[serde(default)]
    pub password: Option<String>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// A role to grant or revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// The role.
    pub role: Role,
    /// `true` grants, `false` revokes.
    pub grant: bool,
}

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What it is for (shown in the audit trail).
    #[serde(default)]
    pub label: Option<String>,
}

/// An issued API token (shown once; only its hash is stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    /// The bearer token.
    pub token: String,
    /// Its user.
    pub username: String,
    /// Its label.
    pub label: String,
}

/// The review policy in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the text.
    pub sha256: String,
    /// The policy text (TOML), as stored.
    pub body: String,
}

/// A stored policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyStored {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the text.
    pub sha256: String,
}

/// The organisation's users (no secrets).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The users", body = Vec<UserInfo>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage users", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn list_users(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.list_users(&p)?)).await?;
    json(StatusCode::OK, &r)
}

/// Adds a user to the organisation.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin",
    security(("bearer" = [])),
    request_body = AddUserRequest,
    responses(
        (status = 201, description = "Added", body = UserInfo),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage users", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The login name is taken", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid user", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_user(
    State(st): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<AddUserRequest>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let new = NewUser {
        display_name: req.display_name.unwrap_or_else(|| req.username.clone()),
        username: req.username,
        credential: req.credential,
        password: req.password.map(SecretString::from),
        roles: req.roles,
    };
    let r = st.ledger(move |l| Ok(l.add_user(&p, &new)?)).await?;
    json(StatusCode::CREATED, &r)
}

/// Grants or revokes a role.
#[utoipa::path(post, path = "/api/v1/users/{username}/roles", tag = "admin",
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")),
    request_body = RoleChange,
    responses(
        (status = 200, description = "The user now", body = UserInfo),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage users", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_role(
    State(st): State<AppState>,
    auth: Auth,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<RoleChange>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st
        .ledger(move |l| Ok(l.set_role(&p, &username, req.role, req.grant)?))
        .await?;
    json(StatusCode::OK, &r)
}

/// Issues an API token for a user.
#[utoipa::path(post, path = "/api/v1/users/{username}/tokens", tag = "admin",
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Login name")),
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token (shown once)", body = TokenIssued),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage users", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_token(
    State(st): State<AppState>,
    auth: Auth,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let label = req.label.unwrap_or_else(|| "api".into());
    let (u, lb) = (username.clone(), label.clone());
    let token = st.ledger(move |l| Ok(l.issue_token(&p, &u, &lb)?)).await?;
    json(
        StatusCode::CREATED,
        &TokenIssued {
            token: token.expose_secret().to_owned(),
            username,
            label,
        },
    )
}

/// The review policy in force (the built-in one until one is set).
#[utoipa::path(get, path = "/api/v1/policy", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The policy", body = PolicyView),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read the policy", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_policy(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.policy(&p)?)).await?;
    json(
        StatusCode::OK,
        &PolicyView {
            name: r.header.name,
            version: r.header.version,
            sha256: r.sha256,
            body: r.body,
        },
    )
}

/// Sets a new review policy version (TOML text, as `policy set` reads it).
#[utoipa::path(put, path = "/api/v1/policy", tag = "admin",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/plain", description = "The policy TOML"),
    responses(
        (status = 200, description = "Stored and in force", body = PolicyStored),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not set the policy", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not text/plain", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid policy (field and reason)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn put_policy(
    State(st): State<AppState>,
    auth: Auth,
    X12Body(bytes): X12Body,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("the policy is not UTF-8 text"))?;
    let policy = ReviewPolicy::parse(text, "request body")
        .map_err(|e| ApiError::invalid("policy", e.to_string()))?;
    let p = auth.principal().clone();
    let (name, version, sha256) = (
        policy.header.name.clone(),
        policy.header.version.clone(),
        policy.sha256.clone(),
    );
    let id = st.ledger(move |l| Ok(l.set_policy(&p, &policy)?)).await?;
    json(
        StatusCode::OK,
        &PolicyStored {
            id,
            name,
            version,
            sha256,
        },
    )
}

/// Rotates the organisation's data key: every sealed blob re-encrypted
/// under a new version (one transaction).
#[utoipa::path(post, path = "/api/v1/keys/rotate", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rotated", body = RotationReport),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not rotate keys", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn rotate_keys(State(st): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let p = auth.principal().clone();
    let r = st.ledger(move |l| Ok(l.rotate_data_key(&p)?)).await?;
    json(StatusCode::OK, &r)
}
