//! Errors as RFC 9457 problem details (`application/problem+json`).
//!
//! Handlers return [`ApiError`]; its response carries the [`Problem`] in an
//! extension and [`render_problems`] (a middleware) writes the body with
//! `instance` set to the request path (never the query string). Responses
//! that fail without a problem (unknown route, method not allowed, an
//! extractor's plain-text rejection, a timeout) get one from their status.
//! Details name ids, fields and positions; never note text, patient
//! identifiers or tokens.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use medledger_ledger::ledger::LedgerError;
use serde::Serialize;

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The input field (`dos`, `patient.name`), when known by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A JSON pointer into the request body (`/patient/dob`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// An RFC 9457 problem.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` or `urn:medledger:problem:…`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened in this case (PHI-free).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Invalid inputs (validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where in an X12 input the error is (1-based segment number, byte offset …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<serde_json::Value>,
}

impl Problem {
    /// A problem of a status with its standard title.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:medledger:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: Some(detail.into()),
            instance: None,
            errors: Vec::new(),
            location: None,
        }
    }

    /// A problem from nothing but a status (`type` `about:blank`).
    pub fn from_status(status: StatusCode) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: None,
            errors: Vec::new(),
            location: None,
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The response for this problem (body written as is).
    pub fn into_body_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"medledger\""),
            );
        }
        r
    }
}

/// A handler's error.
#[derive(Debug, Clone)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    /// An error of a status.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(Problem::new(status, kind, detail)))
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 401 (one message whatever failed).
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "missing, invalid, expired or revoked credentials",
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 415.
    pub fn unsupported_media(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("expected Content-Type: {expected}"),
        )
    }

    /// 422 with one invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("{field}: {message}"),
        );
        e.0.errors.push(FieldError {
            field: Some(field.to_owned()),
            pointer: None,
            message,
        });
        e
    }

    /// 500: the cause is logged (it carries no PHI either: ledger, coder
    /// and store errors name ids and statements), the client gets nothing.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(target: "medledger_server::error", error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }

    /// 503.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut r = status.into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"medledger\""),
            );
        }
        r.extensions_mut().insert(self.0);
        r
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        match &e {
            LedgerError::Unauthenticated => ApiError::unauthenticated(),
            LedgerError::Forbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            LedgerError::NotFound { .. } => ApiError::not_found(e.to_string()),
            LedgerError::Invalid { field, message } => ApiError::invalid(field, message.clone()),
            LedgerError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m.clone()),
            LedgerError::Policy(p) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                p.to_string(),
            ),
            LedgerError::Store(_) | LedgerError::Crypto(_) | LedgerError::Audit(_) => {
                ApiError::internal(&e)
            }
        }
    }
}

impl From<medledger_analytics::AnalyticsError> for ApiError {
    fn from(e: medledger_analytics::AnalyticsError) -> Self {
        use medledger_analytics::AnalyticsError as A;
        match e {
            // the analytics name CLI flags (`--from`); the service's are query parameters
            A::Invalid { field, message } => {
                ApiError::invalid(&field.trim_start_matches("--").replace('-', "_"), message)
            }
            A::Ledger(e) => e.into(),
            other => ApiError::internal(&other),
        }
    }
}

impl From<crate::pipeline::PipelineError> for ApiError {
    fn from(e: crate::pipeline::PipelineError) -> Self {
        use crate::pipeline::PipelineError as P;
        match e {
            P::Invalid { field, message } => ApiError::invalid(field, message),
            P::Coder(c) => c.into(),
            P::Codesets(_) | P::Scrub(_) | P::Payer(_) => ApiError::internal(&e),
        }
    }
}

impl From<medledger_coder::CoderError> for ApiError {
    fn from(e: medledger_coder::CoderError) -> Self {
        use medledger_coder::CoderError as C;
        match &e {
            C::InvalidUtf8 { .. } | C::Empty { .. } | C::Invalid(_) => {
                ApiError::invalid("text", e.to_string())
            }
            C::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", e.to_string())
            }
            C::NoRelease { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no-release",
                e.to_string(),
            ),
            C::Codesets(_) | C::Model { .. } | C::Io { .. } => ApiError::internal(&e),
        }
    }
}

