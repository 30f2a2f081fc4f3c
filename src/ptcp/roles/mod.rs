//! The parts layers play in the PTCP and pact rules, and their binding to a loaded catalogue.
//!
//! [`ROLES`] is the one table of roles: for each, its name in the catalogue's `[roles]` table
//! ([`crate::catalog::RoleTable`], which holds the settings as written and knows none of
//! them), the PTCP system its layer belongs to, the demo layer id it defaults to, the fields it
//! reads (each with its default name, see [`FIELDS`]) and what uses it. Everything else follows
//! from the table: the settings `[roles]` accepts ([`settings`], checked by [`check`]), how each
//! role is bound ([`bindings`], printed by `territorio check`), the demo's explicit `[roles]`
//! ([`set_layer`], [`set_field`]), the web map's configuration; [`RoleLayers::new`] binds every
//! role to its loaded layer and checks that every field named explicitly in `[roles]` exists;
//! the site report and the indicators ask the binding for a [`Role`] and a [`Field`];
//! [`RoleFields::bind`] binds one role's fields to any schema (the projects as they stood at
//! some instant, outside a loaded layer). Nothing else in territorio knows demo layer ids,
//! field names or the values `[roles]` sets (`state_road_class`, `completed_status`).
//!
//! ```toml
//! [roles]
//! municipalities = "comuni"        # a layer id of this catalogue
//! residents_field = "residents"    # <field key>_field: the field a role reads
//! nursing_homes = ""               # "": no layer plays this part
//! ```
//!
//! A layer role left out defaults to the layer with its demo id (`municipalities`, `parks`...)
//! when the catalogue has one, and to none otherwise; a layer named explicitly must exist. A
//! field left out defaults to the demo field name and is used only when the layer has it; a
//! field named explicitly must exist (checked when the layers are bound).
//!
//! Cost: O(roles × fields) name lookups.

use std::path::PathBuf;

use crate::catalog::{CatalogConfig, RoleTable, System};
use crate::feature::{Feature, Value};
use crate::store::{Catalog, Layer};

use super::ReportError;

/// A part a layer plays. The discriminant is the role's row in [`ROLES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Projects,
    Municipalities,
    UrbanAreas,
    ProductiveAreas,
    Parks,
    Natura2000,
    FluvialBelts,
    EcologicalCorridors,
    AgriculturalLand,
    AgrifoodSites,
    MotorwayJunctions,
    Stations,
    Roads,
    RiverPort,
    Hospitals,
    NursingHomes,
}

/// A field a role reads. The discriminant is the field's row in [`FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Residents,
    HospitalBeds,
    NursingBeds,
    ProductiveKind,
    ProductiveStatus,
    SupraMunicipal,
    RoadClass,
    ProjectTitle,
    ProjectAxis,
    ProjectAction,
    ProjectAqst,
    ProjectStatus,
    ProjectBudget,
    ProjectProgress,
    ProjectCommitted,
    ProjectSpent,
    ProjectEnd,
}

/// What uses a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// The site report.
    Report,
    /// The indicator families, by the prefix of their ids.
    Progress,
    Productive,
    Vas,
    LandTake,
    Services,
    /// The monitoring of the projects at one instant ([`crate::ptcp::indicators::monitoring`]).
    Monitoring,
}

impl Use {
    /// `report`, or the id prefix of an indicator family (`progress`, `vas`...).
    pub fn name(self) -> &'static str {
        match self {
            Use::Report => "report",
            Use::Progress => "progress",
            Use::Productive => "productive",
            Use::Vas => "vas",
            Use::LandTake => "land_take",
            Use::Services => "services",
            Use::Monitoring => "monitoring",
        }
    }
}

/// A field of a role layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Its key; the `[roles]` setting that names it is `<key>_field` ([`FieldSpec::setting`]).
    pub key: &'static str,
    /// The field name used when `[roles]` does not name one (used only when the layer has it).
    pub default: &'static str,
    pub meaning: &'static str,
}

