//! The HTTP API: OGC API - Features (Parts 1, 2 and 3) over an immutable [`Catalog`], the
//! analysis endpoints (`/analysis/...`), project site reports and the monitoring indicators.
//!
//! [`app`] builds the axum router from an [`AppState`], so tests drive it with
//! `tower::ServiceExt::oneshot`; [`serve`] binds it to an address with graceful shutdown.
//! Everything below this module is HTTP-free: handlers parse parameters, call the store, the
//! filter and the analysis functions on blocking threads, and write the answer.
//!
//! Cross-cutting behaviour, outermost first: plain `OPTIONS`, request tracing, CORS,
//! compression (gzip, br), a layer that turns every non-problem error answer (unknown route,
//! wrong method, time limit, body too large) into `application/problem+json`, the per-request
//! time limit, and conditional GET (weak `ETag` + `If-None-Match` -> 304) with a configurable
//! `Cache-Control`.

mod analysis;
mod error;
mod format;
mod html;
pub mod indicators;
mod items;
mod map;
mod middleware;
mod ogc;
mod openapi;
mod output;
mod params;
mod projects;
mod styles;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderValue, Method};
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::store::Catalog;

pub use error::{ApiError, PROBLEM_JSON};
pub use map::{check_basemap_url, check_web_dir, default_web_dir};
pub use output::GeometryCache;

/// The largest page a client may ask for; larger `limit`s are clamped (declared in the
/// OpenAPI document, as QGIS and GDAL read it there).
pub const MAX_LIMIT: usize = 10_000;
/// The page size when a client gives no `limit`.
pub const DEFAULT_LIMIT: usize = 100;

/// How the server behaves; every field has a command-line option in `territorio serve`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The base URL of links in responses (`https://gis.example.org/territorio`), for
    /// deployments behind a proxy. Without it, links use the request's `Host`.
    pub public_url: Option<String>,
    /// Origins allowed by CORS; empty means any origin (`*`).
    pub cors_origins: Vec<String>,
    /// The `Cache-Control` header of successful GET answers.
    pub cache_control: String,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout: Duration,
    /// The folder of the web map served at `/map/` (the repository's `web/`); `None`: no map.
    pub web_dir: Option<PathBuf>,
    /// A raster tile URL template (`https://.../{z}/{x}/{y}.png`) for the map's basemap;
    /// without one the map draws the layers on a plain background.
    pub basemap_url: Option<String>,
    /// The attribution shown for the basemap.
    pub basemap_attribution: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: None,
            cors_origins: Vec::new(),
            cache_control: "public, max-age=60".into(),
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            web_dir: None,
            basemap_url: None,
            basemap_attribution: None,
        }
    }
}

/// What every handler shares: the catalogue, caches derived from it, the configuration.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: Arc<Catalog>,
    config: ServerConfig,
    geometries: GeometryCache,
    /// Distinguishes this catalogue from one loaded before (part of every ETag).
    generation: u64,
    /// The monitoring indicators, computed on first use.
    indicators: indicators::Cache,
    loaded_at: SystemTime,
    /// Geometry work runs on blocking threads, at most one job per core at a time: queued
    /// requests wait in order instead of time-slicing each other into long tails.
    workers: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(catalog: Arc<Catalog>, config: ServerConfig) -> AppState {
        let loaded_at = SystemTime::now();
        let generation = loaded_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        AppState {
            inner: Arc::new(Inner {
                geometries: GeometryCache::new(&catalog),
                catalog,
                config,
                generation,
                loaded_at,
                indicators: indicators::Cache::new(),
                workers: Arc::new(tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                )),
            }),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub fn catalog_arc(&self) -> Arc<Catalog> {
        self.inner.catalog.clone()
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub fn geometries(&self) -> &GeometryCache {
        &self.inner.geometries
    }

    pub fn generation(&self) -> u64 {
        self.inner.generation
    }

    pub fn loaded_at(&self) -> SystemTime {
        self.inner.loaded_at
    }

    /// The indicators of the catalogue, once computed ([`indicators::computed`] fills it).
    pub fn indicator_cache(&self) -> &indicators::Cache {
        &self.inner.indicators
    }

    /// Runs CPU-bound work (selection, geometry, serialisation) off the async workers, one job
    /// per core at a time.
    pub async fn run_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .inner
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))?;
        tokio::task::spawn_blocking(job).await?
    }
}

/// The whole router with its middleware.
pub fn app(state: AppState) -> Router {
    let config = state.config().clone();
    let cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
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
    Router::new()
        .merge(ogc::routes())
        .merge(analysis::routes())
        .merge(projects::routes())
        .merge(indicators::routes())
        .merge(styles::routes())
        .merge(map::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::conditional_get,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        // Outside the time limit, so that its 503 becomes a problem document too.
        .layer(axum::middleware::from_fn(middleware::problem_for_errors))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(middleware::options_allow))
}

/// Serves `catalog` on `addr` until SIGINT or SIGTERM, then finishes the requests in flight.
/// `ready` is called with the bound address (useful with port 0).
pub async fn serve(
    catalog: Arc<Catalog>,
    config: ServerConfig,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let router = app(AppState::new(catalog, config));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
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
