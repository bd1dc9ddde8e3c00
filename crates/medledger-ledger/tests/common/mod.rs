//! Test databases for the ledger's integration tests: SQLite always,
//! PostgreSQL when `MEDLEDGER_TEST_PG_URL` names a server (each test in its
//! own schema); `MEDLEDGER_REQUIRE_PG=1` turns a missing server into a failure.
#![allow(dead_code)]

use medledger_ledger::store::Backend;
use medledger_ledger::store::postgres::PostgresBackend;
use medledger_ledger::store::sqlite::SqliteBackend;

use std::path::{Path, PathBuf};

/// One database to test against; `open` gives a fresh connection to it.
pub struct Target {
    pub label: &'static str,
    /// What `DbLocation::parse` accepts for it.
    pub url: String,
    /// SQLite: the database file.
    pub path: Option<PathBuf>,
    /// PostgreSQL: the schema (dropped when the check passed).
    schema: Option<(String, String)>,
    pub dir: tempfile::TempDir,
}

impl Target {
    pub fn open(&self) -> Box<dyn Backend> {
        match &self.path {
            Some(path) => Box::new(SqliteBackend::open(path).expect("open sqlite")),
            None => Box::new(PostgresBackend::connect(&self.url).expect("connect postgres")),
        }
    }

    /// A fresh connection with the schema migrated.
    pub fn migrated(&self) -> Box<dyn Backend> {
        let mut b = self.open();
        b.migrate().expect("migrate");
        b
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.schema
            && !std::thread::panicking()
            && let Ok(mut admin) = postgres::Client::connect(base, postgres::NoTls)
        {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

pub fn sqlite(test: &str) -> Target {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{test}.sqlite3"));
    Target {
        label: "sqlite",
        url: path.display().to_string(),
        path: Some(path),
        schema: None,
        dir,
    }
}

/// The PostgreSQL target, or `None` (with a loud message) when no server
/// is configured.
pub fn postgres(test: &str) -> Option<Target> {
    let base = match std::env::var("MEDLEDGER_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().to_owned(),
        _ => {
            if std::env::var("MEDLEDGER_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("MEDLEDGER_REQUIRE_PG=1 but MEDLEDGER_TEST_PG_URL is not set");
            }
            // Straight to stderr, past the test harness's capture, so a
            // skipped backend is seen even when the tests pass.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "!!! {test}: skipped PostgreSQL: MEDLEDGER_TEST_PG_URL not set \
                 (start a server with scripts/pg-test-server.sh)"
            );
            return None;
        }
    };
    // Unique per process too, so concurrent runs on one server do not collide.
    let schema = format!("test_{test}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to MEDLEDGER_TEST_PG_URL: {e}"));
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("create test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    Some(Target {
        label: "postgres",
        url,
        path: None,
        schema: Some((base, schema)),
        dir: tempfile::tempdir().expect("tempdir"),
    })
}

/// Runs a check on SQLite, then on PostgreSQL when configured.
pub fn on_both(test: &str, check: impl Fn(&Target)) {
    let t = sqlite(test);
    eprintln!("-- {test} on {}", t.label);
    check(&t);
    if let Some(t) = postgres(test) {
        eprintln!("-- {test} on {}", t.label);
        check(&t);
    }
}

/// Runs a single-connection check on a fresh, migrated database of each backend.
pub fn each_backend(test: &str, check: fn(&mut dyn Backend)) {
    on_both(test, |t| check(t.migrated().as_mut()));
}
