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
//! [`CatalogFile`] is the file as written, and serialises back to the same TOML (the demo
//! generator writes its catalogue that way); [`CatalogConfig`] is the checked catalogue with
//! paths resolved and role defaults filled in. This module only reads, checks and writes the
//! file; [`crate::store`] loads the data it points to.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The default working CRS: WGS 84 / UTM zone 32N, in metres.
pub const DEFAULT_WORKING_CRS: &str = "EPSG:32632";

/// The PTCP system a layer belongs to (or the pact projects).
/// Serialised by its [`System::name`] (the `Serialize` impl is in [`crate::analysis::locate`]).
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
    /// The layers, in the order they are listed.
    #[serde(default, rename = "layer")]
    pub layers: Vec<LayerConfig>,
    /// Which layer plays which part in site reports and indicators.
    #[serde(default, skip_serializing_if = "Roles::is_empty")]
    pub roles: Roles,
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
    pub source: PathBuf,
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
}

/// The optional `[roles]` table: which layer plays which part in the site report and the
/// monitoring indicators, and which fields carry residents, beds and the project attributes.
///
/// ```toml
/// [roles]
/// municipalities = "comuni"        # a layer id of this catalogue
/// residents_field = "residents"
/// nursing_homes = ""               # "": no layer plays this part
/// ```
///
/// A layer role left out defaults to the layer with the demo id (`municipalities`, `parks`...)
/// when the catalogue has one, and to none otherwise; a layer named explicitly must exist.
/// A field left out defaults to the demo field name and is used only when the layer has it; a
/// field named explicitly must exist (checked when the layers are loaded, see
/// [`crate::analysis::RoleLayers`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub municipalities: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urban_areas: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub productive_areas: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub natura2000: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fluvial_belts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecological_corridors: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agricultural_land: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agrifood_sites: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motorway_junctions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stations: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roads: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub river_port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospitals: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nursing_homes: Option<String>,
    /// Display name of features of any role layer (default `name`; the feature id without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_field: Option<String>,
    /// Residents of a municipality (default `population`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residents_field: Option<String>,
    /// Beds of a nursing home or hospital (default `beds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beds_field: Option<String>,
    /// Kind, status and supra-municipal flag of a productive area
    /// (defaults `kind`, `status`, `sovracomunale`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub productive_kind_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub productive_status_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supra_municipal_field: Option<String>,
    /// Road class field and the class of state roads (defaults `class`, `state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub road_class_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_road_class: Option<String>,
    /// Project attributes (defaults `title`, `axis`, `emblematic_action`, `aqst_programme`,
    /// `status`, `budget_eur`, `progress_pct`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_title_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_axis_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_action_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_aqst_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_status_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_budget_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_progress_field: Option<String>,
}

