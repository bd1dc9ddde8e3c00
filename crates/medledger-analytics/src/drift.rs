//! AI drift monitoring: how well the coding engine's suggestions match the
//! codes humans finalised, per code family and ISO week, with alerts and a
//! before/after comparison at every code-set release change.
//!
//! - **precision** = suggestions accepted unchanged ÷ suggestions decided
//!   (latest decision each), dated by the decision;
//! - **recall** = final codes the engine had suggested for the encounter ÷
//!   final codes, dated by finalisation.
//!
//! Families: ICD-10-CM by chapter letter (`ICD-10-CM E`, level `chapter`)
//! and by 3-character category (`ICD-10-CM E11`, level `category`);
//! service codes by range (`CPT 99202-99499 E/M`, `CPT 10004-69990
//! surgery`, …, `CPT cat II`, `CPT cat III`, `HCPCS J`; level `range`).
//!
//! **Alert test.** For each family, metric and week w with at least
//! [`MIN_WEEK`] observations and at least [`MIN_BASELINE`] in the baseline
//! (all earlier weeks of the family, pooled): H₀ the week's proportion
//! equals the baseline's, H₁ it is lower; one-sided two-proportion z-test,
//! or the exact binomial tail P(X ≤ x | n, p_baseline) when the week is
//! small (see [`crate::stats::lower_than`]). Alert when p < α / m with
//! α = [`ALPHA`] and m the number of families tested for that metric in
//! that week (Bonferroni).
//!
//! **Release comparison.** The code-set releases (`coding_runs.codesets`)
//! in order of first use; for each change, precision and recall under the
//! old release vs under the new one, two-sided pooled two-proportion
//! z-test at α = [`ALPHA`].

use crate::history::Day;
use crate::spec::{week_label, week_start};
use crate::stats::{Comparison, lower_than, ratio, two_sided};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Significance level.
pub const ALPHA: f64 = 0.01;
/// Observations a week needs to be tested.
pub const MIN_WEEK: u64 = 10;
/// Observations the baseline needs.
pub const MIN_BASELINE: u64 = 30;

/// A human's latest decision on a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Accepted unchanged.
    Accepted,
    /// Replaced by another code.
    Edited,
    /// Rejected.
    Rejected,
}

/// A decided suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    /// Day of the decision.
    pub day: Day,
    /// Code system.
    pub system: String,
    /// Suggested code.
    pub code: String,
    /// Code-set releases of the run.
    pub codesets: String,
    /// The decision.
    pub decision: Decision,
}

/// A final code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finalised {
    /// Day of finalisation.
    pub day: Day,
    /// Code system.
    pub system: String,
    /// Final code.
    pub code: String,
    /// The engine had suggested it.
    pub suggested: bool,
    /// Code-set releases of the encounter's run.
    pub codesets: String,
}

/// The drift report's input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Observations {
    /// Decided suggestions.
    pub decided: Vec<Decided>,
    /// Final codes.
    pub finalised: Vec<Finalised>,
}

/// The families of a code: `(level, name)`.
pub fn families(system: &str, code: &str) -> Vec<(&'static str, String)> {
    let code = code.trim().to_ascii_uppercase().replace('.', "");
    let sys = system.to_ascii_uppercase();
    if sys.contains("ICD") {
        let mut out = Vec::with_capacity(2);
        if let Some(c) = code.get(..1) {
            out.push(("chapter", format!("ICD-10-CM {c}")));
        }
        if let Some(c) = code.get(..3) {
            out.push(("category", format!("ICD-10-CM {c}")));
        }
        return out;
    }
    let b = code.as_bytes();
    let name = if b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'F' {
        "CPT cat II".to_owned()
    } else if b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'T' {
        "CPT cat III".to_owned()
    } else if let Ok(n) = code
        .parse::<u32>()
        .map_err(|_| ())
        .and_then(|n| if b.len() == 5 { Ok(n) } else { Err(()) })
    {
        match n {
            100..=1999 => "CPT 00100-01999 anesthesia",
            10004..=69990 => "CPT 10004-69990 surgery",
            70010..=79999 => "CPT 70010-79999 radiology",
            80047..=89398 => "CPT 80047-89398 pathology/lab",
            99202..=99499 => "CPT 99202-99499 E/M",
            90281..=99607 => "CPT 90281-99607 medicine",
            _ => "CPT other",
        }
        .to_owned()
    } else if let Some(c) = code
        .get(..1)
        .filter(|c| c.chars().all(|x| x.is_ascii_alphabetic()))
    {
        format!("HCPCS {c}")
    } else {
        format!("{} other", system.trim())
    };
    vec![("range", name)]
}

