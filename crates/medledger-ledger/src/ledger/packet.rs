//! The audit packet ("why this code?"): for one encounter, every code with
//! its evidence in the note, the logic that produced it, the human
//! verification (who, credential, when), the finalisation, the encounter's
//! audit entries and the chain's verification at export, plus an
//! attestation statement. JSON for machines, HTML for people.

use super::encounters::{EncounterView, EvidenceSpan, PolicyRef, RunInfo, load_view};
use super::{Ledger, Principal, Result};
use crate::audit::AuditKind;
use crate::ledger::roles::Action;
use serde::Serialize;
use serde_json::json;
use std::fmt::Write as _;

/// Characters of note shown on each side of an evidence span.
const CONTEXT_CHARS: usize = 80;

/// An evidence span with its surrounding text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PacketEvidence {
    /// The span.
    #[serde(flatten)]
    pub span: EvidenceSpan,
    /// Up to 80 characters before it.
    pub before: String,
    /// Up to 80 characters after it.
    pub after: String,
}

/// Who verified a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    /// Decision id.
    pub decision: i64,
    /// `accept`, `reject`, `edit`.
    pub action: String,
    /// Login name.
    pub reviewer: String,
    /// Display name.
    pub reviewer_name: String,
    /// Credential.
    pub credential: String,
    /// When.
    pub decided_at: String,
    /// Reject reason.
    pub reason: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// The code after an edit.
    pub new_code: Option<String>,
}

/// One code of the packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PacketCode {
    /// Suggestion id.
    pub suggestion: i64,
    /// System.
    pub system: String,
    /// The code as suggested.
    pub suggested_code: String,
    /// The code as finalised (`None`: rejected or not final yet).
    pub final_code: Option<String>,
    /// Descriptor.
    pub descriptor: String,
    /// `final`, `rejected`, `pending`.
    pub outcome: String,
    /// `reviewer` or `engine`.
    pub final_source: Option<String>,
    /// Engine confidence.
    pub confidence: f64,
    /// Engine flags.
    pub flags: Vec<String>,
    /// Rule / guideline ids.
    pub rule_ids: Vec<String>,
    /// The logic.
    pub logic: serde_json::Value,
    /// Evidence (the reviewer's, when an edit replaced it).
    pub evidence: Vec<PacketEvidence>,
    /// Whether the policy required a human.
    pub review_required: bool,
    /// Every human decision, oldest first.
    pub verifications: Vec<Verification>,
}

/// Chain state at export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainAtExport {
    /// Verified without problems.
    pub ok: bool,
    /// Entries.
    pub entries: u64,
    /// Last signed checkpoint.
    pub last_signed_seq: Option<u64>,
    /// Head seq.
    pub head_seq: Option<u64>,
    /// Head hash (hex): publish it as an external anchor.
    pub head_hash: Option<String>,
    /// Problems found.
    pub problems: u64,
}

/// One audit entry about the encounter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PacketAuditEntry {
    /// Seq.
    pub seq: u64,
    /// When.
    pub at: String,
    /// Kind.
    pub kind: String,
    /// Actor.
    pub actor: String,
    /// Detail.
    pub detail: serde_json::Value,
    /// Entry hash (hex).
    pub hash: String,
}

/// The defence file for one encounter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPacket {
    /// Format id.
    pub format: &'static str,
    /// When exported.
    pub generated_at: String,
    /// Who exported.
    pub generated_by: String,
    /// Organisation.
    pub org: String,
    /// Encounter id.
    pub encounter: i64,
    /// Patient id, name, date of birth, sex.
    pub patient: serde_json::Value,
    /// Date of service.
    pub dos: String,
    /// Setting.
    pub setting: String,
    /// Payer.
    pub payer: Option<String>,
    /// Encounter status.
    pub status: String,
    /// The review policy that routed it.
    pub policy: Option<PolicyRef>,
    /// Why review was required.
    pub review_reasons: Vec<super::ReviewReason>,
    /// Coding runs (engine, model, code sets).
    pub runs: Vec<RunInfo>,
    /// Every suggestion and its fate.
    pub codes: Vec<PacketCode>,
    /// Finalisation: mode, by, at.
    pub finalisation: serde_json::Value,
    /// The encounter's audit entries.
    pub audit_trail: Vec<PacketAuditEntry>,
    /// The whole chain's verification at export.
    pub chain: ChainAtExport,
    /// The attestation statement.
    pub attestation: String,
}

