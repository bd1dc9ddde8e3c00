//! The denial model: FTRL-Proximal logistic regression over hashed, crossed
//! claim features ([`crate::features`]), Platt-calibrated on a held-out
//! slice, with a per-reason model (one-vs-rest logistic over the same
//! features, trained on denied claims) for the most likely CARC.
//!
//! Learning is online: [`Model::update`] takes new 835 outcomes and keeps
//! learning from where training stopped (per-coordinate FTRL state is saved
//! with the model).

use crate::Progress;
use crate::error::{DenialError, Result};
use crate::features::{self, ClaimView, for_each_feature};
use medledger_analytics::history::{Claim, Day, History, NONE, Outcome};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Model file format version.
pub const FORMAT: u32 = 1;

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// FTRL learning-rate scale α.
    pub alpha: f64,
    /// FTRL learning-rate smoothing β.
    pub beta: f64,
    /// L1 strength (sparsity).
    pub l1: f64,
    /// L2 strength.
    pub l2: f64,
    /// Hash space: 2^bits weights.
    pub bits: u32,
    /// Passes over the training claims.
    pub epochs: u32,
    /// Share of the latest training claims held out to fit the calibration.
    pub calibration_share: f64,
    /// Reasons with fewer denials than this are pooled as `other`.
    pub min_reason_count: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            alpha: 0.1,
            beta: 1.0,
            l1: 0.5,
            l2: 1.0,
            bits: 20,
            epochs: 2,
            calibration_share: 0.1,
            min_reason_count: 20,
        }
    }
}

/// FTRL-Proximal state per coordinate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "FtrlFile", into = "FtrlFile")]
pub struct Ftrl {
    bits: u32,
    alpha: f64,
    beta: f64,
    l1: f64,
    l2: f64,
    z: Vec<f32>,
    n: Vec<f32>,
}

/// The saved form: only the coordinates ever touched.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FtrlFile {
    bits: u32,
    alpha: f64,
    beta: f64,
    l1: f64,
    l2: f64,
    /// `(index, z, n)` of every touched coordinate, by index.
    coords: Vec<(u32, f32, f32)>,
}

impl From<Ftrl> for FtrlFile {
    fn from(f: Ftrl) -> Self {
        let coords = (0..f.n.len())
            .filter(|&i| f.n[i] != 0.0)
            .map(|i| (i as u32, f.z[i], f.n[i]))
            .collect();
        FtrlFile {
            bits: f.bits,
            alpha: f.alpha,
            beta: f.beta,
            l1: f.l1,
            l2: f.l2,
            coords,
        }
    }
}

