//! `/indicators/monitoring` and `/indicators/monitoring/series`: the monitoring of the pact's
//! projects at one instant, and month by month since the first change of their history.
//!
//! - `/indicators/monitoring` (JSON, CSV, HTML; `at`): per axis, emblematic action and AQST
//!   programme, and in total, the projects by status, mean and budget-weighted progress,
//!   budget, committed and spent; and the late projects, judged on the instant's date
//!   ([`crate::ptcp::indicators::monitoring`]). Without `at`, now (the served projects, judged
//!   today);
//! - `/indicators/monitoring/series` (JSON, CSV, HTML): the same at the end of each month,
//!   from the month of the projects' first change to the current one (whose point is now),
//!   one series per group: what a chart of the projects over time reads.
//!
//! Both need the projects' history, which only a server with a data folder keeps (the
//! projects layer must take edits): elsewhere they are a 404 saying so. The states are
//! replayed from the store ([`crate::edit::timeline`]) on the blocking pool, each time; the
//! answers are small (tens of groups, a few years of months).

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value as Json};

use super::http::html::{self, esc};
use super::http::negotiate::{CSV, HTML, JSON};
use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::past;
use super::http::respond::{self, link};
use super::http::{ApiError, AppState, Ctx, Live, Repr};
use crate::edit::timeline;
use crate::feature::Field;
use crate::present::monitoring as documents;
use crate::present::thousands;
use crate::ptcp::indicators::monitoring::{self, Moment, Monitoring, Series, Totals};
use crate::ptcp::{Role, RoleLayers};
use crate::time;

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/indicators/monitoring", get(at_instant))
        .route("/indicators/monitoring/series", get(series))
}

/// The representations of both resources.
const REPRS: [Repr; 3] = [Repr::Json, Repr::Csv, Repr::Html];

static ONE_PARAMS: [Param; 2] = [
    Param::new(
        "f",
        Schema::Format(&REPRS),
        "json (the default), csv (long format: group, key, measure, value), or html.",
    ),
    past::AT,
];

static SERIES_PARAMS: [Param; 1] = [Param::new(
    "f",
    Schema::Format(&REPRS),
    "json (the default), csv (long format: month, group, key, measure, value), or html.",
)];

/// Where the projects' history is: the layer's id and fields, and the data folder. A 404 when
/// the server keeps none.
struct History {
    layer: String,
    fields: Vec<Field>,
    dir: crate::edit::store::StoreAt,
}

fn history(state: &AppState) -> Result<History, ApiError> {
    let Some(editor) = state.editor() else {
        return Err(ApiError::not_found(
            "the monitoring follows the projects through their history, and this server keeps \
             none: it was started without a data folder (territorio serve --data-dir)",
        ));
    };
    let roles = RoleLayers::new(state.catalog())?;
    let projects = roles.require(Role::Projects)?.layer;
    if !projects.config.is_editable() {
        return Err(ApiError::not_found(format!(
            "layer {:?} plays the projects but takes no edits, so the server keeps no history \
             of it (give it [layer.edit] in the catalogue)",
            projects.id()
        )));
    }
    Ok(History {
        layer: projects.id().to_string(),
        fields: projects.fields.clone(),
        dir: editor.store_at().clone(),
    })
}

/// A store that cannot be read: ours, logged.
fn store_error(e: crate::edit::store::StoreError) -> ApiError {
    ApiError::store(e)
}

async fn at_instant(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&ONE_PARAMS)?;
    let repr = ctx.negotiate(&REPRS)?;
    let history = history(&state)?;
    let at = past::instant(&state, &ctx)?;
    let worker = state.clone();
    worker
        .run_blocking(move || {
            let (m, when) = match at {
                Some(at) => {
                    let features =
                        timeline::features_at(&history.dir, &history.layer, &history.fields, at)
                            .map_err(store_error)?;
                    let when = time::rfc3339(at);
                    let m = monitoring::monitoring(
                        &state.catalog().config.roles,
                        &history.fields,
                        &features,
                        &when[..10],
                    )?;
                    (m, when)
                }
                None => {
                    let when = time::rfc3339(time::now_seconds());
                    (
                        monitoring::monitoring_of(state.catalog(), &when[..10])?,
                        when,
                    )
                }
            };
            let given = at.map(|_| when.as_str());
            match repr {
                Repr::Csv => Ok(respond::csv(documents::csv(&m), "monitoring.csv")),
                Repr::Html => Ok(monitoring_page(&ctx, &m, &when, given)),
                _ => {
                    let mut body = Map::new();
                    body.insert("links".into(), json!(one_links(&ctx, given)));
                    body.insert("at".into(), json!(when));
                    let document = serde_json::to_value(&m).map_err(ApiError::internal)?;
                    if let Json::Object(members) = document {
                        body.extend(members);
                    }
                    Ok(respond::json(&Json::Object(body), JSON))
                }
            }
        })
        .await
}

