// The details panel: a project's site report, "what is here" at a clicked point, and the
// overlay summary of a drawn site. Rendered with DOM calls (never HTML strings) so names from
// the data are shown as text.
import { formatArea, formatDistance, formatLength, formatShare } from "./geometry.js";

/** el("p", { className: "x" }, "text", child...) */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "className") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    // Through the CSSOM: the page's Content-Security-Policy allows no style attribute.
    else if (k === "style") e.style.cssText = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** Colours of the highlights by relation, shared with the map layers. */
export const RELATION_COLOURS = {
  project: "#f1c40f",
  site: "#2c3e50",
  intersects: "#e74c3c",
  within: "#7d3c98",
  here: "#e74c3c",
  nearest: "#2471a3",
  overlap: "#e67e22",
};

const swatch = (relation) => el("span", { className: "relation", style: `background:${RELATION_COLOURS[relation]}` });

const nameOf = (x) => (x && (x.name || x.id)) || "";
const measure = (x) => {
  if (!x) return "";
  if (x.area_m2 > 0) return formatArea(x.area_m2);
  if (x.length_m > 0) return formatLength(x.length_m);
  return "";
};

function table(headers, rows) {
  return el(
    "table",
    {},
    el("tr", {}, headers.map((h) => el("th", {}, h))),
    rows.map((r) => el("tr", {}, r.map((c, i) => el("td", { className: i > 0 && typeof c === "string" && /^[\d.,–]/.test(c) ? "num" : null }, c)))),
  );
}

/**
 * The productive-area verdict of a report: inside (the project lies in an area), partly
 * (it overlaps one or more), or outside (with the nearest area and its distance).
 */
export function productiveVerdict(settlement) {
  const areas = (settlement && settlement.productive_areas) || [];
  const describe = (a) =>
    [a.kind, a.status, a.sovracomunale ? "supra-municipal" : null].filter(Boolean).join(", ");
  const containing = areas.find((a) => a.contains_project);
  if (containing) {
    return el(
      "div",
      { className: "verdict inside", dataset: { verdict: "inside", area: containing.id } },
      "Inside the productive area ",
      el("strong", {}, nameOf(containing)),
      ` (${containing.id}; ${describe(containing)}).`,
    );
  }
  if (areas.length) {
    return el(
      "div",
      { className: "verdict partly", dataset: { verdict: "partly", area: areas.map((a) => a.id).join(" ") } },
      "Partly in productive areas: ",
      areas.map((a, i) => [i ? "; " : "", el("strong", {}, nameOf(a)), ` (${a.id}; ${describe(a)}${measure(a) ? `; overlap ${measure(a)}` : ""})`]),
      ".",
    );
  }
  const n = settlement && settlement.nearest_productive_area;
  if (!n) return el("div", { className: "verdict outside", dataset: { verdict: "none" } }, "The catalogue has no productive area.");
  return el(
    "div",
    { className: "verdict outside", dataset: { verdict: "outside", area: n.id, distance: n.distance_m } },
    "Outside every productive area; the nearest is ",
    el("strong", {}, nameOf(n)),
    ` (${n.id}) at `,
    el("strong", { className: "distance" }, formatDistance(n.distance_m)),
    ".",
  );
}

function municipalitiesLine(list) {
  if (!list || !list.length) return el("p", { className: "municipality" }, "Outside every municipality of the catalogue.");
  if (list.length === 1) {
    return el("p", { className: "municipality", dataset: { municipalities: list[0].name } }, "In ", el("strong", {}, list[0].name), ".");
  }
  return el(
    "p",
    { className: "municipality", dataset: { municipalities: list.map((m) => m.name).join("|") } },
    "Across ",
    list.map((m, i) => [i ? ", " : "", el("strong", {}, m.name), ` (${formatShare(m.share)})`]),
    ".",
  );
}

function nearestRows(list) {
  return (list || []).map((x) => [
    String(x.what || x.role || "").replaceAll("_", " "),
    x.nearest ? nameOf(x.nearest) : "none",
    x.nearest ? formatDistance(x.nearest.distance_m) : "–",
  ]);
}

