//! Analysis: generic pure functions over the store, in metres in the working CRS.
//!
//! One operation per module, each documented with its cost:
//! - [`predicates`](mod@predicates): features that intersect / are within / contain a geometry;
//! - [`nearest`](mod@nearest): the k nearest features by true geometry-to-geometry distance,
//!   and the nearest one a filter accepts;
//! - [`within_distance`](mod@within_distance): all features within a distance;
//! - [`overlay`](mod@overlay): intersection areas and lengths of a site with a layer, with totals by a property;
//! - [`clip`](mod@clip): convex clipping, the fast path of the overlay;
//! - [`coverage`](mod@coverage): how much of a site the union of a layer's features covers;
//! - [`join`](mod@join): a spatial join of two layers ("join attributes by location");
//! - [`join_table`](mod@join_table): that join on catalogue layers, as GeoJSON or CSV;
//! - [`catchment`](mod@catchment): distances from places of demand to the nearest facility and
//!   the two-step floating catchment of the facilities' capacity;
//! - [`locate`](mod@locate): "what is here", the features of every layer at a geometry, by system;
//! - [`subject`](mod@subject): the geometry a question is asked about, as clients write it, checked and moved to the working CRS.
//!
//! The planning rules built on them (roles, site report, indicators) are in [`crate::ptcp`].
//!
//! Query geometries are in the working CRS (convert client coordinates with
//! [`crate::crs::Transformer`] first) and must be valid. Features whose geometry failed
//! validation take part in `intersects`, proximity and joins as join features (those predicates
//! are robust on any input) but are left out of `within`/`contains`, of area and length maths and
//! of joins as targets, and each result says which features were left out.
//!
//! Nothing here knows about HTTP or about the planning domain.

pub mod catchment;
pub mod clip;
pub mod coverage;
pub mod join;
pub mod join_table;
pub mod locate;
pub mod nearest;
pub mod overlay;
pub mod predicates;
pub mod region;
pub mod subject;
pub mod within_distance;

pub use coverage::{coverage, coverage_of_overlay, Coverage};
pub use join::{spatial_join, Join, JoinMode, JoinOptions, JoinPredicate};
pub use join_table::{
    join_document, join_geojson, write_join_csv, JoinError, JoinRequest, JoinResult,
};
pub use locate::{locate, LayerHits, LocateError, Located, SystemHits};
pub use nearest::{nearest, nearest_where};
pub use overlay::{overlay, Measure, Overlay, OverlayItem, OverlayOptions};
pub use predicates::{select, Predicate};
pub use region::Region;
pub use within_distance::within_distance;

use geo::{Geometry, Rect};

use crate::store::Layer;

/// A feature found by a proximity query, with its distance in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the feature in [`Layer::features`].
    pub feature: u32,
    /// True geometry-to-geometry distance in metres (0 when they intersect).
    pub distance_m: f64,
}

/// Errors from analysis requests.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("invalid query geometry: {0}")]
    InvalidGeometry(String),
    #[error("layer {layer:?} has no field {field:?} (it has: {available})")]
    UnknownField {
        layer: String,
        field: String,
        available: String,
    },
    #[error("{0}")]
    BadParameter(String),
}

/// Checks a query geometry and returns its bounding box.
pub(crate) fn checked_envelope(geometry: &Geometry<f64>) -> Result<Rect<f64>, AnalysisError> {
    if let Some(reason) = crate::validate::check(geometry) {
        return Err(AnalysisError::InvalidGeometry(reason));
    }
    geo::BoundingRect::bounding_rect(geometry)
        .ok_or_else(|| AnalysisError::InvalidGeometry("empty geometry".into()))
}

/// The field index of `field` in `layer`, or an error naming the fields it has.
pub(crate) fn field_index(layer: &Layer, field: &str) -> Result<usize, AnalysisError> {
    layer
        .field_index(field)
        .ok_or_else(|| AnalysisError::UnknownField {
            layer: layer.id().to_string(),
            field: field.to_string(),
            available: layer
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Area (polygons) and length (lines) of a geometry, in m² and m; both 0 for points.
pub fn measure_of(g: &Geometry<f64>) -> (f64, f64) {
    use geo::{Area, Euclidean, Length};
    match g {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::Rect(_) => {
            (g.unsigned_area(), 0.0)
        }
        Geometry::LineString(l) => (0.0, Euclidean.length(l)),
        Geometry::MultiLineString(l) => (0.0, Euclidean.length(l)),
        Geometry::Line(l) => (0.0, Euclidean.length(l)),
        _ => (0.0, 0.0),
    }
}

/// Squared distance between two boxes (0 when they overlap).
pub(crate) fn box_distance_2(a: &rstar::AABB<[f64; 2]>, b: &rstar::AABB<[f64; 2]>) -> f64 {
    let dx = (b.lower()[0] - a.upper()[0])
        .max(a.lower()[0] - b.upper()[0])
        .max(0.0);
    let dy = (b.lower()[1] - a.upper()[1])
        .max(a.lower()[1] - b.upper()[1])
        .max(0.0);
    dx * dx + dy * dy
}

/// Sorts hits by distance, then by feature id (the tie-break every proximity query uses).
pub(crate) fn sort_hits(layer: &Layer, hits: &mut [Hit]) {
    hits.sort_by(|a, b| {
        a.distance_m.total_cmp(&b.distance_m).then_with(|| {
            layer.features[a.feature as usize]
                .id
                .cmp(&layer.features[b.feature as usize].id)
        })
    });
}
