//! Claims: build from a finalised encounter (template + fees, scrubbed and
//! stored), scrub a claim without storing it, read a stored claim with its
//! scrub report, its 837 interchange, and post 835 remittances and
//! 999/277CA acknowledgements (each parsed completely before anything is
//! posted).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use medledger_claims::model::Claim;
use medledger_claims::scrub::ScrubReport;
use medledger_ledger::ledger::{ClaimRecord, PostingReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::{ApiJson, Auth, X12Body, from_json};
use crate::pipeline::{build_claim, default_envelope, new_claim, parse_fees, remittance_postings};
use crate::problem::{ApiError, x12_problem};
use crate::state::AppState;

/// What to build a claim from.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildClaimRequest {
    /// A claim JSON (providers, payer, subscriber) whose diagnoses and lines
    /// the encounter's final codes replace; default: the server's template.
    #[serde(default)]
    #[schema(value_type = Option<Claim>)]
    pub template: Option<serde_json::Value>,
    /// Charge per procedure code in dollars (`{"99213": "125.00"}`).
    #[serde(default)]
    pub fees: BTreeMap<String, String>,
}

/// A built claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuiltClaim {
    /// Ledger claim id.
    pub claim_id: i64,
    /// The claim as stored.
    pub claim: Claim,
    /// The scrubber's findings.
    pub scrub: ScrubReport,
}

/// A stored claim with its document and scrub report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDetail {
    /// The ledger's record (status, history).
    #[serde(flatten)]
    pub record: ClaimRecord,
    /// The claim document.
    pub claim: Claim,
    /// The scrubber's findings now.
    pub scrub: ScrubReport,
}

/// What recording acknowledgements did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AckReport {
    /// `{"type": "999"|"277CA", …}`: what the file says (PHI-free).
    #[schema(value_type = Object)]
    pub ack: serde_json::Value,
    /// Claims whose status was recorded.
    pub recorded: usize,
    /// Patient control numbers that match no claim.
    pub unmatched: Vec<String>,
}

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(build))
        .routes(routes!(scrub_claim))
        .routes(routes!(get_claim))
        .routes(routes!(export_837))
        .routes(routes!(post_remittance))
        .routes(routes!(post_acks))
}

fn parse_claim(v: serde_json::Value) -> Result<Claim, ApiError> {
    let text = v.to_string();
    let mut c: Claim = from_json(text.as_bytes())?;
    c.normalise();
    Ok(c)
}

/// Builds, scrubs and stores the claim of a finalised encounter.
#[utoipa::path(post, path = "/api/v1/encounters/{id}/claim", tag = "claims",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Encounter id")),
    request_body = BuildClaimRequest,
    responses(
        (status = 201, description = "Built and stored", body = BuiltClaim),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such encounter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Encounter not finalised", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "No template, a missing fee or an invalid claim", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn build(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<BuildClaimRequest>,
) -> Result<Response, ApiError> {
    let template = match req.template {
        Some(v) => parse_claim(v)?,
        None => st.claim_template.clone().ok_or_else(|| {
            ApiError::invalid(
                "template",
                "a claim template is needed: send one, or start the server with --claim-template FILE",
            )
        })?,
    };
    let fees = parse_fees(req.fees.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let p = auth.principal().clone();
    let (claim_id, claim) = st
        .ledger(move |l| {
            let (dos, codes) = l.final_codes(&p, id)?;
            let c = build_claim(template, id, &dos, &codes, &fees)?;
            let row = new_claim(&c, id).map_err(|e| ApiError::internal(&e))?;
            Ok((l.create_claim(&p, &row)?, c))
        })
        .await?;
    let (claim, scrub) = st
        .cpu(move |st, _| {
            let r = st.scrubber.scrub(&claim);
            Ok((claim, r))
        })
        .await?;
    json(
        StatusCode::CREATED,
        &BuiltClaim {
            claim_id,
            claim,
            scrub,
        },
    )
}

/// Scrubs a claim (nothing is stored).
#[utoipa::path(post, path = "/api/v1/claims/scrub", tag = "claims",
    security(("bearer" = [])),
    request_body = Claim,
    responses(
        (status = 200, description = "The findings", body = ScrubReport),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Not a claim", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn scrub_claim(
    State(st): State<AppState>,
    auth: Auth,
    ApiJson(mut c): ApiJson<Claim>,
) -> Result<Response, ApiError> {
    auth_claims(&auth)?;
    c.normalise();
    let r = st.cpu(move |st, _| Ok(st.scrubber.scrub(&c))).await?;
    json(StatusCode::OK, &r)
}

fn auth_claims(auth: &Auth) -> Result<(), ApiError> {
    use medledger_ledger::ledger::{Action, LedgerError};
    let p = auth.principal();
    if p.may(Action::ManageClaims) || p.may(Action::ViewReports) {
        return Ok(());
    }
    Err(LedgerError::Forbidden {
        actor: p.audit_actor(),
        action: Action::ManageClaims,
        roles: "see /api/v1/me".into(),
    }
    .into())
}

pub(crate) async fn load_claim(
    st: &AppState,
    auth: &Auth,
    id: i64,
) -> Result<(ClaimRecord, Claim), ApiError> {
    let p = auth.principal().clone();
    let (record, body) = st
        .ledger(move |l| Ok((l.claim(&p, id)?, l.claim_body(&p, id)?)))
        .await?;
    let claim = serde_json::from_value::<Claim>(body).map_err(|e| ApiError::internal(&e))?;
    Ok((record, claim))
}

/// A stored claim with its document and scrub report.
#[utoipa::path(get, path = "/api/v1/claims/{id}", tag = "claims",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The claim", body = ClaimDetail),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_claim(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (record, claim) = load_claim(&st, &auth, id).await?;
    let (claim, scrub) = st
        .cpu(move |st, _| {
            let r = st.scrubber.scrub(&claim);
            Ok((claim, r))
        })
        .await?;
    json(
        StatusCode::OK,
        &ClaimDetail {
            record,
            claim,
            scrub,
        },
    )
}

