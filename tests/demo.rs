//! The demo catalogue in `examples/cremona/`: it loads cleanly, it is what the generator
//! makes, it names every role, and its geography and projects have the properties the demo
//! promises.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use geo::{
    Area, BooleanOps, BoundingRect, Contains, Coord, Geometry, Intersects, LineString,
    MultiPolygon, Point, Polygon,
};
use territorio::analysis::{nearest, overlay, select, OverlayOptions, Predicate};
use territorio::catalog::{CatalogConfig, CatalogFile, System};
use territorio::crs::{Transformer, CRS84};
use territorio::feature::Value;
use territorio::ptcp::roles::{bindings, Bound, FIELDS, NAME_FIELD};
use territorio::store::{Catalog, Layer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let config =
            CatalogConfig::from_file(&root().join("examples/cremona/catalog.toml")).unwrap();
        Catalog::load(config, &|_| {}).unwrap()
    })
}

fn layer(id: &str) -> &'static Layer {
    catalog()
        .layer(id)
        .unwrap_or_else(|| panic!("no layer {id}"))
}

fn text<'a>(l: &'a Layer, f: &'a territorio::feature::Feature, field: &str) -> &'a str {
    match l.value(f, field) {
        Some(Value::String(s)) => s,
        other => panic!("{field}: {other:?}"),
    }
}

/// The province outline the generator drew, in the working CRS.
fn province() -> Polygon<f64> {
    let t = Transformer::new(CRS84, "EPSG:32632").unwrap();
    let mut ring: Vec<Coord<f64>> = territorio::demo::geography::OUTLINE
        .iter()
        .map(|&(x, y)| Coord { x, y })
        .collect();
    t.coords(&mut ring).unwrap();
    ring.push(ring[0]);
    Polygon::new(LineString(ring), vec![])
}

#[test]
fn every_layer_loads_with_zero_invalid_geometries() {
    for l in catalog().layers() {
        assert!(!l.features.is_empty(), "{} is empty", l.id());
        let invalid: Vec<_> = l
            .invalid_features()
            .map(|f| (f.id.clone(), f.invalid.clone()))
            .collect();
        assert!(invalid.is_empty(), "{}: {invalid:?}", l.id());
        assert!(
            l.config.description.contains("not official PTCP data"),
            "{}",
            l.id()
        );
        assert!(l.config.style.is_some(), "{} has no style", l.id());
    }
}

#[test]
fn systems_formats_and_crs_are_as_announced() {
    let mut per_system: BTreeMap<System, Vec<&str>> = BTreeMap::new();
    for l in catalog().layers() {
        per_system.entry(l.config.system).or_default().push(l.id());
    }
    let ids = |s| per_system.get(&s).cloned().unwrap_or_default();
    assert_eq!(
        ids(System::Infrastructure),
        [
            "roads",
            "railways",
            "stations",
            "motorway_junctions",
            "river_port",
            "canal"
        ]
    );
    assert_eq!(
        ids(System::Settlement),
        [
            "municipalities",
            "urban_areas",
            "productive_areas",
            "hospitals",
            "nursing_homes",
            "schools"
        ]
    );
    assert_eq!(ids(System::Rural), ["agricultural_areas", "agrifood_sites"]);
    assert_eq!(
        ids(System::Environmental),
        [
            "rivers",
            "fluvial_belts",
            "parks",
            "natura2000",
            "ecological_corridors"
        ]
    );
    assert_eq!(ids(System::Projects), ["projects"]);

    // Formats and CRSs vary on purpose.
    assert_eq!(layer("roads").driver, "GPKG");
    assert_eq!(layer("roads").source_crs, "EPSG:32632");
    assert_eq!(layer("stations").driver, "FlatGeobuf");
    assert_eq!(layer("projects").driver, "GeoJSON");
    assert_eq!(layer("projects").source_crs, "EPSG:4326");
    let rsa = layer("nursing_homes");
    assert_eq!(rsa.driver, "ESRI Shapefile");
    assert_eq!(rsa.source_crs, "EPSG:3003");
    let cpg =
        std::fs::read_to_string(root().join("examples/cremona/data/nursing_homes.cpg")).unwrap();
    assert_eq!(cpg.trim(), "ISO-8859-1");
    let dbf = std::fs::read(root().join("examples/cremona/data/nursing_homes.dbf")).unwrap();
    assert!(
        dbf.windows(8).any(|w| w == b"Comunit\xe0"),
        "the DBF holds Latin-1 text"
    );
    assert!(rsa
        .features
        .iter()
        .any(|f| text(rsa, f, "name") == "RSA Comunità Sociale di Castelleone"));
    assert!(rsa
        .features
        .iter()
        .any(|f| text(rsa, f, "name").contains("Località Ombriano")));
}

