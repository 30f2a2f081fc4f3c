// What the browser tests share: a real territorio (target/debug/territorio serve on a free
// port, the demo catalogue), Debian's Chromium driven by playwright-core, and the map opened
// with every console error, page error and failed request recorded.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BINARY = process.env.TERRITORIO_BIN || join(ROOT, "target", "debug", "territorio");
export const CATALOG = join(ROOT, "examples", "cremona", "catalog.toml");
export const VIEWPORT = { width: 1400, height: 900 };

/**
 * Starts `territorio serve` on the demo (or on `catalog`) with `extra` arguments; resolves to
 * { base, stop }.
 */
export async function startServer(extra = [], { catalog = CATALOG } = {}) {
  const server = spawn(
    BINARY,
    ["serve", "--catalog", catalog, "--web-dir", join(ROOT, "web"), "--addr", "127.0.0.1:0", ...extra],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TERRITORIO_LOG: "warn" } },
  );
  const base = await new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`territorio did not start:\n${text}`)), 60000);
    server.stderr.on("data", (chunk) => {
      text += chunk;
      const m = text.match(/territorio is serving at (http:\/\/\S+?)\/? /);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on("exit", (code) => reject(new Error(`territorio exited (${code}):\n${text}`)));
  });
  const stop = async () => {
    if (server.exitCode !== null) return;
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r() : server.on("exit", r)));
  };
  return { base, stop };
}

/** Chromium, headless; playwright gives every launch a new, empty profile (--user-data-dir). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Opens the map (through the /map redirect) in a new browser context and waits until its first
 * data is drawn. `problems` collects console errors (with the URL they are about), page errors,
 * failed requests and answers >= 400 (`HTTP status: url`); `requests` every request.
 */
export async function openMap(browser, base, query = "") {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const where = m.location() && m.location().url;
    problems.push(`console: ${m.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`${base}/map${query}`);
  await page.waitForFunction(() => window.territorio && window.territorio.ready === true, null, { timeout: 30000 });
  return { page, context, problems, requests };
}

/**
 * The problems left once the answers a test expects (`[status, path]` pairs: the status and
 * the URL path of a refused request) and the console's notes of them are taken out.
 */
export function unexpected(problems, expected) {
  const matches = (line) =>
    expected.some(([status, path]) => {
      const url = line.match(/(https?:\/\/\S+?)\)?$/);
      if (!url || new URL(url[1]).pathname !== path) return false;
      return line.startsWith(`HTTP ${status}: `) || (line.startsWith("console: ") && line.includes(`status of ${status}`));
    });
  return problems.filter((line) => !matches(line));
}

/** Waits for the data in flight and a rendered frame. */
export async function idle(page) {
  await page.evaluate(async () => {
    const t = window.territorio;
    await t.layers.settled();
    await new Promise((resolve) => {
      t.map.once("idle", resolve);
      t.map.triggerRepaint();
    });
  });
}

/** The JSON of a GET, asserting success. */
export async function json(base, path, init = {}) {
  const r = await fetch(path.startsWith("http") ? path : `${base}${path}`, init);
  assert.ok(r.ok, `${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}
