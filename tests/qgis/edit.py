"""QGIS as an editor: a headless PyQGIS session edits territorio's `projects` collection through
QGIS's own OAPIF provider (OGC API - Features Part 4), as a QGIS user with an account does.

Needs QGIS >= 3.44 (Debian 12's 3.22 cannot edit); runs in the chroot of scripts/qgis-chroot:
    scripts/qgis-python tests/qgis/edit.py --url http://127.0.0.1:PORT --collection projects \
        --user NAME --password PASSWORD
tests/qgis/edit_session.py starts a server with an editor account and runs this.

The session, in a fresh QGIS profile (scripts/qgis-python gives each run a new HOME):
- an HTTP Basic authentication configuration in a new QGIS authentication database, whose
  master password is set here; both layers use it, so every request carries the credentials;
- a layer in the CRS QGIS picks by default (the collection's storageCrs, EPSG:32632 for the
  demo, so QGIS writes with Content-Crs): the provider offers adding, changing attributes and
  geometries and deleting; add one project (a point), change another's status and
  progress_pct, delete a third; commitChanges() returns True with no error;
- a layer in EPSG:3003 (QGIS then writes with Content-Crs and EPSG:3003 coordinates): move a
  fourth project, a point, 100 m east; commitChanges() returns True with no error;
- the server's state read back over plain HTTP (urllib, JSON): the new project has what was
  sent, the changed one the new values and nothing else changed, the moved one is 100 m east
  (within 0.01 m, in EPSG:3003) of where it was, the deleted one answers 404;
- the history of each of the four records the session's edit, by the session's user.
Expected values come from what this script sent, never from the server's answers. One PASS or
FAIL line per check; the exit status is 1 if any check failed.
"""
import argparse
import base64
import json
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsVectorDataProvider,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant

EPSG_3003 = "http://www.opengis.net/def/crs/EPSG/0/3003"
MOVE_EAST_M = 100.0
# A new project, plausible for the demo's development pact. `id` is left empty (the server
# assigns it) and so is `axis_name` (the server derives it from `axis`). Fields the collection
# does not have (committed_eur, spent_eur in older catalogues) are skipped.
NEW_TITLE = "Pista ciclabile lungo il Serio a Crema"
NEW_PROJECT = {
    "axis": 5,
    "emblematic_action": None,
    "aqst_programme": "none",
    "status": "proposed",
    "progress_pct": 0,
    "budget_eur": 350000.0,
    "committed_eur": 0.0,
    "spent_eur": 0.0,
    "lead_body": "Comune di Crema",
    "municipality": "Crema",
    "start_date": "2026-03-01",
    "end_date": "2027-06-30",
}
NEW_POINT = (9.6868, 45.3626)  # lon, lat (CRS84): Crema, by the Serio
CHANGED = {"status": "in_progress", "progress_pct": 37}

failures = []


class Stop(Exception):
    """A check the rest of the session depends on failed."""


def check(condition, message):
    print(("PASS: " if condition else "FAIL: ") + message, flush=True)
    if not condition:
        failures.append(message)
    return condition


def require(condition, message):
    """A check the rest of the session depends on: stop at once when it fails."""
    if not check(condition, message):
        raise Stop(message)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="the service's landing page")
    p.add_argument("--collection", default="projects")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    return p.parse_args()


class Http:
    """The server read over plain HTTP, without QGIS (credentials sent all the same)."""

    def __init__(self, args):
        self.items = f"{args.url.rstrip('/')}/collections/{args.collection}/items"
        token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
        self.headers = {"Accept": "application/geo+json", "Authorization": "Basic " + token}

    def get(self, url):
        """(status, JSON body or None)."""
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=self.headers)) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, None

    def item(self, fid, crs=None):
        query = "?crs=" + urllib.parse.quote(crs, safe=":/") if crs else ""
        return self.get(f"{self.items}/{urllib.parse.quote(fid)}{query}")

    def all_items(self):
        """Every feature, following the next links."""
        url, features = self.items + "?limit=1000", []
        while url:
            status, page = self.get(url)
            require(status == 200, f"GET {url}: {status}")
            features += page["features"]
            url = next((link["href"] for link in page.get("links", [])
                        if link.get("rel") == "next"), None)
        return features


def auth_config(user, password):
    """A Basic authentication configuration in QGIS's (fresh) authentication database."""
    manager = QgsApplication.authManager()
    require(manager.setMasterPassword("territorio-test-master", True),
            "QGIS authentication database: master password set")
    config = QgsAuthMethodConfig("Basic")
    config.setName("territorio editor")
    config.setConfig("username", user)
    config.setConfig("password", password)
    stored, config = manager.storeAuthenticationConfig(config)
    require(stored and config.id(), f"QGIS authentication configuration stored ({config.id()})")
    return config.id()


