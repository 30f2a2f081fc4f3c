//! Reading real files through GDAL: formats, CRSs, encodings, types, errors.

mod common;

use std::path::Path;

use common::{layer_config, ogr2ogr};
use geo::{Coord, CoordsIter, Geometry};
use territorio::feature::{FieldType, Value};
use territorio::store::{load_layer, LoadError};

/// Three municipal-style polygons around Cremona in CRS84, with Italian accented text and
/// every property type GDAL's GeoJSON driver recognises.
const SOURCE: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"A1","name":"Comunità Montana","place":"Località Cascina Bianca","active":true,"beds":120,"share":0.25,"opened":"2019-05-04","updated":"2024-03-01T10:30:00Z","note":null},
 "geometry":{"type":"Polygon","coordinates":[[[10.00,45.12],[10.05,45.12],[10.05,45.15],[10.00,45.15],[10.00,45.12]]]}},
{"type":"Feature","properties":{"code":"B2","name":"Città di Crema","place":"Località Ombriano","active":false,"beds":0,"share":1.5,"opened":"2001-12-31","updated":"2025-01-15T08:00:00Z","note":"perché sì"},
 "geometry":{"type":"Polygon","coordinates":[[[9.66,45.35],[9.71,45.35],[9.71,45.38],[9.66,45.38],[9.66,45.35]],[[9.68,45.36],[9.69,45.36],[9.69,45.37],[9.68,45.37],[9.68,45.36]]]}},
{"type":"Feature","properties":{"code":"C3","name":"Pizzighettone","place":"Località Regona","active":true,"beds":35,"share":0.0,"opened":"1999-01-01","updated":"2020-06-30T23:59:59Z","note":"àèéìòù"},
 "geometry":{"type":"Polygon","coordinates":[[[9.77,45.17],[9.80,45.17],[9.80,45.20],[9.77,45.20],[9.77,45.17]]]}}
]}"#;

fn write_source(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("source.geojson");
    std::fs::write(&p, SOURCE).unwrap();
    p
}

