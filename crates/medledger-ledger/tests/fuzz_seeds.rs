//! Replays the ledger fuzz seeds (`tests/seeds`, first byte selects the
//! parser) on stable, then property-tests random edits of each seed:
//! no parser of the ledger crate may panic. cargo-fuzz (nightly) runs the
//! same entry point: `fuzz/fuzz_targets/ledger_inputs.rs`.

use medledger_ledger::fuzzing::{PARSERS, ledger_any};
use proptest::prelude::*;

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("seeds")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_parser_has_a_seed_and_seeds_run() {
    let seeds = seeds();
    for (i, name) in PARSERS.iter().enumerate() {
        assert!(
            seeds
                .iter()
                .any(|s| s.first().map(|b| usize::from(*b) % PARSERS.len()) == Some(i)),
            "no seed for {name}"
        );
    }
    for s in &seeds {
        ledger_any(s);
    }
    ledger_any(&[]);
}

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Remove(usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        any::<usize>().prop_map(Edit::Remove),
        (
            any::<usize>(),
            prop_oneof![
                Just(b"\"".to_vec()),
                Just(b"?".to_vec()),
                Just(b"'".to_vec()),
                Just(b"$$".to_vec()),
                Just(b"\n[review]\n".to_vec()),
                Just("\u{e9}\u{1f600}".as_bytes().to_vec()),
                prop::collection::vec(any::<u8>(), 0..8),
            ]
        )
            .prop_map(|(i, v)| Edit::Insert(i, v)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]
    #[test]
    fn edited_seeds_never_panic(which in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let all = seeds();
        let mut m = all[which % all.len()].clone();
        for e in edits {
            // keep the selector byte so each parser gets its share
            let n = m.len().max(1);
            match e {
                Edit::Set(i, b) if m.len() > 1 => { let i = 1 + i % (m.len() - 1); m[i] = b; }
                Edit::Remove(i) if m.len() > 1 => { m.remove(1 + i % (m.len() - 1)); }
                Edit::Insert(i, v) => { let i = (1 + i % n).min(m.len()); m.splice(i..i, v); }
                Edit::Truncate(i) => m.truncate(1 + i % n),
                _ => {}
            }
        }
        ledger_any(&m);
    }
}
