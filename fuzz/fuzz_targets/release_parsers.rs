//! Feeds arbitrary bytes to every release-file parser. The first byte picks
//! the parser so one corpus covers them all. Run with
//! `cargo +nightly fuzz run release_parsers fuzz/seeds`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    medledger_codesets::fuzzing::parse_any(data);
});
