// Browser tests of the monitoring unit's edits from the web map: sign-in, the editor in a
// project's panel, conflicts, refused values, the history, and the progress chart beside the
// indicators. A real territorio with edits on: `--data-dir` in a fresh temporary folder and
// `--accounts` with accounts made by `territorio accounts` (the CLI), as an operator would.
//
// Expected values come from what a test typed and from the server's own JSON read here with
// fetch (the item and its ETag, the schema, the problem of the same refused request), never
// from what the page prints.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as harness from "./harness.mjs";
import { BINARY, idle } from "./harness.mjs";

const LAYER = "projects";
/** The monitoring fields the editor changes (the demo's names; config.json says the same). */
const EDITABLE = ["status", "progress_pct", "committed_eur", "spent_eur"];

let dir;
let server;
let base;
let browser;
/** name -> password; ferrari and galli may edit the projects, lettore nothing. */
const accounts = {};
let schema;
let candidates;

function addUser(file, name, edit) {
  const password = randomBytes(12).toString("base64url");
  const args = ["accounts", "--file", file, "add-user", name, "--password-stdin", ...edit.flatMap((c) => ["--edit", c])];
  const run = spawnSync(BINARY, args, { input: `${password}\n`, encoding: "utf8" });
  assert.equal(run.status, 0, `territorio ${args.join(" ")}: ${run.stderr}`);
  accounts[name] = password;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "territorio-edit-"));
  const file = join(dir, "accounts.toml");
  addUser(file, "ferrari", [LAYER]);
  addUser(file, "galli", [LAYER]);
  addUser(file, "lettore", []);
  server = await harness.startServer(["--data-dir", join(dir, "data"), "--accounts", file]);
  base = server.base;
  browser = await harness.launchBrowser();
  schema = await json(`/collections/${LAYER}/schema`);
  // Projects under way, with room to change progress both ways, one per test.
  const all = (await json(`/collections/${LAYER}/items?limit=1000`)).features;
  candidates = all
    .filter((f) => f.properties.status === "in_progress" && f.properties.progress_pct >= 10 && f.properties.progress_pct <= 80 && f.properties.budget_eur > 0)
    .map((f) => f.id)
    .sort();
  assert.ok(candidates.length >= 4, `the demo has projects in progress: ${candidates}`);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function json(path, init) {
  return harness.json(base, path, init);
}

const basic = (user) => `Basic ${Buffer.from(`${user}:${accounts[user]}`, "utf8").toString("base64")}`;

/** The project as the server has it now, and its ETag. */
async function item(id) {
  const r = await fetch(`${base}/collections/${LAYER}/items/${id}`, { headers: { Accept: "application/geo+json" } });
  assert.equal(r.status, 200);
  return { properties: (await r.json()).properties, etag: r.headers.get("etag") };
}

async function signIn(page, user, password = accounts[user]) {
  await page.click("#account-button");
  await page.fill("#sign-in-user", user);
  await page.fill("#sign-in-password", password);
  await page.press("#sign-in-password", "Enter");
}

/** Opens a project from the list of the Projects tab; waits for its monitoring and history. */
async function openProject(page, id) {
  await page.click("#tab-button-projects");
  await page.locator(`#project-list [data-project="${id}"]`).click();
  const section = page.locator(`section.monitoring[data-project="${id}"]`);
  await section.locator("ol.history").waitFor({ timeout: 15000 });
  return section;
}

/** What the editor's inputs hold, typed as the schema says. */
async function formValues(section) {
  const out = {};
  for (const name of EDITABLE) {
    const v = await section.locator(`[name="${name}"]`).inputValue();
    const type = schema.properties[name].type;
    out[name] = v === "" ? null : type === "integer" || type === "number" ? Number(v) : v;
  }
  return out;
}

const pick = (properties, names) => Object.fromEntries(names.map((n) => [n, properties[n]]));

