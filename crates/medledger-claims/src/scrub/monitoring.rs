//! Claim-level period rules for remote physiologic (RPM) and therapeutic
//! (RTM) monitoring and digital mental-health treatment (DMHT) codes.
//!
//! `medledger-services` decides these codes from the monitoring data
//! (readings, minutes, devices: `monitoring::MonitoringEngine::evaluate`,
//! `dmht::DmhtEngine::evaluate`); a claim carries none of that, so the
//! scrubber checks only what codes, units and dates show, with the same
//! code lists as `rules/monitoring.toml` and `rules/dmht.toml` (2026.1):
//!
//! - device supply (RPM 99454, 99445; RTM 98976-98978, 98984-98986): one
//!   unit per line and one supply code per 30-day period per patient, on
//!   the claim and in the history (`rpm.supply.one_per_period`,
//!   `rtm.supply.one_per_period.*`); RPM and RTM supply not in the same
//!   period (`monitoring.rpm_rtm_exclusive`);
//! - setup (99453, 98975): once per episode of care (`monitoring.setup_once`):
//!   twice on one claim is a reject; a setup in the history within 365 days
//!   is a warning (the claim cannot show whether a new episode began);
//! - management first tier (RPM 99457/99470, RTM 98980/98979): one per
//!   calendar month (`*.management.one_first_tier`, `monitoring.no_duplicate`);
//!   the add-ons 99458 and 98981 need their 20-minute parent in the same
//!   month;
//! - DMHT: G0552 once per course of treatment (twice on a claim: reject;
//!   within 365 days in the history: warning), G0553 once per calendar
//!   month, G0554 needs G0553 in the same month.
//!
//! Left to the service-coding layer: days with readings (2-15 / 16-30),
//! minutes and interactive communication, FDA device status, the DMHT
//! treatment plan and device class.

use super::keys::Day;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Program {
    Rpm,
    Rtm,
    Dmht,
}

