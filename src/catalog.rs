//! The catalogue: which layers exist, where their data lives and in which CRS analysis happens.
//!
//! A catalogue is a TOML file (`examples/cremona/catalog.toml` in the demo):
//!
//! ```toml
//! working_crs = "EPSG:32632"      # optional; projected, metres
//! styles_dir = "styles"           # optional; relative to this file (default "../styles")
//!
//! [[layer]]
//! id = "productive_areas"          # URL-safe, unique
//! title = "Aree produttive"
//! description = "Productive areas of the settlement system"
//! system = "settlement"            # infrastructure | settlement | rural | environmental | projects
//! source = "data/settlement.gpkg"  # relative to this file; any vector format GDAL reads
//! layer = "productive_areas"       # optional: layer inside a multi-layer source
//! id_field = "code"                # optional: property used as feature id (default: the source FID)
//! crs = "EPSG:3003"                # optional: overrides the source CRS (a Shapefile without .prj)
//! style = "productive_areas"       # optional: styles/productive_areas.json (MapLibre) and .qml (QGIS)
//! ```
//!
//! A layer may come from a PostGIS table or view instead of a file: `table = "ptcp.zones"`
//! (and `geometry_column` when the table has several), read through the catalogue's one
//! `[database]` connection. The connection string never holds the password: libpq takes it
//! from `PGPASSWORD`, `~/.pgpass` or a service file, so the catalogue can be shared.
//!
//! [`CatalogFile`] is the file as written, and serialises back to the same TOML (the demo
//! generator writes its catalogue that way); [`CatalogConfig`] is the checked catalogue with
//! paths resolved. This module only reads, checks and writes the file; [`crate::store`] loads
//! the data it points to, and [`crate::ptcp::roles`] gives `[roles]` its meaning and checks it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod roles;
pub mod watch;

pub use roles::RoleTable;

/// The default working CRS: WGS 84 / UTM zone 32N, in metres.
pub const DEFAULT_WORKING_CRS: &str = "EPSG:32632";

/// The PTCP system a layer belongs to (or the pact projects).
/// Serialised by its [`System::name`] (the `Serialize` impl is in `analysis::locate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    Infrastructure,
    Settlement,
    Rural,
    Environmental,
    Projects,
}

impl System {
    pub const ALL: [System; 5] = [
        System::Infrastructure,
        System::Settlement,
        System::Rural,
        System::Environmental,
        System::Projects,
    ];

    pub fn name(self) -> &'static str {
        match self {
            System::Infrastructure => "infrastructure",
            System::Settlement => "settlement",
            System::Rural => "rural",
            System::Environmental => "environmental",
            System::Projects => "projects",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The catalogue file as written: paths as given (relative to the file), `[roles]` without
/// defaults. Parsing and serialising round-trip: [`CatalogFile::parse`] of
/// [`CatalogFile::to_toml`] gives the same value back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// CRS where distances and areas are computed (projected, metres).
    #[serde(default = "default_working_crs")]
    pub working_crs: String,
    /// Folder of the layer styles, relative to the catalogue file.
    #[serde(default = "default_styles_dir")]
    pub styles_dir: String,
    /// The PostgreSQL/PostGIS database of the layers that name a `table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseConfig>,
    /// The layers, in the order they are listed.
    #[serde(default, rename = "layer")]
    pub layers: Vec<LayerConfig>,
    /// Which layer plays which part in site reports and indicators.
    #[serde(default, skip_serializing_if = "RoleTable::is_empty")]
    pub roles: RoleTable,
}

impl CatalogFile {
    /// Reads a catalogue file without checking what it points to.
    pub fn read(path: &Path) -> Result<Self, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses catalogue text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, CatalogError> {
        toml::from_str(text).map_err(|e| CatalogError::Syntax {
            path: path.to_path_buf(),
            location: e
                .span()
                .map(|span| layer_location(text, span.start))
                .unwrap_or_default(),
            message: e.message().to_string(),
        })
    }

    /// The catalogue as TOML: top-level keys, then one `[[layer]]` table per layer, then
    /// `[roles]` when it names anything. Keys left out (`None`) are not written.
    pub fn to_toml(&self) -> Result<String, CatalogError> {
        toml::to_string(self).map_err(|e| CatalogError::Write {
            message: e.to_string(),
        })
    }
}

fn default_working_crs() -> String {
    DEFAULT_WORKING_CRS.to_string()
}

fn default_styles_dir() -> String {
    "../styles".to_string()
}

/// `[database]`: the one PostgreSQL/PostGIS connection of the catalogue's `table` layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A libpq connection string, as keywords (`host=/run/postgresql dbname=ptcp user=gis`),
    /// a `postgresql://` URI, or `service=NAME` (`pg_service.conf`). A password in it is
    /// refused: it comes from `PGPASSWORD`, `~/.pgpass` (`PGPASSFILE`) or the service file.
    pub dsn: String,
}

