import { h, svg, count } from "./dom.js";

/**
 * A bar chart in plain SVG: one bar per point, its value as a tooltip and in a table beside it for screen readers
 * and for reading exact numbers. `points` are `{ label, value }`.
 */
export function barChart(title, points, { valueName = "Events" } = {}) {
  const width = 720, height = 200, top = 12, bottom = 28, left = 44;
  const max = Math.max(1, ...points.map(p => p.value));
  const slot = (width - left) / Math.max(1, points.length);
  const y = value => top + (height - top - bottom) * (1 - value / max);
  const labelEvery = Math.ceil(points.length / 8);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: highest ${count(max)}`, class: "chart" },
    svg("line", { x1: left, x2: width, y1: y(0), y2: y(0), class: "axis" }),
    svg("text", { x: left - 6, y: y(max) + 4, class: "tick", "text-anchor": "end" }, count(max)),
    svg("text", { x: left - 6, y: y(0) + 4, class: "tick", "text-anchor": "end" }, "0"),
    points.map((point, index) => svg("g", {},
      svg("rect", { x: left + index * slot + slot * 0.15, width: slot * 0.7, y: y(point.value), height: y(0) - y(point.value), class: "bar" },
        svg("title", {}, `${point.label}: ${count(point.value)}`)),
      index % labelEvery === 0 ? svg("text", { x: left + index * slot + slot / 2, y: height - 8, class: "tick", "text-anchor": "middle" }, point.label) : null)));
  return h("figure", { class: "chart-figure" },
    h("figcaption", {}, title),
    chart,
    h("details", {}, h("summary", {}, "The numbers"),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, valueName))),
        h("tbody", {}, points.map(p => h("tr", {}, h("th", { scope: "row" }, p.label), h("td", {}, count(p.value))))))));
}
