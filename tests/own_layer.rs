//! The README's "Add your own layer", step by step: copy the demo catalogue, add a planner's
//! GeoPackage in Gauss-Boaga (EPSG:3003), bind it to the productive-areas role in `[roles]`,
//! load it, query it with a box in EPSG:3003 and use it in site reports.
//!
//! Expected values are hand maths on the square the planner drew: EPSG:3003 (Monte Mario /
//! Italy zone 1) and EPSG:32632 (UTM 32N) are both transverse Mercator on the 9°E meridian with
//! scale factor 0.9996, so moving between them is a shift (1,000,000 m of false easting plus the
//! Monte Mario -> WGS 84 datum shift, about 29 m east and 20 m north here) and a small change of
//! scale: the datums' ellipsoids differ (International 1924, a = 6,378,388 m; WGS 84,
//! a = 6,378,137 m; 39 parts per million), partly offset by the datum transformation. Lengths
//! therefore carry over within 40 ppm (4 cm on 1 km) and areas within 80 ppm.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value as Json;

use common::http::{send, Answer};
use common::ogr2ogr;
use territorio::api::{app, AppState, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::ptcp::roles::{self, Role};
use territorio::store::Catalog;

/// Step 2: the planner's areas, one 1 km square north-east of Castelleone, in EPSG:3003.
const CSV: &str = "\
codice,name,tipo,stato,sovracomunale,WKT
ATP01,Polo logistico di Castelleone Nord,logistics,planned,si,\"POLYGON ((1561000 5017000,1562000 5017000,1562000 5018000,1561000 5018000,1561000 5017000))\"
";
/// The square's corners (EPSG:3003), as written in the CSV.
const WEST: f64 = 1_561_000.0;
const EAST: f64 = 1_562_000.0;
const SOUTH: f64 = 5_017_000.0;
const NORTH: f64 = 5_018_000.0;

/// The largest relative change of a length between EPSG:3003 and EPSG:32632 (see above).
const SCALE: f64 = 40e-6;

/// Step 3: the layer entry, appended at the end of `catalog.toml`.
const LAYER: &str = r#"
[[layer]]
id = "ambiti_produttivi"
title = "Ambiti produttivi del nuovo piano"
description = "Productive areas of the new plan, from the planning office (Gauss-Boaga)."
system = "settlement"
source = "data/ambiti.gpkg"
id_field = "codice"
"#;

/// Step 4: the lines of `[roles]` that change (demo line, new line).
const ROLES: [(&str, &str); 3] = [
    (
        "productive_areas = \"productive_areas\"",
        "productive_areas = \"ambiti_produttivi\"",
    ),
    (
        "productive_kind_field = \"kind\"",
        "productive_kind_field = \"tipo\"",
    ),
    (
        "productive_status_field = \"status\"",
        "productive_status_field = \"stato\"",
    ),
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Steps 1 to 4 in a temporary folder; returns the folder and the catalogue file.
fn my_plan() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    // 1. Copy the demo catalogue.
    let plan = tmp.path().join("my-plan");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona"),
        &plan,
    );
    // 2. The GeoPackage, made from the CSV with ogr2ogr.
    let csv = tmp.path().join("ambiti.csv");
    std::fs::write(&csv, CSV).unwrap();
    let gpkg = plan.join("data/ambiti.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        gpkg.to_str().unwrap(),
        csv.to_str().unwrap(),
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",
        "-a_srs",
        "EPSG:3003",
        "-nln",
        "ambiti_produttivi",
        "-nlt",
        "POLYGON",
    ]);
    // 3 and 4. The layer at the end, and [roles] pointing at it.
    let catalog = plan.join("catalog.toml");
    let mut text = std::fs::read_to_string(&catalog).unwrap();
    for (demo, mine) in ROLES {
        assert_eq!(text.matches(demo).count(), 1, "{demo}");
        text = text.replace(demo, mine);
    }
    text.push_str(LAYER);
    std::fs::write(&catalog, text).unwrap();
    (tmp, catalog)
}

