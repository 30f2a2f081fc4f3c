//! Vector tiles through the router, decoded by an independent reader: GDAL's MVT driver
//! (`ogr2ogr` of a tile written to a temporary folder). The expected features come from GDAL
//! reading the demo catalogue's source files, and the expected tiles from the slippy-map
//! formula on their longitude and latitude, not from the code under test.

use std::path::Path;
use std::process::Command;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value as Json;

mod common;

use common::http::{assert_problem, demo_catalog, send, Answer};
use territorio::api::{app, AppState, ServerConfig};

async fn get(uri: &str) -> Answer {
    let state = AppState::new(demo_catalog(), ServerConfig::default());
    send(app(state), Request::get(uri).body(Body::empty()).unwrap()).await
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program}: {e} (GDAL's tools are installed by scripts/install-deps)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A source file of the demo catalogue read by GDAL as GeoJSON in CRS84.
fn source(file: &str, layer: &str) -> Vec<Json> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/cremona/data")
        .join(file);
    let text = run(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            "/vsistdout/",
            path.to_str().unwrap(),
            layer,
            "-t_srs",
            "EPSG:4326",
        ],
    );
    let doc: Json = serde_json::from_str(&text).unwrap();
    doc["features"].as_array().unwrap().clone()
}

/// Tile `z/x/y` of a collection, decoded by GDAL's MVT driver: the file is named
/// `{z}/{x}/{y}.pbf`, so the driver reads EPSG:3857, which GDAL moves to CRS84; not clipped by
/// GDAL.
fn decode(collection: &str, z: u32, x: u32, y: u32) -> Vec<Json> {
    let a = futures_get(&format!(
        "/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}"
    ));
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/vnd.mapbox-vector-tile");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join(z.to_string()).join(x.to_string());
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join(format!("{y}.pbf"));
    std::fs::write(&file, &a.body).unwrap();
    let text = run(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            "/vsistdout/",
            "-oo",
            "CLIP=NO",
            file.to_str().unwrap(),
            "-t_srs",
            "EPSG:4326",
        ],
    );
    let doc: Json = serde_json::from_str(&text).unwrap();
    // One layer, named after the collection.
    assert_eq!(doc["name"], collection, "layer name");
    doc["features"].as_array().unwrap().clone()
}

/// The router is async; the GDAL helpers are not: one runtime per call keeps them simple.
fn futures_get(uri: &str) -> Answer {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(get(uri))
}

/// The WebMercatorQuad tile of a longitude and latitude (the slippy-map formula).
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

fn name_of(f: &Json, key: &str) -> String {
    f["properties"][key].as_str().unwrap().to_string()
}

#[test]
fn at_zoom_zero_every_station_appears_once_with_its_properties() {
    let expected = source("stations.fgb", "stations");
    let tile = decode("stations", 0, 0, 0);
    assert_eq!(tile.len(), expected.len());
    for e in &expected {
        let name = name_of(e, "name");
        let found: Vec<&Json> = tile.iter().filter(|f| name_of(f, "name") == name).collect();
        assert_eq!(found.len(), 1, "{name}");
        let p = &found[0]["properties"];
        assert_eq!(p["line"], e["properties"]["line"], "{name}");
        // The id (the name: not an integer) is a property.
        assert_eq!(p["id"], e["properties"]["name"], "{name}");
        assert_eq!(found[0]["geometry"]["type"], "Point");
    }
}

#[test]
fn in_the_tile_of_the_province_every_municipality_appears_once_with_typed_properties() {
    let expected = source("settlement.gpkg", "municipalities");
    // The deepest zoom whose one tile holds the whole province (at zoom 0 a tile unit is
    // 10 km, and small municipalities collapse to nothing, as they should; at zoom 5, 300 m).
    let mut coords = Vec::new();
    for e in &expected {
        let text = e["geometry"]["coordinates"].to_string();
        let numbers: Vec<f64> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        coords.extend(numbers.chunks(2).map(|c| (c[0], c[1])));
    }
    let z = (0..=12)
        .rev()
        .find(|&z| {
            let first = tile_of(coords[0].0, coords[0].1, z);
            coords.iter().all(|c| tile_of(c.0, c.1, z) == first)
        })
        .unwrap();
    assert!(z >= 5, "zoom {z}");
    let (x, y) = tile_of(coords[0].0, coords[0].1, z);
    let tile = decode("municipalities", z, x, y);
    assert_eq!(tile.len(), expected.len());
    for e in &expected {
        let code = name_of(e, "istat_code");
        let found: Vec<&Json> = tile
            .iter()
            .filter(|f| name_of(f, "istat_code") == code)
            .collect();
        assert_eq!(found.len(), 1, "{code}");
        let p = &found[0]["properties"];
        assert_eq!(p["name"], e["properties"]["name"], "{code}");
        // An integer stays an integer (GDAL reads an MVT int value as Integer or Integer64).
        assert!(p["population"].is_i64(), "{code}: {}", p["population"]);
        assert_eq!(p["population"], e["properties"]["population"], "{code}");
    }
}

