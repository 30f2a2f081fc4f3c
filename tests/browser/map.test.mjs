// Browser tests of the web map: Debian's Chromium driven by playwright-core against a real
// territorio (target/debug/territorio serve on a free port, the demo catalogue).
//
// Expected values never come from the endpoint under test: the municipality of a project, its
// productive-area verdict, distances and overlap areas are computed here (geo.mjs) from the
// feature geometries the OGC API items endpoint gives in the working CRS (EPSG:32632).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateStyleMin } from "@maplibre/maplibre-gl-style-spec";
import * as geo from "./geo.mjs";
import * as harness from "./harness.mjs";
import { idle, ROOT } from "./harness.mjs";

const UTM = "http://www.opengis.net/def/crs/EPSG/0/32632";

let server;
let base;
let browser;
const cache = new Map();

before(async () => {
  server = await harness.startServer();
  base = server.base;
  browser = await harness.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

function json(path) {
  return harness.json(base, path);
}

/** Every feature of a layer, page by page, optionally in EPSG:32632. */
async function features(id, { utm = false } = {}) {
  const key = `${id}:${utm}`;
  if (!cache.has(key)) {
    const all = [];
    let next = `${base}/collections/${id}/items?limit=1000${utm ? `&crs=${encodeURIComponent(UTM)}` : ""}`;
    while (next) {
      const page = await json(next);
      all.push(...page.features);
      const link = page.links.find((l) => l.rel === "next");
      next = link ? link.href : null;
    }
    cache.set(key, all);
  }
  return cache.get(key);
}

/** Opens the map (through the /map redirect) and waits until its first data is drawn. */
function openMap(query = "") {
  return harness.openMap(browser, base, query);
}

async function renderedCount(page, id) {
  return page.evaluate((layer) => {
    const t = window.territorio;
    return t.map.queryRenderedFeatures({ layers: t.layers.styleLayerIds(layer) }).length;
  }, id);
}

/** Moves the view, waits for it, and returns the page pixel of a CRS84 position. */
async function showAndLocate(page, lonlat, zoom) {
  await page.evaluate(([c, z]) => window.territorio.map.jumpTo({ center: c, zoom: z }), [lonlat, zoom]);
  await idle(page);
  return pixelOf(page, lonlat);
}

async function pixelOf(page, lonlat) {
  const p = await page.evaluate((c) => {
    const q = window.territorio.map.project(c);
    return [q.x, q.y];
  }, lonlat);
  const box = await page.locator("#map").boundingBox();
  return [box.x + p[0], box.y + p[1]];
}

/** "1.23 km" or "644 m" in metres, with half the last shown digit as its precision. */
function shownDistance(text) {
  const m = text.match(/([\d.,]+)\s*(km|m)\b/);
  assert.ok(m, `no distance in ${JSON.stringify(text)}`);
  const v = Number(m[1].replaceAll(",", ""));
  return m[2] === "km" ? { metres: v * 1000, precision: 5 } : { metres: v, precision: 0.5 };
}

/** "12,345 m² (1.23 ha)" in square metres. */
function shownArea(text) {
  const m = text.match(/([\d,]+)\s*m²/);
  assert.ok(m, `no area in ${JSON.stringify(text)}`);
  return Number(m[1].replaceAll(",", ""));
}

function screenshotPath(name) {
  mkdirSync(join(ROOT, "target"), { recursive: true });
  return join(ROOT, "target", name);
}

/** Point projects with their municipality, containing productive areas and nearest distance. */
async function pointProjects() {
  const [projects, projectsUtm, municipalities, productive] = await Promise.all([
    features("projects"),
    features("projects", { utm: true }),
    features("municipalities", { utm: true }),
    features("productive_areas", { utm: true }),
  ]);
  const byId = new Map(projects.map((f) => [f.id, f]));

  return projectsUtm
    .filter((f) => f.geometry.type === "Point")
    .map((f) => {
      const p = f.geometry.coordinates;
      const distances = productive.map((a) => ({ area: a, d: geo.distanceToPolygon(a.geometry, p) }));
      distances.sort((x, y) => x.d - y.d);
      const neighbour = Math.min(...projectsUtm.filter((o) => o.id !== f.id).map((o) => geo.distanceToGeometry(o.geometry, p)));
      return {
        id: f.id,
        lonlat: byId.get(f.id).geometry.coordinates,
        utm: p,
        municipalities: municipalities.filter((m) => geo.contains(m.geometry, p)).map((m) => m.properties.name),
        inside: distances.filter((x) => x.d === 0).map((x) => x.area),
        nearest: distances[0],
        neighbour,
      };
    })
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

test("the map loads with no console errors and no failed requests, and lists every layer by system", async () => {
  const { page, context, problems } = await openMap();
  try {
    assert.equal(new URL(page.url()).pathname, "/map/", "/map redirects to /map/");
    const collections = (await json("/collections")).collections;
    const listed = await page.$$eval(".layer[data-layer]", (els) => els.map((e) => [e.dataset.layer, e.closest(".system").dataset.system]));
    assert.deepEqual(
      listed.map(([id]) => id).sort(),
      collections.map((c) => c.id).sort(),
      "the panel lists every catalogue layer once",
    );
    for (const [id, system] of listed) {
      assert.equal(system, collections.find((c) => c.id === id).system, `${id} is under its system`);
    }
    const groups = await page.$$eval(".system", (els) => els.map((e) => e.dataset.system));
    for (const s of ["infrastructure", "environmental", "settlement", "rural", "projects"]) assert.ok(groups.includes(s), s);
    // The four systems and the projects are drawn at start.
    for (const id of ["roads", "parks", "productive_areas", "agricultural_areas", "projects", "municipalities"]) {
      assert.ok((await renderedCount(page, id)) > 0, `${id} is drawn`);
    }
    // A legend generated from the layer's style: one entry per category of the style file.
    const style = JSON.parse(readFileSync(join(ROOT, "examples", "cremona", "styles", "productive_areas.json"), "utf8"));
    const expr = style[0].paint["fill-color"];
    const categories = expr.slice(2, -1).filter((_, i) => i % 2 === 0);
    const legend = await page.$$eval('.layer[data-layer="productive_areas"] .legend li', (els) => els.map((e) => e.textContent.trim()));
    assert.deepEqual(legend, [...categories, "other"]);
    assert.deepEqual(problems, []);
    await page.screenshot({ path: screenshotPath("web-map-overview.png") });
  } finally {
    await context.close();
  }
});

test("the styles served validate with MapLibre's style-spec validator", async () => {
  const doc = await json("/styles/map.json");
  assert.deepEqual(validateStyleMin(doc).map((e) => e.message), []);
  const collections = (await json("/collections")).collections;
  for (const c of collections) {
    const source = doc.sources[c.id];
    assert.ok(source, `map.json has a source for ${c.id}`);
    const data = await json(source.data);
    assert.equal(data.numberMatched, c.itemCount, `${c.id}: the source URL serves the layer`);
    const sheet = c.links.find((l) => l.rel === "stylesheet" && l.type === "application/vnd.maplibre.style-layers+json");
    const layers = await json(sheet.href);
    const single = { version: 8, sources: { [c.id]: { type: "geojson", data: { type: "FeatureCollection", features: [] } } }, layers };
    assert.deepEqual(validateStyleMin(single).map((e) => e.message), [], c.id);
    for (const l of layers) assert.ok(doc.layers.some((d) => d.id === l.id), `map.json draws ${l.id}`);
  }
});

test("toggling a layer changes what is drawn", async () => {
  const { page, context, problems } = await openMap();
  try {
    assert.ok((await renderedCount(page, "productive_areas")) > 0);
    await page.click('input[data-layer-toggle="productive_areas"]');
    await idle(page);
    assert.equal(await renderedCount(page, "productive_areas"), 0, "unchecked: not drawn");
    await page.click('input[data-layer-toggle="productive_areas"]');
    await idle(page);
    assert.ok((await renderedCount(page, "productive_areas")) > 0, "checked again: drawn");
    // A layer off at start: nothing of it until checked, then its features (fetched then).
    assert.equal(await renderedCount(page, "natura2000"), 0);
    await page.click('input[data-layer-toggle="natura2000"]');
    await idle(page);
    assert.ok((await renderedCount(page, "natura2000")) > 0, "natura2000 drawn once checked");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("clicking a project opens its report with its municipality and productive-area verdict", async () => {
  const candidates = (await pointProjects()).filter((p) => p.neighbour > 150 && p.municipalities.length === 1);
  const inside = candidates.find((p) => p.inside.length === 1);
  const outside = candidates.find((p) => p.inside.length === 0 && p.nearest.d > 50);
  assert.ok(inside && outside, "the demo has point projects inside and outside productive areas");
  const { page, context, problems } = await openMap();
  try {
    for (const p of [inside, outside]) {
      const [x, y] = await showAndLocate(page, p.lonlat, 15);
      await page.mouse.click(x, y);
      const report = page.locator(`article.report[data-report="${p.id}"]`);
      await report.waitFor({ timeout: 15000 });
      assert.equal(await report.locator(".municipality").getAttribute("data-municipalities"), p.municipalities[0]);
      assert.match(await report.locator(".municipality").textContent(), new RegExp(`In ${p.municipalities[0]}`));
      const verdict = report.locator(".verdict").first();
      const text = await verdict.textContent();
      if (p === inside) {
        const area = p.inside[0];
        assert.equal(await verdict.getAttribute("data-verdict"), "inside", text);
        assert.ok(text.includes(area.properties.name) && text.includes(area.id), text);
      } else {
        const area = p.nearest.area;
        assert.equal(await verdict.getAttribute("data-verdict"), "outside", text);
        assert.ok(text.includes(area.properties.name) && text.includes(area.id), text);
        const shown = shownDistance(await verdict.locator(".distance").textContent());
        assert.ok(Math.abs(shown.metres - p.nearest.d) <= shown.precision, `${text} vs ${p.nearest.d} m`);
        // The answer is drawn: a line to the nearest productive area.
        await idle(page);
        assert.ok(
          (await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["connector-line"] }).length)) > 0,
          "a connector is drawn to the nearest productive area",
        );
      }
      assert.ok((await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["highlight-point"] }).length)) > 0, "the project is highlighted");
    }
    await page.screenshot({ path: screenshotPath("web-map.png") });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("clicking anywhere shows what is here and the nearest productive area, drawn", async () => {
  const [municipalities, municipalitiesUtm, productive, projectsUtm] = await Promise.all([
    features("municipalities"),
    features("municipalities", { utm: true }),
    features("productive_areas", { utm: true }),
    features("projects", { utm: true }),
  ]);
  // The mean of a municipality's vertices, far from projects and outside productive areas.
  const spot = municipalities
    .map((m, i) => {
      const ring = geo.polygons(m.geometry)[0][0];
      const lonlat = [ring.reduce((s, c) => s + c[0], 0) / ring.length, ring.reduce((s, c) => s + c[1], 0) / ring.length];
      return { m, utmGeometry: municipalitiesUtm[i].geometry, lonlat };
    })
    .find(({ lonlat }) => {
      const p = geo.utm32(lonlat);
      return (
        productive.every((a) => geo.distanceToPolygon(a.geometry, p) > 200) &&
        projectsUtm.every((f) => geo.distanceToGeometry(f.geometry, p) > 400)
      );
    });
  assert.ok(spot, "a quiet spot exists");
  const { page, context, problems } = await openMap();
  try {
    const [x, y] = await showAndLocate(page, spot.lonlat, 13);
    await page.mouse.click(x, y);
    const panel = page.locator("article.locate");
    await panel.waitFor({ timeout: 15000 });
    // Expected values from the point actually clicked.
    const clicked = (await panel.getAttribute("data-locate")).split(",").map(Number);
    const p = geo.utm32(clicked);
    const here = municipalitiesUtm.filter((m) => geo.contains(m.geometry, p)).map((m) => m.properties.name);
    assert.equal(here.length, 1);
    assert.ok((await panel.locator('li[data-layer="municipalities"]').textContent()).includes(here[0]), `the municipality ${here[0]} is listed`);
    const nearest = productive.map((a) => ({ a, d: geo.distanceToPolygon(a.geometry, p) })).sort((u, v) => u.d - v.d)[0];
    const box = panel.locator(".verdict");
    assert.equal(await box.getAttribute("data-nearest"), String(nearest.a.id));
    assert.ok((await box.textContent()).includes(nearest.a.properties.name));
    const shown = shownDistance(await box.locator(".distance").textContent());
    assert.ok(Math.abs(shown.metres - nearest.d) <= shown.precision, `${shown.metres} vs ${nearest.d}`);
    await idle(page);
    assert.ok((await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["connector-line"] }).length)) > 0, "the distance is drawn");
    assert.equal((await page.locator(".distance-label").textContent()).trim(), (await box.locator(".distance").textContent()).trim());
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("drawing a polygon over a productive area shows its overlap area", async () => {
  const [areas, areasUtm] = await Promise.all([features("productive_areas"), features("productive_areas", { utm: true })]);
  // The projection used for the expected values agrees with the server's to the centimetre.
  areas.forEach((f, i) => {
    const a = geo.positions(f.geometry);
    const b = geo.positions(areasUtm[i].geometry);
    a.forEach((c, k) => {
      const [x, y] = geo.utm32(c);
      assert.ok(Math.hypot(x - b[k][0], y - b[k][1]) < 0.02, `${f.id}: ${x},${y} vs ${b[k]}`);
    });
  });
  const largest = areasUtm
    .map((f, i) => ({ f, crs84: areas[i], area: geo.polygons(f.geometry).reduce((s, r) => s + geo.polygonArea(r), 0) }))
    .sort((a, b) => b.area - a.area)[0];
  const pos = geo.positions(largest.crs84.geometry);
  const [w, s, e, n] = [Math.min(...pos.map((c) => c[0])), Math.min(...pos.map((c) => c[1])), Math.max(...pos.map((c) => c[0])), Math.max(...pos.map((c) => c[1]))];
  // A box over the western 55% of the area, sticking out north, south and west.
  const site = { w: w - 0.15 * (e - w), e: w + 0.55 * (e - w), s: s - 0.15 * (n - s), n: n + 0.15 * (n - s) };
  const { page, context, problems } = await openMap();
  try {
    await page.evaluate((b) => window.territorio.map.fitBounds([[b.w, b.s], [b.e, b.n]], { padding: 150, duration: 0 }), site);
    await idle(page);
    await page.click("#draw-site");
    for (const corner of [[site.w, site.s], [site.e, site.s], [site.e, site.n], [site.w, site.n]]) {
      const [x, y] = await pixelOf(page, corner);
      await page.mouse.click(x, y);
    }
    await page.click("#draw-finish");
    const panel = page.locator("article.site-report");
    await panel.waitFor({ timeout: 15000 });
    // Expected overlaps, by kind, from the polygon as drawn.
    const drawn = await page.evaluate(() => window.territorio.site);
    const ring = drawn.coordinates[0].map(geo.utm32);
    const expected = new Map();
    let tolerance = 0.5;
    for (const f of areasUtm) {
      for (const rings of geo.polygons(f.geometry)) {
        const a = geo.clippedArea(rings, ring);
        if (a <= 0) continue;
        expected.set(f.properties.kind, (expected.get(f.properties.kind) || 0) + a);
        // Coordinates come rounded to the millimetre: at most 1 mm of boundary shift.
        tolerance += 0.001 * geo.clippedPerimeter(rings, ring);
      }
    }
    assert.ok((expected.get(largest.f.properties.kind) || 0) > 1000, "the site overlaps the area");
    const rows = await panel.locator(".kind").evaluateAll((els) => els.map((e) => [e.dataset.kind, e.closest("tr").children[2].textContent]));
    assert.deepEqual(rows.map(([k]) => k).sort(), [...expected.keys()].sort(), "one row per kind overlapped");
    for (const [kind, shown] of rows) {
      const m2 = shownArea(shown);
      assert.ok(Math.abs(m2 - expected.get(kind)) <= tolerance, `${kind}: shown ${m2} m², expected ${expected.get(kind)} m² (±${tolerance})`);
    }
    const siteArea = Math.abs(geo.signedArea(ring));
    const shownSite = shownArea(await panel.locator(".site-area").textContent());
    assert.ok(Math.abs(shownSite - siteArea) <= 0.5 + 1e-6 * siteArea, `site ${shownSite} vs ${siteArea}`);
    await idle(page);
    assert.ok((await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["highlight-fill"] }).length)) > 0, "the overlap is drawn");
    await page.screenshot({ path: screenshotPath("web-map-site.png") });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("project filters go to the server as CQL2 and the map shows what it answers", async () => {
  const all = await features("projects");
  const { page, context, problems, requests } = await openMap();
  try {
    await page.click("#tab-button-projects");
    const axis = page.locator('fieldset[data-filter="axis"]');
    await axis.locator("button", { hasText: "none" }).click();
    await axis.locator('input[data-value="3"]').check();
    await idle(page);
    const expected = all.filter((f) => f.properties.axis === 3).map((f) => f.id).sort();
    const sent = requests
      .map((u) => new URL(u))
      .filter((u) => u.pathname === "/collections/projects/items" && u.searchParams.has("filter"));
    assert.ok(sent.length > 0, "a filtered request was sent");
    assert.equal(sent.at(-1).searchParams.get("filter"), "axis = 3");
    assert.equal(sent.at(-1).searchParams.get("filter-lang"), "cql2-text");
    assert.match(await page.locator("#project-count").textContent(), new RegExp(`^${expected.length} of ${all.length} projects`));
    const listed = await page.$$eval("#project-list [data-project]", (els) => els.map((e) => e.dataset.project).sort());
    assert.deepEqual(listed, expected);
    const drawn = await page.evaluate(() => {
      const t = window.territorio;
      return t.map.queryRenderedFeatures({ layers: t.layers.styleLayerIds("projects") }).map((f) => f.properties.axis);
    });
    assert.ok(drawn.length > 0 && drawn.every((a) => a === 3), `drawn axes ${[...new Set(drawn)]}`);
    // Two attributes: axis 3 and two statuses.
    const status = page.locator('fieldset[data-filter="status"]');
    await status.locator("button", { hasText: "none" }).click();
    await status.locator('input[value="in_progress"]').check();
    await status.locator('input[value="completed"]').check();
    await idle(page);
    const both = all.filter((f) => f.properties.axis === 3 && ["in_progress", "completed"].includes(f.properties.status)).map((f) => f.id).sort();
    const last = requests.map((u) => new URL(u)).filter((u) => u.pathname === "/collections/projects/items" && u.searchParams.has("filter")).at(-1);
    assert.equal(last.searchParams.get("filter"), "axis = 3 AND status IN ('in_progress', 'completed')");
    assert.deepEqual(await page.$$eval("#project-list [data-project]", (els) => els.map((e) => e.dataset.project).sort()), both);
    // Colour by status: the legend follows.
    await page.check('input[name="theme"][value="status"]');
    const legend = await page.$$eval('.layer[data-layer="projects"] .legend li', (els) => els.map((e) => e.textContent.trim()));
    for (const s of new Set(all.map((f) => f.properties.status))) assert.ok(legend.includes(s.replaceAll("_", " ")), `${s} in ${legend}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("large layers are fetched by viewport (bbox), page by page", async () => {
  // large=100: the 150 projects count as a large layer; page=40: pages of 40 features; max=80:
  // at most 80 features for one view, so the whole province is not all there.
  const { page, context, problems, requests } = await openMap("?large=100&page=40&max=80");
  try {
    const bboxRequests = () => requests.map((u) => new URL(u)).filter((u) => u.pathname === "/collections/projects/items" && u.searchParams.has("bbox"));
    const first = bboxRequests();
    assert.equal(first.length, 2, "two pages of 40 for the province");
    assert.ok(first.every((u) => u.searchParams.get("limit") === "40"));
    assert.match(await page.locator('.layer[data-layer="projects"] .note').textContent(), /Showing 80 of 150 features in view: zoom in/);
    const projects = await features("projects");
    const target = projects.find((f) => f.geometry.type === "Point");
    await page.evaluate((c) => window.territorio.map.jumpTo({ center: c, zoom: 13 }), target.geometry.coordinates);
    await page.waitForFunction(() => {
      const e = window.territorio.layers.get("projects");
      return e.loaded && !e.loading && e.loaded.bbox[2] - e.loaded.bbox[0] < 0.5;
    });
    await idle(page);
    const last = bboxRequests().at(-1);
    const bbox = last.searchParams.get("bbox").split(",").map(Number);
    assert.ok(bbox[2] - bbox[0] < 0.5, `a viewport-sized box: ${bbox}`);
    const loaded = await page.evaluate(() => window.territorio.layers.get("projects").features.map((f) => f.id));
    const inBox = ([x, y]) => x >= bbox[0] && x <= bbox[2] && y >= bbox[1] && y <= bbox[3];
    for (const f of projects) {
      const p = geo.positions(f.geometry);
      if (f.geometry.type === "Point") {
        assert.equal(loaded.includes(f.id), inBox(p[0]), `${f.id}: loaded exactly when inside the box`);
      } else if (loaded.includes(f.id)) {
        const xs = p.map((c) => c[0]);
        const ys = p.map((c) => c[1]);
        assert.ok(Math.min(...xs) <= bbox[2] && Math.max(...xs) >= bbox[0] && Math.min(...ys) <= bbox[3] && Math.max(...ys) >= bbox[1], `${f.id} near the box`);
      }
    }
    assert.ok(loaded.includes(target.id) && loaded.length < 80);
    assert.match(await page.locator('.layer[data-layer="projects"] .count').textContent(), new RegExp(`^${loaded.length} in view`));
    assert.ok(await page.locator('.layer[data-layer="projects"] .note').isHidden(), "complete: no note");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("the indicators view draws a choropleth with its classes and definition", async () => {
  const [municipalities, definitions] = await Promise.all([features("municipalities"), json("/indicators/definitions")]);
  const { page, context, problems } = await openMap();
  try {
    await page.click("#tab-button-indicators");
    await page.locator("#indicator-select").waitFor({ timeout: 15000 });
    await page.selectOption("#indicator-select", "services.residents");
    await idle(page);
    assert.ok((await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["indicators-fill"] }).length)) > 0);
    const classes = await page.$$eval('.classes[data-indicator="services.residents"] li[data-from]', (els) => els.map((e) => [Number(e.dataset.from), Number(e.dataset.to)]));
    const population = municipalities.map((m) => m.properties.population);
    assert.equal(classes[0][0], Math.min(...population), "the classes start at the smallest municipality");
    assert.equal(classes.at(-1)[1], Math.max(...population), "and end at the largest");
    const residents = definitions.find((d) => d.id === "services.residents");
    assert.equal((await page.locator("#indicator-legend .definition").textContent()).trim(), residents.definition);
    // The map reads which property carries an indicator from its definition.
    assert.equal(residents.property, "residents");
    assert.equal(await page.locator('.classes[data-indicator="services.residents"]').getAttribute("data-property"), residents.property);
    const options = await page.$$eval("#indicator-select option", (els) => els.map((e) => e.value));
    assert.deepEqual(options, definitions.filter((d) => d.property).map((d) => d.id), "one choice per indicator with a municipality property");
    // The progress chart beside the indicators asks for the monitoring series; a server without
    // them answers 404, which the panel says (edit.test.mjs checks the chart itself).
    const series = await fetch(`${base}/indicators/monitoring/series?f=json`);
    const expected = series.status === 404 ? [[404, "/indicators/monitoring/series"]] : [];
    if (expected.length) await page.locator("#progress-panel .no-series").waitFor({ timeout: 15000 });
    assert.deepEqual(harness.unexpected(problems, expected), []);
  } finally {
    await context.close();
  }
});

test("a failed request is shown with the server's problem message", async () => {
  const { page, context } = await openMap();
  try {
    // A self-crossing "bow tie" site is not a valid polygon.
    await page.evaluate(() => window.territorio.map.jumpTo({ center: [9.9, 45.2], zoom: 12 }));
    await idle(page);
    await page.click("#draw-site");
    const box = await page.locator("#map").boundingBox();
    for (const [dx, dy] of [[-150, -100], [150, 100], [150, -100], [-150, 100]]) {
      await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy);
    }
    await page.click("#draw-finish");
    const message = page.locator("#messages .message").first();
    await message.waitFor({ timeout: 15000 });
    const drawn = await page.evaluate(() => window.territorio.site);
    const answer = await fetch(`${base}/analysis/report`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(drawn) });
    assert.ok(answer.status === 400 || answer.status === 422, `refused with ${answer.status}`);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    const { detail } = await answer.json();
    assert.ok(detail, "the problem has a detail");
    const shown = await page.locator("#messages").textContent();
    assert.ok(shown.includes(detail), `${JSON.stringify(shown)} shows ${JSON.stringify(detail)}`);
    assert.ok(shown.includes(String(answer.status)));
  } finally {
    await context.close();
  }
});
