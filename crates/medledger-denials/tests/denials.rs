//! End to end: the simulator's default practice, the model trained on the
//! early period and tested on the later one, incremental updates,
//! explanations and the model file.

use medledger_analytics::history::{History, NONE, Outcome, day};
use medledger_denials::features::{ClaimView, Feature, LineView};
use medledger_denials::model::label;
use medledger_denials::{Model, NoProgress, SimConfig, TrainConfig, evaluate, simulate};

fn month(cfg: &SimConfig, m: i64) -> i32 {
    let d = medledger_analytics::history::date(cfg.start);
    day(d.checked_add(jiff::Span::new().months(m)).unwrap())
}

fn small(claims: usize) -> SimConfig {
    SimConfig {
        claims,
        ..SimConfig::default()
    }
}

#[test]
fn default_settings_reach_auc_090_on_the_later_period() {
    let cfg = small(80_000);
    let h = simulate(&cfg).unwrap();
    let e = evaluate(&h, month(&cfg, 12), &TrainConfig::default(), &NoProgress).unwrap();
    eprintln!(
        "AUC {:.4} Brier {:.4} log loss {:.4} ECE {:.4} test {} denial rate {:.3}",
        e.auc, e.brier, e.log_loss, e.ece, e.test_claims, e.test_denial_rate
    );
    assert!(e.auc >= 0.90, "AUC {} below 0.90", e.auc);
    assert!(e.ece < 0.03, "ECE {}", e.ece);
    assert!(e.test_claims > 20_000);
    assert_eq!(e.calibration.len(), 10);
    assert_eq!(
        e.calibration.iter().map(|b| b.count).sum::<usize>(),
        e.test_claims
    );
    // The rule-driven reasons are found; noise reasons are not.
    let recall = |r: &str| {
        e.reasons
            .iter()
            .find(|x| x.reason == r)
            .map(|x| x.reason_correct)
            .unwrap()
    };
    assert!(recall("CO-197") > 0.8, "{:?}", e.reasons);
    assert!(recall("CO-97") > 0.8, "{:?}", e.reasons);
}

#[test]
fn simulation_is_deterministic_and_keeps_the_history_contract() {
    let cfg = small(5_000);
    let a = simulate(&cfg).unwrap();
    let b = simulate(&cfg).unwrap();
    assert_eq!(a.claims, b.claims);
    assert_eq!(a.lines, b.lines);
    let c = simulate(&SimConfig {
        seed: 7,
        ..cfg.clone()
    })
    .unwrap();
    assert_ne!(a.lines, c.lines);
    assert!(
        a.claims
            .windows(2)
            .all(|w| w[0].submitted <= w[1].submitted)
    );
    assert!(
        a.prior_auths
            .windows(2)
            .all(|w| w[0].requested <= w[1].requested)
    );
    assert!(!a.prior_auths.is_empty());
    let mut denied = 0;
    for cl in &a.claims {
        assert!(cl.lines.end as usize <= a.lines.len() && cl.lines.start < cl.lines.end);
        assert!(cl.diagnoses.end as usize <= a.diagnoses.len());
        assert!(cl.service_date <= cl.submitted);
        let lines = a.lines_of(cl);
        assert_eq!(
            cl.charge_cents,
            lines.iter().map(|l| l.charge_cents).sum::<i64>()
        );
        for l in lines {
            assert!((l.dx_pointer as usize) < a.diagnoses_of(cl).len());
            assert_eq!(l.denied, l.reason != NONE);
        }
        match cl.outcome {
            Outcome::Pending => assert!(cl.adjudicated.is_none()),
            Outcome::Paid => assert!(lines.iter().all(|l| !l.denied)),
            Outcome::Denied => {
                denied += 1;
                assert!(lines.iter().all(|l| l.denied) && !a.reasons_of(cl).is_empty());
            }
            Outcome::PartiallyDenied => {
                assert!(lines.iter().any(|l| l.denied) && lines.iter().any(|l| !l.denied))
            }
        }
        if cl.overturned {
            assert!(cl.appealed);
        }
    }
    assert!(denied > 0);
    let rejected = a
        .claims
        .iter()
        .filter(|c| c.ack == medledger_analytics::history::AckOutcome::Rejected)
        .count();
    assert!(rejected > 20 && rejected < 200, "{rejected}");
}

