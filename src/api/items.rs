//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`.
//!
//! A request is parsed completely (every parameter checked, unknown ones refused) before any
//! feature is touched; the selection runs on a blocking thread: the R-tree for `bbox` and
//! spatial filters, then the attribute tests, then sorting and the page. Features keep the
//! layer's order unless `sortby` says otherwise, so paging with `offset` is stable and every
//! feature appears exactly once across the pages.

use std::cmp::Ordering;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use geo::{Geometry, Intersects, Polygon, Rect};
use serde_json::Value as Json;

use super::http::negotiate::{f_value, JSON};
use super::http::query::{self as params};
use super::http::respond::{self, link, self_links, urlencode_segment};
use super::http::{html, ApiError, AppState, Ctx, Repr, DEFAULT_LIMIT, MAX_LIMIT};
use crate::crs::{self, OutputCrs};
use crate::feature::{Feature, FeatureId, FieldType, Value};
use crate::filter::{Filter, FilterLang};
use crate::geojson_io::write;
use crate::store::Layer;
use crate::time::{feature_span, temporal_fields, Span};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/collections/{id}/items", get(items))
        .route("/collections/{id}/items/{fid}", get(item))
}

/// The representations of features.
const FEATURES: [Repr; 2] = [Repr::GeoJson, Repr::Html];

/// The parameters `items` understands, besides equality filters on queryable properties.
pub(super) const ITEMS_PARAMS: [&str; 13] = [
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

/// `properties`: the positions of the named fields, every field when absent.
fn properties_param(ctx: &Ctx, layer: &Layer) -> Result<Vec<usize>, ApiError> {
    match ctx.param("properties") {
        None => Ok((0..layer.fields.len()).collect()),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| params::field_param(layer, "properties", name))
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
    ctx.query.check_with(
        &ITEMS_PARAMS,
        |name| layer.field_index(name).is_some(),
        &format!(
            ", or a property of collection {} for an equality filter",
            layer.id()
        ),
    )?;
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
                params::field_param(layer, "sortby", name.trim()).map(|i| (i, desc))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let equals = ctx
        .query
        .pairs()
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

/// The URL of a page: every parameter of the request kept, `limit` and `offset` set, in the
/// representation `repr`.
fn page_url(ctx: &Ctx, path: &str, offset: usize, limit: usize, repr: Repr) -> String {
    let limit = limit.to_string();
    let offset = offset.to_string();
    let mut replace = vec![("limit", limit.as_str())];
    if offset != "0" {
        replace.push(("offset", offset.as_str()));
    }
    replace.push(("f", f_value(repr, &FEATURES)));
    ctx.url(&format!(
        "{path}?{}",
        ctx.query.rewritten(&["offset", "limit", "f"], &replace)
    ))
}

/// The `collection` link of a page of features or a feature.
fn collection_link(ctx: &Ctx, layer: &Layer) -> Json {
    link(
        ctx.url(&format!("/collections/{}", layer.id())),
        "collection",
        JSON,
        &layer.config.title,
    )
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
    repr: Repr,
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
    let other = if repr == Repr::Html {
        Repr::GeoJson
    } else {
        Repr::Html
    };
    let mut links = vec![
        link(
            page_url(ctx, &path, q.offset, q.limit, repr),
            "self",
            repr.media_type(),
            "this page",
        ),
        link(
            page_url(ctx, &path, q.offset, q.limit, other),
            "alternate",
            other.media_type(),
            "this page in another format",
        ),
    ];
    if q.offset + page.len() < matched {
        links.push(link(
            page_url(ctx, &path, q.offset + q.limit, q.limit, repr),
            "next",
            repr.media_type(),
            "next page",
        ));
    }
    if q.offset > 0 {
        links.push(link(
            page_url(ctx, &path, q.offset.saturating_sub(q.limit), q.limit, repr),
            "prev",
            repr.media_type(),
            "previous page",
        ));
    }
    links.push(collection_link(ctx, layer));
    if repr == Repr::Html {
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
    write::write_str(&mut body, &crate::time::now_rfc3339());
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
            state.geometries().write_at(
                Some(pos),
                layer,
                &state.catalog().working_crs,
                i as usize,
                &q.crs,
                &mut geometry,
            )?;
            Some(geometry.as_slice())
        };
        write::write_feature(&mut body, layer, feature, g, &q.properties, None);
    }
    body.extend_from_slice(b"]}");
    Ok(respond::geojson(body, &q.crs))
}

async fn items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let repr = ctx.negotiate(&FEATURES)?;
    // Parsing is cheap, except for a filter with a large geometry literal.
    if ctx.param("filter").is_some_and(|f| f.len() > 4096) {
        let worker = state.clone();
        return worker
            .run_blocking(move || {
                let (pos, layer) = state.layer(&id)?;
                let q = parse_items_query(&ctx, layer, &state.catalog().working_crs)?;
                items_execute(&state, &id, &ctx, repr, pos, q)
            })
            .await;
    }
    let (pos, layer) = state.layer(&id)?;
    let q = parse_items_query(&ctx, layer, &state.catalog().working_crs)?;
    if is_light(layer, &q) {
        return items_execute(&state, &id, &ctx, repr, pos, q);
    }
    let worker = state.clone();
    worker
        .run_blocking(move || items_execute(&state, &id, &ctx, repr, pos, q))
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

/// One feature. Cheaper to answer on the async worker than to hand to a blocking thread.
async fn item(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, layer) = state.layer(&id)?;
    ctx.query.check(&["crs", "properties", "skipGeometry"])?;
    let repr = ctx.negotiate(&FEATURES)?;
    let (index, feature) = lookup(layer, &fid)
        .ok_or_else(|| ApiError::not_found(format!("collection {id} has no feature {fid:?}")))?;
    let working = &state.catalog().working_crs;
    let out_crs = params::crs_param_or_crs84("crs", ctx.param("crs"), working)?;
    let properties = properties_param(&ctx, layer)?;
    let skip = skip_geometry_param(&ctx)?;
    let path = format!("/collections/{id}/items/{}", urlencode_segment(&fid));
    let mut links = self_links(&ctx, &path, repr, &FEATURES, "feature");
    links.push(collection_link(&ctx, layer));
    if repr == Repr::Html {
        let to_crs84 = crs::cached_transformer(working, crs::CRS84)?;
        let g: Vec<Geometry<f64>> = to_crs84
            .transformed(&feature.geometry)
            .into_iter()
            .collect();
        return Ok(html::item_page(
            &ctx,
            layer,
            feature,
            &properties,
            &links,
            &g,
        ));
    }
    let mut geometry = Vec::new();
    if !skip {
        state
            .geometries()
            .write(state.catalog(), layer, index, &out_crs, &mut geometry)?;
    }
    let mut body = Vec::new();
    write::write_feature(
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
    let _ = serde_json::to_writer(&mut body, &Json::Array(links));
    body.push(b'}');
    Ok(respond::geojson(body, &out_crs))
}
