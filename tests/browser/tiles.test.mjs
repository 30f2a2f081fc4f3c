// The web map's largest layers through vector tiles, in a real browser: a catalogue of this
// test's own (written to a temporary folder) whose projects layer is a grid of 25,000 points,
// above the map's threshold (20,000), and whose productive areas are a grid of 2,500 squares,
// below it (drawn as GeoJSON unless the page is opened with `tiles=2000`).
//
// Checked: the layers above the threshold are drawn from /collections/{id}/tiles/... and never
// fetched as GeoJSON with geometry (the projects' list and filter values read ids and
// properties only, skipGeometry=true; the productive areas, when tiled, are not asked for
// items at all); the features MapLibre renders from the tiles in a box of the view are exactly
// the grid points in it, with their ids (string ids, which the tiles carry as the property
// `id`; integer ids, the MVT feature id) and properties; a click on a tiled project opens its
// site report; a filter chosen in the projects panel goes into the tile URLs as CQL2 text;
// after an edit (the server runs with edits on), the layer's reload draws the new value.
//
// Expected values come from the grid this test generates (positions, ids, properties, which
// square holds which point), never from the endpoints under test.
//
// The server takes a CQL2 `filter` on a tile URL: the filter's side in the tile URLs and what
// the filtered tiles hold are both checked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as harness from "./harness.mjs";
import { BINARY, idle, ROOT } from "./harness.mjs";
import { areaAt, COLS, LAT0, LON0, project, PROJECTS, ROWS, STEP_LAT, STEP_LON, TOWN, writeCatalogue } from "./grid.mjs";

let dir;
let server;
let base;
let browser;

const editor = { user: "redattore", password: randomBytes(12).toString("base64url") };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "territorio-tiles-"));
  const catalog = writeCatalogue(dir);
  const accounts = join(dir, "accounts.toml");
  const args = ["accounts", "--file", accounts, "add-user", editor.user, "--password-stdin", "--edit", "cantieri"];
  const run = spawnSync(BINARY, args, { input: `${editor.password}\n`, encoding: "utf8" });
  assert.equal(run.status, 0, `territorio ${args.join(" ")}: ${run.stderr}`);
  server = await harness.startServer(["--data-dir", join(dir, "data"), "--accounts", accounts], { catalog });
  base = server.base;
  browser = await harness.launchBrowser();
  const probe = await fetch(`${base}/collections/cantieri/tiles/WebMercatorQuad/0/0/0?filter=${encodeURIComponent("axis = 1")}&filter-lang=cql2-text`);
  assert.equal(probe.status, 200, "a tile of axis-1 projects, cut under a filter");
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The requests to a collection's items (the list, not one item) and to its tiles. */
function requestsOf(requests, id) {
  const urls = requests.map((r) => new URL(r));
  return {
    items: urls.filter((u) => u.pathname === `/collections/${id}/items`),
    item: urls.filter((u) => u.pathname.startsWith(`/collections/${id}/items/`)),
    tiles: urls.filter((u) => u.pathname.startsWith(`/collections/${id}/tiles/WebMercatorQuad/`)),
  };
}

/** The page pixel of a CRS84 position. */
async function pixelOf(page, lonlat) {
  const p = await page.evaluate((c) => {
    const q = window.territorio.map.project(c);
    return [q.x, q.y];
  }, lonlat);
  const box = await page.locator("#map").boundingBox();
  return [box.x + p[0], box.y + p[1]];
}

/**
 * The features MapLibre renders for a layer in the box between two CRS84 corners, as
 * { id, properties } with the id the page resolves (Layers.featureId), one per id, by id.
 */
