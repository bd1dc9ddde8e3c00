// The work queue: filters, a sortable table, Enter/click opens an encounter.

import * as api from "./api.js";
import { h, replace, pct, words, badge } from "./dom.js";
import { showError, announce } from "./messages.js";

const FILTER_KEY = "medledger.queue.filters";
const STATUSES = [
  ["open", "Open (needs or in review)"],
  ["needs_review", "Needs review"],
  ["in_review", "In review"],
  ["finalised", "Finalised"],
  ["all", "All"],
];

const COLUMNS = [
  { key: "encounter", label: "Encounter", num: true },
  { key: "dos", label: "Date of service" },
  { key: "setting", label: "Setting" },
  { key: "payer", label: "Payer" },
  { key: "status", label: "Status" },
  { key: "suggestions", label: "Codes", num: true },
  { key: "pending_required", label: "Pending reviews", num: true },
  { key: "min_confidence", label: "Lowest confidence", num: true },
  { key: "review_reasons", label: "Why in queue", sortable: false },
  { key: "created_at", label: "Stored" },
];

function loadFilters() {
  try {
    return { status: "open", payer: "", max_confidence: "", reviewer: "", limit: "100", ...JSON.parse(sessionStorage.getItem(FILTER_KEY) || "{}") };
  } catch {
    return { status: "open", payer: "", max_confidence: "", reviewer: "", limit: "100" };
  }
}

