//! Backend conformance: every check runs against SQLite (a temporary file,
//! always) and PostgreSQL (when `MEDLEDGER_TEST_PG_URL` names a server; with
//! `MEDLEDGER_REQUIRE_PG=1` a missing URL is a failure, not a skip).
//!
//! PostgreSQL checks share one database, so each gets its own schema
//! (`search_path` set through the URL's `options` parameter).

use medledger_ledger::store::{Backend, Conn, DbLocation, Dialect, Row, StoreError, Value};

mod common;

use common::{Target, each_backend, on_both};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn write(
    b: &mut dyn Backend,
    mut f: impl FnMut(&mut dyn Conn) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    b.write(&mut f)
}

fn read_rows(b: &mut dyn Backend, sql: &str, params: &[Value]) -> Vec<Row> {
    let mut out = Vec::new();
    b.read(&mut |c| {
        out = c.query(sql, params)?;
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    out
}

fn count(b: &mut dyn Backend, table: &str) -> i64 {
    read_rows(b, &format!("SELECT COUNT(*) FROM {table}"), &[])[0]
        .int(0)
        .unwrap()
}

const INSERT_ORG: &str = "INSERT INTO orgs (id, slug, name, created_at) VALUES (?, ?, ?, ?)";

fn org(id: i64, slug: &str) -> Vec<Value> {
    vec![
        id.into(),
        slug.into(),
        format!("Org {slug}").into(),
        "2026-01-01T00:00:00Z".into(),
    ]
}

const INSERT_AUDIT: &str = "INSERT INTO audit_log \
    (seq, at, org, actor, kind, subject, detail, prev_hash, hash, signature, key_id) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

fn audit_row(seq: i64) -> Vec<Value> {
    vec![
        seq.into(),
        "2026-01-01T00:00:00Z".into(),
        "acme".into(),
        "tester".into(),
        "coding_run".into(),
        format!("encounter:{seq}").into(),
        "{}".into(),
        vec![0u8; 32].into(),
        vec![seq as u8; 32].into(),
        Value::Null,
        Value::Null,
    ]
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// Every migration, in order, and the schema version after them.
const MIGRATIONS: [&str; 5] = [
    "V1__ledger",
    "V2__release_lookup",
    "V3__claim_posting",
    "V4__token_expiry",
    "V5__prior_auth",
];
const VERSION: u32 = 5;

fn check_migrate(b: &mut dyn Backend) {
    let first = b.migrate().expect("first migrate");
    assert_eq!(first.applied, MIGRATIONS);
    assert_eq!(first.version, VERSION);
    let second = b.migrate().expect("second migrate");
    assert!(second.applied.is_empty(), "{second:?}");
    assert_eq!(second.version, VERSION);
    // The lock row writers take is there.
    assert_eq!(
        read_rows(b, "SELECT id, note FROM ledger_lock", &[]).len(),
        1
    );
}

#[test]
fn migrate_from_empty_then_idempotent() {
    on_both("migrate", |t| {
        let mut b = t.open();
        check_migrate(b.as_mut());
        // A second connection sees the schema and applies nothing either.
        let again = t.open().migrate().expect("migrate again");
        assert!(again.applied.is_empty());
        assert_eq!(again.version, VERSION);
    });
}

fn check_concurrent_migrate(t: &Target) {
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let mut b = t.open();
                s.spawn(move || b.migrate())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut applied = Vec::new();
    for r in reports {
        let r = r.unwrap_or_else(|e| panic!("{}: concurrent migrate failed: {e}", t.label));
        assert_eq!(r.version, VERSION);
        applied.extend(r.applied);
    }
    applied.sort();
    assert_eq!(applied, MIGRATIONS, "{}", t.label);
}

#[test]
fn concurrent_migrations_apply_once_postgres() {
    // SQLite is migrated by one process at a time in practice (the embedded
    // default); PostgreSQL servers are shared, so this is checked there.
    if let Some(t) = common::postgres("concurrent_migrate") {
        check_concurrent_migrate(&t);
    }
}

fn check_round_trip(b: &mut dyn Backend) {
    let big: String = "0123456789abcdef".repeat(100 * 1024 / 16);
    let texts = [
        String::new(),
        "héllo wörld ✓ 医療 🩺 \u{10FFFF}".to_owned(),
        big,
    ];
    let ints = [i64::MIN, -1, 0, i64::MAX];
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    write(b, |c| {
        for (k, &id) in ints.iter().enumerate() {
            let slug = format!("slug-{k}");
            let name = texts[k % texts.len()].clone();
            c.exec(INSERT_ORG, &[id.into(), slug.into(), name.into(), "t".into()])?;
        }
        c.exec(
            "INSERT INTO org_keys (org_id, version, master_key_id, nonce, wrapped, created_at, retired) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                i64::MAX.into(),
                1i64.into(),
                "mk".into(),
                Vec::<u8>::new().into(),
                all_bytes.clone().into(),
                "t".into(),
                1i64.into(),
            ],
        )?;
        let mut row = audit_row(1);
        row[6] = texts[2].clone().into();
        c.exec(INSERT_AUDIT, &row)?;
        let mut row = audit_row(2);
        row[9] = all_bytes.clone().into();
        row[10] = "key-1".into();
        c.exec(INSERT_AUDIT, &row)?;
        Ok(())
    })
    .expect("insert");

    let rows = read_rows(b, "SELECT id, name FROM orgs ORDER BY id", &[]);
    let got: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.int(0).unwrap(), r.text(1).unwrap()))
        .collect();
    let want: Vec<(i64, String)> = ints
        .iter()
        .enumerate()
        .map(|(k, &id)| (id, texts[k % texts.len()].clone()))
        .collect();
    assert_eq!(got, want);
    // Every Int by equality, as a parameter.
    for &id in &ints {
        let rows = read_rows(b, "SELECT id FROM orgs WHERE id = ?", &[id.into()]);
        assert_eq!(rows, vec![Row(vec![Value::Int(id)])]);
    }
    // Texts by equality, as parameters.
    for t in &texts {
        let rows = read_rows(
            b,
            "SELECT COUNT(*) FROM orgs WHERE name = ?",
            &[t.clone().into()],
        );
        assert!(rows[0].int(0).unwrap() >= 1, "text {:?}", t.get(..20));
    }

    let keys = read_rows(
        b,
        "SELECT nonce, wrapped, retired, master_key_id FROM org_keys WHERE org_id = ? AND version = ?",
        &[i64::MAX.into(), 1i64.into()],
    );
    assert_eq!(
        keys,
        vec![Row(vec![
            Value::Blob(vec![]),
            Value::Blob(all_bytes.clone()),
            Value::Int(1),
            Value::Text("mk".into()),
        ])]
    );
    // Blob as a parameter.
    let by_blob = read_rows(
        b,
        "SELECT org_id FROM org_keys WHERE wrapped = ?",
        &[all_bytes.clone().into()],
    );
    assert_eq!(by_blob, vec![Row(vec![Value::Int(i64::MAX)])]);

    let audit = read_rows(
        b,
        "SELECT seq, detail, signature, key_id FROM audit_log ORDER BY seq",
        &[],
    );
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].0[2], Value::Null);
    assert_eq!(audit[0].0[3], Value::Null);
    assert_eq!(audit[0].opt_blob(2).unwrap(), None);
    assert_eq!(audit[0].opt_text(3).unwrap(), None);
    assert_eq!(audit[0].text(1).unwrap(), texts[2]);
    assert_eq!(audit[1].opt_blob(2).unwrap(), Some(all_bytes));
    assert_eq!(audit[1].opt_text(3).unwrap().as_deref(), Some("key-1"));

    // NULL parameters, and an explicit NULL read back.
    let nulls = read_rows(
        b,
        "SELECT COUNT(*) FROM audit_log WHERE signature IS NULL AND COALESCE(key_id, ?) = ?",
        &["none".into(), "none".into()],
    );
    assert_eq!(nulls[0].int(0).unwrap(), 1);
    write(b, |c| {
        c.exec("UPDATE org_keys SET wrapped = ? WHERE org_id = ?", &[vec![9u8].into(), i64::MAX.into()])?;
        c.exec(
            "INSERT INTO users (id, org_id, username, display_name, credential, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                1i64.into(),
                0i64.into(),
                "u".into(),
                "U".into(),
                Value::Null,
                Option::<String>::None.into(),
                "t".into(),
            ],
        )?;
        Ok(())
    })
    .unwrap();
    let user = read_rows(
        b,
        "SELECT credential, password_hash, disabled FROM users WHERE id = ?",
        &[1i64.into()],
    );
    assert_eq!(
        user,
        vec![Row(vec![Value::Null, Value::Null, Value::Int(0)])]
    );
}

