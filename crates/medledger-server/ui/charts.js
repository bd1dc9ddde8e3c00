// Small accessible SVG charts: a line chart and a horizontal bar chart, each
// with <title>/<desc>, role="img", aria-label and a data-table alternative.

import { h } from "./dom.js";

const W = 560;

function fmtPct(v) {
  return `${Math.round(v * 1000) / 10}%`;
}

/**
 * A line chart of `points` [{label, value}] with values in 0..1 (rates).
 * Returns a <figure> holding the SVG and a table alternative.
 */
export function lineChart({ id, title, points, valueLabel = "Rate", format = fmtPct, extraCols = [] }) {
  const H = 220;
  const m = { l: 48, r: 16, t: 16, b: 40 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const n = points.length;
  const x = (i) => m.l + (n <= 1 ? iw / 2 : (i * iw) / (n - 1));
  const y = (v) => m.t + ih - Math.max(0, Math.min(1, v)) * ih;
  const desc = points.map((p) => `${p.label}: ${format(p.value)}`).join("; ");
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((t) =>
    h("g", { class: "tick" }, h("line", { x1: m.l, x2: W - m.r, y1: y(t), y2: y(t), class: "grid" }), h("text", { x: m.l - 6, y: y(t) + 4, "text-anchor": "end", class: "axis-label" }, `${t * 100}%`)),
  );
  const every = Math.max(1, Math.ceil(n / 8));
  const xlabels = points.map((p, i) => (i % every === 0 || i === n - 1 ? h("text", { x: x(i), y: H - m.b + 18, "text-anchor": n > 1 && i === 0 ? "start" : n > 1 && i === n - 1 ? "end" : "middle", class: "axis-label" }, p.label) : null));
  const d = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const svg = h(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart line-chart", role: "img", "aria-label": title, "aria-describedby": descId, id },
    h("title", { id: titleId }, title),
    h("desc", { id: descId }, desc),
    h("g", { "aria-hidden": "true" }, grid, h("line", { x1: m.l, x2: W - m.r, y1: y(0), y2: y(0), class: "axis" }), xlabels, n > 1 ? h("path", { d, class: "series" }) : null, points.map((p, i) => h("circle", { cx: x(i), cy: y(p.value), r: 4, class: "point" }, h("title", {}, `${p.label}: ${format(p.value)}`)))),
  );
  return figure(id, title, svg, ["Period", valueLabel, ...extraCols.map((c) => c.label)], points.map((p) => [p.label, format(p.value), ...extraCols.map((c) => c.get(p))]));
}

/** A horizontal bar chart of `bars` [{label, value, note}]. */
export function barChart({ id, title, bars, valueLabel = "Count", format = String, extraCols = [] }) {
  const rowH = 28;
  const m = { l: 150, r: 70, t: 8, b: 8 };
  const H = m.t + m.b + Math.max(1, bars.length) * rowH;
  const iw = W - m.l - m.r;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const desc = bars.map((b) => `${b.label}: ${format(b.value)}`).join("; ");
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const svg = h(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart bar-chart", role: "img", "aria-label": title, "aria-describedby": descId, id },
    h("title", { id: titleId }, title),
    h("desc", { id: descId }, desc),
    h(
      "g",
      { "aria-hidden": "true" },
      bars.map((b, i) => {
        const yy = m.t + i * rowH;
        const w = Math.max(2, (b.value / max) * iw);
        const label = b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label;
        return h(
          "g",
          { class: "bar-row" },
          h("text", { x: m.l - 8, y: yy + rowH / 2 + 4, "text-anchor": "end", class: "axis-label" }, label),
          h("rect", { x: m.l, y: yy + 4, width: w.toFixed(1), height: rowH - 8, class: "bar", rx: 2 }, h("title", {}, `${b.label}: ${format(b.value)}`)),
          h("text", { x: m.l + w + 6, y: yy + rowH / 2 + 4, class: "value-label" }, format(b.value)),
        );
      }),
    ),
  );
  return figure(id, title, svg, ["Label", valueLabel, ...extraCols.map((c) => c.label)], bars.map((b) => [b.label, format(b.value), ...extraCols.map((c) => c.get(b))]));
}

function figure(id, title, svg, head, rows) {
  return h(
    "figure",
    { class: "chart-figure", id: `${id}-figure` },
    h("figcaption", {}, title),
    svg,
    h(
      "details",
      { class: "chart-data" },
      h("summary", {}, `Data table: ${title}`),
      h(
        "table",
        { class: "data", id: `${id}-table` },
        h("caption", { class: "visually-hidden" }, title),
        h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c)))))),
      ),
    ),
  );
}
