//! The medledger HTTP API: coding, review, claims and audit over the
//! ledger, an OpenAPI 3.1 document generated from the routes, and the
//! embedded review UI. `medledger serve` runs it.
//!
//! Layout: [`state`] (ledger pool, coders, caches, limits), [`extract`]
//! (bearer auth, JSON and X12 bodies with problem rejections), [`problem`]
//! (RFC 9457 errors), [`routes`] (one module per area, each a
//! `utoipa_axum` router whose handlers carry their own documentation),
//! [`pipeline`] (the conversions the CLI shares), [`ui`] (static files).
//!
//! To add an area (e.g. `/api/v1/reports/*`): write a module with `pub fn
//! routes() -> OpenApiRouter<AppState>` over `#[utoipa::path]` handlers and
//! merge it in [`routes::api`], or pass it to [`app_with`] from outside.

pub mod extract;
pub mod fhir;
pub mod pipeline;
pub mod problem;
pub mod routes;
pub mod state;
pub mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub use problem::{ApiError, Problem};
pub use state::{AppState, ServerOptions};

/// The document's static part: info, tags, the bearer scheme, the problem schema.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "medledger API",
        description = "AI-assisted medical coding and billing: coding, review, claims and audit. Errors are application/problem+json (RFC 9457) and never carry PHI.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerScheme),
    components(schemas(problem::Problem, problem::FieldError)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login sessions"),
        (name = "coding", description = "Stateless coding and E/M leveling"),
        (name = "encounters", description = "Encounters, review and the audit packet"),
        (name = "claims", description = "Claims, 837, remittances, acknowledgements"),
        (name = "audit", description = "Audit chain verification and review figures")
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from POST /api/v1/login, or an API token from `medledger token create`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The documented API routes of this crate, with the document's static part.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(routes::api())
}

/// The whole application (API, `/openapi.json`, UI, middleware) over a state.
pub fn app(state: AppState) -> Router {
    app_with(state, OpenApiRouter::new())
}

/// [`app`] with more documented routes merged in (another area's module).
pub fn app_with(state: AppState, extra: OpenApiRouter<AppState>) -> Router {
    let (api, doc) = router().merge(extra).split_for_parts();
    let doc_json: Arc<Vec<u8>> = Arc::new(doc.to_json().unwrap_or_default().into_bytes());
    let max_body = state.options.max_body_bytes;
    let timeout = state.options.request_timeout;
    api.route(
        "/openapi.json",
        get(move || {
            let d = doc_json.clone();
            async move { routes::json_bytes(StatusCode::OK, d.as_ref().clone()) }
        }),
    )
    .route("/", get(ui::index))
    .route("/ui/{*path}", get(ui::asset))
    .fallback(|| async { ApiError::not_found("no such resource") })
    .layer(DefaultBodyLimit::max(max_body))
    .layer(tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        timeout,
    ))
    .layer(middleware::from_fn(problem::render_problems))
    .layer(middleware::from_fn(security_headers))
    .layer(middleware::from_fn(access_log))
    .with_state(state)
}

/// The OpenAPI document of [`router`] (and the paths in it).
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().into_openapi()
}

const CSP: &str = "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// One structured line per request: method, route template (never the
/// path's ids or the query string), status, latency. No bodies, no tokens.
async fn access_log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let res = next.run(req).await;
    let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "medledger_server::access",
        method = %method,
        route = route.as_deref().unwrap_or("<unmatched>"),
        status = res.status().as_u16(),
        latency_us = us,
        "request"
    );
    res
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Serves `app` on `listener` until `signal` resolves, then stops accepting,
/// lets in-flight requests finish for at most `grace`, and returns.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: Router,
    grace: Duration,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = Arc::new(tokio::sync::Notify::new());
    let stop2 = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        signal.await;
        tracing::info!(target: "medledger_server", "shutting down: finishing in-flight requests");
        stop2.notify_one();
    });
    tokio::select! {
        r = server => r,
        _ = async { stop.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(target: "medledger_server", grace_s = grace.as_secs(), "grace period over; exiting with requests in flight");
            Ok(())
        }
    }
}

/// Binds `addr` and serves the state until SIGTERM/SIGINT. Calls
/// `on_listen` with the bound address (port 0 picks one).
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    on_listen: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_listen(listener.local_addr()?);
    let grace = state.options.shutdown_grace;
    serve_until(listener, app(state), grace, shutdown_signal()).await
}

/// 404 for anything unknown (also the UI's missing files).
pub async fn not_found() -> impl IntoResponse {
    ApiError::not_found("no such resource")
}
