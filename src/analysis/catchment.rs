//! Catchments of a service: how far places of demand are from the nearest facility, and how much
//! of the facilities' capacity each place reaches within a radius.
//!
//! Demand is a set of points with a population (municipalities by their centroid and their
//! residents, say); supply is a layer whose features have a capacity (the beds of nursing homes).
//! - [`nearest_distances`]: for each point, the true distance to the nearest feature.
//! - [`floating_catchment`]: the two-step floating catchment area method (2SFCA, Luo and Wang,
//!   2003). Step 1: for each facility *j* with capacity *S_j*, the population within the radius
//!   *d* of it gives its ratio *R_j = S_j / Σ P_i* over the points *i* with *d(i, j) ≤ d*
//!   (a facility that reaches nobody has no ratio). Step 2: each point *i* gets
//!   *A_i = Σ R_j* over the facilities *j* with *d(i, j) ≤ d*: capacity per person within
//!   reach. Distances are true point-to-geometry distances, so a facility drawn as a polygon is
//!   reached at its edge, and the method is symmetric: *i* counts for *j* exactly when *j*
//!   counts for *i*.
//!
//! Cost, for D points and S facilities: nearest distances, one [`nearest()`] walk per point,
//! O(log S + m). Floating catchment: an R-tree of the points, bulk-loaded in O(D log D); step 1,
//! one envelope query per facility, O(log D + k) with an exact distance per candidate; step 2,
//! one [`within_distance()`] query per point, O(log S + k). Both run on all cores (rayon).

use std::collections::HashMap;

use geo::{BoundingRect, Distance, Euclidean, Geometry, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use super::{nearest, within_distance, AnalysisError};
use crate::store::Layer;

/// A place of demand: where it is and how many people it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    pub at: Point<f64>,
    pub population: f64,
}

/// For each point (working CRS), the distance in metres to the nearest feature of `supply`;
/// `None` when the layer has no features.
///
/// ```
/// # use territorio::analysis::catchment::nearest_distances;
/// # fn demo(hospitals: &territorio::store::Layer) -> Result<(), territorio::analysis::AnalysisError> {
/// let towns = [geo::Point::new(580_000.0, 5_000_000.0), geo::Point::new(600_000.0, 5_010_000.0)];
/// for (town, d) in towns.iter().zip(nearest_distances(hospitals, &towns)?) {
///     println!("{town:?}: {d:?} m to a hospital");
/// }
/// # Ok(()) }
/// ```
pub fn nearest_distances(
    supply: &Layer,
    points: &[Point<f64>],
) -> Result<Vec<Option<f64>>, AnalysisError> {
    points
        .par_iter()
        .map(|p| {
            Ok(nearest(supply, &Geometry::Point(*p), 1)?
                .first()
                .map(|h| h.distance_m))
        })
        .collect()
}

