#!/usr/bin/python3
"""The PostGIS side of scripts/bench-postgis, and its report.

`bench.py measure --dsn DSN --territorio URL --out FILE.json`
    Times the engine benchmark's queries (benches/engine.rs) in PostGIS, as prepared
    statements (PREPARE/EXECUTE) over the Unix socket of the throwaway cluster, with psycopg2,
    on the same inputs; then checks that PostGIS and territorio give the same answers, on a
    sample of those inputs for the per-point queries and on every feature for the joins,
    asking territorio through its HTTP API (the server at URL serves the same layers).

`bench.py loads --loads FILE`
    Prints the load times (min, median, each run) of scripts/bench-postgis's step 5 alone.

`bench.py report --pg FILE.json --criterion DIR --loads FILE --wrk FILE --out FILE.md`
    Writes the markdown table: query | territorio | PostGIS | ratio.

The inputs. benches/synthetic/mod.rs makes its query points with a counter-based generator
(a 64-bit integer hash of the counter, `unit`); it is mirrored here with the same integer
arithmetic (wrapping at 2^64) and the same float operations, so the points are the same
doubles. `measure` checks that: the mirror's seed-1 points must equal, bit for bit, the first
points of the `points` table (which the engine benchmark wrote from seed 1). The ~1 km² sites
use sin/cos of the turn angle, which Python and Rust both take from the C library.

The statistic. Criterion's median is the median over samples of each sample's mean time per
call; here too: the calls are grouped in consecutive samples (every input used equally
often, in order, as criterion's loop cycles through them), and the figure is the median of
the samples' means. Each PostGIS call is timed from `execute` to the end of `fetchall` in
Python: it includes the round trip over the socket and psycopg2's work, and the time of a
prepared `SELECT 1` (the floor) is reported beside it.
"""

import argparse
import glob
import json
import math
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request

M64 = (1 << 64) - 1
X0, X1 = 545_000.0, 640_000.0
Y0, Y1 = 4_985_000.0, 5_040_000.0
SRID = 32632


# --- the generator of benches/synthetic/mod.rs ------------------------------------------------

def unit(a, b, c):
    z = ((a * 0x9E3779B97F4A7C15) & M64) ^ ((b * 0xC2B2AE3D27D4EB4F) & M64) ^ (
        (c * 0x165667B19E3779F9) & M64
    )
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & M64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & M64
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


class Rng:
    def __init__(self, seed):
        self.state = seed

    def f64(self):
        self.state = (self.state + 1) & M64
        return unit(self.state, 0xA5A5, 0x5A5A)

    def range(self, lo, hi):
        return lo + (hi - lo) * self.f64()


def points(n, seed):
    rng = Rng(seed)
    out = []
    for _ in range(n):
        x = rng.range(X0, X1)
        y = rng.range(Y0, Y1)
        out.append((x, y))
    return out


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def site(c, turn):
    """A square of 1,000 m turned by `turn` radians around c (benches/engine.rs `site`)."""
    s, co = math.sin(turn), math.cos(turn)

    def corner(u, v):
        return (c[0] + u * co - v * s, c[1] + u * s + v * co)

    ring = [corner(-500.0, -500.0), corner(500.0, -500.0), corner(500.0, 500.0),
            corner(-500.0, 500.0), corner(-500.0, -500.0)]
    return ring


def l_site(c):
    """The concave L of three 577 m squares (benches/engine.rs `l_site`)."""
    a = 577.0
    pts = [(0.0, 0.0), (2 * a, 0.0), (2 * a, a), (a, a), (a, 2 * a), (0.0, 2 * a), (0.0, 0.0)]
    return [(c[0] + x, c[1] + y) for x, y in pts]


def wkt(ring):
    return "POLYGON((" + ",".join(f"{x!r} {y!r}" for x, y in ring) + "))"


