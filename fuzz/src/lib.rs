//! What the fuzz targets share: one small in-memory layer (a field of every type, a geometry of
//! every kind, an invalid feature and features with nulls), the same layer served by the real
//! router, and the invariants the targets check beyond "no panic".
//!
//! Every invariant is an `assert!`: libFuzzer reports a failed one as a crash, with the input.

use std::sync::{Arc, OnceLock};

use geo::{line_string, point, polygon, Geometry, MultiPoint, Polygon};
use territorio::catalog::{CatalogConfig, LayerConfig, RoleTable, System};
use territorio::feature::{Feature, FeatureId, Field, FieldType, Value};
use territorio::filter::{Filter, FilterError, FilterLang};
use territorio::store::{Catalog, Layer};

/// The working CRS of the fuzzed layer and catalogue (metres).
pub const WORKING_CRS: &str = "EPSG:32632";
/// The default `filter-crs`, `subject-crs` and `bbox-crs`.
pub const CRS84: &str = territorio::crs::CRS84;
/// The id of the one layer.
pub const LAYER_ID: &str = "towns";

fn square(x: f64, y: f64, side: f64) -> Polygon<f64> {
    polygon![
        (x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side)
    ]
}

fn build_layer() -> Layer {
    let field = |name: &str, ty| Field {
        name: name.into(),
        ty,
    };
    let fields = vec![
        field("name", FieldType::String),
        field("population", FieldType::Int),
        field("area_ha", FieldType::Real),
        field("capital", FieldType::Bool),
        field("founded", FieldType::Date),
        field("updated", FieldType::DateTime),
        field("note", FieldType::String),
    ];
    // UTM 32N near Cremona (about 10.0°E, 45.1°N).
    let (x, y) = (580_000.0, 4_998_000.0);
    let s = |v: &str| Value::String(v.into());
    let mut holed = square(x + 4000.0, y, 1000.0);
    holed.interiors_push(square(x + 4250.0, y + 250.0, 500.0).exterior().clone());
    let rows: Vec<(&str, Geometry<f64>, Vec<Value>)> = vec![
        (
            "CR",
            Geometry::Polygon(square(x, y, 1000.0)),
            vec![
                s("Cremona"),
                Value::Int(71_000),
                Value::Real(7_000.5),
                Value::Bool(true),
                Value::Date("1098-05-01".into()),
                Value::DateTime("2026-01-01T10:00:00+01:00".into()),
                s("100% city_centre"),
            ],
        ),
        (
            "CM",
            Geometry::Polygon(holed),
            vec![
                s("Crema"),
                Value::Int(34_000),
                Value::Real(4_600.0),
                Value::Bool(false),
                Value::Date("1185-01-01".into()),
                Value::DateTime("2026-01-01T09:30:00Z".into()),
                Value::Null,
            ],
        ),
        (
            "CA",
            Geometry::Point(point!(x: x + 500.0, y: y + 500.0)),
            vec![
                s("CASALMAGGIORE"),
                Value::Null,
                Value::Real(-6_400.25),
                Value::Bool(false),
                Value::Null,
                Value::Null,
                s("l'Oglio \"quoted\" \\ slash"),
            ],
        ),
        (
            "PO",
            Geometry::LineString(line_string![
                (x: x - 500.0, y: y - 500.0), (x: x + 1500.0, y: y + 300.0), (x: x + 5500.0, y: y + 900.0)
            ]),
            vec![
                s("Po"),
                Value::Int(0),
                Value::Real(0.0),
                Value::Bool(true),
                Value::Date("2000-02-29".into()),
                Value::DateTime("2026-03-01T00:00:00.5-02:00".into()),
                s(""),
            ],
        ),
        (
            "MP",
            Geometry::MultiPoint(MultiPoint(vec![
                point!(x: x + 2000.0, y: y + 2000.0),
                point!(x: x + 2500.0, y: y + 2000.0),
            ])),
            vec![
                s("Pizzighettone"),
                Value::Int(-5),
                Value::Null,
                Value::Null,
                Value::Date("1970-01-01".into()),
                Value::DateTime("1969-12-31T23:59:59Z".into()),
                s("à è ì ò ù ß"),
            ],
        ),
        (
            "SO",
            // A bow-tie: flagged invalid when the layer is built.
            Geometry::Polygon(polygon![
                (x: x, y: y + 3000.0), (x: x + 1000.0, y: y + 4000.0),
                (x: x + 1000.0, y: y + 3000.0), (x: x, y: y + 4000.0)
            ]),
            vec![
                s("Soresina"),
                Value::Int(9_000),
                Value::Real(2_800.0),
                Value::Bool(false),
                Value::Date("1200-06-30".into()),
                Value::Null,
                Value::Null,
            ],
        ),
    ];
    let features = rows
        .into_iter()
        .map(|(id, geometry, values)| Feature {
            id: FeatureId::Str(id.into()),
            geometry,
            values: values.into(),
            invalid: None,
        })
        .collect();
    Layer::new(
        layer_config(),
        WORKING_CRS.into(),
        "memory".into(),
        fields,
        features,
    )
    .expect("the fuzz layer is valid")
}

