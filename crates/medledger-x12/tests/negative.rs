//! Malformed inputs give exact, located errors (byte offset, segment
//! number, segment id, element). The inputs are shared samples edited in
//! memory.

mod common;

use common::{edit, sample};
use medledger_x12::{
    AckCode, Check, X12Error, parse, parse_277ca, parse_835, parse_999, parse_strict,
};

fn managed_care() -> Vec<u8> {
    sample("835/managed-care.835")
}

fn offset_of(src: &[u8], needle: &str) -> usize {
    src.windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("needle")
}

#[test]
fn truncated_isa() {
    let src = managed_care();
    for cut in [0, 2, 3, 50, 105] {
        let e = parse(&src[..cut]).expect_err("truncated");
        let X12Error::Isa { at, message } = &e else {
            panic!("{cut}: {e}")
        };
        assert_eq!((at.offset, at.segment), (0, 1), "{cut}");
        if cut >= 3 {
            assert_eq!(at.segment_id, "ISA");
            assert!(
                message.contains("truncated") && message.contains(&format!("only {cut} remain")),
                "{cut}: {e}"
            );
        }
    }
    // a later interchange truncated: located at its own offset and number
    let mut two = src.clone();
    two.extend_from_slice(b"\n");
    two.extend_from_slice(&src[..60]);
    let e = parse(&two).expect_err("second ISA truncated");
    assert_eq!(e.location().offset, src.len() + 1);
    assert_eq!(e.location().segment, 31);
}

#[test]
fn wrong_se_count() {
    let src = edit(&managed_care(), "SE*26*112233", "SE*27*112233");
    let e = parse_strict(&src).expect_err("SE01");
    assert_eq!(
        e,
        X12Error::Mismatch {
            at: medledger_x12::Location {
                offset: offset_of(&src, "SE*27"),
                segment: 28,
                segment_id: "SE".into(),
                element: Some(1),
                component: None,
            },
            check: Check::SegmentCount,
            expected: "26 (segments from ST to SE inclusive)".into(),
            found: "27".into(),
        }
    );
    // the lenient reader keeps it as an issue; the 835 parser as a warning
    let all = parse(&src).expect("lenient");
    assert_eq!(all[0].issues, vec![e.clone()]);
    let r = parse_835(&src).expect("835");
    assert!(
        r[0].warnings.iter().any(|w| w == &e.to_string()),
        "{:?}",
        r[0].warnings
    );
}

#[test]
fn wrong_iea_control_number() {
    let src = edit(&managed_care(), "IEA*1*000000907", "IEA*1*000000908");
    let e = parse_strict(&src).expect_err("IEA02");
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
        (at.offset, at.segment, at.segment_id.as_str(), at.element),
        (offset_of(&src, "IEA*"), 30, "IEA", Some(2))
    );
    assert_eq!(expected, "\"000000907\" (ISA13)");
    assert_eq!(found, "\"000000908\"");
}

#[test]
fn wrong_group_trailers() {
    let src = edit(&managed_care(), "GE*1*1", "GE*2*9");
    let all = parse(&src).expect("lenient");
    let checks: Vec<(Check, usize, Option<usize>)> = all[0]
        .issues
        .iter()
        .map(|e| match e {
            X12Error::Mismatch { at, check, .. } => (*check, at.segment, at.element),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        checks,
        [
            (Check::TransactionCount, 29, Some(1)),
            (Check::GroupControl, 29, Some(2))
        ]
    );
    let src = edit(&managed_care(), "IEA*1*", "IEA*3*");
    let e = parse_strict(&src).expect_err("IEA01");
    assert!(
        matches!(&e, X12Error::Mismatch { check: Check::GroupCount, at, .. } if at.element == Some(1)),
        "{e}"
    );
}

#[test]
fn clp_with_a_non_numeric_amount() {
    let src = edit(
        &managed_care(),
        "CLP*5554555444*1*800.00*450.00",
        "CLP*5554555444*1*800.00*45O.00",
    );
    let e = parse_835(&src).expect_err("CLP04");
    let X12Error::Invalid {
        at,
        expected,
        found,
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (13, "CLP", Some(4))
    );
    assert_eq!(at.offset, offset_of(&src, "CLP*"));
    assert_eq!(found, "45O.00");
    assert!(
        expected.starts_with("CLP04 claim payment amount as an amount"),
        "{expected}"
    );
    assert!(
        e.to_string().starts_with(&format!(
            "byte {}, segment 13 (CLP), element 4: expected CLP04",
            at.offset
        )),
        "{e}"
    );
    // more than two decimals
    let src = edit(&managed_care(), "*450.00*300.00", "*450.001*300.00");
    let e = parse_835(&src).expect_err("3 decimals");
    assert!(
        e.to_string().contains("segment 13 (CLP), element 4")
            && e.to_string().contains("2 decimal"),
        "{e}"
    );
    // missing CLP04
    let src = edit(&managed_care(), "*800.00*450.00*", "*800.00**");
    let e = parse_835(&src).expect_err("no CLP04");
    assert!(
        matches!(&e, X12Error::Missing { at, what } if at.segment == 13 && at.element == Some(4) && what.starts_with("CLP04")),
        "{e}"
    );
}

#[test]
fn bad_cas() {
    let src = edit(&managed_care(), "CAS*CO*A2*50.00", "CAS*XX*A2*50.00");
    let e = parse_835(&src).expect_err("group");
    assert!(
        matches!(&e, X12Error::Invalid { at, .. } if (at.segment, at.element) == (14, Some(1))),
        "{e}"
    );
    let src = edit(&managed_care(), "CAS*CO*A2*50.00", "CAS*CO*A2");
    let e = parse_835(&src).expect_err("amount");
    assert!(
        matches!(&e, X12Error::Missing { at, .. } if (at.segment, at.element) == (14, Some(3))),
        "{e}"
    );
    let src = edit(&managed_care(), "CAS*CO*A2*50.00", "CAS*CO*A2*50.00*X");
    let e = parse_835(&src).expect_err("quantity");
    assert!(
        matches!(&e, X12Error::Invalid { at, .. } if (at.segment, at.element) == (14, Some(4))),
        "{e}"
    );
}

#[test]
fn missing_required_segment() {
    let src = edit(
        &managed_care(),
        "BPR*I*945.00*C*ACH*CCP*01*888999777*DA*24681012*1935665544**01*111333555*DA*144444*20002316~\n",
        "",
    );
    let e = parse_835(&src).expect_err("BPR");
    let X12Error::Missing { at, what } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (27, "SE", None)
    );
    assert!(what.contains("BPR"), "{what}");
    let src = edit(&managed_care(), "N1*PE*", "N1*XX*");
    let e = parse_835(&src).expect_err("N1*PE");
    assert!(e.to_string().contains("N1*PE"), "{e}");
}

