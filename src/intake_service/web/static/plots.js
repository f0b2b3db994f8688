// Plots drawn as inline SVG: a scatter with its pareto frontier, lines over time, and histograms.
import { fmt } from "./app.js";

const NS = "http://www.w3.org/2000/svg";
const W = 560;
const H = 340;
const PAD = { left: 64, right: 28, top: 16, bottom: 44 };
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function extent(values) {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    const room = Math.abs(low) * 0.1 || 1;
    low -= room;
    high += room;
  }
  const margin = (high - low) * 0.05;
  return [low - margin, high + margin];
}

function scale([low, high], [from, to]) {
  return (value) => from + ((value - low) / (high - low)) * (to - from);
}

// Month-day and minutes over a long range; the time of day to the second over less than a day.
function timeTick(value, [low, high]) {
  const text = new Date(value).toISOString();
  return high - low < 86_400_000 ? text.slice(11, 19) : text.slice(5, 16).replace("T", " ");
}

// A frame with axes, ticks and labels; returns the SVG and the two scales.
function frame(xs, ys, xLabel, yLabel, { xTime = false } = {}) {
  const xDomain = extent(xs);
  const yDomain = extent(ys);
  const x = scale(xDomain, [PAD.left, W - PAD.right]);
  const y = scale(yDomain, [H - PAD.bottom, PAD.top]);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", class: "plot" });
  root.append(svg("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }));
  root.append(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }));
  for (let i = 0; i <= 4; i += 1) {
    const xv = xDomain[0] + ((xDomain[1] - xDomain[0]) * i) / 4;
    const yv = yDomain[0] + ((yDomain[1] - yDomain[0]) * i) / 4;
    const xText = xTime ? timeTick(xv, xDomain) : fmt(xv, 3);
    root.append(svg("text", { x: x(xv), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, xText));
    root.append(svg("text", { x: PAD.left - 6, y: y(yv) + 4, class: "tick", "text-anchor": "end" }, fmt(yv, 3)));
  }
  root.append(svg("text", { x: (PAD.left + W - PAD.right) / 2, y: H - 6, class: "label", "text-anchor": "middle" }, xLabel));
  root.append(
    svg("text", { x: 14, y: (PAD.top + H - PAD.bottom) / 2, class: "label", "text-anchor": "middle",
      transform: `rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})` }, yLabel),
  );
  return { root, x, y };
}

// The points no other point beats on both axes (ties on both count as not beaten).
export function frontier(points, xHigherIsBetter, yHigherIsBetter) {
  const better = (a, b, high) => (high ? a >= b : a <= b);
  const strictly = (a, b, high) => (high ? a > b : a < b);
  return points.filter(
    (p) =>
      !points.some(
        (q) =>
          q !== p &&
          better(q.x, p.x, xHigherIsBetter) &&
          better(q.y, p.y, yHigherIsBetter) &&
          (strictly(q.x, p.x, xHigherIsBetter) || strictly(q.y, p.y, yHigherIsBetter)),
      ),
  );
}

// points: [{x, y, label, href}]; one circle each, the frontier's in their own class and joined.
export function scatter(points, { xLabel, yLabel, xHigher, yHigher }) {
  if (!points.length) return svg("svg", { width: W, height: 40 }, svg("text", { x: 8, y: 24 }, "No run has both values."));
  const { root, x, y } = frame(points.map((p) => p.x), points.map((p) => p.y), xLabel, yLabel);
  const best = new Set(frontier(points, xHigher, yHigher));
  const line = [...best].sort((a, b) => a.x - b.x).map((p) => `${x(p.x)},${y(p.y)}`).join(" ");
  root.append(svg("polyline", { points: line, class: "frontier-line" }));
  for (const p of points) {
    const dot = svg("circle", { cx: x(p.x), cy: y(p.y), r: 5, class: best.has(p) ? "point frontier" : "point",
      "data-run": p.label }, svg("title", {}, `${p.label}\n${xLabel}: ${fmt(p.x)}\n${yLabel}: ${fmt(p.y)}`));
    root.append(p.href ? wrapLink(dot, p.href) : dot);
  }
  return root;
}

function wrapLink(node, href) {
  const link = svg("a", { href });
  link.append(node);
  return link;
}

// series: [{name, points: [{t (ms), y, label}]}]
export function overTime(series, yLabel) {
  const all = series.flatMap((s) => s.points);
  if (!all.length) return svg("svg", { width: W, height: 40 }, svg("text", { x: 8, y: 24 }, "No scores yet."));
  const { root, x, y } = frame(all.map((p) => p.t), all.map((p) => p.y), "created", yLabel, { xTime: true });
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const sorted = [...s.points].sort((a, b) => a.t - b.t);
    root.append(svg("polyline", { points: sorted.map((p) => `${x(p.t)},${y(p.y)}`).join(" "), class: "series",
      stroke: colour }));
    for (const p of sorted) {
      root.append(svg("circle", { cx: x(p.t), cy: y(p.y), r: 3.5, fill: colour, class: "time-point" },
        svg("title", {}, `${p.label}: ${s.name} ${fmt(p.y)}`)));
    }
    root.append(svg("text", { x: W - PAD.right - 4, y: PAD.top + 14 * (i + 1), "text-anchor": "end", fill: colour,
      class: "legend" }, s.name));
  });
  return root;
}

// values: numbers; a histogram of up to 10 bins, each bar titled with its range and count.
export function histogram(values, label) {
  const width = 360;
  const height = 200;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "plot histogram" });
  const low = Math.min(...values);
  const high = Math.max(...values);
  const bins = low === high ? 1 : Math.min(10, Math.max(1, new Set(values).size));
  const step = (high - low) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - low) / step))] += 1;
  const most = Math.max(...counts);
  const left = 36;
  const bottom = height - 36;
  const barWidth = (width - left - 8) / bins;
  counts.forEach((count, i) => {
    const barHeight = ((bottom - 12) * count) / most;
    const from = low + i * step;
    root.append(svg("rect", { x: left + i * barWidth + 1, y: bottom - barHeight, width: barWidth - 2, height: barHeight,
      class: "bar" }, svg("title", {}, `${fmt(from, 3)} – ${fmt(from + step, 3)}: ${count}`)));
  });
  root.append(svg("line", { x1: left, y1: bottom, x2: width - 8, y2: bottom, class: "axis" }));
  root.append(svg("text", { x: left, y: bottom + 14, class: "tick" }, fmt(low, 3)));
  root.append(svg("text", { x: width - 8, y: bottom + 14, class: "tick", "text-anchor": "end" }, fmt(high, 3)));
  root.append(svg("text", { x: left - 4, y: 16, class: "tick", "text-anchor": "end" }, most));
  root.append(svg("text", { x: width / 2, y: height - 6, class: "label", "text-anchor": "middle" },
    `${label} (${values.length} test cases)`));
  return root;
}

// An interval [low, high] around a point estimate, on an axis through zero.
export function interval(estimate, low, high, span) {
  const width = 180;
  const height = 22;
  const reach = Math.max(span, Math.abs(low ?? 0), Math.abs(high ?? 0), 1e-12);
  const x = scale([-reach, reach], [8, width - 8]);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "interval" });
  root.append(svg("line", { x1: x(0), y1: 2, x2: x(0), y2: height - 2, class: "zero" }));
  if (low !== null && high !== null) {
    root.append(svg("line", { x1: x(low), y1: height / 2, x2: x(high), y2: height / 2, class: "ci" }));
  }
  if (estimate !== null) root.append(svg("circle", { cx: x(estimate), cy: height / 2, r: 4, class: "estimate" }));
  return root;
}
