//! The site report of one project, or of any site: where it sits relative to every PTCP system.
//!
//! For a project of the catalogue's `projects` role ([`site_report`]), or any valid geometry in
//! the working CRS, such as a site a planner draws on a map ([`site_report_for_geometry`]): the
//! municipalities it lies in (with its
//! share in each); the productive areas it lies in or the distance to the nearest one and to the
//! nearest one of supra-municipal interest, and the urban areas it touches; every park, Natura 2000
//! site, fluvial belt and ecological corridor it overlaps (area, or length for a line) and the
//! nearest of each layer when it touches none; the strategic agricultural land it takes and the
//! agri-food sites within a radius; the distance to the nearest motorway junction, railway
//! station, state road and river port; and to the nearest hospital and nursing home.
//!
//! Everything is an R-tree query ([`overlay`], [`nearest`], [`within_distance`]); numbers are
//! metres and square metres, unrounded. [`SiteReport::summary`] renders one plain-language line
//! per system.
//!
//! Cost: one overlay and one or two nearest queries per role layer, each O(log n + k).

use geo::Geometry;
use serde::Serialize;

use super::roles::{check_distance, ReportError, RoleLayer, RoleLayers};
use super::{nearest, overlay, select, within_distance, Hit, Measure, OverlayOptions, Predicate};
use crate::feature::{geometry_type_name, Feature, FeatureId, Value};
use crate::store::{Catalog, Layer};

/// Options of a site report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    /// Radius for agri-food and agro-energy sites, metres (default 2,000).
    pub agrifood_radius_m: f64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            agrifood_radius_m: 2_000.0,
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
    /// `parks`, `natura2000`, `fluvial_belts` or `ecological_corridors`.
    pub role: &'static str,
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

/// One plain-language line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryLine {
    pub system: &'static str,
    pub text: String,
}

/// The feature of `layer` whose id is `id` (text, or an integer id written as text).
pub fn find_feature<'a>(layer: &'a Layer, id: &str) -> Option<&'a Feature> {
    layer.get(&FeatureId::Str(id.to_string())).or_else(|| {
        id.parse::<i64>()
            .ok()
            .and_then(|n| layer.get(&FeatureId::Int(n)))
    })
}

/// The site report of project `id` of the catalogue's `projects` role.
///
/// ```
/// # use territorio::analysis::{site_report, ReportOptions};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::analysis::ReportError> {
/// let report = site_report(catalog, "P012", &ReportOptions::default())?;
/// for line in report.summary() {
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
/// # use territorio::analysis::{report::site_report_for_geometry, ReportOptions};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::analysis::ReportError> {
/// let site = geo::Geometry::Polygon(
///     geo::Rect::new((580_000.0, 5_000_000.0), (580_300.0, 5_000_200.0)).to_polygon(),
/// );
/// let report = site_report_for_geometry(catalog, &site, &ReportOptions::default())?;
/// println!("{} municipalities", report.municipalities.len());
/// # Ok(()) }
/// ```
///
/// Errors: an invalid geometry or a geometry collection
/// ([`AnalysisError::InvalidGeometry`](super::AnalysisError::InvalidGeometry)), a radius
/// outside 0..=200 km, a role field named but missing.
pub fn site_report_for_geometry(
    catalog: &Catalog,
    site: &Geometry<f64>,
    options: &ReportOptions,
) -> Result<SiteReport, ReportError> {
    let roles = RoleLayers::new(catalog)?;
    let (area_m2, length_m) = measure_of(site);
    let info = ProjectInfo {
        layer: None,
        id: None,
        title: None,
        geometry_type: geometry_type_name(site),
        area_m2,
        length_m,
    };
    report_site(&roles, site, info, options)
}