#[test]
fn a_station_is_in_the_tile_the_slippy_map_formula_gives() {
    let expected = source("stations.fgb", "stations");
    for z in [10, 14] {
        for e in expected.iter().take(4) {
            let name = name_of(e, "name");
            let c = &e["geometry"]["coordinates"];
            let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            let (x, y) = tile_of(lon, lat, z);
            let tile = decode("stations", z, x, y);
            let found = tile
                .iter()
                .find(|f| name_of(f, "name") == name)
                .unwrap_or_else(|| panic!("{name} not in {z}/{x}/{y}"));
            // Where GDAL puts it: within a tile unit of where it is (a unit is 360°/2^z/4096).
            let d = &found["geometry"]["coordinates"];
            let unit = 360.0 / f64::from(1u32 << z) / 4096.0;
            assert!((d[0].as_f64().unwrap() - lon).abs() <= unit, "{name} {d}");
            assert!((d[1].as_f64().unwrap() - lat).abs() <= unit, "{name} {d}");
        }
    }
}

/// A protobuf varint at `*at`.
fn varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = buf[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

/// The fields of a protobuf message: (field number, varint value or bytes).
fn fields(buf: &[u8]) -> Vec<(u64, Result<u64, &[u8]>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let key = varint(buf, &mut at);
        match key & 7 {
            0 => out.push((key >> 3, Ok(varint(buf, &mut at)))),
            2 => {
                let n = varint(buf, &mut at) as usize;
                out.push((key >> 3, Err(&buf[at..at + n])));
                at += n;
            }
            1 => at += 8,
            5 => at += 4,
            w => panic!("wire type {w}"),
        }
    }
    out
}

/// The rings of every polygon feature of a tile's first layer, in tile coordinates, read
/// with the decoder above (written from the MVT 2.1 spec, independent of the encoder's crate).
fn raw_rings(tile: &[u8]) -> Vec<Vec<Vec<(i64, i64)>>> {
    let layer = fields(tile)
        .into_iter()
        .find_map(|(n, v)| (n == 3).then(|| v.unwrap_err()))
        .unwrap();
    let mut features = Vec::new();
    for (n, v) in fields(layer) {
        if n != 2 {
            continue;
        }
        let f = fields(v.unwrap_err());
        assert!(
            f.iter().any(|(n, v)| *n == 3 && *v == Ok(3)),
            "not a polygon"
        );
        let g = f
            .iter()
            .find_map(|(n, v)| (*n == 4).then(|| v.unwrap_err()))
            .unwrap();
        let mut at = 0;
        let mut ints = Vec::new();
        while at < g.len() {
            ints.push(varint(g, &mut at) as u32);
        }
        let unzig = |u: u32| i64::from((u >> 1) as i32 ^ -((u & 1) as i32));
        let (mut x, mut y) = (0i64, 0i64);
        let mut rings = Vec::new();
        let mut ring: Vec<(i64, i64)> = Vec::new();
        let mut i = 0;
        while i < ints.len() {
            let (id, count) = (ints[i] & 7, ints[i] >> 3);
            i += 1;
            if id == 7 {
                rings.push(std::mem::take(&mut ring));
                continue;
            }
            for _ in 0..count {
                x += unzig(ints[i]);
                y += unzig(ints[i + 1]);
                i += 2;
                ring.push((x, y));
            }
        }
        features.push(rings);
    }
    features
}

