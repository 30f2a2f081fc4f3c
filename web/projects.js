// The development-pact projects: coloured by strategic axis (the layer's own style), status or
// AQST programme, and filtered by the same attributes. Filters go to the server as CQL2 text
// (`filter=...&filter-lang=cql2-text` on the items endpoint); the browser filters nothing.
import { fetchFeatures, getJSON, withParams } from "./api.js";

const COLOUR_PAINT = { fill: "fill-color", line: "line-color", circle: "circle-color" };
const FALLBACK = "#7f8c8d";
/** Colours of known statuses, in the order of a project's life. */
const STATUS_COLOURS = [
  ["proposed", "#aab7b8"],
  ["design", "#85c1e9"],
  ["funded", "#2471a3"],
  ["in_progress", "#f39c12"],
  ["in progress", "#f39c12"],
  ["completed", "#27ae60"],
];
const PROGRAMME_COLOURS = [
  ["none", "#bdc3c7"],
  ["primo", "#c0392b"],
  ["integrativo", "#8e44ad"],
];
/** Colours for values the lists above do not know. */
const PALETTE = ["#2e86c1", "#e67e22", "#16a085", "#c0392b", "#8e44ad", "#d4ac0d", "#5d6d7e", "#e84393", "#117864", "#a04000"];

/** A CQL2 text literal. */
export function cql2Literal(v) {
  return typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`;
}

/** A CQL2 property name, quoted when it is not a plain identifier. */
export function cql2Property(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/**
 * The CQL2 text of a selection: for each attribute whose values are not all chosen,
 * `p = v` or `p IN (v1, v2)`, joined with AND; no choice at all selects nothing.
 * Returns null when everything is chosen (no filter).
 */
export function cql2Selection(groups) {
  const parts = [];
  for (const g of groups) {
    if (g.chosen.length === g.values.length) continue;
    const p = cql2Property(g.field);
    if (g.chosen.length === 0) parts.push(`${p} IS NULL AND ${p} IS NOT NULL`);
    else if (g.chosen.length === 1) parts.push(`${p} = ${cql2Literal(g.chosen[0])}`);
    else parts.push(`${p} IN (${g.chosen.map(cql2Literal).join(", ")})`);
  }
  return parts.length ? parts.join(" AND ") : null;
}

function orderValues(values, known) {
  const rank = (v) => {
    const i = known.findIndex(([k]) => k === v);
    return i < 0 ? known.length : i;
  };
  return [...values].sort((a, b) => {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return rank(a) - rank(b) || String(a).localeCompare(String(b));
  });
}

function colourFor(value, index, known) {
  const k = known.find(([v]) => v === value);
  return k ? k[1] : PALETTE[index % PALETTE.length];
}

export class Projects {
  constructor({ map, layers, api, config, container, onOpen }) {
    this.map = map;
    this.layers = layers;
    this.api = api;
    this.config = config;
    this.container = container;
    this.onOpen = onOpen;
    this.id = config.roles.projects;
    this.groups = [];
    this.themes = new Map();
    this.theme = "axis";
  }

  get available() {
    return Boolean(this.id && this.layers.get(this.id));
  }

  /** Reads the attribute values (one geometry-free pass over the layer) and builds the panel. */
  async init() {
    if (!this.available) {
      this.container.textContent = "The catalogue has no projects layer.";
      return;
    }
    const fields = this.config.project_fields;
    const queryables = await getJSON(`${this.api}/collections/${encodeURIComponent(this.id)}/queryables`);
    const has = (f) => Boolean(f && queryables.properties && f in queryables.properties);
    this.titleField = has(fields.title) ? fields.title : null;
    const axisLabel = has(`${fields.axis}_name`) ? `${fields.axis}_name` : null;
    const wanted = [fields.axis, axisLabel, fields.status, fields.programme].filter(has);
    const { features } = await fetchFeatures(
      withParams(`${this.api}/collections/${encodeURIComponent(this.id)}/items`, {
        properties: wanted.join(","),
        skipGeometry: "true",
        limit: this.config.max_limit,
      }),
    );
    const distinct = (f) => new Set(features.map((x) => x.properties[f]).filter((v) => v !== null && v !== undefined));
    this.axisLabels = new Map();
    if (axisLabel) {
      for (const x of features) this.axisLabels.set(x.properties[fields.axis], x.properties[axisLabel]);
    }
    const defs = [
      ["axis", fields.axis, "Strategic axis", []],
      ["status", fields.status, "Status", STATUS_COLOURS],
      ["programme", fields.programme, "AQST programme", PROGRAMME_COLOURS],
    ];
    for (const [key, field, title, known] of defs) {
      if (!has(field)) continue;
      const values = orderValues(distinct(field), known);
      this.groups.push({ key, field, title, values, chosen: [...values], known });
    }
    this.styleLayerIds = this.layers.styleLayerIds(this.id);
    // The axis theme is the layer's own style (styles/projects.json); the others are made here.
    this.themes.set("axis", this.styleLayerIds.map((l) => this.map.getPaintProperty(l, COLOUR_PAINT[this.map.getLayer(l).type])));
    for (const g of this.groups) {
      if (g.key === "axis") continue;
      const expr = ["match", ["get", g.field]];
      g.values.forEach((v, i) => expr.push(v, colourFor(v, i, g.known)));
      expr.push(FALLBACK);
      this.themes.set(g.key, this.styleLayerIds.map(() => expr));
    }
    this.layers.setLegendLabels(this.id, this.axisLabels);
    this.render();
    this.layers.onChange((id) => {
      if (id === this.id) this.renderMatches();
    });
  }

  applyTheme(name) {
    const exprs = this.themes.get(name);
    if (!exprs) return;
    this.theme = name;
    this.styleLayerIds.forEach((l, i) => {
      this.map.setPaintProperty(l, COLOUR_PAINT[this.map.getLayer(l).type], exprs[i]);
    });
    this.layers.setLegendLabels(this.id, name === "axis" ? this.axisLabels : new Map());
    const radio = this.container.querySelector(`input[name="theme"][value="${name}"]`);
    if (radio) radio.checked = true;
  }

  /** Sends the current selection to the server as CQL2 and reloads the projects. */
  applyFilter() {
    const cql = cql2Selection(this.groups);
    this.container.querySelector("#cql2").textContent = cql || "(none: every project)";
    return this.layers.setFilter(this.id, cql);
  }

  render() {
    const c = this.container;
    c.replaceChildren();
    const themes = document.createElement("fieldset");
    themes.innerHTML = "<legend>Colour by</legend>";
    const themeChoices = document.createElement("div");
    themeChoices.className = "choices";
    for (const key of this.themes.keys()) {
      const g = this.groups.find((x) => x.key === key);
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "theme";
      input.value = key;
      input.checked = key === this.theme;
      input.addEventListener("change", () => this.applyTheme(key));
      label.append(input, g ? g.title : key);
      themeChoices.append(label);
    }
    themes.append(themeChoices);
    c.append(themes);

    for (const g of this.groups) {
      const fs = document.createElement("fieldset");
      fs.dataset.filter = g.key;
      const legend = document.createElement("legend");
      legend.textContent = g.title;
      const choices = document.createElement("div");
      choices.className = "choices";
      const actions = document.createElement("div");
      actions.className = "actions";
      const boxes = [];
      const update = () => {
        g.chosen = g.values.filter((_, i) => boxes[i].checked);
        this.applyFilter();
      };
      for (const [text, state] of [["all", true], ["none", false]]) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = text;
        b.addEventListener("click", () => {
          boxes.forEach((x) => { x.checked = state; });
          update();
        });
        actions.append(b);
      }
      choices.append(actions);
      g.values.forEach((v) => {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "checkbox";
        input.checked = g.chosen.includes(v);
        input.value = String(v);
        input.dataset.value = JSON.stringify(v);
        input.addEventListener("change", update);
        boxes.push(input);
        const name = g.key === "axis" && this.axisLabels.get(v) ? `${v} · ${this.axisLabels.get(v)}` : String(v).replaceAll("_", " ");
        label.append(input, name);
        choices.append(label);
      });
      fs.append(legend, choices);
      c.append(fs);
    }
    const filterBox = document.createElement("div");
    filterBox.innerHTML = '<p class="muted">CQL2 filter sent to the server:</p><code id="cql2">(none: every project)</code><p id="project-count" class="muted"></p>';
    const list = document.createElement("ul");
    list.className = "project-list";
    list.id = "project-list";
    c.append(filterBox, list);
    this.renderMatches();
  }

  renderMatches() {
    const e = this.layers.get(this.id);
    const count = this.container.querySelector("#project-count");
    const list = this.container.querySelector("#project-list");
    if (!count || !list) return;
    if (e.failed) count.textContent = "The projects could not be loaded (see the message).";
    else if (!e.loaded) count.textContent = "Loading…";
    else {
      const listed = e.mode === "tiles" && e.features.length < e.matched ? ` (the first ${e.features.length} listed)` : "";
      count.textContent = `${e.matched} of ${e.itemCount} projects${e.mode === "viewport" ? " in view" : ""}${listed}; click one for its site report.`;
    }
    list.replaceChildren();
    const features = [...e.features].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    for (const f of features.slice(0, 500)) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.project = f.id;
      const pid = document.createElement("span");
      pid.className = "pid";
      pid.textContent = f.id;
      const t = document.createElement("span");
      t.textContent = this.titleField ? f.properties[this.titleField] : "";
      b.append(pid, t);
      b.addEventListener("click", () => this.onOpen(String(f.id), f));
      li.append(b);
      list.append(li);
    }
  }
}
