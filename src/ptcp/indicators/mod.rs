//! The monitoring indicators shared by the development pact and the PTCP.
//!
//! One set, computed over the whole catalogue, one family per module (see [`definitions`] for
//! the ids, titles, units, one-line definitions and the municipality property each writes):
//! - [`progress`] per axis, emblematic action, AQST programme and municipality: projects by
//!   status, total and mean budget, mean progress;
//! - [`productive`] areas per axis: count and budget share of projects inside productive areas,
//!   inside supra-municipal ones, and outside any;
//! - cumulative environmental effects ([`vas`]): project area and line length inside each
//!   constraint layer and each of its features, and the number of projects touching each;
//! - [`land_take`]: project area on strategic agricultural land per municipality, and its share
//!   of the municipality's agricultural land;
//! - [`services`] vs demography per municipality: residents, distances from the centroid to the
//!   nearest hospital and nursing home, nursing-home beds per 1,000 residents within the
//!   catchment radius; province-wide, the residents far from any nursing home (and hospital).
//!
//! Apart from the set, [`monitoring`](mod@monitoring) takes the projects at one instant (the
//! served layer, or the projects as they stood at a past instant) and a date: per axis,
//! emblematic action and AQST programme, projects by status, mean and budget-weighted progress,
//! budget, committed and spent, and the projects late against their planned end date.
//!
//! A project's municipality is its *principal* one: the one holding the largest share of it.
//! Without a projects layer the project families are empty and the services are still computed.
//!
//! Runs on all cores (rayon): projects and municipalities are independent.
//! Cost: per project, one overlay per role layer (O(log n + k) each), plus what each family
//! states; per municipality, the catchment queries of [`services`].
//!
//! A [`Memo`] keeps what each project site and the services gave, for as long as the layers
//! they were computed against stay the same: after an edit of the projects that leaves their
//! geometries alone (progress, status, money), the set costs only its sums
//! ([`indicators_with`]).

pub mod land_take;
pub mod monitoring;
pub mod productive;
pub mod progress;
pub mod services;
pub mod vas;

pub use land_take::LandTake;
pub use monitoring::Monitoring;
pub use productive::ProductiveShare;
pub use progress::ProgressGroup;
pub use services::{MunicipalityServices, ProvinceServices};
pub use vas::ConstraintEffect;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use geo::{CoordsIter, Geometry};
use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::{overlay, Measure, OverlayOptions};
use crate::ptcp::roles::{Role, RoleLayer, RoleLayers, ROLES};
use crate::ptcp::{check_distance, ReportError};
use crate::store::{Catalog, Layer};

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
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Definition {
    pub id: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
    /// The property of the municipalities GeoJSON that carries the indicator, for the
    /// indicators with one value per municipality (`null` for the others).
    pub property: Option<&'static str>,
}

/// The definitions of every indicator, family by family, in the order they appear in results.
pub fn definitions() -> Vec<Definition> {
    [
        progress::DEFINITIONS,
        productive::DEFINITIONS,
        vas::DEFINITIONS,
        land_take::DEFINITIONS,
        services::DEFINITIONS,
    ]
    .concat()
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

/// One valid project and what it contributes to each family.
#[derive(Debug, Clone)]
pub struct Project {
    /// Index of the project in its layer.
    pub index: u32,
    /// Its principal municipality.
    pub municipality: Option<u32>,
    pub productive: productive::Facts,
    pub vas: vas::Facts,
    pub land_take: land_take::Facts,
}

/// The projects layer and what each of its valid projects contributes, in layer order.
#[derive(Debug, Clone)]
pub struct Projects<'a> {
    pub layer: RoleLayer<'a>,
    pub facts: Vec<Project>,
}

/// Computes every indicator over the catalogue.
///
/// ```
/// # use territorio::ptcp::{indicators, IndicatorOptions};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::ptcp::ReportError> {
/// let set = indicators(catalog, &IndicatorOptions::default())?;
/// for g in set.progress.iter().filter(|g| g.group == "axis") {
///     println!("axis {}: {} projects", g.key, g.projects);
/// }
/// # Ok(()) }
/// ```
///
/// Errors: a distance outside 0..=200 km, a role field named but missing.
pub fn indicators(
    catalog: &Catalog,
    options: &IndicatorOptions,
) -> Result<Indicators, ReportError> {
    indicators_with(catalog, options, &Memo::default())
}

