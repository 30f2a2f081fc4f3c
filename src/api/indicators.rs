//! `/indicators` and `/indicators/definitions`: the monitoring indicators shared by the
//! development pact and the PTCP.
//!
//! `/indicators` is JSON (the indicators, as `territorio indicators --format json` writes them,
//! with `links`), CSV (`f=csv`, long format: one row per value), GeoJSON (`f=geojson`: the
//! municipalities carrying their values, for a choropleth; `crs` as everywhere) or HTML.
//! `Accept: text/csv` and `Accept: application/geo+json` work too. `/indicators/definitions` is
//! the JSON array of {id, title, unit, definition, property}, `property` naming the property of
//! the municipalities GeoJSON that carries the indicator (`null` when it has none).
//!
//! A snapshot of the catalogue never changes while it is served, so the indicators are computed
//! once per snapshot, on the first request that needs them (on the blocking pool; requests that
//! arrive meanwhile wait for the same computation), and kept in the [`AppState`] with their
//! JSON and CSV text; later answers copy that text without leaving the async worker.
//!
//! `at` (on a server that keeps the history of edits) answers the indicators as they stood
//! then: computed on the catalogue at that instant ([`past`]), on the blocking pool, each time
//! (the past is asked for rarely, and at any instant). The JSON then says `at`.

use super::http::Live;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::html::{self, esc};
use super::http::negotiate::{CSV, GEOJSON, HTML, JSON};
use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::past::{self, Past};
use super::http::query;
use super::http::respond::{self, link};
use super::http::state::ComputedIndicators;
use super::http::{ApiError, AppState, Ctx, Repr};
use crate::crs::OutputCrs;
use crate::geojson_io::{Collection, GeometryCache};
use crate::present::indicators::{self as documents, Choropleth};
use crate::present::{thousands, DocumentError};
use crate::ptcp::indicators::Memo;
use crate::ptcp::indicators::{definitions as indicator_definitions, Definition};
use crate::ptcp::{self, IndicatorOptions, Indicators};
use crate::store::Catalog;

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/indicators", get(indicators))
        .route("/indicators/definitions", get(definitions))
}

/// The representations of `/indicators`.
const TABLE: [Repr; 4] = [Repr::Json, Repr::Html, Repr::Csv, Repr::GeoJson];
/// The representations of `/indicators/definitions`.
const PAGE: [Repr; 2] = [Repr::Json, Repr::Html];

/// The parameters of `/indicators`.
static TABLE_PARAMS: [Param; 3] = [
    Param::new(
        "f",
        Schema::Format(&TABLE),
        "json (the default), html, csv (long format: indicator_id, group, key, value, unit), or \
         geojson (the municipalities with their values, for a choropleth).",
    ),
    Param::new(
        "crs",
        Schema::Crs,
        "The CRS of the GeoJSON representation's geometries (default CRS84). Only with GeoJSON \
         (f=geojson, or Accept: application/geo+json): the others carry no coordinates, and crs \
         with them is a 400.",
    ),
    past::AT,
];
/// The parameters of `/indicators/definitions`.
static PAGE_PARAMS: [Param; 1] = [Param::format(&PAGE)];

/// The indicators, computed on first use. Blocking: call it on a blocking thread.
pub fn computed(state: &AppState) -> Result<Arc<ComputedIndicators>, ApiError> {
    state
        .indicator_cache()
        .get_or_init(|| compute(state).map(Arc::new).map_err(Arc::new))
        .clone()
        .map_err(|e| ApiError::from(&*e))
}

fn compute(state: &AppState) -> Result<ComputedIndicators, DocumentError> {
    let computed = compute_on(state.catalog(), state.indicator_memo())?;
    tracing::info!(
        ms = computed.elapsed.as_secs_f64() * 1e3,
        "indicators computed for this catalogue"
    );
    Ok(computed)
}

/// The indicators of `catalog` and their text; `memo` holds what an earlier computation over
/// the same non-project layers found.
fn compute_on(catalog: &Catalog, memo: &Memo) -> Result<ComputedIndicators, DocumentError> {
    let started = Instant::now();
    let indicators =
        ptcp::indicators::indicators_with(catalog, &IndicatorOptions::default(), memo)?;
    let elapsed = started.elapsed();
    // An object always opens with its brace: the members follow it.
    let mut json_tail = serde_json::to_vec(&documents::document(&indicators)?)?;
    json_tail.remove(0);
    Ok(ComputedIndicators {
        csv: documents::csv(&indicators),
        indicators,
        json_tail,
        geojson_crs84: OnceLock::new(),
        elapsed,
    })
}

