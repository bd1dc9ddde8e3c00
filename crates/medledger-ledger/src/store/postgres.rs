//! The PostgreSQL backend, selected by a `postgres://` URL.
//!
//! One synchronous connection ([`postgres::Client`], no TLS). The ledger's
//! portable SQL uses `?` placeholders; they are renumbered `$1, $2, …` once
//! per SQL text and the prepared statement is cached for the connection, so
//! hot queries are parsed and planned once.
//!
//! - Writers are serialised across processes: every [`Backend::write`] first
//!   takes the row lock `SELECT id FROM ledger_lock WHERE id = 1 FOR UPDATE`
//!   in a `READ COMMITTED` transaction, so each later statement sees every
//!   earlier writer's commit (ids are allocated as `MAX(id) + 1`).
//! - Commits are durable when they return: `synchronous_commit` is forced on
//!   for the session if the server has it off.
//! - Reads run in `REPEATABLE READ, READ ONLY` transactions (one snapshot).
//! - Migrations (refinery, the shared `migrations/`) run under a session
//!   advisory lock, so two processes migrating at once apply each migration
//!   once.
//!
//! Unlike SQLite, PostgreSQL aborts the whole transaction when one statement
//! fails; a write whose closure swallows a statement error therefore fails at
//! commit instead of committing the rest.

use super::sql::{Backend, Conn, Dialect, MigrationReport, Row, TxFn, Value};
use super::{StoreError, redact_url, statement_head};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::private::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::Write as _;

/// The statement every write transaction runs first.
const LOCK_SQL: &str = "SELECT id FROM ledger_lock WHERE id = 1 FOR UPDATE";

/// Key of the session advisory lock held while migrating ("medledgr").
const MIGRATE_LOCK_KEY: i64 = 0x6d65_646c_6564_6772;

/// Prepared statements kept per connection before the cache is emptied (the
/// ledger's SQL is a fixed set far below this; the cap only guards against
/// SQL built on the fly).
const STATEMENT_CACHE_CAP: usize = 1024;

type BoxError = Box<dyn StdError + Sync + Send>;

