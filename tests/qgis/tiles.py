"""QGIS as a client of territorio's vector tiles: the catalogue's XYZ template loaded as a
QGIS vector tile layer (QgsVectorTileLayer, "type=xyz"), rendered headless, and the features
QGIS decoded from each tile looked at.

Run by scripts/test with Debian's QGIS 3.22 (python3-qgis): /usr/bin/python3 tests/qgis/tiles.py.
It starts target/debug/territorio on a free port and checks:
- QGIS opens the XYZ layer with the zoom range given (0 to 14);
- drawing the zoom-14 tile of a station, QGIS fetches that tile (column and row from the
  slippy-map formula on the station's longitude and latitude) and decodes a "stations" layer
  in it with exactly as many stations as the service's items put in that tile by the same
  formula, each where the items say (within a tile unit);
- QGIS's own vector tile renderer, with a style filtered on the station's name, draws a red
  marker at the station's pixel, and with the filter naming another station draws nothing
  there (the properties reach QGIS, and the axis order is right);
- the catalogue style on the tiles (/styles/map.json?source=tiles) loads as the layer's style.
PyQGIS 3.22 has no Python access to a layer's raw tiles or its MVT decoder, so a renderer of
this script's own records what QGIS's decoder hands to renderers, tile by tile (geometries
only: QGIS 3.22 decodes the properties a renderer asks for, which a Python renderer cannot).
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QGIS_HOME = os.path.join(ROOT, "target", "qgis-home-tiles")
shutil.rmtree(QGIS_HOME, ignore_errors=True)
for var, sub in [("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config"),
                 ("XDG_DATA_HOME", "data"), ("XDG_RUNTIME_DIR", "runtime")]:
    os.makedirs(os.path.join(QGIS_HOME, sub), mode=0o700)
    os.environ[var] = os.path.join(QGIS_HOME, sub)

from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage, QPainter  # noqa: E402
from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsExpression,
    QgsMarkerSymbol,
    QgsPointXY,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsWkbTypes,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsMapRendererCustomPainterJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorTileLayer,
    QgsVectorTileRenderer,
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


def tile_of(lon, lat, z):
    """The XYZ tile of a longitude and latitude (the slippy-map formula)."""
    n = 2 ** z
    x = math.floor((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = math.floor((1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0 * n)
    return x, y


HALF = math.pi * 6378137.0


def tile_box(z, x, y):
    """The EPSG:3857 box of a tile."""
    size = 2 * HALF / 2 ** z
    return QgsRectangle(-HALF + x * size, HALF - (y + 1) * size,
                        -HALF + (x + 1) * size, HALF - y * size)


# What QGIS's decoder handed to the renderer: (z, x, y) -> {layer: [(attributes, geometry)]}.
SEEN = {}


class Recorder(QgsVectorTileRenderer):
    """Draws nothing; records each tile's decoded features."""

    def __init__(self, layers):
        super().__init__()
        self.layers = set(layers)

    def type(self):
        return "recorder"

    def clone(self):
        return Recorder(self.layers)

    def startRender(self, context, tileZoom, tileRange):
        pass

    def stopRender(self, context):
        pass

    def requiredLayers(self, context, tileZoom):
        return self.layers

    def renderTile(self, tile, context):
        tid = tile.id()
        key = (tid.zoomLevel(), tid.column(), tid.row())
        out = SEEN.setdefault(key, {})
        for name in self.layers:
            feats = tile.layerFeatures(name)
            out[name] = [({f.fields().at(i).name(): f.attribute(i)
                           for i in range(f.fields().count())}, f.geometry())
                         for f in feats]

    def writeXml(self, elem, context):
        pass

    def readXml(self, elem, context):
        pass

    def resolveReferences(self, project):
        pass


def render(layer, extent, size=512):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(extent)
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    image = QImage(QSize(size, size), QImage.Format_ARGB32_Premultiplied)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    job = QgsMapRendererCustomPainterJob(settings, painter)
    job.renderSynchronously()
    painter.end()
    return image


