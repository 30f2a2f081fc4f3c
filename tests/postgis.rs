//! Layers read from PostGIS tables, in a throwaway cluster of the test's own
//! (`common::pg`): the whole demo catalogue copied into PostGIS with `ogr2ogr` serves the same
//! features, types, ids and answers as from its files; each mistake in a table layer gets a
//! message naming the layer and the cause.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value as Json;
use territorio::api::{app, AppState, ServerConfig};
use territorio::catalog::{CatalogConfig, CatalogFile, DatabaseConfig};
use territorio::feature::{FeatureId, FieldType, Value};
use territorio::source::postgis::{self, Via};
use territorio::source::{ReadOptions, SourceData};
use territorio::store::Catalog;

use common::pg::Cluster;
use common::process::{binary, demo_catalog_file};

/// The demo catalogue with every layer copied into schema `ptcp` of database `db`, as
/// `ogr2ogr` copies a planner's files (FIDs kept), and a catalogue file naming the tables.
fn demo_in_postgis(cluster: &Cluster, db: &str, dir: &Path) -> PathBuf {
    cluster.create_database(db, true);
    cluster.psql(db, "CREATE SCHEMA ptcp");
    let demo = demo_catalog_file();
    let demo_dir = demo.parent().unwrap();
    let mut file = CatalogFile::read(&demo).unwrap();
    let pg = format!("PG:{}", cluster.dsn(db));
    for layer in &mut file.layers {
        let source = demo_dir.join(&layer.source);
        let table = format!("ptcp.{}", layer.id);
        let mut args = vec![
            "-f".to_string(),
            "PostgreSQL".into(),
            pg.clone(),
            source.display().to_string(),
        ];
        if let Some(inner) = &layer.layer {
            args.push(inner.clone());
        }
        args.extend(
            [
                "-nln",
                &table,
                "-preserve_fid",
                "-lco",
                "GEOMETRY_NAME=geom",
                "-lco",
                "FID=fid",
            ]
            .map(String::from),
        );
        common::ogr2ogr(&args.iter().map(String::as_str).collect::<Vec<_>>());
        layer.source = PathBuf::new();
        layer.layer = None;
        layer.table = Some(table);
        if let Some(history) = layer.edit.as_mut().and_then(|e| e.history.as_mut()) {
            *history = demo_dir.join(&*history);
        }
    }
    file.styles_dir = demo_dir.join(&file.styles_dir).display().to_string();
    file.database = Some(DatabaseConfig {
        dsn: cluster.dsn(db),
    });
    let path = dir.join("catalog.toml");
    std::fs::write(&path, file.to_toml().unwrap()).unwrap();
    path
}

fn load(path: &Path) -> Result<Catalog, String> {
    Catalog::load(CatalogConfig::from_file(path).unwrap(), &|_| {}).map_err(|e| e.to_string())
}

