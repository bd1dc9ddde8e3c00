//! The one set of schema migrations, shared by both backends.
//!
//! Each file in `migrations/` is written in the SQL that SQLite and
//! PostgreSQL share, with SQLite's type names. For PostgreSQL the type
//! names `INTEGER` and `BLOB` become `BIGINT` and `BYTEA`; the few lines
//! that cannot be shared (trigger bodies) sit between `-- dialect: sqlite`
//! or `-- dialect: postgres` and `-- dialect: all`. refinery applies them in
//! version order and records each with its checksum.

use super::StoreError;
use super::sql::Dialect;
use refinery::Migration;

/// `(name, SQL)` of every migration, in version order.
pub const MIGRATIONS: [(&str, &str); 5] = [
    (
        "V1__ledger",
        include_str!("../../migrations/V1__ledger.sql"),
    ),
    (
        "V2__release_lookup",
        include_str!("../../migrations/V2__release_lookup.sql"),
    ),
    (
        "V3__claim_posting",
        include_str!("../../migrations/V3__claim_posting.sql"),
    ),
    (
        "V4__token_expiry",
        include_str!("../../migrations/V4__token_expiry.sql"),
    ),
    (
        "V5__prior_auth",
        include_str!("../../migrations/V5__prior_auth.sql"),
    ),
];

/// The SQL of one migration for a dialect.
pub fn render(sql: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut keep = true;
    for line in sql.lines() {
        if let Some(which) = line.trim().strip_prefix("-- dialect:") {
            keep = match which.trim() {
                "sqlite" => dialect == Dialect::Sqlite,
                "postgres" => dialect == Dialect::Postgres,
                _ => true,
            };
            continue;
        }
        if !keep {
            continue;
        }
        match dialect {
            Dialect::Sqlite => out.push_str(line),
            Dialect::Postgres => out.push_str(&pg_types(line)),
        }
        out.push('\n');
    }
    out
}

/// `INTEGER` → `BIGINT`, `BLOB` → `BYTEA`, as whole words outside comments.
fn pg_types(line: &str) -> String {
    let (code, comment) = match line.find("--") {
        Some(i) => line.split_at(i),
        None => (line, ""),
    };
    let mut out = String::with_capacity(line.len() + 8);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "INTEGER" => "BIGINT",
            "BLOB" => "BYTEA",
            w => w,
        });
        word.clear();
    };
    for ch in code.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out.push_str(comment);
    out
}

/// The migrations for a dialect, as refinery runs them.
pub fn for_dialect(dialect: Dialect) -> Result<Vec<Migration>, StoreError> {
    MIGRATIONS
        .iter()
        .map(|(name, sql)| {
            Migration::unapplied(name, &render(sql, dialect)).map_err(|e| StoreError::Migrate {
                location: "built-in migrations".into(),
                message: format!("{name}: {e}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_dialect() {
        let sql = "CREATE TABLE t (a INTEGER, b BLOB, integer_count INTEGER); -- INTEGER stays\n\
                   -- dialect: sqlite\nSQLITE ONLY;\n-- dialect: postgres\nPG ONLY;\n-- dialect: all\nEND;";
        let pg = render(sql, Dialect::Postgres);
        assert!(
            pg.contains("a BIGINT, b BYTEA, integer_count BIGINT); -- INTEGER stays"),
            "{pg}"
        );
        assert!(pg.contains("PG ONLY;") && !pg.contains("SQLITE ONLY;") && pg.contains("END;"));
        let lite = render(sql, Dialect::Sqlite);
        assert!(
            lite.contains("a INTEGER, b BLOB")
                && lite.contains("SQLITE ONLY;")
                && !lite.contains("PG ONLY")
        );
    }

    #[test]
    fn every_migration_parses_for_both() {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let m = for_dialect(d).unwrap();
            assert_eq!(m.len(), MIGRATIONS.len());
        }
        let pg = render(MIGRATIONS[0].1, Dialect::Postgres);
        let code: String = pg
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!code.contains("INTEGER") && !code.contains("BLOB") && code.contains("plpgsql"));
        let lite = render(MIGRATIONS[0].1, Dialect::Sqlite);
        assert!(!lite.contains("plpgsql") && lite.contains("RAISE(ABORT"));
    }
}
