//! Throughput of the envelope reader and segment scanner.

use std::time::Instant;

use serde::Serialize;

use crate::reader::parse;

/// What [`bench_parse`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Bytes read in all rounds together.
    pub bytes: usize,
    /// Rounds run.
    pub rounds: usize,
    /// Wall-clock seconds for all rounds.
    pub seconds: f64,
    /// Throughput in MB/s (10^6 bytes per second).
    pub mb_per_s: f64,
    /// Segments of one round.
    pub segments: usize,
    /// Interchanges of one round.
    pub interchanges: usize,
    /// Transaction sets of one round.
    pub transactions: usize,
    /// The reader's error, when the input does not parse (the figures are then of the failed attempts).
    pub error: Option<String>,
}

/// Parses `bytes` (envelopes, every segment scanned and counted) `rounds`
/// times (at least once) and reports the throughput.
pub fn bench_parse(bytes: &[u8], rounds: usize) -> BenchReport {
    let rounds = rounds.max(1);
    let mut segments = 0;
    let mut interchanges = 0;
    let mut transactions = 0;
    let mut error = None;
    let start = Instant::now();
    for _ in 0..rounds {
        match parse(std::hint::black_box(bytes)) {
            Ok(all) => {
                segments = all.iter().map(|ic| ic.segment_count).sum();
                interchanges = all.len();
                transactions = all.iter().map(|ic| ic.transactions().count()).sum();
            }
            Err(e) => {
                error = Some(e.to_string());
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let total = bytes.len().saturating_mul(rounds);
    BenchReport {
        bytes: total,
        rounds,
        seconds,
        mb_per_s: if seconds > 0.0 {
            total as f64 / 1e6 / seconds
        } else {
            0.0
        },
        segments,
        interchanges,
        transactions,
        error,
    }
}