/// The claim as an X12 5010 interchange (837P or 837I).
#[utoipa::path(get, path = "/api/v1/claims/{id}/837", tag = "claims",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The interchange", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read claims", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "The claim cannot be written", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn export_837(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (_, claim) = load_claim(&st, &auth, id).await?;
    let control = u32::try_from(id.rem_euclid(999_999_999))
        .unwrap_or(1)
        .max(1);
    let bytes = medledger_claims::x837::write_837(&[claim], &default_envelope(control))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "x837", e.to_string()))?;
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(r)
}

/// Posts an 835: parsed completely first (a malformed file posts nothing),
/// then each transaction set in one ledger transaction.
#[utoipa::path(post, path = "/api/v1/remittances", tag = "claims",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/plain", description = "X12 835 text (also application/edi-x12)"),
    responses(
        (status = 200, description = "Posted", body = PostingReport),
        (status = 400, description = "Not a valid 835 (with the segment position)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not post remittances", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not text/plain or application/edi-x12", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_remittance(
    State(st): State<AppState>,
    auth: Auth,
    X12Body(bytes): X12Body,
) -> Result<Response, ApiError> {
    let remits = medledger_x12::parse_835(&bytes).map_err(|e| x12_problem("835", &e))?;
    let postings = remittance_postings(&remits);
    let p = auth.principal().clone();
    let report = st
        .ledger(move |l| {
            let mut all = PostingReport {
                posted: Vec::new(),
                unmatched: Vec::new(),
                posted_paid_cents: 0,
            };
            for r in &postings {
                let rep = l.post_835(&p, r)?;
                all.posted.extend(rep.posted);
                all.unmatched.extend(rep.unmatched);
                all.posted_paid_cents += rep.posted_paid_cents;
            }
            Ok(all)
        })
        .await?;
    json(StatusCode::OK, &report)
}

/// Records a 999 or 277CA: accepted / rejected per claim.
#[utoipa::path(post, path = "/api/v1/acks", tag = "claims",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/plain", description = "X12 999 or 277CA text (also application/edi-x12)"),
    responses(
        (status = 200, description = "Recorded", body = AckReport),
        (status = 400, description = "Not a valid 999/277CA", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not post acknowledgements", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not text/plain or application/edi-x12", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn post_acks(
    State(st): State<AppState>,
    auth: Auth,
    X12Body(bytes): X12Body,
) -> Result<Response, ApiError> {
    let parsed = crate::pipeline::parse_ack(&bytes).map_err(|e| match e {
        crate::pipeline::AckError::X12(x) => x12_problem("999/277CA", &x),
        crate::pipeline::AckError::WrongKind(_) => ApiError::bad_request(e.to_string()),
    })?;
    let p = auth.principal().clone();
    let postings = parsed.postings;
    let n = postings.len();
    let unmatched = st
        .ledger(move |l| {
            if postings.is_empty() {
                // Still a role check: only billers record acknowledgements.
                l.post_acks(&p, &[])?;
                return Ok(Vec::new());
            }
            Ok(l.post_acks(&p, &postings)?)
        })
        .await?;
    json(
        StatusCode::OK,
        &AckReport {
            ack: parsed.summary,
            recorded: n - unmatched.len(),
            unmatched,
        },
    )
}