def inputs():
    queries = points(1024, 99)
    centres = [
        (clamp(x, X0 + 1500.0, X1 - 1500.0), clamp(y, Y0 + 1500.0, Y1 - 1500.0))
        for x, y in points(256, 77)
    ]
    sites = [wkt(site(c, i * 0.1)) for i, c in enumerate(centres)]
    l_sites = [wkt(l_site(c)) for c in centres]
    return queries, sites, l_sites


# --- PostGIS -------------------------------------------------------------------------------------

POINT = f"ST_SetSRID(ST_MakePoint($1, $2), {SRID})"

STATEMENTS = {
    "floor": ("", "SELECT 1"),
    # analysis::select(zones, point, Intersects): the zones the point is in.
    "pip": ("(float8, float8)", f"SELECT code FROM zones WHERE ST_Intersects(geom, {POINT})"),
    # analysis::nearest(zones, point, 5): the 5 nearest, with their distance (KNN on the GIST
    # index; PostGIS orders polygons by their true distance).
    "nearest": (
        "(float8, float8)",
        f"SELECT code, ST_Distance(geom, {POINT}) FROM zones ORDER BY geom <-> {POINT} LIMIT 5",
    ),
    # analysis::within_distance(roads, point, 500): the roads within 500 m, nearest first.
    "within": (
        "(float8, float8)",
        f"SELECT code, d FROM (SELECT code, ST_Distance(geom, {POINT}) AS d FROM roads "
        f"WHERE ST_DWithin(geom, {POINT}, 500)) r ORDER BY d, code",
    ),
    # analysis::overlay(zones, site, group_by kind, no geometry): per kind, how many zones meet
    # the site and the area of their overlap.
    "overlay": (
        "(text)",
        f"WITH s AS MATERIALIZED (SELECT ST_GeomFromText($1, {SRID}) AS g) "
        "SELECT z.kind, count(*), sum(ST_Area(ST_Intersection(z.geom, s.g))) "
        "FROM zones z, s WHERE ST_Intersects(z.geom, s.g) GROUP BY z.kind ORDER BY z.kind",
    ),
    # analysis::spatial_join(points, zones, intersects, all): every point with its zones (the
    # ORDER BY, which territorio does not need, sorts 20,000 rows: a few ms of the figure).
    "join_points": (
        "",
        "SELECT p.code, z.code FROM points p JOIN zones z ON ST_Intersects(z.geom, p.geom) "
        "ORDER BY p.code, z.code",
    ),
    # analysis::spatial_join(roads, zones, intersects, largest overlap): each road with the
    # zone it runs longest in.
    "join_roads": (
        "",
        "SELECT DISTINCT ON (r.code) r.code, z.code FROM roads r "
        "JOIN zones z ON ST_Intersects(z.geom, r.geom) "
        "ORDER BY r.code, ST_Length(ST_Intersection(z.geom, r.geom)) DESC, z.code",
    ),
}


def connect(dsn):
    import psycopg2  # Debian's python3-psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    for name, (types, sql) in STATEMENTS.items():
        cur.execute(f"PREPARE {name}{types} AS {sql}")
    return conn, cur


def call(cur, name, args):
    if args:
        placeholders = ", ".join(["%s"] * len(args))
        cur.execute(f"EXECUTE {name}({placeholders})", args)
    else:
        cur.execute(f"EXECUTE {name}")
    return cur.fetchall()