/// A JSON answer without the members that name the moment it was made.
fn timeless(mut json: Json) -> Json {
    fn strip(v: &mut Json) {
        match v {
            Json::Object(map) => {
                map.remove("timeStamp");
                map.values_mut().for_each(strip);
            }
            Json::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut json);
    json
}

async fn get(catalog: &Arc<Catalog>, uri: &str) -> (StatusCode, Json) {
    let router = app(AppState::new(catalog.clone(), ServerConfig::default()));
    let answer = common::http::send(router, Request::get(uri).body(Body::empty()).unwrap()).await;
    let status = answer.status;
    (status, timeless(answer.json()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_from_postgis_equals_the_demo_from_its_files() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let catalog_file = demo_in_postgis(&cluster, "ptcp", dir.path());

    let files = Arc::new(load(&demo_catalog_file()).unwrap());
    let tables = Arc::new(load(&catalog_file).unwrap());
    assert_eq!(files.layers().len(), tables.layers().len());
    for (a, b) in files.layers().iter().zip(tables.layers()) {
        let id = a.id();
        assert_eq!(id, b.id());
        assert_eq!(b.driver, "PostgreSQL", "{id}");
        assert_eq!(a.fields, b.fields, "{id}: field names and types");
        assert_eq!(a.source_crs, b.source_crs, "{id}: CRS");
        assert_eq!(a.features.len(), b.features.len(), "{id}: feature count");
        for (fa, fb) in a.features.iter().zip(&b.features) {
            assert_eq!(fa.id, fb.id, "{id}: ids, in the file's order");
            assert_eq!(fa.values, fb.values, "{id} {:?}: values", fa.id);
            // The same doubles went through the same PROJ operation.
            assert_eq!(fa.geometry, fb.geometry, "{id} {:?}: geometry", fa.id);
            assert_eq!(fa.invalid, fb.invalid, "{id} {:?}: validation", fa.id);
        }
    }

    // The answers built on them: a point lookup, a filter, a nearest search, a site report,
    // the indicators.
    for uri in [
        "/collections/productive_areas/items?filter=S_INTERSECTS(geometry,POINT(9.95%2045.15))",
        "/collections/projects/items?filter=axis%3D3&limit=20",
        "/collections/hospitals/items?limit=3&sortby=-beds",
        "/projects/P002/report",
        "/projects/P027/report",
        "/indicators",
        "/collections/municipalities",
    ] {
        let (status_a, a) = get(&files, uri).await;
        let (status_b, b) = get(&tables, uri).await;
        assert_eq!(status_a, StatusCode::OK, "{uri}: {a}");
        assert_eq!(status_b, StatusCode::OK, "{uri}: {b}");
        assert_eq!(a, b, "{uri}");
    }

    // `territorio check` reads the tables like files.
    let out = Command::new(binary())
        .arg("check")
        .arg(&catalog_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("source: PostgreSQL table ptcp.productive_areas [PostgreSQL]"),
        "{text}"
    );
}

/// A catalogue with one table layer `t` (id field `id_field` when given).
fn one_table(dir: &Path, dsn: &str, table: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{}.toml", table.replace('.', "_")));
    std::fs::write(
        &path,
        format!(
            "styles_dir = \".\"\n[database]\ndsn = \"{dsn}\"\n\n[[layer]]\nid = \"t\"\n\
             title = \"T\"\ndescription = \"\"\nsystem = \"settlement\"\ntable = \"{table}\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn load_error(path: &Path) -> String {
    match load(path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e,
    }
}

#[test]
fn each_mistake_in_a_table_layer_is_named() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    cluster.create_database("gis", true);
    cluster.create_database("plain", false);
    cluster.psql(
        "gis",
        "CREATE TABLE zones (code text PRIMARY KEY, geom geometry(Polygon, 3003));
         CREATE TABLE mixed (id serial PRIMARY KEY, geom geometry);
         INSERT INTO mixed (geom) VALUES
           (ST_SetSRID(ST_MakePoint(9.9, 45.1), 4326)),
           (ST_SetSRID(ST_MakePoint(1580000, 5000000), 3003));
         CREATE TABLE two (id serial PRIMARY KEY, site geometry(Point, 32632),
                           area geometry(Polygon, 32632));
         CREATE VIEW zones_view AS SELECT * FROM zones;
         CREATE TABLE nokey (name text, geom geometry(Point, 32632));",
    );
    let dsn = cluster.dsn("gis");

    // A database that is not there: libpq's reason, under the layer's name.
    let wrong = one_table(dir.path(), &cluster.dsn("nosuch"), "zones", "");
    let e = load_error(&wrong);
    assert!(e.starts_with("layer \"t\""), "{e}");
    assert!(
        e.contains("PostgreSQL table zones") && e.contains("cannot connect"),
        "{e}"
    );
    assert!(e.contains("\"nosuch\" does not exist"), "{e}");

    let e = load_error(&one_table(dir.path(), &dsn, "zonez", ""));
    assert!(e.contains("no such table or view"), "{e}");
    assert!(
        e.contains("public.zones"),
        "the tables with geometry are listed: {e}"
    );

    let e = load_error(&one_table(dir.path(), &cluster.dsn("plain"), "zones", ""));
    assert!(e.contains("no PostGIS extension"), "{e}");

    let e = load_error(&one_table(dir.path(), &dsn, "mixed", ""));
    assert!(e.contains("mixes SRIDs (3003, 4326)"), "{e}");

    let e = load_error(&one_table(dir.path(), &dsn, "two", ""));
    assert!(e.contains("several geometry columns (area, site)"), "{e}");
    let e = load_error(&one_table(
        dir.path(),
        &dsn,
        "two",
        "geometry_column = \"spot\"\n",
    ));
    assert!(
        e.contains("no geometry column \"spot\" (it has: area, site)"),
        "{e}"
    );
    let chosen = load(&one_table(
        dir.path(),
        &dsn,
        "two",
        "geometry_column = \"site\"\n",
    ))
    .unwrap();
    assert_eq!(chosen.layers()[0].source_crs, "EPSG:32632");

    let e = load_error(&one_table(dir.path(), &dsn, "public.zones_view", ""));
    assert!(e.contains("a view has no primary key: set id_field"), "{e}");
    let view = load(&one_table(
        dir.path(),
        &dsn,
        "public.zones_view",
        "id_field = \"code\"\n",
    ))
    .unwrap();
    assert_eq!(view.layers()[0].source_crs, "EPSG:3003");
    let e = load_error(&one_table(dir.path(), &dsn, "nokey", ""));
    assert!(e.contains("no one-column primary key"), "{e}");

    // The password stays out of the catalogue.
    for dsn in [
        "host=/tmp dbname=gis user=gis password=secret",
        "host=/tmp dbname=gis password = 'secret'",
        "postgresql://gis:secret@localhost/gis",
        "postgresql://gis@localhost/gis?password=secret",
    ] {
        let path = one_table(dir.path(), dsn, "zones", "");
        let e = CatalogConfig::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("holds a password"), "{dsn}: {e}");
    }
    for dsn in [
        "host=/tmp dbname=gis user=gis",
        "service=ptcp",
        "postgresql://gis@localhost/gis",
        "host=/tmp dbname=passwords",
    ] {
        let path = one_table(dir.path(), dsn, "zones", "");
        assert!(CatalogConfig::from_file(&path).is_ok(), "{dsn}");
    }
}

#[test]
fn a_table_layer_needs_the_database_and_only_one_source() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let head = "styles_dir = \".\"\n";
    let layer = "[[layer]]\nid = \"t\"\ntitle = \"T\"\ndescription = \"\"\nsystem = \"rural\"\n";
    let no_db = write("a.toml", &format!("{head}{layer}table = \"zones\"\n"));
    let e = CatalogConfig::from_file(&no_db).unwrap_err().to_string();
    assert!(e.contains("no [database]"), "{e}");
    std::fs::write(dir.path().join("z.geojson"), "{}").unwrap();
    let both = write(
        "b.toml",
        &format!(
            "{head}[database]\ndsn = \"dbname=x\"\n{layer}table = \"zones\"\nsource = \"z.geojson\"\n"
        ),
    );
    let e = CatalogConfig::from_file(&both).unwrap_err().to_string();
    assert!(e.contains("not both"), "{e}");
    let neither = write("c.toml", &format!("{head}{layer}"));
    let e = CatalogConfig::from_file(&neither).unwrap_err().to_string();
    assert!(e.contains("no `source` file and no `table`"), "{e}");
}

/// Reads `table` of `dsn` as a catalogue layer would, `via` the given reader.
fn read_table(
    dsn: &str,
    table: &str,
    id_field: Option<&str>,
    via: Via,
) -> Result<SourceData, String> {
    let table = postgis::Table {
        dsn,
        name: table,
        geometry_column: None,
    };
    let options = ReadOptions {
        layer: None,
        id_field,
        crs: None,
    };
    postgis::read_via(&table, &options, via).map_err(|e| e.to_string())
}

/// The binary COPY reader and GDAL's cursor give the same layer, feature by feature.
fn assert_same_as_gdal(copy: &SourceData, gdal: &SourceData) {
    assert_same_as_gdal_but(copy, gdal, None)
}

/// As [`assert_same_as_gdal`], the values of field `skip` aside.
fn assert_same_as_gdal_but(copy: &SourceData, gdal: &SourceData, skip: Option<usize>) {
    assert_eq!(copy.fields, gdal.fields, "fields and types");
    assert_eq!(copy.crs, gdal.crs);
    assert_eq!(copy.layer_name, gdal.layer_name);
    assert_eq!(copy.driver, gdal.driver);
    assert_eq!(copy.features.len(), gdal.features.len());
    for (a, b) in copy.features.iter().zip(&gdal.features) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.fid, b.fid, "{:?}", a.id);
        let but = |values: &[Value]| -> Vec<Value> {
            let mut values = values.to_vec();
            if let Some(i) = skip {
                values.remove(i);
            }
            values
        };
        assert_eq!(but(&a.values), but(&b.values), "{:?}", a.id);
        assert_eq!(a.geometry, b.geometry, "{:?}", a.id);
        assert_eq!(a.problem, b.problem, "{:?}", a.id);
    }
}