/// A role: one row of [`ROLES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleSpec {
    pub role: Role,
    /// Its name in `[roles]` and in documents (`municipalities`, `parks`...).
    pub name: &'static str,
    /// The PTCP system its layer belongs to.
    pub system: System,
    /// The layer id it is given when `[roles]` leaves it out and the catalogue has that layer.
    pub default_layer: &'static str,
    /// What one feature of it is called in plain language (`park`, `Natura 2000 site`).
    pub noun: &'static str,
    /// The fields it reads besides the display name ([`NAME_FIELD`]).
    pub fields: &'static [Field],
    pub used_by: &'static [Use],
}

/// The display name of a feature of any role layer (the feature id when the layer lacks it).
pub const NAME_FIELD: FieldSpec = FieldSpec {
    key: "name",
    default: "name",
    meaning: "display name of a feature",
};

/// The `[roles]` setting of the class value of state roads, and its default.
pub const STATE_ROAD_CLASS: (&str, &str) = ("state_road_class", "state");

/// The `[roles]` setting of the status value of completed projects, and its default: a
/// project with another status (or none) is late once its end date has passed.
pub const COMPLETED_STATUS: (&str, &str) = ("completed_status", "completed");

/// Every field, in [`Field`] order: its key, its default name and what it holds.
#[rustfmt::skip]
pub const FIELDS: [FieldSpec; 17] = {
    const fn f(key: &'static str, default: &'static str, meaning: &'static str) -> FieldSpec {
        FieldSpec { key, default, meaning }
    }
    [
        f("residents",         "population",        "residents of a municipality"),
        f("beds",              "beds",              "beds of a hospital"),
        f("beds",              "beds",              "beds of a nursing home"),
        f("productive_kind",   "kind",              "kind of a productive area (industrial, logistics...)"),
        f("productive_status", "status",            "status of a productive area (existing, planned)"),
        f("supra_municipal",   "sovracomunale",     "whether a productive area is of supra-municipal interest"),
        f("road_class",        "class",             "class of a road (state roads: [roles] state_road_class, default `state`)"),
        f("project_title",     "title",             "title of a project"),
        f("project_axis",      "axis",              "strategic axis of a project"),
        f("project_action",    "emblematic_action", "emblematic action of a project"),
        f("project_aqst",      "aqst_programme",    "AQST programme of a project"),
        f("project_status",    "status",            "status of a project"),
        f("project_budget",    "budget_eur",        "budget of a project, EUR"),
        f("project_progress",  "progress_pct",      "progress of a project, %"),
        f("project_committed", "committed_eur",     "amount committed to a project, EUR"),
        f("project_spent",     "spent_eur",         "amount spent on a project, EUR"),
        f("project_end",       "end_date",          "planned end date of a project (completed projects: [roles] completed_status, default `completed`)"),
    ]
};

