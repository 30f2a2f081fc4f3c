//! Layer styles over HTTP: the MapLibre style layers and the QGIS style of every catalogue
//! layer, and one MapLibre style document for the whole catalogue.
//!
//! - `GET /styles`: which styles each layer has, with links.
//! - `GET /styles/{layer}` (also `/styles/{layer}.json`): the layer's MapLibre style layers, the
//!   JSON array of `<styles_dir>/<style>.json` with every `source` set to the layer id. Media
//!   type [`STYLE_LAYERS`]: MapLibre registers no media type, and an array of style layers is
//!   not a whole style document, so it gets a name of its own (with the `+json` suffix).
//! - `GET /styles/{layer}.qml`: the QGIS style of the layer, [`QML`].
//! - `GET /styles/map.json`: a complete MapLibre style document (version 8) for the whole
//!   catalogue, [`STYLE`]: a GeoJSON source per layer pointing at its items endpoint (one page
//!   of [`MAX_LIMIT`] features; larger layers need paging by `bbox`, as the web map does) and
//!   the style layers of every layer, areas below lines below points. Any MapLibre app can
//!   load it as is. `map.json` is a reserved name: a layer called `map` has its style layers
//!   at `/styles/map`.
//! - `GET /styles/map.json?source=tiles`: the same style drawing from vector tiles: one
//!   `vector` source (the catalogue's TileJSON, `/tiles/WebMercatorQuad/tilejson.json`)
//!   instead of a GeoJSON source per layer, each style layer with its `source-layer` (the
//!   collection id, the name of its layer in the tiles). Complete at every size, for MapLibre
//!   and QGIS's vector tile layer (`styleUrl`). `source=geojson` is the default.
//!
//! `/collections/{id}` links both files with `rel=stylesheet`.

use super::http::Live;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_DISPOSITION;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value as Json};

use super::http::negotiate::{JSON, QML, STYLE, STYLE_LAYERS};
use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::respond::{self, link, style_links};
use super::http::{ApiError, AppState, Ctx, Repr, MAX_LIMIT};
use crate::catalog::System;
use crate::crs;
use crate::ptcp::Role;
use crate::store::Layer;

/// The background colour of the catalogue style (a plain paper tone, without basemap).
const BACKGROUND: &str = "#f3f1ec";

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/styles", get(list))
        .route("/styles/", get(list))
        .route("/styles/{name}", get(style))
}

/// The landing page's link to the catalogue style.
pub fn landing_link(ctx: &Ctx) -> Json {
    link(
        ctx.url("/styles/map.json"),
        "stylesheet",
        STYLE,
        "MapLibre style of the whole catalogue",
    )
}

fn find_layer<'a>(state: &'a AppState, id: &str) -> Result<&'a Layer, ApiError> {
    state
        .catalog()
        .layer(id)
        .ok_or_else(|| ApiError::not_found(format!("no layer {id:?} in the catalogue")))
}

/// The MapLibre style layers of `layer`, each drawing from the source named after the layer
/// (a style shared by several layers has its layer ids renamed after the layer too).
/// `None` when the layer has no MapLibre style.
fn style_layers(state: &AppState, layer: &Layer) -> Result<Option<Vec<Json>>, ApiError> {
    let (Some(path), _) = state.style_files(layer) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ApiError::internal(format!("reading {}: {e}", path.display())))?;
    let parsed: Json = serde_json::from_str(&text)
        .map_err(|e| ApiError::internal(format!("{} is not JSON: {e}", path.display())))?;
    let Json::Array(list) = parsed else {
        return Err(ApiError::internal(format!(
            "{} is not an array of MapLibre style layers",
            path.display()
        )));
    };
    let id = layer.id();
    let style = layer.config.style.as_deref().unwrap_or(id);
    let mut layers = Vec::with_capacity(list.len());
    for mut l in list {
        let Some(obj) = l.as_object_mut() else {
            return Err(ApiError::internal(format!(
                "{}: a style layer is not an object",
                path.display()
            )));
        };
        obj.insert("source".into(), json!(id));
        if style != id {
            let old = obj.get("id").and_then(Json::as_str).unwrap_or("");
            let renamed = match old.strip_prefix(style) {
                Some(rest) => format!("{id}{rest}"),
                None => format!("{id}-{old}"),
            };
            obj.insert("id".into(), json!(renamed));
        }
        layers.push(l);
    }
    Ok(Some(layers))
}

