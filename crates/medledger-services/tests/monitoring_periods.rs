//! Worked RPM/RTM examples: every `tests/fixtures/monitoring/*.json` holds a
//! period (`input`), the expected codes with units and the refused codes
//! (`expect`), and a one-line `reason` written from the published rules.

use std::collections::BTreeSet;
use std::path::Path;

use medledger_services::monitoring::{MonitoringEngine, period_from_value};
use serde_json::Value;

fn fixtures(dir: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn worked_periods() {
    let engine = MonitoringEngine::builtin().unwrap();
    let rule_ids: BTreeSet<String> = engine.rule_metas().into_iter().map(|m| m.id).collect();
    let cases = fixtures("tests/fixtures/monitoring");
    assert!(cases.len() >= 20, "{} periods", cases.len());
    let mut failures = Vec::new();
    for (name, fx) in &cases {
        let reason = fx["reason"].as_str().unwrap_or("");
        assert!(!reason.is_empty(), "{name}: no reason");
        let period = period_from_value(&fx["input"], name).unwrap();
        let res = engine.evaluate(&period).unwrap();
        let mut got: Vec<(String, u64, Option<String>)> = res
            .lines
            .iter()
            .map(|l| (l.code.clone(), u64::from(l.units), l.month.clone()))
            .collect();
        let with_month = fx["expect"]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.get("month").is_some());
        if !with_month {
            for g in &mut got {
                g.2 = None;
            }
        }
        got.sort();
        let mut want: Vec<(String, u64, Option<String>)> = fx["expect"]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"].as_str().unwrap().to_string(),
                    c["units"].as_u64().unwrap(),
                    c.get("month").and_then(Value::as_str).map(str::to_string),
                )
            })
            .collect();
        want.sort();
        let mut got_refused: Vec<String> = res.refused.iter().map(|r| r.code.clone()).collect();
        got_refused.sort();
        let mut want_refused: Vec<String> = fx["expect"]["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        want_refused.sort();
        if got != want || got_refused != want_refused {
            failures.push(format!(
                "{name} ({reason}):\n  codes   {got:?}\n  wanted  {want:?}\n  refused {got_refused:?}\n  wanted  {want_refused:?}\n  result  {}",
                serde_json::to_string(&res).unwrap()
            ));
        }
        for l in &res.lines {
            assert!(
                rule_ids.contains(&l.rule_id),
                "{name}: unknown rule {}",
                l.rule_id
            );
            assert!(!l.reason.is_empty() && !l.label.is_empty(), "{name}");
        }
        for r in &res.refused {
            assert!(
                rule_ids.contains(&r.rule_id),
                "{name}: unknown rule {}",
                r.rule_id
            );
            assert!(!r.reason.is_empty(), "{name}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pre_2026_periods_never_get_the_2026_codes() {
    let engine = MonitoringEngine::builtin().unwrap();
    for (name, fx) in fixtures("tests/fixtures/monitoring") {
        let period = period_from_value(&fx["input"], &name).unwrap();
        if period.period_start >= jiff::civil::date(2026, 1, 1) {
            continue;
        }
        let res = engine.evaluate(&period).unwrap();
        for code in res
            .lines
            .iter()
            .map(|l| &l.code)
            .chain(res.refused.iter().map(|r| &r.code))
        {
            assert!(
                !["99445", "99470", "98979", "98984", "98985", "98986"].contains(&code.as_str()),
                "{name}: {code}"
            );
        }
    }
}

#[test]
fn cbt_supply_carries_the_medicare_pricing_note() {
    let engine = MonitoringEngine::builtin().unwrap();
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/monitoring/20_rtm_cbt_full.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let res = engine
        .evaluate(&period_from_value(&fx["input"], "20").unwrap())
        .unwrap();
    assert!(
        res.warnings
            .iter()
            .any(|w| w.starts_with("98978: contractor-priced")),
        "{:?}",
        res.warnings
    );
}

#[test]
fn rule_file_errors_name_the_file() {
    let err = MonitoringEngine::from_rules("[header]\nname = 1\n", "custom.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("custom.toml") && err.contains("line 2"),
        "{err}"
    );
}
