// The catalogue layers on the map: their data, fetched from the OGC API items endpoint page by
// page (rel=next links), whole for small layers and by viewport (bbox) for large ones, or, for
// the largest, drawn from the collection's vector tiles (OGC API - Tiles, WebMercatorQuad), and
// the layer panel grouped by PTCP system with a legend from each layer's style and its QGIS
// links.
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
/**
 * Layers with more features than this are drawn from vector tiles, not GeoJSON: above it a
 * view of the whole province would need more features than one viewport fetch may bring
 * (20,000, `max`), and the browser would hold every geometry at full precision where a tile
 * holds what its zoom can show. The URL parameter `tiles=N` changes it (the tests lower it).
 */
export const TILES_ABOVE = 20000;
/** Tiles are asked up to this zoom; MapLibre draws deeper zooms from them (4096 units a tile). */
const TILE_MAX_ZOOM = 16;
/** How many features (ids and properties, no geometry) a listed tiled layer reads for its list. */
const TILED_LIST_LIMIT = 500;
const COLOUR_PAINT = { fill: "fill-color", line: "line-color", circle: "circle-color" };

/**
 * The URL template of a collection's vector tiles (row before column, as OGC API - Tiles
 * orders them), with the layer's CQL2 text filter when it has one: the server cuts only the
 * features the filter selects, as the items endpoint returns only those.
 */
export function tileUrl(api, id, filter) {
  const url = `${api}/collections/${encodeURIComponent(id)}/tiles/WebMercatorQuad/{z}/{y}/{x}`;
  return filter ? `${url}?filter=${encodeURIComponent(filter)}&filter-lang=cql2-text` : url;
}

/**
 * Turns the GeoJSON sources of the layers with more than `threshold` features into vector
 * tile sources of the same id, and points their style layers at the tiles' one layer (named
 * after the collection): paint, layout and filters stay as the style gives them. Returns the
 * ids of the layers so drawn. Call it on the style before the map is made.
 */
export function useTiles(style, collections, api, threshold) {
  const tiled = new Set();
  for (const c of collections) {
    const source = style.sources[c.id];
    if (!source || source.type !== "geojson" || !(c.itemCount > threshold)) continue;
    style.sources[c.id] = { type: "vector", tiles: [tileUrl(api, c.id, null)], minzoom: 0, maxzoom: TILE_MAX_ZOOM };
    for (const l of style.layers) {
      if (l.source === c.id) l["source-layer"] = c.id;
    }
    tiled.add(c.id);
  }
  return tiled;
}

/** Whether box a ([w, s, e, n]) contains box b. */
function contains(a, b) {
  return a[0] <= b[0] && a[1] <= b[1] && a[2] >= b[2] && a[3] >= b[3];
}