test("sign-in: a wrong password shows the server's message, the right one the edit controls", async () => {
  const id = candidates[0];
  const { page, context, problems } = await harness.openMap(browser, base);
  try {
    const section = await openProject(page, id);
    // Signed out: the values as stored, no editor.
    const stored = await item(id);
    for (const name of EDITABLE) {
      assert.equal(await section.locator(`dd[data-field="${name}"]`).getAttribute("data-value"), JSON.stringify(stored.properties[name]), name);
    }
    assert.equal(await section.locator("form.project-edit").count(), 0);
    assert.match(await section.locator(".edit-note").textContent(), /Sign in/);

    // A wrong password: the page shows the server's own detail of the same refusal.
    await signIn(page, "ferrari", "not-the-password");
    const message = page.locator("#sign-in-message");
    await page.waitForFunction(() => /\w/.test(document.getElementById("sign-in-message").textContent) && !/Signing in/.test(document.getElementById("sign-in-message").textContent));
    const refused = await fetch(`${base}/collections/${LAYER}/items`, { method: "OPTIONS", headers: { Authorization: `Basic ${Buffer.from("ferrari:not-the-password").toString("base64")}` } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate"), /Basic/);
    const { detail } = await refused.json();
    assert.ok(detail);
    assert.equal((await message.textContent()).trim(), detail);
    assert.ok(await page.locator("#account-user").isHidden());

    // The right one (Enter in the password field): signed in, and the editor appears.
    await page.fill("#sign-in-password", accounts.ferrari);
    await page.press("#sign-in-password", "Enter");
    await page.locator("#account-user").waitFor();
    assert.equal((await page.locator("#account-user").textContent()).trim(), "Signed in as ferrari");
    assert.ok(await page.locator("#account-panel").isHidden());
    assert.equal(await page.locator("#sign-in-password").inputValue(), "", "the password field is emptied");
    const form = section.locator("form.project-edit");
    await form.waitFor({ timeout: 15000 });
    // The server lets this account PATCH the project: that is why the editor is there.
    const options = await fetch(`${base}/collections/${LAYER}/items/${id}`, { method: "OPTIONS", headers: { Authorization: basic("ferrari") } });
    assert.ok(options.headers.get("allow").split(",").map((m) => m.trim()).includes("PATCH"));
    // Labels from the schema's titles, the status choices from its enum, values as stored.
    for (const name of EDITABLE) {
      assert.equal((await form.locator(`label[for="edit-${name}"]`).textContent()).trim(), schema.properties[name].title, name);
    }
    assert.deepEqual(await form.locator('select[name="status"] option').evaluateAll((os) => os.map((o) => o.value)), schema.properties.status.enum);
    assert.equal(await form.locator('input[name="progress_pct"]').getAttribute("max"), String(schema.properties.progress_pct.maximum));
    assert.deepEqual(await formValues(section), pick(stored.properties, EDITABLE));
    // The credentials live in the page's memory only.
    assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]), [0, 0, ""]);

    // Signed out: the editor goes.
    await page.click("#sign-out");
    await page.locator("#account-button").waitFor();
    await section.locator("dl.values").waitFor();
    assert.equal(await section.locator("form.project-edit").count(), 0);

    // An account without the right to edit: signed in, read only, no editor.
    await signIn(page, "lettore");
    await page.locator("#account-user").waitFor();
    assert.equal((await page.locator("#account-user").textContent()).trim(), "Signed in as lettore (read only)");
    await page.waitForFunction(() => /may not edit/.test(document.querySelector("section.monitoring .edit-note")?.textContent || ""));
    assert.equal(await section.locator("form.project-edit").count(), 0);
    assert.deepEqual(harness.unexpected(problems, [[401, `/collections/${LAYER}/items`]]), []);
  } finally {
    await context.close();
  }
});

