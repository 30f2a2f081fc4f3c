//! The `territorio` binary: `check` reports and exit codes, `query` GeoJSON output.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value as Json;

fn territorio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_territorio"))
        .args(args)
        .output()
        .expect("the territorio binary runs")
}

/// A catalogue with two GeoJSON layers in CRS84: zones (two 0.01° squares near Cremona, one
/// invalid when `with_invalid`) and points.
fn catalogue(dir: &Path, with_invalid: bool) -> std::path::PathBuf {
    let bow = r#",{"type":"Feature","properties":{"name":"bow","kind":"x"},"geometry":{"type":"Polygon","coordinates":[[[10.1,45.1],[10.11,45.11],[10.11,45.1],[10.1,45.11],[10.1,45.1]]]}}"#;
    let zones = format!(
        r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"name":"Zona A","kind":"industrial"}},"geometry":{{"type":"Polygon","coordinates":[[[10.00,45.13],[10.01,45.13],[10.01,45.14],[10.00,45.14],[10.00,45.13]]]}}}},
{{"type":"Feature","properties":{{"name":"Zona B","kind":"logistics"}},"geometry":{{"type":"Polygon","coordinates":[[[10.03,45.13],[10.04,45.13],[10.04,45.14],[10.03,45.14],[10.03,45.13]]]}}}}{}
]}}"#,
        if with_invalid { bow } else { "" }
    );
    std::fs::write(dir.join("zones.geojson"), zones).unwrap();
    let catalog = dir.join("catalog.toml");
    std::fs::write(
        &catalog,
        r#"
[[layer]]
id = "zones"
title = "Zone"
description = "test zones"
system = "settlement"
source = "zones.geojson"
id_field = "name"
"#,
    )
    .unwrap();
    catalog
}

#[test]
fn check_reports_layers_and_exits_zero_when_clean() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("layer zones (settlement)"), "{stdout}");
    assert!(stdout.contains("features: 2"), "{stdout}");
    assert!(stdout.contains("geometry types: Polygon"), "{stdout}");
    assert!(stdout.contains("source CRS: EPSG:4326"), "{stdout}");
    // The extent is the working-CRS (UTM) box of the data moved to CRS84 with densified edges.
    // UTM's grid is turned against the graticule here (convergence about 0.7° at 10°E, 45°N),
    // so that box covers the squares' lon/lat box [10.00, 45.13, 10.04, 45.14] with a margin
    // of a few ten-thousandths of a degree; lon comes first.
    let line = stdout
        .lines()
        .find(|l| l.contains("extent (CRS84):"))
        .unwrap();
    let v: Vec<f64> = line
        .split(':')
        .nth(1)
        .unwrap()
        .split(',')
        .map(|x| x.trim().parse().unwrap())
        .collect();
    let want = [10.00, 45.13, 10.04, 45.14];
    assert!(
        v[0] <= want[0] && v[1] <= want[1] && v[2] >= want[2] && v[3] >= want[3],
        "{line}"
    );
    for (got, w) in v.iter().zip(want) {
        assert!((got - w).abs() < 0.001, "{line}");
    }
    assert!(stdout.contains("invalid geometries: 0"), "{stdout}");
}

#[test]
fn check_names_invalid_features_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), true);
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("features: 3"), "{stdout}");
    assert!(stdout.contains("invalid geometries: 1"), "{stdout}");
    assert!(
        stdout.contains("feature bow: exterior ring self-intersects"),
        "{stdout}"
    );
}

