// The projects' progress month by month, per strategic axis, emblematic action or AQST
// programme (GET /indicators/monitoring/series), drawn as a plain SVG line chart beside the
// indicators, with the data as a table. A server without the series says so; the rest of the
// map does not depend on it.
import { ApiProblem, request } from "./api.js";
import { el } from "./details.js";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#2e86c1", "#e67e22", "#16a085", "#c0392b", "#8e44ad", "#d4ac0d", "#5d6d7e", "#e84393", "#117864", "#a04000", "#1abc9c", "#7d6608", "#2874a6", "#943126", "#6c3483", "#1e8449"];
const GROUP_TITLES = { axis: "Strategic axis", emblematic_action: "Emblematic action", aqst_programme: "AQST programme" };
export const MEASURES = [
  ["progress_mean_pct", "Mean progress"],
  ["progress_weighted_pct", "Progress weighted by budget"],
];
/** The chart's frame, in SVG units (the SVG scales to the panel's width). */
const FRAME = { width: 300, height: 190, left: 34, right: 8, top: 8, bottom: 26 };

/**
 * The one place that reads the series document. Expected shape:
 * `{months: ["2025-02", ...], groups: [{group, key, series: [{month, projects,
 * progress_mean_pct, progress_weighted_pct, budget_eur, committed_eur, spent_eur}]}],
 * total: [{month, ...}]}`. Returns `{months, groups: [{group, key, byMonth: Map}], total: Map}`.
 */
export function readSeries(doc) {
  const byMonth = (series) => new Map((series || []).map((p) => [p.month, p]));
  const months = Array.isArray(doc.months) && doc.months.length
    ? doc.months
    : [...new Set((doc.total || []).map((p) => p.month))].sort();
  return {
    months,
    groups: (doc.groups || []).map((g) => ({ group: g.group, key: String(g.key), label: g.label || null, byMonth: byMonth(g.series) })),
    total: byMonth(doc.total),
  };
}

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

/** x of month i and y of a percentage in the frame. */
function scales(count) {
  const w = FRAME.width - FRAME.left - FRAME.right;
  const h = FRAME.height - FRAME.top - FRAME.bottom;
  return {
    x: (i) => FRAME.left + (count > 1 ? (i * w) / (count - 1) : w / 2),
    y: (v) => FRAME.top + h * (1 - v / 100),
  };
}

