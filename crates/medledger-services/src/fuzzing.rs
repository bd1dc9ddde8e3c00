//! One entry point that feeds arbitrary bytes to every service-coding
//! parser and engine (E/M leveling, monitoring periods, DMHT cases, PLA
//! lists and orders, telehealth notes, rule files); the fuzz target
//! `fuzz/fuzz_targets/service_inputs.rs` calls it. Nothing here may panic.

use std::sync::OnceLock;

use crate::em::{EmEngine, EmRequest, PatientStatus, Setting};

fn engines() -> &'static (
    EmEngine,
    crate::monitoring::MonitoringEngine,
    crate::dmht::DmhtEngine,
) {
    static E: OnceLock<(
        EmEngine,
        crate::monitoring::MonitoringEngine,
        crate::dmht::DmhtEngine,
    )> = OnceLock::new();
    E.get_or_init(|| {
        (
            EmEngine::builtin().expect("built-in E/M rules load"),
            crate::monitoring::MonitoringEngine::builtin().expect("built-in monitoring rules load"),
            crate::dmht::DmhtEngine::builtin().expect("built-in DMHT rules load"),
        )
    })
}

/// Runs `data` through every parser and engine; the first byte picks the
/// setting so all code tables are reached.
pub fn service_any(data: &[u8]) {
    let (em, mon, dmht) = engines();
    let text = String::from_utf8_lossy(data);
    let dos = jiff::civil::date(2026, 3, 2);
    let mut req = EmRequest::office(
        if data.first().is_some_and(|b| b & 1 == 1) {
            PatientStatus::New
        } else {
            PatientStatus::Established
        },
        dos,
    );
    req.setting = match data.first().map(|b| (b >> 1) % 4) {
        Some(1) => Setting::Inpatient,
        Some(2) => Setting::Observation,
        Some(3) => Setting::Ed,
        _ => Setting::Office,
    };
    let _ = em.level(&text, &req);
    if let Ok(p) = crate::monitoring::parse_period(&text, "fuzz") {
        let _ = mon.evaluate(&p);
    }
    if let Ok(c) = crate::dmht::parse_case(&text, "fuzz") {
        let _ = dmht.evaluate(&c);
    }
    if let Ok(list) = crate::pla::PlaList::from_csv(data, "fuzz.csv") {
        let _ = list.find_in_text(&text);
    }
    let ctx = crate::telehealth::TelehealthContext::new(
        dos,
        crate::telehealth::TelehealthPayer::Medicare,
    );
    let _ = crate::telehealth::assess(&text, &ctx);
    let _ = EmEngine::from_rules(&text, "fuzz.toml");
    let _ = crate::monitoring::MonitoringEngine::from_rules(&text, "fuzz.toml");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_inputs_do_not_panic() {
        for seed in [
            &b""[..],
            b"\xff\xfe\x00",
            b"{\"program\":\"rpm\",\"period_start\":\"2026-02-30\"}",
            b"code,lab,test_name\n0001U,,\n",
            b"[header]\nname=\"em\"\nversion=\"x\"\nsources=[]\n",
            "Total time: 99999999999 minutes. Sepsis. Admit. DNR. \u{1F600}".as_bytes(),
        ] {
            service_any(seed);
        }
    }
}
