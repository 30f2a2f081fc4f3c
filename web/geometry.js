// Small geometry helpers for drawing on the map (CRS84 coordinates). Measures shown to the
// user always come from the server, which works in metres in its working CRS; these helpers
// only place things on screen (bounds to zoom to, the ends of a connector line).

/** Calls fn([lon, lat]) for every position of a GeoJSON geometry. */
export function eachPosition(geometry, fn) {
  if (!geometry) return;
  const walk = (c, depth) => {
    if (depth === 0) fn(c);
    else for (const x of c) walk(x, depth - 1);
  };
  switch (geometry.type) {
    case "Point": walk(geometry.coordinates, 0); break;
    case "MultiPoint":
    case "LineString": walk(geometry.coordinates, 1); break;
    case "MultiLineString":
    case "Polygon": walk(geometry.coordinates, 2); break;
    case "MultiPolygon": walk(geometry.coordinates, 3); break;
    case "GeometryCollection": for (const g of geometry.geometries) eachPosition(g, fn); break;
    default: break;
  }
}

/** [west, south, east, north] of geometries, or null when they have no position. */
export function bounds(geometries) {
  let b = null;
  for (const g of geometries) {
    eachPosition(g, ([x, y]) => {
      if (!b) b = [x, y, x, y];
      else b = [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)];
    });
  }
  return b;
}

/** The segments ([a, b] pairs) and lone points of a geometry, for nearest-point searches. */
function parts(geometry) {
  const segments = [];
  const points = [];
  const line = (coords) => {
    for (let i = 1; i < coords.length; i++) segments.push([coords[i - 1], coords[i]]);
    if (coords.length === 1) points.push(coords[0]);
  };
  const visit = (g) => {
    switch (g.type) {
      case "Point": points.push(g.coordinates); break;
      case "MultiPoint": points.push(...g.coordinates); break;
      case "LineString": line(g.coordinates); break;
      case "MultiLineString": g.coordinates.forEach(line); break;
      case "Polygon": g.coordinates.forEach(line); break;
      case "MultiPolygon": g.coordinates.forEach((p) => p.forEach(line)); break;
      case "GeometryCollection": g.geometries.forEach(visit); break;
      default: break;
    }
  };
  if (geometry) visit(geometry);
  return { segments, points };
}

/** A local plane around `origin` in metres (equirectangular): good enough to place a line. */
function plane(origin) {
  const k = Math.cos((origin[1] * Math.PI) / 180);
  const m = 111320;
  return {
    to: ([lon, lat]) => [(lon - origin[0]) * k * m, (lat - origin[1]) * m],
    from: ([x, y]) => [origin[0] + x / (k * m), origin[1] + y / m],
  };
}

function closestOnSegment(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len));
  return [a[0] + t * dx, a[1] + t * dy];
}

function insideRing(p, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether a position lies inside a (Multi)Polygon. */
export function insidePolygon(p, geometry) {
  const polygons =
    geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  return polygons.some(
    (rings) => insideRing(p, rings[0]) && !rings.slice(1).some((hole) => insideRing(p, hole)),
  );
}

/** The point of `geometry` nearest to position `p` (p itself when inside a polygon). */
export function nearestPoint(p, geometry) {
  if (insidePolygon(p, geometry)) return p;
  const pl = plane(p);
  const q = pl.to(p);
  const { segments, points } = parts(geometry);
  let best = null;
  let bestD = Infinity;
  const consider = (c) => {
    const d = Math.hypot(c[0] - q[0], c[1] - q[1]);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  };
  for (const pt of points) consider(pl.to(pt));
  for (const [a, b] of segments) consider(closestOnSegment(q, pl.to(a), pl.to(b)));
  return best ? pl.from(best) : p;
}

/** The two nearest points of two geometries ([pa, pb]); vertex-to-part both ways. */
export function nearestPair(a, b) {
  let best = null;
  let bestD = Infinity;
  const origin = [];
  eachPosition(a, (c) => { if (!origin.length) origin.push(...c); });
  if (!origin.length) return null;
  const pl = plane(origin);
  const try_ = (from, to, swap) => {
    eachPosition(from, (c) => {
      const n = nearestPoint(c, to);
      const [x1, y1] = pl.to(c);
      const [x2, y2] = pl.to(n);
      const d = Math.hypot(x2 - x1, y2 - y1);
      if (d < bestD) {
        bestD = d;
        best = swap ? [n, c] : [c, n];
      }
    });
  };
  try_(a, b, false);
  try_(b, a, true);
  return best;
}

export function formatDistance(m) {
  if (m === null || m === undefined || Number.isNaN(m)) return "–";
  if (m < 1000) return `${Math.round(m)} m`;
  return `${(m / 1000).toFixed(2)} km`;
}

export function formatArea(m2) {
  if (m2 === null || m2 === undefined || Number.isNaN(m2)) return "–";
  const ha = m2 / 10000;
  return `${Math.round(m2).toLocaleString("en-US")} m² (${ha.toFixed(2)} ha)`;
}

export function formatLength(m) {
  if (m === null || m === undefined || Number.isNaN(m)) return "–";
  return `${Math.round(m).toLocaleString("en-US")} m`;
}

export function formatShare(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return "–";
  return `${(s * 100).toFixed(1)}%`;
}
