//! Projects in and out of the productive areas (PTCP art. 3: productive areas of
//! supra-municipal interest), per strategic axis and for all projects: how many, and what
//! share of the budget.
//!
//! Cost: per project, one intersects query on the productive areas, O(log n + k).

use std::collections::BTreeMap;

use geo::Geometry;
use serde::Serialize;

use super::{Definition, Project, Projects};
use crate::analysis::{select, Predicate};
use crate::ptcp::roles::{Field, Role, RoleLayers};
use crate::ptcp::ReportError;

pub const INSIDE: Definition = Definition {
    id: "productive.projects_inside",
    title: "Projects in productive areas",
    unit: "count",
    definition: "Projects that intersect at least one productive area.",
    property: None,
};
pub const INSIDE_SUPRA: Definition = Definition {
    id: "productive.projects_inside_supra",
    title: "Projects in supra-municipal productive areas",
    unit: "count",
    definition: "Projects that intersect at least one productive area of supra-municipal interest.",
    property: None,
};
pub const OUTSIDE: Definition = Definition {
    id: "productive.projects_outside",
    title: "Projects outside productive areas",
    unit: "count",
    definition: "Projects that intersect no productive area.",
    property: None,
};
pub const BUDGET_SHARE_INSIDE: Definition = Definition {
    id: "productive.budget_share_inside",
    title: "Budget share in productive areas",
    unit: "share",
    definition: "Budget of the projects inside productive areas over the group's total budget.",
    property: None,
};
pub const BUDGET_SHARE_INSIDE_SUPRA: Definition = Definition {
    id: "productive.budget_share_inside_supra",
    title: "Budget share in supra-municipal productive areas",
    unit: "share",
    definition: "Budget of the projects inside supra-municipal productive areas over the group's total budget.",
    property: None,
};
pub const BUDGET_SHARE_OUTSIDE: Definition = Definition {
    id: "productive.budget_share_outside",
    title: "Budget share outside productive areas",
    unit: "share",
    definition:
        "Budget of the projects outside every productive area over the group's total budget.",
    property: None,
};

/// The family's definitions, in the order of the results.
pub const DEFINITIONS: &[Definition] = &[
    INSIDE,
    INSIDE_SUPRA,
    OUTSIDE,
    BUDGET_SHARE_INSIDE,
    BUDGET_SHARE_INSIDE_SUPRA,
    BUDGET_SHARE_OUTSIDE,
];

/// Projects in and out of productive areas, for one axis (or `all`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductiveShare {
    pub axis: String,
    pub projects: usize,
    pub inside: usize,
    pub inside_supra: usize,
    pub outside: usize,
    pub budget_total_eur: f64,
    pub budget_share_inside: Option<f64>,
    pub budget_share_inside_supra: Option<f64>,
    pub budget_share_outside: Option<f64>,
}

/// Where one project lies relative to the productive areas.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// It intersects a productive area.
    pub inside: bool,
    /// It intersects a productive area of supra-municipal interest.
    pub inside_supra: bool,
}

/// What project `site` contributes.
pub fn facts(roles: &RoleLayers<'_>, site: &Geometry<f64>) -> Result<Facts, ReportError> {
    let Some(p) = roles.get(Role::ProductiveAreas) else {
        return Ok(Facts::default());
    };
    let hit = select(p.layer, site, Predicate::Intersects)?;
    Ok(Facts {
        inside: !hit.is_empty(),
        inside_supra: hit.iter().any(|&i| roles.is_supra(i)),
    })
}

/// One row for all projects (`all`) and one per axis, sorted by axis; none without a
/// productive-areas layer.
pub fn productive(roles: &RoleLayers<'_>, projects: &Projects<'_>) -> Vec<ProductiveShare> {
    if roles.get(Role::ProductiveAreas).is_none() {
        return Vec::new();
    }
    let p = projects.layer;
    let mut axes: BTreeMap<String, Vec<&Project>> = BTreeMap::new();
    for fact in &projects.facts {
        axes.entry("all".into()).or_default().push(fact);
        if p.has(Field::ProjectAxis) {
            axes.entry(p.key(Field::ProjectAxis, fact.index))
                .or_default()
                .push(fact);
        }
    }
    let budget = |f: &Project| p.number(Field::ProjectBudget, f.index);
    axes.into_iter()
        .map(|(axis, members)| {
            let total: f64 = members.iter().filter_map(|f| budget(f)).sum();
            let part = |pick: &dyn Fn(&Facts) -> bool| -> (usize, f64) {
                let chosen: Vec<&&Project> =
                    members.iter().filter(|f| pick(&f.productive)).collect();
                (chosen.len(), chosen.iter().filter_map(|f| budget(f)).sum())
            };
            let (inside, b_in) = part(&|x| x.inside);
            let (supra, b_supra) = part(&|x| x.inside_supra);
            let (outside, b_out) = part(&|x| !x.inside);
            let share = |b: f64| (total > 0.0).then(|| b / total);
            ProductiveShare {
                axis,
                projects: members.len(),
                inside,
                inside_supra: supra,
                outside,
                budget_total_eur: total,
                budget_share_inside: share(b_in),
                budget_share_inside_supra: share(b_supra),
                budget_share_outside: share(b_out),
            }
        })
        .collect()
}