/// One family in one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekRow {
    /// Family.
    pub family: String,
    /// `chapter`, `category` or `range`.
    pub level: &'static str,
    /// ISO week `YYYY-Www`.
    pub week: String,
    /// Suggestions decided.
    pub decided: u64,
    /// Accepted unchanged.
    pub accepted: u64,
    /// `accepted / decided`.
    pub precision: f64,
    /// Final codes.
    pub finals: u64,
    /// Of which suggested by the engine.
    pub found: u64,
    /// `found / finals`.
    pub recall: f64,
}

/// A significant drop.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// Family.
    pub family: String,
    /// ISO week.
    pub week: String,
    /// `precision` or `recall`.
    pub metric: &'static str,
    /// The week's count.
    pub n: u64,
    /// Baseline count.
    pub baseline_n: u64,
    /// The test.
    pub test: Comparison,
    /// α / m used.
    pub threshold: f64,
}

/// Precision and recall under two releases.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseChange {
    /// Old release (as stored).
    pub before: String,
    /// New release.
    pub after: String,
    /// First day the new release was seen.
    pub first_seen: String,
    /// Decided suggestions before / after.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u64>))]
    pub decided: (u64, u64),
    /// Precision test (p0 = before, p1 = after).
    pub precision: Comparison,
    /// Final codes before / after.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u64>))]
    pub finals: (u64, u64),
    /// Recall test.
    pub recall: Comparison,
    /// Either p-value < α.
    pub significant: bool,
}

/// The drift report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftReport {
    /// Per family and week, by family then week.
    pub weeks: Vec<WeekRow>,
    /// Alerts, by week then family.
    pub alerts: Vec<Alert>,
    /// One entry per code-set release change.
    pub releases: Vec<ReleaseChange>,
    /// The test, in words.
    pub method: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    decided: u64,
    accepted: u64,
    finals: u64,
    found: u64,
}