impl From<FtrlFile> for Ftrl {
    fn from(f: FtrlFile) -> Self {
        let bits = f.bits.clamp(4, 26);
        let mut m = Ftrl::new(bits, f.alpha, f.beta, f.l1, f.l2);
        for (i, z, n) in f.coords {
            if let Some(slot) = m.z.get_mut(i as usize) {
                *slot = z;
                m.n[i as usize] = n;
            }
        }
        m
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Ftrl {
    fn new(bits: u32, alpha: f64, beta: f64, l1: f64, l2: f64) -> Self {
        let size = 1usize << bits;
        Ftrl {
            bits,
            alpha,
            beta,
            l1,
            l2,
            z: vec![0.0; size],
            n: vec![0.0; size],
        }
    }

    fn index(&self, hash: u64) -> usize {
        (hash >> (64 - self.bits)) as usize
    }

    fn weight_at(&self, i: usize) -> f64 {
        let z = f64::from(self.z[i]);
        if z.abs() <= self.l1 {
            return 0.0;
        }
        let n = f64::from(self.n[i]);
        -(z - z.signum() * self.l1) / ((self.beta + n.sqrt()) / self.alpha + self.l2)
    }

    /// The weight of a feature hash.
    fn weight(&self, hash: u64) -> f64 {
        self.weight_at(self.index(hash))
    }

    fn logit(&self, hashes: &[u64]) -> f64 {
        hashes.iter().map(|&h| self.weight(h)).sum()
    }

    /// One online step on a binary example; returns the prediction before it.
    fn learn(&mut self, hashes: &[u64], label: bool) -> f64 {
        let p = sigmoid(self.logit(hashes).clamp(-35.0, 35.0));
        let g = p - if label { 1.0 } else { 0.0 };
        for &h in hashes {
            let i = self.index(h);
            let w = self.weight_at(i);
            let n = f64::from(self.n[i]);
            let sigma = ((n + g * g).sqrt() - n.sqrt()) / self.alpha;
            self.z[i] = (f64::from(self.z[i]) + g - sigma * w) as f32;
            self.n[i] = (n + g * g) as f32;
        }
        p
    }
}

/// Platt scaling: p = σ(a·logit + b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    /// Slope.
    pub a: f64,
    /// Intercept.
    pub b: f64,
}

impl Platt {
    /// Identity on the logit.
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    /// Fits a and b by Newton's method on the log loss, with Platt's
    /// smoothed targets (`(n₊+1)/(n₊+2)`, `1/(n₋+2)`).
    pub fn fit(logits: &[f64], labels: &[bool]) -> Platt {
        let n_pos = labels.iter().filter(|&&l| l).count() as f64;
        let n_neg = labels.len() as f64 - n_pos;
        if n_pos == 0.0 || n_neg == 0.0 {
            return Platt::IDENTITY;
        }
        let t_pos = (n_pos + 1.0) / (n_pos + 2.0);
        let t_neg = 1.0 / (n_neg + 2.0);
        let (mut a, mut b) = (1.0, 0.0);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
            for (&x, &l) in logits.iter().zip(labels) {
                let t = if l { t_pos } else { t_neg };
                let p = sigmoid(a * x + b);
                let d = p - t;
                let w = p * (1.0 - p);
                ga += d * x;
                gb += d;
                haa += w * x * x;
                hab += w * x;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-12 {
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            a -= da;
            b -= db;
            if !a.is_finite() || !b.is_finite() {
                return Platt::IDENTITY;
            }
            if da.abs() < 1e-10 && db.abs() < 1e-10 {
                break;
            }
        }
        Platt { a, b }
    }

    /// The calibrated probability of a logit.
    pub fn apply(&self, logit: f64) -> f64 {
        sigmoid(self.a * logit + self.b)
    }
}

/// What the model was trained on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Labelled claims learnt from (training and every update).
    pub claims: u64,
    /// Of which denied or partially denied.
    pub denied: u64,
    /// Claims the calibration was fitted on.
    pub calibration_claims: u64,
    /// Latest adjudication day learnt from.
    pub last_adjudicated: Option<Day>,
    /// Incremental updates applied.
    pub updates: u32,
}

/// The denial model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Settings it was trained with.
    pub config: TrainConfig,
    /// Denial logit model.
    denial: Ftrl,
    /// Calibration of the denial logit.
    pub platt: Platt,
    /// Reasons the per-reason model knows (`other` last).
    pub reasons: Vec<String>,
    /// One-vs-rest reason models, hashes salted by reason index.
    reason_model: Ftrl,
    /// What it learnt from.
    pub summary: TrainingSummary,
}

/// One feature's part in a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The feature in plain words.
    pub feature: String,
    /// Its contribution to the (uncalibrated) denial logit.
    pub logit: f64,
}

/// The prediction for one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Calibrated probability of a denial (in full or in part).
    pub probability: f64,
    /// The uncalibrated logit.
    pub logit: f64,
    /// Most likely reason if denied (per-reason model), with its probability.
    pub reason: Option<(String, f64)>,
    /// The reason distribution (most likely first, at most five).
    pub reasons: Vec<(String, f64)>,
    /// The features that drive the prediction most (by |contribution|).
    pub top_features: Vec<Contribution>,
}

/// A labelled claim: denied (in full or in part) and its first reason.
pub fn label(h: &History, c: &Claim) -> Option<(bool, Option<u32>)> {
    match c.outcome {
        Outcome::Pending => None,
        Outcome::Paid => Some((false, None)),
        Outcome::Denied | Outcome::PartiallyDenied => {
            let reason = h.reasons_of(c).first().copied().or_else(|| {
                h.lines_of(c)
                    .iter()
                    .find(|l| l.denied && l.reason != NONE)
                    .map(|l| l.reason)
            });
            Some((true, reason))
        }
    }
}

fn salt(hash: u64, k: usize) -> u64 {
    (hash ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xFF51_AFD7_ED55_8CCD)
}

fn claims_in(h: &History, from: Option<Day>, until: Option<Day>) -> Vec<&Claim> {
    h.claims
        .iter()
        .filter(|c| c.outcome != Outcome::Pending)
        .filter(|c| from.is_none_or(|f| c.submitted >= f))
        .filter(|c| until.is_none_or(|u| c.adjudicated.is_some_and(|a| a < u)))
        .collect()
}

