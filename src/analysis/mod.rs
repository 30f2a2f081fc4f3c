//! Analysis: pure functions over the store, in metres in the working CRS.
//!
//! One operation per module, each documented with its cost:
//! - [`predicates`](mod@predicates): features that intersect / are within / contain a geometry;
//! - [`nearest`](mod@nearest): the k nearest features by true geometry-to-geometry distance;
//! - [`within_distance`](mod@within_distance): all features within a distance;
//! - [`overlay`](mod@overlay): intersection areas and lengths of a site with a layer, with totals by a property;
//! - [`join`](mod@join): a spatial join of two layers;
//! - [`indicators`](mod@indicators): the monitoring indicators over the whole catalogue;
//! - [`report`](mod@report): the site report of one project against every PTCP system;
//! - [`roles`](mod@roles): which layer plays which part (the catalogue's `[roles]`).
//!
//! Query geometries are in the working CRS (convert client coordinates with
//! [`crate::crs::Transformer`] first) and must be valid. Features whose geometry failed
//! validation take part in `intersects`, proximity and joins (those predicates are robust on any
//! input) but are left out of `within`/`contains` and of area and length maths, and each result
//! says which features were left out.
//!
//! Nothing here knows about HTTP.

pub mod clip;
pub mod indicators;
pub mod join;
pub mod nearest;
pub mod overlay;
pub mod predicates;
pub mod report;
pub mod roles;
pub mod within_distance;

pub use indicators::{indicators, IndicatorOptions, Indicators};
pub use join::spatial_join;
pub use nearest::nearest;
pub use overlay::{overlay, Measure, Overlay, OverlayItem, OverlayOptions};
pub use predicates::{select, Predicate};
pub use report::{site_report, ReportOptions, SiteReport, SummaryLine};
pub use roles::{ReportError, RoleLayers};
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

#[cfg(test)]
pub(crate) mod testing {
    //! Small layers built in memory for the analysis tests, and a seeded generator.

    use geo::Geometry;

    use crate::catalog::{LayerConfig, System};
    use crate::feature::{Feature, FeatureId, Field, FieldType, Value};
    use crate::store::Layer;

    /// A deterministic PCG-style generator (tests must not depend on a crate's RNG algorithm).
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next_f64(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.next_f64()
        }
    }

    /// A layer of the given geometries, with ids 1.. and one string field `kind`.
    pub fn layer(geometries: Vec<(Geometry<f64>, &str)>) -> Layer {
        let features = geometries
            .into_iter()
            .enumerate()
            .map(|(i, (geometry, kind))| Feature {
                id: FeatureId::Int(i as i64 + 1),
                geometry,
                values: vec![Value::String(kind.to_string())],
                invalid: None,
            })
            .collect();
        Layer::new(
            LayerConfig {
                id: "test".into(),
                title: "test".into(),
                description: String::new(),
                system: System::Settlement,
                source: "memory".into(),
                layer: None,
                id_field: None,
                crs: None,
                style: None,
            },
            "EPSG:32632".into(),
            "memory".into(),
            vec![Field {
                name: "kind".into(),
                ty: FieldType::String,
            }],
            features,
        )
        .expect("test layer")
    }
}