function environmentalSection(env) {
  if (!Array.isArray(env) || !env.length) return null;
  const rows = [];
  for (const c of env) {
    const role = String(c.role || c.layer).replaceAll("_", " ");
    if (c.touched && c.touched.length) {
      for (const t of c.touched) rows.push([role, el("span", {}, swatch("intersects"), nameOf(t)), measure(t) || "touched"]);
    } else if (c.nearest) {
      rows.push([role, el("span", {}, swatch("nearest"), nameOf(c.nearest)), `${formatDistance(c.nearest.distance_m)} away`]);
    } else {
      rows.push([role, "none", "–"]);
    }
  }
  return [el("h3", {}, "Environmental constraints"), table(["constraint", "feature", "overlap or distance"], rows)];
}

function ruralSection(rural) {
  if (!rural) return null;
  const out = [el("h3", {}, "Rural system")];
  const taken = rural.agricultural_area_m2 > 0 ? formatArea(rural.agricultural_area_m2) : rural.agricultural_length_m > 0 ? formatLength(rural.agricultural_length_m) : "none";
  out.push(
    el(
      "p",
      { className: "agricultural", dataset: { m2: rural.agricultural_area_m2 } },
      "Strategic agricultural land taken: ",
      el("strong", {}, taken),
      rural.agricultural_share !== null && rural.agricultural_share !== undefined ? ` (${formatShare(rural.agricultural_share)} of the site)` : "",
      ".",
    ),
  );
  if (rural.agricultural_areas && rural.agricultural_areas.length) {
    out.push(table(["agricultural area", "taken"], rural.agricultural_areas.map((a) => [nameOf(a), measure(a)])));
  }
  if (rural.agrifood_sites) {
    const r = rural.agrifood_radius_m ? ` within ${formatDistance(rural.agrifood_radius_m)}` : "";
    out.push(
      el("p", {}, rural.agrifood_sites.length ? `Agri-food and agro-energy sites${r}: ` : `No agri-food or agro-energy site${r}.`,
        rural.agrifood_sites.map((s, i) => [i ? ", " : "", `${nameOf(s)}${s.distance_m !== undefined ? ` (${formatDistance(s.distance_m)})` : ""}`])),
    );
  }
  return out;
}

function settlementSection(settlement) {
  if (!settlement) return null;
  const out = [el("h3", {}, "Settlement system")];
  const areas = settlement.productive_areas || [];
  if (areas.length) {
    out.push(table(["productive area", "kind, status", "overlap"], areas.map((a) => [
      el("span", {}, swatch("intersects"), `${nameOf(a)} (${a.id})`),
      [a.kind, a.status, a.sovracomunale ? "supra-municipal" : null].filter(Boolean).join(", "),
      measure(a) || (a.contains_project ? "contains it" : "touches"),
    ])));
  }
  const near = [
    ["nearest productive area", settlement.nearest_productive_area],
    ["nearest supra-municipal area", settlement.nearest_supra_municipal_area],
  ].filter(([, n]) => n);
  if (near.length) {
    out.push(table(["", "", "distance"], near.map(([what, n]) => [what, el("span", {}, swatch("nearest"), nameOf(n)), formatDistance(n.distance_m)])));
  }
  const urban = settlement.urban_areas || [];
  out.push(el("p", {}, urban.length ? "Urban areas: " : "In no urban area.", urban.map((u, i) => [i ? ", " : "", nameOf(u), measure(u) ? ` (${measure(u)})` : ""])));
  return out;
}

function listSection(title, list) {
  if (!Array.isArray(list) || !list.length) return null;
  return [el("h3", {}, title), table(["nearest", "", "distance"], nearestRows(list))];
}

function summaryList(summary) {
  if (!Array.isArray(summary) || !summary.length) return null;
  return [
    el("h3", {}, "Summary by system"),
    el("ul", { className: "summary-lines" }, summary.map((s) => el("li", { dataset: { system: s.system } }, el("span", { className: "system-name" }, s.system), ": ", s.text))),
  ];
}

