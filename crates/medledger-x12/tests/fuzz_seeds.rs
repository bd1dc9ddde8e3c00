//! Replays every shared X12 sample through the fuzz entry point on
//! stable, then property-tests random byte edits (insert / delete /
//! replace, delimiter bytes included) of those samples: nothing may
//! panic. cargo-fuzz (nightly) runs the same entry point:
//! `fuzz/fuzz_targets/x12_parsers.rs`.

mod common;

use medledger_x12::fuzzing::x12_any;
use proptest::prelude::*;
use std::sync::OnceLock;

/// The samples, the large throughput file cut to its first 16 KiB so
/// that each proptest case stays fast.
fn seeds() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        common::samples()
            .into_iter()
            .map(|(_, mut b)| {
                b.truncate(16 * 1024);
                b
            })
            .collect()
    })
}

#[test]
fn every_sample_replays() {
    for (name, bytes) in common::samples() {
        eprintln!("{name}");
        x12_any(&bytes);
    }
    x12_any(b"");
    x12_any(b"ISA");
    x12_any(b"ISA*");
    x12_any(&[0xEF, 0xBB, 0xBF]);
    x12_any(&[0xFF; 200]);
}

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Remove(usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let delimiter = prop_oneof![
        Just(b'*'),
        Just(b'~'),
        Just(b':'),
        Just(b'^'),
        Just(b'>'),
        Just(b'_'),
        Just(b'\n'),
        Just(b'\r'),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), delimiter.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        any::<usize>().prop_map(Edit::Remove),
        (
            any::<usize>(),
            prop_oneof![
                delimiter.prop_map(|b| vec![b]),
                Just(b"~ISA*".to_vec()),
                Just(b"~SE*1*1~".to_vec()),
                Just(b"~GE*1*1~IEA*1*000000001~".to_vec()),
                Just(b"~CLP*1*1*-.5*1.234~".to_vec()),
                Just(b"~SVC*HC:99213:25:::::*x~".to_vec()),
                Just(b"~HL*1*1*PT~HL*2*2*20~".to_vec()),
                Just(b"~PLB*1*20240101*WO:1*1*:*~".to_vec()),
                Just(b"~IK4*::*1~".to_vec()),
                Just(b"~CAS*CO*1*1*1*2*2*2*3*3*3*4*4*4*5*5*5*6*6*6*7*7*7~".to_vec()),
                prop::collection::vec(any::<u8>(), 0..12),
            ]
        )
            .prop_map(|(i, v)| Edit::Insert(i, v)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn edited_samples_never_panic(which in any::<usize>(), edits in prop::collection::vec(edit(), 1..8)) {
        let all = seeds();
        let mut m = all[which % all.len()].clone();
        for e in edits {
            let n = m.len().max(1);
            match e {
                Edit::Set(i, b) if !m.is_empty() => { let i = i % m.len(); m[i] = b; }
                Edit::Remove(i) if !m.is_empty() => { m.remove(i % m.len()); }
                Edit::Insert(i, v) => { let i = (i % n).min(m.len()); m.splice(i..i, v); }
                Edit::Truncate(i) => m.truncate(i % n),
                Edit::Duplicate(i, len) if !m.is_empty() => {
                    let i = i % m.len();
                    let j = (i + len).min(m.len());
                    let piece = m[i..j].to_vec();
                    m.splice(j..j, piece);
                }
                _ => {}
            }
        }
        x12_any(&m);
    }
}
