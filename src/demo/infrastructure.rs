//! The infrastructure system of the demo: roads, railways and their stations, the A21's
//! junctions, the river port of Cremona and its canal. Everything follows the hand-drawn
//! geography; nothing here draws from the generator.

use geo::{Coord, Euclidean, Geometry, Length, LineString, Point};

use super::geography::{JUNCTIONS, RAILWAYS, ROADS, STATIONS};
use super::rng::Rng;
use super::styles::Style;
use super::world::{rectangle, World};
use super::{s, DemoError, LayerSpec, Output, RoleSpec, Row, WORKING_CRS};
use crate::catalog::System;
use crate::feature::{FieldType, Value};
use crate::sink::LayerGeometry;

/// The `class` of state roads (the report counts distance to the nearest one).
pub(super) const STATE_ROAD_CLASS: &str = "state";

const GPKG: Output = Output::gpkg("infrastructure.gpkg");

pub(super) const LAYERS: &[LayerSpec] = &[
    LayerSpec {
        id: "roads",
        title: "Strade",
        description: "Main roads by class (motorway, state, provincial).",
        system: System::Infrastructure,
        output: GPKG,
        geometry: LayerGeometry::LineString,
        id_field: "ref",
        fields: &[
            ("ref", FieldType::String),
            ("name", FieldType::String),
            ("class", FieldType::String),
        ],
        style: || {
            Style::line(
                "class",
                &[
                    ("motorway", "#c0392b"),
                    (STATE_ROAD_CLASS, "#e67e22"),
                    ("provincial", "#f1c40f"),
                ],
                2.0,
            )
        },
        role: Some(RoleSpec {
            layer: "roads",
            fields: &[("road_class", "class")],
        }),
        edit: None,
        rows: roads,
    },
    LayerSpec {
        id: "railways",
        title: "Ferrovie",
        description: "Railway lines from Cremona.",
        system: System::Infrastructure,
        output: GPKG,
        geometry: LayerGeometry::LineString,
        id_field: "name",
        fields: &[("name", FieldType::String), ("status", FieldType::String)],
        style: || Style::single_line("#34495e", 1.6),
        role: None,
        edit: None,
        rows: railways,
    },
    LayerSpec {
        id: "stations",
        title: "Stazioni ferroviarie",
        description: "Railway stations (FlatGeobuf).",
        system: System::Infrastructure,
        output: Output {
            file: "stations.fgb",
            driver: "FlatGeobuf",
            crs: WORKING_CRS,
            options: &[],
        },
        geometry: LayerGeometry::Point,
        id_field: "name",
        fields: &[("name", FieldType::String), ("line", FieldType::String)],
        style: || Style::single_circle("#34495e", 5.0),
        role: Some(RoleSpec {
            layer: "stations",
            fields: &[],
        }),
        edit: None,
        rows: stations,
    },
    LayerSpec {
        id: "motorway_junctions",
        title: "Caselli autostradali",
        description: "Motorway junctions of the A21.",
        system: System::Infrastructure,
        output: GPKG,
        geometry: LayerGeometry::Point,
        id_field: "name",
        fields: &[("name", FieldType::String), ("motorway", FieldType::String)],
        style: || Style::single_circle("#c0392b", 6.0),
        role: Some(RoleSpec {
            layer: "motorway_junctions",
            fields: &[],
        }),
        edit: None,
        rows: junctions,
    },
    LayerSpec {
        id: "river_port",
        title: "Porto fluviale di Cremona",
        description: "The river port of Cremona on the Po.",
        system: System::Infrastructure,
        output: GPKG,
        geometry: LayerGeometry::Polygon,
        id_field: "name",
        fields: &[
            ("name", FieldType::String),
            ("waterway", FieldType::String),
            ("vessel_class", FieldType::String),
        ],
        style: || Style::single_fill("#2980b9", 0.7),
        role: Some(RoleSpec {
            layer: "river_port",
            fields: &[],
        }),
        edit: None,
        rows: river_port,
    },
    LayerSpec {
        id: "canal",
        title: "Canale navigabile Cremona-Pizzighettone",
        description: "The navigable canal from the port of Cremona to Pizzighettone.",
        system: System::Infrastructure,
        output: GPKG,
        geometry: LayerGeometry::LineString,
        id_field: "name",
        fields: &[
            ("name", FieldType::String),
            ("status", FieldType::String),
            ("length_km", FieldType::Real),
        ],
        style: || Style::single_line("#2980b9", 2.5),
        role: None,
        edit: None,
        rows: canal,
    },
];

/// Where the port is (CRS84): on the Po, south of Cremona; the canal starts there.
const PORT: (f64, f64) = (10.000, 45.117);

fn roads(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    ROADS
        .iter()
        .map(|(class, r, name, course)| {
            Ok((
                Geometry::LineString(LineString(world.utm_points(course)?)),
                vec![s(r), s(name), s(class)],
            ))
        })
        .collect()
}

fn railways(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    RAILWAYS
        .iter()
        .map(|(name, course)| {
            Ok((
                Geometry::LineString(LineString(world.utm_points(course)?)),
                vec![s(name), s("in esercizio")],
            ))
        })
        .collect()
}

fn stations(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    STATIONS
        .iter()
        .map(|(name, line, lon, lat)| {
            let c = world.utm_point(*lon, *lat)?;
            Ok((Geometry::Point(Point(c)), vec![s(name), s(line)]))
        })
        .collect()
}

fn junctions(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    JUNCTIONS
        .iter()
        .map(|(name, lon, lat)| {
            let c = world.utm_point(*lon, *lat)?;
            Ok((Geometry::Point(Point(c)), vec![s(name), s("A21")]))
        })
        .collect()
}

fn river_port(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    let centre = world.utm_point(PORT.0, PORT.1)?;
    Ok(vec![(
        Geometry::Polygon(rectangle(centre, 900.0, 450.0, 0.35)),
        vec![s("Porto di Cremona"), s("Po"), s("V")],
    )])
}

fn canal(world: &World, _: &mut Rng) -> Result<Vec<Row>, DemoError> {
    let course: Vec<Coord<f64>> =
        world.utm_points(&[PORT, (9.950, 45.135), (9.880, 45.160), (9.800, 45.183)])?;
    let length_km = (Euclidean.length(&LineString(course.clone())) / 100.0).round() / 10.0;
    Ok(vec![(
        Geometry::LineString(LineString(course)),
        vec![
            s("Canale navigabile Cremona-Pizzighettone"),
            s("in esercizio fino a Pizzighettone"),
            Value::Real(length_km),
        ],
    )])
}
