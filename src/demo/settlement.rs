//! The settlement system of the demo: municipalities tiling the province, their urban areas,
//! the productive areas (some of supra-municipal interest), hospitals, nursing homes (a Latin-1
//! Shapefile in EPSG:3003, as older provincial archives keep them) and secondary schools.

use geo::{Area, BooleanOps, Coord, Geometry, Intersects, MultiPolygon};

use super::geography::TOWNS;
use super::rng::Rng;
use super::styles::Style;
use super::world::{blob, largest, rectangle, Productive, World};
use super::{s, DemoError, LayerSpec, Output, RoleSpec, Row};
use crate::catalog::System;
use crate::feature::{FieldType, Value};
use crate::sink::LayerGeometry;

const GPKG: Output = Output::gpkg("settlement.gpkg");

pub(super) const LAYERS: &[LayerSpec] = &[
    LayerSpec {
        id: "municipalities",
        title: "Comuni",
        description: "Municipalities tiling the province, with resident population (demo values).",
        system: System::Settlement,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "istat_code",
        fields: &[
            ("istat_code", FieldType::String),
            ("name", FieldType::String),
            ("population", FieldType::Int),
        ],
        style: || Style::single_fill("#ecf0f1", 0.3),
        role: Some(RoleSpec {
            layer: "municipalities",
            fields: &[("residents", "population")],
        }),
        edit: None,
        rows: municipalities,
    },
    LayerSpec {
        id: "urban_areas",
        title: "Centri urbani",
        description: "Built-up areas of the municipal seats.",
        system: System::Settlement,
        output: GPKG,
        geometry: LayerGeometry::MultiPolygon,
        id_field: "code",
        fields: &[("code", FieldType::String), ("municipality", FieldType::String)],
        style: || Style::single_fill("#bdc3c7", 0.6),
        role: Some(RoleSpec {
            layer: "urban_areas",
            fields: &[],
        }),
        edit: None,
        rows: urban_areas,
    },
    LayerSpec {
        id: "productive_areas",
        title: "Aree produttive",
        description: "Productive areas by kind and status; sovracomunale marks the poles of supra-municipal interest.",
        system: System::Settlement,
        output: GPKG,
        geometry: LayerGeometry::Polygon,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("name", FieldType::String),
            ("kind", FieldType::String),
            ("status", FieldType::String),
            ("sovracomunale", FieldType::Bool),
            ("municipality", FieldType::String),
            ("area_ha", FieldType::Real),
        ],
        style: || {
            Style::fill(
                "kind",
                &[
                    ("industrial", "#8e44ad"),
                    ("artisanal", "#d35400"),
                    ("logistics", "#2c3e50"),
                    ("commercial", "#e74c3c"),
                ],
                0.7,
            )
        },
        role: Some(RoleSpec {
            layer: "productive_areas",
            fields: &[
                ("productive_kind", "kind"),
                ("productive_status", "status"),
                ("supra_municipal", "sovracomunale"),
            ],
        }),
        edit: None,
        rows: productive_areas,
    },
    LayerSpec {
        id: "hospitals",
        title: "Ospedali",
        description: "Hospitals with beds.",
        system: System::Settlement,
        output: GPKG,
        geometry: LayerGeometry::Point,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("name", FieldType::String),
            ("municipality", FieldType::String),
            ("beds", FieldType::Int),
            ("kind", FieldType::String),
        ],
        style: || Style::single_circle("#c0392b", 7.0),
        role: Some(RoleSpec {
            layer: "hospitals",
            fields: &[("beds", "beds")],
        }),
        edit: None,
        rows: hospitals,
    },
    LayerSpec {
        id: "nursing_homes",
        title: "Residenze sanitarie assistenziali (RSA)",
        description: "Nursing homes with beds, as a Shapefile in EPSG:3003 (Gauss-Boaga) with Latin-1 attributes, as older provincial archives keep them.",
        system: System::Settlement,
        output: Output {
            file: "nursing_homes.shp",
            driver: "ESRI Shapefile",
            crs: "EPSG:3003",
            options: &["ENCODING=ISO-8859-1"],
        },
        geometry: LayerGeometry::Point,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("name", FieldType::String),
            ("comune", FieldType::String),
            ("beds", FieldType::Int),
            ("operator", FieldType::String),
        ],
        style: || Style::single_circle("#16a085", 6.0),
        role: Some(RoleSpec {
            layer: "nursing_homes",
            fields: &[("beds", "beds")],
        }),
        edit: None,
        rows: nursing_homes,
    },
    LayerSpec {
        id: "schools",
        title: "Scuole secondarie",
        description: "Secondary schools and vocational training centres.",
        system: System::Settlement,
        output: GPKG,
        geometry: LayerGeometry::Point,
        id_field: "code",
        fields: &[
            ("code", FieldType::String),
            ("name", FieldType::String),
            ("municipality", FieldType::String),
            ("kind", FieldType::String),
            ("students", FieldType::Int),
        ],
        style: || {
            Style::circle(
                "kind",
                &[
                    ("liceo", "#2980b9"),
                    ("tecnico", "#27ae60"),
                    ("professionale", "#f39c12"),
                ],
                5.0,
            )
        },
        role: None,
        edit: None,
        rows: schools,
    },
];

