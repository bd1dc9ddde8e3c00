//! `GET /api/v1/reports/…`: the revenue-intelligence reports of
//! `medledger report` over the caller's organisation — clean claims,
//! denials, A/R, gold card, drift — and the dashboard built from them. Each
//! takes the CLI's period and grouping as query parameters and answers JSON,
//! or the report's bar chart with `format=svg`. No PHI; role: reports.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use medledger_analytics::chart::{self, Chart};
use medledger_analytics::dashboard::Dashboard;
use medledger_analytics::drift::{DriftReport, Observations};
use medledger_analytics::goldcard::GoldCardReport;
use medledger_analytics::history::{History, today};
use medledger_analytics::metrics::{ArRow, CleanClaimsRow, DenialsReport, Report};
use medledger_analytics::spec::Spec;
use medledger_analytics::{dashboard, drift, goldcard, load, metrics};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProblemBody, json};
use crate::extract::Auth;
use crate::problem::ApiError;
use crate::state::AppState;

/// The routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(clean_claims))
        .routes(routes!(denials))
        .routes(routes!(ar))
        .routes(routes!(gold_card))
        .routes(routes!(drift))
}

/// A report's scope and format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day included (`YYYY-MM-DD`; default: from the beginning).
    pub from: Option<String>,
    /// Last day included (`YYYY-MM-DD`; default: to the end).
    pub to: Option<String>,
    /// The date `from`/`to` filter on: `service` (default; first date of service) or `submission`.
    pub basis: Option<String>,
    /// Rows per `total` (default), `payer`, `provider`, `code`, `reason`, `month` or `week`.
    pub by: Option<String>,
    /// Open balances and evaluations as of this day (`YYYY-MM-DD`; default: today, UTC).
    pub as_of: Option<String>,
    /// `json` (default) or `svg` (the report's bar chart).
    pub format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Svg,
}

impl ReportQuery {
    fn spec(&self) -> Result<Spec, ApiError> {
        Ok(Spec::parse(
            self.from.as_deref(),
            self.to.as_deref(),
            self.basis.as_deref(),
            self.by.as_deref(),
            self.as_of.as_deref(),
            today(),
        )?)
    }

    fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") | Some("json") => Ok(Format::Json),
            Some("svg") => Ok(Format::Svg),
            Some(other) => Err(ApiError::invalid(
                "format",
                format!("{other:?}: expected json or svg"),
            )),
        }
    }
}

