//! The command line: `territorio check`, `territorio query ...` and `territorio join`.
//!
//! Query inputs are in CRS84 lon/lat unless `--crs` names another CRS; output is a GeoJSON
//! FeatureCollection in CRS84 unless `--out-crs` names another. Analysis runs in the working CRS.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use geo::Geometry;
use serde_json::{json, Map, Value as Json};

use crate::analysis::subject::{self, InputCrs};
use crate::analysis::{self, Hit, OverlayOptions, Predicate};
use crate::catalog::{CatalogConfig, LayerConfig};
use crate::crs::{self, Transformer, CRS84};
use crate::geojson_io;
use crate::store::{self, Layer, LoadEvent};
use crate::{present, ptcp};

mod accounts;
mod check;
mod join;

pub use check::{check, peak_memory_mib};
pub use join::{join, JoinArgs, JoinFormat, JoinModeArg, JoinPredicateArg};

/// Default catalogue path: the demo catalogue.
pub const DEFAULT_CATALOG: &str = "examples/cremona/catalog.toml";

/// territorio: spatial analysis for territorial planning (PTCP layers and pact projects).
#[derive(Debug, Parser)]
#[command(name = "territorio", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load every layer of a catalogue and report features, types, extent, CRS and invalid
    /// geometries, then which layer and fields play each role of the site report and the
    /// indicators. Exits with status 1 when any layer or role has errors.
    Check {
        /// The catalogue file.
        #[arg(default_value = DEFAULT_CATALOG)]
        catalog: PathBuf,
    },
    /// Generate the demo catalogue (a schematic Province of Cremona): `catalog.toml`, `data/`
    /// and `styles/` in one folder. Deterministic: the same files every time; other files in
    /// the folder are left alone.
    Demo {
        /// The folder to write.
        #[arg(long, default_value = crate::demo::DEFAULT_DIR)]
        out: PathBuf,
    },
    /// Serve the catalogue over HTTP: OGC API - Features (Parts 1, 2, 3) for QGIS, GDAL and
    /// web maps. Stops cleanly on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// The site report of one project: municipalities, productive areas, environmental
    /// constraints, agricultural land, infrastructure and services around it.
    Report {
        /// The project id (e.g. `P012`).
        project: String,
        /// The catalogue file.
        #[arg(long, default_value = DEFAULT_CATALOG)]
        catalog: PathBuf,
        /// `text` (one summary line per system) or `json` (every number, in metres).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Radius for agri-food and agro-energy sites, metres.
        #[arg(long, default_value_t = 2_000.0)]
        agrifood_radius: f64,
    },
    /// The monitoring indicators shared by the pact and the PTCP.
    Indicators {
        /// The catalogue file.
        #[arg(long, default_value = DEFAULT_CATALOG)]
        catalog: PathBuf,
        /// `json` (structured), `csv` (long format) or `geojson` (municipalities with values).
        #[arg(long, value_enum, default_value_t = IndicatorFormat::Json)]
        format: IndicatorFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Join attributes by location: each feature of TARGET with the properties of the JOIN
    /// features it meets (as QGIS's "Join attributes by location"), as GeoJSON or CSV.
    Join(JoinArgs),
    /// Manage who may edit: users, passwords, rights on collections and bearer tokens, kept
    /// in an accounts file that a running server re-reads when it changes.
    Accounts(accounts::AccountsArgs),
    /// Run an analysis on one layer and print GeoJSON.
    Query {
        /// The catalogue file.
        #[arg(long, default_value = DEFAULT_CATALOG, global = true)]
        catalog: PathBuf,
        #[command(subcommand)]
        query: Query,
    },
}

