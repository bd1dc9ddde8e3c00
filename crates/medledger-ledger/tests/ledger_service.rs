//! The ledger service over both backends: the review workflow and policy,
//! the role × action matrix, organisation isolation, PHI at rest, key
//! rotation, and tampering with stored audit rows.

mod common;

use common::{Target, on_both};
use medledger_ledger::audit::ProblemKind;
use medledger_ledger::crypto::MasterKey;
use medledger_ledger::ledger::{
    AckPosting, Action, ClaimPosting, DecisionInput, EvidenceSpan, Ledger, LedgerConfig,
    LedgerError, NewClaim, NewEncounter, NewPatient, NewRemittance, NewSuggestion, NewUser,
    Principal, QueueFilter, RejectReason, RemittancePosting, ReviewPolicy, Role,
    render_packet_html,
};
use medledger_ledger::store::DbLocation;

const NAME: &str = "Zebulon Quixote-Marchbanks";
const DOB: &str = "1948-02-29";
const NOTE: &str = "Chief complaint: follow-up of chronic conditions.\n\
Assessment: Type 2 diabetes mellitus without complications, well controlled on metformin. \
Essential hypertension, blood pressure 128/76 today. Denies chest pain. \
Zebulon reports his marmalade-coloured cat Archimedes sleeps on the thermostat.\n\
Plan: continue metformin 500 mg twice daily; recheck HbA1c in three months.";

fn config(t: &Target, master: Option<&std::path::Path>) -> LedgerConfig {
    LedgerConfig {
        db: DbLocation::parse(Some(&t.url), t.data_dir()).unwrap(),
        data_dir: t.data_dir().to_path_buf(),
        master_key_file: master.map(|p| p.to_path_buf()),
        master_key_env: None,
        checkpoint_interval: 25,
    }
}

fn open(t: &Target) -> Ledger {
    Ledger::open(&config(t, None)).expect("open ledger").0
}

fn span(note: &str, needle: &str) -> EvidenceSpan {
    let b = note
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in note"));
    let start = note[..b].chars().count();
    EvidenceSpan {
        start,
        end: start + needle.chars().count(),
        text: needle.to_owned(),
    }
}

fn suggestion(code: &str, confidence: f64, evidence: &str) -> NewSuggestion {
    NewSuggestion {
        system: "ICD-10-CM".into(),
        code: code.into(),
        descriptor: format!("label of {code}"),
        confidence,
        flags: vec![],
        rule_ids: vec!["dict.title".into()],
        evidence: vec![span(NOTE, evidence)],
        logic: serde_json::json!({"rule": "dict.title", "matched_term": evidence}),
    }
}

fn encounter(name: &str, suggestions: Vec<NewSuggestion>) -> NewEncounter {
    NewEncounter {
        patient: NewPatient {
            name: name.into(),
            dob: DOB.into(),
            sex: Some("M".into()),
        },
        dos: "2026-03-02".into(),
        setting: "outpatient".into(),
        payer: Some("ACME".into()),
        expected_charge_cents: Some(15_000),
        note_text: NOTE.into(),
        note_kind: "progress_note".into(),
        engine_version: "medledger-coder/test".into(),
        model_version: Some("model-test".into()),
        codesets: vec!["icd10cm-2026".into()],
        duration_us: 1234,
        release_covers_dos: true,
        suggestions,
    }
}

fn two_codes() -> Vec<NewSuggestion> {
    vec![
        suggestion(
            "E11.9",
            0.97,
            "Type 2 diabetes mellitus without complications",
        ),
        suggestion("I10", 0.55, "Essential hypertension"),
    ]
}

fn user(
    l: &mut Ledger,
    op: &Principal,
    name: &str,
    cred: Option<&str>,
    roles: &[Role],
) -> Principal {
    l.add_user(
        op,
        &NewUser {
            username: name.into(),
            display_name: format!("{name} (display)"),
            credential: cred.map(str::to_owned),
            password: None,
            roles: roles.to_vec(),
        },
    )
    .unwrap();
    l.principal_for(&op.org, name).unwrap()
}

/// A policy with no HCC or first-release rule, so tests control routing by confidence.
fn lenient_policy(autonomous: bool) -> ReviewPolicy {
    let text = medledger_ledger::ledger::policy::DEFAULT_POLICY
        .replace("hcc_risk = true", "hcc_risk = false")
        .replace("new_codeset_release = true", "new_codeset_release = false")
        .replace("autonomous = true", &format!("autonomous = {autonomous}"))
        .replace(
            &format!("version = \"{}\"", ReviewPolicy::builtin().header.version),
            "version = \"test-1\"",
        );
    ReviewPolicy::parse(&text, "test").unwrap()
}

fn forbidden<T: std::fmt::Debug>(r: &Result<T, LedgerError>) -> bool {
    matches!(r, Err(LedgerError::Forbidden { .. }))
}