#[test]
fn values_round_trip() {
    each_backend("round_trip", check_round_trip);
}

fn check_placeholders_and_inferred_types(b: &mut dyn Backend) {
    write(b, |c| {
        for id in 1..=5 {
            c.exec(INSERT_ORG, &org(id, &format!("o{id}")))?;
        }
        // A '?' inside a literal is not a placeholder.
        c.exec(
            INSERT_ORG,
            &[6i64.into(), "q?".into(), "what?".into(), "t".into()],
        )?;
        Ok(())
    })
    .unwrap();
    let r = read_rows(
        b,
        "SELECT id FROM orgs WHERE name = 'what?' AND slug = ? AND id > ?",
        &["q?".into(), 0i64.into()],
    );
    assert_eq!(r, vec![Row(vec![Value::Int(6)])]);
    // Aggregates and expressions come back as integers on both backends.
    let r = read_rows(
        b,
        "SELECT COALESCE(MAX(id), 0) + 1, COUNT(*), SUM(id), LENGTH(MIN(slug)) FROM orgs",
        &[],
    );
    assert_eq!(
        r,
        vec![Row(vec![
            Value::Int(7),
            Value::Int(6),
            Value::Int(21),
            Value::Int(2)
        ])]
    );
    let r = read_rows(
        b,
        "SELECT COALESCE(MAX(id), 0) + 1 FROM orgs WHERE id > ?",
        &[100i64.into()],
    );
    assert_eq!(r, vec![Row(vec![Value::Int(1)])]);
    let r = read_rows(
        b,
        "SELECT id FROM orgs ORDER BY id LIMIT ? OFFSET ?",
        &[2i64.into(), 1i64.into()],
    );
    assert_eq!(r, vec![Row(vec![Value::Int(2)]), Row(vec![Value::Int(3)])]);
    let r = read_rows(
        b,
        "SELECT id + ?, CASE WHEN id = ? THEN 1 ELSE 0 END FROM orgs WHERE id = 1",
        &[10i64.into(), 1i64.into()],
    );
    assert_eq!(r, vec![Row(vec![Value::Int(11), Value::Int(1)])]);
    let r = read_rows(
        b,
        "SELECT id FROM orgs WHERE id IN (?, ?, ?) ORDER BY id",
        &[5i64.into(), 3i64.into(), 99i64.into()],
    );
    assert_eq!(r, vec![Row(vec![Value::Int(3)]), Row(vec![Value::Int(5)])]);
    // `? + 1` makes PostgreSQL infer INTEGER (int4) for the parameter; an
    // explicit CAST keeps the full 64-bit range on both backends.
    let r = read_rows(b, "SELECT CAST(? AS BIGINT) + 1", &[(i64::MAX - 1).into()]);
    assert_eq!(r, vec![Row(vec![Value::Int(i64::MAX)])]);
    // Empty sets: SUM and MAX are NULL.
    let r = read_rows(b, "SELECT SUM(id), MAX(slug) FROM orgs WHERE id < 0", &[]);
    assert_eq!(r, vec![Row(vec![Value::Null, Value::Null])]);
}

