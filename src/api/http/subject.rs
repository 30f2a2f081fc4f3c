//! The subject of an analysis or a site report, as a request gives it: exactly one of
//! `project=ID` (a feature of the projects role), `feature=LAYER/ID`, `point=X,Y`,
//! `bbox=MINX,MINY,MAXX,MAXY`, `geometry=` (WKT or GeoJSON text), or a POST body (a GeoJSON
//! Geometry or Feature); read in `subject-crs` (or `bbox-crs` for a bbox), in that CRS's axis
//! order, checked, and moved to the working CRS. Also the POST body itself, the `layer`
//! parameter, which every analysis reads the same way, and the OpenAPI description of these
//! GET-or-POST routes ([`GetOrPost`]).

use super::state::Live;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use geo::Geometry;
use serde_json::{json, Map, Value as Json};

use super::error::ApiError;
use super::oas::{self, Errors};
use super::param::{Param, Schema, Scope};
use super::query;
use super::request::Ctx;
use super::state::AppState;
use crate::analysis::subject::{self, InputCrs, SubjectError};
use crate::crs;
use crate::ptcp::{Role, RoleLayers};
use crate::store::Layer;

/// The parameters that give the subject.
pub const SUBJECT_SOURCES: [&str; 5] = ["project", "feature", "point", "bbox", "geometry"];

const SUBJECT_CRS: Param = Param::new(
    "subject-crs",
    Schema::Crs,
    "The CRS of the subject's coordinates (point, bbox, geometry, or the POST body), read in \
     that CRS's axis order (default CRS84; EPSG:4326 is lat,lon). It never sets the CRS of the \
     answer: that is crs. Not with project or feature, which have no coordinates to read.",
);

/// The parameters that give the subject of a GET, and its CRS.
pub static SUBJECT_PARAMS: [Param; 7] = [
    Param::new(
        "project",
        Schema::Text,
        "The subject: a project of the projects layer, by id (e.g. P012); an unknown one is a \
         404.",
    ),
    Param::new(
        "feature",
        Schema::Pattern("[/:]"),
        "The subject: a feature of the catalogue, LAYER/ID or LAYER:ID (e.g. \
         productive_areas/AP06); an unknown layer or feature is a 404.",
    ),
    Param::new(
        "point",
        Schema::Text,
        "The subject: a point X,Y in subject-crs and its axis order (CRS84: lon,lat; EPSG:4326: \
         lat,lon), two finite numbers.",
    ),
    Param::new(
        "bbox",
        Schema::Bbox,
        "The subject: a box MINX,MINY,MAXX,MAXY (or 6 numbers, with heights, which are \
         ignored) in subject-crs or bbox-crs and its axis order, the lower corner first; its \
         edges are densified when moved to the working CRS.",
    ),
    Param::new(
        "geometry",
        Schema::Text,
        "The subject: a geometry as WKT (POLYGON((...))) or GeoJSON text, in subject-crs and \
         its axis order.",
    ),
    SUBJECT_CRS,
    Param::new(
        "bbox-crs",
        Schema::Crs,
        "The CRS of bbox (the name OGC API - Features Part 2 gives it): only with bbox, and \
         not together with subject-crs.",
    ),
];

/// The parameter of a POST's subject (the body): its CRS.
pub static BODY_PARAMS: [Param; 1] = [SUBJECT_CRS];

/// The subject's parameters of a GET (`post` false) or a POST.
pub fn subject_params(post: bool) -> &'static [Param<'static>] {
    if post {
        &BODY_PARAMS
    } else {
        &SUBJECT_PARAMS
    }
}

/// Checks the query of a request with a subject: `own` parameters and the subject's, for a GET
/// (`post` false) or a POST (whose subject is the body, so a subject parameter is refused).
pub fn check_query(ctx: &Ctx, own: &[Param], post: bool) -> Result<(), ApiError> {
    if post {
        if let Some(one) = SUBJECT_SOURCES.iter().find(|p| ctx.query.has(p)) {
            return Err(ApiError::bad_request(format!(
                "parameter {one} and the POST body both give the subject: give one"
            )));
        }
    }
    let params: Vec<Param> = own.iter().chain(subject_params(post)).cloned().collect();
    ctx.query.check(&params)
}

/// What the description of an operation with a subject says about it.
pub const SUBJECT_RULES: &str = "The subject is exactly one of project, feature, point, bbox \
    and geometry (GET), or the request body (POST): none, or two, is a 400. subject-crs names \
    the CRS of a point, bbox, geometry or body, never of project or feature; bbox-crs goes only \
    with bbox and not with subject-crs. An empty value is the same as leaving the parameter \
    out. A subject whose geometry is invalid (e.g. a self-intersecting polygon) or lies outside \
    the area of use of the working CRS is a 422 with the reason.";

/// A subject, parsed and moved to the working CRS.
pub struct Subject {
    pub geometry: Geometry<f64>,
    /// The project id, when the subject is `project=ID`.
    pub project: Option<String>,
    /// How the client gave it (the answer's `subject` member).
    pub given: Json,
}

