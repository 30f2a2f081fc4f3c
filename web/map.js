// territorio's web map: how a MapLibre page consumes territorio's API.
//
// 1. GET config.json (this server's settings: API root, the layers playing each role),
//    GET /collections (the layers, their systems, counts and links) and
//    GET /styles/map.json (one MapLibre style for the whole catalogue).
// 2. The style's GeoJSON sources start empty; each layer's data comes from
//    /collections/{id}/items page by page (rel=next links): whole for small layers, by viewport
//    (bbox) for large ones, with a CQL2 filter for the projects. The largest layers (more than
//    TILES_ABOVE features) are drawn from /collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}
//    instead (Mapbox Vector Tiles, the filter in the tile URL); a listed one (the projects)
//    reads its ids and properties, without geometry, for its list.
// 3. A click on a project: GET /projects/{id}/report (and ?f=geojson for the related
//    features); a click elsewhere: GET /analysis/locate and /analysis/nearest; a drawn site:
//    POST /analysis/report and /analysis/overlay; the indicators tab: GET /indicators and
//    GET /indicators/monitoring/series (progress.js).
// 4. When the server takes edits (/conformance lists Part 4), a project's panel shows its
//    monitoring values, an editor for a signed-in account the server lets PATCH it, and its
//    history (editing.js); the account lives in this page's memory only (session.js).
// Every failure is shown with the server's problem detail (messages.js).
//
// URL parameters: layers=a,b (layers shown at start), large=N (layers with more features
// are fetched by viewport; default 5000), page=N (page size; default 1000), max=N (the most
// features fetched for one view; default 20000), tiles=N (layers with more features are
// drawn from vector tiles; default TILES_ABOVE, 20000).
import * as maplibregl from "./vendor/maplibre-gl/maplibre-gl.mjs";
import { ApiProblem, getJSON, postJSON, withParams } from "./api.js";
import { showError } from "./messages.js";
import { Layers, TILES_ABOVE, useTiles } from "./layers.js";
import { Projects } from "./projects.js";
import { DrawTool } from "./draw.js";
import { Indicators } from "./indicators.js";
import { ProgressChart } from "./progress.js";
import { ProjectMonitor } from "./editing.js";
import { AccountControl, Session } from "./session.js";
import { el, locatePanel, projectReport, RELATION_COLOURS, sitePanel } from "./details.js";
import { bounds, formatDistance, nearestPair, nearestPoint } from "./geometry.js";

const params = new URLSearchParams(location.search);
const positive = (name, fallback) => {
  const v = Number(params.get(name));
  return params.has(name) && Number.isFinite(v) && v >= 0 ? v : fallback;
};
const OPTIONS = {
  large: positive("large", 5000),
  pageSize: Math.max(1, positive("page", 1000)),
  maxViewportFeatures: Math.max(1, positive("max", 20000)),
  tilesAbove: positive("tiles", TILES_ABOVE),
};
/** The layers shown at start, by the part they play in the catalogue: the four systems and the projects. */
const DEFAULT_ROLES = ["municipalities", "agricultural_land", "parks", "urban_areas", "productive_areas", "roads", "projects"];
const EMPTY = { type: "FeatureCollection", features: [] };
/** The conformance classes of OGC API - Features Part 4 (edits). */
const EDIT_CLASSES = [
  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
];

/** What the page exposes for people (and tests) poking at it from the console. */
const territorio = { ready: false, maplibregl };
window.territorio = territorio;

function showDetails(...content) {
  const panel = document.getElementById("details");
  document.getElementById("details-body").replaceChildren(...content);
  panel.hidden = false;
  if (territorio.map) territorio.map.resize();
}

