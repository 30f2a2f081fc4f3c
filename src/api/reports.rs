//! The site report of a project or of any site: `/projects/{id}/report` and
//! `/analysis/report` (GET with a subject in the query, or POST with it as the body).
//!
//! Three representations: JSON (the same document as `territorio report ID --format json`),
//! an HTML page for browsers, and GeoJSON (`f=geojson`): the project or site and every feature
//! the report mentions, ready for a map.
//!
//! `at` (on a server that keeps the history of edits) gives the report as it stood then: the
//! edited layers (the projects) as they were at that instant ([`past`]); a project that did not
//! exist then is a 404. The subject of `/analysis/report` is read as it is now.

use super::http::Live;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use geo::Geometry;
use serde_json::{json, Map, Value as Json};

use super::http::html::{self, esc};
use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::past::{self, Past};
use super::http::query;
use super::http::respond::{self, urlencode_segment};
use super::http::subject::{check_query, get_or_post, parse_subject, GetOrPost, SUBJECT_SOURCES};
use super::http::{ApiError, AppState, Ctx, Repr};
use crate::crs::{self, OutputCrs};
use crate::geojson_io::{Collection, GeometryCache};
use crate::present::{self, thousands};
use crate::ptcp::{
    self, related_features, Relation, ReportOptions, Role, RoleLayers, SiteReport, MAX_DISTANCE_M,
};
use crate::store::Catalog;

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/projects/{id}/report", get(project_report))
        .route("/analysis/report", get_or_post(site_report))
}

/// The representations of a report: JSON, HTML, or the site or project and every feature the
/// report mentions (GeoJSON).
const REPORT: [Repr; 3] = [Repr::Json, Repr::Html, Repr::GeoJson];

/// The parameters of both reports (`/analysis/report` adds the subject's).
static REPORT_PARAMS: [Param; 4] = [
    Param::new(
        "f",
        Schema::Format(&REPORT),
        "json (the default), html, or geojson: the site or project and every feature the \
         report mentions, each with _layer, _system, _relation, _role and distance_m where it \
         is near.",
    ),
    Param::new(
        "crs",
        Schema::Crs,
        "The CRS of the GeoJSON report's geometries (default CRS84). Only with the GeoJSON \
         report (f=geojson, or Accept: application/geo+json): the JSON and HTML reports carry \
         no coordinates, and crs with them is a 400.",
    ),
    Param::new(
        "agrifood_radius",
        Schema::Number {
            minimum: 0.0,
            maximum: MAX_DISTANCE_M,
            default: Some(ReportOptions::DEFAULT_AGRIFOOD_RADIUS_M),
        },
        "The radius, in metres, within which agri-food and agro-energy sites are listed.",
    ),
    past::AT,
];

/// The CRS of the GeoJSON representation; `crs` with the others is refused (they carry no
/// coordinates).
fn report_crs(ctx: &Ctx, repr: Repr, working: &str) -> Result<OutputCrs, ApiError> {
    if repr != Repr::GeoJson && ctx.param("crs").is_some() {
        return Err(ApiError::bad_request(
            "parameter crs: the JSON and HTML reports carry no coordinates (crs applies to \
             f=geojson)",
        ));
    }
    query::crs_param_or_crs84("crs", ctx.param("crs"), working)
}

fn report_options(ctx: &Ctx) -> Result<ReportOptions, ApiError> {
    let mut options = ReportOptions::default();
    if let Some(v) = ctx.param("agrifood_radius") {
        options.agrifood_radius_m = query::distance_param("agrifood_radius", v)?;
    }
    Ok(options)
}

/// The catalogue a report reads: the served one, or the one at `at`.
struct View<'a> {
    catalog: &'a Catalog,
    geometries: &'a GeometryCache,
    past: Option<&'a Past>,
}

