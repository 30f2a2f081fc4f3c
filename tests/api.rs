//! The OGC API - Features router, driven with `tower::ServiceExt::oneshot` over the demo
//! catalogue. Expected answers are computed in the tests by brute force over the loaded
//! features (no index, no API code), or come from GDAL's `gdaltransform`.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use geo::{Coord, Intersects, LineString, Polygon, Rect};
use serde_json::Value as Json;

mod common;

use common::http::{assert_problem, demo_catalog, send, Answer};
use territorio::api::{app, AppState, ServerConfig};
use territorio::crs::{densified_outline, Transformer};
use territorio::feature::Value;
use territorio::store::{Catalog, Layer};

fn catalog() -> Arc<Catalog> {
    demo_catalog()
}

fn layer(id: &str) -> &'static Layer {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(catalog).layer(id).unwrap()
}

async fn request(req: Request<Body>) -> Answer {
    request_with(req, ServerConfig::default()).await
}

async fn request_with(req: Request<Body>, config: ServerConfig) -> Answer {
    send(app(AppState::new(catalog(), config)), req).await
}

async fn get(uri: &str) -> Answer {
    request(
        Request::get(uri)
            .header(header::HOST, "test.local")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// The link with this relation, the JSON one when there are several.
fn link<'a>(doc: &'a Json, rel: &str) -> Option<&'a Json> {
    let links = doc["links"].as_array()?;
    links
        .iter()
        .find(|l| l["rel"] == rel && l["type"] != "text/html")
        .or_else(|| links.iter().find(|l| l["rel"] == rel))
}

/// The path and query of an absolute link from the test host.
fn local(href: &str) -> String {
    href.strip_prefix("http://test.local")
        .unwrap_or_else(|| panic!("link {href} is not under the request's host"))
        .to_string()
}

fn ids(fc: &Json) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| match &f["id"] {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn text_value(layer: &Layer, f: &territorio::feature::Feature, field: &str) -> String {
    match layer.value(f, field) {
        Some(Value::String(s)) | Some(Value::Date(s)) => s.to_string(),
        other => panic!("{field}: {other:?}"),
    }
}

#[tokio::test]
async fn landing_page_links_what_qgis_needs() {
    let a = get("/").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type(), "application/json");
    let doc = a.json();
    let desc = link(&doc, "service-desc").expect("service-desc");
    assert_eq!(desc["type"], "application/vnd.oai.openapi+json;version=3.0");
    assert_eq!(desc["href"], "http://test.local/api");
    assert_eq!(
        link(&doc, "conformance").unwrap()["href"],
        "http://test.local/conformance"
    );
    assert_eq!(
        link(&doc, "data").unwrap()["href"],
        "http://test.local/collections"
    );
    assert!(link(&doc, "service-doc").is_some());
    assert!(link(&doc, "self").is_some());
}

#[tokio::test]
async fn public_url_is_the_base_of_links() {
    let config = ServerConfig {
        public_url: Some("https://gis.example.org/territorio/".into()),
        ..ServerConfig::default()
    };
    let a = request_with(Request::get("/").body(Body::empty()).unwrap(), config).await;
    assert_eq!(
        link(&a.json(), "data").unwrap()["href"],
        "https://gis.example.org/territorio/collections"
    );
}

#[tokio::test]
async fn conformance_declares_parts_1_2_3_and_cql2() {
    let doc = get("/conformance").await.json();
    let classes: Vec<&str> = doc["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for required in [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    ] {
        assert!(classes.contains(&required), "missing {required}");
    }
}

#[tokio::test]
async fn openapi_declares_limit_and_queryable_parameters() {
    let a = get("/api").await;
    assert_eq!(
        a.content_type(),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let doc = a.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    let limit = &doc["components"]["parameters"]["limit"]["schema"];
    assert_eq!(limit["default"], 100);
    assert_eq!(limit["maximum"], 10_000);
    let items = &doc["paths"]["/collections/productive_areas/items"]["get"]["parameters"];
    let kind = items
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "kind")
        .expect("kind is declared as an item query parameter");
    assert_eq!(kind["in"], "query");
    assert_eq!(kind["style"], "form");
    assert_eq!(kind["explode"], false);
    assert!(items
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["$ref"] == "#/components/parameters/limit"));
    // Every collection has its paths.
    for l in catalog().layers() {
        assert!(doc["paths"][format!("/collections/{}/items", l.id())].is_object());
    }
}

