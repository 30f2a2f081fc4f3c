//! The service's entry points: the landing page (which links every resource), the conformance
//! classes, the API definition (`/api`, `/api.html`) and `/health`.
//!
//! With the router and the OpenAPI document, this is the one module that knows every
//! resource module.

use super::http::Live;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::negotiate::{HTML, JSON, OPENAPI_JSON};
use super::http::oas;
use super::http::param::{Param, Scope};
use super::http::respond::{self, link, self_links};
use super::http::{html, ApiError, AppState, Ctx, Repr};
use super::{analysis, map, openapi, styles, tiles};

/// The conformance classes of OGC API - Features this service implements and tests.
const FEATURES_CLASSES: [&str; 10] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
];

/// Features Part 4, declared when the server takes edits (a data folder, and an editable
/// layer): POST, PUT and DELETE on items, and PATCH.
const EDIT_CLASSES: [&str; 2] = [
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
];

/// The names of two CQL2 spatial classes in the CQL2 drafts, which QGIS looks for.
const CQL2_DRAFT_NAMES: [(&str, &str); 2] = [
    (
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
    ),
    (
        "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/spatial-operators",
    ),
];

/// Every conformance class declared: Features Parts 1, 2 and 3, the CQL2 classes the filter
/// implements ([`crate::filter::CONFORMANCE`]), and the draft names of those QGIS knows, and
/// the OGC API - Tiles classes of the vector tiles ([`tiles::CONFORMANCE`]).
fn conformance_classes() -> Vec<&'static str> {
    let mut all: Vec<&str> = FEATURES_CLASSES.to_vec();
    all.extend(tiles::CONFORMANCE);
    all.extend(crate::filter::CONFORMANCE);
    for (class, draft) in CQL2_DRAFT_NAMES {
        if crate::filter::CONFORMANCE.contains(&class) {
            all.push(draft);
        }
    }
    all
}

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/api", get(api))
        .route("/api.html", get(api_html))
        .route("/health", get(|| async { "ok" }))
}

const PAGE: [Repr; 2] = [Repr::Json, Repr::Html];
const API: [Repr; 2] = [Repr::OpenApi, Repr::Html];

/// The parameters of the landing page and the conformance classes.
static PAGE_PARAMS: [Param; 1] = [Param::format(&PAGE)];
/// The parameters of the API definition.
static API_PARAMS: [Param; 1] = [Param::format(&API)];

async fn landing(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&PAGE_PARAMS)?;
    let repr = ctx.negotiate(&PAGE)?;
    let mut links = self_links(&ctx, "/", repr, &PAGE, "landing page");
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
            HTML,
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
    links.extend(analysis::landing_links(&ctx));
    links.extend(tiles::landing_links(&ctx));
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
    Ok(match repr {
        Repr::Html => html::landing_page(&ctx, state.catalog(), &body),
        _ => respond::json(&body, repr.media_type()),
    })
}

async fn conformance(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&PAGE_PARAMS)?;
    let repr = ctx.negotiate(&PAGE)?;
    let mut classes = conformance_classes();
    let edits = state.editor().is_some()
        && state
            .catalog()
            .layers()
            .iter()
            .any(|l| l.config.is_editable());
    if edits {
        classes.extend(EDIT_CLASSES);
    }
    let body = json!({ "conformsTo": classes });
    Ok(match repr {
        Repr::Html => html::list_page(&ctx, "Conformance", &classes),
        _ => respond::json(&body, repr.media_type()),
    })
}

async fn api(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&API_PARAMS)?;
    let repr = ctx.negotiate(&API)?;
    let doc = openapi::document(&state, &ctx);
    Ok(match repr {
        Repr::Html => html::api_page(&ctx, &doc),
        _ => respond::json(&doc, repr.media_type()),
    })
}

async fn api_html(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&[])?;
    Ok(html::api_page(&ctx, &openapi::document(&state, &ctx)))
}

/// The schemas of the landing page, the conformance declaration and the API definition.
pub(super) fn openapi_schemas() -> Vec<(String, Json)> {
    vec![
        (
            "LandingPage".into(),
            json!({"type": "object", "required": ["links"], "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": oas::schema_ref("Links"),
            }}),
        ),
        (
            "Conformance".into(),
            json!({"type": "object", "required": ["conformsTo"], "properties": {
                "conformsTo": {"type": "array", "items": {"type": "string"}},
            }}),
        ),
        (
            "OpenApiDocument".into(),
            json!({"type": "object", "required": ["openapi", "info", "paths"], "properties": {
                "openapi": {"type": "string", "pattern": "^3\\.0\\.\\d+$"},
                "info": {"type": "object"},
                "paths": {"type": "object"},
                "components": {"type": "object"},
            }}),
        ),
    ]
}

/// The OpenAPI path items of the landing page, the conformance classes and the API definition.
pub(super) fn openapi_paths(scope: Scope) -> Vec<(String, Json)> {
    let page: Vec<Json> = PAGE_PARAMS.iter().map(|p| p.openapi(scope)).collect();
    let get = |id: &str, summary: &str, parameters: Vec<Json>, ok: Json| {
        json!({"get": oas::Get {
            id,
            summary,
            description: None,
            tags: &[],
            parameters,
            ok,
            errors: oas::Errors::get(true),
        }
        .openapi()})
    };
    vec![
        (
            "/".into(),
            get(
                "getLandingPage",
                "The landing page: links to the API definition, the conformance classes, the collections and the other resources",
                page.clone(),
                oas::ok(
                    "the landing page",
                    vec![
                        oas::media(Repr::Json, oas::schema_ref("LandingPage")),
                        oas::html(),
                    ],
                ),
            ),
        ),
        (
            "/conformance".into(),
            get(
                "getConformance",
                "The conformance classes implemented",
                page,
                oas::ok(
                    "the conformance classes",
                    vec![
                        oas::media(Repr::Json, oas::schema_ref("Conformance")),
                        oas::html(),
                    ],
                ),
            ),
        ),
        (
            "/api".into(),
            get(
                "getApi",
                "This API definition (OpenAPI 3.0); /api.html is the same as a page",
                API_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
                oas::ok(
                    "the OpenAPI document",
                    vec![
                        oas::media(Repr::OpenApi, oas::schema_ref("OpenApiDocument")),
                        oas::html(),
                    ],
                ),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::{conformance_classes, tiles};

    #[test]
    fn the_cql2_classes_and_their_draft_names_are_declared_once() {
        let all = conformance_classes();
        for class in crate::filter::CONFORMANCE {
            assert_eq!(all.iter().filter(|c| *c == class).count(), 1, "{class}");
        }
        // QGIS looks for the draft names of the spatial classes.
        assert!(all.contains(&"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators"));
        assert!(all.contains(&"http://www.opengis.net/spec/cql2/1.0/conf/spatial-operators"));
        assert_eq!(
            all.len(),
            10 + crate::filter::CONFORMANCE.len() + 2 + tiles::CONFORMANCE.len()
        );
    }
}