impl Roles {
    /// The layer roles and the layer each is given to (after [`CatalogConfig`] filled defaults).
    pub fn layer_roles(&self) -> [(&'static str, &Option<String>); 16] {
        [
            ("projects", &self.projects),
            ("municipalities", &self.municipalities),
            ("urban_areas", &self.urban_areas),
            ("productive_areas", &self.productive_areas),
            ("parks", &self.parks),
            ("natura2000", &self.natura2000),
            ("fluvial_belts", &self.fluvial_belts),
            ("ecological_corridors", &self.ecological_corridors),
            ("agricultural_land", &self.agricultural_land),
            ("agrifood_sites", &self.agrifood_sites),
            ("motorway_junctions", &self.motorway_junctions),
            ("stations", &self.stations),
            ("roads", &self.roads),
            ("river_port", &self.river_port),
            ("hospitals", &self.hospitals),
            ("nursing_homes", &self.nursing_homes),
        ]
    }

    fn layer_roles_mut(&mut self) -> [(&'static str, &mut Option<String>); 16] {
        [
            ("projects", &mut self.projects),
            ("municipalities", &mut self.municipalities),
            ("urban_areas", &mut self.urban_areas),
            ("productive_areas", &mut self.productive_areas),
            ("parks", &mut self.parks),
            ("natura2000", &mut self.natura2000),
            ("fluvial_belts", &mut self.fluvial_belts),
            ("ecological_corridors", &mut self.ecological_corridors),
            ("agricultural_land", &mut self.agricultural_land),
            ("agrifood_sites", &mut self.agrifood_sites),
            ("motorway_junctions", &mut self.motorway_junctions),
            ("stations", &mut self.stations),
            ("roads", &mut self.roads),
            ("river_port", &mut self.river_port),
            ("hospitals", &mut self.hospitals),
            ("nursing_homes", &mut self.nursing_homes),
        ]
    }

    /// The layer id that plays `role` when `[roles]` does not name one (the demo's layer id).
    pub fn default_layer(role: &str) -> &str {
        match role {
            "agricultural_land" => "agricultural_areas",
            other => other,
        }
    }

    /// Sets the layer of a layer role; `false` when there is no such role.
    pub fn set_layer(&mut self, role: &str, layer: &str) -> bool {
        match self.layer_roles_mut().into_iter().find(|(r, _)| *r == role) {
            Some((_, slot)) => {
                *slot = Some(layer.to_string());
                true
            }
            None => false,
        }
    }

    /// How each layer role is bound, read from `[roles]` as written (before [`Roles::resolve`])
    /// against the layer ids of the catalogue (`exists`).
    pub fn bindings(&self, exists: impl Fn(&str) -> bool) -> Vec<RoleBinding> {
        self.layer_roles()
            .into_iter()
            .map(|(role, layer)| {
                let default = Self::default_layer(role);
                let (layer, how) = match layer.as_deref() {
                    Some("") => (None, Bound::Disabled),
                    Some(id) => (Some(id.to_string()), Bound::Named),
                    None if exists(default) => (Some(default.to_string()), Bound::Default),
                    None => (None, Bound::Unbound),
                };
                RoleBinding { role, layer, how }
            })
            .collect()
    }

    /// Fills layer roles left out with the demo layer of the same id (when `exists` says there
    /// is one), turns `""` into none, and checks that named layers exist. On error, returns the
    /// role and the missing layer id.
    pub fn resolve(&mut self, exists: impl Fn(&str) -> bool) -> Result<(), (String, String)> {
        let bindings = self.bindings(&exists);
        for (binding, (_, slot)) in bindings.into_iter().zip(self.layer_roles_mut()) {
            if let (Bound::Named, Some(id)) = (binding.how, &binding.layer) {
                if !exists(id) {
                    return Err((binding.role.to_string(), id.clone()));
                }
            }
            *slot = binding.layer;
        }
        Ok(())
    }

    fn field_slots(&self) -> [&Option<String>; 14] {
        [
            &self.name_field,
            &self.residents_field,
            &self.beds_field,
            &self.productive_kind_field,
            &self.productive_status_field,
            &self.supra_municipal_field,
            &self.road_class_field,
            &self.project_title_field,
            &self.project_axis_field,
            &self.project_action_field,
            &self.project_aqst_field,
            &self.project_status_field,
            &self.project_budget_field,
            &self.project_progress_field,
        ]
    }

    fn field_slots_mut(&mut self) -> [&mut Option<String>; 14] {
        [
            &mut self.name_field,
            &mut self.residents_field,
            &mut self.beds_field,
            &mut self.productive_kind_field,
            &mut self.productive_status_field,
            &mut self.supra_municipal_field,
            &mut self.road_class_field,
            &mut self.project_title_field,
            &mut self.project_axis_field,
            &mut self.project_action_field,
            &mut self.project_aqst_field,
            &mut self.project_status_field,
            &mut self.project_budget_field,
            &mut self.project_progress_field,
        ]
    }

    /// Names the field of a field role (`productive_kind` sets `productive_kind_field`);
    /// `false` when there is no such role.
    pub fn set_field(&mut self, role: &str, name: &str) -> bool {
        match FIELD_ROLES.iter().position(|(r, _)| *r == role) {
            Some(i) => {
                *self.field_slots_mut()[i] = Some(name.to_string());
                true
            }
            None => false,
        }
    }

    /// A field role: the configured name and whether it was named explicitly (and so must
    /// exist), or the default name.
    pub fn field(&self, role: &str) -> (&str, bool) {
        let Some(i) = FIELD_ROLES.iter().position(|(r, _)| *r == role) else {
            return ("", false);
        };
        match self.field_slots()[i] {
            Some(name) => (name.as_str(), true),
            None => (FIELD_ROLES[i].1, false),
        }
    }

    /// Whether the table names nothing (an empty `[roles]` is not written).
    pub fn is_empty(&self) -> bool {
        *self == Roles::default()
    }

    /// The class value of state roads.
    pub fn state_road_class(&self) -> &str {
        self.state_road_class.as_deref().unwrap_or("state")
    }
}

/// The field roles (each set in `[roles]` as `<role>_field`), with the field read when
/// `[roles]` does not name one.
pub const FIELD_ROLES: [(&str, &str); 14] = [
    ("name", "name"),
    ("residents", "population"),
    ("beds", "beds"),
    ("productive_kind", "kind"),
    ("productive_status", "status"),
    ("supra_municipal", "sovracomunale"),
    ("road_class", "class"),
    ("project_title", "title"),
    ("project_axis", "axis"),
    ("project_action", "emblematic_action"),
    ("project_aqst", "aqst_programme"),
    ("project_status", "status"),
    ("project_budget", "budget_eur"),
    ("project_progress", "progress_pct"),
];

/// The field roles read from the layer of a layer role, as [`crate::analysis::RoleLayers`]
/// binds them: `name` on every role layer, then the role's own fields.
pub fn field_roles(layer_role: &str) -> &'static [&'static str] {
    match layer_role {
        "projects" => &[
            "name",
            "project_title",
            "project_axis",
            "project_action",
            "project_aqst",
            "project_status",
            "project_budget",
            "project_progress",
        ],
        "municipalities" => &["name", "residents"],
        "productive_areas" => &[
            "name",
            "productive_kind",
            "productive_status",
            "supra_municipal",
        ],
        "roads" => &["name", "road_class"],
        "hospitals" | "nursing_homes" => &["name", "beds"],
        _ => &["name"],
    }
}

/// How a layer role got its layer (see [`Roles::bindings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `[roles]` names the layer.
    Named,
    /// `[roles]` does not name the role: the layer whose id is the role's default plays it.
    Default,
    /// `[roles]` gives `""`: no layer plays the role.
    Disabled,
    /// `[roles]` does not name the role and no layer has its default id.
    Unbound,
}

