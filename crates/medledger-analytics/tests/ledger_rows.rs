//! The ledger side end to end: the V5 prior-authorisation register, its
//! role checks, and the gold-card report over what the ledger returns.

use medledger_analytics::goldcard::{Config, Status, gold_card};
use medledger_analytics::load::{history_from_ledger, observations_from_ledger};
use medledger_analytics::spec::parse_day;
use medledger_ledger::ledger::history_rows::NewPriorAuth;
use medledger_ledger::ledger::{Ledger, LedgerConfig, LedgerError, NewUser, Role};
use medledger_ledger::store::DbLocation;

fn open(dir: &std::path::Path) -> Ledger {
    let cfg = LedgerConfig {
        db: DbLocation::parse(None, dir).unwrap(),
        data_dir: dir.to_path_buf(),
        master_key_file: None,
        master_key_env: None,
        checkpoint_interval: 25,
    };
    Ledger::open(&cfg).expect("open ledger").0
}

fn request(day: &str, decided: Option<(&str, bool)>) -> NewPriorAuth {
    NewPriorAuth {
        payer: "AETNA".into(),
        program: "TX".into(),
        provider: "1234567893".into(),
        code: "72148".into(),
        requested_on: day.into(),
        decided_on: decided.map(|d| d.0.to_owned()),
        approved: decided.map(|d| d.1),
        reference: None,
    }
}

#[test]
fn prior_auth_register_feeds_the_gold_card() {
    let tmp = tempfile::tempdir().unwrap();
    let mut l = open(tmp.path());
    let op = l.operator("default").unwrap();
    for (name, role) in [
        ("cora", Role::Coder),
        ("bill", Role::Biller),
        ("ada", Role::Auditor),
    ] {
        l.add_user(
            &op,
            &NewUser {
                username: name.into(),
                display_name: name.into(),
                credential: None,
                password: None,
                roles: vec![role],
            },
        )
        .unwrap();
    }
    let coder = l.principal_for("default", "cora").unwrap();
    let biller = l.principal_for("default", "bill").unwrap();
    let auditor = l.principal_for("default", "ada").unwrap();

    // 6 requests in 2026-H1: 4 approved, 1 denied, 1 pending.
    for i in 0..4 {
        l.record_prior_auth(
            &biller,
            &request(&format!("2026-02-0{}", i + 1), Some(("2026-02-20", true))),
        )
        .unwrap();
    }
    l.record_prior_auth(&biller, &request("2026-03-01", Some(("2026-03-05", false))))
        .unwrap();
    let pending = l
        .record_prior_auth(&biller, &request("2026-03-02", None))
        .unwrap();

    // Only billers (and the operator) record; coders see no reports.
    assert!(matches!(
        l.record_prior_auth(&auditor, &request("2026-03-03", None)),
        Err(LedgerError::Forbidden { .. })
    ));
    assert!(matches!(
        l.prior_auths(&coder),
        Err(LedgerError::Forbidden { .. })
    ));
    assert!(matches!(
        history_from_ledger(&mut l, &coder),
        Err(medledger_analytics::AnalyticsError::Ledger(
            LedgerError::Forbidden { .. }
        ))
    ));
    // Bad input names its field.
    let e = l
        .record_prior_auth(&biller, &request("2026-02-30", None))
        .unwrap_err();
    assert!(e.to_string().starts_with("requested_on:"), "{e}");

    let as_of = parse_day("x", "2026-04-01").unwrap();
    let h = history_from_ledger(&mut l, &auditor).unwrap();
    assert_eq!(h.prior_auths.len(), 6);
    let r = gold_card(&h, &Config::default(), as_of).unwrap();
    let s = &r.standings[0];
    // Projected Jul 1: (4 + 1 pending) / 6 = 83.3 % < 90 % → not exempt.
    assert_eq!(
        (
            s.projected.approved,
            s.projected.denied,
            s.projected.pending
        ),
        (4, 1, 1)
    );
    assert_eq!(s.projected.status, Status::NotExempt);

    // Deciding it: approved, once only, not before the request.
    assert!(
        l.decide_prior_auth(&biller, pending, true, "2026-03-01")
            .is_err()
    );
    let rec = l
        .decide_prior_auth(&biller, pending, true, "2026-03-09")
        .unwrap();
    assert_eq!(rec.approved, Some(true));
    assert!(matches!(
        l.decide_prior_auth(&biller, pending, false, "2026-03-10"),
        Err(LedgerError::Conflict(_))
    ));
    let listed = l.prior_auths(&auditor).unwrap();
    assert_eq!(listed.iter().filter(|r| r.approved.is_none()).count(), 0);

    // Another organisation sees none of it.
    l.ensure_org("other", "Other clinic").unwrap();
    let other = l.operator("other").unwrap();
    assert!(l.prior_auths(&other).unwrap().is_empty());

    // No coding yet: no drift observations.
    let o = observations_from_ledger(&mut l, &auditor).unwrap();
    assert!(o.decided.is_empty() && o.finalised.is_empty());
}
