//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`.
//!
//! A request is parsed completely (every parameter checked, unknown ones refused) before any
//! feature is touched. Then the selection: the R-tree for `bbox` and spatial filters, then
//! the attribute tests, then sorting and the page. A small one (at most a few hundred R-tree
//! candidates, a page of at most 100, no sorting: a map's point lookup or view) is made and
//! written on the async worker, where handing it to a thread would cost more than the work;
//! anything larger runs on the bounded blocking pool. A box in another CRS is moved to the
//! working CRS once and kept ([`RegionCache`]). Features keep the layer's order unless `sortby`
//! says otherwise, so paging with `offset` is stable and every feature appears exactly once
//! across the pages.
//!
//! Each layer of the catalogue the server starts with also has its items at a path of its own
//! ([`known_layer_routes`]): the same answers, without a path parameter to decode on every
//! request.

use super::http::Live;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use geo::{Geometry, Intersects, Polygon, Rect};
use serde_json::{json, Value as Json};

use super::http::negotiate::{f_value, JSON};
use super::http::oas;
use super::http::param::{value_schema, Param, Schema, Scope};
use super::http::query::{self as params};
use super::http::respond::{self, link, self_links, urlencode_segment, Link};
use super::http::{
    html, ApiError, AppState, Ctx, RegionCache, Repr, WorkingBox, DEFAULT_LIMIT, MAX_LIMIT,
};
use crate::analysis::Region;
use crate::crs::{self, OutputCrs};
use crate::feature::{Feature, FeatureId, FieldType, Value};
use crate::filter::{Filter, FilterLang};
use crate::geojson_io::write;
use crate::store::Layer;
use crate::time::{self, feature_span, temporal_fields, Span, Zone};

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/collections/{id}/items", get(items))
        .route("/collections/{id}/items/{fid}", get(item))
}

/// The representations of features.
const FEATURES: [Repr; 2] = [Repr::GeoJson, Repr::Html];

/// `limit`: declared once under `components.parameters`, where QGIS and GDAL read the page
/// size (`default`, `maximum`).
const LIMIT: Param = Param::new(
    "limit",
    Schema::Integer {
        minimum: 1,
        maximum: Some(MAX_LIMIT as i64),
        default: Some(DEFAULT_LIMIT as i64),
    },
    "The number of features per page. A value above the maximum is lowered to it (and the \
     next link carries the lowered value).",
);
const OFFSET: Param = Param::new(
    "offset",
    Schema::Integer {
        minimum: 0,
        maximum: None,
        default: Some(0),
    },
    "The number of features to skip (the next and prev links carry it).",
);
const BBOX: Param = Param::new(
    "bbox",
    Schema::Bbox,
    "Only the features intersecting this box: minx,miny,maxx,maxy (or 6 numbers, with \
     heights, which are ignored), in bbox-crs and its axis order (EPSG:4326 is lat,lon). The \
     lower corner comes first; latitudes lie between -90 and 90; a box across the antimeridian \
     is refused.",
);
const BBOX_CRS: Param = Param::new(
    "bbox-crs",
    Schema::Crs,
    "The CRS of bbox (default CRS84). Only together with bbox.",
);
const CRS: Param = Param::new(
    "crs",
    Schema::Crs,
    "The CRS of the answer's geometries (default CRS84), written in its axis order; the answer \
     names it in Content-Crs.",
);
const DATETIME: Param = Param::new(
    "datetime",
    Schema::Text,
    "Only the features whose date or date interval meets this instant, date or interval \
     (RFC 3339; an interval is START/END with '..' or nothing for an open end, not both open, \
     START not after END; impossible dates such as 2026-02-30 are refused).",
);
const SKIP_GEOMETRY: Param = Param::new(
    "skipGeometry",
    Schema::Boolean { default: false },
    "Leave the geometries out (geometry is null).",
);
const FILTER: Param = Param::new(
    "filter",
    Schema::Text,
    "A CQL2 filter on the queryables (/collections/{collectionId}/queryables), in filter-lang.",
);
const FILTER_LANG: Param = Param::new(
    "filter-lang",
    Schema::Word(&["cql2-text", "cql2-json"]),
    "The language of filter (default cql2-text). Only together with filter.",
);
const FILTER_CRS: Param = Param::new(
    "filter-crs",
    Schema::Crs,
    "The CRS of the geometry literals in filter, in its axis order (default CRS84). Only \
     together with filter.",
);
const PROPERTIES: Param = Param::new(
    "properties",
    Schema::Properties,
    "Only these properties, comma separated (every property when absent).",
);
const SORTBY: Param = Param::new(
    "sortby",
    Schema::SortBy,
    "Sort keys, comma separated: a property, after '-' for descending ('+' or nothing for \
     ascending); ties keep the layer's order.",
);

/// The parameters of the items of a collection with dates, besides equality filters on its
/// properties.
static DATED_ITEMS: [Param; 13] = [
    Param::format(&FEATURES),
    LIMIT,
    OFFSET,
    BBOX,
    BBOX_CRS,
    DATETIME,
    PROPERTIES,
    SORTBY,
    SKIP_GEOMETRY,
    CRS,
    FILTER,
    FILTER_LANG,
    FILTER_CRS,
];

/// The same without `datetime`, for a collection without dates.
static UNDATED_ITEMS: [Param; 12] = [
    Param::format(&FEATURES),
    LIMIT,
    OFFSET,
    BBOX,
    BBOX_CRS,
    PROPERTIES,
    SORTBY,
    SKIP_GEOMETRY,
    CRS,
    FILTER,
    FILTER_LANG,
    FILTER_CRS,
];

