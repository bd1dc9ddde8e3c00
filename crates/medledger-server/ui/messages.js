// The page's live regions: errors (assertive) and results (polite).

import { h, replace, $ } from "./dom.js";

/** Shows a problem (title + detail) in the assertive live region. */
export function showError(err) {
  const p = err && err.problem ? err.problem : { title: "Error", detail: String(err && err.message ? err.message : err) };
  const box = $("#alert");
  const items = problemItems(p.errors).map((t) => h("li", {}, t));
  replace(
    box,
    h("strong", { class: "alert-title" }, p.title || "Error"),
    p.detail ? h("span", { class: "alert-detail" }, " ", p.detail) : null,
    items.length ? h("ul", {}, items) : null,
    h("button", { type: "button", class: "btn btn-quiet alert-close", "aria-label": "Dismiss message", onclick: clearError }, "×"),
  );
  box.hidden = false;
}

export function clearError() {
  const box = $("#alert");
  box.hidden = true;
  box.replaceChildren();
}

/** Announces a short, polite message (and shows it briefly as a toast). */
export function announce(msg) {
  const s = $("#status");
  s.textContent = "";
  // A fresh text node so screen readers re-announce repeated messages.
  setTimeout(() => {
    s.textContent = msg;
  }, 20);
  let toast = $("#toast");
  if (!toast) {
    toast = h("div", { id: "toast", class: "toast", "aria-hidden": "true" });
    document.body.append(toast);
  }
  toast.textContent = msg;
  toast.classList.add("show");
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => toast.classList.remove("show"), 3000);
}


/** The `errors` member of a problem as lines of text (array or object). */
function problemItems(errors) {
  if (!errors) return [];
  const line = (e) => {
    if (typeof e === "string") return e;
    const where = e.field || e.pointer || e.path || e.name || e.location || "";
    const what = e.message || e.detail || e.title || JSON.stringify(e);
    return where ? `${where}: ${what}` : what;
  };
  if (Array.isArray(errors)) return errors.map(line);
  if (typeof errors === "object") return Object.entries(errors).map(([k, v]) => `${k}: ${typeof v === "string" ? v : Array.isArray(v) ? v.join("; ") : JSON.stringify(v)}`);
  return [String(errors)];
}
