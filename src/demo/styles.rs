//! Layer styles for the demo: a MapLibre style-layer array (JSON) and a QGIS style (QML) per
//! layer, coloured by the obvious attribute.

use serde_json::{json, Value as Json};

/// How a layer is drawn.
#[derive(Debug, Clone)]
pub struct Style {
    kind: Kind,
    /// Attribute to colour by, with (value, colour) pairs; `None` for a single colour.
    by: Option<(String, Vec<(String, String)>)>,
    colour: String,
    /// Line width, circle radius, or fill opacity.
    size: f64,
    /// The layer mixes points, lines and polygons (the projects): one style per geometry type.
    any_geometry: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Fill,
    Line,
    Circle,
}

const DEFAULT: &str = "#7f8c8d";

impl Style {
    fn new(kind: Kind, by: Option<(&str, &[(&str, &str)])>, colour: &str, size: f64) -> Style {
        Style {
            kind,
            by: by.map(|(a, cats)| {
                (
                    a.to_string(),
                    cats.iter()
                        .map(|(v, c)| (v.to_string(), c.to_string()))
                        .collect(),
                )
            }),
            colour: colour.to_string(),
            size,
            any_geometry: false,
        }
    }

    /// For a layer whose features may be of any geometry type: MapLibre gets a fill, a line and
    /// a circle layer filtered by geometry type, QGIS a rule-based renderer with a rule per type.
    pub fn any_geometry(mut self) -> Style {
        self.any_geometry = true;
        self
    }
    pub fn fill(attr: &str, cats: &[(&str, &str)], opacity: f64) -> Style {
        Style::new(Kind::Fill, Some((attr, cats)), DEFAULT, opacity)
    }
    pub fn single_fill(colour: &str, opacity: f64) -> Style {
        Style::new(Kind::Fill, None, colour, opacity)
    }
    pub fn line(attr: &str, cats: &[(&str, &str)], width: f64) -> Style {
        Style::new(Kind::Line, Some((attr, cats)), DEFAULT, width)
    }
    pub fn single_line(colour: &str, width: f64) -> Style {
        Style::new(Kind::Line, None, colour, width)
    }
    pub fn circle(attr: &str, cats: &[(&str, &str)], radius: f64) -> Style {
        Style::new(Kind::Circle, Some((attr, cats)), DEFAULT, radius)
    }
    pub fn single_circle(colour: &str, radius: f64) -> Style {
        Style::new(Kind::Circle, None, colour, radius)
    }

    /// The MapLibre colour expression.
    fn colour_expression(&self) -> Json {
        match &self.by {
            None => json!(self.colour),
            Some((attr, cats)) => {
                let mut e = vec![json!("match"), json!(["get", attr])];
                for (v, c) in cats {
                    // Integer categories (the project axis) match numbers, not text.
                    match v.parse::<i64>() {
                        Ok(n) => e.push(json!(n)),
                        Err(_) => e.push(json!(v)),
                    }
                    e.push(json!(c));
                }
                e.push(json!(self.colour));
                Json::Array(e)
            }
        }
    }
}

/// The MapLibre style layers for layer `id` (its source is named after the layer). A layer whose
/// features may be of any type (the projects, [`Style::any_geometry`]) gets a fill, a line and
/// a circle layer, each filtered by geometry type.
pub fn maplibre(id: &str, style: &Style) -> String {
    let colour = style.colour_expression();
    let fill = |suffix: &str, filter: Option<Json>| {
        let mut l = json!({
            "id": format!("{id}{suffix}"), "type": "fill", "source": id,
            "paint": {"fill-color": colour, "fill-opacity": style.size.min(1.0), "fill-outline-color": "#2c3e50"}
        });
        if let Some(f) = filter {
            l["filter"] = f;
        }
        l
    };
    let line = |suffix: &str, width: f64, filter: Option<Json>| {
        let mut l = json!({
            "id": format!("{id}{suffix}"), "type": "line", "source": id,
            "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": colour, "line-width": width}
        });
        if let Some(f) = filter {
            l["filter"] = f;
        }
        l
    };
    let circle = |suffix: &str, radius: f64, filter: Option<Json>| {
        let mut l = json!({
            "id": format!("{id}{suffix}"), "type": "circle", "source": id,
            "paint": {"circle-color": colour, "circle-radius": radius, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}
        });
        if let Some(f) = filter {
            l["filter"] = f;
        }
        l
    };
    let layers = if style.any_geometry {
        vec![
            fill(
                "-polygons",
                Some(json!(["==", ["geometry-type"], "Polygon"])),
            ),
            line(
                "-lines",
                3.0,
                Some(json!(["==", ["geometry-type"], "LineString"])),
            ),
            circle(
                "-points",
                style.size,
                Some(json!(["==", ["geometry-type"], "Point"])),
            ),
        ]
    } else {
        match style.kind {
            Kind::Fill => vec![fill("", None)],
            Kind::Line => vec![line("", style.size, None)],
            Kind::Circle => vec![circle("", style.size, None)],
        }
    };
    let mut text = serde_json::to_string_pretty(&Json::Array(layers)).unwrap_or_default();
    text.push('\n');
    text
}