/// The representation of `/styles`.
const LIST: [Repr; 1] = [Repr::Json];
/// The parameters of `/styles`.
static LIST_PARAMS: [Param; 1] = [Param::format(&LIST)];

async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&LIST_PARAMS)?;
    ctx.negotiate(&LIST)?;
    let styles: Vec<Json> = state
        .catalog()
        .layers()
        .iter()
        .map(|l| {
            json!({
                "layer": l.id(),
                "title": l.config.title,
                "system": l.config.system.name(),
                "links": style_links(&ctx, l.id(), state.style_files(l)),
            })
        })
        .collect();
    let body = json!({
        "links": [
            link(ctx.url("/styles"), "self", JSON, "the styles of the catalogue"),
            landing_link(&ctx),
        ],
        "styles": styles,
    });
    Ok(respond::json(&body, JSON))
}

/// Where the catalogue style's data comes from.
const SOURCE: Param = Param::new(
    "source",
    Schema::Word(&["geojson", "tiles"]),
    "The sources of the style: a GeoJSON source per layer on its items (geojson, the \
     default), or one vector source on the catalogue's vector tiles (tiles).",
);
/// The parameters of the catalogue style.
static CATALOGUE_PARAMS: [Param; 1] = [SOURCE];

async fn style(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let base = ctx.base.clone();
    if name == "map.json" {
        ctx.query.check(&CATALOGUE_PARAMS)?;
        let tiles = match ctx.param("source") {
            None | Some("geojson") => false,
            Some("tiles") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "parameter source: {other:?} is neither geojson nor tiles"
                )))
            }
        };
        let doc = tokio::task::spawn_blocking(move || {
            let doc = catalogue_style(&state, &base)?;
            Ok::<_, ApiError>(if tiles { tiled(doc, &base) } else { doc })
        })
        .await??;
        return Ok(respond::json(&doc, STYLE));
    }
    ctx.query.check(&[])?;
    if let Some(id) = name.strip_suffix(".qml") {
        let layer = find_layer(&state, id)?;
        let (_, Some(path)) = state.style_files(layer) else {
            return Err(ApiError::not_found(format!(
                "layer {id:?} has no QGIS style (.qml)"
            )));
        };
        let text = tokio::task::spawn_blocking(move || {
            std::fs::read(&path)
                .map_err(|e| ApiError::internal(format!("reading {}: {e}", path.display())))
        })
        .await??;
        let mut response = respond::typed(text, QML);
        if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{id}.qml\"")) {
            response.headers_mut().insert(CONTENT_DISPOSITION, v);
        }
        return Ok(response);
    }
    let id = name.strip_suffix(".json").unwrap_or(&name).to_string();
    let layers = tokio::task::spawn_blocking(move || {
        let layer = find_layer(&state, &id)?;
        style_layers(&state, layer)?.ok_or_else(|| {
            ApiError::not_found(format!("layer {id:?} has no MapLibre style (.json)"))
        })
    })
    .await??;
    Ok(respond::json(&Json::Array(layers), STYLE_LAYERS))
}

/// Where a style layer goes in the catalogue style: areas, then lines, then points; among
/// them the municipalities first (the province under everything), then by system from the
/// broad rural and environmental zones up to settlements, infrastructure and the projects.
fn draw_order(state: &AppState, layer: &Layer, style_layer: &Json) -> (u8, u8) {
    let kind = match style_layer["type"].as_str() {
        Some("background") => 0,
        Some("raster" | "hillshade") => 1,
        Some("fill" | "fill-extrusion" | "heatmap") => 2,
        Some("line") => 3,
        Some("circle") => 4,
        _ => 5,
    };
    let catalog = state.catalog();
    let municipalities = Role::Municipalities.spec().layer_in(&catalog.config);
    let system = if municipalities == Some(layer.id()) {
        0
    } else {
        match layer.config.system {
            System::Rural => 1,
            System::Environmental => 2,
            System::Settlement => 3,
            System::Infrastructure => 4,
            System::Projects => 5,
        }
    };
    (kind, system)
}