/// [`indicators`], taking what `memo` kept from an earlier computation over the same
/// non-project layers (and keeping what this one computes for the next).
pub fn indicators_with(
    catalog: &Catalog,
    options: &IndicatorOptions,
    memo: &Memo,
) -> Result<Indicators, ReportError> {
    let catchment = check_distance("catchment_m", options.catchment_m)?;
    let far = check_distance("far_m", options.far_m)?;
    let roles = RoleLayers::new(catalog)?;
    let constraints = roles.constraints();
    let mut kept = memo.take(catalog, &roles, options);
    let (projects, skipped_projects) = match roles.get(Role::Projects) {
        Some(layer) => {
            let facts: Vec<Option<Project>> = (0..layer.layer.features.len() as u32)
                .into_par_iter()
                .map(|i| {
                    let p = layer.feature(i);
                    if !p.is_valid() {
                        return Ok(None);
                    }
                    if let Some(known) = kept.site(&p.geometry) {
                        return Ok(Some(Project { index: i, ..known }));
                    }
                    project(&roles, &constraints, i, &p.geometry).map(Some)
                })
                .collect::<Result<_, ReportError>>()?;
            kept.sites = HashMap::new();
            for (i, fact) in facts.iter().enumerate() {
                if let Some(fact) = fact {
                    kept.keep_site(&layer.layer.features[i].geometry, fact);
                }
            }
            let skipped = layer
                .layer
                .features
                .iter()
                .zip(&facts)
                .filter(|(_, f)| f.is_none())
                .map(|(p, _)| p.id.to_string())
                .collect();
            let facts = facts.into_iter().flatten().collect();
            (Some(Projects { layer, facts }), skipped)
        }
        None => (None, Vec::new()),
    };
    let (services, province) = match kept.services.take() {
        Some(known) => known,
        None => services::services(&roles, catchment, far)?,
    };
    kept.services = Some((services.clone(), province.clone()));
    memo.put(kept);
    let mut set = Indicators {
        definitions: definitions(),
        progress: Vec::new(),
        productive: Vec::new(),
        environmental: Vec::new(),
        land_take: Vec::new(),
        services,
        province,
        skipped_projects,
    };
    if let Some(projects) = &projects {
        set.progress = progress::progress(&roles, projects);
        set.productive = productive::productive(&roles, projects);
        set.environmental = vas::effects(&constraints, projects);
        set.land_take = land_take::land_take(&roles, projects)?;
    }
    Ok(set)
}

/// Everything project `index` (geometry `site`) contributes.
fn project(
    roles: &RoleLayers<'_>,
    constraints: &[RoleLayer<'_>],
    index: u32,
    site: &Geometry<f64>,
) -> Result<Project, ReportError> {
    // The municipalities it lies in, with its share of each.
    let mut pieces: Vec<(u32, f64)> = Vec::new();
    let mut municipality = None;
    if let Some(m) = roles.get(Role::Municipalities) {
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
        municipality = pieces
            .iter()
            .max_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then_with(|| m.feature(b.0).id.cmp(&m.feature(a.0).id))
            })
            .map(|p| p.0);
    }
    let in_municipalities: Vec<u32> = pieces.iter().map(|p| p.0).collect();
    Ok(Project {
        index,
        municipality,
        productive: productive::facts(roles, site)?,
        vas: vas::facts(constraints, site)?,
        land_take: land_take::facts(roles, site, &in_municipalities)?,
    })
}

/// What the indicators computed for each project site and for the services, against one set of
/// non-project layers: kept between computations (a server keeps one for its catalogue).
///
/// A site is found again by its exact coordinates; the kept facts hold positions in the other
/// layers, valid only while those layers are the same: the memo holds the layers it was filled
/// against (so they cannot be freed and their addresses reused) and starts empty when any of
/// them, or the options, differ. It keeps only the sites of its last computation.
#[derive(Default)]
pub struct Memo {
    state: Mutex<Option<Kept>>,
}

struct Kept {
    basis: Vec<Arc<Layer>>,
    options: IndicatorOptions,
    /// Facts by a hash of the site's coordinates; the site itself tells collisions apart.
    sites: HashMap<u64, Vec<(Geometry<f64>, Project)>>,
    services: Option<(Vec<MunicipalityServices>, ProvinceServices)>,
}

impl Memo {
    /// What was kept for this catalogue's non-project layers and these options (or nothing).
    fn take(&self, catalog: &Catalog, roles: &RoleLayers<'_>, options: &IndicatorOptions) -> Kept {
        let basis: Vec<Arc<Layer>> = ROLES
            .iter()
            .filter(|spec| spec.role != Role::Projects)
            .filter_map(|spec| roles.get(spec.role))
            .filter_map(|r| catalog.position(r.layer.id()))
            .map(|pos| catalog.layers()[pos].clone())
            .collect();
        let kept = self.state.lock().unwrap_or_else(|e| e.into_inner()).take();
        match kept {
            Some(kept)
                if kept.options == *options
                    && kept.basis.len() == basis.len()
                    && kept
                        .basis
                        .iter()
                        .zip(&basis)
                        .all(|(a, b)| Arc::ptr_eq(a, b)) =>
            {
                kept
            }
            _ => Kept {
                basis,
                options: *options,
                sites: HashMap::new(),
                services: None,
            },
        }
    }

    fn put(&self, kept: Kept) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(kept);
    }
}

impl Kept {
    fn site(&self, site: &Geometry<f64>) -> Option<Project> {
        self.sites
            .get(&site_hash(site))?
            .iter()
            .find(|(g, _)| g == site)
            .map(|(_, p)| p.clone())
    }

    fn keep_site(&mut self, site: &Geometry<f64>, facts: &Project) {
        self.sites
            .entry(site_hash(site))
            .or_default()
            .push((site.clone(), facts.clone()));
    }
}

/// A hash of a geometry's kind and exact coordinates.
fn site_hash(site: &Geometry<f64>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::mem::discriminant(site).hash(&mut h);
    for c in site.coords_iter() {
        c.x.to_bits().hash(&mut h);
        c.y.to_bits().hash(&mut h);
    }
    h.finish()
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

#[cfg(test)]
mod tests;