/// Every role, in [`Role`] order: its name, system, default layer, noun, fields and uses.
#[rustfmt::skip]
pub const ROLES: [RoleSpec; 16] = {
    use Field::*;
    use Use::*;
    const fn r(
        role: Role,
        name: &'static str,
        system: System,
        default_layer: &'static str,
        noun: &'static str,
        fields: &'static [Field],
        used_by: &'static [Use],
    ) -> RoleSpec {
        RoleSpec { role, name, system, default_layer, noun, fields, used_by }
    }
    const PROJECT: &[Field] = &[
        ProjectTitle, ProjectAxis, ProjectAction, ProjectAqst, ProjectStatus, ProjectBudget,
        ProjectProgress, ProjectCommitted, ProjectSpent, ProjectEnd,
    ];
    const PRODUCTIVE: &[Field] = &[ProductiveKind, ProductiveStatus, SupraMunicipal];
    const P: System = System::Projects;
    const S: System = System::Settlement;
    const E: System = System::Environmental;
    const R: System = System::Rural;
    const I: System = System::Infrastructure;
    [
        r(Role::Projects,            "projects",             P, "projects",             "project",                       PROJECT,         &[Report, Progress, Productive, Vas, LandTake, Monitoring]),
        r(Role::Municipalities,      "municipalities",       S, "municipalities",       "municipality",                  &[Residents],    &[Report, Progress, LandTake, Services]),
        r(Role::UrbanAreas,          "urban_areas",          S, "urban_areas",          "urban area",                    &[],             &[Report]),
        r(Role::ProductiveAreas,     "productive_areas",     S, "productive_areas",     "productive area",               PRODUCTIVE,      &[Report, Productive]),
        r(Role::Parks,               "parks",                E, "parks",                "park",                          &[],             &[Report, Vas]),
        r(Role::Natura2000,          "natura2000",           E, "natura2000",           "Natura 2000 site",              &[],             &[Report, Vas]),
        r(Role::FluvialBelts,        "fluvial_belts",        E, "fluvial_belts",        "fluvial belt",                  &[],             &[Report, Vas]),
        r(Role::EcologicalCorridors, "ecological_corridors", E, "ecological_corridors", "ecological corridor",           &[],             &[Report, Vas]),
        r(Role::AgriculturalLand,    "agricultural_land",    R, "agricultural_areas",   "strategic agricultural area",   &[],             &[Report, LandTake]),
        r(Role::AgrifoodSites,       "agrifood_sites",       R, "agrifood_sites",       "agri-food or agro-energy site", &[],             &[Report]),
        r(Role::MotorwayJunctions,   "motorway_junctions",   I, "motorway_junctions",   "motorway junction",             &[],             &[Report]),
        r(Role::Stations,            "stations",             I, "stations",             "railway station",               &[],             &[Report]),
        r(Role::Roads,               "roads",                I, "roads",                "road",                          &[RoadClass],    &[Report]),
        r(Role::RiverPort,           "river_port",           I, "river_port",           "river port",                    &[],             &[Report]),
        r(Role::Hospitals,           "hospitals",            S, "hospitals",            "hospital",                      &[HospitalBeds], &[Report, Services]),
        r(Role::NursingHomes,        "nursing_homes",        S, "nursing_homes",        "nursing home",                  &[NursingBeds],  &[Report, Services]),
    ]
};

impl Role {
    pub const COUNT: usize = ROLES.len();

    /// Its row of [`ROLES`].
    pub fn spec(self) -> &'static RoleSpec {
        &ROLES[self as usize]
    }

    /// Its name in `[roles]` (`municipalities`, `parks`...).
    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

/// A role is written as its name.
impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Field {
    pub const COUNT: usize = FIELDS.len();

    /// Its row of [`FIELDS`].
    pub fn spec(self) -> &'static FieldSpec {
        &FIELDS[self as usize]
    }
}

impl RoleSpec {
    /// How `[roles]` (as written) binds this role, against the layer ids of the catalogue
    /// (`exists`).
    pub fn binding(self, roles: &RoleTable, exists: impl Fn(&str) -> bool) -> RoleBinding {
        let (layer, how) = match roles.get(self.name) {
            Some("") => (None, Bound::Disabled),
            Some(id) => (Some(id.to_string()), Bound::Named),
            None if exists(self.default_layer) => {
                (Some(self.default_layer.to_string()), Bound::Default)
            }
            None => (None, Bound::Unbound),
        };
        RoleBinding {
            role: self.role,
            layer,
            how,
        }
    }

    /// The layer id that plays this role in a catalogue: named in `[roles]`, or the default
    /// layer when the catalogue has it; `None` when disabled or unbound.
    pub fn layer_in(self, config: &CatalogConfig) -> Option<&str> {
        match config.roles.get(self.name) {
            Some("") => None,
            Some(id) => Some(id),
            None => config.layer(self.default_layer).map(|_| self.default_layer),
        }
    }
}

impl FieldSpec {
    /// The `[roles]` setting that names this field (`residents_field`).
    pub fn setting(self) -> String {
        format!("{}_field", self.key)
    }

    /// The field with this key ([`NAME_FIELD`] or a row of [`FIELDS`]).
    pub fn by_key(key: &str) -> Option<FieldSpec> {
        std::iter::once(&NAME_FIELD)
            .chain(&FIELDS)
            .find(|f| f.key == key)
            .copied()
    }

    /// The field name `[roles]` gives this field, and whether it was named explicitly (and so
    /// must exist) rather than left to [`FieldSpec::default`].
    pub fn name_in(self, roles: &RoleTable) -> (&str, bool) {
        match roles.get(&self.setting()) {
            Some(name) => (name, true),
            None => (self.default, false),
        }
    }
}

