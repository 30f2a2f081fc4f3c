//! The OpenAPI document at `/api` says what the server does, checked without schemathesis:
//! - every route of the router is in the document (or is listed here as deliberately left out);
//! - for every operation of the document, the query parameters it lists are exactly the ones
//!   the server's reader accepts: the reader's answer to an unknown parameter names every
//!   parameter it takes, and that list is compared with the document's;
//! - required parameters are refused when absent, optional ones accept an empty value as
//!   absent where the document says `allowEmptyValue`, and every operation documents the
//!   statuses and problem schema the HTTP layer can answer.
//!
//! `scripts/check-openapi` goes further (schemathesis generates requests from the document);
//! this file makes drift fail `cargo test` already.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value as Json;

mod common;

use common::http::{demo_catalog, send, Answer};
use territorio::api::{app, AppState, ServerConfig};

fn state() -> AppState {
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    AppState::new(
        demo_catalog(),
        ServerConfig {
            web_dir: Some(web),
            ..ServerConfig::default()
        },
    )
}

async fn request(req: Request<Body>) -> Answer {
    send(app(state()), req).await
}

async fn get(uri: &str) -> Answer {
    request(Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(uri: &str, body: &str) -> Answer {
    request(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/geo+json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn document() -> Json {
    let a = get("/api").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

/// A parameter object, `$ref`s to `components.parameters` followed.
fn resolve<'a>(doc: &'a Json, p: &'a Json) -> &'a Json {
    match p.get("$ref").and_then(Json::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["parameters"][name]
        }
        None => p,
    }
}

/// The parameters of an operation, `$ref`s followed.
fn parameters<'a>(doc: &'a Json, op: &'a Json) -> Vec<&'a Json> {
    op["parameters"]
        .as_array()
        .map(|list| list.iter().map(|p| resolve(doc, p)).collect())
        .unwrap_or_default()
}

/// A path of the document with its path parameters filled in with their examples (or a value
/// that exists in the demo catalogue).
fn concrete(doc: &Json, path: &str, op: &Json) -> String {
    let mut out = path.to_string();
    for p in parameters(doc, op) {
        if p["in"] == "path" {
            let name = p["name"].as_str().unwrap();
            // Text examples (feature ids) or integer ones (tile indexes).
            let example = (p["example"].as_str().map(str::to_string))
                .or_else(|| p["example"].as_u64().map(|n| n.to_string()));
            let value = match example {
                Some(v) => v,
                None if name == "layer" => "productive_areas".to_string(),
                None => panic!("{path}: path parameter {name} has no example"),
            };
            let encoded: String = value
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            out = out.replace(&format!("{{{name}}}"), &encoded);
        }
    }
    out
}

/// The parameters the reader lists when refusing an unknown one, and the hint after them.
fn accepted(a: &Answer) -> (BTreeSet<String>, String) {
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    let detail = a.json()["detail"].as_str().unwrap().to_string();
    let list = detail
        .split_once("(parameters: ")
        .unwrap_or_else(|| panic!("no parameter list in {detail:?}"))
        .1
        .trim_end_matches(')');
    let (list, hint) = match list.split_once(", or ") {
        Some((l, h)) => (l, h.to_string()),
        None => (list, String::new()),
    };
    (
        list.split(", ")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        hint,
    )
}

const POINT: &str = r#"{"type":"Point","coordinates":[9.7,45.3]}"#;

#[tokio::test]
async fn every_operation_documents_exactly_the_parameters_the_reader_accepts() {
    let doc = document().await;
    let catalog = demo_catalog();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // The web map's page reads its own query string in the browser; the server ignores it.
        if path == "/map/" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let documented: BTreeSet<String> = parameters(&doc, op)
                .into_iter()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            let uri = format!("{}?zz-not-a-parameter=1", concrete(&doc, path, op));
            let a = match method.as_str() {
                "get" => get(&uri).await,
                "post" => post(&uri, POINT).await,
                other => panic!("{path}: unexpected method {other}"),
            };
            let (mut reader, hint) = accepted(&a);
            // The items also take an equality filter on each property of the collection: the
            // reader says so in a hint rather than listing them.
            if let Some(id) = path
                .strip_prefix("/collections/")
                .and_then(|p| p.strip_suffix("/items"))
            {
                assert!(hint.contains("equality filter"), "{path}: {hint}");
                let layer = catalog.layer(id).unwrap();
                for f in &layer.fields {
                    reader.insert(f.name.clone());
                }
            } else {
                assert!(hint.is_empty(), "{method} {path}: {hint}");
            }
            assert_eq!(
                documented, reader,
                "{method} {path}: the document (left) and the reader (right) differ"
            );
            checked += 1;
        }
    }
    // Every operation but the web map's page; each collection has five.
    let total: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(checked, total - 1);
    assert!(total > 5 * catalog.layers().len(), "{total} operations");
}

/// Every route of the router (`routes()` of each resource module), as GET or POST, and the
/// document's path for it; `None` for the few left out on purpose.
const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/", Some("/")),
    ("GET", "/conformance", Some("/conformance")),
    ("GET", "/api", Some("/api")),
    // The same document as a page, for browsers (the landing page links it as service-doc).
    ("GET", "/api.html", None),
    // Liveness and readiness probes for orchestrators, and the reload for operators: not part
    // of the API.
    ("GET", "/health", None),
    ("GET", "/health/ready", None),
    ("POST", "/admin/reload", None),
    ("GET", "/collections", Some("/collections")),
    // The trailing-slash spellings some clients (QGIS) retry with.
    ("GET", "/collections/", None),
    ("GET", "/collections/parks", Some("/collections/parks")),
    ("GET", "/collections/parks/", None),
    (
        "GET",
        "/collections/parks/queryables",
        Some("/collections/parks/queryables"),
    ),
    (
        "GET",
        "/collections/parks/schema",
        Some("/collections/parks/schema"),
    ),
    (
        "GET",
        "/collections/parks/items",
        Some("/collections/parks/items"),
    ),
    (
        "GET",
        "/collections/parks/items/Parco%20del%20Serio",
        Some("/collections/parks/items/{featureId}"),
    ),
    (
        "GET",
        "/collections/parks/tiles",
        Some("/collections/parks/tiles"),
    ),
    (
        "GET",
        "/collections/parks/tiles/WebMercatorQuad/0/0/0",
        Some("/collections/parks/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"),
    ),
    (
        "GET",
        "/collections/parks/tiles/WebMercatorQuad",
        Some("/collections/parks/tiles/WebMercatorQuad"),
    ),
    (
        "GET",
        "/collections/parks/tiles/WebMercatorQuad/tilejson.json",
        Some("/collections/parks/tiles/WebMercatorQuad/tilejson.json"),
    ),
    (
        "GET",
        "/collections/parks/tiles/0/0/0.mvt",
        Some("/collections/parks/tiles/{z}/{x}/{y}.mvt"),
    ),
    ("GET", "/tileMatrixSets", Some("/tileMatrixSets")),
    (
        "GET",
        "/tileMatrixSets/WebMercatorQuad",
        Some("/tileMatrixSets/{tileMatrixSetId}"),
    ),
    ("GET", "/tiles", Some("/tiles")),
    (
        "GET",
        "/tiles/WebMercatorQuad",
        Some("/tiles/WebMercatorQuad"),
    ),
    (
        "GET",
        "/tiles/WebMercatorQuad/tilejson.json",
        Some("/tiles/WebMercatorQuad/tilejson.json"),
    ),
    (
        "GET",
        "/tiles/WebMercatorQuad/0/0/0",
        Some("/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"),
    ),
    ("GET", "/tiles/0/0/0.mvt", Some("/tiles/{z}/{x}/{y}.mvt")),
    ("GET", "/analysis/nearest", Some("/analysis/nearest")),
    ("POST", "/analysis/nearest", Some("/analysis/nearest")),
    ("GET", "/analysis/within", Some("/analysis/within")),
    ("POST", "/analysis/within", Some("/analysis/within")),
    ("GET", "/analysis/overlay", Some("/analysis/overlay")),
    ("POST", "/analysis/overlay", Some("/analysis/overlay")),
    ("GET", "/analysis/locate", Some("/analysis/locate")),
    ("POST", "/analysis/locate", Some("/analysis/locate")),
    ("GET", "/analysis/join", Some("/analysis/join")),
    ("GET", "/analysis/report", Some("/analysis/report")),
    ("POST", "/analysis/report", Some("/analysis/report")),
    (
        "GET",
        "/projects/P012/report",
        Some("/projects/{projectId}/report"),
    ),
    ("GET", "/indicators", Some("/indicators")),
    (
        "GET",
        "/indicators/definitions",
        Some("/indicators/definitions"),
    ),
    ("GET", "/styles", Some("/styles")),
    ("GET", "/styles/map.json", Some("/styles/map.json")),
    ("GET", "/styles/parks.qml", Some("/styles/{layer}")),
    ("GET", "/map/", Some("/map/")),
    // The web map's files, its MapLibre copy, its configuration and the /map redirect: the
    // page's own assets.
    ("GET", "/map/config.json", None),
];

#[tokio::test]
async fn every_route_is_documented_or_left_out_on_purpose() {
    let doc = document().await;
    let paths = doc["paths"].as_object().unwrap();
    for &(method, uri, documented) in ROUTES {
        let a = match method {
            "GET" => get(uri).await,
            _ => post(uri, POINT).await,
        };
        // The route exists: anything but a 404 naming the path or a 405 (a missing subject is
        // a 400, which is fine here).
        assert!(
            a.status != StatusCode::NOT_FOUND && a.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}: {}",
            a.text()
        );
        if let Some(path) = documented {
            assert!(
                paths
                    .get(path)
                    .is_some_and(|item| item[method.to_ascii_lowercase()].is_object()),
                "{method} {path} is not in the document"
            );
        }
    }
    // And the document has no path the list above does not know (per-collection paths are
    // checked for the parks collection; the others are the same code).
    let known: BTreeSet<&str> = ROUTES.iter().filter_map(|r| r.2).collect();
    for path in paths.keys() {
        let generic = path
            .split('/')
            .enumerate()
            .map(|(i, s)| {
                if i == 2 && path.starts_with("/collections/") {
                    "parks"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        assert!(
            known.contains(generic.as_str()),
            "{path} is documented but not in the list of routes"
        );
    }
}

/// A valid value of each required parameter.
fn sample(name: &str) -> &'static str {
    match name {
        "layer" => "parks",
        "distance" => "100",
        "target" => "projects",
        "join" => "municipalities",
        other => panic!("no sample value for required parameter {other}"),
    }
}

#[tokio::test]
async fn required_parameters_are_refused_when_absent_or_empty() {
    let doc = document().await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let required: Vec<&str> = parameters(&doc, op)
                .into_iter()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for p in parameters(&doc, op) {
                if p["in"] != "query" || p["required"] != true {
                    continue;
                }
                let name = p["name"].as_str().unwrap();
                let others: String = required
                    .iter()
                    .filter(|o| **o != name)
                    .map(|o| format!("{o}={}&", sample(o)))
                    .collect();
                // Operations with a subject get one (a point), so that only `name` is missing.
                let takes_subject = parameters(&doc, op).iter().any(|q| q["name"] == "point");
                let subject = if takes_subject && method != "post" {
                    "point=9.7,45.3"
                } else {
                    ""
                };
                let base = format!("{}?{others}{subject}", concrete(&doc, path, op));
                // A required parameter's schema leaves no room for an empty value.
                assert!(
                    p.get("allowEmptyValue").is_none(),
                    "{method} {path}: {name} is required and allows an empty value"
                );
                for uri in [base.clone(), format!("{base}&{name}=")] {
                    let a = match method.as_str() {
                        "get" => get(&uri).await,
                        _ => post(&uri, POINT).await,
                    };
                    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.text());
                    let detail = a.json()["detail"].as_str().unwrap().to_string();
                    assert!(
                        detail.contains(&format!("parameter {name}")),
                        "{uri}: {detail}"
                    );
                }
                checked += 1;
            }
        }
    }
    // layer (nearest, within, overlay; GET and POST), distance (within), target and join
    // (join).
    assert_eq!(checked, 10);
}