#[test]
fn review_workflow_end_to_end() {
    on_both("workflow", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
        let auditor = user(&mut l, &op, "bob", Some("CCS"), &[Role::Auditor]);
        let added = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        // default policy: no HCC map → every ICD-10-CM code needs review,
        // and the first release of the org is new
        assert_eq!(added.status, "needs_review");
        let rules: Vec<&str> = added
            .review_reasons
            .iter()
            .map(|r| r.rule.as_str())
            .collect();
        assert!(
            rules.contains(&"new_codeset_release") && rules.contains(&"confidence_below"),
            "{rules:?}"
        );
        assert_eq!(added.suggestions.len(), 2);

        let q = l.queue(&coder, &QueueFilter::default()).unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].encounter, q[0].suggestions, q[0].pending_required),
            (added.encounter, 2, 2)
        );
        assert_eq!(q[0].min_confidence, Some(0.55));
        let low = l
            .queue(
                &coder,
                &QueueFilter {
                    max_confidence: Some(0.5),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(low.is_empty());

        let v = l.open_encounter(&auditor, added.encounter).unwrap();
        assert_eq!(v.patient_name, NAME);
        assert_eq!(v.note, NOTE);
        assert_eq!(
            v.suggestions[0].evidence[0].text,
            "Type 2 diabetes mellitus without complications"
        );

        let (e11, i10) = (added.suggestions[0], added.suggestions[1]);
        let o = l
            .decide(&coder, e11, &DecisionInput::Accept { comment: None })
            .unwrap();
        assert_eq!((o.status.as_str(), o.pending_required), ("accepted", 1));
        assert!(o.finalised.is_none());
        // finalising now is refused: one required review is open
        let err = l.finalise(&coder, added.encounter).unwrap_err();
        assert!(matches!(err, LedgerError::Conflict(_)), "{err}");
        // an edit with new evidence (text filled from the note)
        let ev = span(NOTE, "blood pressure 128/76");
        let o = l
            .decide(
                &auditor,
                i10,
                &DecisionInput::Edit {
                    code: "i10".into(),
                    evidence: vec![EvidenceSpan {
                        text: String::new(),
                        ..ev.clone()
                    }],
                    comment: Some("BP documented".into()),
                },
            )
            .unwrap();
        let fin = o.finalised.expect("last required decision finalises");
        let codes: Vec<(&str, &str)> = fin
            .codes
            .iter()
            .map(|c| (c.code.as_str(), c.source.as_str()))
            .collect();
        assert_eq!(codes, [("E11.9", "reviewer"), ("I10", "reviewer")]);
        // finalised encounters take no more decisions
        let err = l
            .decide(&coder, e11, &DecisionInput::Accept { comment: None })
            .unwrap_err();
        assert!(matches!(err, LedgerError::Conflict(_)), "{err}");

        let pk = l.audit_packet(&auditor, added.encounter).unwrap();
        assert_eq!(pk.codes.len(), 2);
        assert_eq!(pk.codes[1].final_code.as_deref(), Some("I10"));
        assert_eq!(pk.codes[1].evidence[0].span.text, "blood pressure 128/76");
        assert_eq!(pk.codes[1].verifications[0].credential, "CCS");
        assert_eq!(pk.codes[1].verifications[0].reviewer, "bob");
        assert!(
            pk.codes[0].evidence[0]
                .after
                .starts_with(", well controlled"),
            "{:?}",
            pk.codes[0].evidence[0]
        );
        assert!(pk.chain.ok && pk.chain.entries > 5, "{:?}", pk.chain);
        let kinds: Vec<&str> = pk.audit_trail.iter().map(|e| e.kind.as_str()).collect();
        for k in [
            "coding_run",
            "phi_read",
            "suggestion_decision",
            "finalisation",
        ] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        assert!(
            pk.attestation.contains("bob (display) (CCS)"),
            "{}",
            pk.attestation
        );
        let html = render_packet_html(&pk);
        assert!(html.contains("<mark>blood pressure 128/76</mark>"));
        assert!(html.contains("CCS") && html.contains("Attestation"));
        // every PHI read is logged with who and which patient
        let report = l.verify_audit(&auditor).unwrap();
        assert!(report.ok, "{}", report.chain);

        let stats = l.review_stats(&auditor).unwrap();
        assert_eq!(stats.encounters_by_status.get("finalised"), Some(&1));
        assert_eq!(stats.decisions_by_action.get("accept"), Some(&1));
        assert_eq!(stats.agreement_rate, Some(0.5));
        // a second encounter for the same person links to the same patient
        let again = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        assert_eq!(again.patient, added.patient);
        assert!(!again.new_patient);
        let other = l
            .add_encounter(&coder, &encounter("Someone Else", two_codes()))
            .unwrap();
        assert_ne!(other.patient, added.patient);
    });
}