export async function renderQueue(root) {
  document.title = "Work queue · medledger";
  const filters = loadFilters();
  const sort = { key: "encounter", dir: "ascending" };
  let items = [];

  const field = (id, label, control, hint) =>
    h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null);

  const statusSel = h(
    "select",
    { id: "f-status", name: "status" },
    STATUSES.map(([v, l]) => h("option", { value: v, selected: v === filters.status }, l)),
  );
  const payerIn = h("input", { id: "f-payer", name: "payer", value: filters.payer, autocomplete: "off" });
  const confIn = h("input", {
    id: "f-maxconf",
    name: "max_confidence",
    type: "number",
    min: "0",
    max: "1",
    step: "0.01",
    value: filters.max_confidence,
    "aria-describedby": "f-maxconf-hint",
  });
  const reviewerIn = h("input", { id: "f-reviewer", name: "reviewer", value: filters.reviewer, autocomplete: "off", "aria-describedby": "f-reviewer-hint" });
  const limitIn = h("input", { id: "f-limit", name: "limit", type: "number", min: "1", max: "1000", step: "1", value: filters.limit });

  const form = h(
    "form",
    { class: "filters", id: "queue-filters", "aria-label": "Queue filters" },
    field("f-status", "Status", statusSel),
    field("f-payer", "Payer", payerIn),
    field("f-maxconf", "Max confidence", confIn, "0–1, e.g. 0.9"),
    field("f-reviewer", "Reviewer", reviewerIn, "login name"),
    field("f-limit", "Limit", limitIn),
    h("div", { class: "field field-actions" }, h("button", { type: "submit", class: "btn btn-primary", id: "queue-apply" }, "Apply filters"), h("button", { type: "reset", class: "btn", id: "queue-reset" }, "Reset")),
  );

  const summary = h("p", { class: "queue-summary", id: "queue-summary", "aria-live": "polite" });
  const thead = h("thead");
  const tbody = h("tbody");
  const table = h("table", { class: "data queue-table", id: "queue-table", "aria-describedby": "queue-summary" }, h("caption", { class: "visually-hidden" }, "Encounters in the work queue; column headers sort"), thead, tbody);

  function drawHead() {
    replace(
      thead,
      h(
        "tr",
        {},
        COLUMNS.map((c) => {
          if (c.sortable === false) return h("th", { scope: "col" }, c.label);
          const active = sort.key === c.key;
          return h(
            "th",
            { scope: "col", "aria-sort": active ? sort.dir : "none", class: c.num ? "num" : null },
            h(
              "button",
              {
                type: "button",
                class: "sort",
                dataset: { key: c.key },
                onclick: () => {
                  if (sort.key === c.key) sort.dir = sort.dir === "ascending" ? "descending" : "ascending";
                  else Object.assign(sort, { key: c.key, dir: "ascending" });
                  drawHead();
                  drawBody();
                  thead.querySelector(`button[data-key="${c.key}"]`).focus();
                  announce(`Sorted by ${c.label}, ${sort.dir}`);
                },
              },
              c.label,
              h("span", { class: "sort-icon", "aria-hidden": "true" }, active ? (sort.dir === "ascending" ? " ▲" : " ▼") : " ↕"),
            ),
          );
        }),
      ),
    );
  }

  function cmp(a, b) {
    const k = sort.key;
    let x = a[k];
    let y = b[k];
    if (Array.isArray(x)) x = x.length;
    if (Array.isArray(y)) y = y.length;
    const nx = x === null || x === undefined;
    const ny = y === null || y === undefined;
    let r;
    if (nx || ny) r = nx && ny ? 0 : nx ? 1 : -1;
    else if (typeof x === "number" && typeof y === "number") r = x - y;
    else r = String(x).localeCompare(String(y));
    return sort.dir === "ascending" ? r : -r;
  }

  function drawBody() {
    const rows = [...items].sort(cmp);
    if (!rows.length) {
      replace(tbody, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "empty" }, "No encounters match these filters.")));
      return;
    }
    replace(
      tbody,
      rows.map((it) => {
        const href = `#/encounter/${it.encounter}`;
        const reasons = it.review_reasons || [];
        const tr = h(
          "tr",
          { class: "clickable", dataset: { encounter: it.encounter } },
          h("td", { class: "num" }, h("a", { href, class: "row-link", "aria-label": `Open encounter ${it.encounter}` }, `#${it.encounter}`)),
          h("td", {}, it.dos),
          h("td", {}, words(it.setting)),
          h("td", {}, it.payer || "—"),
          h("td", {}, badge(it.status)),
          h("td", { class: "num" }, it.suggestions),
          h("td", { class: "num" }, it.pending_required),
          h("td", { class: "num" }, pct(it.min_confidence)),
          h("td", { class: "reasons" }, reasons.length ? h("ul", { class: "plain" }, reasons.slice(0, 3).map((r) => h("li", { title: r.message }, words(r.rule))), reasons.length > 3 ? h("li", {}, `+${reasons.length - 3} more`) : null) : "—"),
          h("td", {}, (it.created_at || "").replace("T", " ").replace(/\.\d+/, "").replace(/Z$/, " UTC")),
        );
        tr.addEventListener("click", (ev) => {
          if (ev.target.closest("a")) return;
          location.hash = href;
        });
        return tr;
      }),
    );
  }

  async function load() {
    const f = Object.fromEntries(new FormData(form).entries());
    sessionStorage.setItem(FILTER_KEY, JSON.stringify(f));
    const conf = f.max_confidence;
    if (conf !== "" && (Number.isNaN(Number(conf)) || Number(conf) < 0 || Number(conf) > 1)) {
      showError({ problem: { title: "Invalid filter", detail: "Max confidence must be a number between 0 and 1." } });
      confIn.focus();
      return;
    }
    table.setAttribute("aria-busy", "true");
    try {
      items = (await api.get(`/api/v1/queue${api.query(f)}`)) || [];
      summary.textContent = `${items.length} encounter${items.length === 1 ? "" : "s"} (${STATUSES.find(([v]) => v === f.status)?.[1] || f.status})`;
      drawBody();
    } catch (e) {
      if (e.status !== 401) showError(e);
    } finally {
      table.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load();
  });
  form.addEventListener("reset", () => {
    setTimeout(() => {
      statusSel.value = "open";
      payerIn.value = "";
      confIn.value = "";
      reviewerIn.value = "";
      limitIn.value = "100";
      load();
    });
  });
  statusSel.addEventListener("change", () => load());

  drawHead();
  replace(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Work queue"), h("button", { type: "button", class: "btn", id: "queue-refresh", onclick: () => load() }, "Refresh")),
    form,
    summary,
    h("div", { class: "table-wrap" }, table),
  );
  await load();
  return () => {};
}