/// The parameters of one feature.
static ITEM: [Param; 4] = [Param::format(&FEATURES), CRS, PROPERTIES, SKIP_GEOMETRY];

/// The parameters the items of `layer` take, besides equality filters on its properties.
fn items_params(layer: &Layer) -> &'static [Param<'static>] {
    if temporal_fields(layer).is_some() {
        &DATED_ITEMS
    } else {
        &UNDATED_ITEMS
    }
}

/// The equality filters of `layer`: one per property, except a property named like one of the
/// other parameters (that name means the parameter).
fn equality_params(layer: &Layer) -> impl Iterator<Item = Param<'_>> {
    layer
        .fields
        .iter()
        .filter(|f| !DATED_ITEMS.iter().any(|p| p.name() == f.name))
        .map(Param::equality)
}

/// Whether `name` is an equality filter of `layer`.
fn is_equality(layer: &Layer, name: &str) -> bool {
    !DATED_ITEMS.iter().any(|p| p.name() == name) && layer.field_index(name).is_some()
}

/// A parsed items request.
struct ItemsQuery {
    limit: usize,
    offset: usize,
    /// The bbox in the working CRS: its envelope, and the outline when it is not a box there.
    bbox: Option<(Rect<f64>, Option<Arc<WorkingBox>>)>,
    datetime: Option<Span>,
    properties: Cow<'static, [usize]>,
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
        FieldType::String => Value::String(text.into()),
        FieldType::Date => {
            time::parse_date(text).ok_or_else(bad)?;
            Value::Date(text.into())
        }
        FieldType::DateTime => {
            time::parse_timestamp(text, Zone::MayOmit).ok_or_else(bad)?;
            Value::DateTime(text.into())
        }
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

/// `0, 1, 2, ...`: "every field" of a layer of up to this many fields, without allocating.
static ALL_FIELDS: [usize; 256] = {
    let mut all = [0; 256];
    let mut i = 0;
    while i < all.len() {
        all[i] = i;
        i += 1;
    }
    all
};

/// `properties`: the positions of the named fields, every field when absent (or naming none).
fn properties_param(ctx: &Ctx, layer: &Layer) -> Result<Cow<'static, [usize]>, ApiError> {
    let mut names = ctx
        .param("properties")
        .map(params::names)
        .into_iter()
        .flatten()
        .peekable();
    if names.peek().is_none() {
        let n = layer.fields.len();
        return Ok(match ALL_FIELDS.get(..n) {
            Some(all) => Cow::Borrowed(all),
            None => Cow::Owned((0..n).collect()),
        });
    }
    names
        .map(|name| params::field_param(layer, "properties", name))
        .collect::<Result<Vec<_>, _>>()
        .map(Cow::Owned)
}

/// `skipGeometry`, false when absent.
fn skip_geometry_param(ctx: &Ctx) -> Result<bool, ApiError> {
    Ok(ctx
        .param("skipGeometry")
        .map(|v| params::bool_param("skipGeometry", v))
        .transpose()?
        .unwrap_or(false))
}

fn parse_items_query(
    ctx: &Ctx,
    layer: &Layer,
    working_crs: &str,
    regions: &RegionCache,
) -> Result<ItemsQuery, ApiError> {
    if ctx.query.has("datetime") && temporal_fields(layer).is_none() {
        return Err(ApiError::bad_request(format!(
            "parameter datetime: collection {} has no date property",
            layer.id()
        )));
    }
    ctx.query.check_with(
        items_params(layer),
        |name| is_equality(layer, name),
        || {
            format!(
                ", or a property of collection {} for an equality filter",
                layer.id()
            )
        },
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
                let working = regions.get_or_make(v, &bbox_crs.id, || {
                    let mut ring = crs::densified_outline(rect, crs::DENSIFY_POINTS);
                    to_working
                        .coords(&mut ring)
                        .map_err(|e| ApiError::bad_request(format!("parameter bbox: {e}")))?;
                    let outline = Polygon::new(geo::LineString(ring), vec![]);
                    let envelope = geo::BoundingRect::bounding_rect(&outline)
                        .ok_or_else(|| ApiError::bad_request("parameter bbox: empty box"))?;
                    Ok::<_, ApiError>((envelope, Region::new(outline)))
                })?;
                Some((working.0, Some(working)))
            }
        }
    };
    let datetime = ctx
        .param("datetime")
        .map(params::datetime_param)
        .transpose()?;
    let properties = properties_param(ctx, layer)?;
    // A '+' written unencoded in a query string decodes to a space, which `names` trims.
    let sortby = ctx
        .param("sortby")
        .map(params::names)
        .into_iter()
        .flatten()
        .map(|item| {
            let (desc, name) = match item.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, item.strip_prefix('+').unwrap_or(item)),
            };
            params::field_param(layer, "sortby", name.trim()).map(|i| (i, desc))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let equals = ctx
        .query
        .pairs()
        .iter()
        .filter(|(name, _)| is_equality(layer, name))
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
                None => std::borrow::Cow::Borrowed(crs::CRS84),
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

/// Whether the query selects the whole layer (a plain page).
fn is_unfiltered(q: &ItemsQuery) -> bool {
    q.filter.is_none()
        && q.bbox.is_none()
        && q.equals.is_empty()
        && q.datetime.is_none()
        && q.sortby.is_empty()
}

