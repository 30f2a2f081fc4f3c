//! The monitoring indicators shared by the development pact and the PTCP.
//!
//! One set, computed over the whole catalogue (see [`definitions`] for ids, titles, units and
//! one-line definitions):
//! - **progress** per axis, emblematic action, AQST programme and municipality: projects by
//!   status, total and mean budget, mean progress;
//! - **productive areas** per axis: count and budget share of projects inside productive areas,
//!   inside supra-municipal ones, and outside any;
//! - **cumulative environmental effects (VAS)**: project area and line length inside each
//!   constraint layer and each of its features, and the number of projects touching each;
//! - **land take**: project area on strategic agricultural land per municipality, and its share
//!   of the municipality's agricultural land;
//! - **services vs demography** per municipality: residents, distance from the municipality's
//!   centroid to the nearest hospital and nursing home, nursing-home beds per 1,000 residents
//!   within the catchment radius (two-step floating catchment), and province-wide the
//!   residents farther than a distance from any nursing home (and hospital).
//!
//! A project's municipality is its *principal* one: the one holding the largest share of it.
//!
//! Runs on all cores (rayon): projects and municipalities are independent.
//! Cost: per project, one overlay per role layer (O(log n + k) each) plus, for polygon projects
//! on agricultural land across several municipalities, a boolean intersection per municipality;
//! per municipality, two nearest queries and one radius query; per nursing home, one radius
//! query over the municipality centroids.

use std::collections::{BTreeMap, HashMap};

use geo::{Centroid, Distance, Euclidean, Geometry, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use super::report::{nearest_hit, touches};
use super::roles::{check_distance, number, ReportError, RoleLayer, RoleLayers};
use super::{overlay, select, within_distance, Measure, OverlayOptions, Predicate};
use crate::crs::{CrsError, Transformer};

use crate::store::Catalog;

/// Options of the indicators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorOptions {
    /// Catchment radius of nursing homes for beds per 1,000 residents (default 15 km).
    pub catchment_m: f64,
    /// Residents farther than this from any nursing home (or hospital) are counted (default 10 km).
    pub far_m: f64,
}

impl Default for IndicatorOptions {
    fn default() -> Self {
        IndicatorOptions {
            catchment_m: 15_000.0,
            far_m: 10_000.0,
        }
    }
}

/// What an indicator is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub id: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
}

/// The definitions of every indicator, in the order they appear in results.
pub fn definitions() -> Vec<Definition> {
    let d = |id, title, unit, definition| Definition {
        id,
        title,
        unit,
        definition,
    };
    vec![
        d("progress.projects", "Projects", "count", "Number of projects in the group (axis, emblematic action, AQST programme, or principal municipality)."),
        d("progress.projects_by_status", "Projects by status", "count", "Number of projects in the group with each status."),
        d("progress.budget_total", "Total budget", "EUR", "Sum of the budgets of the projects in the group (projects without a budget count 0)."),
        d("progress.budget_mean", "Mean budget", "EUR", "Mean budget of the projects in the group that have one."),
        d("progress.progress_mean", "Mean progress", "%", "Mean progress of the projects in the group that report it."),
        d("productive.projects_inside", "Projects in productive areas", "count", "Projects that intersect at least one productive area."),
        d("productive.projects_inside_supra", "Projects in supra-municipal productive areas", "count", "Projects that intersect at least one productive area of supra-municipal interest."),
        d("productive.projects_outside", "Projects outside productive areas", "count", "Projects that intersect no productive area."),
        d("productive.budget_share_inside", "Budget share in productive areas", "share", "Budget of the projects inside productive areas over the group's total budget."),
        d("productive.budget_share_inside_supra", "Budget share in supra-municipal productive areas", "share", "Budget of the projects inside supra-municipal productive areas over the group's total budget."),
        d("productive.budget_share_outside", "Budget share outside productive areas", "share", "Budget of the projects outside every productive area over the group's total budget."),
        d("vas.project_area", "Project area inside the constraint", "m2", "Sum over projects of the area of each polygon project inside the constraint feature (for a layer: summed over its features)."),
        d("vas.project_length", "Project line length inside the constraint", "m", "Sum over projects of the length of each line project inside the constraint feature (for a layer: summed over its features)."),
        d("vas.projects_touching", "Projects touching the constraint", "count", "Number of projects that overlap the constraint feature (for a layer: any of its features); points count when inside."),
        d("land_take.area", "Land take on strategic agricultural land", "m2", "Area of polygon projects on strategic agricultural land inside the municipality."),
        d("land_take.share", "Share of the agricultural land taken", "share", "Land take over the municipality's strategic agricultural land."),
        d("services.residents", "Residents", "residents", "Residents of the municipality."),
        d("services.hospital_distance", "Distance to the nearest hospital", "m", "Distance from the municipality's centroid to the nearest hospital."),
        d("services.nursing_home_distance", "Distance to the nearest nursing home", "m", "Distance from the municipality's centroid to the nearest nursing home."),
        d("services.nursing_beds_per_1000", "Nursing-home beds per 1,000 residents within the catchment", "beds per 1000 residents", "Two-step floating catchment: sum over nursing homes within the radius of the municipality's centroid of beds / residents of the municipalities whose centroid is within the radius of the home, times 1,000."),
        d("services.residents_far_from_nursing_home", "Residents far from a nursing home", "residents", "Residents of municipalities whose centroid is farther than the distance from every nursing home (province-wide)."),
        d("services.residents_far_from_hospital", "Residents far from a hospital", "residents", "Residents of municipalities whose centroid is farther than the distance from every hospital (province-wide)."),
    ]
}

