//! The environmental system of the demo: the rivers, their fluvial belts (A, B, C, PAI style),
//! the regional river parks, the Natura 2000 sites and the ecological corridors. The shapes
//! are made once, when the world is built ([`World::environment`]); the projects read them too.

use geo::{BooleanOps, Buffer, ChaikinSmoothing, Geometry, LineString, MultiPolygon};

use super::rng::Rng;
use super::styles::Style;
use super::world::{blob, World};
use super::{s, DemoError, LayerSpec, Output, RoleSpec, Row};
use crate::catalog::System;
use crate::feature::{FieldType, Value};
use crate::sink::LayerGeometry;

const GPKG: Output = Output::gpkg("environmental.gpkg");

pub(super) const LAYERS: &[LayerSpec] = &[
    LayerSpec {
        id: "rivers",
        title: "Fiumi",
        description: "Rivers: the Po, the Adda, the Oglio, the Serio and minor streams.",
        system: System::Environmental,
        output: GPKG,
        geometry: LayerGeometry::LineString,
        id_field: "name",
        fields: &[("name", FieldType::String)],
        style: || Style::single_line("#3498db", 2.0),
        role: None,
        edit: None,
        rows: rivers,
    },
    LayerSpec {
        id: "fluvial_belts",
        title: "Fasce fluviali",
        description: "Fluvial belts A, B and C along the Po, the Adda, the Oglio and the Serio.",
        system: System::Environmental,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("river", FieldType::String),
            ("belt", FieldType::String),
            ("meaning", FieldType::String),
        ],
        style: || {
            Style::fill(
                "belt",
                &[("A", "#1f618d"), ("B", "#5dade2"), ("C", "#d6eaf8")],
                0.5,
            )
        },
        role: Some(RoleSpec {
            layer: "fluvial_belts",
            fields: &[],
        }),
        edit: None,
        rows: fluvial_belts,
    },
    LayerSpec {
        id: "parks",
        title: "Parchi regionali",
        description: "Regional river parks.",
        system: System::Environmental,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "name",
        fields: &[("name", FieldType::String), ("established", FieldType::Int)],
        style: || Style::single_fill("#27ae60", 0.35),
        role: Some(RoleSpec {
            layer: "parks",
            fields: &[],
        }),
        edit: None,
        rows: parks,
    },
    LayerSpec {
        id: "natura2000",
        title: "Siti Natura 2000",
        description: "Natura 2000 sites (SIC/ZSC and ZPS) with their codes.",
        system: System::Environmental,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("name", FieldType::String),
            ("type", FieldType::String),
        ],
        style: || Style::fill("type", &[("SIC/ZSC", "#117a65"), ("ZPS", "#7d3c98")], 0.5),
        role: Some(RoleSpec {
            layer: "natura2000",
            fields: &[],
        }),
        edit: None,
        rows: natura2000,
    },
    LayerSpec {
        id: "ecological_corridors",
        title: "Corridoi ecologici",
        description: "Ecological corridors of the provincial ecological network.",
        system: System::Environmental,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "name",
        fields: &[("name", FieldType::String), ("level", FieldType::String)],
        style: || {
            Style::fill(
                "level",
                &[("primario", "#1e8449"), ("secondario", "#82e0aa")],
                0.4,
            )
        },
        role: Some(RoleSpec {
            layer: "ecological_corridors",
            fields: &[],
        }),
        edit: None,
        rows: ecological_corridors,
    },
];

/// Natura 2000 sites along the rivers: code, name, type, centre (CRS84).
#[rustfmt::skip]
const SITES: &[(&str, &str, &str, f64, f64)] = &[
    ("IT20A0001", "Morta di Pizzighettone", "SIC/ZSC", 9.770, 45.190),
    ("IT20A0002", "Naviglio di Melotta", "SIC/ZSC", 9.820, 45.420),
    ("IT20A0003", "Palata Menasciutto", "SIC/ZSC", 9.700, 45.300),
    ("IT20A0004", "Le Bine", "SIC/ZSC", 10.440, 45.140),
    ("IT20A0013", "Lanca di Gerole", "SIC/ZSC", 10.230, 45.010),
    ("IT20A0014", "Lancone di Gussola", "SIC/ZSC", 10.330, 44.985),
    ("IT20A0015", "Bosco Ronchetti", "SIC/ZSC", 10.180, 45.040),
    ("IT20A0016", "Spiaggioni di Spinadesco", "SIC/ZSC", 9.920, 45.112),
    ("IT20A0017", "Scolmatore di Genivolta", "SIC/ZSC", 9.900, 45.345),
    ("IT20A0501", "Spinadesco", "ZPS", 9.940, 45.118),
    ("IT20A0502", "Lanca di Gussola", "ZPS", 10.360, 44.978),
    ("IT20A0503", "Isola Maria Luigia", "ZPS", 10.050, 45.090),
];

