//! FHIR R4 over HTTP (Bundle in → coded, stored encounters; stored claim →
//! FHIR Claim; ExplanationOfBenefit → posted like an 835), the dashboard
//! and the revenue reports over what was posted, and the
//! prior-authorisation register behind the gold card.

mod common;

use axum::http::{Method, StatusCode};
use common::{Req, TestServer, shared};
use medledger_ledger::ledger::Role;
use serde_json::{Value, json};

const NOTE: &str = "Assessment: essential hypertension. Type 2 diabetes mellitus without complications.\nPlan: continue lisinopril and metformin.";

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A synthetic transaction bundle: one patient, one ambulatory encounter,
/// its progress note.
fn bundle() -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1",
                "name": [{"family": "Testperson", "given": ["Fhira"]}],
                "gender": "female", "birthDate": "1950-04-02"}},
            {"fullUrl": "urn:uuid:e1", "resource": {"resourceType": "Encounter", "id": "e1",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": "urn:uuid:p1"},
                "period": {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T09:30:00Z"}}},
            {"fullUrl": "urn:uuid:d1", "resource": {"resourceType": "DocumentReference", "id": "d1",
                "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
                "subject": {"reference": "urn:uuid:p1"},
                "context": {"encounter": [{"reference": "urn:uuid:e1"}]},
                "content": [{"attachment": {"contentType": "text/plain", "data": b64(NOTE)}}]}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_bundle_in_claim_out_eob_posted_and_dashboard() {
    let s = TestServer::new(None);
    let coder = s.user("default", "cora", &[Role::Coder], Some("CPC"));
    let bill = s.user("default", "bill", &[Role::Biller], None);
    let ro = s.user("default", "rita", &[Role::ReadOnly], None);

    // hostile first: each refused, nothing stored
    let p = "/api/v1/fhir/Bundle";
    let body = serde_json::to_vec(&bundle()).unwrap();
    s.call(Req::new(Method::POST, p, None).raw(Some("application/fhir+json"), body.clone()))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    s.call(Req::new(Method::POST, p, Some(&coder)).raw(Some("text/plain"), body.clone()))
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    s.call(
        Req::new(Method::POST, p, Some(&coder))
            .raw(Some("application/fhir+json"), b"{not json".to_vec()),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    let mut broken = bundle();
    broken["entry"][1]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("status");
    let pr = s
        .call(Req::new(Method::POST, p, Some(&coder)).raw(
            Some("application/fhir+json"),
            serde_json::to_vec(&broken).unwrap(),
        ))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let detail = pr["detail"].as_str().unwrap();
    assert!(
        pr["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"].as_str().is_some_and(|f| f.contains("Encounter"))),
        "{pr}"
    );
    assert!(
        detail.contains("Encounter") && detail.contains("status"),
        "{pr}"
    );
    assert!(!detail.contains("Testperson"), "PHI in a problem: {pr}");
    // a biller may not store clinical encounters
    s.call(Req::new(Method::POST, p, Some(&bill)).raw(Some("application/fhir+json"), body.clone()))
        .await
        .problem(StatusCode::FORBIDDEN);
    assert_eq!(s.count("encounters"), 0);

    // the bundle: one encounter coded and stored from its note
    let r = s
        .call(Req::new(Method::POST, p, Some(&coder)).raw(Some("application/fhir+json"), body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["stored"], 1, "{v}");
    assert_eq!(v["report"]["encounters"], 1);
    assert_eq!(v["report"]["notes"], 1);
    let e = &v["encounters"][0];
    assert_eq!(e["source_id"], "e1");
    assert!(e["suggestions"].as_u64().unwrap() >= 2, "{e}");
    let enc = e["stored"]["encounter"].as_i64().unwrap();
    assert_eq!(s.count("encounters"), 1);
    let view = s
        .get(&format!("/api/v1/encounters/{enc}"), Some(&coder))
        .await
        .json();
    assert_eq!(view["note"], NOTE);
    assert_eq!(view["dos"], "2026-03-02");
    let codes: Vec<&str> = view["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().any(|c| c.starts_with("I10")), "{codes:?}");
    // the ICD-11 companion travels in the logic
    assert!(
        view["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["logic"]["icd11"].is_object()),
        "{view}"
    );

    // a Synthea bundle (no notes): it loads, nothing to code, nothing stored
    let dir = shared().join("eval/fhir/synthea-r4-bundles");
    let f = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let r = s
        .call(
            Req::new(Method::POST, p, Some(&coder))
                .raw(Some("application/fhir+json"), std::fs::read(&f).unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["stored"], 0);
    assert!(v["report"]["encounters"].as_u64().unwrap() >= 1);
    assert!(
        v["encounters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["skipped"]
                .as_str()
                .is_some_and(|w| w.contains("no clinical note"))),
        "{v}"
    );
    assert_eq!(s.count("encounters"), 1);

    // accept everything, finalise, build the claim, read it as FHIR
    let sids: Vec<Value> = view["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| json!({"suggestion": x["id"], "decision": {"action": "accept"}}))
        .collect();
    let r = s
        .post(
            &format!("/api/v1/encounters/{enc}/decisions"),
            Some(&coder),
            &json!(sids),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fin = s
        .post(
            &format!("/api/v1/encounters/{enc}/finalise"),
            Some(&coder),
            &json!({}),
        )
        .await;
    assert!(
        fin.status == StatusCode::OK || fin.status == StatusCode::CONFLICT,
        "{}",
        fin.text()
    );
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
    // the claim id is the patient control number (CLM01) payers answer with
    let ctl = built["claim"]["id"].as_str().unwrap().to_owned();
    let fc = s
        .get(&format!("/api/v1/claims/{claim_id}/fhir"), Some(&bill))
        .await;
    assert_eq!(fc.status, StatusCode::OK, "{}", fc.text());
    assert_eq!(fc.content_type(), "application/fhir+json");
    let fb = fc.json();
    assert_eq!(fb["resourceType"], "Bundle");
    let claim = fb["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Claim")
        .expect("a Claim in the bundle");
    assert_eq!(claim["status"], "active");
    assert!(
        claim["diagnosis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["diagnosisCodeableConcept"]["coding"][0]["system"]
                == "http://hl7.org/fhir/sid/icd-10-cm"),
        "{claim}"
    );
    // the emitted bundle is itself valid FHIR for our reader
    medledger_fhir::parse_bundle(&fc.bytes).expect("our Claim bundle reads back");
    s.get(&format!("/api/v1/claims/{claim_id}/fhir"), Some(&coder))
        .await
        .problem(StatusCode::FORBIDDEN);
    s.get("/api/v1/claims/999999/fhir", Some(&bill))
        .await
        .problem(StatusCode::NOT_FOUND);

    // a denial as an ExplanationOfBenefit, posted like an 835
    let eob = json!({
        "resourceType": "ExplanationOfBenefit",
        "id": "eob1",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim",
        "patient": {"display": "synthetic"},
        "created": "2026-03-20",
        "insurer": {"display": "ACME HEALTH"},
        "provider": {"display": "synthetic clinic"},
        "outcome": "complete",
        "claim": {"identifier": {"value": ctl}},
        "insurance": [{"focal": true, "coverage": {"display": "synthetic"}}],
        "item": [{"sequence": 1,
            "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]},
            "adjudication": [
                {"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 125.0, "currency": "USD"}},
                {"category": {"coding": [{"code": "benefit"}]}, "amount": {"value": 0.0, "currency": "USD"},
                 "reason": {"coding": [{"system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "197"}]}}
            ]}],
        "total": [
            {"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 125.0, "currency": "USD"}},
            {"category": {"coding": [{"code": "benefit"}]}, "amount": {"value": 0.0, "currency": "USD"}}
        ],
        "payment": {"amount": {"value": 0.0, "currency": "USD"}}
    });
    let rp = "/api/v1/fhir/remittance?payer=ACME";
    s.call(Req::new(Method::POST, rp, Some(&coder)).raw(
        Some("application/fhir+json"),
        serde_json::to_vec(&eob).unwrap(),
    ))
    .await
    .problem(StatusCode::FORBIDDEN);
    let r = s
        .call(Req::new(Method::POST, rp, Some(&bill)).raw(
            Some("application/fhir+json"),
            serde_json::to_vec(&eob).unwrap(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let posted = r.json();
    assert_eq!(posted["posted"].as_array().unwrap().len(), 1, "{posted}");
    assert_eq!(posted["posted"][0]["status"], "denied", "{posted}");

    // the dashboard: any role with reports; the denial shows
    s.get("/api/v1/reports/dashboard", None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let d = s.get("/api/v1/reports/dashboard", Some(&ro)).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let d = d.json();
    assert_eq!(d["clean_claim_rate"][0]["claims"], 1, "{d}");
    assert_eq!(d["clean_claim_rate"][0]["clean"], 0, "{d}");
    // the claim's payer (the template's), as every report groups it
    assert_eq!(d["denials_by_payer"][0]["payer"], "MEDICARE-B", "{d}");
    assert_eq!(d["denials_by_payer"][0]["share"], 1.0, "{d}");
    assert!(
        d["denials_by_reason"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["reason"].as_str().is_some_and(|r| r.ends_with("-197"))),
        "{d}"
    );
    // no prior-authorisation requests yet: no gold-card standing
    assert_eq!(d["gold_card"], json!([]), "{d}");
    assert!(d["agreement"][0]["rate"].as_f64().unwrap() > 0.99, "{d}");

    // the reports of `medledger report`, over the same ledger
    let cc = s
        .get("/api/v1/reports/clean-claims?by=payer", Some(&ro))
        .await;
    assert_eq!(cc.status, StatusCode::OK, "{}", cc.text());
    let cc = cc.json();
    assert_eq!(cc["groups"][0]["key"], "MEDICARE-B", "{cc}");
    assert_eq!(cc["total"]["claims"], 1, "{cc}");
    assert_eq!(cc["total"]["adjudicated"], 1, "{cc}");
    assert_eq!(cc["total"]["denied"], 1, "{cc}");
    assert_eq!(cc["total"]["initial_denial_rate"], 1.0, "{cc}");
    assert_eq!(cc["total"]["first_pass_clean_rate"], 0.0, "{cc}");
    assert_eq!(cc["spec"]["by"], "payer", "{cc}");
    let dn = s.get("/api/v1/reports/denials", Some(&ro)).await.json();
    assert_eq!(dn["report"]["total"]["denial_rate"], 1.0, "{dn}");
    assert!(
        dn["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"].as_str().is_some_and(|r| r.ends_with("-197")) && r["claims"] == 1),
        "{dn}"
    );
    // the service date is 2026-03-02: outside a period in 2025
    let none = s
        .get(
            "/api/v1/reports/clean-claims?from=2025-01-01&to=2025-12-31",
            Some(&ro),
        )
        .await
        .json();
    assert_eq!(none["total"]["claims"], 0, "{none}");
    // the denied claim (165.00, nothing paid) stays open: the whole A/R,
    // over 120 days old by 2030
    let ar = s
        .get("/api/v1/reports/ar?as_of=2030-01-01", Some(&ro))
        .await
        .json();
    assert_eq!(ar["total"]["open_claims"], 1, "{ar}");
    assert_eq!(ar["total"]["open_balance_cents"], 16500, "{ar}");
    assert_eq!(ar["total"]["aging_claims"], json!([0, 0, 0, 0, 1]), "{ar}");
    assert_eq!(ar["total"]["net_collection_rate"], 0.0, "{ar}");
    let drift = s.get("/api/v1/reports/drift", Some(&ro)).await.json();
    assert!(!drift["weeks"].as_array().unwrap().is_empty(), "{drift}");
    assert!(drift["method"].as_str().unwrap().contains("z"), "{drift}");
    // charts
    for p in [
        "/api/v1/reports/clean-claims?by=month&format=svg",
        "/api/v1/reports/denials?format=svg",
        "/api/v1/reports/ar?format=svg",
        "/api/v1/reports/gold-card?format=svg",
        "/api/v1/reports/drift?format=svg",
    ] {
        let r = s.get(p, Some(&ro)).await;
        assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.text());
        assert_eq!(r.content_type(), "image/svg+xml", "{p}");
        assert!(r.text().starts_with("<svg"), "{p}: {}", r.text());
    }
    // bad parameters are named
    for (p, field) in [
        ("/api/v1/reports/clean-claims?by=colour", "by"),
        ("/api/v1/reports/denials?from=2026-13-01", "from"),
        ("/api/v1/reports/ar?basis=paid", "basis"),
        ("/api/v1/reports/ar?from=2026-05-01&to=2026-04-01", "to"),
        ("/api/v1/reports/dashboard?as_of=yesterday", "as_of"),
        ("/api/v1/reports/drift?format=pdf", "format"),
    ] {
        let pr = s
            .get(p, Some(&ro))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pr["errors"][0]["field"], field, "{p}: {pr}");
    }
    s.get("/api/v1/reports/ar", None)
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // the prior-authorisation register feeds the gold card: five approved
    // requests in the window of the 2026-07-01 evaluation, one pending after
    let pa = |day: &str, approved: Option<bool>| {
        json!({"payer": "ACME", "program": "TX", "provider": "1234567893", "code": "72148",
               "requested_on": day, "decided_on": approved.map(|_| "2026-02-20"), "approved": approved})
    };
    s.post(
        "/api/v1/prior-auths",
        Some(&ro),
        &pa("2026-02-01", Some(true)),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    for d in 1..=5 {
        let r = s
            .post(
                "/api/v1/prior-auths",
                Some(&bill),
                &pa(&format!("2026-02-0{d}"), Some(true)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let pending = s
        .post("/api/v1/prior-auths", Some(&bill), &pa("2026-07-10", None))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let half = json!({"payer": "ACME", "program": "TX", "provider": "1234567893", "code": "72148",
                      "requested_on": "2026-07-10", "decided_on": "2026-07-11"});
    let pr = s
        .post("/api/v1/prior-auths", Some(&bill), &half)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pr["errors"][0]["field"], "decided_on", "{pr}");
    let list = s.get("/api/v1/prior-auths", Some(&ro)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 6, "{list}");
    let d = s
        .get("/api/v1/reports/dashboard?as_of=2026-07-15", Some(&ro))
        .await
        .json();
    assert_eq!(d["as_of"], "2026-07-15", "{d}");
    let g = &d["gold_card"][0];
    assert_eq!(
        (
            &g["payer"],
            &g["program"],
            &g["status"],
            &g["decisions"],
            &g["approval_rate"]
        ),
        (
            &json!("ACME"),
            &json!("TX"),
            &json!("exempt"),
            &json!(5),
            &json!(1.0)
        ),
        "{d}"
    );
    assert_eq!(g["projected_status"], "insufficient_data", "{d}");
    assert_eq!(g["next_evaluation"], "2027-01-01", "{d}");
    let gc = s
        .get("/api/v1/reports/gold-card?as_of=2026-07-15", Some(&ro))
        .await
        .json();
    assert_eq!(gc["standings"][0]["projected"]["pending"], 1, "{gc}");
    // the payer's decision on the pending one; a second decision conflicts
    let decision = format!("/api/v1/prior-auths/{pending}/decision");
    let body = json!({"approved": false, "decided_on": "2026-07-12"});
    let r = s.post(&decision, Some(&bill), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["approved"], false);
    s.post(&decision, Some(&bill), &body)
        .await
        .problem(StatusCode::CONFLICT);
    s.post("/api/v1/prior-auths/999999/decision", Some(&bill), &body)
        .await
        .problem(StatusCode::NOT_FOUND);
    let gc = s
        .get("/api/v1/reports/gold-card?as_of=2026-07-15", Some(&ro))
        .await
        .json();
    let proj = &gc["standings"][0]["projected"];
    assert_eq!(
        (&proj["denied"], &proj["pending"]),
        (&json!(1), &json!(0)),
        "{gc}"
    );
}