// ---------------------------------------------------------------------------
// Placeholders
// ---------------------------------------------------------------------------

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Index just past a quoted run opened at `start` (`quote` is `'` or `"`; a
/// doubled quote is an escaped one; with `backslash`, `\x` escapes too).
fn skip_quoted(b: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// If a dollar-quote tag (`$$` or `$tag$`) opens at `start`, the index just
/// past it.
fn dollar_tag_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    match b.get(j) {
        Some(b'$') => return Some(j + 1),
        Some(&c) if is_ident_start(c) => {}
        _ => return None,
    }
    while j < b.len() && is_ident_byte(b[j]) {
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

/// Rewrites the `?` placeholders of portable SQL as PostgreSQL's `$1, $2, …`,
/// leaving alone any `?` inside a string literal (`'…'`, `E'…'`), a quoted
/// identifier (`"…"`), a dollar-quoted body (`$$…$$`, `$tag$…$tag$`) or a
/// comment. Returns the SQL and the number of placeholders.
pub fn rewrite_placeholders(sql: &str) -> (String, usize) {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0usize;
    let mut copied = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'?' => {
                out.push_str(&sql[copied..i]);
                n += 1;
                let _ = write!(out, "${n}");
                i += 1;
                copied = i;
            }
            b'\'' => {
                // E'…' (escape string constant): backslashes escape.
                let escape = i >= 1
                    && matches!(b[i - 1], b'E' | b'e')
                    && (i < 2 || !(is_ident_byte(b[i - 2]) || b[i - 2] == b'$'));
                i = skip_quoted(b, i, b'\'', escape);
            }
            b'"' => i = skip_quoted(b, i, b'"', false),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // Block comments nest in PostgreSQL.
                let mut depth = 1usize;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' => match dollar_tag_end(b, i) {
                Some(body) => {
                    let tag = &b[i..body];
                    i = b[body..]
                        .windows(tag.len())
                        .position(|w| w == tag)
                        .map_or(b.len(), |p| body + p + tag.len());
                }
                None => i += 1,
            },
            c if is_ident_byte(c) => {
                // A whole word, so that `$` inside an identifier (`a$b$`) is
                // not taken for a dollar quote.
                while i < b.len() && (is_ident_byte(b[i]) || b[i] == b'$') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    (out, n)
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

fn is_text_type(ty: &Type) -> bool {
    *ty == Type::TEXT
        || *ty == Type::VARCHAR
        || *ty == Type::BPCHAR
        || *ty == Type::NAME
        || *ty == Type::UNKNOWN
}

/// Parameters are encoded by the type the server inferred for them, so one
/// [`Value::Int`] serves `BIGINT`, `INTEGER` and `SMALLINT` parameters alike
/// (range-checked), and text where the server could only infer text.
impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => {
                if *ty == Type::INT8 {
                    v.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*v)
                        .map_err(
                            |_| "integer parameter out of range for a PostgreSQL integer (int4)",
                        )?
                        .to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*v)
                        .map_err(
                            |_| "integer parameter out of range for a PostgreSQL smallint (int2)",
                        )?
                        .to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    match *v {
                        0 => false.to_sql(ty, out),
                        1 => true.to_sql(ty, out),
                        _ => Err("only 0 and 1 can be sent as a PostgreSQL boolean".into()),
                    }
                } else if is_text_type(ty) {
                    v.to_string().as_str().to_sql(ty, out)
                } else {
                    Err(format!(
                        "an integer cannot be sent as a PostgreSQL {} parameter",
                        ty.name()
                    )
                    .into())
                }
            }
            Value::Text(v) => {
                if is_text_type(ty) {
                    v.as_str().to_sql(ty, out)
                } else {
                    Err(format!(
                        "text cannot be sent as a PostgreSQL {} parameter",
                        ty.name()
                    )
                    .into())
                }
            }
            Value::Blob(v) => {
                if *ty == Type::BYTEA {
                    v.as_slice().to_sql(ty, out)
                } else {
                    Err(format!(
                        "bytes cannot be sent as a PostgreSQL {} parameter",
                        ty.name()
                    )
                    .into())
                }
            }
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// An integral `NUMERIC` (what `SUM` of a `BIGINT` column returns) that fits
/// in an `i64`.
struct IntegralNumeric(i64);

impl<'a> FromSql<'a> for IntegralNumeric {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let word = |k: usize| -> Result<u16, BoxError> {
            raw.get(2 * k..2 * k + 2)
                .map(|w| u16::from_be_bytes([w[0], w[1]]))
                .ok_or_else(|| "truncated numeric".into())
        };
        let ndigits = usize::from(word(0)?);
        let weight = i64::from(word(1)? as i16);
        let sign = word(2)?;
        let negative = match sign {
            0x0000 => false,
            0x4000 => true,
            _ => return Err("NaN or infinite numeric".into()),
        };
        let mut acc: i128 = 0;
        for k in 0..ndigits {
            let digit = i128::from(word(4 + k)?);
            let position = weight - k as i64; // power of 10000
            if position < 0 {
                if digit != 0 {
                    return Err("numeric with a fractional part".into());
                }
                continue;
            }
            acc = acc * 10_000 + digit;
            if acc > i128::from(i64::MAX) + 1 {
                return Err("numeric out of the 64-bit range".into());
            }
        }
        // Trailing zero groups are not stored.
        let missing_groups = if ndigits == 0 {
            0
        } else {
            weight - (ndigits as i64 - 1)
        };
        for _ in 0..missing_groups.max(0) {
            acc *= 10_000;
            if acc > i128::from(i64::MAX) + 1 {
                return Err("numeric out of the 64-bit range".into());
            }
        }
        let value = if negative { -acc } else { acc };
        i64::try_from(value)
            .map(IntegralNumeric)
            .map_err(|_| "numeric out of the 64-bit range".into())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// What a column of an unsupported type is reported as (static text for
/// [`StoreError::Decode`], naming the type where it is a common one).
fn unsupported(ty: &Type) -> &'static str {
    let pairs: [(Type, &'static str); 14] = [
        (
            Type::FLOAT4,
            "an integer, text or bytes (found PostgreSQL real)",
        ),
        (
            Type::FLOAT8,
            "an integer, text or bytes (found PostgreSQL double precision)",
        ),
        (
            Type::TIMESTAMP,
            "an integer, text or bytes (found PostgreSQL timestamp)",
        ),
        (
            Type::TIMESTAMPTZ,
            "an integer, text or bytes (found PostgreSQL timestamptz)",
        ),
        (
            Type::DATE,
            "an integer, text or bytes (found PostgreSQL date)",
        ),
        (
            Type::TIME,
            "an integer, text or bytes (found PostgreSQL time)",
        ),
        (
            Type::INTERVAL,
            "an integer, text or bytes (found PostgreSQL interval)",
        ),
        (
            Type::JSON,
            "an integer, text or bytes (found PostgreSQL json)",
        ),
        (
            Type::JSONB,
            "an integer, text or bytes (found PostgreSQL jsonb)",
        ),
        (
            Type::UUID,
            "an integer, text or bytes (found PostgreSQL uuid)",
        ),
        (
            Type::OID,
            "an integer, text or bytes (found PostgreSQL oid)",
        ),
        (
            Type::CHAR,
            "an integer, text or bytes (found PostgreSQL \"char\")",
        ),
        (
            Type::TEXT_ARRAY,
            "an integer, text or bytes (found PostgreSQL text[])",
        ),
        (
            Type::INT8_ARRAY,
            "an integer, text or bytes (found PostgreSQL bigint[])",
        ),
    ];
    pairs.iter().find(|(t, _)| t == ty).map_or(
        "an integer, text or bytes (found an unsupported PostgreSQL type)",
        |(_, m)| m,
    )
}

fn decode_column(row: &postgres::Row, i: usize) -> Result<Value, StoreError> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a postgres::Row,
        i: usize,
        expected: &'static str,
    ) -> Result<Option<T>, StoreError> {
        row.try_get::<_, Option<T>>(i)
            .map_err(|_| StoreError::Decode {
                column: i,
                expected,
            })
    }
    let ty = row.columns()[i].type_();
    let v = if *ty == Type::INT8 {
        get::<i64>(row, i, "an integer")?.map(Value::Int)
    } else if *ty == Type::INT4 {
        get::<i32>(row, i, "an integer")?.map(|v| Value::Int(v.into()))
    } else if *ty == Type::INT2 {
        get::<i16>(row, i, "an integer")?.map(|v| Value::Int(v.into()))
    } else if is_text_type(ty) {
        get::<String>(row, i, "text")?.map(Value::Text)
    } else if *ty == Type::BYTEA {
        get::<Vec<u8>>(row, i, "bytes")?.map(Value::Blob)
    } else if *ty == Type::BOOL {
        get::<bool>(row, i, "a boolean")?.map(|b| Value::Int(b.into()))
    } else if *ty == Type::NUMERIC {
        get::<IntegralNumeric>(
            row,
            i,
            "an integer (found a fractional or out-of-range numeric)",
        )?
        .map(|n| Value::Int(n.0))
    } else {
        return Err(StoreError::Decode {
            column: i,
            expected: unsupported(ty),
        });
    };
    Ok(v.unwrap_or(Value::Null))
}

fn decode_row(row: &postgres::Row) -> Result<Row, StoreError> {
    (0..row.len())
        .map(|i| decode_column(row, i))
        .collect::<Result<_, _>>()
        .map(Row)
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A server error as its primary message and SQLSTATE (never its DETAIL,
/// which can quote row values such as a duplicate key).
fn server_message(db: &postgres::error::DbError) -> String {
    format!("{} (SQLSTATE {})", db.message(), db.code().code())
}

/// An error and its causes, `: `-joined (the driver's own `Display` omits
/// the cause, e.g. "error connecting to server" without "connection
/// refused"); a server error ends the chain with [`server_message`].
fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(db) = err.downcast_ref::<postgres::error::DbError>().or_else(|| {
            err.downcast_ref::<postgres::Error>()
                .and_then(postgres::Error::as_db_error)
        }) {
            parts.push(server_message(db));
            break;
        }
        parts.push(err.to_string());
        cur = err.source();
    }
    parts.join(": ")
}

/// The driver's message for a failed call.
fn db_message(e: &postgres::Error) -> String {
    error_chain(e)
}

/// refinery's message, with the driver's cause spelled out.
fn migration_message(e: &refinery::Error) -> String {
    let mut message = match e.kind() {
        refinery::error::Kind::Connection(what, cause) => {
            format!("{what}: {}", error_chain(cause.as_ref()))
        }
        other => other.to_string(),
    };
    if let Some(report) = e.report()
        && !report.applied_migrations().is_empty()
    {
        let applied: Vec<String> = report
            .applied_migrations()
            .iter()
            .map(|m| format!("V{}__{}", m.version(), m.name()))
            .collect();
        let _ = write!(
            message,
            " (applied before the failure: {})",
            applied.join(", ")
        );
    }
    message
}

fn sql_err(sql: &str, e: &postgres::Error) -> StoreError {
    StoreError::Sql {
        statement: statement_head(sql),
        message: db_message(e),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The passwords a URL carries (`user:PASSWORD@` and `?password=PASSWORD`),
/// raw and percent-decoded.
fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(s) = url.find("://") {
        let rest = &url[s + 3..];
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@')
            && let Some((_, pw)) = authority[..at].split_once(':')
        {
            secrets.push(pw.to_owned());
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some(("password", pw)) = pair.split_once('=') {
                secrets.push(pw.to_owned());
            }
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decode(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets
}

/// `text` with every password of `url` masked.
fn scrub(text: &str, url: &str) -> String {
    let mut out = text.to_owned();
    for secret in url_secrets(url) {
        out = out.replace(&secret, "***");
    }
    out
}

/// [`redact_url`], also masking a `password=` query parameter.
fn location_of(url: &str) -> String {
    scrub(&redact_url(url), url)
}

// ---------------------------------------------------------------------------
// Connection inside a transaction
// ---------------------------------------------------------------------------

struct PgConn<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    statements: &'t mut HashMap<String, Statement>,
    /// A statement failed: PostgreSQL has aborted the transaction.
    failed: bool,
}

impl PgConn<'_, '_> {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let (text, _) = rewrite_placeholders(sql);
        let stmt = self.tx.prepare(&text).map_err(|e| self.fail(sql, &e))?;
        if self.statements.len() >= STATEMENT_CACHE_CAP {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn fail(&mut self, sql: &str, e: &postgres::Error) -> StoreError {
        self.failed = true;
        sql_err(sql, e)
    }
}

impl Conn for PgConn<'_, '_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        match self.tx.execute(&stmt, &refs) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(sql, &e)),
        }
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stmt = self.statement(sql)?;
        // Rows are read from the socket as the iterator advances (the
        // driver's channel holds one message batch), never all at once.
        let failed = &mut self.failed;
        let mut rows = self.tx.query_raw(&stmt, params.iter()).map_err(|e| {
            *failed = true;
            sql_err(sql, &e)
        })?;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => return Ok(()),
                Err(e) => {
                    *failed = true;
                    return Err(sql_err(sql, &e));
                }
            };
            f(decode_row(&row)?)?;
        }
    }
}

