//! The dashboard's figures (no PHI): clean-claim rate per month, denials by
//! reason and by payer, a gold-card standing per payer, and how often human
//! reviewers agreed with the engine per month.
//!
//! Definitions (the same on both backends, computed in Rust from plain
//! rows so that SQL dialects cannot drift):
//! - a claim is *adjudicated* once a payer answered it (999/277CA accepted or
//!   rejected, or an 835 posted it); it is *clean* when adjudicated and it
//!   was never `rejected` or `denied`. The month is the claim's creation month.
//! - a *denial* is an 835 posting that left the claim `denied`; its reasons
//!   are the posting's CARC adjustments (`GROUP-CARC`), each with the amount
//!   the payer adjusted under it; per payer, the denied charge.
//! - the *gold-card standing* follows the Texas HB 3459 pattern: a payer's
//!   approval rate over adjudicated claims of the last 6 months of data; 90 %
//!   or more over at least 5 claims is `exempt`, under 5 claims is
//!   `insufficient_data`. It is an indicator for the billing office; the
//!   exemptions a payer actually granted are configured in the payer profile.
//! - *agreement* counts the latest human decision per suggestion by the month
//!   it was made: accepted unchanged over all decided.

use super::roles::Action;
use super::{Ledger, Principal, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Minimum adjudicated claims for a gold-card standing.
pub const GOLD_CARD_MIN_CLAIMS: i64 = 5;
/// Approval rate for a gold-card standing.
pub const GOLD_CARD_RATE: f64 = 0.90;

/// Clean claims of one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanClaimPeriod {
    /// `YYYY-MM`.
    pub period: String,
    /// Adjudicated claims created that month.
    pub claims: i64,
    /// Of which clean.
    pub clean: i64,
    /// `clean / claims`.
    pub rate: f64,
}

/// Denials grouped by reason or by payer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DenialGroup {
    /// The reason (`CO-97`) or the payer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The payer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Denied claims.
    pub count: i64,
    /// Dollars (`123.45`): adjusted under the reason, or denied charge for a payer.
    pub amount: String,
}

/// A payer's gold-card standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoldCardStanding {
    /// The payer.
    pub payer: String,
    /// `exempt`, `not_exempt`, `insufficient_data`.
    pub status: String,
    /// Approved over adjudicated.
    pub approval_rate: Option<f64>,
    /// Adjudicated claims in the window.
    pub decisions: i64,
}

/// Agreement with the engine in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementPeriod {
    /// `YYYY-MM`.
    pub period: String,
    /// Suggestions decided that month (latest decision each).
    pub decisions: i64,
    /// Accepted unchanged.
    pub accepted: i64,
    /// `accepted / decisions`.
    pub rate: f64,
}

/// Everything the dashboard draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Per month, oldest first.
    pub clean_claim_rate: Vec<CleanClaimPeriod>,
    /// Most frequent first.
    pub denials_by_reason: Vec<DenialGroup>,
    /// Most frequent first.
    pub denials_by_payer: Vec<DenialGroup>,
    /// Per payer, by name.
    pub gold_card: Vec<GoldCardStanding>,
    /// Per month, oldest first.
    pub agreement: Vec<AgreementPeriod>,
}

const ANSWERED: [&str; 8] = [
    "accepted",
    "rejected",
    "paid",
    "denied",
    "reversed",
    "forwarded",
    "not_our_claim",
    "priced",
];

fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

fn month(at: &str) -> String {
    at.get(..7).unwrap_or(at).to_owned()
}

/// Months from `YYYY-MM` to a comparable number.
fn month_number(m: &str) -> Option<i64> {
    let (y, mo) = m.split_once('-')?;
    Some(y.parse::<i64>().ok()? * 12 + mo.parse::<i64>().ok()? - 1)
}

#[derive(Default)]
struct ClaimFacts {
    payer: String,
    created: String,
    answered: bool,
    bad: bool,
}

