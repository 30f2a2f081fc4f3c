//! The features a site report mentions, each once, with how it is related to the site: for
//! maps of a report (the GeoJSON answer, the HTML page's sketch).

use serde::Serialize;

use super::model::{Near, SiteReport};
use crate::analysis::subject::find_feature;
use crate::ptcp::roles::{Role, RoleLayers};
use crate::store::Layer;

/// How a feature is related to the site of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The project itself.
    Project,
    /// The site overlaps (or, for points, touches) the feature.
    Intersects,
    /// The nearest feature of a role (or of a role's subset, e.g. supra-municipal areas).
    Nearest,
    /// Within the agri-food radius.
    Within,
}

impl Relation {
    pub fn name(self) -> &'static str {
        match self {
            Relation::Project => "project",
            Relation::Intersects => "intersects",
            Relation::Nearest => "nearest",
            Relation::Within => "within",
        }
    }
}

/// A feature a site report mentions.
#[derive(Debug, Clone, Copy)]
pub struct Related<'a> {
    pub layer: &'a Layer,
    /// Index of the feature in [`Layer::features`].
    pub feature: u32,
    pub relation: Relation,
    /// Why it is mentioned: the role of its layer (`municipalities`, `parks`...) or what it is
    /// nearest as (`railway_station`, `nearest_supra_municipal_area`...).
    pub role: &'static str,
    /// Distance from the site, for nearest features and those within the radius.
    pub distance_m: Option<f64>,
}

/// Every feature `report` mentions, each once, in this order: the project; the features the
/// site intersects (municipalities, productive and urban areas, constraints, agricultural
/// land); the nearest ones (productive areas, constraints, infrastructure, services) and the
/// agri-food sites within the radius, with their distance. A feature met twice keeps its first
/// relation (a productive area the site lies in is not listed again as the nearest).
///
/// Cost: one id lookup per feature mentioned.
pub fn related_features<'a>(roles: &RoleLayers<'a>, report: &SiteReport) -> Vec<Related<'a>> {
    let mut out: Vec<Related<'a>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |layer: Option<&'a Layer>,
                    id: &str,
                    relation: Relation,
                    role: &'static str,
                    distance_m: Option<f64>| {
        let Some(layer) = layer else { return };
        let Some(index) = find_feature(layer, id).and_then(|f| layer.position(&f.id)) else {
            return;
        };
        if seen.insert((layer.id().to_string(), index)) {
            out.push(Related {
                layer,
                feature: index as u32,
                relation,
                role,
                distance_m,
            });
        }
    };
    let layer_of = |role: Role| roles.get(role).map(|r| r.layer);
    let by_id = |id: &str| roles.catalog.layer(id);
    if let Some(id) = &report.project.id {
        let role = Role::Projects;
        push(layer_of(role), id, Relation::Project, role.name(), None);
    }
    let mut intersects = |role: Role, id: &str| {
        push(layer_of(role), id, Relation::Intersects, role.name(), None);
    };
    for m in &report.municipalities {
        intersects(Role::Municipalities, &m.id);
    }
    for a in &report.settlement.productive_areas {
        intersects(Role::ProductiveAreas, &a.id);
    }
    for u in &report.settlement.urban_areas {
        intersects(Role::UrbanAreas, &u.id);
    }
    for c in &report.environmental {
        for t in &c.touched {
            intersects(c.role, &t.id);
        }
    }
    for t in &report.rural.agricultural_areas {
        intersects(Role::AgriculturalLand, &t.id);
    }
    let mut near = |n: &Near, role: &'static str, relation: Relation| {
        push(by_id(&n.layer), &n.id, relation, role, Some(n.distance_m));
    };
    if let Some(n) = &report.settlement.nearest_productive_area {
        near(n, "nearest_productive_area", Relation::Nearest);
    }
    if let Some(n) = &report.settlement.nearest_supra_municipal_area {
        near(n, "nearest_supra_municipal_area", Relation::Nearest);
    }
    for c in &report.environmental {
        if let Some(n) = &c.nearest {
            near(n, c.role.name(), Relation::Nearest);
        }
    }
    for p in report.infrastructure.iter().chain(&report.services) {
        if let Some(n) = &p.nearest {
            near(n, p.what, Relation::Nearest);
        }
    }
    for n in &report.rural.agrifood_sites {
        near(n, "agrifood_sites", Relation::Within);
    }
    out
}
