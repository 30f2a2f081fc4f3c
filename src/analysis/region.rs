//! A query polygon that answers "does this feature intersect me?" quickly for the features
//! well inside it.
//!
//! A box sent in another CRS (a map's view in CRS84 over a layer in UTM) becomes, in the
//! working CRS, a polygon of some eighty vertices: its edges are densified before they are
//! moved. Testing a feature against it exactly costs one segment test per pair of edges,
//! some twenty thousand instructions for a small zone, and a page of a hundred features has
//! several hundred candidates. Most of them lie well inside the box.
//!
//! [`Region::new`] finds, once, an axis-aligned rectangle that lies inside the polygon:
//! the polygon's envelope scaled about its centre (98 %, then smaller), each candidate
//! *verified*: no ring of the polygon touches it and its centre is inside the polygon, so the
//! whole rectangle is. [`Region::intersects`] then accepts a geometry with a
//! vertex strictly inside that rectangle at once. For the others (the features across the
//! edge) only the polygon's edges near the feature are tested against it, plus one point in
//! polygon test, instead of every pair of edges. The answer is always the exact one (tests
//! compare it with geo's `Intersects` on features across every edge); only its cost changes.
//!
//! Cost: [`Region::new`] is O(v) for v vertices (a few candidate rectangles, each checked
//! against every edge); [`Region::intersects`] is O(1) for a geometry with its first vertex
//! inside the rectangle, and otherwise O(v) box tests plus, for the k edges near the
//! geometry, k edge-geometry tests and one point-in-polygon test.
//!
//! ```
//! use geo::{polygon, point, Geometry};
//! use territorio::analysis::Region;
//! let square = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)];
//! let region = Region::new(square);
//! assert!(region.inner().is_some());
//! assert!(region.intersects(&Geometry::Point(point!(x: 5.0, y: 5.0))));
//! assert!(!region.intersects(&Geometry::Point(point!(x: 11.0, y: 5.0))));
//! ```

use geo::{
    BoundingRect, Contains, Coord, CoordsIter, Geometry, Intersects, Line, LineString, Point,
    Polygon, Rect,
};

/// A polygon, its edges with their boxes, and, when one was found, a rectangle verified to
/// lie inside it.
#[derive(Debug, Clone)]
pub struct Region {
    polygon: Polygon<f64>,
    envelope: Option<Rect<f64>>,
    edges: Vec<(Line<f64>, Rect<f64>)>,
    inner: Option<Rect<f64>>,
}

impl Region {
    pub fn new(polygon: Polygon<f64>) -> Region {
        let inner = inner_rect(&polygon);
        let edges = std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .flat_map(|ring| ring.lines())
            .map(|l| (l, l.bounding_rect()))
            .collect();
        Region {
            envelope: polygon.bounding_rect(),
            polygon,
            edges,
            inner,
        }
    }

    pub fn polygon(&self) -> &Polygon<f64> {
        &self.polygon
    }

    /// The rectangle inside the polygon, if one was found.
    pub fn inner(&self) -> Option<Rect<f64>> {
        self.inner
    }

    /// Whether `g` and the polygon share a point: exactly `polygon.intersects(g)`.
    ///
    /// Decided in this order, each step exact:
    /// 1. the first vertex of `g` strictly inside the inner rectangle: yes;
    /// 2. the envelopes disjoint: no;
    /// 3. an edge of the polygon whose box meets `g`'s envelope intersects `g`: yes. Every
    ///    point where the polygon's boundary meets `g` lies on such an edge, and a polygon
    ///    inside `g` has all its edges in `g`;
    /// 4. otherwise the polygon's boundary misses `g`, so each connected part of `g` lies
    ///    wholly inside or wholly outside the polygon: yes when the first vertex of a part of
    ///    `g` is in the polygon.
    pub fn intersects(&self, g: &Geometry<f64>) -> bool {
        let Some(first) = g.coords_iter().next() else {
            return false;
        };
        if self
            .inner
            .is_some_and(|inner| strictly_inside(inner, first))
        {
            return true;
        }
        let (Some(env), Some(own)) = (g.bounding_rect(), self.envelope) else {
            return false;
        };
        if !env.intersects(&own) {
            return false;
        }
        if self
            .edges
            .iter()
            .any(|(line, rect)| rect.intersects(&env) && line.intersects(g))
        {
            return true;
        }
        part_starts(g).any(|c| self.polygon.intersects(&c))
    }
}