#[tokio::test]
async fn collections_describe_every_layer() {
    let cat = catalog();
    for uri in ["/collections", "/collections/"] {
        let doc = get(uri).await.json();
        let list = doc["collections"].as_array().unwrap();
        assert_eq!(list.len(), cat.layers().len());
        for (c, l) in list.iter().zip(cat.layers()) {
            assert_eq!(c["id"], l.id());
            assert_eq!(c["itemCount"], l.features.len());
            assert_eq!(
                c["storageCrs"],
                "http://www.opengis.net/def/crs/EPSG/0/32632"
            );
            assert_eq!(c["system"], l.config.system.name());
            let crs: Vec<&str> = c["crs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for code in ["4326", "3857", "32632", "6707", "3003"] {
                assert!(
                    crs.contains(&format!("http://www.opengis.net/def/crs/EPSG/0/{code}").as_str())
                );
            }
            let items = c["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["rel"] == "items" && k["type"] == "application/geo+json")
                .expect("a GeoJSON items link");
            // No query string: GDAL's OAPIF driver appends "/{featureId}" to this href to
            // fetch one feature, which a query string would break.
            assert!(items["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/collections/{}/items", l.id())));
        }
    }
    // One collection, with and without the trailing slash.
    for uri in [
        "/collections/productive_areas",
        "/collections/productive_areas/",
    ] {
        let c = get(uri).await.json();
        assert_eq!(c["id"], "productive_areas");
        // The extent, in CRS84, contains every feature's CRS84 coordinates (Cremona is
        // around 10.0 E, 45.1 N).
        let bbox = &c["extent"]["spatial"]["bbox"][0];
        let (w, s, e, n) = (
            bbox[0].as_f64().unwrap(),
            bbox[1].as_f64().unwrap(),
            bbox[2].as_f64().unwrap(),
            bbox[3].as_f64().unwrap(),
        );
        assert!(
            w > 9.3 && e < 10.7 && s > 44.9 && n < 45.6 && w < e && s < n,
            "{bbox}"
        );
        let to84 = Transformer::new("EPSG:32632", "OGC:CRS84").unwrap();
        for f in &layer("productive_areas").features {
            let g = to84.transformed(&f.geometry).unwrap();
            let r = geo::BoundingRect::bounding_rect(&g).unwrap();
            assert!(r.min().x >= w && r.max().x <= e && r.min().y >= s && r.max().y <= n);
        }
    }
    let projects = get("/collections/projects").await.json();
    let interval = &projects["extent"]["temporal"]["interval"][0];
    assert!(interval[0].is_string() || interval[0].is_null());
}

#[tokio::test]
async fn unknown_collection_feature_and_route_are_404_problems() {
    assert_problem(
        &get("/collections/nope").await,
        StatusCode::NOT_FOUND,
        "nope",
    );
    assert_problem(
        &get("/collections/nope/items").await,
        StatusCode::NOT_FOUND,
        "nope",
    );
    assert_problem(
        &get("/collections/productive_areas/items/ZZ99").await,
        StatusCode::NOT_FOUND,
        "ZZ99",
    );
    assert_problem(
        &get("/no/such/path").await,
        StatusCode::NOT_FOUND,
        "/no/such/path",
    );
    let post = request(Request::post("/collections").body(Body::empty()).unwrap()).await;
    assert_problem(&post, StatusCode::METHOD_NOT_ALLOWED, "POST");
}

#[tokio::test]
async fn bad_parameters_are_400_naming_them() {
    let base = "/collections/productive_areas/items";
    for (query, needle) in [
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=10,45,9,46", "bbox"),
        ("bbox-crs=EPSG:3003", "bbox-crs"),
        ("bbox=1,2,3,4&bbox-crs=EPSG:2154", "EPSG:2154"),
        ("crs=EPSG:9999999", "EPSG:9999999"),
        ("colour=red", "colour"),
        ("properties=name,colour", "colour"),
        ("sortby=-colour", "colour"),
        ("skipGeometry=maybe", "skipGeometry"),
        ("sovracomunale=perhaps", "sovracomunale"),
        ("area_ha=large", "area_ha"),
        ("datetime=2020-01-01", "datetime"),
        ("filter-lang=cql2-text", "filter-lang"),
        ("f=xml", "xml"),
        ("limit=5&limit=6", "limit"),
    ] {
        let a = get(&format!("{base}?{query}")).await;
        assert_problem(&a, StatusCode::BAD_REQUEST, needle);
    }
    let a = get("/collections/projects/items?datetime=2020-13-45").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "datetime");
    let a = get("/collections?limit=5").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "limit");
}

