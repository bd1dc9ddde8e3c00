//! The few statistics the reports need: the standard normal CDF, the
//! binomial CDF, and the two-proportion z-test.

use serde::Serialize;

/// Standard normal CDF Φ(z), via the complementary error function
/// (W. H. Press et al., *Numerical Recipes*, `erfcc`: Chebyshev fit with
/// fractional error below 1.2e-7 everywhere).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// P(X ≤ k) for X ~ Binomial(n, p), summed exactly term by term.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    // log pmf(0) = n ln(1 - p); pmf(i+1) = pmf(i) (n - i)/(i + 1) p/(1 - p).
    let mut log_pmf = n as f64 * (1.0 - p).ln();
    let ratio = (p / (1.0 - p)).ln();
    let mut sum = log_pmf.exp();
    for i in 0..k {
        log_pmf += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + ratio;
        sum += log_pmf.exp();
    }
    sum.min(1.0)
}

/// A two-proportion comparison: `x1/n1` (the sample under test) against
/// `x0/n0` (the reference).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    /// Reference proportion.
    pub p0: f64,
    /// Tested proportion.
    pub p1: f64,
    /// z statistic with the pooled standard error (0 when undefined).
    pub z: f64,
    /// p-value of the test chosen (one-sided "lower" or two-sided).
    pub p_value: f64,
    /// `z` or `exact_binomial`.
    pub test: &'static str,
}

/// One-sided test that `x1/n1` lies below `x0/n0`.
///
/// When `n1 ≥ 30` and both `n1·p0` and `n1·(1 − p0)` are at least 5 it is
/// the two-proportion z-test with pooled p̂ = (x0 + x1)/(n0 + n1),
/// z = (p1 − p0) / √(p̂(1 − p̂)(1/n0 + 1/n1)), p = Φ(z). Otherwise the
/// reference is taken as known and p = P(X ≤ x1), X ~ Binomial(n1, p0).
pub fn lower_than(x0: u64, n0: u64, x1: u64, n1: u64) -> Comparison {
    let p0 = ratio(x0, n0);
    let p1 = ratio(x1, n1);
    let z = pooled_z(x0, n0, x1, n1);
    let large = n1 >= 30 && n1 as f64 * p0 >= 5.0 && n1 as f64 * (1.0 - p0) >= 5.0;
    if large {
        Comparison {
            p0,
            p1,
            z,
            p_value: normal_cdf(z),
            test: "z",
        }
    } else {
        Comparison {
            p0,
            p1,
            z,
            p_value: binomial_cdf(x1, n1, p0),
            test: "exact_binomial",
        }
    }
}

/// Two-sided two-proportion z-test (pooled): p = 2·(1 − Φ(|z|)).
pub fn two_sided(x0: u64, n0: u64, x1: u64, n1: u64) -> Comparison {
    let z = pooled_z(x0, n0, x1, n1);
    Comparison {
        p0: ratio(x0, n0),
        p1: ratio(x1, n1),
        z,
        p_value: (2.0 * (1.0 - normal_cdf(z.abs()))).min(1.0),
        test: "z",
    }
}

fn pooled_z(x0: u64, n0: u64, x1: u64, n1: u64) -> f64 {
    if n0 == 0 || n1 == 0 {
        return 0.0;
    }
    let pooled = (x0 + x1) as f64 / (n0 + n1) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n0 as f64 + 1.0 / n1 as f64)).sqrt();
    if se == 0.0 {
        0.0
    } else {
        (ratio(x1, n1) - ratio(x0, n0)) / se
    }
}

/// `num / den`, 0 when `den` is 0.
pub fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(-1.96) - 0.024_997_9).abs() < 1e-6);
        assert!((normal_cdf(2.326_348) - 0.99).abs() < 1e-6);
    }

    #[test]
    fn binomial_cdf_by_hand() {
        // n = 4, p = 0.5: P(X ≤ 1) = (1 + 4)/16 = 0.3125.
        assert!((binomial_cdf(1, 4, 0.5) - 0.3125).abs() < 1e-12);
        // n = 10, p = 0.9: P(X ≤ 7) = 1 − P(8) − P(9) − P(10)
        //   = 1 − 45·0.9^8·0.01 − 10·0.9^9·0.1 − 0.9^10 = 1 − 0.19371 − 0.38742 − 0.34868 = 0.07019.
        assert!((binomial_cdf(7, 10, 0.9) - 0.070_190_8).abs() < 1e-6);
        assert_eq!(binomial_cdf(10, 10, 0.3), 1.0);
    }

    #[test]
    fn z_test_by_hand() {
        // Reference 900/1000, sample 80/100: pooled 980/1100 = 0.890909,
        // se = √(0.890909·0.109091·(0.001 + 0.01)) = √(0.0010691) = 0.032697,
        // z = (0.8 − 0.9)/0.032697 = −3.0584, Φ(z) = 0.001113.
        let c = lower_than(900, 1000, 80, 100);
        assert_eq!(c.test, "z");
        assert!((c.z + 3.0584).abs() < 1e-3, "{}", c.z);
        assert!((c.p_value - 0.001_113).abs() < 2e-5, "{}", c.p_value);
        let t = two_sided(900, 1000, 80, 100);
        assert!((t.p_value - 0.002_226).abs() < 4e-5);
        // Small sample: exact binomial with p0 = 0.9, 7 of 10.
        let s = lower_than(90, 100, 7, 10);
        assert_eq!(s.test, "exact_binomial");
        assert!((s.p_value - 0.070_190_8).abs() < 1e-6);
    }
}