/// The class value of state roads in `[roles]`, and whether it was named explicitly.
pub fn state_road_class(roles: &RoleTable) -> (&str, bool) {
    match roles.get(STATE_ROAD_CLASS.0) {
        Some(class) => (class, true),
        None => (STATE_ROAD_CLASS.1, false),
    }
}

/// The status value of completed projects in `[roles]`, and whether it was named explicitly.
pub fn completed_status(roles: &RoleTable) -> (&str, bool) {
    match roles.get(COMPLETED_STATUS.0) {
        Some(status) => (status, true),
        None => (COMPLETED_STATUS.1, false),
    }
}

/// Every setting `[roles]` accepts, in the order they are written: the layer roles in table
/// order, then `name_field`, then each field's setting once, with `state_road_class` after
/// `road_class_field` and `completed_status` after `project_status_field`.
pub fn settings() -> Vec<String> {
    let mut out: Vec<String> = ROLES.iter().map(|r| r.name.to_string()).collect();
    for f in std::iter::once(&NAME_FIELD).chain(&FIELDS) {
        let setting = f.setting();
        if !out.contains(&setting) {
            out.push(setting);
        }
        if f.key == Field::RoadClass.spec().key {
            out.push(STATE_ROAD_CLASS.0.to_string());
        }
        if f.key == Field::ProjectStatus.spec().key {
            out.push(COMPLETED_STATUS.0.to_string());
        }
    }
    out
}

/// How each layer role of [`ROLES`] is bound by `[roles]` as written, in table order, against
/// the layer ids of the catalogue (`exists`).
pub fn bindings(roles: &RoleTable, exists: impl Fn(&str) -> bool) -> Vec<RoleBinding> {
    ROLES.iter().map(|r| r.binding(roles, &exists)).collect()
}

/// Gives a layer role its layer (`""`: none) in `roles`; `false` when there is no such role.
pub fn set_layer(roles: &mut RoleTable, role: &str, layer: &str) -> bool {
    let known = ROLES.iter().any(|r| r.name == role);
    if known {
        roles.set(role, layer);
    }
    known
}

/// Names the field of a field key in `roles` (`productive_kind` sets
/// `productive_kind_field`); `false` when there is no such field.
pub fn set_field(roles: &mut RoleTable, key: &str, name: &str) -> bool {
    match FieldSpec::by_key(key) {
        Some(f) => {
            roles.set(&f.setting(), name);
            true
        }
        None => false,
    }
}

