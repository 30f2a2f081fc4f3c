//! The HTTP API: OGC API - Features (Parts 1 to 5: editable layers take writes) over
//! snapshots of the [`Catalog`](crate::store::Catalog) (each request answers from one; an edit or a reload publishes
//! the next), the analysis endpoints (`/analysis/...`), site reports, the monitoring
//! indicators, styles and the web map.
//!
//! Two levels:
//! - [`http`], the layer every resource stands on: the shared state and its blocking pool, the
//!   request context, one strict parameter reader, one content negotiation, one way to answer
//!   JSON / GeoJSON (with `Content-Crs`) / HTML / CSV, the subject of analyses, `ApiError`
//!   with `From` impls for the errors below, and the middleware;
//! - the resources, one module each, importing [`http`] and never each other: `collections`
//!   (collections, queryables, schemas), `items`, `analysis` (nearest, within, overlay,
//!   locate), `join` (`/analysis/join`), `reports` (site reports: `/projects/{id}/report`, `/analysis/report`),
//!   `indicators`, `monitoring` (`/indicators/monitoring`, and its monthly series), `styles`,
//!   `map`, `edits` (Part 4 writes of editable layers), `history` (a feature's changes),
//!   `admin` (reload, readiness).
//!
//! Only the router ([`app`]), the landing page (`landing`, with conformance and `/api`) and
//! the OpenAPI document (`openapi`) know every resource. Everything below this module is
//! HTTP-free: handlers read parameters, call the store, the filter and the analysis, and write
//! the answer (`tests/architecture.rs` checks all of this on the source).
//!
//! The router's state is [`http::Live`]: each handler's `State<AppState>` is the snapshot
//! current when it starts. Edits ([`crate::edit::Editor`]) and reloads ([`AppState::reload`],
//! SIGHUP, `POST /admin/reload`) publish new snapshots.
//!
//! [`app`] builds the service (router and middleware) from an [`AppState`], so tests drive it
//! with `tower::ServiceExt::oneshot`; [`serve`] binds it to an address with graceful shutdown.
//!
//! Cross-cutting behaviour, outermost first: plain `OPTIONS` (answered with the methods the
//! route takes), request tracing, CORS, compression (gzip, br), the security headers
//! (`Content-Security-Policy` on HTML pages, `X-Content-Type-Options: nosniff`), a layer that turns every
//! non-problem error answer (unknown route, wrong method, time limit, body too large) into
//! `application/problem+json`, the per-request time limit, and conditional GET (weak `ETag` +
//! `If-None-Match` -> 304) with a configurable `Cache-Control`.

pub mod http;

mod conn;

mod admin;
mod analysis;
mod collections;
mod edits;
mod history;
pub mod indicators;
mod items;
mod join;
mod landing;
mod map;
mod monitoring;
mod openapi;
mod reports;
mod styles;
mod tiles;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::http::{HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use http::{ApiError, PROBLEM_JSON};
pub use http::{AppState, ServerConfig, DEFAULT_LIMIT, MAX_LIMIT};
pub use map::{check_basemap_url, check_web_dir, default_web_dir};

/// The whole service: the router and its middleware, as one cloneable service of requests
/// (drive it in tests with `tower::ServiceExt::oneshot`).
pub type App = tower::util::BoxCloneSyncService<axum::extract::Request, Response, Infallible>;

/// The router with its middleware.
///
/// The middleware wraps the finished router once, outermost first as listed in the module
/// documentation. (`Router::layer` would wrap every route instead, and each level of such
/// wrapping copies the routes inside it on every request.)
pub fn app(state: AppState) -> App {
    let config = state.config().clone();
    let cors = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .expose_headers(Any);
    let cors = if config.cors_origins.is_empty() {
        cors.allow_origin(Any)
    } else {
        let origins: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        cors.allow_origin(AllowOrigin::list(origins))
    };
    let routes = Router::new()
        .merge(landing::routes())
        .merge(admin::routes())
        .merge(collections::routes())
        .merge(items::routes())
        .merge(tiles::routes())
        .merge(edits::routes())
        .merge(history::routes())
        .merge(join::routes())
        .merge(analysis::routes())
        .merge(reports::routes())
        .merge(indicators::routes())
        .merge(monitoring::routes())
        .merge(styles::routes())
        .merge(map::routes())
        .with_state(state.live());
    let routes = items::known_layer_routes(&state, routes);
    let service = ServiceBuilder::new()
        .layer(http::middleware::OptionsAllowLayer)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(cors)
        .layer(CompressionLayer::new().compress_when(http::middleware::Compressible))
        .layer(http::middleware::SecurityHeadersLayer::new(&config))
        // Outside the time limit, so that its 503 becomes a problem document too.
        .layer(http::middleware::ProblemLayer)
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .layer(http::middleware::ConditionalGetLayer::new(state))
        .service(routes);
    App::new(service)
}

/// Serves `state` (a catalogue, and edits when it has them on) on `addr` until SIGINT or SIGTERM, then finishes the requests in flight.
/// `ready` is called with the bound address (useful with port 0).
///
/// The accept loop is the service's own, for the limits a public server needs against slow or
/// hostile clients, each cut off without holding up the others:
/// - a request's headers must arrive within [`ServerConfig::header_timeout`] of the server
///   starting to wait for them, so an idle keep-alive connection is closed after it too; a
///   connection on which nothing comes for [`ServerConfig::idle_timeout`] while the server
///   reads (a request body that stops) is closed;
/// - an answer the client does not read for [`ServerConfig::write_timeout`] ends the
///   connection;
/// - at most [`ServerConfig::max_connections`] connections at once; one more is closed at once.
///
/// A body that never ends is cut by the per-request time limit of the middleware.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let limits = conn::Limits::of(state.config());
    reload_on_hangup(state.clone());
    let app = app(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    conn::accept_loop(listener, app, limits, shutdown_signal()).await;
    Ok(())
}

/// `SIGHUP` reloads the catalogue ([`AppState::reload`]), as daemons do.
fn reload_on_hangup(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("cannot listen for SIGHUP (no reload on it): {e}");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the catalogue");
            // The outcome is logged and kept for /health/ready by the reload itself.
            let _ = state.reload().await;
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
