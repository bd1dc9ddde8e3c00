//! Helpers of the server tests: the shared release files installed once,
//! a fresh ledger per test, users and tokens, and requests through the
//! router with `oneshot` (no socket).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use medledger_ledger::ledger::{NewUser, Role};
use medledger_server::{AppState, ServerOptions};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tower::ServiceExt;

/// `$MEDLEDGER_SHARED`, or `../shared` beside the repository.
pub fn shared() -> PathBuf {
    std::env::var("MEDLEDGER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// ../shared/codesets installed once into cargo's target tmpdir (an
/// install over unchanged sources only checks them).
pub fn codesets() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let from = shared().join("codesets");
        assert!(
            from.join("README.md").exists(),
            "release files not found at {}: set MEDLEDGER_SHARED",
            from.display()
        );
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("medledger-server-codesets");
        std::fs::create_dir_all(&dir).expect("create the code-set dir");
        let opts = medledger_codesets::InstallOptions {
            from,
            cpt: None,
            force: false,
        };
        medledger_codesets::install(&dir, &opts, &medledger_codesets::NoProgress)
            .expect("install the shared code sets");
        dir
    })
    .as_path()
}

/// A data directory of its own (keys, SQLite file) whose code sets are
/// links to the shared install.
pub fn data_dir() -> tempfile::TempDir {
    let tmp = tempfile::Builder::new()
        .prefix("server-test-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir");
    for e in std::fs::read_dir(codesets()).expect("read code sets") {
        let e = e.expect("entry");
        let name = e.file_name();
        let s = name.to_string_lossy();
        if s.starts_with("ledger") || s.ends_with(".key") || s == "audit-keys" {
            continue;
        }
        std::os::unix::fs::symlink(e.path(), tmp.path().join(&name)).expect("link");
    }
    tmp
}

/// Runs `f` on a thread of its own: the PostgreSQL client is synchronous
/// and may not block a tokio worker.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("helper thread"))
}

/// One server over a fresh ledger.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub app: Router,
}

/// The claim template of the examples.
pub fn template_path() -> PathBuf {
    repo().join("examples/claims/office-visit-established.json")
}

impl TestServer {
    /// SQLite in a fresh data directory (or `db`, e.g. a PostgreSQL URL).
    pub fn new(db: Option<&str>) -> Self {
        Self::with(db, |_| {})
    }

    /// With options changed.
    pub fn with(db: Option<&str>, f: impl FnOnce(&mut ServerOptions)) -> Self {
        let dir = data_dir();
        let mut o = ServerOptions::new(dir.path());
        o.db = db.map(str::to_owned);
        o.ledger_pool = 2;
        o.workers = 2;
        o.claim_template = Some(template_path());
        f(&mut o);
        let state = off_runtime(|| AppState::open(o).expect("open the server state"));
        let app = medledger_server::app(state.clone());
        Self { dir, state, app }
    }

    /// Adds a user (to `org`, created if needed) and returns an API token.
    pub fn user(&self, org: &str, name: &str, roles: &[Role], credential: Option<&str>) -> String {
        self.user_with_password(org, name, roles, credential, None)
    }

    pub fn user_with_password(
        &self,
        org: &str,
        name: &str,
        roles: &[Role],
        credential: Option<&str>,
        password: Option<&str>,
    ) -> String {
        off_runtime(|| {
            self.state.ledgers.with(|l| {
                l.ensure_org(org, org).expect("org");
                let op = l.operator(org).expect("operator");
                l.add_user(
                    &op,
                    &NewUser {
                        username: name.into(),
                        display_name: format!("{name} (test)"),
                        credential: credential.map(str::to_owned),
                        password: password.map(|p| SecretString::from(p.to_owned())),
                        roles: roles.to_vec(),
                    },
                )
                .expect("add user");
                l.issue_token(&op, name, "test")
                    .expect("token")
                    .expose_secret()
                    .to_owned()
            })
        })
    }

    /// Sends a request.
    pub async fn call(&self, req: Req<'_>) -> Resp {
        let mut b = Request::builder().method(req.method).uri(req.path);
        if let Some(t) = req.token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = req.content_type {
            b = b.header("content-type", ct);
        }
        let res = self
            .app
            .clone()
            .oneshot(b.body(Body::from(req.body)).expect("request"))
            .await
            .expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            bytes,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Req::new(Method::GET, path, token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.call(Req::new(Method::POST, path, token).json(body))
            .await
    }

    /// An encounter with the usual note, added by `token` (a coder).
    pub async fn add_encounter(&self, token: &str, note: &str) -> Value {
        let r = self
            .post(
                "/api/v1/encounters",
                Some(token),
                &serde_json::json!({
                    "patient": {"name": "Ada Testpatient", "dob": "1950-01-02", "sex": "F"},
                    "note": note,
                    "setting": "outpatient",
                    "dos": "2026-03-02",
                    "payer": "MEDICARE",
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Counts rows of a table in the test's SQLite file.
    pub fn count(&self, table: &str) -> i64 {
        let db = self.dir.path().join("ledger.sqlite3");
        let c = rusqlite::Connection::open(db).expect("open sqlite");
        c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }
}

/// A request.
pub struct Req<'a> {
    pub method: Method,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: Vec<u8>,
}

impl<'a> Req<'a> {
    pub fn new(method: Method, path: &'a str, token: Option<&'a str>) -> Self {
        Self {
            method,
            path,
            token,
            content_type: None,
            body: Vec::new(),
        }
    }

    pub fn json(mut self, v: &Value) -> Self {
        self.content_type = Some("application/json");
        self.body = serde_json::to_vec(v).expect("json");
        self
    }

    pub fn raw(mut self, content_type: Option<&'a str>, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = content_type;
        self.body = body.into();
        self
    }
}

/// A response.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem of `status` and returns it.
    pub fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "{}: {}",
            self.content_type(),
            self.text()
        );
        let v = self.json();
        assert_eq!(v["status"], status.as_u16(), "{v}");
        assert!(v["title"].is_string() && v["type"].is_string(), "{v}");
        assert!(
            v["instance"].as_str().is_some_and(|s| s.starts_with('/')),
            "{v}"
        );
        v
    }
}

/// A note the dictionary coder finds several conditions in.
pub const NOTE: &str = "Follow-up visit. Patient reports good adherence.\n\
Assessment: essential hypertension, well controlled. Type 2 diabetes mellitus without complications.\n\
Plan: continue lisinopril and metformin.";
