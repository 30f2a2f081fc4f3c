//! Areas of intersection with a convex polygon, by Sutherland-Hodgman clipping.
//!
//! Most planning sites are convex (a lot, a box, a buffer). Clipping each ring of a feature by a
//! convex site is linear in the vertices and gives the exact intersection area, much faster than
//! a general boolean operation. For a ring that is not convex the clipped outline may contain
//! zero-width slivers, which add nothing to the area: the area stays exact, the outline is not
//! a clean geometry, so intersection geometries always come from the general boolean operation.

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// A convex polygon (without holes) ready for clipping, counter-clockwise.
///
/// Coordinates are taken relative to the clip polygon's first vertex: projected coordinates are
/// large (millions of metres) and the shoelace formula on them would lose millimetres² to
/// cancellation, enough to make a feature that only touches the site look like a sliver.
#[derive(Debug, Clone)]
pub struct ConvexClip {
    origin: Coord<f64>,
    ring: Vec<Coord<f64>>,
}

impl ConvexClip {
    /// The clipper for `polygon`, or `None` when it has holes or is not strictly convex.
    pub fn new(polygon: &Polygon<f64>) -> Option<ConvexClip> {
        if !polygon.interiors().is_empty() {
            return None;
        }
        let mut ring: Vec<Coord<f64>> = Vec::with_capacity(polygon.exterior().0.len());
        for c in &polygon.exterior().0 {
            if ring.last() != Some(c) {
                ring.push(*c);
            }
        }
        if ring.len() > 1 && ring.first() == ring.last() {
            ring.pop();
        }
        if ring.len() < 3 {
            return None;
        }
        if signed_area(&ring) < 0.0 {
            ring.reverse();
        }
        let origin = ring[0];
        for c in &mut ring {
            *c = Coord {
                x: c.x - origin.x,
                y: c.y - origin.y,
            };
        }
        let n = ring.len();
        for i in 0..n {
            let (a, b, c) = (ring[i], ring[(i + 1) % n], ring[(i + 2) % n]);
            if cross(a, b, c) <= 0.0 {
                return None;
            }
        }
        Some(ConvexClip { origin, ring })
    }

    /// The area of `polygon ∩ self`: the exterior's clipped area minus the holes' clipped areas.
    /// Cost: O(v·m) for v feature vertices and m clip vertices.
    pub fn polygon_area(&self, polygon: &Polygon<f64>) -> f64 {
        let outer = self.ring_area(polygon.exterior());
        let holes: f64 = polygon.interiors().iter().map(|r| self.ring_area(r)).sum();
        (outer - holes).max(0.0)
    }

    pub fn multipolygon_area(&self, mp: &MultiPolygon<f64>) -> f64 {
        mp.0.iter().map(|p| self.polygon_area(p)).sum()
    }

