//! The ledger service layer: every operation on the store goes through a
//! [`Ledger`] method that (1) checks the principal's role for the action,
//! (2) confines every query to the principal's organisation, (3) seals PHI
//! before it reaches the store and opens it only for those allowed, and
//! (4) appends the audit entries in the same transaction as the change, so
//! a change and its audit record commit together or not at all.

mod audit_store;
mod claims;
pub(crate) mod encounters;
pub mod history_rows;
mod keyring;
mod packet;
pub mod policy;
mod review;
pub mod roles;
mod users;

pub use audit_store::{StoreVerifyReport, UnreadableRow};
pub use claims::{
    AckPosting, ClaimPosting, ClaimRecord, NewClaim, NewRemittance, PostedClaim, PostingReport,
    RemittancePosting,
};
pub use encounters::{
    EncounterAdded, EncounterView, EvidenceSpan, NewEncounter, NewPatient, NewSuggestion,
    PolicyRef, QueueFilter, QueueItem, RunInfo, SuggestionView,
};
pub use keyring::RotationReport;
pub use packet::{AuditPacket, PacketCode, render_packet_html};
pub use policy::{HccLookup, HccMap, ReviewPolicy, ReviewReason};
pub use review::{
    DecisionInput, DecisionOutcome, DecisionRecord, FinalCode, Finalised, RejectReason, ReviewStats,
};
pub use roles::{Action, Role, operator_allows, role_allows};
pub use users::{NewUser, UserInfo};

use crate::audit::{AuditChain, AuditError, AuditKind, SigningKey, VerifyingKey};
use crate::crypto::{CryptoError, KeySource, Keyring, MASTER_KEY_ENV, MasterKey};
use crate::store::{Backend, Conn, DbLocation, MigrationReport, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File name of the audit signing key in the data directory.
pub const AUDIT_SIGNING_KEY_FILE: &str = "audit-signing.key";
/// Directory of retired audit verifying keys (`*.pub`) in the data directory.
pub const AUDIT_KEYS_DIR: &str = "audit-keys";
/// Slug of the organisation created on first use.
pub const DEFAULT_ORG: &str = "default";

/// Errors of the ledger. Messages carry ids, codes and field names, never PHI.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Encryption or key handling failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The audit chain failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The review policy is invalid.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The principal's roles do not allow the action.
    #[error("{actor} may not {action} (roles: {roles})")]
    Forbidden {
        /// Who.
        actor: String,
        /// What.
        action: Action,
        /// Their roles.
        roles: String,
    },
    /// No such entity in the principal's organisation.
    #[error("{entity} {id} not found")]
    NotFound {
        /// `encounter`, `suggestion`, `user`, …
        entity: &'static str,
        /// Its id or name.
        id: String,
    },
    /// The request is invalid (names the field).
    #[error("{field}: {message}")]
    Invalid {
        /// Which input.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The entity is in a state that does not allow this.
    #[error("{0}")]
    Conflict(String),
    /// Authentication failed (deliberately vague).
    #[error("authentication failed")]
    Unauthenticated,
}

/// Result alias.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> LedgerError {
    LedgerError::Invalid {
        field,
        message: message.into(),
    }
}

pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> LedgerError {
    LedgerError::NotFound {
        entity,
        id: id.to_string(),
    }
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A stored user.
    User {
        /// User id.
        id: i64,
        /// Login name.
        username: String,
        /// Coding credential (CPC, CCS, …), if any.
        credential: Option<String>,
        /// Roles held.
        roles: Vec<Role>,
    },
    /// The local operator: the CLI holding the master key, acting without
    /// naming a user. May do everything but decide and finalise.
    Operator,
}

/// An authenticated actor within one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Organisation id.
    pub org_id: i64,
    /// Organisation slug.
    pub org: String,
    /// Who.
    pub actor: Actor,
}

impl Principal {
    /// The audit `actor` string: `user:<id>:<username>` or `operator`.
    pub fn audit_actor(&self) -> String {
        match &self.actor {
            Actor::User { id, username, .. } => format!("user:{id}:{username}"),
            Actor::Operator => "operator".to_owned(),
        }
    }

