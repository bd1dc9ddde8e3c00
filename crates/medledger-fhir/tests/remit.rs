//! ClaimResponse / EOB fixtures → remittances and ledger postings.

mod common;

use medledger_fhir::remit::read_remittance;

#[test]
fn claim_response_paid_with_deductible_and_copay() {
    let r = read_remittance(&common::fixture("claimresponse-paid.json")).expect("read");
    assert_eq!(r.claims.len(), 1);
    let c = &r.claims[0];
    assert_eq!(c.claim_identifier.as_deref(), Some("CLM-1001"));
    assert_eq!(c.outcome, "complete");
    assert_eq!(
        (
            c.total_submitted_cents,
            c.total_benefit_cents,
            c.patient_responsibility_cents
        ),
        (Some(20000), Some(14000), Some(3000))
    );
    assert_eq!(
        (c.payment_amount_cents, c.payment_date.as_deref()),
        (Some(14000), Some("2024-03-25"))
    );
    assert!(!c.denied);
    assert_eq!(c.items[0].sequence, 1);
    assert_eq!(c.items[0].adjudications[3].value, Some(100.0));
    let p = r.to_posting(None);
    assert_eq!(p.payer, "Synthetic Health Plan");
    assert_eq!(p.trace.as_deref(), Some("EFT-0001"));
    assert_eq!(p.total_paid_cents, 14000);
    let cp = &p.claims[0];
    assert_eq!(cp.control_number, "CLM-1001");
    assert_eq!(cp.status_code, "1");
    assert_eq!(
        (
            cp.charge_cents,
            cp.paid_cents,
            cp.patient_responsibility_cents
        ),
        (20000, 14000, 3000)
    );
    assert_eq!(cp.payer_claim_control_number.as_deref(), Some("PCN-77001"));
    assert_eq!(
        cp.adjustments,
        [
            ("PR".into(), "1".into(), 2000),
            ("CO".into(), "45".into(), 3000),
            ("PR".into(), "3".into(), 1000)
        ]
    );
    // balanced like an 835 claim: charge = paid + adjustments
    assert_eq!(
        cp.charge_cents,
        cp.paid_cents + cp.adjustments.iter().map(|a| a.2).sum::<i64>()
    );
}

#[test]
fn eob_denied_with_carc_group_and_rarc() {
    let r = read_remittance(&common::fixture("eob-denied.json")).expect("read");
    let c = &r.claims[0];
    assert!(c.denied);
    assert_eq!(c.claim_identifier.as_deref(), Some("CLM-1002"));
    let reasons = &c.items[0].adjudications[1].reasons;
    assert_eq!(reasons[0].kind, "CARC");
    assert_eq!(
        (reasons[0].code.as_str(), reasons[0].group.as_deref()),
        ("50", Some("CO"))
    );
    assert_eq!(
        (reasons[1].kind.as_str(), reasons[1].code.as_str()),
        ("RARC", "N130")
    );
    let p = r.to_posting(Some("SYNPAY"));
    assert_eq!(p.payer, "SYNPAY");
    assert_eq!(p.total_paid_cents, 0);
    let cp = &p.claims[0];
    assert_eq!(cp.status_code, "4");
    assert_eq!(
        (
            cp.charge_cents,
            cp.paid_cents,
            cp.patient_responsibility_cents
        ),
        (30000, 0, 0)
    );
    assert_eq!(cp.adjustments, [("CO".into(), "50".into(), 30000)]);
    assert_eq!(cp.remarks, ["N130"]);
}

#[test]
fn eob_coinsurance_explicit_carcs() {
    let r = read_remittance(&common::fixture("eob-coinsurance.json")).expect("read");
    let c = &r.claims[0];
    assert_eq!(
        c.claim_identifier.as_deref(),
        Some("CLM-1003"),
        "last segment of Claim/CLM-1003"
    );
    assert_eq!(
        c.patient_responsibility_cents,
        Some(3000),
        "from total coinsurance"
    );
    let p = r.to_posting(None);
    assert_eq!(p.trace.as_deref(), Some("CHK-5501"));
    let cp = &p.claims[0];
    assert_eq!(
        cp.adjustments,
        [
            ("CO".into(), "45".into(), 3000),
            ("PR".into(), "2".into(), 3000)
        ]
    );
    assert_eq!(
        cp.charge_cents,
        cp.paid_cents + cp.adjustments.iter().map(|a| a.2).sum::<i64>()
    );
}

#[test]
fn bundle_of_remittances() {
    let r = read_remittance(&common::fixture("remittance-bundle.json")).expect("read");
    assert_eq!(r.claims.len(), 3);
    let p = r.to_posting(None);
    assert_eq!(p.total_paid_cents, 14000 + 12000);
    let ctl: Vec<&str> = p.claims.iter().map(|c| c.control_number.as_str()).collect();
    assert_eq!(ctl, ["CLM-1001", "CLM-1002", "CLM-1003"]);
    // the posting serialises like any other ledger posting
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["claims"][1]["status_code"], "4");
}

#[test]
fn wrong_inputs() {
    let e = read_remittance(br#"{"resourceType":"Patient"}"#).unwrap_err();
    assert!(matches!(e, medledger_fhir::FhirError::WrongResource { .. }));
    let e = read_remittance(br#"{"resourceType":"ClaimResponse","status":"active"}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ClaimResponse.type: required element missing"
    );
    let e = read_remittance(b"[").unwrap_err();
    assert!(matches!(e, medledger_fhir::FhirError::NotJson { .. }));
}
