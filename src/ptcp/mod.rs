//! The PTCP and development-pact rules: what the planning domain asks of the generic analysis.
//!
//! - [`roles`]: the one table of the parts layers play (projects, municipalities, productive
//!   areas, parks...), their fields and defaults, bound to a loaded catalogue;
//! - [`report`](mod@report): the site report of a project, or of any site, against every PTCP system;
//! - [`indicators`](mod@indicators): the monitoring indicators the pact and the PTCP share (progress,
//!   productive areas, cumulative environmental effects, land take, services vs demography).
//!
//! Everything here is made of the operations of [`crate::analysis`] (overlay, coverage,
//! nearest, within distance, catchment) and returns numbers in metres and square metres,
//! unrounded. Plain-language text, JSON, CSV and GeoJSON documents are made from these results
//! by [`crate::present`]. Nothing here knows about HTTP.

pub mod indicators;
pub mod report;
pub mod roles;

pub use indicators::{indicators, IndicatorOptions, Indicators};
pub use report::{
    related_features, site_report, site_report_for_geometry, Related, Relation, ReportOptions,
    SiteReport,
};
pub use roles::{Field, Role, RoleLayer, RoleLayers, ROLES};

use crate::analysis::locate::LocateError;
use crate::analysis::AnalysisError;

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
    #[error("{what} must be a date YYYY-MM-DD, not {value:?}")]
    BadDate { what: String, value: String },
    #[error(transparent)]
    Roles(#[from] roles::RoleError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

impl From<LocateError> for ReportError {
    fn from(e: LocateError) -> Self {
        match e {
            LocateError::UnknownLayer { layer } => ReportError::UnknownLayer { layer },
            LocateError::Analysis(a) => ReportError::Analysis(a),
        }
    }
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
