//! The HTTP API through the router (`oneshot`, no socket): the review round
//! trip, the role × endpoint matrix, organisation isolation, hostile input
//! and the OpenAPI document's completeness.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::{NOTE, Req, TestServer, shared};
use medledger_ledger::ledger::{Action, Role, role_allows};
use serde_json::{Value, json};

const PATIENT_NAME: &str = "Ada Testpatient";

/// Login → add encounter → queue → open → accept/reject → finalise → claim
/// build + scrub → 837 → audit packet HTML. Shared with the PostgreSQL test.
pub async fn round_trip(s: &TestServer) {
    s.user_with_password(
        "default",
        "cora",
        &[Role::Coder],
        Some("CPC"),
        Some("correct horse battery"),
    );
    let bill = s.user("default", "bill", &[Role::Biller], None);
    let audrey = s.user("default", "audrey", &[Role::Auditor], Some("CCS"));

    // login: the same 401 for a wrong password and an unknown user
    let bad = s
        .post(
            "/api/v1/login",
            None,
            &json!({"username": "cora", "password": "wrong password!"}),
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let unknown = s
        .post(
            "/api/v1/login",
            None,
            &json!({"username": "nobody", "password": "correct horse battery"}),
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(bad["detail"], unknown["detail"]);
    let login = s
        .post(
            "/api/v1/login",
            None,
            &json!({"org": "default", "username": "cora", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let login = login.json();
    let cora = login["token"].as_str().unwrap().to_owned();
    assert!(cora.starts_with("mlt_"));
    assert!(
        login["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{login}"
    );
    assert_eq!(
        login["user"],
        json!({"username": "cora", "display_name": "cora (test)", "roles": ["coder"], "credential": "CPC", "org": "default"})
    );
    let me = s.get("/api/v1/me", Some(&cora)).await.json();
    assert_eq!(me, login["user"]);

    // add: coded and stored
    let added = s.add_encounter(&cora, NOTE).await;
    let enc = added["encounter"].as_i64().unwrap();
    let sids: Vec<i64> = added["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(sids.len() >= 2, "{added}");
    assert_eq!(added["status"], "needs_review", "{added}");

    // queue: no PHI
    let q = s
        .get("/api/v1/queue?status=open&limit=10", Some(&cora))
        .await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(!q.text().contains(PATIENT_NAME));
    let q = q.json();
    assert_eq!(q[0]["encounter"], enc, "{q}");
    assert_eq!(q[0]["pending_required"].as_i64(), Some(sids.len() as i64));

    // open: the note and the suggestions with evidence
    let v = s
        .get(&format!("/api/v1/encounters/{enc}"), Some(&cora))
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let v = v.json();
    assert_eq!(v["patient_name"], PATIENT_NAME);
    assert_eq!(v["note"], NOTE);
    let codes: Vec<String> = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(codes.iter().any(|c| c.starts_with("I10")), "{codes:?}");
    assert!(codes.iter().any(|c| c.starts_with("E11")), "{codes:?}");

    // the reject reasons
    let rr = s.get("/api/v1/reject-reasons", Some(&cora)).await.json();
    assert!(
        rr.as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"] == "negated")
    );

    // decide: reject all but one (one in a batch), accept the first
    if sids.len() > 2 {
        let batch: Vec<Value> = sids[2..]
            .iter()
            .map(|sid| json!({"suggestion": sid, "decision": {"action": "reject", "reason": "not_documented", "comment": "synthetic"}}))
            .collect();
        let r = s
            .post(
                &format!("/api/v1/encounters/{enc}/decisions"),
                Some(&cora),
                &json!(batch),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json().as_array().unwrap().len(), sids.len() - 2);
    }
    let r = s
        .post(
            &format!("/api/v1/encounters/{enc}/suggestions/{}/decision", sids[1]),
            Some(&cora),
            &json!({"action": "reject", "reason": "duplicate"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "rejected");
    let r = s
        .post(
            &format!("/api/v1/encounters/{enc}/suggestions/{}/decision", sids[0]),
            Some(&cora),
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let last = r.json();
    assert_eq!(last["pending_required"], 0, "{last}");
    // the last required decision finalised it; finalising again conflicts
    let fin = s
        .call(Req::new(
            Method::POST,
            &format!("/api/v1/encounters/{enc}/finalise"),
            Some(&cora),
        ))
        .await;
    if last["finalised"].is_null() {
        assert_eq!(fin.status, StatusCode::OK, "{}", fin.text());
        assert_eq!(fin.json()["encounter"], enc);
    } else {
        assert_eq!(last["finalised"]["mode"], "human");
        fin.problem(StatusCode::CONFLICT);
    }
    // finalised encounters take no more decisions
    s.post(
        &format!("/api/v1/encounters/{enc}/suggestions/{}/decision", sids[1]),
        Some(&cora),
        &json!({"action": "accept"}),
    )
    .await
    .problem(StatusCode::CONFLICT);

    // E/M of the stored note
    let em = s
        .get(&format!("/api/v1/encounters/{enc}/em"), Some(&cora))
        .await;
    assert_eq!(em.status, StatusCode::OK, "{}", em.text());
    assert!(
        em.json()["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("99"))
    );

    // claim: built from the final codes with the server's template, scrubbed
    let built = s
        .post(
            &format!("/api/v1/encounters/{enc}/claim"),
            Some(&bill),
            &json!({}),
        )
        .await;
    assert_eq!(built.status, StatusCode::CREATED, "{}", built.text());
    let built = built.json();
    let claim_id = built["claim_id"].as_i64().unwrap();
    assert_eq!(built["claim"]["encounter"], enc);
    let dx: Vec<&str> = built["claim"]["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(dx, [codes[0].replace('.', "")], "{built}");
    assert!(built["scrub"]["clean"].is_boolean() && built["scrub"]["findings"].is_array());
    // the stored claim and a stateless scrub of its body agree
    let got = s
        .get(&format!("/api/v1/claims/{claim_id}"), Some(&bill))
        .await
        .json();
    assert_eq!(got["id"], claim_id);
    assert_eq!(got["status"], "built");
    assert_eq!(got["claim"], built["claim"]);
    let scrub = s
        .post("/api/v1/claims/scrub", Some(&bill), &built["claim"])
        .await;
    assert_eq!(scrub.status, StatusCode::OK, "{}", scrub.text());
    assert_eq!(scrub.json(), got["scrub"]);
    // 837
    let x = s
        .get(&format!("/api/v1/claims/{claim_id}/837"), Some(&bill))
        .await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text());
    assert!(x.content_type().starts_with("text/plain"));
    let x = x.text();
    assert!(
        x.starts_with("ISA*")
            && x.contains("ST*837*")
            && x.contains(&format!("CLM*{}*", built["claim"]["id"].as_str().unwrap())),
        "{x}"
    );
    assert!(x.contains(dx[0]));

    // the audit packet: JSON and a downloadable HTML page
    let pk = s
        .get(
            &format!("/api/v1/encounters/{enc}/audit-packet"),
            Some(&audrey),
        )
        .await;
    assert_eq!(pk.status, StatusCode::OK, "{}", pk.text());
    let pk = pk.json();
    assert_eq!(pk["encounter"], enc);
    assert!(
        pk["chain"]["ok"].as_bool().unwrap_or(false)
            || pk["chain_at_export"]["ok"].as_bool().unwrap_or(false),
        "{pk}"
    );
    let html = s
        .get(
            &format!("/api/v1/encounters/{enc}/audit-packet?format=html&download=1"),
            Some(&audrey),
        )
        .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.content_type().starts_with("text/html"));
    assert_eq!(
        html.headers["content-disposition"],
        format!("attachment; filename=\"audit-packet-{enc}.html\"").as_str()
    );
    assert!(html.text().contains("<html") && html.text().contains(&codes[0]));

    // the audit chain verifies; the review figures count the decisions
    let ver = s.get("/api/v1/audit/verify", Some(&audrey)).await;
    assert_eq!(ver.status, StatusCode::OK, "{}", ver.text());
    assert_eq!(ver.json()["ok"], true, "{}", ver.text());
    let stats = s.get("/api/v1/stats/review", Some(&audrey)).await.json();
    assert_eq!(stats["encounters_by_status"]["finalised"], 1, "{stats}");

    // logout: the session token stops working at once
    let out = s
        .call(Req::new(Method::POST, "/api/v1/logout", Some(&cora)))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    s.get("/api/v1/me", Some(&cora))
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_on_sqlite() {
    let s = TestServer::new(None);
    round_trip(&s).await;
    // PHI never in the access path's error bodies, and the store holds it sealed
    assert_eq!(s.count("claims"), 1);
}

/// The same round trip on PostgreSQL (`MEDLEDGER_TEST_PG_URL`, see
/// `scripts/pg-test-server.sh`); skipped without it unless
/// `MEDLEDGER_REQUIRE_PG=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_on_postgres() {
    let Ok(url) = std::env::var("MEDLEDGER_TEST_PG_URL") else {
        assert!(
            std::env::var("MEDLEDGER_REQUIRE_PG").as_deref() != Ok("1"),
            "MEDLEDGER_REQUIRE_PG=1 but MEDLEDGER_TEST_PG_URL is not set"
        );
        eprintln!("skipped: MEDLEDGER_TEST_PG_URL not set");
        return;
    };
    // a schema of its own
    let schema = format!("server_rt_{}", std::process::id());
    let admin = |sql: String| {
        let url = url.clone();
        common::off_runtime(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            c.batch_execute(&sql).expect("admin statement");
        })
    };
    admin(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ));
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let s = TestServer::new(Some(&scoped));
    let ready = s.get("/ready", None).await.json();
    assert_eq!(ready["db"], "postgres", "{ready}");
    round_trip(&s).await;
    common::off_runtime(move || drop(s));
    admin(format!("DROP SCHEMA {schema} CASCADE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_ui_and_headers() {
    let s = TestServer::new(None);
    let h = s.get("/health", None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json(), json!({"status": "ok"}));
    assert_eq!(h.headers["cache-control"], "no-store");
    assert_eq!(h.headers["x-content-type-options"], "nosniff");
    assert_eq!(h.headers["referrer-policy"], "no-referrer");
    assert!(
        h.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let r = s.get("/ready", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = r.json();
    assert_eq!(r["status"], "ready");
    assert_eq!(r["db"], "sqlite");
    assert!(!r["codesets"].as_array().unwrap().is_empty());
    // the UI, when its files are there
    let ui = medledger_server::ui::files();
    if ui.iter().any(|(n, _)| *n == "index.html") {
        let i = s.get("/", None).await;
        assert_eq!(i.status, StatusCode::OK);
        assert!(i.content_type().starts_with("text/html"));
        assert!(i.headers.contains_key("content-security-policy"));
    }
    for (name, bytes) in ui {
        let f = s.get(&format!("/ui/{name}"), None).await;
        assert_eq!(f.status, StatusCode::OK, "{name}");
        assert_eq!(&f.bytes, bytes);
        assert_eq!(f.content_type(), medledger_server::ui::content_type(name));
        if name.ends_with(".js") {
            assert!(f.content_type().starts_with("text/javascript"));
        }
    }
    s.get("/ui/../Cargo.toml", None)
        .await
        .problem(StatusCode::NOT_FOUND);
    s.get("/ui/nope.js", None)
        .await
        .problem(StatusCode::NOT_FOUND);
    s.get("/api/v1/nothing-here", None)
        .await
        .problem(StatusCode::NOT_FOUND);
    s.call(Req::new(Method::DELETE, "/health", None))
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_endpoint_matches_the_coder_and_needs_a_token() {
    let s = TestServer::new(None);
    let t = s.user("default", "rita", &[Role::ReadOnly], None);
    let body = json!({"text": NOTE, "dos": "2026-03-02", "id": "n1", "age": 70, "sex": "F"});
    s.post("/api/v1/code", None, &body)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    s.post("/api/v1/code", Some("mlt_not-a-token"), &body)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let r = s.post("/api/v1/code", Some(&t), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["cache-control"], "no-store");
    let v = r.json();
    assert_eq!(v["id"], "n1");
    assert_eq!(v["setting"], "outpatient");
    assert_eq!(v["dos"], "2026-03-02");
    assert!(v["release"].is_string() && v["engine"].is_string());
    let codes: Vec<&str> = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().any(|c| c.starts_with("I10")), "{codes:?}");
    for sug in v["suggestions"].as_array().unwrap() {
        for e in sug["evidence"].as_array().unwrap() {
            let (a, b) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            let text: String = NOTE.chars().skip(a).take(b - a).collect();
            assert_eq!(e["text"], text.as_str());
        }
    }
    // stateless: nothing stored
    assert_eq!(s.count("encounters"), 0);
    // E/M
    let em = s
        .post(
            "/api/v1/em",
            Some(&t),
            &json!({"text": "Established patient. Assessment: hypertension, stable chronic illness. Plan: continue lisinopril (prescription drug management). Total time 25 minutes.", "dos": "2026-03-02", "patient": "established"}),
        )
        .await;
    assert_eq!(em.status, StatusCode::OK, "{}", em.text());
    assert!(
        em.json()["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("992"))
    );
    s.post(
        "/api/v1/em",
        Some(&t),
        &json!({"text": "x", "patient": "returning"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // bad setting / date: 422 naming the field
    let p = s
        .post(
            "/api/v1/code",
            Some(&t),
            &json!({"text": NOTE, "setting": "home"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "setting");
    let p = s
        .post(
            "/api/v1/code",
            Some(&t),
            &json!({"text": NOTE, "dos": "03/02/2026"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "dos");
    s.post("/api/v1/code", Some(&t), &json!({"text": ""}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every role against every endpoint: allowed exactly where roles.rs says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_by_endpoint_matrix() {
    let s = TestServer::new(None);
    let mut tokens = Vec::new();
    for r in Role::ALL {
        let name = format!("u_{}", r.as_str());
        let cred = matches!(r, Role::Coder | Role::Auditor).then_some("CPC");
        tokens.push((r, s.user("default", &name, &[r], cred)));
    }
    let tok = |role: Role| tokens.iter().find(|(r, _)| *r == role).unwrap().1.clone();
    // a finalised encounter with a claim, and open encounters to decide on
    let coder = tok(Role::Coder);
    let fin = s.add_encounter(&coder, NOTE).await;
    let fin_id = fin["encounter"].as_i64().unwrap();
    let batch: Vec<Value> = fin["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sid| json!({"suggestion": sid, "decision": {"action": "accept"}}))
        .collect();
    let r = s
        .post(
            &format!("/api/v1/encounters/{fin_id}/decisions"),
            Some(&coder),
            &json!(batch),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let claim = s
        .post(
            &format!("/api/v1/encounters/{fin_id}/claim"),
            Some(&tok(Role::Biller)),
            &json!({}),
        )
        .await;
    assert_eq!(claim.status, StatusCode::CREATED, "{}", claim.text());
    let claim = claim.json();
    let claim_id = claim["claim_id"].as_i64().unwrap();
    let body835 = std::fs::read(shared().join("eval/x12/835/managed-care.835")).unwrap();

    for (role, t) in &tokens {
        let role = *role;
        let expect = |action: Action, ok: StatusCode, got: &common::Resp, what: &str| {
            if role_allows(role, action) {
                assert_eq!(got.status, ok, "{role} {what}: {}", got.text());
            } else {
                got.problem(StatusCode::FORBIDDEN);
            }
        };
        let open = s.add_encounter(&coder, NOTE).await;
        let open_id = open["encounter"].as_i64().unwrap();
        let sid = open["suggestions"][0].as_i64().unwrap();

        let r = s.get("/api/v1/queue", Some(t)).await;
        expect(Action::ViewQueue, StatusCode::OK, &r, "queue");
        let r = s
            .get(&format!("/api/v1/encounters/{open_id}"), Some(t))
            .await;
        expect(Action::ViewPhi, StatusCode::OK, &r, "open");
        let r = s
            .get(&format!("/api/v1/encounters/{open_id}/em"), Some(t))
            .await;
        expect(Action::ViewPhi, StatusCode::OK, &r, "em");
        let r = s
            .post(
                "/api/v1/encounters",
                Some(t),
                &json!({"patient": {"name": "Role Test", "dob": "1960-01-01"}, "note": NOTE, "dos": "2026-03-02"}),
            )
            .await;
        expect(Action::AddEncounter, StatusCode::CREATED, &r, "add");
        let before = s.count("decisions");
        let r = s
            .post(
                &format!("/api/v1/encounters/{open_id}/suggestions/{sid}/decision"),
                Some(t),
                &json!({"action": "accept"}),
            )
            .await;
        expect(Action::Decide, StatusCode::OK, &r, "decide");
        if !role_allows(role, Action::Decide) {
            assert_eq!(
                s.count("decisions"),
                before,
                "{role}: a refused decision wrote nothing"
            );
        }
        let r = s
            .call(Req::new(
                Method::POST,
                &format!("/api/v1/encounters/{open_id}/finalise"),
                Some(t),
            ))
            .await;
        if role_allows(role, Action::Finalise) {
            assert!(
                matches!(r.status, StatusCode::OK | StatusCode::CONFLICT),
                "{role} finalise: {}",
                r.text()
            );
        } else {
            r.problem(StatusCode::FORBIDDEN);
        }
        let r = s
            .get(
                &format!("/api/v1/encounters/{fin_id}/audit-packet"),
                Some(t),
            )
            .await;
        expect(Action::ExportPacket, StatusCode::OK, &r, "packet");
        let r = s
            .post(
                &format!("/api/v1/encounters/{fin_id}/claim"),
                Some(t),
                &json!({}),
            )
            .await;
        expect(Action::ManageClaims, StatusCode::CREATED, &r, "claim build");
        let read_claims =
            role_allows(role, Action::ManageClaims) || role_allows(role, Action::ViewReports);
        let r = s.get(&format!("/api/v1/claims/{claim_id}"), Some(t)).await;
        if read_claims {
            assert_eq!(r.status, StatusCode::OK, "{role} claim: {}", r.text());
        } else {
            r.problem(StatusCode::FORBIDDEN);
        }
        let r = s
            .post("/api/v1/claims/scrub", Some(t), &claim["claim"])
            .await;
        if read_claims {
            assert_eq!(r.status, StatusCode::OK, "{role} scrub: {}", r.text());
        } else {
            r.problem(StatusCode::FORBIDDEN);
        }
        let r = s
            .call(
                Req::new(Method::POST, "/api/v1/remittances", Some(t))
                    .raw(Some("application/edi-x12"), body835.clone()),
            )
            .await;
        expect(Action::PostRemittance, StatusCode::OK, &r, "remit");
        let r = s.get("/api/v1/audit/verify", Some(t)).await;
        expect(Action::VerifyAudit, StatusCode::OK, &r, "verify");
        let r = s.get("/api/v1/stats/review", Some(t)).await;
        expect(Action::ViewReports, StatusCode::OK, &r, "stats");
        // every authenticated user
        assert_eq!(s.get("/api/v1/me", Some(t)).await.status, StatusCode::OK);
        assert_eq!(
            s.get("/api/v1/reject-reasons", Some(t)).await.status,
            StatusCode::OK
        );
        let r = s
            .post("/api/v1/code", Some(t), &json!({"text": NOTE}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{role} code");
    }
}

/// Organisation B's tokens on organisation A's ids read as 404, and
/// nothing of A changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organisation_sees_404_and_changes_nothing() {
    let s = TestServer::new(None);
    let a_coder = s.user("default", "a_coder", &[Role::Coder], Some("CPC"));
    let a_bill = s.user("default", "a_bill", &[Role::Biller], None);
    let b_coder = s.user("orgb", "b_coder", &[Role::Coder], Some("CPC"));
    let b_aud = s.user("orgb", "b_aud", &[Role::Auditor], Some("CCS"));
    let b_bill = s.user("orgb", "b_bill", &[Role::Biller], None);
    let open = s.add_encounter(&a_coder, NOTE).await;
    let open_id = open["encounter"].as_i64().unwrap();
    let sid = open["suggestions"][0].as_i64().unwrap();
    let fin = s.add_encounter(&a_coder, NOTE).await;
    let fin_id = fin["encounter"].as_i64().unwrap();
    let batch: Vec<Value> = fin["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sid| json!({"suggestion": sid, "decision": {"action": "accept"}}))
        .collect();
    s.post(
        &format!("/api/v1/encounters/{fin_id}/decisions"),
        Some(&a_coder),
        &json!(batch),
    )
    .await;
    let claim = s
        .post(
            &format!("/api/v1/encounters/{fin_id}/claim"),
            Some(&a_bill),
            &json!({}),
        )
        .await
        .json();
    let claim_id = claim["claim_id"].as_i64().unwrap();
    let before = s
        .get(&format!("/api/v1/encounters/{open_id}"), Some(&a_coder))
        .await
        .json();
    let decisions = s.count("decisions");
    let audit_rows = s.count("audit_log");

    let nf = |r: common::Resp| {
        let p = r.problem(StatusCode::NOT_FOUND);
        assert!(!p.to_string().contains(PATIENT_NAME), "{p}");
    };
    nf(
        s.get(&format!("/api/v1/encounters/{open_id}"), Some(&b_coder))
            .await,
    );
    nf(
        s.get(&format!("/api/v1/encounters/{open_id}/em"), Some(&b_coder))
            .await,
    );
    nf(s.post(
        &format!("/api/v1/encounters/{open_id}/suggestions/{sid}/decision"),
        Some(&b_coder),
        &json!({"action": "accept"}),
    )
    .await);
    nf(s.post(
        &format!("/api/v1/encounters/{open_id}/decisions"),
        Some(&b_coder),
        &json!([{"suggestion": sid, "decision": {"action": "reject", "reason": "negated"}}]),
    )
    .await);
    nf(s.call(Req::new(
        Method::POST,
        &format!("/api/v1/encounters/{open_id}/finalise"),
        Some(&b_coder),
    ))
    .await);
    nf(s.get(
        &format!("/api/v1/encounters/{fin_id}/audit-packet"),
        Some(&b_aud),
    )
    .await);
    nf(s.post(
        &format!("/api/v1/encounters/{fin_id}/claim"),
        Some(&b_bill),
        &json!({}),
    )
    .await);
    nf(s.get(&format!("/api/v1/claims/{claim_id}"), Some(&b_bill))
        .await);
    nf(
        s.get(&format!("/api/v1/claims/{claim_id}/837"), Some(&b_bill))
            .await,
    );
    let q = s
        .get("/api/v1/queue?status=all", Some(&b_coder))
        .await
        .json();
    assert_eq!(q, json!([]));
    // nothing of A changed (the refused calls audit nothing either)
    assert_eq!(s.count("decisions"), decisions);
    assert_eq!(s.count("claims"), 1);
    assert_eq!(s.count("audit_log"), audit_rows);
    let after = s
        .get(&format!("/api/v1/encounters/{open_id}"), Some(&a_coder))
        .await
        .json();
    assert_eq!(after["suggestions"], before["suggestions"]);
    assert_eq!(after["status"], before["status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_the_right_4xx_and_changes_nothing() {
    let s = TestServer::with(None, |o| o.max_body_bytes = 16 * 1024);
    let coder = s.user("default", "cora", &[Role::Coder], Some("CPC"));
    let bill = s.user("default", "bill", &[Role::Biller], None);
    let added = s.add_encounter(&coder, NOTE).await;
    let enc = added["encounter"].as_i64().unwrap();
    let sid = added["suggestions"][0].as_i64().unwrap();
    let (enc_rows, decisions, audit_rows) = (
        s.count("encounters"),
        s.count("decisions"),
        s.count("audit_log"),
    );

    // oversized body: 413
    let big = "Essential hypertension. ".repeat(1000);
    let p = s
        .post(
            "/api/v1/encounters",
            Some(&coder),
            &json!({"patient": {"name": "Big Note", "dob": "1960-01-01"}, "note": big, "dos": "2026-03-02"}),
        )
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!p.to_string().contains("Big Note"));
    // malformed JSON: 400
    s.call(
        Req::new(Method::POST, "/api/v1/encounters", Some(&coder))
            .raw(Some("application/json"), r#"{"patient": {"name": "Jane"#),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    // wrong content type: 415
    s.call(Req::new(Method::POST, "/api/v1/code", Some(&coder)).raw(Some("text/plain"), NOTE))
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    s.call(Req::new(Method::POST, "/api/v1/code", Some(&coder)).raw(None, NOTE))
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    s.call(
        Req::new(Method::POST, "/api/v1/remittances", Some(&bill))
            .raw(Some("application/json"), "{}"),
    )
    .await
    .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // a value of the wrong type: 422 with a pointer, and the value is not echoed
    let p = s
        .post(
            "/api/v1/encounters",
            Some(&coder),
            &json!({"patient": {"name": "Jane Secretname", "dob": 19600101}, "note": "Secret words", "dos": "2026-03-02"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["pointer"], "/patient/dob", "{p}");
    let p = s
        .post(
            "/api/v1/encounters",
            Some(&coder),
            &json!({"patient": {"name": 12, "dob": "Jane Secretname"}, "note": "x", "dos": "2026-03-02"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!p.to_string().contains("Secretname"), "{p}");
    let p = s
        .post(
            "/api/v1/encounters",
            Some(&coder),
            &json!({"patient": {"name": "Jane Secretname", "dob": "not a date"}, "note": "Secret words", "dos": "2026-03-02"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!p.to_string().contains("Secret"), "{p}");
    // bad decision bodies: 422
    for bad in [
        json!({"action": "maybe"}),
        json!({"action": "reject"}),
        json!({"action": "reject", "reason": "because Jane said so"}),
        json!({"action": "edit"}),
        json!({"action": "reject", "reason": "other"}),
        json!([1, 2]),
    ] {
        let p = s
            .post(
                &format!("/api/v1/encounters/{enc}/suggestions/{sid}/decision"),
                Some(&coder),
                &bad,
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!p.to_string().contains("Jane"), "{p}");
        assert!(!p["errors"].as_array().unwrap().is_empty(), "{p}");
    }
    // unknown suggestion, unknown encounter, suggestion of another encounter: 404
    s.post(
        &format!("/api/v1/encounters/{enc}/suggestions/999999/decision"),
        Some(&coder),
        &json!({"action": "accept"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    s.post(
        &format!(
            "/api/v1/encounters/{}/suggestions/{sid}/decision",
            enc + 100
        ),
        Some(&coder),
        &json!({"action": "accept"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    s.get("/api/v1/encounters/999999", Some(&coder))
        .await
        .problem(StatusCode::NOT_FOUND);
    s.get("/api/v1/encounters/not-a-number", Some(&coder))
        .await
        .problem(StatusCode::BAD_REQUEST);
    s.get("/api/v1/queue?max_confidence=high", Some(&coder))
        .await
        .problem(StatusCode::BAD_REQUEST);
    s.get("/api/v1/queue?status=whatever", Some(&coder))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // tokens: missing, malformed, unknown → 401 with a Bearer challenge
    for auth in [None, Some("mlt_nope"), Some("")] {
        let r = s.get("/api/v1/queue", auth).await;
        r.problem(StatusCode::UNAUTHORIZED);
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
    let r = s
        .call(Req::new(Method::GET, "/api/v1/queue", None).raw(None, ""))
        .await;
    r.problem(StatusCode::UNAUTHORIZED);
    // an invalid 835: 400 naming the segment, posting nothing, no value echoed
    let src = std::fs::read_to_string(shared().join("eval/x12/835/managed-care.835")).unwrap();
    let i = src.find("CLP*").unwrap();
    let mut parts: Vec<String> = src[i..].splitn(6, '*').map(str::to_owned).collect();
    parts[4] = "45O.00".into();
    let bad = format!("{}{}", &src[..i], parts.join("*"));
    let p = s
        .call(
            Req::new(Method::POST, "/api/v1/remittances", Some(&bill)).raw(Some("text/plain"), bad),
        )
        .await
        .problem(StatusCode::BAD_REQUEST);
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("segment") && detail.contains("CLP") && detail.contains("element 4"),
        "{detail}"
    );
    assert!(!detail.contains("45O.00"), "{detail}");
    assert_eq!(p["location"]["segment_id"], "CLP", "{p}");
    assert!(p["location"]["segment"].as_u64().unwrap() > 1);
    s.call(
        Req::new(Method::POST, "/api/v1/remittances", Some(&bill)).raw(Some("text/plain"), "hello"),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    s.call(
        Req::new(Method::POST, "/api/v1/acks", Some(&bill)).raw(Some("text/plain"), "ISA*garbage~"),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(s.count("remittances"), 0);
    // claims: no finalised encounter, a bad template, a bad claim
    s.post(
        &format!("/api/v1/encounters/{enc}/claim"),
        Some(&bill),
        &json!({}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    s.post(
        &format!("/api/v1/encounters/{enc}/claim"),
        Some(&bill),
        &json!({"template": {"id": "x"}}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    s.post("/api/v1/claims/scrub", Some(&bill), &json!({"id": 3}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // nothing changed
    assert_eq!(s.count("encounters"), enc_rows);
    assert_eq!(s.count("decisions"), decisions);
    assert_eq!(s.count("claims"), 0);
    assert_eq!(s.count("audit_log"), audit_rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_needs_a_template_when_the_server_has_none() {
    let s = TestServer::with(None, |o| o.claim_template = None);
    let coder = s.user("default", "cora", &[Role::Coder], Some("CPC"));
    let bill = s.user("default", "bill", &[Role::Biller], None);
    let fin = s.add_encounter(&coder, NOTE).await;
    let id = fin["encounter"].as_i64().unwrap();
    let batch: Vec<Value> = fin["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sid| json!({"suggestion": sid, "decision": {"action": "accept"}}))
        .collect();
    s.post(
        &format!("/api/v1/encounters/{id}/decisions"),
        Some(&coder),
        &json!(batch),
    )
    .await;
    let p = s
        .post(
            &format!("/api/v1/encounters/{id}/claim"),
            Some(&bill),
            &json!({}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p["detail"].as_str().unwrap().contains("template"), "{p}");
    // with one in the request, and fees
    let template: Value =
        serde_json::from_str(&std::fs::read_to_string(common::template_path()).unwrap()).unwrap();
    let r = s
        .post(
            &format!("/api/v1/encounters/{id}/claim"),
            Some(&bill),
            &json!({"template": template, "fees": {"99213": "125.00"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_logout_beats_the_cache() {
    let s = TestServer::with(None, |o| o.session_ttl = std::time::Duration::from_secs(1));
    s.user_with_password(
        "default",
        "eve",
        &[Role::Coder],
        Some("CPC"),
        Some("correct horse battery"),
    );
    let t = login(&s, "eve").await;
    assert_eq!(s.get("/api/v1/me", Some(&t)).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    s.get("/api/v1/me", Some(&t))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // logout of a cached token: refused at once
    let t = login(&s, "eve").await;
    assert_eq!(s.get("/api/v1/me", Some(&t)).await.status, StatusCode::OK);
    let r = s
        .call(Req::new(Method::POST, "/api/v1/logout", Some(&t)))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    s.get("/api/v1/me", Some(&t))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    s.call(Req::new(Method::POST, "/api/v1/logout", Some(&t)))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // unknown fields in a login are refused
    s.post(
        "/api/v1/login",
        None,
        &json!({"username": "eve", "password": "correct horse battery", "admin": true}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every routed path and method is in the OpenAPI document and every
/// documented operation is routed; response schemas are real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_routes() {
    let s = TestServer::new(None);
    let r = s.get("/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "delete", "patch"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), p.clone()))
        })
        .collect();
    // the routes the router actually serves: each documented operation
    // answers something other than 404/405 on its method, and its path
    // with another method answers 405 unless documented
    let path_of = |p: &str| p.replace("{id}", "1").replace("{sid}", "1");
    for (m, p) in &documented {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let got = s.call(Req::new(method, &path_of(p), None)).await;
        assert_ne!(
            got.status,
            StatusCode::NOT_FOUND,
            "{m} {p} documented but not routed: {}",
            got.text()
        );
        assert_ne!(got.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}");
    }
    // the router's own list (utoipa_axum collects routes and paths together)
    let (_, api) = medledger_server::router().split_for_parts();
    let routed: BTreeSet<(String, String)> = api
        .paths
        .paths
        .iter()
        .flat_map(|(p, item)| {
            let mut v = Vec::new();
            if item.get.is_some() {
                v.push(("GET".to_owned(), p.clone()));
            }
            if item.post.is_some() {
                v.push(("POST".to_owned(), p.clone()));
            }
            if item.put.is_some() {
                v.push(("PUT".to_owned(), p.clone()));
            }
            if item.delete.is_some() {
                v.push(("DELETE".to_owned(), p.clone()));
            }
            if item.patch.is_some() {
                v.push(("PATCH".to_owned(), p.clone()));
            }
            v
        })
        .collect();
    assert_eq!(routed, documented);
    // the contract's routes, exactly
    let expected: BTreeSet<(String, String)> = [
        ("GET", "/health"),
        ("GET", "/ready"),
        ("POST", "/api/v1/login"),
        ("POST", "/api/v1/logout"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/code"),
        ("POST", "/api/v1/em"),
        ("POST", "/api/v1/encounters"),
        ("GET", "/api/v1/queue"),
        ("GET", "/api/v1/encounters/{id}"),
        ("POST", "/api/v1/encounters/{id}/suggestions/{sid}/decision"),
        ("POST", "/api/v1/encounters/{id}/decisions"),
        ("POST", "/api/v1/encounters/{id}/finalise"),
        ("GET", "/api/v1/encounters/{id}/em"),
        ("GET", "/api/v1/encounters/{id}/audit-packet"),
        ("GET", "/api/v1/reject-reasons"),
        ("POST", "/api/v1/encounters/{id}/claim"),
        ("POST", "/api/v1/claims/scrub"),
        ("GET", "/api/v1/claims/{id}"),
        ("GET", "/api/v1/claims/{id}/837"),
        ("POST", "/api/v1/remittances"),
        ("POST", "/api/v1/acks"),
        ("GET", "/api/v1/audit/verify"),
        ("GET", "/api/v1/stats/review"),
        ("GET", "/api/v1/reports/dashboard"),
        ("GET", "/api/v1/reports/clean-claims"),
        ("GET", "/api/v1/reports/denials"),
        ("GET", "/api/v1/reports/ar"),
        ("GET", "/api/v1/reports/gold-card"),
        ("GET", "/api/v1/reports/drift"),
        ("GET", "/api/v1/prior-auths"),
        ("POST", "/api/v1/prior-auths"),
        ("POST", "/api/v1/prior-auths/{id}/decision"),
        ("POST", "/api/v1/fhir/Bundle"),
        ("GET", "/api/v1/claims/{id}/fhir"),
        ("POST", "/api/v1/fhir/remittance"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/users/{username}/roles"),
        ("POST", "/api/v1/users/{username}/tokens"),
        ("GET", "/api/v1/policy"),
        ("PUT", "/api/v1/policy"),
        ("POST", "/api/v1/keys/rotate"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(documented, expected);
    // undocumented paths are not served (only the document itself and the UI)
    for p in ["/api/v1/reports/x", "/api/v1/fhir/x", "/api/v1/users/x"] {
        s.get(p, None).await.problem(StatusCode::NOT_FOUND);
    }
    // response schemas are real: the main types are components with properties
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "CodingResult",
        "Suggestion",
        "QueueItem",
        "EncounterView",
        "EncounterAdded",
        "DecisionOutcome",
        "DecisionInput",
        "Finalised",
        "AuditPacket",
        "ClaimRecord",
        "Claim",
        "ScrubReport",
        "PostingReport",
        "ReviewStats",
        "EmResult",
        "StoreVerifyReport",
        "Problem",
    ] {
        let sch = schemas
            .get(name)
            .unwrap_or_else(|| panic!("no schema {name}"));
        let text = sch.to_string();
        assert!(
            text.contains("properties") || text.contains("oneOf") || text.contains("allOf"),
            "{name}: {text}"
        );
    }
    assert!(schemas["CodingResult"]["properties"]["suggestions"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

async fn login(s: &TestServer, user: &str) -> String {
    s.post(
        "/api/v1/login",
        None,
        &json!({"username": user, "password": "correct horse battery"}),
    )
    .await
    .json()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
