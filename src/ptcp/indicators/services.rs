//! Services vs demography (PTCP art. 3: area-wide services and demographic trends), per
//! municipality: residents, the distance from the municipality's centroid to the nearest
//! hospital and nursing home, and nursing-home beds per 1,000 residents within the catchment
//! radius (two-step floating catchment, [`floating_catchment`]); province-wide, the residents
//! farther than a distance from every nursing home (and hospital).
//!
//! Needs the municipalities and no projects.
//!
//! Cost: see [`crate::analysis::catchment`]: one nearest query per municipality and service
//! layer, and the floating catchment, O((M + S) log(M + S) + k) for M municipalities and S
//! nursing homes.

use geo::{Centroid, Point};
use rayon::prelude::*;
use serde::Serialize;

use super::Definition;
use crate::analysis::catchment::{floating_catchment, nearest_distances, Demand};
use crate::ptcp::roles::{Field, Role, RoleLayers};
use crate::ptcp::ReportError;

pub const RESIDENTS: Definition = Definition {
    id: "services.residents",
    title: "Residents",
    unit: "residents",
    definition: "Residents of the municipality.",
    property: Some("residents"),
};
pub const HOSPITAL_DISTANCE: Definition = Definition {
    id: "services.hospital_distance",
    title: "Distance to the nearest hospital",
    unit: "m",
    definition: "Distance from the municipality's centroid to the nearest hospital.",
    property: Some("hospital_distance_m"),
};
pub const NURSING_HOME_DISTANCE: Definition = Definition {
    id: "services.nursing_home_distance",
    title: "Distance to the nearest nursing home",
    unit: "m",
    definition: "Distance from the municipality's centroid to the nearest nursing home.",
    property: Some("nursing_home_distance_m"),
};
pub const NURSING_BEDS_PER_1000: Definition = Definition {
    id: "services.nursing_beds_per_1000",
    title: "Nursing-home beds per 1,000 residents within the catchment",
    unit: "beds per 1000 residents",
    definition: "Two-step floating catchment: sum over nursing homes within the radius of the municipality's centroid of beds / residents of the municipalities whose centroid is within the radius of the home, times 1,000.",
    property: Some("nursing_beds_per_1000"),
};
pub const FAR_FROM_NURSING_HOME: Definition = Definition {
    id: "services.residents_far_from_nursing_home",
    title: "Residents far from a nursing home",
    unit: "residents",
    definition: "Residents of municipalities whose centroid is farther than the distance from every nursing home (province-wide).",
    property: None,
};
pub const FAR_FROM_HOSPITAL: Definition = Definition {
    id: "services.residents_far_from_hospital",
    title: "Residents far from a hospital",
    unit: "residents",
    definition: "Residents of municipalities whose centroid is farther than the distance from every hospital (province-wide).",
    property: None,
};

/// The family's definitions, in the order of the results.
pub const DEFINITIONS: &[Definition] = &[
    RESIDENTS,
    HOSPITAL_DISTANCE,
    NURSING_HOME_DISTANCE,
    NURSING_BEDS_PER_1000,
    FAR_FROM_NURSING_HOME,
    FAR_FROM_HOSPITAL,
];

/// Services and demography of one municipality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MunicipalityServices {
    pub municipality: String,
    pub name: String,
    pub residents: Option<f64>,
    pub hospital_distance_m: Option<f64>,
    pub nursing_home_distance_m: Option<f64>,
    pub nursing_beds_per_1000: Option<f64>,
}

/// Province-wide services totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvinceServices {
    pub residents: f64,
    pub far_m: f64,
    pub catchment_m: f64,
    pub residents_far_from_nursing_home: Option<f64>,
    pub residents_far_from_hospital: Option<f64>,
}

/// Per-municipality services (every municipality, in layer order) and the province totals;
/// no rows without a municipalities layer. `catchment_m` and `far_m` are checked distances.
pub fn services(
    roles: &RoleLayers<'_>,
    catchment_m: f64,
    far_m: f64,
) -> Result<(Vec<MunicipalityServices>, ProvinceServices), ReportError> {
    let mut province = ProvinceServices {
        residents: 0.0,
        far_m,
        catchment_m,
        residents_far_from_nursing_home: None,
        residents_far_from_hospital: None,
    };
    let Some(m) = roles.get(Role::Municipalities) else {
        return Ok((Vec::new(), province));
    };
    let count = m.layer.features.len();
    let residents = |j: u32| m.number(Field::Residents, j);
    // The places of demand: municipalities with a centroid (an empty geometry has none).
    let centroids: Vec<Option<Point<f64>>> = m
        .layer
        .features
        .par_iter()
        .map(|f| f.geometry.centroid())
        .collect();
    let demand: Vec<(u32, Demand)> = centroids
        .iter()
        .enumerate()
        .filter_map(|(j, c)| {
            c.map(|at| {
                let population = residents(j as u32).unwrap_or(0.0);
                (j as u32, Demand { at, population })
            })
        })
        .collect();
    let points: Vec<Demand> = demand.iter().map(|d| d.1).collect();
    // Spreads per-place values back over every municipality.
    let per_municipality = |values: Vec<Option<f64>>| -> Vec<Option<f64>> {
        let mut out = vec![None; count];
        for ((j, _), v) in demand.iter().zip(values) {
            out[*j as usize] = v;
        }
        out
    };
    let distances = |role: Role| -> Result<Vec<Option<f64>>, ReportError> {
        Ok(match roles.get(role) {
            Some(l) => per_municipality(nearest_distances(
                l.layer,
                &points.iter().map(|d| d.at).collect::<Vec<_>>(),
            )?),
            None => vec![None; count],
        })
    };
    let hospital = distances(Role::Hospitals)?;
    let nursing_home = distances(Role::NursingHomes)?;
    let beds = match roles.get(Role::NursingHomes) {
        Some(homes) if homes.has(Field::NursingBeds) => {
            let capacity = |i: u32| homes.number(Field::NursingBeds, i);
            let per_person = floating_catchment(homes.layer, &capacity, &points, catchment_m)?;
            per_municipality(per_person.into_iter().map(|a| Some(a * 1_000.0)).collect())
        }
        _ => vec![None; count],
    };
    let rows: Vec<MunicipalityServices> = (0..count)
        .map(|j| MunicipalityServices {
            municipality: m.feature(j as u32).id.to_string(),
            name: m.name(j as u32),
            residents: residents(j as u32),
            hospital_distance_m: hospital[j],
            nursing_home_distance_m: nursing_home[j],
            nursing_beds_per_1000: beds[j],
        })
        .collect();
    province.residents = rows.iter().filter_map(|r| r.residents).sum();
    let far_from = |d: fn(&MunicipalityServices) -> Option<f64>| -> f64 {
        rows.iter()
            .filter(|r| d(r).is_none_or(|d| d > far_m))
            .filter_map(|r| r.residents)
            .sum()
    };
    if roles.get(Role::NursingHomes).is_some() {
        province.residents_far_from_nursing_home = Some(far_from(|r| r.nursing_home_distance_m));
    }
    if roles.get(Role::Hospitals).is_some() {
        province.residents_far_from_hospital = Some(far_from(|r| r.hospital_distance_m));
    }
    Ok((rows, province))
}
