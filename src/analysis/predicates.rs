//! Topological selection: the features of a layer that intersect, are within, or contain a
//! geometry.
//!
//! The R-tree narrows the search to features whose envelope can satisfy the predicate, then
//! an exact test decides. For `within` and `contains` the query geometry is prepared once
//! (geo's `PreparedGeometry`) when there are enough candidates for that to pay.
//!
//! Cost: O(log n + k) index work for k candidates, plus k exact tests.

use geo::{BoundingRect, Coord, Geometry, Intersects, PreparedGeometry, Rect, Relate};

use super::{checked_envelope, AnalysisError};
use crate::store::Layer;

/// A spatial predicate, read as "feature PREDICATE query".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    /// The feature and the query share at least one point.
    Intersects,
    /// The feature lies inside the query (no point of the feature outside it).
    Within,
    /// The feature contains the query.
    Contains,
}

impl std::str::FromStr for Predicate {
    type Err = AnalysisError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "intersects" => Ok(Predicate::Intersects),
            "within" => Ok(Predicate::Within),
            "contains" => Ok(Predicate::Contains),
            other => Err(AnalysisError::BadParameter(format!(
                "unknown predicate {other:?}: use intersects, within or contains"
            ))),
        }
    }
}

/// Candidates with this many or more use a prepared query geometry for `within`/`contains`.
const PREPARE_FROM: usize = 8;

