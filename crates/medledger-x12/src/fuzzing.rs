//! One entry point that feeds arbitrary bytes to the reader (lenient and
//! strict), the segment accessors, the round-trip writer and every typed
//! parser (835, 999, 277CA, 837 — each also run on every transaction set
//! without its ST01/GS08 check, so edited inputs reach deep). The fuzz
//! target `fuzz/fuzz_targets/x12_parsers.rs` calls it. Nothing here may
//! panic.

use crate::Delimiters;
use crate::reader::{parse, parse_strict};
use crate::writer::write_interchange;

/// Runs `data` through the reader, the writer and every typed parser.
pub fn x12_any(data: &[u8]) {
    let _ = parse_strict(data);
    let _ = crate::money::parse_cents(data);
    let _ = crate::remit835::parse_835(data);
    let _ = crate::ack999::parse_999(data);
    let _ = crate::ack277ca::parse_277ca(data);
    let _ = crate::claim837::parse_837(data);
    let Ok(all) = parse(data) else {
        return;
    };
    for ic in &all {
        for seg in ic.segments(data).flatten() {
            let n = seg.element_count();
            for i in 0..=n.min(32) + 1 {
                let _ = seg.element(i);
                let _ = seg.repetitions(i).count();
                let _ = seg.component(i, 1);
                let _ = seg.component(i, 3);
            }
        }
        for (g, t) in ic.transactions() {
            let _ = crate::remit835::Remittance::from_transaction(data, g, t);
            let _ = crate::remit835::parse_body(data, g, t);
            let _ = crate::ack999::parse_body(data, t);
            let _ = crate::ack277ca::parse_body(data, g, t);
            let _ = crate::claim837::parse_body(data, g, t);
        }
        for d in [ic.delimiters, Delimiters::default()] {
            if let Ok(bytes) = write_interchange(ic, data, d, true) {
                // what was written must read again
                let again = parse(&bytes);
                debug_assert!(again.is_ok(), "re-read failed: {again:?}");
            }
        }
    }
}
