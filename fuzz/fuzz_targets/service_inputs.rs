//! Feeds arbitrary bytes to every service-coding parser and engine (E/M
//! notes, monitoring periods, DMHT cases, PLA lists and orders, telehealth
//! notes, rule files). Run with `cargo +nightly fuzz run service_inputs`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    medledger_services::fuzzing::service_any(data);
});