fn context(note: &[char], s: &EvidenceSpan) -> (String, String) {
    let start = s.start.min(note.len());
    let end = s.end.min(note.len());
    let b = start.saturating_sub(CONTEXT_CHARS);
    let a = (end + CONTEXT_CHARS).min(note.len());
    (
        note[b..start].iter().collect(),
        note[end..a].iter().collect(),
    )
}

fn build(
    v: &EncounterView,
    p: &Principal,
    chain: ChainAtExport,
    trail: Vec<PacketAuditEntry>,
) -> AuditPacket {
    let note: Vec<char> = v.note.chars().collect();
    let mut codes = Vec::new();
    for s in &v.suggestions {
        let last = s.decisions.last();
        let evidence_spans = match last {
            Some(d) if d.action == "edit" && !d.new_evidence.is_empty() => d.new_evidence.clone(),
            _ => s.evidence.clone(),
        };
        let fc = v.final_codes.iter().find(|f| f.suggestion == Some(s.id));
        let outcome = if fc.is_some() {
            "final"
        } else if s.status == "rejected" {
            "rejected"
        } else {
            "pending"
        };
        codes.push(PacketCode {
            suggestion: s.id,
            system: s.system.clone(),
            suggested_code: s.code.clone(),
            final_code: fc.map(|f| f.code.clone()),
            descriptor: s.descriptor.clone(),
            outcome: outcome.into(),
            final_source: fc.map(|f| f.source.clone()),
            confidence: s.confidence,
            flags: s.flags.clone(),
            rule_ids: s.rule_ids.clone(),
            logic: s.logic.clone(),
            evidence: evidence_spans
                .into_iter()
                .map(|span| {
                    let (before, after) = context(&note, &span);
                    PacketEvidence {
                        span,
                        before,
                        after,
                    }
                })
                .collect(),
            review_required: s.requires_review,
            verifications: s
                .decisions
                .iter()
                .map(|d| Verification {
                    decision: d.id,
                    action: d.action.clone(),
                    reviewer: d.reviewer.clone(),
                    reviewer_name: d.reviewer_name.clone(),
                    credential: d.credential.clone(),
                    decided_at: d.decided_at.clone(),
                    reason: d.reason.clone(),
                    comment: d.comment.clone(),
                    new_code: d.new_code.clone(),
                })
                .collect(),
        });
    }
    let mut reviewers: Vec<String> = v
        .suggestions
        .iter()
        .flat_map(|s| s.decisions.iter())
        .map(|d| format!("{} ({})", d.reviewer_name, d.credential))
        .collect();
    reviewers.sort();
    reviewers.dedup();
    let attestation = attestation(v, &reviewers, &chain);
    AuditPacket {
        format: "medledger-audit-packet/1",
        generated_at: super::now(),
        generated_by: p.audit_actor(),
        org: v.org.clone(),
        encounter: v.encounter,
        patient: json!({"id": v.patient_id, "name": v.patient_name, "dob": v.patient_dob, "sex": v.patient_sex}),
        dos: v.dos.clone(),
        setting: v.setting.clone(),
        payer: v.payer.clone(),
        status: v.status.clone(),
        policy: v.policy.clone(),
        review_reasons: v.review_reasons.clone(),
        runs: v.runs.clone(),
        codes,
        finalisation: json!({"mode": v.finalisation_mode, "by": v.finalised_by, "at": v.finalised_at}),
        audit_trail: trail,
        chain,
        attestation,
    }
}

fn attestation(v: &EncounterView, reviewers: &[String], chain: &ChainAtExport) -> String {
    let mut s = format!(
        "This packet documents the coding of encounter {} (date of service {}). Every code above lists the passages of the clinical documentation it rests on, quoted from the note as stored at coding time with their character offsets, the logic that produced the suggestion, and each human decision recorded on it. ",
        v.encounter, v.dos
    );
    match v.finalisation_mode.as_deref() {
        Some("human") => {
            let _ = write!(
                s,
                "The final code set was produced after review by {} and finalised by {} at {}. ",
                if reviewers.is_empty() { "no reviewer".to_owned() } else { reviewers.join(", ") },
                v.finalised_by.as_deref().unwrap_or("?"),
                v.finalised_at.as_deref().unwrap_or("?")
            );
        }
        Some("autonomous") => {
            let _ = write!(
                s,
                "No rule of the review policy {} required human review; the final code set was produced by the coding engine ({}) at {}. ",
                v.policy.as_ref().map_or("?", |p| p.label.as_str()),
                v.finalised_by.as_deref().unwrap_or("?"),
                v.finalised_at.as_deref().unwrap_or("?")
            );
        }
        _ => s.push_str("The encounter is not finalised: the codes above are suggestions and decisions so far, not a final code set. "),
    }
    let _ = write!(
        s,
        "The entries of the tamper-evident audit trail about this encounter are listed with their hashes; at export the whole trail of {} entries {}{}.",
        chain.entries,
        if chain.ok {
            "verified without problems"
        } else {
            "FAILED verification"
        },
        chain
            .head_hash
            .as_ref()
            .map(|h| format!(" (head entry {} hash {h})", chain.head_seq.unwrap_or(0)))
            .unwrap_or_default()
    );
    s
}