/// Options of `territorio serve`.
// The fields' documentation is their `--help` text, where a URL is shown as it is.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The catalogue file.
    #[arg(long, default_value = DEFAULT_CATALOG)]
    pub catalog: PathBuf,
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Base URL of links in answers, when clients reach the service through a proxy
    /// (e.g. https://gis.example.org/territorio).
    #[arg(long)]
    pub public_url: Option<String>,
    /// An origin allowed by CORS (repeat for several); without any, every origin is allowed.
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// Cache-Control header of successful GET answers.
    #[arg(long, default_value = "public, max-age=60")]
    pub cache_control: String,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Requests running longer are answered 503, in seconds.
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
    /// Folder of the web map served at /map/ (default: web/ beside the catalogue's folder,
    /// else the web/ folder of the source tree territorio was built from).
    #[arg(long)]
    pub web_dir: Option<PathBuf>,
    /// Raster tile URL template of the web map's basemap, e.g.
    /// https://tiles.example.org/{z}/{x}/{y}.png (default: none, a plain background).
    #[arg(long)]
    pub basemap: Option<String>,
    /// Attribution shown for the basemap.
    #[arg(long)]
    pub basemap_attribution: Option<String>,
    /// Threads of geometry work at once (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Requests allowed to wait for those threads; more are answered 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    pub max_queued: usize,
    /// The nice value of those threads (0 to 19, 0: the server's own priority), so that
    /// point lookups and small pages, answered without them, are not kept waiting for a core.
    #[arg(long, default_value_t = crate::api::http::state::DEFAULT_WORKER_NICE,
          value_parser = clap::value_parser!(i32).range(0..=19))]
    pub worker_nice: i32,
    /// Time for a request's headers to arrive, in seconds; also how long a keep-alive
    /// connection may wait idle for its next request.
    #[arg(long, default_value_t = 10)]
    pub header_timeout: u64,
    /// Time a request body may wait for its next byte, in seconds (at least the request time
    /// limit).
    #[arg(long, default_value_t = 60)]
    pub idle_timeout: u64,
    /// Time an answer may wait for the client to read it, in seconds.
    #[arg(long, default_value_t = 30)]
    pub write_timeout: u64,
    /// Connections served at once; more are closed at once.
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
    /// The bound of the in-memory vector tile cache, in MiB (0: no cache).
    #[arg(long, default_value_t = 64)]
    pub tile_cache_mb: usize,
    /// The bound of the cache of features' geometries as CRS84 GeoJSON text, in MiB (0: no
    /// cache): the geometries asked for first are kept, up to this; the others are written
    /// for each answer.
    #[arg(long, default_value_t = crate::api::http::state::DEFAULT_GEOMETRY_CACHE_BYTES >> 20)]
    pub geometry_cache_mb: usize,
    /// The folder of the store of editable layers (created when missing). Without it, layers
    /// marked editable in the catalogue are served read-only.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Keep the edits in this PostgreSQL/PostGIS database instead of a data folder: a libpq
    /// connection string without a password (`host=db dbname=ptcp user=territorio`; the
    /// password from PGPASSWORD). Several servers given the same database serve the same
    /// edits, each seeing the others' within moments. Edits need --accounts.
    #[arg(long, value_name = "DSN", conflicts_with = "data_dir")]
    pub edits_db: Option<String>,
    /// The accounts file: who may edit which layer (`territorio accounts`). Edits need it.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Look at the catalogue's files (the catalogue, each source and the files beside it)
    /// every SECONDS, and reload, as SIGHUP does, when they have changed and then stayed the
    /// same for one more look (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub watch: u64,
}

/// Output of `territorio report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Output of `territorio indicators`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IndicatorFormat {
    Json,
    Csv,
    Geojson,
}

#[derive(Debug, Subcommand)]
pub enum Query {
    /// The k nearest features (true geometry distance, metres).
    Nearest {
        #[command(flatten)]
        input: QueryInput,
        /// How many features.
        #[arg(short, default_value_t = 5)]
        k: usize,
    },
    /// Features within a distance (metres).
    WithinDistance {
        #[command(flatten)]
        input: QueryInput,
        /// Distance in metres.
        #[arg(long)]
        distance: f64,
    },
    /// Features that intersect the geometry.
    Intersects {
        #[command(flatten)]
        input: QueryInput,
    },
    /// Features that lie within the geometry.
    Within {
        #[command(flatten)]
        input: QueryInput,
    },
    /// Features that contain the geometry.
    Contains {
        #[command(flatten)]
        input: QueryInput,
    },
    /// Intersection areas (or lengths) of a site with the features of a layer.
    Overlay {
        #[command(flatten)]
        input: QueryInput,
        /// Total by this property (e.g. `kind`).
        #[arg(long)]
        group_by: Option<String>,
        /// Output each intersection geometry instead of the whole feature.
        #[arg(long)]
        with_geometry: bool,
    },
}

