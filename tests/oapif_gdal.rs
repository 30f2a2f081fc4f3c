//! End to end with a real client: territorio serves the demo catalogue on a free port and
//! GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`) reads it, as QGIS users and scripts do.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use geo::{Coord, Intersects, LineString, Polygon, Rect};
use serde_json::Value as Json;

mod common;

use common::http::{demo_catalog, start_server};
use territorio::crs::{densified_outline, Transformer};
use territorio::feature::Value;
use territorio::store::Catalog;

fn catalog() -> Arc<Catalog> {
    demo_catalog()
}

/// The base URL of a server started once for this test binary, on a free port.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| start_server(catalog()))
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        // No GDAL HTTP cache between runs, no proxy for loopback.
        .env("GDAL_HTTP_MAX_RETRY", "0")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap_or_else(|e| panic!("{program} is installed by scripts/install-deps: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gdal_lists_every_collection_with_its_count_and_types() {
    let url = format!("OAPIF:{}", server());
    let listing = run("ogrinfo", &["-ro", "-q", &url]);
    let cat = catalog();
    for l in cat.layers() {
        assert!(
            listing.contains(&format!(": {} (title: {})", l.id(), l.config.title)),
            "{} missing from\n{listing}",
            l.id()
        );
    }
    // Every layer's summary: the count GDAL reads from numberMatched, the field types it
    // reads from the schema.
    let summary = run("ogrinfo", &["-ro", "-so", "-al", &url]);
    let mut counts = BTreeMap::new();
    let mut current = String::new();
    let mut fields: BTreeMap<(String, String), String> = BTreeMap::new();
    for line in summary.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            current = name.trim().to_string();
        } else if let Some(n) = line.strip_prefix("Feature Count: ") {
            counts.insert(current.clone(), n.trim().parse::<usize>().unwrap());
        } else if let Some((name, ty)) = line.split_once(": ") {
            if !line.starts_with(' ') && ty.contains('(') {
                fields.insert((current.clone(), name.to_string()), ty.to_string());
            }
        }
    }
    for l in cat.layers() {
        assert_eq!(counts.get(l.id()), Some(&l.features.len()), "{}", l.id());
    }
    let ty = |layer: &str, field: &str| {
        fields
            .get(&(layer.to_string(), field.to_string()))
            .cloned()
            .unwrap_or_else(|| panic!("{layer}.{field} not in\n{summary}"))
    };
    assert!(ty("productive_areas", "area_ha").starts_with("Real"));
    assert!(ty("productive_areas", "name").starts_with("String"));
    assert!(ty("productive_areas", "sovracomunale").starts_with("Integer(Boolean)"));
    assert!(ty("projects", "axis").starts_with("Integer"));
    assert!(ty("projects", "start_date").starts_with("Date"));
    assert!(ty("nursing_homes", "beds").starts_with("Integer"));
}

#[test]
fn gdal_pages_through_next_links_and_gets_every_feature_once() {
    let url = format!("OAPIF:{}", server());
    let out = run(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            "/vsistdout/",
            &url,
            "municipalities",
            "-oo",
            "PAGE_SIZE=7",
        ],
    );
    let fc: Json = serde_json::from_str(&out).unwrap();
    let codes: Vec<String> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["istat_code"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), codes.len(), "a municipality came twice");
    let cat = catalog();
    let l = cat.layer("municipalities").unwrap();
    let expected: BTreeSet<String> = l
        .features
        .iter()
        .map(|f| match l.value(f, "istat_code") {
            Some(Value::String(s)) => s.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    // Residents come through as integers, summing as in the catalogue.
    let total: i64 = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["population"].as_i64().unwrap())
        .sum();
    let expected_total: i64 = l
        .features
        .iter()
        .map(|f| match l.value(f, "population") {
            Some(Value::Int(v)) => *v,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(total, expected_total);
}

/// The ids of `layer` features intersecting a box given in `crs`, by brute force in the
/// working CRS.
fn brute_force(layer: &str, rect: Rect<f64>, crs: &str) -> BTreeSet<String> {
    let mut ring = densified_outline(rect, 21);
    Transformer::new(crs, "EPSG:32632")
        .unwrap()
        .coords(&mut ring)
        .unwrap();
    let outline = Polygon::new(LineString(ring), vec![]);
    let cat = catalog();
    let l = cat.layer(layer).unwrap();
    l.features
        .iter()
        .filter(|f| outline.intersects(&f.geometry))
        .map(|f| f.id.to_string())
        .collect()
}

fn gdal_ids(url: &str, id_field: &str) -> BTreeSet<String> {
    let out = run("ogr2ogr", &["-f", "GeoJSON", "/vsistdout/", url]);
    let fc: Json = serde_json::from_str(&out).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"][id_field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_gauss_boaga_bbox_selects_what_its_crs84_equivalent_selects() {
    // A box around Cremona in EPSG:3003, and its CRS84 equivalent: the box around its four
    // corners as GDAL's gdaltransform moves them (-s_srs EPSG:3003 -t_srs OGC:CRS84):
    // (1575000, 4995000) -> (9.95296, 45.10432), (1590000, 5010000) -> (10.14629, 45.23757),
    // (1575000, 5010000) -> (9.95521, 45.23933), (1590000, 4995000) -> (10.14358, 45.10257),
    // rounded outwards. The two boxes differ by slivers a few hundred metres wide, where no
    // productive area lies.
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
    let box84 = Rect::new(
        Coord {
            x: 9.9529,
            y: 45.1025,
        },
        Coord {
            x: 10.1463,
            y: 45.2394,
        },
    );
    let expected = brute_force("productive_areas", box3003, "EPSG:3003");
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(
        expected,
        brute_force("productive_areas", box84, "OGC:CRS84")
    );
    let base = server();
    let in_3003 = gdal_ids(
        &format!(
            "{base}/collections/productive_areas/items?bbox=1575000,4995000,1590000,5010000\
             &bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3003&limit=1000"
        ),
        "code",
    );
    let in_84 = gdal_ids(
        &format!(
            "{base}/collections/productive_areas/items?bbox=9.9529,45.1025,10.1463,45.2394&limit=1000"
        ),
        "code",
    );
    assert_eq!(in_3003, expected);
    assert_eq!(in_84, expected);
}
