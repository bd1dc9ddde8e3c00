// Small DOM helpers (no innerHTML with data: everything goes through text nodes).

/**
 * Creates an element. `attrs`: `class`, `text`, `on<event>` (function),
 * `dataset` (object), boolean attributes (true/false), others as strings.
 */
export function h(tag, attrs = {}, ...children) {
  const svg = SVG_TAGS.has(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG_TAGS = new Set(["svg", "g", "path", "line", "rect", "circle", "text", "title", "desc", "polyline", "tspan"]);

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

export function $$(sel, root = document) {
  return Array.from(root.querySelectorAll(sel));
}

/** "0.934" → "93%". */
export function pct(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return "—";
  return `${(Number(x) * 100).toFixed(digits)}%`;
}

/** Human words for snake_case ids. */
export function words(s) {
  return String(s ?? "").replaceAll("_", " ");
}

/** A status badge. */
export function badge(status, label) {
  const s = String(status ?? "unknown");
  return h("span", { class: `badge badge-${s.replace(/[^a-z0-9_-]/gi, "")}` }, label ?? words(s));
}

let uid = 0;
/** A unique id with a prefix. */
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** True when the keyboard event comes from a text field (shortcuts must not fire). */
export function isTyping(ev) {
  const t = ev.target;
  if (!(t instanceof Element)) return false;
  if (t.isContentEditable) return true;
  const tag = t.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (t.getAttribute("type") || "text").toLowerCase();
    return !["button", "submit", "reset", "checkbox", "radio"].includes(type);
  }
  return false;
}