/// The layer and the query geometry, shared by every query.
#[derive(Debug, Args)]
pub struct QueryInput {
    /// Layer id in the catalogue.
    #[arg(long)]
    pub layer: String,
    /// A point as `x,y` (lon,lat in CRS84 unless --crs says otherwise).
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["bbox", "geometry", "feature"])]
    pub point: Option<String>,
    /// A box as `minx,miny,maxx,maxy` (its edges are densified when moved to the working CRS).
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["geometry", "feature"])]
    pub bbox: Option<String>,
    /// A GeoJSON geometry, feature or one-feature collection; `@FILE` reads it from a file.
    #[arg(long, conflicts_with = "feature")]
    pub geometry: Option<String>,
    /// The geometry of a feature of the catalogue, as `LAYER:ID` (e.g. `projects:P043`).
    #[arg(long)]
    pub feature: Option<String>,
    /// CRS of the input coordinates (default CRS84 lon/lat).
    #[arg(long, default_value = CRS84)]
    pub crs: String,
    /// CRS of the output GeoJSON (default CRS84 lon/lat, as RFC 7946 requires).
    #[arg(long, default_value = CRS84)]
    pub out_crs: String,
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Check { catalog } => check(&catalog),
        Command::Demo { out } => {
            let summary = crate::demo::generate(&out)?;
            for (id, count) in &summary.layers {
                eprintln!("{id}: {count} features");
            }
            eprintln!(
                "wrote {} layers ({} files) to {}",
                summary.layers.len(),
                summary.files.len(),
                out.display()
            );
            Ok(0)
        }
        Command::Serve(args) => serve(args),
        Command::Report {
            project,
            catalog,
            format,
            agrifood_radius,
        } => {
            let catalog = load_catalog(&catalog)?;
            let report = ptcp::site_report(
                &catalog,
                &project,
                &ptcp::ReportOptions {
                    agrifood_radius_m: agrifood_radius,
                },
            )?;
            let mut stdout = std::io::stdout().lock();
            match format {
                ReportFormat::Text => write!(stdout, "{}", present::report::to_text(&report))?,
                ReportFormat::Json => {
                    let document = present::report::document(&report)?;
                    serde_json::to_writer_pretty(&mut stdout, &document)?;
                    writeln!(stdout)?;
                }
            }
            Ok(0)
        }
        Command::Indicators {
            catalog,
            format,
            out,
        } => {
            let catalog = load_catalog(&catalog)?;
            let set = ptcp::indicators(&catalog, &ptcp::IndicatorOptions::default())?;
            let text = match format {
                IndicatorFormat::Json => {
                    serde_json::to_string_pretty(&present::indicators::document(&set)?)? + "\n"
                }
                IndicatorFormat::Csv => present::indicators::csv(&set),
                IndicatorFormat::Geojson => {
                    let to_crs84 = Transformer::new(&catalog.working_crs, CRS84)?;
                    let map = present::indicators::Choropleth::new(&set, &catalog)?;
                    serde_json::to_string_pretty(&map.to_geojson(&to_crs84)?)? + "\n"
                }
            };
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().lock().write_all(text.as_bytes())?,
            }
            Ok(0)
        }
        Command::Join(args) => join(args),
        Command::Accounts(args) => accounts::run(args),
        Command::Query { catalog, query } => {
            let out = run_query(&catalog, query)?;
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &out)?;
            writeln!(stdout)?;
            Ok(0)
        }
    }
}

/// Prints each layer as it loads (a progress line on a terminal, a summary line per layer).
fn progress_printer() -> impl Fn(LoadEvent) + Sync {
    let terminal = std::io::stderr().is_terminal();
    move |event| match event {
        LoadEvent::Started {
            layer,
            position,
            total,
        } => {
            if terminal {
                eprint!("\r\x1b[2K[{position}/{total}] loading {layer}...");
            }
        }
        LoadEvent::Finished {
            layer,
            features,
            invalid,
            elapsed,
        } => {
            if terminal {
                eprint!("\r\x1b[2K");
            }
            eprintln!(
                "loaded {layer}: {features} features{} in {:.0} ms",
                if invalid > 0 {
                    format!(" ({invalid} invalid)")
                } else {
                    String::new()
                },
                elapsed.as_secs_f64() * 1e3
            );
        }
    }
}