/// The productive areas: town, name, kind, status, sovracomunale, bearing from the seat
/// (degrees from east), distance from the seat (m), hectares.
#[rustfmt::skip]
#[allow(clippy::type_complexity)] // a table of literals
const PLAN: &[(&str, &str, &str, &str, bool, f64, f64, f64)] = &[
    ("Cremona", "Polo logistico del porto di Cremona", "logistics", "existing", true, 225.0, 2300.0, 160.0),
    ("Cremona", "Espansione del porto di Cremona", "logistics", "expansion", true, 200.0, 3600.0, 90.0),
    ("Cremona", "Zona industriale Cremona Est", "industrial", "existing", true, 0.0, 2600.0, 140.0),
    ("Cremona", "Zona industriale di Cavatigozzi", "industrial", "existing", false, 175.0, 4200.0, 70.0),
    ("Cremona", "Polo commerciale Cremona Nord", "commercial", "existing", false, 80.0, 2300.0, 35.0),
    ("Crema", "Polo produttivo Crema Sud", "industrial", "existing", true, 290.0, 2000.0, 120.0),
    ("Crema", "Zona artigianale Crema Nord", "artisanal", "existing", false, 100.0, 1800.0, 40.0),
    ("Crema", "Polo logistico della Paullese", "logistics", "planned", true, 190.0, 2600.0, 80.0),
    ("Casalmaggiore", "Zona industriale di Casalmaggiore", "industrial", "existing", true, 60.0, 1700.0, 90.0),
    ("Castelleone", "Zona industriale di Castelleone", "industrial", "existing", true, 300.0, 1500.0, 70.0),
    ("Soresina", "Zona industriale di Soresina", "industrial", "existing", false, 250.0, 1300.0, 45.0),
    ("Pizzighettone", "Zona artigianale di Pizzighettone", "artisanal", "existing", false, 45.0, 1200.0, 20.0),
    ("Soncino", "Zona artigianale di Soncino", "artisanal", "existing", false, 200.0, 1200.0, 25.0),
    ("Soncino", "Ampliamento produttivo di Soncino", "industrial", "planned", false, 330.0, 1600.0, 35.0),
    ("Rivolta d'Adda", "Zona industriale di Rivolta d'Adda", "industrial", "existing", false, 60.0, 1300.0, 50.0),
    ("Rivolta d'Adda", "Polo logistico di Rivolta d'Adda", "logistics", "planned", true, 300.0, 1600.0, 60.0),
    ("Pandino", "Zona industriale di Pandino", "industrial", "existing", false, 120.0, 1300.0, 40.0),
    ("Piadena Drizzona", "Zona artigianale di Piadena", "artisanal", "existing", false, 270.0, 1100.0, 18.0),
    ("Offanengo", "Zona industriale di Offanengo", "industrial", "existing", false, 180.0, 1000.0, 45.0),
    ("Vescovato", "Zona artigianale di Vescovato", "artisanal", "existing", false, 0.0, 900.0, 15.0),
    ("Casalbuttano ed Uniti", "Zona artigianale di Casalbuttano", "artisanal", "existing", false, 90.0, 900.0, 15.0),
    ("Sospiro", "Area artigianale di Sospiro", "artisanal", "planned", false, 270.0, 900.0, 12.0),
    ("Spino d'Adda", "Polo logistico di Spino d'Adda", "logistics", "planned", false, 80.0, 1200.0, 40.0),
    ("Castelverde", "Polo commerciale di Castelverde", "commercial", "existing", false, 270.0, 900.0, 20.0),
    ("Gussola", "Zona artigianale di Gussola", "artisanal", "existing", false, 90.0, 800.0, 12.0),
    ("Bagnolo Cremasco", "Zona industriale di Bagnolo Cremasco", "industrial", "existing", false, 0.0, 1000.0, 35.0),
    ("Vailate", "Zona artigianale di Vailate", "artisanal", "existing", false, 180.0, 900.0, 14.0),
    ("Ostiano", "Zona artigianale di Ostiano", "artisanal", "expansion", false, 270.0, 800.0, 12.0),
    ("Montodine", "Zona artigianale di Montodine", "artisanal", "existing", false, 90.0, 800.0, 10.0),
    ("Romanengo", "Zona artigianale di Romanengo", "artisanal", "existing", false, 0.0, 900.0, 12.0),
    ("Casalmaggiore", "Polo commerciale di Casalmaggiore", "commercial", "planned", false, 330.0, 1500.0, 18.0),
];

