//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod http;
pub mod pg;
pub mod process;
pub mod projects;
pub mod stores;

use std::path::{Path, PathBuf};
use std::process::Command;

use territorio::catalog::{LayerConfig, System};

/// The third-party test data folder (`../shared/data` beside the repository).
/// In a git worktree under `wt/`, the folder is two levels up (`../../shared/data`).
pub fn shared_data(file: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside = root.join("../shared/data").join(file);
    let worktree = root.join("../../shared/data").join(file);
    if !beside.exists() && worktree.exists() {
        worktree
    } else {
        beside
    }
}

/// Runs `ogr2ogr` with these arguments; panics with its stderr when it fails.
pub fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr is installed by scripts/install-deps");
    assert!(
        out.status.success(),
        "ogr2ogr {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A layer entry for a file, as the catalogue would give it.
pub fn layer_config(id: &str, source: &Path) -> LayerConfig {
    LayerConfig {
        id: id.to_string(),
        title: id.to_string(),
        description: String::new(),
        system: System::Settlement,
        source: source.to_path_buf(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: None,
        crs: None,
        style: None,
        edit: None,
        field_rules: Vec::new(),
    }
}

/// The main towns of the province and their approximate centres (lon, lat), from the domain
/// notes.
pub const MAIN_TOWNS: [(&str, f64, f64); 10] = [
    ("Cremona", 10.024, 45.133),
    ("Crema", 9.686, 45.364),
    ("Casalmaggiore", 10.418, 44.989),
    ("Soresina", 9.857, 45.287),
    ("Castelleone", 9.762, 45.294),
    ("Pizzighettone", 9.787, 45.187),
    ("Soncino", 9.872, 45.399),
    ("Rivolta d'Adda", 9.512, 45.470),
    ("Piadena Drizzona", 10.367, 45.129),
    ("Pandino", 9.553, 45.406),
];
