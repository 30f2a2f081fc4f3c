//! What every handler shares: the catalogue, caches derived from it, the configuration, and
//! the bounded pool that runs geometry work off the async workers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use super::error::ApiError;
use super::files::file_within;
use crate::analysis::Region;
use crate::geojson_io::GeometryCache;
use crate::present::DocumentError;
use crate::ptcp::Indicators;
use crate::store::{Catalog, Layer};

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
    /// Threads of geometry work at once (selections, pages, analyses); default: one per core.
    pub workers: usize,
    /// Jobs allowed to wait for those threads; one more is answered 503 with `Retry-After`
    /// at once, instead of waiting behind a queue it would time out in.
    pub max_queued: usize,
    /// The nice value of the threads of geometry work (0 to 19; 0: the server's own
    /// priority). See [`AppState::run_blocking`].
    pub worker_nice: i32,
    /// Time for a request's headers to arrive, from when the server waits for them (a new
    /// connection, or a keep-alive one after its last answer): also the keep-alive idle time.
    pub header_timeout: Duration,
    /// Time a read (a request body) may wait for its next byte.
    pub idle_timeout: Duration,
    /// Time an answer may wait for the client to read it.
    pub write_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// The bound of the vector tile cache, in bytes (0: no cache).
    pub tile_cache_bytes: usize,
    /// The bound of the cache of CRS84 geometry texts, in bytes (0: no cache; see
    /// [`GeometryCache`]).
    pub geometry_cache_bytes: usize,
}

/// The default bound of the cache of CRS84 geometry texts: every geometry of the 100k-zone
/// benchmark layer (about 63 MB), a fifth of a million zones'.
pub const DEFAULT_GEOMETRY_CACHE_BYTES: usize = 128 * 1024 * 1024;

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
            workers: default_workers(),
            max_queued: 64,
            worker_nice: DEFAULT_WORKER_NICE,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_connections: 4096,
            tile_cache_bytes: crate::tiles::cache::DEFAULT_BYTES,
            geometry_cache_bytes: DEFAULT_GEOMETRY_CACHE_BYTES,
        }
    }
}

/// The default [`ServerConfig::worker_nice`].
pub const DEFAULT_WORKER_NICE: i32 = 10;

/// One worker thread per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// What a handler works with: one snapshot of the catalogue (with the caches derived from it)
/// and what the whole server shares (configuration, worker pool, box cache).
///
/// A snapshot never changes. An edit publishes a new one ([`Live::publish`]); a request
/// that started before it answers from the snapshot it took, so no answer mixes two states.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
    snapshot: Arc<Snapshot>,
}

/// The router's state: the server, and whichever snapshot is current. Each handler's
/// `State<AppState>` is taken from it once, when the handler starts ([`FromRef`](axum::extract::FromRef)).
#[derive(Clone)]
pub struct Live {
    shared: Arc<Shared>,
}

impl axum::extract::FromRef<Live> for AppState {
    fn from_ref(live: &Live) -> AppState {
        live.state()
    }
}

struct Shared {
    config: ServerConfig,
    /// The snapshot requests start from.
    current: RwLock<Arc<Snapshot>>,
    /// Query boxes of recent requests, moved to the working CRS (they do not depend on the data).
    regions: RegionCache,
    /// What the indicators computed per project site and for the services, carried from one
    /// snapshot to the next: after an edit, only what the edit changed is computed again.
    indicator_memo: crate::ptcp::indicators::Memo,
    /// Encoded vector tiles, keyed by layer generation (never stale across snapshots).
    tiles: crate::tiles::cache::TileCache,
    /// Geometry work runs on threads of its own, at most one job per core at a time: queued
    /// requests wait in order instead of time-slicing each other into long tails.
    workers: Arc<tokio::sync::Semaphore>,
    /// Those threads, as many as `workers` has permits.
    threads: super::workers::Threads,
    /// Jobs waiting for a worker now.
    queued: std::sync::atomic::AtomicUsize,
    /// The writer of editable layers, when the server has a data folder.
    editor: OnceLock<crate::edit::Editor>,
    /// Who may write, when the server has an accounts file.
    accounts: OnceLock<Arc<crate::accounts::Accounts>>,
    /// The catalogue file a reload reads, when the server was started from one.
    catalog_file: OnceLock<PathBuf>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// What the reloads did so far.
    reloads: Mutex<ReloadStatus>,
}

