//! `/analysis/...`: the k nearest features, the features within a distance, the overlay of a
//! site with a layer, "what is here" across every layer, and the site report of any site.
//!
//! Each answers GET with query parameters, so that a URL is a layer (QGIS, `ogr2ogr`, a web
//! map source), and POST with the subject as a GeoJSON Geometry or Feature body
//! (`application/geo+json` or `application/json`). Answers are GeoJSON FeatureCollections (the
//! report: JSON, or HTML, or GeoJSON with `f=geojson`); distances and areas are metres and
//! square metres in the working CRS.
//!
//! The subject is exactly one of `project=ID` (a feature of the projects layer),
//! `feature=LAYER/ID`, `point=X,Y`, `bbox=MINX,MINY,MAXX,MAXY`, `geometry=` (WKT or GeoJSON),
//! or the POST body.
//!
//! CRSs: `crs` is the CRS of the answer's geometries, as in OGC API - Features Part 2 and on
//! every other resource of this service (default CRS84). The coordinates of the subject are
//! read in `subject-crs` (default CRS84; `bbox-crs`, Part 2's name, is accepted for a `bbox`),
//! in that CRS's axis order: EPSG:4326 is latitude, longitude. `crs` never names the input
//! CRS, so a client that asks for its answer in EPSG:3857 still writes its point in CRS84; a
//! subject written in the wrong CRS almost always falls outside the working CRS's area of use
//! and is refused (422) with a hint.
//!
//! Every parameter is checked before any geometry is touched; the analysis runs on the
//! bounded blocking pool ([`AppState::run_blocking`]).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;
use geo::Geometry;
use serde_json::{json, Map, Value as Json};

use super::error::ApiError;
use super::format::{Ctx, Format};
use super::items::{self, geojson_response};
use super::output::{self, OutputCrs};
use super::params;
use super::projects;
use super::AppState;
use crate::analysis::roles::{check_distance, MAX_DISTANCE_M};
use crate::analysis::subject::{self, InputCrs, SubjectError};
use crate::analysis::{self, AnalysisError, Measure, OverlayOptions, ReportError, RoleLayers};
use crate::crs;
use crate::store::Layer;

/// The default and largest `k` of `/analysis/nearest`.
pub const DEFAULT_K: usize = 5;
pub const MAX_K: usize = 1000;

/// The parameters that give the subject.
pub const SUBJECT_SOURCES: [&str; 5] = ["project", "feature", "point", "bbox", "geometry"];

/// The parameters every analysis takes: the format, the answer's CRS, the subject and its CRS.
const COMMON_PARAMS: [&str; 9] = [
    "f",
    "crs",
    "project",
    "feature",
    "point",
    "bbox",
    "geometry",
    "subject-crs",
    "bbox-crs",
];

/// The analysis operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Nearest,
    Within,
    Overlay,
    Locate,
    Report,
}

impl Op {
    pub(super) const ALL: [Op; 5] = [Op::Nearest, Op::Within, Op::Overlay, Op::Locate, Op::Report];

    pub(super) fn path(self) -> &'static str {
        match self {
            Op::Nearest => "/analysis/nearest",
            Op::Within => "/analysis/within",
            Op::Overlay => "/analysis/overlay",
            Op::Locate => "/analysis/locate",
            Op::Report => "/analysis/report",
        }
    }

    /// The parameters of this operation besides [`COMMON_PARAMS`].
    fn own_params(self) -> &'static [&'static str] {
        match self {
            Op::Nearest => &["layer", "k"],
            Op::Within => &["layer", "distance"],
            Op::Overlay => &["layer", "group_by"],
            Op::Locate => &["layers"],
            Op::Report => &["agrifood_radius"],
        }
    }
}

pub fn routes() -> Router<AppState> {
    Op::ALL
        .iter()
        .fold(Router::new(), |r, &op| r.route(op.path(), endpoint(op)))
}

fn endpoint(op: Op) -> MethodRouter<AppState> {
    get(move |State(state): State<AppState>, ctx: Ctx| async move {
        let worker = state.clone();
        worker
            .run_blocking(move || answer(op, &state, &ctx, None))
            .await
    })
    .post(
        move |State(state): State<AppState>,
              ctx: Ctx,
              headers: HeaderMap,
              body: Result<Bytes, BytesRejection>| async move {
            let body = read_body(&state, &headers, body)?;
            let worker = state.clone();
            worker
                .run_blocking(move || answer(op, &state, &ctx, Some(body)))
                .await
        },
    )
}