/// The first vertex of each connected part of `g` (each polygon, line, point of a collection).
fn part_starts(g: &Geometry<f64>) -> Box<dyn Iterator<Item = Coord<f64>> + '_> {
    match g {
        Geometry::Point(p) => Box::new(std::iter::once(p.0)),
        Geometry::Line(l) => Box::new(std::iter::once(l.start)),
        Geometry::LineString(l) => Box::new(l.0.first().copied().into_iter()),
        Geometry::Polygon(p) => Box::new(p.exterior().0.first().copied().into_iter()),
        Geometry::MultiPoint(m) => Box::new(m.iter().map(|p: &Point<f64>| p.0)),
        Geometry::MultiLineString(m) => Box::new(m.iter().filter_map(|l| l.0.first().copied())),
        Geometry::MultiPolygon(m) => {
            Box::new(m.iter().filter_map(|p| p.exterior().0.first().copied()))
        }
        Geometry::Rect(r) => Box::new(std::iter::once(r.min())),
        Geometry::Triangle(t) => Box::new(std::iter::once(t.v1())),
        Geometry::GeometryCollection(c) => Box::new(c.iter().flat_map(part_starts)),
    }
}

fn strictly_inside(r: Rect<f64>, c: Coord<f64>) -> bool {
    r.min().x < c.x && c.x < r.max().x && r.min().y < c.y && c.y < r.max().y
}

/// A rectangle inside `polygon`, verified, or `None`.
fn inner_rect(polygon: &Polygon<f64>) -> Option<Rect<f64>> {
    let env = polygon.bounding_rect()?;
    let (w, h) = (env.width(), env.height());
    if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
        return None;
    }
    let centre = env.center();
    // The envelope scaled about its centre, from nearly whole to half: a box turned by a CRS
    // change (UTM's grid is a degree or so off the meridians) fits at the first or second.
    [0.98, 0.95, 0.9, 0.8, 0.65, 0.5]
        .into_iter()
        .find_map(|scale| {
            let (dx, dy) = (w * scale / 2.0, h * scale / 2.0);
            let r = Rect::new(
                Coord {
                    x: centre.x - dx,
                    y: centre.y - dy,
                },
                Coord {
                    x: centre.x + dx,
                    y: centre.y + dy,
                },
            );
            inside(polygon, r).then_some(r)
        })
}

