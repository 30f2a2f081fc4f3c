//! The rural system of the demo: the strategic agricultural areas (what is left of each
//! municipality outside urban and productive areas and belt A, by class) and the sites of the
//! agri-food and agro-energy chains (dairies and biogas plants near towns).

use geo::{Area, BooleanOps, Buffer, Geometry, MultiPolygon, Point, Polygon};

use super::rng::Rng;
use super::styles::Style;
use super::world::World;
use super::{s, DemoError, LayerSpec, Output, RoleSpec, Row};
use crate::catalog::System;
use crate::demo::geography::TOWNS;
use crate::feature::{FieldType, Value};
use crate::sink::LayerGeometry;

const GPKG: Output = Output::gpkg("rural.gpkg");

/// The classes of strategic agricultural areas, each with its colour.
const CLASSES: [(&str, &str); 3] = [
    (
        "ambito agricolo strategico ad elevata produttività",
        "#a3d977",
    ),
    (
        "ambito agricolo strategico di interazione con il sistema insediativo",
        "#d9e77a",
    ),
    (
        "ambito agricolo strategico di valenza paesistica",
        "#7bc47f",
    ),
];

pub(super) const LAYERS: &[LayerSpec] = &[
    LayerSpec {
        id: "agricultural_areas",
        title: "Ambiti agricoli strategici",
        description: "Strategic agricultural areas of the rural system, by class.",
        system: System::Rural,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("class", FieldType::String),
            ("municipality", FieldType::String),
        ],
        style: || Style::fill("class", &CLASSES, 0.5),
        role: Some(RoleSpec {
            layer: "agricultural_land",
            fields: &[],
        }),
        edit: None,
        rows: agricultural_areas,
    },
    LayerSpec {
        id: "agrifood_sites",
        title: "Siti agroalimentari e agroenergetici",
        description: "Dairies and biogas plants of the agri-food and agro-energy chains.",
        system: System::Rural,
        output: GPKG,
        geometry: LayerGeometry::Point,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("name", FieldType::String),
            ("kind", FieldType::String),
            ("product", FieldType::String),
            ("power_kw", FieldType::Real),
        ],
        style: || {
            Style::circle(
                "kind",
                &[("caseificio", "#f5cba7"), ("biogas", "#58d68d")],
                5.0,
            )
        },
        role: Some(RoleSpec {
            layer: "agrifood_sites",
            fields: &[],
        }),
        edit: None,
        rows: agrifood_sites,
    },
];

/// Towns with a cooperative dairy (within 1.5 km of the seat).
const DAIRY_TOWNS: [&str; 10] = [
    "Soresina",
    "Casalbuttano ed Uniti",
    "Pizzighettone",
    "Soncino",
    "Pandino",
    "Ostiano",
    "Gussola",
    "Trigolo",
    "Annicco",
    "Vescovato",
];

/// Towns with a biogas plant (within 2.5 km of the seat).
const BIOGAS_TOWNS: [&str; 12] = [
    "Castelverde",
    "Sesto ed Uniti",
    "Corte de' Frati",
    "Grontardo",
    "San Bassano",
    "Genivolta",
    "Torre de' Picenardi",
    "Calvatone",
    "Dovera",
    "Camisano",
    "Formigara",
    "Motta Baluffi",
];

impl World {
    /// The strategic agricultural areas: in three municipalities out of four, the land away
    /// from urban areas (200 m), productive areas (100 m) and belt A, in parts above 20 ha.
    pub(super) fn agricultural_areas(
        &self,
        rng: &mut Rng,
    ) -> Vec<(String, &'static str, usize, MultiPolygon<f64>)> {
        let mut excluded: MultiPolygon<f64> = MultiPolygon(vec![]);
        for u in &self.urban {
            excluded = excluded.union(&u.buffer(200.0));
        }
        for p in &self.productive {
            excluded = excluded.union(&MultiPolygon(vec![p.shape.clone()]).buffer(100.0));
        }
        for (_, belt, shape) in &self.belts {
            if *belt == "A" {
                excluded = excluded.union(shape);
            }
        }
        let mut out = Vec::new();
        for (i, cell) in self.municipalities.iter().enumerate() {
            if rng.f64() < 0.25 {
                continue;
            }
            let area = cell.difference(&excluded);
            let parts: Vec<Polygon<f64>> = area
                .0
                .into_iter()
                .filter(|p| p.unsigned_area() > 200_000.0)
                .collect();
            if parts.is_empty() {
                continue;
            }
            let class = rng.pick(&CLASSES).0;
            out.push((
                format!("AAS{:03}", out.len() + 1),
                class,
                i,
                MultiPolygon(parts),
            ));
        }
        out
    }
}

fn agricultural_areas(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .agricultural
        .iter()
        .map(|(code, class, town, shape)| {
            (
                Geometry::MultiPolygon(shape.clone()),
                vec![s(code), s(class), s(TOWNS[*town].name)],
            )
        })
        .collect())
}

fn agrifood_sites(world: &World, rng: &mut Rng) -> Result<Vec<Row>, DemoError> {
    let mut rows = Vec::new();
    for (i, town) in DAIRY_TOWNS.iter().enumerate() {
        let c = world.near(World::town_index(town)?, 1500.0, rng);
        rows.push((
            Geometry::Point(Point(c)),
            vec![
                s(&format!("AF{:02}", rows.len() + 1)),
                s(&format!("Caseificio cooperativo di {town}")),
                s("caseificio"),
                s(if i % 2 == 0 {
                    "Grana Padano"
                } else {
                    "Provolone Valpadana"
                }),
                Value::Null,
            ],
        ));
    }
    for town in BIOGAS_TOWNS {
        let c = world.near(World::town_index(town)?, 2500.0, rng);
        rows.push((
            Geometry::Point(Point(c)),
            vec![
                s(&format!("AF{:02}", rows.len() + 1)),
                s(&format!("Impianto biogas di {town}")),
                s("biogas"),
                s("energia elettrica e calore"),
                Value::Real(*rng.pick(&[249.0, 499.0, 999.0])),
            ],
        ));
    }
    Ok(rows)
}
