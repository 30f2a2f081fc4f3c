//! Spatial join: for every feature of one layer, the features of another that it intersects
//! (for points in zones: the zone each point falls in).
//!
//! Runs on all cores (rayon); each left feature is one [`select`] query.
//!
//! Cost: n_left × (O(log n_right + k) index work + k exact tests), divided among the cores.

use rayon::prelude::*;

use super::predicates::{select, Predicate};
use crate::store::Layer;

/// For each feature of `left` (by index), the indices of the `right` features it intersects,
/// in index order. Invalid left geometries get an empty list.
pub fn spatial_join(left: &Layer, right: &Layer) -> Vec<Vec<u32>> {
    left.features
        .par_iter()
        .map(|f| {
            if !f.is_valid() {
                return Vec::new();
            }
            select(right, &f.geometry, Predicate::Intersects).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{layer, Rng};
    use geo::{point, polygon, Contains, Geometry};

    #[test]
    fn points_find_their_cell_like_a_brute_force_scan() {
        // A 10 x 10 grid of 100 m cells, and random points.
        let mut cells = Vec::new();
        for i in 0..10 {
            for j in 0..10 {
                let (x, y) = (i as f64 * 100.0, j as f64 * 100.0);
                cells.push((Geometry::Polygon(polygon![(x: x, y: y), (x: x + 100., y: y), (x: x + 100., y: y + 100.), (x: x, y: y + 100.)]), "cell"));
            }
        }
        let zones = layer(cells);
        let mut rng = Rng(1);
        let points = layer(
            (0..500)
                .map(|_| {
                    (
                        Geometry::Point(point!(x: rng.range(0.5, 999.5), y: rng.range(0.5, 999.5))),
                        "p",
                    )
                })
                .collect(),
        );
        let joined = spatial_join(&points, &zones);
        for (p, found) in points.features.iter().zip(&joined) {
            let Geometry::Point(pt) = p.geometry else {
                unreachable!()
            };
            // Independent answer: the cell index from the coordinates.
            let (i, j) = (
                (pt.x() / 100.0).floor() as u32,
                (pt.y() / 100.0).floor() as u32,
            );
            let cell = i * 10 + j;
            let on_edge = pt.x() % 100.0 == 0.0 || pt.y() % 100.0 == 0.0;
            if !on_edge {
                assert_eq!(found, &vec![cell]);
                assert!(zones.features[cell as usize].geometry.contains(&pt));
            }
        }
    }
}