/// The two-step floating catchment of `demand` by the features of `supply` within `radius_m`:
/// for each place of demand, in order, the capacity per person of the facilities within reach
/// (0 when none is). `capacity` gives a facility's capacity by its index in
/// [`Layer::features`], `None` for a facility that does not count.
///
/// ```
/// # use territorio::analysis::catchment::{floating_catchment, Demand};
/// # fn demo(homes: &territorio::store::Layer, beds: usize) -> Result<(), territorio::analysis::AnalysisError> {
/// let towns = [
///     Demand { at: geo::Point::new(580_000.0, 5_000_000.0), population: 12_000.0 },
///     Demand { at: geo::Point::new(590_000.0, 5_004_000.0), population: 3_500.0 },
/// ];
/// let capacity = |i: u32| match homes.features[i as usize].values[beds] {
///     territorio::feature::Value::Int(n) => Some(n as f64),
///     _ => None,
/// };
/// let per_person = floating_catchment(homes, &capacity, &towns, 15_000.0)?;
/// println!("{:.1} beds per 1,000 residents", per_person[0] * 1_000.0);
/// # Ok(()) }
/// ```
///
/// Errors: a radius that is not a finite non-negative number.
pub fn floating_catchment(
    supply: &Layer,
    capacity: &(dyn Fn(u32) -> Option<f64> + Sync),
    demand: &[Demand],
    radius_m: f64,
) -> Result<Vec<f64>, AnalysisError> {
    if !(radius_m.is_finite() && radius_m >= 0.0) {
        return Err(AnalysisError::BadParameter(format!(
            "a catchment radius must be a finite number of metres, 0 or more, not {radius_m}"
        )));
    }
    let places: RTree<GeomWithData<[f64; 2], u32>> = RTree::bulk_load(
        demand
            .iter()
            .enumerate()
            .map(|(i, d)| GeomWithData::new([d.at.x(), d.at.y()], i as u32))
            .collect(),
    );
    // Step 1: each facility's capacity over the population within reach.
    let ratio: HashMap<u32, f64> = supply
        .features
        .par_iter()
        .enumerate()
        .filter_map(|(j, facility)| {
            let s = capacity(j as u32)?;
            let env = facility.geometry.bounding_rect()?;
            let reach = AABB::from_corners(
                [env.min().x - radius_m, env.min().y - radius_m],
                [env.max().x + radius_m, env.max().y + radius_m],
            );
            let served: f64 = places
                .locate_in_envelope(&reach)
                .filter(|p| {
                    let at = Point::new(p.geom()[0], p.geom()[1]);
                    Euclidean.distance(&at, &facility.geometry) <= radius_m
                })
                .map(|p| demand[p.data as usize].population)
                .sum();
            (served > 0.0).then_some((j as u32, s / served))
        })
        .collect();
    // Step 2: the ratios of the facilities within reach of each place.
    demand
        .par_iter()
        .map(|d| {
            Ok(within_distance(supply, &Geometry::Point(d.at), radius_m)?
                .iter()
                .filter_map(|h| ratio.get(&h.feature))
                .sum())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use geo::{point, Rect};

    use super::*;
    use crate::catalog::System;
    use crate::feature::{FieldType, Value};
    use crate::store::testing::{named_layer, Rng};

    /// Facilities with a `capacity` field (ids F1..).
    fn facilities(list: Vec<(Geometry<f64>, Option<f64>)>) -> Layer {
        let ids: Vec<String> = (1..=list.len()).map(|i| format!("F{i}")).collect();
        named_layer(
            "facilities",
            System::Settlement,
            &[("capacity", FieldType::Real)],
            list.into_iter()
                .zip(&ids)
                .map(|((g, c), id)| (id.as_str(), g, vec![c.map_or(Value::Null, Value::Real)]))
                .collect(),
        )
    }

    fn capacity(layer: &Layer) -> impl Fn(u32) -> Option<f64> + Sync + '_ {
        move |i| match layer.features[i as usize].values[0] {
            Value::Real(c) => Some(c),
            _ => None,
        }
    }

    fn place(x: f64, y: f64, population: f64) -> Demand {
        Demand {
            at: point!(x: x, y: y),
            population,
        }
    }

    #[test]
    fn two_step_floating_catchment_by_hand() {
        // F1 at (0,0) with 40 beds, F2 at (2000,0) with 60, F3 at (9000,0) with 10 (reaches
        // nobody), F4 at (100,0) with no capacity. Radius 1,500 m.
        let homes = facilities(vec![
            (Geometry::Point(point!(x: 0., y: 0.)), Some(40.0)),
            (Geometry::Point(point!(x: 2000., y: 0.)), Some(60.0)),
            (Geometry::Point(point!(x: 9000., y: 0.)), Some(10.0)),
            (Geometry::Point(point!(x: 100., y: 0.)), None),
        ]);
        // A at (0,0), 1,000 people; B at (1000,0), 3,000; C at (5000,0), 500.
        let towns = [
            place(0., 0., 1_000.),
            place(1000., 0., 3_000.),
            place(5000., 0., 500.),
        ];
        // Step 1: F1 reaches A and B (4,000): 0.01; F2 reaches B only (3,000): 0.02.
        // Step 2: A reaches F1 (and F4, which does not count): 0.01; B reaches F1 and F2: 0.03;
        // C reaches nothing: 0.
        let got = floating_catchment(&homes, &capacity(&homes), &towns, 1_500.0).unwrap();
        assert!((got[0] - 0.01).abs() < 1e-15, "{got:?}");
        assert!((got[1] - 0.03).abs() < 1e-15, "{got:?}");
        assert_eq!(got[2], 0.0);
        // Nearest: A is on F1; B is 900 m from F4 (any facility counts here, capacity or
        // not); C is 3,000 m from F2.
        let d = nearest_distances(&homes, &towns.map(|t| t.at)).unwrap();
        assert_eq!(d, vec![Some(0.0), Some(900.0), Some(3_000.0)]);
    }

    #[test]
    fn a_polygon_facility_is_reached_at_its_edge() {
        // A campus [1000,1100]x[0,100] with 30 beds; the town at (0,50) is 1,000 m from its
        // west edge, though 1,050 m from its centre.
        let campus = facilities(vec![(
            Geometry::Polygon(Rect::new((1000., 0.), (1100., 100.)).to_polygon()),
            Some(30.0),
        )]);
        let towns = [place(0., 50., 600.)];
        let got = floating_catchment(&campus, &capacity(&campus), &towns, 1_000.0).unwrap();
        assert!((got[0] - 0.05).abs() < 1e-15);
        let empty = facilities(vec![]);
        assert_eq!(
            nearest_distances(&empty, &[point!(x: 0., y: 0.)]).unwrap(),
            vec![None]
        );
        for radius in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(floating_catchment(&campus, &capacity(&campus), &towns, radius).is_err());
        }
    }

    #[test]
    fn agrees_with_brute_force_on_random_data() {
        let mut rng = Rng(2003);
        let homes = facilities(
            (0..60)
                .map(|i| {
                    let at = point!(x: rng.range(0.0, 20_000.0), y: rng.range(0.0, 20_000.0));
                    let c = (i % 7 != 0).then(|| rng.range(10.0, 120.0).round());
                    (Geometry::Point(at), c)
                })
                .collect(),
        );
        let towns: Vec<Demand> = (0..150)
            .map(|_| {
                place(
                    rng.range(-2_000.0, 22_000.0),
                    rng.range(-2_000.0, 22_000.0),
                    rng.range(0.0, 9_000.0).round(),
                )
            })
            .collect();
        let cap = capacity(&homes);
        for radius in [0.0, 2_500.0, 6_000.0] {
            let got = floating_catchment(&homes, &cap, &towns, radius).unwrap();
            let reach = |t: &Demand, j: usize| {
                Euclidean.distance(&t.at, &homes.features[j].geometry) <= radius
            };
            for (i, t) in towns.iter().enumerate() {
                let mut want = 0.0;
                for j in 0..homes.features.len() {
                    let Some(s) = cap(j as u32) else { continue };
                    if !reach(t, j) {
                        continue;
                    }
                    let served: f64 = towns
                        .iter()
                        .filter(|u| reach(u, j))
                        .map(|u| u.population)
                        .sum();
                    if served > 0.0 {
                        want += s / served;
                    }
                }
                assert!(
                    (got[i] - want).abs() <= 1e-12 * want.max(1.0),
                    "radius {radius}, town {i}: {} vs {want}",
                    got[i]
                );
            }
            let nearest =
                nearest_distances(&homes, &towns.iter().map(|t| t.at).collect::<Vec<_>>()).unwrap();
            for (t, d) in towns.iter().zip(nearest) {
                let want = homes
                    .features
                    .iter()
                    .map(|f| Euclidean.distance(&t.at, &f.geometry))
                    .fold(f64::INFINITY, f64::min);
                assert_eq!(d, Some(want));
            }
        }
    }
}
