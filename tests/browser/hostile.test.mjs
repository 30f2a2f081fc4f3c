// Markup in the data, in a real browser: a catalogue of this test's own (in a temporary
// folder) whose layer titles, field titles, allowed values, property values and one feature id
// hold script, event-handler attributes, a javascript: URL and long Unicode text, served with
// edits on; an editor then stores more of the same through a merge patch, as a hostile
// account could. Every HTML page a browser user reaches and the web map's panels must show
// these values as text: the literal strings are in the page's text, no element or attribute
// came from them, nothing ran (window.__pwned stays undefined), and the browser reported no
// Content-Security-Policy violation and no console error. The policy would block an inline
// script, but a violation report would mean a value reached the DOM as markup: escaping, not
// the policy, must be what stops it.
//
// Expected values are the strings this test wrote (the map shows statuses and other stored
// text with "_" as a space, so that transform is applied to them here).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as harness from "./harness.mjs";
import { BINARY, idle, ROOT } from "./harness.mjs";

const SCRIPT = "<script>window.__pwned=1</script>";
const IMG = '<img src=x onerror="window.__pwned=2">';
const SVG = '"><svg onload="window.__pwned=3">';
const JS_URL = "javascript:window.__pwned=4";
const APOS = "' onmouseover='window.__pwned=5' data-x='";
/** Long text in several scripts, with a right-to-left override, an emoji and markup. */
const LONG = "Łódź – Ἀθῆναι – 東京 – مرحبا – שלום – 🚧 – \u202eevil\u202c – <b>bold</b> & ".repeat(150);
/** A feature id (the layer's id_field) holding markup; no "/" so that it can be a path segment. */
const ODD_ID = 'H3"><img src=x onerror="window.__pwned=6">';

const LAYER_TITLE = `Cantieri ${SCRIPT}`;
const LAYER_DESCRIPTION = `Lavori ${IMG}`;
const STATUS_TITLE = `Stato ${APOS}`;
const ZONE_NAME = `Zona ${IMG}`;
const ZONE_KIND = `tipo ${SVG}`;
const TOWN_NAME = `Comune ${SVG}`;
const AXIS_NAME = `Asse ${SVG}`;

/** As the map shows a stored text value (web/editing.js formatValue, web/projects.js). */
const shown = (s) => s.replaceAll("_", " ");

const CENTRE = [10.02, 45.13];
/** A point inside the zone and the municipality, away from every project. */
const ELSEWHERE = [10.036, 45.124];

const square = (x0, y0, x1, y1) => ({
  type: "Polygon",
  coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
});
const point = (c) => ({ type: "Point", coordinates: c });
const collection = (features) => ({
  type: "FeatureCollection",
  features: features.map(([properties, geometry]) => ({ type: "Feature", properties, geometry })),
});

const PROJECTS = [
  [{ code: "H1", title: SCRIPT, status: IMG, axis: 1, axis_name: AXIS_NAME, link: JS_URL, note: LONG }, point(CENTRE)],
  [{ code: "H2", title: "Progetto semplice", status: "design", axis: 2, axis_name: "Asse due", link: "https://example.org/", note: "" }, point([10.07, 45.16])],
  [{ code: ODD_ID, title: SVG, status: SCRIPT, axis: 1, axis_name: AXIS_NAME, link: JS_URL, note: APOS }, point([9.98, 45.1])],
];
/** What the editor stores on H2 before the tests. */
const PATCH = { title: IMG, status: APOS, note: SCRIPT };

let dir;
let server;
let base;
let browser;
const editor = { user: "redattore", password: randomBytes(12).toString("base64url") };

/** A TOML basic string: JSON's escapes are TOML's for these strings. */
const toml = (s) => JSON.stringify(s);

