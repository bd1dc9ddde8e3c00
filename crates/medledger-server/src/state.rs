//! What every handler shares: the ledger pool, the coders, the E/M engine,
//! the scrubber, the claim template, the principal cache and the limits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use medledger_claims::model::Claim;
use medledger_coder::{Model, Scratch};
use medledger_codesets::Engine;
use medledger_ledger::ledger::{Ledger, LedgerConfig, Principal, UserInfo};
use medledger_services::em::EmEngine;

use crate::pipeline::{CoderCache, Scrubber};
use crate::problem::ApiError;

/// How to start the server (the CLI's `serve` options).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Data directory (code sets, keys, default SQLite database).
    pub data_dir: PathBuf,
    /// `--db` (file path, `sqlite://…`, `postgres://…`); default: the data directory's SQLite file.
    pub db: Option<String>,
    /// `--master-key-file`.
    pub master_key_file: Option<PathBuf>,
    /// Organisation a login names when it gives none.
    pub default_org: String,
    /// Learned model file, if any.
    pub model: Option<PathBuf>,
    /// Ledger connections (each a `Ledger::open`).
    pub ledger_pool: usize,
    /// Coding threads (and runtime workers); 0: all cores.
    pub workers: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout: Duration,
    /// Login sessions expire after this long.
    pub session_ttl: Duration,
    /// How long an authenticated principal is cached (per token hash).
    pub auth_cache_ttl: Duration,
    /// Default claim template (JSON) for `POST /encounters/{id}/claim`.
    pub claim_template: Option<PathBuf>,
    /// Payer profiles directory (default: the built-in profiles).
    pub payers: Option<PathBuf>,
    /// CMS age/sex edits file.
    pub age_sex_edits: Option<PathBuf>,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Gold-card programs (TOML, `[[program]]` tables); default: the Texas HB 3459 model.
    pub gold_card_config: Option<PathBuf>,
}

impl ServerOptions {
    /// Defaults over a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            db: None,
            master_key_file: None,
            default_org: medledger_ledger::ledger::DEFAULT_ORG.to_owned(),
            model: None,
            ledger_pool: 4,
            workers: 0,
            max_body_bytes: 2 << 20,
            request_timeout: Duration::from_secs(30),
            session_ttl: Duration::from_secs(12 * 3600),
            auth_cache_ttl: Duration::from_secs(5),
            claim_template: None,
            payers: None,
            age_sex_edits: None,
            shutdown_grace: Duration::from_secs(20),
            gold_card_config: None,
        }
    }
}

/// A fixed set of open [`Ledger`]s, each used by one blocking task at a time.
pub struct LedgerPool {
    free: Mutex<Vec<Ledger>>,
    ready: Condvar,
    size: usize,
    backend: &'static str,
}

impl LedgerPool {
    /// Opens `size` ledgers (migrations run on the first).
    pub fn open(
        cfg: &LedgerConfig,
        size: usize,
    ) -> Result<Self, medledger_ledger::ledger::LedgerError> {
        let size = size.max(1);
        let mut free = Vec::with_capacity(size);
        for _ in 0..size {
            free.push(Ledger::open(cfg)?.0);
        }
        let backend = match cfg.db {
            medledger_ledger::store::DbLocation::Postgres(_) => "postgres",
            _ => "sqlite",
        };
        Ok(Self {
            free: Mutex::new(free),
            ready: Condvar::new(),
            size,
            backend,
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Ledgers in the pool.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on a free ledger, waiting for one (call from a blocking thread).
    pub fn with<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> T {
        let ledger = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(l) = free.pop() {
                    break l;
                }
                free = self.ready.wait(free).unwrap_or_else(|e| e.into_inner());
            }
        };
        struct Back<'a>(&'a LedgerPool, Option<Ledger>);
        impl Drop for Back<'_> {
            fn drop(&mut self) {
                if let Some(l) = self.1.take() {
                    self.0
                        .free
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(l);
                    self.0.ready.notify_one();
                }
            }
        }
        // The guard puts the ledger back even if `f` panics.
        let mut back = Back(self, Some(ledger));
        match back.1.as_mut() {
            Some(l) => f(l),
            None => unreachable!("the guard holds the ledger until dropped"),
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who (roles, organisation).
    pub principal: Principal,
    /// Their user record (for `/me`).
    pub user: UserInfo,
    /// When the token expires (`None`: never).
    pub expires_at: Option<jiff::Timestamp>,
}

struct Cached {
    session: Arc<Session>,
    until: Instant,
}

/// Principals by SHA-256 of their token, for a few seconds.
pub struct AuthCache {
    ttl: Duration,
    map: RwLock<HashMap<[u8; 32], Cached>>,
}

/// Entries kept before expired ones are swept.
const AUTH_CACHE_SWEEP: usize = 10_000;

impl AuthCache {
    /// A cache keeping entries for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The cached session, if fresh.
    pub fn get(&self, hash: &[u8; 32]) -> Option<Arc<Session>> {
        let m = self.map.read().ok()?;
        let c = m.get(hash)?;
        (c.until > Instant::now()).then(|| c.session.clone())
    }

