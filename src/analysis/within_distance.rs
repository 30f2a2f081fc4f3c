//! All the features within a distance of a geometry.
//!
//! The query's envelope, grown by the distance, selects candidates from the R-tree; candidates
//! whose envelope is farther than the distance are dropped, and the true geometry-to-geometry
//! distance decides the rest.
//!
//! Cost: O(log n + k) index work for k candidates, plus k exact distances.

use geo::{Coord, Distance, Euclidean, Geometry, Rect};
use rstar::AABB;

use super::{box_distance_2, checked_envelope, sort_hits, AnalysisError, Hit};
use crate::store::Layer;

/// The features of `layer` at most `distance_m` metres from `query`, nearest first, ties by id.
///
/// ```
/// # use territorio::analysis::within_distance;
/// # fn demo(roads: &territorio::store::Layer) -> Result<(), territorio::analysis::AnalysisError> {
/// let here = geo::Geometry::Point(geo::Point::new(580_000.0, 5_000_000.0));
/// let close_roads = within_distance(roads, &here, 500.0)?;
/// # Ok(()) }
/// ```
pub fn within_distance(
    layer: &Layer,
    query: &Geometry<f64>,
    distance_m: f64,
) -> Result<Vec<Hit>, AnalysisError> {
    if !(distance_m.is_finite() && distance_m >= 0.0) {
        return Err(AnalysisError::BadParameter(format!(
            "distance must be a finite number of metres >= 0, not {distance_m}"
        )));
    }
    let envelope = checked_envelope(query)?;
    let grown = Rect::new(
        Coord {
            x: envelope.min().x - distance_m,
            y: envelope.min().y - distance_m,
        },
        Coord {
            x: envelope.max().x + distance_m,
            y: envelope.max().y + distance_m,
        },
    );
    let query_box = AABB::from_corners(
        [envelope.min().x, envelope.min().y],
        [envelope.max().x, envelope.max().y],
    );
    let limit_2 = distance_m * distance_m;
    let grown_box = AABB::from_corners(
        [grown.min().x, grown.min().y],
        [grown.max().x, grown.max().y],
    );
    let query_point = match query {
        Geometry::Point(p) => Some(p.0),
        _ => None,
    };
    let mut hits = Vec::new();
    let mut consider = |i: u32| {
        let geometry = &layer.features[i as usize].geometry;
        // Points against lines (roads, rivers): the distance is the nearest segment's, found
        // without square roots; other pairs use geo's general distance.
        let d = match query_point.and_then(|p| point_line_distance_2(p, geometry)) {
            Some(d2) => d2.sqrt(),
            None => Euclidean.distance(query, geometry),
        };
        if d <= distance_m {
            hits.push(Hit {
                feature: i,
                distance_m: d,
            });
        }
    };
    // The index's boxes contain the envelopes they stand for, so a box farther than the
    // limit holds nothing within it. A point query keeps the boxes within a circle, not a
    // square.
    let index = layer.index();
    let (low, high) = (grown_box.lower(), grown_box.upper());
    for slot in index.intersecting(low, high) {
        let bounds = index.bounds(slot);
        let near = match query_point {
            Some(p) => bounds.distance_2(&[p.x, p.y]) <= limit_2,
            None => box_distance_2(&query_box, &bounds) <= limit_2,
        };
        if near {
            consider(index.item(slot));
        }
    }
    sort_hits(layer, &mut hits);
    Ok(hits)
}

/// Squared distance from a point to a linear geometry's segments; `None` for other types.
fn point_line_distance_2(p: Coord<f64>, geometry: &Geometry<f64>) -> Option<f64> {
    let scan = |ls: &geo::LineString<f64>| {
        ls.0.windows(2)
            .map(|w| segment_distance_2(p, w[0], w[1]))
            .fold(f64::INFINITY, f64::min)
    };
    match geometry {
        Geometry::LineString(ls) if ls.0.len() >= 2 => Some(scan(ls)),
        Geometry::MultiLineString(mls) if mls.0.iter().all(|ls| ls.0.len() >= 2) => {
            Some(mls.0.iter().map(scan).fold(f64::INFINITY, f64::min))
        }
        _ => None,
    }
}