fn layer_config() -> LayerConfig {
    LayerConfig {
        id: LAYER_ID.into(),
        title: "Towns".into(),
        description: "The fuzz targets' layer".into(),
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
    }
}

/// The layer, built once per process.
pub fn layer() -> &'static Layer {
    static LAYER: OnceLock<Layer> = OnceLock::new();
    LAYER.get_or_init(build_layer)
}

/// A catalogue holding only [`layer`] (built again: a `Catalog` owns its layers).
pub fn catalog() -> Arc<Catalog> {
    let config = CatalogConfig {
        path: "memory/catalog.toml".into(),
        working_crs: WORKING_CRS.into(),
        styles_dir: "memory/styles".into(),
        layers: vec![layer_config()],
        roles: RoleTable::default(),
    };
    Arc::new(Catalog::from_layers(
        config,
        WORKING_CRS.into(),
        vec![build_layer()],
    ))
}

/// A geometry that a parser accepted either validates or gets a named reason, and never
/// panics in validation.
pub fn check_geometry(g: &Geometry<f64>) {
    if let Some(reason) = territorio::validate::check(g) {
        assert!(
            !reason.trim().is_empty(),
            "validation refused {g:?} without a reason"
        );
    }
}

/// An error that reaches a client or a log has something to say.
pub fn check_message(e: &impl std::fmt::Display) {
    let text = e.to_string();
    assert!(!text.trim().is_empty(), "an error without a message");
}

/// The features of [`layer`] a filter selects (by a scan, checked against the R-tree).
fn selection(text: &str, lang: FilterLang) -> Result<Vec<u32>, FilterError> {
    let layer = layer();
    let filter = Filter::compile(text, lang, layer, CRS84, WORKING_CRS)?;
    let scan: Vec<u32> = (0..layer.features.len() as u32)
        .filter(|&i| filter.matches(&layer.features[i as usize]))
        .collect();
    assert_eq!(filter.select(layer), scan, "select vs scan for {text:?}");
    Ok(scan)
}

/// Compiles a filter against [`layer`] (filter-crs CRS84, working CRS EPSG:32632) and checks:
/// - a compiled filter selects through the R-tree exactly what a scan of every feature selects;
/// - an error has a message;
/// - a filter the service accepts, as the `cql2` crate parsed it, printed as cql2-text and as
///   cql2-json, parses back to the same filter (see [`check_round_trip`]).
pub fn check_filter(text: &str, lang: FilterLang) {
    let selected = match selection(text, lang) {
        Ok(selected) => selected,
        Err(e) => return check_message(&e),
    };
    let parsed = match lang {
        FilterLang::Cql2Text => cql2::parse_text(text).ok(),
        FilterLang::Cql2Json => cql2::parse_json(text).ok(),
    };
    let expr = parsed.unwrap_or_else(|| panic!("{text:?} compiled but does not parse"));
    check_round_trip(text, &expr, &selected);
}