#[tokio::test]
async fn items_are_geojson_with_counts_and_links() {
    let a = get("/collections/municipalities/items?limit=7").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type(), "application/geo+json");
    assert_eq!(
        a.headers.get("content-crs").unwrap(),
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    let fc = a.json();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["numberMatched"], 60);
    assert_eq!(fc["numberReturned"], 7);
    assert!(fc["timeStamp"].as_str().unwrap().ends_with('Z'));
    let next = link(&fc, "next").unwrap();
    assert_eq!(next["type"], "application/geo+json");
    assert!(link(&fc, "prev").is_none());
    // Default page size and the clamp to the declared maximum.
    let fc = get("/collections/municipalities/items").await.json();
    assert_eq!(fc["numberReturned"], 60);
    let fc = get("/collections/projects/items").await.json();
    assert_eq!(fc["numberReturned"], 100);
    let fc = get("/collections/projects/items?limit=1000000")
        .await
        .json();
    assert_eq!(fc["numberReturned"], 150);
    assert!(link(&fc, "next").is_none());
}

/// The CRS84 geometry cache (`--geometry-cache-mb`) changes no answer: the features of a
/// page are the same with the cache unbounded, off, or full after a few geometries, on a
/// first request (which fills it) and a second (which reads it).
#[tokio::test]
async fn answers_are_the_same_whatever_the_geometry_cache_holds() {
    let uri = "/collections/municipalities/items?limit=60";
    let features = |state: &AppState| {
        let state = state.clone();
        async move {
            let req = Request::get(uri)
                .header(header::HOST, "test.local")
                .body(Body::empty())
                .unwrap();
            let a = send(app(state), req).await;
            assert_eq!(a.status, StatusCode::OK);
            a.json()["features"].clone()
        }
    };
    let unbounded = AppState::new(
        catalog(),
        ServerConfig {
            geometry_cache_bytes: usize::MAX,
            ..ServerConfig::default()
        },
    );
    let expected = features(&unbounded).await;
    assert_eq!(expected.as_array().unwrap().len(), 60);
    assert_eq!(features(&unbounded).await, expected);
    // Off, and room for the slots of the demo's layers and a few texts only.
    for bytes in [0, 40_000] {
        let state = AppState::new(
            catalog(),
            ServerConfig {
                geometry_cache_bytes: bytes,
                ..ServerConfig::default()
            },
        );
        for pass in 0..2 {
            assert_eq!(
                features(&state).await,
                expected,
                "{bytes} bytes, pass {pass}"
            );
        }
        let held = state.geometries().held();
        assert!(held <= bytes, "{held} bytes held, bound {bytes}");
        // With room, some texts were kept (the slots alone are 60 x 24 bytes).
        assert_eq!(
            held > 60 * 24,
            bytes > 0,
            "{held} bytes held, bound {bytes}"
        );
    }
}

#[tokio::test]
async fn paging_through_next_links_returns_every_feature_once_keeping_parameters() {
    let l = layer("projects");
    // With an equality filter and a sort, so the links must keep them.
    let expected: BTreeSet<String> = l
        .features
        .iter()
        .filter(|f| text_value(l, f, "status") == "completed")
        .map(|f| f.id.to_string())
        .collect();
    assert!(
        expected.len() > 10,
        "the fixture has enough completed projects"
    );
    let mut uri =
        "/collections/projects/items?status=completed&sortby=-budget_eur&limit=7".to_string();
    let mut seen = Vec::new();
    let mut budgets = Vec::new();
    let mut pages = 0;
    loop {
        let fc = get(&uri).await.json();
        assert_eq!(fc["numberMatched"], expected.len());
        for f in fc["features"].as_array().unwrap() {
            budgets.push(f["properties"]["budget_eur"].as_f64().unwrap());
        }
        seen.extend(ids(&fc));
        pages += 1;
        match link(&fc, "next") {
            Some(next) => {
                let href = next["href"].as_str().unwrap();
                assert!(href.contains("status=completed") && href.contains("sortby=-budget_eur"));
                uri = local(href);
            }
            None => break,
        }
    }
    assert_eq!(pages, expected.len().div_ceil(7));
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a feature came twice");
    assert_eq!(unique, expected);
    assert!(
        budgets.windows(2).all(|w| w[0] >= w[1]),
        "sorted by budget, descending"
    );
    // A prev link on a later page goes back.
    let fc = get("/collections/projects/items?limit=7&offset=14")
        .await
        .json();
    let prev = local(link(&fc, "prev").unwrap()["href"].as_str().unwrap());
    let back = get(&prev).await.json();
    let all = get("/collections/projects/items?limit=21").await.json();
    assert_eq!(ids(&back), ids(&all)[7..14].to_vec());
}