#[test]
fn clipped_polygons_stay_within_the_buffer_and_are_wound_for_mvt() {
    // The tile at zoom 12 of the first station: municipal boundaries run across it.
    let station = &source("stations.fgb", "stations")[0];
    let c = &station["geometry"]["coordinates"];
    let (x, y) = tile_of(c[0].as_f64().unwrap(), c[1].as_f64().unwrap(), 12);
    // GDAL reads it (as valid polygons)...
    let decoded = decode("municipalities", 12, x, y);
    assert!(!decoded.is_empty());
    // ...and the raw rings follow the spec.
    let a = futures_get(&format!(
        "/collections/municipalities/tiles/WebMercatorQuad/12/{y}/{x}"
    ));
    let features = raw_rings(&a.body);
    assert_eq!(features.len(), decoded.len());
    let mut outside_the_tile = false;
    for rings in &features {
        let mut exteriors = 0;
        for ring in rings {
            assert!(ring.len() >= 3);
            for &(px, py) in ring {
                assert!(
                    (-64..=4160).contains(&px) && (-64..=4160).contains(&py),
                    "({px}, {py}) outside the buffer"
                );
                outside_the_tile |= !(0..=4096).contains(&px) || !(0..=4096).contains(&py);
            }
            // The surveyor's formula in tile coordinates (y down): exterior rings positive,
            // holes negative, never zero.
            let n = ring.len();
            let area2: i64 = (0..n)
                .map(|i| ring[i].0 * ring[(i + 1) % n].1 - ring[(i + 1) % n].0 * ring[i].1)
                .sum();
            assert!(area2 != 0);
            if area2 > 0 {
                exteriors += 1;
            }
        }
        // The first ring of a feature is an exterior ring.
        let n = rings[0].len();
        let first: i64 = (0..n)
            .map(|i| {
                rings[0][i].0 * rings[0][(i + 1) % n].1 - rings[0][(i + 1) % n].0 * rings[0][i].1
            })
            .sum();
        assert!(first > 0, "first ring wound as a hole");
        assert!(exteriors >= 1);
    }
    assert!(outside_the_tile, "no geometry reaches into the buffer");
}

#[test]
fn integer_ids_are_mvt_ids_and_other_ids_properties() {
    // The demo layers all have text ids: a tile written directly, read by GDAL, whose MVT
    // reader makes the MVT id the feature's FID (`mvt_id` in ogrinfo).
    use territorio::feature::{FeatureId, Value};
    use territorio::tiles::mvt::{LayerBuilder, TileGeometry};
    let mut layer = LayerBuilder::new("ids");
    let n = Value::Int(1);
    let geometry = TileGeometry::Points(vec![[2048, 2048]]);
    layer.add(&FeatureId::Int(7), &[("n", &n)], &geometry);
    layer.add(&FeatureId::Int(-3), &[("n", &n)], &geometry);
    layer.add(
        &FeatureId::Str("a".into()),
        &[("n", &n), ("s", &Value::Null)],
        &geometry,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.pbf");
    std::fs::write(&file, layer.encode()).unwrap();
    let text = run("ogrinfo", &["-q", "-al", file.to_str().unwrap()]);
    let features: Vec<&str> = text.split("OGRFeature(ids):").skip(1).collect();
    assert_eq!(features.len(), 3, "{text}");
    assert!(
        features[0].contains("mvt_id (Integer64) = 7"),
        "{}",
        features[0]
    );
    assert!(!features[0].contains("  id ("), "{}", features[0]);
    // (GDAL types the field as text: the next feature's id is text.)
    assert!(
        features[1].contains("  id (String) = -3"),
        "{}",
        features[1]
    );
    assert!(features[2].contains("id (String) = a"), "{}", features[2]);
    // A null is left out: GDAL has no field s at all.
    assert!(!text.contains("  s ("), "{text}");
}

#[tokio::test]
async fn empty_tiles_bad_indexes_and_parameters() {
    // The tile of the antimeridian at zoom 5 has no station.
    let a = get("/collections/stations/tiles/WebMercatorQuad/5/10/0").await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(a.body.is_empty());
    let a = get("/collections/stations/tiles/WebMercatorQuad/23/0/0").await;
    assert_problem(&a, StatusCode::NOT_FOUND, "tileMatrix");
    let a = get("/collections/stations/tiles/WebMercatorQuad/2/4/0").await;
    assert_problem(&a, StatusCode::NOT_FOUND, "tileRow");
    let a = get("/collections/stations/tiles/WebMercatorQuad/2/0/4").await;
    assert_problem(&a, StatusCode::NOT_FOUND, "tileCol");
    let a = get("/collections/stations/tiles/WebMercatorQuad/2/x/0").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "tileRow");
    let a = get("/collections/stations/tiles/WebMercatorQuad/0/0/0?f=mvt").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "f");
    let a = get("/collections/nothing/tiles/WebMercatorQuad/0/0/0").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Conditional GET from the middleware, as for every path of a collection.
    let router = app(AppState::new(demo_catalog(), ServerConfig::default()));
    let tile = "/collections/stations/tiles/WebMercatorQuad/0/0/0";
    let a = send(
        router.clone(),
        Request::get(tile).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.header(header::CACHE_CONTROL).is_empty());
    let etag = a.header(header::ETAG).to_string();
    let again = send(
        router,
        Request::get(tile)
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // The collection links its tilesets, which give the template.
    let c = get("/collections/stations").await.json();
    let tilesets = c["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        tilesets.ends_with("/collections/stations/tiles"),
        "{tilesets}"
    );
    let a = get("/collections/stations/tiles").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let href = a.json()["tilesets"][0]["links"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        href.ends_with(
            "/collections/stations/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
        ),
        "{href}"
    );
}