impl<'a> View<'a> {
    fn of(state: &'a AppState, past: Option<&'a Past>) -> View<'a> {
        match past {
            Some(p) => View {
                catalog: &p.catalog,
                geometries: &p.geometries,
                past,
            },
            None => View {
                catalog: state.catalog(),
                geometries: state.geometries(),
                past: None,
            },
        }
    }

    /// A report error, saying when for a project unknown at a past instant.
    fn error(&self, e: ptcp::ReportError) -> ApiError {
        match (self.past, &e) {
            (Some(p), ptcp::ReportError::UnknownProject { .. }) => ApiError::not_found(format!(
                "{e} at {} (it did not exist yet, or no longer)",
                p.at_text()
            )),
            _ => e.into(),
        }
    }
}

/// The catalogue at the request's `at`, if it has one. Blocking.
fn past_of(state: &AppState, ctx: &Ctx) -> Result<Option<Past>, ApiError> {
    past::instant(state, ctx)?
        .map(|at| past::catalog_at(state, at))
        .transpose()
}

/// `/analysis/report`: the site report of any subject (a project's when it is `project=ID`).
fn site_report(state: &AppState, ctx: &Ctx, body: Option<Bytes>) -> Result<Response, ApiError> {
    check_query(ctx, &REPORT_PARAMS, body.is_some())?;
    let repr = ctx.negotiate(&REPORT)?;
    let out_crs = report_crs(ctx, repr, &state.catalog().working_crs)?;
    let options = report_options(ctx)?;
    let s = parse_subject(state, ctx, body.as_deref())?;
    let past = past_of(state, ctx)?;
    let view = View::of(state, past.as_ref());
    let report = match &s.project {
        Some(id) => ptcp::site_report(view.catalog, id, &options),
        None => ptcp::site_report_for_geometry(view.catalog, &s.geometry, &options),
    }
    .map_err(|e| view.error(e))?;
    let site = s.project.is_none().then_some(&s.geometry);
    report_response(&view, ctx, repr, &report, site, &out_crs)
}

/// The JSON of a report: the report itself and its `summary` lines (the document of
/// `territorio report ID --format json`).
pub fn report_json(report: &SiteReport) -> Result<Json, ApiError> {
    present::report::document(report)
        .map(Json::Object)
        .map_err(ApiError::internal)
}

async fn project_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let worker = state.clone();
    worker
        .run_blocking(move || {
            ctx.query.check(&REPORT_PARAMS)?;
            let repr = ctx.negotiate(&REPORT)?;
            let out_crs = report_crs(&ctx, repr, &state.catalog().working_crs)?;
            let options = report_options(&ctx)?;
            let past = past_of(&state, &ctx)?;
            let view = View::of(&state, past.as_ref());
            let report =
                ptcp::site_report(view.catalog, &id, &options).map_err(|e| view.error(e))?;
            report_response(&view, &ctx, repr, &report, None, &out_crs)
        })
        .await
}

/// Answers a report in the representation asked for. `site` is the subject (working CRS) of
/// a report that is not a project's.
fn report_response(
    view: &View,
    ctx: &Ctx,
    repr: Repr,
    report: &SiteReport,
    site: Option<&Geometry<f64>>,
    out_crs: &OutputCrs,
) -> Result<Response, ApiError> {
    match repr {
        Repr::GeoJson => report_geojson(view, report, site, out_crs),
        Repr::Html => report_page(view, ctx, report, site),
        _ => {
            let mut body = report_json(report)?;
            if let (Some(p), Json::Object(members)) = (view.past, &mut body) {
                members.insert("at".into(), json!(p.at_text()));
            }
            Ok(respond::json(&body, repr.media_type()))
        }
    }
}

