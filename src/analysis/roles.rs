//! The parts layers play in site reports and indicators, bound to a loaded [`Catalog`].
//!
//! The catalogue's `[roles]` table (see [`crate::catalog::Roles`]) names layers and fields;
//! [`RoleLayers::new`] finds them in the loaded catalogue and checks that every field named
//! explicitly exists. Nothing below this module knows demo layer ids.
//!
//! Cost: O(layers × fields) name lookups.

use crate::catalog::Roles;
use crate::feature::{Feature, Value};
use crate::store::{Catalog, Layer};

use super::AnalysisError;

/// Errors of the site report, "what is here" and the indicators. Each names what is missing;
/// `UnknownProject`, `UnknownLayer` and `MissingRole` are "not found" to a server.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error("layer {layer:?} has no project {id:?}")]
    UnknownProject { layer: String, id: String },
    #[error("the catalogue has no layer {layer:?}")]
    UnknownLayer { layer: String },
    #[error("no layer plays the role {role:?} in this catalogue (set it in [roles])")]
    MissingRole { role: String },
    #[error("layer {layer:?} (role {role:?}) has no field {field:?}")]
    UnknownField {
        role: String,
        layer: String,
        field: String,
    },
    #[error("project {id:?}: its geometry is invalid ({reason})")]
    InvalidProject { id: String, reason: String },
    #[error("{what} must be a distance between 0 and 200,000 m, not {value}")]
    BadDistance { what: String, value: f64 },
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// The largest distance a request may ask for (the province is about 110 km across).
pub const MAX_DISTANCE_M: f64 = 200_000.0;

/// Checks a distance parameter: finite, 0..=200 km.
pub fn check_distance(what: &str, value: f64) -> Result<f64, ReportError> {
    if value.is_finite() && (0.0..=MAX_DISTANCE_M).contains(&value) {
        Ok(value)
    } else {
        Err(ReportError::BadDistance {
            what: what.to_string(),
            value,
        })
    }
}

/// A layer playing a role, with the positions of the role fields it has.
#[derive(Debug, Clone, Copy)]
pub struct RoleLayer<'a> {
    pub role: &'static str,
    pub layer: &'a Layer,
    name: Option<usize>,
}

impl<'a> RoleLayer<'a> {
    /// The display name of a feature: its name field, or its id.
    pub fn name(&self, i: u32) -> String {
        let f = &self.layer.features[i as usize];
        match self.name.map(|n| &f.values[n]) {
            Some(Value::Null) | None => f.id.to_string(),
            Some(v) => v.to_string(),
        }
    }

    pub fn feature(&self, i: u32) -> &'a Feature {
        &self.layer.features[i as usize]
    }
}

/// The positions of the role fields in their layers (`None`: the layer lacks a default field).
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleFields {
    pub residents: Option<usize>,
    pub hospital_beds: Option<usize>,
    pub nursing_beds: Option<usize>,
    pub productive_kind: Option<usize>,
    pub productive_status: Option<usize>,
    pub supra_municipal: Option<usize>,
    pub road_class: Option<usize>,
    pub project_title: Option<usize>,
    pub project_axis: Option<usize>,
    pub project_action: Option<usize>,
    pub project_aqst: Option<usize>,
    pub project_status: Option<usize>,
    pub project_budget: Option<usize>,
    pub project_progress: Option<usize>,
}

/// Every role of a catalogue, bound to its loaded layer.
#[derive(Debug, Clone)]
pub struct RoleLayers<'a> {
    pub catalog: &'a Catalog,
    pub projects: Option<RoleLayer<'a>>,
    pub municipalities: Option<RoleLayer<'a>>,
    pub urban_areas: Option<RoleLayer<'a>>,
    pub productive_areas: Option<RoleLayer<'a>>,
    pub parks: Option<RoleLayer<'a>>,
    pub natura2000: Option<RoleLayer<'a>>,
    pub fluvial_belts: Option<RoleLayer<'a>>,
    pub ecological_corridors: Option<RoleLayer<'a>>,
    pub agricultural_land: Option<RoleLayer<'a>>,
    pub agrifood_sites: Option<RoleLayer<'a>>,
    pub motorway_junctions: Option<RoleLayer<'a>>,
    pub stations: Option<RoleLayer<'a>>,
    pub roads: Option<RoleLayer<'a>>,
    pub river_port: Option<RoleLayer<'a>>,
    pub hospitals: Option<RoleLayer<'a>>,
    pub nursing_homes: Option<RoleLayer<'a>>,
    pub fields: RoleFields,
    /// The class value of state roads.
    pub state_road_class: String,
}

