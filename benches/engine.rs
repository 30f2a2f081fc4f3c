//! Engine benchmarks on deterministic synthetic data over the province extent:
//! 100,000 polygon zones (8-30 vertices, some with holes, tiling the extent), 20,000 points and
//! 50,000 road lines. Run with `cargo bench --bench engine` (or `scripts/bench`).
//!
//! The zones are written once to `target/bench-data/zones.gpkg` (EPSG:32632) and every query
//! runs against layers loaded from files through the normal load path.

mod synthetic;

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use geo::{Coord, Geometry, LineString, Polygon};
use territorio::analysis::{self, JoinMode, JoinOptions, JoinPredicate, OverlayOptions, Predicate};
use territorio::catalog::{LayerConfig, System};
use territorio::feature::Value;
use territorio::filter::{Filter, FilterLang};
use territorio::sink::{self, LayerGeometry, NewLayer};
use territorio::store::{load_layer, Layer};

const WORKING: &str = "EPSG:32632";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

fn config(id: &str, path: &Path) -> LayerConfig {
    LayerConfig {
        id: id.into(),
        title: id.into(),
        description: "synthetic benchmark data".into(),
        system: System::Settlement,
        source: path.to_path_buf(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: Some("code".into()),
        crs: None,
        style: None,
        edit: None,
        field_rules: Vec::new(),
    }
}

/// Writes the synthetic files once (they are deterministic, so a file on disk is always current
/// unless the generator changed: delete target/bench-data to regenerate).
fn ensure_data() -> (PathBuf, PathBuf, PathBuf) {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let zones = dir.join("zones.gpkg");
    let points = dir.join("points.gpkg");
    let roads = dir.join("roads.gpkg");
    let fields = synthetic::zone_fields();
    if !zones.exists() {
        eprintln!("writing {} ...", zones.display());
        synthetic::write_zones(&zones, synthetic::GRID_100K);
    }
    if !points.exists() {
        let features: Vec<_> = synthetic::points(20_000, 1)
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    Geometry::Point(p),
                    vec![Value::Int(i as i64 + 1), Value::String("point".into())],
                )
            })
            .collect();
        sink::write_layer(
            &points,
            "GPKG",
            &NewLayer {
                name: "points",
                crs: WORKING,
                geometry: LayerGeometry::Point,
                fields: &fields,
                options: &[],
            },
            &features,
        )
        .unwrap();
    }
    if !roads.exists() {
        let features: Vec<_> = synthetic::roads(50_000, 2)
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                (
                    g,
                    vec![Value::Int(i as i64 + 1), Value::String("road".into())],
                )
            })
            .collect();
        sink::write_layer(
            &roads,
            "GPKG",
            &NewLayer {
                name: "roads",
                crs: WORKING,
                geometry: LayerGeometry::LineString,
                fields: &fields,
                options: &[],
            },
            &features,
        )
        .unwrap();
    }
    // A catalogue over the three files, for `territorio check` (peak memory, see scripts/bench).
    let catalog = format!(
        "working_crs = \"{WORKING}\"\n{}",
        [("zones", &zones), ("points", &points), ("roads", &roads)]
            .iter()
            .map(|(id, p)| format!(
                "[[layer]]\nid = \"{id}\"\ntitle = \"{id}\"\ndescription = \"synthetic\"\nsystem = \"settlement\"\nsource = \"{}\"\nid_field = \"code\"\n",
                p.file_name().unwrap().to_string_lossy()
            ))
            .collect::<String>()
    );
    std::fs::write(dir.join("catalog.toml"), &catalog).unwrap();
    // The zones alone, to measure the peak memory of the 100k-zone load.
    let zones_only = catalog
        .split("[[layer]]")
        .take(2)
        .collect::<Vec<_>>()
        .join("[[layer]]");
    std::fs::write(dir.join("zones.toml"), zones_only).unwrap();
    (zones, points, roads)
}

fn load(id: &str, path: &Path) -> Layer {
    let layer = load_layer(&config(id, path), WORKING).unwrap();
    assert_eq!(
        layer.invalid_features().count(),
        0,
        "synthetic {id} must be valid"
    );
    layer
}

/// A ~1 km² site: a square of 1,000 m turned by `turn` radians around `c`.
fn site(c: Coord<f64>, turn: f64) -> Geometry<f64> {
    let (s, co) = turn.sin_cos();
    let corner = |u: f64, v: f64| Coord {
        x: c.x + u * co - v * s,
        y: c.y + u * s + v * co,
    };
    let ring = vec![
        corner(-500., -500.),
        corner(500., -500.),
        corner(500., 500.),
        corner(-500., 500.),
        corner(-500., -500.),
    ];
    Geometry::Polygon(Polygon::new(LineString(ring), vec![]))
}