/// The positions of the features a query selects, in answer order.
fn select(layer: &Layer, q: &ItemsQuery) -> Vec<u32> {
    let candidates: Vec<u32> = match (&q.filter, &q.bbox) {
        (Some(filter), _) => filter.select(layer),
        (None, Some((envelope, _))) => {
            let mut c: Vec<u32> = layer.candidates(envelope).collect();
            c.sort_unstable();
            c
        }
        (None, None) => (0..layer.features.len() as u32).collect(),
    };
    refine(layer, q, candidates)
}

/// [`select`] when answering costs so little (at most `max` candidates from the R-tree, a
/// small page, no sorting) that handing it to a blocking thread would cost more than doing
/// it on the async worker; `None` otherwise.
fn select_light(layer: &Layer, q: &ItemsQuery, max: usize) -> Option<Vec<u32>> {
    if q.limit > 100 || !q.sortby.is_empty() {
        return None;
    }
    let candidates = match (&q.filter, &q.bbox) {
        (Some(filter), _) => filter.select_bounded(layer, max)?,
        (None, Some((envelope, _))) => {
            let mut c: Vec<u32> = layer.candidates(envelope).take(max + 1).collect();
            if c.len() > max {
                return None;
            }
            c.sort_unstable();
            c
        }
        (None, None) => return None,
    };
    Some(refine(layer, q, candidates))
}

/// The candidates (ascending positions) that pass the query's bbox outline, equalities and
/// dates, in answer order.
fn refine(layer: &Layer, q: &ItemsQuery, mut candidates: Vec<u32>) -> Vec<u32> {
    let temporal = temporal_fields(layer);
    candidates.retain(|&i| passes(q, temporal, &layer.features[i as usize]));
    if !q.sortby.is_empty() {
        candidates.sort_by(|&a, &b| {
            let (fa, fb) = (&layer.features[a as usize], &layer.features[b as usize]);
            sort_order(q, &fa.values, &fb.values).then(a.cmp(&b))
        });
    }
    candidates
}