#[test]
fn policy_routes_and_finalises_autonomously() {
    on_both("autonomous", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let admin = user(&mut l, &op, "root", None, &[Role::Admin]);
        let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
        let id = l.set_policy(&admin, &lenient_policy(true)).unwrap();
        assert_eq!(l.policy(&coder).unwrap().header.version, "test-1");
        // all confident: finalised by the engine, under the policy
        let e = encounter(
            NAME,
            vec![suggestion(
                "E11.9",
                0.97,
                "Type 2 diabetes mellitus without complications",
            )],
        );
        let a = l.add_encounter(&coder, &e).unwrap();
        assert_eq!(a.status, "finalised");
        assert!(a.review_reasons.is_empty());
        let v = l.open_encounter(&coder, a.encounter).unwrap();
        assert_eq!(v.finalisation_mode.as_deref(), Some("autonomous"));
        assert_eq!(v.policy.as_ref().map(|p| p.id), Some(id));
        assert_eq!(v.final_codes[0].source, "engine");
        assert!(v.finalised_by.unwrap().starts_with("engine:"));
        // one low-confidence code: only that one is routed to a human
        // a confident code the engine flagged for a provider query: a human looks
        let mut flagged = suggestion("I10", 0.98, "Essential hypertension");
        flagged.flags = vec!["query_provider".into()];
        let q = l
            .add_encounter(&coder, &encounter(NAME, vec![flagged]))
            .unwrap();
        assert_eq!(q.status, "needs_review");
        assert_eq!(q.review_reasons.len(), 1, "{:?}", q.review_reasons);
        assert_eq!(q.review_reasons[0].rule, "engine_flag");
        assert_eq!(q.review_reasons[0].suggestion, Some(0));
        let b = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        assert_eq!(b.status, "needs_review");
        let v = l.open_encounter(&coder, b.encounter).unwrap();
        assert_eq!(
            v.suggestions
                .iter()
                .map(|s| s.requires_review)
                .collect::<Vec<_>>(),
            [false, true]
        );
        let o = l
            .decide(
                &coder,
                b.suggestions[1],
                &DecisionInput::Reject {
                    reason: RejectReason::NotDocumented,
                    comment: None,
                },
            )
            .unwrap();
        let f = o.finalised.unwrap();
        // the unreviewed confident code passes as engine-accepted, the rejected one is dropped
        assert_eq!(
            f.codes
                .iter()
                .map(|c| (c.code.as_str(), c.source.as_str()))
                .collect::<Vec<_>>(),
            [("E11.9", "engine")]
        );
        // reject "other" needs a comment
        let c = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        let err = l
            .decide(
                &coder,
                c.suggestions[1],
                &DecisionInput::Reject {
                    reason: RejectReason::Other,
                    comment: None,
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("comment"), "{err}");
        // a policy that allows nothing autonomous
        l.set_policy(&admin, &lenient_policy(false)).unwrap();
        let d = l.add_encounter(&coder, &e).unwrap();
        assert_eq!(d.status, "needs_review");
        assert_eq!(d.review_reasons[0].rule, "policy_not_autonomous");
        // an encounter without suggestions always goes to a coder
        let empty = l.add_encounter(&coder, &encounter(NAME, vec![])).unwrap();
        assert!(
            empty
                .review_reasons
                .iter()
                .any(|r| r.rule == "no_suggestions")
        );
        let f = l.finalise(&coder, empty.encounter).unwrap();
        assert!(f.codes.is_empty());
        assert!(l.verify_audit(&admin).unwrap().ok);
    });
}

#[test]
fn batch_is_all_or_nothing_and_suggestions_need_evidence() {
    on_both("batch", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
        let a = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        let batch = vec![
            (a.suggestions[0], DecisionInput::Accept { comment: None }),
            (999_999, DecisionInput::Accept { comment: None }),
        ];
        let err = l.decide_batch(&coder, &batch).unwrap_err();
        assert!(matches!(err, LedgerError::NotFound { .. }), "{err}");
        let v = l.open_encounter(&coder, a.encounter).unwrap();
        assert!(
            v.suggestions
                .iter()
                .all(|s| s.decisions.is_empty() && s.status == "pending")
        );
        let ok = l
            .decide_batch(
                &coder,
                &[
                    (a.suggestions[0], DecisionInput::Accept { comment: None }),
                    (a.suggestions[1], DecisionInput::Accept { comment: None }),
                ],
            )
            .unwrap();
        assert!(ok[1].finalised.is_some());
        // no evidence, no code; a span whose text does not match is refused, without echoing the note
        let mut bad = encounter(NAME, two_codes());
        bad.suggestions[0].evidence.clear();
        let err = l.add_encounter(&coder, &bad).unwrap_err().to_string();
        assert!(err.contains("no evidence"), "{err}");
        let mut bad = encounter(NAME, two_codes());
        bad.suggestions[0].evidence[0].text = "Type 2 diabetes mellitus with complications!".into();
        let err = l.add_encounter(&coder, &bad).unwrap_err().to_string();
        assert!(
            err.contains("does not match") && !err.contains("diabetes") && !err.contains(NAME),
            "{err}"
        );
        // a reviewer without a credential cannot decide
        let nocred = user(&mut l, &op, "nocred", None, &[Role::Coder]);
        let b = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        let err = l
            .decide(
                &nocred,
                b.suggestions[0],
                &DecisionInput::Accept { comment: None },
            )
            .unwrap_err();
        assert!(err.to_string().contains("credential"), "{err}");
    });
}