impl DatabaseConfig {
    /// Whether the connection string carries a password (`password=` keyword, or a URI with
    /// `user:password@`).
    pub fn has_password(&self) -> bool {
        let dsn = self.dsn.trim();
        if let Some(rest) = dsn
            .strip_prefix("postgresql://")
            .or_else(|| dsn.strip_prefix("postgres://"))
        {
            let authority = rest.split(['/', '?']).next().unwrap_or("");
            let userinfo = authority.rsplit_once('@').map(|(u, _)| u).unwrap_or("");
            return userinfo.contains(':')
                || rest.split_once('?').is_some_and(|(_, query)| {
                    query
                        .split('&')
                        .any(|pair| pair.trim_start().starts_with("password="))
                });
        }
        // Keywords: `password=...` or `password = ...`, as a word of its own.
        let mut from = 0;
        while let Some(at) = dsn[from..].find("password").map(|i| from + i) {
            let starts_word = dsn[..at]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace);
            let after = dsn[at + "password".len()..].trim_start();
            if starts_word && after.starts_with('=') {
                return true;
            }
            from = at + "password".len();
        }
        false
    }
}

/// One `[[layer]]` entry of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// URL-safe identifier, unique in the catalogue (letters, digits, `_`, `-`).
    pub id: String,
    /// Human title, shown in clients.
    pub title: String,
    /// What the layer holds and where it comes from.
    pub description: String,
    /// PTCP system the layer belongs to.
    pub system: System,
    /// Data file, relative to the catalogue file (resolved to an absolute path when loaded).
    /// Empty for a layer read from a database `table`.
    #[serde(default, skip_serializing_if = "path_is_empty")]
    pub source: PathBuf,
    /// A table or view of the catalogue's `[database]` (`schema.table`, or `table` in the
    /// search path), instead of a `source` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The geometry column of `table`; needed only when it has more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry_column: Option<String>,
    /// The `[database]` connection string of a `table` layer, set when the catalogue is checked.
    #[serde(skip)]
    pub database: Option<String>,
    /// Layer name inside a multi-layer source (GeoPackage); default: the first layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Property whose value is the feature id; default: the source's feature id (FID). Its
    /// values must be unique and non-empty: a layer with repeated ids is refused when loaded
    /// (see [`crate::store::LoadError::DuplicateFeatureIds`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// CRS of the source, overriding what the file says (for a Shapefile without `.prj`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    /// Style name: `<styles_dir>/<style>.json` (MapLibre layer) and `<styles_dir>/<style>.qml` (QGIS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Editing through OGC API - Features Part 4 (`[layer.edit]`); absent: the layer is read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditConfig>,
    /// Rules on property values (`[[layer.field]]`): titles, domains, derived values. Every
    /// edit is checked against them, and the collection's schema publishes them.
    #[serde(default, rename = "field", skip_serializing_if = "Vec::is_empty")]
    pub field_rules: Vec<FieldRule>,
}

fn path_is_empty(path: &Path) -> bool {
    path.as_os_str().is_empty()
}

impl LayerConfig {
    /// Where the layer's data comes from, for messages: the file, or the database table.
    pub fn origin(&self) -> PathBuf {
        match &self.table {
            Some(table) => PathBuf::from(format!("PostgreSQL table {table}")),
            None => self.source.clone(),
        }
    }

    /// Whether the layer takes edits.
    pub fn is_editable(&self) -> bool {
        self.edit.is_some()
    }

    /// The rule of a field, when the catalogue gives one.
    pub fn field_rule(&self, name: &str) -> Option<&FieldRule> {
        self.field_rules.iter().find(|r| r.name == name)
    }
}

/// How an editable layer is edited (`[layer.edit]`).
///
/// ```toml
/// [layer.edit]
/// history = "data/projects_history.jsonl"  # optional: past monitoring rounds, imported once
/// id_prefix = "P"                           # optional: new ids are P151, P152... (default: integers)
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditConfig {
    /// Changes made before the service kept the layer, imported into its history when the
    /// store is created (JSON Lines; see `crate::edit::history`). Relative to the catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<PathBuf>,
    /// The prefix of the ids the service gives new features, followed by the next number
    /// (zero-padded like the existing ids). Without it new ids are the next integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_prefix: Option<String>,
}

