//! The service dashboard's figures, taken from the same reports as
//! `medledger report` so that the screen and the command line cannot
//! disagree:
//! - clean-claim rate per month: [`clean_claims`] by submission month
//!   (claims a payer or clearinghouse answered; clean on the first pass);
//! - denials by reason: [`denials`]' reasons (CARC with group code, RARC);
//!   by payer: [`denials`] grouped by payer, with the denied charge;
//! - gold-card standing: [`gold_card`] over the prior-authorisation
//!   register, one row per payer program and provider;
//! - agreement: of the decided engine suggestions, the share accepted
//!   unchanged, per month of the (latest) decision.
//!
//! No PHI: codes, payers, NPIs, counts and amounts only.

use crate::Result;
use crate::drift::{Decision, Observations};
use crate::goldcard::{Config, Status, gold_card};
use crate::history::{Day, History, date};
use crate::metrics::{clean_claims, denials};
use crate::spec::{DateBasis, GroupBy, Spec};
use crate::stats::ratio;
use medledger_x12::format_cents;
use serde::Serialize;
use std::collections::BTreeMap;

/// Clean claims of one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanClaimPeriod {
    /// `YYYY-MM` (submission month).
    pub period: String,
    /// Claims answered (front-end rejected or adjudicated).
    pub claims: u64,
    /// Of which clean on the first pass.
    pub clean: u64,
    /// `clean / claims`.
    pub rate: f64,
}

/// Denials of one reason or one payer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DenialGroup {
    /// The reason (`CO-97`, `N115`), for the by-reason list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The payer, for the by-payer list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Denied claims.
    pub count: u64,
    /// Share of all denied claims.
    pub share: f64,
    /// Denied charge in dollars (`123.45`), for the by-payer list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// One gold-card standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoldCardStanding {
    /// Payer.
    pub payer: String,
    /// The payer's program.
    pub program: String,
    /// Provider NPI.
    pub provider: String,
    /// Status at the last evaluation.
    pub status: Status,
    /// Approved ÷ decided at the last evaluation (none without decisions).
    pub approval_rate: Option<f64>,
    /// Decided requests in the last evaluation's window.
    pub decisions: u32,
    /// Projected status at the next evaluation.
    pub projected_status: Status,
    /// The next evaluation date.
    pub next_evaluation: String,
    /// What would change the projection, in words.
    pub note: String,
}

/// Agreement with the engine in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementPeriod {
    /// `YYYY-MM` of the decision.
    pub period: String,
    /// Suggestions decided that month.
    pub decisions: u64,
    /// Accepted unchanged.
    pub accepted: u64,
    /// `accepted / decisions`.
    pub rate: f64,
}

/// Everything the dashboard draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// The day balances and evaluations are taken at.
    pub as_of: String,
    /// Per month, oldest first.
    pub clean_claim_rate: Vec<CleanClaimPeriod>,
    /// Most frequent first.
    pub denials_by_reason: Vec<DenialGroup>,
    /// Most frequent first.
    pub denials_by_payer: Vec<DenialGroup>,
    /// Per payer, program and provider.
    pub gold_card: Vec<GoldCardStanding>,
    /// Per month, oldest first.
    pub agreement: Vec<AgreementPeriod>,
}

