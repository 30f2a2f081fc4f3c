//! All the features within a distance of a geometry.
//!
//! The query's envelope, grown by the distance, selects candidates from the R-tree; candidates
//! whose envelope is farther than the distance are dropped, and the true geometry-to-geometry
//! distance decides the rest.
//!
//! Cost: O(log n + k) index work for k candidates, plus k exact distances.

use geo::{Coord, Distance, Euclidean, Geometry, Rect};
use rstar::{RTreeObject, AABB};

use super::{checked_envelope, sort_hits, AnalysisError, Hit};
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
    let mut hits = Vec::new();
    for entry in layer.index().locate_in_envelope_intersecting(&grown_box) {
        if box_distance_2(&query_box, &entry.envelope()) > limit_2 {
            continue;
        }
        let i = entry.data;
        let d = Euclidean.distance(query, &layer.features[i as usize].geometry);
        if d <= distance_m {
            hits.push(Hit {
                feature: i,
                distance_m: d,
            });
        }
    }
    sort_hits(layer, &mut hits);
    Ok(hits)
}

fn box_distance_2(a: &AABB<[f64; 2]>, b: &AABB<[f64; 2]>) -> f64 {
    let dx = (b.lower()[0] - a.upper()[0])
        .max(a.lower()[0] - b.upper()[0])
        .max(0.0);
    let dy = (b.lower()[1] - a.upper()[1])
        .max(a.lower()[1] - b.upper()[1])
        .max(0.0);
    dx * dx + dy * dy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{layer, Rng};
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
            assert_eq!(got, want, "query {q}");
        }
    }
}