impl Model {
    /// A fresh model with no knowledge.
    pub fn new(config: TrainConfig, reasons: Vec<String>) -> Model {
        let c = &config;
        let bits = c.bits.clamp(4, 26);
        Model {
            denial: Ftrl::new(bits, c.alpha, c.beta, c.l1, c.l2),
            reason_model: Ftrl::new(bits, c.alpha, c.beta, c.l1, c.l2),
            platt: Platt::IDENTITY,
            reasons,
            summary: TrainingSummary::default(),
            config,
        }
    }

    /// Trains on the labelled claims of `h` adjudicated before `until`
    /// (all when `None`): FTRL passes on the earlier claims, Platt
    /// calibration fitted on the latest `calibration_share` of them, then
    /// one more pass on that slice so the model has seen everything.
    pub fn train(
        h: &History,
        config: &TrainConfig,
        until: Option<Day>,
        progress: &dyn Progress,
    ) -> Result<Model> {
        if !(0.0..1.0).contains(&config.calibration_share) {
            return Err(DenialError::Config {
                field: "calibration_share".into(),
                message: format!("{} is not in [0, 1)", config.calibration_share),
            });
        }
        let claims = claims_in(h, None, until);
        if claims.len() < 20 {
            return Err(DenialError::Data {
                what: "training".into(),
                message: format!(
                    "{} labelled claims before the cut-off; at least 20 are needed",
                    claims.len()
                ),
            });
        }
        // Reasons seen often enough, most frequent first.
        let mut counts = vec![0usize; h.reason_names.len()];
        for c in &claims {
            if let Some((true, Some(r))) = label(h, c)
                && let Some(n) = counts.get_mut(r as usize)
            {
                *n += 1;
            }
        }
        let mut order: Vec<usize> = (0..counts.len())
            .filter(|&r| counts[r] >= config.min_reason_count)
            .collect();
        order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
        let mut reasons: Vec<String> = order
            .iter()
            .map(|&r| h.reason_names.name(r as u32).to_string())
            .collect();
        reasons.push("other".into());
        let mut m = Model::new(config.clone(), reasons);
        let n_cal = (claims.len() as f64 * config.calibration_share) as usize;
        let (fit, cal) = claims.split_at(claims.len() - n_cal);
        let total = (fit.len() * config.epochs.max(1) as usize + cal.len() * 2) as u64;
        progress.stage("training the denial model", total);
        let mut buf = Vec::new();
        for _ in 0..config.epochs.max(1) {
            for chunk in fit.chunks(4096) {
                for c in chunk {
                    m.learn_claim(h, c, &mut buf);
                }
                progress.advance(chunk.len() as u64);
            }
        }
        m.summary.claims = fit.len() as u64;
        if !cal.is_empty() {
            let mut logits = Vec::with_capacity(cal.len());
            let mut labels = Vec::with_capacity(cal.len());
            for c in cal {
                let view = ClaimView::of_history(h, c);
                features::hashes(&view, &mut buf);
                logits.push(m.denial.logit(&buf));
                labels.push(label(h, c).is_some_and(|l| l.0));
            }
            progress.advance(cal.len() as u64);
            m.platt = Platt::fit(&logits, &labels);
            m.summary.calibration_claims = cal.len() as u64;
            for c in cal {
                m.learn_claim(h, c, &mut buf);
            }
            m.summary.claims += cal.len() as u64;
            progress.advance(cal.len() as u64);
        }
        m.summary.denied = claims
            .iter()
            .filter(|c| label(h, c).is_some_and(|l| l.0))
            .count() as u64;
        m.summary.last_adjudicated = claims.iter().filter_map(|c| c.adjudicated).max();
        progress.finish_stage();
        Ok(m)
    }

    fn reason_index(&self, name: &str) -> usize {
        self.reasons
            .iter()
            .position(|r| r == name)
            .unwrap_or(self.reasons.len().saturating_sub(1))
    }

    fn learn_claim(&mut self, h: &History, c: &Claim, buf: &mut Vec<u64>) {
        let Some((denied, reason)) = label(h, c) else {
            return;
        };
        let view = ClaimView::of_history(h, c);
        features::hashes(&view, buf);
        self.denial.learn(buf, denied);
        if denied {
            let target = reason.map_or(self.reasons.len().saturating_sub(1), |r| {
                self.reason_index(h.reason_names.name(r))
            });
            let mut salted = Vec::with_capacity(buf.len());
            for k in 0..self.reasons.len() {
                salted.clear();
                salted.extend(buf.iter().map(|&x| salt(x, k)));
                self.reason_model.learn(&salted, k == target);
            }
        }
    }