impl Ledger {
    /// The dashboard for the principal's organisation (role: reports).
    pub fn dashboard(&mut self, p: &Principal) -> Result<Dashboard> {
        p.require(Action::ViewReports)?;
        self.read_audited(|c, _| {
            let org = p.org_id;
            let mut claims: HashMap<i64, ClaimFacts> = HashMap::new();
            for r in c.query(
                "SELECT id, payer, created_at FROM claims WHERE org_id = ?",
                &[org.into()],
            )? {
                claims.insert(
                    r.int(0)?,
                    ClaimFacts {
                        payer: r.text(1)?,
                        created: r.text(2)?,
                        ..ClaimFacts::default()
                    },
                );
            }
            for r in c.query(
                "SELECT claim_id, status FROM claim_status_history WHERE org_id = ?",
                &[org.into()],
            )? {
                let status = r.text(1)?;
                if let Some(f) = claims.get_mut(&r.int(0)?) {
                    f.answered |= ANSWERED.contains(&status.as_str());
                    f.bad |= status == "rejected" || status == "denied";
                }
            }

            let mut clean: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for f in claims.values().filter(|f| f.answered) {
                let e = clean.entry(month(&f.created)).or_default();
                e.0 += 1;
                e.1 += i64::from(!f.bad);
            }
            let clean_claim_rate = clean
                .into_iter()
                .map(|(period, (n, ok))| CleanClaimPeriod {
                    period,
                    claims: n,
                    clean: ok,
                    rate: ok as f64 / n as f64,
                })
                .collect();

            // Gold-card window: the last 6 months that have data.
            let latest = claims
                .values()
                .filter(|f| f.answered)
                .filter_map(|f| month_number(&month(&f.created)))
                .max();
            let mut gold: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for f in claims.values().filter(|f| f.answered) {
                let m = month_number(&month(&f.created));
                if let (Some(m), Some(l)) = (m, latest)
                    && l - m >= 6
                {
                    continue;
                }
                let e = gold.entry(f.payer.clone()).or_default();
                e.0 += 1;
                e.1 += i64::from(!f.bad);
            }
            let gold_card = gold
                .into_iter()
                .map(|(payer, (n, ok))| {
                    let rate = ok as f64 / n as f64;
                    let status = if n < GOLD_CARD_MIN_CLAIMS {
                        "insufficient_data"
                    } else if rate >= GOLD_CARD_RATE {
                        "exempt"
                    } else {
                        "not_exempt"
                    };
                    GoldCardStanding {
                        payer,
                        status: status.to_owned(),
                        approval_rate: Some(rate),
                        decisions: n,
                    }
                })
                .collect();

            // Denials: 835 postings whose status-history row says denied.
            let mut denied_remits: HashMap<i64, ()> = HashMap::new();
            for r in c.query(
                "SELECT detail FROM claim_status_history WHERE org_id = ? AND status = 'denied'",
                &[org.into()],
            )? {
                let detail: serde_json::Value =
                    serde_json::from_str(&r.text(0)?).unwrap_or_default();
                if let Some(id) = detail.get("remittance").and_then(|v| v.as_i64()) {
                    denied_remits.insert(id, ());
                }
            }
            let mut by_reason: HashMap<String, (i64, i64)> = HashMap::new();
            let mut by_payer: HashMap<String, (i64, i64)> = HashMap::new();
            for r in c.query(
                "SELECT id, payer, detail FROM remittances WHERE org_id = ?",
                &[org.into()],
            )? {
                if !denied_remits.contains_key(&r.int(0)?) {
                    continue;
                }
                let detail: serde_json::Value =
                    serde_json::from_str(&r.text(2)?).unwrap_or_default();
                let charge = detail
                    .get("charge_cents")
                    .and_then(|v| v.as_i64())
                    .unwrap_or(0);
                let e = by_payer.entry(r.text(1)?).or_default();
                e.0 += 1;
                e.1 += charge;
                let mut seen = Vec::new();
                let adjustments = detail
                    .get("adjustments")
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default();
                for a in adjustments {
                    let (Some(group), Some(carc)) = (
                        a.get(0).and_then(|v| v.as_str()),
                        a.get(1).and_then(|v| v.as_str()),
                    ) else {
                        continue;
                    };
                    let key = format!("{group}-{carc}");
                    let amount = a.get(2).and_then(|v| v.as_i64()).unwrap_or(0);
                    let e = by_reason.entry(key.clone()).or_default();
                    if !seen.contains(&key) {
                        e.0 += 1;
                        seen.push(key);
                    }
                    e.1 += amount;
                }
            }
            let ranked = |m: HashMap<String, (i64, i64)>, reason: bool| {
                let mut v: Vec<DenialGroup> = m
                    .into_iter()
                    .map(|(k, (n, cents))| DenialGroup {
                        reason: reason.then(|| k.clone()),
                        payer: (!reason).then_some(k),
                        count: n,
                        amount: dollars(cents),
                    })
                    .collect();
                v.sort_by(|a, b| {
                    b.count
                        .cmp(&a.count)
                        .then_with(|| a.reason.cmp(&b.reason))
                        .then_with(|| a.payer.cmp(&b.payer))
                });
                v
            };

            let mut agreement: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for r in c.query(
                "SELECT d.action, d.decided_at FROM decisions d WHERE d.org_id = ? AND d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.suggestion_id = d.suggestion_id)",
                &[org.into()],
            )? {
                let e = agreement.entry(month(&r.text(1)?)).or_default();
                e.0 += 1;
                e.1 += i64::from(r.text(0)? == "accept");
            }
            Ok(Dashboard {
                clean_claim_rate,
                denials_by_reason: ranked(by_reason, true),
                denials_by_payer: ranked(by_payer, false),
                gold_card,
                agreement: agreement
                    .into_iter()
                    .map(|(period, (n, ok))| AgreementPeriod {
                        period,
                        decisions: n,
                        accepted: ok,
                        rate: ok as f64 / n as f64,
                    })
                    .collect(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_and_months() {
        assert_eq!(dollars(12345), "123.45");
        assert_eq!(dollars(-5), "-0.05");
        assert_eq!(dollars(0), "0.00");
        assert_eq!(month("2026-11-30T10:00:00Z"), "2026-11");
        assert_eq!(month_number("2026-01"), Some(2026 * 12));
        assert_eq!(
            month_number("2026-12").unwrap() - month_number("2026-06").unwrap(),
            6
        );
        assert_eq!(month_number("garbage"), None);
    }
}