/// The MapLibre style document of the whole catalogue (see the module documentation).
pub fn catalogue_style(state: &AppState, base: &str) -> Result<Json, ApiError> {
    let catalog = state.catalog();
    let config = state.config();
    let mut sources = Map::new();
    let mut metadata = Vec::new();
    let mut drawn: Vec<((u8, u8), usize, Json)> = Vec::new();
    let mut extent: Option<geo::Rect<f64>> = None;
    if let Some(url) = &config.basemap_url {
        let mut source = json!({"type": "raster", "tiles": [url], "tileSize": 256});
        if let Some(a) = &config.basemap_attribution {
            source["attribution"] = json!(a);
        }
        sources.insert("basemap".into(), source);
    }
    for layer in catalog.layers() {
        let Some(layers) = style_layers(state, layer)? else {
            continue;
        };
        let id = layer.id();
        if let Some(e) = layer.extent() {
            extent = Some(extent.map_or(e, |u| crate::feature::rect_union(u, e)));
        }
        sources.insert(
            id.to_string(),
            json!({
                "type": "geojson",
                "data": format!("{base}/collections/{id}/items?f=json&limit={MAX_LIMIT}"),
            }),
        );
        metadata.push(json!({
            "id": id,
            "title": layer.config.title,
            "system": layer.config.system.name(),
            "itemCount": layer.count(),
            "complete": layer.count() <= MAX_LIMIT,
            "collection": format!("{base}/collections/{id}"),
            "style_layers": layers.iter().map(|l| l["id"].clone()).collect::<Vec<_>>(),
        }));
        for l in layers {
            drawn.push((draw_order(state, layer, &l), drawn.len(), l));
        }
    }
    drawn.sort_by_key(|(order, position, _)| (*order, *position));
    let mut layers = vec![json!({
        "id": "background",
        "type": "background",
        "paint": {"background-color": BACKGROUND},
    })];
    if config.basemap_url.is_some() {
        layers.push(json!({"id": "basemap", "type": "raster", "source": "basemap"}));
    }
    layers.extend(drawn.into_iter().map(|(_, _, l)| l));
    let mut doc = json!({
        "version": 8,
        "name": "territorio",
        "metadata": {
            "territorio:api": base,
            "territorio:layers": metadata,
        },
        "sources": sources,
        "layers": layers,
    });
    let bounds = extent.and_then(|e| {
        crs::cached_transformer(&catalog.working_crs, crs::CRS84)
            .ok()?
            .bounds(e)
            .ok()
    });
    if let Some(b) = bounds {
        let (w, s, e, n) = (b.min().x, b.min().y, b.max().x, b.max().y);
        let round = |v: f64| (v * 1e5).round() / 1e5;
        // The zoom that fits the extent in a 1024 x 768 view (512-pixel tiles).
        let lat = ((s + n) / 2.0).to_radians().cos().max(0.01);
        let zx = (1024.0 * 360.0 / (512.0 * (e - w).max(1e-9))).log2();
        let zy = (768.0 * 360.0 * lat / (512.0 * (n - s).max(1e-9))).log2();
        doc["center"] = json!([round((w + e) / 2.0), round((s + n) / 2.0)]);
        doc["zoom"] = json!((zx.min(zy).clamp(0.0, 22.0) * 10.0).floor() / 10.0);
        doc["metadata"]["territorio:bounds"] = json!([round(w), round(s), round(e), round(n)]);
    }
    Ok(doc)
}

/// The name of the vector tile source of the tiled catalogue style.
const TILES_SOURCE: &str = "territorio";