/// Parses tests/fixtures/role_matrix.txt: action → [coder, auditor, biller, admin, read_only, operator].
fn matrix() -> Vec<(String, [bool; 6])> {
    include_str!("fixtures/role_matrix.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 7, "{l}");
            let mut row = [false; 6];
            for (i, v) in f[1..].iter().enumerate() {
                row[i] = match *v {
                    "y" => true,
                    "n" => false,
                    other => panic!("bad cell {other} in {l}"),
                };
            }
            (f[0].to_owned(), row)
        })
        .collect()
}

#[test]
fn role_action_matrix_is_enforced_by_the_service() {
    on_both("roles", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let admin = user(&mut l, &op, "root", None, &[Role::Admin]);
        l.set_policy(&admin, &lenient_policy(false)).unwrap();
        let coder = user(&mut l, &op, "setup-coder", Some("CPC"), &[Role::Coder]);
        let roles = [
            Role::Coder,
            Role::Auditor,
            Role::Biller,
            Role::Admin,
            Role::ReadOnly,
        ];
        let mut principals: Vec<(String, Principal)> = roles
            .iter()
            .map(|r| {
                let name = format!("u-{}", r.as_str().replace('_', "-"));
                (
                    r.as_str().to_owned(),
                    user(&mut l, &op, &name, Some("CPC"), &[*r]),
                )
            })
            .collect();
        principals.push(("operator".into(), op.clone()));
        let rows = matrix();
        assert_eq!(
            rows.len(),
            Action::ALL.len(),
            "the fixture lists every action"
        );
        let mut checked = 0;
        for (col, (who, p)) in principals.iter().enumerate() {
            for (action, row) in &rows {
                let expected = row[col];
                // fresh material for each call
                let enc = l
                    .add_encounter(&coder, &encounter(NAME, two_codes()))
                    .unwrap();
                let empty = l.add_encounter(&coder, &encounter(NAME, vec![])).unwrap();
                let done = l.add_encounter(&coder, &encounter(NAME, vec![])).unwrap();
                l.finalise(&coder, done.encounter).unwrap();
                let outcome: Result<(), LedgerError> = match action.as_str() {
                    "add_encounter" => l.add_encounter(p, &encounter(NAME, two_codes())).map(drop),
                    "view_queue" => l.queue(p, &QueueFilter::default()).map(drop),
                    "view_phi" => l.open_encounter(p, enc.encounter).map(drop),
                    "decide" => l
                        .decide(
                            p,
                            enc.suggestions[0],
                            &DecisionInput::Accept { comment: None },
                        )
                        .map(drop),
                    "finalise" => l.finalise(p, empty.encounter).map(drop),
                    "export_packet" => l.audit_packet(p, enc.encounter).map(drop),
                    "manage_claims" => l
                        .create_claim(
                            p,
                            &NewClaim {
                                encounter: done.encounter,
                                payer: "ACME".into(),
                                claim_type: "professional".into(),
                                total_charge_cents: 100,
                                body: serde_json::json!({}),
                                control_number: None,
                            },
                        )
                        .map(drop),
                    "post_remittance" => l
                        .post_remittance(
                            p,
                            &NewRemittance {
                                claim: None,
                                payer: "ACME".into(),
                                paid_cents: 0,
                                adjustment_codes: vec![],
                                detail: serde_json::json!({}),
                            },
                        )
                        .map(drop),
                    "view_reports" => l.review_stats(p).map(drop),
                    "manage_users" => l
                        .add_user(
                            p,
                            &NewUser {
                                username: format!("new-{checked}"),
                                display_name: "n".into(),
                                credential: None,
                                password: None,
                                roles: vec![],
                            },
                        )
                        .map(drop),
                    "manage_policy" => l.set_policy(p, &lenient_policy(false)).map(drop),
                    "rotate_keys" => l.rotate_data_key(p).map(drop),
                    "verify_audit" => l.verify_audit(p).map(drop),
                    other => panic!("fixture action {other} has no call"),
                };
                if expected {
                    assert!(
                        outcome.is_ok(),
                        "{who} should be allowed to {action}: {outcome:?}"
                    );
                } else {
                    assert!(
                        forbidden(&outcome),
                        "{who} must be refused {action}: {outcome:?}"
                    );
                }
                // the code's table agrees with the fixture
                let a = Action::ALL.iter().find(|a| a.as_str() == action).unwrap();
                assert_eq!(p.may(*a), expected, "{who} × {action}");
                checked += 1;
            }
        }
        assert_eq!(checked, 6 * 13);
        assert!(l.verify_audit(&admin).unwrap().ok);
    });
}