    /// Caches a session (never past its token's expiry).
    pub fn put(&self, hash: [u8; 32], session: Arc<Session>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut until = Instant::now() + self.ttl;
        if let Some(exp) = session.expires_at {
            let left = exp.duration_since(jiff::Timestamp::now());
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            until = until.min(Instant::now() + left);
        }
        if let Ok(mut m) = self.map.write() {
            if m.len() >= AUTH_CACHE_SWEEP {
                let now = Instant::now();
                m.retain(|_, c| c.until > now);
            }
            m.insert(hash, Cached { session, until });
        }
    }

    /// Forgets a token (logout).
    pub fn remove(&self, hash: &[u8; 32]) {
        if let Ok(mut m) = self.map.write() {
            m.remove(hash);
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Shared state of the server (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    /// The options it was started with.
    pub options: ServerOptions,
    /// The ledgers.
    pub ledgers: LedgerPool,
    /// Coders per release (over the leaked engine).
    pub coders: CoderCache<'static>,
    /// The E/M engine (built-in rules).
    pub em: EmEngine,
    /// The claim scrubber.
    pub scrubber: Scrubber,
    /// The default claim template.
    pub claim_template: Option<Claim>,
    /// Authenticated principals.
    pub auth: AuthCache,
    /// The coding threads.
    pub cpu: rayon::ThreadPool,
    /// Installed ICD-10-CM releases (ids).
    pub releases: Vec<String>,
    /// Gold-card programs per payer.
    pub programs: medledger_analytics::goldcard::Config,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens the ledgers, the code sets (if installed), the model, the
    /// scrubber's tables and the claim template.
    pub fn open(options: ServerOptions) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let mut cfg = LedgerConfig::new(&options.data_dir, options.db.as_deref())?;
        if options.master_key_file.is_some() {
            cfg.master_key_file = options.master_key_file.clone();
            cfg.master_key_env = None;
        }
        let ledgers = LedgerPool::open(&cfg, options.ledger_pool)?;
        let engine: Option<&'static Engine> = match Engine::open(&options.data_dir) {
            Ok(e) => Some(Box::leak(Box::new(e))),
            Err(e) => {
                tracing::warn!(target: "medledger_server", error = %e, "no code sets installed: coding endpoints answer 503/422");
                None
            }
        };
        let releases = engine
            .map(|e| {
                e.manifest()
                    .of_kind(medledger_codesets::store::ComponentKind::Icd10cmTabular)
                    .map(|c| c.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let model = match &options.model {
            Some(p) => Some(Model::load(p).with_context(|| format!("model {}", p.display()))?),
            None => None,
        };
        let scrubber = Scrubber::new(
            &options.data_dir,
            engine,
            options.payers.as_deref(),
            options.age_sex_edits.as_deref(),
            None,
        )?;
        let claim_template = match &options.claim_template {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading claim template {}", p.display()))?;
                Some(
                    Claim::from_json(&text)
                        .with_context(|| format!("claim template {}: not a claim", p.display()))?,
                )
            }
            None => None,
        };
        let programs = match &options.gold_card_config {
            Some(p) => medledger_analytics::goldcard::Config::from_file(p)
                .with_context(|| format!("gold-card programs {}", p.display()))?,
            None => medledger_analytics::goldcard::Config::default(),
        };
        let threads = if options.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            options.workers
        };
        let cpu = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("medledger-cpu-{i}"))
            .build()?;
        Ok(Self(Arc::new(Inner {
            auth: AuthCache::new(options.auth_cache_ttl),
            coders: CoderCache::new(engine, model),
            em: EmEngine::builtin()?,
            scrubber,
            claim_template,
            ledgers,
            cpu,
            releases,
            programs,
            options,
        })))
    }

    /// Runs `f` on a pooled ledger in a blocking thread.
    pub async fn ledger<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ledger) -> Result<T, ApiError> + Send + 'static,
    {
        let st = self.clone();
        tokio::task::spawn_blocking(move || st.ledgers.with(f))
            .await
            .map_err(|e| ApiError::internal(&e))?
    }

    /// Runs CPU-bound `f` (coding, leveling, scrubbing) on the coding
    /// threads, with the thread's own coder scratch space.
    pub async fn cpu<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&AppState, &mut Scratch) -> Result<T, ApiError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let st = self.clone();
        self.0.cpu.spawn(move || {
            let out = SCRATCH.with_borrow_mut(|s| f(&st, s));
            let _ = tx.send(out);
        });
        rx.await
            .map_err(|_| ApiError::internal(&"coding task ended without an answer"))?
    }

    /// Builds the coder of the newest release now (rather than on the
    /// first request).
    pub fn warm_up(&self) {
        if let Err(e) = self.coders.get(None, false) {
            tracing::warn!(target: "medledger_server", error = %e, "warming up the coder failed");
        }
    }
}