/// The dashboard over a history and the engine's observations.
pub fn dashboard(
    h: &History,
    obs: &Observations,
    programs: &Config,
    as_of: Day,
) -> Result<Dashboard> {
    let spec = |by| Spec {
        basis: DateBasis::Submission,
        by,
        ..Spec::all(as_of)
    };
    let clean_claim_rate = clean_claims(h, &spec(GroupBy::Month))
        .groups
        .into_iter()
        .filter(|g| g.answered > 0)
        .map(|g| CleanClaimPeriod {
            period: g.key,
            claims: g.answered,
            clean: g.clean,
            rate: g.first_pass_clean_rate,
        })
        .collect();

    let by_payer = denials(h, &spec(GroupBy::Payer));
    let denied_total = by_payer.report.total.denied;
    let denials_by_reason = by_payer
        .reasons
        .iter()
        .map(|r| DenialGroup {
            reason: Some(r.reason.clone()),
            payer: None,
            count: r.claims,
            share: r.share_of_denied,
            amount: None,
        })
        .collect();
    let mut denials_by_payer: Vec<DenialGroup> = by_payer
        .report
        .groups
        .iter()
        .filter(|g| g.denied > 0)
        .map(|g| DenialGroup {
            reason: None,
            payer: Some(g.key.clone()),
            count: g.denied,
            share: ratio(g.denied, denied_total),
            amount: Some(format_cents(g.denied_charge_cents)),
        })
        .collect();
    denials_by_payer.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.payer.cmp(&b.payer)));

    let gold_card = gold_card(h, programs, as_of)?
        .standings
        .into_iter()
        .map(|s| {
            let decisions = s.current.approved + s.current.denied;
            GoldCardStanding {
                payer: s.payer,
                program: s.program,
                provider: s.provider,
                status: s.current.status,
                approval_rate: (decisions > 0).then_some(s.current.approval_rate),
                decisions,
                projected_status: s.projected.status,
                next_evaluation: s.projected.date,
                note: s.note,
            }
        })
        .collect();

    let mut months: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for d in &obs.decided {
        let e = months
            .entry(date(d.day).strftime("%Y-%m").to_string())
            .or_default();
        e.0 += 1;
        e.1 += u64::from(d.decision == Decision::Accepted);
    }
    let agreement = months
        .into_iter()
        .map(|(period, (n, ok))| AgreementPeriod {
            period,
            decisions: n,
            accepted: ok,
            rate: ratio(ok, n),
        })
        .collect();

    Ok(Dashboard {
        as_of: date(as_of).to_string(),
        clean_claim_rate,
        denials_by_reason,
        denials_by_payer,
        gold_card,
        agreement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::Decided;
    use crate::metrics::fixture;

    #[test]
    fn dashboard_of_the_five_claim_fixture() {
        let h = fixture::five_claims();
        let obs = Observations {
            decided: [
                (fixture::base(), Decision::Accepted),
                (fixture::base() + 1, Decision::Rejected),
                (fixture::base() + 2, Decision::Accepted),
                (fixture::base() + 40, Decision::Edited),
            ]
            .into_iter()
            .map(|(day, decision)| Decided {
                day,
                system: "ICD-10-CM".into(),
                code: "E11.9".into(),
                codesets: "icd10cm-2026".into(),
                decision,
            })
            .collect(),
            finalised: vec![],
        };
        let d = dashboard(&h, &obs, &Config::default(), fixture::base() + 90).unwrap();
        assert_eq!(d.as_of, "2026-04-01");
        // all five submitted in January; claims 1-4 answered (paid, denied,
        // front-end rejected, partially denied), only claim 1 clean
        assert_eq!(
            d.clean_claim_rate,
            [CleanClaimPeriod {
                period: "2026-01".into(),
                claims: 4,
                clean: 1,
                rate: 0.25
            }]
        );
        // denied: claim 2 (A, whole charge 200.00) and claim 4 (B, the
        // denied line's 200.00); one claim each, half of the denials each
        let payers: Vec<(Option<&str>, u64, f64, Option<&str>)> = d
            .denials_by_payer
            .iter()
            .map(|g| (g.payer.as_deref(), g.count, g.share, g.amount.as_deref()))
            .collect();
        assert_eq!(
            payers,
            [
                (Some("A"), 1, 0.5, Some("200.00")),
                (Some("B"), 1, 0.5, Some("200.00"))
            ]
        );
        let mut reasons: Vec<(String, u64, f64)> = d
            .denials_by_reason
            .iter()
            .map(|g| (g.reason.clone().unwrap(), g.count, g.share))
            .collect();
        reasons.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            reasons,
            [
                ("CO-50".to_owned(), 1, 0.5),
                ("CO-97".to_owned(), 1, 0.5),
                ("N115".to_owned(), 1, 0.5)
            ]
        );
        // no prior-authorisation requests: no standings
        assert!(d.gold_card.is_empty());
        // agreement: 2 of 3 in January, 0 of 1 (an edit) in February
        assert_eq!(d.agreement.len(), 2, "{:?}", d.agreement);
        assert_eq!(
            (
                d.agreement[0].period.as_str(),
                d.agreement[0].decisions,
                d.agreement[0].accepted
            ),
            ("2026-01", 3, 2)
        );
        assert!((d.agreement[0].rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            (
                d.agreement[1].period.as_str(),
                d.agreement[1].decisions,
                d.agreement[1].rate
            ),
            ("2026-02", 1, 0.0)
        );
    }
}