#[test]
fn organisations_are_isolated() {
    on_both("orgs", |t| {
        let mut l = open(t);
        l.ensure_org("clinic-b", "Clinic B").unwrap();
        let op_a = l.operator("default").unwrap();
        let op_b = l.operator("clinic-b").unwrap();
        let a_coder = user(&mut l, &op_a, "ann", Some("CPC"), &[Role::Coder]);
        let b_auditor = user(
            &mut l,
            &op_b,
            "ann",
            Some("CCS"),
            &[Role::Auditor, Role::Coder],
        );
        let b_biller = user(&mut l, &op_b, "bill", None, &[Role::Biller]);
        assert_ne!(
            a_coder, b_auditor,
            "same username, different orgs, different users"
        );
        let a = l
            .add_encounter(&a_coder, &encounter(NAME, two_codes()))
            .unwrap();
        let nf = |r: Result<(), LedgerError>| matches!(r, Err(LedgerError::NotFound { .. }));
        assert!(nf(l.open_encounter(&b_auditor, a.encounter).map(drop)));
        assert!(nf(l.audit_packet(&b_auditor, a.encounter).map(drop)));
        assert!(nf(l
            .decide(
                &b_auditor,
                a.suggestions[0],
                &DecisionInput::Accept { comment: None }
            )
            .map(drop)));
        assert!(nf(l.finalise(&b_auditor, a.encounter).map(drop)));
        assert!(nf(l
            .create_claim(
                &b_biller,
                &NewClaim {
                    encounter: a.encounter,
                    payer: "X".into(),
                    claim_type: "professional".into(),
                    total_charge_cents: 1,
                    body: serde_json::json!({}),
                    control_number: None,
                }
            )
            .map(drop)));
        assert!(
            l.queue(
                &b_auditor,
                &QueueFilter {
                    status: Some("all".into()),
                    ..Default::default()
                }
            )
            .unwrap()
            .is_empty()
        );
        assert_eq!(
            l.review_stats(&b_auditor)
                .unwrap()
                .encounters_by_status
                .len(),
            0
        );
        // the same patient in org B is a different patient, under B's key
        let b = l
            .add_encounter(&b_auditor, &encounter(NAME, two_codes()))
            .unwrap();
        assert_ne!(a.patient, b.patient);
        assert_eq!(
            l.open_encounter(&b_auditor, b.encounter)
                .unwrap()
                .patient_name,
            NAME
        );
        // org A's decisions still work and A's rotation leaves B readable
        let a_admin = user(&mut l, &op_a, "root", None, &[Role::Admin]);
        l.rotate_data_key(&a_admin).unwrap();
        assert_eq!(
            l.open_encounter(&b_auditor, b.encounter).unwrap().note,
            NOTE
        );
        assert_eq!(l.open_encounter(&a_coder, a.encounter).unwrap().note, NOTE);
        // org B cannot use org A's user id through the name lookup either
        assert!(l.principal_for("clinic-b", "root").is_err());
    });
}

/// Every distinctive piece of PHI the tests store.
fn phi_needles() -> Vec<&'static str> {
    vec![
        NAME,
        "Quixote",
        DOB,
        "marmalade-coloured cat Archimedes",
        "sleeps on the thermostat",
        "well controlled on metformin",
        "blood pressure 128/76",
        "Type 2 diabetes mellitus without complications",
        "BP documented for sure",
    ]
}

fn store_phi(l: &mut Ledger) {
    let op = l.operator("default").unwrap();
    let coder = user(l, &op, "ann", Some("CPC"), &[Role::Coder]);
    let a = l
        .add_encounter(&coder, &encounter(NAME, two_codes()))
        .unwrap();
    l.decide(
        &coder,
        a.suggestions[1],
        &DecisionInput::Edit {
            code: "I10".into(),
            evidence: vec![span(NOTE, "blood pressure 128/76")],
            comment: Some("BP documented for sure".into()),
        },
    )
    .unwrap();
    l.open_encounter(&coder, a.encounter).unwrap();
}

#[test]
fn raw_storage_holds_no_plaintext_phi() {
    // SQLite: the database file and its WAL, byte for byte
    let t = common::sqlite("phi");
    {
        let mut l = open(&t);
        store_phi(&mut l);
        let path = t.path.clone().unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
            raw.extend(wal);
        }
        assert!(raw.len() > 4096);
        for needle in phi_needles() {
            assert!(
                !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "plaintext {needle:?} found in the SQLite storage"
            );
        }
        // the ids and codes are there (the grep would find text if it were stored)
        assert!(raw.windows(5).any(|w| w == b"E11.9"));
    }
    // PostgreSQL: every row of every table of the schema as text
    if let Some(t) = common::postgres("phi") {
        let mut l = open(&t);
        store_phi(&mut l);
        let mut c = postgres::Client::connect(&t.url, postgres::NoTls).unwrap();
        let tables: Vec<String> = c
            .query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(
            tables.iter().any(|t| t == "audit_log") && tables.len() >= 15,
            "{tables:?}"
        );
        let mut dump = String::new();
        for table in &tables {
            for r in c
                .query(&format!("SELECT t::text FROM {table} t"), &[])
                .unwrap()
            {
                dump.push_str(r.get::<_, &str>(0));
                dump.push('\n');
            }
        }
        assert!(dump.contains("E11.9"));
        for needle in phi_needles() {
            assert!(
                !dump.contains(needle),
                "plaintext {needle:?} found in PostgreSQL"
            );
            // bytea is dumped as hex: look for the hex form too
            let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
            assert!(
                !dump.contains(&hex),
                "hex of {needle:?} found in PostgreSQL"
            );
        }
    }
}