/// Whether an expression holds a number that is not finite (`1e999` parses to infinity), which
/// neither encoding can print: cql2-text refuses it, JSON has no infinity.
fn has_non_finite(e: &cql2::Expr) -> bool {
    use cql2::Expr as E;
    match e {
        E::Float(v) => !v.is_finite(),
        E::Operation { args, .. } => args.iter().any(|a| has_non_finite(a)),
        E::Interval { interval: v } | E::BBox { bbox: v } | E::Array(v) => {
            v.iter().any(|a| has_non_finite(a))
        }
        E::Timestamp { timestamp: a } | E::Date { date: a } => has_non_finite(a),
        E::Geometry(_) => false,
        E::Property { .. } | E::Literal(_) | E::Bool(_) | E::Null => false,
    }
}

/// An expression as JSON, its geometries as the service reads them: positions cut to their
/// first two numbers, and no member but `type`, `coordinates` and `geometries`. The `cql2`
/// crate prints GeoJSON literals as WKT, which has no place for a geometry's `bbox` or foreign
/// members, and at most three ordinates (it drops the fourth of a position).
fn plane(e: &cql2::Expr) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    /// Positions under a geometry's `coordinates`.
    fn positions(v: &mut J) {
        if let J::Array(items) = v {
            if items.iter().all(J::is_number) {
                items.truncate(2);
            } else {
                items.iter_mut().for_each(positions);
            }
        }
    }
    fn walk(v: &mut J) {
        match v {
            J::Array(items) => items.iter_mut().for_each(walk),
            J::Object(members) => {
                if let Some(c) = members.get_mut("coordinates") {
                    positions(c);
                }
                if members.contains_key("coordinates") || members.contains_key("geometries") {
                    members
                        .retain(|k, _| ["type", "coordinates", "geometries"].contains(&k.as_str()));
                }
                members.values_mut().for_each(walk);
            }
            _ => {}
        }
    }
    let mut v = serde_json::from_str(&e.to_json().ok()?).ok()?;
    walk(&mut v);
    Some(v)
}

/// Whether an expression holds an empty list (`IN` with no values): cql2-json allows it,
/// cql2-text has no spelling for it (`x IN ()` is a syntax error).
fn has_empty_list(e: &cql2::Expr) -> bool {
    use cql2::Expr as E;
    match e {
        E::Array(v) if v.is_empty() => true,
        E::Operation { args: v, .. }
        | E::Interval { interval: v }
        | E::BBox { bbox: v }
        | E::Array(v) => v.iter().any(|a| has_empty_list(a)),
        E::Timestamp { timestamp: a } | E::Date { date: a } => has_empty_list(a),
        _ => false,
    }
}

