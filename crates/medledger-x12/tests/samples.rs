//! Every shared sample parses at the envelope level with the counts the
//! samples' README lists (interchanges, transaction sets, CLM/CLP claims),
//! and the typed parsers read the 835, 277CA, 999 and 837 samples.

mod common;

use common::{readme_table, sample, samples};
use medledger_x12::ack277ca::{Disposition, HlLevel};
use medledger_x12::{
    AckCode, Check, X12Error, parse, parse_277ca, parse_835, parse_837, parse_999, parse_strict,
};

fn count_ids(src: &[u8], ids: &[&[u8]]) -> usize {
    parse(src)
        .expect("parses")
        .iter()
        .flat_map(|ic| {
            ic.transactions()
                .map(|(_, t)| t.clone())
                .collect::<Vec<_>>()
        })
        .map(|t| {
            t.segments(src)
                .filter(|s| s.as_ref().is_ok_and(|s| ids.contains(&s.id)))
                .count()
        })
        .sum()
}

#[test]
fn readme_table_lists_every_sample() {
    let table = readme_table();
    let files: Vec<String> = samples().into_iter().map(|(f, _)| f).collect();
    assert_eq!(table.len(), 24, "README rows");
    assert_eq!(files.len(), 24, "files on disk");
    for row in &table {
        assert!(files.contains(&row.file), "{} listed but absent", row.file);
    }
}

#[test]
fn every_sample_has_the_listed_counts() {
    for row in readme_table() {
        let src = sample(&row.file);
        let all = parse(&src).unwrap_or_else(|e| panic!("{}: {e}", row.file));
        assert_eq!(all.len(), row.interchanges, "{}: interchanges", row.file);
        let sets: usize = all.iter().map(|ic| ic.transactions().count()).sum();
        assert_eq!(sets, row.transactions, "{}: transaction sets", row.file);
        let claims = count_ids(&src, &[b"CLM", b"CLP"]);
        assert_eq!(claims, row.claims, "{}: claims", row.file);
        if row.kind == "835" {
            let typed: usize = parse_835(&src)
                .expect("835")
                .iter()
                .map(|r| r.claims.len())
                .sum();
            assert_eq!(typed, row.claims, "{}: typed claims", row.file);
        }
        for ic in &all {
            for (g, t) in ic.transactions() {
                assert_eq!(g.version, row.version, "{}: GS08", row.file);
                let expect_st = match row.kind.as_str() {
                    "837P" | "837I" => "837",
                    "277CA" => "277",
                    k => k,
                };
                assert_eq!(t.id, expect_st, "{}: ST01", row.file);
            }
        }
    }
}

