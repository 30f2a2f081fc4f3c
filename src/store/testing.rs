//! Small layers built in memory for the tests of the store and of what stands on it (analysis,
//! reports, indicators), and a seeded generator.

use geo::Geometry;

use super::{Catalog, Layer};
use crate::catalog::{CatalogConfig, LayerConfig, RoleTable, System};
use crate::feature::{Feature, FeatureId, Field, FieldType, Value};

/// A deterministic PCG-style generator (tests must not depend on a crate's RNG algorithm).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }
}

/// A layer of the given geometries, with ids 1.. and one string field `kind`.
pub fn layer(geometries: Vec<(Geometry<f64>, &str)>) -> Layer {
    let features = geometries
        .into_iter()
        .enumerate()
        .map(|(i, (geometry, kind))| Feature {
            id: FeatureId::Int(i as i64 + 1),
            geometry,
            values: vec![Value::String(kind.into())].into(),
            invalid: None,
        })
        .collect();
    Layer::new(
        LayerConfig {
            id: "test".into(),
            title: "test".into(),
            description: String::new(),
            system: System::Settlement,
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
        },
        "EPSG:32632".into(),
        "memory".into(),
        vec![Field {
            name: "kind".into(),
            ty: FieldType::String,
        }],
        features,
    )
    .expect("test layer")
}

/// A layer with an id, a system, named fields and features with ids `f.0`.
pub fn named_layer(
    id: &str,
    system: System,
    fields: &[(&str, FieldType)],
    features: Vec<(&str, Geometry<f64>, Vec<Value>)>,
) -> Layer {
    Layer::new(
        LayerConfig {
            id: id.into(),
            title: id.into(),
            description: String::new(),
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
        },
        "EPSG:32632".into(),
        "memory".into(),
        fields
            .iter()
            .map(|(n, ty)| Field {
                name: n.to_string(),
                ty: *ty,
            })
            .collect(),
        features
            .into_iter()
            .map(|(fid, geometry, values)| Feature {
                id: FeatureId::Str(fid.into()),
                geometry,
                values: values.into(),
                invalid: None,
            })
            .collect(),
    )
    .expect("test layer")
}

/// A catalogue of in-memory layers, with the given `[roles]`.
pub fn catalog(layers: Vec<Layer>, roles: RoleTable) -> Catalog {
    let config = CatalogConfig {
        path: "memory.toml".into(),
        working_crs: "EPSG:32632".into(),
        styles_dir: "styles".into(),
        layers: layers.iter().map(|l| l.config.clone()).collect(),
        roles,
    };
    Catalog::from_layers(config, "EPSG:32632".into(), layers)
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::Polygon(geo::Rect::new((x0, y0), (x1, y1)).to_polygon())
}