impl<'a> RoleLayers<'a> {
    /// Binds the catalogue's roles to its layers.
    ///
    /// Errors: a role layer that is not loaded ([`ReportError::UnknownLayer`]), or a field
    /// named explicitly in `[roles]` that its layer lacks ([`ReportError::UnknownField`]).
    pub fn new(catalog: &'a Catalog) -> Result<Self, ReportError> {
        let roles = &catalog.config.roles;
        let bind = |role: &'static str| -> Result<Option<RoleLayer<'a>>, ReportError> {
            let Some((_, Some(id))) = roles.layer_roles().into_iter().find(|(r, _)| *r == role)
            else {
                return Ok(None);
            };
            let layer = catalog
                .layer(id)
                .ok_or_else(|| ReportError::UnknownLayer { layer: id.clone() })?;
            let name = field(roles, role, layer, "name")?;
            Ok(Some(RoleLayer { role, layer, name }))
        };
        let projects = bind("projects")?;
        let municipalities = bind("municipalities")?;
        let productive_areas = bind("productive_areas")?;
        let roads = bind("roads")?;
        let hospitals = bind("hospitals")?;
        let nursing_homes = bind("nursing_homes")?;
        let on = |rl: &Option<RoleLayer<'a>>, f: &str| -> Result<Option<usize>, ReportError> {
            match rl {
                Some(rl) => field(roles, rl.role, rl.layer, f),
                None => Ok(None),
            }
        };
        let fields = RoleFields {
            residents: on(&municipalities, "residents")?,
            hospital_beds: on(&hospitals, "beds")?,
            nursing_beds: on(&nursing_homes, "beds")?,
            productive_kind: on(&productive_areas, "productive_kind")?,
            productive_status: on(&productive_areas, "productive_status")?,
            supra_municipal: on(&productive_areas, "supra_municipal")?,
            road_class: on(&roads, "road_class")?,
            project_title: on(&projects, "project_title")?,
            project_axis: on(&projects, "project_axis")?,
            project_action: on(&projects, "project_action")?,
            project_aqst: on(&projects, "project_aqst")?,
            project_status: on(&projects, "project_status")?,
            project_budget: on(&projects, "project_budget")?,
            project_progress: on(&projects, "project_progress")?,
        };
        Ok(RoleLayers {
            catalog,
            projects,
            municipalities,
            urban_areas: bind("urban_areas")?,
            productive_areas,
            parks: bind("parks")?,
            natura2000: bind("natura2000")?,
            fluvial_belts: bind("fluvial_belts")?,
            ecological_corridors: bind("ecological_corridors")?,
            agricultural_land: bind("agricultural_land")?,
            agrifood_sites: bind("agrifood_sites")?,
            motorway_junctions: bind("motorway_junctions")?,
            stations: bind("stations")?,
            roads,
            river_port: bind("river_port")?,
            hospitals,
            nursing_homes,
            fields,
            state_road_class: roles.state_road_class().to_string(),
        })
    }

    /// A role that must be played (`MissingRole` otherwise).
    pub fn require(
        &self,
        role: &'static str,
        layer: Option<RoleLayer<'a>>,
    ) -> Result<RoleLayer<'a>, ReportError> {
        layer.ok_or_else(|| ReportError::MissingRole {
            role: role.to_string(),
        })
    }

    /// The constraint layers of the environmental system, in report order.
    pub fn constraints(&self) -> Vec<RoleLayer<'a>> {
        [
            self.parks,
            self.natura2000,
            self.fluvial_belts,
            self.ecological_corridors,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Whether a productive area is of supra-municipal interest.
    pub fn is_supra(&self, i: u32) -> bool {
        match (self.productive_areas, self.fields.supra_municipal) {
            (Some(p), Some(f)) => truthy(&p.feature(i).values[f]),
            _ => false,
        }
    }

    /// Whether a road is a state road.
    pub fn is_state_road(&self, i: u32) -> bool {
        match (self.roads, self.fields.road_class) {
            (Some(r), Some(f)) => r.feature(i).values[f].as_key() == self.state_road_class,
            _ => false,
        }
    }
}

/// The position of a role field: an error when it was named explicitly and is missing, `None`
/// when a default name is missing.
fn field(
    roles: &Roles,
    role: &str,
    layer: &Layer,
    field_role: &str,
) -> Result<Option<usize>, ReportError> {
    let (name, explicit) = roles.field(field_role);
    match layer.field_index(name) {
        Some(i) => Ok(Some(i)),
        None if explicit && field_role != "name" => Err(ReportError::UnknownField {
            role: role.to_string(),
            layer: layer.id().to_string(),
            field: name.to_string(),
        }),
        None => Ok(None),
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