/// The part of a line between two fractions of its vertices.
fn part(l: &LineString<f64>, from: f64, to: f64) -> LineString<f64> {
    let n = l.0.len();
    let (i, j) = (
        ((n as f64) * from) as usize,
        (((n as f64) * to) as usize).min(n),
    );
    LineString(l.0[i..j].to_vec())
}

impl World {
    /// Belts, parks, Natura 2000 sites (drawing their size and outline from `rng`) and
    /// corridors, all clipped to the province.
    pub(super) fn environment(&mut self, rng: &mut Rng) -> Result<(), DemoError> {
        // Fluvial belts (PAI style): A inside B inside C, as three disjoint rings.
        let mut belts = Vec::new();
        for name in ["Po", "Adda", "Oglio", "Serio"] {
            let l = self.river(name)?;
            let (a, b, c) = if name == "Serio" {
                (150.0, 400.0, 900.0)
            } else {
                (300.0, 800.0, 1800.0)
            };
            let ba = self.clip(&l.buffer(a));
            let bb = self.clip(&l.buffer(b));
            let bc = self.clip(&l.buffer(c));
            belts.push((name, "A", ba.clone()));
            belts.push((name, "B", bb.difference(&ba)));
            belts.push((name, "C", bc.difference(&bb)));
        }
        self.belts = belts;
        let (adda, oglio, serio) = (
            self.river("Adda")?,
            self.river("Oglio")?,
            self.river("Serio")?,
        );
        let parks = vec![
            (
                "Parco Adda Sud",
                1983,
                self.clip(&part(adda, 0.35, 1.0).buffer(2600.0)),
            ),
            (
                "Parco Oglio Nord",
                1988,
                self.clip(&part(oglio, 0.0, 0.45).buffer(2200.0)),
            ),
            (
                "Parco Oglio Sud",
                1988,
                self.clip(&part(oglio, 0.5, 1.0).buffer(2600.0)),
            ),
            (
                "Parco del Serio",
                1985,
                self.clip(&part(serio, 0.0, 0.85).buffer(1500.0)),
            ),
        ];
        self.parks = parks;
        let mut natura = Vec::new();
        for (code, name, kind, lon, lat) in SITES {
            let c = self.utm_point(*lon, *lat)?;
            let r = rng.range(500.0, 1100.0);
            let shape = self.clip(&MultiPolygon(vec![blob(c, r, 0.25, 14, rng)]));
            if !shape.0.is_empty() {
                natura.push((code.to_string(), *name, *kind, shape));
            }
        }
        self.natura = natura;
        let utm_line = |pts: &[(f64, f64)]| -> Result<LineString<f64>, DemoError> {
            Ok(LineString(self.utm_points(pts)?).chaikin_smoothing(2))
        };
        let corridors = vec![
            (
                "Corridoio del Morbasco",
                "secondario",
                self.clip(&self.river("Morbasco")?.buffer(250.0)),
            ),
            (
                "Corridoio della Delmona",
                "secondario",
                self.clip(&self.river("Delmona")?.buffer(250.0)),
            ),
            (
                "Corridoio primario Serio-Oglio",
                "primario",
                self.clip(
                    &utm_line(&[(9.705, 45.400), (9.800, 45.410), (9.900, 45.400)])?.buffer(400.0),
                ),
            ),
            (
                "Corridoio primario Adda-Po",
                "primario",
                self.clip(
                    &utm_line(&[(9.560, 45.330), (9.650, 45.250), (9.750, 45.150)])?.buffer(400.0),
                ),
            ),
        ];
        self.corridors = corridors;
        Ok(())
    }
}

fn rivers(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .rivers
        .iter()
        .map(|(n, l)| (Geometry::LineString(l.clone()), vec![s(n)]))
        .collect())
}

fn fluvial_belts(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .belts
        .iter()
        .filter(|(_, _, m)| !m.0.is_empty())
        .map(|(river, belt, m)| {
            let meaning = match *belt {
                "A" => "fascia di deflusso della piena",
                "B" => "fascia di esondazione",
                _ => "area di inondazione per piena catastrofica",
            };
            (
                Geometry::MultiPolygon(m.clone()),
                vec![s(&format!("{river}-{belt}")), s(river), s(belt), s(meaning)],
            )
        })
        .collect())
}

fn parks(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .parks
        .iter()
        .map(|(name, year, m)| {
            (
                Geometry::MultiPolygon(m.clone()),
                vec![s(name), Value::Int(*year)],
            )
        })
        .collect())
}

fn natura2000(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .natura
        .iter()
        .map(|(code, name, kind, m)| {
            (
                Geometry::MultiPolygon(m.clone()),
                vec![s(code), s(name), s(kind)],
            )
        })
        .collect())
}

fn ecological_corridors(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .corridors
        .iter()
        .map(|(name, level, m)| (Geometry::MultiPolygon(m.clone()), vec![s(name), s(level)]))
        .collect())
}