function writeCatalogue(folder) {
  mkdirSync(join(folder, "styles"));
  writeFileSync(join(folder, "cantieri.geojson"), JSON.stringify(collection(PROJECTS)));
  writeFileSync(join(folder, "zone.geojson"), JSON.stringify(collection([
    [{ code: "Z1", name: ZONE_NAME, kind: ZONE_KIND, status: IMG, sovracomunale: true }, square(10.0, 45.12, 10.045, 45.14)],
  ])));
  writeFileSync(join(folder, "comuni.geojson"), JSON.stringify(collection([
    [{ code: "C1", name: TOWN_NAME, population: 1000 }, square(9.95, 45.08, 10.1, 45.18)],
  ])));
  const style = (id, layer) => writeFileSync(join(folder, "styles", `${id}.json`), JSON.stringify([{ id, ...layer }]));
  style("cantieri", { type: "circle", paint: { "circle-radius": 8, "circle-color": ["match", ["get", "axis"], 1, "#c0392b", 2, "#2471a3", "#7f8c8d"] } });
  style("zone", { type: "fill", paint: { "fill-color": "#e67e22", "fill-opacity": 0.4 } });
  style("comuni", { type: "line", paint: { "line-color": "#555555", "line-width": 1 } });
  const layer = (id, title, system, extra = "") =>
    `[[layer]]\nid = "${id}"\ntitle = ${toml(title)}\ndescription = ${toml(LAYER_DESCRIPTION)}\n` +
    `system = "${system}"\nsource = "${id}.geojson"\nid_field = "code"\nstyle = "${id}"\n${extra}\n`;
  const catalogue = [
    'working_crs = "EPSG:32632"\nstyles_dir = "styles"\n',
    layer("comuni", `Comuni ${APOS}`, "settlement"),
    layer("zone", `Aree produttive ${SVG}`, "settlement"),
    layer("cantieri", LAYER_TITLE, "projects",
      `[layer.edit]\n\n[[layer.field]]\nname = "status"\ntitle = ${toml(STATUS_TITLE)}\n` +
      `values = [${[IMG, APOS, SCRIPT, "design"].map(toml).join(", ")}]\n`),
    '[roles]\nprojects = "cantieri"\nproductive_areas = "zone"\nmunicipalities = "comuni"\n',
  ].join("\n");
  const path = join(folder, "catalog.toml");
  writeFileSync(path, catalogue);
  return path;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "territorio-hostile-"));
  const catalog = writeCatalogue(dir);
  const accounts = join(dir, "accounts.toml");
  const args = ["accounts", "--file", accounts, "add-user", editor.user, "--password-stdin", "--edit", "cantieri"];
  const run = spawnSync(BINARY, args, { input: `${editor.password}\n`, encoding: "utf8" });
  assert.equal(run.status, 0, `territorio ${args.join(" ")}: ${run.stderr}`);
  server = await harness.startServer(["--data-dir", join(dir, "data"), "--accounts", accounts], { catalog });
  base = server.base;
  browser = await harness.launchBrowser();
  // An editor stores markup through the API, as a hostile account could.
  const r = await fetch(`${base}/collections/cantieri/items/H2`, {
    method: "PATCH",
    headers: {
      Authorization: `Basic ${Buffer.from(`${editor.user}:${editor.password}`).toString("base64")}`,
      "Content-Type": "application/merge-patch+json",
    },
    body: JSON.stringify({ properties: PATCH }),
  });
  assert.equal(r.status, 200, await r.text());
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A new browser context that records, from before any script of a page runs, every
 * securitypolicyviolation event; `problems` gets console errors and page errors.
 */
async function watchedContext() {
  const context = await browser.newContext({ viewport: harness.VIEWPORT });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}: ${e.sample}`);
    });
  });
  return context;
}

/**
 * Console errors (with the URL they are about), page errors and answers >= 400 of `page`.
 * Chromium asks for /favicon.ico, which the service does not have (the map names its own).
 */
function watch(page) {
  const problems = [];
  const favicon = (url) => url && new URL(url).pathname === "/favicon.ico";
  page.on("console", (m) => {
    const where = m.location() && m.location().url;
    if (m.type() === "error" && !favicon(where)) problems.push(`console: ${m.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && !favicon(r.url())) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/**
 * Elements and attributes that only an injection could have made: event-handler attributes,
 * scripts without a src, images (neither the API's pages nor the map has any), javascript:
 * URLs, and the attribute the APOS value would open.
 */
