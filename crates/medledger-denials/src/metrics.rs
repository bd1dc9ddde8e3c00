//! Honest scores of probabilistic predictions: AUC (exact, ties counted
//! half), Brier score, log loss, a 10-bin calibration table and the
//! expected calibration error.

use serde::{Deserialize, Serialize};

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative, ties counting one half (Mann–Whitney with
/// average ranks). `None` without both classes.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let n_pos = labels[..n].iter().filter(|&&l| l).count();
    let n_neg = n - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their average.
        let avg = (i + j + 2) as f64 / 2.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum_pos += avg;
            }
        }
        i = j + 1;
    }
    let (p, q) = (n_pos as f64, n_neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * q))
}

/// Mean squared error of the probabilities (0 perfect).
pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    let n = probs.len().min(labels.len());
    if n == 0 {
        return 0.0;
    }
    probs
        .iter()
        .zip(labels)
        .map(|(&p, &l)| {
            let y = if l { 1.0 } else { 0.0 };
            (p - y) * (p - y)
        })
        .sum::<f64>()
        / n as f64
}

/// Mean negative log-likelihood (natural log), probabilities clipped to [1e-15, 1 − 1e-15].
pub fn log_loss(probs: &[f64], labels: &[bool]) -> f64 {
    let n = probs.len().min(labels.len());
    if n == 0 {
        return 0.0;
    }
    probs
        .iter()
        .zip(labels)
        .map(|(&p, &l)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if l { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum::<f64>()
        / n as f64
}

/// One bin of a calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of predicted probability (inclusive).
    pub from: f64,
    /// Upper edge (exclusive; the last bin includes 1).
    pub to: f64,
    /// Claims in the bin.
    pub count: usize,
    /// Mean predicted probability (0 when empty).
    pub mean_predicted: f64,
    /// Observed denial rate (0 when empty).
    pub observed: f64,
}

/// Ten equal-width bins of predicted probability.
pub fn calibration_table(probs: &[f64], labels: &[bool]) -> Vec<CalibrationBin> {
    let mut sum_p = [0.0f64; 10];
    let mut sum_y = [0.0f64; 10];
    let mut count = [0usize; 10];
    for (&p, &l) in probs.iter().zip(labels) {
        let b = ((p * 10.0).floor() as isize).clamp(0, 9) as usize;
        sum_p[b] += p;
        sum_y[b] += if l { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    (0..10)
        .map(|b| {
            let c = count[b];
            let div = |s: f64| if c == 0 { 0.0 } else { s / c as f64 };
            CalibrationBin {
                from: b as f64 / 10.0,
                to: (b + 1) as f64 / 10.0,
                count: c,
                mean_predicted: div(sum_p[b]),
                observed: div(sum_y[b]),
            }
        })
        .collect()
}

/// Expected calibration error: the count-weighted mean |predicted − observed| over the bins.
pub fn ece(table: &[CalibrationBin]) -> f64 {
    let total: usize = table.iter().map(|b| b.count).sum();
    if total == 0 {
        return 0.0;
    }
    table
        .iter()
        .map(|b| b.count as f64 * (b.mean_predicted - b.observed).abs())
        .sum::<f64>()
        / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn auc_by_hand_with_ties() {
        // Positives 0.8, 0.4, 0.4; negatives 0.4, 0.2.
        // Pairs (pos, neg): (0.8,0.4)=1 (0.8,0.2)=1 (0.4,0.4)=½ (0.4,0.2)=1 (0.4,0.4)=½ (0.4,0.2)=1 → 5/6.
        let s = [0.8, 0.4, 0.4, 0.4, 0.2];
        let y = [true, true, true, false, false];
        assert!((auc(&s, &y).unwrap() - 5.0 / 6.0).abs() < 1e-12);
        // All tied: one half.
        assert_eq!(auc(&[0.3, 0.3, 0.3], &[true, false, false]), Some(0.5));
        // Perfect and reversed.
        assert_eq!(auc(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(auc(&[0.1, 0.9], &[true, false]), Some(0.0));
        assert_eq!(auc(&[0.1, 0.9], &[true, true]), None);
    }

    #[test]
    fn brier_and_log_loss_by_hand() {
        let p = [0.9, 0.2, 0.5];
        let y = [true, false, true];
        // (0.01 + 0.04 + 0.25) / 3 = 0.1
        assert!((brier(&p, &y) - 0.1).abs() < 1e-12);
        let ll = -(0.9f64.ln() + 0.8f64.ln() + 0.5f64.ln()) / 3.0;
        assert!((log_loss(&p, &y) - ll).abs() < 1e-12);
    }

    #[test]
    fn calibration_bins_and_ece_by_hand() {
        // Bin 1: 0.1, 0.1 (one positive): mean 0.1, observed 0.5.
        // Bin 9: 0.95, 1.0 (both positive): mean 0.975, observed 1.
        let p = [0.1, 0.1, 0.95, 1.0];
        let y = [true, false, true, true];
        let t = calibration_table(&p, &y);
        assert_eq!(t.len(), 10);
        assert_eq!(t[1].count, 2);
        assert!((t[1].observed - 0.5).abs() < 1e-12);
        assert_eq!(t[9].count, 2);
        assert!((t[9].mean_predicted - 0.975).abs() < 1e-12);
        // ECE = (2·0.4 + 2·0.025) / 4 = 0.2125
        assert!((ece(&t) - 0.2125).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn auc_is_in_unit_interval_and_flips(s in proptest::collection::vec(0.0f64..1.0, 2..60), y in proptest::collection::vec(any::<bool>(), 2..60)) {
            let n = s.len().min(y.len());
            let (s, y) = (&s[..n], &y[..n]);
            if let Some(a) = auc(s, y) {
                prop_assert!((0.0..=1.0).contains(&a));
                let neg: Vec<f64> = s.iter().map(|x| -x).collect();
                let b = auc(&neg, y).unwrap();
                prop_assert!((a + b - 1.0).abs() < 1e-9);
            }
        }
    }
}
