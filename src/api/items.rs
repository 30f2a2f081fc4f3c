//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`.
//!
//! A request is parsed completely (every parameter checked, unknown ones refused) before any
//! feature is touched; the selection runs on a blocking thread: the R-tree for `bbox` and
//! spatial filters, then the attribute tests, then sorting and the page. Features keep the
//! layer's order unless `sortby` says otherwise, so paging with `offset` is stable and every
//! feature appears exactly once across the pages.

use std::cmp::Ordering;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use geo::{Geometry, Intersects, Polygon, Rect};
use serde_json::Value as Json;

use super::error::ApiError;
use super::format::{self, Ctx, Format, GEOJSON};
use super::html;
use super::output::{self, OutputCrs};
use super::params::{self, Span};
use super::{AppState, DEFAULT_LIMIT, MAX_LIMIT};
use crate::crs;
use crate::feature::{Feature, FeatureId, FieldType, Value};
use crate::filter::{Filter, FilterLang};
use crate::store::Layer;

/// The parameters `items` understands, besides equality filters on queryable properties.
pub const ITEMS_PARAMS: [&str; 13] = [
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "datetime",
    "properties",
    "sortby",
    "skipGeometry",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
];

/// The `Content-Crs` header of OGC API - Features Part 2.
pub static CONTENT_CRS: HeaderName = HeaderName::from_static("content-crs");

/// The catalogue position of a collection, or 404.
pub fn find_layer<'a>(state: &'a AppState, id: &str) -> Result<(usize, &'a Layer), ApiError> {
    state
        .catalog()
        .layers()
        .iter()
        .enumerate()
        .find(|(_, l)| l.id() == id)
        .ok_or_else(|| ApiError::not_found(format!("no collection {id:?}")))
}

/// The date fields that give a layer's features their time: one (an instant or a day) or the
/// first two (start and end of an interval).
pub fn temporal_fields(layer: &Layer) -> Option<(usize, Option<usize>)> {
    let mut dates = layer
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.ty, FieldType::Date | FieldType::DateTime))
        .map(|(i, _)| i);
    let first = dates.next()?;
    Some((first, dates.next()))
}

/// The span a feature covers, from its temporal fields; `None` when it has no time.
pub fn feature_span(feature: &Feature, fields: (usize, Option<usize>)) -> Option<Span> {
    let span_of = |i: usize| match &feature.values[i] {
        Value::Date(s) | Value::DateTime(s) | Value::String(s) => params::time_span(s),
        _ => None,
    };
    match fields {
        (only, None) => span_of(only),
        (start, Some(end)) => {
            let (s, e) = (span_of(start), span_of(end));
            if s.is_none() && e.is_none() {
                return None;
            }
            Some(Span {
                start: s.and_then(|s| s.start),
                end: e.and_then(|e| e.end),
            })
        }
    }
}

/// A parsed items request.
struct ItemsQuery {
    limit: usize,
    offset: usize,
    /// The bbox in the working CRS: its envelope, and the outline when it is not a box there.
    bbox: Option<(Rect<f64>, Option<Polygon<f64>>)>,
    datetime: Option<Span>,
    properties: Vec<usize>,
    sortby: Vec<(usize, bool)>,
    equals: Vec<(usize, Value)>,
    skip_geometry: bool,
    crs: OutputCrs,
    filter: Option<Filter>,
}

fn parse_value(layer: &Layer, field: usize, text: &str) -> Result<Value, ApiError> {
    let f = &layer.fields[field];
    let bad = || {
        ApiError::bad_request(format!(
            "parameter {}: {text:?} is not a valid {} value",
            f.name,
            f.ty.name()
        ))
    };
    Ok(match f.ty {
        FieldType::Bool => Value::Bool(params::bool_param(&f.name, text)?),
        FieldType::Int => Value::Int(text.trim().parse().map_err(|_| bad())?),
        FieldType::Real => Value::Real(text.trim().parse().map_err(|_| bad())?),
        FieldType::String => Value::String(text.to_string()),
        FieldType::Date => Value::Date(text.to_string()),
        FieldType::DateTime => Value::DateTime(text.to_string()),
    })
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Real(y)) | (Value::Real(y), Value::Int(x)) => (*x as f64) == *y,
        _ => a == b,
    }
}