async fn series(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&SERIES_PARAMS)?;
    let repr = ctx.negotiate(&REPRS)?;
    let history = history(&state)?;
    let worker = state.clone();
    worker
        .run_blocking(move || {
            let now = time::now_seconds();
            let first = timeline::first_change(&history.dir, &history.layer)
                .map_err(store_error)?
                .unwrap_or(now)
                .min(now);
            let months = time::month_ends(first, now);
            let instants: Vec<i64> = months.iter().map(|(_, end)| *end).collect();
            let states =
                timeline::states_at(&history.dir, &history.layer, &history.fields, &instants)
                    .map_err(store_error)?;
            let ats: Vec<String> = instants.iter().map(|t| time::rfc3339(*t)).collect();
            let moments: Vec<Moment> = months
                .iter()
                .zip(&ats)
                .zip(&states)
                .map(|(((month, _), at), features)| Moment {
                    month,
                    at,
                    today: &at[..10],
                    features,
                })
                .collect();
            let s = monitoring::series(&state.catalog().config.roles, &history.fields, &moments)?;
            match repr {
                Repr::Csv => Ok(respond::csv(
                    documents::series_csv(&s),
                    "monitoring-series.csv",
                )),
                Repr::Html => Ok(series_page(&ctx, &s)),
                _ => {
                    let mut body = Map::new();
                    body.insert("links".into(), json!(series_links(&ctx)));
                    let document = serde_json::to_value(&s).map_err(ApiError::internal)?;
                    if let Json::Object(members) = document {
                        body.extend(members);
                    }
                    Ok(respond::json(&Json::Object(body), JSON))
                }
            }
        })
        .await
}

/// The links of `/indicators/monitoring`, at `at` when it was asked for.
fn one_links(ctx: &Ctx, at: Option<&str>) -> Vec<Json> {
    let at_query = at.map(|t| format!("&at={t}")).unwrap_or_default();
    let url = |f: &str| ctx.url(&format!("/indicators/monitoring?f={f}{at_query}"));
    vec![
        link(url("json"), "self", JSON, "the monitoring (this document)"),
        link(url("html"), "alternate", HTML, "the monitoring as HTML"),
        link(
            url("csv"),
            "alternate",
            CSV,
            "every value, one row each (group, key, measure, value)",
        ),
        link(
            ctx.url("/indicators/monitoring/series"),
            "related",
            JSON,
            "the monitoring month by month",
        ),
    ]
}

fn series_links(ctx: &Ctx) -> Vec<Json> {
    let url = |f: &str| ctx.url(&format!("/indicators/monitoring/series?f={f}"));
    vec![
        link(
            url("json"),
            "self",
            JSON,
            "the monitoring month by month (this document)",
        ),
        link(
            url("html"),
            "alternate",
            HTML,
            "the monitoring month by month as HTML",
        ),
        link(
            url("csv"),
            "alternate",
            CSV,
            "every value, one row each (month, group, key, measure, value)",
        ),
        link(
            ctx.url("/indicators/monitoring"),
            "related",
            JSON,
            "the monitoring now",
        ),
    ]
}

fn percent(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.1}%"))
        .unwrap_or_else(|| "n/a".into())
}

/// The cells of a set of projects: projects, statuses, progress, amounts, late.
fn cells(t: &Totals) -> String {
    let statuses: Vec<String> = t
        .by_status
        .iter()
        .map(|(s, n)| {
            let s = if s.is_empty() { "(none)" } else { s };
            format!("{} {n}", esc(s))
        })
        .collect();
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        t.projects,
        statuses.join(", "),
        percent(t.progress_mean_pct),
        percent(t.progress_weighted_pct),
        thousands(t.budget_eur),
        thousands(t.committed_eur),
        thousands(t.spent_eur),
        t.late
    )
}