/// [`site_report`] with roles already bound (to report many projects at once).
pub fn report_with(
    roles: &RoleLayers<'_>,
    id: &str,
    options: &ReportOptions,
) -> Result<SiteReport, ReportError> {
    check_distance("agrifood_radius_m", options.agrifood_radius_m)?;
    let projects = roles.require("projects", roles.projects)?;
    let feature = find_feature(projects.layer, id).ok_or_else(|| ReportError::UnknownProject {
        layer: projects.layer.id().to_string(),
        id: id.to_string(),
    })?;
    if let Some(reason) = &feature.invalid {
        return Err(ReportError::InvalidProject {
            id: id.to_string(),
            reason: reason.clone(),
        });
    }
    let site = &feature.geometry;
    let text = |field: Option<usize>| -> Option<String> {
        match field.map(|f| &feature.values[f]) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.to_string()),
        }
    };
    let (area_m2, length_m) = measure_of(site);
    let project = ProjectInfo {
        layer: Some(projects.layer.id().to_string()),
        id: Some(feature.id.to_string()),
        title: text(roles.fields.project_title),
        geometry_type: geometry_type_name(site),
        area_m2,
        length_m,
    };
    report_site(roles, site, project, options)
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

    let municipalities = match roles.municipalities {
        Some(m) => municipality_shares(m, site)?,
        None => Vec::new(),
    };

    let settlement = {
        let mut areas = Vec::new();
        let (mut nearest_any, mut nearest_supra) = (None, None);
        if let Some(p) = roles.productive_areas {
            let containing = select(p.layer, site, Predicate::Contains)?;
            for t in touches(p, site)? {
                let i = t.0;
                let value = |f: Option<usize>| {
                    f.map(|f| &p.feature(i).values[f])
                        .filter(|v| !matches!(v, Value::Null))
                        .map(|v| v.to_string())
                };
                areas.push(ProductiveArea {
                    id: t.1.id,
                    name: t.1.name,
                    kind: value(roles.fields.productive_kind),
                    status: value(roles.fields.productive_status),
                    sovracomunale: roles.is_supra(i),
                    contains_project: containing.binary_search(&i).is_ok(),
                    area_m2: t.1.area_m2,
                    length_m: t.1.length_m,
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
            urban_areas: match roles.urban_areas {
                Some(u) => touches(u, site)?.into_iter().map(|t| t.1).collect(),
                None => Vec::new(),
            },
        }
    };

    let mut environmental = Vec::new();
    for c in roles.constraints() {
        let touched: Vec<Touch> = touches(c, site)?.into_iter().map(|t| t.1).collect();
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
        let agricultural: Vec<Touch> = match roles.agricultural_land {
            Some(a) => touches(a, site)?.into_iter().map(|t| t.1).collect(),
            None => Vec::new(),
        };
        let taken: f64 = agricultural.iter().map(|t| t.area_m2).sum();
        let agrifood_sites = match roles.agrifood_sites {
            Some(s) => within_distance(s.layer, site, radius)?
                .into_iter()
                .map(|h| near(s, h))
                .collect(),
            None => Vec::new(),
        };
        Rural {
            agricultural_layer: roles.agricultural_land.map(|a| a.layer.id().to_string()),
            agricultural_area_m2: taken,
            agricultural_share: (area_m2 > 0.0).then(|| (taken / area_m2).min(1.0)),
            agricultural_length_m: agricultural.iter().map(|t| t.length_m).sum(),
            agricultural_areas: agricultural,
            agrifood_radius_m: radius,
            agrifood_sites,
        }
    };

    let closest = |what: &'static str,
                   layer: Option<RoleLayer<'_>>,
                   keep: &dyn Fn(u32) -> bool|
     -> Result<Proximity, ReportError> {
        Ok(Proximity {
            what,
            nearest: match layer {
                Some(l) => nearest_matching(l, site, keep)?,
                None => None,
            },
        })
    };
    let infrastructure = vec![
        closest("motorway_junction", roles.motorway_junctions, &|_| true)?,
        closest("railway_station", roles.stations, &|_| true)?,
        closest("state_road", roles.roads, &|i| roles.is_state_road(i))?,
        closest("river_port", roles.river_port, &|_| true)?,
    ];
    let services = vec![
        closest("hospital", roles.hospitals, &|_| true)?,
        closest("nursing_home", roles.nursing_homes, &|_| true)?,
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
    let layer_of = |rl: Option<RoleLayer<'a>>| rl.map(|r| r.layer);
    let by_id = |id: &str| roles.catalog.layer(id);
    if let Some(id) = &report.project.id {
        push(
            layer_of(roles.projects),
            id,
            Relation::Project,
            "projects",
            None,
        );
    }
    for m in &report.municipalities {
        push(
            layer_of(roles.municipalities),
            &m.id,
            Relation::Intersects,
            "municipalities",
            None,
        );
    }
    for a in &report.settlement.productive_areas {
        push(
            layer_of(roles.productive_areas),
            &a.id,
            Relation::Intersects,
            "productive_areas",
            None,
        );
    }
    for u in &report.settlement.urban_areas {
        push(
            layer_of(roles.urban_areas),
            &u.id,
            Relation::Intersects,
            "urban_areas",
            None,
        );
    }
    for c in &report.environmental {
        for t in &c.touched {
            push(by_id(&c.layer), &t.id, Relation::Intersects, c.role, None);
        }
    }
    for t in &report.rural.agricultural_areas {
        push(
            layer_of(roles.agricultural_land),
            &t.id,
            Relation::Intersects,
            "agricultural_land",
            None,
        );
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
            near(n, c.role, Relation::Nearest);
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

/// Area (polygons) and length (lines) of a geometry; both 0 for points.
pub(crate) fn measure_of(g: &Geometry<f64>) -> (f64, f64) {
    use geo::{Area, Euclidean, Length};
    match g {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::Rect(_) => {
            (g.unsigned_area(), 0.0)
        }
        Geometry::LineString(l) => (0.0, Euclidean.length(l)),
        Geometry::MultiLineString(l) => (0.0, Euclidean.length(l)),
        Geometry::Line(l) => (0.0, Euclidean.length(l)),
        _ => (0.0, 0.0),
    }
}

/// The municipalities a site lies in, with its share in each.
pub(crate) fn municipality_shares(
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

fn near(l: RoleLayer<'_>, h: Hit) -> Near {
    Near {
        layer: l.layer.id().to_string(),
        id: l.feature(h.feature).id.to_string(),
        name: l.name(h.feature),
        distance_m: h.distance_m,
    }
}

/// The nearest feature that `keep` accepts: asks the index for 1, 4, 16... nearest until one
/// is accepted or the layer is exhausted. Cost: O(log n + m) for the m features passed over.
pub(crate) fn nearest_hit(
    layer: &Layer,
    site: &Geometry<f64>,
    keep: &dyn Fn(u32) -> bool,
) -> Result<Option<Hit>, ReportError> {
    let total = layer.index().size();
    let mut k = 1;
    loop {
        let hits = nearest(layer, site, k)?;
        if let Some(h) = hits.iter().find(|h| keep(h.feature)) {
            return Ok(Some(*h));
        }
        if hits.len() < k || k >= total {
            return Ok(None);
        }
        k *= 4;
    }
}

fn nearest_matching(
    l: RoleLayer<'_>,
    site: &Geometry<f64>,
    keep: impl Fn(u32) -> bool,
) -> Result<Option<Near>, ReportError> {
    Ok(nearest_hit(l.layer, site, &keep)?.map(|h| near(l, h)))
}

/// `1234567.8` -> `"1,234,568"`.
pub fn thousands(v: f64) -> String {
    let n = v.round();
    let digits = format!("{}", n.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A distance for people: `850 m`, `12.4 km`.
pub fn distance_text(m: f64) -> String {
    if m < 1_000.0 {
        format!("{} m", m.round())
    } else {
        format!("{:.1} km", m / 1_000.0)
    }
}

fn percent(share: f64) -> String {
    let p = share * 100.0;
    if !(0.05..99.95).contains(&p) {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// How much of a feature the project takes: `1,240 m²`, `310 m`, or nothing for a point.
fn amount(t: &Touch) -> String {
    if t.area_m2 > 0.0 {
        format!(" for {} m²", thousands(t.area_m2))
    } else if t.length_m > 0.0 {
        format!(" for {} m", thousands(t.length_m))
    } else {
        String::new()
    }
}

impl SiteReport {
    /// One plain-language line per system: settlement, environmental, rural, infrastructure,
    /// services. Numbers are rounded here, and only here.
    pub fn summary(&self) -> Vec<SummaryLine> {
        let mut lines = Vec::new();

        let mut s = Vec::new();
        match self.municipalities.as_slice() {
            [] => {}
            [only] => s.push(format!("in {}", only.name)),
            many => s.push(format!(
                "across {}",
                many.iter()
                    .map(|m| format!("{} ({})", m.name, percent(m.share)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        let inside: Vec<&ProductiveArea> = self
            .settlement
            .productive_areas
            .iter()
            .filter(|a| a.contains_project)
            .collect();
        let partly: Vec<&ProductiveArea> = self
            .settlement
            .productive_areas
            .iter()
            .filter(|a| !a.contains_project)
            .collect();
        let describe = |a: &ProductiveArea| {
            format!(
                "{}productive area '{}'{}",
                if a.sovracomunale {
                    "supra-municipal "
                } else {
                    ""
                },
                a.name,
                match (&a.kind, &a.status) {
                    (Some(k), Some(st)) => format!(" ({k}, {st})"),
                    (Some(k), None) => format!(" ({k})"),
                    (None, Some(st)) => format!(" ({st})"),
                    (None, None) => String::new(),
                }
            )
        };
        for a in &inside {
            s.push(format!("inside the {}", describe(a)));
        }
        for a in &partly {
            let t = Touch {
                id: a.id.clone(),
                name: a.name.clone(),
                area_m2: a.area_m2,
                length_m: a.length_m,
                project_share: None,
            };
            s.push(format!("overlaps the {}{}", describe(a), amount(&t)));
        }
        if self.settlement.productive_areas.is_empty() {
            if let Some(n) = &self.settlement.nearest_productive_area {
                s.push(format!(
                    "outside any productive area: nearest '{}' at {}",
                    n.name,
                    distance_text(n.distance_m)
                ));
            }
        }
        if !self
            .settlement
            .productive_areas
            .iter()
            .any(|a| a.sovracomunale)
        {
            if let Some(n) = &self.settlement.nearest_supra_municipal_area {
                s.push(format!(
                    "nearest supra-municipal productive area '{}' at {}",
                    n.name,
                    distance_text(n.distance_m)
                ));
            }
        }
        if !self.settlement.urban_areas.is_empty() {
            s.push(format!(
                "touches the urban area of {}",
                self.settlement
                    .urban_areas
                    .iter()
                    .map(|u| u.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        lines.push(SummaryLine {
            system: "settlement",
            text: sentence(s, "no settlement layer"),
        });

        let mut e = Vec::new();
        let mut untouched = Vec::new();
        for c in &self.environmental {
            let what = constraint_name(c.role);
            for t in &c.touched {
                let verb = if t.area_m2 > 0.0 || t.length_m > 0.0 {
                    "crosses"
                } else {
                    "lies in"
                };
                e.push(format!("{verb} {what} {}{}", t.name, amount(t)));
            }
            if let Some(n) = &c.nearest {
                untouched.push(format!(
                    "{what} {} at {}",
                    n.name,
                    distance_text(n.distance_m)
                ));
            }
        }
        if !untouched.is_empty() {
            e.push(format!("nearest {}", untouched.join(", ")));
        }
        lines.push(SummaryLine {
            system: "environmental",
            text: sentence(e, "no environmental layer"),
        });

        let mut r = Vec::new();
        if self.rural.agricultural_layer.is_some() {
            if self.rural.agricultural_area_m2 > 0.0 {
                r.push(format!(
                    "takes {} m² of strategic agricultural land ({} of the {})",
                    thousands(self.rural.agricultural_area_m2),
                    percent(self.rural.agricultural_share.unwrap_or(0.0)),
                    if self.project.id.is_some() {
                        "project"
                    } else {
                        "site"
                    }
                ));
            } else if self.rural.agricultural_length_m > 0.0 {
                r.push(format!(
                    "runs for {} m on strategic agricultural land",
                    thousands(self.rural.agricultural_length_m)
                ));
            } else if !self.rural.agricultural_areas.is_empty() {
                r.push("lies on strategic agricultural land".to_string());
            } else {
                r.push("takes no strategic agricultural land".to_string());
            }
        }
        let radius = distance_text(self.rural.agrifood_radius_m);
        match self.rural.agrifood_sites.as_slice() {
            [] => r.push(format!("no agri-food or agro-energy site within {radius}")),
            sites => r.push(format!(
                "{} agri-food/agro-energy site{} within {radius} (nearest '{}' at {})",
                sites.len(),
                if sites.len() == 1 { "" } else { "s" },
                sites[0].name,
                distance_text(sites[0].distance_m)
            )),
        }
        lines.push(SummaryLine {
            system: "rural",
            text: sentence(r, ""),
        });

        for (system, list) in [
            ("infrastructure", &self.infrastructure),
            ("services", &self.services),
        ] {
            let parts: Vec<String> = list
                .iter()
                .filter_map(|p| {
                    p.nearest.as_ref().map(|n| {
                        format!(
                            "{} {} ({})",
                            distance_text(n.distance_m),
                            proximity_name(p.what),
                            n.name
                        )
                    })
                })
                .collect();
            lines.push(SummaryLine {
                system,
                text: sentence(
                    if parts.is_empty() {
                        parts
                    } else {
                        vec![format!("nearest: {}", parts.join("; "))]
                    },
                    "no layer for this system",
                ),
            });
        }
        lines
    }

    /// What the report is about: `projects P012: title`, or for a site that is not a project,
    /// `site (Polygon, 12,500 m²)`.
    pub fn heading(&self) -> String {
        let p = &self.project;
        match (&p.layer, &p.id) {
            (Some(layer), Some(id)) => format!(
                "{layer} {id}{}",
                p.title
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            ),
            _ => {
                let size = if p.area_m2 > 0.0 {
                    format!(", {} m²", thousands(p.area_m2))
                } else if p.length_m > 0.0 {
                    format!(", {} m", thousands(p.length_m))
                } else {
                    String::new()
                };
                format!("site ({}{size})", p.geometry_type)
            }
        }
    }

    /// The report as text: a header and the summary lines.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.heading());
        for line in self.summary() {
            out.push_str(&format!("  {}: {}\n", line.system, line.text));
        }
        out
    }
}

fn sentence(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_string()
    } else {
        parts.join("; ")
    }
}

fn constraint_name(role: &str) -> &'static str {
    match role {
        "parks" => "park",
        "natura2000" => "Natura 2000 site",
        "fluvial_belts" => "fluvial belt",
        "ecological_corridors" => "ecological corridor",
        _ => "constraint",
    }
}

fn proximity_name(what: &str) -> &'static str {
    match what {
        "motorway_junction" => "to a motorway junction",
        "railway_station" => "to a railway station",
        "state_road" => "to a state road",
        "river_port" => "to the river port",
        "hospital" => "to a hospital",
        "nursing_home" => "to a nursing home",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::province;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn polygon_project_by_hand() {
        let c = province();
        let r = site_report(&c, "P1", &ReportOptions::default()).unwrap();
        // P1 = [700,1400]x[100,300]: 140,000 m²; 60,000 in A (3/7) and 80,000 in B (4/7).
        assert!(close(r.project.area_m2, 140_000.0));
        let m: Vec<(&str, f64, f64)> = r
            .municipalities
            .iter()
            .map(|m| (m.id.as_str(), m.share, m.area_m2))
            .collect();
        assert_eq!(m.len(), 2);
        assert!(m[0].0 == "A" && close(m[0].1, 3.0 / 7.0) && close(m[0].2, 60_000.0));
        assert!(m[1].0 == "B" && close(m[1].1, 4.0 / 7.0) && close(m[1].2, 80_000.0));
        // No productive area touched; PA1 is 300 m west, PA2 (supra) sqrt(200² + 300²) away.
        assert!(r.settlement.productive_areas.is_empty());
        let n = r.settlement.nearest_productive_area.as_ref().unwrap();
        assert!(n.id == "PA1" && close(n.distance_m, 300.0));
        let n = r.settlement.nearest_supra_municipal_area.as_ref().unwrap();
        assert!(n.id == "PA2" && close(n.distance_m, (200f64.powi(2) + 300f64.powi(2)).sqrt()));
        // The park [800,1200]x[0,1000] takes 400 x 200.
        let park = &r.environmental[0];
        assert_eq!(park.role, "parks");
        assert_eq!(park.touched.len(), 1);
        assert!(close(park.touched[0].area_m2, 80_000.0));
        assert!(park.nearest.is_none());
        // Agricultural land [0,2000]x[0,200] takes 700 x 100, half the project.
        assert!(close(r.rural.agricultural_area_m2, 70_000.0));
        assert!(close(r.rural.agricultural_share.unwrap(), 0.5));
        // The agri-food site is 1,600 m below the project's bottom edge.
        assert_eq!(r.rural.agrifood_sites.len(), 1);
        assert!(close(r.rural.agrifood_sites[0].distance_m, 1_600.0));
        let dist = |list: &[Proximity], what: &str| {
            list.iter()
                .find(|p| p.what == what)
                .and_then(|p| p.nearest.as_ref().map(|n| n.distance_m))
        };
        // Junctions and port have no layer here.
        assert_eq!(dist(&r.infrastructure, "motorway_junction"), None);
        assert_eq!(dist(&r.infrastructure, "river_port"), None);
        // Station (0,2000): dx 700, dy 1700. State road y = 1500 (the motorway at y = -300 is
        // nearer but is not a state road).
        assert!(close(
            dist(&r.infrastructure, "railway_station").unwrap(),
            (700f64.powi(2) + 1700f64.powi(2)).sqrt()
        ));
        assert!(close(
            dist(&r.infrastructure, "state_road").unwrap(),
            1_200.0
        ));
        assert!(close(dist(&r.services, "hospital").unwrap(), 100.0));
        assert!(close(
            dist(&r.services, "nursing_home").unwrap(),
            200.0 * 2f64.sqrt()
        ));

        let lines = r.summary();
        let text = |system: &str| {
            lines
                .iter()
                .find(|l| l.system == system)
                .unwrap()
                .text
                .clone()
        };
        assert!(
            text("settlement").contains("Alfa (42.9%), Beta (57.1%)"),
            "{lines:?}"
        );
        assert!(
            text("settlement").contains("nearest 'Uno' at 300 m"),
            "{lines:?}"
        );
        assert!(
            text("environmental").contains("crosses park Parco for 80,000 m²"),
            "{lines:?}"
        );
        assert!(
            text("rural")
                .contains("takes 70,000 m² of strategic agricultural land (50.0% of the project)"),
            "{lines:?}"
        );
    }

    #[test]
    fn point_and_line_projects_by_hand() {
        let c = province();
        let r = site_report(&c, "P2", &ReportOptions::default()).unwrap();
        // (200,250) lies inside PA1, wholly in A, 600 m west of the park.
        assert_eq!(r.municipalities.len(), 1);
        assert!(close(r.municipalities[0].share, 1.0));
        assert_eq!(r.settlement.productive_areas.len(), 1);
        let pa = &r.settlement.productive_areas[0];
        assert!(pa.contains_project && !pa.sovracomunale);
        assert_eq!(
            (pa.kind.as_deref(), pa.status.as_deref()),
            (Some("industrial"), Some("existing"))
        );
        assert!(close(
            r.settlement
                .nearest_productive_area
                .as_ref()
                .unwrap()
                .distance_m,
            0.0
        ));
        assert!(close(
            r.environmental[0].nearest.as_ref().unwrap().distance_m,
            600.0
        ));
        assert!(r.summary()[0]
            .text
            .contains("inside the productive area 'Uno' (industrial, existing)"));

        // P3: (400,500)-(1500,500), 1,100 m: 600 in A, 500 in B, 400 in the park.
        let r = site_report(&c, "P3", &ReportOptions::default()).unwrap();
        assert!(close(r.project.length_m, 1_100.0));
        assert!(close(r.municipalities[0].share, 6.0 / 11.0));
        assert!(close(r.municipalities[1].length_m, 500.0));
        assert!(close(r.environmental[0].touched[0].length_m, 400.0));
    }

    #[test]
    fn any_site_gets_the_report_a_project_there_gets() {
        let c = province();
        let p1 = Geometry::Polygon(geo::Rect::new((700., 100.), (1400., 300.)).to_polygon());
        let by_project = site_report(&c, "P1", &ReportOptions::default()).unwrap();
        let by_site = site_report_for_geometry(&c, &p1, &ReportOptions::default()).unwrap();
        assert_eq!(
            (&by_site.project.layer, &by_site.project.id),
            (&None, &None)
        );
        assert!(close(by_site.project.area_m2, 140_000.0));
        assert_eq!(by_site.municipalities, by_project.municipalities);
        assert_eq!(by_site.settlement, by_project.settlement);
        assert_eq!(by_site.environmental, by_project.environmental);
        assert_eq!(by_site.rural, by_project.rural);
        assert_eq!(by_site.infrastructure, by_project.infrastructure);
        assert_eq!(by_site.heading(), "site (Polygon, 140,000 m²)");
        assert!(by_site.summary()[2].text.contains("(50.0% of the site)"));

        // A site drawn inside PA1 = [100,400]²: [150,350]x[150,250], 20,000 m², all in A.
        let drawn = Geometry::Polygon(geo::Rect::new((150., 150.), (350., 250.)).to_polygon());
        let r = site_report_for_geometry(&c, &drawn, &ReportOptions::default()).unwrap();
        assert_eq!(r.municipalities.len(), 1);
        assert!(r.municipalities[0].id == "A" && close(r.municipalities[0].share, 1.0));
        let pa = &r.settlement.productive_areas;
        assert!(pa.len() == 1 && pa[0].id == "PA1" && pa[0].contains_project);
        assert!(close(pa[0].area_m2, 20_000.0));
        // The park starts at x = 800: 450 m east of the site's right edge.
        assert!(close(
            r.environmental[0].nearest.as_ref().unwrap().distance_m,
            450.0
        ));

        // A geometry collection is not a site.
        let collection = Geometry::GeometryCollection(geo::GeometryCollection(vec![drawn]));
        assert!(matches!(
            site_report_for_geometry(&c, &collection, &ReportOptions::default()),
            Err(ReportError::Analysis(_))
        ));
    }

    #[test]
    fn related_features_list_each_feature_once_with_its_relation() {
        let c = province();
        let roles = RoleLayers::new(&c).unwrap();
        let r = site_report(&c, "P1", &ReportOptions::default()).unwrap();
        let related: Vec<(&str, String, Relation, Option<f64>)> = related_features(&roles, &r)
            .iter()
            .map(|x| {
                (
                    x.layer.id(),
                    x.layer.features[x.feature as usize].id.to_string(),
                    x.relation,
                    x.distance_m,
                )
            })
            .collect();
        let find = |layer: &str, id: &str| {
            related
                .iter()
                .filter(|r| r.0 == layer && r.1 == id)
                .collect::<Vec<_>>()
        };
        assert_eq!(related[0].2, Relation::Project);
        assert_eq!(find("projects", "P1").len(), 1);
        for (layer, id) in [
            ("municipalities", "A"),
            ("municipalities", "B"),
            ("parks", "PK"),
            ("agricultural_areas", "AG"),
        ] {
            let hits = find(layer, id);
            assert_eq!(hits.len(), 1, "{layer} {id}");
            assert_eq!(hits[0].2, Relation::Intersects);
        }
        // PA1 is the nearest productive area (300 m), PA2 the nearest supra-municipal one.
        let pa1 = find("productive_areas", "PA1");
        assert!(pa1[0].2 == Relation::Nearest && close(pa1[0].3.unwrap(), 300.0));
        assert_eq!(find("productive_areas", "PA2")[0].2, Relation::Nearest);
        assert!(close(find("hospitals", "H")[0].3.unwrap(), 100.0));
        let af = find("agrifood_sites", "AF");
        assert!(af[0].2 == Relation::Within && close(af[0].3.unwrap(), 1_600.0));
        // The state road SS1 is the nearest state road; the motorway A1 is not mentioned.
        assert_eq!(find("roads", "SS1").len(), 1);
        assert!(find("roads", "A1").is_empty());
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let c = province();
        assert_eq!(
            site_report(&c, "P9", &ReportOptions::default()).unwrap_err(),
            ReportError::UnknownProject {
                layer: "projects".into(),
                id: "P9".into()
            }
        );
        for radius in [-1.0, 200_001.0, f64::NAN] {
            let e = site_report(
                &c,
                "P1",
                &ReportOptions {
                    agrifood_radius_m: radius,
                },
            )
            .unwrap_err();
            assert!(matches!(e, ReportError::BadDistance { .. }), "{e}");
        }
        // A field named explicitly in [roles] must exist.
        let mut roles = c.config.roles.clone();
        roles.residents_field = Some("abitanti".into());
        let layers = province()
            .layers()
            .iter()
            .map(|l| {
                crate::analysis::testing::named_layer(
                    l.id(),
                    l.config.system,
                    &l.fields
                        .iter()
                        .map(|f| (f.name.as_str(), f.ty))
                        .collect::<Vec<_>>(),
                    l.features
                        .iter()
                        .map(|f| {
                            (
                                match &f.id {
                                    FeatureId::Str(s) => s.as_str(),
                                    _ => "",
                                },
                                f.geometry.clone(),
                                f.values.clone(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        let c2 = crate::analysis::testing::catalog(layers, roles);
        assert_eq!(
            site_report(&c2, "P1", &ReportOptions::default()).unwrap_err(),
            ReportError::UnknownField {
                role: "municipalities".into(),
                layer: "municipalities".into(),
                field: "abitanti".into()
            }
        );
    }
}
