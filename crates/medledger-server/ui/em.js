// The E/M tab: the leveled visit and its MDM grid (two of three elements).

import * as api from "./api.js";
import { h, replace, words } from "./dom.js";

const LEVELS = ["straightforward", "low", "moderate", "high"];

export async function renderEm(panel, id, { onEvidence } = {}) {
  replace(panel, h("h2", {}, "E/M level"), h("p", { class: "loading" }, "Leveling the visit…"));
  let r;
  try {
    r = await api.get(`/api/v1/encounters/${id}/em`);
  } catch (e) {
    if (e.status === 401) throw e;
    const p = e.problem || {};
    replace(panel, h("h2", {}, "E/M level"), h("p", { class: "empty", role: "status" }, `No E/M result: ${p.title || "error"}${p.detail ? ` — ${p.detail}` : ""}`));
    return;
  }
  // Accept either the EmResult itself or a wrapper {em: EmResult} / {result: …}.
  const em = r && r.mdm ? r : r?.em || r?.result || r;
  const mdm = em?.mdm;
  const ev = (list) =>
    (list || []).map((e) =>
      h(
        "button",
        {
          type: "button",
          class: "link-btn ev-link",
          title: `Show characters ${e.start}–${e.end} in the note`,
          onclick: () => onEvidence && onEvidence(e.start, e.end),
        },
        `“${e.text}”`,
      ),
    );
  const elementRow = (name, key) => {
    const el = mdm?.[key];
    if (!el) return h("tr", {}, h("th", { scope: "row" }, name), h("td", { colspan: "4" }, "—"));
    const decided = (mdm.decided_by || []).includes(key);
    return h(
      "tr",
      { class: decided ? "decides" : null },
      h("th", { scope: "row" }, name, decided ? h("span", { class: "badge badge-decides" }, "decides") : null),
      h("td", {}, h("span", { class: `level level-${el.level}` }, el.label || words(el.level)), h("span", { class: "hint" }, ` (${words(el.level)})`)),
      h("td", {}, el.reason || "—", el.rule ? h("div", { class: "hint" }, h("code", {}, el.rule)) : null),
      h(
        "td",
        {},
        (el.items || []).length
          ? h("ul", { class: "plain items" }, el.items.map((it) => h("li", {}, h("span", {}, it.label || words(it.kind)), " ", ev(it.evidence))))
          : h("span", { class: "hint" }, "none found"),
      ),
      h("td", { class: "scale" }, levelScale(el.level)),
    );
  };
  replace(
    panel,
    h("h2", {}, "E/M level"),
    h(
      "div",
      { class: "em-summary", role: "status" },
      h("p", { class: "em-code" }, h("strong", {}, em.code || "—"), em.label ? ` ${em.label}` : ""),
      h("p", {}, `Basis: ${words(em.basis || "—")}`, em.reason ? ` — ${em.reason}` : ""),
    ),
    mdm
      ? h(
          "table",
          { class: "data mdm-grid", id: "mdm-grid" },
          h("caption", {}, `Medical decision making: ${mdm.label || words(mdm.level)} (two of three elements)`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Element"), h("th", { scope: "col" }, "Level"), h("th", { scope: "col" }, "Why"), h("th", { scope: "col" }, "Findings (evidence)"), h("th", { scope: "col" }, "Scale"))),
          h("tbody", {}, elementRow("Problems", "problems"), elementRow("Data", "data"), elementRow("Risk", "risk")),
          h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "MDM"), h("td", {}, mdm.label || words(mdm.level)), h("td", { colspan: "3" }, `Decided by ${(mdm.decided_by || []).map(words).join(" and ") || "—"}`, mdm.rule ? h("span", { class: "hint" }, " · ", h("code", {}, mdm.rule)) : null))),
        )
      : h("p", { class: "empty" }, "No MDM grid in the result."),
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "Time"),
      h("dd", {}, em.time ? [`${em.time.minutes} minutes (from the ${em.time.source})`, em.time.supports ? `; time alone supports ${em.time.supports}` : "", " ", ev(em.time.evidence ? [em.time.evidence] : [])] : "No time statement"),
      em.age ? [h("dt", {}, "Age"), h("dd", {}, `${em.age.years} years (from the ${em.age.source})`)] : null,
      h("dt", {}, "Modifiers"),
      h("dd", {}, (em.modifiers || []).length ? em.modifiers.join(", ") : "none"),
      h("dt", {}, "Additional lines"),
      h("dd", {}, (em.additional || []).length ? h("ul", { class: "plain" }, em.additional.map((l) => h("li", {}, h("code", {}, l.code), ` × ${l.units}${(l.modifiers || []).length ? ` -${l.modifiers.join(" -")}` : ""} ${l.label || ""} — ${l.reason || ""}`))) : "none"),
    ),
    em.next_level
      ? h(
          "section",
          { class: "next-level", "aria-labelledby": "next-level-title" },
          h("h3", { id: "next-level-title" }, `Next level: ${em.next_level.code} ${em.next_level.label || ""}`),
          h("p", {}, em.next_level.needs),
          (em.next_level.queries || []).length ? h("ul", {}, em.next_level.queries.map((q) => h("li", {}, q))) : null,
        )
      : null,
    (em.warnings || []).length ? h("section", { "aria-label": "E/M warnings" }, h("h3", {}, "Warnings"), h("ul", {}, em.warnings.map((w) => h("li", {}, w)))) : null,
    (em.rules || []).length ? h("details", {}, h("summary", {}, `Rules applied (${em.rules.length})`), h("ul", { class: "plain" }, em.rules.map((x) => h("li", {}, h("code", {}, x))))) : null,
  );
}

function levelScale(level) {
  const i = LEVELS.indexOf(level);
  return h(
    "span",
    { class: "scale-bar", role: "img", "aria-label": `${i + 1} of 4` },
    LEVELS.map((_, k) => h("span", { class: `scale-step${k <= i ? " on" : ""}` })),
  );
}
