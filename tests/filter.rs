//! CQL2 filters over the demo catalogue: a conformance table whose expected answers are
//! brute-force Rust closures over the features' values and geometries (never through the filter
//! module), the R-tree path against a full scan, and EPSG:4326 axis order.

use std::sync::OnceLock;

use geo::{
    BoundingRect, Coord, Geometry, Intersects, LineString, MultiPoint, Point, Polygon, Rect, Relate,
};
use territorio::catalog::CatalogConfig;
use territorio::crs::{Transformer, CRS84};
use territorio::feature::{Feature, Value};
use territorio::filter::{Filter, FilterLang};
use territorio::store::{Catalog, Layer};

const WORKING: &str = "EPSG:32632";

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let config = CatalogConfig::from_file(&root.join("examples/cremona/catalog.toml")).unwrap();
        Catalog::load(config, &|_| {}).unwrap()
    })
}

fn layer(id: &str) -> &'static Layer {
    catalog()
        .layer(id)
        .unwrap_or_else(|| panic!("no layer {id}"))
}

fn value<'a>(l: &Layer, f: &'a Feature, field: &str) -> &'a Value {
    let i = l
        .field_index(field)
        .unwrap_or_else(|| panic!("{}: no field {field}", l.id()));
    &f.values[i]
}

/// A string property (None when NULL).
fn s<'a>(l: &Layer, f: &'a Feature, field: &str) -> Option<&'a str> {
    match value(l, f, field) {
        Value::String(v) | Value::Date(v) => Some(v),
        Value::Null => None,
        other => panic!("{field}: {other:?}"),
    }
}

/// A numeric property (None when NULL).
fn n(l: &Layer, f: &Feature, field: &str) -> Option<f64> {
    match value(l, f, field) {
        Value::Int(v) => Some(*v as f64),
        Value::Real(v) => Some(*v),
        Value::Null => None,
        other => panic!("{field}: {other:?}"),
    }
}

fn b(l: &Layer, f: &Feature, field: &str) -> Option<bool> {
    match value(l, f, field) {
        Value::Bool(v) => Some(*v),
        Value::Null => None,
        other => panic!("{field}: {other:?}"),
    }
}

/// A point given in `crs` as (x = east, y = north), in the working CRS.
fn to_working(crs: &str, x: f64, y: f64) -> Point<f64> {
    Point(
        Transformer::new(crs, WORKING)
            .unwrap()
            .coord(Coord { x, y })
            .unwrap(),
    )
}

/// A geometry given in CRS84, in the working CRS.
fn geometry_to_working(mut g: Geometry<f64>) -> Geometry<f64> {
    Transformer::new(CRS84, WORKING)
        .unwrap()
        .geometry(&mut g)
        .unwrap();
    g
}

/// A feature's geometry in CRS84 (for boxes given in lon/lat: tested where they are boxes).
fn in_crs84(f: &Feature) -> Geometry<f64> {
    Transformer::new(WORKING, CRS84)
        .unwrap()
        .transformed(&f.geometry)
        .unwrap()
}

fn lonlat_rect(x1: f64, y1: f64, x2: f64, y2: f64) -> Rect<f64> {
    Rect::new(Coord { x: x1, y: y1 }, Coord { x: x2, y: y2 })
}

type Expect = Box<dyn Fn(&Layer, &Feature) -> bool>;

struct Row {
    layer: &'static str,
    lang: FilterLang,
    crs: &'static str,
    text: String,
    expect: Expect,
}

fn text(layer: &'static str, t: &str, expect: impl Fn(&Layer, &Feature) -> bool + 'static) -> Row {
    Row {
        layer,
        lang: FilterLang::Cql2Text,
        crs: CRS84,
        text: t.to_string(),
        expect: Box::new(expect),
    }
}

fn json(layer: &'static str, t: &str, expect: impl Fn(&Layer, &Feature) -> bool + 'static) -> Row {
    Row {
        lang: FilterLang::Cql2Json,
        ..text(layer, t, expect)
    }
}

fn in_crs(mut row: Row, crs: &'static str) -> Row {
    row.crs = crs;
    row
}