#[test]
fn latin1_gauss_boaga_shapefile_matches_the_utm_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let gpkg = dir.path().join("comuni.gpkg");
    let shp = dir.path().join("comuni.shp");
    ogr2ogr(&[
        "-f",
        "GPKG",
        "-t_srs",
        "EPSG:32632",
        "-nln",
        "comuni",
        gpkg.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:3003",
        "-lco",
        "ENCODING=ISO-8859-1",
        shp.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    // The DBF really is Latin-1: "à" is the single byte 0xE0, not UTF-8's 0xC3 0xA0.
    let dbf = std::fs::read(dir.path().join("comuni.dbf")).unwrap();
    assert!(
        dbf.windows(8).any(|w| w == b"Comunit\xe0"),
        "no Latin-1 text in the DBF"
    );
    assert!(
        !dbf.windows(2).any(|w| w == b"\xc3\xa0"),
        "UTF-8 text in the DBF"
    );

    let mut gpkg_config = layer_config("gpkg", &gpkg);
    gpkg_config.id_field = Some("code".into());
    let mut shp_config = layer_config("shp", &shp);
    shp_config.id_field = Some("code".into());
    let a = load_layer(&gpkg_config, "EPSG:32632").unwrap();
    let b = load_layer(&shp_config, "EPSG:32632").unwrap();
    assert_eq!(a.source_crs, "EPSG:32632");
    assert_eq!(
        b.source_crs, "EPSG:3003",
        "the .prj should be recognised as Monte Mario / Italy 1"
    );
    assert_eq!(a.features.len(), 3);
    assert_eq!(b.features.len(), 3);
    for (fa, fb) in a.features.iter().zip(&b.features) {
        assert_eq!(fa.id, fb.id);
        let ca: Vec<Coord<f64>> = fa.geometry.coords_iter().collect();
        let cb: Vec<Coord<f64>> = fb.geometry.coords_iter().collect();
        assert_eq!(ca.len(), cb.len());
        // The Shapefile writer turns exterior rings clockwise, so vertices are matched by
        // position, not by order: every vertex has its twin within 1 m, both ways.
        for (from, to) in [(&ca, &cb), (&cb, &ca)] {
            for p in from.iter() {
                let d = to
                    .iter()
                    .map(|q| (p.x - q.x).hypot(p.y - q.y))
                    .fold(f64::MAX, f64::min);
                assert!(
                    d < 1.0,
                    "feature {}: {p:?} has no twin within 1 m ({d} m)",
                    fa.id
                );
            }
        }
        let text = |l: &territorio::store::Layer, f, field| l.value(f, field).cloned();
        for field in ["name", "place"] {
            assert_eq!(text(&a, fa, field), text(&b, fb, field), "field {field}");
        }
    }
    let first = &b.features[0];
    assert_eq!(
        b.value(first, "name"),
        Some(&Value::String("Comunità Montana".into()))
    );
    assert_eq!(
        b.value(first, "place"),
        Some(&Value::String("Località Cascina Bianca".into()))
    );
}

#[test]
fn property_types_and_field_order_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let gpkg = dir.path().join("typed.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        "-t_srs",
        "EPSG:32632",
        gpkg.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    for path in [src.as_path(), gpkg.as_path()] {
        let layer = load_layer(&layer_config("typed", path), "EPSG:32632").unwrap();
        let names: Vec<&str> = layer.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["code", "name", "place", "active", "beds", "share", "opened", "updated", "note"],
            "{path:?}"
        );
        let types: Vec<FieldType> = layer.fields.iter().map(|f| f.ty).collect();
        assert_eq!(
            types,
            [
                FieldType::String,
                FieldType::String,
                FieldType::String,
                FieldType::Bool,
                FieldType::Int,
                FieldType::Real,
                FieldType::Date,
                FieldType::DateTime,
                FieldType::String
            ],
            "{path:?}"
        );
        let f = &layer.features[0];
        assert_eq!(f.values[3], Value::Bool(true));
        assert_eq!(f.values[4], Value::Int(120));
        assert_eq!(f.values[5], Value::Real(0.25));
        assert_eq!(f.values[6], Value::Date("2019-05-04".into()));
        assert_eq!(
            f.values[7],
            Value::DateTime("2024-03-01T10:30:00+00:00".into())
        );
        assert_eq!(f.values[8], Value::Null);
        assert_eq!(layer.features[1].values[3], Value::Bool(false));
        // The hole of the second polygon survives.
        let Geometry::Polygon(p) = &layer.features[1].geometry else {
            panic!("not a polygon")
        };
        assert_eq!(p.interiors().len(), 1);
    }
}

#[test]
fn geojson_lon_lat_lands_east_of_the_central_meridian() {
    // Axis order through the whole load path: a GeoJSON point at lon 10.024, lat 45.133
    // (Cremona). By hand, with the series for transverse Mercator (k0 = 0.9996, WGS 84):
    // dλ = 1.024° from the 9°E meridian, N(φ) = 6,388,838 m, cos φ = 0.70546, so
    // E = 500,000 + k0·N·cos φ·dλ ≈ 580,518 m; the meridian arc to 45.133° is 4,999,725 m and
    // the second-order term adds 510 m, so N = k0·5,000,235 ≈ 4,998,235 m. Swapped axes would
    // land hundreds of kilometres away.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cremona.geojson");
    std::fs::write(&p, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[10.024,45.133]}}]}"#).unwrap();
    let layer = load_layer(&layer_config("pt", &p), "EPSG:32632").unwrap();
    let Geometry::Point(pt) = layer.features[0].geometry else {
        panic!()
    };
    assert!((pt.x() - 580_518.0).abs() < 5.0, "easting {}", pt.x());
    assert!((pt.y() - 4_998_235.0).abs() < 5.0, "northing {}", pt.y());
}