/// A ~1 km² concave site (an L of three 577 m squares), which takes the general boolean path.
fn l_site(c: Coord<f64>) -> Geometry<f64> {
    let a = 577.0;
    let p = |x: f64, y: f64| Coord {
        x: c.x + x,
        y: c.y + y,
    };
    let ring = vec![
        p(0., 0.),
        p(2. * a, 0.),
        p(2. * a, a),
        p(a, a),
        p(a, 2. * a),
        p(0., 2. * a),
        p(0., 0.),
    ];
    Geometry::Polygon(Polygon::new(LineString(ring), vec![]))
}

fn benches(c: &mut Criterion) {
    let (zones_path, points_path, roads_path) = ensure_data();
    let zones = load("zones", &zones_path);
    let points = load("points", &points_path);
    let roads = load("roads", &roads_path);
    assert_eq!(zones.features.len(), 100_000);
    assert_eq!(points.features.len(), 20_000);
    assert_eq!(roads.features.len(), 50_000);
    let queries: Vec<Geometry<f64>> = synthetic::points(1024, 99)
        .into_iter()
        .map(Geometry::Point)
        .collect();
    let centres: Vec<Coord<f64>> = synthetic::points(256, 77)
        .into_iter()
        .map(|p| Coord {
            x: p.x().clamp(synthetic::X0 + 1500.0, synthetic::X1 - 1500.0),
            y: p.y().clamp(synthetic::Y0 + 1500.0, synthetic::Y1 - 1500.0),
        })
        .collect();
    let sites: Vec<Geometry<f64>> = centres
        .iter()
        .enumerate()
        .map(|(i, c)| site(*c, i as f64 * 0.1))
        .collect();
    let l_sites: Vec<Geometry<f64>> = centres.iter().map(|c| l_site(*c)).collect();

    let mut g = c.benchmark_group("queries");
    g.measurement_time(Duration::from_secs(4));
    let mut i = 0usize;
    g.bench_function("point in polygon", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(analysis::select(&zones, &queries[i], Predicate::Intersects).unwrap())
        })
    });
    g.bench_function("5 nearest zones", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(analysis::nearest(&zones, &queries[i], 5).unwrap())
        })
    });
    g.bench_function("roads within 500 m of a point", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(analysis::within_distance(&roads, &queries[i], 500.0).unwrap())
        })
    });
    let by_kind = OverlayOptions {
        with_geometry: false,
        group_by: Some("kind"),
    };
    g.bench_function("overlay of a ~1 km2 site with zones, areas by kind", |b| {
        b.iter(|| {
            i = (i + 1) % sites.len();
            black_box(analysis::overlay(&zones, &sites[i], &by_kind).unwrap())
        })
    });
    g.bench_function("overlay of a ~1 km2 concave site, areas by kind", |b| {
        b.iter(|| {
            i = (i + 1) % l_sites.len();
            black_box(analysis::overlay(&zones, &l_sites[i], &by_kind).unwrap())
        })
    });
    // Outside the fast path (`filter::fast`): the cql2 crate's parser, on a stack of its own
    // (`filter::compile::general`; this thread has less than the 8 MiB it asks for).
    let general = "(kind = 'industrial' OR kind LIKE 'res%') AND code BETWEEN 100 AND 5000";
    g.bench_function("compile a filter on the general path", |b| {
        b.iter(|| {
            black_box(
                Filter::compile(general, FilterLang::Cql2Text, &zones, WORKING, WORKING).unwrap(),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("bulk");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("join of all 20,000 points to their zone", |b| {
        b.iter(|| {
            black_box(analysis::spatial_join(
                &points,
                &zones,
                &JoinOptions::default(),
            ))
        })
    });
    let largest = JoinOptions {
        predicate: JoinPredicate::Intersects,
        mode: JoinMode::LargestOverlap,
    };
    g.bench_function("join of 50,000 roads to the zone they run most in", |b| {
        b.iter(|| black_box(analysis::spatial_join(&roads, &zones, &largest)))
    });
    g.bench_function("load a 100k-zone GeoPackage + index", |b| {
        b.iter(|| black_box(load_layer(&config("zones", &zones_path), WORKING).unwrap()))
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