/// The body of a POST: a GeoJSON document of a JSON media type, within the size limit.
fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!(
                "the request body is larger than the {} bytes this server accepts",
                state.config().max_body_bytes
            ))
        } else {
            ApiError::bad_request(format!("body: {}", rejection.body_text()))
        }
    })?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let media = content_type.as_deref().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match media.as_deref() {
        Some("application/geo+json") | Some("application/json") => {}
        _ => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {}: send the subject as a GeoJSON geometry or feature, with \
                 Content-Type application/geo+json or application/json",
                content_type
                    .map(|c| format!("{c:?}"))
                    .unwrap_or_else(|| "missing".into())
            )))
        }
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request(
            "body: empty (send a GeoJSON geometry or feature)",
        ));
    }
    Ok(bytes)
}

/// Refuses unknown and repeated parameters.
pub(super) fn check_params(ctx: &Ctx, allowed: &[&str]) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &ctx.query {
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown parameter {name:?} (parameters: {})",
                allowed.join(", ")
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "parameter {name} is given more than once"
            )));
        }
    }
    Ok(())
}

/// The parameters of `op`, in the order they are documented.
pub(super) fn params_of(op: Op) -> Vec<&'static str> {
    let mut all: Vec<&str> = op.own_params().to_vec();
    all.extend(COMMON_PARAMS);
    if op == Op::Report {
        all.retain(|p| *p != "crs");
        all.push("crs");
    }
    all
}

/// The CRS of the answer's geometries (`crs`, default CRS84).
pub(super) fn output_crs(ctx: &Ctx, working: &str) -> Result<OutputCrs, ApiError> {
    params::crs_param_or_crs84("crs", ctx.param("crs"), working)
}

/// A subject, parsed and moved to the working CRS.
pub(super) struct Subject {
    pub geometry: Geometry<f64>,
    /// The project id, when the subject is `project=ID`.
    pub project: Option<String>,
    /// How the client gave it (the answer's `subject` member).
    pub given: Json,
}

fn subject_error(e: SubjectError, from_parameter: bool) -> ApiError {
    let text = if from_parameter {
        format!("parameter {e}")
    } else {
        e.to_string()
    };
    match e {
        SubjectError::Malformed { .. } => ApiError::BadRequest(text),
        SubjectError::Invalid { .. }
        | SubjectError::OutsideArea { .. }
        | SubjectError::Crs { .. } => ApiError::Unprocessable(text),
        // These name no input: say which parameter led to them.
        SubjectError::UnknownLayer { .. } | SubjectError::UnknownFeature { .. } => {
            ApiError::NotFound(if from_parameter {
                format!("parameter feature: {e}")
            } else {
                e.to_string()
            })
        }
    }
}

/// Maps errors of the report, locate and indicators to HTTP.
pub(super) fn report_error(e: ReportError) -> ApiError {
    match e {
        ReportError::UnknownProject { .. }
        | ReportError::UnknownLayer { .. }
        | ReportError::MissingRole { .. } => ApiError::NotFound(e.to_string()),
        ReportError::InvalidProject { .. } => ApiError::Unprocessable(e.to_string()),
        ReportError::BadDistance { .. } => ApiError::BadRequest(e.to_string()),
        ReportError::UnknownField { .. } => ApiError::internal(e),
        ReportError::Analysis(a) => analysis_error(a),
    }
}

fn analysis_error(e: AnalysisError) -> ApiError {
    match e {
        AnalysisError::InvalidGeometry(_) => ApiError::Unprocessable(e.to_string()),
        AnalysisError::UnknownField { .. } => {
            ApiError::BadRequest(format!("parameter group_by: {e}"))
        }
        AnalysisError::BadParameter(_) => ApiError::BadRequest(e.to_string()),
    }
}

