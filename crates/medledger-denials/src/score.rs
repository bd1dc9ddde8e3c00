//! Scoring a `medledger-claims` claim before submission, with the same
//! features the model learnt from the history.

use crate::features::{ClaimView, LineView};
use crate::model::{Model, Prediction};
use medledger_claims::model::{Claim, ClaimKind};

/// How many features explain a prediction.
pub const TOP_FEATURES: usize = 8;

/// Days between the claim's first date of service and `submission`
/// (`YYYY-MM-DD`); 0 when either date does not parse.
fn lag_days(claim: &Claim, submission: Option<&str>) -> i32 {
    let Some(sub) = submission.and_then(|s| s.parse::<jiff::civil::Date>().ok()) else {
        return 0;
    };
    let Some(first) = claim
        .lines
        .iter()
        .filter_map(|l| l.date_from.parse::<jiff::civil::Date>().ok())
        .min()
    else {
        return 0;
    };
    (sub - first).get_days()
}

/// The feature view of a claim. The provider is the rendering provider's
/// NPI (the billing provider's when there is none); the place of service
/// is the claim's (else the first line's; 0 if absent or not a number);
/// diagnosis pointers are 1-based in the claim and 0-based here (a missing
/// or out-of-range pointer points at the first diagnosis).
pub fn view_of<'a>(claim: &'a Claim, submission: Option<&str>) -> ClaimView<'a> {
    let provider = claim
        .rendering_provider
        .as_ref()
        .map_or(claim.billing_provider.npi.as_str(), |p| p.npi.as_str());
    let pos = claim
        .place_of_service
        .as_deref()
        .or_else(|| {
            claim
                .lines
                .iter()
                .find_map(|l| l.place_of_service.as_deref())
        })
        .and_then(|p| p.trim().parse::<u8>().ok())
        .unwrap_or(0);
    let lines = claim
        .lines
        .iter()
        .map(|l| LineView {
            code: l
                .procedure
                .as_deref()
                .or(l.revenue_code.as_deref())
                .unwrap_or(""),
            modifiers: l.modifiers.iter().take(4).map(String::as_str).collect(),
            units: if l.units.is_finite() && l.units > 0.0 {
                l.units.round().min(f64::from(u32::MAX)) as u32
            } else {
                1
            },
            dx_pointer: l
                .diagnosis_pointers
                .first()
                .map(|&p| usize::from(p.saturating_sub(1)))
                .filter(|&p| p < claim.diagnoses.len())
                .unwrap_or(0),
        })
        .collect();
    ClaimView {
        payer: &claim.payer.id,
        provider,
        place_of_service: pos,
        institutional: claim.kind == ClaimKind::Institutional,
        prior_auth: claim
            .prior_authorization
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty()),
        lag_days: lag_days(claim, submission),
        charge_cents: claim.total_charge_cents(),
        diagnoses: claim.diagnoses.iter().map(|d| d.code.as_str()).collect(),
        lines,
    }
}

/// Scores a claim before submission, assuming it goes out promptly (within
/// the first week after service). Never fails: unknown payers, codes or
/// providers simply carry no learnt weight.
pub fn score_claim(model: &Model, claim: &Claim) -> Prediction {
    model.predict(&view_of(claim, None), TOP_FEATURES)
}

/// Scores a claim to be submitted on `submission` (`YYYY-MM-DD`), so that
/// the days since service count as they will at the payer.
pub fn score_claim_on(model: &Model, claim: &Claim, submission: &str) -> Prediction {
    model.predict(&view_of(claim, Some(submission)), TOP_FEATURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Claim {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/claims/mri-lumbar-prior-auth.json");
        Claim::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn view_maps_the_claim_fields() {
        let c = example();
        let v = view_of(&c, Some("2026-07-15"));
        assert_eq!(v.payer, "ACME01");
        assert_eq!(v.provider, "1920000027");
        assert_eq!(v.place_of_service, 22);
        assert_eq!(v.diagnoses, vec!["M5416"]);
        assert_eq!(v.lines[0].code, "72148");
        assert_eq!(v.lag_days, 30);
        assert_eq!(v.prior_auth, c.prior_authorization.is_some());
        assert_eq!(view_of(&c, None).lag_days, 0);
    }
}