#[test]
fn phi_reads_are_logged() {
    on_both("phi_reads", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
        let a = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        let auditor = user(&mut l, &op, "bob", Some("CCS"), &[Role::Auditor]);
        l.open_encounter(&coder, a.encounter).unwrap();
        l.open_encounter(&auditor, a.encounter).unwrap();
        let pk = l.audit_packet(&auditor, a.encounter).unwrap();
        let reads: Vec<&str> = pk
            .audit_trail
            .iter()
            .filter(|e| e.kind == "phi_read")
            .map(|e| e.actor.as_str())
            .collect();
        assert_eq!(reads.len(), 2, "{reads:?}");
        assert!(
            reads[0].ends_with(":ann") && reads[1].ends_with(":bob"),
            "{reads:?}"
        );
        // audit entries never carry PHI
        let all = serde_json::to_string(&pk.audit_trail).unwrap();
        assert!(
            !all.contains("Zebulon") && !all.contains("metformin"),
            "{all}"
        );
    });
}

#[test]
fn data_and_master_key_rotation() {
    on_both("rotation", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
        let a = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        let r = l.rotate_data_key(&op).unwrap();
        assert_eq!(r.data_key_version, Some(2));
        assert!(r.resealed >= 5, "{r:?}");
        assert_eq!(
            l.open_encounter(&coder, a.encounter).unwrap().patient_name,
            NAME
        );
        // the patient index follows the new key: the same person still matches
        let again = l
            .add_encounter(&coder, &encounter(NAME, two_codes()))
            .unwrap();
        assert_eq!(again.patient, a.patient);
        drop(l);
        // a fresh process reads with the rotated key
        let mut l = open(t);
        let coder = l.principal_for("default", "ann").unwrap();
        assert_eq!(l.open_encounter(&coder, a.encounter).unwrap().note, NOTE);
        // master key rotation: the new key opens it, the old one no longer does
        let new_key = MasterKey::generate().unwrap();
        let new_path = t.data_dir().join("new-master.key");
        new_key.write_key_file(&new_path).unwrap();
        let op = l.operator("default").unwrap();
        let r = l
            .rotate_master_key(&op, MasterKey::load_file(&new_path).unwrap().0)
            .unwrap();
        assert!(r.rewrapped >= 1);
        assert_eq!(l.open_encounter(&coder, a.encounter).unwrap().note, NOTE);
        drop(l);
        let mut l = Ledger::open(&config(t, Some(&new_path))).unwrap().0;
        assert_eq!(l.open_encounter(&coder, a.encounter).unwrap().note, NOTE);
        drop(l);
        let mut old = open(t); // master.key in the data dir: the old key
        let err = old
            .open_encounter(&coder, a.encounter)
            .unwrap_err()
            .to_string();
        assert!(!err.contains(NAME) && !err.contains("metformin"), "{err}");
        assert!(l_is_crypto(&err), "{err}");
    });
}

fn l_is_crypto(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("key") || m.contains("decrypt") || m.contains("unwrap")
}