test("an edit made in one page is saved as sent and seen by a second page", async () => {
  const id = candidates[1];
  const before = await item(id);
  const enumValues = schema.properties.status.enum;
  const changes = {
    status: enumValues[(enumValues.indexOf(before.properties.status) + 1) % enumValues.length],
    progress_pct: before.properties.progress_pct + 7,
    committed_eur: before.properties.committed_eur + 1250.5,
  };
  const a = await harness.openMap(browser, base);
  const b = await harness.openMap(browser, base);
  try {
    // B reads the project first, signed out.
    const viewB = await openProject(b.page, id);
    assert.equal(await viewB.locator('dd[data-field="progress_pct"]').getAttribute("data-value"), JSON.stringify(before.properties.progress_pct));

    await signIn(a.page, "ferrari");
    const viewA = await openProject(a.page, id);
    const form = viewA.locator("form.project-edit");
    await form.waitFor({ timeout: 15000 });
    await form.locator('select[name="status"]').selectOption(changes.status);
    await form.locator('input[name="progress_pct"]').fill(String(changes.progress_pct));
    await form.locator('input[name="committed_eur"]').fill(String(changes.committed_eur));
    const [patch] = await Promise.all([
      a.page.waitForRequest((r) => r.method() === "PATCH"),
      form.locator("button.save").click(),
    ]);
    // Only what changed, as a merge patch, with the ETag the panel read the project with.
    assert.equal(new URL(patch.url()).pathname, `/collections/${LAYER}/items/${id}`);
    const headers = patch.headers();
    assert.equal(headers["content-type"], "application/merge-patch+json");
    assert.equal(headers["if-match"], before.etag);
    assert.equal(headers.authorization, basic("ferrari"));
    assert.deepEqual(patch.postDataJSON(), { properties: changes });
    await viewA.locator(".edit-status.ok").waitFor({ timeout: 15000 });

    // The server has what was sent, the rest unchanged, under a new ETag.
    const after = await item(id);
    assert.deepEqual(after.properties, { ...before.properties, ...changes });
    assert.notEqual(after.etag, before.etag);
    // A's panel shows the stored values and the change on top of the history.
    assert.deepEqual(await formValues(viewA), pick(after.properties, EDITABLE));
    const top = viewA.locator("ol.history > li").first();
    assert.equal(await top.getAttribute("data-user"), "ferrari");
    assert.equal(await top.getAttribute("data-operation"), "update");
    const rows = await top.locator("ul.changes > li").evaluateAll((ls) => ls.map((l) => [l.dataset.field, l.dataset.before, l.dataset.after, l.textContent]));
    assert.deepEqual(rows.map((r) => r[0]).sort(), Object.keys(changes).sort());
    for (const [field, was, now, text] of rows) {
      assert.equal(was, JSON.stringify(before.properties[field]), field);
      assert.equal(now, JSON.stringify(changes[field]), field);
      assert.ok(text.startsWith(`${schema.properties[field].title}: `) && text.includes(" → "), text);
    }
    // A's map layer is fetched again: the project drawn carries the new values.
    await a.page.waitForFunction(([pid, p]) => {
      const f = window.territorio.layers.get("projects").features.find((x) => x.id === pid);
      return f && f.properties.progress_pct === p;
    }, [id, changes.progress_pct]);
    await idle(a.page);
    const drawn = await a.page.evaluate((pid) => window.territorio.map.querySourceFeatures("projects").filter((f) => f.properties._id === pid).map((f) => f.properties), id);
    assert.ok(drawn.length > 0, "the project is on the map");
    for (const p of drawn) assert.deepEqual(pick(p, Object.keys(changes)), changes);

    // B refreshes its panel: the new values, and who changed them.
    await viewB.locator("button.reload").click();
    await b.page.waitForFunction(([pid, v]) => document.querySelector(`section.monitoring[data-project="${pid}"] dd[data-field="progress_pct"]`)?.dataset.value === v, [id, JSON.stringify(changes.progress_pct)]);
    for (const name of EDITABLE) {
      assert.equal(await viewB.locator(`dd[data-field="${name}"]`).getAttribute("data-value"), JSON.stringify(after.properties[name]), name);
    }
    await viewB.locator('ol.history > li[data-user="ferrari"]').first().waitFor();
    assert.equal(await viewB.locator("ol.history > li").first().getAttribute("data-user"), "ferrari");
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test("a conflict: the second save is refused, its page shows the first one's values", async () => {
  const id = candidates[2];
  const before = await item(id);
  const first = { progress_pct: before.properties.progress_pct + 5, spent_eur: before.properties.spent_eur + 100 };
  const second = { progress_pct: before.properties.progress_pct + 9 };
  const a = await harness.openMap(browser, base);
  const b = await harness.openMap(browser, base);
  try {
    await signIn(a.page, "ferrari");
    await signIn(b.page, "galli");
    const viewA = await openProject(a.page, id);
    const viewB = await openProject(b.page, id);
    await viewA.locator("form.project-edit").waitFor({ timeout: 15000 });
    await viewB.locator("form.project-edit").waitFor({ timeout: 15000 });
    // Both read the same revision; A saves first.
    await viewA.locator('input[name="progress_pct"]').fill(String(first.progress_pct));
    await viewA.locator('input[name="spent_eur"]').fill(String(first.spent_eur));
    await viewA.locator("button.save").click();
    await viewA.locator(".edit-status.ok").waitFor({ timeout: 15000 });
    const afterFirst = await item(id);
    assert.deepEqual(afterFirst.properties, { ...before.properties, ...first });

    await viewB.locator('input[name="progress_pct"]').fill(String(second.progress_pct));
    const [patch] = await Promise.all([
      b.page.waitForRequest((r) => r.method() === "PATCH"),
      viewB.locator("button.save").click(),
    ]);
    assert.equal(patch.headers()["if-match"], before.etag, "B sends the ETag it read");
    const status = viewB.locator(".edit-status.conflict");
    await status.waitFor({ timeout: 15000 });
    assert.match(await status.textContent(), /changed by someone else/i);
    // The refused change changed nothing; B's form now holds the project as A left it.
    const now = await item(id);
    assert.deepEqual(now, afterFirst);
    assert.deepEqual(await formValues(viewB), pick(afterFirst.properties, EDITABLE));
    assert.equal(await viewB.locator('input[name="progress_pct"]').inputValue(), String(first.progress_pct));
    const note = await status.locator('li[data-field="progress_pct"]').textContent();
    assert.ok(note.includes(`${first.progress_pct}%`) && note.includes(`yours: ${second.progress_pct}%`), note);
    await viewB.locator('ol.history > li[data-user="ferrari"]').first().waitFor();

    // B redoes the change over the current revision: taken.
    await viewB.locator('input[name="progress_pct"]').fill(String(second.progress_pct));
    const [redo] = await Promise.all([
      b.page.waitForRequest((r) => r.method() === "PATCH"),
      viewB.locator("button.save").click(),
    ]);
    assert.equal(redo.headers()["if-match"], afterFirst.etag);
    await viewB.locator(".edit-status.ok").waitFor({ timeout: 15000 });
    assert.deepEqual((await item(id)).properties, { ...before.properties, ...first, ...second });
    // The history is read again after the save: wait for it to show B's change at its top.
    await viewB.locator('ol.history > li:first-child[data-user="galli"]').waitFor({ timeout: 15000 });
    assert.deepEqual(await viewB.locator("ol.history > li").evaluateAll((ls) => ls.slice(0, 2).map((l) => l.dataset.user)), ["galli", "ferrari"]);
    assert.deepEqual(a.problems, []);
    assert.deepEqual(harness.unexpected(b.problems, [[412, `/collections/${LAYER}/items/${id}`]]), []);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test("refused values: each of the server's reasons is shown beside its field", async () => {
  const id = candidates[3];
  const before = await item(id);
  const { page, context, problems } = await harness.openMap(browser, base);
  try {
    await signIn(page, "galli");
    const view = await openProject(page, id);
    const form = view.locator("form.project-edit");
    await form.waitFor({ timeout: 15000 });
    // The inputs show the schema's limits but leave the rules to the server; the status is a
    // choice of the schema's values, so a wrong one is slipped into the list here.
    await form.locator('input[name="progress_pct"]').fill("150");
    await form.locator('input[name="spent_eur"]').fill("-5");
    await form.locator('select[name="status"]').evaluate((s) => {
      s.append(new Option("done", "done"));
      s.value = "done";
    });
    const [patch] = await Promise.all([page.waitForRequest((r) => r.method() === "PATCH"), form.locator("button.save").click()]);
    const sent = patch.postDataJSON();
    assert.deepEqual(sent, { properties: { status: "done", progress_pct: 150, spent_eur: -5 } });
    await view.locator(".edit-status.error").waitFor({ timeout: 15000 });

    // The same request, sent here: the server's reasons, field by field.
    const answer = await fetch(`${base}/collections/${LAYER}/items/${id}`, {
      method: "PATCH",
      headers: { Authorization: basic("galli"), "Content-Type": "application/merge-patch+json", "If-Match": before.etag },
      body: JSON.stringify(sent),
    });
    assert.equal(answer.status, 422);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    const params = (await answer.json())["invalid-params"];
    assert.deepEqual(params.map((p) => p.name).sort(), ["progress_pct", "spent_eur", "status"]);
    for (const p of params) {
      const field = form.locator(`.field[data-field="${p.name}"]`);
      assert.equal((await field.locator(".field-error").textContent()).trim(), p.reason, p.name);
      assert.equal(await field.locator(`[name="${p.name}"]`).getAttribute("aria-invalid"), "true");
    }
    assert.deepEqual(await item(id), before, "nothing changed");
    assert.deepEqual(harness.unexpected(problems, [[422, `/collections/${LAYER}/items/${id}`]]), []);
  } finally {
    await context.close();
  }
});

/** Points of each subpath of an SVG path made of M and L commands. */
function subpaths(d) {
  const out = [];
  for (const [, cmd, x, y] of d.matchAll(/([ML])\s*([-\d.]+)[ ,]+([-\d.]+)/g)) {
    if (cmd === "M") out.push([]);
    out.at(-1).push([Number(x), Number(y)]);
  }
  return out;
}

/** Runs of consecutive months with a number for `measure`: [[monthIndex, value], ...] each. */
function runs(months, series, measure) {
  const byMonth = new Map(series.map((p) => [p.month, p]));
  const out = [];
  let open = false;
  months.forEach((m, i) => {
    const v = byMonth.get(m) && byMonth.get(m)[measure];
    if (typeof v !== "number") {
      open = false;
      return;
    }
    if (!open) out.push([]);
    out.at(-1).push([i, v]);
    open = true;
  });
  return out;
}

/** The chart drawn for `group` and `measure` is the series of `doc`, at the chart's scale. */
async function checkChart(page, doc, group, measure) {
  const chart = page.locator(`#progress-chart svg[data-group="${group}"][data-measure="${measure}"]`);
  await chart.waitFor({ timeout: 15000 });
  const grid = async (v) => chart.locator(`line.grid[data-value="${v}"]`).evaluate((l) => [Number(l.getAttribute("x1")), Number(l.getAttribute("x2")), Number(l.getAttribute("y1"))]);
  const [left, right, y0] = await grid(0);
  const [, , y100] = await grid(100);
  const n = doc.months.length;
  const expect = (i, v) => [left + (i * (right - left)) / (n - 1), y0 + ((y100 - y0) * v) / 100];
  const drawn = new Map(await chart.locator("path.series").evaluateAll((ps) => ps.map((p) => [p.dataset.key, p.getAttribute("d")])));
  const wanted = doc.groups.filter((g) => g.group === group).map((g) => [String(g.key), g.series]);
  wanted.push(["total", doc.total]);
  assert.deepEqual([...drawn.keys()].sort(), wanted.map(([k]) => k).sort(), "one line per key, and the total");
  for (const [key, series] of wanted) {
    const got = subpaths(drawn.get(key));
    const want = runs(doc.months, series, measure);
    assert.equal(got.length, want.length, `${key}: a line broken where a month has no value`);
    want.forEach((run, r) => {
      assert.equal(got[r].length, run.length, `${key}: points`);
      run.forEach(([i, v], k) => {
        const [x, y] = expect(i, v);
        assert.ok(Math.abs(got[r][k][0] - x) < 0.01 && Math.abs(got[r][k][1] - y) < 0.01, `${key} ${doc.months[i]}: (${got[r][k]}) vs (${x}, ${y}) for ${v}%`);
      });
    });
  }
}

test("the progress chart beside the indicators, or the message of a server without series", async () => {
  const real = await fetch(`${base}/indicators/monitoring/series?f=json`);
  const { page, context, problems } = await harness.openMap(browser, base);
  try {
    await page.click("#tab-button-indicators");
    if (real.status === 404) {
      const note = page.locator("#progress-panel .no-series");
      await note.waitFor({ timeout: 15000 });
      assert.equal((await note.textContent()).trim(), "No monitoring series on this server.");
      // The rest works: the choropleth of the indicators is drawn.
      await page.locator("#indicator-select").waitFor({ timeout: 15000 });
      await idle(page);
      assert.ok((await page.evaluate(() => window.territorio.map.queryRenderedFeatures({ layers: ["indicators-fill"] }).length)) > 0);
      assert.deepEqual(harness.unexpected(problems, [[404, "/indicators/monitoring/series"]]), []);
    } else {
      assert.equal(real.status, 200);
      await checkChart(page, await real.json(), "axis", "progress_mean_pct");
      assert.deepEqual(problems, []);
    }
  } finally {
    await context.close();
  }
});

test("the progress chart draws each series at its values, per axis, action and programme", async () => {
  // A series document of the agreed shape, served in place of the server's: the chart is
  // checked against these numbers, whatever the server holds.
  const months = ["2025-02", "2025-05", "2025-08", "2025-11", "2026-02", "2026-05", "2026-08", "2026-11"];
  const point = (month, mean, weighted) => ({ month, projects: 3, progress_mean_pct: mean, progress_weighted_pct: weighted, budget_eur: 1e6, committed_eur: 5e5, spent_eur: 2e5 });
  const line = (from, step, skip = []) => months.filter((m) => !skip.includes(m)).map((m, i) => point(m, Math.min(100, from + step * i), Math.min(100, from / 2 + step * 1.5 * i)));
  const doc = {
    months,
    groups: [
      { group: "axis", key: "1", series: line(5, 11.5) },
      { group: "axis", key: "2", series: line(20, 6.25, ["2025-08", "2025-11"]) },
      { group: "axis", key: "3", series: line(0, 0) },
      { group: "emblematic_action", key: "Distretto lattiero-caseario", series: line(12, 9) },
      { group: "emblematic_action", key: "Idrovia Cremona-Milano", series: line(1, 3.3) },
      { group: "aqst_programme", key: "primo", series: line(30, 8) },
      { group: "aqst_programme", key: "integrativo", series: line(10, 4) },
      { group: "aqst_programme", key: "none", series: line(2, 2) },
    ],
    total: line(8, 7),
  };
  const projects = (await json(`/collections/${LAYER}/items?limit=1000`)).features;
  const axisName = projects.find((f) => f.properties.axis === 1).properties.axis_name;
  const { page, context, problems } = await harness.openMap(browser, base);
  try {
    await page.route("**/indicators/monitoring/series*", (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(doc) }));
    await page.click("#tab-button-indicators");
    await checkChart(page, doc, "axis", "progress_mean_pct");
    // The legend names the axes as the projects do, and the table holds the numbers.
    const legend = await page.locator(".progress-legend label").allTextContents();
    assert.ok(legend.some((t) => t.trim() === `1 · ${axisName}`), `${legend}`);
    const cells = await page.locator('.progress-table tr[data-key="1"] td.num').allTextContents();
    assert.deepEqual(cells, doc.groups[0].series.map((p) => `${p.progress_mean_pct.toFixed(1)}%`));
    const gaps = await page.locator('.progress-table tr[data-key="2"] td.num').allTextContents();
    assert.deepEqual([gaps[2], gaps[3]], ["–", "–"]);
    // Another measure, other groups; a line taken out through its legend checkbox.
    await page.selectOption("#progress-measure", "progress_weighted_pct");
    await checkChart(page, doc, "axis", "progress_weighted_pct");
    for (const group of ["emblematic_action", "aqst_programme"]) {
      await page.selectOption("#progress-group", group);
      await checkChart(page, doc, group, "progress_weighted_pct");
    }
    await page.locator('.progress-legend input[data-key="primo"]').uncheck();
    assert.equal(await page.locator('#progress-chart path.series[data-key="primo"]').count(), 0);
    assert.equal(await page.locator('#progress-chart path.series[data-key="integrativo"]').count(), 1);
    await page.screenshot({ path: join(harness.ROOT, "target", "web-map-progress.png") });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
