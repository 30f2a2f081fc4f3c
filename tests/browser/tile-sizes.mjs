// What the web map would fetch for the generated 25,000-point projects layer of grid.mjs:
// every page of its GeoJSON items (limit=10000), against the vector tiles covering the whole
// grid at zooms 10, 12 and 14. A measurement, not a test:
//   node tests/browser/tile-sizes.mjs   (target/debug/territorio, or TERRITORIO_BIN)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COLS, LAT0, LON0, ROWS, STEP_LAT, STEP_LON, writeCatalogue } from "./grid.mjs";
import { startServer } from "./harness.mjs";

/** The WebMercatorQuad column and row holding a CRS84 position (the slippy-map formula). */
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
}

const dir = mkdtempSync(join(tmpdir(), "territorio-tile-sizes-"));
const server = await startServer([], { catalog: writeCatalogue(dir) });
try {
  let bytes = 0;
  let pages = 0;
  let next = `${server.base}/collections/cantieri/items?limit=10000`;
  while (next) {
    const text = await (await fetch(next)).text();
    bytes += Buffer.byteLength(text);
    pages += 1;
    const link = JSON.parse(text).links.find((l) => l.rel === "next");
    next = link ? link.href : null;
  }
  console.log(`GeoJSON items (limit=10000): ${pages} pages, ${bytes} bytes`);
  for (const z of [10, 12, 14]) {
    const [x0, y0] = tileOf(LON0, LAT0 + ROWS * STEP_LAT, z);
    const [x1, y1] = tileOf(LON0 + COLS * STEP_LON, LAT0, z);
    let total = 0;
    let count = 0;
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const r = await fetch(`${server.base}/collections/cantieri/tiles/WebMercatorQuad/${z}/${y}/${x}`);
        total += (await r.arrayBuffer()).byteLength;
        count += 1;
      }
    }
    console.log(`zoom ${z}: ${count} tiles cover the grid, ${total} bytes (${Math.round(total / count)} a tile)`);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