/// One layer role and the layer that plays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleBinding {
    pub role: &'static str,
    pub layer: Option<String>,
    pub how: Bound,
}

/// A checked catalogue, with every path resolved.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// The catalogue file itself.
    pub path: PathBuf,
    pub working_crs: String,
    pub styles_dir: PathBuf,
    pub layers: Vec<LayerConfig>,
    /// Which layer plays which part, with layer defaults filled in.
    pub roles: Roles,
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
    #[error("catalogue {path}: [roles] {role} = {layer:?}, but the catalogue has no such layer")]
    UnknownRoleLayer {
        path: PathBuf,
        role: String,
        layer: String,
    },
    #[error("catalogue {path}: layer {id:?}: style {style:?} has neither {json} nor {qml}")]
    MissingStyle {
        path: PathBuf,
        id: String,
        style: String,
        json: PathBuf,
        qml: PathBuf,
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

    /// Checks a parsed catalogue file read from `path`: ids, source files, styles, `[roles]`.
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

        let mut layers = file.layers;
        for layer in &mut layers {
            let source = base.join(&layer.source);
            if !source.exists() {
                return Err(CatalogError::MissingSource {
                    path: path.to_path_buf(),
                    id: layer.id.clone(),
                    file: source,
                });
            }
            layer.source = source;
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
        let mut roles = file.roles;
        roles
            .resolve(|id| layers.iter().any(|l| l.id == id))
            .map_err(|(role, layer)| CatalogError::UnknownRoleLayer {
                path: path.to_path_buf(),
                role,
                layer,
            })?;
        Ok(CatalogConfig {
            path: path.to_path_buf(),
            working_crs: file.working_crs,
            styles_dir,
            layers,
            roles,
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
    fn roles_default_to_demo_ids_and_named_layers_must_exist() {
        let dir = with_files(&["roads.geojson"]);
        let path = dir.path().join("catalog.toml");
        let c = CatalogConfig::from_str_at(ONE, &path).unwrap();
        assert_eq!(c.roles.roads.as_deref(), Some("roads"));
        assert_eq!(c.roles.parks, None);
        assert_eq!(c.roles.field("residents"), ("population", false));

        let text = format!(
            "[roles]\nroads = \"\"\nhospitals = \"roads\"\nresidents_field = \"pop\"\n{ONE}"
        );
        let c = CatalogConfig::from_str_at(&text, &path).unwrap();
        assert_eq!(c.roles.roads, None);
        assert_eq!(c.roles.hospitals.as_deref(), Some("roads"));
        assert_eq!(c.roles.field("residents"), ("pop", true));

        let text = format!("[roles]\nparks = \"parchi\"\n{ONE}");
        let e = CatalogConfig::from_str_at(&text, &path).unwrap_err();
        assert!(
            matches!(&e, CatalogError::UnknownRoleLayer { role, layer, .. } if role == "parks" && layer == "parchi"),
            "{e}"
        );
        let text = format!("[roles]\nparchi = \"roads\"\n{ONE}");
        let e = CatalogConfig::from_str_at(&text, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("parchi"), "{e}");
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
        assert_eq!(parsed.roles.hospitals.as_deref(), Some(""));
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

    #[test]
    fn bindings_say_how_each_role_is_bound() {
        let mut roles = Roles::default();
        roles.set_layer("parks", "parchi");
        roles.set_layer("hospitals", "");
        assert!(!roles.set_layer("castles", "x"));
        let ids = ["parchi", "roads", "agricultural_areas"];
        let exists = |id: &str| ids.contains(&id);
        let bindings = roles.bindings(exists);
        assert_eq!(bindings.len(), 16);
        let of = |role: &str| bindings.iter().find(|b| b.role == role).unwrap().clone();
        assert_eq!(of("parks").how, Bound::Named);
        assert_eq!(of("parks").layer.as_deref(), Some("parchi"));
        assert_eq!(of("roads").how, Bound::Default);
        assert_eq!(of("agricultural_land").how, Bound::Default);
        assert_eq!(
            of("agricultural_land").layer.as_deref(),
            Some("agricultural_areas")
        );
        assert_eq!(of("hospitals").how, Bound::Disabled);
        assert_eq!(of("hospitals").layer, None);
        assert_eq!(of("stations").how, Bound::Unbound);

        roles.resolve(exists).unwrap();
        assert_eq!(roles.parks.as_deref(), Some("parchi"));
        assert_eq!(roles.roads.as_deref(), Some("roads"));
        assert_eq!(roles.hospitals, None);
        assert_eq!(roles.stations, None);

        let mut fields = Roles::default();
        assert!(fields.set_field("beds", "posti_letto"));
        assert!(!fields.set_field("colour", "x"));
        assert_eq!(fields.field("beds"), ("posti_letto", true));
        assert_eq!(fields.field("residents"), ("population", false));
        // Every field role is read from some layer role.
        let readers = [
            "projects",
            "municipalities",
            "productive_areas",
            "roads",
            "hospitals",
        ];
        for (role, _) in FIELD_ROLES {
            assert!(
                readers.iter().any(|l| field_roles(l).contains(&role)),
                "{role}"
            );
        }
    }
}
