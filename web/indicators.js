// The indicators view: a choropleth of the municipalities for one monitoring indicator
// (GET /indicators?f=geojson), with its classes and its definition (GET /indicators/definitions,
// whose `property` says which property of the municipalities carries each indicator).
import { getJSON } from "./api.js";
import { el } from "./details.js";
import { formatDistance } from "./geometry.js";

/** A sequential ramp, light to dark. */
const RAMP = ["#fff1c9", "#fdcb8b", "#f79a5a", "#dc5a3d", "#a4222f"];
const NO_DATA = "#d5d8dc";
const SOURCE = "indicators";
export const LAYER = "indicators-fill";

function formatValue(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "no data";
  switch (unit) {
    case "share": return `${(v * 100).toFixed(1)}%`;
    case "m": return formatDistance(v);
    case "m2": return `${(v / 10000).toLocaleString("en-US", { maximumFractionDigits: 2 })} ha`;
    case "EUR": return `€ ${Math.round(v).toLocaleString("en-US")}`;
    case "%": return `${v.toFixed(1)}%`;
    default: return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumFractionDigits: 2 });
  }
}

/** Class breaks at the quintiles of the values (fewer when values repeat). */
export function quantileBreaks(values, classes = RAMP.length) {
  const sorted = [...values].sort((a, b) => a - b);
  const breaks = [];
  for (let i = 1; i < classes; i++) {
    const b = sorted[Math.floor((i * sorted.length) / classes)];
    if (b > sorted[0] && (breaks.length === 0 || b > breaks[breaks.length - 1])) breaks.push(b);
  }
  return breaks;
}

export class Indicators {
  constructor({ map, api, container, beforeId, nameField }) {
    this.map = map;
    this.api = api;
    this.container = container;
    this.beforeId = beforeId;
    this.nameField = nameField || "name";
    this.loaded = null;
    this.current = null;
    this.popup = null;
  }

  /** Loads the indicators once, then shows the chosen one. */
  async open() {
    if (!this.loaded) {
      this.container.replaceChildren(el("p", { className: "muted" }, "Loading the indicators…"));
      const [definitions, geojson] = await Promise.all([
        getJSON(`${this.api}/indicators/definitions`),
        getJSON(`${this.api}/indicators?f=geojson`),
      ]);
      this.loaded = { definitions, geojson };
      this.map.addSource(SOURCE, { type: "geojson", data: geojson });
      this.map.addLayer({ id: LAYER, type: "fill", source: SOURCE, paint: { "fill-color": NO_DATA, "fill-opacity": 0.85, "fill-outline-color": "#ffffff" } }, this.beforeId);
      this.render();
    }
    this.map.setLayoutProperty(LAYER, "visibility", "visible");
    this.show(this.current || this.choices()[0].id);
  }

  close() {
    if (this.loaded) this.map.setLayoutProperty(LAYER, "visibility", "none");
    if (this.popup) this.popup.remove();
  }

  get isOpen() {
    return Boolean(this.loaded) && this.map.getLayoutProperty(LAYER, "visibility") !== "none";
  }

  /**
   * The indicators that have a value per municipality: those whose definition names the
   * property of the municipalities GeoJSON that carries them.
   */
  choices() {
    const props = new Set(Object.keys((this.loaded.geojson.features[0] || {}).properties || {}));
    return this.loaded.definitions.filter((d) => d.property && props.has(d.property));
  }

  render() {
    const select = el("select", { id: "indicator-select", "aria-label": "indicator" });
    for (const c of this.choices()) select.append(el("option", { value: c.id }, c.title));
    select.addEventListener("change", () => this.show(select.value));
    this.container.replaceChildren(
      el("label", { for: "indicator-select" }, "Indicator per municipality"),
      select,
      el("div", { id: "indicator-legend" }),
      el("p", { className: "muted" }, "Click a municipality for its value. Data: ", el("a", { href: `${this.api}/indicators?f=geojson`, target: "_blank" }, "GeoJSON"), " · ", el("a", { href: `${this.api}/indicators`, target: "_blank" }, "all indicators (JSON)"), "."),
    );
  }

  show(id) {
    const c = this.choices().find((x) => x.id === id);
    if (!c) return;
    this.current = id;
    this.container.querySelector("#indicator-select").value = id;
    const values = this.loaded.geojson.features.map((f) => f.properties[c.property]).filter((v) => typeof v === "number" && Number.isFinite(v));
    const breaks = quantileBreaks(values);
    const step = ["step", ["get", c.property], RAMP[0]];
    breaks.forEach((b, i) => step.push(b, RAMP[i + 1]));
    this.map.setPaintProperty(LAYER, "fill-color", ["case", ["==", ["typeof", ["get", c.property]], "number"], step, NO_DATA]);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const bounds = [min, ...breaks, max];
    const classes = el("ul", { className: "classes", dataset: { indicator: id, property: c.property } });
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      classes.append(
        el("li", { dataset: { from: bounds[i], to: bounds[i + 1] } },
          el("span", { className: "swatch", style: `background:${RAMP[i]}` }),
          `${formatValue(bounds[i], c.unit)} ${last ? "to" : "to under"} ${formatValue(bounds[i + 1], c.unit)}`),
      );
    }
    if (values.length < this.loaded.geojson.features.length) {
      classes.append(el("li", {}, el("span", { className: "swatch", style: `background:${NO_DATA}` }), "no data"));
    }
    this.container.querySelector("#indicator-legend").replaceChildren(
      el("h3", {}, c.title, c.unit ? ` (${c.unit})` : ""),
      classes,
      el("p", { className: "definition" }, c.definition),
    );
  }

  /** A popup with the municipality's value under a click, when the view is open. */
  popupAt(e, maplibregl) {
    if (!this.isOpen) return false;
    const hit = this.map.queryRenderedFeatures(e.point, { layers: [LAYER] })[0];
    if (!hit) return false;
    const c = this.choices().find((x) => x.id === this.current);
    if (this.popup) this.popup.remove();
    const name = hit.properties[this.nameField] || hit.properties.name || hit.id;
    this.popup = new maplibregl.Popup({ closeButton: true })
      .setLngLat(e.lngLat)
      .setDOMContent(el("div", {}, el("strong", {}, name), el("br"), `${c.title}: ${formatValue(hit.properties[c.property], c.unit)}`))
      .addTo(this.map);
    return true;
  }
}
