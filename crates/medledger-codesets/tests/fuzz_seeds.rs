//! Replays the fuzz corpus (`fuzz/seeds`) on stable: every seed, then
//! deterministic mutations of each (byte flips, insertions, deletions,
//! truncations, splices). Every parser must return, never panic.

use std::path::Path;

use medledger_codesets::fuzzing::{PARSERS, parse_any};

/// xorshift64*: a fixed, seedable stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(6) {
            0 if len > 1 => {
                let i = 1 + rng.below(len - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = 1 + rng.below(len.max(1));
                let b = [
                    b'<', b'>', b'/', b'&', b';', b'\t', b'\n', b'"', b'0', b'X', 0xff,
                ][rng.below(11)];
                v.insert(i.min(len), b);
            }
            2 if len > 2 => {
                let i = 1 + rng.below(len - 1);
                let n = rng.below(16).min(len - i);
                v.drain(i..i + n);
            }
            3 if len > 2 => v.truncate(1 + rng.below(len - 1)),
            4 if len > 4 => {
                let a = 1 + rng.below(len - 1);
                let b = 1 + rng.below(len - 1);
                let (lo, hi) = (a.min(b), a.max(b));
                let chunk = v[lo..hi].to_vec();
                let at = 1 + rng.below(v.len() - 1);
                v.splice(at..at, chunk);
            }
            _ if len > 0 => v[0] = rng.below(PARSERS as usize) as u8,
            _ => {}
        }
    }
    v
}

#[test]
fn every_seed_and_its_mutations_parse_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/seeds exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    seeds.sort();
    assert!(
        seeds.len() >= 8,
        "expected a seed per parser, found {}",
        seeds.len()
    );
    let mut accepted = 0;
    for path in &seeds {
        let seed = std::fs::read(path).expect("read seed");
        if parse_any(&seed) {
            accepted += 1;
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.len() as u64);
        for _ in 0..1_500 {
            let input = mutate(&seed, &mut rng);
            let _ = parse_any(&input);
        }
    }
    // The seeds themselves are valid files in the official layouts.
    assert_eq!(accepted, seeds.len(), "every seed must parse");
}