/// Progress of one group of projects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressGroup {
    /// `axis`, `emblematic_action`, `aqst_programme` or `municipality`.
    pub group: &'static str,
    /// The group's value (empty when the projects leave it blank).
    pub key: String,
    /// A human name for the key (the municipality name), when there is one.
    pub label: Option<String>,
    pub projects: usize,
    pub by_status: BTreeMap<String, usize>,
    pub budget_total_eur: f64,
    pub budget_mean_eur: Option<f64>,
    pub progress_mean_pct: Option<f64>,
}

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

/// Cumulative effects on one constraint layer (`feature` is `None`) or one of its features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintEffect {
    pub role: &'static str,
    pub layer: String,
    pub feature: Option<String>,
    pub name: Option<String>,
    pub area_m2: f64,
    pub length_m: f64,
    pub projects: usize,
}

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

/// The whole indicator set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicators {
    pub definitions: Vec<Definition>,
    pub progress: Vec<ProgressGroup>,
    pub productive: Vec<ProductiveShare>,
    pub environmental: Vec<ConstraintEffect>,
    pub land_take: Vec<LandTake>,
    pub services: Vec<MunicipalityServices>,
    pub province: ProvinceServices,
    /// Projects left out because their geometry is invalid.
    pub skipped_projects: Vec<String>,
}

/// What one project contributes.
#[derive(Default)]
struct Facts {
    municipality: Option<u32>,
    inside: bool,
    inside_supra: bool,
    /// (constraint layer position, feature, area, length).
    constraints: Vec<(usize, u32, f64, f64)>,
    /// (municipality, agricultural area taken).
    land_take: Vec<(u32, f64)>,
}

