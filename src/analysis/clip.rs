//! Areas of intersection with a convex polygon, by Sutherland-Hodgman clipping.
//!
//! Most planning sites are convex (a lot, a box, a buffer). Clipping each ring of a feature by a
//! convex site is linear in the vertices and gives the exact intersection area, much faster than
//! a general boolean operation. For a ring that is not convex the clipped outline may contain
//! zero-width slivers, which add nothing to the area: the area stays exact, the outline is not
//! a clean geometry, so intersection geometries always come from the general boolean operation.

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// A convex polygon (without holes) ready for clipping, counter-clockwise.
#[derive(Debug, Clone)]
pub struct ConvexClip {
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
        let n = ring.len();
        for i in 0..n {
            let (a, b, c) = (ring[i], ring[(i + 1) % n], ring[(i + 2) % n]);
            if cross(a, b, c) <= 0.0 {
                return None;
            }
        }
        Some(ConvexClip { ring })
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
        let mut current: Vec<Coord<f64>> = ring.0.clone();
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
