//! The embedded SQLite backend (the default).
//!
//! One file in WAL mode with `synchronous=FULL` (every commit is fsynced
//! before it returns), foreign keys on, and a busy timeout so a second
//! process waits for the write lock instead of failing.

use super::sql::{Backend, Conn, Dialect, MigrationReport, Row, TxFn, Value};
use super::{StoreError, statement_head};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

fn sql_err(sql: &str, e: &rusqlite::Error) -> StoreError {
    StoreError::Sql {
        statement: statement_head(sql),
        message: e.to_string(),
    }
}

/// SQLite, one connection.
pub struct SqliteBackend {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteBackend {
    /// Opens (creating if needed) the database file and its directory.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |message: String| StoreError::Open {
            location: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(|e| open_err(e.to_string()))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| open_err(e.to_string()))?;
        #[cfg(unix)]
        restrict_permissions(path);
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The database holds ciphertext only, but its metadata is still nobody
/// else's business: owner-only like the key files.
#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

struct SqliteConn<'a>(&'a Connection);

impl Conn for SqliteConn<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(|e| sql_err(sql, &e))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(|e| sql_err(sql, &e))?;
        Ok(n as u64)
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
        let mut stmt = self.0.prepare_cached(sql).map_err(|e| sql_err(sql, &e))?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| sql_err(sql, &e))?;
        while let Some(r) = rows.next().map_err(|e| sql_err(sql, &e))? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                let v = r.get_ref(i).map_err(|e| sql_err(sql, &e))?;
                vals.push(match v {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                        Value::Int(x as i64)
                    }
                    ValueRef::Real(_) => {
                        return Err(StoreError::Decode {
                            column: i,
                            expected: "an integer, text or bytes (found a float)",
                        });
                    }
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            f(Row(vals))?;
        }
        Ok(())
    }
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn migrate(&mut self) -> Result<MigrationReport, StoreError> {
        let report = refinery::Runner::new(&super::migrations::for_dialect(Dialect::Sqlite)?)
            .run(&mut self.conn)
            .map_err(|e| StoreError::Migrate {
                location: self.path.display().to_string(),
                message: e.to_string(),
            })?;
        let applied = report
            .applied_migrations()
            .iter()
            .map(|m| format!("V{}__{}", m.version(), m.name()))
            .collect();
        let version = schema_version(&self.conn).map_err(|e| StoreError::Migrate {
            location: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(MigrationReport { applied, version })
    }

    fn write(&mut self, f: &mut TxFn<'_>) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err("BEGIN IMMEDIATE", &e))?;
        f(&mut SqliteConn(&tx))?;
        tx.commit().map_err(|e| sql_err("COMMIT", &e))
    }

    fn read(&mut self, f: &mut TxFn<'_>) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| sql_err("BEGIN", &e))?;
        f(&mut SqliteConn(&tx))?;
        tx.commit().map_err(|e| sql_err("COMMIT", &e))
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

fn schema_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|v| u32::try_from(v).unwrap_or(0))
}
