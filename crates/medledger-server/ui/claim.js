// The Claim tab (build, scrub findings, 837 download) and the Audit packet tab.

import * as api from "./api.js";
import { h, replace, words, badge } from "./dom.js";
import { showError, clearError, announce } from "./messages.js";

export function renderClaimTab(panel, enc, id) {
  const out = h("div", { id: "claim-result", "aria-live": "polite" });
  const build = h("button", { type: "button", class: "btn btn-primary", id: "claim-build" }, "Build and scrub claim");
  const finalised = enc.status === "finalised";
  replace(
    panel,
    h("h2", {}, "Claim"),
    h("p", { class: "hint" }, "Builds a claim from the final codes and the server's claim template, then scrubs it (NCCI, MUE, ICD-10-CM validity, payer rules…)."),
    finalised ? null : h("p", { class: "notice", id: "claim-notice" }, "Finalise the encounter first: a claim is built from its final codes."),
    build,
    out,
  );
  build.addEventListener("click", async () => {
    build.disabled = true;
    build.setAttribute("aria-busy", "true");
    clearError();
    replace(out, h("p", { class: "loading" }, "Building…"));
    try {
      const r = await api.post(`/api/v1/encounters/${id}/claim`, {});
      drawClaim(out, r);
      const findings = findingsOf(r.scrub);
      announce(`Claim ${r.claim_id} built: ${findings.length} scrub finding${findings.length === 1 ? "" : "s"}.`);
    } catch (e) {
      replace(out);
      if (e.status !== 401) showError(e);
    } finally {
      build.disabled = false;
      build.removeAttribute("aria-busy");
    }
  });
}

function findingsOf(scrub) {
  if (!scrub) return [];
  if (Array.isArray(scrub)) return scrub;
  return scrub.findings || [];
}

function drawClaim(out, r) {
  const c = r.claim || {};
  const findings = findingsOf(r.scrub);
  const rejects = findings.filter((f) => f.severity === "reject").length;
  const clean = r.scrub && typeof r.scrub.clean === "boolean" ? r.scrub.clean : rejects === 0;
  const dl = h("button", { type: "button", class: "btn", id: "claim-837" }, "Download 837");
  dl.addEventListener("click", async () => {
    try {
      await api.download(`/api/v1/claims/${encodeURIComponent(r.claim_id)}/837`, `claim-${r.claim_id}.837`);
      announce("837 downloaded");
    } catch (e) {
      if (e.status !== 401) showError(e);
    }
  });
  const cents = (l) => (l.charge_cents !== undefined ? Number(l.charge_cents) || 0 : Math.round((Number(l.charge) || 0) * 100));
  const total = (c.lines || []).reduce((a, l) => a + cents(l), 0) / 100;
  replace(
    out,
    h(
      "div",
      { class: "claim-head" },
      h("h3", {}, `Claim ${r.claim_id}`),
      badge(clean ? "clean" : "not_clean", clean ? "clean" : "has rejects"),
      dl,
    ),
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "Kind"),
      h("dd", {}, words(c.kind || "—")),
      h("dt", {}, "Payer"),
      h("dd", {}, c.payer ? `${c.payer.name || ""} (${c.payer.id || ""})` : "—"),
      h("dt", {}, "Diagnoses"),
      h("dd", {}, (c.diagnoses || []).map((d) => d.code).join(", ") || "—"),
      h("dt", {}, "Lines"),
      h(
        "dd",
        {},
        (c.lines || []).length
          ? h("ul", { class: "plain" }, c.lines.map((l) => h("li", {}, h("code", {}, l.procedure || l.code || "?"), (l.modifiers || []).length ? ` -${l.modifiers.join(" -")}` : "", ` × ${l.units ?? 1}`, l.charge_cents !== undefined || l.charge !== undefined ? ` · $${(cents(l) / 100).toFixed(2)}` : "")))
          : "—",
      ),
      total ? [h("dt", {}, "Total charge"), h("dd", {}, `$${total.toFixed(2)}`)] : null,
    ),
    h("h3", { id: "scrub-title" }, `Scrub findings (${findings.length}: ${rejects} reject, ${findings.length - rejects} warn)`),
    findings.length
      ? h(
          "table",
          { class: "data scrub-table", id: "scrub-findings", "aria-labelledby": "scrub-title" },
          h("thead", {}, h("tr", {}, ["Edit", "Severity", "Message", "Where", "Suggested fix", "Source"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            findings.map((f) =>
              h(
                "tr",
                { class: `finding sev-${f.severity}` },
                h("td", {}, h("code", {}, f.edit_id || f.id || "—")),
                h("td", {}, badge(f.severity)),
                h("td", {}, f.message),
                h("td", {}, h("code", {}, f.location || f.where || "—")),
                h("td", {}, f.suggested_fix || f.fix || "—"),
                h("td", { class: "source" }, f.source || "—"),
              ),
            ),
          ),
        )
      : h("p", { class: "empty", id: "scrub-clean" }, "No scrub findings: the claim is clean."),
  );
}