const HEAD: &str = "<th>Projects</th><th>By status</th><th>Mean progress</th>\
                    <th>Weighted progress</th><th>Budget (EUR)</th><th>Committed (EUR)</th>\
                    <th>Spent (EUR)</th><th>Late</th>";

fn link_list(links: &[Json]) -> String {
    let mut s = String::from("<ul>");
    for l in links.iter().skip(1) {
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>({})</small></li>",
            esc(l["href"].as_str().unwrap_or("")),
            esc(l["title"].as_str().unwrap_or("")),
            esc(l["type"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</ul>");
    s
}

fn monitoring_page(ctx: &Ctx, m: &Monitoring, when: &str, at: Option<&str>) -> Response {
    let mut s = format!(
        "<p>The projects as they stood at {} (UTC); lateness judged on {}.</p>",
        esc(when),
        esc(&m.today)
    );
    s.push_str(&link_list(&one_links(ctx, at)));
    s.push_str(&format!(
        "<h2>All projects</h2><table><tr>{HEAD}</tr><tr>{}</tr></table>",
        cells(&m.total)
    ));
    s.push_str(&format!(
        "<h2>By group</h2><table><tr><th>Group</th><th>Key</th>{HEAD}</tr>"
    ));
    for g in &m.groups {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td>{}</tr>",
            esc(g.group),
            esc(&g.key),
            cells(&g.totals)
        ));
    }
    s.push_str("</table><h2>Late projects</h2>");
    if m.late.is_empty() {
        s.push_str("<p>none</p>");
    } else {
        s.push_str(
            "<table><tr><th>Project</th><th>Title</th><th>Planned end</th><th>Status</th>\
             <th>Progress</th><th>Days late</th></tr>",
        );
        for l in &m.late {
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&l.id),
                esc(l.title.as_deref().unwrap_or("")),
                esc(&l.end_date),
                esc(l.status.as_deref().unwrap_or("")),
                percent(l.progress_pct),
                l.days_late
            ));
        }
        s.push_str("</table>");
    }
    html::page(ctx, &format!("Monitoring of the projects at {when}"), &s)
}

fn series_page(ctx: &Ctx, s: &Series) -> Response {
    let mut out = link_list(&series_links(ctx));
    out.push_str(&format!(
        "<h2>All projects, month by month</h2><table><tr><th>Month</th>{HEAD}</tr>"
    ));
    for p in &s.total {
        out.push_str(&format!(
            "<tr><td>{}</td>{}</tr>",
            esc(&p.month),
            cells(&p.totals)
        ));
    }
    out.push_str("</table>");
    html::page(ctx, "Monitoring of the projects, month by month", &out)
}

/// The JSON schema of a set of projects' figures (flat, as the groups and points carry them).
fn totals_properties() -> Map<String, Json> {
    let number = json!({"type": "number"});
    let nullable = json!({"type": "number", "nullable": true});
    let count = json!({"type": "integer", "minimum": 0});
    let mut p = Map::new();
    p.insert("projects".into(), count.clone());
    p.insert(
        "by_status".into(),
        json!({"type": "object", "additionalProperties": count.clone(),
               "description": "Projects per status (\"\" for those without one)."}),
    );
    p.insert("progress_mean_pct".into(), nullable.clone());
    p.insert("progress_weighted_pct".into(), nullable);
    p.insert("budget_eur".into(), number.clone());
    p.insert("committed_eur".into(), number.clone());
    p.insert("spent_eur".into(), number);
    p.insert("late".into(), count);
    p
}

const TOTALS_REQUIRED: [&str; 8] = [
    "projects",
    "by_status",
    "progress_mean_pct",
    "progress_weighted_pct",
    "budget_eur",
    "committed_eur",
    "spent_eur",
    "late",
];

fn with(mut props: Map<String, Json>, extra: &[(&str, Json)], required: &[&str]) -> Json {
    for (k, v) in extra {
        props.insert(k.to_string(), v.clone());
    }
    let mut req: Vec<&str> = required.to_vec();
    req.extend(TOTALS_REQUIRED);
    json!({"type": "object", "required": req, "properties": props})
}