#[test]
fn envelope_structure() {
    let mc = managed_care();
    // the input ends before IEA
    let cut = offset_of(&mc, "IEA*");
    let e = parse(&mc[..cut]).expect_err("no IEA");
    let X12Error::Missing { at, what } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (at.offset, at.segment, at.segment_id.as_str()),
        (cut, 30, "")
    );
    assert!(what.starts_with("IEA"), "{what}");
    // ... or inside the transaction set
    let cut = offset_of(&mc, "SE*");
    let e = parse(&mc[..cut]).expect_err("no SE");
    assert!(
        matches!(&e, X12Error::Missing { what, .. } if what.starts_with("SE")),
        "{e}"
    );
    // GE while the transaction set is open
    let src = edit(&mc, "SE*26*112233~\n", "");
    let e = parse(&src).expect_err("SE missing");
    let X12Error::Structure { at, expected, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!((at.segment, at.segment_id.as_str()), (28, "GE"));
    assert!(
        expected.contains("SE closing transaction set 112233 begun at segment 3"),
        "{expected}"
    );
    // ST outside a group
    let src = edit(
        &mc,
        "GS*HP*000000005*54321*20131031*1147*1*X*005010X221A1~\n",
        "",
    );
    let e = parse(&src).expect_err("no GS");
    assert!(
        matches!(&e, X12Error::Structure { at, .. } if (at.segment, at.segment_id.as_str()) == (2, "ST")),
        "{e}"
    );
    // unterminated last segment
    let e = parse(&mc[..mc.len() - 1]).expect_err("unterminated");
    let X12Error::Syntax { at, message } = &e else {
        panic!("{e}")
    };
    assert_eq!((at.offset, at.segment), (offset_of(&mc, "IEA*"), 30));
    assert!(message.contains("not terminated"), "{message}");
    // a bad segment id
    let src = edit(&mc, "DTM*405", "dtm*405");
    let e = parse(&src).expect_err("id");
    assert!(
        matches!(&e, X12Error::Syntax { at, .. } if at.segment == 6),
        "{e}"
    );
    // colliding delimiters: ISA16 = element separator
    let src = edit(&mc, "*T*:~", "*T**~");
    assert!(matches!(parse(&src), Err(X12Error::Isa { .. })));
    // not X12 at all
    assert!(matches!(parse(b""), Err(X12Error::Isa { .. })));
    assert!(matches!(parse(b"hello world"), Err(X12Error::Isa { .. })));
    // trailing bytes after IEA that are not an ISA
    let mut src = mc.clone();
    src.extend_from_slice(b"\nGS*XX~");
    assert!(matches!(parse(&src), Err(X12Error::Isa { at, .. }) if at.segment == 31));
}

#[test]
fn bom_whitespace_and_crlf_are_tolerated() {
    let mc = managed_care();
    let mut src = b"\xEF\xBB\xBF \r\n".to_vec();
    src.extend(mc.iter().flat_map(|&b| {
        if b == b'\n' {
            vec![b'\r', b'\n']
        } else {
            vec![b]
        }
    }));
    let a = parse_strict(&mc).expect("plain");
    let b = parse_strict(&src).expect("BOM + CRLF");
    assert_eq!(a[0].segment_count, b[0].segment_count);
    assert_eq!(parse_835(&src).expect("835")[0].claims.len(), 2);
    // no line breaks at all
    let flat: Vec<u8> = mc.iter().copied().filter(|&b| b != b'\n').collect();
    assert_eq!(parse_strict(&flat).expect("flat")[0].segment_count, 30);
}

