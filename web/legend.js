// Legends generated from MapLibre style layers: a constant colour gives one entry, a
// ["match", ["get", attribute], value, colour, ..., fallback] expression one entry per value.

const COLOUR_PAINT = { fill: "fill-color", line: "line-color", circle: "circle-color" };

/** The colour entries of one style layer: { attribute, entries: [{ value, colour }], fallback }. */
export function colourClasses(styleLayer) {
  const property = COLOUR_PAINT[styleLayer.type];
  const expr = property && styleLayer.paint ? styleLayer.paint[property] : undefined;
  if (typeof expr === "string") return { attribute: null, entries: [{ value: null, colour: expr }] };
  if (
    Array.isArray(expr) &&
    expr[0] === "match" &&
    Array.isArray(expr[1]) &&
    expr[1][0] === "get" &&
    typeof expr[1][1] === "string"
  ) {
    const entries = [];
    for (let i = 2; i + 1 < expr.length; i += 2) {
      const values = Array.isArray(expr[i]) ? expr[i] : [expr[i]];
      for (const value of values) entries.push({ value, colour: expr[i + 1] });
    }
    return { attribute: expr[1][1], entries, fallback: expr[expr.length - 1] };
  }
  return { attribute: null, entries: [{ value: null, colour: "#999999" }], expression: true };
}

/** The swatch shape of a layer: the first style layer's type decides (fill, line, circle). */
export function swatchShape(styleLayers) {
  const types = new Set(styleLayers.map((l) => l.type));
  if (types.size > 1 && types.has("circle")) return "circle";
  return styleLayers[0] ? styleLayers[0].type : "fill";
}

/**
 * A <ul> legend for the style layers of one catalogue layer. `labels` optionally maps
 * attribute values to readable text (a project axis number to its name).
 */
export function legendElement(styleLayers, { labels = new Map(), title } = {}) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  if (styleLayers.length === 0) return ul;
  const shape = swatchShape(styleLayers);
  const classes = colourClasses(styleLayers.find((l) => COLOUR_PAINT[l.type]) || styleLayers[0]);
  const add = (colour, text) => {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = `swatch ${shape}`;
    sw.style.background = colour;
    const label = document.createElement("span");
    label.textContent = text;
    li.append(sw, label);
    ul.append(li);
  };
  if (!classes.attribute) {
    // One colour: the swatch alone (the layer panel puts it beside the title).
    ul.classList.add("single");
    add(classes.entries[0].colour, classes.expression ? "styled by an expression" : title || "");
    ul.dataset.single = "true";
    return ul;
  }
  for (const { value, colour } of classes.entries) {
    const named = labels.get(value);
    add(colour, named ? `${value} · ${named}` : String(value).replaceAll("_", " "));
  }
  if (classes.fallback) {
    add(classes.fallback, "other");
    ul.lastElementChild.classList.add("other");
  }
  ul.dataset.attribute = classes.attribute;
  if (classes.entries.some((e) => labels.get(e.value) && labels.get(e.value).length > 14)) {
    ul.classList.add("single");
  }
  return ul;
}
