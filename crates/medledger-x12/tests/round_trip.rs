//! parse → write → parse gives the same segments (ids and elements, split
//! into repetitions and components) and the same envelope fields, for
//! every shared sample, with the source's delimiters, the default ones and
//! unusual ones (`|`, `}`, `!`, newline as segment terminator).

mod common;

use common::samples;
use medledger_x12::{Delimiters, Interchange, parse, write_interchange};

type Logical = Vec<(String, Vec<Vec<Vec<Vec<u8>>>>)>;

/// Segments as data: id, then element → repetition → component; ISA11
/// and ISA16 (the delimiters themselves) left out.
fn logical(ic: &Interchange, src: &[u8]) -> Logical {
    ic.segments(src)
        .map(|s| {
            let s = s.expect("segment");
            let els = s
                .elements()
                .enumerate()
                .map(|(k, raw)| {
                    if s.id == b"ISA" {
                        if k == 10 || k == 15 {
                            return Vec::new();
                        }
                        return vec![vec![raw.to_vec()]];
                    }
                    let reps: Vec<&[u8]> = if raw.is_empty() {
                        vec![raw]
                    } else {
                        s.repetitions(k + 1).collect()
                    };
                    reps.into_iter()
                        .map(|r| s.components_of(r).map(<[u8]>::to_vec).collect())
                        .collect()
                })
                .collect();
            (s.id_str().to_owned(), els)
        })
        .collect()
}

fn envelope(ic: &Interchange) -> String {
    let mut isa = ic.isa.clone();
    isa.repetition.clear();
    isa.component.clear();
    let groups: Vec<_> = ic
        .groups
        .iter()
        .map(|g| {
            (
                [
                    &g.functional_id,
                    &g.sender,
                    &g.receiver,
                    &g.date,
                    &g.time,
                    &g.control_number,
                    &g.agency,
                    &g.version,
                ],
                g.first_segment,
                g.transactions
                    .iter()
                    .map(|t| {
                        (
                            t.id.clone(),
                            t.control.clone(),
                            t.implementation_reference.clone(),
                            t.first_segment,
                            t.segment_count,
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let issues: Vec<_> = ic
        .issues
        .iter()
        .map(|e| (e.location().segment, e.location().element))
        .collect();
    format!(
        "{isa:?} {groups:?} {} {} {} {} {issues:?}",
        ic.declared_group_count, ic.trailer_control_number, ic.first_segment, ic.segment_count
    )
}

fn round_trip(name: &str, src: &[u8], target: Option<Delimiters>, newline: bool) {
    let first = parse(src).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = Vec::new();
    for ic in &first {
        let d = target.unwrap_or(ic.delimiters);
        out.extend(
            write_interchange(ic, src, d, newline).unwrap_or_else(|e| panic!("{name}: {e}")),
        );
    }
    let second = parse(&out)
        .unwrap_or_else(|e| panic!("{name} re-read: {e}\n{}", String::from_utf8_lossy(&out)));
    assert_eq!(first.len(), second.len(), "{name}: interchanges");
    for (a, b) in first.iter().zip(&second) {
        if let Some(d) = target {
            assert_eq!(b.delimiters, d, "{name}");
        } else {
            assert_eq!(a.delimiters, b.delimiters, "{name}");
            assert_eq!(a.isa, b.isa, "{name}");
        }
        assert_eq!(envelope(a), envelope(b), "{name}: envelope");
        assert_eq!(logical(a, src), logical(b, &out), "{name}: segments");
    }
}

#[test]
fn every_sample_round_trips_with_its_own_delimiters() {
    for (name, src) in samples() {
        round_trip(&name, &src, None, false);
        round_trip(&name, &src, None, true);
    }
}

#[test]
fn every_sample_round_trips_with_other_delimiters() {
    let unusual = Delimiters {
        element: b'|',
        component: b'}',
        repetition: b'!',
        segment: b'\n',
    };
    for (name, src) in samples() {
        round_trip(&name, &src, Some(Delimiters::default()), true);
        round_trip(&name, &src, Some(unusual), false);
    }
}

#[test]
fn same_delimiters_reproduce_the_segments_byte_for_byte() {
    for (name, src) in samples() {
        let all = parse(&src).expect("parses");
        for ic in &all {
            let out = write_interchange(ic, &src, ic.delimiters, false).expect("writes");
            let again = parse(&out).expect("re-reads");
            let a: Vec<Vec<u8>> = ic
                .segments(&src)
                .map(|s| s.expect("seg").raw().to_vec())
                .collect();
            let b: Vec<Vec<u8>> = again[0]
                .segments(&out)
                .map(|s| s.expect("seg").raw().to_vec())
                .collect();
            assert_eq!(a, b, "{name}");
        }
    }
}

#[test]
fn data_containing_a_new_delimiter_is_refused() {
    let src = common::sample("835/managed-care.835");
    let ic = &parse(&src).expect("parses")[0];
    // 'A' cannot be a delimiter; ' ' neither
    let d = Delimiters {
        element: b'A',
        ..Delimiters::default()
    };
    assert!(write_interchange(ic, &src, d, false).is_err());
    // '.' occurs in amounts: refused with the segment and element named
    let d = Delimiters {
        component: b'.',
        ..Delimiters::default()
    };
    let e = write_interchange(ic, &src, d, false).expect_err("'.' in BPR02");
    assert_eq!(
        e,
        medledger_x12::WriteError::DelimiterInData {
            segment: "BPR".into(),
            index: 2,
            element: 2,
            delimiter: '.'
        }
    );
}