pub fn subject_error(e: SubjectError, from_parameter: bool) -> ApiError {
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

/// Reads the subject of a request: exactly one of the [`SUBJECT_SOURCES`] or the POST body.
pub fn parse_subject(
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
            let empty: Vec<&str> = SUBJECT_SOURCES
                .iter()
                .copied()
                .filter(|p| ctx.query.pairs().iter().any(|(k, _)| k == p))
                .collect();
            let note = match empty.as_slice() {
                [] => String::new(),
                [one] => {
                    format!(" (parameter {one} is empty, which is the same as leaving it out)")
                }
                many => format!(
                    " (parameters {} are empty, which is the same as leaving them out)",
                    many.join(", ")
                ),
            };
            return Err(ApiError::bad_request(format!(
                "no subject{note}: give one of the parameters project, feature, point, bbox or \
                 geometry (or POST a GeoJSON geometry or feature)"
            )));
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
            let c = query::crs_param(name, value, working)?;
            InputCrs {
                id: c.id.into_owned(),
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
        let roles = RoleLayers::new(catalog).map_err(ApiError::from)?;
        let projects = roles.require(Role::Projects).map_err(ApiError::from)?;
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
pub fn layer_param<'a>(state: &'a AppState, ctx: &Ctx) -> Result<(usize, &'a Layer), ApiError> {
    let layers = state.catalog().layers();
    let names = || layers.iter().map(|l| l.id()).collect::<Vec<_>>().join(", ");
    let Some(id) = ctx.param("layer") else {
        return Err(ApiError::bad_request(format!(
            "parameter layer is required (layers: {})",
            names()
        )));
    };
    let (i, layer) = layers
        .iter()
        .enumerate()
        .find(|(_, l)| l.id() == id)
        .map(|(i, l)| (i, &**l))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "parameter layer: the catalogue has no layer {id:?} (layers: {})",
                names()
            ))
        })?;
    refuse_change_log("layer", layer)?;
    Ok((i, layer))
}

/// A 400 when `layer` is an edited layer's change log: its changes are kept in the store of
/// edits, not in memory where the analyses search; they are read through its items.
pub fn refuse_change_log(param: &str, layer: &Layer) -> Result<(), ApiError> {
    if layer.change_log.is_none() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "parameter {param}: {} is the change log of an edited layer, kept in the store of \
         edits: the analyses search the layers themselves; read the changes at \
         /collections/{}/items",
        layer.id(),
        layer.id()
    )))
}

/// The body of a POST: a GeoJSON document of a JSON media type, within the size limit.
pub fn read_body(
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

/// A route that answers GET (the subject in the query string) and POST (the subject as the
/// body) alike, with `answer` on the bounded blocking pool.
pub fn get_or_post<F>(answer: F) -> MethodRouter<Live>
where
    F: Fn(&AppState, &Ctx, Option<Bytes>) -> Result<Response, ApiError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let on_get = answer.clone();
    get(move |State(state): State<AppState>, ctx: Ctx| async move {
        let worker = state.clone();
        worker
            .run_blocking(move || on_get(&state, &ctx, None))
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
                .run_blocking(move || answer(&state, &ctx, Some(body)))
                .await
        },
    )
}

/// The OpenAPI description of a route made by [`get_or_post`].
pub struct GetOrPost<'a> {
    pub id: &'a str,
    pub tag: &'a str,
    pub summary: &'a str,
    /// What the operation does and its own rules; the subject's rules are added.
    pub description: &'a str,
    /// Its parameters besides the subject's ([`subject_params`] adds them).
    pub own: &'a [Param<'static>],
    /// The representations of the answer.
    pub content: Vec<(&'a str, Json)>,
    pub answer: &'a str,
    /// Whether the answer is negotiated (else it is GeoJSON whatever `Accept` says).
    pub negotiated: bool,
    /// Why a 400 (the operation's own reasons).
    pub bad_request: &'a str,
    /// Why a 404.
    pub not_found: &'a str,
}

impl GetOrPost<'_> {
    /// The path item: GET with the subject as parameters, POST with the subject as the body.
    pub fn openapi(self, scope: Scope) -> Json {
        let description = format!("{} {SUBJECT_RULES}", self.description);
        let errors = |base: Errors| {
            let e = base
                .with(400, self.bad_request)
                .with(404, self.not_found)
                .with(
                    422,
                    "an invalid subject geometry (e.g. a self-intersecting polygon, an unclosed \
                     ring) or one outside the area of use of the working CRS, with the reason",
                );
            if self.negotiated {
                e.with(
                    406,
                    "no representation of this resource matches the Accept header",
                )
            } else {
                e
            }
        };
        let params = |post: bool| -> Vec<Json> {
            self.own
                .iter()
                .chain(subject_params(post))
                .map(|p| p.openapi(scope))
                .collect()
        };
        let get = oas::Get {
            id: self.id,
            summary: self.summary,
            description: Some(&description),
            tags: &[self.tag],
            parameters: params(false),
            ok: oas::ok(self.answer, self.content.clone()),
            errors: errors(Errors::get(false)),
        };
        json!({
            "get": get.openapi(),
            "post": {
                "operationId": format!("{}_post", self.id),
                "summary": format!("{} The subject is the request body.", self.summary),
                "description": description,
                "tags": [self.tag],
                "parameters": params(true),
                "requestBody": oas::subject_body(),
                "responses": oas::responses(
                    oas::ok_post(self.answer, self.content),
                    &errors(Errors::post()),
                    false,
                ),
            },
        })
    }
}
