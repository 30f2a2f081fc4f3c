//! The subject of an analysis or a site report, as a request gives it: exactly one of
//! `project=ID` (a feature of the projects role), `feature=LAYER/ID`, `point=X,Y`,
//! `bbox=MINX,MINY,MAXX,MAXY`, `geometry=` (WKT or GeoJSON text), or a POST body (a GeoJSON
//! Geometry or Feature); read in `subject-crs` (or `bbox-crs` for a bbox), in that CRS's axis
//! order, checked, and moved to the working CRS. Also the POST body itself and the `layer`
//! parameter, which every analysis reads the same way.

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
use super::query;
use super::request::Ctx;
use super::state::AppState;
use crate::analysis::subject::{self, InputCrs, SubjectError};
use crate::crs;
use crate::ptcp::{Role, RoleLayers};
use crate::store::Layer;

/// The parameters that give the subject.
pub const SUBJECT_SOURCES: [&str; 5] = ["project", "feature", "point", "bbox", "geometry"];

/// The parameters that give the subject and its CRS.
pub const SUBJECT_PARAMS: [&str; 7] = [
    "project",
    "feature",
    "point",
    "bbox",
    "geometry",
    "subject-crs",
    "bbox-crs",
];

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
            let c = query::crs_param(name, value, working)?;
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
pub fn get_or_post<F>(answer: F) -> MethodRouter<AppState>
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

/// An OpenAPI query parameter.
pub fn openapi_query(name: &str, description: &str, schema: Json) -> Json {
    json!({"name": name, "in": "query", "required": false, "style": "form", "explode": false,
           "description": description, "schema": schema})
}

/// The OpenAPI path item of a route made by [`get_or_post`]: GET with `own` parameters, `crs`
/// and the subject parameters; POST with the subject as the body. `media` are the answer's
/// media types.
pub fn openapi_get_or_post(
    working_crs: &str,
    name: &str,
    tag: &str,
    summary: &str,
    own: Vec<Json>,
    media: &[&str],
    answer: &str,
) -> Json {
    let crs_enum: Vec<String> = query::supported_crs(working_crs)
        .iter()
        .map(|c| crs::uri(c))
        .collect();
    let q = openapi_query;
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
    let mut parameters = own;
    parameters.push(json!({"$ref": "#/components/parameters/crs"}));
    parameters.extend(subject_params.iter().cloned());
    let mut content = Map::new();
    for m in media {
        content.insert((*m).into(), json!({"schema": {"type": "object"}}));
    }
    let mut responses = errors;
    responses["200"] = json!({"description": answer, "content": content,
        "headers": {"Content-Crs": {"description": "the CRS of the geometries (GeoJSON answers)", "schema": {"type": "string"}}}});
    let post_parameters: Vec<Json> = parameters
        .iter()
        .filter(|p| !SUBJECT_SOURCES.contains(&p["name"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    json!({
        "get": {"summary": summary, "operationId": name,
                "tags": [tag], "parameters": parameters, "responses": responses},
        "post": {"summary": format!("{summary} The subject is the body."),
                 "operationId": format!("{name}_post"), "tags": [tag],
                 "parameters": post_parameters,
                 "requestBody": body, "responses": responses},
    })
}