/// What a field's values may be (`[[layer.field]]`).
///
/// ```toml
/// [[layer.field]]
/// name = "progress_pct"
/// title = "Avanzamento (%)"
/// required = true
/// minimum = 0
/// maximum = 100
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// The field (a property of the source).
    pub name: String,
    /// A human title (QGIS shows it as the field's alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A value must be given (null refused).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The only values allowed (text or integers).
    #[serde(default, rename = "values", skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<Allowed>,
    /// The smallest number allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// The largest number allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// A date field this date may not come before (an end date after its start date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// The value is computed by the service from another field through a table (a name from
    /// a code); clients cannot set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<Derived>,
}

/// One allowed value of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Allowed {
    Int(i64),
    Text(String),
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allowed::Int(i) => write!(f, "{i}"),
            Allowed::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// A derived field: its value is `values[<value of from>]`, or null when `from` is null or
/// not in the table.
///
/// ```toml
/// derived = { from = "axis", values = { "1" = "Infrastrutture", "2" = "Ambiente" } }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derived {
    pub from: String,
    /// Keys are the source values as text.
    pub values: std::collections::BTreeMap<String, String>,
}

/// A checked catalogue, with every path resolved.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// The catalogue file itself.
    pub path: PathBuf,
    pub working_crs: String,
    pub styles_dir: PathBuf,
    pub layers: Vec<LayerConfig>,
    /// `[roles]` as written (see [`crate::ptcp::roles`] for its meaning and defaults).
    pub roles: RoleTable,
}

/// What can be wrong with a catalogue file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalogue {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("catalogue {path}{location}: {message}")]
    Syntax {
        path: PathBuf,
        /// ", layer #N (id "...")" when the error is inside a layer entry.
        location: String,
        message: String,
    },
    #[error("catalogue {path}: layer #{index} has id {id:?}, which is not URL-safe (use letters, digits, '_' and '-')")]
    BadId {
        path: PathBuf,
        index: usize,
        id: String,
    },
    #[error("catalogue {path}: duplicate layer id {id:?} (layers #{first} and #{second})")]
    DuplicateId {
        path: PathBuf,
        id: String,
        first: usize,
        second: usize,
    },
    #[error("catalogue {path}: layer {id:?}: source file {file} does not exist")]
    MissingSource {
        path: PathBuf,
        id: String,
        file: PathBuf,
    },
    #[error("catalogue {path}: layer {id:?}: give either `source` (a file) or `table` (a table of [database]), not both")]
    TwoSources { path: PathBuf, id: String },
    #[error("catalogue {path}: layer {id:?}: no `source` file and no `table`")]
    NoSource { path: PathBuf, id: String },
    #[error("catalogue {path}: layer {id:?} reads table {table:?}, but the catalogue has no [database] with a `dsn`")]
    NoDatabase {
        path: PathBuf,
        id: String,
        table: String,
    },
    #[error("catalogue {path}: [database] dsn holds a password: leave it out and give it in PGPASSWORD, ~/.pgpass (PGPASSFILE) or a pg_service.conf service")]
    PasswordInCatalog { path: PathBuf },
    #[error("catalogue {path}: layer {id:?}: `geometry_column` is for a `table` layer")]
    GeometryColumnWithoutTable { path: PathBuf, id: String },
    #[error("catalogue {path}: layer {id:?}: style {style:?} has neither {json} nor {qml}")]
    MissingStyle {
        path: PathBuf,
        id: String,
        style: String,
        json: PathBuf,
        qml: PathBuf,
    },
    #[error("catalogue {path}: layer {id:?}: history file {file} does not exist")]
    MissingHistory {
        path: PathBuf,
        id: String,
        file: PathBuf,
    },
    #[error("catalogue {path}: layer {id:?}: field {field:?} has two [[layer.field]] entries")]
    DuplicateFieldRule {
        path: PathBuf,
        id: String,
        field: String,
    },
    #[error("cannot write the catalogue as TOML: {message}")]
    Write { message: String },
}

impl CatalogConfig {
    /// Reads and checks a catalogue file.
    pub fn from_file(path: &Path) -> Result<Self, CatalogError> {
        Self::from_document(CatalogFile::read(path)?, path)
    }

    /// Parses catalogue text as if it were read from `path` (relative paths resolve against its folder).
    pub fn from_str_at(text: &str, path: &Path) -> Result<Self, CatalogError> {
        Self::from_document(CatalogFile::parse(text, path)?, path)
    }