async function renderedIn(page, layer, sw, ne) {
  const found = await page.evaluate(([id, a, b]) => {
    const t = window.territorio;
    const p = t.map.project(a);
    const q = t.map.project(b);
    const box = [[Math.min(p.x, q.x), Math.min(p.y, q.y)], [Math.max(p.x, q.x), Math.max(p.y, q.y)]];
    return t.map.queryRenderedFeatures(box, { layers: t.layers.styleLayerIds(id) })
      .map((f) => ({ id: t.layers.featureId(id, f), mvtId: f.id, properties: f.properties }));
  }, [layer, sw, ne]);
  const byId = new Map(found.map((f) => [f.id, f]));
  return [...byId.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

/** The grid block of columns i0..i1 and rows j0..j1: its projects and the corners between grid lines. */
function block(i0, i1, j0, j1) {
  const inside = PROJECTS.filter((_, n) => {
    const i = n % COLS;
    const j = Math.floor(n / COLS);
    return i >= i0 && i <= i1 && j >= j0 && j <= j1;
  });
  // The box's sides run half a step from the outer points: no circle (4 px at zoom 15, where a
  // step is 28 by 49 px) of a point outside the block reaches it.
  const sw = [LON0 + i0 * STEP_LON, LAT0 + j0 * STEP_LAT];
  const ne = [LON0 + (i1 + 1) * STEP_LON, LAT0 + (j1 + 1) * STEP_LAT];
  const centre = [(sw[0] + ne[0]) / 2, (sw[1] + ne[1]) / 2];
  return { inside, sw, ne, centre };
}

async function showAt(page, centre, zoom) {
  await page.evaluate(([c, z]) => window.territorio.map.jumpTo({ center: c, zoom: z }), [centre, zoom]);
  await idle(page);
}

function modeOf(page, id) {
  return page.locator(`.layer[data-layer="${id}"] .count`).getAttribute("data-mode");
}

test("a layer above the threshold is drawn from vector tiles, its features with their ids and properties", async () => {
  const { page, context, problems, requests } = await harness.openMap(browser, base);
  try {
    assert.equal(await modeOf(page, "cantieri"), "tiles", "25,000 projects are above the default threshold (20,000)");
    assert.equal(await modeOf(page, "zone"), "whole", "2,500 productive areas are fetched whole as GeoJSON");
    const b = block(100, 109, 40, 45);
    await showAt(page, b.centre, 15);
    const rendered = await renderedIn(page, "cantieri", b.sw, b.ne);
    assert.deepEqual(rendered.map((f) => f.id), b.inside.map((p) => p.id).sort());
    const byId = new Map(b.inside.map((p) => [p.id, p]));
    for (const f of rendered) {
      const p = byId.get(f.id);
      // A string id is not an MVT id: the tile carries it as the property `id`.
      assert.equal(f.mvtId, undefined, f.id);
      assert.deepEqual([f.properties.title, f.properties.axis, f.properties.status], [p.title, p.axis, p.status], f.id);
    }
    // Further out, the whole grid is in view: MapLibre draws it from tiles of a lower zoom.
    const all = block(0, COLS - 1, 0, ROWS - 1);
    await showAt(page, all.centre, 10.5);
    assert.equal((await renderedIn(page, "cantieri", all.sw, all.ne)).length, PROJECTS.length);

    const r = requestsOf(requests, "cantieri");
    assert.ok(r.tiles.length > 0, "the projects' tiles were requested");
    assert.ok(r.tiles.every((u) => u.search === ""), `tiles without a filter have no query: ${r.tiles.map(String)}`);
    // The list and the filter values read ids and properties only: no geometry as GeoJSON.
    assert.ok(r.items.length > 0);
    const withGeometry = r.items.filter((u) => u.searchParams.get("skipGeometry") !== "true");
    assert.deepEqual(withGeometry.map(String), []);
    assert.match(await page.locator("#project-count").textContent(), /^25000 of 25000 projects \(the first 500 listed\)/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("with tiles=2000 the productive areas are tiled too, their integer ids as MVT ids, and never asked as items", async () => {
  const { page, context, problems, requests } = await harness.openMap(browser, base, "?tiles=2000");
  try {
    assert.equal(await modeOf(page, "zone"), "tiles");
    assert.equal(await modeOf(page, "comuni"), "whole");
    for (const p of [project(3, 4), project(104, 42), project(249, 99)]) {
      await showAt(page, p.lonlat, 14);
      const area = areaAt(p.lonlat);
      const d = [STEP_LON / 4, STEP_LAT / 4];
      const rendered = await renderedIn(page, "zone", [p.lonlat[0] - d[0], p.lonlat[1] - d[1]], [p.lonlat[0] + d[0], p.lonlat[1] + d[1]]);
      assert.deepEqual(rendered.map((f) => [f.id, f.mvtId, f.properties.name]), [[area.id, area.id, area.name]], p.id);
    }
    const r = requestsOf(requests, "zone");
    assert.ok(r.tiles.length > 0);
    assert.deepEqual([...r.items, ...r.item].map(String), [], "a tiled layer that is not listed asks for no items");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("clicking a tiled project opens its site report and reads the project by its id", async () => {
  const { page, context, problems, requests } = await harness.openMap(browser, base);
  try {
    const p = project(104, 42);
    const area = areaAt(p.lonlat);
    await showAt(page, p.lonlat, 15);
    const [x, y] = await pixelOf(page, p.lonlat);
    await page.mouse.click(x, y);
    const report = page.locator(`article.report[data-report="${p.id}"]`);
    await report.waitFor({ timeout: 15000 });
    assert.equal(await report.locator("h2").textContent(), p.title);
    assert.equal(await report.locator(".municipality").getAttribute("data-municipalities"), TOWN);
    const verdict = report.locator(".verdict").first();
    const text = await verdict.textContent();
    assert.equal(await verdict.getAttribute("data-verdict"), "inside", text);
    assert.equal(await verdict.getAttribute("data-area"), String(area.id), text);
    assert.ok(text.includes(area.name), text);
    await idle(page);
    // The monitoring part of the panel reads the project itself, with its geometry.
    assert.ok(requestsOf(requests, "cantieri").item.some((u) => u.pathname === `/collections/cantieri/items/${p.id}`));
    assert.ok((await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["highlight-point"] }).length)) > 0, "the project is highlighted");
    mkdirSync(join(ROOT, "target"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "target", "web-map-tiles.png") });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

/** Chooses axis 1 only in the projects panel; resolves when the list is loaded again. */
async function filterAxisOne(page) {
  await page.click("#tab-button-projects");
  const axis = page.locator('fieldset[data-filter="axis"]');
  for (const v of ["2", "3"]) await axis.locator(`input[value="${v}"]`).uncheck();
  assert.equal(await page.locator("#cql2").textContent(), "axis = 1");
  await idle(page);
}

/** A problem line about a filtered tile of the projects (what a server without tile filters answers). */

test("a filter on a tiled layer goes into its tile URLs as CQL2 text", async () => {
  const { page, context, problems, requests } = await harness.openMap(browser, base);
  try {
    const b = block(100, 109, 40, 45);
    const start = requests.length;
    await showAt(page, b.centre, 15);
    const before = requests.length;
    // The view's tiles, unfiltered (those of zoom 15: the ones of the start view are left out).
    const view = new Set(requestsOf(requests.slice(start, before), "cantieri").tiles.map((u) => u.pathname).filter((p) => p.includes("/WebMercatorQuad/15/")));
    assert.ok(view.size > 0);
    await filterAxisOne(page);
    // Unchecking axis 2, then 3, sends "axis IN (1, 3)", then "axis = 1": every tile asked since
    // carries one of them, and the view's tiles were all asked again with the last.
    const tiles = requestsOf(requests.slice(before), "cantieri").tiles;
    for (const u of tiles) {
      assert.ok(["axis IN (1, 3)", "axis = 1"].includes(u.searchParams.get("filter")), String(u));
      assert.equal(u.searchParams.get("filter-lang"), "cql2-text", String(u));
    }
    const last = new Set(tiles.filter((u) => u.searchParams.get("filter") === "axis = 1").map((u) => u.pathname));
    assert.deepEqual([...view].filter((p) => !last.has(p)), [], "every tile of the view is asked again with the filter");
    const matched = PROJECTS.filter((p) => p.axis === 1).length;
    assert.match(await page.locator("#project-count").textContent(), new RegExp(`^${matched} of 25000 projects`));
    const listed = await page.locator("#project-list button").evaluateAll((bs) => bs.map((x) => x.dataset.project));
    const axisOf = new Map(PROJECTS.map((p) => [p.id, p.axis]));
    assert.equal(listed.length, 500);
    assert.deepEqual(listed.filter((id) => axisOf.get(id) !== 1), []);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("a filtered tiled layer draws only the matching features", async () => {
  const { page, context, problems } = await harness.openMap(browser, base);
  try {
    const b = block(100, 109, 40, 45);
    await showAt(page, b.centre, 15);
    await filterAxisOne(page);
    const rendered = await renderedIn(page, "cantieri", b.sw, b.ne);
    assert.deepEqual(rendered.map((f) => f.id), b.inside.filter((p) => p.axis === 1).map((p) => p.id).sort());
    // Back to every project: the tiles without the filter again.
    await page.locator('fieldset[data-filter="axis"] button', { hasText: /^all$/ }).click();
    await idle(page);
    assert.deepEqual((await renderedIn(page, "cantieri", b.sw, b.ne)).map((f) => f.id), b.inside.map((p) => p.id).sort());
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("after an edit of a tiled layer the map asks for its tiles again and draws the edited value", async () => {
  const { page, context, problems, requests } = await harness.openMap(browser, base);
  try {
    const p = project(7, 3);
    const near = [p.lonlat[0] + STEP_LON / 4, p.lonlat[1] + STEP_LAT / 4];
    const far = [p.lonlat[0] - STEP_LON / 4, p.lonlat[1] - STEP_LAT / 4];
    await showAt(page, p.lonlat, 15);
    const status = async () => (await renderedIn(page, "cantieri", far, near)).map((f) => [f.id, f.properties.status]);
    assert.deepEqual(await status(), [[p.id, p.status]]);
    const r = await fetch(`${base}/collections/cantieri/items/${p.id}`, {
      method: "PATCH",
      headers: {
        Authorization: `Basic ${Buffer.from(`${editor.user}:${editor.password}`).toString("base64")}`,
        "Content-Type": "application/merge-patch+json",
      },
      body: JSON.stringify({ properties: { status: "suspended" } }),
    });
    assert.equal(r.status, 200, await r.text());
    const before = requests.length;
    // What the monitoring panel does once an edit is stored (web/map.js, onSaved).
    await page.evaluate(() => window.territorio.layers.reload("cantieri"));
    await idle(page);
    assert.ok(requestsOf(requests.slice(before), "cantieri").tiles.length > 0, "the tiles were asked again");
    assert.deepEqual(await status(), [[p.id, "suspended"]]);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
