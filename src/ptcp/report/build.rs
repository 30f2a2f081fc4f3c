//! Computing a site report: one overlay and one or two nearest queries per role layer.

use geo::Geometry;

use super::model::*;
use crate::analysis::subject::find_feature;
use crate::analysis::{
    measure_of, nearest_where, overlay, select, within_distance, Hit, Measure, OverlayOptions,
    Predicate,
};
use crate::feature::geometry_type_name;
use crate::ptcp::roles::{Field, Role, RoleLayer, RoleLayers};
use crate::ptcp::{check_distance, ReportError};
use crate::store::Catalog;

/// The site report of project `id` of the catalogue's `projects` role.
///
/// ```
/// # use territorio::ptcp::{site_report, ReportOptions};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::ptcp::ReportError> {
/// let report = site_report(catalog, "P012", &ReportOptions::default())?;
/// for line in territorio::present::report::summary(&report) {
///     println!("{}: {}", line.system, line.text);
/// }
/// # Ok(()) }
/// ```
///
/// Errors: no projects layer, no such project ([`ReportError::UnknownProject`]), a project with
/// an invalid geometry, a radius outside 0..=200 km, a role field named but missing.
pub fn site_report(
    catalog: &Catalog,
    id: &str,
    options: &ReportOptions,
) -> Result<SiteReport, ReportError> {
    let roles = RoleLayers::new(catalog)?;
    report_with(&roles, id, options)
}

/// The site report of any geometry `site` in the working CRS (a point, a line, a polygon or
/// their multi forms), e.g. a site a planner draws on a map: the same report as a project's,
/// with `project.layer`, `project.id` and `project.title` left `None`.
///
/// ```
/// # use territorio::ptcp::{site_report_for_geometry, ReportOptions};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::ptcp::ReportError> {
/// let site = geo::Geometry::Polygon(
///     geo::Rect::new((580_000.0, 5_000_000.0), (580_300.0, 5_000_200.0)).to_polygon(),
/// );
/// let report = site_report_for_geometry(catalog, &site, &ReportOptions::default())?;
/// println!("{} municipalities", report.municipalities.len());
/// # Ok(()) }
/// ```
///
/// Errors: an invalid geometry or a geometry collection
/// ([`AnalysisError::InvalidGeometry`](crate::analysis::AnalysisError::InvalidGeometry)), a
/// radius outside 0..=200 km, a role field named but missing.
pub fn site_report_for_geometry(
    catalog: &Catalog,
    site: &Geometry<f64>,
    options: &ReportOptions,
) -> Result<SiteReport, ReportError> {
    let roles = RoleLayers::new(catalog)?;
    report_site(&roles, site, project_info(site, None), options)
}

/// [`site_report`] with roles already bound (to report many projects at once).
pub fn report_with(
    roles: &RoleLayers<'_>,
    id: &str,
    options: &ReportOptions,
) -> Result<SiteReport, ReportError> {
    check_distance("agrifood_radius_m", options.agrifood_radius_m)?;
    let projects = roles.require(Role::Projects)?;
    let index = find_feature(projects.layer, id)
        .and_then(|f| projects.layer.position(&f.id))
        .ok_or_else(|| ReportError::UnknownProject {
            layer: projects.layer.id().to_string(),
            id: id.to_string(),
        })? as u32;
    let feature = projects.feature(index);
    if let Some(reason) = &feature.invalid {
        return Err(ReportError::InvalidProject {
            id: id.to_string(),
            reason: reason.to_string(),
        });
    }
    let project = project_info(&feature.geometry, Some((projects, index)));
    report_site(roles, &feature.geometry, project, options)
}