fn report_geojson(
    view: &View,
    report: &SiteReport,
    site: Option<&Geometry<f64>>,
    out_crs: &OutputCrs,
) -> Result<Response, ApiError> {
    let roles = RoleLayers::new(view.catalog)?;
    let related = related_features(&roles, report);
    let summary =
        serde_json::to_value(present::report::summary(report)).map_err(ApiError::internal)?;
    let mut members = vec![
        ("report", json!(present::report::heading(report))),
        ("summary", summary),
        (
            "numberReturned",
            json!(related.len() + usize::from(site.is_some())),
        ),
    ];
    if let Some(p) = view.past {
        members.push(("at", json!(p.at_text())));
    }
    let mut fc = Collection::new(view.catalog, view.geometries, &members);
    if let Some(site) = site {
        let mut p = Map::new();
        p.insert("_layer".into(), Json::Null);
        p.insert("_system".into(), Json::Null);
        p.insert("_relation".into(), json!("site"));
        p.insert("area_m2".into(), json!(report.project.area_m2));
        p.insert("length_m".into(), json!(report.project.length_m));
        fc.free_feature(site, out_crs, &p)?;
    }
    for r in &related {
        let mut extra = Map::new();
        extra.insert("_layer".into(), json!(r.layer.id()));
        extra.insert("_system".into(), json!(r.layer.config.system.name()));
        extra.insert("_relation".into(), json!(r.relation.name()));
        extra.insert("_role".into(), json!(r.role));
        if let Some(d) = r.distance_m {
            extra.insert("distance_m".into(), json!(d));
        }
        fc.catalog_feature(r.layer, r.feature, out_crs, &extra)?;
    }
    Ok(respond::geojson(fc.into_bytes(), out_crs))
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "<p>none</p>".into();
    }
    let mut s = String::from("<table><tr>");
    for h in headers {
        s.push_str(&format!("<th>{}</th>", esc(h)));
    }
    s.push_str("</tr>");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            s.push_str(&format!("<td>{}</td>", esc(&cell)));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

