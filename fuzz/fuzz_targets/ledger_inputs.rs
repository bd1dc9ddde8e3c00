//! Feeds arbitrary bytes to every parser of the ledger (review policies,
//! HCC map CSV, database URLs, the PostgreSQL placeholder rewrite, decision
//! and encounter JSON with their evidence checks, stored audit rows). Run
//! with `cargo +nightly fuzz run ledger_inputs crates/medledger-ledger/tests/seeds`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    medledger_ledger::fuzzing::ledger_any(data);
});
