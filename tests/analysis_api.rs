//! The analysis endpoints, the project site report and the indicators, driven through the
//! router with `tower::ServiceExt::oneshot` (and once through a real server read by GDAL).
//!
//! Expected values are computed here, independently of the code under test: on the demo
//! catalogue by brute force over every feature of a layer with geo's algorithms directly (no
//! index, no analysis module); on a catalogue built here by hand, from figures worked out on
//! paper. The CLI's JSON (a separate process) is the reference of "the same document as
//! `territorio report`".
//!
//! Tolerances, and why:
//! - distances: 1e-6 m. The server and the test run the same f64 point/segment formulas on the
//!   same coordinates, in a different order of dispatch (index walk vs. full scan): differences
//!   are rounding in the last bits, far below a micrometre.
//! - areas from boolean intersections on the demo: 1 mm² + 1e-9 of the area. The server
//!   intersects at UTM magnitudes (coordinates near 5e6 m), the test with coordinates taken
//!   relative to the site (see `intersection_area`). i_overlay snaps to an integer grid fitted
//!   to the operands' bounding box, so a translation should not change the result; measured on
//!   the ten overlaps below, the two agree exactly. The bound leaves room for the last bits of
//!   a sum, nothing more.
//! - areas on the hand-built fixture: 1e-6 m². Axis-aligned rectangles with integer corners:
//!   the intersections are exact up to rounding.

mod common;

use common::http::{self, assert_problem, start_server, Answer};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use geo::{
    Area, BooleanOps, Contains, Coord, Distance, Euclidean, Geometry, Intersects, LineString,
    MultiPolygon, Polygon, Rect,
};
use serde_json::{json, Value as Json};

use territorio::api::{app, AppState, ServerConfig};
use territorio::catalog::{CatalogConfig, LayerConfig, RoleTable, System};
use territorio::crs::{Transformer, CRS84};
use territorio::feature::{Feature, FeatureId, Field, FieldType, Value};
use territorio::store::{Catalog, Layer};

const WORKING: &str = "EPSG:32632";
const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

fn catalog_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml")
}

fn catalog() -> Arc<Catalog> {
    http::demo_catalog()
}

fn layer(id: &str) -> &'static Layer {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(catalog).layer(id).unwrap()
}

fn feature(layer_id: &str, id: &str) -> &'static Feature {
    let l = layer(layer_id);
    l.features
        .iter()
        .find(|f| f.id.to_string() == id)
        .unwrap_or_else(|| panic!("{layer_id} has no {id}"))
}

async fn send(state: AppState, req: Request<Body>) -> Answer {
    http::send(app(state), req).await
}

fn state() -> AppState {
    AppState::new(catalog(), ServerConfig::default())
}

