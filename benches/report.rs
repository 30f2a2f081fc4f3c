//! Site report and indicator benchmarks: on the demo catalogue (`examples/cremona/catalog.toml`), and on a
//! deterministic synthetic province of 100,000 zones (municipalities, with agricultural and
//! productive zones drawn from them), 20,000 projects (half points, half 200 m squares),
//! 300 nursing homes and 20 hospitals. Run with `cargo bench --bench report`.

#[allow(dead_code)] // the engine bench uses the rest of the generator
mod synthetic;

use std::path::Path;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use geo::{Geometry, Rect};
use territorio::catalog::{CatalogConfig, LayerConfig, RoleTable, System};
use territorio::feature::{Feature, FeatureId, Field, FieldType, Value};
use territorio::ptcp::indicators::{indicators_with, Memo};
use territorio::ptcp::roles as role_table;
use territorio::ptcp::{indicators, site_report, IndicatorOptions, ReportOptions};
use territorio::store::{Catalog, Layer};

fn layer(
    id: &str,
    system: System,
    fields: Vec<Field>,
    rows: Vec<(Geometry<f64>, Vec<Value>)>,
) -> Layer {
    let features = rows
        .into_iter()
        .enumerate()
        .map(|(i, (geometry, values))| Feature {
            id: FeatureId::Int(i as i64 + 1),
            geometry,
            values: values.into(),
            invalid: None,
        })
        .collect();
    let config = LayerConfig {
        id: id.into(),
        title: id.into(),
        description: "synthetic".into(),
        system,
        source: "memory".into(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: None,
        crs: None,
        style: None,
        edit: None,
        field_rules: Vec::new(),
    };
    Layer::new(
        config,
        "EPSG:32632".into(),
        "memory".into(),
        fields,
        features,
    )
    .unwrap()
}

fn field(name: &str, ty: FieldType) -> Field {
    Field {
        name: name.into(),
        ty,
    }
}

fn large() -> Catalog {
    let zones = synthetic::zones_of(synthetic::GRID_100K);
    let kind = |v: &[Value]| v[1].to_string();
    let municipalities: Vec<_> = zones
        .iter()
        .enumerate()
        .map(|(i, (g, v))| {
            (
                g.clone(),
                vec![v[0].clone(), Value::Int(200 + (i as i64 * 37) % 3000)],
            )
        })
        .collect();
    let agricultural: Vec<_> = zones
        .iter()
        .filter(|(_, v)| kind(v) == "agricultural")
        .map(|(g, v)| (g.clone(), vec![v[0].clone()]))
        .collect();
    let productive: Vec<_> = zones
        .iter()
        .filter(|(_, v)| kind(v) == "industrial" || kind(v) == "logistics")
        .map(|(g, v)| {
            (
                g.clone(),
                vec![
                    v[0].clone(),
                    v[1].clone(),
                    Value::Bool(matches!(v[0], Value::Int(c) if c % 5 == 0)),
                ],
            )
        })
        .collect();
    let projects: Vec<_> = synthetic::points(20_000, 5)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let g = if i % 2 == 0 {
                Geometry::Point(p)
            } else {
                let (x, y) = (
                    p.x().clamp(synthetic::X0 + 200.0, synthetic::X1 - 200.0),
                    p.y().clamp(synthetic::Y0 + 200.0, synthetic::Y1 - 200.0),
                );
                Geometry::Polygon(Rect::new((x, y), (x + 200.0, y + 200.0)).to_polygon())
            };
            (
                g,
                vec![
                    Value::Int((i % 8) as i64 + 1),
                    Value::String(["design", "funded", "completed"][i % 3].into()),
                    Value::Real(1e5 * (i % 50) as f64),
                    Value::Int((i % 101) as i64),
                ],
            )
        })
        .collect();
    let points = |n, seed, beds: i64| -> Vec<(Geometry<f64>, Vec<Value>)> {
        synthetic::points(n, seed)
            .into_iter()
            .enumerate()
            .map(|(i, p)| (Geometry::Point(p), vec![Value::Int(beds + i as i64 % 80)]))
            .collect()
    };
    let layers = vec![
        layer(
            "zones",
            System::Settlement,
            vec![
                field("code", FieldType::Int),
                field("population", FieldType::Int),
            ],
            municipalities,
        ),
        layer(
            "agricultural",
            System::Rural,
            vec![field("code", FieldType::Int)],
            agricultural,
        ),
        layer(
            "productive",
            System::Settlement,
            vec![
                field("code", FieldType::Int),
                field("kind", FieldType::String),
                field("sovracomunale", FieldType::Bool),
            ],
            productive,
        ),
        layer(
            "projects",
            System::Projects,
            vec![
                field("axis", FieldType::Int),
                field("status", FieldType::String),
                field("budget_eur", FieldType::Real),
                field("progress_pct", FieldType::Int),
            ],
            projects,
        ),
        layer(
            "rsa",
            System::Settlement,
            vec![field("beds", FieldType::Int)],
            points(300, 11, 40),
        ),
        layer(
            "hospitals",
            System::Settlement,
            vec![field("beds", FieldType::Int)],
            points(20, 12, 200),
        ),
    ];
    let mut roles = RoleTable::default();
    for (role, layer) in [
        ("municipalities", "zones"),
        ("agricultural_land", "agricultural"),
        ("productive_areas", "productive"),
        ("nursing_homes", "rsa"),
    ] {
        assert!(role_table::set_layer(&mut roles, role, layer), "{role}");
    }
    let config = CatalogConfig {
        path: "synthetic.toml".into(),
        working_crs: "EPSG:32632".into(),
        styles_dir: "styles".into(),
        layers: layers.iter().map(|l| l.config.clone()).collect(),
        roles,
    };
    role_table::check(&config).unwrap();
    Catalog::from_layers(config, "EPSG:32632".into(), layers)
}

fn benches(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
    let demo = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let ids: Vec<String> = demo
        .layer("projects")
        .unwrap()
        .features
        .iter()
        .map(|f| f.id.to_string())
        .collect();
    let mut g = c.benchmark_group("report");
    g.measurement_time(Duration::from_secs(4));
    let mut i = 0usize;
    g.bench_function("site report of a demo project (all 150 in turn)", |b| {
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(site_report(&demo, &ids[i], &ReportOptions::default()).unwrap())
        })
    });
    g.sample_size(20);
    g.bench_function("indicators on the demo catalogue", |b| {
        b.iter(|| black_box(indicators(&demo, &IndicatorOptions::default()).unwrap()))
    });
    // What a server computes after each edit of a project's attributes: the sites' facts come
    // from the memo of the computation before, the sums are made again.
    let memo = Memo::default();
    indicators_with(&demo, &IndicatorOptions::default(), &memo).unwrap();
    g.bench_function("indicators on the demo catalogue, memo of the sites", |b| {
        b.iter(|| black_box(indicators_with(&demo, &IndicatorOptions::default(), &memo).unwrap()))
    });
    g.finish();

    let big = large();
    let mut g = c.benchmark_group("report-large");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("indicators on 100k zones and 20k projects", |b| {
        b.iter(|| black_box(indicators(&big, &IndicatorOptions::default()).unwrap()))
    });
    g.finish();
}

criterion_group!(report, benches);
criterion_main!(report);