/// Reads the subject of a request: exactly one of the [`SUBJECT_SOURCES`] or the POST body.
pub(super) fn parse_subject(
    state: &AppState,
    ctx: &Ctx,
    body: Option<&[u8]>,
) -> Result<Subject, ApiError> {
    let catalog = state.catalog();
    let working = &catalog.working_crs;
    let given: Vec<&str> = SUBJECT_SOURCES
        .iter()
        .copied()
        .filter(|p| ctx.param(p).is_some())
        .collect();
    match (given.as_slice(), body.is_some()) {
        ([], false) => {
            return Err(ApiError::bad_request(
                "no subject: give one of the parameters project, feature, point, bbox or \
                 geometry (or POST a GeoJSON geometry or feature)",
            ))
        }
        ([_, second, ..], _) => {
            return Err(ApiError::bad_request(format!(
                "parameters {} and {second} both give the subject: give one",
                given[0]
            )))
        }
        ([one], true) => {
            return Err(ApiError::bad_request(format!(
                "parameter {one} and the POST body both give the subject: give one"
            )))
        }
        _ => {}
    }
    let subject_crs = ctx.param("subject-crs");
    let bbox_crs = ctx.param("bbox-crs");
    if bbox_crs.is_some() && ctx.param("bbox").is_none() {
        return Err(ApiError::bad_request(
            "parameter bbox-crs is given without bbox (subject-crs names the CRS of a point, \
             a geometry or a POST body)",
        ));
    }
    if bbox_crs.is_some() && subject_crs.is_some() {
        return Err(ApiError::bad_request(
            "parameters subject-crs and bbox-crs both name the CRS of the bbox: give one",
        ));
    }
    let crs_given = subject_crs
        .map(|v| ("subject-crs", v))
        .or(bbox_crs.map(|v| ("bbox-crs", v)));
    let input = match crs_given {
        Some((name, value)) => {
            if ctx.param("project").is_some() || ctx.param("feature").is_some() {
                return Err(ApiError::bad_request(format!(
                    "parameter {name}: a feature of the catalogue has no coordinates to read \
                     ({name} names the CRS of a point, bbox, geometry or POST body)"
                )));
            }
            let c = params::crs_param(name, value, working)?;
            InputCrs {
                id: c.id,
                northing_first: c.northing_first,
            }
        }
        None => InputCrs::crs84(),
    };
    let mut described = Map::new();
    if let Some((name, value)) = crs_given {
        described.insert(name.into(), json!(crs::uri(value)));
    }
    let coordinates = |what: &'static str,
                       g: Result<Geometry<f64>, SubjectError>,
                       from_parameter: bool|
     -> Result<Geometry<f64>, ApiError> {
        let g = g.map_err(|e| subject_error(e, from_parameter))?;
        subject::into_working(what, g, &input, working)
            .map_err(|e| subject_error(e, from_parameter))
    };
    let (geometry, project) = if let Some(body) = body {
        let text =
            std::str::from_utf8(body).map_err(|_| ApiError::bad_request("body: not UTF-8 text"))?;
        if !text.trim_start().starts_with('{') {
            return Err(ApiError::bad_request(
                "body: malformed GeoJSON: a GeoJSON geometry or feature (a JSON object) is \
                 expected",
            ));
        }
        described.insert("body".into(), json!("GeoJSON"));
        (
            coordinates("body", subject::geometry("body", text, &input), false)?,
            None,
        )
    } else if let Some(id) = ctx.param("project") {
        described.insert("project".into(), json!(id));
        let roles = RoleLayers::new(catalog).map_err(report_error)?;
        let projects = roles
            .require("projects", roles.projects)
            .map_err(report_error)?;
        let f = subject::feature(projects.layer, id).map_err(|e| match e {
            SubjectError::UnknownFeature { .. } => ApiError::not_found(format!(
                "parameter project: layer {} has no project {id:?}",
                projects.layer.id()
            )),
            other => subject_error(other, true),
        })?;
        (f.geometry.clone(), Some(f.id.to_string()))
    } else if let Some(reference) = ctx.param("feature") {
        described.insert("feature".into(), json!(reference));
        let Some((layer_id, id)) = reference.split_once(['/', ':']) else {
            return Err(ApiError::bad_request(format!(
                "parameter feature: {reference:?} is not LAYER/ID (e.g. productive_areas/AP06)"
            )));
        };
        let layer = catalog.layer(layer_id).ok_or_else(|| {
            ApiError::not_found(format!(
                "parameter feature: the catalogue has no layer {layer_id:?}"
            ))
        })?;
        let f = subject::feature(layer, id).map_err(|e| subject_error(e, true))?;
        (f.geometry.clone(), None)
    } else if let Some(text) = ctx.param("point") {
        described.insert("point".into(), json!(text));
        (
            coordinates("point", subject::point(text, &input), true)?,
            None,
        )
    } else if let Some(text) = ctx.param("bbox") {
        described.insert("bbox".into(), json!(text));
        let rect = subject::bbox(text, &input).map(Geometry::Rect);
        (coordinates("bbox", rect, true)?, None)
    } else if let Some(text) = ctx.param("geometry") {
        described.insert("geometry".into(), json!(text));
        (
            coordinates(
                "geometry",
                subject::geometry("geometry", text, &input),
                true,
            )?,
            None,
        )
    } else {
        return Err(ApiError::internal("subject parameter vanished"));
    };
    Ok(Subject {
        geometry,
        project,
        given: Json::Object(described),
    })
}