/// Centre of Cremona (lon, lat) and the same place in Gauss-Boaga (EPSG:3003, x, y).
const CREMONA: (f64, f64) = (10.0227, 45.1336);
const CREMONA_GB: (f64, f64) = (1_580_000.0, 5_000_000.0);
/// A box around Cremona, lon/lat.
const BOX: (f64, f64, f64, f64) = (9.95, 45.08, 10.10, 45.20);

fn rows() -> Vec<Row> {
    let (lon, lat) = CREMONA;
    let (x1, y1, x2, y2) = BOX;
    let cremona = to_working(CRS84, lon, lat);
    let cremona_gb = to_working("EPSG:3003", CREMONA_GB.0, CREMONA_GB.1);
    let lonlat_box = lonlat_rect(x1, y1, x2, y2);
    let line = geometry_to_working(Geometry::LineString(LineString::from(vec![
        (9.70, 45.10),
        (10.30, 45.30),
    ])));
    let line_c = line.clone();
    let poly = geometry_to_working(Geometry::Polygon(Polygon::new(
        LineString::from(vec![
            (9.95, 45.10),
            (10.10, 45.10),
            (10.02, 45.25),
            (9.95, 45.10),
        ]),
        vec![],
    )));
    let (poly_a, poly_b, poly_c) = (poly.clone(), poly.clone(), poly.clone());
    let multipoint = geometry_to_working(Geometry::MultiPoint(MultiPoint::from(vec![
        (10.0227, 45.1336),
        (9.6856, 45.3621),
    ])));
    let collection = Geometry::GeometryCollection(geo::GeometryCollection(vec![
        to_working(CRS84, 9.6856, 45.3621).into(),
        line.clone(),
    ]));
    let multiline = geometry_to_working(Geometry::MultiLineString(geo::MultiLineString(vec![
        LineString::from(vec![(9.70, 45.10), (10.30, 45.30)]),
        LineString::from(vec![(9.60, 45.40), (9.80, 45.20)]),
    ])));
    let multipolygon = geometry_to_working(Geometry::MultiPolygon(geo::MultiPolygon(vec![
        Polygon::new(
            LineString::from(vec![
                (9.95, 45.10),
                (10.10, 45.10),
                (10.02, 45.25),
                (9.95, 45.10),
            ]),
            vec![],
        ),
        Polygon::new(
            LineString::from(vec![
                (9.60, 45.30),
                (9.75, 45.30),
                (9.75, 45.40),
                (9.60, 45.30),
            ]),
            vec![],
        ),
    ])));
    // Data-derived literals in the working CRS: a municipal boundary vertex (touches the
    // municipalities that share it) and a station's exact position (equals that station).
    let municipalities = layer("municipalities");
    let vertex = match &municipalities.features[0].geometry {
        Geometry::MultiPolygon(mp) => mp.0[0].exterior().0[0],
        other => panic!("{other:?}"),
    };
    let station = match &layer("stations").features[3].geometry {
        Geometry::Point(p) => *p,
        other => panic!("{other:?}"),
    };
    let touch_point = Geometry::Point(Point(vertex));
    let station_point = Geometry::Point(station);

    vec![
        // --- basic-cql2 -------------------------------------------------------------------
        text("productive_areas", "kind = 'industrial'", |l, f| {
            s(l, f, "kind") == Some("industrial")
        }),
        json(
            "productive_areas",
            r#"{"op":"=","args":[{"property":"kind"},"industrial"]}"#,
            |l, f| s(l, f, "kind") == Some("industrial"),
        ),
        text("productive_areas", "kind <> 'industrial'", |l, f| {
            s(l, f, "kind").is_some_and(|k| k != "industrial")
        }),
        text("productive_areas", "area_ha > 50", |l, f| {
            n(l, f, "area_ha").is_some_and(|a| a > 50.0)
        }),
        text("productive_areas", "area_ha >= 50", |l, f| {
            n(l, f, "area_ha").is_some_and(|a| a >= 50.0)
        }),
        text("productive_areas", "area_ha < 20", |l, f| {
            n(l, f, "area_ha").is_some_and(|a| a < 20.0)
        }),
        json(
            "productive_areas",
            r#"{"op":"<=","args":[{"property":"area_ha"},20]}"#,
            |l, f| n(l, f, "area_ha").is_some_and(|a| a <= 20.0),
        ),
        text("productive_areas", "sovracomunale = TRUE", |l, f| {
            b(l, f, "sovracomunale") == Some(true)
        }),
        text("productive_areas", "NOT sovracomunale", |l, f| {
            b(l, f, "sovracomunale") == Some(false)
        }),
        json(
            "productive_areas",
            r#"{"op":"=","args":[{"property":"sovracomunale"},false]}"#,
            |l, f| b(l, f, "sovracomunale") == Some(false),
        ),
        text("productive_areas", "\"kind\" = 'industrial' AND area_ha > 60", |l, f| {
            s(l, f, "kind") == Some("industrial") && n(l, f, "area_ha").is_some_and(|a| a > 60.0)
        }),
        // AND binds tighter than OR.
        text(
            "productive_areas",
            "kind = 'logistics' OR kind = 'commercial' AND status = 'planned'",
            |l, f| {
                s(l, f, "kind") == Some("logistics")
                    || (s(l, f, "kind") == Some("commercial") && s(l, f, "status") == Some("planned"))
            },
        ),
        text(
            "productive_areas",
            "(kind = 'logistics' OR kind = 'commercial') AND status = 'planned'",
            |l, f| {
                (s(l, f, "kind") == Some("logistics") || s(l, f, "kind") == Some("commercial"))
                    && s(l, f, "status") == Some("planned")
            },
        ),
        // NOT binds tighter than AND.
        text(
            "productive_areas",
            "NOT kind = 'industrial' AND status = 'existing'",
            |l, f| s(l, f, "kind") != Some("industrial") && s(l, f, "status") == Some("existing"),
        ),
        json(
            "productive_areas",
            r#"{"op":"or","args":[{"op":"=","args":[{"property":"kind"},"logistics"]},{"op":"and","args":[{"op":"=","args":[{"property":"kind"},"commercial"]},{"op":"not","args":[{"op":"=","args":[{"property":"status"},"planned"]}]}]}]}"#,
            |l, f| {
                s(l, f, "kind") == Some("logistics")
                    || (s(l, f, "kind") == Some("commercial") && s(l, f, "status") != Some("planned"))
            },
        ),
        text("projects", "progress_pct = 100", |l, f| {
            n(l, f, "progress_pct") == Some(100.0)
        }),
        text("projects", "budget_eur > 1000000", |l, f| {
            n(l, f, "budget_eur").is_some_and(|v| v > 1e6)
        }),
        // Integer and real compare numerically.
        text("projects", "axis = 3.0", |l, f| n(l, f, "axis") == Some(3.0)),
        // --- IS NULL (emblematic_action is NULL for some projects) -------------------------
        text("projects", "emblematic_action IS NULL", |l, f| {
            s(l, f, "emblematic_action").is_none()
        }),
        text("projects", "emblematic_action IS NOT NULL", |l, f| {
            s(l, f, "emblematic_action").is_some()
        }),
        json(
            "projects",
            r#"{"op":"isNull","args":[{"property":"emblematic_action"}]}"#,
            |l, f| s(l, f, "emblematic_action").is_none(),
        ),
        // NULLs are unknown: in neither a comparison nor its negation.
        text("projects", "NOT emblematic_action LIKE 'Polo%'", |l, f| {
            s(l, f, "emblematic_action").is_some_and(|v| !v.starts_with("Polo"))
        }),
        // --- advanced comparison operators -------------------------------------------------
        text("municipalities", "population BETWEEN 5000 AND 20000", |l, f| {
            n(l, f, "population").is_some_and(|p| (5000.0..=20000.0).contains(&p))
        }),
        text("municipalities", "population NOT BETWEEN 5000 AND 20000", |l, f| {
            n(l, f, "population").is_some_and(|p| !(5000.0..=20000.0).contains(&p))
        }),
        json(
            "municipalities",
            r#"{"op":"between","args":[{"property":"population"},2000,4000]}"#,
            |l, f| n(l, f, "population").is_some_and(|p| (2000.0..=4000.0).contains(&p)),
        ),
        text("productive_areas", "municipality IN ('Cremona', 'Crema', 'Pavia')", |l, f| {
            matches!(s(l, f, "municipality"), Some("Cremona" | "Crema"))
        }),
        text("productive_areas", "municipality NOT IN ('Cremona', 'Crema')", |l, f| {
            s(l, f, "municipality").is_some_and(|m| m != "Cremona" && m != "Crema")
        }),
        json(
            "projects",
            r#"{"op":"in","args":[{"property":"axis"},[1,3]]}"#,
            |l, f| matches!(n(l, f, "axis"), Some(a) if a == 1.0 || a == 3.0),
        ),
        text("productive_areas", "name LIKE 'Zona industriale%'", |l, f| {
            s(l, f, "name").is_some_and(|v| v.starts_with("Zona industriale"))
        }),
        text("productive_areas", "name LIKE '%d''Adda'", |l, f| {
            s(l, f, "name").is_some_and(|v| v.ends_with("d'Adda"))
        }),
        text("productive_areas", "code LIKE 'AP_1'", |l, f| {
            s(l, f, "code").is_some_and(|v| {
                let c: Vec<char> = v.chars().collect();
                c.len() == 4 && v.starts_with("AP") && c[3] == '1'
            })
        }),
        text("productive_areas", "name NOT LIKE '%Cremona%'", |l, f| {
            s(l, f, "name").is_some_and(|v| !v.contains("Cremona"))
        }),
        // Escapes: `\_` is a literal underscore (only "in_progress" has one), `_` is any one.
        text("projects", "status LIKE '%\\_%'", |l, f| {
            s(l, f, "status").is_some_and(|v| v.contains('_'))
        }),
        text("projects", "status LIKE 'in\\_progres_'", |l, f| {
            s(l, f, "status") == Some("in_progress")
        }),
        json(
            "projects",
            r#"{"op":"like","args":[{"property":"status"},"%\\_%"]}"#,
            |l, f| s(l, f, "status").is_some_and(|v| v.contains('_')),
        ),
        json(
            "projects",
            r#"{"op":"not","args":[{"op":"like","args":[{"property":"status"},"%o%"]}]}"#,
            |l, f| s(l, f, "status").is_some_and(|v| !v.contains('o')),
        ),
        // --- case-insensitive comparison ---------------------------------------------------
        text("productive_areas", "CASEI(municipality) = CASEI('CREMONA')", |l, f| {
            s(l, f, "municipality").is_some_and(|v| v.to_lowercase() == "cremona")
        }),
        text("productive_areas", "CASEI(name) LIKE CASEI('%PORTO%')", |l, f| {
            s(l, f, "name").is_some_and(|v| v.to_lowercase().contains("porto"))
        }),
        json(
            "productive_areas",
            r#"{"op":"=","args":[{"op":"casei","args":[{"property":"kind"}]},{"op":"casei","args":["LOGISTICS"]}]}"#,
            |l, f| s(l, f, "kind") == Some("logistics"),
        ),
        // --- dates -------------------------------------------------------------------------
        // ISO dates order as text, which is how the closures compare them.
        text("projects", "start_date >= DATE('2026-01-01')", |l, f| {
            s(l, f, "start_date").is_some_and(|d| d >= "2026-01-01")
        }),
        text("projects", "end_date < '2026-01-01'", |l, f| {
            s(l, f, "end_date").is_some_and(|d| d < "2026-01-01")
        }),
        text(
            "projects",
            "start_date BETWEEN DATE('2024-01-01') AND DATE('2025-12-31')",
            |l, f| s(l, f, "start_date").is_some_and(|d| ("2024-01-01"..="2025-12-31").contains(&d)),
        ),
        json(
            "projects",
            r#"{"op":">","args":[{"property":"end_date"},{"date":"2029-01-01"}]}"#,
            |l, f| s(l, f, "end_date").is_some_and(|d| d > "2029-01-01"),
        ),
        // --- spatial, CRS84 (lon, lat) -----------------------------------------------------
        text(
            "municipalities",
            &format!("S_INTERSECTS(geometry, POINT({lon} {lat}))"),
            move |_, f| f.geometry.intersects(&cremona),
        ),
        text(
            "municipalities",
            &format!("S_CONTAINS(geometry, POINT({lon} {lat}))"),
            move |_, f| f.geometry.relate(&cremona).is_contains(),
        ),
        // The literal first: "point within geometry" is "geometry contains point".
        text(
            "municipalities",
            &format!("S_WITHIN(POINT({lon} {lat}), geometry)"),
            move |_, f| f.geometry.relate(&cremona).is_contains(),
        ),
        json(
            "municipalities",
            &format!(
                r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"type":"Point","coordinates":[{lon},{lat}]}}]}}"#
            ),
            move |_, f| f.geometry.intersects(&cremona),
        ),
        text(
            "productive_areas",
            &format!("S_INTERSECTS(geometry, BBOX({x1}, {y1}, {x2}, {y2}))"),
            move |_, f| in_crs84(f).intersects(&lonlat_box),
        ),
        json(
            "schools",
            &format!(
                r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"bbox":[{x1},{y1},{x2},{y2}]}}]}}"#
            ),
            move |_, f| in_crs84(f).intersects(&lonlat_box),
        ),
        text(
            "roads",
            &format!("S_DISJOINT(geometry, BBOX({x1}, {y1}, {x2}, {y2}))"),
            move |_, f| !in_crs84(f).intersects(&lonlat_box),
        ),
        text(
            "productive_areas",
            &format!("S_WITHIN(geometry, BBOX({x1}, {y1}, {x2}, {y2}))"),
            move |_, f| in_crs84(f).relate(&lonlat_box.to_polygon()).is_within(),
        ),
        text(
            "productive_areas",
            &format!(
                "S_INTERSECTS(geometry, BBOX({x1}, {y1}, {x2}, {y2})) AND kind = 'industrial'"
            ),
            move |l, f| {
                in_crs84(f).intersects(&lonlat_box) && s(l, f, "kind") == Some("industrial")
            },
        ),
        text(
            "productive_areas",
            &format!(
                "S_INTERSECTS(geometry, BBOX({x1}, {y1}, {x2}, {y2})) OR status = 'planned'"
            ),
            move |l, f| {
                in_crs84(f).intersects(&lonlat_box) || s(l, f, "status") == Some("planned")
            },
        ),
        text(
            "roads",
            "S_CROSSES(geometry, LINESTRING(9.70 45.10, 10.30 45.30))",
            move |_, f| f.geometry.relate(&line).is_crosses(),
        ),
        text(
            "roads",
            "S_INTERSECTS(geometry, POLYGON((9.95 45.10, 10.10 45.10, 10.02 45.25, 9.95 45.10)))",
            move |_, f| f.geometry.intersects(&poly_a),
        ),
        text(
            "municipalities",
            "S_OVERLAPS(geometry, POLYGON((9.95 45.10, 10.10 45.10, 10.02 45.25, 9.95 45.10)))",
            move |_, f| f.geometry.relate(&poly_b).is_overlaps(),
        ),
        text(
            "schools",
            "S_WITHIN(geometry, POLYGON((9.95 45.10, 10.10 45.10, 10.02 45.25, 9.95 45.10)))",
            move |_, f| f.geometry.relate(&poly_c).is_within(),
        ),
        text(
            "municipalities",
            "S_INTERSECTS(geometry, MULTIPOINT((10.0227 45.1336), (9.6856 45.3621)))",
            move |_, f| f.geometry.intersects(&multipoint),
        ),
        text(
            "municipalities",
            "S_INTERSECTS(geometry, MULTILINESTRING((9.70 45.10, 10.30 45.30), (9.60 45.40, 9.80 45.20)))",
            move |_, f| f.geometry.intersects(&multiline),
        ),
        text(
            "schools",
            "S_WITHIN(geometry, MULTIPOLYGON(((9.95 45.10, 10.10 45.10, 10.02 45.25, 9.95 45.10)), ((9.60 45.30, 9.75 45.30, 9.75 45.40, 9.60 45.30))))",
            move |_, f| f.geometry.relate(&multipolygon).is_within(),
        ),
        text(
            "municipalities",
            "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(9.6856 45.3621), LINESTRING(9.70 45.10, 10.30 45.30)))",
            move |_, f| f.geometry.intersects(&collection),
        ),
        text(
            "municipalities",
            "NOT S_INTERSECTS(geometry, LINESTRING(9.70 45.10, 10.30 45.30))",
            move |_, f| !f.geometry.intersects(&line_c),
        ),
        // --- spatial, EPSG:4326 (lat, lon) and EPSG:3003 --------------------------------------
        in_crs(
            text(
                "municipalities",
                &format!("S_INTERSECTS(geometry, POINT({lat} {lon}))"),
                move |_, f| f.geometry.intersects(&cremona),
            ),
            "EPSG:4326",
        ),
        in_crs(
            text(
                "productive_areas",
                &format!("S_INTERSECTS(geometry, BBOX({y1}, {x1}, {y2}, {x2}))"),
                move |_, f| in_crs84(f).intersects(&lonlat_box),
            ),
            "EPSG:4326",
        ),
        in_crs(
            json(
                "schools",
                &format!(
                    r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"bbox":[{y1},{x1},{y2},{x2}]}}]}}"#
                ),
                move |_, f| in_crs84(f).intersects(&lonlat_box),
            ),
            "http://www.opengis.net/def/crs/EPSG/0/4326",
        ),
        in_crs(
            text(
                "municipalities",
                &format!(
                    "S_INTERSECTS(geometry, POINT({} {}))",
                    CREMONA_GB.0, CREMONA_GB.1
                ),
                move |_, f| f.geometry.intersects(&cremona_gb),
            ),
            "EPSG:3003",
        ),
        in_crs(
            text(
                "schools",
                "S_INTERSECTS(geometry, BBOX(1570000, 4990000, 1590000, 5010000))",
                move |_, f| {
                    let t = Transformer::new(WORKING, "EPSG:3003").unwrap();
                    t.transformed(&f.geometry).unwrap().intersects(&Rect::new(
                        Coord {
                            x: 1_570_000.0,
                            y: 4_990_000.0,
                        },
                        Coord {
                            x: 1_590_000.0,
                            y: 5_010_000.0,
                        },
                    ))
                },
            ),
            "EPSG:3003",
        ),
        // --- spatial, working CRS, data-derived literals -----------------------------------
        in_crs(
            text(
                "municipalities",
                &format!("S_TOUCHES(geometry, POINT({} {}))", vertex.x, vertex.y),
                move |_, f| f.geometry.relate(&touch_point).is_touches(),
            ),
            WORKING,
        ),
        in_crs(
            text(
                "stations",
                &format!("S_EQUALS(geometry, POINT({} {}))", station.x(), station.y()),
                move |_, f| f.geometry.relate(&station_point).is_equal_topo(),
            ),
            WORKING,
        ),
    ]
}