/// Tampering with stored audit rows, as someone with write access to the
/// database would (after dropping the append-only triggers).
#[test]
fn tampering_with_stored_audit_rows_is_detected() {
    on_both("tamper", |t| {
        let prepare = |t: &Target| -> (Ledger, Principal) {
            let mut l = open(t);
            let op = l.operator("default").unwrap();
            let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
            for _ in 0..4 {
                let a = l
                    .add_encounter(&coder, &encounter(NAME, two_codes()))
                    .unwrap();
                l.decide(
                    &coder,
                    a.suggestions[0],
                    &DecisionInput::Accept { comment: None },
                )
                .unwrap();
            }
            let auditor = user(&mut l, &op, "bob", Some("CCS"), &[Role::Auditor]);
            let r = l.verify_audit(&auditor).unwrap();
            assert!(r.ok, "{}", r.chain);
            assert!(r.entries >= 10, "{}", r.entries);
            (l, auditor)
        };
        let sql = |t: &Target, stmts: &[&str]| match &t.path {
            Some(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                c.execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;").unwrap();
                for s in stmts {
                    c.execute_batch(s).unwrap();
                }
            }
            None => {
                let mut c = postgres::Client::connect(&t.url, postgres::NoTls).unwrap();
                c.batch_execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
                    .unwrap();
                for s in stmts {
                    c.batch_execute(s).unwrap();
                }
            }
        };
        // the append-only trigger refuses changes first
        {
            let (_l, _) = prepare(t);
            let refused = match &t.path {
                Some(p) => rusqlite::Connection::open(p)
                    .unwrap()
                    .execute_batch("UPDATE audit_log SET actor = 'x' WHERE seq = 3")
                    .is_err(),
                None => postgres::Client::connect(&t.url, postgres::NoTls)
                    .unwrap()
                    .batch_execute("UPDATE audit_log SET actor = 'x' WHERE seq = 3")
                    .is_err(),
            };
            assert!(refused, "append-only trigger missing");
        }
        let cases: [(&str, Vec<&str>, ProblemKind, u64); 4] = [
            (
                "modify",
                vec!["UPDATE audit_log SET detail = '{\"decision\":\"reject\"}' WHERE seq = 5"],
                ProblemKind::HashMismatch,
                5,
            ),
            (
                "delete",
                vec!["DELETE FROM audit_log WHERE seq = 6"],
                ProblemKind::SequenceGap,
                7,
            ),
            (
                "reorder",
                vec![
                    "UPDATE audit_log SET seq = -1 WHERE seq = 4",
                    "UPDATE audit_log SET seq = 4 WHERE seq = 7",
                    "UPDATE audit_log SET seq = 7 WHERE seq = -1",
                ],
                ProblemKind::HashMismatch,
                4,
            ),
            (
                "insert",
                vec![
                    "INSERT INTO audit_log (seq, at, org, actor, kind, subject, detail, prev_hash, hash, signature, key_id) SELECT 1000000, at, org, actor, kind, subject, detail, prev_hash, hash, signature, key_id FROM audit_log WHERE seq = 8",
                ],
                ProblemKind::SequenceGap,
                1_000_000,
            ),
        ];
        for (name, stmts, kind, seq) in cases {
            // fresh database per case
            let tt = if t.path.is_some() {
                common::sqlite(&format!("tamper_{name}"))
            } else {
                common::postgres(&format!("tamper_{name}")).unwrap()
            };
            let (mut l, auditor) = prepare(&tt);
            sql(&tt, &stmts);
            let r = l.verify_audit(&auditor).unwrap();
            assert!(!r.ok, "{name}: tampering not detected");
            let kinds: Vec<String> = r
                .chain
                .problems
                .iter()
                .map(|p| format!("{:?}@{}", p.kind, p.seq))
                .collect();
            if name == "insert" {
                // a forged row after the head: its stored seq does not fit, it is
                // reported at the seq it would have had, as not hashing to its content
                let at = r.entries;
                assert!(
                    r.chain.has(ProblemKind::HashMismatch, at),
                    "{name}: expected HashMismatch at {at}, got {kinds:?} ({seq})"
                );
            } else {
                assert!(
                    r.chain.has(kind, seq) || r.chain.problems.iter().any(|p| p.seq == seq),
                    "{name}: expected {kind:?} at {seq}, got {kinds:?}"
                );
            }
            assert!(
                r.chain.problems.iter().all(|p| p.message.contains("entry")),
                "{kinds:?}"
            );
        }
    });
}