def timed(cur, name, args_list, samples, rounds, warmup):
    """Median over `samples` samples of the mean time per call (seconds), calling `name` on
    args_list `rounds` times over, in order; after `warmup` untimed calls."""
    for k in range(warmup):
        call(cur, name, args_list[k % len(args_list)])
    calls = [args_list[k % len(args_list)] for k in range(rounds * len(args_list))]
    per_sample = max(1, len(calls) // samples)
    means = []
    for s in range(0, len(calls) - per_sample + 1, per_sample):
        t0 = time.perf_counter()
        for args in calls[s:s + per_sample]:
            call(cur, name, args)
        means.append((time.perf_counter() - t0) / per_sample)
    return {"median_s": statistics.median(means), "samples": len(means), "calls_per_sample": per_sample}


# --- territorio over HTTP (for the answers) --------------------------------------------------

def get(base, path, params):
    url = base + path + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
    return body


def get_json(base, path, params):
    return json.loads(get(base, path, params))


EPSG = f"http://www.opengis.net/def/crs/EPSG/0/{SRID}"


def territorio_pip(base, x, y):
    doc = get_json(base, "/collections/zones/items", {
        "filter": f"S_INTERSECTS(geometry,POINT({x!r} {y!r}))",
        "filter-crs": EPSG,
        "limit": "100",
    })
    return sorted(int(f["id"]) for f in doc["features"])


def territorio_near(base, layer, x, y, **extra):
    op = "/analysis/nearest" if "k" in extra else "/analysis/within"
    params = {"layer": layer, "point": f"{x!r},{y!r}", "subject-crs": EPSG}
    params.update({k: str(v) for k, v in extra.items()})
    doc = get_json(base, op, params)
    return [(int(f["id"]), f["properties"]["distance_m"]) for f in doc["features"]]


def territorio_overlay(base, site_wkt):
    doc = get_json(base, "/analysis/overlay", {
        "layer": "zones", "geometry": site_wkt, "subject-crs": EPSG, "group_by": "kind",
    })
    return {r["key"]: (r["count"], r["overlap_area_m2"]) for r in doc["summary"]}


def territorio_join(base, target, mode):
    text = get(base, "/analysis/join", {
        "target": target, "join": "zones", "mode": mode, "fields": "code", "f": "csv",
    }).decode()
    lines = text.strip().splitlines()
    header = lines[0].split(",")
    return header, [line.split(",") for line in lines[1:]]


def close(a, b, rel=1e-9, abs_=1e-6):
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def check_answers(cur, base, queries, sites, l_sites, sample):
    """Compares PostGIS's answers with territorio's; returns the report and the mismatches."""
    mismatches = []
    checked = {}
    step = max(1, len(queries) // sample)
    pts = queries[::step][:sample]
    n = 0
    for x, y in pts:
        pg = sorted(r[0] for r in call(cur, "pip", (x, y)))
        t = territorio_pip(base, x, y)
        n += 1
        if pg != t:
            mismatches.append(f"point in polygon at {x!r},{y!r}: PostGIS {pg}, territorio {t}")
    checked["point in polygon"] = f"{n} points: the zone codes"
    n = 0
    ties = 0
    for x, y in pts:
        pg = [(r[0], r[1]) for r in call(cur, "nearest", (x, y))]
        t = territorio_near(base, "zones", x, y, k=5)
        n += 1
        # The same 5 zones at the same distances, nearest first. Zones at equal distances may
        # come in either order, and a tie at the 5th place may keep either zone (territorio
        # keeps the lower id, PostGIS's KNN scan any): a zone only one side keeps must be at
        # the 5th distance, measured by PostGIS.
        same = len(pg) == len(t) and all(close(a[1], b[1]) for a, b in zip(pg, t))
        only = set(a[0] for a in pg) ^ set(b[0] for b in t)
        if same and only:
            cur.execute(
                f"SELECT code, ST_Distance(geom, ST_SetSRID(ST_MakePoint(%s, %s), {SRID})) "
                "FROM zones WHERE code = ANY(%s)", (x, y, list(only)))
            same = all(close(d, pg[-1][1]) for _, d in cur.fetchall())
            ties += 1
        if not same:
            mismatches.append(f"5 nearest at {x!r},{y!r}: PostGIS {pg}, territorio {t}")
    checked["5 nearest zones"] = (
        f"{n} points: the 5 codes and distances (1e-9 relative; {ties} with a different zone of "
        "two at the same 5th distance)"
    )
    n = 0
    roads = 0
    for x, y in pts:
        pg = sorted((r[0], r[1]) for r in call(cur, "within", (x, y)))
        t = sorted(territorio_near(base, "roads", x, y, distance=500))
        n += 1
        roads += len(pg)
        if [a[0] for a in pg] != [b[0] for b in t] or not all(
            close(a[1], b[1]) for a, b in zip(pg, t)
        ):
            mismatches.append(f"roads within 500 m of {x!r},{y!r}: PostGIS {pg}, territorio {t}")
    checked["roads within 500 m of a point"] = (
        f"{n} points ({roads} roads in all): the road codes and distances"
    )
    for label, group in (("overlay", sites), ("overlay concave", l_sites)):
        n = 0
        for s in group[:: max(1, len(group) // (sample // 2 or 1))][: sample // 2 or 1]:
            pg = {r[0]: (r[1], r[2]) for r in call(cur, "overlay", (s,))}
            t = territorio_overlay(base, s)
            n += 1
            same = set(pg) == set(t) and all(
                pg[k][0] == t[k][0] and close(pg[k][1], t[k][1], rel=1e-7, abs_=1e-4) for k in pg
            )
            if not same:
                mismatches.append(f"{label} of {s}: PostGIS {pg}, territorio {t}")
        checked[label] = f"{n} sites: per kind, the count of zones and the overlap area (1e-7 relative)"
    # The joins: every feature.
    pg = call(cur, "join_points", ())
    header, rows = territorio_join(base, "points", "all")
    code, zone = header.index("code"), header.index("zones_code")
    t = sorted((int(r[code]), int(r[zone])) for r in rows if r[zone] != "")
    if sorted(pg) != t:
        diff = sorted(set(pg) ^ set(t))[:10]
        mismatches.append(f"join of the points: {len(pg)} pairs in PostGIS, {len(t)} in territorio; first differences {diff}")
    checked["join of all 20,000 points to their zone"] = f"all {len(pg)} (point, zone) pairs"
    pg = call(cur, "join_roads", ())
    header, rows = territorio_join(base, "roads", "largest")
    code, zone = header.index("code"), header.index("zones_code")
    t = sorted((int(r[code]), int(r[zone])) for r in rows if r[zone] != "")
    if sorted(pg) != t:
        diff = sorted(set(pg) ^ set(t))[:10]
        mismatches.append(f"join of the roads: {len(pg)} pairs in PostGIS, {len(t)} in territorio; differences (first 10) {diff} of {len(set(pg) ^ set(t))}")
    checked["join of 50,000 roads to the zone they run most in"] = f"all {len(pg)} (road, zone) pairs"
    return checked, mismatches


def measure(args):
    queries, sites, l_sites = inputs()
    conn, cur = connect(args.dsn)
    # The mirror of the generator gives the benchmark's own points (seed 1 wrote `points`).
    cur.execute("SELECT code, ST_X(geom), ST_Y(geom) FROM points WHERE code <= 50 ORDER BY code")
    table = [(r[1], r[2]) for r in cur.fetchall()]
    if table != points(50, 1):
        sys.exit("the generator's mirror does not give the points of target/bench-data/points.gpkg: "
                 "benches/synthetic/mod.rs changed; update tools/bench-postgis/bench.py")
    cur.execute("SELECT postgis_lib_version(), version()")
    postgis, pg_version = cur.fetchone()
    out = {"postgis": postgis, "postgresql": pg_version.split(" on ")[0], "figures": {}}
    point_args = [(x, y) for x, y in queries]
    plan = [
        ("floor", "prepared SELECT 1 (the round trip)", [()] * 1024, 32, 2),
        ("pip", "point in polygon", point_args, 32, 2),
        ("nearest", "5 nearest zones", point_args, 32, 2),
        ("within", "roads within 500 m of a point", point_args, 32, 2),
        ("overlay", "overlay of a ~1 km2 site with zones, areas by kind", [(s,) for s in sites], 32, 2),
        ("overlay", "overlay of a ~1 km2 concave site, areas by kind", [(s,) for s in l_sites], 32, 2),
    ]
    for name, label, args_list, samples, rounds in plan:
        r = timed(cur, name, args_list, samples, rounds, warmup=min(200, len(args_list)))
        out["figures"][label] = r
        print(f"  PostGIS {label:<58} {r['median_s'] * 1e6:12.1f} µs", file=sys.stderr, flush=True)
    for name, label, runs, warmup in (
        ("join_points", "join of all 20,000 points to their zone", args.join_runs, 1),
        # About 20 s a run on this machine: fewer runs, and the data is already in memory.
        ("join_roads", "join of 50,000 roads to the zone they run most in", args.roads_runs, 0),
    ):
        r = timed(cur, name, [()], runs, runs, warmup=warmup)
        out["figures"][label] = r
        print(f"  PostGIS {label:<58} {r['median_s'] * 1e3:12.1f} ms", file=sys.stderr, flush=True)
    checked, mismatches = check_answers(cur, args.territorio, queries, sites, l_sites, args.sample)
    out["checked"] = checked
    out["mismatches"] = mismatches
    json.dump(out, open(args.out, "w"), indent=1)
    for m in mismatches:
        print("MISMATCH: " + m, file=sys.stderr)
    if mismatches:
        sys.exit(f"{len(mismatches)} answers differ between PostGIS and territorio")
    print("  the answers agree: " + "; ".join(f"{k}: {v}" for k, v in checked.items()), file=sys.stderr)


# --- the HTTP point lookup ----------------------------------------------------------------------

def lua(_args):
    """A wrk script: point lookups at the benchmark's 1,024 query points, in order, in the
    working CRS (filter-crs), and a JSON line of the figures at the end."""
    queries, _, _ = inputs()
    paths = []
    for x, y in queries:
        q = urllib.parse.urlencode({
            "filter": f"S_INTERSECTS(geometry,POINT({x!r} {y!r}))",
            "filter-crs": EPSG,
        }, quote_via=urllib.parse.quote)
        paths.append(f'"/collections/zones/items?{q}"')
    print("local paths = {" + ",\n".join(paths) + "}")
    print("""local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"p50_us": %d, "p99_us": %d, "requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration / 1e6,
    e.status, e.connect + e.read + e.write + e.timeout))
end""")


# --- the report ----------------------------------------------------------------------------------

ROWS = [
    ("point in polygon", "queries/point in polygon"),
    ("5 nearest zones", "queries/5 nearest zones"),
    ("roads within 500 m of a point", "queries/roads within 500 m of a point"),
    ("overlay of a ~1 km2 site with zones, areas by kind",
     "queries/overlay of a ~1 km2 site with zones, areas by kind"),
    ("overlay of a ~1 km2 concave site, areas by kind",
     "queries/overlay of a ~1 km2 concave site, areas by kind"),
    ("join of all 20,000 points to their zone", "bulk/join of all 20,000 points to their zone"),
    ("join of 50,000 roads to the zone they run most in",
     "bulk/join of 50,000 roads to the zone they run most in"),
]


def criterion_median(root, name):
    """Criterion's median (seconds) for benchmark `group/function`, found by the function id
    its benchmark.json records (criterion turns some characters of the name into `_`)."""
    group, bench = name.split("/")
    for d in glob.glob(os.path.join(root, group, "*")):
        f = os.path.join(d, "new", "benchmark.json")
        if os.path.exists(f) and json.load(open(f)).get("function_id") == bench:
            return json.load(open(os.path.join(d, "new", "estimates.json")))["median"]["point_estimate"] / 1e9
    sys.exit(f"no criterion estimates for {name} under {root}: run cargo bench --bench engine")


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:,.0f} ms"
    if seconds >= 1e-4:
        return f"{seconds * 1e6:,.0f} µs"
    return f"{seconds * 1e6:,.2f} µs" if seconds < 1e-5 else f"{seconds * 1e6:,.1f} µs"


def ratio(a, b):
    r = b / a
    return f"{r:,.0f}×" if r >= 10 else f"{r:,.1f}×"


def load_lines(loads):
    """The loads' min and median, each source on a line."""
    def line(label, ms):
        return (f"- {label}: min {fmt(min(ms) / 1e3)}, median {fmt(statistics.median(ms) / 1e3)} "
                f"({len(ms)} runs: {', '.join(f'{v:.0f}' for v in ms)} ms)")
    out = [line("load of the 100k zones from the GeoPackage", loads["gpkg_ms"]),
           line("from the PostGIS table", loads["postgis_ms"])]
    if loads.get("base_ms"):
        out.append(line(f"from the PostGIS table, with {loads['base']}", loads["base_ms"]))
    g = statistics.median(loads["gpkg_ms"])
    out.append(f"- PostGIS / GeoPackage (medians): {statistics.median(loads['postgis_ms']) / g:.2f}"
               + (f"; with {loads['base']}: {statistics.median(loads['base_ms']) / g:.2f}"
                  if loads.get("base_ms") else ""))
    return out


def loads_report(args):
    print("\n".join(load_lines(json.load(open(args.loads)))))


def report(args):
    pg = json.load(open(args.pg))
    lines = [
        f"| query | territorio (library) | PostGIS {pg['postgis']} (prepared, local socket) | PostGIS / territorio |",
        "|---|---:|---:|---:|",
    ]
    for label, name in ROWS:
        t = criterion_median(args.criterion, name)
        p = pg["figures"][label]["median_s"]
        lines.append(f"| {label.replace('km2', 'km²')} | {fmt(t)} | {fmt(p)} | {ratio(t, p)} |")
    loads = json.load(open(args.loads))
    g, p = loads["gpkg_ms"], loads["postgis_ms"]
    lines.append(
        f"| load the 100k zones + index (`territorio check`, median of {loads['runs']}) | "
        f"GeoPackage {fmt(statistics.median(g) / 1e3)} | PostGIS table {fmt(statistics.median(p) / 1e3)} | "
        f"{ratio(statistics.median(g), statistics.median(p))} |"
    )
    lines.append("")
    lines.extend(load_lines(loads))
    lines.append("")
    floor = pg["figures"]["prepared SELECT 1 (the round trip)"]["median_s"]
    lines.append(f"PostGIS figures include the round trip of a prepared statement through psycopg2 "
                 f"and the socket: a prepared `SELECT 1` takes {fmt(floor)}.")
    if args.wrk and open(args.wrk).read().strip():
        w = json.load(open(args.wrk))
        if w["non_2xx"] or w["socket_errors"]:
            sys.exit(f"the HTTP point lookups had errors: {w}")
        lines.append(
            f"territorio over HTTP, point in polygon (`/collections/zones/items?filter=S_INTERSECTS(...)`, "
            f"the same 1,024 points, 1 connection, wrk {w['seconds']:.0f} s): p50 {fmt(w['p50_us'] / 1e6)}, "
            f"p99 {fmt(w['p99_us'] / 1e6)}, {w['requests'] / w['seconds']:,.0f} req/s; the PostGIS "
            f"point in polygon above is {ratio(w['p50_us'] / 1e6, pg['figures']['point in polygon']['median_s'])} "
            f"the HTTP p50."
        )
    lines.append("Answers checked equal: " + "; ".join(f"{k}: {v}" for k, v in pg["checked"].items()) + ".")
    text = "\n".join(lines) + "\n"
    open(args.out, "w").write(text)
    print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--dsn", required=True)
    m.add_argument("--territorio", required=True, help="base URL of a server on the same layers")
    m.add_argument("--out", required=True)
    m.add_argument("--sample", type=int, default=64, help="points checked against territorio")
    m.add_argument("--join-runs", type=int, default=5)
    m.add_argument("--roads-runs", type=int, default=3)
    sub.add_parser("lua")
    lo = sub.add_parser("loads")
    lo.add_argument("--loads", required=True)
    r = sub.add_parser("report")
    r.add_argument("--pg", required=True)
    r.add_argument("--criterion", required=True)
    r.add_argument("--loads", required=True)
    r.add_argument("--wrk")
    r.add_argument("--out", required=True)
    a = p.parse_args()
    {"measure": measure, "report": report, "lua": lua, "loads": loads_report}[a.cmd](a)


if __name__ == "__main__":
    main()