/// Checks `[roles]` against the table and the catalogue: every setting must be one of
/// [`settings`], and every layer named for a role must be in the catalogue. Fields are checked
/// when the layers are loaded ([`RoleLayers::new`]).
pub fn check(config: &CatalogConfig) -> Result<(), RoleError> {
    // Run for every binding (each report request binds the roles): no allocation unless an
    // error is found.
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(settings);
    for (key, _) in config.roles.iter() {
        if !known.iter().any(|k| k == key) {
            return Err(RoleError::UnknownSetting {
                path: config.path.clone(),
                key: key.to_string(),
                known: known.join(", "),
            });
        }
    }
    for spec in &ROLES {
        // A layer named in [roles] must exist ("" disables the role).
        match config.roles.get(spec.name) {
            Some(id) if !id.is_empty() && config.layer(id).is_none() => {
                return Err(RoleError::UnknownLayer {
                    path: config.path.clone(),
                    role: spec.name.to_string(),
                    layer: id.to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// What can be wrong with the `[roles]` table of a catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("catalogue {path}: [roles] has no setting {key:?} (the settings are: {known})")]
    UnknownSetting {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("catalogue {path}: [roles] {role} = {layer:?}, but the catalogue has no such layer")]
    UnknownLayer {
        path: PathBuf,
        role: String,
        layer: String,
    },
}

/// How a layer role got its layer (see [`bindings`]).
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
    pub role: Role,
    pub layer: Option<String>,
    pub how: Bound,
}

/// Where the fields a role reads sit in a schema: the display name ([`NAME_FIELD`]) and each
/// field of the role that the schema has (named in `[roles]`, or under its default name).
/// It binds a loaded layer ([`RoleLayer`]) as well as features held elsewhere (the projects as
/// they stood at some instant).
#[derive(Debug, Clone, Copy)]
pub struct RoleFields {
    name: Option<usize>,
    fields: [Option<usize>; Field::COUNT],
}

impl RoleFields {
    /// Finds the fields `role` reads in `schema`, the fields of layer `layer` (which only names
    /// it in errors), as `roles` names them.
    ///
    /// Errors: a field named explicitly in `[roles]` that the schema lacks
    /// ([`ReportError::UnknownField`]). A display name named but missing is not an error:
    /// features are then named by their ids.
    pub fn bind(
        role: Role,
        roles: &RoleTable,
        layer: &str,
        schema: &[crate::feature::Field],
    ) -> Result<Self, ReportError> {
        let position = |name: &str| schema.iter().position(|f| f.name == name);
        let mut fields = [None; Field::COUNT];
        for &f in role.spec().fields {
            let (name, explicit) = f.spec().name_in(roles);
            fields[f as usize] = position(name);
            if explicit && fields[f as usize].is_none() {
                return Err(ReportError::UnknownField {
                    role: role.name().to_string(),
                    layer: layer.to_string(),
                    field: name.to_string(),
                });
            }
        }
        Ok(RoleFields {
            name: position(NAME_FIELD.name_in(roles).0),
            fields,
        })
    }

    /// Whether the schema has `field`.
    pub fn has(&self, field: Field) -> bool {
        self.fields[field as usize].is_some()
    }

    /// The value of `field` in `feature`; `None` when the schema lacks the field or the value
    /// is null.
    pub fn value<'f>(&self, field: Field, feature: &'f Feature) -> Option<&'f Value> {
        self.fields[field as usize]
            .and_then(|f| feature.values.get(f))
            .filter(|v| !matches!(v, Value::Null))
    }

    /// [`RoleFields::value`] as text.
    pub fn text(&self, field: Field, feature: &Feature) -> Option<String> {
        self.value(field, feature).map(Value::to_string)
    }

    /// [`RoleFields::value`] as a number, read leniently ([`number`]).
    pub fn number(&self, field: Field, feature: &Feature) -> Option<f64> {
        self.value(field, feature).and_then(number)
    }

    /// [`RoleFields::value`] as a grouping key (empty when missing).
    pub fn key(&self, field: Field, feature: &Feature) -> String {
        self.value(field, feature)
            .map(Value::as_key)
            .unwrap_or_default()
    }

    /// The display name of a feature: its name field, or its id.
    pub fn name(&self, feature: &Feature) -> String {
        match self.name.and_then(|n| feature.values.get(n)) {
            Some(Value::Null) | None => feature.id.to_string(),
            Some(v) => v.to_string(),
        }
    }
}

/// A layer playing a role, with the positions of the role's fields it has.
#[derive(Debug, Clone, Copy)]
pub struct RoleLayer<'a> {
    pub role: Role,
    pub layer: &'a Layer,
    fields: RoleFields,
}

impl<'a> RoleLayer<'a> {
    /// Where the role's fields sit in the layer's schema.
    pub fn fields(&self) -> &RoleFields {
        &self.fields
    }

    /// The display name of a feature: its name field, or its id.
    pub fn name(&self, i: u32) -> String {
        self.fields.name(self.feature(i))
    }

    pub fn feature(&self, i: u32) -> &'a Feature {
        &self.layer.features[i as usize]
    }

    /// Whether the layer has `field` (named in `[roles]`, or under its default name).
    pub fn has(&self, field: Field) -> bool {
        self.fields.has(field)
    }

    /// The value of `field` for feature `i`; `None` when the layer lacks the field or the value
    /// is null.
    pub fn value(&self, field: Field, i: u32) -> Option<&'a Value> {
        self.fields.value(field, self.feature(i))
    }

    /// [`RoleLayer::value`] as text.
    pub fn text(&self, field: Field, i: u32) -> Option<String> {
        self.value(field, i).map(Value::to_string)
    }

    /// [`RoleLayer::value`] as a number, read leniently ([`number`]).
    pub fn number(&self, field: Field, i: u32) -> Option<f64> {
        self.value(field, i).and_then(number)
    }

    /// [`RoleLayer::value`] as a grouping key (empty when missing).
    pub fn key(&self, field: Field, i: u32) -> String {
        self.value(field, i).map(Value::as_key).unwrap_or_default()
    }
}

