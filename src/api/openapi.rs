//! The OpenAPI 3.0 document at `/api`, generated from the catalogue.
//!
//! Each collection gets its own paths, so that its properties appear as item query
//! parameters (`in: query`, `style: form`, `explode: false`), which is how QGIS and GDAL learn
//! which equality filters they may send. `limit` is declared once under
//! `components.parameters.limit` with its `default` and `maximum`, where both clients read it.

use serde_json::{json, Map, Value as Json};

use super::collections::field_type_schema;
use super::http::negotiate::{GEOJSON, JSON, OPENAPI_JSON, SCHEMA_JSON};
use super::http::query::supported_crs;
use super::http::subject::openapi_query as query_param;
use super::http::{AppState, Ctx, DEFAULT_LIMIT, MAX_LIMIT};
use super::{analysis, indicators, items, join, map, reports, styles};
use crate::crs;

fn param_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

fn responses(media: &[&str], what: &str) -> Json {
    let mut content = Map::new();
    for m in media {
        content.insert((*m).to_string(), json!({"schema": {"type": "object"}}));
    }
    json!({
        "200": {"description": what, "content": content},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "404": {"$ref": "#/components/responses/NotFound"},
    })
}

fn components(working_crs: &str) -> Json {
    let crs_enum: Vec<String> = supported_crs(working_crs)
        .iter()
        .map(|c| crs::uri(c))
        .collect();
    let crs_schema = json!({"type": "string", "format": "uri", "enum": crs_enum, "default": crs::uri(crs::CRS84)});
    let problem = json!({"description": "a problem document naming the parameter or resource",
        "content": {"application/problem+json": {"schema": {"type": "object"}}}});
    json!({
        "parameters": {
            "f": query_param("f", "The format of the answer (instead of the Accept header).",
                json!({"type": "string", "enum": ["json", "html"]})),
            "limit": query_param("limit",
                "The number of features per page. Values above the maximum are lowered to it.",
                json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})),
            "offset": query_param("offset", "The number of features to skip (used by the next and prev links).",
                json!({"type": "integer", "minimum": 0, "default": 0})),
            "bbox": {
                "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                "description": "Only features intersecting this box: minx,miny,maxx,maxy (or 6 numbers with heights), in bbox-crs and its axis order (EPSG:4326 is lat,lon).",
                "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            },
            "bbox-crs": query_param("bbox-crs", "The CRS of bbox (default CRS84).", crs_schema.clone()),
            "crs": query_param("crs", "The CRS of the answer's geometries (default CRS84).", crs_schema.clone()),
            "filter-crs": query_param("filter-crs", "The CRS of geometry literals in filter (default CRS84).", crs_schema),
            "datetime": query_param("datetime",
                "Only features whose date or date interval intersects this instant or interval (RFC 3339, '..' for an open end).",
                json!({"type": "string"})),
            "properties": query_param("properties", "The properties to include, comma separated.",
                json!({"type": "array", "items": {"type": "string"}})),
            "sortby": query_param("sortby", "Sort keys, comma separated, '-' for descending.",
                json!({"type": "array", "items": {"type": "string"}})),
            "skipGeometry": query_param("skipGeometry", "Leave geometries out.", json!({"type": "boolean", "default": false})),
            "filter": query_param("filter", "A CQL2 filter (see filter-lang).", json!({"type": "string"})),
            "filter-lang": query_param("filter-lang", "The language of filter.",
                json!({"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"})),
            "featureId": {"name": "featureId", "in": "path", "required": true,
                "description": "The id of a feature.", "schema": {"type": "string"}},
        },
        "responses": {"BadRequest": problem.clone(), "NotFound": problem},
    })
}

