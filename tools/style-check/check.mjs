// Validates every MapLibre style-layer file of the demo (examples/cremona/styles/, or the folder given) with MapLibre's own style-spec validator:
// each file (an array of style layers for one catalogue layer) is put in a complete style with a
// GeoJSON source of the same name, as territorio's map and other front ends will use it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validateStyleMin } from "@maplibre/maplibre-gl-style-spec";

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = process.argv[2] ?? join(here, "../../examples/cremona/styles");
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
let failures = 0;
for (const file of files) {
  const id = file.replace(/\.json$/, "");
  let layers;
  try {
    layers = JSON.parse(readFileSync(join(dir, file), "utf8"));
  } catch (e) {
    console.error(`${file}: not JSON: ${e.message}`);
    failures++;
    continue;
  }
  if (!Array.isArray(layers) || layers.length === 0) {
    console.error(`${file}: expected a non-empty array of style layers`);
    failures++;
    continue;
  }
  const style = {
    version: 8,
    sources: { [id]: { type: "geojson", data: { type: "FeatureCollection", features: [] } } },
    layers,
  };
  const errors = validateStyleMin(style);
  for (const e of errors) {
    console.error(`${file}: ${e.message}`);
  }
  if (errors.length > 0) failures++;
  if (!layers.every((l) => l.source === id)) {
    console.error(`${file}: every style layer must use the source "${id}"`);
    failures++;
  }
}
console.log(`${files.length} style files checked, ${failures} with errors`);
process.exit(failures > 0 ? 1 : 0);
