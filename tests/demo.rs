//! The demo catalogue in `examples/cremona/`: it loads cleanly, it is what the generator
//! makes, it names every role, its geography and projects have the properties the demo
//! promises, the projects obey their own field rules, and their monitoring history replays to
//! the projects' current values.

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
        let amount = |field: &str| match p.value(f, field) {
            Some(Value::Real(v)) => *v,
            other => panic!("{}: {field} {other:?}", f.id),
        };
        let (budget, committed, spent) = (
            amount("budget_eur"),
            amount("committed_eur"),
            amount("spent_eur"),
        );
        assert!(budget > 0.0, "{}", f.id);
        assert!(
            0.0 <= spent && spent <= committed && committed <= budget,
            "{}: spent {spent}, committed {committed}, budget {budget}",
            f.id
        );
        match status {
            "proposed" => assert_eq!(committed, 0.0, "{}", f.id),
            "completed" => assert!(spent >= 0.9 * budget, "{}: {spent} of {budget}", f.id),
            // Once funded the works are committed: most of the budget.
            "funded" | "in_progress" => assert!(committed >= 0.5 * budget, "{}", f.id),
            _ => assert!(committed < 0.5 * budget, "{}", f.id),
        }
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

/// The properties of the committed `projects.geojson`, by id, as JSON (read without the
/// engine, so JSON numbers keep their form: an integer is not a real).
fn source_projects() -> BTreeMap<String, serde_json::Map<String, serde_json::Value>> {
    let path = root().join("examples/cremona/data/projects.geojson");
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["properties"].as_object().unwrap().clone();
            (p["id"].as_str().unwrap().to_string(), p)
        })
        .collect()
}

