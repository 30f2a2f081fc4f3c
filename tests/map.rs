//! The styles and the web map over HTTP, driven through the router with
//! `tower::ServiceExt::oneshot` over the demo catalogue: `/styles/{layer}`, `.qml`,
//! `/styles/map.json`, the collections' stylesheet links, and `/map/` serving the web folder.
//! The browser tests (tests/browser) drive the page itself in Chromium.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value as Json};

mod common;

use common::http::{assert_problem, demo_catalog, send, Answer};
use territorio::api::{app, AppState, ServerConfig};
use territorio::store::Catalog;

const STYLE_LAYERS: &str = "application/vnd.maplibre.style-layers+json";
const STYLE: &str = "application/vnd.maplibre.style+json";
const QML: &str = "application/vnd.qgis.qml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn catalog() -> Arc<Catalog> {
    demo_catalog()
}

fn with_web(dir: &Path) -> ServerConfig {
    ServerConfig {
        web_dir: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

async fn get_with(uri: &str, config: ServerConfig) -> Answer {
    let request = Request::get(uri)
        .header(header::HOST, "test.local")
        .body(Body::empty())
        .unwrap();
    send(app(AppState::new(catalog(), config)), request).await
}

async fn get(uri: &str) -> Answer {
    get_with(uri, ServerConfig::default()).await
}

fn style_file(id: &str, ext: &str) -> PathBuf {
    let catalog = catalog();
    let style = catalog.layer(id).unwrap().config.style.clone().unwrap();
    catalog.config.styles_dir.join(format!("{style}.{ext}"))
}

#[tokio::test]
async fn every_layer_has_its_styles_served_with_their_media_types() {
    for layer in catalog().layers() {
        let id = layer.id();
        let file: Json =
            serde_json::from_str(&std::fs::read_to_string(style_file(id, "json")).unwrap())
                .unwrap();
        for uri in [format!("/styles/{id}"), format!("/styles/{id}.json")] {
            let a = get(&uri).await;
            assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
            assert_eq!(a.header(header::CONTENT_TYPE), STYLE_LAYERS);
            let mut expected = file.clone();
            for l in expected.as_array_mut().unwrap() {
                l["source"] = json!(id);
            }
            assert_eq!(a.json(), expected, "{uri}");
        }
        let a = get(&format!("/styles/{id}.qml")).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header(header::CONTENT_TYPE), QML);
        assert_eq!(a.body, std::fs::read(style_file(id, "qml")).unwrap());
        assert!(a
            .header(header::CONTENT_DISPOSITION)
            .contains(&format!("{id}.qml")));
    }
}

#[tokio::test]
async fn collections_link_their_styles_and_keep_the_schema_link() {
    for layer in catalog().layers() {
        let id = layer.id();
        let doc = get(&format!("/collections/{id}")).await.json();
        let links = doc["links"].as_array().unwrap();
        let find = |rel: &str, ty: &str| {
            links
                .iter()
                .find(|l| l["rel"] == rel && l["type"] == ty)
                .and_then(|l| l["href"].as_str())
                .map(str::to_string)
        };
        assert_eq!(
            find("describedby", "application/schema+json").as_deref(),
            Some(format!("http://test.local/collections/{id}/schema").as_str())
        );
        let maplibre = find("stylesheet", STYLE_LAYERS).expect("MapLibre stylesheet link");
        let qml = find("stylesheet", QML).expect("QML stylesheet link");
        assert_eq!(maplibre, format!("http://test.local/styles/{id}"));
        assert_eq!(qml, format!("http://test.local/styles/{id}.qml"));
        for href in [maplibre, qml] {
            let a = get(href.strip_prefix("http://test.local").unwrap()).await;
            assert_eq!(a.status, StatusCode::OK, "{href}");
        }
    }
    let list = get("/styles").await.json();
    assert_eq!(
        list["styles"].as_array().unwrap().len(),
        catalog().layers().len()
    );
}

#[tokio::test]
async fn the_catalogue_style_has_every_layer_areas_below_lines_below_points() {
    let a = get("/styles/map.json").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.header(header::CONTENT_TYPE), STYLE);
    let doc = a.json();
    assert_eq!(doc["version"], 8);
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers[0]["type"], "background");
    let mut expected_ids = Vec::new();
    for layer in catalog().layers() {
        let id = layer.id();
        assert_eq!(
            doc["sources"][id],
            json!({
                "type": "geojson",
                "data": format!("http://test.local/collections/{id}/items?f=json&limit=10000"),
            })
        );
        let file: Json =
            serde_json::from_str(&std::fs::read_to_string(style_file(id, "json")).unwrap())
                .unwrap();
        for l in file.as_array().unwrap() {
            expected_ids.push(l["id"].as_str().unwrap().to_string());
            let drawn: Vec<&Json> = layers.iter().filter(|d| d["id"] == l["id"]).collect();
            assert_eq!(drawn.len(), 1, "{} drawn once", l["id"]);
            assert_eq!(drawn[0]["source"], id);
        }
    }
    assert_eq!(layers.len(), expected_ids.len() + 1, "no other layers");
    let rank = |t: &str| match t {
        "background" => 0,
        "fill" => 1,
        "line" => 2,
        "circle" => 3,
        other => panic!("{other}"),
    };
    let ranks: Vec<u8> = layers
        .iter()
        .map(|l| rank(l["type"].as_str().unwrap()))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "areas, then lines, then points"
    );
    assert_eq!(
        layers[1]["source"], "municipalities",
        "the province under everything"
    );
    // The bounds hold every layer's extent as /collections says it.
    let b: Vec<f64> = doc["metadata"]["territorio:bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for c in get("/collections").await.json()["collections"]
        .as_array()
        .unwrap()
    {
        let e: Vec<f64> = c["extent"]["spatial"]["bbox"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let slack = 1e-5;
        assert!(
            b[0] <= e[0] + slack && b[1] <= e[1] + slack,
            "{}: {e:?} in {b:?}",
            c["id"]
        );
        assert!(
            b[2] >= e[2] - slack && b[3] >= e[3] - slack,
            "{}: {e:?} in {b:?}",
            c["id"]
        );
    }
}

#[tokio::test]
async fn a_basemap_goes_under_the_layers() {
    let config = ServerConfig {
        basemap_url: Some("https://tiles.example.org/{z}/{x}/{y}.png".into()),
        basemap_attribution: Some("© example".into()),
        ..Default::default()
    };
    let doc = get_with("/styles/map.json", config).await.json();
    assert_eq!(
        doc["sources"]["basemap"],
        json!({"type": "raster", "tiles": ["https://tiles.example.org/{z}/{x}/{y}.png"],
               "tileSize": 256, "attribution": "© example"})
    );
    assert_eq!(
        doc["layers"][1],
        json!({"id": "basemap", "type": "raster", "source": "basemap"})
    );
}

#[tokio::test]
async fn unknown_styles_are_problems() {
    assert_problem(
        &get("/styles/nope").await,
        StatusCode::NOT_FOUND,
        "\"nope\"",
    );
    assert_problem(
        &get("/styles/nope.qml").await,
        StatusCode::NOT_FOUND,
        "\"nope\"",
    );
    assert_problem(
        &get("/styles/roads.sld").await,
        StatusCode::NOT_FOUND,
        "\"roads.sld\"",
    );
}

#[tokio::test]
async fn the_map_is_served_from_the_web_folder() {
    let web = root().join("web");
    let a = get_with("/map", with_web(&web)).await;
    assert_eq!(a.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(a.header(header::LOCATION), "http://test.local/map/");
    let a = get_with("/map?large=5&page=2", with_web(&web)).await;
    assert_eq!(
        a.header(header::LOCATION),
        "http://test.local/map/?large=5&page=2"
    );

    let a = get_with("/map/", with_web(&web)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(
        a.body,
        std::fs::read(web.join("index.html")).unwrap(),
        "the page as in the repository"
    );
    assert!(a.text().contains(r#"<script type="module" src="map.js">"#));
    for (file, media) in [
        ("map.js", "text/javascript; charset=utf-8"),
        ("layers.js", "text/javascript; charset=utf-8"),
        ("map.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let a = get_with(&format!("/map/{file}"), with_web(&web)).await;
        assert_eq!(a.status, StatusCode::OK, "{file}");
        assert_eq!(a.header(header::CONTENT_TYPE), media, "{file}");
        assert_eq!(a.body, std::fs::read(web.join(file)).unwrap());
    }
    // Nothing but the page's own files: no package files, no way out of the folder.
    for uri in [
        "/map/package.json",
        "/map/package-lock.json",
        "/map/..%2FCargo.toml",
        "/map/.gitignore",
        "/map/nope.js",
        "/map/vendor/maplibre-gl/..%2F..%2F..%2Fpackage.json",
        "/map/vendor/maplibre-gl/..%2Fpackage.json",
    ] {
        let a = get_with(uri, with_web(&web)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(a.header(header::CONTENT_TYPE), "application/problem+json");
    }

    let config = get_with("/map/config.json", with_web(&web)).await.json();
    assert_eq!(config["api"], "http://test.local");
    assert_eq!(config["roles"]["projects"], "projects");
    assert_eq!(config["roles"]["productive_areas"], "productive_areas");
    assert_eq!(config["roles"]["agricultural_land"], "agricultural_areas");
    assert_eq!(config["project_fields"]["programme"], "aqst_programme");
    assert_eq!(config["project_fields"]["progress"], "progress_pct");
    assert_eq!(config["project_fields"]["committed"], "committed_eur");
    assert_eq!(config["project_fields"]["spent"], "spent_eur");
    assert_eq!(config["basemap"], Json::Null);
}

#[tokio::test]
async fn a_web_folder_without_maplibre_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!DOCTYPE html><title>t</title>",
    )
    .unwrap();
    let a = get_with(
        "/map/vendor/maplibre-gl/maplibre-gl.mjs",
        with_web(dir.path()),
    )
    .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "scripts/install-web");
    assert!(territorio::api::check_web_dir(dir.path())
        .unwrap()
        .contains("install-web"));
    assert_eq!(
        get_with("/map/", with_web(dir.path())).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_a_web_folder_there_is_no_map_and_the_landing_page_says_nothing_of_it() {
    assert_problem(&get("/map/").await, StatusCode::NOT_FOUND, "--web-dir");
    assert_problem(&get("/map").await, StatusCode::NOT_FOUND, "--web-dir");
    let rel = "http://www.opengis.net/def/rel/ogc/1.0/map";
    let has_map = |doc: &Json| {
        doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == rel)
    };
    assert!(!has_map(&get("/").await.json()));
    let web = root().join("web");
    let doc = get_with("/", with_web(&web)).await.json();
    assert!(has_map(&doc));
    let link = doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == rel)
        .unwrap();
    assert_eq!(link["href"], "http://test.local/map/");
    assert_eq!(link["type"], "text/html");
    let html = get_with("/?f=html", with_web(&web)).await.text();
    assert!(html.contains("Open the web map"), "{html}");
    // The catalogue style is linked from the landing page, with or without the map.
    assert!(get("/").await.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "stylesheet" && l["type"] == STYLE));
}

#[tokio::test]
async fn the_api_definition_describes_the_styles_and_the_map() {
    let doc = get("/api").await.json();
    for path in ["/styles", "/styles/map.json", "/styles/{layer}"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    assert!(
        doc["paths"]["/map/"].is_null(),
        "no map without a web folder"
    );
    let doc = get_with("/api", with_web(&root().join("web"))).await.json();
    assert!(doc["paths"]["/map/"]["get"].is_object());
}