#[tokio::test]
async fn equality_filters_properties_and_skip_geometry() {
    let l = layer("productive_areas");
    let expected: Vec<String> = l
        .features
        .iter()
        .filter(|f| matches!(l.value(f, "sovracomunale"), Some(Value::Bool(true))))
        .map(|f| f.id.to_string())
        .collect();
    assert!(!expected.is_empty() && expected.len() < l.features.len());
    let fc = get("/collections/productive_areas/items?sovracomunale=true&properties=name,kind&skipGeometry=true").await.json();
    assert_eq!(ids(&fc), expected);
    for f in fc["features"].as_array().unwrap() {
        assert!(f["geometry"].is_null());
        let keys: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "kind"]);
    }
    let kinds = get("/collections/productive_areas/items?kind=industrial")
        .await
        .json();
    let expected: Vec<String> = l
        .features
        .iter()
        .filter(|f| text_value(l, f, "kind") == "industrial")
        .map(|f| f.id.to_string())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids(&kinds), expected);
}

#[tokio::test]
async fn datetime_selects_projects_whose_dates_meet_the_interval() {
    let l = layer("projects");
    // Brute force on the date text: ISO dates compare as strings.
    let overlapping = |from: &str, to: &str| -> Vec<String> {
        l.features
            .iter()
            .filter(|f| {
                let start = text_value(l, f, "start_date");
                let end = text_value(l, f, "end_date");
                start.as_str() <= to && end.as_str() >= from
            })
            .map(|f| f.id.to_string())
            .collect()
    };
    let expected = overlapping("2026-01-01", "2026-12-31");
    assert!(!expected.is_empty() && expected.len() < l.features.len());
    let fc = get("/collections/projects/items?limit=1000&datetime=2026-01-01/2026-12-31")
        .await
        .json();
    assert_eq!(ids(&fc), expected);
    let open = get("/collections/projects/items?limit=1000&datetime=2029-06-01/..")
        .await
        .json();
    assert_eq!(ids(&open), overlapping("2029-06-01", "9999-12-31"));
    let instant = get("/collections/projects/items?limit=1000&datetime=2025-03-15T12:00:00Z")
        .await
        .json();
    assert_eq!(ids(&instant), overlapping("2025-03-15", "2025-03-15"));
}

/// The features of `l` whose geometry intersects `outline` (in the working CRS), by scanning.
fn brute_force(l: &Layer, outline: &Polygon<f64>) -> BTreeSet<String> {
    l.features
        .iter()
        .filter(|f| outline.intersects(&f.geometry))
        .map(|f| f.id.to_string())
        .collect()
}

fn outline_in_working(rect: Rect<f64>, from: &str) -> Polygon<f64> {
    let mut ring = densified_outline(rect, 21);
    Transformer::new(from, "EPSG:32632")
        .unwrap()
        .coords(&mut ring)
        .unwrap();
    Polygon::new(LineString(ring), vec![])
}