/// One state of the catalogue and what is derived from it.
struct Snapshot {
    catalog: Arc<Catalog>,
    geometries: GeometryCache,
    /// Distinguishes this server's catalogue from one loaded before (part of every ETag).
    generation: u64,
    /// The monitoring indicators, computed on first use.
    indicators: IndicatorCache,
    loaded_at: SystemTime,
}

impl Snapshot {
    /// A catalogue just loaded: empty caches (`geometries`: a cache of this catalogue), a new
    /// generation.
    fn new(catalog: Arc<Catalog>, geometries: GeometryCache) -> Snapshot {
        let loaded_at = SystemTime::now();
        let generation = loaded_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        Snapshot {
            geometries,
            catalog,
            generation,
            loaded_at,
            indicators: IndicatorCache::new(),
        }
    }
}

impl Live {
    /// The current snapshot, with the shared parts.
    pub fn state(&self) -> AppState {
        let snapshot = self
            .shared
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        AppState {
            shared: self.shared.clone(),
            snapshot,
        }
    }

    /// Makes `catalog` current. After an edit it is the current catalogue with one layer
    /// replaced, and the caches of the other layers carry over; after a reload everything is
    /// new (and so is every ETag). Requests that start from now on see it, those already
    /// running finish with the snapshot they took.
    pub fn publish(&self, catalog: Arc<Catalog>, changed: crate::edit::Changed) {
        let mut current = self
            .shared
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let next = match changed {
            crate::edit::Changed::Layer(pos) => Snapshot {
                geometries: current.geometries.after_change(&catalog, pos),
                catalog,
                generation: current.generation,
                indicators: IndicatorCache::new(),
                loaded_at: current.loaded_at,
            },
            crate::edit::Changed::All => {
                let geometries = current.geometries.fresh(&catalog);
                Snapshot::new(catalog, geometries)
            }
        };
        *current = Arc::new(next);
    }

    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }
}

impl AppState {
    pub fn new(catalog: Arc<Catalog>, config: ServerConfig) -> AppState {
        let workers = config.workers.max(1);
        let nice = config.worker_nice;
        let tiles = crate::tiles::cache::TileCache::new(config.tile_cache_bytes);
        let geometries = GeometryCache::new(&catalog, config.geometry_cache_bytes);
        let snapshot = Arc::new(Snapshot::new(catalog, geometries));
        AppState {
            shared: Arc::new(Shared {
                config,
                current: RwLock::new(snapshot.clone()),
                regions: RegionCache::default(),
                indicator_memo: Default::default(),
                tiles,
                workers: Arc::new(tokio::sync::Semaphore::new(workers)),
                threads: super::workers::Threads::new(workers, nice),
                queued: std::sync::atomic::AtomicUsize::new(0),
                editor: OnceLock::new(),
                accounts: OnceLock::new(),
                catalog_file: OnceLock::new(),
                reloading: tokio::sync::Mutex::new(()),
                reloads: Mutex::new(ReloadStatus::default()),
            }),
            snapshot,
        }
    }

    /// Turns edits on: `store` (opened by [`crate::edit::open`] on this state's catalogue)
    /// takes every edit, and each edit publishes a new snapshot. Once per server.
    pub fn start_editing(&self, store: crate::edit::store::Store, data_dir: &std::path::Path) {
        let live = self.live();
        let editor = crate::edit::Editor::start(
            self.catalog_arc(),
            store,
            data_dir,
            Box::new(move |catalog, changed| live.publish(catalog, changed)),
        );
        if self.shared.editor.set(editor).is_err() {
            tracing::warn!("edits were already on");
        }
    }