#[test]
fn clean_samples_pass_the_strict_checks() {
    // the LinuxForHealth samples have consistent trailers
    for f in [
        "270/subscriber-health-benefit-check.270",
        "271/subscriber-health-benefit-check.271",
        "276/claim-level-status.276",
        "277/claim-level-status.277",
        "277CA/x12_277CA_accepted.txt",
        "835/managed-care.835",
        "835/medicare-part-a.835",
        "835/secondary-payment.835",
        "837I/institutional-claim.837i",
        "837I/two-claims-single-provider.837i",
        "837P/demo.ambulance.example5.837",
        "837P/demo.cob.example3.A.837",
        "837P/demo.drug.example10.1.837",
        "837P/demo.example1.837",
        "837P/demo.example12.837",
        "837P/demo.example7.837",
    ] {
        parse_strict(&sample(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

#[test]
fn wrong_trailers_in_samples_are_located() {
    // the 999 sample's IEA02 does not repeat its ISA13
    let e = parse_strict(&sample("999/x12_999_accepted.txt")).expect_err("IEA02");
    let X12Error::Mismatch {
        at,
        check,
        expected,
        found,
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(*check, Check::InterchangeControl);
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (10, "IEA", Some(2))
    );
    assert!(
        expected.contains("000000286") && found.contains("000000001"),
        "{e}"
    );
    // the 271 error sample's SE02 differs from its ST02
    let e =
        parse_strict(&sample("271/subscriber-health-benefit-check-error.271")).expect_err("SE02");
    let X12Error::Mismatch { at, check, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(*check, Check::TransactionControl);
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (10, "SE", Some(2))
    );
    // the imsweb 837 samples declare SE01 = 25 whatever their length
    let src = sample("837P/x12_multiple_isa.txt");
    let all = parse(&src).expect("lenient");
    assert_eq!(all.len(), 2);
    for ic in &all {
        assert_eq!(ic.issues.len(), 1, "{:?}", ic.issues);
        let X12Error::Mismatch {
            at,
            check,
            expected,
            found,
        } = &ic.issues[0]
        else {
            panic!()
        };
        assert_eq!(*check, Check::SegmentCount);
        assert_eq!(at.segment_id, "SE");
        assert_eq!(found, "25");
        assert!(expected.starts_with("34 "), "{expected}");
    }
    assert_eq!(all[1].first_segment, 39);
    assert_eq!(all[1].isa.control_number, "000000906");
}

#[test]
fn different_separators_are_detected() {
    let src = sample("837P/x12_valid_different_separators.txt");
    let all = parse(&src).expect("parses");
    let d = all[0].delimiters;
    assert_eq!((d.element, d.component, d.segment), (b'~', b'^', b'_'));
    assert_eq!(all[0].repetition_separator, None, "ISA11 is U");
    let claims = parse_837(&src).expect("837");
    assert_eq!(claims.len(), 2);
    assert_eq!(
        claims[0].lines[0]
            .procedure
            .as_ref()
            .map(|p| p.modifiers.clone()),
        Some(vec!["25".to_owned()])
    );
    assert_eq!(claims[1].lines[0].charge_cents, 1225);
}

#[test]
fn remittances_read_with_exact_cents() {
    let src = sample("835/managed-care.835");
    let r = parse_835(&src).expect("835");
    assert_eq!(r.len(), 1);
    let r = &r[0];
    assert_eq!(r.claims.len(), 2);
    assert_eq!(r.total_paid_cents, 94_500);
    assert_eq!(
        r.claims.iter().map(|c| c.paid_cents).sum::<i64>(),
        45_000 + 49_500
    );
    assert!(r.balance.balanced, "{:?}", r.balance);
    assert_eq!(r.payment_method, "ACH");
    // BPR16 of this sample is 20002316 (month 23): a located warning, not an error
    assert_eq!(r.payment_date, None);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains("segment 4 (BPR), element 16"),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.trace.reference, "7170066655");
    assert_eq!(r.payer.name.as_deref(), Some("RUSHMORE LIFE"));
    assert_eq!(r.payee.id.as_deref(), Some("5544667733"));
    let c0 = &r.claims[0];
    assert_eq!(c0.patient_control_number, "5554555444");
    assert_eq!(c0.status_code, "1");
    assert_eq!(
        (
            c0.charge_cents,
            c0.paid_cents,
            c0.patient_responsibility_cents
        ),
        (80_000, 45_000, Some(30_000))
    );
    assert_eq!(c0.filing_indicator.as_deref(), Some("12"));
    assert_eq!(
        c0.payer_claim_control_number.as_deref(),
        Some("94060555410000")
    );
    assert_eq!(c0.adjustments.len(), 1);
    assert_eq!(
        (
            c0.adjustments[0].group.as_str(),
            c0.adjustments[0].reason.as_str(),
            c0.adjustments[0].amount_cents
        ),
        ("CO", "A2", 5_000)
    );
    assert_eq!(
        c0.patient.as_ref().and_then(|p| p.name.as_deref()),
        Some("BUDD")
    );
    let l0 = &c0.lines[0];
    assert_eq!(
        (l0.procedure.qualifier.as_str(), l0.procedure.code.as_str()),
        ("HC", "99211")
    );
    assert_eq!((l0.charge_cents, l0.paid_cents), (80_000, 50_000));
    assert_eq!(l0.service_start, Some(jiff::civil::date(2002, 3, 1)));
    assert_eq!(l0.service_end, Some(jiff::civil::date(2002, 3, 4)));
    assert_eq!(l0.adjustments.len(), 1);
    assert_eq!(
        (
            l0.adjustments[0].group.as_str(),
            l0.adjustments[0].amount_cents
        ),
        ("PR", 30_000)
    );
    let c1 = &r.claims[1];
    let all_cas: Vec<(String, String, i64)> = c1
        .adjustments
        .iter()
        .chain(c1.lines.iter().flat_map(|l| l.adjustments.iter()))
        .map(|a| (a.group.clone(), a.reason.clone(), a.amount_cents))
        .collect();
    assert_eq!(
        all_cas,
        [
            ("CO".into(), "A2".into(), 5_500),
            ("PR".into(), "1".into(), 60_000),
            ("CO".into(), "45".into(), 5_000)
        ]
    );
    assert_eq!(c1.adjusted_cents("CO"), 10_500);
    // charge = paid + adjustments on both claims
    for c in &r.claims {
        let adj: i64 = c
            .adjustments
            .iter()
            .chain(c.lines.iter().flat_map(|l| l.adjustments.iter()))
            .map(|a| a.amount_cents)
            .sum();
        assert_eq!(
            c.charge_cents,
            c.paid_cents + adj,
            "{}",
            c.patient_control_number
        );
    }
}

#[test]
fn medicare_part_a_balances_with_its_plb() {
    let r = parse_835(&sample("835/medicare-part-a.835"))
        .expect("835")
        .remove(0);
    assert_eq!(r.claims.len(), 2);
    assert_eq!(r.total_paid_cents, 15_000_000);
    assert_eq!(r.balance.claims_paid_cents, 13_801_840 + 1_198_033);
    assert_eq!(r.provider_adjustments.len(), 1);
    let p = &r.provider_adjustments[0];
    assert_eq!(
        (p.reason.as_str(), p.reference.as_deref(), p.amount_cents),
        ("CV", Some("CP"), -127)
    );
    assert_eq!(p.fiscal_period, Some(jiff::civil::date(2002, 12, 31)));
    assert!(r.balance.balanced);
    assert_eq!(r.claims[0].patient_responsibility_cents, None);
    assert_eq!(r.claims[0].facility_code.as_deref(), Some("11"));
    assert_eq!(r.claims[0].frequency_code.as_deref(), Some("1"));
    assert_eq!(r.claims[0].adjustments[0].amount_cents, 7_334_857);
    assert_eq!(r.claims[1].remarks, ["MA02"]);
    assert_eq!(r.claims[0].header_number.as_deref(), Some("110212"));
    assert_eq!(
        r.claims[0]
            .dates
            .iter()
            .map(|d| d.qualifier.as_str())
            .collect::<Vec<_>>(),
        ["232", "233"]
    );
}

#[test]
fn secondary_payment_lines_and_foreign_component_separator() {
    let r = parse_835(&sample("835/secondary-payment.835"))
        .expect("835")
        .remove(0);
    assert_eq!(r.claims.len(), 2);
    assert_eq!(r.total_paid_cents, 122_200);
    assert!(r.balance.balanced);
    assert_eq!(r.payment_method, "CHK");
    // this sample writes its date one element early (BPR15): BPR16 is missing, a warning
    assert_eq!(r.payment_date, None);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("element 16: missing BPR16")),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.claims[0].amounts[0].amount_cents, 91_200);
    assert_eq!(
        r.claims[0]
            .rendering_provider
            .as_ref()
            .and_then(|e| e.id.as_deref()),
        Some("987")
    );
    let lines = &r.claims[1].lines;
    assert_eq!(lines.len(), 2);
    // SVC01 is written HC>12345>26 though ISA16 is ':'
    assert_eq!(
        (
            lines[0].procedure.code.as_str(),
            lines[0].procedure.modifiers.clone()
        ),
        ("12345", vec!["26".to_owned()])
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("'>'")),
        "{:?}",
        r.warnings
    );
    assert_eq!(lines[0].service_date, Some(jiff::civil::date(2005, 1, 6)));
    assert_eq!(lines[1].revenue_code.as_deref(), Some("220"));
    assert_eq!(lines[1].units.as_deref(), Some("1.00"));
    let cas: Vec<(String, String, i64)> = lines[1]
        .adjustments
        .iter()
        .map(|a| (a.group.clone(), a.reason.clone(), a.amount_cents))
        .collect();
    assert_eq!(
        cas,
        [
            ("PR".into(), "1".into(), 15_000),
            ("PR".into(), "2".into(), 7_000),
            ("CO".into(), "42".into(), 8_500)
        ]
    );
    assert_eq!(lines[1].amounts[0].amount_cents, 50_000);
}