#[test]
fn each_column_type_is_read_from_its_binary_form() {
    let cluster = Cluster::start();
    cluster.create_database("types", true);
    let dsn = cluster.dsn("types");
    // The session's time zone is not UTC, so that a timestamptz's offset shows.
    cluster.psql(
        "types",
        "ALTER DATABASE types SET TimeZone = 'Europe/Rome';
         CREATE TABLE t (id int8 PRIMARY KEY, a int2, b int4, c int8, d real, e float8,
                         f numeric, g numeric(10, 3), h text, i varchar(20), j boolean, k date,
                         l timestamp, m timestamptz, geom geometry(Polygon, 3003));
         INSERT INTO t VALUES
           (10, -32768, -2147483648, -9000000000, 1.1, -2.5, -0.0005, 12.345, 'città d''Adda',
            '', true, '1999-12-31', '1970-01-01 00:00:00.5', '2026-01-02 10:20:30+01',
            'SRID=3003;POLYGON((1580000 5000000, 1580010 5000000, 1580010 5000010,
                                1580000 5000000))'),
           (3, 32767, 2147483647, 9000000000, -0.1, 1e300, 100000001, -1.5, 'Crémone ✓', 'x',
            false, '1899-05-06', '1899-05-06 01:02:03.999', '1999-12-31 23:59:59.9-05',
            'SRID=3003;POLYGON((1580000 5000000, 1580010 5000000, 1580000 5000010,
                                1580000 5000000))'),
           (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL),
           (8, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', NULL, NULL, NULL, NULL,
            'SRID=3003;POLYGON EMPTY');",
    );
    let copy = read_table(&dsn, "t", None, Via::Copy).unwrap();
    let gdal = read_table(&dsn, "t", None, Via::Gdal).unwrap();
    // The timestamptz aside: GDAL gives it in the session's time zone, COPY in UTC.
    assert_same_as_gdal_but(&copy, &gdal, Some(12));
    assert_eq!(
        gdal.features[3].values[12],
        Value::DateTime("2026-01-02T10:20:30+01:00".into()),
        "the same instant"
    );

    use FieldType as T;
    let types: Vec<(&str, FieldType)> = copy
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty))
        .collect();
    assert_eq!(
        types,
        [
            ("a", T::Int),
            ("b", T::Int),
            ("c", T::Int),
            ("d", T::Real),
            ("e", T::Real),
            ("f", T::Real),
            ("g", T::Real),
            ("h", T::String),
            ("i", T::String),
            ("j", T::Bool),
            ("k", T::Date),
            ("l", T::DateTime),
            ("m", T::DateTime),
        ]
    );
    assert_eq!(copy.crs, "EPSG:3003");
    // In the order of the integer key, which is the id.
    let ids: Vec<FeatureId> = copy.features.iter().map(|f| f.id.clone()).collect();
    assert_eq!(
        ids,
        [3, 7, 8, 10].map(FeatureId::Int).to_vec(),
        "ids from the key, in its order"
    );
    let s = |t: &str| V::String(t.into());
    use Value as V;
    assert_eq!(
        copy.features[3].values,
        [
            V::Int(-32768),
            V::Int(-2_147_483_648),
            V::Int(-9_000_000_000),
            V::Real(1.1),
            V::Real(-2.5),
            V::Real(-0.0005),
            V::Real(12.345),
            s("città d'Adda"),
            s(""),
            V::Bool(true),
            V::Date("1999-12-31".into()),
            // Whole seconds, as datetimes from files.
            V::DateTime("1970-01-01T00:00:00+00:00".into()),
            // 10:20:30 at +01:00 is 09:20:30 UTC.
            V::DateTime("2026-01-02T09:20:30+00:00".into()),
        ]
    );
    assert_eq!(
        copy.features[0].values,
        [
            V::Int(32767),
            V::Int(2_147_483_647),
            V::Int(9_000_000_000),
            V::Real(-0.1),
            V::Real(1e300),
            V::Real(100_000_001.0),
            V::Real(-1.5),
            s("Crémone ✓"),
            s("x"),
            V::Bool(false),
            V::Date("1899-05-06".into()),
            V::DateTime("1899-05-06T01:02:03+00:00".into()),
            // 23:59:59.9 at -05:00 is 04:59:59.9 UTC the next day.
            V::DateTime("2000-01-01T04:59:59+00:00".into()),
        ]
    );
    // NULLs.
    assert!(copy.features[1].values.iter().all(|v| *v == V::Null));
    assert_eq!(
        copy.features[1].problem.as_deref(),
        Some("empty or missing geometry")
    );
    assert_eq!(
        copy.features[2].problem.as_deref(),
        Some("empty or missing geometry"),
        "POLYGON EMPTY"
    );
    assert_eq!(copy.features[0].problem, None);
    assert_eq!(copy.features[3].problem, None);
    let geo::Geometry::Polygon(p) = &copy.features[3].geometry else {
        panic!("{:?}", copy.features[3].geometry)
    };
    assert_eq!(
        p.exterior().0[1],
        geo::coord! { x: 1_580_010.0, y: 5_000_000.0 }
    );

    // numeric(p, 0) is an integer field, as GDAL reads it (clamped to 64 bits, as GDAL does);
    // an infinite date or timestamp is null (GDAL's reader refuses the layer).
    cluster.psql(
        "types",
        "CREATE TABLE n (id serial PRIMARY KEY, a numeric(5, 0), b numeric(30, 0),
                         geom geometry(Point, 3003));
         INSERT INTO n (a, b, geom) VALUES (-80, 20000, 'SRID=3003;POINT(1 2)'),
           (NULL, 123456789012345678901234567890, 'SRID=3003;POINT(1 2)');
         CREATE TABLE inf (id serial PRIMARY KEY, at timestamp, on_ date,
                           geom geometry(Point, 3003));
         INSERT INTO inf (at, on_, geom) VALUES ('-infinity', 'infinity', 'SRID=3003;POINT(1 2)');",
    );
    let copy = read_table(&dsn, "n", None, Via::Copy).unwrap();
    assert_same_as_gdal(&copy, &read_table(&dsn, "n", None, Via::Gdal).unwrap());
    assert_eq!(copy.fields[0].ty, T::Int);
    assert_eq!(copy.fields[1].ty, T::Int);
    assert_eq!(copy.features[0].values, [V::Int(-80), V::Int(20_000)]);
    assert_eq!(copy.features[1].values, [V::Null, V::Int(i64::MAX)]);
    let copy = read_table(&dsn, "inf", None, Via::Copy).unwrap();
    assert_eq!(copy.features[0].values, [V::Null, V::Null]);

    // A view of the same table, with its id field: the same features, ids from the field.
    cluster.psql(
        "types",
        "CREATE VIEW v AS SELECT id AS code, h, k, geom FROM t WHERE id <> 7",
    );
    let copy = read_table(&dsn, "v", Some("code"), Via::Copy).unwrap();
    assert_same_as_gdal(
        &copy,
        &read_table(&dsn, "v", Some("code"), Via::Gdal).unwrap(),
    );
    let ids: Vec<FeatureId> = copy.features.iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids, [3, 8, 10].map(FeatureId::Int).to_vec());
    assert_eq!(copy.features[2].values[1], s("città d'Adda"));
    assert_eq!(
        copy.features[0].fid, 1,
        "a view's features numbered as read"
    );

    // A type that COPY does not decode: GDAL reads the layer, as before.
    cluster.psql(
        "types",
        "CREATE TABLE u (id serial PRIMARY KEY, tags text[], geom geometry(Point, 3003));
         INSERT INTO u (tags, geom) VALUES ('{a,b}', 'SRID=3003;POINT(1 2)');",
    );
    let e = read_table(&dsn, "u", None, Via::Copy).unwrap_err();
    assert!(e.contains("column \"tags\" is of type _text"), "{e}");
    let best = read_table(&dsn, "u", None, Via::Best).unwrap();
    assert_same_as_gdal(&best, &read_table(&dsn, "u", None, Via::Gdal).unwrap());
}