/// Orders values for `sortby`: numbers numerically, text by code point, nulls last.
fn compare(a: &Value, b: &Value) -> Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 1,
        _ => 0,
    };
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), Value::Real(y)) => (*x as f64).total_cmp(y),
        (Value::Real(x), Value::Int(y)) => x.total_cmp(&(*y as f64)),
        (Value::Real(x), Value::Real(y)) => x.total_cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y))
        | (Value::Date(x), Value::Date(y))
        | (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn field_param(layer: &Layer, param: &str, name: &str) -> Result<usize, ApiError> {
    layer.field_index(name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "parameter {param}: {name:?} is not a property of collection {} (properties: {})",
            layer.id(),
            layer
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// `properties`: the positions of the named fields, every field when absent.
fn properties_param(ctx: &Ctx, layer: &Layer) -> Result<Vec<usize>, ApiError> {
    match ctx.param("properties") {
        None => Ok((0..layer.fields.len()).collect()),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| field_param(layer, "properties", name))
            .collect(),
    }
}

/// `skipGeometry`, false when absent.
fn skip_geometry_param(ctx: &Ctx) -> Result<bool, ApiError> {
    Ok(ctx
        .param("skipGeometry")
        .map(|v| params::bool_param("skipGeometry", v))
        .transpose()?
        .unwrap_or(false))
}

fn parse_items_query(ctx: &Ctx, layer: &Layer, working_crs: &str) -> Result<ItemsQuery, ApiError> {
    for (name, _) in &ctx.query {
        if !ITEMS_PARAMS.contains(&name.as_str()) && layer.field_index(name).is_none() {
            return Err(ApiError::bad_request(format!(
                "unknown parameter {name:?} (parameters: {}, or a property of collection {} \
                 for an equality filter)",
                ITEMS_PARAMS.join(", "),
                layer.id()
            )));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &ctx.query {
        if !seen.insert(name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "parameter {name} is given more than once"
            )));
        }
    }
    let limit = match ctx.param("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match params::usize_param("limit", v)? {
            0 => return Err(ApiError::bad_request("parameter limit: must be at least 1")),
            n => n.min(MAX_LIMIT),
        },
    };
    let offset = ctx
        .param("offset")
        .map(|v| params::usize_param("offset", v))
        .transpose()?
        .unwrap_or(0);
    let crs = params::crs_param_or_crs84("crs", ctx.param("crs"), working_crs)?;
    let bbox_crs = params::crs_param_or_crs84("bbox-crs", ctx.param("bbox-crs"), working_crs)?;
    if ctx.param("bbox-crs").is_some() && ctx.param("bbox").is_none() {
        return Err(ApiError::bad_request(
            "parameter bbox-crs is given without bbox",
        ));
    }
    let bbox = match ctx.param("bbox") {
        None => None,
        Some(v) => {
            let rect = params::bbox_param(v, &bbox_crs)?;
            let to_working = crs::cached_transformer(&bbox_crs.id, working_crs)
                .map_err(|e| ApiError::bad_request(format!("parameter bbox: {e}")))?;
            if to_working.is_identity() {
                Some((rect, None))
            } else {
                let mut ring = crs::densified_outline(rect, crs::DENSIFY_POINTS);
                to_working
                    .coords(&mut ring)
                    .map_err(|e| ApiError::bad_request(format!("parameter bbox: {e}")))?;
                let outline = Polygon::new(geo::LineString(ring), vec![]);
                let envelope = geo::BoundingRect::bounding_rect(&outline)
                    .ok_or_else(|| ApiError::bad_request("parameter bbox: empty box"))?;
                Some((envelope, Some(outline)))
            }
        }
    };
    let datetime = ctx
        .param("datetime")
        .map(params::datetime_param)
        .transpose()?;
    if datetime.is_some() && temporal_fields(layer).is_none() {
        return Err(ApiError::bad_request(format!(
            "parameter datetime: collection {} has no date property",
            layer.id()
        )));
    }
    let properties = properties_param(ctx, layer)?;
    let sortby = match ctx.param("sortby") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|item| {
                // A '+' in a query string decodes to a space.
                let (desc, name) = match item.trim_start_matches(' ').strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, item.trim_start().trim_start_matches('+')),
                };
                field_param(layer, "sortby", name.trim()).map(|i| (i, desc))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let equals = ctx
        .query
        .iter()
        .filter(|(name, _)| !ITEMS_PARAMS.contains(&name.as_str()))
        .filter_map(|(name, v)| layer.field_index(name).map(|i| (i, v)))
        .map(|(i, v)| parse_value(layer, i, v).map(|value| (i, value)))
        .collect::<Result<Vec<_>, _>>()?;
    let skip_geometry = skip_geometry_param(ctx)?;
    let filter = match ctx.param("filter") {
        None => {
            for p in ["filter-lang", "filter-crs"] {
                if ctx.param(p).is_some() {
                    return Err(ApiError::bad_request(format!(
                        "parameter {p} is given without filter"
                    )));
                }
            }
            None
        }
        Some(text) => {
            let lang = match ctx.param("filter-lang") {
                None => FilterLang::Cql2Text,
                Some(l) => l
                    .parse::<FilterLang>()
                    .map_err(|e| ApiError::bad_request(format!("parameter filter-lang: {e}")))?,
            };
            let filter_crs = match ctx.param("filter-crs") {
                Some(v) => params::crs_param("filter-crs", v, working_crs)?.id,
                None => crs::CRS84.to_string(),
            };
            Some(
                Filter::compile(text, lang, layer, &filter_crs, working_crs)
                    .map_err(|e| ApiError::bad_request(format!("parameter filter: {e}")))?,
            )
        }
    };
    Ok(ItemsQuery {
        limit,
        offset,
        bbox,
        datetime,
        properties,
        sortby,
        equals,
        skip_geometry,
        crs,
        filter,
    })
}