function injected(page) {
  return page.evaluate(() => {
    const found = [];
    for (const e of document.querySelectorAll("*")) {
      for (const a of e.attributes) {
        if (a.name.startsWith("on")) found.push(`<${e.localName} ${a.name}>`);
        if (a.name === "data-x") found.push(`<${e.localName} data-x>`);
        if (/^(href|src|action|formaction|xlink:href)$/.test(a.name) && /^\s*javascript:/i.test(a.value)) {
          found.push(`<${e.localName} ${a.name}="${a.value}">`);
        }
      }
      if (e.localName === "script" && !e.getAttribute("src")) found.push("<script> without src");
      if (e.localName === "img") found.push(`<img src="${e.getAttribute("src")}">`);
    }
    return found;
  });
}

/** Nothing injected, nothing ran, no policy violation, no console error. */
async function assertClean(page, problems, where) {
  // An <img src=x> that was injected fails to load and fires onerror: give it time.
  await page.waitForTimeout(300);
  assert.deepEqual(await injected(page), [], `${where}: elements made from the data`);
  assert.equal(await page.evaluate(() => typeof window.__pwned), "undefined", `${where}: a value ran as script`);
  assert.deepEqual(await page.evaluate(() => window.__violations), [], `${where}: Content-Security-Policy violations`);
  assert.deepEqual(problems, [], `${where}: console errors`);
}

async function assertText(locator, expected, where) {
  const text = await locator.evaluate((e) => e.textContent);
  for (const s of expected) assert.ok(text.includes(s), `${where}: ${JSON.stringify(s.slice(0, 80))} is not in the text`);
}

test("the API's HTML pages show markup from the data and from an edit as text", async () => {
  const odd = encodeURIComponent(ODD_ID);
  const pages = [
    ["/collections/cantieri/items?f=html", [LAYER_TITLE, SCRIPT, IMG, SVG, JS_URL, LONG, ODD_ID, APOS, ...Object.values(PATCH)]],
    ["/collections/cantieri/items/H1?f=html", [LAYER_TITLE, SCRIPT, IMG, AXIS_NAME, JS_URL, LONG]],
    [`/collections/cantieri/items/${odd}?f=html`, [ODD_ID, SVG, SCRIPT, JS_URL, APOS]],
    ["/collections/cantieri/items/H2?f=html", [IMG, APOS, SCRIPT]],
    ["/collections/cantieri/items/H2/history?f=html", [IMG, APOS, SCRIPT, "Progetto semplice"]],
    ["/collections/cantieri?f=html", [LAYER_TITLE, LAYER_DESCRIPTION]],
    ["/collections/zone/items?f=html", [ZONE_NAME, ZONE_KIND, IMG]],
    ["/projects/H1/report?f=html", [SCRIPT, ZONE_NAME, TOWN_NAME]],
    ["/collections?f=html", [LAYER_TITLE, LAYER_DESCRIPTION, `Comuni ${APOS}`, `Aree produttive ${SVG}`]],
    ["/?f=html", [LAYER_TITLE, LAYER_DESCRIPTION]],
  ];
  const context = await watchedContext();
  try {
    for (const [path, expected] of pages) {
      const page = await context.newPage();
      const problems = watch(page);
      const answer = await page.goto(`${base}${path}`, { waitUntil: "load" });
      assert.equal(answer.status(), 200, path);
      assert.match(answer.headers()["content-type"], /^text\/html/, path);
      assert.match(answer.headers()["content-security-policy"], /frame-ancestors 'none'/, path);
      await assertText(page.locator("body"), expected, path);
      await assertClean(page, problems, path);
      await page.close();
    }
  } finally {
    await context.close();
  }
});

/** The page pixel of a CRS84 position on the map. */
async function pixelOf(page, lonlat) {
  const p = await page.evaluate((c) => {
    const q = window.territorio.map.project(c);
    return [q.x, q.y];
  }, lonlat);
  const box = await page.locator("#map").boundingBox();
  return [box.x + p[0], box.y + p[1]];
}

/** Opens a project from the Projects tab's list (ids compared as data, not as a selector). */
async function openFromList(page, id) {
  await page.click("#tab-button-projects");
  const ids = await page.$$eval("#project-list button", (bs) => bs.map((b) => b.dataset.project));
  const i = ids.indexOf(id);
  assert.ok(i >= 0, `${id} is not in the project list: ${ids}`);
  await page.locator("#project-list button").nth(i).click();
}