export class Layers {
  /**
   * @param map the MapLibre map, whose style already has a source per layer: GeoJSON, or
   *   vector tiles for the layers in `tiled` (see useTiles)
   * @param options { api, collections, styleLayers, visible: Set, large, pageSize,
   *   maxViewportFeatures, tiled: Set, listed: Set } — `listed`: the tiled layers whose
   *   features the page lists (the projects), which read their ids and properties, without
   *   geometry, from the items endpoint
   */
  constructor(map, options) {
    this.map = map;
    this.api = options.api;
    this.pageSize = options.pageSize;
    this.maxViewportFeatures = options.maxViewportFeatures;
    this.tilesAbove = options.tilesAbove;
    this.listed = options.listed || new Set();
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
        mode: options.tiled && options.tiled.has(c.id) ? "tiles" : c.itemCount > options.large ? "viewport" : "whole",
        tileFilter: null,
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

  /**
   * The id of a feature MapLibre rendered for layer `id`: GeoJSON features carry it as the
   * property `_id` (rendered features keep only numeric ids); a tile's feature as its MVT id
   * when the id is a non-negative integer, else as the property `id` (see src/tiles/mvt.rs; a
   * layer with a property of its own named `id` and other ids than such integers cannot be told
   * apart in its tiles: the property wins).
   */
  featureId(id, rendered) {
    const e = this.entries.get(id);
    if (e && e.mode === "tiles") return rendered.id !== undefined ? rendered.id : rendered.properties.id;
    return rendered.properties._id;
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
    // Tiles are asked again (revalidated by their ETag, which an edit changes).
    if (e.mode === "tiles") e.tileFilter = undefined;
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
    if (e.mode === "tiles") return this.ensureTiles(e);
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

  /**
   * A tiled layer: MapLibre fetches the tiles the view needs; the page only sets the tile URL
   * (with the filter, which drops the cached tiles so that they are cut again) and, for a
   * listed layer, reads the matching features' ids and properties (no geometry, one page of
   * TILED_LIST_LIMIT) with numberMatched, for the list and the count.
   */
  ensureTiles(e) {
    if (e.tileFilter !== e.filter) {
      this.replaceTiles(e.id, tileUrl(this.api, e.id, e.filter));
      e.tileFilter = e.filter;
    }
    if (!this.listed.has(e.id)) {
      if (!e.loaded || e.loaded.filter !== e.filter) {
        Object.assign(e, { loaded: { filter: e.filter }, features: [], matched: e.filter ? undefined : e.itemCount, complete: true });
        this.changed(e);
      }
      return Promise.resolve();
    }
    if (e.loading && e.loading.filter === e.filter) return e.loading.promise;
    if (!e.loading && e.loaded && e.loaded.filter === e.filter) return Promise.resolve();
    if (e.loading) e.loading.controller.abort();
    const controller = new AbortController();
    const params = { limit: TILED_LIST_LIMIT, skipGeometry: "true" };
    if (e.filter) {
      params.filter = e.filter;
      params["filter-lang"] = "cql2-text";
    }
    const url = withParams(`${this.api}/collections/${encodeURIComponent(e.id)}/items`, params);
    const state = { filter: e.filter, controller };
    e.loading = state;
    e.failed = false;
    this.renderStatus(e, "loading…");
    const promise = (async () => {
      try {
        const result = await fetchFeatures(url, { signal: controller.signal, maxFeatures: TILED_LIST_LIMIT });
        if (e.loading !== state) return;
        Object.assign(e, { features: result.features, matched: result.numberMatched, complete: result.complete, loaded: state, loading: null });
        this.changed(e);
      } catch (err) {
        if (err.name === "AbortError" || e.loading !== state) return;
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

  /**
   * Points a tiled layer at another tile URL: its source is made again, and its style layers
   * (as they are now: paint, visibility) put back where they were. MapLibre's setTiles would
   * reload the tiles in place, but a tile that had failed (a refused filter, say) then waits
   * for a load that never comes, and the map never settles.
   */
  replaceTiles(id, url) {
    const style = this.map.getStyle();
    const source = { ...style.sources[id], tiles: [url] };
    const mine = style.layers
      .map((layer, i) => ({ layer, before: style.layers.slice(i + 1).find((l) => l.source !== id) }))
      .filter(({ layer }) => layer.source === id);
    for (const { layer } of mine) this.map.removeLayer(layer.id);
    this.map.removeSource(id);
    this.map.addSource(id, source);
    for (const { layer, before } of mine) this.map.addLayer(layer, before && before.id);
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
    } else if (e.mode === "tiles") {
      el.textContent = e.filter ? (e.matched !== undefined ? `${e.matched} of ${e.itemCount}` : `filtered, of ${e.itemCount}`) : `${e.itemCount}`;
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
    el.dataset.mode = e.mode;
    el.title =
      e.mode === "tiles"
        ? `drawn from vector tiles (more than ${this.tilesAbove} features)`
        : e.mode === "viewport"
          ? "fetched by viewport (bbox), page by page"
          : "fetched whole, page by page";
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