/// The positions of the features a query selects, in answer order.
fn select(layer: &Layer, q: &ItemsQuery) -> Vec<u32> {
    let temporal = temporal_fields(layer);
    let mut candidates: Vec<u32> = match (&q.filter, &q.bbox) {
        (Some(filter), _) => filter.select(layer),
        (None, Some((envelope, _))) => {
            let mut c: Vec<u32> = layer.candidates(envelope).collect();
            c.sort_unstable();
            c
        }
        (None, None) => (0..layer.features.len() as u32).collect(),
    };
    candidates.retain(|&i| {
        let f = &layer.features[i as usize];
        if let Some((envelope, outline)) = &q.bbox {
            let inside = match outline {
                Some(polygon) => polygon.intersects(&f.geometry),
                None => envelope.intersects(&f.geometry),
            };
            if !inside {
                return false;
            }
        }
        if !q.equals.iter().all(|(i, v)| equal(&f.values[*i], v)) {
            return false;
        }
        if let (Some(span), Some(fields)) = (&q.datetime, temporal) {
            if !feature_span(f, fields).is_some_and(|s| s.intersects(span)) {
                return false;
            }
        }
        true
    });
    if !q.sortby.is_empty() {
        candidates.sort_by(|&a, &b| {
            let (fa, fb) = (&layer.features[a as usize], &layer.features[b as usize]);
            for &(i, desc) in &q.sortby {
                let o = compare(&fa.values[i], &fb.values[i]);
                let o = if desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.cmp(&b)
        });
    }
    candidates
}

/// The query string of `ctx` with `offset` (and `limit`) replaced.
fn page_query(ctx: &Ctx, offset: usize, limit: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &ctx.query {
        if k != "offset" && k != "limit" {
            s.append_pair(k, v);
        }
    }
    s.append_pair("limit", &limit.to_string());
    if offset > 0 {
        s.append_pair("offset", &offset.to_string());
    }
    s.finish()
}

pub(super) fn geojson_response(body: Vec<u8>, out_crs: &OutputCrs) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", out_crs.uri)) {
        headers.insert(CONTENT_CRS.clone(), v);
    }
    response
}

pub(super) fn write_geometry(
    state: &AppState,
    layer_pos: usize,
    layer: &Layer,
    index: usize,
    out_crs: &OutputCrs,
    buf: &mut Vec<u8>,
) -> Result<(), ApiError> {
    let working = &state.catalog().working_crs;
    if out_crs.is_crs84() {
        let text = state
            .geometries()
            .crs84(layer_pos, layer, working, index)
            .map_err(|e| ApiError::internal(format!("layer {}: {e}", layer.id())))?;
        buf.extend_from_slice(text.as_bytes());
    } else {
        output::write_geometry_in(buf, &layer.features[index], working, out_crs)
            .map_err(|e| ApiError::internal(format!("layer {}: {e}", layer.id())))?;
    }
    Ok(())
}

/// Whether answering costs so little (a few hundred candidates at most, a small page) that
/// handing it to a blocking thread would cost more than doing it on the async worker.
fn is_light(layer: &Layer, q: &ItemsQuery) -> bool {
    const MAX_CANDIDATES: usize = 256;
    if q.limit > 100 || !q.sortby.is_empty() {
        return false;
    }
    let envelope = match (&q.filter, &q.bbox) {
        (Some(filter), _) => filter.envelope(),
        (None, Some((envelope, _))) => Some(*envelope),
        (None, None) => {
            return q.equals.is_empty() && q.datetime.is_none();
        }
    };
    envelope
        .is_some_and(|e| layer.candidates(&e).take(MAX_CANDIDATES + 1).count() <= MAX_CANDIDATES)
}

