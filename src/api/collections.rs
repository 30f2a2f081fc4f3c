//! OGC API - Features: the collections, one collection, its queryables and its schema.

use super::http::Live;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::negotiate::HTML;
use super::http::oas;
use super::http::param::{Param, Scope};
use super::http::respond::{self, link, self_links, style_links};
use super::http::{html, ApiError, AppState, Ctx, Repr};
use crate::crs;
use crate::feature::FieldType;
use crate::store::Layer;
use crate::time::temporal_extent;

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/collections", get(collections))
        .route("/collections/", get(collections))
        .route("/collections/{id}", get(collection))
        .route("/collections/{id}/", get(collection))
        .route("/collections/{id}/queryables", get(queryables))
        .route("/collections/{id}/schema", get(schema))
}

/// The representations of the collections and of one collection.
const PAGE: [Repr; 2] = [Repr::Json, Repr::Html];
/// The representations of queryables and schemas.
const SCHEMA: [Repr; 2] = [Repr::SchemaJson, Repr::Html];

/// The parameters of the collections and of one collection.
static PAGE_PARAMS: [Param; 1] = [Param::format(&PAGE)];
/// The parameters of queryables and schemas.
static SCHEMA_PARAMS: [Param; 1] = [Param::format(&SCHEMA)];

/// The description of one collection.
fn collection_json(state: &AppState, ctx: &Ctx, repr: Repr, layer: &Layer) -> Json {
    let id = layer.id();
    let working = &state.catalog().working_crs;
    let path = format!("/collections/{id}");
    let mut links = self_links(ctx, &path, repr, &PAGE, &layer.config.title);
    links.extend([
        link(
            ctx.url(&format!("{path}/items")),
            "items",
            Repr::GeoJson.media_type(),
            "features (GeoJSON)",
        ),
        link(
            ctx.url(&format!("{path}/items?f=html")),
            "items",
            HTML,
            "features (HTML)",
        ),
        link(
            ctx.url(&format!("{path}/queryables")),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            Repr::SchemaJson.media_type(),
            "queryable properties",
        ),
        link(
            ctx.url(&format!("{path}/schema")),
            "describedby",
            Repr::SchemaJson.media_type(),
            "schema of the features",
        ),
        // The same schema under the relation of Features Part 5, which newer QGIS reads for
        // field types instead of guessing them from the first features.
        link(
            ctx.url(&format!("{path}/schema")),
            "http://www.opengis.net/def/rel/ogc/1.0/schema",
            Repr::SchemaJson.media_type(),
            "schema of the features (Part 5)",
        ),
        // OGC API - Tiles: the vector tilesets of the collection (WebMercatorQuad).
        link(
            ctx.url(&format!("{path}/tiles")),
            "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
            Repr::Json.media_type(),
            "vector tiles (Mapbox Vector Tiles)",
        ),
    ]);
    links.extend(style_links(ctx, id, state.style_files(layer)));
    let bbox = layer
        .extent()
        .and_then(|e| {
            crs::cached_transformer(working, crs::CRS84)
                .ok()?
                .bounds(e)
                .ok()
        })
        .map(|r| {
            let round = |v: f64| (v * 1e7).round() / 1e7;
            json!([[
                round(r.min().x),
                round(r.min().y),
                round(r.max().x),
                round(r.max().y)
            ]])
        });
    let mut extent = serde_json::Map::new();
    if let Some(bbox) = bbox {
        extent.insert(
            "spatial".into(),
            json!({"bbox": bbox, "crs": crs::uri(crs::CRS84)}),
        );
    }
    let temporal = match &layer.change_log {
        Some(log) => log.temporal_extent(layer.version),
        None => temporal_extent(layer),
    };
    if let Some([start, end]) = temporal {
        extent.insert(
            "temporal".into(),
            json!({
                "interval": [[start, end]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
            }),
        );
    }
    json!({
        "id": id,
        "title": layer.config.title,
        "description": layer.config.description,
        "keywords": [layer.config.system.name()],
        "system": layer.config.system.name(),
        "itemType": "feature",
        "extent": extent,
        "storageCrs": crs::uri(working),
        "crs": crs::supported_uris(working),
        "itemCount": layer.count(),
        "geometryTypes": layer.geometry_types().collect::<Vec<_>>(),
        "links": links,
    })
}

async fn collections(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&PAGE_PARAMS)?;
    let repr = ctx.negotiate(&PAGE)?;
    let list: Vec<Json> = state
        .catalog()
        .layers()
        .iter()
        .map(|l| collection_json(&state, &ctx, repr, l))
        .collect();
    let working = &state.catalog().working_crs;
    let body = json!({
        "links": self_links(&ctx, "/collections", repr, &PAGE, "collections"),
        "crs": crs::supported_uris(working),
        "collections": list,
    });
    Ok(match repr {
        Repr::Html => html::collections_page(&ctx, state.catalog()),
        _ => respond::json(&body, repr.media_type()),
    })
}