/// Whether a feature passes the query's bbox outline, equalities and dates (`temporal`: the
/// layer's date fields).
fn passes(q: &ItemsQuery, temporal: Option<(usize, Option<usize>)>, f: &Feature) -> bool {
    if let Some((envelope, outline)) = &q.bbox {
        let inside = match outline {
            Some(working) => working.1.intersects(&f.geometry),
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
}

/// The order of `sortby` between two features' values (`Equal` when they tie).
fn sort_order(q: &ItemsQuery, a: &[Value], b: &[Value]) -> Ordering {
    for &(i, desc) in &q.sortby {
        let o = compare(&a[i], &b[i]);
        let o = if desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// The items of a change log, whose features are in the store (see [`crate::edit::log`]):
/// the index gives the candidates; when the query tests more than the index knows (a box, a
/// filter, equalities, a sort), the candidates are read a piece at a time and tested as
/// [`select`] tests a layer's features, keeping their sequence numbers (and sort keys); then
/// the page's changes are read and written as any page.
fn log_items(
    state: &AppState,
    id: &str,
    ctx: &Ctx,
    repr: Repr,
    log_layer: &Layer,
    log: &dyn crate::store::KeptElsewhere,
    q: ItemsQuery,
) -> Result<Response, ApiError> {
    let upto = log_layer.version;
    let (matched, seqs) = if is_unfiltered(&q) {
        (log.count(upto), log.page(upto, q.offset, q.limit))
    } else {
        let mut boxes: Vec<Rect<f64>> = Vec::new();
        if let Some((envelope, _)) = &q.bbox {
            boxes.push(*envelope);
        }
        if let Some(filter) = &q.filter {
            if !filter.can_match() {
                return write_log_page(state, id, ctx, repr, &q, log_layer, log, 0, &[]);
            }
            boxes.extend(filter.envelope());
        }
        let time = q.datetime.as_ref().map(|s| (s.start, s.end));
        let candidates = log.select(upto, &boxes, time);
        let exact = q.bbox.is_none() && q.filter.is_none() && q.equals.is_empty();
        if exact && q.sortby.is_empty() {
            let start = q.offset.min(candidates.len());
            let end = start.saturating_add(q.limit).min(candidates.len());
            (candidates.len(), candidates[start..end].to_vec())
        } else {
            let temporal = temporal_fields(log_layer);
            let sorted = !q.sortby.is_empty();
            // Each selected change: its seq and, for a sort, the values of its sort keys.
            let mut hits: Vec<(u64, Vec<Value>)> = Vec::new();
            log.scan(&candidates, &mut |f| {
                let keep =
                    passes(&q, temporal, &f) && q.filter.as_ref().is_none_or(|fl| fl.matches(&f));
                if keep {
                    let seq = match f.id {
                        FeatureId::Int(seq) => seq as u64,
                        FeatureId::Str(_) => return,
                    };
                    // The values of the sort keys, in `sortby` order.
                    let keys = q.sortby.iter().map(|&(i, _)| f.values[i].clone()).collect();
                    hits.push((seq, keys));
                }
            })
            .map_err(ApiError::elsewhere)?;
            if sorted {
                // As `refine` sorts; ties keep the log's order, as the other collections
                // keep theirs.
                hits.sort_by(|(a, ka), (b, kb)| {
                    q.sortby
                        .iter()
                        .zip(ka.iter().zip(kb))
                        .map(|(&(_, desc), (x, y))| {
                            let o = compare(x, y);
                            if desc {
                                o.reverse()
                            } else {
                                o
                            }
                        })
                        .find(|o| *o != Ordering::Equal)
                        .unwrap_or(Ordering::Equal)
                        .then(a.cmp(b))
                });
            }
            let start = q.offset.min(hits.len());
            let end = start.saturating_add(q.limit).min(hits.len());
            let page = hits[start..end].iter().map(|(seq, _)| *seq).collect();
            (hits.len(), page)
        }
    };
    write_log_page(state, id, ctx, repr, &q, log_layer, log, matched, &seqs)
}

/// Reads the changes `seqs` of a log and writes them as a page of `matched`.
#[allow(clippy::too_many_arguments)]
fn write_log_page(
    state: &AppState,
    id: &str,
    ctx: &Ctx,
    repr: Repr,
    q: &ItemsQuery,
    log_layer: &Layer,
    log: &dyn crate::store::KeptElsewhere,
    matched: usize,
    seqs: &[u64],
) -> Result<Response, ApiError> {
    let features = log.read(seqs).map_err(ApiError::elsewhere)?;
    let page_layer =
        crate::edit::log::features_layer(log_layer, features).map_err(ApiError::internal)?;
    let page: Vec<u32> = (0..page_layer.features.len() as u32).collect();
    write_items(state, id, ctx, repr, q, &page_layer, None, matched, &page)
}

/// The URL of a page: every parameter of the request kept (`kept`, from [`kept_params`]),
/// `limit` and `offset` set, in the representation `repr`.
fn page_url(ctx: &Ctx, path: &str, kept: &str, offset: usize, limit: usize, repr: Repr) -> String {
    let mut url = String::with_capacity(ctx.base.len() + path.len() + kept.len() + 48);
    url.push_str(&ctx.base);
    url.push_str(path);
    url.push('?');
    if !kept.is_empty() {
        url.push_str(kept);
        url.push('&');
    }
    url.push_str("limit=");
    push_number(&mut url, limit);
    if offset != 0 {
        url.push_str("&offset=");
        push_number(&mut url, offset);
    }
    url.push_str("&f=");
    url.push_str(f_value(repr, &FEATURES));
    url
}

/// Appends the decimal digits of `n` (what `write!` does, without its formatting machinery).
fn push_number(out: &mut String, n: usize) {
    out.push_str(digits(n, &mut [0; 20]));
}

/// The decimal digits of `n`, written at the end of `buf`.
fn digits(n: usize, buf: &mut [u8; 20]) -> &str {
    // ASCII digits only.
    std::str::from_utf8(digit_bytes(n, buf)).unwrap_or("0")
}

/// [`digits`] as bytes.
fn digit_bytes(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Writes a page's link object as [`Link::write_array`] writes it, its URL (as [`page_url`]
/// builds it) written in place from its parts. `plain`: the base URL and the layer id need
/// no JSON escaping; the kept parameters never do (form-urlencoded text is ASCII letters,
/// digits, `%`, `+`, `*-._`, `&` and `=`), nor do the numbers, `f` values, relations and
/// titles written here. Otherwise the URL is built and written escaped.
#[allow(clippy::too_many_arguments)]
fn write_page_link(
    out: &mut Vec<u8>,
    ctx: &Ctx,
    id: &str,
    plain: bool,
    kept: &mut Kept,
    (offset, limit): (usize, usize),
    repr: Repr,
    (rel, title): (&'static str, &'static str),
) {
    out.extend_from_slice(br#"{"href":"#);
    if plain {
        let mut buf = [0; 20];
        out.push(b'"');
        for part in [ctx.base.as_str(), "/collections/", id, "/items?"] {
            out.extend_from_slice(part.as_bytes());
        }
        kept.write(out);
        if !kept.is_empty() {
            out.push(b'&');
        }
        out.extend_from_slice(b"limit=");
        out.extend_from_slice(digit_bytes(limit, &mut buf));
        if offset != 0 {
            out.extend_from_slice(b"&offset=");
            out.extend_from_slice(digit_bytes(offset, &mut buf));
        }
        out.extend_from_slice(b"&f=");
        out.extend_from_slice(f_value(repr, &FEATURES).as_bytes());
        out.push(b'"');
    } else {
        let path = ["/collections/", id, "/items"].concat();
        let kept = kept.text(out);
        write::write_str(out, &page_url(ctx, &path, &kept, offset, limit, repr));
    }
    // Relations, media types and titles of page links are fixed text without escapes.
    for (member, text) in [
        (r#","rel":""#, rel),
        (r#"","type":""#, repr.media_type()),
        (r#"","title":""#, title),
    ] {
        out.extend_from_slice(member.as_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(b"\"}");
}

/// The kept parameters of page links written straight to a body ([`write_page_link`]):
/// encoded by the first link, copied from there by the others.
enum Kept<'a> {
    /// Not written yet: the request's query.
    Query(&'a crate::api::http::Query),
    /// Written at this range of the body.
    At(std::ops::Range<usize>),
}

impl Kept<'_> {
    /// Appends the encoded parameters to `out`, the body they are kept in.
    fn write(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        match self {
            Kept::Query(query) => query.write_rewritten(out, &["offset", "limit", "f"], &[]),
            Kept::At(range) => out.extend_from_within(range.clone()),
        }
        *self = Kept::At(start..out.len());
    }

    /// Whether there are none (once written).
    fn is_empty(&self) -> bool {
        matches!(self, Kept::At(r) if r.is_empty())
    }

    /// The encoded parameters as text, `out` being the body they are kept in.
    fn text(&self, out: &[u8]) -> String {
        match self {
            Kept::Query(query) => query.rewritten(&["offset", "limit", "f"], &[]),
            // Form-urlencoded text is ASCII.
            Kept::At(range) => String::from_utf8_lossy(&out[range.clone()]).into_owned(),
        }
    }
}

/// The parameters of the request that every page link keeps (all but `offset`, `limit` and
/// `f`), encoded once for all the links.
fn kept_params(ctx: &Ctx) -> String {
    ctx.query.rewritten(&["offset", "limit", "f"], &[])
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

fn items_execute(
    state: &AppState,
    id: &str,
    ctx: &Ctx,
    repr: Repr,
    pos: usize,
    q: ItemsQuery,
    selected: Option<Vec<u32>>,
) -> Result<Response, ApiError> {
    let layer = &state.catalog().layers()[pos];
    if let Some(log) = &layer.change_log {
        return log_items(state, id, ctx, repr, layer, log.as_ref(), q);
    }
    let (matched, page): (usize, Vec<u32>) = if selected.is_none() && is_unfiltered(&q) {
        let n = layer.features.len();
        let start = q.offset.min(n);
        let end = (start + q.limit).min(n);
        (n, (start as u32..end as u32).collect())
    } else {
        let mut selected = selected.unwrap_or_else(|| select(layer, &q));
        let matched = selected.len();
        let start = q.offset.min(matched);
        let end = (start + q.limit).min(matched);
        // The page, in the selection's own buffer.
        selected.truncate(end);
        selected.drain(..start);
        (matched, selected)
    };
    write_items(state, id, ctx, repr, &q, layer, Some(pos), matched, &page)
}

/// Writes a page of features: the features at `page` in `layer`, `matched` selected in all.
/// `cached`: the position of `layer` in the served catalogue, whose CRS84 geometries are
/// cached; `None` for a layer made for this answer (a page of a change log).
#[allow(clippy::too_many_arguments)]
fn write_items(
    state: &AppState,
    id: &str,
    ctx: &Ctx,
    repr: Repr,
    q: &ItemsQuery,
    layer: &Layer,
    cached: Option<usize>,
    matched: usize,
    page: &[u32],
) -> Result<Response, ApiError> {
    let other = if repr == Repr::Html {
        Repr::GeoJson
    } else {
        Repr::Html
    };
    let has_next = q.offset + page.len() < matched;
    if repr == Repr::Html {
        let kept = kept_params(ctx);
        let path = ["/collections/", id, "/items"].concat();
        let page_link = |offset: usize, repr: Repr, rel: &'static str, title: &'static str| Link {
            href: page_url(ctx, &path, &kept, offset, q.limit, repr),
            rel,
            media_type: repr.media_type(),
            title,
        };
        let mut links = vec![
            page_link(q.offset, repr, "self", "this page"),
            page_link(q.offset, other, "alternate", "this page in another format"),
        ];
        if has_next {
            links.push(page_link(q.offset + q.limit, repr, "next", "next page"));
        }
        if q.offset > 0 {
            links.push(page_link(
                q.offset.saturating_sub(q.limit),
                repr,
                "prev",
                "previous page",
            ));
        }
        links.push(Link {
            href: [ctx.base.as_str(), "/collections/", layer.id()].concat(),
            rel: "collection",
            media_type: JSON,
            title: &layer.config.title,
        });
        let links: Vec<Json> = links
            .iter()
            .map(|l| serde_json::to_value(l).map_err(ApiError::internal))
            .collect::<Result<_, _>>()?;
        let mut geometries = Vec::new();
        let to_crs84 = crs::cached_transformer(&state.catalog().working_crs, crs::CRS84)
            .map_err(ApiError::internal)?;
        for &i in page {
            if let Ok(g) = to_crs84.transformed(&layer.features[i as usize].geometry) {
                geometries.push(g);
            }
        }
        return Ok(html::items_page(
            ctx,
            layer,
            page,
            &q.properties,
            matched,
            q.offset,
            &links,
            &geometries,
        ));
    }
    // Links take about a kilobyte, a feature about half of one.
    let mut body = Vec::with_capacity(1536 + page.len() * 640);
    body.extend_from_slice(br#"{"type":"FeatureCollection","numberMatched":"#);
    let mut buf = [0; 20];
    body.extend_from_slice(digit_bytes(matched, &mut buf));
    body.extend_from_slice(br#","numberReturned":"#);
    body.extend_from_slice(digit_bytes(page.len(), &mut buf));
    body.extend_from_slice(br#","timeStamp":"#);
    crate::time::with_now_rfc3339(|now| write::write_str(&mut body, now));
    // The links, written straight to the body in the order and form of `Link::write_array`.
    body.extend_from_slice(br#","links":["#);
    let plain = !write::needs_escape(ctx.base.as_bytes()) && !write::needs_escape(id.as_bytes());
    let mut kept = Kept::Query(&ctx.query);
    let mut page_link = |offset: usize, repr: Repr, rel: &'static str, title: &'static str| {
        write_page_link(
            &mut body,
            ctx,
            id,
            plain,
            &mut kept,
            (offset, q.limit),
            repr,
            (rel, title),
        );
        body.push(b',');
    };
    page_link(q.offset, repr, "self", "this page");
    page_link(q.offset, other, "alternate", "this page in another format");
    if has_next {
        page_link(q.offset + q.limit, repr, "next", "next page");
    }
    if q.offset > 0 {
        page_link(
            q.offset.saturating_sub(q.limit),
            repr,
            "prev",
            "previous page",
        );
    }
    body.extend_from_slice(br#"{"href":"#);
    if plain {
        body.push(b'"');
        for part in [ctx.base.as_str(), "/collections/", layer.id()] {
            body.extend_from_slice(part.as_bytes());
        }
        body.push(b'"');
    } else {
        write::write_str(
            &mut body,
            &[ctx.base.as_str(), "/collections/", layer.id()].concat(),
        );
    }
    body.extend_from_slice(br#","rel":"collection","type":"#);
    write::write_str(&mut body, JSON);
    body.extend_from_slice(br#","title":"#);
    write::write_str(&mut body, &layer.config.title);
    body.extend_from_slice(br#"}],"features":["#);
    // CRS84 geometries come from the cache as text (written to this buffer when the cache
    // is full); others are written to this buffer.
    let mut geometry = Vec::new();
    for (n, &i) in page.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        let feature = &layer.features[i as usize];
        let g = match cached {
            _ if q.skip_geometry => None,
            Some(pos) if q.crs.is_crs84() => Some(state.geometries().crs84(
                pos,
                layer,
                &state.catalog().working_crs,
                i as usize,
                &mut geometry,
            )?),
            _ => {
                geometry.clear();
                state.geometries().write_at(
                    cached,
                    layer,
                    &state.catalog().working_crs,
                    i as usize,
                    &q.crs,
                    &mut geometry,
                )?;
                Some(geometry.as_slice())
            }
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
    items_of(state, id, ctx).await
}

/// The items of layer `id`, whichever route matched.
async fn items_of<I: AsRef<str> + Send + 'static>(
    state: AppState,
    id: I,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let plan = plan(&state, id.as_ref(), &ctx);
    finish(state, id, ctx, plan).await
}

/// How a request for items is answered: at once, or on a thread of the blocking pool.
enum Plan {
    /// The answer, made at once.
    Done(Result<Response, ApiError>),
    /// A filter with a large geometry literal: parsed and answered on the pool.
    Parse(Repr),
    /// A parsed request whose selection is too large for the async worker.
    Select(Repr, usize, Box<ItemsQuery>),
}

/// Reads the request and answers it when that is cheap: a small page of the whole layer, or
/// a selection of a few hundred R-tree candidates at most (a map's point lookup or view).
fn plan(state: &AppState, id: &str, ctx: &Ctx) -> Plan {
    let repr = match ctx.negotiate(&FEATURES) {
        Ok(repr) => repr,
        Err(e) => return Plan::Done(Err(e)),
    };
    // Parsing is cheap, except for a filter with a large geometry literal.
    if ctx.param("filter").is_some_and(|f| f.len() > 4096) {
        return Plan::Parse(repr);
    }
    let parsed = state.layer(id).and_then(|(pos, layer)| {
        let q = parse_items_query(ctx, layer, &state.catalog().working_crs, state.regions())?;
        Ok((pos, layer, q))
    });
    let (pos, layer, q) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return Plan::Done(Err(e)),
    };
    // A change log reads its features from the store: always on the pool.
    if layer.change_log.is_some() {
        return Plan::Select(repr, pos, Box::new(q));
    }
    const MAX_CANDIDATES: usize = 256;
    if q.limit <= 100 && is_unfiltered(&q) {
        return Plan::Done(items_execute(state, id, ctx, repr, pos, q, None));
    }
    if let Some(selected) = select_light(layer, &q, MAX_CANDIDATES) {
        return Plan::Done(items_execute(state, id, ctx, repr, pos, q, Some(selected)));
    }
    Plan::Select(repr, pos, Box::new(q))
}

/// The answer of a [`Plan`], waiting for the blocking pool if it has to.
async fn finish<I: AsRef<str> + Send + 'static>(
    state: AppState,
    id: I,
    ctx: Ctx,
    plan: Plan,
) -> Result<Response, ApiError> {
    let worker = state.clone();
    match plan {
        Plan::Done(answer) => answer,
        Plan::Parse(repr) => {
            worker
                .run_blocking(move || {
                    let id = id.as_ref();
                    let (pos, layer) = state.layer(id)?;
                    let q = parse_items_query(
                        &ctx,
                        layer,
                        &state.catalog().working_crs,
                        state.regions(),
                    )?;
                    items_execute(&state, id, &ctx, repr, pos, q, None)
                })
                .await
        }
        Plan::Select(repr, pos, q) => {
            worker
                .run_blocking(move || items_execute(&state, id.as_ref(), &ctx, repr, pos, *q, None))
                .await
        }
    }
}

/// `/collections/{id}/items` of each layer of the catalogue `state` starts with, as a path of
/// its own in `router` (the whole router, state given), answered by [`LayerItems`].
///
/// The generic route makes axum decode the path parameter, keep it in the request's
/// extensions and deserialise it for every request: more than a thousand instructions of a
/// point lookup's twenty thousand. A fixed path has no parameter. Only ids that read the same
/// encoded or not get one (ASCII letters, digits, `-`, `.`, `_`, `~`); a request spelling the
/// id with escapes, and a layer added by a reload, take the generic route, which gives the
/// same answer. A layer removed by a reload is answered 404 by either.
pub fn known_layer_routes(state: &AppState, router: Router) -> Router {
    let mut routes = router.clone();
    let mut seen = std::collections::HashSet::new();
    for layer in state.catalog().layers() {
        let id = layer.id();
        let plain = !id.is_empty()
            && id != "."
            && id != ".."
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !plain || !seen.insert(id) {
            continue;
        }
        routes = routes.route_service(
            &format!("/collections/{id}/items"),
            LayerItems {
                id: id.into(),
                live: state.live(),
                others: router.clone(),
            },
        );
    }
    routes
}

/// The service of `/collections/{id}/items` for one layer: `GET` and `HEAD` answered as the
/// generic route's handler answers them, every other method passed to the router without
/// this path (which answers it as before: an edit, or 405 with the methods of the route).
#[derive(Clone)]
struct LayerItems {
    id: Arc<str>,
    live: Live,
    others: Router,
}

impl tower::Service<axum::extract::Request> for LayerItems {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = LayerItemsAnswer;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::extract::Request) -> LayerItemsAnswer {
        use axum::http::Method;
        use tower::ServiceExt;
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return LayerItemsAnswer::Later(Box::pin(self.others.clone().oneshot(request)));
        }
        let head = request.method() == Method::HEAD;
        let (parts, _) = request.into_parts();
        let state = self.live.state();
        let ctx = Ctx::of(&parts, self.live.config());
        drop(parts);
        match plan(&state, &self.id, &ctx) {
            // Answered here: no future to keep (the generic route's handler keeps one of
            // about a kilobyte, the size of the work for the pool, on the heap).
            Plan::Done(answer) => LayerItemsAnswer::Ready(std::future::ready(Ok(as_routed(
                head,
                answer.into_response(),
            )))),
            plan => {
                let id = self.id.clone();
                LayerItemsAnswer::Later(Box::pin(async move {
                    Ok(as_routed(
                        head,
                        finish(state, id, ctx, plan).await.into_response(),
                    ))
                }))
            }
        }
    }
}

/// What axum's router does to the answer of a method route (a service route is left as it
/// is): `Content-Length` when the body's size is known and the header is not there, and no
/// body for `HEAD`.
fn as_routed(head: bool, mut response: Response) -> Response {
    use axum::body::HttpBody as _;
    use axum::http::header::CONTENT_LENGTH;
    use axum::http::HeaderValue;
    if !response.headers().contains_key(CONTENT_LENGTH) {
        if let Some(size) = response.body().size_hint().exact() {
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(size));
        }
    }
    if head {
        *response.body_mut() = axum::body::Body::empty();
    }
    response
}

/// The future of [`LayerItems`]: the answer made already, or the work still to do.
enum LayerItemsAnswer {
    Ready(std::future::Ready<Result<Response, std::convert::Infallible>>),
    Later(
        std::pin::Pin<
            Box<
                dyn std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send,
            >,
        >,
    ),
}

impl std::future::Future for LayerItemsAnswer {
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            LayerItemsAnswer::Ready(answer) => std::pin::Pin::new(answer).poll(cx),
            LayerItemsAnswer::Later(work) => work.as_mut().poll(cx),
        }
    }
}

/// The feature id in a URL, matched against the layer's ids (text or integer).
fn lookup<'a>(layer: &'a Layer, raw: &str) -> Option<(usize, &'a Feature)> {
    let by_text = FeatureId::Str(raw.into());
    let id = if layer.get(&by_text).is_some() {
        by_text
    } else {
        FeatureId::Int(raw.parse().ok()?)
    };
    let index = layer.position(&id)?;
    Some((index, &layer.features[index]))
}

/// One feature. Cheaper to answer on the async worker than to hand to a blocking thread.
///
/// A feature of an editable layer has a strong `ETag` that changes with each edit (the one a
/// client sends back in `If-Match`); `If-None-Match` with it is answered 304.
async fn item(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let (pos, layer) = state.layer(&id)?;
    ctx.query.check(&ITEM)?;
    let repr = ctx.negotiate(&FEATURES)?;
    let missing = |id: &str, fid: &str| {
        ApiError::not_found(format!("collection {id} has no feature {fid:?}"))
    };
    if layer.change_log.is_some() {
        // A change of a log: read from the store, on the pool.
        let worker = state.clone();
        return worker
            .run_blocking(move || {
                let layer = &state.catalog().layers()[pos];
                let log = layer.change_log.as_ref().expect("checked above");
                let seq = log
                    .find(layer.version, &fid)
                    .ok_or_else(|| missing(&id, &fid))?;
                let features = log.read(&[seq]).map_err(ApiError::elsewhere)?;
                let one = crate::edit::log::features_layer(layer, features)
                    .map_err(ApiError::internal)?;
                write_item(&state, &id, &fid, &ctx, repr, &one, 0)
            })
            .await;
    }
    let (index, _) = lookup(layer, &fid).ok_or_else(|| missing(&id, &fid))?;
    let tag = layer.feature_tag(index);
    if let Some(tag) = &tag {
        let fresh = headers
            .get(axum::http::header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
        if fresh {
            let mut r = axum::http::StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(tag) {
                r.headers_mut().insert(axum::http::header::ETAG, v);
            }
            return Ok(r);
        }
    }
    let mut response = write_item(&state, &id, &fid, &ctx, repr, layer, index)?;
    if repr != Repr::Html {
        if let Some(v) = tag.and_then(|t| axum::http::HeaderValue::from_str(&t).ok()) {
            response.headers_mut().insert(axum::http::header::ETAG, v);
        }
    }
    Ok(response)
}

/// Writes feature `index` of `layer`, in `repr`, with its links.
fn write_item(
    state: &AppState,
    id: &str,
    fid: &str,
    ctx: &Ctx,
    repr: Repr,
    layer: &Layer,
    index: usize,
) -> Result<Response, ApiError> {
    let feature = &layer.features[index];
    let working = &state.catalog().working_crs;
    let out_crs = params::crs_param_or_crs84("crs", ctx.param("crs"), working)?;
    let properties = properties_param(ctx, layer)?;
    let skip = skip_geometry_param(ctx)?;
    let path = format!("/collections/{id}/items/{}", urlencode_segment(fid));
    let mut links = self_links(ctx, &path, repr, &FEATURES, "feature");
    links.push(collection_link(ctx, layer));
    if repr == Repr::Html {
        let to_crs84 = crs::cached_transformer(working, crs::CRS84)?;
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

/// The parameters of the items of every collection that do not depend on the collection,
/// declared once under `components.parameters` (QGIS and GDAL read `limit` there).
pub(super) fn openapi_components(scope: Scope) -> Vec<(String, Json)> {
    DATED_ITEMS
        .iter()
        .filter(|p| is_shared(p))
        .map(|p| (p.name().to_string(), p.openapi(scope)))
        .collect()
}

/// Whether a parameter of the items is the same for every collection.
fn is_shared(p: &Param) -> bool {
    !matches!(
        p.schema,
        Schema::Format(_) | Schema::Properties | Schema::SortBy
    )
}

/// The JSON Schema of the properties of `layer`'s features as the items answer them: each
/// property of its type or null, plus `_invalid_geometry` (the reason) on a feature whose
/// geometry failed validation.
fn properties_schema(layer: &Layer) -> Json {
    let mut props = serde_json::Map::new();
    for f in &layer.fields {
        let mut s = value_schema(f.ty);
        s["nullable"] = json!(true);
        props.insert(f.name.clone(), s);
    }
    props.insert("_invalid_geometry".into(), json!({"type": "string"}));
    json!({"type": "object", "properties": props, "additionalProperties": false})
}

/// The OpenAPI path items of the items of `layer` and of one of its features.
pub(super) fn openapi_paths(scope: Scope, layer: &Layer) -> Vec<(String, Json)> {
    let scope = scope.with_layer(layer);
    let id = layer.id();
    let title = &layer.config.title;
    let param = |p: &Param| {
        if is_shared(p) {
            json!({"$ref": format!("#/components/parameters/{}", p.name())})
        } else {
            p.openapi(scope)
        }
    };
    let mut parameters: Vec<Json> = items_params(layer).iter().map(param).collect();
    parameters.extend(equality_params(layer).map(|p| p.openapi(scope)));
    let feature = oas::feature_schema(properties_schema(layer));
    let dated = if temporal_fields(layer).is_some() {
        " datetime selects by the collection's dates."
    } else {
        " The collection has no dates, so no datetime."
    };
    let description = format!(
        "Every parameter is checked before a feature is read: an unknown or repeated one is a \
         400 naming it. bbox-crs goes only with bbox, filter-lang and filter-crs only with \
         filter. Each property of the collection is also an equality filter \
         (PROPERTY=value).{dated} An empty value of any other parameter is the same as \
         leaving it out. numberMatched counts every feature selected; the next link is \
         present while features remain."
    );
    let items = oas::Get {
        id: &format!("getFeatures_{id}"),
        summary: &format!("The features of {title}"),
        description: Some(&description),
        tags: &[id],
        parameters,
        ok: oas::ok(
            "a page of features",
            vec![
                oas::media(
                    Repr::GeoJson,
                    oas::feature_collection_schema(
                        feature.clone(),
                        &["numberMatched", "numberReturned", "timeStamp", "links"],
                    ),
                ),
                oas::html(),
            ],
        ),
        errors: oas::Errors::get(true).with(
            400,
            "a malformed, unknown or repeated parameter; bbox-crs without bbox, filter-lang \
             or filter-crs without filter; a box with its corners swapped; a filter that does \
             not parse or names an unknown property; an equality filter whose value is not \
             of the property's type: the detail names it",
        ),
    };
    let mut one = feature;
    one["required"] = json!(["type", "geometry", "properties", "links"]);
    let mut feature_id = json!({
        "name": "featureId", "in": "path", "required": true,
        "description": "The id of a feature of the collection.",
        "schema": {"type": "string"},
    });
    // A feature that exists, as an example (tools that try the API start from it).
    let first = match &layer.change_log {
        Some(log) => log.page(layer.version, 0, 1).first().map(u64::to_string),
        None => layer.features.first().map(|f| f.id.to_string()),
    };
    if let Some(id) = first {
        feature_id["example"] = json!(id);
    }
    let item = oas::Get {
        id: &format!("getFeature_{id}"),
        summary: &format!("One feature of {title}"),
        description: None,
        tags: &[id],
        parameters: std::iter::once(feature_id)
            .chain(ITEM.iter().map(param))
            .collect(),
        ok: oas::ok(
            "a feature, with a link to its collection",
            vec![oas::media(Repr::GeoJson, one), oas::html()],
        ),
        errors: oas::Errors::get(true).with(404, "the collection has no feature with this id"),
    };
    vec![
        (
            format!("/collections/{id}/items"),
            json!({"get": items.openapi()}),
        ),
        (
            format!("/collections/{id}/items/{{featureId}}"),
            json!({"get": item.openapi()}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::push_number;

    #[test]
    fn numbers_are_written_as_to_string_writes_them() {
        for n in [0, 7, 10, 99, 100, 12_345, 1_000_000, usize::MAX] {
            let mut s = String::from("x=");
            push_number(&mut s, n);
            assert_eq!(s, format!("x={n}"));
        }
    }
}