fn report_page(
    view: &View,
    ctx: &Ctx,
    report: &SiteReport,
    site: Option<&Geometry<f64>>,
) -> Result<Response, ApiError> {
    let catalog = view.catalog;
    let roles = RoleLayers::new(catalog)?;
    let related = related_features(&roles, report);
    let to_crs84 = crs::cached_transformer(&catalog.working_crs, crs::CRS84)?;
    // The subject last, so that it is drawn on top.
    let mut geometries: Vec<Geometry<f64>> = related
        .iter()
        .filter(|r| r.relation != Relation::Project)
        .filter_map(|r| {
            to_crs84
                .transformed(&r.layer.features[r.feature as usize].geometry)
                .ok()
        })
        .collect();
    let subject = site.cloned().or_else(|| {
        related
            .iter()
            .find(|r| r.relation == Relation::Project)
            .map(|r| r.layer.features[r.feature as usize].geometry.clone())
    });
    if let Some(g) = subject.and_then(|g| to_crs84.transformed(&g).ok()) {
        geometries.push(g);
    }
    let alternates: Vec<(String, &str)> = match &report.project.id {
        Some(id) => {
            let path = format!("/projects/{}/report", urlencode_segment(id));
            let at = view
                .past
                .map(|p| format!("&at={}", p.at_text()))
                .unwrap_or_default();
            vec![
                (ctx.url(&format!("{path}?f=json{at}")), "JSON"),
                (ctx.url(&format!("{path}?f=geojson{at}")), "GeoJSON"),
            ]
        }
        // A subject sent as a POST body has no URL to link to.
        None if !SUBJECT_SOURCES.iter().any(|k| ctx.query.has(k)) => Vec::new(),
        None => {
            let query = |f: &str| {
                let pairs = ctx
                    .query
                    .pairs()
                    .iter()
                    .filter(|(k, _)| k != "f")
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .chain([("f", f)]);
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish()
            };
            vec![
                (
                    ctx.url(&format!("/analysis/report?{}", query("json"))),
                    "JSON",
                ),
                (
                    ctx.url(&format!("/analysis/report?{}", query("geojson"))),
                    "GeoJSON",
                ),
            ]
        }
    };
    let mut s = String::new();
    if let Some(p) = view.past {
        s.push_str(&format!(
            "<p>As it stood at {} (UTC), from the history of the edited layers.</p>",
            esc(&p.at_text())
        ));
    }
    s.push_str("<p>");
    if alternates.is_empty() {
        s.push_str("A site sent in the body of a POST request.");
    }
    for (i, (href, name)) in alternates.iter().enumerate() {
        if i > 0 {
            s.push_str(" · ");
        }
        s.push_str(&format!("<a href=\"{}\">{}</a>", esc(href), esc(name)));
    }
    s.push_str("</p>");
    s.push_str(&html::svg_map(&geometries, 640.0, 420.0));
    s.push_str("<h2>Summary</h2>");
    s.push_str(&table(
        &["System", "Summary"],
        present::report::summary(report)
            .into_iter()
            .map(|l| vec![l.system.to_string(), l.text])
            .collect(),
    ));
    s.push_str("<h2>Municipalities</h2>");
    s.push_str(&table(
        &["Municipality", "Share", "Area (m²)", "Length (m)"],
        report
            .municipalities
            .iter()
            .map(|m| {
                vec![
                    format!("{} ({})", m.name, m.id),
                    percent(m.share),
                    thousands(m.area_m2),
                    thousands(m.length_m),
                ]
            })
            .collect(),
    ));
    s.push_str("<h2>Productive areas</h2>");
    s.push_str(&table(
        &[
            "Area",
            "Kind",
            "Status",
            "Supra-municipal",
            "Contains the site",
            "Area (m²)",
        ],
        report
            .settlement
            .productive_areas
            .iter()
            .map(|a| {
                vec![
                    format!("{} ({})", a.name, a.id),
                    a.kind.clone().unwrap_or_default(),
                    a.status.clone().unwrap_or_default(),
                    if a.sovracomunale { "yes" } else { "no" }.into(),
                    if a.contains_project { "yes" } else { "no" }.into(),
                    thousands(a.area_m2),
                ]
            })
            .collect(),
    ));
    s.push_str("<h2>Related features</h2>");
    s.push_str(&table(
        &["Layer", "Feature", "Relation", "Role", "Distance (m)"],
        related
            .iter()
            .map(|r| {
                vec![
                    r.layer.id().to_string(),
                    r.layer.features[r.feature as usize].id.to_string(),
                    r.relation.name().to_string(),
                    r.role.to_string(),
                    r.distance_m.map(thousands).unwrap_or_default(),
                ]
            })
            .collect(),
    ));
    Ok(html::page(
        ctx,
        &format!("Site report: {}", present::report::heading(report)),
        &s,
    ))
}

/// The schema of the JSON report (the document of `territorio report ID --format json`).
pub(super) fn openapi_schemas() -> Vec<(String, Json)> {
    let nullable = json!({"type": "string", "nullable": true});
    let list = json!({"type": "array", "items": {"type": "object"}});
    vec![(
        "SiteReport".into(),
        json!({
            "type": "object",
            "required": ["project", "municipalities", "settlement", "environmental", "rural",
                         "infrastructure", "services", "summary"],
            "properties": {
                "project": {
                    "type": "object",
                    "description": "The project, or the site (layer, id and title null).",
                    "required": ["layer", "id", "title", "geometry_type", "area_m2", "length_m"],
                    "properties": {
                        "layer": nullable.clone(),
                        "id": nullable.clone(),
                        "title": nullable,
                        "geometry_type": {"type": "string"},
                        "area_m2": {"type": "number", "minimum": 0},
                        "length_m": {"type": "number", "minimum": 0},
                    },
                },
                "municipalities": list.clone(),
                "settlement": {"type": "object"},
                "environmental": list.clone(),
                "rural": {"type": "object"},
                "infrastructure": list.clone(),
                "services": list,
                "summary": {"type": "array", "items": {
                    "type": "object", "required": ["system", "text"],
                    "properties": {"system": {"type": "string"}, "text": {"type": "string"}},
                }},
                "at": {"type": "string", "format": "date-time",
                       "description": "With at: the instant the report stood at, in UTC."},
            },
        }),
    )]
}

