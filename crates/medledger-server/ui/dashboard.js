// The dashboard: clean-claim rate, denials by reason and payer, gold-card
// status per payer program, AI agreement with human coders, A/R aging and
// drift alerts. Every figure comes from /api/v1/reports/*, the same reports
// as `medledger report`.

import * as api from "./api.js";
import { h, replace, pct, words, badge } from "./dom.js";
import { lineChart, barChart } from "./charts.js";

function money(s) {
  if (s === null || s === undefined || s === "") return "—";
  const n = Number(s);
  return Number.isNaN(n) ? String(s) : `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export async function renderDashboard(root) {
  document.title = "Dashboard · medledger";
  let data = null;
  let problem = null;
  let arReport = null;
  let driftReport = null;
  try {
    [data, arReport, driftReport] = await Promise.all([
      api.get("/api/v1/reports/dashboard"),
      api.get("/api/v1/reports/ar"),
      api.get("/api/v1/reports/drift"),
    ]);
  } catch (e) {
    if (e.status === 401) throw e;
    problem = e.problem || { title: "Error", detail: String(e.message) };
  }
  const arTotal = arReport && arReport.total ? arReport.total : null;
  const alerts = driftReport && Array.isArray(driftReport.alerts) ? driftReport.alerts : [];
  const buckets = ["0-30", "31-60", "61-90", "91-120", ">120"];
  const d = data || {};
  const arr = (k) => (Array.isArray(d[k]) ? d[k] : []);
  const card = (id, title, body) => h("section", { class: "card dash-card", id, "aria-labelledby": `${id}-h` }, h("h2", { id: `${id}-h` }, title), body);
  const empty = (what) => h("p", { class: "empty" }, `No ${what} yet.`);

  const clean = arr("clean_claim_rate");
  const byReason = arr("denials_by_reason");
  const byPayer = arr("denials_by_payer");
  const gold = arr("gold_card");
  const agree = arr("agreement");

  replace(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Dashboard")),
    problem
      ? h(
          "p",
          { class: "notice", role: "status", id: "dash-unavailable" },
          problem.status === 404 ? "The dashboard report is not available on this server yet." : `The dashboard report could not be loaded: ${problem.title}${problem.detail ? ` — ${problem.detail}` : ""}`,
        )
      : null,
    h(
      "div",
      { class: "dash-grid" },
      card(
        "dash-clean",
        "Clean-claim rate",
        clean.length
          ? lineChart({
              id: "chart-clean",
              title: "Clean-claim rate by month",
              points: clean.map((p) => ({ label: p.period, value: Number(p.rate) || 0, raw: p })),
              valueLabel: "Clean rate",
              extraCols: [
                { label: "Claims", get: (p) => String(p.raw.claims ?? "") },
                { label: "Clean", get: (p) => String(p.raw.clean ?? "") },
              ],
            })
          : empty("claims"),
      ),
      card(
        "dash-agree",
        "AI agreement with human coders",
        agree.length
          ? lineChart({
              id: "chart-agreement",
              title: "Share of suggestions accepted by coders, by month",
              points: agree.map((p) => ({ label: p.period, value: Number(p.rate) || 0, raw: p })),
              valueLabel: "Agreement",
              extraCols: [
                { label: "Decisions", get: (p) => String(p.raw.decisions ?? "") },
                { label: "Accepted", get: (p) => String(p.raw.accepted ?? "") },
              ],
            })
          : empty("review decisions"),
      ),
      card(
        "dash-reasons",
        "Denials by reason",
        byReason.length
          ? barChart({
              id: "chart-denial-reasons",
              title: "Denied claims by adjustment reason",
              bars: byReason.map((r) => ({ label: r.reason, value: Number(r.count) || 0, raw: r })),
              valueLabel: "Denials",
              extraCols: [{ label: "Share of denials", get: (b) => pct(b.raw.share, 1) }],
            })
          : empty("denials"),
      ),
      card(
        "dash-payers",
        "Denials by payer",
        byPayer.length
          ? barChart({
              id: "chart-denial-payers",
              title: "Denied claims by payer",
              bars: byPayer.map((r) => ({ label: r.payer, value: Number(r.count) || 0, raw: r })),
              valueLabel: "Denials",
              extraCols: [
                { label: "Share of denials", get: (b) => pct(b.raw.share, 1) },
                { label: "Denied charge", get: (b) => money(b.raw.amount) },
              ],
            })
          : empty("denials"),
      ),
      card(
        "dash-ar",
        "A/R aging",
        arTotal && arTotal.open_claims > 0
          ? h(
              "div",
              {},
              h(
                "p",
                {},
                `Total A/R ${money(arTotal.open_balance_cents / 100)} over ${arTotal.open_claims} open claim${arTotal.open_claims === 1 ? "" : "s"}; `,
                `${Number(arTotal.days_in_ar).toFixed(1)} days in A/R; net collection rate ${pct(arTotal.net_collection_rate, 1)}.`,
              ),
              barChart({
                id: "chart-ar-aging",
                title: "Open balance by age in days",
                bars: buckets.map((b, i) => ({ label: `${b} days`, value: (arTotal.aging_cents[i] || 0) / 100, raw: { claims: arTotal.aging_claims[i] || 0 } })),
                valueLabel: "Dollars",
                format: (v) => money(v),
                extraCols: [{ label: "Claims", get: (b) => String(b.raw.claims) }],
              }),
            )
          : empty("open claims"),
      ),
      card(
        "dash-drift",
        "AI drift alerts",
        alerts.length
          ? h(
              "table",
              { class: "data", id: "drift-alerts-table" },
              h("caption", { class: "visually-hidden" }, "Code families whose agreement fell significantly below their baseline"),
              h("thead", {}, h("tr", {}, ["Family", "Week", "Metric", "Now vs baseline", "p-value"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                alerts.map((a) =>
                  h(
                    "tr",
                    {},
                    h("th", { scope: "row" }, a.family),
                    h("td", {}, a.week),
                    h("td", {}, a.metric),
                    h("td", { class: "num" }, `${pct(a.test.p1, 1)} vs ${pct(a.test.p0, 1)}`),
                    h("td", { class: "num" }, Number(a.test.p_value).toExponential(2)),
                  ),
                ),
              ),
            )
          : h("p", { class: "empty" }, "No significant drop in agreement."),
      ),
      card(
        "dash-gold",
        "Gold-card status per payer",
        gold.length
          ? h(
              "table",
              { class: "data", id: "gold-card-table" },
              h("caption", { class: "visually-hidden" }, "Prior-authorisation gold-card status per payer program and provider"),
              h("thead", {}, h("tr", {}, ["Payer / program / provider", "Status", "Approval rate", "Decisions", "Projected", "What would change it"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                gold.map((g) =>
                  h(
                    "tr",
                    {},
                    h("th", { scope: "row" }, `${g.payer} / ${g.program} / ${g.provider}`),
                    h("td", {}, badge(g.status, words(g.status))),
                    h("td", { class: "num" }, g.approval_rate === null || g.approval_rate === undefined ? "—" : pct(g.approval_rate, 1)),
                    h("td", { class: "num" }, String(g.decisions ?? "—")),
                    h("td", {}, badge(g.projected_status, `${words(g.projected_status)} (${g.next_evaluation})`)),
                    h("td", {}, g.note || ""),
                  ),
                ),
              ),
            )
          : empty("prior-authorisation decisions"),
      ),
    ),
  );
  return () => {};
}
