// The dashboard: clean-claim rate, denials by reason and payer, gold-card
// status per payer, AI agreement with human coders.

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
  try {
    data = await api.get("/api/v1/reports/dashboard");
  } catch (e) {
    if (e.status === 401) throw e;
    problem = e.problem || { title: "Error", detail: String(e.message) };
  }
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
              extraCols: [{ label: "Amount", get: (b) => money(b.raw.amount) }],
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
              extraCols: [{ label: "Amount", get: (b) => money(b.raw.amount) }],
            })
          : empty("denials"),
      ),
      card(
        "dash-gold",
        "Gold-card status per payer",
        gold.length
          ? h(
              "table",
              { class: "data", id: "gold-card-table" },
              h("caption", { class: "visually-hidden" }, "Prior-authorisation gold-card status per payer"),
              h("thead", {}, h("tr", {}, ["Payer", "Status", "Approval rate", "Decisions"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                gold.map((g) => h("tr", {}, h("th", { scope: "row" }, g.payer), h("td", {}, badge(g.status, words(g.status))), h("td", { class: "num" }, pct(g.approval_rate, 1)), h("td", { class: "num" }, String(g.decisions ?? "—")))),
              ),
            )
          : empty("prior-authorisation decisions"),
      ),
    ),
  );
  return () => {};
}