    /// Whether the action is allowed.
    pub fn may(&self, action: Action) -> bool {
        match &self.actor {
            Actor::Operator => operator_allows(action),
            Actor::User { roles, .. } => roles.iter().any(|r| role_allows(*r, action)),
        }
    }

    pub(crate) fn require(&self, action: Action) -> Result<()> {
        if self.may(action) {
            return Ok(());
        }
        let roles = match &self.actor {
            Actor::Operator => "operator".to_owned(),
            Actor::User { roles, .. } if roles.is_empty() => "none".to_owned(),
            Actor::User { roles, .. } => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        Err(LedgerError::Forbidden {
            actor: self.audit_actor(),
            action,
            roles,
        })
    }

    /// The user id, if a user.
    pub fn user_id(&self) -> Option<i64> {
        match &self.actor {
            Actor::User { id, .. } => Some(*id),
            Actor::Operator => None,
        }
    }
}

/// How to open a ledger.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The database.
    pub db: DbLocation,
    /// The data directory (key files, default database).
    pub data_dir: PathBuf,
    /// `--master-key-file`.
    pub master_key_file: Option<PathBuf>,
    /// `MEDLEDGER_MASTER_KEY`'s value, if set.
    pub master_key_env: Option<String>,
    /// Entries between signed checkpoints.
    pub checkpoint_interval: u64,
}

impl LedgerConfig {
    /// The defaults for a data directory: database from `db_url` (or the
    /// default file), master key from the environment or the data directory.
    pub fn new(data_dir: &Path, db_url: Option<&str>) -> Result<Self> {
        Ok(Self {
            db: DbLocation::parse(db_url, data_dir)?,
            data_dir: data_dir.to_path_buf(),
            master_key_file: None,
            master_key_env: std::env::var(MASTER_KEY_ENV).ok(),
            checkpoint_interval: 1000,
        })
    }
}

/// What opening did (for the CLI to report).
#[derive(Debug, Clone)]
pub struct OpenReport {
    /// Migrations applied.
    pub migrations: MigrationReport,
    /// Where the master key came from.
    pub master_key: KeySource,
    /// The audit signing key file, if it was created now.
    pub signing_key_created: Option<PathBuf>,
}

/// The ledger service.
pub struct Ledger {
    pub(crate) db: Box<dyn Backend>,
    pub(crate) master: MasterKey,
    pub(crate) signing: SigningKey,
    pub(crate) verifying: Vec<VerifyingKey>,
    pub(crate) chain: Option<AuditChain>,
    pub(crate) keyrings: HashMap<i64, Keyring>,
    pub(crate) interval: u64,
    pub(crate) hcc: Option<Box<dyn HccLookup + Send>>,
    location: String,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("db", &self.location)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens the database (running migrations), the master key and the
    /// audit signing key (creating either in the data directory on first
    /// use), and makes sure the default organisation exists.
    pub fn open(config: &LedgerConfig) -> Result<(Self, OpenReport)> {
        let mut db = config.db.open()?;
        let migrations = db.migrate()?;
        let (master, master_source) = MasterKey::from_env_or_file(
            config.master_key_env.as_deref(),
            config.master_key_file.as_deref(),
            &config.data_dir,
        )?;
        let (signing, created) = load_or_create_signing_key(&config.data_dir)?;
        let mut verifying = vec![signing.verifying_key()];
        verifying.extend(load_retired_keys(&config.data_dir.join(AUDIT_KEYS_DIR))?);
        let mut ledger = Self {
            db,
            master,
            signing,
            verifying,
            chain: None,
            keyrings: HashMap::new(),
            interval: config.checkpoint_interval,
            hcc: None,
            location: config.db.describe(),
        };
        ledger.ensure_org(DEFAULT_ORG, "Default organisation")?;
        Ok((
            ledger,
            OpenReport {
                migrations,
                master_key: master_source,
                signing_key_created: created,
            },
        ))
    }

    /// Where the database is (no credentials).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The verifying keys the audit chain is checked against.
    pub fn verifying_keys(&self) -> &[VerifyingKey] {
        &self.verifying
    }

