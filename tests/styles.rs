//! Every catalogue layer has both styles, and they suit the layer: MapLibre style layers (JSON)
//! that draw each geometry type of the layer with the fields it has, and a QGIS style (QML)
//! that parses as XML with a renderer whose symbols suit the layer's geometry types.
//!
//! MapLibre's own validator checks the JSON against the style spec in `tools/style-check`
//! (run by `scripts/test`), and the browser tests validate what the server serves with it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value as Json;
use territorio::catalog::CatalogConfig;
use territorio::store::{Catalog, Layer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let config =
            CatalogConfig::from_file(&root().join("examples/cremona/catalog.toml")).unwrap();
        Catalog::load(config, &|_| {}).unwrap()
    })
}

/// The MapLibre layer type and the QGIS symbol type that draw a geometry type.
fn drawn_by(geometry_type: &str) -> (&'static str, &'static str) {
    match geometry_type.trim_start_matches("Multi") {
        "Point" => ("circle", "marker"),
        "LineString" => ("line", "line"),
        "Polygon" => ("fill", "fill"),
        other => panic!("unexpected geometry type {other}"),
    }
}

fn style_file(layer: &Layer, ext: &str) -> PathBuf {
    let style = layer
        .config
        .style
        .as_deref()
        .unwrap_or_else(|| panic!("layer {} has no style", layer.id()));
    catalog().config.styles_dir.join(format!("{style}.{ext}"))
}

/// The attributes read by `["get", name]` anywhere in an expression.
fn attributes(e: &Json, out: &mut BTreeSet<String>) {
    if let Json::Array(items) = e {
        if items.len() == 2 && items[0] == "get" {
            if let Some(name) = items[1].as_str() {
                out.insert(name.to_string());
            }
        }
        for i in items {
            attributes(i, out);
        }
    } else if let Json::Object(map) = e {
        for v in map.values() {
            attributes(v, out);
        }
    }
}

#[test]
fn every_catalogue_layer_has_both_styles() {
    assert_eq!(catalog().layers().len(), 20);
    for layer in catalog().layers() {
        for ext in ["json", "qml"] {
            let path = style_file(layer, ext);
            assert!(
                path.is_file(),
                "{}: {} is missing",
                layer.id(),
                path.display()
            );
        }
    }
}

#[test]
fn maplibre_styles_draw_every_geometry_type_with_fields_the_layer_has() {
    for layer in catalog().layers() {
        let text = std::fs::read_to_string(style_file(layer, "json")).unwrap();
        let styles: Vec<Json> = serde_json::from_str(&text).unwrap();
        let fields: BTreeSet<&str> = layer.fields.iter().map(|f| f.name.as_str()).collect();
        for ty in layer.geometry_types() {
            let (maplibre, _) = drawn_by(ty);
            let base = ty.trim_start_matches("Multi");
            let drawn = styles.iter().any(|s| {
                s["type"] == maplibre
                    && match s.get("filter") {
                        None => true,
                        Some(f) => *f == serde_json::json!(["==", ["geometry-type"], base]),
                    }
            });
            assert!(
                drawn,
                "{}: no {maplibre} style layer for its {ty}s",
                layer.id()
            );
        }
        let mut used = BTreeSet::new();
        for s in &styles {
            attributes(&s["paint"], &mut used);
        }
        for a in &used {
            assert!(
                fields.contains(a.as_str()),
                "{}: the style reads {a:?}, which the layer does not have",
                layer.id()
            );
        }
    }
}

#[test]
fn qgis_styles_parse_as_xml_with_a_renderer_for_the_geometry_types() {
    for layer in catalog().layers() {
        let id = layer.id();
        let text = std::fs::read_to_string(style_file(layer, "qml")).unwrap();
        let doc = roxmltree::Document::parse_with_options(
            &text,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{id}.qml is not XML: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "qgis", "{id}");
        let renderers: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("renderer-v2"))
            .collect();
        assert_eq!(renderers.len(), 1, "{id}: one renderer");
        let renderer = renderers[0];
        // The symbols of the renderer, by name, with their QGIS type.
        let symbols: Vec<(String, String)> = renderer
            .children()
            .filter(|n| n.has_tag_name("symbols"))
            .flat_map(|s| s.children().filter(|n| n.has_tag_name("symbol")))
            .map(|s| {
                (
                    s.attribute("name").unwrap_or("").to_string(),
                    s.attribute("type").unwrap_or("").to_string(),
                )
            })
            .collect();
        assert!(!symbols.is_empty(), "{id}: the renderer has symbols");
        let type_of = |name: &str| {
            symbols
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
                .unwrap_or_else(|| panic!("{id}: no symbol {name:?}"))
        };
        let fields: BTreeSet<&str> = layer.fields.iter().map(|f| f.name.as_str()).collect();
        let geometry: BTreeSet<&str> = layer.geometry_types().map(|t| drawn_by(t).1).collect();
        match renderer.attribute("type") {
            Some("singleSymbol") => {
                assert_eq!(symbols.len(), 1, "{id}");
                assert_eq!(geometry, BTreeSet::from([symbols[0].1.as_str()]), "{id}");
            }
            Some("categorizedSymbol") => {
                let attr = renderer.attribute("attr").unwrap_or("");
                assert!(fields.contains(attr), "{id}: categorized on {attr:?}");
                for c in renderer
                    .descendants()
                    .filter(|n| n.has_tag_name("category"))
                {
                    let t = type_of(c.attribute("symbol").unwrap_or(""));
                    assert!(geometry.contains(t), "{id}: a {t} symbol for {geometry:?}");
                }
                assert_eq!(geometry.len(), 1, "{id}: one geometry type");
            }
            Some("RuleRenderer") => {
                // A rule per geometry type, each drawing with symbols of that type.
                let mut covered = BTreeSet::new();
                for rule in renderer.descendants().filter(|n| n.has_tag_name("rule")) {
                    let filter = rule.attribute("filter").unwrap_or("");
                    let Some(rest) = filter.strip_prefix("geometry_type($geometry) = '") else {
                        continue;
                    };
                    let symbol_type = match rest.trim_end_matches('\'') {
                        "Point" => "marker",
                        "Line" => "line",
                        "Polygon" => "fill",
                        other => panic!("{id}: rule for {other}"),
                    };
                    covered.insert(symbol_type);
                    for child in rule.descendants().filter(|n| n.has_tag_name("rule")) {
                        if let Some(s) = child.attribute("symbol") {
                            assert_eq!(type_of(s), symbol_type, "{id}: rule {filter}");
                        }
                        let f = child.attribute("filter").unwrap_or("");
                        if let Some(field) = f.strip_prefix('"').and_then(|f| f.split('"').next()) {
                            assert!(fields.contains(field), "{id}: rule on {field:?}");
                        }
                    }
                }
                assert!(
                    geometry.is_subset(&covered),
                    "{id}: rules for {covered:?}, geometries {geometry:?}"
                );
            }
            other => panic!("{id}: unexpected renderer {other:?}"),
        }
    }
}
