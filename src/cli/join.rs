//! `territorio join`: join attributes by location, from the command line (the same join and
//! the same writers as `/analysis/join`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use super::{layer_config, progress_printer, DEFAULT_CATALOG};
use crate::analysis;
use crate::catalog::{CatalogConfig, LayerConfig};
use crate::crs::{self, OutputCrs, CRS84};
use crate::geojson_io::GeometryCache;
use crate::store::{self, LoadEvent};

/// Options of `territorio join`.
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The layer whose features get the properties (e.g. `projects`).
    pub target: String,
    /// The layer the properties come from (e.g. `municipalities`).
    pub join: String,
    /// How a target feature must meet a join feature: `intersects` (they share a point),
    /// `within` (the target lies inside it) or `contains` (the target contains it).
    #[arg(long, value_enum, default_value_t = JoinPredicateArg::Intersects)]
    pub predicate: JoinPredicateArg,
    /// With several matches: `all` (one row each), `first` (in the join layer's order) or
    /// `largest` (largest overlap: area for polygons, length for lines).
    #[arg(long, value_enum, default_value_t = JoinModeArg::All)]
    pub mode: JoinModeArg,
    /// The join layer's properties to copy, comma separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub fields: Option<Vec<String>>,
    /// Prefix of the joined properties' names (default: the join layer's id and `_`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Leave out the target features that match nothing.
    #[arg(long)]
    pub discard_nonmatching: bool,
    /// `geojson` (CRS84 unless --out-crs says otherwise) or `csv` (no geometry).
    #[arg(long, value_enum, default_value_t = JoinFormat::Geojson)]
    pub format: JoinFormat,
    /// CRS of the GeoJSON output.
    #[arg(long, default_value = CRS84)]
    pub out_crs: String,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The catalogue file.
    #[arg(long, default_value = DEFAULT_CATALOG)]
    pub catalog: PathBuf,
}

/// `--predicate` of `territorio join`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JoinPredicateArg {
    Intersects,
    Within,
    Contains,
}

/// `--mode` of `territorio join`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JoinModeArg {
    All,
    First,
    Largest,
}

/// Output of `territorio join`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JoinFormat {
    Geojson,
    Csv,
}

/// `territorio join`: loads the two layers, joins and writes the table.
pub fn join(args: JoinArgs) -> Result<i32> {
    let mut config = CatalogConfig::from_file(&args.catalog)?;
    let working = crs::normalize(&config.working_crs);
    crs::check_working_crs(&working)?;
    // The command line writes east, north (or lon, lat) whatever the CRS, like its other
    // commands; the HTTP API follows the CRS's authority axis order.
    let out_crs = match args.format {
        JoinFormat::Geojson => {
            let mut c = OutputCrs::new(&args.out_crs)?;
            c.northing_first = false;
            Some(c)
        }
        JoinFormat::Csv => None,
    };
    // Only the two layers are loaded: a catalogue of them alone.
    let mut configs = Vec::new();
    for id in [&args.target, &args.join] {
        let layer_config = layer_config(&config, id)?;
        if !configs.iter().any(|c: &&LayerConfig| c.id == *id) {
            configs.push(layer_config);
        }
    }
    let mut layers = Vec::new();
    for layer_config in configs {
        let started = Instant::now();
        let layer = store::load_layer(layer_config, &working)?;
        progress_printer()(LoadEvent::Finished {
            layer: layer.id().to_string(),
            features: layer.features.len(),
            invalid: layer.invalid_features().count(),
            elapsed: started.elapsed(),
        });
        layers.push(layer);
    }
    config
        .layers
        .retain(|l| layers.iter().any(|loaded| loaded.id() == l.id));
    let catalog = store::Catalog::from_layers(config, working, layers);
    let request = analysis::JoinRequest {
        target: args.target,
        join: args.join,
        predicate: match args.predicate {
            JoinPredicateArg::Intersects => analysis::JoinPredicate::Intersects,
            JoinPredicateArg::Within => analysis::JoinPredicate::Within,
            JoinPredicateArg::Contains => analysis::JoinPredicate::Contains,
        },
        mode: match args.mode {
            JoinModeArg::All => analysis::JoinMode::All,
            JoinModeArg::First => analysis::JoinMode::First,
            JoinModeArg::Largest => analysis::JoinMode::LargestOverlap,
        },
        fields: args.fields,
        prefix: args.prefix,
        discard_nonmatching: args.discard_nonmatching,
    };
    let started = Instant::now();
    let result = analysis::join_document(&catalog, &request)?;
    let elapsed = started.elapsed();
    let out = match &out_crs {
        Some(out_crs) => {
            let cache = GeometryCache::unbounded(&catalog);
            analysis::join_geojson(&catalog, &cache, &result, out_crs)?
        }
        None => {
            let mut out = Vec::new();
            analysis::write_join_csv(&mut out, &result);
            out
        }
    };
    eprintln!(
        "joined {} of {} features of {} to {} ({}, {}) in {:.0} ms: {} rows",
        result.matched,
        result.target.features.len(),
        result.target.id(),
        result.join.id(),
        result.predicate,
        result.mode,
        elapsed.as_secs_f64() * 1e3,
        result.rows.len()
    );
    if !result.skipped_invalid.is_empty() {
        eprintln!(
            "{} target features with invalid geometries were not joined",
            result.skipped_invalid.len()
        );
    }
    match args.out {
        Some(path) => std::fs::write(&path, &out)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&out)?;
            if out_crs.is_some() {
                writeln!(stdout)?;
            }
        }
    }
    Ok(0)
}