    /// Learns from new outcomes: the labelled claims submitted on or after
    /// `from` (and adjudicated before `until`, if given), one online pass.
    /// The calibration is kept. Returns how many claims it learnt from.
    /// Reasons the model has not met are learnt as `other`.
    pub fn update(
        &mut self,
        h: &History,
        from: Day,
        until: Option<Day>,
        progress: &dyn Progress,
    ) -> usize {
        let claims = claims_in(h, Some(from), until);
        progress.stage("updating the denial model", claims.len() as u64);
        let mut buf = Vec::new();
        for chunk in claims.chunks(4096) {
            for c in chunk {
                self.learn_claim(h, c, &mut buf);
            }
            progress.advance(chunk.len() as u64);
        }
        progress.finish_stage();
        self.summary.claims += claims.len() as u64;
        self.summary.denied += claims
            .iter()
            .filter(|c| label(h, c).is_some_and(|l| l.0))
            .count() as u64;
        self.summary.last_adjudicated = self
            .summary
            .last_adjudicated
            .max(claims.iter().filter_map(|c| c.adjudicated).max());
        self.summary.updates += 1;
        claims.len()
    }

    /// The calibrated denial probability of a claim (fast path, no explanation).
    pub fn probability(&self, view: &ClaimView<'_>, buf: &mut Vec<u64>) -> f64 {
        features::hashes(view, buf);
        self.platt.apply(self.denial.logit(buf))
    }

    /// The reason distribution of a claim, if it is denied.
    fn reason_distribution(&self, hashes: &[u64]) -> Vec<(String, f64)> {
        let mut salted = Vec::with_capacity(hashes.len());
        let mut scores: Vec<(String, f64)> = (0..self.reasons.len())
            .map(|k| {
                salted.clear();
                salted.extend(hashes.iter().map(|&x| salt(x, k)));
                (
                    self.reasons[k].clone(),
                    sigmoid(self.reason_model.logit(&salted)),
                )
            })
            .collect();
        let total: f64 = scores.iter().map(|s| s.1).sum();
        if total > 0.0 {
            for s in &mut scores {
                s.1 /= total;
            }
        }
        scores.sort_by(|a, b| b.1.total_cmp(&a.1));
        scores
    }

    /// The most likely reason of a denial (the per-reason model's top class).
    pub fn most_likely_reason(&self, view: &ClaimView<'_>, buf: &mut Vec<u64>) -> Option<String> {
        features::hashes(view, buf);
        self.reason_distribution(buf)
            .into_iter()
            .next()
            .map(|r| r.0)
    }

    /// Full prediction: probability, reason, the `top` features that drive it.
    pub fn predict(&self, view: &ClaimView<'_>, top: usize) -> Prediction {
        let mut hashes = Vec::new();
        let mut contributions: Vec<Contribution> = Vec::new();
        for_each_feature(view, |f| {
            let h = f.hash();
            hashes.push(h);
            let w = self.denial.weight(h);
            if w != 0.0 {
                let name = f.name();
                match contributions.iter_mut().find(|c| c.feature == name) {
                    Some(c) => c.logit += w,
                    None => contributions.push(Contribution {
                        feature: name,
                        logit: w,
                    }),
                }
            }
        });
        let logit = self.denial.logit(&hashes);
        contributions.sort_by(|a, b| {
            b.logit
                .abs()
                .total_cmp(&a.logit.abs())
                .then_with(|| a.feature.cmp(&b.feature))
        });
        contributions.truncate(top);
        let mut reasons = self.reason_distribution(&hashes);
        reasons.truncate(5);
        Prediction {
            probability: self.platt.apply(logit),
            logit,
            reason: reasons.first().cloned(),
            reasons,
            top_features: contributions,
        }
    }

    /// The weight of a named feature (for tests and inspection).
    pub fn weight_of(&self, feature_hash: u64) -> f64 {
        self.denial.weight(feature_hash)
    }

    /// Coordinates touched (denial model, reason model).
    pub fn touched(&self) -> (usize, usize) {
        let count = |f: &Ftrl| f.n.iter().filter(|&&n| n != 0.0).count();
        (count(&self.denial), count(&self.reason_model))
    }