#[test]
fn claim_acknowledgment_277ca() {
    let a = parse_277ca(&sample("277CA/x12_277CA_accepted.txt"))
        .expect("277CA")
        .remove(0);
    assert_eq!(a.levels.len(), 4);
    assert_eq!(
        a.levels.iter().map(|l| l.level.clone()).collect::<Vec<_>>(),
        [
            HlLevel::InformationSource,
            HlLevel::InformationReceiver,
            HlLevel::BillingProvider,
            HlLevel::Patient
        ]
    );
    assert_eq!(a.levels[1].statuses[0].code.category, "A1");
    assert_eq!(a.levels[1].statuses[0].amount_cents, Some(12_500));
    assert_eq!(a.claims.len(), 1);
    let c = &a.claims[0];
    assert_eq!(c.patient_control_number, "5781");
    assert_eq!(
        c.payer_claim_control_number.as_deref(),
        Some("1107000000014420")
    );
    assert_eq!(c.disposition, Disposition::Accepted);
    assert_eq!(
        (
            c.statuses[0].code.category.as_str(),
            c.statuses[0].code.status.as_str()
        ),
        ("A2", "20")
    );
    assert_eq!(c.statuses[0].action_code.as_deref(), Some("WQ"));
    assert_eq!(c.charge_cents, Some(12_500));
    assert_eq!(
        c.provider.as_ref().and_then(|p| p.id.as_deref()),
        Some("1234567890")
    );
    assert_eq!(
        c.patient.as_ref().and_then(|p| p.name.as_deref()),
        Some("TPATIENT")
    );
    assert_eq!(
        c.service_period.as_ref().map(|d| d.from),
        Some(jiff::civil::date(1001, 1, 1))
    );
    assert_eq!((a.accepted(), a.rejected()), (1, 0));
    // a rejection: the same file with the claim's category changed
    let rej = common::edit(
        &sample("277CA/x12_277CA_accepted.txt"),
        "STC*A2:20",
        "STC*A7:21",
    );
    let a = parse_277ca(&rej).expect("277CA").remove(0);
    assert_eq!(a.claims[0].disposition, Disposition::Rejected);
    // the X212 277 is not a 277CA
    let e = parse_277ca(&sample("277/claim-level-status.277")).expect_err("X212");
    assert!(
        matches!(&e, X12Error::WrongTransaction { at, .. } if at.segment == 2 && at.element == Some(8)),
        "{e}"
    );
}