def open_layer(args, authcfg, srsname=None):
    uri = f"url='{args.url}' typename='{args.collection}' authcfg='{authcfg}'"
    if srsname:
        uri += f" srsname='{srsname}'"
    layer = QgsVectorLayer(uri, args.collection, "OAPIF")
    which = srsname or "default CRS"
    require(layer.isValid(), f"QGIS opens {args.collection} through OAPIF ({which})")
    # Editing is on only if the server's OPTIONS answers Allow it (POST; PUT or PATCH; DELETE).
    caps = layer.dataProvider().capabilities()
    for name in ("AddFeatures", "ChangeAttributeValues", "ChangeGeometries", "DeleteFeatures"):
        require(bool(caps & getattr(QgsVectorDataProvider, name)),
                f"the OAPIF provider offers {name} ({which})")
    return layer


def qgis_value(field, value):
    """`value` as the layer's field type wants it: dates become QDate for date fields."""
    if value is None:
        return None
    if field.type() == QVariant.Date:
        return QDate.fromString(value, "yyyy-MM-dd")
    if field.type() == QVariant.DateTime:
        return QDateTime(QDate.fromString(value, "yyyy-MM-dd"), QTime(0, 0))
    return value


def commit(layer, what):
    ok = layer.commitChanges()
    errors = [e for e in layer.commitErrors() if not e.startswith("SUCCESS")]
    check(ok and not errors, f"commitChanges() for {what}: {ok}, errors {errors}")


def same(sent, got):
    """A value the script sent compared with the server's JSON (numbers as numbers)."""
    if isinstance(sent, (int, float)) and isinstance(got, (int, float)):
        return float(sent) == float(got)
    return sent == got


def crs_uri(authid):
    """The OGC URI of a QGIS CRS id: EPSG:3003 -> http://www.opengis.net/def/crs/EPSG/0/3003."""
    if authid == "OGC:CRS84":
        return "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    authority, code = authid.split(":")
    return f"http://www.opengis.net/def/crs/{authority}/0/{code}"


def near(xy, want, tolerance):
    return len(xy) == 2 and all(abs(v - w) <= tolerance for v, w in zip(xy, want))


