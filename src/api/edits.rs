//! Edits of features: OGC API - Features Part 4 (create, replace, update, delete), as QGIS
//! (>= 3.32), GDAL and scripts use it.
//!
//! - `POST /collections/{id}/items`: a new feature (201, `Location`, `ETag`, the stored feature
//!   in the body); the service gives it its id.
//! - `PUT /collections/{id}/items/{fid}`: the feature replaced (properties not sent become null).
//! - `PATCH /collections/{id}/items/{fid}`: `application/merge-patch+json` (RFC 7396): only
//!   the members sent change; QGIS sends only `properties` or only `geometry`.
//! - `DELETE /collections/{id}/items/{fid}`: 204.
//! - `OPTIONS` on both: `Allow` lists the write methods only for a layer that takes edits and
//!   a caller who may make them (QGIS turns editing on from it).
//!
//! Coordinates are read in the CRS of `Content-Crs` (a URI, with or without angle brackets;
//! CRS84 without it), in that CRS's axis order, as QGIS sends them. `If-Match` is honoured when
//! sent (412 with the current `ETag` when stale) and not required (QGIS never sends it).
//! Writes need an account ([`super::http::auth`]); what a write must satisfy is checked by
//! [`crate::edit`], which answers only once the edit is durable and published.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use geo::Geometry;
use serde_json::{json, Map, Value as Json};

use super::http::auth;
use super::http::middleware::PlainOptions;
use super::http::request::ClientAddr;
use super::http::respond;
use super::http::{ApiError, AppState, Ctx, Live};
use crate::analysis::subject::{self, InputCrs};
use crate::crs::{self, OutputCrs};
use crate::edit::{IfMatch, Request as Edit, Write};
use crate::feature::FeatureId;
use crate::geojson_io::write;

pub fn routes() -> Router<Live> {
    Router::new()
        // A plain OPTIONS arrives as a marked TRACE (see `middleware::PlainOptions`).
        .route("/collections/{id}/items", post(create).trace(items_options))
        .route(
            "/collections/{id}/items/{fid}",
            axum::routing::put(replace)
                .patch(patch)
                .delete(remove)
                .trace(item_options),
        )
}

/// The methods of `/items` and `/items/{fid}` for this caller.
async fn allowed(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<ClientAddr>,
    id: &str,
    item: bool,
) -> Result<&'static str, ApiError> {
    let (_, layer) = state.layer(id)?;
    let reads = "GET, HEAD, OPTIONS";
    if !layer.config.is_editable() || state.editor().is_none() {
        return Ok(reads);
    }
    // Credentials that fail are answered as such: QGIS shows the message, and a caller who
    // sent none is told that the layer takes edits from accounts.
    let writes = match auth::editor(state, headers, client, id).await {
        Ok(_) => true,
        Err(ApiError::Forbidden(_)) => false,
        Err(ApiError::Unauthorized(_))
            if !headers.contains_key(axum::http::header::AUTHORIZATION) =>
        {
            false
        }
        Err(e) => return Err(e),
    };
    Ok(match (writes, item) {
        (false, _) => reads,
        (true, false) => "GET, HEAD, POST, OPTIONS",
        (true, true) => "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
    })
}

fn allow_answer(allow: &'static str) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(axum::http::header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// A `TRACE` that is not a plain `OPTIONS` in disguise: refused, as every other resource does.
fn real_trace(mark: &Option<Extension<PlainOptions>>, item: bool) -> Result<(), ApiError> {
    if mark.is_some() {
        return Ok(());
    }
    Err(ApiError::MethodNotAllowed {
        detail: "method TRACE is not allowed here".into(),
        allow: if item {
            "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
        } else {
            "GET, HEAD, POST, OPTIONS"
        }
        .into(),
    })
}

async fn items_options(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: Client,
    mark: Option<Extension<PlainOptions>>,
) -> Result<Response, ApiError> {
    real_trace(&mark, false)?;
    let allow = allowed(&state, &headers, addr(client), &id, false).await?;
    Ok(allow_answer(allow))
}

async fn item_options(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    mark: Option<Extension<PlainOptions>>,
) -> Result<Response, ApiError> {
    real_trace(&mark, true)?;
    let (_, layer) = state.layer(&id)?;
    if subject::find_feature(layer, &fid).is_none() {
        return Err(ApiError::not_found(format!(
            "collection {id} has no feature {fid:?}"
        )));
    }
    let allow = allowed(&state, &headers, addr(client), &id, true).await?;
    Ok(allow_answer(allow))
}

/// What every write checks first: the layer takes edits, the server has its store, and the
/// caller has an account with the right. Returns the user.
async fn writer(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<ClientAddr>,
    id: &str,
) -> Result<String, ApiError> {
    let (_, layer) = state.layer(id)?;
    if !layer.config.is_editable() {
        return Err(ApiError::MethodNotAllowed {
            detail: format!("collection {id} is read-only"),
            allow: "GET, HEAD, OPTIONS".into(),
        });
    }
    if state.editor().is_none() {
        return Err(ApiError::MethodNotAllowed {
            detail: format!(
                "collection {id} takes edits, but this server was started without a data \
                 folder (territorio serve --data-dir): it serves the layer read-only"
            ),
            allow: "GET, HEAD, OPTIONS".into(),
        });
    }
    auth::editor(state, headers, client, id).await
}

/// The body, within the size limit (413 beyond it).
fn body_of(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!(
                "the request body is larger than the {} bytes this server accepts",
                state.config().max_body_bytes
            ))
        } else {
            ApiError::bad_request(format!("body: {}", rejection.body_text()))
        }
    })
}