    fn ring_area(&self, ring: &LineString<f64>) -> f64 {
        let o = self.origin;
        let mut current: Vec<Coord<f64>> = ring
            .0
            .iter()
            .map(|c| Coord {
                x: c.x - o.x,
                y: c.y - o.y,
            })
            .collect();
        if current.len() > 1 && current.first() == current.last() {
            current.pop();
        }
        let mut next = Vec::with_capacity(current.len() + 4);
        let n = self.ring.len();
        for i in 0..n {
            if current.is_empty() {
                return 0.0;
            }
            let (a, b) = (self.ring[i], self.ring[(i + 1) % n]);
            next.clear();
            let m = current.len();
            for j in 0..m {
                let p = current[j];
                let q = current[(j + 1) % m];
                let (sp, sq) = (cross(a, b, p), cross(a, b, q));
                if sp >= 0.0 {
                    next.push(p);
                }
                if (sp >= 0.0) != (sq >= 0.0) {
                    let t = sp / (sp - sq);
                    next.push(Coord {
                        x: p.x + t * (q.x - p.x),
                        y: p.y + t * (q.y - p.y),
                    });
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        signed_area(&current).abs()
    }
}

fn cross(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// Shoelace area of an open ring (positive when counter-clockwise).
fn signed_area(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        let (p, q) = (ring[i], ring[(i + 1) % n]);
        s += p.x * q.y - q.x * p.y;
    }
    s / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::Rng;
    use geo::{polygon, Area, BooleanOps};

    #[test]
    fn hand_checked_areas() {
        let site = polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)];
        let clip = ConvexClip::new(&site).unwrap();
        // A square [5,15]² overlaps [5,10]²: 25.
        let other = polygon![(x: 5., y: 5.), (x: 15., y: 5.), (x: 15., y: 15.), (x: 5., y: 15.)];
        assert_eq!(clip.polygon_area(&other), 25.0);
        // With a hole [6,8]² inside the overlap: 25 - 4.
        let holed = polygon!(
            exterior: [(x: 5., y: 5.), (x: 15., y: 5.), (x: 15., y: 15.), (x: 5., y: 15.)],
            interiors: [[(x: 6., y: 6.), (x: 8., y: 6.), (x: 8., y: 8.), (x: 6., y: 8.)]],
        );
        assert_eq!(clip.polygon_area(&holed), 21.0);
        // An L-shaped (concave) ring crossing the site: the part inside is [0,10]x[0,2] plus
        // [0,2]x[2,10] = 20 + 16.
        let l_shape = polygon![(x: -5., y: -5.), (x: 20., y: -5.), (x: 20., y: 2.), (x: 2., y: 2.), (x: 2., y: 20.), (x: -5., y: 20.)];
        assert_eq!(clip.polygon_area(&l_shape), 36.0);
        // Clockwise sites work too; concave sites are refused.
        let cw = polygon![(x: 0., y: 0.), (x: 0., y: 10.), (x: 10., y: 10.), (x: 10., y: 0.)];
        assert_eq!(ConvexClip::new(&cw).unwrap().polygon_area(&other), 25.0);
        assert!(ConvexClip::new(&l_shape).is_none());
    }

    #[test]
    fn far_from_the_origin_an_uncovered_site_measures_zero() {
        // UTM-sized coordinates: a site that no part of the zone covers must measure 0 (to within
        // a micron²). (The demo test `a_bank_restoration_takes_belts_a_and_b_but_not_c` is the
        // real case that measured a few mm² before coordinates were taken relative to the site.)
        let (x0, y0) = (612_345.678, 5_012_345.678);
        // A C-shaped strip between 800 and 1,800 m around the site, open on one side (a belt
        // cut by the province border): Sutherland-Hodgman turns it into zero-width slivers
        // along the site's edges, whose area must come out as 0.
        let arc = |r: f64, from: f64, to: f64, n: usize| -> Vec<Coord<f64>> {
            (0..=n)
                .map(|k| {
                    let t = from + (to - from) * k as f64 / n as f64;
                    Coord {
                        x: x0 + r * t.cos(),
                        y: y0 + r * t.sin(),
                    }
                })
                .collect()
        };
        let mut ring = arc(1800.0, 0.2, std::f64::consts::TAU - 0.2, 97);
        ring.extend(arc(800.0, std::f64::consts::TAU - 0.2, 0.2, 61));
        ring.push(ring[0]);
        let zone = Polygon::new(LineString(ring), vec![]);
        let (sin, cos) = 0.3f64.sin_cos();
        let at = |u: f64, v: f64| Coord {
            x: x0 + 100.0 + u * cos - v * sin,
            y: y0 + 50.0 + u * sin + v * cos,
        };
        let site = Polygon::new(
            LineString(vec![
                at(-300., -150.),
                at(300., -150.),
                at(300., 150.),
                at(-300., 150.),
                at(-300., -150.),
            ]),
            vec![],
        );
        let area = ConvexClip::new(&site).unwrap().polygon_area(&zone);
        assert!(area < 1e-6, "{area}");
    }

    #[test]
    fn agrees_with_boolean_intersection_on_random_shapes() {
        let mut rng = Rng(5);
        for case in 0..200 {
            // Convex site: a random rotated rectangle.
            let (cx, cy, w, h, a) = (
                rng.range(0., 100.),
                rng.range(0., 100.),
                rng.range(5., 60.),
                rng.range(5., 60.),
                rng.range(0., std::f64::consts::PI),
            );
            let (s, c) = a.sin_cos();
            let corner = |u: f64, v: f64| Coord {
                x: cx + u * c - v * s,
                y: cy + u * s + v * c,
            };
            let site = Polygon::new(
                LineString(vec![
                    corner(-w, -h),
                    corner(w, -h),
                    corner(w, h),
                    corner(-w, h),
                    corner(-w, -h),
                ]),
                vec![],
            );
            // Star-shaped (often concave) feature.
            let (fx, fy) = (rng.range(0., 100.), rng.range(0., 100.));
            let n = 5 + (rng.next_f64() * 15.0) as usize;
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|k| {
                    let t = k as f64 / n as f64 * std::f64::consts::TAU;
                    let r = rng.range(10.0, 50.0);
                    Coord {
                        x: fx + r * t.cos(),
                        y: fy + r * t.sin(),
                    }
                })
                .collect();
            pts.push(pts[0]);
            let feature = Polygon::new(LineString(pts), vec![]);
            let want = site.intersection(&feature).unsigned_area();
            let got = ConvexClip::new(&site).unwrap().polygon_area(&feature);
            assert!(
                (got - want).abs() <= 1e-7 * want.max(1.0),
                "case {case}: {got} vs {want}"
            );
        }
    }
}