/// The representations of a report in the OpenAPI document.
fn report_content() -> Vec<(&'static str, Json)> {
    vec![
        oas::media(Repr::Json, oas::schema_ref("SiteReport")),
        oas::html(),
        oas::media(
            Repr::GeoJson,
            oas::feature_collection_schema(
                oas::schema_ref("Feature"),
                &["report", "summary", "numberReturned"],
            ),
        ),
    ]
}

/// The OpenAPI path items of `/projects/{id}/report` and `/analysis/report`.
pub(super) fn openapi_paths(catalog: &Catalog) -> Vec<(String, Json)> {
    let scope = Scope::of(catalog);
    let site_report = GetOrPost {
        id: "analysis_report",
        tag: "analysis",
        summary: "The site report of the subject (a site drawn on a map, a feature, or a project: then the same report as /projects/{projectId}/report).",
        description: "Municipalities, productive areas, environmental constraints, agricultural land, infrastructure and services, with a plain-language summary per system. crs goes only with the GeoJSON report. With at, the report as it stood then (the edited layers as they were at that instant; the subject as it is now), with an at member.",
        own: &REPORT_PARAMS,
        content: report_content(),
        answer: "the report (JSON), an HTML page, or GeoJSON",
        negotiated: true,
        bad_request: "a malformed, unknown or repeated parameter, crs with the JSON or HTML report, agrifood_radius below 0 or above 200 km, no subject or two, malformed WKT or GeoJSON, at in the future or on a server that keeps no history: the detail names it",
        not_found: "an unknown project or feature (with at: a project that did not exist then), or a catalogue without a layer the report needs",
    }
    .openapi(scope);
    // A project that exists, as an example (tools that try the API start from it).
    let example = RoleLayers::new(catalog).ok().and_then(|roles| {
        let projects = roles.get(Role::Projects)?;
        Some(projects.layer.features.first()?.id.to_string())
    });
    let mut project_id = json!({"name": "projectId", "in": "path", "required": true,
        "description": "The id of a project (e.g. P012).", "schema": {"type": "string"}});
    if let Some(id) = example {
        project_id["example"] = json!(id);
    }
    let project_report = oas::Get {
        id: "getProjectReport",
        summary: "The site report of a project",
        description: Some("Municipalities, productive areas (containing, overlapping, nearest, nearest supra-municipal), environmental constraints touched (areas, lengths) or nearest, strategic agricultural land taken, agri-food sites within a radius, nearest infrastructure and services, and a plain-language summary per system. JSON is the document of `territorio report ID --format json`; f=geojson gives the project and every feature the report mentions, each with its own properties plus _layer, _system, _relation (project, intersects, nearest, within), _role and distance_m where it is near. crs goes only with the GeoJSON report. With at, the report as it stood at that instant (the edited layers, such as the projects, as they were then), with an at member: the instant in UTC. An empty value is the same as leaving the parameter out."),
        tags: &["reports"],
        parameters: std::iter::once(project_id)
            .chain(REPORT_PARAMS.iter().map(|p| p.openapi(scope)))
            .collect(),
        ok: oas::ok("the report", report_content()),
        errors: oas::Errors::get(true)
            .with(400, "a malformed, unknown or repeated parameter, crs with the JSON or HTML report, agrifood_radius below 0 or above 200 km, at in the future or on a server that keeps no history: the detail names it")
            .with(404, "no such project (with at: none then), or a catalogue without a layer the report needs")
            .with(422, "the project's geometry is invalid"),
    };
    vec![
        (
            "/projects/{projectId}/report".to_string(),
            json!({"get": project_report.openapi()}),
        ),
        ("/analysis/report".to_string(), site_report),
    ]
}