#[tokio::test]
async fn every_operation_documents_the_statuses_of_the_http_layer() {
    let doc = document().await;
    let problem = &doc["components"]["schemas"]["Problem"];
    assert_eq!(
        problem["required"],
        serde_json::json!(["type", "title", "status", "detail"])
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let has = |s: &str| responses.contains_key(s);
            // Every request can meet a bug and the time limit; GETs answer conditional ones;
            // every resource but the web map's page reads its query string.
            for status in ["200", "500", "503"] {
                assert!(has(status), "{method} {path} lacks {status}");
            }
            assert_eq!(has("400"), path != "/map/", "{method} {path}: 400");
            assert_eq!(has("304"), method == "get", "{method} {path}: 304");
            assert_eq!(
                has("413") && has("415"),
                method == "post",
                "{method} {path}: 413, 415"
            );
            if parameters(&doc, op).iter().any(|p| p["in"] == "path") {
                assert!(has("404"), "{method} {path} lacks 404");
            }
            if method == "post" || op["parameters"].to_string().contains("subject-crs") {
                assert!(has("422"), "{method} {path} lacks 422");
            }
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    // A resource that negotiates documents 406 and answers it.
    let items = &doc["paths"]["/collections/parks/items"]["get"]["responses"];
    assert!(items["406"].is_object());
    let a = request(
        Request::get("/collections/parks/items")
            .header(header::ACCEPT, "image/png")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE);
    // An unknown f is a 400 on a resource whose document lists f's values.
    let a = get("/indicators/definitions?f=aaa").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let f = doc["paths"]["/indicators/definitions"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "f")
        .unwrap();
    assert_eq!(f["schema"]["enum"], serde_json::json!(["json", "html"]));
}