/// The same expression: equal as JSON documents (exact numbers and coordinates, x and y of
/// positions), or equal as expressions when one of them cannot be written as JSON.
fn same(a: &cql2::Expr, b: &cql2::Expr) -> bool {
    match (plane(a), plane(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A parsed-then-printed filter parses to the same filter, in both encodings: the same
/// expression, and compiled, the same features of [`layer`] (`selected`).
pub fn check_round_trip(original: &str, expr: &cql2::Expr, selected: &[u32]) {
    if has_non_finite(expr) {
        return;
    }
    let as_text = if has_empty_list(expr) {
        None
    } else {
        expr.to_text().ok()
    };
    let printed = [
        (FilterLang::Cql2Text, as_text),
        (FilterLang::Cql2Json, expr.to_json().ok()),
    ];
    for (lang, text) in printed {
        let Some(text) = text else { continue };
        let back = match lang {
            FilterLang::Cql2Text => cql2::parse_text(&text).map_err(|e| e.to_string()),
            FilterLang::Cql2Json => cql2::parse_json(&text).map_err(|e| e.to_string()),
        };
        let back = back.unwrap_or_else(|e| {
            panic!("{original:?} printed as {lang} {text:?} does not parse: {e}")
        });
        assert!(
            same(expr, &back),
            "{original:?} printed as {lang} {text:?} parses to another expression: \
             {expr:?} vs {back:?}"
        );
        match selection(&text, lang) {
            Ok(again) => assert_eq!(
                again, selected,
                "{original:?} printed as {lang} {text:?} selects other features"
            ),
            // The bounds on a filter's shape are on its text: the printed spelling, with a
            // parenthesis around every operation, may go past them where the original did not.
            Err(FilterError::TooDeep { .. } | FilterError::TooManyOperators { .. }) => {}
            Err(e) => panic!("{original:?} printed as {lang} {text:?} does not compile: {e}"),
        }
    }
}

/// The router of `territorio serve` over [`catalog`], and a runtime to drive it, made once per
/// process.
struct Server {
    runtime: tokio::runtime::Runtime,
    app: territorio::api::App,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a tokio runtime");
        let state = territorio::api::AppState::new(catalog(), Default::default());
        Server {
            runtime,
            app: territorio::api::app(state),
        }
    })
}

/// The routes the HTTP target reaches, by the name on the first line of its input.
pub const ROUTES: [(&str, &str); 8] = [
    ("items", "/collections/towns/items"),
    ("item", "/collections/towns/items/CR"),
    ("queryables", "/collections/towns/queryables"),
    ("nearest", "/analysis/nearest"),
    ("within", "/analysis/within"),
    ("overlay", "/analysis/overlay"),
    ("locate", "/analysis/locate"),
    ("join", "/analysis/join"),
];

/// The request an input of the HTTP target stands for: its first line names a route of
/// [`ROUTES`] (the items when it names none), every other line is a query parameter
/// `name=value` (a line without `=` is a name with an empty value), encoded as a browser would.
pub fn request_uri(input: &str) -> String {
    let mut lines = input.split('\n');
    let first = lines.next().unwrap_or_default().trim();
    let path = ROUTES
        .iter()
        .find(|(name, _)| *name == first)
        .map_or(ROUTES[0].1, |(_, path)| path);
    let mut query = form_urlencoded::Serializer::new(String::new());
    for line in lines {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        query.append_pair(name, value);
    }
    format!("{path}?{}", query.finish())
}

/// GETs `uri` through the router; returns the status, the `Content-Type` and the body.
pub fn get(uri: &str) -> (u16, String, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let server = server();
    let request = axum::http::Request::get(uri)
        .header("host", "fuzz.invalid")
        .body(axum::body::Body::empty())
        .expect("an encoded query is a valid URI");
    server.runtime.block_on(async {
        let response = server
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("an in-memory body")
            .to_bytes()
            .to_vec();
        (status, content_type, body)
    })
}

/// What every answer to a GET must be, whatever the query: never a 500 (a panic, or an error the
/// server calls its own), an error as a problem document naming the problem, and a JSON answer
/// that is JSON (the items and analyses are written by hand, without a serialiser).
pub fn check_answer(uri: &str, status: u16, content_type: &str, body: &[u8]) {
    assert!(
        status < 500,
        "{uri}: status {status}: {}",
        String::from_utf8_lossy(body)
    );
    if status >= 400 {
        assert_eq!(content_type, "application/problem+json", "{uri}: {status}");
        let problem: serde_json::Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{uri}: problem document is not JSON: {e}"));
        assert_eq!(problem["status"], status, "{uri}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(!detail.trim().is_empty(), "{uri}: a problem without detail");
    } else if content_type.contains("json") {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(body) {
            panic!(
                "{uri}: {content_type} answer is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