/// Computes every indicator over the catalogue.
///
/// ```
/// # use territorio::analysis::{indicators, IndicatorOptions};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::analysis::ReportError> {
/// let set = indicators(catalog, &IndicatorOptions::default())?;
/// println!("{}", set.to_csv());
/// # Ok(()) }
/// ```
///
/// Errors: no projects layer, a distance outside 0..=200 km, a role field named but missing.
pub fn indicators(
    catalog: &Catalog,
    options: &IndicatorOptions,
) -> Result<Indicators, ReportError> {
    let catchment = check_distance("catchment_m", options.catchment_m)?;
    let far = check_distance("far_m", options.far_m)?;
    let roles = RoleLayers::new(catalog)?;
    let projects = roles.require("projects", roles.projects)?;
    let constraints = roles.constraints();
    let f = roles.fields;

    let facts: Vec<Option<Facts>> = projects
        .layer
        .features
        .par_iter()
        .map(|p| {
            if !p.is_valid() {
                return Ok(None);
            }
            project_facts(&roles, &constraints, &p.geometry).map(Some)
        })
        .collect::<Result<_, ReportError>>()?;
    let skipped_projects = projects
        .layer
        .features
        .iter()
        .zip(&facts)
        .filter(|(_, f)| f.is_none())
        .map(|(p, _)| p.id.to_string())
        .collect();

    // Progress.
    let key = |i: usize, field: Option<usize>| -> String {
        field
            .map(|f| projects.layer.features[i].values[f].as_key())
            .unwrap_or_default()
    };
    let budget = |i: usize| {
        f.project_budget
            .and_then(|b| number(&projects.layer.features[i].values[b]))
    };
    let progress_of = |i: usize| {
        f.project_progress
            .and_then(|b| number(&projects.layer.features[i].values[b]))
    };
    let mut progress = Vec::new();
    let municipality_key = |i: usize| -> (String, Option<String>) {
        match (
            roles.municipalities,
            facts[i].as_ref().and_then(|f| f.municipality),
        ) {
            (Some(m), Some(j)) => (m.feature(j).id.to_string(), Some(m.name(j))),
            _ => (String::new(), None),
        }
    };
    let valid: Vec<usize> = (0..facts.len()).filter(|&i| facts[i].is_some()).collect();
    for (group, field) in [
        ("axis", f.project_axis),
        ("emblematic_action", f.project_action),
        ("aqst_programme", f.project_aqst),
        ("municipality", None),
    ] {
        if group != "municipality" && field.is_none() {
            continue;
        }
        if group == "municipality" && roles.municipalities.is_none() {
            continue;
        }
        let mut groups: BTreeMap<String, (Option<String>, Vec<usize>)> = BTreeMap::new();
        for &i in &valid {
            let (k, label) = if group == "municipality" {
                municipality_key(i)
            } else {
                (key(i, field), None)
            };
            let g = groups.entry(k).or_insert((label, Vec::new()));
            g.1.push(i);
        }
        for (k, (label, members)) in groups {
            let mut by_status = BTreeMap::new();
            for &i in &members {
                *by_status.entry(key(i, f.project_status)).or_insert(0) += 1;
            }
            let budgets: Vec<f64> = members.iter().filter_map(|&i| budget(i)).collect();
            let progresses: Vec<f64> = members.iter().filter_map(|&i| progress_of(i)).collect();
            progress.push(ProgressGroup {
                group,
                key: k,
                label,
                projects: members.len(),
                by_status,
                budget_total_eur: budgets.iter().sum(),
                budget_mean_eur: mean(&budgets),
                progress_mean_pct: mean(&progresses),
            });
        }
    }

    // Productive areas, per axis and for all projects.
    let mut productive = Vec::new();
    if roles.productive_areas.is_some() {
        let mut axes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in &valid {
            axes.entry("all".into()).or_default().push(i);
            if f.project_axis.is_some() {
                axes.entry(key(i, f.project_axis)).or_default().push(i);
            }
        }
        for (axis, members) in axes {
            let total: f64 = members.iter().filter_map(|&i| budget(i)).sum();
            let part = |pick: &dyn Fn(&Facts) -> bool| -> (usize, f64) {
                let chosen: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&i| facts[i].as_ref().is_some_and(pick))
                    .collect();
                let b: f64 = chosen.iter().filter_map(|&i| budget(i)).sum();
                (chosen.len(), b)
            };
            let (inside, b_in) = part(&|x| x.inside);
            let (supra, b_supra) = part(&|x| x.inside_supra);
            let (outside, b_out) = part(&|x| !x.inside);
            let share = |b: f64| (total > 0.0).then(|| b / total);
            productive.push(ProductiveShare {
                axis,
                projects: members.len(),
                inside,
                inside_supra: supra,
                outside,
                budget_total_eur: total,
                budget_share_inside: share(b_in),
                budget_share_inside_supra: share(b_supra),
                budget_share_outside: share(b_out),
            });
        }
    }

    // Cumulative environmental effects.
    let mut environmental = Vec::new();
    for (c, layer) in constraints.iter().enumerate() {
        // Per feature: (area, length, projects).
        let mut per: BTreeMap<u32, (f64, f64, usize)> = BTreeMap::new();
        let mut layer_projects = 0;
        for fact in facts.iter().flatten() {
            let mut touched = false;
            for &(cc, feature, a, l) in &fact.constraints {
                if cc == c {
                    let e = per.entry(feature).or_default();
                    e.0 += a;
                    e.1 += l;
                    e.2 += 1;
                    touched = true;
                }
            }
            layer_projects += usize::from(touched);
        }
        environmental.push(ConstraintEffect {
            role: layer.role,
            layer: layer.layer.id().to_string(),
            feature: None,
            name: None,
            area_m2: per.values().map(|e| e.0).sum(),
            length_m: per.values().map(|e| e.1).sum(),
            projects: layer_projects,
        });
        for i in 0..layer.layer.features.len() as u32 {
            let (a, l, n) = per.get(&i).copied().unwrap_or_default();
            environmental.push(ConstraintEffect {
                role: layer.role,
                layer: layer.layer.id().to_string(),
                feature: Some(layer.feature(i).id.to_string()),
                name: Some(layer.name(i)),
                area_m2: a,
                length_m: l,
                projects: n,
            });
        }
    }

    // Land take per municipality.
    let mut land_take = Vec::new();
    if let (Some(m), Some(agri)) = (roles.municipalities, roles.agricultural_land) {
        let mut taken: BTreeMap<u32, f64> = BTreeMap::new();
        for fact in facts.iter().flatten() {
            for &(j, a) in &fact.land_take {
                *taken.entry(j).or_default() += a;
            }
        }
        let rows: Vec<(u32, f64)> = taken.into_iter().filter(|(_, a)| *a > 0.0).collect();
        land_take = rows
            .par_iter()
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
            .collect::<Result<_, ReportError>>()?;
    }

    // Services vs demography.
    let (services, province) = services(&roles, catchment, far)?;

    Ok(Indicators {
        definitions: definitions(),
        progress,
        productive,
        environmental,
        land_take,
        services,
        province,
        skipped_projects,
    })
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Everything one project contributes to the indicators.
fn project_facts(
    roles: &RoleLayers<'_>,
    constraints: &[RoleLayer<'_>],
    site: &Geometry<f64>,
) -> Result<Facts, ReportError> {
    let mut facts = Facts::default();
    // Municipality pieces: (municipality, share, whole project inside?).
    let mut pieces = Vec::new();
    if let Some(m) = roles.municipalities {
        let o = overlay(m.layer, site, &OverlayOptions::default())?;
        let n = o.items.len() as f64;
        for item in &o.items {
            let share = match o.measure {
                Measure::Area | Measure::Length => item.site_share.unwrap_or(0.0),
                Measure::Count => 1.0 / n,
            };
            pieces.push((item.feature, share));
        }
        // The principal municipality: largest share, ties to the smaller id.
        facts.municipality = pieces
            .iter()
            .max_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then_with(|| m.feature(b.0).id.cmp(&m.feature(a.0).id))
            })
            .map(|p| p.0);
    }
    if let Some(p) = roles.productive_areas {
        let hit = select(p.layer, site, Predicate::Intersects)?;
        facts.inside = !hit.is_empty();
        facts.inside_supra = hit.iter().any(|&i| roles.is_supra(i));
    }
    for (c, layer) in constraints.iter().enumerate() {
        for (i, t) in touches(*layer, site)? {
            facts.constraints.push((c, i, t.area_m2, t.length_m));
        }
    }
    if let (Some(m), Some(agri)) = (roles.municipalities, roles.agricultural_land) {
        let total = overlay(agri.layer, site, &OverlayOptions::default())?;
        if total.measure == Measure::Area && total.total_area_m2 > 0.0 {
            if pieces.len() == 1 {
                facts.land_take.push((pieces[0].0, total.total_area_m2));
            } else {
                // Across municipalities: the agricultural land of each municipal piece.
                let o = overlay(
                    m.layer,
                    site,
                    &OverlayOptions {
                        with_geometry: true,
                        group_by: None,
                    },
                )?;
                for item in o.items {
                    if let Some(piece) = item.geometry {
                        let a = overlay(agri.layer, &piece, &OverlayOptions::default())
                            .map(|o| o.total_area_m2)
                            .unwrap_or(0.0);
                        facts.land_take.push((item.feature, a));
                    }
                }
            }
        }
    }
    Ok(facts)
}