#[test]
fn implementation_acknowledgment_999() {
    let a = parse_999(&sample("999/x12_999_accepted.txt"))
        .expect("999")
        .remove(0);
    assert_eq!(
        (a.functional_id.as_str(), a.group_control_number.as_str()),
        ("HC", "17456")
    );
    assert_eq!(a.group_status, AckCode::Accepted);
    assert_eq!((a.included, a.received, a.accepted), (1, 1, 1));
    assert_eq!(a.transactions.len(), 1);
    let t = &a.transactions[0];
    assert_eq!(
        (t.set_id.as_str(), t.control_number.as_str()),
        ("837", "0001")
    );
    assert_eq!(t.status, AckCode::Accepted);
    assert!(t.segment_errors.is_empty());
}

#[test]
fn submitted_claims_837() {
    for row in readme_table()
        .into_iter()
        .filter(|r| r.kind.starts_with("837"))
    {
        let src = sample(&row.file);
        if row.file.ends_with("x12_missing_elements.txt") {
            continue;
        }
        let claims = parse_837(&src).unwrap_or_else(|e| panic!("{}: {e}", row.file));
        assert_eq!(claims.len(), row.claims, "{}", row.file);
        for c in &claims {
            assert!(
                !c.lines.is_empty(),
                "{}: {}",
                row.file,
                c.patient_control_number
            );
        }
    }
    let c = parse_837(&sample("837P/demo.example1.837"))
        .expect("837")
        .remove(0);
    assert_eq!(
        (c.patient_control_number.as_str(), c.charge_cents),
        ("26463774", 10_000)
    );
    assert_eq!(
        (c.facility_code.as_str(), c.frequency_code.as_str()),
        ("11", "1")
    );
    assert_eq!(
        c.lines.iter().map(|l| l.charge_cents).sum::<i64>(),
        c.charge_cents
    );
    let i = parse_837(&sample("837I/institutional-claim.837i"))
        .expect("837I")
        .remove(0);
    assert_eq!(i.kind, medledger_x12::claim837::ClaimKind::Institutional);
    assert_eq!(i.lines[1].revenue_code.as_deref(), Some("0730"));
}

#[test]
fn missing_elements_sample_fails_typed_parsing_with_a_location() {
    let src = sample("837P/x12_missing_elements.txt");
    // the envelope parses (its SE01 is wrong, as in the other imsweb files)
    let all = parse(&src).expect("envelope");
    assert_eq!(all[0].groups[0].transactions.len(), 1);
    let e = parse_837(&src).expect_err("missing NM102");
    let X12Error::Missing { at, what } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (7, "NM1", Some(2))
    );
    assert!(what.contains("NM102"), "{what}");
    assert_eq!(
        at.offset,
        src.windows(7)
            .position(|w| w == b"NM1*40*")
            .expect("offset")
    );
    // with NM102 supplied, the next gap is CLM05 of the second claim
    let fixed = common::edit(&src, "NM1*40**", "NM1*40*2*");
    let e = parse_837(&fixed).expect_err("missing CLM05");
    let X12Error::Missing { at, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (31, "CLM", Some(5))
    );
    assert!(e.to_string().contains("segment 31 (CLM), element 5"), "{e}");
}
