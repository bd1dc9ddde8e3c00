//! Feeds arbitrary bytes through the coding pipeline (input checks, text
//! processing, matching, context, guidelines). Run with
//! `cargo +nightly fuzz run code_note crates/medledger-coder/tests/seeds`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    medledger_coder::fuzzing::code_any(data);
});