#[test]
fn remittances_and_acknowledgements_post_atomically() {
    on_both("posting", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let coder = user(&mut l, &op, "ann", Some("CPC"), &[Role::Coder]);
        let biller = user(&mut l, &op, "bill", None, &[Role::Biller]);
        let mut claims = Vec::new();
        for pcn in ["PCN-1", "PCN-2"] {
            let e = l.add_encounter(&coder, &encounter(NAME, vec![])).unwrap();
            l.finalise(&coder, e.encounter).unwrap();
            claims.push(
                l.create_claim(
                    &biller,
                    &NewClaim {
                        encounter: e.encounter,
                        payer: "ACME".into(),
                        claim_type: "professional".into(),
                        total_charge_cents: 20_000,
                        body: serde_json::json!({"id": pcn}),
                        control_number: Some(pcn.into()),
                    },
                )
                .unwrap(),
            );
        }
        assert_eq!(
            l.claim_by_control_number(&biller, "PCN-2").unwrap(),
            Some(claims[1])
        );
        let unmatched = l
            .post_acks(
                &biller,
                &[
                    AckPosting {
                        control_number: "PCN-1".into(),
                        accepted: true,
                        detail: serde_json::json!({"source": "277CA", "stc": "A1:20"}),
                    },
                    AckPosting {
                        control_number: "NOPE".into(),
                        accepted: false,
                        detail: serde_json::json!({}),
                    },
                ],
            )
            .unwrap();
        assert_eq!(unmatched, ["NOPE"]);
        assert_eq!(l.claim(&biller, claims[0]).unwrap().status, "accepted");
        let remit = RemittancePosting {
            payer: "ACME".into(),
            trace: Some("EFT123".into()),
            total_paid_cents: 15_000,
            claims: vec![
                ClaimPosting {
                    control_number: "PCN-1".into(),
                    status_code: "1".into(),
                    charge_cents: 20_000,
                    paid_cents: 15_000,
                    patient_responsibility_cents: 2_000,
                    payer_claim_control_number: Some("PAYER-9".into()),
                    adjustments: vec![
                        ("CO".into(), "45".into(), 1_000),
                        ("PR".into(), "2".into(), 2_000),
                    ],
                    remarks: vec!["N130".into()],
                },
                ClaimPosting {
                    control_number: "PCN-2".into(),
                    status_code: "4".into(),
                    charge_cents: 20_000,
                    paid_cents: 0,
                    patient_responsibility_cents: 0,
                    payer_claim_control_number: None,
                    adjustments: vec![("CO".into(), "197".into(), 20_000)],
                    remarks: vec![],
                },
                ClaimPosting {
                    control_number: "UNKNOWN".into(),
                    status_code: "1".into(),
                    charge_cents: 1,
                    paid_cents: 1,
                    patient_responsibility_cents: 0,
                    payer_claim_control_number: None,
                    adjustments: vec![],
                    remarks: vec![],
                },
            ],
        };
        // a coder may not post money
        assert!(forbidden(&l.post_835(&coder, &remit)));
        let r = l.post_835(&biller, &remit).unwrap();
        assert_eq!(r.unmatched, ["UNKNOWN"]);
        assert_eq!(r.posted_paid_cents, 15_000);
        assert_eq!(r.posted[0].status, "paid");
        assert_eq!(
            (
                r.posted[0].paid_cents,
                r.posted[0].patient_responsibility_cents,
                r.posted[0].adjustment_cents
            ),
            (15_000, 2_000, 3_000)
        );
        assert_eq!(
            (r.posted[1].status.as_str(), r.posted[1].denied_cents),
            ("denied", 20_000)
        );
        let c = l.claim(&biller, claims[0]).unwrap();
        let statuses: Vec<&str> = c.history.iter().map(|h| h.0.as_str()).collect();
        assert_eq!(statuses, ["built", "accepted", "paid"]);
        // a reversal nets the payment out
        let reversal = RemittancePosting {
            claims: vec![ClaimPosting {
                status_code: "22".into(),
                paid_cents: -15_000,
                patient_responsibility_cents: -2_000,
                adjustments: vec![],
                ..remit.claims[0].clone()
            }],
            ..remit.clone()
        };
        let r = l.post_835(&biller, &reversal).unwrap();
        assert_eq!(
            (r.posted[0].status.as_str(), r.posted[0].paid_cents),
            ("reversed", 0)
        );
        assert!(l.verify_audit(&op).unwrap().ok);
    });
}

#[test]
fn passwords_and_api_tokens_authenticate() {
    on_both("auth", |t| {
        let mut l = open(t);
        let op = l.operator("default").unwrap();
        let pw = secrecy::SecretString::from("correct horse battery staple".to_owned());
        let u = l
            .add_user(
                &op,
                &NewUser {
                    username: "ann".into(),
                    display_name: "Ann".into(),
                    credential: Some("CPC".into()),
                    password: Some(pw.clone()),
                    roles: vec![Role::Coder],
                },
            )
            .unwrap();
        let p = l.login("default", "ann", &pw).unwrap();
        assert_eq!(p.user_id(), Some(u.id));
        assert!(p.may(Action::Decide) && !p.may(Action::ManageUsers));
        let wrong = secrecy::SecretString::from("correct horse battery stapler".to_owned());
        assert!(matches!(
            l.login("default", "ann", &wrong),
            Err(LedgerError::Unauthenticated)
        ));
        assert!(matches!(
            l.login("default", "nobody", &pw),
            Err(LedgerError::Unauthenticated)
        ));
        assert!(matches!(
            l.login("other-org", "ann", &pw),
            Err(LedgerError::Unauthenticated)
        ));
        // short passwords are refused
        let short = NewUser {
            username: "bob".into(),
            display_name: "Bob".into(),
            credential: None,
            password: Some(secrecy::SecretString::from("short".to_owned())),
            roles: vec![],
        };
        assert!(
            l.add_user(&op, &short)
                .unwrap_err()
                .to_string()
                .contains("12")
        );
        // tokens: shown once, stored hashed, authenticate to the same user
        use secrecy::ExposeSecret as _;
        let token = l.issue_token(&op, "ann", "ehr").unwrap();
        assert!(token.expose_secret().starts_with("mlt_"));
        let by_token = l.authenticate_token(token.expose_secret()).unwrap();
        assert_eq!(by_token.user_id(), Some(u.id));
        assert!(matches!(
            l.authenticate_token("mlt_forged"),
            Err(LedgerError::Unauthenticated)
        ));
        // the token is not stored in the clear
        if let Some(path) = &t.path {
            let raw = std::fs::read(path).unwrap();
            let mut all = raw;
            if let Ok(w) = std::fs::read(format!("{}-wal", path.display())) {
                all.extend(w);
            }
            let tok = token.expose_secret().as_bytes();
            assert!(!all.windows(tok.len()).any(|w| w == tok));
        }
        // revoking the coder role takes effect at once
        l.set_role(&op, "ann", Role::Coder, false).unwrap();
        let p = l.authenticate_token(token.expose_secret()).unwrap();
        assert!(!p.may(Action::Decide));
    });
}
