//! The site report's model: what a report says, in metres and square metres, unrounded.
//!
//! Plain types with `Serialize`: the JSON document of a report is these types as they are, with
//! the summary lines of [`crate::present::report`] added.

use serde::Serialize;

use crate::ptcp::roles::Role;

/// Options of a site report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    /// Radius for agri-food and agro-energy sites, metres (default 2,000).
    pub agrifood_radius_m: f64,
}

impl ReportOptions {
    /// The default radius for agri-food and agro-energy sites, metres.
    pub const DEFAULT_AGRIFOOD_RADIUS_M: f64 = 2_000.0;
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            agrifood_radius_m: ReportOptions::DEFAULT_AGRIFOOD_RADIUS_M,
        }
    }
}

/// A feature of a role layer and its distance from the project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Near {
    pub layer: String,
    pub id: String,
    pub name: String,
    pub distance_m: f64,
}

/// A feature the project touches, with the area (polygon project) or the length of the
/// project's line inside it; both 0 for a point project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Touch {
    pub id: String,
    pub name: String,
    pub area_m2: f64,
    pub length_m: f64,
    /// Share (0..=1) of the project's area or length inside the feature (`None` for a point).
    pub project_share: Option<f64>,
}

/// The project itself; for a site that is not a project, `layer`, `id` and `title` are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectInfo {
    pub layer: Option<String>,
    pub id: Option<String>,
    pub title: Option<String>,
    pub geometry_type: &'static str,
    /// Area of a polygon project (m²), else 0.
    pub area_m2: f64,
    /// Length of a line project (m), else 0.
    pub length_m: f64,
}

/// A municipality the project lies in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MunicipalityShare {
    pub id: String,
    pub name: String,
    /// Share (0..=1) of the project in the municipality: by area, by length, or split evenly
    /// for a point on a shared border.
    pub share: f64,
    pub area_m2: f64,
    pub length_m: f64,
}

/// A productive area the project touches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductiveArea {
    pub id: String,
    pub name: String,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub sovracomunale: bool,
    /// The area contains the whole project.
    pub contains_project: bool,
    pub area_m2: f64,
    pub length_m: f64,
}

/// The settlement system around the project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settlement {
    /// Productive areas the project touches (those containing it first).
    pub productive_areas: Vec<ProductiveArea>,
    /// Nearest productive area and nearest one of supra-municipal interest (0 m when touched).
    pub nearest_productive_area: Option<Near>,
    pub nearest_supra_municipal_area: Option<Near>,
    pub urban_areas: Vec<Touch>,
}

/// One environmental constraint layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    /// [`Role::Parks`], [`Role::Natura2000`], [`Role::FluvialBelts`] or
    /// [`Role::EcologicalCorridors`] (written as its name, `parks`...).
    pub role: Role,
    pub layer: String,
    pub touched: Vec<Touch>,
    /// The nearest feature, when none is touched.
    pub nearest: Option<Near>,
}

/// The rural system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rural {
    pub agricultural_layer: Option<String>,
    /// Strategic agricultural land taken by a polygon project (m²) and its share of the project.
    pub agricultural_area_m2: f64,
    pub agricultural_share: Option<f64>,
    /// Length of a line project on strategic agricultural land (m).
    pub agricultural_length_m: f64,
    /// The agricultural features touched.
    pub agricultural_areas: Vec<Touch>,
    pub agrifood_radius_m: f64,
    /// Agri-food and agro-energy sites within the radius, nearest first.
    pub agrifood_sites: Vec<Near>,
}

/// The nearest feature of one role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proximity {
    /// `motorway_junction`, `railway_station`, `state_road`, `river_port`, `hospital`, `nursing_home`.
    pub what: &'static str,
    /// `None` when no layer plays the role (or it has no matching feature).
    pub nearest: Option<Near>,
}

/// The site report of one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteReport {
    pub project: ProjectInfo,
    pub municipalities: Vec<MunicipalityShare>,
    pub settlement: Settlement,
    pub environmental: Vec<Constraint>,
    pub rural: Rural,
    pub infrastructure: Vec<Proximity>,
    pub services: Vec<Proximity>,
}