/// Hospitals: name, town, beds, kind.
#[rustfmt::skip]
const HOSPITALS: &[(&str, &str, i64, &str)] = &[
    ("Ospedale Maggiore di Cremona", "Cremona", 650, "ospedale"),
    ("Ospedale Maggiore di Crema", "Crema", 450, "ospedale"),
    ("Ospedale Oglio Po", "Casalmaggiore", 200, "ospedale"),
    ("Presidio ospedaliero di Soresina", "Soresina", 90, "presidio"),
    ("Presidio di Rivolta d'Adda", "Rivolta d'Adda", 60, "presidio"),
];

/// Nursing homes: name, town, beds, operator.
#[rustfmt::skip]
const NURSING_HOMES: &[(&str, &str, i64, &str)] = &[
    ("RSA Fondazione Città di Cremona", "Cremona", 210, "Fondazione Città di Cremona"),
    ("RSA Cremona Solidale", "Cremona", 140, "Azienda speciale comunale"),
    ("RSA Fondazione Benefattori Cremaschi", "Crema", 180, "Fondazione Benefattori Cremaschi"),
    ("RSA Casa di Riposo di Ombriano, Località Ombriano", "Crema", 80, "Fondazione"),
    ("RSA Busi di Casalmaggiore", "Casalmaggiore", 120, "Fondazione Busi"),
    ("RSA Giovanni XXIII di Soresina", "Soresina", 90, "Fondazione"),
    ("RSA Comunità Sociale di Castelleone", "Castelleone", 75, "Fondazione"),
    ("RSA Opera Pia di Pizzighettone", "Pizzighettone", 60, "Opera Pia"),
    ("RSA Soncino, Località Isengo", "Soncino", 70, "Fondazione"),
    ("RSA Santa Maria Assunta di Rivolta d'Adda", "Rivolta d'Adda", 85, "Fondazione"),
    ("RSA Pandino, Città del Castello", "Pandino", 65, "Fondazione"),
    ("RSA Piadena Drizzona", "Piadena Drizzona", 50, "Azienda speciale"),
    ("RSA Vescovato, Pietà e Carità", "Vescovato", 45, "Opera Pia"),
    ("RSA Casalbuttano", "Casalbuttano ed Uniti", 55, "Fondazione"),
    ("RSA Sospiro, Istituto di Cura", "Sospiro", 160, "Fondazione Sospiro"),
    ("RSA Offanengo", "Offanengo", 60, "Fondazione"),
    ("RSA Vailate", "Vailate", 40, "Fondazione"),
    ("RSA Ostiano, Comunità Don Primo", "Ostiano", 45, "Fondazione"),
];

/// Secondary schools: name, town, kind, students.
#[rustfmt::skip]
const SCHOOLS: &[(&str, &str, &str, i64)] = &[
    ("Liceo scientifico Aselli", "Cremona", "liceo", 1100), ("Liceo classico Manin", "Cremona", "liceo", 700),
    ("Istituto tecnico agrario Stanga", "Cremona", "tecnico", 900), ("Istituto tecnico Torriani", "Cremona", "tecnico", 1300),
    ("Istituto professionale Einaudi", "Cremona", "professionale", 800), ("Liceo musicale Stradivari", "Cremona", "liceo", 500),
    ("Liceo Racchetti-da Vinci", "Crema", "liceo", 1200), ("Istituto tecnico Galilei", "Crema", "tecnico", 900),
    ("Istituto professionale Sraffa", "Crema", "professionale", 700), ("Istituto agrario Stanga, sede di Crema", "Crema", "tecnico", 300),
    ("Istituto Romani", "Casalmaggiore", "tecnico", 800), ("Liceo di Casalmaggiore", "Casalmaggiore", "liceo", 500),
    ("Istituto Ponzini", "Soresina", "tecnico", 400), ("Istituto tecnico di Castelleone", "Castelleone", "tecnico", 300),
    ("Centro di formazione professionale di Pizzighettone", "Pizzighettone", "professionale", 200),
    ("Istituto Dante Alighieri di Rivolta", "Rivolta d'Adda", "tecnico", 350), ("Centro di formazione di Pandino", "Pandino", "professionale", 250),
    ("Scuola casearia di Soncino", "Soncino", "professionale", 150), ("Istituto di Piadena", "Piadena Drizzona", "tecnico", 250),
];