#[test]
fn placeholders_and_inferred_types() {
    each_backend("inferred_types", check_placeholders_and_inferred_types);
}

fn check_write_commit_rollback_and_errors(b: &mut dyn Backend) {
    write(b, |c| {
        c.exec(INSERT_ORG, &org(1, "one"))?;
        Ok(())
    })
    .expect("commit");
    assert_eq!(count(b, "orgs"), 1);

    // An error returned from the closure rolls back everything done in it.
    let err = write(b, |c| {
        c.exec(INSERT_ORG, &org(2, "two"))?;
        c.exec(
            "UPDATE orgs SET name = ? WHERE id = ?",
            &["renamed".into(), 1i64.into()],
        )?;
        Err(StoreError::Corrupt {
            table: "orgs",
            id: 2,
            column: "name",
            message: "deliberate".into(),
        })
    })
    .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(count(b, "orgs"), 1);
    let name = read_rows(b, "SELECT name FROM orgs WHERE id = 1", &[]);
    assert_eq!(name[0].text(0).unwrap(), "Org one");

    // A failing statement: named by its head, never by its values.
    let secret = "s3cr3t-patient-Jane-Doe-1970";
    write(b, |c| {
        c.exec(INSERT_ORG, &org(3, secret))?;
        Ok(())
    })
    .unwrap();
    for params in [org(3, "dup-id-with-other-slug"), org(4, secret)] {
        let mut params = params;
        params[2] = secret.into();
        let err = write(b, |c| {
            c.exec(INSERT_ORG, &params)?;
            Ok(())
        })
        .unwrap_err();
        let text = format!("{err} / {err:?}");
        match &err {
            StoreError::Sql { statement, .. } => {
                assert!(statement.starts_with("INSERT INTO orgs"), "{text}")
            }
            other => panic!("expected a Sql error, got {other:?}"),
        }
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("dup-id-with-other-slug"), "{text}");
    }
    assert_eq!(count(b, "orgs"), 2);

    // A query error in a read, and a bad SQL text.
    let err = b
        .read(&mut |c| {
            c.query("SELECT nope FROM orgs WHERE slug = ?", &[secret.into()])
                .map(drop)
        })
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Sql { statement, .. } if statement.starts_with("SELECT nope FROM")),
        "{err}"
    );
    assert!(!err.to_string().contains(secret));

    // The backend is still usable after errors (PostgreSQL: the failed
    // transaction was rolled back, the statement cache is intact).
    write(b, |c| {
        c.exec(INSERT_ORG, &org(5, "five"))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(count(b, "orgs"), 3);

    // Reads cannot write (PostgreSQL: READ ONLY; SQLite: nothing to check).
    if b.dialect() == Dialect::Postgres {
        let err = b
            .read(&mut |c| c.exec(INSERT_ORG, &org(6, "six")).map(drop))
            .unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
    }
}

#[test]
fn write_commits_and_rolls_back() {
    each_backend("write_rollback", check_write_commit_rollback_and_errors);
}

fn check_query_each_streams(b: &mut dyn Backend) {
    const N: i64 = 10_000;
    write(b, |c| {
        for seq in 1..=N {
            c.exec(INSERT_AUDIT, &audit_row(seq))?;
        }
        Ok(())
    })
    .unwrap();
    let mut next = 1;
    b.read(&mut |c| {
        c.query_each(
            "SELECT seq, hash FROM audit_log WHERE seq >= ? ORDER BY seq",
            &[1i64.into()],
            &mut |r| {
                assert_eq!(r.int(0)?, next);
                assert_eq!(r.blob(1)?, vec![next as u8; 32]);
                next += 1;
                Ok(())
            },
        )
    })
    .unwrap();
    assert_eq!(next, N + 1);

    // Stopping early: the callback's error comes back and the connection is
    // usable afterwards (the rest of the result is discarded).
    let mut seen = 0;
    let err = b
        .read(&mut |c| {
            c.query_each("SELECT seq FROM audit_log ORDER BY seq", &[], &mut |_| {
                seen += 1;
                if seen == 100 {
                    return Err(StoreError::Decode {
                        column: 0,
                        expected: "stop",
                    });
                }
                Ok(())
            })
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Decode {
                expected: "stop",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(seen, 100);
    assert_eq!(count(b, "audit_log"), N);
}

#[test]
fn query_each_streams_in_order() {
    each_backend("query_each", check_query_each_streams);
}

fn check_audit_append_only(b: &mut dyn Backend) {
    write(b, |c| {
        c.exec(INSERT_AUDIT, &audit_row(1))?;
        c.exec(INSERT_AUDIT, &audit_row(2))?;
        Ok(())
    })
    .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = ? WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2 AND actor <> ?",
    ] {
        let err = write(b, |c| c.exec(sql, &["mallory".into()]).map(drop)).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        assert!(!err.to_string().contains("mallory"), "{err}");
    }
    let rows = read_rows(b, "SELECT seq, actor FROM audit_log ORDER BY seq", &[]);
    assert_eq!(
        rows,
        vec![
            Row(vec![Value::Int(1), Value::Text("tester".into())]),
            Row(vec![Value::Int(2), Value::Text("tester".into())]),
        ]
    );
}

#[test]
fn audit_log_is_append_only() {
    each_backend("append_only", check_audit_append_only);
}

fn check_write_lock_serialises(t: &Target) {
    const PER_WRITER: i64 = 200;
    t.migrated();
    std::thread::scope(|s| {
        for writer in 0..2 {
            let mut b = t.open();
            s.spawn(move || {
                for i in 0..PER_WRITER {
                    write(b.as_mut(), |c| {
                        let next =
                            c.query("SELECT COALESCE(MAX(id), 0) + 1 FROM orgs", &[])?[0].int(0)?;
                        c.exec(INSERT_ORG, &org(next, &format!("w{writer}-{i}")))?;
                        Ok(())
                    })
                    .unwrap_or_else(|e| panic!("writer {writer}, write {i}: {e}"));
                }
            });
        }
    });
    let mut b = t.open();
    let ids: Vec<i64> = read_rows(b.as_mut(), "SELECT id FROM orgs ORDER BY id", &[])
        .iter()
        .map(|r| r.int(0).unwrap())
        .collect();
    assert_eq!(ids, (1..=2 * PER_WRITER).collect::<Vec<_>>(), "{}", t.label);
}

#[test]
fn write_lock_serialises_writers() {
    on_both("write_lock", check_write_lock_serialises);
}

/// `url` with `password` in its user-info part.
fn with_password(url: &str, password: &str) -> String {
    let start = url.find("://").expect("a URL") + 3;
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{}{user}:{password}{}", &url[..start], &rest[at..])
        }
        None => format!("{}medledger:{password}@{rest}", &url[..start]),
    }
}

fn check_db_location(t: &Target) {
    // For PostgreSQL, add a password (ignored by the trust-auth test server)
    // and check it is never shown.
    let password = "pw-Zq8x-never-shown";
    let url = if t.label == "postgres" {
        with_password(&t.url, password)
    } else {
        format!("sqlite://{}", t.url)
    };
    let loc = DbLocation::parse(Some(&url), t.data_dir()).expect("parse");
    let mut b = loc
        .open()
        .unwrap_or_else(|e| panic!("open {}: {e}", t.label));
    b.migrate().expect("migrate");
    write(b.as_mut(), |c| c.exec(INSERT_ORG, &org(1, "one")).map(drop)).unwrap();
    assert_eq!(count(b.as_mut(), "orgs"), 1);
    let shown = format!("{} | {}", b.describe(), loc.describe());
    assert!(!shown.contains(password), "{shown}");
    match t.label {
        "postgres" => {
            assert_eq!(b.dialect(), Dialect::Postgres);
            assert!(b.describe().starts_with("postgres://"), "{shown}");
        }
        _ => {
            assert_eq!(b.dialect(), Dialect::Sqlite);
            assert!(b.describe().contains(&t.url), "{shown}");
        }
    }
}

#[test]
fn db_location_opens_both() {
    on_both("db_location", check_db_location);
}

#[test]
fn postgres_connect_error_hides_password() {
    // Nothing listens on port 1: the connection is refused.
    for url in [
        "postgres://medledger:hunter2-secret@127.0.0.1:1/medledger_test",
        "postgresql://medledger:hunter2-secret@127.0.0.1:1/medledger_test?password=hunter2-secret",
    ] {
        let err = match DbLocation::parse(Some(url), std::path::Path::new("/nonexistent"))
            .unwrap()
            .open()
        {
            Ok(_) => panic!("connected to port 1?"),
            Err(e) => e,
        };
        let text = format!("{err} / {err:?}");
        assert!(matches!(err, StoreError::Open { .. }), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("127.0.0.1:1"), "{text}");
        // The cause is spelled out, not just "error connecting to server".
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }
}

#[test]
fn postgres_swallowed_error_fails_the_commit() {
    // PostgreSQL aborts a transaction at its first failed statement; a
    // closure that ignores the error must not be told its write committed.
    let Some(t) = common::postgres("swallowed") else {
        return;
    };
    let mut b = t.migrated();
    write(b.as_mut(), |c| c.exec(INSERT_ORG, &org(1, "one")).map(drop)).unwrap();
    let err = write(b.as_mut(), |c| {
        c.exec(INSERT_ORG, &org(2, "two"))?;
        let _ = c.exec(INSERT_ORG, &org(1, "dup"));
        Ok(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("nothing was committed"), "{err}");
    assert_eq!(count(b.as_mut(), "orgs"), 1);
}
