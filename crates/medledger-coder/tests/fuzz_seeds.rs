//! Replays the coder fuzz seeds with deterministic mutations on stable
//! (cargo-fuzz needs nightly): the pipeline never panics and evidence stays
//! verbatim.

#[test]
fn seeds_and_mutations_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("seeds")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect();
    assert!(
        seeds.len() >= 2,
        "seed files missing from {}",
        dir.display()
    );
    seeds.push(Vec::new());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in &seeds {
        medledger_coder::fuzzing::code_any(seed);
        for _ in 0..300 {
            let mut m = seed.clone();
            for _ in 0..(1 + next() % 6) {
                let r = next();
                match r % 4 {
                    0 if !m.is_empty() => {
                        let i = (r >> 8) as usize % m.len();
                        m[i] = (r >> 16) as u8;
                    }
                    1 if !m.is_empty() => {
                        let i = (r >> 8) as usize % m.len();
                        m.remove(i);
                    }
                    2 => {
                        let i = if m.is_empty() {
                            0
                        } else {
                            (r >> 8) as usize % m.len()
                        };
                        let ins: &[u8] = [
                            b"no ".as_slice(),
                            b"\xc3\xb1",
                            b"history of ",
                            b".\n",
                            b"(",
                            b"\xf0\x9f\x98\x80",
                        ][(r >> 24) as usize % 6];
                        m.splice(i..i, ins.iter().copied());
                    }
                    _ => m.extend_from_slice(b" fever"),
                }
            }
            medledger_coder::fuzzing::code_any(&m);
        }
    }
}