type Centroids = RTree<GeomWithData<[f64; 2], u32>>;

/// Per-municipality services and the province totals.
fn services(
    roles: &RoleLayers<'_>,
    catchment: f64,
    far: f64,
) -> Result<(Vec<MunicipalityServices>, ProvinceServices), ReportError> {
    let mut province = ProvinceServices {
        residents: 0.0,
        far_m: far,
        catchment_m: catchment,
        residents_far_from_nursing_home: None,
        residents_far_from_hospital: None,
    };
    let Some(m) = roles.municipalities else {
        return Ok((Vec::new(), province));
    };
    let residents = |j: u32| {
        roles
            .fields
            .residents
            .and_then(|r| number(&m.feature(j).values[r]))
    };
    let centroids: Vec<Option<Point<f64>>> = m
        .layer
        .features
        .par_iter()
        .map(|f| f.geometry.centroid())
        .collect();
    let nearest_distance = |layer: Option<RoleLayer<'_>>, c: Option<Point<f64>>| match (layer, c) {
        (Some(l), Some(c)) => {
            nearest_hit(l.layer, &Geometry::Point(c), &|_| true).map(|h| h.map(|h| h.distance_m))
        }
        _ => Ok(None),
    };

    // Step 1 of the floating catchment: residents within reach of each nursing home.
    let beds_ratio: HashMap<u32, f64> = match (roles.nursing_homes, roles.fields.nursing_beds) {
        (Some(homes), Some(beds_field)) => {
            let index: Centroids = RTree::bulk_load(
                centroids
                    .iter()
                    .enumerate()
                    .filter_map(|(j, c)| c.map(|c| GeomWithData::new([c.x(), c.y()], j as u32)))
                    .collect(),
            );
            homes
                .layer
                .features
                .par_iter()
                .enumerate()
                .filter_map(|(h, home)| {
                    let beds = number(&home.values[beds_field])?;
                    let env = geo::BoundingRect::bounding_rect(&home.geometry)?;
                    let aabb = rstar::AABB::from_corners(
                        [env.min().x - catchment, env.min().y - catchment],
                        [env.max().x + catchment, env.max().y + catchment],
                    );
                    let served: f64 = index
                        .locate_in_envelope(&aabb)
                        .filter(|e| {
                            let p = Point::new(e.geom()[0], e.geom()[1]);
                            Euclidean.distance(&p, &home.geometry) <= catchment
                        })
                        .filter_map(|e| residents(e.data))
                        .sum();
                    (served > 0.0).then_some((h as u32, beds / served))
                })
                .collect()
        }
        _ => HashMap::new(),
    };

    let rows: Vec<MunicipalityServices> = (0..m.layer.features.len() as u32)
        .into_par_iter()
        .map(|j| {
            let c = centroids[j as usize];
            let beds = match (roles.nursing_homes, roles.fields.nursing_beds, c) {
                (Some(homes), Some(_), Some(c)) => Some(
                    within_distance(homes.layer, &Geometry::Point(c), catchment)?
                        .iter()
                        .filter_map(|h| beds_ratio.get(&h.feature))
                        .sum::<f64>()
                        * 1_000.0,
                ),
                _ => None,
            };
            Ok(MunicipalityServices {
                municipality: m.feature(j).id.to_string(),
                name: m.name(j),
                residents: residents(j),
                hospital_distance_m: nearest_distance(roles.hospitals, c)?,
                nursing_home_distance_m: nearest_distance(roles.nursing_homes, c)?,
                nursing_beds_per_1000: beds,
            })
        })
        .collect::<Result<_, ReportError>>()?;
    province.residents = rows.iter().filter_map(|r| r.residents).sum();
    let far_from = |d: fn(&MunicipalityServices) -> Option<f64>| -> f64 {
        rows.iter()
            .filter(|r| d(r).is_none_or(|d| d > far))
            .filter_map(|r| r.residents)
            .sum()
    };
    if roles.nursing_homes.is_some() {
        province.residents_far_from_nursing_home = Some(far_from(|r| r.nursing_home_distance_m));
    }
    if roles.hospitals.is_some() {
        province.residents_far_from_hospital = Some(far_from(|r| r.hospital_distance_m));
    }
    Ok((rows, province))
}

