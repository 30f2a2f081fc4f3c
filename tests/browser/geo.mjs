// Independent plane geometry for the browser tests' expected values: no code of territorio's,
// no GIS library. Areas and distances are computed in WGS 84 / UTM zone 32N (EPSG:32632), the
// demo's working CRS, from coordinates the OGC API gives in that CRS, or from CRS84 positions
// projected here with the Krüger series of the transverse Mercator projection.

const A_AXIS = 6378137;
const FLATTENING = 1 / 298.257223563;
const K0 = 0.9996;
const N = FLATTENING / (2 - FLATTENING);
const E = Math.sqrt(FLATTENING * (2 - FLATTENING));
// Rectifying radius and the series coefficients alpha_1..alpha_6 (Krüger, to n^6).
const RECT = (A_AXIS / (1 + N)) * (1 + N ** 2 / 4 + N ** 4 / 64 + N ** 6 / 256);
const ALPHA = [
  N / 2 - (2 * N ** 2) / 3 + (5 * N ** 3) / 16 + (41 * N ** 4) / 180 - (127 * N ** 5) / 288 + (7891 * N ** 6) / 37800,
  (13 * N ** 2) / 48 - (3 * N ** 3) / 5 + (557 * N ** 4) / 1440 + (281 * N ** 5) / 630 - (1983433 * N ** 6) / 1935360,
  (61 * N ** 3) / 240 - (103 * N ** 4) / 140 + (15061 * N ** 5) / 26880 + (167603 * N ** 6) / 181440,
  (49561 * N ** 4) / 161280 - (179 * N ** 5) / 168 + (6601661 * N ** 6) / 7257600,
  (34729 * N ** 5) / 80640 - (3418889 * N ** 6) / 1995840,
  (212378941 * N ** 6) / 319334400,
];

/** CRS84 (lon, lat in degrees) to UTM zone 32N (easting, northing in metres). */
export function utm32([lon, lat]) {
  const phi = (lat * Math.PI) / 180;
  const lambda = ((lon - 9) * Math.PI) / 180;
  const s = Math.sin(phi);
  const t = Math.sinh(Math.atanh(s) - E * Math.atanh(E * s));
  const xiP = Math.atan2(t, Math.cos(lambda));
  const etaP = Math.atanh(Math.sin(lambda) / Math.sqrt(1 + t * t));
  let xi = xiP;
  let eta = etaP;
  ALPHA.forEach((a, i) => {
    const j = 2 * (i + 1);
    xi += a * Math.sin(j * xiP) * Math.cosh(j * etaP);
    eta += a * Math.cos(j * xiP) * Math.sinh(j * etaP);
  });
  return [500000 + K0 * RECT * eta, K0 * RECT * xi];
}

/** The polygons (arrays of rings) of a Polygon or MultiPolygon geometry. */
export function polygons(geometry) {
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

/** Signed area of a ring (shoelace; positive counter-clockwise). */
export function signedArea(ring) {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    s += x1 * y2 - x2 * y1;
  }
  return s / 2;
}

export function perimeter(ring) {
  let p = 0;
  for (let i = 0; i + 1 < ring.length; i++) p += Math.hypot(ring[i + 1][0] - ring[i][0], ring[i + 1][1] - ring[i][1]);
  return p;
}

/** Area of a polygon given as rings (shell minus holes). */
export function polygonArea(rings) {
  return Math.abs(signedArea(rings[0])) - rings.slice(1).reduce((s, r) => s + Math.abs(signedArea(r)), 0);
}

/**
 * Sutherland-Hodgman: the part of `subject` (any simple ring) inside the convex ring `clip`.
 * The result may have zero-width spikes where a concave subject leaves and re-enters the clip
 * window; they add no area.
 */
export function clipRing(subject, clip) {
  const ccw = signedArea(clip) > 0;
  const open = (r) => (r.length > 1 && r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1] ? r.slice(0, -1) : r);
  const window = open(clip);
  let output = open(subject);
  for (let i = 0; i < window.length && output.length; i++) {
    const a = window[i];
    const b = window[(i + 1) % window.length];
    const side = (p) => {
      const c = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
      return ccw ? c : -c;
    };
    const cross = (p, q) => {
      const sp = side(p);
      const sq = side(q);
      const t = sp / (sp - sq);
      return [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
    };
    const input = output;
    output = [];
    for (let k = 0; k < input.length; k++) {
      const p = input[k];
      const q = input[(k + 1) % input.length];
      const pin = side(p) >= 0;
      const qin = side(q) >= 0;
      if (pin) output.push(p);
      if (pin !== qin) output.push(cross(p, q));
    }
  }
  return output;
}

/** Area of the intersection of a polygon (rings) with a convex ring. */
export function clippedArea(rings, convex) {
  const shell = clipRing(rings[0], convex);
  let area = shell.length >= 3 ? Math.abs(signedArea(shell)) : 0;
  for (const hole of rings.slice(1)) {
    const h = clipRing(hole, convex);
    if (h.length >= 3) area -= Math.abs(signedArea(h));
  }
  return area;
}

/** The perimeter of the intersection's shell (to bound the effect of coordinate rounding). */
export function clippedPerimeter(rings, convex) {
  const shell = clipRing(rings[0], convex);
  return shell.length >= 3 ? perimeter([...shell, shell[0]]) : 0;
}

function insideRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether a point lies inside a Polygon or MultiPolygon (not in a hole). */
export function contains(geometry, p) {
  return polygons(geometry).some((rings) => insideRing(p, rings[0]) && !rings.slice(1).some((h) => insideRing(p, h)));
}

function segmentDistance([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Distance from a point to a polygon: 0 inside, else to the nearest edge. */
export function distanceToPolygon(geometry, p) {
  if (contains(geometry, p)) return 0;
  let best = Infinity;
  for (const rings of polygons(geometry)) {
    for (const ring of rings) {
      for (let i = 0; i + 1 < ring.length; i++) best = Math.min(best, segmentDistance(p, ring[i], ring[i + 1]));
    }
  }
  return best;
}

/** Every position of a geometry. */
export function positions(geometry) {
  const out = [];
  const walk = (c) => {
    if (typeof c[0] === "number") out.push(c);
    else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return out;
}

/** Distance from a point to any geometry: 0 inside a polygon, else to its nearest part. */
export function distanceToGeometry(geometry, p) {
  switch (geometry.type) {
    case "Point":
      return Math.hypot(geometry.coordinates[0] - p[0], geometry.coordinates[1] - p[1]);
    case "MultiPoint":
      return Math.min(...geometry.coordinates.map((c) => Math.hypot(c[0] - p[0], c[1] - p[1])));
    case "LineString":
    case "MultiLineString": {
      const lines = geometry.type === "LineString" ? [geometry.coordinates] : geometry.coordinates;
      let best = Infinity;
      for (const l of lines) for (let i = 0; i + 1 < l.length; i++) best = Math.min(best, segmentDistance(p, l[i], l[i + 1]));
      return best;
    }
    default:
      return distanceToPolygon(geometry, p);
  }
}
