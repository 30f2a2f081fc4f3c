//! The `[roles]` table of a catalogue: which layer plays which part in the site report and the
//! monitoring indicators, which fields they read, and how each role got its layer (named, bound
//! by the default layer id, disabled, unbound). [`crate::analysis::RoleLayers`] binds them to
//! the loaded layers; `territorio check` prints them.

use serde::{Deserialize, Serialize};

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
    /// The layer roles and the layer each is given to (after [`super::CatalogConfig`] filled defaults).
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

#[cfg(test)]
mod tests {
    use super::*;

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
