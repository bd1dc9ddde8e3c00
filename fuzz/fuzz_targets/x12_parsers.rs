//! Feeds arbitrary bytes to the X12 reader (delimiter detection, segments,
//! envelope checks), the round-trip writer and the typed 835 / 999 / 277CA
//! / 837 parsers. Run with `cargo +nightly fuzz run x12_parsers`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    medledger_x12::fuzzing::x12_any(data);
});