/// A table in EPSG:4326 (longitude, latitude) and the same data in a GeoPackage, loaded into
/// the working CRS: the same features, reprojected by the same PROJ operation.
#[test]
fn a_table_in_another_crs_equals_its_geopackage() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    cluster.create_database("wgs", true);
    let dsn = cluster.dsn("wgs");
    cluster.psql(
        "wgs",
        "CREATE TABLE sites (id serial PRIMARY KEY, name text, beds int4,
                             geom geometry(Polygon, 4326));
         INSERT INTO sites (name, beds, geom) VALUES
           ('Cremona', 120, 'SRID=4326;POLYGON((10.02 45.13, 10.03 45.13, 10.03 45.14,
                                                 10.02 45.14, 10.02 45.13))'),
           ('Crema', 80, 'SRID=4326;POLYGON((9.68 45.36, 9.69 45.37, 9.69 45.36,
                                               9.68 45.37, 9.68 45.36))');",
    );
    let gpkg = dir.path().join("sites.gpkg");
    common::ogr2ogr(&[
        "-f",
        "GPKG",
        gpkg.to_str().unwrap(),
        &format!("PG:{dsn}"),
        "sites",
        "-preserve_fid",
    ]);
    let copy = read_table(&dsn, "sites", None, Via::Copy).unwrap();
    assert_eq!(copy.crs, "EPSG:4326");
    let file = dir.path().join("file.toml");
    std::fs::write(
        &file,
        "styles_dir = \".\"\n[[layer]]\nid = \"t\"\ntitle = \"T\"\ndescription = \"\"\n\
         system = \"settlement\"\nsource = \"sites.gpkg\"\n",
    )
    .unwrap();
    let files = load(&file).unwrap();
    let tables = load(&one_table(dir.path(), &dsn, "sites", "")).unwrap();
    let (a, b) = (&files.layers()[0], &tables.layers()[0]);
    assert_eq!(a.source_crs, "EPSG:4326");
    assert_eq!(b.source_crs, "EPSG:4326");
    assert_eq!(a.fields, b.fields);
    assert_eq!(a.features.len(), 2);
    for (fa, fb) in a.features.iter().zip(&b.features) {
        assert_eq!(fa.id, fb.id);
        assert_eq!(fa.values, fb.values);
        assert_eq!(fa.geometry, fb.geometry);
        assert_eq!(fa.invalid, fb.invalid);
    }
    // Axis order: Cremona (lon 10.02, lat 45.13) in UTM 32N is about 580 km east,
    // 5,000 km north; swapped axes would put it thousands of km away.
    let geo::Geometry::Polygon(p) = &b.features[0].geometry else {
        panic!("{:?}", b.features[0].geometry)
    };
    let c = p.exterior().0[0];
    assert!((575_000.0..590_000.0).contains(&c.x), "{c:?}");
    assert!((4_990_000.0..5_010_000.0).contains(&c.y), "{c:?}");
    // The bow tie of Crema crosses itself: flagged the same way from both.
    assert!(b.features[1].invalid.is_some());
}