/// The OpenAPI document of this service.
pub fn document(state: &AppState, ctx: &Ctx) -> Json {
    let catalog = state.catalog();
    let mut paths = Map::new();
    let f = param_ref("f");
    paths.insert(
        "/".into(),
        json!({"get": {"summary": "The landing page", "operationId": "getLandingPage",
        "parameters": [f], "responses": responses(&[JSON, "text/html"], "the landing page")}}),
    );
    paths.insert(
        "/conformance".into(),
        json!({"get": {"summary": "The conformance classes implemented",
        "operationId": "getConformance", "parameters": [f],
        "responses": responses(&[JSON, "text/html"], "the conformance classes")}}),
    );
    paths.insert("/api".into(), json!({"get": {"summary": "This API definition", "operationId": "getApi",
        "parameters": [f], "responses": responses(&[OPENAPI_JSON, "text/html"], "the OpenAPI document")}}));
    paths.insert(
        "/collections".into(),
        json!({"get": {"summary": "The collections (catalogue layers)",
        "operationId": "getCollections", "parameters": [f],
        "responses": responses(&[JSON, "text/html"], "the collections")}}),
    );
    for (path, item) in styles::openapi_paths()
        .into_iter()
        .chain(map::openapi_paths(state))
    {
        paths.insert(path, item);
    }
    for layer in catalog.layers() {
        let id = layer.id();
        let title = &layer.config.title;
        paths.insert(
            format!("/collections/{id}"),
            json!({"get": {
            "summary": format!("Describes {title}"), "operationId": format!("describe_{id}"),
            "tags": [id], "parameters": [f],
            "responses": responses(&[JSON, "text/html"], "the collection")}}),
        );
        let mut item_params: Vec<Json> = items::ITEMS_PARAMS.iter().map(|p| param_ref(p)).collect();
        for field in &layer.fields {
            item_params.push(query_param(
                &field.name,
                &format!("Only features whose {} equals this value.", field.name),
                field_type_schema(field.ty),
            ));
        }
        paths.insert(format!("/collections/{id}/items"), json!({"get": {
            "summary": format!("The features of {title}"), "operationId": format!("getFeatures_{id}"),
            "tags": [id], "parameters": item_params,
            "responses": responses(&[GEOJSON, "text/html"], "a page of features")}}));
        paths.insert(format!("/collections/{id}/items/{{featureId}}"), json!({"get": {
            "summary": format!("One feature of {title}"), "operationId": format!("getFeature_{id}"),
            "tags": [id], "parameters": [param_ref("featureId"), f, param_ref("crs"), param_ref("properties"), param_ref("skipGeometry")],
            "responses": responses(&[GEOJSON, "text/html"], "a feature")}}));
        paths.insert(format!("/collections/{id}/queryables"), json!({"get": {
            "summary": format!("The queryable properties of {title}"), "operationId": format!("getQueryables_{id}"),
            "tags": [id], "parameters": [f],
            "responses": responses(&[SCHEMA_JSON, "text/html"], "a JSON Schema")}}));
        paths.insert(format!("/collections/{id}/schema"), json!({"get": {
            "summary": format!("The schema of the features of {title}"), "operationId": format!("getSchema_{id}"),
            "tags": [id], "parameters": [f],
            "responses": responses(&[SCHEMA_JSON, "text/html"], "a JSON Schema")}}));
    }
    for (path, item) in analysis::openapi_paths(&catalog.working_crs)
        .into_iter()
        .chain(reports::openapi_paths(&catalog.working_crs))
        .chain(join::openapi_paths())
        .chain(indicators::openapi_paths())
    {
        paths.insert(path, item);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "territorio",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OGC API - Features (Parts 1, 2 and 3) over the layers of the provincial coordination plan and the development-pact projects; analysis endpoints (nearest, within a distance, overlay, what is here, site report of any site) answering GeoJSON in metres; project site reports; the monitoring indicators.",
            "license": {"name": "MIT OR Apache-2.0"},
        },
        "servers": [{"url": ctx.base}],
        "tags": catalog.layers().iter().map(|l| json!({"name": l.id(), "description": l.config.title})).collect::<Vec<_>>(),
        "paths": paths,
        "components": components(&catalog.working_crs),
    })
}