fn late_schema() -> Json {
    json!({"type": "array", "items": {
        "type": "object",
        "required": ["id", "title", "end_date", "status", "progress_pct", "days_late"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string", "nullable": true},
            "end_date": {"type": "string"},
            "status": {"type": "string", "nullable": true},
            "progress_pct": {"type": "number", "nullable": true},
            "days_late": {"type": "integer", "minimum": 1},
        },
    }})
}

/// The OpenAPI path items of the monitoring (on a server that keeps the history of edits).
pub(super) fn openapi_paths(scope: Scope) -> Vec<(String, Json)> {
    let text = json!({"type": "string"});
    let group_kind =
        json!({"type": "string", "enum": ["axis", "emblematic_action", "aqst_programme"]});
    let one_schema = json!({
        "type": "object",
        "required": ["links", "at", "today", "total", "groups", "late"],
        "properties": {
            "links": oas::schema_ref("Links"),
            "at": {"type": "string", "format": "date-time",
                   "description": "The instant the projects are taken at, in UTC."},
            "today": {"type": "string", "format": "date",
                      "description": "The date lateness is judged on: the instant's (UTC)."},
            "total": with(totals_properties(), &[], &[]),
            "groups": {"type": "array", "items": with(
                totals_properties(),
                &[("group", group_kind.clone()), ("key", text.clone())],
                &["group", "key"],
            )},
            "late": late_schema(),
        },
    });
    let point = with(
        totals_properties(),
        &[
            (
                "month",
                json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
            ),
            ("at", json!({"type": "string", "format": "date-time"})),
        ],
        &["month", "at"],
    );
    let series_schema = json!({
        "type": "object",
        "required": ["links", "months", "groups", "total", "late_now"],
        "properties": {
            "links": oas::schema_ref("Links"),
            "months": {"type": "array", "items": {"type": "string"}},
            "groups": {"type": "array", "items": {
                "type": "object",
                "required": ["group", "key", "series"],
                "properties": {
                    "group": group_kind,
                    "key": text,
                    "series": {"type": "array", "items": point.clone()},
                },
            }},
            "total": {"type": "array", "items": point},
            "late_now": late_schema(),
        },
    });
    let not_found =
        "a catalogue whose projects take no edits, or without a layer playing the projects";
    let one = oas::Get {
        id: "getMonitoring",
        summary: "The monitoring of the development-pact projects at one instant",
        description: Some("Per strategic axis, emblematic action and AQST programme, and in total: the projects by status, their mean and budget-weighted progress, budget, amounts committed and spent, and the projects late against their planned end date (judged on the instant's date). Now by default; with at, as the projects stood then, replayed from their history. CSV is long format: group (total, axis, emblematic_action, aqst_programme, late), key, measure, value. An empty value is the same as leaving the parameter out."),
        tags: &["indicators"],
        parameters: ONE_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the monitoring",
            vec![
                oas::media(Repr::Json, one_schema),
                oas::media(Repr::Csv, json!({"type": "string"})),
                oas::html(),
            ],
        ),
        errors: oas::Errors::get(true)
            .with(400, "a malformed, unknown or repeated parameter, or at in the future: the detail names it")
            .with(404, not_found),
    };
    let series = oas::Get {
        id: "getMonitoringSeries",
        summary: "The monitoring of the development-pact projects month by month",
        description: Some("The monitoring at the end of each month, from the month of the projects' first recorded change to the current month (whose point is now): months, then one series per group (every group that has projects in some month, with a point for every month) and the total, and the projects late now. Each point carries month, at (the instant, UTC) and the figures of /indicators/monitoring. CSV is long format: month, group, key, measure, value."),
        tags: &["indicators"],
        parameters: SERIES_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the series",
            vec![
                oas::media(Repr::Json, series_schema),
                oas::media(Repr::Csv, json!({"type": "string"})),
                oas::html(),
            ],
        ),
        errors: oas::Errors::get(true).with(404, not_found),
    };
    vec![
        (
            "/indicators/monitoring".to_string(),
            json!({"get": one.openapi()}),
        ),
        (
            "/indicators/monitoring/series".to_string(),
            json!({"get": series.openapi()}),
        ),
    ]
}
