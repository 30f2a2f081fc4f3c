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
    decode_bytes(&a.body, collection, z, x, y)
}

/// Tile bytes of a one-layer tile z/x/y decoded by GDAL as in [`decode`].
fn decode_bytes(body: &[u8], collection: &str, z: u32, x: u32, y: u32) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join(z.to_string()).join(x.to_string());
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join(format!("{y}.pbf"));
    std::fs::write(&file, body).unwrap();
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

// ---------------------------------------------------------------------------------------------
// OGC API - Tiles resources, filters, TileJSON, XYZ order, the catalogue's tile, the cache.

/// The layers of a (multi-layer) tile z/x/y and their feature counts, read by `ogrinfo`.
fn layers_in(body: &[u8], z: u32, x: u32, y: u32) -> std::collections::BTreeMap<String, usize> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join(z.to_string()).join(x.to_string());
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join(format!("{y}.pbf"));
    std::fs::write(&file, body).unwrap();
    let text = run("ogrinfo", &["-ro", "-so", "-al", file.to_str().unwrap()]);
    let mut out = std::collections::BTreeMap::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Layer name: ") {
            name = Some(n.trim().to_string());
        }
        if let Some(c) = line.strip_prefix("Feature Count: ") {
            out.insert(name.take().unwrap(), c.trim().parse().unwrap());
        }
    }
    out
}

/// The lon/lat of every vertex of GeoJSON features.
fn vertices(features: &[Json]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for f in features {
        let text = f["geometry"]["coordinates"].to_string();
        let numbers: Vec<f64> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        out.extend(numbers.chunks(2).map(|c| (c[0], c[1])));
    }
    out
}

/// The deepest zoom whose one tile holds every municipality, and that tile (x, y).
fn province_tile() -> (u32, u32, u32) {
    let coords = vertices(&source("settlement.gpkg", "municipalities"));
    let z = (0..=12)
        .rev()
        .find(|&z| {
            let first = tile_of(coords[0].0, coords[0].1, z);
            coords.iter().all(|c| tile_of(c.0, c.1, z) == first)
        })
        .unwrap();
    let (x, y) = tile_of(coords[0].0, coords[0].1, z);
    (z, x, y)
}