/// The lines of the committed history file, parsed.
fn history_lines() -> Vec<serde_json::Map<String, serde_json::Value>> {
    let path = root().join("examples/cremona/data/projects_history.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'));
    text.lines()
        .enumerate()
        .map(|(i, l)| match serde_json::from_str(l) {
            Ok(serde_json::Value::Object(o)) => o,
            other => panic!("line {}: {other:?}", i + 1),
        })
        .collect()
}

/// The projects layer is editable and its rules are in the catalogue; the other layers are
/// read-only.
#[test]
fn the_projects_are_editable_with_a_history_and_field_rules() {
    let path = root().join("examples/cremona/catalog.toml");
    let file = CatalogFile::read(&path).unwrap();
    for l in &file.layers {
        assert_eq!(l.is_editable(), l.id == "projects", "{}", l.id);
    }
    let projects = file.layers.iter().find(|l| l.id == "projects").unwrap();
    let edit = projects.edit.as_ref().unwrap();
    assert_eq!(
        edit.history.as_deref(),
        Some(Path::new("data/projects_history.jsonl"))
    );
    assert_eq!(edit.id_prefix.as_deref(), Some("P"));
    // Resolved against the catalogue's folder, like the sources.
    let resolved = catalog().config.layer("projects").unwrap();
    let history = resolved.edit.as_ref().unwrap().history.as_ref().unwrap();
    assert_eq!(
        history,
        &root().join("examples/cremona/data/projects_history.jsonl")
    );
    // Every field has an Italian title.
    let l = layer("projects");
    for f in &l.fields {
        let rule = projects.field_rule(&f.name);
        assert!(
            rule.is_some_and(|r| r.title.as_deref().is_some_and(|t| !t.is_empty())),
            "{} has no title",
            f.name
        );
    }
    let rule = |n: &str| projects.field_rule(n).unwrap();
    assert_eq!(
        rule("progress_pct").title.as_deref(),
        Some("Avanzamento (%)")
    );
    assert!(rule("status").required && rule("axis").required && rule("title").required);
    assert_eq!(rule("end_date").not_before.as_deref(), Some("start_date"));
    assert_eq!(rule("axis_name").derived.as_ref().unwrap().from, "axis");
}

/// Every project obeys the catalogue's rules for its fields: required values, allowed values,
/// ranges, date order and derived values.
#[test]
fn the_projects_obey_their_field_rules() {
    use territorio::catalog::Allowed;
    let path = root().join("examples/cremona/catalog.toml");
    let file = CatalogFile::read(&path).unwrap();
    let rules = &file
        .layers
        .iter()
        .find(|l| l.id == "projects")
        .unwrap()
        .field_rules;
    let mut checked = 0;
    for (id, p) in source_projects() {
        for r in rules {
            let v = &p[&r.name];
            if r.required {
                assert!(!v.is_null(), "{id}: {} is required", r.name);
            }
            if v.is_null() {
                continue;
            }
            if !r.allowed.is_empty() {
                let ok = r.allowed.iter().any(|a| match a {
                    Allowed::Int(i) => v.as_i64() == Some(*i),
                    Allowed::Text(t) => v.as_str() == Some(t.as_str()),
                });
                assert!(ok, "{id}: {} = {v} is not allowed", r.name);
            }
            if let Some(min) = r.minimum {
                assert!(v.as_f64().unwrap() >= min, "{id}: {} = {v}", r.name);
            }
            if let Some(max) = r.maximum {
                assert!(v.as_f64().unwrap() <= max, "{id}: {} = {v}", r.name);
            }
            if let Some(other) = &r.not_before {
                assert!(
                    v.as_str().unwrap() >= p[other].as_str().unwrap(),
                    "{id}: {} before {other}",
                    r.name
                );
            }
            if let Some(d) = &r.derived {
                let key = match &p[&d.from] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(v.as_str(), d.values.get(&key).map(String::as_str), "{id}");
            }
            checked += 1;
        }
    }
    assert!(checked > 150 * 10, "{checked}");
}

/// The monitoring history, read as an importer would, without the generator's code: one JSON
/// object a line, sorted by time; each project starts with a `create`; replaying the `set`s
/// over the source's properties never lowers progress or amounts, never sends a status back,
/// keeps 0 <= spent <= committed <= budget, and ends exactly at the source's current values.
#[test]
fn the_monitoring_history_replays_to_the_projects() {
    use territorio::time::{parse_timestamp, Zone};
    const MONITORED: [&str; 4] = ["status", "progress_pct", "committed_eur", "spent_eur"];
    const ORDER: [&str; 5] = ["proposed", "design", "funded", "in_progress", "completed"];
    let source = source_projects();
    let lines = history_lines();
    let mut state: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    let mut last_at: Option<i128> = None;
    let mut users = std::collections::BTreeSet::new();
    let mut days = std::collections::BTreeSet::new();
    let mut entered = std::collections::BTreeSet::new();
    // The day of each project's last line.
    let mut last_change: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in lines.iter().enumerate() {
        let n = n + 1;
        let keys: Vec<&str> = line.keys().map(String::as_str).collect();
        assert_eq!(keys, ["at", "user", "id", "op", "set"], "line {n}");
        let at = line["at"].as_str().unwrap();
        assert!(at.ends_with('Z') && at.len() == 20, "line {n}: {at}");
        let t = parse_timestamp(at, Zone::Required).unwrap_or_else(|| panic!("line {n}: {at}"));
        assert!(
            last_at.is_none_or(|l| l < t),
            "line {n}: {at} is not after the line before"
        );
        last_at = Some(t);
        days.insert(at[..10].to_string());
        let user = line["user"].as_str().unwrap();
        assert!(!user.is_empty());
        users.insert(user.to_string());
        let id = line["id"].as_str().unwrap();
        let src = source
            .get(id)
            .unwrap_or_else(|| panic!("line {n}: no project {id}"));
        let set = line["set"].as_object().unwrap();
        assert!(
            set.keys().all(|k| MONITORED.contains(&k.as_str())),
            "line {n}: {set:?}"
        );
        let before = state.get(id).cloned();
        match (line["op"].as_str().unwrap(), &before) {
            ("create", None) => {
                assert_eq!(
                    set.len(),
                    4,
                    "line {n}: a create sets every monitored field"
                );
                entered.insert(at[..10].to_string());
                let mut s = src.clone();
                s.extend(set.clone());
                state.insert(id.to_string(), s);
            }
            ("update", Some(b)) => {
                assert!(!set.is_empty(), "line {n}: an empty update");
                for (k, v) in set {
                    assert_ne!(&b[k], v, "line {n}: {k} set to the value it had");
                }
                let s = state.get_mut(id).unwrap();
                s.extend(set.clone());
            }
            (op, _) => panic!(
                "line {n}: {op} for {id} (seen before: {})",
                before.is_some()
            ),
        }
        last_change.insert(id.to_string(), at[..10].to_string());
        let now = &state[id];
        // The state is consistent...
        let status = ORDER
            .iter()
            .position(|s| now["status"] == *s)
            .unwrap_or_else(|| panic!("line {n}: status {}", now["status"]));
        let progress = now["progress_pct"].as_i64().unwrap();
        let committed = now["committed_eur"].as_f64().unwrap();
        let spent = now["spent_eur"].as_f64().unwrap();
        let budget = src["budget_eur"].as_f64().unwrap();
        assert!((0..=100).contains(&progress), "line {n}");
        assert!(
            0.0 <= spent && spent <= committed && committed <= budget,
            "line {n}: spent {spent}, committed {committed}, budget {budget}"
        );
        match ORDER[status] {
            "proposed" => assert_eq!((progress, committed), (0, 0.0), "line {n}"),
            "completed" => assert_eq!(progress, 100, "line {n}"),
            _ => assert!((1..100).contains(&progress), "line {n}"),
        }
        // ... and never goes back.
        if let Some(b) = before {
            let old = ORDER.iter().position(|s| b["status"] == *s).unwrap();
            assert!(status >= old, "line {n}: status went back");
            assert!(progress >= b["progress_pct"].as_i64().unwrap(), "line {n}");
            assert!(
                committed >= b["committed_eur"].as_f64().unwrap(),
                "line {n}"
            );
            assert!(spent >= b["spent_eur"].as_f64().unwrap(), "line {n}");
        }
    }
    // Every project has a history, which ends at its current values, as the same JSON numbers.
    assert_eq!(
        state.keys().collect::<Vec<_>>(),
        source.keys().collect::<Vec<_>>()
    );
    for (id, s) in &state {
        for k in MONITORED {
            assert_eq!(s[k], source[id][k], "{id}: {k}");
        }
    }
    // Several rounds over about two years, several officers, projects entering at different
    // rounds.
    assert!(days.len() >= 6, "{days:?}");
    let (first, last) = (days.first().unwrap(), days.last().unwrap());
    let span =
        territorio::time::parse_date(last).unwrap() - territorio::time::parse_date(first).unwrap();
    assert!((540..=900).contains(&span), "{first} to {last}");
    assert!(users.len() >= 2, "{users:?}");
    assert!(entered.len() >= 3, "creates on {entered:?}");
    // Some projects stall: not completed, past their planned end on the last round's day, and
    // unchanged in the last round.
    let stalled: Vec<&String> = source
        .iter()
        .filter(|(id, p)| {
            p["status"] != "completed"
                && p["end_date"].as_str().unwrap() < last.as_str()
                && last_change[*id] < *last
        })
        .map(|(id, _)| id)
        .collect();
    assert!(stalled.len() >= 5, "{stalled:?}");
}