/// What the report is about: feature `project` of a projects layer, or a site.
fn project_info(site: &Geometry<f64>, project: Option<(RoleLayer<'_>, u32)>) -> ProjectInfo {
    let (area_m2, length_m) = measure_of(site);
    ProjectInfo {
        layer: project.map(|(p, _)| p.layer.id().to_string()),
        id: project.map(|(p, i)| p.feature(i).id.to_string()),
        title: project.and_then(|(p, i)| p.text(Field::ProjectTitle, i)),
        geometry_type: geometry_type_name(site),
        area_m2,
        length_m,
    }
}

/// The report of `site` (working CRS), described by `project`.
fn report_site(
    roles: &RoleLayers<'_>,
    site: &Geometry<f64>,
    project: ProjectInfo,
    options: &ReportOptions,
) -> Result<SiteReport, ReportError> {
    let radius = check_distance("agrifood_radius_m", options.agrifood_radius_m)?;
    let area_m2 = project.area_m2;

    let municipalities = match roles.get(Role::Municipalities) {
        Some(m) => municipality_shares(m, site)?,
        None => Vec::new(),
    };

    let settlement = {
        let mut areas = Vec::new();
        let (mut nearest_any, mut nearest_supra) = (None, None);
        if let Some(p) = roles.get(Role::ProductiveAreas) {
            let containing = select(p.layer, site, Predicate::Contains)?;
            for (i, t) in touches(p, site)? {
                areas.push(ProductiveArea {
                    id: t.id,
                    name: t.name,
                    kind: p.text(Field::ProductiveKind, i),
                    status: p.text(Field::ProductiveStatus, i),
                    sovracomunale: roles.is_supra(i),
                    contains_project: containing.binary_search(&i).is_ok(),
                    area_m2: t.area_m2,
                    length_m: t.length_m,
                });
            }
            areas.sort_by_key(|a| !a.contains_project);
            nearest_any = nearest_matching(p, site, |_| true)?;
            nearest_supra = nearest_matching(p, site, |i| roles.is_supra(i))?;
        }
        Settlement {
            productive_areas: areas,
            nearest_productive_area: nearest_any,
            nearest_supra_municipal_area: nearest_supra,
            urban_areas: touched(roles.get(Role::UrbanAreas), site)?,
        }
    };

    let mut environmental = Vec::new();
    for c in roles.constraints() {
        let touched = touched(Some(c), site)?;
        let nearest = if touched.is_empty() {
            nearest_matching(c, site, |_| true)?
        } else {
            None
        };
        environmental.push(Constraint {
            role: c.role,
            layer: c.layer.id().to_string(),
            touched,
            nearest,
        });
    }

    let rural = {
        let agricultural_land = roles.get(Role::AgriculturalLand);
        let agricultural = touched(agricultural_land, site)?;
        let taken: f64 = agricultural.iter().map(|t| t.area_m2).sum();
        let agrifood_sites = match roles.get(Role::AgrifoodSites) {
            Some(s) => within_distance(s.layer, site, radius)?
                .into_iter()
                .map(|h| near(s, h))
                .collect(),
            None => Vec::new(),
        };
        Rural {
            agricultural_layer: agricultural_land.map(|a| a.layer.id().to_string()),
            agricultural_area_m2: taken,
            agricultural_share: (area_m2 > 0.0).then(|| (taken / area_m2).min(1.0)),
            agricultural_length_m: agricultural.iter().map(|t| t.length_m).sum(),
            agricultural_areas: agricultural,
            agrifood_radius_m: radius,
            agrifood_sites,
        }
    };

    let closest = |what: &'static str,
                   role: Role,
                   keep: &dyn Fn(u32) -> bool|
     -> Result<Proximity, ReportError> {
        Ok(Proximity {
            what,
            nearest: match roles.get(role) {
                Some(l) => nearest_matching(l, site, keep)?,
                None => None,
            },
        })
    };
    let infrastructure = vec![
        closest("motorway_junction", Role::MotorwayJunctions, &|_| true)?,
        closest("railway_station", Role::Stations, &|_| true)?,
        closest("state_road", Role::Roads, &|i| roles.is_state_road(i))?,
        closest("river_port", Role::RiverPort, &|_| true)?,
    ];
    let services = vec![
        closest("hospital", Role::Hospitals, &|_| true)?,
        closest("nursing_home", Role::NursingHomes, &|_| true)?,
    ];

    Ok(SiteReport {
        project,
        municipalities,
        settlement,
        environmental,
        rural,
        infrastructure,
        services,
    })
}

/// The municipalities a site lies in, with its share in each.
fn municipality_shares(
    m: RoleLayer<'_>,
    site: &Geometry<f64>,
) -> Result<Vec<MunicipalityShare>, ReportError> {
    let o = overlay(m.layer, site, &OverlayOptions::default())?;
    let n = o.items.len() as f64;
    Ok(o.items
        .iter()
        .map(|item| MunicipalityShare {
            id: m.feature(item.feature).id.to_string(),
            name: m.name(item.feature),
            share: match o.measure {
                Measure::Area | Measure::Length => item.site_share.unwrap_or(0.0),
                Measure::Count => 1.0 / n,
            },
            area_m2: item.area_m2,
            length_m: item.length_m,
        })
        .collect())
}

/// The features of a role layer the site overlaps (or, for points, touches), in index order.
pub(crate) fn touches(
    l: RoleLayer<'_>,
    site: &Geometry<f64>,
) -> Result<Vec<(u32, Touch)>, ReportError> {
    let o = overlay(l.layer, site, &OverlayOptions::default())?;
    Ok(o.items
        .iter()
        .map(|item| {
            (
                item.feature,
                Touch {
                    id: l.feature(item.feature).id.to_string(),
                    name: l.name(item.feature),
                    area_m2: item.area_m2,
                    length_m: item.length_m,
                    project_share: item.site_share,
                },
            )
        })
        .collect())
}

/// [`touches`] without the feature indices; none when no layer plays the role.
fn touched(l: Option<RoleLayer<'_>>, site: &Geometry<f64>) -> Result<Vec<Touch>, ReportError> {
    Ok(match l {
        Some(l) => touches(l, site)?.into_iter().map(|t| t.1).collect(),
        None => Vec::new(),
    })
}

fn near(l: RoleLayer<'_>, h: Hit) -> Near {
    Near {
        layer: l.layer.id().to_string(),
        id: l.feature(h.feature).id.to_string(),
        name: l.name(h.feature),
        distance_m: h.distance_m,
    }
}

fn nearest_matching(
    l: RoleLayer<'_>,
    site: &Geometry<f64>,
    keep: impl Fn(u32) -> bool,
) -> Result<Option<Near>, ReportError> {
    Ok(nearest_where(l.layer, site, &keep)?.map(|h| near(l, h)))
}