#[test]
fn municipalities_tile_the_province() {
    let m = layer("municipalities");
    assert!(
        m.features.len() >= 40,
        "{} municipalities",
        m.features.len()
    );
    let polys: Vec<MultiPolygon<f64>> = m
        .features
        .iter()
        .map(|f| match &f.geometry {
            Geometry::MultiPolygon(mp) => mp.clone(),
            Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut overlap = 0.0;
    for i in 0..polys.len() {
        for j in i + 1..polys.len() {
            let (a, b) = (
                polys[i].bounding_rect().unwrap(),
                polys[j].bounding_rect().unwrap(),
            );
            if a.intersects(&b) {
                overlap += polys[i].intersection(&polys[j]).unsigned_area();
            }
        }
    }
    assert!(overlap < 1.0, "municipalities overlap by {overlap} m²");
    let total: f64 = polys.iter().map(|p| p.unsigned_area()).sum();
    let province = province().unsigned_area();
    assert!(
        (total - province).abs() / province < 1e-6,
        "{total} m² vs province {province} m²"
    );
    // Residents add up to about the province's 356,000.
    let residents: i64 = m
        .features
        .iter()
        .map(|f| match m.value(f, "population") {
            Some(Value::Int(n)) => *n,
            other => panic!("{other:?}"),
        })
        .sum();
    assert!(
        (residents as f64 - 356_000.0).abs() / 356_000.0 < 0.01,
        "{residents}"
    );
    // ISTAT-style codes: 019 and three digits, unique.
    let codes: std::collections::BTreeSet<&str> = m
        .features
        .iter()
        .map(|f| text(m, f, "istat_code"))
        .collect();
    assert_eq!(codes.len(), m.features.len());
    assert!(codes.iter().all(|c| c.len() == 6 && c.starts_with("019")));
}

#[test]
fn main_towns_fall_in_their_own_municipality() {
    // Coordinates from the domain notes (approximate town centres).
    let towns = common::MAIN_TOWNS;
    let m = layer("municipalities");
    let t = Transformer::new(CRS84, "EPSG:32632").unwrap();
    for (name, lon, lat) in towns {
        let p = Geometry::Point(Point(t.coord(Coord { x: lon, y: lat }).unwrap()));
        let found = select(m, &p, Predicate::Intersects).unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(text(m, &m.features[found[0] as usize], "name"), name);
    }
}

#[test]
fn projects_are_complete_and_inside_the_province() {
    let p = layer("projects");
    assert_eq!(p.features.len(), 150);
    let province = province();
    let mut kinds = BTreeMap::new();
    let axes = [
        "Sistema agroalimentare",
        "Agroenergia e ambiente",
        "Sistema produttivo e innovazione",
        "Conoscenza e formazione",
        "Infrastrutture e mobilità",
        "Cultura",
        "Turismo",
        "Welfare e servizi alla persona",
    ];
    let mut actions = std::collections::BTreeSet::new();
    for f in &p.features {
        assert!(
            province.contains(&f.geometry),
            "{} is outside the province",
            f.id
        );
        *kinds
            .entry(territorio::feature::geometry_type_name(&f.geometry))
            .or_insert(0) += 1;
        let axis = match p.value(f, "axis") {
            Some(Value::Int(a)) => *a,
            other => panic!("{other:?}"),
        };
        assert!((1..=8).contains(&axis));
        assert_eq!(text(p, f, "axis_name"), axes[(axis - 1) as usize]);
        assert!(["primo", "integrativo", "none"].contains(&text(p, f, "aqst_programme")));
        let status = text(p, f, "status");
        let progress = match p.value(f, "progress_pct") {
            Some(Value::Int(v)) => *v,
            other => panic!("{other:?}"),
        };
        match status {
            "proposed" => assert_eq!(progress, 0),
            "completed" => assert_eq!(progress, 100),
            "design" | "funded" | "in_progress" => {
                assert!((1..100).contains(&progress), "{status} {progress}")
            }
            other => panic!("status {other}"),
        }
        if let Some(Value::String(a)) = p.value(f, "emblematic_action") {
            actions.insert(a.clone());
        }
        assert!(matches!(p.value(f, "budget_eur"), Some(Value::Real(b)) if *b > 0.0));
        let (Some(Value::Date(start)), Some(Value::Date(end))) =
            (p.value(f, "start_date"), p.value(f, "end_date"))
        else {
            panic!("dates")
        };
        assert!(start < end, "{start} {end}");
        // The municipality attribute names the municipality that holds the project's anchor.
        let m = text(p, f, "municipality");
        assert!(
            layer("municipalities").features.iter().any(|c| text(
                layer("municipalities"),
                c,
                "name"
            ) == m),
            "{m}"
        );
    }
    assert!(
        kinds["Point"] >= 50 && kinds["LineString"] >= 15 && kinds["Polygon"] >= 30,
        "{kinds:?}"
    );
    assert!(
        actions.len() >= 12,
        "only {} emblematic actions used",
        actions.len()
    );
}

/// Projects of each situation, counted with the engine. The generator places 24 projects inside
/// productive areas (12 of them in areas of supra-municipal interest), 16 between 100 and 450 m
/// outside one, 24 across river belts, parks or Natura 2000 sites, 22 on strategic agricultural
/// land and 16 at least 2.5 km from any productive area and clear of every constraint; other
/// projects may add to these counts, never take from them.
#[test]
fn projects_cover_every_planning_situation() {
    let p = layer("projects");
    let productive = layer("productive_areas");
    let constraints = ["parks", "natura2000", "fluvial_belts"];
    let (mut inside, mut inside_sovra, mut just_outside, mut crossing, mut agricultural, mut far) =
        (0, 0, 0, 0, 0, 0);
    for f in &p.features {
        let g = &f.geometry;
        let containing = select(productive, g, Predicate::Contains).unwrap();
        if !containing.is_empty() {
            inside += 1;
            if containing.iter().any(|&i| {
                productive.value(&productive.features[i as usize], "sovracomunale")
                    == Some(&Value::Bool(true))
            }) {
                inside_sovra += 1;
            }
        }
        let d = nearest(productive, g, 1).unwrap()[0].distance_m;
        if d > 0.0 && d <= 500.0 {
            just_outside += 1;
        }
        let touches = |id: &str| {
            !select(layer(id), g, Predicate::Intersects)
                .unwrap()
                .is_empty()
        };
        if constraints.iter().any(|c| touches(c)) {
            crossing += 1;
        }
        if matches!(g, Geometry::Polygon(_))
            && overlay(layer("agricultural_areas"), g, &OverlayOptions::default())
                .unwrap()
                .total_area_m2
                > 0.0
        {
            agricultural += 1;
        }
        if d >= 2500.0
            && !constraints
                .iter()
                .chain(&["ecological_corridors"])
                .any(|c| touches(c))
        {
            far += 1;
        }
    }
    assert!(inside >= 24, "{inside} inside productive areas");
    assert!(
        inside_sovra >= 12,
        "{inside_sovra} inside supra-municipal areas"
    );
    assert!(just_outside >= 16, "{just_outside} just outside");
    assert!(crossing >= 24, "{crossing} crossing constraints");
    assert!(agricultural >= 22, "{agricultural} on agricultural land");
    assert!(far >= 16, "{far} far from everything");
}

/// The committed demo is what the generator writes, byte for byte. Only the files the
/// generator writes are compared: files a planner adds to the folder are not its business.
#[test]
fn regenerating_gives_byte_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let summary = territorio::demo::generate(dir.path()).unwrap();
    let committed = root().join("examples/cremona");
    // The summary lists exactly what was written.
    let mut written: Vec<PathBuf> = walk(dir.path())
        .into_iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
        .collect();
    written.sort();
    assert_eq!(written, summary.files);
    assert!(summary.files.contains(&PathBuf::from("catalog.toml")));
    assert_eq!(summary.layers.len(), catalog().layers().len());
    for f in &summary.files {
        let generated = std::fs::read(dir.path().join(f)).unwrap();
        let kept = std::fs::read(committed.join(f))
            .unwrap_or_else(|e| panic!("{}: {e}: run `territorio demo`", f.display()));
        assert!(
            generated == kept,
            "{} differs from the committed file: run `territorio demo`",
            f.display()
        );
    }
}

/// A file a planner adds beside the generated ones survives regeneration, and the
/// generated catalogue reads back into the value the generator serialised.
#[test]
fn regenerating_leaves_other_files_alone_and_the_catalogue_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/mine.geojson"), "planner's own").unwrap();
    territorio::demo::generate(dir.path()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/mine.geojson")).unwrap(),
        "planner's own"
    );
    let path = root().join("examples/cremona/catalog.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = CatalogFile::parse(&text, &path).unwrap();
    assert_eq!(parsed, territorio::demo::catalog_file().unwrap());
    let again = CatalogFile::parse(&parsed.to_toml().unwrap(), &path).unwrap();
    assert_eq!(again, parsed);
    // The header says what the file is, and invites edits and copies.
    assert!(text.starts_with("# The demo catalogue of territorio"));
    assert!(!text.contains("do not edit"));
}

/// Every role the site report and the indicators read is named in `[roles]`, with its
/// fields: nothing binds by the demo's layer ids silently.
#[test]
fn the_demo_names_every_role_explicitly() {
    let path = root().join("examples/cremona/catalog.toml");
    let file = CatalogFile::read(&path).unwrap();
    let ids: Vec<&str> = file.layers.iter().map(|l| l.id.as_str()).collect();
    for b in bindings(&file.roles, |id| ids.contains(&id)) {
        assert_eq!(b.how, Bound::Named, "{}", b.role.name());
    }
    for field in FIELDS.iter().chain([&NAME_FIELD]) {
        assert!(
            field.name_in(&file.roles).1,
            "{}_field is not named",
            field.key
        );
    }
    assert_eq!(file.roles.get("productive_areas"), Some("productive_areas"));
    assert_eq!(
        file.roles.get("agricultural_land"),
        Some("agricultural_areas")
    );
    assert_eq!(
        file.roles.get("supra_municipal_field"),
        Some("sovracomunale")
    );
    assert_eq!(file.roles.get("state_road_class"), Some("state"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_bank_restoration_takes_belts_a_and_b_but_not_c() {
    // P043 is a 600 x 300 m restoration area on the Oglio's bank, its long side parallel to the
    // river and its near edge 100 m from it: it spans 100 to 400 m from the river, so it lies in
    // belt A (0-300 m) and belt B (300-800 m), and belt C (800-1800 m) must not be listed even
    // though the site sits in C's hole (a sliver of rounding noise is not an overlap).
    let p = layer("projects");
    let f = p
        .get(&territorio::feature::FeatureId::Str("P043".into()))
        .unwrap();
    assert!(text(p, f, "title").contains("Oglio"));
    let belts = layer("fluvial_belts");
    let o = overlay(
        belts,
        &f.geometry,
        &OverlayOptions {
            group_by: Some("belt"),
            ..Default::default()
        },
    )
    .unwrap();
    let keys: Vec<&str> = o.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["A", "B"]);
    assert!(
        (o.total_area_m2 - 180_000.0).abs() < 1.0,
        "{}",
        o.total_area_m2
    );
    // Chaikin-free border river and straight buffers: A takes the 200 m strip from 100 to 300 m,
    // about two thirds of the site (less where the river bends).
    let a = o.groups[0].site_share.unwrap();
    assert!(a > 0.55 && a < 0.75, "{a}");
}