fn svg(c: &Chart) -> Response {
    let mut r = (StatusCode::OK, c.to_svg()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    r
}

async fn history(st: &AppState, auth: &Auth) -> Result<History, ApiError> {
    let p = auth.principal().clone();
    st.ledger(move |l| Ok(load::history_from_ledger(l, &p)?))
        .await
}

async fn observations(st: &AppState, auth: &Auth) -> Result<Observations, ApiError> {
    let p = auth.principal().clone();
    st.ledger(move |l| Ok(load::observations_from_ledger(l, &p)?))
        .await
}

/// Computes a report off the request threads and answers JSON or its chart.
async fn answer<R, F, C>(
    st: &AppState,
    format: Format,
    compute: F,
    chart: C,
) -> Result<Response, ApiError>
where
    R: serde::Serialize + Send + 'static,
    F: FnOnce(&AppState) -> Result<R, ApiError> + Send + 'static,
    C: FnOnce(&R) -> Chart,
{
    let r = st.cpu(move |st, _| compute(st)).await?;
    match format {
        Format::Json => json(StatusCode::OK, &r),
        Format::Svg => Ok(svg(&chart(&r))),
    }
}

/// A report over the claims history: scope and format from the query, the
/// history from the ledger, the figures off the request threads.
async fn history_report<R, F, C>(
    st: &AppState,
    auth: &Auth,
    q: &ReportQuery,
    compute: F,
    chart: C,
) -> Result<Response, ApiError>
where
    R: serde::Serialize + Send + 'static,
    F: FnOnce(&AppState, &History, &Spec) -> Result<R, ApiError> + Send + 'static,
    C: FnOnce(&R) -> Chart,
{
    let (spec, format) = (q.spec()?, q.format()?);
    let h = history(st, auth).await?;
    answer(st, format, move |st| compute(st, &h, &spec), chart).await
}

const JSON_OR_SVG: &str = "The report (JSON), or its bar chart with format=svg (image/svg+xml)";

/// The dashboard of the caller's organisation: clean-claim rate per month,
/// denials by reason and payer, gold-card standings, agreement per month.
#[utoipa::path(get, path = "/api/v1/reports/dashboard", tag = "reports",
    security(("bearer" = [])),
    params(("as_of" = Option<String>, Query, description = "Evaluations as of this day (YYYY-MM-DD; default: today, UTC)")),
    responses(
        (status = 200, description = "Clean-claim rate per month, denials by reason and payer, gold-card standing per payer program, agreement per month", body = Dashboard),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid date", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn dashboard(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let as_of = q.spec()?.as_of;
    // one ledger connection for both reads
    let p = auth.principal().clone();
    let (h, obs) = st
        .ledger(move |l| {
            Ok((
                load::history_from_ledger(l, &p)?,
                load::observations_from_ledger(l, &p)?,
            ))
        })
        .await?;
    let d = st
        .cpu(move |st, _| Ok(dashboard::dashboard(&h, &obs, &st.programs, as_of)?))
        .await?;
    json(StatusCode::OK, &d)
}

/// First-pass clean-claim, clearinghouse acceptance, initial denial and
/// overturn rates, per group.
#[utoipa::path(get, path = "/api/v1/reports/clean-claims", tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = JSON_OR_SVG, body = Report<CleanClaimsRow>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid parameter (named)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn clean_claims(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    history_report(
        &st,
        &auth,
        &q,
        |_, h, spec| Ok(metrics::clean_claims(h, spec)),
        chart::clean_claims_chart,
    )
    .await
}

/// Initial denial rate per group and denial rate per CARC/RARC.
#[utoipa::path(get, path = "/api/v1/reports/denials", tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = JSON_OR_SVG, body = DenialsReport),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid parameter (named)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn denials(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    history_report(
        &st,
        &auth,
        &q,
        |_, h, spec| Ok(metrics::denials(h, spec)),
        chart::denials_chart,
    )
    .await
}

/// Days in A/R (days to close; total A/R ÷ average daily charges), aging
/// buckets and net collection rate, per group.
#[utoipa::path(get, path = "/api/v1/reports/ar", tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = JSON_OR_SVG, body = Report<ArRow>),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid parameter (named)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn ar(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    history_report(
        &st,
        &auth,
        &q,
        |_, h, spec| Ok(metrics::ar(h, spec)),
        chart::ar_chart,
    )
    .await
}

/// Gold-card standing per payer program and provider over the
/// prior-authorisation register (programs: the server's
/// `--gold-card-config`, default the Texas HB 3459 model).
#[utoipa::path(get, path = "/api/v1/reports/gold-card", tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = JSON_OR_SVG, body = GoldCardReport),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid parameter (named)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn gold_card(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    history_report(
        &st,
        &auth,
        &q,
        |st, h, spec| Ok(goldcard::gold_card(h, &st.programs, spec.as_of)?),
        chart::gold_card_chart,
    )
    .await
}

/// The coding engine's precision and recall against final human codes per
/// code family and ISO week, drift alerts, and before/after comparisons
/// per code-set release change.
#[utoipa::path(get, path = "/api/v1/reports/drift", tag = "reports",
    security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "json (default) or svg")),
    responses(
        (status = 200, description = JSON_OR_SVG, body = DriftReport),
        (status = 401, description = "No valid token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Role may not view reports", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An invalid parameter (named)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn drift(
    State(st): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format()?;
    let obs = observations(&st, &auth).await?;
    answer(
        &st,
        format,
        move |_| Ok(drift::drift(&obs)),
        chart::drift_chart,
    )
    .await
}