/// The COPY decoder, through its public API, on every truncation and one-byte change of a
/// stream a server sends: a value or a typed error, never a panic.
#[test]
fn the_copy_decoder_never_panics_on_mutated_input() {
    use territorio::source::pgcopy::{value, CopyReader, Kind, SIGNATURE};
    let mut good = SIGNATURE.to_vec();
    good.extend(0u32.to_be_bytes()); // flags
    good.extend(0u32.to_be_bytes()); // header extension
    let fields: [(Kind, Vec<u8>); 6] = [
        (Kind::Int4, 7i32.to_be_bytes().to_vec()),
        (
            Kind::Numeric,
            vec![0, 2, 0, 0, 0x40, 0, 0, 3, 0, 12, 0x0d, 0x7a],
        ),
        (Kind::Text, "città".as_bytes().to_vec()),
        (Kind::Date, (-1i32).to_be_bytes().to_vec()),
        (Kind::TimestampTz, 0i64.to_be_bytes().to_vec()),
        (Kind::Float4, 1.5f32.to_be_bytes().to_vec()),
    ];
    for _ in 0..2 {
        good.extend((fields.len() as i16).to_be_bytes());
        for (_, bytes) in &fields {
            good.extend((bytes.len() as i32).to_be_bytes());
            good.extend(bytes);
        }
    }
    good.extend((-1i16).to_be_bytes());
    let read = |bytes: &[u8]| -> Result<Vec<Value>, String> {
        let mut reader = CopyReader::new(bytes, fields.len()).map_err(|e| e.to_string())?;
        let mut values = Vec::new();
        while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
            for (i, (kind, _)) in fields.iter().enumerate() {
                values.push(value(*kind, row.get(i)).map_err(|e| e.to_string())?);
            }
        }
        Ok(values)
    };
    let values = read(&good).unwrap();
    assert_eq!(values.len(), 12);
    assert_eq!(values[1], Value::Real(-12.345));
    assert_eq!(values[3], Value::Date("1999-12-31".into()));
    assert_eq!(
        values[4],
        Value::DateTime("2000-01-01T00:00:00+00:00".into())
    );
    for cut in 0..good.len() {
        assert!(read(&good[..cut]).is_err(), "cut at {cut}");
    }
    for i in 0..good.len() {
        for v in [0u8, 1, 0x3f, 0x7f, 0x80, 0xc0, 0xff] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = read(&bad);
        }
    }
}