fn items_execute(
    state: &AppState,
    id: &str,
    ctx: &Ctx,
    pos: usize,
    q: ItemsQuery,
) -> Result<Response, ApiError> {
    let layer = &state.catalog().layers()[pos];
    let unfiltered = q.filter.is_none()
        && q.bbox.is_none()
        && q.equals.is_empty()
        && q.datetime.is_none()
        && q.sortby.is_empty();
    let selected: Vec<u32>;
    let (matched, page): (usize, Vec<u32>) = if unfiltered {
        let n = layer.features.len();
        let start = q.offset.min(n);
        let end = (start + q.limit).min(n);
        (n, (start as u32..end as u32).collect())
    } else {
        selected = select(layer, &q);
        let start = q.offset.min(selected.len());
        let end = (start + q.limit).min(selected.len());
        (selected.len(), selected[start..end].to_vec())
    };
    let path = format!("/collections/{id}/items");
    let mut links = Vec::new();
    let this_query = page_query(ctx, q.offset, q.limit);
    let link_query = |query: &str, f: Format| {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "f")
            .collect();
        pairs.push(("f".into(), f.param().into()));
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let (this_type, other, other_type) = match ctx.format {
        Format::Json => (GEOJSON, Format::Html, format::HTML),
        Format::Html => (format::HTML, Format::Json, GEOJSON),
    };
    links.push(format::link(
        ctx.url(&format!("{path}?{}", link_query(&this_query, ctx.format))),
        "self",
        this_type,
        "this page",
    ));
    links.push(format::link(
        ctx.url(&format!("{path}?{}", link_query(&this_query, other))),
        "alternate",
        other_type,
        "this page in another format",
    ));
    if q.offset + page.len() < matched {
        let next = page_query(ctx, q.offset + q.limit, q.limit);
        links.push(format::link(
            ctx.url(&format!("{path}?{}", link_query(&next, ctx.format))),
            "next",
            this_type,
            "next page",
        ));
    }
    if q.offset > 0 {
        let prev = page_query(ctx, q.offset.saturating_sub(q.limit), q.limit);
        links.push(format::link(
            ctx.url(&format!("{path}?{}", link_query(&prev, ctx.format))),
            "prev",
            this_type,
            "previous page",
        ));
    }
    links.push(format::link(
        ctx.url(&format!("/collections/{id}")),
        "collection",
        format::JSON,
        &layer.config.title,
    ));
    let time_stamp = params::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default(),
    );
    if ctx.format == Format::Html {
        let mut geometries = Vec::new();
        let to_crs84 = crs::cached_transformer(&state.catalog().working_crs, crs::CRS84)
            .map_err(ApiError::internal)?;
        for &i in &page {
            if let Ok(g) = to_crs84.transformed(&layer.features[i as usize].geometry) {
                geometries.push(g);
            }
        }
        return Ok(html::items_page(
            ctx,
            layer,
            &page,
            &q.properties,
            matched,
            q.offset,
            &links,
            &geometries,
        ));
    }
    let mut body = Vec::with_capacity(256 + page.len() * 512);
    body.extend_from_slice(br#"{"type":"FeatureCollection","numberMatched":"#);
    body.extend_from_slice(matched.to_string().as_bytes());
    body.extend_from_slice(br#","numberReturned":"#);
    body.extend_from_slice(page.len().to_string().as_bytes());
    body.extend_from_slice(br#","timeStamp":"#);
    output::write_str(&mut body, &time_stamp);
    body.extend_from_slice(br#","links":"#);
    let _ = serde_json::to_writer(&mut body, &links);
    body.extend_from_slice(br#","features":["#);
    let mut geometry = Vec::new();
    for (n, &i) in page.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        let feature = &layer.features[i as usize];
        let g = if q.skip_geometry {
            None
        } else {
            geometry.clear();
            write_geometry(state, pos, layer, i as usize, &q.crs, &mut geometry)?;
            Some(geometry.as_slice())
        };
        output::write_feature(&mut body, layer, feature, g, &q.properties, None);
    }
    body.extend_from_slice(b"]}");
    Ok(geojson_response(body, &q.crs))
}

pub async fn items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    // Parsing is cheap, except for a filter with a large geometry literal.
    if ctx.param("filter").is_some_and(|f| f.len() > 4096) {
        let worker = state.clone();
        return worker
            .run_blocking(move || {
                let (pos, layer) = find_layer(&state, &id)?;
                let q = parse_items_query(&ctx, layer, &state.catalog().working_crs)?;
                items_execute(&state, &id, &ctx, pos, q)
            })
            .await;
    }
    let (pos, layer) = find_layer(&state, &id)?;
    let q = parse_items_query(&ctx, layer, &state.catalog().working_crs)?;
    if is_light(layer, &q) {
        return items_execute(&state, &id, &ctx, pos, q);
    }
    let worker = state.clone();
    worker
        .run_blocking(move || items_execute(&state, &id, &ctx, pos, q))
        .await
}

/// The feature id in a URL, matched against the layer's ids (text or integer).
fn lookup<'a>(layer: &'a Layer, raw: &str) -> Option<(usize, &'a Feature)> {
    let by_text = FeatureId::Str(raw.to_string());
    let id = if layer.get(&by_text).is_some() {
        by_text
    } else {
        FeatureId::Int(raw.parse().ok()?)
    };
    let index = layer.position(&id)?;
    Some((index, &layer.features[index]))
}

fn item_blocking(state: &AppState, id: &str, fid: &str, ctx: &Ctx) -> Result<Response, ApiError> {
    let (pos, layer) = find_layer(state, id)?;
    for (name, _) in &ctx.query {
        if !["f", "crs", "properties", "skipGeometry"].contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown parameter {name:?} (parameters: f, crs, properties, skipGeometry)"
            )));
        }
    }
    let (index, feature) = lookup(layer, fid)
        .ok_or_else(|| ApiError::not_found(format!("collection {id} has no feature {fid:?}")))?;
    let working = &state.catalog().working_crs;
    let out_crs = params::crs_param_or_crs84("crs", ctx.param("crs"), working)?;
    let properties = properties_param(ctx, layer)?;
    let skip = skip_geometry_param(ctx)?;
    let path = format!("/collections/{id}/items/{}", urlencode_segment(fid));
    let mut links = format::self_links(ctx, &path, GEOJSON, "feature");
    links.push(format::link(
        ctx.url(&format!("/collections/{id}")),
        "collection",
        format::JSON,
        &layer.config.title,
    ));
    if ctx.format == Format::Html {
        let to_crs84 = crs::cached_transformer(working, crs::CRS84).map_err(ApiError::internal)?;
        let g: Vec<Geometry<f64>> = to_crs84
            .transformed(&feature.geometry)
            .into_iter()
            .collect();
        return Ok(html::item_page(
            ctx,
            layer,
            feature,
            &properties,
            &links,
            &g,
        ));
    }
    let mut geometry = Vec::new();
    if !skip {
        write_geometry(state, pos, layer, index, &out_crs, &mut geometry)?;
    }
    let mut extra = serde_json::Map::new();
    extra.insert("links".into(), Json::Array(links));
    let mut body = Vec::new();
    output::write_feature(
        &mut body,
        layer,
        feature,
        (!skip).then_some(geometry.as_slice()),
        &properties,
        None,
    );
    // Links are a foreign member of the Feature, after its standard members.
    body.pop();
    body.extend_from_slice(br#","links":"#);
    let _ = serde_json::to_writer(&mut body, &extra["links"]);
    body.push(b'}');
    Ok(geojson_response(body, &out_crs))
}

pub async fn item(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    // One feature: cheaper to answer here than to hand to a blocking thread.
    item_blocking(&state, &id, &fid, &ctx)
}

/// Percent-encodes a path segment (feature ids may hold spaces or slashes).
pub fn urlencode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The layer's time extent: the earliest start and latest end over its features.
pub fn temporal_extent(layer: &Layer) -> Option<[Option<String>; 2]> {
    let fields = temporal_fields(layer)?;
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut open_start = false;
    let mut open_end = false;
    for f in &layer.features {
        if let Some(s) = feature_span(f, fields) {
            match s.start {
                Some(v) => lo = Some(lo.map_or(v, |l| l.min(v))),
                None => open_start = true,
            }
            match s.end {
                Some(v) => hi = Some(hi.map_or(v, |h| h.max(v))),
                None => open_end = true,
            }
        }
    }
    if lo.is_none() && hi.is_none() && !open_start && !open_end {
        return None;
    }
    Some([
        if open_start {
            None
        } else {
            lo.map(params::rfc3339)
        },
        if open_end {
            None
        } else {
            hi.map(params::rfc3339)
        },
    ])
}