impl World {
    /// Urban areas: a blob around each seat sized by its residents, kept inside its
    /// municipality.
    pub(super) fn urban_areas(&self, rng: &mut Rng) -> Vec<MultiPolygon<f64>> {
        self.towns
            .iter()
            .zip(TOWNS)
            .zip(&self.municipalities)
            .map(|((c, t), cell)| {
                let r = 250.0 + 6.0 * (t.residents as f64).sqrt();
                let blob = blob(*c, r, 0.18, 18, rng);
                cell.intersection(&MultiPolygon(vec![blob]))
            })
            .collect()
    }

    /// The productive areas of [`PLAN`]: turned rectangles of the planned size, clipped to the
    /// province; one that would overlap an earlier area is left out.
    pub(super) fn productive_areas(&self, rng: &mut Rng) -> Result<Vec<Productive>, DemoError> {
        let mut out: Vec<Productive> = Vec::new();
        for (k, (town, name, kind, status, sovra, bearing, dist, ha)) in PLAN.iter().enumerate() {
            let ti = Self::town_index(town)?;
            let seat = self.towns[ti];
            let b = bearing.to_radians();
            let centre = Coord {
                x: seat.x + dist * b.cos(),
                y: seat.y + dist * b.sin(),
            };
            let area = ha * 10_000.0;
            let aspect = rng.range(1.2, 2.0);
            let w = (area * aspect).sqrt();
            let h = area / w;
            let shape = rectangle(centre, w, h, rng.range(0.0, std::f64::consts::PI));
            let clipped = self.clip(&MultiPolygon(vec![shape]));
            let Some(shape) = largest(clipped) else {
                continue;
            };
            if out.iter().any(|o| o.shape.intersects(&shape)) {
                continue;
            }
            out.push(Productive {
                code: format!("AP{:02}", k + 1),
                name: name.to_string(),
                kind,
                status,
                sovracomunale: *sovra,
                town: ti,
                shape,
            });
        }
        Ok(out)
    }
}

fn municipalities(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .municipalities
        .iter()
        .zip(TOWNS)
        .enumerate()
        .map(|(i, (m, t))| {
            (
                Geometry::MultiPolygon(m.clone()),
                vec![
                    s(&format!("019{:03}", i + 1)),
                    s(t.name),
                    Value::Int(t.residents),
                ],
            )
        })
        .collect())
}

fn urban_areas(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .urban
        .iter()
        .zip(TOWNS)
        .enumerate()
        .filter(|(_, (u, _))| !u.0.is_empty())
        .map(|(i, (u, t))| {
            (
                Geometry::MultiPolygon(u.clone()),
                vec![s(&format!("UC{:03}", i + 1)), s(t.name)],
            )
        })
        .collect())
}

fn productive_areas(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    Ok(world
        .productive
        .iter()
        .map(|p| {
            (
                Geometry::Polygon(p.shape.clone()),
                vec![
                    s(&p.code),
                    s(&p.name),
                    s(p.kind),
                    s(p.status),
                    Value::Bool(p.sovracomunale),
                    s(TOWNS[p.town].name),
                    Value::Real((p.shape.unsigned_area() / 100.0).round() / 100.0),
                ],
            )
        })
        .collect())
}

fn hospitals(world: &World, rng: &mut Rng) -> Result<Vec<Row>, DemoError> {
    world.near_towns(
        "H",
        400.0,
        rng,
        HOSPITALS.iter().map(|(name, town, beds, kind)| {
            (*town, vec![s(name), s(town), Value::Int(*beds), s(kind)])
        }),
    )
}

fn nursing_homes(world: &World, rng: &mut Rng) -> Result<Vec<Row>, DemoError> {
    world.near_towns(
        "RSA",
        700.0,
        rng,
        NURSING_HOMES.iter().map(|(name, town, beds, operator)| {
            (
                *town,
                vec![s(name), s(town), Value::Int(*beds), s(operator)],
            )
        }),
    )
}

fn schools(world: &World, rng: &mut Rng) -> Result<Vec<Row>, DemoError> {
    world.near_towns(
        "SC",
        900.0,
        rng,
        SCHOOLS.iter().map(|(name, town, kind, students)| {
            (
                *town,
                vec![s(name), s(town), s(kind), Value::Int(*students)],
            )
        }),
    )
}