/** The site report of a catalogue project. */
export function projectReport(report, { reportUrl }) {
  const p = report.project || {};
  const size = p.area_m2 > 0 ? formatArea(p.area_m2) : p.length_m > 0 ? formatLength(p.length_m) : "";
  return el(
    "article",
    { className: "report", dataset: { report: p.id } },
    el("h2", {}, p.title || p.id),
    el("p", { className: "muted" }, [p.id, p.geometry_type, size].filter(Boolean).join(" · ")),
    productiveVerdict(report.settlement),
    municipalitiesLine(report.municipalities),
    summaryList(report.summary),
    settlementSection(report.settlement),
    environmentalSection(report.environmental),
    ruralSection(report.rural),
    listSection("Infrastructure", report.infrastructure),
    listSection("Services", report.services),
    el("p", { className: "muted" }, "The report as ", el("a", { href: reportUrl, target: "_blank" }, "JSON"), " · ", el("a", { href: `${reportUrl}?f=geojson`, target: "_blank" }, "GeoJSON"), "."),
  );
}

/** "What is here": the located features by system, and the nearest productive area. */
export function locatePanel(located, nearest, lngLat, titles) {
  const systems = located.systems || {};
  const byLayer = new Map();
  for (const f of located.features || []) {
    const l = f.properties._layer;
    if (!byLayer.has(l)) byLayer.set(l, []);
    byLayer.get(l).push(f);
  }
  const featureName = (f) => f.properties.name || f.properties.title || f.id;
  const sections = [];
  for (const [system, layers] of Object.entries(systems)) {
    const items = [];
    for (const l of layers) {
      const fs = byLayer.get(l.layer) || [];
      items.push(el("li", { dataset: { layer: l.layer } }, el("strong", {}, l.title || titles.get(l.layer) || l.layer), ": ", fs.length ? fs.map((f, i) => [i ? ", " : "", featureName(f)]) : `${l.count}`));
    }
    sections.push(el("h3", {}, system), items.length ? el("ul", { dataset: { system } }, items) : el("p", { className: "muted" }, "nothing here"));
  }
  const n = nearest && nearest.features && nearest.features[0];
  const nearestBox = n
    ? el(
        "div",
        { className: `verdict ${n.properties.distance_m > 0 ? "outside" : "inside"}`, dataset: { nearest: n.id, distance: n.properties.distance_m } },
        n.properties.distance_m > 0 ? "Nearest productive area: " : "Inside the productive area ",
        el("strong", {}, featureName(n)),
        ` (${n.id})`,
        n.properties.distance_m > 0 ? [" at ", el("strong", { className: "distance" }, formatDistance(n.properties.distance_m))] : "",
        ".",
      )
    : el("p", { className: "muted" }, "No productive area found.");
  return el(
    "article",
    { className: "locate", dataset: { locate: `${lngLat.lng},${lngLat.lat}` } },
    el("h2", {}, "What is here"),
    el("p", { className: "muted" }, `${lngLat.lat.toFixed(5)} N, ${lngLat.lng.toFixed(5)} E`),
    nearestBox,
    sections.length ? sections : el("p", { className: "muted" }, "No feature of the catalogue at this point."),
  );
}

/** The overlay summary of a drawn site, per system. */
export function sitePanel(report, overlay, siteGeometry) {
  const summary = (overlay && overlay.summary) || [];
  const site = (overlay && overlay.site) || {};
  const p = report.project || {};
  const siteArea = p.area_m2 ?? site.area_m2;
  const total = summary.reduce((s, g) => s + (g.overlap_area_m2 || 0), 0);
  return el(
    "article",
    { className: "site-report", dataset: { site: JSON.stringify(siteGeometry.coordinates[0].length) } },
    el("h2", {}, "Prospective site"),
    el("p", { className: "site-area", dataset: { m2: siteArea } }, "Area of the site: ", el("strong", {}, formatArea(siteArea)), "."),
    municipalitiesLine(report.municipalities),
    el("h3", {}, "Productive areas by kind"),
    summary.length
      ? table(
          ["kind", "areas", "overlap", "share of site"],
          summary.map((g) => [
            el("span", { className: "kind", dataset: { kind: g.key, m2: g.overlap_area_m2 } }, swatch("overlap"), String(g.key)),
            String(g.count),
            formatArea(g.overlap_area_m2),
            formatShare(g.share_of_site),
          ]).concat([[el("strong", {}, "total"), "", el("span", { className: "total", dataset: { m2: total } }, formatArea(total)), formatShare(siteArea ? total / siteArea : null)]]),
        )
      : el("p", { className: "no-overlap" }, "The site overlaps no productive area."),
    productiveVerdict(report.settlement),
    environmentalSection(report.environmental),
    ruralSection(report.rural),
    summaryList(report.summary),
  );
}