    /// Loads an ICD-10-CM → HCC map for the review policy's `hcc_risk` rule.
    pub fn set_hcc_map(&mut self, map: Box<dyn HccLookup + Send>) {
        self.hcc = Some(map);
    }

    /// The local operator of an organisation (by slug).
    pub fn operator(&mut self, org: &str) -> Result<Principal> {
        let org_id = self.org_id(org)?;
        Ok(Principal {
            org_id,
            org: org.to_owned(),
            actor: Actor::Operator,
        })
    }

    /// Creates an organisation if it does not exist; returns its id.
    pub fn ensure_org(&mut self, slug: &str, name: &str) -> Result<i64> {
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "org",
                "organisation ids are letters, digits, '-' and '_'",
            ));
        }
        let mut id = 0;
        self.db.write(&mut |c| {
            let rows = c.query("SELECT id FROM orgs WHERE slug = ?", &[slug.into()])?;
            id = match rows.first() {
                Some(r) => r.int(0)?,
                None => {
                    let next = next_id(c, "orgs")?;
                    c.exec(
                        "INSERT INTO orgs (id, slug, name, created_at) VALUES (?, ?, ?, ?)",
                        &[next.into(), slug.into(), name.into(), now().into()],
                    )?;
                    next
                }
            };
            Ok(())
        })?;
        Ok(id)
    }

    pub(crate) fn org_id(&mut self, slug: &str) -> Result<i64> {
        let mut id = None;
        self.db.read(&mut |c| {
            id = c
                .query("SELECT id FROM orgs WHERE slug = ?", &[slug.into()])?
                .first()
                .map(|r| r.int(0))
                .transpose()?;
            Ok(())
        })?;
        id.ok_or_else(|| not_found("organisation", slug))
    }

    /// Runs `f` in one write transaction together with the audit entries it
    /// queues; both commit or neither does. On failure the in-memory chain
    /// head is dropped so the next write resumes from the stored chain.
    pub(crate) fn write_audited<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Conn, &mut Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut out: Option<T> = None;
        let mut err: Option<LedgerError> = None;
        let Self {
            db,
            master,
            signing,
            chain,
            keyrings,
            interval,
            hcc,
            ..
        } = self;
        let res = db.write(&mut |c| {
            let mut ctx = Ctx {
                master,
                hcc: hcc.as_deref(),
                keyrings,
                pending: Vec::new(),
            };
            match f(c, &mut ctx) {
                Ok(v) => {
                    audit_store::persist(c, chain, signing, *interval, ctx.pending)
                        .map_err(|e| stash(&mut err, e))?;
                    out = Some(v);
                    Ok(())
                }
                Err(e) => Err(stash(&mut err, e)),
            }
        });
        match res {
            Ok(()) => {
                out.ok_or_else(|| LedgerError::Conflict("transaction produced no result".into()))
            }
            Err(store_err) => {
                self.chain = None;
                Err(err.unwrap_or(LedgerError::Store(store_err)))
            }
        }
    }

    /// Runs `f` in a read transaction; audit entries it queues (PHI reads)
    /// are then written in their own transaction before the result is
    /// returned, so nothing is shown that was not logged.
    pub(crate) fn read_audited<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Conn, &mut Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut out: Option<T> = None;
        let mut err: Option<LedgerError> = None;
        let mut pending = Vec::new();
        {
            let Self {
                db,
                master,
                keyrings,
                hcc,
                ..
            } = self;
            let res = db.read(&mut |c| {
                let mut ctx = Ctx {
                    master,
                    hcc: hcc.as_deref(),
                    keyrings,
                    pending: Vec::new(),
                };
                match f(c, &mut ctx) {
                    Ok(v) => {
                        out = Some(v);
                        pending = std::mem::take(&mut ctx.pending);
                        Ok(())
                    }
                    Err(e) => Err(stash(&mut err, e)),
                }
            });
            if let Err(store_err) = res {
                return Err(err.unwrap_or(LedgerError::Store(store_err)));
            }
        }
        if !pending.is_empty() {
            let mut pending = Some(pending);
            self.write_audited(|_, ctx| {
                ctx.pending.extend(pending.take().unwrap_or_default());
                Ok(())
            })?;
        }
        out.ok_or_else(|| LedgerError::Conflict("transaction produced no result".into()))
    }
}