#[tokio::test]
async fn bbox_in_crs84_epsg4326_and_gauss_boaga_select_by_true_geometry() {
    let l = layer("municipalities");
    let box84 = Rect::new(Coord { x: 9.95, y: 45.10 }, Coord { x: 10.10, y: 45.20 });
    let expected = brute_force(l, &outline_in_working(box84, "OGC:CRS84"));
    assert!(expected.len() > 1 && expected.len() < 20, "{expected:?}");
    let got: BTreeSet<String> = ids(&get(
        "/collections/municipalities/items?bbox=9.95,45.10,10.10,45.20",
    )
    .await
    .json())
    .into_iter()
    .collect();
    assert_eq!(got, expected);
    // EPSG:4326 is latitude first.
    let latlon: BTreeSet<String> = ids(&get(
        "/collections/municipalities/items?bbox=45.10,9.95,45.20,10.10&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
    )
    .await
    .json())
    .into_iter()
    .collect();
    assert_eq!(latlon, expected);
    // The same numbers read as lon,lat would be far outside the province.
    let wrong = get("/collections/municipalities/items?bbox=45.10,9.95,45.20,10.10")
        .await
        .json();
    assert_eq!(wrong["numberMatched"], 0);
    // A Gauss-Boaga (EPSG:3003) box around Cremona.
    let box3003 = Rect::new(
        Coord {
            x: 1_575_000.0,
            y: 4_995_000.0,
        },
        Coord {
            x: 1_590_000.0,
            y: 5_010_000.0,
        },
    );
    let expected = brute_force(l, &outline_in_working(box3003, "EPSG:3003"));
    assert!(!expected.is_empty());
    let got: BTreeSet<String> = ids(&get(
        "/collections/municipalities/items?bbox=1575000,4995000,1590000,5010000&bbox-crs=EPSG:3003",
    )
    .await
    .json())
    .into_iter()
    .collect();
    assert_eq!(got, expected);
}

/// Runs gdaltransform on one lon/lat point.
fn gdaltransform(to: &str, lon: f64, lat: f64) -> (f64, f64) {
    let mut child = Command::new("gdaltransform")
        .args(["-s_srs", "OGC:CRS84", "-t_srs", to, "-output_xy"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gdaltransform is installed by scripts/install-deps");
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{lon} {lat}").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Vec<f64> = text
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    (v[0], v[1])
}

#[tokio::test]
async fn output_crs_and_axis_order_match_gdal() {
    let station = |crs: &'static str| async move {
        let uri = match crs {
            "" => "/collections/stations/items/Cremona".to_string(),
            c => format!("/collections/stations/items/Cremona?crs={c}"),
        };
        let a = get(&uri).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let f = a.json();
        let c = &f["geometry"]["coordinates"];
        let header = a
            .headers
            .get("content-crs")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        ((c[0].as_f64().unwrap(), c[1].as_f64().unwrap()), header)
    };
    let ((lon, lat), h) = station("").await;
    assert!(h.contains("CRS84"));
    assert!(
        (9.9..10.1).contains(&lon) && (45.0..45.3).contains(&lat),
        "{lon} {lat}"
    );
    // EPSG:4326: latitude first.
    let ((a, b), h) = station("EPSG:4326").await;
    assert_eq!(h, "<http://www.opengis.net/def/crs/EPSG/0/4326>");
    assert!((a - lat).abs() < 1e-7 && (b - lon).abs() < 1e-7, "{a} {b}");
    // Gauss-Boaga, Web Mercator and UTM against GDAL (east, north).
    for crs in ["EPSG:3003", "EPSG:3857", "EPSG:32632"] {
        let ((x, y), _) = station(crs).await;
        let (ex, ey) = gdaltransform(crs, lon, lat);
        assert!(
            (x - ex).abs() < 0.05 && (y - ey).abs() < 0.05,
            "{crs}: {x} {y} vs {ex} {ey}"
        );
    }
    // EPSG:6707 is RDN2008 / UTM 32N with northing first.
    let ((n, e), _) = station("EPSG:6707").await;
    let (ee, en) = gdaltransform("EPSG:6707", lon, lat);
    assert!(
        (n - en).abs() < 0.05 && (e - ee).abs() < 0.05,
        "{n} {e} vs {en} {ee}"
    );
    assert!(n > 4_000_000.0 && e < 1_000_000.0);
}

#[tokio::test]
async fn a_feature_links_to_its_collection() {
    let a = get("/collections/productive_areas/items/AP01").await;
    assert_eq!(a.content_type(), "application/geo+json");
    let f = a.json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], "AP01");
    let c = link(&f, "collection").unwrap();
    assert_eq!(c["href"], "http://test.local/collections/productive_areas");
    let l = layer("productive_areas");
    let feature = l
        .features
        .iter()
        .find(|f| f.id.to_string() == "AP01")
        .unwrap();
    assert_eq!(f["properties"]["name"], text_value(l, feature, "name"));
}