test("the web map's panels show markup from the data and from an edit as text", async () => {
  const context = await watchedContext();
  const page = await context.newPage();
  const problems = watch(page);
  try {
    await page.goto(`${base}/map/`);
    await page.waitForFunction(() => window.territorio && window.territorio.ready === true, null, { timeout: 30000 });
    // The layer panel: titles from the catalogue, the legend's labels from axis_name.
    await assertText(page.locator("#layer-panel"), [LAYER_TITLE, `Comuni ${APOS}`, `Aree produttive ${SVG}`, AXIS_NAME], "layer panel");
    const drawn = await page.evaluate(() => {
      const t = window.territorio;
      return t.map.queryRenderedFeatures({ layers: t.layers.styleLayerIds("cantieri") }).map((f) => f.properties._id ?? f.id);
    });
    assert.equal(drawn.length, PROJECTS.length, `the projects are drawn: ${drawn}`);

    // The Projects tab: the titles in the list, the statuses as filter choices.
    await page.click("#tab-button-projects");
    await page.locator("#project-list button").first().waitFor();
    await assertText(page.locator("#project-panel"), [SCRIPT, SVG, PATCH.title, ODD_ID, ...[IMG, APOS, SCRIPT].map(shown)], "projects tab");

    // A click on H1: its site report, with the zone and the municipality, and its monitoring
    // values with the field's title from the schema.
    await page.click("#tab-button-layers");
    await page.evaluate((c) => window.territorio.map.jumpTo({ center: c, zoom: 13 }), CENTRE);
    await idle(page);
    const [x, y] = await pixelOf(page, CENTRE);
    await page.mouse.click(x, y);
    const h1 = page.locator("#details article.report[data-report='H1']");
    await h1.locator("section.monitoring dl.values").waitFor({ timeout: 15000 });
    await h1.locator(".history-block").waitFor({ timeout: 15000 });
    await assertText(h1, [SCRIPT, ZONE_NAME, TOWN_NAME, STATUS_TITLE, shown(IMG)], "H1's panel");
    assert.equal(await h1.locator("h2").first().textContent(), SCRIPT);

    // H2, changed by the editor: the new values and the history's before -> after.
    await openFromList(page, "H2");
    const h2 = page.locator("#details article.report[data-report='H2']");
    await h2.locator("ol.history").waitFor({ timeout: 15000 });
    await assertText(h2, [PATCH.title, shown(PATCH.status), shown(PATCH.note), "Progetto semplice"], "H2's panel");

    // The project whose id is markup.
    await openFromList(page, ODD_ID);
    const odd = page.locator("#details article.report").filter({ has: page.locator("section.monitoring dl.values") });
    await odd.waitFor({ timeout: 15000 });
    assert.equal(await page.locator("#details article.report").getAttribute("data-report"), ODD_ID);
    await assertText(page.locator("#details"), [ODD_ID, SVG, shown(SCRIPT)], "the odd id's panel");

    // Signed in as the editor: the status choices come from the schema's enum.
    await page.click("#account-button");
    await page.fill("#sign-in-user", editor.user);
    await page.fill("#sign-in-password", editor.password);
    await page.press("#sign-in-password", "Enter");
    await page.locator("#account-user").waitFor();
    await openFromList(page, "H1");
    const select = page.locator("#details form.project-edit select[name='status']");
    await select.waitFor({ timeout: 15000 });
    const options = await select.locator("option").evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
    for (const v of [IMG, APOS, SCRIPT]) {
      assert.ok(options.some(([value, text]) => value === v && text === shown(v)), `${v} among ${JSON.stringify(options)}`);
    }
    assert.equal(await select.inputValue(), IMG);

    // A click elsewhere in the zone: what is here, and the zone the point is in.
    await page.click("#tab-button-layers");
    await page.evaluate((c) => window.territorio.map.jumpTo({ center: c, zoom: 13 }), ELSEWHERE);
    await idle(page);
    const [ex, ey] = await pixelOf(page, ELSEWHERE);
    await page.mouse.click(ex, ey);
    const here = page.locator("#details article.locate");
    await here.locator(".verdict").waitFor({ timeout: 15000 });
    await assertText(here, [ZONE_NAME, TOWN_NAME], "what is here");

    await page.screenshot({ path: join(ROOT, "target", "web-map-hostile.png") });
    await assertClean(page, problems, "the web map");
  } finally {
    await context.close();
  }
});