impl Indicators {
    /// Every value in long format: `indicator_id,group,key,value,unit`, one row per value.
    /// Groups and keys with commas or quotes are quoted as RFC 4180 says.
    pub fn to_csv(&self) -> String {
        let unit: HashMap<&str, &str> = self.definitions.iter().map(|d| (d.id, d.unit)).collect();
        let mut out = String::from("indicator_id,group,key,value,unit\n");
        let mut row = |id: &str, group: &str, key: &str, value: Option<f64>| {
            let v = value.map(|v| format!("{v}")).unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                id,
                csv_field(group),
                csv_field(key),
                v,
                csv_field(unit.get(id).copied().unwrap_or(""))
            ));
        };
        for g in &self.progress {
            row(
                "progress.projects",
                g.group,
                &g.key,
                Some(g.projects as f64),
            );
            for (status, n) in &g.by_status {
                row(
                    "progress.projects_by_status",
                    &format!("{}/status", g.group),
                    &format!("{}/{}", g.key, status),
                    Some(*n as f64),
                );
            }
            row(
                "progress.budget_total",
                g.group,
                &g.key,
                Some(g.budget_total_eur),
            );
            row("progress.budget_mean", g.group, &g.key, g.budget_mean_eur);
            row(
                "progress.progress_mean",
                g.group,
                &g.key,
                g.progress_mean_pct,
            );
        }
        for p in &self.productive {
            row(
                "productive.projects_inside",
                "axis",
                &p.axis,
                Some(p.inside as f64),
            );
            row(
                "productive.projects_inside_supra",
                "axis",
                &p.axis,
                Some(p.inside_supra as f64),
            );
            row(
                "productive.projects_outside",
                "axis",
                &p.axis,
                Some(p.outside as f64),
            );
            row(
                "productive.budget_share_inside",
                "axis",
                &p.axis,
                p.budget_share_inside,
            );
            row(
                "productive.budget_share_inside_supra",
                "axis",
                &p.axis,
                p.budget_share_inside_supra,
            );
            row(
                "productive.budget_share_outside",
                "axis",
                &p.axis,
                p.budget_share_outside,
            );
        }
        for e in &self.environmental {
            let (group, key) = match &e.feature {
                None => ("layer".to_string(), e.layer.clone()),
                Some(f) => (e.layer.clone(), f.clone()),
            };
            row("vas.project_area", &group, &key, Some(e.area_m2));
            row("vas.project_length", &group, &key, Some(e.length_m));
            row(
                "vas.projects_touching",
                &group,
                &key,
                Some(e.projects as f64),
            );
        }
        for l in &self.land_take {
            row(
                "land_take.area",
                "municipality",
                &l.municipality,
                Some(l.area_m2),
            );
            row("land_take.share", "municipality", &l.municipality, l.share);
        }
        for s in &self.services {
            row(
                "services.residents",
                "municipality",
                &s.municipality,
                s.residents,
            );
            row(
                "services.hospital_distance",
                "municipality",
                &s.municipality,
                s.hospital_distance_m,
            );
            row(
                "services.nursing_home_distance",
                "municipality",
                &s.municipality,
                s.nursing_home_distance_m,
            );
            row(
                "services.nursing_beds_per_1000",
                "municipality",
                &s.municipality,
                s.nursing_beds_per_1000,
            );
        }
        row(
            "services.residents",
            "province",
            "",
            Some(self.province.residents),
        );
        row(
            "services.residents_far_from_nursing_home",
            "province",
            &format!("{}", self.province.far_m),
            self.province.residents_far_from_nursing_home,
        );
        row(
            "services.residents_far_from_hospital",
            "province",
            &format!("{}", self.province.far_m),
            self.province.residents_far_from_hospital,
        );
        out
    }

    /// The per-municipality values, for every feature of the municipalities layer (by index,
    /// in layer order): residents, distances to the nearest hospital and nursing home, beds per
    /// 1,000 residents, projects, budget, mean progress, land take and its share.
    pub fn municipality_values(
        &self,
        catalog: &Catalog,
    ) -> Result<MunicipalityValues, ReportError> {
        let roles = RoleLayers::new(catalog)?;
        let m = roles.require("municipalities", roles.municipalities)?;
        let by_municipality: HashMap<&str, &ProgressGroup> = self
            .progress
            .iter()
            .filter(|g| g.group == "municipality")
            .map(|g| (g.key.as_str(), g))
            .collect();
        let land: HashMap<&str, &LandTake> = self
            .land_take
            .iter()
            .map(|l| (l.municipality.as_str(), l))
            .collect();
        let services: HashMap<&str, &MunicipalityServices> = self
            .services
            .iter()
            .map(|s| (s.municipality.as_str(), s))
            .collect();
        let mut out = Vec::with_capacity(m.layer.features.len());
        for (i, f) in m.layer.features.iter().enumerate() {
            let id = f.id.to_string();
            let mut extra = Map::new();
            let s = services.get(id.as_str());
            extra.insert("residents".into(), json!(s.and_then(|s| s.residents)));
            extra.insert(
                "hospital_distance_m".into(),
                json!(s.and_then(|s| s.hospital_distance_m)),
            );
            extra.insert(
                "nursing_home_distance_m".into(),
                json!(s.and_then(|s| s.nursing_home_distance_m)),
            );
            extra.insert(
                "nursing_beds_per_1000".into(),
                json!(s.and_then(|s| s.nursing_beds_per_1000)),
            );
            let p = by_municipality.get(id.as_str());
            extra.insert("projects".into(), json!(p.map_or(0, |p| p.projects)));
            extra.insert(
                "budget_total_eur".into(),
                json!(p.map_or(0.0, |p| p.budget_total_eur)),
            );
            extra.insert(
                "progress_mean_pct".into(),
                json!(p.and_then(|p| p.progress_mean_pct)),
            );
            let l = land.get(id.as_str());
            extra.insert("land_take_m2".into(), json!(l.map_or(0.0, |l| l.area_m2)));
            extra.insert("land_take_share".into(), json!(l.and_then(|l| l.share)));
            out.push((i as u32, extra));
        }
        Ok(out)
    }

    /// The municipalities as a GeoJSON FeatureCollection (geometry moved by `to_output`, e.g. to
    /// CRS84), each carrying its per-municipality values ([`Indicators::municipality_values`]),
    /// ready for a choropleth.
    pub fn municipalities_geojson(
        &self,
        catalog: &Catalog,
        to_output: &Transformer,
    ) -> Result<Json, IndicatorGeoJsonError> {
        let roles = RoleLayers::new(catalog)?;
        let m = roles.require("municipalities", roles.municipalities)?;
        let values = self.municipality_values(catalog)?;
        let mut features = Vec::with_capacity(values.len());
        for (i, extra) in values {
            features.push(crate::geojson_io::feature_json(
                m.layer,
                &m.layer.features[i as usize],
                to_output,
                extra,
            )?);
        }
        let mut members = Map::new();
        members.insert("layer".into(), json!(m.layer.id()));
        members.insert("numberReturned".into(), json!(features.len()));
        Ok(crate::geojson_io::feature_collection(features, members))
    }
}