fn pt(x: f64, y: f64) -> Geometry<f64> {
    Geometry::Point(geo::Point::new(x, y))
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// A hand-checkable province (metres):
/// - municipalities A = [0,1000]x[0,1000] (1,000 residents), B = [1000,2000]x[0,1000] (3,000);
/// - productive areas PA1 = [100,400]² (industrial), PA2 = [1600,1900]x[600,900] (supra-municipal);
/// - park = [800,1200]x[0,1000]; agricultural land = [0,2000]x[0,200];
/// - hospital at (1500,100); nursing homes N1 at (500,500) with 40 beds, N2 at (2500,500) with 60;
/// - a station at (0,2000); a state road along y = 1500 and a motorway along y = -300;
///   an agri-food site at (1000,-1500);
/// - projects: P1 = [700,1400]x[100,300] (axis 1, budget 100, progress 10),
///   P2 = point (200,250) (axis 1, budget 300, progress 30),
///   P3 = line (400,500)-(1500,500) (axis 2, budget 600, progress 50).
pub fn province() -> Catalog {
    catalog(province_layers(), RoleTable::default())
}

/// The layers of [`province`].
pub fn province_layers() -> Vec<Layer> {
    use FieldType::*;
    vec![
        named_layer(
            "municipalities",
            System::Settlement,
            &[("name", String), ("population", Int)],
            vec![
                (
                    "A",
                    rect(0., 0., 1000., 1000.),
                    vec![s("Alfa"), Value::Int(1000)],
                ),
                (
                    "B",
                    rect(1000., 0., 2000., 1000.),
                    vec![s("Beta"), Value::Int(3000)],
                ),
            ],
        ),
        named_layer(
            "productive_areas",
            System::Settlement,
            &[
                ("name", String),
                ("kind", String),
                ("status", String),
                ("sovracomunale", Bool),
            ],
            vec![
                (
                    "PA1",
                    rect(100., 100., 400., 400.),
                    vec![s("Uno"), s("industrial"), s("existing"), Value::Bool(false)],
                ),
                (
                    "PA2",
                    rect(1600., 600., 1900., 900.),
                    vec![s("Due"), s("logistics"), s("planned"), Value::Bool(true)],
                ),
            ],
        ),
        named_layer(
            "parks",
            System::Environmental,
            &[("name", String)],
            vec![("PK", rect(800., 0., 1200., 1000.), vec![s("Parco")])],
        ),
        named_layer(
            "agricultural_areas",
            System::Rural,
            &[],
            vec![("AG", rect(0., 0., 2000., 200.), vec![])],
        ),
        named_layer(
            "hospitals",
            System::Settlement,
            &[("name", String), ("beds", Int)],
            vec![("H", pt(1500., 100.), vec![s("Ospedale"), Value::Int(100)])],
        ),
        named_layer(
            "nursing_homes",
            System::Settlement,
            &[("name", String), ("beds", Int)],
            vec![
                ("N1", pt(500., 500.), vec![s("RSA Uno"), Value::Int(40)]),
                ("N2", pt(2500., 500.), vec![s("RSA Due"), Value::Int(60)]),
            ],
        ),
        named_layer(
            "stations",
            System::Infrastructure,
            &[("name", String)],
            vec![("S", pt(0., 2000.), vec![s("Stazione")])],
        ),
        named_layer(
            "roads",
            System::Infrastructure,
            &[("name", String), ("class", String)],
            vec![
                (
                    "SS1",
                    Geometry::LineString(geo::LineString::from(vec![(0., 1500.), (2000., 1500.)])),
                    vec![s("Statale"), s("state")],
                ),
                (
                    "A1",
                    Geometry::LineString(geo::LineString::from(vec![(0., -300.), (2000., -300.)])),
                    vec![s("Autostrada"), s("motorway")],
                ),
            ],
        ),
        named_layer(
            "agrifood_sites",
            System::Rural,
            &[("name", String)],
            vec![("AF", pt(1000., -1500.), vec![s("Caseificio")])],
        ),
        named_layer(
            "projects",
            System::Projects,
            &[
                ("title", String),
                ("axis", Int),
                ("status", String),
                ("budget_eur", Real),
                ("progress_pct", Int),
            ],
            vec![
                (
                    "P1",
                    rect(700., 100., 1400., 300.),
                    vec![
                        s("Uno"),
                        Value::Int(1),
                        s("design"),
                        Value::Real(100.),
                        Value::Int(10),
                    ],
                ),
                (
                    "P2",
                    pt(200., 250.),
                    vec![
                        s("Due"),
                        Value::Int(1),
                        s("completed"),
                        Value::Real(300.),
                        Value::Int(30),
                    ],
                ),
                (
                    "P3",
                    Geometry::LineString(geo::LineString::from(vec![(400., 500.), (1500., 500.)])),
                    vec![
                        s("Tre"),
                        Value::Int(2),
                        s("design"),
                        Value::Real(600.),
                        Value::Int(50),
                    ],
                ),
            ],
        ),
    ]
}