#[test]
fn typed_parsers_check_the_transaction_set() {
    let e = parse_835(&sample("837P/demo.example1.837")).expect_err("837 is not 835");
    let X12Error::WrongTransaction {
        at,
        expected,
        found,
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(
        (at.segment, at.segment_id.as_str(), at.element),
        (3, "ST", Some(1))
    );
    assert!(expected.contains("835"));
    assert_eq!(found, "837");
    let src = edit(&managed_care(), "005010X221A1", "005010X222A1");
    let e = parse_835(&src).expect_err("GS08");
    assert!(
        matches!(&e, X12Error::WrongTransaction { at, .. } if (at.segment, at.element) == (2, Some(8))),
        "{e}"
    );
    assert!(parse_999(&managed_care()).is_err());
    assert!(parse_277ca(&managed_care()).is_err());
}

#[test]
fn ack_999_with_errors() {
    let src = edit(
        &sample("999/x12_999_accepted.txt"),
        "IK5*A~\nAK9*A*1*1*1~",
        "IK3*NM1*8*2010BA*8~\nCTX*CLM01:123~\nIK4*9:1*67*7*XX~\nIK5*R*5~\nAK9*R*1*1*0~",
    );
    let a = parse_999(&src).expect("999").remove(0);
    assert_eq!(a.group_status, AckCode::Rejected);
    assert_eq!(a.accepted, 0);
    let t = &a.transactions[0];
    assert_eq!(t.status, AckCode::Rejected);
    assert_eq!(t.error_codes, ["5"]);
    let s = &t.segment_errors[0];
    assert_eq!(
        (
            s.segment_id.as_str(),
            s.position,
            s.loop_id.as_deref(),
            s.error_code.as_str()
        ),
        ("NM1", 8, Some("2010BA"), "8")
    );
    let el = &s.element_errors[0];
    assert_eq!(
        (
            el.position,
            el.component,
            el.element_reference.as_deref(),
            el.error_code.as_str(),
            el.bad_value.as_deref()
        ),
        (9, Some(1), Some("67"), "7", Some("XX"))
    );
    // IK4 without IK3, and a bad status code, are located
    let src = edit(
        &sample("999/x12_999_accepted.txt"),
        "IK5*A~",
        "IK4*9*67*7~\nIK5*A~",
    );
    let e = parse_999(&src).expect_err("IK4 first");
    assert!(
        matches!(&e, X12Error::Missing { at, .. } if (at.segment, at.segment_id.as_str()) == (6, "IK4")),
        "{e}"
    );
    let src = edit(&sample("999/x12_999_accepted.txt"), "IK5*A~", "IK5*Q~");
    let e = parse_999(&src).expect_err("IK501");
    assert!(
        matches!(&e, X12Error::Invalid { at, .. } if (at.segment, at.element) == (6, Some(1))),
        "{e}"
    );
    let src = edit(&sample("999/x12_999_accepted.txt"), "IK5*A~\n", "");
    let e = parse_999(&src).expect_err("no IK5");
    assert!(e.to_string().contains("IK5"), "{e}");
}

#[test]
fn ack_277ca_structure_errors() {
    let base = sample("277CA/x12_277CA_accepted.txt");
    let src = edit(&base, "TRN*2*5781~\n", "");
    let e = parse_277ca(&src).expect_err("no TRN");
    let X12Error::Missing { at, what } = &e else {
        panic!("{e}")
    };
    assert_eq!((at.segment, at.segment_id.as_str()), (19, "HL"));
    assert!(what.contains("TRN") && what.contains("HL 4"), "{what}");
    let src = edit(&base, "HL*4*3*PT", "HL*4*9*PT");
    let e = parse_277ca(&src).expect_err("parent");
    assert!(
        matches!(&e, X12Error::Invalid { at, .. } if (at.segment, at.element) == (19, Some(2))),
        "{e}"
    );
    let src = edit(&base, "HL*4*3*PT", "HL*3*3*PT");
    assert!(
        matches!(parse_277ca(&src), Err(X12Error::Invalid { at, .. }) if at.element == Some(1))
    );
    let src = edit(&base, "STC*A2:20", "STC*A2");
    let e = parse_277ca(&src).expect_err("STC01-2");
    assert!(
        matches!(&e, X12Error::Missing { at, .. } if (at.segment, at.element, at.component) == (22, Some(1), Some(2))),
        "{e}"
    );
}

#[test]
fn impossible_dates_are_located_warnings() {
    let src = edit(&managed_care(), "DTM*150*20020301", "DTM*150*20021301");
    let r = parse_835(&src).expect("835").remove(0);
    assert_eq!(r.claims[0].lines[0].service_start, None);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("segment 17 (DTM), element 2") && w.contains("20021301")),
        "{:?}",
        r.warnings
    );
}