impl Program {
    pub fn label(self) -> &'static str {
        match self {
            Program::Rpm => "RPM",
            Program::Rtm => "RTM",
            Program::Dmht => "DMHT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Device supply per 30-day period (DMHT: per course).
    Supply,
    /// Setup once per episode.
    Setup,
    /// First-tier management, once per calendar month.
    First,
    /// Add-on management; needs the parent in the month.
    AddOn(&'static str),
}

/// The program and role of a monitoring code.
pub(crate) fn classify(code: &str) -> Option<(Program, Role)> {
    Some(match code {
        "99454" | "99445" => (Program::Rpm, Role::Supply),
        "98976" | "98977" | "98978" | "98984" | "98985" | "98986" => (Program::Rtm, Role::Supply),
        "99453" => (Program::Rpm, Role::Setup),
        "98975" => (Program::Rtm, Role::Setup),
        "99457" | "99470" => (Program::Rpm, Role::First),
        "98980" | "98979" => (Program::Rtm, Role::First),
        "99458" => (Program::Rpm, Role::AddOn("99457")),
        "98981" => (Program::Rtm, Role::AddOn("98980")),
        "G0552" => (Program::Dmht, Role::Supply),
        "G0553" => (Program::Dmht, Role::First),
        "G0554" => (Program::Dmht, Role::AddOn("G0553")),
        _ => return None,
    })
}

/// A monitoring service, on the claim (`line: Some`) or in the history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event<'a> {
    pub line: Option<usize>,
    pub code: &'a str,
    pub program: Program,
    pub role: Role,
    pub dos: Day,
    pub units: f64,
}

/// A problem found: (claim line, reject?, message, fix, source).
pub(crate) struct Problem {
    pub line: usize,
    pub reject: bool,
    pub message: String,
    pub fix: String,
    pub source: &'static str,
}

const SRC_SUPPLY: &str = "medledger-services rules/monitoring.toml 2026.1 (rpm.supply.one_per_period, rtm.supply.one_per_period.2026: CPT 2026; CMS CY2026 PFS final rule)";
const SRC_EXCL: &str = "medledger-services rules/monitoring.toml 2026.1 (monitoring.rpm_rtm_exclusive: CMS CY2022 PFS final rule)";
const SRC_SETUP: &str = "medledger-services rules/monitoring.toml 2026.1 (monitoring.setup_once: CPT 2019-2026, once per episode of care)";
const SRC_MGMT: &str = "medledger-services rules/monitoring.toml 2026.1 (rpm/rtm.management.one_first_tier, monitoring.no_duplicate)";
const SRC_DMHT: &str = "medledger-services rules/dmht.toml 2026.1 (dmht.supply_once, dmht.management.*: CMS CY2025 PFS final rule)";

fn line_no(e: &Event) -> String {
    match e.line {
        Some(i) => format!("line {}", i + 1),
        None => "a prior claim".into(),
    }
}

/// Applies the period rules to the claim's monitoring events (`events`:
/// claim lines first, then history).
pub(crate) fn check(events: &[Event], out: &mut Vec<Problem>) {
    for (i, e) in events.iter().enumerate() {
        let Some(li) = e.line else { continue };
        if e.units > 1.0 && matches!(e.role, Role::Supply | Role::Setup | Role::First) {
            out.push(Problem {
                line: li,
                reject: true,
                message: format!(
                    "line {}: {} billed with {} units; it is reported once per {}",
                    li + 1,
                    e.code,
                    e.units,
                    per(e)
                ),
                fix: "bill 1 unit".into(),
                source: source(e),
            });
        }
        // Pairs: each claim line against every earlier event and every history event.
        for (j, o) in events.iter().enumerate() {
            if j == i || (o.line.is_some() && j > i) {
                continue;
            }
            let gap = e.dos.since(o.dos).abs();
            match (e.role, o.role) {
                (Role::Supply, Role::Supply)
                    if e.program != Program::Dmht && o.program != Program::Dmht && gap < 30 =>
                {
                    let same = e.program == o.program;
                    out.push(Problem {
                        line: li,
                        reject: true,
                        message: if same {
                            format!(
                                "line {}: {} supply {} on {} is within 30 days of {} supply {} on {} ({}): one device-supply code per 30-day period",
                                li + 1, e.program.label(), e.code, e.dos, o.program.label(), o.code, o.dos, line_no(o)
                            )
                        } else {
                            format!(
                                "line {}: {} supply {} on {} and {} supply {} on {} ({}): RPM and RTM are not billed for the same period",
                                li + 1, e.program.label(), e.code, e.dos, o.program.label(), o.code, o.dos, line_no(o)
                            )
                        },
                        fix: if same {
                            "bill one supply code per 30-day period (99454 for 16-30 days, 99445 for 2-15 days; RTM likewise)".into()
                        } else {
                            "bill either RPM or RTM for the period".into()
                        },
                        source: if same { SRC_SUPPLY } else { SRC_EXCL },
                    });
                }
                (Role::Setup, Role::Setup) if e.program == o.program => {
                    let on_claim = o.line.is_some();
                    if on_claim || gap < 365 {
                        out.push(Problem {
                            line: li,
                            reject: on_claim,
                            message: format!(
                                "line {}: setup {} on {} repeats setup {} on {} ({}): setup is billed once per episode of care",
                                li + 1, e.code, e.dos, o.code, o.dos, line_no(o)
                            ),
                            fix: if on_claim { "remove the repeated setup line".into() } else { "bill setup again only for a new episode of care; document why monitoring restarted".into() },
                            source: SRC_SETUP,
                        });
                    }
                }
                (Role::Supply, Role::Supply)
                    if e.program == Program::Dmht && o.program == Program::Dmht =>
                {
                    let on_claim = o.line.is_some();
                    if on_claim || gap < 365 {
                        out.push(Problem {
                            line: li,
                            reject: on_claim,
                            message: format!(
                                "line {}: DMHT device supply {} on {} repeats {} on {} ({}): billed once per course of treatment",
                                li + 1, e.code, e.dos, o.code, o.dos, line_no(o)
                            ),
                            fix: if on_claim { "remove the repeated supply line".into() } else { "bill a second device supply only for a new course of treatment".into() },
                            source: SRC_DMHT,
                        });
                    }
                }
                (Role::First, Role::First)
                    if e.program == o.program && e.dos.month_key() == o.dos.month_key() =>
                {
                    out.push(Problem {
                        line: li,
                        reject: true,
                        message: format!(
                            "line {}: {} management {} and {} ({}) in the same calendar month ({}): one first-tier management code per month",
                            li + 1, e.program.label(), e.code, o.code, line_no(o), month(e.dos)
                        ),
                        fix: "bill one first-tier management code for the month; further time goes on the add-on code".into(),
                        source: if e.program == Program::Dmht { SRC_DMHT } else { SRC_MGMT },
                    });
                }
                _ => {}
            }
        }
        if let Role::AddOn(parent) = e.role {
            let has_parent = events
                .iter()
                .any(|o| o.code == parent && o.dos.month_key() == e.dos.month_key());
            if !has_parent {
                out.push(Problem {
                    line: li,
                    reject: true,
                    message: format!(
                        "line {}: add-on {} in {} without {} in the same calendar month",
                        li + 1, e.code, month(e.dos), parent
                    ),
                    fix: format!("bill {parent} for the first 20 minutes of the month with the add-on, or remove the add-on"),
                    source: if e.program == Program::Dmht { SRC_DMHT } else { SRC_MGMT },
                });
            }
        }
    }
}

fn per(e: &Event) -> &'static str {
    match (e.program, e.role) {
        (Program::Dmht, Role::Supply) => "course of treatment",
        (_, Role::Supply) => "30-day period",
        (_, Role::Setup) => "episode of care",
        _ => "calendar month",
    }
}

fn source(e: &Event) -> &'static str {
    match (e.program, e.role) {
        (Program::Dmht, _) => SRC_DMHT,
        (_, Role::Supply) => SRC_SUPPLY,
        (_, Role::Setup) => SRC_SETUP,
        _ => SRC_MGMT,
    }
}

fn month(d: Day) -> String {
    let (y, m, _) = d.ymd();
    format!("{y:04}-{m:02}")
}
