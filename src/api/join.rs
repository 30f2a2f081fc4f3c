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

use super::http::Live;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::query;
use super::http::respond;
use super::http::{ApiError, AppState, Ctx, Repr};
use crate::analysis::{self, JoinError, JoinMode, JoinPredicate, JoinRequest};

pub fn routes() -> Router<Live> {
    Router::new().route("/analysis/join", get(join))
}

/// The parameters of `/analysis/join`: what the reader accepts and what the API document
/// says.
static PARAMS: [Param; 9] = [
    Param::new(
        "target",
        Schema::Layer,
        "The layer whose features get the properties (e.g. projects).",
    )
    .required(),
    Param::new(
        "join",
        Schema::Layer,
        "The layer the properties come from (e.g. municipalities).",
    )
    .required(),
    Param::new(
        "predicate",
        Schema::Word(&["intersects", "within", "contains"]),
        "How a target feature meets a join feature: intersects (they share a point; the \
         default), within (the target lies inside it), contains (the target contains it).",
    ),
    Param::new(
        "mode",
        Schema::Word(&["all", "first", "largest"]),
        "With several matches: all (a row each; the default), first (in the join layer's \
         order), largest (the largest overlap: area for polygons, length for lines).",
    ),
    Param::new(
        "fields",
        Schema::Properties,
        "The join layer's properties to copy, comma separated (default all).",
    ),
    Param::new(
        "prefix",
        Schema::Text,
        "Prefix of the joined properties' names (default the join layer's id and _).",
    ),
    Param::new(
        "discard_nonmatching",
        Schema::Boolean { default: false },
        "Leave out the target features that match nothing.",
    ),
    Param::new(
        "crs",
        Schema::Crs,
        "The CRS of the GeoJSON geometries (default CRS84). Only with GeoJSON: the CSV table \
         has no coordinates, and crs with it is a 400.",
    ),
    Param::format(&TABLE),
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
    for (param, id) in [("target", &request.target), ("join", &request.join)] {
        if let Some(layer) = state.catalog().layer(id) {
            super::http::subject::refuse_change_log(param, layer)?;
        }
    }
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
pub(super) fn openapi_paths(scope: Scope) -> Vec<(String, Json)> {
    let get = oas::Get {
        id: "analysis_join",
        summary: "Join attributes by location",
        description: Some("Each feature of target with the properties of the features of join it meets (one row per match with mode=all), as QGIS's tool of that name. GeoJSON: the target's features with their own properties and the joined ones (prefixed), foreign members target, join, predicate, mode, joined_fields, matched, unmatched; CSV: the same table without geometry. crs goes only with GeoJSON. An empty value is the same as leaving the parameter out."),
        tags: &["analysis"],
        parameters: PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the joined table",
            vec![
                oas::media(
                    Repr::GeoJson,
                    oas::feature_collection_schema(oas::schema_ref("Feature"), &[]),
                ),
                oas::media(Repr::Csv, json!({"type": "string"})),
            ],
        ),
        errors: oas::Errors::get(true)
            .with(
                400,
                "a missing, malformed, unknown or repeated parameter, an unknown property in fields, or crs with CSV: the detail names it",
            )
            .with(404, "an unknown layer"),
    };
    vec![("/analysis/join".to_string(), json!({"get": get.openapi()}))]
}
