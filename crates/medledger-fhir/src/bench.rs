//! Ingest throughput (no criterion): parse + validate + ingest of bundles,
//! repeated, wall-clock.

use serde::Serialize;
use std::time::Instant;

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// Bundles processed (inputs × rounds).
    pub bundles: usize,
    /// Bytes processed.
    pub bytes: usize,
    /// Encounters produced.
    pub encounters: usize,
    /// Seconds.
    pub seconds: f64,
    /// MB (10^6 bytes) per second.
    pub mb_per_s: f64,
    /// Bundles per second.
    pub bundles_per_s: f64,
}

/// Parses, validates and ingests every input `rounds` times. Inputs that
/// fail to parse count, but produce no encounters.
pub fn ingest_throughput(inputs: &[Vec<u8>], rounds: usize) -> Throughput {
    let start = Instant::now();
    let (mut bundles, mut bytes, mut encounters) = (0, 0, 0);
    for _ in 0..rounds {
        for i in inputs {
            bundles += 1;
            bytes += i.len();
            if let Ok(b) = crate::parse_bundle(i)
                && let Ok(ing) = crate::ingest::ingest_bundle(&b)
            {
                encounters += ing.encounters.len();
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    Throughput {
        bundles,
        bytes,
        encounters,
        seconds,
        mb_per_s: bytes as f64 / 1e6 / seconds,
        bundles_per_s: bundles as f64 / seconds,
    }
}
