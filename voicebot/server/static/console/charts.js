// Charts as inline SVG, drawn here (no chart library, no internet): stacked columns, horizontal bars and a
// histogram. Each chart is a <figure> with a caption, a text summary for screen readers, a legend in words
// and the same numbers as a table under "표로 보기".
import { h } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
let chartSeq = 0;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A round number at or above `value`: 1, 2, 5, 10, 20, 50, ... */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * power + 1e-9) return step * power;
  }
  return 10 * power;
}

/** An axis for counts: whole-number steps, about `ticks` of them, the top a multiple of the step. */
export function countAxis(value, ticks = 4) {
  const step = Math.max(1, niceMax(value / ticks));
  const top = Math.max(step, Math.ceil(value / step) * step);
  return { top, step, ticks: Math.round(top / step) };
}

function shorten(text, max) {
  const chars = Array.from(String(text));
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : String(text);
}

function frame(title, summary, svg, legend, tableHead, tableRows) {
  const id = `chart-${++chartSeq}`;
  // drawn 1:1 in CSS pixels up to its own width, smaller on narrow screens: text keeps its size
  svg.style.maxWidth = `${svg.viewBox.baseVal.width}px`;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", `${id}-title ${id}-desc`);
  svg.prepend(s("title", { id: `${id}-title` }, title), s("desc", { id: `${id}-desc` }, summary));
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", {}, title),
    h("p", { class: "chart-summary" }, summary),
    svg,
    legend,
    h(
      "details",
      { class: "chart-table" },
      h("summary", {}, "표로 보기"),
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, tableHead.map((head) => h("th", { scope: "col" }, head)))),
        h("tbody", {}, tableRows.map((row) => h("tr", {}, row.map((c) => h("td", {}, c))))),
      ),
    ),
  );
}

function emptyChart(title, text = "아직 표시할 자료가 없습니다.") {
  return h("figure", { class: "chart" }, h("figcaption", {}, title), h("p", { class: "empty" }, text));
}

function legendList(series) {
  return h(
    "ul",
    { class: "legend" },
    series.map((item) => {
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = item.color; // the CSSOM, not a style attribute (the CSP refuses those)
      return h("li", {}, swatch, item.label);
    }),
  );
}