/// The layer named by parameter `layer` (required), with its catalogue position.
fn layer_param<'a>(state: &'a AppState, ctx: &Ctx) -> Result<(usize, &'a Layer), ApiError> {
    let layers = state.catalog().layers();
    let names = || layers.iter().map(|l| l.id()).collect::<Vec<_>>().join(", ");
    let Some(id) = ctx.param("layer") else {
        return Err(ApiError::bad_request(format!(
            "parameter layer is required (layers: {})",
            names()
        )));
    };
    layers
        .iter()
        .enumerate()
        .find(|(_, l)| l.id() == id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "parameter layer: the catalogue has no layer {id:?} (layers: {})",
                names()
            ))
        })
}

/// The catalogue position of a layer.
pub(super) fn position(state: &AppState, layer: &Layer) -> usize {
    state
        .catalog()
        .layers()
        .iter()
        .position(|l| l.id() == layer.id())
        .unwrap_or_default()
}

/// A distance parameter in metres: a finite number from 0 to 200 km.
pub(super) fn distance_param(name: &str, value: &str) -> Result<f64, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "parameter {name}: {value:?} is not a distance in metres from 0 to {MAX_DISTANCE_M}"
        ))
    };
    let v: f64 = value.trim().parse().map_err(|_| bad())?;
    check_distance(name, v).map_err(|_| bad())
}

fn k_param(ctx: &Ctx) -> Result<usize, ApiError> {
    match ctx.param("k") {
        None => Ok(DEFAULT_K),
        Some(v) => match params::usize_param("k", v)? {
            0 => Err(ApiError::bad_request("parameter k: must be at least 1")),
            k if k > MAX_K => Err(ApiError::bad_request(format!(
                "parameter k: {k} is more than {MAX_K}, the most this server answers"
            ))),
            k => Ok(k),
        },
    }
}

/// Writes a geometry of the working CRS in `out_crs`, in its axis order.
pub(super) fn write_working_geometry(
    out: &mut Vec<u8>,
    g: &Geometry<f64>,
    working: &str,
    out_crs: &OutputCrs,
) -> Result<(), ApiError> {
    let transformer = crs::cached_transformer(working, &out_crs.id).map_err(ApiError::internal)?;
    let mut g = transformer.transformed(g).map_err(ApiError::internal)?;
    if out_crs.northing_first {
        crs::swap_axes(&mut g);
    }
    output::write_geometry(out, &g, out_crs.decimals);
    Ok(())
}

/// A GeoJSON FeatureCollection written as it goes: foreign members first, then features.
pub(super) struct Collection {
    body: Vec<u8>,
    features: usize,
    geometry: Vec<u8>,
}

