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

use super::http::Live;
use axum::body::Bytes;
use axum::response::Response;
use axum::Router;
use serde_json::{json, Map, Value as Json};

use super::http::negotiate::{GEOJSON, JSON, OPENAPI_JSON};
use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::query::{self as params};
use super::http::respond::{self, link};
use super::http::subject::{check_query, get_or_post, layer_param, parse_subject, GetOrPost};
use super::http::{ApiError, AppState, Ctx, Repr};
use crate::analysis::{self, Measure, OverlayOptions};
use crate::crs::OutputCrs;
use crate::geojson_io::Collection;
use crate::ptcp::roles::NAME_FIELD;
use crate::ptcp::MAX_DISTANCE_M;

/// The default and largest `k` of `/analysis/nearest`.
pub const DEFAULT_K: usize = 5;
pub const MAX_K: usize = 1000;

/// The analysis operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Nearest,
    Within,
    Overlay,
    Locate,
}

impl Op {
    const ALL: [Op; 4] = [Op::Nearest, Op::Within, Op::Overlay, Op::Locate];

    fn path(self) -> &'static str {
        match self {
            Op::Nearest => "/analysis/nearest",
            Op::Within => "/analysis/within",
            Op::Overlay => "/analysis/overlay",
            Op::Locate => "/analysis/locate",
        }
    }

    /// The parameters of this operation, besides the subject's.
    fn params(self) -> &'static [Param<'static>] {
        match self {
            Op::Nearest => &NEAREST,
            Op::Within => &WITHIN,
            Op::Overlay => &OVERLAY,
            Op::Locate => &LOCATE,
        }
    }
}

const LAYER: Param = Param::new(
    "layer",
    Schema::Layer,
    "The layer to search (a collection id).",
)
.required();
const F: Param = Param::new(
    "f",
    Schema::Format(&FEATURES),
    "json or geojson: the answer is GeoJSON whatever Accept says, so a URL opens as a layer.",
);
const CRS: Param = Param::new(
    "crs",
    Schema::Crs,
    "The CRS of the answer's geometries (default CRS84), in its axis order; never the CRS of \
     the subject (that is subject-crs).",
);

static NEAREST: [Param; 4] = [
    LAYER,
    Param::new(
        "k",
        Schema::Integer {
            minimum: 1,
            maximum: Some(MAX_K as i64),
            default: Some(DEFAULT_K as i64),
        },
        "How many features (more than the maximum is refused, not lowered).",
    ),
    F,
    CRS,
];
static WITHIN: [Param; 4] = [
    LAYER,
    Param::new(
        "distance",
        Schema::Number {
            minimum: 0.0,
            maximum: MAX_DISTANCE_M,
            default: None,
        },
        "The distance in metres.",
    )
    .required(),
    F,
    CRS,
];
static OVERLAY: [Param; 4] = [
    LAYER,
    Param::new(
        "group_by",
        Schema::AnyProperty,
        "A property of layer to total the summary by (e.g. kind); a property of another layer \
         is a 400.",
    ),
    F,
    CRS,
];
static LOCATE: [Param; 3] = [
    Param::new(
        "layers",
        Schema::Layers,
        "Only these layers, comma separated (default: every layer).",
    ),
    F,
    CRS,
];

/// The analyses answer GeoJSON only.
const FEATURES: [Repr; 1] = [Repr::GeoJson];

pub fn routes() -> Router<Live> {
    Op::ALL.iter().fold(Router::new(), |r, &op| {
        r.route(
            op.path(),
            get_or_post(move |state: &AppState, ctx: &Ctx, body: Option<Bytes>| {
                answer(op, state, ctx, body)
            }),
        )
    })
}

/// The CRS of the answer's geometries (`crs`, default CRS84).
fn output_crs(ctx: &Ctx, working: &str) -> Result<OutputCrs, ApiError> {
    params::crs_param_or_crs84("crs", ctx.param("crs"), working)
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

/// Answers one analysis request.
fn answer(op: Op, state: &AppState, ctx: &Ctx, body: Option<Bytes>) -> Result<Response, ApiError> {
    check_query(ctx, op.params(), body.is_some())?;
    let catalog = state.catalog();
    let working = &catalog.working_crs;
    // GeoJSON whatever `Accept` says (a browser opening the URL gets the data); `f` may only
    // ask for it.
    if ctx.param("f").is_some() && ctx.negotiate(&FEATURES).is_err() {
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
                    (0, Some(params::distance_param("distance", d)?))
                }
            };
            let s = parse_subject(state, ctx, body.as_deref())?;
            let hits = match distance {
                None => analysis::nearest(layer, &s.geometry, k),
                Some(d) => analysis::within_distance(layer, &s.geometry, d),
            }?;
            let mut members = vec![("layer", json!(layer.id())), ("subject", s.given)];
            if let Some(d) = distance {
                members.push(("distance_m", json!(d)));
            }
            members.push(("numberReturned", json!(hits.len())));
            let mut fc = Collection::new(catalog, state.geometries(), &members);
            for h in &hits {
                let mut extra = Map::new();
                extra.insert("distance_m".into(), json!(h.distance_m));
                fc.catalog_feature(layer, h.feature, &out_crs, &extra)?;
            }
            Ok(respond::geojson(fc.into_bytes(), &out_crs))
        }
        Op::Overlay => overlay(state, ctx, body, &out_crs),
        Op::Locate => locate(state, ctx, body, &out_crs),
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
        params::field_param(layer, "group_by", field)?;
    }
    let s = parse_subject(state, ctx, body.as_deref())?;
    let o = analysis::overlay(
        layer,
        &s.geometry,
        &OverlayOptions {
            with_geometry: true,
            group_by,
        },
    )?;
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
    let mut fc = Collection::new(state.catalog(), state.geometries(), &members);
    for item in &o.items {
        let mut extra = Map::new();
        if let Some(k) = amount_key {
            extra.insert(k.into(), json!(item.amount));
        }
        extra.insert("share_of_site".into(), json!(item.site_share));
        extra.insert("share_of_feature".into(), json!(item.feature_share));
        match &item.geometry {
            Some(g) => fc.clipped_feature(layer, item.feature, g, out_crs, &extra)?,
            // Points meet or lie inside: nothing to clip, the feature comes whole.
            None => fc.catalog_feature(layer, item.feature, out_crs, &extra)?,
        }
    }
    Ok(respond::geojson(fc.into_bytes(), out_crs))
}