    /// Checks a parsed catalogue file read from `path`: ids, source files, styles. `[roles]` is
    /// kept as written; [`crate::ptcp::roles::check`] checks it.
    pub fn from_document(file: CatalogFile, path: &Path) -> Result<Self, CatalogError> {
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let styles_dir = base.join(&file.styles_dir);

        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, layer) in file.layers.iter().enumerate() {
            let index = i + 1;
            let url_safe = !layer.id.is_empty()
                && layer
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !url_safe {
                return Err(CatalogError::BadId {
                    path: path.to_path_buf(),
                    index,
                    id: layer.id.clone(),
                });
            }
            if let Some(first) = seen.insert(&layer.id, index) {
                return Err(CatalogError::DuplicateId {
                    path: path.to_path_buf(),
                    id: layer.id.clone(),
                    first,
                    second: index,
                });
            }
        }

        if file
            .database
            .as_ref()
            .is_some_and(DatabaseConfig::has_password)
        {
            return Err(CatalogError::PasswordInCatalog {
                path: path.to_path_buf(),
            });
        }
        let mut layers = file.layers;
        for layer in &mut layers {
            let (path, id) = (path.to_path_buf(), layer.id.clone());
            match (&layer.table, layer.source.as_os_str().is_empty()) {
                (Some(_), false) => return Err(CatalogError::TwoSources { path, id }),
                (None, true) => return Err(CatalogError::NoSource { path, id }),
                (None, false) => {
                    if layer.geometry_column.is_some() {
                        return Err(CatalogError::GeometryColumnWithoutTable { path, id });
                    }
                    let source = base.join(&layer.source);
                    if !source.exists() {
                        return Err(CatalogError::MissingSource {
                            path,
                            id,
                            file: source,
                        });
                    }
                    layer.source = source;
                }
                (Some(table), true) => {
                    let Some(database) = &file.database else {
                        return Err(CatalogError::NoDatabase {
                            path,
                            id,
                            table: table.clone(),
                        });
                    };
                    layer.database = Some(database.dsn.clone());
                }
            }
            if let Some(history) = layer.edit.as_mut().and_then(|e| e.history.as_mut()) {
                let file = base.join(&*history);
                if !file.exists() {
                    return Err(CatalogError::MissingHistory {
                        path: path.to_path_buf(),
                        id: layer.id.clone(),
                        file,
                    });
                }
                *history = file;
            }
            let mut named: HashMap<&str, ()> = HashMap::new();
            for rule in &layer.field_rules {
                if named.insert(&rule.name, ()).is_some() {
                    return Err(CatalogError::DuplicateFieldRule {
                        path: path.to_path_buf(),
                        id: layer.id.clone(),
                        field: rule.name.clone(),
                    });
                }
            }
            if let Some(style) = &layer.style {
                let json = styles_dir.join(format!("{style}.json"));
                let qml = styles_dir.join(format!("{style}.qml"));
                if !json.exists() && !qml.exists() {
                    return Err(CatalogError::MissingStyle {
                        path: path.to_path_buf(),
                        id: layer.id.clone(),
                        style: style.clone(),
                        json,
                        qml,
                    });
                }
            }
        }
        Ok(CatalogConfig {
            path: path.to_path_buf(),
            working_crs: file.working_crs,
            styles_dir,
            layers,
            roles: file.roles,
        })
    }

    /// The layer entry with this id.
    pub fn layer(&self, id: &str) -> Option<&LayerConfig> {
        self.layers.iter().find(|l| l.id == id)
    }
}

