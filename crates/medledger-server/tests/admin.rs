//! Administration over HTTP: users, roles, tokens, the review policy and
//! data-key rotation, with the ledger's role checks.

mod common;

use axum::http::{Method, StatusCode};
use common::{Req, TestServer};
use medledger_ledger::ledger::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_roles_tokens_policy_and_keys() {
    let s = TestServer::new(None);
    let admin = s.user("default", "ada", &[Role::Admin], None);
    let coder = s.user("default", "cora", &[Role::Coder], Some("CPC"));

    // users: admin only
    s.get("/api/v1/users", Some(&coder))
        .await
        .problem(StatusCode::FORBIDDEN);
    let added = s
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "newt", "credential": "CCS", "password": "a long passphrase here", "roles": ["auditor"]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let added = added.json();
    assert_eq!(added["username"], "newt");
    assert_eq!(added["roles"], json!(["auditor"]));
    assert!(!added.to_string().contains("passphrase"));
    s.post("/api/v1/users", Some(&admin), &json!({"username": "newt"}))
        .await
        .problem(StatusCode::CONFLICT);
    s.post(
        "/api/v1/users",
        Some(&coder),
        &json!({"username": "evil", "roles": ["admin"]}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let users = s.get("/api/v1/users", Some(&admin)).await.json();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"newt") && !names.contains(&"evil"),
        "{names:?}"
    );

    // the new user logs in with the password
    let login = s
        .post(
            "/api/v1/login",
            None,
            &json!({"username": "newt", "password": "a long passphrase here"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());

    // roles
    let r = s
        .post(
            "/api/v1/users/newt/roles",
            Some(&admin),
            &json!({"role": "coder", "grant": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["roles"], json!(["coder", "auditor"]));
    s.post(
        "/api/v1/users/nobody/roles",
        Some(&admin),
        &json!({"role": "coder", "grant": true}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    s.post(
        "/api/v1/users/newt/roles",
        Some(&admin),
        &json!({"role": "wizard", "grant": true}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // tokens: shown once, and they work
    let t = s
        .post(
            "/api/v1/users/newt/tokens",
            Some(&admin),
            &json!({"label": "integration"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text());
    let t = t.json();
    assert_eq!(t["label"], "integration");
    let token = t["token"].as_str().unwrap();
    let me = s.get("/api/v1/me", Some(token)).await.json();
    assert_eq!(me["username"], "newt");

    // the policy: read, refuse an invalid one, set a new version
    let pol = s.get("/api/v1/policy", Some(&coder)).await;
    assert_eq!(pol.status, StatusCode::OK, "{}", pol.text());
    let pol = pol.json();
    let body = pol["body"].as_str().unwrap().to_owned();
    assert!(!body.is_empty());
    let put = |tok: String, text: String| {
        let s = &s;
        async move {
            s.call(
                Req::new(Method::PUT, "/api/v1/policy", Some(&tok)).raw(Some("text/plain"), text),
            )
            .await
        }
    };
    put(admin.clone(), "this is = not [ toml".into())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    put(coder.clone(), body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    let version = pol["version"].as_str().unwrap();
    let newer = body.replacen(
        &format!("version = \"{version}\""),
        "version = \"2099.1\"",
        1,
    );
    assert_ne!(newer, body, "the policy text names its version");
    let r = put(admin.clone(), newer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], "2099.1");
    assert_eq!(
        s.get("/api/v1/policy", Some(&coder)).await.json()["version"],
        "2099.1"
    );

    // keys: admin rotates, a coder may not; stored PHI still reads
    s.call(Req::new(Method::POST, "/api/v1/keys/rotate", Some(&coder)))
        .await
        .problem(StatusCode::FORBIDDEN);
    let added = s.add_encounter(&coder, common::NOTE).await;
    let enc = added["encounter"].as_i64().unwrap();
    let r = s
        .call(Req::new(Method::POST, "/api/v1/keys/rotate", Some(&admin)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = r.json();
    assert_eq!(r["data_key_version"], 2, "{r}");
    assert!(r["resealed"].as_u64().unwrap() >= 2, "{r}");
    let v = s
        .get(&format!("/api/v1/encounters/{enc}"), Some(&coder))
        .await
        .json();
    assert_eq!(v["note"], common::NOTE);
}