/// `check` says which layer plays each role of the report and the indicators: named in
/// `[roles]`, bound by default because a layer has the role's id, disabled with `""`, or
/// unbound; and for each field role, its field and whether the layer has it.
#[test]
fn check_prints_each_role_binding_and_says_where_defaults_were_used() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    let layer = |id: &str| {
        format!(
            "\n[[layer]]\nid = \"{id}\"\ntitle = \"{id}\"\ndescription = \"d\"\n\
             system = \"settlement\"\nsource = \"zones.geojson\"\nid_field = \"name\"\n"
        )
    };
    let write = |roles: &str| {
        std::fs::write(
            &catalog,
            format!(
                "{}{}[roles]\nparks = \"zone_verdi\"\nhospitals = \"\"\n{roles}",
                layer("productive_areas"),
                layer("zone_verdi")
            ),
        )
        .unwrap();
    };
    write("productive_kind_field = \"kind\"\n");
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for line in [
        "  productive_areas -> productive_areas (DEFAULT: [roles] does not name it; bound by the layer id \"productive_areas\")",
        "    name_field = \"name\" (default)",
        "    productive_kind_field = \"kind\" (named in [roles])",
        "    productive_status_field = \"status\" (default; layer \"productive_areas\" has no such field: left out)",
        "    supra_municipal_field = \"sovracomunale\" (default; layer \"productive_areas\" has no such field: left out)",
        "  parks -> zone_verdi (named in [roles])",
        "  hospitals -> none ([roles] hospitals = \"\")",
        "  roads -> UNBOUND ([roles] does not name it and no layer has the id \"roads\")",
        "  agricultural_land -> UNBOUND ([roles] does not name it and no layer has the id \"agricultural_areas\")",
        // 16 roles: one default, one named, one disabled, 13 unbound.
        "  1 roles bound by default layer ids, 13 unbound: name them in [roles]",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "no line {line:?} in\n{stdout}"
        );
    }
    // Each role is listed once, in the order of [roles]'s documentation.
    let roles: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(" -> "))
        .map(|l| l.trim_start().split(' ').next().unwrap())
        .collect();
    assert_eq!(roles.len(), 16, "{roles:?}");
    assert_eq!(roles[0], "projects");

    // A field named in [roles] that the layer lacks is an error: the report would refuse it.
    write("productive_status_field = \"stato\"\n");
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "    productive_status_field = \"stato\" (ERROR: named in [roles], but layer \"productive_areas\" has no such field)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("1 role errors"), "{stdout}");

    // A setting [roles] does not know, and a role layer the catalogue lacks, stop `check`
    // before any layer loads, naming the file and the setting.
    write("parchi = \"zone_verdi\"\n");
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("catalog.toml"), "{stderr}");
    assert!(
        stderr.contains("[roles] has no setting \"parchi\" (the settings are: projects, "),
        "{stderr}"
    );
    write("roads = \"strade\"\n");
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("[roles] roads = \"strade\", but the catalogue has no such layer"),
        "{stderr}"
    );
}