/// Per-municipality values: the feature's index in the municipalities layer and its properties.
pub type MunicipalityValues = Vec<(u32, Map<String, Json>)>;

/// Errors writing the municipalities GeoJSON.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorGeoJsonError {
    #[error(transparent)]
    Roles(#[from] ReportError),
    #[error(transparent)]
    Crs(#[from] CrsError),
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::province;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    const OPTIONS: IndicatorOptions = IndicatorOptions {
        catchment_m: 1_500.0,
        far_m: 900.0,
    };

    #[test]
    fn indicators_by_hand() {
        let c = province();
        let set = indicators(&c, &OPTIONS).unwrap();
        // Axis 1: P1 (budget 100, progress 10, design) and P2 (300, 30, completed).
        let axis1 = set
            .progress
            .iter()
            .find(|g| g.group == "axis" && g.key == "1")
            .unwrap();
        assert_eq!(axis1.projects, 2);
        assert_eq!(axis1.by_status.get("design"), Some(&1));
        assert_eq!(axis1.by_status.get("completed"), Some(&1));
        assert!(
            close(axis1.budget_total_eur, 400.0) && close(axis1.budget_mean_eur.unwrap(), 200.0)
        );
        assert!(close(axis1.progress_mean_pct.unwrap(), 20.0));
        // Principal municipalities: P1 is 4/7 in B, P2 in A, P3 6/11 in A.
        let by_m = |k: &str| {
            set.progress
                .iter()
                .find(|g| g.group == "municipality" && g.key == k)
                .map(|g| g.projects)
        };
        assert_eq!((by_m("A"), by_m("B")), (Some(2), Some(1)));
        // Productive: only P2 is inside (PA1, not supra): budget 300 of 1,000.
        let all = set.productive.iter().find(|p| p.axis == "all").unwrap();
        assert_eq!((all.inside, all.inside_supra, all.outside), (1, 0, 2));
        assert!(close(all.budget_share_inside.unwrap(), 0.3));
        assert!(close(all.budget_share_outside.unwrap(), 0.7));
        // VAS: the park takes 80,000 m² of P1 and 400 m of P3; two projects touch it.
        let park = set
            .environmental
            .iter()
            .find(|e| e.layer == "parks" && e.feature.is_none())
            .unwrap();
        assert!(close(park.area_m2, 80_000.0) && close(park.length_m, 400.0));
        assert_eq!(park.projects, 2);
        let pk = set
            .environmental
            .iter()
            .find(|e| e.feature.as_deref() == Some("PK"))
            .unwrap();
        assert_eq!(pk.projects, 2);
        // Land take: P1 on farmland is [700,1000]x[100,200] in A and [1000,1400]x[100,200] in B;
        // each municipality has 1,000 x 200 of farmland.
        let take = |k: &str| set.land_take.iter().find(|l| l.municipality == k).unwrap();
        assert!(close(take("A").area_m2, 30_000.0) && close(take("A").share.unwrap(), 0.15));
        assert!(close(take("B").area_m2, 40_000.0) && close(take("B").share.unwrap(), 0.2));
        assert!(close(take("B").agricultural_land_m2, 200_000.0));
        // Services from the centroids A (500,500) and B (1500,500).
        let sv = |k: &str| set.services.iter().find(|s| s.municipality == k).unwrap();
        assert!(close(
            sv("A").hospital_distance_m.unwrap(),
            (1000f64.powi(2) + 400f64.powi(2)).sqrt()
        ));
        assert!(close(sv("B").hospital_distance_m.unwrap(), 400.0));
        assert!(close(sv("A").nursing_home_distance_m.unwrap(), 0.0));
        assert!(close(sv("B").nursing_home_distance_m.unwrap(), 1_000.0));
        // Catchment 1,500 m: N1 serves A and B (4,000 residents, 40 beds: 0.01 each);
        // N2 (2500,500) serves B only (3,000 residents, 60 beds: 0.02).
        assert!(close(sv("A").nursing_beds_per_1000.unwrap(), 10.0));
        assert!(close(sv("B").nursing_beds_per_1000.unwrap(), 30.0));
        assert!(close(set.province.residents, 4_000.0));
        // Farther than 900 m: B from nursing homes (1,000 m), A from the hospital (1,077 m).
        assert_eq!(set.province.residents_far_from_nursing_home, Some(3_000.0));
        assert_eq!(set.province.residents_far_from_hospital, Some(1_000.0));
    }

    #[test]
    fn every_indicator_is_defined_and_csv_rows_use_defined_ids() {
        let set = indicators(&province(), &OPTIONS).unwrap();
        let ids: Vec<&str> = set.definitions.iter().map(|d| d.id).collect();
        let csv = set.to_csv();
        let mut seen = std::collections::BTreeSet::new();
        for line in csv.lines().skip(1) {
            let id = line.split(',').next().unwrap();
            assert!(ids.contains(&id), "{line}");
            assert_eq!(line.split(',').count(), 5, "{line}");
            seen.insert(id.to_string());
        }
        assert_eq!(seen.len(), ids.len(), "every indicator has rows");
        assert!(
            csv.contains("land_take.area,municipality,B,40000,m2"),
            "{csv}"
        );
    }

    #[test]
    fn bad_distances_are_refused() {
        let c = province();
        for (catchment_m, far_m) in [(-1.0, 1.0), (1.0, 200_001.0), (f64::INFINITY, 1.0)] {
            let e = indicators(&c, &IndicatorOptions { catchment_m, far_m }).unwrap_err();
            assert!(matches!(e, ReportError::BadDistance { .. }), "{e}");
        }
    }
}