#[test]
fn invalid_geometries_are_flagged_but_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.geojson");
    std::fs::write(&p, r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"n":"open"},"geometry":{"type":"Polygon","coordinates":[[[10,45],[10.1,45],[10.1,45.1],[10,45.1]]]}},
{"type":"Feature","properties":{"n":"bow"},"geometry":{"type":"Polygon","coordinates":[[[10,45],[10.1,45.1],[10.1,45],[10,45.1],[10,45]]]}},
{"type":"Feature","properties":{"n":"none"},"geometry":null},
{"type":"Feature","properties":{"n":"ok"},"geometry":{"type":"Point","coordinates":[10,45]}}
]}"#).unwrap();
    let layer = load_layer(&layer_config("bad", &p), "EPSG:32632").unwrap();
    assert_eq!(layer.features.len(), 4);
    let reasons: Vec<Option<&str>> = layer
        .features
        .iter()
        .map(|f| f.invalid.as_deref())
        .collect();
    assert_eq!(reasons[0], Some("exterior ring is not closed"));
    assert!(
        reasons[1]
            .unwrap()
            .starts_with("exterior ring self-intersects"),
        "{reasons:?}"
    );
    assert_eq!(reasons[2], Some("empty or missing geometry"));
    assert_eq!(reasons[3], None);
}

#[test]
fn missing_crs_unknown_crs_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let shp = dir.path().join("noprj.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:3003",
        shp.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    std::fs::remove_file(dir.path().join("noprj.prj")).unwrap();
    let e = load_layer(&layer_config("noprj", &shp), "EPSG:32632")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("noprj.shp") && e.contains("declares no CRS"),
        "{e}"
    );

    let mut with_override = layer_config("noprj", &shp);
    with_override.crs = Some("EPSG:3003".into());
    let layer = load_layer(&with_override, "EPSG:32632").unwrap();
    assert_eq!(layer.features.len(), 3);

    let mut unknown = layer_config("noprj", &shp);
    unknown.crs = Some("EPSG:999999".into());
    let e = load_layer(&unknown, "EPSG:32632").unwrap_err();
    assert!(matches!(e, LoadError::Crs { .. }), "{e}");
    assert!(e.to_string().contains("EPSG:999999"), "{e}");

    let missing = dir.path().join("nowhere.gpkg");
    let e = load_layer(&layer_config("gone", &missing), "EPSG:32632")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nowhere.gpkg") && e.contains("\"gone\""), "{e}");

    let garbage = dir.path().join("garbage.gpkg");
    std::fs::write(&garbage, b"this is not a geopackage").unwrap();
    let e = load_layer(&layer_config("garbage", &garbage), "EPSG:32632")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("garbage.gpkg") && e.contains("cannot open"),
        "{e}"
    );

    let mut wrong_layer = layer_config("wrong", &src);
    wrong_layer.layer = Some("strade".into());
    let e = load_layer(&wrong_layer, "EPSG:32632")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no layer \"strade\""), "{e}");
}

