//! The persistent store: one schema, one set of migrations per dialect, two
//! backends behind one narrow [`Backend`] interface.
//!
//! - [`sqlite`]: embedded SQLite (the default), a single file in WAL mode with
//!   `synchronous=FULL`, so a committed transaction survives a crash or a
//!   power cut.
//! - [`postgres`]: a PostgreSQL server selected by a `postgres://` URL.
//! - [`migrations`]: the one set of migrations both run (`migrations/`).
//!
//! The ledger's queries (in [`crate::ledger`]) are written once against
//! [`Conn`]; the backends differ only in connection handling, placeholder
//! syntax and the DDL type names of their migration files.

pub mod migrations;
pub mod postgres;
pub mod sql;
pub mod sqlite;

pub use sql::{Backend, Conn, Dialect, MigrationReport, Row, TxFn, Value};

use std::path::{Path, PathBuf};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one the ledger understands.
    #[error(
        "database URL {0:?} is not understood: give a file path, sqlite://PATH or postgres://…"
    )]
    BadUrl(String),
    /// The database could not be opened or reached.
    #[error("cannot open the database at {location}: {message}")]
    Open {
        /// Where (file path, or host/port/dbname without credentials).
        location: String,
        /// The driver's message.
        message: String,
    },
    /// Applying migrations failed.
    #[error("database migration failed on {location}: {message}")]
    Migrate {
        /// Where.
        location: String,
        /// The migration tool's message.
        message: String,
    },
    /// A statement failed (the SQL is named by its first words, never its values).
    #[error("database statement failed ({statement}): {message}")]
    Sql {
        /// The statement's leading text, e.g. `INSERT INTO decisions`.
        statement: String,
        /// The driver's message.
        message: String,
    },
    /// A column held a value of an unexpected type.
    #[error("column {column} of a result row is not {expected}")]
    Decode {
        /// 0-based column index.
        column: usize,
        /// What was expected.
        expected: &'static str,
    },
    /// A stored value is malformed (names table, row id and column).
    #[error("stored {table} row {id}, column {column}: {message}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row id.
        id: i64,
        /// Column.
        column: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The leading words of a statement, for error messages (never values).
pub(crate) fn statement_head(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(4).collect();
    words.join(" ")
}

/// Where a database lives, parsed from `--db URL` / `MEDLEDGER_DB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://` or `postgresql://`).
    Postgres(String),
}

/// File name of the default SQLite database in the data directory.
pub const DEFAULT_DB_FILE: &str = "ledger.sqlite3";

impl DbLocation {
    /// Parses a URL: a file path or `sqlite://PATH` (also `sqlite:PATH`) for
    /// SQLite, `postgres://…`/`postgresql://…` for PostgreSQL; `None` means the
    /// default SQLite file in `data_dir`.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(DbLocation::Sqlite(data_dir.join(DEFAULT_DB_FILE)));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbLocation::Postgres(url.to_owned()));
        }
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(StoreError::BadUrl(url.to_owned()));
            }
            return Ok(DbLocation::Sqlite(PathBuf::from(rest)));
        }
        if url.contains("://") {
            return Err(StoreError::BadUrl(redact_url(url)));
        }
        Ok(DbLocation::Sqlite(PathBuf::from(url)))
    }

    /// Opens the backend (migrations are not run; see [`Backend::migrate`]).
    pub fn open(&self) -> Result<Box<dyn Backend>, StoreError> {
        match self {
            DbLocation::Sqlite(path) => Ok(Box::new(sqlite::SqliteBackend::open(path)?)),
            DbLocation::Postgres(url) => Ok(Box::new(postgres::PostgresBackend::connect(url)?)),
        }
    }

    /// The location without credentials.
    pub fn describe(&self) -> String {
        match self {
            DbLocation::Sqlite(p) => format!("sqlite:{}", p.display()),
            DbLocation::Postgres(u) => redact_url(u),
        }
    }
}

/// A URL with any `user:password@` part removed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://{}", &url[..s], &url[a + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let d = Path::new("/data");
        assert_eq!(
            DbLocation::parse(None, d).unwrap(),
            DbLocation::Sqlite(d.join(DEFAULT_DB_FILE))
        );
        assert_eq!(
            DbLocation::parse(Some("sqlite:///tmp/x.db"), d).unwrap(),
            DbLocation::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            DbLocation::parse(Some("rel/x.db"), d).unwrap(),
            DbLocation::Sqlite("rel/x.db".into())
        );
        assert!(matches!(
            DbLocation::parse(Some("postgres://u:p@localhost/db"), d).unwrap(),
            DbLocation::Postgres(_)
        ));
        let err = DbLocation::parse(Some("mysql://u:secret@h/db"), d).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_url("postgres://me:pw@127.0.0.1:5432/ml"),
            "postgres://127.0.0.1:5432/ml"
        );
        assert_eq!(
            redact_url("postgres://localhost/ml"),
            "postgres://localhost/ml"
        );
    }
}