function yAxis(parent, { left, top, width, height, max, ticks, unit = "" }) {
  for (let i = 0; i <= ticks; i++) {
    const value = (max * i) / ticks;
    const y = top + height - (height * i) / ticks;
    parent.append(
      s("line", { x1: left, x2: left + width, y1: y, y2: y, class: i ? "grid" : "axis" }),
      s("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, `${Math.round(value)}${unit}`),
    );
  }
}

/**
 * Stacked columns, one per row of `rows`; `series` = [{key, label, color}], `xLabel(row)` the column label.
 */
export function stackedColumns({ title, rows, series, xLabel, unit = "건", summary }) {
  const totals = rows.map((row) => series.reduce((sum, item) => sum + (Number(row[item.key]) || 0), 0));
  if (!rows.length || totals.every((t) => t === 0)) return emptyChart(title);
  const W = 640;
  const H = 260;
  const pad = { left: 44, right: 10, top: 12, bottom: 38 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const axis = countAxis(Math.max(...totals));
  const max = axis.top;
  const slot = plotW / rows.length;
  const barW = Math.max(4, Math.min(40, slot * 0.7));
  const every = Math.ceil(rows.length / 12);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg stacked" });
  yAxis(svg, { left: pad.left, top: pad.top, width: plotW, height: plotH, max, ticks: axis.ticks });
  rows.forEach((row, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    let y = pad.top + plotH;
    const group = s("g", { class: "column" });
    for (const item of series) {
      const value = Number(row[item.key]) || 0;
      if (!value) continue;
      const height = (plotH * value) / max;
      y -= height;
      group.append(
        s(
          "rect",
          { x, y, width: barW, height, fill: item.color, "data-series": item.key },
          s("title", {}, `${xLabel(row)} ${item.label} ${value}${unit}`),
        ),
      );
    }
    svg.append(group);
    if (i % every === 0) {
      svg.append(
        s("text", { x: x + barW / 2, y: H - pad.bottom + 16, "text-anchor": "middle", class: "tick" }, xLabel(row)),
      );
    }
  });
  const total = totals.reduce((a, b) => a + b, 0);
  const text = summary || `모두 ${total}${unit}`;
  return frame(
    title,
    text,
    svg,
    legendList(series),
    ["구분", ...series.map((item) => item.label), "합계"],
    rows.map((row, i) => [xLabel(row), ...series.map((item) => Number(row[item.key]) || 0), totals[i]]),
  );
}

/**
 * Horizontal bars: items = [{label, value, text?}]; `max` fixes the scale (1 for rates).
 */
export function horizontalBars({ title, items, max, color = "#1d4ed8", valueText, summary, valueHead = "값" }) {
  if (!items.length) return emptyChart(title);
  const W = 640;
  const row = 30;
  const labelW = 190;
  const valueW = 90;
  const H = items.length * row + 8;
  const top = niceMax(max ?? Math.max(...items.map((i) => i.value)));
  const barArea = W - labelW - valueW;
  const show = valueText || ((value) => String(value));
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg bars" });
  items.forEach((item, i) => {
    const y = 4 + i * row;
    const width = Math.max(item.value > 0 ? 2 : 0, (barArea * item.value) / top);
    svg.append(
      s(
        "g",
        { class: "bar" },
        s("title", {}, `${item.label}: ${show(item.value)}`),
        s("text", { x: labelW - 8, y: y + row / 2 + 5, "text-anchor": "end", class: "label" }, shorten(item.label, 14)),
        s("rect", { x: labelW, y: y + 4, width: barArea, height: row - 8, class: "track" }),
        s("rect", { x: labelW, y: y + 4, width, height: row - 8, fill: color }),
        s("text", { x: labelW + width + 6, y: y + row / 2 + 5, class: "value" }, show(item.value)),
      ),
    );
  });
  return frame(
    title,
    summary || items.map((item) => `${item.label} ${show(item.value)}`).join(", "),
    svg,
    null,
    ["항목", valueHead],
    items.map((item) => [item.label, item.text || show(item.value)]),
  );
}

/**
 * Histogram of buckets [{le, count}] (le: upper bound in ms; null or Infinity for the last), with the
 * p50 and p95 marked.
 */
export function histogram({ title, buckets, p50, p95, count, unit = "ms" }) {
  if (!buckets.length || buckets.every((b) => !b.count)) return emptyChart(title);
  const W = 960;
  const H = 280;
  const pad = { left: 44, right: 16, top: 44, bottom: 44 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const axis = countAxis(Math.max(...buckets.map((b) => b.count)));
  const max = axis.top;
  const slot = plotW / buckets.length;
  const bound = (b) => (b.le === null || b.le === undefined || !Number.isFinite(Number(b.le)) ? Infinity : Number(b.le));
  const bucketLabel = (b, i) => {
    const hi = bound(b);
    const lo = i ? bound(buckets[i - 1]) : 0;
    return hi === Infinity ? `${lo}${unit} 초과` : `${hi}${unit} 이하`;
  };
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg histogram" });
  yAxis(svg, { left: pad.left, top: pad.top, width: plotW, height: plotH, max, ticks: axis.ticks });
  const every = Math.ceil(buckets.length / 10);
  buckets.forEach((b, i) => {
    const height = (plotH * b.count) / max;
    const x = pad.left + slot * i + 1;
    svg.append(
      s(
        "rect",
        { x, y: pad.top + plotH - height, width: Math.max(1, slot - 2), height, fill: "#0f766e" },
        s("title", {}, `${bucketLabel(b, i)}: ${b.count}건`),
      ),
    );
    // bucket bounds are upper limits: each label sits on the right edge of its bucket
    const hi = bound(b);
    if (hi !== Infinity && (i % every === 0 || i === buckets.length - 2)) {
      svg.append(s("text", { x: pad.left + slot * (i + 1), y: H - pad.bottom + 16, "text-anchor": "middle", class: "tick" }, String(hi)));
    }
  });
  svg.append(
    s("text", { x: pad.left, y: H - pad.bottom + 16, "text-anchor": "middle", class: "tick" }, "0"),
    s("text", { x: W - pad.right, y: H - 6, "text-anchor": "end", class: "tick" }, `응답 시간 (${unit})`),
  );
  // p50 / p95 markers: position inside the bucket holding the value, linear within it
  const markerX = (value) => {
    for (let i = 0; i < buckets.length; i++) {
      const hi = bound(buckets[i]);
      const lo = i ? bound(buckets[i - 1]) : 0;
      if (value <= hi) {
        const within = hi === Infinity ? 0.5 : (value - lo) / Math.max(1, hi - lo);
        return pad.left + slot * (i + Math.min(1, Math.max(0, within)));
      }
    }
    return pad.left + plotW;
  };
  for (const [name, value, cls, row] of [["중앙값", p50, "p50", 0], ["95%", p95, "p95", 1]]) {
    if (value === undefined || value === null) continue;
    const x = markerX(Number(value));
    const y = 14 + row * 16;
    const right = x > W - 160; // keep the label inside the chart
    svg.append(
      s("line", { x1: x, x2: x, y1: y + 2, y2: pad.top + plotH, class: `marker ${cls}` }),
      s(
        "text",
        { x: right ? x - 4 : x + 4, y, "text-anchor": right ? "end" : "start", class: `marker-label ${cls}` },
        `${name} ${Math.round(value)}${unit}`,
      ),
    );
  }
  const parts = [];
  if (count !== undefined) parts.push(`${count}건`);
  if (p50 !== undefined && p50 !== null) parts.push(`중앙값 ${Math.round(p50)}${unit}`);
  if (p95 !== undefined && p95 !== null) parts.push(`95% 이내 ${Math.round(p95)}${unit}`);
  return frame(
    title,
    parts.join(", "),
    svg,
    legendList([
      { label: "응답 건수", color: "#0f766e" },
      { label: "중앙값 (점선)", color: "#1b1f24" },
      { label: "95% 지점 (점선)", color: "#b42318" },
    ]),
    ["구간", "건수"],
    buckets.map((b, i) => [bucketLabel(b, i), b.count]),
  );
}

/**
 * Counts over days with a forecast (issue 19): `history` [{date, count}] as a line, `forecast`
 * [{date, mean, lower, upper}] as a dashed line in a shaded prediction interval.
 */
export function forecastBand({ title, history, forecast, unit = "건", summary }) {
  if (!history.length && !forecast.length) return emptyChart(title);
  const W = 640;
  const H = 240;
  const pad = { left: 44, right: 10, top: 12, bottom: 34 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const n = history.length + forecast.length;
  const axis = countAxis(Math.max(1, ...history.map((p) => p.count), ...forecast.map((p) => p.upper)));
  const x = (i) => pad.left + (plotW * (i + 0.5)) / n;
  const y = (v) => pad.top + plotH - (plotH * Math.min(v, axis.top)) / axis.top;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg forecast" });
  yAxis(svg, { left: pad.left, top: pad.top, width: plotW, height: plotH, max: axis.top, ticks: axis.ticks });
  const at = (points, key, offset) => points.map((p, i) => `${x(i + offset).toFixed(1)},${y(p[key]).toFixed(1)}`);
  const off = history.length;
  if (forecast.length) {
    const band = [...at(forecast, "upper", off), ...at(forecast, "lower", off).reverse()].join(" ");
    svg.append(
      s("polygon", { points: band, fill: "#bfdbfe", class: "interval" }),
      s("polyline", { points: at(forecast, "mean", off).join(" "), fill: "none", stroke: "#1d4ed8", "stroke-width": 2, "stroke-dasharray": "6 4" }),
    );
  }
  if (history.length) {
    svg.append(s("polyline", { points: at(history, "count", 0).join(" "), fill: "none", stroke: "#0f172a", "stroke-width": 2 }));
  }
  const dates = [...history.map((p) => p.date), ...forecast.map((p) => p.date)];
  const every = Math.ceil(n / 8);
  dates.forEach((d, i) => {
    if (i % every) return;
    svg.append(s("text", { x: x(i), y: H - 12, "text-anchor": "middle", class: "tick" }, d.slice(5).replace("-", "/")));
  });
  if (off && forecast.length) {
    const edge = (x(off - 1) + x(off)) / 2;
    svg.append(s("line", { x1: edge, x2: edge, y1: pad.top, y2: pad.top + plotH, class: "axis" }));
  }
  const legend = legendList([
    { label: "실제 건수", color: "#0f172a" },
    { label: "예측 (점선)", color: "#1d4ed8" },
    { label: "95% 예측 구간", color: "#bfdbfe" },
  ]);
  const next = forecast.slice(0, 7).reduce((sum, p) => sum + p.mean, 0);
  return frame(
    title,
    summary || `앞으로 7일 예상 ${Math.round(next)}${unit}`,
    svg,
    legend,
    ["날짜", "실제", "예측", "95% 구간"],
    [
      ...history.map((p) => [p.date, `${p.count}${unit}`, "", ""]),
      ...forecast.map((p) => [p.date, "", `${Math.round(p.mean)}${unit}`, `${Math.round(p.lower)}–${Math.round(p.upper)}${unit}`]),
    ],
  );
}