#[test]
fn large_layers_are_reprojected_in_parallel_in_order() {
    // 12,000 points in CRS84: above the size where reprojection runs on every core. Each must
    // land where a single transformer puts it, in source order.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("grid.geojson");
    let n = 12_000;
    let lonlat = |i: usize| {
        (
            9.5 + (i % 120) as f64 * 0.0085,
            44.98 + (i / 120) as f64 * 0.0055,
        )
    };
    let features: Vec<String> = (0..n)
        .map(|i| {
            let (x, y) = lonlat(i);
            format!(r#"{{"type":"Feature","properties":{{"n":{i}}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}"#)
        })
        .collect();
    std::fs::write(
        &p,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let layer = load_layer(&layer_config("grid", &p), "EPSG:32632").unwrap();
    assert_eq!(layer.features.len(), n);
    let t = territorio::crs::Transformer::new(territorio::crs::CRS84, "EPSG:32632").unwrap();
    for (i, f) in layer.features.iter().enumerate() {
        assert_eq!(f.values[0], Value::Int(i as i64));
        let (x, y) = lonlat(i);
        let want = t.coord(Coord { x, y }).unwrap();
        let Geometry::Point(got) = f.geometry else {
            panic!("not a point")
        };
        assert!(
            (got.x() - want.x).abs() < 1e-6 && (got.y() - want.y).abs() < 1e-6,
            "{i}: {got:?} vs {want:?}"
        );
    }
}

/// Repeated values in a layer's `id_field` refuse the layer: the error names the layer, the
/// file, the first five repeated ids with their counts, how many more there are, and the way
/// out. Without `id_field` the same file loads by FID.
#[test]
fn duplicate_ids_refuse_the_layer_naming_them() {
    use territorio::feature::{FeatureId, Field};
    use territorio::sink::{self, LayerGeometry, NewLayer};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zone.gpkg");
    // 15 points; A1 three times, then B2, D4, F6, G7, H8 twice each: six repeated ids.
    let codes = [
        "A1", "B2", "A1", "C3", "B2", "A1", "D4", "E5", "D4", "F6", "F6", "G7", "G7", "H8", "H8",
    ];
    let rows: Vec<(Geometry<f64>, Vec<Value>)> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = geo::Point::new(580_000.0 + 100.0 * i as f64, 5_000_000.0);
            (
                Geometry::Point(p),
                vec![Value::String(c.to_string().into())],
            )
        })
        .collect();
    sink::write_layer(
        &path,
        "GPKG",
        &NewLayer {
            name: "zone",
            crs: "EPSG:32632",
            geometry: LayerGeometry::Point,
            fields: &[Field {
                name: "codice".into(),
                ty: FieldType::String,
            }],
            options: &[],
        },
        &rows,
    )
    .unwrap();

    let mut config = layer_config("zone_produttive", &path);
    config.id_field = Some("codice".into());
    let e = load_layer(&config, "EPSG:32632").unwrap_err();
    match &e {
        LoadError::DuplicateFeatureIds {
            layer,
            file,
            id_field,
            duplicates,
            repeated,
        } => {
            assert_eq!(layer, "zone_produttive");
            assert_eq!(file, &path);
            assert_eq!(id_field.as_deref(), Some("codice"));
            assert_eq!(*repeated, 6);
            let want: Vec<(FeatureId, usize)> =
                [("A1", 3), ("B2", 2), ("D4", 2), ("F6", 2), ("G7", 2)]
                    .iter()
                    .map(|(id, n)| (FeatureId::Str((*id).into()), *n))
                    .collect();
            assert_eq!(duplicates, &want);
        }
        other => panic!("{other}"),
    }
    let text = e.to_string();
    for needle in [
        "layer \"zone_produttive\"",
        "zone.gpkg",
        "id_field \"codice\" is not unique",
        "\"A1\" (3 features), \"B2\" (2 features)",
        "\"G7\" (2 features) and 1 more",
        "remove id_field",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    assert!(!text.contains("H8"), "{text}");

    // By FID, the same file loads whole.
    config.id_field = None;
    let layer = load_layer(&config, "EPSG:32632").unwrap();
    assert_eq!(layer.features.len(), codes.len());

    // Equal texts are held once: 15 values, 8 distinct codes, 8 allocations.
    let texts: Vec<&territorio::feature::Text> = layer
        .features
        .iter()
        .map(|f| match &f.values[0] {
            Value::String(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    let read: Vec<&str> = texts.iter().map(|t| &***t).collect();
    assert_eq!(read, codes);
    let mut places: Vec<*const u8> = texts.iter().map(|t| t.as_ptr()).collect();
    places.sort();
    places.dedup();
    assert_eq!(places.len(), 8);
    // The first A1 and the third are the same text, not copies.
    assert!(territorio::feature::Text::ptr_eq(texts[0], texts[5]));
}