def session(args):
    http = Http(args)
    authcfg = auth_config(args.user, args.password)
    # The CRS a user gets by default: QGIS takes the collection's storageCrs when there is one.
    layer = open_layer(args, authcfg)
    crs = layer.crs()
    print(f"note: QGIS opened the layer in {crs.authid()}", flush=True)
    fields = layer.fields()
    features = {f["id"]: f for f in layer.getFeatures()}
    ids = sorted(features)
    require(len(ids) >= 4, f"QGIS reads {len(ids)} projects")
    # Which projects to touch, from QGIS's view before any edit: one waiting to start is set
    # in progress, the last is deleted, and the first other one that is a point is moved.
    changed = next((i for i in ids if features[i]["status"] in ("design", "funded")), ids[0])
    deleted = next(i for i in reversed(ids) if i != changed)
    moved = next(i for i in ids if i not in (changed, deleted) and
                  QgsWkbTypes.flatType(features[i].geometry().wkbType()) == QgsWkbTypes.Point)
    axis_names = {features[i]["axis"]: features[i]["axis_name"] for i in ids}
    before = {i: http.item(i)[1] for i in (changed, moved)}
    before_3003 = http.item(moved, EPSG_3003)[1]

    # Add, change attributes, delete: one commit, as in a user's editing session. The new
    # point is given in the layer's CRS, as a click on the map would give it.
    title = f"{NEW_TITLE} (prova {uuid.uuid4().hex[:8]})"
    sent = {k: v for k, v in dict(NEW_PROJECT, title=title).items() if fields.indexOf(k) >= 0}
    feature = QgsFeature(fields)
    for name, value in sent.items():
        feature.setAttribute(name, qgis_value(fields.field(name), value))
    to_layer = QgsCoordinateTransform(QgsCoordinateReferenceSystem("OGC:CRS84"), crs,
                                      QgsProject.instance())
    new_point = to_layer.transform(QgsPointXY(*NEW_POINT))
    feature.setGeometry(QgsGeometry.fromPointXY(new_point))
    layer.startEditing()
    check(layer.addFeature(feature), "QGIS adds a project to its edit buffer")
    fid_of = {i: f.id() for i, f in features.items()}
    values = {fields.indexOf(k): v for k, v in CHANGED.items()}
    check(layer.changeAttributeValues(fid_of[changed], values),
          f"QGIS changes {changed}'s {', '.join(CHANGED)} in its edit buffer")
    check(layer.deleteFeature(fid_of[deleted]), f"QGIS deletes {deleted} in its edit buffer")
    commit(layer, f"adding a project, changing {changed}, deleting {deleted}")

    # Move, in EPSG:3003: QGIS reads and writes that CRS's coordinates (metres, east first).
    layer_3003 = open_layer(args, authcfg, "EPSG:3003")
    check(layer_3003.crs().authid() == "EPSG:3003",
          f"the layer's CRS is EPSG:3003 ({layer_3003.crs().authid()})")
    feature = next(f for f in layer_3003.getFeatures() if f["id"] == moved)
    point = feature.geometry().asPoint()
    was = before_3003["geometry"]["coordinates"]
    check(near([point.x(), point.y()], was, 1e-6),
          f"QGIS shows {moved} at the server's EPSG:3003 position {was}")
    target = (point.x() + MOVE_EAST_M, point.y())
    layer_3003.startEditing()
    check(layer_3003.changeGeometry(feature.id(), QgsGeometry.fromPointXY(QgsPointXY(*target))),
          f"QGIS moves {moved} {MOVE_EAST_M:g} m east in its edit buffer")
    commit(layer_3003, f"moving {moved} in EPSG:3003")

    # What the server holds now, read without QGIS.
    news = [f for f in http.all_items() if f["properties"].get("title") == title]
    if check(len(news) == 1, f"the server has one project titled {title!r} ({len(news)})"):
        new_id = news[0]["id"]
        check(new_id not in features, f"its id {new_id} is new")
        status, new = http.item(new_id, crs_uri(crs.authid()))
        check(status == 200, f"GET items/{new_id}: {status}")
        props = (new or {}).get("properties", {})
        for name, value in sent.items():
            check(same(value, props.get(name)),
                  f"{new_id}.{name} is {props.get(name)!r}, sent {value!r}")
        want = axis_names.get(NEW_PROJECT["axis"])
        check(props.get("axis_name") == want,
              f"{new_id}.axis_name derived as {props.get('axis_name')!r}, other projects of "
              f"axis {NEW_PROJECT['axis']} have {want!r}")
        xy = ((new or {}).get("geometry") or {}).get("coordinates", [])
        tolerance = 1e-7 if crs.isGeographic() else 0.01
        check(near(xy, [new_point.x(), new_point.y()], tolerance),
              f"{new_id} is at {xy} in {crs.authid()}, sent {[new_point.x(), new_point.y()]}")

    status, now = http.item(changed)
    props = (now or {}).get("properties", {})
    for name, value in CHANGED.items():
        check(props.get(name) == value, f"{changed}.{name} is {props.get(name)!r}, sent {value!r}")
    untouched = {k: v for k, v in before[changed]["properties"].items() if k not in CHANGED}
    check({k: props.get(k) for k in untouched} == untouched and
          (now or {}).get("geometry") == before[changed]["geometry"],
          f"{changed}'s other properties and geometry are unchanged")

    status, now = http.item(moved, EPSG_3003)
    xy = ((now or {}).get("geometry") or {}).get("coordinates", [])
    check(status == 200 and near(xy, target, 0.01),
          f"{moved} is at {xy} in EPSG:3003, sent {list(target)} ({MOVE_EAST_M:g} m east)")
    check(now is not None and now["properties"] == before[moved]["properties"],
          f"{moved}'s properties are unchanged by the move")

    status, _ = http.item(deleted)
    check(status == 404, f"GET items/{deleted} after the delete: {status}")

    # The history records each edit of the session: what, by whom.
    expected = [(new_id, "create", None), (changed, "update", set(CHANGED)),
                (moved, "update", set()), (deleted, "delete", None)]
    for fid, operation, fields in expected:
        status, h = http.get(f"{http.items}/{urllib.parse.quote(fid)}/history?f=json")
        last = ((h or {}).get("changes") or [{}])[-1]
        ok = (status == 200 and last.get("operation") == operation
              and last.get("user") == args.user
              and (fields is None or set(last.get("changed", [])) == fields))
        if fid == moved:
            ok = ok and last.get("geometryChanged") is True
        check(ok, f"history of {fid}: last change {last.get('operation')!r} by "
                  f"{last.get('user')!r}, changed {last.get('changed')}")


def main():
    args = parse_args()
    app = QgsApplication([], False)
    app.initQgis()
    print(f"QGIS {Qgis.QGIS_VERSION}, {args.url}, collection {args.collection}", flush=True)
    # The layers live only in session()'s frame, so they are gone when it returns or raises:
    # PyQGIS may crash in exitQgis() if a layer outlives it.
    try:
        session(args)
    except Stop:
        pass
    except Exception:  # reported as a failure, then QGIS is closed all the same
        traceback.print_exc()
        failures.append("the session stopped on an exception")
    QgsApplication.exitQgis()
    print(f"{len(failures)} failed" if failures else "all checks passed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
