// The generated catalogue of tiles.test.mjs (and of tile-sizes.mjs): 25,000 projects on a
// grid of points, above the web map's vector-tile threshold (20,000), 2,500 square productive
// areas below it, and one municipality around them all, as GeoJSON files in a folder.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The projects grid: COLS x ROWS points, STEP_LON x STEP_LAT degrees apart. */
export const COLS = 250;
export const ROWS = 100;
export const LON0 = 9.9;
export const LAT0 = 45.05;
export const STEP_LON = 0.0012;
export const STEP_LAT = 0.0015;
/** Productive areas: AREA_COLS x AREA_ROWS squares of AREA_LON x AREA_LAT degrees. */
export const AREA_COLS = 50;
export const AREA_ROWS = 50;
export const AREA_LON = 0.006;
export const AREA_LAT = 0.003;
export const TOWN = "Comune di prova";
export const STATUSES = ["design", "in_progress", "completed"];

/**
 * The project at column i, row j: half a step inside its cell, so that no point lies on the
 * border of a productive area (AREA_LON is 5 steps, AREA_LAT 2).
 */
export function project(i, j) {
  const n = j * COLS + i;
  return {
    id: `T${String(n).padStart(5, "0")}`,
    lonlat: [LON0 + (i + 0.5) * STEP_LON, LAT0 + (j + 0.5) * STEP_LAT],
    axis: 1 + (n % 3),
    status: STATUSES[(i + j) % 3],
    title: `Cantiere ${n}`,
  };
}

/** The productive area (id, name) holding a position of the grid. */
export function areaAt([lon, lat]) {
  const k = Math.floor((lon - LON0) / AREA_LON);
  const m = Math.floor((lat - LAT0) / AREA_LAT);
  const id = 1 + m * AREA_COLS + k;
  return { id, name: `Zona ${id}` };
}

export const PROJECTS = [];
for (let j = 0; j < ROWS; j++) for (let i = 0; i < COLS; i++) PROJECTS.push(project(i, j));

/** Writes the layers, their styles and catalog.toml into `folder`; returns the catalogue path. */
export function writeCatalogue(folder) {
  mkdirSync(join(folder, "styles"));
  const fc = (features) => JSON.stringify({ type: "FeatureCollection", features });
  writeFileSync(join(folder, "cantieri.geojson"), fc(PROJECTS.map((p) => ({
    type: "Feature",
    properties: { code: p.id, title: p.title, axis: p.axis, status: p.status },
    geometry: { type: "Point", coordinates: p.lonlat },
  }))));
  const areas = [];
  for (let m = 0; m < AREA_ROWS; m++) {
    for (let k = 0; k < AREA_COLS; k++) {
      const id = 1 + m * AREA_COLS + k;
      const [x0, y0] = [LON0 + k * AREA_LON, LAT0 + m * AREA_LAT];
      const [x1, y1] = [x0 + AREA_LON, y0 + AREA_LAT];
      areas.push({
        type: "Feature",
        properties: { code: id, name: `Zona ${id}`, kind: id % 2 ? "industrial" : "commercial", sovracomunale: id % 7 === 0 },
        geometry: { type: "Polygon", coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] },
      });
    }
  }
  writeFileSync(join(folder, "zone.geojson"), fc(areas));
  writeFileSync(join(folder, "comuni.geojson"), fc([{
    type: "Feature",
    properties: { code: "C1", name: TOWN },
    geometry: { type: "Polygon", coordinates: [[[9.85, 45.0], [10.25, 45.0], [10.25, 45.25], [9.85, 45.25], [9.85, 45.0]]] },
  }]));
  const style = (id, layer) => writeFileSync(join(folder, "styles", `${id}.json`), JSON.stringify([{ id, ...layer }]));
  style("cantieri", { type: "circle", paint: { "circle-radius": 4, "circle-color": ["match", ["get", "axis"], 1, "#c0392b", 2, "#2471a3", "#7f8c8d"] } });
  style("zone", { type: "fill", paint: { "fill-color": "#e67e22", "fill-opacity": 0.3 } });
  style("comuni", { type: "line", paint: { "line-color": "#555555", "line-width": 1 } });
  const layer = (id, title, system, extra = "") =>
    `[[layer]]\nid = "${id}"\ntitle = "${title}"\ndescription = "${title} (generated grid)"\nsystem = "${system}"\nsource = "${id}.geojson"\nid_field = "code"\nstyle = "${id}"\n${extra}`;
  const catalogue = [
    'working_crs = "EPSG:32632"\nstyles_dir = "styles"\n',
    layer("comuni", "Comuni", "settlement"),
    layer("zone", "Aree produttive", "settlement"),
    // Editable, as the monitoring unit's projects are (with --data-dir and --accounts).
    layer("cantieri", "Cantieri", "projects", "[layer.edit]\n"),
    '[roles]\nprojects = "cantieri"\nproductive_areas = "zone"\nmunicipalities = "comuni"\n',
  ].join("\n");
  const path = join(folder, "catalog.toml");
  writeFileSync(path, catalogue);
  return path;
}
