//! The history of a feature of an editable layer: every change, who made it and when, with
//! the feature before and after (`/collections/{id}/items/{fid}/history`, JSON and HTML).
//!
//! Read from the store ([`crate::edit::store::history`]) through a read-only connection of
//! its own, on the pool of blocking work. A deleted feature keeps its history.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value as Json};

use super::http::param::{Param, Schema};
use super::http::respond::{self, self_links, urlencode_segment};
use super::http::{html, ApiError, AppState, Ctx, Live, Repr};
use crate::crs::OutputCrs;
use crate::edit::store::{self, HistoryQuery, Recorded, State as FeatureState};
use crate::feature::{Feature, FeatureId, Field};
use crate::geojson_io::write;

pub fn routes() -> Router<Live> {
    Router::new().route("/collections/{id}/items/{fid}/history", get(history))
}

const REPRS: [Repr; 2] = [Repr::Json, Repr::Html];

const PARAMS: [Param; 3] = [
    Param::format(&REPRS),
    Param::new(
        "limit",
        Schema::Integer {
            minimum: 1,
            maximum: Some(10_000),
            default: Some(1_000),
        },
        "The number of changes per answer, oldest first.",
    ),
    Param::new(
        "offset",
        Schema::Integer {
            minimum: 0,
            maximum: None,
            default: Some(0),
        },
        "The number of changes skipped.",
    ),
];

async fn history(
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&PARAMS)?;
    let repr = ctx.negotiate(&REPRS)?;
    let (_, layer) = state.layer(&id)?;
    let Some(editor) = state.editor().filter(|_| layer.config.is_editable()) else {
        return Err(ApiError::not_found(format!(
            "collection {id} has no history: it is not edited on this server"
        )));
    };
    let limit = match ctx.param("limit") {
        Some(v) => super::http::query::usize_param("limit", v)?.clamp(1, 10_000),
        None => 1_000,
    };
    let offset = match ctx.param("offset") {
        Some(v) => super::http::query::usize_param("offset", v)?,
        None => 0,
    };
    // The id as the layer has it; a deleted feature's id is read as text, or as an integer
    // when the layer's ids are integers.
    let feature = match crate::analysis::subject::find_feature(layer, &fid) {
        Some(f) => f.id.clone(),
        None => match (fid.parse::<i64>(), layer.features.first().map(|f| &f.id)) {
            (Ok(n), Some(FeatureId::Int(_))) => FeatureId::Int(n),
            _ => FeatureId::Str(fid.as_str().into()),
        },
    };
    let at = editor.store_at().clone();
    let fields = layer.fields.clone();
    let working = state.catalog().working_crs.clone();
    let query = HistoryQuery {
        layer: id.clone(),
        feature: Some(feature),
        limit,
        offset,
        ..HistoryQuery::default()
    };
    let (changes, total) = state
        .run_blocking(move || store::history(&at, &fields, &query).map_err(ApiError::store))
        .await?;
    if total == 0 {
        return Err(ApiError::not_found(format!(
            "collection {id} has no feature {fid:?}, now or in its history"
        )));
    }
    let path = format!(
        "/collections/{id}/items/{}/history",
        urlencode_segment(&fid)
    );
    let mut links = self_links(&ctx, &path, repr, &REPRS, "history");
    links.push(respond::link(
        ctx.url(&format!(
            "/collections/{id}/items/{}",
            urlencode_segment(&fid)
        )),
        "about",
        "application/geo+json",
        "the feature now",
    ));
    let entries: Vec<Json> = changes
        .iter()
        .map(|r| change_json(r, &layer.fields, &working))
        .collect::<Result<_, _>>()?;
    let body = json!({
        "collection": id,
        "feature": fid,
        "numberMatched": total,
        "numberReturned": entries.len(),
        "changes": entries,
        "links": links,
    });
    Ok(match repr {
        Repr::Html => html::page(
            &ctx,
            &format!("History of {fid} ({})", layer.config.title),
            &history_html(&changes, &layer.fields),
        ),
        _ => respond::json(&body, repr.media_type()),
    })
}

/// The properties that differ between two states (all of one when the other is missing).
fn changed_fields<'a>(r: &Recorded, fields: &'a [Field]) -> Vec<&'a str> {
    let (before, after) = (&r.change.before, &r.change.after);
    fields
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            let b = before.as_ref().map(|s| &s.values[*i]);
            let a = after.as_ref().map(|s| &s.values[*i]);
            b != a
        })
        .map(|(_, f)| f.name.as_str())
        .collect()
}

fn state_json(state: &FeatureState, fields: &[Field], working: &str) -> Result<Json, ApiError> {
    let properties: Map<String, Json> = fields
        .iter()
        .zip(&state.values)
        .map(|(f, v)| (f.name.clone(), v.to_json()))
        .collect();
    let feature = Feature {
        id: FeatureId::Int(0),
        geometry: state.geometry.clone(),
        values: Box::default(),
        invalid: None,
    };
    let mut geometry = Vec::new();
    write::write_geometry_in(&mut geometry, &feature, working, &OutputCrs::crs84())?;
    let geometry: Json = serde_json::from_slice(&geometry).map_err(ApiError::internal)?;
    Ok(json!({"properties": properties, "geometry": geometry}))
}

fn change_json(r: &Recorded, fields: &[Field], working: &str) -> Result<Json, ApiError> {
    let c = &r.change;
    let moved = match (&c.before, &c.after) {
        (Some(b), Some(a)) => b.geometry != a.geometry,
        _ => true,
    };
    let side = |s: &Option<FeatureState>| -> Result<Json, ApiError> {
        match s {
            Some(s) => state_json(s, fields, working),
            None => Ok(Json::Null),
        }
    };
    Ok(json!({
        "seq": r.seq,
        "at": c.at,
        "user": c.user,
        "operation": c.operation.name(),
        "changed": changed_fields(r, fields),
        "geometryChanged": moved,
        "before": side(&c.before)?,
        "after": side(&c.after)?,
    }))
}

fn history_html(changes: &[Recorded], fields: &[Field]) -> String {
    let mut out = String::from(
        "<table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Changes</th></tr></thead><tbody>",
    );
    for r in changes {
        let c = &r.change;
        let mut what = Vec::new();
        for name in changed_fields(r, fields) {
            let i = fields.iter().position(|f| f.name == name).unwrap_or(0);
            let show = |s: &Option<FeatureState>| {
                s.as_ref()
                    .map(|s| s.values[i].to_string())
                    .unwrap_or_else(|| "—".into())
            };
            what.push(format!(
                "{}: {} → {}",
                html::esc(name),
                html::esc(&show(&c.before)),
                html::esc(&show(&c.after))
            ));
        }
        if let (Some(b), Some(a)) = (&c.before, &c.after) {
            if b.geometry != a.geometry {
                what.push("geometry moved".into());
            }
        }
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html::esc(&c.at),
            html::esc(&c.user),
            html::esc(c.operation.name()),
            what.join("<br>")
        ));
    }
    out.push_str("</tbody></table>");
    out
}