/** An SVG path through the months that have a value; a month without one breaks the line. */
function linePath(months, byMonth, measure, s) {
  let d = "";
  let pen = false;
  months.forEach((m, i) => {
    const p = byMonth.get(m);
    const v = p ? p[measure] : null;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${s.x(i).toFixed(2)} ${s.y(v).toFixed(2)} `;
    pen = true;
  });
  return d.trim();
}

export class ProgressChart {
  /** `labelFor(group, key)`: a readable name for a key (the axis names, say). */
  constructor({ api, container, labelFor }) {
    this.api = api;
    this.container = container;
    this.labelFor = labelFor || ((group, key) => key);
    this.data = null;
    this.stale = true;
    this.group = "axis";
    this.measure = MEASURES[0][0];
    this.hidden = new Set();
  }

  get url() {
    return `${this.api}/indicators/monitoring/series?f=json`;
  }

  /** Reads the series when the indicators open (again after an edit). */
  async open() {
    if (!this.stale) return;
    this.stale = false;
    this.container.replaceChildren(el("h3", {}, "Progress of the projects"), el("p", { className: "muted" }, "Loading the monitoring series…"));
    try {
      const response = await request(this.url, { headers: { Accept: "application/json" }, cache: "no-cache" });
      this.data = readSeries(await response.json());
      const groups = [...new Set(this.data.groups.map((g) => g.group))];
      if (!groups.includes(this.group)) this.group = groups[0];
      this.render();
    } catch (e) {
      this.stale = true;
      if (e instanceof ApiProblem && e.status === 404) {
        this.container.replaceChildren(el("h3", {}, "Progress of the projects"), el("p", { className: "muted no-series" }, "No monitoring series on this server."));
        return;
      }
      this.container.replaceChildren(el("h3", {}, "Progress of the projects"), el("p", { className: "muted" }, "The monitoring series could not be loaded."));
      throw e;
    }
  }

  render() {
    const groups = [...new Set(this.data.groups.map((g) => g.group))];
    const groupSelect = el("select", { id: "progress-group" });
    for (const g of groups) groupSelect.append(el("option", { value: g }, GROUP_TITLES[g] || g.replaceAll("_", " ")));
    groupSelect.value = this.group;
    groupSelect.addEventListener("change", () => {
      this.group = groupSelect.value;
      this.hidden.clear();
      this.draw();
    });
    const measureSelect = el("select", { id: "progress-measure" });
    for (const [k, t] of MEASURES) measureSelect.append(el("option", { value: k }, t));
    measureSelect.value = this.measure;
    measureSelect.addEventListener("change", () => {
      this.measure = measureSelect.value;
      this.draw();
    });
    this.container.replaceChildren(
      el("h3", {}, "Progress of the projects"),
      el("div", { className: "progress-controls" },
        el("label", { for: "progress-group" }, "By"), groupSelect,
        el("label", { for: "progress-measure" }, "Show"), measureSelect),
      el("div", { id: "progress-chart" }),
      el("p", { className: "muted" }, "Data: ", el("a", { href: this.url, target: "_blank" }, "JSON"), "."),
    );
    this.draw();
  }

  /** The chart, its legend (a checkbox per line) and the data as a table. */
  draw() {
    const { months } = this.data;
    const series = this.data.groups.filter((g) => g.group === this.group);
    const s = scales(months.length);
    const measureTitle = MEASURES.find(([k]) => k === this.measure)[1];
    const groupTitle = GROUP_TITLES[this.group] || this.group;
    const chart = svg("svg", {
      viewBox: `0 0 ${FRAME.width} ${FRAME.height}`,
      role: "img",
      "aria-labelledby": "progress-svg-title",
      class: "progress-svg",
      "data-group": this.group,
      "data-measure": this.measure,
    });
    chart.append(svg("title", { id: "progress-svg-title" }, `${measureTitle} by ${groupTitle.toLowerCase()}, ${months[0] || ""} to ${months.at(-1) || ""} (table below)`));
    for (const v of [0, 25, 50, 75, 100]) {
      chart.append(
        svg("line", { class: "grid", "data-value": v, x1: FRAME.left, x2: FRAME.width - FRAME.right, y1: s.y(v), y2: s.y(v) }),
        svg("text", { class: "tick", x: FRAME.left - 4, y: s.y(v) + 3, "text-anchor": "end" }, `${v}%`),
      );
    }
    // Month labels: the first, the last, and evenly spaced ones between when they fit.
    const every = Math.max(1, Math.ceil(months.length / 4));
    const last = months.length - 1;
    months.forEach((m, i) => {
      if (i !== last && (i % every !== 0 || last - i < every)) return;
      const anchor = i === last && last > 0 ? "end" : i === 0 ? "start" : "middle";
      chart.append(svg("text", { class: "tick month", "data-month": m, x: s.x(i), y: FRAME.height - FRAME.bottom + 14, "text-anchor": anchor }, m));
    });
    const colour = new Map(series.map((g, i) => [g.key, PALETTE[i % PALETTE.length]]));
    for (const g of series) {
      if (this.hidden.has(g.key)) continue;
      const d = linePath(months, g.byMonth, this.measure, s);
      if (!d) continue;
      const path = svg("path", { class: "series", "data-key": g.key, d, stroke: colour.get(g.key) });
      path.append(svg("title", {}, this.name(g)));
      chart.append(path);
    }
    if (this.data.total.size) {
      const d = linePath(months, this.data.total, this.measure, s);
      if (d) {
        const path = svg("path", { class: "series total", "data-key": "total", d });
        path.append(svg("title", {}, "all projects"));
        chart.append(path);
      }
    }
    const legend = el("ul", { className: "progress-legend" });
    for (const g of series) {
      const box = el("input", { type: "checkbox", dataset: { key: g.key } });
      box.checked = !this.hidden.has(g.key);
      box.addEventListener("change", () => {
        if (box.checked) this.hidden.delete(g.key);
        else this.hidden.add(g.key);
        this.draw();
      });
      legend.append(el("li", {}, el("label", {}, box, el("span", { className: "swatch line", style: `background:${colour.get(g.key)}` }), this.name(g))));
    }
    legend.append(el("li", { className: "total" }, el("span", { className: "swatch line total" }), "all projects"));
    const format = (p) => (p && typeof p[this.measure] === "number" ? `${p[this.measure].toFixed(1)}%` : "–");
    const table = el(
      "table",
      { className: "progress-table" },
      el("tr", {}, el("th", {}, groupTitle), months.map((m) => el("th", { className: "num" }, m))),
      series.map((g) => el("tr", { dataset: { key: g.key } }, el("td", {}, this.name(g)), months.map((m) => el("td", { className: "num" }, format(g.byMonth.get(m)))))),
      this.data.total.size ? el("tr", { dataset: { key: "total" } }, el("td", {}, "all projects"), months.map((m) => el("td", { className: "num" }, format(this.data.total.get(m))))) : null,
    );
    this.container.querySelector("#progress-chart").replaceChildren(
      chart,
      legend,
      el("details", {}, el("summary", {}, "The data as a table"), el("div", { className: "table-scroll" }, table)),
    );
  }

  name(g) {
    return g.label || this.labelFor(g.group, g.key) || g.key;
  }
}