/// Keeps the typed error and hands the store a marker error to roll back.
fn stash(slot: &mut Option<LedgerError>, e: LedgerError) -> StoreError {
    let msg = e.to_string();
    *slot = Some(e);
    StoreError::Sql {
        statement: "ledger operation".into(),
        message: msg,
    }
}

/// What an operation inside a transaction can use.
pub(crate) struct Ctx<'a> {
    pub(crate) master: &'a MasterKey,
    pub(crate) hcc: Option<&'a (dyn HccLookup + Send)>,
    pub(crate) keyrings: &'a mut HashMap<i64, Keyring>,
    pub(crate) pending: Vec<PendingAudit>,
}

/// An audit entry to append when the transaction commits.
pub(crate) struct PendingAudit {
    pub(crate) org: String,
    pub(crate) actor: String,
    pub(crate) kind: AuditKind,
    pub(crate) subject: String,
    pub(crate) detail: serde_json::Value,
}

impl Ctx<'_> {
    pub(crate) fn audit(
        &mut self,
        p: &Principal,
        kind: AuditKind,
        subject: String,
        detail: serde_json::Value,
    ) {
        self.pending.push(PendingAudit {
            org: p.org.clone(),
            actor: p.audit_actor(),
            kind,
            subject,
            detail,
        });
    }

    pub(crate) fn audit_as(
        &mut self,
        org: &str,
        actor: String,
        kind: AuditKind,
        subject: String,
        detail: serde_json::Value,
    ) {
        self.pending.push(PendingAudit {
            org: org.to_owned(),
            actor,
            kind,
            subject,
            detail,
        });
    }
}

/// The next id of `table` (callers hold the write lock).
pub(crate) fn next_id(c: &mut dyn Conn, table: &'static str) -> Result<i64, StoreError> {
    let rows = c.query(
        &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
        &[],
    )?;
    rows.first().map_or(Ok(1), |r| r.int(0))
}

/// Now, RFC 3339.
pub(crate) fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn load_or_create_signing_key(dir: &Path) -> Result<(SigningKey, Option<PathBuf>)> {
    let path = dir.join(AUDIT_SIGNING_KEY_FILE);
    if path.exists() {
        return Ok((SigningKey::load(&path)?, None));
    }
    std::fs::create_dir_all(dir).map_err(|e| AuditError::KeyIo {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let key = SigningKey::generate()?;
    match key.save(&path) {
        Ok(()) => Ok((key, Some(path))),
        // Another process created it first: use theirs.
        Err(_) if path.exists() => Ok((SigningKey::load(&path)?, None)),
        Err(e) => Err(e.into()),
    }
}

fn load_retired_keys(dir: &Path) -> Result<Vec<VerifyingKey>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pub"))
        .collect();
    paths.sort();
    for p in paths {
        out.push(VerifyingKey::load(&p)?);
    }
    Ok(out)
}

/// `?, ?, …` (n placeholders).
pub(crate) fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

/// Rows per multi-row statement (SQLite allows 32,766 parameters, PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 400;

/// Inserts rows with multi-row `INSERT … VALUES (…), (…)` statements:
/// one round trip per 400 rows instead of one per row.
pub(crate) fn insert_many(
    c: &mut dyn Conn,
    head: &str,
    ncols: usize,
    rows: Vec<Vec<crate::store::Value>>,
) -> Result<(), StoreError> {
    let one = format!("({})", placeholders(ncols));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<crate::store::Value>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let mut sql = String::with_capacity(head.len() + chunk.len() * (one.len() + 2));
        sql.push_str(head);
        sql.push_str(" VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&one);
        }
        let params: Vec<crate::store::Value> = chunk.into_iter().flatten().collect();
        c.exec(&sql, &params)?;
    }
    Ok(())
}