async fn collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&PAGE_PARAMS)?;
    let repr = ctx.negotiate(&PAGE)?;
    let (_, layer) = state.layer(&id)?;
    let body = collection_json(&state, &ctx, repr, layer);
    Ok(match repr {
        Repr::Html => html::collection_page(&ctx, layer, &body),
        _ => respond::json(&body, repr.media_type()),
    })
}

/// The JSON Schema of a field type (queryables, feature schemas).
fn field_type_schema(ty: FieldType) -> Json {
    match ty {
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Int => json!({"type": "integer"}),
        FieldType::Real => json!({"type": "number"}),
        FieldType::String => json!({"type": "string"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
    }
}

/// The JSON Schema of a field, titled with its name.
fn field_schema(name: &str, ty: FieldType) -> Json {
    let mut s = field_type_schema(ty);
    s["title"] = json!(name);
    s
}

/// The GeoJSON schema of a layer's geometries.
fn geometry_schema(layer: &Layer) -> Json {
    let types: Vec<&str> = layer.geometry_types().collect();
    let name = match types.as_slice() {
        [one] => *one,
        _ => "Geometry",
    };
    json!({"$ref": format!("https://geojson.org/schema/{name}.json"), "title": "geometry"})
}

/// Queryables (Part 3) or the feature schema: a JSON Schema of the layer's properties.
fn layer_schema(ctx: &Ctx, layer: &Layer, path: &str, title: &str) -> Json {
    let mut properties = serde_json::Map::new();
    properties.insert("geometry".into(), geometry_schema(layer));
    for f in &layer.fields {
        properties.insert(f.name.clone(), field_schema(&f.name, f.ty));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": ctx.url(path),
        "type": "object",
        "title": format!("{} ({title})", layer.config.title),
        "properties": properties,
        "additionalProperties": false,
    })
}

async fn queryables(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    schema_resource(&state, &id, &ctx, "queryables")
}

async fn schema(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    schema_resource(&state, &id, &ctx, "schema")
}

/// `/collections/{id}/queryables` (Part 3) or `/collections/{id}/schema` (Part 5, with roles).
fn schema_resource(
    state: &AppState,
    id: &str,
    ctx: &Ctx,
    kind: &str,
) -> Result<Response, ApiError> {
    ctx.query.check(&SCHEMA_PARAMS)?;
    let repr = ctx.negotiate(&SCHEMA)?;
    let (_, layer) = state.layer(id)?;
    let mut body = layer_schema(ctx, layer, &format!("/collections/{id}/{kind}"), kind);
    if kind == "schema" {
        add_schema_roles(layer, &mut body);
    }
    Ok(match repr {
        Repr::Html => html::schema_page(ctx, layer, &body),
        _ => respond::json(&body, repr.media_type()),
    })
}

/// Features Part 5 roles: the primary geometry with its type as a format, and the property
/// holding feature ids.
fn add_schema_roles(layer: &Layer, body: &mut Json) {
    let format = match layer.geometry_types().collect::<Vec<_>>().as_slice() {
        [one] => format!("geometry-{}", one.to_ascii_lowercase()),
        _ => "geometry-any".to_string(),
    };
    body["properties"]["geometry"]["format"] = json!(format);
    body["properties"]["geometry"]["x-ogc-role"] = json!("primary-geometry");
    if let Some(id_field) = &layer.config.id_field {
        if body["properties"].get(id_field).is_some() {
            body["properties"][id_field]["x-ogc-role"] = json!("id");
            // The service gives ids; a client sends none.
            body["properties"][id_field]["readOnly"] = json!(true);
        }
    }
    add_field_rules(layer, body);
}

/// The catalogue's `[[layer.field]]` rules as JSON Schema keywords: `title` (QGIS >= 3.44
/// shows it as the field's alias), `description`, `enum`, `minimum`, `maximum`, `readOnly`
/// for derived values; `required` lists the fields that may not be null.
fn add_field_rules(layer: &Layer, body: &mut Json) {
    let mut required = Vec::new();
    for rule in &layer.config.field_rules {
        let Some(s) = body["properties"].get_mut(&rule.name) else {
            continue;
        };
        if let Some(t) = &rule.title {
            s["title"] = json!(t);
        }
        if let Some(d) = &rule.description {
            s["description"] = json!(d);
        }
        if !rule.allowed.is_empty() {
            let values: Vec<Json> = rule
                .allowed
                .iter()
                .map(|a| match a {
                    crate::catalog::Allowed::Int(i) => json!(i),
                    crate::catalog::Allowed::Text(t) => json!(t),
                })
                .collect();
            s["enum"] = Json::Array(values);
        }
        if let Some(m) = rule.minimum {
            s["minimum"] = json!(m);
        }
        if let Some(m) = rule.maximum {
            s["maximum"] = json!(m);
        }
        if let Some(d) = &rule.derived {
            s["readOnly"] = json!(true);
            if s.get("description").is_none() {
                s["description"] = json!(format!("Derived by the service from {}.", d.from));
            }
        }
        if rule.required {
            required.push(json!(rule.name));
        }
    }
    if !required.is_empty() {
        body["required"] = Json::Array(required);
    }
}

/// The schemas of the answers of this module, for `components.schemas`.
pub(super) fn openapi_schemas() -> Vec<(String, Json)> {
    let link = oas::schema_ref("Link");
    let collection = json!({
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "system": {"type": "string"},
            "itemType": {"type": "string", "enum": ["feature"]},
            "extent": {
                "type": "object",
                "properties": {
                    "spatial": {"type": "object", "required": ["bbox"], "properties": {
                        "bbox": {"type": "array", "minItems": 1, "items": {
                            "type": "array", "minItems": 4, "maxItems": 4,
                            "items": {"type": "number"}}},
                        "crs": {"type": "string"},
                    }},
                    "temporal": {"type": "object", "required": ["interval"], "properties": {
                        "interval": {"type": "array", "minItems": 1, "items": {
                            "type": "array", "minItems": 2, "maxItems": 2,
                            "items": {"type": "string", "nullable": true}}},
                        "trs": {"type": "string"},
                    }},
                },
            },
            "storageCrs": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "itemCount": {"type": "integer", "minimum": 0},
            "geometryTypes": {"type": "array", "items": {"type": "string"}},
            "links": {"type": "array", "items": link},
        },
    });
    let collections = json!({
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": oas::schema_ref("Links"),
            "crs": {"type": "array", "items": {"type": "string"}},
            "collections": {"type": "array", "items": oas::schema_ref("Collection")},
        },
    });
    let json_schema = json!({
        "type": "object",
        "description": "A JSON Schema (draft 2020-12) of the features' properties, the geometry as a https://geojson.org/schema/ reference.",
        "required": ["$schema", "type", "properties"],
        "properties": {
            "$schema": {"type": "string"},
            "$id": {"type": "string"},
            "type": {"type": "string", "enum": ["object"]},
            "title": {"type": "string"},
            "properties": {"type": "object", "additionalProperties": {"type": "object"}},
            "additionalProperties": {"type": "boolean"},
        },
    });
    vec![
        ("Collection".into(), collection),
        ("Collections".into(), collections),
        ("PropertiesSchema".into(), json_schema),
    ]
}

