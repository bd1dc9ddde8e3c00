// ICD-11 companion codes from each suggestion's logic (`logic.icd11`:
// {primary: {code, title}, choices: [{code, title}], via, note}).

import { h, replace } from "./dom.js";

/** The ICD-11 companion of a suggestion, wherever the server put it. */
export function icd11Of(s) {
  const L = s && s.logic && typeof s.logic === "object" ? s.logic : {};
  const v = L.icd11 ?? L.icd_11 ?? s.icd11 ?? null;
  return v && typeof v === "object" ? v : null;
}

function isIcd10cm(s) {
  return String(s.system || "").toLowerCase().replace(/[^a-z0-9]/g, "") === "icd10cm";
}

function choice(c) {
  if (!c) return "—";
  return [c.code ? h("code", { class: "icd11-code" }, c.code) : h("span", { class: "hint" }, "(no code)"), c.title ? ` ${c.title}` : ""];
}

/** A one-line companion next to an ICD-10-CM code in the codes list. */
export function renderIcd11Inline(s) {
  if (!isIcd10cm(s)) return null;
  const v = icd11Of(s);
  if (!v) return null;
  if (v.primary) return h("div", { class: "icd11-inline" }, h("span", { class: "label" }, "ICD-11: "), choice(v.primary));
  if ((v.choices || []).length) return h("div", { class: "icd11-inline" }, h("span", { class: "label" }, "ICD-11: "), `${v.choices.length} choices — `, choice(v.choices[0]), v.choices.length > 1 ? " …" : "");
  return h("div", { class: "icd11-inline hint" }, "ICD-11: ", v.note || "no mapping");
}

export function renderIcd11Tab(panel, enc) {
  const rows = enc.suggestions.filter(isIcd10cm);
  const withAny = rows.filter((s) => icd11Of(s));
  replace(
    panel,
    h("h2", {}, "ICD-11 companion codes"),
    h("p", { class: "hint" }, "WHO ICD-10 → ICD-11 mapping of each ICD-10-CM code. One-to-many maps list every choice; none is picked silently."),
    !rows.length
      ? h("p", { class: "empty" }, "No ICD-10-CM codes on this encounter.")
      : h(
          "table",
          { class: "data icd11-table", id: "icd11-table" },
          h("caption", { class: "visually-hidden" }, "ICD-10-CM codes with their ICD-11 companions"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "ICD-10-CM"), h("th", { scope: "col" }, "ICD-11"), h("th", { scope: "col" }, "Other choices"), h("th", { scope: "col" }, "Via"), h("th", { scope: "col" }, "Note"))),
          h(
            "tbody",
            {},
            rows.map((s) => {
              const v = icd11Of(s);
              return h(
                "tr",
                {},
                h("th", { scope: "row" }, h("code", {}, s.code), h("div", { class: "hint" }, s.descriptor)),
                h("td", {}, v ? choice(v.primary) : h("span", { class: "hint" }, "not in this run's logic")),
                h("td", {}, v && (v.choices || []).length ? h("ul", { class: "plain" }, v.choices.map((c) => h("li", {}, choice(c)))) : "—"),
                h("td", {}, v?.via || "—"),
                h("td", {}, v?.note || "—"),
              );
            }),
          ),
        ),
    rows.length && !withAny.length ? h("p", { class: "empty", role: "status" }, "This coding run stored no ICD-11 companions in its suggestions' logic.") : null,
  );
}