/// Squared distance from `p` to the segment `a`-`b` (also the simplification of vector
/// tiles, [`crate::tiles`]).
pub(crate) fn segment_distance_2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len_2 = dx * dx + dy * dy;
    let t = if len_2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len_2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{layer, Rng};
    use geo::{line_string, point};

    #[test]
    fn hand_checked_radius() {
        // Lines at x = 3, x = 5 and x = 5.0001 (vertical, long); from the origin: 3, 5, 5.0001.
        let l = layer(vec![
            (
                Geometry::LineString(line_string![(x: 5.0001, y: -10.), (x: 5.0001, y: 10.)]),
                "far",
            ),
            (
                Geometry::LineString(line_string![(x: 3., y: -10.), (x: 3., y: 10.)]),
                "near",
            ),
            (
                Geometry::LineString(line_string![(x: 5., y: -10.), (x: 5., y: 10.)]),
                "edge",
            ),
        ]);
        let q = Geometry::Point(point!(x: 0., y: 0.));
        let hits = within_distance(&l, &q, 5.0).unwrap();
        assert_eq!(
            hits,
            vec![
                Hit {
                    feature: 1,
                    distance_m: 3.0
                },
                Hit {
                    feature: 2,
                    distance_m: 5.0
                }
            ]
        );
        assert!(within_distance(&l, &q, -1.0).is_err());
        assert!(within_distance(&l, &q, f64::NAN).is_err());
    }

    #[test]
    fn segment_distance_by_hand() {
        let (a, b) = (Coord { x: 0., y: 0. }, Coord { x: 10., y: 0. });
        assert_eq!(segment_distance_2(Coord { x: 5., y: 3. }, a, b), 9.0);
        assert_eq!(segment_distance_2(Coord { x: -3., y: 4. }, a, b), 25.0);
        assert_eq!(segment_distance_2(Coord { x: 13., y: -4. }, a, b), 25.0);
        assert_eq!(segment_distance_2(Coord { x: 1., y: 1. }, a, a), 2.0);
    }

    #[test]
    fn agrees_with_brute_force_on_random_data() {
        let mut rng = Rng(3);
        let mut geoms = Vec::new();
        for _ in 0..600 {
            let (x, y) = (rng.range(0.0, 3000.0), rng.range(0.0, 3000.0));
            let mut pts = vec![Coord { x, y }];
            for _ in 0..4 {
                let last = *pts.last().unwrap();
                pts.push(Coord {
                    x: last.x + rng.range(-120.0, 120.0),
                    y: last.y + rng.range(-120.0, 120.0),
                });
            }
            geoms.push((Geometry::LineString(geo::LineString(pts)), "road"));
        }
        let l = layer(geoms);
        for q in 0..50 {
            let p = Geometry::Point(point!(x: rng.range(0.0, 3000.0), y: rng.range(0.0, 3000.0)));
            let r = rng.range(0.0, 400.0);
            let got = within_distance(&l, &p, r).unwrap();
            let mut want: Vec<Hit> = l
                .features
                .iter()
                .enumerate()
                .map(|(i, f)| Hit {
                    feature: i as u32,
                    distance_m: Euclidean.distance(&p, &f.geometry),
                })
                .filter(|h| h.distance_m <= r)
                .collect();
            sort_hits(&l, &mut want);
            // Same features in the same order; distances equal up to rounding (the fast
            // point-to-segment formula and geo's differ in the last bits). Radii are random
            // reals, so no feature sits within rounding of the limit.
            let ids = |h: &[Hit]| h.iter().map(|h| h.feature).collect::<Vec<_>>();
            assert_eq!(ids(&got), ids(&want), "query {q}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g.distance_m - w.distance_m).abs() < 1e-9,
                    "query {q}: {g:?} vs {w:?}"
                );
            }
        }
    }
}