/// `territorio serve`: loads the catalogue, then serves it until Ctrl-C or SIGTERM.
pub fn serve(args: ServeArgs) -> Result<i32> {
    let started = Instant::now();
    // Before anything uses rayon: its threads are made once, with their priority.
    crate::api::http::workers::lower_parallel_priority(args.worker_nice);
    let config = CatalogConfig::from_file(&args.catalog)?;
    crate::ptcp::roles::check(&config)?;
    let catalog = store::Catalog::load(config, &progress_printer())?;
    let editable = catalog
        .layers()
        .iter()
        .filter(|l| l.config.is_editable())
        .count();
    let mut postgres = None;
    let (catalog, store) = match (&args.data_dir, &args.edits_db) {
        (_, Some(dsn)) => {
            if args.accounts.is_none() {
                anyhow::bail!(
                    "--edits-db turns edits on, and edits need accounts: give --accounts FILE \
                     (create it with `territorio accounts --file FILE add-user NAME --edit LAYER`)"
                );
            }
            let database = crate::catalog::DatabaseConfig { dsn: dsn.clone() };
            if database.has_password() {
                anyhow::bail!(
                    "--edits-db holds a password, which any user of the machine can read in \
                     the process list: leave it out and give it in PGPASSWORD"
                );
            }
            let (catalog, pg) = crate::edit::replica::open_postgres(catalog, dsn)?;
            eprintln!(
                "edits on: {editable} editable layers, stored in {}",
                crate::edit::pg::place_of(dsn)
            );
            postgres = Some(pg);
            (catalog, None)
        }
        (Some(dir), None) => {
            if args.accounts.is_none() {
                anyhow::bail!(
                    "--data-dir turns edits on, and edits need accounts: give --accounts FILE \
                     (create it with `territorio accounts --file FILE add-user NAME --edit LAYER`)"
                );
            }
            let (catalog, store) = crate::edit::open(catalog, dir)?;
            eprintln!(
                "edits on: {editable} editable layers, stored in {}",
                store.file().display()
            );
            (catalog, Some(store))
        }
        (None, None) => {
            if editable > 0 {
                tracing::warn!(
                    "{editable} layers are marked editable, but without --data-dir or \
                     --edits-db they are served read-only"
                );
            }
            (catalog, None)
        }
    };
    let accounts = match &args.accounts {
        Some(path) => Some(crate::accounts::Accounts::open(path)?),
        None => None,
    };
    let invalid: usize = catalog
        .layers()
        .iter()
        .map(|l| l.invalid_features().count())
        .sum();
    if invalid > 0 {
        tracing::warn!("{invalid} features have invalid geometries; `territorio check` lists them");
    }
    eprintln!(
        "loaded {} layers in {:.2} s",
        catalog.layers().len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(url) = &args.basemap {
        crate::api::check_basemap_url(url).map_err(anyhow::Error::msg)?;
    }
    let web_dir = args
        .web_dir
        .or_else(|| crate::api::default_web_dir(&args.catalog));
    match &web_dir {
        Some(dir) => {
            if let Some(problem) = crate::api::check_web_dir(dir) {
                tracing::warn!("the web map will not work: {problem}");
            }
        }
        None => tracing::warn!("no web folder found: /map is off (see --web-dir)"),
    }
    let server = crate::api::ServerConfig {
        public_url: args.public_url.clone(),
        cors_origins: args.cors_origins,
        cache_control: args.cache_control,
        max_body_bytes: args.max_body_bytes,
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        web_dir,
        basemap_url: args.basemap,
        basemap_attribution: args.basemap_attribution,
        workers: args
            .workers
            .unwrap_or_else(crate::api::http::state::default_workers)
            .max(1),
        max_queued: args.max_queued,
        worker_nice: args.worker_nice,
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        write_timeout: std::time::Duration::from_secs(args.write_timeout),
        max_connections: args.max_connections,
        tile_cache_bytes: args.tile_cache_mb.saturating_mul(1024 * 1024),
        geometry_cache_bytes: args.geometry_cache_mb.saturating_mul(1024 * 1024),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let public_url = args.public_url;
    let map = server.web_dir.is_some();
    let state = crate::api::AppState::new(std::sync::Arc::new(catalog), server);
    state.set_catalog_file(args.catalog.clone());
    if let (Some(store), Some(dir)) = (store, &args.data_dir) {
        state.start_editing(store, dir);
    }
    if let Some(postgres) = postgres {
        state.start_editing_postgres(postgres);
    }
    if let Some(accounts) = accounts {
        state.set_accounts(accounts);
    }
    if args.watch > 0 {
        let _in_runtime = runtime.enter();
        state.watch_files(std::time::Duration::from_secs(args.watch));
    }
    runtime
        .block_on(crate::api::serve(state, args.addr, move |addr| {
            let url = public_url.unwrap_or_else(|| format!("http://{addr}"));
            eprintln!("territorio is serving at {url}/ (Ctrl-C to stop)");
            if map {
                eprintln!("the web map is at {url}/map/");
            }
        }))
        .with_context(|| format!("serving on {}", args.addr))?;
    eprintln!("territorio stopped");
    Ok(0)
}

/// Loads every layer of a catalogue, reporting progress on standard error.
fn load_catalog(path: &Path) -> Result<store::Catalog> {
    let config = CatalogConfig::from_file(path)?;
    crate::ptcp::roles::check(&config)?;
    Ok(store::Catalog::load(config, &progress_printer())?)
}

/// The configuration of layer `id`, or an error naming the catalogue and its layers.
fn layer_config<'a>(config: &'a CatalogConfig, id: &str) -> Result<&'a LayerConfig> {
    config.layer(id).with_context(|| {
        format!(
            "no layer {id:?} in {} (layers: {})",
            config.path.display(),
            config
                .layers
                .iter()
                .map(|l| l.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Runs a query and returns its GeoJSON.
pub fn run_query(catalog_path: &Path, query: Query) -> Result<Json> {
    let config = CatalogConfig::from_file(catalog_path)?;
    let working = crs::normalize(&config.working_crs);
    crs::check_working_crs(&working)?;
    let input = match &query {
        Query::Nearest { input, .. }
        | Query::WithinDistance { input, .. }
        | Query::Intersects { input }
        | Query::Within { input }
        | Query::Contains { input }
        | Query::Overlay { input, .. } => input,
    };
    let layer_config = layer_config(&config, &input.layer)?;
    let layer = store::load_layer(layer_config, &working)?;
    let geometry = match &input.feature {
        Some(reference) => feature_geometry(&config, reference, &working)?,
        None => query_geometry(input, &working)?,
    };
    let to_output = Transformer::new(&working, &input.out_crs)?;
    let hits_to_json = |layer: &Layer, hits: &[Hit]| -> Result<Vec<Json>> {
        hits.iter()
            .map(|h| {
                let mut extra = Map::new();
                extra.insert("distance_m".into(), json!(round(h.distance_m, 3)));
                Ok(geojson_io::feature_json(
                    layer,
                    &layer.features[h.feature as usize],
                    &to_output,
                    extra,
                )?)
            })
            .collect()
    };
    let indices_to_json = |layer: &Layer, indices: &[u32]| -> Result<Vec<Json>> {
        indices
            .iter()
            .map(|&i| {
                Ok(geojson_io::feature_json(
                    layer,
                    &layer.features[i as usize],
                    &to_output,
                    Map::new(),
                )?)
            })
            .collect()
    };
    let mut members = Map::new();
    members.insert("layer".into(), json!(layer.id()));
    let features = match query {
        Query::Nearest { k, .. } => {
            let hits = analysis::nearest(&layer, &geometry, k)?;
            hits_to_json(&layer, &hits)?
        }
        Query::WithinDistance { distance, .. } => {
            let hits = analysis::within_distance(&layer, &geometry, distance)?;
            hits_to_json(&layer, &hits)?
        }
        Query::Intersects { .. } => indices_to_json(
            &layer,
            &analysis::select(&layer, &geometry, Predicate::Intersects)?,
        )?,
        Query::Within { .. } => indices_to_json(
            &layer,
            &analysis::select(&layer, &geometry, Predicate::Within)?,
        )?,
        Query::Contains { .. } => indices_to_json(
            &layer,
            &analysis::select(&layer, &geometry, Predicate::Contains)?,
        )?,
        Query::Overlay {
            group_by,
            with_geometry,
            ..
        } => {
            let o = analysis::overlay(
                &layer,
                &geometry,
                &OverlayOptions {
                    with_geometry,
                    group_by: group_by.as_deref(),
                },
            )?;
            members.insert("measure".into(), json!(o.measure.name()));
            members.insert("site_area_m2".into(), json!(round(o.site_area_m2, 2)));
            members.insert("site_length_m".into(), json!(round(o.site_length_m, 2)));
            members.insert("total_area_m2".into(), json!(round(o.total_area_m2, 2)));
            members.insert("total_length_m".into(), json!(round(o.total_length_m, 2)));
            // The total in the measure (m², m or features) and the share of the site it covers.
            members.insert("total".into(), json!(round(o.total, 2)));
            members.insert(
                "site_share".into(),
                json!(o.site_share.map(|s| round(s, 6))),
            );
            if group_by.is_some() {
                members.insert(
                    "groups".into(),
                    Json::Array(
                        o.groups
                            .iter()
                            .map(|g| {
                                json!({
                                    "key": g.key,
                                    "features": g.features,
                                    "area_m2": round(g.area_m2, 2),
                                    "length_m": round(g.length_m, 2),
                                    "amount": round(g.amount, 2),
                                    "site_share": g.site_share.map(|s| round(s, 6)),
                                })
                            })
                            .collect(),
                    ),
                );
            }
            if !o.skipped_invalid.is_empty() {
                members.insert(
                    "skipped_invalid".into(),
                    Json::Array(
                        o.skipped_invalid
                            .iter()
                            .map(|&i| layer.features[i as usize].id.to_json())
                            .collect(),
                    ),
                );
            }
            let mut features = Vec::with_capacity(o.items.len());
            for item in &o.items {
                let f = &layer.features[item.feature as usize];
                let mut extra = Map::new();
                extra.insert("area_m2".into(), json!(round(item.area_m2, 2)));
                extra.insert("length_m".into(), json!(round(item.length_m, 2)));
                extra.insert("amount".into(), json!(round(item.amount, 2)));
                extra.insert(
                    "site_share".into(),
                    json!(item.site_share.map(|s| round(s, 6))),
                );
                extra.insert(
                    "feature_share".into(),
                    json!(item.feature_share.map(|s| round(s, 6))),
                );
                let mut feature_json = geojson_io::feature_json(&layer, f, &to_output, extra)?;
                if let Some(g) = &item.geometry {
                    feature_json["geometry"] =
                        geojson_io::geometry_json(&to_output.transformed(g)?);
                }
                features.push(feature_json);
            }
            features
        }
    };
    members.insert("numberReturned".into(), json!(features.len()));
    Ok(geojson_io::feature_collection(features, members))
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// The geometry (working CRS) of the feature named by `LAYER:ID`.
fn feature_geometry(
    config: &CatalogConfig,
    reference: &str,
    working: &str,
) -> Result<Geometry<f64>> {
    let Some((layer_id, id)) = reference.split_once(':') else {
        bail!("--feature {reference:?}: expected LAYER:ID, e.g. projects:P043");
    };
    let layer_config = config.layer(layer_id).with_context(|| {
        format!("--feature {reference:?}: no layer {layer_id:?} in the catalogue")
    })?;
    let layer = store::load_layer(layer_config, working)?;
    let feature =
        subject::feature(&layer, id).with_context(|| format!("--feature {reference:?}"))?;
    Ok(feature.geometry.clone())
}

/// The query geometry in the working CRS. Coordinates are read east first (longitude,
/// latitude) whatever `--crs` says, and must lie in the working CRS's area of use.
fn query_geometry(input: &QueryInput, working: &str) -> Result<Geometry<f64>> {
    let crs = InputCrs::east_north(&input.crs);
    let (what, g) = if let Some(p) = &input.point {
        ("--point", subject::point(p, &crs))
    } else if let Some(b) = &input.bbox {
        ("--bbox", subject::bbox(b, &crs).map(Geometry::Rect))
    } else if let Some(g) = &input.geometry {
        let text = match g.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read --geometry file {file}"))?,
            None => g.clone(),
        };
        ("--geometry", subject::geometry("geometry", &text, &crs))
    } else {
        bail!("give the query geometry with --point, --bbox, --geometry or --feature")
    };
    let g = g.map_err(|e| anyhow::anyhow!("--{e}"))?;
    Ok(subject::into_working(what, g, &crs, working)?)
}
