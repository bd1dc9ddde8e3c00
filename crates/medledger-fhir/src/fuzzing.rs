//! One entry point over every parser of the crate, for
//! `fuzz/fuzz_targets/fhir_parsers.rs` and the stable seed/mutation test.
//! Nothing here may panic; whatever parses must also ingest, serialise and
//! parse again.

/// Feeds `data` to the bundle parser, ingest, the resource parser and the
/// remittance reader.
pub fn fuzz_bundle(data: &[u8]) {
    if let Ok(b) = crate::parse_bundle(data) {
        let _ = crate::ingest::ingest_bundle(&b);
        let again = serde_json::to_vec(&b.to_json()).unwrap_or_default();
        let re = crate::parse_bundle_unchecked(&again);
        debug_assert!(re.is_ok(), "re-read of a serialised bundle failed: {re:?}");
    }
    let _ = crate::parse_bundle_unchecked(data);
    if let Ok(r) = crate::parse_resource(data) {
        let _ = r.to_json();
    }
    if let Ok(r) = crate::remit::read_remittance(data) {
        let _ = r.to_posting(None);
    }
}
