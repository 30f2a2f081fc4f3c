// Drawing a prospective site: click to add corners, Finish (or Enter, or a click on the first
// corner) to close the polygon, Undo (Backspace), Cancel (Escape).

const SOURCE = "draw";
const CLOSE_PIXELS = 8;

export class DrawTool {
  /** onFinish(polygon) receives a GeoJSON Polygon in CRS84. */
  constructor(map, { onFinish, onStart, onCancel }) {
    this.map = map;
    this.onFinish = onFinish;
    this.onStart = onStart;
    this.onCancel = onCancel;
    this.points = [];
    this.active = false;
    this.bar = document.getElementById("draw-bar");
    this.button = document.getElementById("draw-site");
    this.finishButton = document.getElementById("draw-finish");
    this.undoButton = document.getElementById("draw-undo");
    this.help = document.getElementById("draw-help");
    map.addSource(SOURCE, { type: "geojson", data: this.data() });
    map.addLayer({ id: "draw-fill", type: "fill", source: SOURCE, filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#f1c40f", "fill-opacity": 0.25 } });
    map.addLayer({ id: "draw-line", type: "line", source: SOURCE, paint: { "line-color": "#2c3e50", "line-width": 2, "line-dasharray": [2, 1] } });
    map.addLayer({ id: "draw-vertex", type: "circle", source: SOURCE, filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 5, "circle-color": "#fff", "circle-stroke-color": "#2c3e50", "circle-stroke-width": 2 } });
    this.button.addEventListener("click", () => (this.active ? this.cancel() : this.start()));
    this.finishButton.addEventListener("click", () => this.finish());
    this.undoButton.addEventListener("click", () => this.undo());
    document.getElementById("draw-cancel").addEventListener("click", () => this.cancel());
    this.onClick = (e) => this.add(e);
    this.onKey = (e) => {
      if (e.key === "Escape") this.cancel();
      else if (e.key === "Enter") this.finish();
      else if (e.key === "Backspace") this.undo();
    };
  }

  data(closed = false) {
    const features = this.points.map((p) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: p } }));
    if (this.points.length >= 2) {
      const ring = closed || this.points.length >= 3 ? [...this.points, this.points[0]] : this.points;
      features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: ring } });
    }
    if (this.points.length >= 3) {
      features.push({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [[...this.points, this.points[0]]] } });
    }
    return { type: "FeatureCollection", features };
  }

  redraw(closed = false) {
    this.map.getSource(SOURCE).setData(this.data(closed));
    this.finishButton.disabled = this.points.length < 3;
    this.undoButton.disabled = this.points.length === 0;
    this.help.textContent = this.points.length < 3
      ? `Click on the map to add the corners of the site (${this.points.length} so far, at least 3).`
      : `${this.points.length} corners: Finish, or click the first corner, to get the overlay summary.`;
  }

  start() {
    this.points = [];
    this.active = true;
    if (this.onStart) this.onStart();
    this.map.doubleClickZoom.disable();
    this.map.on("click", this.onClick);
    document.addEventListener("keydown", this.onKey);
    document.body.classList.add("drawing");
    this.button.classList.add("active");
    this.button.textContent = "Drawing…";
    this.bar.hidden = false;
    this.redraw();
  }

  stop() {
    this.active = false;
    this.map.off("click", this.onClick);
    document.removeEventListener("keydown", this.onKey);
    this.map.doubleClickZoom.enable();
    document.body.classList.remove("drawing");
    this.button.classList.remove("active");
    this.button.textContent = "Draw a site";
    this.bar.hidden = true;
  }

  add(e) {
    if (this.points.length >= 3) {
      const first = this.map.project(this.points[0]);
      if (Math.hypot(first.x - e.point.x, first.y - e.point.y) <= CLOSE_PIXELS) {
        this.finish();
        return;
      }
    }
    this.points.push([e.lngLat.lng, e.lngLat.lat]);
    this.redraw();
  }

  undo() {
    this.points.pop();
    this.redraw();
  }

  cancel() {
    this.points = [];
    this.redraw();
    this.stop();
    if (this.onCancel) this.onCancel();
  }

  /** Clears the drawn site from the map (after its results are closed). */
  clear() {
    if (this.active) return;
    this.points = [];
    this.map.getSource(SOURCE).setData(this.data());
  }

  finish() {
    if (this.points.length < 3) return;
    const polygon = { type: "Polygon", coordinates: [[...this.points, this.points[0]]] };
    this.redraw(true);
    this.stop();
    this.onFinish(polygon);
  }
}