/// The catalogue style `doc` drawing from the catalogue's vector tiles: its GeoJSON sources
/// replaced by one vector source, each style layer that drew from one given the
/// `source-layer` of the same name (see the module documentation).
fn tiled(mut doc: Json, base: &str) -> Json {
    let Some(sources) = doc["sources"].as_object_mut() else {
        return doc;
    };
    let layer_sources: Vec<String> = sources
        .iter()
        .filter(|(_, s)| s["type"] == "geojson")
        .map(|(k, _)| k.clone())
        .collect();
    for k in &layer_sources {
        sources.remove(k);
    }
    sources.insert(
        TILES_SOURCE.into(),
        json!({
            "type": "vector",
            "url": format!("{base}/tiles/WebMercatorQuad/tilejson.json"),
        }),
    );
    if let Some(layers) = doc["layers"].as_array_mut() {
        for l in layers {
            let Some(source) = l["source"].as_str().map(str::to_string) else {
                continue;
            };
            if layer_sources.contains(&source) {
                l["source"] = json!(TILES_SOURCE);
                l["source-layer"] = json!(source);
            }
        }
    }
    if let Some(meta) = doc["metadata"]["territorio:layers"].as_array_mut() {
        for m in meta {
            m["complete"] = json!(true);
        }
    }
    doc["metadata"]["territorio:source"] = json!("tiles");
    doc
}

/// The OpenAPI path items of the styles.
pub fn openapi_paths(scope: Scope) -> Vec<(String, Json)> {
    let not_found = "no such layer, or the layer has no style of that kind";
    let list = oas::Get {
        id: "getStyles",
        summary: "The styles of every layer, as links",
        description: None,
        tags: &["styles"],
        parameters: LIST_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "each layer's style links",
            vec![oas::media(
                Repr::Json,
                json!({"type": "object", "required": ["links", "styles"], "properties": {
                    "links": oas::schema_ref("Links"),
                    "styles": {"type": "array", "items": {
                        "type": "object", "required": ["layer", "links"],
                        "properties": {
                            "layer": {"type": "string"},
                            "title": {"type": "string"},
                            "system": {"type": "string"},
                            "links": oas::schema_ref("Links"),
                        },
                    }},
                }}),
            )],
        ),
        errors: oas::Errors::get(true),
    };
    let catalogue = oas::Get {
        id: "getCatalogueStyle",
        summary: "One MapLibre style document for the whole catalogue (GeoJSON sources on the items endpoints, or with source=tiles one vector source on the catalogue's vector tiles)",
        description: None,
        tags: &["styles"],
        parameters: CATALOGUE_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "a MapLibre style document (version 8)",
            vec![(
                STYLE,
                json!({"type": "object", "required": ["version", "sources", "layers"],
                       "properties": {
                           "version": {"type": "integer", "enum": [8]},
                           "name": {"type": "string"},
                           "sources": {"type": "object"},
                           "layers": {"type": "array", "items": {"type": "object"}},
                       }}),
            )],
        ),
        errors: oas::Errors::get(false),
    };
    let layer = oas::Get {
        id: "getLayerStyle",
        summary: "The MapLibre style layers of a layer (also at /styles/{layer}.json); /styles/{layer}.qml is its QGIS style",
        description: None,
        tags: &["styles"],
        parameters: vec![json!({"name": "layer", "in": "path", "required": true,
            "schema": {"type": "string"},
            "description": "a layer id, optionally followed by .json (MapLibre) or .qml (QGIS)"})],
        ok: oas::ok(
            "the style",
            vec![
                (STYLE_LAYERS, json!({"type": "array", "items": {"type": "object"}})),
                (QML, json!({"type": "string"})),
            ],
        ),
        errors: oas::Errors::get(false).with(404, not_found),
    };
    vec![
        ("/styles".into(), json!({"get": list.openapi()})),
        (
            "/styles/map.json".into(),
            json!({"get": catalogue.openapi()}),
        ),
        ("/styles/{layer}".into(), json!({"get": layer.openapi()})),
    ]
}