impl Ledger {
    /// Exports the audit packet of an encounter (a logged PHI read).
    pub fn audit_packet(&mut self, p: &Principal, encounter: i64) -> Result<AuditPacket> {
        p.require(Action::ExportPacket)?;
        let report = self.verify_audit_unchecked()?;
        let chain = ChainAtExport {
            ok: report.ok,
            entries: report.entries,
            last_signed_seq: report.chain.last_signed_seq,
            head_seq: report.chain.head.map(|h| h.seq),
            head_hash: report.chain.head.map(|h| hex::encode(h.hash)),
            problems: report.chain.problem_count() + report.unreadable.len() as u64,
        };
        self.read_audited(|c, ctx| {
            let v = load_view(c, ctx, p, encounter)?;
            let mut subjects = vec![format!("encounter:{encounter}"), format!("patient:{}", v.patient_id)];
            subjects.dedup();
            let trail = Ledger::audit_entries_for(c, &subjects)?
                .into_iter()
                .filter(|e| e.kind != AuditKind::PhiRead || e.detail.get("encounter").and_then(|x| x.as_i64()) == Some(encounter))
                .map(|e| PacketAuditEntry {
                    seq: e.seq,
                    at: e.at.to_string(),
                    kind: e.kind.as_str().to_owned(),
                    actor: e.actor,
                    detail: e.detail,
                    hash: hex::encode(e.hash),
                })
                .collect();
            ctx.audit(
                p,
                AuditKind::PhiRead,
                format!("patient:{}", v.patient_id),
                json!({"encounter": encounter, "fields": ["patient_name", "patient_dob", "evidence"], "purpose": "audit_packet"}),
            );
            Ok(build(&v, p, chain.clone(), trail))
        })
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The packet as a self-contained, printable HTML page.
pub fn render_packet_html(pk: &AuditPacket) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let pat = |k: &str| {
        pk.patient
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit packet: encounter {enc}</title>\n<style>\
body{{font:14px/1.45 system-ui,sans-serif;color:#111;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
h1{{font-size:1.5rem}}h2{{font-size:1.15rem;border-bottom:1px solid #999;margin-top:2rem}}\
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}}\
th{{background:#eee}}mark{{background:#ffe066;color:#000}}.ctx{{color:#444}}.code{{font-family:ui-monospace,monospace;font-weight:600}}\
.ok{{color:#0a5d00}}.bad{{color:#a00000;font-weight:700}}.card{{border:1px solid #999;padding:.6rem .9rem;margin:.8rem 0;page-break-inside:avoid}}\
@media print{{body{{margin:0}}}}</style></head><body>\n",
        enc = pk.encounter
    );
    let _ = write!(
        h,
        "<h1>Coding audit packet — encounter {}</h1>\n<table><tr><th scope=\"row\">Patient</th><td>{} (born {}, sex {}, id {})</td></tr>\
<tr><th scope=\"row\">Date of service</th><td>{}</td></tr><tr><th scope=\"row\">Setting / payer</th><td>{} / {}</td></tr>\
<tr><th scope=\"row\">Status</th><td>{}</td></tr><tr><th scope=\"row\">Review policy</th><td>{}</td></tr>\
<tr><th scope=\"row\">Organisation</th><td>{}</td></tr><tr><th scope=\"row\">Exported</th><td>{} by {}</td></tr></table>\n",
        pk.encounter,
        esc(&pat("name")),
        esc(&pat("dob")),
        esc(&pat("sex")),
        pk.patient.get("id").and_then(|v| v.as_i64()).unwrap_or(0),
        esc(&pk.dos),
        esc(&pk.setting),
        esc(pk.payer.as_deref().unwrap_or("—")),
        esc(&pk.status),
        esc(&pk
            .policy
            .as_ref()
            .map(|p| format!("{} (sha256 {})", p.label, p.sha256))
            .unwrap_or_else(|| "—".into())),
        esc(&pk.org),
        esc(&pk.generated_at),
        esc(&pk.generated_by),
    );
    if !pk.review_reasons.is_empty() {
        h.push_str("<h2>Why human review was required</h2><ul>");
        for r in &pk.review_reasons {
            let _ = write!(
                h,
                "<li><span class=\"code\">{}</span>: {}</li>",
                esc(&r.rule),
                esc(&r.message)
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2>Coding runs</h2><table><tr><th>Run</th><th>Engine</th><th>Model</th><th>Code sets</th><th>Started</th></tr>");
    for r in &pk.runs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.id,
            esc(&r.engine_version),
            esc(r.model_version.as_deref().unwrap_or("—")),
            esc(&r.codesets.join(", ")),
            esc(&r.started_at)
        );
    }
    h.push_str("</table>\n<h2>Codes, evidence, logic and verification</h2>\n");
    for c in &pk.codes {
        let _ = write!(
            h,
            "<section class=\"card\"><h3><span class=\"code\">{} {}</span>{} — {}</h3>",
            esc(&c.system),
            esc(&c.suggested_code),
            c.final_code
                .as_ref()
                .filter(|f| **f != c.suggested_code)
                .map(|f| format!(" → <span class=\"code\">{}</span>", esc(f)))
                .unwrap_or_default(),
            esc(&c.descriptor)
        );
        let _ = write!(
            h,
            "<p>Outcome: <strong>{}</strong>{} · engine confidence {:.2}{}</p>",
            esc(&c.outcome),
            c.final_source
                .as_ref()
                .map(|s| format!(" ({})", esc(s)))
                .unwrap_or_default(),
            c.confidence,
            if c.review_required {
                " · human review required by policy"
            } else {
                ""
            }
        );
        h.push_str("<p>Evidence:</p><ul>");
        for e in &c.evidence {
            let _ = write!(
                h,
                "<li><span class=\"ctx\">…{}</span><mark>{}</mark><span class=\"ctx\">{}…</span> <small>(characters {}–{})</small></li>",
                esc(&e.before),
                esc(&e.span.text),
                esc(&e.after),
                e.span.start,
                e.span.end
            );
        }
        h.push_str("</ul>");
        let _ = write!(
            h,
            "<p>Logic: {}{}</p>",
            esc(&serde_json::to_string(&c.logic).unwrap_or_default()),
            if c.rule_ids.is_empty() {
                String::new()
            } else {
                format!(" · rules {}", esc(&c.rule_ids.join(", ")))
            }
        );
        if c.verifications.is_empty() {
            h.push_str("<p>Human verification: none recorded.</p>");
        } else {
            h.push_str("<table><tr><th>Decision</th><th>Reviewer</th><th>Credential</th><th>When</th><th>Reason / new code</th><th>Comment</th></tr>");
            for v in &c.verifications {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&v.action),
                    esc(&v.reviewer_name),
                    esc(&v.reviewer),
                    esc(&v.credential),
                    esc(&v.decided_at),
                    esc(v.reason.as_deref().or(v.new_code.as_deref()).unwrap_or("—")),
                    esc(v.comment.as_deref().unwrap_or(""))
                );
            }
            h.push_str("</table>");
        }
        h.push_str("</section>\n");
    }
    h.push_str("<h2>Audit trail of this encounter</h2><table><tr><th>Seq</th><th>When</th><th>What</th><th>Who</th><th>Entry hash</th></tr>");
    for e in &pk.audit_trail {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><small class=\"code\">{}</small></td></tr>",
            e.seq,
            esc(&e.at),
            esc(&e.kind),
            esc(&e.actor),
            esc(&e.hash)
        );
    }
    let _ = write!(
        h,
        "</table>\n<p>Chain verification at export: <span class=\"{}\">{}</span> ({} entries; last signed checkpoint {}).</p>\n",
        if pk.chain.ok { "ok" } else { "bad" },
        if pk.chain.ok { "verified" } else { "FAILED" },
        pk.chain.entries,
        pk.chain
            .last_signed_seq
            .map_or("none".into(), |s| s.to_string())
    );
    let _ = write!(
        h,
        "<h2>Attestation</h2><p>{}</p>\n<p>Signature of reviewing coder/auditor: ______________________ Date: __________</p>\n</body></html>\n",
        esc(&pk.attestation)
    );
    h
}