#[tokio::test]
async fn html_for_browsers_json_for_clients() {
    let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for uri in [
        "/",
        "/collections",
        "/collections/projects",
        "/collections/projects/items?limit=5",
        "/collections/projects/items/P012",
        "/collections/projects/queryables",
        "/conformance",
        "/api",
    ] {
        let a = request(
            Request::get(uri)
                .header(header::ACCEPT, chrome)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
        assert!(a.content_type().starts_with("text/html"), "{uri}");
        assert!(a.text().starts_with("<!DOCTYPE html>"));
        let json = get(&format!(
            "{uri}{}f=json",
            if uri.contains('?') { "&" } else { "?" }
        ))
        .await;
        assert!(json.content_type().contains("json"), "{uri}");
    }
    let page = get("/collections/projects/items?limit=5&f=html")
        .await
        .text();
    assert!(page.contains("<svg") && page.contains("<table>"));
}

#[tokio::test]
async fn queryables_mark_the_geometry_for_qgis() {
    let a = get("/collections/productive_areas/queryables").await;
    assert_eq!(a.content_type(), "application/schema+json");
    let q = a.json();
    assert!(q["properties"]["geometry"]["$ref"]
        .as_str()
        .unwrap()
        .starts_with("https://geojson.org/schema/"));
    assert_eq!(q["properties"]["sovracomunale"]["type"], "boolean");
    assert_eq!(q["properties"]["area_ha"]["type"], "number");
    // The schema carries the Part 5 roles, and the collection links it for newer QGIS.
    let s = get("/collections/productive_areas/schema").await.json();
    assert_eq!(
        s["properties"]["geometry"]["x-ogc-role"],
        "primary-geometry"
    );
    assert_eq!(s["properties"]["geometry"]["format"], "geometry-polygon");
    assert_eq!(s["properties"]["code"]["x-ogc-role"], "id");
    let c = get("/collections/productive_areas").await.json();
    let part5 = link(&c, "http://www.opengis.net/def/rel/ogc/1.0/schema").unwrap();
    assert_eq!(part5["type"], "application/schema+json");
    let p = get("/collections/projects/schema").await.json();
    assert_eq!(p["properties"]["start_date"]["format"], "date");
    assert_eq!(p["properties"]["axis"]["type"], "integer");
}

#[tokio::test]
async fn conditional_get_answers_304() {
    // One server for all three requests: a reloaded catalogue has new tags.
    let router = app(AppState::new(catalog(), ServerConfig::default()));
    let send = |req: Request<Body>| send(router.clone(), req);
    let plain = |uri: &str| {
        Request::get(uri)
            .header(header::HOST, "test.local")
            .body(Body::empty())
            .unwrap()
    };
    let a = send(plain("/collections/projects/items?limit=3")).await;
    let etag = a.headers.get(header::ETAG).unwrap().clone();
    assert!(a.headers.get(header::CACHE_CONTROL).is_some());
    let b = send(
        Request::get("/collections/projects/items?limit=3")
            .header(header::HOST, "test.local")
            .header(header::IF_NONE_MATCH, etag.clone())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(b.status, StatusCode::NOT_MODIFIED);
    assert!(b.body.is_empty());
    // Another query, another tag.
    let c = send(plain("/collections/projects/items?limit=4")).await;
    assert_ne!(c.headers.get(header::ETAG).unwrap(), &etag);
}

#[tokio::test]
async fn cors_compression_and_options() {
    let a = request(
        Request::get("/collections/municipalities/items")
            .header(header::ORIGIN, "https://maps.example.org")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "*"
    );
    assert_eq!(a.headers.get(header::CONTENT_ENCODING).unwrap(), "gzip");
    assert_eq!(&a.body[..2], &[0x1f, 0x8b], "a gzip stream");
    // Configured origins only.
    let config = ServerConfig {
        cors_origins: vec!["https://maps.example.org".into()],
        ..ServerConfig::default()
    };
    let other = request_with(
        Request::get("/")
            .header(header::ORIGIN, "https://evil.example.com")
            .body(Body::empty())
            .unwrap(),
        config,
    )
    .await;
    assert!(other
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    // QGIS asks OPTIONS on items to learn whether it may edit: read-only.
    let o = request(
        Request::options("/collections/projects/items")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(o.headers.get(header::ALLOW).unwrap(), "GET, HEAD, OPTIONS");
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn cql2_filters_in_text_and_json_select_what_a_scan_selects() {
    let l = layer("projects");
    let num = |f: &territorio::feature::Feature, name: &str| match l.value(f, name) {
        Some(Value::Int(v)) => Some(*v as f64),
        Some(Value::Real(v)) => Some(*v),
        _ => None,
    };
    let expected: Vec<String> = l
        .features
        .iter()
        .filter(|f| num(f, "axis") == Some(3.0) || num(f, "budget_eur").is_some_and(|b| b > 5e6))
        .filter(|f| text_value(l, f, "status") != "completed")
        .map(|f| f.id.to_string())
        .collect();
    assert!(!expected.is_empty() && expected.len() < l.features.len());
    let text = "(axis = 3 OR budget_eur > 5000000) AND NOT status = 'completed'";
    let fc = get(&format!(
        "/collections/projects/items?limit=1000&filter={}",
        enc(text)
    ))
    .await;
    assert_eq!(fc.status, StatusCode::OK, "{}", fc.text());
    assert_eq!(ids(&fc.json()), expected);
    let json = r#"{"op":"and","args":[{"op":"or","args":[{"op":"=","args":[{"property":"axis"},3]},{"op":">","args":[{"property":"budget_eur"},5000000]}]},{"op":"not","args":[{"op":"=","args":[{"property":"status"},"completed"]}]}]}"#;
    let fc = get(&format!(
        "/collections/projects/items?limit=1000&filter-lang=cql2-json&filter={}",
        enc(json)
    ))
    .await;
    assert_eq!(ids(&fc.json()), expected);
    // Paging keeps the filter in the next link.
    let first = get(&format!(
        "/collections/projects/items?limit=2&filter={}",
        enc(text)
    ))
    .await
    .json();
    let next = link(&first, "next").unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    let second = get(&local(&next)).await.json();
    assert_eq!(ids(&second), expected[2..4.min(expected.len())].to_vec());
}

#[tokio::test]
async fn a_point_filter_finds_the_municipality_in_any_axis_order() {
    let l = layer("municipalities");
    // Cremona's centre, from the domain notes; the expected municipality by scanning.
    let (lon, lat) = (10.024, 45.133);
    let p = Transformer::new("OGC:CRS84", "EPSG:32632")
        .unwrap()
        .transformed(&geo::Geometry::Point(geo::Point::new(lon, lat)))
        .unwrap();
    let expected: Vec<String> = l
        .features
        .iter()
        .filter(|f| f.geometry.intersects(&p))
        .map(|f| f.id.to_string())
        .collect();
    assert_eq!(expected.len(), 1);
    let a = get(&format!(
        "/collections/municipalities/items?filter={}",
        enc(&format!("S_INTERSECTS(geometry,POINT({lon} {lat}))"))
    ))
    .await
    .json();
    assert_eq!(ids(&a), expected);
    let b = get(&format!(
        "/collections/municipalities/items?filter-crs={}&filter={}",
        enc("http://www.opengis.net/def/crs/EPSG/0/4326"),
        enc(&format!("S_INTERSECTS(geometry,POINT({lat} {lon}))"))
    ))
    .await
    .json();
    assert_eq!(ids(&b), expected);
}

#[tokio::test]
async fn bad_filters_are_400_naming_the_problem() {
    for (query, needle) in [
        (format!("filter={}", enc("colour = 'red'")), "colour"),
        (
            format!("filter={}", enc("population = 'many'")),
            "population",
        ),
        (format!("filter={}", enc("population >")), "filter"),
        (
            format!("filter={}&filter-lang=cql3", enc("population > 1")),
            "cql3",
        ),
        (
            format!("filter={}&filter-crs=EPSG:2154", enc("population > 1")),
            "EPSG:2154",
        ),
        ("filter-crs=EPSG:4326".to_string(), "filter-crs"),
    ] {
        let a = get(&format!("/collections/municipalities/items?{query}")).await;
        assert_problem(&a, StatusCode::BAD_REQUEST, needle);
    }
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_a_503_problem() {
    // A page of 1,000 runs on a blocking thread, so it cannot finish within a nanosecond.
    let config = ServerConfig {
        request_timeout: std::time::Duration::from_nanos(1),
        ..ServerConfig::default()
    };
    let a = request_with(
        Request::get("/collections/projects/items?limit=1000")
            .body(Body::empty())
            .unwrap(),
        config,
    )
    .await;
    assert_problem(&a, StatusCode::SERVICE_UNAVAILABLE, "time limit");
}
