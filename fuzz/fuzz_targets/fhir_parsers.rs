//! Feeds arbitrary bytes to the FHIR bundle parser and validator, bundle
//! ingest, the single-resource parser and the ClaimResponse/EOB reader.
//! Run with `cargo +nightly fuzz run fhir_parsers crates/medledger-fhir/tests/fixtures`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    medledger_fhir::fuzzing::fuzz_bundle(data);
});
