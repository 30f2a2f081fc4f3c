//! `/analysis/join`: join attributes by location, the planner's "each project with the
//! municipality, zone or belt it falls in" in one request, as GeoJSON (a layer for QGIS or a
//! web map) or CSV (a table). The same join and writers as `territorio join`
//! ([`crate::analysis::join_table`]).
//!
//! Parameters: `target` and `join` (layer ids, required), `predicate` (`intersects`, `within`,
//! `contains`; default `intersects`), `mode` (`all`: a row per match, `first`, `largest`:
//! largest overlap; default `all`), `fields` (the join layer's properties to copy, comma
//! separated; default all), `prefix` (of the joined properties' names; default the join
//! layer's id and `_`), `discard_nonmatching` (`true`: leave out targets that match nothing),
//! `crs` (of the GeoJSON geometries), `f` (`json`/`geojson` or `csv`).
//!
//! The join runs on the bounded blocking pool; it uses both cores (rayon).

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::negotiate::{CSV, GEOJSON};
use super::http::query;
use super::http::respond;
use super::http::subject::openapi_query;
use super::http::{ApiError, AppState, Ctx, Repr};
use crate::analysis::{self, JoinError, JoinMode, JoinPredicate, JoinRequest};

pub fn routes() -> Router<AppState> {
    Router::new().route("/analysis/join", get(join))
}

/// The parameters of `/analysis/join`.
const PARAMS: [&str; 8] = [
    "target",
    "join",
    "predicate",
    "mode",
    "fields",
    "prefix",
    "discard_nonmatching",
    "crs",
];

/// GeoJSON (the default) or CSV.
const TABLE: [Repr; 2] = [Repr::GeoJson, Repr::Csv];

impl From<JoinError> for ApiError {
    fn from(e: JoinError) -> Self {
        match e {
            JoinError::UnknownLayer { .. } => ApiError::NotFound(e.to_string()),
            JoinError::Analysis(a) => a.into(),
        }
    }
}

async fn join(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&PARAMS)?;
    let repr = ctx.negotiate(&TABLE)?;
    let required = |name: &str| {
        ctx.param(name).ok_or_else(|| {
            ApiError::bad_request(format!("parameter {name} (a layer id) is required"))
        })
    };
    let request = JoinRequest {
        target: required("target")?.to_string(),
        join: required("join")?.to_string(),
        predicate: match ctx.param("predicate") {
            None => JoinPredicate::Intersects,
            Some(p) => p
                .parse()
                .map_err(|e| ApiError::bad_request(format!("parameter predicate: {e}")))?,
        },
        mode: match ctx.param("mode") {
            None => JoinMode::All,
            Some(m) => m
                .parse()
                .map_err(|e| ApiError::bad_request(format!("parameter mode: {e}")))?,
        },
        fields: ctx.param("fields").map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        }),
        prefix: ctx.param("prefix").map(str::to_string),
        discard_nonmatching: ctx
            .param("discard_nonmatching")
            .map(|v| query::bool_param("discard_nonmatching", v))
            .transpose()?
            .unwrap_or(false),
    };
    if repr == Repr::Csv && ctx.param("crs").is_some() {
        return Err(ApiError::bad_request(
            "parameter crs: the CSV table has no coordinates (crs applies to GeoJSON)",
        ));
    }
    let out_crs = query::crs_param_or_crs84("crs", ctx.param("crs"), &state.catalog().working_crs)?;
    let worker = state.clone();
    worker
        .run_blocking(move || {
            let catalog = state.catalog();
            let result = analysis::join_document(catalog, &request)?;
            Ok(match repr {
                Repr::Csv => {
                    let mut out = Vec::new();
                    analysis::write_join_csv(&mut out, &result);
                    respond::csv(out, "join.csv")
                }
                _ => respond::geojson(
                    analysis::join_geojson(catalog, state.geometries(), &result, &out_crs)?,
                    &out_crs,
                ),
            })
        })
        .await
}

/// The OpenAPI path item of `/analysis/join`.
pub(super) fn openapi_paths() -> Vec<(String, Json)> {
    let q = openapi_query;
    let mut target = q(
        "target",
        "The layer whose features get the properties (e.g. projects).",
        json!({"type": "string"}),
    );
    target["required"] = json!(true);
    let mut join = q(
        "join",
        "The layer the properties come from (e.g. municipalities).",
        json!({"type": "string"}),
    );
    join["required"] = json!(true);
    let problem = |what: &str| json!({"description": what, "content": {"application/problem+json": {"schema": {"type": "object"}}}});
    vec![(
        "/analysis/join".to_string(),
        json!({"get": {
        "summary": "Join attributes by location: each feature of target with the properties of the features of join it meets (one row per match with mode=all). GeoJSON: the target's features with their own properties and the joined ones (prefixed), foreign members target, join, predicate, mode, joined_fields, matched, unmatched; CSV: the same table without geometry.",
        "operationId": "analysis_join", "tags": ["analysis"],
        "parameters": [
            target, join,
            q("predicate", "How a target feature meets a join feature: intersects (they share a point), within (the target lies inside it), contains (the target contains it).", json!({"type": "string", "enum": ["intersects", "within", "contains"], "default": "intersects"})),
            q("mode", "With several matches: all (a row each), first (in the join layer's order), largest (largest overlap: area for polygons, length for lines).", json!({"type": "string", "enum": ["all", "first", "largest"], "default": "all"})),
            q("fields", "The join layer's properties to copy, comma separated (default all).", json!({"type": "array", "items": {"type": "string"}})),
            q("prefix", "Prefix of the joined properties' names (default the join layer's id and _).", json!({"type": "string"})),
            q("discard_nonmatching", "Leave out the target features that match nothing.", json!({"type": "boolean", "default": false})),
            {"$ref": "#/components/parameters/crs"},
            q("f", "json or geojson (GeoJSON, the default), or csv.", json!({"type": "string", "enum": ["json", "geojson", "csv"]})),
        ],
        "responses": {
            "200": {"description": "the joined table", "content": {
                GEOJSON: {"schema": {"type": "object"}},
                CSV: {"schema": {"type": "string"}}}},
            "400": problem("a missing, malformed, unknown or repeated parameter, an unknown property in fields"),
            "404": problem("an unknown layer"),
        }}}),
    )]
}