async fn indicators(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&TABLE_PARAMS)?;
    let repr = ctx.negotiate(&TABLE)?;
    if ctx.param("crs").is_some() && repr != Repr::GeoJson {
        return Err(ApiError::bad_request(
            "parameter crs: only the GeoJSON representation (f=geojson) has coordinates",
        ));
    }
    if let Some(at) = past::instant(&state, &ctx)? {
        let worker = state.clone();
        return worker
            .run_blocking(move || {
                let past = past::catalog_at(&state, at)?;
                // A past state has a memo of its own: the server's keeps the present.
                let computed =
                    compute_on(&past.catalog, &Memo::default()).map_err(|e| ApiError::from(&e))?;
                answer(
                    &past.catalog,
                    &past.geometries,
                    repr,
                    &ctx,
                    &computed,
                    Some(&past),
                )
            })
            .await;
    }
    // Once computed, JSON, CSV and the CRS84 GeoJSON are copies of cached text: answered here.
    // The first computation and GeoJSON in other CRSs go to the blocking pool.
    let cached = state.indicator_cache().get().is_some_and(|c| {
        c.as_ref().is_ok_and(|c| {
            repr != Repr::GeoJson || (ctx.param("crs").is_none() && c.geojson_crs84.get().is_some())
        })
    });
    if cached {
        return represent(&state, repr, &ctx);
    }
    let worker = state.clone();
    worker
        .run_blocking(move || represent(&state, repr, &ctx))
        .await
}

/// The indicators in `repr` (computing them first if needed).
fn represent(state: &AppState, repr: Repr, ctx: &Ctx) -> Result<Response, ApiError> {
    let computed = computed(state)?;
    answer(
        state.catalog(),
        state.geometries(),
        repr,
        ctx,
        &computed,
        None,
    )
}

/// The indicators of `catalog` (whose geometries are `geometries`) in `repr`; `past` when
/// they are those of a past instant.
fn answer(
    catalog: &Catalog,
    geometries: &GeometryCache,
    repr: Repr,
    ctx: &Ctx,
    computed: &ComputedIndicators,
    past: Option<&Past>,
) -> Result<Response, ApiError> {
    let at = past.map(Past::at_text);
    match repr {
        Repr::Csv => Ok(respond::csv(computed.csv.clone(), "indicators.csv")),
        Repr::GeoJson => {
            let working = &catalog.working_crs;
            let out_crs = query::crs_param_or_crs84("crs", ctx.param("crs"), working)?;
            if out_crs.is_crs84() {
                if let Some(body) = computed.geojson_crs84.get() {
                    return Ok(respond::geojson(body.clone(), &out_crs));
                }
            }
            let body = municipalities_geojson(catalog, geometries, &computed.indicators, &out_crs)?;
            if out_crs.is_crs84() {
                let _ = computed.geojson_crs84.set(body.clone());
            }
            Ok(respond::geojson(body, &out_crs))
        }
        Repr::Html => Ok(indicators_page(ctx, computed, at.as_deref())),
        _ => {
            let mut body = Vec::with_capacity(computed.json_tail.len() + 1024);
            body.extend_from_slice(br#"{"links":"#);
            serde_json::to_writer(&mut body, &links(ctx, at.as_deref()))
                .map_err(ApiError::internal)?;
            if let Some(at) = &at {
                body.extend_from_slice(br#","at":"#);
                serde_json::to_writer(&mut body, at).map_err(ApiError::internal)?;
            }
            if computed.json_tail != b"}" {
                body.push(b',');
            }
            body.extend_from_slice(&computed.json_tail);
            Ok(respond::typed(body, JSON))
        }
    }
}

/// The links of the indicators, at `at` when they are those of a past instant.
fn links(ctx: &Ctx, at: Option<&str>) -> Vec<Json> {
    let at_query = at.map(|t| format!("&at={t}")).unwrap_or_default();
    let url = |f: &str| ctx.url(&format!("/indicators?f={f}{at_query}"));
    vec![
        link(
            url("json"),
            "self",
            JSON,
            "the monitoring indicators (this document)",
        ),
        link(
            url("html"),
            "alternate",
            HTML,
            "the monitoring indicators as HTML",
        ),
        link(
            url("csv"),
            "alternate",
            CSV,
            "every value, one row each (indicator_id, group, key, value, unit)",
        ),
        link(
            url("geojson"),
            "alternate",
            GEOJSON,
            "the municipalities with their values, for a choropleth",
        ),
        link(
            ctx.url("/indicators/definitions"),
            "describedby",
            JSON,
            "the definitions of the indicators (id, title, unit, definition, property)",
        ),
    ]
}

/// The municipalities FeatureCollection, each feature with its values.
fn municipalities_geojson(
    catalog: &Catalog,
    geometries: &GeometryCache,
    indicators: &Indicators,
    out_crs: &OutputCrs,
) -> Result<Vec<u8>, ApiError> {
    let map = Choropleth::new(indicators, catalog)?;
    let mut fc = Collection::new(catalog, geometries, &map.members());
    for (i, values) in &map.features {
        fc.catalog_feature(map.layer, *i, out_crs, values)?;
    }
    Ok(fc.into_bytes())
}

fn indicators_page(ctx: &Ctx, computed: &ComputedIndicators, at: Option<&str>) -> Response {
    let i = &computed.indicators;
    let mut s = String::new();
    if let Some(at) = at {
        s.push_str(&format!(
            "<p>As they stood at {} (UTC), from the history of the edited layers.</p>",
            esc(at)
        ));
    }
    s.push_str("<ul>");
    for l in links(ctx, at).iter().skip(1) {
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>({})</small></li>",
            esc(l["href"].as_str().unwrap_or("")),
            esc(l["title"].as_str().unwrap_or("")),
            esc(l["type"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</ul><h2>Province</h2><table>");
    let row = |name: &str, v: Option<f64>| {
        format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(name),
            v.map(thousands).unwrap_or_else(|| "n/a".into())
        )
    };
    s.push_str(&row("Residents", Some(i.province.residents)));
    s.push_str(&row(
        &format!(
            "Residents farther than {} m from a nursing home",
            i.province.far_m
        ),
        i.province.residents_far_from_nursing_home,
    ));
    s.push_str(&row(
        &format!(
            "Residents farther than {} m from a hospital",
            i.province.far_m
        ),
        i.province.residents_far_from_hospital,
    ));
    s.push_str("</table><h2>Progress by axis</h2><table><tr><th>Axis</th><th>Projects</th><th>Budget (EUR)</th><th>Mean progress</th></tr>");
    for g in i.progress.iter().filter(|g| g.group == "axis") {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(g.label.as_deref().unwrap_or(&g.key)),
            g.projects,
            thousands(g.budget_total_eur),
            g.progress_mean_pct
                .map(|p| format!("{p:.1}%"))
                .unwrap_or_default()
        ));
    }
    s.push_str("</table>");
    s.push_str(&definitions_table(&i.definitions));
    let title = match at {
        Some(at) => format!("Monitoring indicators at {at}"),
        None => "Monitoring indicators".to_string(),
    };
    html::page(ctx, &title, &s)
}

fn definitions_table(defs: &[Definition]) -> String {
    let mut s = String::from(
        "<h2>Definitions</h2><table><tr><th>Id</th><th>Title</th><th>Unit</th><th>Definition</th></tr>",
    );
    for d in defs {
        s.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(d.id),
            esc(d.title),
            esc(d.unit),
            esc(d.definition)
        ));
    }
    s.push_str("</table>");
    s
}