impl Collection {
    pub(super) fn new(members: &[(&str, Json)]) -> Collection {
        let mut body = Vec::with_capacity(16 * 1024);
        body.extend_from_slice(br#"{"type":"FeatureCollection""#);
        for (k, v) in members {
            body.push(b',');
            output::write_str(&mut body, k);
            body.push(b':');
            let _ = serde_json::to_writer(&mut body, v);
        }
        body.extend_from_slice(br#","features":["#);
        Collection {
            body,
            features: 0,
            geometry: Vec::new(),
        }
    }

    fn separator(&mut self) {
        if self.features > 0 {
            self.body.push(b',');
        }
        self.features += 1;
    }

    /// A feature of the catalogue, whole, with its properties and `extra` ones.
    pub(super) fn catalog_feature(
        &mut self,
        state: &AppState,
        layer: &Layer,
        index: u32,
        out_crs: &OutputCrs,
        extra: &Map<String, Json>,
    ) -> Result<(), ApiError> {
        self.geometry.clear();
        let pos = position(state, layer);
        items::write_geometry(
            state,
            pos,
            layer,
            index as usize,
            out_crs,
            &mut self.geometry,
        )?;
        self.push_catalogue_feature(layer, index, extra);
        Ok(())
    }

    /// Appends feature `index` of `layer` with every property, `extra` ones and the geometry
    /// already written in `self.geometry`.
    fn push_catalogue_feature(&mut self, layer: &Layer, index: u32, extra: &Map<String, Json>) {
        self.separator();
        let fields: Vec<usize> = (0..layer.fields.len()).collect();
        output::write_feature(
            &mut self.body,
            layer,
            &layer.features[index as usize],
            Some(&self.geometry),
            &fields,
            Some(extra),
        );
    }

    /// A feature of the catalogue with another geometry (working CRS), e.g. its part inside
    /// a site.
    fn clipped_feature(
        &mut self,
        state: &AppState,
        layer: &Layer,
        index: u32,
        geometry: &Geometry<f64>,
        out_crs: &OutputCrs,
        extra: &Map<String, Json>,
    ) -> Result<(), ApiError> {
        self.geometry.clear();
        write_working_geometry(
            &mut self.geometry,
            geometry,
            &state.catalog().working_crs,
            out_crs,
        )?;
        self.push_catalogue_feature(layer, index, extra);
        Ok(())
    }

    /// A feature that is not in the catalogue: a geometry (working CRS) and properties.
    pub(super) fn free_feature(
        &mut self,
        state: &AppState,
        geometry: &Geometry<f64>,
        out_crs: &OutputCrs,
        properties: &Map<String, Json>,
    ) -> Result<(), ApiError> {
        self.geometry.clear();
        write_working_geometry(
            &mut self.geometry,
            geometry,
            &state.catalog().working_crs,
            out_crs,
        )?;
        self.separator();
        self.body
            .extend_from_slice(br#"{"type":"Feature","geometry":"#);
        self.body.extend_from_slice(&self.geometry);
        self.body.extend_from_slice(br#","properties":"#);
        let _ = serde_json::to_writer(&mut self.body, properties);
        self.body.push(b'}');
        Ok(())
    }

    /// The finished collection.
    pub(super) fn into_bytes(mut self) -> Vec<u8> {
        self.body.extend_from_slice(b"]}");
        self.body
    }

    /// The finished collection as a GeoJSON answer with its `Content-Crs`.
    pub(super) fn finish(self, out_crs: &OutputCrs) -> Response {
        geojson_response(self.into_bytes(), out_crs)
    }
}

/// Answers one analysis request.
fn answer(op: Op, state: &AppState, ctx: &Ctx, body: Option<Bytes>) -> Result<Response, ApiError> {
    check_params(ctx, &params_of(op))?;
    let catalog = state.catalog();
    let working = &catalog.working_crs;
    if op == Op::Report {
        return report(state, ctx, body);
    }
    if ctx.param("f").is_some() && ctx.format == Format::Html {
        return Err(ApiError::bad_request(format!(
            "parameter f: {} answers GeoJSON only (f=json)",
            op.path()
        )));
    }
    let out_crs = output_crs(ctx, working)?;
    match op {
        Op::Nearest | Op::Within => {
            let (_, layer) = layer_param(state, ctx)?;
            let (k, distance) = match op {
                Op::Nearest => (k_param(ctx)?, None),
                _ => {
                    let d = ctx.param("distance").ok_or_else(|| {
                        ApiError::bad_request("parameter distance (metres) is required")
                    })?;
                    (0, Some(distance_param("distance", d)?))
                }
            };
            let s = parse_subject(state, ctx, body.as_deref())?;
            let hits = match distance {
                None => analysis::nearest(layer, &s.geometry, k),
                Some(d) => analysis::within_distance(layer, &s.geometry, d),
            }
            .map_err(analysis_error)?;
            let mut members = vec![("layer", json!(layer.id())), ("subject", s.given)];
            if let Some(d) = distance {
                members.push(("distance_m", json!(d)));
            }
            members.push(("numberReturned", json!(hits.len())));
            let mut fc = Collection::new(&members);
            for h in &hits {
                let mut extra = Map::new();
                extra.insert("distance_m".into(), json!(h.distance_m));
                fc.catalog_feature(state, layer, h.feature, &out_crs, &extra)?;
            }
            Ok(fc.finish(&out_crs))
        }
        Op::Overlay => overlay(state, ctx, body, &out_crs),
        Op::Locate => locate(state, ctx, body, &out_crs),
        Op::Report => Err(ApiError::internal("report answered above")),
    }
}

fn overlay(
    state: &AppState,
    ctx: &Ctx,
    body: Option<Bytes>,
    out_crs: &OutputCrs,
) -> Result<Response, ApiError> {
    let (_, layer) = layer_param(state, ctx)?;
    let group_by = ctx.param("group_by");
    if let Some(field) = group_by {
        if layer.field_index(field).is_none() {
            return Err(ApiError::bad_request(format!(
                "parameter group_by: layer {} has no property {field:?} (properties: {})",
                layer.id(),
                layer
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let s = parse_subject(state, ctx, body.as_deref())?;
    let o = analysis::overlay(
        layer,
        &s.geometry,
        &OverlayOptions {
            with_geometry: true,
            group_by,
        },
    )
    .map_err(analysis_error)?;
    let amount_key = match o.measure {
        Measure::Area => Some("overlap_area_m2"),
        Measure::Length => Some("overlap_length_m"),
        Measure::Count => None,
    };
    let row = |key: Json, count: usize, amount: f64, share: Option<f64>| {
        let mut r = Map::new();
        r.insert("key".into(), key);
        r.insert("count".into(), json!(count));
        if let Some(k) = amount_key {
            r.insert(k.into(), json!(amount));
        }
        r.insert("share_of_site".into(), json!(share));
        Json::Object(r)
    };
    let summary = if group_by.is_some() {
        o.groups
            .iter()
            .map(|g| row(json!(g.key), g.features, g.amount, g.site_share))
            .collect()
    } else {
        vec![row(Json::Null, o.items.len(), o.total, o.site_share)]
    };
    let mut members = vec![
        ("layer", json!(layer.id())),
        ("subject", s.given.clone()),
        ("measure", json!(o.measure.name())),
        (
            "site",
            json!({"area_m2": o.site_area_m2, "length_m": o.site_length_m}),
        ),
        ("group_by", json!(group_by)),
        ("summary", Json::Array(summary)),
    ];
    if !o.skipped_invalid.is_empty() {
        members.push((
            "skipped",
            Json::Array(
                o.skipped_invalid
                    .iter()
                    .map(|&i| layer.features[i as usize].id.to_json())
                    .collect(),
            ),
        ));
    }
    members.push(("numberReturned", json!(o.items.len())));
    let mut fc = Collection::new(&members);
    for item in &o.items {
        let mut extra = Map::new();
        if let Some(k) = amount_key {
            extra.insert(k.into(), json!(item.amount));
        }
        extra.insert("share_of_site".into(), json!(item.site_share));
        extra.insert("share_of_feature".into(), json!(item.feature_share));
        match &item.geometry {
            Some(g) => fc.clipped_feature(state, layer, item.feature, g, out_crs, &extra)?,
            // Points meet or lie inside: nothing to clip, the feature comes whole.
            None => fc.catalog_feature(state, layer, item.feature, out_crs, &extra)?,
        }
    }
    Ok(fc.finish(out_crs))
}

fn locate(
    state: &AppState,
    ctx: &Ctx,
    body: Option<Bytes>,
    out_crs: &OutputCrs,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let only: Option<Vec<&str>> = match ctx.param("layers") {
        None => None,
        Some(list) => {
            let ids: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if ids.is_empty() {
                return Err(ApiError::bad_request(
                    "parameter layers: give layer ids, comma separated",
                ));
            }
            if let Some(missing) = ids.iter().find(|id| catalog.layer(id).is_none()) {
                return Err(ApiError::not_found(format!(
                    "parameter layers: the catalogue has no layer {missing:?}"
                )));
            }
            Some(ids)
        }
    };
    let s = parse_subject(state, ctx, body.as_deref())?;
    let found = analysis::locate(catalog, &s.geometry, only.as_deref()).map_err(report_error)?;
    let mut systems = Map::new();
    let mut total = 0;
    for sh in &found {
        systems.insert(
            sh.system.name().into(),
            Json::Array(
                sh.layers
                    .iter()
                    .map(|l| json!({"layer": l.layer, "title": l.title, "count": l.features.len()}))
                    .collect(),
            ),
        );
        total += sh.layers.iter().map(|l| l.features.len()).sum::<usize>();
    }
    let mut fc = Collection::new(&[
        ("subject", s.given),
        ("systems", Json::Object(systems)),
        ("numberReturned", json!(total)),
    ]);
    for sh in &found {
        for l in &sh.layers {
            let Some(layer) = catalog.layer(&l.layer) else {
                continue;
            };
            let mut extra = Map::new();
            extra.insert("_layer".into(), json!(l.layer));
            extra.insert("_system".into(), json!(sh.system.name()));
            for f in &l.features {
                fc.catalog_feature(state, layer, f.feature, out_crs, &extra)?;
            }
        }
    }
    Ok(fc.finish(out_crs))
}

/// `/analysis/report`: the site report of any subject (a project's when it is `project=ID`).
fn report(state: &AppState, ctx: &Ctx, body: Option<Bytes>) -> Result<Response, ApiError> {
    let repr = projects::report_repr(ctx)?;
    let working = &state.catalog().working_crs;
    let out_crs = projects::report_crs(ctx, repr, working)?;
    let options = projects::report_options(ctx)?;
    let s = parse_subject(state, ctx, body.as_deref())?;
    let report = match &s.project {
        Some(id) => analysis::site_report(state.catalog(), id, &options),
        None => analysis::site_report_for_geometry(state.catalog(), &s.geometry, &options),
    }
    .map_err(report_error)?;
    let site = s.project.is_none().then_some(&s.geometry);
    projects::report_response(state, ctx, repr, &report, site, &out_crs)
}

/// The OpenAPI path items of the analysis endpoints.
pub(super) fn openapi_paths(working_crs: &str) -> Vec<(String, Json)> {
    let crs_enum: Vec<String> = params::supported_crs(working_crs)
        .iter()
        .map(|c| crs::uri(c))
        .collect();
    let q = |name: &str, description: &str, schema: Json| {
        json!({"name": name, "in": "query", "required": false, "style": "form", "explode": false,
               "description": description, "schema": schema})
    };
    let subject_params = [
        q("project", "The subject: a project of the projects layer, by id (e.g. P012).", json!({"type": "string"})),
        q("feature", "The subject: a feature of the catalogue, as LAYER/ID (e.g. productive_areas/AP06).", json!({"type": "string"})),
        q("point", "The subject: a point X,Y in subject-crs and its axis order (CRS84: lon,lat; EPSG:4326: lat,lon).", json!({"type": "string"})),
        q("bbox", "The subject: a box MINX,MINY,MAXX,MAXY in subject-crs (or bbox-crs) and its axis order; its edges are densified when moved to the working CRS.", json!({"type": "string"})),
        q("geometry", "The subject: a geometry as WKT (POLYGON((...))) or GeoJSON text, in subject-crs and its axis order.", json!({"type": "string"})),
        q("subject-crs", "The CRS of the subject's coordinates (point, bbox, geometry, POST body), read in that CRS's axis order. Default CRS84. It never sets the CRS of the answer: that is crs.", json!({"type": "string", "format": "uri", "enum": crs_enum, "default": crs::uri(crs::CRS84)})),
        q("bbox-crs", "The CRS of bbox (Part 2's name; same as subject-crs, for bbox only).", json!({"type": "string", "format": "uri", "enum": crs_enum})),
    ];
    let body = json!({
        "required": true,
        "description": "The subject as a GeoJSON Geometry or Feature (or a FeatureCollection of one feature), in CRS84 unless subject-crs names another CRS. The other parameters stay in the query string; no subject parameter may be given.",
        "content": {
            "application/geo+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    });
    let problem = |what: &str| json!({"description": what, "content": {"application/problem+json": {"schema": {"type": "object"}}}});
    let errors = json!({
        "400": problem("a malformed, unknown or repeated parameter, a distance below 0 or above 200 km, k out of 1..1000, no subject or two, malformed JSON: the detail names it"),
        "404": problem("an unknown layer, project or feature"),
        "413": problem("a POST body larger than the server accepts"),
        "415": problem("a POST body that is not application/geo+json or application/json"),
        "422": problem("an invalid geometry (e.g. a self-intersecting polygon) or a subject outside the area of use of the working CRS, with the reason"),
    });
    let layer = q(
        "layer",
        "The layer to search (required).",
        json!({"type": "string"}),
    );
    let mut layer_required = layer.clone();
    layer_required["required"] = json!(true);
    let f = q(
        "f",
        "json (GeoJSON, the default).",
        json!({"type": "string", "enum": ["json", "geojson"]}),
    );
    let out_crs = json!({"$ref": "#/components/parameters/crs"});
    let mut out = Vec::new();
    for op in Op::ALL {
        let (summary, mut own, answer): (&str, Vec<Json>, &str) = match op {
            Op::Nearest => (
                "The k nearest features of a layer to the subject, nearest first, each with distance_m (true geometry-to-geometry distance in metres; ties by id).",
                vec![layer_required.clone(), q("k", &format!("How many features (1 to {MAX_K}; more is refused, not lowered)."), json!({"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K}))],
                "a FeatureCollection with foreign members layer, subject, numberReturned",
            ),
            Op::Within => (
                "The features of a layer within a distance of the subject, nearest first, each with distance_m.",
                vec![layer_required.clone(), {
                    let mut d = q("distance", "The distance in metres (0 to 200,000), required.", json!({"type": "number", "minimum": 0, "maximum": MAX_DISTANCE_M}));
                    d["required"] = json!(true);
                    d
                }],
                "a FeatureCollection with foreign members layer, subject, distance_m, numberReturned",
            ),
            Op::Overlay => (
                "The features of a layer the subject overlaps, clipped to it, each with overlap_area_m2 (polygons) or overlap_length_m (lines), share_of_site and share_of_feature (0..1, null where not defined); point features and point sites come whole. Foreign members: measure (area, length or count), site {area_m2, length_m}, summary (per value of group_by, or one row with key null: key, count, overlap_area_m2 or overlap_length_m, share_of_site), skipped (ids of features with invalid geometries left out).",
                vec![layer_required.clone(), q("group_by", "A property of the layer to total the summary by (e.g. kind).", json!({"type": "string"}))],
                "a FeatureCollection of clipped features with the summary",
            ),
            Op::Locate => (
                "What is here: the features of every layer (or of layers) that the subject intersects, each with _layer and _system; foreign member systems: system -> [{layer, title, count}].",
                vec![q("layers", "Only these layers, comma separated.", json!({"type": "array", "items": {"type": "string"}}))],
                "a FeatureCollection by system",
            ),
            Op::Report => (
                "The site report of the subject (a site drawn on a map, a feature, or a project: then the same report as /projects/{id}/report): municipalities, productive areas, environmental constraints, agricultural land, infrastructure and services, with a plain-language summary per system.",
                vec![
                    q("agrifood_radius", "Radius for agri-food and agro-energy sites, metres (default 2,000; 0 to 200,000).", json!({"type": "number", "minimum": 0, "maximum": MAX_DISTANCE_M, "default": 2000})),
                    q("f", "json (the default), html, or geojson (the site and every feature the report mentions, each with _layer, _system, _relation, _role and distance_m where it is near).", json!({"type": "string", "enum": ["json", "html", "geojson"]})),
                ],
                "the report (JSON), or an HTML page, or GeoJSON",
            ),
        };
        if op != Op::Report {
            own.push(f.clone());
        }
        own.push(out_crs.clone());
        own.extend(subject_params.iter().cloned());
        let media: Vec<&str> = match op {
            Op::Report => vec!["application/json", "text/html", "application/geo+json"],
            _ => vec!["application/geo+json"],
        };
        let mut content = Map::new();
        for m in media {
            content.insert(m.into(), json!({"schema": {"type": "object"}}));
        }
        let mut responses = errors.clone();
        responses["200"] = json!({"description": answer, "content": content,
            "headers": {"Content-Crs": {"description": "the CRS of the geometries (GeoJSON answers)", "schema": {"type": "string"}}}});
        let name = op.path().trim_start_matches("/analysis/");
        out.push((
            op.path().to_string(),
            json!({
                "get": {"summary": summary, "operationId": format!("analysis_{name}"),
                        "tags": ["analysis"], "parameters": own, "responses": responses},
                "post": {"summary": format!("{summary} The subject is the body."),
                         "operationId": format!("analysis_{name}_post"), "tags": ["analysis"],
                         "parameters": own.iter().filter(|p| !SUBJECT_SOURCES.contains(&p["name"].as_str().unwrap_or(""))).cloned().collect::<Vec<_>>(),
                         "requestBody": body, "responses": responses},
            }),
        ));
    }
    out
}

/// The landing page's links to the analysis, the project reports and the indicators. Plain
/// relations with titles: `related` for resources, `describedby` for what describes them (the
/// OGC "processes" relation would promise an OGC API - Processes, which this is not).
pub(super) fn landing_links(ctx: &Ctx) -> Vec<Json> {
    use super::format::{link, JSON, OPENAPI_JSON};
    vec![
        link(
            ctx.url("/indicators"),
            "related",
            JSON,
            "the monitoring indicators (also ?f=csv, and ?f=geojson: municipalities for a choropleth)",
        ),
        link(
            ctx.url("/indicators/definitions"),
            "describedby",
            JSON,
            "the definitions of the monitoring indicators (id, title, unit, definition)",
        ),
        link(
            ctx.url("/api"),
            "describedby",
            OPENAPI_JSON,
            "the analysis endpoints (/analysis/nearest, /analysis/within, /analysis/overlay, \
             /analysis/locate, /analysis/report; GET or POST a GeoJSON subject) and the project \
             site reports (/projects/{id}/report): parameters in the API definition",
        ),
    ]
}