fn rgba(hex: &str, alpha: f64) -> String {
    let h = hex.trim_start_matches('#');
    let c = |i: usize| u8::from_str_radix(h.get(i..i + 2).unwrap_or("80"), 16).unwrap_or(128);
    format!(
        "{},{},{},{}",
        c(0),
        c(2),
        c(4),
        (alpha * 255.0).round() as u8
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn symbol(kind: Kind, name: &str, colour: &str, size: f64) -> String {
    let option = |k: &str, v: &str| {
        format!("            <Option name=\"{k}\" type=\"QString\" value=\"{v}\"/>\n")
    };
    let (ty, class, options) = match kind {
        Kind::Fill => (
            "fill",
            "SimpleFill",
            option("color", &rgba(colour, size.min(1.0)))
                + &option("outline_color", "44,62,80,255")
                + &option("outline_width", "0.26")
                + &option("style", "solid"),
        ),
        Kind::Line => (
            "line",
            "SimpleLine",
            option("line_color", &rgba(colour, 1.0))
                + &option("line_width", &format!("{:.2}", size * 0.35))
                + &option("capstyle", "round"),
        ),
        Kind::Circle => (
            "marker",
            "SimpleMarker",
            option("color", &rgba(colour, 1.0))
                + &option("name", "circle")
                + &option("size", &format!("{:.1}", size * 0.6))
                + &option("outline_color", "255,255,255,255"),
        ),
    };
    format!(
        "      <symbol type=\"{ty}\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n        <layer class=\"{class}\" enabled=\"1\" locked=\"0\" pass=\"0\">\n          <Option type=\"Map\">\n{options}          </Option>\n        </layer>\n      </symbol>\n"
    )
}

/// A QGIS expression literal for a category value: numbers bare, text quoted.
fn qgis_literal(v: &str) -> String {
    match v.parse::<i64>() {
        Ok(n) => n.to_string(),
        Err(_) => format!("'{}'", v.replace('\'', "''")),
    }
}

/// The rule-based renderer of a layer of mixed geometry types: a rule per geometry type
/// (`geometry_type($geometry)`), each with a child rule per category and an `ELSE` rule.
fn qml_rules(style: &Style) -> String {
    let mut rules = String::new();
    let mut symbols = String::new();
    let mut n = 0;
    let kinds = [
        (Kind::Fill, "Polygon", "polygons"),
        (Kind::Line, "Line", "lines"),
        (Kind::Circle, "Point", "points"),
    ];
    for (kind, qgis_type, label) in kinds {
        let size = match kind {
            Kind::Fill => style.size.min(1.0),
            Kind::Line => 3.0,
            Kind::Circle => style.size,
        };
        rules.push_str(&format!(
            "      <rule key=\"{label}\" label=\"{label}\" filter=\"{}\">\n",
            xml_escape(&format!("geometry_type($geometry) = '{qgis_type}'"))
        ));
        let cats: &[(String, String)] = match &style.by {
            Some((_, cats)) => cats,
            None => &[],
        };
        let attr = style.by.as_ref().map(|(a, _)| a.as_str()).unwrap_or("");
        for (v, c) in cats {
            rules.push_str(&format!(
                "        <rule key=\"{label}-{v}\" label=\"{v}\" filter=\"{}\" symbol=\"{n}\"/>\n",
                xml_escape(&format!("\"{attr}\" = {}", qgis_literal(v))),
                v = xml_escape(v)
            ));
            symbols.push_str(&symbol(kind, &n.to_string(), c, size));
            n += 1;
        }
        rules.push_str(&format!(
            "        <rule key=\"{label}-other\" label=\"{}\" filter=\"ELSE\" symbol=\"{n}\"/>\n      </rule>\n",
            if cats.is_empty() { label } else { "other" }
        ));
        symbols.push_str(&symbol(kind, &n.to_string(), &style.colour, size));
        n += 1;
    }
    format!(
        "  <renderer-v2 type=\"RuleRenderer\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n    <rules key=\"root\">\n{rules}    </rules>\n    <symbols>\n{symbols}    </symbols>\n  </renderer-v2>\n"
    )
}

/// The QGIS style (QML): a categorized renderer on the attribute, or a single symbol; a
/// rule-based renderer by geometry type for a layer of mixed types.
pub fn qml(style: &Style) -> String {
    let mut out = String::from(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.28.0\" styleCategories=\"Symbology\">\n",
    );
    if style.any_geometry {
        out.push_str(&qml_rules(style));
        out.push_str("</qgis>\n");
        return out;
    }
    match &style.by {
        None => {
            out.push_str("  <renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n    <symbols>\n");
            out.push_str(&symbol(style.kind, "0", &style.colour, style.size));
            out.push_str("    </symbols>\n  </renderer-v2>\n");
        }
        Some((attr, cats)) => {
            out.push_str(&format!(
                "  <renderer-v2 type=\"categorizedSymbol\" attr=\"{}\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n    <categories>\n",
                xml_escape(attr)
            ));
            for (i, (v, _)) in cats.iter().enumerate() {
                out.push_str(&format!(
                    "      <category symbol=\"{i}\" value=\"{0}\" label=\"{0}\" render=\"true\"/>\n",
                    xml_escape(v)
                ));
            }
            out.push_str(&format!(
                "      <category symbol=\"{}\" value=\"\" label=\"other\" render=\"true\"/>\n    </categories>\n    <symbols>\n",
                cats.len()
            ));
            for (i, (_, c)) in cats.iter().enumerate() {
                out.push_str(&symbol(style.kind, &i.to_string(), c, style.size));
            }
            out.push_str(&symbol(
                style.kind,
                &cats.len().to_string(),
                &style.colour,
                style.size,
            ));
            out.push_str("    </symbols>\n  </renderer-v2>\n");
        }
    }
    out.push_str("</qgis>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maplibre_match_uses_numbers_for_numeric_categories() {
        let s = Style::circle("axis", &[("1", "#ff0000"), ("2", "#00ff00")], 5.0).any_geometry();
        let j: Json = serde_json::from_str(&maplibre("projects", &s)).unwrap();
        assert_eq!(j.as_array().unwrap().len(), 3);
        assert_eq!(
            j[2]["paint"]["circle-color"],
            json!([
                "match",
                ["get", "axis"],
                1,
                "#ff0000",
                2,
                "#00ff00",
                DEFAULT
            ])
        );
    }

    #[test]
    fn mixed_layers_get_a_rule_per_geometry_type_in_qgis() {
        let s = Style::circle("axis", &[("1", "#ff0000"), ("2", "#00ff00")], 5.0).any_geometry();
        let q = qml(&s);
        assert!(q.contains("type=\"RuleRenderer\""));
        for t in ["Polygon", "Line", "Point"] {
            assert!(
                q.contains(&format!("geometry_type($geometry) = &apos;{t}&apos;")),
                "{t}"
            );
        }
        assert!(q.contains("filter=\"&quot;axis&quot; = 2\""));
        // Two categories and an ELSE rule for each of the three geometry types.
        assert_eq!(q.matches("<symbol ").count(), 9);
        assert_eq!(q.matches("filter=\"ELSE\"").count(), 3);
        for ty in ["fill", "line", "marker"] {
            assert_eq!(
                q.matches(&format!("<symbol type=\"{ty}\"")).count(),
                3,
                "{ty}"
            );
        }
    }

    #[test]
    fn qml_lists_every_category_with_a_symbol() {
        let s = Style::fill(
            "kind",
            &[("industrial", "#8e44ad"), ("logistics", "#2c3e50")],
            0.7,
        );
        let q = qml(&s);
        assert!(q.contains("type=\"categorizedSymbol\" attr=\"kind\""));
        assert!(q.contains("value=\"industrial\""));
        assert_eq!(q.matches("<symbol ").count(), 3);
        assert!(q.contains("142,68,173,179"));
    }
}
