//! OGC API - Features resources other than items: landing page, conformance, the API
//! definition, collections, queryables and schemas.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::error::ApiError;
use super::format::{self, link, Ctx, Format, GEOJSON, JSON, OPENAPI_JSON, SCHEMA_JSON};
use super::items::{self, find_layer, temporal_extent};
use super::{html, map, openapi, params, styles, AppState};
use crate::crs;
use crate::feature::FieldType;
use crate::store::Layer;

/// The conformance classes, each implemented and tested.
pub const CONFORMANCE: [&str; 19] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    // The names of the same classes in the CQL2 drafts, which QGIS looks for.
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-operators",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/api", get(api))
        .route("/api.html", get(api_html))
        .route("/collections", get(collections))
        .route("/collections/", get(collections))
        .route("/collections/{id}", get(collection))
        .route("/collections/{id}/", get(collection))
        .route("/collections/{id}/items", get(items::items))
        .route("/collections/{id}/items/{fid}", get(items::item))
        .route("/collections/{id}/queryables", get(queryables))
        .route("/collections/{id}/schema", get(schema))
        .route("/health", get(|| async { "ok" }))
}

/// A JSON answer with an exact media type.
pub fn json_response(value: &Json, media_type: &'static str) -> Response {
    let mut response = value.to_string().into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

/// Refuses parameters other than `allowed` (and `f`).
pub fn only_params(ctx: &Ctx, allowed: &[&str]) -> Result<(), ApiError> {
    for (name, _) in &ctx.query {
        if name != "f" && !allowed.contains(&name.as_str()) {
            let mut known = vec!["f"];
            known.extend_from_slice(allowed);
            return Err(ApiError::bad_request(format!(
                "unknown parameter {name:?} (parameters: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

async fn landing(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    let mut links = format::self_links(&ctx, "/", JSON, "landing page");
    links.extend([
        link(
            ctx.url("/api"),
            "service-desc",
            OPENAPI_JSON,
            "the API definition (OpenAPI 3.0)",
        ),
        link(
            ctx.url("/api.html"),
            "service-doc",
            format::HTML,
            "the API documentation",
        ),
        link(
            ctx.url("/conformance"),
            "conformance",
            JSON,
            "conformance classes implemented",
        ),
        link(
            ctx.url("/collections"),
            "data",
            JSON,
            "the layers of the catalogue",
        ),
        styles::landing_link(&ctx),
    ]);
    links.extend(super::analysis::landing_links(&ctx));
    links.extend(map::landing_links(&state, &ctx));
    let body = json!({
        "title": "territorio",
        "description": format!(
            "Spatial analysis for territorial planning: {} layers of the provincial \
             coordination plan and the development-pact projects, in metres (working CRS {}).",
            state.catalog().layers().len(),
            state.catalog().working_crs
        ),
        "links": links,
    });
    Ok(match ctx.format {
        Format::Json => json_response(&body, JSON),
        Format::Html => html::landing_page(&ctx, state.catalog(), &body),
    })
}

async fn conformance(ctx: Ctx) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    let body = json!({ "conformsTo": CONFORMANCE });
    Ok(match ctx.format {
        Format::Json => json_response(&body, JSON),
        Format::Html => html::list_page(&ctx, "Conformance", &CONFORMANCE),
    })
}

async fn api(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    let doc = openapi::document(&state, &ctx);
    Ok(match ctx.format {
        Format::Json => json_response(&doc, OPENAPI_JSON),
        Format::Html => html::api_page(&ctx, &doc),
    })
}

async fn api_html(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    Ok(html::api_page(&ctx, &openapi::document(&state, &ctx)))
}

/// The description of one collection.
pub fn collection_json(state: &AppState, ctx: &Ctx, layer: &Layer) -> Json {
    let id = layer.id();
    let working = &state.catalog().working_crs;
    let path = format!("/collections/{id}");
    let mut links = format::self_links(ctx, &path, JSON, &layer.config.title);
    links.extend([
        link(
            ctx.url(&format!("{path}/items?f=json")),
            "items",
            GEOJSON,
            "features (GeoJSON)",
        ),
        link(
            ctx.url(&format!("{path}/items?f=html")),
            "items",
            format::HTML,
            "features (HTML)",
        ),
        link(
            ctx.url(&format!("{path}/queryables")),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            SCHEMA_JSON,
            "queryable properties",
        ),
        link(
            ctx.url(&format!("{path}/schema")),
            "describedby",
            SCHEMA_JSON,
            "schema of the features",
        ),
        // The same schema under the relation of Features Part 5, which newer QGIS reads for
        // field types instead of guessing them from the first features.
        link(
            ctx.url(&format!("{path}/schema")),
            "http://www.opengis.net/def/rel/ogc/1.0/schema",
            SCHEMA_JSON,
            "schema of the features (Part 5)",
        ),
    ]);
    links.extend(styles::collection_links(state, ctx, layer));
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
    if let Some([start, end]) = temporal_extent(layer) {
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
        "crs": params::supported_crs(working).iter().map(|c| crs::uri(c)).collect::<Vec<_>>(),
        "itemCount": layer.features.len(),
        "geometryTypes": layer.geometry_types().collect::<Vec<_>>(),
        "links": links,
    })
}

async fn collections(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    let list: Vec<Json> = state
        .catalog()
        .layers()
        .iter()
        .map(|l| collection_json(&state, &ctx, l))
        .collect();
    let working = &state.catalog().working_crs;
    let body = json!({
        "links": format::self_links(&ctx, "/collections", JSON, "collections"),
        "crs": params::supported_crs(working).iter().map(|c| crs::uri(c)).collect::<Vec<_>>(),
        "collections": list,
    });
    Ok(match ctx.format {
        Format::Json => json_response(&body, JSON),
        Format::Html => html::collections_page(&ctx, state.catalog()),
    })
}

async fn collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    let (_, layer) = find_layer(&state, &id)?;
    let body = collection_json(&state, &ctx, layer);
    Ok(match ctx.format {
        Format::Json => json_response(&body, JSON),
        Format::Html => html::collection_page(&ctx, layer, &body),
    })
}

/// The JSON Schema of a field type.
fn field_schema(name: &str, ty: FieldType) -> Json {
    let mut s = openapi::field_schema(ty);
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
pub fn layer_schema(ctx: &Ctx, layer: &Layer, path: &str, title: &str) -> Json {
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
    only_params(&ctx, &[])?;
    let (_, layer) = find_layer(&state, &id)?;
    let body = layer_schema(
        &ctx,
        layer,
        &format!("/collections/{id}/queryables"),
        "queryables",
    );
    Ok(match ctx.format {
        Format::Json => json_response(&body, SCHEMA_JSON),
        Format::Html => html::schema_page(&ctx, layer, &body),
    })
}

async fn schema(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    only_params(&ctx, &[])?;
    let (_, layer) = find_layer(&state, &id)?;
    let mut body = layer_schema(&ctx, layer, &format!("/collections/{id}/schema"), "schema");
    // Features Part 5 roles: the primary geometry with its type as a format, and the property
    // holding feature ids.
    let format = match layer.geometry_types().collect::<Vec<_>>().as_slice() {
        [one] => format!("geometry-{}", one.to_ascii_lowercase()),
        _ => "geometry-any".to_string(),
    };
    body["properties"]["geometry"]["format"] = json!(format);
    body["properties"]["geometry"]["x-ogc-role"] = json!("primary-geometry");
    if let Some(id_field) = &layer.config.id_field {
        if body["properties"].get(id_field).is_some() {
            body["properties"][id_field]["x-ogc-role"] = json!("id");
        }
    }
    Ok(match ctx.format {
        Format::Json => json_response(&body, SCHEMA_JSON),
        Format::Html => html::schema_page(&ctx, layer, &body),
    })
}

#[cfg(test)]
mod tests {
    use super::CONFORMANCE;

    #[test]
    fn every_cql2_class_the_filter_implements_is_declared() {
        for class in crate::filter::CONFORMANCE {
            assert!(CONFORMANCE.contains(class), "{class} not declared");
        }
        // Declared CQL2 classes are implemented (the draft spellings alias final ones).
        for class in CONFORMANCE.iter().filter(|c| c.contains("/cql2/")) {
            let final_name = class
                .replace("basic-spatial-operators", "basic-spatial-functions")
                .replace("/spatial-operators", "/spatial-functions");
            assert!(
                crate::filter::CONFORMANCE.contains(&final_name.as_str()),
                "{class} declared but not implemented"
            );
        }
    }
}
