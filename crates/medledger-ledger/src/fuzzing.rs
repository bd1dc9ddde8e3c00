//! One entry point that feeds arbitrary bytes to every parser of the ledger
//! crate: review policies (TOML), HCC map CSV, database URLs, the
//! PostgreSQL placeholder rewrite, review decisions and encounters (JSON)
//! with their evidence checks, and stored audit rows. The fuzz target
//! `fuzz/fuzz_targets/ledger_inputs.rs` calls it; nothing here may panic.

use crate::audit::{AuditRow, from_row};
use crate::ledger::encounters::check_spans;
use crate::ledger::{DecisionInput, HccMap, NewEncounter, ReviewPolicy};
use crate::store::DbLocation;
use crate::store::postgres::rewrite_placeholders;

/// The parsers, in the order the first byte selects them.
pub const PARSERS: [&str; 7] = [
    "review_policy",
    "hcc_map_csv",
    "db_url",
    "sql_placeholders",
    "decision_json",
    "encounter_json",
    "audit_row",
];

/// Runs `data[1..]` through the parser `data[0] % PARSERS.len()` selects,
/// and checks its invariants.
pub fn ledger_any(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match usize::from(sel) % PARSERS.len() {
        0 => {
            if let Ok(p) = ReviewPolicy::parse(&text, "fuzz") {
                assert!((0.0..=1.0).contains(&p.rules.confidence_below));
                assert_eq!(p.sha256.len(), 64);
            }
        }
        1 => {
            if let Ok(m) = HccMap::from_csv_text(&text, "fuzz", "CMS-HCC Model V28") {
                assert!(!m.is_empty());
            }
        }
        2 => {
            let dir = std::path::Path::new("/nonexistent");
            if let Ok(loc) = DbLocation::parse(Some(&text), dir) {
                // the description never shows a password given as user:pw@
                let d = loc.describe();
                if let Some((creds, _)) = text.split_once('@')
                    && let Some((_, pw)) = creds.rsplit_once(':')
                    && pw.len() >= 4
                    && !pw.contains('/')
                    && matches!(loc, DbLocation::Postgres(_))
                {
                    assert!(!d.contains(&format!(":{pw}@")), "{d}");
                }
            }
        }
        3 => {
            let (out, n) = rewrite_placeholders(&text);
            // every numbered placeholder $1..$n appears
            for i in 1..=n.min(64) {
                assert!(out.contains(&format!("${i}")), "{out}");
            }
        }
        4 => {
            let _ = serde_json::from_str::<DecisionInput>(&text);
        }
        5 => {
            if let Ok(e) = serde_json::from_str::<NewEncounter>(&text) {
                for s in &e.suggestions {
                    let _ = check_spans(&e.note_text, &s.evidence, "fuzz");
                }
            }
        }
        _ => {
            let mut cols = text.split('\u{1f}');
            let mut next = || cols.next().unwrap_or_default().to_owned();
            let seq = next().parse::<i64>().unwrap_or(1);
            let row = AuditRow {
                seq,
                at: next(),
                org: next(),
                actor: next(),
                kind: next(),
                subject: next(),
                detail: next(),
                prev_hash: next().into_bytes(),
                hash: next().into_bytes(),
                signature: None,
                key_id: None,
            };
            let _ = from_row(row);
        }
    }
}