#[test]
fn conformance_table() {
    let rows = rows();
    let mut failures = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let l = layer(row.layer);
        let filter = match Filter::compile(&row.text, row.lang, l, row.crs, WORKING) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("row {i} {} [{}]: {e}", row.layer, row.text));
                continue;
            }
        };
        let want: Vec<u32> = l
            .features
            .iter()
            .enumerate()
            .filter(|(_, f)| (row.expect)(l, f))
            .map(|(i, _)| i as u32)
            .collect();
        let got = filter.select(l);
        let scanned: Vec<u32> = (0..l.features.len() as u32)
            .filter(|&i| filter.matches(&l.features[i as usize]))
            .collect();
        if got != want || scanned != want {
            failures.push(format!(
                "row {i} {} [{}] ({}): want {want:?}, select {got:?}, matches {scanned:?}",
                row.layer, row.text, row.crs
            ));
        }
        // No row may pass vacuously: each selects some features but not all.
        if want.is_empty() || want.len() == l.features.len() {
            failures.push(format!(
                "row {i} {} [{}]: vacuous ({} of {} features)",
                row.layer,
                row.text,
                want.len(),
                l.features.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_same_point_in_crs84_and_epsg4326_selects_the_same_features() {
    let l = layer("municipalities");
    let (lon, lat) = CREMONA;
    let compile = |t: String, crs: &str| {
        Filter::compile(&t, FilterLang::Cql2Text, l, crs, WORKING)
            .unwrap()
            .select(l)
    };
    let crs84 = compile(format!("S_INTERSECTS(geometry, POINT({lon} {lat}))"), CRS84);
    let epsg4326 = compile(
        format!("S_INTERSECTS(geometry, POINT({lat} {lon}))"),
        "EPSG:4326",
    );
    assert_eq!(crs84.len(), 1, "Cremona is in one municipality");
    assert_eq!(crs84, epsg4326);
    // lon/lat given to EPSG:4326 is read as lat 10, lon 45: far from Cremona.
    let swapped = compile(
        format!("S_INTERSECTS(geometry, POINT({lon} {lat}))"),
        "EPSG:4326",
    );
    assert_ne!(swapped, crs84);
    // Same for boxes.
    let (x1, y1, x2, y2) = BOX;
    let box84 = compile(
        format!("S_INTERSECTS(geometry, BBOX({x1},{y1},{x2},{y2}))"),
        CRS84,
    );
    let box4326 = compile(
        format!("S_INTERSECTS(geometry, BBOX({y1},{x1},{y2},{x2}))"),
        "EPSG:4326",
    );
    assert!(!box84.is_empty());
    assert_eq!(box84, box4326);
}

/// A deterministic generator (no dependency on a crate's RNG algorithm).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

#[test]
fn select_with_the_rtree_equals_a_full_scan() {
    let mut rng = Rng(20_260_101);
    let mut non_empty = 0;
    for id in [
        "municipalities",
        "roads",
        "schools",
        "projects",
        "productive_areas",
    ] {
        let l = layer(id);
        let extent = l.extent().unwrap();
        let (min, max) = (extent.min(), extent.max());
        for q in 0..40 {
            let x = rng.range(min.x, max.x);
            let y = rng.range(min.y, max.y);
            let w = rng.range(200.0, 15_000.0);
            let h = rng.range(200.0, 15_000.0);
            let bbox = format!("BBOX({x}, {y}, {}, {})", x + w, y + h);
            let point = format!("POINT({x} {y})");
            let texts = [
                format!("S_INTERSECTS(geometry, {point})"),
                format!("S_INTERSECTS(geometry, {bbox})"),
                format!("S_WITHIN(geometry, {bbox})"),
                format!("S_CONTAINS(geometry, {point})"),
                format!("S_INTERSECTS(geometry, {bbox}) AND NOT S_INTERSECTS(geometry, {point})"),
                format!(
                    "S_INTERSECTS(geometry, {bbox}) OR S_INTERSECTS(geometry, POINT({} {}))",
                    x + 20_000.0,
                    y - 5_000.0
                ),
            ];
            for t in &texts {
                let f = Filter::compile(t, FilterLang::Cql2Text, l, WORKING, WORKING)
                    .unwrap_or_else(|e| panic!("{t}: {e}"));
                let scan: Vec<u32> = (0..l.features.len() as u32)
                    .filter(|&i| f.matches(&l.features[i as usize]))
                    .collect();
                let got = f.select(l);
                assert_eq!(got, scan, "{id} query {q}: {t}");
                if let Some(env) = f.envelope() {
                    for &i in &got {
                        let r = l.features[i as usize].geometry.bounding_rect().unwrap();
                        assert!(r.intersects(&env), "{id} {t}: {i} outside the envelope");
                    }
                }
                non_empty += usize::from(!got.is_empty());
            }
            // And the plain intersects agrees with geo directly (no filter module).
            let qbox = Rect::new(Coord { x, y }, Coord { x: x + w, y: y + h });
            let want: Vec<u32> = (0..l.features.len() as u32)
                .filter(|&i| l.features[i as usize].geometry.intersects(&qbox))
                .collect();
            let f = Filter::compile(&texts[1], FilterLang::Cql2Text, l, WORKING, WORKING).unwrap();
            assert_eq!(f.select(l), want, "{id} query {q}: {}", texts[1]);
        }
    }
    assert!(non_empty > 200, "too few non-empty answers ({non_empty})");
}
