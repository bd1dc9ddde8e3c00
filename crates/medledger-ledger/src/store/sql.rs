//! The narrow SQL interface both backends implement.
//!
//! Every query of the ledger is written once, in the portable subset of SQL
//! that SQLite and PostgreSQL share, with `?` placeholders (the PostgreSQL
//! backend numbers them `$1, $2, …`). Values cross the interface as
//! [`Value`]s: 64-bit integers, text, bytes or NULL — no floats, no booleans
//! (flags are 0/1 integers), timestamps as RFC 3339 text, dates as
//! `YYYY-MM-DD` text.

use super::StoreError;

/// One SQL value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// NULL.
    Null,
    /// `INTEGER` (SQLite) / `BIGINT` (PostgreSQL).
    Int(i64),
    /// `TEXT`.
    Text(String),
    /// `BLOB` (SQLite) / `BYTEA` (PostgreSQL).
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row: its values in `SELECT` order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, StoreError> {
        self.0.get(i).ok_or(StoreError::Decode {
            column: i,
            expected: "a column",
        })
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            _ => Err(StoreError::Decode {
                column: i,
                expected: "an integer",
            }),
        }
    }

    /// Column `i` as an integer or NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.at(i)? {
            Value::Text(v) => Ok(v.clone()),
            _ => Err(StoreError::Decode {
                column: i,
                expected: "text",
            }),
        }
    }

    /// Column `i` as text or NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Column `i` as bytes.
    pub fn blob(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Value::Blob(v) => Ok(v.clone()),
            _ => Err(StoreError::Decode {
                column: i,
                expected: "bytes",
            }),
        }
    }

    /// Column `i` as bytes or NULL.
    pub fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.blob(i).map(Some),
        }
    }
}

/// Which SQL dialect a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// SQLite 3 (embedded, rusqlite).
    Sqlite,
    /// PostgreSQL (postgres crate).
    Postgres,
}

/// A connection inside one transaction.
pub trait Conn {
    /// Runs a statement; returns the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs a query and collects its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs a query and hands each row to `f` as it is read (for scans that
    /// must not hold every row in memory, such as audit verification).
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// A result of [`Backend::migrate`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// Migrations applied by this call, as `V<n>__<name>`.
    pub applied: Vec<String>,
    /// The schema version after the call.
    pub version: u32,
}

/// Closure run inside a transaction.
pub type TxFn<'a> = dyn FnMut(&mut dyn Conn) -> Result<(), StoreError> + 'a;

/// A storage backend: one connection, transactions, migrations.
///
/// Writers are serialised: [`Backend::write`] takes the database's write lock
/// before running `f` (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a row lock on
/// `ledger_lock`), so ids allocated as `MAX(id) + 1` and the audit chain's
/// head are consistent even with several processes on one database.
pub trait Backend: Send {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// Applies pending migrations (idempotent).
    fn migrate(&mut self) -> Result<MigrationReport, StoreError>;
    /// Runs `f` in one serialisable write transaction and commits it durably
    /// (the commit is on disk when this returns `Ok`). Any error rolls back.
    fn write(&mut self, f: &mut TxFn<'_>) -> Result<(), StoreError>;
    /// Runs `f` in a read-only transaction (a consistent snapshot).
    fn read(&mut self, f: &mut TxFn<'_>) -> Result<(), StoreError>;
    /// Where the data lives, without credentials (for messages).
    fn describe(&self) -> String;
}