def main():
    app = QgsApplication([], False)
    app.initQgis()
    proc, base = start_server()
    try:
        uri = f"type=xyz&url={base}/tiles/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax=14"
        layer = QgsVectorTileLayer(uri, "territorio")
        check(layer.isValid(), f"QGIS cannot open {uri}")
        check(layer.sourceMinZoom() == 0 and layer.sourceMaxZoom() == 14,
              f"zoom range {layer.sourceMinZoom()}..{layer.sourceMaxZoom()}")
        stations = get_json(f"{base}/collections/stations/items?limit=1000")["features"]
        check(len(stations) > 0, "no stations")
        first = stations[0]
        lon, lat = first["geometry"]["coordinates"]
        z = 14
        x, y = tile_of(lon, lat, z)
        in_tile = [s for s in stations
                   if tile_of(*s["geometry"]["coordinates"], z) == (x, y)]
        layer.setRenderer(Recorder(["stations"]))
        QgsProject.instance().addMapLayer(layer)
        # The tile's own box, drawn at 512 pixels: QGIS picks zoom 14 (its maximum).
        render(layer, tile_box(z, x, y))
        check((z, x, y) in SEEN, f"QGIS did not fetch tile {z}/{x}/{y}: {sorted(SEEN)}")
        got = SEEN.get((z, x, y), {}).get("stations", [])
        check(len(got) == len(in_tile),
              f"tile {z}/{x}/{y}: QGIS decoded {len(got)} stations, the items put "
              f"{len(in_tile)} there")
        # Where QGIS puts them: one decoded point within a tile unit of each station there.
        to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:3857"),
                                          QgsCoordinateReferenceSystem("EPSG:4326"),
                                          QgsProject.instance())
        unit = 360.0 / 2 ** z / 4096
        points = []
        for _, g in got:
            g.transform(to_wgs84)
            points.append(g.asPoint() if not g.isMultipart() else g.asMultiPoint()[0])
        for s in in_tile:
            slon, slat = s["geometry"]["coordinates"]
            near = [p for p in points if abs(p.x() - slon) <= unit and abs(p.y() - slat) <= unit]
            check(len(near) == 1, f"{s['properties']['name']}: {len(near)} decoded points "
                                  f"at {slon}, {slat}; QGIS has {[(p.x(), p.y()) for p in points]}")
        # Properties through QGIS's own renderer: a style whose filter names the station draws
        # a red marker where it is; the same style naming another station draws nothing there.
        box = tile_box(z, x, y)
        to_mercator = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                             QgsCoordinateReferenceSystem("EPSG:3857"),
                                             QgsProject.instance())
        m = to_mercator.transform(QgsPointXY(lon, lat))
        px = int((m.x() - box.xMinimum()) / box.width() * 512)
        py = int((box.yMaximum() - m.y()) / box.height() * 512)
        other = next(s for s in stations if s not in in_tile)
        for name, red in [(first["properties"]["name"], True),
                          (other["properties"]["name"], False)]:
            style = QgsVectorTileBasicRendererStyle("station", "stations",
                                                    QgsWkbTypes.PointGeometry)
            style.setFilterExpression("\"name\" = " + QgsExpression.quotedString(name))
            symbol = QgsMarkerSymbol.createSimple(
                {"name": "square", "color": "255,0,0", "outline_style": "no", "size": "6"})
            style.setSymbol(symbol)
            basic = QgsVectorTileBasicRenderer()
            basic.setStyles([style])
            layer.setRenderer(basic)
            image = render(layer, box)
            c = QColor(image.pixel(px, py))
            is_red = c.red() > 200 and c.green() < 80 and c.blue() < 80
            check(is_red == red, f"filter on {name!r}: pixel ({px}, {py}) is {c.name()}")
        # The style of the catalogue on the tiles loads as the layer's style.
        styled = QgsVectorTileLayer(
            uri + f"&styleUrl={base}/styles/map.json?source%3Dtiles", "styled")
        message, ok = styled.loadDefaultStyle()
        check(ok, f"the tiled catalogue style does not load: {message}")
        renderer = styled.renderer()
        styles = renderer.styles() if renderer is not None and hasattr(renderer, "styles") else []
        check(len(styles) > 0, "the tiled catalogue style gives no renderer styles")
        print(f"tile {z}/{x}/{y}: QGIS decoded {len(got)} station(s); the tiled style gave "
              f"{len(styles)} renderer styles", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if failures:
        print(f"{len(failures)} failures", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # As in check.py: leave without PyQGIS 3.22's teardown, which crashes now and then.
    os._exit(1 if failures else 0)


if __name__ == "__main__":
    main()