/// Whether rectangle `r` lies inside `polygon`: no ring (outer or hole) touches it, and its
/// centre is inside the polygon. Then the rectangle, being connected and crossing no
/// boundary, is inside entirely.
fn inside(polygon: &Polygon<f64>, r: Rect<f64>) -> bool {
    let touches = |ring: &LineString<f64>| ring.intersects(&r);
    !touches(polygon.exterior())
        && !polygon.interiors().iter().any(touches)
        && polygon.contains(&r.center())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, point, polygon};

    fn brute(polygon: &Polygon<f64>, g: &Geometry<f64>) -> bool {
        polygon.intersects(g)
    }

    #[test]
    fn a_square_has_itself_inside_and_answers_exactly() {
        let square =
            polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)];
        let r = Region::new(square.clone());
        let inner = r.inner().expect("a rectangle inside a square");
        // The first candidate: 98 % of the square, about its centre.
        assert!((inner.min().x - 0.1).abs() < 1e-12 && (inner.max().y - 9.9).abs() < 1e-12);
        for (x, y, expected) in [
            (5.0, 5.0, true),
            (0.0, 5.0, true), // on the boundary: shares a point
            (10.0, 10.0, true),
            (10.5, 5.0, false),
            (-0.1, -0.1, false),
        ] {
            let g = Geometry::Point(point!(x: x, y: y));
            assert_eq!(r.intersects(&g), expected, "({x}, {y})");
        }
        // A line with its first vertex outside that crosses in: the exact test answers.
        let crossing = Geometry::LineString(line_string![(x: -5.0, y: 5.0), (x: 5.0, y: 5.0)]);
        assert!(r.intersects(&crossing));
        let outside = Geometry::LineString(line_string![(x: -5.0, y: 5.0), (x: -1.0, y: 5.0)]);
        assert!(!r.intersects(&outside));
    }

    #[test]
    fn a_hole_or_a_thin_shape_gets_no_rectangle() {
        let with_hole = Polygon::new(
            line_string![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
            vec![
                line_string![(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0), (x: 4.0, y: 4.0)],
            ],
        );
        let r = Region::new(with_hole);
        assert_eq!(r.inner(), None);
        // A point in the hole does not intersect (and no shortcut says otherwise).
        assert!(!r.intersects(&Geometry::Point(point!(x: 5.0, y: 5.0))));
        assert!(r.intersects(&Geometry::Point(point!(x: 2.0, y: 5.0))));
        // An L: the candidate from the sides' innermost vertices crosses the notch.
        let l = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 4.0), (x: 4.0, y: 4.0), (x: 4.0, y: 10.0), (x: 0.0, y: 10.0)];
        let r = Region::new(l.clone());
        if let Some(inner) = r.inner() {
            assert!(l.contains(&inner), "{inner:?} is not inside the L");
        }
        assert!(!r.intersects(&Geometry::Point(point!(x: 8.0, y: 8.0))));
    }

    /// The benchmark's 2 km CRS84 box over Cremona, densified and moved to UTM 32N, as the
    /// items endpoint builds it.
    fn moved_box() -> Polygon<f64> {
        let t = crate::crs::cached_transformer(crate::crs::CRS84, "EPSG:32632").expect("PROJ");
        let bbox = Rect::new(
            Coord {
                x: 10.0193,
                y: 45.2389,
            },
            Coord {
                x: 10.0451,
                y: 45.2567,
            },
        );
        let mut ring = crate::crs::densified_outline(bbox, crate::crs::DENSIFY_POINTS);
        t.coords(&mut ring).expect("transform");
        Polygon::new(LineString(ring), vec![])
    }

    #[test]
    fn a_box_moved_to_utm_keeps_exact_answers() {
        // A CRS84 box over Cremona, densified and moved to UTM 32N, as the items endpoint
        // builds it; points on a grid over its envelope and small squares across its edges
        // are answered as the exact test answers.
        let polygon = moved_box();
        let r = Region::new(polygon.clone());
        let inner = r.inner().expect("a small box has a rectangle inside");
        assert!(polygon.contains(&inner));
        let env = polygon.bounding_rect().expect("envelope");
        let (mut fast, mut n) = (0, 0);
        for i in 0..=60 {
            for j in 0..=60 {
                let x = env.min().x - 50.0 + (env.width() + 100.0) * i as f64 / 60.0;
                let y = env.min().y - 50.0 + (env.height() + 100.0) * j as f64 / 60.0;
                for g in [
                    Geometry::Point(point!(x: x, y: y)),
                    Geometry::Polygon(
                        polygon![(x: x, y: y), (x: x + 30.0, y: y), (x: x + 30.0, y: y + 30.0), (x: x, y: y + 30.0)],
                    ),
                ] {
                    n += 1;
                    fast += usize::from(strictly_inside(inner, g.coords_iter().next().unwrap()));
                    assert_eq!(r.intersects(&g), brute(&polygon, &g), "{g:?}");
                }
            }
        }
        // Most of the grid is well inside: the shortcut is taken for most of it.
        assert!(fast * 2 > n, "{fast} of {n}");
    }

    /// Random geometries of every kind around `region`'s polygon, compared with geo.
    fn agrees_with_geo_on_random_geometries(polygon: Polygon<f64>, seed: u64) {
        use geo::{GeometryCollection, MultiPolygon};
        let r = Region::new(polygon.clone());
        let env = polygon.bounding_rect().expect("envelope");
        let mut state = seed;
        let mut unit = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (w, h) = (env.width(), env.height());
        let coord = |spread: f64, unit: &mut dyn FnMut() -> f64| Coord {
            x: env.min().x - spread * w + (1.0 + 2.0 * spread) * w * unit(),
            y: env.min().y - spread * h + (1.0 + 2.0 * spread) * h * unit(),
        };
        let square = |c: Coord<f64>, side: f64| polygon![(x: c.x, y: c.y), (x: c.x + side, y: c.y), (x: c.x + side, y: c.y + side), (x: c.x, y: c.y + side)];
        let (mut yes, mut no) = (0, 0);
        for k in 0..3000 {
            let side = (w.min(h)) * [0.001, 0.05, 0.3][k % 3];
            let g = match k % 7 {
                0 => Geometry::Point(Point(coord(0.2, &mut unit))),
                1 => Geometry::Polygon(square(coord(0.2, &mut unit), side)),
                2 => Geometry::LineString(LineString(vec![
                    coord(0.3, &mut unit),
                    coord(0.3, &mut unit),
                ])),
                // A first part far outside, a second one anywhere.
                3 => Geometry::MultiPolygon(MultiPolygon(vec![
                    square(
                        Coord {
                            x: env.max().x + 3.0 * w,
                            y: env.max().y + 3.0 * h,
                        },
                        side,
                    ),
                    square(coord(0.2, &mut unit), side),
                ])),
                // Around the whole polygon: contains it, or (with a hole) leaves it in the hole.
                4 => {
                    let big = square(
                        Coord {
                            x: env.min().x - w,
                            y: env.min().y - h,
                        },
                        3.0 * w.max(h),
                    );
                    if unit() < 0.5 {
                        Geometry::Polygon(big)
                    } else {
                        let hole = square(
                            Coord {
                                x: env.min().x - 0.01 * w,
                                y: env.min().y - 0.01 * h,
                            },
                            1.02 * w.max(h),
                        );
                        Geometry::Polygon(Polygon::new(
                            big.exterior().clone(),
                            vec![hole.exterior().clone()],
                        ))
                    }
                }
                5 => Geometry::GeometryCollection(GeometryCollection(vec![
                    Geometry::Point(Point(Coord {
                        x: env.min().x - 5.0 * w,
                        y: env.min().y,
                    })),
                    Geometry::Polygon(square(coord(0.2, &mut unit), side)),
                ])),
                // On a vertex of the polygon.
                _ => Geometry::Point(Point(polygon.exterior().0[k % polygon.exterior().0.len()])),
            };
            let expected = brute(&polygon, &g);
            assert_eq!(r.intersects(&g), expected, "{g:?}");
            if expected {
                yes += 1
            } else {
                no += 1
            }
        }
        assert!(yes > 500 && no > 500, "{yes} intersect, {no} do not");
    }

    #[test]
    fn random_geometries_are_answered_as_geo_answers() {
        agrees_with_geo_on_random_geometries(moved_box(), 7);
        // An L (no inner rectangle through its notch) and a square with a hole.
        let l = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 4.0), (x: 4.0, y: 4.0), (x: 4.0, y: 10.0), (x: 0.0, y: 10.0)];
        agrees_with_geo_on_random_geometries(l, 11);
        let with_hole = Polygon::new(
            line_string![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
            vec![
                line_string![(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0), (x: 4.0, y: 4.0)],
            ],
        );
        agrees_with_geo_on_random_geometries(with_hole, 13);
    }
}
