// The note with its evidence spans: code-point offsets → highlighted DOM.

import { h } from "./dom.js";

const SENTENCE_END = new Set([".", "!", "?", "\n"]);

/** The sentence (code-point range) around [start, end) in `cps`. */
function sentenceOf(cps, start, end) {
  let s = start;
  while (s > 0 && !SENTENCE_END.has(cps[s - 1])) s -= 1;
  while (s < start && /\s/u.test(cps[s])) s += 1;
  let e = Math.max(end, start);
  while (e < cps.length && !SENTENCE_END.has(cps[e])) e += 1;
  if (e < cps.length && cps[e] !== "\n") e += 1;
  return [s, e];
}

/**
 * Renders `note` into `container`; each evidence span of each suggestion
 * becomes a `<mark class="ev" data-sids="…">` (overlaps split into
 * segments carrying every suggestion id), the rest of its sentence a
 * `<span class="sent" data-sent="…">`. Offsets are Unicode code points,
 * end exclusive (JS strings are UTF-16, hence `Array.from`).
 * Returns `labels`: suggestion id → code, for titles.
 */
export function renderNote(container, note, suggestions) {
  const cps = Array.from(note || "");
  const n = cps.length;
  const marks = []; // [start, end, sid]
  const sents = [];
  const codeOf = new Map();
  for (const s of suggestions) {
    codeOf.set(s.id, s.code);
    for (const e of s.evidence || []) {
      const a = Math.max(0, Math.min(n, Number(e.start)));
      const b = Math.max(a, Math.min(n, Number(e.end)));
      if (b <= a) continue;
      marks.push([a, b, s.id]);
      const [sa, sb] = sentenceOf(cps, a, b);
      sents.push([sa, sb, s.id]);
    }
  }
  const cuts = new Set([0, n]);
  for (const [a, b] of marks) cuts.add(a).add(b);
  for (const [a, b] of sents) cuts.add(a).add(b);
  const points = [...cuts].sort((x, y) => x - y);
  const out = [];
  for (let i = 0; i + 1 < points.length; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    if (b <= a) continue;
    const text = cps.slice(a, b).join("");
    const inMark = [...new Set(marks.filter(([x, y]) => x <= a && b <= y).map(([, , id]) => id))];
    const inSent = [...new Set(sents.filter(([x, y]) => x <= a && b <= y).map(([, , id]) => id))];
    if (inMark.length) {
      const codes = inMark.map((id) => codeOf.get(id)).join(", ");
      out.push(
        h(
          "mark",
          {
            class: "ev",
            tabindex: "0",
            role: "button",
            dataset: { sids: inMark.join(" "), sent: inSent.join(" "), suggestion: String(inMark[0]), start: String(a), end: String(b) },
            title: `Evidence for ${codes}`,
            "aria-label": `${text}: evidence for ${codes}`,
          },
          text,
        ),
      );
    } else if (inSent.length) {
      out.push(h("span", { class: "sent", dataset: { sent: inSent.join(" ") } }, text));
    } else {
      out.push(document.createTextNode(text));
    }
  }
  container.replaceChildren(...out);
}

/** Highlights the marks and sentences of suggestion `sid` (null clears). */
export function highlight(container, sid) {
  const key = sid === null || sid === undefined ? null : String(sid);
  let first = null;
  for (const el of container.querySelectorAll("mark.ev")) {
    const on = key !== null && el.dataset.sids.split(" ").includes(key);
    el.classList.toggle("active", on);
    if (on) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
    if (on && !first) first = el;
  }
  for (const el of container.querySelectorAll("[data-sent]")) {
    el.classList.toggle("sent-active", key !== null && el.dataset.sent.split(" ").includes(key));
  }
  return first;
}