/// For an error at byte `offset`, names the `[[layer]]` entry it falls in (", layer #N (id "x")"),
/// and always gives the line number.
fn layer_location(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    // Byte offsets of the lines that open a `[[layer]]` table, in order.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&start| {
            text[start..]
                .trim_start_matches([' ', '\t'])
                .starts_with("[[layer]]")
        })
        .collect();
    let Some(index) = starts.iter().rposition(|&s| s <= offset) else {
        return format!(", line {line}");
    };
    let start = starts[index];
    let end = starts.get(index + 1).copied().unwrap_or(text.len());
    let id = text[start..end].lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "id").then(|| value.trim().trim_matches('"').to_string())
    });
    match id {
        Some(id) => format!(", line {line}, layer #{} (id {id:?})", index + 1),
        None => format!(", line {line}, layer #{}", index + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_files(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        dir
    }

    const ONE: &str = r#"
[[layer]]
id = "roads"
title = "Strade"
description = "d"
system = "infrastructure"
source = "roads.geojson"
"#;

    #[test]
    fn reads_a_minimal_catalogue_with_defaults() {
        let dir = with_files(&["roads.geojson"]);
        let path = dir.path().join("catalog.toml");
        let c = CatalogConfig::from_str_at(ONE, &path).unwrap();
        assert_eq!(c.working_crs, "EPSG:32632");
        assert_eq!(c.layers.len(), 1);
        assert_eq!(c.layers[0].system, System::Infrastructure);
        assert_eq!(c.layers[0].source, dir.path().join("roads.geojson"));
    }

    #[test]
    fn unknown_key_names_key_layer_and_file() {
        let dir = with_files(&["roads.geojson"]);
        let path = dir.path().join("catalog.toml");
        let text = format!("{ONE}colour = \"red\"\n");
        let e = CatalogConfig::from_str_at(&text, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        assert!(e.contains("layer #1 (id \"roads\")"), "{e}");
        assert!(e.contains("catalog.toml"), "{e}");
    }

    #[test]
    fn unknown_system_is_named() {
        let dir = with_files(&["roads.geojson"]);
        let path = dir.path().join("catalog.toml");
        let text = ONE.replace("infrastructure", "transport");
        let e = CatalogConfig::from_str_at(&text, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("transport"), "{e}");
        assert!(e.contains("layer #1 (id \"roads\")"), "{e}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let dir = with_files(&["roads.geojson"]);
        let path = dir.path().join("catalog.toml");
        let text = format!("{ONE}{ONE}");
        let e = CatalogConfig::from_str_at(&text, &path).unwrap_err();
        assert!(
            matches!(&e, CatalogError::DuplicateId { id, first: 1, second: 2, .. } if id == "roads"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_names_layer_and_file() {
        let dir = with_files(&[]);
        let path = dir.path().join("catalog.toml");
        let e = CatalogConfig::from_str_at(ONE, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"roads\""), "{e}");
        assert!(e.contains("roads.geojson"), "{e}");
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn ids_must_be_url_safe() {
        let dir = with_files(&["roads.geojson"]);
        let path = dir.path().join("catalog.toml");
        let text = ONE.replace("id = \"roads\"", "id = \"strade e ponti\"");
        let e = CatalogConfig::from_str_at(&text, &path).unwrap_err();
        assert!(matches!(e, CatalogError::BadId { index: 1, .. }), "{e}");
    }

    /// Every key of the format, `[roles]` included.
    const FULL: &str = r#"
working_crs = "EPSG:3003"
styles_dir = "stili"

[[layer]]
id = "strade"
title = "Strade \"principali\""
description = "Rete viaria, con l'apostrofo"
system = "infrastructure"
source = "dati/strade.gpkg"
layer = "strade"
id_field = "codice"
crs = "EPSG:3003"
style = "strade"

[layer.edit]
id_prefix = "S"

[[layer.field]]
name = "classe"
title = "Classe"
required = true
values = ["statale", "provinciale", 3]

[[layer.field]]
name = "corsie"
minimum = 1
maximum = 6.5
derived = { from = "classe", values = { "statale" = "SS", "3" = "SP" } }

[[layer.field]]
name = "fine"
not_before = "inizio"

[[layer]]
id = "comuni"
title = "Comuni"
description = "d"
system = "settlement"
source = "comuni.shp"

[roles]
roads = "strade"
hospitals = ""
road_class_field = "classe"
state_road_class = "statale"
"#;

    #[test]
    fn parsing_and_serialising_round_trip() {
        let path = Path::new("catalog.toml");
        let parsed = CatalogFile::parse(FULL, path).unwrap();
        assert_eq!(parsed.layers.len(), 2);
        assert_eq!(parsed.layers[0].title, "Strade \"principali\"");
        assert_eq!(parsed.roles.get("hospitals"), Some(""));
        assert_eq!(parsed.roles.get("state_road_class"), Some("statale"));
        let strade = &parsed.layers[0];
        assert_eq!(
            strade.edit.as_ref().unwrap().id_prefix.as_deref(),
            Some("S")
        );
        assert_eq!(strade.field_rules.len(), 3);
        assert_eq!(
            strade.field_rule("classe").unwrap().allowed,
            vec![
                Allowed::Text("statale".into()),
                Allowed::Text("provinciale".into()),
                Allowed::Int(3)
            ]
        );
        assert_eq!(strade.field_rule("corsie").unwrap().maximum, Some(6.5));
        assert!(!parsed.layers[1].is_editable());
        let written = parsed.to_toml().unwrap();
        let again = CatalogFile::parse(&written, path).unwrap();
        assert_eq!(parsed, again, "{written}");
        // Keys left out stay out, and an empty [roles] is not written.
        let bare = CatalogFile::parse(ONE, path).unwrap();
        let written = bare.to_toml().unwrap();
        assert!(!written.contains("[roles]"), "{written}");
        assert!(!written.contains("id_field"), "{written}");
        assert_eq!(CatalogFile::parse(&written, path).unwrap(), bare);
    }
}