export async function renderPacketTab(panel, enc, id) {
  const base = `/api/v1/encounters/${id}/audit-packet`;
  const htmlBtn = h("button", { type: "button", class: "btn btn-primary", id: "packet-html" }, "Download audit packet (HTML)");
  const jsonBtn = h("button", { type: "button", class: "btn", id: "packet-json" }, "Download JSON");
  const summary = h("div", { id: "packet-summary", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading the packet summary…"));
  replace(
    panel,
    h("h2", {}, "Audit packet"),
    h("p", { class: "hint" }, "The defence file: every code with its evidence, logic and human verification, the audit trail and the chain's verification, and the attestation."),
    h("div", { class: "btn-row" }, htmlBtn, jsonBtn),
    summary,
  );
  htmlBtn.addEventListener("click", async () => {
    try {
      await api.download(`${base}?format=html&download=1`, `audit-packet-${enc.encounter}.html`);
      announce("Audit packet downloaded");
    } catch (e) {
      if (e.status !== 401) showError(e);
    }
  });
  jsonBtn.addEventListener("click", async () => {
    try {
      await api.download(base, `audit-packet-${enc.encounter}.json`);
      announce("Audit packet JSON downloaded");
    } catch (e) {
      if (e.status !== 401) showError(e);
    }
  });
  let pk;
  try {
    pk = await api.get(base);
  } catch (e) {
    if (e.status === 401) throw e;
    const p = e.problem || {};
    replace(summary, h("p", { class: "empty" }, `No packet summary: ${p.title || "error"}${p.detail ? ` — ${p.detail}` : ""}`));
    return;
  }
  const codes = pk.codes || [];
  const chain = pk.chain || {};
  replace(
    summary,
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "Format"),
      h("dd", {}, pk.format || "—"),
      h("dt", {}, "Generated"),
      h("dd", {}, `${String(pk.generated_at || "").replace("T", " ").replace(/\.\d+/, "")} by ${pk.generated_by || "—"}`),
      h("dt", {}, "Status"),
      h("dd", {}, badge(pk.status)),
      h("dt", {}, "Audit chain"),
      h("dd", {}, chain.ok ? badge("verified", "verified") : badge("problem", `${chain.problems ?? "?"} problems`), ` ${chain.entries ?? "?"} entries`, chain.head_hash ? h("div", { class: "hint hash" }, "head ", h("code", {}, chain.head_hash)) : null),
      h("dt", {}, "Trail entries"),
      h("dd", {}, String((pk.audit_trail || []).length)),
    ),
    h(
      "table",
      { class: "data packet-codes", id: "packet-codes" },
      h("caption", {}, "Codes and their verification"),
      h("thead", {}, h("tr", {}, ["Suggested", "Final", "Outcome", "Verified by"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        codes.length
          ? codes.map((c) =>
              h(
                "tr",
                {},
                h("td", {}, h("code", {}, c.suggested_code), h("div", { class: "hint" }, c.descriptor)),
                h("td", {}, c.final_code ? h("code", {}, c.final_code) : "—"),
                h("td", {}, badge(c.outcome)),
                h("td", {}, (c.verifications || []).map((v) => `${v.reviewer_name || v.reviewer} (${v.credential}) ${words(v.action)}${v.reason ? `: ${words(v.reason)}` : ""}`).join("; ") || (c.final_source === "engine" ? "engine under policy" : "—")),
              ),
            )
          : h("tr", {}, h("td", { colspan: "4", class: "empty" }, "No codes.")),
      ),
    ),
    pk.attestation ? h("section", { "aria-labelledby": "attest-title" }, h("h3", { id: "attest-title" }, "Attestation"), h("blockquote", { class: "attestation" }, pk.attestation)) : null,
  );
}