/// The OpenAPI path item of `/collections`.
pub(super) fn openapi_collections(scope: Scope) -> (String, Json) {
    let get = oas::Get {
        id: "getCollections",
        summary: "The collections: every layer of the catalogue",
        description: None,
        tags: &[],
        parameters: PAGE_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the collections",
            vec![
                oas::media(Repr::Json, oas::schema_ref("Collections")),
                oas::html(),
            ],
        ),
        errors: oas::Errors::get(true),
    };
    ("/collections".into(), json!({"get": get.openapi()}))
}

/// The OpenAPI path items of one collection: its description, queryables and schema.
pub(super) fn openapi_paths(scope: Scope, layer: &Layer) -> Vec<(String, Json)> {
    let id = layer.id();
    let title = &layer.config.title;
    let page: Vec<Json> = PAGE_PARAMS.iter().map(|p| p.openapi(scope)).collect();
    let schema: Vec<Json> = SCHEMA_PARAMS.iter().map(|p| p.openapi(scope)).collect();
    let describe = oas::Get {
        id: &format!("describe_{id}"),
        summary: &format!("Describes {title}"),
        description: None,
        tags: &[id],
        parameters: page,
        ok: oas::ok(
            "the collection",
            vec![
                oas::media(Repr::Json, oas::schema_ref("Collection")),
                oas::html(),
            ],
        ),
        errors: oas::Errors::get(true),
    };
    let schema_get = |op: &str, what: &str, answer: &str| {
        oas::Get {
            id: &format!("{op}_{id}"),
            summary: &format!("{what} {title}"),
            description: None,
            tags: &[id],
            parameters: schema.clone(),
            ok: oas::ok(
                answer,
                vec![
                    oas::media(Repr::SchemaJson, oas::schema_ref("PropertiesSchema")),
                    oas::html(),
                ],
            ),
            errors: oas::Errors::get(true),
        }
        .openapi()
    };
    vec![
        (
            format!("/collections/{id}"),
            json!({"get": describe.openapi()}),
        ),
        (
            format!("/collections/{id}/queryables"),
            json!({"get": schema_get(
                "getQueryables",
                "The queryable properties of",
                "a JSON Schema of the properties filters may name",
            )}),
        ),
        (
            format!("/collections/{id}/schema"),
            json!({"get": schema_get(
                "getSchema",
                "The schema of the features of",
                "a JSON Schema of the features (Features Part 5 roles)",
            )}),
        ),
    ]
}
