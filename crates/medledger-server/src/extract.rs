//! Request extractors whose rejections are problems: [`Auth`] (bearer
//! token → cached session), [`ApiJson`] (content type, size, syntax and
//! shape checked, serde's quoted values redacted) and [`X12Body`] (raw EDI
//! text).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError, redact_serde};
use crate::state::{AppState, Session};

/// The authenticated caller of an `/api/v1` route.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The session.
    pub session: Arc<Session>,
    /// SHA-256 of the presented token (the cache key).
    pub token_hash: [u8; 32],
    /// The presented token (for logout).
    pub token: secrecy::SecretString,
}

impl Auth {
    /// The principal.
    pub fn principal(&self) -> &medledger_ledger::ledger::Principal {
        &self.session.principal
    }
}

/// The bearer token of a request, if well formed.
fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty() && token.len() <= 256).then_some(token)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)
            .ok_or_else(ApiError::unauthenticated)?
            .to_owned();
        let hash = medledger_ledger::crypto::hash_token(&token);
        if let Some(session) = st.auth.get(&hash) {
            return Ok(Auth {
                session,
                token_hash: hash,
                token: token.into(),
            });
        }
        let t = token.clone();
        let session = st
            .ledger(move |l| {
                let (principal, expires_at) = l.authenticate_token_info(&t)?;
                let user = l.whoami(&principal)?;
                Ok(Session {
                    principal,
                    user,
                    expires_at,
                })
            })
            .await
            .map_err(|e| {
                if e.status().is_server_error() {
                    e
                } else {
                    ApiError::unauthenticated()
                }
            })?;
        let session = Arc::new(session);
        st.auth.put(hash, session.clone());
        Ok(Auth {
            session,
            token_hash: hash,
            token: token.into(),
        })
    }
}

fn content_type(req: &Request) -> Option<String> {
    let v = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

async fn body_bytes(req: Request, st: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, st).await.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!(
                    "the request body is over the limit of {} bytes",
                    st.options.max_body_bytes
                ),
            )
        } else {
            ApiError::new(status, "bad-request", "the request body could not be read")
        }
    })
}

/// A JSON body: `Content-Type: application/json` (else 415), within the
/// size limit (else 413), well-formed (else 400), of the expected shape
/// (else 422 with a JSON pointer to the offending value).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// Deserializes JSON bytes as an [`ApiJson`] body would.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let inner = e.inner();
            let msg = redact_serde(&inner.to_string());
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let path = e.path().to_string();
                    let pointer = if path == "." {
                        String::new()
                    } else {
                        format!("/{}", path.replace(['.', '['], "/").replace(']', ""))
                    };
                    let mut err = ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        format!("the request body does not have the expected shape: {msg}"),
                    );
                    err.0.errors.push(FieldError {
                        field: None,
                        pointer: Some(pointer),
                        message: msg,
                    });
                    Err(err)
                }
                _ => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-json",
                    format!("the request body is not valid JSON: {msg}"),
                )),
            }
        }
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        match content_type(&req).as_deref() {
            Some("application/json") => {}
            Some(ct) if ct.starts_with("application/") && ct.ends_with("+json") => {}
            _ => return Err(ApiError::unsupported_media("application/json")),
        }
        let bytes = body_bytes(req, st).await?;
        from_json(&bytes).map(ApiJson)
    }
}

/// A raw X12 body: `Content-Type: text/plain` or `application/edi-x12`.
#[derive(Debug, Clone)]
pub struct X12Body(pub Bytes);

impl FromRequest<AppState> for X12Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        match content_type(&req).as_deref() {
            Some("text/plain" | "application/edi-x12" | "application/edi") => {}
            _ => {
                return Err(ApiError::unsupported_media(
                    "text/plain or application/edi-x12",
                ));
            }
        }
        let bytes = body_bytes(req, st).await?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("the request body is empty"));
        }
        Ok(X12Body(bytes))
    }
}

/// A raw FHIR JSON body: `Content-Type: application/fhir+json` or
/// `application/json` (parsed and validated by `medledger-fhir`).
#[derive(Debug, Clone)]
pub struct FhirBody(pub Bytes);

impl FromRequest<AppState> for FhirBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        match content_type(&req).as_deref() {
            Some("application/fhir+json" | "application/json") => {}
            _ => return Err(ApiError::unsupported_media("application/fhir+json")),
        }
        let bytes = body_bytes(req, st).await?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("the request body is empty"));
        }
        Ok(FhirBody(bytes))
    }
}
