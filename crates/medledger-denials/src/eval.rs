//! Honest evaluation: train on the claims adjudicated before a split day,
//! test on the claims submitted on or after it.

use crate::Progress;
use crate::error::{DenialError, Result};
use crate::features::ClaimView;
use crate::metrics::{self, CalibrationBin};
use crate::model::{Model, TrainConfig, label};
use medledger_analytics::history::{Day, History, Outcome};
use serde::{Deserialize, Serialize};

/// Recall per true denial reason on the test period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonRecall {
    /// The reason (`GROUP-CARC`).
    pub reason: String,
    /// Test denials with that first reason.
    pub denials: usize,
    /// Share of them with a calibrated probability of at least 0.5.
    pub flagged: f64,
    /// Share of them whose predicted most likely reason is this one.
    pub reason_correct: f64,
}

/// The evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Split day.
    pub split: Day,
    /// Claims trained on (adjudicated before the split).
    pub train_claims: usize,
    /// Claims tested (submitted on or after the split, adjudicated).
    pub test_claims: usize,
    /// Denial rate of the test claims.
    pub test_denial_rate: f64,
    /// AUC on the test claims.
    pub auc: f64,
    /// Brier score.
    pub brier: f64,
    /// Log loss.
    pub log_loss: f64,
    /// Expected calibration error (10 bins).
    pub ece: f64,
    /// The calibration table.
    pub calibration: Vec<CalibrationBin>,
    /// Per-reason recall.
    pub reasons: Vec<ReasonRecall>,
    /// Training speed, claims per second (all epochs counted once per claim).
    pub train_claims_per_s: f64,
    /// Scoring speed (probability and reason), claims per second.
    pub score_claims_per_s: f64,
}

/// Trains before `split` and tests on or after it.
pub fn evaluate(
    h: &History,
    split: Day,
    config: &TrainConfig,
    progress: &dyn Progress,
) -> Result<Evaluation> {
    let t0 = std::time::Instant::now();
    let model = Model::train(h, config, Some(split), progress)?;
    let train_s = t0.elapsed().as_secs_f64();
    let train_claims = model.summary.claims as usize;
    let test: Vec<_> = h
        .claims
        .iter()
        .filter(|c| c.submitted >= split && c.outcome != Outcome::Pending)
        .collect();
    progress.stage("scoring the test period", test.len() as u64);
    let t1 = std::time::Instant::now();
    let mut buf = Vec::new();
    let mut probs = Vec::with_capacity(test.len());
    let mut labels = Vec::with_capacity(test.len());
    let mut reasons = Vec::with_capacity(test.len());
    for chunk in test.chunks(4096) {
        for c in chunk {
            let view = ClaimView::of_history(h, c);
            probs.push(model.probability(&view, &mut buf));
            let (y, r) = label(h, c).unwrap_or((false, None));
            labels.push(y);
            let predicted = if y {
                model.most_likely_reason(&view, &mut buf)
            } else {
                None
            };
            reasons.push((r.map(|r| h.reason_names.name(r).to_string()), predicted));
        }
        progress.advance(chunk.len() as u64);
    }
    progress.finish_stage();
    let score_s = t1.elapsed().as_secs_f64();
    let auc = metrics::auc(&probs, &labels).ok_or_else(|| DenialError::Data {
        what: "evaluation".into(),
        message: format!(
            "the {} test claims after the split do not have both paid and denied claims",
            test.len()
        ),
    })?;
    let calibration = metrics::calibration_table(&probs, &labels);
    let mut per: Vec<(String, usize, usize, usize)> = Vec::new();
    for ((truth, predicted), (&p, _)) in reasons.iter().zip(probs.iter().zip(&labels)) {
        let Some(t) = truth else { continue };
        let i = match per.iter().position(|x| &x.0 == t) {
            Some(i) => i,
            None => {
                per.push((t.clone(), 0, 0, 0));
                per.len() - 1
            }
        };
        per[i].1 += 1;
        per[i].2 += usize::from(p >= 0.5);
        per[i].3 += usize::from(predicted.as_deref() == Some(t.as_str()));
    }
    per.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let n = test.len();
    Ok(Evaluation {
        split,
        train_claims,
        test_claims: n,
        test_denial_rate: labels.iter().filter(|&&l| l).count() as f64 / n.max(1) as f64,
        auc,
        brier: metrics::brier(&probs, &labels),
        log_loss: metrics::log_loss(&probs, &labels),
        ece: metrics::ece(&calibration),
        calibration,
        reasons: per
            .into_iter()
            .map(|(reason, d, f, r)| ReasonRecall {
                reason,
                denials: d,
                flagged: f as f64 / d.max(1) as f64,
                reason_correct: r as f64 / d.max(1) as f64,
            })
            .collect(),
        train_claims_per_s: train_claims as f64 / train_s.max(1e-9),
        score_claims_per_s: n as f64 / score_s.max(1e-9),
    })
}