async fn get(catalog: &Arc<Catalog>, uri: &str) -> Answer {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let a = send(
        app(AppState::new(catalog.clone(), ServerConfig::default())),
        req,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    a
}

fn close(got: &Json, want: f64, tolerance: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!((got - want).abs() <= tolerance, "{what}: {got} vs {want}");
}

#[tokio::test]
async fn a_planners_layer_in_gauss_boaga_is_served_queried_and_reported() {
    let (_tmp, path) = my_plan();
    // Loaded like any catalogue, through the library.
    let config = CatalogConfig::from_file(&path).unwrap();
    roles::check(&config).unwrap();
    assert_eq!(
        Role::ProductiveAreas.spec().layer_in(&config),
        Some("ambiti_produttivi")
    );
    let catalog = Arc::new(Catalog::load(config, &|_| {}).unwrap());
    let layer = catalog.layer("ambiti_produttivi").unwrap();
    assert_eq!(layer.source_crs, "EPSG:3003");
    assert_eq!(layer.features.len(), 1);
    // The demo's own productive areas are still served, just no longer in the role.
    assert!(catalog.layer("productive_areas").is_some());

    // 6. OGC items: a 200 m box round the square's centre, in EPSG:3003, selects it...
    let items = get(
        &catalog,
        "/collections/ambiti_produttivi/items?bbox=1561400,5017400,1561600,5017600&bbox-crs=EPSG:3003",
    )
    .await
    .json();
    assert_eq!(items["numberMatched"], 1, "{items}");
    assert_eq!(items["features"][0]["id"], "ATP01");
    assert_eq!(items["features"][0]["properties"]["tipo"], "logistics");
    // ... a box 500 m east of its east edge does not...
    let away = get(
        &catalog,
        "/collections/ambiti_produttivi/items?bbox=1562500,5017400,1562700,5017600&bbox-crs=EPSG:3003",
    )
    .await
    .json();
    assert_eq!(away["numberMatched"], 0, "{away}");
    // ... and asked for in EPSG:3003, the square comes back at the corners the planner wrote.
    let item = get(
        &catalog,
        "/collections/ambiti_produttivi/items/ATP01?crs=EPSG:3003",
    )
    .await
    .json();
    let ring = item["geometry"]["coordinates"][0].as_array().unwrap();
    for corner in [(WEST, SOUTH), (EAST, SOUTH), (EAST, NORTH), (WEST, NORTH)] {
        assert!(
            ring.iter().any(|c| {
                (c[0].as_f64().unwrap() - corner.0).abs() < 0.01
                    && (c[1].as_f64().unwrap() - corner.1).abs() < 0.01
            }),
            "{corner:?} not in {ring:?}"
        );
    }

    // A site report at the square's centre: the new area contains it, with the planner's
    // kind, status and supra-municipal flag ("si").
    let inside = get(
        &catalog,
        "/analysis/report?point=1561500,5017500&subject-crs=EPSG:3003",
    )
    .await
    .json();
    let settlement = &inside["settlement"];
    let areas = settlement["productive_areas"].as_array().unwrap();
    assert_eq!(areas.len(), 1, "{settlement}");
    assert_eq!(areas[0]["id"], "ATP01");
    assert_eq!(areas[0]["name"], "Polo logistico di Castelleone Nord");
    assert_eq!(areas[0]["kind"], "logistics");
    assert_eq!(areas[0]["status"], "planned");
    assert_eq!(areas[0]["sovracomunale"], true);
    assert_eq!(areas[0]["contains_project"], true);
    assert_eq!(
        settlement["nearest_productive_area"]["layer"],
        "ambiti_produttivi"
    );
    close(
        &settlement["nearest_productive_area"]["distance_m"],
        0.0,
        1e-9,
        "inside",
    );

    // 300 m east of the east edge: outside, and the nearest productive area is the new one,
    // 300 m away (the demo's areas no longer play the role).
    let east = get(
        &catalog,
        "/analysis/report?point=1562300,5017500&subject-crs=EPSG:3003",
    )
    .await
    .json();
    let settlement = &east["settlement"];
    assert_eq!(settlement["productive_areas"], Json::Array(vec![]));
    let nearest = &settlement["nearest_productive_area"];
    assert_eq!(nearest["layer"], "ambiti_produttivi");
    assert_eq!(nearest["id"], "ATP01");
    close(
        &nearest["distance_m"],
        300.0,
        300.0 * SCALE,
        "distance east",
    );

    // A 500 m square site in the middle of the area: 250,000 m² of it is productive area.
    let site = get(
        &catalog,
        "/analysis/report?bbox=1561250,5017250,1561750,5017750&bbox-crs=EPSG:3003",
    )
    .await
    .json();
    let areas = site["settlement"]["productive_areas"].as_array().unwrap();
    assert_eq!(areas.len(), 1, "{site}");
    assert_eq!(areas[0]["contains_project"], true);
    close(
        &areas[0]["area_m2"],
        250_000.0,
        250_000.0 * 2.0 * SCALE,
        "overlap area",
    );
    close(
        &site["project"]["area_m2"],
        250_000.0,
        250_000.0 * 2.0 * SCALE,
        "site area",
    );
}

/// Step 5: `territorio check` on the copy loads every layer and shows the new binding.
#[test]
fn check_shows_the_new_layer_in_its_role() {
    let (_tmp, path) = my_plan();
    let out = Command::new(env!("CARGO_BIN_EXE_territorio"))
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("layer ambiti_produttivi (settlement)"),
        "{stdout}"
    );
    assert!(stdout.contains("source CRS: EPSG:3003"), "{stdout}");
    for line in [
        "  productive_areas -> ambiti_produttivi (named in [roles])",
        "    productive_kind_field = \"tipo\" (named in [roles])",
        "    productive_status_field = \"stato\" (named in [roles])",
        "    supra_municipal_field = \"sovracomunale\" (named in [roles])",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no {line:?} in\n{stdout}"
        );
    }
    assert!(!stdout.contains("DEFAULT"), "{stdout}");
    assert!(!stdout.contains("UNBOUND"), "{stdout}");
}