fn locate(
    state: &AppState,
    ctx: &Ctx,
    body: Option<Bytes>,
    out_crs: &OutputCrs,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let ids: Vec<&str> = ctx
        .param("layers")
        .map(params::names)
        .into_iter()
        .flatten()
        .collect();
    if let Some(missing) = ids.iter().find(|id| catalog.layer(id).is_none()) {
        return Err(ApiError::not_found(format!(
            "parameter layers: the catalogue has no layer {missing:?}"
        )));
    }
    for id in &ids {
        if let Some(layer) = catalog.layer(id) {
            super::http::subject::refuse_change_log("layers", layer)?;
        }
    }
    // No layer named: every layer.
    let only = (!ids.is_empty()).then_some(ids);
    let s = parse_subject(state, ctx, body.as_deref())?;
    let name_field = NAME_FIELD.name_in(&catalog.config.roles).0;
    let found = analysis::locate(catalog, &s.geometry, only.as_deref(), name_field)?;
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
    let mut fc = Collection::new(
        catalog,
        state.geometries(),
        &[
            ("subject", s.given),
            ("systems", Json::Object(systems)),
            ("numberReturned", json!(total)),
        ],
    );
    for sh in &found {
        for l in &sh.layers {
            let Some(layer) = catalog.layer(&l.layer) else {
                continue;
            };
            let mut extra = Map::new();
            extra.insert("_layer".into(), json!(l.layer));
            extra.insert("_system".into(), json!(sh.system.name()));
            for f in &l.features {
                fc.catalog_feature(layer, f.feature, out_crs, &extra)?;
            }
        }
    }
    Ok(respond::geojson(fc.into_bytes(), out_crs))
}

/// The OpenAPI path items of the analysis endpoints.
pub(super) fn openapi_paths(scope: Scope) -> Vec<(String, Json)> {
    let features = |required: &[&str]| {
        vec![(
            GEOJSON,
            oas::feature_collection_schema(oas::schema_ref("Feature"), required),
        )]
    };
    Op::ALL
        .iter()
        .map(|&op| {
            let (summary, description, content, answer, bad_request) = match op {
                Op::Nearest => (
                    "The k nearest features of a layer to the subject.",
                    "Nearest first, each with distance_m (the true geometry-to-geometry distance in metres; ties by id).",
                    features(&["layer", "subject", "numberReturned"]),
                    "a FeatureCollection with the foreign members layer, subject and numberReturned",
                    "a malformed, unknown or repeated parameter, no layer, k out of 1..1000, no subject or two, malformed WKT or GeoJSON: the detail names it",
                ),
                Op::Within => (
                    "The features of a layer within a distance of the subject.",
                    "Nearest first, each with distance_m.",
                    features(&["layer", "subject", "distance_m", "numberReturned"]),
                    "a FeatureCollection with the foreign members layer, subject, distance_m and numberReturned",
                    "a malformed, unknown or repeated parameter, no layer, no distance or one below 0 or above 200 km, no subject or two, malformed WKT or GeoJSON: the detail names it",
                ),
                Op::Overlay => (
                    "The features of a layer that the subject overlaps, clipped to it.",
                    "Each with overlap_area_m2 (polygons) or overlap_length_m (lines), share_of_site and share_of_feature (0..1, null where not defined); point features and point sites come whole. Foreign members: measure (area, length or count), site {area_m2, length_m}, summary (per value of group_by, or one row with key null: key, count, overlap_area_m2 or overlap_length_m, share_of_site), skipped (ids of features with invalid geometries left out).",
                    features(&["layer", "subject", "measure", "site", "summary", "numberReturned"]),
                    "a FeatureCollection of clipped features with the summary",
                    "a malformed, unknown or repeated parameter, no layer, group_by not a property of layer, no subject or two, malformed WKT or GeoJSON: the detail names it",
                ),
                Op::Locate => (
                    "What is here: the features of every layer (or of layers) that the subject intersects.",
                    "Each with _layer and _system; the foreign member systems maps each system to [{layer, title, count}].",
                    features(&["subject", "systems", "numberReturned"]),
                    "a FeatureCollection by system",
                    "a malformed, unknown or repeated parameter, an empty name in layers, no subject or two, malformed WKT or GeoJSON: the detail names it",
                ),
            };
            let name = op.path().trim_start_matches("/analysis/");
            let item = GetOrPost {
                id: &format!("analysis_{name}"),
                tag: "analysis",
                summary,
                description,
                own: op.params(),
                content,
                answer,
                negotiated: false,
                bad_request,
                not_found: "an unknown layer, project or feature",
            }
            .openapi(scope);
            (op.path().to_string(), item)
        })
        .collect()
}

/// The landing page's links to the analysis, the project reports and the indicators. Plain
/// relations with titles: `related` for resources, `describedby` for what describes them (the
/// OGC "processes" relation would promise an OGC API - Processes, which this is not).
pub(super) fn landing_links(ctx: &Ctx) -> Vec<Json> {
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
