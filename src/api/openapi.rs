//! The OpenAPI 3.0 document at `/api`, generated from the catalogue and from the parameter
//! declarations the handlers read ([`super::http::param`]), so that it says what the server
//! does.
//!
//! Each collection gets its own paths, so that its properties appear as item query
//! parameters (`in: query`, `style: form`, `explode: false`), which is how QGIS and GDAL learn
//! which equality filters they may send. The parameters every collection's items share are
//! declared once under `components.parameters`, `limit` with its `default` and `maximum`,
//! where both clients read it. Every operation lists each status it can answer, errors as
//! `application/problem+json` (`components.schemas.Problem`).

use serde_json::{json, Map, Value as Json};

use super::http::param::{self, Scope};
use super::http::{oas, AppState, Ctx};
use super::{
    analysis, collections, edits, indicators, items, join, landing, map, monitoring, reports,
    styles, tiles,
};

/// The OpenAPI document of this service.
pub fn document(state: &AppState, ctx: &Ctx) -> Json {
    let catalog = state.catalog();
    let scope = Scope::of(catalog);
    let mut paths = Map::new();
    let mut add = |list: Vec<(String, Json)>| {
        for (path, item) in list {
            paths.insert(path, item);
        }
    };
    add(landing::openapi_paths(scope));
    add(vec![collections::openapi_collections(scope)]);
    for layer in catalog.layers() {
        add(collections::openapi_paths(scope, layer));
        add(items::openapi_paths(scope, layer));
        add(tiles::openapi_paths(scope, layer));
    }
    add(analysis::openapi_paths(scope));
    add(reports::openapi_paths(catalog));
    add(join::openapi_paths(scope));
    add(indicators::openapi_paths(scope));
    add(tiles::openapi_catalogue_paths(scope));
    add(styles::openapi_paths(scope));
    add(map::openapi_paths(state));
    // The writes and the monitoring of the projects' history, when this server takes edits.
    let edits_on = state.editor().is_some();
    if edits_on {
        add(monitoring::openapi_paths(scope));
    }
    for layer in catalog
        .layers()
        .iter()
        .filter(|l| edits_on && l.config.is_editable())
    {
        for (path, method, operation) in edits::openapi_operations(layer, &catalog.working_crs) {
            if let Some(item) = paths.get_mut(&path).and_then(Json::as_object_mut) {
                item.insert(method.to_string(), operation);
            }
        }
    }
    let mut schemas = oas::component_schemas();
    for (name, schema) in collections::openapi_schemas()
        .into_iter()
        .chain(landing::openapi_schemas())
        .chain(reports::openapi_schemas())
        .chain(tiles::openapi_schemas())
        .chain(param::component_schemas(scope))
    {
        schemas.insert(name, schema);
    }
    let (edit_schemas, security_schemes) = edits::openapi_components();
    if edits_on {
        schemas.extend(edit_schemas);
    }
    let parameters: Map<String, Json> = items::openapi_components(scope).into_iter().collect();
    let mut tags: Vec<Json> = catalog
        .layers()
        .iter()
        .map(|l| json!({"name": l.id(), "description": l.config.title}))
        .collect();
    tags.extend([
        json!({"name": "analysis", "description": "Analyses of a subject (a project, a feature, a point, a box, a geometry or a POST body) against the catalogue"}),
        json!({"name": "reports", "description": "The site reports of the development-pact projects"}),
        json!({"name": "indicators", "description": "The monitoring indicators"}),
        json!({"name": "styles", "description": "MapLibre and QGIS styles of the layers"}),
        json!({"name": "tiles", "description": "Vector tiles of the whole catalogue and the tile matrix sets"}),
    ]);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "territorio",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OGC API - Features (Parts 1, 2 and 3) over the layers of the provincial coordination plan and the development-pact projects; analysis endpoints (nearest, within a distance, overlay, what is here, site report of any site) answering GeoJSON in metres; project site reports; the monitoring indicators. Every parameter is checked: an unknown or repeated one is a 400 naming it. An empty value of an optional parameter is the same as leaving it out (allowEmptyValue), except for an equality filter on a property, whose empty value is the empty text. Errors are application/problem+json.",
            "license": {"name": "MIT OR Apache-2.0"},
        },
        "servers": [{"url": ctx.base}],
        "tags": tags,
        "paths": paths,
        "components": {
            "parameters": parameters,
            "schemas": schemas,
            "securitySchemes": security_schemes,
        },
    })
}
