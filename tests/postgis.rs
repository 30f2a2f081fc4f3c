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