#[test]
fn bad_settings_name_the_field() {
    let mut cfg = small(10);
    cfg.noise_denial_rate = 1.5;
    let e = simulate(&cfg).unwrap_err().to_string();
    assert!(e.contains("noise_denial_rate"), "{e}");
    let mut cfg = small(10);
    cfg.rules
        .push(medledger_denials::sim::Rule::DiagnosisMustSupport {
            payer: "NOBODY".into(),
            carc: "CO-11".into(),
        });
    let e = simulate(&cfg).unwrap_err().to_string();
    assert!(e.contains("rules[") && e.contains("NOBODY"), "{e}");
}

fn test_loss(m: &Model, h: &History, from: i32) -> (f64, f64) {
    let mut buf = Vec::new();
    let (mut p, mut y) = (Vec::new(), Vec::new());
    for c in h.claims.iter().filter(|c| c.submitted >= from) {
        if let Some((l, _)) = label(h, c) {
            p.push(m.probability(&ClaimView::of_history(h, c), &mut buf));
            y.push(l);
        }
    }
    (
        medledger_denials::metrics::auc(&p, &y).unwrap(),
        medledger_denials::metrics::log_loss(&p, &y),
    )
}

#[test]
fn incremental_update_improves_the_model() {
    let cfg = small(40_000);
    let h = simulate(&cfg).unwrap();
    let config = TrainConfig::default();
    let mut m = Model::train(&h, &config, Some(month(&cfg, 2)), &NoProgress).unwrap();
    let (auc0, ll0) = test_loss(&m, &h, month(&cfg, 13));
    let learnt = m.update(&h, month(&cfg, 2), Some(month(&cfg, 12)), &NoProgress);
    assert!(learnt > 15_000, "{learnt}");
    let (auc1, ll1) = test_loss(&m, &h, month(&cfg, 13));
    eprintln!(
        "before update AUC {auc0:.4} log loss {ll0:.4}; after AUC {auc1:.4} log loss {ll1:.4}"
    );
    assert!(auc1 > auc0 + 0.01, "{auc0} → {auc1}");
    assert!(ll1 < ll0, "{ll0} → {ll1}");
    assert_eq!(m.summary.updates, 1);
}

#[test]
fn explanations_name_the_driving_features_and_the_file_round_trips() {
    let cfg = small(30_000);
    let h = simulate(&cfg).unwrap();
    let m = Model::train(&h, &TrainConfig::default(), None, &NoProgress).unwrap();
    let view = ClaimView {
        payer: "PAYER_A",
        provider: h.providers.name(0),
        place_of_service: 11,
        institutional: false,
        prior_auth: false,
        lag_days: 2,
        charge_cents: 150_000,
        diagnoses: vec!["G43909"],
        lines: vec![LineView {
            code: "70551",
            modifiers: vec![],
            units: 1,
            dx_pointer: 0,
        }],
    };
    let p = m.predict(&view, 8);
    assert!(p.probability > 0.7, "{p:?}");
    assert_eq!(
        p.reason.as_ref().map(|r| r.0.as_str()),
        Some("CO-197"),
        "{p:?}"
    );
    assert!(p.top_features.len() <= 8 && !p.top_features.is_empty());
    let top = p.top_features.iter().find(|f| f.logit > 0.0).unwrap();
    assert!(top.feature.contains("code=70551"), "{p:?}");
    assert!(
        p.top_features
            .iter()
            .any(|f| f.feature == "payer=PAYER_A × code=70551 × prior_auth=no" && f.logit > 0.0),
        "{p:?}"
    );
    assert!(
        p.top_features
            .windows(2)
            .all(|w| w[0].logit.abs() >= w[1].logit.abs())
    );
    // The same claim with its authorisation on file is much safer.
    let with_pa = m.predict(
        &ClaimView {
            prior_auth: true,
            ..view.clone()
        },
        8,
    );
    assert!(
        with_pa.probability < p.probability / 3.0,
        "{} vs {}",
        with_pa.probability,
        p.probability
    );
    let named = Feature::name_of(&[
        ("payer", "PAYER_A"),
        ("code", "70551"),
        ("prior_auth", "no"),
    ]);
    assert_eq!(named, "payer=PAYER_A × code=70551 × prior_auth=no");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("denials/model.json");
    m.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.predict(&view, 8), p);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"format\":1,\"version\":\"medledger-denials-"));
}