/// The client's address, when the accept loop recorded it.
type Client = Option<Extension<ClientAddr>>;

fn addr(client: Client) -> Option<ClientAddr> {
    client.map(|Extension(c)| c)
}

/// The media type of the body must be one of `accepted`.
fn check_media(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let given = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let media = given.as_deref().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if media.as_deref().is_some_and(|m| accepted.contains(&m)) {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "Content-Type {}: send {}",
        given
            .map(|c| format!("{c:?}"))
            .unwrap_or_else(|| "missing".into()),
        accepted.join(" or ")
    )))
}

/// The CRS of the coordinates sent: `Content-Crs` (a URI, with or without `<>`), CRS84
/// without it. Only the CRSs the service lists for the collection are read.
fn content_crs(headers: &HeaderMap, working: &str) -> Result<InputCrs, ApiError> {
    let Some(value) = headers.get("content-crs") else {
        return Ok(InputCrs::crs84());
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::bad_request("header Content-Crs: not text"))?;
    let trimmed = text.trim().trim_start_matches('<').trim_end_matches('>');
    let list = crs::supported(working);
    let n = crs::normalize(trimmed);
    if !list.contains(&n) {
        return Err(ApiError::bad_request(format!(
            "header Content-Crs: CRS {text:?} is not supported (supported: {})",
            list.iter()
                .map(|c| crs::uri(c))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    InputCrs::authority(&n).map_err(|e| ApiError::bad_request(format!("header Content-Crs: {e}")))
}

/// `If-Match`: `*` or a list of strong tags (a weak tag never matches, RFC 9110).
fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::bad_request("header If-Match: not text"))?;
    if text.trim() == "*" {
        return Ok(Some(IfMatch::Any));
    }
    Ok(Some(IfMatch::Tags(
        text.split(',')
            .map(str::trim)
            .filter(|t| !t.starts_with("W/"))
            .map(str::to_string)
            .collect(),
    )))
}

/// The JSON object of the body.
fn object_of(bytes: &[u8]) -> Result<Map<String, Json>, ApiError> {
    match serde_json::from_slice::<Json>(bytes) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("body: not a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("body: malformed JSON: {e}"))),
    }
}

/// A geometry member, moved to the working CRS and validated. The body is JSON (checked
/// before), so a geometry that is not GeoJSON is a 422 like an invalid one.
fn geometry_of(json: &Json, crs: &InputCrs, working: &str) -> Result<Geometry<f64>, ApiError> {
    if json.is_null() {
        return Err(ApiError::Unprocessable(
            "geometry: a feature of this layer must have a geometry".into(),
        ));
    }
    let text = json.to_string();
    let g = subject::geometry("geometry", &text, crs).map_err(|e| match e {
        subject::SubjectError::Malformed { .. } => ApiError::Unprocessable(e.to_string()),
        other => super::http::subject::subject_error(other, false),
    })?;
    subject::into_working("geometry", g, crs, working)
        .map_err(|e| super::http::subject::subject_error(e, false))
}

/// The `properties` member: an object, or null / absent (no properties).
fn properties_of(body: &Map<String, Json>) -> Result<Map<String, Json>, ApiError> {
    match body.get("properties") {
        None | Some(Json::Null) => Ok(Map::new()),
        Some(Json::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::bad_request("body: properties must be an object")),
    }
}

/// A whole GeoJSON Feature (POST, PUT): its geometry and properties. An `id` member, when sent,
/// must be the feature's own (`expected`) or null.
fn feature_of(
    bytes: &[u8],
    crs: &InputCrs,
    working: &str,
    expected: Option<&str>,
) -> Result<(Geometry<f64>, Map<String, Json>), ApiError> {
    let body = object_of(bytes)?;
    if body.get("type").and_then(Json::as_str) != Some("Feature") {
        return Err(ApiError::bad_request(
            "body: send a GeoJSON Feature (\"type\": \"Feature\")",
        ));
    }
    match (body.get("id"), expected) {
        (None | Some(Json::Null), _) => {}
        (Some(id), Some(own)) if id_text(id).as_deref() == Some(own) => {}
        (Some(id), Some(own)) => {
            return Err(ApiError::Unprocessable(format!(
                "id: the body's id {id} is not the feature's ({own:?})"
            )))
        }
        (Some(_), None) => {
            return Err(ApiError::Unprocessable(
                "id: the service gives a new feature its id; leave id out".into(),
            ))
        }
    }
    let geometry = geometry_of(body.get("geometry").unwrap_or(&Json::Null), crs, working)?;
    Ok((geometry, properties_of(&body)?))
}

fn id_text(json: &Json) -> Option<String> {
    match json {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The id of feature `fid` of the layer, as the layer has it; 404 when it has none.
fn feature_id(state: &AppState, id: &str, fid: &str) -> Result<FeatureId, ApiError> {
    let (_, layer) = state.layer(id)?;
    subject::find_feature(layer, fid)
        .map(|f| f.id.clone())
        .ok_or_else(|| ApiError::not_found(format!("collection {id} has no feature {fid:?}")))
}

async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
    headers: HeaderMap,
    client: Client,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = writer(&state, &headers, addr(client), &id).await?;
    check_media(&headers, &["application/geo+json", "application/json"])?;
    let crs = content_crs(&headers, &state.catalog().working_crs)?;
    let bytes = body_of(&state, body)?;
    let working = state.catalog().working_crs.clone();
    // A geometry may have up to 100,000 vertices, moved through PROJ: off the async workers.
    let (geometry, properties) = state
        .run_blocking(move || feature_of(&bytes, &crs, &working, None))
        .await?;
    let edit = Edit {
        layer: id.clone(),
        write: Write::Create {
            geometry,
            properties,
        },
        user,
        if_match: None,
    };
    answer(&state, &ctx, &id, edit, StatusCode::CREATED).await
}

async fn replace(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    ctx: Ctx,
    headers: HeaderMap,
    client: Client,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = writer(&state, &headers, addr(client), &id).await?;
    let target = feature_id(&state, &id, &fid)?;
    check_media(&headers, &["application/geo+json", "application/json"])?;
    let crs = content_crs(&headers, &state.catalog().working_crs)?;
    let if_match = if_match(&headers)?;
    let bytes = body_of(&state, body)?;
    let own = target.to_string();
    let working = state.catalog().working_crs.clone();
    let (geometry, properties) = state
        .run_blocking(move || feature_of(&bytes, &crs, &working, Some(&own)))
        .await?;
    let edit = Edit {
        layer: id.clone(),
        write: Write::Replace {
            id: target,
            geometry,
            properties,
        },
        user,
        if_match,
    };
    answer(&state, &ctx, &id, edit, StatusCode::OK).await
}

async fn patch(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    ctx: Ctx,
    headers: HeaderMap,
    client: Client,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = writer(&state, &headers, addr(client), &id).await?;
    let target = feature_id(&state, &id, &fid)?;
    check_media(
        &headers,
        &[
            "application/merge-patch+json",
            "application/geo+json",
            "application/json",
        ],
    )?;
    let working = state.catalog().working_crs.clone();
    let crs = content_crs(&headers, &working)?;
    let if_match = if_match(&headers)?;
    let bytes = body_of(&state, body)?;
    let body = object_of(&bytes)?;
    for (key, value) in &body {
        match key.as_str() {
            "geometry" | "properties" | "type" | "links" | "bbox" => {}
            "id" if value.is_null() || id_text(value).as_deref() == Some(&*target.to_string()) => {}
            "id" => {
                return Err(ApiError::Unprocessable(
                    "id: a feature's id cannot be changed".into(),
                ))
            }
            other => {
                return Err(ApiError::Unprocessable(format!(
                    "{other}: not a member of a feature that can be changed (send properties \
                     and/or geometry)"
                )))
            }
        }
    }
    let geometry = match body.get("geometry") {
        None => None,
        Some(Json::Null) => {
            return Err(ApiError::Unprocessable(
                "geometry: cannot be removed: a feature of this layer must have one".into(),
            ))
        }
        Some(g) => {
            let (g, working) = (g.clone(), working.clone());
            Some(
                state
                    .run_blocking(move || geometry_of(&g, &crs, &working))
                    .await?,
            )
        }
    };
    let properties = properties_of(&body)?;
    let edit = Edit {
        layer: id.clone(),
        write: Write::Patch {
            id: target,
            geometry,
            properties,
        },
        user,
        if_match,
    };
    answer(&state, &ctx, &id, edit, StatusCode::OK).await
}

async fn remove(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Result<Response, ApiError> {
    let user = writer(&state, &headers, addr(client), &id).await?;
    let target = feature_id(&state, &id, &fid)?;
    let if_match = if_match(&headers)?;
    let editor = state
        .editor()
        .ok_or_else(|| ApiError::internal("no editor"))?;
    editor
        .submit(Edit {
            layer: id,
            write: Write::Delete { id: target },
            user,
            if_match,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Submits an edit and answers the stored feature (CRS84), its `ETag` and, for a new one,
/// its `Location`.
async fn answer(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    edit: Edit,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let editor = state
        .editor()
        .ok_or_else(|| ApiError::internal("no editor"))?;
    let done = editor.submit(edit).await?;
    let catalog = done.catalog;
    let layer = catalog
        .layer(id)
        .ok_or_else(|| ApiError::internal("edited layer missing"))?;
    let index = layer
        .position(&done.id)
        .ok_or_else(|| ApiError::internal("edited feature missing"))?;
    let feature = &layer.features[index];
    let mut geometry = Vec::new();
    write::write_geometry_in(
        &mut geometry,
        feature,
        &catalog.working_crs,
        &OutputCrs::crs84(),
    )?;
    let properties: Vec<usize> = (0..layer.fields.len()).collect();
    let mut body = Vec::new();
    write::write_feature(
        &mut body,
        layer,
        feature,
        Some(geometry.as_slice()),
        &properties,
        None,
    );
    let mut response = respond::geojson(body, &OutputCrs::crs84());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(tag) = done.tag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        headers.insert(ETAG, tag);
    }
    if status == StatusCode::CREATED {
        let url = ctx.url(&format!(
            "/collections/{id}/items/{}",
            respond::urlencode_segment(&done.id.to_string())
        ));
        if let Ok(v) = HeaderValue::from_str(&url) {
            headers.insert(LOCATION, v);
        }
    }
    Ok(response)
}

/// The write operations of an editable collection, for the OpenAPI document: (path, method,
/// operation).
pub(super) fn openapi_operations(
    layer: &crate::store::Layer,
    working_crs: &str,
) -> Vec<(String, &'static str, Json)> {
    use super::http::oas;
    let id = layer.id();
    let title = &layer.config.title;
    let feature_body = |what: &str| {
        json!({
            "required": true,
            "description": what,
            "content": {
                "application/geo+json": {"schema": oas::schema_ref("EditedFeature")},
                "application/json": {"schema": oas::schema_ref("EditedFeature")},
            },
        })
    };
    let uris: Vec<String> = crs::supported(working_crs)
        .iter()
        .map(|c| crs::uri(c))
        .collect();
    let content_crs = json!({
        "name": "Content-Crs", "in": "header", "required": false,
        "description": "The CRS of the coordinates sent, as a URI (also accepted in angle brackets), in that CRS's axis order (EPSG:4326: latitude first); CRS84 without it.",
        "schema": {"type": "string", "enum": uris},
    });
    let if_match = json!({
        "name": "If-Match", "in": "header", "required": false,
        "description": "The feature's ETag: the write is made only if the feature has not changed since (412 otherwise).",
        "schema": {"type": "string"},
    });
    let fid = json!({
        "name": "featureId", "in": "path", "required": true,
        "description": "The id of a feature of the collection.",
        "schema": {"type": "string"},
    });
    let errors = |extra: &[(u16, &str)]| {
        let mut e = oas::Errors::post()
            .without(400)
            .with(400, "a malformed body or header: the detail names it")
            .with(401, "no credentials, or wrong ones (WWW-Authenticate says which schemes)")
            .with(403, "the account may not edit this collection")
            .with(429, "too many failed sign-ins from this address: Retry-After says when to try again")
            .with(503, "the server's store refuses writes now (its database unreachable, its disk full or read-only, its file locked), or the server is busy or shutting down; nothing was changed (Retry-After, when given, says when to try again)")
            .with(415, "a body of another media type");
        for (status, why) in extra {
            e = e.with(*status, why);
        }
        e
    };
    let responses = |status: &str, description: &str, body: bool, e: oas::Errors| {
        let mut ok = json!({"description": description, "headers": {
            "ETag": {"description": "the feature's new strong tag", "schema": {"type": "string"}},
        }});
        if status == "201" {
            ok["headers"]["Location"] =
                json!({"description": "the URL of the new feature", "schema": {"type": "string"}});
        }
        if body {
            ok["content"] = json!({"application/geo+json": {"schema": oas::feature_schema(json!({"type": "object"}))}});
        }
        let mut r = oas::responses(json!({}), &e, false);
        let map = r.as_object_mut().expect("an object");
        map.remove("200");
        map.insert(status.into(), ok);
        r
    };
    let security = json!([{"basic": []}, {"bearer": []}]);
    let invalid = (422, "a property breaks the collection's rules (invalid-params names each), or the geometry is invalid or outside the working CRS's area of use");
    let post = json!({
        "operationId": format!("createFeature_{id}"),
        "summary": format!("Add a feature to {title}"),
        "description": "The service gives the feature its id (leave id out, or null). Read-only properties (the id, derived values) may be sent only as null or as the value the service gives them.",
        "tags": [id],
        "security": security,
        "parameters": [content_crs.clone()],
        "requestBody": feature_body("a GeoJSON Feature"),
        "responses": responses("201", "the feature as stored", true, errors(&[invalid])),
    });
    let put = json!({
        "operationId": format!("replaceFeature_{id}"),
        "summary": format!("Replace a feature of {title}"),
        "description": "Properties not sent become null.",
        "tags": [id],
        "security": security,
        "parameters": [fid.clone(), content_crs.clone(), if_match.clone()],
        "requestBody": feature_body("a GeoJSON Feature"),
        "responses": responses("200", "the feature as stored", true, errors(&[invalid, (404, "no such feature"), (412, "If-Match named another revision: the answer's ETag is the current one")])),
    });
    let patch = json!({
        "operationId": format!("updateFeature_{id}"),
        "summary": format!("Change part of a feature of {title}"),
        "description": "A JSON merge patch (RFC 7396) of the feature: only the properties sent change (null clears one); geometry, when sent, replaces the geometry.",
        "tags": [id],
        "security": security,
        "parameters": [fid.clone(), content_crs, if_match.clone()],
        "requestBody": {"required": true, "content": {
            "application/merge-patch+json": {"schema": oas::schema_ref("FeaturePatch")},
        }},
        "responses": responses("200", "the feature as stored", true, errors(&[invalid, (404, "no such feature"), (412, "If-Match named another revision: the answer's ETag is the current one")])),
    });
    let delete = json!({
        "operationId": format!("deleteFeature_{id}"),
        "summary": format!("Delete a feature of {title}"),
        "tags": [id],
        "security": security,
        "parameters": [fid, if_match],
        "responses": responses("204", "deleted (its history is kept)", false, errors(&[(404, "no such feature"), (412, "If-Match named another revision: the answer's ETag is the current one")]).without(413).without(415)),
    });
    let items = format!("/collections/{id}/items");
    let item = format!("/collections/{id}/items/{{featureId}}");
    vec![
        (items, "post", post),
        (item.clone(), "put", put),
        (item.clone(), "patch", patch),
        (item, "delete", delete),
    ]
}

/// The schemas and security schemes the write operations refer to.
pub(super) fn openapi_components() -> (Vec<(String, Json)>, Json) {
    use super::http::oas;
    let geometry = oas::schema_ref("Geometry");
    let schemas = vec![
        (
            "EditedFeature".to_string(),
            json!({
                "type": "object", "required": ["type", "geometry"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"nullable": true},
                    "geometry": geometry,
                    "properties": {"type": "object", "nullable": true},
                },
            }),
        ),
        (
            "FeaturePatch".to_string(),
            json!({
                "type": "object",
                "properties": {
                    "geometry": geometry,
                    "properties": {"type": "object"},
                },
            }),
        ),
    ];
    let schemes = json!({
        "basic": {"type": "http", "scheme": "basic", "description": "An account of the server's accounts file (territorio accounts)."},
        "bearer": {"type": "http", "scheme": "bearer", "description": "A token issued by territorio accounts issue-token."},
    });
    (schemas, schemes)
}