async fn definitions(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&PAGE_PARAMS)?;
    let repr = ctx.negotiate(&PAGE)?;
    let defs = indicator_definitions();
    Ok(match repr {
        Repr::Json => respond::json(
            &serde_json::to_value(&defs).map_err(ApiError::internal)?,
            JSON,
        ),
        _ => html::page(
            &ctx,
            "Definitions of the monitoring indicators",
            &definitions_table(&defs),
        ),
    })
}

/// The OpenAPI path items of the indicators.
pub(super) fn openapi_paths(scope: Scope) -> Vec<(String, Json)> {
    let indicators = oas::Get {
        id: "getIndicators",
        summary: "The monitoring indicators over the whole catalogue",
        description: Some("Progress per axis, emblematic action, AQST programme and municipality; projects and budget in productive areas; cumulative environmental effects; land take; services against demography. Computed once per state of the catalogue (an edit makes a new one). With at, the indicators as they stood at that instant, computed from the history of the edited layers (the JSON then has an at member, the instant in UTC). crs goes only with the GeoJSON representation. An empty value is the same as leaving the parameter out."),
        tags: &["indicators"],
        parameters: TABLE_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the indicators",
            vec![
                oas::media(
                    Repr::Json,
                    json!({"type": "object", "required": ["links", "definitions"], "properties": {
                        "links": oas::schema_ref("Links"),
                        "at": {"type": "string", "format": "date-time",
                               "description": "With at: the instant the indicators stood at, in UTC."},
                        "definitions": {"type": "array", "items": {"type": "object"}},
                    }}),
                ),
                oas::html(),
                oas::media(Repr::Csv, json!({"type": "string"})),
                oas::media(
                    Repr::GeoJson,
                    oas::feature_collection_schema(oas::schema_ref("Feature"), &[]),
                ),
            ],
        ),
        errors: oas::Errors::get(true).with(
            400,
            "a malformed, unknown or repeated parameter, crs with a representation other than GeoJSON, at in the future, or at on a server that keeps no history: the detail names it",
        ),
    };
    let definitions = oas::Get {
        id: "getIndicatorDefinitions",
        summary: "What each indicator is: {id, title, unit, definition, property}; property names the property of the municipalities GeoJSON (f=geojson) that carries the indicator, null when it has none",
        description: None,
        tags: &["indicators"],
        parameters: PAGE_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the definitions",
            vec![
                oas::media(
                    Repr::Json,
                    json!({"type": "array", "items": {
                        "type": "object",
                        "required": ["id", "title", "unit", "definition", "property"],
                        "properties": {
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "unit": {"type": "string"},
                            "definition": {"type": "string"},
                            "property": {"type": "string", "nullable": true},
                        },
                    }}),
                ),
                oas::html(),
            ],
        ),
        errors: oas::Errors::get(true),
    };
    vec![
        (
            "/indicators".to_string(),
            json!({"get": indicators.openapi()}),
        ),
        (
            "/indicators/definitions".to_string(),
            json!({"get": definitions.openapi()}),
        ),
    ]
}
