//! Cumulative environmental effects for the VAS (strategic environmental assessment): the
//! project area and line length inside each constraint layer (parks, Natura 2000 sites, fluvial
//! belts, ecological corridors) and each of its features, and the number of projects touching
//! each.
//!
//! A layer's total adds up, over projects, the part of each project inside the union of the
//! layer's features ([`coverage`](crate::analysis::coverage()): where two features of one layer overlap, the project's
//! area there counts once for the layer, and once for each feature in the feature rows.
//!
//! Cost: per project and constraint layer, one overlay, O(log n + k); when the project overlaps
//! two or more features of the layer, a boolean union of the pieces (see [`coverage`](crate::analysis::coverage())).

use std::collections::BTreeMap;

use geo::Geometry;
use serde::Serialize;

use super::{Definition, Projects};
use crate::analysis::{coverage_of_overlay, overlay, OverlayOptions};
use crate::ptcp::roles::{Role, RoleLayer};
use crate::ptcp::ReportError;

pub const PROJECT_AREA: Definition = Definition {
    id: "vas.project_area",
    title: "Project area inside the constraint",
    unit: "m2",
    definition: "Sum over projects of the area of each polygon project inside the constraint feature (for a layer: inside the union of its features, so that where features overlap the area counts once).",
    property: None,
};
pub const PROJECT_LENGTH: Definition = Definition {
    id: "vas.project_length",
    title: "Project line length inside the constraint",
    unit: "m",
    definition: "Sum over projects of the length of each line project inside the constraint feature (for a layer: inside the union of its features, so that where features overlap the length counts once).",
    property: None,
};
pub const PROJECTS_TOUCHING: Definition = Definition {
    id: "vas.projects_touching",
    title: "Projects touching the constraint",
    unit: "count",
    definition: "Number of projects that overlap the constraint feature (for a layer: any of its features); points count when inside.",
    property: None,
};

/// The family's definitions, in the order of the results.
pub const DEFINITIONS: &[Definition] = &[PROJECT_AREA, PROJECT_LENGTH, PROJECTS_TOUCHING];

/// Cumulative effects on one constraint layer (`feature` is `None`) or one of its features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintEffect {
    pub role: Role,
    pub layer: String,
    pub feature: Option<String>,
    pub name: Option<String>,
    pub area_m2: f64,
    pub length_m: f64,
    pub projects: usize,
}

/// What one project does to one constraint layer.
#[derive(Debug, Clone, Default)]
pub struct LayerFacts {
    /// (feature, area, length) for every feature the project overlaps, in index order.
    pub features: Vec<(u32, f64, f64)>,
    /// The area and length of the project inside the union of those features.
    pub area_m2: f64,
    pub length_m: f64,
}

/// What one project does to every constraint layer, in the order of `constraints`.
pub type Facts = Vec<LayerFacts>;

/// What project `site` contributes.
pub fn facts(constraints: &[RoleLayer<'_>], site: &Geometry<f64>) -> Result<Facts, ReportError> {
    constraints
        .iter()
        .map(|c| {
            let o = overlay(c.layer, site, &OverlayOptions::default())?;
            let covered = coverage_of_overlay(c.layer, site, &o)?;
            Ok(LayerFacts {
                features: o
                    .items
                    .iter()
                    .map(|item| (item.feature, item.area_m2, item.length_m))
                    .collect(),
                area_m2: covered.area_m2,
                length_m: covered.length_m,
            })
        })
        .collect()
}

/// For each constraint layer, its row, then one row per feature (in layer order).
pub fn effects(constraints: &[RoleLayer<'_>], projects: &Projects<'_>) -> Vec<ConstraintEffect> {
    let mut out = Vec::new();
    for (c, layer) in constraints.iter().enumerate() {
        // Per feature: (area, length, projects).
        let mut per: BTreeMap<u32, (f64, f64, usize)> = BTreeMap::new();
        let mut total = ConstraintEffect {
            role: layer.role,
            layer: layer.layer.id().to_string(),
            feature: None,
            name: None,
            area_m2: 0.0,
            length_m: 0.0,
            projects: 0,
        };
        for fact in &projects.facts {
            let l = &fact.vas[c];
            for &(feature, a, len) in &l.features {
                let e = per.entry(feature).or_default();
                e.0 += a;
                e.1 += len;
                e.2 += 1;
            }
            total.area_m2 += l.area_m2;
            total.length_m += l.length_m;
            total.projects += usize::from(!l.features.is_empty());
        }
        out.push(total);
        for i in 0..layer.layer.features.len() as u32 {
            let (area_m2, length_m, projects) = per.get(&i).copied().unwrap_or_default();
            out.push(ConstraintEffect {
                role: layer.role,
                layer: layer.layer.id().to_string(),
                feature: Some(layer.feature(i).id.to_string()),
                name: Some(layer.name(i)),
                area_m2,
                length_m,
                projects,
            });
        }
    }
    out
}