async fn get(uri: &str) -> Answer {
    send(
        state(),
        Request::get(uri)
            .header(header::HOST, "test.local")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn post(uri: &str, content_type: &str, body: &str) -> Answer {
    post_to(state(), uri, content_type, body).await
}

async fn post_to(state: AppState, uri: &str, content_type: &str, body: &str) -> Answer {
    send(
        state,
        Request::post(uri)
            .header(header::HOST, "test.local")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn features(fc: &Json) -> &Vec<Json> {
    fc["features"].as_array().unwrap()
}

fn id_of(f: &Json) -> String {
    match &f["id"] {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ids(fc: &Json) -> Vec<String> {
    features(fc).iter().map(id_of).collect()
}

fn num(v: &Json) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn to_working(lon: f64, lat: f64) -> Coord<f64> {
    Transformer::new(CRS84, WORKING)
        .unwrap()
        .coord(Coord { x: lon, y: lat })
        .unwrap()
}

/// Every feature of `layer` with its distance from `g`, nearest first, ties by id: a full
/// scan with geo's Euclidean distance.
fn brute_distances(layer: &Layer, g: &Geometry<f64>) -> Vec<(String, f64)> {
    let mut all: Vec<(&FeatureId, f64)> = layer
        .features
        .iter()
        .map(|f| (&f.id, Euclidean.distance(g, &f.geometry)))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    all.into_iter().map(|(id, d)| (id.to_string(), d)).collect()
}

fn assert_distance(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-6, "{what}: {got} vs {want}");
}

fn polygons(g: &Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(m) => Some(m.clone()),
        _ => None,
    }
}

/// Area of `a ∩ b` by boolean intersection, coordinates taken relative to `a`'s first vertex.
fn intersection_area(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    use geo::Translate;
    let o = a.0[0].exterior().0[0];
    a.translate(-o.x, -o.y)
        .intersection(&b.translate(-o.x, -o.y))
        .unsigned_area()
}

fn assert_area(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 + 1e-9 * want.abs(),
        "{what}: {got} vs {want} (difference {})",
        got - want
    );
}

/// A geometry of the working CRS as GeoJSON text, every coordinate written exactly.
fn geojson_text(g: &Geometry<f64>) -> String {
    territorio::geojson_io::geometry_json(g).to_string()
}

// ---------------------------------------------------------------------------------------------
// nearest and within

#[tokio::test]
async fn nearest_of_a_project_agrees_with_a_full_scan_get_and_post() {
    let p012 = feature("projects", "P012");
    let expected = brute_distances(layer("hospitals"), &p012.geometry);
    let a = get("/analysis/nearest?layer=hospitals&k=3&project=P012").await;
    let fc = a.geojson(CRS84_URI);
    assert_eq!(fc["layer"], "hospitals");
    assert_eq!(fc["subject"], json!({"project": "P012"}));
    assert_eq!(
        ids(&fc),
        expected[..3]
            .iter()
            .map(|e| e.0.clone())
            .collect::<Vec<_>>()
    );
    for (f, (id, d)) in features(&fc).iter().zip(&expected) {
        assert_distance(num(&f["properties"]["distance_m"]), *d, id);
        // The layer's own properties come along.
        assert!(f["properties"]["name"].is_string(), "{f}");
    }
    // CRS84 geometry of the nearest hospital, against the library's transformation of the
    // stored point (7 decimals written).
    let nearest = feature("hospitals", &expected[0].0);
    let Geometry::Point(p) = Transformer::new(WORKING, CRS84)
        .unwrap()
        .transformed(&nearest.geometry)
        .unwrap()
    else {
        panic!("hospitals are points")
    };
    let c = &features(&fc)[0]["geometry"]["coordinates"];
    assert!((num(&c[0]) - p.x()).abs() < 1e-7 && (num(&c[1]) - p.y()).abs() < 1e-7);

    // POST: the same point as the body, in the working CRS.
    let body = geojson_text(&p012.geometry);
    let b = post(
        "/analysis/nearest?layer=hospitals&k=3&subject-crs=EPSG:32632",
        "application/geo+json",
        &body,
    )
    .await;
    let fc_post = b.geojson(CRS84_URI);
    assert_eq!(features(&fc_post), features(&fc));
    assert_eq!(fc_post["subject"]["body"], "GeoJSON");

    // A Feature body with application/json, default k (5), answer in the working CRS.
    let feature_body = format!(r#"{{"type":"Feature","properties":{{}},"geometry":{body}}}"#);
    let c = post(
        "/analysis/nearest?layer=nursing_homes&subject-crs=EPSG:32632&crs=EPSG:32632",
        "application/json; charset=utf-8",
        &feature_body,
    )
    .await;
    let fc = c.geojson("http://www.opengis.net/def/crs/EPSG/0/32632");
    let expected = brute_distances(layer("nursing_homes"), &p012.geometry);
    assert_eq!(features(&fc).len(), 5);
    for (f, (id, d)) in features(&fc).iter().zip(&expected) {
        assert_eq!(&id_of(f), id);
        assert_distance(num(&f["properties"]["distance_m"]), *d, id);
        // Metres, 3 decimals: the stored point.
        let Geometry::Point(p) = &feature("nursing_homes", id).geometry else {
            panic!()
        };
        let c = &f["geometry"]["coordinates"];
        assert!((num(&c[0]) - p.x()).abs() <= 5e-4 && (num(&c[1]) - p.y()).abs() <= 5e-4);
    }
}

#[tokio::test]
async fn nearest_and_within_of_a_point_and_a_box_agree_with_a_full_scan() {
    // Crema's centre, CRS84.
    let here = Geometry::Point(geo::Point(to_working(9.686, 45.364)));
    let fc = get("/analysis/nearest?layer=stations&k=4&point=9.686,45.364")
        .await
        .geojson(CRS84_URI);
    let expected = brute_distances(layer("stations"), &here);
    for (f, (id, d)) in features(&fc).iter().zip(&expected[..4]) {
        assert_eq!(&id_of(f), id);
        assert_distance(num(&f["properties"]["distance_m"]), *d, id);
    }

    for distance in [0.0, 2_500.0, 12_000.0] {
        let fc = get(&format!(
            "/analysis/within?layer=nursing_homes&distance={distance}&point=9.686,45.364"
        ))
        .await
        .geojson(CRS84_URI);
        assert_eq!(num(&fc["distance_m"]), distance);
        let expected: Vec<(String, f64)> = brute_distances(layer("nursing_homes"), &here)
            .into_iter()
            .filter(|(_, d)| *d <= distance)
            .collect();
        assert_eq!(
            ids(&fc),
            expected.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
            "within {distance} m"
        );
        for (f, (id, d)) in features(&fc).iter().zip(&expected) {
            assert_distance(num(&f["properties"]["distance_m"]), *d, id);
        }
    }
    // 12 km must have found something, or the test above proves little.
    let fc = get("/analysis/within?layer=nursing_homes&distance=12000&point=9.686,45.364")
        .await
        .geojson(CRS84_URI);
    assert!(features(&fc).len() >= 2, "{fc}");

    // A box subject: the server densifies its edges before moving it to the working CRS; the
    // test builds the same outline from the definition (21 points per edge).
    let fc = get("/analysis/within?layer=schools&distance=1500&bbox=9.66,45.35,9.71,45.38")
        .await
        .geojson(CRS84_URI);
    let t = Transformer::new(CRS84, WORKING).unwrap();
    let mut ring = Vec::new();
    let corners = [(9.66, 45.35), (9.71, 45.35), (9.71, 45.38), (9.66, 45.38)];
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        for k in 0..20 {
            let s = k as f64 / 20.0;
            ring.push(
                t.coord(Coord {
                    x: a.0 + (b.0 - a.0) * s,
                    y: a.1 + (b.1 - a.1) * s,
                })
                .unwrap(),
            );
        }
    }
    ring.push(ring[0]);
    let site = Geometry::Polygon(Polygon::new(LineString(ring), vec![]));
    let expected: Vec<(String, f64)> = brute_distances(layer("schools"), &site)
        .into_iter()
        .filter(|(_, d)| *d <= 1500.0)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        ids(&fc),
        expected.iter().map(|e| e.0.clone()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn epsg_4326_input_is_latitude_first_and_output_follows_crs() {
    let lonlat = get("/analysis/nearest?layer=schools&k=6&point=9.686,45.364")
        .await
        .geojson(CRS84_URI);
    // The expected answer, by a full scan from the point moved with PROJ: the comparisons
    // below are between answers that hold these six schools, not between two empty lists.
    let point = Geometry::Point(to_working(9.686, 45.364).into());
    let expected: Vec<String> = brute_distances(layer("schools"), &point)
        .into_iter()
        .take(6)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(expected.len(), 6);
    assert_eq!(ids(&lonlat), expected);
    let latlon =
        get("/analysis/nearest?layer=schools&k=6&point=45.364,9.686&subject-crs=EPSG:4326")
            .await
            .geojson(CRS84_URI);
    assert_eq!(features(&lonlat), features(&latlon));
    let uri = get(
        "/analysis/nearest?layer=schools&k=6&point=45.364,9.686&subject-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
    )
    .await
    .geojson(CRS84_URI);
    assert_eq!(features(&lonlat), features(&uri));
    // A box, in Part 2's bbox-crs, lat,lon.
    let a = get("/analysis/locate?bbox=9.66,45.35,9.71,45.38")
        .await
        .geojson(CRS84_URI);
    let b = get("/analysis/locate?bbox=45.35,9.66,45.38,9.71&bbox-crs=EPSG:4326")
        .await
        .geojson(CRS84_URI);
    assert_eq!(features(&a), features(&b));
    // The box holds at least the municipalities around (9.686, 45.364): every municipality
    // whose polygon contains that point is among the features found.
    let inside: Vec<String> = layer("municipalities")
        .features
        .iter()
        .filter(|f| geo::Contains::contains(&f.geometry, &point))
        .map(|f| f.id.to_string())
        .collect();
    assert_eq!(inside.len(), 1, "the point lies in one municipality");
    assert!(
        features(&b)
            .iter()
            .any(|f| f["properties"]["_layer"] == "municipalities" && id_of(f) == inside[0]),
        "{inside:?} not found by the EPSG:4326 box"
    );
    // The answer in EPSG:4326 is lat,lon: the same numbers as CRS84, swapped.
    let out = get("/analysis/nearest?layer=schools&k=6&point=9.686,45.364&crs=EPSG:4326")
        .await
        .geojson("http://www.opengis.net/def/crs/EPSG/0/4326");
    assert_eq!(ids(&out), expected);
    for (x, y) in features(&lonlat).iter().zip(features(&out)) {
        let (cx, cy) = (&x["geometry"]["coordinates"], &y["geometry"]["coordinates"]);
        assert_eq!((&cx[0], &cx[1]), (&cy[1], &cy[0]));
    }
    // Lat,lon sent as CRS84 falls outside UTM 32N's area of use: refused with a hint.
    let a = get("/analysis/nearest?layer=schools&point=45.364,9.686").await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "axes swapped");
}

// ---------------------------------------------------------------------------------------------
// overlay

/// A catalogue built by hand (working CRS metres, origin at (580000, 5000000)):
/// - `zones` (kind): Z1 = [0,1000]x[0,1000] (a), Z2 = [1000,2000]x[0,1000] (b),
///   Z3 = [3000,4000]x[0,1000] (a);
/// - `ditches`: D1 from (0,500) to (3000,500), 3,000 m;
/// - `wells`: W1 at (600,600), W2 at (1900,100).
fn fixture() -> Arc<Catalog> {
    const X: f64 = 580_000.0;
    const Y: f64 = 5_000_000.0;
    let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
        Geometry::Polygon(Rect::new((X + x0, Y + y0), (X + x1, Y + y1)).to_polygon())
    };
    let config = |id: &str| LayerConfig {
        id: id.into(),
        title: id.into(),
        description: String::new(),
        system: System::Settlement,
        source: "memory".into(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: None,
        crs: None,
        style: None,
        edit: None,
        field_rules: Vec::new(),
    };
    let make = |id: &str, fields: Vec<Field>, features: Vec<(&str, Geometry<f64>, Vec<Value>)>| {
        Layer::new(
            config(id),
            WORKING.into(),
            "memory".into(),
            fields,
            features
                .into_iter()
                .map(|(fid, geometry, values)| Feature {
                    id: FeatureId::Str(fid.into()),
                    geometry,
                    values: values.into(),
                    invalid: None,
                })
                .collect(),
        )
        .unwrap()
    };
    let kind = || {
        vec![Field {
            name: "kind".into(),
            ty: FieldType::String,
        }]
    };
    let s = |v: &str| vec![Value::String(v.into())];
    let layers = vec![
        make(
            "zones",
            kind(),
            vec![
                ("Z1", rect(0., 0., 1000., 1000.), s("a")),
                ("Z2", rect(1000., 0., 2000., 1000.), s("b")),
                ("Z3", rect(3000., 0., 4000., 1000.), s("a")),
            ],
        ),
        make(
            "ditches",
            kind(),
            vec![(
                "D1",
                Geometry::LineString(LineString::from(vec![(X, Y + 500.), (X + 3000., Y + 500.)])),
                s("main"),
            )],
        ),
        make(
            "wells",
            kind(),
            vec![
                (
                    "W1",
                    Geometry::Point(geo::Point::new(X + 600., Y + 600.)),
                    s("deep"),
                ),
                (
                    "W2",
                    Geometry::Point(geo::Point::new(X + 1900., Y + 100.)),
                    s("shallow"),
                ),
            ],
        ),
    ];
    // `[roles]` left empty: each role is played by the layer with its default id.
    let roles = RoleTable::default();
    let config = CatalogConfig {
        path: "memory.toml".into(),
        working_crs: WORKING.into(),
        styles_dir: "styles".into(),
        layers: layers.iter().map(|l| l.config.clone()).collect(),
        roles,
    };
    Arc::new(Catalog::from_layers(config, WORKING.into(), layers))
}

async fn fixture_get(uri: &str) -> Answer {
    send(
        AppState::new(fixture(), ServerConfig::default()),
        Request::get(uri).body(Body::empty()).unwrap(),
    )
    .await
}

fn by_id(fc: &Json) -> BTreeMap<String, Json> {
    features(fc)
        .iter()
        .map(|f| (id_of(f), f["properties"].clone()))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6
}

#[tokio::test]
async fn overlay_on_a_hand_built_catalogue() {
    // Site: [500,1500]x[250,750], 500,000 m², half in Z1 and half in Z2 (250,000 m² each,
    // a quarter of each zone); Z3 is outside. WKT in the working CRS.
    let site =
        "POLYGON((580500 5000250,581500 5000250,581500 5000750,580500 5000750,580500 5000250))";
    let uri = format!(
        "/analysis/overlay?layer=zones&group_by=kind&subject-crs=EPSG:32632&crs=EPSG:32632&geometry={}",
        site.replace(' ', "%20")
    );
    let fc = fixture_get(&uri)
        .await
        .geojson("http://www.opengis.net/def/crs/EPSG/0/32632");
    assert_eq!(fc["measure"], "area");
    assert!(close(num(&fc["site"]["area_m2"]), 500_000.0));
    let got = by_id(&fc);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["Z1", "Z2"]);
    for (id, kind) in [("Z1", "a"), ("Z2", "b")] {
        let p = &got[id];
        assert!(close(num(&p["overlap_area_m2"]), 250_000.0), "{p}");
        assert!(close(num(&p["share_of_site"]), 0.5), "{p}");
        assert!(close(num(&p["share_of_feature"]), 0.25), "{p}");
        assert_eq!(p["kind"], kind);
    }
    // The clipped geometries: each a 500 m x 500 m square.
    for f in features(&fc) {
        let g: Geometry<f64> =
            territorio::geojson_io::parse_geometry(&f["geometry"].to_string()).unwrap();
        assert!(close(g.unsigned_area(), 250_000.0), "{}", f["geometry"]);
    }
    let summary = fc["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 2);
    for (row, key) in summary.iter().zip(["a", "b"]) {
        assert_eq!(row["key"], key);
        assert_eq!(row["count"], 1);
        assert!(close(num(&row["overlap_area_m2"]), 250_000.0));
        assert!(close(num(&row["share_of_site"]), 0.5));
    }

    // Without group_by: one summary row with the totals.
    let uri = format!(
        "/analysis/overlay?layer=zones&subject-crs=EPSG:32632&geometry={}",
        site.replace(' ', "%20")
    );
    let fc = fixture_get(&uri).await.geojson(CRS84_URI);
    let rows = fc["summary"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"], Json::Null);
    assert_eq!(rows[0]["count"], 2);
    assert!(close(num(&rows[0]["overlap_area_m2"]), 500_000.0));
    assert!(close(num(&rows[0]["share_of_site"]), 1.0));

    // Lines in a polygon site: D1 runs 1,000 m inside the site, a third of its length.
    let uri = format!(
        "/analysis/overlay?layer=ditches&subject-crs=EPSG:32632&geometry={}",
        site.replace(' ', "%20")
    );
    let fc = fixture_get(&uri).await.geojson(CRS84_URI);
    assert_eq!(fc["measure"], "length");
    let p = &by_id(&fc)["D1"];
    assert!(close(num(&p["overlap_length_m"]), 1_000.0), "{p}");
    assert!(close(num(&p["share_of_feature"]), 1.0 / 3.0), "{p}");
    assert_eq!(p["share_of_site"], Json::Null);
    assert!(p.get("overlap_area_m2").is_none());

    // A line site across zones: (500,500)-(1500,500), 1,000 m, half in each zone.
    let line = "LINESTRING(580500 5000500,581500 5000500)";
    let fc = fixture_get(&format!(
        "/analysis/overlay?layer=zones&subject-crs=EPSG:32632&geometry={}",
        line.replace(' ', "%20")
    ))
    .await
    .geojson(CRS84_URI);
    assert_eq!(fc["measure"], "length");
    assert!(close(num(&fc["site"]["length_m"]), 1_000.0));
    for id in ["Z1", "Z2"] {
        let p = &by_id(&fc)[id];
        assert!(close(num(&p["overlap_length_m"]), 500.0), "{p}");
        assert!(close(num(&p["share_of_site"]), 0.5), "{p}");
    }

    // Points: counted, whole. W1 lies in the site, W2 does not.
    let fc = fixture_get(&format!(
        "/analysis/overlay?layer=wells&subject-crs=EPSG:32632&geometry={}",
        site.replace(' ', "%20")
    ))
    .await
    .geojson(CRS84_URI);
    assert_eq!(fc["measure"], "count");
    assert_eq!(ids(&fc), ["W1"]);
    assert_eq!(fc["summary"][0]["count"], 1);

    // Nothing overlapped: the keys still say what would have been measured.
    let away = "POLYGON((585000 5005000,585100 5005000,585100 5005100,585000 5005000))";
    let fc = fixture_get(&format!(
        "/analysis/overlay?layer=zones&subject-crs=EPSG:32632&geometry={}",
        away.replace(' ', "%20")
    ))
    .await
    .geojson(CRS84_URI);
    assert_eq!(fc["measure"], "area");
    assert_eq!(features(&fc).len(), 0);
    assert_eq!(num(&fc["summary"][0]["overlap_area_m2"]), 0.0);

    // Nearest on the fixture, by hand: from (2500,500), Z2 and Z3 are 500 m away (ties by
    // id), Z1 1,500 m.
    let fc = fixture_get(
        "/analysis/nearest?layer=zones&k=3&subject-crs=EPSG:32632&point=582500,5000500",
    )
    .await
    .geojson(CRS84_URI);
    assert_eq!(ids(&fc), ["Z2", "Z3", "Z1"]);
    let d: Vec<f64> = features(&fc)
        .iter()
        .map(|f| num(&f["properties"]["distance_m"]))
        .collect();
    assert!(close(d[0], 500.0) && close(d[1], 500.0) && close(d[2], 1_500.0));
}

#[tokio::test]
async fn overlay_on_the_demo_agrees_with_boolean_intersections() {
    // An L-shaped site around Crema (not convex), in the working CRS.
    let c = to_working(9.686, 45.364);
    let pts = [
        (-4000., -3000.),
        (4000., -3000.),
        (4000., -500.),
        (-1000., -500.),
        (-1000., 3000.),
        (-4000., 3000.),
        (-4000., -3000.),
    ];
    let ring: Vec<Coord<f64>> = pts
        .iter()
        .map(|(dx, dy)| Coord {
            x: c.x + dx,
            y: c.y + dy,
        })
        .collect();
    let site_polygon = Polygon::new(LineString(ring), vec![]);
    let site = Geometry::Polygon(site_polygon.clone());
    let site_mp = MultiPolygon(vec![site_polygon]);
    let site_area = site.unsigned_area();
    let body = geojson_text(&site);
    for (layer_id, group) in [
        ("productive_areas", "kind"),
        ("agricultural_areas", "class"),
        ("municipalities", "name"),
    ] {
        let l = layer(layer_id);
        assert!(l.field_index(group).is_some(), "{layer_id}.{group}");
        let a = post(
            &format!("/analysis/overlay?layer={layer_id}&group_by={group}&subject-crs=EPSG:32632"),
            "application/geo+json",
            &body,
        )
        .await;
        let fc = a.geojson(CRS84_URI);
        assert_area(num(&fc["site"]["area_m2"]), site_area, "site");
        // Brute force: every valid polygon of the layer, intersected with the site.
        let mut expected: BTreeMap<String, (f64, f64, String)> = BTreeMap::new();
        for f in &l.features {
            let Some(mp) = polygons(&f.geometry) else {
                continue;
            };
            if f.invalid.is_some() {
                continue;
            }
            let area = intersection_area(&site_mp, &mp);
            if area > 1e-6 * site_area {
                expected.insert(
                    f.id.to_string(),
                    (
                        area,
                        mp.unsigned_area(),
                        l.value(f, group).unwrap().as_key(),
                    ),
                );
            }
        }
        assert!(
            !expected.is_empty(),
            "{layer_id}: the site should overlap something"
        );
        let got = by_id(&fc);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{layer_id}"
        );
        let mut groups: BTreeMap<String, (usize, f64)> = BTreeMap::new();
        for (id, (area, feature_area, key)) in &expected {
            let p = &got[id];
            assert_area(num(&p["overlap_area_m2"]), *area, id);
            let share = num(&p["share_of_site"]);
            assert!((share - area / site_area).abs() <= 1e-6, "{id} {share}");
            let share = num(&p["share_of_feature"]);
            assert!(
                (share - (area / feature_area).min(1.0)).abs() <= 1e-6,
                "{id} {share}"
            );
            let g = groups.entry(key.clone()).or_default();
            g.0 += 1;
            g.1 += area;
        }
        let summary = fc["summary"].as_array().unwrap();
        assert_eq!(summary.len(), groups.len(), "{layer_id}");
        for row in summary {
            let (count, area) = groups[row["key"].as_str().unwrap()];
            assert_eq!(row["count"], count);
            assert_area(num(&row["overlap_area_m2"]), area, "group");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// locate

#[tokio::test]
async fn locate_finds_what_a_full_scan_finds_in_every_layer() {
    let cat = catalog();
    let p012 = feature("projects", "P012");
    let c = to_working(9.686, 45.364);
    let square = Geometry::Polygon(
        Rect::new((c.x - 1500., c.y - 1500.), (c.x + 1500., c.y + 1500.)).to_polygon(),
    );
    for (uri, body, subject) in [
        (
            "/analysis/locate?project=P012".to_string(),
            None,
            p012.geometry.clone(),
        ),
        (
            "/analysis/locate?subject-crs=EPSG:32632".to_string(),
            Some(geojson_text(&square)),
            square.clone(),
        ),
    ] {
        let a = match &body {
            None => get(&uri).await,
            Some(b) => post(&uri, "application/geo+json", b).await,
        };
        let fc = a.geojson(CRS84_URI);
        let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
        let mut per_layer: BTreeMap<String, usize> = BTreeMap::new();
        for l in cat.layers() {
            for f in &l.features {
                if f.geometry.intersects(&subject) {
                    expected.insert((l.id().to_string(), f.id.to_string()));
                    *per_layer.entry(l.id().to_string()).or_default() += 1;
                }
            }
        }
        let got: BTreeSet<(String, String)> = features(&fc)
            .iter()
            .map(|f| {
                (
                    f["properties"]["_layer"].as_str().unwrap().to_string(),
                    id_of(f),
                )
            })
            .collect();
        assert_eq!(got, expected, "{uri}");
        assert_eq!(got.len(), features(&fc).len(), "each feature once");
        // _system is the layer's system; `systems` counts per layer.
        for f in features(&fc) {
            let l = cat
                .layer(f["properties"]["_layer"].as_str().unwrap())
                .unwrap();
            assert_eq!(f["properties"]["_system"], l.config.system.name());
        }
        let mut counted: BTreeMap<String, usize> = BTreeMap::new();
        for (system, list) in fc["systems"].as_object().unwrap() {
            for entry in list.as_array().unwrap() {
                let l = cat.layer(entry["layer"].as_str().unwrap()).unwrap();
                assert_eq!(l.config.system.name(), system);
                assert_eq!(entry["title"], l.config.title.as_str());
                counted.insert(
                    l.id().to_string(),
                    entry["count"].as_u64().unwrap() as usize,
                );
            }
        }
        assert_eq!(counted, per_layer);
    }
    // P012 lies in a municipality, a productive area and the projects layer at least.
    let fc = get("/analysis/locate?project=P012")
        .await
        .geojson(CRS84_URI);
    let systems = fc["systems"].as_object().unwrap();
    assert!(systems.contains_key("settlement") && systems.contains_key("projects"));
    // Restricted to two layers.
    let fc = get("/analysis/locate?project=P012&layers=municipalities,parks")
        .await
        .geojson(CRS84_URI);
    let layers: BTreeSet<String> = features(&fc)
        .iter()
        .map(|f| f["properties"]["_layer"].as_str().unwrap().to_string())
        .collect();
    assert!(layers.is_subset(&BTreeSet::from(["municipalities".into(), "parks".into()])));
    assert!(layers.contains("municipalities"));
    assert_problem(
        &get("/analysis/locate?project=P012&layers=municipalities,parchi").await,
        StatusCode::NOT_FOUND,
        "parchi",
    );
}

// ---------------------------------------------------------------------------------------------
// site reports

fn cli(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_territorio"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test]
async fn project_report_is_the_cli_document_and_agrees_with_brute_force() {
    let a = get("/projects/P012/report").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/json");
    let report = a.json();
    let path = catalog_path();
    let from_cli: Json = serde_json::from_slice(&cli(&[
        "report",
        "P012",
        "--catalog",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(report, from_cli);

    // Brute force: where P012 lies.
    let p012 = &feature("projects", "P012").geometry;
    let municipalities: Vec<String> = layer("municipalities")
        .features
        .iter()
        .filter(|f| f.geometry.intersects(p012))
        .map(|f| f.id.to_string())
        .collect();
    let got: Vec<String> = report["municipalities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, municipalities);
    let pa = layer("productive_areas");
    let containing: Vec<&Feature> = pa
        .features
        .iter()
        .filter(|f| f.geometry.contains(p012))
        .collect();
    assert_eq!(containing.len(), 1, "P012 lies in one productive area");
    let area = &report["settlement"]["productive_areas"][0];
    assert_eq!(area["id"], containing[0].id.to_string().as_str());
    assert_eq!(area["contains_project"], true);
    assert_eq!(
        area["sovracomunale"],
        pa.value(containing[0], "sovracomunale").unwrap().to_json()
    );
    assert_eq!(
        area["name"],
        pa.value(containing[0], "name").unwrap().to_json()
    );
    let hospital = &brute_distances(layer("hospitals"), p012)[0];
    let got = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["what"] == "hospital")
        .unwrap();
    assert_eq!(got["nearest"]["id"], hospital.0.as_str());
    assert_distance(num(&got["nearest"]["distance_m"]), hospital.1, "hospital");
    let summary = report["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 5);

    // The agri-food radius is a parameter.
    let wide = get("/projects/P012/report?agrifood_radius=20000")
        .await
        .json();
    let sites = |r: &Json| r["rural"]["agrifood_sites"].as_array().unwrap().len();
    let expected = brute_distances(layer("agrifood_sites"), p012)
        .iter()
        .filter(|(_, d)| *d <= 20_000.0)
        .count();
    assert_eq!(sites(&wide), expected);
    assert!(sites(&wide) > sites(&report));

    // HTML for browsers.
    let a = send(
        state(),
        Request::get("/projects/P012/report")
            .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type(), "text/html; charset=utf-8");
    let page = a.text();
    assert!(page.contains("P012") && page.contains("<svg"), "{page}");
    let first_line = summary[0]["text"].as_str().unwrap();
    assert!(
        page.contains(&first_line.replace('\'', "&#39;")),
        "{first_line}"
    );

    assert_problem(
        &get("/projects/P999/report").await,
        StatusCode::NOT_FOUND,
        "P999",
    );
    assert_problem(
        &get("/projects/P012/report?agrifood_radius=-3").await,
        StatusCode::BAD_REQUEST,
        "agrifood_radius",
    );
    assert_problem(
        &get("/projects/P012/report?crs=EPSG:3003").await,
        StatusCode::BAD_REQUEST,
        "crs",
    );
    assert_problem(
        &get("/projects/P012/report?radius=3").await,
        StatusCode::BAD_REQUEST,
        "radius",
    );
}

#[tokio::test]
async fn project_report_as_geojson_lists_every_related_feature() {
    let cat = catalog();
    let fc = get("/projects/P012/report?f=geojson")
        .await
        .geojson(CRS84_URI);
    let list = features(&fc);
    let key = |f: &Json| {
        (
            f["properties"]["_layer"].as_str().unwrap().to_string(),
            id_of(f),
        )
    };
    let unique: BTreeSet<(String, String)> = list.iter().map(key).collect();
    assert_eq!(unique.len(), list.len(), "each feature once");
    assert_eq!(key(&list[0]), ("projects".into(), "P012".into()));
    assert_eq!(list[0]["properties"]["_relation"], "project");
    let relation = |layer: &str, id: &str| {
        list.iter()
            .find(|f| key(f) == (layer.to_string(), id.to_string()))
            .map(|f| f["properties"].clone())
    };
    for f in list {
        let p = &f["properties"];
        let l = cat.layer(p["_layer"].as_str().unwrap()).unwrap();
        assert_eq!(p["_system"], l.config.system.name());
        let r = p["_relation"].as_str().unwrap();
        assert!(
            ["project", "intersects", "nearest", "within"].contains(&r),
            "{r}"
        );
        assert_eq!(
            p["distance_m"].is_number(),
            r == "nearest" || r == "within",
            "{p}"
        );
        // Each feature carries its own properties.
        for field in &l.fields {
            assert!(p.get(&field.name).is_some(), "{} {}", l.id(), field.name);
        }
    }
    let p012 = &feature("projects", "P012").geometry;
    // Every municipality and constraint P012 intersects, by brute force, is there.
    for layer_id in [
        "municipalities",
        "productive_areas",
        "parks",
        "fluvial_belts",
    ] {
        for f in &layer(layer_id).features {
            if f.geometry.intersects(p012) {
                let p = relation(layer_id, &f.id.to_string())
                    .unwrap_or_else(|| panic!("{layer_id} {} missing", f.id));
                assert_eq!(p["_relation"], "intersects");
            }
        }
    }
    // The nearest station, junction, hospital and nursing home, by brute force.
    for layer_id in [
        "stations",
        "motorway_junctions",
        "hospitals",
        "nursing_homes",
    ] {
        let (id, d) = &brute_distances(layer(layer_id), p012)[0];
        let p = relation(layer_id, id).unwrap_or_else(|| panic!("nearest {layer_id} {id}"));
        assert_eq!(p["_relation"], "nearest");
        assert_distance(num(&p["distance_m"]), *d, layer_id);
    }
    // In EPSG:3003.
    let a = get("/projects/P012/report?f=geojson&crs=EPSG:3003").await;
    let fc = a.geojson("http://www.opengis.net/def/crs/EPSG/0/3003");
    let x = num(&features(&fc)[0]["geometry"]["coordinates"][0]);
    assert!((1_500_000.0..1_700_000.0).contains(&x), "{x}");
}

#[tokio::test]
async fn any_site_gets_a_report() {
    // A polygon project's geometry sent as a drawn site: the same report but for `project`.
    let projects = layer("projects");
    let polygon = projects
        .features
        .iter()
        .find(|f| matches!(f.geometry, Geometry::Polygon(_)) && f.invalid.is_none())
        .unwrap();
    let id = polygon.id.to_string();
    let by_project = get(&format!("/projects/{id}/report")).await.json();
    let a = post(
        "/analysis/report?subject-crs=EPSG:32632",
        "application/geo+json",
        &geojson_text(&polygon.geometry),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let by_site = a.json();
    for member in [
        "municipalities",
        "settlement",
        "environmental",
        "rural",
        "infrastructure",
        "services",
    ] {
        assert_eq!(by_site[member], by_project[member], "{member}");
    }
    assert_eq!(by_site["project"]["id"], Json::Null);
    assert_eq!(by_site["project"]["layer"], Json::Null);
    assert_eq!(
        by_site["project"]["area_m2"],
        by_project["project"]["area_m2"]
    );

    // project=ID: the project's own report.
    let a = get(&format!("/analysis/report?project={id}")).await.json();
    assert_eq!(a, by_project);

    // A box drawn in CRS84: municipality shares by brute force.
    let a = get("/analysis/report?bbox=9.66,45.35,9.71,45.38").await;
    let r = a.json();
    let t = Transformer::new(CRS84, WORKING).unwrap();
    let outline = t
        .transformed(&Geometry::Polygon(
            Rect::new((9.66, 45.35), (9.71, 45.38)).to_polygon(),
        ))
        .unwrap();
    let site_area = num(&r["project"]["area_m2"]);
    // The server densifies the edges: the 4-corner outline differs by a sliver only.
    assert!((site_area - outline.unsigned_area()).abs() < 1e-3 * site_area);
    let mut total_share = 0.0;
    for m in r["municipalities"].as_array().unwrap() {
        let f = feature("municipalities", m["id"].as_str().unwrap());
        assert!(f.geometry.intersects(&outline));
        total_share += num(&m["share"]);
    }
    assert!((total_share - 1.0).abs() < 1e-6, "{total_share}");

    // As GeoJSON: the site first, then the features.
    let fc = get("/analysis/report?bbox=9.66,45.35,9.71,45.38&f=geojson")
        .await
        .geojson(CRS84_URI);
    assert_eq!(features(&fc)[0]["properties"]["_relation"], "site");
    assert!(features(&fc).len() > 3);
    // HTML.
    let a = get("/analysis/report?bbox=9.66,45.35,9.71,45.38&f=html").await;
    assert_eq!(a.content_type(), "text/html; charset=utf-8");
    assert!(a.text().contains("site (Polygon"));
    // HTML of a site sent as a body: no GET links to it.
    let a = post(
        "/analysis/report?f=html",
        "application/geo+json",
        r#"{"type":"Polygon","coordinates":[[[9.66,45.35],[9.71,45.35],[9.71,45.38],[9.66,45.35]]]}"#,
    )
    .await;
    assert_eq!(a.content_type(), "text/html; charset=utf-8");
    assert!(a.text().contains("POST") && !a.text().contains("f=geojson"));
    // An invalid site.
    let a = get("/analysis/report?geometry=POLYGON((9.7%2045.3,9.71%2045.31,9.71%2045.3,9.7%2045.31,9.7%2045.3))").await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "self-intersect");
}

// ---------------------------------------------------------------------------------------------
// indicators

#[tokio::test]
async fn indicators_in_json_csv_geojson_and_html_computed_once() {
    let st = state();
    assert!(st.indicator_cache().get().is_none());
    let req = |uri: &str, accept: Option<&str>| {
        let mut b = Request::get(uri).header(header::HOST, "test.local");
        if let Some(a) = accept {
            b = b.header(header::ACCEPT, a);
        }
        b.body(Body::empty()).unwrap()
    };
    let a = send(st.clone(), req("/indicators", None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/json");
    assert!(st.indicator_cache().get().is_some(), "computed and kept");
    let mut doc = a.json();
    let links = doc.as_object_mut().unwrap().remove("links").unwrap();
    assert!(links
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "describedby"
            && l["href"] == "http://test.local/indicators/definitions"));
    let path = catalog_path();
    let catalog_arg = path.to_str().unwrap();
    let from_cli: Json = serde_json::from_slice(&cli(&[
        "indicators",
        "--catalog",
        catalog_arg,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(doc, from_cli);
    // The same bytes again, from the cache.
    let again = send(st.clone(), req("/indicators", None)).await;
    assert_eq!(again.body, a.body);

    let csv = send(st.clone(), req("/indicators?f=csv", None)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.content_type(), "text/csv; charset=utf-8");
    let from_cli = cli(&["indicators", "--catalog", catalog_arg, "--format", "csv"]);
    assert_eq!(csv.text(), String::from_utf8(from_cli).unwrap());
    let by_accept = send(st.clone(), req("/indicators", Some("text/csv"))).await;
    assert_eq!(by_accept.body, csv.body);

    // Every indicator id in the CSV is defined.
    let defs = send(st.clone(), req("/indicators/definitions", None)).await;
    assert_eq!(defs.content_type(), "application/json");
    let defs = defs.json();
    let mut defined = BTreeSet::new();
    for d in defs.as_array().unwrap() {
        for key in ["id", "title", "unit", "definition"] {
            assert!(!d[key].as_str().unwrap_or("").is_empty(), "{key} of {d}");
        }
        assert!(defined.insert(d["id"].as_str().unwrap().to_string()), "{d}");
    }
    for line in csv.text().lines().skip(1) {
        let id = line.split(',').next().unwrap();
        assert!(defined.contains(id), "{id}");
    }

    // GeoJSON: every municipality, with its residents as the layer has them.
    let fc = send(st.clone(), req("/indicators?f=geojson", None))
        .await
        .geojson(CRS84_URI);
    let municipalities = layer("municipalities");
    assert_eq!(features(&fc).len(), municipalities.features.len());
    let mut total = 0.0;
    for (f, m) in features(&fc).iter().zip(&municipalities.features) {
        assert_eq!(id_of(f), m.id.to_string());
        let residents = municipalities.value(m, "population").unwrap().to_json();
        assert_eq!(num(&f["properties"]["residents"]), num(&residents));
        total += num(&f["properties"]["projects"]);
        for key in [
            "hospital_distance_m",
            "nursing_home_distance_m",
            "land_take_m2",
            "budget_total_eur",
        ] {
            assert!(f["properties"].get(key).is_some(), "{key}");
        }
    }
    // Every project has one principal municipality.
    assert_eq!(total as usize, layer("projects").features.len());
    // The definitions name the property that carries each indicator per municipality.
    let named: Vec<&str> = defs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["property"].as_str())
        .collect();
    assert!(named.contains(&"residents") && named.contains(&"land_take_m2"));
    for f in features(&fc) {
        for p in &named {
            assert!(f["properties"].get(*p).is_some(), "{p} in {}", id_of(f));
        }
    }
    let in_3003 = send(st.clone(), req("/indicators?f=geojson&crs=EPSG:3003", None))
        .await
        .geojson("http://www.opengis.net/def/crs/EPSG/0/3003");
    assert_eq!(features(&in_3003).len(), municipalities.features.len());

    let page = send(st.clone(), req("/indicators", Some("text/html,*/*;q=0.8"))).await;
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    assert!(page.text().contains("progress.budget_total"));
    let page = send(st.clone(), req("/indicators/definitions?f=html", None)).await;
    assert_eq!(page.content_type(), "text/html; charset=utf-8");

    assert_problem(
        &send(st.clone(), req("/indicators?f=xml", None)).await,
        StatusCode::BAD_REQUEST,
        "\"xml\"",
    );
    assert_problem(
        &send(st.clone(), req("/indicators?crs=EPSG:3003", None)).await,
        StatusCode::BAD_REQUEST,
        "parameter crs",
    );
    assert_problem(
        &send(st.clone(), req("/indicators?axis=1", None)).await,
        StatusCode::BAD_REQUEST,
        "axis",
    );
    assert_problem(
        &send(st, req("/indicators", Some("image/png"))).await,
        StatusCode::NOT_ACCEPTABLE,
        "image/png",
    );
}

// ---------------------------------------------------------------------------------------------
// errors

#[tokio::test]
async fn bad_requests_are_problem_documents_naming_the_cause() {
    use StatusCode as S;
    for (uri, status, needle) in [
        ("/analysis/nearest?layer=parchi&point=9.7,45.3", S::NOT_FOUND, "parchi"),
        ("/analysis/nearest?point=9.7,45.3", S::BAD_REQUEST, "parameter layer"),
        ("/analysis/nearest?layer=parks&project=P999", S::NOT_FOUND, "P999"),
        ("/analysis/nearest?layer=parks&feature=parks/Nessuno", S::NOT_FOUND, "Nessuno"),
        ("/analysis/nearest?layer=parks&feature=parchi/X", S::NOT_FOUND, "parchi"),
        ("/analysis/nearest?layer=parks&feature=parks", S::BAD_REQUEST, "parameter feature"),
        ("/analysis/overlay?layer=parks&geometry=", S::BAD_REQUEST, "parameter geometry"),
        ("/analysis/overlay?layer=parks&geometry=POLYGON((9.7%2045.3,9.71%2045.31,9.71%2045.3,9.7%2045.31,9.7%2045.3))", S::UNPROCESSABLE_ENTITY, "self-intersects"),
        ("/analysis/overlay?layer=parks&geometry=POLYGON((9.7", S::BAD_REQUEST, "parameter geometry"),
        ("/analysis/nearest?layer=parks&point=20.5,45.3", S::UNPROCESSABLE_ENTITY, "area of use"),
        ("/analysis/nearest?layer=parks&point=1581030,4997935", S::UNPROCESSABLE_ENTITY, "look like metres"),
        ("/analysis/nearest?layer=parks&point=9.7;45.3", S::BAD_REQUEST, "parameter point"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3,1", S::BAD_REQUEST, "parameter point"),
        ("/analysis/nearest?layer=parks&bbox=9.8,45.3,9.7,45.4", S::BAD_REQUEST, "parameter bbox"),
        ("/analysis/within?layer=parks&point=9.7,45.3&distance=-1", S::BAD_REQUEST, "parameter distance"),
        ("/analysis/within?layer=parks&point=9.7,45.3&distance=NaN", S::BAD_REQUEST, "parameter distance"),
        ("/analysis/within?layer=parks&point=9.7,45.3&distance=inf", S::BAD_REQUEST, "parameter distance"),
        ("/analysis/within?layer=parks&point=9.7,45.3&distance=200001", S::BAD_REQUEST, "parameter distance"),
        ("/analysis/within?layer=parks&point=9.7,45.3&distance=5km", S::BAD_REQUEST, "parameter distance"),
        ("/analysis/within?layer=parks&point=9.7,45.3", S::BAD_REQUEST, "parameter distance"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&k=0", S::BAD_REQUEST, "parameter k"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&k=1001", S::BAD_REQUEST, "parameter k"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&k=-2", S::BAD_REQUEST, "parameter k"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&radius=3", S::BAD_REQUEST, "\"radius\""),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&k=2&k=3", S::BAD_REQUEST, "more than once"),
        ("/analysis/nearest?layer=parks", S::BAD_REQUEST, "no subject"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&project=P012", S::BAD_REQUEST, "give one"),
        ("/analysis/overlay?layer=parks&point=9.7,45.3&group_by=colour", S::BAD_REQUEST, "parameter group_by"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&crs=EPSG:2154", S::BAD_REQUEST, "parameter crs"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&subject-crs=EPSG:2154", S::BAD_REQUEST, "parameter subject-crs"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&bbox-crs=EPSG:4326", S::BAD_REQUEST, "bbox-crs"),
        ("/analysis/nearest?layer=parks&project=P012&subject-crs=EPSG:4326", S::BAD_REQUEST, "subject-crs"),
        ("/analysis/nearest?layer=parks&point=9.7,45.3&f=html", S::BAD_REQUEST, "parameter f"),
        ("/analysis/locate?point=9.7,45.3&layers=parks,parchi", S::NOT_FOUND, "parameter layers"),
        ("/analysis/report?point=9.7,45.3&agrifood_radius=300000", S::BAD_REQUEST, "agrifood_radius"),
    ] {
        let a = get(uri).await;
        assert_problem(&a, status, needle);
    }

    // POST bodies.
    let point = r#"{"type":"Point","coordinates":[9.7,45.3]}"#;
    for (uri, content_type, body, status, needle) in [
        (
            "/analysis/locate",
            "text/plain",
            point,
            S::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            "/analysis/locate",
            "application/geo+json",
            r#"{"type":"Point","coordinates":[9.7,"#,
            S::BAD_REQUEST,
            "malformed GeoJSON",
        ),
        (
            "/analysis/locate",
            "application/geo+json",
            "POINT(9.7 45.3)",
            S::BAD_REQUEST,
            "body",
        ),
        (
            "/analysis/locate",
            "application/geo+json",
            "  ",
            S::BAD_REQUEST,
            "empty",
        ),
        (
            "/analysis/locate",
            "application/geo+json",
            r#"{"type":"Polygon","coordinates":[[[9.7,45.3],[9.71,45.3],[9.71,45.31]]]}"#,
            S::UNPROCESSABLE_ENTITY,
            "ring",
        ),
        (
            "/analysis/locate",
            "application/geo+json",
            r#"{"type":"Polygon","coordinates":[[[9.7,45.3],[9.71,45.31],[9.71,45.3],[9.7,45.31],[9.7,45.3]]]}"#,
            S::UNPROCESSABLE_ENTITY,
            "self-intersects",
        ),
        (
            "/analysis/locate",
            "application/geo+json",
            r#"{"type":"Point","coordinates":[25.0,45.3]}"#,
            S::UNPROCESSABLE_ENTITY,
            "area of use",
        ),
        (
            "/analysis/locate?point=9.7,45.3",
            "application/geo+json",
            point,
            S::BAD_REQUEST,
            "POST body",
        ),
        (
            "/analysis/nearest?layer=nope",
            "application/geo+json",
            point,
            S::NOT_FOUND,
            "nope",
        ),
    ] {
        let a = post(uri, content_type, body).await;
        assert_problem(&a, status, needle);
    }
    // A body above the limit: 413, as a problem document.
    let small = AppState::new(
        catalog(),
        ServerConfig {
            max_body_bytes: 1024,
            ..ServerConfig::default()
        },
    );
    let big = format!(
        r#"{{"type":"Feature","properties":{{"note":"{}"}},"geometry":{point}}}"#,
        "x".repeat(2000)
    );
    let a = post_to(
        small.clone(),
        "/analysis/locate",
        "application/geo+json",
        &big,
    )
    .await;
    assert_problem(&a, StatusCode::PAYLOAD_TOO_LARGE, "1024 bytes");
    // Under the limit, the same server answers.
    let a = post_to(small, "/analysis/locate", "application/geo+json", point).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // A method the endpoints do not have.
    let a = send(
        state(),
        Request::delete("/analysis/nearest")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_problem(&a, StatusCode::METHOD_NOT_ALLOWED, "DELETE");
}

// ---------------------------------------------------------------------------------------------
// the API definition and the landing page

#[tokio::test]
async fn openapi_and_landing_page_describe_the_new_resources() {
    let doc = get("/api").await.json();
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods, params) in [
        (
            "/analysis/nearest",
            vec!["get", "post"],
            vec![
                "layer",
                "k",
                "crs",
                "subject-crs",
                "project",
                "point",
                "bbox",
                "geometry",
                "feature",
            ],
        ),
        (
            "/analysis/within",
            vec!["get", "post"],
            vec!["layer", "distance", "crs", "subject-crs"],
        ),
        (
            "/analysis/overlay",
            vec!["get", "post"],
            vec!["layer", "group_by", "crs", "subject-crs"],
        ),
        (
            "/analysis/locate",
            vec!["get", "post"],
            vec!["layers", "crs", "subject-crs", "bbox-crs"],
        ),
        (
            "/analysis/report",
            vec!["get", "post"],
            vec!["agrifood_radius", "f", "subject-crs"],
        ),
        (
            "/projects/{projectId}/report",
            vec!["get"],
            vec!["projectId", "f", "crs", "agrifood_radius"],
        ),
        ("/indicators", vec!["get"], vec!["f", "crs"]),
        ("/indicators/definitions", vec!["get"], vec!["f"]),
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the API"));
        for m in &methods {
            let op = &item[m];
            assert!(op["operationId"].is_string(), "{path} {m}");
            let names: Vec<String> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| match p.get("$ref").and_then(|r| r.as_str()) {
                    Some(r) => {
                        let name = r.rsplit('/').next().unwrap();
                        doc["components"]["parameters"][name]["name"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    }
                    None => p["name"].as_str().unwrap().to_string(),
                })
                .collect();
            for p in &params {
                // The POST variants take the subject from the body, and so have no bbox whose
                // CRS bbox-crs could name.
                if *m == "post"
                    && [
                        "project", "point", "bbox", "geometry", "feature", "bbox-crs",
                    ]
                    .contains(p)
                {
                    assert!(!names.iter().any(|n| n == p), "{path} post {p}");
                    continue;
                }
                assert!(names.iter().any(|n| n == p), "{path} {m} lacks {p}");
            }
            if *m == "post" {
                assert!(op["requestBody"]["content"]["application/geo+json"].is_object());
            }
        }
    }
    let landing = get("/").await.json();
    let links = landing["links"].as_array().unwrap();
    let href = |rel: &str, path: &str| {
        links.iter().any(|l| {
            l["rel"] == rel
                && l["href"] == format!("http://test.local{path}")
                && l["title"].is_string()
        })
    };
    assert!(href("related", "/indicators"));
    assert!(href("describedby", "/indicators/definitions"));
    assert!(links
        .iter()
        .any(|l| l["rel"] == "describedby"
            && l["title"].as_str().unwrap().contains("/analysis/nearest")));
}

// ---------------------------------------------------------------------------------------------
// a real client

/// The base URL of a server started once for this test binary, on a free port.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| start_server(catalog()))
}

fn ogr2ogr_stdout(url: &str) -> Json {
    let out = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "/vsistdout/", url])
        .env("GDAL_HTTP_MAX_RETRY", "0")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .expect("ogr2ogr is installed by scripts/install-deps");
    assert!(
        out.status.success(),
        "ogr2ogr {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_analysis_url_is_a_gdal_layer() {
    let base = server();
    let fc = ogr2ogr_stdout(&format!(
        "{base}/analysis/nearest?layer=hospitals&k=3&project=P012"
    ));
    let got: Vec<(String, f64)> = features(&fc)
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                num(&f["properties"]["distance_m"]),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{fc}");
    let expected = brute_distances(layer("hospitals"), &feature("projects", "P012").geometry);
    for ((id, d), (want_id, want_d)) in got.iter().zip(&expected) {
        assert_eq!(id, want_id);
        assert_distance(*d, *want_d, id);
    }
    // The report's features and the indicator choropleth read as layers too.
    let fc = ogr2ogr_stdout(&format!("{base}/projects/P012/report?f=geojson"));
    assert_eq!(features(&fc)[0]["properties"]["_relation"], "project");
    let fc = ogr2ogr_stdout(&format!("{base}/indicators?f=geojson"));
    assert_eq!(features(&fc).len(), layer("municipalities").features.len());
}

// ---------------------------------------------------------------------------------------------
// join

/// Every (project, municipality name) pair whose geometries intersect, by a full scan with geo's
/// predicate (no index, no join code).
fn brute_join_pairs() -> BTreeMap<(String, String), usize> {
    let projects = layer("projects");
    let municipalities = layer("municipalities");
    let name = municipalities.field_index("name").unwrap();
    let mut pairs = BTreeMap::new();
    for p in &projects.features {
        for m in &municipalities.features {
            if p.geometry.intersects(&m.geometry) {
                let key = (
                    p.id.to_string(),
                    m.values[name].to_json().as_str().unwrap().to_string(),
                );
                *pairs.entry(key).or_insert(0) += 1;
            }
        }
    }
    pairs
}

#[tokio::test]
async fn join_attributes_by_location_agrees_with_a_full_scan() {
    let expected = brute_join_pairs();
    // Every project meets at least one municipality, and some meet several.
    assert!(expected.len() > layer("projects").features.len());
    let fc = get("/analysis/join?target=projects&join=municipalities&fields=name")
        .await
        .geojson(CRS84_URI);
    assert_eq!(fc["joined_fields"], json!(["municipalities_name"]));
    let mut got = BTreeMap::new();
    for f in features(&fc) {
        let name = f["properties"]["municipalities_name"]
            .as_str()
            .unwrap()
            .to_string();
        // The target's own properties come along.
        assert!(f["properties"]["title"].is_string(), "{f}");
        *got.entry((id_of(f), name)).or_insert(0) += 1;
    }
    assert_eq!(got, expected);
    // CSV: the same rows, one line each after the header.
    let csv = get("/analysis/join?target=projects&join=municipalities&fields=name&f=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"));
    let text = csv.text();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("fid,") && header.ends_with(",municipalities_name"),
        "{header}"
    );
    assert_eq!(lines.count(), expected.values().sum::<usize>());
    // largest: one row per project, the municipality holding the largest part of it, which
    // for a point project is the one it lies in.
    let largest =
        get("/analysis/join?target=projects&join=municipalities&fields=name&mode=largest")
            .await
            .geojson(CRS84_URI);
    assert_eq!(features(&largest).len(), layer("projects").features.len());
    for f in features(&largest) {
        let pair = (
            id_of(f),
            f["properties"]["municipalities_name"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        assert!(
            expected.contains_key(&pair),
            "{pair:?} is not an intersecting pair"
        );
    }
}

#[tokio::test]
async fn join_errors_name_the_cause() {
    use StatusCode as S;
    for (uri, status, needle) in [
        (
            "/analysis/join?join=municipalities",
            S::BAD_REQUEST,
            "parameter target",
        ),
        (
            "/analysis/join?target=projects&join=comuni",
            S::NOT_FOUND,
            "comuni",
        ),
        (
            "/analysis/join?target=projects&join=municipalities&predicate=touches",
            S::BAD_REQUEST,
            "predicate",
        ),
        (
            "/analysis/join?target=projects&join=municipalities&mode=best",
            S::BAD_REQUEST,
            "mode",
        ),
        (
            "/analysis/join?target=projects&join=municipalities&fields=nome",
            S::BAD_REQUEST,
            "nome",
        ),
        (
            "/analysis/join?target=projects&join=municipalities&f=csv&crs=EPSG:3003",
            S::BAD_REQUEST,
            "crs",
        ),
        (
            "/analysis/join?target=projects&join=municipalities&join=parks",
            S::BAD_REQUEST,
            "more than once",
        ),
    ] {
        assert_problem(&get(uri).await, status, needle);
    }
}