function addOverlayLayers(map, productiveLayer) {
  const byRelation = ["match", ["get", "_relation"]];
  for (const [k, v] of Object.entries(RELATION_COLOURS)) byRelation.push(k, v);
  byRelation.push("#e74c3c");
  map.addSource("highlight", { type: "geojson", data: EMPTY });
  map.addSource("connector", { type: "geojson", data: EMPTY });
  // Areas the answer is about are filled; the large ones merely touched (a municipality, a
  // fluvial belt) only outlined, so the map underneath stays readable.
  const opacity = [
    "case",
    ["in", ["get", "_relation"], ["literal", ["project", "site", "overlap", "nearest"]]], 0.3,
    ["==", ["get", "_layer"], productiveLayer || ""], 0.3,
    0.04,
  ];
  map.addLayer({ id: "highlight-fill", type: "fill", source: "highlight", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": byRelation, "fill-opacity": opacity } });
  map.addLayer({ id: "highlight-line", type: "line", source: "highlight", filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": byRelation, "line-width": 3 } });
  map.addLayer({ id: "highlight-point", type: "circle", source: "highlight", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 10, "circle-opacity": 0, "circle-stroke-color": byRelation, "circle-stroke-width": 3 } });
  map.addLayer({ id: "connector-line", type: "line", source: "connector", paint: { "line-color": "#2c3e50", "line-width": 2.5, "line-dasharray": [2, 1.5] } });
}

/** An ApiProblem from MapLibre's failed fetch (status, URL, and the body: a problem document). */
async function tileProblem(error) {
  let problem = null;
  try {
    problem = JSON.parse(await error.body.text());
  } catch {
    // Not a problem document: the status line is all there is.
  }
  const title = (problem && problem.title) || error.statusText || `HTTP ${error.status}`;
  return new ApiProblem(error.status, title, (problem && problem.detail) || "", error.url, { problem });
}

async function main() {
  const config = await getJSON("config.json");
  const api = config.api;
  const [collections, style, conformance] = await Promise.all([
    getJSON(`${api}/collections`),
    getJSON(`${api}/styles/map.json`),
    getJSON(`${api}/conformance`),
  ]);
  const edits = EDIT_CLASSES.some((c) => (conformance.conformsTo || []).includes(c));
  // The layers the style draws: a collection without style layers (an editable layer's change
  // log, say) has nothing to show on the map, so it is not offered in the layer list.
  const drawn = new Set(style.layers.map((l) => l.source).filter(Boolean));
  const list = collections.collections.filter((c) => drawn.has(c.id));
  const titles = new Map(list.map((c) => [c.id, c.title]));
  const roles = config.roles;

  // The largest layers are drawn from vector tiles; the page fetches every other layer's data
  // itself (paged, by viewport, filtered): their GeoJSON sources start empty.
  const tiled = useTiles(style, list, api, OPTIONS.tilesAbove);
  for (const source of Object.values(style.sources)) {
    if (source.type === "geojson") source.data = EMPTY;
  }
  const wanted = params.has("layers")
    ? new Set(params.get("layers").split(",").filter(Boolean))
    : new Set(DEFAULT_ROLES.map((r) => roles[r]).filter(Boolean));
  for (const l of style.layers) {
    if (l.source && titles.has(l.source) && !wanted.has(l.source)) {
      l.layout = { ...(l.layout || {}), visibility: "none" };
    }
  }
  const b = style.metadata && style.metadata["territorio:bounds"];
  const map = new maplibregl.Map({
    container: "map",
    style,
    bounds: b || undefined,
    fitBoundsOptions: { padding: 24 },
    dragRotate: false,
    pitchWithRotate: false,
    maxZoom: 19,
    attributionControl: { compact: true },
  });
  territorio.map = map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.on("error", (e) => {
    const error = e.error || e;
    const what = e.sourceId && titles.has(e.sourceId) ? `Loading the tiles of ${titles.get(e.sourceId)}` : "The map";
    // A tile the server refused: shown with the server's problem detail, like any request.
    if (error && error.status && error.url) tileProblem(error).then((p) => showError(p, what));
    else showError(error, what);
  });
  await map.once("load");
  addOverlayLayers(map, roles.productive_areas);

  const layers = new Layers(map, {
    api,
    collections: list,
    styleLayers: style.layers,
    visible: wanted,
    tiled,
    listed: new Set([roles.projects].filter(Boolean)),
    ...OPTIONS,
  });
  territorio.layers = layers;
  layers.renderPanel(document.getElementById("layer-panel"));
  for (const id of wanted) layers.ensure(id);

  // Markers draw text without a glyph server.
  let markers = [];
  const clearOverlays = () => {
    map.getSource("highlight").setData(EMPTY);
    map.getSource("connector").setData(EMPTY);
    for (const m of markers) m.remove();
    markers = [];
  };
  const label = (lngLat, text) => {
    const m = new maplibregl.Marker({ element: el("div", { className: "distance-label" }, text) }).setLngLat(lngLat).addTo(map);
    markers.push(m);
  };
  const highlight = (features) => map.getSource("highlight").setData({ type: "FeatureCollection", features });
  const connect = (pair, text) => {
    if (!pair) return;
    map.getSource("connector").setData({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: pair } });
    label([(pair[0][0] + pair[1][0]) / 2, (pair[0][1] + pair[1][1]) / 2], text);
  };
  let ticket = 0; // only the latest click's answer is shown

  // The monitoring unit's edits: an account kept in memory, the editor in a project's panel.
  const session = new Session({ api, collection: roles.projects });
  territorio.session = session;
  if (edits && roles.projects) {
    new AccountControl({ session, root: document.getElementById("account"), layerTitle: titles.get(roles.projects) || roles.projects });
  }
  const monitor = new ProjectMonitor({
    api,
    collection: roles.projects,
    session,
    edits,
    fields: config.project_fields,
    onSaved: () => {
      layers.reload(roles.projects);
      progress.stale = true;
      if (!document.getElementById("tab-indicators").hidden) {
        progress.open().catch((e) => showError(e, "Loading the monitoring series"));
      }
    },
  });
  territorio.monitor = monitor;

  async function openProject(id) {
    const mine = ++ticket;
    draw.clear();
    const url = `${api}/projects/${encodeURIComponent(id)}/report`;
    showDetails(el("p", { className: "muted" }, `Loading the site report of ${id}…`));
    try {
      const [report, related] = await Promise.all([getJSON(url), getJSON(withParams(url, { f: "geojson" }))]);
      if (mine !== ticket) return;
      clearOverlays();
      const article = projectReport(report, { reportUrl: url });
      // The monitoring (values, editor, history) right under the project's title.
      if (roles.projects) article.insertBefore(monitor.section(id), article.children[2] || null);
      showDetails(article);
      const features = related.features || [];
      highlight(features);
      const project = features.find((f) => f.properties._relation === "project");
      const near = report.settlement && report.settlement.nearest_productive_area;
      const focus = features.filter((f) => f.properties._relation === "project" || (f.properties._layer === roles.productive_areas && f.properties._relation !== "nearest"));
      if (near && project) {
        const target = features.find((f) => f.properties._layer === near.layer && String(f.id) === String(near.id));
        if (target) {
          focus.push(target);
          if (near.distance_m > 0) connect(nearestPair(project.geometry, target.geometry), formatDistance(near.distance_m));
        }
      }
      const box = bounds(focus.map((f) => f.geometry));
      if (box) map.fitBounds(box, { padding: 90, maxZoom: 15, duration: 600 });
    } catch (e) {
      if (mine !== ticket) return;
      showDetails(el("p", { className: "muted" }, `The site report of ${id} could not be loaded.`));
      showError(e, `The site report of ${id}`);
    }
  }

  async function locate(lngLat) {
    const mine = ++ticket;
    draw.clear();
    clearOverlays();
    const point = `${lngLat.lng.toFixed(6)},${lngLat.lat.toFixed(6)}`;
    const at = { lng: Number(lngLat.lng.toFixed(6)), lat: Number(lngLat.lat.toFixed(6)) };
    markers.push(new maplibregl.Marker({ element: el("div", { className: "click-marker" }) }).setLngLat(at).addTo(map));
    showDetails(el("p", { className: "muted" }, "Looking up what is here…"));
    try {
      const productive = roles.productive_areas;
      const [located, nearest] = await Promise.all([
        getJSON(withParams(`${api}/analysis/locate`, { point })),
        productive ? getJSON(withParams(`${api}/analysis/nearest`, { layer: productive, k: 1, point })) : null,
      ]);
      if (mine !== ticket) return;
      showDetails(locatePanel(located, nearest, at, titles));
      const here = (located.features || []).map((f) => ({ ...f, properties: { ...f.properties, _relation: "here" } }));
      const n = nearest && nearest.features && nearest.features[0];
      const shown = n ? [...here, { ...n, properties: { ...n.properties, _relation: "nearest" } }] : here;
      highlight(shown);
      if (n && n.properties.distance_m > 0) {
        const p = [at.lng, at.lat];
        connect([p, nearestPoint(p, n.geometry)], formatDistance(n.properties.distance_m));
      }
    } catch (e) {
      if (mine !== ticket) return;
      showDetails(el("p", { className: "muted" }, "What is here could not be looked up."));
      showError(e, "What is here");
    }
  }

  async function analyseSite(polygon) {
    const mine = ++ticket;
    territorio.site = polygon;
    clearOverlays();
    showDetails(el("p", { className: "muted" }, "Analysing the site…"));
    try {
      const productive = roles.productive_areas;
      const [report, overlay] = await Promise.all([
        postJSON(`${api}/analysis/report`, polygon),
        productive
          ? postJSON(withParams(`${api}/analysis/overlay`, { layer: productive, group_by: config.productive_fields.kind }), polygon)
          : null,
      ]);
      if (mine !== ticket) return;
      showDetails(sitePanel(report, overlay, polygon));
      highlight(((overlay && overlay.features) || []).map((f) => ({ ...f, properties: { ...f.properties, _relation: "overlap" } })));
    } catch (e) {
      if (mine !== ticket) return;
      showDetails(el("p", { className: "muted" }, "The site could not be analysed."));
      showError(e, "Analysing the drawn site");
    }
  }

  const draw = new DrawTool(map, {
    onStart: () => {
      ticket++;
      clearOverlays();
      document.getElementById("details").hidden = true;
    },
    onFinish: analyseSite,
  });
  document.getElementById("details-close").addEventListener("click", () => {
    ticket++;
    clearOverlays();
    draw.clear();
    document.getElementById("details").hidden = true;
    map.resize();
  });

  const projects = new Projects({
    map,
    layers,
    api,
    config,
    container: document.getElementById("project-panel"),
    onOpen: (id) => {
      if (!layers.get(roles.projects).visible) layers.setVisible(roles.projects, true);
      openProject(id);
    },
  });
  territorio.projects = projects;

  // The indicators' choropleth covers the areas of every layer, under lines and points.
  const firstAboveAreas = map.getStyle().layers.find((l) => !["background", "raster", "fill"].includes(l.type));
  const indicators = new Indicators({
    map,
    api,
    container: document.getElementById("indicator-panel"),
    beforeId: firstAboveAreas ? firstAboveAreas.id : undefined,
  });
  territorio.indicators = indicators;
  const progress = new ProgressChart({
    api,
    container: document.getElementById("progress-panel"),
    labelFor: (group, key) => {
      const axis = projects.axisLabels && projects.axisLabels.get(Number(key));
      return group === "axis" && axis ? `${key} · ${axis}` : key;
    },
  });
  territorio.progress = progress;

  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.addEventListener("click", async () => {
      for (const t of document.querySelectorAll("[data-tab]")) {
        const on = t === tab;
        t.setAttribute("aria-selected", String(on));
        document.getElementById(`tab-${t.dataset.tab}`).hidden = !on;
      }
      if (tab.dataset.tab === "indicators") {
        try {
          await indicators.open();
        } catch (e) {
          document.getElementById("indicator-panel").replaceChildren(el("p", { className: "muted" }, "The indicators could not be loaded."));
          showError(e, "Loading the indicators");
        }
        progress.open().catch((e) => showError(e, "Loading the monitoring series"));
      } else {
        indicators.close();
      }
    });
  }

  const projectStyleLayers = () => (layers.get(roles.projects) && layers.get(roles.projects).visible ? layers.styleLayerIds(roles.projects) : []);
  map.on("click", (e) => {
    if (draw.active) return;
    if (indicators.popupAt(e, maplibregl)) return;
    const ids = projectStyleLayers();
    const box = [[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]];
    const hit = ids.length ? map.queryRenderedFeatures(box, { layers: ids })[0] : null;
    if (hit) openProject(String(layers.featureId(roles.projects, hit)));
    else locate(e.lngLat);
  });
  for (const id of layers.styleLayerIds(roles.projects)) {
    map.on("mouseenter", id, () => { if (!draw.active) map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  }

  try {
    await projects.init();
  } catch (e) {
    document.getElementById("project-panel").replaceChildren(el("p", { className: "muted" }, "The project filters could not be loaded."));
    showError(e, "Loading the project filters");
  }
  territorio.openProject = openProject;
  territorio.locate = locate;
  await layers.settled();
  if (!map.loaded()) await map.once("idle");
  territorio.ready = true;
  document.body.dataset.ready = "true";
}

main().catch((e) => showError(e, "Starting the map"));