#[test]
fn missing_catalogue_and_missing_layer_file_are_named() {
    let out = territorio(&["check", "/nonexistent/catalog.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/catalog.toml"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    std::fs::remove_file(dir.path().join("zones.geojson")).unwrap();
    let out = territorio(&["check", catalog.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("zones.geojson") && stderr.contains("\"zones\""),
        "{stderr}"
    );
}

#[test]
fn query_nearest_prints_crs84_geojson_sorted_by_distance() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    // A point between the two squares, closer to Zona B: 10.028 is 0.002° from B's west edge
    // (about 157 m at 45.13°N) and 0.018° from A's east edge (about 1.4 km).
    let out = territorio(&[
        "query",
        "--catalog",
        catalog.to_str().unwrap(),
        "nearest",
        "--layer",
        "zones",
        "--point",
        "10.028,45.135",
        "-k",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    assert_eq!(features[0]["id"], "Zona B");
    assert_eq!(features[1]["id"], "Zona A");
    // 0.002° of longitude at 45.135°N: 0.002 × 111,320 m × cos(45.135°) ≈ 157.1 m on the
    // ground; UTM's scale factor there (about 0.99966, 80 km off the central meridian) makes
    // the grid distance about 157.0 m.
    let d0 = features[0]["properties"]["distance_m"].as_f64().unwrap();
    assert!((d0 - 157.0).abs() < 1.5, "{d0}");
    let d1 = features[1]["properties"]["distance_m"].as_f64().unwrap();
    assert!((d1 - 1413.0).abs() < 12.0, "{d1}");
    // Output coordinates are lon, lat (RFC 7946), back where they came from.
    let first = &features[0]["geometry"]["coordinates"][0][0];
    assert!((first[0].as_f64().unwrap() - 10.03).abs() < 1e-7, "{first}");
    assert!((first[1].as_f64().unwrap() - 45.13).abs() < 1e-7, "{first}");
    assert_eq!(features[0]["properties"]["kind"], "logistics");
}

#[test]
fn query_overlay_totals_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    // A box covering all of Zona A and the west half of Zona B: B's share must be 0.5.
    let out = territorio(&[
        "query",
        "--catalog",
        catalog.to_str().unwrap(),
        "overlay",
        "--layer",
        "zones",
        "--bbox",
        "9.99,45.12,10.035,45.15",
        "--group-by",
        "kind",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fc["measure"], "area");
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    let share = |i: usize| features[i]["properties"]["feature_share"].as_f64().unwrap();
    assert!((share(0) - 1.0).abs() < 1e-6, "{}", share(0));
    assert!((share(1) - 0.5).abs() < 1e-3, "{}", share(1));
    let groups = fc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["key"], "industrial");
    assert_eq!(groups[1]["key"], "logistics");
    // The total is in the measure (square metres here) and the site's share is that total
    // over the site's area.
    let num = |v: &Json| v.as_f64().unwrap();
    assert_eq!(fc["total"], fc["total_area_m2"]);
    let site_share = num(&fc["total"]) / num(&fc["site_area_m2"]);
    assert!((num(&fc["site_share"]) - site_share).abs() < 1e-6, "{fc}");
    for g in groups {
        assert_eq!(g["amount"], g["area_m2"]);
    }
}

#[test]
fn bad_query_parameters_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    let c = catalog.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["nearest", "--layer", "strade", "--point", "10,45"],
            "no layer \"strade\"",
        ),
        (
            vec!["nearest", "--layer", "zones", "--point", "10;45"],
            "--point",
        ),
        (
            vec![
                "nearest",
                "--layer",
                "zones",
                "--point",
                "10,45",
                "--crs",
                "EPSG:999999",
            ],
            "EPSG:999999",
        ),
        (
            vec![
                "within-distance",
                "--layer",
                "zones",
                "--point",
                "10,45",
                "--distance",
                "-5",
            ],
            "distance",
        ),
        (
            vec![
                "overlay",
                "--layer",
                "zones",
                "--geometry",
                "{\"type\":\"Polygon\"",
            ],
            "malformed GeoJSON",
        ),
        (
            vec![
                "overlay",
                "--layer",
                "zones",
                "--bbox",
                "10,45,10.1,45.1",
                "--group-by",
                "tipo",
            ],
            "\"tipo\"",
        ),
    ] {
        let mut all = vec!["query", "--catalog", c];
        all.extend(args.iter().copied());
        let out = territorio(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn query_speaks_gauss_boaga_in_and_out() {
    // Zona B's south-west corner (10.03 E, 45.13 N) is (1581025.05, 4997926.95) in EPSG:3003
    // according to GDAL's gdaltransform (-s_srs OGC:CRS84 -t_srs EPSG:3003), a reference
    // independent of territorio's own transformation code.
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue(dir.path(), false);
    let out = territorio(&[
        "query",
        "--catalog",
        catalog.to_str().unwrap(),
        "intersects",
        "--layer",
        "zones",
        "--point",
        "1581030,4997935",
        "--crs",
        "EPSG:3003",
        "--out-crs",
        "EPSG:3003",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Json = serde_json::from_slice(&out.stdout).unwrap();
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "{fc}");
    assert_eq!(features[0]["id"], "Zona B");
    let corner = &features[0]["geometry"]["coordinates"][0][0];
    let (x, y) = (corner[0].as_f64().unwrap(), corner[1].as_f64().unwrap());
    assert!(
        (x - 1581025.05).abs() < 0.05 && (y - 4997926.95).abs() < 0.05,
        "{corner}"
    );
}

fn demo_catalog() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/cremona/catalog.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn report_prints_summary_lines_or_json_and_names_unknown_projects() {
    let catalog = demo_catalog();
    let out = territorio(&["report", "P012", "--catalog", &catalog]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for system in [
        "settlement:",
        "environmental:",
        "rural:",
        "infrastructure:",
        "services:",
    ] {
        assert!(stdout.contains(system), "{stdout}");
    }
    let out = territorio(&["report", "P012", "--catalog", &catalog, "--format", "json"]);
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["project"]["id"], "P012");
    assert_eq!(json["summary"].as_array().unwrap().len(), 5);

    let out = territorio(&["report", "P999", "--catalog", &catalog]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("no project \"P999\""), "{stderr}");
    let out = territorio(&[
        "report",
        "P012",
        "--catalog",
        &catalog,
        "--agrifood-radius=-5",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 200,000 m"));
}

#[test]
fn indicators_write_json_csv_and_geojson() {
    let catalog = demo_catalog();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("i.csv");
    let out = territorio(&[
        "indicators",
        "--catalog",
        &catalog,
        "--format",
        "csv",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("indicator_id,group,key,value,unit\n"));
    assert!(text.contains("\nprogress.projects,axis,1,"), "{text}");

    let out = territorio(&["indicators", "--catalog", &catalog, "--format", "geojson"]);
    let gj: Json = serde_json::from_slice(&out.stdout).unwrap();
    let features = gj["features"].as_array().unwrap();
    assert_eq!(features.len(), 60);
    // CRS84: longitudes around 10°E, latitudes around 45°N.
    let first = &gj["features"][0]["geometry"]["coordinates"][0][0][0];
    let (lon, lat) = (first[0].as_f64().unwrap(), first[1].as_f64().unwrap());
    assert!(
        (9.0..11.0).contains(&lon) && (44.5..46.0).contains(&lat),
        "{first}"
    );
    assert!(features
        .iter()
        .all(|f| f["properties"]["hospital_distance_m"].is_number()));

    let out = territorio(&["indicators", "--catalog", &catalog]);
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["id"].is_string() && d["unit"].is_string()));
}

// ---------------------------------------------------------------------------------------------
// join

/// The test catalogue plus a `wells` layer (CRS84 points, id field `name`): W1 in Zona A,
/// "Pozzo, nord" in Zona A too, W2 in Zona B, W3 between the two squares.
fn catalogue_with_wells(dir: &Path) -> std::path::PathBuf {
    let catalog = catalogue(dir, false);
    let well = |name: &str, lon: f64, lat: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}"}},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}}}}"#
        )
    };
    let wells = [
        well("W1", 10.005, 45.135),
        well("Pozzo, nord", 10.002, 45.139),
        well("W2", 10.035, 45.135),
        well("W3", 10.02, 45.135),
    ];
    std::fs::write(
        dir.join("wells.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            wells.join(",")
        ),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&catalog).unwrap();
    text.push_str(
        r#"
[[layer]]
id = "wells"
title = "Pozzi"
description = "test wells"
system = "settlement"
source = "wells.geojson"
id_field = "name"
"#,
    );
    std::fs::write(&catalog, text).unwrap();
    catalog
}

#[test]
fn join_writes_csv_and_crs84_geojson_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue_with_wells(dir.path());
    let c = catalog.to_str().unwrap();
    // By the coordinates: Zona A is [10.00, 10.01] x [45.13, 45.14], Zona B [10.03, 10.04] x
    // [45.13, 45.14]. W3 (10.02) lies in neither: its row keeps empty joined cells.
    let out = territorio(&["join", "wells", "zones", "--format", "csv", "--catalog", c]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "fid,name,zones_name,zones_kind\n\
         W1,W1,Zona A,industrial\n\
         \"Pozzo, nord\",\"Pozzo, nord\",Zona A,industrial\n\
         W2,W2,Zona B,logistics\n\
         W3,W3,,\n"
    );
    assert!(
        stderr.contains("joined 3 of 4 features of wells to zones"),
        "{stderr}"
    );

    // GeoJSON (CRS84), only the kind, no prefix, unmatched wells left out, into a file.
    let file = dir.path().join("joined.geojson");
    let out = territorio(&[
        "join",
        "wells",
        "zones",
        "--predicate",
        "within",
        "--fields",
        "kind",
        "--prefix",
        "",
        "--discard-nonmatching",
        "--catalog",
        c,
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Json = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["predicate"], "within");
    assert_eq!((&fc["matched"], &fc["unmatched"]), (&3.into(), &1.into()));
    let features = fc["features"].as_array().unwrap();
    let got: Vec<(&str, &str)> = features
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["properties"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("W1", "industrial"),
            ("Pozzo, nord", "industrial"),
            ("W2", "logistics")
        ]
    );
    // Back in CRS84 where the file put it (to PROJ's round trip, far below 1e-7 degrees).
    let p = &features[0]["geometry"]["coordinates"];
    assert!(
        (p[0].as_f64().unwrap() - 10.005).abs() < 1e-7
            && (p[1].as_f64().unwrap() - 45.135).abs() < 1e-7,
        "{p}"
    );
}

#[test]
fn join_names_unknown_layers_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalogue_with_wells(dir.path());
    let c = catalog.to_str().unwrap();
    for (args, needle) in [
        (vec!["join", "pozzi", "zones"], "no layer \"pozzi\""),
        (vec!["join", "wells", "zone"], "no layer \"zone\""),
        (
            vec!["join", "wells", "zones", "--fields", "tipo"],
            "no field \"tipo\"",
        ),
        (
            vec!["join", "wells", "zones", "--predicate", "touches"],
            "touches",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--catalog", c]);
        let out = territorio(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Runs GDAL's SQLite dialect (SpatiaLite, whose predicates and intersections are GEOS's) on a
/// GeoPackage of the demo's projects and municipalities, the projects moved to the working CRS
/// by ogr2ogr: a reference that shares no code with territorio. Returns the features' properties.
fn gdal_sql(gpkg: &Path, sql: &str) -> Vec<serde_json::Map<String, Json>> {
    let out = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "/vsistdout/"])
        .arg(gpkg)
        .args(["-dialect", "sqlite", "-sql", sql])
        .output()
        .expect("GDAL's ogr2ogr runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Json = serde_json::from_slice(&out.stdout).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].as_object().unwrap().clone())
        .collect()
}

fn demo_gpkg(dir: &Path) -> std::path::PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/data");
    let gpkg = dir.join("demo.gpkg");
    for args in [
        vec![
            "-f".to_string(),
            "GPKG".into(),
            "-lco".into(),
            "GEOMETRY_NAME=geom".into(),
            gpkg.to_string_lossy().into(),
            data.join("settlement.gpkg").to_string_lossy().into(),
            "municipalities".into(),
        ],
        vec![
            "-update".into(),
            "-t_srs".into(),
            "EPSG:32632".into(),
            "-lco".into(),
            "GEOMETRY_NAME=geom".into(),
            "-nln".into(),
            "projects".into(),
            gpkg.to_string_lossy().into(),
            data.join("projects.geojson").to_string_lossy().into(),
        ],
    ] {
        let out = Command::new("ogr2ogr").args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    gpkg
}

/// `territorio join projects municipalities` on the demo: (project, municipality) rows.
fn demo_join(extra: &[&str]) -> Vec<(String, String)> {
    let catalog = demo_catalog();
    let mut args = vec![
        "join",
        "projects",
        "municipalities",
        "--fields",
        "name",
        "--discard-nonmatching",
        "--catalog",
        &catalog,
    ];
    args.extend(extra);
    let out = territorio(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Json = serde_json::from_slice(&out.stdout).unwrap();
    let mut rows: Vec<(String, String)> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["properties"]["municipalities_name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn join_on_the_demo_agrees_with_spatialite() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = demo_gpkg(dir.path());
    let pairs = |predicate: &str| -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = gdal_sql(
            &gpkg,
            &format!(
                "SELECT p.id AS project, m.name AS municipality FROM projects p \
                 JOIN municipalities m ON {predicate}(p.geom, m.geom)"
            ),
        )
        .into_iter()
        .map(|r| {
            (
                r["project"].as_str().unwrap().to_string(),
                r["municipality"].as_str().unwrap().to_string(),
            )
        })
        .collect();
        rows.sort();
        rows
    };
    // One row per (project, municipality) that intersect; within: the projects wholly inside
    // one municipality.
    let intersects = pairs("ST_Intersects");
    assert!(intersects.len() > 150, "some projects cross a border");
    assert_eq!(demo_join(&[]), intersects);
    let within = pairs("ST_Within");
    assert!(within.len() < 150, "some projects are not inside one");
    assert_eq!(demo_join(&["--predicate", "within"]), within);

    // Largest overlap: by SpatiaLite's intersection areas (polygons) and lengths (lines).
    let overlaps = gdal_sql(
        &gpkg,
        "SELECT p.id AS project, m.name AS municipality, ST_Dimension(p.geom) AS dim, \
         ST_Area(ST_Intersection(p.geom, m.geom)) AS area, \
         ST_Length(ST_Intersection(p.geom, m.geom)) AS length \
         FROM projects p JOIN municipalities m ON ST_Intersects(p.geom, m.geom) \
         ORDER BY p.id, m.fid",
    );
    let largest: std::collections::BTreeMap<String, String> =
        demo_join(&["--mode", "largest"]).into_iter().collect();
    let mut decided = 0;
    let mut i = 0;
    while i < overlaps.len() {
        let project = overlaps[i]["project"].as_str().unwrap();
        let rows: Vec<_> = overlaps[i..]
            .iter()
            .take_while(|r| r["project"] == project)
            .collect();
        i += rows.len();
        // The overlap is an area for a polygon project, a length for a line, none for a point.
        let amount = |r: &serde_json::Map<String, Json>| match r["dim"].as_i64() {
            Some(2) => r["area"].as_f64().unwrap(),
            Some(1) => r["length"].as_f64().unwrap(),
            _ => 0.0,
        };
        let mut sorted = rows.clone();
        sorted.sort_by(|a, b| amount(b).total_cmp(&amount(a)));
        let want = if rows.len() == 1 || amount(sorted[0]) == 0.0 {
            // One match, or a point on a border: the first in the municipalities' order.
            rows[0]["municipality"].as_str().unwrap()
        } else {
            // Overlaps within a millionth of each other are a tie up to rounding: skip them.
            if amount(sorted[1]) > amount(sorted[0]) * (1.0 - 1e-6) {
                continue;
            }
            decided += 1;
            sorted[0]["municipality"].as_str().unwrap()
        };
        assert_eq!(largest[project], want, "{project}: {rows:?}");
    }
    assert!(decided > 10, "{decided} projects across borders checked");
    assert_eq!(largest.len(), 150);
}