/// A 400 for an X12 input that does not parse, with its position; the
/// value found is left out (it may be a patient's data).
pub fn x12_problem(what: &str, e: &medledger_x12::X12Error) -> ApiError {
    use medledger_x12::X12Error as X;
    let at = e.location();
    let what_wrong = match e {
        X::Isa { message, .. } => format!("ISA header: {message}"),
        X::Syntax { message, .. } => message.clone(),
        X::Structure {
            expected, found, ..
        } => format!("expected {expected}, found {found}"),
        X::Mismatch {
            check,
            expected,
            found,
            ..
        } => format!("{check}: expected {expected}, found {found}"),
        X::Missing { what, .. } => format!("missing {what}"),
        X::Invalid { expected, .. } => format!("expected {expected}"),
        X::WrongTransaction { expected, .. } => format!("expected {expected}"),
    };
    let mut err = ApiError::bad_request(format!("not a valid {what}: {at}: {what_wrong}"));
    err.0.kind = "urn:medledger:problem:x12".into();
    err.0.location = serde_json::to_value(at).ok();
    err
}

/// Middleware: writes problem bodies with `instance`, and turns bare error
/// responses into problems.
pub async fn render_problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    if let Some(p) = res.extensions_mut().remove::<Box<Problem>>() {
        let mut p = *p;
        p.instance = Some(path);
        let headers = std::mem::take(res.headers_mut());
        let mut out = p.into_body_response();
        for (k, v) in &headers {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                out.headers_mut().insert(k.clone(), v.clone());
            }
        }
        return out;
    }
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let mut p = Problem::from_status(status);
        p.instance = Some(path);
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            p.detail = Some("the request body is over the size limit".into());
        }
        let allow = res.headers().get(header::ALLOW).cloned();
        let mut out = p.into_body_response();
        if let Some(a) = allow {
            out.headers_mut().insert(header::ALLOW, a);
        }
        return out;
    }
    res
}

/// Redacts the values serde quotes in its messages (`invalid type: string
/// "…"`, ``unknown variant `…` ``): a body's values may be PHI.
pub fn redact_serde(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"…\"");
                for (_, d) in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                }
            }
            '`' => {
                let before = &msg[..i];
                let redact =
                    before.ends_with("unknown variant ") || before.ends_with("unknown field ");
                let mut inner = String::new();
                for (_, d) in chars.by_ref() {
                    if d == '`' {
                        break;
                    }
                    inner.push(d);
                }
                out.push('`');
                out.push_str(if redact { "…" } else { &inner });
                out.push('`');
            }
            c => out.push(c),
        }
    }
    out
}

impl From<crate::fhir::FhirImportError> for ApiError {
    fn from(e: crate::fhir::FhirImportError) -> Self {
        use crate::fhir::FhirImportError as F;
        match e {
            F::Fhir(f) => fhir_problem(&f),
            F::Pipeline(p) => p.into(),
            F::Ledger(l) => l.into(),
        }
    }
}

/// A FHIR reader error: 400 for a body that is not JSON, else 422 with the
/// FHIRPath-style location of each invalid element (never its value).
pub fn fhir_problem(e: &medledger_fhir::FhirError) -> ApiError {
    use medledger_fhir::FhirError as F;
    if let F::NotJson { .. } = e {
        return ApiError::new(StatusCode::BAD_REQUEST, "malformed-json", e.to_string());
    }
    let mut err = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-fhir",
        format!("not a valid FHIR R4 resource: {e}"),
    );
    match e {
        F::Invalid { issues } => {
            for i in issues {
                err.0.errors.push(FieldError {
                    field: Some(i.location.clone()),
                    pointer: None,
                    message: i.message.clone(),
                });
            }
        }
        other => {
            if let Some(location) = other.location() {
                err.0.errors.push(FieldError {
                    field: Some(location.to_owned()),
                    pointer: None,
                    message: other.message(),
                });
            }
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_values_are_redacted() {
        assert_eq!(
            redact_serde("invalid type: string \"Jane Doe\", expected i64 at line 1 column 9"),
            "invalid type: string \"…\", expected i64 at line 1 column 9"
        );
        assert_eq!(
            redact_serde("unknown variant `Jane`, expected one of `accept`, `reject`"),
            "unknown variant `…`, expected one of `accept`, `reject`"
        );
        assert_eq!(
            redact_serde("missing field `reason`"),
            "missing field `reason`"
        );
    }
}
