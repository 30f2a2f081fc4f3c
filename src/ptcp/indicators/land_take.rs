//! Land take (consumo di suolo): the area of polygon projects on strategic agricultural land,
//! per municipality, and its share of the municipality's strategic agricultural land.
//!
//! A project across several municipalities takes, in each, the agricultural land of its piece
//! there.
//!
//! Cost: per project, one overlay of the agricultural land, O(log n + k); for a polygon project
//! on agricultural land across several municipalities, one boolean intersection per
//! municipality and an overlay of each piece; per municipality with land take, one overlay of
//! the agricultural land.

use std::collections::BTreeMap;

use geo::Geometry;
use rayon::prelude::*;
use serde::Serialize;

use super::{Definition, Projects};
use crate::analysis::{overlay, Measure, OverlayOptions};
use crate::ptcp::roles::{Role, RoleLayers};
use crate::ptcp::ReportError;

pub const AREA: Definition = Definition {
    id: "land_take.area",
    title: "Land take on strategic agricultural land",
    unit: "m2",
    definition: "Area of polygon projects on strategic agricultural land inside the municipality.",
    property: Some("land_take_m2"),
};
pub const SHARE: Definition = Definition {
    id: "land_take.share",
    title: "Share of the agricultural land taken",
    unit: "share",
    definition: "Land take over the municipality's strategic agricultural land.",
    property: Some("land_take_share"),
};

/// The family's definitions, in the order of the results.
pub const DEFINITIONS: &[Definition] = &[AREA, SHARE];

/// Land take on strategic agricultural land in one municipality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LandTake {
    pub municipality: String,
    pub name: String,
    pub area_m2: f64,
    /// The municipality's strategic agricultural land.
    pub agricultural_land_m2: f64,
    pub share: Option<f64>,
}

/// (municipality, agricultural area taken) for each municipality a project takes land in.
pub type Facts = Vec<(u32, f64)>;

/// What project `site` contributes; `municipalities` are the municipalities it lies in.
pub fn facts(
    roles: &RoleLayers<'_>,
    site: &Geometry<f64>,
    municipalities: &[u32],
) -> Result<Facts, ReportError> {
    let (Some(m), Some(agri)) = (
        roles.get(Role::Municipalities),
        roles.get(Role::AgriculturalLand),
    ) else {
        return Ok(Vec::new());
    };
    let total = overlay(agri.layer, site, &OverlayOptions::default())?;
    if total.measure != Measure::Area || total.total_area_m2 <= 0.0 {
        return Ok(Vec::new());
    }
    if let [only] = municipalities {
        return Ok(vec![(*only, total.total_area_m2)]);
    }
    // Across municipalities: the agricultural land of each municipal piece.
    let pieces = overlay(
        m.layer,
        site,
        &OverlayOptions {
            with_geometry: true,
            group_by: None,
        },
    )?;
    let mut out = Vec::new();
    for item in pieces.items {
        if let Some(piece) = item.geometry {
            let a = overlay(agri.layer, &piece, &OverlayOptions::default())
                .map(|o| o.total_area_m2)
                .unwrap_or(0.0);
            out.push((item.feature, a));
        }
    }
    Ok(out)
}

/// One row per municipality with land take, by municipality index.
pub fn land_take(
    roles: &RoleLayers<'_>,
    projects: &Projects<'_>,
) -> Result<Vec<LandTake>, ReportError> {
    let (Some(m), Some(agri)) = (
        roles.get(Role::Municipalities),
        roles.get(Role::AgriculturalLand),
    ) else {
        return Ok(Vec::new());
    };
    let mut taken: BTreeMap<u32, f64> = BTreeMap::new();
    for fact in &projects.facts {
        for &(j, a) in &fact.land_take {
            *taken.entry(j).or_default() += a;
        }
    }
    let rows: Vec<(u32, f64)> = taken.into_iter().filter(|(_, a)| *a > 0.0).collect();
    rows.par_iter()
        .map(|&(j, a)| {
            let g = &m.feature(j).geometry;
            let land = overlay(agri.layer, g, &OverlayOptions::default())?.total_area_m2;
            Ok(LandTake {
                municipality: m.feature(j).id.to_string(),
                name: m.name(j),
                area_m2: a,
                agricultural_land_m2: land,
                share: (land > 0.0).then(|| a / land),
            })
        })
        .collect()
}