    /// Turns edits on with the PostgreSQL store (opened by
    /// [`crate::edit::replica::open_postgres`] on this state's catalogue): as
    /// [`AppState::start_editing`], and the edits other servers make in the same database are
    /// applied and published too. Once per server.
    pub fn start_editing_postgres(&self, postgres: crate::edit::replica::Postgres) {
        let live = self.live();
        let editor = crate::edit::Editor::start_postgres(
            self.catalog_arc(),
            postgres,
            Box::new(move |catalog, changed| live.publish(catalog, changed)),
        );
        if self.shared.editor.set(editor).is_err() {
            tracing::warn!("edits were already on");
        }
    }

    /// The catalogue file a reload reads (`territorio serve --catalog`). Once per server.
    pub fn set_catalog_file(&self, path: PathBuf) {
        let _ = self.shared.catalog_file.set(path);
    }

    /// Loads the catalogue file again, completely (every layer read, reprojected, validated
    /// and indexed, `[roles]` checked), and only then puts it in place of the served one in
    /// one swap: requests in flight finish on the catalogue they started with. Editable layers
    /// keep their stored state ([`crate::edit::Editor::reload`]): no edit is lost. On any
    /// error the served catalogue stays, and the error is kept for `/health/ready`.
    ///
    /// Blocking work (the load) runs on a thread of its own; one reload at a time.
    pub async fn reload(&self) -> Result<Arc<Catalog>, String> {
        let Some(path) = self.shared.catalog_file.get().cloned() else {
            return Err("this server was not started from a catalogue file".into());
        };
        let _one_at_a_time = self.shared.reloading.lock().await;
        let started = std::time::Instant::now();
        let loaded = tokio::task::spawn_blocking(move || -> Result<Catalog, String> {
            let config =
                crate::catalog::CatalogConfig::from_file(&path).map_err(|e| e.to_string())?;
            crate::ptcp::roles::check(&config).map_err(|e| e.to_string())?;
            Catalog::load(config, &|_| {}).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("the load stopped: {e}"))
        .and_then(|r| r);
        let result = match loaded {
            Ok(catalog) => match self.editor() {
                Some(editor) => editor.reload(catalog).await.map_err(|e| e.to_string()),
                None => {
                    let catalog = Arc::new(catalog);
                    self.live()
                        .publish(catalog.clone(), crate::edit::Changed::All);
                    Ok(catalog)
                }
            },
            Err(e) => Err(e),
        };
        let mut status = self
            .shared
            .reloads
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let at = crate::time::now_rfc3339();
        match &result {
            Ok(catalog) => {
                // Boxes moved to the working CRS: that CRS may have changed.
                self.shared.regions.clear();
                status.reloads += 1;
                status.last_ok = Some(at);
                status.last_error = None;
                tracing::info!(
                    layers = catalog.layers().len(),
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "catalogue reloaded"
                );
            }
            Err(e) => {
                status.failures += 1;
                status.last_error = Some((at, e.clone()));
                tracing::error!("reload failed, the catalogue served is unchanged: {e}");
            }
        }
        result
    }

    /// Reloads ([`AppState::reload`]) when the catalogue's files change: polls them every
    /// `every` ([`crate::catalog::watch`]), and reloads once a changed state has stayed the
    /// same for one more poll, so that a file still being copied is not read half-written. A
    /// reload that fails is not tried again until the files change again; the served
    /// catalogue stays, the error is logged and kept for `/health/ready`. For `territorio
    /// serve --watch`; needs the runtime.
    pub fn watch_files(&self, every: Duration) {
        let live = self.live();
        tokio::spawn(async move {
            let now = || {
                let config = live.state().catalog().config.clone();
                async move {
                    tokio::task::spawn_blocking(move || crate::catalog::watch::fingerprint(&config))
                        .await
                }
            };
            let Ok(mut loaded) = now().await else { return };
            let mut last = loaded.clone();
            loop {
                tokio::time::sleep(every).await;
                let Ok(seen) = now().await else { return };
                if seen != loaded && seen == last {
                    let files = seen.changed_since(&loaded);
                    tracing::info!(?files, "the catalogue's files changed: reloading");
                    // The outcome is logged and kept for /health/ready by the reload itself.
                    let _ = live.state().reload().await;
                    // The files of the catalogue now served, as they were before it was read.
                    let Ok(after) = now().await else { return };
                    loaded = seen.carried_onto(after);
                }
                last = seen;
            }
        });
    }

    /// What the reloads did so far.
    pub fn reload_status(&self) -> ReloadStatus {
        self.shared
            .reloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Gives the server its accounts (who may write). Once per server.
    pub fn set_accounts(&self, accounts: crate::accounts::Accounts) {
        if self.shared.accounts.set(Arc::new(accounts)).is_err() {
            tracing::warn!("accounts were already set");
        }
    }

    /// The server's accounts, when it has an accounts file.
    pub fn accounts(&self) -> Option<Arc<crate::accounts::Accounts>> {
        self.shared.accounts.get().cloned()
    }

    /// The writer of editable layers; `None` when the server has no data folder.
    pub fn editor(&self) -> Option<&crate::edit::Editor> {
        self.shared.editor.get()
    }

    /// The router's state: this server, at whichever snapshot is current.
    pub fn live(&self) -> Live {
        Live {
            shared: self.shared.clone(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.snapshot.catalog
    }

    pub fn catalog_arc(&self) -> Arc<Catalog> {
        self.snapshot.catalog.clone()
    }

    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    pub fn geometries(&self) -> &GeometryCache {
        &self.snapshot.geometries
    }

    /// Changes with every snapshot: the load time of the catalogue and its version.
    pub fn generation(&self) -> u64 {
        self.snapshot
            .generation
            .wrapping_add(self.snapshot.catalog.version)
    }

    /// Changes with every change of one layer (a path under `/collections/{id}` depends only
    /// on that layer); `None` when there is no such layer.
    pub fn layer_generation(&self, id: &str) -> Option<u64> {
        Some(self.generation_of(self.catalog().layer(id)?))
    }

    /// [`AppState::layer_generation`] of a layer of this snapshot's catalogue.
    pub fn generation_of(&self, layer: &Layer) -> u64 {
        self.snapshot.generation.wrapping_add(layer.version)
    }

    pub fn loaded_at(&self) -> SystemTime {
        self.snapshot.loaded_at
    }

    /// The indicators of the catalogue, once computed (the `/indicators` resource fills it).
    pub fn indicator_cache(&self) -> &IndicatorCache {
        &self.snapshot.indicators
    }

    /// What the last indicator computation over the served catalogue kept for the next.
    pub fn indicator_memo(&self) -> &crate::ptcp::indicators::Memo {
        &self.shared.indicator_memo
    }

    /// Query boxes of recent requests in the working CRS (see [`RegionCache`]).
    pub fn regions(&self) -> &RegionCache {
        &self.shared.regions
    }

    /// The vector tile cache of the server.
    pub fn tile_cache(&self) -> &crate::tiles::cache::TileCache {
        &self.shared.tiles
    }

    /// A catalogue layer and its position, or a 404 naming it.
    pub fn layer(&self, id: &str) -> Result<(usize, &Layer), ApiError> {
        self.catalog()
            .layers()
            .iter()
            .enumerate()
            .find(|(_, l)| l.id() == id)
            .map(|(i, l)| (i, &**l))
            .ok_or_else(|| ApiError::not_found(format!("no collection {id:?}")))
    }

    /// The style files of a layer, when they exist: (MapLibre JSON, QML).
    ///
    /// Only regular files inside the styles folder count: a style file that is a symbolic
    /// link to somewhere else on the disk is treated as missing rather than served
    /// ([`file_within`]).
    pub fn style_files(&self, layer: &Layer) -> (Option<PathBuf>, Option<PathBuf>) {
        let Some(style) = &layer.config.style else {
            return (None, None);
        };
        let dir = &self.catalog().config.styles_dir;
        let existing = |ext: &str| file_within(dir, &format!("{style}.{ext}"));
        (existing("json"), existing("qml"))
    }

    /// Runs CPU-bound work (selection, geometry, serialisation) off the async workers, on the
    /// threads of geometry work ([`super::workers`]), one job per worker at a time. When every
    /// worker is busy the job waits, unless
    /// [`ServerConfig::max_queued`] jobs wait already: then it is refused at once
    /// ([`ApiError::Overloaded`], a 503 with `Retry-After`), so that more work than the
    /// machine can do never builds a queue that times out. A job whose request is cut off by
    /// its time limit runs to its end (work is not stopped midway) and keeps its worker until
    /// then: the workers count the jobs running, not the requests waiting for them.
    pub async fn run_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        use std::sync::atomic::Ordering;
        use tokio::sync::TryAcquireError;
        let workers = self.shared.workers.clone();
        let shutting_down = || ApiError::Unavailable("the server is shutting down".into());
        let permit = match workers.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(shutting_down()),
            Err(TryAcquireError::NoPermits) => {
                let queued = &self.shared.queued;
                if queued.fetch_add(1, Ordering::SeqCst) >= self.config().max_queued {
                    queued.fetch_sub(1, Ordering::SeqCst);
                    return Err(ApiError::Overloaded(format!(
                        "the server is busy ({} requests are waiting for its {} workers): \
                         try again in a moment",
                        self.config().max_queued,
                        self.config().workers
                    )));
                }
                // Counted out however the wait ends (a permit, shutdown, or the request
                // dropped by its time limit).
                struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let waiting = Waiting(queued);
                let permit = workers.acquire_owned().await.map_err(|_| shutting_down())?;
                drop(waiting);
                permit
            }
        };
        let shared = self.shared.clone();
        let answer = self
            .shared
            .threads
            .run(move || {
                // The job holds its worker until it ends, even when its request is gone.
                let _permit = permit;
                let answer = job();
                if shared.queued.load(Ordering::SeqCst) == 0 {
                    super::workers::worker_may_idle();
                }
                answer
            })
            .await;
        match answer {
            Ok(answer) => answer,
            Err(super::workers::Failed::Panicked(message)) => Err(ApiError::internal(format!(
                "geometry work failed: {message}"
            ))),
            Err(super::workers::Failed::Unavailable(message)) => {
                Err(ApiError::Unavailable(message))
            }
        }
    }

    /// Jobs waiting for a worker now (see [`AppState::run_blocking`]).
    pub fn queued_jobs(&self) -> usize {
        self.shared.queued.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What the reloads of a server did.
#[derive(Debug, Clone, Default)]
pub struct ReloadStatus {
    /// Reloads that replaced the catalogue.
    pub reloads: u64,
    /// Reloads that failed (the catalogue stayed).
    pub failures: u64,
    /// When the last successful reload was (RFC 3339).
    pub last_ok: Option<String>,
    /// When the last reload failed, and why, if it failed after the last success.
    pub last_error: Option<(String, String)>,
}

/// The monitoring indicators of the served catalogue and their text, computed once.
pub struct ComputedIndicators {
    pub indicators: Indicators,
    /// The JSON object of `indicators` without its opening brace, so that an answer can put
    /// its `links` first.
    pub json_tail: Vec<u8>,
    pub csv: String,
    /// The municipalities GeoJSON in CRS84, written on first use.
    pub geojson_crs84: OnceLock<Vec<u8>>,
    /// How long the computation took.
    pub elapsed: Duration,
}

/// Where [`AppState`] keeps the indicators, or why they could not be computed (kept, so that
/// every request answers the same error).
pub type IndicatorCache = OnceLock<Result<Arc<ComputedIndicators>, Arc<DocumentError>>>;

/// A query box moved to the working CRS: its envelope there, and the densified outline as a
/// [`Region`].
pub type WorkingBox = (geo::Rect<f64>, Region);

/// The query boxes of recent requests in the working CRS, by their text and CRS as sent.
///
/// A box in another CRS is densified and moved through PROJ (some eighty points) and its
/// [`Region`] built: a hundred thousand instructions, more than selecting and writing a
/// small page. Clients send the same box again and again: QGIS pages through one view with
/// growing offsets, web maps ask for the same tiles. Bounded: when full it starts afresh.
#[derive(Default)]
pub struct RegionCache {
    boxes: Mutex<HashMap<(String, String), Arc<WorkingBox>>>,
}

impl RegionCache {
    const CAPACITY: usize = 256;

    /// The box for `text` in `crs`, from the cache or made by `make` (and then kept).
    pub fn get_or_make<E>(
        &self,
        text: &str,
        crs: &str,
        make: impl FnOnce() -> Result<WorkingBox, E>,
    ) -> Result<Arc<WorkingBox>, E> {
        let key = (text.to_string(), crs.to_string());
        if let Some(found) = self.lock().get(&key) {
            return Ok(found.clone());
        }
        let made = Arc::new(make()?);
        let mut boxes = self.lock();
        if boxes.len() >= Self::CAPACITY {
            boxes.clear();
        }
        boxes.insert(key, made.clone());
        Ok(made)
    }

    /// Forgets every box (after a reload: the working CRS may have changed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<WorkingBox>>> {
        // A panic while holding the lock leaves a valid map: keep using it.
        self.boxes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, BoundingRect};

    fn empty_state(workers: usize, max_queued: usize) -> AppState {
        state_with(ServerConfig {
            workers,
            max_queued,
            ..ServerConfig::default()
        })
    }

    fn state_with(server: ServerConfig) -> AppState {
        let config = crate::catalog::CatalogConfig {
            path: "memory.toml".into(),
            working_crs: "EPSG:32632".into(),
            styles_dir: "styles".into(),
            layers: Vec::new(),
            roles: Default::default(),
        };
        let catalog = Catalog::from_layers(config, "EPSG:32632".into(), Vec::new());
        AppState::new(Arc::new(catalog), server)
    }

    /// Starts a job that holds a worker until the sender is used, and waits until it runs.
    fn occupy(
        state: &AppState,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<i32, ApiError>>,
    ) {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let busy = {
            let state = state.clone();
            tokio::spawn(async move {
                state
                    .run_blocking(move || {
                        started.send(()).expect("test alive");
                        hold.recv().expect("released");
                        Ok(1)
                    })
                    .await
            })
        };
        running.recv().expect("the first job runs");
        (release, busy)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_beyond_the_queue_is_refused_at_once_with_retry_after() {
        use axum::response::IntoResponse;
        // One worker, one place in the queue.
        let state = empty_state(1, 1);
        let (release, busy) = occupy(&state);
        let waiting = {
            let state = state.clone();
            tokio::spawn(async move { state.run_blocking(|| Ok(2)).await })
        };
        while state.queued_jobs() < 1 {
            tokio::task::yield_now().await;
        }
        // The worker is busy and the queue full: the third job is refused, not queued.
        let refused = state.run_blocking(|| Ok(3)).await.expect_err("refused");
        assert!(matches!(refused, ApiError::Overloaded(_)), "{refused:?}");
        assert_eq!(state.queued_jobs(), 1);
        let answer = refused.into_response();
        assert_eq!(answer.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()["retry-after"], "1");
        // Released, the first and the waiting job both finish, and the queue empties.
        release.send(()).expect("job alive");
        assert_eq!(busy.await.expect("task").expect("job"), 1);
        assert_eq!(waiting.await.expect("task").expect("job"), 2);
        assert_eq!(state.queued_jobs(), 0);
        assert_eq!(
            state.run_blocking(|| Ok(4)).await.expect("accepted again"),
            4
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_job_dropped_by_its_time_limit_leaves_the_queue() {
        let state = empty_state(1, 4);
        let (release, busy) = occupy(&state);
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            state.run_blocking(|| Ok(())),
        )
        .await;
        assert!(cut.is_err(), "the second job waited for the busy worker");
        assert_eq!(state.queued_jobs(), 0, "the cut-off job left the queue");
        release.send(()).expect("job alive");
        busy.await.expect("task").expect("job");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_request_is_gone_keeps_its_worker_until_it_ends() {
        let state = empty_state(1, 4);
        let (release, busy) = occupy(&state);
        // The request of the running job is dropped (its time limit): the job goes on.
        busy.abort();
        assert!(busy.await.expect_err("aborted").is_cancelled());
        let next = {
            let state = state.clone();
            tokio::spawn(async move { state.run_blocking(|| Ok(5)).await })
        };
        // The next job waits in the queue for the one worker, which the first job still holds.
        tokio::time::timeout(Duration::from_secs(10), async {
            while state.queued_jobs() < 1 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the next job waits for the worker");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!next.is_finished());
        release.send(()).expect("the first job still runs");
        assert_eq!(next.await.expect("task").expect("job"), 5);
        assert_eq!(state.queued_jobs(), 0);
    }

    /// The nice value of the calling thread, as the kernel has it.
    fn own_nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("getpriority")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn geometry_work_runs_at_the_configured_lower_priority() {
        // The test may itself run niced: a thread cannot be given a higher priority than that.
        let base = own_nice();
        for (configured, expected) in [(0, base), (10, base.max(10)), (19, 19)] {
            let state = state_with(ServerConfig {
                worker_nice: configured,
                ..ServerConfig::default()
            });
            let niced = state.run_blocking(|| Ok(own_nice())).await.expect("job");
            assert_eq!(niced, expected, "worker_nice {configured}");
            // The async worker that asked keeps its own priority.
            assert_eq!(own_nice(), base);
        }
    }

    fn square(side: f64) -> WorkingBox {
        let p =
            polygon![(x: 0.0, y: 0.0), (x: side, y: 0.0), (x: side, y: side), (x: 0.0, y: side)];
        (p.bounding_rect().expect("envelope"), Region::new(p))
    }

    #[test]
    fn a_box_is_made_once_per_text_and_crs_and_errors_are_not_kept() {
        let cache = RegionCache::default();
        let mut made = 0;
        for _ in 0..3 {
            let b = cache
                .get_or_make("0,0,1,1", "OGC:CRS84", || {
                    made += 1;
                    Ok::<_, ()>(square(1.0))
                })
                .expect("made");
            assert_eq!(b.0.max().x, 1.0);
        }
        assert_eq!(made, 1);
        // Another CRS is another box.
        let other = cache
            .get_or_make("0,0,1,1", "EPSG:4326", || Ok::<_, ()>(square(2.0)))
            .expect("made");
        assert_eq!(other.0.max().x, 2.0);
        // A failure is answered, and tried again next time.
        assert!(cache.get_or_make("bad", "OGC:CRS84", || Err("no")).is_err());
        let again = cache.get_or_make("bad", "OGC:CRS84", || Ok::<_, &str>(square(3.0)));
        assert_eq!(again.expect("made").0.max().x, 3.0);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = RegionCache::default();
        for i in 0..(RegionCache::CAPACITY * 2 + 1) {
            cache
                .get_or_make(&i.to_string(), "OGC:CRS84", || Ok::<_, ()>(square(1.0)))
                .expect("made");
            assert!(cache.lock().len() <= RegionCache::CAPACITY);
        }
    }
}
