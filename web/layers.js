// The catalogue layers on the map: their data, fetched from the OGC API items endpoint page by
// page (rel=next links), whole for small layers and by viewport (bbox) for large ones, and the
// layer panel grouped by PTCP system with a legend from each layer's style and its QGIS links.
import { fetchFeatures, withParams } from "./api.js";
import { legendElement } from "./legend.js";
import { showError } from "./messages.js";

const SYSTEMS = [
  ["infrastructure", "Infrastructure system"],
  ["environmental", "Environmental system"],
  ["settlement", "Settlement system"],
  ["rural", "Rural system"],
  ["projects", "Development-pact projects"],
];
const EMPTY = { type: "FeatureCollection", features: [] };
const COLOUR_PAINT = { fill: "fill-color", line: "line-color", circle: "circle-color" };

/** Whether box a ([w, s, e, n]) contains box b. */
function contains(a, b) {
  return a[0] <= b[0] && a[1] <= b[1] && a[2] >= b[2] && a[3] >= b[3];
}

export class Layers {
  /**
   * @param map the MapLibre map, whose style already has a GeoJSON source per layer
   * @param options { api, collections, styleLayers, visible: Set, large, pageSize, maxViewportFeatures }
   */
  constructor(map, options) {
    this.map = map;
    this.api = options.api;
    this.pageSize = options.pageSize;
    this.maxViewportFeatures = options.maxViewportFeatures;
    this.entries = new Map();
    this.listeners = new Set();
    this.pending = new Set();
    for (const c of options.collections) {
      const styleLayers = options.styleLayers.filter((l) => l.source === c.id);
      this.entries.set(c.id, {
        id: c.id,
        title: c.title,
        system: c.system,
        collection: c,
        itemCount: c.itemCount,
        styleLayerIds: styleLayers.map((l) => l.id),
        visible: options.visible.has(c.id),
        mode: c.itemCount > options.large ? "viewport" : "whole",
        filter: null,
        loading: null,
        loaded: null,
        features: [],
        matched: undefined,
        complete: false,
        failed: false,
        labels: new Map(),
      });
    }
    let timer = null;
    map.on("moveend", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.refreshViewport(), 150);
    });
  }

  /** Called with (id, entry) whenever a layer's data or state changes. */
  onChange(fn) {
    this.listeners.add(fn);
  }

  changed(entry) {
    this.renderStatus(entry);
    for (const fn of this.listeners) fn(entry.id, entry);
  }

  get(id) {
    return this.entries.get(id);
  }

  /** The style layer ids drawing `id` (visible or not). */
  styleLayerIds(id) {
    const e = this.entries.get(id);
    return e ? e.styleLayerIds : [];
  }

  /** The style layer ids of every visible layer, for hit tests. */
  visibleStyleLayerIds() {
    return [...this.entries.values()].filter((e) => e.visible).flatMap((e) => e.styleLayerIds);
  }

  setVisible(id, visible) {
    const e = this.entries.get(id);
    if (!e) return;
    e.visible = visible;
    for (const l of e.styleLayerIds) {
      this.map.setLayoutProperty(l, "visibility", visible ? "visible" : "none");
    }
    const box = document.querySelector(`input[data-layer-toggle="${CSS.escape(id)}"]`);
    if (box) box.checked = visible;
    if (visible) this.ensure(id);
    this.changed(e);
  }

  /** Sets the CQL2 text filter of a layer (null: none) and reloads its data. */
  setFilter(id, cql2) {
    const e = this.entries.get(id);
    if (!e || e.filter === cql2) return Promise.resolve();
    e.filter = cql2;
    return this.ensure(id, { evenIfHidden: true });
  }

  /**
   * Fetches a layer's data again, same filter and view (after an edit of its features). A
   * fetch in flight is let finish first: what it started before the edit is then replaced.
   */
  async reload(id) {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.loading) await e.loading.promise;
    e.loaded = null;
    await this.ensure(id, { evenIfHidden: true });
  }

  /** Resolves when every request in flight has settled. */
  async settled() {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** The current view, padded by a quarter on every side, as [w, s, e, n] in CRS84. */
  viewBox(pad = 0.25) {
    const b = this.map.getBounds();
    const w = b.getWest();
    const e = b.getEast();
    const s = b.getSouth();
    const n = b.getNorth();
    const dx = (e - w) * pad;
    const dy = (n - s) * pad;
    const r = (v) => Math.round(v * 1e6) / 1e6;
    return [r(Math.max(-180, w - dx)), r(Math.max(-90, s - dy)), r(Math.min(180, e + dx)), r(Math.min(90, n + dy))];
  }

  refreshViewport() {
    for (const e of this.entries.values()) {
      if (e.visible && e.mode === "viewport") this.ensure(e.id);
    }
  }

  /** Loads a layer's data if what is on the map is not what the view and filter need. */
  ensure(id, { evenIfHidden = false } = {}) {
    const e = this.entries.get(id);
    if (!e || (!e.visible && !evenIfHidden)) return Promise.resolve();
    const view = e.mode === "viewport" ? this.viewBox(0) : null;
    // What is loaded serves the view when it has the same filter and, by viewport, when its
    // box holds the view and it was complete (else zooming in must fetch what was left out).
    const covers = (state) =>
      state &&
      state.filter === e.filter &&
      (e.mode === "whole" || (contains(state.bbox, view) && (state === e.loading || e.complete)));
    if (covers(e.loading)) return e.loading.promise;
    if (!e.loading && covers(e.loaded)) return Promise.resolve();
    if (e.loading) e.loading.controller.abort();
    const controller = new AbortController();
    const bbox = e.mode === "viewport" ? this.viewBox() : null;
    const params = { limit: this.pageSize };
    if (bbox) params.bbox = bbox.join(",");
    if (e.filter) {
      params.filter = e.filter;
      params["filter-lang"] = "cql2-text";
    }
    const url = withParams(`${this.api}/collections/${encodeURIComponent(id)}/items`, params);
    const state = { filter: e.filter, bbox, controller };
    e.loading = state;
    e.failed = false;
    this.renderStatus(e, "loading…");
    const promise = (async () => {
      try {
        const result = await fetchFeatures(url, {
          signal: controller.signal,
          maxFeatures: e.mode === "viewport" ? this.maxViewportFeatures : Infinity,
          onPage: (n, m) => this.renderStatus(e, m !== undefined ? `loading ${n} of ${m}…` : `loading ${n}…`),
        });
        if (e.loading !== state) return;
        // Rendered features keep only numeric ids: the feature id goes into the properties.
        for (const f of result.features) f.properties = { ...(f.properties || {}), _id: f.id };
        this.map.getSource(id).setData({ type: "FeatureCollection", features: result.features });
        Object.assign(e, {
          features: result.features,
          matched: result.numberMatched,
          complete: result.complete,
          loaded: state,
          loading: null,
        });
        this.changed(e);
      } catch (err) {
        if (err.name === "AbortError" || e.loading !== state) return;
        // Filtered data that failed to load is not replaced by unfiltered data.
        this.map.getSource(id).setData(EMPTY);
        Object.assign(e, { features: [], matched: undefined, loaded: null, loading: null, failed: true });
        this.changed(e);
        showError(err, `Loading ${e.title}`);
      }
    })();
    state.promise = promise;
    this.pending.add(promise);
    promise.finally(() => this.pending.delete(promise));
    return promise;
  }

  /** The current style layers of a layer (with the paint as now on the map). */
  currentStyleLayers(id) {
    return this.styleLayerIds(id).map((lid) => {
      const l = this.map.getLayer(lid);
      const prop = COLOUR_PAINT[l.type];
      return { id: lid, type: l.type, paint: prop ? { [prop]: this.map.getPaintProperty(lid, prop) } : {} };
    });
  }

  /** Readable labels for a layer's legend values (e.g. axis number -> axis name). */
  setLegendLabels(id, labels) {
    const e = this.entries.get(id);
    if (!e) return;
    e.labels = labels;
    this.renderLegend(e);
  }

  renderLegend(e) {
    const old = document.querySelector(`.layer[data-layer="${CSS.escape(e.id)}"] .legend`);
    if (!old) return;
    old.replaceWith(legendElement(this.currentStyleLayers(e.id), { labels: e.labels, title: e.title }));
  }

  renderStatus(e, text) {
    const el = document.querySelector(`.layer[data-layer="${CSS.escape(e.id)}"] .count`);
    if (!el) return;
    const note = document.querySelector(`.layer[data-layer="${CSS.escape(e.id)}"] .note`);
    el.classList.toggle("failed", e.failed);
    let noteText = "";
    if (text) {
      el.textContent = text;
    } else if (e.failed) {
      el.textContent = "failed";
    } else if (!e.loaded) {
      el.textContent = `${e.itemCount}`;
    } else if (e.mode === "viewport") {
      el.textContent = `${e.features.length} in view`;
      if (!e.complete) noteText = `Showing ${e.features.length} of ${e.matched} features in view: zoom in to see them all.`;
    } else if (e.filter) {
      el.textContent = `${e.matched} of ${e.itemCount}`;
    } else {
      el.textContent = `${e.features.length}`;
    }
    if (note) {
      note.textContent = noteText;
      note.hidden = !noteText;
    }
    el.title = e.mode === "viewport" ? "fetched by viewport (bbox), page by page" : "fetched whole, page by page";
  }

  /** Builds the layer panel in `container`. */
  renderPanel(container) {
    container.replaceChildren();
    const systems = [...SYSTEMS];
    for (const e of this.entries.values()) {
      if (!systems.some(([s]) => s === e.system)) systems.push([e.system, e.system]);
    }
    for (const [system, title] of systems) {
      const entries = [...this.entries.values()].filter((e) => e.system === system);
      if (!entries.length) continue;
      const group = document.createElement("details");
      group.className = "system";
      group.open = true;
      group.dataset.system = system;
      const summary = document.createElement("summary");
      summary.textContent = title;
      group.append(summary);
      for (const e of entries) group.append(this.layerItem(e));
      container.append(group);
    }
    for (const e of this.entries.values()) this.renderStatus(e);
  }

  layerItem(e) {
    const item = document.createElement("div");
    item.className = "layer";
    item.dataset.layer = e.id;
    const head = document.createElement("div");
    head.className = "layer-head";
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = e.visible;
    box.dataset.layerToggle = e.id;
    box.addEventListener("change", () => this.setVisible(e.id, box.checked));
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = e.title;
    title.title = e.collection.description || "";
    label.append(box, title);
    const count = document.createElement("span");
    count.className = "count";
    const qgisButton = document.createElement("button");
    qgisButton.type = "button";
    qgisButton.className = "qgis-toggle";
    qgisButton.textContent = "QGIS";
    qgisButton.title = "Open in QGIS: the OGC API URL and the QGIS style";
    qgisButton.setAttribute("aria-expanded", "false");
    head.append(label, count, qgisButton);
    const note = document.createElement("p");
    note.className = "note";
    note.hidden = true;
    const legend = legendElement(this.currentStyleLayers(e.id), { labels: e.labels, title: e.title });
    if (legend.dataset.single) {
      // A single colour needs no list: its swatch goes beside the title.
      label.insertBefore(legend.querySelector(".swatch").cloneNode(), title);
      legend.hidden = true;
    }
    const qgis = this.qgisBox(e);
    qgis.hidden = true;
    qgisButton.addEventListener("click", () => {
      qgis.hidden = !qgis.hidden;
      qgisButton.setAttribute("aria-expanded", String(!qgis.hidden));
    });
    item.append(head, note, legend, qgis);
    return item;
  }

  /** "Open in QGIS": the service URL to copy, the collection URL, and the style files. */
  qgisBox(e) {
    const box = document.createElement("div");
    box.className = "qgis";
    const links = e.collection.links || [];
    const self = links.find((l) => l.rel === "self");
    const collectionUrl = self ? self.href.replace(/\?.*$/, "") : `${this.api}/collections/${e.id}`;
    const qml = links.find((l) => l.rel === "stylesheet" && l.type === "application/vnd.qgis.qml");
    const maplibre = links.find((l) => l.rel === "stylesheet" && l.type !== "application/vnd.qgis.qml");
    const p = (text) => {
      const el = document.createElement("p");
      el.textContent = text;
      return el;
    };
    box.append(
      p(`In QGIS: Layer ▸ Add Layer ▸ Add WFS / OGC API - Features Layer, a new connection with this URL, then the layer «${e.title}» (${e.id}):`),
      copyRow(`${this.api}/`, "OGC API - Features URL"),
      p("This collection:"),
      copyRow(collectionUrl, "collection URL"),
    );
    const styles = document.createElement("p");
    if (qml) {
      const a = document.createElement("a");
      a.href = qml.href;
      a.textContent = `QGIS style (${e.id}.qml)`;
      a.setAttribute("download", `${e.id}.qml`);
      styles.append(a, " — in QGIS: Layer Properties ▸ Symbology ▸ Style ▸ Load Style");
    }
    if (maplibre) {
      const a = document.createElement("a");
      a.href = maplibre.href;
      a.textContent = "MapLibre style layers";
      a.target = "_blank";
      styles.append(qml ? " · " : "", a);
    }
    box.append(styles);
    return box;
  }
}

/** A read-only text field with a Copy button. */
function copyRow(value, what) {
  const row = document.createElement("div");
  row.className = "copy-row";
  const input = document.createElement("input");
  input.readOnly = true;
  input.value = value;
  input.setAttribute("aria-label", what);
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Copy";
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = "Copied";
    } catch {
      // No clipboard permission: the text is selected, Ctrl+C copies it.
      button.textContent = "Ctrl+C";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  row.append(input, button);
  return row;
}
