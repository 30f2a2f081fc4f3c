//! Running the server: reload without restart, and health for load balancers. Like `/health`,
//! these are for operators and orchestrators, not part of the OGC API: the OpenAPI document
//! leaves them out.
//!
//! - `POST /admin/reload` (an account with the administration right, `territorio accounts
//!   grant-admin`; `SIGHUP` does the same without one): the catalogue file is loaded again,
//!   completely, and swapped in whole ([`AppState::reload`]); a broken catalogue or file keeps
//!   the served one and the answer says why (422).
//! - `GET /health` (liveness: the process answers; plain text, as cheap as an answer can be).
//! - `GET /health/ready` (readiness): 200 when the catalogue is loaded and, with edits on, the
//!   store takes writes; 503 otherwise. JSON: the catalogue (layers, load time, version), the
//!   edits (on, the store writable), the reloads (how many, the last success, the last error).
//!   With the edits in PostgreSQL (`--edits-db`), an unreachable database leaves the server
//!   `degraded`, still 200: it answers reads from memory (every replica shares the database,
//!   so taking one out of a balancer would not help), and `edits.database` names it.

use axum::extract::{Extension, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::http::auth;
use super::http::middleware::OwnErrorBody;
use super::http::request::ClientAddr;
use super::http::{respond, ApiError, AppState, Ctx, Live};

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/admin/reload", post(reload))
        .route("/health/ready", get(ready))
}

async fn reload(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
) -> Result<Response, ApiError> {
    ctx.query.check(&[])?;
    let user = auth::admin(&state, &headers, client.map(|Extension(c)| c)).await?;
    tracing::info!(%user, "reload asked");
    let catalog = state.reload().await.map_err(|e| {
        ApiError::Unprocessable(format!(
            "the catalogue could not be loaded, and the one served is unchanged: {e}"
        ))
    })?;
    let body = json!({
        "reloaded": true,
        "layers": catalog.layers().iter().map(|l| l.id()).collect::<Vec<_>>(),
        "reloads": state.reload_status().reloads,
    });
    Ok(respond::json(&body, "application/json"))
}

async fn ready(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&[])?;
    let catalog = state.catalog();
    let editor = state.editor();
    let store_ok = editor.is_none_or(|e| e.is_writable());
    // With PostgreSQL, reads go on from memory while the database is away.
    let degraded = !store_ok && editor.is_some_and(|e| e.database().is_some());
    let status = state.reload_status();
    let loaded_at = state
        .loaded_at()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| crate::time::rfc3339(d.as_secs() as i64))
        .unwrap_or_default();
    let body = json!({
        "status": if store_ok { "ready" } else if degraded { "degraded" } else { "not ready" },
        "catalogue": {
            "layers": catalog.layers().len(),
            "loadedAt": loaded_at,
            "version": catalog.version,
        },
        "edits": {
            "on": editor.is_some(),
            "storeWritable": editor.map(|e| e.is_writable()),
            "database": editor.and_then(|e| e.database()).map(|place| json!({
                "name": place,
                "reachable": store_ok,
            })),
        },
        "reloads": {
            "done": status.reloads,
            "failed": status.failures,
            "lastOk": status.last_ok,
            "lastError": status.last_error.as_ref().map(|(at, why)| json!({"at": at, "error": why})),
        },
    });
    let mut answer = respond::json(&body, "application/json");
    if !store_ok && !degraded {
        *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        answer.extensions_mut().insert(OwnErrorBody);
    }
    answer
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(answer)
}