/// Every role of a catalogue, bound to its loaded layer.
#[derive(Debug, Clone)]
pub struct RoleLayers<'a> {
    pub catalog: &'a Catalog,
    layers: [Option<RoleLayer<'a>>; Role::COUNT],
    /// The class value of state roads.
    pub state_road_class: String,
}

impl<'a> RoleLayers<'a> {
    /// Binds every role of [`ROLES`] to the layer the catalogue's `[roles]` gives it.
    ///
    /// Errors: a role layer that is not loaded ([`ReportError::UnknownLayer`]), or a field
    /// named explicitly in `[roles]` that its layer lacks ([`ReportError::UnknownField`]).
    pub fn new(catalog: &'a Catalog) -> Result<Self, ReportError> {
        // The same checks as `territorio check`, for catalogues loaded by other code.
        check(&catalog.config)?;
        let roles = &catalog.config.roles;
        let mut layers = [None; Role::COUNT];
        for spec in &ROLES {
            let Some(id) = spec.layer_in(&catalog.config) else {
                continue;
            };
            let layer = catalog.layer(id).ok_or_else(|| ReportError::UnknownLayer {
                layer: id.to_string(),
            })?;
            layers[spec.role as usize] = Some(RoleLayer {
                role: spec.role,
                layer,
                fields: RoleFields::bind(spec.role, roles, layer.id(), &layer.fields)?,
            });
        }
        Ok(RoleLayers {
            catalog,
            layers,
            state_road_class: state_road_class(roles).0.to_string(),
        })
    }

    /// The layer playing `role`, if any.
    pub fn get(&self, role: Role) -> Option<RoleLayer<'a>> {
        self.layers[role as usize]
    }

    /// The layer playing `role`, which must be played ([`ReportError::MissingRole`] otherwise).
    pub fn require(&self, role: Role) -> Result<RoleLayer<'a>, ReportError> {
        self.get(role).ok_or_else(|| ReportError::MissingRole {
            role: role.name().to_string(),
        })
    }

    /// The layers of the roles `use_` uses, in table order.
    pub fn used_by(&self, use_: Use) -> Vec<RoleLayer<'a>> {
        ROLES
            .iter()
            .filter(|spec| spec.used_by.contains(&use_))
            .filter_map(|spec| self.get(spec.role))
            .collect()
    }

    /// The constraint layers of the environmental system (those the VAS indicators total), in
    /// table order.
    pub fn constraints(&self) -> Vec<RoleLayer<'a>> {
        self.used_by(Use::Vas)
            .into_iter()
            .filter(|l| l.role.spec().system == System::Environmental)
            .collect()
    }

    /// Whether a productive area is of supra-municipal interest.
    pub fn is_supra(&self, i: u32) -> bool {
        self.get(Role::ProductiveAreas)
            .and_then(|p| p.value(Field::SupraMunicipal, i))
            .is_some_and(truthy)
    }

    /// Whether a road is a state road.
    pub fn is_state_road(&self, i: u32) -> bool {
        self.get(Role::Roads)
            .and_then(|r| r.value(Field::RoadClass, i))
            .is_some_and(|v| v.as_key() == self.state_road_class)
    }
}

/// A flag read leniently: booleans, non-zero numbers, and `true`/`yes`/`si`/`sì`/`1` text.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Real(r) => *r != 0.0,
        Value::String(s) => matches!(
            s.trim().to_lowercase().as_str(),
            "true" | "yes" | "si" | "sì" | "1" | "s" | "y"
        ),
        _ => false,
    }
}

/// A number read leniently: integers, reals and numeric text; `None` otherwise.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Real(r) if r.is_finite() => Some(*r),
        Value::String(s) => s.trim().parse().ok().filter(|x: &f64| x.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