    /// The JSON text of a model file: format, version with content-hash
    /// prefix, the SHA-256 of the model's JSON, and the model.
    pub fn to_file_json(&self) -> Result<String> {
        let body = serde_json::to_string(self).map_err(|e| DenialError::Data {
            what: "saving the model".into(),
            message: e.to_string(),
        })?;
        let hash = hex::encode(Sha256::digest(body.as_bytes()));
        Ok(format!(
            "{{\"format\":{FORMAT},\"version\":\"medledger-denials-{}/{}\",\"sha256\":\"{hash}\",\"model\":{body}}}",
            env!("CARGO_PKG_VERSION"),
            &hash[..12]
        ))
    }

    /// Writes the model file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.to_file_json()?;
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| DenialError::io(dir, e))?;
        }
        std::fs::write(path, text).map_err(|e| DenialError::io(path, e))
    }

    /// Reads a model file written by [`Model::to_file_json`]; checks the
    /// format and the content hash. `path` names the file in errors.
    pub fn from_file_json(text: &str, path: &Path) -> Result<Model> {
        #[derive(Deserialize)]
        struct Head<'a> {
            format: u32,
            sha256: String,
            #[serde(borrow)]
            model: &'a serde_json::value::RawValue,
        }
        let head: Head = serde_json::from_str(text).map_err(|e| DenialError::json(path, &e))?;
        if head.format != FORMAT {
            return Err(DenialError::Format {
                path: path.to_path_buf(),
                found: head.format,
                expected: FORMAT,
            });
        }
        let computed = hex::encode(Sha256::digest(head.model.get().as_bytes()));
        if computed != head.sha256 {
            return Err(DenialError::Hash {
                path: path.to_path_buf(),
                stored: head.sha256,
                computed,
            });
        }
        serde_json::from_str(head.model.get()).map_err(|e| DenialError::json(path, &e))
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| DenialError::io(path, e))?;
        Model::from_file_json(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_recovers_a_known_calibration() {
        // Labels drawn deterministically so that P(y|x) = σ(2x − 1).
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for i in 0..2000 {
            let x = (i % 100) as f64 / 25.0 - 2.0;
            let p = sigmoid(2.0 * x - 1.0);
            let k = i / 100; // 0..20
            logits.push(x);
            labels.push((k as f64 + 0.5) / 20.0 < p);
        }
        let pl = Platt::fit(&logits, &labels);
        assert!((pl.a - 2.0).abs() < 0.35, "{pl:?}");
        assert!((pl.b + 1.0).abs() < 0.25, "{pl:?}");
    }

    #[test]
    fn ftrl_learns_a_separable_feature() {
        let mut f = Ftrl::new(10, 0.1, 1.0, 0.0, 0.0);
        let (a, b) = (11u64 << 54, 22u64 << 54);
        for i in 0..400 {
            f.learn(&[a], i % 2 == 0 || i % 5 == 0);
            f.learn(&[b], false);
        }
        assert!(f.weight(a) > 0.3, "{}", f.weight(a));
        assert!(f.weight(b) < -1.0, "{}", f.weight(b));
    }

    #[test]
    fn l1_keeps_rare_features_at_zero() {
        let mut f = Ftrl::new(10, 0.1, 1.0, 5.0, 0.0);
        f.learn(&[7u64 << 54], true);
        assert_eq!(f.weight(7u64 << 54), 0.0);
    }

    #[test]
    fn tampered_file_is_refused() {
        let m = Model::new(
            TrainConfig {
                bits: 8,
                ..TrainConfig::default()
            },
            vec!["other".into()],
        );
        let text = m.to_file_json().unwrap();
        let back = Model::from_file_json(&text, Path::new("m.json")).unwrap();
        assert_eq!(back, m);
        let bad = text.replace("\"other\"", "\"CO-97\"");
        let err = Model::from_file_json(&bad, Path::new("m.json")).unwrap_err();
        assert!(err.to_string().contains("m.json: content hash"), "{err}");
        let old = text.replacen("\"format\":1", "\"format\":9", 1);
        assert!(matches!(
            Model::from_file_json(&old, Path::new("m.json")),
            Err(DenialError::Format { found: 9, .. })
        ));
        let broken = Model::from_file_json("{\"format\":1,", Path::new("m.json")).unwrap_err();
        assert!(broken.to_string().starts_with("m.json: line 1"), "{broken}");
    }
}