// ---------------------------------------------------------------------------
// Backend
// ---------------------------------------------------------------------------

/// PostgreSQL, one connection.
pub struct PostgresBackend {
    client: Client,
    /// The URL as given (it may hold a password; never shown).
    url: String,
    /// The URL without credentials.
    location: String,
    /// Prepared statements by their portable SQL text.
    statements: HashMap<String, Statement>,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("location", &self.location)
            .field("cached_statements", &self.statements.len())
            .finish()
    }
}

fn open_client(url: &str) -> Result<Client, String> {
    let mut client = Client::connect(url, NoTls).map_err(|e| scrub(&db_message(&e), url))?;
    // Durability: a commit must be on disk when it returns.
    let setting: String = client
        .query_one("SELECT current_setting('synchronous_commit')", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| scrub(&db_message(&e), url))?;
    if setting == "off" {
        client
            .batch_execute("SET synchronous_commit TO on")
            .map_err(|e| scrub(&db_message(&e), url))?;
    }
    Ok(client)
}

impl PostgresBackend {
    /// Connects (no TLS). Errors name the server without credentials.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let location = location_of(url);
        let client = open_client(url).map_err(|message| StoreError::Open {
            location: location.clone(),
            message,
        })?;
        Ok(Self {
            client,
            url: url.to_owned(),
            location,
            statements: HashMap::new(),
        })
    }

    /// Reconnects if the connection was lost (only between transactions).
    fn ensure_connected(&mut self) -> Result<(), StoreError> {
        if self.client.is_closed() {
            self.statements.clear();
            self.client = open_client(&self.url).map_err(|message| StoreError::Open {
                location: self.location.clone(),
                message,
            })?;
        }
        Ok(())
    }

    fn run_migrations(&mut self) -> Result<MigrationReport, String> {
        let migrations =
            super::migrations::for_dialect(Dialect::Postgres).map_err(|e| e.to_string())?;
        let report = refinery::Runner::new(&migrations)
            .run(&mut self.client)
            .map_err(|e| migration_message(&e))?;
        let applied = report
            .applied_migrations()
            .iter()
            .map(|m| format!("V{}__{}", m.version(), m.name()))
            .collect();
        let version: i64 = self
            .client
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM refinery_schema_history",
                &[],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| db_message(&e))?;
        Ok(MigrationReport {
            applied,
            version: u32::try_from(version).unwrap_or(0),
        })
    }

    fn transaction(
        &mut self,
        f: &mut TxFn<'_>,
        isolation: IsolationLevel,
        read_only: bool,
    ) -> Result<(), StoreError> {
        self.ensure_connected()?;
        let begin = if read_only {
            "BEGIN REPEATABLE READ READ ONLY"
        } else {
            "BEGIN"
        };
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(isolation)
            .read_only(read_only)
            .start()
            .map_err(|e| sql_err(begin, &e))?;
        let mut conn = PgConn {
            tx: &mut tx,
            statements: &mut self.statements,
            failed: false,
        };
        let result = (|| {
            if !read_only {
                let locked = conn.query(LOCK_SQL, &[])?;
                if locked.is_empty() {
                    return Err(StoreError::Sql {
                        statement: statement_head(LOCK_SQL),
                        message: "the ledger_lock row (id = 1) is missing, so writers cannot be \
                                  serialised; restore it or re-run the migrations"
                            .into(),
                    });
                }
            }
            f(&mut conn)
        })();
        let failed = conn.failed;
        match result {
            Err(e) => {
                let _ = tx.rollback();
                Err(e)
            }
            Ok(()) if failed => {
                let _ = tx.rollback();
                Err(StoreError::Sql {
                    statement: "COMMIT".into(),
                    message: "a statement failed earlier in this transaction, so PostgreSQL \
                              aborted it; nothing was committed"
                        .into(),
                })
            }
            Ok(()) => tx.commit().map_err(|e| sql_err("COMMIT", &e)),
        }
    }
}

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn migrate(&mut self) -> Result<MigrationReport, StoreError> {
        let migrate_err = |location: &str, message: String| StoreError::Migrate {
            location: location.to_owned(),
            message,
        };
        self.ensure_connected()?;
        // Cached plans may not survive schema changes.
        self.statements.clear();
        self.client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK_KEY])
            .map_err(|e| migrate_err(&self.location, db_message(&e)))?;
        let result = self.run_migrations();
        let unlocked = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK_KEY]);
        let report = result.map_err(|m| migrate_err(&self.location, m))?;
        unlocked.map_err(|e| migrate_err(&self.location, db_message(&e)))?;
        Ok(report)
    }

    fn write(&mut self, f: &mut TxFn<'_>) -> Result<(), StoreError> {
        // READ COMMITTED: after the lock row is ours, each statement sees
        // every commit made before it (a REPEATABLE READ snapshot would be
        // taken before the wait and miss the previous writer's rows).
        self.transaction(f, IsolationLevel::ReadCommitted, false)
    }

    fn read(&mut self, f: &mut TxFn<'_>) -> Result<(), StoreError> {
        self.transaction(f, IsolationLevel::RepeatableRead, true)
    }

    fn describe(&self) -> String {
        self.location.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(sql: &str) -> (String, usize) {
        rewrite_placeholders(sql)
    }

    #[test]
    fn numbers_placeholders_in_order() {
        assert_eq!(
            rw("INSERT INTO orgs (id, slug, name) VALUES (?, ?, ?)"),
            (
                "INSERT INTO orgs (id, slug, name) VALUES ($1, $2, $3)".into(),
                3
            )
        );
        assert_eq!(rw("SELECT 1"), ("SELECT 1".into(), 0));
        assert_eq!(rw(""), (String::new(), 0));
        assert_eq!(rw("?"), ("$1".into(), 1));
        assert_eq!(
            rw("SELECT * FROM t WHERE a=?AND b>? LIMIT ?"),
            ("SELECT * FROM t WHERE a=$1AND b>$2 LIMIT $3".into(), 3)
        );
        assert_eq!(rw("x IN (?,?,?)").0, "x IN ($1,$2,$3)");
        let many = ["?"; 12].join(",");
        assert_eq!(rw(&many).0, "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12");
    }

    #[test]
    fn leaves_string_literals_alone() {
        assert_eq!(
            rw("SELECT '?', ? FROM t WHERE s = 'a?b' AND u = ?"),
            ("SELECT '?', $1 FROM t WHERE s = 'a?b' AND u = $2".into(), 2)
        );
        // Doubled quotes inside a literal.
        assert_eq!(rw("SELECT 'it''s ?', ?").0, "SELECT 'it''s ?', $1");
        assert_eq!(rw("SELECT '''?''', ?").0, "SELECT '''?''', $1");
        // Backslash escapes only in E'…'.
        assert_eq!(rw(r"SELECT E'\'?', ?").0, r"SELECT E'\'?', $1");
        assert_eq!(rw(r"SELECT e'a\\', ?").0, r"SELECT e'a\\', $1");
        assert_eq!(rw(r"SELECT 'a\', ?").0, r"SELECT 'a\', $1");
        // An identifier ending in e is not an E'' prefix.
        assert_eq!(rw(r"SELECT name'\', ?").0, r"SELECT name'\', $1");
        // Unterminated literal: nothing after it is touched.
        assert_eq!(rw("SELECT ?, 'oops ?"), ("SELECT $1, 'oops ?".into(), 1));
        // Multi-byte text around placeholders.
        assert_eq!(rw("SELECT 'é?ü', ?, 'ß'").0, "SELECT 'é?ü', $1, 'ß'");
    }

    #[test]
    fn leaves_quoted_identifiers_alone() {
        assert_eq!(
            rw(r#"SELECT "what?" FROM "t""?" WHERE "a" = ?"#),
            (r#"SELECT "what?" FROM "t""?" WHERE "a" = $1"#.into(), 1)
        );
    }

    #[test]
    fn leaves_dollar_quoted_bodies_alone() {
        let f = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT '?'::text; SELECT ? $$";
        assert_eq!(rw(f), (f.to_owned(), 0));
        let tagged = "DO $body$ BEGIN RAISE NOTICE '?'; PERFORM ?; END $body$; SELECT ?";
        assert_eq!(
            rw(tagged).0,
            "DO $body$ BEGIN RAISE NOTICE '?'; PERFORM ?; END $body$; SELECT $1"
        );
        // A different tag inside does not close the body.
        assert_eq!(
            rw("SELECT $a$ $b$ ? $b$ ? $a$, ?").0,
            "SELECT $a$ $b$ ? $b$ ? $a$, $1"
        );
        // Positional parameters and `$` inside identifiers are not quotes.
        assert_eq!(rw("SELECT $1, ?").0, "SELECT $1, $1");
        assert_eq!(
            rw("SELECT a$b$c, ?, x$ FROM t$ WHERE y = ?").0,
            "SELECT a$b$c, $1, x$ FROM t$ WHERE y = $2"
        );
        // Unterminated body.
        assert_eq!(rw("SELECT ?, $$ ? "), ("SELECT $1, $$ ? ".into(), 1));
    }

    #[test]
    fn leaves_comments_alone() {
        assert_eq!(
            rw("SELECT ? -- why?\n, ? /* and ? /* nested ? */ still? */ , ?"),
            (
                "SELECT $1 -- why?\n, $2 /* and ? /* nested ? */ still? */ , $3".into(),
                3
            )
        );
        assert_eq!(
            rw("SELECT ? -- trailing ?"),
            ("SELECT $1 -- trailing ?".into(), 1)
        );
        // A lone minus or slash is an operator.
        assert_eq!(rw("SELECT ? - ?, ? / ?").0, "SELECT $1 - $2, $3 / $4");
    }

    #[test]
    fn finds_url_secrets() {
        let url = "postgres://me:p%40ss@h:5432/db?sslmode=disable&password=other";
        let secrets = url_secrets(url);
        assert!(secrets.contains(&"p%40ss".to_owned()));
        assert!(secrets.contains(&"p@ss".to_owned()));
        assert!(secrets.contains(&"other".to_owned()));
        let shown = location_of(url);
        assert!(
            !shown.contains("p%40ss") && !shown.contains("other"),
            "{shown}"
        );
        assert_eq!(location_of("postgres://h/db"), "postgres://h/db");
        assert_eq!(scrub("failed for p@ss", url), "failed for ***");
    }

    #[test]
    fn encodes_values_by_target_type() {
        let enc = |v: Value, ty: Type| {
            let mut buf = BytesMut::new();
            v.to_sql_checked(&ty, &mut buf)
                .map(|n| (matches!(n, IsNull::Yes), buf.to_vec()))
        };
        assert_eq!(
            enc(Value::Int(-2), Type::INT8).unwrap().1,
            (-2i64).to_be_bytes()
        );
        assert_eq!(
            enc(Value::Int(7), Type::INT4).unwrap().1,
            7i32.to_be_bytes()
        );
        assert_eq!(
            enc(Value::Int(-7), Type::INT2).unwrap().1,
            (-7i16).to_be_bytes()
        );
        assert!(enc(Value::Int(i64::from(i32::MAX) + 1), Type::INT4).is_err());
        assert!(enc(Value::Int(40_000), Type::INT2).is_err());
        assert_eq!(enc(Value::Int(42), Type::TEXT).unwrap().1, b"42");
        assert_eq!(enc(Value::Int(1), Type::BOOL).unwrap().1, [1]);
        assert!(enc(Value::Int(2), Type::BOOL).is_err());
        assert!(enc(Value::Int(1), Type::FLOAT8).is_err());
        assert_eq!(
            enc(Value::Text("é".into()), Type::VARCHAR).unwrap().1,
            "é".as_bytes()
        );
        let err = enc(Value::Text("s3cret".into()), Type::INT8)
            .unwrap_err()
            .to_string();
        assert!(err.contains("int8") && !err.contains("s3cret"), "{err}");
        assert_eq!(
            enc(Value::Blob(vec![0, 255]), Type::BYTEA).unwrap().1,
            [0, 255]
        );
        assert!(enc(Value::Blob(vec![1]), Type::TEXT).is_err());
        for ty in [Type::INT8, Type::TEXT, Type::BYTEA, Type::JSONB] {
            assert!(enc(Value::Null, ty).unwrap().0);
        }
    }

    fn numeric(ndigits: u16, weight: i16, sign: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, 0] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn decodes_integral_numerics() {
        let dec = |raw: Vec<u8>| IntegralNumeric::from_sql(&Type::NUMERIC, &raw).map(|n| n.0);
        assert_eq!(dec(numeric(0, 0, 0, &[])).unwrap(), 0);
        assert_eq!(dec(numeric(1, 0, 0, &[42])).unwrap(), 42);
        assert_eq!(dec(numeric(2, 1, 0x4000, &[1, 2345])).unwrap(), -12_345);
        // 10^8: one stored group, weight 2.
        assert_eq!(dec(numeric(1, 2, 0, &[1])).unwrap(), 100_000_000);
        // i64::MAX = 922 3372 0368 5477 5807
        assert_eq!(
            dec(numeric(5, 4, 0, &[922, 3372, 368, 5477, 5807])).unwrap(),
            i64::MAX
        );
        assert_eq!(
            dec(numeric(5, 4, 0x4000, &[922, 3372, 368, 5477, 5808])).unwrap(),
            i64::MIN
        );
        assert!(dec(numeric(5, 4, 0, &[922, 3372, 368, 5477, 5808])).is_err());
        assert!(dec(numeric(2, 0, 0, &[1, 5000])).is_err()); // 1.5
        assert_eq!(dec(numeric(2, 0, 0, &[7, 0])).unwrap(), 7); // 7.0000
        assert!(dec(numeric(0, 0, 0xC000, &[])).is_err()); // NaN
        assert!(dec(numeric(1, 30, 0, &[1])).is_err()); // 10^120
    }
}