/// The features of `layer` for which "feature `predicate` `query`" holds, in index order.
///
/// ```
/// # use territorio::analysis::{select, Predicate};
/// # fn demo(layer: &territorio::store::Layer) -> Result<(), territorio::analysis::AnalysisError> {
/// let site = geo::Geometry::Point(geo::Point::new(580_000.0, 5_000_000.0));
/// let containing = select(layer, &site, Predicate::Intersects)?;
/// # Ok(()) }
/// ```
pub fn select(
    layer: &Layer,
    query: &Geometry<f64>,
    predicate: Predicate,
) -> Result<Vec<u32>, AnalysisError> {
    let envelope = checked_envelope(query)?;
    let mut out = Vec::new();
    match predicate {
        Predicate::Intersects => {
            if let Geometry::Point(p) = query {
                // Point queries: only envelopes that contain the point.
                let mut found = Vec::new();
                layer.at_point([p.x(), p.y()], usize::MAX, &mut found);
                for i in found {
                    if layer.features[i as usize].geometry.intersects(p) {
                        out.push(i);
                    }
                }
            } else {
                for i in layer.candidates(&envelope) {
                    if layer.features[i as usize].geometry.intersects(query) {
                        out.push(i);
                    }
                }
            }
        }
        Predicate::Within => {
            // The feature's envelope must lie inside the query's.
            // (The index's rounded boxes may keep a few more: the relation decides.)
            let (min, max) = (envelope.min(), envelope.max());
            let index = layer.index();
            let candidates: Vec<u32> = index
                .intersecting([min.x, min.y], [max.x, max.y])
                .filter(|&slot| index.may_lie_inside(slot, [min.x, min.y], [max.x, max.y]))
                .map(|slot| index.item(slot))
                .filter(|&i| layer.features[i as usize].is_valid())
                .collect();
            relate_each(layer, query, &candidates, &mut out, |m| m.is_contains());
        }
        Predicate::Contains => {
            // The feature's envelope must contain the query's.
            let candidates: Vec<u32> = layer
                .candidates(&envelope)
                .filter(|&i| {
                    let f = &layer.features[i as usize];
                    f.is_valid()
                        && f.geometry
                            .bounding_rect()
                            .is_some_and(|r| rect_covers(&r, &envelope))
                })
                .collect();
            relate_each(layer, query, &candidates, &mut out, |m| m.is_within());
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Runs the DE-9IM relation "query vs feature" for each candidate and keeps those `keep` accepts.
fn relate_each(
    layer: &Layer,
    query: &Geometry<f64>,
    candidates: &[u32],
    out: &mut Vec<u32>,
    keep: impl Fn(&geo::relate::IntersectionMatrix) -> bool,
) {
    if candidates.len() >= PREPARE_FROM {
        let prepared = PreparedGeometry::from(query);
        for &i in candidates {
            if keep(&prepared.relate(&layer.features[i as usize].geometry)) {
                out.push(i);
            }
        }
    } else {
        for &i in candidates {
            if keep(&query.relate(&layer.features[i as usize].geometry)) {
                out.push(i);
            }
        }
    }
}

fn rect_covers(outer: &Rect<f64>, inner: &Rect<f64>) -> bool {
    let (a, b): (Coord<f64>, Coord<f64>) = (outer.min(), outer.max());
    a.x <= inner.min().x && a.y <= inner.min().y && b.x >= inner.max().x && b.y >= inner.max().y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{layer, Rng};
    use geo::{line_string, point, polygon, Polygon};

    fn square(x: f64, y: f64, side: f64) -> Geometry<f64> {
        Geometry::Polygon(polygon![
            (x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side)
        ])
    }

    #[test]
    fn hand_checked_predicates() {
        // 1: [0,10]², 2: [20,30]x[0,10], 3: a line from (5,5) to (25,5), 4: a point at (2,2).
        let l = layer(vec![
            (square(0.0, 0.0, 10.0), "a"),
            (square(20.0, 0.0, 10.0), "b"),
            (
                Geometry::LineString(line_string![(x: 5., y: 5.), (x: 25., y: 5.)]),
                "c",
            ),
            (Geometry::Point(point!(x: 2., y: 2.)), "d"),
        ]);
        let p = Geometry::Point(point!(x: 3.0, y: 3.0));
        assert_eq!(select(&l, &p, Predicate::Intersects).unwrap(), vec![0]);
        assert_eq!(select(&l, &p, Predicate::Contains).unwrap(), vec![0]);
        // A point on the shared boundary of nothing but square 1's edge: intersects, not contained.
        let edge = Geometry::Point(point!(x: 10.0, y: 3.0));
        assert_eq!(select(&l, &edge, Predicate::Intersects).unwrap(), vec![0]);
        assert_eq!(
            select(&l, &edge, Predicate::Contains).unwrap(),
            Vec::<u32>::new()
        );
        // A box [-1, 12] x [-1, 12] holds square 1 and the point, touches the line.
        let b = square(-1.0, -1.0, 13.0);
        assert_eq!(select(&l, &b, Predicate::Within).unwrap(), vec![0, 3]);
        assert_eq!(
            select(&l, &b, Predicate::Intersects).unwrap(),
            vec![0, 2, 3]
        );
    }

    #[test]
    fn invalid_query_is_refused() {
        let l = layer(vec![(square(0.0, 0.0, 10.0), "a")]);
        let bow = Geometry::Polygon(
            polygon![(x: 0., y: 0.), (x: 2., y: 2.), (x: 2., y: 0.), (x: 0., y: 2.)],
        );
        assert!(matches!(
            select(&l, &bow, Predicate::Intersects),
            Err(AnalysisError::InvalidGeometry(_))
        ));
    }

    #[test]
    fn agrees_with_brute_force_on_random_data() {
        let mut rng = Rng(7);
        let mut geoms = Vec::new();
        for i in 0..400 {
            let (x, y) = (rng.range(0.0, 1000.0), rng.range(0.0, 1000.0));
            let g = match i % 3 {
                0 => square(x, y, rng.range(5.0, 80.0)),
                1 => Geometry::LineString(line_string![
                    (x: x, y: y), (x: x + rng.range(-50.0, 50.0), y: y + rng.range(-50.0, 50.0))
                ]),
                _ => Geometry::Point(point!(x: x, y: y)),
            };
            geoms.push((g, "k"));
        }
        let l = layer(geoms);
        for q in 0..60 {
            let (x, y) = (rng.range(0.0, 1000.0), rng.range(0.0, 1000.0));
            let query = if q % 2 == 0 {
                square(x, y, rng.range(10.0, 200.0))
            } else {
                Geometry::Polygon(Polygon::new(
                    line_string![(x: x, y: y), (x: x + 150.0, y: y + 20.0), (x: x + 60.0, y: y + 140.0), (x: x, y: y)],
                    vec![],
                ))
            };
            for pred in [
                Predicate::Intersects,
                Predicate::Within,
                Predicate::Contains,
            ] {
                let got = select(&l, &query, pred).unwrap();
                let want: Vec<u32> = l
                    .features
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| {
                        let m = query.relate(&f.geometry);
                        match pred {
                            Predicate::Intersects => m.is_intersects(),
                            Predicate::Within => m.is_contains(),
                            Predicate::Contains => m.is_within(),
                        }
                    })
                    .map(|(i, _)| i as u32)
                    .collect();
                assert_eq!(got, want, "query {q} {pred:?}");
            }
        }
    }
}