#[tokio::test]
async fn the_tile_matrix_set_follows_the_standard() {
    let list = get("/tileMatrixSets").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let href = list.json()["tileMatrixSets"][0]["links"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(href.ends_with("/tileMatrixSets/WebMercatorQuad"), "{href}");
    let a = get("/tileMatrixSets/WebMercatorQuad").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let tms = a.json();
    assert_eq!(tms["id"], "WebMercatorQuad");
    assert_eq!(
        tms["uri"],
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    );
    assert_eq!(tms["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
    let matrices = tms["tileMatrices"].as_array().unwrap();
    assert_eq!(matrices.len(), 23);
    // By hand: the equator of the sphere of radius 6378137 m is 40075016.6856 m; zoom z has
    // 2^z tiles of 256 cells across it; the scale denominator is the cell over 0.28 mm. The
    // standard's table of WebMercatorQuad lists 559082264.0287178 at zoom 0 and
    // 0.5971642834779395 m cells at zoom 18 (the formula in Python floats gives the same).
    let half = std::f64::consts::PI * 6_378_137.0;
    for (z, m) in matrices.iter().enumerate() {
        assert_eq!(m["id"], z.to_string());
        let n = 1u64 << z;
        assert_eq!(m["matrixWidth"], n);
        assert_eq!(m["matrixHeight"], n);
        assert_eq!(m["tileWidth"], 256);
        assert_eq!(m["cornerOfOrigin"], "topLeft");
        let cell = 2.0 * half / 256.0 / n as f64;
        let got = m["cellSize"].as_f64().unwrap();
        assert!((got - cell).abs() <= cell * 1e-12, "zoom {z}: {got}");
        let scale = m["scaleDenominator"].as_f64().unwrap();
        assert!((scale - cell / 0.00028).abs() <= scale * 1e-12, "zoom {z}");
        let origin = &m["pointOfOrigin"];
        assert!((origin[0].as_f64().unwrap() + 20_037_508.342_789_244).abs() < 1e-6);
        assert!((origin[1].as_f64().unwrap() - 20_037_508.342_789_244).abs() < 1e-6);
    }
    assert!(
        (matrices[0]["scaleDenominator"].as_f64().unwrap() - 559_082_264.028_717_8).abs() < 1e-4
    );
    assert!((matrices[18]["cellSize"].as_f64().unwrap() - 0.597_164_283_477_939_5).abs() < 1e-12);
    let a = get("/tileMatrixSets/WorldCRS84Quad").await;
    assert_problem(&a, StatusCode::NOT_FOUND, "WorldCRS84Quad");
}

#[tokio::test]
async fn conformance_and_landing_page_declare_the_tiles() {
    let classes = get("/conformance").await.json()["conformsTo"].clone();
    let classes: Vec<&str> = classes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "core",
        "tileset",
        "tilesets-list",
        "geodata-tilesets",
        "dataset-tilesets",
        "mvt",
        "oas30",
    ] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{c}");
        assert!(classes.contains(&uri.as_str()), "{uri}");
    }
    let landing = get("/").await.json();
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert!(rels.contains(&"http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"));
    assert!(rels.contains(&"http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"));
}

#[tokio::test]
async fn the_tileset_of_a_collection_has_its_links_layer_bounds_and_limits() {
    let a = get("/collections/stations/tiles/WebMercatorQuad").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let ts = a.json();
    assert_eq!(ts["dataType"], "vector");
    assert_eq!(
        ts["tileMatrixSetURI"],
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    );
    let link = |rel: &str| {
        ts["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == rel)
            .unwrap_or_else(|| panic!("no link {rel}"))
            .clone()
    };
    assert!(link("self")["href"]
        .as_str()
        .unwrap()
        .ends_with("/collections/stations/tiles/WebMercatorQuad"));
    assert!(
        link("http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme")["href"]
            .as_str()
            .unwrap()
            .ends_with("/tileMatrixSets/WebMercatorQuad")
    );
    let item = link("item");
    assert_eq!(item["type"], "application/vnd.mapbox-vector-tile");
    assert_eq!(item["templated"], true);
    let tilejson = link("alternate");
    assert_eq!(tilejson["type"], "application/json");
    assert!(tilejson["href"]
        .as_str()
        .unwrap()
        .ends_with("/collections/stations/tiles/WebMercatorQuad/tilejson.json"));
    // The layer with its properties as GDAL reads them from the source.
    let expected = source("stations.fgb", "stations");
    let layer = &ts["layers"][0];
    assert_eq!(layer["id"], "stations");
    assert_eq!(layer["geometryDimension"], 0);
    for key in expected[0]["properties"].as_object().unwrap().keys() {
        assert!(
            layer["propertiesSchema"]["properties"][key].is_object(),
            "{key}"
        );
    }
    // The box holds every station, and is not much larger (the layer's extent in its
    // working CRS, moved to lon/lat).
    let bb = &ts["boundingBox"];
    let (w, s) = (
        bb["lowerLeft"][0].as_f64().unwrap(),
        bb["lowerLeft"][1].as_f64().unwrap(),
    );
    let (e, n) = (
        bb["upperRight"][0].as_f64().unwrap(),
        bb["upperRight"][1].as_f64().unwrap(),
    );
    let points = vertices(&expected);
    let min_lon = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max_lon = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let min_lat = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max_lat = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    assert!(
        w <= min_lon && e >= max_lon && s <= min_lat && n >= max_lat,
        "{bb}"
    );
    assert!(min_lon - w < 0.05 && e - max_lon < 0.05 && min_lat - s < 0.05 && n - max_lat < 0.05);
    // Every station's tile at zoom 12 lies within the limits of zoom 12.
    let limits = &ts["tileMatrixSetLimits"][12];
    assert_eq!(limits["tileMatrix"], "12");
    for (lon, lat) in points {
        let (x, y) = tile_of(lon, lat, 12);
        assert!(limits["minTileCol"].as_u64().unwrap() <= u64::from(x));
        assert!(limits["maxTileCol"].as_u64().unwrap() >= u64::from(x));
        assert!(limits["minTileRow"].as_u64().unwrap() <= u64::from(y));
        assert!(limits["maxTileRow"].as_u64().unwrap() >= u64::from(y));
    }
    let a = get("/collections/nothing/tiles/WebMercatorQuad").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[test]
fn a_filter_keeps_only_the_matching_features_in_the_tile() {
    let expected = source("settlement.gpkg", "municipalities");
    let (z, x, y) = province_tile();
    let large: Vec<String> = expected
        .iter()
        .filter(|f| f["properties"]["population"].as_i64().unwrap() > 10_000)
        .map(|f| name_of(f, "istat_code"))
        .collect();
    assert!(!large.is_empty() && large.len() < expected.len());
    let base = format!("/collections/municipalities/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let text = futures_get(&format!("{base}?filter=population%20%3E%2010000"));
    assert_eq!(text.status, StatusCode::OK, "{}", text.text());
    let tile = decode_bytes(&text.body, "municipalities", z, x, y);
    let mut got: Vec<String> = tile.iter().map(|f| name_of(f, "istat_code")).collect();
    got.sort();
    let mut want = large.clone();
    want.sort();
    assert_eq!(got, want);
    // The same filter in CQL2 JSON gives the same tile.
    let json = r#"{"op":">","args":[{"property":"population"},10000]}"#;
    let encoded: String = json.bytes().map(|b| format!("%{b:02X}")).collect();
    let j = futures_get(&format!("{base}?filter={encoded}&filter-lang=cql2-json"));
    assert_eq!(j.status, StatusCode::OK, "{}", j.text());
    assert_eq!(j.body, text.body);
    // Nothing matches: no content.
    let none = futures_get(&format!("{base}?filter=population%20%3C%200"));
    assert_eq!(none.status, StatusCode::NO_CONTENT);
    // Bad filters are problems naming the parameter.
    let a = futures_get(&format!("{base}?filter=nonsense%20%3D%201"));
    assert_problem(&a, StatusCode::BAD_REQUEST, "filter");
    let a = futures_get(&format!("{base}?filter-lang=cql2-text"));
    assert_problem(&a, StatusCode::BAD_REQUEST, "filter-lang");
    let a = futures_get(&format!("{base}?filter=population%3E1&filter-lang=sql"));
    assert_problem(&a, StatusCode::BAD_REQUEST, "filter-lang");
}

#[test]
fn a_spatial_filter_in_epsg_4326_reads_latitude_first() {
    // A station's point: in CRS84 lon lat, in EPSG:4326 lat lon. Both filters select the
    // same municipalities (those the point touches), a few, not all.
    let station = &source("stations.fgb", "stations")[0];
    let c = &station["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let (z, x, y) = province_tile();
    let base = format!("/collections/municipalities/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let crs84 = futures_get(&format!(
        "{base}?filter=S_INTERSECTS(geometry%2CPOINT({lon}%20{lat}))"
    ));
    assert_eq!(crs84.status, StatusCode::OK, "{}", crs84.text());
    let epsg4326 = futures_get(&format!(
        "{base}?filter=S_INTERSECTS(geometry%2CPOINT({lat}%20{lon}))&filter-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F4326"
    ));
    assert_eq!(epsg4326.status, StatusCode::OK, "{}", epsg4326.text());
    assert_eq!(crs84.body, epsg4326.body);
    let n = decode_bytes(&crs84.body, "municipalities", z, x, y).len();
    assert!((1..=2).contains(&n), "{n} municipalities at a point");
}

#[test]
fn xyz_paths_put_the_column_first() {
    let expected = source("stations.fgb", "stations");
    let z = 14;
    let e = &expected[0];
    let name = name_of(e, "name");
    let c = &e["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let (x, y) = tile_of(lon, lat, z);
    assert_ne!(x, y);
    // XYZ: /{z}/{x}/{y}.mvt holds the station where it is.
    let a = futures_get(&format!("/collections/stations/tiles/{z}/{x}/{y}.mvt"));
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/vnd.mapbox-vector-tile");
    let tile = decode_bytes(&a.body, "stations", z, x, y);
    let found = tile
        .iter()
        .find(|f| name_of(f, "name") == name)
        .expect("the station is in its XYZ tile");
    let d = &found["geometry"]["coordinates"];
    let unit = 360.0 / f64::from(1u32 << z) / 4096.0;
    assert!((d[0].as_f64().unwrap() - lon).abs() <= unit, "{d}");
    assert!((d[1].as_f64().unwrap() - lat).abs() <= unit, "{d}");
    // The same tile by the OGC path (row first).
    let ogc = futures_get(&format!(
        "/collections/stations/tiles/WebMercatorQuad/{z}/{y}/{x}"
    ));
    assert_eq!(ogc.body, a.body);
    // Swapped indexes name another tile, far away: empty.
    let swapped = futures_get(&format!("/collections/stations/tiles/{z}/{y}/{x}.mvt"));
    assert_eq!(swapped.status, StatusCode::NO_CONTENT);
    // The catalogue's XYZ tile holds the station in its stations layer.
    let all = futures_get(&format!("/tiles/{z}/{x}/{y}.mvt"));
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    assert!(layers_in(&all.body, z, x, y).get("stations") >= Some(&1));
    let all_ogc = futures_get(&format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
    assert_eq!(all_ogc.body, all.body);
    // Bad XYZ names.
    let a = futures_get(&format!("/collections/stations/tiles/{z}/{x}/{y}.png"));
    assert_problem(&a, StatusCode::NOT_FOUND, ".mvt");
    let a = futures_get("/tiles/2/4/0.mvt");
    assert_problem(&a, StatusCode::NOT_FOUND, "x");
}

#[test]
fn the_catalogue_tile_has_one_layer_per_collection() {
    let collections = futures_get("/collections").json();
    let ids: Vec<String> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let (z, x, y) = province_tile();
    let all = futures_get(&format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let layers = layers_in(&all.body, z, x, y);
    // Each collection with features in this tile is one layer with as many features as its
    // own tile has; the others are absent.
    let mut expected = std::collections::BTreeMap::new();
    for id in &ids {
        let own = futures_get(&format!(
            "/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}"
        ));
        if own.status == StatusCode::OK {
            expected.insert(id.clone(), layers_in(&own.body, z, x, y)[id]);
        } else {
            assert_eq!(own.status, StatusCode::NO_CONTENT, "{id}");
        }
    }
    assert!(expected.len() >= ids.len() - 1, "{expected:?} of {ids:?}");
    assert_eq!(layers, expected);
    // Zoom 0 holds the province: the municipalities, within the province's box give or
    // take a tile unit (10 km at zoom 0, about 0.09 degrees).
    let z0 = futures_get("/tiles/WebMercatorQuad/0/0/0");
    assert_eq!(z0.status, StatusCode::OK);
    assert!(layers_in(&z0.body, 0, 0, 0)["municipalities"] >= 1);
    let province = vertices(&source("settlement.gpkg", "municipalities"));
    let own = futures_get("/collections/municipalities/tiles/WebMercatorQuad/0/0/0");
    let at_z0 = vertices(&decode_bytes(&own.body, "municipalities", 0, 0, 0));
    let lon = |p: &(f64, f64)| p.0;
    let lat = |p: &(f64, f64)| p.1;
    let min = |v: &[(f64, f64)], f: &dyn Fn(&(f64, f64)) -> f64| {
        v.iter().map(f).fold(f64::INFINITY, f64::min)
    };
    let max = |v: &[(f64, f64)], f: &dyn Fn(&(f64, f64)) -> f64| {
        v.iter().map(f).fold(f64::NEG_INFINITY, f64::max)
    };
    assert!(min(&at_z0, &lon) >= min(&province, &lon) - 0.1);
    assert!(max(&at_z0, &lon) <= max(&province, &lon) + 0.1);
    assert!(min(&at_z0, &lat) >= min(&province, &lat) - 0.1);
    assert!(max(&at_z0, &lat) <= max(&province, &lat) + 0.1);
}

#[tokio::test]
async fn tilejson_lists_every_collection_with_its_fields_and_bounds() {
    let a = get("/tiles/WebMercatorQuad/tilejson.json").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/json");
    let tj = a.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 22);
    let url = tj["tiles"][0].as_str().unwrap();
    assert!(url.starts_with("http://"), "{url}");
    assert!(url.ends_with("/tiles/{z}/{x}/{y}.mvt"), "{url}");
    let collections = get("/collections").await.json();
    let ids: Vec<&str> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ids);
    let municipalities = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "municipalities")
        .unwrap();
    assert_eq!(municipalities["fields"]["population"], "Number");
    assert_eq!(municipalities["fields"]["name"], "String");
    assert_eq!(municipalities["fields"]["istat_code"], "String");
    // Bounds in lon/lat hold the province (and are not in metres).
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (lon, lat) in vertices(&source("settlement.gpkg", "municipalities")) {
        assert!(
            b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3],
            "{b:?}"
        );
    }
    assert!(b[2] - b[0] < 5.0 && b[3] - b[1] < 5.0, "{b:?}");
    // A collection's TileJSON, linked from its tileset.
    let one = get("/collections/stations/tiles/WebMercatorQuad/tilejson.json")
        .await
        .json();
    assert!(one["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/collections/stations/tiles/{z}/{x}/{y}.mvt"));
    assert_eq!(one["vector_layers"][0]["id"], "stations");
    assert_eq!(one["vector_layers"][0]["fields"]["id"], "String");
}

#[tokio::test]
async fn tiles_answer_304_to_their_tag() {
    let router = app(AppState::new(demo_catalog(), ServerConfig::default()));
    for uri in [
        "/collections/stations/tiles/0/0/0.mvt",
        "/collections/municipalities/tiles/WebMercatorQuad/0/0/0?filter=population%3E10000",
        "/tiles/0/0/0.mvt",
        "/tiles/WebMercatorQuad/tilejson.json",
    ] {
        let a = send(
            router.clone(),
            Request::get(uri).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
        let etag = a.header(header::ETAG).to_string();
        assert!(etag.starts_with("W/\""), "{uri}");
        let again = send(
            router.clone(),
            Request::get(uri)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
    }
}

#[tokio::test]
async fn the_cache_stays_within_its_bound_and_answers_repeats() {
    let bound = 2_500;
    let state = AppState::new(
        demo_catalog(),
        ServerConfig {
            tile_cache_bytes: bound,
            ..ServerConfig::default()
        },
    );
    let router = app(state.clone());
    let (z, x, y) = province_tile();
    // The 16 tiles two zooms below the province's tile: together larger than the bound.
    let z2 = z + 2;
    let mut total = 0;
    let mut bodies = Vec::new();
    for dy in 0..4 {
        for dx in 0..4 {
            let uri = format!(
                "/collections/municipalities/tiles/WebMercatorQuad/{z2}/{}/{}",
                y * 4 + dy,
                x * 4 + dx
            );
            let a = send(
                router.clone(),
                Request::get(&uri).body(Body::empty()).unwrap(),
            )
            .await;
            total += a.body.len();
            bodies.push((uri, a.body));
            let s = state.tile_cache().stats();
            assert!(s.bytes <= bound, "{s:?}");
        }
    }
    assert!(total > bound, "{total} bytes of tiles");
    let s = state.tile_cache().stats();
    assert!(s.entries < 16, "{s:?}");
    assert_eq!(s.misses, 16);
    // The last tile is still cached: a repeat is a hit with the same bytes.
    let (uri, body) = bodies.last().unwrap();
    let a = send(
        router.clone(),
        Request::get(uri).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(&a.body, body);
    assert_eq!(state.tile_cache().stats().hits, 1);
}

on_both_stores!(an_edit_changes_the_tile_at_once);
async fn an_edit_changes_the_tile_at_once(kind: common::stores::Kind) {
    use axum::http::Method;
    use territorio::accounts::{Accounts, AccountsFile, HashCost};
    use territorio::catalog::CatalogConfig;
    use territorio::store::Catalog;
    let edits = common::stores::Edits::fresh(kind);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
    let catalog = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let accounts = edits.dir().join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(
        "anna",
        "a long editor password",
        &["projects".into()],
        HashCost::MINIMAL,
    )
    .unwrap();
    file.save().unwrap();
    let state = edits.serve(catalog, ServerConfig::default());
    state.set_accounts(Accounts::open(&accounts).unwrap());
    let router = app(state.clone());
    let call = |method: Method, uri: String, body: Option<Json>| {
        let router = router.clone();
        async move {
            use base64::Engine;
            let auth =
                base64::engine::general_purpose::STANDARD.encode("anna:a long editor password");
            let mut req = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Basic {auth}"));
            if body.is_some() {
                req = req.header(header::CONTENT_TYPE, "application/merge-patch+json");
            }
            let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
            send(router, req.body(body).unwrap()).await
        }
    };
    // A point project and its tile at zoom 14.
    let all = call(
        Method::GET,
        "/collections/projects/items?limit=1000".into(),
        None,
    )
    .await
    .json();
    let p = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["geometry"]["type"] == "Point")
        .unwrap()
        .clone();
    let id = p["id"].as_str().unwrap().to_string();
    let c = &p["geometry"]["coordinates"];
    let (x, y) = tile_of(c[0].as_f64().unwrap(), c[1].as_f64().unwrap(), 14);
    let uri = format!("/collections/projects/tiles/14/{x}/{y}.mvt");
    let before = call(Method::GET, uri.clone(), None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text());
    let status_of = |body: &[u8]| -> String {
        let f = decode_bytes(body, "projects", 14, x, y);
        let f = f
            .iter()
            .find(|f| f["properties"]["id"] == id.as_str())
            .unwrap();
        f["properties"]["status"].as_str().unwrap().to_string()
    };
    let old_status = status_of(&before.body);
    // Asked again: the cached tile.
    let hits = state.tile_cache().stats().hits;
    let again = call(Method::GET, uri.clone(), None).await;
    assert_eq!(again.body, before.body);
    assert_eq!(state.tile_cache().stats().hits, hits + 1);
    // An edit of its status: the next tile has the new one, and another tag.
    let new_status = if old_status == "completed" {
        "design"
    } else {
        "completed"
    };
    let patched = call(
        Method::PATCH,
        format!("/collections/projects/items/{id}"),
        Some(serde_json::json!({"properties": {"status": new_status}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    let after = call(Method::GET, uri.clone(), None).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(status_of(&after.body), new_status);
    assert_ne!(after.header(header::ETAG), before.header(header::ETAG));
    // A delete empties its place in the catalogue tile too.
    let deleted = call(
        Method::DELETE,
        format!("/collections/projects/items/{id}"),
        None,
    )
    .await;
    assert!(deleted.status.is_success(), "{}", deleted.text());
    let gone = call(Method::GET, uri, None).await;
    if gone.status == StatusCode::OK {
        let f = decode_bytes(&gone.body, "projects", 14, x, y);
        assert!(!f.iter().any(|f| f["properties"]["id"] == id.as_str()));
    } else {
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
    }
}

#[test]
fn gdal_reads_a_tile_of_a_running_server_by_its_xyz_url() {
    let base = common::http::start_server(demo_catalog());
    let station = &source("stations.fgb", "stations")[0];
    let name = name_of(station, "name");
    let c = &station["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let (x, y) = tile_of(lon, lat, 12);
    let url = format!("/vsicurl/{base}/tiles/12/{x}/{y}.mvt");
    let text = run(
        "ogr2ogr",
        &[
            "-f",
            "GeoJSON",
            "/vsistdout/",
            &url,
            "stations",
            "-t_srs",
            "EPSG:4326",
        ],
    );
    let doc: Json = serde_json::from_str(&text).unwrap();
    let f = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| name_of(f, "name") == name)
        .unwrap_or_else(|| panic!("{name} not read by GDAL from {url}"))
        .clone();
    let d = &f["geometry"]["coordinates"];
    let unit = 360.0 / 4096.0 / 4096.0;
    assert!((d[0].as_f64().unwrap() - lon).abs() <= unit, "{d}");
    assert!((d[1].as_f64().unwrap() - lat).abs() <= unit, "{d}");
}

#[tokio::test]
async fn the_tiled_catalogue_style_draws_the_same_layers_from_the_tiles() {
    let plain = get("/styles/map.json").await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text());
    let plain = plain.json();
    let a = get("/styles/map.json?source=tiles").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/vnd.maplibre.style+json");
    let tiled = a.json();
    // One vector source, on the catalogue's TileJSON; no GeoJSON source left.
    let sources = tiled["sources"].as_object().unwrap();
    let vector: Vec<(&String, &Json)> = sources
        .iter()
        .filter(|(_, s)| s["type"] == "vector")
        .collect();
    assert_eq!(vector.len(), 1);
    let (name, source) = vector[0];
    let url = source["url"].as_str().unwrap();
    assert!(
        url.ends_with("/tiles/WebMercatorQuad/tilejson.json"),
        "{url}"
    );
    assert!(!sources.values().any(|s| s["type"] == "geojson"));
    let tilejson = get("/tiles/WebMercatorQuad/tilejson.json").await.json();
    let in_tiles: Vec<&str> = tilejson["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    // The same style layers in the same order; each that drew from a collection's GeoJSON
    // source draws from its layer in the tiles.
    let plain_layers = plain["layers"].as_array().unwrap();
    let tiled_layers = tiled["layers"].as_array().unwrap();
    assert_eq!(plain_layers.len(), tiled_layers.len());
    let mut drawn = 0;
    for (p, t) in plain_layers.iter().zip(tiled_layers) {
        assert_eq!(p["id"], t["id"]);
        assert_eq!(p["paint"], t["paint"]);
        assert_eq!(p["filter"], t["filter"]);
        let Some(s) = p["source"].as_str() else {
            continue;
        };
        if plain["sources"][s]["type"] != "geojson" {
            continue;
        }
        assert_eq!(t["source"], name.as_str());
        assert_eq!(t["source-layer"], s);
        assert!(in_tiles.contains(&s), "{s}");
        drawn += 1;
    }
    assert!(drawn >= 5, "{drawn}");
    // The plain style is unchanged: GeoJSON sources, no source-layer.
    assert!(plain_layers.iter().all(|l| l.get("source-layer").is_none()));
    let a = get("/styles/map.json?source=pmtiles").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "source");
}