/// The drift report over plain observations.
pub fn drift(obs: &Observations) -> DriftReport {
    // (family, monday) → counts; family → level.
    let mut cells: BTreeMap<(String, Day), Counts> = BTreeMap::new();
    let mut levels: BTreeMap<String, &'static str> = BTreeMap::new();
    for d in &obs.decided {
        for (level, f) in families(&d.system, &d.code) {
            levels.insert(f.clone(), level);
            let c = cells.entry((f, week_start(d.day))).or_default();
            c.decided += 1;
            c.accepted += u64::from(d.decision == Decision::Accepted);
        }
    }
    for x in &obs.finalised {
        for (level, f) in families(&x.system, &x.code) {
            levels.insert(f.clone(), level);
            let c = cells.entry((f, week_start(x.day))).or_default();
            c.finals += 1;
            c.found += u64::from(x.suggested);
        }
    }
    let weeks: Vec<WeekRow> = cells
        .iter()
        .map(|((f, w), c)| WeekRow {
            family: f.clone(),
            level: levels.get(f).copied().unwrap_or("range"),
            week: week_label(*w),
            decided: c.decided,
            accepted: c.accepted,
            precision: ratio(c.accepted, c.decided),
            finals: c.finals,
            found: c.found,
            recall: ratio(c.found, c.finals),
        })
        .collect();

    // Candidate tests per (week, metric), then Bonferroni within each.
    struct Candidate {
        family: String,
        week: Day,
        metric: &'static str,
        n: u64,
        baseline_n: u64,
        test: Comparison,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut baseline: BTreeMap<String, Counts> = BTreeMap::new();
    for ((f, w), c) in &cells {
        let b = baseline.entry(f.clone()).or_default();
        if c.decided >= MIN_WEEK && b.decided >= MIN_BASELINE {
            candidates.push(Candidate {
                family: f.clone(),
                week: *w,
                metric: "precision",
                n: c.decided,
                baseline_n: b.decided,
                test: lower_than(b.accepted, b.decided, c.accepted, c.decided),
            });
        }
        if c.finals >= MIN_WEEK && b.finals >= MIN_BASELINE {
            candidates.push(Candidate {
                family: f.clone(),
                week: *w,
                metric: "recall",
                n: c.finals,
                baseline_n: b.finals,
                test: lower_than(b.found, b.finals, c.found, c.finals),
            });
        }
        b.decided += c.decided;
        b.accepted += c.accepted;
        b.finals += c.finals;
        b.found += c.found;
    }
    let mut m: BTreeMap<(Day, &'static str), usize> = BTreeMap::new();
    for c in &candidates {
        *m.entry((c.week, c.metric)).or_default() += 1;
    }
    let mut alerts: Vec<Alert> = candidates
        .into_iter()
        .filter_map(|c| {
            let threshold = ALPHA / m.get(&(c.week, c.metric)).copied().unwrap_or(1) as f64;
            (c.test.p_value < threshold).then(|| Alert {
                family: c.family,
                week: week_label(c.week),
                metric: c.metric,
                n: c.n,
                baseline_n: c.baseline_n,
                test: c.test,
                threshold,
            })
        })
        .collect();
    alerts.sort_by(|a, b| (&a.week, &a.family, a.metric).cmp(&(&b.week, &b.family, b.metric)));

    DriftReport {
        weeks,
        alerts,
        releases: releases(obs),
        method: format!(
            "one-sided two-proportion z-test (exact binomial below 30 or when n*p < 5) of each week against all earlier weeks of the family; alpha {ALPHA} Bonferroni-divided by the families tested that week; weeks need {MIN_WEEK}, baselines {MIN_BASELINE} observations; release changes: two-sided pooled z-test at alpha {ALPHA}"
        ),
    }
}

fn releases(obs: &Observations) -> Vec<ReleaseChange> {
    let mut first: BTreeMap<&str, Day> = BTreeMap::new();
    let mut per: BTreeMap<&str, Counts> = BTreeMap::new();
    for d in &obs.decided {
        let e = first.entry(&d.codesets).or_insert(d.day);
        *e = (*e).min(d.day);
        let c = per.entry(&d.codesets).or_default();
        c.decided += 1;
        c.accepted += u64::from(d.decision == Decision::Accepted);
    }
    for x in &obs.finalised {
        let e = first.entry(&x.codesets).or_insert(x.day);
        *e = (*e).min(x.day);
        let c = per.entry(&x.codesets).or_default();
        c.finals += 1;
        c.found += u64::from(x.suggested);
    }
    let mut order: Vec<(&str, Day)> = first.into_iter().collect();
    order.sort_by_key(|&(name, d)| (d, name));
    order
        .windows(2)
        .map(|w| {
            let (a, b) = (per[w[0].0], per[w[1].0]);
            let precision = two_sided(a.accepted, a.decided, b.accepted, b.decided);
            let recall = two_sided(a.found, a.finals, b.found, b.finals);
            ReleaseChange {
                before: w[0].0.to_owned(),
                after: w[1].0.to_owned(),
                first_seen: crate::history::date(w[1].1).to_string(),
                decided: (a.decided, b.decided),
                precision,
                finals: (a.finals, b.finals),
                recall,
                significant: (a.decided > 0 && b.decided > 0 && precision.p_value < ALPHA)
                    || (a.finals > 0 && b.finals > 0 && recall.p_value < ALPHA),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::day;

    #[test]
    fn families_by_hand() {
        assert_eq!(
            families("ICD-10-CM", "E11.9"),
            [
                ("chapter", "ICD-10-CM E".to_owned()),
                ("category", "ICD-10-CM E11".to_owned())
            ]
        );
        assert_eq!(families("CPT", "99213")[0].1, "CPT 99202-99499 E/M");
        assert_eq!(families("CPT", "27447")[0].1, "CPT 10004-69990 surgery");
        assert_eq!(families("CPT", "3044F")[0].1, "CPT cat II");
        assert_eq!(families("CPT", "0042T")[0].1, "CPT cat III");
        assert_eq!(families("HCPCS", "J1100")[0].1, "HCPCS J");
        assert_eq!(families("CPT", "00840")[0].1, "CPT 00100-01999 anesthesia");
    }

    /// Week 1 (2026-09-21, release 2026): 50 E11.9 suggestions decided, 45
    /// accepted; 40 final E11.9 codes, 36 suggested. Week 2 (2026-10-05,
    /// release 2027): 20 decided, 10 accepted; 10 finals, 5 suggested.
    fn observations() -> Observations {
        let w1 = day(jiff::civil::date(2026, 9, 21));
        let w2 = day(jiff::civil::date(2026, 10, 5));
        let mut o = Observations::default();
        let dec = |day, codesets: &str, ok| Decided {
            day,
            system: "ICD-10-CM".into(),
            code: "E11.9".into(),
            codesets: codesets.into(),
            decision: if ok {
                Decision::Accepted
            } else {
                Decision::Rejected
            },
        };
        let fin = |day, codesets: &str, suggested| Finalised {
            day,
            system: "ICD-10-CM".into(),
            code: "E11.9".into(),
            suggested,
            codesets: codesets.into(),
        };
        for i in 0..50 {
            o.decided.push(dec(w1, "icd10cm-2026", i < 45));
        }
        for i in 0..20 {
            o.decided.push(dec(w2 + 1, "icd10cm-2027", i < 10));
        }
        for i in 0..40 {
            o.finalised.push(fin(w1 + 2, "icd10cm-2026", i < 36));
        }
        for i in 0..10 {
            o.finalised.push(fin(w2 + 3, "icd10cm-2027", i < 5));
        }
        o
    }

    #[test]
    fn weekly_rates_and_alerts_by_hand() {
        let r = drift(&observations());
        let w: Vec<_> = r
            .weeks
            .iter()
            .filter(|w| w.family == "ICD-10-CM E")
            .collect();
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].week.as_str(), w[0].precision, w[0].recall),
            ("2026-W39", 0.9, 0.9)
        );
        assert_eq!(
            (w[1].week.as_str(), w[1].precision, w[1].recall),
            ("2026-W41", 0.5, 0.5)
        );
        // Week 2 is tested for both families (E and E11) → threshold 0.01 / 2.
        // Precision: 10 of 20 vs baseline 45/50 = 0.9, n = 20 < 30 → exact
        // binomial P(X ≤ 10 | 20, 0.9) = Σ C(20,k) 0.9^k 0.1^(20−k), k ≤ 10
        // ≈ 6.442e-6 + 6.51e-7 + 5.4e-8 + 4e-9 = 7.15e-6.
        // Recall: 5 of 10 vs 36/40 → P(X ≤ 5 | 10, 0.9) ≈ 0.001488 + 0.000138
        // + 0.0000087 + 0.0000004 = 0.001635 < 0.005.
        assert_eq!(r.alerts.len(), 4);
        let p = r
            .alerts
            .iter()
            .find(|a| a.family == "ICD-10-CM E" && a.metric == "precision")
            .unwrap();
        assert_eq!((p.test.test, p.threshold), ("exact_binomial", 0.005));
        assert!(
            (p.test.p_value - 7.15e-6).abs() < 1e-7,
            "{}",
            p.test.p_value
        );
        let q = r
            .alerts
            .iter()
            .find(|a| a.family == "ICD-10-CM E11" && a.metric == "recall")
            .unwrap();
        assert!(
            (q.test.p_value - 0.001_635).abs() < 2e-6,
            "{}",
            q.test.p_value
        );
    }

    #[test]
    fn release_change_by_hand() {
        let r = drift(&observations());
        assert_eq!(r.releases.len(), 1);
        let c = &r.releases[0];
        assert_eq!(
            (c.before.as_str(), c.after.as_str()),
            ("icd10cm-2026", "icd10cm-2027")
        );
        // Precision 45/50 → 10/20: pooled 55/70 = 0.785714,
        // se = √(0.785714·0.214286·(1/50 + 1/20)) = 0.108562, z = −0.4/0.108562 = −3.6845,
        // p = 2Φ(−3.6845) = 0.000229.
        assert!((c.precision.z + 3.6845).abs() < 1e-3);
        assert!((c.precision.p_value - 0.000_229).abs() < 5e-6);
        // Recall 36/40 → 5/10: pooled 0.82, se = √(0.82·0.18·0.125) = 0.135831,
        // z = −2.9448, p = 0.00323.
        assert!((c.recall.z + 2.9448).abs() < 1e-3);
        assert!((c.recall.p_value - 0.003_23).abs() < 3e-5);
        assert!(c.significant);
        // No alert without enough baseline: one week only.
        let mut one = observations();
        one.decided.retain(|d| d.codesets == "icd10cm-2026");
        one.finalised.clear();
        assert!(drift(&one).alerts.is_empty());
    }
}
